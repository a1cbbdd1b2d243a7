//! The infinite-ensemble predictor: mean μ_t and covariance Σ_t of an infinitely wide network
//! trained by gradient flow on the mean-squared error (MATH.md §8).
//!
//! With training inputs `X` (N examples), targets `Y` (N × O), learning rate η and
//! `c = η / (N·O)` (neural-tangents normalises the loss by the number of training targets and
//! measures time in units of the learning rate),
//!
//! ```text
//! E_t      = I − exp(−c t Θ(X,X))
//! μ_t(x)   = Θ(x,X) Θ⁻¹ E_t Y
//! Σ_t(x,x') = K(x,x') + Θ(x,X) Θ⁻¹ E_t K(X,X) E_t Θ⁻¹ Θ(X,x')
//!             − [Θ(x,X) Θ⁻¹ E_t K(X,x') + (x ↔ x')ᵀ]
//! ```
//!
//! Everything is evaluated in the eigenbasis `Θ(X,X) + r·I = V diag(λ) Vᵀ`, where `Θ⁻¹ E_t`
//! becomes `V diag(f(λ, t)) Vᵀ` with `f(λ, t) = (1 − e^{−λ c t}) / λ`. Hence t = 0 is exactly
//! the prior (f = 0) and a singular Θ (repeated training inputs) is harmless:
//!
//! * finite t: `λ` is clamped at 0 from below (as neural-tangents does in the exponent) and
//!   `f(0, t) = c t`, the λ → 0 limit;
//! * t = ∞: `f = 1/λ` for `λ > ε`, else 0 (a pseudo-inverse), with
//!   `ε = PSEUDO_INVERSE_RTOL · N · λ_max`.
//!
//! Conventions matched with neural-tangents' `predict.gradient_descent_mse_ensemble`
//! (`get="ntk"`, `trace_axes=(-1,)`, default `diag_reg_absolute_scale=False`):
//! time is multiplied by η; the normaliser is `y_train.size = N·O`; the regulariser is
//! `r = diag_reg · trace(Θ(X,X)) / N` and is added to Θ(X,X) **only** (the eigenspace);
//! K(X,X) enters Σ_t unregularised, as in neural-tangents. One covariance (M × M) is shared by all
//! O outputs (the kernel is `Θ ⊗ I_O`). Where neural-tangents is undefined or discontinuous we
//! differ: it yields NaN for an exactly zero eigenvalue and 0 for a negative one at finite t
//! (we use the continuous `c t`), and it has no pseudo-inverse cut-off at t = ∞.

use faer::{Mat, MatRef, Side};

use crate::error::{Error, Result};

/// Eigenvalues of the regularised Θ(X,X) below `PSEUDO_INVERSE_RTOL · N · λ_max` count as zero
/// at t = ∞ (a pseudo-inverse), so repeated training inputs do not blow up.
pub(crate) const PSEUDO_INVERSE_RTOL: f64 = 1e-12;

/// Relative tolerance of the symmetry check on the square kernels handed to the predictor.
const SYMMETRY_RTOL: f64 = 1e-8;

/// Θ(X,X) with an eigenvalue below `−NEGATIVE_EIGEN_RTOL · λ_max` is not a kernel matrix.
const NEGATIVE_EIGEN_RTOL: f64 = 1e-6;

/// The two N × N kernels on the training inputs.
#[derive(Clone, Debug)]
pub struct TrainingKernels {
    /// Θ(X, X), N × N.
    pub ntk_train: Mat<f64>,
    /// K(X, X), N × N.
    pub nngp_train: Mat<f64>,
}

