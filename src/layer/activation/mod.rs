//! Pointwise nonlinearities φ and their dual activations (MATH.md §3).
//!
//! A nonlinearity maps the kernels at every site pair entrywise: with
//! `(u, v) ~ N(0, [[k11, k12], [k12, k22]])`,
//!
//! ```text
//! K' = T(k11, k12, k22) = E[φ(u) φ(v)],      Θ' = Ṫ(k11, k12, k22) · Θ,   Ṫ = E[φ'(u) φ'(v)].
//! ```
//!
//! [`Activation::dual`] uses a closed form where one exists and quadrature otherwise (tanh,
//! the logistic sigmoid, softplus; see [`Activation::dual`] for the rule). The closed forms,
//! one file per family, with neural-tangents' parameter names and defaults:
//!
//! | family | kinds | where |
//! |---|---|---|
//! | piecewise linear | `relu`, `leaky_relu`, `abrelu`, `abs`, `identity` | [`super::dual`] |
//! | erf and sines | `erf`, `sigmoid_like`, `sin`, `cos` | [`super::dual`] |
//! | exponential and Gaussian | `gelu`, `sign`, `exp`, `gaussian`, `rbf` | [`closed`] |
//! | polynomials | `monomial`, `polynomial`, `hermite` | [`polynomial`] |
//! | rectified monomials | `rectified_monomial` (arc-cosine kernels of degree n) | [`rectified`] |
//!
//! Where neural-tangents is restricted or wrong, eqntk is exact, and its tests say so:
//! * `hermite`: neural-tangents' kernel `T = k12^n` assumes unit-variance pre-activations; eqntk's
//!   ([`polynomial::hermite`]) holds at every variance (checked by Monte Carlo at variance ≠ 1,
//!   where the finite networks reject the unit-variance form);
//! * `rectified_monomial`: neural-tangents divides by `sin θ` and returns NaN where `ρ = 1`
//!   (diagonal entries); eqntk's polynomial form ([`rectified`]) has no division;
//! * `sign`: neural-tangents forms `arctan2(√(k11 k22 − k12²), k12)`, so on the diagonal a
//!   rounding error of `k12` moves `T` by its square root (~1e-4 in a two-layer network);
//!   eqntk's `(2/π) arcsin ρ` gives `T(k, k, k) = 1` exactly;
//! * `monomial`: neural-tangents allows degrees 0 to 5; eqntk any degree up to
//!   [`MAX_DEGREE`].
//!
//! [`Activation::dual_by_quadrature`] is the
//! slow, robust reference for every φ: split, geometrically graded Gauss–Legendre panels in the
//! Cholesky coordinates of the covariance ([`super::quadrature::expect_pair_split`]), which
//! handles kinks and the `ρ → ±1` limit. The tests check one against the other and both against
//! Monte Carlo.
//!
//! Conventions fixed here:
//! * at a kink (`x = 0` for the ABReLU family) [`Activation::dphi`] returns the mean of the
//!   one-sided derivatives, `(a + b)/2` (ReLU'(0) = 1/2, |x|'(0) = 0). This is what jax gives
//!   for neural-tangents' finite `ABRelu`/`Relu`/`LeakyRelu`/`Abs`
//!   (`a·min(x, 0) + b·max(x, 0)`, whose derivative splits ties evenly), and it makes a zero
//!   input consistent with the closed form: `Ṫ(0, 0, k) = E[φ'(0) φ'(v)] = (a + b)²/4`;
//! * degenerate covariances: see [`super::dual`] (`ρ` clamped, `ρ = 0` when `k11 k22 = 0`).

pub(crate) mod closed;
pub(crate) mod expression;
pub(crate) mod polynomial;
pub(crate) mod rectified;

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_PI_4, PI};
use std::sync::OnceLock;

pub use polynomial::MAX_DEGREE;

use super::adaptive_quadrature::{self, PairEstimate, Tolerance};
use super::dual;
use super::quadrature::{self, BivariateNormal, Panels};
use super::reduced::{ReducedStep, Stage};
use super::shape::Shape;
use super::{Keys, Layer, LayerKind, Registration};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass, OpDims};
use crate::group::GroupSpec;
use crate::kernel::BlockMap;
use crate::network::QuadratureReport;
use crate::symbolic::layers::{dual_args, site_sym, Sites};
use crate::symbolic::{
    Assumptions, Definition, Expr, KernelKind, KernelSym, LayerDefinitions, Param,
};

/// A pointwise nonlinearity, with neural-tangents' parameter names and defaults.
#[derive(Clone, Debug, PartialEq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x ≥ 0`, `α x` otherwise.
    LeakyRelu {
        /// Slope `α` for negative inputs.
        alpha: f64,
    },
    /// `a·min(x, 0) + b·max(x, 0)`.
    AbRelu {
        /// Slope for negative inputs.
        a: f64,
        /// Slope for positive inputs.
        b: f64,
    },
    /// `|x|`.
    Abs,
    /// `x`.
    Identity,
    /// `a·erf(b x) + c` (neural-tangents' default `a = b = 1`, `c = 0`).
    Erf {
        /// Amplitude.
        a: f64,
        /// Input scale.
        b: f64,
        /// Offset.
        c: f64,
    },
    /// `tanh x`.
    Tanh,
    /// The exact GELU `x·Φ(x)`, `Φ` the standard normal distribution function.
    Gelu,
    /// The logistic sigmoid `1/(1 + e^{−x})`.
    Sigmoid,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `a·sin(b x + c)` (neural-tangents' `Sin`, default `a = b = 1`, `c = 0`).
    Sin {
        /// Amplitude.
        a: f64,
        /// Frequency.
        b: f64,
        /// Phase.
        c: f64,
    },
    /// `a·cos(b x + c)` (neural-tangents' `Cos`, default `a = b = 1`, `c = 0`).
    Cos {
        /// Amplitude.
        a: f64,
        /// Frequency.
        b: f64,
        /// Phase.
        c: f64,
    },
    /// `sign x` (`sign 0 = 0`).
    Sign,
    /// `√2 sin(√(2γ) x + π/4)`, whose dual is the squared-exponential kernel (neural-tangents'
    /// `Rbf`, default `γ = 1`).
    Rbf {
        /// Inverse squared length scale, `γ = 1/(2ℓ²)`, ≥ 0.
        gamma: f64,
    },
    /// `a·e^{b x}` (neural-tangents' `Exp`, default `a = b = 1`).
    Exp {
        /// Amplitude.
        a: f64,
        /// Rate.
        b: f64,
    },
    /// `a·e^{b x²}` (neural-tangents' `Gaussian`, default `a = 1`, `b = −1`).
    Gaussian {
        /// Amplitude.
        a: f64,
        /// Coefficient of `x²` in the exponent.
        b: f64,
    },
    /// `x^degree` (`degree ≤` `MAX_DEGREE`; neural-tangents allows 0 to 5).
    Monomial {
        /// The power.
        degree: usize,
    },
    /// `x^degree` for `x ≥ 0`, 0 otherwise (`degree = 0`: the step; 1: ReLU).
    RectifiedMonomial {
        /// The power.
        degree: usize,
    },
    /// `Σ_i coef[i] x^i` (neural-tangents' `Polynomial`; at most `MAX_DEGREE` + 1 terms).
    Polynomial {
        /// `coef[i]` multiplies `x^i`.
        coef: Vec<f64>,
    },
    /// The normalised probabilists' Hermite polynomial `He_degree(x)/√(degree!)`.
    Hermite {
        /// The degree.
        degree: usize,
    },
    /// neural-tangents' `Sigmoid_like`: `½ erf(x/2.4020563531719796) + ½`.
    SigmoidLike,
    /// φ written as an expression in x (`expression`), its dual by quadrature.
    Elementwise(Box<expression::Expression>),
}

