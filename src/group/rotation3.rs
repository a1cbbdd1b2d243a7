//! 3×3 orthogonal matrices and the continuous groups SO(3) and O(3) = SO(3) × {±I}.
//!
//! # Conventions
//!
//! * A [`Matrix3`] acts on column vectors, `p ↦ M p`; the product `A·B` applies `B` first.
//! * `R_z(a) = [[cos a, −sin a, 0], [sin a, cos a, 0], [0, 0, 1]]` and
//!   `R_y(b) = [[cos b, 0, sin b], [0, 1, 0], [−sin b, 0, cos b]]`: counter-clockwise rotations
//!   seen from the positive axis.
//! * Euler angles are **ZYZ** (active, intrinsic z–y′–z″ = extrinsic z–y–z in reverse):
//!   `R(α, β, γ) = R_z(α) R_y(β) R_z(γ)`, `α, γ ∈ [0, 2π)`, `β ∈ [0, π]`.
//! * The Haar measure of SO(3) is normalised to 1; in Euler angles
//!   `dR = (1/8π²) sin β dα dβ dγ` (see [`super::So3Quadrature`]).
//! * The rotation angle `ω ∈ [0, π]` of `R` is given by `tr R = 1 + 2 cos ω`; two rotations are
//!   conjugate in SO(3) exactly when their angles agree.
//! * An element of O(3) is `s R` with `R ∈ SO(3)` and `s = det = ±1`: O(3) = SO(3) × {±I}, the
//!   factor `−I` (the inversion) being central.

use std::f64::consts::PI;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// A real 3×3 matrix, row-major: `m[i][j]` is row `i`, column `j`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Matrix3(pub [[f64; 3]; 3]);