/// Gradient-flow predictor of an infinite ensemble, holding the eigendecomposition of the
/// regularised training NTK `Θ(X,X) + r·I = V diag(λ) Vᵀ`.
#[derive(Clone, Debug)]
pub struct Predictor {
    n: usize,
    outputs: usize,
    /// λ, ascending.
    eigenvalues: Vec<f64>,
    /// V, N × N, columns are eigenvectors.
    eigenvectors: Mat<f64>,
    /// Vᵀ Y, N × O.
    targets_eigen: Mat<f64>,
    /// Vᵀ K(X,X) V, N × N.
    nngp_eigen: Mat<f64>,
    /// c = η / (N·O): time → the exponent's scale.
    rate: f64,
    /// ε: eigenvalues at or below it are zero at t = ∞.
    cutoff: f64,
    /// r = diag_reg · trace(Θ(X,X)) / N, the value actually added to the diagonal.
    regulariser: f64,
}

impl Predictor {
    /// Prepares μ_t and Σ_t for training kernels Θ(X,X) (`ntk_train`, N × N), K(X,X)
    /// (`nngp_train`, N × N) and targets `y_train` (N × O).
    ///
    /// `learning_rate` η > 0 multiplies time; `diag_reg` ≥ 0 adds `diag_reg · trace(Θ)/N` to the
    /// diagonal of Θ(X,X) (neural-tangents' relative scale). Errors on shape mismatches,
    /// non-finite or asymmetric kernels, a Θ(X,X) with clearly negative eigenvalues, or bad
    /// η / `diag_reg`.
    pub fn new(
        ntk_train: MatRef<f64>,
        nngp_train: MatRef<f64>,
        y_train: MatRef<f64>,
        learning_rate: f64,
        diag_reg: f64,
    ) -> Result<Self> {
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(Error::Invalid(format!(
                "the learning rate must be a finite number > 0, got {}",
                crate::symbolic::print::compact_number(learning_rate)
            )));
        }
        if !(diag_reg.is_finite() && diag_reg >= 0.0) {
            return Err(Error::Invalid(format!(
                "diag_reg must be a finite number >= 0, got {}",
                crate::symbolic::print::compact_number(diag_reg)
            )));
        }
        let n = ntk_train.nrows();
        if n == 0 {
            return Err(Error::Shape(
                "the training set is empty (no examples)".into(),
            ));
        }
        check_shape("the training NTK Θ(X,X)", ntk_train, n, n)?;
        check_shape("the training NNGP K(X,X)", nngp_train, n, n)?;
        if y_train.nrows() != n {
            return Err(Error::Shape(format!(
                "the training targets have {} rows but there are {n} training examples",
                y_train.nrows()
            )));
        }
        if y_train.ncols() == 0 {
            return Err(Error::Shape(
                "the training targets have no outputs (0 columns)".into(),
            ));
        }
        check_finite("the training NTK Θ(X,X)", ntk_train)?;
        check_finite("the training NNGP K(X,X)", nngp_train)?;
        check_finite("the training targets", y_train)?;
        check_symmetric("the training NTK Θ(X,X)", ntk_train)?;
        check_symmetric("the training NNGP K(X,X)", nngp_train)?;

