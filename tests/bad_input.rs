//! Bad input never crashes, hangs or prints a silent NaN: every reproducer of the adversarial
//! run, as a one-line error with exit code 2 and nothing written that looks like a result.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `eqntk args` in the crate root under a memory limit, killing it after 120 s.
fn eqntk(args: &[&str]) -> Run {
    let start = Instant::now();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 6000000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_eqntk"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary runs");
    let out_pipe = child.stdout.take().unwrap();
    let err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(out_pipe).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(err_pipe).unwrap_or_default());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            panic!("{args:?} did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: start.elapsed(),
    }
}

/// Runs the command, checks that it failed cleanly (exit 2, one line `error: …` on stderr,
/// nothing on stdout) and that every needle is in the message; returns the message.
fn fails(args: &[&str], needles: &[&str]) -> String {
    let r = eqntk(args);
    assert_eq!(
        r.code,
        Some(2),
        "{args:?}: exit {:?}, stdout {}, stderr {}",
        r.code,
        r.stdout,
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "{args:?}: one line: {}",
        r.stderr
    );
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{args:?}: stdout {}", r.stdout);
    for n in needles {
        assert!(r.stderr.contains(n), "{args:?}: `{}` lacks `{n}`", r.stderr);
    }
    r.stderr
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("eqntk-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `bytes` to a fresh directory (tests run in parallel) as `name`.
fn file(name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = dir().join(format!("f{n}"));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const MLP: &str = "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\n[[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"dense\"\n";

fn x3() -> PathBuf {
    file("x3.json", "[[1, 2, 3], [0.5, -1, 2]]")
}

/// A `.npy` (version 1.0, little-endian f64) with the given header shape and data bytes.
fn npy(shape: &str, data: &[f64]) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    for v in data {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

// ---- unbounded sizes: panics before ----

#[test]
fn huge_filter_is_too_large() {
    let net = file(
        "filter.toml",
        "[input]\nshape = [5, 5, 1]\n[[layers]]\nkind = \"conv\"\nfilter = [3, 9223372036854775807]\n",
    );
    let x = file("img.json", "[[[[1],[1],[1],[1],[1]],[[1],[1],[1],[1],[1]],[[1],[1],[1],[1],[1]],[[1],[1],[1],[1],[1]],[[1],[1],[1],[1],[1]]]]");
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &["filter.toml", "layers[0] (conv)", "filter", "too large"],
    );
    // The same inside residual and parallel blocks (found by the long fuzz run: a panic), and
    // for windows and strides.
    for (middle, place) in [
        (
            "kind = \"residual\"\nblock = [{ kind = \"relu\" }, { kind = \"conv\", filter = [9223372036854775807, 3] }]",
            "layers[0].block[1] (conv): filter",
        ),
        (
            "kind = \"parallel\"\nbranches = [[], [{ kind = \"avg_pool\", window = [2, 99999999999] }]]",
            "layers[0].branches[1][0] (avg_pool): window",
        ),
        (
            "kind = \"conv\"\nfilter = [3, 3]\nstride = [1, 99999999999]",
            "layers[0] (conv): stride",
        ),
    ] {
        let net = file(
            "nested.toml",
            format!("[input]\nshape = [5, 5, 1]\n[[layers]]\n{middle}\n"),
        );
        fails(
            &["kernel", "--net", s(&net), "--x1", s(&x)],
            &["nested.toml", place, "too large"],
        );
    }
    // A filter whose sides are each within bounds but whose tap table over the grid is not
    // (found by the fuzz suite once even filters were accepted: an abort on a 61 GB allocation).
    let net = file(
        "wide.toml",
        "[input]\nshape = [5, 5, 1]\n[[layers]]\nkind = \"residual\"\n\
         block = [{ kind = \"relu\" }, { kind = \"conv\", filter = [3, 10000000] }]\n",
    );
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &[
            "wide.toml",
            "layers[0] (residual): block[1] (conv)",
            "the filter [3, 10000000] on the grid [5, 5]: output sites × taps",
            "too large",
        ],
    );
    // A tap table that fits, but whose taps make the kernel's work too large (the fuzz suite
    // again: a 90 s run); the work estimate counts a filter's taps.
    let net = file(
        "taps.toml",
        "[input]\nshape = [12, 12, 1]\n[[layers]]\nkind = \"residual\"\n\
         block = [{ kind = \"relu\" }, { kind = \"conv\", filter = [300000, 3] }]\n",
    );
    let row = format!("[{}]", ["[1]"; 12].join(","));
    let image = format!("[{}]", vec![row; 12].join(","));
    let x2 = file("img12.json", format!("[{image},{image}]"));
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x2)],
        &[
            "the work of the kernels of 2 × 2 examples",
            "too large",
            "--work",
        ],
    );
    // The same with a network that has a caveat (a block ending in an activation): a failing
    // command prints its error and not the warning; a succeeding one prints the warning.
    let warned = file(
        "warned.toml",
        "[input]\nshape = [12, 12, 1]\n[[layers]]\nkind = \"residual\"\n\
         block = [{ kind = \"conv\", filter = [300000, 3] }, { kind = \"relu\" }]\n",
    );
    fails(
        &["kernel", "--net", s(&warned), "--x1", s(&x2)],
        &["the work of the kernels", "too large"],
    );
    let small = file(
        "warned_small.toml",
        "[input]\nshape = [12, 12, 1]\n[[layers]]\nkind = \"residual\"\n\
         block = [{ kind = \"conv\", filter = [3, 3] }, { kind = \"relu\" }]\n\
         [[layers]]\nkind = \"global_avg_pool\"\n[[layers]]\nkind = \"dense\"\n",
    );
    let ok = eqntk(&["kernel", "--net", s(&small), "--x1", s(&x2)]);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    assert!(
        ok.stderr.starts_with("warning: ") && ok.stderr.contains("correlated"),
        "{}",
        ok.stderr
    );
}

