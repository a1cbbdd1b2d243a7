//! The cyclic group `C_n`.

use super::{power_name, FiniteGroup};
use crate::error::{Error, Result};

/// The cyclic group `C_n = {r^k : k = 0..n-1}` of order `n`, with `r` the rotation by `+2π/n`.
///
/// Element `k` is `r^k`; `r^a r^b = r^{(a+b) mod n}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cyclic {
    n: usize,
}

impl Cyclic {
    /// `C_n`, `n ≥ 1`.
    pub fn new(n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::Group("C_n needs n ≥ 1, got C0".into()));
        }
        Ok(Self { n })
    }
    /// `n`.
    pub fn n(&self) -> usize {
        self.n
    }
    /// The rotation angle of `r^k`, `2πk/n`.
    pub fn angle(&self, k: usize) -> f64 {
        2.0 * std::f64::consts::PI * (k % self.n) as f64 / self.n as f64
    }
    /// The embedding of the subgroup `C_m ⊂ C_n` (`m | n`): `r_m^k ↦ r^{k·n/m}`.
    pub fn subgroup_embedding(&self, m: usize) -> Result<Vec<usize>> {
        if m == 0 || self.n % m != 0 {
            return Err(Error::Group(format!(
                "C{m} is not a subgroup of C{} ({m} does not divide {})",
                self.n, self.n
            )));
        }
        Ok((0..m).map(|k| k * (self.n / m)).collect())
    }
}

impl FiniteGroup for Cyclic {
    fn order(&self) -> usize {
        self.n
    }
    fn mul(&self, a: usize, b: usize) -> usize {
        (a + b) % self.n
    }
    fn inv(&self, a: usize) -> usize {
        (self.n - a % self.n) % self.n
    }
    fn name(&self) -> String {
        format!("C{}", self.n)
    }
    fn latex_name(&self) -> String {
        format!("C_{{{}}}", self.n)
    }
    fn element_name(&self, a: usize) -> String {
        if a == 0 {
            "e".into()
        } else {
            power_name("r", a, false)
        }
    }
    fn element_latex(&self, a: usize) -> String {
        if a == 0 {
            "e".into()
        } else {
            power_name("r", a, true)
        }
    }
    fn is_abelian(&self) -> bool {
        true
    }
}
