//! The infinite-ensemble predictor against independent references: a scaling-and-squaring
//! Taylor matrix exponential, Gaussian elimination, and an RK4 integration of the gradient flow
//! itself — none of them uses an eigendecomposition.

// Textbook index loops keep the reference linear algebra obviously right.
#![allow(clippy::needless_range_loop)]

use eqntk::predict::{parse_times, Predictor, TrainingKernels};
use eqntk::Error;
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

type Dense = Vec<Vec<f64>>;

// ---------- independent dense linear algebra (row-major Vec<Vec<f64>>) ----------

fn zeros(r: usize, c: usize) -> Dense {
    vec![vec![0.0; c]; r]
}

fn eye(n: usize) -> Dense {
    let mut a = zeros(n, n);
    for (i, row) in a.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    a
}

fn matmul(a: &Dense, b: &Dense) -> Dense {
    let (n, k, m) = (a.len(), b.len(), b[0].len());
    let mut c = zeros(n, m);
    for i in 0..n {
        for l in 0..k {
            for j in 0..m {
                c[i][j] += a[i][l] * b[l][j];
            }
        }
    }
    c
}

fn transpose(a: &Dense) -> Dense {
    (0..a[0].len())
        .map(|j| a.iter().map(|r| r[j]).collect())
        .collect()
}

fn add(a: &Dense, b: &Dense, beta: f64) -> Dense {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(u, v)| u + beta * v).collect())
        .collect()
}

fn scale(a: &Dense, s: f64) -> Dense {
    a.iter()
        .map(|r| r.iter().map(|v| v * s).collect())
        .collect()
}

/// e^A by scaling and squaring of a Taylor series.
fn expm(a: &Dense) -> Dense {
    let n = a.len();
    let norm = a
        .iter()
        .map(|r| r.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let squarings = if norm > 0.5 {
        (norm / 0.5).log2().ceil() as i32
    } else {
        0
    };
    let b = scale(a, 0.5_f64.powi(squarings));
    let mut result = eye(n);
    let mut term = eye(n);
    for k in 1..40 {
        term = scale(&matmul(&term, &b), 1.0 / k as f64);
        result = add(&result, &term, 1.0);
    }
    for _ in 0..squarings {
        result = matmul(&result, &result);
    }
    result
}

/// Solves A X = B by Gaussian elimination with partial pivoting.
fn solve(a: &Dense, b: &Dense) -> Dense {
    let n = a.len();
    let m = b[0].len();
    let mut a = a.clone();
    let mut b = b.clone();
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap();
        a.swap(col, piv);
        b.swap(col, piv);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            for k in col..n {
                a[row][k] -= f * a[col][k];
            }
            for k in 0..m {
                b[row][k] -= f * b[col][k];
            }
        }
    }
    let mut x = zeros(n, m);
    for row in (0..n).rev() {
        for k in 0..m {
            let s: f64 = (row + 1..n).map(|j| a[row][j] * x[j][k]).sum();
            x[row][k] = (b[row][k] - s) / a[row][row];
        }
    }
    x
}

/// Θ⁻¹ (I − e^{−s Θ}) without inverting Θ: the top-right block of
/// exp([[−sΘ, I], [0, 0]]) is φ₁(−sΘ) = (−sΘ)⁻¹(e^{−sΘ} − I), so the answer is s·φ₁(−sΘ).
/// Valid for singular Θ.
fn inv_expm1_block(theta: &Dense, s: f64) -> Dense {
    let n = theta.len();
    let mut big = zeros(2 * n, 2 * n);
    for i in 0..n {
        for j in 0..n {
            big[i][j] = -s * theta[i][j];
        }
        big[i][n + i] = 1.0;
    }
    let e = expm(&big);
    (0..n)
        .map(|i| (0..n).map(|j| s * e[i][n + j]).collect())
        .collect()
}

/// Θ⁻¹ (I − e^{−s Θ}) by a linear solve (Θ invertible); s = ∞ gives Θ⁻¹.
fn inv_expm1_solve(theta: &Dense, s: f64) -> Dense {
    let n = theta.len();
    let rhs = if s.is_infinite() {
        eye(n)
    } else {
        add(&eye(n), &expm(&scale(theta, -s)), -1.0)
    };
    solve(theta, &rhs)
}

