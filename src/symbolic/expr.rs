//! The expression tree of kernel formulas.

use std::cmp::Ordering;

use super::index::{Index, IndexSet, IndexVar};
use super::kernel_sym::KernelSym;
use super::param::Param;

/// A named dual activation `T_φ(k₁₁, k₁₂, k₂₂) = E[φ(u) φ(v)]` or its derivative kernel
/// `Ṫ_φ(k₁₁, k₁₂, k₂₂) = E[φ'(u) φ'(v)]`, `(u, v) ~ N(0, [[k₁₁, k₁₂], [k₁₂, k₂₂]])`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DualFn {
    /// The activation's name as printed (`ReLU`, `Erf`, …).
    pub phi: String,
    /// `false` for `T_φ`, `true` for `Ṫ_φ`.
    pub derivative: bool,
}

/// A function applied to arguments.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Func {
    /// `√x`.
    Sqrt,
    /// `arccos x`.
    Arccos,
    /// `arcsin x`.
    Arcsin,
    /// `sin x`.
    Sin,
    /// `cos x`.
    Cos,
    /// `erf x`.
    Erf,
    /// `exp x`.
    Exp,
    /// `log x` (natural logarithm).
    Log,
    /// `tan x`.
    Tan,
    /// `arctan x`.
    Arctan,
    /// `|x|`.
    Abs,
    /// `sign x` (−1, 0 or 1; `sign 0 = 0`): the derivative of `|x|` with the mean of the
    /// one-sided derivatives at the kink (`super::diff`).
    Sign,
    /// `min(x, y)`.
    Min,
    /// `max(x, y)`.
    Max,
    /// `T_φ` or `Ṫ_φ`, three arguments `(k₁₁, k₁₂, k₂₂)`.
    Dual(DualFn),
}

impl Func {
    /// Number of arguments the function takes.
    pub fn arity(&self) -> usize {
        match self {
            Func::Dual(_) => 3,
            Func::Min | Func::Max => 2,
            _ => 1,
        }
    }
}

/// A kernel formula.
///
/// There is no subtraction or division node: `a − b` is `a + (−1)·b` and `a / b` is
/// `a · b^{−1}`, so that every formula has one representation; the printers turn negative
/// coefficients and negative powers back into `−` and fractions.
#[derive(Clone, Debug)]
pub enum Expr {
    /// A real number.
    Num(f64),
    /// The constant `π`, kept symbolic so that `1/(2π)` prints as such.
    Pi,
    /// A named scalar (`σ_w`, `a`, `k₁₁`, …).
    Param(Param),
    /// The size `|S|` of an index set.
    Card(IndexSet),
    /// A kernel symbol `K^{(l)}_{s,s'}(x, x')` or `Θ^{(l)}_{s,s'}(x, x')`.
    Kernel(Box<KernelSym>),
    /// A function application.
    Apply(Func, Vec<Expr>),
    /// `base^exponent`.
    Pow(Box<Expr>, Box<Expr>),
    /// A product of factors.
    Mul(Vec<Expr>),
    /// A sum of terms.
    Add(Vec<Expr>),
    /// `Σ_{var ∈ set} body`.
    Sum {
        /// The bound index variable.
        var: IndexVar,
        /// The set it ranges over.
        set: IndexSet,
        /// The summand.
        body: Box<Expr>,
    },
}

