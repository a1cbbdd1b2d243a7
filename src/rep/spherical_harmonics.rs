//! Real spherical harmonics `Y_lm`, `m = −l..l`: the basis in which the Wigner matrices
//! [`super::wigner_d`] are written.
//!
//! # Convention
//!
//! For a unit vector `x = (sin θ cos φ, sin θ sin φ, cos θ)`:
//!
//! ```text
//! Y_lm(x) = √2 N_l|m| P_l^|m|(cos θ) cos(mφ)     m > 0
//! Y_l0(x) =    N_l0   P_l(cos θ)
//! Y_lm(x) = √2 N_l|m| P_l^|m|(cos θ) sin(|m|φ)   m < 0
//! N_lm = √((2l + 1)/(4π) · (l − m)!/(l + m)!)
//! ```
//!
//! with the associated Legendre functions **without** the Condon–Shortley phase,
//! `P_l^m(t) = (1 − t²)^{m/2} dᵐP_l/dtᵐ(t)`. They are orthonormal on the sphere,
//! `∫_{S²} Y_lm Y_l′m′ dΩ = δ_ll′ δ_mm′`, and for `l = 1` they are `√(3/4π) (y, z, x)`
//! (`m = −1, 0, 1`). Vectors are ordered `m = −l, …, l`; all degrees `0..=L` are concatenated,
//! `Y_lm` at offset `l² + l + m`.
//!
//! The normalised functions `Q_l^m = N_lm P_l^m` come from the stable recurrences
//! `Q_0^0 = 1/√(4π)`, `Q_m^m = √((2m + 1)/(2m)) sin θ Q_{m−1}^{m−1}`,
//! `Q_{m+1}^m = √(2m + 3) cos θ Q_m^m`,
//! `Q_l^m = a_lm (cos θ Q_{l−1}^m − b_lm Q_{l−2}^m)` with `a_lm = √((4l² − 1)/(l² − m²))`,
//! `b_lm = √(((l − 1)² − m²)/(4(l − 1)² − 1))`.

use std::f64::consts::PI;

/// All `Y_lm(x)`, `0 ≤ l ≤ l_max`, `|m| ≤ l`, at a non-zero vector `x` (normalised first), in the
/// order of the module docs (`(l_max + 1)²` values).
pub fn real_spherical_harmonics(l_max: usize, x: [f64; 3]) -> Vec<f64> {
    let r = (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt();
    let (ct, rho) = if r > 0.0 {
        (x[2] / r, (x[0] * x[0] + x[1] * x[1]).sqrt() / r)
    } else {
        (1.0, 0.0)
    };
    let phi = x[1].atan2(x[0]);
    let n = l_max + 1;
    // q[l][m] = Q_l^m(cos θ), m ≤ l.
    let mut q = vec![vec![0.0; n]; n];
    q[0][0] = 1.0 / (4.0 * PI).sqrt();
    for m in 1..n {
        q[m][m] = ((2 * m + 1) as f64 / (2 * m) as f64).sqrt() * rho * q[m - 1][m - 1];
    }
    for m in 0..n {
        if m + 1 < n {
            q[m + 1][m] = ((2 * m + 3) as f64).sqrt() * ct * q[m][m];
        }
        for l in m + 2..n {
            let (lf, mf) = (l as f64, m as f64);
            let a = ((4.0 * lf * lf - 1.0) / (lf * lf - mf * mf)).sqrt();
            let b = (((lf - 1.0) * (lf - 1.0) - mf * mf) / (4.0 * (lf - 1.0) * (lf - 1.0) - 1.0))
                .sqrt();
            q[l][m] = a * (ct * q[l - 1][m] - b * q[l - 2][m]);
        }
    }
    let mut out = vec![0.0; n * n];
    let s2 = std::f64::consts::SQRT_2;
    for (l, ql) in q.iter().enumerate() {
        let off = l * l + l;
        out[off] = ql[0];
        for m in 1..=l {
            let (s, c) = (m as f64 * phi).sin_cos();
            out[off + m] = s2 * ql[m] * c;
            out[off - m] = s2 * ql[m] * s;
        }
    }
    out
}
