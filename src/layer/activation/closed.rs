//! Closed-form duals of GELU, sign, the exponential, the Gaussian and the RBF feature map.
//!
//! Each function returns `(T, Ṫ)` for `(u, v) ~ N(0, [[k11, k12], [k12, k22]])`, with the
//! degenerate conventions of [`crate::layer::dual`] (negative variances count as 0, `k12` is
//! clamped to `[−√(k11 k22), √(k11 k22)]`, `ρ = 0` when `k11 k22 = 0`). For φ smooth with
//! Gaussian-integrable derivatives, Price's theorem gives `Ṫ = ∂T/∂k12`; that is how the `Ṫ`
//! below were obtained, and the tests check them against `E[φ'(u) φ'(v)]` by quadrature and
//! Monte Carlo.

use std::f64::consts::{FRAC_1_PI, PI};

use crate::layer::dual::correlation;

/// GELU `φ(x) = x Φ(x)` (Tsuchida et al. 2020, neural-tangents' `Gelu`). With
/// `P = (1 + k11)(1 + k22)`, `δ = √(P − k12²)` and `q = k11 k22`:
///
/// ```text
/// T = k12/4 + [k12 arcsin(k12/√P) + (q δ² + k12²)/(P δ)]/(2π)
/// Ṫ = 1/4 + [arcsin(k12/√P) + (k12/δ)(1 + (2 − q + k12²/δ²)/P)]/(2π)
/// ```
///
/// `δ² = 1 + k11 + k22 + (k11 k22 − k12²) ≥ 1` is evaluated in that form, so it never cancels.
/// On the diagonal (`k11 = k12 = k22 = k`) `T = k/4 + (k/π)[k/((1+k)√(1+2k)) + ½ arcsin(k/(1+k))]`.
#[inline(always)]
pub fn gelu(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (k11, k22) = (k11.max(0.0), k22.max(0.0));
    let (_, _, k12) = correlation(k11, k12, k22);
    let q = k11 * k22;
    let p = (1.0 + k11) * (1.0 + k22);
    let delta2 = 1.0 + k11 + k22 + (q - k12 * k12).max(0.0);
    let delta = delta2.sqrt();
    let angle = (k12 / p.sqrt()).clamp(-1.0, 1.0).asin();
    let t = 0.25 * k12 + 0.5 * FRAC_1_PI * (k12 * angle + (q * delta2 + k12 * k12) / (p * delta));
    let tdot =
        0.25 + 0.5 * FRAC_1_PI * (angle + k12 / delta * (1.0 + (2.0 - q + k12 * k12 / delta2) / p));
    (t, tdot)
}

/// Sign `φ(x) = sign x` (`sign 0 = 0`): `T = (2/π) arcsin ρ`, `Ṫ = 0`.
///
/// `Ṫ = 0` is `E[φ'(u) φ'(v)]` with the derivative φ' = 0 that a finite network's gradient
/// sees (neural-tangents does the same): the jump at 0 passes no gradient, so the NTK gets no
/// contribution through a sign layer. (`∂T/∂k12 = 2/(π √(k11 k22 − k12²))` is not that.) A
/// zero input has `ρ = 0` by convention, so `T = 0 = sign(0) · E[sign v]`.
#[inline(always)]
pub fn sign(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (mut rho, scale, _) = correlation(k11, k12, k22);
    if scale.is_infinite() {
        // k11 k22 overflows (variances beyond ~1e154): ρ from the geometric mean instead.
        let s = crate::layer::dual::geometric_mean(k11.max(0.0), k22.max(0.0));
        rho = (k12 / s).clamp(-1.0, 1.0);
    }
    (2.0 * FRAC_1_PI * rho.asin(), 0.0)
}

/// Exponential `φ(x) = a e^{b x}` (neural-tangents' `Exp`), from the Gaussian moment
/// generating function `E[e^{b(u + v)}] = e^{b² Var(u + v)/2}`:
///
/// ```text
/// T = a² exp(b² (k11 + k22 + 2 k12)/2),        Ṫ = b² T.
/// ```
#[inline(always)]
pub fn exp(a: f64, b: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (k11, k22) = (k11.max(0.0), k22.max(0.0));
    let (_, _, k12) = correlation(k11, k12, k22);
    let t = a * a * (0.5 * b * b * (k11 + k22 + 2.0 * k12).max(0.0)).exp();
    (t, b * b * t)
}

/// Gaussian `φ(x) = a e^{b x²}` (neural-tangents' `Gaussian`, default `b = −1`). With
/// `D = (1 − 2b k11)(1 − 2b k22) − 4b² k12² = 1 − 2b(k11 + k22) + 4b²(k11 k22 − k12²)`:
///
/// ```text
/// T = a² / √D,        Ṫ = 4 a² b² k12 / D^{3/2}
/// ```
///
/// (the Gaussian integral `E[e^{b(u² + v²)}] = det(I − 2bΣ)^{−1/2}`, and `E[uv e^{b(u²+v²)}]`
/// is the tilted covariance `k12/D` times it). For `b ≤ 0` it holds at every covariance; for
/// `b > 0` the expectation is finite only while `I − 2bΣ` is positive definite, and beyond it
/// both values are `+∞` (which the kernel fold reports as an overflow, naming the layer).
#[inline(always)]
pub fn gaussian(a: f64, b: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (k11, k22) = (k11.max(0.0), k22.max(0.0));
    let (_, scale, k12) = correlation(k11, k12, k22);
    let det = (scale - k12) * (scale + k12); // k11 k22 − k12² ≥ 0
    let d = 1.0 - 2.0 * b * (k11 + k22) + 4.0 * b * b * det;
    if b > 0.0 && (1.0 - 2.0 * b * k11.max(k22) <= 0.0 || d <= 0.0) {
        return (f64::INFINITY, f64::INFINITY);
    }
    let root = d.sqrt();
    let t = a * a / root;
    (t, 4.0 * b * b * k12 * t / d)
}

/// The RBF feature map `φ(x) = √2 sin(√(2γ) x + π/4)` (neural-tangents' `Rbf`), whose dual is
/// the squared-exponential kernel of the pre-activations:
///
/// ```text
/// T = exp(−γ (k11 + k22 − 2 k12)),        Ṫ = 2γ T
/// ```
///
/// (the sine dual with `a = √2`, `b = √(2γ)`, `c = π/4`, where `cos 2c = 0`).
#[inline(always)]
pub fn rbf(gamma: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (k11, k22) = (k11.max(0.0), k22.max(0.0));
    let t = (-gamma * (k11 + k22 - 2.0 * k12).max(0.0)).exp();
    (t, 2.0 * gamma * t)
}

/// The phase that turns the sine dual into the cosine's: `a cos(bx + c) = a sin(bx + c + π/2)`.
pub const COS_PHASE: f64 = PI / 2.0;

/// neural-tangents' `Sigmoid_like`: `½ erf(x/2.4020563531719796) + ½`, the erf that best fits
/// the logistic sigmoid in squared error on [−5, 5].
pub const SIGMOID_LIKE_SCALE: f64 = 2.402_056_353_171_979_6;
