//! Irreps of any finite group, computed numerically from its regular representation.

use faer::{Mat, Side};
use num_complex::Complex64 as C64;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::{Irrep, Rep};
use crate::error::{Error, Result};
use crate::group::{Cyclic, Dihedral, FiniteGroup, PointGroup, RotoTranslation};

/// The largest group order for which p4/p4m irreps are computed numerically.
pub(crate) const MAX_NUMERICAL_ORDER: usize = 512;

/// Irreps of any finite group, found by splitting its regular representation.
///
/// Method: a random Hermitian operator in the commutant of the left regular representation,
/// `A[x, y] = f(x⁻¹ y)` with `f(h⁻¹) = conj f(h)`, has (with probability one) one eigenvalue per
/// irreducible subspace; each eigenspace `B` (`|G|×d`, orthonormal) carries the unitary irrep
/// `ψ(g) = Bᴴ ρ_reg(g) B`. Inequivalent irreps are told apart by their characters. The result is
/// checked (`Σ_g |χ(g)|² = |G|` for each, `Σ d² = |G|`); a rare accidental eigenvalue collision
/// is retried with the next seed. Deterministic (seeded). Irreps come sorted: trivial first,
/// then by dimension, then by their characters; they are named `rho_0, rho_1, …`.
///
/// Cost `O(|G|³)`: fine up to a few hundred elements.
pub fn numerical_irreps(group: &dyn FiniteGroup) -> Result<Vec<Irrep>> {
    let mut found = None;
    for seed in 0..6 {
        if let Some(r) = try_split(group, seed) {
            found = Some(r);
            break;
        }
    }
    let mut irreps = found.ok_or_else(|| {
        Error::Numeric(format!(
            "could not split the regular representation of {} into irreps",
            group.name()
        ))
    })?;
    let reps: Vec<usize> = group
        .conjugacy_classes()
        .iter()
        .map(|c| c.representative)
        .collect();
    let key = |ir: &Irrep| -> Vec<i64> {
        // Sort key: dim, then characters on class representatives, larger real parts first.
        let mut k = vec![ir.dim() as i64];
        for &g in &reps {
            let c = ir.character(g);
            k.push(-(c.re * 1e6).round() as i64);
            k.push(-(c.im * 1e6).round() as i64);
        }
        k
    };
    irreps.sort_by_key(|ir| key(ir));
    for (i, ir) in irreps.iter_mut().enumerate() {
        ir.name = format!("rho_{i}");
        ir.latex = format!("\\rho_{{{i}}}");
        ir.rep = ir.rep.clone().with_name(ir.name.clone());
    }
    Ok(irreps)
}

fn try_split(group: &dyn FiniteGroup, seed: u64) -> Option<Vec<Irrep>> {
    let n = group.order();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x1EEE_u64 + seed);
    let mut f = vec![C64::new(0.0, 0.0); n];
    for h in 0..n {
        let hi = group.inv(h);
        if hi < h {
            continue;
        }
        let re: f64 = StandardNormal.sample(&mut rng);
        let im: f64 = StandardNormal.sample(&mut rng);
        if hi == h {
            f[h] = C64::new(re, 0.0);
        } else {
            f[h] = C64::new(re, im);
            f[hi] = f[h].conj();
        }
    }
    let inv: Vec<usize> = (0..n).map(|x| group.inv(x)).collect();
    let a = Mat::from_fn(n, n, |x, y| f[group.mul(inv[x], y)]);
    let eig = a.self_adjoint_eigen(Side::Lower).ok()?;
    let (u, s) = (eig.U(), eig.S().column_vector());
    let lam: Vec<f64> = (0..n).map(|i| s[i].re).collect();
    let scale = lam.iter().fold(1.0_f64, |m, l| m.max(l.abs()));

    // Cluster equal eigenvalues: each cluster should be one irreducible subspace.
    let mut clusters: Vec<Vec<usize>> = vec![vec![0]];
    for i in 1..n {
        if lam[i] - lam[i - 1] < 1e-8 * scale {
            clusters.last_mut().expect("non-empty").push(i);
        } else {
            clusters.push(vec![i]);
        }
    }
    // Left multiplication as index maps: (ρ(g) v)[g x] = v[x].
    let table: Vec<usize> = group.cayley_table();
    let mut chars: Vec<Vec<C64>> = Vec::new();
    let mut bases: Vec<Mat<C64>> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for cl in &clusters {
        let d = cl.len();
        let b = Mat::from_fn(n, d, |x, k| u[(x, cl[k])]);
        let chi: Vec<C64> = (0..n)
            .map(|g| {
                let mut t = C64::new(0.0, 0.0);
                for x in 0..n {
                    let gx = table[g * n + x];
                    for k in 0..d {
                        t += b[(gx, k)].conj() * b[(x, k)];
                    }
                }
                t
            })
            .collect();
        let norm: f64 = chi.iter().map(|c| c.norm_sqr()).sum::<f64>() / n as f64;
        if (norm - 1.0).abs() > 1e-6 {
            return None; // an accidental degeneracy merged two irreducible subspaces
        }
        match chars
            .iter()
            .position(|c| c.iter().zip(&chi).all(|(a, b)| (a - b).norm() < 1e-6))
        {
            Some(i) => counts[i] += 1,
            None => {
                chars.push(chi);
                bases.push(b);
                counts.push(1);
            }
        }
    }
    let total: usize = bases.iter().map(|b| b.ncols().pow(2)).sum();
    if total != n || bases.iter().zip(&counts).any(|(b, &c)| b.ncols() != c) {
        return None;
    }
    let mut out = Vec::new();
    for b in bases {
        let d = b.ncols();
        let mats = (0..n)
            .map(|g| {
                Mat::from_fn(d, d, |i, j| {
                    (0..n)
                        .map(|x| b[(table[g * n + x], i)].conj() * b[(x, j)])
                        .sum()
                })
            })
            .collect();
        out.push(Irrep {
            name: String::new(),
            latex: String::new(),
            frequency: None,
            absolutely_irreducible: true,
            rep: Rep::from_matrices("rho", mats).ok()?,
        });
    }
    Some(out)
}

