//! Numbers from a network's derivation by interpretation — the independent check of the fast
//! kernel code ([`crate::Network::kernel`]).
//!
//! For every example pair `(x, x′) = (x1[i], x2[j])` the printed definitions of layer
//! `l = 1 … L` are evaluated on demand: reading `K⁽ᴸ⁾(x, x′)` evaluates its right-hand side,
//! whose kernels of layer `L − 1` are evaluated from their definitions in turn, each value
//! memoised per (layer, kind, examples, site pair), so every needed entry is computed once and
//! unneeded ones (the off-diagonal self-covariances of a layer read only by a nonlinearity) never.
//! On right-invariant G-CNN layers one site pair per class `((g k, p), (g′ k, p′))` is evaluated
//! (see `Memo` in the source). A right-hand side is walked term for term as printed, with its
//! index variables in numbered slots (`super::slots`) and its entries kept in dense tables
//! (`super::entries`), so an entry costs the arithmetic of its formula and no allocation.
//! Each right-hand side is evaluated in an environment built for its layer alone:
//!
//! * the input kernel `K⁽⁰⁾[s,s'](x,x′) = (1/C) Σ_c x[s,c] x′[s',c]` summed directly from the
//!   examples (`Θ⁽⁰⁾ = 0`);
//! * the layer's parameters (`σ_{w,l}`, `σ_{b,l}`, `n_l`), its filter offsets `F`
//!   (row-major), the sites `Ω` of its input (row-major), the sites of its output;
//! * the padding rule, through `LayerEnv::resolve`: an input site `p + δ` of a circular
//!   convolution wraps, one of a same-padded convolution outside the grid reads 0;
//! * the dual activations `T_φ`, `Ṫ_φ` through [`crate::layer::LayerKind::dual_kernel`] (closed form or
//!   quadrature, the same functions the fast path calls: what is checked is everything else).
//!
//! * for group layers: the group `G` (element indices), the support `H` of a group convolution,
//!   the product `g h` from [`crate::layer::lift::Lifted`] and the action `A_g` from
//!   [`crate::action::site_action`] (sites of the input permuted, C_n, D_n, C4, D4) or
//!   [`crate::group::PointGroup::act_offset`] (offsets rotated, p4, p4m); sites of features on
//!   a group are `g` or `(g, p)`;
//! * for SO(2) G-CNNs (an SO(2) lifting first, features on the circle up to the `group_pool`):
//!   an angular grid `G = {φ_k = 2πk/N, k = 0…N−1}` (elements `Elem(k + 1)`; `Elem(0)` is the
//!   angle 0 at which the self-covariances are read). The definitions of the relative angle,
//!   `K(x, ρ(φ)x′) := …`, are evaluated at every grid angle; the input kernel
//!   `K⁽⁰⁾[δ,δ](x, ρ(φ)x′)` is summed from `x` and `x′` actually rotated by φ
//!   ([`crate::action::so2`]); the pool `(1/2π) ∫ dφ` is the grid mean. N doubles from
//!   `max(8, 2L + 2)` (L the band limit of the input kernel) until the pooled `(K, Θ)` and the
//!   network's `(K⁽ᴸ⁾, Θ⁽ᴸ⁾)` change by at most the lift's `tol` relative to their scale (the
//!   larger of the values and the Cauchy–Schwarz bound `√(M(x,x) M(x′,x′))`), by the one circle
//!   quadrature of [`crate::so2_quadrature`] (its cap reached: [`Error::NotConverged`]). Where `|K⁽⁰⁾(x, ρ(φ)x′)|` reaches its
//!   Cauchy–Schwarz bound, kinked activations (ReLU) make the integrand non-smooth and the grid
//!   mean converges like `N⁻²`. So the grid of the pair's kernels `K(x, ρ(φ)x′)` is anchored
//!   at the angle φ₀ of the largest `|K⁽⁰⁾(x, ρ(φ)x′)|` — found from `x′` rotated at `2L + 1`
//!   angles, which determine that trigonometric polynomial, then Newton's method — and the
//!   self-covariances' grids at φ = 0; the kinks (φ₀, and φ₀ + π for point sets) are then nodes
//!   and Romberg extrapolation of the sequence of grid means removes the even powers of `1/N`
//!   (the same remedy as the fast path's; whichever of the plain and the extrapolated sequence
//!   settles first is taken).
//!
//! Nothing of the fast path's site layout, fused maps, tap tables, reduced blocks or angular
//! grid ([`crate::network::so2`]) is used.

use std::cell::RefCell;

use faer::Mat;
use rayon::prelude::*;

use super::derivation::Definition;
use super::entries::{Entries, WordMap};
use super::expr::{DualFn, Expr, Func};
use super::index::{Index, IndexSet, IndexValue};
use super::kernel_sym::{Example, KernelKind, KernelSym};
use super::network::NetworkDerivation;
use super::param::Param;
use super::print::Format;
use super::slots::{Frame, KernelRef, Node, Pt, SlotGroup, Slots, Val};
use crate::action::{site_action, Domain, RotationKind, SiteAction};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::{GroupSpec, PointGroup};
use crate::layer::lift::{window_offsets, Lifted};
use crate::layer::{Layer, Lift, LiftFilter, Padding, Shape, Sums};
use crate::network::Network;
use crate::so2_quadrature;

/// All points of a grid in row-major order (`[]` gives no points: a vector has no sites).
fn grid_points(grid: &[usize]) -> Vec<IndexValue> {
    if grid.is_empty() {
        return vec![];
    }
    let mut out = vec![vec![]];
    for &n in grid {
        out = out
            .into_iter()
            .flat_map(|prefix: Vec<i64>| {
                (0..n as i64).map(move |i| {
                    let mut v = prefix.clone();
                    v.push(i);
                    v
                })
            })
            .collect();
    }
    out.into_iter().map(IndexValue::Point).collect()
}