impl Activation {
    /// The layer kind in network files: `"relu"`, `"leaky_relu"`, `"abrelu"`, `"abs"`,
    /// `"identity"`, `"erf"`, `"tanh"`, `"gelu"`, `"sigmoid"`, `"softplus"`, `"sin"`.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::AbRelu { .. } => "abrelu",
            Activation::Abs => "abs",
            Activation::Identity => "identity",
            Activation::Erf { .. } => "erf",
            Activation::Tanh => "tanh",
            Activation::Elementwise(_) => "elementwise",
            Activation::Gelu => "gelu",
            Activation::Sigmoid => "sigmoid",
            Activation::Softplus => "softplus",
            Activation::Sin { .. } => "sin",
            Activation::Cos { .. } => "cos",
            Activation::Sign => "sign",
            Activation::Rbf { .. } => "rbf",
            Activation::Exp { .. } => "exp",
            Activation::Gaussian { .. } => "gaussian",
            Activation::Monomial { .. } => "monomial",
            Activation::RectifiedMonomial { .. } => "rectified_monomial",
            Activation::Polynomial { .. } => "polynomial",
            Activation::Hermite { .. } => "hermite",
            Activation::SigmoidLike => "sigmoid_like",
        }
    }

    /// φ(x), for finite networks.
    #[inline]
    pub fn phi(&self, x: f64) -> f64 {
        match *self {
            Activation::Cos { a, b, c } => a * (b * x + c).cos(),
            Activation::Sign => sign(x),
            Activation::Rbf { gamma } => {
                std::f64::consts::SQRT_2 * ((2.0 * gamma).sqrt() * x + FRAC_PI_4).sin()
            }
            Activation::Exp { a, b } => a * (b * x).exp(),
            Activation::Gaussian { a, b } => a * (b * x * x).exp(),
            Activation::Monomial { degree } => x.powi(degree as i32),
            Activation::RectifiedMonomial { degree } => {
                if x >= 0.0 {
                    x.powi(degree as i32)
                } else {
                    0.0
                }
            }
            Activation::Polynomial { ref coef } => polynomial::eval(coef, x),
            Activation::Hermite { degree } => polynomial::eval(hermite_coefficients(degree), x),
            Activation::SigmoidLike => 0.5 * libm::erf(x / closed::SIGMOID_LIKE_SCALE) + 0.5,
            Activation::Identity => x,
            Activation::Erf { a, b, c } => a * libm::erf(b * x) + c,
            Activation::Tanh => x.tanh(),
            Activation::Elementwise(ref e) => e.jet(x).0,
            Activation::Gelu => x * normal_cdf(x),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            // ln(1 + e^x) = max(x, 0) + ln(1 + e^{−|x|}), without overflow.
            Activation::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            Activation::Sin { a, b, c } => a * (b * x + c).sin(),
            Activation::Relu => x.max(0.0),
            Activation::LeakyRelu { alpha } => ab_relu(alpha, 1.0, x),
            Activation::AbRelu { a, b } => ab_relu(a, b, x),
            Activation::Abs => x.abs(),
        }
    }

    /// φ'(x). At the kink `x = 0` of the ABReLU family it is the mean of the one-sided
    /// derivatives, `(a + b)/2` (module docs).
    #[inline]
    pub fn dphi(&self, x: f64) -> f64 {
        match *self {
            Activation::Cos { a, b, c } => -a * b * (b * x + c).sin(),
            Activation::Sign => 0.0,
            Activation::Rbf { gamma } => {
                let w = (2.0 * gamma).sqrt();
                std::f64::consts::SQRT_2 * w * (w * x + FRAC_PI_4).cos()
            }
            Activation::Exp { a, b } => a * b * (b * x).exp(),
            Activation::Gaussian { a, b } => 2.0 * a * b * x * (b * x * x).exp(),
            Activation::Monomial { degree: 0 } => 0.0,
            Activation::Monomial { degree } => degree as f64 * x.powi(degree as i32 - 1),
            Activation::RectifiedMonomial { degree: 0 } => 0.0,
            Activation::RectifiedMonomial { degree } => {
                if x > 0.0 {
                    degree as f64 * x.powi(degree as i32 - 1)
                } else if x == 0.0 && degree == 1 {
                    0.5
                } else {
                    0.0
                }
            }
            Activation::Polynomial { ref coef } => polynomial::eval_derivative(coef, x),
            Activation::Hermite { degree } => {
                polynomial::eval_derivative(hermite_coefficients(degree), x)
            }
            Activation::SigmoidLike => {
                let s = closed::SIGMOID_LIKE_SCALE;
                0.5 * std::f64::consts::FRAC_2_SQRT_PI / s * (-(x / s) * (x / s)).exp()
            }
            Activation::Identity => 1.0,
            Activation::Erf { a, b, .. } => {
                a * b * std::f64::consts::FRAC_2_SQRT_PI * (-(b * x) * (b * x)).exp()
            }
            Activation::Tanh => {
                let t = x.tanh();
                1.0 - t * t
            }
            Activation::Elementwise(ref e) => e.jet(x).1,
            Activation::Gelu => normal_cdf(x) + x * normal_pdf(x),
            Activation::Sigmoid => logistic_derivative(x),
            Activation::Softplus => 1.0 / (1.0 + (-x).exp()),
            Activation::Sin { a, b, c } => a * b * (b * x + c).cos(),
            Activation::Relu => ab_relu_derivative(0.0, 1.0, x),
            Activation::LeakyRelu { alpha } => ab_relu_derivative(alpha, 1.0, x),
            Activation::AbRelu { a, b } => ab_relu_derivative(a, b, x),
            Activation::Abs => ab_relu_derivative(-1.0, 1.0, x),
        }
    }

    /// Whether [`Activation::dual`] is a closed form (else it is quadrature).
    pub fn has_closed_form(&self) -> bool {
        !matches!(
            self,
            Activation::Tanh
                | Activation::Sigmoid
                | Activation::Softplus
                | Activation::Elementwise(_)
        )
    }

    /// `(T, Ṫ) = (E[φ(u) φ(v)], E[φ'(u) φ'(v)])` for
    /// `(u, v) ~ N(0, [[k11, k12], [k12, k22]])`.
    ///
    /// Closed forms of `super::dual` where [`Activation::has_closed_form`]. Otherwise
    /// quadrature in the Cholesky coordinates of the covariance: the tensor Gauss–Hermite rule
    /// of `quadrature::HERMITE_NODES`² points while `√k11, √k22` are at most 0.5 (tanh) or 1
    /// (sigmoid, softplus), where it is accurate to ≲ 1e-12; beyond, the split rule of
    /// [`Activation::dual_by_quadrature`] at `Panels::FAST` resolution (≲ 1e-12 relative for
    /// `√k ≤ 2`, ≲ 5e-9 up to `√k = 30`; about 20× the cost of Gauss–Hermite). Finite for every
    /// finite input (degenerate conventions in `super::dual`).
    #[inline]
    pub fn dual(&self, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
        match *self {
            Activation::Relu => dual::relu(k11, k12, k22),
            Activation::LeakyRelu { alpha } => dual::ab_relu(alpha, 1.0, k11, k12, k22),
            Activation::AbRelu { a, b } => dual::ab_relu(a, b, k11, k12, k22),
            Activation::Abs => dual::ab_relu(-1.0, 1.0, k11, k12, k22),
            Activation::Identity => dual::identity(k11, k12, k22),
            Activation::Erf { a, b, c } => dual::erf(a, b, c, k11, k12, k22),
            Activation::Sin { a, b, c } => dual::sin(a, b, c, k11, k12, k22),
            Activation::Cos { a, b, c } => dual::sin(a, b, c + closed::COS_PHASE, k11, k12, k22),
            Activation::Gelu => closed::gelu(k11, k12, k22),
            Activation::Sign => closed::sign(k11, k12, k22),
            Activation::Rbf { gamma } => closed::rbf(gamma, k11, k12, k22),
            Activation::Exp { a, b } => closed::exp(a, b, k11, k12, k22),
            Activation::Gaussian { a, b } => closed::gaussian(a, b, k11, k12, k22),
            Activation::Monomial { degree } => polynomial::monomial(degree, k11, k12, k22),
            Activation::RectifiedMonomial { degree } => {
                rectified::rectified_monomial(degree, k11, k12, k22)
            }
            Activation::Polynomial { ref coef } => polynomial::polynomial(coef, k11, k12, k22),
            Activation::Hermite { degree } => polynomial::hermite(degree, k11, k12, k22),
            Activation::SigmoidLike => {
                dual::erf(0.5, 1.0 / closed::SIGMOID_LIKE_SCALE, 0.5, k11, k12, k22)
            }
            Activation::Tanh
            | Activation::Sigmoid
            | Activation::Softplus
            | Activation::Elementwise(_) => self.dual_numeric(k11, k12, k22),
        }
    }

    /// Quadrature for φ without a closed form (see [`Activation::dual`]).
    fn dual_numeric(&self, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
        if let Activation::Elementwise(ref e) = *self {
            let estimate = self
                .dual_estimate(k11, k12, k22)
                .expect("a written activation");
            e.ledger.record(&estimate);
            return (estimate.value[0], estimate.value[1]);
        }
        let cov = BivariateNormal::from_cov(k11, k12, k22);
        let width = self.transition_width();
        if cov.sigma1.max(cov.sigma2) <= self.hermite_max_sigma() {
            quadrature::expect_pair_hermite(&cov, |x| (self.phi(x), self.dphi(x)))
        } else {
            quadrature::expect_pair_split(
                &cov,
                |x| (self.phi(x), self.dphi(x)),
                width,
                Panels::FAST,
            )
        }
    }

    /// For a written activation (`elementwise`), `(T, Ṫ)` by the adaptive quadrature of
    /// `adaptive_quadrature` at the layer's tolerance, with the estimated errors and scales
    /// (what [`Activation::dual`] returns and records); `None` for every other kind.
    pub fn dual_estimate(&self, k11: f64, k12: f64, k22: f64) -> Option<PairEstimate> {
        let Activation::Elementwise(ref e) = *self else {
            return None;
        };
        let cov = BivariateNormal::from_cov(k11, k12, k22);
        Some(adaptive_quadrature::expect_pair_adaptive(
            &cov,
            |x| e.jet(x),
            e.width,
            e.tol,
        ))
    }

    /// The same `(T, Ṫ)` as [`Activation::dual`], always by the robust quadrature
    /// `quadrature::expect_pair_split`: both Gaussian integrals (Cholesky coordinates) are
    /// split where φ(u), φ(v) have their kink or transition (`u = 0`, `v = 0`) and integrated
    /// by Gauss–Legendre panels graded towards the split (`Panels::FINE`). Measured against
    /// the closed forms: `T` and `Ṫ` to ≲ 1e-10 relative to the Cauchy–Schwarz scale
    /// `√(T(k11,k11,k11) T(k22,k22,k22))`, for variances from 1e-12 to 1e6 and `ρ` up to ±1;
    /// for `Sin` the variance should satisfy `|b| √k ≲ 5` (panels ≤ 1 standard deviation long,
    /// the integrand oscillates). The test oracle; costs milliseconds.
    pub fn dual_by_quadrature(&self, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
        let cov = BivariateNormal::from_cov(k11, k12, k22);
        quadrature::expect_pair_split(
            &cov,
            |x| (self.phi(x), self.dphi(x)),
            self.transition_width(),
            Panels::FINE,
        )
    }

    /// The largest standard deviation for which the 48-point tensor Gauss–Hermite rule is
    /// accurate to ≲ 1e-12 for φ and φ' (measured against the split rule; the rule converges
    /// like `exp(−d √(2n)/σ)` with `d` the distance of φ's nearest complex singularity to the
    /// real axis: `π/2` for tanh, `π` for the sigmoid and softplus; GELU is entire but
    /// `Φ(iy)` grows like `e^{y²/2}`).
    fn hermite_max_sigma(&self) -> f64 {
        match self {
            Activation::Tanh => 0.5,
            Activation::Sigmoid | Activation::Softplus => 1.0,
            _ => 0.0,
        }
    }

    /// Width (in units of x) of the region around 0 where φ changes character: 0 for a kink,
    /// `1/|b|` for erf and sine, 1 for the other smooth φ.
    fn transition_width(&self) -> f64 {
        match *self {
            Activation::Erf { b, .. } | Activation::Sin { b, .. } | Activation::Cos { b, .. }
                if b != 0.0 =>
            {
                1.0 / b.abs()
            }
            Activation::Rbf { gamma } if gamma > 0.0 => 1.0 / (2.0 * gamma).sqrt(),
            Activation::Gaussian { b, .. } if b != 0.0 => 1.0 / b.abs().sqrt(),
            Activation::Elementwise(ref e) if e.is_kinked() => 0.0,
            Activation::Relu
            | Activation::LeakyRelu { .. }
            | Activation::AbRelu { .. }
            | Activation::Abs
            | Activation::Sign
            | Activation::RectifiedMonomial { .. } => 0.0,
            _ => 1.0,
        }
    }

    /// Maps one row of kernel entries: for every `j`,
    ///
    /// ```text
    /// (T_j, Ṫ_j) = dual(k11, k12[j], k22[j]),   k_out[j] = T_j,   t_out[j] = Ṫ_j · t_in[j]
    /// ```
    ///
    /// (`t_out[j] = Ṫ_j` when `t_in` is `None`; `t_in` is ignored when `t_out` is `None`).
    /// `k11` is the variance shared by the row; all slices have the same length `n`. The
    /// closed forms run in a branch-free loop the compiler can vectorise.
    ///
    /// # Panics
    /// If the slice lengths differ (a programming error, not a user-input error).
    pub fn dual_slice(
        &self,
        k11: f64,
        k12: &[f64],
        k22: &[f64],
        t_in: Option<&[f64]>,
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        let n = k12.len();
        assert!(
            k22.len() == n
                && k_out.len() == n
                && t_in.is_none_or(|t| t.len() == n)
                && t_out.as_ref().is_none_or(|t| t.len() == n),
            "dual_slice: slices of different lengths"
        );
        match *self {
            Activation::Relu => map_row(|x, y| dual::relu(k11, x, y), k12, k22, t_in, k_out, t_out),
            Activation::LeakyRelu { alpha } => map_row(
                |x, y| dual::ab_relu(alpha, 1.0, k11, x, y),
                k12,
                k22,
                t_in,
                k_out,
                t_out,
            ),
            Activation::AbRelu { a, b } => map_row(
                |x, y| dual::ab_relu(a, b, k11, x, y),
                k12,
                k22,
                t_in,
                k_out,
                t_out,
            ),
            Activation::Abs => map_row(
                |x, y| dual::ab_relu(-1.0, 1.0, k11, x, y),
                k12,
                k22,
                t_in,
                k_out,
                t_out,
            ),
            Activation::Identity => map_row(
                |x, y| dual::identity(k11, x, y),
                k12,
                k22,
                t_in,
                k_out,
                t_out,
            ),
            Activation::Erf { a, b, c } => {
                // One overflow check for the row (at its largest variance), none per pair.
                let k22_max = k22.iter().fold(0.0f64, |m, &v| m.max(v));
                if dual::erf_is_unscaled(b, k11.max(0.0), k22_max) {
                    map_row(
                        |x, y| dual::erf_unscaled(a, b, c, k11, x, y),
                        k12,
                        k22,
                        t_in,
                        k_out,
                        t_out,
                    )
                } else {
                    map_row(
                        |x, y| dual::erf(a, b, c, k11, x, y),
                        k12,
                        k22,
                        t_in,
                        k_out,
                        t_out,
                    )
                }
            }
            Activation::Sin { a, b, c } => map_row(
                |x, y| dual::sin(a, b, c, k11, x, y),
                k12,
                k22,
                t_in,
                k_out,
                t_out,
            ),
            _ => map_row(|x, y| self.dual(k11, x, y), k12, k22, t_in, k_out, t_out),
        }
    }
}

