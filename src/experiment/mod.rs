//! `eqntk experiment FILE.toml --out DIR`: described studies of emergent equivariance that write
//! tables (`.md`, `.tex`, `.csv`) and SVG plots.
//!
//! A file names its `kind` and that kind's parameters; networks are network files given by a
//! path relative to the experiment file. Everything is seeded and deterministic.
//!
//! | kind | study |
//! |---|---|
//! | `invariance_vs_time` | invariance error of μ_t vs t without, with subgroup and with full augmentation (Ising, p4m) |
//! | `so2_orbit` | μ_t along the SO(2) orbit of a test input for C_k- and SO(2)-augmented ensembles |
//! | `ensemble_size` | relative std over the orbit of trained finite ensembles vs M and vs width |
//! | `monte_carlo` | Monte-Carlo convergence of the analytic NNGP and NTK vs width |
//! | `so2_convergence` | the C_k → SO(2) error table |

mod ensemble_size;
mod invariance_time;
mod monte_carlo;
mod report;
mod so2_convergence;
mod so2_orbit;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use ensemble_size::EnsembleSize;
pub use invariance_time::InvarianceVsTime;
pub use monte_carlo::MonteCarloConvergence;
pub use report::Report;
pub use so2_convergence::So2Convergence;
pub use so2_orbit::So2Orbit;

use crate::error::Result;
use crate::network::Network;

/// One experiment, as described in its TOML file (`kind = "..."` selects the variant).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Experiment {
    /// (a) invariance error of μ_t vs t.
    InvarianceVsTime(InvarianceVsTime),
    /// (b) μ_t along an SO(2) orbit.
    So2Orbit(So2Orbit),
    /// (c) finite ensembles vs M and width.
    EnsembleSize(EnsembleSize),
    /// (d) Monte-Carlo convergence of the kernels.
    MonteCarlo(MonteCarloConvergence),
    /// (e) C_k → SO(2).
    So2Convergence(So2Convergence),
}

/// Settings every run shares.
#[derive(Clone, Debug)]
pub struct RunContext {
    /// Directory that relative network paths are resolved against.
    pub base: PathBuf,
    /// Draw progress bars on stderr.
    pub progress: bool,
}

impl RunContext {
    /// Loads a network file named relative to the experiment file.
    pub fn network(&self, path: &str) -> Result<Network> {
        crate::io::read_network(&self.base.join(path))
    }
}

impl Experiment {
    /// Parses an experiment description; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| crate::io::toml_error_as(text, file, &e, ""))
    }

    /// Reads an experiment file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = crate::io::read_text(path)?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Runs the experiment and returns its tables and plots.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        match self {
            Experiment::InvarianceVsTime(e) => e.run(ctx),
            Experiment::So2Orbit(e) => e.run(ctx),
            Experiment::EnsembleSize(e) => e.run(ctx),
            Experiment::MonteCarlo(e) => e.run(ctx),
            Experiment::So2Convergence(e) => e.run(ctx),
        }
    }
}

/// Runs the experiment in `file` and writes its outputs into `out` (created if missing);
/// returns the paths written.
pub fn run_file(file: &Path, out: &Path, progress: bool) -> Result<Vec<PathBuf>> {
    let exp = Experiment::from_file(file)?;
    let ctx = RunContext {
        base: file.parent().map(Path::to_path_buf).unwrap_or_default(),
        progress,
    };
    exp.run(&ctx)?.write(out)
}

/// A progress bar on stderr (hidden unless `show`).
pub(crate) fn progress_bar(len: usize, show: bool, what: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar
}