/// The environment of layer `l` for one example pair.
struct LayerEnv<'a> {
    l: usize,
    layer: &'a Layer,
    in_grid: &'a [usize],
    plan: &'a LayerPlan,
    x: &'a [f64],
    x_prime: &'a [f64],
    channels: usize,
    /// SO(2): `ρ(φ_k) x` and `ρ(φ_k) x′` for the angles `Elem(k)` (index 0: the angle 0).
    rotated: Option<&'a Rotated>,
    /// SO(2): the angles `G` of the grid, `Elem(1) … Elem(N)`.
    angles: Vec<Val>,
    /// `(T, Ṫ)` by the bits of `(k₁₁, k₁₂, k₂₂)`: `K⁽ˡ⁾` and `Θ⁽ˡ⁾` read the same dual
    /// (kept for quadrature duals only: a closed form costs less than the lookup).
    duals: RefCell<WordMap<(f64, f64)>>,
}

/// The row-major number of an input site (`None`: a kernel without sites).
fn flat(grid: &[usize], site: Option<Val>) -> Result<usize> {
    match site {
        None => Ok(0),
        Some(Val::Point(v)) if v.coords().len() == grid.len() => {
            let mut i = 0usize;
            for (c, n) in v.coords().iter().zip(grid) {
                if *c < 0 || *c as usize >= *n {
                    return Err(Error::Invalid(format!(
                        "site {:?} lies outside {grid:?}",
                        v.coords()
                    )));
                }
                i = i * n + *c as usize;
            }
            Ok(i)
        }
        Some(other) => Err(Error::Invalid(format!(
            "input sites are grid points, got {other:?}"
        ))),
    }
}

/// A kernel entry with every index evaluated: the key of a lookup in a [`Memo`].
#[derive(Clone, Copy, Debug)]
struct At {
    layer: usize,
    kind: KernelKind,
    examples: [Example; 2],
    /// The group elements `g` of arguments `ρ(g) x` (SO(2): grid angles).
    transforms: [Option<Val>; 2],
    /// The two sites, already resolved onto the grid.
    sites: Option<(Val, Val)>,
}

/// The examples of one pair rotated by every angle of an SO(2) grid: `x[k]`, `x_prime[k]` for
/// the angle `Elem(k)` (`k = 0`: the angle 0, then `φ = 2π(k−1)/N`), read by the
/// self-covariances; `x_prime_cross[k]`, rotated by `φ₀ + 2π(k−1)/N` (`k ≥ 1`), read by the
/// kernels of the pair `K(x, ρ(φ)x′)`, whose grid is anchored at `φ₀`.
struct Rotated {
    x: Vec<Vec<f64>>,
    x_prime: Vec<Vec<f64>>,
    x_prime_cross: Vec<Vec<f64>>,
}

impl Rotated {
    /// `x` and `x′` (examples of `shape`) rotated by 0 and by `2πk/n`, `k = 0…n−1`, and `x′`
    /// by `anchor + 2πk/n`.
    fn new(
        shape: &[usize],
        domain: Domain,
        x: &[f64],
        x_prime: &[f64],
        n: usize,
        anchor: f64,
    ) -> Result<Self> {
        let kind = RotationKind::of(domain).ok_or_else(|| Error::NoAction {
            group: "SO2".into(),
            domain: domain.name().into(),
            allowed: domain.groups().into(),
        })?;
        let rotate = |e: &[f64], theta: f64| kind.rotate(e, shape, theta);
        let angles: Vec<f64> = std::iter::once(0.0)
            .chain((0..n).map(|k| 2.0 * std::f64::consts::PI * k as f64 / n as f64))
            .collect();
        Ok(Self {
            x: angles
                .iter()
                .map(|&t| rotate(x, t))
                .collect::<Result<_>>()?,
            x_prime: angles
                .iter()
                .map(|&t| rotate(x_prime, t))
                .collect::<Result<_>>()?,
            x_prime_cross: angles
                .iter()
                .enumerate()
                .map(|(k, &t)| rotate(x_prime, if k == 0 { t } else { t + anchor }))
                .collect::<Result<_>>()?,
        })
    }
}

/// The angle `φ₀` where `|K⁽⁰⁾(x, ρ(φ)x′)|` is largest — where kinked activations make the
/// integrand of the pair non-smooth when it reaches its Cauchy–Schwarz bound — from `x′`
/// actually rotated: `g(φ) = x·ρ(φ)x′ / len` is a trigonometric polynomial of degree `band`,
/// known exactly from its `2·band + 1` samples `g(2πk/(2·band + 1))`; its largest `|g|` on a
/// fine sample is polished by Newton's method on `g′`.
fn peak_angle(
    shape: &[usize],
    domain: Domain,
    x: &[f64],
    x_prime: &[f64],
    band: usize,
) -> Result<f64> {
    use std::f64::consts::PI;
    let m = 2 * band + 1;
    let angles: Vec<f64> = (0..m).map(|k| 2.0 * PI * k as f64 / m as f64).collect();
    let g: Vec<f64> = Rotated::new(shape, domain, x, x_prime, m, 0.0)?.x_prime[1..]
        .iter()
        .map(|y| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>())
        .collect();
    let coef = |q: usize, f: fn(f64) -> f64| -> f64 {
        let w = if q == 0 { 1.0 } else { 2.0 } / m as f64;
        w * angles
            .iter()
            .zip(&g)
            .map(|(&p, &v)| v * f(q as f64 * p))
            .sum::<f64>()
    };
    let a: Vec<f64> = (0..=band).map(|q| coef(q, f64::cos)).collect();
    let b: Vec<f64> = (0..=band).map(|q| coef(q, f64::sin)).collect();
    // (g, g′, g″) at φ.
    let eval = |phi: f64| {
        let (mut v, mut d1, mut d2) = (a[0], 0.0, 0.0);
        for q in 1..=band {
            let qf = q as f64;
            let (sn, cs) = (qf * phi).sin_cos();
            v += a[q] * cs + b[q] * sn;
            d1 += qf * (b[q] * cs - a[q] * sn);
            d2 -= qf * qf * (a[q] * cs + b[q] * sn);
        }
        (v, d1, d2)
    };
    let fine = 32 * m;
    let h = 2.0 * PI / fine as f64;
    let mut best = (0..fine)
        .map(|j| j as f64 * h)
        .max_by(|p, q| eval(*p).0.abs().total_cmp(&eval(*q).0.abs()))
        .unwrap_or(0.0);
    let mut phi = best;
    for _ in 0..50 {
        let (_, d1, d2) = eval(phi);
        let step = d1 / d2;
        if !step.is_finite() || step.abs() > h {
            break;
        }
        phi -= step;
        if step.abs() < 1e-16 {
            break;
        }
    }
    if eval(phi).0.abs() >= eval(best).0.abs() {
        best = phi;
    }
    Ok(best)
}

