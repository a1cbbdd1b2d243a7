//! Branch-free, auto-vectorisable `arccos` and the ReLU dual over slices.
//!
//! `f64::acos` is a libm call that LLVM cannot vectorise; once the rest of a kernel is fast it
//! dominates the ReLU layers. Here `arcsin` on `[0, ½]` is its Taylor series
//!
//! ```text
//! arcsin x = Σₙ cₙ x^{2n+1},   c₀ = 1,   cₙ₊₁ = cₙ (2n+1)² / ((2n+2)(2n+3)),
//! ```
//!
//! truncated after 26 terms (the tail is below 1e-17·x because x² ≤ ¼), and `arccos` follows from
//! `arccos x = π/2 − arcsin x` (|x| ≤ ½), `arccos x = 2 arcsin √((1−x)/2)` (x > ½) and
//! `arccos x = π − 2 arcsin √((1+x)/2)` (x < −½). Only one series is evaluated per value and the
//! branch is a select, so loops over slices vectorise. No fused multiply-adds are used, so
//! results are bit-identical on every instruction set.

use std::f64::consts::PI;

/// Number of Taylor terms of `arcsin` kept (c₀ … c₂₅).
const TERMS: usize = 26;

/// The Taylor coefficients `cₙ` of `arcsin`, from the exact recurrence.
const ASIN_COEFFS: [f64; TERMS] = {
    let mut c = [0.0; TERMS];
    c[0] = 1.0;
    let mut n = 0;
    while n + 1 < TERMS {
        let m = n as f64;
        c[n + 1] = c[n] * ((2.0 * m + 1.0) * (2.0 * m + 1.0)) / ((2.0 * m + 2.0) * (2.0 * m + 3.0));
        n += 1;
    }
    c
};

/// π/2 split as `PIO2_HI + PIO2_LO` (the high part is the nearest f64).
const PIO2_HI: f64 = std::f64::consts::FRAC_PI_2;
const PIO2_LO: f64 = 6.123_233_995_736_766e-17;

/// `r(u) = (arcsin u − u)/u = Σ_{n≥1} cₙ u^{2n}` for `|u| ≤ ½`.
#[inline(always)]
fn asin_tail_ratio(u: f64) -> f64 {
    let z = u * u;
    let mut p = ASIN_COEFFS[TERMS - 1];
    let mut n = TERMS - 1;
    while n > 1 {
        n -= 1;
        p = p * z + ASIN_COEFFS[n];
    }
    p * z
}

/// `arccos x` for `x ∈ [−1, 1]` (NaN outside), within a few ulp of `f64::acos`.
#[inline(always)]
pub fn acos(x: f64) -> f64 {
    let a = x.abs();
    let big = a > 0.5;
    // One series argument: x itself, or √((1−|x|)/2) beyond ½ (1 − |x| is exact there).
    let s = ((1.0 - a) * 0.5).sqrt();
    let u = if big { s } else { x };
    let r = asin_tail_ratio(u);
    let small = PIO2_HI - (x - (PIO2_LO - x * r));
    let pos = 2.0 * (s + s * r);
    let neg = 2.0 * (PIO2_HI - (s + (s * r - PIO2_LO)));
    if !big {
        small
    } else if x > 0.0 {
        pos
    } else {
        neg
    }
}

