//! The parser of the printed syntax: print → parse → print is the identity on every shipped
//! network and claim-file network, parsed derivations evaluate to the same kernels, and
//! malformed formulas are one-line errors naming the column.

use std::path::Path;

use eqntk::layer::REGISTRY;
use eqntk::symbolic::{
    derive_network, evaluate_network, parse_derivation, parse_expr, Format, Names,
};
use eqntk::verify::ClaimFile;
use eqntk::{Error, Network};

use crate::common;

/// Every network the project ships: examples, benchmarks, claim files and the registry's
/// example of each layer kind.
pub(crate) fn shipped() -> Vec<(String, Network)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples", "examples/bench"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for f in files {
            out.push((f.display().to_string(), Network::from_file(&f).unwrap()));
        }
    }
    let mut claims: Vec<_> = std::fs::read_dir(root.join("derivations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    claims.sort();
    for f in claims {
        let cf = ClaimFile::from_file(&f).unwrap();
        for (name, (net, _)) in cf.networks {
            out.push((format!("{}: {name}", f.display()), net));
        }
    }
    for r in REGISTRY {
        for kind in r.kinds {
            let net = Network::from_toml_str(&(r.example)(kind), kind).unwrap();
            out.push((format!("example of {kind}"), net));
        }
    }
    out
}

#[test]
fn print_parse_print_is_the_identity_on_every_shipped_network() {
    let all = shipped();
    assert!(all.len() > 40, "only {} networks", all.len());
    for (name, net) in all {
        let d = derive_network(&net).unwrap();
        for derivation in [d.derivation(), d.compact()] {
            let text = derivation.render(Format::Plain);
            let (parsed, bindings) = parse_derivation(&text, &Names::open(), &name)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert!(bindings.is_empty());
            assert_eq!(parsed.render(Format::Plain), text, "{name}");
            // the other spellings follow, since names keep their canonical parameters
            assert_eq!(
                parsed.render(Format::Unicode),
                derivation.render(Format::Unicode),
                "{name}"
            );
            assert_eq!(
                parsed.render(Format::Latex),
                derivation.render(Format::Latex),
                "{name}"
            );
        }
    }
}

#[test]
fn parsed_derivations_evaluate_to_the_fast_kernels() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in [
        "examples/mlp.toml",
        "examples/cnn.toml",
        "examples/bench/p4_relu2_pool.toml",
    ] {
        let net = Network::from_file(&root.join(f)).unwrap();
        let x = common::normal_batch(net.input_shape(), 3, 5);
        let d = derive_network(&net).unwrap();
        let text = d.compact().render(Format::Plain);
        let (parsed, _) = parse_derivation(&text, &Names::open(), f).unwrap();
        let (k, t) = evaluate_network(&net, &d.with_compact(parsed), &x, None).unwrap();
        let fast = net.kernel(&x, None).unwrap();
        common::assert_close(&k, &fast.nngp().unwrap(), 1e-12, f);
        common::assert_close(&t, &fast.ntk().unwrap(), 1e-12, f);
    }
}

/// One stride per axis prints as `(2,1)*p` (Unicode `(2,1)⊙p`, LaTeX `(2,1)\odot p`), equal
/// strides as `2*p`; the printed derivation parses back to itself and evaluates to the fast
/// kernel.
#[test]
fn per_axis_strides_print_and_parse_back() {
    use eqntk::symbolic::{Index, IndexVar};
    let p = || Index::from(IndexVar::p());
    assert_eq!(p().scaled_axes(&[2, 2]), p().scaled(2));
    assert_eq!(p().scaled_axes(&[1, 1]), p());
    assert_eq!(
        p().scaled_axes(&[1, 2]),
        Index::Scale(vec![1, 2], Box::new(p()))
    );
    let toml = "[input]\nshape = [5, 6, 2]\n\n\
                [[layers]]\nkind = \"conv\"\nfilter = [3, 3]\nstride = [2, 1]\n\
                padding = \"same\"\nw_std = 1.3\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n\
                [[layers]]\nkind = \"avg_pool\"\nwindow = [2, 3]\nstride = [1, 2]\n\
                padding = \"circular\"\n\n\
                [[layers]]\nkind = \"conv\"\nfilter = [3, 3]\nstride = [2, 2]\n\
                padding = \"same\"\nw_std = 1.2\n\n[[layers]]\nkind = \"relu\"\n\n\
                [[layers]]\nkind = \"flatten\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n";
    let net = Network::from_toml_str(toml, "per-axis strides").unwrap();
    let d = derive_network(&net).unwrap();
    let text = d.derivation().render(Format::Plain);
    for want in [
        "K0[(2,1)*p+d,(2,1)*p'+d](x,x')",
        "K2[(1,2)*p+d,(1,2)*p'+d'](x,x')",
        "K3[2*p+d,2*p'+d](x,x')",
        "stride (2,1), F = the filter offsets from (2,1)*p",
        "avg_pool 2x3, stride (1,2)",
    ] {
        assert!(text.contains(want), "{want} not in\n{text}");
    }
    let unicode = d.derivation().render(Format::Unicode);
    assert!(unicode.contains("K⁽⁰⁾[(2,1)⊙p+δ,(2,1)⊙p'+δ]"), "{unicode}");
    assert!(unicode.contains("Θ⁽²⁾[(1,2)⊙p+δ,(1,2)⊙p'+δ']"), "{unicode}");
    assert!(unicode.contains("K⁽³⁾[2p+δ,2p'+δ]"), "{unicode}");
    let latex = d.derivation().render(Format::Latex);
    assert!(
        latex.contains(r"K^{(0)}_{(2,1)\odot p+\delta,(2,1)\odot p'+\delta}"),
        "{latex}"
    );
    assert!(latex.contains(r"K^{(3)}_{2p+\delta,2p'+\delta}"), "{latex}");
    for derivation in [d.derivation(), d.compact()] {
        let text = derivation.render(Format::Plain);
        let (parsed, _) = parse_derivation(&text, &Names::open(), "per-axis strides")
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        for f in [Format::Plain, Format::Unicode, Format::Latex] {
            assert_eq!(parsed.render(f), derivation.render(f));
        }
    }
    let x = common::normal_batch(&[5, 6, 2], 3, 8);
    let (parsed, _) = parse_derivation(
        &d.compact().render(Format::Plain),
        &Names::open(),
        "strides",
    )
    .unwrap();
    let (k, t) = evaluate_network(&net, &d.with_compact(parsed), &x, None).unwrap();
    let fast = net.kernel(&x, None).unwrap();
    common::assert_close(&k, &fast.nngp().unwrap(), 1e-12, "nngp");
    common::assert_close(&t, &fast.ntk().unwrap(), 1e-12, "ntk");
}