impl LayerEnv<'_> {
    /// The example `e`, rotated by `transform`; `cross`: of a kernel of the pair `(x, ρ(φ)x′)`.
    fn example(&self, e: Example, transform: Option<Val>, cross: bool) -> Result<&[f64]> {
        match (transform, self.rotated) {
            (None, _) => Ok(match e {
                Example::X => self.x,
                Example::XPrime => self.x_prime,
            }),
            (Some(Val::Elem(k)), Some(r)) => {
                let all = match e {
                    Example::X => &r.x,
                    Example::XPrime if cross => &r.x_prime_cross,
                    Example::XPrime => &r.x_prime,
                };
                all.get(k)
                    .map(|v| &v[..])
                    .ok_or_else(|| Error::Invalid(format!("angle {k} is not on the SO(2) grid")))
            }
            _ => Err(Error::Invalid(
                "transformed inputs are not part of a network derivation".into(),
            )),
        }
    }

    /// `K⁽⁰⁾[s,s'](a,b) = (1/C) Σ_c a[s,c] b[s',c]`.
    fn input_kernel(&self, at: &At) -> Result<f64> {
        if at.kind == KernelKind::Ntk {
            return Ok(0.0);
        }
        let cross = at.examples[0] != at.examples[1];
        let (a, b) = (
            self.example(at.examples[0], at.transforms[0], cross)?,
            self.example(at.examples[1], at.transforms[1], cross)?,
        );
        let (s, t) = match at.sites {
            Some((s, t)) => (flat(self.in_grid, Some(s))?, flat(self.in_grid, Some(t))?),
            None => (0, 0),
        };
        let c = self.channels;
        let dot: f64 = (0..c).map(|k| a[s * c + k] * b[t * c + k]).sum();
        Ok(dot / c as f64)
    }

    /// The elements of index set `s` of this layer.
    fn set(&self, s: IndexSet) -> Result<&[Val]> {
        match s {
            IndexSet::Filter => Ok(&self.plan.offsets),
            IndexSet::Sites => Ok(&self.plan.in_sites),
            IndexSet::Group if self.plan.so2 => Ok(&self.angles),
            IndexSet::Group if self.plan.group.is_some() => Ok(&self.plan.elements),
            IndexSet::Support if self.plan.group.is_some() => Ok(&self.plan.support),
            other => Err(Error::Invalid(format!(
                "layer {} ({}) has no index set {}",
                self.l,
                self.layer.kind(),
                other.name().plain
            ))),
        }
    }

    fn dual(&self, f: &DualFn, k11: f64, k12: f64, k22: f64) -> Result<f64> {
        let compute = || {
            self.layer.dual_kernel(k11, k12, k22).ok_or_else(|| {
                Error::Invalid(format!(
                    "layer {} ({}) has no dual activation",
                    self.l,
                    self.layer.kind()
                ))
            })
        };
        let (t, tdot) = if self.plan.quadrature {
            let key = [k11.to_bits(), k12.to_bits(), k22.to_bits()];
            let cached = self.duals.borrow().get(&key).copied();
            match cached {
                Some(v) => v,
                None => {
                    let v = compute()?;
                    self.duals.borrow_mut().insert(key, v);
                    v
                }
            }
        } else {
            compute()?
        };
        Ok(if f.derivative { tdot } else { t })
    }

    /// Where a site of layer `layer` reached by `p + δ` lies: wrapped (circular padding), or
    /// `None` outside the grid (same padding: the kernel is 0 there).
    fn resolve(&self, layer: usize, site: Val) -> Option<Val> {
        let Some(padding) = self.plan.wrap else {
            return Some(site);
        };
        if !self.plan.inputs.contains(&layer) {
            return Some(site);
        }
        let point = |mut v: Pt| -> Option<Pt> {
            for (i, &n) in v.coords_mut().iter_mut().zip(self.in_grid) {
                let n = n as i64;
                *i = match padding {
                    Padding::Circular => i.rem_euclid(n),
                    _ if *i < 0 || *i >= n => return None,
                    _ => *i,
                };
            }
            Some(v)
        };
        match site {
            Val::Point(v) => point(v).map(Val::Point),
            Val::Pair(g, q) => point(q).map(|q| Val::Pair(g, q)),
            Val::Elem(_) => Some(site),
        }
    }
}

/// The group of a layer on lifted features (or of a lifting): the product of the group
/// indexing the sites and the action `A_g` — on the sites of the input grid (C_n, D_n, C4, D4:
/// `g·δ`) or on offsets (p4, p4m: the point group rotating `δ`).
#[derive(Debug)]
struct LayerGroup {
    table: Vec<Vec<usize>>,
    inverse: Vec<usize>,
    action: GroupAction,
}

#[derive(Debug)]
enum GroupAction {
    Sites(Vec<usize>, Box<dyn SiteAction>),
    Offsets(PointGroup),
}

