//! Finite-width networks that share the layer definitions of the kernel engine.
//!
//! A [`FiniteNetwork`] is a [`Network`](crate::Network) whose dense and convolutional layers
//! were given `width` output channels (the last one `out_dim`) and Gaussian parameters from a
//! seed (MATH.md §2). It computes the outputs `f(x)` (N × out_dim), the parameter Jacobian
//! `J = ∂f_0/∂θ` by a hand-written reverse-mode pass, and from them the empirical kernels
//!
//! ```text
//! K̂(x, x') = (1/O) Σ_o f_o(x) f_o(x')        Θ̂(x, x') = Σ_μ ∂f_0(x)/∂θ_μ · ∂f_0(x')/∂θ_μ
//! ```
//!
//! whose means over initialisations converge to the analytic NNGP and NTK as the width grows
//! (MATH.md §9). [`monte_carlo`] averages them over independently seeded networks.
//!
//! Files: `params.rs` (sampling and the parameter layout), `forward.rs` (forward pass),
//! `jacobian.rs` (backward pass, Jacobian, empirical kernels), `monte_carlo.rs` (estimator),
//! `train.rs` (gradient descent on the normalised MSE), `ensemble.rs` (trained ensembles).

mod ensemble;
mod forward;
mod jacobian;
mod monte_carlo;
mod params;
mod train;

pub use ensemble::{train_ensemble, EnsembleConfig, EnsembleRun};
pub use monte_carlo::{monte_carlo, monte_carlo_outputs, Agreement, Discrepancy, MonteCarlo};
pub use train::{TrainOptions, TrainReport};

use std::sync::Arc;

use rand_chacha::ChaCha8Rng;

pub(crate) use forward::{matmul, rm, rm_mut};

/// A sampled finite-width network: layer passes and one flat parameter vector.
///
/// Parameters are stored layer by layer; an affine layer stores its weight matrix
/// `W` (`q·C_in × C_out`, row `t·C_in + c` for tap `t` and input channel `c`, row-major) then its
/// bias `b` (`C_out`, when the layer has one). [`FiniteNetwork::jacobian`] uses the same layout.
#[derive(Clone, Debug)]
pub struct FiniteNetwork {
    input: Vec<usize>,
    ops: Vec<Op>,
    params: Vec<f64>,
    out_dim: usize,
    /// For an SO(2) G-CNN, sampled as its C_N discretisation: the grid whose stacked rotated
    /// inputs the ops read ([`crate::Network::discretised`]).
    so2: Option<crate::network::So2Grid>,
}

/// One layer of a finite network: its pass and the sizes of its features.
#[derive(Clone, Debug)]
struct Op {
    pass: Arc<dyn FinitePass>,
    dims: OpDims,
    /// How many entries of the parameter vector the layer owns.
    n_params: usize,
}

/// The sizes of one layer's features: `sites × channels`, row-major, channels last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpDims {
    pub sites_in: usize,
    pub ch_in: usize,
    pub sites_out: usize,
    pub ch_out: usize,
}

/// The finite-width face of a layer kind ([`crate::layer::LayerKind::finite_pass`]): its
/// forward pass on one example's features and its reverse-mode pass.
pub trait FinitePass: std::fmt::Debug + Send + Sync {
    /// `h' = f(h)` for features `h` (`sites_in × ch_in`), and what the backward pass needs
    /// besides `h` (a convolution's patch matrix), if anything.
    fn forward(&self, params: &[f64], dims: &OpDims, h: &[f64]) -> (Vec<f64>, Option<Vec<f64>>);

    /// Reverse mode: given the cotangent `g` of the output, write the cotangent of the
    /// layer's parameters into their slots of `grad` (or add it, with `accumulate`) and return
    /// the cotangent of the input `h` (may be empty when `need_input` is false).
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        params: &[f64],
        dims: &OpDims,
        h: &[f64],
        cache: Option<&[f64]>,
        g: Vec<f64>,
        grad: &mut [f64],
        accumulate: bool,
        need_input: bool,
    ) -> Vec<f64>;
}

/// What a layer kind draws its finite parameters from while a network is sampled.
pub struct FiniteBuilder<'a> {
    /// The seeded generator (draws are `N(0, 1)`, layer by layer, weights before biases).
    pub rng: &'a mut ChaCha8Rng,
    /// The flat parameter vector, appended to.
    pub params: &'a mut Vec<f64>,
    /// Channels of the layer's input.
    pub ch_in: usize,
    /// Output channels an affine layer gets (`width`, or `out_dim` for the last one).
    pub ch_out_affine: usize,
}

impl FiniteNetwork {
    /// The number of parameters P.
    pub fn n_params(&self) -> usize {
        self.params.len()
    }

    /// The flat parameter vector θ (layout in the type's docs).
    pub fn parameters(&self) -> &[f64] {
        &self.params
    }

    /// Mutable access to θ (e.g. for finite-difference checks or training).
    pub fn parameters_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    /// The number of outputs O.
    pub fn out_dim(&self) -> usize {
        self.out_dim
    }

    /// The shape of one input example.
    pub fn input_shape(&self) -> &[usize] {
        &self.input
    }

    /// About how many multiply-adds one forward pass of one example takes:
    /// `Σ_layers (P_layer · sites_out + sites_in · C_in)` — a layer's parameters are used once
    /// per output site (a dense layer's at its one site, a convolution's filter at every site)
    /// and every feature is touched once. A reverse-mode pass costs about twice as much. For
    /// the work budgets of training ([`crate::budget`]), not a cost model.
    pub fn multiply_adds_per_example(&self) -> u128 {
        self.ops
            .iter()
            .map(|op| {
                let d = &op.dims;
                (op.n_params as u128 * d.sites_out as u128)
                    .saturating_add(d.sites_in as u128 * d.ch_in as u128)
            })
            .fold(0u128, u128::saturating_add)
    }
}