/// The loop of [`Activation::dual_slice`], monomorphised per closed form and compiled for the
/// widest vector instructions the CPU has (see [`super::simd`]).
#[inline(always)]
fn map_row(
    f: impl Fn(f64, f64) -> (f64, f64) + Copy,
    k12: &[f64],
    k22: &[f64],
    t_in: Option<&[f64]>,
    k_out: &mut [f64],
    t_out: Option<&mut [f64]>,
) {
    super::simd::dispatch(
        #[inline(always)]
        || map_row_scalar(f, k12, k22, t_in, k_out, t_out),
    );
}

#[inline(always)]
fn map_row_scalar(
    f: impl Fn(f64, f64) -> (f64, f64),
    k12: &[f64],
    k22: &[f64],
    t_in: Option<&[f64]>,
    k_out: &mut [f64],
    t_out: Option<&mut [f64]>,
) {
    match (t_in, t_out) {
        (Some(t_in), Some(t_out)) => {
            let entries = k12.iter().zip(k22).zip(t_in);
            for (((&x, &y), &theta), (k, t)) in entries.zip(k_out.iter_mut().zip(t_out)) {
                let (tt, td) = f(x, y);
                *k = tt;
                *t = td * theta;
            }
        }
        (None, Some(t_out)) => {
            let entries = k12.iter().zip(k22);
            for ((&x, &y), (k, t)) in entries.zip(k_out.iter_mut().zip(t_out)) {
                let (tt, td) = f(x, y);
                *k = tt;
                *t = td;
            }
        }
        (_, None) => {
            for ((&x, &y), k) in k12.iter().zip(k22).zip(k_out.iter_mut()) {
                *k = f(x, y).0;
            }
        }
    }
}