/// Mean and covariance from S = Θ⁻¹ E_t by MATH.md §8 written out term by term.
fn reference(p: &Problem, s_mat: &Dense) -> (Dense, Dense) {
    let proj = matmul(&p.ntk_test_train, s_mat); // Θ(x,X) Θ⁻¹ E_t
    let mean = matmul(&proj, &p.y);
    let quad = matmul(&matmul(&proj, &p.nngp_train), &transpose(&proj));
    let cross = matmul(&proj, &transpose(&p.nngp_test_train));
    let cov = add(
        &add(&add(&p.nngp_test_test, &quad, 1.0), &cross, -1.0),
        &transpose(&cross),
        -1.0,
    );
    (mean, cov)
}

// ---------- realistic SPD kernels from random features ----------

struct Problem {
    ntk_train: Dense,
    nngp_train: Dense,
    ntk_test_train: Dense,
    nngp_test_train: Dense,
    nngp_test_test: Dense,
    y: Dense,
}

/// Kernels of a linear part plus a random-feature ReLU map on points `z` (train rows first):
/// Θ = Z Zᵀ/d + 2 Φ Φᵀ + 0.1, K = Z Zᵀ/(2d) + Φ Φᵀ + 0.1, with Φ = relu(Z Wᵀ)/√p.
fn kernels_of(z: &Dense, rng: &mut ChaCha8Rng) -> (Dense, Dense) {
    let d = z[0].len();
    let p = 96;
    let w: Dense = (0..p)
        .map(|_| (0..d).map(|_| StandardNormal.sample(rng)).collect())
        .collect();
    let phi: Dense = z
        .iter()
        .map(|x| {
            w.iter()
                .map(|wr| {
                    let u: f64 = wr.iter().zip(x).map(|(a, b)| a * b).sum();
                    u.max(0.0) / (p as f64).sqrt()
                })
                .collect()
        })
        .collect();
    let lin = scale(&matmul(z, &transpose(z)), 1.0 / d as f64);
    let feat = matmul(&phi, &transpose(&phi));
    let n = z.len();
    let ones: Dense = vec![vec![0.1; n]; n];
    let ntk = add(&add(&lin, &feat, 2.0), &ones, 1.0);
    let nngp = add(&add(&scale(&lin, 0.5), &feat, 1.0), &ones, 1.0);
    (symmetrise(&ntk), symmetrise(&nngp))
}

fn symmetrise(a: &Dense) -> Dense {
    add(&scale(a, 0.5), &scale(&transpose(a), 0.5), 1.0)
}

fn gaussian(rng: &mut ChaCha8Rng, r: usize, c: usize) -> Dense {
    (0..r)
        .map(|_| (0..c).map(|_| StandardNormal.sample(rng)).collect())
        .collect()
}

/// `n` training points (the rows listed in `duplicates` as (copy, original) repeat earlier
/// rows), `m` test points, `o` outputs; duplicated rows get the original's targets.
fn problem(seed: u64, n: usize, m: usize, o: usize, duplicates: &[(usize, usize)]) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut z = gaussian(&mut rng, n + m, 4);
    let mut y = gaussian(&mut rng, n, o);
    for &(copy, original) in duplicates {
        z[copy] = z[original].clone();
        y[copy] = y[original].clone();
    }
    let (ntk, nngp) = kernels_of(&z, &mut rng);
    let block = |a: &Dense, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| -> Dense {
        rows.map(|i| a[i][cols.clone()].to_vec()).collect()
    };
    Problem {
        ntk_train: block(&ntk, 0..n, 0..n),
        nngp_train: block(&nngp, 0..n, 0..n),
        ntk_test_train: block(&ntk, n..n + m, 0..n),
        nngp_test_train: block(&nngp, n..n + m, 0..n),
        nngp_test_test: block(&nngp, n..n + m, n..n + m),
        y,
    }
}

fn mat(a: &Dense) -> Mat<f64> {
    Mat::from_fn(a.len(), a[0].len(), |i, j| a[i][j])
}

fn predictor(p: &Problem, lr: f64, diag_reg: f64) -> Predictor {
    Predictor::new(
        mat(&p.ntk_train).as_ref(),
        mat(&p.nngp_train).as_ref(),
        mat(&p.y).as_ref(),
        lr,
        diag_reg,
    )
    .unwrap()
}

