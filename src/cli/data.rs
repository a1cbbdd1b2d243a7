//! `eqntk data info FILE`: what a data file holds — arrays, shapes, dtypes, class counts and
//! the input domain its examples fit.

use std::path::PathBuf;

use eqntk::action::Domain;
use eqntk::io::{read_array, read_npz, NpzEntry};
use eqntk::{Error, Result};

/// Arguments of `eqntk data`.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The subcommands of `eqntk data`.
#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Arrays, shapes, dtypes, class counts and the domain the examples fit.
    Info {
        /// A data set (.npz) or one array (.npy, .json).
        file: PathBuf,
    },
}

/// Run `eqntk data`.
pub fn run(args: &DataArgs) -> Result<String> {
    let DataCommand::Info { file } = &args.command;
    let entries = match file.extension().and_then(|e| e.to_str()) {
        Some("npz") => read_npz(file)?,
        Some("npy") | Some("json") => {
            let array = read_array(file)?;
            [(
                "(array)".to_string(),
                NpzEntry {
                    array,
                    dtype: "f64 as read".into(),
                },
            )]
            .into_iter()
            .collect()
        }
        _ => {
            return Err(Error::Invalid(format!(
                "{}: data sets are .npz archives (or single .npy / .json arrays)",
                file.display()
            )))
        }
    };
    let mut out = format!("{}\n", file.display());
    for (name, e) in &entries {
        let shape = &e.array.shape;
        out += &format!("  {name}: shape {shape:?}, dtype {}", e.dtype);
        let labels = shape.len() == 1
            && e.array.values.iter().all(|v| v.fract() == 0.0 && *v >= 0.0)
            && name.starts_with('y');
        if labels {
            let k = e.array.values.iter().fold(0.0f64, |m, v| m.max(*v)) as usize + 1;
            if k <= eqntk::dataset::MAX_CLASSES {
                let mut counts = vec![0usize; k];
                e.array.values.iter().for_each(|v| counts[*v as usize] += 1);
                out += &format!(", {k} classes, counts {counts:?}");
            }
        } else if shape.len() >= 2 && name.starts_with('x') {
            let example = &shape[1..];
            let mut fits: Vec<String> = Domain::default_for(example)
                .map(|d| vec![d.to_string()])
                .unwrap_or_default();
            if example.len() == 2 && example[1] == 2 {
                fits.push(Domain::Points.to_string());
            }
            if example.len() == 3 && example[0] == example[1] {
                fits.push(Domain::Torus.to_string());
            }
            if Domain::Sphere.check_shape(example).is_ok() {
                fits.push(Domain::Sphere.to_string());
            }
            out += &format!(
                ", {} examples of shape {example:?}, fits {}",
                shape[0],
                if fits.is_empty() {
                    "no domain".to_string()
                } else {
                    fits.join(" or ")
                }
            );
        }
        out.push('\n');
    }
    Ok(out)
}
