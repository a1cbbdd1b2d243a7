//! Ensembles of independently initialised finite networks trained by gradient descent, and
//! their empirical mean and covariance over members (MATH.md §8–9).
//!
//! Member m is [`FiniteNetwork::sample_with_outputs`] with seed `seed + m` (O = the number of
//! target columns), trained on `(X, Y)` by [`FiniteNetwork::train`] along one trajectory that
//! stops at every requested time to record its outputs on the test inputs. For member
//! predictions `F_m` (M_test × O, m = 0 … M−1) at one time:
//!
//! ```text
//! mean[a, o]      = (1/M) Σ_m F_m[a, o]
//! cov_o[a, b]     = 1/(M−1) Σ_m (F_m[a, o] − mean[a, o]) (F_m[b, o] − mean[b, o])
//! covariance      = (1/O) Σ_o cov_o           (the outputs are exchangeable: one shared Σ)
//! ```
//!
//! As M → ∞ and then width → ∞ these converge to the infinite-ensemble μ_t and Σ_t of
//! [`Predictor`](crate::Predictor). Members train in parallel (rayon); each member's arithmetic
//! is sequential and results are reduced in the order of m, so a run does not depend on the
//! number of threads.

use faer::{Mat, MatRef};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::train::{check_rate_and_time, TrainOptions};
use super::FiniteNetwork;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::network::Network;

/// The settings of [`train_ensemble`].
#[derive(Clone, Debug, PartialEq)]
pub struct EnsembleConfig {
    /// Width n of every hidden dense/conv layer.
    pub width: usize,
    /// Number of members M (≥ 2, for the covariance).
    pub members: usize,
    /// Member m is sampled from seed `seed + m` (wrapping).
    pub seed: u64,
    /// Learning rate η of the flow `dθ/dt = −η ∇L`.
    pub learning_rate: f64,
    /// Times at which predictions are recorded: finite, ≥ 0, any order, repeats allowed.
    pub times: Vec<f64>,
    /// Gradient-descent steps per unit of time: dt = 1/steps_per_unit (a gap between
    /// consecutive recorded times that is not a multiple of dt gets a slightly smaller step).
    pub steps_per_unit: f64,
    /// Draw a progress bar (members done) on stderr.
    pub progress: bool,
}

/// The recorded predictions of a trained ensemble (module docs for the estimators).
#[derive(Clone, Debug)]
pub struct EnsembleRun {
    times: Vec<f64>,
    /// `[time][member]` → M_test × O.
    predictions: Vec<Vec<Mat<f64>>>,
    /// `[time][member]` → training loss L at that time.
    losses: Vec<Vec<f64>>,
}

