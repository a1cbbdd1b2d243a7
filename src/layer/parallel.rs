//! Parallel branches and residual blocks: one input fans out to several branches of layers,
//! whose outputs are added (`combine = "sum"`) or multiplied entrywise (`combine = "prod"`).
//!
//! ```toml
//! [[layers]]
//! kind = "residual"            # block(x) + shortcut(x); the shortcut defaults to the identity
//! block = [{ kind = "relu" }, { kind = "conv", filter = [3, 3], padding = "same" }]
//! shortcut = [{ kind = "conv", filter = [1, 1], w_std = 1.0 }]   # optional
//!
//! [[layers]]
//! kind = "parallel"            # neural-tangents' FanOut(n), parallel(...), FanInSum/FanInProd
//! branches = [[{ kind = "erf" }], [{ kind = "dense", w_std = 1.2 }], []]   # [] = identity
//! combine = "prod"             # sum (default) | prod
//! ```
//!
//! Branches hold their own parameters, drawn independently, and end with zero-mean Gaussian
//! processes; their outputs are independent unless both are the same identity. As in
//! neural-tangents' `FanInSum` and `FanInProd`, the kernels combine entrywise (MATH.md §5b):
//!
//! ```text
//! sum:   K = Σ_b K_b,        Θ = Σ_b Θ_b
//! prod:  K = Π_b K_b,        Θ = Σ_b Θ_b Π_{c≠b} K_c
//! ```
//!
//! at every example pair and site pair. The sum is exact for independent branches and for an
//! identity shortcut next to a block that ends in an affine layer (its output is uncorrelated with
//! its input); like neural-tangents, eqntk does not add the cross-covariance of two branches that
//! share randomness (two identities, `[[], []]`, give `2K`, not `4K`).
//!
//! A composite kind keeps every face of its branches: the kernel map folds each branch over the
//! incoming kernel (with its self-covariances) and combines the results; the derivation is one
//! definition per layer of each branch, numbered in order, then the combination
//! (`K⁽ˡ⁾ = K⁽ᵃ⁾ + K⁽ᵇ⁾`, see [`Combination`]); the finite pass runs the branches and adds or
//! multiplies their outputs, so Monte Carlo covers it.

use std::sync::Arc;

use toml::Value;

use super::shape::Shape;
use super::{parse_layer_at, Keys, Layer, LayerKind, Registration, SiteNeed};
use crate::error::{Error, Result};
use crate::finite::{FiniteBuilder, FinitePass, OpDims};
use crate::group::GroupSpec;
use crate::kernel::{BlockMap, Kernel};
use crate::symbolic::expr::Expr;
use crate::symbolic::kernel_sym::KernelKind;
use crate::symbolic::layers::{site_sym, Sites};
use crate::symbolic::LayerDefinitions;

/// How the outputs of parallel branches are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// `f(x) = Σ_b f_b(x)` (neural-tangents' `FanInSum`).
    Sum,
    /// `f(x) = Π_b f_b(x)` entrywise (neural-tangents' `FanInProd`).
    Prod,
}

impl Combine {
    /// The name in network files.
    pub fn name(self) -> &'static str {
        match self {
            Combine::Sum => "sum",
            Combine::Prod => "prod",
        }
    }
}

