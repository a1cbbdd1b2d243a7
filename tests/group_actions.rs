//! Actions on inputs: signals, square images, torus images, SO(2) rotations.

use std::f64::consts::PI;

use eqntk::action::{
    action_for, site_action, so2, Domain, ImageAction, SignalAction, SiteAction, TorusAction,
};
use eqntk::group::{GroupSpec, PointGroup};
use eqntk::Batch;
use rand::{Rng, SeedableRng};

fn random(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random::<f64>() - 0.5).collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

/// act(g, x) = (ρ_X(g) ⊗ I_C) x and act(g, act(h, x)) = act(gh, x), for every g, h.
fn check_action(act: &dyn SiteAction, channels: usize) {
    let mut shape = act.grid();
    shape.push(channels);
    let x = random(act.n_sites() * channels, 42);
    let rho = act.representation();
    let g = act.group();
    for a in g.elements() {
        let y = act.act_on_example(a, &x, &shape).unwrap();
        let m = rho.real_matrix(a).unwrap();
        for c in 0..channels {
            for s in 0..act.n_sites() {
                let want: f64 = (0..act.n_sites())
                    .map(|t| m[(s, t)] * x[t * channels + c])
                    .sum();
                assert_eq!(y[s * channels + c], want);
            }
        }
        for b in g.elements() {
            let lhs = act
                .act_on_example(a, &act.act_on_example(b, &x, &shape).unwrap(), &shape)
                .unwrap();
            let rhs = act.act_on_example(g.mul(a, b), &x, &shape).unwrap();
            assert_eq!(lhs, rhs, "{} a={a} b={b}", g.name());
        }
    }
    assert_eq!(rho.homomorphism_error(g).unwrap(), 0.0);
}

#[test]
fn actions_agree_with_their_representations_and_compose() {
    for n in [1, 2, 5, 8] {
        check_action(&SignalAction::cyclic(n, n).unwrap(), 2);
        check_action(&SignalAction::dihedral(n, n).unwrap(), 2);
    }
    check_action(&SignalAction::cyclic(3, 12).unwrap(), 1);
    check_action(&SignalAction::dihedral(4, 8).unwrap(), 3);
    for h in [1, 3, 4] {
        check_action(&ImageAction::new(PointGroup::C4, h).unwrap(), 2);
        check_action(&ImageAction::new(PointGroup::D4, h).unwrap(), 1);
    }
    check_action(&TorusAction::new(PointGroup::C4, 3).unwrap(), 2);
    check_action(&TorusAction::new(PointGroup::D4, 3).unwrap(), 1);
}

#[test]
fn signal_shift_and_reversal() {
    let n = 7;
    let x = random(n, 1);
    let d = SignalAction::dihedral(n, n).unwrap();
    let r = d.act_on_example(1, &x, &[n, 1]).unwrap();
    let s = d.act_on_example(n, &x, &[n, 1]).unwrap();
    for i in 0..n {
        assert_eq!(r[i], x[(i + n - 1) % n]); // (r·x)[i] = x[i − 1]
        assert_eq!(s[i], x[(n - i) % n]); // (s·x)[i] = x[−i]
    }
    // C4 on 8 samples: the generator shifts by 2.
    let c = SignalAction::cyclic(4, 8).unwrap();
    let x = random(8, 2);
    let y = c.act_on_example(1, &x, &[8, 1]).unwrap();
    assert!((0..8).all(|i| y[i] == x[(i + 6) % 8]));
    assert_eq!(d.act_offset(n + 2, 1), 1); // r^2 s · 1 = 2 − 1
    assert_eq!(d.linear_offset(n + 2, 3), -3);
    assert!(SignalAction::cyclic(3, 8).is_err());
}

#[test]
fn image_rotation_is_numpy_rot90_and_reflection_is_transpose() {
    for h in [2, 3, 5] {
        let x = random(h * h, 3);
        let act = ImageAction::new(PointGroup::D4, h).unwrap();
        let r = act.act_on_example(1, &x, &[h, h, 1]).unwrap();
        let s = act.act_on_example(4, &x, &[h, h, 1]).unwrap();
        for i in 0..h {
            for j in 0..h {
                // np.rot90(x, 1, axes=(0, 1))[i, j] = x[j, H−1−i]
                assert_eq!(r[i * h + j], x[j * h + (h - 1 - i)]);
                assert_eq!(s[i * h + j], x[j * h + i]);
            }
        }
        assert_eq!(act.act_pixel(1, (0, 0)), (h - 1, 0));
    }
}

#[test]
fn torus_translations_are_circular_shifts() {
    let h = 4;
    let act = TorusAction::new(PointGroup::D4, h).unwrap();
    let g = *act.roto_translation();
    let x = random(h * h, 4);
    let t = g.element((1, 3), 0);
    let y = act.act_on_example(t, &x, &[h, h, 1]).unwrap();
    for i in 0..h {
        for j in 0..h {
            assert_eq!(y[i * h + j], x[((i + h - 1) % h) * h + (j + h - 3) % h]);
        }
    }
    // The pure rotation (0, r) of the torus fixes site (0, 0) and maps (i, j) to (−j, i).
    let r = g.element((0, 0), 1);
    let y = act.act_on_example(r, &x, &[h, h, 1]).unwrap();
    for i in 0..h {
        for j in 0..h {
            let (si, sj) = (j, (h - i) % h); // r⁻¹·(i, j) = (j, −i)
            assert_eq!(y[i * h + j], x[si * h + sj]);
        }
    }
}