impl LayerGroup {
    /// The group of `spec`; `lift_input` is the grid a lifting reads and the declared domain
    /// of the network's input (a grid keeps its domain through convolutions and pooling).
    fn new(spec: &GroupSpec, lift_input: Option<(&Shape, Domain)>) -> Result<Self> {
        let lifted = Lifted::of(spec);
        let n = Lifted::order_of(spec);
        let table: Vec<Vec<usize>> = (0..n)
            .map(|g| (0..n).map(|h| lifted.mul(g, h)).collect())
            .collect();
        let inverse = (0..n)
            .map(|g| (0..n).find(|&h| table[g][h] == 0 && table[h][g] == 0))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::Group(format!("{spec}: element 0 is not the identity")))?;
        let action = match (lifted, lift_input) {
            (Lifted::RotoTranslation(pg), _) => GroupAction::Offsets(pg),
            (Lifted::Elements(_), Some((input, domain))) => {
                let mut shape = input.grid.clone();
                shape.push(1);
                GroupAction::Sites(input.grid.clone(), site_action(spec, domain, &shape)?)
            }
            (Lifted::Elements(_), None) => GroupAction::Sites(
                vec![],
                site_action(spec, Domain::Signal, &[1, 1])
                    .or_else(|_| site_action(spec, Domain::Signal, &[Lifted::order_of(spec), 1]))?,
            ),
        };
        Ok(Self {
            table,
            inverse,
            action,
        })
    }
}

impl SlotGroup for LayerGroup {
    fn mul(&self, g: usize, h: usize) -> usize {
        self.table[g][h]
    }
    fn inv(&self, g: usize) -> usize {
        self.inverse[g]
    }
    fn act(&self, g: usize, point: Pt) -> Result<Pt> {
        let point = point.coords();
        match &self.action {
            GroupAction::Offsets(pg) => match point {
                &[a, b] => {
                    let (a, b) = pg.act_offset(g, (a, b));
                    Pt::new(&[a, b])
                }
                _ => Err(Error::Invalid(format!(
                    "the point group acts on 2-D offsets, not {point:?}"
                ))),
            },
            GroupAction::Sites(grid, action) => {
                // row-major site index, as the action numbers the sites
                let flat = point
                    .iter()
                    .zip(grid)
                    .fold(0usize, |i, (c, n)| i * n + c.rem_euclid(*n as i64) as usize);
                let mut site = action.act(g, flat);
                let mut out = [0i64; super::slots::MAX_AXES];
                let out = out.get_mut(..grid.len()).ok_or_else(|| {
                    Error::Invalid(format!("a grid of more than 3 axes: {grid:?}"))
                })?;
                for (ax, n) in grid.iter().enumerate().rev() {
                    out[ax] = (site % n) as i64;
                    site /= n;
                }
                Pt::new(out)
            }
        }
    }
}

/// The inline forms of index values.
fn vals(v: &[IndexValue]) -> Result<Vec<Val>> {
    v.iter().map(Val::of).collect()
}

/// Per-layer data shared by all example pairs.
struct LayerPlan {
    /// The layers whose kernels the definitions read ([`crate::network::Node::inputs`]).
    inputs: Vec<usize>,
    /// The layer's definitions, one per kind and pair of examples of the left-hand side.
    variants: Vec<Variant>,
    /// Whether the layer's kernel is right-invariant (see [`Memo`]), so that one site pair per
    /// class `((g k, p), (g' k, p'))` is evaluated.
    right_invariant: bool,
    offsets: Vec<Val>,
    in_sites: Vec<Val>,
    /// The group acting in the layer's indices, if any.
    group: Option<LayerGroup>,
    /// `G` and `H` as element indices.
    elements: Vec<Val>,
    support: Vec<Val>,
    /// How input sites reached by `p + δ` are brought back onto the grid.
    wrap: Option<Padding>,
    /// Whether the layer is an SO(2) lifting or reads SO(2) features (its `G` is the angular
    /// grid).
    so2: bool,
    /// Whether the layer's dual activation is quadrature: its printed definitions keep `T_φ`
    /// (closed forms are substituted where there are any).
    quadrature: bool,
}

