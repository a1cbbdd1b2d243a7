//! Layers: values that know their kernel map, their derivation and their finite-width pass.
//!
//! As in neural-tangents, a layer is a value and a network is a fold over layers. Each layer
//! kind lives in one file that holds every face of it, behind the [`LayerKind`] trait:
//!
//! * its network-file keys (`parse`, registered in [`REGISTRY`]),
//! * the shape of its output and what it needs of the incoming kernel,
//! * its kernel map `(K, Θ) → (K', Θ')` on one example pair's block (MATH.md §2–5),
//! * its recursion as symbolic definitions ([`LayerKind::derive`]), which the derivation
//!   printer and the interpreter use,
//! * its finite-width forward and backward pass ([`LayerKind::finite_pass`]), for Monte Carlo.
//!
//! A new kind is one new file with one `impl LayerKind` and one line in [`REGISTRY`]; nothing
//! else in the crate matches on layer kinds. Affine kinds (dense, conv, lift, group_conv)
//! share their σ_w, σ_b, width and parameterisation through one [`Weights`] value.

pub(crate) mod activation;
pub(crate) mod adaptive_quadrature;
pub(crate) mod affine;
pub(crate) mod conv;
pub(crate) mod dense;
pub(crate) mod dual;
pub(crate) mod elementwise;
pub(crate) mod flatten;
pub(crate) mod global_avg_pool;
pub(crate) mod global_sum_pool;
pub(crate) mod group_conv;
pub(crate) mod group_pool;
pub(crate) mod keys;
pub(crate) mod layer_norm;
pub(crate) mod lift;
pub(crate) mod parallel;
pub(crate) mod pool;
pub(crate) mod quadrature;
pub(crate) mod reduced;
pub(crate) mod separable;
pub(crate) mod shape;
pub(crate) mod simd;
pub(crate) mod taps;
pub(crate) mod window;
pub(crate) mod window_pool;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

pub use activation::Activation;
pub use adaptive_quadrature::{PairEstimate, Tolerance};
pub use affine::{Parameterization, Weights};
pub use conv::{Conv, Padding};
pub use dense::Dense;
pub use flatten::Flatten;
pub use global_avg_pool::GlobalAvgPool;
pub use global_sum_pool::GlobalSumPool;
pub use group_conv::GroupConv;
pub use group_pool::GroupPool;
pub use keys::Keys;
pub use layer_norm::LayerNorm;
pub use lift::{Lift, LiftFilter};
pub(crate) use parallel::Combination;
pub use parallel::{Combine, Parallel};
pub(crate) use reduced::ReducedGroupRun;
pub use reduced::ReducedStep;
pub use shape::Shape;

pub use window_pool::{PoolOp, WindowPool};

use crate::error::{Error, Result};
use crate::finite::{FiniteBuilder, FinitePass};
use crate::group::GroupSpec;
use crate::kernel::{BlockMap, Kernel};
use crate::symbolic::{Definition, Expr, LayerDefinitions};

/// The sums of a layer's derivation ([`LayerKind::sums`]), which the interpreter binds to
/// values: filter offsets on the site grid, the padding that wraps them, the group support.
#[derive(Debug)]
pub enum Sums<'a> {
    /// No sums beyond the sites (and the group elements the input carries).
    None,
    /// A window of offsets on the grid (a convolution, a window pooling).
    Window {
        offsets: Vec<Vec<i64>>,
        padding: Padding,
    },
    /// A group convolution: a window of offsets of the grid, and the support H of its filter
    /// on the group (`None`: the whole group).
    GroupWindow {
        offsets: Vec<Vec<i64>>,
        padding: Padding,
        support: Option<Vec<usize>>,
    },
    /// A lifting, whose sums are set by its group's action on the input and its filter.
    Lift(&'a Lift),
}

/// How a layer constrains the site structure of the kernel entering it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteNeed {
    /// Works on either full (site × site) or site-diagonal kernels.
    Any,
    /// Needs every site pair (pooling reads off-diagonal covariances).
    Full,
    /// Reads only the site diagonal (flatten): layers before it need not keep the rest.
    Diagonal,
}

