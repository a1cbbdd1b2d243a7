//! Decomposition of a representation into irreps: multiplicities, isotypic projectors and an
//! explicit unitary (orthogonal, when everything is real) change of basis.

use faer::{Mat, Side};
use num_complex::Complex64 as C64;

use super::representation::{adjoint, max_abs_diff};
use super::{cyclic_irreps, cyclic_real_irreps, Irrep, Rep};
use crate::error::{Error, Result};
use crate::group::{Cyclic, FiniteGroup};

/// `ρ = Q (⊕_blocks ψ_b) Qᴴ`: the irreps with their multiplicities and the change of basis.
///
/// Columns of `basis` (`Q`, `d×d`, unitary) come in blocks: for each irrep `ψ` (in the order
/// of `irreps`) with multiplicity `m > 0`, `m` consecutive blocks of `d_ψ` columns; the block of
/// copy `a` spans one irreducible subspace on which `ρ(g) W_a = W_a ψ(g)` exactly (the same
/// matrices `ψ(g)` for every copy, as in escnn).
#[derive(Clone, Debug)]
pub struct Decomposition {
    /// The irreps the decomposition is expressed in.
    pub irreps: Vec<Irrep>,
    /// `multiplicities[i]` is the number of copies of `irreps[i]`.
    pub multiplicities: Vec<usize>,
    /// The change of basis `Q`.
    pub basis: Mat<C64>,
}

impl Decomposition {
    /// The irrep index of every block, in column order.
    pub fn blocks(&self) -> Vec<usize> {
        self.multiplicities
            .iter()
            .enumerate()
            .flat_map(|(i, &m)| std::iter::repeat_n(i, m))
            .collect()
    }

    /// The block-diagonal `⊕_b ψ_b(g)` (`d×d`).
    pub fn block_diagonal(&self, g: usize) -> Mat<C64> {
        let d = self.basis.nrows();
        let mut out = Mat::zeros(d, d);
        let mut off = 0;
        for i in self.blocks() {
            let m = self.irreps[i].rep.matrix(g).expect("element in range");
            let k = m.nrows();
            for c in 0..k {
                for r in 0..k {
                    out[(off + r, off + c)] = m[(r, c)];
                }
            }
            off += k;
        }
        out
    }

    /// `Q (⊕_b ψ_b(g)) Qᴴ`, which equals `ρ(g)`.
    pub fn rebuild(&self, g: usize) -> Mat<C64> {
        &self.basis * self.block_diagonal(g) * adjoint(&self.basis)
    }

    /// `max_g ‖Q (⊕ ψ(g)) Qᴴ − ρ(g)‖_max` together with `‖QᴴQ − I‖_max`.
    pub fn rebuild_error(&self, rep: &Rep) -> Result<(f64, f64)> {
        let mut err: f64 = 0.0;
        for g in 0..rep.order() {
            err = err.max(max_abs_diff(&self.rebuild(g), &rep.matrix(g)?));
        }
        let d = self.basis.ncols();
        let orth = max_abs_diff(&(adjoint(&self.basis) * &self.basis), &Mat::identity(d, d));
        Ok((err, orth))
    }

    /// `max |Im Q|`: zero when the change of basis is real orthogonal.
    pub fn imaginary_part(&self) -> f64 {
        let q = &self.basis;
        (0..q.ncols())
            .flat_map(|j| (0..q.nrows()).map(move |i| q[(i, j)].im.abs()))
            .fold(0.0, f64::max)
    }
}

/// The multiplicities `m_ψ = (1/|G|) Σ_g χ_ρ(g) conj χ_ψ(g)` of complete, absolutely
/// irreducible `irreps` in `rep`.
///
/// Errors if a multiplicity is not a non-negative integer (to `1e-6`) or if `Σ m_ψ d_ψ ≠ d`
/// (the irreps are not a complete set, or `rep` is not a representation of `group`).
pub fn multiplicities(group: &dyn FiniteGroup, rep: &Rep, irreps: &[Irrep]) -> Result<Vec<usize>> {
    let n = group.order();
    if rep.order() != n {
        return Err(Error::Group(format!(
            "{} is defined on {} elements but {} has order {n}",
            rep.name(),
            rep.order(),
            group.name()
        )));
    }
    let chi = rep.characters();
    let mut out = Vec::with_capacity(irreps.len());
    for ir in irreps {
        if ir.rep.order() != n {
            return Err(Error::Group(format!(
                "irrep {} does not belong to {}",
                ir.name,
                group.name()
            )));
        }
        let m: C64 = (0..n).map(|g| chi[g] * ir.character(g).conj()).sum::<C64>() / n as f64;
        if m.im.abs() > 1e-6 || (m.re - m.re.round()).abs() > 1e-6 || m.re < -1e-6 {
            return Err(Error::Numeric(format!(
                "multiplicity of {} in {} is {m:.6}, not a non-negative integer (is {} an \
                 absolutely irreducible irrep and {} a representation of {}?)",
                ir.name,
                rep.name(),
                ir.name,
                rep.name(),
                group.name()
            )));
        }
        out.push(m.re.round() as usize);
    }
    let total: usize = out.iter().zip(irreps).map(|(m, ir)| m * ir.dim()).sum();
    if total != rep.dim() {
        return Err(Error::Group(format!(
            "the irreps given account for dimension {total} of {} (dimension {}): the irrep set \
             is incomplete",
            rep.name(),
            rep.dim()
        )));
    }
    Ok(out)
}

