//! `kind = "kernel_regression"`: infinite-ensemble (NTK) predictors trained on a researcher's
//! data set, with and without augmentation, scored on its test set over training time and
//! training-set size.
//!
//! ```toml
//! kind = "kernel_regression"
//! title = "Rotated digits"
//! data = "../data/digits/digits_rotated.npz"     # x_train, y_train, x_test, y_test, or x, y
//! split = { test = 797, seed = 0 }               # for x, y: how many to test on
//! augment = ["none", "C4"]                       # full orbits of the training set
//! times = [1, 10, 100, inf]
//! metrics = ["accuracy", "osp", "invariance", "mse"]
//! osp_group = "C4"                               # needed for osp and invariance
//! train_sizes = [100, 300, 1000]                 # optional: a learning curve
//! repeats = 3                                    # seeded subsets per size (default 1)
//! [[nets]]
//! name = "CNN"
//! path = "nets/cnn_digits.toml"
//! ```
//!
//! The predictor at time `t` is the mean of an infinite ensemble trained by gradient flow on
//! MSE (`μ_t`, MATH.md §8): on the training set as given (`"none"`), or on its full orbit
//! under a group acting on the network's declared input domain, solved irrep by irrep. Metrics:
//!
//! * `accuracy` — share of test examples whose largest output is their class;
//! * `mse` — mean over test examples and outputs of `(μ_t(x) − y)²` (centred one-hot targets
//!   for classes);
//! * `osp` — orbit same prediction: for each test input the number of `g ∈ osp_group` with
//!   `argmax μ_t(g·x) = argmax μ_t(x)`, averaged (|G| for an invariant classifier);
//! * `invariance` — mean over test inputs of the relative invariance error of `μ_t` over the
//!   orbit of `osp_group`.
//!
//! With `repeats > 1` (or a training size below the whole set) each training subset is the
//! first `n` of a seeded shuffle (seed `seed + r` for repeat `r`); the table reports the mean
//! over repeats. Outputs: `kernel_regression.{md,tex,csv}` with one row per network,
//! augmentation, training size and time (columns `network`, `augmentation`, `train_size`,
//! `time` and the metrics, in the order asked), and SVG plots of accuracy and OSP over time and
//! of accuracy over the training-set size.
//!
//! **Finite ensembles** (optional, [`FiniteEnsembles`]):
//!
//! ```toml
//! [finite_ensembles]
//! width = 128              # hidden channels of the trained networks
//! members = [1, 4, 16]     # ensemble sizes M (increasing): the mean of the first M members
//! learning_rate = 25       # gradient-descent step: t = steps × learning_rate / η
//! seed = 0                 # member m from seed + m
//! ```
//!
//! trains `max(members)` networks by gradient descent on every training subset as given and on
//! its full orbit, the same data as the infinite ensemble, and scores them at every finite time
//! with the same metrics. The table gains a column `ensemble` (before `time`): `infinite` (μ_t,
//! every time), `M=k` (the mean of the first k members) and `member` (each member's metric,
//! averaged over the members), finite times only; the time plots get one series per predictor
//! (`CNN, C4, M=16`), the training-size plot keeps the infinite ensemble. Without the table the
//! output is as before. Its sizes are checked before anything is trained: members, width and
//! steps when the file is read, the weights, the recorded predictions and the work (members ×
//! steps × training examples × passes, at most [`crate::budget::MAX_FINITE_WORK`] times
//! `--work`) before the first kernel.

use serde::Deserialize;

use super::finite_regression::Predictions;
use super::invariance_time::NamedNet;
use super::report::{error_cell, time_cell, Report};
use super::FiniteEnsembles;
use super::{progress_bar, RunContext};
use crate::augment::orbit::orbit_summary;
use crate::augment::{FiniteAugmentation, InfiniteEnsemble, OutputTransform, TrainingSet};
use crate::data::Batch;
use crate::dataset::{accuracy, argmax, LabelledData, Labels, Split};
use crate::error::{Error, Result};
use crate::group::GroupSpec;
use crate::metrics::OutputRep;
use crate::report::{Align, Cell, Column, FloatFormat, LinePlot, Series, Table};

fn one() -> f64 {
    1.0
}
fn one_repeat() -> usize {
    1
}
fn none_only() -> Vec<String> {
    vec!["none".into()]
}
fn accuracy_only() -> Vec<String> {
    vec!["accuracy".into()]
}

