//! The kernel engine against hand derivations and an independent brute-force reference.

use crate::common;

use common::normal_batch as batch;
use eqntk::{Batch, Network};
use faer::Mat;

fn net(toml: &str) -> Network {
    Network::from_toml_str(toml, "test.toml").unwrap()
}

fn max_rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let scale = (0..a.nrows())
        .flat_map(|i| (0..a.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| a[(i, j)].abs())
        .fold(0.0, f64::max);
    let mut d = 0.0f64;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            d = d.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    d / scale
}

/// ReLU arc-cosine dual written out independently of the library.
fn relu_t(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let s = (k11 * k22).sqrt();
    let c = if s > 0.0 {
        (k12 / s).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let th = c.acos();
    (
        s / (2.0 * PI) * (th.sin() + (PI - th) * c),
        (PI - th) / (2.0 * PI),
    )
}

/// A straightforward reference for conv → relu → conv → relu → pool → dense on H×W×C images,
/// circular padding, filter f×f: every site pair, every example pair, explicit index loops.
fn reference_cnn(
    x1: &Batch,
    x2: &Batch,
    f: usize,
    w: f64,
    b: f64,
    same: bool,
) -> (Mat<f64>, Mat<f64>) {
    let (h, wd, c) = (x1.shape()[0], x1.shape()[1], x1.shape()[2]);
    let s = h * wd;
    let input = |a: &[f64], bb: &[f64]| {
        let mut k = vec![0.0; s * s];
        for p in 0..s {
            for q in 0..s {
                k[p * s + q] =
                    (0..c).map(|ch| a[p * c + ch] * bb[q * c + ch]).sum::<f64>() / c as f64;
            }
        }
        k
    };
    let half = (f / 2) as isize;
    let shift = |p: usize, di: isize, dj: isize| -> Option<usize> {
        let (i, j) = ((p / wd) as isize + di, (p % wd) as isize + dj);
        if same && (i < 0 || j < 0 || i >= h as isize || j >= wd as isize) {
            return None;
        }
        Some(i.rem_euclid(h as isize) as usize * wd + j.rem_euclid(wd as isize) as usize)
    };
    let conv = |m: &[f64]| {
        let mut out = vec![0.0; s * s];
        for p in 0..s {
            for q in 0..s {
                let mut acc = 0.0;
                for di in -half..=half {
                    for dj in -half..=half {
                        if let (Some(a), Some(bb)) = (shift(p, di, dj), shift(q, di, dj)) {
                            acc += m[a * s + bb];
                        }
                    }
                }
                out[p * s + q] = acc / (f * f) as f64;
            }
        }
        out
    };
    let mut nngp = Mat::zeros(x1.len(), x2.len());
    let mut ntk = Mat::zeros(x1.len(), x2.len());
    for i in 0..x1.len() {
        for j in 0..x2.len() {
            let (a, bb) = (x1.example(i), x2.example(j));
            let (mut k11, mut k12, mut k22) = (input(a, a), input(a, bb), input(bb, bb));
            let mut t = vec![0.0; s * s];
            for _layer in 0..2 {
                let lin = |m: &[f64]| {
                    conv(m)
                        .iter()
                        .map(|v| w * w * v + b * b)
                        .collect::<Vec<_>>()
                };
                let (n11, n12, n22) = (lin(&k11), lin(&k12), lin(&k22));
                let ct = conv(&t);
                t = (0..s * s).map(|e| w * w * ct[e] + n12[e]).collect();
                // relu
                let mut r12 = vec![0.0; s * s];
                let mut r11 = vec![0.0; s * s];
                let mut r22 = vec![0.0; s * s];
                for p in 0..s {
                    for q in 0..s {
                        let e = p * s + q;
                        let (v, dv) = relu_t(n11[p * s + p], n12[e], n22[q * s + q]);
                        r12[e] = v;
                        t[e] *= dv;
                        r11[e] = relu_t(n11[p * s + p], n11[e], n11[q * s + q]).0;
                        r22[e] = relu_t(n22[p * s + p], n22[e], n22[q * s + q]).0;
                    }
                }
                (k11, k12, k22) = (r11, r12, r22);
            }
            let pool = |m: &[f64]| m.iter().sum::<f64>() / (s * s) as f64;
            let (kp, tp) = (pool(&k12), pool(&t));
            let k_out = w * w * kp + b * b;
            nngp[(i, j)] = k_out;
            ntk[(i, j)] = w * w * tp + k_out;
        }
    }
    (nngp, ntk)
}

const CNN: &str = r#"
[input]
shape = [4, 5, 2]
[[layers]]
kind = "conv"
filter = [3, 3]
padding = "PAD"
w_std = 1.3
b_std = 0.2
[[layers]]
kind = "relu"
[[layers]]
kind = "conv"
filter = [3, 3]
padding = "PAD"
w_std = 1.3
b_std = 0.2
[[layers]]
kind = "relu"
[[layers]]
kind = "global_avg_pool"
[[layers]]
kind = "dense"
w_std = 1.3
b_std = 0.2
"#;

#[test]
fn cnn_matches_brute_force_reference() {
    for (pad, same) in [("circular", false), ("same", true)] {
        let n = net(&CNN.replace("PAD", pad));
        let x1 = batch(&[4, 5, 2], 3, 1);
        let x2 = batch(&[4, 5, 2], 2, 2);
        let k = n.kernel(&x1, Some(&x2)).unwrap();
        let (rn, rt) = reference_cnn(&x1, &x2, 3, 1.3, 0.2, same);
        assert!(max_rel(&k.nngp().unwrap(), &rn) < 1e-13, "{pad} nngp");
        assert!(max_rel(&k.ntk().unwrap(), &rt) < 1e-13, "{pad} ntk");
        // The symmetric path (x2 = x1, upper triangle only) agrees with the general one.
        let ks = n.kernel(&x1, None).unwrap();
        let (rn, rt) = reference_cnn(&x1, &x1, 3, 1.3, 0.2, same);
        assert!(max_rel(&ks.nngp().unwrap(), &rn) < 1e-13);
        let d = max_rel(&ks.ntk().unwrap(), &rt);
        assert!(d < 1e-13, "{pad} symmetric ntk {d}");
    }
}

#[test]
fn one_layer_network_is_hand_derivable() {
    // K = σ_w² x·x'/D + σ_b², Θ = K (Θ⁰ = 0).
    let n = net("[input]\nshape=[3]\n[[layers]]\nkind='dense'\nw_std=0.7\nb_std=0.3\n");
    let x = batch(&[3], 4, 3);
    let k = n.kernel(&x, None).unwrap();
    for i in 0..4 {
        for j in 0..4 {
            let dot: f64 = (0..3)
                .map(|c| x.example(i)[c] * x.example(j)[c])
                .sum::<f64>()
                / 3.0;
            let want = 0.49 * dot + 0.09;
            assert!((k.nngp().unwrap()[(i, j)] - want).abs() < 1e-14);
            assert!((k.ntk().unwrap()[(i, j)] - want).abs() < 1e-14);
        }
    }
}

#[test]
fn linear_network_is_a_polynomial_in_the_input_kernel() {
    // dense(σ1, b1) → identity → dense(σ2, b2):
    // K = σ2²(σ1² K⁰ + b1²) + b2²,  Θ = σ2² (σ1² K⁰ + b1²) + K.
    let n = net(
        "[input]\nshape=[5]\n[[layers]]\nkind='dense'\nw_std=1.1\nb_std=0.4\n[[layers]]\nkind='identity'\n[[layers]]\nkind='dense'\nw_std=0.9\nb_std=0.2\n",
    );
    let (x1, x2) = (batch(&[5], 3, 4), batch(&[5], 2, 5));
    let k = n.kernel(&x1, Some(&x2)).unwrap();
    for i in 0..3 {
        for j in 0..2 {
            let k0: f64 = (0..5)
                .map(|c| x1.example(i)[c] * x2.example(j)[c])
                .sum::<f64>()
                / 5.0;
            let k1 = 1.21 * k0 + 0.16;
            let kk = 0.81 * k1 + 0.04;
            assert!((k.nngp().unwrap()[(i, j)] - kk).abs() < 1e-14);
            assert!((k.ntk().unwrap()[(i, j)] - (0.81 * k1 + kk)).abs() < 1e-14);
        }
    }
}

#[test]
fn standard_parameterisation_dense_ntk() {
    // One hidden ReLU layer of width n, standard parameterisation in the readout:
    // Θ = n·T(K¹) + σ² Ṫ(K¹) Θ¹ + 1 with Θ¹ = K¹ (NTK-parameterised first layer).
    let n = net(
        "[input]\nshape=[2]\n[[layers]]\nkind='dense'\nw_std=1.0\nb_std=0.5\nwidth=7\n[[layers]]\nkind='relu'\n[[layers]]\nkind='dense'\nw_std=1.5\nb_std=0.1\nparameterization='standard'\n",
    );
    let x = batch(&[2], 2, 6);
    let k = n.kernel(&x, None).unwrap();
    let k1 = |i: usize, j: usize| {
        (0..2)
            .map(|c| x.example(i)[c] * x.example(j)[c])
            .sum::<f64>()
            / 2.0
            + 0.25
    };
    let (t, dt) = relu_t(k1(0, 0), k1(0, 1), k1(1, 1));
    let want_k = 2.25 * t + 0.01;
    let want_t = 7.0 * t + 2.25 * dt * k1(0, 1) + 1.0;
    assert!((k.nngp().unwrap()[(0, 1)] - want_k).abs() < 1e-14);
    assert!((k.ntk().unwrap()[(0, 1)] - want_t).abs() < 1e-13);
}

fn min_eigenvalue(m: &Mat<f64>) -> f64 {
    let e = m.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    e.iter().cloned().fold(f64::INFINITY, f64::min)
}

#[test]
fn kernel_matrices_are_symmetric_psd_and_transpose_under_swap() {
    let cases = [
        ("[input]\nshape=[6]\n[[layers]]\nkind='dense'\nb_std=0.1\n[[layers]]\nkind='relu'\n[[layers]]\nkind='dense'\nw_std=1.5\n", vec![6]),
        (&*CNN.replace("PAD", "circular"), vec![4, 5, 2]),
        ("[input]\nshape=[7,2]\n[[layers]]\nkind='conv'\nfilter=[3]\npadding='valid'\nb_std=0.3\n[[layers]]\nkind='relu'\n[[layers]]\nkind='flatten'\n[[layers]]\nkind='dense'\n", vec![7, 2]),
    ];
    for (toml, shape) in cases {
        let n = net(toml);
        let x = batch(&shape, 6, 7);
        let k = n.kernel(&x, None).unwrap();
        for m in [k.nngp().unwrap(), k.ntk().unwrap()] {
            for i in 0..6 {
                for j in 0..6 {
                    assert_eq!(m[(i, j)], m[(j, i)]);
                }
            }
            let scale = (0..6).map(|i| m[(i, i)]).fold(0.0, f64::max);
            assert!(min_eigenvalue(&m) > -1e-12 * scale, "{toml}");
        }
        let (a, b) = (batch(&shape, 3, 8), batch(&shape, 4, 9));
        let kab = n.kernel(&a, Some(&b)).unwrap();
        let kba = n.kernel(&b, Some(&a)).unwrap();
        for (m1, m2) in [
            (kab.nngp().unwrap(), kba.nngp().unwrap()),
            (kab.ntk().unwrap(), kba.ntk().unwrap()),
        ] {
            for i in 0..3 {
                for j in 0..4 {
                    assert!((m1[(i, j)] - m2[(j, i)]).abs() <= 1e-15 * m1[(i, j)].abs().max(1.0));
                }
            }
        }
    }
}

#[test]
fn zero_inputs_give_finite_kernels() {
    let n = net(&CNN.replace("PAD", "same"));
    let x = Batch::new(vec![4, 5, 2], vec![0.0; 2 * 40]).unwrap();
    let k = n.kernel(&x, None).unwrap();
    for m in [k.nngp().unwrap(), k.ntk().unwrap()] {
        for i in 0..2 {
            for j in 0..2 {
                assert!(m[(i, j)].is_finite());
            }
        }
    }
}
