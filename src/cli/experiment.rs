//! `eqntk experiment FILE.toml --out DIR`: run a described study, write tables and plots.

use std::path::PathBuf;

use eqntk::experiment::run_file;
use eqntk::Result;

/// Arguments of `eqntk experiment`.
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// Experiment file (TOML).
    pub file: PathBuf,
    /// Directory for the tables (.md, .tex, .csv) and plots (.svg).
    #[arg(long)]
    pub out: PathBuf,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Run `eqntk experiment`; returns the list of files written (one per line).
pub fn run(args: &ExperimentArgs) -> Result<String> {
    let written = run_file(&args.file, &args.out, !args.quiet)?;
    Ok(written
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect())
}
