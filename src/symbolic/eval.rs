//! Numerical evaluation of expressions by interpretation.
//!
//! An [`Env`] supplies everything a formula refers to: parameter values, the contents of the
//! index sets (`F`, `G`, `H`, `Ω`), the group operations used by indices (`g h`, `g⁻¹`,
//! `A_g δ`), kernel values at evaluated indices, and the dual activations `T_φ`, `Ṫ_φ`.
//! [`SimpleEnv`] builds one from maps and closures.

use std::collections::BTreeMap;

use super::expr::{DualFn, Expr, Func};
use super::index::{Index, IndexSet, IndexValue, IndexVar};
use super::kernel_sym::{Example, KernelKind, KernelSym};
use super::param::Param;
use crate::error::{Error, Result};

/// The group operations used by index expressions. Elements are numbered `0..order`.
pub trait GroupOps {
    /// The product `g h`.
    fn mul(&self, g: usize, h: usize) -> usize;
    /// The inverse `g⁻¹`.
    fn inv(&self, g: usize) -> usize;
    /// `A_g δ`: element `g` acting on an offset or site (integer coordinates).
    fn act(&self, g: usize, point: &[i64]) -> Vec<i64>;
}

type ActionFn<'a> = Box<dyn Fn(usize, &[i64]) -> Vec<i64> + 'a>;

/// A finite group given by its Cayley table `table[g][h] = g h` and its action on points.
pub struct CayleyTable<'a> {
    table: Vec<Vec<usize>>,
    inverse: Vec<usize>,
    action: ActionFn<'a>,
}

impl<'a> CayleyTable<'a> {
    /// The group with products `table[g][h] = g h` (an `n × n` table of indices `< n` with an
    /// identity and inverses) and action `A_g δ = action(g, δ)`.
    pub fn new(
        table: Vec<Vec<usize>>,
        action: impl Fn(usize, &[i64]) -> Vec<i64> + 'a,
    ) -> Result<Self> {
        let n = table.len();
        if n == 0
            || table
                .iter()
                .any(|row| row.len() != n || row.iter().any(|&x| x >= n))
        {
            return Err(Error::Group(format!(
                "Cayley table must be n×n with entries < n (n = {n})"
            )));
        }
        let e = (0..n)
            .find(|&e| (0..n).all(|g| table[e][g] == g && table[g][e] == g))
            .ok_or_else(|| Error::Group("Cayley table has no identity".into()))?;
        let inverse = (0..n)
            .map(|g| {
                (0..n)
                    .find(|&h| table[g][h] == e)
                    .ok_or_else(|| Error::Group(format!("element {g} has no inverse")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            table,
            inverse,
            action: Box::new(action),
        })
    }

    /// The cyclic group `C_n` acting on a periodic 1-D grid of `n` samples by shifts:
    /// `g h = (g + h) mod n`, `A_g δ = δ + g` (not wrapped; the environment wraps sites).
    pub fn cyclic(n: usize) -> Result<Self> {
        let table = (0..n)
            .map(|g| (0..n).map(|h| (g + h) % n).collect())
            .collect();
        Self::new(table, |g, p: &[i64]| {
            p.iter().map(|x| x + g as i64).collect()
        })
    }

    /// The order `|G|`.
    pub fn order(&self) -> usize {
        self.table.len()
    }
}

impl GroupOps for CayleyTable<'_> {
    fn mul(&self, g: usize, h: usize) -> usize {
        self.table[g][h]
    }
    fn inv(&self, g: usize) -> usize {
        self.inverse[g]
    }
    fn act(&self, g: usize, point: &[i64]) -> Vec<i64> {
        (self.action)(g, point)
    }
}

/// An evaluated kernel argument: an example, transformed by `ρ(g)` when `transform` is set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArgValue {
    /// Which example.
    pub example: Example,
    /// The group element of `ρ(g) x`, if any.
    pub transform: Option<IndexValue>,
}