/// Every face of one layer kind. Implemented once per kind, in the kind's own file.
pub trait LayerKind: fmt::Debug + Send + Sync + DynEq {
    /// The `kind` as written in network files.
    fn kind(&self) -> &'static str;

    /// The shape of the layer's output, or why the input shape does not fit (the reason only;
    /// the network prefixes `layers[i] (kind)`).
    fn output_shape(&self, input: &Shape) -> Result<Shape, String>;

    /// What the layer needs of the kernel entering it.
    fn site_need(&self) -> SiteNeed {
        SiteNeed::Any
    }

    /// The layer's kernel map on one example pair's block, for an input of shape `input` (a
    /// shape [`LayerKind::output_shape`] accepted). `None` for a layer whose map is not
    /// pairwise in the network's site layout (the layers of an SO(2) G-CNN's angular section,
    /// evaluated by [`crate::Network::kernel`] on an angular grid).
    fn block_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>>;

    /// The kernel map on a whole [`Kernel`], for a kind whose map is not one [`BlockMap`] (a
    /// composite of branches, which keeps each branch's self-covariances). By default the
    /// [`LayerKind::block_map`] applied to every example pair, or an error when there is none.
    fn apply_kernel(&self, k: Kernel, input: &Shape) -> Result<Kernel> {
        match self.block_map(input) {
            Some(m) => Ok(k.map(&*m)),
            None => Err(Error::Invalid(format!(
                "{} has no pairwise kernel map here; evaluate the network with Network::kernel",
                self.kind()
            ))),
        }
    }

    /// The branches of a composite kind (`parallel`, `residual`): each branch's layers (empty
    /// for the identity) and how their outputs combine. `None` for a single layer.
    fn branches(&self) -> Option<(&[Vec<Layer>], Combine)> {
        None
    }

    /// What a user should know about this layer's kernel that is not an error (e.g. branches
    /// treated as independent although they are not); one line each.
    fn caveats(&self) -> Vec<String> {
        vec![]
    }

    /// The shared affine parameters, for dense, conv, lift and group_conv.
    fn weights(&self) -> Option<&Weights> {
        None
    }

    /// The kind's named real parameters as `(name, value)`, in network-file order (the scales
    /// that can drive a kernel out of range, named in [`crate::Error::NonFinite`]). By default,
    /// `w_std` and `b_std` (when set) of [`LayerKind::weights`].
    fn parameters(&self) -> Vec<(&'static str, f64)> {
        self.weights().map_or_else(Vec::new, |w| {
            std::iter::once(("w_std", w.w_std))
                .chain(w.b_std.map(|b| ("b_std", b)))
                .collect()
        })
    }

    /// The fan-in per output channel (`C_in` × the taps one output reads), for affine kinds.
    fn fan_in(&self, _input: &Shape) -> Option<usize> {
        None
    }

    /// The group this layer lifts its input to (a lifting layer only).
    fn lifts_to(&self) -> Option<GroupSpec> {
        None
    }

    /// The kind as a lifting layer, which opens a group section: the reduced run, the SO(2)
    /// section, the derivation interpreter and the collapse read its group, filter and
    /// tolerance. `None` for every other kind.
    fn as_lift(&self) -> Option<&Lift> {
        None
    }

