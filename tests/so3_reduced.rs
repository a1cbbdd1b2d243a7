//! The reduced SO(3) orbit average of networks that flatten their 3-D points first: the trace
//! spectrum against rotations built from quaternions here; the average against the Euler-angle
//! rule (smooth kernels), against seeded Haar Monte Carlo (ReLU, also on a Gram diagonal, where
//! the Euler-angle rule stalls), invariance under rotations of either argument, and closed forms
//! for single points, collinear sets and zero sets.

use crate::common;
use common::rotate_points3;

use common::normal_batch;
use eqntk::group::{Matrix3, So3};
use eqntk::orbit::{
    orbit_kernel, reads_only_the_input_kernel, so3_orbit_kernel_euler, trace_spectrum, OrbitKernel,
};
use eqntk::{Batch, Network};
use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn net(points: usize, layers: &str) -> Network {
    Network::from_toml_str(
        &format!(
            "[input]\nshape = [{points}, 3]\ndomain = 'points'\n[[layers]]\nkind = 'flatten'\n\
             {layers}"
        ),
        "net.toml",
    )
    .unwrap()
}

/// flatten, (dense, erf) × 2, dense: smooth in the rotation.
fn erf_mlp(points: usize) -> Network {
    net(
        points,
        "[[layers]]\nkind = 'dense'\nw_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'erf'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.3\nb_std = 0.1\n[[layers]]\nkind = 'erf'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.1\n",
    )
}

/// flatten, (dense, relu) × 2, dense: a kink at R = I where x′ = x.
fn relu_mlp(points: usize) -> Network {
    net(
        points,
        "[[layers]]\nkind = 'dense'\nw_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.3\nb_std = 0.1\n[[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.1\n",
    )
}

/// The rotation of the unit quaternion `q = (w, x, y, z)`.
fn from_quaternion(q: [f64; 4]) -> Matrix3 {
    let [w, x, y, z] = q;
    Matrix3::from_rows([
        [
            w * w + x * x - y * y - z * z,
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            w * w - x * x + y * y - z * z,
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            w * w - x * x - y * y + z * z,
        ],
    ])
}

fn random_quaternion(rng: &mut ChaCha8Rng) -> [f64; 4] {
    let v: [f64; 4] = std::array::from_fn(|_| rng.sample(StandardNormal));
    let n = v.iter().map(|t| t * t).sum::<f64>().sqrt();
    v.map(|t| t / n)
}

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_max() / b.norm_max()
}

#[test]
fn trace_of_a_rotated_matrix_is_the_spectrum_against_squared_quaternion_entries() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for s in [
        [3.0, 2.0, 0.5],
        [3.0, 2.0, -0.5],
        [1.0, 1.0, -1.0],
        [2.0, 0.0, 0.0],
    ] {
        let (u, v) = (So3.random(&mut rng), So3.random(&mut rng));
        let d = Matrix3::from_rows([[s[0], 0.0, 0.0], [0.0, s[1], 0.0], [0.0, 0.0, s[2]]]);
        let a = u.mul(&d).mul(&v.transpose());
        let lam = trace_spectrum(&a.0);
        let want = [
            s[0] + s[1] + s[2],
            s[0] - s[1] - s[2],
            -s[0] + s[1] - s[2],
            -s[0] - s[1] + s[2],
        ];
        for i in 0..4 {
            assert!(
                (lam[i] - want[i]).abs() < 1e-13,
                "{s:?}: {lam:?} vs {want:?}"
            );
        }
        // tr(R A) = tr(Vᵀ R U D) = Σ λ_i q_i² with q the quaternion of R′ = Vᵀ R U
        for _ in 0..20 {
            let q = random_quaternion(&mut rng);
            let r_prime = from_quaternion(q);
            let r = v.mul(&r_prime).mul(&u.transpose());
            let tr = r.mul(&a).trace();
            let sum: f64 = (0..4).map(|i| want[i] * q[i] * q[i]).sum();
            assert!((tr - sum).abs() < 1e-12, "{tr} vs {sum}");
        }
    }
}

