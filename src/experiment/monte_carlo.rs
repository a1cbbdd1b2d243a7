//! (d) Monte-Carlo convergence of the analytic kernels: the mean of the empirical NNGP and NTK
//! of finite networks approaches K and Θ as the width grows (MATH.md §9).
//!
//! The empirical NTK self-averages (its spread shrinks like `n^{−1/2}`), so its relative error
//! is tabulated and fitted against the width. The empirical NNGP `f(x) f(x')` does not: its
//! spread is O(1) at any width, so it is reported as the largest deviation in standard errors
//! (`z`, expected ≲ 4).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;

use super::ensemble_size::slope_cell;
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
    (0..m.ncols()).fold(0.0_f64, |a, j| {
        (0..m.nrows()).fold(a, |a, i| a.max(m[(i, j)].abs()))
    })
}

fn max_rel_diff(a: &faer::Mat<f64>, b: &faer::Mat<f64>) -> f64 {
    (0..a.ncols()).fold(0.0_f64, |m, j| {
        (0..a.nrows()).fold(m, |m, i| m.max((a[(i, j)] - b[(i, j)]).abs()))
    }) / max_abs(b).max(1e-300)
}

/// `max |mean − exact| / se` over entries with `se > 0`: agreement in standard errors.
fn max_z(mean: &faer::Mat<f64>, exact: &faer::Mat<f64>, se: &faer::Mat<f64>) -> f64 {
    let mut z = 0.0_f64;
    for j in 0..mean.ncols() {
        for i in 0..mean.nrows() {
            if se[(i, j)] > 0.0 {
                z = z.max((mean[(i, j)] - exact[(i, j)]).abs() / se[(i, j)]);
            }
        }
    }
    z
}

impl MonteCarloConvergence {
    /// Runs the study: one row per network and width.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        let mut table = Table::new(
            self.title.clone(),
            vec![
                Column::new("network", Align::Left),
                Column::new("width", Align::Right),
                Column::new("NNGP max z", Align::Right).with_format(FloatFormat::Fixed(2)),
                Column::new("NTK rel. error", Align::Right).with_format(FloatFormat::Scientific(2)),
                Column::new("NTK max z", Align::Right).with_format(FloatFormat::Fixed(2)),
            ],
        );
        let mut slopes = Table::new(
            format!(
                "{}: log-log slope of the NTK error in the width",
                self.title
            ),
            vec![
                Column::new("network", Align::Left),
                Column::new("NTK slope", Align::Right).with_format(FloatFormat::Fixed(2)),
            ],
        );
        let mut plot = LinePlot {
            title: self.title.clone(),
            x_label: "width n".into(),
            y_label: "max relative error of the Monte-Carlo mean NTK".into(),
            log_x: true,
            log_y: true,
            series: vec![],
        };
        let bar = progress_bar(
            self.nets.len() * self.widths.len(),
            ctx.progress,
            "Monte Carlo",
        );
        for named in &self.nets {
            let net = ctx.network(&named.path)?;
            crate::budget::check_finite_networks(&net, &self.widths, self.samples, self.inputs)?;
            let shape = net.input_shape().to_vec();
            let per: usize = shape.iter().product();
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            let values = (0..self.inputs * per)
                .map(|_| StandardNormal.sample(&mut rng))
                .collect();
            let x = Batch::new(shape, values)?;
            let k = net.kernel(&x, None)?;
            let (nngp, ntk) = (k.nngp()?, k.ntk()?);
            let mut pt = Vec::new();
            for &w in &self.widths {
                let mc = monte_carlo(&net, &x, None, w, self.samples, self.seed)?;
                let zk = max_z(&mc.nngp_mean, &nngp, &mc.nngp_se);
                let et = max_rel_diff(&mc.ntk_mean, &ntk);
                let zt = max_z(&mc.ntk_mean, &ntk, &mc.ntk_se);
                table.push_row(vec![
                    named.name.clone().into(),
                    w.into(),
                    zk.into(),
                    et.into(),
                    zt.into(),
                ])?;
                pt.push((w as f64, log_floor(et)));
                bar.inc(1);
            }
            slopes.push_row(vec![
                named.name.clone().into(),
                slope_cell(&pt, "needs ≥ 2 widths"),
            ])?;
            plot.series
                .push(Series::new(format!("{} NTK", named.name), pt));
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
