//! O, I (and Oh) → SO(3): how far the finite-group-augmented mean is from its continuous limit
//! (SO3 for rotation groups, O3 for groups holding the inversion), and how far it is from
//! SO(3)-invariant, on Haar-random rotations of several test clusters (the 3-D counterpart of
//! `so2_convergence`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::invariance_time::NamedNet;
use super::report::{error_cell, log_floor, Report};
use super::rotation3::{lj_data, means, rotated};
use super::{progress_bar, RunContext};
use crate::action::Domain;
use crate::augment::orbit::orbit_summary;
use crate::error::{Error, Result};
use crate::group::{Matrix3, Rotation3Group, So3};
use crate::metrics::OutputRep;
use crate::report::{Align, Column, FloatFormat, LinePlot, Series, Table};

/// Parameters of `kind = "so3_convergence"` (Lennard-Jones clusters, target the energy).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct So3Convergence {
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
    /// Finite groups (`O`, `Oh`, `I`).
    pub groups: Vec<String>,
    /// Random rotations per test orbit (besides the identity).
    pub rotations: usize,
    /// Training time t (`inf` allowed).
    pub time: f64,
}

impl So3Convergence {
    /// Runs the study: one row per network and group.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        crate::augment::check_time_list(&[self.time])?;
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
                Column::new("group", Align::Left),
                Column::math("|G|", Align::Right),
                Column::new("limit", Align::Left),
                Column::new("max |μ_G − μ_lim| / max |μ_lim|", Align::Right)
                    .with_format(FloatFormat::Scientific(2)),
                Column::new("SO(3) invariance error (rel.)", Align::Right)
                    .with_format(FloatFormat::Scientific(2)),
            ],
        );
        let mut plot = LinePlot {
            title: self.title.clone(),
            x_label: "order |G| of the augmentation group".into(),
            y_label: "relative distance to the continuous limit".into(),
            log_x: true,
            log_y: true,
            series: vec![],
        };
        let bar = progress_bar(
            self.nets.len() * (self.groups.len() + 2),
            ctx.progress,
            "O, I → SO(3)",
        );
        for named in &self.nets {
            let net = ctx.network_on(&named.path, Domain::Points)?;
            let t = [self.time];
            let so3 = means(&net, &x, &y, "SO3", &orbits, &t, 1.0)?.remove(0);
            bar.inc(1);
            let mut o3 = None;
            let mut points = Vec::new();
            for g in &self.groups {
                let group = Rotation3Group::from_name(g)
                    .filter(|g| g.order().is_some())
                    .ok_or_else(|| Error::Group(format!("{g:?} is not O, Oh or I")))?;
                let limit = if group.has_inversion() {
                    if o3.is_none() {
                        o3 = Some(means(&net, &x, &y, "O3", &orbits, &t, 1.0)?.remove(0));
                        bar.inc(1);
                    }
                    o3.as_ref().unwrap_or(&so3)
                } else {
                    &so3
                };
                let m = means(&net, &x, &y, g, &orbits, &t, 1.0)?.remove(0);
                let scale = (0..limit.nrows()).fold(0.0_f64, |a, i| a.max(limit[(i, 0)].abs()));
                let gap = (0..m.nrows())
                    .fold(0.0_f64, |a, i| a.max((m[(i, 0)] - limit[(i, 0)]).abs()))
                    / scale.max(1e-300);
                let inv = orbit_summary(m.as_ref(), rs.len(), OutputRep::Invariant)?;
                let order = group.order().unwrap_or(0);
                table.push_row(vec![
                    named.name.clone().into(),
                    g.clone().into(),
                    order.into(),
                    (if group.has_inversion() { "O3" } else { "SO3" }).into(),
                    error_cell(gap),
                    error_cell(inv.rel_error.max),
                ])?;
                points.push((order as f64, log_floor(gap)));
                bar.inc(1);
            }
            plot.series.push(Series::new(named.name.clone(), points));
        }
        bar.finish_and_clear();
        Ok(Report {
            tables: vec![("so3_convergence".into(), table)],
            plots: vec![("so3_convergence".into(), plot)],
        })
    }
}
