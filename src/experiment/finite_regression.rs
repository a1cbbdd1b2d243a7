//! The `[finite_ensembles]` table of a `kernel_regression` study: finite networks trained by
//! gradient descent on the same (augmented) training sets as the infinite ensembles, scored
//! with the same metrics beside them.
//!
//! ```toml
//! [finite_ensembles]
//! width = 256              # channels of every hidden dense/conv layer
//! members = [1, 4, 16]     # ensemble sizes M, increasing: the mean of the first M members
//! learning_rate = 0.5      # gradient-descent step (neural-tangents: t = steps × learning_rate)
//! seed = 0                 # member m is sampled from seed + m
//! ```
//!
//! For every network, augmentation and training subset of the study, `max(members)` networks
//! ([`crate::finite::train_ensemble`], member m from seed `seed + m`, the same members for
//! every augmentation so that plain and augmented differ only in their data) are trained on
//! the training set as given or on its full orbit, by full-batch gradient descent on the MSE
//! of MATH.md §8 with step `learning_rate`: with the study's flow rate η, a step advances the
//! time by `learning_rate / η`, so the finite networks follow the flow whose infinite-width
//! mean is the study's `μ_t`, at the same `t`. They are evaluated at every finite time of the
//! study's `times` (t = ∞ is the infinite ensemble's alone) on the same test inputs and orbits.
//!
//! Predictors (the `ensemble` column): `infinite` (μ_t), `M=k` (the mean of members 0 … k−1 —
//! nested, so the rows of growing M share their members) and `member` (each member's metric,
//! averaged over all `max(members)` members: what one network does alone). With full
//! augmentation the ensemble mean is invariant up to a Monte-Carlo error ~ M^{−1/2} and a
//! finite-width error, a single member is not (MATH.md §8).

use faer::Mat;
use serde::Deserialize;

use crate::augment::{train_augmented, FiniteAugmentation, OutputTransform};
use crate::data::Batch;
use crate::error::Result;
use crate::finite::{EnsembleConfig, EnsembleRun, FiniteNetwork};
use crate::network::Network;

/// `[finite_ensembles]` of a `kernel_regression` study (module docs).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiniteEnsembles {
    /// Width n of every hidden dense/conv layer.
    pub width: usize,
    /// Ensemble sizes M, increasing; `max(members)` networks are trained.
    pub members: Vec<usize>,
    /// The gradient-descent step size (the study's η times the time step).
    pub learning_rate: f64,
    /// Member m is sampled from seed `seed + m`.
    #[serde(default)]
    pub seed: u64,
}

/// One trained ensemble's predictions at one time, as the predictors of the table.
pub(super) struct Predictions<'a> {
    run: &'a EnsembleRun,
    time: usize,
}

impl FiniteEnsembles {
    /// The trained members: the largest ensemble size.
    pub fn trained(&self) -> usize {
        self.members.iter().copied().max().unwrap_or(0)
    }

