//! The one adaptive quadrature for functions of an angle on the circle.
//!
//! Every SO(2) integral of the crate is a Haar mean `(1/2π) ∫ f(φ) dφ` of a function of one
//! angle: the pooled kernel of an SO(2) G-CNN ([`crate::Network::kernel`]), its interpretation
//! ([`crate::symbolic::evaluate_network`]) and the SO(2) orbit average
//! ([`crate::orbit::orbit_kernel`]). All three use [`refine`]:
//!
//! * **Trapezoid on N → 2N grids.** Level N is the mean over the N angles `φ_j = φ₀ + 2πj/N`
//!   (the C_N subgroup), `(1/N) Σ_j f(φ_j) = Σ_{N | m} f̂_m`; doubling N reuses every node. For f
//!   analytic in a strip the error falls geometrically.
//! * **Romberg extrapolation** where the integrand is smooth only up to nodes of the grid (kinks
//!   of ReLU-type kernels at an anchored φ₀, and φ₀ + π): Euler–Maclaurin gives an error in even
//!   powers of 1/N, and the Romberg table `R[j] = R[j−1] + (R[j−1] − R'[j−1])/(4^j − 1)` removes
//!   them.
//! * **One stopping rule.** After every doubling the change of each value, relative to its scale,
//!   is the error estimate of a sequence; the first sequence (plain or extrapolated) whose
//!   largest change is at most `tol` is returned with that estimate.
//! * **One cap**, [`MAX_ANGLES`]: reaching it without meeting `tol` is
//!   [`Error::NotConverged`] carrying the best estimate — never a hang, never a silent number.

use crate::error::{Error, Result};

/// Largest angular grid any SO(2) integral tries.
pub const MAX_ANGLES: usize = 1 << 16;

/// The values of one grid level: the integrals (means over the grid, or smooth functions of such
/// means) and the scale each value's change is measured against.
#[derive(Clone, Debug)]
pub struct Level {
    /// The values on this grid.
    pub values: Vec<f64>,
    /// `scales[c] > 0`: the change of `values[c]` is divided by it.
    pub scales: Vec<f64>,
}

/// A converged mean over the circle.
#[derive(Clone, Debug, PartialEq)]
pub struct CircleMean {
    /// The integrals (plain trapezoid or Romberg-extrapolated, whichever settled).
    pub values: Vec<f64>,
    /// Number N of angles of the last grid.
    pub angles: usize,
    /// The reported error estimate: the largest relative change at the last doubling, ≤ `tol`.
    pub estimate: f64,
}

/// The smallest power of two ≥ `max(8, 2L + 2)`: a first grid that resolves a trigonometric
/// polynomial of degree `L` (the input kernel of band limit L).
pub fn first_grid(band_limit: usize) -> usize {
    (2 * band_limit + 2).next_power_of_two().max(8)
}

/// Refine `level(N)` for `N = n0, 2 n0, …` up to [`MAX_ANGLES`] until the plain sequence (or,
/// with `kinked`, its Romberg extrapolation) changes by at most `tol` relative to the scales.
///
/// `what` names the integral in the [`Error::NotConverged`] raised at the cap. Errors of
/// `level` are passed on.
pub fn refine(
    n0: usize,
    tol: f64,
    kinked: bool,
    what: impl FnOnce() -> String,
    mut level: impl FnMut(usize) -> Result<Level>,
) -> Result<CircleMean> {
    if tol.is_nan() || tol <= 0.0 {
        return Err(Error::Invalid(format!(
            "the tolerance of an SO2 integral must be > 0, got {tol}"
        )));
    }
    let mut n = n0.max(1);
    let mut rows: Option<Vec<Vec<f64>>> = None;
    let mut prev: Option<[Vec<f64>; 2]> = None;
    let mut best = f64::INFINITY;
    loop {
        let Level { values, scales } = level(n)?;
        let extrapolated = if kinked {
            let new_rows: Vec<Vec<f64>> = values
                .iter()
                .enumerate()
                .map(|(c, &v)| romberg_row(rows.as_ref().map(|r| &r[c][..]), v))
                .collect();
            let e = new_rows.iter().map(|r| *r.last().expect("a row")).collect();
            rows = Some(new_rows);
            e
        } else {
            values.clone()
        };
        let now = [values, extrapolated];
        if let Some(prev) = &prev {
            let mut settled: Option<(usize, f64)> = None;
            for (s, (v, w)) in now.iter().zip(prev).enumerate() {
                let change = v
                    .iter()
                    .zip(w)
                    .zip(&scales)
                    .map(|((a, b), sc)| (a - b).abs() / sc.max(f64::MIN_POSITIVE))
                    .fold(0.0, f64::max);
                best = best.min(change);
                if change <= tol && settled.is_none_or(|(_, c)| change < c) {
                    settled = Some((s, change));
                }
            }
            if let Some((s, estimate)) = settled {
                let [plain, extrapolated] = now;
                return Ok(CircleMean {
                    values: if s == 0 { plain } else { extrapolated },
                    angles: n,
                    estimate,
                });
            }
        }
        if n >= MAX_ANGLES {
            return Err(Error::NotConverged {
                what: format!("{} (with {n} angles)", what()),
                tol,
                estimate: best,
            });
        }
        prev = Some(now);
        n *= 2;
    }
}

