//! Irreps of SO(3) and O(3), and decompositions of their representations by characters.
//!
//! # Irreps
//!
//! * SO(3): `D^l`, `l = 0, 1, 2, …`, of dimension `2l + 1` (see [`super::wigner_d`]); named
//!   `D0, D1, …` (LaTeX `D^{l}`).
//! * O(3) = SO(3) × {±I}: `D^l_g` and `D^l_u`, equal to `D^l` on rotations and to `±D^l(R)` on
//!   `−R` (`g`: even, `u`: odd under the inversion); named `D1u`, LaTeX `D^{1}_{u}`. Degree-`l`
//!   spherical harmonics carry `D^l` with parity `(−1)^l`; vectors (points) carry `D^1_u`.
//!
//! # Multiplicities
//!
//! A representation `ρ` is decomposed through its character. The multiplicity of `D^l` is
//! `m_l = ∫_SO(3) χ_ρ(R) χ_l(R) dR`, and since characters are class functions, Weyl's
//! integration formula reduces it to the rotation angle:
//!
//! ```text
//! ∫_SO(3) f(R) dR = (1/π) ∫₀^π f(ω) (1 − cos ω) dω = (1/N) Σ_{j<N} f(2πj/N) (1 − cos(2πj/N)),
//! ```
//!
//! the trapezoid sum being exact for trigonometric polynomials of degree `< N`; with `χ_ρ` of
//! degree `≤ L_ρ` and `l ≤ L_ρ`, `N = 2L_ρ + 2` suffices. For O(3) the integral is the mean of
//! those over `R` and `−R`.
//!
//! The representations named on the command line: `points:P` (P points in ℝ³, `p ↦ Mp`, i.e.
//! `P D^1`, or `P D^1_u`), `sphere:L` (band-limited functions on S², `⊕_{l≤L} D^l`, parity
//! `(−1)^l`), `wigner:l` (`D^l`, parity `(−1)^l`) and `tensor:a,b` (`D^a ⊗ D^b`, parity
//! `(−1)^{a+b}`; by Clebsch–Gordan `= ⊕_{l=|a−b|}^{a+b} D^l`).

use std::f64::consts::PI;

use faer::Mat;

use super::wigner::{check_degree, so3_character, wigner_d_all};
use crate::error::{Error, Result};
use crate::group::{Matrix3, O3};

/// An irrep of SO(3) (`parity = None`) or O(3) (`parity = Some(±1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct So3Irrep {
    /// The degree `l`.
    pub degree: usize,
    /// `None` for SO(3); `Some(1)` (g) or `Some(−1)` (u) for O(3).
    pub parity: Option<i8>,
}

impl So3Irrep {
    /// `D^l` of SO(3).
    pub fn new(degree: usize) -> Self {
        Self {
            degree,
            parity: None,
        }
    }
    /// `D^l_g` (`parity = 1`) or `D^l_u` (`parity = −1`) of O(3).
    pub fn with_parity(degree: usize, parity: i8) -> Self {
        Self {
            degree,
            parity: Some(if parity < 0 { -1 } else { 1 }),
        }
    }
    /// `2l + 1`.
    pub fn dim(&self) -> usize {
        2 * self.degree + 1
    }
    /// `D3`, `D1u`, `D2g`.
    pub fn name(&self) -> String {
        match self.parity {
            None => format!("D{}", self.degree),
            Some(p) => format!("D{}{}", self.degree, if p > 0 { "g" } else { "u" }),
        }
    }
    /// `D^{3}`, `D^{1}_{u}`.
    pub fn latex(&self) -> String {
        match self.parity {
            None => format!("D^{{{}}}", self.degree),
            Some(p) => format!(
                "D^{{{}}}_{{{}}}",
                self.degree,
                if p > 0 { "g" } else { "u" }
            ),
        }
    }
    /// The character at an element `M` of O(3) (`M = sR`): `χ_l(R)`, times the parity when
    /// `s = −1`.
    pub fn character(&self, m: &Matrix3) -> f64 {
        let (s, r) = O3.split(m);
        let sign = if s < 0.0 {
            f64::from(self.parity.unwrap_or(1))
        } else {
            1.0
        };
        sign * so3_character(self.degree, r.rotation_cosine())
    }
    /// The matrix at `M = sR`: `D^l(R)`, times the parity when `s = −1`.
    pub fn matrix(&self, m: &Matrix3) -> Result<Mat<f64>> {
        let (s, r) = O3.split(m);
        let d = wigner_d_all(self.degree, &r)?
            .pop()
            .expect("l + 1 matrices");
        let sign = if s < 0.0 {
            f64::from(self.parity.unwrap_or(1))
        } else {
            1.0
        };
        Ok(if sign < 0.0 { -d } else { d })
    }
}

