//! Irreducible representations, named by frequency, and the closed-form irreps of C_n and D_n.

use std::f64::consts::PI;

use faer::Mat;
use num_complex::Complex64 as C64;

use super::Rep;
use crate::error::Result;
use crate::group::{Cyclic, Dihedral, FiniteGroup, RotoTranslation};

/// An irreducible unitary representation with its name.
///
/// Naming scheme (used in tables and JSON):
///
/// | group | irreps | name | `ψ(r^a)` | `ψ(r^a s)` |
/// |---|---|---|---|---|
/// | `C_n` (complex) | `k = 0..n−1` | `chi_k` | `e^{2πi k a/n}` | – |
/// | `C_n` (real forms) | `k = 0`; `k = n/2` (n even); `1 ≤ k < n/2` | `trivial`; `sign`; `rot_k` | `1`; `(−1)^a`; `R(2πka/n)` | – |
/// | `D_n` | 1-D | `A1`, `A2` | `1`, `1` | `1`, `−1` |
/// | `D_n`, n even | 1-D | `B1`, `B2` | `(−1)^a`, `(−1)^a` | `(−1)^a`, `−(−1)^a` |
/// | `D_n` | 2-D, `1 ≤ k < n/2` | `E1`, `E2`, … (`Ek`) | `R(2πka/n)` | `R(2πka/n) F` |
///
/// with `R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]` and `F = diag(1, −1)`. So `B1` is the
/// 1-D irrep that is `+1` on `s` and `B2` the one that is `−1` on `s`; the frequency of `Ek` is
/// `k` (its character on `r` is `2 cos(2πk/n)`). p4/p4m irreps are computed numerically and
/// named by their translation momentum (see [`super::numerical_irreps`]).
#[derive(Clone, Debug)]
pub struct Irrep {
    /// ASCII name (`A1`, `E2`, `chi_3`, `rot_1`, …).
    pub name: String,
    /// LaTeX name (`A_{1}`, `E_{2}`, `\chi_{3}`, …).
    pub latex: String,
    /// The frequency `k` when the irrep is named by one.
    pub frequency: Option<i64>,
    /// False for the real 2-D forms `rot_k` of `C_n`/SO(2), which split over ℂ into
    /// `chi_k ⊕ chi_{−k}`; true for every irrep that stays irreducible over ℂ.
    pub absolutely_irreducible: bool,
    /// The matrices `ψ(g)`.
    pub rep: Rep,
}

impl Irrep {
    /// The dimension.
    pub fn dim(&self) -> usize {
        self.rep.dim()
    }
    /// The character `χ(g) = tr ψ(g)`.
    pub fn character(&self, g: usize) -> C64 {
        self.rep.character(g).expect("element in range")
    }
    /// True when every character value is real (within `1e-12`).
    pub fn has_real_character(&self) -> bool {
        self.rep.characters().iter().all(|c| c.im.abs() <= 1e-12)
    }
}

/// The 2×2 rotation `R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]`.
pub(crate) fn rotation_matrix(theta: f64) -> Mat<f64> {
    let (s, c) = theta.sin_cos();
    let mut m = Mat::zeros(2, 2);
    m[(0, 0)] = c;
    m[(0, 1)] = -s;
    m[(1, 0)] = s;
    m[(1, 1)] = c;
    m
}

fn scalar(v: f64) -> Mat<f64> {
    Mat::from_fn(1, 1, |_, _| v)
}

fn real_irrep(name: &str, latex: &str, freq: i64, mats: Vec<Mat<f64>>, abs: bool) -> Irrep {
    Irrep {
        name: name.into(),
        latex: latex.into(),
        frequency: Some(freq),
        absolutely_irreducible: abs,
        rep: Rep::from_real_matrices(name, &mats).expect("closed-form matrices are finite"),
    }
}

/// The complex irreps `chi_k(r^a) = e^{2πi k a/n}`, `k = 0..n−1`, of `C_n`.
pub fn cyclic_irreps(c: &Cyclic) -> Vec<Irrep> {
    let n = c.n();
    (0..n)
        .map(|k| {
            let mats = (0..n)
                .map(|a| {
                    let t = 2.0 * PI * ((k * a) % n) as f64 / n as f64;
                    Mat::from_fn(1, 1, |_, _| C64::from_polar(1.0, t))
                })
                .collect();
            let name = format!("chi_{k}");
            Irrep {
                latex: format!("\\chi_{{{k}}}"),
                frequency: Some(k as i64),
                absolutely_irreducible: true,
                rep: Rep::from_matrices(name.clone(), mats).expect("finite"),
                name,
            }
        })
        .collect()
}

