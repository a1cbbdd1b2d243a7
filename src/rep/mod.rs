//! Representations of finite groups, SO(2) and SO(3)/O(3): irreps, characters, character
//! tables, decompositions and the group Fourier transform.
//!
//! # Conventions
//!
//! * A representation [`Rep`] of a finite group `G` stores `ρ(g)` for `g = 0..|G|` (element
//!   indices as in [`crate::group`]). Matrices are complex; real ones have zero imaginary part.
//!   Permutation representations act by `ρ(g) e_s = e_{π_g(s)}`, so `(ρ(g) x)[s] = x[π_g⁻¹(s)]`.
//! * Irreps are unitary and named by frequency (see [`Irrep`]): `chi_k` for `C_n` over ℂ
//!   (real forms `trivial`, `sign`, `rot_k`), `A1 A2 B1 B2 E1 E2 …` for `D_n`, `chi_k`
//!   (`k ∈ ℤ`) and `rot_k` for SO(2), momentum names `k(a,b):σ` / `k(a,b)#j`
//!   for p4/p4m (see `roto_translation_irreps`).
//! * SO(3): the real Wigner matrices `D^l` in the basis of real spherical harmonics
//!   ([`wigner_d`], [`real_spherical_harmonics`]), `Y_l(Rx) = D^l(R) Y_l(x)`; O(3) irreps
//!   `D^l_g`, `D^l_u` and decompositions by characters in `so3`; the irreps of `O`, `Oh`, `I`
//!   and restrictions `SO(3) → O, I` in `polyhedral`.
//! * Characters `χ(g) = tr ρ(g)`; inner product `⟨χ, ψ⟩ = (1/|G|) Σ_g χ(g) conj ψ(g)`.
//! * Multiplicity of an irrep `ψ` in `ρ`: `m_ψ = ⟨χ_ρ, χ_ψ⟩`. Isotypic projector
//!   `P_ψ = (d_ψ/|G|) Σ_g conj χ_ψ(g) ρ(g)`.
//! * Group Fourier transform (see [`fourier`]): `f̂(ψ) = Σ_g f(g) ψ(g)`, inverse
//!   `f(g) = (1/|G|) Σ_ψ d_ψ tr(ψ(g)ᴴ f̂(ψ))`.
//!
//! # Example
//!
//! D4 acting on the pixels of a 3×3 image splits as `3 A1 ⊕ B1 ⊕ B2 ⊕ 2 E1`, and the explicit
//! (here real orthogonal) change of basis rebuilds the representation:
//!
//! ```
//! use eqntk::action::{ImageAction, SiteAction};
//! use eqntk::group::{Dihedral, PointGroup};
//! use eqntk::rep::{decompose, CharacterTable, Irreps, TableFormat};
//!
//! let d4 = Dihedral::new(4)?;
//! let irreps = d4.irreps()?; // A1, A2, B1, B2, E1
//! let pixels = ImageAction::new(PointGroup::D4, 3)?.representation();
//! let dec = decompose(&d4, &pixels, &irreps)?;
//! assert_eq!(dec.multiplicities, vec![3, 0, 1, 1, 2]);
//! let (rebuild_error, _) = dec.rebuild_error(&pixels)?;
//! assert!(rebuild_error < 1e-12 && dec.imaginary_part() < 1e-12);
//!
//! let table = CharacterTable::new(&d4, &irreps).render(TableFormat::Markdown);
//! assert!(table.contains("| E1 | 2 | 2 | 0 | -2 | 0 | 0 |"));
//! # Ok::<(), eqntk::Error>(())
//! ```

mod character_table;
mod decompose;
pub mod fourier;
mod generic;
mod irrep;
pub(crate) mod polyhedral;
mod representation;
pub mod so2;
pub(crate) mod so3;
mod spectrum;
mod spherical_harmonics;
mod value;
mod wigner;

pub use character_table::{CharacterTable, ClassInfo, IrrepInfo, TableFormat};
pub use decompose::{
    decompose, decompose_real_cyclic, isotypic_projector, multiplicities, Decomposition,
};
pub use generic::numerical_irreps;
pub(crate) use irrep::rotation_matrix;
pub use irrep::{cyclic_irreps, cyclic_real_irreps, dihedral_irreps, Irrep, Irreps};
pub use representation::Rep;
pub use spectrum::{isotypic_spectrum, IrrepSpectrum};
pub use spherical_harmonics::real_spherical_harmonics;
pub use wigner::{
    so3_character, so3_character_of_angle, wigner_d, wigner_d_all, wigner_d_euler,
    MAX_WIGNER_DEGREE,
};

use crate::error::Result;
use crate::group::{FiniteGroup, GroupSpec, RotoTranslation};

/// A finite group named by a user, with its complete set of irreps.
#[derive(Debug)]
pub struct GroupWithIrreps {
    /// The group.
    pub group: Box<dyn FiniteGroup>,
    /// Its irreps over ℂ, trivial first.
    pub irreps: Vec<Irrep>,
}

impl GroupWithIrreps {
    /// Build `C<n>`, `D<n>`, `p4:<H>` or `p4m:<H>` (`side` supplies a missing `H`) and its irreps.
    pub fn from_spec(spec: &GroupSpec, side: Option<usize>) -> Result<Self> {
        use crate::group::{Cyclic, Dihedral};
        let group = spec.finite_group(side)?;
        let irreps = match *spec {
            GroupSpec::Cyclic(n) => Cyclic::new(n)?.irreps()?,
            GroupSpec::Dihedral(n) => Dihedral::new(n)?.irreps()?,
            GroupSpec::P4(h) => RotoTranslation::p4(h.or(side).unwrap_or(1))?.irreps()?,
            GroupSpec::P4m(h) => RotoTranslation::p4m(h.or(side).unwrap_or(1))?.irreps()?,
            GroupSpec::So2 { .. } => unreachable!("finite_group rejects SO2"),
        };
        Ok(Self { group, irreps })
    }

    /// `O`, `Oh` or `I` with its irreps named as in `polyhedral`.
    pub fn from_polyhedral(kind: crate::group::PolyhedralKind) -> Result<Self> {
        let g = crate::group::Polyhedral::new(kind)?;
        let irreps = polyhedral::polyhedral_irreps(&g)?;
        Ok(Self {
            group: Box::new(g),
            irreps,
        })
    }

    /// The character table.
    pub fn character_table(&self) -> CharacterTable {
        CharacterTable::new(self.group.as_ref(), &self.irreps)
    }
}
pub use polyhedral::{
    character_multiplicities, polyhedral_character_table, polyhedral_irreps, polyhedral_rep,
    restriction_multiplicities,
};
pub use so3::{so3_multiplicities, tensor_product_multiplicities, So3Irrep, So3RepSpec};
