//! SO(2) G-CNNs (MATH.md §7, last line): the kernel after an SO(2) lifting is a function of the
//! relative angle, evaluated on an adaptive angular grid; pooled, it equals the SO(2)-orbit
//! average of the MLP (Result A), is invariant under rotations of either input, and the C_k
//! averages converge to it geometrically.

use crate::common;

use common::normal_batch as batch;
use std::f64::consts::PI;

use eqntk::action::Domain;
use eqntk::group::{gauss_legendre, GroupSpec};
use eqntk::orbit::{orbit_kernel, rotate_batch};
use eqntk::{Batch, FiniteNetwork, Network};
use faer::Mat;

fn max_abs(a: &Mat<f64>) -> f64 {
    let mut s = 0.0f64;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            s = s.max(a[(i, j)].abs());
        }
    }
    s
}

fn rel_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    max_abs(&(a - b)) / max_abs(b)
}

const W: &str = "w_std = 1.4\nb_std = 0.2\n";
const RELU: &str = "kind = 'relu'";
const ERF: &str = "kind = 'erf'";

/// Lift to SO(2), `depth − 1` group convolutions, each followed by `act`, group pooling and a
/// dense readout (`readout = false`: end at the pool).
fn gcnn(shape: &[usize], depth: usize, act: &str, lift_extra: &str, readout: bool) -> String {
    let dom = domain(shape);
    let mut s = format!(
        "[input]\nshape = {shape:?}\ndomain = '{dom}'\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n\
         {lift_extra}\n{W}[[layers]]\n{act}\n"
    );
    for _ in 1..depth {
        s += &format!("[[layers]]\nkind = 'group_conv'\n{W}[[layers]]\n{act}\n");
    }
    s += "[[layers]]\nkind = 'group_pool'\n";
    if readout {
        s += &format!("[[layers]]\nkind = 'dense'\n{W}");
    }
    s
}

/// The plain counterpart: flatten, then an MLP of the same depth (and readout).
fn mlp(shape: &[usize], depth: usize, act: &str, readout: bool) -> String {
    let dom = domain(shape);
    let mut s =
        format!("[input]\nshape = {shape:?}\ndomain = '{dom}'\n[[layers]]\nkind = 'flatten'\n");
    for _ in 0..depth {
        s += &format!("[[layers]]\nkind = 'dense'\n{W}[[layers]]\n{act}\n");
    }
    if readout {
        s += &format!("[[layers]]\nkind = 'dense'\n{W}");
    }
    s
}

/// The fixtures' domains: the two-channel examples here are planar point sets, the others
/// periodic signals (declared in every network file below).
fn domain(shape: &[usize]) -> Domain {
    match shape {
        [_, 2] => Domain::Points,
        _ => Domain::Signal,
    }
}

fn net(toml: &str) -> Network {
    Network::from_toml_str(toml, "net.toml").unwrap()
}

fn so2() -> GroupSpec {
    GroupSpec::So2 { band_limit: None }
}

/// Point sets, an odd one-channel signal and an odd three-channel signal.
const SHAPES: [&[usize]; 3] = [&[4, 2], &[7, 1], &[5, 3]];

#[test]
fn result_a_so2_gcnn_equals_the_so2_averaged_mlp() {
    for (s, shape) in SHAPES.iter().enumerate() {
        let (x1, x2) = (batch(shape, 3, s as u64), batch(shape, 2, 10 + s as u64));
        for depth in 1..=3 {
            for act in [RELU, ERF] {
                let g = net(&gcnn(shape, depth, act, "", true));
                let plain = net(&mlp(shape, depth, act, true));
                let kg = g.kernel(&x1, Some(&x2)).unwrap();
                let avg = orbit_kernel(&plain, &x1, Some(&x2), so2(), 1e-13).unwrap();
                let dn = rel_diff(&kg.nngp().unwrap(), &avg.nngp);
                let dt = rel_diff(&kg.ntk().unwrap(), &avg.ntk);
                assert!(
                    dn <= 1e-10 && dt <= 1e-10,
                    "{shape:?} depth {depth} {act}: nngp {dn:.1e}, ntk {dt:.1e}"
                );
            }
        }
    }
}

