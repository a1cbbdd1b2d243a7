//! Orbit averages: the kernel of an infinite ensemble trained on fully augmented data
//! (MATH.md §6).
//!
//! ```text
//! k̄(x, x') = (1/|G|) Σ_g k(x, ρ(g) x')          (SO(2): (1/2π) ∫ dθ k(x, R_θ x'))
//! ```
//!
//! For a kernel invariant under simultaneous transformation of both inputs, `k̄` is symmetric,
//! positive semi-definite and invariant in each argument; by Result A (MATH.md §7) it is the
//! kernel of the G-CNN built from the same layers.
//!
//! Every group acts through [`crate::action::action_for`] on the network's declared input domain
//! ([`Network::domain`]). SO(2) acts on odd-length periodic signals `[n, C]` by band-limited phase
//! rotation and on planar point sets `[P, 2]` (and a single point `[2]`) by rotating each point;
//! O(2) adds the reflection, and its average is the mean of the SO(2) averages of `x′` and of
//! `s x′`. The SO(2) Haar average is the trapezoidal rule on N equally
//! spaced angles (the C_N subgroup), N doubling until two successive averages agree to the
//! tolerance — geometric convergence for kernels smooth in the angle. Where an `x2` is an `x1`
//! (a Gram matrix's diagonal), ReLU-type kernels have a kink at angle 0; Romberg extrapolation
//! of the same trapezoid sums then converges instead (whichever settles first is returned).

use faer::Mat;

use crate::action::{action_for, Domain, InputAction, InputGroup, RotationKind};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::network::Network;

/// An orbit-averaged NNGP and NTK, N1 × N2.
#[derive(Clone, Debug)]
pub struct OrbitKernel {
    /// `K̄(x1_i, x2_j)`.
    pub nngp: Mat<f64>,
    /// `Θ̄(x1_i, x2_j)`.
    pub ntk: Mat<f64>,
    /// Number of group elements (or quadrature angles) averaged over.
    pub samples: usize,
    /// For SO(2): the change between the last two quadrature levels, relative to the largest
    /// entry (an estimate of the quadrature error); 0 for finite groups.
    pub error_estimate: f64,
}

/// Largest SO(2) quadrature grid tried before giving up.
const SO2_MAX_ANGLES: usize = 1 << 12;

/// The NNGP and NTK of `net` averaged over the orbit of `x2` (`None`: `x2 = x1`) under `group`
/// acting on the network's input domain ([`Network::domain`], [`action_for`]).
///
/// For SO(2) and O(2), `tol` is the relative accuracy asked of the quadrature (e.g. 1e-12); it
/// is ignored for finite groups.
pub fn orbit_kernel(
    net: &Network,
    x1: &Batch,
    x2: Option<&Batch>,
    group: impl Into<InputGroup>,
    tol: f64,
) -> Result<OrbitKernel> {
    let x2 = x2.unwrap_or(x1);
    net.check_batch(x1, "x1")?;
    net.check_batch(x2, "x2")?;
    let (n1, n2) = (x1.len(), x2.len());
    let action = action_for(group, net.domain(), x2.shape())?;
    if let InputAction::Continuous { kind, reflections } = action {
        let plain = so2_average(net, kind, x1, x2, tol)?;
        if !reflections {
            return Ok(plain);
        }
        let mirrored = so2_average(net, kind, x1, &kind.reflect_batch(x2)?, tol)?;
        let half = faer::Scale(0.5);
        return Ok(OrbitKernel {
            nngp: (&plain.nngp + &mirrored.nngp) * half,
            ntk: (&plain.ntk + &mirrored.ntk) * half,
            samples: plain.samples + mirrored.samples,
            error_estimate: plain.error_estimate.max(mirrored.error_estimate),
        });
    }
    let order = action.order().expect("finite groups have an order");
    let mut nngp = Mat::zeros(n1, n2);
    let mut ntk = Mat::zeros(n1, n2);
    for g in 0..order {
        let k = net.kernel(x1, Some(&action.act_on_batch(g, x2)?))?;
        nngp += k.nngp()?;
        ntk += k.ntk()?;
    }
    let w = 1.0 / order as f64;
    Ok(OrbitKernel {
        nngp: nngp * faer::Scale(w),
        ntk: ntk * faer::Scale(w),
        samples: order,
        error_estimate: 0.0,
    })
}

