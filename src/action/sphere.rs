//! Band-limited signals on the sphere `[L+1, 2L+1, C]` (`domain = "sphere"`) and their exact
//! rotation by any orthogonal 3×3 matrix.
//!
//! # Convention
//!
//! Sample `(j, k)` of an example is the value at the grid point
//! `y_jk = (sin θ_j cos φ_k, sin θ_j sin φ_k, cos θ_j)`, where `cos θ_j` are the `L + 1`
//! Gauss–Legendre nodes from `+1` (north, `j = 0`) to `−1` (south) and `φ_k = 2πk/(2L+1)`;
//! channels are last and untouched. With the weights `w_jk = w_j · 2π/(2L+1)` (`w_j` the
//! Gauss–Legendre weights) the grid integrates every product of two functions of degree `≤ L`
//! exactly, so the analysis
//!
//! ```text
//! a_lm = Σ_jk w_jk f(y_jk) Y_lm(y_jk)        (real Y_lm of crate::rep::real_spherical_harmonics)
//! ```
//!
//! recovers the coefficients of a band-limited `f`, and an orthogonal `M` (a rotation, or `−I`
//! for O(3) and Oh) acts on the sphere's points as on 3-D vectors:
//!
//! ```text
//! (M·f)(y) = f(M⁻¹ y) = Σ_lm a_lm Y_lm(Mᵀ y)
//! ```
//!
//! — exact, and a representation: `(M₁M₂)·f = M₁·(M₂·f)`. Samples of a signal that is not
//! band-limited (the grid has `(L+1)(2L+1)` samples, the band-limited space `(L+1)²`
//! dimensions) are first projected onto degrees `≤ L` by the analysis.

use crate::error::{Error, Result};
use crate::group::{gauss_legendre, Matrix3};
use crate::rep::real_spherical_harmonics;

/// The largest band limit `L` of a sphere signal.
pub const MAX_SPHERE_DEGREE: usize = 64;

/// The Gauss–Legendre grid of band limit `L` and its analysis weights.
#[derive(Clone, Debug)]
pub struct SphereGrid {
    l: usize,
    points: Vec<[f64; 3]>,
    /// `w_jk Y_lm(y_jk)`, one row of `(L+1)²` values per grid point.
    analysis: Vec<f64>,
}

impl SphereGrid {
    /// The grid of band limit `l` (`l ≤` [`MAX_SPHERE_DEGREE`]).
    pub fn new(l: usize) -> Result<Self> {
        crate::budget::at_most("the band limit L of a sphere signal", l, MAX_SPHERE_DEGREE)?;
        let (nodes, weights) = gauss_legendre(l + 1)?;
        let n_phi = 2 * l + 1;
        let d_phi = 2.0 * std::f64::consts::PI / n_phi as f64;
        let n_coef = (l + 1) * (l + 1);
        let mut points = Vec::with_capacity((l + 1) * n_phi);
        let mut analysis = Vec::with_capacity((l + 1) * n_phi * n_coef);
        // Gauss–Legendre nodes come ascending: north (cos θ = +1) first means reversed.
        for (&ct, &w) in nodes.iter().zip(&weights).rev() {
            let st = (1.0 - ct * ct).max(0.0).sqrt();
            for k in 0..n_phi {
                let (sp, cp) = (k as f64 * d_phi).sin_cos();
                let y = [st * cp, st * sp, ct];
                points.push(y);
                analysis.extend(
                    real_spherical_harmonics(l, y)
                        .into_iter()
                        .map(|v| v * w * d_phi),
                );
            }
        }
        Ok(Self {
            l,
            points,
            analysis,
        })
    }

    /// The grid of examples of `shape = [L+1, 2L+1, C]`, and `C`.
    pub fn for_shape(shape: &[usize]) -> Result<(Self, usize)> {
        match *shape {
            [a, b, c] if a >= 1 && b == 2 * a - 1 && c >= 1 => Ok((Self::new(a - 1)?, c)),
            _ => Err(Error::Shape(shape_error(shape))),
        }
    }

    /// The band limit `L`.
    pub fn band_limit(&self) -> usize {
        self.l
    }

    /// The `(L+1)(2L+1)` grid points, `y_jk` at `j·(2L+1) + k`.
    pub fn points(&self) -> &[[f64; 3]] {
        &self.points
    }

    /// The coefficients `a_lm` of every channel of one example: `(L+1)²` rows of `C` values.
    pub fn analyse(&self, x: &[f64], channels: usize) -> Vec<f64> {
        let n_coef = (self.l + 1) * (self.l + 1);
        let mut a = vec![0.0; n_coef * channels];
        for (s, row) in self.analysis.chunks_exact(n_coef).enumerate() {
            let f = &x[s * channels..(s + 1) * channels];
            for (q, &y) in row.iter().enumerate() {
                for (c, &v) in f.iter().enumerate() {
                    a[q * channels + c] += y * v;
                }
            }
        }
        a
    }

    /// `Σ_lm a_lm Y_lm(p)` for every channel, at every point `p` (`C` values per point).
    pub fn synthesise(&self, a: &[f64], channels: usize, at: &[[f64; 3]]) -> Vec<f64> {
        let mut out = vec![0.0; at.len() * channels];
        for (p, o) in at.iter().zip(out.chunks_exact_mut(channels)) {
            for (q, y) in real_spherical_harmonics(self.l, *p).into_iter().enumerate() {
                for (c, v) in o.iter_mut().enumerate() {
                    *v += y * a[q * channels + c];
                }
            }
        }
        out
    }

    /// `(M·f)(y) = f(Mᵀ y)` on the grid for an orthogonal `m` and one example `x` of `C`
    /// channels (projected onto degrees `≤ L` first).
    pub fn transform(&self, m: &Matrix3, x: &[f64], channels: usize) -> Vec<f64> {
        let a = self.analyse(x, channels);
        let inv = m.transpose();
        let at: Vec<[f64; 3]> = self.points.iter().map(|y| inv.apply(*y)).collect();
        self.synthesise(&a, channels, &at)
    }
}

/// The one-line complaint about a shape that is not `[L+1, 2L+1, C]`.
pub(crate) fn shape_error(shape: &[usize]) -> String {
    format!("a sphere signal has shape [L+1, 2L+1, C] (L ≥ 0), got {shape:?}")
}
