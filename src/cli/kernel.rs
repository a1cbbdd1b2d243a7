//! `eqntk kernel`: the NNGP and NTK of a network on two batches, optionally averaged over the
//! orbit of x2 under a group (`--orbit GROUP`, MATH.md §6).

use std::path::PathBuf;

use faer::Mat;
use serde_json::json;

use super::{matrix_json, matrix_table, Format};
use eqntk::action::InputGroup;
use eqntk::io::{read_batch, write_npy, Array};
use eqntk::orbit::orbit_kernel;
use eqntk::{Error, QuadratureReport, Result};

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
    /// Average over the orbit of x2: `k̄(x, x') = (1/|G|) Σ_g k(x, g·x')`, the group acting on
    /// the network's declared `[input] domain`. GROUP: C<k>, D<k>, SO2, O2 (signals [n, C]:
    /// shifts when k | n, band-limited rotation for odd n; point sets [P, 2]: rotations of every
    /// point), C4, D4 (square images, about the centre), p4, p4m (images on the torus); O, Oh,
    /// I, SO3, O3 (3-D point sets [P, 3], every point rotated; sphere signals [L+1, 2L+1, C],
    /// resampled exactly by spherical-harmonic analysis and synthesis).
    #[arg(long, value_name = "GROUP")]
    pub orbit: Option<String>,
    /// Relative accuracy of the SO2 / SO3 orbit quadrature [default: 1e-12 for SO2 and O2,
    /// 1e-10 for SO3 and O3]; needs --orbit.
    #[arg(long, value_name = "TOL", allow_negative_numbers = true)]
    pub orbit_tol: Option<f64>,
    /// With --format npy: compute only job I of T of a job array (tiles balanced in work) into
    /// PREFIX.tile-I-of-T.*; `eqntk assemble PREFIX` writes the matrices when all T are done.
    #[arg(long, value_name = "I/T")]
    pub tile: Option<String>,
    /// With --format npy: continue the interrupted run recorded in PREFIX.journal.
    #[arg(long)]
    pub resume: bool,
    /// With --format npy: examples per tile side [default: all that fit 256 MiB of kernels].
    #[arg(long, value_name = "N")]
    pub tile_rows: Option<usize>,
}

/// The default of `--orbit-tol`.
pub const DEFAULT_ORBIT_TOL: f64 = 1e-12;

/// The default of `--orbit-tol` for SO3 and O3 (their rules grow as the cube of the degree).
pub const DEFAULT_SO3_ORBIT_TOL: f64 = 1e-10;

/// How an orbit average was computed.
#[derive(Clone, Debug, PartialEq)]
pub struct OrbitInfo {
    /// The group, as given.
    pub group: String,
    /// Group elements (or SO2 quadrature angles) averaged over.
    pub samples: usize,
    /// SO2: the relative change between the last two quadrature levels; 0 for finite groups.
    pub error_estimate: f64,
}

/// The NNGP and NTK matrices of `args` (orbit-averaged with `--orbit`), with what the orbit
/// average did (`None` without `--orbit`) and the quadrature records of written activations.
pub fn compute_with_orbit(args: &KernelArgs) -> Result<Computed> {
    // Check the flags before any file is read.
    let spec = args.orbit.as_deref().map(InputGroup::parse).transpose()?;
    let tol = match (args.orbit_tol, &spec) {
        (Some(_), None) => return Err(Error::Invalid("--orbit-tol needs --orbit GROUP".into())),
        (Some(t), Some(_)) if !(t.is_finite() && t > 0.0) => {
            return Err(Error::Invalid(format!(
                "--orbit-tol must be a positive number, got {}",
                eqntk::symbolic::compact_number(t)
            )))
        }
        (Some(t), _) => t,
        (None, Some(InputGroup::Rotation3(_))) => DEFAULT_SO3_ORBIT_TOL,
        (None, _) => DEFAULT_ORBIT_TOL,
    };
    let net = eqntk::io::read_network(&args.net)?;
    super::warn_caveats(&net);
    let x1 = read_batch(&args.x1)?;
    let x2 = args.x2.as_deref().map(read_batch).transpose()?;
    let (nngp, ntk, info) = match spec {
        None => {
            let k = net.kernel(&x1, x2.as_ref())?;
            (k.nngp()?, k.ntk()?, None)
        }
        Some(spec) => {
            let o = orbit_kernel(&net, &x1, x2.as_ref(), spec, tol)
                .map_err(|e| with_context(e, &format!("--orbit {spec}")))?;
            let info = OrbitInfo {
                group: spec.to_string(),
                samples: o.samples,
                error_estimate: o.error_estimate,
            };
            (o.nngp, o.ntk, Some(info))
        }
    };
    Ok((nngp, ntk, info, net.quadrature_reports()))
}

/// One stderr line per written activation: its error estimate, or a warning when its
/// tolerance was not met.
fn report_quadrature(reports: &[QuadratureReport]) {
    for r in reports {
        let warn = if r.is_reached() { "" } else { "warning: " };
        eprintln!("{warn}{}", r.message());
    }
}

/// What [`compute_with_orbit`] returns: NNGP, NTK, the orbit average's record, the
/// quadrature records.
pub type Computed = (Mat<f64>, Mat<f64>, Option<OrbitInfo>, Vec<QuadratureReport>);

/// The quadrature records as JSON (`layer`, `phi`, `tol`, `max_panels`, `error_estimate`,
/// `evaluations`, `unreached`).
fn quadrature_json(reports: &[QuadratureReport]) -> serde_json::Value {
    reports
        .iter()
        .map(|r| {
            json!({
                "layer": r.layer,
                "phi": r.phi,
                "tol": r.tol,
                "max_panels": r.max_panels,
                "error_estimate": r.error_estimate,
                "evaluations": r.evaluations,
                "unreached": r.unreached,
            })
        })
        .collect()
}

