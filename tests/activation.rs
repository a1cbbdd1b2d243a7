//! Dual activations: closed forms against quadrature, Monte Carlo, identities and limits.

use std::f64::consts::PI;

use eqntk::Activation;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn all_activations() -> Vec<Activation> {
    vec![
        Activation::Relu,
        Activation::LeakyRelu { alpha: 0.1 },
        Activation::AbRelu { a: -0.3, b: 1.7 },
        Activation::Abs,
        Activation::Identity,
        Activation::Erf {
            a: 1.0,
            b: 1.0,
            c: 0.0,
        },
        Activation::Erf {
            a: 2.0,
            b: 0.5,
            c: 0.3,
        },
        Activation::Tanh,
        Activation::Gelu,
        Activation::Sigmoid,
        Activation::Softplus,
        Activation::Sin {
            a: 1.0,
            b: 1.0,
            c: 0.0,
        },
        Activation::Sin {
            a: 1.5,
            b: 0.7,
            c: 0.4,
        },
    ]
    .into_iter()
    .chain(new_activations())
    .collect()
}

/// The activations with neural-tangents' closed forms added after the first eleven.
fn new_activations() -> Vec<Activation> {
    vec![
        Activation::Cos {
            a: 1.2,
            b: 0.8,
            c: -0.3,
        },
        Activation::Sign,
        Activation::Rbf { gamma: 0.3 },
        Activation::Exp { a: 0.8, b: 0.35 },
        Activation::Gaussian { a: 1.1, b: -0.7 },
        Activation::Gaussian { a: 0.9, b: 0.05 },
        Activation::Monomial { degree: 0 },
        Activation::Monomial { degree: 1 },
        Activation::Monomial { degree: 3 },
        Activation::RectifiedMonomial { degree: 0 },
        Activation::RectifiedMonomial { degree: 1 },
        Activation::RectifiedMonomial { degree: 2 },
        Activation::RectifiedMonomial { degree: 3 },
        Activation::Polynomial {
            coef: vec![0.3, -1.0, 0.5, 0.2],
        },
        Activation::Hermite { degree: 2 },
        Activation::Hermite { degree: 3 },
        Activation::SigmoidLike,
    ]
}

/// Cauchy–Schwarz scales `(√(T11 T22), √(Ṫ11 Ṫ22))` bounding `|T|`, `|Ṫ|`: the natural unit
/// for "relative to the scale". Only a unit for tolerances, so `dual` may provide it.
fn scales(act: &Activation, k11: f64, k22: f64) -> (f64, f64) {
    let (t1, d1) = act.dual(k11, k11, k11);
    let (t2, d2) = act.dual(k22, k22, k22);
    ((t1 * t2).sqrt(), (d1 * d2).sqrt())
}

/// Covariances (k11, k12, k22) spanning tiny and large variances and ρ up to ±1.
fn covariances(max_var: f64) -> Vec<(f64, f64, f64)> {
    let variances = [
        (1e-12, 1e-12),
        (1e-12, 1.0),
        (0.3, 4.0),
        (1.0, 1.0),
        (1e6, 0.3),
        (1e6, 1e6),
    ];
    let rhos = [
        -1.0,
        -1.0 + 1e-12,
        -0.9999,
        -0.7,
        0.0,
        0.2,
        0.95,
        1.0 - 1e-9,
        1.0,
    ];
    let mut out = Vec::new();
    for &(k11, k22) in &variances {
        if k11 > max_var || k22 > max_var {
            continue;
        }
        for &rho in &rhos {
            out.push((k11, rho * f64::sqrt(k11 * k22), k22));
        }
    }
    out
}

