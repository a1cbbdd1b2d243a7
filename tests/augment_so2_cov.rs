//! The covariance Σ_t of the infinite ensemble trained on the SO(2)-augmented training set
//! (MATH.md §8, [`So2Predictor::covariance`]): the limit of the C_k-augmented covariances, the
//! prior at t = 0, symmetric PSD, invariant under rotating both test inputs together, and the
//! `eqntk predict --augment SO2 --cov` command.

use crate::common;

use common::normal_batch as random_batch;
use std::process::Command;

use common::prediction::{block_prediction, explicit_prediction};
use eqntk::action::Domain;
use eqntk::augment::{FiniteAugmentation, OutputTransform, RotationKind, So2Predictor};
use eqntk::group::GroupSpec;
use eqntk::io::{write_npy, Array};
use eqntk::{Batch, Network};
use faer::{Mat, Side};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn random_targets(n: usize, o: usize, seed: u64) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Mat::from_fn(n, o, |_, _| StandardNormal.sample(&mut rng))
}

/// The `[input]` keys of a planar point set of the given shape (point sets are never the
/// default domain of `[P, 2]`).
fn points(shape: &str) -> String {
    format!("{shape}\ndomain = \"points\"")
}

fn erf_mlp(shape: &str) -> Network {
    Network::from_toml_str(
        &format!(
            r#"
            [input]
            shape = {shape}
            [[layers]]
            kind = "flatten"
            [[layers]]
            kind = "dense"
            w_std = 1.5
            b_std = 0.1
            [[layers]]
            kind = "erf"
            [[layers]]
            kind = "dense"
            w_std = 1.2
            b_std = 0.3
            "#
        ),
        "erf-mlp",
    )
    .unwrap()
}

fn max_abs(a: &Mat<f64>) -> f64 {
    (0..a.ncols())
        .flat_map(|j| (0..a.nrows()).map(move |i| (i, j)))
        .fold(0.0_f64, |m, (i, j)| m.max(a[(i, j)].abs()))
}

/// `max|a − b| / max|b|`.
fn rel_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    max_abs(&(a - b)) / max_abs(b).max(1e-300)
}

fn so2(net: &Network, kind: RotationKind, x: &Batch, y: &Mat<f64>) -> So2Predictor {
    So2Predictor::new(
        net,
        kind,
        x,
        y.as_ref(),
        OutputTransform::Invariant,
        1.0,
        0.0,
        1e-13,
    )
    .unwrap()
}

/// Σ_t of the C_k-augmented training set, by the isotypic blocks or explicitly (`|G|N`
/// examples through the ordinary predictor).
#[allow(clippy::too_many_arguments)]
fn cyclic_cov(
    net: &Network,
    kind: RotationKind,
    k: usize,
    x: &Batch,
    y: &Mat<f64>,
    xt: &Batch,
    t: f64,
    explicit: bool,
) -> Mat<f64> {
    let aug = FiniteAugmentation::from_spec(
        &GroupSpec::Cyclic(k),
        if kind == RotationKind::Points {
            Domain::Points
        } else {
            Domain::Signal
        },
        x.shape(),
    )
    .unwrap();
    let run = if explicit {
        explicit_prediction
    } else {
        block_prediction
    };
    let p = run(
        net,
        &aug,
        x,
        y.as_ref(),
        OutputTransform::Invariant,
        xt,
        &[t],
        1.0,
        0.0,
        true,
    )
    .unwrap();
    p.cov[0].clone()
}

/// The SO(2) covariance is the large-k limit of C_k augmentation: for an analytic (erf) kernel
/// the gap falls with every doubling of k and is ≤ 1e-8 relative at k = 64; at small k the
/// explicit and block C_k covariances agree, so the reference does not rest on the block code.
#[test]
fn so2_covariance_is_the_large_k_limit_of_cyclic_augmentation() {
    for (kind, shape, shape_str) in [
        (RotationKind::Signal, vec![5, 1], "[5, 1]".to_string()),
        (RotationKind::Points, vec![3, 2], points("[3, 2]")),
    ] {
        let net = erf_mlp(&shape_str);
        let x = random_batch(&shape, 3, 51);
        let y = random_targets(3, 1, 52);
        let xt = random_batch(&shape, 3, 53);
        let p = so2(&net, kind, &x, &y);
        for t in [1.0, 10.0] {
            let exact = p.covariance(&xt, t).unwrap();
            let e = cyclic_cov(&net, kind, 4, &x, &y, &xt, t, true);
            let b = cyclic_cov(&net, kind, 4, &x, &y, &xt, t, false);
            assert!(rel_diff(&b, &e) < 1e-10, "{kind:?} C4 explicit vs blocks");
            let gaps: Vec<f64> = [4, 8, 16, 32, 64]
                .iter()
                .map(|&k| rel_diff(&cyclic_cov(&net, kind, k, &x, &y, &xt, t, false), &exact))
                .collect();
            assert!(
                gaps[0] > 1e-4,
                "{kind:?} t = {t}: C4 is not SO(2): {gaps:?}"
            );
            for w in gaps.windows(2).take(3) {
                assert!(w[1] < w[0], "{kind:?} t = {t}: gaps {gaps:?}");
            }
            assert!(gaps[4] <= 1e-8, "{kind:?} t = {t}: gaps {gaps:?}");
        }
    }
}

