//! What the readouts over sites share (flatten, global average pooling, group pooling;
//! MATH.md §4–5): the site means of their kernel maps and their finite-width pass.

use super::shape::Shape;
use crate::finite::{FinitePass, OpDims};
use crate::group::GroupSpec;
use crate::kernel::BlockMap;

/// The mean of the site diagonal, `(1/P) Σ_p M[p,p]` (of a full `P × P` block, or of the
/// `P` diagonal entries).
pub(crate) fn diagonal_mean(full: bool, m: &[f64]) -> f64 {
    if full {
        let s = (m.len() as f64).sqrt().round() as usize;
        (0..s).map(|i| m[i * s + i]).sum::<f64>() / s as f64
    } else {
        m.iter().sum::<f64>() / m.len() as f64
    }
}

/// The mean over all site pairs, `(1/P²) Σ_{p,p′} M[p,p′]` (pairwise summation).
pub(crate) fn full_mean(full: bool, m: &[f64]) -> f64 {
    assert!(
        full || m.len() == 1,
        "global pooling needs the full site × site kernel"
    );
    pairwise_sum(m) / m.len() as f64
}

/// `Σ_i v[i]` by pairwise summation (rounding error `O(ε log n)` instead of `O(ε n)`): pooling
/// sums (|G|·P)² entries, and a plain running sum would lose digits the kernels do not have.
pub(crate) fn pairwise_sum(v: &[f64]) -> f64 {
    if v.len() <= 64 {
        return v.iter().sum();
    }
    let (a, b) = v.split_at(v.len() / 2);
    pairwise_sum(a) + pairwise_sum(b)
}

/// The finite-width readouts: flatten (a relabelling of `sites × channels` as one site) and
/// the mean over all sites (global average and group pooling), or their sum (global sum pooling).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadoutPass {
    /// `h' = h` as one site with `sites·channels` channels.
    Flatten,
    /// `h'[c] = (1/P) Σ_p h[p, c]`.
    Mean,
    /// `h'[c] = Σ_p h[p, c]`.
    Sum,
}

impl ReadoutPass {
    /// The factor of the sum over sites: `1/P` for the mean, 1 for the sum.
    fn scale(&self, sites: usize) -> f64 {
        match self {
            ReadoutPass::Mean => 1.0 / sites as f64,
            _ => 1.0,
        }
    }
}

impl FinitePass for ReadoutPass {
    fn forward(&self, _params: &[f64], d: &OpDims, h: &[f64]) -> (Vec<f64>, Option<Vec<f64>>) {
        match self {
            ReadoutPass::Flatten => (h.to_vec(), None),
            ReadoutPass::Mean | ReadoutPass::Sum => {
                let mut out = vec![0.0; d.ch_in];
                for row in h.chunks(d.ch_in) {
                    for (o, v) in out.iter_mut().zip(row) {
                        *o += v;
                    }
                }
                let scale = self.scale(d.sites_in);
                out.iter_mut().for_each(|o| *o *= scale);
                (out, None)
            }
        }
    }

    fn backward(
        &self,
        _params: &[f64],
        d: &OpDims,
        _h: &[f64],
        _cache: Option<&[f64]>,
        g: Vec<f64>,
        _grad: &mut [f64],
        _accumulate: bool,
        _need_input: bool,
    ) -> Vec<f64> {
        match self {
            ReadoutPass::Flatten => g,
            ReadoutPass::Mean | ReadoutPass::Sum => {
                let scale = self.scale(d.sites_in);
                (0..d.sites_in * d.ch_in)
                    .map(|m| g[m % d.ch_in] * scale)
                    .collect()
            }
        }
    }
}

/// The kernel map of a readout: one output site, `K' = read(K)`, `Θ' = read(Θ)`.
#[derive(Clone, Copy, Debug)]
pub struct ReadoutMap(pub fn(bool, &[f64]) -> f64);

impl BlockMap for ReadoutMap {
    fn sites_out(&self, _sites_in: usize) -> usize {
        1
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
        k_out[0] = (self.0)(full, k);
        if let (Some(t), Some(t_out)) = (t, t_out) {
            t_out[0] = (self.0)(full, t);
        }
    }
}

/// SO(2) features have one site per example pair (the angle lives on the network's grid); only
/// `group_pool` reads them.
pub(crate) fn reject_so2(input: &Shape) -> Result<(), String> {
    match input.lifted {
        Some(GroupSpec::So2 { .. }) => Err("SO2 features must be pooled with group_pool".into()),
        _ => Ok(()),
    }
}