/// `(1/2π) ∫ k(x, R_φ x) dφ` for the MLP `plain`, by 64-point Gauss–Legendre on the four
/// quarter periods: each is analytic up to its end points (the kinks of `φ ↦ k(x, R_φ x)` sit
/// at φ = 0 and, for point sets, φ = π), so the rule converges geometrically. Independent of the
/// angular grid and of its Romberg extrapolation.
fn self_average_by_legendre(plain: &Network, x: &Batch) -> (f64, f64) {
    let (nodes, rule_weights) = gauss_legendre(64).unwrap();
    let mut rotated = vec![];
    let mut weights = vec![];
    for q in 0..4 {
        let (a, b) = (q as f64 * PI / 2.0, (q + 1) as f64 * PI / 2.0);
        for (t, w) in nodes.iter().zip(&rule_weights) {
            let phi = 0.5 * (a + b) + 0.5 * (b - a) * t;
            rotated.push(
                rotate_batch(x, domain(x.shape()), phi)
                    .unwrap()
                    .values()
                    .to_vec(),
            );
            weights.push(w * 0.5 * (b - a) / (2.0 * PI));
        }
    }
    let x2 = Batch::from_examples(x.shape().to_vec(), &rotated).unwrap();
    let k = plain.kernel(x, Some(&x2)).unwrap();
    let (kn, kt) = (k.nngp().unwrap(), k.ntk().unwrap());
    let mut out = (0.0, 0.0);
    for (j, w) in weights.iter().enumerate() {
        out.0 += w * kn[(0, j)];
        out.1 += w * kt[(0, j)];
    }
    out
}

#[test]
fn symmetric_kernels_with_their_kinked_diagonal() {
    // x2 = x1: the diagonal pairs (x, x) reach ρ = 1 at φ = 0 (and ρ = −1 at φ = π for point
    // sets), where the ReLU kernels have kinks; the grid is anchored there and extrapolated.
    for (s, shape) in SHAPES.iter().enumerate() {
        let x = batch(shape, 3, 20 + s as u64);
        for act in [RELU, ERF] {
            let g = net(&gcnn(shape, 2, act, "", true));
            let plain = net(&mlp(shape, 2, act, true));
            let report = g.kernel_report(&x, None).unwrap();
            let rep = report.so2.clone().unwrap();
            assert!(rep.aliasing_estimate <= 1e-12, "{rep:?}");
            let (kn, kt) = (report.kernel.nngp().unwrap(), report.kernel.ntk().unwrap());
            let copy = Batch::new(x.shape().to_vec(), x.values().to_vec()).unwrap();
            for i in 0..3 {
                let xi = x.slice(i, i + 1).unwrap();
                let (rk, rt) = self_average_by_legendre(&plain, &xi);
                let (dk, dt) = (
                    (kn[(i, i)] - rk).abs() / rk.abs(),
                    (kt[(i, i)] - rt).abs() / rt.abs(),
                );
                assert!(
                    dk <= 1e-10 && dt <= 1e-10,
                    "{shape:?} {act} diagonal {i}: nngp {dk:.1e}, ntk {dt:.1e}"
                );
                // Off the diagonal: the orbit average (no kink for distinct generic examples).
                for j in 0..3 {
                    if i != j {
                        let xj = x.slice(j, j + 1).unwrap();
                        let a = orbit_kernel(&plain, &xi, Some(&xj), so2(), 1e-13).unwrap();
                        let dk = (kn[(i, j)] - a.nngp[(0, 0)]).abs() / a.nngp[(0, 0)].abs();
                        let dt = (kt[(i, j)] - a.ntk[(0, 0)]).abs() / a.ntk[(0, 0)].abs();
                        assert!(dk <= 1e-10 && dt <= 1e-10, "{shape:?} {act} ({i},{j})");
                    }
                }
            }
            // The same numbers when x2 is given as a copy of x1 (the pairs (x_i, x_i) found as
            // singular by their peak) and the pooled self-covariances equal the diagonal.
            let k2 = g.kernel(&x, Some(&copy)).unwrap();
            assert!(rel_diff(&k2.nngp().unwrap(), &kn) <= 1e-12);
            assert!(rel_diff(&k2.ntk().unwrap(), &kt) <= 1e-12);
        }
    }
}

