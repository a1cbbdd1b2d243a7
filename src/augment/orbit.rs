//! Equivariance metrics of any predictor over the orbits of test inputs (MATH.md §8).
//!
//! A predictor is anything that maps a batch to an `M × O` matrix of predictions: an infinite
//! ensemble's μ_t, a finite ensemble's mean, one member. Orbits are laid out **input-major**
//! (row `a·L + k` is the k-th transform of test input `a`, `k = 0` the input itself; `L` the
//! orbit length), as [`FiniteAugmentation::orbit_batch`](super::FiniteAugmentation::orbit_batch)
//! and [`so2_orbit_batch`] make them.

use faer::{Mat, MatRef};

use super::augmentation::RotationKind;
use super::output::OutputTransform;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::metrics::{MetricsSummary, OrbitMetrics, OutputRep};

/// Per-input metrics from predictions on orbits (`(M·L) × O`, input-major, `L = orbit_len`),
/// with `ρ_Y` given per orbit position by `rep` (`OutputRep::Matrices` of length `L`).
pub fn orbit_metrics(
    predictions: MatRef<f64>,
    orbit_len: usize,
    rep: OutputRep,
) -> Result<Vec<OrbitMetrics>> {
    if orbit_len == 0 || predictions.nrows() % orbit_len != 0 || predictions.nrows() == 0 {
        return Err(Error::Shape(format!(
            "{} predictions do not split into orbits of length {orbit_len}",
            predictions.nrows()
        )));
    }
    (0..predictions.nrows() / orbit_len)
        .map(|a| {
            let orbit: Vec<Vec<f64>> = (0..orbit_len)
                .map(|k| {
                    (0..predictions.ncols())
                        .map(|c| predictions[(a * orbit_len + k, c)])
                        .collect()
                })
                .collect();
            OrbitMetrics::compute(&orbit, rep)
        })
        .collect()
}

/// `orbit_metrics` aggregated over the test inputs.
pub fn orbit_summary(
    predictions: MatRef<f64>,
    orbit_len: usize,
    rep: OutputRep,
) -> Result<MetricsSummary> {
    MetricsSummary::from_metrics(&orbit_metrics(predictions, orbit_len, rep)?)
}

/// The SO(2) orbits `R_θ x_a` for the given angles, input-major (row `a·L + k` is
/// `R_{angles[k]} x_a`). Put `0` first to make position 0 the input itself.
pub fn so2_orbit_batch(kind: RotationKind, x: &Batch, angles: &[f64]) -> Result<Batch> {
    if angles.is_empty() {
        return Err(Error::Invalid(
            "an SO(2) orbit needs at least one angle".into(),
        ));
    }
    kind.check_shape(x.shape())?;
    let shape = x.shape().to_vec();
    let mut rows = Vec::with_capacity(x.len() * angles.len());
    for a in 0..x.len() {
        for &t in angles {
            rows.push(kind.rotate(x.example(a), &shape, t)?);
        }
    }
    Batch::from_examples(shape, &rows)
}

/// `ρ_Y(θ)` at each angle, for [`OutputRep::Matrices`] along an SO(2) orbit.
pub fn so2_output_matrices(
    output: OutputTransform,
    kind: RotationKind,
    shape: &[usize],
    outputs: usize,
    angles: &[f64],
) -> Result<Vec<Mat<f64>>> {
    angles
        .iter()
        .map(|&t| output.so2_matrix(kind, shape, outputs, t))
        .collect()
}