        let trace: f64 = (0..n).map(|i| ntk_train[(i, i)]).sum();
        let regulariser = diag_reg * trace / n as f64;
        // Symmetrise (the eigensolver reads one triangle) and regularise.
        let theta = Mat::from_fn(n, n, |i, j| {
            let v = 0.5 * (ntk_train[(i, j)] + ntk_train[(j, i)]);
            if i == j {
                v + regulariser
            } else {
                v
            }
        });
        let evd = theta.self_adjoint_eigen(Side::Lower).map_err(|e| {
            Error::Numeric(format!(
                "the eigendecomposition of Θ(X,X) did not converge ({e:?})"
            ))
        })?;
        let eigenvalues: Vec<f64> = (0..n).map(|i| evd.S()[i]).collect();
        let eigenvectors = evd.U().to_owned();
        let lambda_max = eigenvalues.iter().fold(0.0_f64, |m, &l| m.max(l.abs()));
        let lambda_min = eigenvalues.iter().fold(f64::INFINITY, |m, &l| m.min(l));
        if lambda_min < -NEGATIVE_EIGEN_RTOL * lambda_max {
            return Err(Error::Numeric(format!(
                "the training NTK Θ(X,X) is not positive semi-definite (eigenvalue {lambda_min:e} \
                 against largest {lambda_max:e})"
            )));
        }
        let targets_eigen = eigenvectors.transpose() * y_train;
        let nngp_eigen = eigenvectors.transpose() * nngp_train * &eigenvectors;
        let outputs = y_train.ncols();
        Ok(Self {
            n,
            outputs,
            eigenvalues,
            eigenvectors,
            targets_eigen,
            nngp_eigen,
            rate: learning_rate / (n * outputs) as f64,
            cutoff: PSEUDO_INVERSE_RTOL * n as f64 * lambda_max,
            regulariser,
        })
    }

    /// [`Predictor::new`] from a [`TrainingKernels`] record.
    pub fn from_kernels(
        kernels: &TrainingKernels,
        y_train: MatRef<f64>,
        learning_rate: f64,
        diag_reg: f64,
    ) -> Result<Self> {
        Self::new(
            kernels.ntk_train.as_ref(),
            kernels.nngp_train.as_ref(),
            y_train,
            learning_rate,
            diag_reg,
        )
    }

    /// Number of training examples N.
    pub fn train_len(&self) -> usize {
        self.n
    }

    /// Number of outputs O.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Eigenvalues λ (ascending) of the regularised Θ(X,X) + r·I.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// The regulariser r = diag_reg · trace(Θ(X,X)) / N added to the diagonal of Θ(X,X).
    pub fn regulariser(&self) -> f64 {
        self.regulariser
    }

    /// The mean `μ_t(x) = Θ(x,X) Θ⁻¹ (I − e^{−η Θ t/(N·O)}) Y` for M test points.
    ///
    /// `ntk_test_train` is Θ(x, X), M × N; returns M × O. `t ≥ 0` may be `f64::INFINITY`.
    pub fn mean(&self, ntk_test_train: MatRef<f64>, t: f64) -> Result<Mat<f64>> {
        check_time(t)?;
        check_shape(
            "the test-train NTK Θ(x,X)",
            ntk_test_train,
            ntk_test_train.nrows(),
            self.n,
        )?;
        check_finite("the test-train NTK Θ(x,X)", ntk_test_train)?;
        let f = self.spectral_factors(t);
        // V diag(f) Vᵀ Y, then Θ(x,X) times it: O(N²O + MNO).
        let scaled = Mat::from_fn(self.n, self.outputs, |i, o| {
            f[i] * self.targets_eigen[(i, o)]
        });
        let weights = &self.eigenvectors * &scaled;
        let mean = ntk_test_train * &weights;
        check_output("mean", mean.as_ref(), t)?;
        Ok(mean)
    }

    /// The covariance `Σ_t(x, x')` over M test points (M × M), shared by all outputs.
    ///
    /// With `P = Θ(x,X) Θ⁻¹ E_t`:
    /// `Σ_t = K(x,x') + P K(X,X) Pᵀ − P K(X,x') − (P K(X,x'))ᵀ`.
    /// Needs `nngp_test_test` K(x,x') (M × M), `nngp_test_train` K(x,X) (M × N) and
    /// `ntk_test_train` Θ(x,X) (M × N). `t ≥ 0` may be `f64::INFINITY`. The result is
    /// symmetrised (its two triangles agree up to rounding before that).
    pub fn covariance(
        &self,
        nngp_test_test: MatRef<f64>,
        nngp_test_train: MatRef<f64>,
        ntk_test_train: MatRef<f64>,
        t: f64,
    ) -> Result<Mat<f64>> {
        check_time(t)?;
        let m = nngp_test_test.nrows();
        check_shape("the test-test NNGP K(x,x')", nngp_test_test, m, m)?;
        check_shape("the test-train NNGP K(x,X)", nngp_test_train, m, self.n)?;
        check_shape("the test-train NTK Θ(x,X)", ntk_test_train, m, self.n)?;
        check_finite("the test-test NNGP K(x,x')", nngp_test_test)?;
        check_finite("the test-train NNGP K(x,X)", nngp_test_train)?;
        check_finite("the test-train NTK Θ(x,X)", ntk_test_train)?;
        check_symmetric("the test-test NNGP K(x,x')", nngp_test_test)?;
        let f = self.spectral_factors(t);
        // In the eigenbasis: B = Θ(x,X) V diag(f), C = K(x,X) V, G = Vᵀ K(X,X) V;
        // Σ = K(x,x') + B G Bᵀ − B Cᵀ − C Bᵀ.
        let mut b = ntk_test_train * &self.eigenvectors;
        for j in 0..self.n {
            for i in 0..m {
                b[(i, j)] *= f[j];
            }
        }
        let c = nngp_test_train * &self.eigenvectors;
        let bg = &b * &self.nngp_eigen;
        let quad = &bg * b.transpose();
        let cross = &b * c.transpose();
        let cov = Mat::from_fn(m, m, |i, j| {
            let sym = |i: usize, j: usize| {
                nngp_test_test[(i, j)] + quad[(i, j)] - cross[(i, j)] - cross[(j, i)]
            };
            0.5 * (sym(i, j) + sym(j, i))
        });
        check_output("covariance", cov.as_ref(), t)?;
        Ok(cov)
    }

    /// `f(λ_i, t)`: the eigenvalues of `Θ⁻¹ (I − e^{−c t Θ})`.
    fn spectral_factors(&self, t: f64) -> Vec<f64> {
        self.eigenvalues
            .iter()
            .map(|&lambda| spectral_factor(lambda, self.rate * t, self.cutoff))
            .collect()
    }
}

