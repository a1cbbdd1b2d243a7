//! Augmented predictions from a network: explicitly (the `|G|N` transformed examples through
//! the ordinary predictor) and through the isotypic blocks.

use faer::MatRef;

use super::augmentation::FiniteAugmentation;
use super::block::BlockPredictor;
use super::output::{augment_targets, OutputTransform};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::predict::{Prediction, Predictor};

/// The prediction of an augmented infinite ensemble.
pub type AugmentedPrediction = crate::predict::Prediction;

fn check_inputs(net: &Network, x: &Batch, y: MatRef<f64>, x_test: &Batch) -> Result<()> {
    net.check_batch(x, "x_train")?;
    net.check_batch(x_test, "x_test")?;
    if y.nrows() != x.len() {
        return Err(Error::Shape(format!(
            "{} targets for {} training inputs",
            y.nrows(),
            x.len()
        )));
    }
    Ok(())
}

/// Explicit augmentation: `X_aug = {ρ_X(g) x_i}`, `Y_aug = {ρ_Y(g) y_i}` (group-major, `|G|N`
/// rows), then `μ_t(x) = Θ(x, X_aug) Θ(X_aug, X_aug)⁻¹ (I − e^{−η Θ t/(|G|N·O)}) Y_aug` and Σ_t
/// by [`Predictor`]. Cost `(|G|N)²` kernel entries and `(|G|N)³` for the eigendecomposition.
#[allow(clippy::too_many_arguments)]
pub fn augmented_prediction(
    net: &Network,
    aug: &FiniteAugmentation,
    x_train: &Batch,
    y_train: MatRef<f64>,
    output: OutputTransform,
    x_test: &Batch,
    times: &[f64],
    learning_rate: f64,
    diag_reg: f64,
    with_cov: bool,
) -> Result<AugmentedPrediction> {
    check_inputs(net, x_train, y_train, x_test)?;
    check_times(times)?;
    let rho_y = output.matrices(aug, y_train.ncols())?;
    let xa = aug.augment_batch(x_train)?;
    let ya = augment_targets(y_train, &rho_y)?;
    let train = net.kernel(&xa, None)?;
    let cross = net.kernel(x_test, Some(&xa))?;
    let p = Predictor::new(
        train.ntk()?.as_ref(),
        train.nngp()?.as_ref(),
        ya.as_ref(),
        learning_rate,
        diag_reg,
    )?;
    let (ntk_tx, nngp_tx) = (cross.ntk()?, cross.nngp()?);
    let test = if with_cov {
        Some(net.kernel(x_test, None)?.nngp()?)
    } else {
        None
    };
    let cov = test
        .as_ref()
        .map(|k| |t| p.covariance(k.as_ref(), nngp_tx.as_ref(), ntk_tx.as_ref(), t));
    Prediction::at_times(times, |t| p.mean(ntk_tx.as_ref(), t), cov)
}

/// The same prediction as [`augmented_prediction`] through [`BlockPredictor`]: the kernel is
/// evaluated on `N × |G|N` training pairs and `M × |G|N` test pairs only, and the system is
/// solved irrep by irrep. Needs a kernel invariant under simultaneous transformation.
#[allow(clippy::too_many_arguments)]
pub fn block_prediction(
    net: &Network,
    aug: &FiniteAugmentation,
    x_train: &Batch,
    y_train: MatRef<f64>,
    output: OutputTransform,
    x_test: &Batch,
    times: &[f64],
    learning_rate: f64,
    diag_reg: f64,
    with_cov: bool,
) -> Result<AugmentedPrediction> {
    check_inputs(net, x_train, y_train, x_test)?;
    check_times(times)?;
    let rho_y = output.matrices(aug, y_train.ncols())?;
    let xa = aug.augment_batch(x_train)?;
    let train = net.kernel(x_train, Some(&xa))?;
    let cross = net.kernel(x_test, Some(&xa))?;
    let nngp_train = if with_cov { Some(train.nngp()?) } else { None };
    let p = BlockPredictor::new(
        aug.group(),
        aug.irreps(),
        train.ntk()?.as_ref(),
        nngp_train.as_ref().map(|m| m.as_ref()),
        y_train,
        &rho_y,
        learning_rate,
        diag_reg,
    )?;
    let ntk_tx = cross.ntk()?;
    let nngp_tx = cross.nngp()?;
    let test = if with_cov {
        Some(net.kernel(x_test, None)?.nngp()?)
    } else {
        None
    };
    let cov = test
        .as_ref()
        .map(|k| |t| p.covariance(k.as_ref(), nngp_tx.as_ref(), ntk_tx.as_ref(), t));
    Prediction::at_times(times, |t| p.mean(ntk_tx.as_ref(), t), cov)
}

/// Errors on an empty list or a time that is NaN or negative.
pub(crate) fn check_times(times: &[f64]) -> Result<()> {
    if times.is_empty() {
        return Err(Error::Invalid("the list of times is empty".into()));
    }
    if let Some(t) = times.iter().find(|t| t.is_nan() || **t < 0.0) {
        return Err(Error::Invalid(format!(
            "training time {t} is not allowed: times must be numbers >= 0 or inf"
        )));
    }
    Ok(())
}