/// Rotate every example of a batch by θ as SO(2) acts on `domain` (signals and planar point
/// sets, [`RotationKind`]); other domains are [`Error::NoAction`].
pub fn rotate_batch(x: &Batch, domain: Domain, theta: f64) -> Result<Batch> {
    let kind = RotationKind::of(domain).ok_or_else(|| Error::NoAction {
        group: "SO2".into(),
        domain: domain.name().into(),
        allowed: domain.groups().into(),
    })?;
    kind.rotate_batch(x, theta)
}

fn so2_average(
    net: &Network,
    kind: RotationKind,
    x1: &Batch,
    x2: &Batch,
    tol: f64,
) -> Result<OrbitKernel> {
    if tol.is_nan() || tol <= 0.0 {
        return Err(Error::Invalid(format!(
            "the SO2 tolerance must be > 0, got {tol}"
        )));
    }
    let (n1, n2) = (x1.len(), x2.len());
    // Sums over the angles 2πk/N; doubling N reuses the even angles.
    let mut sum_k = Mat::<f64>::zeros(n1, n2);
    let mut sum_t = Mat::<f64>::zeros(n1, n2);
    let mut add = |n: usize| -> Result<()> {
        for k in 0..n {
            let theta = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            let kk = net.kernel(x1, Some(&kind.rotate_batch(x2, theta)?))?;
            sum_k += kk.nngp()?;
            sum_t += kk.ntk()?;
        }
        Ok(())
    };
    let mut n = 8;
    add(n)?;
    // Trapezoid averages are geometrically accurate for integrands smooth in the angle. Where
    // x2_j is x1_i (the diagonal of a Gram matrix) the ReLU NTK has a kink |θ| at θ = 0, a node
    // of every grid: the error is then an even power series in 1/N (Euler–Maclaurin), which
    // Romberg extrapolation over the doublings removes. The first of the two to settle wins.
    let mut prev: Option<(Mat<f64>, Mat<f64>)> = None;
    let mut romberg_prev: Vec<(Mat<f64>, Mat<f64>)> = Vec::new();
    loop {
        let w = faer::Scale(1.0 / n as f64);
        let (k, t) = (&sum_k * w, &sum_t * w);
        // Romberg row: R[m][0] = trapezoid, R[m][j] = R[m][j−1] + (R[m][j−1] − R[m−1][j−1])/(4^j − 1).
        let mut row = vec![(k.clone(), t.clone())];
        for (j, (pk, pt)) in romberg_prev.iter().enumerate() {
            let c = faer::Scale(1.0 / (4f64.powi(j as i32 + 1) - 1.0));
            let (rk, rt) = &row[j];
            let next = (rk + (rk - pk) * c, rt + (rt - pt) * c);
            row.push(next);
        }
        if let Some((pk, pt)) = &prev {
            let scale = max_abs(&k).max(max_abs(&t)).max(f64::MIN_POSITIVE);
            let change = |a: (&Mat<f64>, &Mat<f64>), b: (&Mat<f64>, &Mat<f64>)| {
                max_abs(&(a.0 - b.0)).max(max_abs(&(a.1 - b.1))) / scale
            };
            let trapezoid = change((&k, &t), (pk, pt));
            let (rk, rt) = row.last().expect("non-empty");
            let (qk, qt) = romberg_prev.last().expect("a previous level");
            let romberg = change((rk, rt), (qk, qt));
            if trapezoid <= tol {
                return Ok(OrbitKernel {
                    nngp: k,
                    ntk: t,
                    samples: n,
                    error_estimate: trapezoid,
                });
            }
            if romberg <= tol {
                let (nngp, ntk) = row.pop().expect("non-empty");
                return Ok(OrbitKernel {
                    nngp,
                    ntk,
                    samples: n,
                    error_estimate: romberg,
                });
            }
            if n >= SO2_MAX_ANGLES {
                return Err(Error::Numeric(format!(
                    "the SO2 orbit average did not reach the tolerance {tol:e} with {n} angles \
                     (last change {:.1e}; is some x2 a rotation of an x1 by an angle off the \
                     grid 2πk/{n}?)",
                    trapezoid.min(romberg)
                )));
            }
        }
        romberg_prev = row;
        prev = Some((k, t));
        // New angles: the odd multiples of 2π/(2N).
        n *= 2;
        let mut odd = |n: usize| -> Result<()> {
            for k in (1..n).step_by(2) {
                let theta = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
                let kk = net.kernel(x1, Some(&kind.rotate_batch(x2, theta)?))?;
                sum_k += kk.nngp()?;
                sum_t += kk.ntk()?;
            }
            Ok(())
        };
        odd(n)?;
    }
}

fn max_abs(m: &Mat<f64>) -> f64 {
    let mut a = 0.0f64;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            a = a.max(m[(i, j)].abs());
        }
    }
    a
}
