//! Augmentation with the 3-D rotation groups and 3-D vector targets (`--targets vector`,
//! `ρ_Y(g) = M_g`, the 3×3 matrix itself, polar: the inversion of Oh flips the target): the
//! irrep-block predictor equals the explicit orbit; the mean is equivariant, μ_t(M x) = M μ_t(x),
//! off the data at every t, and the un-augmented one is not; the one-line errors for targets of
//! the wrong dimension.

use crate::common;
use common::rotate_points3;

use common::cli::{data, fails, file, s};
use common::normal_batch;
use common::prediction::{block_prediction, explicit_prediction, plain_prediction};
use eqntk::action::{Domain, InputGroup};
use eqntk::augment::{FiniteAugmentation, OutputTransform};
use eqntk::group::Matrix3;
use eqntk::{Batch, Network};
use faer::Mat;

const TIMES: [f64; 5] = [0.0, 0.1, 1.0, 10.0, f64::INFINITY];

/// flatten, dense, erf, dense, relu, dense on P points in 3-D.
fn mlp_text(points: usize) -> String {
    format!(
        "[input]\nshape = [{points}, 3]\ndomain = 'points'\n[[layers]]\nkind = 'flatten'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'erf'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.3\nb_std = 0.1\n[[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.1\n"
    )
}

fn mlp(points: usize) -> Network {
    Network::from_toml_str(&mlp_text(points), "mlp.toml").unwrap()
}

/// The 3-D vector targets mapped by `m`: row `i` becomes `(M y_i)ᵀ`.
fn rotate_targets(m: &Matrix3, y: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(y.nrows(), 3, |i, c| {
        (0..3).map(|j| m.0[c][j] * y[(i, j)]).sum::<f64>()
    })
}

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_max() / b.norm_max().max(1e-300)
}

fn augmentation(name: &str) -> FiniteAugmentation {
    FiniteAugmentation::from_input(&InputGroup::parse(name).unwrap(), Domain::Points, &[3, 3])
        .unwrap()
}

/// Dipole-like targets: a fixed combination of the points (a polar vector), plus noise-free
/// non-linear invariants times a point, so the targets are not in any one simple class.
fn dipoles(x: &Batch) -> Mat<f64> {
    Mat::from_fn(x.len(), 3, |i, c| {
        let p = x.example(i);
        let r2: f64 = p.iter().map(|v| v * v).sum();
        0.8 * p[c] - 0.3 * p[3 + c] + (0.2 * r2).sin() * p[6 + c]
    })
}

/// O, Oh, I with 3-D vector targets: block = explicit (≤ 1e-10 relative) at t ∈ {0, 0.1, 1,
/// 10, ∞}, and μ_t(M_g x) = M_g μ_t(x) off the data for elements of both determinants.
#[test]
fn vector_targets_rotate_with_the_finite_rotation_groups() {
    let net = mlp(3);
    let (x, xt) = (normal_batch(&[3, 3], 4, 31), normal_batch(&[3, 3], 3, 32));
    let y = dipoles(&x);
    let mut worst: f64 = 0.0;
    for name in ["O", "Oh", "I"] {
        let aug = augmentation(name);
        let run = |blocks: bool, test: &Batch| {
            let f = if blocks {
                block_prediction
            } else {
                explicit_prediction
            };
            f(
                &net,
                &aug,
                &x,
                y.as_ref(),
                OutputTransform::Vector,
                test,
                &TIMES[..],
                1.0,
                1e-4,
                false,
            )
        };
        let (a, b): (eqntk::predict::Prediction, eqntk::predict::Prediction) =
            (run(false, &xt).unwrap(), run(true, &xt).unwrap());
        for (k, t) in TIMES.iter().enumerate() {
            if k == 0 {
                // the untrained ensemble has mean zero
                assert_eq!(b.mean[0].norm_max(), 0.0, "{name}");
                continue;
            }
            let d = rel(&b.mean[k], &a.mean[k]);
            worst = worst.max(d);
            assert!(d <= 1e-10, "{name} t = {t}: block vs explicit {d:e}");
        }
        // μ_t(M x) = M μ_t(x), with M from the group's own table and the action built here
        let mut dets = vec![];
        for g in [1, aug.order() / 3, aug.order() / 2 + 1, aug.order() - 1] {
            let m = aug.matrix3(g).unwrap();
            dets.push(m.det().round() as i64);
            let moved = run(true, &rotate_points3(&m, &xt)).unwrap();
            for (k, t) in TIMES.iter().enumerate().skip(1) {
                let d = rel(&moved.mean[k], &rotate_targets(&m, &b.mean[k]));
                assert!(d <= 1e-9, "{name} element {g} t = {t}: {d:e}");
            }
        }
        if name == "Oh" {
            assert!(dets.contains(&-1), "Oh elements of determinant −1 tested");
        }
    }
    eprintln!("3-D vector targets: block vs explicit, worst relative {worst:.1e}");
}