/// The ReLU dual of one entry: `(T, Ṫ)` with `ρ = k12/√(k11 k22)` clamped to `[−1, 1]`
/// (`ρ = 0` when `k11 k22 = 0`), `T = √(k11 k22)/(2π) (√(1−ρ²) + ρ arccos(−ρ))` and
/// `Ṫ = arccos(−ρ)/(2π)` (`arccos(−ρ) = π − θ` with `θ = arccos ρ`).
#[inline(always)]
pub fn relu_dual(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let s = (k11 * k22).sqrt();
    let rho = if s > 0.0 {
        (k12 / s).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let pi_minus_theta = acos(-rho);
    let inv_2pi = 0.5 / PI;
    let t = s * inv_2pi * ((1.0 - rho * rho).sqrt() + rho * pi_minus_theta);
    (t, pi_minus_theta * inv_2pi)
}

macro_rules! relu_loops {
    ($k11:ident, $k12:ident, $k22:ident, $t_in:ident, $k_out:ident, $t_out:ident) => {
        match ($t_in, $t_out) {
            (Some(t_in), Some(t_out)) => {
                let n = $k12.len();
                let (k22, t_in, k_out, t_out) =
                    (&$k22[..n], &t_in[..n], &mut $k_out[..n], &mut t_out[..n]);
                for j in 0..n {
                    let (v, dv) = relu_dual($k11, $k12[j], k22[j]);
                    k_out[j] = v;
                    t_out[j] = dv * t_in[j];
                }
            }
            _ => {
                let n = $k12.len();
                let (k22, k_out) = (&$k22[..n], &mut $k_out[..n]);
                for j in 0..n {
                    k_out[j] = relu_dual($k11, $k12[j], k22[j]).0;
                }
            }
        }
    };
}

fn relu_dual_generic(
    k11: f64,
    k12: &[f64],
    k22: &[f64],
    t_in: Option<&[f64]>,
    k_out: &mut [f64],
    t_out: Option<&mut [f64]>,
) {
    relu_loops!(k11, k12, k22, t_in, k_out, t_out);
}

/// The same loop compiled for AVX-512 (no FMA contraction in Rust, so bit-identical).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn relu_dual_avx512(
    k11: f64,
    k12: &[f64],
    k22: &[f64],
    t_in: Option<&[f64]>,
    k_out: &mut [f64],
    t_out: Option<&mut [f64]>,
) {
    relu_loops!(k11, k12, k22, t_in, k_out, t_out);
}

/// The same loop compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn relu_dual_avx2(
    k11: f64,
    k12: &[f64],
    k22: &[f64],
    t_in: Option<&[f64]>,
    k_out: &mut [f64],
    t_out: Option<&mut [f64]>,
) {
    relu_loops!(k11, k12, k22, t_in, k_out, t_out);
}

