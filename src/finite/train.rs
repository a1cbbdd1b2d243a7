//! Full-batch gradient descent on the normalised mean-squared error (MATH.md §8).
//!
//! With training inputs `X` (N examples), targets `Y` (N × O) and outputs `F = f(X)`:
//!
//! ```text
//! L(θ)  = 1/(2·N·O) Σ_{i,o} (F[i,o] − Y[i,o])²            (neural-tangents: 0.5 · mean((f − y)²))
//! ∇L(θ) = Jᵀ (F − Y) / (N·O)                               (J the (N·O) × P Jacobian)
//! ```
//!
//! Training for time t with learning rate η is the gradient flow `dθ/dt = −η ∇L(θ)`, so that
//! in function space `dF/dt = −η/(N·O) Θ̂ (F − Y)`, the flow the infinite-ensemble
//! [`Predictor`](crate::Predictor) solves in closed form. It is approximated by `steps` explicit
//! Euler (gradient-descent) steps `θ ← θ − η·dt·∇L(θ)`, `dt = t/steps`, whose error is O(dt).
//! The gradient is one reverse-mode pass per example with cotangent `(F[i] − Y[i])/(N·O)`.

use faer::MatRef;

use super::FiniteNetwork;
use crate::data::Batch;
use crate::error::{Error, Result};

/// How [`FiniteNetwork::train`] discretises the gradient flow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainOptions {
    /// Number of gradient-descent steps; the step is `dt = time / steps`. Must be ≥ 1 when
    /// `time > 0`.
    pub steps: usize,
}

impl Default for TrainOptions {
    /// 1000 steps.
    fn default() -> Self {
        Self { steps: 1000 }
    }
}

/// What a call of [`FiniteNetwork::train`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainReport {
    /// Number of gradient-descent steps taken (0 when `time = 0`).
    pub steps: usize,
    /// The time step `dt = time / steps` (0 when no step was taken).
    pub dt: f64,
    /// `losses[k]` is L(θ) before step k; the last entry (index `steps`) is the final loss.
    pub losses: Vec<f64>,
}

impl TrainReport {
    /// L(θ) before training.
    pub fn initial_loss(&self) -> f64 {
        self.losses[0]
    }

    /// L(θ) after training.
    pub fn final_loss(&self) -> f64 {
        *self
            .losses
            .last()
            .expect("losses holds at least the initial loss")
    }
}

impl FiniteNetwork {
    /// The loss `L = 1/(2·N·O) Σ (f(x_i) − y_i)²` and its gradient `∇L = Jᵀ (F − Y)/(N·O)`
    /// (length P, parameter layout in [`FiniteNetwork`]'s docs) for inputs `x` (N examples) and
    /// targets `y` (N × O).
    ///
    /// Examples are summed in order (deterministic). Errors on shape mismatches and non-finite
    /// targets.
    pub fn loss_and_gradient(&self, x: &Batch, y: MatRef<f64>) -> Result<(f64, Vec<f64>)> {
        self.check_targets(x, y)?;
        let mut grad = vec![0.0; self.params.len()];
        let loss = self.accumulate_gradient(x, y, &mut grad);
        Ok((loss, grad))
    }

    /// The loss `L = 1/(2·N·O) Σ (f(x_i) − y_i)²` alone, for inputs `x` and targets `y` (N × O).
    pub fn loss(&self, x: &Batch, y: MatRef<f64>) -> Result<f64> {
        self.check_targets(x, y)?;
        let f = self.forward(x)?;
        let norm = (x.len() * self.out_dim) as f64;
        let mut sum = 0.0;
        for i in 0..x.len() {
            for o in 0..self.out_dim {
                sum += (f[(i, o)] - y[(i, o)]).powi(2);
            }
        }
        Ok(0.5 * sum / norm)
    }