#[test]
fn closed_forms_match_quadrature() {
    let closed = [
        (Activation::Relu, f64::INFINITY),
        (Activation::LeakyRelu { alpha: 0.1 }, f64::INFINITY),
        (Activation::AbRelu { a: -0.3, b: 1.7 }, f64::INFINITY),
        (Activation::Abs, f64::INFINITY),
        (Activation::Identity, f64::INFINITY),
        (
            Activation::Erf {
                a: 1.0,
                b: 1.0,
                c: 0.0,
            },
            f64::INFINITY,
        ),
        (
            Activation::Erf {
                a: 2.0,
                b: 3.0,
                c: 0.3,
            },
            f64::INFINITY,
        ),
        // the integrand oscillates: the reference quadrature wants |b|√k ≲ 5
        (
            Activation::Sin {
                a: 1.0,
                b: 1.0,
                c: 0.0,
            },
            4.0,
        ),
        (
            Activation::Sin {
                a: 1.5,
                b: 0.7,
                c: 0.4,
            },
            4.0,
        ),
    ];
    // oscillating or fast-varying integrands: the reference quadrature wants |b|√k ≲ 5
    let bounded = |a: &Activation| match a {
        Activation::Cos { .. }
        | Activation::Rbf { .. }
        | Activation::Exp { .. }
        | Activation::Gaussian { .. } => 4.0,
        _ => f64::INFINITY,
    };
    let new = new_activations()
        .into_iter()
        .chain([Activation::Gelu])
        .map(|a| {
            let v = bounded(&a);
            (a, v)
        });
    for (act, max_var) in closed.into_iter().chain(new) {
        assert!(act.has_closed_form());
        for (k11, k12, k22) in covariances(max_var) {
            let (t, td) = act.dual(k11, k12, k22);
            let (tq, tdq) = act.dual_by_quadrature(k11, k12, k22);
            let (st, sd) = scales(&act, k11, k22);
            assert!(
                (t - tq).abs() <= 1e-8 * st && (td - tdq).abs() <= 1e-8 * sd,
                "{act:?} at ({k11}, {k12}, {k22}): closed ({t}, {td}) vs quadrature ({tq}, {tdq})"
            );
        }
    }
}

#[test]
fn fast_quadrature_matches_reference_quadrature() {
    // `dual` for φ without a closed form (Gauss–Hermite or coarse panels) against the fine rule.
    for act in [Activation::Tanh, Activation::Sigmoid, Activation::Softplus] {
        assert!(!act.has_closed_form());
        for &(k11, k22) in &[(0.04, 0.2), (0.7, 1.0), (2.0, 0.5), (9.0, 25.0)] {
            for rho in [-1.0, -0.6, 0.1, 0.999, 1.0] {
                let k12 = rho * f64::sqrt(k11 * k22);
                let (t, td) = act.dual(k11, k12, k22);
                let (tq, tdq) = act.dual_by_quadrature(k11, k12, k22);
                let (st, sd) = scales(&act, k11, k22);
                assert!(
                    (t - tq).abs() <= 1e-8 * st && (td - tdq).abs() <= 1e-8 * sd,
                    "{act:?} at ({k11}, {k12}, {k22}): ({t}, {td}) vs ({tq}, {tdq})"
                );
            }
        }
    }
}

/// The arc-cosine kernel exactly as written in MATH.md §3, with std's trigonometry. The scale
/// is rounded as `√(k11 k22)` like the code's (and neural-tangents'): near ρ = ±1, Ṫ is
/// ill-conditioned in ρ (`dṪ/dρ = 1/(2π sin θ)`), so one ulp of ρ would otherwise show as ~1e-11.
fn textbook_ab_relu(a: f64, b: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let s = (k11 * k22).sqrt();
    let th = (k12 / s).clamp(-1.0, 1.0).acos();
    let t = s / (2.0 * PI)
        * ((a * a + b * b) * (th.sin() + (PI - th) * th.cos())
            - 2.0 * a * b * (th.sin() - th * th.cos()));
    let td = ((a * a + b * b) * (PI - th) + 2.0 * a * b * th) / (2.0 * PI);
    (t, td)
}

#[test]
fn ab_relu_special_cases() {
    for (k11, k12, k22) in covariances(f64::INFINITY) {
        let s = k11.sqrt() * k22.sqrt();
        let id = Activation::AbRelu { a: 1.0, b: 1.0 }.dual(k11, k12, k22);
        assert!((id.0 - k12).abs() <= 1e-14 * s && (id.1 - 1.0).abs() <= 1e-14);
        let relu = Activation::Relu.dual(k11, k12, k22);
        let ab01 = Activation::AbRelu { a: 0.0, b: 1.0 }.dual(k11, k12, k22);
        let book = textbook_ab_relu(0.0, 1.0, k11, k12, k22);
        for x in [relu, ab01] {
            assert!((x.0 - book.0).abs() <= 1e-14 * s, "{x:?} vs {book:?}");
            assert!((x.1 - book.1).abs() <= 1e-14, "{x:?} vs {book:?}");
        }
        // Leaky and |x| through their (a, b), against the textbook form.
        for (act, a, b) in [
            (Activation::LeakyRelu { alpha: 0.2 }, 0.2, 1.0),
            (Activation::Abs, -1.0, 1.0),
        ] {
            let x = act.dual(k11, k12, k22);
            let book = textbook_ab_relu(a, b, k11, k12, k22);
            assert!((x.0 - book.0).abs() <= 1e-14 * s && (x.1 - book.1).abs() <= 1e-14);
        }
    }
}