#[test]
fn a_reader_closing_the_pipe_ends_the_program_quietly() {
    // found by the long fuzz run: `print!` panicked on a closed stdout
    let mut child = Command::new(env!("CARGO_BIN_EXE_eqntk"))
        .args(["group", "table", "SO2:1000", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn json_with_long_first_lists_reserves_nothing() {
    // Each first entry is a list of 1000 entries, the others are numbers: the shape read off the
    // first entries asks for 10¹⁸ values from a file of a few kilobytes.
    let mut text = String::from("0");
    for _ in 0..6 {
        text = format!("[{text}{}]", ",0".repeat(999));
    }
    let x = file("long.json", &text);
    let net = file("mlp.toml", MLP);
    fails(&["kernel", "--net", s(&net), "--x1", s(&x)], &["long.json"]);
    // A first entry promising more values than usize holds.
    let mut text = String::from("0");
    for _ in 0..7 {
        text = format!("[{text}{}]", ",0".repeat(999));
    }
    let x = file("longer.json", &text);
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &["longer.json"],
    );
}

#[test]
fn huge_groups_are_too_large() {
    for g in ["C9223372036854775807", "D99999", "C100000"] {
        fails(&["group", "table", g], &["too large", "65536"]);
        fails(&["group", "check", g], &["too large"]);
    }
    fails(
        &["group", "table", "SO2:1000000"],
        &["band limit", "too large"],
    );
    fails(
        &["group", "decompose", "D4", "image:65536"],
        &["memory budget", "--memory"],
    );
    // Within the order limit but over the memory budget: refused before allocating.
    fails(&["group", "table", "C65536"], &["memory budget"]);
    fails(&["group", "check", "C4096"], &["too large", "group check"]);
    fails(&["group", "check", "p4m:7"], &["too large", "group check"]);
    fails(
        &["group", "check", "SO2:4096"],
        &["band limit", "group check"],
    );
}

#[test]
fn huge_augmentation_groups_are_too_large() {
    let net = file(
        "sig.toml",
        "[input]\nshape = [4, 1]\n[[layers]]\nkind = \"dense\"\n",
    );
    let x = file("sig.json", "[[[1],[2],[3],[4]],[[0],[1],[0],[1]]]");
    let y = file("y2.json", "[1, 2]");
    for g in ["C9223372036854775807", "C100000"] {
        let r = fails(
            &[
                "predict",
                "--net",
                s(&net),
                "--x-train",
                s(&x),
                "--y-train",
                s(&y),
                "--x-test",
                s(&x),
                "--augment",
                g,
            ],
            &["too large"],
        );
        assert!(r.contains(g), "{r}");
    }
}

#[test]
fn huge_claim_inputs_are_too_large() {
    let net = "[networks.mlp]\ninput = { shape = [4] }\nlayers = [{ kind = \"dense\" }]\n";
    let claim = "[[claims]]\nkind = \"psd\"\nnet = \"mlp\"\nx = \"x\"\n";
    let cases = [
        (
            "shape.toml",
            "[inputs.x]\nseed = 1\nshape = [9223372036854775807, 3, 1]\ncount = 2\n",
            "too large",
        ),
        (
            "count.toml",
            "[inputs.x]\nseed = 1\nshape = [4]\ncount = 100000\n",
            "memory budget",
        ),
        (
            "count2.toml",
            "[inputs.x]\nseed = 1\nshape = [4]\ncount = 100000000\n",
            "too large",
        ),
    ];
    // The interpreter of a derivation is bounded too (a small x1 against a large x2).
    let gcnn = "[networks.gcnn]\ninput = { shape = [3, 3, 1] }\nlayers = [{ kind = \"lift\", group = \"C4\", filter = \"full\" }, { kind = \"relu\" }, { kind = \"group_conv\" }, { kind = \"relu\" }, { kind = \"group_pool\" }, { kind = \"dense\" }]\n";
    let d = dir().join("interpreter");
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("interp.toml");
    std::fs::write(
        &f,
        format!(
            "title = \"t\"\n{gcnn}[inputs.x]\nseed = 1\nshape = [3, 3, 1]\ncount = 2\n[inputs.y]\nseed = 2\nshape = [3, 3, 1]\ncount = 100000\n[[claims]]\nkind = \"kernel_equal\"\na = \"gcnn\"\nb = \"derivation\"\nx1 = \"x\"\nx2 = \"y\"\n"
        ),
    )
    .unwrap();
    let r = eqntk(&["verify", s(&f)]);
    assert_eq!(r.code, Some(1), "{} {}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("interpreting the derivation"),
        "{}",
        r.stdout
    );
    assert!(r.elapsed < Duration::from_secs(30), "{:?}", r.elapsed);
    for (name, inputs, needle) in cases {
        let d = dir().join(name.trim_end_matches(".toml"));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join(name);
        std::fs::write(&f, format!("title = \"t\"\n{net}{inputs}{claim}")).unwrap();
        let r = eqntk(&["verify", s(&f)]);
        assert_ne!(r.code, Some(0), "{name}: {}", r.stdout);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(r.stderr.lines().count() <= 1, "{}", r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(all.contains(needle), "{name}: {all}");
        assert!(!all.contains("NaN") && !all.contains("inf "), "{all}");
    }
}

#[test]
fn experiments_with_huge_counts_are_refused_before_running() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let cases = [
        (
            "c_ensemble_size.toml",
            "widths = [16, 64, 256]",
            "widths = [1000000000]",
            "`widths`",
        ),
        (
            "c_ensemble_size.toml",
            "members = [1, 2, 4, 8, 16, 32]",
            "members = [1000000000]",
            "`members`",
        ),
        (
            "c_ensemble_size.toml",
            "time = 5.0",
            "time = 1e308",
            "too large",
        ),
        (
            "b_so2_orbit.toml",
            "angles = 121",
            "angles = 100000000",
            "`angles`",
        ),
        // found by the long fuzz run: 10⁵ angles took over 30 s
        (
            "b_so2_orbit.toml",
            "angles = 121",
            "angles = 100000",
            "`angles`",
        ),
        (
            "d_monte_carlo.toml",
            "widths = [8, 32, 128, 512]",
            "widths = [1000000000]",
            "`widths`",
        ),
        (
            "d_monte_carlo.toml",
            "samples = 32",
            "samples = 1000000",
            "operations",
        ),
        (
            "a_invariance_vs_time.toml",
            "train = 8",
            "train = -8",
            "line 8: `train`",
        ),
    ];
    for (name, from, to, needle) in cases {
        let text = std::fs::read_to_string(src.join(name)).unwrap();
        assert!(text.contains(from), "{name} lacks {from}");
        let f = src.join(format!("bad-input-{}-{name}", std::process::id()));
        std::fs::write(&f, text.replace(from, to)).unwrap();
        let out = dir().join(format!("out-{}", to.len()));
        let r = eqntk(&["experiment", s(&f), "--out", s(&out)]);
        std::fs::remove_file(&f).ok();
        assert_eq!(r.code, Some(2), "{to}: {} {}", r.stdout, r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(needle), "{to}: {}", r.stderr);
        assert!(r.stdout.is_empty());
        assert!(!out.exists(), "{to}: an output directory was written");
        assert!(r.elapsed < Duration::from_secs(20), "{to}: {:?}", r.elapsed);
    }
}

// ---- memory budget ----

#[test]
fn memory_budget_is_an_option() {
    let net = file("mlp.toml", MLP);
    let x = x3();
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x), "--memory", "64"],
        &["would need", "memory budget is 64 B", "--memory"],
    );
    fails(
        &[
            "kernel",
            "--net",
            s(&net),
            "--x1",
            s(&x),
            "--memory",
            "lots",
        ],
        &["--memory", "512M"],
    );
    let ok = eqntk(&[
        "kernel",
        "--net",
        s(&net),
        "--x1",
        s(&x),
        "--memory",
        "512M",
    ]);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
}

