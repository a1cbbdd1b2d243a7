//! `eqntk verify`: the shipped derivations hold and their documents are current; stale
//! documents, failing claims and bad claim files are reported.

use std::path::{Path, PathBuf};

use eqntk::verify::{verify_file, Verdict};

use crate::common::cli::eqntk;

/// The arguments of `eqntk verify PATHS [--check]`.
struct VerifyArgs {
    paths: Vec<PathBuf>,
    check: bool,
}

/// Run `eqntk verify`: `Ok((stdout, every claim held))` for exit codes 0 and 1, the error line
/// for exit code 2.
fn run(a: &VerifyArgs) -> Result<(String, bool), String> {
    let mut argv = vec!["verify"];
    argv.extend(a.paths.iter().map(|p| p.to_str().unwrap()));
    if a.check {
        argv.push("--check");
    }
    match eqntk(&argv) {
        (0, out, _) => Ok((out, true)),
        (1, out, _) => Ok((out, false)),
        (_, _, err) => Err(err),
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("derivations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn shipped_derivations_hold_and_documents_are_current() {
    let args = VerifyArgs {
        paths: vec![root().join("derivations")],
        check: true,
    };
    let (out, ok) = run(&args).unwrap();
    assert!(ok, "{out}");
    assert!(!out.contains("out of date"), "{out}");
    // the expected failures are there and fail
    assert!(out.contains("fails as expected"), "{out}");
    assert!(!out.contains("FAIL") && !out.contains("ERROR"), "{out}");
}

#[test]
fn shipped_documents_snapshots() {
    let files = shipped();
    assert!(files.len() >= 6);
    for f in files {
        let report = verify_file(&f).unwrap();
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(name, report.document);
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("eqntk-verify-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SMALL: &str = r#"
title = "small"
[networks.a]
input = { shape = [3] }
layers = [{ kind = "dense", w_std = 1.0, b_std = 0.5 }, { kind = "relu" }, { kind = "dense", w_std = 1.0 }]
[networks.b]
input = { shape = [3] }
layers = [{ kind = "dense", w_std = 2.0, b_std = 0.5 }, { kind = "relu" }, { kind = "dense", w_std = 1.0 }]
[inputs.x]
seed = 1
shape = [3]
count = 2
"#;

fn write(dir: &Path, name: &str, claims: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{SMALL}{claims}")).unwrap();
    p
}

#[test]
fn stale_documents_and_failing_claims() {
    let dir = temp_dir("stale");
    let p = write(
        &dir,
        "c.toml",
        "[[claims]]\nkind = \"kernel_equal\"\na = \"a\"\nb = \"derivation\"\nx1 = \"x\"\n",
    );
    let args = |check| VerifyArgs {
        paths: vec![p.clone()],
        check,
    };
    // no document yet: --check fails, without --check it is written
    let (out, ok) = run(&args(true)).unwrap();
    assert!(!ok && out.contains("out of date"), "{out}");
    let (_, ok) = run(&args(false)).unwrap();
    assert!(ok);
    assert!(dir.join("c.md").exists());
    assert!(run(&args(true)).unwrap().1);
    // an edited document is stale again
    std::fs::write(dir.join("c.md"), "edited").unwrap();
    assert!(!run(&args(true)).unwrap().1);

    // different networks are not equal: a failing claim, exit status false
    let q = write(
        &dir,
        "d.toml",
        "[[claims]]\nkind = \"kernel_equal\"\na = \"a\"\nb = \"b\"\nx1 = \"x\"\n",
    );
    let report = verify_file(&q).unwrap();
    assert_eq!(report.results[0].verdict, Verdict::Fail);
    let (out, ok) = run(&VerifyArgs {
        paths: vec![q.clone()],
        check: false,
    })
    .unwrap();
    assert!(!ok && out.contains("FAIL"), "{out}");
    // marked as expected to fail: fine; a claim marked so that holds is not
    let r = write(
        &dir,
        "e.toml",
        "[[claims]]\nkind = \"kernel_equal\"\na = \"a\"\nb = \"b\"\nx1 = \"x\"\nexpect = \"fail\"\n\
         [[claims]]\nkind = \"psd\"\nnet = \"a\"\nx = \"x\"\nexpect = \"fail\"\n",
    );
    let report = verify_file(&r).unwrap();
    assert_eq!(report.results[0].verdict, Verdict::ExpectedFail);
    assert_eq!(report.results[1].verdict, Verdict::UnexpectedPass);
    assert!(!report.is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_claim_files_are_errors() {
    let dir = temp_dir("bad");
    let cases = [
        (
            "[[claims]]\nkind = \"kernel_equal\"\na = \"nope\"\nb = \"a\"\nx1 = \"x\"\n",
            "no network named `nope`",
        ),
        (
            "[[claims]]\nkind = \"psd\"\nnet = \"a\"\nx = \"z\"\n",
            "no input named `z`",
        ),
        (
            "[[claims]]\nkind = \"psd\"\nnet = \"a\"\nx = \"x\"\ncolour = 1\n",
            "unknown key `colour`",
        ),
        ("[[claims]]\nkind = \"wish\"\n", "unknown claim kind"),
        (
            "[[claims]]\nkind = \"invariant\"\nnet = \"a\"\ngroup = \"Q8\"\nx1 = \"x\"\n",
            "unknown group",
        ),
        (
            "[[claims]]\nkind = \"psd\"\nnet = \"a\"\nx = \"x\"\nexpect = \"maybe\"\n",
            "`expect`",
        ),
        ("", "no claims"),
    ];
    for (i, (claims, msg)) in cases.iter().enumerate() {
        let p = write(&dir, &format!("bad{i}.toml"), claims);
        let e = verify_file(&p).unwrap_err().to_string();
        assert!(e.contains(msg), "case {i}: {e}");
        assert!(
            e.contains(&format!("bad{i}.toml")),
            "case {i} names the file: {e}"
        );
    }
    // a group that cannot act on the inputs: the claim is an error, not a panic
    let p = write(
        &dir,
        "act.toml",
        "[[claims]]\nkind = \"invariant\"\nnet = \"a\"\ngroup = \"C4\"\nx1 = \"x\"\n",
    );
    let report = verify_file(&p).unwrap();
    assert_eq!(report.results[0].verdict, Verdict::Error);
    std::fs::remove_dir_all(&dir).unwrap();
}
