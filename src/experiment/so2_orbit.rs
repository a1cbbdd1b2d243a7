//! (b) The prediction along the SO(2) orbit of a test input (angle on the x-axis) for ensembles
//! augmented with `C_k` and with all of SO(2): the figure of the talk.

use std::f64::consts::PI;

use serde::Deserialize;

use super::report::Report;
use super::{progress_bar, RunContext};
use crate::action::Domain;
use crate::augment::orbit::so2_orbit_batch;
use crate::augment::{
    FiniteAugmentation, InfiniteEnsemble, OutputTransform, RotationKind, TrainingSet,
};
use crate::dataset::{PointSets, PointTarget};
use crate::error::{Error, Result};
use crate::group::GroupSpec;
use crate::report::{Align, Column, FloatFormat, LinePlot, Series, Table};

/// Parameters of `kind = "so2_orbit"` (point sets `[P, 2]`, invariant target Σ pairwise
/// distances).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct So2Orbit {
    /// Caption.
    pub title: String,
    /// Network file (input `[P, 2]`).
    pub net: String,
    /// Points per set P.
    pub points: usize,
    /// Training sets N.
    pub train: usize,
    /// Seed of the data.
    pub seed: u64,
    /// Augmentations: `C<k>` or `SO2`.
    pub groups: Vec<String>,
    /// Number of equally spaced angles in `[0, 2π]` (both ends included).
    pub angles: usize,
    /// Training time t (`inf` allowed).
    pub time: f64,
}

impl So2Orbit {
    /// Runs the study: a table of μ_t(R_θ x) per angle and group, and the plot.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        crate::augment::check_time_list(&[self.time])?;
        if self.angles < 2 {
            return Err(Error::Invalid("angles must be ≥ 2".into()));
        }
        let net = ctx.network_on(&self.net, Domain::Points)?;
        let data = PointSets {
            points: self.points,
            count: self.train + 1,
            target: PointTarget::PairwiseDistanceSum,
            seed: self.seed,
        }
        .sample()?;
        let x = data.inputs.slice(0, self.train)?;
        let y = data.targets.subrows(0, self.train).to_owned();
        let xt = data.inputs.slice(self.train, self.train + 1)?;
        let shape = x.shape().to_vec();
        let angles: Vec<f64> = (0..self.angles)
            .map(|k| 2.0 * PI * k as f64 / (self.angles - 1) as f64)
            .collect();
        let orbit = so2_orbit_batch(RotationKind::Points, &xt, &angles)?;
        let bar = progress_bar(self.groups.len(), ctx.progress, "SO(2) orbit");
        let mut columns =
            vec![Column::math("\\theta", Align::Right).with_format(FloatFormat::Fixed(4))];
        let mut curves = Vec::new();
        for g in &self.groups {
            let spec = GroupSpec::parse(g)?;
            let aug = match spec.so2() {
                Some(_) => None,
                None => Some(FiniteAugmentation::from_spec(&spec, net.domain(), &shape)?),
            };
            let set = match &aug {
                Some(group) => TrainingSet::Orbit {
                    group,
                    targets: OutputTransform::Invariant,
                },
                None => TrainingSet::RotationOrbit {
                    kind: RotationKind::Points,
                    reflections: false,
                    targets: OutputTransform::Invariant,
                },
            };
            let mean = InfiniteEnsemble::train(&net, &x, y.as_ref(), set, 1.0, 0.0)?
                .mean(&orbit, self.time)?;
            columns.push(
                Column::new(g.clone(), Align::Right).with_format(FloatFormat::Significant(6)),
            );
            curves.push((
                g.clone(),
                (0..angles.len())
                    .map(|k| mean[(k, 0)])
                    .collect::<Vec<f64>>(),
            ));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let mut table = Table::new(self.title.clone(), columns);
        for (k, &a) in angles.iter().enumerate() {
            let mut row = vec![a.into()];
            row.extend(curves.iter().map(|c| c.1[k].into()));
            table.push_row(row)?;
        }
        let plot = LinePlot {
            title: self.title.clone(),
            x_label: "rotation angle θ of the test input".into(),
            y_label: "ensemble mean μ_t(R_θ x)".into(),
            log_x: false,
            log_y: false,
            series: curves
                .into_iter()
                .map(|(name, v)| Series::new(name, angles.iter().copied().zip(v).collect()))
                .collect(),
        };
        Ok(Report {
            tables: vec![("so2_orbit".into(), table)],
            plots: vec![("so2_orbit".into(), plot)],
        })
    }
}