/// `a·min(x, 0) + b·max(x, 0)`.
#[inline]
fn ab_relu(a: f64, b: f64, x: f64) -> f64 {
    a * x.min(0.0) + b * x.max(0.0)
}

/// Derivative of [`ab_relu`]: `a` for `x < 0`, `b` for `x > 0`, `(a + b)/2` at the kink.
#[inline]
fn ab_relu_derivative(a: f64, b: f64, x: f64) -> f64 {
    if x > 0.0 {
        b
    } else if x < 0.0 {
        a
    } else {
        0.5 * (a + b)
    }
}

/// `sign x`, with `sign 0 = 0` (unlike `f64::signum`).
#[inline]
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The coefficients of `He_n/√(n!)` for `n ≤ MAX_DEGREE`, computed once.
fn hermite_coefficients(n: usize) -> &'static [f64] {
    static TABLE: OnceLock<Vec<Vec<f64>>> = OnceLock::new();
    &TABLE.get_or_init(|| (0..=MAX_DEGREE).map(polynomial::hermite_coef).collect())[n]
}

/// Standard normal distribution function `Φ(x) = erfc(−x/√2)/2`.
#[inline]
fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// Standard normal density `e^{−x²/2}/√(2π)`.
#[inline]
fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// `σ'(x) = e^{−|x|}/(1 + e^{−|x|})²` for the logistic σ, without overflow.
#[inline]
fn logistic_derivative(x: f64) -> f64 {
    let e = (-x.abs()).exp();
    e / ((1.0 + e) * (1.0 + e))
}

/// The `degree` key: a required integer in `0..=MAX_DEGREE`.
fn degree(k: &mut Keys) -> Result<usize> {
    match k.take("degree") {
        None => Err(k.key_err("degree", "missing key `degree`")),
        Some(toml::Value::Integer(d)) if (0..=MAX_DEGREE as i64).contains(&d) => Ok(d as usize),
        Some(v) => Err(k.key_err(
            "degree",
            format!("`degree` must be an integer from 0 to {MAX_DEGREE}, got {v}"),
        )),
    }
}