/// `split = { test, seed }` of a file holding `x`, `y`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    /// Test examples.
    pub test: usize,
    /// Seed of the shuffle.
    #[serde(default)]
    pub seed: u64,
}

/// Parameters of `kind = "kernel_regression"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelRegression {
    /// Caption of the table and plots.
    pub title: String,
    /// The data set (`.npz`), relative to the experiment file.
    pub data: String,
    /// How to split `x`, `y`.
    #[serde(default)]
    pub split: Option<SplitSpec>,
    /// Networks.
    pub nets: Vec<NamedNet>,
    /// `"none"` and groups whose full orbits augment the training set.
    #[serde(default = "none_only")]
    pub augment: Vec<String>,
    /// Training times (`inf` allowed).
    pub times: Vec<f64>,
    /// Metrics, in table order: `accuracy`, `mse`, `osp`, `invariance`.
    #[serde(default = "accuracy_only")]
    pub metrics: Vec<String>,
    /// The group of `osp` and `invariance`.
    #[serde(default)]
    pub osp_group: Option<String>,
    /// Training-set sizes (default: the whole training set).
    #[serde(default)]
    pub train_sizes: Option<Vec<usize>>,
    /// Seeded training subsets per size.
    #[serde(default = "one_repeat")]
    pub repeats: usize,
    /// Seed of the subsets.
    #[serde(default)]
    pub seed: u64,
    /// Learning rate η.
    #[serde(default = "one")]
    pub learning_rate: f64,
    /// Ridge added to the training NTK.
    #[serde(default)]
    pub diag_reg: f64,
    /// Finite trained ensembles beside the infinite one ([`FiniteEnsembles`]).
    #[serde(default)]
    pub finite_ensembles: Option<FiniteEnsembles>,
}

const METRICS: [&str; 4] = ["accuracy", "mse", "osp", "invariance"];

impl KernelRegression {
    /// The metric names and training sizes checked (before any kernel is computed).
    pub(super) fn validate_keys(&self) -> std::result::Result<(), (String, String)> {
        for m in &self.metrics {
            if !METRICS.contains(&m.as_str()) {
                return Err((
                    "metrics".into(),
                    format!("unknown metric {m:?} (one of {})", METRICS.join(", ")),
                ));
            }
        }
        if self.metrics.is_empty() {
            return Err(("metrics".into(), "`metrics` must not be empty".into()));
        }
        let needs_group = self.metrics.iter().any(|m| m == "osp" || m == "invariance");
        if needs_group && self.osp_group.is_none() {
            return Err((
                "osp_group".into(),
                "`osp` and `invariance` need `osp_group` (e.g. \"C4\")".into(),
            ));
        }
        if self.augment.is_empty() {
            return Err(("augment".into(), "`augment` must not be empty".into()));
        }
        Ok(())
    }

