//! The predictor of a training set augmented with all of SO(2): the exact continuous-group
//! limit through the Fourier modes of `θ ↦ Θ(x, R_θ x')`.
//!
//! With the training orbit `{(R_θ x_i, ρ_Y(θ) y_i) : θ ∈ [0, 2π)}` (normalised Haar measure) the
//! kernel operator is a convolution on the circle, diagonal in the modes `e^{imθ}`; mode `m`
//! carries the `N × N` Hermitian block and the coefficients
//!
//! ```text
//! B_m      = (1/2π) ∫ e^{imθ} A(θ) dθ,          A(θ)_ij = Θ(x_i, R_θ x_j)
//! α_m(x)   = (1/2π) ∫ e^{imθ} a_x(θ) dθ,        a_x(θ)_i = Θ(x, R_θ x_i)
//! û_m[Y]   = Y · (1/2π) ∫ e^{−imθ} ρ_Y(θ)ᵀ dθ
//! μ_t(x)   = Re Σ_m α_m(x) f(B_m + r, η t/(N·O)) û_m[Y]
//! ```
//!
//! (the limit `k → ∞` of the `C_k` block predictor, [`super::BlockPredictor`]). Only the modes of
//! `ρ_Y` enter the mean: `m = 0` for invariant targets — then μ_t is the plain predictor of the
//! SO(2) orbit average `Θ̄ = B_0` — `m = ±1` for vector targets, `|m| ≤ L` for signal targets of
//! `n = 2L + 1` samples. No infinite sum is truncated.
//!
//! **Band limit and aliasing.** The integrals are computed with the `Q`-point rule
//! `θ_q = 2πq/Q`, whose value for mode `m` is `Σ_j B̂_{m + jQ}`: the error is the aliasing of the
//! modes `m ± Q, m ± 2Q, …` of `θ ↦ Θ(x_i, R_θ x_j)`. For an MLP kernel this function is a smooth
//! function of `⟨x_i, R_θ x_j⟩` (a trigonometric polynomial of degree 1 for point sets, ≤ L for
//! signals) and is analytic in θ while the correlation stays below 1, so its modes decay
//! geometrically (`|B̂_m| ≲ C ρ^{|m|}`, ρ < 1) and the error is `O(ρ^{Q − |m|})`. `Q` starts at
//! [`So2Predictor::INITIAL_POINTS`] and is doubled until two successive rules agree to `tol`
//! (relative to the largest entry); the last difference is reported as the quadrature error
//! estimate (it bounds the error of the coarser rule; the finer rule used is much more
//! accurate). The same estimate explains why `C_k` augmentation approaches SO(2): it keeps
//! exactly the aliased modes `B̂_{jk}`, so its error decays like `ρ^k`.

use std::f64::consts::PI;

use faer::{Mat, MatRef};
use num_complex::Complex64 as C64;

use super::augmentation::RotationKind;
use super::output::OutputTransform;
use super::spectral::{check_time, hermitian_eigen, spectral_factor};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::predict::PSEUDO_INVERSE_RTOL;

/// One Fourier mode: eigendecomposition of `B_m + r` and `Vᴴ û_m[Y]`.
#[derive(Clone, Debug)]
struct Mode {
    m: i64,
    lambda: Vec<f64>,
    vectors: Mat<C64>,
    targets: Mat<C64>,
}

/// The SO(2)-augmented infinite-ensemble mean (module docs).
#[derive(Clone, Debug)]
pub struct So2Predictor {
    net: Network,
    kind: RotationKind,
    x_train: Batch,
    outputs: usize,
    modes: Vec<Mode>,
    rate: f64,
    cutoff: f64,
    tol: f64,
    points: usize,
    error_estimate: f64,
}

/// `R_{θ_q} x_j` for `q = 0..Q`, group-major (row `q·N + j`).
fn rotated_orbit(kind: RotationKind, x: &Batch, q: usize) -> Result<Batch> {
    let shape = x.shape().to_vec();
    let mut rows = Vec::with_capacity(q * x.len());
    for k in 0..q {
        let theta = 2.0 * PI * k as f64 / q as f64;
        for j in 0..x.len() {
            rows.push(kind.rotate(x.example(j), &shape, theta)?);
        }
    }
    Batch::from_examples(shape, &rows)
}

/// `(1/Q) Σ_q e^{imθ_q} A(θ_q)` for every m: `aug` is `R × QN`.
fn mode_sums(aug: MatRef<f64>, n: usize, q: usize, modes: &[i64]) -> Vec<Mat<C64>> {
    modes
        .iter()
        .map(|&m| {
            let mut out = Mat::<C64>::zeros(aug.nrows(), n);
            for k in 0..q {
                let w = C64::from_polar(1.0 / q as f64, m as f64 * 2.0 * PI * k as f64 / q as f64);
                for j in 0..n {
                    for r in 0..aug.nrows() {
                        out[(r, j)] += w * aug[(r, k * n + j)];
                    }
                }
            }
            out
        })
        .collect()
}

