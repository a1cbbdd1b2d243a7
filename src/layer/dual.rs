//! Closed-form dual activations (MATH.md §3).
//!
//! For `(u, v) ~ N(0, [[k11, k12], [k12, k22]])` the dual of φ is the pair
//!
//! ```text
//! T(k11, k12, k22) = E[φ(u) φ(v)],        Ṫ(k11, k12, k22) = E[φ'(u) φ'(v)].
//! ```
//!
//! Every function here returns `(T, Ṫ)`, allocates nothing and is branch-free (selects only).
//! The ABReLU family and erf use the polynomial [`acos`]/[`asin`] below instead of libm calls,
//! so a loop over a row of entries vectorises (checked in the generated assembly: packed
//! `sqrtpd`/`divpd`, no calls); the sine dual calls `exp` and does not.
//!
//! Degenerate covariances (conventions shared with [`super::quadrature::BivariateNormal`]):
//! negative variances count as 0; `ρ = k12/√(k11 k22)` is clamped to `[−1, 1]` (and `k12` to
//! `[−√(k11 k22), √(k11 k22)]`); when `k11 k22 = 0`, `ρ = 0`, as in neural-tangents (which
//! divides by `√max(k11 k22, 1e-20)`). So a zero input gives, for ReLU, `T = 0` and
//! `Ṫ = 1/4` — the value `E[φ'(0) φ'(v)]` with φ'(0) = 1/2, the convention of
//! [`super::activation::Activation::dphi`]. The scale is formed as `√(k11 k22)`, as in
//! neural-tangents: for `x = x'` and `s = s'` it gives `ρ = 1` exactly, where `Ṫ` is
//! ill-conditioned (`dθ/dρ = −1/sin θ`), so the diagonal of an NTK is reproduced exactly.

use std::f64::consts::{FRAC_1_PI, FRAC_PI_2, PI};