#[test]
fn identity_on_the_diagonal_is_the_variance() {
    // Variances whose product k² is a normal f64 (the scale is √(k11 k22)).
    for k in [0.0, 1e-150, 1e-12, 0.37, 1.0, 12.5, 1e150] {
        assert_eq!(Activation::Identity.dual(k, k, k), (k, 1.0));
        let (t, td) = Activation::AbRelu { a: 1.0, b: 1.0 }.dual(k, k, k);
        assert!((t - k).abs() <= 1e-15 * k && td == 1.0);
    }
}

#[test]
fn duals_are_symmetric_in_the_two_inputs() {
    for act in all_activations() {
        for &(k11, k12, k22) in &[(0.3, 0.1, 2.0), (1.0, -0.99, 1.2), (0.01, 0.0, 3.0)] {
            let a = act.dual(k11, k12, k22);
            let b = act.dual(k22, k12, k11);
            let (st, sd) = scales(&act, k11, k22);
            // exact formulas for closed forms; two different quadratures otherwise
            let tol = if act.has_closed_form() { 1e-14 } else { 1e-9 };
            assert!(
                (a.0 - b.0).abs() <= tol * st && (a.1 - b.1).abs() <= tol * sd,
                "{act:?} ({k11}, {k12}, {k22}): {a:?} vs {b:?}"
            );
        }
    }
}

#[test]
fn duals_match_monte_carlo_within_five_standard_errors() {
    const N: usize = 1_000_000;
    let mut rng = ChaCha8Rng::seed_from_u64(20240611);
    let z: Vec<(f64, f64)> = (0..N)
        .map(|_| {
            (
                StandardNormal.sample(&mut rng),
                StandardNormal.sample(&mut rng),
            )
        })
        .collect();
    for &(k11, k12, k22) in &[(1.0, 0.6, 2.0), (0.5, -0.45, 3.0)] {
        let (s1, s2) = (f64::sqrt(k11), f64::sqrt(k22));
        let rho = k12 / (s1 * s2);
        let c = f64::sqrt(1.0 - rho * rho);
        for act in all_activations() {
            let (mut m, mut m2, mut d, mut d2) = (0.0, 0.0, 0.0, 0.0);
            for &(z1, z2) in &z {
                let (u, v) = (s1 * z1, s2 * (rho * z1 + c * z2));
                let x = act.phi(u) * act.phi(v);
                let y = act.dphi(u) * act.dphi(v);
                m += x;
                m2 += x * x;
                d += y;
                d2 += y * y;
            }
            let n = N as f64;
            let (m, d) = (m / n, d / n);
            let se_t = f64::sqrt((m2 / n - m * m).max(0.0) / (n - 1.0));
            let se_d = f64::sqrt((d2 / n - d * d).max(0.0) / (n - 1.0));
            let (t, td) = act.dual(k11, k12, k22);
            // 1e-12 covers the identity's Ṫ = 1, which has no sampling noise
            assert!(
                (t - m).abs() <= 5.0 * se_t + 1e-12,
                "{act:?}: T = {t}, Monte Carlo {m} ± {se_t}"
            );
            assert!(
                (td - d).abs() <= 5.0 * se_d + 1e-12,
                "{act:?}: Ṫ = {td}, Monte Carlo {d} ± {se_d}"
            );
        }
    }
}

#[test]
fn phi_and_dphi_agree_by_finite_differences() {
    let h = 1e-6;
    for act in all_activations() {
        for x in [-7.5, -2.0, -0.9, -0.3, 0.05, 0.4, 1.1, 2.5, 8.0] {
            let fd = (act.phi(x + h) - act.phi(x - h)) / (2.0 * h);
            let d = act.dphi(x);
            assert!(
                (fd - d).abs() <= 1e-7 * d.abs().max(1.0),
                "{act:?} at {x}: φ' = {d}, finite difference {fd}"
            );
        }
    }
}

#[test]
fn phi_values_and_kink_convention() {
    // GELU(1) = Φ(1) = 0.8413447460685429…
    assert!((Activation::Gelu.phi(1.0) - 0.841_344_746_068_542_9).abs() < 1e-15);
    assert!((Activation::Softplus.phi(0.0) - 2f64.ln()).abs() < 1e-15);
    assert!((Activation::Softplus.phi(800.0) - 800.0).abs() < 1e-12);
    assert_eq!(Activation::Sigmoid.phi(0.0), 0.5);
    assert_eq!(Activation::Relu.dphi(0.0), 0.5);
    assert_eq!(Activation::Abs.dphi(0.0), 0.0);
    assert_eq!(Activation::LeakyRelu { alpha: 0.2 }.dphi(0.0), 0.6);
    assert_eq!(Activation::LeakyRelu { alpha: 0.2 }.phi(-2.0), -0.4);
    let names: Vec<_> = all_activations().iter().map(|a| a.name()).collect();
    assert_eq!(
        names,
        [
            "relu",
            "leaky_relu",
            "abrelu",
            "abs",
            "identity",
            "erf",
            "erf",
            "tanh",
            "gelu",
            "sigmoid",
            "softplus",
            "sin",
            "sin",
            "cos",
            "sign",
            "rbf",
            "exp",
            "gaussian",
            "gaussian",
            "monomial",
            "monomial",
            "monomial",
            "rectified_monomial",
            "rectified_monomial",
            "rectified_monomial",
            "rectified_monomial",
            "polynomial",
            "hermite",
            "hermite",
            "sigmoid_like",
        ]
    );
}