#[test]
fn at_time_zero_the_covariance_is_the_prior() {
    let net = erf_mlp(&points("[3, 2]"));
    let x = random_batch(&[3, 2], 3, 61);
    let y = random_targets(3, 1, 62);
    let xt = random_batch(&[3, 2], 4, 63);
    let p = so2(&net, RotationKind::Points, &x, &y);
    let cov = p.covariance(&xt, 0.0).unwrap();
    let prior = net.kernel(&xt, None).unwrap().nngp().unwrap();
    assert!(rel_diff(&cov, &prior) <= 1e-14, "{cov:?} vs {prior:?}");
    // Training moves it away from the prior.
    assert!(rel_diff(&p.covariance(&xt, 10.0).unwrap(), &prior) > 1e-3);
}

/// Symmetric and positive semi-definite at every time, also with a training input (where the
/// variance vanishes at t = ∞) and a rotated training input among the test points.
#[test]
fn covariance_is_symmetric_positive_semidefinite() {
    let shape = [3, 2];
    let net = erf_mlp(&points("[3, 2]"));
    let x = random_batch(&shape, 3, 71);
    let y = random_targets(3, 1, 72);
    let extra = random_batch(&shape, 3, 73);
    let on_orbit = RotationKind::Points
        .rotate_batch(&x.slice(0, 1).unwrap(), 1.3)
        .unwrap();
    let xt = Batch::new(
        shape.to_vec(),
        [
            extra.values(),
            x.slice(1, 2).unwrap().values(),
            on_orbit.values(),
        ]
        .concat(),
    )
    .unwrap();
    let p = so2(&net, RotationKind::Points, &x, &y);
    for t in [0.0, 0.1, 1.0, 100.0, f64::INFINITY] {
        let cov = p.covariance(&xt, t).unwrap();
        let m = cov.nrows();
        for i in 0..m {
            for j in 0..m {
                assert_eq!(cov[(i, j)], cov[(j, i)], "t = {t}");
            }
        }
        let evd = cov.self_adjoint_eigen(Side::Lower).unwrap();
        let lmin = (0..m).map(|i| evd.S()[i]).fold(f64::INFINITY, f64::min);
        assert!(
            lmin >= -1e-10 * max_abs(&cov),
            "t = {t}: eigenvalue {lmin:e}"
        );
        if t.is_infinite() {
            // Training inputs (and their rotations) are fitted exactly: no variance left.
            for i in [3, 4] {
                assert!(cov[(i, i)].abs() <= 1e-6 * max_abs(&cov), "{}", cov[(i, i)]);
            }
        }
    }
}

/// `Σ_t(R_α x, R_α x') = Σ_t(x, x')`. Rotating the two inputs by different angles is not a
/// symmetry (already the prior K is only invariant under joint rotations), which the test shows.
#[test]
fn covariance_is_invariant_under_joint_rotations() {
    for (kind, shape, shape_str) in [
        (RotationKind::Points, vec![3, 2], points("[3, 2]")),
        (RotationKind::Signal, vec![5, 1], "[5, 1]".to_string()),
    ] {
        let net = erf_mlp(&shape_str);
        let x = random_batch(&shape, 3, 81);
        let y = random_targets(3, 1, 82);
        let xt = random_batch(&shape, 3, 83);
        let p = so2(&net, kind, &x, &y);
        for t in [1.0, 10.0, f64::INFINITY] {
            let base = p.covariance(&xt, t).unwrap();
            for alpha in [0.7, 2.9, 5.1] {
                let rot = kind.rotate_batch(&xt, alpha).unwrap();
                let d = rel_diff(&p.covariance(&rot, t).unwrap(), &base);
                assert!(d <= 1e-8, "{kind:?} t = {t}, α = {alpha}: {d:e}");
            }
            // Rotate only the first test input: Σ(R x_0, x_1) ≠ Σ(x_0, x_1).
            let first = kind.rotate_batch(&xt.slice(0, 1).unwrap(), 2.0).unwrap();
            let mixed = Batch::new(
                shape.clone(),
                [first.values(), xt.slice(1, 3).unwrap().values()].concat(),
            )
            .unwrap();
            let c = p.covariance(&mixed, t).unwrap();
            assert!(
                (c[(0, 0)] - base[(0, 0)]).abs() <= 1e-8 * max_abs(&base),
                "the variance is invariant"
            );
            assert!(
                (c[(0, 1)] - base[(0, 1)]).abs() > 1e-4 * max_abs(&base),
                "{kind:?} t = {t}: independent rotations are not expected to be a symmetry"
            );
        }
    }
}