#[test]
fn batches_and_shapes() {
    let act = ImageAction::new(PointGroup::C4, 3).unwrap();
    let b = Batch::from_array(&[2, 3, 3, 2], random(36, 5)).unwrap();
    let out = act.act_on_batch(1, &b).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(
        out.example(1),
        act.act_on_example(1, b.example(1), &[3, 3, 2])
            .unwrap()
            .as_slice()
    );
    assert!(act.act_on_example(1, &[0.0; 9], &[3, 3]).is_err());
    assert!(act.act_on_example(1, &[0.0; 8], &[3, 3, 1]).is_err());
    assert!(act.act_on_example(4, &[0.0; 9], &[3, 3, 1]).is_err());
}

#[test]
fn actions_by_name_and_impossible_pairs() {
    let p = |s: &str| GroupSpec::parse(s).unwrap();
    let sites = |g: &str, shape: &[usize]| {
        site_action(p(g), Domain::default_for(shape).unwrap(), shape).unwrap()
    };
    assert_eq!(sites("C8", &[8, 1]).group().order(), 8);
    assert_eq!(sites("D4", &[5, 5, 3]).n_sites(), 25);
    assert_eq!(sites("p4m", &[3, 3, 1]).group().order(), 72);
    assert_eq!(sites("p4:3", &[3, 3, 1]).group().order(), 36);
    for (g, shape) in [
        ("C4", vec![3, 4, 1]), // rot90 on a non-square image
        ("D4", vec![2, 5, 1]),
        ("C3", vec![3, 3, 1]),   // only C4/D4 act on images
        ("C3", vec![8, 1]),      // 3 does not divide 8 and 8 is even
        ("p4:3", vec![4, 4, 1]), // side mismatch
        ("p4", vec![8, 1]),
        ("SO2", vec![8, 1]),
        ("C2", vec![4]),
    ] {
        let e = action_for(p(g), Domain::default_for(&shape).unwrap(), &shape).unwrap_err();
        assert!(!e.to_string().is_empty());
        assert!(!e.to_string().contains('\n'));
    }
}

#[test]
fn so2_rotation_of_signals() {
    // Multiples of 2π/n are shifts, for any n.
    for n in [4, 5, 8] {
        let x = random(2 * n, 6);
        for k in 0..n {
            let y = so2::rotate_signal(&x, &[n, 2], 2.0 * PI * k as f64 / n as f64).unwrap();
            for i in 0..n {
                for c in 0..2 {
                    assert_eq!(y[i * 2 + c], x[((i + n - k) % n) * 2 + c]);
                }
            }
        }
    }
    // Odd n: Fourier mode m gains e^{−imθ} (DFT computed here directly).
    let n = 9;
    let x = random(n, 7);
    let theta = 0.7;
    let y = so2::rotate_signal(&x, &[n, 1], theta).unwrap();
    let dft = |v: &[f64], m: i64| -> num_complex::Complex64 {
        (0..n)
            .map(|j| {
                num_complex::Complex64::from_polar(v[j], -2.0 * PI * m as f64 * j as f64 / n as f64)
            })
            .sum()
    };
    for m in -4i64..=4 {
        let want = dft(&x, m) * num_complex::Complex64::from_polar(1.0, -(m as f64) * theta);
        assert!((dft(&y, m) - want).norm() < 1e-12);
    }
    // Rotations compose and preserve the norm.
    let z = so2::rotate_signal(&y, &[n, 1], 1.1).unwrap();
    let w = so2::rotate_signal(&x, &[n, 1], theta + 1.1).unwrap();
    assert!(close(&z, &w, 1e-12));
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
    assert!((norm(&x) - norm(&y)).abs() < 1e-12);
    // Even n by a non-multiple of 2π/n: a clear error; bad shapes too.
    assert!(so2::rotate_signal(&random(8, 8), &[8, 1], 0.3).is_err());
    assert!(so2::rotate_signal(&x, &[n], 0.3).is_err());
    assert!(so2::rotate_signal(&x, &[n, 1], f64::NAN).is_err());
}

#[test]
fn so2_rotation_of_points() {
    let p = [1.0, 0.0, 0.0, 2.0, -1.0, 1.0];
    let q = so2::rotate_points(&p, &[3, 2], PI / 2.0).unwrap();
    assert!(close(&q, &[0.0, 1.0, -2.0, 0.0, -1.0, -1.0], 1e-15));
    let a =
        so2::rotate_points(&so2::rotate_points(&p, &[3, 2], 0.4).unwrap(), &[3, 2], 0.5).unwrap();
    assert!(close(
        &a,
        &so2::rotate_points(&p, &[3, 2], 0.9).unwrap(),
        1e-14
    ));
    assert!(so2::rotate_points(&p, &[2, 3], 0.1).is_err());
}

#[test]
fn so2_rotation_of_fourier_coordinates_matches_the_signal() {
    let n = 7;
    let x = random(n, 9);
    let coords = |v: &[f64]| -> Vec<f64> {
        let c = |m: usize| -> num_complex::Complex64 {
            (0..n)
                .map(|j| {
                    num_complex::Complex64::from_polar(
                        v[j] / n as f64,
                        -2.0 * PI * (m * j) as f64 / n as f64,
                    )
                })
                .sum()
        };
        let mut out = vec![c(0).re];
        for m in 1..=3 {
            out.extend([c(m).re, c(m).im]);
        }
        out
    };
    let theta = 2.1;
    let rotated = so2::rotate_signal(&x, &[n, 1], theta).unwrap();
    let direct = so2::rotate_fourier_coefficients(&coords(&x), theta).unwrap();
    assert!(close(&coords(&rotated), &direct, 1e-12));
    assert!(so2::rotate_fourier_coefficients(&[1.0, 2.0], 0.1).is_err());
}