/// The irreps of p4 / p4m on the `H×H` torus, named by translation momentum.
///
/// Restricted to the translations `Z_H²`, an irrep is a sum of characters `t ↦ e^{2πi k·t/H}`
/// over one orbit of momenta `k ∈ Z_H²` under the point group; `(a, b)` below is the
/// lexicographically smallest momentum of that orbit. When the point group fixes `k` (e.g.
/// `k = (0,0)`), `ψ((t, p)) = e^{2πi k·t/H} σ(p)` for an irrep `σ` of the point group, and `ψ`
/// is named `k(a,b):σ` (`k(0,0):A1` is the trivial irrep of p4m, `k(0,0):chi_1` an irrep of p4;
/// LaTeX `A_{1}^{(0,0)}`). Otherwise it is named `k(a,b)#j` (LaTeX `\rho^{(a,b)}_{j}`), with
/// `j = 0, 1, …` numbering the irreps of that orbit (sorted by dimension, then characters).
/// Order: by momentum, then as sorted by [`numerical_irreps`].
///
/// The numerical splitting costs `O(|G|³)`; groups larger than [`MAX_NUMERICAL_ORDER`] are
/// refused with an error rather than left to run for minutes.
pub(crate) fn roto_translation_irreps(g: &RotoTranslation) -> Result<Vec<Irrep>> {
    if g.order() > MAX_NUMERICAL_ORDER {
        return Err(Error::Group(format!(
            "{} has order {}: irreps are computed numerically up to order {MAX_NUMERICAL_ORDER} \
             (p4 up to H = 11, p4m up to H = 8)",
            g.name(),
            g.order()
        )));
    }
    let h = g.h();
    let mut irreps = numerical_irreps(g)?;
    let momentum = |ir: &Irrep| -> (usize, usize) {
        for a in 0..h {
            for b in 0..h {
                let mut m = C64::new(0.0, 0.0);
                for ti in 0..h {
                    for tj in 0..h {
                        let phase =
                            -2.0 * std::f64::consts::PI * ((a * ti + b * tj) % h) as f64 / h as f64;
                        m += ir.character(g.element((ti, tj), 0)) * C64::from_polar(1.0, phase);
                    }
                }
                if m.norm() / (h * h) as f64 > 0.5 {
                    return (a, b);
                }
            }
        }
        (0, 0)
    };
    // Point-group irreps, to name the irreps whose momentum the point group fixes.
    let point_irreps = match g.point_group() {
        PointGroup::C4 => super::cyclic_irreps(&Cyclic::new(4)?),
        PointGroup::D4 => super::dihedral_irreps(&Dihedral::new(4)?),
    };
    let point = g.point_embedding();
    // σ with ψ((t, p)) = e^{2πi k·t/H} σ(p), when the point group fixes the momentum k.
    let sigma = |(a, b): (usize, usize), ir: &Irrep| -> Option<usize> {
        let fixed = (0..point.len()).all(|p| {
            let (ka, kb) = g.point_group().act_offset(p, (a as i64, b as i64));
            ka.rem_euclid(h as i64) as usize == a && kb.rem_euclid(h as i64) as usize == b
        });
        if !fixed {
            return None;
        }
        point_irreps.iter().position(|pi| {
            (0..point.len()).all(|p| (pi.character(p) - ir.character(point[p])).norm() < 1e-8)
        })
    };
    let mut keyed: Vec<((usize, usize), Option<usize>, Irrep)> = irreps
        .drain(..)
        .map(|ir| {
            let k = momentum(&ir);
            (k, sigma(k, &ir), ir)
        })
        .collect();
    // Stable: irreps of a non-fixed momentum keep the order of numerical_irreps.
    keyed.sort_by_key(|(k, s, _)| (*k, s.unwrap_or(0)));
    let mut out = Vec::new();
    let mut j = 0;
    for i in 0..keyed.len() {
        if i > 0 && keyed[i].0 != keyed[i - 1].0 {
            j = 0;
        }
        let ((a, b), s, mut ir) = (keyed[i].0, keyed[i].1, keyed[i].2.clone());
        (ir.name, ir.latex) = match s {
            Some(s) => (
                format!("k({a},{b}):{}", point_irreps[s].name),
                format!("{}^{{({a},{b})}}", point_irreps[s].latex),
            ),
            None => (
                format!("k({a},{b})#{j}"),
                format!("\\rho^{{({a},{b})}}_{{{j}}}"),
            ),
        };
        ir.rep = ir.rep.with_name(ir.name.clone());
        out.push(ir);
        j += 1;
    }
    Ok(out)
}
