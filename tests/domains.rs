//! Declared input domains (MATH.md §5a): every (group, domain) pair acts as documented and as a
//! representation; the same array read as a signal or as a point set gives different kernels,
//! each equal to a brute-force orbit average computed here by transforming the inputs by hand;
//! impossible pairs and bad `[input] domain` keys are one-line errors with exit code 2.

use crate::common;

use common::cli::{data, eqntk, fails, file, s};
use std::f64::consts::PI;
use std::path::Path;

use common::prediction::block_prediction;
use eqntk::action::{action_for, Domain, InputAction, InputGroup, RotationKind};
use eqntk::augment::{reflected_training_set, FiniteAugmentation, OutputTransform, So2Predictor};
use eqntk::group::GroupSpec;
use eqntk::orbit::orbit_kernel;
use eqntk::{Batch, Error, Network};
use faer::Mat;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

// ---------------------------------------------------------------------------------------------
// Fixtures

fn batch(shape: &[usize], n: usize, seed: u64) -> Batch {
    let m: usize = shape.iter().product();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let v = (0..n * m)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    Batch::new(shape.to_vec(), v).unwrap()
}

const W: &str = "w_std = 1.4\nb_std = 0.2\n";

fn input(shape: &[usize], domain: Option<&str>) -> String {
    let d = domain.map_or(String::new(), |d| format!("domain = '{d}'\n"));
    format!("[input]\nshape = {shape:?}\n{d}")
}

/// An erf MLP: its kernel is analytic in the rotation angle, so plain trapezoid sums over the
/// circle converge geometrically and serve as an independent reference.
fn mlp(shape: &[usize], domain: Option<&str>) -> Network {
    let text = format!(
        "{}[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n{W}[[layers]]\nkind = 'erf'\n\
         [[layers]]\nkind = 'dense'\n{W}",
        input(shape, domain)
    );
    Network::from_toml_str(&text, "mlp.toml").unwrap()
}

/// The SO(2) G-CNN whose kernel is the SO(2) orbit average of [`mlp`] (Result A).
fn so2_gcnn(shape: &[usize], domain: Option<&str>) -> Network {
    let text = format!(
        "{}[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n{W}[[layers]]\nkind = 'erf'\n\
         [[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{W}",
        input(shape, domain)
    );
    Network::from_toml_str(&text, "gcnn.toml").unwrap()
}

fn max_abs(m: &Mat<f64>) -> f64 {
    let mut a = 0.0f64;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            a = a.max(m[(i, j)].abs());
        }
    }
    a
}

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    max_abs(&(a - b)) / max_abs(b).max(1e-300)
}

// ---------------------------------------------------------------------------------------------
// The actions written out by hand, independently of the crate

/// Every point `(x, y)` of `[P, 2]` rotated by `R(θ)`: `(x cos θ − y sin θ, x sin θ + y cos θ)`.
fn rotate_points_by_hand(x: &[f64], theta: f64) -> Vec<f64> {
    let (s, c) = theta.sin_cos();
    let mut out = Vec::new();
    for p in x.chunks(2) {
        out.push(c * p[0] - s * p[1]);
        out.push(s * p[0] + c * p[1]);
    }
    out
}

/// `(x, y) ↦ (x, −y)` on every point.
fn reflect_points_by_hand(x: &[f64]) -> Vec<f64> {
    x.chunks(2).flat_map(|p| [p[0], -p[1]]).collect()
}

/// A periodic signal `[n, C]` (odd `n = 2L + 1`) rotated by θ through its DFT: with
/// `c_m = (1/n) Σ_j x[j] e^{−2πi mj/n}` (m = −L..L), `y[i] = Σ_m c_m e^{−imθ} e^{2πi mi/n}`.
fn rotate_signal_by_hand(x: &[f64], n: usize, channels: usize, theta: f64) -> Vec<f64> {
    assert!(n % 2 == 1);
    let l = (n as i64 - 1) / 2;
    let mut out = vec![0.0; n * channels];
    for ch in 0..channels {
        for m in -l..=l {
            let (mut re, mut im) = (0.0, 0.0);
            for j in 0..n {
                let a = -2.0 * PI * (m * j as i64) as f64 / n as f64;
                re += x[j * channels + ch] * a.cos() / n as f64;
                im += x[j * channels + ch] * a.sin() / n as f64;
            }
            for i in 0..n {
                let a = 2.0 * PI * (m * i as i64) as f64 / n as f64 - m as f64 * theta;
                out[i * channels + ch] += re * a.cos() - im * a.sin();
            }
        }
    }
    out
}

/// `(s·x)[i] = x[−i mod n]`.
fn reverse_signal_by_hand(x: &[f64], n: usize, channels: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * channels];
    for i in 0..n {
        let j = (n - i) % n;
        for ch in 0..channels {
            out[i * channels + ch] = x[j * channels + ch];
        }
    }
    out
}

