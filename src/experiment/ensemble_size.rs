//! (c) Relative standard deviation over the orbit of trained finite ensembles, as the number of
//! members M grows (slope −1/2 in log-log) and as the width grows.
//!
//! What theory predicts for the width table (MATH.md §8): with full augmentation the
//! distribution of a trained member is invariant at every width (Gaussian initialisation is
//! invariant under the orthogonal action and gradient descent on an orbit-closed set commutes
//! with it), so the ensemble mean is invariant in expectation and its error at fixed M is
//! Monte-Carlo noise ≈ (single member)/√M, with no trend in width to expect. Augmenting with a
//! proper subgroup leaves an error that tends to the O(1) error of the infinite-width,
//! infinite-ensemble mean (reported alongside) as the width grows.

use serde::Deserialize;

use super::report::{log_floor, Report};
use super::{progress_bar, RunContext};
use crate::action::Domain;
use crate::augment::ensemble::train_on_orbits;
use crate::augment::orbit::orbit_summary;
use crate::augment::{FiniteAugmentation, InfiniteEnsemble, OutputTransform, TrainingSet};
use crate::dataset::PeriodicSignals;
use crate::error::{Error, Result};
use crate::finite::{EnsembleConfig, EnsembleRun};
use crate::group::GroupSpec;
use crate::metrics::OutputRep;
use crate::report::{Align, Column, FloatFormat, LinePlot, Series, Table};

/// Parameters of `kind = "ensemble_size"` (periodic signals `[n, 1]`, invariant target).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleSize {
    /// Caption.
    pub title: String,
    /// Network file (input `[n, 1]`).
    pub net: String,
    /// Samples per signal n.
    pub samples: usize,
    /// Highest frequency of the signals.
    pub bandwidth: usize,
    /// Training signals N.
    pub train: usize,
    /// Test signals.
    pub test: usize,
    /// Seed of data and networks.
    pub seed: u64,
    /// Augmentation group (`C<k>`, `D<k>`, acting on the signals); orbits are measured under it.
    pub group: String,
    /// Ensemble sizes M; the largest trained ensemble has `max(members)·repeats` members and an
    /// M-member mean is averaged over that many disjoint ensembles.
    pub members: Vec<usize>,
    /// Disjoint ensembles averaged at the largest M.
    pub repeats: usize,
    /// Widths n.
    pub widths: Vec<usize>,
    /// Training time t (finite).
    pub time: f64,
    /// Gradient-descent steps per unit time.
    pub steps_per_unit: f64,
    /// A proper subgroup (e.g. `C4` inside `C8`): the width table also reports ensembles
    /// augmented with it and its infinite-width, infinite-ensemble value.
    #[serde(default)]
    pub subgroup: Option<String>,
}

/// Mean relative orbit std of an M-member mean, averaged over disjoint M-member ensembles.
fn rel_std_of(run: &EnsembleRun, m: usize, orbit: usize) -> Result<f64> {
    let preds = run.predictions(0);
    let groups = preds.len() / m;
    let mut total = 0.0;
    for g in 0..groups {
        let mut mean = faer::Mat::<f64>::zeros(preds[0].nrows(), preds[0].ncols());
        for p in &preds[g * m..(g + 1) * m] {
            mean += p;
        }
        let mean = mean * faer::Scale(1.0 / m as f64);
        total += orbit_summary(mean.as_ref(), orbit, OutputRep::Invariant)?
            .rel_std
            .mean;
    }
    Ok(total / groups as f64)
}

/// Least-squares slope of `ln y` against `ln x`.
pub(crate) fn log_log_slope(points: &[(f64, f64)]) -> f64 {
    let pts: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
    let n = pts.len() as f64;
    let (mx, my) = pts
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0 / n, a.1 + p.1 / n));
    pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>()
}

/// The log-log slope of `points` as a table cell, or `degenerate` (text) when fewer than two
/// distinct x values make the slope undefined or it is not finite.
pub(crate) fn slope_cell(points: &[(f64, f64)], degenerate: &str) -> crate::report::Cell {
    let distinct = points
        .iter()
        .any(|p| p.0 != points[0].0 && p.0 > 0.0 && points[0].0 > 0.0);
    let slope = log_log_slope(points);
    if distinct && slope.is_finite() {
        slope.into()
    } else {
        degenerate.into()
    }
}