/// Trains `config.members` networks of width `config.width` on inputs `x_train` (N examples)
/// and targets `y_train` (N × O) and records their outputs on `x_test` at every time in
/// `config.times`.
///
/// The flow is discretised as in [`FiniteNetwork::train`]; the trajectory between two
/// consecutive (sorted) recorded times `a < b` takes `⌈(b − a)·steps_per_unit⌉` equal steps.
/// Errors on inputs that do not fit the network, bad targets, fewer than 2 members, width 0,
/// an empty time list or a time that is NaN, negative or infinite, a bad η or
/// `steps_per_unit`, and on divergence.
pub fn train_ensemble(
    net: &Network,
    x_train: &Batch,
    y_train: MatRef<f64>,
    x_test: &Batch,
    config: &EnsembleConfig,
) -> Result<EnsembleRun> {
    if config.members < 2 {
        return Err(Error::Invalid(format!(
            "an ensemble needs at least 2 members for a covariance, got {}",
            config.members
        )));
    }
    if config.times.is_empty() {
        return Err(Error::Invalid("the list of training times is empty".into()));
    }
    for &t in &config.times {
        check_rate_and_time(config.learning_rate, t)?;
    }
    let spu = config.steps_per_unit;
    if !(spu.is_finite() && spu > 0.0) {
        return Err(Error::Invalid(format!(
            "steps_per_unit must be a finite number > 0, got {spu}"
        )));
    }
    net.check_batch(x_train, "x_train")?;
    net.check_batch(x_test, "x_test")?;
    // Fail early (and once) on a network or targets that do not fit.
    FiniteNetwork::sample_with_outputs(net, config.width, y_train.ncols(), config.seed)?
        .check_targets(x_train, y_train)?;

    // Visit the times in ascending order; `order[k]` is the index of the k-th smallest.
    let mut order: Vec<usize> = (0..config.times.len()).collect();
    order.sort_by(|&a, &b| config.times[a].total_cmp(&config.times[b]));
    let segments: Vec<(f64, usize)> = order
        .iter()
        .scan(0.0, |prev, &k| {
            let gap = config.times[k] - *prev;
            *prev = config.times[k];
            Some((gap, steps_for(gap, spu)))
        })
        .collect();
    let total_steps: usize = segments.iter().map(|s| s.1).sum();
    if total_steps > MAX_STEPS {
        return Err(Error::Invalid(format!(
            "the schedule needs {total_steps} gradient-descent steps per member (more than \
             {MAX_STEPS}); lower steps_per_unit or the largest time"
        )));
    }

    let bar = progress_bar(config.members, config.progress);
    let runs: Vec<(Vec<Mat<f64>>, Vec<f64>)> = (0..config.members)
        .into_par_iter()
        .map(|m| {
            let seed = config.seed.wrapping_add(m as u64);
            let mut fin =
                FiniteNetwork::sample_with_outputs(net, config.width, y_train.ncols(), seed)?;
            let mut preds = vec![Mat::<f64>::zeros(0, 0); config.times.len()];
            let mut losses = vec![0.0; config.times.len()];
            for (&k, &(gap, steps)) in order.iter().zip(&segments) {
                let report = fin
                    .train(
                        x_train,
                        y_train,
                        config.learning_rate,
                        gap,
                        TrainOptions { steps },
                    )
                    .map_err(|e| Error::Numeric(format!("ensemble member {m}: {e}")))?;
                losses[k] = report.final_loss();
                preds[k] = fin.forward(x_test)?;
            }
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            Ok((preds, losses))
        })
        .collect::<Result<_>>()?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let nt = config.times.len();
    let mut predictions = vec![Vec::with_capacity(config.members); nt];
    let mut losses = vec![Vec::with_capacity(config.members); nt];
    for (preds, ls) in runs {
        for (k, (p, l)) in preds.into_iter().zip(ls).enumerate() {
            predictions[k].push(p);
            losses[k].push(l);
        }
    }
    Ok(EnsembleRun {
        times: config.times.clone(),
        predictions,
        losses,
    })
}

/// More gradient-descent steps per member than this is surely a mistake in the schedule.
const MAX_STEPS: usize = 100_000_000;

/// `⌈gap · steps_per_unit⌉` steps (0 for no gap), tolerant of rounding in `gap · spu`.
fn steps_for(gap: f64, spu: f64) -> usize {
    if gap <= 0.0 {
        0
    } else {
        ((gap * spu * (1.0 - 1e-12)).ceil() as usize).max(1)
    }
}