/// The isotypic projector `P_ψ = (d_ψ/|G|) Σ_g conj χ_ψ(g) ρ(g)` (orthogonal, `d×d`).
pub fn isotypic_projector(group: &dyn FiniteGroup, rep: &Rep, irrep: &Irrep) -> Mat<C64> {
    let n = group.order();
    let f = irrep.dim() as f64 / n as f64;
    let c: Vec<C64> = (0..n).map(|g| irrep.character(g).conj() * f).collect();
    rep.weighted_sum(&c)
}

/// An orthonormal basis (`d×m`) of the range of an orthogonal projector of rank `m`: the
/// eigenvectors of its `m` largest eigenvalues (faer's self-adjoint eigendecomposition, in real
/// arithmetic when the projector is real so that real representations get real bases).
fn range_basis(p: &Mat<C64>, m: usize) -> Result<Mat<C64>> {
    let d = p.nrows();
    let real = (0..d).all(|j| (0..d).all(|i| p[(i, j)].im.abs() < 1e-13));
    let fail = |_| Error::Numeric("eigendecomposition of an isotypic projector failed".into());
    if real {
        let pr = Mat::from_fn(d, d, |i, j| p[(i, j)].re);
        let e = pr.self_adjoint_eigen(Side::Lower).map_err(fail)?;
        let u = e.U();
        Ok(Mat::from_fn(d, m, |i, k| C64::new(u[(i, d - m + k)], 0.0)))
    } else {
        let e = p.self_adjoint_eigen(Side::Lower).map_err(fail)?;
        let u = e.U();
        Ok(Mat::from_fn(d, m, |i, k| u[(i, d - m + k)]))
    }
}

/// Decompose a unitary representation into a complete set of unitary, absolutely irreducible
/// irreps (e.g. from [`super::Irreps::irreps`]).
///
/// Construction: with `P_ij = (d/|G|) Σ_g conj ψ_ij(g) ρ(g)`, take an orthonormal basis
/// `v_1 … v_m` of the range of `P_11`; the vectors `w_{a,i} = P_i1 v_a` are orthonormal and
/// `ρ(g) w_{a,j} = Σ_i ψ_ij(g) w_{a,i}`. Real representations with real irreps (D_n) get a real
/// orthogonal `Q`.
pub fn decompose(group: &dyn FiniteGroup, rep: &Rep, irreps: &[Irrep]) -> Result<Decomposition> {
    let mult = multiplicities(group, rep, irreps)?;
    let n = group.order();
    let d = rep.dim();
    let mut q = Mat::<C64>::zeros(d, d);
    let mut col = 0;
    for (ir, &m) in irreps.iter().zip(&mult) {
        if m == 0 {
            continue;
        }
        let k = ir.dim();
        let f = k as f64 / n as f64;
        let mats: Vec<Mat<C64>> = (0..n).map(|g| ir.rep.matrix(g)).collect::<Result<_>>()?;
        // P_{i1} for i = 0..k (0-based: P_{i0}).
        let p: Vec<Mat<C64>> = (0..k)
            .map(|i| {
                let c: Vec<C64> = mats.iter().map(|mg| mg[(i, 0)].conj() * f).collect();
                rep.weighted_sum(&c)
            })
            .collect();
        let v = range_basis(&p[0], m)?;
        for a in 0..m {
            let va = v.col(a);
            for pi in &p {
                let w = pi * va;
                for r in 0..d {
                    q[(r, col)] = w[r];
                }
                col += 1;
            }
        }
    }
    Ok(Decomposition {
        irreps: irreps.to_vec(),
        multiplicities: mult,
        basis: q,
    })
}

/// Decompose a real representation of `C_n` into its real irreps `trivial`, `sign`, `rot_k`
/// (see [`cyclic_real_irreps`]) with a real orthogonal change of basis.
///
/// From the complex decomposition: a unit vector `w` of a `chi_k` block gives the orthonormal
/// pair `(√2 Re w, −√2 Im w)` on which `r^a` acts as `R(2πka/n)`.
pub fn decompose_real_cyclic(c: &Cyclic, rep: &Rep) -> Result<Decomposition> {
    if !rep.is_real(1e-12) {
        return Err(Error::Group(format!(
            "{} is not a real representation",
            rep.name()
        )));
    }
    let complex = decompose(c, rep, &cyclic_irreps(c))?;
    let real_irreps = cyclic_real_irreps(c);
    let d = rep.dim();
    // Start column of every chi_k block.
    let start: Vec<usize> = complex
        .multiplicities
        .iter()
        .scan(0, |off, &m| {
            let s = *off;
            *off += m;
            Some(s)
        })
        .collect();
    let mut q = Mat::<C64>::zeros(d, d);
    let mut mult = Vec::new();
    let mut col = 0;
    let s2 = std::f64::consts::SQRT_2;
    for ir in &real_irreps {
        let k = ir.frequency.expect("real cyclic irreps have a frequency") as usize;
        let m = complex.multiplicities[k];
        mult.push(m);
        for a in 0..m {
            let src = start[k] + a;
            if ir.dim() == 1 {
                for r in 0..d {
                    q[(r, col)] = C64::new(complex.basis[(r, src)].re, 0.0);
                }
                col += 1;
            } else {
                for r in 0..d {
                    let w = complex.basis[(r, src)];
                    q[(r, col)] = C64::new(s2 * w.re, 0.0);
                    q[(r, col + 1)] = C64::new(-s2 * w.im, 0.0);
                }
                col += 2;
            }
        }
    }
    if col != d {
        return Err(Error::Numeric(format!(
            "{}: real decomposition covers {col} of {d} dimensions",
            rep.name()
        )));
    }
    Ok(Decomposition {
        irreps: real_irreps,
        multiplicities: mult,
        basis: q,
    })
}