#[test]
fn only_flatten_first_point_networks_take_the_reduced_rule() {
    assert!(reads_only_the_input_kernel(&erf_mlp(4)));
    let dense_first = Network::from_toml_str(
        "[input]\nshape = [4, 3]\ndomain = 'points'\n[[layers]]\nkind = 'dense'\n\
         [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n",
        "d.toml",
    )
    .unwrap();
    assert!(!reads_only_the_input_kernel(&dense_first));
}

#[test]
fn equals_the_euler_angle_average_on_smooth_generic_pairs() {
    let net = erf_mlp(4);
    let (x1, x2) = (normal_batch(&[4, 3], 3, 21), normal_batch(&[4, 3], 2, 22));
    let reduced = orbit_kernel(&net, &x1, Some(&x2), so3(), 1e-12).unwrap();
    let euler = so3_orbit_kernel_euler(&net, &x1, &x2, 1e-12).unwrap();
    assert!(reduced.error_estimate <= 1e-12);
    let (dk, dt) = (
        rel(&reduced.nngp, &euler.nngp),
        rel(&reduced.ntk, &euler.ntk),
    );
    assert!(dk <= 1e-10 && dt <= 1e-10, "nngp {dk:e}, ntk {dt:e}");
}

fn so3() -> eqntk::action::InputGroup {
    eqntk::action::InputGroup::parse("SO3").unwrap()
}

/// Monte-Carlo mean and standard error of `k(x1_i, R x2_j)` over `m` seeded Haar rotations.
fn haar_mean(net: &Network, x1: &Batch, x2: &Batch, m: usize, seed: u64) -> [Mat<f64>; 4] {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (n1, n2) = (x1.len(), x2.len());
    let mut rows = vec![];
    for _ in 0..m {
        let r = So3.random(&mut rng);
        let moved = rotate_points3(&r, x2);
        for j in 0..n2 {
            rows.push(moved.example(j).to_vec());
        }
    }
    let all = Batch::from_examples(x2.shape().to_vec(), &rows).unwrap();
    let k = net.kernel(x1, Some(&all)).unwrap();
    let mut out = vec![];
    for kk in [k.nngp().unwrap(), k.ntk().unwrap()] {
        let mut mean = Mat::zeros(n1, n2);
        let mut se = Mat::zeros(n1, n2);
        for i in 0..n1 {
            for j in 0..n2 {
                let v: Vec<f64> = (0..m).map(|q| kk[(i, q * n2 + j)]).collect();
                let mu = v.iter().sum::<f64>() / m as f64;
                let var = v.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (m - 1) as f64;
                mean[(i, j)] = mu;
                se[(i, j)] = (var / m as f64).sqrt();
            }
        }
        out.push(mean);
        out.push(se);
    }
    [
        out[0].clone(),
        out[1].clone(),
        out[2].clone(),
        out[3].clone(),
    ]
}

fn assert_within_5_se(o: &OrbitKernel, mc: &[Mat<f64>; 4], what: &str) {
    for (got, mean, se, name) in [
        (&o.nngp, &mc[0], &mc[1], "nngp"),
        (&o.ntk, &mc[2], &mc[3], "ntk"),
    ] {
        for i in 0..got.nrows() {
            for j in 0..got.ncols() {
                let z = (got[(i, j)] - mean[(i, j)]).abs() / se[(i, j)];
                assert!(
                    z < 5.0,
                    "{what} {name}[{i},{j}]: {} vs Haar mean {} ± {}",
                    got[(i, j)],
                    mean[(i, j)],
                    se[(i, j)]
                );
            }
        }
    }
}

