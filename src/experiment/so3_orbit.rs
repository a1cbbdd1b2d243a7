//! μ_t along a one-parameter SO(3) orbit `α ↦ R_n(α) x` (rotations by α ∈ [0, 2π] about a
//! seeded axis n) of a test Lennard-Jones cluster, for ensembles trained without augmentation
//! and augmented with O, I, SO3, …: the SO3 curve is flat, the finite groups' wiggle less as
//! the group grows.

use std::f64::consts::PI;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;

use super::report::Report;
use super::rotation3::{lj_data, means, rotated};
use super::{progress_bar, RunContext};
use crate::action::Domain;
use crate::error::Result;
use crate::group::Matrix3;
use crate::report::{Align, Column, FloatFormat, LinePlot, Series, Table};

/// Parameters of `kind = "so3_orbit"` (Lennard-Jones clusters, target the energy).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct So3Orbit {
    /// Caption.
    pub title: String,
    /// Network file (input `[P, 3]`, domain `points`).
    pub net: String,
    /// Atoms per cluster P.
    pub atoms: usize,
    /// Training clusters.
    pub train: usize,
    /// Seed of the data and of the axis.
    pub seed: u64,
    /// `none`, `O`, `Oh`, `I`, `SO3`, `O3`, one curve each.
    pub groups: Vec<String>,
    /// Angles in `[0, 2π]`, endpoints included.
    pub angles: usize,
    /// Training time t (`inf` allowed).
    pub time: f64,
}

impl So3Orbit {
    /// Runs the study: one column per group, one row per angle.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        crate::augment::check_time_list(&[self.time])?;
        let net = ctx.network_on(&self.net, Domain::Points)?;
        let (x, y, xt) = lj_data(self.atoms, self.train, 1, self.seed)?;
        // a Gaussian direction: uniform on the sphere
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5eed);
        let axis: [f64; 3] = std::array::from_fn(|_| StandardNormal.sample(&mut rng));
        let angles: Vec<f64> = (0..self.angles)
            .map(|k| 2.0 * PI * k as f64 / (self.angles - 1) as f64)
            .collect();
        let rotations: Vec<Matrix3> = angles
            .iter()
            .map(|&a| Matrix3::from_axis_angle(axis, a))
            .collect();
        let orbit = rotated(&xt, &rotations)?;
        let bar = progress_bar(self.groups.len(), ctx.progress, "SO(3) orbit");
        let mut columns =
            vec![Column::math("\\alpha", Align::Right).with_format(FloatFormat::Fixed(4))];
        let mut curves = Vec::new();
        for g in &self.groups {
            let m = means(&net, &x, &y, g, &orbit, &[self.time], 1.0)?;
            columns.push(
                Column::new(g.clone(), Align::Right).with_format(FloatFormat::Significant(6)),
            );
            curves.push((g.clone(), (0..angles.len()).map(|k| m[0][(k, 0)]).collect()));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let mut table = Table::new(self.title.clone(), columns);
        for (k, &a) in angles.iter().enumerate() {
            let mut row = vec![a.into()];
            row.extend(curves.iter().map(|c: &(String, Vec<f64>)| c.1[k].into()));
            table.push_row(row)?;
        }
        let plot = LinePlot {
            title: self.title.clone(),
            x_label: "rotation angle α about the axis n".into(),
            y_label: "ensemble mean μ_t(R_n(α) x)".into(),
            log_x: false,
            log_y: false,
            series: curves
                .into_iter()
                .map(|(name, v)| Series::new(name, angles.iter().copied().zip(v).collect()))
                .collect(),
        };
        Ok(Report {
            tables: vec![("so3_orbit".into(), table)],
            plots: vec![("so3_orbit".into(), plot)],
        })
    }
}