impl EnsembleSize {
    /// Runs the study: tables vs M (per width) and the fitted slopes, and the log-log plot.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        if self.members.is_empty() || self.widths.is_empty() || self.repeats == 0 {
            return Err(Error::Invalid(
                "members, widths and repeats must be non-empty / ≥ 1".into(),
            ));
        }
        let net = ctx.network_on(&self.net, Domain::Signal)?;
        let data = PeriodicSignals {
            n: self.samples,
            bandwidth: self.bandwidth,
            count: self.train + self.test,
            seed: self.seed,
        }
        .sample()?;
        let x = data.inputs.slice(0, self.train)?;
        let y = data.targets.subrows(0, self.train).to_owned();
        let xt = data.inputs.slice(self.train, self.train + self.test)?;
        let aug = FiniteAugmentation::from_spec(
            &GroupSpec::parse(&self.group)?,
            net.domain(),
            x.shape(),
        )?;
        let max_m = *self.members.iter().max().expect("non-empty");
        let total = (max_m * self.repeats).max(2);
        let mut table = Table::new(
            self.title.clone(),
            vec![
                Column::new("width", Align::Right),
                Column::math("M", Align::Right),
                Column::new("rel. std over orbit (ensemble)", Align::Right)
                    .with_format(FloatFormat::Scientific(3)),
            ],
        );
        let mut slopes = Table::new(
            format!("{}: log-log slope in M", self.title),
            vec![
                Column::new("width", Align::Right),
                Column::new("slope", Align::Right).with_format(FloatFormat::Fixed(3)),
                Column::new("single member rel. std", Align::Right)
                    .with_format(FloatFormat::Scientific(3)),
            ],
        );
        let sub = match &self.subgroup {
            Some(g) => Some(FiniteAugmentation::from_spec(
                &GroupSpec::parse(g)?,
                net.domain(),
                x.shape(),
            )?),
            None => None,
        };
        let mut width_cols = vec![
            Column::new("width", Align::Right),
            Column::math("M", Align::Right),
            Column::new(format!("ensemble, {}", aug.name()), Align::Right)
                .with_format(FloatFormat::Scientific(3)),
            Column::new("single member", Align::Right).with_format(FloatFormat::Scientific(3)),
            Column::new("single member / √M", Align::Right).with_format(FloatFormat::Scientific(3)),
        ];
        if let Some(s) = &sub {
            width_cols.push(
                Column::new(format!("ensemble, {}", s.name()), Align::Right)
                    .with_format(FloatFormat::Scientific(3)),
            );
            width_cols.push(
                Column::new(format!("infinite, {}", s.name()), Align::Right)
                    .with_format(FloatFormat::Scientific(3)),
            );
        }
        let mut by_width = Table::new(
            format!(
                "{}: rel. std over the orbit vs width at M = {max_m} (full augmentation: \
                 Monte-Carlo noise ≈ member/√M at every width; a subgroup tends to its O(1) \
                 infinite-width value)",
                self.title
            ),
            width_cols,
        );
        // The infinite-width, infinite-ensemble value with the subgroup (the width → ∞ limit).
        let sub_infinite = match &sub {
            Some(s) => {
                let orbits = aug.orbit_batch(&xt)?;
                let set = TrainingSet::Orbit {
                    group: s,
                    targets: OutputTransform::Invariant,
                };
                let mean = InfiniteEnsemble::train(&net, &x, y.as_ref(), set, 1.0, 0.0)?
                    .mean(&orbits, self.time)?;
                Some(
                    orbit_summary(mean.as_ref(), aug.order(), OutputRep::Invariant)?
                        .rel_std
                        .mean,
                )
            }
            None => None,
        };
        let mut plot = LinePlot {
            title: self.title.clone(),
            x_label: "ensemble size M".into(),
            y_label: "relative std over the orbit".into(),
            log_x: true,
            log_y: true,
            series: vec![],
        };
        let bar = progress_bar(self.widths.len(), ctx.progress, "trained ensembles");
        for &width in &self.widths {
            let config = EnsembleConfig {
                width,
                members: total,
                seed: self.seed,
                learning_rate: 1.0,
                times: vec![self.time],
                steps_per_unit: self.steps_per_unit,
                progress: false,
            };
            let run = train_on_orbits(
                &net,
                Some(&aug),
                &x,
                y.as_ref(),
                OutputTransform::Invariant,
                &aug,
                &xt,
                &config,
            )?;
            let mut points = Vec::new();
            for &m in &self.members {
                let v = rel_std_of(&run, m, aug.order())?;
                table.push_row(vec![width.into(), m.into(), v.into()])?;
                points.push((m as f64, log_floor(v)));
            }
            let single = rel_std_of(&run, 1, aug.order())?;
            let mut row = vec![
                width.into(),
                max_m.into(),
                rel_std_of(&run, max_m, aug.order())?.into(),
                single.into(),
                (single / (max_m as f64).sqrt()).into(),
            ];
            if let (Some(s), Some(inf)) = (&sub, sub_infinite) {
                let sub_run = train_on_orbits(
                    &net,
                    Some(s),
                    &x,
                    y.as_ref(),
                    OutputTransform::Invariant,
                    &aug,
                    &xt,
                    &config,
                )?;
                row.push(rel_std_of(&sub_run, max_m, aug.order())?.into());
                row.push(inf.into());
            }
            by_width.push_row(row)?;
            slopes.push_row(vec![
                width.into(),
                slope_cell(&points, "needs ≥ 2 ensemble sizes"),
                single.into(),
            ])?;
            plot.series
                .push(Series::new(format!("width {width}"), points));
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(Report {
            tables: vec![
                ("ensemble_size".into(), table),
                ("ensemble_size_slopes".into(), slopes),
                ("ensemble_width".into(), by_width),
            ],
            plots: vec![("ensemble_size".into(), plot)],
        })
    }
}