fn mean_at(pred: &Predictor, p: &Problem, t: f64) -> Mat<f64> {
    pred.mean(mat(&p.ntk_test_train).as_ref(), t).unwrap()
}

fn cov_at(pred: &Predictor, p: &Problem, t: f64) -> Mat<f64> {
    pred.covariance(
        mat(&p.nngp_test_test).as_ref(),
        mat(&p.nngp_test_train).as_ref(),
        mat(&p.ntk_test_train).as_ref(),
        t,
    )
    .unwrap()
}

/// max |a − b| / max(|b|, floor)
fn rel_err(a: &Mat<f64>, b: &Dense) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.len(), b[0].len()));
    let mut diff = 0.0_f64;
    let mut size = 1e-300_f64;
    for (i, row) in b.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            diff = diff.max((a[(i, j)] - v).abs());
            size = size.max(v.abs());
        }
    }
    diff / size
}

// ---------- tests ----------

#[test]
fn zero_time_is_the_prior() {
    let p = problem(1, 7, 4, 2, &[]);
    let pred = predictor(&p, 1.0, 0.0);
    let mean = mean_at(&pred, &p, 0.0);
    let cov = cov_at(&pred, &p, 0.0);
    for i in 0..4 {
        for o in 0..2 {
            assert_eq!(mean[(i, o)], 0.0);
        }
        for j in 0..4 {
            assert_eq!(cov[(i, j)], p.nngp_test_test[i][j]);
        }
    }
}

#[test]
fn infinite_time_interpolates_the_training_targets() {
    let p = problem(2, 8, 3, 3, &[]);
    let pred = predictor(&p, 1.0, 0.0);
    let on_train = pred
        .mean(mat(&p.ntk_train).as_ref(), f64::INFINITY)
        .unwrap();
    assert!(rel_err(&on_train, &p.y) < 1e-10);
    // And the posterior covariance at the training points (x = x' = X) vanishes.
    let cov = pred
        .covariance(
            mat(&p.nngp_train).as_ref(),
            mat(&p.nngp_train).as_ref(),
            mat(&p.ntk_train).as_ref(),
            f64::INFINITY,
        )
        .unwrap();
    let scale = p
        .nngp_train
        .iter()
        .flatten()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    for i in 0..8 {
        for j in 0..8 {
            assert!(cov[(i, j)].abs() < 1e-9 * scale, "{}", cov[(i, j)]);
        }
    }
}

#[test]
fn infinite_time_matches_a_linear_solve() {
    let p = problem(3, 9, 5, 2, &[]);
    let pred = predictor(&p, 0.5, 0.0);
    let s = inv_expm1_solve(&p.ntk_train, f64::INFINITY);
    let (mean, cov) = reference(&p, &s);
    assert!(rel_err(&mean_at(&pred, &p, f64::INFINITY), &mean) < 1e-10);
    assert!(rel_err(&cov_at(&pred, &p, f64::INFINITY), &cov) < 1e-10);
}

#[test]
fn finite_time_matches_a_brute_force_matrix_exponential() {
    let (n, m, o) = (6, 4, 3);
    let p = problem(4, n, m, o, &[]);
    let lr = 0.7;
    let pred = predictor(&p, lr, 0.0);
    for t in [0.05, 1.0, 7.5, 40.0, 300.0] {
        let s = lr * t / (n * o) as f64;
        for s_mat in [
            inv_expm1_solve(&p.ntk_train, s),
            inv_expm1_block(&p.ntk_train, s),
        ] {
            let (mean, cov) = reference(&p, &s_mat);
            let em = rel_err(&mean_at(&pred, &p, t), &mean);
            let ec = rel_err(&cov_at(&pred, &p, t), &cov);
            assert!(em < 1e-9, "mean at t = {t}: rel. error {em:e}");
            assert!(ec < 1e-9, "covariance at t = {t}: rel. error {ec:e}");
        }
    }
}