/// `K⁽ᴸ⁾(x1[i], x2[j])` and `Θ⁽ᴸ⁾(x1[i], x2[j])` (N1 × N2 each) by interpreting `deriv`, the
/// derivation of `net` ([`super::derive_network`]); `x2 = None` means `x1`. See the module
/// docs for what the environment holds. Errors if the batches do not fit the network or the
/// network ends with sites (no readout).
pub fn evaluate_network(
    net: &Network,
    deriv: &NetworkDerivation,
    x1: &Batch,
    x2: Option<&Batch>,
) -> Result<(Mat<f64>, Mat<f64>)> {
    net.check_batch(x1, "x1")?;
    if let Some(x2) = x2 {
        net.check_batch(x2, "x2")?;
    }
    let nodes = net.nodes();
    let depth = nodes.len();
    let is_so2 = |l: usize| nodes[l - 1].layer.is_so2_section(&nodes[l - 1].shape_in);
    if !net.shape_before(net.layers().len()).grid.is_empty() {
        return Err(Error::Shape(format!(
            "the network ends with {} sites per example; end it with a readout (flatten or \
             global_avg_pool) to get an N1×N2 matrix",
            net.shape_before(net.layers().len()).sites()
        )));
    }
    let invariant_from = right_invariant_from(net);
    let plans: Vec<LayerPlan> = (1..=depth)
        .map(|l| {
            let param = |p: &Param| {
                deriv.params().get(p).copied().ok_or_else(|| {
                    Error::Invalid(format!("parameter {} of layer {l} has no value", p.plain()))
                })
            };
            let variants = deriv
                .compact()
                .definitions()
                .iter()
                .filter(|d| d.layer == l)
                .flat_map(|d| Variant::of(d, &param))
                .collect();
            let layer = &nodes[l - 1].layer;
            let input = &nodes[l - 1].shape_in;
            let point = |v: Vec<i64>| IndexValue::Point(v);
            let so2 = is_so2(l);
            let sums = layer.sums(input);
            let (offsets, wrap, group) = match &sums {
                _ if so2 => {
                    let offsets = match sums {
                        Sums::Lift(_) => grid_points(&input.grid),
                        _ => vec![],
                    };
                    (offsets, None, None)
                }
                Sums::Window { offsets, padding } => {
                    let offsets = offsets.iter().cloned().map(point).collect();
                    (offsets, Some(*padding), None)
                }
                Sums::Lift(lift) => {
                    let group = LayerGroup::new(&lift.group, Some((input, net.domain())))?;
                    let offsets = match (&group.action, &lift.filter) {
                        (_, LiftFilter::Full) => grid_points(&input.grid),
                        (GroupAction::Offsets(_), LiftFilter::Window(w)) => {
                            window_offsets(w).into_iter().map(point).collect()
                        }
                        // the window around site 0 of a signal, the centre pixel of an image
                        (GroupAction::Sites(..), LiftFilter::Window(w)) => {
                            let grid = &input.grid;
                            window_offsets(w)
                                .into_iter()
                                .map(|d| {
                                    point(
                                        d.iter()
                                            .zip(grid)
                                            .map(|(d, &n)| {
                                                let c = if grid.len() == 1 { 0 } else { n / 2 };
                                                (c as i64 + d).rem_euclid(n as i64)
                                            })
                                            .collect(),
                                    )
                                })
                                .collect()
                        }
                    };
                    (offsets, Some(lift.padding), Some(group))
                }
                Sums::GroupWindow {
                    offsets, padding, ..
                } => {
                    let spec = input.lifted.expect("checked by the shape");
                    let offsets = offsets.iter().cloned().map(point).collect();
                    (offsets, Some(*padding), Some(LayerGroup::new(&spec, None)?))
                }
                Sums::None => match input.lifted {
                    Some(spec) => (vec![], None, Some(LayerGroup::new(&spec, None)?)),
                    None => (vec![], None, None),
                },
            };
            let order = group.as_ref().map_or(0, |g| g.table.len());
            let support = match sums {
                Sums::GroupWindow {
                    support: Some(s), ..
                } => s,
                _ => (0..order).collect(),
            };
            Ok(LayerPlan {
                inputs: nodes[l - 1].inputs.clone(),
                variants,
                right_invariant: invariant_from.is_some_and(|from| l >= from)
                    && nodes[l - 1].shape_out.lifted.is_some(),
                offsets: vals(&offsets)?,
                in_sites: vals(&grid_points(&input.grid))?,
                group,
                elements: (0..order).map(Val::Elem).collect(),
                support: support.into_iter().map(Val::Elem).collect(),
                wrap,
                so2,
                quadrature: deriv
                    .derivation()
                    .definitions()
                    .iter()
                    .any(|d| d.layer == l && reads_dual(&d.rhs)),
            })
        })
        .collect::<Result<_>>()?;
    let pool = (1..=depth).find(|&l| is_so2(l) && nodes[l - 1].layer.closes_group_section());
    let x2b = x2.unwrap_or(x1);
    let (n1, n2) = (x1.len(), x2b.len());
    let channels = *net.input_shape().last().expect("non-empty input shape");
    // With x2 = x1 only the upper triangle is interpreted and mirrored (the kernels are
    // symmetric; quadrature duals are so only to rounding, and the fast path mirrors too).
    let symmetric = x2.is_none();
    let pairs: Vec<(usize, usize)> = (0..n1)
        .flat_map(|i| (if symmetric { i } else { 0 }..n2).map(move |j| (i, j)))
        .collect();
    let pool_needed = plans.iter().any(|p| p.so2);
    if pool_needed && pool.is_none() {
        return Err(Error::Shape(
            "SO2 features must be pooled with group_pool before the network ends".into(),
        ));
    }
    let input_shape = net.input_shape();
    // The band limit of φ ↦ K⁽⁰⁾(x, ρ(φ)x′) on the declared domain (unused without SO2 layers).
    let band = RotationKind::of(net.domain()).map_or(1, |k| k.band_limit(input_shape));
    let n0 = so2_quadrature::first_grid(band);
    // The accuracy asked of the angular grid: the SO(2) lift's `tol`.
    let so2_tol = match net.layers().first().and_then(|l| l.as_lift()) {
        Some(l) => l.so2_tol(),
        None => Lift::DEFAULT_SO2_TOL,
    };
    // `(M(x,x′), M(x,x), M(x′,x′))` of K and Θ at layer `l` (untransformed arguments).
    let read = |memo: &Memo, l: usize| -> Result<[f64; 6]> {
        let get = |kind, a, b| {
            memo.get(&At {
                layer: l,
                kind,
                examples: [a, b],
                transforms: [None, None],
                sites: None,
            })
        };
        let (x, xp) = (Example::X, Example::XPrime);
        let (k, t) = (get(KernelKind::Nngp, x, xp)?, get(KernelKind::Ntk, x, xp)?);
        if !pool_needed {
            // Only the angular refinement needs the self-covariances (for its scales).
            return Ok([k, t, 0.0, 0.0, 0.0, 0.0]);
        }
        Ok([
            k,
            t,
            get(KernelKind::Nngp, x, x)?,
            get(KernelKind::Nngp, xp, xp)?,
            get(KernelKind::Ntk, x, x)?,
            get(KernelKind::Ntk, xp, xp)?,
        ])
    };
    // All layers for one pair; the values at the pool (if any) and at the end.
    let run = |x: &[f64], xp: &[f64], rotated: Option<&Rotated>| -> Result<([f64; 6], [f64; 6])> {
        let envs = plans
            .iter()
            .enumerate()
            .map(|(l, plan)| LayerEnv {
                l: l + 1,
                layer: &nodes[l].layer,
                in_grid: &nodes[l].shape_in.grid,
                plan,
                x,
                x_prime: xp,
                channels,
                rotated,
                angles: (1..=rotated.map_or(0, |r| r.x.len() - 1))
                    .map(Val::Elem)
                    .collect(),
                duals: RefCell::new(WordMap::default()),
            })
            .collect();
        let memo = Memo {
            envs,
            grids: nodes.iter().map(|n| &n.shape_out.grid[..]).collect(),
            values: Entries::new(nodes.iter().map(|n| {
                let grid = &n.shape_out.grid;
                (
                    n.shape_out.lifted.map(|g| Lifted::order_of(&g)),
                    (!grid.is_empty()).then(|| grid.iter().product()),
                )
            })),
        };
        let last = read(&memo, depth)?;
        let pooled = match pool {
            Some(p) => read(&memo, p)?,
            None => last,
        };
        Ok((pooled, last))
    };
    let values: Vec<(f64, f64)> = pairs
        .par_iter()
        .map(|&(i, j)| {
            let (x, xp) = (x1.example(i), x2b.example(j));
            if !pool_needed {
                let (_, last) = run(x, xp, None)?;
                return Ok((last[0], last[1]));
            }
            let what = || format!("the SO2 angular grid of the examples (x1[{i}], x2[{j}])");
            let anchor = peak_angle(input_shape, net.domain(), x, xp, band)?;
            so2_refine(n0, so2_tol, what, |n| {
                let rotated = Rotated::new(input_shape, net.domain(), x, xp, n, anchor)?;
                run(x, xp, Some(&rotated))
            })
        })
        .collect::<Result<_>>()?;
    let mut nngp = Mat::zeros(n1, n2);
    let mut ntk = Mat::zeros(n1, n2);
    for (&(i, j), &(k, t)) in pairs.iter().zip(&values) {
        nngp[(i, j)] = k;
        ntk[(i, j)] = t;
        if symmetric {
            nngp[(j, i)] = k;
            ntk[(j, i)] = t;
        }
    }
    Ok((nngp, ntk))
}

