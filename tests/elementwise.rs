//! Activations given as expressions (`kind = "elementwise"`, `phi = "…"`): the quadrature dual
//! of a written φ against the closed forms of the built-in activations it spells, Monte Carlo of
//! finite networks for a smooth and a kinked φ, the printed derivation, and the errors.

use crate::common;

use common::{assert_close, normal_batch};
use eqntk::finite::{monte_carlo_outputs, Agreement};
use eqntk::symbolic::{derive_network, evaluate_network, parse_derivation, Format, Names};
use eqntk::{Activation, Network};

/// dense, φ, dense, φ, dense on 3 inputs; `act` is the TOML of the activation table's keys.
fn two_hidden(act: &str) -> Network {
    let toml = format!(
        "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\nw_std = 1.5\nb_std = 0.2\n\
         [[layers]]\n{act}\n[[layers]]\nkind = 'dense'\nw_std = 1.3\nb_std = 0.1\n\
         [[layers]]\n{act}\n[[layers]]\nkind = 'dense'\nw_std = 1.1\n"
    );
    Network::from_toml_str(&toml, "net.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn written_activations_equal_the_built_in_closed_forms() {
    let (x1, x2) = (normal_batch(&[3], 3, 1), normal_batch(&[3], 2, 2));
    for (phi, builtin) in [
        ("max(x, 0)", "kind = 'relu'"),
        ("erf(x)", "kind = 'erf'"),
        ("x", "kind = 'identity'"),
        ("abs(x)", "kind = 'abs'"),
        ("x^2", "kind = 'monomial'\ndegree = 2"),
        (
            "0.8*sin(1.3*x + 0.2)",
            "kind = 'sin'\na = 0.8\nb = 1.3\nc = 0.2",
        ),
        (
            "max(x, 0) + 0.1*min(x, 0)",
            "kind = 'leaky_relu'\nalpha = 0.1",
        ),
    ] {
        let written = two_hidden(&format!("kind = 'elementwise'\nphi = '{phi}'"));
        let closed = two_hidden(builtin);
        for x2 in [None, Some(&x2)] {
            let (a, b) = (
                written.kernel(&x1, x2).unwrap(),
                closed.kernel(&x1, x2).unwrap(),
            );
            assert_close(
                &a.nngp().unwrap(),
                &b.nngp().unwrap(),
                1e-8,
                &format!("{phi} nngp"),
            );
            assert_close(
                &a.ntk().unwrap(),
                &b.ntk().unwrap(),
                1e-8,
                &format!("{phi} ntk"),
            );
        }
    }
}

#[test]
fn finite_networks_agree_for_a_smooth_and_a_kinked_phi() {
    let x = normal_batch(&[3], 3, 5);
    for (i, phi) in ["x*exp(-x^2/2)", "max(x - 0.5, 0) - 0.3*abs(x)"]
        .iter()
        .enumerate()
    {
        let net = two_hidden(&format!("kind = 'elementwise'\nphi = '{phi}'"));
        let k = net.kernel(&x, None).unwrap();
        let (nngp, ntk) = (k.nngp().unwrap(), k.ntk().unwrap());
        let mc = monte_carlo_outputs(&net, &x, None, 64, 8, 300, 40 + i as u64).unwrap();
        let rule = Agreement::default();
        let verdict = rule.check(&mc, &nngp, &ntk, 64);
        assert!(verdict.is_ok(), "{phi}: {verdict:?}");
        // the same samples reject an NTK off by 15 %
        assert!(
            rule.check(&mc, &nngp, &(&ntk * faer::Scale(1.15)), 64)
                .is_err(),
            "{phi}"
        );
        // and the interpreted derivation is the fast kernel, to the quadrature's accuracy: the
        // two reach the dual with arguments that differ by rounding, and on the diagonal
        // (ρ = 1 exactly or not) through different branches of the rule, whose error is ~1e-9
        // for a kink away from 0
        let d = derive_network(&net).unwrap();
        let (dk, dt) = evaluate_network(&net, &d, &x, None).unwrap();
        assert_close(&dk, &nngp, 1e-8, phi);
        assert_close(&dt, &ntk, 1e-8, phi);
    }
}

#[test]
fn the_derivation_writes_phi_out() {
    let net = two_hidden("kind = 'elementwise'\nphi = 'x*exp(-x^2/2)'");
    let printed = derive_network(&net).unwrap().render(Format::Plain);
    assert!(
        printed.contains("K2(x,x') = T_Elementwise(K1(x,x), K1(x,x'), K1(x',x'))")
            && printed.contains("# elementwise φ(x) = x*exp(-x^2/2) (quadrature)"),
        "{printed}"
    );
}

#[test]
fn malformed_expressions_are_one_line_errors() {
    for (phi, needle) in [
        ("x*exp(-y)", "y"),
        ("erf(x", "phi"),
        ("sqrt(x, 2)", "sqrt"),
        ("K0(x,x') * x", "function of x alone"),
        ("", "phi"),
    ] {
        let toml = format!(
            "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\n[[layers]]\nkind = 'elementwise'\n\
             phi = \"{phi}\"\n"
        );
        let e = Network::from_toml_str(&toml, "net.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("layers[1] (elementwise)") && e.contains("phi") && e.contains(needle),
            "{phi}: {e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
    for (keys, needle) in [
        ("tol = 0", "`tol` must be from 1e-13"),
        ("tol = 0.5", "`tol`"),
        ("max_panels = 0", "`max_panels`"),
        ("max_panels = 5000", "`max_panels` must be from 1 to 1000"),
    ] {
        let toml =
            format!("[input]\nshape = [3]\n[[layers]]\nkind = 'elementwise'\nphi = 'x'\n{keys}\n");
        let e = Network::from_toml_str(&toml, "net.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("layers[0] (elementwise)") && e.contains(needle) && !e.contains('\n'),
            "{keys}: {e}"
        );
    }
    let missing = Network::from_toml_str(
        "[input]\nshape = [3]\n[[layers]]\nkind = 'elementwise'\n",
        "net.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(missing.contains("missing key `phi`"), "{missing}");
    let file = common::cli::file(
        "bad_phi.toml",
        "[input]\nshape = [3]\n[[layers]]\nkind = 'elementwise'\nphi = 'x +* 2'\n",
    );
    let msg = common::cli::fails(&["derive", "--net", common::cli::s(&file)]);
    assert!(msg.contains("phi"), "{msg}");
}

/// The written activation of a one-layer network `kind = 'elementwise'` with extra keys.
fn written(phi: &str, keys: &str) -> (Network, Activation) {
    let toml = format!(
        "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\n[[layers]]\nkind = 'elementwise'\n\
         phi = '{phi}'\n{keys}\n"
    );
    let net = Network::from_toml_str(&toml, "net.toml").unwrap_or_else(|e| panic!("{e}"));
    let act = net.layers()[1]
        .downcast_ref::<Activation>()
        .expect("an activation")
        .clone();
    (net, act)
}

/// `(k11, k12, k22)` with variances from 1e-6 to 1e4 and correlations up to ±1.
fn covariances() -> Vec<(f64, f64, f64)> {
    let mut out = vec![];
    for &(v1, v2) in &[
        (1e-6, 1e-6),
        (0.01, 0.3),
        (1.0, 1.0),
        (0.7, 2.5),
        (30.0, 5.0),
        (1e4, 1e4),
    ] {
        for &rho in &[
            -1.0,
            -0.999_999_99,
            -0.9,
            -0.3,
            0.0,
            0.5,
            0.99,
            0.999_999,
            0.999_999_99,
            1.0,
        ] {
            let k12 = rho * f64::sqrt(v1 * v2);
            out.push((v1, k12, v2));
        }
    }
    out
}

/// `(T, Ṫ)` of `x^3` from Isserlis' theorem (the Hermite expansion `x³ = He₃ + 3 He₁`):
/// `E[u³v³] = 9 k11 k22 k12 + 6 k12³`, `E[3u² 3v²] = 9 (k11 k22 + 2 k12²)`.
fn cube_dual(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    (
        9.0 * k11 * k22 * k12 + 6.0 * k12.powi(3),
        9.0 * (k11 * k22 + 2.0 * k12 * k12),
    )
}

/// A dual `(k11, k12, k22) ↦ (T, Ṫ)`.
type Dual<'a> = dyn Fn(f64, f64, f64) -> (f64, f64) + 'a;

/// How far a closed form moves when `k12` is rounded (`k12 (1 ± 4ε)`): at `|ρ| = 1` Ṫ of a kink
/// moves by the square root of a rounding, and erf's Ṫ cancels in `(1 + 2b²k)² − 4b⁴k12²`; a
/// reference is only as good as this.
fn spread(exact: &Dual<'_>, at: (f64, f64, f64), k: usize) -> f64 {
    let (k11, k12, k22) = at;
    let r = exact(k11, k12, k22);
    [1.0 + 4.0 * f64::EPSILON, 1.0 - 4.0 * f64::EPSILON]
        .iter()
        .map(|s| {
            let p = exact(k11, k12 * s, k22);
            ([p.0, p.1][k] - [r.0, r.1][k]).abs()
        })
        .fold(0.0, f64::max)
}

#[test]
fn the_reported_estimate_bounds_the_error_against_closed_forms() {
    let erf = Activation::Erf {
        a: 1.0,
        b: 1.0,
        c: 0.0,
    };
    let cases: [(&str, &Dual<'_>); 5] = [
        ("max(x, 0)", &|a, b, c| Activation::Relu.dual(a, b, c)),
        ("erf(x)", &|a, b, c| erf.dual(a, b, c)),
        ("x", &|a, b, c| Activation::Identity.dual(a, b, c)),
        ("x^3", &cube_dual),
        ("abs(x)", &|a, b, c| Activation::Abs.dual(a, b, c)),
    ];
    for (phi, exact) in cases {
        let (_, act) = written(phi, "");
        let mut worst = (0.0f64, 0.0f64);
        for (k11, k12, k22) in covariances() {
            let e = act.dual_estimate(k11, k12, k22).unwrap();
            let (t, tdot) = exact(k11, k12, k22);
            // the closed forms round relative to the Cauchy–Schwarz scale √(T(k11) T(k22))
            // (ReLU's at ρ ≈ −1 cancels to ~ε of it)
            let (a, b) = (exact(k11, k11, k11), exact(k22, k22, k22));
            let cs = [(a.0 * b.0).abs().sqrt(), (a.1 * b.1).abs().sqrt()];
            for (k, reference) in [(0, t), (1, tdot)] {
                let err = (e.value[k] - reference).abs();
                let slack = 8.0 * f64::EPSILON * (e.scale[k] + reference.abs() + cs[k])
                    + spread(exact, (k11, k12, k22), k);
                assert!(
                    err <= e.error[k] + slack,
                    "{phi} at ({k11}, {k12}, {k22}), component {k}: error {err:e} above the \
                     estimate {:e}",
                    e.error[k]
                );
                let scale = e.scale[k].max(cs[k]);
                if scale > 0.0 {
                    worst.0 = worst.0.max(err / scale);
                    worst.1 = worst.1.max(e.error[k] / scale);
                }
            }
            assert!(e.reached, "{phi} at ({k11}, {k12}, {k22}): {e:?}");
            assert!(e.relative_error() <= 1e-10, "{phi}: {e:?}");
        }
        eprintln!(
            "{phi}: worst error {:.1e}, worst estimate {:.1e} (relative to the larger of the \
             scale and √(T(k11) T(k22)))",
            worst.0, worst.1
        );
    }
}

#[test]
fn a_tighter_tolerance_gives_a_smaller_error() {
    let erf = Activation::Erf {
        a: 1.0,
        b: 4.0,
        c: 0.0,
    };
    let (mut estimates, mut errors) = (vec![], vec![]);
    for tol in ["1e-6", "1e-9", "1e-12"] {
        let (_, act) = written("erf(4*x)", &format!("tol = {tol}"));
        let tol: f64 = tol.parse().unwrap();
        let (mut worst, mut worst_err) = (0.0f64, 0.0f64);
        for (k11, k12, k22) in covariances() {
            let e = act.dual_estimate(k11, k12, k22).unwrap();
            let (t, tdot) = erf.dual(k11, k12, k22);
            for (k, reference) in [(0, t), (1, tdot)] {
                let err = (e.value[k] - reference).abs();
                assert!(e.error[k] <= tol * e.scale[k], "{tol}: {e:?}");
                // a bound where the rule has converged; within 10 tol at the loosest
                let bound = if tol < 1e-8 {
                    e.error[k]
                } else {
                    10.0 * tol * e.scale[k]
                };
                let exact = |a, b, c| erf.dual(a, b, c);
                let slack =
                    8.0 * f64::EPSILON * (e.scale[k] + 1.0) + spread(&exact, (k11, k12, k22), k);
                assert!(err <= bound + slack, "tol {tol}: error {err:e}, {e:?}");
                worst = worst.max(e.error[k] / e.scale[k]);
                worst_err = worst_err.max(err / e.scale[k]);
            }
        }
        estimates.push(worst);
        errors.push(worst_err);
    }
    eprintln!("erf(4*x): worst estimates {estimates:?}, worst errors {errors:?}");
    assert!(
        estimates[0] > estimates[1] && estimates[1] > estimates[2],
        "estimates {estimates:?}"
    );
    assert!(errors[0] >= errors[2], "errors {errors:?}");
}

#[test]
fn the_kernel_report_carries_the_estimate_and_a_small_cap_warns() {
    let x = normal_batch(&[3], 4, 3);
    let (net, _) = written("x*exp(-x^2/2)", "");
    let report = net.kernel_report(&x, None).unwrap();
    let q = &report.quadrature;
    assert_eq!(q.len(), 1);
    assert!(q[0].is_reached() && q[0].error_estimate <= 1e-10, "{q:?}");
    assert_eq!(q[0].layer, "layers[1]");
    assert!(q[0].evaluations >= 10, "{q:?}");
    let line = q[0].message();
    assert!(
        line.starts_with("elementwise layers[1] (phi = x*exp(-x^2/2)): quadrature error ≤ "),
        "{line}"
    );
    // the closed forms have none
    let relu = two_hidden("kind = 'relu'");
    assert!(relu.kernel_report(&x, None).unwrap().quadrature.is_empty());

    let (capped, _) = written("erf(8*x)", "tol = 1e-12\nmax_panels = 2");
    let q = capped.kernel_report(&x, None).unwrap().quadrature;
    assert!(!q[0].is_reached() && q[0].error_estimate > 1e-12, "{q:?}");
    let line = q[0].message();
    assert!(
        line.contains("layers[1] (phi = erf(8*x))")
            && line.contains("did not reach tol = 1e-12")
            && line.contains("max_panels = 2"),
        "{line}"
    );

    // the command line: one stderr line per layer, a warning for the capped one, JSON fields
    let xs = common::cli::data("quad_x.npy", &x);
    for (name, toml, needle) in [
        (
            "quad_ok.toml",
            "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\n[[layers]]\nkind = 'elementwise'\n\
             phi = 'x*exp(-x^2/2)'\n",
            "elementwise layers[1] (phi = x*exp(-x^2/2)): quadrature error ≤",
        ),
        (
            "quad_capped.toml",
            "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\n[[layers]]\nkind = 'elementwise'\n\
             phi = 'erf(8*x)'\ntol = 1e-12\nmax_panels = 2\n",
            "warning: elementwise layers[1] (phi = erf(8*x)): the quadrature did not reach",
        ),
    ] {
        let file = common::cli::file(name, toml);
        let (code, out, err) = common::cli::eqntk(&[
            "kernel",
            "--net",
            common::cli::s(&file),
            "--x1",
            common::cli::s(&xs),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(needle), "{err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["quadrature"][0]["layer"], "layers[1]", "{out}");
        assert!(doc["quadrature"][0]["error_estimate"].as_f64().is_some());
    }
}

#[test]
fn the_derivation_prints_phi_and_its_derivative() {
    let net = two_hidden("kind = 'elementwise'\nphi = 'x*exp(-x^2/2)'");
    let d = derive_network(&net).unwrap();
    let text = d.render(Format::Plain);
    assert!(
        text.contains("# phi(u) = u*exp(-u^2/2)\n# phi'(u) = exp(-u^2/2) - u^2*exp(-u^2/2)\n"),
        "{text}"
    );
    // before the layer it belongs to, once per layer
    let at = text.find("# phi(u)").unwrap();
    assert!(at < text.find("K2(x,x') =").unwrap(), "{text}");
    assert_eq!(text.matches("# phi'(u)").count(), 2, "{text}");
    let unicode = d.render(Format::Unicode);
    assert!(
        unicode.contains("# φ(u) = ") && unicode.contains("# φ′(u) = "),
        "{unicode}"
    );
    let latex = d.render(Format::Latex);
    assert!(
        latex.starts_with("\\begin{aligned}\n\\varphi(u) &= ")
            && latex.contains("\\varphi'(u) &= "),
        "{latex}"
    );
    // the printed text still parses back to the same definitions
    let (parsed, _) = parse_derivation(&text, &Names::open(), "derive").unwrap();
    assert_eq!(
        parsed.render(Format::Plain),
        d.derivation().render(Format::Plain)
    );
    // a kinked φ: φ′ through sign, with the mean of the one-sided derivatives at the kink
    let relu = two_hidden("kind = 'elementwise'\nphi = 'max(x, 0)'");
    let text = derive_network(&relu).unwrap().render(Format::Plain);
    assert!(text.contains("# phi'(u) = sign(u)/2 + 1/2"), "{text}");
}