/// The convention itself: on the training inputs μ_t solves d f/dt = −η/(N·O) Θ (f − Y), f(0) = 0,
/// and a test point follows d f(x)/dt = −η/(N·O) Θ(x,X) (f(X) − Y). Integrated by RK4.
#[test]
fn mean_solves_the_gradient_flow_with_neural_tangents_normalisation() {
    let (n, m, o) = (5, 3, 2);
    let p = problem(5, n, m, o, &[]);
    let lr = 1.3;
    let t_end = 20.0;
    let pred = predictor(&p, lr, 0.0);
    let c = lr / (n * o) as f64;
    // State: rows 0..n are f(X), rows n..n+m are f(x).
    let mut big_theta = p.ntk_train.clone();
    big_theta.extend(p.ntk_test_train.iter().cloned());
    let rhs = |f: &Dense| -> Dense {
        let resid = add(&f[..n].to_vec(), &p.y, -1.0);
        scale(&matmul(&big_theta, &resid), -c)
    };
    let steps = 4000;
    let h = t_end / steps as f64;
    let mut f = zeros(n + m, o);
    for _ in 0..steps {
        let k1 = rhs(&f);
        let k2 = rhs(&add(&f, &k1, h / 2.0));
        let k3 = rhs(&add(&f, &k2, h / 2.0));
        let k4 = rhs(&add(&f, &k3, h));
        let incr = add(&add(&k1, &k2, 2.0), &add(&k3, &k4, 0.5), 2.0);
        f = add(&f, &incr, h / 6.0);
    }
    let on_train = pred.mean(mat(&p.ntk_train).as_ref(), t_end).unwrap();
    assert!(rel_err(&on_train, &f[..n].to_vec()) < 1e-9);
    assert!(rel_err(&mean_at(&pred, &p, t_end), &f[n..].to_vec()) < 1e-9);
}

#[test]
fn learning_rate_multiplies_time() {
    let p = problem(6, 6, 3, 1, &[]);
    let slow = predictor(&p, 1.0, 0.0);
    let fast = predictor(&p, 4.0, 0.0);
    let a = mean_at(&fast, &p, 2.5);
    let b = mean_at(&slow, &p, 10.0);
    let b: Dense = (0..3).map(|i| vec![b[(i, 0)]]).collect();
    assert!(rel_err(&a, &b) < 1e-12);
}

/// neural-tangents adds diag_reg · trace(Θ)/N to Θ(X,X) only; Θ(x,X) and K(X,X) are untouched.
#[test]
fn diag_reg_is_relative_to_the_mean_trace_and_regularises_theta_only() {
    let (n, m, o) = (7, 3, 2);
    let p = problem(7, n, m, o, &[]);
    let diag_reg = 0.03;
    let pred = predictor(&p, 1.0, diag_reg);
    let trace: f64 = (0..n).map(|i| p.ntk_train[i][i]).sum();
    let r = diag_reg * trace / n as f64;
    assert!((pred.regulariser() - r).abs() < 1e-15 * r.abs().max(1.0));
    let theta_reg = add(&p.ntk_train, &eye(n), r);
    for t in [3.0, f64::INFINITY] {
        let s = inv_expm1_solve(&theta_reg, t / (n * o) as f64);
        let (mean, cov) = reference(&p, &s);
        assert!(rel_err(&mean_at(&pred, &p, t), &mean) < 1e-10);
        assert!(rel_err(&cov_at(&pred, &p, t), &cov) < 1e-10);
    }
}

#[test]
fn repeated_training_inputs_at_finite_time_match_the_singular_brute_force() {
    let (n, m, o) = (7, 4, 2);
    let p = problem(8, n, m, o, &[(5, 1), (6, 3)]);
    let pred = predictor(&p, 1.0, 0.0);
    let eig = pred.eigenvalues();
    assert!(
        eig[0].abs() < 1e-12 * eig[n - 1],
        "Θ should be singular: {eig:?}"
    );
    for t in [0.5, 10.0, 200.0] {
        let s_mat = inv_expm1_block(&p.ntk_train, t / (n * o) as f64);
        let (mean, cov) = reference(&p, &s_mat);
        assert!(rel_err(&mean_at(&pred, &p, t), &mean) < 1e-9);
        assert!(rel_err(&cov_at(&pred, &p, t), &cov) < 1e-9);
    }
}