/// Branches of layers applied to the same input and combined ([`Combine`]); a residual block
/// is the sum of a block and a shortcut (the identity when empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Parallel {
    branches: Vec<Vec<Layer>>,
    combine: Combine,
    /// Written as `kind = "residual"` (block, then shortcut).
    residual: bool,
}

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["parallel", "residual"],
    parse: |kind, mut keys| {
        if kind == "residual" {
            let block = layer_list(&mut keys, "block")?
                .ok_or_else(|| keys.key_err("block", "missing key `block` (a list of layers)"))?;
            if block.is_empty() {
                return Err(keys.key_err("block", "`block` needs at least one layer"));
            }
            let shortcut = layer_list(&mut keys, "shortcut")?.unwrap_or_default();
            keys.finish(&["block", "shortcut"])?;
            return Ok(Layer::new(Parallel::residual(block, shortcut)));
        }
        let combine = match keys.str_opt("combine")?.as_deref() {
            None | Some("sum") => Combine::Sum,
            Some("prod") => Combine::Prod,
            Some(other) => {
                return Err(keys.key_err(
                    "combine",
                    format!("unknown combine \"{other}\" (known: sum, prod)"),
                ))
            }
        };
        let branches = match keys.take("branches") {
            None => return Err(keys.key_err("branches", "missing key `branches`")),
            Some(Value::Array(a)) if !a.is_empty() => {
                let base = format!("{}.branches", keys.base_place());
                a.into_iter()
                    .enumerate()
                    .map(|(b, v)| match v {
                        Value::Array(layers) => layers
                            .into_iter()
                            .enumerate()
                            .map(|(i, t)| {
                                parse_layer_at(keys.file(), format!("{base}[{b}][{i}]"), t)
                            })
                            .collect::<Result<Vec<_>>>(),
                        other => Err(keys.key_err(
                            "branches",
                            format!("branches[{b}] must be a list of layers, got {other}"),
                        )),
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            Some(v) => {
                return Err(keys.key_err(
                    "branches",
                    format!("`branches` must be a non-empty list of layer lists, got {v}"),
                ))
            }
        };
        keys.finish(&["branches", "combine"])?;
        Ok(Layer::new(Parallel::new(branches, combine)))
    },
    example: |kind| {
        let head = "[input]\nshape = [5, 2]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3]\n\
                    padding = \"circular\"\nw_std = 1.2\nb_std = 0.1\n\n";
        let tail = "\n[[layers]]\nkind = \"global_avg_pool\"\n\n[[layers]]\nkind = \"dense\"\n\
                    w_std = 1.1\n";
        let middle = if kind == "residual" {
            "[[layers]]\nkind = \"residual\"\nblock = [{ kind = \"relu\" }, { kind = \"conv\", \
             filter = [3], padding = \"circular\", w_std = 1.3, b_std = 0.2 }]\n"
        } else {
            "[[layers]]\nkind = \"parallel\"\ncombine = \"prod\"\nbranches = [[{ kind = \
             \"erf\" }], [{ kind = \"dense\", w_std = 0.9, b_std = 0.3 }]]\n"
        };
        format!("{head}{middle}{tail}")
    },
};

/// The layers of the list `key` (`block`, `shortcut`), each parsed at `place.key[i]`.
fn layer_list(keys: &mut Keys, key: &str) -> Result<Option<Vec<Layer>>> {
    match keys.take(key) {
        None => Ok(None),
        Some(Value::Array(a)) => {
            let base = format!("{}.{key}", keys.base_place());
            a.into_iter()
                .enumerate()
                .map(|(i, t)| parse_layer_at(keys.file(), format!("{base}[{i}]"), t))
                .collect::<Result<Vec<_>>>()
                .map(Some)
        }
        Some(v) => Err(keys.key_err(key, format!("`{key}` must be a list of layers, got {v}"))),
    }
}

impl Parallel {
    /// Branches combined by `combine` (an empty branch is the identity).
    pub fn new(branches: Vec<Vec<Layer>>, combine: Combine) -> Self {
        Self {
            branches,
            combine,
            residual: false,
        }
    }

    /// The residual block `block(x) + shortcut(x)` (an empty shortcut is the identity).
    pub fn residual(block: Vec<Layer>, shortcut: Vec<Layer>) -> Self {
        Self {
            branches: vec![block, shortcut],
            combine: Combine::Sum,
            residual: true,
        }
    }

    /// The branches as one [`BranchesMap`] of their layers' maps `map(layer, input shape)`;
    /// `None` when a layer has none.
    fn branches_map<'a>(
        &'a self,
        input: &Shape,
        map: impl Fn(&'a Layer, &Shape) -> Option<Box<dyn BlockMap + 'a>>,
    ) -> Option<Box<dyn BlockMap + 'a>> {
        let mut branches = Vec::with_capacity(self.branches.len());
        for (b, layers) in self.branches.iter().enumerate() {
            let shapes = self.branch_shapes(b, input).ok()?;
            let maps = layers
                .iter()
                .zip(&shapes)
                .map(|(l, s)| map(l, s))
                .collect::<Option<Vec<_>>>()?;
            branches.push(maps);
        }
        Some(Box::new(BranchesMap {
            branches,
            combine: self.combine,
        }))
    }

    /// What branch `b` is called in messages.
    fn branch_name(&self, b: usize) -> String {
        match (self.residual, b) {
            (true, 0) => "block".into(),
            (true, _) => "shortcut".into(),
            (false, b) => format!("branches[{b}]"),
        }
    }

    /// The feature shapes along branch `b` from `input`: `shapes[i]` enters its layer `i`, the
    /// last is its output.
    fn branch_shapes(&self, b: usize, input: &Shape) -> Result<Vec<Shape>, String> {
        let mut shapes = vec![input.clone()];
        for (i, layer) in self.branches[b].iter().enumerate() {
            if layer.lifts_to().is_some() {
                return Err(format!(
                    "{}[{i}] (lift): a lifting acts on the network's input; it cannot sit in a \
                     branch",
                    self.branch_name(b)
                ));
            }
            if layer.closes_group_section()
                && matches!(shapes[i].lifted, Some(GroupSpec::So2 { .. }))
            {
                return Err(format!(
                    "{}[{i}] ({}): SO2 features are pooled after the block, not inside a branch",
                    self.branch_name(b),
                    layer.kind()
                ));
            }
            let next = layer
                .output_shape(&shapes[i])
                .map_err(|m| format!("{}[{i}] ({}): {m}", self.branch_name(b), layer.kind()))?;
            shapes.push(next);
        }
        Ok(shapes)
    }
}

impl LayerKind for Parallel {
    fn taps(&self) -> usize {
        self.branches
            .iter()
            .flatten()
            .fold(0usize, |a, l| a.saturating_add(l.taps()))
            .max(1)
    }

    fn kind(&self) -> &'static str {
        if self.residual {
            "residual"
        } else {
            "parallel"
        }
    }

    /// Every branch's output shape; they must agree in their sites (grid and group).
    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        let mut out: Option<(usize, Shape)> = None;
        for b in 0..self.branches.len() {
            let shape = self
                .branch_shapes(b, input)?
                .pop()
                .expect("the input shape");
            match &out {
                None => out = Some((b, shape)),
                Some((first, s)) => {
                    if (&s.grid, s.lifted) != (&shape.grid, shape.lifted) {
                        return Err(format!(
                            "{} ends with features of grid {:?}{} but {} with grid {:?}{}; the \
                             branches must have the same output shape",
                            self.branch_name(*first),
                            s.grid,
                            s.lifted.map_or(String::new(), |g| format!(" on {g}")),
                            self.branch_name(b),
                            shape.grid,
                            shape.lifted.map_or(String::new(), |g| format!(" on {g}")),
                        ));
                    }
                    if s.channels != shape.channels {
                        out = Some((*first, s.with_channels(None)));
                    }
                }
            }
        }
        Ok(out.expect("at least one branch").1)
    }

    /// The strongest need of the first layer of each branch that has one.
    fn site_need(&self) -> SiteNeed {
        let needs: Vec<SiteNeed> = self
            .branches
            .iter()
            .filter_map(|br| {
                br.iter()
                    .map(|l| l.site_need())
                    .find(|n| *n != SiteNeed::Any)
            })
            .collect();
        if needs.contains(&SiteNeed::Full) {
            SiteNeed::Full
        } else if needs.contains(&SiteNeed::Diagonal) {
            SiteNeed::Diagonal
        } else {
            SiteNeed::Any
        }
    }

    /// One pairwise map when every layer of every branch is a pairwise map that works on site
    /// diagonals too ([`SiteNeed::Any`]): then the self-covariance diagonals each inner layer
    /// reads follow from the incoming ones (`BranchesMap`). Branches with pooling read
    /// off-diagonal self-covariances and go through [`LayerKind::apply_kernel`] instead.
    fn block_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        self.branches_map(input, |l, s| {
            (l.site_need() == SiteNeed::Any).then(|| l.block_map(s))?
        })
    }

    /// Each branch folded over `k` (its runs of pairwise layers fused), then combined; one
    /// pass when the branches are a pairwise map ([`Parallel::block_map`]).
    fn apply_kernel(&self, k: Kernel, input: &Shape) -> Result<Kernel> {
        if let Some(m) = self.block_map(input) {
            return Ok(k.map(&*m));
        }
        let last = self.branches.len() - 1;
        let mut k = Some(k);
        let mut outs = Vec::with_capacity(self.branches.len());
        for b in 0..self.branches.len() {
            let shapes = self.branch_shapes(b, input).map_err(Error::Spec)?;
            let kb = if b == last {
                k.take().expect("the last branch takes the input")
            } else {
                k.clone().expect("kept for the last branch")
            };
            outs.push(fold_branch(&self.branches[b], &shapes, kb)?);
        }
        Ok(Kernel::combine(outs, self.combine))
    }

    /// On SO(2) features every branch acts pointwise in the relative angle, so the block is
    /// the branches' SO(2) maps combined at each angle, the self-covariances `K(0)(x, x)`
    /// carried along as in [`Parallel::block_map`].
    fn so2_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        self.branches_map(input, |l, s| l.so2_map(s))
    }

    /// The same block with every branch layer discretised (a group convolution becomes the
    /// circular convolution of all N taps).
    fn so2_discretised(&self, angles: usize) -> Option<Layer> {
        let branches = self
            .branches
            .iter()
            .map(|layers| {
                layers
                    .iter()
                    .map(|l| l.so2_discretised(angles).unwrap_or_else(|| l.clone()))
                    .collect()
            })
            .collect();
        Some(Layer::new(Parallel {
            branches,
            combine: self.combine,
            residual: self.residual,
        }))
    }

    fn branches(&self) -> Option<(&[Vec<Layer>], Combine)> {
        Some((&self.branches, self.combine))
    }

    /// Branches that do not end with an affine layer (their own fresh weights) are functions
    /// of the same input: with two or more of them, the entrywise rule is not the kernel of the
    /// finite networks (neural-tangents warns alike).
    fn caveats(&self) -> Vec<String> {
        let open: Vec<String> = (0..self.branches.len())
            .filter(|&b| {
                self.branches[b]
                    .last()
                    .is_none_or(|l| l.weights().is_none() || l.lifts_to().is_some())
            })
            .map(|b| self.branch_name(b))
            .collect();
        if open.len() < 2 {
            return vec![];
        }
        vec![format!(
            "{} do not end with a dense or conv layer, so their outputs are correlated; the \
             kernel treats the branches as independent (as neural-tangents does) and differs \
             from that of finite networks",
            open.join(" and ")
        )]
    }

    fn parameters(&self) -> Vec<(&'static str, f64)> {
        self.branches
            .iter()
            .flatten()
            .flat_map(|l| l.parameters())
            .collect()
    }

    /// Composite layers are derived layer by layer of their branches, then the combination
    /// ([`crate::symbolic::derive_network`] numbers them); this single-layer face is empty.
    fn derive(&self, _l: usize, _input: &Shape) -> LayerDefinitions {
        LayerDefinitions::new(vec![])
    }

    fn is_linear(&self) -> bool {
        self.combine == Combine::Sum && self.branches.iter().flatten().all(|l| l.is_linear())
    }

    fn finite_pass(
        &self,
        input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        let mut branches = Vec::with_capacity(self.branches.len());
        let mut ch_out: Option<(usize, usize)> = None;
        for (b, layers) in self.branches.iter().enumerate() {
            let shapes = self.branch_shapes(b, input).map_err(Error::Spec)?;
            let mut ch = builder.ch_in;
            let mut ops = Vec::with_capacity(layers.len());
            for (i, layer) in layers.iter().enumerate() {
                let mut inner = FiniteBuilder {
                    rng: &mut *builder.rng,
                    params: &mut *builder.params,
                    ch_in: ch,
                    ch_out_affine: builder.ch_out_affine,
                };
                let (pass, out) = layer.finite_pass(&shapes[i], &mut inner)?;
                ops.push((
                    Arc::<dyn FinitePass>::from(pass),
                    OpDims {
                        sites_in: shapes[i].sites(),
                        ch_in: ch,
                        sites_out: shapes[i + 1].sites(),
                        ch_out: out,
                    },
                ));
                ch = out;
            }
            match ch_out {
                None => ch_out = Some((b, ch)),
                Some((first, c)) if c != ch => {
                    return Err(Error::Invalid(format!(
                        "{}: {} ends with {c} channels per site in a finite network but {} with \
                         {ch}; give the shorter path an affine layer (a projection) so that \
                         both have the network's width",
                        self.kind(),
                        self.branch_name(first),
                        self.branch_name(b)
                    )))
                }
                Some(_) => {}
            }
            branches.push(ops);
        }
        let ch = ch_out.expect("at least one branch").1;
        Ok((
            Box::new(ParallelPass {
                branches,
                combine: self.combine,
            }),
            ch,
        ))
    }

    fn summary(&self) -> String {
        let list = |b: &[Layer]| {
            if b.is_empty() {
                "identity".to_string()
            } else {
                b.iter().map(|l| l.summary()).collect::<Vec<_>>().join(", ")
            }
        };
        if self.residual {
            format!(
                "residual (block: {}; shortcut: {})",
                list(&self.branches[0]),
                list(&self.branches[1])
            )
        } else {
            let parts: Vec<String> = self
                .branches
                .iter()
                .map(|b| format!("[{}]", list(b)))
                .collect();
            format!("parallel {} of {}", self.combine.name(), parts.join(", "))
        }
    }
}