    /// Runs the study.
    pub fn run(&self, ctx: &RunContext) -> Result<Report> {
        crate::augment::check_time_list(&self.times)?;
        let path = ctx.base.join(&self.data);
        let data = LabelledData::from_npz(
            &path,
            self.split.map(|s| Split {
                test: s.test,
                seed: s.seed,
            }),
        )?;
        let classes = match &data.labels {
            Labels::Classes { test, .. } => Some(test.clone()),
            Labels::Real { .. } => None,
        };
        if classes.is_none() && self.metrics.iter().any(|m| m == "accuracy" || m == "osp") {
            return Err(Error::Invalid(format!(
                "{}: `accuracy` and `osp` need class labels; the data set has real targets",
                path.display()
            )));
        }
        let test_targets = match &data.labels {
            Labels::Classes { classes, test, .. } => crate::dataset::one_hot(test, *classes),
            Labels::Real { test, .. } => test.clone(),
        };
        let full = data.x_train.len();
        let sizes = self.train_sizes.clone().unwrap_or_else(|| vec![full]);
        if let Some(&n) = sizes.iter().find(|&&n| n == 0 || n > full) {
            return Err(Error::Invalid(format!(
                "train_sizes: {n} is not between 1 and the {full} training examples"
            )));
        }

        let finite = self.finite_ensembles.as_ref();
        // the finite times (indices into `times`) the finite ensembles are recorded at
        let finite_times: Vec<usize> = (0..self.times.len())
            .filter(|&k| self.times[k].is_finite())
            .collect();
        let finite_values: Vec<f64> = finite_times.iter().map(|&k| self.times[k]).collect();
        // the predictors of the `ensemble` column: the infinite one, then the finite ones
        let mut predictors = vec!["infinite".to_string()];
        if let Some(f) = finite {
            predictors.extend(f.labels());
        }

        let mut columns = vec![
            Column::new("network", Align::Left),
            Column::new("augmentation", Align::Left),
            Column::new("train_size", Align::Right),
        ];
        if finite.is_some() {
            columns.push(Column::new("ensemble", Align::Left));
        }
        columns.push(Column::new("time", Align::Right).with_format(FloatFormat::Significant(3)));
        for m in &self.metrics {
            let format = match m.as_str() {
                "accuracy" | "osp" => FloatFormat::Significant(4),
                _ => FloatFormat::Scientific(2),
            };
            columns.push(Column::new(m, Align::Right).with_format(format));
        }
        let mut table = Table::new(self.title.clone(), columns);
        let mut acc_time = plot(&self.title, "training time t", "test accuracy", true);
        let mut osp_time = plot(
            &self.title,
            "training time t",
            "orbit same prediction",
            true,
        );
        let mut acc_size = plot(&self.title, "training-set size", "test accuracy", true);

        self.check_sizes(ctx, &data, &sizes)?;
        let runs = self.nets.len() * self.augment.len() * sizes.len() * self.repeats;
        let bar = progress_bar(runs, ctx.progress, &self.title);
        for named in &self.nets {
            let net = ctx.network(&named.path)?;
            net.check_batch(&data.x_test, &format!("{} test", self.data))?;
            let domain = net.domain();
            let osp = self
                .osp_group
                .as_deref()
                .map(|g| {
                    FiniteAugmentation::from_spec(
                        &GroupSpec::parse(g)?,
                        domain,
                        data.x_test.shape(),
                    )
                })
                .transpose()?;
            // the test inputs, then (for osp / invariance) their orbits, input-major
            let eval = match &osp {
                Some(g) => g.orbit_batch(&data.x_test)?,
                None => data.x_test.clone(),
            };
            let order = osp.as_ref().map_or(1, |g| g.order());
            for aug in &self.augment {
                let group = match aug.as_str() {
                    "none" => None,
                    g => Some(FiniteAugmentation::from_spec(
                        &GroupSpec::parse(g)?,
                        domain,
                        data.x_train.shape(),
                    )?),
                };
                let mut at_last_time = Vec::new();
                for &n in &sizes {
                    // metrics[predictor][time][metric], summed over repeats
                    let mut sums = vec![
                        vec![vec![0.0; self.metrics.len()]; self.times.len()];
                        predictors.len()
                    ];
                    for r in 0..self.repeats {
                        let shuffle =
                            (n < full || self.repeats > 1).then_some(self.seed + r as u64);
                        let (x, y) = data.train_subset(n, shuffle)?;
                        let means = self.means(&net, group.as_ref(), &x, &y, &eval)?;
                        let score = |m: &faer::Mat<f64>| {
                            self.scores(m, order, classes.as_deref(), &test_targets)
                        };
                        for (ti, m) in means.iter().enumerate() {
                            add(&mut sums[0][ti], &score(m)?);
                        }
                        if let Some(f) = finite {
                            // the ensemble draws its own bar (members) while the study's waits
                            let run = bar.suspend(|| {
                                f.train(
                                    &net,
                                    group.as_ref(),
                                    &x,
                                    &y,
                                    &eval,
                                    &finite_values,
                                    self.learning_rate,
                                    ctx.progress,
                                )
                            })?;
                            for (k, &ti) in finite_times.iter().enumerate() {
                                let preds = Predictions::new(&run, k);
                                for (p, &m) in f.members.iter().enumerate() {
                                    add(&mut sums[1 + p][ti], &score(&preds.mean_of_first(m))?);
                                }
                                // each member alone, averaged over the members
                                let each = preds.members();
                                let mut member = vec![0.0; self.metrics.len()];
                                for p in each {
                                    add(&mut member, &score(p)?);
                                }
                                member.iter_mut().for_each(|v| *v /= each.len() as f64);
                                add(&mut sums[predictors.len() - 1][ti], &member);
                            }
                        }
                        bar.inc(1);
                    }
                    for (pi, predictor) in predictors.iter().enumerate() {
                        for (ti, &t) in self.times.iter().enumerate() {
                            if pi > 0 && !t.is_finite() {
                                continue;
                            }
                            let mut row: Vec<Cell> = vec![
                                named.name.clone().into(),
                                aug.clone().into(),
                                Cell::Int(n as i64),
                            ];
                            if finite.is_some() {
                                row.push(predictor.clone().into());
                            }
                            row.push(time_cell(t));
                            let mean: Vec<f64> = sums[pi][ti]
                                .iter()
                                .map(|s| s / self.repeats as f64)
                                .collect();
                            row.extend(self.metrics.iter().zip(&mean).map(
                                |(m, v)| match m.as_str() {
                                    "invariance" => error_cell(*v),
                                    _ => Cell::Float(*v),
                                },
                            ));
                            table.push_row(row)?;
                            if pi == 0 && ti + 1 == self.times.len() {
                                at_last_time.push((n, mean.clone()));
                            }
                            if n == *sizes.last().unwrap_or(&full) && t > 0.0 && t.is_finite() {
                                let label = match finite {
                                    None => format!("{}, {aug}", named.name),
                                    Some(_) => format!("{}, {aug}, {predictor}", named.name),
                                };
                                if let Some(k) = self.metric_index("accuracy") {
                                    push_point(&mut acc_time, &label, t, mean[k]);
                                }
                                if let Some(k) = self.metric_index("osp") {
                                    push_point(&mut osp_time, &label, t, mean[k]);
                                }
                            }
                        }
                    }
                }
                if let Some(k) = self.metric_index("accuracy") {
                    let label = format!("{}, {aug}", named.name);
                    for (n, m) in at_last_time {
                        push_point(&mut acc_size, &label, n as f64, m[k]);
                    }
                }
            }
        }
        bar.finish_and_clear();
        let mut plots = Vec::new();
        if self.metric_index("accuracy").is_some() && !acc_time.series.is_empty() {
            plots.push(("accuracy_vs_time".to_string(), acc_time));
        }
        if self.metric_index("osp").is_some() && !osp_time.series.is_empty() {
            plots.push(("osp_vs_time".to_string(), osp_time));
        }
        if self.metric_index("accuracy").is_some() && sizes.len() > 1 {
            plots.push(("accuracy_vs_train_size".to_string(), acc_size));
        }
        Ok(Report {
            tables: vec![("kernel_regression".into(), table)],
            plots,
        })
    }

