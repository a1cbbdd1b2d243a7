//! `eqntk kernel`: the NNGP and NTK of a network on two batches.

use std::path::PathBuf;

use faer::Mat;
use serde_json::json;

use super::{matrix_json, matrix_table, Format};
use crate::error::{Error, Result};
use crate::io::{read_batch, write_npy, Array};
use crate::network::Network;

/// Arguments of `eqntk kernel`.
#[derive(Debug, clap::Args)]
pub struct KernelArgs {
    /// Network file (TOML).
    #[arg(long)]
    pub net: PathBuf,
    /// First batch, `[N1, *input.shape]` (.npy or .json).
    #[arg(long)]
    pub x1: PathBuf,
    /// Second batch (default: x1).
    #[arg(long)]
    pub x2: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Output: a file for json/table, a prefix for npy (PREFIX.nngp.npy, PREFIX.ntk.npy).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The NNGP and NTK matrices of `args`.
pub fn compute(args: &KernelArgs) -> Result<(Mat<f64>, Mat<f64>)> {
    let net = Network::from_file(&args.net)?;
    let x1 = read_batch(&args.x1)?;
    let x2 = args.x2.as_deref().map(read_batch).transpose()?;
    let k = net.kernel(&x1, x2.as_ref())?;
    Ok((k.nngp()?, k.ntk()?))
}

/// Run `eqntk kernel`; returns what goes to stdout (empty when written to files).
pub fn run(args: &KernelArgs) -> Result<String> {
    let (nngp, ntk) = compute(args)?;
    render(&nngp, &ntk, args.format, args.out.as_deref())
}

/// Write or format an NNGP/NTK pair in the chosen format.
pub fn render(
    nngp: &Mat<f64>,
    ntk: &Mat<f64>,
    format: Format,
    out: Option<&std::path::Path>,
) -> Result<String> {
    let text = match format {
        Format::Json => {
            serde_json::to_string(&json!({"nngp": matrix_json(nngp), "ntk": matrix_json(ntk)}))
                .expect("finite numbers serialise")
                + "\n"
        }
        Format::Table => format!(
            "NNGP K(x1_i, x2_j)\n{}\nNTK Θ(x1_i, x2_j)\n{}",
            matrix_table(nngp),
            matrix_table(ntk)
        ),
        Format::Npy => {
            let prefix = out.ok_or_else(|| {
                Error::Invalid(
                    "--format npy needs --out PREFIX (writes PREFIX.nngp.npy and PREFIX.ntk.npy)"
                        .into(),
                )
            })?;
            for (name, m) in [("nngp", nngp), ("ntk", ntk)] {
                let path = PathBuf::from(format!("{}.{name}.npy", prefix.display()));
                let values = (0..m.nrows())
                    .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)]))
                    .collect();
                let a = Array {
                    shape: vec![m.nrows(), m.ncols()],
                    values,
                };
                write_npy(&path, &a)?;
            }
            return Ok(String::new());
        }
    };
    match out {
        Some(path) => {
            std::fs::write(path, &text).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
            Ok(String::new())
        }
        None => Ok(text),
    }
}
