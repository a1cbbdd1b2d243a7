//! Haar quadrature on SO(3) in ZYZ Euler angles, and its refinement with an error estimate.
//!
//! # The rule
//!
//! With `R(α, β, γ) = R_z(α) R_y(β) R_z(γ)` the normalised Haar measure is
//! `dR = (1/8π²) sin β dα dβ dγ`, so with `x = cos β`
//!
//! ```text
//! ∫_SO(3) f(R) dR = (1/8π²) ∫₀^{2π} ∫₋₁^{1} ∫₀^{2π} f(R(α, arccos x, γ)) dα dx dγ
//!                 ≈ Σ_{j,i,k} (w_i / (2 N²)) f(R(2πj/N, arccos x_i, 2πk/N))
//! ```
//!
//! with the trapezoid rule (`N` equally spaced angles) in α and γ and the `n`-point
//! Gauss–Legendre rule `(x_i, w_i)` in `cos β`. The rule of **degree `L`** takes `N = L + 1` and
//! `n = ⌊L/2⌋ + 1`; it integrates exactly every function in the span of the Wigner matrix
//! entries `D^l_{mm′}`, `l ≤ L`: the trapezoid sums kill the phases `e^{−imα}`, `e^{−im′γ}`
//! with `0 < |m|, |m′| ≤ L`, leaving `d^l_{00}(β) = P_l(cos β)`, a polynomial of degree `≤ L`
//! in `x`, which Gauss–Legendre integrates exactly as `2n − 1 ≥ L`. A product `f g` of degrees
//! `a` and `b` has degree `a + b` (e.g. `χ_a χ_b` needs `L ≥ a + b`).
//!
//! # Refinement
//!
//! [`So3Quadrature::integrate_adaptive`] evaluates the rules of degree `L₀, 2L₀ + 1, …` and
//! returns the finer of the last two, `Q_{2L+1}`, with the change `|Q_{2L+1} − Q_L|` as its
//! error estimate (conservative for smooth integrands, whose error falls much faster than the
//! degree grows); it stops when the estimate is `≤ tol`. A band-limited integrand is integrated
//! exactly once the degree reaches its band limit, and the next estimate drops to rounding.

use std::f64::consts::PI;

use super::gauss_legendre::gauss_legendre;
use super::rotation3::Matrix3;
use crate::error::{Error, Result};

/// The largest degree of an SO(3) quadrature rule (about `L³/2` rotations).
pub(crate) const MAX_SO3_QUADRATURE_DEGREE: usize = 512;

/// A quadrature rule on SO(3): rotations with positive weights summing to 1.
#[derive(Clone, Debug)]
pub struct So3Quadrature {
    degree: usize,
    rotations: Vec<Matrix3>,
    weights: Vec<f64>,
}

/// The result of an adaptive integration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveIntegral {
    /// The integral at the finest degree reached.
    pub value: f64,
    /// `|Q_L − Q_{L_previous}|` at the last refinement.
    pub error_estimate: f64,
    /// The degree of the last rule used.
    pub degree: usize,
}

impl So3Quadrature {
    /// The rule of degree `L` (exact for band limit `L`; see the module docs).
    pub fn new(degree: usize) -> Result<Self> {
        crate::budget::at_most(
            "the degree of the SO(3) quadrature",
            degree,
            MAX_SO3_QUADRATURE_DEGREE,
        )?;
        let n_angle = degree + 1;
        let (x, w) = gauss_legendre(degree / 2 + 1)?;
        let mut rotations = Vec::with_capacity(n_angle * n_angle * x.len());
        let mut weights = Vec::with_capacity(rotations.capacity());
        let scale = 1.0 / (2.0 * (n_angle * n_angle) as f64);
        for j in 0..n_angle {
            let alpha = 2.0 * PI * j as f64 / n_angle as f64;
            for (xi, wi) in x.iter().zip(&w) {
                let beta = xi.clamp(-1.0, 1.0).acos();
                for k in 0..n_angle {
                    let gamma = 2.0 * PI * k as f64 / n_angle as f64;
                    rotations.push(Matrix3::from_euler_zyz(alpha, beta, gamma));
                    weights.push(wi * scale);
                }
            }
        }
        Ok(Self {
            degree,
            rotations,
            weights,
        })
    }
    /// The degree `L`.
    pub fn degree(&self) -> usize {
        self.degree
    }
    /// The number of rotations, `(L + 1)² (⌊L/2⌋ + 1)`.
    pub fn len(&self) -> usize {
        self.rotations.len()
    }
    /// Never true (a rule has at least one rotation).
    pub fn is_empty(&self) -> bool {
        self.rotations.is_empty()
    }
    /// The rotations.
    pub fn rotations(&self) -> &[Matrix3] {
        &self.rotations
    }
    /// The weights (positive, summing to 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    /// `Σ_q w_q f(R_q)`.
    pub fn integrate(&self, f: impl Fn(&Matrix3) -> f64) -> f64 {
        self.rotations
            .iter()
            .zip(&self.weights)
            .map(|(r, w)| w * f(r))
            .sum()
    }
    /// Refine from degree `start` (`L ↦ 2L + 1`) until two successive rules differ by at most
    /// `tol`; [`Error::NotConverged`] once the degree would exceed `max_degree`.
    pub fn integrate_adaptive(
        f: impl Fn(&Matrix3) -> f64,
        start: usize,
        tol: f64,
        max_degree: usize,
    ) -> Result<AdaptiveIntegral> {
        if !(tol > 0.0 && tol.is_finite()) {
            return Err(Error::Invalid(format!(
                "the SO(3) quadrature tolerance must be positive and finite, got {tol}"
            )));
        }
        let max_degree = max_degree.min(MAX_SO3_QUADRATURE_DEGREE);
        let mut degree = start.min(max_degree);
        let mut prev = Self::new(degree)?.integrate(&f);
        let mut last_estimate = f64::INFINITY;
        loop {
            let next_degree = 2 * degree + 1;
            if next_degree > max_degree {
                return Err(Error::NotConverged {
                    what: format!("the SO(3) quadrature (degree {degree})"),
                    tol,
                    estimate: last_estimate,
                });
            }
            let value = Self::new(next_degree)?.integrate(&f);
            let estimate = (value - prev).abs();
            if estimate <= tol {
                return Ok(AdaptiveIntegral {
                    value,
                    error_estimate: estimate,
                    degree: next_degree,
                });
            }
            prev = value;
            last_estimate = estimate;
            degree = next_degree;
        }
    }
}
