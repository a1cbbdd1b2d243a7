//! Networks: a serial composition of layers, and the kernel as a fold over them.

mod quadrature;
mod so2;
mod spec;

pub use quadrature::QuadratureReport;
pub use so2::{KernelReport, So2Grid, So2Report};

use crate::action::{action_for, Domain, InputAction};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::GroupSpec;
use crate::kernel::{BlockMap, Kernel};
use crate::layer::{Combination, Layer, ReducedGroupRun, Shape, SiteNeed};

/// A serial network: an input shape and a list of layers, checked to fit together.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    input: Vec<usize>,
    /// What one example is (MATH.md §5a); group actions on inputs follow it.
    domain: Domain,
    layers: Vec<Layer>,
    /// `shapes[0]` is the input; `shapes[l + 1]` the output of layer `l`.
    shapes: Vec<Shape>,
    /// Whether the kernel keeps every site pair (needed by pooling) or only the diagonal.
    full: bool,
    /// The layers with composite ones opened into their branches ([`Network::nodes`]).
    nodes: Vec<Node>,
}

/// One layer of a network's derivation: the network's layers with every composite layer
/// (`parallel`, `residual`) opened into the layers of its branches, then a [`Combination`].
///
/// Nodes are numbered from 1 in this order (node 0 is the input); node `l` defines `K⁽ˡ⁾`, `Θ⁽ˡ⁾`
/// from the kernels of `inputs` — the node before it, except for the first layer of a branch
/// (the composite's input) and for a combination (the branches' last nodes). A network without
/// composite layers has one node per layer, each reading the one before.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The layer (a [`Combination`] for the end of a composite).
    pub layer: Layer,
    /// The nodes whose kernels this node reads (one, or one per branch for a combination).
    pub inputs: Vec<usize>,
    /// For a single-input layer, the node it reads: what its own derivation calls `K⁽ˡ⁻¹⁾`.
    /// `None` for a combination, whose definitions name their inputs.
    pub from: Option<usize>,
    /// The feature shape entering the node (for a combination: the branches' output).
    pub shape_in: Shape,
    /// The feature shape leaving it.
    pub shape_out: Shape,
}

/// Append the nodes of `layers` (entered with features `shape` from node `from`) to `nodes`;
/// returns the last node (`from` when `layers` is empty: the identity).
fn open_layers(layers: &[Layer], mut shape: Shape, from: usize, nodes: &mut Vec<Node>) -> usize {
    let mut at = from;
    for layer in layers {
        let out = layer
            .output_shape(&shape)
            .expect("shapes were checked when the network was built");
        match layer.branches() {
            Some((branches, combine)) => {
                let ends: Vec<usize> = branches
                    .iter()
                    .map(|b| open_layers(b, shape.clone(), at, nodes))
                    .collect();
                nodes.push(Node {
                    layer: Layer::new(Combination {
                        combine,
                        inputs: ends.clone(),
                    }),
                    inputs: ends,
                    from: None,
                    shape_in: out.clone(),
                    shape_out: out.clone(),
                });
            }
            None => nodes.push(Node {
                layer: layer.clone(),
                inputs: vec![at],
                from: Some(at),
                shape_in: shape.clone(),
                shape_out: out.clone(),
            }),
        }
        at = nodes.len();
        shape = out;
    }
    at
}

impl Network {
    /// A network on examples of shape `input` (`[D]`, `[W, C]` or `[H, W, C]`).
    ///
    /// Errors name the layer (`layers[i] (kind): …`) when a layer does not fit its input.
    /// The input domain is the default for the shape ([`Domain::default_for`]: `[D]` a vector,
    /// `[n, C]` a periodic signal, `[H, W, C]` an image); see [`Network::on_domain`].
    pub fn new(input: Vec<usize>, layers: Vec<Layer>) -> Result<Self> {
        let domain = Domain::default_for(&input).unwrap_or(Domain::Vector);
        Self::on_domain(input, domain, layers)
    }