/// Prefix an error's message with where it arose (same variant).
fn with_context(e: Error, what: &str) -> Error {
    match e {
        Error::Group(m) => Error::Group(format!("{what}: {m}")),
        Error::Shape(m) => Error::Shape(format!("{what}: {m}")),
        Error::Numeric(m) => Error::Numeric(format!("{what}: {m}")),
        Error::Invalid(m) => Error::Invalid(format!("{what}: {m}")),
        e => e,
    }
}

/// Run `eqntk kernel`; returns what goes to stdout (empty when written to files).
///
/// With `--orbit`, the JSON output gains `"orbit": {"group", "samples", "error_estimate"}` and
/// the table a last line saying the same. With written activations, each writes one line to
/// stderr with its quadrature's error estimate (a `warning:` when the tolerance was not met),
/// and the JSON output gains `"quadrature": [{"layer", "phi", "error_estimate", …}]`.
pub fn run(args: &KernelArgs) -> Result<String> {
    if args.format == Format::Npy && args.orbit.is_none() {
        if let Some(out) = &args.out {
            return tiled(args, out);
        }
    }
    if args.tile.is_some() || args.resume || args.tile_rows.is_some() {
        return Err(Error::Invalid(
            "--tile, --resume and --tile-rows need --format npy --out PREFIX (and no --orbit)"
                .into(),
        ));
    }
    let bar = super::spinner("computing the kernel");
    let computed = compute_with_orbit(args);
    bar.finish_and_clear();
    let (nngp, ntk, info, quadrature) = computed?;
    super::finite_matrix("the NNGP", &nngp)?;
    super::finite_matrix("the NTK", &ntk)?;
    report_quadrature(&quadrature);
    match (info, args.format) {
        (info, Format::Json) if info.is_some() || !quadrature.is_empty() => {
            let mut doc = json!({"nngp": matrix_json(&nngp), "ntk": matrix_json(&ntk)});
            if let Some(info) = info {
                doc["orbit"] = json!({
                    "group": info.group,
                    "samples": info.samples,
                    "error_estimate": info.error_estimate,
                });
            }
            if !quadrature.is_empty() {
                doc["quadrature"] = quadrature_json(&quadrature);
            }
            let text = serde_json::to_string(&doc).expect("finite numbers serialise") + "\n";
            write_or_return(text, args.out.as_deref())
        }
        (Some(info), Format::Table) => {
            let text = format!(
                "{}orbit average over {} ({} samples, error estimate {:.1e})\n",
                render(&nngp, &ntk, Format::Table, None)?,
                info.group,
                info.samples,
                info.error_estimate
            );
            write_or_return(text, args.out.as_deref())
        }
        _ => render(&nngp, &ntk, args.format, args.out.as_deref()),
    }
}

/// `--format npy --out PREFIX`: the Gram matrices tile by tile into the files, resumable, or
/// one job of a job array (`--tile I/T`).
fn tiled(args: &KernelArgs, out: &std::path::Path) -> Result<String> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|source| Error::Io {
            path: p.display().to_string(),
            source,
        })
    };
    let job = args.tile.as_deref().map(parse_tile).transpose()?;
    if job.is_some() && args.resume {
        return Err(Error::Invalid(
            "--resume continues a whole run; a job of --tile I/T is rerun as it is".into(),
        ));
    }
    let net = eqntk::io::read_network(&args.net)?;
    super::warn_caveats(&net);
    let x1 = read_batch(&args.x1)?;
    let x2 = args.x2.as_deref().map(read_batch).transpose()?;
    let mut identity = vec![read(&args.net)?, read(&args.x1)?];
    if let Some(p) = &args.x2 {
        identity.push(read(p)?);
    }
    let parts: Vec<&[u8]> = identity.iter().map(|v| v.as_slice()).collect();
    let run = eqntk::gram::GramRun::new(&net, &x1, x2.as_ref(), &parts, args.tile_rows)?;
    let bar = super::progress("tiles");
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let written = match job {
        Some((i, t)) => run.write_job(out, i, t, &mut progress),
        None => run.write(
            out,
            eqntk::gram::WriteOptions {
                resume: args.resume,
                stop_after: None,
            },
            &mut progress,
        ),
    };
    bar.finish_and_clear();
    report_quadrature(&net.quadrature_reports());
    written.map(|_| String::new())
}

/// `I/T` with `0 ≤ I < T`.
fn parse_tile(s: &str) -> Result<(usize, usize)> {
    let bad = || Error::Invalid(format!("--tile {s:?}: write I/T with 0 ≤ I < T, e.g. 3/64"));
    let (i, t) = s.split_once('/').ok_or_else(bad)?;
    let (i, t): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        t.trim().parse().map_err(|_| bad())?,
    );
    if t == 0 || i >= t {
        return Err(bad());
    }
    eqntk::budget::at_most("--tile jobs", t, eqntk::budget::MAX_COUNT)?;
    Ok((i, t))
}

/// Write or format an NNGP/NTK pair in the chosen format.
pub fn render(
    nngp: &Mat<f64>,
    ntk: &Mat<f64>,
    format: Format,
    out: Option<&std::path::Path>,
) -> Result<String> {
    super::finite_matrix("the NNGP", nngp)?;
    super::finite_matrix("the NTK", ntk)?;
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
    write_or_return(text, out)
}

/// Write `text` to `out`, or return it for stdout.
fn write_or_return(text: String, out: Option<&std::path::Path>) -> Result<String> {
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
