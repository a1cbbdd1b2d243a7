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

impl AffineMap {
    /// The map of a tap-averaging layer (convolution, lift, group convolution) with
    /// `channels_in` input channels: fan-in `C_in · |T|` in standard parameterisation.
    pub fn from_taps(
        taps: Taps,
        w_std: f64,
        b_std: Option<f64>,
        parameterization: super::dense::Parameterization,
        channels_in: Option<usize>,
    ) -> Self {
        let q = taps.n_taps();
        Self {
            taps: Some(taps),
            w_var: w_std * w_std,
            b_var: b_std.map_or(0.0, |b| b * b),
            standard_fan_in: match parameterization {
                super::dense::Parameterization::Ntk => None,
                super::dense::Parameterization::Standard => channels_in.map(|c| (c * q) as f64),
            },
            has_bias: b_std.is_some(),
        }
    }
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
        // First the tap averages A[K] and A[Θ], then the affine part in place.
        match &self.taps {
            Some(taps) => taps.average(full, k, k_out),
            None => k_out.copy_from_slice(k),
        }
        match (t, t_out) {
            (Some(t), Some(t_out)) => {
                match &self.taps {
                    Some(taps) => taps.average(full, t, t_out),
                    None => t_out.copy_from_slice(t),
                }
                self.affine(k_out, Some(t_out));
            }
            _ => self.affine(k_out, None),
        }
    }

    fn apply_row(
        &self,
        full: bool,
        sites_in: usize,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        if self.taps.is_some() {
            // Block by block, as the default does.
            crate::kernel::apply_blocks(self, full, sites_in, k, t, d1, d2, k_out, t_out);
            return;
        }
        // Dense: the whole row is one elementwise map.
        k_out.copy_from_slice(k);
        match (t, t_out) {
            (Some(t), Some(t_out)) => {
                t_out.copy_from_slice(t);
                self.affine(k_out, Some(t_out));
            }
            _ => self.affine(k_out, None),
        }
    }
}

impl AffineMap {
    /// Given `k = A[K]` and `t = A[Θ]`, write `K'` into `k` and `Θ'` into `t`.
    pub(crate) fn affine(&self, k: &mut [f64], t: Option<&mut [f64]>) {
        let (w, b) = (self.w_var, self.b_var);
        match (t, self.standard_fan_in) {
            (None, _) => k.iter_mut().for_each(|v| *v = w * *v + b),
            (Some(t), None) => {
                for (kv, tv) in k.iter_mut().zip(t.iter_mut()) {
                    *kv = w * *kv + b;
                    *tv = w * *tv + *kv;
                }
            }
            (Some(t), Some(n)) => {
                let bias = if self.has_bias { 1.0 } else { 0.0 };
                for (kv, tv) in k.iter_mut().zip(t.iter_mut()) {
                    *tv = n * *kv + w * *tv + bias;
                    *kv = w * *kv + b;
                }
            }
        }
    }
}
