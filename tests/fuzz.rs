//! A seeded fuzz suite: malformed inputs for every command, run through the binary under time
//! and memory limits.
//!
//! Cases are mutations of the shipped networks (`examples/`, `experiments/nets/`), claim files
//! (`derivations/`), experiments (`experiments/`) and arrays, random networks, group requests
//! and random command lines. A case fails on a panic (exit 101), an abort (a signal), a timeout,
//! a success whose output holds a non-finite number (`null`, `inf`, `NaN`), an exit code other
//! than 0, 1 or 2, or an error that is not one line `error: …` on stderr.
//!
//! `EQNTK_FUZZ_CASES` (default 1500) sets the number of cases, `EQNTK_FUZZ_SEED` (default 1) the
//! seed; a long run: `EQNTK_FUZZ_CASES=20000 cargo test --release --test suite fuzz`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seconds a case may run.
const TIMEOUT: u64 = 30;
/// Address-space limit of a case, in KiB (the binary runs with `--memory 1G`).
const MEMORY_KIB: u64 = 4 << 20;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One generated case: the arguments, files to write first (relative to the case directory),
/// and what kind of output a success prints.
struct Case {
    category: &'static str,
    args: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
}

/// What a case did.
struct Outcome {
    code: Option<i32>,
    timed_out: bool,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[String]) -> Outcome {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_eqntk"))
        .args(args)
        .arg("--memory")
        .arg("1G")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let out_pipe = child.stdout.take().unwrap();
    let err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(out_pipe, 1 << 24), &mut v).ok();
        String::from_utf8_lossy(&v).into_owned()
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(err_pipe, 1 << 20), &mut v).ok();
        String::from_utf8_lossy(&v).into_owned()
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(TIMEOUT) {
            timed_out = true;
            child.kill().ok();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: status.code(),
        timed_out,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Why a case failed, if it did.
fn judge(case: &Case, o: &Outcome) -> Option<String> {
    if o.timed_out {
        return Some(format!("timeout after {TIMEOUT} s"));
    }
    let code = match o.code {
        None => return Some("killed by a signal (abort)".into()),
        Some(101) => return Some("panic (exit 101)".into()),
        Some(c) => c,
    };
    if !matches!(code, 0..=2) {
        return Some(format!("exit code {code}"));
    }
    if o.stderr.lines().count() > 1 {
        return Some("stderr has more than one line".into());
    }
    if code == 2 && !o.stderr.starts_with("error: ") {
        return Some("an error without `error: `".into());
    }
    let help = case
        .args
        .iter()
        .any(|a| matches!(a.as_str(), "--help" | "-h" | "--version" | "-V" | "help"));
    if code == 0 && !help && non_finite(&case.args[0], &o.stdout) {
        return Some("non-finite number in the output of a success".into());
    }
    None
}

/// Whether a JSON value holds `null` or the strings `NaN`/`inf` (other than under `time`).
fn walk_json(v: &serde_json::Value, key: &str) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => key != "time" && (s == "NaN" || s == "inf"),
        serde_json::Value::Array(a) => a.iter().any(|x| walk_json(x, key)),
        serde_json::Value::Object(m) => m.iter().any(|(k, x)| walk_json(x, k)),
        _ => false,
    }
}