    /// The kind's step in the right-invariant reduced run of a group section (MATH.md §7) on
    /// features of shape `input` lifted to `group`: a stage of the run, the pooling that ends
    /// it, or (by default) a kind the run cannot take.
    fn reduced_step(&self, _input: &Shape, _group: &GroupSpec) -> ReducedStep<'_> {
        ReducedStep::Breaks
    }

    /// Whether a kernel that is a function of `g⁻¹g′` on the features entering the kind stays
    /// one on its output (right-invariance, MATH.md §7); by default not.
    fn keeps_right_invariance(&self) -> bool {
        false
    }

    /// The kind's map on kernels of the relative angle inside an SO(2) section (after an SO(2)
    /// lift, before the pooling), for features of shape `input`; `None` (the default) for a kind
    /// the section cannot take.
    fn so2_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        None
    }

    /// Whether the kind pools group features, closing a group section.
    fn closes_group_section(&self) -> bool {
        false
    }

    /// The kind in the C_N discretisation of an SO(2) section with N = `angles` (a lift becomes
    /// a dense layer on the stacked rotations, a group convolution a circular convolution of N
    /// taps, the pooling a global average); `None` (the default) keeps the layer as it is.
    fn so2_discretised(&self, _angles: usize) -> Option<Layer> {
        None
    }

    /// The sums the kind's derivation runs over, for the interpreter, on features of shape
    /// `input` (by default none: only the sites and the group the input carries).
    fn sums(&self, _input: &Shape) -> Sums<'_> {
        Sums::None
    }

    /// How many input site pairs the kernel map reads for one output site pair: a filter's or
    /// a window's taps, summed over the layers of a block. The work estimate of
    /// [`crate::budget`] counts it; 1 by default.
    fn taps(&self) -> usize {
        1
    }

    /// The recursion of layer `l` (1-based) as raw definitions `K⁽ˡ⁾ = …`, `Θ⁽ˡ⁾ = …` with
    /// the assumptions that simplify them (see [`crate::symbolic::derive_layer`], which
    /// normalises them and substitutes `Θ⁽⁰⁾ = 0`).
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions;

    /// The definitions as a paper prints them (an activation's dual replaced by its closed
    /// form where it has one); by default, unchanged.
    fn closed_form(&self, defs: &[Definition]) -> Vec<Definition> {
        defs.to_vec()
    }

    /// The dual `(T, Ṫ)` of the kind's pointwise nonlinearity at `(k₁₁, k₁₂, k₂₂)`, for the
    /// `T_φ`, `Ṫ_φ` of its derivation (an activation only); `None` by default.
    fn dual_kernel(&self, _k11: f64, _k12: f64, _k22: f64) -> Option<(f64, f64)> {
        None
    }

    /// For a kind whose kernel map is computed by adaptive quadrature (a written activation),
    /// what its evaluations have recorded so far (the `layer` field left empty for the network
    /// to fill); `None` by default.
    fn quadrature(&self) -> Option<crate::network::QuadratureReport> {
        None
    }

    /// Forget what [`LayerKind::quadrature`] recorded.
    fn reset_quadrature(&self) {}

    /// A written activation's `(φ(u), φ′(u))` as expressions in `u`, for derivations to print;
    /// `None` by default.
    fn written_phi(&self) -> Option<(Expr, Expr)> {
        None
    }

    /// Whether the layer is linear in its input features (every kind but a nonlinear
    /// activation).
    fn is_linear(&self) -> bool {
        true
    }

    /// The finite-width pass of this layer on features of shape `input`, its parameters drawn
    /// through `builder`; returns the pass and its output channels.
    fn finite_pass(
        &self,
        input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)>;

    /// A one-line description with the parameters (for documents and reports).
    fn summary(&self) -> String {
        self.kind().to_string()
    }
}

/// Equality of layer values behind `dyn` (implemented for every `PartialEq` kind).
pub trait DynEq: Any {
    fn as_any(&self) -> &dyn Any;
    fn dyn_eq(&self, other: &dyn Any) -> bool;
}

impl<T: PartialEq + Any> DynEq for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn dyn_eq(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<T>().is_some_and(|o| self == o)
    }
}

/// One layer of a network: a value of some [`LayerKind`].
#[derive(Clone)]
pub struct Layer(Arc<dyn LayerKind>);

impl Layer {
    /// A layer of the given kind.
    pub fn new(kind: impl LayerKind + 'static) -> Self {
        Self(Arc::new(kind))
    }

