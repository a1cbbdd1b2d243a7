//! `derive --format sympy`: the exported script, run line by line by the crate's own parser (the
//! Python spellings mapped back: `**` → `^`, `Rational(p, q)` → `(p/q)`, `acos` → `arccos`, …),
//! gives the fast kernel's numbers; networks it cannot write are one-line errors.

use crate::common;

use common::normal_batch;
use eqntk::symbolic::{canonical_param, derive_network, parse_expr, to_sympy, Names, SimpleEnv};
use eqntk::Network;

/// The script's names with the kernel prefixes changed (`K1_xy` → `kk1_xy`), so that the
/// formula parser reads them as plain names rather than kernel symbols.
fn rename(e: &str) -> String {
    let b = e.as_bytes();
    let mut out = String::new();
    for (i, c) in e.char_indices() {
        let word_start = i == 0 || !(b[i - 1] as char).is_ascii_alphanumeric() && b[i - 1] != b'_';
        if c == 'K' && word_start && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            out.push_str("kk");
        } else {
            out.push(c);
        }
    }
    out.replace("Theta", "th")
}

/// The Python expression in the crate's formula syntax.
fn from_python(e: &str) -> String {
    let mut s = rename(e).replace("**", "^");
    for (py, ours) in [
        ("acos(", "arccos("),
        ("asin(", "arcsin("),
        ("atan(", "arctan("),
        ("Abs(", "abs("),
        ("Min(", "min("),
        ("Max(", "max("),
    ] {
        s = s.replace(py, ours);
    }
    while let Some(i) = s.find("Rational(") {
        let close = i + s[i..].find(')').unwrap();
        let inner = s[i + 9..close].replace(", ", "/");
        s = format!("{}({inner}){}", &s[..i], &s[close + 1..]);
    }
    s
}

/// Runs the assignments of `script` with the input kernels and parameter values given; returns
/// `(nngp, ntk)`.
fn run(script: &str, k0: [f64; 3]) -> (f64, f64) {
    let mut values = std::collections::BTreeMap::new();
    for (n, v) in ["K0_xx", "K0_xy", "K0_yy"].iter().zip(k0) {
        values.insert(rename(n), v);
    }
    let vline = script
        .lines()
        .find(|l| l.starts_with("values = {"))
        .unwrap();
    for pair in vline["values = {".len()..vline.len() - 1].split(", ") {
        let (n, v) = pair.split_once(": ").unwrap();
        values.insert(n.to_string(), v.parse().unwrap());
    }
    for line in script.lines() {
        let Some((lhs, rhs)) = line.split_once(" = ") else {
            continue;
        };
        if line.starts_with('#') || lhs.contains(',') || lhs == "values" {
            continue;
        }
        let e = parse_expr(&from_python(rhs), &Names::open(), lhs)
            .unwrap_or_else(|err| panic!("{line}: {err}"));
        let env = values.iter().fold(SimpleEnv::new(), |env, (n, v)| {
            env.with_param(canonical_param(n), *v)
        });
        values.insert(rename(lhs), e.eval(&env).unwrap());
    }
    (values["nngp"], values["ntk"])
}

#[test]
fn the_exported_script_computes_the_kernel() {
    for act in ["relu", "erf", "abs", "gelu", "sign", "identity"] {
        let net = Network::from_toml_str(
            &format!(
                "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\nw_std = 1.5\nb_std = 0.2\n\
                 [[layers]]\nkind = '{act}'\n[[layers]]\nkind = 'dense'\nw_std = 1.3\n\
                 b_std = 0.1\n[[layers]]\nkind = 'erf'\n[[layers]]\nkind = 'dense'\nw_std = 1.2\n"
            ),
            "net.toml",
        )
        .unwrap();
        let script = to_sympy(&derive_network(&net).unwrap(), "net").unwrap();
        assert!(script.contains("from sympy import") && script.contains("\nnngp = K5_xy\n"));
        let x = normal_batch(&[3], 2, 3);
        let k = net.kernel(&x, None).unwrap();
        let (kn, kt) = (k.nngp().unwrap(), k.ntk().unwrap());
        let dot = |a: usize, b: usize| {
            (0..3)
                .map(|c| x.example(a)[c] * x.example(b)[c])
                .sum::<f64>()
                / 3.0
        };
        let (nngp, ntk) = run(&script, [dot(0, 0), dot(0, 1), dot(1, 1)]);
        // 1e-8, not 1e-12: on the diagonal the printed closed forms take arccos of
        // K/√(K·K), which rounding puts a hair below 1, where arccos has an infinite slope
        // (the fast kernel clamps ρ = 1 there); the formula claims use the same tolerance
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
        assert!(
            rel(nngp, kn[(0, 1)]) <= 1e-8,
            "{act}: nngp {nngp} vs {}",
            kn[(0, 1)]
        );
        assert!(
            rel(ntk, kt[(0, 1)]) <= 1e-8,
            "{act}: ntk {ntk} vs {}",
            kt[(0, 1)]
        );
    }
}

#[test]
fn networks_the_export_cannot_write_are_one_line_errors() {
    for (toml, needle) in [
        (
            "[input]\nshape = [4, 2]\n[[layers]]\nkind = 'conv'\nfilter = [3]\n\
             padding = 'circular'\n[[layers]]\nkind = 'global_avg_pool'\n",
            "site indices",
        ),
        (
            "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\n[[layers]]\nkind = 'tanh'\n",
            "closed form",
        ),
    ] {
        let net = Network::from_toml_str(toml, "net.toml").unwrap();
        let e = to_sympy(&derive_network(&net).unwrap(), "net")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--format sympy") && e.contains(needle) && !e.contains('\n'),
            "{e}"
        );
    }
    let file = common::cli::file(
        "tanh_sympy.toml",
        "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\n[[layers]]\nkind = 'tanh'\n",
    );
    common::cli::fails(&[
        "derive",
        "--net",
        common::cli::s(&file),
        "--format",
        "sympy",
    ]);
}