/// Whether a success's output holds a non-finite number: `null` in JSON, or the words `inf`,
/// `NaN` (other than a training time `inf`).
fn non_finite(command: &str, stdout: &str) -> bool {
    // Group tables write `"order": null` for the continuous SO(2); nothing else is null there.
    let json = serde_json::from_str::<serde_json::Value>(stdout);
    if let (Ok(serde_json::Value::Object(mut m)), "group") = (json.as_ref().cloned(), command) {
        if m.get("order") == Some(&serde_json::Value::Null) {
            m.remove("order");
        }
        return walk_json(&serde_json::Value::Object(m), "");
    }
    if let Ok(v) = json {
        return walk_json(&v, "");
    }
    let words = stdout.split(|c: char| !(c.is_alphanumeric() || c == '_'));
    let words: Vec<&str> = words.collect();
    match command {
        "kernel" | "derive" => words.iter().any(|w| {
            let w = w.to_ascii_lowercase();
            w == "inf" || w == "nan" || w == "infinity"
        }),
        "predict" => {
            // `t = inf` heads a block of a table; numbers never are.
            let body: String = stdout
                .lines()
                .filter(|l| !l.starts_with("t = "))
                .collect::<Vec<_>>()
                .join("\n");
            body.split(|c: char| !c.is_alphanumeric())
                .any(|w| w.eq_ignore_ascii_case("inf") || w.eq_ignore_ascii_case("nan"))
        }
        _ => words.contains(&"NaN"),
    }
}

// ---- the generator ----

struct Seeds {
    networks: Vec<(String, String)>,
    claims: Vec<(String, String)>,
    experiments: Vec<(String, String)>,
}

fn read_dir(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_name()?.to_str()?.to_string();
            (name.ends_with(".toml") && keep(&name))
                .then(|| (name, std::fs::read_to_string(&p).unwrap()))
        })
        .collect();
    out.sort();
    out
}

fn seeds() -> Seeds {
    let mut networks = read_dir("examples", |_| true);
    networks.extend(read_dir("examples/bench", |_| true));
    networks.extend(read_dir("experiments/nets", |_| true));
    // Claim files that verify within a second (the others hold large G-CNN or Monte-Carlo runs).
    let fast = [
        "formula_arccos.toml",
        "formula_erf.toml",
        "formula_linear.toml",
        "linear_closed_form.toml",
        "mlp_erf.toml",
        "result_a_c4.toml",
        "result_a_cn.toml",
        "result_a_dn.toml",
        "result_a_so2.toml",
        "result_b_mlp_d4.toml",
        "wrong_ntk.toml",
    ];
    let claims = read_dir("derivations", |n| fast.contains(&n));
    // Experiments that run within a few seconds.
    let experiments = read_dir("experiments", |n| {
        n.starts_with("b_") || n.starts_with("c_") || n.starts_with("e_")
    });
    Seeds {
        networks,
        claims,
        experiments,
    }
}

/// Numbers that break things: zero, negatives, overflow, underflow, huge sizes, non-numbers.
const EXTREMES: [&str; 22] = [
    "0",
    "-1",
    "1",
    "2",
    "3",
    "-0.5",
    "1e200",
    "1e-320",
    "1e154",
    "-1e300",
    "9223372036854775807",
    "18446744073709551616",
    "100000",
    "10000000",
    "nan",
    "inf",
    "-inf",
    "\"x\"",
    "true",
    "[]",
    "[9223372036854775807, 3, 1]",
    "{}",
];

const STRINGS: [&str; 24] = [
    "relu",
    "dense",
    "conv",
    "lift",
    "group_conv",
    "group_pool",
    "global_avg_pool",
    "flatten",
    "erf",
    "p4",
    "p4m",
    "C4",
    "D4",
    "SO2",
    "C100000",
    "C9223372036854775807",
    "SO2:1000000",
    "p4:100000",
    "full",
    "same",
    "valid",
    "",
    "\u{1b}[31m",
    "caf\u{e9}",
];

/// Byte ranges `(start, end)` in a text.
type Spans = Vec<(usize, usize)>;

/// Byte positions of number tokens and of string values in `text`.
fn tokens(text: &str) -> (Spans, Spans) {
    let b = text.as_bytes();
    let (mut nums, mut strs) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            let s = i;
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                i += 1;
            }
            strs.push((s, (i + 1).min(b.len())));
            i += 1;
        } else if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'-') {
                i += 1;
            }
            nums.push((s, i));
        } else {
            i += 1;
        }
    }
    (nums, strs)
}