/// `layers` applied to `k` in order (`shapes[i]` enters layer `i`): each run of pairwise layers
/// in one fused pass, composite layers through their own [`LayerKind::apply_kernel`].
fn fold_branch(layers: &[Layer], shapes: &[Shape], mut k: Kernel) -> Result<Kernel> {
    let mut l = 0;
    while l < layers.len() {
        let mut maps: Vec<Box<dyn BlockMap + '_>> = vec![];
        while let Some(m) = layers.get(l).and_then(|layer| layer.block_map(&shapes[l])) {
            maps.push(m);
            l += 1;
        }
        if maps.is_empty() {
            k = layers[l].kernel(k, &shapes[l])?;
            l += 1;
        } else {
            let refs: Vec<&dyn BlockMap> = maps.iter().map(|m| &**m).collect();
            k = k.map_chain(&refs);
        }
    }
    Ok(k)
}

/// Branches of pairwise maps as one pairwise map: each example pair's blocks go through every
/// branch in per-thread buffers and are combined, and the site diagonals of the two
/// self-covariances that each inner layer reads are carried along by applying the layer to them
/// in diagonal mode (exact for layers that work on site diagonals, [`SiteNeed::Any`]).
struct BranchesMap<'a> {
    branches: Vec<Vec<Box<dyn BlockMap + 'a>>>,
    combine: Combine,
}

