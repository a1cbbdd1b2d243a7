//! Gram matrices tile by tile: tiled = untiled bit for bit, a job array assembled = one run,
//! an interrupted run resumed = an uninterrupted one, and refusals of missing, foreign or
//! mismatched pieces.

use std::path::{Path, PathBuf};

use eqntk::gram::{GramRun, WriteOptions};
use eqntk::io::read_array;
use eqntk::{Batch, Network};
use rand::{Rng, SeedableRng};

use crate::common::{self, cli};

fn net(file: &str) -> Network {
    Network::from_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

/// A scratch prefix of its own for each call.
fn prefix(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = cli::dir().join(format!("gram-{name}-{n}"));
    std::fs::create_dir_all(&d).unwrap();
    d.join("k")
}

fn bytes(prefix: &Path, kernel: &str) -> Vec<u8> {
    std::fs::read(format!("{}.{kernel}.npy", prefix.display())).unwrap()
}

fn quiet() -> impl FnMut(usize, usize) {
    |_, _| {}
}

/// The networks of the test: an MLP, a CNN and a p4 G-CNN, with their inputs.
fn cases() -> Vec<(&'static str, Network, Batch, Batch)> {
    let mlp = net("examples/mlp.toml");
    let cnn = net("examples/cnn.toml");
    let p4 = Network::from_toml_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bench/p4_relu2_pool.toml"),
        )
        .unwrap()
        .replace("shape = [8, 8, 1]", "shape = [4, 4, 1]"),
        "p4",
    )
    .unwrap();
    [("mlp", mlp, 11), ("cnn", cnn, 7), ("p4", p4, 7)]
        .into_iter()
        .map(|(name, net, n)| {
            let x1 = common::normal_batch(net.input_shape(), n, 1);
            let x2 = common::normal_batch(net.input_shape(), n - 2, 2);
            (name, net, x1, x2)
        })
        .collect()
}

#[test]
fn tiles_and_job_arrays_write_the_same_bytes_as_one_run() {
    for (name, net, x1, x2) in cases() {
        for x2 in [None, Some(&x2)] {
            let run = GramRun::new(&net, &x1, x2, &[b"test"], Some(3)).unwrap();
            assert!(run.plan().tiles().len() > 3, "{name}: several tiles");
            let whole = prefix(name);
            let w = run
                .write(&whole, WriteOptions::default(), &mut quiet())
                .unwrap();
            assert!(w.complete && w.computed == w.total);
            // the numbers are the in-memory kernel's
            let k = net.kernel(&x1, x2).unwrap();
            for (kernel, m) in [("nngp", k.nngp().unwrap()), ("ntk", k.ntk().unwrap())] {
                let a = read_array(&PathBuf::from(format!("{}.{kernel}.npy", whole.display())))
                    .unwrap();
                assert_eq!(a.shape, vec![m.nrows(), m.ncols()]);
                common::assert_close(&a.to_mat("tiled").unwrap(), &m, 1e-13, name);
            }
            for jobs in [1, 2, 5] {
                let p = prefix(name);
                for job in 0..jobs {
                    run.write_job(&p, job, jobs, &mut quiet()).unwrap();
                }
                assert_eq!(eqntk::gram::assemble(&p).unwrap(), jobs);
                for kernel in ["nngp", "ntk"] {
                    assert!(
                        bytes(&p, kernel) == bytes(&whole, kernel),
                        "{name} {kernel}, {jobs} jobs, x2 given: {}",
                        x2.is_some()
                    );
                }
            }
        }
    }
}