/// The `coef` key: a required list of 1 to `MAX_DEGREE + 1` finite numbers, each at most
/// [`crate::io::MAX_SCALE`] in size.
fn coefficients(k: &mut Keys) -> Result<Vec<f64>> {
    let bad = |k: &Keys, v: &toml::Value| {
        k.key_err(
            "coef",
            format!(
                "`coef` must be a list of 1 to {} finite numbers of size at most {:e}, got {v}",
                MAX_DEGREE + 1,
                crate::io::MAX_SCALE
            ),
        )
    };
    match k.take("coef") {
        None => Err(k.key_err("coef", "missing key `coef`")),
        Some(toml::Value::Array(items)) if (1..=MAX_DEGREE + 1).contains(&items.len()) => {
            let mut coef = Vec::with_capacity(items.len());
            for item in &items {
                let c = match item {
                    toml::Value::Float(c) => *c,
                    toml::Value::Integer(c) => *c as f64,
                    _ => return Err(bad(k, &toml::Value::Array(items.clone()))),
                };
                if !c.is_finite() || c.abs() > crate::io::MAX_SCALE {
                    return Err(bad(k, &toml::Value::Array(items.clone())));
                }
                coef.push(c);
            }
            Ok(coef)
        }
        Some(v) => Err(bad(k, &v)),
    }
}

/// The range of an elementwise layer's `tol`: below 1e-13 rounding dominates the estimate.
const MIN_TOL: f64 = 1e-13;
const MAX_TOL: f64 = 1e-2;
/// The range of `max_panels` (panels per dimension; the work grows as its square).
const MIN_PANELS: usize = 1;
const MAX_PANELS: usize = 1000;

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &[
        "relu",
        "leaky_relu",
        "abrelu",
        "abs",
        "erf",
        "identity",
        "tanh",
        "gelu",
        "sigmoid",
        "softplus",
        "sin",
        "cos",
        "sign",
        "rbf",
        "exp",
        "gaussian",
        "monomial",
        "rectified_monomial",
        "polynomial",
        "hermite",
        "sigmoid_like",
        "elementwise",
    ],
    parse: |kind, mut k| {
        let (act, accepted): (Activation, &[&str]) = match kind {
            "relu" => (Activation::Relu, &[]),
            "identity" => (Activation::Identity, &[]),
            "abs" => (Activation::Abs, &[]),
            "tanh" => (Activation::Tanh, &[]),
            "gelu" => (Activation::Gelu, &[]),
            "sigmoid" => (Activation::Sigmoid, &[]),
            "softplus" => (Activation::Softplus, &[]),
            "sign" => (Activation::Sign, &[]),
            "sigmoid_like" => (Activation::SigmoidLike, &[]),
            "elementwise" => {
                let text = k.str_opt("phi")?.ok_or_else(|| {
                    k.key_err(
                        "phi",
                        "missing key `phi` (φ as an expression in x, e.g. \"x*erf(x)\")",
                    )
                })?;
                let mut phi =
                    expression::Expression::parse(&text).map_err(|e| k.key_err("phi", e))?;
                let rel = k.f64_or("tol", Tolerance::DEFAULT.rel)?;
                if !(MIN_TOL..=MAX_TOL).contains(&rel) {
                    return Err(k.key_err(
                        "tol",
                        format!("`tol` must be from {MIN_TOL:e} to {MAX_TOL:e}, got {rel}"),
                    ));
                }
                let max_panels = k
                    .usize_opt("max_panels")?
                    .unwrap_or(Tolerance::DEFAULT.max_panels);
                if !(MIN_PANELS..=MAX_PANELS).contains(&max_panels) {
                    return Err(k.key_err(
                        "max_panels",
                        format!(
                            "`max_panels` must be from {MIN_PANELS} to {MAX_PANELS}, got \
                             {max_panels}"
                        ),
                    ));
                }
                phi.tol = Tolerance { rel, max_panels };
                (
                    Activation::Elementwise(Box::new(phi)),
                    &["phi", "tol", "max_panels"],
                )
            }
            "cos" => (
                Activation::Cos {
                    a: k.f64_or("a", 1.0)?,
                    b: k.f64_or("b", 1.0)?,
                    c: k.f64_or("c", 0.0)?,
                },
                &["a", "b", "c"],
            ),
            "rbf" => {
                let gamma = k.f64_or("gamma", 1.0)?;
                if gamma < 0.0 {
                    return Err(k.key_err("gamma", format!("`gamma` must be ≥ 0, got {gamma}")));
                }
                (Activation::Rbf { gamma }, &["gamma"])
            }
            "exp" => (
                Activation::Exp {
                    a: k.f64_or("a", 1.0)?,
                    b: k.f64_or("b", 1.0)?,
                },
                &["a", "b"],
            ),
            "gaussian" => (
                Activation::Gaussian {
                    a: k.f64_or("a", 1.0)?,
                    b: k.f64_or("b", -1.0)?,
                },
                &["a", "b"],
            ),
            "monomial" => (
                Activation::Monomial {
                    degree: degree(&mut k)?,
                },
                &["degree"],
            ),
            "rectified_monomial" => (
                Activation::RectifiedMonomial {
                    degree: degree(&mut k)?,
                },
                &["degree"],
            ),
            "hermite" => (
                Activation::Hermite {
                    degree: degree(&mut k)?,
                },
                &["degree"],
            ),
            "polynomial" => (
                Activation::Polynomial {
                    coef: coefficients(&mut k)?,
                },
                &["coef"],
            ),
            "leaky_relu" => (
                Activation::LeakyRelu {
                    alpha: k.f64_required("alpha")?,
                },
                &["alpha"],
            ),
            "abrelu" => (
                Activation::AbRelu {
                    a: k.f64_required("a")?,
                    b: k.f64_required("b")?,
                },
                &["a", "b"],
            ),
            "erf" => (
                Activation::Erf {
                    a: k.f64_or("a", 1.0)?,
                    b: k.f64_or("b", 1.0)?,
                    c: k.f64_or("c", 0.0)?,
                },
                &["a", "b", "c"],
            ),
            "sin" => (
                Activation::Sin {
                    a: k.f64_or("a", 1.0)?,
                    b: k.f64_or("b", 1.0)?,
                    c: k.f64_or("c", 0.0)?,
                },
                &["a", "b", "c"],
            ),
            other => return Err(k.key_err("kind", format!("not an activation: {other}"))),
        };
        k.finish(accepted)?;
        Ok(Layer::new(act))
    },
    example: |kind| {
        let params = match kind {
            "leaky_relu" => "\nalpha = 0.2",
            "abrelu" => "\na = -0.4\nb = 1.1",
            "erf" => "\na = 1.2\nb = 0.7\nc = 0.1",
            "sin" => "\na = 1.0\nb = 1.3\nc = 0.2",
            "cos" => "\na = 0.9\nb = 1.1\nc = 0.3",
            "rbf" => "\ngamma = 0.4",
            "exp" => "\na = 0.7\nb = 0.4",
            "gaussian" => "\na = 1.3\nb = -0.6",
            "monomial" => "\ndegree = 2",
            "rectified_monomial" => "\ndegree = 2",
            "hermite" => "\ndegree = 3",
            "polynomial" => "\ncoef = [0.2, 1.0, -0.3]",
            "elementwise" => "\nphi = \"x*exp(-x^2/2) + 0.3*max(x, 0)\"",
            _ => "",
        };
        format!(
            "[input]\nshape = [3]\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.5\nb_std = 0.2\n\n\
             [[layers]]\nkind = \"{kind}\"{params}\n\n[[layers]]\nkind = \"dense\"\n\
             w_std = 1.2\nb_std = 0.1\n"
        )
    },
};