thread_local! {
    /// Reused buffers of [`BranchesMap::apply`] (taken while in use, so nesting is safe).
    static BRANCH_BUFFERS: std::cell::RefCell<Vec<Vec<f64>>> = Default::default();
}

/// `v` resized to `n` values (contents unspecified).
fn sized(v: &mut Vec<f64>, n: usize) -> &mut [f64] {
    v.resize(n, 0.0);
    &mut v[..n]
}

impl BlockMap for BranchesMap<'_> {
    fn sites_out(&self, sites_in: usize) -> usize {
        self.branches[0]
            .iter()
            .fold(sites_in, |s, m| m.sites_out(s))
    }

    fn apply(
        &self,
        full: bool,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        k_out: &mut [f64],
        mut t_out: Option<&mut [f64]>,
    ) {
        let mut bufs = BRANCH_BUFFERS.with(|b| std::mem::take(&mut *b.borrow_mut()));
        bufs.resize_with(8, Vec::new);
        let [ka, kb, ta, tb, da1, db1, da2, db2] = &mut bufs[..] else {
            unreachable!("eight buffers")
        };
        for (b, maps) in self.branches.iter().enumerate() {
            // The first layer reads the input itself, then the `a` and `b` buffers ping-pong.
            let mut sites = d1.len();
            for (l, m) in maps.iter().enumerate() {
                let out = m.sites_out(sites);
                let blen = if full { out * out } else { out };
                let (kin, tin, din1, din2): (&[f64], _, &[f64], &[f64]) = if l == 0 {
                    (k, t, d1, d2)
                } else {
                    (ka, t.map(|_| &ta[..]), da1, da2)
                };
                m.apply(
                    full,
                    kin,
                    tin,
                    din1,
                    din2,
                    sized(kb, blen),
                    t.map(|_| sized(tb, blen)),
                );
                // The self-covariance diagonals after the layer: its map on the diagonals.
                m.apply(false, din1, None, din1, din1, sized(db1, out), None);
                m.apply(false, din2, None, din2, din2, sized(db2, out), None);
                std::mem::swap(ka, kb);
                std::mem::swap(ta, tb);
                std::mem::swap(da1, db1);
                std::mem::swap(da2, db2);
                sites = out;
            }
            let n = k_out.len();
            let (kr, tr): (&[f64], Option<&[f64]>) = if maps.is_empty() {
                (k, t)
            } else {
                (&ka[..n], t.map(|_| &ta[..n]))
            };
            if b == 0 {
                k_out.copy_from_slice(kr);
                if let (Some(to), Some(tr)) = (t_out.as_deref_mut(), tr) {
                    to.copy_from_slice(tr);
                }
                continue;
            }
            match self.combine {
                Combine::Sum => {
                    k_out.iter_mut().zip(kr).for_each(|(o, v)| *o += v);
                    if let (Some(to), Some(tr)) = (t_out.as_deref_mut(), tr) {
                        to.iter_mut().zip(tr).for_each(|(o, v)| *o += v);
                    }
                }
                Combine::Prod => {
                    // Θ ← Θ·K_b + K·Θ_b before K ← K·K_b.
                    if let (Some(to), Some(tr)) = (t_out.as_deref_mut(), tr) {
                        for (((o, tb), ko), kb) in to.iter_mut().zip(tr).zip(&*k_out).zip(kr) {
                            *o = *o * kb + ko * tb;
                        }
                    }
                    k_out.iter_mut().zip(kr).for_each(|(o, v)| *o *= v);
                }
            }
        }
        if let Some(to) = t_out.filter(|_| t.is_none()) {
            to.fill(0.0);
        }
        BRANCH_BUFFERS.with(|b| *b.borrow_mut() = bufs);
    }
}

