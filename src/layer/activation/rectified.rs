//! The dual of the rectified monomial `φ(x) = x^n` for `x ≥ 0`, `0` otherwise (`n = 0`: the
//! step `1[x ≥ 0]`; `n = 1`: ReLU): the arc-cosine kernel of degree n (Cho & Saul 2009).
//!
//! With `θ = arccos ρ`,
//!
//! ```text
//! T = (k11 k22)^{n/2} J_n(θ)/(2π),     J_n(θ) = (−1)^n sin^{2n+1}θ ((1/sin θ) ∂_θ)^n ((π − θ)/sin θ),
//! Ṫ = n² T_{n−1}   (n ≥ 1),            Ṫ = 0   (n = 0).
//! ```
//!
//! `J_n(θ) = A_n(cos θ)(π − θ) + B_n(cos θ) sin θ` with polynomials `A_n`, `B_n`
//! (`J_0 = π − θ`, `J_1 = sin θ + (π − θ) cos θ`, `J_2 = 3 sin θ cos θ + (π − θ)(1 + 2cos²θ)`);
//! [`arc_cosine_polynomials`] derives them once per degree by carrying out the n derivatives on
//! terms `ψ^e cos^i θ sin^j θ` (`ψ = π − θ`), so `T` is finite at `ρ = ±1` too.
//!
//! neural-tangents' `RectifiedMonomial` evaluates the operator form above by automatic
//! differentiation, dividing by `sin θ`: at `θ = 0` — every diagonal entry `K(x, x)`, hence
//! every kernel of an example with itself — it returns NaN. eqntk's form has no division.
//!
//! `Ṫ = n² T_{n−1}` is `E[φ'(u) φ'(v)]` with `φ' = n x^{n−1} 1[x > 0]` (the derivative at the
//! kink is ½ for n = 1, as for ReLU, and 0 for n ≥ 2); for `n = 0` the finite network's
//! gradient through the step is 0, so `Ṫ = 0` (neural-tangents likewise).

use std::f64::consts::{FRAC_1_PI, PI};
use std::sync::OnceLock;

use super::polynomial::{self, MAX_DEGREE};
use crate::layer::dual::correlation;

/// `(A_n, B_n)`: coefficients (in powers of `cos θ`) of `J_n = A_n(cos θ)(π − θ) + B_n(cos θ)
/// sin θ`, for `n ≤ MAX_DEGREE`, computed once.
pub fn arc_cosine_polynomials(n: usize) -> &'static (Vec<f64>, Vec<f64>) {
    static TABLE: OnceLock<Vec<(Vec<f64>, Vec<f64>)>> = OnceLock::new();
    &TABLE.get_or_init(|| (0..=MAX_DEGREE).map(derive_j).collect())[n]
}

/// Carries out `J_n = (−1)^n s^{2n+1} ((1/s) ∂_θ)^n (ψ/s)` on terms `c ψ^e x^i s^j`
/// (`x = cos θ`, `s = sin θ`, `ψ = π − θ`; `∂ψ = −1`, `∂x = −s`, `∂s = x`), then reduces
/// `s² = 1 − x²`.
fn derive_j(n: usize) -> (Vec<f64>, Vec<f64>) {
    use std::collections::BTreeMap;
    let mut f: BTreeMap<(u8, usize, i64), f64> = BTreeMap::from([((1, 0, -1), 1.0)]);
    for _ in 0..n {
        let mut g = BTreeMap::new();
        let mut add = |k: (u8, usize, i64), c: f64| *g.entry(k).or_insert(0.0) += c;
        for (&(e, i, j), &c) in &f {
            // ∂_θ, then divide by s (j − 1)
            if e == 1 {
                add((0, i, j - 1), -c);
            }
            if i > 0 {
                add((e, i - 1, j), -c * i as f64);
            }
            if j != 0 {
                add((e, i + 1, j - 2), c * j as f64);
            }
        }
        f = g;
    }
    let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
    // a: the ψ part, b: the s part; s^{2k} = (1 − x²)^k
    let (mut a, mut b) = (vec![0.0; 2 * n + 2], vec![0.0; 2 * n + 2]);
    for (&(e, i, j), &c) in &f {
        let j = j + 2 * n as i64 + 1;
        assert!(j >= 0, "negative power of sin θ left in J_{n}");
        let (target, k) = match (e, j % 2) {
            (1, 0) => (&mut a, j / 2),
            (0, 1) => (&mut b, (j - 1) / 2),
            _ => panic!("J_{n} has a term outside A(x) ψ + B(x) sin θ"),
        };
        // c x^i (1 − x²)^k
        let mut binom = 1.0;
        for l in 0..=k as usize {
            let pow = i + 2 * l;
            let term = if l % 2 == 0 { binom } else { -binom };
            target[pow] += sign * c * term;
            binom = binom * (k as usize - l) as f64 / (l + 1) as f64;
        }
    }
    let trim = |mut v: Vec<f64>| {
        while v.len() > 1 && v.last() == Some(&0.0) {
            v.pop();
        }
        v
    };
    (trim(a), trim(b))
}

