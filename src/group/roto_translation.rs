//! The roto-translation groups p4 = C4 ⋉ Z_H² and p4m = D4 ⋉ Z_H² of the H×H torus.

use super::{FiniteGroup, PointGroup};
use crate::error::{Error, Result};

/// `p4` (`C4 ⋉ Z_H²`, order `4H²`) or `p4m` (`D4 ⋉ Z_H²`, order `8H²`) on the `H×H` torus.
///
/// Element `(t, g)`, `t = (ti, tj) ∈ Z_H²`, `g` in the [`PointGroup`], has index
/// `g·H² + ti·H + tj`. It acts on torus sites by `p ↦ t + A_g p (mod H)`, hence
///
/// `(t₁, g₁)(t₂, g₂) = (t₁ + A_{g₁} t₂, g₁ g₂)`,  `(t, g)⁻¹ = (−A_{g⁻¹} t, g⁻¹)`.
///
/// Pure translations are the indices `0..H²`; pure point-group elements are `g·H²`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotoTranslation {
    point: PointGroup,
    h: usize,
}

impl RotoTranslation {
    /// `p4` on the `H×H` torus, `H ≥ 1`.
    pub fn p4(h: usize) -> Result<Self> {
        Self::new(PointGroup::C4, h)
    }
    /// `p4m` on the `H×H` torus, `H ≥ 1`.
    pub fn p4m(h: usize) -> Result<Self> {
        Self::new(PointGroup::D4, h)
    }
    /// The group with the given point group on the `H×H` torus.
    pub fn new(point: PointGroup, h: usize) -> Result<Self> {
        if h == 0 {
            return Err(Error::Group("a torus needs H ≥ 1".into()));
        }
        Ok(Self { point, h })
    }
    /// The side `H` of the torus.
    pub fn h(&self) -> usize {
        self.h
    }
    /// The point group (`C4` or `D4`).
    pub fn point_group(&self) -> PointGroup {
        self.point
    }
    /// The index of `(t, g)`.
    pub fn element(&self, (ti, tj): (usize, usize), g: usize) -> usize {
        let h = self.h;
        g * h * h + (ti % h) * h + tj % h
    }
    /// Split an index into `((ti, tj), g)`.
    pub fn split(&self, a: usize) -> ((usize, usize), usize) {
        let h2 = self.h * self.h;
        let t = a % h2;
        ((t / self.h, t % self.h), a / h2)
    }
    /// `A_g t mod H` for a translation `t`.
    fn rotate(&self, g: usize, (ti, tj): (usize, usize)) -> (usize, usize) {
        let h = self.h as i64;
        let (a, b) = self.point.act_offset(g, (ti as i64, tj as i64));
        (a.rem_euclid(h) as usize, b.rem_euclid(h) as usize)
    }
    /// `(t, g)·p = t + A_g p (mod H)` for a torus site `p = (i, j)`.
    pub fn act_site(&self, a: usize, p: (usize, usize)) -> (usize, usize) {
        let ((ti, tj), g) = self.split(a);
        let (pi, pj) = self.rotate(g, p);
        ((ti + pi) % self.h, (tj + pj) % self.h)
    }
    /// The embedding of the point group: `g ↦ (0, g)`.
    pub fn point_embedding(&self) -> Vec<usize> {
        (0..self.point.order())
            .map(|g| self.element((0, 0), g))
            .collect()
    }
    /// The embedding of the translations `Z_H²`: `t ↦ (t, e)`.
    pub fn translation_embedding(&self) -> Vec<usize> {
        (0..self.h * self.h).collect()
    }
}

impl FiniteGroup for RotoTranslation {
    fn order(&self) -> usize {
        self.point.order() * self.h * self.h
    }
    fn mul(&self, a: usize, b: usize) -> usize {
        let (t1, g1) = self.split(a);
        let (t2, g2) = self.split(b);
        let (ri, rj) = self.rotate(g1, t2);
        self.element((t1.0 + ri, t1.1 + rj), self.point.mul(g1, g2))
    }
    fn inv(&self, a: usize) -> usize {
        let (t, g) = self.split(a);
        let gi = self.point.inv(g);
        let (ri, rj) = self.rotate(gi, t);
        let h = self.h;
        self.element(((h - ri) % h, (h - rj) % h), gi)
    }
    fn name(&self) -> String {
        match self.point {
            PointGroup::C4 => format!("p4:{}", self.h),
            PointGroup::D4 => format!("p4m:{}", self.h),
        }
    }
    fn latex_name(&self) -> String {
        match self.point {
            PointGroup::C4 => format!("p4 \\ (H={})", self.h),
            PointGroup::D4 => format!("p4m \\ (H={})", self.h),
        }
    }
    fn element_name(&self, a: usize) -> String {
        let ((ti, tj), g) = self.split(a);
        let gn = self.point.group().element_name(g);
        match ((ti, tj), g) {
            ((0, 0), _) => gn,
            (_, 0) => format!("t({ti},{tj})"),
            _ => format!("t({ti},{tj}){gn}"),
        }
    }
    fn element_latex(&self, a: usize) -> String {
        let ((ti, tj), g) = self.split(a);
        let gn = self.point.group().element_latex(g);
        match ((ti, tj), g) {
            ((0, 0), _) => gn,
            (_, 0) => format!("t_{{({ti},{tj})}}"),
            _ => format!("t_{{({ti},{tj})}}{gn}"),
        }
    }
}