/// With consistent duplicates the t = ∞ predictor equals the one on the de-duplicated set.
#[test]
fn repeated_training_inputs_at_infinite_time_equal_the_deduplicated_problem() {
    let (n, m, o) = (7, 4, 2);
    let p = problem(9, n, m, o, &[(5, 1), (6, 3)]);
    let pred = predictor(&p, 1.0, 0.0);
    let keep = [0, 1, 2, 3, 4];
    let pick_rows = |a: &Dense| -> Dense { keep.iter().map(|&i| a[i].clone()).collect() };
    let pick_cols = |a: &Dense| -> Dense {
        a.iter()
            .map(|r| keep.iter().map(|&j| r[j]).collect())
            .collect()
    };
    let dedup = Problem {
        ntk_train: pick_cols(&pick_rows(&p.ntk_train)),
        nngp_train: pick_cols(&pick_rows(&p.nngp_train)),
        ntk_test_train: pick_cols(&p.ntk_test_train),
        nngp_test_train: pick_cols(&p.nngp_test_train),
        nngp_test_test: p.nngp_test_test.clone(),
        y: pick_rows(&p.y),
    };
    let s = inv_expm1_solve(&dedup.ntk_train, f64::INFINITY);
    let (mean, cov) = reference(&dedup, &s);
    assert!(rel_err(&mean_at(&pred, &p, f64::INFINITY), &mean) < 1e-9);
    assert!(rel_err(&cov_at(&pred, &p, f64::INFINITY), &cov) < 1e-9);
    // On the training inputs it reproduces every target, duplicates included.
    let on_train = pred
        .mean(mat(&p.ntk_train).as_ref(), f64::INFINITY)
        .unwrap();
    assert!(rel_err(&on_train, &p.y) < 1e-9);
}

/// Two copies of one input with different targets: gradient flow fits their average.
#[test]
fn inconsistent_duplicates_converge_to_the_average_target() {
    let (n, o) = (5, 1);
    let mut p = problem(10, n, 2, o, &[(4, 0)]);
    p.y[4][0] = p.y[0][0] + 3.0;
    let pred = predictor(&p, 1.0, 0.0);
    let on_train = pred
        .mean(mat(&p.ntk_train).as_ref(), f64::INFINITY)
        .unwrap();
    let avg = 0.5 * (p.y[0][0] + p.y[4][0]);
    assert!((on_train[(0, 0)] - avg).abs() < 1e-9);
    assert!((on_train[(4, 0)] - avg).abs() < 1e-9);
    for i in 1..4 {
        assert!((on_train[(i, 0)] - p.y[i][0]).abs() < 1e-9);
    }
}

#[test]
fn training_kernels_record_gives_the_same_predictor() {
    let p = problem(11, 5, 2, 1, &[]);
    let kernels = TrainingKernels {
        ntk_train: mat(&p.ntk_train),
        nngp_train: mat(&p.nngp_train),
    };
    let a = Predictor::from_kernels(&kernels, mat(&p.y).as_ref(), 1.0, 0.0).unwrap();
    let b = predictor(&p, 1.0, 0.0);
    assert_eq!(mean_at(&a, &p, 2.0), mean_at(&b, &p, 2.0));
}

// ---------- bad input ----------

fn expect_err<T: std::fmt::Debug>(r: eqntk::Result<T>, needle: &str) {
    match r {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
            assert!(!msg.contains('\n'), "message is not one line: {msg:?}");
        }
        Ok(v) => panic!("expected an error containing {needle:?}, got {v:?}"),
    }
}

