//! Numbers from a network's derivation by interpretation — the independent check of the fast
//! kernel code ([`crate::Network::kernel`]).
//!
//! For every example pair `(x, x′) = (x1[i], x2[j])` the definitions of layer `l = 1 … L` are
//! evaluated with [`Derivation::evaluate`] in an environment built for that layer alone:
//!
//! * the input kernel `K⁽⁰⁾[s,s'](x,x′) = (1/C) Σ_c x[s,c] x′[s',c]` summed directly from the
//!   examples (`Θ⁽⁰⁾ = 0`);
//! * the layer's parameters (`σ_{w,l}`, `σ_{b,l}`, `n_l`), its filter offsets `F`
//!   (row-major), the sites `Ω` of its input (row-major), the sites of its output;
//! * the padding rule, through [`Env::resolve`]: an input site `p + δ` of a circular
//!   convolution wraps, one of a same-padded convolution outside the grid reads 0;
//! * the dual activations `T_φ`, `Ṫ_φ` through [`Activation::dual`] (closed form or
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
//!   network's `(K⁽ᴸ⁾, Θ⁽ᴸ⁾)` change by at most [`SO2_TOL`] relative to their scale (the larger
//!   of the values and the Cauchy–Schwarz bound `√(M(x,x) M(x′,x′))`), at most
//!   [`SO2_MAX_ANGLES`] angles (an error otherwise). Where `|K⁽⁰⁾(x, ρ(φ)x′)|` reaches its
//!   Cauchy–Schwarz bound, kinked activations (ReLU) make the integrand non-smooth and the grid
//!   mean converges like `N⁻²`; the grid is anchored at φ = 0, so for `x′ = x` the kinks
//!   (φ = 0, and φ = π for point sets) are nodes and Romberg extrapolation of the sequence of
//!   grid means removes the even powers of `1/N` (the same remedy as the fast path's; whichever
//!   of the plain and the extrapolated sequence settles first is taken). Pairs whose kink lies
//!   off the grid (`x′` a rotated copy of `x` by an angle that is no node) are not handled and
//!   end in the error.
//!
//! Nothing of the fast path's site layout, fused maps, tap tables or angular grid
//! ([`crate::network::so2`]) is used.

use std::cell::RefCell;
use std::collections::HashMap;

use faer::Mat;
use rayon::prelude::*;

use super::derivation::{Derivation, KernelTable};
use super::eval::GroupOps;
use super::eval::{ArgValue, Env, KernelAt};
use super::expr::DualFn;
use super::index::{IndexSet, IndexValue};
use super::kernel_sym::{Example, KernelKind};
use super::network::NetworkDerivation;
use super::param::Param;
use crate::action::{site_action, Domain, RotationKind, SiteAction};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::{GroupSpec, PointGroup};
use crate::layer::lift::{window_offsets, Lifted};
use crate::layer::{
    Activation, Conv, GroupConv, GroupPool, Layer, Lift, LiftFilter, Padding, Shape,
};
use crate::network::Network;

/// Relative change of the pooled SO(2) kernels at which the angular grid stops.
pub const SO2_TOL: f64 = 1e-13;

/// Largest SO(2) angular grid the interpreter tries.
pub const SO2_MAX_ANGLES: usize = 1 << 13;

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

/// The filter offsets `F` (module docs of [`super::layers`]): centred for circular and same
/// padding, `{0, …, f−1}` per axis for valid padding; row-major.
pub fn filter_offsets(filter: &[usize], padding: Padding) -> Vec<IndexValue> {
    let shifted = |pts: Vec<IndexValue>| {
        pts.into_iter()
            .map(|p| match p {
                IndexValue::Point(v) => IndexValue::Point(
                    v.iter()
                        .zip(filter)
                        .map(|(i, f)| match padding {
                            Padding::Valid => *i,
                            _ => i - (*f as i64) / 2,
                        })
                        .collect(),
                ),
                other => other,
            })
            .collect()
    };
    shifted(grid_points(filter))
}

/// The environment of layer `l` for one example pair.
struct LayerEnv<'a> {
    l: usize,
    layer: &'a Layer,
    params: &'a std::collections::BTreeMap<Param, f64>,
    in_grid: &'a [usize],
    offsets: &'a [IndexValue],
    in_sites: &'a [IndexValue],
    out_sites: &'a [IndexValue],
    plan: &'a LayerPlan,
    prev: Option<&'a KernelTable>,
    x: &'a [f64],
    x_prime: &'a [f64],
    channels: usize,
    /// SO(2): `ρ(φ_k) x` and `ρ(φ_k) x′` for the angles `Elem(k)` (index 0: the angle 0).
    rotated: Option<&'a Rotated>,
    /// `(T, Ṫ)` by the bits of `(k₁₁, k₁₂, k₂₂)`: `K⁽ˡ⁾` and `Θ⁽ˡ⁾` read the same dual.
    duals: RefCell<HashMap<[u64; 3], (f64, f64)>>,
}

