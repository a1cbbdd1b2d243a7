//! SO(3) invariance error of μ_t vs training time t on Lennard-Jones clusters (target the
//! energy), without augmentation and augmented with finite groups (O, I) and with all of SO3.
//! Errors are measured on orbits of the test clusters under Haar-random rotations
//! (`OrbitMetrics`, MATH.md §8: relative spread of μ_t over each orbit).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::invariance_time::NamedNet;
use super::report::{error_cell, log_floor, time_cell, Report};
use super::rotation3::{lj_data, means, rotated};
use super::{progress_bar, RunContext};
use crate::action::Domain;
use crate::augment::orbit::orbit_summary;
use crate::error::Result;
use crate::group::{Matrix3, So3};
use crate::metrics::OutputRep;
use crate::report::{Align, Column, FloatFormat, LinePlot, Series, Table};

fn one() -> f64 {
    1.0
}

/// Parameters of `kind = "so3_invariance_vs_time"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct So3InvarianceVsTime {
    /// Caption.
    pub title: String,
    /// Networks (input `[P, 3]`, domain `points`).
    pub nets: Vec<NamedNet>,
    /// Atoms per cluster P.
    pub atoms: usize,
    /// Training clusters.
    pub train: usize,
    /// Test clusters.
    pub test: usize,
    /// Seed of the data and of the rotations.
    pub seed: u64,
    /// Augmentations, one curve each (`none`, `O`, `Oh`, `I`, `SO3`, `O3`).
    pub groups: Vec<String>,
    /// Random rotations per test orbit (besides the identity).
    pub rotations: usize,
    /// Training times (`inf` allowed).
    pub times: Vec<f64>,
    /// Learning rate η.
    #[serde(default = "one")]
    pub learning_rate: f64,
}

impl So3InvarianceVsTime {
    /// Runs the study: one row per network, augmentation and time.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        crate::augment::check_time_list(&self.times)?;
        let (x, y, xt) = lj_data(self.atoms, self.train, self.test, self.seed)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5eed);
        let rs: Vec<Matrix3> = std::iter::once(Matrix3::IDENTITY)
            .chain((0..self.rotations).map(|_| So3.random(&mut rng)))
            .collect();
        let orbits = rotated(&xt, &rs)?;
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
            y_label: "relative SO(3) invariance error".into(),
            log_x: true,
            log_y: true,
            series: vec![],
        };
        let bar = progress_bar(
            self.nets.len() * self.groups.len(),
            ctx.progress,
            "SO(3) invariance vs time",
        );
        for named in &self.nets {
            let net = ctx.network_on(&named.path, Domain::Points)?;
            for g in &self.groups {
                let ms = means(&net, &x, &y, g, &orbits, &self.times, self.learning_rate)?;
                let mut points = Vec::new();
                for (&t, m) in self.times.iter().zip(&ms) {
                    let s = orbit_summary(m.as_ref(), rs.len(), OutputRep::Invariant)?;
                    table.push_row(vec![
                        named.name.clone().into(),
                        g.clone().into(),
                        time_cell(t),
                        error_cell(s.rel_error.mean),
                        error_cell(s.rel_error.max),
                    ])?;
                    if t > 0.0 && t.is_finite() {
                        points.push((t, log_floor(s.rel_error.mean)));
                    }
                }
                plot.series
                    .push(Series::new(format!("{}, {g}", named.name), points));
                bar.inc(1);
            }
        }
        bar.finish_and_clear();
        Ok(Report {
            tables: vec![("so3_invariance_vs_time".into(), table)],
            plots: vec![("so3_invariance_vs_time".into(), plot)],
        })
    }
}