/// `(K⁽ᴸ⁾, Θ⁽ᴸ⁾)` of one pair of an SO(2) network from `run(N)` — the pooled and the final
/// `(K, Θ, K(x,x), K(x′,x′), Θ(x,x), Θ(x′,x′))` on the grid of N angles — refined by the circle
/// quadrature of [`crate::so2_quadrature::refine`] (N doubling from `n0`, plain or
/// Romberg-extrapolated) until `(K̄, Θ̄, K⁽ᴸ⁾, Θ⁽ᴸ⁾)` changes by at most `tol` relative to the
/// scales `max(|K|, |Θ|, √(K(x,x) K(x′,x′)), √(Θ(x,x) Θ(x′,x′)))`.
fn so2_refine(
    n0: usize,
    tol: f64,
    what: impl FnOnce() -> String,
    run: impl Fn(usize) -> Result<([f64; 6], [f64; 6])>,
) -> Result<(f64, f64)> {
    let scale = |v: &[f64; 6]| {
        v[0].abs()
            .max(v[1].abs())
            .max((v[2] * v[3]).abs().sqrt())
            .max((v[4] * v[5]).abs().sqrt())
    };
    let m = so2_quadrature::refine(n0, tol, true, what, |n| {
        let (p, f) = run(n)?;
        Ok(so2_quadrature::Level {
            values: vec![p[0], p[1], f[0], f[1]],
            scales: vec![scale(&p), scale(&p), scale(&f), scale(&f)],
        })
    })?;
    Ok((m.values[2], m.values[3]))
}

/// One definition with its examples renamed: `K⁽ˡ⁾(x, x′) := …` also read as the
/// self-covariances `K⁽ˡ⁾(x, x) := …` and `K⁽ˡ⁾(x′, x′) := …` (every kernel of its right-hand
/// side renamed alike); the right-hand side with the left-hand side's variables in slots.
struct Variant {
    lhs: KernelSym,
    /// The relative angle `φ` of `K(x, ρ(φ)x′) := …`.
    angle: Option<Pattern>,
    sites: Option<(Pattern, Pattern)>,
    rhs: Node,
    slots: usize,
}

/// The left-hand side's index pattern: `s`, `(g, p)`, or something no site fits.
enum Pattern {
    Var(usize),
    Pair(Box<Pattern>, Box<Pattern>),
    Other(String),
}

impl Pattern {
    fn of(i: &Index, slots: &mut Slots) -> Self {
        match i {
            Index::Var(v) => Pattern::Var(slots.bind(v)),
            Index::Pair(a, b) => Pattern::Pair(
                Box::new(Pattern::of(a, slots)),
                Box::new(Pattern::of(b, slots)),
            ),
            other => Pattern::Other(other.render(Format::Plain)),
        }
    }

    /// Bind the pattern's variables to `value`.
    fn bind(&self, value: Val, slots: &mut [Val]) -> Result<()> {
        match (self, value) {
            (Pattern::Var(s), x) => {
                slots[*s] = x;
                Ok(())
            }
            (Pattern::Pair(pa, pb), Val::Pair(g, p)) => {
                pa.bind(Val::Elem(g), slots)?;
                pb.bind(Val::Point(p), slots)
            }
            (Pattern::Pair(..), x) => Err(Error::Invalid(format!(
                "site {x:?} does not fit an index pattern (g, p)"
            ))),
            (Pattern::Other(p), x) => Err(Error::Invalid(format!(
                "site {x:?} does not fit the index pattern {p}"
            ))),
        }
    }
}

