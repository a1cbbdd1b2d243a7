//! Monte-Carlo estimates of the NNGP and NTK from independently seeded finite networks.

use faer::Mat;
use rayon::prelude::*;

use super::FiniteNetwork;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::network::Network;

/// Entrywise mean and standard error of the empirical kernels over M sampled networks.
///
/// For draws `K̂_s` (s = 0 … M−1): `mean = (1/M) Σ_s K̂_s` and
/// `se = √( Σ_s (K̂_s − mean)² / ((M − 1) M) )`, each N1 × N2; likewise for Θ̂.
#[derive(Clone, Debug)]
pub struct MonteCarlo {
    /// Mean of `K̂ = F(x1) F(x2)ᵀ / O`.
    pub nngp_mean: Mat<f64>,
    /// Standard error of `nngp_mean`.
    pub nngp_se: Mat<f64>,
    /// Mean of `Θ̂ = J(x1) J(x2)ᵀ` (output 0).
    pub ntk_mean: Mat<f64>,
    /// Standard error of `ntk_mean`.
    pub ntk_se: Mat<f64>,
    /// Number of networks M.
    pub samples: usize,
}

/// [`monte_carlo_outputs`] with one output per network.
pub fn monte_carlo(
    net: &Network,
    x1: &Batch,
    x2: Option<&Batch>,
    width: usize,
    samples: usize,
    seed: u64,
) -> Result<MonteCarlo> {
    monte_carlo_outputs(net, x1, x2, width, 1, samples, seed)
}

/// Mean and standard error of the empirical NNGP and NTK over `samples` networks of width
/// `width` and `out_dim` outputs, network s sampled from seed `seed + s`
/// ([`FiniteNetwork::sample_with_outputs`]); `x2 = None` means `x1`.
///
/// The NNGP draw averages over the O outputs (less noise, same mean); the NTK draw is that of
/// output 0. Networks are evaluated in parallel (rayon), then reduced in the order of s, so the
/// result does not depend on the number of threads.
pub fn monte_carlo_outputs(
    net: &Network,
    x1: &Batch,
    x2: Option<&Batch>,
    width: usize,
    out_dim: usize,
    samples: usize,
    seed: u64,
) -> Result<MonteCarlo> {
    if samples < 2 {
        return Err(Error::Invalid(format!(
            "a Monte-Carlo estimate needs at least 2 samples for a standard error, got {samples}"
        )));
    }
    net.check_batch(x1, "x1")?;
    if let Some(x2) = x2 {
        net.check_batch(x2, "x2")?;
    }
    // Fail early (and once) on networks that cannot be sampled.
    FiniteNetwork::sample_with_outputs(net, width, out_dim, seed)?;
    let draws: Vec<(Mat<f64>, Mat<f64>)> = (0..samples)
        .into_par_iter()
        .map(|s| {
            let fin = FiniteNetwork::sample_with_outputs(
                net,
                width,
                out_dim,
                seed.wrapping_add(s as u64),
            )?;
            Ok((fin.empirical_nngp(x1, x2)?, fin.empirical_ntk(x1, x2)?))
        })
        .collect::<Result<_>>()?;
    let (nngp_mean, nngp_se) = mean_and_se(draws.iter().map(|d| &d.0));
    let (ntk_mean, ntk_se) = mean_and_se(draws.iter().map(|d| &d.1));
    Ok(MonteCarlo {
        nngp_mean,
        nngp_se,
        ntk_mean,
        ntk_se,
        samples,
    })
}

/// Entrywise mean and standard error of at least two equally shaped matrices, summed in order.
fn mean_and_se<'a>(draws: impl Iterator<Item = &'a Mat<f64>> + Clone) -> (Mat<f64>, Mat<f64>) {
    let first = draws.clone().next().expect("at least two draws");
    let (r, c) = (first.nrows(), first.ncols());
    let m = draws.clone().count() as f64;
    let mut mean = Mat::<f64>::zeros(r, c);
    for d in draws.clone() {
        mean += d;
    }
    mean *= faer::Scale(1.0 / m);
    let mut var = Mat::<f64>::zeros(r, c);
    for d in draws {
        var += Mat::<f64>::from_fn(r, c, |i, j| (d[(i, j)] - mean[(i, j)]).powi(2));
    }
    let se = Mat::from_fn(r, c, |i, j| (var[(i, j)] / ((m - 1.0) * m)).sqrt());
    (mean, se)
}