impl Matrix3 {
    /// The identity `I`.
    pub const IDENTITY: Matrix3 = Matrix3([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

    /// The matrix with the given rows.
    pub fn from_rows(rows: [[f64; 3]; 3]) -> Self {
        Self(rows)
    }
    /// `s · I`.
    pub fn scalar(s: f64) -> Self {
        Self::IDENTITY.scale(s)
    }
    /// Entry `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.0[i][j]
    }
    /// `s · M`.
    pub fn scale(&self, s: f64) -> Self {
        Self(self.0.map(|r| r.map(|x| s * x)))
    }
    /// The product `A B`.
    pub fn mul(&self, b: &Matrix3) -> Matrix3 {
        let a = &self.0;
        let mut out = [[0.0; 3]; 3];
        for (i, row) in out.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = a[i][0] * b.0[0][j] + a[i][1] * b.0[1][j] + a[i][2] * b.0[2][j];
            }
        }
        Matrix3(out)
    }
    /// `Mᵀ` (the inverse of an orthogonal matrix).
    pub fn transpose(&self) -> Matrix3 {
        let m = &self.0;
        Matrix3(std::array::from_fn(|i| std::array::from_fn(|j| m[j][i])))
    }
    /// `M p`.
    pub fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        std::array::from_fn(|i| self.0[i][0] * p[0] + self.0[i][1] * p[1] + self.0[i][2] * p[2])
    }
    /// `det M`.
    pub fn det(&self) -> f64 {
        let m = &self.0;
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    }
    /// `tr M`.
    pub fn trace(&self) -> f64 {
        self.0[0][0] + self.0[1][1] + self.0[2][2]
    }
    /// `max_ij |A_ij − B_ij|`.
    pub fn max_abs_diff(&self, b: &Matrix3) -> f64 {
        (0..9).fold(0.0, |m: f64, k| {
            m.max((self.0[k / 3][k % 3] - b.0[k / 3][k % 3]).abs())
        })
    }
    /// True when `‖MᵀM − I‖_max ≤ tol`.
    pub fn is_orthogonal(&self, tol: f64) -> bool {
        self.transpose().mul(self).max_abs_diff(&Self::IDENTITY) <= tol
    }
    /// True when `M` is orthogonal with `det M = +1` (to `tol`).
    pub fn is_rotation(&self, tol: f64) -> bool {
        self.is_orthogonal(tol) && (self.det() - 1.0).abs() <= tol
    }
    /// `R_z(a)`.
    pub fn rotation_z(a: f64) -> Self {
        let (s, c) = a.sin_cos();
        Self([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    }
    /// `R_y(b)`.
    pub fn rotation_y(b: f64) -> Self {
        let (s, c) = b.sin_cos();
        Self([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    }
    /// `R(α, β, γ) = R_z(α) R_y(β) R_z(γ)` (ZYZ Euler angles).
    pub fn from_euler_zyz(alpha: f64, beta: f64, gamma: f64) -> Self {
        Self::rotation_z(alpha)
            .mul(&Self::rotation_y(beta))
            .mul(&Self::rotation_z(gamma))
    }
    /// The rotation by `angle` about the unit vector along `axis` (right-hand rule), by
    /// Rodrigues' formula `R = cos ω I + sin ω [n]_× + (1 − cos ω) n nᵀ`. A zero axis gives `I`.
    pub fn from_axis_angle(axis: [f64; 3], angle: f64) -> Self {
        let len = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
        if len == 0.0 {
            return Self::IDENTITY;
        }
        let n = axis.map(|x| x / len);
        let (s, c) = angle.sin_cos();
        let t = 1.0 - c;
        Self([
            [
                c + t * n[0] * n[0],
                t * n[0] * n[1] - s * n[2],
                t * n[0] * n[2] + s * n[1],
            ],
            [
                t * n[1] * n[0] + s * n[2],
                c + t * n[1] * n[1],
                t * n[1] * n[2] - s * n[0],
            ],
            [
                t * n[2] * n[0] - s * n[1],
                t * n[2] * n[1] + s * n[0],
                c + t * n[2] * n[2],
            ],
        ])
    }
    /// ZYZ Euler angles `(α, β, γ)` with `R = R_z(α) R_y(β) R_z(γ)`, `α, γ ∈ [0, 2π)`,
    /// `β ∈ [0, π]`. At the poles (`β = 0` or `π`) only `α ± γ` is determined; there `γ = 0`.
    pub fn to_euler_zyz(&self) -> (f64, f64, f64) {
        let m = &self.0;
        let beta = m[2][2].clamp(-1.0, 1.0).acos();
        let sb = (m[0][2] * m[0][2] + m[1][2] * m[1][2]).sqrt();
        let (alpha, gamma) = if sb > 1e-12 {
            (m[1][2].atan2(m[0][2]), m[2][1].atan2(-m[2][0]))
        } else if m[2][2] > 0.0 {
            (m[1][0].atan2(m[0][0]), 0.0)
        } else {
            ((-m[1][0]).atan2(-m[0][0]), 0.0)
        };
        let wrap = |a: f64| {
            let r = a.rem_euclid(2.0 * PI);
            if r >= 2.0 * PI {
                0.0
            } else {
                r
            }
        };
        (wrap(alpha), beta, wrap(gamma))
    }
    /// `cos ω = (tr R − 1)/2` of a rotation, clamped to `[−1, 1]`.
    pub fn rotation_cosine(&self) -> f64 {
        ((self.trace() - 1.0) / 2.0).clamp(-1.0, 1.0)
    }
    /// The rotation angle `ω ∈ [0, π]` of a rotation (`tr R = 1 + 2 cos ω`).
    pub fn rotation_angle(&self) -> f64 {
        self.rotation_cosine().acos()
    }
}

/// The rotation group SO(3) = `{R ∈ ℝ³ˣ³ : RᵀR = I, det R = 1}`.
///
/// Elements are [`Matrix3`]s; the product is the matrix product and the inverse the transpose.
/// Haar integrals are computed by [`super::So3Quadrature`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct So3;

/// The orthogonal group O(3) = SO(3) × {±I}: elements `s R`, `s = det = ±1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct O3;

impl So3 {
    /// `I`.
    pub fn identity(&self) -> Matrix3 {
        Matrix3::IDENTITY
    }
    /// `A B`.
    pub fn mul(&self, a: &Matrix3, b: &Matrix3) -> Matrix3 {
        a.mul(b)
    }
    /// `Rᵀ`.
    pub fn inv(&self, a: &Matrix3) -> Matrix3 {
        a.transpose()
    }
    /// True when `R` is a rotation (to `tol`).
    pub fn contains(&self, r: &Matrix3, tol: f64) -> bool {
        r.is_rotation(tol)
    }
    /// A Haar-random rotation: the unit quaternion of four independent standard normals.
    pub fn random<R: Rng + ?Sized>(&self, rng: &mut R) -> Matrix3 {
        loop {
            let q: [f64; 4] = std::array::from_fn(|_| StandardNormal.sample(rng));
            let n2: f64 = q.iter().map(|x| x * x).sum();
            if n2 > 1e-12 {
                let n = n2.sqrt();
                return quaternion_matrix(q.map(|x| x / n));
            }
        }
    }
}

impl O3 {
    /// `I`.
    pub fn identity(&self) -> Matrix3 {
        Matrix3::IDENTITY
    }
    /// `A B`.
    pub fn mul(&self, a: &Matrix3, b: &Matrix3) -> Matrix3 {
        a.mul(b)
    }
    /// `Mᵀ`.
    pub fn inv(&self, a: &Matrix3) -> Matrix3 {
        a.transpose()
    }
    /// True when `M` is orthogonal (to `tol`).
    pub fn contains(&self, m: &Matrix3, tol: f64) -> bool {
        m.is_orthogonal(tol) && (m.det().abs() - 1.0).abs() <= tol
    }
    /// The splitting `M = s R`: the sign `s = det M` and the rotation `R = s M`.
    pub fn split(&self, m: &Matrix3) -> (f64, Matrix3) {
        let s = if m.det() < 0.0 { -1.0 } else { 1.0 };
        (s, m.scale(s))
    }
    /// A Haar-random element: a Haar-random rotation times `±I` with probability ½ each.
    pub fn random<R: Rng + ?Sized>(&self, rng: &mut R) -> Matrix3 {
        let r = So3.random(rng);
        if rng.random::<bool>() {
            r.scale(-1.0)
        } else {
            r
        }
    }
}

/// The rotation of the unit quaternion `(w, x, y, z)`.
fn quaternion_matrix([w, x, y, z]: [f64; 4]) -> Matrix3 {
    Matrix3([
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ])
}
