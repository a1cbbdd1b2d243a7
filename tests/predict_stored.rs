//! `predict` from stored kernels (`--train-kernels`, `--test-kernels`, `--test-test-kernels`)
//! equals `predict` from the network, and its refusals.

use std::path::Path;

use crate::common::{self, cli};

#[test]
fn predict_from_stored_kernels_equals_predict_from_the_network() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let net = root.join("examples/cnn.toml");
    let n = eqntk::Network::from_file(&net).unwrap();
    let xtr = cli::data(
        "stored_xtr.npy",
        &common::normal_batch(n.input_shape(), 9, 1),
    );
    let xte = cli::data(
        "stored_xte.npy",
        &common::normal_batch(n.input_shape(), 4, 2),
    );
    let y = cli::file(
        "stored_y.json",
        "[[1, 0], [0, 1], [1, 1], [0, 0], [2, 1], [1, 2], [0, 3], [1, -1], [3, 0]]",
    );
    let d = cli::dir();
    let (p, q, r) = (
        d.join("stored_tt"),
        d.join("stored_xt"),
        d.join("stored_xx"),
    );
    for (x1, x2, out) in [(&xtr, None, &p), (&xte, Some(&xtr), &q), (&xte, None, &r)] {
        let mut a = vec![
            "kernel",
            "--net",
            cli::s(&net),
            "--x1",
            cli::s(x1),
            "--format",
            "npy",
            "--out",
            cli::s(out),
        ];
        if let Some(x2) = x2 {
            a.extend(["--x2", cli::s(x2)]);
        }
        let (code, _, err) = cli::eqntk(&a);
        assert_eq!(code, 0, "{err}");
    }
    let common_args = [
        "--y-train",
        cli::s(&y),
        "--time",
        "0,0.5,3,inf",
        "--cov",
        "--diag-reg",
        "1e-6",
    ];
    let mut direct = vec![
        "predict",
        "--net",
        cli::s(&net),
        "--x-train",
        cli::s(&xtr),
        "--x-test",
        cli::s(&xte),
    ];
    direct.extend(common_args);
    let mut stored = vec![
        "predict",
        "--train-kernels",
        cli::s(&p),
        "--test-kernels",
        cli::s(&q),
        "--test-test-kernels",
        cli::s(&r),
    ];
    stored.extend(common_args);
    let (c1, o1, e1) = cli::eqntk(&direct);
    let (c2, o2, e2) = cli::eqntk(&stored);
    assert_eq!((c1, c2), (0, 0), "{e1} {e2}");
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&o1).unwrap(),
        serde_json::from_str(&o2).unwrap(),
    );
    assert_eq!(a["time"], b["time"]);
    // the same numbers: the stored kernels are the network's to the last bit
    assert_eq!(a["mean"], b["mean"]);
    assert_eq!(a["cov"], b["cov"]);
    assert!(a["mean"][3][0][0].as_f64().unwrap().abs() > 1e-3);
}

#[test]
fn stored_kernels_are_checked() {
    let d = cli::dir();
    let w = |name: &str, shape: Vec<usize>| {
        let n: usize = shape.iter().product();
        eqntk::io::write_npy(
            &d.join(name),
            &eqntk::io::Array {
                shape,
                values: (0..n).map(|i| 1.0 + (i % 3) as f64).collect(),
            },
        )
        .unwrap();
    };
    w("bad_a.ntk.npy", vec![3, 3]);
    w("bad_a.nngp.npy", vec![3, 3]);
    w("bad_b.ntk.npy", vec![2, 4]);
    w("bad_b.nngp.npy", vec![2, 4]);
    w("bad_c.ntk.npy", vec![3, 2]);
    w("bad_c.nngp.npy", vec![3, 2]);
    let y = cli::file("bad_y.json", "[1, 2, 3]");
    let (a, b, c, none) = (
        d.join("bad_a"),
        d.join("bad_b"),
        d.join("bad_c"),
        d.join("none"),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--train-kernels", cli::s(&a), "--test-kernels", cli::s(&b)],
            "has shape [2, 4], expected [2, 3]",
        ),
        (
            vec!["--train-kernels", cli::s(&c), "--test-kernels", cli::s(&b)],
            "must be square",
        ),
        (vec!["--train-kernels", cli::s(&a)], "--test-kernels"),
        (
            vec![
                "--train-kernels",
                cli::s(&a),
                "--test-kernels",
                cli::s(&a),
                "--cov",
            ],
            "--test-test-kernels",
        ),
        (
            vec![
                "--train-kernels",
                cli::s(&a),
                "--test-kernels",
                cli::s(&a),
                "--net",
                "x.toml",
            ],
            "cannot be used with",
        ),
        (
            vec![
                "--train-kernels",
                cli::s(&none),
                "--test-kernels",
                cli::s(&a),
            ],
            "none.ntk.npy",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec!["predict", "--y-train", cli::s(&y)];
        args.extend(extra.iter().copied());
        let e = cli::fails(&args);
        assert!(e.contains(want), "{extra:?}: {e}");
    }
}
