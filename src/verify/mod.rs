//! Claims about kernels, checked numerically, and the documents that record them.
//!
//! A claim file (`derivations/NAME.toml`, format in `claims`) names networks, inputs and
//! claims: kernel equality (optionally after an orbit average, or against the network's own
//! derivation evaluated by interpretation), invariance under a group, positive
//! semi-definiteness, Monte-Carlo agreement of finite networks, equality of infinite-ensemble
//! mean predictions, and invariance of mean predictions (Result B). [`verify_file`] checks every
//! claim and renders `NAME.md` beside the file: each network's recursion (LaTeX), the inputs,
//! a pass/fail table and, per claim, its numbers, discrepancy and verdict.
//!
//! A claim marked `expect = "fail"` is expected not to hold; it is reported as
//! "fails as expected", and as a failure if it holds after all (it would have lost its point).

pub(crate) mod check;
pub(crate) mod claims;
mod document;
pub(crate) mod formula;

use std::path::{Path, PathBuf};

pub use check::{check, Outcome};
pub use claims::{Claim, ClaimFile, ClaimKind, KernelSource, Side, Which};

use crate::error::{Error, Result};

/// The verdict on one claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The claim holds.
    Pass,
    /// The claim does not hold.
    Fail,
    /// Marked `expect = "fail"` and does not hold.
    ExpectedFail,
    /// Marked `expect = "fail"` but holds.
    UnexpectedPass,
    /// It could not be checked (the message is in the outcome).
    Error,
}

impl Verdict {
    /// Whether the verdict is acceptable (pass, or fail as expected).
    pub fn is_ok(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::ExpectedFail)
    }
    /// The verdict as printed.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::ExpectedFail => "fails as expected",
            Verdict::UnexpectedPass => "UNEXPECTED PASS",
            Verdict::Error => "ERROR",
        }
    }
}

/// One checked claim.
#[derive(Clone, Debug)]
pub struct ClaimResult {
    /// The claim.
    pub claim: Claim,
    /// Its numbers, or why it could not be checked.
    pub outcome: std::result::Result<Outcome, String>,
    /// The verdict.
    pub verdict: Verdict,
}

/// A checked claim file and its document.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The claim file.
    pub path: PathBuf,
    /// The document beside it (`NAME.md`).
    pub document_path: PathBuf,
    /// The document's text.
    pub document: String,
    /// Every claim, in file order.
    pub results: Vec<ClaimResult>,
}

impl FileReport {
    /// Whether every verdict is acceptable.
    pub fn is_ok(&self) -> bool {
        self.results.iter().all(|r| r.verdict.is_ok())
    }
}

/// Parse and check a claim file; render its document (nothing is written).
pub fn verify_file(path: &Path) -> Result<FileReport> {
    let cf = ClaimFile::from_file(path)?;
    let results = cf
        .claims
        .iter()
        .map(|c| {
            let outcome = check(&cf, &c.kind).map_err(|e| e.to_string());
            let verdict = match (&outcome, c.expect_fail) {
                (Err(_), _) => Verdict::Error,
                (Ok(o), false) if o.holds() => Verdict::Pass,
                (Ok(_), false) => Verdict::Fail,
                (Ok(o), true) if o.holds() => Verdict::UnexpectedPass,
                (Ok(_), true) => Verdict::ExpectedFail,
            };
            ClaimResult {
                claim: c.clone(),
                outcome,
                verdict,
            }
        })
        .collect::<Vec<_>>();
    let document = document::render(&cf, &results)?;
    Ok(FileReport {
        document_path: path.with_extension("md"),
        path: path.to_path_buf(),
        document,
        results,
    })
}

/// The claim files among `paths`: files as given, folders searched recursively for `*.toml`;
/// sorted, without duplicates.
pub fn claim_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
        for e in entries {
            let p = e
                .map_err(|source| Error::Io {
                    path: dir.display().to_string(),
                    source,
                })?
                .path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(Error::Io {
                path: p.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(Error::Invalid("no claim files (*.toml) found".into()));
    }
    Ok(out)
}