/// The finite pass of parallel branches: each branch's passes in order, outputs combined.
#[derive(Debug)]
struct ParallelPass {
    branches: Vec<Vec<(Arc<dyn FinitePass>, OpDims)>>,
    combine: Combine,
}

/// One branch's forward pass from `h`: every pass's input and cache, and the output.
type BranchTrace = (Vec<Vec<f64>>, Vec<Option<Vec<f64>>>, Vec<f64>);

impl ParallelPass {
    fn run(&self, params: &[f64], b: usize, h: &[f64]) -> BranchTrace {
        let (mut inputs, mut caches) = (vec![], vec![]);
        let mut x = h.to_vec();
        for (pass, dims) in &self.branches[b] {
            let (out, cache) = pass.forward(params, dims, &x);
            inputs.push(std::mem::replace(&mut x, out));
            caches.push(cache);
        }
        (inputs, caches, x)
    }
}

impl FinitePass for ParallelPass {
    fn forward(&self, params: &[f64], _dims: &OpDims, h: &[f64]) -> (Vec<f64>, Option<Vec<f64>>) {
        let mut out: Option<Vec<f64>> = None;
        for b in 0..self.branches.len() {
            let y = self.run(params, b, h).2;
            out = Some(match out {
                None => y,
                Some(mut acc) => {
                    for (a, v) in acc.iter_mut().zip(&y) {
                        match self.combine {
                            Combine::Sum => *a += v,
                            Combine::Prod => *a *= v,
                        }
                    }
                    acc
                }
            });
        }
        // The backward pass runs the branches again rather than caching their traces.
        (out.expect("at least one branch"), None)
    }

