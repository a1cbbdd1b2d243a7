//! 3-D point sets `[P, 3]` (`domain = "points"`): orbit averages over the finite rotation groups
//! O, Oh, I (exact) and over SO(3), O(3) (the Euler-angle rule refined to a tolerance), checked
//! against averages built independently here (the 24 signed permutation matrices of O, seeded
//! Haar-random rotations for SO(3)); invariance; augmented predictions with O, Oh and I (block
//! = explicit, invariant means, equivariant per-point targets); the one-line errors.

use crate::common;
use common::rotate_points3;

use common::prediction::{block_prediction, explicit_prediction};
use common::{assert_close, normal_batch};
use eqntk::action::{action_for, Domain, InputGroup};
use eqntk::augment::{FiniteAugmentation, OutputTransform};
use eqntk::group::{Matrix3, So3};
use eqntk::orbit::orbit_kernel;
use eqntk::{Batch, Network};
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// flatten, dense, erf, dense, relu, dense on P points in 3-D.
fn mlp(points: usize) -> Network {
    Network::from_toml_str(
        &format!(
            "[input]\nshape = [{points}, 3]\ndomain = 'points'\n[[layers]]\nkind = 'flatten'\n\
             [[layers]]\nkind = 'dense'\nw_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'erf'\n\
             [[layers]]\nkind = 'dense'\nw_std = 1.3\nb_std = 0.1\n[[layers]]\nkind = 'relu'\n\
             [[layers]]\nkind = 'dense'\nw_std = 1.1\n"
        ),
        "mlp.toml",
    )
    .unwrap()
}

fn group(name: &str) -> InputGroup {
    InputGroup::parse(name).unwrap()
}

/// The 24 rotations of the cube, built here as the signed permutation matrices of determinant 1.
fn cube_rotations() -> Vec<Matrix3> {
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut out = vec![];
    for p in perms {
        for signs in 0..8 {
            let mut rows = [[0.0; 3]; 3];
            for (r, &c) in p.iter().enumerate() {
                rows[r][c] = if signs >> r & 1 == 1 { -1.0 } else { 1.0 };
            }
            let m = Matrix3::from_rows(rows);
            if m.det() > 0.0 {
                out.push(m);
            }
        }
    }
    out
}

#[test]
fn finite_group_averages_equal_averages_built_independently() {
    let net = mlp(4);
    let (x1, x2) = (normal_batch(&[4, 3], 3, 1), normal_batch(&[4, 3], 2, 2));
    let o = orbit_kernel(&net, &x1, Some(&x2), group("O"), 0.0).unwrap();
    let rotations = cube_rotations();
    assert_eq!(rotations.len(), 24);
    let mut k = Mat::<f64>::zeros(3, 2);
    let mut t = Mat::<f64>::zeros(3, 2);
    for r in &rotations {
        let kr = net.kernel(&x1, Some(&rotate_points3(r, &x2))).unwrap();
        k += kr.nngp().unwrap() * faer::Scale(1.0 / 24.0);
        t += kr.ntk().unwrap() * faer::Scale(1.0 / 24.0);
    }
    assert_eq!(o.samples, 24);
    assert_close(&o.nngp, &k, 1e-13, "O nngp");
    assert_close(&o.ntk, &t, 1e-13, "O ntk");
    // Oh = O × {I, −I}
    let oh = orbit_kernel(&net, &x1, Some(&x2), group("Oh"), 0.0).unwrap();
    let minus = rotate_points3(&Matrix3::scalar(-1.0), &x2);
    let om = orbit_kernel(&net, &x1, Some(&minus), group("O"), 0.0).unwrap();
    assert_close(
        &oh.nngp,
        &((&o.nngp + &om.nngp) * faer::Scale(0.5)),
        1e-13,
        "Oh nngp",
    );
    assert_close(
        &oh.ntk,
        &((&o.ntk + &om.ntk) * faer::Scale(0.5)),
        1e-13,
        "Oh ntk",
    );
}