/// A kernel symbol with every index evaluated: the key of a kernel lookup.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelAt {
    /// Layer `l`.
    pub layer: usize,
    /// `K` or `Θ`.
    pub kind: KernelKind,
    /// Network tag.
    pub tag: Option<String>,
    /// The two arguments.
    pub args: (ArgValue, ArgValue),
    /// The two sites, already passed through [`Env::resolve`]; `None` for a kernel without
    /// sites.
    pub sites: Option<(IndexValue, IndexValue)>,
}

/// What evaluation needs to know. Only [`Env::param`], [`Env::set`] and [`Env::kernel`] are
/// required; the rest have defaults (no group, no dual activations, sites unchanged).
pub trait Env {
    /// The value of parameter `p`.
    fn param(&self, p: &Param) -> Result<f64>;
    /// The elements of index set `s`, in a fixed order; `|s|` is their number.
    fn set(&self, s: IndexSet) -> Result<Vec<IndexValue>>;
    /// The value of a kernel at evaluated indices.
    fn kernel(&self, at: &KernelAt) -> Result<f64>;
    /// The group acting in index expressions.
    fn group(&self) -> Option<&dyn GroupOps> {
        None
    }
    /// `T_φ(k₁₁, k₁₂, k₂₂)` or `Ṫ_φ(k₁₁, k₁₂, k₂₂)`.
    fn dual(&self, f: &DualFn, _k11: f64, _k12: f64, _k22: f64) -> Result<f64> {
        Err(Error::Invalid(format!(
            "no dual activation for φ = {}",
            f.phi
        )))
    }
    /// The sites of layer `l`'s kernel (the domain of the indices of a definition's left-hand
    /// side).
    fn sites(&self, layer: usize) -> Result<Vec<IndexValue>> {
        Err(Error::Invalid(format!(
            "the sites of layer {layer} are not known"
        )))
    }
    /// Where a site reached by index arithmetic lies in layer `l`'s grid: `Some(site)`
    /// (wrapped, for circular padding) or `None` when it lies outside and the kernel is 0
    /// there (same padding). The default keeps every site.
    fn resolve(&self, _layer: usize, site: &IndexValue) -> Option<IndexValue> {
        Some(site.clone())
    }
}

type KernelFn<'a> = Box<dyn Fn(&KernelAt) -> Option<f64> + 'a>;
type DualCallback<'a> = Box<dyn Fn(&DualFn, f64, f64, f64) -> Option<f64> + 'a>;
type SitesFn<'a> = Box<dyn Fn(usize) -> Option<Vec<IndexValue>> + 'a>;
type ResolveFn<'a> = Box<dyn Fn(usize, &IndexValue) -> Option<IndexValue> + 'a>;

/// An [`Env`] built from maps and closures.
///
/// ```
/// use eqntk::symbolic::{Expr, KernelSym, Param, SimpleEnv};
/// let e = Expr::from(Param::sigma_w()).squared() * KernelSym::nngp(0)
///     + Expr::from(Param::sigma_b()).squared();
/// let env = SimpleEnv::new()
///     .with_param(Param::sigma_w(), 1.5)
///     .with_param(Param::sigma_b(), 0.1)
///     .with_kernel(|_| Some(2.0));
/// assert!((e.eval(&env).unwrap() - (2.25 * 2.0 + 0.01)).abs() < 1e-15);
/// ```
#[derive(Default)]
pub struct SimpleEnv<'a> {
    params: BTreeMap<Param, f64>,
    sets: BTreeMap<IndexSet, Vec<IndexValue>>,
    group: Option<Box<dyn GroupOps + 'a>>,
    kernel: Option<KernelFn<'a>>,
    dual: Option<DualCallback<'a>>,
    sites: Option<SitesFn<'a>>,
    resolve: Option<ResolveFn<'a>>,
}