/// The ReLU Gram of 20 sets of 8 points (the diagonal has the kink at R = I) converges to
/// 1e-10, and agrees with Haar Monte Carlo on and off the diagonal.
#[test]
fn relu_gram_converges_and_equals_the_haar_mean() {
    let net = relu_mlp(8);
    let x = normal_batch(&[8, 3], 20, 31);
    let o = orbit_kernel(&net, &x, None, so3(), 1e-10).unwrap();
    assert!(o.error_estimate <= 1e-10, "{}", o.error_estimate);
    for i in 0..20 {
        for j in 0..20 {
            assert_eq!(o.ntk[(i, j)], o.ntk[(j, i)]);
        }
    }
    let head = x.slice(0, 3).unwrap();
    let mc = haar_mean(&net, &head, &head, 20_000, 32);
    let sub = OrbitKernel {
        nngp: Mat::from_fn(3, 3, |i, j| o.nngp[(i, j)]),
        ntk: Mat::from_fn(3, 3, |i, j| o.ntk[(i, j)]),
        samples: o.samples,
        error_estimate: o.error_estimate,
    };
    assert_within_5_se(&sub, &mc, "relu gram");
    // the Erf network off the diagonal too
    let erf = erf_mlp(8);
    let y = normal_batch(&[8, 3], 2, 33);
    let oe = orbit_kernel(&erf, &head, Some(&y), so3(), 1e-10).unwrap();
    assert_within_5_se(&oe, &haar_mean(&erf, &head, &y, 20_000, 34), "erf");
}

#[test]
fn invariant_under_rotations_of_either_argument() {
    let net = relu_mlp(5);
    let (x1, x2) = (normal_batch(&[5, 3], 3, 41), normal_batch(&[5, 3], 2, 42));
    // x2 holds a rotated copy of x1[0]: a disguised diagonal
    let mut rng = ChaCha8Rng::seed_from_u64(43);
    let r0 = So3.random(&mut rng);
    let rows = vec![
        rotate_points3(&r0, &x1).example(0).to_vec(),
        x2.example(0).to_vec(),
        x2.example(1).to_vec(),
    ];
    let x2 = Batch::from_examples(vec![5, 3], &rows).unwrap();
    let base = orbit_kernel(&net, &x1, Some(&x2), so3(), 1e-11).unwrap();
    assert!(base.error_estimate <= 1e-11);
    for _ in 0..3 {
        let r = So3.random(&mut rng);
        let a = orbit_kernel(&net, &x1, Some(&rotate_points3(&r, &x2)), so3(), 1e-11).unwrap();
        let b = orbit_kernel(&net, &rotate_points3(&r, &x1), Some(&x2), so3(), 1e-11).unwrap();
        for (m, what) in [(&a, "R x2"), (&b, "R x1")] {
            let (dk, dt) = (rel(&m.nngp, &base.nngp), rel(&m.ntk, &base.ntk));
            assert!(dk <= 1e-10 && dt <= 1e-10, "{what}: {dk:e} {dt:e}");
        }
    }
    // and the disguised diagonal equals the true one
    let diag = orbit_kernel(&net, &x1.slice(0, 1).unwrap(), None, so3(), 1e-11).unwrap();
    assert!((diag.ntk[(0, 0)] - base.ntk[(0, 0)]).abs() <= 1e-10 * base.ntk.norm_max());
}

/// A rotation taking the unit vector `from` to `to`.
fn rotation_between(from: [f64; 3], to: [f64; 3]) -> Matrix3 {
    let c = [
        from[1] * to[2] - from[2] * to[1],
        from[2] * to[0] - from[0] * to[2],
        from[0] * to[1] - from[1] * to[0],
    ];
    let s = c.iter().map(|t| t * t).sum::<f64>().sqrt();
    let cos: f64 = (0..3).map(|i| from[i] * to[i]).sum();
    if s < 1e-15 {
        return Matrix3::scalar(1.0);
    }
    Matrix3::from_axis_angle([c[0] / s, c[1] / s, c[2] / s], s.atan2(cos))
}

