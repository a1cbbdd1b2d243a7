//! Limits on sizes taken from user input, and the memory budget.
//!
//! Every size read from a file or the command line (group orders, band limits, filter sizes,
//! shapes, counts, widths, angles, members, steps) is checked here before anything is allocated
//! or looped over: against a fixed limit ([`at_most`], [`Error::TooLarge`]), with overflow-checked
//! products ([`product`]), and, for what a request will hold in memory, against the memory
//! budget ([`check`], [`Error::Budget`]). The budget is set once per process from `--memory`
//! ([`set_budget`]); it defaults to [`DEFAULT_BUDGET`].

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// The default memory budget: 8 GiB.
pub const DEFAULT_BUDGET: u64 = 8 << 30;

/// The largest order |G| of a finite group (C_n: n, D_n: 2n, p4 on an H-torus: 4H²).
pub const MAX_GROUP_ORDER: usize = 1 << 16;

/// The largest SO(2) band limit L (2L + 1 modes).
pub const MAX_BAND_LIMIT: usize = 1 << 15;

/// The largest extent of one axis: an array axis, a filter side, a torus side, a width.
pub const MAX_EXTENT: usize = 1 << 24;

/// The largest number of entries of one example, or of one filter (the product of its sides).
pub const MAX_ENTRIES: usize = 1 << 28;

/// The largest number of gradient-descent steps of one training run.
pub const MAX_STEPS: u64 = 1 << 22;

/// The largest number of points, angles or members of one study loop.
pub const MAX_COUNT: usize = 1 << 20;

/// The largest number of site-pair evaluations of one kernel computation (example pairs ×
/// Σ over layers of the site pairs each layer maps, times its taps in units of three):
/// about a minute and a half on one core.
pub const MAX_KERNEL_WORK: u128 = 20_000_000_000;

/// The largest |x| of an input value: its square, summed over up to [`MAX_ENTRIES`] entries
/// and scaled by a layer's variances, stays finite.
pub const MAX_INPUT_ABS: f64 = 1e150;

static BUDGET: AtomicU64 = AtomicU64::new(DEFAULT_BUDGET);

/// The factor on the work caps ([`MAX_KERNEL_WORK`], [`MAX_FINITE_WORK`],
/// [`MAX_INTERPRETER_WORK`]), as the bits of an `f64` (1 by default).
static WORK_FACTOR: AtomicU64 = AtomicU64::new(1f64.to_bits());

/// Scales the work caps of this process by `factor` (the command line's `--work`): a job known
/// to be long runs with `--work 10` (ten times the default caps) or more.
pub fn set_work_factor(factor: f64) -> Result<()> {
    if !(factor.is_finite() && factor >= 1.0) {
        return Err(Error::Invalid(format!(
            "--work must be a number ≥ 1 (a factor on the default work caps), got {factor}"
        )));
    }
    WORK_FACTOR.store(factor.to_bits(), Ordering::Relaxed);
    Ok(())
}

/// `cap` times the factor of [`set_work_factor`].
fn work_cap(cap: u128) -> u128 {
    let f = f64::from_bits(WORK_FACTOR.load(Ordering::Relaxed));
    (cap as f64 * f).min(u128::MAX as f64) as u128
}

/// The limit as an error message writes it: the cap and how to raise it.
fn work_limit(cap: u128, advice: &str) -> String {
    format!(
        "{:.0e}; {advice}, or raise the cap with --work FACTOR",
        cap as f64
    )
}

/// Sets the memory budget of this process, in bytes.
pub fn set_budget(bytes: u64) {
    BUDGET.store(bytes, Ordering::Relaxed);
}

/// The memory budget of this process, in bytes.
pub fn budget() -> u64 {
    BUDGET.load(Ordering::Relaxed)
}