/// A representation of SO(3) or O(3) named on the command line (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum So3RepSpec {
    /// `points:P`: `P` copies of the vector representation.
    Points(usize),
    /// `sphere:L`: `⊕_{l ≤ L} D^l`.
    Sphere(usize),
    /// `wigner:l`: `D^l`.
    Wigner(usize),
    /// `tensor:a,b`: `D^a ⊗ D^b`.
    Tensor(usize, usize),
}

impl So3RepSpec {
    /// Parse `points:P`, `sphere:L`, `wigner:l` or `tensor:a,b` (degrees at most
    /// [`super::MAX_WIGNER_DEGREE`], `P ≤` [`crate::budget::MAX_EXTENT`]); `None` if the prefix is none
    /// of these.
    pub fn parse(s: &str) -> Option<Result<Self>> {
        let bad = |what: &str| {
            Error::Invalid(format!(
                "bad representation `{s}`: {what} (expected points:P, sphere:L, wigner:l or \
                 tensor:a,b)"
            ))
        };
        let num = |v: &str| v.trim().parse::<usize>().map_err(|_| bad("not a number"));
        let degree =
            |v: &str| -> Result<usize> { check_degree(&format!("the degree in {s}"), num(v)?) };
        Some(if let Some(p) = s.strip_prefix("points:") {
            num(p).and_then(|p| {
                if p == 0 {
                    Err(bad("P must be ≥ 1"))
                } else {
                    crate::budget::at_most(
                        &format!("the point count in {s}"),
                        p,
                        crate::budget::MAX_EXTENT,
                    )
                    .map(So3RepSpec::Points)
                }
            })
        } else if let Some(l) = s.strip_prefix("sphere:") {
            degree(l).map(So3RepSpec::Sphere)
        } else if let Some(l) = s.strip_prefix("wigner:") {
            degree(l).map(So3RepSpec::Wigner)
        } else if let Some(ab) = s.strip_prefix("tensor:") {
            match ab.split_once(',') {
                Some((a, b)) => degree(a).and_then(|a| Ok(So3RepSpec::Tensor(a, degree(b)?))),
                None => Err(bad("write tensor:a,b")),
            }
        } else {
            return None;
        })
    }

    /// The dimension (`3P`, `(L + 1)²`, `2l + 1`, `(2a + 1)(2b + 1)`), saturating.
    pub fn dim(&self) -> usize {
        match *self {
            So3RepSpec::Points(p) => p.saturating_mul(3),
            So3RepSpec::Sphere(l) => (l + 1) * (l + 1),
            So3RepSpec::Wigner(l) => 2 * l + 1,
            So3RepSpec::Tensor(a, b) => (2 * a + 1) * (2 * b + 1),
        }
    }

    /// The largest degree `L_ρ` of an irrep it contains (bounds the character's degree).
    pub fn max_degree(&self) -> usize {
        match *self {
            So3RepSpec::Points(_) => 1,
            So3RepSpec::Sphere(l) | So3RepSpec::Wigner(l) => l,
            So3RepSpec::Tensor(a, b) => a + b,
        }
    }

    /// The character at `M = sR ∈ O(3)`, from the characters `χ_l` (the inversion acting as
    /// described in the module docs).
    pub fn character(&self, m: &Matrix3) -> f64 {
        let (s, r) = O3.split(m);
        let c = r.rotation_cosine();
        let sign = |l: usize| if s < 0.0 && l % 2 == 1 { -1.0 } else { 1.0 };
        match *self {
            So3RepSpec::Points(p) => p as f64 * sign(1) * so3_character(1, c),
            So3RepSpec::Sphere(l) => (0..=l).map(|k| sign(k) * so3_character(k, c)).sum(),
            So3RepSpec::Wigner(l) => sign(l) * so3_character(l, c),
            So3RepSpec::Tensor(a, b) => sign(a + b) * so3_character(a, c) * so3_character(b, c),
        }
    }