/// `(shift_k x)[i] = x[i − k mod n]`.
fn shift_signal_by_hand(x: &[f64], n: usize, channels: usize, k: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * channels];
    for i in 0..n {
        let j = (i + n - k % n) % n;
        for ch in 0..channels {
            out[i * channels + ch] = x[j * channels + ch];
        }
    }
    out
}

/// Apply a per-example map to a batch.
fn map_batch(x: &Batch, f: impl Fn(&[f64]) -> Vec<f64>) -> Batch {
    let rows: Vec<Vec<f64>> = (0..x.len()).map(|i| f(x.example(i))).collect();
    Batch::from_examples(x.shape().to_vec(), &rows).unwrap()
}

/// `(1/N) Σ_k k(x1, T_k x2)` for the given transformed copies of x2.
fn average(net: &Network, x1: &Batch, copies: &[Batch]) -> (Mat<f64>, Mat<f64>) {
    let mut k = Mat::zeros(x1.len(), copies[0].len());
    let mut t = Mat::zeros(x1.len(), copies[0].len());
    for c in copies {
        let kk = net.kernel(x1, Some(c)).unwrap();
        k += kk.nngp().unwrap();
        t += kk.ntk().unwrap();
    }
    let w = faer::Scale(1.0 / copies.len() as f64);
    (k * w, t * w)
}

/// The SO(2) orbit average by a 256-angle trapezoid sum, rotating x2 by hand.
fn so2_reference(net: &Network, x1: &Batch, x2: &Batch, points: bool) -> (Mat<f64>, Mat<f64>) {
    let (n, c) = (x2.shape()[0], x2.shape()[1]);
    let copies: Vec<Batch> = (0..256)
        .map(|k| {
            let theta = 2.0 * PI * k as f64 / 256.0;
            map_batch(x2, |e| {
                if points {
                    rotate_points_by_hand(e, theta)
                } else {
                    rotate_signal_by_hand(e, n, c, theta)
                }
            })
        })
        .collect();
    average(net, x1, &copies)
}

// ---------------------------------------------------------------------------------------------
// Every (group, domain) pair is a representation and equals its formula

/// Finite pairs: (group, domain, shape).
const FINITE: &[(&str, Domain, &[usize])] = &[
    ("C4", Domain::Signal, &[8, 2]),
    ("C7", Domain::Signal, &[7, 2]),
    ("C3", Domain::Signal, &[7, 2]), // 3 ∤ 7: band-limited
    ("D4", Domain::Signal, &[8, 1]),
    ("D3", Domain::Signal, &[7, 2]), // band-limited with the reversal
    ("C4", Domain::Points, &[5, 2]),
    ("C3", Domain::Points, &[4, 2]),
    ("D4", Domain::Points, &[3, 2]),
    ("D5", Domain::Points, &[2]),
    ("C4", Domain::Image, &[3, 3, 2]),
    ("D4", Domain::Image, &[4, 4, 1]),
    ("p4", Domain::Image, &[3, 3, 1]),
    ("p4m", Domain::Image, &[3, 3, 1]),
    ("p4", Domain::Torus, &[3, 3, 1]),
    ("p4m", Domain::Torus, &[3, 3, 2]),
];

#[test]
fn every_finite_pair_is_an_orthogonal_representation() {
    for &(g, domain, shape) in FINITE {
        let aug = FiniteAugmentation::from_spec(&GroupSpec::parse(g).unwrap(), domain, shape)
            .unwrap_or_else(|e| panic!("{g} on {domain} {shape:?}: {e}"));
        let group = aug.group();
        let mats: Vec<Mat<f64>> = group
            .elements()
            .map(|e| aug.input_matrix(e).unwrap())
            .collect();
        let e = mats[0].nrows();
        let id = Mat::<f64>::identity(e, e);
        assert!(rel(&mats[group.identity()], &id) < 1e-14, "{g} {domain}");
        for a in group.elements() {
            assert!(
                rel(&(mats[a].transpose() * &mats[a]), &id) < 1e-12,
                "{g} on {domain}: ρ({a}) is not orthogonal"
            );
            for b in group.elements() {
                let ab = &mats[a] * &mats[b];
                assert!(
                    max_abs(&(&ab - &mats[group.mul(a, b)])) < 1e-12,
                    "{g} on {domain}: ρ({a})ρ({b}) ≠ ρ({a}·{b})"
                );
            }
        }
    }
}