/// The C_k ⊂ SO(2) orbit average of `plain`: the mean over the rotations by 2πr/k of x2.
fn cyclic_average(plain: &Network, x1: &Batch, x2: &Batch, k: usize) -> (Mat<f64>, Mat<f64>) {
    let (mut kn, mut kt) = (
        Mat::zeros(x1.len(), x2.len()),
        Mat::zeros(x1.len(), x2.len()),
    );
    for r in 0..k {
        let kk = plain
            .kernel(
                x1,
                Some(
                    &rotate_batch(x2, domain(x2.shape()), 2.0 * PI * r as f64 / k as f64).unwrap(),
                ),
            )
            .unwrap();
        kn += kk.nngp().unwrap();
        kt += kk.ntk().unwrap();
    }
    (
        kn * faer::Scale(1.0 / k as f64),
        kt * faer::Scale(1.0 / k as f64),
    )
}

/// The half-width a of the strip `|Im φ| < a` in which `φ ↦ k(x, R_φ x')` is analytic for every
/// pair, for a one-hidden-layer ReLU MLP whose first layer has no bias: its duals are singular
/// only where `ρ(φ) = k⁰(x, R_φ x')/√(k⁰(x,x) k⁰(x',x')) = ±1`. `ρ` is a trigonometric polynomial
/// of degree L (1 for point sets, (n−1)/2 for signals), found here from 2L + 1 samples of the
/// input kernel of rotated examples; `ρ(φ) = ±1` is a polynomial equation of degree 2L in
/// `z = e^{iφ}` (roots by the companion matrix), and `Im φ = −ln|z|`.
fn strip_half_width(x1: &Batch, x2: &Batch) -> f64 {
    let shape = x1.shape();
    let l = match shape {
        [_, 2] => 1,
        [n, _] => (n - 1) / 2,
        _ => unreachable!(),
    };
    let m = 2 * l + 1;
    let len = x1.example_len() as f64;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>() / len;
    let mut a = f64::INFINITY;
    for i in 0..x1.len() {
        for j in 0..x2.len() {
            let (x, y) = (x1.example(i), x2.slice(j, j + 1).unwrap());
            let angles: Vec<f64> = (0..m).map(|t| 2.0 * PI * t as f64 / m as f64).collect();
            let g: Vec<f64> = angles
                .iter()
                .map(|&phi| {
                    dot(
                        x,
                        rotate_batch(&y, domain(y.shape()), phi).unwrap().example(0),
                    )
                })
                .collect();
            let scale = (dot(x, x) * dot(y.example(0), y.example(0))).sqrt();
            // c_q, q = −L..L, of g(φ) = Σ_q c_q e^{iqφ}.
            let c: Vec<faer::c64> = (0..m)
                .map(|k| {
                    let q = k as f64 - l as f64;
                    angles
                        .iter()
                        .zip(&g)
                        .fold(faer::c64::new(0.0, 0.0), |acc, (&phi, &v)| {
                            acc + faer::c64::from_polar(v / m as f64, -q * phi)
                        })
                })
                .collect();
            for sign in [1.0, -1.0] {
                // z^L (g(φ) − sign·scale) = Σ_k p_k z^k, k = 0..2L; roots of the monic form.
                let mut p = c.clone();
                p[l] -= sign * scale;
                let d = 2 * l;
                let comp = Mat::from_fn(d, d, |r, col| {
                    if r == 0 {
                        -p[d - 1 - col] / p[d]
                    } else if r == col + 1 {
                        faer::c64::new(1.0, 0.0)
                    } else {
                        faer::c64::new(0.0, 0.0)
                    }
                });
                for z in comp.eigenvalues().unwrap() {
                    a = a.min(z.norm().ln().abs());
                }
            }
        }
    }
    a
}

/// Errors of the C_k averages (k = 4, 8, …, 24) against the SO(2) average, relative.
fn cyclic_errors(plain: &Network, x1: &Batch, x2: &Batch) -> Vec<(usize, f64)> {
    let avg = orbit_kernel(plain, x1, Some(x2), so2(), 1e-14).unwrap();
    (4..=24)
        .step_by(4)
        .map(|k| {
            let (kn, kt) = cyclic_average(plain, x1, x2, k);
            (k, rel_diff(&kn, &avg.nngp).max(rel_diff(&kt, &avg.ntk)))
        })
        .collect()
}