    /// The matrix at `M ∈ O(3)` (real, `dim × dim`): `I_P ⊗ M`, `⊕_l ±D^l(R)`, `±D^l(R)` or
    /// `±D^a(R) ⊗ D^b(R)`.
    pub fn matrix(&self, m: &Matrix3) -> Result<Mat<f64>> {
        let (s, r) = O3.split(m);
        let sign = |l: usize| if s < 0.0 && l % 2 == 1 { -1.0 } else { 1.0 };
        let d = self.dim();
        Ok(match *self {
            So3RepSpec::Points(p) => {
                let mut out = Mat::zeros(d, d);
                for k in 0..p {
                    for i in 0..3 {
                        for j in 0..3 {
                            out[(3 * k + i, 3 * k + j)] = m.get(i, j);
                        }
                    }
                }
                out
            }
            So3RepSpec::Sphere(l) => {
                let ds = wigner_d_all(l, &r)?;
                let mut out = Mat::zeros(d, d);
                for (k, dk) in ds.iter().enumerate() {
                    let off = k * k;
                    for i in 0..dk.nrows() {
                        for j in 0..dk.ncols() {
                            out[(off + i, off + j)] = sign(k) * dk[(i, j)];
                        }
                    }
                }
                out
            }
            So3RepSpec::Wigner(l) => {
                let dl = wigner_d_all(l, &r)?.pop().expect("l + 1 matrices");
                if sign(l) < 0.0 {
                    -dl
                } else {
                    dl
                }
            }
            So3RepSpec::Tensor(a, b) => {
                let ds = wigner_d_all(a.max(b), &r)?;
                let (da, db) = (&ds[a], &ds[b]);
                let nb = db.nrows();
                // Kronecker product: row i = (i_a, i_b) with i = i_a·(2b + 1) + i_b.
                Mat::from_fn(d, d, |i, j| {
                    sign(a + b) * da[(i / nb, j / nb)] * db[(i % nb, j % nb)]
                })
            }
        })
    }
}

/// The multiplicities of `D^l` (`l = 0..=l_max`) — with both parities when `o3` — in the
/// representation whose character at `M ∈ O(3)` is `character(M)`, of dimension `dim` and
/// containing degrees `≤ l_max`, by Weyl's integration formula (module docs).
///
/// Errors if a multiplicity is not a non-negative integer (to `1e-8`) or the multiplicities do
/// not account for `dim`.
pub fn so3_multiplicities(
    character: impl Fn(&Matrix3) -> f64,
    dim: usize,
    l_max: usize,
    o3: bool,
) -> Result<Vec<(So3Irrep, usize)>> {
    check_degree("the largest degree", l_max)?;
    let n = 2 * l_max + 2;
    let parities: &[Option<i8>] = if o3 { &[Some(1), Some(-1)] } else { &[None] };
    let angles: Vec<Matrix3> = (0..n)
        .map(|j| Matrix3::rotation_z(2.0 * PI * j as f64 / n as f64))
        .collect();
    let mut out = Vec::new();
    let mut total = 0usize;
    for &parity in parities {
        for l in 0..=l_max {
            let ir = So3Irrep { degree: l, parity };
            let mut m = 0.0;
            for r in &angles {
                let w = (1.0 - r.rotation_cosine()) / n as f64;
                m += w * character(r) * ir.character(r);
                if o3 {
                    let mr = r.scale(-1.0);
                    m += w * character(&mr) * ir.character(&mr);
                }
            }
            if o3 {
                m /= 2.0;
            }
            if (m - m.round()).abs() > 1e-8 || m < -1e-8 {
                return Err(Error::Numeric(format!(
                    "multiplicity of {} is {m:.6}: the character is not that of a representation \
                     band-limited to l = {l_max}",
                    ir.name()
                )));
            }
            let k = m.round() as usize;
            total += k * ir.dim();
            out.push((ir, k));
        }
    }
    if total != dim {
        return Err(Error::Group(format!(
            "the irreps up to l = {l_max} account for {total} of {dim} dimensions"
        )));
    }
    Ok(out)
}

/// The multiplicities of `D^l` in `D^a ⊗ D^b` (`l = 0..=a + b`), by characters; by the
/// Clebsch–Gordan rule they are 1 for `|a − b| ≤ l ≤ a + b` and 0 otherwise.
pub fn tensor_product_multiplicities(a: usize, b: usize) -> Result<Vec<usize>> {
    check_degree("a + b", a + b)?;
    let spec = So3RepSpec::Tensor(a, b);
    Ok(
        so3_multiplicities(|m| spec.character(m), spec.dim(), a + b, false)?
            .into_iter()
            .map(|(_, k)| k)
            .collect(),
    )
}
