//! Sampling a finite network: layer sizes, parameter layout and the Gaussian initialisation.
//!
//! NTK parameterisation (MATH.md §2): a layer computes `σ_w/√fan_in · W h + σ_b b` with the
//! parameters `W, b ~ N(0, 1)`. Standard parameterisation: it computes `W h + b` with the
//! parameters `W ~ N(0, σ_w²/fan_in)`, `b ~ N(0, σ_b²)`. The fan-in is `C_in` for a dense layer
//! and `C_in·q` for a convolution with q taps. Both are stored as "multiplier × stored value";
//! the stored values are the parameters θ the Jacobian differentiates by.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{FiniteBuilder, FiniteNetwork, Op, OpDims};
use crate::error::{Error, Result};
use crate::network::{Network, So2Grid};

impl FiniteNetwork {
    /// Sample a network of width `width` with one output from `seed`.
    ///
    /// An SO(2) G-CNN is sampled as its C_N discretisation ([`Network::discretised`]) with
    /// `N = So2Grid::angles_for_width(width, L)` angles; the sampled network takes the SO(2)
    /// network's inputs and rotates them onto the grid.
    ///
    /// Every dense and conv layer gets `width` output channels, except the last one, which gets
    /// 1 (the `width` keys of the network file are ignored; under `parameterization =
    /// "standard"` the analytic NTK uses those keys as fan-ins, so set them to `width` to compare).
    /// See [`FiniteNetwork::sample_with_outputs`].
    pub fn sample(net: &Network, width: usize, seed: u64) -> Result<Self> {
        Self::sample_with_outputs(net, width, 1, seed)
    }

    /// Sample a network of width `width` whose last dense/conv layer has `out_dim` outputs.
    ///
    /// Parameters are drawn i.i.d. `N(0, 1)` from `ChaCha8Rng::seed_from_u64(seed)` with
    /// `rand_distr::StandardNormal`, layer by layer, weights (in storage order) before biases,
    /// and scaled as in the module docs. The network's output must have one site (end it with
    /// `flatten` or `global_avg_pool` when it has a grid).
    pub fn sample_with_outputs(
        net: &Network,
        width: usize,
        out_dim: usize,
        seed: u64,
    ) -> Result<Self> {
        if width == 0 || out_dim == 0 {
            return Err(Error::Invalid(format!(
                "a finite network needs width ≥ 1 and out_dim ≥ 1, got width = {width}, \
                 out_dim = {out_dim}"
            )));
        }
        let layers = net.layers();
        if let Some(degree) = net.so2_degree() {
            // An SO(2) G-CNN is sampled as the C_N G-CNN on the same circle (see
            // `So2Grid::angles_for_width` for N); its inputs are rotated onto the grid.
            let angles = So2Grid::angles_for_width(width, degree);
            let (discrete, grid) = net.discretised(angles)?;
            let mut fin = Self::sample_with_outputs(&discrete, width, out_dim, seed)?;
            fin.input = net.input_shape().to_vec();
            fin.so2 = Some(grid);
            return Ok(fin);
        }
        let last_affine = layers
            .iter()
            .rposition(|l| l.weights().is_some())
            .ok_or_else(|| {
                Error::Invalid("a finite network needs at least one dense or conv layer".into())
            })?;
        let out_sites = net.shape_before(layers.len()).sites();
        if out_sites != 1 {
            return Err(Error::Invalid(format!(
                "the network's output has {out_sites} sites; end it with flatten or \
                 global_avg_pool to sample a finite network with one output vector"
            )));
        }

        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut params = Vec::new();
        let mut ops = Vec::with_capacity(layers.len());
        let mut ch = *net
            .input_shape()
            .last()
            .expect("input shapes are non-empty");
        for (l, layer) in layers.iter().enumerate() {
            let mut builder = FiniteBuilder {
                rng: &mut rng,
                params: &mut params,
                ch_in: ch,
                ch_out_affine: if l == last_affine { out_dim } else { width },
            };
            let before = builder.params.len();
            let (pass, ch_out) = layer.finite_pass(net.shape_before(l), &mut builder)?;
            let n_params = builder.params.len() - before;
            ops.push(Op {
                pass: pass.into(),
                n_params,
                dims: OpDims {
                    sites_in: net.shape_before(l).sites(),
                    ch_in: ch,
                    sites_out: net.shape_before(l + 1).sites(),
                    ch_out,
                },
            });
            ch = ch_out;
        }
        Ok(Self {
            input: net.input_shape().to_vec(),
            ops,
            params,
            out_dim,
            so2: None,
        })
    }
}