impl Variant {
    fn of(d: &Definition, param: &dyn Fn(&Param) -> Result<f64>) -> Vec<Variant> {
        let maps: [fn(Example) -> Example; 3] = [|e| e, |_| Example::X, |_| Example::XPrime];
        let mut out: Vec<Variant> = vec![];
        for m in maps {
            let lhs = d.name.map_examples(m);
            let key = (lhs.args.0.example, lhs.args.1.example);
            if out
                .iter()
                .any(|v| (v.lhs.args.0.example, v.lhs.args.1.example) == key)
            {
                continue;
            }
            let rhs = d
                .rhs
                .substitute_kernels(&|k| Some(Expr::from(k.map_examples(m))));
            // Bound in the order the definition reads them: the angle, then the sites.
            let mut slots = Slots::default();
            let angle = lhs
                .args
                .1
                .transform
                .as_ref()
                .map(|t| Pattern::of(t, &mut slots));
            let sites = lhs
                .idx
                .as_ref()
                .map(|(a, b)| (Pattern::of(a, &mut slots), Pattern::of(b, &mut slots)));
            let rhs = slots.node(&rhs, param);
            out.push(Variant {
                lhs,
                angle,
                sites,
                rhs,
                slots: slots.len(),
            });
        }
        out
    }
}

/// The kernels of one example pair, evaluated on demand and memoised per (layer, kind,
/// examples, site pair): a kernel is computed from its definition the first time a formula
/// reads it. Only what the output needs is evaluated — for the self-covariances entering a
/// nonlinearity, the site diagonal.
///
/// On a layer whose kernel is right-invariant, `K[(g k, p), (g′ k, p′)] = K[(g, p), (g′, p′)]`
/// for every point-group element k (a G-CNN whose lifting filter the point group maps to itself:
/// p4/p4m windows and full filters, and later dense layers, nonlinearities and group
/// convolutions), the pair is evaluated at its representative `((g g′⁻¹, p), (e, p′))`.
struct Memo<'a> {
    envs: Vec<LayerEnv<'a>>,
    /// The output grid of every layer (`grids[l − 1]` for layer l), to number its sites.
    grids: Vec<&'a [usize]>,
    values: Entries,
}

/// A site as one word: `(g + 1) << 32 | (flat(p) + 1)`, 0 for a missing part; `None` for a
/// point off `grid`.
fn site_word(v: Val, grid: &[usize]) -> Option<u64> {
    let point = |c: &Pt| -> Option<u64> {
        let c = c.coords();
        if c.len() != grid.len() {
            return None;
        }
        let mut i = 0u64;
        for (&c, &n) in c.iter().zip(grid) {
            if c < 0 || c as usize >= n {
                return None;
            }
            i = i * n as u64 + c as u64;
        }
        Some(i + 1)
    };
    match v {
        Val::Point(c) => point(&c),
        Val::Elem(g) => Some((g as u64 + 1) << 32),
        Val::Pair(g, c) => Some(((g as u64 + 1) << 32) | point(&c)?),
    }
}

/// The environment of layer `l` of a [`Memo`]: its kernels are read through the memo.
struct LayerView<'m, 'a> {
    memo: &'m Memo<'a>,
    l: usize,
}

impl Memo<'_> {
    fn get(&self, at: &At) -> Result<f64> {
        if at.layer == 0 {
            return self.envs[0].input_kernel(at);
        }
        let env = self
            .envs
            .get(at.layer - 1)
            .ok_or_else(|| Error::Invalid(format!("the network has no layer {}", at.layer)))?;
        let group = env.plan.group.as_ref().filter(|_| env.plan.right_invariant);
        let word = self.word(at, group)?;
        if let Some(v) = self.values.get(&word) {
            return Ok(v);
        }
        let key = match group {
            Some(g) => representative(at, g),
            None => *at,
        };
        let variant = env
            .plan
            .variants
            .iter()
            .find(|v| {
                v.lhs.kind == key.kind
                    && v.lhs.tag.is_none()
                    && [v.lhs.args.0.example, v.lhs.args.1.example] == key.examples
            })
            .ok_or_else(|| Error::Invalid(format!("the derivation does not define {key:?}")))?;
        // The slots on the stack for the definitions there are (a few variables each).
        let (mut stack, mut heap) = ([Val::Elem(0); 8], vec![]);
        let slots: &mut [Val] = if variant.slots <= stack.len() {
            &mut stack[..variant.slots]
        } else {
            heap.resize(variant.slots, Val::Elem(0));
            &mut heap
        };
        if variant.lhs.args.0.transform.is_some() || key.transforms[0].is_some() {
            return Err(Error::Invalid(format!(
                "{}: only the second argument carries a relative angle",
                variant.lhs.render(Format::Plain)
            )));
        }
        match (&variant.angle, key.transforms[1]) {
            (None, None) => {}
            // The plain kernel of a definition of the relative angle is its value at angle 0.
            (Some(p @ Pattern::Var(_)), t) => p.bind(t.unwrap_or(Val::Elem(0)), slots)?,
            _ => {
                return Err(Error::Invalid(format!(
                    "{key:?} does not fit the definition {}",
                    variant.lhs.render(Format::Plain)
                )))
            }
        }
        match (&variant.sites, key.sites) {
            (None, None) => {}
            (Some((pa, pb)), Some((sa, sb))) => {
                pa.bind(sa, slots)?;
                pb.bind(sb, slots)?;
            }
            _ => {
                return Err(Error::Invalid(format!(
                    "{key:?} does not fit the sites of {}",
                    variant.lhs.render(Format::Plain)
                )))
            }
        }
        let view = LayerView {
            memo: self,
            l: at.layer,
        };
        let v = variant.rhs.eval(&view, slots)?;
        self.values.insert(word, v);
        Ok(v)
    }

    /// The memo key of `at`: layer, kind, examples and angle in one word, then the two sites
    /// (at their representative on a right-invariant layer, `group` given).
    fn word(&self, at: &At, group: Option<&LayerGroup>) -> Result<[u64; 3]> {
        let bad = || Error::Invalid(format!("kernel {at:?} lies off its layer's sites"));
        let angle = |t: Option<Val>| -> Result<u64> {
            match t {
                None => Ok(0),
                Some(Val::Elem(k)) => Ok(k as u64 + 1),
                Some(_) => Err(bad()),
            }
        };
        let ex = |e: Example| (e == Example::XPrime) as u64;
        let head = (at.layer as u64) << 40
            | ((at.kind == KernelKind::Ntk) as u64) << 39
            | ex(at.examples[0]) << 38
            | ex(at.examples[1]) << 37
            | angle(at.transforms[0])? << 20
            | angle(at.transforms[1])?;
        let (a, b) = match at.sites {
            None => (0, 0),
            Some((a, b)) => {
                let grid = self.grids[at.layer - 1];
                let (a, b) = (
                    site_word(a, grid).ok_or_else(bad)?,
                    site_word(b, grid).ok_or_else(bad)?,
                );
                match group {
                    Some(g) if a >> 32 > 0 && b >> 32 > 0 => {
                        let (ga, gb) = ((a >> 32) as usize - 1, (b >> 32) as usize - 1);
                        let r = g.mul(ga, g.inv(gb)) as u64;
                        (
                            ((r + 1) << 32) | (a & 0xffff_ffff),
                            (1 << 32) | (b & 0xffff_ffff),
                        )
                    }
                    _ => (a, b),
                }
            }
        };
        Ok([head, a, b])
    }
}

