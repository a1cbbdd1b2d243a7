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
pub use monte_carlo::{monte_carlo, monte_carlo_outputs, MonteCarlo};
pub use train::{TrainOptions, TrainReport};

use crate::layer::taps::Taps;
use crate::layer::Activation;

/// A sampled finite-width network: layer operations and one flat parameter vector.
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

/// One layer of a finite network, acting on features `sites × channels` (row-major).
#[derive(Clone, Debug)]
struct Op {
    kind: OpKind,
    sites_in: usize,
    ch_in: usize,
    sites_out: usize,
    ch_out: usize,
}

#[derive(Clone, Debug)]
enum OpKind {
    /// `h'[o, :] = w_mult · Σ_t h[src(o,t), :] W_t + b_mult · b` (a dense layer is one tap with
    /// `src(o, 0) = o`).
    Affine(Affine),
    /// Relabels `sites × channels` as one site with `sites·channels` channels (no data change).
    Flatten,
    /// `h'[c] = (1/P) Σ_p h[p, c]`.
    GlobalAvgPool,
    /// `h' = φ(h)` entrywise.
    Activation(Activation),
}

#[derive(Clone, Debug)]
struct Affine {
    /// The convolution's source table; `None` for a dense layer.
    taps: Option<Taps>,
    /// Number of taps q (1 for dense).
    q: usize,
    /// Offset of `W` in the parameter vector; `W` has `q·ch_in × ch_out` entries.
    w_offset: usize,
    /// Offset of `b` (`ch_out` entries), when the layer has a bias.
    b_offset: Option<usize>,
    /// Multiplier of the stored weights: `σ_w/√fan_in` (NTK) or 1 (standard).
    w_mult: f64,
    /// Multiplier of the stored bias: `σ_b` (NTK) or 1 (standard).
    b_mult: f64,
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
}
