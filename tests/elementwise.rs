//! Activations given as expressions (`kind = "elementwise"`, `phi = "…"`): the quadrature dual
//! of a written φ against the closed forms of the built-in activations it spells, Monte Carlo of
//! finite networks for a smooth and a kinked φ, the printed derivation, and the errors.

use crate::common;

use common::{assert_close, normal_batch};
use eqntk::finite::{monte_carlo_outputs, Agreement};
use eqntk::symbolic::{derive_network, evaluate_network, Format};
use eqntk::Network;

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