impl<'a> SimpleEnv<'a> {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set parameter `p = value`.
    pub fn with_param(mut self, p: Param, value: f64) -> Self {
        self.params.insert(p, value);
        self
    }
    /// Set the contents of index set `s`.
    pub fn with_set(mut self, s: IndexSet, elements: Vec<IndexValue>) -> Self {
        self.sets.insert(s, elements);
        self
    }
    /// Set the group.
    pub fn with_group(mut self, g: impl GroupOps + 'a) -> Self {
        self.group = Some(Box::new(g));
        self
    }
    /// Set the kernel lookup (`None`: not known).
    pub fn with_kernel(mut self, f: impl Fn(&KernelAt) -> Option<f64> + 'a) -> Self {
        self.kernel = Some(Box::new(f));
        self
    }
    /// Set the dual activations (`None`: unknown activation).
    pub fn with_dual(mut self, f: impl Fn(&DualFn, f64, f64, f64) -> Option<f64> + 'a) -> Self {
        self.dual = Some(Box::new(f));
        self
    }
    /// Set the sites of each layer.
    pub fn with_sites(mut self, f: impl Fn(usize) -> Option<Vec<IndexValue>> + 'a) -> Self {
        self.sites = Some(Box::new(f));
        self
    }
    /// Set the site resolution (wrapping / zero padding).
    pub fn with_resolve(
        mut self,
        f: impl Fn(usize, &IndexValue) -> Option<IndexValue> + 'a,
    ) -> Self {
        self.resolve = Some(Box::new(f));
        self
    }
}

impl Env for SimpleEnv<'_> {
    fn param(&self, p: &Param) -> Result<f64> {
        self.params
            .get(p)
            .copied()
            .ok_or_else(|| Error::Invalid(format!("parameter {} has no value", p.plain())))
    }
    fn set(&self, s: IndexSet) -> Result<Vec<IndexValue>> {
        self.sets
            .get(&s)
            .cloned()
            .ok_or_else(|| Error::Invalid(format!("index set {} has no elements", s.name().plain)))
    }
    fn kernel(&self, at: &KernelAt) -> Result<f64> {
        self.kernel
            .as_ref()
            .and_then(|f| f(at))
            .ok_or_else(|| Error::Invalid(format!("no value for kernel {at:?}")))
    }
    fn group(&self) -> Option<&dyn GroupOps> {
        self.group.as_deref()
    }
    fn dual(&self, f: &DualFn, k11: f64, k12: f64, k22: f64) -> Result<f64> {
        self.dual
            .as_ref()
            .and_then(|d| d(f, k11, k12, k22))
            .ok_or_else(|| Error::Invalid(format!("no dual activation for φ = {}", f.phi)))
    }
    fn sites(&self, layer: usize) -> Result<Vec<IndexValue>> {
        self.sites
            .as_ref()
            .and_then(|f| f(layer))
            .ok_or_else(|| Error::Invalid(format!("the sites of layer {layer} are not known")))
    }
    fn resolve(&self, layer: usize, site: &IndexValue) -> Option<IndexValue> {
        match &self.resolve {
            Some(f) => f(layer, site),
            None => Some(site.clone()),
        }
    }
}

/// Values of the index variables in scope (innermost last).
#[derive(Clone, Debug, Default)]
pub struct Scope(Vec<(IndexVar, IndexValue)>);

impl Scope {
    /// No variables bound.
    pub fn new() -> Self {
        Self::default()
    }
    /// Bind `v = value` (shadowing an outer binding).
    pub fn bind(&mut self, v: IndexVar, value: IndexValue) {
        self.0.push((v, value));
    }
    fn pop(&mut self) {
        self.0.pop();
    }
    /// The innermost value of `v`.
    pub fn get(&self, v: &IndexVar) -> Option<&IndexValue> {
        self.0.iter().rev().find(|(w, _)| w == v).map(|(_, x)| x)
    }
}

fn no_group() -> Error {
    Error::Invalid("an index uses group operations but the environment has no group".into())
}

fn elem(v: &IndexValue) -> Result<usize> {
    match v {
        IndexValue::Elem(g) => Ok(*g),
        other => Err(Error::Invalid(format!(
            "expected a group element, found {other:?}"
        ))),
    }
}