    fn metric_index(&self, m: &str) -> Option<usize> {
        self.metrics.iter().position(|x| x == m)
    }

    /// `μ_t` on `eval` at every time.
    fn means(
        &self,
        net: &crate::network::Network,
        group: Option<&FiniteAugmentation>,
        x: &Batch,
        y: &faer::Mat<f64>,
        eval: &Batch,
    ) -> Result<Vec<faer::Mat<f64>>> {
        let set = match group {
            None => TrainingSet::Given,
            Some(group) => TrainingSet::Orbit {
                group,
                targets: OutputTransform::Invariant,
            },
        };
        let ensemble =
            InfiniteEnsemble::train(net, x, y.as_ref(), set, self.learning_rate, self.diag_reg)?;
        Ok(ensemble.predict(eval, &self.times, false)?.mean)
    }

    /// Every kernel the study will compute, checked against the budget before the first one is:
    /// for each network and augmentation at the largest training size `n`, the training kernel
    /// of `n` examples against their `|G|·n` images and the test (orbit) inputs against them.
    /// A study too large for the budget fails at once, naming the network and the group,
    /// instead of after the runs before it; so do its finite ensembles (`check_finite`).
    fn check_sizes(&self, ctx: &RunContext, data: &LabelledData, sizes: &[usize]) -> Result<()> {
        let n = sizes.iter().copied().max().unwrap_or(0);
        let side = match data.x_test.shape() {
            [h, _, _] => Some(*h),
            _ => None,
        };
        let order_of = |g: &str| -> Result<usize> {
            match g {
                "none" => Ok(1),
                g => Ok(GroupSpec::parse(g)?.order(side).unwrap_or(1)),
            }
        };
        let eval = data.x_test.len() * order_of(self.osp_group.as_deref().unwrap_or("none"))?;
        for named in &self.nets {
            let net = ctx.network(&named.path)?;
            for aug in &self.augment {
                let images = n.saturating_mul(order_of(aug)?);
                let check = crate::budget::check_kernel(&net, n, images)
                    .and_then(|_| crate::budget::check_kernel(&net, eval, images));
                let at = |what: String| {
                    format!(
                        "{} with augment = \"{aug}\" at {n} training examples: {what}",
                        named.name
                    )
                };
                check.map_err(|e| e.with_what(at))?;
            }
            if let Some(f) = &self.finite_ensembles {
                let outputs = data.train_targets().ncols();
                self.check_finite(f, &net, sizes, outputs, eval, named)?;
            }
        }
        Ok(())
    }

