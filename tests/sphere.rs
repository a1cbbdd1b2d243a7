//! Band-limited sphere signals `[L+1, 2L+1, C]` (`domain = "sphere"`): the rotation
//! `(R·f)(y) = f(R⁻¹ y)` is exact (checked against the signal's coefficients evaluated directly
//! at rotated points, the cyclic shift in φ, and the φ Fourier modes, all built here); orbit
//! averages over O, Oh, I are exact means over the group; the SO(3) average converges and is
//! invariant; the one-line errors.

use crate::common;

use common::assert_close;
use common::cli::{data, eqntk, fails, file, s};
use eqntk::action::{action_for, Domain, InputGroup, SphereGrid};
use eqntk::group::{gauss_legendre, FiniteGroup, Matrix3, Polyhedral, PolyhedralKind, So3};
use eqntk::orbit::{orbit_kernel, reads_only_the_input_kernel, so3_orbit_kernel_euler};
use eqntk::rep::real_spherical_harmonics;
use eqntk::{Augmentation, Batch, Error, Network};
use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::PI;

/// The grid points, built here from the description: north to south, `φ_k = 2πk/(2L+1)`.
fn grid_points(l: usize) -> Vec<[f64; 3]> {
    let (mut nodes, _) = gauss_legendre(l + 1).unwrap();
    nodes.sort_by(|a, b| b.partial_cmp(a).unwrap());
    let n = 2 * l + 1;
    let mut out = vec![];
    for t in nodes {
        let theta = t.acos();
        for k in 0..n {
            let phi = 2.0 * PI * k as f64 / n as f64;
            out.push([
                theta.sin() * phi.cos(),
                theta.sin() * phi.sin(),
                theta.cos(),
            ]);
        }
    }
    out
}

/// Random coefficients `a_lm` of `C` channels (`(L+1)²` rows).
fn coefficients(l: usize, channels: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..(l + 1) * (l + 1) * channels)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect()
}

/// `f(p) = Σ a_lm Y_lm(p)` for every channel at every point.
fn evaluate(l: usize, a: &[f64], channels: usize, at: &[[f64; 3]]) -> Vec<f64> {
    at.iter()
        .flat_map(|p| {
            let y = real_spherical_harmonics(l, *p);
            (0..channels).map(move |c| {
                (0..y.len())
                    .map(|q| y[q] * a[q * channels + c])
                    .sum::<f64>()
            })
        })
        .collect()
}