// ---- finite results ----

#[test]
fn huge_scales_are_refused_when_read() {
    let x = x3();
    for key in ["w_std = 1e200", "b_std = 1e200"] {
        let net = file(
            "scale.toml",
            format!("[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\n{key}\n"),
        );
        fails(
            &["kernel", "--net", s(&net), "--x1", s(&x)],
            &[
                "layers[0] (dense)",
                key.split(" =").next().unwrap(),
                "1e200",
                "too large",
            ],
        );
    }
    let net = file(
        "alpha.toml",
        "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\n[[layers]]\nkind = \"leaky_relu\"\nalpha = 1e154\n",
    );
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &["layers[1] (leaky_relu)", "alpha", "1e154"],
    );
}

#[test]
fn overflowing_kernels_name_the_layer_and_the_parameter() {
    let x = x3();
    let net = file(
        "deep.toml",
        "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\nw_std = 1e100\n[[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"dense\"\nw_std = 1e100\n[[layers]]\nkind = \"dense\"\nw_std = 1e100\n",
    );
    let out = dir().join("deep.json");
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x), "--out", s(&out)],
        // the first dense layer gives K ~ 1e200; relu's √(k11 k22) overflows next, and the
        // error names the scale that drove it
        &[
            "layers[1] (relu): K overflows to a non-finite value (the kernel entering it is too \
           large; the largest scale before it is w_std = 1e100 in layers[0] (dense))",
        ],
    );
    assert!(!out.exists());
    let prefix = out.with_file_name("deep");
    fails(
        &[
            "kernel",
            "--net",
            s(&net),
            "--x1",
            s(&x),
            "--format",
            "npy",
            "--out",
            s(&prefix),
        ],
        &["non-finite"],
    );
    assert!(!out.with_file_name("deep.nngp.npy").exists());
}