/// For collinear sets `x_p = α_p e`, `x′_p = β_p e′`, `⟨x, R x′⟩ = (Σ α_p β_p) ⟨e, R e′⟩` and
/// `⟨e, R e′⟩` is uniform on [−1, 1] under Haar measure (Archimedes), so the average is
/// `½ ∫₀^π k(x, R_θ x′) sin θ dθ` with `R_θ e′` at angle θ from `e`: integrated here by
/// Gauss–Legendre in θ over rotated copies of the actual inputs.
fn collinear_reference(
    net: &Network,
    x: &Batch,
    y: &Batch,
    e: [f64; 3],
    ey: [f64; 3],
) -> (f64, f64) {
    let perp = {
        // a unit vector orthogonal to e
        let t = if e[0].abs() < 0.9 {
            [1.0, 0.0, 0.0]
        } else {
            [0.0, 1.0, 0.0]
        };
        let d: f64 = (0..3).map(|i| t[i] * e[i]).sum();
        let v = [t[0] - d * e[0], t[1] - d * e[1], t[2] - d * e[2]];
        let n = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        v.map(|a| a / n)
    };
    let (nodes, weights) = eqntk::group::gauss_legendre(400).unwrap();
    let mut rows = vec![];
    for t in &nodes {
        let theta = 0.5 * std::f64::consts::PI * (1.0 + t);
        let target = [0, 1, 2].map(|i| theta.cos() * e[i] + theta.sin() * perp[i]);
        rows.push(
            rotate_points3(&rotation_between(ey, target), y)
                .example(0)
                .to_vec(),
        );
    }
    let all = Batch::from_examples(y.shape().to_vec(), &rows).unwrap();
    let k = net.kernel(x, Some(&all)).unwrap();
    let (kn, kt) = (k.nngp().unwrap(), k.ntk().unwrap());
    let mut out = (0.0, 0.0);
    for (q, (t, w)) in nodes.iter().zip(&weights).enumerate() {
        let theta = 0.5 * std::f64::consts::PI * (1.0 + t);
        let f = 0.5 * 0.5 * std::f64::consts::PI * w * theta.sin();
        out.0 += f * kn[(0, q)];
        out.1 += f * kt[(0, q)];
    }
    out
}

#[test]
fn single_points_collinear_and_zero_sets_against_closed_forms() {
    let e = {
        let v = [0.3, -0.5, 0.8];
        let n = (0.09f64 + 0.25 + 0.64).sqrt();
        v.map(|a| a / n)
    };
    let ey = [0.0, 0.6, 0.8];
    let set = |dir: [f64; 3], coef: &[f64]| {
        let v: Vec<f64> = coef.iter().flat_map(|c| dir.map(|d| c * d)).collect();
        Batch::new(vec![coef.len(), 3], v).unwrap()
    };
    for net in [relu_mlp(1), erf_mlp(1)] {
        // single points: off the diagonal, and x′ = x (both ends of τ are kinks for ReLU)
        let (x, y) = (set(e, &[1.3]), set(ey, &[0.7]));
        for (a, b, ea, eb) in [(&x, &y, e, ey), (&x, &x, e, e)] {
            let o = orbit_kernel(&net, a, Some(b), so3(), 1e-12).unwrap();
            let (k, t) = collinear_reference(&net, a, b, ea, eb);
            assert!(
                (o.nngp[(0, 0)] - k).abs() <= 1e-11 * k.abs(),
                "{} vs {k}",
                o.nngp[(0, 0)]
            );
            assert!(
                (o.ntk[(0, 0)] - t).abs() <= 1e-11 * t.abs(),
                "{} vs {t}",
                o.ntk[(0, 0)]
            );
        }
    }
    for net in [relu_mlp(3), erf_mlp(3)] {
        let (x, y) = (set(e, &[1.0, -0.4, 0.7]), set(ey, &[0.2, 0.9, -1.1]));
        for (a, b, ea, eb) in [(&x, &y, e, ey), (&x, &x, e, e)] {
            let o = orbit_kernel(&net, a, Some(b), so3(), 1e-12).unwrap();
            let (k, t) = collinear_reference(&net, a, b, ea, eb);
            assert!(
                (o.nngp[(0, 0)] - k).abs() <= 1e-11 * k.abs(),
                "{} vs {k}",
                o.nngp[(0, 0)]
            );
            assert!(
                (o.ntk[(0, 0)] - t).abs() <= 1e-11 * t.abs(),
                "{} vs {t}",
                o.ntk[(0, 0)]
            );
        }
        // a zero set: every rotation gives k(x, 0)
        let zero = Batch::new(vec![3, 3], vec![0.0; 9]).unwrap();
        let o = orbit_kernel(&net, &x, Some(&zero), so3(), 1e-12).unwrap();
        let k = net.kernel(&x, Some(&zero)).unwrap();
        assert!((o.nngp[(0, 0)] - k.nngp().unwrap()[(0, 0)]).abs() <= 1e-14);
        assert!((o.ntk[(0, 0)] - k.ntk().unwrap()[(0, 0)]).abs() <= 1e-14);
    }
}

