//! (e) The `C_k → SO(2)` error table: how far the `C_k`-augmented mean is from the exact SO(2)
//! limit, and how far it is from invariant on SO(2) orbits.

use std::f64::consts::PI;

use serde::Deserialize;

use super::report::{error_cell, log_floor, Report};
use super::{progress_bar, RunContext};
use crate::action::Domain;
use crate::augment::orbit::{orbit_summary, so2_orbit_batch};
use crate::augment::{
    FiniteAugmentation, InfiniteEnsemble, OutputTransform, RotationKind, TrainingSet,
};
use crate::dataset::{PointSets, PointTarget};
use crate::error::Result;
use crate::group::GroupSpec;
use crate::metrics::OutputRep;
use crate::report::{Align, Column, FloatFormat, LinePlot, Series, Table};

/// Parameters of `kind = "so2_convergence"` (point sets, invariant target).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct So2Convergence {
    /// Caption.
    pub title: String,
    /// Network files with labels (input `[P, 2]`).
    pub nets: Vec<super::invariance_time::NamedNet>,
    /// Points per set P.
    pub points: usize,
    /// Training sets N.
    pub train: usize,
    /// Test sets.
    pub test: usize,
    /// Seed of the data.
    pub seed: u64,
    /// The orders k of the subgroups C_k.
    pub orders: Vec<usize>,
    /// Training time t (`inf` allowed).
    pub time: f64,
    /// Angles of the SO(2) test orbits (equally spaced in `[0, 2π)`).
    pub angles: usize,
}

impl So2Convergence {
    /// Runs the study: one row per network and k.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        crate::augment::check_time_list(&[self.time])?;
        let data = PointSets {
            points: self.points,
            count: self.train + self.test,
            target: PointTarget::PairwiseDistanceSum,
            seed: self.seed,
        }
        .sample()?;
        let x = data.inputs.slice(0, self.train)?;
        let y = data.targets.subrows(0, self.train).to_owned();
        let xt = data.inputs.slice(self.train, self.train + self.test)?;
        let shape = x.shape().to_vec();
        // Irrational-looking offsets so that no test angle lies on a C_k grid.
        let angles: Vec<f64> = (0..self.angles.max(1))
            .map(|k| (2.0 * PI * k as f64 + 0.1 * (k % 3) as f64) / self.angles.max(1) as f64)
            .collect();
        let orbit = so2_orbit_batch(RotationKind::Points, &xt, &angles)?;
        let mut table = Table::new(
            self.title.clone(),
            vec![
                Column::new("network", Align::Left),
                Column::math("k", Align::Right),
                Column::new("max |μ_Ck − μ_SO2| / max |μ_SO2|", Align::Right)
                    .with_format(FloatFormat::Scientific(2)),
                Column::new("SO(2) invariance error (rel.)", Align::Right)
                    .with_format(FloatFormat::Scientific(2)),
            ],
        );
        let mut plot = LinePlot {
            title: self.title.clone(),
            x_label: "order k of the augmentation group C_k".into(),
            y_label: "relative distance to the SO(2) limit".into(),
            log_x: true,
            log_y: true,
            series: vec![],
        };
        let bar = progress_bar(
            self.nets.len() * (self.orders.len() + 1),
            ctx.progress,
            "C_k → SO(2)",
        );
        for named in &self.nets {
            let net = ctx.network_on(&named.path, Domain::Points)?;
            let so2 = TrainingSet::RotationOrbit {
                kind: RotationKind::Points,
                reflections: false,
                targets: OutputTransform::Invariant,
            };
            let limit = InfiniteEnsemble::train(&net, &x, y.as_ref(), so2, 1.0, 0.0)?
                .mean(&orbit, self.time)?;
            bar.inc(1);
            let scale = (0..limit.nrows()).fold(0.0_f64, |m, i| m.max(limit[(i, 0)].abs()));
            let mut points = Vec::new();
            for &k in &self.orders {
                let aug =
                    FiniteAugmentation::from_spec(&GroupSpec::Cyclic(k), net.domain(), &shape)?;
                let set = TrainingSet::Orbit {
                    group: &aug,
                    targets: OutputTransform::Invariant,
                };
                let m = InfiniteEnsemble::train(&net, &x, y.as_ref(), set, 1.0, 0.0)?
                    .mean(&orbit, self.time)?;
                let gap = (0..m.nrows())
                    .fold(0.0_f64, |a, i| a.max((m[(i, 0)] - limit[(i, 0)]).abs()))
                    / scale.max(1e-300);
                let inv = orbit_summary(m.as_ref(), angles.len(), OutputRep::Invariant)?;
                table.push_row(vec![
                    named.name.clone().into(),
                    k.into(),
                    error_cell(gap),
                    error_cell(inv.rel_error.max),
                ])?;
                points.push((k as f64, log_floor(gap)));
                bar.inc(1);
            }
            plot.series.push(Series::new(named.name.clone(), points));
        }
        bar.finish_and_clear();
        Ok(Report {
            tables: vec![("so2_convergence".into(), table)],
            plots: vec![("so2_convergence".into(), plot)],
        })
    }
}