/// The real irreps of `C_n`: `trivial`, `sign` (n even; `(−1)^a`) and the 2-D rotation blocks
/// `rot_k(r^a) = R(2πka/n)` for `1 ≤ k < n/2` (over ℂ, `rot_k ≅ chi_k ⊕ chi_{n−k}`).
pub fn cyclic_real_irreps(c: &Cyclic) -> Vec<Irrep> {
    let n = c.n();
    let mut out = vec![real_irrep(
        "trivial",
        "\\mathrm{trivial}",
        0,
        vec![scalar(1.0); n],
        true,
    )];
    if n % 2 == 0 {
        let m = (0..n)
            .map(|a| scalar(if a % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        out.push(real_irrep(
            "sign",
            "\\mathrm{sign}",
            (n / 2) as i64,
            m,
            true,
        ));
    }
    for k in 1..n.div_ceil(2) {
        let m = (0..n).map(|a| rotation_matrix(c.angle(k * a))).collect();
        let (name, latex) = (format!("rot_{k}"), format!("\\mathrm{{rot}}_{{{k}}}"));
        out.push(real_irrep(&name, &latex, k as i64, m, false));
    }
    out
}

/// The irreps of `D_n` (all real and absolutely irreducible): `A1`, `A2`, then `B1`, `B2` for even
/// n, then `E1 … E_{⌈n/2⌉−1}`; see [`Irrep`] for the matrices.
pub fn dihedral_irreps(d: &Dihedral) -> Vec<Irrep> {
    let n = d.n();
    let elems: Vec<(usize, bool)> = (0..2 * n).map(|g| d.split(g)).collect();
    let one_d = |f: &dyn Fn(usize, bool) -> f64| -> Vec<Mat<f64>> {
        elems.iter().map(|&(a, s)| scalar(f(a, s))).collect()
    };
    let parity = |a: usize| if a % 2 == 0 { 1.0 } else { -1.0 };
    let mut out = vec![
        real_irrep("A1", "A_{1}", 0, one_d(&|_, _| 1.0), true),
        real_irrep(
            "A2",
            "A_{2}",
            0,
            one_d(&|_, s| if s { -1.0 } else { 1.0 }),
            true,
        ),
    ];
    if n % 2 == 0 {
        let f = (n / 2) as i64;
        out.push(real_irrep("B1", "B_{1}", f, one_d(&|a, _| parity(a)), true));
        let b2 = one_d(&|a, s| if s { -parity(a) } else { parity(a) });
        out.push(real_irrep("B2", "B_{2}", f, b2, true));
    }
    let flip = Mat::from_fn(2, 2, |i, j| match (i, j) {
        (0, 0) => 1.0,
        (1, 1) => -1.0,
        _ => 0.0,
    });
    for k in 1..n.div_ceil(2) {
        let mats = elems
            .iter()
            .map(|&(a, s)| {
                let r = rotation_matrix(2.0 * PI * ((k * a) % n) as f64 / n as f64);
                if s {
                    &r * &flip
                } else {
                    r
                }
            })
            .collect();
        let (name, latex) = (format!("E{k}"), format!("E_{{{k}}}"));
        out.push(real_irrep(&name, &latex, k as i64, mats, true));
    }
    out
}

/// A complete set of inequivalent irreps over ℂ (each absolutely irreducible and unitary): the
/// set used by character tables, decompositions and the group Fourier transform.
pub trait Irreps: FiniteGroup {
    /// The irreps, the trivial one first.
    fn irreps(&self) -> Result<Vec<Irrep>>;
}

impl Irreps for Cyclic {
    fn irreps(&self) -> Result<Vec<Irrep>> {
        Ok(cyclic_irreps(self))
    }
}

impl Irreps for Dihedral {
    fn irreps(&self) -> Result<Vec<Irrep>> {
        Ok(dihedral_irreps(self))
    }
}

impl Irreps for RotoTranslation {
    fn irreps(&self) -> Result<Vec<Irrep>> {
        super::generic::roto_translation_irreps(self)
    }
}
