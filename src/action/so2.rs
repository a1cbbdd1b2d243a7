//! SO(2) and O(2) acting on periodic signals (phase rotation of Fourier modes, reversal) and on
//! planar point sets (rotation and reflection of every point).

use std::f64::consts::PI;

use faer::Mat;

use super::Domain;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::So2;

/// How a rotation `R_θ` and the reflection `s` of O(2) act on one example.
///
/// * [`RotationKind::Signal`], a periodic signal `[n, C]`: `R_θ` multiplies Fourier mode `m` by
///   `e^{−imθ}` ([`rotate_signal`]: the cyclic shift by `k` samples when `θ = 2πk/n`, band-limited
///   interpolation for other angles and odd `n`); `s` is the reversal `(s·x)[i] = x[−i mod n]`.
/// * [`RotationKind::Points`], a point set `[P, 2]` (or one point `[2]`): every point is
///   multiplied by `R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]` ([`rotate_points`]); `s` is
///   `diag(1, −1)`, i.e. `(x, y) ↦ (x, −y)`.
///
/// In both cases `s R_θ s = R_{−θ}`, so `θ ↦ R_θ` and `s` generate a representation of O(2);
/// the element "`R_θ` after `s`" is [`RotationKind::transform`] with `reflect = true`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationKind {
    /// A periodic signal `[n, C]`.
    Signal,
    /// A planar point set `[P, 2]`.
    Points,
}

impl RotationKind {
    /// The rotation kind of a domain: signals and planar point sets; `None` for the others.
    pub fn of(domain: Domain) -> Option<Self> {
        match domain {
            Domain::Signal => Some(RotationKind::Signal),
            Domain::Points => Some(RotationKind::Points),
            _ => None,
        }
    }

    /// Checks that examples of `shape` can be rotated by any angle.
    pub fn check_shape(self, shape: &[usize]) -> Result<()> {
        match (self, shape) {
            (RotationKind::Points, [2]) => Ok(()),
            (RotationKind::Points, [p, 2]) if *p > 0 => Ok(()),
            (RotationKind::Points, _) => Err(Error::Group(format!(
                "rotations of point sets need examples of shape [P, 2], got {shape:?}"
            ))),
            (RotationKind::Signal, [n, c]) if n % 2 == 1 && *c > 0 => Ok(()),
            (RotationKind::Signal, [n, _]) => Err(Error::Group(format!(
                "rotating a periodic signal by arbitrary angles needs an odd number of samples \
                 (band-limited interpolation), got n = {n}"
            ))),
            (RotationKind::Signal, _) => Err(Error::Group(format!(
                "rotations of periodic signals need examples of shape [n, C], got {shape:?}"
            ))),
        }
    }

    /// The degree of the trigonometric polynomial `θ ↦ ⟨x, R_θ x′⟩` for examples of `shape`:
    /// 1 for point sets (`R_θ` has entries cos θ, sin θ), `(n − 1)/2` for signals `[n, C]`
    /// (their band-limited interpolation has frequencies up to that).
    pub fn band_limit(self, shape: &[usize]) -> usize {
        match (self, shape) {
            (RotationKind::Points, _) => 1,
            (RotationKind::Signal, [n, ..]) => n.saturating_sub(1) / 2,
            (RotationKind::Signal, _) => 0,
        }
    }

    /// `R_θ x` for one example `x` of `shape`.
    pub fn rotate(self, x: &[f64], shape: &[usize], theta: f64) -> Result<Vec<f64>> {
        match (self, shape) {
            (RotationKind::Points, [2]) => rotate_points(x, &[1, 2], theta),
            (RotationKind::Points, _) => rotate_points(x, shape, theta),
            (RotationKind::Signal, _) => rotate_signal(x, shape, theta),
        }
    }

