//! Formula claims: hand-written closed forms pass, the same with a wrong constant, a wrong power
//! or a missing term fail with their discrepancy, and an edited recursion fails naming the
//! definition that was changed.

use eqntk::verify::{verify_file, Verdict};

use crate::common::cli;

const RELU1: &str = r#"
[networks.net]
input = { shape = [4] }
layers = [
  { kind = "dense", w_std = 1.5, b_std = 0.1 },
  { kind = "relu" },
  { kind = "dense", w_std = 0.9, b_std = 0.3 },
]
[inputs.x]
seed = 5
shape = [4]
count = 3
"#;

const K12: &str = r#"where = """
k11 = sigma_w1^2*K0(x,x) + sigma_b1^2
k22 = sigma_w1^2*K0(x',x') + sigma_b1^2
k12 = sigma_w1^2*K0(x,x') + sigma_b1^2
theta = arccos(k12/sqrt(k11*k22))
""""#;

/// The outcome of one formula claim on RELU1 (or `net`): `(verdict, discrepancy, measure)`.
fn outcome(net: &str, claim: &str) -> (Verdict, f64, String) {
    let text = format!(
        "title = \"t\"\n{net}\n[[claims]]\nname = \"c\"\nkind = \"formula\"\nnetwork = \"net\"\nx1 = \"x\"\n{claim}\n"
    );
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = cli::file(&format!("formula_{n}.toml"), &text);
    let report = verify_file(&path).unwrap();
    let r = &report.results[0];
    match &r.outcome {
        Ok(o) => (r.verdict, o.discrepancy, o.measure.clone()),
        Err(e) => panic!("{claim}: {e}"),
    }
}

const NNGP: &str = "sigma_w3^2*(sqrt(k11*k22 - k12^2) + (pi - theta)*k12)/(2*pi) + sigma_b3^2";
const NTK: &str = "sigma_w3^2*k12*(pi - theta)/(2*pi) + sigma_w3^2*(sqrt(k11*k22 - k12^2) + (pi - theta)*k12)/(2*pi) + sigma_b3^2";

#[test]
fn the_arc_cosine_closed_form_passes_and_is_symbolically_the_derivation() {
    let (v, d, m) = outcome(RELU1, &format!("nngp = \"{NNGP}\"\nntk = \"{NTK}\"\n{K12}"));
    assert_eq!(v, Verdict::Pass, "{m}: {d}");
    assert!(d < 1e-13, "{d}");
    assert!(
        m.contains("K: symbolically equal") && m.contains("Θ: symbolically equal"),
        "{m}"
    );
}

#[test]
fn a_wrong_constant_a_wrong_power_or_a_missing_term_fails() {
    let wrong = [
        // 2π → 3π
        NNGP.replace("/(2*pi)", "/(3*pi)"),
        // k12 → k12^2 in the angular term
        NNGP.replace("(pi - theta)*k12", "(pi - theta)*k12^2"),
        // the bias of the readout left out
        NNGP.replace(" + sigma_b3^2", ""),
        // a small constant: the bias doubled
        NNGP.replace("sigma_b3^2", "2*sigma_b3^2"),
    ];
    for f in wrong {
        let (v, d, m) = outcome(RELU1, &format!("nngp = \"{f}\"\n{K12}"));
        assert_eq!(v, Verdict::Fail, "{f}: {m} = {d}");
        assert!(d > 1e-3, "{f}: {d}");
        assert!(m.contains("not shown equal"), "{m}");
    }
    // the NTK without its K term
    let (v, d, _) = outcome(
        RELU1,
        &format!("ntk = \"sigma_w3^2*k12*(pi - theta)/(2*pi)\"\n{K12}"),
    );
    assert_eq!(v, Verdict::Fail);
    assert!(d > 0.1, "{d}");
}

#[test]
fn the_erf_closed_form_passes() {
    let net = RELU1.replace("\"relu\"", "\"erf\"");
    let erf = "sigma_w3^2*(2/pi)*arcsin(2*k12/sqrt((1 + 2*k11)*(1 + 2*k22))) + sigma_b3^2";
    let (v, d, m) = outcome(&net, &format!("nngp = \"{erf}\"\n{K12}"));
    assert_eq!(v, Verdict::Pass, "{m}: {d}");
    // the Erf kernel with the arc-cosine formula is wrong
    let (v, _, _) = outcome(&net, &format!("nngp = \"{NNGP}\"\n{K12}"));
    assert_eq!(v, Verdict::Fail);
}

#[test]
fn a_numeric_polynomial_passes_by_its_numbers() {
    let net = RELU1.replace("\"relu\"", "\"identity\"");
    // K = σ_w3² (σ_w1² K0 + σ_b1²) + σ_b3² with the values 0.81·(2.25 K0 + 0.01) + 0.09
    let (v, d, m) = outcome(&net, "nngp = \"1.8225*K0(x,x') + 0.0981\"");
    assert_eq!(v, Verdict::Pass, "{m}: {d}");
    let (v, _, _) = outcome(&net, "nngp = \"1.8225*K0(x,x') + 0.0982\"");
    assert_eq!(v, Verdict::Fail);
}

/// The printed recursion of a CNN with one definition changed names that definition.
#[test]
fn an_edited_recursion_names_the_changed_definition() {
    let net = r#"
[networks.net]
input = { shape = [5, 2] }
layers = [
  { kind = "conv", filter = [3], padding = "circular", w_std = 1.3, b_std = 0.2 },
  { kind = "relu" },
  { kind = "conv", filter = [3], padding = "same", w_std = 1.1 },
  { kind = "relu" },
  { kind = "global_avg_pool" },
  { kind = "dense", w_std = 0.9, b_std = 0.1 },
]
[inputs.x]
seed = 6
shape = [5, 2]
count = 2
"#;
    let toml = net
        .replace("[networks.net]\n", "")
        .replace("[inputs.x]\nseed = 6\nshape = [5, 2]\ncount = 2\n", "");
    let file = cli::file("formula_cnn_net.toml", &toml);
    let (code, printed, err) = cli::eqntk(&[
        "derive",
        "--net",
        file.to_str().unwrap(),
        "--format",
        "text",
    ]);
    assert_eq!(code, 0, "{err}");
    let (v, d, m) = outcome(net, &format!("definitions = \"\"\"\n{printed}\"\"\""));
    assert_eq!(v, Verdict::Pass, "{m}: {d}");
    let lines: Vec<&str> = printed.lines().collect();
    // change each kernel definition (not the where line) in turn: a scale of 1.01 on its rhs
    for (i, line) in lines.iter().enumerate() {
        let Some((lhs, rhs)) = line.split_once(" = ") else {
            continue;
        };
        if lhs.starts_with("where") {
            continue;
        }
        let rhs = rhs.split("    #").next().unwrap();
        let mut edited = lines.clone();
        let changed = format!("{lhs} = 1.01*({rhs})");
        edited[i] = &changed;
        let text = edited.join("\n");
        let (v, d, m) = outcome(net, &format!("definitions = \"\"\"\n{text}\n\"\"\""));
        // self-covariance-only definitions may not reach the output; every kernel here does
        assert_eq!(v, Verdict::Fail, "{lhs}: {m} = {d}");
        assert!(
            m.ends_with(&format!("first definition that differs: {lhs}")),
            "{lhs}: {m}"
        );
    }
}

#[test]
fn malformed_formula_claims_are_one_line_errors() {
    let cases = [
        ("nngp = \"K0(x,x') + (1\"", "column"),
        ("nngp = \"foo(K0(x,x'))\"", "unknown function `foo`"),
        (
            "nngp = \"K1(x,x')\"",
            "reads the input kernel K0(x,x') only",
        ),
        (
            "nngp = \"2*K0(x,x')\"\ndefinitions = \"K1(x,x') = K0(x,x')\"",
            "not both",
        ),
        ("x2 = \"x\"", "needs `nngp`, `ntk` or `definitions`"),
        (
            "definitions = \"K1(x,x') = sigma_w1^2*K0(x,x')\"",
            "does not define Theta1(x,x')",
        ),
    ];
    for (claim, want) in cases {
        let text = format!(
            "title = \"t\"\n{RELU1}\n[[claims]]\nname = \"c\"\nkind = \"formula\"\nnetwork = \"net\"\nx1 = \"x\"\n{claim}\n"
        );
        let path = cli::file("formula_bad.toml", &text);
        let (code, out, err) = cli::eqntk(&["verify", path.to_str().unwrap()]);
        let all = format!("{out}{err}");
        assert_ne!(code, 0, "{claim}");
        assert!(all.contains(want), "{claim}: {all}");
        // the reason stands on one line with what it names (a claim's error is reported with
        // the claim; a malformed claim file is an error of the file)
        let line = all.lines().find(|l| l.contains(want)).unwrap();
        assert!(line.contains("formula_bad.toml"), "{claim}: {line}");
    }
}