#[test]
fn finite_actions_equal_their_formulas() {
    let act = |g: &str, domain: Domain, shape: &[usize], e: usize, x: &[f64]| {
        action_for(GroupSpec::parse(g).unwrap(), domain, shape)
            .unwrap()
            .act_on_example(e, x, shape)
            .unwrap()
    };
    let close = |a: &[f64], b: &[f64], what: &str| {
        assert_eq!(a.len(), b.len());
        for (u, v) in a.iter().zip(b) {
            assert!((u - v).abs() < 1e-12, "{what}: {a:?} vs {b:?}");
        }
    };
    // Points: C4 rotates every point by 90°, (x, y) ↦ (−y, x).
    let p = [1.0, 2.0, -3.0, 0.5, 0.25, -4.0, 7.0, 1.5, -2.0, -1.0];
    let c4 = act("C4", Domain::Points, &[5, 2], 1, &p);
    close(
        &c4,
        &[-2.0, 1.0, -0.5, -3.0, 4.0, 0.25, -1.5, 7.0, 1.0, -2.0],
        "C4 on points",
    );
    // C4 element 3 = rotation by 270°: (x, y) ↦ (y, −x).
    let c4_3 = act("C4", Domain::Points, &[5, 2], 3, &p);
    close(
        &c4_3,
        &[2.0, -1.0, 0.5, 3.0, -4.0, -0.25, 1.5, -7.0, -1.0, 2.0],
        "C4³ on points",
    );
    // C3: rotation by 120°, cos = −1/2, sin = √3/2.
    let h = 3f64.sqrt() / 2.0;
    let c3 = act("C3", Domain::Points, &[1, 2], 1, &[1.0, 2.0]);
    close(&c3, &[-0.5 - 2.0 * h, h - 1.0], "C3 on a point");
    // D4: element 4 is s = diag(1, −1); element 5 is R(90°)·s: (x, y) ↦ (y, x).
    let q = [1.0, 2.0, -3.0, 0.5, 0.25, -4.0];
    close(
        &act("D4", Domain::Points, &[3, 2], 4, &q),
        &[1.0, -2.0, -3.0, -0.5, 0.25, 4.0],
        "s on points",
    );
    close(
        &act("D4", Domain::Points, &[3, 2], 5, &q),
        &[2.0, 1.0, 0.5, -3.0, -4.0, 0.25],
        "R(90°)·s on points",
    );
    // Signals, k | n: C4 on 8 samples shifts by 2 samples per generator.
    let x: Vec<f64> = (0..16)
        .map(|i| (i as f64 * 0.7).sin() + i as f64 * 0.1)
        .collect();
    close(
        &act("C4", Domain::Signal, &[8, 2], 1, &x),
        &shift_signal_by_hand(&x, 8, 2, 2),
        "C4 on a signal",
    );
    // D4 on 8 samples: s is the reversal i ↦ −i; element 5 is shift(2)·s.
    let x8: Vec<f64> = (0..8).map(|i| (i * i) as f64 - 3.0).collect();
    let rev = reverse_signal_by_hand(&x8, 8, 1);
    close(
        &act("D4", Domain::Signal, &[8, 1], 4, &x8),
        &rev,
        "reversal",
    );
    close(
        &act("D4", Domain::Signal, &[8, 1], 5, &x8),
        &shift_signal_by_hand(&rev, 8, 1, 2),
        "shift·reversal",
    );
    // Signals, odd n, k ∤ n: band-limited rotation by 2πj/k.
    let x7: Vec<f64> = (0..14)
        .map(|i| (i as f64 * 1.3).cos() - 0.2 * i as f64)
        .collect();
    close(
        &act("C3", Domain::Signal, &[7, 2], 2, &x7),
        &rotate_signal_by_hand(&x7, 7, 2, 4.0 * PI / 3.0),
        "C3 on an odd signal",
    );
    close(
        &act("D3", Domain::Signal, &[7, 2], 4, &x7),
        &rotate_signal_by_hand(&reverse_signal_by_hand(&x7, 7, 2), 7, 2, 2.0 * PI / 3.0),
        "D3 on an odd signal",
    );
    // The band-limited rotation by 2π/7 is the shift by one sample.
    close(
        &rotate_signal_by_hand(&x7, 7, 2, 2.0 * PI / 7.0),
        &shift_signal_by_hand(&x7, 7, 2, 1),
        "reference sanity",
    );
    // Images: C4 is numpy's rot90, (r·x)[i, j] = x[j, H−1−i].
    let img: Vec<f64> = (0..9).map(|i| i as f64).collect();
    let want: Vec<f64> = (0..3)
        .flat_map(|i| (0..3).map(move |j| (j * 3 + (2 - i)) as f64))
        .collect();
    close(
        &act("C4", Domain::Image, &[3, 3, 1], 1, &img),
        &want,
        "rot90",
    );
    // p4 on an image acts as on the torus.
    for g in ["p4", "p4m"] {
        let spec = GroupSpec::parse(g).unwrap();
        let a = FiniteAugmentation::from_spec(&spec, Domain::Image, &[3, 3, 1]).unwrap();
        let b = FiniteAugmentation::from_spec(&spec, Domain::Torus, &[3, 3, 1]).unwrap();
        for e in 0..a.order() {
            assert_eq!(a.input_matrix(e).unwrap(), b.input_matrix(e).unwrap());
        }
    }
}