/// Parses a memory size: a number of bytes, optionally followed by `K`, `M`, `G` or `T`
/// (powers of 1024; `KiB`, `MB`, … are accepted too), e.g. `512M`, `2G`, `8GiB`.
pub fn parse_memory(s: &str) -> Result<u64> {
    let t = s.trim();
    let bad = || {
        Error::Invalid(format!(
            "--memory {t:?} is not a size (write e.g. 512M, 2G or 8GiB)"
        ))
    };
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| bad())?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(bad()),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// Errors with [`Error::Budget`] when `bytes` is over the memory budget.
pub fn check(what: &str, bytes: u128) -> Result<()> {
    let budget = budget() as u128;
    if bytes > budget {
        return Err(Error::Budget {
            what: what.to_string(),
            needs: bytes,
            budget,
        });
    }
    Ok(())
}

/// [`check`] for `count` values of `size` bytes each (`count` may be any overflow-free u128).
pub fn check_values(what: &str, count: u128, size: u128) -> Result<()> {
    check(what, count.saturating_mul(size))
}

/// `asked`, or [`Error::TooLarge`] naming `what` when it is over `limit`.
pub fn at_most(what: &str, asked: usize, limit: usize) -> Result<usize> {
    if asked > limit {
        return Err(too_large(what, asked, limit));
    }
    Ok(asked)
}

/// The [`Error::TooLarge`] of `what = asked` over `limit`.
pub fn too_large(
    what: &str,
    asked: impl std::fmt::Display,
    limit: impl std::fmt::Display,
) -> Error {
    Error::TooLarge {
        what: what.to_string(),
        asked: asked.to_string(),
        limit: limit.to_string(),
    }
}

/// `Π dims`, or [`Error::TooLarge`] naming `what` when it is over `limit` (or overflows).
pub fn product(what: &str, dims: &[usize], limit: usize) -> Result<usize> {
    let mut p: usize = 1;
    for &d in dims {
        p = match p.checked_mul(d) {
            Some(p) if p <= limit => p,
            _ => {
                return Err(too_large(
                    what,
                    format!("{dims:?}"),
                    format!("{limit} entries"),
                ))
            }
        };
    }
    Ok(p)
}

/// `Π dims` as u128 (saturating), for memory estimates.
pub fn product_u128(dims: &[usize]) -> u128 {
    dims.iter().fold(1u128, |p, &d| p.saturating_mul(d as u128))
}

/// The widest kernel the fold of `net` stores, in sites, and whether it keeps full site
/// pairs: after the leading run of pairwise layers (fused with the input kernel) and before
/// and after every layer that is not a pairwise map.
fn widest(net: &crate::network::Network) -> (u128, bool) {
    let layers = net.layers();
    let pairwise = |l: usize| layers[l].block_map(net.shape_before(l)).is_some();
    let lead = (0..layers.len())
        .find(|&l| !pairwise(l))
        .unwrap_or(layers.len());
    let mut sites = net.shape_before(lead).sites();
    for l in lead..layers.len() {
        if !pairwise(l) {
            sites = sites
                .max(net.shape_before(l).sites())
                .max(net.shape_before(l + 1).sites());
        }
    }
    (sites as u128, net.keeps_full_sites())
}

/// The bytes the kernels of `net` on `n1 × n2` examples hold: NNGP and NTK over every site
/// pair (or the site diagonal, when the network only needs it) at the widest kernel the fold
/// stores, and the examples' own blocks.
pub(crate) fn kernel_bytes(net: &crate::network::Network, n1: usize, n2: usize) -> u128 {
    let (sites, full) = widest(net);
    let per_pair = if full {
        sites.saturating_mul(sites)
    } else {
        sites
    };
    let pairs = (n1 as u128).saturating_mul(n2 as u128);
    pairs
        .saturating_mul(per_pair)
        .saturating_add((n1 as u128 + n2 as u128).saturating_mul(per_pair))
        .saturating_mul(2 * 8)
}

