//! Duals of polynomial φ: `polynomial`, `monomial` and `hermite`, exact at every variance.
//!
//! Write `φ(x) = Σ_i c_i x^i` and expand each power in the probabilists' Hermite polynomials
//! of the standardised variable, `(σz)^i = Σ_m C(i, m) σ^i He_m(z)` with
//! `C(i, m) = i!/(m! 2^j j!)`, `j = (i − m)/2` (zero unless `i − m` is even and ≥ 0). Since
//! `E[He_m(z₁) He_n(z₂)] = δ_{mn} m! ρ^m` for standard normals of correlation ρ,
//!
//! ```text
//! T = Σ_m m! k12^m A_m(k11) A_m(k22),      A_m(k) = Σ_{j ≥ 0} c_{m+2j} C(m+2j, m) k^j,
//! Ṫ = ∂T/∂k12 = Σ_{m ≥ 1} m · m! k12^{m−1} A_m(k11) A_m(k22)
//! ```
//!
//! (Price's theorem; equal to `E[φ'(u) φ'(v)]` for polynomial φ). No square roots: the dual of
//! a polynomial is a polynomial in `k11, k12, k22`.
//!
//! The normalised Hermite polynomial `φ = He_n/√(n!)` has, by the multiplication theorem
//! `He_n(σz) = Σ_j n!/(j!(n−2j)!) σ^{n−2j} ((σ² − 1)/2)^j He_{n−2j}(z)`,
//!
//! ```text
//! T = Σ_{j=0}^{⌊n/2⌋} n!/(j!² m!) k12^m ((k11 − 1)(k22 − 1)/4)^j,     m = n − 2j,
//! ```
//!
//! and `Ṫ = ∂T/∂k12`. At unit variances only `j = 0` remains: `T = k12^n`, `Ṫ = n k12^{n−1}`,
//! which is neural-tangents' `Hermite` kernel. neural-tangents uses that form at every variance
//! (it warns that it assumes unit-variance pre-activations); at `k ≠ 1` it is not the kernel of
//! the network, and eqntk's is.

/// The largest `degree` of `monomial`, `rectified_monomial` and `hermite`, and of a
/// `polynomial` (`coef` of at most `MAX_DEGREE + 1` entries): `n!` and the Hermite coefficients
/// stay exact in f64, and the duals lose at most a few digits to cancellation.
pub const MAX_DEGREE: usize = 20;

/// `n!` as f64 (exact for `n ≤ 22`).
pub fn factorial(n: usize) -> f64 {
    (1..=n).map(|i| i as f64).product()
}

/// `C(i, m) = i!/(m! 2^j j!)` with `j = (i − m)/2`: the coefficient of `He_m` in `x^i`.
fn hermite_coefficient(i: usize, m: usize) -> f64 {
    if m > i || (i - m) % 2 == 1 {
        return 0.0;
    }
    let j = (i - m) / 2;
    factorial(i) / (factorial(m) * 2f64.powi(j as i32) * factorial(j))
}

/// `A_m(k) = Σ_j c_{m+2j} C(m+2j, m) k^j` (Horner in k).
fn a_m(coef: &[f64], m: usize, k: f64) -> f64 {
    if m >= coef.len() {
        return 0.0;
    }
    let top = (coef.len() - 1 - m) / 2;
    (0..=top).rev().fold(0.0, |acc, j| {
        let i = m + 2 * j;
        acc * k + coef[i] * hermite_coefficient(i, m)
    })
}

/// `(T, Ṫ)` of `φ(x) = Σ_i coef[i] x^i` (module docs). Negative variances count as 0 and
/// `k12` is clamped to `[−√(k11 k22), √(k11 k22)]`.
pub fn polynomial(coef: &[f64], k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (k11, k22) = (k11.max(0.0), k22.max(0.0));
    let (_, _, k12) = crate::layer::dual::correlation(k11, k12, k22);
    let (mut t, mut tdot) = (0.0, 0.0);
    let mut k12_pow = 1.0; // k12^m
    let mut k12_pow_prev = 0.0; // k12^(m−1)
    for m in 0..coef.len() {
        let w = factorial(m) * a_m(coef, m, k11) * a_m(coef, m, k22);
        t += w * k12_pow;
        if m >= 1 {
            tdot += m as f64 * w * k12_pow_prev;
        }
        k12_pow_prev = k12_pow;
        k12_pow *= k12;
    }
    (t, tdot)
}

/// `(T, Ṫ)` of the monomial `x^n`, without allocating: `A_m(k) = C(n, m) k^{(n−m)/2}`, so
/// `T = Σ_m m! C(n, m)² k12^m (k11 k22)^{(n−m)/2}` over `m ≡ n (mod 2)`, and `Ṫ = n² T_{n−1}`.
pub fn monomial(n: usize, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (k11, k22) = (k11.max(0.0), k22.max(0.0));
    let (_, _, k12) = crate::layer::dual::correlation(k11, k12, k22);
    let q = k11 * k22;
    let t = |n: usize| -> f64 {
        (n % 2..=n)
            .step_by(2)
            .map(|m| {
                let c = hermite_coefficient(n, m);
                factorial(m) * c * c * k12.powi(m as i32) * q.powi(((n - m) / 2) as i32)
            })
            .sum()
    };
    let tdot = if n == 0 {
        0.0
    } else {
        (n * n) as f64 * t(n - 1)
    };
    (t(n), tdot)
}

