//! C_k and D_k acting on periodic 1-D signals of n samples (`k | n`).

use super::SiteAction;
use crate::error::{Error, Result};
use crate::group::{Cyclic, Dihedral, FiniteGroup};

/// `C_k` or `D_k` acting on the `n` sites of a periodic signal, `k | n`:
/// `r^a·i = i + a·(n/k) (mod n)` (rotation by `2πa/k`), `s·i = −i (mod n)`,
/// `r^a s·i = a·(n/k) − i (mod n)`.
#[derive(Debug)]
pub struct SignalAction {
    group: Box<dyn FiniteGroup>,
    k: usize,
    n: usize,
    dihedral: bool,
}

impl SignalAction {
    fn new(k: usize, n: usize, dihedral: bool) -> Result<Self> {
        let name = if dihedral { "D" } else { "C" };
        if k == 0 || n == 0 || n % k != 0 {
            return Err(Error::Group(format!(
                "{name}{k} cannot act on periodic signals of {n} samples: {k} must divide {n}"
            )));
        }
        let group: Box<dyn FiniteGroup> = if dihedral {
            Box::new(Dihedral::new(k)?)
        } else {
            Box::new(Cyclic::new(k)?)
        };
        Ok(Self {
            group,
            k,
            n,
            dihedral,
        })
    }
    /// `C_k` on `n` samples (shift by `n/k` samples per generator).
    pub fn cyclic(k: usize, n: usize) -> Result<Self> {
        Self::new(k, n, false)
    }
    /// `D_k` on `n` samples (shifts by multiples of `n/k` and the reversal `i ↦ −i`).
    pub fn dihedral(k: usize, n: usize) -> Result<Self> {
        Self::new(k, n, true)
    }
    /// The number of samples `n`.
    pub fn samples(&self) -> usize {
        self.n
    }
    /// The linear part of `g` on a signed offset `d`: `d` for rotations, `−d` for reflections.
    pub fn linear_offset(&self, g: usize, d: i64) -> i64 {
        if self.dihedral && g >= self.k {
            -d
        } else {
            d
        }
    }
    /// `g·d` for an offset `d` read as a site of the circle (MATH.md §5: `p + A_g δ` becomes `g·δ`
    /// for groups without translations).
    pub fn act_offset(&self, g: usize, d: i64) -> usize {
        self.act(g, d.rem_euclid(self.n as i64) as usize)
    }
}

impl SiteAction for SignalAction {
    fn group(&self) -> &dyn FiniteGroup {
        self.group.as_ref()
    }
    fn grid(&self) -> Vec<usize> {
        vec![self.n]
    }
    fn act(&self, g: usize, i: usize) -> usize {
        let (n, m) = (self.n, self.n / self.k);
        let (a, reflect) = if self.dihedral {
            (g % self.k, g >= self.k)
        } else {
            (g, false)
        };
        let i = if reflect { (n - i % n) % n } else { i % n };
        (i + a * m) % n
    }
}
