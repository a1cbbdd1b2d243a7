//! Kernels meet representations: the spectrum of a G-invariant Gram matrix, irrep by irrep.

use faer::{Mat, Side};
use num_complex::Complex64 as C64;

use super::decompose::decompose;
use super::representation::adjoint;
use super::{Irrep, Rep};
use crate::error::{Error, Result};
use crate::group::FiniteGroup;

/// The part of a G-invariant matrix's spectrum that lives on one irrep.
#[derive(Clone, Debug, PartialEq)]
pub struct IrrepSpectrum {
    /// Irrep name.
    pub irrep: String,
    /// Irrep dimension `d`: each eigenvalue below occurs `d` times in the full spectrum.
    pub dim: usize,
    /// Multiplicity `m` of the irrep in the representation.
    pub multiplicity: usize,
    /// The `m` eigenvalues of the irrep's block, ascending.
    pub eigenvalues: Vec<f64>,
}

/// Block-diagonalise a symmetric `K` (`d×d`) with `ρ(g) K ρ(g)ᵀ = K` for all `g` into isotypic
/// blocks and return each block's spectrum.
///
/// With the decomposition `ρ = Q (⊕ ψ) Qᴴ` ([`decompose`]), Schur's lemma makes `QᴴKQ`
/// block-diagonal with, for each irrep `ψ` of multiplicity `m`, a block `B_ψ ⊗ I_d`
/// where `(B_ψ)_ab = w_{a,1}ᴴ K w_{b,1}` (`m×m`, Hermitian). The spectrum of `K` is the union of
/// the spectra of the `B_ψ`, each eigenvalue repeated `d_ψ` times. Typical use: `K` the NTK Gram
/// matrix of a fully augmented training set, `ρ` the permutation of the training points.
///
/// Errors if `K` has the wrong size, is not symmetric, or is not invariant (to `1e-8` relative).
pub fn isotypic_spectrum(
    group: &dyn FiniteGroup,
    rep: &Rep,
    irreps: &[Irrep],
    k: &Mat<f64>,
) -> Result<Vec<IrrepSpectrum>> {
    let d = rep.dim();
    if k.nrows() != d || k.ncols() != d {
        return Err(Error::Shape(format!(
            "the Gram matrix is {}×{}, but {} has dimension {d}",
            k.nrows(),
            k.ncols(),
            rep.name()
        )));
    }
    let scale = (0..d)
        .flat_map(|j| (0..d).map(move |i| (i, j)))
        .fold(0.0_f64, |m, (i, j)| m.max(k[(i, j)].abs()))
        .max(1e-300);
    let kc = Mat::from_fn(d, d, |i, j| C64::new(k[(i, j)], 0.0));
    for i in 0..d {
        for j in 0..i {
            if (k[(i, j)] - k[(j, i)]).abs() > 1e-10 * scale {
                return Err(Error::Numeric(format!(
                    "the Gram matrix is not symmetric at ({i}, {j})"
                )));
            }
        }
    }
    for g in 0..rep.order() {
        let r = rep.matrix(g)?;
        let moved = &r * &kc * adjoint(&r);
        let err = super::representation::max_abs_diff(&moved, &kc);
        if err > 1e-8 * scale {
            return Err(Error::Numeric(format!(
                "the Gram matrix is not invariant under {}: ‖ρ(g)Kρ(g)ᵀ − K‖_max = {err:.2e} at \
                 g = {}",
                rep.name(),
                group.element_name(g)
            )));
        }
    }
    let dec = decompose(group, rep, irreps)?;
    let mut out = Vec::new();
    let mut col = 0;
    for (ir, &m) in dec.irreps.iter().zip(&dec.multiplicities) {
        let dim = ir.dim();
        if m == 0 {
            continue;
        }
        // First basis vector of each copy.
        let w = Mat::from_fn(d, m, |r, a| dec.basis[(r, col + a * dim)]);
        let b = adjoint(&w) * &kc * &w;
        let b = Mat::from_fn(m, m, |i, j| (b[(i, j)] + b[(j, i)].conj()) * 0.5);
        let ev = b
            .self_adjoint_eigenvalues(Side::Lower)
            .map_err(|_| Error::Numeric("eigendecomposition of an isotypic block failed".into()))?;
        out.push(IrrepSpectrum {
            irrep: ir.name.clone(),
            dim,
            multiplicity: m,
            eigenvalues: ev,
        });
        col += m * dim;
    }
    Ok(out)
}
