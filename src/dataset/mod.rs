//! Data made in the project, with no download: each generator is seeded and deterministic, and
//! each target has a stated symmetry that its tests check.
//!
//! | generator | inputs | target | symmetry of the target |
//! |---|---|---|---|
//! | [`IsingSampler`] | `[L, L, 1]` spins ±1 | energy per site | p4m on the torus, spin flip |
//! | [`RadialImages`] | `[H, H, 1]` | radially weighted mean | D4 about the centre |
//! | [`PointSets`] | `[P, 2]` points | Σ pairwise distances / Σ r_i‖r_i‖ | O(2), permutations (invariant / equivariant) |
//! | [`LennardJones`] | `[P, 3]` atoms (centred) | LJ energy / forces `−∇E` (flattened `3P`) | O(3), translations, permutations (invariant / equivariant) |
//! | `PeriodicSignals` | `[n, 1]` | weighted power spectrum | SO(2) shifts, reversal |
//!
//! User data comes in through [`crate::io::read_batch`] and [`crate::io::read_array`], and
//! whole data sets (training and test examples with labels) through [`LabelledData`].

mod file;
mod images;
mod ising;
mod lennard_jones;
mod points;
mod signals;

use faer::Mat;

use crate::data::Batch;

pub(crate) use file::one_hot;
pub use file::{accuracy, argmax, LabelledData, Labels, Split, MAX_CLASSES};
pub use images::RadialImages;
pub use ising::{exact_mean_energy_per_site, magnetisation, IsingSampler, IsingStart};
pub use lennard_jones::{LennardJones, LjTarget};
pub use points::{PointSets, PointTarget};
pub(crate) use signals::PeriodicSignals;

/// Inputs and targets of a generated data set: `inputs` holds N examples, `targets` is N × O
/// (row i belongs to example i), ready for [`crate::Predictor`].
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The N examples.
    pub inputs: Batch,
    /// The N × O targets.
    pub targets: Mat<f64>,
}

impl Dataset {
    /// Builds a data set from examples (each of `shape`) and target rows; both of length N ≥ 1.
    pub(crate) fn from_rows(
        shape: Vec<usize>,
        examples: &[Vec<f64>],
        targets: &[Vec<f64>],
    ) -> crate::Result<Self> {
        let o = targets.first().map_or(0, Vec::len);
        Ok(Self {
            inputs: Batch::from_examples(shape, examples)?,
            targets: Mat::from_fn(targets.len(), o, |i, j| targets[i][j]),
        })
    }
}