/// The memory of the kernels of `net` on `n1 × n2` examples ([`kernel_bytes`]) and their work
/// (site-pair evaluations); [`Error::Budget`] or [`Error::TooLarge`] when over the limits.
pub(crate) fn check_kernel(net: &crate::network::Network, n1: usize, n2: usize) -> Result<()> {
    let layers = net.layers();
    let (sites, full) = widest(net);
    let pair_count = |s: usize| {
        let s = s as u128;
        if full {
            s.saturating_mul(s)
        } else {
            s
        }
    };
    let pairs = (n1 as u128).saturating_mul(n2 as u128);
    // An SO(2) section maps functions on an angular grid of N angles, N² site pairs a layer.
    let angular = |l: usize| layers[l].is_so2_section(net.shape_before(l));
    let work = (0..layers.len())
        .map(|l| {
            let grid = if angular(l) {
                SO2_GRID_ESTIMATE.pow(2)
            } else {
                1
            };
            // a filter's taps in units of three (a 3×3 filter counts 3): the general tap path
            // reads about three taps in the time of one site pair of the separable one
            let taps = (layers[l].taps() as u128).div_ceil(3).max(1);
            pair_count(net.shape_before(l).sites())
                .saturating_mul(grid)
                .saturating_mul(taps)
        })
        .fold(0u128, u128::saturating_add)
        .saturating_mul(pairs);
    check_work(
        &format!("the work of the kernels of {n1} × {n2} examples (site-pair evaluations)"),
        work,
        MAX_KERNEL_WORK,
        "use fewer or smaller examples",
    )?;
    check(
        &format!("the kernels of {n1} × {n2} examples over {sites} sites"),
        kernel_bytes(net, n1, n2),
    )
}

/// The largest work (multiply-adds, roughly) of sampling and evaluating finite networks for one
/// request: about a quarter of an hour on one core.
pub const MAX_FINITE_WORK: u128 = 2_000_000_000_000;

/// The number of layers of `net` (at least 1) and the most sites any layer's input has.
fn layers_and_widest_sites(net: &crate::network::Network) -> (u128, u128) {
    let layers = net.layers().len().max(1) as u128;
    let sites = (0..=net.layers().len())
        .map(|l| net.shape_before(l).sites())
        .max()
        .unwrap_or(1) as u128;
    (layers, sites)
}

/// Checks that a finite network of `width` on `net` fits the memory budget: its weights (about
/// `width² · layers` values) and the features of `examples` inputs (`width · sites` each), so
/// that a network can be sampled safely.
pub(crate) fn check_finite_memory(
    net: &crate::network::Network,
    width: usize,
    examples: usize,
) -> Result<()> {
    let (layers, sites) = layers_and_widest_sites(net);
    let wide = width as u128;
    check_values(
        &format!("finite networks of width {wide}"),
        wide.saturating_mul(wide)
            .saturating_mul(layers)
            .saturating_add(wide.saturating_mul(sites).saturating_mul(examples as u128)),
        8,
    )
}

/// Checks a Monte-Carlo request on `net`: `samples` finite networks at each of `widths`,
/// evaluated on `examples` inputs. The weights of the widest network (about `width² · sites`
/// values per layer, within the memory budget) and the work (`samples · Σ width² · examples ·
/// sites · layers`, at most [`MAX_FINITE_WORK`]).
pub(crate) fn check_finite_networks(
    net: &crate::network::Network,
    widths: &[usize],
    samples: usize,
    examples: usize,
) -> Result<()> {
    let (layers, sites) = layers_and_widest_sites(net);
    check_finite_memory(net, widths.iter().copied().max().unwrap_or(1), examples)?;
    let work = widths
        .iter()
        .fold(0u128, |a, &w| {
            a.saturating_add((w as u128).saturating_mul(w as u128))
        })
        .saturating_mul(samples as u128)
        .saturating_mul(examples as u128)
        .saturating_mul(sites)
        .saturating_mul(layers);
    check_work(
        "the work of the finite networks (samples × Σ width² × examples × sites × layers)",
        work,
        MAX_FINITE_WORK,
        "use fewer samples or smaller widths",
    )
}

/// Checks the work of training (and evaluating) finite networks, `work` multiply-adds
/// (`what` says how it was counted), against [`MAX_FINITE_WORK`] times the `--work` factor.
pub(crate) fn check_training_work(what: &str, work: u128) -> Result<()> {
    check_work(
        &format!("the work of training the finite networks ({what})"),
        work,
        MAX_FINITE_WORK,
        "use fewer members, a smaller width or fewer steps",
    )
}