/// The coefficients of `x^n` (`coef[n] = 1`).
pub fn monomial_coef(n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n + 1];
    c[n] = 1.0;
    c
}

/// The coefficients of the normalised Hermite polynomial `He_n(x)/√(n!)`, from
/// `He_{k+1} = x He_k − k He_{k−1}`.
pub fn hermite_coef(n: usize) -> Vec<f64> {
    let (mut prev, mut cur) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    cur[0] = 1.0;
    for k in 0..n {
        let mut next = vec![0.0; n + 1];
        for i in 0..n {
            next[i + 1] += cur[i];
        }
        for i in 0..=n {
            next[i] -= k as f64 * prev[i];
        }
        prev = cur;
        cur = next;
    }
    let norm = factorial(n).sqrt();
    cur.iter().map(|c| c / norm).collect()
}

/// `(T, Ṫ)` of `He_n(x)/√(n!)` by the multiplication theorem (module docs), exact at every
/// variance and free of the cancellation of the general polynomial dual.
pub fn hermite(n: usize, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let (k11, k22) = (k11.max(0.0), k22.max(0.0));
    let (_, _, k12) = crate::layer::dual::correlation(k11, k12, k22);
    let r = 0.25 * (k11 - 1.0) * (k22 - 1.0);
    let nf = factorial(n);
    let (mut t, mut tdot) = (0.0, 0.0);
    let mut r_pow = 1.0;
    for j in 0..=n / 2 {
        let m = n - 2 * j;
        let jf = factorial(j);
        t += nf / (jf * jf * factorial(m)) * k12.powi(m as i32) * r_pow;
        if m >= 1 {
            tdot += nf / (jf * jf * factorial(m - 1)) * k12.powi(m as i32 - 1) * r_pow;
        }
        r_pow *= r;
    }
    (t, tdot)
}

/// `Σ_i coef[i] x^i` (Horner).
#[inline]
pub fn eval(coef: &[f64], x: f64) -> f64 {
    coef.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

/// `Σ_i i coef[i] x^{i−1}`.
#[inline]
pub fn eval_derivative(coef: &[f64], x: f64) -> f64 {
    coef.iter()
        .enumerate()
        .skip(1)
        .rev()
        .fold(0.0, |acc, (i, &c)| acc * x + i as f64 * c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hermite_coefficients_are_the_textbook_ones() {
        // He_3 = x³ − 3x, He_4 = x⁴ − 6x² + 3
        let c3: Vec<f64> = hermite_coef(3).iter().map(|c| c * 6f64.sqrt()).collect();
        assert_eq!(c3, [0.0, -3.0, 0.0, 1.0]);
        let c4: Vec<f64> = hermite_coef(4).iter().map(|c| c * 24f64.sqrt()).collect();
        for (a, b) in c4.iter().zip([3.0, 0.0, -6.0, 0.0, 1.0]) {
            assert!((a - b).abs() < 1e-13, "{c4:?}");
        }
    }

    #[test]
    fn the_hermite_dual_is_the_polynomial_dual_of_its_coefficients() {
        for n in 0..=8 {
            let c = hermite_coef(n);
            for (k11, k12, k22) in [(1.0, 0.3, 1.0), (0.4, -0.2, 2.5), (3.0, 2.0, 1.5)] {
                let (t, td) = hermite(n, k11, k12, k22);
                let (tp, tdp) = polynomial(&c, k11, k12, k22);
                let s = polynomial(&c, k11, k11, k11).0.max(1.0) * 1e-11;
                assert!((t - tp).abs() <= s && (td - tdp).abs() <= 10.0 * s, "n={n}");
            }
        }
    }

    #[test]
    fn the_monomial_dual_is_the_polynomial_dual_of_its_coefficients() {
        for n in 0..=MAX_DEGREE {
            for (k11, k12, k22) in [(1.0, 0.3, 1.0), (0.4, -0.2, 2.5), (3.0, 2.0, 1.5)] {
                let (t, td) = monomial(n, k11, k12, k22);
                let (tp, tdp) = polynomial(&monomial_coef(n), k11, k12, k22);
                assert!((t - tp).abs() <= 1e-13 * tp.abs().max(1.0), "n={n}");
                assert!((td - tdp).abs() <= 1e-13 * tdp.abs().max(1.0), "n={n}");
            }
        }
    }

    #[test]
    fn derivative_of_a_polynomial() {
        let c = [1.0, -2.0, 0.5, 3.0];
        assert_eq!(eval(&c, 2.0), 1.0 - 4.0 + 2.0 + 24.0);
        assert_eq!(eval_derivative(&c, 2.0), -2.0 + 2.0 + 36.0);
    }
}