    /// Trains in place by full-batch gradient descent: `opts.steps` steps
    /// `θ ← θ − η·dt·∇L(θ)` with `dt = time/steps`, approximating the gradient flow
    /// `dθ/dt = −η ∇L` for `time` units (module docs). `x` has N examples, `y` is N × O.
    ///
    /// Errors on shape mismatches, non-finite targets, η ≤ 0, a negative or non-finite time,
    /// `steps = 0` with `time > 0`, and a loss that overflows (steps too large for the kernel).
    pub fn train(
        &mut self,
        x: &Batch,
        y: MatRef<f64>,
        learning_rate: f64,
        time: f64,
        opts: TrainOptions,
    ) -> Result<TrainReport> {
        self.check_targets(x, y)?;
        check_rate_and_time(learning_rate, time)?;
        let steps = if time == 0.0 { 0 } else { opts.steps };
        if time > 0.0 && steps == 0 {
            return Err(Error::Invalid(format!(
                "training for time {time} needs at least one gradient-descent step, got steps = 0"
            )));
        }
        let dt = if steps == 0 { 0.0 } else { time / steps as f64 };
        let mut losses = Vec::with_capacity(steps + 1);
        let mut grad = vec![0.0; self.params.len()];
        for k in 0..steps {
            grad.fill(0.0);
            let loss = self.accumulate_gradient(x, y, &mut grad);
            check_loss(loss, k)?;
            losses.push(loss);
            let scale = learning_rate * dt;
            for (p, g) in self.params.iter_mut().zip(&grad) {
                *p -= scale * g;
            }
        }
        let last = self.loss(x, y)?;
        check_loss(last, steps)?;
        losses.push(last);
        Ok(TrainReport { steps, dt, losses })
    }

    /// Adds `∇L` to `grad` and returns L (inputs already checked).
    fn accumulate_gradient(&self, x: &Batch, y: MatRef<f64>, grad: &mut [f64]) -> f64 {
        let norm = (x.len() * self.out_dim) as f64;
        let mut sum = 0.0;
        for i in 0..x.len() {
            let trace = self.trace(x.example(i));
            let residual: Vec<f64> = (0..self.out_dim)
                .map(|o| trace.output[o] - y[(i, o)])
                .collect();
            sum += residual.iter().map(|r| r * r).sum::<f64>();
            let cotangent = residual.iter().map(|r| r / norm).collect();
            self.vjp(&trace, cotangent, grad, true);
        }
        0.5 * sum / norm
    }

    /// `y` must be N × O (N = examples of `x`, O = outputs) and finite; `x` must fit the input.
    pub(super) fn check_targets(&self, x: &Batch, y: MatRef<f64>) -> Result<()> {
        self.check_batch(x, "x")?;
        if y.nrows() != x.len() || y.ncols() != self.out_dim {
            return Err(Error::Shape(format!(
                "the targets are {}×{} but there are {} examples and the network has {} outputs",
                y.nrows(),
                y.ncols(),
                x.len(),
                self.out_dim
            )));
        }
        for i in 0..y.nrows() {
            for o in 0..y.ncols() {
                if !y[(i, o)].is_finite() {
                    return Err(Error::Data(format!(
                        "the targets hold a non-finite value ({}) at [{i}, {o}]",
                        y[(i, o)]
                    )));
                }
            }
        }
        Ok(())
    }
}

/// η must be finite and > 0, the training time finite and ≥ 0.
pub(super) fn check_rate_and_time(learning_rate: f64, time: f64) -> Result<()> {
    if !(learning_rate.is_finite() && learning_rate > 0.0) {
        return Err(Error::Invalid(format!(
            "the learning rate must be a finite number > 0, got {learning_rate}"
        )));
    }
    if !(time.is_finite() && time >= 0.0) {
        return Err(Error::Invalid(format!(
            "a finite network trains for a finite time >= 0, got {time}"
        )));
    }
    Ok(())
}

