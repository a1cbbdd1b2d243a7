//! The group Fourier transform on a finite group and its inverse.
//!
//! For a complete set of unitary irreps `ψ` (dimensions `d_ψ`, `Σ d_ψ² = |G|`):
//!
//! * forward: `f̂(ψ) = Σ_g f(g) ψ(g)` (`d_ψ×d_ψ`),
//! * inverse: `f(g) = (1/|G|) Σ_ψ d_ψ tr(ψ(g)ᴴ f̂(ψ))`,
//! * Plancherel: `Σ_g |f(g)|² = (1/|G|) Σ_ψ d_ψ ‖f̂(ψ)‖_F²`, i.e. the matrix
//!   `F[(ψ,i,j), g] = √(d_ψ/|G|) ψ_ij(g)` of [`fourier_matrix`] is unitary,
//! * convolution: with `(f ∗ h)(x) = Σ_g f(g) h(g⁻¹x)`, `(f ∗ h)^(ψ) = f̂(ψ) ĥ(ψ)`.

use faer::Mat;
use num_complex::Complex64 as C64;

use super::Irrep;
use crate::error::{Error, Result};
use crate::group::FiniteGroup;

fn check(group: &dyn FiniteGroup, irreps: &[Irrep]) -> Result<()> {
    let n = group.order();
    let total: usize = irreps.iter().map(|ir| ir.dim() * ir.dim()).sum();
    if total != n || irreps.iter().any(|ir| ir.rep.order() != n) {
        return Err(Error::Group(format!(
            "the Fourier transform of {} needs a complete set of its irreps (Σ d² = {n}, got {total})",
            group.name()
        )));
    }
    Ok(())
}

/// `f̂(ψ) = Σ_g f(g) ψ(g)` for every irrep; `f` has length `|G|`.
pub fn fourier(group: &dyn FiniteGroup, irreps: &[Irrep], f: &[C64]) -> Result<Vec<Mat<C64>>> {
    check(group, irreps)?;
    if f.len() != group.order() {
        return Err(Error::Shape(format!(
            "a function on {} has {} values, got {}",
            group.name(),
            group.order(),
            f.len()
        )));
    }
    Ok(irreps.iter().map(|ir| ir.rep.weighted_sum(f)).collect())
}

/// `f(g) = (1/|G|) Σ_ψ d_ψ tr(ψ(g)ᴴ f̂(ψ))`.
pub fn inverse_fourier(
    group: &dyn FiniteGroup,
    irreps: &[Irrep],
    fhat: &[Mat<C64>],
) -> Result<Vec<C64>> {
    check(group, irreps)?;
    if fhat.len() != irreps.len()
        || fhat
            .iter()
            .zip(irreps)
            .any(|(m, ir)| m.nrows() != ir.dim() || m.ncols() != ir.dim())
    {
        return Err(Error::Shape(
            "inverse Fourier transform: one d_ψ×d_ψ coefficient per irrep is needed".into(),
        ));
    }
    let n = group.order();
    let mats: Vec<Vec<Mat<C64>>> = irreps
        .iter()
        .map(|ir| (0..n).map(|g| ir.rep.matrix(g)).collect::<Result<_>>())
        .collect::<Result<_>>()?;
    Ok((0..n)
        .map(|g| {
            let mut s = C64::new(0.0, 0.0);
            for ((ir, fh), m) in irreps.iter().zip(fhat).zip(&mats) {
                let d = ir.dim();
                // tr(ψ(g)ᴴ F) = Σ_ij conj ψ_ij(g) F_ij
                let mut t = C64::new(0.0, 0.0);
                for i in 0..d {
                    for j in 0..d {
                        t += m[g][(i, j)].conj() * fh[(i, j)];
                    }
                }
                s += t * d as f64;
            }
            s / n as f64
        })
        .collect())
}

/// The unitary `|G|×|G|` matrix `F[(ψ,i,j), g] = √(d_ψ/|G|) ψ_ij(g)`; rows ordered by irrep,
/// then `i`, then `j`. `F f` lists the normalised Fourier coefficients.
pub fn fourier_matrix(group: &dyn FiniteGroup, irreps: &[Irrep]) -> Result<Mat<C64>> {
    check(group, irreps)?;
    let n = group.order();
    let mut out = Mat::zeros(n, n);
    let mut row = 0;
    for ir in irreps {
        let d = ir.dim();
        let s = (d as f64 / n as f64).sqrt();
        for g in 0..n {
            let m = ir.rep.matrix(g)?;
            for i in 0..d {
                for j in 0..d {
                    out[(row + i * d + j, g)] = m[(i, j)] * s;
                }
            }
        }
        row += d * d;
    }
    Ok(out)
}

/// The convolution `(f ∗ h)(x) = Σ_g f(g) h(g⁻¹ x)` on a finite group.
pub fn convolve(group: &dyn FiniteGroup, f: &[C64], h: &[C64]) -> Result<Vec<C64>> {
    let n = group.order();
    if f.len() != n || h.len() != n {
        return Err(Error::Shape(format!(
            "convolution on {}: both functions need {n} values",
            group.name()
        )));
    }
    Ok((0..n)
        .map(|x| (0..n).map(|g| f[g] * h[group.mul(group.inv(g), x)]).sum())
        .collect())
}