#[test]
fn overflowing_kernels_name_an_activations_parameters() {
    // a = 1e150 passes the read check (a² is finite) but a² E[e^{2(x+y)}] overflows.
    let net = file(
        "exp-overflow.toml",
        "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\n[[layers]]\nkind = \"exp\"\na = 1e150\nb = 2\n",
    );
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x3())],
        &["layers[1] (exp): K overflows to a non-finite value (a = 1e150, b = 2)"],
    );
}

#[test]
fn overflowing_conv_kernels_name_the_conv_scales() {
    let net = file(
        "conv-overflow.toml",
        "[input]\nshape = [5, 1]\n[[layers]]\nkind = \"conv\"\nfilter = [3]\nw_std = 1e100\nb_std = 2\n[[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"conv\"\nfilter = [3]\nw_std = 1e100\n[[layers]]\nkind = \"flatten\"\n",
    );
    let x = file("x5.json", "[[[1], [2], [3], [0.5], [-1]]]");
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &[
            "layers[1] (relu): K overflows to a non-finite value (the kernel entering it is too \
           large; the largest scale before it is w_std = 1e100 in layers[0] (conv))",
        ],
    );
}

#[test]
fn inputs_whose_squares_overflow_are_refused() {
    let net = file("mlp.toml", MLP);
    let x = file("x200.json", "[[1e200, 1, 1]]");
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &["x200.json", "1e200", "[0, 0]", "square"],
    );
    let x = file("x200.npy", npy("(1, 3)", &[1.0, -1e160, 0.0]));
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &["x200.npy", "-1e160", "[0, 1]"],
    );
}