/// The ReLU dual over a slice: `k_out[j] = T(k11, k12[j], k22[j])` and, when both are given,
/// `t_out[j] = Ṫ(k11, k12[j], k22[j]) · t_in[j]` (see [`relu_dual`]); all slices have the length
/// of `k12`.
pub fn relu_dual_slice(
    k11: f64,
    k12: &[f64],
    k22: &[f64],
    t_in: Option<&[f64]>,
    k_out: &mut [f64],
    t_out: Option<&mut [f64]>,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F.
            return unsafe { relu_dual_avx512(k11, k12, k22, t_in, k_out, t_out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2.
            return unsafe { relu_dual_avx2(k11, k12, k22, t_in, k_out, t_out) };
        }
    }
    relu_dual_generic(k11, k12, k22, t_in, k_out, t_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    fn close(got: f64, want: f64) -> bool {
        ulps(got, want) <= 4 || (got - want).abs() <= 1e-15
    }

    #[test]
    fn coefficients_follow_the_closed_form() {
        // cₙ = (2n)! / (4ⁿ (n!)² (2n+1)).
        for (n, &c) in ASIN_COEFFS.iter().enumerate().take(12) {
            let mut binom = 1.0f64; // (2n choose n) / 4ⁿ
            for k in 1..=n {
                binom *= (n + k) as f64 / (4.0 * k as f64);
            }
            let want = binom / (2 * n + 1) as f64;
            assert!((c - want).abs() <= 1e-15 * want, "c_{n} = {c}, want {want}");
        }
    }

    #[test]
    fn acos_matches_libm_on_a_dense_grid() {
        let n = 2_000_001;
        let mut worst = 0u64;
        for i in 0..n {
            let x = -1.0 + 2.0 * i as f64 / (n - 1) as f64;
            let (got, want) = (acos(x), x.acos());
            assert!(close(got, want), "acos({x}) = {got}, libm {want}");
            worst = worst.max(ulps(got, want));
        }
        assert!(worst <= 4, "worst {worst} ulp");
    }

    #[test]
    fn acos_edge_cases() {
        let sub = f64::MIN_POSITIVE / 8.0;
        let near = [1.0 - f64::EPSILON / 2.0, -1.0 + f64::EPSILON / 2.0];
        let more = [
            0.5f64.next_up(),
            0.5f64.next_down(),
            (-0.5f64).next_up(),
            (-0.5f64).next_down(),
        ];
        for x in [1.0, -1.0, 0.0, -0.0, 0.5, -0.5, sub, -sub]
            .into_iter()
            .chain(near)
            .chain(more)
        {
            assert!(
                close(acos(x), x.acos()),
                "acos({x}) = {}, libm {}",
                acos(x),
                x.acos()
            );
        }
        assert_eq!(acos(1.0), 0.0);
        assert_eq!(acos(-1.0), PI);
        assert!(acos(1.5).is_nan() && acos(f64::NAN).is_nan());
    }

    fn reference(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
        let s = (k11 * k22).sqrt();
        let rho = if s > 0.0 {
            (k12 / s).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let th = rho.acos();
        (
            s / (2.0 * PI) * ((1.0 - rho * rho).sqrt() + (PI - th) * rho),
            (PI - th) / (2.0 * PI),
        )
    }

    #[test]
    fn relu_dual_slice_matches_the_libm_formula() {
        let n = 1001;
        let k11 = 2.3;
        let k22: Vec<f64> = (0..n).map(|j| 0.5 + (j % 7) as f64).collect();
        // ρ sweeps [−1.1, 1.1] (beyond ±1 it is clamped).
        let k12: Vec<f64> = (0..n)
            .map(|j| (-1.1 + 2.2 * j as f64 / (n - 1) as f64) * (k11 * k22[j]).sqrt())
            .collect();
        let t_in: Vec<f64> = (0..n).map(|j| 1.0 + j as f64 * 0.01).collect();
        let (mut k_out, mut t_out, mut k_only) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        relu_dual_slice(k11, &k12, &k22, Some(&t_in), &mut k_out, Some(&mut t_out));
        relu_dual_slice(k11, &k12, &k22, None, &mut k_only, None);
        for j in 0..n {
            let (v, dv) = reference(k11, k12[j], k22[j]);
            let scale = (k11 * k22[j]).sqrt();
            assert!(
                (k_out[j] - v).abs() <= 1e-15 * scale,
                "T at {j}: {} vs {v}",
                k_out[j]
            );
            assert!(
                (t_out[j] - dv * t_in[j]).abs() <= 1e-15 * t_in[j],
                "Ṫ at {j}"
            );
            // The NNGP does not depend on whether the NTK is carried.
            assert_eq!(k_only[j].to_bits(), k_out[j].to_bits());
        }
    }

    #[test]
    fn relu_dual_of_a_zero_variance_is_zero_with_slope_one_quarter() {
        let (mut k, mut t) = ([1.0; 2], [1.0; 2]);
        relu_dual_slice(
            0.0,
            &[0.0, 0.0],
            &[1.0, 0.0],
            Some(&[2.0, 2.0]),
            &mut k,
            Some(&mut t),
        );
        assert_eq!(k, [0.0, 0.0]);
        assert_eq!(t, [0.5, 0.5]);
        // ρ = ±1 exactly: T = K/2 (resp. 0), Ṫ = ½ (resp. 0).
        let (v, dv) = relu_dual(2.0, 2.0, 2.0);
        assert!((v - 1.0).abs() < 1e-15 && (dv - 0.5).abs() < 1e-16);
        let (v, dv) = relu_dual(2.0, -2.0, 2.0);
        assert!(v.abs() < 1e-16 && dv == 0.0);
    }
}
