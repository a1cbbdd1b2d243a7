//! The spectral function of gradient flow, `f(λ, s) = (1 − e^{−λ s}) / λ`, and a Hermitian
//! eigendecomposition, shared by the block-diagonal predictors.
//!
//! The conventions are those of [`crate::predict`]: λ is clamped at 0 from below at finite `s`
//! (`f(0, s) = s`), `s = 0` gives 0 exactly, and at `s = ∞` eigenvalues at or below `cutoff`
//! count as zero (a pseudo-inverse).

use faer::{Mat, Side};
use num_complex::Complex64 as C64;

use crate::error::{Error, Result};

/// `(1 − e^{−λ s})/λ` at scaled time `s = c t ≥ 0`, exact at `s = 0` and `s = ∞`.
pub(crate) fn spectral_factor(lambda: f64, s: f64, cutoff: f64) -> f64 {
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

/// `B = V diag(λ) Vᴴ` for a Hermitian `B` (symmetrised first; λ ascending).
pub(crate) fn hermitian_eigen(b: &Mat<C64>, what: &str) -> Result<(Vec<f64>, Mat<C64>)> {
    let n = b.nrows();
    let sym = Mat::from_fn(n, n, |i, j| (b[(i, j)] + b[(j, i)].conj()) * 0.5);
    let evd = sym.self_adjoint_eigen(Side::Lower).map_err(|e| {
        Error::Numeric(format!(
            "the eigendecomposition of {what} did not converge ({e:?})"
        ))
    })?;
    let lambda = (0..n).map(|i| evd.S()[i].re).collect();
    Ok((lambda, evd.U().to_owned()))
}

/// Errors when time `t` is NaN or negative.
pub(crate) fn check_time(t: f64) -> Result<()> {
    if t.is_nan() || t < 0.0 {
        return Err(Error::Data(format!(
            "training time must be >= 0 or inf, got {}",
            crate::symbolic::print::compact_number(t)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_of_the_spectral_factor() {
        assert_eq!(spectral_factor(2.0, 0.0, 0.0), 0.0);
        assert_eq!(spectral_factor(0.0, 3.0, 0.0), 3.0);
        assert_eq!(spectral_factor(4.0, f64::INFINITY, 1e-9), 0.25);
        assert_eq!(spectral_factor(1e-12, f64::INFINITY, 1e-9), 0.0);
        let want = (1.0 - (-0.7f64 * 1.3).exp()) / 0.7;
        assert!((spectral_factor(0.7, 1.3, 0.0) - want).abs() < 1e-15);
    }
}
