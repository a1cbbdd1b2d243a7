//! `eqntk assemble PREFIX`: the Gram matrices from the files of the jobs of
//! `eqntk kernel --format npy --out PREFIX --tile I/T`.

use std::path::PathBuf;

use eqntk::Result;

/// Arguments of `eqntk assemble`.
#[derive(Debug, clap::Args)]
pub struct AssembleArgs {
    /// The `--out` prefix of the jobs; writes PREFIX.nngp.npy and PREFIX.ntk.npy.
    pub prefix: PathBuf,
}

/// Run `eqntk assemble`: checks that every job is there and from the same request, then writes
/// the two matrices; prints one line.
pub fn run(args: &AssembleArgs) -> Result<String> {
    let jobs = eqntk::gram::assemble(&args.prefix)?;
    Ok(format!(
        "assembled {jobs} jobs into {p}.nngp.npy and {p}.ntk.npy\n",
        p = args.prefix.display()
    ))
}