#[test]
fn derive_prints_constants_compactly() {
    let net = file(
        "tiny.toml",
        "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\nw_std = 1e-320\nb_std = 1e140\n",
    );
    let r = eqntk(&["derive", "--net", s(&net)]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("1e-320"), "{}", r.stdout);
    assert!(r.stdout.contains("1e140"), "{}", r.stdout);
    assert!(!r.stdout.contains("00000000"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("inf") && !r.stdout.contains("NaN"),
        "{}",
        r.stdout
    );
}

#[test]
fn verify_never_passes_non_finite_numbers() {
    let d = dir().join("verify-overflow");
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("claims.toml");
    std::fs::write(
        &f,
        "title = \"t\"\n[networks.deep]\ninput = { shape = [3] }\nlayers = [{ kind = \"dense\", w_std = 1e100 }, { kind = \"dense\", w_std = 1e100 }, { kind = \"dense\", w_std = 1e100 }]\n[inputs.x]\nseed = 1\nshape = [3]\ncount = 2\n[[claims]]\nkind = \"psd\"\nnet = \"deep\"\nx = \"x\"\n[[claims]]\nkind = \"kernel_equal\"\na = \"deep\"\nb = \"deep\"\nx1 = \"x\"\n",
    )
    .unwrap();
    let r = eqntk(&["verify", s(&f)]);
    assert_eq!(r.code, Some(1), "{} {}", r.stdout, r.stderr);
    assert!(
        !r.stdout.contains("pass") || r.stdout.contains("0 pass"),
        "{}",
        r.stdout
    );
    let doc = std::fs::read_to_string(d.join("claims.md")).unwrap_or_default();
    for text in [&r.stdout, &doc] {
        assert!(!text.contains("inf") && !text.contains("NaN"), "{text}");
    }
}

#[test]
fn one_width_gives_no_nan_slope() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let text = std::fs::read_to_string(src.join("d_monte_carlo.toml")).unwrap();
    let f = src.join(format!("bad-input-{}-one-width.toml", std::process::id()));
    std::fs::write(
        &f,
        text.replace("widths = [8, 32, 128, 512]", "widths = [8]")
            .replace("samples = 32", "samples = 4"),
    )
    .unwrap();
    let out = dir().join("one-width");
    let r = eqntk(&["experiment", s(&f), "--out", s(&out)]);
    std::fs::remove_file(&f).ok();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for ext in ["md", "tex", "csv"] {
        let t = std::fs::read_to_string(out.join(format!("monte_carlo_slopes.{ext}"))).unwrap();
        assert!(t.contains("needs ≥ 2 widths"), "{t}");
        assert!(!t.to_lowercase().contains("nan"), "{t}");
    }
}

// ---- no hangs ----

#[test]
fn explicit_p4_augmentation_of_a_one_by_one_lift_is_bounded() {
    let net = file(
        "p4.toml",
        "[input]\nshape = [6, 6, 1]\n[[layers]]\nkind = \"lift\"\ngroup = \"p4\"\nfilter = [1, 1]\n[[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"group_pool\"\n[[layers]]\nkind = \"dense\"\n",
    );
    let img = |k: usize| {
        let rows: Vec<String> = (0..6)
            .map(|i| {
                let r: Vec<String> = (0..6)
                    .map(|j| format!("[{}]", ((i * 7 + j * 3 + k) % 5) as f64 - 2.0))
                    .collect();
                format!("[{}]", r.join(","))
            })
            .collect();
        format!("[{}]", rows.join(","))
    };
    let x = file(
        "p4x.json",
        format!("[{}]", (0..10).map(img).collect::<Vec<_>>().join(",")),
    );
    let y = file(
        "p4y.json",
        format!(
            "[{}]",
            (0..10).map(|k| k.to_string()).collect::<Vec<_>>().join(",")
        ),
    );
    let r = fails(
        &[
            "predict",
            "--net",
            s(&net),
            "--x-train",
            s(&x),
            "--y-train",
            s(&y),
            "--x-test",
            s(&x),
            "--augment",
            "p4",
            "--explicit",
        ],
        &["too large", "examples"],
    );
    assert!(r.contains("1440"), "{r}");
}