impl Expr {
    /// A number.
    pub fn num(x: f64) -> Self {
        Expr::Num(x)
    }
    /// `π`.
    pub fn pi() -> Self {
        Expr::Pi
    }
    /// `|S|`.
    pub fn card(set: IndexSet) -> Self {
        Expr::Card(set)
    }
    /// `Σ_{var ∈ set} body`.
    pub fn sum(var: IndexVar, set: IndexSet, body: Expr) -> Self {
        Expr::Sum {
            var,
            set,
            body: Box::new(body),
        }
    }
    /// The average `(1/|S|) Σ_{var ∈ set} body`.
    pub fn mean(var: IndexVar, set: IndexSet, body: Expr) -> Self {
        Expr::Mul(vec![Expr::card(set).powi(-1), Expr::sum(var, set, body)])
    }
    /// `self^e`.
    pub fn pow(self, e: impl Into<Expr>) -> Self {
        Expr::Pow(Box::new(self), Box::new(e.into()))
    }
    /// `self^n` for an integer `n`.
    pub fn powi(self, n: i32) -> Self {
        self.pow(Expr::Num(n as f64))
    }
    /// `self²`.
    pub fn squared(self) -> Self {
        self.powi(2)
    }
    fn apply1(f: Func, x: Expr) -> Self {
        Expr::Apply(f, vec![x])
    }
    /// `√self`.
    pub fn sqrt(self) -> Self {
        Self::apply1(Func::Sqrt, self)
    }
    /// `arccos self`.
    pub fn arccos(self) -> Self {
        Self::apply1(Func::Arccos, self)
    }
    /// `arcsin self`.
    pub fn arcsin(self) -> Self {
        Self::apply1(Func::Arcsin, self)
    }
    /// `sin self`.
    pub fn sin(self) -> Self {
        Self::apply1(Func::Sin, self)
    }
    /// `cos self`.
    pub fn cos(self) -> Self {
        Self::apply1(Func::Cos, self)
    }
    /// `erf self`.
    pub fn erf(self) -> Self {
        Self::apply1(Func::Erf, self)
    }
    /// `exp self`.
    pub fn exp(self) -> Self {
        Self::apply1(Func::Exp, self)
    }
    /// `T_φ(k₁₁, k₁₂, k₂₂)`.
    pub fn dual(phi: &str, k11: Expr, k12: Expr, k22: Expr) -> Self {
        let f = DualFn {
            phi: phi.to_string(),
            derivative: false,
        };
        Expr::Apply(Func::Dual(f), vec![k11, k12, k22])
    }
    /// `Ṫ_φ(k₁₁, k₁₂, k₂₂)`.
    pub fn dual_dot(phi: &str, k11: Expr, k12: Expr, k22: Expr) -> Self {
        let f = DualFn {
            phi: phi.to_string(),
            derivative: true,
        };
        Expr::Apply(Func::Dual(f), vec![k11, k12, k22])
    }

