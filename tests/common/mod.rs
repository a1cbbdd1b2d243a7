//! Fixtures shared by the test files (`mod common;` in each).
#![allow(dead_code)]

pub mod cli;

use eqntk::Batch;
use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// `n` examples of `shape` with i.i.d. N(0, 1) entries from `seed`.
pub fn normal_batch(shape: &[usize], n: usize, seed: u64) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let per: usize = shape.iter().product();
    let v = (0..n * per)
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .collect();
    Batch::new(shape.to_vec(), v).unwrap()
}

/// The largest |entry| of `m`.
pub fn max_abs(m: &Mat<f64>) -> f64 {
    (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)].abs()))
        .fold(0.0, f64::max)
}

/// Assert `|a − b| ≤ tol · max(1, max |b|)` entrywise.
pub fn assert_close(a: &Mat<f64>, b: &Mat<f64>, tol: f64, what: &str) {
    assert_eq!(
        (a.nrows(), a.ncols()),
        (b.nrows(), b.ncols()),
        "{what}: shapes"
    );
    let scale = max_abs(b).max(1.0);
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            let d = (a[(i, j)] - b[(i, j)]).abs();
            assert!(
                d <= tol * scale,
                "{what}[{i},{j}]: {} vs {} (|diff| {d:.2e} > {:.1e})",
                a[(i, j)],
                b[(i, j)],
                tol * scale
            );
        }
    }
}

/// The least-squares slope of `ln y` against `ln x`.
pub fn log_log_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
    let n = logs.len() as f64;
    let (mx, my) = (
        logs.iter().map(|l| l.0).sum::<f64>() / n,
        logs.iter().map(|l| l.1).sum::<f64>() / n,
    );
    logs.iter().map(|l| (l.0 - mx) * (l.1 - my)).sum::<f64>()
        / logs.iter().map(|l| (l.0 - mx).powi(2)).sum::<f64>()
}