#[test]
fn bad_predictor_arguments_are_errors() {
    let p = problem(12, 5, 2, 2, &[]);
    let (t, k, y) = (mat(&p.ntk_train), mat(&p.nngp_train), mat(&p.y));
    let new = |t: &Mat<f64>, k: &Mat<f64>, y: &Mat<f64>, lr: f64, reg: f64| {
        Predictor::new(t.as_ref(), k.as_ref(), y.as_ref(), lr, reg)
    };
    expect_err(new(&t, &k, &y, 0.0, 0.0), "learning rate");
    expect_err(new(&t, &k, &y, -1.0, 0.0), "learning rate");
    expect_err(new(&t, &k, &y, f64::NAN, 0.0), "learning rate");
    expect_err(new(&t, &k, &y, 1.0, -0.1), "diag_reg");
    expect_err(new(&t, &k, &y, 1.0, f64::NAN), "diag_reg");
    let y4 = Mat::<f64>::zeros(4, 2);
    expect_err(new(&t, &k, &y4, 1.0, 0.0), "4 rows");
    let k4 = Mat::<f64>::zeros(4, 4);
    expect_err(new(&t, &k4, &y, 1.0, 0.0), "4×4, expected 5×5");
    let mut tn = t.clone();
    tn[(1, 2)] = f64::NAN;
    expect_err(new(&tn, &k, &y, 1.0, 0.0), "non-finite");
    let mut yi = y.clone();
    yi[(3, 1)] = f64::INFINITY;
    expect_err(new(&t, &k, &yi, 1.0, 0.0), "at [3, 1]");
    let mut ta = t.clone();
    ta[(0, 1)] += 1.0;
    expect_err(new(&ta, &k, &y, 1.0, 0.0), "not symmetric");
    let neg = Mat::from_fn(5, 5, |i, j| if i == j { -1.0 } else { 0.0 });
    expect_err(new(&neg, &k, &y, 1.0, 0.0), "positive semi-definite");
    let empty = Mat::<f64>::zeros(0, 0);
    expect_err(new(&empty, &empty, &Mat::zeros(0, 1), 1.0, 0.0), "empty");

    let pred = predictor(&p, 1.0, 0.0);
    let tt = mat(&p.ntk_test_train);
    expect_err(pred.mean(tt.as_ref(), -1.0), "time");
    expect_err(pred.mean(tt.as_ref(), f64::NAN), "time");
    expect_err(
        pred.mean(Mat::<f64>::zeros(2, 4).as_ref(), 1.0),
        "2×4, expected 2×5",
    );
    let (kxx, kxt) = (mat(&p.nngp_test_test), mat(&p.nngp_test_train));
    expect_err(
        pred.covariance(
            kxx.as_ref(),
            kxt.as_ref(),
            Mat::<f64>::zeros(3, 5).as_ref(),
            1.0,
        ),
        "3×5, expected 2×5",
    );
    let mut kxn = kxx.clone();
    kxn[(0, 0)] = f64::NAN;
    expect_err(
        pred.covariance(kxn.as_ref(), kxt.as_ref(), tt.as_ref(), 1.0),
        "non-finite",
    );
    expect_err(
        pred.covariance(kxx.as_ref(), kxt.as_ref(), tt.as_ref(), -0.5),
        "time",
    );
}

#[test]
fn overflowing_time_is_infinite_time_or_an_error_never_a_nan() {
    // Θ = [[1,1],[1,1]] has a zero eigenvalue, where f(0, t) = c t.
    let n = 2;
    let theta = Mat::from_fn(n, n, |_, _| 1.0);
    let nngp = Mat::from_fn(n, n, |_, _| 1.0);
    let y = Mat::from_fn(n, 1, |i, _| i as f64);
    let pred = Predictor::new(theta.as_ref(), nngp.as_ref(), y.as_ref(), 1e300, 0.0).unwrap();
    // η t / (N·O) overflows to ∞: exactly the t = ∞ prediction.
    let test = Mat::from_fn(1, n, |_, j| 1.0 + j as f64);
    let huge = pred.mean(test.as_ref(), 1e300).unwrap();
    let inf = pred.mean(test.as_ref(), f64::INFINITY).unwrap();
    assert_eq!(huge, inf);
    assert!((inf[(0, 0)] - 0.75).abs() < 1e-12); // Θ(x,X) Θ⁺ Y = (1, 2)·[[¼,¼],[¼,¼]]·(0, 1)
                                                 // Finite but astronomically large c t along the null direction overflows: an error.
    let wild = Mat::from_fn(1, n, |_, j| if j == 0 { 1e10 } else { -1e10 });
    match pred.mean(wild.as_ref(), 1e7) {
        Err(Error::Numeric(msg)) => assert!(msg.contains("non-finite"), "{msg}"),
        other => panic!("expected a numeric error, got {other:?}"),
    }
}

#[test]
fn times_parse() {
    assert_eq!(
        parse_times("0,1,10,inf").unwrap(),
        vec![0.0, 1.0, 10.0, f64::INFINITY]
    );
    assert_eq!(
        parse_times(" 0.5 , 1e3,Infinity").unwrap(),
        vec![0.5, 1000.0, f64::INFINITY]
    );
    expect_err(parse_times("0,-1"), "time #2");
    expect_err(parse_times("0,nan"), "NaN");
    expect_err(parse_times("1,abc"), "not a number");
    expect_err(parse_times("1,,2"), "empty");
    expect_err(parse_times(""), "empty");
    expect_err(parse_times("-inf"), ">= 0");
}