fn flat(grid: &[usize], site: Option<&IndexValue>) -> Result<usize> {
    match site {
        None => Ok(0),
        Some(IndexValue::Point(v)) if v.len() == grid.len() => {
            let mut i = 0usize;
            for (c, n) in v.iter().zip(grid) {
                if *c < 0 || *c as usize >= *n {
                    return Err(Error::Invalid(format!("site {v:?} lies outside {grid:?}")));
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

/// The examples of one pair rotated by every angle of an SO(2) grid: `x[k]`, `x_prime[k]` for
/// the angle `Elem(k)` (`k = 0`: the angle 0, then `φ = 2π(k−1)/N`).
struct Rotated {
    x: Vec<Vec<f64>>,
    x_prime: Vec<Vec<f64>>,
}

impl Rotated {
    /// `x` and `x′` (examples of `shape`) rotated by 0 and by `2πk/n`, `k = 0…n−1`.
    fn new(shape: &[usize], domain: Domain, x: &[f64], x_prime: &[f64], n: usize) -> Result<Self> {
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
        })
    }
}

impl LayerEnv<'_> {
    fn example(&self, a: &ArgValue) -> Result<&[f64]> {
        match (&a.transform, self.rotated) {
            (None, _) => Ok(match a.example {
                Example::X => self.x,
                Example::XPrime => self.x_prime,
            }),
            (Some(IndexValue::Elem(k)), Some(r)) => {
                let all = match a.example {
                    Example::X => &r.x,
                    Example::XPrime => &r.x_prime,
                };
                all.get(*k)
                    .map(|v| &v[..])
                    .ok_or_else(|| Error::Invalid(format!("angle {k} is not on the SO(2) grid")))
            }
            _ => Err(Error::Invalid(
                "transformed inputs are not part of a network derivation".into(),
            )),
        }
    }

    /// `K⁽⁰⁾[s,s'](a,b) = (1/C) Σ_c a[s,c] b[s',c]`.
    fn input_kernel(&self, at: &KernelAt) -> Result<f64> {
        if at.kind == KernelKind::Ntk {
            return Ok(0.0);
        }
        let (a, b) = (self.example(&at.args.0)?, self.example(&at.args.1)?);
        let (s, t) = match &at.sites {
            Some((s, t)) => (flat(self.in_grid, Some(s))?, flat(self.in_grid, Some(t))?),
            None => (0, 0),
        };
        let c = self.channels;
        let dot: f64 = (0..c).map(|k| a[s * c + k] * b[t * c + k]).sum();
        Ok(dot / c as f64)
    }
}

impl Env for LayerEnv<'_> {
    fn param(&self, p: &Param) -> Result<f64> {
        self.params.get(p).copied().ok_or_else(|| {
            Error::Invalid(format!(
                "parameter {} of layer {} has no value",
                p.plain(),
                self.l
            ))
        })
    }
    fn set(&self, s: IndexSet) -> Result<Vec<IndexValue>> {
        match s {
            IndexSet::Filter => Ok(self.offsets.to_vec()),
            IndexSet::Sites => Ok(self.in_sites.to_vec()),
            IndexSet::Group if self.plan.so2 => {
                let n = self.rotated.map_or(0, |r| r.x.len() - 1);
                Ok((1..=n).map(IndexValue::Elem).collect())
            }
            IndexSet::Group if self.plan.group.is_some() => Ok(self.plan.elements.clone()),
            IndexSet::Support if self.plan.group.is_some() => Ok(self.plan.support.clone()),
            other => Err(Error::Invalid(format!(
                "layer {} ({}) has no index set {}",
                self.l,
                self.layer.kind(),
                other.name().plain
            ))),
        }
    }
    fn kernel(&self, at: &KernelAt) -> Result<f64> {
        if at.layer + 1 != self.l {
            return Err(Error::Invalid(format!(
                "layer {} reads the kernel of layer {}, not of its input",
                self.l, at.layer
            )));
        }
        match self.prev {
            None => self.input_kernel(at),
            Some(t) => t.get(at).ok_or_else(|| {
                Error::Invalid(format!("kernel of layer {} not computed: {at:?}", at.layer))
            }),
        }
    }
    fn dual(&self, f: &DualFn, k11: f64, k12: f64, k22: f64) -> Result<f64> {
        match self.layer.downcast_ref::<Activation>() {
            Some(a) => {
                let key = [k11.to_bits(), k12.to_bits(), k22.to_bits()];
                let (t, tdot) = *self
                    .duals
                    .borrow_mut()
                    .entry(key)
                    .or_insert_with(|| a.dual(k11, k12, k22));
                Ok(if f.derivative { tdot } else { t })
            }
            None => Err(Error::Invalid(format!(
                "layer {} ({}) has no dual activation",
                self.l,
                self.layer.kind()
            ))),
        }
    }
    fn sites(&self, layer: usize) -> Result<Vec<IndexValue>> {
        if layer != self.l {
            return Err(Error::Invalid(format!(
                "the sites of layer {layer} are not known to layer {}",
                self.l
            )));
        }
        Ok(self.out_sites.to_vec())
    }
    fn group(&self) -> Option<&dyn GroupOps> {
        self.plan.group.as_ref().map(|g| g as &dyn GroupOps)
    }
    fn resolve(&self, layer: usize, site: &IndexValue) -> Option<IndexValue> {
        let Some(padding) = self.plan.wrap else {
            return Some(site.clone());
        };
        if layer + 1 != self.l {
            return Some(site.clone());
        }
        let point = |v: &[i64]| -> Option<IndexValue> {
            let mut out = Vec::with_capacity(v.len());
            for (i, &n) in v.iter().zip(self.in_grid) {
                let n = n as i64;
                out.push(match padding {
                    Padding::Circular => i.rem_euclid(n),
                    _ if *i < 0 || *i >= n => return None,
                    _ => *i,
                });
            }
            Some(IndexValue::Point(out))
        };
        match site {
            IndexValue::Point(v) => point(v),
            IndexValue::Pair(g, q) => match &**q {
                IndexValue::Point(v) => Some(IndexValue::pair((**g).clone(), point(v)?)),
                _ => Some(site.clone()),
            },
            IndexValue::Elem(_) => Some(site.clone()),
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
    /// The group of `spec`; `lift_input` is the grid a lifting reads (its action acts there).
    fn new(spec: &GroupSpec, lift_input: Option<&Shape>) -> Result<Self> {
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
            (Lifted::Elements(_), Some(input)) => {
                let mut shape = input.grid.clone();
                shape.push(1);
                // The grid a finite lifting reads is a signal or an image (the network checks
                // that its declared input domain is acted on by permutations).
                let domain = Domain::default_for(&shape)?;
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

impl GroupOps for LayerGroup {
    fn mul(&self, g: usize, h: usize) -> usize {
        self.table[g][h]
    }
    fn inv(&self, g: usize) -> usize {
        self.inverse[g]
    }
    fn act(&self, g: usize, point: &[i64]) -> Vec<i64> {
        match &self.action {
            GroupAction::Offsets(pg) => {
                let (a, b) = pg.act_offset(g, (point[0], point[1]));
                vec![a, b]
            }
            GroupAction::Sites(grid, action) => {
                // row-major site index, as the action numbers the sites
                let flat = point
                    .iter()
                    .zip(grid)
                    .fold(0usize, |i, (c, n)| i * n + c.rem_euclid(*n as i64) as usize);
                let mut site = action.act(g, flat);
                let mut out = vec![0i64; grid.len()];
                for (ax, n) in grid.iter().enumerate().rev() {
                    out[ax] = (site % n) as i64;
                    site /= n;
                }
                out
            }
        }
    }
}

/// The sites of features of shape `s`: grid points, group elements, or pairs `(g, p)`.
fn shape_sites(s: &Shape) -> Vec<IndexValue> {
    let points = grid_points(&s.grid);
    match s.lifted {
        None => points,
        Some(spec) => {
            let order = Lifted::order_of(&spec);
            if points.is_empty() {
                (0..order).map(IndexValue::Elem).collect()
            } else {
                (0..order)
                    .flat_map(|g| {
                        points
                            .iter()
                            .map(move |p| IndexValue::pair(IndexValue::Elem(g), p.clone()))
                    })
                    .collect()
            }
        }
    }
}

/// Per-layer data shared by all example pairs.
struct LayerPlan {
    derivation: Derivation,
    offsets: Vec<IndexValue>,
    in_sites: Vec<IndexValue>,
    out_sites: Vec<IndexValue>,
    /// The group acting in the layer's indices, if any.
    group: Option<LayerGroup>,
    /// `G` and `H` as element indices.
    elements: Vec<IndexValue>,
    support: Vec<IndexValue>,
    /// How input sites reached by `p + δ` are brought back onto the grid.
    wrap: Option<Padding>,
    /// Whether the layer is an SO(2) lifting or reads SO(2) features (its `G` is the angular
    /// grid).
    so2: bool,
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
    let depth = net.layers().len();
    let is_so2 = |l: usize| net.layers()[l - 1].is_so2_section(net.shape_before(l - 1));
    if !net.shape_before(depth).grid.is_empty() {
        return Err(Error::Shape(format!(
            "the network ends with {} sites per example; end it with a readout (flatten or \
             global_avg_pool) to get an N1×N2 matrix",
            net.shape_before(depth).sites()
        )));
    }
    let plans: Vec<LayerPlan> = (1..=depth)
        .map(|l| {
            let defs = deriv
                .compact()
                .definitions()
                .iter()
                .filter(|d| d.layer == l)
                .cloned();
            let mut derivation = Derivation::new();
            for d in defs {
                derivation.push(d)?;
            }
            let layer = &net.layers()[l - 1];
            let input = net.shape_before(l - 1);
            let point = |v: Vec<i64>| IndexValue::Point(v);
            let so2 = is_so2(l);
            let (conv, lift, group_conv) = (
                layer.downcast_ref::<Conv>(),
                layer.downcast_ref::<Lift>(),
                layer.downcast_ref::<GroupConv>(),
            );
            let (offsets, wrap, group) = match (conv, lift, group_conv) {
                _ if so2 => {
                    let offsets = match lift {
                        Some(_) => grid_points(&input.grid),
                        None => vec![],
                    };
                    (offsets, None, None)
                }
                (Some(c), _, _) => (filter_offsets(&c.filter, c.padding), Some(c.padding), None),
                (_, Some(lift), _) => {
                    let group = LayerGroup::new(&lift.group, Some(input))?;
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
                (_, _, Some(c)) => {
                    let spec = input.lifted.expect("checked by the shape");
                    let offsets = c.filter.as_ref().map_or(vec![], |f| {
                        window_offsets(f).into_iter().map(point).collect()
                    });
                    (
                        offsets,
                        Some(c.padding),
                        Some(LayerGroup::new(&spec, None)?),
                    )
                }
                _ => match input.lifted {
                    Some(spec) => (vec![], None, Some(LayerGroup::new(&spec, None)?)),
                    None => (vec![], None, None),
                },
            };
            let order = group.as_ref().map_or(0, |g| g.table.len());
            let support = match group_conv.and_then(|c| c.support.clone()) {
                Some(s) => s,
                None => (0..order).collect(),
            };
            Ok(LayerPlan {
                derivation,
                offsets,
                in_sites: grid_points(&input.grid),
                out_sites: if so2 {
                    vec![]
                } else {
                    shape_sites(net.shape_before(l))
                },
                group,
                elements: (0..order).map(IndexValue::Elem).collect(),
                support: support.into_iter().map(IndexValue::Elem).collect(),
                wrap,
                so2,
            })
        })
        .collect::<Result<_>>()?;
    let pool = (1..=depth).find(|&l| is_so2(l) && net.layers()[l - 1].is::<GroupPool>());
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
    // The band limit of φ ↦ K⁽⁰⁾(x, ρ(φ)x′): 1 for point sets, (n−1)/2 for signals [n, C].
    let band = match input_shape {
        [2] | [_, 2] => 1,
        [n, _] => (n - 1) / 2,
        _ => 1,
    };
    let n0 = (2 * band + 2).next_power_of_two().max(8);
    // `(M(x,x′), M(x,x), M(x′,x′))` of K and Θ at layer `l` (untransformed arguments).
    let read = |table: &KernelTable, l: usize| -> Result<[f64; 6]> {
        let get = |kind, a, b| {
            let at = KernelAt {
                layer: l,
                kind,
                tag: None,
                args: (
                    ArgValue {
                        example: a,
                        transform: None,
                    },
                    ArgValue {
                        example: b,
                        transform: None,
                    },
                ),
                sites: None,
            };
            table
                .get(&at)
                .ok_or_else(|| Error::Invalid(format!("the derivation does not define layer {l}")))
        };
        let (x, xp) = (Example::X, Example::XPrime);
        Ok([
            get(KernelKind::Nngp, x, xp)?,
            get(KernelKind::Ntk, x, xp)?,
            get(KernelKind::Nngp, x, x)?,
            get(KernelKind::Nngp, xp, xp)?,
            get(KernelKind::Ntk, x, x)?,
            get(KernelKind::Ntk, xp, xp)?,
        ])
    };
    // All layers for one pair; the values at the pool (if any) and at the end.
    let run = |x: &[f64], xp: &[f64], rotated: Option<&Rotated>| -> Result<([f64; 6], [f64; 6])> {
        let mut prev: Option<KernelTable> = None;
        let mut pooled = None;
        for (l, plan) in plans.iter().enumerate() {
            let env = LayerEnv {
                l: l + 1,
                layer: &net.layers()[l],
                params: deriv.params(),
                in_grid: &net.shape_before(l).grid,
                offsets: &plan.offsets,
                plan,
                in_sites: &plan.in_sites,
                out_sites: &plan.out_sites,
                prev: prev.as_ref(),
                x,
                x_prime: xp,
                channels,
                rotated,
                duals: RefCell::new(HashMap::new()),
            };
            let table = plan.derivation.evaluate(&env)?;
            if Some(l + 1) == pool {
                pooled = Some(read(&table, l + 1)?);
            }
            prev = Some(table);
        }
        let last = read(&prev.expect("a network has layers"), depth)?;
        Ok((pooled.unwrap_or(last), last))
    };
    let values: Vec<(f64, f64)> = pairs
        .par_iter()
        .map(|&(i, j)| {
            let (x, xp) = (x1.example(i), x2b.example(j));
            if !pool_needed {
                let (_, last) = run(x, xp, None)?;
                return Ok((last[0], last[1]));
            }
            so2_refine(n0, |n| {
                let rotated = Rotated::new(input_shape, net.domain(), x, xp, n)?;
                run(x, xp, Some(&rotated))
            })
            .map_err(|e| match e {
                Error::Numeric(m) => Error::Numeric(format!("examples (x1[{i}], x2[{j}]): {m}")),
                other => other,
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
/// `(K, Θ, K(x,x), K(x′,x′), Θ(x,x), Θ(x′,x′))` on the grid of N angles — with N doubling from
/// `n0` until the plain or the Romberg-extrapolated sequence of `(K̄, Θ̄, K⁽ᴸ⁾, Θ⁽ᴸ⁾)` changes by at
/// most [`SO2_TOL`] relative to the scales `max(|K|, |Θ|, √(K(x,x) K(x′,x′)), √(Θ(x,x) Θ(x′,x′)))`.
fn so2_refine(
    n0: usize,
    run: impl Fn(usize) -> Result<([f64; 6], [f64; 6])>,
) -> Result<(f64, f64)> {
    let scale = |v: &[f64; 6]| {
        v[0].abs()
            .max(v[1].abs())
            .max((v[2] * v[3]).abs().sqrt())
            .max((v[4] * v[5]).abs().sqrt())
            .max(f64::MIN_POSITIVE)
    };
    let mut n = n0;
    let mut rows: Option<Vec<Vec<f64>>> = None;
    let mut prev: Option<[[f64; 4]; 2]> = None;
    loop {
        let (p, f) = run(n)?;
        let plain = [p[0], p[1], f[0], f[1]];
        let scales = [scale(&p), scale(&p), scale(&f), scale(&f)];
        let new_rows: Vec<Vec<f64>> = (0..4)
            .map(|c| romberg_row(rows.as_ref().map(|r| &r[c][..]), plain[c]))
            .collect();
        let extrapolated: [f64; 4] = std::array::from_fn(|c| *new_rows[c].last().expect("a row"));
        rows = Some(new_rows);
        let now = [plain, extrapolated];
        let mut best = f64::INFINITY;
        if let Some(prev) = prev {
            for (v, w) in now.iter().zip(&prev) {
                let change = (0..4)
                    .map(|c| (v[c] - w[c]).abs() / scales[c])
                    .fold(0.0, f64::max);
                if change <= SO2_TOL {
                    return Ok((v[2], v[3]));
                }
                best = best.min(change);
            }
        }
        if n >= SO2_MAX_ANGLES {
            return Err(Error::Numeric(format!(
                "the SO2 angular grid did not settle to {SO2_TOL:e} with {SO2_MAX_ANGLES} angles \
                 (last change {best:.1e} relative)"
            )));
        }
        prev = Some(now);
        n *= 2;
    }
}

/// The next row of a Romberg table whose previous row is `old`, from the grid mean `t0` on the
/// doubled grid: `R[j] = R[j−1] + (R[j−1] − old[j−1])/(4^j − 1)` (errors in even powers of
/// the spacing).
fn romberg_row(old: Option<&[f64]>, t0: f64) -> Vec<f64> {
    let mut row = vec![t0];
    for (j, &o) in old.unwrap_or(&[]).iter().enumerate() {
        let r = row[j] + (row[j] - o) / (4f64.powi(j as i32 + 1) - 1.0);
        row.push(r);
    }
    row
}
