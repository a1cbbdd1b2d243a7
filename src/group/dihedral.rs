//! The dihedral group `D_n` of order `2n`.

use super::{power_name, Cyclic, FiniteGroup};
use crate::error::{Error, Result};

/// The dihedral group `D_n` of order `2n`: rotations `r^k` (element `k < n`) and reflections
/// `r^k s` (element `n + k`), with `r` the rotation by `+2π/n` and `s r s = r⁻¹`.
///
/// Products: `r^a r^b = r^{a+b}`, `r^a · r^b s = r^{a+b} s`, `r^a s · r^b = r^{a−b} s`,
/// `r^a s · r^b s = r^{a−b}` (exponents mod n). `D1 ≅ Z2`, `D2` is the Klein four-group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dihedral {
    n: usize,
}

impl Dihedral {
    /// `D_n`, `n ≥ 1` (order `2n`).
    pub fn new(n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::Group("D_n needs n ≥ 1, got D0".into()));
        }
        Ok(Self { n })
    }
    /// `n` (the order is `2n`).
    pub fn n(&self) -> usize {
        self.n
    }
    /// Element `r^k s^f` (`f = 0` or `1`) as an index.
    pub fn element(&self, k: usize, reflect: bool) -> usize {
        k % self.n + if reflect { self.n } else { 0 }
    }
    /// Split an element into `(k, reflect)` with `g = r^k s^reflect`.
    pub fn split(&self, g: usize) -> (usize, bool) {
        (g % self.n, g >= self.n)
    }
    /// The rotation subgroup `C_n ⊂ D_n` and its embedding `r^k ↦ r^k`.
    pub fn rotation_subgroup(&self) -> (Cyclic, Vec<usize>) {
        (Cyclic::new(self.n).expect("n ≥ 1"), (0..self.n).collect())
    }
}

impl FiniteGroup for Dihedral {
    fn order(&self) -> usize {
        2 * self.n
    }
    fn mul(&self, a: usize, b: usize) -> usize {
        let n = self.n;
        let (ka, fa) = self.split(a);
        let (kb, fb) = self.split(b);
        // r^ka s^fa r^kb s^fb = r^(ka ± kb) s^(fa+fb), with − when s passes r^kb.
        let k = if fa { (ka + n - kb) % n } else { (ka + kb) % n };
        self.element(k, fa ^ fb)
    }
    fn inv(&self, a: usize) -> usize {
        let (k, f) = self.split(a);
        if f {
            a // every reflection is an involution
        } else {
            (self.n - k) % self.n
        }
    }
    fn name(&self) -> String {
        format!("D{}", self.n)
    }
    fn latex_name(&self) -> String {
        format!("D_{{{}}}", self.n)
    }
    fn element_name(&self, a: usize) -> String {
        let (k, f) = self.split(a);
        match (k, f) {
            (0, false) => "e".into(),
            (_, false) => power_name("r", k, false),
            (_, true) => format!("{}s", power_name("r", k, false)),
        }
    }
    fn element_latex(&self, a: usize) -> String {
        let (k, f) = self.split(a);
        match (k, f) {
            (0, false) => "e".into(),
            (_, false) => power_name("r", k, true),
            (_, true) => format!("{}s", power_name("r", k, true)),
        }
    }
}
