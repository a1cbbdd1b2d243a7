//! The three ways the tests train an infinite ensemble, in the argument order they compare
//! them in: as given, on the explicit orbit and on the orbit through the isotypic blocks — each
//! one `InfiniteEnsemble` with its `TrainingSet`.

use eqntk::augment::{FiniteAugmentation, InfiniteEnsemble, OutputTransform, TrainingSet};
use eqntk::predict::Prediction;
use eqntk::{Batch, Network, Result};
use faer::{Mat, MatRef};

/// The ensemble trained on `(x, y)` as given, at `x_test` and `times`.
#[allow(clippy::too_many_arguments)]
pub fn plain_prediction(
    net: &Network,
    x: &Batch,
    y: &Mat<f64>,
    x_test: &Batch,
    times: &[f64],
    learning_rate: f64,
    diag_reg: f64,
    with_cov: bool,
) -> Result<Prediction> {
    InfiniteEnsemble::train(
        net,
        x,
        y.as_ref(),
        TrainingSet::Given,
        learning_rate,
        diag_reg,
    )?
    .predict(x_test, times, with_cov)
}

/// The ensemble trained on the `|G|N` examples of the orbit, written out.
#[allow(clippy::too_many_arguments)]
pub fn explicit_prediction(
    net: &Network,
    group: &FiniteAugmentation,
    x: &Batch,
    y: MatRef<f64>,
    targets: OutputTransform,
    x_test: &Batch,
    times: &[f64],
    learning_rate: f64,
    diag_reg: f64,
    with_cov: bool,
) -> Result<Prediction> {
    let set = TrainingSet::ExplicitOrbit { group, targets };
    InfiniteEnsemble::train(net, x, y, set, learning_rate, diag_reg)?
        .predict(x_test, times, with_cov)
}

/// The ensemble trained on the orbit, solved irrep by irrep.
#[allow(clippy::too_many_arguments)]
pub fn block_prediction(
    net: &Network,
    group: &FiniteAugmentation,
    x: &Batch,
    y: MatRef<f64>,
    targets: OutputTransform,
    x_test: &Batch,
    times: &[f64],
    learning_rate: f64,
    diag_reg: f64,
    with_cov: bool,
) -> Result<Prediction> {
    let set = TrainingSet::Orbit { group, targets };
    InfiniteEnsemble::train(net, x, y, set, learning_rate, diag_reg)?
        .predict(x_test, times, with_cov)
}
