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
//! | `so3_orbit` | μ_t along a one-parameter SO(3) orbit of a Lennard-Jones cluster for none-, O-, I- and SO3-augmented ensembles |
//! | `so3_convergence` | the O, Oh, I → SO(3) / O(3) error table on Lennard-Jones clusters |
//! | `so3_invariance_vs_time` | SO(3) invariance error of μ_t vs t on Lennard-Jones clusters, none / finite / SO3 augmentation |
//! | `kernel_regression` | NTK predictors on a data-set file: accuracy, OSP, invariance, MSE over t and training size; optionally finite trained ensembles of M members beside them (`[finite_ensembles]`) |

mod ensemble_size;
mod finite_regression;
mod invariance_time;
mod kernel_regression;
mod monte_carlo;
mod report;
mod rotation3;
mod so2_convergence;
mod so2_orbit;
mod so3_convergence;
mod so3_invariance_time;
mod so3_orbit;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use ensemble_size::EnsembleSize;
pub use finite_regression::FiniteEnsembles;
pub use invariance_time::InvarianceVsTime;
pub use kernel_regression::KernelRegression;
pub use monte_carlo::MonteCarloConvergence;
pub use report::Report;
pub use so2_convergence::So2Convergence;
pub use so2_orbit::So2Orbit;
pub use so3_convergence::So3Convergence;
pub use so3_invariance_time::So3InvarianceVsTime;
pub use so3_orbit::So3Orbit;

use crate::action::Domain;
use crate::error::{Error, Result};
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
    /// NTK predictors on a data-set file: accuracy, OSP, invariance, MSE.
    KernelRegression(KernelRegression),
    /// μ_t along a one-parameter SO(3) orbit.
    So3Orbit(So3Orbit),
    /// O, Oh, I → SO(3) / O(3).
    So3Convergence(So3Convergence),
    /// SO(3) invariance error of μ_t vs t on Lennard-Jones clusters.
    So3InvarianceVsTime(So3InvarianceVsTime),
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

    /// Loads a network file and checks that its declared input domain is the domain of the
    /// experiment's data (the groups act on the data as on that domain, MATH.md §5a).
    pub fn network_on(&self, path: &str, domain: Domain) -> Result<Network> {
        let net = self.network(path)?;
        if net.domain() != domain {
            return Err(Error::Key {
                file: self.base.join(path).display().to_string(),
                place: "[input]".into(),
                key: "domain".into(),
                reason: format!(
                    "domain: the experiment's data are {domain} inputs but the network's input \
                     domain is {} (declare domain = \"{domain}\")",
                    net.domain()
                ),
            });
        }
        Ok(net)
    }
}

