//! Checking one claim: the numbers, the discrepancy and whether it is within tolerance.

use faer::{Mat, Side as FaerSide};

use super::claims::{ClaimFile, ClaimKind, KernelSource, Side, Which};
use crate::action::Domain;
use crate::augment::FiniteAugmentation;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::finite::monte_carlo;
use crate::group::GroupSpec;
use crate::layer::Lift;
use crate::network::Network;
use crate::orbit::orbit_kernel;
use crate::predict::Predictor;
use crate::report::{Align, Cell, Column, FloatFormat, Table};
use crate::symbolic::{derive_network, evaluate_network};

/// The result of checking a claim.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// What was measured, e.g. `max |K_a − K_b| / max |K_b|`.
    pub measure: String,
    /// The measured discrepancy.
    pub discrepancy: f64,
    /// The claim holds when `discrepancy ≤ tolerance`.
    pub tolerance: f64,
    /// The numbers behind it.
    pub table: Table,
}

impl Outcome {
    /// Whether the claim holds.
    ///
    /// A claim whose numbers are not all finite never holds ([`Outcome::is_finite`]).
    pub fn holds(&self) -> bool {
        self.is_finite() && self.discrepancy <= self.tolerance
    }

    /// Whether the discrepancy, the tolerance and every number of the table are finite.
    pub fn is_finite(&self) -> bool {
        self.discrepancy.is_finite()
            && self.tolerance.is_finite()
            && self.table.rows.iter().flatten().all(|c| match c {
                crate::report::Cell::Float(v) => v.is_finite(),
                _ => true,
            })
    }
}

/// `(K, Θ)` of a kernel source on `x1 × x2` (`x2 = None`: `x1`).
pub fn source_kernels(
    cf: &ClaimFile,
    src: &KernelSource,
    x1: &Batch,
    x2: Option<&Batch>,
) -> Result<(Mat<f64>, Mat<f64>)> {
    let net = network(cf, &src.net)?;
    if src.derivation {
        // The interpreter evaluates the formulas pair by pair: its work is bounded up front.
        let orbit = match &src.orbit {
            Some(g) => g
                .order(x2.unwrap_or(x1).shape().first().copied())
                .unwrap_or(1),
            None => 1,
        };
        let n2 = x2.unwrap_or(x1).len();
        crate::budget::check_interpreter(net, x1.len(), n2.saturating_mul(orbit))?;
    }
    match (&src.orbit, src.derivation) {
        (Some(g), false) => {
            let o = orbit_kernel(net, x1, x2, g, Lift::DEFAULT_SO2_TOL)?;
            Ok((o.nngp, o.ntk))
        }
        // the interpreter's numbers averaged over the same finite orbit
        (Some(g), true) => {
            let deriv = derive_network(net)?;
            let images = transformed(g, net.domain(), x2.unwrap_or(x1))?;
            let n = images.len() as f64;
            let mut sum = (
                Mat::zeros(x1.len(), images[0].len()),
                Mat::zeros(x1.len(), images[0].len()),
            );
            for gx in &images {
                let (k, t) = evaluate_network(net, &deriv, x1, Some(gx))?;
                sum = (sum.0 + k, sum.1 + t);
            }
            Ok((sum.0 * faer::Scale(1.0 / n), sum.1 * faer::Scale(1.0 / n)))
        }
        (None, true) => evaluate_network(net, &derive_network(net)?, x1, x2),
        (None, false) => {
            let k = net.kernel(x1, x2)?;
            Ok((k.nngp()?, k.ntk()?))
        }
    }
}

/// `[ρ(g) x for g in G]` in the group's element order (element 0 is the identity), for a
/// finite group acting on the network's declared input domain (as [`orbit_kernel`] acts).
fn transformed(g: &GroupSpec, domain: Domain, x: &Batch) -> Result<Vec<Batch>> {
    let aug = FiniteAugmentation::from_spec(g, domain, x.shape())?;
    (0..aug.order()).map(|e| aug.act_on_batch(e, x)).collect()
}

/// The fully augmented training set, group-major (row `g·N + i` is `ρ(g) x_i`), with the
/// targets repeated (invariant targets, `ρ_Y` trivial).
fn augment(g: &GroupSpec, domain: Domain, x: &Batch, y: &Mat<f64>) -> Result<(Batch, Mat<f64>)> {
    let aug = FiniteAugmentation::from_spec(g, domain, x.shape())?;
    let xa = aug.augment_batch(x)?;
    let n = x.len();
    let ya = Mat::from_fn(xa.len(), y.ncols(), |r, c| y[(r % n, c)]);
    Ok((xa, ya))
}