fn parse_error(text: &str) -> (usize, String) {
    match parse_expr(text, &Names::new(), "nngp formula") {
        Err(Error::Parse { column, .. }) => {
            let msg = parse_expr(text, &Names::new(), "nngp formula")
                .unwrap_err()
                .to_string();
            assert!(!msg.contains('\n'), "{msg}");
            (column, msg)
        }
        other => panic!("{text}: expected a parse error, got {other:?}"),
    }
}

#[test]
fn malformed_formulas_are_one_line_errors_with_the_column() {
    let cases = [
        ("(K0(x,x') + 1", 1, "unbalanced `(`"),
        ("K0(x,x') + 1)", 13, "unbalanced `)`"),
        ("foo(K0(x,x'))", 1, "unknown function `foo`"),
        ("sqrt(1, 2)", 1, "takes 1 argument, got 2"),
        ("max(1)", 1, "takes 2 arguments, got 1"),
        ("2*beta", 3, "unknown symbol `beta`"),
        ("", 1, "empty formula"),
        ("K0(x,y)", 6, "a kernel argument is x or x'"),
        ("1 + * 2", 5, "unexpected `*`"),
        ("K0(x,x') ? 2", 10, "unexpected character ?"),
        ("K0[1*p,p'](x,x')", 4, "integer stride ≥ 2"),
        ("K0[(1,0)*p,p'](x,x')", 7, "integers ≥ 1, as in (1,2)*p"),
        ("K0[(1,2.5)*p,p'](x,x')", 7, "integers ≥ 1"),
        (
            "K0[(1,2 p,p'](x,x')",
            9,
            "expected `,` or `)` in the strides",
        ),
        ("K0[(1,2)p,p'](x,x')", 9, "`*` after the strides"),
    ];
    for (text, column, reason) in cases {
        let (c, msg) = parse_error(text);
        assert_eq!(c, column, "{text}: {msg}");
        assert!(msg.contains(reason), "{text}: {msg}");
        assert!(
            msg.starts_with(&format!("nngp formula, column {column}: ")),
            "{msg}"
        );
        // the caret stands before the offending token
        let marked = msg.rsplit(": ").next().unwrap();
        let chars: Vec<char> = text.chars().collect();
        let before: String = chars[..(column - 1).min(chars.len())].iter().collect();
        assert!(marked.starts_with(&format!("{before}^")), "{msg}");
    }
}

#[test]
fn operators_follow_the_usual_precedence() {
    use eqntk::symbolic::SimpleEnv;
    let env = SimpleEnv::new();
    let cases = [
        ("-2^2", -4.0),
        ("2^-1", 0.5),
        ("1 - 2 - 3", -4.0),
        ("12/3/2", 2.0),
        ("2*3^2", 18.0),
        ("(1 + 2)*3", 9.0),
        ("min(1, 2) + max(1, 2)", 3.0),
        ("abs(-3) + log(exp(2)) + arctan(tan(0.5))", 5.5),
        ("1e-3*1e3 + .5", 1.5),
        ("cos(pi) + sin(pi/2)", 0.0),
    ];
    for (text, want) in cases {
        let got = parse_expr(text, &Names::new(), "test")
            .unwrap()
            .eval(&env)
            .unwrap();
        assert!(
            (got - want).abs() < 1e-14,
            "{text} = {got}, expected {want}"
        );
    }
}