fn max_abs(ms: &[Mat<C64>]) -> f64 {
    ms.iter()
        .flat_map(|m| (0..m.ncols()).flat_map(move |j| (0..m.nrows()).map(move |i| m[(i, j)].norm())))
        .fold(0.0, f64::max)
}

fn max_diff(a: &[Mat<C64>], b: &[Mat<C64>]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            (0..x.ncols()).flat_map(move |j| (0..x.nrows()).map(move |i| (x[(i, j)] - y[(i, j)]).norm()))
        })
        .fold(0.0, f64::max)
}

impl So2Predictor {
    /// First quadrature size `Q`.
    pub const INITIAL_POINTS: usize = 16;
    /// Largest quadrature size before giving up with an error.
    pub const MAX_POINTS: usize = 4096;

    /// Prepares the SO(2)-augmented mean for network `net` trained on `(x_train, y_train)`
    /// (`N × O`), examples rotated as `kind`, targets transforming as `output`.
    ///
    /// `tol` (> 0, e.g. 1e-13) is the relative agreement of two successive quadrature rules at
    /// which `Q` stops doubling. Errors on shapes that cannot rotate, targets that cannot
    /// transform as asked, a bad η / `diag_reg`, or no convergence by [`Self::MAX_POINTS`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        net: &Network,
        kind: RotationKind,
        x_train: &Batch,
        y_train: MatRef<f64>,
        output: OutputTransform,
        learning_rate: f64,
        diag_reg: f64,
        tol: f64,
    ) -> Result<Self> {
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(Error::Invalid(format!(
                "the learning rate must be a finite number > 0, got {learning_rate}"
            )));
        }
        if !(diag_reg.is_finite() && diag_reg >= 0.0) {
            return Err(Error::Invalid(format!(
                "diag_reg must be a finite number >= 0, got {diag_reg}"
            )));
        }
        if !(tol.is_finite() && tol > 0.0) {
            return Err(Error::Invalid(format!("tol must be a finite number > 0, got {tol}")));
        }
        net.check_batch(x_train, "x_train")?;
        kind.check_shape(x_train.shape())?;
        let (n, o) = (x_train.len(), y_train.ncols());
        if y_train.nrows() != n || o == 0 {
            return Err(Error::Shape(format!(
                "the training targets are {}×{o} for {n} training inputs",
                y_train.nrows()
            )));
        }
        if (0..o).any(|c| (0..n).any(|i| !y_train[(i, c)].is_finite())) {
            return Err(Error::Data("the training targets hold a non-finite value".into()));
        }
        let shape = x_train.shape().to_vec();
        // Modes of ρ_Y(θ)ᵀ: exact on a grid finer than twice its band limit (≤ n/2 + 1).
        let e: usize = shape.iter().product();
        let qy = 2 * e + 4;
        let rho: Vec<Mat<f64>> = (0..qy)
            .map(|k| output.so2_matrix(kind, &shape, o, 2.0 * PI * k as f64 / qy as f64))
            .collect::<Result<_>>()?;
        let mut coeffs: Vec<(i64, Mat<C64>)> = Vec::new();
        let top = (qy / 2 - 1) as i64;
        for m in -top..=top {
            let mut c = Mat::<C64>::zeros(o, o);
            for (k, r) in rho.iter().enumerate() {
                let w = C64::from_polar(1.0 / qy as f64, -(m as f64) * 2.0 * PI * k as f64 / qy as f64);
                for p in 0..o {
                    for q in 0..o {
                        c[(p, q)] += w * r[(q, p)];
                    }
                }
            }
            if (0..o).any(|p| (0..o).any(|q| c[(p, q)].norm() > 1e-12)) {
                coeffs.push((m, c));
            }
        }
        let modes: Vec<i64> = coeffs.iter().map(|c| c.0).collect();
        let top_mode = modes.iter().map(|m| m.unsigned_abs() as usize).max().unwrap_or(0);

        // Training blocks B_m by doubling Q until two rules agree.
        let mut q = Self::INITIAL_POINTS.max(4 * top_mode + 4);
        let blocks = |q: usize| -> Result<(Vec<Mat<C64>>, f64)> {
            let aug = rotated_orbit(kind, x_train, q)?;
            let k = net.kernel(x_train, Some(&aug))?;
            let ntk = k.ntk()?;
            let diag = (0..n).map(|i| ntk[(i, i)]).sum::<f64>() / n as f64;
            Ok((mode_sums(ntk.as_ref(), n, q, &modes), diag))
        };
        let (mut b, mean_diag) = blocks(q)?;
        let error_estimate;
        loop {
            if 2 * q > Self::MAX_POINTS {
                return Err(Error::Numeric(format!(
                    "the SO(2) orbit integrals did not converge to tol = {tol:e} with {q} \
                     quadrature points (is the kernel smooth along the orbit?)"
                )));
            }
            let (b2, _) = blocks(2 * q)?;
            let diff = max_diff(&b, &b2);
            let scale = max_abs(&b2).max(1e-300);
            q *= 2;
            b = b2;
            if diff <= tol * scale {
                error_estimate = diff / scale;
                break;
            }
        }
        let regulariser = diag_reg * mean_diag;
        let yc = Mat::from_fn(n, o, |i, c| C64::new(y_train[(i, c)], 0.0));
        let mut out_modes = Vec::new();
        for ((m, c), mut bm) in coeffs.into_iter().zip(b) {
            for k in 0..n {
                bm[(k, k)] += C64::new(regulariser, 0.0);
            }
            let (lambda, vectors) = hermitian_eigen(&bm, "a Fourier mode of the SO(2) kernel")?;
            let targets = vectors.adjoint() * (&yc * &c);
            out_modes.push(Mode {
                m,
                lambda,
                vectors,
                targets,
            });
        }
        let lambda_max = out_modes
            .iter()
            .flat_map(|m| m.lambda.iter())
            .fold(0.0_f64, |a, &l| a.max(l.abs()));
        Ok(Self {
            net: net.clone(),
            kind,
            x_train: x_train.clone(),
            outputs: o,
            modes: out_modes,
            rate: learning_rate / (n * o) as f64,
            cutoff: PSEUDO_INVERSE_RTOL * n as f64 * lambda_max,
            tol,
            points: q,
            error_estimate,
        })
    }

    /// The quadrature size `Q` the training blocks converged at.
    pub fn quadrature_points(&self) -> usize {
        self.points
    }

    /// The relative difference of the last two quadrature rules for the training blocks.
    pub fn error_estimate(&self) -> f64 {
        self.error_estimate
    }

    /// The Fourier modes `m` that enter the mean.
    pub fn modes(&self) -> Vec<i64> {
        self.modes.iter().map(|m| m.m).collect()
    }

    /// `μ_t` at the test inputs (`M × O`); the test integrals `α_m(x)` are converged by the same
    /// doubling rule. `t` may be `f64::INFINITY`.
    pub fn mean(&self, x_test: &Batch, t: f64) -> Result<Mat<f64>> {
        check_time(t)?;
        self.net.check_batch(x_test, "x_test")?;
        let n = self.x_train.len();
        let ms: Vec<i64> = self.modes();
        let alphas = |q: usize| -> Result<Vec<Mat<C64>>> {
            let aug = rotated_orbit(self.kind, &self.x_train, q)?;
            let ntk = self.net.kernel(x_test, Some(&aug))?.ntk()?;
            Ok(mode_sums(ntk.as_ref(), n, q, &ms))
        };
        let mut q = self.points;
        let mut a = alphas(q)?;
        loop {
            let a2 = alphas(2 * q)?;
            let diff = max_diff(&a, &a2);
            let scale = max_abs(&a2).max(1e-300);
            a = a2;
            q *= 2;
            if diff <= self.tol * scale {
                break;
            }
            if 2 * q > Self::MAX_POINTS {
                return Err(Error::Numeric(format!(
                    "the SO(2) test integrals did not converge to tol = {:e}",
                    self.tol
                )));
            }
        }
        let m = x_test.len();
        let mut out = Mat::<f64>::zeros(m, self.outputs);
        for (mode, alpha) in self.modes.iter().zip(&a) {
            let f: Vec<f64> = mode
                .lambda
                .iter()
                .map(|&l| spectral_factor(l, self.rate * t, self.cutoff))
                .collect();
            let scaled = Mat::from_fn(n, self.outputs, |i, c| mode.targets[(i, c)] * f[i]);
            let mu = alpha * &mode.vectors * &scaled;
            for r in 0..m {
                for c in 0..self.outputs {
                    out[(r, c)] += mu[(r, c)].re;
                }
            }
        }
        if (0..self.outputs).any(|c| (0..m).any(|r| !out[(r, c)].is_finite())) {
            return Err(Error::Numeric(format!(
                "the predicted mean at t = {t} overflowed to a non-finite value"
            )));
        }
        Ok(out)
    }
}