impl Experiment {
    /// Parses an experiment description; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self> {
        // Syntax first (with its line), then the kind's own keys from the text without the
        // `kind` line, so that errors keep the line and the key of what is wrong.
        let table: toml::Table = text
            .parse()
            .map_err(|e| crate::io::toml_error(text, file, &e))?;
        let kind = match table.get("kind") {
            Some(toml::Value::String(k)) => k.clone(),
            Some(v) => {
                return Err(crate::error::Error::Spec(format!(
                    "{file}: `kind` must be a string, got {v}"
                )))
            }
            None => {
                return Err(crate::error::Error::Spec(format!(
                    "{file}: missing key `kind` (one of {KINDS})"
                )))
            }
        };
        let rest = without_top_level_key(text, "kind");
        fn parse<T: serde::de::DeserializeOwned>(rest: &str, file: &str) -> Result<T> {
            toml::from_str(rest).map_err(|e| crate::io::toml_error_as(rest, file, &e, ""))
        }
        let exp = match kind.as_str() {
            "invariance_vs_time" => Experiment::InvarianceVsTime(parse(&rest, file)?),
            "so2_orbit" => Experiment::So2Orbit(parse(&rest, file)?),
            "ensemble_size" => Experiment::EnsembleSize(parse(&rest, file)?),
            "monte_carlo" => Experiment::MonteCarlo(parse(&rest, file)?),
            "so2_convergence" => Experiment::So2Convergence(parse(&rest, file)?),
            "kernel_regression" => Experiment::KernelRegression(parse(&rest, file)?),
            "so3_orbit" => Experiment::So3Orbit(parse(&rest, file)?),
            "so3_convergence" => Experiment::So3Convergence(parse(&rest, file)?),
            "so3_invariance_vs_time" => Experiment::So3InvarianceVsTime(parse(&rest, file)?),
            other => {
                return Err(crate::error::Error::Spec(format!(
                    "{file}: unknown kind {other:?} (one of {KINDS})"
                )))
            }
        };
        exp.validate(file)?;
        Ok(exp)
    }

    /// Reads an experiment file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = crate::io::read_text(path)?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// The name of the kind, as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Experiment::InvarianceVsTime(_) => "invariance_vs_time",
            Experiment::So2Orbit(_) => "so2_orbit",
            Experiment::EnsembleSize(_) => "ensemble_size",
            Experiment::MonteCarlo(_) => "monte_carlo",
            Experiment::So2Convergence(_) => "so2_convergence",
            Experiment::KernelRegression(_) => "kernel_regression",
            Experiment::So3Orbit(_) => "so3_orbit",
            Experiment::So3Convergence(_) => "so3_convergence",
            Experiment::So3InvarianceVsTime(_) => "so3_invariance_vs_time",
        }
    }

    /// Checks every size and time the file asks for against the limits of [`crate::budget`]
    /// before anything is sampled, trained or allocated: counts, widths, members, angles,
    /// orders, and the gradient-descent steps and work of trained ensembles. Errors name the
    /// file and the key ([`Error::Key`]).
    pub fn validate(&self, file: &str) -> Result<()> {
        use crate::budget::{MAX_COUNT, MAX_GROUP_ORDER};
        let at = Limits {
            file,
            place: self.kind(),
        };
        match self {
            Experiment::InvarianceVsTime(e) => {
                at.range("lattice", e.lattice, 2, MAX_LATTICE)?;
                at.range("train", e.train, 1, MAX_EXAMPLES)?;
                at.range("test", e.test, 1, MAX_EXAMPLES)?;
                at.times("times", &e.times, true)?;
                at.positive("temperature", e.temperature)?;
                at.positive("learning_rate", e.learning_rate)?;
            }
            Experiment::So2Orbit(e) => {
                at.range("points", e.points, 1, MAX_POINTS)?;
                at.range("train", e.train, 1, MAX_EXAMPLES)?;
                at.range("angles", e.angles, 2, MAX_ANGLES)?;
                at.times("time", &[e.time], true)?;
            }
            Experiment::So2Convergence(e) => {
                at.range("points", e.points, 1, MAX_POINTS)?;
                at.range("train", e.train, 1, MAX_EXAMPLES)?;
                at.range("test", e.test, 1, MAX_EXAMPLES)?;
                at.range("angles", e.angles, 1, MAX_ANGLES)?;
                at.list("orders", &e.orders, 1, MAX_GROUP_ORDER)?;
                at.times("time", &[e.time], true)?;
            }
            Experiment::MonteCarlo(e) => {
                at.range("inputs", e.inputs, 1, MAX_EXAMPLES)?;
                at.range("samples", e.samples, 2, MAX_COUNT)?;
                at.list("widths", &e.widths, 1, MAX_WIDTH)?;
                let work = e.widths.iter().fold(0u128, |a, &w| {
                    a.saturating_add((w as u128).saturating_mul(w as u128))
                });
                let work = work
                    .saturating_mul(e.samples as u128)
                    .saturating_mul((e.inputs as u128).saturating_mul(e.inputs as u128))
                    .saturating_mul(e.nets.len().max(1) as u128);
                at.work("samples × widths² × inputs²", work)?;
            }
            Experiment::EnsembleSize(e) => {
                at.range("samples", e.samples, 1, MAX_POINTS)?;
                at.range("train", e.train, 1, MAX_EXAMPLES)?;
                at.range("test", e.test, 1, MAX_EXAMPLES)?;
                at.range("repeats", e.repeats, 1, MAX_MEMBERS)?;
                at.list("members", &e.members, 1, MAX_MEMBERS)?;
                at.list("widths", &e.widths, 1, MAX_WIDTH)?;
                at.times("time", &[e.time], false)?;
                at.positive("steps_per_unit", e.steps_per_unit)?;
                let steps = crate::budget::steps("training", e.time, e.steps_per_unit)
                    .map_err(|err| at.err("time", err.to_string()))?;
                let max_m = e.members.iter().copied().max().unwrap_or(1) as u128;
                let members = max_m.saturating_mul(e.repeats as u128).max(2);
                let work = e.widths.iter().fold(0u128, |a, &w| {
                    a.saturating_add((w as u128).saturating_mul(w as u128))
                });
                let work = work
                    .saturating_mul(members)
                    .saturating_mul(steps as u128)
                    .saturating_mul(e.train as u128)
                    .saturating_mul(e.samples as u128);
                at.work("members × widths² × steps × train × samples", work)?;
            }
            Experiment::KernelRegression(e) => {
                e.validate_keys().map_err(|(k, r)| at.err(&k, r))?;
                at.times("times", &e.times, true)?;
                at.range("repeats", e.repeats, 1, MAX_MEMBERS)?;
                if let Some(sizes) = &e.train_sizes {
                    at.list("train_sizes", sizes, 1, crate::budget::MAX_EXTENT)?;
                }
                at.positive("learning_rate", e.learning_rate)?;
                if !(e.diag_reg.is_finite() && e.diag_reg >= 0.0) {
                    return Err(at.err("diag_reg", "`diag_reg` must be a finite number ≥ 0"));
                }
                if let Some(f) = &e.finite_ensembles {
                    let at = Limits {
                        file,
                        place: "[finite_ensembles]",
                    };
                    at.range("width", f.width, 1, MAX_WIDTH)?;
                    at.list("members", &f.members, 1, MAX_MEMBERS)?;
                    if f.members.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(at.err(
                            "members",
                            "`members` must be increasing (M = the first M trained members)",
                        ));
                    }
                    if f.trained() < 2 {
                        return Err(at.err(
                            "members",
                            "the largest of `members` must be ≥ 2 (the members' spread needs two)",
                        ));
                    }
                    at.positive("learning_rate", f.learning_rate)?;
                    let finite: Vec<f64> =
                        e.times.iter().copied().filter(|t| t.is_finite()).collect();
                    if finite.is_empty() {
                        return Err(at.err(
                            "times",
                            "finite networks train for finite times: `times` needs one besides inf",
                        ));
                    }
                    f.steps(&finite, e.learning_rate)
                        .map_err(|err| at.err("learning_rate", err.to_string()))?;
                }
            }
            Experiment::So3Orbit(e) => {
                at.range("atoms", e.atoms, 2, MAX_ATOMS)?;
                at.range("train", e.train, 1, MAX_EXAMPLES)?;
                at.range("angles", e.angles, 2, MAX_ANGLES)?;
                at.times("time", &[e.time], true)?;
                at.groups3("groups", &e.groups)?;
            }
            Experiment::So3Convergence(e) => {
                at.range("atoms", e.atoms, 2, MAX_ATOMS)?;
                at.range("train", e.train, 1, MAX_EXAMPLES)?;
                at.range("test", e.test, 1, MAX_EXAMPLES)?;
                at.range("rotations", e.rotations, 1, MAX_ANGLES)?;
                at.times("time", &[e.time], true)?;
                at.groups3("groups", &e.groups)?;
                if let Some(g) = e
                    .groups
                    .iter()
                    .find(|g| !matches!(g.as_str(), "O" | "Oh" | "I"))
                {
                    return Err(at.err(
                        "groups",
                        format!(
                            "`groups`: {g:?} is not a finite 3-D rotation group (one of O, Oh, I)"
                        ),
                    ));
                }
            }
            Experiment::So3InvarianceVsTime(e) => {
                at.range("atoms", e.atoms, 2, MAX_ATOMS)?;
                at.range("train", e.train, 1, MAX_EXAMPLES)?;
                at.range("test", e.test, 1, MAX_EXAMPLES)?;
                at.range("rotations", e.rotations, 1, MAX_ANGLES)?;
                at.times("times", &e.times, true)?;
                at.positive("learning_rate", e.learning_rate)?;
                at.groups3("groups", &e.groups)?;
            }
        }
        Ok(())
    }

    /// Runs the experiment and returns its tables and plots.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        match self {
            Experiment::InvarianceVsTime(e) => e.run(ctx),
            Experiment::So2Orbit(e) => e.run(ctx),
            Experiment::EnsembleSize(e) => e.run(ctx),
            Experiment::MonteCarlo(e) => e.run(ctx),
            Experiment::So2Convergence(e) => e.run(ctx),
            Experiment::KernelRegression(e) => e.run(ctx),
            Experiment::So3Orbit(e) => e.run(ctx),
            Experiment::So3Convergence(e) => e.run(ctx),
            Experiment::So3InvarianceVsTime(e) => e.run(ctx),
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