#[test]
fn continuous_pairs_are_representations_and_equal_their_formulas() {
    let x5: Vec<f64> = (0..10)
        .map(|i| (i as f64 * 0.9).sin() * 2.0 - 0.3)
        .collect();
    let x7: Vec<f64> = (0..14)
        .map(|i| (i as f64 * 1.7).cos() + 0.05 * i as f64)
        .collect();
    for (group, domain, shape, x) in [
        ("SO2", Domain::Points, vec![5, 2], &x5),
        ("O2", Domain::Points, vec![5, 2], &x5),
        ("SO2", Domain::Signal, vec![7, 2], &x7),
        ("O2", Domain::Signal, vec![7, 2], &x7),
    ] {
        let action = action_for(InputGroup::parse(group).unwrap(), domain, &shape).unwrap();
        let InputAction::Continuous { kind, reflections } = action else {
            panic!("{group} on {domain} is continuous");
        };
        assert_eq!(reflections, group == "O2");
        let points = domain == Domain::Points;
        let rot = |v: &[f64], t: f64| kind.rotate(v, &shape, t).unwrap();
        let by_hand = |v: &[f64], t: f64| {
            if points {
                rotate_points_by_hand(v, t)
            } else {
                rotate_signal_by_hand(v, 7, 2, t)
            }
        };
        let refl = |v: &[f64]| kind.reflect(v, &shape).unwrap();
        let refl_by_hand = |v: &[f64]| {
            if points {
                reflect_points_by_hand(v)
            } else {
                reverse_signal_by_hand(v, 7, 2)
            }
        };
        let close = |a: &[f64], b: &[f64], what: &str| {
            for (u, v) in a.iter().zip(b) {
                assert!((u - v).abs() < 1e-11, "{group} on {domain}: {what}");
            }
        };
        let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
        for (a, b) in [(0.3, 1.1), (2.0, -0.7), (5.5, 4.0)] {
            close(&rot(x, a), &by_hand(x, a), "formula");
            close(&rot(&rot(x, b), a), &rot(x, a + b), "R_a R_b = R_(a+b)");
            assert!(
                (norm(&rot(x, a)) - norm(x)).abs() < 1e-11 * norm(x),
                "orthogonal"
            );
            close(&refl(&rot(&refl(x), a)), &rot(x, -a), "s R_a s = R_(−a)");
        }
        close(&refl(x), &refl_by_hand(x), "reflection formula");
        close(&refl(&refl(x)), x, "s² = 1");
        assert!((norm(&refl(x)) - norm(x)).abs() < 1e-12 * norm(x));
    }
}

// ---------------------------------------------------------------------------------------------
// Orbit averages: signals and points differ, each equals its brute-force reference

#[test]
fn signals_and_point_sets_of_the_same_array_have_their_own_orbit_averages() {
    for shape in [[7usize, 2], [5, 2]] {
        let (x1, x2) = (batch(&shape, 2, 1), batch(&shape, 3, 2));
        let signal = mlp(&shape, None); // [n, C] defaults to a periodic signal
        assert_eq!(signal.domain(), Domain::Signal);
        let points = mlp(&shape, Some("points"));
        let so2 = GroupSpec::So2 { band_limit: None };
        let s = orbit_kernel(&signal, &x1, Some(&x2), so2, 1e-13).unwrap();
        let p = orbit_kernel(&points, &x1, Some(&x2), so2, 1e-13).unwrap();
        let (sk, st) = so2_reference(&signal, &x1, &x2, false);
        let (pk, pt) = so2_reference(&points, &x1, &x2, true);
        for (got, want, what) in [
            (&s.nngp, &sk, "signal nngp"),
            (&s.ntk, &st, "signal ntk"),
            (&p.nngp, &pk, "points nngp"),
            (&p.ntk, &pt, "points ntk"),
        ] {
            assert!(
                rel(got, want) < 1e-10,
                "{shape:?} {what}: {:.1e}",
                rel(got, want)
            );
        }
        assert!(
            rel(&s.ntk, &p.ntk) > 1e-3,
            "{shape:?}: the two domains must differ"
        );
        // The SO(2) G-CNN follows its declared domain too (Result A).
        for (domain, want) in [(None, (&sk, &st)), (Some("points"), (&pk, &pt))] {
            let g = so2_gcnn(&shape, domain).kernel(&x1, Some(&x2)).unwrap();
            assert!(
                rel(&g.nngp().unwrap(), want.0) < 1e-9,
                "{shape:?} {domain:?}"
            );
            assert!(
                rel(&g.ntk().unwrap(), want.1) < 1e-9,
                "{shape:?} {domain:?}"
            );
        }
    }
}