    fn backward(
        &self,
        params: &[f64],
        _dims: &OpDims,
        h: &[f64],
        _cache: Option<&[f64]>,
        g: Vec<f64>,
        grad: &mut [f64],
        accumulate: bool,
        need_input: bool,
    ) -> Vec<f64> {
        let traces: Vec<BranchTrace> = (0..self.branches.len())
            .map(|b| self.run(params, b, h))
            .collect();
        let mut g_in = if need_input {
            vec![0.0; h.len()]
        } else {
            vec![]
        };
        for (b, (inputs, caches, _)) in traces.iter().enumerate() {
            // The cotangent of branch b's output: g, times the other outputs for a product.
            let mut gb = g.clone();
            if self.combine == Combine::Prod {
                for (c, (_, _, y)) in traces.iter().enumerate() {
                    if c != b {
                        gb.iter_mut().zip(y).for_each(|(a, v)| *a *= v);
                    }
                }
            }
            for (i, (pass, dims)) in self.branches[b].iter().enumerate().rev() {
                gb = pass.backward(
                    params,
                    dims,
                    &inputs[i],
                    caches[i].as_deref(),
                    gb,
                    grad,
                    accumulate,
                    i > 0 || need_input,
                );
            }
            if need_input {
                g_in.iter_mut().zip(&gb).for_each(|(a, v)| *a += v);
            }
        }
        g_in
    }
}