/// [`Error::TooLarge`] naming `what` when `work` is over `max` times the `--work` factor,
/// with `advice` on how to ask for less.
fn check_work(what: &str, work: u128, max: u128, advice: &str) -> Result<()> {
    let cap = work_cap(max);
    if work > cap {
        return Err(too_large(
            what,
            format!("{:.1e}", work as f64),
            work_limit(cap, advice),
        ));
    }
    Ok(())
}

/// The largest work of interpreting a derivation: example pairs × entries of one input ×
/// Σ over layers of their site pairs (times the angles of the grid in an SO(2) section; about 2.5·10⁶ per second on one core, so about forty
/// seconds).
pub const MAX_INTERPRETER_WORK: u128 = 100_000_000;

/// The angles of a typical refined grid of an SO(2) section (each layer of the section is
/// evaluated at every one of them, for every example pair).
const SO2_GRID_ESTIMATE: u128 = 128;

/// Checks the work of evaluating the derivation of `net` by interpretation on `n1 × n2`
/// examples against [`MAX_INTERPRETER_WORK`].
pub(crate) fn check_interpreter(net: &crate::network::Network, n1: usize, n2: usize) -> Result<()> {
    let entries = net.input_shape().iter().product::<usize>() as u128;
    let nodes = net.nodes();
    let work = std::iter::once(&nodes[0].shape_in)
        .chain(nodes.iter().map(|n| &n.shape_out))
        .zip(std::iter::once(None).chain(nodes.iter().map(Some)))
        .map(|(shape, node)| {
            let s = shape.sites() as u128;
            // An SO(2) section is interpreted on an angular grid, refined per example pair.
            let angular = node.is_some_and(|n| n.layer.is_so2_section(&n.shape_in));
            s.saturating_mul(s)
                .saturating_mul(if angular { SO2_GRID_ESTIMATE } else { 1 })
        })
        .fold(0u128, u128::saturating_add)
        .saturating_mul(entries)
        .saturating_mul((n1 as u128).saturating_mul(n2 as u128));
    check_work(
        &format!("the work of interpreting the derivation on {n1} × {n2} examples"),
        work,
        MAX_INTERPRETER_WORK,
        "use fewer examples",
    )
}

/// Training steps of a run of length `time` at `steps_per_unit` steps per unit time, or an
/// error when they are not finite or over [`MAX_STEPS`].
pub fn steps(what: &str, time: f64, steps_per_unit: f64) -> Result<u64> {
    let n = (time * steps_per_unit).ceil();
    if !n.is_finite() || n > MAX_STEPS as f64 {
        return Err(too_large(
            &format!("{what} (time × steps per unit)"),
            crate::symbolic::print::compact_number(time * steps_per_unit),
            MAX_STEPS,
        ));
    }
    Ok(n.max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_parse() {
        assert_eq!(parse_memory("512M").unwrap(), 512 << 20);
        assert_eq!(parse_memory("2G").unwrap(), 2 << 30);
        assert_eq!(parse_memory("8GiB").unwrap(), 8 << 30);
        assert_eq!(parse_memory("1000").unwrap(), 1000);
        assert_eq!(parse_memory("1.5K").unwrap(), 1536);
        assert!(parse_memory("-1G").is_err());
        assert!(parse_memory("lots").is_err());
        assert!(parse_memory("0").is_err());
    }

    #[test]
    fn products_are_checked() {
        assert_eq!(product("shape", &[3, 4], 100).unwrap(), 12);
        assert!(matches!(
            product("shape", &[usize::MAX, 3], usize::MAX),
            Err(Error::TooLarge { .. })
        ));
        assert!(product("shape", &[11, 10], 100).is_err());
        assert_eq!(product_u128(&[usize::MAX, usize::MAX, 4]), u128::MAX);
    }

    #[test]
    fn steps_are_capped() {
        assert_eq!(steps("training", 5.0, 4.0).unwrap(), 20);
        assert!(steps("training", 1e308, 4.0).is_err());
        assert!(steps("training", f64::INFINITY, 4.0).is_err());
    }
}