/// `(1 − e^{−λ s})/λ` at scaled time `s = c t ≥ 0`, exact at s = 0 and s = ∞ (pseudo-inverse
/// below `cutoff`), with the λ → 0 limit `s` and λ clamped at 0 from below.
fn spectral_factor(lambda: f64, s: f64, cutoff: f64) -> f64 {
    if s == 0.0 {
        0.0
    } else if s.is_infinite() {
        if lambda > cutoff {
            1.0 / lambda
        } else {
            0.0
        }
    } else {
        let l = lambda.max(0.0);
        if l == 0.0 {
            s
        } else {
            -(-l * s).exp_m1() / l
        }
    }
}

/// Parses a comma-separated list of times, e.g. `"0,1,10,inf"` → `[0, 1, 10, ∞]`.
///
/// Accepts `inf`, `infinity` and `∞` (any case); rejects empty entries, NaN, negative and
/// unparsable values with a message naming the entry.
pub fn parse_times(s: &str) -> Result<Vec<f64>> {
    if s.trim().is_empty() {
        return Err(Error::Invalid("the list of times is empty".into()));
    }
    s.split(',')
        .enumerate()
        .map(|(k, item)| {
            let item = item.trim();
            let lower = item.to_ascii_lowercase();
            let t = match lower.as_str() {
                "inf" | "+inf" | "infinity" | "+infinity" | "∞" => f64::INFINITY,
                "" => return Err(Error::Invalid(format!("time #{} in {s:?} is empty", k + 1))),
                "nan" | "+nan" | "-nan" => {
                    return Err(Error::Invalid(format!(
                        "time #{} in {s:?} is NaN; times must be numbers >= 0 or inf",
                        k + 1
                    )))
                }
                _ => item.parse::<f64>().map_err(|_| {
                    Error::Invalid(format!(
                        "time #{} in {s:?} is not a number: {item:?} (use e.g. 0,1,10,inf)",
                        k + 1
                    ))
                })?,
            };
            if t.is_nan() || t < 0.0 {
                return Err(Error::Invalid(format!(
                    "time #{} in {s:?} is {item}; times must be >= 0 (or inf)",
                    k + 1
                )));
            }
            Ok(t)
        })
        .collect()
}