/// Below this the errors are rounding (the SO(2) reference is good to ~1e-14).
const FLOOR: f64 = 1e-12;

#[test]
fn cyclic_averages_converge_geometrically_to_the_so2_average() {
    // One hidden ReLU layer without bias, on point sets and on odd signals: the C_k average is
    // the k-point trapezoidal rule of a function analytic in the strip |Im φ| < a, so its error
    // is the aliased Fourier coefficients c_{±k}, … = O(k^{−3/2} e^{−a k}) (square-root branch
    // points at the strip's edge): ln(error) falls with slope −a or steeper. Asserted: the
    // least-squares slope of ln(error) against k (k = 4, 8, …, 24, above the rounding floor) is
    // at most −3a/4, and every step k → k + 4 gains at least e^{−a} (a quarter of the predicted
    // e^{−4a}: single steps fluctuate, several branch points and pairs interfere).
    for (shape, seed) in [
        (&[3usize, 2][..], 40),
        (&[3, 2][..], 42),
        (&[7, 1][..], 44),
        (&[5, 2][..], 46),
        (&[5, 3][..], 48),
    ] {
        let (x1, x2) = (batch(shape, 3, seed), batch(shape, 3, seed + 1));
        let a = strip_half_width(&x1, &x2);
        let dom = domain(shape);
        let toml = format!(
            "[input]\nshape = {shape:?}\ndomain = '{dom}'\n[[layers]]\nkind = 'flatten'\n[[layers]]\n\
             kind = 'dense'\nw_std = 1.4\n[[layers]]\n{RELU}\n[[layers]]\nkind = 'dense'\n{W}"
        );
        let errors: Vec<(f64, f64)> = cyclic_errors(&net(&toml), &x1, &x2)
            .into_iter()
            .filter(|&(_, e)| e > FLOOR)
            .map(|(k, e)| (k as f64, e.ln()))
            .collect();
        assert!(
            errors.len() >= 4,
            "{shape:?}: too few errors above the floor"
        );
        for w in errors.windows(2) {
            assert!(
                w[1].1 - w[0].1 <= -a,
                "{shape:?}: C{} → C{} gains less than e^(−a), a = {a:.3}: {errors:?}",
                w[0].0,
                w[1].0
            );
        }
        let n = errors.len() as f64;
        let (mk, me) = (
            errors.iter().map(|e| e.0).sum::<f64>() / n,
            errors.iter().map(|e| e.1).sum::<f64>() / n,
        );
        let slope = errors.iter().map(|e| (e.0 - mk) * (e.1 - me)).sum::<f64>()
            / errors.iter().map(|e| (e.0 - mk).powi(2)).sum::<f64>();
        assert!(
            slope <= -0.75 * a,
            "{shape:?}: ln(error) slope {slope:.3} per unit k, above −3a/4 = {:.3}",
            -0.75 * a
        );
    }
}

#[test]
fn invariant_under_rotations_of_either_input() {
    for (s, shape) in SHAPES.iter().enumerate() {
        let (x1, x2) = (
            batch(shape, 3, 60 + s as u64),
            batch(shape, 2, 70 + s as u64),
        );
        let g = net(&gcnn(shape, 2, RELU, "", true));
        let k = g.kernel(&x1, Some(&x2)).unwrap();
        let (kn, kt) = (k.nngp().unwrap(), k.ntk().unwrap());
        for (alpha, beta) in [(0.37, 0.0), (0.0, 2.9), (1.234, -4.2)] {
            let r1 = rotate_batch(&x1, domain(x1.shape()), alpha).unwrap();
            let r2 = rotate_batch(&x2, domain(x2.shape()), beta).unwrap();
            let kr = g.kernel(&r1, Some(&r2)).unwrap();
            let dn = rel_diff(&kr.nngp().unwrap(), &kn);
            let dt = rel_diff(&kr.ntk().unwrap(), &kt);
            assert!(
                dn <= 1e-10 && dt <= 1e-10,
                "{shape:?} α={alpha} β={beta}: {dn:.1e} {dt:.1e}"
            );
        }
        // The symmetric kernel of a rotated batch, and a batch against its rotated copy (pairs
        // that reach ρ = 1 away from φ = 0).
        let ks = g.kernel(&x1, None).unwrap();
        let kr = g
            .kernel(&rotate_batch(&x1, domain(x1.shape()), 0.81).unwrap(), None)
            .unwrap();
        assert!(rel_diff(&kr.nngp().unwrap(), &ks.nngp().unwrap()) <= 1e-10);
        assert!(rel_diff(&kr.ntk().unwrap(), &ks.ntk().unwrap()) <= 1e-10);
        let kc = g
            .kernel(
                &x1,
                Some(&rotate_batch(&x1, domain(x1.shape()), 2.2).unwrap()),
            )
            .unwrap();
        assert!(
            rel_diff(&kc.nngp().unwrap(), &ks.nngp().unwrap()) <= 1e-10,
            "{shape:?}"
        );
        assert!(
            rel_diff(&kc.ntk().unwrap(), &ks.ntk().unwrap()) <= 1e-10,
            "{shape:?}"
        );
    }
}

