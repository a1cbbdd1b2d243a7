//! The affine kernel map shared by dense and convolutional layers.
//!
//! NTK parameterisation (`σ_w/√fan_in · W h + σ_b b`):
//!
//! ```text
//! K' = σ_w² A[K] + σ_b²        Θ' = σ_w² A[Θ] + K'
//! ```
//!
//! Standard parameterisation (`W ~ N(0, σ_w²/fan_in)`, `b ~ N(0, σ_b²)`), with `n` the fan-in:
//!
//! ```text
//! K' = σ_w² A[K] + σ_b²        Θ' = n·A[K] + σ_w² A[Θ] + [1 if the layer has a bias]
//! ```
//!
//! `A` is the identity for a dense layer and the tap average of [`Taps`] for a convolution
//! (MATH.md §2, §4); for a convolution the fan-in is `C_in · q`.

use super::taps::Taps;
use crate::kernel::BlockMap;

/// The kernel map of one affine layer (see the module docs).
#[derive(Clone, Debug)]
pub struct AffineMap {
    /// `None` for a dense layer (`A` is the identity).
    pub taps: Option<Taps>,
    /// σ_w².
    pub w_var: f64,
    /// σ_b² (0 without a bias).
    pub b_var: f64,
    /// `Some(n)` in standard parameterisation, with `n` the fan-in.
    pub standard_fan_in: Option<f64>,
    /// Whether the layer has a bias (matters for the standard-parameterisation NTK).
    pub has_bias: bool,
}

impl BlockMap for AffineMap {
    fn sites_out(&self, sites_in: usize) -> usize {
        self.taps.as_ref().map_or(sites_in, Taps::n_out)
    }

    fn apply(
        &self,
        full: bool,
        k: &[f64],
        t: Option<&[f64]>,
        _d1: &[f64],
        _d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        // a_k = A[K]; kept when the standard NTK needs it.
        let mut a_k = vec![0.0; k_out.len()];
        match &self.taps {
            Some(taps) => taps.average(full, k, &mut a_k),
            None => a_k.copy_from_slice(k),
        }
        for (o, a) in k_out.iter_mut().zip(&a_k) {
            *o = self.w_var * a + self.b_var;
        }
        let (Some(t), Some(t_out)) = (t, t_out) else {
            return;
        };
        match &self.taps {
            Some(taps) => taps.average(full, t, t_out),
            None => t_out.copy_from_slice(t),
        }
        match self.standard_fan_in {
            None => {
                for (o, kk) in t_out.iter_mut().zip(k_out.iter()) {
                    *o = self.w_var * *o + kk;
                }
            }
            Some(n) => {
                let bias = if self.has_bias { 1.0 } else { 0.0 };
                for (o, a) in t_out.iter_mut().zip(&a_k) {
                    *o = n * a + self.w_var * *o + bias;
                }
            }
        }
    }
}
