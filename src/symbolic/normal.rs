//! The canonical normal form of an expression.
//!
//! [`Expr::normalize`] rewrites bottom-up with these rules, so that equal formulas (up to the
//! rules) become identical trees and print identically:
//!
//! * known parameters are replaced by their values ([`Assumptions`]), e.g. `σ_b = 0`;
//! * `Add` and `Mul` are flattened; numbers are folded into one constant term / coefficient;
//!   like terms are collected (`2a + 3a = 5a`) and like factors merged (`x^a x^b = x^{a+b}`);
//!   a number times a sum of terms is distributed (`−(b − a) = a − b`);
//!   `+ 0`, `· 1`, `x^1`, `x^0` disappear and `0 · x = 0`;
//! * powers: `(x^a)^n = x^{an}` and `(x y)^n = x^n y^n` for integer `n`, `(√x)^{2m} = x^m`,
//!   numbers to integer powers are evaluated (`2^{-1} = 1/2`);
//! * functions of numbers are folded only at exact values (`√4 = 2`, `cos 0 = 1`,
//!   `arccos 0 = π/2`, …), so that no rounding enters a formula;
//! * index sums are linear: `Σ_δ (a + b) = Σ_δ a + Σ_δ b`, factors that do not mention the
//!   bound variable move out (`Σ_δ c f(δ) = c Σ_δ f(δ)`), and `Σ_{δ∈F} c = |F| c`;
//! * terms and factors are sorted by the total order of [`Expr`]; in a sum, terms with index
//!   sums come first, then kernels, functions, parameters; negative terms after positive ones;
//!   among terms with kernels, earlier layers first; the constant last.
//!
//! Not done (by design): expanding products of sums (see [`Expr::expand`]), renaming bound
//! variables to a canonical name, and simplifying index expressions (`g e = g`).

use std::collections::BTreeMap;

use super::expr::{Expr, Func};
use super::index::{IndexSet, IndexVar};
use super::kernel_sym::KernelSym;
use super::param::Param;

/// What is known about the parameters: values (including zeros such as `σ_b = 0`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assumptions {
    values: BTreeMap<Param, f64>,
}

impl Assumptions {
    /// Nothing known.
    pub fn new() -> Self {
        Self::default()
    }
    /// Declare `p = value`.
    pub fn with_value(mut self, p: Param, value: f64) -> Self {
        self.values.insert(p, value);
        self
    }
    /// Declare `p = 0` (e.g. a layer without bias: `σ_b = 0`).
    pub fn with_zero(self, p: Param) -> Self {
        self.with_value(p, 0.0)
    }
    /// The known value of `p`.
    pub fn value(&self, p: &Param) -> Option<f64> {
        self.values.get(p).copied()
    }
}

fn num(x: f64) -> Expr {
    // −0 and +0 must print the same.
    Expr::Num(if x == 0.0 { 0.0 } else { x })
}

fn is_integer(x: f64) -> bool {
    x.is_finite() && x.fract() == 0.0
}

impl Expr {
    /// The canonical normal form under `assumptions` (rules in the module docs of `normal`).
    /// Idempotent: `e.normalize(a).normalize(a) == e.normalize(a)`.
    pub fn normalize(&self, assumptions: &Assumptions) -> Expr {
        match self {
            Expr::Num(x) => num(*x),
            Expr::Pi | Expr::Card(_) | Expr::Kernel(_) => self.clone(),
            Expr::Param(p) => assumptions
                .value(p)
                .map(num)
                .unwrap_or_else(|| self.clone()),
            Expr::Apply(f, xs) => {
                make_apply(f, xs.iter().map(|x| x.normalize(assumptions)).collect())
            }
            Expr::Pow(b, e) => make_pow(b.normalize(assumptions), e.normalize(assumptions)),
            Expr::Mul(xs) => make_mul(xs.iter().map(|x| x.normalize(assumptions)).collect()),
            Expr::Add(xs) => make_add(xs.iter().map(|x| x.normalize(assumptions)).collect()),
            Expr::Sum { var, set, body } => make_sum(var, *set, body.normalize(assumptions)),
        }
    }

    /// Distribute products over sums (`a (b + c) = a b + a c`, `(a + b)^n` for integer
    /// `n ≥ 1` multiplied out), then normalise. Turns the recursion of a linear network into a
    /// polynomial in the input kernel.
    pub fn expand(&self, assumptions: &Assumptions) -> Expr {
        let e = self.normalize(assumptions);
        expand_normal(&e).normalize(assumptions)
    }
}