// ---- one line on stderr ----

#[test]
fn argument_errors_are_one_line() {
    fails(&["kernel", "--frobnicate"], &["--frobnicate"]);
    fails(&["kernel"], &["--net"]);
    fails(&[], &["subcommand"]);
    fails(&["nope"], &["nope"]);
    fails(
        &["kernel", "--net", "a", "--x1", "b", "--format", "xml"],
        &["xml"],
    );
    let net = file("mlp.toml", MLP);
    let x = x3();
    let y = file("y.json", "[1, 2]");
    let predict = |flag: &str, value: &str, needle: &str| {
        fails(
            &[
                "predict",
                "--net",
                s(&net),
                "--x-train",
                s(&x),
                "--y-train",
                s(&y),
                "--x-test",
                s(&x),
                flag,
                value,
            ],
            &[needle],
        );
    };
    predict("--time", "-1", "times must be >= 0");
    predict("--time", "-1,2", "times must be >= 0");
    predict("--learning-rate", "-1", "learning rate");
    predict("--diag-reg", "-0.5", "diag_reg");
    fails(
        &[
            "kernel",
            "--net",
            s(&net),
            "--x1",
            s(&x),
            "--orbit",
            "C3",
            "--orbit-tol",
            "-1",
        ],
        &["--orbit-tol"],
    );
    for flag in ["--help", "--version"] {
        let r = eqntk(&[flag]);
        assert_eq!(r.code, Some(0), "{flag}");
        assert!(!r.stdout.is_empty() && r.stderr.is_empty(), "{flag}");
    }
    let r = eqntk(&["kernel", "--help"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.lines().count() > 3);
}

#[test]
fn npy_errors_are_one_line() {
    let net = file("mlp.toml", MLP);
    let mut bad = b"\x93NUMPY\x01\x00\x10\x00{'descr': 'oops".to_vec();
    bad.extend_from_slice(b"   \n");
    let f = file("header.npy", bad);
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&f)],
        &["header.npy", "not a readable .npy"],
    );
    let f = file("magic.npy", b"PK\x03\x04 not numpy at all");
    fails(&["kernel", "--net", s(&net), "--x1", s(&f)], &["magic.npy"]);
    // More data than the header promises.
    let f = file("extra.npy", npy("(2, 3)", &[1.0; 7]));
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&f)],
        &["extra.npy", "promises 48 bytes", "56"],
    );
    // Less data than the header promises, and a header asking for far too much.
    let f = file("short.npy", npy("(2, 3)", &[1.0; 5]));
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&f)],
        &["short.npy", "promises"],
    );
    let f = file("huge.npy", npy("(9223372036854775807, 3)", &[1.0; 3]));
    fails(&["kernel", "--net", s(&net), "--x1", s(&f)], &["huge.npy"]);
    let f = file("big.npy", npy("(100000000000, 3)", &[1.0; 3]));
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&f)],
        &["big.npy", "memory budget"],
    );
    // A well-formed file still reads.
    let f = file("good.npy", npy("(2, 3)", &[1.0, 2.0, 3.0, 0.5, -1.0, 2.0]));
    let r = eqntk(&["kernel", "--net", s(&net), "--x1", s(&f)]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn toml_errors_give_line_and_key_in_every_file_kind() {
    let x = x3();
    // Networks.
    let net = file(
        "dup.toml",
        "[input]\nshape = [3]\nshape = [4]\n[[layers]]\nkind = \"dense\"\n",
    );
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &["dup.toml", "line 3", "`shape`", "duplicate key"],
    );
    // Claims.
    let d = dir().join("claims-dup");
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("c.toml");
    std::fs::write(&f, "title = \"a\"\n\ntitle = \"b\"\n").unwrap();
    fails(
        &["verify", s(&f)],
        &["c.toml", "line 3", "`title`", "duplicate key"],
    );
    // Experiments: duplicate key, a wrong type, an unknown key.
    let cases = [
        ("kind = \"monte_carlo\"\nkind = \"x\"\n", &["line 2", "`kind`", "duplicate key"][..]),
        (
            "kind = \"monte_carlo\"\ntitle = \"a\"\ninputs = -3\nwidths = [8]\nsamples = 2\nseed = 1\nnets = []\n",
            &["line 3", "`inputs`", "expected usize"][..],
        ),
        (
            "kind = \"monte_carlo\"\ntitle = \"a\"\ninputs = 3\nwidths = [8]\nsamples = 2\nseed = 1\nnets = []\ncolour = 1\n",
            &["line 8", "colour"][..],
        ),
    ];
    for (text, needles) in cases {
        let f = file("exp.toml", text);
        let out = dir().join("exp-out");
        fails(&["experiment", s(&f), "--out", s(&out)], needles);
        assert!(!out.exists());
    }
}