    /// `s x` for one example `x` of `shape`: the reversal of a signal, `diag(1, −1)` on points.
    pub fn reflect(self, x: &[f64], shape: &[usize]) -> Result<Vec<f64>> {
        match (self, shape) {
            (RotationKind::Points, [2] | [_, 2]) if x.len() == shape.iter().product::<usize>() => {
                Ok(x.chunks(2).flat_map(|p| [p[0], -p[1]]).collect())
            }
            (RotationKind::Signal, [n, c]) if x.len() == n * c && *n > 0 => {
                let mut out = vec![0.0; x.len()];
                for i in 0..*n {
                    let j = (n - i) % n;
                    out[i * c..(i + 1) * c].copy_from_slice(&x[j * c..(j + 1) * c]);
                }
                Ok(out)
            }
            _ => Err(Error::Shape(format!(
                "cannot reflect {} values as {} of shape {shape:?}",
                x.len(),
                match self {
                    RotationKind::Points => "a point set",
                    RotationKind::Signal => "a periodic signal",
                }
            ))),
        }
    }

    /// `R_θ s^r x` (`r = reflect`): the O(2) element "reflect, then rotate by θ".
    pub fn transform(
        self,
        x: &[f64],
        shape: &[usize],
        theta: f64,
        reflect: bool,
    ) -> Result<Vec<f64>> {
        if reflect {
            self.rotate(&self.reflect(x, shape)?, shape, theta)
        } else {
            self.rotate(x, shape, theta)
        }
    }

    /// `R_θ` applied to every example of a batch.
    pub fn rotate_batch(self, batch: &Batch, theta: f64) -> Result<Batch> {
        self.transform_batch(batch, theta, false)
    }

    /// `s` applied to every example of a batch.
    pub fn reflect_batch(self, batch: &Batch) -> Result<Batch> {
        let shape = batch.shape().to_vec();
        let rows = (0..batch.len())
            .map(|i| self.reflect(batch.example(i), &shape))
            .collect::<Result<Vec<_>>>()?;
        Batch::from_examples(shape, &rows)
    }

    /// [`RotationKind::transform`] applied to every example of a batch.
    pub fn transform_batch(self, batch: &Batch, theta: f64, reflect: bool) -> Result<Batch> {
        let shape = batch.shape().to_vec();
        let rows = (0..batch.len())
            .map(|i| self.transform(batch.example(i), &shape, theta, reflect))
            .collect::<Result<Vec<_>>>()?;
        Batch::from_examples(shape, &rows)
    }
}

/// If `θ = 2πk/n` for an integer `k` (to `1e-9` in units of samples), that `k mod n`.
pub(crate) fn as_shift(n: usize, theta: f64) -> Option<usize> {
    let k = So2::reduce(theta) * n as f64 / (2.0 * PI);
    let r = k.round();
    ((k - r).abs() < 1e-9).then(|| (r as usize) % n.max(1))
}

/// The `n×n` real matrix `M(θ)` rotating a periodic signal of `n` samples by `θ`:
/// `(R_θ x)[i] = Σ_j M(θ)[i, j] x[j]`.
///
/// * `θ = 2πk/n`: the cyclic shift by `k` samples, `M[i, j] = [i − j ≡ k (mod n)]`;
/// * otherwise, for odd `n = 2L + 1`, band-limited (trigonometric-interpolation) rotation: every
///   Fourier mode `m ∈ {−L..L}` is multiplied by `e^{−imθ}`, i.e.
///   `M[i, j] = (1/n) (1 + 2 Σ_{m=1}^{L} cos(m(2π(i−j)/n − θ)))`;
/// * otherwise (even `n`): an error, since the Nyquist mode has no rotation.
pub fn signal_rotation_matrix(n: usize, theta: f64) -> Result<Mat<f64>> {
    if n == 0 {
        return Err(Error::Shape("a signal needs at least one sample".into()));
    }
    if !theta.is_finite() {
        return Err(Error::Data(format!("rotation angle {theta} is not finite")));
    }
    if let Some(k) = as_shift(n, theta) {
        return Ok(Mat::from_fn(n, n, |i, j| {
            if (i + n - j) % n == k {
                1.0
            } else {
                0.0
            }
        }));
    }
    if n % 2 == 0 {
        return Err(Error::Group(format!(
            "cannot rotate a periodic signal of even length {n} by θ = {theta} rad: only \
             multiples of 2π/{n} are defined (band-limited rotation needs an odd length)"
        )));
    }
    let l = (n - 1) / 2;
    Ok(Mat::from_fn(n, n, |i, j| {
        let phi = 2.0 * PI * (i as f64 - j as f64) / n as f64 - theta;
        (1.0 + 2.0 * (1..=l).map(|m| (m as f64 * phi).cos()).sum::<f64>()) / n as f64
    }))
}

