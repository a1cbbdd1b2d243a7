//! Fixtures shared by the test files (`mod common;` in each).
#![allow(dead_code)]

pub mod cli;
pub mod digits;
pub mod prediction;

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

/// One neural-tangents reference case of `tests/reference/*.json` (written by the script beside
/// it): a network file, two batches and neural-tangents' NNGP and NTK between them.
pub struct ReferenceCase {
    pub name: String,
    pub network: eqntk::Network,
    pub x1: Batch,
    pub x2: Batch,
    pub nngp: Mat<f64>,
    pub ntk: Mat<f64>,
}

/// The cases of `tests/reference/<file>` (fields `name`, `network`, `shape`, `x1`, `x2`,
/// `nngp`, `ntk`; arrays flattened row-major).
pub fn reference_cases(file: &str) -> Vec<ReferenceCase> {
    let path = format!("tests/reference/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            let network = eqntk::Network::from_toml_str(c["network"].as_str().unwrap(), &name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let shape: Vec<usize> = floats(&c["shape"]).iter().map(|&s| s as usize).collect();
            let per: usize = shape.iter().product();
            let (x1, x2) = (floats(&c["x1"]), floats(&c["x2"]));
            let (n1, n2) = (x1.len() / per, x2.len() / per);
            let m = |v: Vec<f64>| Mat::from_fn(n1, n2, |i, j| v[i * n2 + j]);
            ReferenceCase {
                nngp: m(floats(&c["nngp"])),
                ntk: m(floats(&c["ntk"])),
                x1: Batch::new(shape.clone(), x1).unwrap(),
                x2: Batch::new(shape, x2).unwrap(),
                network,
                name,
            }
        })
        .collect()
}

/// The mean over the 3 × 3 entries of the root-mean-square error of one finite network's
/// empirical NTK against the analytic `t`, relative to its largest entry, from a Monte-Carlo
/// estimate over `mc.samples` networks (`√(var + bias²)` per entry).
pub fn ntk_rms_error(mc: &eqntk::finite::MonteCarlo, t: &Mat<f64>) -> f64 {
    let m = mc.samples as f64;
    let mut err = 0.0;
    for r in 0..3 {
        for c in 0..3 {
            let var = mc.ntk_se[(r, c)].powi(2) * (m - 1.0);
            err += (var + (mc.ntk_mean[(r, c)] - t[(r, c)]).powi(2)).sqrt();
        }
    }
    err / (9.0 * max_abs(t))
}

/// Every 3-D point of every example of `x` (`[P, 3]` examples) mapped by `m`, built here from the
/// matrix, independently of the library's actions.
pub fn rotate_points3(m: &eqntk::group::Matrix3, x: &Batch) -> Batch {
    let rows: Vec<Vec<f64>> = (0..x.len())
        .map(|i| {
            x.example(i)
                .chunks(3)
                .flat_map(|p| m.apply([p[0], p[1], p[2]]))
                .collect()
        })
        .collect();
    Batch::from_examples(x.shape().to_vec(), &rows).unwrap()
}
