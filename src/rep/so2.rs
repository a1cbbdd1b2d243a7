//! Irreps of SO(2): complex `chi_k(θ) = e^{ikθ}`, real `trivial` and `rot_k(θ) = R(kθ)`;
//! band-limited irrep sets, restriction to `C_n`, and decomposition by quadrature.

use faer::Mat;
use num_complex::Complex64 as C64;

use super::irrep::rotation_matrix;
use super::Rep;
use crate::error::{Error, Result};
use crate::group::{Cyclic, So2};

/// An irrep of SO(2) named by its frequency.
///
/// `chi_k` (complex, 1-D, `k ∈ ℤ`): `θ ↦ e^{ikθ}`. `trivial` (= `chi_0`) and `rot_k` (real,
/// 2-D, `k ≥ 1`): `θ ↦ R(kθ) = [[cos kθ, −sin kθ], [sin kθ, cos kθ]]`, `rot_k ≅ chi_k ⊕ chi_{−k}`
/// over ℂ. On a periodic signal, Fourier mode `m` transforms by `e^{−imθ}`, i.e. by `chi_{−m}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct So2Irrep {
    /// The frequency `k`.
    pub frequency: i64,
    /// True for the real forms (`trivial`, `rot_k`), false for `chi_k`.
    pub real: bool,
}

impl So2Irrep {
    /// `chi_k`.
    pub fn complex(k: i64) -> Self {
        Self {
            frequency: k,
            real: false,
        }
    }
    /// `trivial` (`k = 0`) or `rot_k` (`k ≥ 1`); negative `k` is an error.
    pub fn real(k: i64) -> Result<Self> {
        if k < 0 {
            return Err(Error::Group(format!(
                "real SO(2) irreps have frequency k ≥ 0, got {k} (rot_k ≅ rot_(−k))"
            )));
        }
        Ok(Self {
            frequency: k,
            real: true,
        })
    }
    /// ASCII name: `chi_k`, `trivial`, `rot_k`.
    pub fn name(&self) -> String {
        match (self.real, self.frequency) {
            (false, k) => format!("chi_{k}"),
            (true, 0) => "trivial".into(),
            (true, k) => format!("rot_{k}"),
        }
    }
    /// LaTeX name.
    pub fn latex(&self) -> String {
        match (self.real, self.frequency) {
            (false, k) => format!("\\chi_{{{k}}}"),
            (true, 0) => "\\mathrm{trivial}".into(),
            (true, k) => format!("\\mathrm{{rot}}_{{{k}}}"),
        }
    }
    /// 1, or 2 for `rot_k`.
    pub fn dim(&self) -> usize {
        if self.real && self.frequency != 0 {
            2
        } else {
            1
        }
    }
    /// `ψ(θ)`.
    pub fn matrix(&self, theta: f64) -> Mat<C64> {
        let a = self.frequency as f64 * theta;
        if self.dim() == 2 {
            let r = rotation_matrix(a);
            Mat::from_fn(2, 2, |i, j| C64::new(r[(i, j)], 0.0))
        } else if self.real {
            Mat::from_fn(1, 1, |_, _| C64::new(1.0, 0.0))
        } else {
            Mat::from_fn(1, 1, |_, _| C64::from_polar(1.0, a))
        }
    }
    /// `χ(θ) = tr ψ(θ)`: `e^{ikθ}`, `1`, or `2 cos kθ`.
    pub fn character(&self, theta: f64) -> C64 {
        let a = self.frequency as f64 * theta;
        match self.dim() {
            2 => C64::new(2.0 * a.cos(), 0.0),
            _ if self.real => C64::new(1.0, 0.0),
            _ => C64::from_polar(1.0, a),
        }
    }
    /// The restriction to `C_n ⊂ SO(2)` (`r^a ↦ θ = 2πa/n`): a representation of `C_n`
    /// equivalent to `chi_{k mod n}` (complex) or to `chi_{k mod n} ⊕ chi_{−k mod n}` (rot_k).
    pub fn restrict(&self, c: &Cyclic) -> Rep {
        let mats = (0..c.n()).map(|a| self.matrix(c.angle(a))).collect();
        Rep::from_matrices(format!("Res({})", self.name()), mats).expect("finite")
    }
}

/// The band-limited complex irreps `chi_k`, `k = −L..=L`, ordered by `k`.
pub fn irreps(so2: &So2) -> Vec<So2Irrep> {
    let l = so2.band_limit() as i64;
    (-l..=l).map(So2Irrep::complex).collect()
}

/// The band-limited real irreps `trivial, rot_1, …, rot_L`.
pub fn real_irreps(so2: &So2) -> Vec<So2Irrep> {
    (0..=so2.band_limit() as i64)
        .map(|k| So2Irrep::real(k).expect("k ≥ 0"))
        .collect()
}

/// Multiplicities of the band-limited irreps `chi_{−L..L}` in a representation of SO(2) given
/// by its character `θ ↦ χ(θ)`, of dimension `dim` and containing frequencies up to `max_freq`.
///
/// `m_k = (1/N) Σ_j χ(θ_j) e^{−ikθ_j}` on `N = max_freq + L + 1` quadrature angles, which is exact
/// for such characters. Errors when the multiplicities do not account for `dim` (a frequency
/// above the band limit).
pub fn multiplicities(
    so2: &So2,
    character: impl Fn(f64) -> C64,
    dim: usize,
    max_freq: usize,
) -> Result<Vec<(So2Irrep, usize)>> {
    let n = max_freq + so2.band_limit() + 1;
    let angles = So2::quadrature(n)?;
    let chis: Vec<C64> = angles.iter().map(|&t| character(t)).collect();
    let mut out = Vec::new();
    let mut total = 0;
    for ir in irreps(so2) {
        let m: C64 = angles
            .iter()
            .zip(&chis)
            .map(|(&t, &c)| c * ir.character(t).conj())
            .sum::<C64>()
            / n as f64;
        if m.im.abs() > 1e-8 || (m.re - m.re.round()).abs() > 1e-8 || m.re < -1e-8 {
            return Err(Error::Numeric(format!(
                "multiplicity of {} is {m:.6}: not a representation band-limited to {max_freq}",
                ir.name()
            )));
        }
        let m = m.re.round() as usize;
        total += m;
        out.push((ir, m));
    }
    if total != dim {
        return Err(Error::Group(format!(
            "the irreps up to frequency {} account for {total} of {dim} dimensions: raise the \
             band limit (SO2:<L>)",
            so2.band_limit()
        )));
    }
    Ok(out)
}