    /// The finite ensembles of one network, checked against the work and memory limits before
    /// the first is trained: one ensemble per augmentation, training size and repeat, on the
    /// `|G|·n` examples of each orbit-augmented set. Errors name the network.
    fn check_finite(
        &self,
        f: &FiniteEnsembles,
        net: &crate::network::Network,
        sizes: &[usize],
        outputs: usize,
        eval: usize,
        named: &NamedNet,
    ) -> Result<()> {
        let side = match net.input_shape() {
            [h, _, _] => Some(*h),
            _ => None,
        };
        let mut runs = Vec::new();
        for aug in &self.augment {
            let order = match aug.as_str() {
                "none" => 1,
                g => GroupSpec::parse(g)?.order(side).unwrap_or(1),
            };
            for &n in sizes {
                runs.extend(std::iter::repeat_n(n.saturating_mul(order), self.repeats));
            }
        }
        let finite: Vec<f64> = self
            .times
            .iter()
            .copied()
            .filter(|t| t.is_finite())
            .collect();
        let steps = f.steps(&finite, self.learning_rate)?;
        f.check_work(net, outputs, &runs, steps, eval, finite.len())
            .map_err(|e| {
                e.with_what(|what| format!("[finite_ensembles] of {}: {what}", named.name))
            })
    }

    /// The metrics of one prediction on the test orbits (`order` rows per test input, the
    /// input itself first).
    fn scores(
        &self,
        mean: &faer::Mat<f64>,
        order: usize,
        labels: Option<&[usize]>,
        targets: &faer::Mat<f64>,
    ) -> Result<Vec<f64>> {
        let m = targets.nrows();
        let own = faer::Mat::from_fn(m, mean.ncols(), |a, c| mean[(a * order, c)]);
        self.metrics
            .iter()
            .map(|metric| {
                Ok(match metric.as_str() {
                    "accuracy" => accuracy(own.as_ref(), labels.unwrap_or(&[])),
                    "mse" => {
                        let mut s = 0.0;
                        for a in 0..m {
                            for c in 0..targets.ncols() {
                                s += (own[(a, c)] - targets[(a, c)]).powi(2);
                            }
                        }
                        s / (m * targets.ncols()) as f64
                    }
                    "osp" => {
                        let mut same = 0usize;
                        for a in 0..m {
                            let row = |k: usize| {
                                argmax((0..mean.ncols()).map(|c| mean[(a * order + k, c)]))
                            };
                            let base = row(0);
                            same += (0..order).filter(|&k| row(k) == base).count();
                        }
                        same as f64 / m as f64
                    }
                    _ => {
                        orbit_summary(mean.as_ref(), order, OutputRep::Invariant)?
                            .rel_error
                            .mean
                    }
                })
            })
            .collect()
    }
}

/// `sum += values`, entrywise.
fn add(sum: &mut [f64], values: &[f64]) {
    for (s, v) in sum.iter_mut().zip(values) {
        *s += v;
    }
}

fn plot(title: &str, x: &str, y: &str, log_x: bool) -> LinePlot {
    LinePlot {
        title: title.to_string(),
        x_label: x.into(),
        y_label: y.into(),
        log_x,
        log_y: false,
        series: vec![],
    }
}

fn push_point(plot: &mut LinePlot, label: &str, x: f64, y: f64) {
    match plot.series.iter_mut().find(|s| s.name == label) {
        Some(s) => s.points.push((x, y)),
        None => plot.series.push(Series::new(label, vec![(x, y)])),
    }
}
