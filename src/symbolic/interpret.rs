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
//!   [`crate::action::action_for`] (sites of the input permuted, C_n, D_n, C4, D4) or
//!   [`crate::group::PointGroup::act_offset`] (offsets rotated, p4, p4m); sites of features on
//!   a group are `g` or `(g, p)`. SO(2) liftings are not interpreted (an error says so).
//!
//! Nothing of the fast path's site layout, fused maps or tap tables is used.

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
use crate::action::{action_for, SiteAction};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::{GroupSpec, PointGroup};
use crate::layer::lift::{window_offsets, Lifted};
use crate::layer::{Layer, LiftFilter, Padding, Shape};
use crate::network::Network;

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

impl LayerEnv<'_> {
    fn example(&self, a: &ArgValue) -> Result<&[f64]> {
        if a.transform.is_some() {
            return Err(Error::Invalid(
                "transformed inputs are not part of a network derivation".into(),
            ));
        }
        Ok(match a.example {
            Example::X => self.x,
            Example::XPrime => self.x_prime,
        })
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
        match self.layer {
            Layer::Activation(a) => {
                let key = [k11.to_bits(), k12.to_bits(), k22.to_bits()];
                let (t, tdot) = *self
                    .duals
                    .borrow_mut()
                    .entry(key)
                    .or_insert_with(|| a.dual(k11, k12, k22));
                Ok(if f.derivative { tdot } else { t })
            }
            other => Err(Error::Invalid(format!(
                "layer {} ({}) has no dual activation",
                self.l,
                other.kind()
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
                GroupAction::Sites(input.grid.clone(), action_for(spec, &shape)?)
            }
            (Lifted::Elements(_), None) => GroupAction::Sites(
                vec![],
                action_for(spec, &[1, 1])
                    .or_else(|_| action_for(spec, &[Lifted::order_of(spec), 1]))?,
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
    if let Some(l) = net.layers().iter().position(|layer| match layer {
        Layer::Lift(lift) => matches!(lift.group, GroupSpec::So2 { .. }),
        _ => false,
    }) {
        return Err(Error::Invalid(format!(
            "layer {} lifts to SO2: SO(2) derivations are printed but not interpreted (the \
             integral over the relative angle φ is evaluated only by the engine's adaptive \
             angular grid, `kernel`)",
            l + 1
        )));
    }
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
            let (offsets, wrap, group) = match layer {
                Layer::Conv(c) => (filter_offsets(&c.filter, c.padding), Some(c.padding), None),
                Layer::Lift(lift) => {
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
                Layer::GroupConv(c) => {
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
            let support = match layer {
                Layer::GroupConv(c) => c.support.clone().unwrap_or_else(|| (0..order).collect()),
                _ => (0..order).collect(),
            };
            Ok(LayerPlan {
                derivation,
                offsets,
                in_sites: grid_points(&input.grid),
                out_sites: shape_sites(net.shape_before(l)),
                group,
                elements: (0..order).map(IndexValue::Elem).collect(),
                support: support.into_iter().map(IndexValue::Elem).collect(),
                wrap,
            })
        })
        .collect::<Result<_>>()?;
    let x2b = x2.unwrap_or(x1);
    let (n1, n2) = (x1.len(), x2b.len());
    let channels = *net.input_shape().last().expect("non-empty input shape");
    // With x2 = x1 only the upper triangle is interpreted and mirrored (the kernels are
    // symmetric; quadrature duals are so only to rounding, and the fast path mirrors too).
    let symmetric = x2.is_none();
    let pairs: Vec<(usize, usize)> = (0..n1)
        .flat_map(|i| (if symmetric { i } else { 0 }..n2).map(move |j| (i, j)))
        .collect();
    let values: Vec<(f64, f64)> = pairs
        .par_iter()
        .map(|&(i, j)| {
            let mut prev: Option<KernelTable> = None;
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
                    x: x1.example(i),
                    x_prime: x2b.example(j),
                    channels,
                    duals: RefCell::new(HashMap::new()),
                };
                let table = plan.derivation.evaluate(&env)?;
                prev = Some(table);
            }
            let table = prev.expect("a network has layers");
            let key = |kind| KernelAt {
                layer: depth,
                kind,
                tag: None,
                args: (
                    ArgValue {
                        example: Example::X,
                        transform: None,
                    },
                    ArgValue {
                        example: Example::XPrime,
                        transform: None,
                    },
                ),
                sites: None,
            };
            let get = |kind| {
                table.get(&key(kind)).ok_or_else(|| {
                    Error::Invalid(format!("the derivation does not define layer {depth}"))
                })
            };
            Ok((get(KernelKind::Nngp)?, get(KernelKind::Ntk)?))
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