impl LayerKind for Activation {
    fn reduced_step(&self, _input: &Shape, _group: &GroupSpec) -> ReducedStep<'_> {
        ReducedStep::Stage(Box::new(Stage::Activation(self)))
    }

    fn keeps_right_invariance(&self) -> bool {
        true
    }

    fn so2_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(self))
    }

    fn kind(&self) -> &'static str {
        self.name()
    }

    /// The input's shape: φ acts entrywise.
    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        Ok(input.clone())
    }

    fn block_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(self))
    }

    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        LayerDefinitions::new(activation_defs(self, l, Sites::of(input)))
    }

    fn closed_form(&self, defs: &[Definition]) -> Vec<Definition> {
        closed_forms(defs, self)
    }

    fn is_linear(&self) -> bool {
        *self == Activation::Identity
    }

    fn dual_kernel(&self, k11: f64, k12: f64, k22: f64) -> Option<(f64, f64)> {
        Some(self.dual(k11, k12, k22))
    }

    fn quadrature(&self) -> Option<QuadratureReport> {
        let Activation::Elementwise(ref e) = *self else {
            return None;
        };
        let (error_estimate, evaluations, unreached) = e.ledger.read();
        Some(QuadratureReport {
            layer: String::new(),
            phi: e.text.clone(),
            tol: e.tol.rel,
            max_panels: e.tol.max_panels,
            error_estimate,
            evaluations,
            unreached,
        })
    }

    fn reset_quadrature(&self) {
        if let Activation::Elementwise(ref e) = *self {
            e.ledger.reset();
        }
    }

    fn written_phi(&self) -> Option<(Expr, Expr)> {
        match self {
            Activation::Elementwise(e) => Some(e.written_in_u()),
            _ => None,
        }
    }

    fn parameters(&self) -> Vec<(&'static str, f64)> {
        match *self {
            Activation::LeakyRelu { alpha } => vec![("alpha", alpha)],
            Activation::AbRelu { a, b }
            | Activation::Exp { a, b }
            | Activation::Gaussian { a, b } => {
                vec![("a", a), ("b", b)]
            }
            Activation::Erf { a, b, c }
            | Activation::Sin { a, b, c }
            | Activation::Cos { a, b, c } => {
                vec![("a", a), ("b", b), ("c", c)]
            }
            Activation::Rbf { gamma } => vec![("gamma", gamma)],
            _ => Vec::new(),
        }
    }

    fn finite_pass(
        &self,
        _input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        Ok((Box::new(self.clone()), builder.ch_in))
    }

    fn summary(&self) -> String {
        match *self {
            Activation::LeakyRelu { alpha } => format!("leaky_relu (α = {alpha})"),
            Activation::AbRelu { a, b } => format!("abrelu (a = {a}, b = {b})"),
            Activation::Erf { a, b, c }
            | Activation::Sin { a, b, c }
            | Activation::Cos { a, b, c }
                if (a, b, c) != (1.0, 1.0, 0.0) =>
            {
                format!("{} (a = {a}, b = {b}, c = {c})", self.name())
            }
            _ if !activation_params(self).is_empty() => {
                format!("{} ({})", self.name(), activation_params(self))
            }
            _ => self.name().to_string(),
        }
    }
}

/// The finite-width nonlinearity: `h' = φ(h)` entrywise; the cotangent is `g ⊙ φ'(h)`.
impl FinitePass for Activation {
    fn forward(&self, _params: &[f64], _dims: &OpDims, h: &[f64]) -> (Vec<f64>, Option<Vec<f64>>) {
        (h.iter().map(|&v| self.phi(v)).collect(), None)
    }

    fn backward(
        &self,
        _params: &[f64],
        _dims: &OpDims,
        h: &[f64],
        _cache: Option<&[f64]>,
        g: Vec<f64>,
        _grad: &mut [f64],
        _accumulate: bool,
        _need_input: bool,
    ) -> Vec<f64> {
        g.iter()
            .zip(h)
            .map(|(gv, &hv)| gv * self.dphi(hv))
            .collect()
    }
}

/// The name of `φ` as printed in `T_φ`, `Ṫ_φ`.
pub fn activation_symbol(a: &Activation) -> &'static str {
    match a {
        Activation::Relu => "ReLU",
        Activation::LeakyRelu { .. } => "LeakyReLU",
        Activation::AbRelu { .. } => "ABReLU",
        Activation::Abs => "Abs",
        Activation::Identity => "Id",
        Activation::Erf { .. } => "Erf",
        Activation::Tanh => "Tanh",
        Activation::Gelu => "GELU",
        Activation::Sigmoid => "Sigmoid",
        Activation::Softplus => "Softplus",
        Activation::Sin { .. } => "Sin",
        Activation::Cos { .. } => "Cos",
        Activation::Sign => "Sign",
        Activation::Rbf { .. } => "Rbf",
        Activation::Exp { .. } => "Exp",
        Activation::Gaussian { .. } => "Gaussian",
        Activation::Monomial { .. } => "Monomial",
        Activation::RectifiedMonomial { .. } => "RectifiedMonomial",
        Activation::Polynomial { .. } => "Polynomial",
        Activation::Hermite { .. } => "Hermite",
        Activation::SigmoidLike => "SigmoidLike",
        Activation::Elementwise(_) => "Elementwise",
    }
}

/// `K⁽ˡ⁾ = T_φ(k₁₁, k₁₂, k₂₂)`, `Θ⁽ˡ⁾ = Ṫ_φ(k₁₁, k₁₂, k₂₂) Θ⁽ˡ⁻¹⁾` at the sites of `sites`.
fn activation_defs(a: &Activation, l: usize, sites: Sites) -> Vec<(KernelSym, Expr, String)> {
    let [k11, k12, k22] = dual_args(l - 1, sites);
    let phi = activation_symbol(a);
    let t = Expr::dual(
        phi,
        k11.clone().into(),
        k12.clone().into(),
        k22.clone().into(),
    );
    let tdot = Expr::dual_dot(phi, k11.into(), k12.into(), k22.into());
    let note = activation_note(a);
    vec![
        (site_sym(KernelKind::Nngp, l, sites), t, note.clone()),
        (
            site_sym(KernelKind::Ntk, l, sites),
            tdot * site_sym(KernelKind::Ntk, l - 1, sites),
            note,
        ),
    ]
}

