//! Irreps, character tables and restrictions `SO(3) → O, I` (and `O(3) → Oh`) of the
//! polyhedral groups.
//!
//! # Irreps and their names
//!
//! The irreps are computed, not typed in: [`super::numerical_irreps`] splits the regular
//! representation of the group built by closure. They are then named in Mulliken's scheme from
//! their characters alone:
//!
//! * the letter is the dimension: `A` (1), `E` (2), `T` (3), `G` (4), `H` (5);
//! * when the rotation group has several irreps of one dimension (`A1, A2` and `T1, T2` of O;
//!   `T1, T2` of I) they are numbered in the order of the lowest degree `l` whose `D^l`, restricted
//!   to the rotations, contains them (`A1` ⊂ D^0, `A2` ⊂ D^3; `T1` ⊂ D^1; `T2` ⊂ D^2 for O and
//!   ⊂ D^3 for I), so `T1` is always the vector representation;
//! * in Oh the suffix `g`/`u` is the sign of `χ(−I)/dim`.
//!
//! Order: `g` before `u`, then by dimension, then by number: `A1 A2 E T1 T2` (O),
//! `A T1 T2 G H` (I), `A1g A2g Eg T1g T2g A1u A2u Eu T1u T2u` (Oh).
//!
//! # Restriction
//!
//! The multiplicity of an irrep `ψ` of `G ⊂ O(3)` in `D^l` (with parity `p` on `−I`) is
//! `m_ψ = (1/|G|) Σ_g χ_{D^l}(g) conj χ_ψ(g)`, computed from the matrices `D^l(g)` through the
//! generic [`super::multiplicities`].

use super::character_table::CharacterTable;
use super::so3::So3RepSpec;
use super::{multiplicities, numerical_irreps, Irrep, Rep};
use crate::error::{Error, Result};
use crate::group::{FiniteGroup, Polyhedral};

/// The representation `ρ(g) = spec.matrix(M_g)` of a polyhedral group.
pub fn polyhedral_rep(group: &Polyhedral, spec: So3RepSpec) -> Result<Rep> {
    let mats = group
        .matrices()
        .iter()
        .map(|m| spec.matrix(m))
        .collect::<Result<Vec<_>>>()?;
    let name = match spec {
        So3RepSpec::Points(p) => format!("points:{p}"),
        So3RepSpec::Sphere(l) => format!("sphere:{l}"),
        So3RepSpec::Wigner(l) => format!("wigner:{l}"),
        So3RepSpec::Tensor(a, b) => format!("tensor:{a},{b}"),
    };
    Rep::from_real_matrices(name, &mats)
}

/// The rotations (det = +1) among the elements.
fn proper_elements(group: &Polyhedral) -> Vec<usize> {
    (0..group.order())
        .filter(|&g| group.matrix(g).det() > 0.0)
        .collect()
}

/// The lowest `l ≤ 12` with `⟨χ_{D^l}, χ_ψ⟩ > 0` over the rotations of the group.
fn lowest_degree(group: &Polyhedral, proper: &[usize], ir: &Irrep) -> Result<usize> {
    for l in 0..=12 {
        let spec = So3RepSpec::Wigner(l);
        let m: f64 = proper
            .iter()
            .map(|&g| spec.character(group.matrix(g)) * ir.character(g).re)
            .sum::<f64>()
            / proper.len() as f64;
        if m > 0.5 {
            return Ok(l);
        }
    }
    Err(Error::Numeric(format!(
        "{}: an irrep occurs in no D^l with l ≤ 12",
        group.name()
    )))
}