/// One to three random edits of `text`.
fn mutate(rng: &mut ChaCha8Rng, text: &str) -> Vec<u8> {
    let mut t = text.to_string();
    let edits = match rng.random_range(0..10) {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    for _ in 0..edits {
        let (nums, strs) = tokens(&t);
        match rng.random_range(0..20) {
            0..=9 if !nums.is_empty() => {
                let (s, e) = *nums.choose(rng).unwrap();
                t.replace_range(s..e, EXTREMES.choose(rng).unwrap());
            }
            10..=13 if !strs.is_empty() => {
                let (s, e) = *strs.choose(rng).unwrap();
                t.replace_range(s..e, &format!("\"{}\"", STRINGS.choose(rng).unwrap()));
            }
            14..=15 => {
                let lines: Vec<&str> = t.lines().collect();
                let k = rng.random_range(0..lines.len().max(1));
                let mut out: Vec<&str> = lines.clone();
                if rng.random_bool(0.5) && !out.is_empty() {
                    out.remove(k.min(out.len() - 1));
                } else if let Some(l) = lines.get(k) {
                    out.insert(k, l);
                }
                t = out.join("\n");
            }
            16 => {
                let cut = rng.random_range(0..=t.len());
                let cut = (0..=cut).rev().find(|&i| t.is_char_boundary(i)).unwrap();
                t.truncate(cut);
            }
            _ => {
                // Raw bytes: invalid UTF-8, control characters, brackets.
                let junk: [&[u8]; 7] =
                    [b"\xff", b"\x00", b"\x1b[2J", b"]", b"[[", b"=", b"\n[x]\n"];
                let pos = rng.random_range(0..=t.len());
                let pos = (0..=pos).rev().find(|&i| t.is_char_boundary(i)).unwrap();
                let mut bytes = t.as_bytes()[..pos].to_vec();
                bytes.extend_from_slice(junk.choose(rng).unwrap());
                bytes.extend_from_slice(&t.as_bytes()[pos..]);
                return bytes;
            }
        }
    }
    t.into_bytes()
}

/// The `shape = [..]` of a network's `[input]`.
fn input_shape(text: &str) -> Vec<usize> {
    let Ok(v) = text.parse::<toml::Table>() else {
        return vec![3];
    };
    v.get("input")
        .and_then(|i| i.get("shape"))
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_integer())
                .map(|x| x.clamp(1, 64) as usize)
                .collect()
        })
        .unwrap_or_else(|| vec![3])
}

/// `n` examples of `shape` as JSON, each value from `value`.
fn batch_json(rng: &mut ChaCha8Rng, n: usize, shape: &[usize]) -> String {
    fn nest(rng: &mut ChaCha8Rng, shape: &[usize]) -> String {
        match shape.split_first() {
            None => format!("{:.3}", rng.random_range(-2.0..2.0)),
            Some((&k, rest)) => {
                let items: Vec<String> = (0..k).map(|_| nest(rng, rest)).collect();
                format!("[{}]", items.join(","))
            }
        }
    }
    let mut full = vec![n];
    full.extend_from_slice(shape);
    nest(rng, &full)
}

