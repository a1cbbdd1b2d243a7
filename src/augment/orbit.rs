//! Equivariance metrics of any predictor over the orbits of test inputs (MATH.md §8).
//!
//! A predictor is anything that maps a batch to an `M × O` matrix of predictions: an infinite
//! ensemble's μ_t, a finite ensemble's mean, one member. Orbits are laid out **input-major**
//! (row `a·L + k` is the k-th transform of test input `a`, `k = 0` the input itself; `L` the
//! orbit length), as [`FiniteAugmentation::orbit_batch`] and [`so2_orbit_batch`] make them.

use faer::{Mat, MatRef};

use super::augmentation::{FiniteAugmentation, RotationKind};
use super::output::OutputTransform;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::finite::EnsembleRun;
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

/// Metrics of a predictor `predict` (batch → `M × O`) over the `G`-orbits of `x_test`:
/// evaluates it on [`FiniteAugmentation::orbit_batch`] and compares with `ρ_Y` of `output`.
pub fn predictor_metrics<F>(
    predict: F,
    aug: &FiniteAugmentation,
    x_test: &Batch,
    output: OutputTransform,
    outputs: usize,
) -> Result<Vec<OrbitMetrics>>
where
    F: Fn(&Batch) -> Result<Mat<f64>>,
{
    let orbits = aug.orbit_batch(x_test)?;
    let pred = predict(&orbits)?;
    let rho = output.matrices(aug, outputs)?;
    orbit_metrics(pred.as_ref(), aug.order(), OutputRep::Matrices(&rho))
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

/// The mean of the first `members` members of a trained ensemble at `times()[time_index]`
/// (`(1/m) Σ_{k<m} F_k`); errors when `members` is 0 or more than were trained.
pub fn ensemble_mean(run: &EnsembleRun, time_index: usize, members: usize) -> Result<Mat<f64>> {
    if time_index >= run.times().len() {
        return Err(Error::Invalid(format!(
            "time index {time_index} out of range ({} times)",
            run.times().len()
        )));
    }
    let preds = run.predictions(time_index);
    if members == 0 || members > preds.len() {
        return Err(Error::Invalid(format!(
            "cannot average {members} of {} members",
            preds.len()
        )));
    }
    let mut mean = Mat::<f64>::zeros(preds[0].nrows(), preds[0].ncols());
    for p in &preds[..members] {
        mean += p;
    }
    Ok(mean * faer::Scale(1.0 / members as f64))
}
