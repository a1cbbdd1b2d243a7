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
        self.check_finite()?;
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

impl Report {
    /// `Ok` when every number of every table and plot is finite (t = ∞ is written as the text
    /// `inf`); otherwise an error naming the table, row and column, before any file is written.
    pub fn check_finite(&self) -> Result<()> {
        for (stem, table) in &self.tables {
            for (i, row) in table.rows.iter().enumerate() {
                for (j, cell) in row.iter().enumerate() {
                    if let Cell::Float(v) = cell {
                        if !v.is_finite() {
                            let column = table.columns.get(j).map_or("?", |c| c.name.as_str());
                            return Err(Error::Numeric(format!(
                                "table {stem}: row {i}, column \"{column}\" is not finite ({v}); \
                                 nothing was written"
                            )));
                        }
                    }
                }
            }
        }
        for (stem, plot) in &self.plots {
            for series in &plot.series {
                if series
                    .points
                    .iter()
                    .any(|p| !(p.0.is_finite() && p.1.is_finite()))
                {
                    return Err(Error::Numeric(format!(
                        "plot {stem}: series \"{}\" holds a non-finite point; nothing was \
                         written",
                        series.name
                    )));
                }
            }
        }
        Ok(())
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