/// The irreps of `O`, `Oh` or `I`, named and ordered as in the module docs.
pub fn polyhedral_irreps(group: &Polyhedral) -> Result<Vec<Irrep>> {
    let found = numerical_irreps(group)?;
    let proper = proper_elements(group);
    let inversion = group.find(&crate::group::Matrix3::scalar(-1.0), 1e-12);
    // (parity, dim, lowest l, irrep)
    let mut keyed = Vec::new();
    for ir in found {
        let parity = match inversion {
            Some(g) => {
                if ir.character(g).re > 0.0 {
                    1
                } else {
                    -1
                }
            }
            None => 0,
        };
        let l = lowest_degree(group, &proper, &ir)?;
        keyed.push((parity, ir.dim(), l, ir));
    }
    keyed.sort_by_key(|(p, d, l, _)| (-*p, *d, *l));
    let mut out = Vec::new();
    for i in 0..keyed.len() {
        let (p, d, _, ref ir) = keyed[i];
        let letter = match d {
            1 => "A",
            2 => "E",
            3 => "T",
            4 => "G",
            5 => "H",
            _ => {
                return Err(Error::Numeric(format!(
                    "{}: an irrep of dimension {d}",
                    group.name()
                )))
            }
        };
        let same: Vec<usize> = (0..keyed.len())
            .filter(|&j| keyed[j].0 == p && keyed[j].1 == d)
            .collect();
        let number = if same.len() > 1 {
            Some(
                same.iter()
                    .position(|&j| j == i)
                    .expect("i is in its own group")
                    + 1,
            )
        } else {
            None
        };
        let suffix = match p {
            1 => "g",
            -1 => "u",
            _ => "",
        };
        let name = format!(
            "{letter}{}{suffix}",
            number.map_or(String::new(), |k| k.to_string())
        );
        let latex = match (number, suffix) {
            (None, "") => letter.to_string(),
            (None, s) => format!("{letter}_{{{s}}}"),
            (Some(k), s) => format!("{letter}_{{{k}{s}}}"),
        };
        let mut ir = ir.clone();
        ir.rep = ir.rep.with_name(name.clone());
        ir.name = name;
        ir.latex = latex;
        out.push(ir);
    }
    Ok(out)
}

/// The character table of a polyhedral group, columns named by their Schoenflies labels
/// (`E`, `C3`, `C2`, `C4`, `C2'` for O).
pub fn polyhedral_character_table(group: &Polyhedral, irreps: &[Irrep]) -> CharacterTable {
    let mut t = CharacterTable::new(group, irreps);
    for c in &mut t.classes {
        let (s, l) = group.class_label(c.representative);
        c.name = s.to_string();
        c.latex = l.to_string();
    }
    t
}

/// The multiplicities `m_ψ = (1/|G|) Σ_g χ(g) conj χ_ψ(g)` of `irreps` in the representation
/// `spec`, from its characters alone (no matrices, so large `sphere:L` or `tensor:a,b` stay
/// cheap). Errors if a multiplicity is not a non-negative integer or they do not add up to the
/// dimension.
pub fn character_multiplicities(
    group: &Polyhedral,
    irreps: &[Irrep],
    spec: So3RepSpec,
) -> Result<Vec<usize>> {
    let n = group.order() as f64;
    let chi: Vec<f64> = group.matrices().iter().map(|m| spec.character(m)).collect();
    let mut out = Vec::with_capacity(irreps.len());
    for ir in irreps {
        let m: f64 = chi
            .iter()
            .enumerate()
            .map(|(g, c)| c * ir.character(g).re)
            .sum::<f64>()
            / n;
        if (m - m.round()).abs() > 1e-6 || m < -1e-6 {
            return Err(Error::Numeric(format!(
                "multiplicity of {} in {spec:?} is {m:.6}, not a non-negative integer",
                ir.name
            )));
        }
        out.push(m.round() as usize);
    }
    let total: usize = out.iter().zip(irreps).map(|(m, ir)| m * ir.dim()).sum();
    if total != spec.dim() {
        return Err(Error::Group(format!(
            "the irreps of {} account for dimension {total} of {}",
            group.name(),
            spec.dim()
        )));
    }
    Ok(out)
}

/// The multiplicities of `irreps` (of the group) in `D^l` with parity `(−1)^l` on `−I`
/// (`So3RepSpec::Wigner(l)`), or any other [`So3RepSpec`].
pub fn restriction_multiplicities(
    group: &Polyhedral,
    irreps: &[Irrep],
    spec: So3RepSpec,
) -> Result<Vec<usize>> {
    let rep = polyhedral_rep(group, spec)?;
    multiplicities(group, &rep, irreps)
}

impl super::Irreps for Polyhedral {
    fn irreps(&self) -> Result<Vec<Irrep>> {
        polyhedral_irreps(self)
    }
}
