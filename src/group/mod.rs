//! Groups: the finite groups C_n, D_n, p4, p4m, the circle group SO(2), and the 3-D rotation
//! groups SO(3), O(3) and their finite subgroups O, Oh, I.
//!
//! # Conventions (binding for the whole crate)
//!
//! * A finite group's elements are the indices `0..order`; **element 0 is the identity**.
//!   [`FiniteGroup`] is the one small trait every finite group implements; products, inverses,
//!   conjugacy classes and axiom checks are defined through it.
//! * [`Cyclic`]`(n)`: element `k` is `r^k`, with `r` the rotation by `+2π/n` (counter-clockwise).
//! * [`Dihedral`]`(n)` has order `2n`: element `k < n` is `r^k`, element `n + k` is `r^k s`,
//!   with `s` a reflection and `s r s = r⁻¹`, so `r^a s · r^b s = r^{a−b}` and
//!   `r^a · r^b s = r^{a+b} s`. `D1 ≅ Z2`, `D2` is the Klein four-group.
//! * [`So2`]: an element is an angle `θ ∈ [0, 2π)`, the rotation by `θ` counter-clockwise; the
//!   product adds angles mod 2π. Haar averages are computed exactly (for band-limited
//!   integrands) on the subgroup `C_N` of `N` equally spaced angles ([`So2::quadrature`]).
//! * [`RotoTranslation`] (`p4 = C4 ⋉ Z_H²`, `p4m = D4 ⋉ Z_H²`): element `(t, g)` with
//!   `t = (ti, tj) ∈ Z_H²` and `g` in the point group has index `g·H² + ti·H + tj` (point-group
//!   index major, translation minor); it acts on the sites of the `H×H` torus by
//!   `p ↦ t + A_g p (mod H)`, so `(t₁, g₁)(t₂, g₂) = (t₁ + A_{g₁} t₂, g₁ g₂)`.
//! * The linear part [`PointGroup`] of `C4`/`D4` on integer offsets `(di, dj)` (row, column):
//!   `r·(di, dj) = (−dj, di)` and `s·(di, dj) = (dj, di)` (the transpose). On the pixels of a
//!   square image about its centre this makes `r` numpy's `np.rot90(x, 1, axes=(0, 1))`.
//!
//! * 3-D: [`Matrix3`] acts on column vectors; [`So3`], [`O3`] (= SO(3) × {±I}) and the
//!   polyhedral groups [`Polyhedral`] (`O`, `Oh`, `I`, built by closure from generators) are in
//!   `rotation3` and `polyhedral`; Euler angles are ZYZ, `R(α, β, γ) = R_z(α) R_y(β) R_z(γ)`,
//!   and Haar integrals on SO(3) use [`So3Quadrature`].
//!
//! Element names are ASCII (`e`, `r`, `r^2`, `s`, `rs`, `r^2s`, `t(1,0)r^3s`) and have a LaTeX
//! form ([`FiniteGroup::element_latex`]); conjugacy classes are named after their
//! representative, the smallest index in the class.

mod cyclic;
mod dihedral;
pub(crate) mod gauss_legendre;
mod point;
mod polyhedral;
mod rotation3;
mod roto_translation;
mod so2;
mod so3_quadrature;
mod spec;

pub use cyclic::Cyclic;
pub use dihedral::Dihedral;
pub use gauss_legendre::gauss_legendre;
pub use point::PointGroup;
pub use polyhedral::{Polyhedral, PolyhedralKind};
pub use rotation3::{Matrix3, So3, O3};
pub use roto_translation::RotoTranslation;
pub use so2::So2;
pub use so3_quadrature::{AdaptiveIntegral, So3Quadrature};
pub use spec::{GroupName, GroupSpec, Rotation3Group};

use crate::error::{Error, Result};

/// One conjugacy class `{h g h⁻¹ : h ∈ G}` of a finite group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConjugacyClass {
    /// The smallest element index in the class.
    pub representative: usize,
    /// All elements of the class, ascending.
    pub elements: Vec<usize>,
}

impl ConjugacyClass {
    /// Number of elements in the class.
    pub fn size(&self) -> usize {
        self.elements.len()
    }
}

/// A finite group whose elements are the indices `0..order()`, with `0` the identity.
///
/// Implementors give the order, the product, the inverse and names; everything else is provided.
pub trait FiniteGroup: Send + Sync + std::fmt::Debug {
    /// `|G|`.
    fn order(&self) -> usize;
    /// The product `a·b` (apply `b` first, then `a`, when acting).
    fn mul(&self, a: usize, b: usize) -> usize;
    /// The inverse `a⁻¹`.
    fn inv(&self, a: usize) -> usize;
    /// The group's name, e.g. `D4`, `p4m:3`.
    fn name(&self) -> String;
    /// The name of element `a` in ASCII (`e`, `r^2s`, …).
    fn element_name(&self, a: usize) -> String;