    /// The labels of the `ensemble` column, in row order after `infinite`.
    pub fn labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self.members.iter().map(|m| format!("M={m}")).collect();
        labels.push("member".into());
        labels
    }

    /// Gradient-descent steps per unit of time: a step of size `learning_rate` on the flow
    /// `dθ/dt = −η ∇L` advances `t` by `learning_rate / η`.
    pub fn steps_per_unit(&self, eta: f64) -> f64 {
        eta / self.learning_rate
    }

    /// Gradient-descent steps of one member to reach every time in `times` (finite ones):
    /// `⌈t_max · η / learning_rate⌉` plus at most one per recorded time.
    pub fn steps(&self, times: &[f64], eta: f64) -> Result<u64> {
        let t_max = times.iter().copied().fold(0.0, f64::max);
        let steps = crate::budget::steps(
            "`learning_rate`: the gradient-descent steps of a member",
            t_max,
            self.steps_per_unit(eta),
        )?;
        Ok(steps.saturating_add(times.len() as u64))
    }

    /// Checks the work and memory of one network's trained ensembles before any is trained:
    /// `runs` ensembles of [`FiniteEnsembles::trained`] members, each trained on `examples`
    /// inputs for `steps` steps (a step: a forward and a reverse-mode pass per example, about
    /// three forward passes) and evaluated on `eval` inputs at `times` times, with `outputs`
    /// outputs. The network is sampled once, after its weights were checked against the
    /// memory budget, to count its multiply-adds.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_work(
        &self,
        net: &Network,
        outputs: usize,
        runs: &[usize],
        steps: u64,
        eval: usize,
        times: usize,
    ) -> Result<()> {
        let members = self.trained() as u128;
        // An upper bound on the weights (a layer holds at most sites · width² of them) and the
        // features of the inputs.
        let layers = net.layers().len().max(1) as u128;
        let sites = (0..=net.layers().len())
            .map(|l| net.shape_before(l).sites())
            .max()
            .unwrap_or(1) as u128;
        let w = self.width.max(outputs) as u128;
        let weights = w
            .saturating_mul(w)
            .saturating_mul(sites)
            .saturating_mul(layers);
        let examples = runs.iter().copied().max().unwrap_or(0).max(eval) as u128;
        crate::budget::check_values(
            &format!("finite networks of width {}", self.width),
            weights.saturating_add(w.saturating_mul(sites).saturating_mul(examples)),
            8,
        )?;
        // The recorded predictions of one ensemble: times × members × eval × outputs.
        crate::budget::check_values(
            "the predictions of a trained ensemble (times × members × test inputs × outputs)",
            (times as u128)
                .saturating_mul(members)
                .saturating_mul(eval as u128)
                .saturating_mul(outputs as u128),
            8,
        )?;
        let per_example = FiniteNetwork::sample_with_outputs(net, self.width, outputs, self.seed)?
            .multiply_adds_per_example();
        let work = runs
            .iter()
            .map(|&n| {
                let train = (n as u128).saturating_mul(steps as u128).saturating_mul(3);
                let test = (eval as u128).saturating_mul(times as u128);
                train.saturating_add(test)
            })
            .fold(0u128, u128::saturating_add)
            .saturating_mul(members)
            .saturating_mul(per_example);
        crate::budget::check_training_work(
            "members × steps × training examples × 3 passes, plus test evaluations",
            work,
        )
    }

    /// Trains the members on `(x, y)`, fully augmented by `group` when given (invariant
    /// targets), and records their outputs on `eval` at `times` (finite, ≥ 0).
    #[allow(clippy::too_many_arguments)]
    pub fn train(
        &self,
        net: &Network,
        group: Option<&FiniteAugmentation>,
        x: &Batch,
        y: &Mat<f64>,
        eval: &Batch,
        times: &[f64],
        eta: f64,
        progress: bool,
    ) -> Result<EnsembleRun> {
        let config = EnsembleConfig {
            width: self.width,
            members: self.trained(),
            seed: self.seed,
            learning_rate: eta,
            times: times.to_vec(),
            steps_per_unit: self.steps_per_unit(eta),
            progress,
        };
        train_augmented(
            net,
            group,
            x,
            y.as_ref(),
            OutputTransform::Invariant,
            eval,
            &config,
        )
    }
}

impl<'a> Predictions<'a> {
    /// The predictions of `run` at its `time`-th recorded time.
    pub(super) fn new(run: &'a EnsembleRun, time: usize) -> Self {
        Self { run, time }
    }

    /// The mean of members `0 … m−1`, `(1/m) Σ_{k<m} F_k`, summed in the order of k.
    pub(super) fn mean_of_first(&self, m: usize) -> Mat<f64> {
        let preds = &self.run.predictions(self.time)[..m];
        let mut mean = Mat::<f64>::zeros(preds[0].nrows(), preds[0].ncols());
        for p in preds {
            mean += p;
        }
        mean * faer::Scale(1.0 / m as f64)
    }

    /// Every member's own predictions, in the order of m.
    pub(super) fn members(&self) -> &[Mat<f64>] {
        self.run.predictions(self.time)
    }
}
