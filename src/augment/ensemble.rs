//! Finite ensembles trained with and without augmentation, and their equivariance as the
//! number of members M grows (MATH.md §8: the ensemble mean is equivariant up to a Monte-Carlo
//! error ~ M^{−1/2} plus a finite-width error, a single member is not).

use faer::MatRef;

use super::augmentation::FiniteAugmentation;
use super::output::{augment_targets, OutputTransform};
use crate::data::Batch;
use crate::error::Result;
use crate::finite::{train_ensemble, EnsembleConfig, EnsembleRun};
use crate::network::Network;

/// Trains `config.members` networks on `(x_train, y_train)`, fully augmented by `aug` when
/// given (targets transformed by `output`), and records their outputs on the `G`-orbits of
/// `x_test` under `orbit_group` (input-major, see [`FiniteAugmentation::orbit_batch`]).
#[allow(clippy::too_many_arguments)]
pub fn train_on_orbits(
    net: &Network,
    aug: Option<&FiniteAugmentation>,
    x_train: &Batch,
    y_train: MatRef<f64>,
    output: OutputTransform,
    orbit_group: &FiniteAugmentation,
    x_test: &Batch,
    config: &EnsembleConfig,
) -> Result<EnsembleRun> {
    let orbits = orbit_group.orbit_batch(x_test)?;
    train_augmented(net, aug, x_train, y_train, output, &orbits, config)
}

/// Trains `config.members` networks on `(x_train, y_train)`, fully augmented by `aug` when
/// given (the group-major set `ρ_X(g) x_i`, `ρ_Y(g) y_i` with `ρ_Y` from `output`), and records
/// their outputs on `x_eval` as it is.
pub fn train_augmented(
    net: &Network,
    aug: Option<&FiniteAugmentation>,
    x_train: &Batch,
    y_train: MatRef<f64>,
    output: OutputTransform,
    x_eval: &Batch,
    config: &EnsembleConfig,
) -> Result<EnsembleRun> {
    match aug {
        Some(a) => {
            let rho = output.matrices(a, y_train.ncols())?;
            let xa = a.augment_batch(x_train)?;
            let ya = augment_targets(y_train, &rho)?;
            train_ensemble(net, &xa, ya.as_ref(), x_eval, config)
        }
        None => train_ensemble(net, x_train, y_train, x_eval, config),
    }
}
