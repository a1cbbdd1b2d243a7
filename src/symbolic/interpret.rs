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
//! Nothing of the fast path's site layout, fused maps or tap tables is used.

use std::cell::RefCell;
use std::collections::HashMap;

use faer::Mat;
use rayon::prelude::*;

use super::derivation::{Derivation, KernelTable};
use super::eval::{ArgValue, Env, KernelAt};
use super::expr::DualFn;
use super::index::{IndexSet, IndexValue};
use super::kernel_sym::{Example, KernelKind};
use super::network::NetworkDerivation;
use super::param::Param;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::layer::{Layer, Padding};
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
    fn resolve(&self, layer: usize, site: &IndexValue) -> Option<IndexValue> {
        let Layer::Conv(c) = self.layer else {
            return Some(site.clone());
        };
        if layer + 1 != self.l {
            return Some(site.clone());
        }
        let IndexValue::Point(v) = site else {
            return Some(site.clone());
        };
        let mut out = Vec::with_capacity(v.len());
        for (i, &n) in v.iter().zip(self.in_grid) {
            let n = n as i64;
            out.push(match c.padding {
                Padding::Circular => i.rem_euclid(n),
                _ if *i < 0 || *i >= n => return None,
                _ => *i,
            });
        }
        Some(IndexValue::Point(out))
    }
}

/// Per-layer data shared by all example pairs.
struct LayerPlan {
    derivation: Derivation,
    offsets: Vec<IndexValue>,
    in_sites: Vec<IndexValue>,
    out_sites: Vec<IndexValue>,
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
            let offsets = match layer {
                Layer::Conv(c) => filter_offsets(&c.filter, c.padding),
                _ => vec![],
            };
            Ok(LayerPlan {
                derivation,
                offsets,
                in_sites: grid_points(&net.shape_before(l - 1).grid),
                out_sites: grid_points(&net.shape_before(l).grid),
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