/// `∫ k(x, R x) dR` in axis–angle coordinates centred on the kink at `R = I`:
/// `dR = sin²(ω/2) dω dn / 2π²`, Gauss–Legendre in ω ∈ [0, π] (`k` is analytic in ω there,
/// `1 − ρ ∝ ω²`) and a product rule on the axis sphere (Gauss–Legendre in cos θ, trapezoid in
/// the azimuth), over rotated copies of the actual input.
fn diagonal_reference(net: &Network, x: &Batch, n_omega: usize, n_theta: usize) -> (f64, f64) {
    use std::f64::consts::PI;
    let gl = eqntk::group::gauss_legendre;
    let (wo, ww) = gl(n_omega).unwrap();
    let (ct, wt) = gl(n_theta).unwrap();
    let n_phi = 2 * n_theta;
    let mut rows = vec![];
    let mut weights = vec![];
    for (o, wo) in wo.iter().zip(&ww) {
        let omega = 0.5 * PI * (1.0 + o);
        for (c, wc) in ct.iter().zip(&wt) {
            let s = (1.0 - c * c).sqrt();
            for k in 0..n_phi {
                let phi = 2.0 * PI * k as f64 / n_phi as f64;
                let axis = [s * phi.cos(), s * phi.sin(), *c];
                let r = Matrix3::from_axis_angle(axis, omega);
                rows.push(rotate_points3(&r, x).example(0).to_vec());
                // (π/2) wo · wc · (2π / n_phi) · sin²(ω/2) / 2π²
                weights.push(
                    0.5 * PI * wo * wc * (2.0 * PI / n_phi as f64) * (0.5 * omega).sin().powi(2)
                        / (2.0 * PI * PI),
                );
            }
        }
    }
    let all = Batch::from_examples(x.shape().to_vec(), &rows).unwrap();
    let k = net.kernel(x, Some(&all)).unwrap();
    let (kn, kt) = (k.nngp().unwrap(), k.ntk().unwrap());
    let mut out = (0.0, 0.0);
    for (q, w) in weights.iter().enumerate() {
        out.0 += w * kn[(0, q)];
        out.1 += w * kt[(0, q)];
    }
    out
}

