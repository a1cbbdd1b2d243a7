//! Snapshots of small tables produced by the experiment code (seeded, deterministic), and the
//! files an experiment writes.

use std::path::PathBuf;

use eqntk::experiment::{Experiment, RunContext};

fn ctx() -> RunContext {
    RunContext {
        base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("experiments"),
        progress: false,
    }
}

fn markdown(text: &str, stem: &str) -> String {
    let report = Experiment::from_toml_str(text, "inline")
        .unwrap()
        .run(&ctx())
        .unwrap();
    let (_, table) = report.tables.iter().find(|(s, _)| s == stem).unwrap();
    table.to_markdown().unwrap()
}

#[test]
fn so2_convergence_table() {
    let md = markdown(
        r#"
        kind = "so2_convergence"
        title = "C_k to SO(2)"
        points = 5
        train = 3
        test = 2
        seed = 3
        orders = [2, 8, 32]
        time = 10.0
        angles = 6
        [[nets]]
        name = "erf MLP"
        path = "nets/points_erf.toml"
        "#,
        "so2_convergence",
    );
    insta::assert_snapshot!(md);
}

#[test]
fn invariance_vs_time_table() {
    let md = markdown(
        r#"
        kind = "invariance_vs_time"
        title = "Ising 4x4, MLP"
        lattice = 4
        temperature = 5.0
        train = 3
        test = 2
        seed = 1
        group = "p4m"
        subgroups = ["p4"]
        times = [0.1, 100.0, inf]
        [[nets]]
        name = "MLP"
        path = "nets/ising_mlp.toml"
        [[nets]]
        name = "G-CNN (p4m)"
        path = "nets/ising_gcnn.toml"
        plain_only = true
        "#,
        "invariance_vs_time",
    );
    insta::assert_snapshot!(md);
}

#[test]
fn ensemble_width_table() {
    let md = markdown(
        r#"
        kind = "ensemble_size"
        title = "C4 vs width"
        net = "nets/signal_mlp.toml"
        samples = 8
        bandwidth = 3
        train = 3
        test = 2
        seed = 5
        group = "C4"
        subgroup = "C2"
        members = [1, 4]
        repeats = 2
        widths = [8, 32]
        time = 2.0
        steps_per_unit = 4.0
        "#,
        "ensemble_width",
    );
    insta::assert_snapshot!(md);
}

#[test]
fn experiment_writes_tables_and_plots() {
    let dir = std::env::temp_dir().join(format!("eqntk-exp-{}", std::process::id()));
    let written = Experiment::from_toml_str(
        r#"
        kind = "so2_orbit"
        title = "orbit"
        net = "nets/points_mlp.toml"
        points = 5
        train = 3
        seed = 2
        groups = ["C4", "SO2"]
        angles = 9
        time = inf
        "#,
        "inline",
    )
    .unwrap()
    .run(&ctx())
    .unwrap()
    .write(&dir)
    .unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "so2_orbit.md",
            "so2_orbit.tex",
            "so2_orbit.csv",
            "so2_orbit.svg"
        ]
    );
    assert!(std::fs::read_to_string(dir.join("so2_orbit.svg"))
        .unwrap()
        .contains("<svg"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_experiment_files_are_errors() {
    let e = Experiment::from_toml_str("kind = \"nope\"", "x.toml").unwrap_err();
    assert!(e.to_string().contains("x.toml"), "{e}");
    let e = Experiment::from_toml_str(
        "kind = \"so2_orbit\"\ntitle = \"t\"\nnet = \"n\"\npoints = 3\ntrain = 2\nseed = 1\ngroups = []\nangles = 4\ntime = nan\ncolour = 1",
        "y.toml",
    )
    .unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
    // A NaN time is refused when the file is read, naming the file and the key.
    let e = Experiment::from_toml_str(
        "kind = \"so2_orbit\"\ntitle = \"t\"\nnet = \"nets/points_mlp.toml\"\npoints = 5\ntrain = 2\nseed = 1\ngroups = [\"C4\"]\nangles = 4\ntime = nan",
        "z.toml",
    )
    .unwrap_err();
    let e = e.to_string();
    assert!(
        e.contains("z.toml") && e.contains("`time`") && e.contains("NaN"),
        "{e}"
    );
}