#[test]
fn aliasing_estimate_is_reported_and_bounds_the_error() {
    // A G-CNN ending at the pool (no readout), so the pooled values are the grid means.
    let shape = [5, 3];
    let (x1, x2) = (batch(&shape, 3, 80), batch(&shape, 3, 81));
    let tight = net(&gcnn(&shape, 2, RELU, "tol = 1e-13", false));
    let loose = net(&gcnn(&shape, 2, RELU, "tol = 1e-5", false));
    let rt = tight.kernel_report(&x1, Some(&x2)).unwrap();
    let rl = loose.kernel_report(&x1, Some(&x2)).unwrap();
    let (st, sl) = (rt.so2.unwrap(), rl.so2.unwrap());
    assert_eq!((st.tol, sl.tol), (1e-13, 1e-5));
    assert!(st.aliasing_estimate <= 1e-13 && sl.aliasing_estimate <= 1e-5);
    assert!(sl.angles < st.angles, "{sl:?} {st:?}");
    // The estimate (relative to each pair's scale, at least its Cauchy–Schwarz bound
    // √(K(x,x) K(x',x')) of the pre-pool kernel) bounds the actual error of the loose grid.
    let hidden = net(&mlp(&shape, 2, RELU, false));
    let (v1, v2) = (
        hidden.kernel(&x1, None).unwrap(),
        hidden.kernel(&x2, None).unwrap(),
    );
    let (c1, c2) = (v1.nngp().unwrap(), v2.nngp().unwrap());
    let (t1, t2) = (v1.ntk().unwrap(), v2.ntk().unwrap());
    let (ktn, ktt) = (rt.kernel.nngp().unwrap(), rt.kernel.ntk().unwrap());
    let (kln, klt) = (rl.kernel.nngp().unwrap(), rl.kernel.ntk().unwrap());
    for i in 0..3 {
        for j in 0..3 {
            let scale = (c1[(i, i)] * c2[(j, j)])
                .sqrt()
                .max((t1[(i, i)] * t2[(j, j)]).sqrt())
                .max(ktn[(i, j)].abs())
                .max(ktt[(i, j)].abs());
            let err = (kln[(i, j)] - ktn[(i, j)])
                .abs()
                .max((klt[(i, j)] - ktt[(i, j)]).abs());
            assert!(
                err <= sl.aliasing_estimate * scale,
                "({i},{j}): {err:.1e} vs {sl:?}"
            );
        }
    }
    // Not an SO(2) network: no report.
    let c = net(&mlp(&shape, 1, RELU, true));
    assert!(c.kernel_report(&x1, None).unwrap().so2.is_none());
}

#[test]
fn an_unreachable_tolerance_is_an_error_not_a_silent_number() {
    let shape = [3, 2];
    let x = batch(&shape, 2, 90);
    let g = net(&gcnn(&shape, 2, RELU, "tol = 1e-18", true));
    let e = g.kernel(&x, None).unwrap_err().to_string();
    assert!(e.contains("layers[0] (lift)") && e.contains("tol"), "{e}");
}