    /// The direct sub-expressions (not the indices of kernel symbols).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Apply(_, xs) | Expr::Mul(xs) | Expr::Add(xs) => xs.iter().collect(),
            Expr::Pow(b, e) => vec![b, e],
            Expr::Sum { body, .. } => vec![body],
            _ => vec![],
        }
    }

    /// Rebuild the expression with every direct sub-expression replaced by `f(child)`.
    pub fn map_children(&self, f: &mut impl FnMut(&Expr) -> Expr) -> Expr {
        match self {
            Expr::Apply(g, xs) => Expr::Apply(g.clone(), xs.iter().map(&mut *f).collect()),
            Expr::Mul(xs) => Expr::Mul(xs.iter().map(&mut *f).collect()),
            Expr::Add(xs) => Expr::Add(xs.iter().map(&mut *f).collect()),
            Expr::Pow(b, e) => Expr::Pow(Box::new(f(b)), Box::new(f(e))),
            Expr::Sum { var, set, body } => Expr::Sum {
                var: var.clone(),
                set: *set,
                body: Box::new(f(body)),
            },
            _ => self.clone(),
        }
    }

    /// Bottom-up rewriting: children are rewritten first, then `rule` is tried on the rebuilt
    /// node; `None` keeps it. The generic engine behind substitutions and per-layer rules.
    pub fn rewrite(&self, rule: &impl Fn(&Expr) -> Option<Expr>) -> Expr {
        let rebuilt = self.map_children(&mut |c| c.rewrite(rule));
        rule(&rebuilt).unwrap_or(rebuilt)
    }

    /// Replace the parameter `p` by `by` everywhere.
    pub fn substitute_param(&self, p: &Param, by: &Expr) -> Expr {
        self.rewrite(&|e| match e {
            Expr::Param(q) if q == p => Some(by.clone()),
            _ => None,
        })
    }

    /// Replace kernel symbols: `f(sym)` returns the replacement or `None` to keep the symbol.
    pub fn substitute_kernels(&self, f: &impl Fn(&KernelSym) -> Option<Expr>) -> Expr {
        self.rewrite(&|e| match e {
            Expr::Kernel(k) => f(k),
            _ => None,
        })
    }

    /// Replace dual activations by closed forms: `closed(φ)` returns `T_φ` (or `Ṫ_φ`) as an
    /// expression in the placeholders [`Param::k`]`(1,1)`, `(1,2)`, `(2,2)`, which are replaced
    /// simultaneously by the arguments. E.g. the identity, `T = k₁₂`, `Ṫ = 1`, makes
    /// `T_id(K₁₁, K₁₂, K₂₂)` collapse to `K₁₂`.
    pub fn substitute_duals(&self, closed: &impl Fn(&DualFn) -> Option<Expr>) -> Expr {
        self.rewrite(&|e| match e {
            Expr::Apply(Func::Dual(d), args) if args.len() == 3 => {
                let form = closed(d)?;
                let slots = [Param::k(1, 1), Param::k(1, 2), Param::k(2, 2)];
                Some(form.rewrite(&|x| match x {
                    Expr::Param(q) => slots.iter().position(|s| s == q).map(|i| args[i].clone()),
                    _ => None,
                }))
            }
            _ => None,
        })
    }

    /// Whether the index variable `v` occurs free (not bound by an inner sum over `v`).
    pub fn mentions_index(&self, v: &IndexVar) -> bool {
        match self {
            Expr::Kernel(k) => k.mentions(v),
            Expr::Sum { var, body, .. } => var != v && body.mentions_index(v),
            _ => self.children().iter().any(|c| c.mentions_index(v)),
        }
    }

    /// Capture-avoiding substitution of the index variable `v` by the index expression `by`:
    /// a sum whose bound variable occurs in `by` has its bound variable renamed (primed) first.
    pub fn substitute_index(&self, v: &IndexVar, by: &Index) -> Expr {
        match self {
            Expr::Kernel(k) => Expr::Kernel(Box::new(k.substitute_index(v, by))),
            Expr::Sum { var, .. } if var == v => self.clone(),
            Expr::Sum { var, set, body } => {
                if !body.mentions_index(v) {
                    return self.clone();
                }
                let (var, body) = if by.mentions(var) {
                    let mut fresh = var.prime();
                    while by.mentions(&fresh) || body.mentions_index(&fresh) {
                        fresh = fresh.prime();
                    }
                    let renamed = body.substitute_index(var, &Index::Var(fresh.clone()));
                    (fresh, renamed)
                } else {
                    (var.clone(), (**body).clone())
                };
                Expr::Sum {
                    var,
                    set: *set,
                    body: Box::new(body.substitute_index(v, by)),
                }
            }
            _ => self.map_children(&mut |c| c.substitute_index(v, by)),
        }
    }

    /// Every kernel symbol in the expression, in order of appearance.
    pub fn kernels(&self) -> Vec<&KernelSym> {
        let mut out = Vec::new();
        self.collect_kernels(&mut out);
        out
    }

    fn collect_kernels<'a>(&'a self, out: &mut Vec<&'a KernelSym>) {
        match self {
            Expr::Kernel(k) => out.push(k),
            _ => self.children().iter().for_each(|c| c.collect_kernels(out)),
        }
    }

    /// The number, if this is a number.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Expr::Num(x) => Some(*x),
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Expr::Num(_) => 0,
            Expr::Pi => 1,
            Expr::Param(_) => 2,
            Expr::Card(_) => 3,
            Expr::Apply(..) => 4,
            Expr::Kernel(_) => 5,
            Expr::Pow(..) => 6,
            Expr::Mul(_) => 7,
            Expr::Add(_) => 8,
            Expr::Sum { .. } => 9,
        }
    }
}