    /// The kind's value, if the layer is of kind `T`.
    pub fn downcast_ref<T: LayerKind + 'static>(&self) -> Option<&T> {
        (*self.0).as_any().downcast_ref::<T>()
    }

    /// Whether the layer is of kind `T`.
    pub fn is<T: LayerKind + 'static>(&self) -> bool {
        self.downcast_ref::<T>().is_some()
    }

    /// Whether the layer is part of an SO(2) G-CNN's angular section: an SO(2) lifting, or any
    /// layer whose input features are functions on SO(2) (up to and including the
    /// `group_pool`). These layers act on kernels of the relative angle, which
    /// [`crate::Network::kernel`] evaluates on an angular grid.
    pub fn is_so2_section(&self, input: &Shape) -> bool {
        matches!(self.lifts_to(), Some(GroupSpec::So2 { .. }))
            || matches!(input.lifted, Some(GroupSpec::So2 { .. }))
    }

    /// The layer's kernel map on one example pair's block ([`LayerKind::block_map`]), or
    /// `None` for the layers of an SO(2) G-CNN's angular section ([`Layer::is_so2_section`]),
    /// whose map is not pairwise in the network's site layout.
    pub fn block_map(&self, input: &Shape) -> Option<Box<dyn BlockMap + '_>> {
        if self.is_so2_section(input) {
            return None;
        }
        self.0.block_map(input)
    }

    /// The layer's kernel map applied to `k`, for an input of shape `input` (accepted by
    /// [`LayerKind::output_shape`]).
    ///
    /// Errors for the layers of an SO(2) G-CNN's angular section, whose kernel is a function
    /// of the relative angle that only [`crate::Network::kernel`] evaluates.
    pub fn kernel(&self, k: Kernel, input: &Shape) -> Result<Kernel> {
        if self.is_so2_section(input) {
            return Err(Error::Invalid(format!(
                "{} on SO2 features acts on kernels of the relative angle; evaluate the network \
                 with Network::kernel",
                self.kind()
            )));
        }
        self.0.apply_kernel(k, input)
    }
}

impl std::ops::Deref for Layer {
    type Target = dyn LayerKind;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for Layer {
    fn eq(&self, other: &Self) -> bool {
        self.0.dyn_eq((*other.0).as_any())
    }
}

impl<T: LayerKind + 'static> From<T> for Layer {
    fn from(kind: T) -> Self {
        Self::new(kind)
    }
}

/// One registered layer kind: the `kind` names it answers to and its parser. `parse` receives
/// the `kind` as written and the remaining keys of the table.
pub struct Registration {
    /// The `kind` values this entry parses.
    pub kinds: &'static [&'static str],
    /// Parse the table's keys into a layer (consuming them; [`Keys::finish`] reports the rest).
    pub parse: fn(kind: &str, keys: Keys) -> Result<Layer>,
    /// A small network file that uses the kind (for the docs, and for the test that checks
    /// every registered kind three ways: derivation, fast kernel, finite networks).
    pub example: fn(kind: &str) -> String,
}

/// Every layer kind a network file can name.
pub const REGISTRY: &[Registration] = &[
    dense::REGISTRATION,
    conv::REGISTRATION,
    flatten::REGISTRATION,
    global_avg_pool::REGISTRATION,
    window_pool::REGISTRATION,
    global_sum_pool::REGISTRATION,
    layer_norm::REGISTRATION,
    lift::REGISTRATION,
    group_conv::REGISTRATION,
    group_pool::REGISTRATION,
    parallel::REGISTRATION,
    activation::REGISTRATION,
];

/// Parse one `[[layers]]` table (`layers[i]` of `file`) through the registry.
pub(crate) fn parse_layer(file: &str, i: usize, value: toml::Value) -> Result<Layer> {
    parse_layer_at(file, format!("layers[{i}]"), value)
}

/// Parse one layer table found at `place` of `file` (`layers[2]`, or `layers[2].block[0]`
/// inside a composite kind) through the registry.
pub(crate) fn parse_layer_at(file: &str, place: String, value: toml::Value) -> Result<Layer> {
    let toml::Value::Table(mut table) = value else {
        return Err(Error::Spec(format!("{file}: {place}: must be a table")));
    };
    let kind = match table.remove("kind") {
        Some(toml::Value::String(s)) => s,
        Some(v) => {
            return Err(Error::Key {
                file: file.into(),
                place,
                key: "kind".into(),
                reason: format!("`kind` must be a string, got {v}"),
            })
        }
        None => {
            return Err(Error::Key {
                file: file.into(),
                place,
                key: "kind".into(),
                reason: "missing key `kind`".into(),
            })
        }
    };
    let keys = Keys::new(file, format!("{place} ({kind})"), table);
    match REGISTRY.iter().find(|r| r.kinds.contains(&kind.as_str())) {
        Some(r) => (r.parse)(&kind, keys),
        None => Err(keys.key_err(
            "kind",
            format!(
                "unknown layer kind \"{kind}\" (known: {})",
                REGISTRY
                    .iter()
                    .flat_map(|r| r.kinds.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
