//! `eqntk verify`: check claim files and (re)write their documents.

use std::path::PathBuf;

use eqntk::report::{Align, Cell, Column, Table};
use eqntk::verify::{claim_files, verify_file};
use eqntk::{Error, Result};

/// Arguments of `eqntk verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Claim files (TOML) or folders of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Fail when a document is out of date instead of rewriting it.
    #[arg(long)]
    pub check: bool,
}

/// Run `eqntk verify`: a pass/fail table on stdout; `ok` is false when a claim not marked
/// `expect = "fail"` fails (or one so marked holds), or, with `--check`, a document is stale.
pub fn run(args: &VerifyArgs) -> Result<(String, bool)> {
    let files = claim_files(&args.paths)?;
    let mut table = Table::new(
        "",
        vec![
            Column::new("file", Align::Left),
            Column::new("claim", Align::Left),
            Column::new("verdict", Align::Left),
        ],
    );
    let mut ok = true;
    let mut notes = Vec::new();
    for f in &files {
        let report = verify_file(f)?;
        ok &= report.is_ok();
        for r in &report.results {
            table.push_row(vec![
                Cell::text(f.display().to_string()),
                Cell::text(r.claim.name.clone()),
                Cell::text(r.verdict.label()),
            ])?;
            if let Err(e) = &r.outcome {
                notes.push(format!("{}: {}: {e}", f.display(), r.claim.name));
            }
        }
        let current = std::fs::read_to_string(&report.document_path).ok();
        if current.as_deref() != Some(report.document.as_str()) {
            if args.check {
                ok = false;
                notes.push(format!(
                    "{} is out of date (run `eqntk verify {}` to rewrite it)",
                    report.document_path.display(),
                    f.display()
                ));
            } else {
                std::fs::write(&report.document_path, &report.document).map_err(|source| {
                    Error::Io {
                        path: report.document_path.display().to_string(),
                        source,
                    }
                })?;
                notes.push(format!("wrote {}", report.document_path.display()));
            }
        }
    }
    let mut out = table.to_markdown()?;
    for n in notes {
        out += &format!("{n}\n");
    }
    Ok((out, ok))
}