fn check_loss(loss: f64, step: usize) -> Result<()> {
    if loss.is_finite() {
        Ok(())
    } else {
        Err(Error::Numeric(format!(
            "gradient descent diverged: the loss is {loss} at step {step} (use more steps, \
             i.e. a smaller dt, or a smaller learning rate)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Network;
    use faer::Mat;

    fn setup() -> (FiniteNetwork, Batch, Mat<f64>) {
        let net = Network::from_toml_str(
            "[input]\nshape=[3]\n[[layers]]\nkind='dense'\nb_std=0.1\n[[layers]]\nkind='relu'\n\
             [[layers]]\nkind='dense'\nw_std=1.3\nb_std=0.2\n",
            "t.toml",
        )
        .unwrap();
        let fin = FiniteNetwork::sample_with_outputs(&net, 6, 2, 3).unwrap();
        let x = Batch::new(
            vec![3],
            (0..12).map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0).collect(),
        )
        .unwrap();
        let y = Mat::from_fn(4, 2, |i, o| (i as f64 - 1.5) * (o as f64 + 0.5));
        (fin, x, y)
    }

    /// ∇L against central finite differences of L (an independent path: forward passes only),
    /// for the MLP of `setup` and a CNN with two outputs.
    #[test]
    fn gradient_matches_finite_differences_of_the_loss() {
        let (fin, x, y) = setup();
        check_gradient(fin, &x, &y);
        let net = Network::from_toml_str(
            "[input]\nshape=[4,3,2]\n[[layers]]\nkind='conv'\nfilter=[3,3]\n\
             padding='circular'\nb_std=0.2\n[[layers]]\nkind='relu'\n\
             [[layers]]\nkind='conv'\nfilter=[3,1]\npadding='same'\nw_std=1.2\n\
             [[layers]]\nkind='global_avg_pool'\n[[layers]]\nkind='dense'\nb_std=0.3\n",
            "cnn.toml",
        )
        .unwrap();
        let fin = FiniteNetwork::sample_with_outputs(&net, 3, 2, 9).unwrap();
        let x = Batch::new(
            vec![4, 3, 2],
            (0..72)
                .map(|i| ((i * 13 % 17) as f64 - 8.0) / 4.0)
                .collect(),
        )
        .unwrap();
        let y = Mat::from_fn(3, 2, |i, o| 0.3 * i as f64 - o as f64);
        check_gradient(fin, &x, &y);
    }

    fn check_gradient(mut fin: FiniteNetwork, x: &Batch, y: &Mat<f64>) {
        let (loss, grad) = fin.loss_and_gradient(x, y.as_ref()).unwrap();
        assert!((loss - fin.loss(x, y.as_ref()).unwrap()).abs() < 1e-14);
        let h = 1e-6;
        for (m, &g) in grad.iter().enumerate() {
            let p0 = fin.parameters()[m];
            fin.parameters_mut()[m] = p0 + h;
            let up = fin.loss(x, y.as_ref()).unwrap();
            fin.parameters_mut()[m] = p0 - h;
            let down = fin.loss(x, y.as_ref()).unwrap();
            fin.parameters_mut()[m] = p0;
            let fd = (up - down) / (2.0 * h);
            assert!(
                (g - fd).abs() < 1e-7 * (1.0 + fd.abs()),
                "parameter {m}: {g} vs {fd}"
            );
        }
    }

    /// One step is θ − η·dt·∇L, and the gradient is Jᵀ(F − Y)/(N·O) from the Jacobians.
    #[test]
    fn one_step_is_the_jacobian_transpose_residual() {
        let (mut fin, x, y) = setup();
        let f = fin.forward(&x).unwrap();
        let (n, o) = (x.len(), fin.out_dim());
        let mut want = vec![0.0; fin.n_params()];
        for out in 0..o {
            let j = fin.jacobian(&x, out).unwrap();
            for i in 0..n {
                for (m, w) in want.iter_mut().enumerate() {
                    *w += j[(i, m)] * (f[(i, out)] - y[(i, out)]) / (n * o) as f64;
                }
            }
        }
        let before = fin.parameters().to_vec();
        let rep = fin
            .train(&x, y.as_ref(), 0.7, 0.3, TrainOptions { steps: 1 })
            .unwrap();
        assert_eq!((rep.steps, rep.losses.len()), (1, 2));
        assert!((rep.dt - 0.3).abs() < 1e-15);
        for m in 0..fin.n_params() {
            let got = (before[m] - fin.parameters()[m]) / (0.7 * 0.3);
            assert!((got - want[m]).abs() < 1e-12 * (1.0 + want[m].abs()));
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let (mut fin, x, y) = setup();
        let o = TrainOptions::default();
        assert!(fin.train(&x, y.as_ref(), 0.0, 1.0, o).is_err());
        assert!(fin.train(&x, y.as_ref(), 1.0, f64::NAN, o).is_err());
        assert!(fin.train(&x, y.as_ref(), 1.0, f64::INFINITY, o).is_err());
        assert!(fin.train(&x, y.as_ref(), 1.0, -1.0, o).is_err());
        assert!(fin
            .train(&x, y.as_ref(), 1.0, 1.0, TrainOptions { steps: 0 })
            .is_err());
        let short = Mat::<f64>::zeros(3, 2);
        assert!(fin.train(&x, short.as_ref(), 1.0, 1.0, o).is_err());
        let mut nan = y.clone();
        nan[(1, 1)] = f64::NAN;
        assert!(fin.train(&x, nan.as_ref(), 1.0, 1.0, o).is_err());
        // Time 0 is allowed and leaves θ alone.
        let before = fin.parameters().to_vec();
        let rep = fin.train(&x, y.as_ref(), 1.0, 0.0, o).unwrap();
        assert_eq!(rep.steps, 0);
        assert_eq!(fin.parameters(), before.as_slice());
        // A far too large step diverges with a clear error, not a NaN result.
        let err = fin
            .train(&x, y.as_ref(), 1e6, 1e6, TrainOptions { steps: 3 })
            .unwrap_err();
        assert!(err.to_string().contains("diverged"), "{err}");
    }
}