    /// The identity, always `0`.
    fn identity(&self) -> usize {
        0
    }
    /// The group's name in LaTeX (defaults to [`FiniteGroup::name`]).
    fn latex_name(&self) -> String {
        self.name()
    }
    /// The name of element `a` in LaTeX (defaults to [`FiniteGroup::element_name`]).
    fn element_latex(&self, a: usize) -> String {
        self.element_name(a)
    }
    /// All elements, `0..order()`.
    fn elements(&self) -> std::ops::Range<usize> {
        0..self.order()
    }
    /// The conjugate `h a h⁻¹`.
    fn conjugate(&self, h: usize, a: usize) -> usize {
        self.mul(self.mul(h, a), self.inv(h))
    }
    /// The element power `a^k` (`k ≥ 0`).
    fn pow(&self, a: usize, k: usize) -> usize {
        (0..k).fold(self.identity(), |acc, _| self.mul(acc, a))
    }
    /// The order of element `a`: the least `k ≥ 1` with `a^k = e`.
    fn element_order(&self, a: usize) -> usize {
        let mut x = a;
        let mut k = 1;
        while x != self.identity() {
            x = self.mul(x, a);
            k += 1;
        }
        k
    }
    /// The conjugacy classes, ordered by representative (so the class of `e` comes first).
    ///
    /// Brute force, `O(|G|²)` products.
    fn conjugacy_classes(&self) -> Vec<ConjugacyClass> {
        let n = self.order();
        let mut seen = vec![false; n];
        let mut classes = Vec::new();
        for a in 0..n {
            if seen[a] {
                continue;
            }
            let mut elements: Vec<usize> = (0..n).map(|h| self.conjugate(h, a)).collect();
            elements.sort_unstable();
            elements.dedup();
            for &x in &elements {
                seen[x] = true;
            }
            classes.push(ConjugacyClass {
                representative: a,
                elements,
            });
        }
        classes
    }
    /// `class_index()[g]` is the index of the class of `g` in [`FiniteGroup::conjugacy_classes`].
    fn class_index(&self) -> Vec<usize> {
        let mut idx = vec![0; self.order()];
        for (c, class) in self.conjugacy_classes().iter().enumerate() {
            for &g in &class.elements {
                idx[g] = c;
            }
        }
        idx
    }
    /// True when `ab = ba` for all `a, b`.
    fn is_abelian(&self) -> bool {
        let n = self.order();
        (0..n).all(|a| (0..n).all(|b| self.mul(a, b) == self.mul(b, a)))
    }
    /// The Cayley table, `table[a·|G| + b] = a·b`.
    fn cayley_table(&self) -> Vec<usize> {
        let n = self.order();
        (0..n * n).map(|ab| self.mul(ab / n, ab % n)).collect()
    }
    /// Check the group axioms exhaustively: closure (products and inverses in `0..|G|`),
    /// associativity `(ab)c = a(bc)`, identity `ea = ae = a`, inverses `a a⁻¹ = a⁻¹ a = e`.
    ///
    /// `O(|G|³)` products; returns the first violation as an [`Error::Group`].
    fn check_axioms(&self) -> Result<()> {
        let n = self.order();
        let e = self.identity();
        let fail = |what: String| Err(Error::Group(format!("{}: {what}", self.name())));
        if n == 0 || e != 0 {
            return fail("the identity must be element 0 of a non-empty group".into());
        }
        let t = self.cayley_table();
        if let Some(p) = t.iter().position(|&x| x >= n) {
            return fail(format!("product {}·{} leaves the group", p / n, p % n));
        }
        for a in 0..n {
            if t[e * n + a] != a || t[a * n + e] != a {
                return fail(format!("e is not an identity for element {a}"));
            }
            let ai = self.inv(a);
            if ai >= n || t[a * n + ai] != e || t[ai * n + a] != e {
                return fail(format!("inv({a}) is not an inverse"));
            }
            for b in 0..n {
                let ab = t[a * n + b];
                for c in 0..n {
                    if t[ab * n + c] != t[a * n + t[b * n + c]] {
                        return fail(format!("(ab)c ≠ a(bc) for a={a}, b={b}, c={c}"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Superscript helper shared by the element names: `r`, `r^k` (ASCII) or `r^{k}` (LaTeX).
pub(crate) fn power_name(base: &str, k: usize, latex: bool) -> String {
    match (k, latex) {
        (0, _) => String::new(),
        (1, _) => base.to_string(),
        (_, false) => format!("{base}^{k}"),
        (_, true) => format!("{base}^{{{k}}}"),
    }
}