/// On the Gram diagonal of a ReLU network (the kink at R = I) the reduced rule agrees to 1e-10
/// with a rule centred on the kink, itself converged (two resolutions agree to 1e-11).
#[test]
fn relu_diagonal_equals_a_rule_centred_on_the_kink() {
    let net = relu_mlp(8);
    let x = normal_batch(&[8, 3], 2, 51);
    let o = orbit_kernel(&net, &x, None, so3(), 1e-12).unwrap();
    for i in 0..2 {
        let xi = x.slice(i, i + 1).unwrap();
        let (k1, t1) = diagonal_reference(&net, &xi, 48, 48);
        let (k2, t2) = diagonal_reference(&net, &xi, 64, 64);
        assert!((k1 - k2).abs() <= 1e-11 * k2 && (t1 - t2).abs() <= 1e-11 * t2);
        let (dk, dt) = (
            (o.nngp[(i, i)] - k2).abs() / k2,
            (o.ntk[(i, i)] - t2).abs() / t2,
        );
        assert!(
            dk <= 1e-10 && dt <= 1e-10,
            "[{i},{i}]: nngp {dk:e}, ntk {dt:e}"
        );
    }
}

/// The reported estimate bounds the error: averages to 1e-5 and 1e-8 are within their
/// tolerances (relative to the largest entry) of the average to 1e-13, on and off a ReLU Gram
/// diagonal and for O(3).
#[test]
fn the_estimate_bounds_the_error() {
    let net = relu_mlp(8);
    let x = normal_batch(&[8, 3], 6, 61);
    for g in ["SO3", "O3"] {
        let g = eqntk::action::InputGroup::parse(g).unwrap();
        let fine = orbit_kernel(&net, &x, None, g, 1e-13).unwrap();
        // the Gram (upper triangle mirrored) equals the full computation against a copy
        let copy = x.clone();
        let full = orbit_kernel(&net, &x, Some(&copy), g, 1e-13).unwrap();
        assert!(rel(&full.ntk, &fine.ntk) <= 1e-12 && rel(&full.nngp, &fine.nngp) <= 1e-12);
        for tol in [1e-5, 1e-8] {
            let o = orbit_kernel(&net, &x, None, g, tol).unwrap();
            assert!(o.error_estimate <= tol);
            let scale = fine.nngp.norm_max().max(fine.ntk.norm_max());
            let d = (&o.nngp - &fine.nngp)
                .norm_max()
                .max((&o.ntk - &fine.ntk).norm_max());
            assert!(d <= tol * scale, "{g} tol {tol:e}: error {:e}", d / scale);
        }
    }
}

fn so3_ensemble<'n>(
    net: &'n Network,
    x: &Batch,
    y: &Mat<f64>,
    group: &str,
) -> eqntk::InfiniteEnsemble<'n> {
    let aug = eqntk::Augmentation::new(group, net.domain(), net.input_shape()).unwrap();
    let set = aug
        .training_set(eqntk::augment::OutputTransform::Invariant, false)
        .unwrap();
    eqntk::InfiniteEnsemble::train(net, x, y.as_ref(), set, 1.0, 0.0).unwrap()
}

const TIMES: [f64; 5] = [0.0, 0.1, 1.0, 10.0, f64::INFINITY];