/// The inversion `−I` of Oh is a polar-vector flip: μ_t(−x) = −μ_t(x) with Oh augmentation,
/// whereas with O (rotations only) the inversion is not a symmetry and the mean does not flip.
#[test]
fn the_inversion_of_oh_flips_vector_targets() {
    let net = mlp(3);
    let (x, xt) = (normal_batch(&[3, 3], 4, 41), normal_batch(&[3, 3], 2, 42));
    let y = dipoles(&x);
    let minus = Matrix3([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]);
    let times = [1.0, f64::INFINITY];
    let mut errors = vec![];
    for name in ["Oh", "O"] {
        let aug = augmentation(name);
        let at = |test: &Batch| {
            block_prediction(
                &net,
                &aug,
                &x,
                y.as_ref(),
                OutputTransform::Vector,
                test,
                &times,
                1.0,
                1e-4,
                false,
            )
            .unwrap()
        };
        let (p, q) = (at(&xt), at(&rotate_points3(&minus, &xt)));
        let d = (0..times.len())
            .map(|k| rel(&q.mean[k], &(-&p.mean[k])))
            .fold(0.0, f64::max);
        errors.push(d);
    }
    assert!(
        errors[0] <= 1e-9,
        "Oh: μ(−x) = −μ(x) off by {:e}",
        errors[0]
    );
    assert!(
        errors[1] >= 1e-3,
        "O is not inversion-equivariant: {:e}",
        errors[1]
    );
}

/// Without augmentation the mean is not equivariant under the group's rotations.
#[test]
fn without_augmentation_vector_predictions_do_not_rotate() {
    let net = mlp(3);
    let (x, xt) = (normal_batch(&[3, 3], 4, 51), normal_batch(&[3, 3], 2, 52));
    let y = dipoles(&x);
    let aug = augmentation("I");
    let times = [1.0, f64::INFINITY];
    let p = plain_prediction(&net, &x, &y, &xt, &times, 1.0, 1e-4, false).unwrap();
    let m = aug.matrix3(7).unwrap();
    let q = plain_prediction(
        &net,
        &x,
        &y,
        &rotate_points3(&m, &xt),
        &times,
        1.0,
        1e-4,
        false,
    )
    .unwrap();
    for (k, t) in times.iter().enumerate() {
        let d = rel(&q.mean[k], &rotate_targets(&m, &p.mean[k]));
        assert!(d >= 1e-3, "t = {t}: un-augmented error only {d:e}");
    }
}

/// Targets of the wrong dimension name the group, the domain and the expected dimension, in
/// the library and on the command line (one line, exit code 2).
#[test]
fn vector_targets_of_the_wrong_dimension_are_one_line_errors() {
    let aug = augmentation("O");
    let e = OutputTransform::Vector
        .matrices(&aug, 2)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("O on points") && e.contains("need 3 outputs, got 2"),
        "{e}"
    );
    let planar =
        FiniteAugmentation::from_input(&InputGroup::parse("C4").unwrap(), Domain::Points, &[3, 2])
            .unwrap();
    let e = OutputTransform::Vector
        .matrices(&planar, 3)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("planar group C4 on points") && e.contains("need 2 outputs, got 3"),
        "{e}"
    );

    let net = file("augment3-mlp.toml", &mlp_text(3));
    let x = normal_batch(&[3, 3], 3, 61);
    let (px, pt) = (data("augment3-x.npy", &x), data("augment3-xt.npy", &x));
    let y2 = data(
        "augment3-y2.npy",
        &Batch::new(vec![2], vec![0.0; 6]).unwrap(),
    );
    let d = dipoles(&x);
    let rows: Vec<f64> = (0..3)
        .flat_map(|i| (0..3).map(|c| d[(i, c)]).collect::<Vec<_>>())
        .collect();
    let y3 = data("augment3-y3.npy", &Batch::new(vec![3], rows).unwrap());
    let base = |y: &std::path::Path, group: &str| {
        fails(&[
            "predict",
            "--net",
            s(&net),
            "--x-train",
            s(&px),
            "--x-test",
            s(&pt),
            "--y-train",
            s(y),
            "--augment",
            group,
            "--targets",
            "vector",
        ])
    };
    let e = base(&y2, "Oh");
    assert!(
        e.contains("Oh on points") && e.contains("need 3 outputs"),
        "{e}"
    );
    let e = base(&y3, "SO3");
    assert!(
        e.contains("SO3") && e.contains("invariant targets only"),
        "{e}"
    );
}
