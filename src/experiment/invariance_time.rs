//! (a) Invariance error of the infinite-ensemble mean μ_t vs training time t, without
//! augmentation, with a subgroup and with the full group, on the 2-D Ising model.

use serde::Deserialize;

use super::report::{error_cell, log_floor, time_cell, Report};
use super::{progress_bar, RunContext};
use crate::action::Domain;
use crate::augment::orbit::orbit_summary;
use crate::augment::{FiniteAugmentation, InfiniteEnsemble, OutputTransform, TrainingSet};
use crate::dataset::{IsingSampler, IsingStart};
use crate::error::{Error, Result};
use crate::group::GroupSpec;
use crate::metrics::OutputRep;
use crate::report::{Align, Column, FloatFormat, LinePlot, Series, Table};

/// A network of an experiment.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedNet {
    /// Label in tables and legends.
    pub name: String,
    /// Network file, relative to the experiment file.
    pub path: String,
    /// Run only without augmentation. **G-CNN hook**: a network built from group layers
    /// (lift / group_conv / group_pool) has the orbit-averaged kernel already (Result A), so it is
    /// listed with `plain_only = true` and its curve is the "G-CNN" curve of the figure.
    #[serde(default)]
    pub plain_only: bool,
}

fn one() -> f64 {
    1.0
}

/// Parameters of `kind = "invariance_vs_time"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvarianceVsTime {
    /// Caption of the table and plot.
    pub title: String,
    /// Networks (input `[L, L, 1]`).
    pub nets: Vec<NamedNet>,
    /// Side L of the Ising torus.
    pub lattice: usize,
    /// Temperature of the Metropolis chain.
    pub temperature: f64,
    /// Number of training configurations.
    pub train: usize,
    /// Number of test configurations.
    pub test: usize,
    /// Seed of the chain.
    pub seed: u64,
    /// The full symmetry group of the target (e.g. `p4m`); errors are measured on its orbits.
    pub group: String,
    /// Proper subgroups to augment with (e.g. `["C4", "p4"]`).
    #[serde(default)]
    pub subgroups: Vec<String>,
    /// Training times (`inf` allowed).
    pub times: Vec<f64>,
    /// Learning rate η.
    #[serde(default = "one")]
    pub learning_rate: f64,
}

/// Ising configurations are square images: C4/D4 rotate them about the centre, p4/p4m read them
/// as the periodic lattice (MATH.md §5a).
const DOMAIN: Domain = Domain::Image;

impl InvarianceVsTime {
    /// Runs the study: one table row per network, augmentation and time.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        crate::augment::check_time_list(&self.times)?;
        if self.train == 0 || self.test == 0 {
            return Err(Error::Invalid("train and test must be ≥ 1".into()));
        }
        let mut sampler = IsingSampler::new(
            self.lattice,
            self.temperature,
            2 * (self.train + self.test),
            50,
            2,
        );
        sampler.seed = self.seed;
        sampler.start = IsingStart::Random;
        let data = sampler.sample()?;
        let x = data.inputs.slice(0, self.train)?;
        let y = data.targets.subrows(0, self.train).to_owned();
        let xt = data.inputs.slice(self.train, self.train + self.test)?;
        let shape = x.shape().to_vec();
        let full = FiniteAugmentation::from_spec(&GroupSpec::parse(&self.group)?, DOMAIN, &shape)?;
        let orbits = full.orbit_batch(&xt)?;
        let mut augs: Vec<(String, Option<FiniteAugmentation>)> = vec![("none".into(), None)];
        for s in &self.subgroups {
            augs.push((
                s.clone(),
                Some(FiniteAugmentation::from_spec(
                    &GroupSpec::parse(s)?,
                    DOMAIN,
                    &shape,
                )?),
            ));
        }
        augs.push((
            format!("{} (full)", full.name()),
            Some(FiniteAugmentation::from_spec(
                &GroupSpec::parse(&self.group)?,
                DOMAIN,
                &shape,
            )?),
        ));

        let mut table = Table::new(
            self.title.clone(),
            vec![
                Column::new("network", Align::Left),
                Column::new("augmentation", Align::Left),
                Column::math("t", Align::Right).with_format(FloatFormat::Significant(3)),
                Column::new("mean rel. error", Align::Right)
                    .with_format(FloatFormat::Scientific(2)),
                Column::new("max rel. error", Align::Right).with_format(FloatFormat::Scientific(2)),
            ],
        );
        let mut plot = LinePlot {
            title: self.title.clone(),
            x_label: "training time t".into(),
            y_label: "relative invariance error".into(),
            log_x: true,
            log_y: true,
            series: vec![],
        };
        let runs: usize = self
            .nets
            .iter()
            .map(|n| if n.plain_only { 1 } else { augs.len() })
            .sum();
        let bar = progress_bar(runs, ctx.progress, "invariance vs time");
        for named in &self.nets {
            let net = ctx.network_on(&named.path, DOMAIN)?;
            for (label, aug) in &augs {
                if named.plain_only && aug.is_some() {
                    continue;
                }
                let set = match aug {
                    None => TrainingSet::Given,
                    Some(group) => TrainingSet::Orbit {
                        group,
                        targets: OutputTransform::Invariant,
                    },
                };
                let means =
                    InfiniteEnsemble::train(&net, &x, y.as_ref(), set, self.learning_rate, 0.0)?
                        .predict(&orbits, &self.times, false)?
                        .mean;
                let mut points = Vec::new();
                for (&t, m) in self.times.iter().zip(&means) {
                    let s = orbit_summary(m.as_ref(), full.order(), OutputRep::Invariant)?;
                    table.push_row(vec![
                        named.name.clone().into(),
                        label.clone().into(),
                        time_cell(t),
                        error_cell(s.rel_error.mean),
                        error_cell(s.rel_error.max),
                    ])?;
                    if t > 0.0 && t.is_finite() {
                        points.push((t, log_floor(s.rel_error.mean)));
                    }
                }
                plot.series
                    .push(Series::new(format!("{}, {label}", named.name), points));
                bar.inc(1);
            }
        }
        bar.finish_and_clear();
        Ok(Report {
            tables: vec![("invariance_vs_time".into(), table)],
            plots: vec![("invariance_vs_time".into(), plot)],
        })
    }
}