#[test]
fn averages_are_invariant_under_their_groups() {
    let net = mlp(3);
    let (x1, x2) = (normal_batch(&[3, 3], 2, 3), normal_batch(&[3, 3], 2, 4));
    for name in ["O", "Oh", "I"] {
        let g = group(name);
        let avg = orbit_kernel(&net, &x1, Some(&x2), g, 0.0).unwrap();
        let action = action_for(g, Domain::Points, &[3, 3]).unwrap();
        for e in 0..action.order().unwrap() {
            let moved = action.act_on_batch(e, &x2).unwrap();
            let k = orbit_kernel(&net, &x1, Some(&moved), g, 0.0).unwrap();
            assert_close(&k.nngp, &avg.nngp, 1e-13, &format!("{name} element {e}"));
            assert_close(&k.ntk, &avg.ntk, 1e-13, &format!("{name} element {e}"));
        }
    }
    // SO(3): invariant under Haar-random rotations of either argument, to the tolerance
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let so3 = orbit_kernel(&net, &x1, Some(&x2), group("SO3"), 1e-10).unwrap();
    assert!(so3.error_estimate <= 1e-10);
    for _ in 0..2 {
        let r = So3.random(&mut rng);
        let a = orbit_kernel(
            &net,
            &x1,
            Some(&rotate_points3(&r, &x2)),
            group("SO3"),
            1e-10,
        )
        .unwrap();
        let b = orbit_kernel(
            &net,
            &rotate_points3(&r, &x1),
            Some(&x2),
            group("SO3"),
            1e-10,
        )
        .unwrap();
        for (m, what) in [(&a, "R x2"), (&b, "R x1")] {
            assert_close(&m.nngp, &so3.nngp, 1e-9, &format!("SO3 nngp, {what}"));
            assert_close(&m.ntk, &so3.ntk, 1e-9, &format!("SO3 ntk, {what}"));
        }
    }
    // O(3) is also invariant under the inversion and a mirror
    let o3 = orbit_kernel(&net, &x1, Some(&x2), group("O3"), 1e-10).unwrap();
    let mirror = Matrix3::from_rows([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]]);
    let m = orbit_kernel(
        &net,
        &x1,
        Some(&rotate_points3(&mirror, &x2)),
        group("O3"),
        1e-10,
    )
    .unwrap();
    assert_close(&m.nngp, &o3.nngp, 1e-9, "O3 nngp, mirror");
    assert_close(&m.ntk, &o3.ntk, 1e-9, "O3 ntk, mirror");
}

/// The quadrature's SO(3) average against a Monte-Carlo mean over seeded Haar-random rotations
/// (within 5 standard errors), and the finite subgroups approach it: I (60 rotations) is nearer
/// than O (24) on these inputs, both within a few percent.
#[test]
fn the_so3_average_equals_the_haar_mean() {
    let net = mlp(3);
    let (x1, x2) = (normal_batch(&[3, 3], 2, 7), normal_batch(&[3, 3], 2, 8));
    let so3 = orbit_kernel(&net, &x1, Some(&x2), group("SO3"), 1e-10).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let m = 4000;
    let rotations: Vec<Matrix3> = (0..m).map(|_| So3.random(&mut rng)).collect();
    let mut rows = vec![];
    for r in &rotations {
        for j in 0..x2.len() {
            rows.push(rotate_points3(r, &x2).example(j).to_vec());
        }
    }
    let all = Batch::from_examples(x2.shape().to_vec(), &rows).unwrap();
    let k = net.kernel(&x1, Some(&all)).unwrap().ntk().unwrap();
    for i in 0..2 {
        for j in 0..2 {
            let v: Vec<f64> = (0..m).map(|q| k[(i, q * 2 + j)]).collect();
            let mean = v.iter().sum::<f64>() / m as f64;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
            let se = (var / m as f64).sqrt();
            let z = (so3.ntk[(i, j)] - mean).abs() / se;
            assert!(
                z < 5.0,
                "ntk[{i},{j}]: quadrature {} vs Haar mean {mean} ± {se}",
                so3.ntk[(i, j)]
            );
        }
    }
    let rel = |a: &Mat<f64>| (a - &so3.ntk).norm_max() / so3.ntk.norm_max();
    let o = orbit_kernel(&net, &x1, Some(&x2), group("O"), 0.0).unwrap();
    let ico = orbit_kernel(&net, &x1, Some(&x2), group("I"), 0.0).unwrap();
    let (eo, ei) = (rel(&o.ntk), rel(&ico.ntk));
    assert!(ei < eo && eo < 0.05, "O {eo:.2e}, I {ei:.2e}");
}

