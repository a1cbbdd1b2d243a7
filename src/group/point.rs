//! The point groups `C4 ⊂ D4` acting linearly on integer offsets of the square lattice.

use super::{Cyclic, Dihedral, FiniteGroup};

/// `C4` or `D4` as the linear part of a roto-translation group, acting on offsets `(di, dj)`
/// (row, column) by `r·(di, dj) = (−dj, di)` and `s·(di, dj) = (dj, di)`.
///
/// Element indices are those of [`Cyclic`]`(4)` and [`Dihedral`]`(4)`: `k < 4` is `r^k`, `4 + k`
/// is `r^k s` (apply `s` first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointGroup {
    /// The rotations by multiples of 90°.
    C4,
    /// Rotations and the transpose.
    D4,
}

impl PointGroup {
    /// The point group as a finite group (`Cyclic(4)` or `Dihedral(4)`).
    pub fn group(&self) -> Box<dyn FiniteGroup> {
        match self {
            PointGroup::C4 => Box::new(Cyclic::new(4).expect("4 ≥ 1")),
            PointGroup::D4 => Box::new(Dihedral::new(4).expect("4 ≥ 1")),
        }
    }
    /// `|G|`: 4 or 8.
    pub fn order(&self) -> usize {
        match self {
            PointGroup::C4 => 4,
            PointGroup::D4 => 8,
        }
    }
    /// The product `a·b` in the point group (indices as in `Cyclic(4)` / `Dihedral(4)`).
    pub fn mul(&self, a: usize, b: usize) -> usize {
        match self {
            PointGroup::C4 => (a + b) % 4,
            PointGroup::D4 => Dihedral::new(4).expect("4 ≥ 1").mul(a, b),
        }
    }
    /// The inverse in the point group.
    pub fn inv(&self, a: usize) -> usize {
        match self {
            PointGroup::C4 => (4 - a % 4) % 4,
            PointGroup::D4 => Dihedral::new(4).expect("4 ≥ 1").inv(a),
        }
    }
    /// `A_g (di, dj)`: `r^k s^f` applied to an offset, `s` first.
    pub fn act_offset(&self, g: usize, (di, dj): (i64, i64)) -> (i64, i64) {
        let (k, f) = (g % 4, g >= 4);
        let (mut a, mut b) = if f { (dj, di) } else { (di, dj) };
        for _ in 0..k {
            (a, b) = (-b, a);
        }
        (a, b)
    }
    /// The 2×2 integer matrix of `A_g`, row-major `[[a, b], [c, d]]`.
    pub fn matrix(&self, g: usize) -> [[i64; 2]; 2] {
        let (a, c) = self.act_offset(g, (1, 0));
        let (b, d) = self.act_offset(g, (0, 1));
        [[a, b], [c, d]]
    }
}