impl Index {
    /// The value of the index expression: `p + δ` adds coordinates, `g h`, `g⁻¹` and `A_g δ`
    /// use the environment's group.
    pub fn eval(&self, env: &dyn Env, scope: &Scope) -> Result<IndexValue> {
        match self {
            Index::Var(v) => scope.get(v).cloned().ok_or_else(|| {
                Error::Invalid(format!("index variable {} is not bound", v.0.plain))
            }),
            Index::Pair(a, b) => Ok(IndexValue::pair(a.eval(env, scope)?, b.eval(env, scope)?)),
            Index::Add(a, b) => match (a.eval(env, scope)?, b.eval(env, scope)?) {
                (IndexValue::Point(x), IndexValue::Point(y)) if x.len() == y.len() => Ok(
                    IndexValue::Point(x.iter().zip(&y).map(|(a, b)| a + b).collect()),
                ),
                (x, y) => Err(Error::Invalid(format!(
                    "cannot add indices {x:?} and {y:?}"
                ))),
            },
            Index::Scale(k, a) => match a.eval(env, scope)? {
                IndexValue::Point(x) if k.len() == 1 => Ok(IndexValue::Point(
                    x.iter().map(|c| c * i64::from(k[0])).collect(),
                )),
                IndexValue::Point(x) if k.len() == x.len() => Ok(IndexValue::Point(
                    x.iter().zip(k).map(|(c, s)| c * i64::from(*s)).collect(),
                )),
                IndexValue::Point(x) => Err(Error::Invalid(format!(
                    "cannot scale the {}-axis index {x:?} by the {} strides {k:?}",
                    x.len(),
                    k.len()
                ))),
                x => Err(Error::Invalid(format!("cannot scale the index {x:?}"))),
            },
            Index::Mul(a, b) => {
                let g = env.group().ok_or_else(no_group)?;
                Ok(IndexValue::Elem(g.mul(
                    elem(&a.eval(env, scope)?)?,
                    elem(&b.eval(env, scope)?)?,
                )))
            }
            Index::Inv(a) => {
                let g = env.group().ok_or_else(no_group)?;
                Ok(IndexValue::Elem(g.inv(elem(&a.eval(env, scope)?)?)))
            }
            Index::Act(a, d) => {
                let g = env.group().ok_or_else(no_group)?;
                let e = elem(&a.eval(env, scope)?)?;
                match d.eval(env, scope)? {
                    IndexValue::Point(p) => Ok(IndexValue::Point(g.act(e, &p))),
                    other => Err(Error::Invalid(format!("A_g acts on points, not {other:?}"))),
                }
            }
        }
    }
}

impl KernelSym {
    /// The lookup key of this symbol in `scope`, sites resolved by [`Env::resolve`]; `None`
    /// when a site lies outside the grid (the kernel is 0 there).
    pub fn locate(&self, env: &dyn Env, scope: &Scope) -> Result<Option<KernelAt>> {
        let arg = |a: &super::kernel_sym::Arg| -> Result<ArgValue> {
            Ok(ArgValue {
                example: a.example,
                transform: a
                    .transform
                    .as_ref()
                    .map(|t| t.eval(env, scope))
                    .transpose()?,
            })
        };
        let sites = match &self.idx {
            None => None,
            Some((a, b)) => {
                let (a, b) = (a.eval(env, scope)?, b.eval(env, scope)?);
                match (env.resolve(self.layer, &a), env.resolve(self.layer, &b)) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => return Ok(None),
                }
            }
        };
        Ok(Some(KernelAt {
            layer: self.layer,
            kind: self.kind,
            tag: self.tag.clone(),
            args: (arg(&self.args.0)?, arg(&self.args.1)?),
            sites,
        }))
    }
}

impl Expr {
    /// The value of a closed expression (no free index variables) in `env`.
    pub fn eval(&self, env: &dyn Env) -> Result<f64> {
        self.eval_in(env, &mut Scope::new())
    }