#[test]
fn cyclic_and_dihedral_orbit_averages_by_hand() {
    let shape = [7, 2];
    let (x1, x2) = (batch(&shape, 2, 3), batch(&shape, 2, 4));
    // C3 on a 7-sample signal: band-limited rotations by 2πj/3.
    let signal = mlp(&shape, Some("signal"));
    let c3 = orbit_kernel(&signal, &x1, Some(&x2), GroupSpec::Cyclic(3), 0.0).unwrap();
    let copies: Vec<Batch> = (0..3)
        .map(|j| {
            map_batch(&x2, |e| {
                rotate_signal_by_hand(e, 7, 2, 2.0 * PI * j as f64 / 3.0)
            })
        })
        .collect();
    let (k, t) = average(&signal, &x1, &copies);
    assert!(rel(&c3.nngp, &k) < 1e-12 && rel(&c3.ntk, &t) < 1e-12);
    assert_eq!(c3.samples, 3);
    // D7 on the signal: shifts and reversed shifts.
    let d7 = orbit_kernel(&signal, &x1, Some(&x2), GroupSpec::Dihedral(7), 0.0).unwrap();
    let mut copies: Vec<Batch> = (0..7)
        .map(|j| map_batch(&x2, |e| shift_signal_by_hand(e, 7, 2, j)))
        .collect();
    copies.extend((0..7).map(|j| {
        map_batch(&x2, |e| {
            shift_signal_by_hand(&reverse_signal_by_hand(e, 7, 2), 7, 2, j)
        })
    }));
    let (k, t) = average(&signal, &x1, &copies);
    assert!(rel(&d7.nngp, &k) < 1e-12 && rel(&d7.ntk, &t) < 1e-12);
    // D3 on the same array read as 7 points.
    let points = mlp(&shape, Some("points"));
    let d3 = orbit_kernel(&points, &x1, Some(&x2), GroupSpec::Dihedral(3), 0.0).unwrap();
    let mut copies: Vec<Batch> = (0..3)
        .map(|j| map_batch(&x2, |e| rotate_points_by_hand(e, 2.0 * PI * j as f64 / 3.0)))
        .collect();
    copies.extend((0..3).map(|j| {
        map_batch(&x2, |e| {
            rotate_points_by_hand(&reflect_points_by_hand(e), 2.0 * PI * j as f64 / 3.0)
        })
    }));
    let (k, t) = average(&points, &x1, &copies);
    assert!(rel(&d3.nngp, &k) < 1e-12 && rel(&d3.ntk, &t) < 1e-12);
}

#[test]
fn o2_average_is_the_mean_over_both_cosets() {
    for (shape, domain, points) in [([5, 2], Some("points"), true), ([7, 1], None, false)] {
        let net = mlp(&shape, domain);
        let (x1, x2) = (batch(&shape, 2, 5), batch(&shape, 2, 6));
        let o2 = orbit_kernel(&net, &x1, Some(&x2), InputGroup::O2, 1e-13).unwrap();
        let mirrored = map_batch(&x2, |e| {
            if points {
                reflect_points_by_hand(e)
            } else {
                reverse_signal_by_hand(e, shape[0], shape[1])
            }
        });
        let (ak, at) = so2_reference(&net, &x1, &x2, points);
        let (bk, bt) = so2_reference(&net, &x1, &mirrored, points);
        let half = faer::Scale(0.5);
        assert!(rel(&o2.nngp, &((&ak + &bk) * half)) < 1e-10, "{shape:?}");
        assert!(rel(&o2.ntk, &((&at + &bt) * half)) < 1e-10, "{shape:?}");
        // … and the limit of the dihedral averages.
        let mut last = f64::INFINITY;
        for k in [2, 4, 8, 16, 32] {
            let d = orbit_kernel(&net, &x1, Some(&x2), GroupSpec::Dihedral(k), 0.0).unwrap();
            let e = rel(&d.ntk, &o2.ntk);
            assert!(
                e < last || e < 1e-13,
                "{shape:?} D{k}: {e:.1e} after {last:.1e}"
            );
            last = e;
        }
        assert!(last < 1e-7, "{shape:?}: D32 is {last:.1e} from O2");
    }
}