#[test]
fn an_interrupted_run_resumed_writes_the_same_bytes() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for (name, net, x1, _) in cases() {
        let run = GramRun::new(&net, &x1, None, &[b"test"], Some(2)).unwrap();
        let whole = prefix(name);
        run.write(&whole, WriteOptions::default(), &mut quiet())
            .unwrap();
        let total = run.plan().tiles().len();
        let p = prefix(name);
        let stop = rng.random_range(1..total);
        let first = WriteOptions {
            stop_after: Some(stop),
            ..WriteOptions::default()
        };
        let w = run.write(&p, first, &mut quiet()).unwrap();
        assert!(!w.complete && w.computed == stop);
        // nothing looks complete while the run is unfinished
        assert!(!PathBuf::from(format!("{}.nngp.npy", p.display())).exists());
        // a second start without --resume is refused
        assert!(run
            .write(&p, WriteOptions::default(), &mut quiet())
            .is_err());
        let again = WriteOptions {
            resume: true,
            stop_after: None,
        };
        let w = run.write(&p, again, &mut quiet()).unwrap();
        assert_eq!(
            (w.resumed, w.computed, w.complete),
            (stop, total - stop, true)
        );
        for kernel in ["nngp", "ntk"] {
            assert!(
                bytes(&p, kernel) == bytes(&whole, kernel),
                "{name} {kernel}"
            );
        }
        assert!(!PathBuf::from(format!("{}.journal", p.display())).exists());
    }
}

#[test]
fn resume_refuses_another_request() {
    let (_, net, x1, _) = cases().remove(0);
    let run = GramRun::new(&net, &x1, None, &[b"this"], Some(2)).unwrap();
    let p = prefix("foreign");
    let once = WriteOptions {
        stop_after: Some(1),
        ..WriteOptions::default()
    };
    run.write(&p, once, &mut quiet()).unwrap();
    let other = GramRun::new(&net, &x1, None, &[b"other"], Some(2)).unwrap();
    let resume = WriteOptions {
        resume: true,
        stop_after: None,
    };
    let e = other
        .write(&p, resume, &mut quiet())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("another network, other inputs or another tiling"),
        "{e}"
    );
    let fresh = prefix("nothing");
    let e = run
        .write(&fresh, resume, &mut quiet())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nothing to resume"), "{e}");
}

#[test]
fn assemble_refuses_missing_foreign_and_mismatched_jobs() {
    let (_, net, x1, _) = cases().remove(0);
    let run = GramRun::new(&net, &x1, None, &[b"this"], Some(2)).unwrap();
    let p = prefix("assemble");
    let out = PathBuf::from(format!("{}.nngp.npy", p.display()));
    // missing: job 2 of 3 never ran
    for job in 0..2 {
        run.write_job(&p, job, 3, &mut quiet()).unwrap();
    }
    let e = eqntk::gram::assemble(&p).unwrap_err().to_string();
    assert!(e.contains("job 2 of 3 is missing"), "{e}");
    assert!(!out.exists());
    // foreign: job 2 from another request
    let other = GramRun::new(&net, &x1, None, &[b"other"], Some(2)).unwrap();
    other.write_job(&p, 2, 3, &mut quiet()).unwrap();
    let e = eqntk::gram::assemble(&p).unwrap_err().to_string();
    assert!(e.contains("belongs to another request"), "{e}");
    assert!(!out.exists());
    // mismatched: a job of a split into 4 beside the split into 3
    run.write_job(&p, 2, 3, &mut quiet()).unwrap();
    run.write_job(&p, 0, 4, &mut quiet()).unwrap();
    let e = eqntk::gram::assemble(&p).unwrap_err().to_string();
    assert!(e.contains("belongs to another request"), "{e}");
    std::fs::remove_file(format!("{}.tile-0-of-4.json", p.display())).unwrap();
    // truncated data of a job
    let data = format!("{}.tile-1-of-3.ntk.npy", p.display());
    let full = std::fs::read(&data).unwrap();
    std::fs::write(&data, &full[..full.len() - 8]).unwrap();
    let e = eqntk::gram::assemble(&p).unwrap_err().to_string();
    assert!(e.contains("not the complete data of job 1"), "{e}");
    assert!(!out.exists());
    std::fs::write(&data, &full).unwrap();
    assert_eq!(eqntk::gram::assemble(&p).unwrap(), 3);
    assert!(out.exists());
}