fn progress_bar(members: usize, show: bool) -> Option<ProgressBar> {
    if !show {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(members as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("training ensemble [{bar:40}] {pos}/{len} members ({eta})")
    {
        bar.set_style(style);
    }
    Some(bar)
}

impl EnsembleRun {
    /// The recorded times, in the order requested.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The number of members M.
    pub fn members(&self) -> usize {
        self.predictions[0].len()
    }

    /// The member predictions `F_m = f_m(x_test)` (M_test × O each) at `times()[time_index]`,
    /// in the order of m. Panics if `time_index` is out of range.
    pub fn predictions(&self, time_index: usize) -> &[Mat<f64>] {
        &self.predictions[time_index]
    }

    /// Each member's training loss `L = 1/(2·N·O) Σ (f(x_i) − y_i)²` at `times()[time_index]`.
    pub fn train_losses(&self, time_index: usize) -> &[f64] {
        &self.losses[time_index]
    }

    /// The ensemble mean `(1/M) Σ_m F_m`, M_test × O, at `times()[time_index]`.
    pub fn mean(&self, time_index: usize) -> Mat<f64> {
        let preds = &self.predictions[time_index];
        let mut mean = Mat::<f64>::zeros(preds[0].nrows(), preds[0].ncols());
        for p in preds {
            mean += p;
        }
        mean * faer::Scale(1.0 / preds.len() as f64)
    }

    /// The standard error of [`EnsembleRun::mean`] from the member spread,
    /// `√(Σ_m (F_m − mean)² / ((M − 1)·M))` entrywise, M_test × O.
    pub fn mean_standard_error(&self, time_index: usize) -> Mat<f64> {
        let preds = &self.predictions[time_index];
        let mean = self.mean(time_index);
        let m = preds.len() as f64;
        Mat::from_fn(mean.nrows(), mean.ncols(), |a, o| {
            let ss: f64 = preds
                .iter()
                .map(|p| (p[(a, o)] - mean[(a, o)]).powi(2))
                .sum();
            (ss / ((m - 1.0) * m)).sqrt()
        })
    }

    /// The unbiased covariance over members of output `output`,
    /// `1/(M−1) Σ_m (F_m[:, o] − mean[:, o]) (F_m[:, o] − mean[:, o])ᵀ`, M_test × M_test.
    /// Panics if `output` or `time_index` is out of range.
    pub fn output_covariance(&self, time_index: usize, output: usize) -> Mat<f64> {
        let preds = &self.predictions[time_index];
        let mean = self.mean(time_index);
        let n = mean.nrows();
        let mut cov = Mat::<f64>::zeros(n, n);
        for p in preds {
            let d: Vec<f64> = (0..n).map(|a| p[(a, output)] - mean[(a, output)]).collect();
            for b in 0..n {
                for a in 0..n {
                    cov[(a, b)] += d[a] * d[b];
                }
            }
        }
        cov * faer::Scale(1.0 / (preds.len() as f64 - 1.0))
    }

    /// The unbiased covariance over members averaged over the O outputs,
    /// `(1/O) Σ_o output_covariance(o)`, M_test × M_test: the estimate of Σ_t.
    pub fn covariance(&self, time_index: usize) -> Mat<f64> {
        let outputs = self.predictions[time_index][0].ncols();
        let mut cov = self.output_covariance(time_index, 0);
        for o in 1..outputs {
            cov += self.output_covariance(time_index, o);
        }
        cov * faer::Scale(1.0 / outputs as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Network, Batch, Mat<f64>, EnsembleConfig) {
        let net = Network::from_toml_str(
            "[input]\nshape=[2]\n[[layers]]\nkind='dense'\nb_std=0.1\n[[layers]]\nkind='relu'\n\
             [[layers]]\nkind='dense'\n",
            "t.toml",
        )
        .unwrap();
        let x = Batch::new(vec![2], vec![1.0, 0.5, -0.3, 0.8, 0.2, -1.0]).unwrap();
        let y = Mat::from_fn(3, 2, |i, o| i as f64 - o as f64);
        let cfg = EnsembleConfig {
            width: 8,
            members: 5,
            seed: 11,
            learning_rate: 1.0,
            times: vec![2.0, 0.0, 0.5],
            steps_per_unit: 20.0,
            progress: false,
        };
        (net, x, y, cfg)
    }

    /// Members are the networks of seeds seed + m trained by `train` along one trajectory, the
    /// estimators are the textbook ones, and times may come in any order.
    #[test]
    fn members_are_individually_trained_networks() {
        let (net, x, y, cfg) = setup();
        let run = train_ensemble(&net, &x, y.as_ref(), &x, &cfg).unwrap();
        assert_eq!(run.times(), &[2.0, 0.0, 0.5]);
        assert_eq!(run.members(), 5);
        for m in [0usize, 3] {
            let mut fin = FiniteNetwork::sample_with_outputs(&net, 8, 2, 11 + m as u64).unwrap();
            assert_eq!(run.predictions(1)[m], fin.forward(&x).unwrap());
            fin.train(&x, y.as_ref(), 1.0, 0.5, TrainOptions { steps: 10 })
                .unwrap();
            assert_eq!(run.predictions(2)[m], fin.forward(&x).unwrap());
            fin.train(&x, y.as_ref(), 1.0, 1.5, TrainOptions { steps: 30 })
                .unwrap();
            assert_eq!(run.predictions(0)[m], fin.forward(&x).unwrap());
            assert_eq!(run.train_losses(0)[m], fin.loss(&x, y.as_ref()).unwrap());
        }
        // Two-pass textbook estimators at one entry.
        let vals: Vec<(f64, f64)> = run
            .predictions(0)
            .iter()
            .map(|p| (p[(0, 1)], p[(2, 1)]))
            .collect();
        let mu = |k: usize| vals.iter().map(|v| [v.0, v.1][k]).sum::<f64>() / 5.0;
        let (m0, m2) = (mu(0), mu(1));
        let cov02 = vals.iter().map(|v| (v.0 - m0) * (v.1 - m2)).sum::<f64>() / 4.0;
        let var0 = vals.iter().map(|v| (v.0 - m0).powi(2)).sum::<f64>() / 4.0;
        let mean = run.mean(0);
        assert!((mean[(0, 1)] - m0).abs() < 1e-12 && (mean[(2, 1)] - m2).abs() < 1e-12);
        assert!((run.output_covariance(0, 1)[(0, 2)] - cov02).abs() < 1e-12);
        assert!((run.mean_standard_error(0)[(0, 1)] - (var0 / 5.0).sqrt()).abs() < 1e-12);
        let avg = 0.5 * (run.output_covariance(0, 0)[(2, 0)] + cov02);
        assert!((run.covariance(0)[(2, 0)] - avg).abs() < 1e-12);
    }

    #[test]
    fn schedule_and_bad_input() {
        assert_eq!(steps_for(0.0, 10.0), 0);
        assert_eq!(steps_for(1.0, 10.0), 10);
        assert_eq!(steps_for(0.3, 10.0), 3);
        assert_eq!(steps_for(0.31, 10.0), 4);
        assert_eq!(steps_for(1e-9, 10.0), 1);
        let (net, x, y, cfg) = setup();
        let bad = |f: &dyn Fn(&mut EnsembleConfig)| {
            let mut c = cfg.clone();
            f(&mut c);
            train_ensemble(&net, &x, y.as_ref(), &x, &c).is_err()
        };
        assert!(bad(&|c| c.members = 1));
        assert!(bad(&|c| c.width = 0));
        assert!(bad(&|c| c.times = vec![]));
        assert!(bad(&|c| c.times = vec![1.0, f64::NAN]));
        assert!(bad(&|c| c.times = vec![f64::INFINITY]));
        assert!(bad(&|c| c.times = vec![-1.0]));
        assert!(bad(&|c| c.learning_rate = 0.0));
        assert!(bad(&|c| c.steps_per_unit = 0.0));
        assert!(bad(&|c| c.steps_per_unit = f64::NAN));
        let y3 = Mat::<f64>::zeros(2, 2);
        assert!(train_ensemble(&net, &x, y3.as_ref(), &x, &cfg).is_err());
        let x3 = Batch::new(vec![3], vec![0.0; 3]).unwrap();
        assert!(train_ensemble(&net, &x, y.as_ref(), &x3, &cfg).is_err());
    }
}
