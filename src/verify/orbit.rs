//! Orbits of batches under a group (MATH.md §6): transformed copies, orbit-averaged kernels and
//! augmented training sets. Kept small and private to the checks.

use faer::Mat;

use crate::action::action_for;
use crate::data::Batch;
use crate::error::Result;
use crate::group::GroupSpec;

/// `[g·x for g in G]`, in the group's element order (element 0 is the identity).
pub(crate) fn transformed(g: &GroupSpec, x: &Batch) -> Result<Vec<Batch>> {
    let action = action_for(g, x.shape())?;
    action
        .group()
        .elements()
        .map(|e| action.act_on_batch(e, x))
        .collect()
}

/// `(1/|G|) Σ_g k(x1, g·x2)` for both kernels, with `kernel(x2')` computing `(K, Θ)(x1, x2')`.
pub(crate) fn orbit_kernels(
    g: &GroupSpec,
    x2: &Batch,
    mut kernel: impl FnMut(&Batch) -> Result<(Mat<f64>, Mat<f64>)>,
) -> Result<(Mat<f64>, Mat<f64>)> {
    let images = transformed(g, x2)?;
    let n = images.len() as f64;
    let mut sum: Option<(Mat<f64>, Mat<f64>)> = None;
    for gx in &images {
        let (k, t) = kernel(gx)?;
        sum = Some(match sum {
            None => (k, t),
            Some((sk, st)) => (sk + k, st + t),
        });
    }
    let (k, t) = sum.expect("a group has at least one element");
    Ok((k * faer::Scale(1.0 / n), t * faer::Scale(1.0 / n)))
}

/// The fully augmented training set: `g·x_i` for every `g` (outer) and `i` (inner), with the
/// targets repeated (invariant targets, `ρ_Y` trivial).
pub(crate) fn augment(g: &GroupSpec, x: &Batch, y: &Mat<f64>) -> Result<(Batch, Mat<f64>)> {
    let images = transformed(g, x)?;
    let rows: Vec<Vec<f64>> = images
        .iter()
        .flat_map(|b| (0..b.len()).map(move |i| b.example(i).to_vec()))
        .collect();
    let n = x.len();
    let ya = Mat::from_fn(n * images.len(), y.ncols(), |r, c| y[(r % n, c)]);
    Ok((Batch::from_examples(x.shape().to_vec(), &rows)?, ya))
}
