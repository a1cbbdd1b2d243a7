//! `eqntk kernel --orbit GROUP` end to end, and bad group-layer input as one-line errors with
//! exit code 2.

use crate::common;

use common::cli::{data, eqntk, fails, file, s};
use common::normal_batch as batch;
use std::path::Path;

use eqntk::orbit::orbit_kernel;
use eqntk::Network;

fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = eqntk(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

const W: &str = "w_std = 1.4\nb_std = 0.2\n";

fn mlp(shape: &[usize]) -> String {
    format!(
        "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n{W}\
         [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'dense'\n{W}"
    )
}

/// The same network on planar point sets `[P, 2]` (declared: they are never the default).
fn points(net: &str) -> String {
    net.replacen("]\n", "]\ndomain = 'points'\n", 1)
}

fn cnn(h: usize) -> String {
    format!(
        "[input]\nshape = [{h}, {h}, 1]\n[[layers]]\nkind = 'conv'\nfilter = [3, 3]\n{W}\
         [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'global_avg_pool'\n\
         [[layers]]\nkind = 'dense'\n{W}"
    )
}

/// The JSON matrices equal the library's orbit average exactly (the JSON float round trip is
/// exact), and the orbit record says what was averaged.
#[test]
fn orbit_json_equals_the_library_orbit_average() {
    for (group, net_text, shape, samples) in [
        ("C3", mlp(&[6, 1]), vec![6, 1], Some(3)),
        ("D6", mlp(&[6, 1]), vec![6, 1], Some(12)),
        ("C4", mlp(&[3, 3, 1]), vec![3, 3, 1], Some(4)),
        ("D4", mlp(&[4, 4, 1]), vec![4, 4, 1], Some(8)),
        ("p4", cnn(3), vec![3, 3, 1], Some(36)),
        ("p4m", cnn(3), vec![3, 3, 1], Some(72)),
        ("SO2", points(&mlp(&[5, 2])), vec![5, 2], None),
        ("SO2", points(&mlp(&[3, 2])), vec![3, 2], None),
        ("SO2", mlp(&[3, 2]), vec![3, 2], None),
        ("O2", points(&mlp(&[3, 2])), vec![3, 2], None),
        ("C3", mlp(&[5, 2]), vec![5, 2], Some(3)),
        ("D3", points(&mlp(&[4, 2])), vec![4, 2], Some(6)),
    ] {
        let tag = format!("{group}-{}", shape.len());
        let net_path = file(&format!("{tag}.toml"), &net_text);
        let (x1, x2) = (batch(&shape, 2, 1), batch(&shape, 3, 2));
        let (p1, p2) = (
            data(&format!("{tag}-x1.npy"), &x1),
            data(&format!("{tag}-x2.npy"), &x2),
        );
        let v = json(&[
            "kernel",
            "--net",
            s(&net_path),
            "--x1",
            s(&p1),
            "--x2",
            s(&p2),
            "--orbit",
            group,
        ]);
        let net = Network::from_toml_str(&net_text, "n").unwrap();
        let spec = eqntk::action::InputGroup::parse(group).unwrap();
        let want = orbit_kernel(&net, &x1, Some(&x2), spec, 1e-12).unwrap();
        for i in 0..2 {
            for j in 0..3 {
                assert_eq!(
                    v["nngp"][i][j].as_f64().unwrap(),
                    want.nngp[(i, j)],
                    "{group}"
                );
                assert_eq!(
                    v["ntk"][i][j].as_f64().unwrap(),
                    want.ntk[(i, j)],
                    "{group}"
                );
            }
        }
        assert_eq!(v["orbit"]["group"], group);
        let n = v["orbit"]["samples"].as_u64().unwrap() as usize;
        let est = v["orbit"]["error_estimate"].as_f64().unwrap();
        match samples {
            Some(k) => assert!(n == k && est == 0.0, "{group}: {n} samples, estimate {est}"),
            None => assert!(
                n >= 8 && est <= 1e-12,
                "{group}: {n} samples, estimate {est}"
            ),
        }
    }
}

/// Result A through the command line: the p4 G-CNN's kernel equals `--orbit p4` of the CNN.
#[test]
fn gcnn_kernel_equals_the_orbit_averaged_cnn_from_the_command_line() {
    let gcnn = file(
        "p4-gcnn.toml",
        &format!(
            "[input]\nshape = [4, 4, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'p4'\nfilter = [3, 3]\n\
             {W}[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_pool'\n\
             [[layers]]\nkind = 'dense'\n{W}"
        ),
    );
    let plain = file("p4-cnn.toml", &cnn(4));
    let x = data("p4-x.npy", &batch(&[4, 4, 1], 3, 3));
    let a = json(&["kernel", "--net", s(&gcnn), "--x1", s(&x)]);
    let b = json(&["kernel", "--net", s(&plain), "--x1", s(&x), "--orbit", "p4"]);
    assert!(a.get("orbit").is_none());
    for key in ["nngp", "ntk"] {
        for i in 0..3 {
            for j in 0..3 {
                let (u, v) = (
                    a[key][i][j].as_f64().unwrap(),
                    b[key][i][j].as_f64().unwrap(),
                );
                assert!(
                    (u - v).abs() <= 1e-12 * v.abs(),
                    "{key}[{i},{j}]: {u} vs {v}"
                );
            }
        }
    }
}

#[test]
fn orbit_tolerance_and_table_output() {
    let net = file("so2.toml", &mlp(&[7, 1]));
    let x = data("so2-x.npy", &batch(&[7, 1], 2, 4));
    let loose = json(&[
        "kernel",
        "--net",
        s(&net),
        "--x1",
        s(&x),
        "--orbit",
        "SO2",
        "--orbit-tol",
        "1e-3",
    ]);
    let tight = json(&["kernel", "--net", s(&net), "--x1", s(&x), "--orbit", "SO2"]);
    let (nl, nt) = (
        loose["orbit"]["samples"].as_u64().unwrap(),
        tight["orbit"]["samples"].as_u64().unwrap(),
    );
    assert!(
        nl < nt,
        "a looser tolerance needs fewer angles: {nl} vs {nt}"
    );
    assert!(loose["orbit"]["error_estimate"].as_f64().unwrap() <= 1e-3);
    assert!(tight["orbit"]["error_estimate"].as_f64().unwrap() <= 1e-12);
    let (code, out, err) = eqntk(&[
        "kernel",
        "--net",
        s(&net),
        "--x1",
        s(&x),
        "--orbit",
        "C7",
        "--format",
        "table",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("NNGP"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("orbit average over C7 (7 samples, error estimate 0.0e0)"),
        "{out}"
    );
}

#[test]
fn bad_orbit_arguments() {
    let net = file("bad-orbit.toml", &mlp(&[6, 1]));
    let x = data("bad-orbit-x.npy", &batch(&[6, 1], 2, 5));
    let img_net = file("bad-orbit-img.toml", &mlp(&[4, 4, 1]));
    let img = data("bad-orbit-img.npy", &batch(&[4, 4, 1], 2, 6));
    let rect_net = file("bad-orbit-rect.toml", &mlp(&[4, 5, 1]));
    let rect = data("bad-orbit-rect.npy", &batch(&[4, 5, 1], 2, 7));
    let k = |n: &Path, x: &Path, rest: &[&str]| {
        let mut a = vec!["kernel", "--net", s(n), "--x1", s(x)];
        a.extend_from_slice(rest);
        fails(&a.iter().map(|v| &**v).collect::<Vec<_>>())
    };
    let cases: Vec<(String, &[&str])> = vec![
        // An even-length signal cannot be rotated by arbitrary angles.
        (
            k(&net, &x, &["--orbit", "SO2"]),
            &["--orbit SO2", "odd-length"],
        ),
        // C4 divides 6 … but C5 does not.
        (
            k(&net, &x, &["--orbit", "C5"]),
            &["--orbit C5", "5 does not divide 6", "odd-length"],
        ),
        (
            k(&img_net, &img, &["--orbit", "C3"]),
            &["C3 does not act on image inputs", "C4, D4, p4, p4m"],
        ),
        (
            k(&rect_net, &rect, &["--orbit", "p4"]),
            &["--orbit p4", "square"],
        ),
        (
            k(&rect_net, &rect, &["--orbit", "D4"]),
            &["--orbit D4", "square"],
        ),
        (k(&net, &x, &["--orbit", "Q8"]), &["unknown group `Q8`"]),
        (
            k(&net, &x, &["--orbit", "SO2", "--orbit-tol", "0"]),
            &["--orbit-tol", "positive"],
        ),
        (
            k(&net, &x, &["--orbit", "SO2", "--orbit-tol", "nan"]),
            &["--orbit-tol", "positive"],
        ),
        (
            k(&net, &x, &["--orbit-tol", "1e-6"]),
            &["--orbit-tol needs --orbit"],
        ),
    ];
    for (msg, want) in cases {
        for w in want {
            assert!(msg.contains(w), "{msg:?} should mention {w:?}");
        }
    }
}

/// Network files whose group layers do not fit their input: one line naming the file, the
/// layer and the key.
#[test]
fn bad_group_layers() {
    let x_sig7 = data("bad-sig7.npy", &batch(&[7, 1], 2, 8));
    let x_sig6 = data("bad-sig6.npy", &batch(&[6, 1], 2, 9));
    let x_img = data("bad-img.npy", &batch(&[4, 4, 1], 2, 10));
    let x_rect = data("bad-rect.npy", &batch(&[4, 5, 1], 2, 11));
    let lift = |shape: &str, body: &str| {
        format!("[input]\nshape = {shape}\n[[layers]]\nkind = 'lift'\n{body}\n")
    };
    let pool = "[[layers]]\nkind = 'group_pool'\n";
    let cases: Vec<(&str, String, &Path, &[&str])> = vec![
        (
            "c3-image",
            lift("[4, 4, 1]", "group = 'C3'\nfilter = 'full'") + pool,
            &x_img,
            &["layers[0] (lift)", "`group`", "C3", "[4, 4]"],
        ),
        (
            "p4-rect",
            lift("[4, 5, 1]", "group = 'p4'\nfilter = [3, 3]") + pool,
            &x_rect,
            &["layers[0] (lift)", "`group`", "p4", "square"],
        ),
        (
            "d5-seven",
            lift("[7, 1]", "group = 'D5'\nfilter = 'full'") + pool,
            &x_sig7,
            &["layers[0] (lift)", "`group`", "D5", "7 samples"],
        ),
        (
            "cn-same",
            lift("[6, 1]", "group = 'C6'\nfilter = 'full'\npadding = 'same'") + pool,
            &x_sig6,
            &["layers[0] (lift)", "`padding`", "circular"],
        ),
        (
            "gconv-first",
            "[input]\nshape = [6, 1]\n[[layers]]\nkind = 'group_conv'\n[[layers]]\n\
             kind = 'group_pool'\n"
                .into(),
            &x_sig6,
            &["layers[0] (group_conv)", "lift"],
        ),
        (
            "gpool-first",
            "[input]\nshape = [6, 1]\n[[layers]]\nkind = 'group_pool'\n[[layers]]\n\
             kind = 'dense'\n"
                .into(),
            &x_sig6,
            &["layers[0] (group_pool)", "lift"],
        ),
        (
            "support-range",
            lift("[6, 1]", "group = 'D3'\nfilter = 'full'")
                + "[[layers]]\nkind = 'group_conv'\nsupport = [0, 6]\n"
                + pool,
            &x_sig6,
            &["layers[1] (group_conv)", "`support`", "6"],
        ),
        (
            "p4-support-range",
            lift("[4, 4, 1]", "group = 'p4'\nfilter = [3, 3]")
                + "[[layers]]\nkind = 'group_conv'\nfilter = [3, 3]\nsupport = [4]\n"
                + pool,
            &x_img,
            &["layers[1] (group_conv)", "`support`", "4"],
        ),
        (
            "conv-after-lift",
            lift("[4, 4, 1]", "group = 'p4'\nfilter = [3, 3]")
                + "[[layers]]\nkind = 'conv'\nfilter = [3, 3]\n"
                + pool,
            &x_img,
            &["layers[1] (conv)", "group_conv"],
        ),
        (
            "so2-lift-even",
            lift("[6, 1]", "group = 'SO2'\nfilter = 'full'") + pool,
            &x_sig6,
            &["layers[0] (lift)", "SO2"],
        ),
    ];
    for (name, text, x, want) in cases {
        let path = file(&format!("{name}.toml"), &text);
        let msg = fails(&["kernel", "--net", s(&path), "--x1", s(x)]);
        assert!(msg.contains(&format!("{name}.toml")), "{name}: {msg}");
        for w in want {
            assert!(msg.contains(w), "{name}: {msg:?} should mention {w:?}");
        }
    }
}
