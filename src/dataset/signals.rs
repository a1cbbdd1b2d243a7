//! Periodic band-limited 1-D signals with a shift- and reversal-invariant target.
//!
//! A signal is n samples `x_k = f(2πk/n)` of a random Fourier series of bandwidth M < n/2,
//!
//! ```text
//! f(θ) = a_0 + Σ_{m=1}^{M} (a_m cos mθ + b_m sin mθ),     a_0 ~ N(0, 1), a_m, b_m ~ N(0, 1/(1+m)²)
//! ```
//!
//! stored as `[n, 1]`. Its target is a weighted power spectrum of the samples,
//!
//! ```text
//! P(x) = Σ_{m=0}^{n−1} |X_m|² / (1 + min(m, n − m)),     X_m = (1/n) Σ_k x_k e^{−2πi mk/n}.
//! ```
//!
//! A cyclic shift multiplies X_m by a phase and a reversal conjugates it (up to a phase), so P
//! is invariant under C_n and D_n; because M < n/2, shifting the *continuous* series by any
//! angle (SO(2)) also only changes phases, so P is SO(2)-invariant on these signals. The
//! weights make P differ from the plain energy, so it is not invariant under other
//! permutations of the samples.

use num_complex::Complex64;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::Dataset;
use crate::error::{Error, Result};

/// Generator of N band-limited periodic signals with the target [`weighted_power`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PeriodicSignals {
    /// Samples per signal n ≥ 3.
    pub n: usize,
    /// Highest frequency M, 1 ≤ M < n/2.
    pub bandwidth: usize,
    /// Number of signals N ≥ 1.
    pub count: usize,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
}

/// Samples `x_k = a_0 + Σ_{m=1}^{M} (a_m cos m(θ_k − φ) + b_m sin m(θ_k − φ))`,
/// `θ_k = 2πk/n`, k = 0 … n−1, with `coeffs[m−1] = (a_m, b_m)`: the series shifted by the angle
/// φ (`shift`), i.e. rotated by φ on the circle.
pub(crate) fn fourier_series(a0: f64, coeffs: &[(f64, f64)], n: usize, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|k| {
            let t = 2.0 * std::f64::consts::PI * k as f64 / n as f64 - shift;
            a0 + coeffs
                .iter()
                .enumerate()
                .map(|(i, &(a, b))| {
                    let m = (i + 1) as f64;
                    a * (m * t).cos() + b * (m * t).sin()
                })
                .sum::<f64>()
        })
        .collect()
}

/// `P(x) = Σ_{m=0}^{n−1} |X_m|² / (1 + min(m, n−m))`, `X_m = (1/n) Σ_k x_k e^{−2πi mk/n}`,
/// of n ≥ 1 samples (a direct O(n²) DFT).
pub(crate) fn weighted_power(signal: &[f64]) -> Result<f64> {
    let n = signal.len();
    if n == 0 {
        return Err(Error::Shape("a signal needs at least one sample".into()));
    }
    let mut p = 0.0;
    for m in 0..n {
        let x: Complex64 = signal
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                // m·k reduced mod n keeps the angle small and exact for large n
                let phase = -2.0 * std::f64::consts::PI * ((m * k) % n) as f64 / n as f64;
                Complex64::from_polar(v, phase)
            })
            .sum::<Complex64>()
            / n as f64;
        p += x.norm_sqr() / (1 + m.min(n - m)) as f64;
    }
    Ok(p)
}

impl PeriodicSignals {
    /// Inputs `[N, n, 1]`, targets N × 1.
    pub fn sample(&self) -> Result<Dataset> {
        if self.n < 3 || self.bandwidth == 0 || 2 * self.bandwidth >= self.n || self.count == 0 {
            return Err(Error::Invalid(format!(
                "periodic signals need count ≥ 1 and 1 ≤ bandwidth < n/2, got n = {}, bandwidth = {}, count = {}",
                self.n, self.bandwidth, self.count
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for _ in 0..self.count {
            let a0: f64 = StandardNormal.sample(&mut rng);
            let coeffs: Vec<(f64, f64)> = (1..=self.bandwidth)
                .map(|m| {
                    let s = 1.0 / (1.0 + m as f64);
                    let a: f64 = StandardNormal.sample(&mut rng);
                    let b: f64 = StandardNormal.sample(&mut rng);
                    (s * a, s * b)
                })
                .collect();
            let x = fourier_series(a0, &coeffs, self.n, 0.0);
            ys.push(vec![weighted_power(&x)?]);
            xs.push(x);
        }
        Dataset::from_rows(vec![self.n, 1], &xs, &ys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_by_hand() {
        // x_k = cos(2πk/8): X_1 = X_7 = 1/2, weight 1/2 each → P = 2 · (1/4)/2 = 1/4
        let x = fourier_series(0.0, &[(1.0, 0.0)], 8, 0.0);
        assert!((weighted_power(&x).unwrap() - 0.25).abs() < 1e-15);
        // a constant c: X_0 = c, weight 1
        assert!((weighted_power(&[3.0; 5]).unwrap() - 9.0).abs() < 1e-12);
    }

    #[test]
    fn target_is_invariant_under_shifts_reversal_and_so2() {
        let n = 12;
        let d = PeriodicSignals {
            n,
            bandwidth: 5,
            count: 6,
            seed: 9,
        }
        .sample()
        .unwrap();
        assert_eq!(d.inputs.shape(), &[n, 1]);
        for i in 0..6 {
            let x = d.inputs.example(i);
            let y = d.targets[(i, 0)];
            for s in 1..n {
                let shifted: Vec<f64> = (0..n).map(|k| x[(k + s) % n]).collect();
                assert!((weighted_power(&shifted).unwrap() - y).abs() < 1e-12);
            }
            let reversed: Vec<f64> = (0..n).map(|k| x[(n - k) % n]).collect();
            assert!((weighted_power(&reversed).unwrap() - y).abs() < 1e-12);
        }
        // SO(2): the continuous series rotated by arbitrary angles
        let coeffs = [
            (0.3, -1.0),
            (0.5, 0.2),
            (-0.7, 0.1),
            (0.05, 0.4),
            (0.2, 0.2),
        ];
        let p0 = weighted_power(&fourier_series(0.4, &coeffs, n, 0.0)).unwrap();
        for phi in [0.1, 0.77, 2.0, -3.3] {
            let p = weighted_power(&fourier_series(0.4, &coeffs, n, phi)).unwrap();
            assert!((p - p0).abs() < 1e-12, "φ = {phi}");
        }
        // not invariant under an arbitrary swap of two samples (not just Σ x²)
        let x = d.inputs.example(0);
        let mut swapped = x.to_vec();
        swapped.swap(0, 3);
        assert!((weighted_power(&swapped).unwrap() - d.targets[(0, 0)]).abs() > 1e-6);
    }

    #[test]
    fn bad_parameters() {
        let ok = PeriodicSignals {
            n: 8,
            bandwidth: 3,
            count: 2,
            seed: 0,
        };
        assert!(ok.sample().is_ok());
        assert_eq!(ok.sample().unwrap().inputs, ok.sample().unwrap().inputs);
        assert!(PeriodicSignals {
            bandwidth: 4,
            ..ok.clone()
        }
        .sample()
        .is_err());
        assert!(PeriodicSignals { count: 0, ..ok }.sample().is_err());
        assert!(weighted_power(&[]).is_err());
    }
}