fn spec_error(toml: &str) -> String {
    Network::from_toml_str(toml, "bad.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_input_is_a_clear_error() {
    let lift = |shape: &str, extra: &str| {
        format!(
            "[input]\nshape = {shape}\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\n{extra}\n\
             [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_pool'\n"
        )
    };
    let cases: Vec<(String, &[&str])> =
        vec![
        (
            lift("[6, 1]", "filter = 'full'"),
            &["layers[0] (lift)", "even length 6"],
        ),
        (
            lift("[5, 5, 1]", "filter = 'full'"),
            &["layers[0] (lift)", "[P, 2]", "[5, 5, 1]"],
        ),
        (lift("[4]", "filter = 'full'"), &["layers[0] (lift)", "[4]"]),
        (
            lift("[7, 1]", "filter = [3]"),
            &["layers[0] (lift)", "filter = \"full\""],
        ),
        (
            lift("[7, 1]", "filter = 'full'\ntol = 0.0"),
            &["layers[0] (lift)", "`tol`"],
        ),
        (
            lift("[7, 1]", "filter = 'full'\ngroup = 'SO2:3'").replace("group = 'SO2'\n", ""),
            &["layers[0] (lift)", "band limit"],
        ),
        (
            "[input]\nshape = [7, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'C7'\nfilter = 'full'\n\
             tol = 1e-9\n[[layers]]\nkind = 'group_pool'\n"
                .into(),
            &["layers[0] (lift)", "`tol`"],
        ),
        (
            "[input]\nshape = [7, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n\
             [[layers]]\nkind = 'relu'\n"
                .into(),
            &["layers[1] (relu)", "SO2 features must be pooled with group_pool"],
        ),
        (
            "[input]\nshape = [7, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n\
             [[layers]]\nkind = 'flatten'\n"
                .into(),
            &["layers[1] (flatten)", "SO2 features must be pooled with group_pool"],
        ),
        (
            "[input]\nshape = [7, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n\
             [[layers]]\nkind = 'group_conv'\nsupport = [0]\n[[layers]]\nkind = 'group_pool'\n"
                .into(),
            &["layers[1] (group_conv)", "support"],
        ),
        (
            "[input]\nshape = [7, 1]\n[[layers]]\nkind = 'dense'\n[[layers]]\nkind = 'lift'\n\
             group = 'SO2'\nfilter = 'full'\n[[layers]]\nkind = 'group_pool'\n"
                .into(),
            &["layers[1] (lift)", "first layer"],
        ),
    ];
    for (toml, needles) in cases {
        let e = spec_error(&toml);
        for n in needles {
            assert!(e.contains(n), "`{n}` not in: {e}");
        }
    }
    // Finite SO(2) G-CNNs are sampled on an odd C_N grid (tests/monte_carlo_so2.rs).
    let g = net(&gcnn(&[7, 1], 1, RELU, "", true));
    assert!(FiniteNetwork::sample(&g, 8, 0).is_ok());
    let e = g.discretised(8).unwrap_err().to_string();
    assert!(e.contains("odd N"), "{e}");
}

#[test]
fn standard_parameterization_of_the_lift() {
    // Fan-in of the full SO(2) filter: every input value (P·C), as for flatten → dense.
    let shape = [4, 2];
    let (x1, x2) = (batch(&shape, 2, 95), batch(&shape, 2, 96));
    let p = "parameterization = 'standard'\nwidth = 16\n";
    let g = net(&format!(
        "[input]\nshape = [4, 2]\ndomain = 'points'\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n{p}{W}\
         [[layers]]\n{RELU}\n[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{p}{W}"
    ));
    let plain = net(&format!(
        "[input]\nshape = [4, 2]\ndomain = 'points'\n[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n{p}{W}\
         [[layers]]\n{RELU}\n[[layers]]\nkind = 'dense'\n{p}{W}"
    ));
    let kg = g.kernel(&x1, Some(&x2)).unwrap();
    let avg = orbit_kernel(&plain, &x1, Some(&x2), so2(), 1e-13).unwrap();
    assert!(rel_diff(&kg.nngp().unwrap(), &avg.nngp) <= 1e-10);
    assert!(rel_diff(&kg.ntk().unwrap(), &avg.ntk) <= 1e-10);
}