/// The total order of the normal form: by kind (numbers, `π`, parameters, sizes, functions,
/// kernels, powers, products, sums of terms, index sums), then by content; numbers by
/// `f64::total_cmp`.
impl Ord for Expr {
    fn cmp(&self, other: &Self) -> Ordering {
        use Expr::*;
        match (self, other) {
            (Num(a), Num(b)) => a.total_cmp(b),
            (Pi, Pi) => Ordering::Equal,
            (Param(a), Param(b)) => a.cmp(b),
            (Card(a), Card(b)) => a.cmp(b),
            (Kernel(a), Kernel(b)) => a.cmp(b),
            (Apply(f, xs), Apply(g, ys)) => f.cmp(g).then_with(|| xs.cmp(ys)),
            (Pow(a, e), Pow(b, f)) => a.cmp(b).then_with(|| e.cmp(f)),
            (Mul(xs), Mul(ys)) | (Add(xs), Add(ys)) => xs.cmp(ys),
            (
                Sum {
                    var: v,
                    set: s,
                    body: b,
                },
                Sum {
                    var: w,
                    set: t,
                    body: c,
                },
            ) => s.cmp(t).then_with(|| v.cmp(w)).then_with(|| b.cmp(c)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Expr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Structural equality (numbers compared bit-wise via `total_cmp`, so `NaN == NaN`).
impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Expr {}

impl From<f64> for Expr {
    fn from(x: f64) -> Self {
        Expr::Num(x)
    }
}

impl From<i32> for Expr {
    fn from(x: i32) -> Self {
        Expr::Num(x as f64)
    }
}

impl From<Param> for Expr {
    fn from(p: Param) -> Self {
        Expr::Param(p)
    }
}

impl From<KernelSym> for Expr {
    fn from(k: KernelSym) -> Self {
        Expr::Kernel(Box::new(k))
    }
}

impl<T: Into<Expr>> std::ops::Add<T> for Expr {
    type Output = Expr;
    fn add(self, rhs: T) -> Expr {
        match self {
            Expr::Add(mut xs) => {
                xs.push(rhs.into());
                Expr::Add(xs)
            }
            a => Expr::Add(vec![a, rhs.into()]),
        }
    }
}

impl<T: Into<Expr>> std::ops::Sub<T> for Expr {
    type Output = Expr;
    fn sub(self, rhs: T) -> Expr {
        self + (-rhs.into())
    }
}

impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        match self {
            Expr::Num(x) => Expr::Num(-x),
            a => Expr::Mul(vec![Expr::Num(-1.0), a]),
        }
    }
}

impl<T: Into<Expr>> std::ops::Mul<T> for Expr {
    type Output = Expr;
    fn mul(self, rhs: T) -> Expr {
        match self {
            Expr::Mul(mut xs) => {
                xs.push(rhs.into());
                Expr::Mul(xs)
            }
            a => Expr::Mul(vec![a, rhs.into()]),
        }
    }
}

impl<T: Into<Expr>> std::ops::Div<T> for Expr {
    type Output = Expr;
    fn div(self, rhs: T) -> Expr {
        self * rhs.into().powi(-1)
    }
}

impl std::ops::Mul<Expr> for f64 {
    type Output = Expr;
    fn mul(self, rhs: Expr) -> Expr {
        Expr::Num(self) * rhs
    }
}

impl std::ops::Add<Expr> for f64 {
    type Output = Expr;
    fn add(self, rhs: Expr) -> Expr {
        Expr::Num(self) + rhs
    }
}

impl std::ops::Sub<Expr> for f64 {
    type Output = Expr;
    fn sub(self, rhs: Expr) -> Expr {
        Expr::Num(self) - rhs
    }
}