/// The kinds of experiment, for messages.
const KINDS: &str =
    "invariance_vs_time, so2_orbit, ensemble_size, monte_carlo, so2_convergence, kernel_regression, \
     so3_orbit, so3_convergence, so3_invariance_vs_time";

/// `text` with the line of the top-level `key = …` (before the first table header) blanked,
/// so that line numbers stay those of the file.
fn without_top_level_key(text: &str, key: &str) -> String {
    let mut in_top = true;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            in_top = false;
        }
        let is_key = in_top
            && t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='));
        if is_key {
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The largest Ising lattice side of an experiment.
const MAX_LATTICE: usize = 64;
/// The largest number of training or test examples of an experiment.
const MAX_EXAMPLES: usize = 4096;
/// The largest number of points (or samples) of one example of an experiment.
const MAX_POINTS: usize = 4096;
/// Atoms of a generated Lennard-Jones cluster.
const MAX_ATOMS: usize = 256;
/// The largest number of angles of an SO(2) orbit of an experiment (a curve over the circle
/// needs far fewer; 10⁴ angles of the shipped orbit study take a few seconds).
const MAX_ANGLES: usize = 10_000;
/// The largest width of a finite network of an experiment.
const MAX_WIDTH: usize = 65_536;
/// The largest ensemble size (and number of repeats) of an experiment.
const MAX_MEMBERS: usize = 65_536;
/// The largest work (multiply-adds, roughly) of the finite networks of one experiment: about
/// a quarter of an hour on one core.
const MAX_WORK: u128 = 2_000_000_000_000;

/// Where an experiment's key is checked.
struct Limits<'a> {
    file: &'a str,
    place: &'a str,
}