#[test]
fn cyclic_averages_converge_to_so2_on_signals_and_points_alike() {
    let shape = [7, 2];
    let (x1, x2) = (batch(&shape, 2, 7), batch(&shape, 2, 8));
    for domain in ["signal", "points"] {
        let net = mlp(&shape, Some(domain));
        let so2 = orbit_kernel(
            &net,
            &x1,
            Some(&x2),
            GroupSpec::So2 { band_limit: None },
            1e-13,
        )
        .unwrap();
        let mut errors = vec![];
        for k in [2, 4, 8, 16, 32] {
            let c = orbit_kernel(&net, &x1, Some(&x2), GroupSpec::Cyclic(k), 0.0).unwrap();
            errors.push(rel(&c.nngp, &so2.nngp).max(rel(&c.ntk, &so2.ntk)));
        }
        for w in errors.windows(2) {
            assert!(w[1] < w[0] || w[1] < 1e-13, "{domain}: {errors:?}");
        }
        assert!(
            errors[0] > 1e-4,
            "{domain}: C2 should be far from SO2: {errors:?}"
        );
        assert!(errors[4] < 1e-8, "{domain}: {errors:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Impossible pairs and bad declarations

#[test]
fn impossible_pairs_are_no_action_errors() {
    let spec = |s: &str| InputGroup::parse(s).unwrap();
    for (g, domain, shape, allowed) in [
        ("C4", Domain::Vector, vec![4], "none"),
        ("SO2", Domain::Image, vec![3, 3, 1], "C4, D4, p4, p4m"),
        ("C3", Domain::Image, vec![3, 3, 1], "C4, D4, p4, p4m"),
        ("C4", Domain::Torus, vec![3, 3, 1], "p4, p4m"),
        ("O2", Domain::Torus, vec![3, 3, 1], "p4, p4m"),
        ("p4", Domain::Signal, vec![8, 1], "C<k>, D<k>, SO2, O2"),
        (
            "p4m",
            Domain::Points,
            vec![4, 2],
            "C<k>, D<k>, SO2, O2 on [P, 2]; O, Oh, I, SO3, O3 on [P, 3]",
        ),
    ] {
        let e = action_for(spec(g), domain, &shape).unwrap_err();
        match &e {
            Error::NoAction {
                group,
                domain: d,
                allowed: a,
            } => {
                assert_eq!(group, g);
                assert_eq!(d, domain.name());
                assert_eq!(a, allowed);
            }
            other => panic!("{g} on {domain}: expected NoAction, got {other}"),
        }
        assert!(!e.to_string().contains('\n'));
    }
    // Groups that act on the domain, but not at this size: a one-line reason.
    for (g, shape, needle) in [
        ("C3", vec![8, 1], "3 does not divide 8"),
        ("D5", vec![8, 2], "odd-length"),
        ("SO2", vec![8, 2], "odd-length"),
    ] {
        let e = action_for(spec(g), Domain::Signal, &shape)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle) && !e.contains('\n'), "{e}");
    }
    // The SO(2) predictor rotates inputs as the network's declared domain says.
    let x = batch(&[3, 2], 2, 9);
    let y = Mat::from_fn(2, 1, |i, _| i as f64);
    let e = So2Predictor::new(
        &mlp(&[3, 2], None),
        RotationKind::Points,
        &x,
        y.as_ref(),
        OutputTransform::Invariant,
        1.0,
        0.0,
        1e-12,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("declare [input] domain = \"points\""), "{e}");
    // A shape outside the declared domain.
    assert!(action_for(spec("C4"), Domain::Points, &[4, 3]).is_err());
    assert!(action_for(spec("C4"), Domain::Image, &[4, 4]).is_err());
}

#[test]
fn domains_default_only_where_unambiguous() {
    let net = |text: &str| Network::from_toml_str(text, "n.toml");
    let dense = "[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n";
    for (shape, want) in [
        ("[4]", Domain::Vector),
        ("[5, 2]", Domain::Signal),
        ("[3, 3, 1]", Domain::Image),
    ] {
        let n = net(&format!("[input]\nshape = {shape}\n{dense}")).unwrap();
        assert_eq!(n.domain(), want, "{shape}");
    }
    for (shape, d) in [
        ("[5, 2]", Domain::Points),
        ("[2]", Domain::Points),
        ("[3, 3, 1]", Domain::Torus),
        ("[6, 1]", Domain::Signal),
    ] {
        let n = net(&format!(
            "[input]\nshape = {shape}\ndomain = '{}'\n{dense}",
            d.name()
        ))
        .unwrap();
        assert_eq!(n.domain(), d, "{shape}");
    }
}

// ---------------------------------------------------------------------------------------------
// The command line

fn mlp_text(shape: &[usize], domain: Option<&str>) -> String {
    format!(
        "{}[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n{W}[[layers]]\nkind = 'erf'\n\
         [[layers]]\nkind = 'dense'\n{W}",
        input(shape, domain)
    )
}

fn matrix(v: &serde_json::Value, rows: usize, cols: usize) -> Mat<f64> {
    Mat::from_fn(rows, cols, |i, j| v[i][j].as_f64().unwrap())
}

#[test]
fn cli_orbit_follows_the_declared_domain() {
    let shape = [7, 2];
    let (x1, x2) = (batch(&shape, 2, 11), batch(&shape, 2, 12));
    let (p1, p2) = (data("cli-x1.npy", &x1), data("cli-x2.npy", &x2));
    for (domain, points) in [(None, false), (Some("points"), true)] {
        let text = mlp_text(&shape, domain);
        let net_path = file(&format!("cli-{}.toml", domain.unwrap_or("signal")), &text);
        let (code, out, err) = eqntk(&[
            "kernel",
            "--net",
            s(&net_path),
            "--x1",
            s(&p1),
            "--x2",
            s(&p2),
            "--orbit",
            "SO2",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let net = Network::from_toml_str(&text, "n").unwrap();
        let (k, t) = so2_reference(&net, &x1, &x2, points);
        assert!(rel(&matrix(&v["nngp"], 2, 2), &k) < 1e-10, "{domain:?}");
        assert!(rel(&matrix(&v["ntk"], 2, 2), &t) < 1e-10, "{domain:?}");
        // C3 acts on both: band-limited on the signal, by rotating points on the point set.
        let (code, out, err) = eqntk(&[
            "kernel",
            "--net",
            s(&net_path),
            "--x1",
            s(&p1),
            "--x2",
            s(&p2),
            "--orbit",
            "C3",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let copies: Vec<Batch> = (0..3)
            .map(|j| {
                let theta = 2.0 * PI * j as f64 / 3.0;
                map_batch(&x2, |e| {
                    if points {
                        rotate_points_by_hand(e, theta)
                    } else {
                        rotate_signal_by_hand(e, 7, 2, theta)
                    }
                })
            })
            .collect();
        let (k, t) = average(&net, &x1, &copies);
        assert!(rel(&matrix(&v["nngp"], 2, 2), &k) < 1e-12, "{domain:?}");
        assert!(rel(&matrix(&v["ntk"], 2, 2), &t) < 1e-12, "{domain:?}");
    }
}

#[test]
fn cli_predict_augment_o2_is_the_limit_of_dihedral_augmentation() {
    let shape = [3, 2];
    let text = mlp_text(&shape, Some("points"));
    let net = Network::from_toml_str(&text, "n").unwrap();
    let x = batch(&shape, 3, 21);
    let xt = batch(&shape, 2, 22);
    let y = Mat::from_fn(3, 1, |i, _| [0.7, -1.2, 0.4][i]);
    let ybatch = Batch::new(vec![1], vec![0.7, -1.2, 0.4]).unwrap();
    let (px, pt, py) = (
        data("o2-x.npy", &x),
        data("o2-xt.npy", &xt),
        data("o2-y.npy", &ybatch),
    );
    let net_path = file("o2.toml", &text);
    let (code, out, err) = eqntk(&[
        "predict",
        "--net",
        s(&net_path),
        "--x-train",
        s(&px),
        "--y-train",
        s(&py),
        "--x-test",
        s(&pt),
        "--time",
        "3",
        "--augment",
        "O2",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let got = matrix(&v["mean"][0], 2, 1);
    let (xr, yr) = reflected_training_set(
        RotationKind::Points,
        &x,
        y.as_ref(),
        OutputTransform::Invariant,
    )
    .unwrap();
    let lib = So2Predictor::new(
        &net,
        RotationKind::Points,
        &xr,
        yr.as_ref(),
        OutputTransform::Invariant,
        1.0,
        0.0,
        1e-13,
    )
    .unwrap()
    .mean(&xt, 3.0)
    .unwrap();
    assert!(rel(&got, &lib) < 1e-13);
    let mut last = f64::INFINITY;
    for k in [2, 4, 8, 16, 32] {
        let aug =
            FiniteAugmentation::from_spec(&GroupSpec::Dihedral(k), Domain::Points, &shape).unwrap();
        let m = block_prediction(
            &net,
            &aug,
            &x,
            y.as_ref(),
            OutputTransform::Invariant,
            &xt,
            &[3.0],
            1.0,
            0.0,
            false,
        )
        .unwrap()
        .mean
        .remove(0);
        let e = rel(&m, &got);
        assert!(e < last || e < 1e-12, "D{k}: {e:.1e} after {last:.1e}");
        last = e;
    }
    assert!(last < 1e-8, "D32 is {last:.1e} from O2");
}

#[test]
fn cli_impossible_pairs_and_bad_domains_exit_2() {
    let vec_net = file("bad-vector.toml", &mlp_text(&[4], None));
    let pts_net = file("bad-points.toml", &mlp_text(&[4, 2], Some("points")));
    let img_net = file("bad-image.toml", &mlp_text(&[3, 3, 1], None));
    let xv = data("bad-xv.npy", &batch(&[4], 2, 31));
    let xp = data("bad-xp.npy", &batch(&[4, 2], 2, 32));
    let xi = data("bad-xi.npy", &batch(&[3, 3, 1], 2, 33));
    let y = data("bad-y.npy", &Batch::new(vec![1], vec![1.0, -1.0]).unwrap());
    let kernel = |net: &Path, x: &Path, g: &str| {
        fails(&["kernel", "--net", s(net), "--x1", s(x), "--orbit", g])
    };
    let e = kernel(&vec_net, &xv, "C4");
    assert!(
        e.contains("C4 does not act on vector inputs (groups that do: none)"),
        "{e}"
    );
    let e = kernel(&pts_net, &xp, "p4");
    assert!(
        e.contains("p4 does not act on points inputs") && e.contains("SO2, O2"),
        "{e}"
    );
    let e = kernel(&img_net, &xi, "O2");
    assert!(e.contains("O2 does not act on image inputs"), "{e}");
    let e = fails(&[
        "predict",
        "--net",
        s(&img_net),
        "--x-train",
        s(&xi),
        "--y-train",
        s(&y),
        "--x-test",
        s(&xi),
        "--augment",
        "SO2",
    ]);
    assert!(e.contains("SO2 does not act on image inputs"), "{e}");
    // An even-length signal and C3: refused with its reason (no silent change of action).
    let sig_net = file("bad-signal.toml", &mlp_text(&[4, 2], None));
    let e = fails(&[
        "predict",
        "--net",
        s(&sig_net),
        "--x-train",
        s(&xp),
        "--y-train",
        s(&y),
        "--x-test",
        s(&xp),
        "--augment",
        "C3",
    ]);
    assert!(
        e.contains("3 does not divide 4") && e.contains("odd-length"),
        "{e}"
    );
    // `--points` is gone: the domain is declared in the network file.
    let (code, _, _) = eqntk(&[
        "predict",
        "--net",
        s(&pts_net),
        "--x-train",
        s(&xp),
        "--y-train",
        s(&y),
        "--x-test",
        s(&xp),
        "--augment",
        "C4",
        "--points",
    ]);
    assert_eq!(code, 2);
    // Bad declarations name the file, [input] and the key.
    let dense = "[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n";
    for (name, input, needles) in [
        (
            "p4.toml",
            "shape = [5, 4]\ndomain = 'points'",
            &["[P, 2] or [P, 3]", "[5, 4]"][..],
        ),
        (
            "i2.toml",
            "shape = [4, 2]\ndomain = 'image'",
            &["[H, W, C]", "[4, 2]"][..],
        ),
        (
            "t.toml",
            "shape = [3, 4, 1]\ndomain = 'torus'",
            &["[H, H, C]"][..],
        ),
        ("v.toml", "shape = [4, 2]\ndomain = 'vector'", &["[D]"][..]),
        (
            "u.toml",
            "shape = [4, 2]\ndomain = 'ball'",
            &["unknown input domain `ball`"][..],
        ),
        (
            "sph.toml",
            "shape = [4, 2]\ndomain = 'sphere'",
            &["a sphere signal has shape [L+1, 2L+1, C] (L ≥ 0), got [4, 2]"][..],
        ),
        (
            "n.toml",
            "shape = [4, 2]\ndomain = 3",
            &["`domain` must be a string"][..],
        ),
    ] {
        let p = file(name, &format!("[input]\n{input}\n{dense}"));
        let e = fails(&["kernel", "--net", s(&p), "--x1", s(&xp)]);
        assert!(
            e.contains(name) && e.contains("[input]") && e.contains("domain"),
            "{e}"
        );
        for n in needles {
            assert!(e.contains(n), "{n} not in {e}");
        }
    }
    // A lifting whose group acts on the declared domain by rotations, not permutations.
    let lift = file(
        "lift-points.toml",
        "[input]\nshape = [4, 2]\ndomain = 'points'\n[[layers]]\nkind = 'lift'\ngroup = 'C4'\n\
         filter = 'full'\n[[layers]]\nkind = 'group_pool'\n",
    );
    let e = fails(&["kernel", "--net", s(&lift), "--x1", s(&xp)]);
    assert!(
        e.contains("layers[0] (lift)") && e.contains("points"),
        "{e}"
    );
    // An SO2 lifting on an even-length signal (an [n, 2] array is not a point set by default).
    let so2 = file(
        "lift-even.toml",
        "[input]\nshape = [4, 2]\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n\
         [[layers]]\nkind = 'group_pool'\n",
    );
    let e = fails(&["kernel", "--net", s(&so2), "--x1", s(&xp)]);
    assert!(
        e.contains("layers[0] (lift)") && e.contains("odd-length"),
        "{e}"
    );
}