/// The combination node of a composite layer in a network's derivation: `K⁽ˡ⁾` from the
/// branches' output kernels `K⁽ᵃ⁾, K⁽ᵇ⁾, …` (layers numbered by
/// [`crate::Network::nodes`]; an identity branch's output is the composite's input).
///
/// Only derivations hold it: the kernel and finite faces belong to [`Parallel`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Combination {
    /// How the branches combine.
    pub combine: Combine,
    /// The layers whose kernels are combined, one per branch.
    pub inputs: Vec<usize>,
}

impl LayerKind for Combination {
    fn keeps_right_invariance(&self) -> bool {
        // Sums and products of right-invariant branch kernels are right-invariant.
        true
    }

    fn kind(&self) -> &'static str {
        match self.combine {
            Combine::Sum => "fan_in_sum",
            Combine::Prod => "fan_in_prod",
        }
    }

    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        Ok(input.clone())
    }

    fn block_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        None
    }

    /// `K⁽ˡ⁾ = Σ_b K⁽ᵇ⁾`, `Θ⁽ˡ⁾ = Σ_b Θ⁽ᵇ⁾`; for a product `K⁽ˡ⁾ = Π_b K⁽ᵇ⁾` and
    /// `Θ⁽ˡ⁾ = Σ_b Θ⁽ᵇ⁾ Π_{c≠b} K⁽ᶜ⁾`, at the sites of `input` (MATH.md §5b).
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let sites = Sites::of(input);
        let at = |kind, layer| -> Expr { site_sym(kind, layer, sites).into() };
        let note = format!("{} of branches", self.combine.name());
        let (k_rhs, t_rhs) = match self.combine {
            Combine::Sum => (
                Expr::Add(
                    self.inputs
                        .iter()
                        .map(|&a| at(KernelKind::Nngp, a))
                        .collect(),
                ),
                Expr::Add(
                    self.inputs
                        .iter()
                        .map(|&a| at(KernelKind::Ntk, a))
                        .collect(),
                ),
            ),
            Combine::Prod => (
                Expr::Mul(
                    self.inputs
                        .iter()
                        .map(|&a| at(KernelKind::Nngp, a))
                        .collect(),
                ),
                Expr::Add(
                    (0..self.inputs.len())
                        .map(|b| {
                            Expr::Mul(
                                self.inputs
                                    .iter()
                                    .enumerate()
                                    .map(|(c, &a)| {
                                        let kind = if c == b {
                                            KernelKind::Ntk
                                        } else {
                                            KernelKind::Nngp
                                        };
                                        at(kind, a)
                                    })
                                    .collect(),
                            )
                        })
                        .collect(),
                ),
            ),
        };
        LayerDefinitions::new(vec![
            (site_sym(KernelKind::Nngp, l, sites), k_rhs, note.clone()),
            (site_sym(KernelKind::Ntk, l, sites), t_rhs, note),
        ])
    }

    fn is_linear(&self) -> bool {
        self.combine == Combine::Sum
    }

    fn finite_pass(
        &self,
        _input: &Shape,
        _builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        Err(Error::Invalid(
            "a combination node belongs to a derivation; sample the network with its parallel \
             layer"
                .into(),
        ))
    }
}