    /// A network on examples of shape `input` in the declared `domain` (e.g. planar point sets
    /// `[P, 2]`, which are never defaulted). A lifting first layer must act on the domain as
    /// [`crate::action::action_for`] says: SO2 by rotations, finite groups by permuting sites.
    pub fn on_domain(input: Vec<usize>, domain: Domain, layers: Vec<Layer>) -> Result<Self> {
        if input.is_empty() || input.len() > 3 || input.contains(&0) {
            return Err(Error::Spec(format!(
                "input shape must be [D], [W, C] or [H, W, C] with positive sizes, got {input:?}"
            )));
        }
        let mut shapes = vec![Shape::from_input(&input)];
        for (i, layer) in layers.iter().enumerate() {
            let next = layer
                .output_shape(&shapes[i])
                .map_err(|m| Error::Spec(format!("layers[{i}] ({}): {m}", layer.kind())))?;
            shapes.push(next);
            if i > 0 && layer.is_so2_section(&shapes[i]) && shapes[i].lifted.is_none() {
                return Err(Error::Spec(format!(
                    "layers[{i}] (lift): an SO2 lifting must be the first layer (SO2 acts on \
                     the network's input)"
                )));
            }
        }
        if let Some(GroupSpec::So2 { .. }) = shapes.last().and_then(|s| s.lifted) {
            let i = layers.len() - 1;
            return Err(Error::Spec(format!(
                "layers[{i}] ({}): SO2 features must be pooled with group_pool before the \
                 network ends",
                layers[i].kind()
            )));
        }
        // The first layer that reads several sites decides how much of the kernel to keep.
        let full = layers
            .iter()
            .zip(&shapes)
            .find_map(|(l, s)| match l.site_need() {
                SiteNeed::Full if s.sites() > 1 => Some(true),
                SiteNeed::Diagonal if s.sites() > 1 => Some(false),
                _ => None,
            })
            .unwrap_or(true);
        domain.check_shape(&input).map_err(Error::Spec)?;
        if let Some(group) = layers.first().and_then(|l| l.lifts_to()) {
            let fits = match action_for(group, domain, &input) {
                Ok(InputAction::Continuous { .. }) => Ok(()),
                Ok(InputAction::Sites(_)) if !matches!(group, GroupSpec::So2 { .. }) => Ok(()),
                Ok(a) => Err(format!(
                    "{} acts on {domain} inputs by rotating them, which a {group} lifting (a \
                     permutation of input sites) does not represent",
                    a.name(),
                )),
                Err(e) => Err(e.to_string()),
            };
            fits.map_err(|m| Error::Spec(format!("layers[0] (lift): {m}")))?;
        }
        let mut nodes = vec![];
        open_layers(&layers, shapes[0].clone(), 0, &mut nodes);
        Ok(Self {
            input,
            domain,
            layers,
            shapes,
            full,
            nodes,
        })
    }