/// `(ρ, √(k11 k22), k12_c)`: the clamped correlation, the scale and `k12` clamped to
/// `[−√(k11 k22), √(k11 k22)]`; `ρ = 0` when `k11 k22 = 0`.
#[inline(always)]
pub fn correlation(k11: f64, k12: f64, k22: f64) -> (f64, f64, f64) {
    let scale = (k11.max(0.0) * k22.max(0.0)).sqrt();
    let rho = if scale > 0.0 {
        (k12 / scale).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    (rho, scale, k12.max(-scale).min(scale))
}

/// `√(a b)` for `a, b ≥ 0`, also where the product overflows (then as `max · √(min/max)`,
/// exact for `a = b`); the same bits as `(a b).sqrt()` whenever `a b` is finite. Off the hot
/// path: [`correlation`] keeps the plain product (a branch there costs ReLU kernels ~15 %).
#[inline(always)]
pub fn geometric_mean(a: f64, b: f64) -> f64 {
    match a * b {
        p if p.is_finite() => p.sqrt(),
        _ => {
            let (lo, hi) = (a.min(b), a.max(b));
            hi * (lo / hi).sqrt()
        }
    }
}

/// ABReLU `φ(x) = a·min(x, 0) + b·max(x, 0)` (ReLU: a = 0, b = 1; LeakyReLU: a = α, b = 1;
/// |x|: a = −1, b = 1; identity: a = b = 1), with `θ = arccos ρ`:
///
/// ```text
/// Ṫ = [(a² + b²)(π − θ) + 2ab θ]/(2π) = (a² + b²)/2 − (a − b)² θ/(2π)
/// T = √(k11 k22)/(2π) [(a² + b²)(sin θ + (π − θ) cos θ) − 2ab (sin θ − θ cos θ)]
///   = (a − b)² √(k11 k22) sin θ/(2π) + Ṫ k12
/// ```
///
/// (the second forms are the ones evaluated, as in neural-tangents; `sin θ = √((1−ρ)(1+ρ))`).
#[inline(always)]
pub fn ab_relu(a: f64, b: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (rho, scale, k12) = correlation(k11, k12, k22);
    let theta = acos(rho);
    let sin_theta = ((1.0 - rho) * (1.0 + rho)).sqrt();
    let d2 = (a - b) * (a - b);
    let tdot = 0.5 * (a * a + b * b) - 0.5 * FRAC_1_PI * d2 * theta;
    (0.5 * FRAC_1_PI * d2 * scale * sin_theta + tdot * k12, tdot)
}

/// ReLU `φ(x) = max(x, 0)` (arc-cosine kernel of degree 1, Cho & Saul 2009):
/// `T = √(k11 k22)/(2π) (sin θ + (π − θ) cos θ)`, `Ṫ = (π − θ)/(2π)`.
#[inline(always)]
pub fn relu(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    ab_relu(0.0, 1.0, k11, k12, k22)
}

/// Identity: `T = k12`, `Ṫ = 1`.
#[inline(always)]
pub fn identity(_k11: f64, k12: f64, _k22: f64) -> (f64, f64) {
    (k12, 1.0)
}

/// Erf `φ(x) = a·erf(b x) + c`:
///
/// ```text
/// T = a² (2/π) arcsin(2b² k12 / √((1 + 2b² k11)(1 + 2b² k22))) + c²
/// Ṫ = a² (4b²/π) / √((1 + 2b² k11)(1 + 2b² k22) − 4b⁴ k12²)
/// ```
///
/// The radicand of `Ṫ` is evaluated as `1 + 2b²(k11 + k22) + 4b⁴ max(k11 k22 − k12², 0) ≥ 1`.
/// When a product of variances overflows (variances beyond ~1e154), the same formulas are
/// evaluated with every product scaled ([`erf_scaled`]) rather than letting `∞` turn the
/// arcsine's argument or `Ṫ` into a silent 0.
#[inline(always)]
pub fn erf(a: f64, b: f64, c: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    if !erf_is_unscaled(b, k11.max(0.0), k22.max(0.0)) {
        return erf_scaled(a, 2.0 * b * b, c, k11.max(0.0), k12, k22.max(0.0));
    }
    erf_unscaled(a, b, c, k11, k12, k22)
}

/// Whether [`erf_unscaled`] is exact at these variances (no product of them overflows); as
/// every product grows with `k22`, a row of pairs can be checked once at its largest `k22`.
#[inline(always)]
pub fn erf_is_unscaled(b: f64, k11: f64, k22: f64) -> bool {
    let b2 = 2.0 * b * b;
    let (p, q) = ((1.0 + b2 * k11) * (1.0 + b2 * k22), k11 * k22);
    (p + b2 * b2 * q + q).is_finite()
}

/// [`erf`] without the overflow check, for variances that [`erf_is_unscaled`] accepts (the
/// hot path of a kernel row: no branch).
#[inline(always)]
pub fn erf_unscaled(a: f64, b: f64, c: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (k11, k22) = (k11.max(0.0), k22.max(0.0));
    let b2 = 2.0 * b * b;
    let (p1, p2) = (1.0 + b2 * k11, 1.0 + b2 * k22);
    let arg = (b2 * k12 / (p1 * p2).sqrt()).clamp(-1.0, 1.0);
    let t = a * a * 2.0 * FRAC_1_PI * asin(arg) + c * c;
    let det = (k11 * k22 - k12 * k12).max(0.0);
    let radicand = 1.0 + b2 * (k11 + k22) + b2 * b2 * det;
    (t, a * a * 2.0 * b2 * FRAC_1_PI / radicand.sqrt())
}

/// [`erf`] for variances whose products overflow (`b2 = 2b²`): with `m = max(p1, p2)` and
/// `s = √k11 √k22`, `√radicand = m √(1/m² + b2 k11/m² + b2 k22/m² + (b2 (s − |k12|)/m)(b2 (s +
/// |k12|)/m))`, every term finite. `NaN` (reported as non-finite) when `m` itself overflows.
#[cold]
fn erf_scaled(a: f64, b2: f64, c: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (p1, p2) = (1.0 + b2 * k11, 1.0 + b2 * k22);
    let m = p1.max(p2);
    if !m.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let s = geometric_mean(k11, k22);
    let arg = (b2 * k12 / geometric_mean(p1, p2)).clamp(-1.0, 1.0);
    let t = a * a * 2.0 * FRAC_1_PI * asin(arg) + c * c;
    let k = k12.abs().min(s);
    let r = (1.0 / m) / m
        + (b2 * k11 / m) / m
        + (b2 * k22 / m) / m
        + (b2 * (s - k) / m) * (b2 * (s + k) / m);
    (t, a * a * 2.0 * b2 * FRAC_1_PI / (m * r.sqrt()))
}

/// Sine `φ(x) = a·sin(b x + c)` (neural-tangents' `Sin`). With
/// `e₋ = exp(−b² (k11 + k22 − 2k12)/2)` and `e₊ = exp(−b² (k11 + k22 + 2k12)/2)`:
///
/// ```text
/// T = (a²/2)(e₋ − e₊ cos 2c),        Ṫ = (a² b²/2)(e₋ + e₊ cos 2c)
/// ```
///
/// from `sin x sin y = ½[cos(x − y) − cos(x + y)]` and `E[cos(w + d)] = e^{−Var w/2} cos d`
/// for a centred normal `w` (here `w = b(u ∓ v)`, `d = 0` or `2c`). Evaluated as
/// `e₋ − e₊ cos 2c = expm1(·) − expm1(·) cos 2c + 2 sin² c` (and `… + 2 cos² c` for `Ṫ`) so
/// that tiny variances do not cancel.
#[inline(always)]
pub fn sin(a: f64, b: f64, c: f64, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let sum = k11.max(0.0) + k22.max(0.0);
    let half_b2 = 0.5 * b * b;
    // Var(u ∓ v) ≥ 0; clamp against rounding when |k12| ≈ √(k11 k22).
    let m_minus = (-half_b2 * (sum - 2.0 * k12).max(0.0)).exp_m1();
    let m_plus = (-half_b2 * (sum + 2.0 * k12).max(0.0)).exp_m1();
    let (sin_c, cos_c) = c.sin_cos();
    let cos_2c = (cos_c - sin_c) * (cos_c + sin_c);
    let half_a2 = 0.5 * a * a;
    (
        half_a2 * (m_minus - m_plus * cos_2c + 2.0 * sin_c * sin_c),
        half_a2 * b * b * (m_minus + m_plus * cos_2c + 2.0 * cos_c * cos_c),
    )
}

// fdlibm's rational approximation (FreeBSD e_asin.c): asin(t) = t + t·R(t²) for |t| ≤ 1/2.
// The constants keep fdlibm's published digits.
#[allow(clippy::excessive_precision)]
mod fdlibm {
    pub const PS0: f64 = 1.666_666_666_666_666_574_15e-1;
    pub const PS1: f64 = -3.255_658_186_224_009_154_05e-1;
    pub const PS2: f64 = 2.012_125_321_348_629_258_81e-1;
    pub const PS3: f64 = -4.005_553_450_067_941_140_27e-2;
    pub const PS4: f64 = 7.915_349_942_898_145_321_76e-4;
    pub const PS5: f64 = 3.479_331_075_960_211_675_70e-5;
    pub const QS1: f64 = -2.403_394_911_734_414_218_78;
    pub const QS2: f64 = 2.020_945_760_233_505_694_71;
    pub const QS3: f64 = -6.882_839_716_054_532_930_30e-1;
    pub const QS4: f64 = 7.703_815_055_590_193_527_91e-2;
}
use fdlibm::*;

#[inline(always)]
fn asin_r(z: f64) -> f64 {
    let p = z * (PS0 + z * (PS1 + z * (PS2 + z * (PS3 + z * (PS4 + z * PS5)))));
    let q = 1.0 + z * (QS1 + z * (QS2 + z * (QS3 + z * QS4)));
    p / q
}

/// `arccos x` for `x ∈ [−1, 1]`, branch-free (both halves computed, one selected) so that it
/// vectorises; within a few ulps of `f64::acos`. Uses `acos x = π/2 − asin x` for `|x| ≤ 1/2`
/// and `acos |x| = 2 asin √((1 − |x|)/2)` otherwise.
#[inline(always)]
pub fn acos(x: f64) -> f64 {
    let ax = x.abs();
    let big = ax > 0.5;
    let z = if big { 0.5 * (1.0 - ax) } else { x * x };
    let r = asin_r(z);
    let s = z.sqrt();
    let two_asin_s = 2.0 * (s + s * r);
    let big_value = if x > 0.0 { two_asin_s } else { PI - two_asin_s };
    let small_value = FRAC_PI_2 - (x + x * r);
    if big {
        big_value
    } else {
        small_value
    }
}

/// `arcsin x` for `x ∈ [−1, 1]`, branch-free like [`acos`]; within a few ulps of `f64::asin`.
#[inline(always)]
pub fn asin(x: f64) -> f64 {
    let ax = x.abs();
    let big = ax > 0.5;
    let z = if big { 0.5 * (1.0 - ax) } else { x * x };
    let r = asin_r(z);
    let s = z.sqrt();
    let big_abs = FRAC_PI_2 - 2.0 * (s + s * r);
    let big_value = if x < 0.0 { -big_abs } else { big_abs };
    let small_value = x + x * r;
    if big {
        big_value
    } else {
        small_value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_acos_asin_match_std() {
        let n = 200_001;
        for i in 0..n {
            let x = -1.0 + 2.0 * i as f64 / (n - 1) as f64;
            let (a, b) = (acos(x), x.acos());
            assert!(
                (a - b).abs() <= 4e-16 * b.abs().max(1.0),
                "acos({x}): {a} vs {b}"
            );
            let (a, b) = (asin(x), x.asin());
            assert!(
                (a - b).abs() <= 3.0 * f64::EPSILON * b.abs(),
                "asin({x}): {a} vs {b}"
            );
        }
        for x in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            1e-300,
            1.0 - 1e-16,
            -1.0 + 1e-16,
        ] {
            assert!((acos(x) - x.acos()).abs() <= 4e-16, "acos({x})");
            assert!((asin(x) - x.asin()).abs() <= 3.0 * f64::EPSILON * x.asin().abs());
        }
    }

    #[test]
    fn erf_scaled_form_is_the_erf_dual_where_both_apply() {
        for &(k11, k12, k22) in &[
            (1.0, 0.3, 2.0),
            (3.0, 3.0, 3.0),
            (1e3, -2e2, 5e2),
            (1e100, 9.9e99, 1e100),
            (1e150, 1e150, 1e150),
        ] {
            for (a, b, c) in [(1.0, 1.0, 0.0), (0.7, 2.5, 0.2)] {
                assert!(erf_is_unscaled(b, k11, k22));
                let (t, td) = erf_unscaled(a, b, c, k11, k12, k22);
                let (ts, tds) = erf_scaled(a, 2.0 * b * b, c, k11, k12, k22);
                assert!(
                    (t - ts).abs() <= 1e-14 * t.abs().max(1.0),
                    "T at {k11}, {k12}"
                );
                assert!(
                    (td - tds).abs() <= 1e-13 * td.abs(),
                    "Ṫ at {k11}, {k12}: {td} {tds}"
                );
            }
        }
        // Past the overflow of k11 k22: ρ = 0.6 kept, Ṫ = (4b²/π)/√(4b⁴ k11 k22 (1 − ρ²)).
        let (k, rho) = (1e200, 0.6);
        let (t, td) = erf(1.0, 1.0, 0.0, k, rho * k, k);
        assert!((t - 2.0 * FRAC_1_PI * rho.asin()).abs() < 1e-14);
        let expected = 2.0 * FRAC_1_PI / (k * (1.0 - rho * rho).sqrt());
        assert!(
            (td - expected).abs() < 1e-13 * expected,
            "{td} vs {expected}"
        );
        // ReLU's hot path keeps the plain √(k11 k22): where the product overflows its T is not
        // finite, which the layer's finiteness check reports (never a silent finite value).
        let (t, _) = relu(k, 0.5 * k, 4.0 * k);
        assert!(!t.is_finite());
        // sign is scale-free: (2/π) arcsin ρ there too
        let (t, _) = crate::layer::activation::closed::sign(k, 0.5 * k, 4.0 * k);
        assert!((t - 2.0 * FRAC_1_PI * 0.25f64.asin()).abs() < 1e-15);
    }

    #[test]
    fn relu_closed_form_matches_the_textbook_arc_cosine_form() {
        // MATH.md's first form, evaluated with std's trig, against the evaluated second form.
        for &(k11, k12, k22) in &[(1.0, 0.3, 2.0), (0.5, -0.49, 0.5), (3.0, 2.9, 3.0)] {
            let s = f64::sqrt(k11 * k22);
            let th = (k12 / s).acos();
            let t = s / (2.0 * PI) * (th.sin() + (PI - th) * th.cos());
            let (t2, td2) = relu(k11, k12, k22);
            assert!((t - t2).abs() < 1e-15 * s);
            assert!((td2 - (PI - th) / (2.0 * PI)).abs() < 1e-15);
        }
    }
}