fn check_time(t: f64) -> Result<()> {
    if t.is_nan() || t < 0.0 {
        return Err(Error::Data(format!(
            "training time must be >= 0 or inf, got {}",
            crate::symbolic::print::compact_number(t)
        )));
    }
    Ok(())
}

fn check_shape(what: &str, a: MatRef<f64>, rows: usize, cols: usize) -> Result<()> {
    if a.nrows() != rows || a.ncols() != cols {
        return Err(Error::Shape(format!(
            "{what} has shape {}×{}, expected {rows}×{cols}",
            a.nrows(),
            a.ncols()
        )));
    }
    Ok(())
}

fn check_finite(what: &str, a: MatRef<f64>) -> Result<()> {
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            let v = a[(i, j)];
            if !v.is_finite() {
                return Err(Error::Data(format!(
                    "{what} holds a non-finite value ({v}) at [{i}, {j}]"
                )));
            }
        }
    }
    Ok(())
}

fn check_symmetric(what: &str, a: MatRef<f64>) -> Result<()> {
    let n = a.nrows();
    let scale = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .fold(0.0_f64, |m, (i, j)| m.max(a[(i, j)].abs()));
    for j in 0..n {
        for i in j + 1..n {
            if (a[(i, j)] - a[(j, i)]).abs() > SYMMETRY_RTOL * scale {
                return Err(Error::Data(format!(
                    "{what} is not symmetric: [{i}, {j}] = {} but [{j}, {i}] = {}",
                    a[(i, j)],
                    a[(j, i)]
                )));
            }
        }
    }
    Ok(())
}

fn check_output(what: &str, a: MatRef<f64>, t: f64) -> Result<()> {
    check_finite(what, a).map_err(|_| {
        Error::Numeric(format!(
            "the predicted {what} at t = {t} overflowed to a non-finite value \
             (learning rate × time too large for this kernel?)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectral_factor_limits() {
        // s = 0, tiny λ (→ s), clamped negative λ, t = ∞ with and without cut-off.
        assert_eq!(spectral_factor(3.0, 0.0, 1e-9), 0.0);
        assert_eq!(spectral_factor(0.0, 2.5, 1e-9), 2.5);
        assert_eq!(spectral_factor(-1e-17, 2.5, 1e-9), 2.5);
        let tiny = spectral_factor(1e-300, 2.5, 1e-9);
        assert!((tiny - 2.5).abs() < 1e-15);
        assert_eq!(spectral_factor(4.0, f64::INFINITY, 1e-9), 0.25);
        assert_eq!(spectral_factor(1e-10, f64::INFINITY, 1e-9), 0.0);
        let x: f64 = 0.7 * 1.3;
        assert!((spectral_factor(0.7, 1.3, 0.0) - (1.0 - (-x).exp()) / 0.7).abs() < 1e-15);
    }
}

/// Mean (and covariance) of an infinite ensemble at several training times.
#[derive(Clone, Debug)]
pub struct Prediction {
    /// The times, as given.
    pub times: Vec<f64>,
    /// μ_t at each time, `M × O`.
    pub mean: Vec<Mat<f64>>,
    /// Σ_t at each time, `M × M` (empty unless asked for).
    pub cov: Vec<Mat<f64>>,
}

impl Prediction {
    /// Evaluate `mean(t)`, and `cov(t)` when given, at every time of `times`.
    pub fn at_times(
        times: &[f64],
        mean: impl Fn(f64) -> Result<Mat<f64>>,
        cov: Option<impl Fn(f64) -> Result<Mat<f64>>>,
    ) -> Result<Self> {
        let mut out = Self {
            times: times.to_vec(),
            mean: Vec::with_capacity(times.len()),
            cov: Vec::new(),
        };
        for &t in times {
            out.mean.push(mean(t)?);
            if let Some(cov) = &cov {
                out.cov.push(cov(t)?);
            }
        }
        Ok(out)
    }
}
