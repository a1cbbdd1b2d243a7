//! The `eqntk` command end to end: outputs, and bad input as one-line errors with exit code 2.

use std::path::{Path, PathBuf};
use std::process::Command;

fn eqntk(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eqntk"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eqntk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs the command and checks it failed cleanly; returns the message.
fn fails(args: &[&str]) -> String {
    let (code, stdout, stderr) = eqntk(args);
    assert_eq!(code, 2, "{args:?}: stdout {stdout} stderr {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stdout.is_empty().then_some(()).expect("nothing on stdout");
    stderr
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn kernel_json_matches_the_library() {
    let (code, out, _) = eqntk(&[
        "kernel",
        "--net",
        "examples/mlp.toml",
        "--x1",
        "examples/x_train.json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let net = eqntk::Network::from_file(Path::new("examples/mlp.toml")).unwrap();
    let x = eqntk::io::read_batch(Path::new("examples/x_train.json")).unwrap();
    let k = net.kernel(&x, None).unwrap();
    let (nngp, ntk) = (k.nngp().unwrap(), k.ntk().unwrap());
    for i in 0..6 {
        for j in 0..6 {
            assert_eq!(v["nngp"][i][j].as_f64().unwrap(), nngp[(i, j)]);
            assert_eq!(v["ntk"][i][j].as_f64().unwrap(), ntk[(i, j)]);
        }
    }
}

#[test]
fn predict_json_has_time_mean_and_cov() {
    let (code, out, err) = eqntk(&[
        "predict",
        "--net",
        "examples/mlp.toml",
        "--x-train",
        "examples/x_train.json",
        "--y-train",
        "examples/y_train.json",
        "--x-test",
        "examples/x_train.json",
        "--time",
        "0,1,inf",
        "--cov",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["time"][2], "inf");
    let y: Vec<f64> =
        serde_json::from_str(&std::fs::read_to_string("examples/y_train.json").unwrap()).unwrap();
    // t = 0: the mean is zero; t = ∞ on the training inputs: the targets.
    for i in 0..6 {
        assert_eq!(v["mean"][0][i][0].as_f64().unwrap(), 0.0);
        assert!((v["mean"][2][i][0].as_f64().unwrap() - y[i]).abs() < 1e-8);
    }
    assert_eq!(v["cov"].as_array().unwrap().len(), 3);
}

#[test]
fn npy_output_writes_two_files() {
    let dir = std::env::temp_dir().join(format!("eqntk-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("k");
    let (code, out, err) = eqntk(&[
        "kernel",
        "--net",
        "examples/cnn.toml",
        "--x1",
        "examples/images.json",
        "--format",
        "npy",
        "--out",
        p(&prefix),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let a = eqntk::io::read_array(&dir.join("k.nngp.npy")).unwrap();
    assert_eq!(a.shape, vec![3, 3]);
    assert!(dir.join("k.ntk.npy").exists());
}

const MLP: &str = "[input]\nshape = [4]\n[[layers]]\nkind = \"dense\"\n[[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"dense\"\n";

#[test]
fn bad_network_files() {
    let x = "examples/x_train.json";
    let cases: &[(&str, &str, &[&str])] = &[
        ("malformed.toml", "[input\nshape = [4]", &["malformed.toml", "line 1", "invalid TOML"]),
        ("kind.toml", "[input]\nshape=[4]\n[[layers]]\nkind='densee'\n", &["layers[0]", "unknown layer kind \"densee\""]),
        ("key.toml", "[input]\nshape=[4]\n[[layers]]\nkind='dense'\nw_sd=1.0\n", &["layers[0] (dense)", "unknown key `w_sd`"]),
        ("conv_vec.toml", "[input]\nshape=[4]\n[[layers]]\nkind='conv'\nfilter=[3]\n", &["layers[0] (conv)", "grid input"]),
        ("valid.toml", "[input]\nshape=[2,2,1]\n[[layers]]\nkind='conv'\nfilter=[3,3]\npadding='valid'\n", &["layers[0] (conv)", "larger than the grid"]),
        ("zero.toml", "[input]\nshape=[5,5,1]\n[[layers]]\nkind='conv'\nfilter=[0,2]\n", &["layers[0] (conv)", "`filter` must be a list of positive integers"]),
        ("noinput.toml", "[[layers]]\nkind='relu'\n", &["missing table [input]"]),
        ("wstd.toml", "[input]\nshape=[4]\n[[layers]]\nkind='dense'\nw_std='big'\n", &["`w_std` must be a finite number"]),
        ("neg.toml", "[input]\nshape=[4]\n[[layers]]\nkind='dense'\nb_std=-1\n", &["`b_std` must be ≥ 0"]),
        ("leaky.toml", "[input]\nshape=[4]\n[[layers]]\nkind='leaky_relu'\n", &["layers[0] (leaky_relu)", "missing key `alpha`"]),
        ("std.toml", "[input]\nshape=[4]\n[[layers]]\nkind='dense'\n[[layers]]\nkind='dense'\nparameterization='standard'\n", &["layers[1] (dense)", "fan-in"]),
    ];
    for (name, text, needles) in cases {
        let f = tmp(name, text);
        let msg = fails(&["kernel", "--net", p(&f), "--x1", x]);
        for n in *needles {
            assert!(msg.contains(n), "{name}: {msg} lacks {n}");
        }
    }
    let msg = fails(&["kernel", "--net", "no/such/net.toml", "--x1", x]);
    assert!(msg.contains("no/such/net.toml"));
}

#[test]
fn bad_arrays() {
    let net = tmp("mlp.toml", MLP);
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "shape.json",
            "[[1, 2, 3], [4, 5, 6]]",
            &["shape [3]", "[4]"],
        ),
        ("nan.npy", "", &["nan.npy"]),
        ("empty.json", "[]", &["empty.json"]),
        ("ragged.json", "[[1, 2, 3, 4], [1, 2]]", &["ragged.json"]),
        (
            "text.json",
            "[[1, 2, \"a\", 4]]",
            &["text.json", "not a number"],
        ),
    ];
    for (name, text, needles) in cases {
        let f = if *name == "nan.npy" {
            let path = std::env::temp_dir()
                .join(format!("eqntk-cli-{}", std::process::id()))
                .join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let a = eqntk::io::Array {
                shape: vec![2, 4],
                values: vec![1.0, 2.0, 3.0, 4.0, 0.0, f64::NAN, 1.0, 1.0],
            };
            // NaN cannot be written through Array::new, so write the file directly.
            write_npy_unchecked(&path, &a);
            path
        } else {
            tmp(name, text)
        };
        let msg = fails(&["kernel", "--net", p(&net), "--x1", p(&f)]);
        for n in *needles {
            assert!(msg.contains(n), "{name}: {msg} lacks {n}");
        }
    }
    // x1 and x2 with different channel counts.
    let x2 = tmp("x2.json", "[[1, 2, 3]]");
    let msg = fails(&[
        "kernel",
        "--net",
        p(&net),
        "--x1",
        "examples/x_train.json",
        "--x2",
        p(&x2),
    ]);
    assert!(msg.contains("x2"), "{msg}");
}

fn write_npy_unchecked(path: &Path, a: &eqntk::io::Array) {
    let mut bytes = Vec::new();
    let header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}",
        a.shape[0], a.shape[1]
    );
    let mut h = header.into_bytes();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(h.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&h);
    for v in &a.values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn bad_prediction_arguments() {
    let base = [
        "predict",
        "--net",
        "examples/mlp.toml",
        "--x-train",
        "examples/x_train.json",
        "--y-train",
        "examples/y_train.json",
        "--x-test",
        "examples/x_test.json",
    ];
    for (extra, needle) in [
        (&["--time=-1"][..], "time"),
        (&["--time", "1,nan"][..], "time"),
        (&["--time", "soon"][..], "time"),
        (&["--learning-rate", "0"][..], "learning"),
        (&["--diag-reg=-1"][..], "diag"),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let msg = fails(&args);
        assert!(msg.to_lowercase().contains(needle), "{msg}");
    }
    let y = tmp("y.json", "[1, 2, 3]");
    let args: Vec<&str> = [
        "predict",
        "--net",
        "examples/mlp.toml",
        "--x-train",
        "examples/x_train.json",
        "--y-train",
        p(&y),
        "--x-test",
        "examples/x_test.json",
    ]
    .to_vec();
    let msg = fails(&args);
    assert!(msg.contains("3 targets for 6 training inputs"), "{msg}");
}