fn expand_normal(e: &Expr) -> Expr {
    match e {
        Expr::Mul(xs) => {
            let mut terms = vec![Expr::Num(1.0)];
            for x in xs {
                let x = expand_normal(x);
                let parts = match x {
                    Expr::Add(ts) => ts,
                    other => vec![other],
                };
                terms = terms
                    .iter()
                    .flat_map(|t| {
                        parts
                            .iter()
                            .map(move |p| make_mul(vec![t.clone(), p.clone()]))
                    })
                    .collect();
            }
            make_add(terms)
        }
        Expr::Pow(b, n) => match (&**b, n.as_num()) {
            (Expr::Add(_), Some(n)) if is_integer(n) && n >= 1.0 => {
                let factors = vec![(**b).clone(); n as usize];
                expand_normal(&Expr::Mul(factors))
            }
            _ => e.map_children(&mut expand_normal),
        },
        _ => e.map_children(&mut expand_normal),
    }
}

fn make_apply(f: &Func, args: Vec<Expr>) -> Expr {
    if let [Expr::Num(x)] = args.as_slice() {
        let x = *x;
        let folded = match f {
            Func::Sqrt => {
                let r = x.sqrt();
                (is_integer(r) && r * r == x).then(|| num(r))
            }
            Func::Exp if x == 0.0 => Some(num(1.0)),
            Func::Cos if x == 0.0 => Some(num(1.0)),
            Func::Sin | Func::Arcsin | Func::Erf if x == 0.0 => Some(num(0.0)),
            Func::Arccos if x == 1.0 => Some(num(0.0)),
            Func::Arccos if x == 0.0 => Some(make_mul(vec![num(0.5), Expr::Pi])),
            Func::Arccos if x == -1.0 => Some(Expr::Pi),
            _ => None,
        };
        if let Some(v) = folded {
            return v;
        }
    }
    Expr::Apply(f.clone(), args)
}

fn make_pow(b: Expr, e: Expr) -> Expr {
    let n = e.as_num();
    match (b, n) {
        (_, Some(0.0)) => num(1.0),
        (b, Some(1.0)) => b,
        (Expr::Num(1.0), _) => num(1.0),
        (Expr::Num(x), Some(n)) if is_integer(n) && x.powf(n).is_finite() && x != 0.0 => {
            num(x.powf(n))
        }
        (Expr::Num(x), Some(n)) if x == 0.0 && n > 0.0 => num(0.0),
        (Expr::Pow(c, f), Some(n)) if is_integer(n) => {
            let exp = make_mul(vec![*f, num(n)]);
            make_pow(*c, exp)
        }
        (Expr::Mul(fs), Some(n)) if is_integer(n) => {
            make_mul(fs.into_iter().map(|f| make_pow(f, num(n))).collect())
        }
        (Expr::Apply(Func::Sqrt, mut xs), Some(n)) if is_integer(n / 2.0) && xs.len() == 1 => {
            make_pow(xs.pop().unwrap_or(Expr::Num(0.0)), num(n / 2.0))
        }
        (b, _) => Expr::Pow(Box::new(b), Box::new(e)),
    }
}

fn split_pow(f: Expr) -> (Expr, Expr) {
    match f {
        Expr::Pow(b, e) => (*b, *e),
        other => (other, Expr::Num(1.0)),
    }
}

fn make_mul(factors: Vec<Expr>) -> Expr {
    let mut coef = 1.0;
    let mut powers: BTreeMap<Expr, Vec<Expr>> = BTreeMap::new();
    let mut stack = factors;
    while let Some(f) = stack.pop() {
        match f {
            Expr::Num(x) => coef *= x,
            Expr::Mul(fs) => stack.extend(fs),
            other => {
                let (b, e) = split_pow(other);
                powers.entry(b).or_default().push(e);
            }
        }
    }
    if coef == 0.0 {
        return num(0.0);
    }
    let mut out = Vec::new();
    let mut again = false;
    for (b, es) in powers {
        let e = if es.len() == 1 {
            es.into_iter().next().unwrap_or(Expr::Num(1.0))
        } else {
            make_add(es)
        };
        match make_pow(b, e) {
            Expr::Num(x) => coef *= x,
            m @ Expr::Mul(_) => {
                again = true;
                out.push(m)
            }
            p => out.push(p),
        }
    }
    if again {
        out.push(num(coef));
        return make_mul(out);
    }
    if coef == 0.0 {
        return num(0.0);
    }
    if let ([Expr::Add(ts)], false) = (out.as_slice(), coef == 1.0) {
        // A number times a sum of terms distributes, so that −(b − a) and a − b agree.
        return make_add(
            ts.iter()
                .map(|t| make_mul(vec![num(coef), t.clone()]))
                .collect(),
        );
    }
    match (out.len(), coef == 1.0) {
        (0, _) => num(coef),
        (1, true) => out.pop().unwrap_or(Expr::Num(1.0)),
        (_, true) => Expr::Mul(out),
        (_, false) => {
            out.insert(0, num(coef));
            Expr::Mul(out)
        }
    }
}