/// `T_n = E[φ_n(u) φ_n(v)]` (module docs). At a zero variance `u ≡ 0`: `T_n = 0` for `n ≥ 1`,
/// and for the step (`φ_0(0) = 1`) `T_0 = E[φ_0(v)] = 1/2` (1 when both variances are 0).
fn t_n(n: usize, k11: f64, k12: f64, k22: f64) -> f64 {
    let (rho, scale, _) = correlation(k11, k12, k22);
    if scale == 0.0 {
        if n > 0 {
            return 0.0;
        }
        let half_or_one = |k: f64| if k > 0.0 { 0.5 } else { 1.0 };
        return half_or_one(k11) * half_or_one(k22);
    }
    let (a, b) = arc_cosine_polynomials(n);
    let psi = PI - rho.acos();
    let sin_theta = ((1.0 - rho) * (1.0 + rho)).sqrt();
    let j = polynomial::eval(a, rho) * psi + polynomial::eval(b, rho) * sin_theta;
    scale.powi(n as i32) * j * 0.5 * FRAC_1_PI
}

/// `(T, Ṫ)` of the rectified monomial of degree `n ≤ MAX_DEGREE`.
pub fn rectified_monomial(n: usize, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let t = t_n(n, k11, k12, k22);
    let tdot = match n {
        0 => 0.0,
        // E[φ'(u) φ'(v)] with the step's ρ = 0 convention at a zero input (ReLU's Ṫ = 1/4)
        1 => {
            let (rho, _, _) = correlation(k11, k12, k22);
            0.5 * FRAC_1_PI * (PI - rho.acos())
        }
        _ => (n * n) as f64 * t_n(n - 1, k11, k12, k22),
    };
    (t, tdot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_arc_cosine_polynomials_are_the_textbook_ones() {
        assert_eq!(arc_cosine_polynomials(0), &(vec![1.0], vec![0.0]));
        assert_eq!(arc_cosine_polynomials(1), &(vec![0.0, 1.0], vec![1.0]));
        // J_2 = 3 sin θ cos θ + (π − θ)(1 + 2cos²θ)
        assert_eq!(
            arc_cosine_polynomials(2),
            &(vec![1.0, 0.0, 2.0], vec![0.0, 3.0])
        );
    }

    #[test]
    fn on_the_diagonal_it_is_half_the_gaussian_moment() {
        // E[u^{2n} 1[u ≥ 0]] = (2n − 1)!! k^n / 2
        for n in 0..=MAX_DEGREE {
            let k: f64 = 0.7;
            let double_fact: f64 = (1..=2 * n).step_by(2).map(|i| i as f64).product();
            let want = 0.5 * double_fact * k.powi(n as i32);
            let got = rectified_monomial(n, k, k, k).0;
            assert!((got - want).abs() <= 1e-12 * want, "n={n}: {got} vs {want}");
        }
    }
}
