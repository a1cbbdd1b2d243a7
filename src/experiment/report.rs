//! The outputs of an experiment: named tables and plots, written as files.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::report::{Cell, LinePlot, Table};

/// Errors below this are printed as `<1e-12` so tables do not depend on rounding noise.
pub const ERROR_FLOOR: f64 = 1e-12;

/// Named tables and plots.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// `(file stem, table)`.
    pub tables: Vec<(String, Table)>,
    /// `(file stem, plot)`.
    pub plots: Vec<(String, LinePlot)>,
}

impl Report {
    /// Writes `STEM.md`, `STEM.tex`, `STEM.csv` for every table and `STEM.svg` for every plot
    /// into `dir` (created if missing); returns the paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let io = |path: &Path, source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut written = Vec::new();
        for (stem, table) in &self.tables {
            for (ext, text) in [
                ("md", table.to_markdown()?),
                ("tex", table.to_latex()?),
                ("csv", table.to_csv()?),
            ] {
                let path = dir.join(format!("{stem}.{ext}"));
                std::fs::write(&path, text).map_err(|e| io(&path, e))?;
                written.push(path);
            }
        }
        for (stem, plot) in &self.plots {
            let path = dir.join(format!("{stem}.svg"));
            plot.write_svg(&path)?;
            written.push(path);
        }
        Ok(written)
    }
}

/// An error value as a cell: `<1e-12` below [`ERROR_FLOOR`], else the float.
pub(crate) fn error_cell(e: f64) -> Cell {
    if e < ERROR_FLOOR {
        Cell::text("<1e-12")
    } else {
        Cell::Float(e)
    }
}

/// A time as a cell (`∞` written `inf`).
pub(crate) fn time_cell(t: f64) -> Cell {
    if t.is_infinite() {
        Cell::text("inf")
    } else {
        Cell::Float(t)
    }
}

/// Values for a logarithmic axis: floored at `1e-16`.
pub(crate) fn log_floor(v: f64) -> f64 {
    v.max(1e-16)
}
