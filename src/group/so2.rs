//! The circle group SO(2).

use std::f64::consts::PI;

use super::Cyclic;
use crate::error::{Error, Result};

/// The rotation group of the plane, `SO(2) = {R_θ : θ ∈ [0, 2π)}`, rotations counter-clockwise.
///
/// An element is an angle (f64, radians); [`So2::mul`] adds angles mod 2π. The group is
/// continuous: Haar averages `(1/2π) ∫ f(θ) dθ` are computed on the quadrature grid of the
/// subgroup `C_N` (`θ_j = 2πj/N`, weights `1/N`), exact whenever `f` is a trigonometric polynomial
/// of degree `< N`. `band_limit` is the largest frequency `L` kept by the band-limited irrep set
/// `{χ_k : |k| ≤ L}` (see `rep::so2`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct So2 {
    band_limit: usize,
}

impl Default for So2 {
    fn default() -> Self {
        Self {
            band_limit: Self::DEFAULT_BAND_LIMIT,
        }
    }
}

impl So2 {
    /// The band limit used when none is given (`SO2` on the command line).
    pub const DEFAULT_BAND_LIMIT: usize = 4;

    /// SO(2) with irreps up to frequency `band_limit`.
    pub fn new(band_limit: usize) -> Self {
        Self { band_limit }
    }
    /// The band limit `L`.
    pub fn band_limit(&self) -> usize {
        self.band_limit
    }
    /// The identity angle, `0`.
    pub fn identity(&self) -> f64 {
        0.0
    }
    /// `θ₁ + θ₂` reduced to `[0, 2π)`.
    pub fn mul(&self, a: f64, b: f64) -> f64 {
        Self::reduce(a + b)
    }
    /// `−θ` reduced to `[0, 2π)`.
    pub fn inv(&self, a: f64) -> f64 {
        Self::reduce(-a)
    }
    /// An angle reduced to `[0, 2π)`.
    pub fn reduce(a: f64) -> f64 {
        let r = a.rem_euclid(2.0 * PI);
        if r >= 2.0 * PI {
            0.0
        } else {
            r
        }
    }
    /// The distance of two angles on the circle, in `[0, π]`.
    pub fn distance(a: f64, b: f64) -> f64 {
        let d = Self::reduce(a - b);
        d.min(2.0 * PI - d)
    }
    /// The quadrature angles `θ_j = 2πj/N`, `j = 0..N` (the elements of `C_N ⊂ SO(2)`).
    pub fn quadrature(n: usize) -> Result<Vec<f64>> {
        if n == 0 {
            return Err(Error::Group(
                "an SO(2) quadrature needs N ≥ 1 points".into(),
            ));
        }
        Ok((0..n).map(|j| 2.0 * PI * j as f64 / n as f64).collect())
    }
    /// The Haar average `(1/N) Σ_j f(2πj/N)`: exact for trigonometric polynomials of degree `< N`.
    pub fn haar_average<T, F>(n: usize, f: F) -> Result<T>
    where
        F: Fn(f64) -> T,
        T: std::ops::Add<Output = T> + std::ops::Mul<f64, Output = T>,
    {
        let angles = Self::quadrature(n)?;
        let mut it = angles.iter().map(|&t| f(t));
        let first = it.next().expect("N ≥ 1");
        Ok(it.fold(first, |acc, v| acc + v) * (1.0 / n as f64))
    }
    /// The embedding `C_n → SO(2)`, `r^k ↦ 2πk/n`.
    pub fn cyclic_embedding(c: &Cyclic) -> Vec<f64> {
        (0..c.n()).map(|k| c.angle(k)).collect()
    }
}