/// The command line: a job array with `xargs`-style separate processes, assembled, equals one
/// run; a run killed mid-way and resumed equals an uninterrupted one.
#[test]
fn the_command_line_tiles_kills_and_resumes() {
    let x = common::normal_batch(&[16], 600, 3);
    let xf = cli::data("gram_x.npy", &x);
    let netf = cli::file(
        "gram_net.toml",
        "[input]\nshape = [16]\n[[layers]]\nkind = \"dense\"\nw_std = 1.4\nb_std = 0.1\n\
         [[layers]]\nkind = \"erf\"\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n",
    );
    let args = |p: &Path| -> Vec<String> {
        [
            "kernel",
            "--net",
            cli::s(&netf),
            "--x1",
            cli::s(&xf),
            "--format",
            "npy",
            "--tile-rows",
            "8",
            "--out",
            cli::s(p),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let whole = prefix("cli");
    let a = args(&whole);
    let (code, _, err) = cli::eqntk(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    let jobs = prefix("cli");
    for i in 0..4 {
        let mut a = args(&jobs);
        a.extend(["--tile".to_string(), format!("{i}/4")]);
        let (code, _, err) = cli::eqntk(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, err) = cli::eqntk(&["assemble", cli::s(&jobs)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("assembled 4 jobs"), "{out}");
    for kernel in ["nngp", "ntk"] {
        assert!(bytes(&jobs, kernel) == bytes(&whole, kernel), "{kernel}");
    }

    // kill -9 once some tiles are in, then --resume
    let killed = prefix("cli");
    let journal = PathBuf::from(format!("{}.journal", killed.display()));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_eqntk"))
        .args(args(&killed))
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut interrupted = false;
    while started.elapsed() < std::time::Duration::from_secs(30) {
        let done = std::fs::read_to_string(&journal)
            .map(|t| t.lines().filter(|l| l.starts_with("done")).count())
            .unwrap_or(0);
        if done >= 3 {
            child.kill().unwrap();
            interrupted = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break; // finished before it could be killed
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.wait().unwrap();
    assert!(
        interrupted && journal.exists(),
        "the run was not caught mid-way"
    );
    {
        let mut a = args(&killed);
        a.push("--resume".into());
        let (code, _, err) = cli::eqntk(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        assert_eq!(code, 0, "{err}");
    }
    for kernel in ["nngp", "ntk"] {
        assert!(bytes(&killed, kernel) == bytes(&whole, kernel), "{kernel}");
    }
}

#[test]
fn bad_tile_requests_are_one_line_errors() {
    let x = common::normal_batch(&[4], 6, 3);
    let xf = cli::data("gram_bad_x.npy", &x);
    let netf = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mlp.toml");
    let p = prefix("bad");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["kernel", "--net", cli::s(&netf), "--x1", cli::s(&xf)]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let out = cli::s(&p).to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            base(&["--format", "npy", "--out", &out, "--tile", "4/4"]),
            "0 ≤ I < T",
        ),
        (
            base(&["--format", "npy", "--out", &out, "--tile", "x"]),
            "write I/T",
        ),
        (
            base(&["--format", "npy", "--out", &out, "--tile", "0/0"]),
            "0 ≤ I < T",
        ),
        (
            base(&["--format", "npy", "--out", &out, "--resume"]),
            "nothing to resume",
        ),
        (
            base(&["--format", "npy", "--out", &out, "--tile-rows", "0"]),
            "at least 1",
        ),
        (base(&["--tile", "0/2"]), "need --format npy --out PREFIX"),
        (
            base(&["--format", "npy", "--out", "/nonexistent/dir/k"]),
            "/nonexistent/dir/k.nngp.npy.partial",
        ),
    ];
    for (args, want) in cases {
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let e = cli::fails(&a);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    let (code, _, err) = cli::eqntk(&["assemble", &out]);
    assert_eq!(code, 2);
    assert!(err.contains("no tile jobs"), "{err}");
    assert!(!PathBuf::from(format!("{out}.nngp.npy")).exists());
}