    /// The value of the expression with its free index variables bound by `scope`.
    pub fn eval_in(&self, env: &dyn Env, scope: &mut Scope) -> Result<f64> {
        Ok(match self {
            Expr::Num(x) => *x,
            Expr::Pi => std::f64::consts::PI,
            Expr::Param(p) => env.param(p)?,
            Expr::Card(s) => env.set(*s)?.len() as f64,
            Expr::Kernel(k) => match k.locate(env, scope)? {
                Some(at) => env.kernel(&at)?,
                None => 0.0,
            },
            Expr::Apply(f, xs) => {
                if xs.len() != f.arity() {
                    return Err(Error::Invalid(format!(
                        "{f:?} takes {} arguments, got {}",
                        f.arity(),
                        xs.len()
                    )));
                }
                let x = xs[0].eval_in(env, scope)?;
                match f {
                    Func::Sqrt => x.sqrt(),
                    Func::Arccos => x.acos(),
                    Func::Arcsin => x.asin(),
                    Func::Sin => x.sin(),
                    Func::Cos => x.cos(),
                    Func::Erf => erf(x),
                    Func::Exp => x.exp(),
                    Func::Log => x.ln(),
                    Func::Tan => x.tan(),
                    Func::Arctan => x.atan(),
                    Func::Abs => x.abs(),
                    Func::Sign => sign(x),
                    Func::Min => x.min(xs[1].eval_in(env, scope)?),
                    Func::Max => x.max(xs[1].eval_in(env, scope)?),
                    Func::Dual(d) => {
                        env.dual(d, x, xs[1].eval_in(env, scope)?, xs[2].eval_in(env, scope)?)?
                    }
                }
            }
            Expr::Pow(b, e) => {
                let (b, e) = (b.eval_in(env, scope)?, e.eval_in(env, scope)?);
                if e.fract() == 0.0 && e.abs() < i32::MAX as f64 {
                    b.powi(e as i32)
                } else {
                    b.powf(e)
                }
            }
            Expr::Mul(fs) => {
                let mut p = 1.0;
                for f in fs {
                    p *= f.eval_in(env, scope)?;
                }
                p
            }
            Expr::Add(ts) => {
                let mut s = 0.0;
                for t in ts {
                    s += t.eval_in(env, scope)?;
                }
                s
            }
            Expr::Sum { var, set, body } => {
                let mut s = 0.0;
                for v in env.set(*set)? {
                    scope.bind(var.clone(), v);
                    let term = body.eval_in(env, scope);
                    scope.pop();
                    s += term?;
                }
                s
            }
        })
    }
}

/// `sign x` with `sign 0 = 0` (and `NaN` kept).
pub(crate) fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

/// The error function `erf x = (2/√π) ∫₀ˣ e^{−t²} dt`, to double precision (the rational
/// approximations of fdlibm's `s_erf.c`, as in musl and Rust's `libm`).
pub fn erf(x: f64) -> f64 {
    libm_erf(x)
}

