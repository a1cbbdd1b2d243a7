//! Data augmentation for infinite and finite ensembles (MATH.md §6, §8): the prediction of a
//! network trained on the full orbit of its training set under a group.
//!
//! * [`FiniteAugmentation`] — a finite group acting on inputs (site permutations or rotations
//!   `C<k> ⊂ SO(2)`) with its irreps; [`OutputTransform`] — how targets transform (`ρ_Y`).
//! * [`InfiniteEnsemble`] — the prediction of an ensemble trained on a [`TrainingSet`]: as
//!   given, the full orbit under a finite group (explicitly, or through `BlockPredictor`: the
//!   isotypic blocks of the G-circulant Gram matrix, cost `Σ_ψ (d_ψ N)³` instead of
//!   `(|G|N)³`), or the orbit under SO(2)/O(2) exactly through Fourier modes
//!   ([`So2Predictor`]). [`Augmentation`] resolves a group name on a declared domain.
//! * `orbit` — predictions along orbits of test inputs and their equivariance metrics, for
//!   any predictor (infinite ensemble, finite ensemble, single member).
//! * `ensemble` — finite trained ensembles with and without augmentation.
//!
//! Conventions: augmented sets are **group-major** (row `g·N + i` is `ρ_X(g) x_i`, its target
//! `ρ_Y(g) y_i`); orbits of test inputs are **input-major** (row `a·|G| + g` is `ρ_X(g) x_a`).

mod augmentation;
mod block;
pub(crate) mod ensemble;
mod infinite_ensemble;
pub(crate) mod orbit;
mod output;
mod so2;
mod spectral;

pub use augmentation::{FiniteAugmentation, RotationKind};
pub use ensemble::{train_augmented, train_on_orbits};
pub use infinite_ensemble::{Augmentation, InfiniteEnsemble, TrainingSet, SO3_ORBIT_TOL};
pub use orbit::{orbit_summary, so2_orbit_batch, so2_output_matrices};
pub use output::OutputTransform;
pub use so2::{reflected_training_set, So2Predictor};

/// Errors on an empty list of times or a time that is NaN or negative (`inf` is allowed).
pub(crate) fn check_time_list(times: &[f64]) -> crate::Result<()> {
    if times.is_empty() {
        return Err(crate::Error::Invalid("the list of times is empty".into()));
    }
    if let Some(t) = times.iter().find(|t| t.is_nan() || **t < 0.0) {
        return Err(crate::Error::Invalid(format!(
            "training time {t} is not allowed: times must be numbers >= 0 or inf"
        )));
    }
    Ok(())
}
