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
pub mod pool;
pub mod quadrature;
pub mod separable;
pub mod shape;
pub mod simd;
pub mod taps;

pub use activation::Activation;
pub use conv::{Conv, Padding};
pub use dense::{Dense, Parameterization};
pub use pool::{Flatten, GlobalAvgPool};
pub use shape::Shape;

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
        }
    }

    /// What the layer needs of the kernel entering it.
    pub fn site_need(&self) -> SiteNeed {
        match self {
            Layer::GlobalAvgPool(_) => SiteNeed::Full,
            Layer::Flatten(_) => SiteNeed::Diagonal,
            _ => SiteNeed::Any,
        }
    }

    /// The layer's kernel map `(K, Θ) → (K', Θ')` for an input of shape `input`.
    ///
    /// `input` must be a shape accepted by [`Layer::output_shape`]; networks check this when
    /// they are built.
    pub fn kernel(&self, k: Kernel, input: &Shape) -> Kernel {
        match self.block_map(input) {
            Some(m) => k.map(&*m),
            None => unreachable!("every layer kind is a block map"),
        }
    }

    /// The layer's kernel map as a [`BlockMap`] (one example pair at a time), so that runs of
    /// layers can be fused with [`Kernel::map_chain`]; `None` for a layer whose map is not
    /// pairwise.
    pub fn block_map(&self, input: &Shape) -> Option<Box<dyn BlockMap + '_>> {
        Some(match self {
            Layer::Dense(l) => Box::new(l.block_map(input)),
            Layer::Conv(l) => Box::new(l.block_map(input)),
            Layer::Flatten(l) => Box::new(l),
            Layer::GlobalAvgPool(l) => Box::new(l),
            Layer::Activation(a) => Box::new(a),
        })
    }
}