fn activation_note(a: &Activation) -> String {
    let how = if a.has_closed_form() {
        "closed form"
    } else {
        "quadrature"
    };
    let params = match *a {
        Activation::Erf { a, b, c } | Activation::Sin { a, b, c } | Activation::Cos { a, b, c } => {
            format!(" a = {a}, b = {b}, c = {c}")
        }
        _ if !activation_params(a).is_empty() => format!(" {}", activation_params(a)),
        _ => String::new(),
    };
    format!("{}{params} ({how})", a.name())
}

/// The parameters of `a` as `name = value, …` (empty for none; erf, sin and cos print their
/// own, with the defaults shown or hidden by the caller).
fn activation_params(a: &Activation) -> String {
    match *a {
        Activation::LeakyRelu { alpha } => format!("alpha = {alpha}"),
        Activation::AbRelu { a, b } => format!("a = {a}, b = {b}"),
        Activation::Rbf { gamma } => format!("gamma = {gamma}"),
        Activation::Exp { a, b } | Activation::Gaussian { a, b } => format!("a = {a}, b = {b}"),
        Activation::Monomial { degree }
        | Activation::RectifiedMonomial { degree }
        | Activation::Hermite { degree } => format!("degree = {degree}"),
        Activation::Polynomial { ref coef } => format!("coef = {coef:?}"),
        Activation::Elementwise(ref e) => format!("φ(x) = {}", e.text),
        _ => String::new(),
    }
}

/// The closed form of the dual activation of `a` as `(T, Ṫ)` in the placeholders
/// `k₁₁, k₁₂, k₂₂` ([`Param::k`]), or `None` when it is computed by quadrature. With
/// `θ = arccos(k₁₂/√(k₁₁ k₂₂))` (MATH.md §3):
///
/// * ABReLU `a·min(x,0) + b·max(x,0)` (ReLU `a=0, b=1`; LeakyReLU `a=α, b=1`; |x| `a=−1, b=1`;
///   identity `a=b=1`): `Ṫ = (a²+b²)/2 − (a−b)² θ/(2π)`,
///   `T = (a−b)² √(k₁₁k₂₂ − k₁₂²)/(2π) + Ṫ k₁₂`;
/// * Erf `a·erf(bx) + c`: `T = a² (2/π) arcsin(2b² k₁₂/√((1+2b²k₁₁)(1+2b²k₂₂))) + c²`,
///   `Ṫ = a² (4b²/π) ((1+2b²k₁₁)(1+2b²k₂₂) − 4b⁴k₁₂²)^{−1/2}`;
/// * Sin `a·sin(bx + c)`: `T = (a²/2)(e₋ − cos(2c) e₊)`, `Ṫ = (a²b²/2)(e₋ + cos(2c) e₊)` with
///   `e∓ = exp(−b²(k₁₁ + k₂₂ ∓ 2k₁₂)/2)`; Cos is Sin with `c + π/2`, SigmoidLike is Erf with
///   `a = ½, b = 1/2.4020563531719796, c = ½`;
/// * GELU, Sign, Exp, Gaussian, Rbf: the forms of the `closed` family file (GELU by
///   Tsuchida et al. 2020, with `arcsin` and square roots);
/// * Monomial, Polynomial, Hermite: polynomials in `k₁₁, k₁₂, k₂₂` (`polynomial`);
/// * RectifiedMonomial of degree n: `(k₁₁k₂₂)^{n/2} [A_n(ρ)(π − arccos ρ) + B_n(ρ)√(1−ρ²)]/(2π)`
///   with `ρ = k₁₂/√(k₁₁k₂₂)` and the polynomials `A_n`, `B_n` of the `rectified` family file;
///   `Ṫ = n² T_{n−1}`.
///
/// The activation's parameters enter as numbers; the result is in normal form.
pub fn dual_closed_form(a: &Activation) -> Option<(Expr, Expr)> {
    let ab = |a: f64, b: f64| {
        let theta = (k12() / (k11() * k22()).sqrt()).arccos();
        let d2 = (a - b) * (a - b);
        let tdot = Expr::num(0.5 * (a * a + b * b)) - Expr::num(d2) * theta / (2.0 * Expr::pi());
        let t = Expr::num(d2) * (k11() * k22() - k12().squared()).sqrt() / (2.0 * Expr::pi())
            + tdot.clone() * k12();
        (t, tdot)
    };
    let (t, tdot) = match *a {
        Activation::Relu => ab(0.0, 1.0),
        Activation::LeakyRelu { alpha } => ab(alpha, 1.0),
        Activation::AbRelu { a, b } => ab(a, b),
        Activation::Abs => ab(-1.0, 1.0),
        Activation::Identity => (k12(), Expr::num(1.0)),
        Activation::Erf { a, b, c } => erf_form(a, b, c),
        Activation::Sin { a, b, c } => sin_form(a, b, c),
        Activation::Cos { a, b, c } => sin_form(a, b, c + closed::COS_PHASE),
        Activation::SigmoidLike => erf_form(0.5, 1.0 / closed::SIGMOID_LIKE_SCALE, 0.5),
        Activation::Gelu => {
            let p = (1.0 + k11()) * (1.0 + k22());
            let q = k11() * k22();
            let delta2 = p.clone() - k12().squared();
            let delta = delta2.clone().sqrt();
            let angle = (k12() / p.clone().sqrt()).arcsin();
            let t = 0.25 * k12()
                + (k12() * angle.clone()
                    + (q.clone() * delta2.clone() + k12().squared()) / (p.clone() * delta.clone()))
                    / (2.0 * Expr::pi());
            let tdot = Expr::num(0.25)
                + (angle + k12() / delta * (1.0 + (2.0 - q + k12().squared() / delta2) / p))
                    / (2.0 * Expr::pi());
            (t, tdot)
        }
        Activation::Sign => (
            Expr::num(2.0) / Expr::pi() * (k12() / (k11() * k22()).sqrt()).arcsin(),
            Expr::num(0.0),
        ),
        Activation::Rbf { gamma } => {
            let t = (Expr::num(-gamma) * (k11() + k22() - 2.0 * k12())).exp();
            (t.clone(), Expr::num(2.0 * gamma) * t)
        }
        Activation::Exp { a, b } => {
            let e = (Expr::num(0.5 * b * b) * (k11() + k22() + 2.0 * k12())).exp();
            (Expr::num(a * a) * e.clone(), Expr::num(a * a * b * b) * e)
        }
        Activation::Gaussian { a, b } => {
            let d = (1.0 - Expr::num(2.0 * b) * k11()) * (1.0 - Expr::num(2.0 * b) * k22())
                - Expr::num(4.0 * b * b) * k12().squared();
            let t = Expr::num(a * a) * d.clone().sqrt().powi(-1);
            let tdot = Expr::num(4.0 * a * a * b * b) * k12() * d.sqrt().powi(-3);
            (t, tdot)
        }
        Activation::Monomial { degree } => polynomial_form(&polynomial::monomial_coef(degree)),
        Activation::Polynomial { ref coef } => polynomial_form(coef),
        Activation::Hermite { degree } => hermite_form(degree),
        Activation::RectifiedMonomial { degree } => {
            let t = rectified_form(degree);
            let tdot = match degree {
                0 => Expr::num(0.0),
                n => Expr::num((n * n) as f64) * rectified_form(n - 1),
            };
            (t, tdot)
        }
        Activation::Tanh
        | Activation::Sigmoid
        | Activation::Softplus
        | Activation::Elementwise(_) => return None,
    };
    let none = Assumptions::new();
    Some((t.normalize(&none), tdot.normalize(&none)))
}