/// [`refine`] for means of functions sampled on the grid: `sum(N, first, step)` returns
/// `Σ_{j = first, first + step, … < N} f_c(φ_j)` for every value c, and `scales` the scale of the
/// means. The first level sums all `n0` nodes, each later one only the new odd nodes of the
/// doubled grid.
pub fn refine_sums(
    n0: usize,
    tol: f64,
    kinked: bool,
    what: impl FnOnce() -> String,
    mut sum: impl FnMut(usize, usize, usize) -> Result<Vec<f64>>,
    scales: impl Fn(&[f64]) -> Vec<f64>,
) -> Result<CircleMean> {
    let mut sums: Option<Vec<f64>> = None;
    refine(n0, tol, kinked, what, |n| {
        let s = match sums.take() {
            None => sum(n, 0, 1)?,
            Some(mut s) => {
                for (a, b) in s.iter_mut().zip(sum(n, 1, 2)?) {
                    *a += b;
                }
                s
            }
        };
        let values: Vec<f64> = s.iter().map(|v| v / n as f64).collect();
        sums = Some(s);
        let scales = scales(&values);
        Ok(Level { values, scales })
    })
}

/// The next row of a Romberg table whose previous row is `old`, from the trapezoidal value `t0`
/// on the doubled grid: `R[j] = R[j−1] + (R[j−1] − old[j−1])/(4^j − 1)`.
fn romberg_row(old: Option<&[f64]>, t0: f64) -> Vec<f64> {
    let mut row = vec![t0];
    for (j, &o) in old.unwrap_or(&[]).iter().enumerate() {
        let r = row[j] + (row[j] - o) / (4f64.powi(j as i32 + 1) - 1.0);
        row.push(r);
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn mean_of(f: impl Fn(f64) -> f64, kinked: bool, tol: f64) -> Result<CircleMean> {
        refine_sums(
            8,
            tol,
            kinked,
            || "test integral".into(),
            |n, first, step| {
                Ok(vec![(first..n)
                    .step_by(step)
                    .map(|j| f(2.0 * PI * j as f64 / n as f64))
                    .sum()])
            },
            |v| vec![v[0].abs().max(1.0)],
        )
    }

    #[test]
    fn analytic_integrand_converges_geometrically_on_the_plain_rule() {
        // (1/2π) ∫ e^{cos φ} dφ = I₀(1).
        let i0 = 1.266_065_877_752_008_4;
        let m = mean_of(|p: f64| p.cos().exp(), false, 1e-14).unwrap();
        assert!((m.values[0] - i0).abs() < 1e-14, "{m:?}");
        assert!(m.angles <= 32 && m.estimate <= 1e-14);
    }

    #[test]
    fn kink_on_a_node_is_removed_by_romberg() {
        // (1/2π) ∫ |sin φ|³ dφ = 4/(3π): kinks at the nodes 0 and π.
        let exact = 4.0 / (3.0 * PI);
        let m = mean_of(|p: f64| p.sin().abs().powi(3), true, 1e-13).unwrap();
        assert!((m.values[0] - exact).abs() < 1e-12, "{m:?}");
        assert!(m.angles < 4096, "{m:?}");
        // Without extrapolation the N⁻⁴ error needs far more angles.
        let plain = mean_of(|p: f64| p.sin().abs().powi(3), false, 1e-13).unwrap();
        assert!(plain.angles >= 16 * m.angles, "{plain:?} {m:?}");
    }

    #[test]
    fn the_cap_is_a_not_converged_error_with_the_estimate() {
        // A kink off every node: the plain and extrapolated rules both converge like N⁻².
        let e = mean_of(|p: f64| (p - 1.0).sin().abs(), true, 1e-15).unwrap_err();
        match e {
            Error::NotConverged {
                what,
                tol,
                estimate,
            } => {
                assert!(what.contains("test integral") && what.contains("65536"));
                assert_eq!(tol, 1e-15);
                assert!(estimate > 1e-15 && estimate < 1e-6, "{estimate}");
            }
            other => panic!("{other}"),
        }
        assert!(mean_of(|p: f64| p.cos(), false, 0.0).is_err());
    }
}