    /// Every layer's [`crate::layer::LayerKind::caveats`], each prefixed with the layer
    /// (`layers[i] (kind): …`).
    pub fn caveats(&self) -> Vec<String> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.caveats()
                    .into_iter()
                    .map(move |c| format!("layers[{i}] ({}): {c}", l.kind()))
            })
            .collect()
    }

    /// The layers with composite layers opened into their branches, in derivation order
    /// (`Node`); node `l` (1-based) is `nodes()[l - 1]`.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The shape of one input example.
    pub fn input_shape(&self) -> &[usize] {
        &self.input
    }

    /// The declared (or defaulted) input domain.
    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The feature shape before layer `l` (`l = layers().len()` gives the output shape).
    pub fn shape_before(&self, l: usize) -> &Shape {
        &self.shapes[l]
    }

    /// Whether kernels keep every site pair (true) or only the site diagonal.
    pub fn keeps_full_sites(&self) -> bool {
        self.full
    }

    /// Check that a batch fits the input shape.
    pub fn check_batch(&self, x: &Batch, name: &str) -> Result<()> {
        if x.shape() != self.input.as_slice() {
            return Err(Error::Shape(format!(
                "{name} examples have shape {:?} but the network's input shape is {:?}",
                x.shape(),
                self.input
            )));
        }
        Ok(())
    }

    /// The input kernel of `x1` and `x2` (`None`: `x2 = x1`) in this network's site layout.
    pub fn input_kernel(&self, x1: &Batch, x2: Option<&Batch>) -> Result<Kernel> {
        self.check_batch(x1, "x1")?;
        if let Some(x2) = x2 {
            self.check_batch(x2, "x2")?;
        }
        Kernel::input(x1, x2, self.full)
    }

    /// The NNGP and NTK of the network: the fold of every layer's kernel map over the input
    /// kernel `(K⁰, 0)` (MATH.md §1).
    ///
    /// A network starting with an SO(2) lifting is evaluated on an angular grid from the lifting
    /// to its `group_pool` (see [`So2Report`]; [`Network::kernel_report`] also returns the
    /// grid's aliasing estimate), then layer by layer.
    pub fn kernel(&self, x1: &Batch, x2: Option<&Batch>) -> Result<Kernel> {
        Ok(self.kernel_report(x1, x2)?.kernel)
    }

    /// [`Network::kernel`], with how it was evaluated: for an SO(2) G-CNN, the number of grid
    /// angles and the aliasing estimate of the pooled kernel (relative, at most the lift's
    /// `tol`); for written activations, the worst quadrature error estimate
    /// ([`QuadratureReport`], over every evaluation since the network was built or
    /// [`Network::reset_quadrature`]).
    ///
    /// A kernel that overflows is [`Error::NonFinite`] naming the first layer whose output is
    /// not finite and its parameters (an SO(2) angular section counts as one).
    pub fn kernel_report(&self, x1: &Batch, x2: Option<&Batch>) -> Result<KernelReport> {
        self.check_batch(x1, "x1")?;
        if let Some(x2) = x2 {
            self.check_batch(x2, "x2")?;
        }
        crate::budget::check_kernel(self, x1.len(), x2.map_or(x1.len(), |x| x.len()))?;
        match self.fused_kernel_report(x1, x2) {
            // The fused pass only sees the end of each run of layers: on this error path the
            // layers run again one at a time, so that the error names the one that broke.
            Err(e @ Error::NonFinite { .. }) => Err(self.first_non_finite(x1, x2).unwrap_or(e)),
            other => other,
        }
    }

    /// The kernel with each run of pairwise layers fused into one pass.
    fn fused_kernel_report(&self, x1: &Batch, x2: Option<&Batch>) -> Result<KernelReport> {
        if let Some(pool) = self.so2_pool() {
            let (k, report) = self.so2_pooled_kernel(x1, x2, pool)?;
            let k = k.finite_after(&self.layers[..=pool], 0)?;
            return Ok(KernelReport {
                kernel: self.apply_finite(k, pool + 1)?.complete(),
                so2: Some(report),
                quadrature: self.quadrature_reports(),
            });
        }
        // The leading run of pairwise layers is fused with the input kernel.
        let lead = self.pairwise_run(0, self.layers.len());
        let maps = self.block_maps(0, lead);
        let refs: Vec<&dyn BlockMap> = maps.iter().map(|m| &**m).collect();
        let k = Kernel::input_mapped(x1, x2, self.full, &refs)?
            .finite_after(&self.layers[..lead], 0)?;
        Ok(KernelReport {
            kernel: self.apply_finite(k, lead)?.complete(),
            so2: None,
            quadrature: self.quadrature_reports(),
        })
    }

    /// The [`Error::NonFinite`] of the first layer (or the SO(2) section) whose kernel is not
    /// finite when the layers are applied one at a time; `None` if every layer's is.
    fn first_non_finite(&self, x1: &Batch, x2: Option<&Batch>) -> Option<Error> {
        let (mut k, from) = match self.so2_pool() {
            Some(pool) => {
                let (k, _) = self.so2_pooled_kernel(x1, x2, pool).ok()?;
                match k.finite_after(&self.layers[..=pool], 0) {
                    Ok(k) => (k, pool + 1),
                    Err(e) => return Some(e),
                }
            }
            None => match Kernel::input_mapped(x1, x2, self.full, &[])
                .ok()?
                .finite_after(&[], 0)
            {
                Ok(k) => (k, 0),
                Err(e) => return Some(e),
            },
        };
        for l in from..self.layers.len() {
            k = match self
                .apply_layers(k, l, l + 1)
                .map(|k| k.finite_after(&self.layers[l..=l], l))
            {
                Ok(Ok(k)) => k,
                Ok(Err(e)) => return Some(self.with_upstream_scale(e, l)),
                Err(_) => return None,
            };
        }
        None
    }

    /// A layer without parameters of its own broke on the kernel entering it: the cause also
    /// names the largest scale before it, the likely driver.
    fn with_upstream_scale(&self, e: Error, l: usize) -> Error {
        let Error::NonFinite {
            layer,
            quantity,
            cause,
        } = e
        else {
            return e;
        };
        let largest = self.layers[..l]
            .iter()
            .enumerate()
            .flat_map(|(i, lay)| {
                lay.parameters()
                    .into_iter()
                    .map(move |(n, v)| (i, lay, n, v))
            })
            .max_by(|a, b| a.3.abs().total_cmp(&b.3.abs()));
        let cause = match largest {
            Some((i, lay, name, v)) if self.layers[l].parameters().is_empty() => format!(
                "{cause}; the largest scale before it is {name} = {} in layers[{i}] ({})",
                crate::symbolic::print::compact_number(v),
                lay.kind()
            ),
            _ => cause,
        };
        Error::NonFinite {
            layer,
            quantity,
            cause,
        }
    }

    /// [`Network::apply_layers`] from `from` to the end, one run of fused layers at a time,
    /// checking after each that the kernel is finite ([`Kernel::finite_after`]).
    fn apply_finite(&self, mut k: Kernel, from: usize) -> Result<Kernel> {
        let mut l = from;
        while l < self.layers.len() {
            let end = self.pairwise_run(l, self.layers.len()).max(l + 1);
            k = self
                .apply_layers(k, l, end)?
                .finite_after(&self.layers[l..end], l)?;
            l = end;
        }
        Ok(k)
    }

    /// Apply layers `from..to` to a kernel whose sites are those before layer `from`; each run
    /// of pairwise layers is applied in one fused pass ([`Kernel::map_chain`]).
    ///
    /// Errors if the range holds layers of an SO(2) angular section
    /// ([`Layer::is_so2_section`]), which only [`Network::kernel`] evaluates.
    pub fn apply_layers(&self, mut k: Kernel, from: usize, to: usize) -> Result<Kernel> {
        let mut l = from;
        while l < to {
            let end = self.pairwise_run(l, to);
            if end == l {
                k = self.layers[l].kernel(k, &self.shapes[l])?;
                l += 1;
            } else {
                let maps = self.block_maps(l, end);
                let refs: Vec<&dyn BlockMap> = maps.iter().map(|m| &**m).collect();
                k = k.map_chain(&refs);
                l = end;
            }
        }
        Ok(k)
    }

    /// The end of the run of layers from `from` (below `to`) that are pairwise block maps.
    fn pairwise_run(&self, from: usize, to: usize) -> usize {
        (from..to)
            .find(|&l| self.layers[l].block_map(&self.shapes[l]).is_none())
            .unwrap_or(to)
    }

    /// The maps of layers `from..to`; with full site pairs, each run from a lift to a group
    /// pooling that keeps kernels right-invariant becomes one [`ReducedGroupRun`].
    fn block_maps(&self, from: usize, to: usize) -> Vec<Box<dyn BlockMap + '_>> {
        let mut maps: Vec<Box<dyn BlockMap + '_>> = vec![];
        let mut l = from;
        while l < to {
            if self.full {
                let found = ReducedGroupRun::find(&self.layers[l..to], &self.shapes[l..]);
                if let Some((len, run)) = found {
                    maps.push(Box::new(run));
                    l += len;
                    continue;
                }
            }
            maps.push(
                self.layers[l]
                    .block_map(&self.shapes[l])
                    .expect("a pairwise layer"),
            );
            l += 1;
        }
        maps
    }

    /// Whether [`Network::kernel`] computes layers `from..` (from a lift up to its pooling) on
    /// right-invariant reduced blocks (`ReducedGroupRun`) rather than on full site pairs.
    pub fn uses_reduced_group_run(&self, from: usize) -> bool {
        self.full
            && from <= self.layers.len()
            && ReducedGroupRun::find(&self.layers[from..], &self.shapes[from..]).is_some()
    }
}