fn npy_bytes(shape: &[usize], values: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {tuple}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    for v in values {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn group_name(rng: &mut ChaCha8Rng) -> String {
    let small = rng.random_range(0..10usize);
    let big = *[
        100_000usize,
        65_536,
        99_999,
        1 << 20,
        usize::MAX / 2,
        4096,
        1000,
    ]
    .choose(rng)
    .unwrap();
    let n = if rng.random_bool(0.7) { small } else { big };
    match rng.random_range(0..9) {
        0 => format!("C{n}"),
        1 => format!("D{n}"),
        2 => format!("SO2:{n}"),
        3 => "SO2".into(),
        4 => format!("p4:{}", n.min(1 << 40)),
        5 => format!("p4m:{}", n.min(1 << 40)),
        6 => "p4".into(),
        7 => (*STRINGS.choose(rng).unwrap()).to_string(),
        _ => format!("C-{n}"),
    }
}

/// A random network: input shape and up to five layers with random parameters.
fn random_network(rng: &mut ChaCha8Rng) -> (String, Vec<usize>) {
    let shape: Vec<usize> = match rng.random_range(0..4) {
        0 => vec![rng.random_range(1..6)],
        1 => vec![rng.random_range(1..9), rng.random_range(1..3)],
        2 => {
            let h = rng.random_range(1..6);
            vec![h, h, 1]
        }
        _ => vec![rng.random_range(1..6), 2],
    };
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut t = format!("[input]\nshape = [{}]\n", dims.join(", "));
    let kinds = [
        "dense",
        "conv",
        "relu",
        "erf",
        "leaky_relu",
        "abrelu",
        "tanh",
        "gelu",
        "flatten",
        "global_avg_pool",
        "lift",
        "group_conv",
        "group_pool",
        "identity",
        "sin",
        "cos",
        "sign",
        "rbf",
        "exp",
        "gaussian",
        "monomial",
        "rectified_monomial",
        "polynomial",
        "hermite",
        "sigmoid_like",
    ];
    let value = |rng: &mut ChaCha8Rng| -> String {
        if rng.random_bool(0.8) {
            format!("{:.2}", rng.random_range(0.1..2.0))
        } else {
            (*EXTREMES.choose(rng).unwrap()).to_string()
        }
    };
    let depth = rng.random_range(1..=5);
    for l in 0..depth {
        // Most networks end in a readout, so that many of them compute.
        let kind = if l + 1 == depth && rng.random_bool(0.6) {
            if shape.len() > 1 {
                "global_avg_pool"
            } else {
                "dense"
            }
        } else {
            *kinds.choose(rng).unwrap()
        };
        t += &format!("[[layers]]\nkind = \"{kind}\"\n");
        match kind {
            "dense" | "conv" | "lift" | "group_conv" => {
                t += &format!("w_std = {}\n", value(rng));
                if rng.random_bool(0.5) {
                    t += &format!("b_std = {}\n", value(rng));
                }
                if kind != "dense" {
                    let f = if rng.random_bool(0.8) {
                        *["1", "3"].choose(rng).unwrap()
                    } else {
                        *EXTREMES.choose(rng).unwrap()
                    };
                    if shape.len() == 3 {
                        t += &format!("filter = [{f}, {f}]\n");
                    } else {
                        t += &format!("filter = [{f}]\n");
                    }
                    t += &format!(
                        "padding = \"{}\"\n",
                        ["circular", "same", "valid"].choose(rng).unwrap()
                    );
                }
                if kind == "lift" {
                    t += &format!("group = \"{}\"\n", group_name(rng));
                }
                if rng.random_bool(0.2) {
                    t += &format!("width = {}\n", EXTREMES.choose(rng).unwrap());
                }
            }
            "leaky_relu" => t += &format!("alpha = {}\n", value(rng)),
            "abrelu" => t += &format!("a = {}\nb = {}\n", value(rng), value(rng)),
            "monomial" | "rectified_monomial" | "hermite" => {
                let d = if rng.random_bool(0.8) {
                    rng.random_range(0..6).to_string()
                } else {
                    (*EXTREMES.choose(rng).unwrap()).to_string()
                };
                t += &format!("degree = {d}\n");
            }
            "polynomial" => {
                let n = rng.random_range(0..5);
                let coef: Vec<String> = (0..n).map(|_| value(rng)).collect();
                t += &format!("coef = [{}]\n", coef.join(", "));
            }
            "rbf" => t += &format!("gamma = {}\n", value(rng)),
            "exp" | "gaussian" => t += &format!("a = {}\nb = {}\n", value(rng), value(rng)),
            "erf" | "sin" | "cos" if rng.random_bool(0.5) => {
                t += &format!(
                    "a = {}\nb = {}\nc = {}\n",
                    value(rng),
                    value(rng),
                    value(rng)
                )
            }
            _ => {}
        }
    }
    (t, shape)
}

fn generate(rng: &mut ChaCha8Rng, seeds: &Seeds) -> Case {
    let pick = rng.random_range(0..100);
    match pick {
        // A mutated shipped network on matching inputs.
        0..=29 => {
            let (_, text) = seeds.networks.choose(rng).unwrap();
            let shape = input_shape(text);
            let n = rng.random_range(1..=3);
            let x = batch_json(rng, n, &shape);
            let net = mutate(rng, text);
            let mut files = vec![
                ("net.toml".to_string(), net),
                ("x.json".to_string(), x.into()),
            ];
            let args = match rng.random_range(0..6) {
                0 => s(&["derive", "--net", "net.toml"]),
                1 => {
                    files.push((
                        "y.json".into(),
                        format!("[{}]", vec!["1.5"; n].join(",")).into(),
                    ));
                    s(&[
                        "predict",
                        "--net",
                        "net.toml",
                        "--x-train",
                        "x.json",
                        "--y-train",
                        "y.json",
                        "--x-test",
                        "x.json",
                        "--time",
                        "0,1,inf",
                        "--cov",
                    ])
                }
                2 => {
                    let g = group_name(rng);
                    vec![
                        "kernel".into(),
                        "--net".into(),
                        "net.toml".into(),
                        "--x1".into(),
                        "x.json".into(),
                        "--orbit".into(),
                        g,
                    ]
                }
                _ => s(&["kernel", "--net", "net.toml", "--x1", "x.json"]),
            };
            Case {
                category: "mutated network",
                args,
                files,
            }
        }
        // A random network.
        30..=49 => {
            let (net, shape) = random_network(rng);
            let n = rng.random_range(1..=3);
            let x = batch_json(rng, n, &shape);
            let args = match rng.random_range(0..4) {
                0 => s(&["derive", "--net", "net.toml"]),
                1 => s(&[
                    "kernel", "--net", "net.toml", "--x1", "x.json", "--format", "table",
                ]),
                _ => s(&["kernel", "--net", "net.toml", "--x1", "x.json"]),
            };
            Case {
                category: "random network",
                args,
                files: vec![("net.toml".into(), net.into()), ("x.json".into(), x.into())],
            }
        }
        // A malformed array for a shipped network.
        50..=64 => {
            let (net_name, net_text) = [
                ("mlp.toml", "[input]\nshape = [4]\n[[layers]]\nkind = \"dense\"\n[[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"dense\"\n"),
                ("sig.toml", "[input]\nshape = [4, 1]\n[[layers]]\nkind = \"conv\"\nfilter = [3]\n[[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"global_avg_pool\"\n[[layers]]\nkind = \"dense\"\n"),
            ]
            .choose(rng)
            .copied()
            .unwrap();
            let shape = input_shape(net_text);
            let n = rng.random_range(1..=3);
            let (name, bytes) = if rng.random_bool(0.5) {
                let text = batch_json(rng, n, &shape);
                ("x.json", mutate(rng, &text))
            } else {
                let mut full = vec![n];
                full.extend_from_slice(&shape);
                let len: usize = full.iter().product();
                let values: Vec<f64> = (0..len).map(|_| rng.random_range(-2.0..2.0)).collect();
                let mut b = npy_bytes(&full, &values);
                match rng.random_range(0..6) {
                    0 => b.truncate(rng.random_range(0..b.len())),
                    1 => b.extend_from_slice(&1.0f64.to_le_bytes()),
                    2 => {
                        let k = rng.random_range(0..b.len());
                        b[k] = rng.random();
                    }
                    3 => {
                        let shape_text = EXTREMES.choose(rng).unwrap();
                        let text = String::from_utf8_lossy(&b).into_owned();
                        let at = text.find("'shape': (").unwrap() + 10;
                        let end = at + text[at..].find(')').unwrap();
                        let mut out = b[..at].to_vec();
                        out.extend_from_slice(shape_text.as_bytes());
                        out.extend_from_slice(b",");
                        out.extend_from_slice(&b[end..]);
                        b = out;
                    }
                    4 => {
                        let k = 10 + rng.random_range(0..40);
                        b[k] = *b"\n\x00'{}(".choose(rng).unwrap();
                    }
                    _ => {
                        let bad = [f64::NAN, f64::INFINITY, 1e200, -1e155, 1e-320];
                        let v = *bad.choose(rng).unwrap();
                        let k = b.len() - 8 * rng.random_range(1..=len);
                        b[k..k + 8].copy_from_slice(&v.to_le_bytes());
                    }
                }
                ("x.npy", b)
            };
            let args = if rng.random_bool(0.7) {
                vec![
                    "kernel".into(),
                    "--net".into(),
                    net_name.into(),
                    "--x1".into(),
                    name.into(),
                ]
            } else {
                vec![
                    "predict".into(),
                    "--net".into(),
                    net_name.into(),
                    "--x-train".into(),
                    "ok.json".into(),
                    "--y-train".into(),
                    name.into(),
                    "--x-test".into(),
                    "ok.json".into(),
                ]
            };
            let ok = batch_json(rng, n, &shape);
            Case {
                category: "malformed array",
                args,
                files: vec![
                    (net_name.into(), net_text.into()),
                    (name.into(), bytes),
                    ("ok.json".into(), ok.into()),
                ],
            }
        }
        // Group requests.
        65..=74 => {
            let g = group_name(rng);
            let args = match rng.random_range(0..3) {
                0 => vec!["group".into(), "table".into(), g],
                1 => {
                    let n = *[0usize, 1, 3, 4, 8, 9, 65536, 1 << 40].choose(rng).unwrap();
                    let rep = match rng.random_range(0..4) {
                        0 => "regular".to_string(),
                        1 => format!("signal:{n}"),
                        2 => format!("image:{n}"),
                        _ => (*STRINGS.choose(rng).unwrap()).to_string(),
                    };
                    vec!["group".into(), "decompose".into(), g, rep]
                }
                _ => vec!["group".into(), "check".into(), g],
            };
            let mut args = args;
            if rng.random_bool(0.3) {
                args.push("--format".into());
                args.push((*["json", "latex", "markdown", "csv"].choose(rng).unwrap()).into());
            }
            Case {
                category: "group",
                args,
                files: vec![],
            }
        }
        // A mutated claim file (its networks found through `../examples`).
        75..=84 => {
            let (name, text) = seeds.claims.choose(rng).unwrap();
            Case {
                category: "mutated claims",
                args: vec!["verify".into(), format!("derivations/{name}")],
                files: vec![(format!("derivations/{name}"), mutate(rng, text))],
            }
        }
        // A mutated experiment (its networks found through `nets/`).
        85..=89 => {
            let (name, text) = seeds.experiments.choose(rng).unwrap();
            Case {
                category: "mutated experiment",
                args: vec![
                    "experiment".into(),
                    format!("experiments/{name}"),
                    "--out".into(),
                    "out".into(),
                ],
                files: vec![(format!("experiments/{name}"), mutate(rng, text))],
            }
        }
        // Random command lines.
        _ => {
            let sub = *[
                "kernel",
                "predict",
                "derive",
                "verify",
                "group",
                "experiment",
                "nope",
                "",
            ]
            .choose(rng)
            .unwrap();
            let flags = [
                "--net",
                "--x1",
                "--x2",
                "--format",
                "--out",
                "--orbit",
                "--orbit-tol",
                "--time",
                "--learning-rate",
                "--diag-reg",
                "--augment",
                "--targets",
                "--cov",
                "--explicit",
                "--eval",
                "--memory",
                "--help",
                "--frob",
                "-x",
                "--",
            ];
            let values = [
                "examples/mlp.toml",
                "examples/x_train.json",
                "examples/y_train.json",
                "-1",
                "-1e308",
                "1e308",
                "nan",
                "inf",
                "0",
                "C4",
                "C100000",
                "SO2",
                "json",
                "npy",
                "table",
                "0,1,-2",
                "\u{1b}]0;x\u{7}",
                "line\nbreak",
                "512M",
                "0G",
                "lots",
                "",
            ];
            let mut args = vec![sub.to_string()];
            for _ in 0..rng.random_range(0..8) {
                if rng.random_bool(0.6) {
                    args.push((*flags.choose(rng).unwrap()).into());
                }
                args.push((*values.choose(rng).unwrap()).into());
            }
            args.retain(|a| !a.is_empty() || rng.random_bool(0.5));
            if args.is_empty() {
                args.push("kernel".into());
            }
            Case {
                category: "command line",
                args,
                files: vec![],
            }
        }
    }
}

/// The case directory: `examples/` and `experiments/nets/` linked in, so that claim and
/// experiment files find their networks.
fn case_dir(base: &Path, k: usize, case: &Case) -> PathBuf {
    let dir = base.join(format!("case{k}"));
    std::fs::create_dir_all(dir.join("derivations")).unwrap();
    std::fs::create_dir_all(dir.join("experiments")).unwrap();
    std::os::unix::fs::symlink(root().join("examples"), dir.join("examples")).ok();
    std::os::unix::fs::symlink(
        root().join("experiments/nets"),
        dir.join("experiments/nets"),
    )
    .ok();
    for (name, bytes) in &case.files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    dir
}

#[test]
fn fuzz_the_command_line() {
    let cases = env_usize("EQNTK_FUZZ_CASES", 1500);
    let seed = env_usize("EQNTK_FUZZ_SEED", 1) as u64;
    let seeds = seeds();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let generated: Vec<Case> = (0..cases).map(|_| generate(&mut rng, &seeds)).collect();
    let base = std::env::temp_dir().join(format!("eqntk-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let counts = Mutex::new(std::collections::BTreeMap::<&str, [usize; 3]>::new());
    let start = Instant::now();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = generated.get(k) else { break };
                let dir = case_dir(&base, k, case);
                let o = run(&dir, &case.args);
                {
                    let mut c = counts.lock().unwrap();
                    let e = c.entry(case.category).or_default();
                    e[0] += 1;
                    match o.code {
                        Some(0) => e[1] += 1,
                        _ => e[2] += 1,
                    }
                }
                if std::env::var_os("EQNTK_FUZZ_VERBOSE").is_some() {
                    eprintln!("case {k} ({}) {:?}: exit {:?}: {}", case.category, case.args, o.code, o.stderr.trim_end());
                }
                if let Some(why) = judge(case, &o) {
                    failures.lock().unwrap().push(format!(
                        "case {k} ({}): {why}\n  args: {:?}\n  files: {:?}\n  stderr: {}\n  stdout: {}",
                        case.category,
                        case.args,
                        case.files
                            .iter()
                            .map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).chars().take(600).collect::<String>()))
                            .collect::<Vec<_>>(),
                        o.stderr.chars().take(800).collect::<String>(),
                        o.stdout.chars().take(300).collect::<String>()
                    ));
                } else {
                    std::fs::remove_dir_all(&dir).ok();
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "fuzz: {cases} cases (seed {seed}) in {:.1} s on {threads} threads",
        start.elapsed().as_secs_f64()
    );
    for (cat, [n, ok, err]) in counts.into_inner().unwrap() {
        eprintln!("  {cat}: {n} cases, {ok} succeeded, {err} refused");
    }
    if failures.is_empty() {
        std::fs::remove_dir_all(&base).ok();
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} fuzz cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
