//! The 3-D experiments on Lennard-Jones clusters: properties of their tables (flat SO3 curves,
//! finite groups approaching SO3, SO3 invariance at every training time).

use std::path::PathBuf;

use eqntk::experiment::{Experiment, RunContext};
use eqntk::report::{Cell, Table};

fn table(text: &str, stem: &str) -> Table {
    let ctx = RunContext {
        base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("experiments"),
        progress: false,
    };
    let report = Experiment::from_toml_str(text, "inline")
        .unwrap()
        .run(&ctx)
        .unwrap();
    report
        .tables
        .into_iter()
        .find(|(s, _)| s == stem)
        .unwrap()
        .1
}

/// A float cell; errors below the table's floor (`<1e-12`) read as 0.
fn value(c: &Cell) -> f64 {
    match c {
        Cell::Float(v) => *v,
        Cell::Int(v) => *v as f64,
        Cell::Text(t) if t == "<1e-12" => 0.0,
        other => panic!("not a number: {other:?}"),
    }
}

fn column(t: &Table, j: usize) -> Vec<f64> {
    t.rows.iter().map(|r| value(&r[j])).collect()
}

/// (max − min) / max |·| of a curve.
fn spread(v: &[f64]) -> f64 {
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    (hi - lo) / v.iter().fold(0.0_f64, |m, x| m.max(x.abs()))
}

#[test]
fn so3_orbit_is_flat_for_so3_only() {
    let t = table(
        r#"
        kind = "so3_orbit"
        title = "orbit"
        net = "nets/points3_mlp.toml"
        atoms = 4
        train = 4
        seed = 2
        groups = ["none", "O", "I", "SO3"]
        angles = 25
        time = inf
        "#,
        "so3_orbit",
    );
    let (none, o, i, so3) = (
        spread(&column(&t, 1)),
        spread(&column(&t, 2)),
        spread(&column(&t, 3)),
        spread(&column(&t, 4)),
    );
    assert!(so3 <= 1e-8, "SO3 curve spread {so3:e}");
    assert!(none > 1e-3, "unaugmented curve spread {none:e}");
    assert!(
        o > 1e-8 && i > 1e-8,
        "finite groups are not SO3: {o:e}, {i:e}"
    );
    // the curve starts and ends at the same input (α = 0 and 2π)
    let first = &t.rows[0];
    let last = &t.rows[t.rows.len() - 1];
    for j in 1..5 {
        assert!((value(&first[j]) - value(&last[j])).abs() < 1e-9 * value(&first[j]).abs());
    }
}

#[test]
fn finite_groups_approach_so3() {
    let t = table(
        r#"
        kind = "so3_convergence"
        title = "O, I to SO3"
        atoms = 4
        train = 4
        test = 3
        seed = 5
        groups = ["O", "I"]
        rotations = 6
        time = 10.0
        [[nets]]
        name = "ReLU MLP"
        path = "nets/points3_mlp.toml"
        "#,
        "so3_convergence",
    );
    let (gap, inv) = (column(&t, 4), column(&t, 5));
    assert!(
        gap[1] < gap[0],
        "distance from SO3: O {:e}, I {:e}",
        gap[0],
        gap[1]
    );
    assert!(
        inv[1] < inv[0],
        "SO3 invariance: O {:e}, I {:e}",
        inv[0],
        inv[1]
    );
    assert!(gap[1] > 0.0 && inv[1] > 0.0, "I is not all of SO3");
}

#[test]
fn so3_augmentation_is_invariant_at_every_time() {
    let t = table(
        r#"
        kind = "so3_invariance_vs_time"
        title = "LJ"
        atoms = 4
        train = 4
        test = 2
        seed = 1
        groups = ["none", "I", "SO3"]
        rotations = 4
        times = [0.1, 10.0, 1000.0, inf]
        [[nets]]
        name = "MLP"
        path = "nets/points3_mlp.toml"
        "#,
        "so3_invariance_vs_time",
    );
    assert_eq!(t.rows.len(), 12);
    for row in &t.rows {
        let (aug, err) = (&row[1], value(&row[4]));
        match aug {
            Cell::Text(g) if g == "SO3" => assert!(err <= 1e-8, "SO3 max error {err:e}"),
            Cell::Text(g) if g == "none" => assert!(err > 1e-2, "unaugmented error {err:e}"),
            _ => assert!(err > 1e-8, "I is finite: {err:e}"),
        }
    }
}

#[test]
fn bad_3d_experiments_are_one_line_errors() {
    let base = r#"
        kind = "so3_orbit"
        title = "orbit"
        net = "nets/points3_mlp.toml"
        atoms = 4
        train = 4
        seed = 2
        angles = 5
        time = inf
    "#;
    let e = Experiment::from_toml_str(&format!("{base}groups = [\"C4\"]"), "x.toml").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("groups") && msg.contains("C4") && !msg.contains('\n'),
        "{msg}"
    );
    let e = Experiment::from_toml_str(&format!("{base}groups = []"), "x.toml").unwrap_err();
    assert!(e.to_string().contains("groups"), "{e}");
    let e = Experiment::from_toml_str(
        &base
            .replace("atoms = 4", "atoms = 1")
            .replace("angles = 5", "angles = 5\ngroups = [\"O\"]"),
        "x.toml",
    )
    .unwrap_err();
    assert!(e.to_string().contains("atoms"), "{e}");
    // a planar network: the domain matches but the shape does not fit [P, 3]
    let ctx = RunContext {
        base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("experiments"),
        progress: false,
    };
    let e = Experiment::from_toml_str(
        &format!(
            "{}groups = [\"SO3\"]",
            base.replace("points3_mlp", "signal_mlp")
        ),
        "x.toml",
    )
    .unwrap()
    .run(&ctx)
    .unwrap_err();
    assert!(e.to_string().contains("domain"), "{e}");
    let e = Experiment::from_toml_str(
        r#"
        kind = "so3_convergence"
        title = "t"
        atoms = 4
        train = 4
        test = 3
        seed = 5
        groups = ["SO3"]
        rotations = 6
        time = 10.0
        [[nets]]
        name = "m"
        path = "nets/points3_mlp.toml"
        "#,
        "x.toml",
    )
    .unwrap_err();
    assert!(e.to_string().contains("finite"), "{e}");
}