/// A term as `coefficient × monomial` (the monomial has no numeric coefficient).
fn split_coef(t: Expr) -> (f64, Expr) {
    match t {
        Expr::Mul(mut fs) => match fs.first() {
            Some(Expr::Num(c)) => {
                let c = *c;
                fs.remove(0);
                let m = if fs.len() == 1 {
                    fs.pop().unwrap_or(Expr::Num(1.0))
                } else {
                    Expr::Mul(fs)
                };
                (c, m)
            }
            _ => (1.0, Expr::Mul(fs)),
        },
        other => (1.0, other),
    }
}

fn class(e: &Expr) -> u8 {
    fn has(e: &Expr, p: &impl Fn(&Expr) -> bool) -> bool {
        p(e) || e.children().into_iter().any(|c| has(c, p))
    }
    if has(e, &|x| matches!(x, Expr::Sum { .. })) {
        0
    } else if has(e, &|x| {
        matches!(x, Expr::Kernel(_) | Expr::Apply(Func::Dual(_), _))
    }) {
        1
    } else if has(e, &|x| matches!(x, Expr::Apply(..))) {
        2
    } else if matches!(e, Expr::Num(_)) {
        4
    } else {
        3
    }
}

/// The kernel symbols of a term, earliest layer first: terms of earlier layers come first
/// (`σ_w² Θ^{(0)} + K^{(1)}`).
fn kernel_key(e: &Expr) -> Vec<&KernelSym> {
    let mut ks = e.kernels();
    ks.sort();
    ks
}

fn is_negative(e: &Expr) -> bool {
    match e {
        Expr::Num(x) => *x < 0.0,
        Expr::Mul(fs) => matches!(fs.first(), Some(Expr::Num(c)) if *c < 0.0),
        _ => false,
    }
}

fn make_add(terms: Vec<Expr>) -> Expr {
    let mut constant = 0.0;
    let mut monomials: BTreeMap<Expr, f64> = BTreeMap::new();
    let mut stack = terms;
    while let Some(t) = stack.pop() {
        match t {
            Expr::Num(x) => constant += x,
            Expr::Add(ts) => stack.extend(ts),
            other => {
                let (c, m) = split_coef(other);
                *monomials.entry(m).or_insert(0.0) += c;
            }
        }
    }
    let mut out: Vec<Expr> = monomials
        .into_iter()
        .filter(|(_, c)| *c != 0.0)
        .map(|(m, c)| {
            if c == 1.0 {
                m
            } else {
                make_mul(vec![num(c), m])
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (class(a) == 4, is_negative(a), class(a))
            .cmp(&(class(b) == 4, is_negative(b), class(b)))
            .then_with(|| kernel_key(a).cmp(&kernel_key(b)))
            .then_with(|| a.cmp(b))
    });
    if constant != 0.0 {
        out.push(num(constant));
    }
    match out.len() {
        0 => num(0.0),
        1 => out.pop().unwrap_or(Expr::Num(0.0)),
        _ => Expr::Add(out),
    }
}

fn make_sum(var: &IndexVar, set: IndexSet, body: Expr) -> Expr {
    match body {
        Expr::Num(0.0) => num(0.0),
        Expr::Add(ts) => make_add(ts.into_iter().map(|t| make_sum(var, set, t)).collect()),
        body => {
            let factors = match body {
                Expr::Mul(fs) => fs,
                other => vec![other],
            };
            let (dependent, mut outside): (Vec<Expr>, Vec<Expr>) =
                factors.into_iter().partition(|f| f.mentions_index(var));
            if dependent.is_empty() {
                outside.push(Expr::Card(set));
            } else {
                let inner = make_mul(dependent);
                outside.push(Expr::Sum {
                    var: var.clone(),
                    set,
                    body: Box::new(inner),
                });
            }
            make_mul(outside)
        }
    }
}