/// Rotate one periodic signal of shape `[n, C]` by `θ` (channels untouched); see
/// [`signal_rotation_matrix`] for when this is defined.
pub fn rotate_signal(x: &[f64], shape: &[usize], theta: f64) -> Result<Vec<f64>> {
    let (n, c) = match shape {
        [n, c] if *n > 0 && *c > 0 => (*n, *c),
        _ => {
            return Err(Error::Shape(format!(
                "SO(2) rotates periodic signals of shape [n, C], got {shape:?}"
            )))
        }
    };
    if x.len() != n * c {
        return Err(Error::Shape(format!(
            "a signal of shape {shape:?} has {} values, got {}",
            n * c,
            x.len()
        )));
    }
    let m = signal_rotation_matrix(n, theta)?;
    let mut out = vec![0.0; n * c];
    for i in 0..n {
        for j in 0..n {
            let w = m[(i, j)];
            if w != 0.0 {
                for ch in 0..c {
                    out[i * c + ch] += w * x[j * c + ch];
                }
            }
        }
    }
    Ok(out)
}

/// Rotate every point of a point set `[P, 2]` by `R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]`.
pub fn rotate_points(points: &[f64], shape: &[usize], theta: f64) -> Result<Vec<f64>> {
    match shape {
        [p, 2] if points.len() == 2 * p => {}
        _ => {
            return Err(Error::Shape(format!(
                "SO(2) rotates point sets of shape [P, 2] ({} values given), got shape {shape:?}",
                points.len()
            )))
        }
    }
    if !theta.is_finite() {
        return Err(Error::Data(format!("rotation angle {theta} is not finite")));
    }
    let (s, c) = theta.sin_cos();
    Ok(points
        .chunks(2)
        .flat_map(|p| [c * p[0] - s * p[1], s * p[0] + c * p[1]])
        .collect())
}

/// Rotate a band-limited signal given by its real Fourier coordinates in `⊕_m R²`.
///
/// Layout (length `2L + 1`): `v = [c_0, Re c_1, Im c_1, …, Re c_L, Im c_L]` with
/// `c_m = (1/n) Σ_j x[j] e^{−2πi m j/n}` the Fourier coefficients of a real signal. Rotation by
/// `θ` maps `c_m ↦ e^{−imθ} c_m`, i.e. each pair `(Re c_m, Im c_m)` is rotated by `R(−mθ)`;
/// `c_0` is invariant. This is the real representation `trivial ⊕ rot_1 ⊕ … ⊕ rot_L` evaluated at
/// `−θ`.
pub fn rotate_fourier_coefficients(v: &[f64], theta: f64) -> Result<Vec<f64>> {
    if v.len() % 2 == 0 {
        return Err(Error::Shape(format!(
            "Fourier coordinates [c_0, Re c_1, Im c_1, …] have odd length 2L+1, got {}",
            v.len()
        )));
    }
    if !theta.is_finite() {
        return Err(Error::Data(format!("rotation angle {theta} is not finite")));
    }
    let mut out = v.to_vec();
    for (m, pair) in out[1..].chunks_mut(2).enumerate() {
        let (s, c) = (-((m + 1) as f64) * theta).sin_cos();
        let (a, b) = (pair[0], pair[1]);
        pair[0] = c * a - s * b;
        pair[1] = s * a + c * b;
    }
    Ok(out)
}