#[test]
fn utf8_errors_give_the_byte_offset() {
    let x = x3();
    let net = file("utf8.toml", b"[input]\nshape = [3]\n# caf\xe9\n");
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&x)],
        &["utf8.toml", "UTF-8", "offset 25"],
    );
    let f = file("utf8-exp.toml", b"kind = \"monte_carlo\"\xff\n");
    fails(
        &["experiment", s(&f), "--out", s(&dir().join("u"))],
        &["offset 20"],
    );
    let j = file("utf8.json", b"[[1, 2, \xff]]");
    let net = file("mlp.toml", MLP);
    fails(
        &["kernel", "--net", s(&net), "--x1", s(&j)],
        &["utf8.json", "not valid JSON"],
    );
}

#[test]
fn control_characters_are_escaped() {
    let net = file("mlp.toml", MLP);
    let x = x3();
    let msg = fails(
        &[
            "kernel",
            "--net",
            s(&net),
            "--x1",
            s(&x),
            "--orbit",
            "C\u{1b}[31m\nX",
        ],
        &["\\u{1b}", "\\n"],
    );
    assert!(!msg.contains('\u{1b}'));
    let msg = fails(
        &["kernel", "--net", "no\tsuch\rfile.toml", "--x1", s(&x)],
        &["\\t", "\\r"],
    );
    assert!(!msg.contains('\t') && !msg.contains('\r'));
}

#[test]
fn numbers_in_messages_are_compact() {
    let net = file(
        "tiny-alpha.toml",
        "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\n[[layers]]\nkind = \"leaky_relu\"\nalpha = -1e300\n",
    );
    let msg = fails(&["kernel", "--net", s(&net), "--x1", s(&x3())], &["-1e300"]);
    assert!(!msg.contains("000000"), "{msg}");
}

#[test]
fn stdin_is_not_read() {
    // A command that fails on its arguments does not wait for input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_eqntk"))
        .args(["group", "table", "C0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"").ok();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn the_work_caps_say_how_to_raise_them_and_work_scales_them() {
    // 10 × 10 examples of 128 × 128 images through two full-covariance convolutions: about
    // 1.1e11 site-pair evaluations, over the default cap of 2e10 (and over twice it).
    let net = file(
        "big.toml",
        "[input]\nshape = [128, 128, 1]\n[[layers]]\nkind = \"conv\"\nfilter = [3, 3]\n\
         padding = \"circular\"\n[[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"conv\"\n\
         filter = [3, 3]\npadding = \"circular\"\n[[layers]]\nkind = \"global_avg_pool\"\n",
    );
    let data: Vec<f64> = (0..10 * 128 * 128)
        .map(|i| ((i * 37 % 101) as f64) / 50.0 - 1.0)
        .collect();
    let x = file("big.npy", npy("(10, 128, 128, 1)", &data));
    let args = ["kernel", "--net", s(&net), "--x1", s(&x)];
    fails(
        &args,
        &[
            "site-pair evaluations",
            "at most 2e10",
            "raise the cap with --work FACTOR",
        ],
    );
    let doubled: Vec<&str> = ["--work", "2"].into_iter().chain(args).collect();
    fails(&doubled, &["at most 4e10"]);
    for bad in ["0.5", "inf", "-3"] {
        let a: Vec<&str> = ["--work", bad].into_iter().chain(args).collect();
        fails(&a, &["--work must be a number ≥ 1"]);
    }
}