/// Result B for SO(3) and O(3): with full augmentation the mean prediction is invariant under
/// random rotations of the test inputs (off the data and on rotated training inputs) at every
/// t; without augmentation it is not.
#[test]
fn so3_augmented_means_are_invariant_at_every_time() {
    let net = relu_mlp(8);
    let x = normal_batch(&[8, 3], 6, 71);
    let y = Mat::from_fn(6, 1, |i, _| (1.3 * i as f64).sin());
    let mut rng = ChaCha8Rng::seed_from_u64(72);
    let r0 = So3.random(&mut rng);
    let mut test_rows: Vec<Vec<f64>> = (0..3)
        .map(|i| normal_batch(&[8, 3], 3, 73).example(i).to_vec())
        .collect();
    test_rows.push(rotate_points3(&r0, &x).example(2).to_vec());
    let xt = Batch::from_examples(vec![8, 3], &test_rows).unwrap();
    for group in ["SO3", "O3"] {
        let ens = so3_ensemble(&net, &x, &y, group);
        let base = ens.predict(&xt, &TIMES, false).unwrap();
        let scale = base.mean[4].norm_max();
        assert!(scale > 0.1);
        for _ in 0..2 {
            let r = So3.random(&mut rng);
            let moved = ens
                .predict(&rotate_points3(&r, &xt), &TIMES, false)
                .unwrap();
            for (k, t) in TIMES.iter().enumerate() {
                let d = (&moved.mean[k] - &base.mean[k]).norm_max() / scale;
                assert!(d <= 1e-8, "{group} t = {t}: {d:e}");
            }
        }
        if group == "O3" {
            let mirror = Matrix3::from_rows([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
            let m = ens
                .predict(&rotate_points3(&mirror, &xt), &TIMES, false)
                .unwrap();
            let d = (&m.mean[4] - &base.mean[4]).norm_max() / scale;
            assert!(d <= 1e-8, "O3 mirror: {d:e}");
        }
        // at t = ∞ the rotated training input is interpolated
        assert!((base.mean[4][(3, 0)] - y[(2, 0)]).abs() <= 1e-8);
    }
    let plain =
        eqntk::InfiniteEnsemble::train(&net, &x, y.as_ref(), eqntk::TrainingSet::Given, 1.0, 0.0)
            .unwrap();
    let a = plain.mean(&xt, 1.0).unwrap();
    let b = plain.mean(&rotate_points3(&r0, &xt), 1.0).unwrap();
    assert!((&a - &b).norm_max() > 1e-3 * a.norm_max());
}

/// The O- and I-augmented block predictors approach the SO(3)-augmented one (I, with 60
/// rotations, nearer than O with 24) at every time, within 5 % while training; and SO(3) augmentation refuses what it
/// cannot do in one line.
#[test]
fn finite_subgroup_augmentation_approaches_so3() {
    let net = erf_mlp(4);
    let x = normal_batch(&[4, 3], 5, 81);
    let y = Mat::from_fn(5, 1, |i, _| (0.9 * i as f64).cos());
    let xt = normal_batch(&[4, 3], 3, 82);
    let so3 = so3_ensemble(&net, &x, &y, "SO3")
        .predict(&xt, &TIMES, false)
        .unwrap();
    let o = so3_ensemble(&net, &x, &y, "O")
        .predict(&xt, &TIMES, false)
        .unwrap();
    let ico = so3_ensemble(&net, &x, &y, "I")
        .predict(&xt, &TIMES, false)
        .unwrap();
    let scale = so3.mean[4].norm_max();
    for (k, t) in TIMES.iter().enumerate().skip(1) {
        let eo = (&o.mean[k] - &so3.mean[k]).norm_max() / scale;
        let ei = (&ico.mean[k] - &so3.mean[k]).norm_max() / scale;
        // (at t = ∞ without a regulariser the interpolant of the smooth averaged kernel is
        // ill-conditioned: there only the order of the errors is asserted)
        let bound = if t.is_finite() { 0.05 } else { 1.0 };
        assert!(ei < eo && eo < bound, "t = {t}: O {eo:e}, I {ei:e}");
    }
    let aug = eqntk::Augmentation::new("SO3", net.domain(), net.input_shape()).unwrap();
    let e = aug
        .training_set(eqntk::augment::OutputTransform::Input, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("invariant targets only"), "{e}");
    let e = so3_ensemble(&net, &x, &y, "SO3")
        .predict(&xt, &TIMES, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--cov") && !e.contains('\n'), "{e}");
}

/// `eqntk predict --augment SO3` gives the library's SO(3)-augmented mean; vector targets,
/// `--explicit` and `--cov` are one-line errors (exit 2).
#[test]
fn predict_augment_so3_on_the_command_line() {
    use common::cli;
    let toml = "[input]\nshape = [4, 3]\ndomain = 'points'\n[[layers]]\nkind = 'flatten'\n\
                [[layers]]\nkind = 'dense'\nw_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'relu'\n\
                [[layers]]\nkind = 'dense'\nw_std = 1.1\n";
    let net = Network::from_toml_str(toml, "n.toml").unwrap();
    let path = cli::file("so3_predict.toml", toml);
    let (x, xt) = (normal_batch(&[4, 3], 4, 91), normal_batch(&[4, 3], 2, 92));
    let y = Mat::from_fn(4, 1, |i, _| i as f64 - 1.5);
    let (px, pt) = (cli::data("so3_x.npy", &x), cli::data("so3_xt.npy", &xt));
    let py = cli::file("so3_y.json", "[-1.5, -0.5, 0.5, 1.5]");
    let args = |extra: &[&'static str]| {
        let mut a: Vec<String> = [
            "predict",
            "--net",
            cli::s(&path),
            "--x-train",
            cli::s(&px),
            "--y-train",
            cli::s(&py),
            "--x-test",
            cli::s(&pt),
            "--time",
            "1,inf",
            "--augment",
            "SO3",
            "--format",
            "json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let a = args(&[]);
    let (code, out, err) = cli::eqntk(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let want = so3_ensemble(&net, &x, &y, "SO3")
        .predict(&xt, &[1.0, f64::INFINITY], false)
        .unwrap();
    for k in 0..2 {
        for i in 0..2 {
            let got = v["mean"][k][i][0].as_f64().unwrap();
            assert!(
                (got - want.mean[k][(i, 0)]).abs() <= 1e-12,
                "{got} vs {:?}",
                want.mean[k]
            );
        }
    }
    for extra in [&["--targets", "input"][..], &["--explicit"], &["--cov"]] {
        let a = args(extra);
        let msg = cli::fails(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        assert!(msg.contains("SO3"), "{extra:?}: {msg}");
    }
}

/// Planar point sets on a ReLU Gram diagonal have two kinks: `R = I` and the half-turn about
/// the plane's normal (`R x = −x`, correlation −1), i.e. `λ₁ = S` and `λ₄ = −S`. The reduced rule
/// converges and agrees with Haar Monte Carlo there (SO(3) and O(3)).
#[test]
fn planar_sets_on_a_relu_diagonal() {
    let net = relu_mlp(4);
    let flat = normal_batch(&[4, 3], 2, 101);
    let rows: Vec<Vec<f64>> = (0..2)
        .map(|i| {
            let mut v = flat.example(i).to_vec();
            for p in 0..4 {
                v[3 * p + 2] = 0.0;
            }
            v
        })
        .collect();
    let x = Batch::from_examples(vec![4, 3], &rows).unwrap();
    let o = orbit_kernel(&net, &x, None, so3(), 1e-10).unwrap();
    assert!(o.error_estimate <= 1e-10);
    assert_within_5_se(&o, &haar_mean(&net, &x, &x, 20_000, 102), "planar SO3");
    let lam = trace_spectrum(&{
        let mut a = [[0.0; 3]; 3];
        for p in x.example(0).chunks(3) {
            for i in 0..3 {
                for j in 0..3 {
                    a[i][j] += p[i] * p[j];
                }
            }
        }
        a
    });
    let s: f64 = x.example(0).iter().map(|v| v * v).sum();
    assert!(
        (lam[0] - s).abs() < 1e-12 * s && (lam[3] + s).abs() < 1e-12 * s,
        "{lam:?}"
    );
    let o3 = orbit_kernel(
        &net,
        &x,
        None,
        eqntk::action::InputGroup::parse("O3").unwrap(),
        1e-10,
    )
    .unwrap();
    // for planar sets −x′ is a rotation of x′, so the O(3) average is the SO(3) one
    assert!(rel(&o3.ntk, &o.ntk) <= 1e-10 && rel(&o3.nngp, &o.nngp) <= 1e-10);
}