// Port of fdlibm's s_erf.c (constants checked against the `libm` crate).
#[allow(clippy::excessive_precision, clippy::unreadable_literal)]
fn libm_erf(x: f64) -> f64 {
    const ERX: f64 = 8.45062911510467529297e-01;
    const EFX8: f64 = 1.02703333676410069053e+00;
    const PP: [f64; 5] = [
        1.28379167095512558561e-01,
        -3.25042107247001499370e-01,
        -2.84817495755985104766e-02,
        -5.77027029648944159157e-03,
        -2.37630166566501626084e-05,
    ];
    const QQ: [f64; 5] = [
        3.97917223959155352819e-01,
        6.50222499887672944485e-02,
        5.08130628187576562776e-03,
        1.32494738004321644526e-04,
        -3.96022827877536812320e-06,
    ];
    const PA: [f64; 7] = [
        -2.36211856075265944077e-03,
        4.14856118683748331666e-01,
        -3.72207876035701323847e-01,
        3.18346619901161753674e-01,
        -1.10894694282396677476e-01,
        3.54783043256182359371e-02,
        -2.16637559486879084300e-03,
    ];
    const QA: [f64; 6] = [
        1.06420880400844228286e-01,
        5.40397917702171048937e-01,
        7.18286544141962662868e-02,
        1.26171219808761642112e-01,
        1.36370839120290507362e-02,
        1.19844998467991074170e-02,
    ];
    const RA: [f64; 8] = [
        -9.86494403484714822705e-03,
        -6.93858572707181764372e-01,
        -1.05586262253232909814e+01,
        -6.23753324503260060396e+01,
        -1.62396669462573470355e+02,
        -1.84605092906711035994e+02,
        -8.12874355063065934246e+01,
        -9.81432934416914548592e+00,
    ];
    const SA: [f64; 8] = [
        1.96512716674392571292e+01,
        1.37657754143519042600e+02,
        4.34565877475229228821e+02,
        6.45387271733267880336e+02,
        4.29008140027567833386e+02,
        1.08635005541779435134e+02,
        6.57024977031928170135e+00,
        -6.04244152148580987438e-02,
    ];
    const RB: [f64; 7] = [
        -9.86494292470009928597e-03,
        -7.99283237680523006574e-01,
        -1.77579549177547519889e+01,
        -1.60636384855821916062e+02,
        -6.37566443368389627722e+02,
        -1.02509513161107724954e+03,
        -4.83519191608651397019e+02,
    ];
    const SB: [f64; 7] = [
        3.03380607434824582924e+01,
        3.25792512996573918826e+02,
        1.53672958608443695994e+03,
        3.19985821950859553908e+03,
        2.55305040643316442583e+03,
        4.74528541206955367215e+02,
        -2.24409524465858183362e+01,
    ];
    if x.is_nan() {
        return x;
    }
    let sign = x < 0.0;
    let ax = x.abs();
    if ax < 0.84375 {
        if ax < 2f64.powi(-28) {
            return 0.125 * (8.0 * x + EFX8 * x);
        }
        let z = x * x;
        let r = PP[0] + z * (PP[1] + z * (PP[2] + z * (PP[3] + z * PP[4])));
        let s = 1.0 + z * (QQ[0] + z * (QQ[1] + z * (QQ[2] + z * (QQ[3] + z * QQ[4]))));
        return x + x * (r / s);
    }
    let y = if ax < 1.25 {
        let s = ax - 1.0;
        let p =
            PA[0] + s * (PA[1] + s * (PA[2] + s * (PA[3] + s * (PA[4] + s * (PA[5] + s * PA[6])))));
        let q =
            1.0 + s * (QA[0] + s * (QA[1] + s * (QA[2] + s * (QA[3] + s * (QA[4] + s * QA[5])))));
        ERX + p / q
    } else if ax < 6.0 {
        let s = 1.0 / (ax * ax);
        let (r, big_s) = if ax < 1.0 / 0.35 {
            (
                RA[0]
                    + s * (RA[1]
                        + s * (RA[2]
                            + s * (RA[3] + s * (RA[4] + s * (RA[5] + s * (RA[6] + s * RA[7])))))),
                1.0 + s
                    * (SA[0]
                        + s * (SA[1]
                            + s * (SA[2]
                                + s * (SA[3]
                                    + s * (SA[4] + s * (SA[5] + s * (SA[6] + s * SA[7]))))))),
            )
        } else {
            (
                RB[0]
                    + s * (RB[1]
                        + s * (RB[2] + s * (RB[3] + s * (RB[4] + s * (RB[5] + s * RB[6]))))),
                1.0 + s
                    * (SB[0]
                        + s * (SB[1]
                            + s * (SB[2] + s * (SB[3] + s * (SB[4] + s * (SB[5] + s * SB[6])))))),
            )
        };
        // z = ax with the low 32 bits cleared, as in the reference implementation.
        let z = f64::from_bits(ax.to_bits() & 0xffff_ffff_0000_0000);
        let e = (-z * z - 0.5625).exp() * ((z - ax) * (z + ax) + r / big_s).exp();
        1.0 - e / ax
    } else {
        1.0
    };
    if sign {
        -y
    } else {
        y
    }
}