pub(super) fn network<'a>(cf: &'a ClaimFile, name: &str) -> Result<&'a Network> {
    cf.networks
        .get(name)
        .map(|(n, _)| n)
        .ok_or_else(|| Error::Spec(format!("no network named `{name}`")))
}

pub(super) fn input<'a>(cf: &'a ClaimFile, name: &str) -> Result<&'a Batch> {
    cf.inputs
        .get(name)
        .map(|i| &i.batch)
        .ok_or_else(|| Error::Spec(format!("no input named `{name}`")))
}

fn max_abs(m: &Mat<f64>) -> f64 {
    let mut s: f64 = 0.0;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            s = s.max(m[(i, j)].abs());
        }
    }
    s
}

fn max_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut s: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            s = s.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    s
}

/// `max |a − b| / max(max |a|, max |b|)` (0 when both are 0).
pub(crate) fn relative_discrepancy(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let scale = max_abs(a).max(max_abs(b));
    let d = max_diff(a, b);
    if d == 0.0 {
        0.0
    } else {
        d / scale
    }
}

fn selected(which: Which) -> Vec<(usize, &'static str)> {
    match which {
        Which::Nngp => vec![(0, "K")],
        Which::Ntk => vec![(1, r"\Theta")],
        Which::Both => vec![(0, "K"), (1, r"\Theta")],
    }
}

/// Entries of two kernel pairs side by side (at most 16 entries, row-major).
pub(super) fn entry_table(
    title: &str,
    pairs: &[(&str, &Mat<f64>, &Mat<f64>)],
    la: &str,
    lb: &str,
) -> Table {
    let sig = FloatFormat::Significant(10);
    let mut t = Table::new(
        title,
        vec![
            Column::new("kernel", Align::Left),
            Column::new("entry (i, j)", Align::Left),
            Column::new(la, Align::Right).with_format(sig),
            Column::new(lb, Align::Right).with_format(sig),
        ],
    );
    for (name, a, b) in pairs {
        let entries = (0..a.nrows()).flat_map(|i| (0..a.ncols()).map(move |j| (i, j)));
        for (i, j) in entries.take(16) {
            t.push_row(vec![
                Cell::math(*name),
                Cell::text(format!("({i}, {j})")),
                Cell::Float(a[(i, j)]),
                Cell::Float(b[(i, j)]),
            ])
            .expect("four cells");
        }
    }
    t
}

fn describe(src: &KernelSource) -> String {
    let base = if src.derivation {
        format!("derivation of {}", src.net)
    } else {
        src.net.clone()
    };
    match &src.orbit {
        Some(g) => format!("{base}, {} orbit average", group_name(g)),
        None => base,
    }
}

/// A group's name as users write it.
pub fn group_name(g: &GroupSpec) -> String {
    match *g {
        GroupSpec::Cyclic(n) => format!("C{n}"),
        GroupSpec::Dihedral(n) => format!("D{n}"),
        GroupSpec::So2 { band_limit: None } => "SO2".into(),
        GroupSpec::So2 {
            band_limit: Some(l),
        } => format!("SO2:{l}"),
        GroupSpec::P4(h) => format!("p4{}", h.map_or(String::new(), |h| format!(":{h}"))),
        GroupSpec::P4m(h) => format!("p4m{}", h.map_or(String::new(), |h| format!(":{h}"))),
    }
}

/// Check one claim of `cf`. Numbers that are not finite (an overflowing kernel, a NaN
/// discrepancy) are an error, so that no document shows them and the claim fails.
pub fn check(cf: &ClaimFile, kind: &ClaimKind) -> Result<Outcome> {
    let outcome = check_numbers(cf, kind)?;
    if !outcome.is_finite() {
        return Err(Error::Numeric(format!(
            "the claim's numbers are not finite ({} = {}); it cannot hold",
            outcome.measure,
            crate::symbolic::print::compact_number(outcome.discrepancy)
        )));
    }
    Ok(outcome)
}

