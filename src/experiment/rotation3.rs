//! Shared pieces of the 3-D experiments: Lennard-Jones training data, orbits of `[P, 3]` point
//! sets under given rotations, and the infinite-ensemble mean μ_t trained with or without a 3-D
//! rotation group.

use faer::Mat;

use crate::action::Domain;
use crate::augment::{Augmentation, InfiniteEnsemble, OutputTransform, TrainingSet};
use crate::data::Batch;
use crate::dataset::{Dataset, LennardJones};
use crate::error::{Error, Result};
use crate::group::{Matrix3, Rotation3Group};
use crate::network::Network;

/// Checks an augmentation name of a 3-D experiment: `none`, `SO3`, `O3`, `O`, `Oh` or `I`.
pub(super) fn check_group(name: &str) -> std::result::Result<(), String> {
    if name == "none" || Rotation3Group::from_name(name).is_some() {
        Ok(())
    } else {
        Err(format!(
            "{name:?} does not rotate 3-D point sets (one of none, O, Oh, I, SO3, O3)"
        ))
    }
}

/// `train + test` centred Lennard-Jones clusters of `atoms` atoms (ε = σ = 1), energy targets:
/// the training inputs and targets, and the test inputs.
pub(super) fn lj_data(
    atoms: usize,
    train: usize,
    test: usize,
    seed: u64,
) -> Result<(Batch, Mat<f64>, Batch)> {
    let Dataset { inputs, targets } = LennardJones::new(atoms, train + test, seed).sample()?;
    let x = inputs.slice(0, train)?;
    let y = targets.subrows(0, train).to_owned();
    Ok((x, y, inputs.slice(train, train + test)?))
}

/// The images `R_k x_a` of `[P, 3]` point sets, input-major (row `a·L + k`).
pub(super) fn rotated(x: &Batch, rotations: &[Matrix3]) -> Result<Batch> {
    let shape = x.shape().to_vec();
    if shape.len() != 2 || shape[1] != 3 {
        return Err(Error::Shape(format!(
            "3-D point sets have shape [P, 3], got {shape:?}"
        )));
    }
    let mut rows = Vec::with_capacity(x.len() * rotations.len());
    for a in 0..x.len() {
        for r in rotations {
            rows.push(
                x.example(a)
                    .chunks(3)
                    .flat_map(|p| r.apply([p[0], p[1], p[2]]))
                    .collect::<Vec<f64>>(),
            );
        }
    }
    Batch::from_examples(shape, &rows)
}

/// μ_t on `eval` at each of `times`, for an ensemble trained on `(x, y)` as given (`"none"`)
/// or on its orbit under `group` (irrep blocks for O, Oh, I; orbit-averaged kernels for SO3, O3;
/// invariant targets).
pub(super) fn means(
    net: &Network,
    x: &Batch,
    y: &Mat<f64>,
    group: &str,
    eval: &Batch,
    times: &[f64],
    learning_rate: f64,
) -> Result<Vec<Mat<f64>>> {
    let aug = match group {
        "none" => None,
        g => Some(Augmentation::new(g, Domain::Points, x.shape())?),
    };
    let set = match &aug {
        None => TrainingSet::Given,
        Some(a) => a.training_set(OutputTransform::Invariant, false)?,
    };
    Ok(
        InfiniteEnsemble::train(net, x, y.as_ref(), set, learning_rate, 0.0)?
            .predict(eval, times, false)?
            .mean,
    )
}
