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
//! Both are the one circle quadrature of `crate::so2_quadrature`, with its cap.
//!
//! SO(3) acts on 3-D point sets `[P, 3]` and on band-limited sphere signals `[L+1, 2L+1, C]`
//! ([`crate::action::sphere`]); O(3) averages the SO(3) averages of `x′` and `−I·x′` (`−p`, or
//! the antipodal resampling `f(−y)` of a sphere signal). On point sets, a network whose first
//! layer flattens the points ([`reads_only_the_input_kernel`]) is averaged
//! by the reduced rule over the trace spectrum of `A = Σ_p x′_p x_pᵀ` ([`trace_spectrum`]: two
//! Gauss–Legendre angles and a running integral of the kernel in `τ = tr(R A)`, geometric
//! convergence also on a Gram diagonal, where ReLU kernels have a kink at `R = I`); any other
//! network, and every network on a sphere, by the Euler-angle rule of [`So3Quadrature`]
//! ([`so3_orbit_kernel_euler`]).

use faer::Mat;

use crate::action::{action_for, Domain, InputAction, InputGroup, RotationKind, Space3};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::Matrix3;
use crate::group::So3Quadrature;
use crate::network::Network;
use crate::so2_quadrature;

mod so3_reduced;

pub use so3_reduced::{reads_only_the_input_kernel, trace_spectrum};

/// An orbit-averaged NNGP and NTK, N1 × N2.
#[derive(Clone, Debug)]
pub struct OrbitKernel {
    /// `K̄(x1_i, x2_j)`.
    pub nngp: Mat<f64>,
    /// `Θ̄(x1_i, x2_j)`.
    pub ntk: Mat<f64>,
    /// Number of group elements (or quadrature angles) averaged over; for the reduced SO(3)
    /// rule, the largest number of kernel evaluations (values of `τ`) of one pair.
    pub samples: usize,
    /// For SO(2), SO(3), O(2), O(3): the change between the last two quadrature levels,
    /// relative to the largest entry (an estimate of the quadrature error); 0 for finite groups.
    pub error_estimate: f64,
}

impl OrbitKernel {
    /// The mean of two averages over the two cosets of a group with reflections (O(2) from
    /// SO(2) of `x′` and of `s x′`, O(3) from SO(3) of `x′` and of `−x′`).
    fn mean_with(self, other: OrbitKernel) -> OrbitKernel {
        let half = faer::Scale(0.5);
        OrbitKernel {
            nngp: (&self.nngp + &other.nngp) * half,
            ntk: (&self.ntk + &other.ntk) * half,
            samples: self.samples + other.samples,
            error_estimate: self.error_estimate.max(other.error_estimate),
        }
    }
}

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
        return Ok(plain.mean_with(mirrored));
    }
    if let InputAction::Continuous3 { reflections, space } = action {
        // A network that flattens the points first: the reduced one-rotation-free rule (point
        // sets only: on a sphere the rotation resamples the signal, it is not linear in R).
        let reduced = matches!(space, Space3::Points) && reads_only_the_input_kernel(net);
        let average = |x2: &Batch, symmetric: bool| {
            if reduced {
                so3_reduced::so3_reduced_average(net, x1, x2, symmetric, tol)
            } else {
                so3_euler_average(net, &space, x1, x2, tol)
            }
        };
        // x2 = x1: only j ≥ i is computed. The O(3) half is symmetric too: a flatten-first
        // kernel is invariant under every orthogonal map of both inputs, −I included.
        let symmetric = std::ptr::eq(x1, x2);
        let plain = average(x2, symmetric)?;
        if !reflections {
            return Ok(plain);
        }
        // O(3) = SO(3) × {I, −I}: the mean of the SO(3) averages of x′ and −I·x′ (−p for
        // points, f(−y) for sphere signals)
        let negated = space.transform_batch(&Matrix3::scalar(-1.0), x2)?;
        let mirrored = average(&negated, symmetric)?;
        return Ok(plain.mean_with(mirrored));
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
    let len = n1 * n2;
    // The values are the NNGP then the NTK, column-major; every change is measured against the
    // largest entry. Where x2_j is x1_i (the diagonal of a Gram matrix) the ReLU NTK has a kink
    // |θ| at θ = 0, a node of every grid, so the Romberg extrapolation is always tried.
    let m = so2_quadrature::refine_sums(
        8,
        tol,
        true,
        || {
            "the SO2 orbit average (is some x2 a rotation of an x1 by an angle off the grid?)"
                .into()
        },
        |n, first, step| {
            let mut s = vec![0.0; 2 * len];
            for k in (first..n).step_by(step) {
                let theta = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
                let kk = net.kernel(x1, Some(&kind.rotate_batch(x2, theta)?))?;
                let (kn, kt) = (kk.nngp()?, kk.ntk()?);
                for j in 0..n2 {
                    for i in 0..n1 {
                        s[j * n1 + i] += kn[(i, j)];
                        s[len + j * n1 + i] += kt[(i, j)];
                    }
                }
            }
            Ok(s)
        },
        |v| {
            let scale = v.iter().fold(0.0f64, |a, b| a.max(b.abs()));
            vec![scale; v.len()]
        },
    )?;
    let v = &m.values;
    Ok(OrbitKernel {
        nngp: Mat::from_fn(n1, n2, |i, j| v[j * n1 + i]),
        ntk: Mat::from_fn(n1, n2, |i, j| v[len + j * n1 + i]),
        samples: m.angles,
        error_estimate: m.estimate,
    })
}