fn check_numbers(cf: &ClaimFile, kind: &ClaimKind) -> Result<Outcome> {
    match kind {
        ClaimKind::Formula {
            net,
            statement,
            x1,
            x2,
            rtol,
        } => super::formula::check_formula(cf, net, statement, x1, x2.as_deref(), *rtol),
        ClaimKind::KernelEqual {
            a,
            b,
            x1,
            x2,
            which,
            rtol,
        } => {
            let (x1, x2) = (
                input(cf, x1)?,
                x2.as_deref().map(|n| input(cf, n)).transpose()?,
            );
            let ka = source_kernels(cf, a, x1, x2)?;
            let kb = source_kernels(cf, b, x1, x2)?;
            let get =
                |k: &(Mat<f64>, Mat<f64>), i: usize| if i == 0 { k.0.clone() } else { k.1.clone() };
            let sel = selected(*which);
            let mats: Vec<(&str, Mat<f64>, Mat<f64>)> = sel
                .iter()
                .map(|&(i, n)| (n, get(&ka, i), get(&kb, i)))
                .collect();
            let discrepancy = mats
                .iter()
                .map(|(_, x, y)| relative_discrepancy(x, y))
                .fold(0.0, f64::max);
            let refs: Vec<(&str, &Mat<f64>, &Mat<f64>)> =
                mats.iter().map(|(n, x, y)| (*n, x, y)).collect();
            Ok(Outcome {
                measure: "max |k_a − k_b| / max |k|".into(),
                discrepancy,
                tolerance: *rtol,
                table: entry_table(
                    &format!("{} (a) and {} (b)", describe(a), describe(b)),
                    &refs,
                    "a",
                    "b",
                ),
            })
        }
        ClaimKind::Invariant {
            source,
            group,
            on,
            x1,
            x2,
            which,
            rtol,
        } => {
            let x1 = input(cf, x1)?;
            let x2 = x2
                .as_deref()
                .map(|n| input(cf, n))
                .transpose()?
                .unwrap_or(x1);
            let base = source_kernels(cf, source, x1, Some(x2))?;
            let domain = network(cf, &source.net)?.domain();
            let images = transformed(group, domain, x1)?;
            let images2 = transformed(group, domain, x2)?;
            let sel = selected(*which);
            let mut t = Table::new(
                format!(
                    "{}: largest relative change under each element of {} acting on {}",
                    describe(source),
                    group_name(group),
                    match on {
                        Side::X1 => "x1",
                        Side::X2 => "x2",
                        Side::Both => "both arguments",
                    }
                ),
                vec![
                    Column::new("g", Align::Right),
                    Column::new("max relative change", Align::Right)
                        .with_format(FloatFormat::Scientific(2)),
                ],
            );
            let mut worst: f64 = 0.0;
            for (g, (gx1, gx2)) in images.iter().zip(&images2).enumerate() {
                let (a, b) = match on {
                    Side::X1 => (gx1, x2),
                    Side::X2 => (x1, gx2),
                    Side::Both => (gx1, gx2),
                };
                let k = source_kernels(cf, source, a, Some(b))?;
                let d = sel
                    .iter()
                    .map(|&(i, _)| {
                        if i == 0 {
                            relative_discrepancy(&k.0, &base.0)
                        } else {
                            relative_discrepancy(&k.1, &base.1)
                        }
                    })
                    .fold(0.0, f64::max);
                worst = worst.max(d);
                t.push_row(vec![Cell::Int(g as i64), Cell::Float(bucket(d))])
                    .expect("two cells");
            }
            Ok(Outcome {
                measure: "max_g max |k(g·) − k| / max |k|".into(),
                discrepancy: worst,
                tolerance: *rtol,
                table: t,
            })
        }
        ClaimKind::Psd { source, x, tol } => {
            let x = input(cf, x)?;
            let (k, th) = source_kernels(cf, source, x, None)?;
            let mut t = Table::new(
                format!(
                    "eigenvalues of the kernel matrices of {} on `x`",
                    describe(source)
                ),
                vec![
                    Column::new("kernel", Align::Left),
                    Column::new("λ_min", Align::Right).with_format(FloatFormat::Scientific(3)),
                    Column::new("λ_max", Align::Right).with_format(FloatFormat::Scientific(3)),
                ],
            );
            let mut worst: f64 = 0.0;
            for (name, m) in [("K", &k), (r"\Theta", &th)] {
                let sym = Mat::from_fn(m.nrows(), m.ncols(), |i, j| 0.5 * (m[(i, j)] + m[(j, i)]));
                let ev = sym
                    .self_adjoint_eigenvalues(FaerSide::Lower)
                    .map_err(|e| Error::Numeric(format!("eigenvalues of {name}: {e:?}")))?;
                let (lo, hi) = (ev[0], ev[ev.len() - 1]);
                // a negative eigenvalue relative to the largest one; rounding-level values
                // print as 0 so documents do not depend on the last bits
                let neg = if hi > 0.0 {
                    (-lo / hi).max(0.0)
                } else {
                    (-lo).max(0.0)
                };
                worst = worst.max(neg);
                let shown = if lo.abs() < 1e-12 * hi.abs() { 0.0 } else { lo };
                t.push_row(vec![Cell::math(name), Cell::Float(shown), Cell::Float(hi)])
                    .expect("three cells");
            }
            Ok(Outcome {
                measure: "−λ_min / λ_max".into(),
                discrepancy: worst,
                tolerance: *tol,
                table: t,
            })
        }
        ClaimKind::MonteCarlo {
            net,
            reference,
            x1,
            x2,
            widths,
            samples,
            z,
            bias,
            seed,
            which,
        } => {
            let (x1, x2) = (
                input(cf, x1)?,
                x2.as_deref().map(|n| input(cf, n)).transpose()?,
            );
            let sampled = network(cf, net)?;
            crate::budget::check_finite_networks(
                sampled,
                widths,
                *samples,
                x1.len() + x2.map_or(0, |x| x.len()),
            )?;
            let exact = network(cf, reference)?.kernel(x1, x2)?;
            let (ek, et) = (exact.nngp()?, exact.ntk()?);
            let mut t = Table::new(
                format!(
                    "Monte Carlo of {net} ({samples} networks per width) against the analytic \
                     kernel of {reference}: worst |mean − k| / (z·se + bias·max|k|/width) and \
                     the largest relative error"
                ),
                vec![
                    Column::new("width", Align::Right),
                    Column::new("K: worst ratio", Align::Right)
                        .with_format(FloatFormat::Significant(3)),
                    Column::new("K: rel. error", Align::Right)
                        .with_format(FloatFormat::Scientific(2)),
                    Column::new("Θ: worst ratio", Align::Right)
                        .with_format(FloatFormat::Significant(3)),
                    Column::new("Θ: rel. error", Align::Right)
                        .with_format(FloatFormat::Scientific(2)),
                ],
            );
            let mut worst: f64 = 0.0;
            for &w in widths {
                let mc = monte_carlo(sampled, x1, x2, w, *samples, *seed)?;
                let ratio = |mean: &Mat<f64>, se: &Mat<f64>, k: &Mat<f64>| {
                    let scale = max_abs(k);
                    let mut r: f64 = 0.0;
                    for i in 0..k.nrows() {
                        for j in 0..k.ncols() {
                            let allowed = z * se[(i, j)] + bias * scale / w as f64 + 1e-12 * scale;
                            r = r.max((mean[(i, j)] - k[(i, j)]).abs() / allowed);
                        }
                    }
                    r
                };
                let rk = ratio(&mc.nngp_mean, &mc.nngp_se, &ek);
                let rt = ratio(&mc.ntk_mean, &mc.ntk_se, &et);
                worst = worst.max(match which {
                    Which::Nngp => rk,
                    Which::Ntk => rt,
                    Which::Both => rk.max(rt),
                });
                t.push_row(vec![
                    Cell::Int(w as i64),
                    Cell::Float(rk),
                    Cell::Float(relative_discrepancy(&mc.nngp_mean, &ek)),
                    Cell::Float(rt),
                    Cell::Float(relative_discrepancy(&mc.ntk_mean, &et)),
                ])
                .expect("five cells");
            }
            Ok(Outcome {
                measure: format!("max |mean − k| / (z·se + bias·max|k|/width), z = {z}"),
                discrepancy: worst,
                tolerance: 1.0,
                table: t,
            })
        }
        ClaimKind::MeanPredictionEqual {
            a,
            b,
            augment_a,
            augment_b,
            train,
            targets,
            test,
            times,
            rtol,
        } => {
            let (x, y, xt) = (input(cf, train)?, input(cf, targets)?, input(cf, test)?);
            let ma = means(
                cf,
                a,
                augment_a.as_ref(),
                x,
                y,
                std::slice::from_ref(xt),
                times,
            )?;
            let mb = means(
                cf,
                b,
                augment_b.as_ref(),
                x,
                y,
                std::slice::from_ref(xt),
                times,
            )?;
            let mut t = time_table(
                format!(
                    "mean predictions of {}{} (a) and {}{} (b) on `{test}`",
                    describe(a),
                    aug_note(augment_a.as_ref()),
                    describe(b),
                    aug_note(augment_b.as_ref())
                ),
                "max |μ_a − μ_b|",
            );
            let mut worst: f64 = 0.0;
            for (ti, &time) in times.iter().enumerate() {
                let (ua, ub) = (&ma[0][ti], &mb[0][ti]);
                let d = relative_discrepancy(ua, ub);
                worst = worst.max(d);
                t.push_row(vec![
                    time_cell(time),
                    Cell::Float(max_abs(ua)),
                    Cell::Float(bucket(max_diff(ua, ub))),
                    Cell::Float(bucket(d)),
                ])
                .expect("four cells");
            }
            Ok(Outcome {
                measure: "max_t max |μ_a − μ_b| / max |μ|".into(),
                discrepancy: worst,
                tolerance: *rtol,
                table: t,
            })
        }
        ClaimKind::InvariantPrediction {
            net,
            group,
            augment,
            train,
            targets,
            test,
            times,
            rtol,
        } => {
            let (x, y, xt) = (input(cf, train)?, input(cf, targets)?, input(cf, test)?);
            let src = KernelSource {
                net: net.clone(),
                orbit: None,
                derivation: false,
            };
            let tests = transformed(group, network(cf, net)?.domain(), xt)?;
            let aug = augment.then_some(*group);
            let mu = means(cf, &src, aug.as_ref(), x, y, &tests, times)?;
            let mut t = time_table(
                format!(
                    "mean predictions of {net}{} on the {} orbit of `{test}`",
                    aug_note(aug.as_ref()),
                    group_name(group)
                ),
                "max_g |μ(g·x) − μ(x)|",
            );
            let mut worst: f64 = 0.0;
            for ti in 0..times.len() {
                // element 0 is the identity of every group of `crate::group`
                let base = &mu[0][ti];
                let mut abs: f64 = 0.0;
                let mut rel: f64 = 0.0;
                for m in &mu[1..] {
                    abs = abs.max(max_diff(&m[ti], base));
                    rel = rel.max(relative_discrepancy(&m[ti], base));
                }
                worst = worst.max(rel);
                t.push_row(vec![
                    time_cell(times[ti]),
                    Cell::Float(max_abs(base)),
                    Cell::Float(bucket(abs)),
                    Cell::Float(bucket(rel)),
                ])
                .expect("four cells");
            }
            Ok(Outcome {
                measure: "max_{t,g} max |μ_t(g·x) − μ_t(x)| / max |μ|".into(),
                discrepancy: worst,
                tolerance: *rtol,
                table: t,
            })
        }
    }
}