/// A signal's samples at `Mᵀ y` for every grid point `y`: `M·f`, from its coefficients.
fn rotated_reference(l: usize, a: &[f64], channels: usize, m: &Matrix3) -> Vec<f64> {
    let at: Vec<_> = grid_points(l)
        .iter()
        .map(|y| m.transpose().apply(*y))
        .collect();
    evaluate(l, a, channels, &at)
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

fn random_rotation(seed: u64) -> Matrix3 {
    So3.random(&mut ChaCha8Rng::seed_from_u64(seed))
}

#[test]
fn the_rotation_of_a_band_limited_signal_is_exact() {
    for (l, channels) in [(0, 1), (1, 2), (3, 1), (6, 2), (12, 1)] {
        let grid = SphereGrid::new(l).unwrap();
        assert!(max_diff(&grid.points().concat(), &grid_points(l).concat()) < 1e-15);
        let a = coefficients(l, channels, 10 + l as u64);
        let f = evaluate(l, &a, channels, &grid_points(l));
        assert!(
            max_diff(&grid.analyse(&f, channels), &a) < 1e-12,
            "L = {l}: analysis"
        );
        let (r1, r2) = (
            random_rotation(1 + l as u64),
            random_rotation(50 + l as u64),
        );
        // the rotated samples are f(R⁻¹ y), evaluated from the coefficients
        let rf = grid.transform(&r1, &f, channels);
        let e = max_diff(&rf, &rotated_reference(l, &a, channels, &r1));
        assert!(e < 1e-12, "L = {l}: R·f against f(R⁻¹ y): {e:e}");
        // R⁻¹ undoes R
        let back = grid.transform(&r1.transpose(), &rf, channels);
        assert!(max_diff(&back, &f) < 1e-12, "L = {l}: R⁻¹R·f");
        // a representation: M(R1) M(R2) = M(R1 R2), also on samples that are not band-limited
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let noise: Vec<f64> = (0..f.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
        for x in [&f, &noise] {
            let two = grid.transform(&r1, &grid.transform(&r2, x, channels), channels);
            let one = grid.transform(&r1.mul(&r2), x, channels);
            assert!(max_diff(&two, &one) < 1e-12, "L = {l}: M(R1)M(R2)");
        }
        // −I: f(−y) = Σ (−1)^l a_lm Y_lm(y)
        let minus = grid.transform(&Matrix3::scalar(-1.0), &f, channels);
        let signed: Vec<f64> = (0..a.len())
            .map(|i| {
                let degree = ((i / channels) as f64).sqrt().floor() as usize;
                if degree % 2 == 1 {
                    -a[i]
                } else {
                    a[i]
                }
            })
            .collect();
        let e = max_diff(&minus, &evaluate(l, &signed, channels, &grid_points(l)));
        assert!(e < 1e-12, "L = {l}: antipodal map: {e:e}");
    }
}

#[test]
fn rotations_about_the_pole_shift_and_phase_rotate_the_rings() {
    let (l, channels) = (5, 2);
    let n = 2 * l + 1;
    let grid = SphereGrid::new(l).unwrap();
    let f = evaluate(l, &coefficients(l, channels, 3), channels, &grid_points(l));
    let at = |x: &[f64], j: usize, k: usize, c: usize| x[(j * n + k) * channels + c];
    // R_z(2πk/n) shifts every ring by k samples: (R·f)(θ, φ) = f(θ, φ − 2πk/n)
    for shift in 0..n {
        let r = Matrix3::rotation_z(2.0 * PI * shift as f64 / n as f64);
        let rf = grid.transform(&r, &f, channels);
        let mut want = vec![0.0; f.len()];
        for j in 0..=l {
            for k in 0..n {
                for c in 0..channels {
                    want[(j * n + k) * channels + c] = at(&f, j, (k + n - shift) % n, c);
                }
            }
        }
        assert!(max_diff(&rf, &want) < 1e-12, "shift by {shift}");
    }
    // any angle: Fourier mode m of each ring times e^{−imα} (odd n: exact interpolation)
    for alpha in [0.3, 1.7, -2.9] {
        let rf = grid.transform(&Matrix3::rotation_z(alpha), &f, channels);
        for j in 0..=l {
            for c in 0..channels {
                for k in 0..n {
                    let phi = 2.0 * PI * k as f64 / n as f64;
                    // trigonometric interpolation of the ring at φ − α
                    let mut v = 0.0;
                    for q in 0..n {
                        let (mut sum, phi_q) = (0.0, 2.0 * PI * q as f64 / n as f64);
                        for m in -(l as i64)..=l as i64 {
                            sum += (m as f64 * (phi - alpha - phi_q)).cos();
                        }
                        v += at(&f, j, q, c) * sum / n as f64;
                    }
                    let got = at(&rf, j, k, c);
                    assert!((got - v).abs() < 1e-12, "α = {alpha}: {got} against {v}");
                }
            }
        }
    }
}

/// flatten, dense, erf, dense, relu, dense on a sphere signal of band limit `l`.
fn mlp_text(l: usize, channels: usize) -> String {
    format!(
        "[input]\nshape = [{}, {}, {channels}]\ndomain = 'sphere'\n[[layers]]\nkind = 'flatten'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'erf'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.3\nb_std = 0.1\n[[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.1\n",
        l + 1,
        2 * l + 1
    )
}

fn mlp(l: usize, channels: usize) -> Network {
    Network::from_toml_str(&mlp_text(l, channels), "mlp.toml").unwrap()
}

/// `n` band-limited examples and their coefficients.
fn signals(l: usize, channels: usize, n: usize, seed: u64) -> (Batch, Vec<Vec<f64>>) {
    let a: Vec<_> = (0..n)
        .map(|i| coefficients(l, channels, seed * 100 + i as u64))
        .collect();
    let rows: Vec<_> = a
        .iter()
        .map(|a| evaluate(l, a, channels, &grid_points(l)))
        .collect();
    (
        Batch::from_examples(vec![l + 1, 2 * l + 1, channels], &rows).unwrap(),
        a,
    )
}

/// `M·x` for every example, from the coefficients.
fn rotate(l: usize, channels: usize, a: &[Vec<f64>], m: &Matrix3) -> Batch {
    let rows: Vec<_> = a
        .iter()
        .map(|a| rotated_reference(l, a, channels, m))
        .collect();
    Batch::from_examples(vec![l + 1, 2 * l + 1, channels], &rows).unwrap()
}

fn group(name: &str) -> InputGroup {
    InputGroup::parse(name).unwrap()
}

#[test]
fn finite_group_averages_on_spheres_are_exact_means() {
    let (l, channels) = (2, 2);
    let net = mlp(l, channels);
    let (x1, _) = signals(l, channels, 3, 1);
    let (x2, a2) = signals(l, channels, 2, 2);
    for (name, kind) in [
        ("O", PolyhedralKind::Octahedral),
        ("Oh", PolyhedralKind::FullOctahedral),
        ("I", PolyhedralKind::Icosahedral),
    ] {
        let o = orbit_kernel(&net, &x1, Some(&x2), group(name), 0.0).unwrap();
        let g = Polyhedral::new(kind).unwrap();
        let w = faer::Scale(1.0 / g.order() as f64);
        let (mut k, mut t) = (Mat::<f64>::zeros(3, 2), Mat::<f64>::zeros(3, 2));
        for m in g.matrices() {
            let kr = net.kernel(&x1, Some(&rotate(l, channels, &a2, m))).unwrap();
            k += kr.nngp().unwrap() * w;
            t += kr.ntk().unwrap() * w;
        }
        assert_eq!(o.samples, g.order());
        assert_eq!(o.error_estimate, 0.0);
        assert_close(&o.nngp, &k, 1e-12, &format!("{name} nngp"));
        assert_close(&o.ntk, &t, 1e-12, &format!("{name} ntk"));
    }
}

#[test]
fn the_so3_average_on_spheres_converges_and_is_invariant() {
    let (l, channels) = (2, 1);
    let net = mlp(l, channels);
    let (x1, a1) = signals(l, channels, 2, 3);
    let (x2, a2) = signals(l, channels, 2, 4);
    // ReLU after erf: the average converges more slowly than on point sets
    let tol = 1e-8;
    let so3 = orbit_kernel(&net, &x1, Some(&x2), group("SO3"), tol).unwrap();
    assert!(so3.error_estimate <= tol && so3.samples > 60);
    // a flatten-first network on spheres takes the Euler-angle rule, never the point-set rule
    assert!(!reads_only_the_input_kernel(&net));
    let euler = so3_orbit_kernel_euler(&net, &x1, &x2, tol).unwrap();
    assert_eq!((euler.nngp, euler.samples), (so3.nngp.clone(), so3.samples));
    // the finite subgroups approach it: O (24) → I (60) → SO(3)
    let dist = |name: &str| {
        let o = orbit_kernel(&net, &x1, Some(&x2), group(name), 0.0).unwrap();
        (&o.nngp - &so3.nngp).norm_max()
    };
    let (d_o, d_i) = (dist("O"), dist("I"));
    assert!(d_i < d_o, "O {d_o:e}, I {d_i:e}");
    for seed in [11, 12] {
        let r = random_rotation(seed);
        let moved = orbit_kernel(
            &net,
            &x1,
            Some(&rotate(l, channels, &a2, &r)),
            group("SO3"),
            tol,
        )
        .unwrap();
        // Rotating both arguments is a symmetry of the flattened samples' kernel only when it
        // permutes them (the grid's quadrature weights differ from ring to ring, so the plain
        // inner product of samples is not rotation invariant): a turn about the pole by 2πk/5.
        let z = Matrix3::rotation_z(2.0 * PI * (seed - 10) as f64 / (2 * l + 1) as f64);
        let both = orbit_kernel(
            &net,
            &rotate(l, channels, &a1, &z),
            Some(&rotate(l, channels, &a2, &z.mul(&r))),
            group("SO3"),
            tol,
        )
        .unwrap();
        for (m, what) in [(&moved, "R x2"), (&both, "Z x1, Z R x2")] {
            assert_close(&m.nngp, &so3.nngp, 1e-7, &format!("SO3 nngp, {what}"));
            assert_close(&m.ntk, &so3.ntk, 1e-7, &format!("SO3 ntk, {what}"));
        }
    }
    // O(3) is the mean of the SO(3) averages of x2 and of its antipodal resampling
    let o3 = orbit_kernel(&net, &x1, Some(&x2), group("O3"), tol).unwrap();
    let minus = rotate(l, channels, &a2, &Matrix3::scalar(-1.0));
    let so3_minus = orbit_kernel(&net, &x1, Some(&minus), group("SO3"), tol).unwrap();
    assert_close(
        &o3.nngp,
        &((&so3.nngp + &so3_minus.nngp) * faer::Scale(0.5)),
        1e-13,
        "O3 nngp",
    );
}

#[test]
fn sphere_inputs_are_declared_and_checked() {
    let bad = mlp_text(2, 1).replace("[3, 5, 1]", "[3, 4, 1]");
    let e = Network::from_toml_str(&bad, "bad.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a sphere signal has shape [L+1, 2L+1, C] (L ≥ 0), got [3, 4, 1]"),
        "{e}"
    );
    assert!(matches!(
        action_for(group("C4"), Domain::Sphere, &[3, 5, 1]),
        Err(Error::NoAction { .. })
    ));
    assert!(matches!(
        action_for(group("SO2"), Domain::Sphere, &[3, 5, 1]),
        Err(Error::NoAction { .. })
    ));
    assert!(matches!(SphereGrid::new(65), Err(Error::TooLarge { .. })));
    // never the default for a shape
    assert_eq!(Domain::default_for(&[3, 5, 1]).unwrap(), Domain::Image);
    // augmentation is refused rather than guessed
    assert!(Augmentation::new("O", Domain::Sphere, &[3, 5, 1]).is_err());
    assert!(Augmentation::new("SO3", Domain::Sphere, &[3, 5, 1]).is_err());
}

#[test]
fn kernel_orbit_on_spheres_from_the_command_line() {
    let (l, channels) = (2, 1);
    let text = mlp_text(l, channels);
    let net_path = file("sphere-mlp.toml", &text);
    let (x1, _) = signals(l, channels, 2, 5);
    let (x2, _) = signals(l, channels, 3, 6);
    let (p1, p2) = (data("sphere-x1.npy", &x1), data("sphere-x2.npy", &x2));
    let net = Network::from_toml_str(&text, "n").unwrap();
    for name in ["O", "SO3"] {
        let args = [
            "kernel",
            "--net",
            s(&net_path),
            "--x1",
            s(&p1),
            "--x2",
            s(&p2),
            "--orbit",
            name,
            "--orbit-tol",
            "1e-8",
        ];
        let (code, out, err) = eqntk(&args);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let want = orbit_kernel(&net, &x1, Some(&x2), group(name), 1e-8).unwrap();
        assert_eq!(
            v["nngp"][1][2].as_f64().unwrap(),
            want.nngp[(1, 2)],
            "{name}"
        );
        assert_eq!(v["orbit"]["group"], name);
        let est = v["orbit"]["error_estimate"].as_f64().unwrap();
        assert!(
            est <= 1e-8 && (name == "SO3") == (est > 0.0),
            "{name}: {est}"
        );
    }
    for bad in ["C4", "SO2"] {
        let e = fails(&[
            "kernel",
            "--net",
            s(&net_path),
            "--x1",
            s(&p1),
            "--orbit",
            bad,
        ]);
        assert!(e.contains("sphere"), "{e}");
    }
    let bad_net = file("sphere-bad.toml", &text.replace("[3, 5, 1]", "[3, 4, 1]"));
    let e = fails(&["kernel", "--net", s(&bad_net), "--x1", s(&p1)]);
    assert!(e.contains("[L+1, 2L+1, C]"), "{e}");
}
