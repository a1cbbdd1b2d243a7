//! The Monte-Carlo agreement rule of MATH.md §9, shared by the Monte-Carlo test files.

use faer::Mat;

/// z-score of the agreement test (MATH.md §9: z ≈ 4–5).
pub const Z: f64 = 5.0;

/// The finite-width bias allowance `BIAS · scale / width`, `scale` the largest |analytic| entry.
///
/// The mean of a finite network's empirical kernel differs from the analytic one by O(1/n): a
/// layer after the first sees the empirical covariance of its n inputs, and the dual activation
/// is nonlinear in it, so `E[T(K̂)] − T(K) ≈ ½ T''·Var(K̂) = O(K/n)` (zero for networks with one
/// hidden layer, and for linear networks). `measure_bias` in `tests/monte_carlo.rs` (ignored;
/// run with `--ignored`) measured `n · |bias| / scale` at widths 4, 8, 16 with 10 000 networks
/// each: at most 0.28 (ReLU MLP, two hidden layers, NNGP; ≤ 0.2 for the CNNs, consistent with 0
/// for identity), and constant in n, as an O(1/n) bias must be. 0.5 covers it; at the widths
/// tested (≥ 64) it is well below one standard error.
pub const BIAS: f64 = 0.5;

/// The largest |entry|.
pub fn max_abs(m: &Mat<f64>) -> f64 {
    let mut a = 0.0f64;
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            a = a.max(m[(i, j)].abs());
        }
    }
    a
}

/// The tolerance of entry (i, j): `Z·se + BIAS·scale/width + 1e-12·scale`.
pub fn tolerance(analytic: &Mat<f64>, se: &Mat<f64>, width: usize, i: usize, j: usize) -> f64 {
    let scale = max_abs(analytic);
    Z * se[(i, j)] + BIAS * scale / width as f64 + 1e-12 * scale
}

/// Assert `|MC mean − analytic| ≤ Z·se + BIAS·scale/width` for every entry; returns the largest
/// `|MC mean − analytic| / se` (the measured z-score).
pub fn assert_within(
    name: &str,
    what: &str,
    analytic: &Mat<f64>,
    mean: &Mat<f64>,
    se: &Mat<f64>,
    width: usize,
    samples: usize,
) -> f64 {
    let scale = max_abs(analytic);
    assert!(
        scale > 1e-3,
        "{name}: the analytic {what} is trivially small"
    );
    let mut z = 0.0f64;
    for i in 0..analytic.nrows() {
        for j in 0..analytic.ncols() {
            let d = (mean[(i, j)] - analytic[(i, j)]).abs();
            let tol = tolerance(analytic, se, width, i, j);
            assert!(
                d <= tol,
                "{name} {what}[{i},{j}]: analytic {:.6} vs Monte Carlo {:.6} ± {:.2e} (se), \
                 |diff| {:.2e} > tol {:.2e} (width {width}, {samples} samples)",
                analytic[(i, j)],
                mean[(i, j)],
                se[(i, j)],
                d,
                tol
            );
            z = z.max(d / se[(i, j)]);
        }
    }
    z
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