/// Rounding-level values print as 0 (documents must not depend on the last bits).
fn bucket(x: f64) -> f64 {
    if x.abs() < 1e-13 {
        0.0
    } else {
        x
    }
}

fn aug_note(g: Option<&GroupSpec>) -> String {
    g.map_or(String::new(), |g| {
        format!(" trained on {}-augmented data", group_name(g))
    })
}

fn time_cell(t: f64) -> Cell {
    if t.is_infinite() {
        Cell::math(r"\infty")
    } else {
        Cell::Float(t)
    }
}

fn time_table(title: String, diff: &str) -> Table {
    Table::new(
        title,
        vec![
            Column::new("t", Align::Right).with_format(FloatFormat::Shortest),
            Column::new("max |μ|", Align::Right).with_format(FloatFormat::Significant(6)),
            Column::new(diff, Align::Right).with_format(FloatFormat::Scientific(2)),
            Column::new("relative", Align::Right).with_format(FloatFormat::Scientific(2)),
        ],
    )
}

/// `μ_t` of a kernel source trained on `(x, y)` (augmented by `aug`, invariant targets) at
/// every test batch and time: `out[test][time]`, each M × O.
fn means(
    cf: &ClaimFile,
    src: &KernelSource,
    aug: Option<&GroupSpec>,
    x: &Batch,
    y: &Batch,
    tests: &[Batch],
    times: &[f64],
) -> Result<Vec<Vec<Mat<f64>>>> {
    if y.len() != x.len() {
        return Err(Error::Shape(format!(
            "{} training inputs but {} targets",
            x.len(),
            y.len()
        )));
    }
    let o = y.example_len();
    let ymat = Mat::from_fn(y.len(), o, |i, j| y.example(i)[j]);
    let (x, ymat) = match aug {
        Some(g) => augment(g, network(cf, &src.net)?.domain(), x, &ymat)?,
        None => (x.clone(), ymat),
    };
    let (k, th) = source_kernels(cf, src, &x, None)?;
    let pred = Predictor::new(th.as_ref(), k.as_ref(), ymat.as_ref(), 1.0, 0.0)?;
    tests
        .iter()
        .map(|xt| {
            let (_, th_test) = source_kernels(cf, src, xt, Some(&x))?;
            times
                .iter()
                .map(|&t| pred.mean(th_test.as_ref(), t))
                .collect()
        })
        .collect()
}
