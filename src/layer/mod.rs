//! Layers: values that map the kernel of their input to the kernel of their output.
//!
//! As in neural-tangents, a layer is a value and a network is a fold over layers. Each layer
//! kind lives in its own file and states its recursion (MATH.md §2–5); [`Layer`] is the closed
//! set of kinds a network file can name.

pub mod activation;
pub mod affine;
pub mod conv;
pub mod dense;
pub mod dual;
pub mod elementwise;
pub mod group_conv;
pub mod lift;
pub mod pool;
pub mod quadrature;
pub mod reduced;
pub mod separable;
pub mod shape;
pub mod simd;
pub mod taps;

pub use activation::Activation;
pub use conv::{Conv, Padding};
pub use dense::{Dense, Parameterization};
pub use group_conv::GroupConv;
pub use lift::{Lift, LiftFilter};
pub use pool::{Flatten, GlobalAvgPool, GroupPool};
pub use reduced::ReducedGroupRun;
pub use shape::Shape;

use crate::group::GroupSpec;
use crate::kernel::{BlockMap, Kernel};

/// One layer of a network.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// Fully connected layer acting on the channels at every site (MATH.md §2).
    Dense(Dense),
    /// Convolution over a 1-D or 2-D grid (MATH.md §4).
    Conv(Conv),
    /// Flatten the sites into the channels (the kernel keeps the mean of its site diagonal).
    Flatten(Flatten),
    /// Average over all sites.
    GlobalAvgPool(GlobalAvgPool),
    /// A pointwise nonlinearity φ (MATH.md §3).
    Activation(Activation),
    /// Lift to functions on a group (MATH.md §5).
    Lift(Lift),
    /// Group convolution (MATH.md §5).
    GroupConv(GroupConv),
    /// Average over all group elements and positions.
    GroupPool(GroupPool),
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

impl Layer {
    /// The `kind` of the layer as written in network files.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Conv(_) => "conv",
            Layer::Flatten(_) => "flatten",
            Layer::GlobalAvgPool(_) => "global_avg_pool",
            Layer::Activation(a) => a.name(),
            Layer::Lift(_) => "lift",
            Layer::GroupConv(_) => "group_conv",
            Layer::GroupPool(_) => "group_pool",
        }
    }

    /// The shape of the layer's output, or why the input shape does not fit.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        match self {
            Layer::Dense(l) => l.output_shape(input),
            Layer::Conv(l) => l.output_shape(input),
            Layer::Flatten(l) => l.output_shape(input),
            Layer::GlobalAvgPool(l) => l.output_shape(input),
            Layer::Activation(_) => Ok(input.clone()),
            Layer::Lift(l) => l.output_shape(input),
            Layer::GroupConv(l) => l.output_shape(input),
            Layer::GroupPool(l) => l.output_shape(input),
        }
    }

    /// What the layer needs of the kernel entering it.
    pub fn site_need(&self) -> SiteNeed {
        match self {
            Layer::GlobalAvgPool(_) | Layer::GroupPool(_) => SiteNeed::Full,
            Layer::Flatten(_) => SiteNeed::Diagonal,
            _ => SiteNeed::Any,
        }
    }

    /// Whether the layer is part of an SO(2) G-CNN's angular section: an SO(2) lifting, or any
    /// layer whose input features are functions on SO(2) (up to and including the
    /// `group_pool`). These layers act on kernels of the relative angle, which
    /// [`crate::Network::kernel`] evaluates on an angular grid; they have no per-layer
    /// [`BlockMap`].
    pub fn is_so2_section(&self, input: &Shape) -> bool {
        let lift_so2 = matches!(self, Layer::Lift(l) if matches!(l.group, GroupSpec::So2 { .. }));
        lift_so2 || matches!(input.lifted, Some(GroupSpec::So2 { .. }))
    }

    /// The layer's kernel map `(K, Θ) → (K', Θ')` for an input of shape `input`.
    ///
    /// `input` must be a shape accepted by [`Layer::output_shape`]; networks check this when
    /// they are built.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for the layers of an SO(2) G-CNN's angular section
    /// ([`Layer::is_so2_section`]): their kernel is a function of the relative angle that only
    /// [`crate::Network::kernel`] evaluates.
    pub fn kernel(&self, k: Kernel, input: &Shape) -> crate::Result<Kernel> {
        match self.block_map(input) {
            Some(m) => Ok(k.map(&*m)),
            None => Err(crate::Error::Invalid(format!(
                "{} on SO2 features acts on kernels of the relative angle; evaluate the network \
                 with Network::kernel",
                self.kind()
            ))),
        }
    }

    /// The layer's kernel map as a [`BlockMap`] (one example pair at a time), so that runs of
    /// layers can be fused with [`Kernel::map_chain`]; `None` for a layer whose map is not
    /// pairwise, i.e. for the layers of an SO(2) G-CNN's angular section
    /// ([`Layer::is_so2_section`]).
    pub fn block_map(&self, input: &Shape) -> Option<Box<dyn BlockMap + '_>> {
        if self.is_so2_section(input) {
            return None;
        }
        Some(match self {
            Layer::Dense(l) => Box::new(l.block_map(input)),
            Layer::Conv(l) => Box::new(l.block_map(input)),
            Layer::Flatten(l) => Box::new(l),
            Layer::GlobalAvgPool(l) => Box::new(l),
            Layer::Activation(a) => Box::new(a),
            Layer::Lift(l) => Box::new(l.block_map(input)),
            Layer::GroupConv(l) => Box::new(l.block_map(input)),
            Layer::GroupPool(l) => Box::new(l),
        })
    }
}