impl Limits<'_> {
    fn err(&self, key: &str, reason: impl Into<String>) -> crate::error::Error {
        crate::error::Error::Key {
            file: self.file.to_string(),
            place: self.place.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    fn range(&self, key: &str, v: usize, min: usize, max: usize) -> Result<()> {
        if v < min || v > max {
            return Err(self.err(
                key,
                format!("`{key}` = {v} is out of range (at least {min}, at most {max})"),
            ));
        }
        Ok(())
    }

    fn list(&self, key: &str, v: &[usize], min: usize, max: usize) -> Result<()> {
        if v.is_empty() {
            return Err(self.err(key, format!("`{key}` must not be empty")));
        }
        for &x in v {
            self.range(key, x, min, max)?;
        }
        Ok(())
    }

    fn positive(&self, key: &str, v: f64) -> Result<()> {
        if !(v.is_finite() && v > 0.0) {
            return Err(self.err(
                key,
                format!(
                    "`{key}` must be a finite number > 0, got {}",
                    crate::symbolic::print::compact_number(v)
                ),
            ));
        }
        Ok(())
    }

    fn times(&self, key: &str, v: &[f64], inf_ok: bool) -> Result<()> {
        if v.is_empty() {
            return Err(self.err(key, format!("`{key}` must not be empty")));
        }
        for &t in v {
            let ok = t >= 0.0 && (t.is_finite() || (inf_ok && t == f64::INFINITY));
            if !ok {
                let want = if inf_ok {
                    "numbers ≥ 0 or inf"
                } else {
                    "finite numbers ≥ 0"
                };
                return Err(self.err(
                    key,
                    format!(
                        "`{key}` must be {want}, got {}",
                        crate::symbolic::print::compact_number(t)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A non-empty list of 3-D augmentations (`none`, O, Oh, I, SO3, O3).
    fn groups3(&self, key: &str, groups: &[String]) -> Result<()> {
        if groups.is_empty() {
            return Err(self.err(key, format!("`{key}` must not be empty")));
        }
        for g in groups {
            rotation3::check_group(g).map_err(|r| self.err(key, format!("`{key}`: {r}")))?;
        }
        Ok(())
    }

    fn work(&self, what: &str, work: u128) -> Result<()> {
        if work > MAX_WORK {
            return Err(self.err(
                what,
                format!(
                    "the finite networks need about {:.1e} operations ({what}), more than the \
                     limit of {:.0e}; use fewer or smaller ones",
                    work as f64, MAX_WORK as f64
                ),
            ));
        }
        Ok(())
    }
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