/// The first degree of the SO(3) rule of [`so3_average`] and the last one it refines to.
const SO3_DEGREES: (usize, usize) = (7, 63);

/// Kernel entries per chunk of rotations in [`so3_average`] (bounds its memory).
const SO3_CHUNK_ENTRIES: usize = 1 << 22;

/// `∫ dR k(x1, R·x2)` over SO(3) with the Haar measure, by the Euler-angle rules of
/// [`So3Quadrature`] (trapezoid in α and γ, Gauss–Legendre in cos β), the degree refined
/// `L ↦ 2L + 1` from 7 until the NNGP and NTK change by at most `tol` relative to their largest
/// entry; [`Error::NotConverged`] past degree 63 (131 072 rotations).
///
/// The rotations act on the network's domain ([`Space3`]: point sets or sphere signals).
/// [`orbit_kernel`] uses it for sphere signals and for networks that do not
/// [`reads_only_the_input_kernel`] (for those it takes the reduced rule of [`trace_spectrum`]'s
/// module); it is public as the reference the reduced rule is checked against.
pub fn so3_orbit_kernel_euler(
    net: &Network,
    x1: &Batch,
    x2: &Batch,
    tol: f64,
) -> Result<OrbitKernel> {
    let space = Space3::of(net.domain(), x2.shape())?;
    so3_euler_average(net, &space, x1, x2, tol)
}

fn so3_euler_average(
    net: &Network,
    space: &Space3,
    x1: &Batch,
    x2: &Batch,
    tol: f64,
) -> Result<OrbitKernel> {
    if tol.is_nan() || tol <= 0.0 {
        return Err(Error::Invalid(format!(
            "the SO3 tolerance must be > 0, got {tol}"
        )));
    }
    let (n1, n2) = (x1.len(), x2.len());
    // Rotations go through the kernel a chunk at a time: each chunk is one kernel of x1 against
    // the rotated copies of x2, of about SO3_CHUNK_ENTRIES entries.
    let per_chunk = (SO3_CHUNK_ENTRIES / (n1 * n2).max(1)).max(1);
    let average = |rule: &So3Quadrature| -> Result<(Mat<f64>, Mat<f64>)> {
        let mut nngp = Mat::zeros(n1, n2);
        let mut ntk = Mat::zeros(n1, n2);
        let pairs = rule.rotations().iter().zip(rule.weights());
        let all: Vec<_> = pairs.collect();
        for chunk in all.chunks(per_chunk) {
            let mut rows = Vec::with_capacity(chunk.len() * n2);
            for (r, _) in chunk {
                for j in 0..n2 {
                    rows.push(space.transform(r, x2.example(j)));
                }
            }
            let rotated = Batch::from_examples(x2.shape().to_vec(), &rows)?;
            let k = net.kernel(x1, Some(&rotated))?;
            let (kn, kt) = (k.nngp()?, k.ntk()?);
            for (q, (_, w)) in chunk.iter().enumerate() {
                for j in 0..n2 {
                    for i in 0..n1 {
                        nngp[(i, j)] += *w * kn[(i, q * n2 + j)];
                        ntk[(i, j)] += *w * kt[(i, q * n2 + j)];
                    }
                }
            }
        }
        Ok((nngp, ntk))
    };
    // The work of the finest rule, checked before the first: every rotation is one kernel.
    let finest = So3Quadrature::new(SO3_DEGREES.1)?.len();
    crate::budget::check_kernel(net, n1, n2.saturating_mul(per_chunk.min(finest)))?;
    let (mut degree, last) = SO3_DEGREES;
    let mut rule = So3Quadrature::new(degree)?;
    let mut prev = average(&rule)?;
    let mut samples = rule.len();
    let mut last_change = f64::INFINITY;
    loop {
        let next = 2 * degree + 1;
        if next > last {
            return Err(Error::NotConverged {
                what: format!(
                    "the SO3 orbit average (degree {degree}, {} rotations)",
                    rule.len()
                ),
                tol,
                estimate: last_change,
            });
        }
        degree = next;
        rule = So3Quadrature::new(degree)?;
        let cur = average(&rule)?;
        samples += rule.len();
        let scale = cur.0.norm_max().max(cur.1.norm_max());
        let change = (&cur.0 - &prev.0)
            .norm_max()
            .max((&cur.1 - &prev.1).norm_max())
            / scale.max(f64::MIN_POSITIVE);
        last_change = change;
        if change <= tol {
            return Ok(OrbitKernel {
                nngp: cur.0,
                ntk: cur.1,
                samples,
                error_estimate: change,
            });
        }
        prev = cur;
    }
}
