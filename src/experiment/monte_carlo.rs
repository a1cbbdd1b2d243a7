//! (d) Monte-Carlo convergence of the analytic kernels: the mean of the empirical NNGP and NTK
//! of finite networks approaches K and Θ as the width grows (MATH.md §9).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;

use super::ensemble_size::log_log_slope;
use super::report::{log_floor, Report};
use super::{progress_bar, RunContext};
use crate::data::Batch;
use crate::error::Result;
use crate::finite::monte_carlo;
use crate::report::{Align, Column, FloatFormat, LinePlot, Series, Table};

/// Parameters of `kind = "monte_carlo"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonteCarloConvergence {
    /// Caption.
    pub title: String,
    /// Network files with labels.
    pub nets: Vec<super::invariance_time::NamedNet>,
    /// Number of Gaussian inputs.
    pub inputs: usize,
    /// Widths n.
    pub widths: Vec<usize>,
    /// Networks per width.
    pub samples: usize,
    /// Seed of inputs and networks.
    pub seed: u64,
}

fn max_abs(m: &faer::Mat<f64>) -> f64 {
    (0..m.ncols()).fold(0.0_f64, |a, j| (0..m.nrows()).fold(a, |a, i| a.max(m[(i, j)].abs())))
}

fn max_rel_diff(a: &faer::Mat<f64>, b: &faer::Mat<f64>) -> f64 {
    (0..a.ncols()).fold(0.0_f64, |m, j| {
        (0..a.nrows()).fold(m, |m, i| m.max((a[(i, j)] - b[(i, j)]).abs()))
    }) / max_abs(b).max(1e-300)
}

impl MonteCarloConvergence {
    /// Runs the study: one row per network and width.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        let mut table = Table::new(
            self.title.clone(),
            vec![
                Column::new("network", Align::Left),
                Column::new("width", Align::Right),
                Column::new("NNGP rel. error", Align::Right).with_format(FloatFormat::Scientific(2)),
                Column::new("NTK rel. error", Align::Right).with_format(FloatFormat::Scientific(2)),
                Column::new("NTK std. error (rel.)", Align::Right)
                    .with_format(FloatFormat::Scientific(2)),
            ],
        );
        let mut slopes = Table::new(
            format!("{}: log-log slope in the width", self.title),
            vec![
                Column::new("network", Align::Left),
                Column::new("NNGP slope", Align::Right).with_format(FloatFormat::Fixed(2)),
                Column::new("NTK slope", Align::Right).with_format(FloatFormat::Fixed(2)),
            ],
        );
        let mut plot = LinePlot {
            title: self.title.clone(),
            x_label: "width n".into(),
            y_label: "max relative error of the Monte-Carlo mean".into(),
            log_x: true,
            log_y: true,
            series: vec![],
        };
        let bar = progress_bar(self.nets.len() * self.widths.len(), ctx.progress, "Monte Carlo");
        for named in &self.nets {
            let net = ctx.network(&named.path)?;
            let shape = net.input_shape().to_vec();
            let per: usize = shape.iter().product();
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            let values = (0..self.inputs * per).map(|_| StandardNormal.sample(&mut rng)).collect();
            let x = Batch::new(shape, values)?;
            let k = net.kernel(&x, None)?;
            let (nngp, ntk) = (k.nngp()?, k.ntk()?);
            let (mut pk, mut pt) = (Vec::new(), Vec::new());
            for &w in &self.widths {
                let mc = monte_carlo(&net, &x, None, w, self.samples, self.seed)?;
                let ek = max_rel_diff(&mc.nngp_mean, &nngp);
                let et = max_rel_diff(&mc.ntk_mean, &ntk);
                let se = max_abs(&mc.ntk_se) / max_abs(&ntk).max(1e-300);
                table.push_row(vec![
                    named.name.clone().into(),
                    w.into(),
                    ek.into(),
                    et.into(),
                    se.into(),
                ])?;
                pk.push((w as f64, log_floor(ek)));
                pt.push((w as f64, log_floor(et)));
                bar.inc(1);
            }
            slopes.push_row(vec![
                named.name.clone().into(),
                log_log_slope(&pk).into(),
                log_log_slope(&pt).into(),
            ])?;
            plot.series.push(Series::new(format!("{} NNGP", named.name), pk));
            plot.series.push(Series::new(format!("{} NTK", named.name), pt));
        }
        bar.finish_and_clear();
        Ok(Report {
            tables: vec![
                ("monte_carlo".into(), table),
                ("monte_carlo_slopes".into(), slopes),
            ],
            plots: vec![("monte_carlo".into(), plot)],
        })
    }
}
