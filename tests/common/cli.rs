//! Running the `eqntk` binary from a test: its exit code and output, files in a per-test-binary
//! scratch folder, and the check that a command failed cleanly.

use std::path::{Path, PathBuf};
use std::process::Command;

use eqntk::io::{write_npy, Array};
use eqntk::Batch;

/// Run `eqntk ARGS`: `(exit code, stdout, stderr)`.
pub fn eqntk(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eqntk"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A scratch folder of this test binary and process.
pub fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "eqntk-{}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A text file in the scratch folder.
pub fn file(name: &str, text: &str) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A batch written as `[N, *shape]` .npy in the scratch folder.
pub fn data(name: &str, b: &Batch) -> PathBuf {
    let p = dir().join(name);
    let mut shape = vec![b.len()];
    shape.extend_from_slice(b.shape());
    write_npy(
        &p,
        &Array {
            shape,
            values: b.values().to_vec(),
        },
    )
    .unwrap();
    p
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs the command and checks it failed cleanly: exit code 2, one line on stderr starting with
/// `error: `, nothing on stdout; returns the message.
pub fn fails(args: &[&str]) -> String {
    let (code, stdout, stderr) = eqntk(args);
    assert_eq!(code, 2, "{args:?}: stdout {stdout} stderr {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    stderr
}