/// Augmentation with O, Oh and I: the irrep-block predictor equals the explicitly augmented
/// one; the mean is invariant under the group acting on a test input; per-point 3-D targets
/// (forces) rotate with the input.
#[test]
fn explicit_predictions_with_the_finite_rotation_groups() {
    let net = mlp(3);
    let (x, xt) = (normal_batch(&[3, 3], 4, 11), normal_batch(&[3, 3], 2, 12));
    let y = Mat::from_fn(4, 1, |i, _| (i as f64 * 0.7).sin());
    let forces = Mat::from_fn(4, 9, |i, c| ((i * 9 + c) as f64 * 0.37).cos());
    let times = [0.5, f64::INFINITY];
    for name in ["O", "Oh", "I"] {
        let aug = FiniteAugmentation::from_input(&group(name), Domain::Points, &[3, 3]).unwrap();
        assert_eq!(
            aug.irreps().iter().map(|r| r.dim().pow(2)).sum::<usize>(),
            aug.order()
        );
        for (targets, output) in [
            (&y, OutputTransform::Invariant),
            (&forces, OutputTransform::Input),
        ] {
            let run = |f: fn(_, _, _, _, _, _, _, _, _, _) -> _| {
                f(
                    &net,
                    &aug,
                    &x,
                    targets.as_ref(),
                    output,
                    &xt,
                    &times[..],
                    1.0,
                    1e-3,
                    false,
                )
            };
            let (a, b): (eqntk::predict::Prediction, _) = (
                run(explicit_prediction).unwrap(),
                run(block_prediction).unwrap(),
            );
            for k in 0..times.len() {
                let d = (&a.mean[k] - &b.mean[k]).norm_max() / a.mean[k].norm_max();
                assert!(d <= 1e-9, "{name} {output:?}: block vs explicit {d:e}");
            }
            // the group acting on the test inputs moves the mean by ρ_Y(g)
            let rho = output.matrices(&aug, targets.ncols()).unwrap();
            for g in [1, aug.order() - 1] {
                let moved = aug.act_on_batch(g, &xt).unwrap();
                let p = block_prediction(
                    &net,
                    &aug,
                    &x,
                    targets.as_ref(),
                    output,
                    &moved,
                    &times[..],
                    1.0,
                    1e-3,
                    false,
                )
                .unwrap();
                for k in 0..times.len() {
                    let want = &b.mean[k] * rho[g].transpose();
                    let d = (&p.mean[k] - &want).norm_max() / want.norm_max();
                    assert!(d <= 1e-9, "{name} {output:?} element {g}: {d:e}");
                }
            }
        }
    }
}

#[test]
fn impossible_groups_and_shapes_are_one_line_errors() {
    let planar = Network::from_toml_str(
        "[input]\nshape = [4, 2]\ndomain = 'points'\n[[layers]]\nkind = 'flatten'\n\
         [[layers]]\nkind = 'dense'\n",
        "planar.toml",
    )
    .unwrap();
    let x = normal_batch(&[4, 2], 2, 1);
    let e = orbit_kernel(&planar, &x, None, group("SO3"), 1e-10)
        .unwrap_err()
        .to_string();
    assert!(e.contains("SO3 acts on 3-D point sets [P, 3]"), "{e}");
    let x3 = normal_batch(&[4, 3], 2, 1);
    let e = orbit_kernel(&mlp(4), &x3, None, group("C4"), 1e-10)
        .unwrap_err()
        .to_string();
    assert!(e.contains("C4 acts on planar point sets [P, 2]"), "{e}");
    let e = FiniteAugmentation::from_input(&group("SO3"), Domain::Points, &[4, 3])
        .unwrap_err()
        .to_string();
    assert!(e.contains("finite subgroups O, Oh or I"), "{e}");
    let net = common::cli::file(
        "signal.toml",
        "[input]\nshape = [5, 3]\n[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n",
    );
    let xs = common::cli::data("signal_x.npy", &normal_batch(&[5, 3], 2, 3));
    let msg = common::cli::fails(&[
        "kernel",
        "--net",
        common::cli::s(&net),
        "--x1",
        common::cli::s(&xs),
        "--orbit",
        "Oh",
    ]);
    assert!(msg.contains("Oh") && msg.contains("signal"), "{msg}");
}