fn npy(dir: &std::path::Path, name: &str, shape: Vec<usize>, values: Vec<f64>) -> String {
    let p = dir.join(name);
    write_npy(&p, &Array { shape, values }).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn cli_predict_so2_with_covariance() {
    let dir = std::env::temp_dir().join(format!("eqntk-so2cov-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = r#"
        [input]
        shape = [3, 2]
        domain = "points"
        [[layers]]
        kind = "flatten"
        [[layers]]
        kind = "dense"
        w_std = 1.5
        b_std = 0.1
        [[layers]]
        kind = "erf"
        [[layers]]
        kind = "dense"
        w_std = 1.2
        b_std = 0.3
    "#;
    let net_path = dir.join("net.toml");
    std::fs::write(&net_path, toml).unwrap();
    let x = random_batch(&[3, 2], 3, 91);
    let y = random_targets(3, 1, 92);
    let xt = random_batch(&[3, 2], 2, 93);
    let xp = npy(&dir, "x.npy", vec![3, 3, 2], x.values().to_vec());
    let yp = npy(&dir, "y.npy", vec![3], (0..3).map(|i| y[(i, 0)]).collect());
    let tp = npy(&dir, "xt.npy", vec![2, 3, 2], xt.values().to_vec());
    let out = Command::new(env!("CARGO_BIN_EXE_eqntk"))
        .args([
            "predict",
            "--net",
            net_path.to_str().unwrap(),
            "--x-train",
            &xp,
            "--y-train",
            &yp,
            "--x-test",
            &tp,
            "--time",
            "0,5",
            "--augment",
            "SO2",
            "--cov",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = so2(&net_from(toml), RotationKind::Points, &x, &y);
    for (k, t) in [0.0, 5.0].into_iter().enumerate() {
        let want = p.covariance(&xt, t).unwrap();
        for i in 0..2 {
            for j in 0..2 {
                let got = v["cov"][k][i][j].as_f64().unwrap();
                assert!(
                    (got - want[(i, j)]).abs() <= 1e-12 * max_abs(&want),
                    "t = {t} [{i}, {j}]: {got} vs {}",
                    want[(i, j)]
                );
            }
        }
    }
}

fn net_from(toml: &str) -> Network {
    Network::from_toml_str(toml, "net.toml").unwrap()
}

/// A ReLU kernel has a kink at correlation 1, reached along the orbit of every training input
/// itself: the training modes `B_m` decay only like `m⁻²`. Off the training orbits the test
/// modes `α_m`, `κ_m` still decay geometrically and so does the mode sum; C_k approaches it
/// algebraically (each doubling of k divides the gap by more than 2.5, as `k⁻²` would by 4). A
/// test input on a training orbit makes the sum algebraic too: a clear error at a tight
/// tolerance, not a silently truncated number.
#[test]
fn kinked_kernel_off_and_on_the_training_orbits() {
    let toml = r#"
        [input]
        shape = [3, 2]
        domain = "points"
        [[layers]]
        kind = "flatten"
        [[layers]]
        kind = "dense"
        w_std = 1.5
        b_std = 0.1
        [[layers]]
        kind = "relu"
        [[layers]]
        kind = "dense"
        "#;
    let net = net_from(toml);
    let x = random_batch(&[3, 2], 2, 101);
    let y = random_targets(2, 1, 102);
    let xt = random_batch(&[3, 2], 2, 103);
    let p = so2(&net, RotationKind::Points, &x, &y);
    let exact = p.covariance(&xt, 1.0).unwrap();
    let gaps: Vec<f64> = [16, 32, 64]
        .iter()
        .map(|&k| {
            let c = cyclic_cov(&net, RotationKind::Points, k, &x, &y, &xt, 1.0, false);
            rel_diff(&c, &exact)
        })
        .collect();
    assert!(gaps[0] > 1e-8, "{gaps:?}");
    assert!(
        gaps[1] < gaps[0] / 2.5 && gaps[2] < gaps[1] / 2.5,
        "{gaps:?}"
    );
    let on_orbit = RotationKind::Points
        .rotate_batch(&x.slice(0, 1).unwrap(), 0.4)
        .unwrap();
    let err = p.covariance(&on_orbit, 1.0).unwrap_err();
    assert!(
        matches!(&err, eqntk::Error::Numeric(m) if m.contains("did not converge")),
        "{err}"
    );
    assert!(p.covariance(&xt, -1.0).is_err());
}