#[test]
fn degenerate_inputs_give_finite_numbers() {
    let k = 1.7;
    let over = k * (1.0 + 4.0 * f64::EPSILON); // k12² > k11 k22 by rounding
    let cases = [
        (0.0, 0.0, 0.0),
        (0.0, 0.0, k),
        (k, 0.0, 0.0),
        (k, k, k),
        (k, -k, k),
        (k, over, k),
        (k, -over, k),
        (1e-300, 1e-300, 1e-300),
        (1e-12, 1e-12, 1e-12),
        (1e6, -1e6, 1e6),
    ];
    for act in all_activations() {
        for &(k11, k12, k22) in &cases {
            // e^{b u} overflows inside the reference quadrature at variance 1e6 (the closed
            // form, a² e^{b² Var(u+v)/2} = a² here, does not)
            let quad = !(matches!(act, Activation::Exp { .. }) && k11 >= 1e6);
            let duals = [act.dual(k11, k12, k22)]
                .into_iter()
                .chain(quad.then(|| act.dual_by_quadrature(k11, k12, k22)));
            // a·e^{b x²} with b > 0 has no second moment once 2b·k ≥ 1: +∞, by design
            if let Activation::Gaussian { b, .. } = act {
                if b > 0.0 && 2.0 * b * k11.max(k22) >= 1.0 {
                    assert_eq!(act.dual(k11, k12, k22), (f64::INFINITY, f64::INFINITY));
                    continue;
                }
            }
            for (t, td) in duals {
                assert!(
                    t.is_finite() && td.is_finite(),
                    "{act:?} at ({k11}, {k12}, {k22}): ({t}, {td})"
                );
            }
        }
    }
    // A zero input: ρ = 0 by convention, so ReLU gives T = 0, Ṫ = 1/4 — and the quadrature,
    // which uses φ'(0) = 1/2, agrees.
    assert_eq!(Activation::Relu.dual(0.0, 0.0, k), (0.0, 0.25));
    let (t, td) = Activation::Relu.dual_by_quadrature(0.0, 0.0, k);
    assert!(t.abs() < 1e-15 && (td - 0.25).abs() < 1e-14);
    // Rounding past |ρ| = 1 is clamped: same as ρ = ±1 exactly.
    let relu = Activation::Relu;
    assert_eq!(relu.dual(k, over, k).1, relu.dual(k, k, k).1);
    assert_eq!(relu.dual(k, -over, k), relu.dual(k, -k, k));
    assert!((relu.dual(k, over, k).0 - k / 2.0).abs() <= 1e-15 * k);
    assert!((relu.dual(k, k, k).0 - k / 2.0).abs() <= 1e-15 * k);
    assert_eq!(relu.dual(k, -k, k).0, 0.0);
}

#[test]
fn dual_slice_matches_dual_entrywise() {
    let k11 = 0.8;
    let k22: Vec<f64> = (0..37).map(|j| 0.1 + 0.2 * j as f64).collect();
    let k12: Vec<f64> = k22
        .iter()
        .enumerate()
        .map(|(j, &k)| (-1.0 + j as f64 / 18.0) * f64::sqrt(k11 * k))
        .collect();
    let theta: Vec<f64> = (0..37).map(|j| 1.0 + j as f64).collect();
    for act in all_activations() {
        let mut k_out = vec![f64::NAN; 37];
        let mut t_out = vec![f64::NAN; 37];
        act.dual_slice(k11, &k12, &k22, Some(&theta), &mut k_out, Some(&mut t_out));
        let mut k_only = vec![f64::NAN; 37];
        act.dual_slice(k11, &k12, &k22, None, &mut k_only, None);
        let mut tdot = vec![f64::NAN; 37];
        act.dual_slice(k11, &k12, &k22, None, &mut k_only, Some(&mut tdot));
        for j in 0..37 {
            let (t, td) = act.dual(k11, k12[j], k22[j]);
            assert_eq!(k_out[j], t, "{act:?} j={j}");
            assert_eq!(k_only[j], t);
            assert_eq!(t_out[j], td * theta[j]);
            assert_eq!(tdot[j], td);
        }
    }
}