fn k11() -> Expr {
    Expr::from(Param::k(1, 1))
}
fn k12() -> Expr {
    Expr::from(Param::k(1, 2))
}
fn k22() -> Expr {
    Expr::from(Param::k(2, 2))
}

/// Erf `a·erf(bx) + c` (see [`dual_closed_form`]).
fn erf_form(a: f64, b: f64, c: f64) -> (Expr, Expr) {
    let b2 = 2.0 * b * b;
    let p1 = 1.0 + Expr::num(b2) * k11();
    let p2 = 1.0 + Expr::num(b2) * k22();
    let t = Expr::num(a * a * 2.0) / Expr::pi()
        * (Expr::num(b2) * k12() / (p1.clone() * p2.clone()).sqrt()).arcsin()
        + c * c;
    let radicand = p1 * p2 - Expr::num(b2 * b2) * k12().squared();
    let tdot = Expr::num(a * a * 2.0 * b2) / Expr::pi() * radicand.sqrt().powi(-1);
    (t, tdot)
}

/// Sine `a·sin(bx + c)` (see [`dual_closed_form`]).
fn sin_form(a: f64, b: f64, c: f64) -> (Expr, Expr) {
    let e = |sign: f64| {
        (Expr::num(-0.5 * b * b) * (k11() + k22() + Expr::num(2.0 * sign) * k12())).exp()
    };
    let cos2c = Expr::num(2.0 * c).cos();
    let t = Expr::num(0.5 * a * a) * (e(-1.0) - cos2c.clone() * e(1.0));
    let tdot = Expr::num(0.5 * a * a * b * b) * (e(-1.0) + cos2c * e(1.0));
    (t, tdot)
}

/// `Σ_m m! k₁₂^m A_m(k₁₁) A_m(k₂₂)` and its `k₁₂`-derivative, the coefficients of
/// `A_m(k) = Σ_j a_{m,j} k^j` as numbers ([`polynomial`] module docs).
fn polynomial_form(coef: &[f64]) -> (Expr, Expr) {
    let a_m = |m: usize, k: &dyn Fn() -> Expr| -> Expr {
        let mut sum = Expr::num(0.0);
        for i in (m..coef.len()).step_by(2) {
            let j = (i - m) / 2;
            let c = coef[i] * polynomial::factorial(i)
                / (polynomial::factorial(m) * 2f64.powi(j as i32) * polynomial::factorial(j));
            if c != 0.0 {
                sum = sum + Expr::num(c) * k().powi(j as i32);
            }
        }
        sum
    };
    let (mut t, mut tdot) = (Expr::num(0.0), Expr::num(0.0));
    for m in 0..coef.len() {
        let w = Expr::num(polynomial::factorial(m)) * a_m(m, &k11) * a_m(m, &k22);
        t = t + w.clone() * k12().powi(m as i32);
        if m >= 1 {
            tdot = tdot + Expr::num(m as f64) * w * k12().powi(m as i32 - 1);
        }
    }
    (t, tdot)
}

/// `Σ_j n!/(j!² m!) k₁₂^m ((k₁₁ − 1)(k₂₂ − 1)/4)^j` and its `k₁₂`-derivative (`m = n − 2j`).
fn hermite_form(n: usize) -> (Expr, Expr) {
    let f = polynomial::factorial;
    let r = || (k11() - 1.0) * (k22() - 1.0) / 4.0;
    let (mut t, mut tdot) = (Expr::num(0.0), Expr::num(0.0));
    for j in 0..=n / 2 {
        let m = n - 2 * j;
        let c = f(n) / (f(j) * f(j));
        t = t + Expr::num(c / f(m)) * k12().powi(m as i32) * r().powi(j as i32);
        if m >= 1 {
            tdot = tdot + Expr::num(c / f(m - 1)) * k12().powi(m as i32 - 1) * r().powi(j as i32);
        }
    }
    (t, tdot)
}

/// `(k₁₁k₂₂)^{n/2} [A_n(ρ)(π − arccos ρ) + B_n(ρ)√(1 − ρ²)]/(2π)`, `ρ = k₁₂/√(k₁₁k₂₂)`.
fn rectified_form(n: usize) -> Expr {
    let (a, b) = rectified::arc_cosine_polynomials(n);
    let rho = || k12() / (k11() * k22()).sqrt();
    let poly = |c: &[f64]| {
        c.iter()
            .enumerate()
            .filter(|(_, &c)| c != 0.0)
            .fold(Expr::num(0.0), |acc, (i, &c)| {
                acc + Expr::num(c) * rho().powi(i as i32)
            })
    };
    let j = poly(a) * (Expr::pi() - rho().arccos()) + poly(b) * (1.0 - rho().squared()).sqrt();
    (k11() * k22()).sqrt().powi(n as i32) * j / (2.0 * Expr::pi())
}

/// `defs` with `T_φ`, `Ṫ_φ` of activation `a` replaced by their closed forms (if any), in normal
/// form. For the identity this gives `K⁽ˡ⁾ = K⁽ˡ⁻¹⁾`, `Θ⁽ˡ⁾ = Θ⁽ˡ⁻¹⁾`.
pub fn closed_forms(defs: &[Definition], a: &Activation) -> Vec<Definition> {
    let Some((t, tdot)) = dual_closed_form(a) else {
        return defs.to_vec();
    };
    let none = Assumptions::new();
    defs.iter()
        .map(|d| Definition {
            rhs: d
                .rhs
                .substitute_duals(&|f| {
                    Some(if f.derivative {
                        tdot.clone()
                    } else {
                        t.clone()
                    })
                })
                .normalize(&none),
            ..d.clone()
        })
        .collect()
}