impl Frame for LayerView<'_, '_> {
    fn set(&self, s: IndexSet) -> Result<&[Val]> {
        self.memo.envs[self.l - 1].set(s)
    }
    fn group(&self) -> Option<&dyn SlotGroup> {
        self.memo.envs[self.l - 1]
            .plan
            .group
            .as_ref()
            .map(|g| g as &dyn SlotGroup)
    }
    fn kernel(
        &self,
        k: &KernelRef,
        transforms: [Option<Val>; 2],
        sites: Option<(Val, Val)>,
    ) -> Result<f64> {
        let env = &self.memo.envs[self.l - 1];
        if k.sym.tag.is_some() {
            return Err(Error::Invalid(format!(
                "a network derivation has no tagged kernels: {}",
                k.sym.render(Format::Plain)
            )));
        }
        let sites = match sites {
            None => None,
            Some((a, b)) => match (env.resolve(k.layer, a), env.resolve(k.layer, b)) {
                (Some(a), Some(b)) => Some((a, b)),
                _ => return Ok(0.0),
            },
        };
        // A definition reads its own layer (Θ⁽ˡ⁾ from K⁽ˡ⁾) or its inputs.
        if k.layer != self.l && !env.plan.inputs.contains(&k.layer) {
            return Err(Error::Invalid(format!(
                "layer {} reads the kernel of layer {}, not of its input",
                self.l, k.layer
            )));
        }
        self.memo.get(&At {
            layer: k.layer,
            kind: k.kind,
            examples: k.examples,
            transforms,
            sites,
        })
    }
    fn dual(&self, f: &DualFn, k11: f64, k12: f64, k22: f64) -> Result<f64> {
        self.memo.envs[self.l - 1].dual(f, k11, k12, k22)
    }
}

/// `((g g′⁻¹, p), (e, p′))` for the sites `((g, p), (g′, p′))` of `at` (`(g g′⁻¹, e)` without
/// positions); other keys unchanged.
fn representative(at: &At, group: &LayerGroup) -> At {
    let Some((a, b)) = at.sites else {
        return *at;
    };
    let split = |v: Val| match v {
        Val::Elem(g) => Some((g, None)),
        Val::Pair(g, p) => Some((g, Some(p))),
        Val::Point(_) => None,
    };
    let (Some((g, p)), Some((h, q))) = (split(a), split(b)) else {
        return *at;
    };
    let join = |g: usize, p: Option<Pt>| match p {
        None => Val::Elem(g),
        Some(p) => Val::Pair(g, p),
    };
    let g = group.mul(g, group.inv(h));
    At {
        sites: Some((join(g, p), join(0, q))),
        ..*at
    }
}

/// Whether `e` applies a dual activation `T_φ` or `Ṫ_φ`.
fn reads_dual(e: &Expr) -> bool {
    matches!(e, Expr::Apply(Func::Dual(_), _)) || e.children().into_iter().any(reads_dual)
}

/// The first layer (1-based) from which kernels are right-invariant, if the network starts with
/// a lifting whose filter every point-group element maps to itself — a square window or the
/// full torus for p4/p4m, a full-support filter for the groups acting on sites — followed by
/// dense layers, nonlinearities and group convolutions only (up to the layer whose input is no
/// longer lifted). The invariance holds layer by layer (MATH.md §7): the lifting gives
/// `K¹[(g,p),(g′,p′)] = σ_w² (1/|F|) Σ_δ K⁰[p + A_g δ, p′ + A_g′ δ] + σ_b²`, and replacing
/// `(g, g′)` by `(g k, g′ k)` permutes the taps `A_k δ` of F; the later layers act alike on every
/// right translate.
fn right_invariant_from(net: &Network) -> Option<usize> {
    let lift = net.layers().first()?.as_lift()?;
    let symmetric = match (&lift.group, &lift.filter) {
        (GroupSpec::So2 { .. }, _) => false,
        (GroupSpec::P4(_) | GroupSpec::P4m(_), LiftFilter::Window(w)) => {
            w.len() == 2 && w[0] == w[1]
        }
        (GroupSpec::P4(_) | GroupSpec::P4m(_), LiftFilter::Full) => {
            lift.padding == Padding::Circular
        }
        (_, LiftFilter::Full) => true,
        _ => false,
    };
    let chain_ok = net.nodes()[1..].iter().all(|n| {
        let l = &n.layer;
        n.shape_in.lifted.is_none() || l.keeps_right_invariance()
    });
    (symmetric && chain_ok).then_some(1)
}
