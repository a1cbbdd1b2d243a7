//! The predictor of a training set augmented with all of SO(2): the exact continuous-group
//! limit through the Fourier modes of `θ ↦ Θ(x, R_θ x')`.
//!
//! With the training orbit `{(R_θ x_i, ρ_Y(θ) y_i) : θ ∈ [0, 2π)}` (normalised Haar measure) the
//! kernel operator is a convolution on the circle, diagonal in the modes `e^{imθ}`; mode `m`
//! carries the `N × N` Hermitian block and the coefficients
//!
//! ```text
//! B_m      = (1/2π) ∫ e^{imθ} A(θ) dθ,          A(θ)_ij = Θ(x_i, R_θ x_j)
//! α_m(x)   = (1/2π) ∫ e^{imθ} a_x(θ) dθ,        a_x(θ)_i = Θ(x, R_θ x_i)
//! û_m[Y]   = Y · (1/2π) ∫ e^{−imθ} ρ_Y(θ)ᵀ dθ
//! μ_t(x)   = Re Σ_m α_m(x) f(B_m + r, η t/(N·O)) û_m[Y]
//! ```
//!
//! (the limit `k → ∞` of the `C_k` block predictor, [`super::BlockPredictor`]). Only the modes of
//! `ρ_Y` enter the mean: `m = 0` for invariant targets — then μ_t is the plain predictor of the
//! SO(2) orbit average `Θ̄ = B_0` — `m = ±1` for vector targets, `|m| ≤ L` for signal targets of
//! `n = 2L + 1` samples. No infinite sum is truncated in the mean.
//!
//! The covariance ([`So2Predictor::covariance`]) is the same block by block with the modes
//! `C_m`, `κ_m(x)` of the NNGP beside those of the NTK, `Σ_t = K + Σ_{m ∈ ℤ} T_m`; there every
//! mode contributes, and the sum is cut at a band `|m| ≤ L` that doubles until the outer half of
//! the modes adds less than `tol` (relative to the prior).
//!
//! **Band limit and aliasing.** Sampling `θ ↦ Θ(x_i, R_θ x_j)` at the `k` angles of `C_k` gives
//! mode `m` as `Σ_j B̂_{m + jk}`: the `C_k`-augmented predictor differs from this limit by the
//! aliasing of the modes `m ± k, m ± 2k, …`. How fast the modes decay decides how fast `C_k`
//! approaches SO(2). An MLP kernel is a function of the correlation `⟨x_i, R_θ x_j⟩/(‖x_i‖‖x_j‖)`
//! (a trigonometric polynomial in θ of degree 1 for point sets, ≤ L for signals of `2L + 1`
//! samples). For an analytic dual activation (erf) the modes decay geometrically,
//! `|B̂_m| ≲ C ρ^{|m|}`, and the `C_k` error is `O(ρ^k)`. ReLU-type kernels are not smooth at
//! correlation 1, which the diagonal pairs `i = j` reach at θ = 0 (`arccos(cos θ) = |θ|`): their
//! modes decay like `m^{−2}` and the `C_k` error like `k^{−2}`.
//!
//! Hence the limit is **not** computed on a grid of equally spaced angles: each integral is split
//! at the angles of largest and smallest correlation (where the only possible non-smoothness
//! sits: correlation ±1) into two panels, each integrated by Gauss–Legendre quadrature, which
//! converges exponentially for integrands analytic on the closed panel; the order starts at
//! [`So2Predictor::INITIAL_NODES`] and doubles until two orders agree to `tol` (relative to the
//! largest value). The last difference is reported as the error estimate; it bounds the error of
//! the coarser rule, the finer rule used is much more accurate.

use std::f64::consts::PI;

use faer::{Mat, MatRef};
use num_complex::Complex64 as C64;

use super::augmentation::RotationKind;
use super::output::OutputTransform;
use super::spectral::{check_time, hermitian_eigen, spectral_factor};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::layer::quadrature::Rule;
use crate::network::Network;
use crate::predict::PSEUDO_INVERSE_RTOL;

/// One Fourier mode: eigendecomposition of `B_m + r` and `Vᴴ û_m[Y]`.
#[derive(Clone, Debug)]
struct Mode {
    m: i64,
    lambda: Vec<f64>,
    vectors: Mat<C64>,
    targets: Mat<C64>,
}

/// The SO(2)-augmented infinite-ensemble mean and covariance (module docs).
#[derive(Clone, Debug)]
pub struct So2Predictor {
    net: Network,
    kind: RotationKind,
    x_train: Batch,
    outputs: usize,
    modes: Vec<Mode>,
    rate: f64,
    cutoff: f64,
    /// `r = diag_reg · mean_i Θ(x_i, x_i)`, added to every mode block.
    regulariser: f64,
    tol: f64,
    points: usize,
    error_estimate: f64,
}

/// The angles maximising and minimising the correlation `⟨x, R_θ y⟩`: where
/// `θ ↦ Θ(x, R_θ y)` can be non-smooth (ReLU-type kernels have kinks at correlation ±1, e.g.
/// `arccos(cos θ) = |θ|`). Found on a grid of 16·E angles (`E` values per example;
/// `⟨x, R_θ y⟩` is a trigonometric polynomial of degree < E) and refined by golden-section
/// search in the best cell.
fn extreme_angles(kind: RotationKind, shape: &[usize], x: &[f64], y: &[f64]) -> Result<[f64; 2]> {
    let corr = |t: f64| -> Result<f64> {
        Ok(kind
            .rotate(y, shape, t)?
            .iter()
            .zip(x)
            .map(|(a, b)| a * b)
            .sum())
    };
    let grid = 16 * x.len().max(4);
    let h = 2.0 * PI / grid as f64;
    let mut out = [0.0; 2];
    for (slot, sign) in [1.0, -1.0].into_iter().enumerate() {
        let mut best = (0.0, f64::NEG_INFINITY);
        for k in 0..grid {
            let t = k as f64 * h;
            let c = sign * corr(t)?;
            if c > best.1 {
                best = (t, c);
            }
        }
        let (mut a, mut b) = (best.0 - h, best.0 + h);
        let g = 0.5 * (5f64.sqrt() - 1.0);
        for _ in 0..60 {
            let (c, d) = (b - g * (b - a), a + g * (b - a));
            if sign * corr(c)? > sign * corr(d)? {
                b = d;
            } else {
                a = c;
            }
        }
        out[slot] = 0.5 * (a + b);
    }
    Ok(out)
}

/// Gauss–Legendre nodes and weights of `∫_{θ_max}^{θ_max + 2π} · dθ/2π` split at `θ_min`
/// (two panels, `order` nodes each).
fn panel_nodes(rule: &Rule, [t_max, t_min]: [f64; 2]) -> Vec<(f64, f64)> {
    let mut lo = t_min;
    if (t_min - t_max).abs() < 1e6 {
        while lo <= t_max {
            lo += 2.0 * PI;
        }
        while lo > t_max + 2.0 * PI {
            lo -= 2.0 * PI;
        }
    } else {
        // Far apart (or not finite): one reduction instead of a loop of ~|Δ|/2π steps.
        let r = (t_min - t_max).rem_euclid(2.0 * PI);
        lo = t_max + if r > 0.0 { r } else { 2.0 * PI };
    }
    let mut out = Vec::with_capacity(2 * rule.nodes.len());
    for (a, b) in [(t_max, lo), (lo, t_max + 2.0 * PI)] {
        let half = 0.5 * (b - a);
        for (u, w) in rule.nodes.iter().zip(&rule.weights) {
            out.push((a + half * (1.0 + u), half * w / (2.0 * PI)));
        }
    }
    out
}

/// Fourier modes of the NTK (and, when asked, the NNGP) along the orbits: `[m]` → `R × N`.
struct ModeIntegrals {
    ntk: Vec<Mat<C64>>,
    /// Empty unless the NNGP was asked for.
    nngp: Vec<Mat<C64>>,
    order: usize,
    rel_diff: f64,
}

/// `(1/2π) ∫ e^{imθ} Θ(x, R_θ y_j) dθ` (and the same for K when `with_nngp`) for every test row
/// `x` of `rows`, every `y_j` and every mode `m`: `[m]` → `R × N` (complex). Each integral runs
/// over `[θ*, θ* + 2π]` from the peak angle θ* of its pair, by Gauss–Legendre with `orders.0`
/// nodes (per panel) doubled until two orders agree to `tol` (relative to the largest value), an
/// error beyond `orders.1` nodes; returns the values, the final order, and the last relative
/// difference.
#[allow(clippy::too_many_arguments)]
fn mode_integrals(
    net: &Network,
    kind: RotationKind,
    rows: &Batch,
    ys: &Batch,
    modes: &[i64],
    tol: f64,
    with_nngp: bool,
    (first, cap): (usize, usize),
) -> Result<ModeIntegrals> {
    let shape = ys.shape().to_vec();
    let (r, n) = (rows.len(), ys.len());
    let mut peaks = vec![[0.0; 2]; r * n];
    for a in 0..r {
        for j in 0..n {
            peaks[a * n + j] = extreme_angles(kind, &shape, rows.example(a), ys.example(j))?;
        }
    }
    let kernels = if with_nngp { 2 } else { 1 };
    // `[kernel · modes + mode]`, kernel 0 = NTK, 1 = NNGP.
    let eval = |order: usize| -> Result<Vec<Mat<C64>>> {
        let rule = Rule::gauss_legendre(order);
        let mut out = vec![Mat::<C64>::zeros(r, n); kernels * modes.len()];
        for a in 0..r {
            let xa = rows.slice(a, a + 1)?;
            let nodes: Vec<Vec<(f64, f64)>> = (0..n)
                .map(|j| panel_nodes(&rule, peaks[a * n + j]))
                .collect();
            let per = 2 * order;
            let mut rot = Vec::with_capacity(n * per);
            for (j, nj) in nodes.iter().enumerate() {
                for &(t, _) in nj {
                    rot.push(kind.rotate(ys.example(j), &shape, t)?);
                }
            }
            let k = net.kernel(&xa, Some(&Batch::from_examples(shape.clone(), &rot)?))?;
            let mut values = vec![k.ntk()?];
            if with_nngp {
                values.push(k.nngp()?);
            }
            for (kk, vals) in values.iter().enumerate() {
                for (j, nj) in nodes.iter().enumerate() {
                    for (q, &(t, w)) in nj.iter().enumerate() {
                        let v = vals[(0, j * per + q)] * w;
                        for (mi, &m) in modes.iter().enumerate() {
                            out[kk * modes.len() + mi][(a, j)] += C64::from_polar(v, m as f64 * t);
                        }
                    }
                }
            }
        }
        Ok(out)
    };
    let mut order = first;
    let mut vals = eval(order)?;
    loop {
        if 2 * order > cap {
            return Err(Error::Numeric(format!(
                "the SO(2) orbit integrals did not converge to tol = {tol:e} with {order} \
                 Gauss–Legendre nodes (is the kernel smooth along the orbit?)"
            )));
        }
        let next = eval(2 * order)?;
        let diff = max_diff(&vals, &next);
        let scale = max_abs(&next).max(1e-300);
        order *= 2;
        vals = next;
        if diff <= tol * scale {
            let nngp = vals.split_off(modes.len());
            return Ok(ModeIntegrals {
                ntk: vals,
                nngp,
                order,
                rel_diff: diff / scale,
            });
        }
    }
}

fn max_abs(ms: &[Mat<C64>]) -> f64 {
    ms.iter()
        .flat_map(|m| {
            (0..m.ncols()).flat_map(move |j| (0..m.nrows()).map(move |i| m[(i, j)].norm()))
        })
        .fold(0.0, f64::max)
}

fn max_diff(a: &[Mat<C64>], b: &[Mat<C64>]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            (0..x.ncols())
                .flat_map(move |j| (0..x.nrows()).map(move |i| (x[(i, j)] - y[(i, j)]).norm()))
        })
        .fold(0.0, f64::max)
}

impl So2Predictor {
    /// First Gauss–Legendre order (per panel) of the orbit integrals.
    pub const INITIAL_NODES: usize = 16;
    /// Largest Gauss–Legendre order before giving up with an error (the covariance at band `L`
    /// starts at `max(INITIAL_NODES, L)` and allows `max(MAX_NODES, 8·L)`).
    pub const MAX_NODES: usize = 256;
    /// First band `L` (modes `|m| ≤ L`) of the covariance sum.
    pub const INITIAL_COV_BAND: i64 = 8;
    /// Largest band of the covariance sum before giving up with an error.
    pub const MAX_COV_BAND: i64 = 128;

    /// Prepares the SO(2)-augmented mean for network `net` trained on `(x_train, y_train)`
    /// (`N × O`), examples rotated as `kind`, targets transforming as `output`.
    ///
    /// `tol` (> 0, e.g. 1e-13) is the relative agreement of two successive quadrature rules at
    /// which `Q` stops doubling. Errors on shapes that cannot rotate, targets that cannot
    /// transform as asked, a bad η / `diag_reg`, or no convergence by [`Self::MAX_NODES`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        net: &Network,
        kind: RotationKind,
        x_train: &Batch,
        y_train: MatRef<f64>,
        output: OutputTransform,
        learning_rate: f64,
        diag_reg: f64,
        tol: f64,
    ) -> Result<Self> {
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(Error::Invalid(format!(
                "the learning rate must be a finite number > 0, got {}",
                crate::symbolic::print::compact_number(learning_rate)
            )));
        }
        if !(diag_reg.is_finite() && diag_reg >= 0.0) {
            return Err(Error::Invalid(format!(
                "diag_reg must be a finite number >= 0, got {}",
                crate::symbolic::print::compact_number(diag_reg)
            )));
        }
        if !(tol.is_finite() && tol > 0.0) {
            return Err(Error::Invalid(format!(
                "tol must be a finite number > 0, got {}",
                crate::symbolic::print::compact_number(tol)
            )));
        }
        net.check_batch(x_train, "x_train")?;
        if RotationKind::of(net.domain()) != Some(kind) {
            return Err(Error::Group(format!(
                "SO2 rotates the inputs as {}, but the network's declared input domain is {} \
                 (declare [input] domain = \"{}\")",
                match kind {
                    RotationKind::Signal => "periodic signals",
                    RotationKind::Points => "planar point sets",
                },
                net.domain(),
                match kind {
                    RotationKind::Signal => "signal",
                    RotationKind::Points => "points",
                }
            )));
        }
        kind.check_shape(x_train.shape())?;
        let (n, o) = (x_train.len(), y_train.ncols());
        if y_train.nrows() != n || o == 0 {
            return Err(Error::Shape(format!(
                "the training targets are {}×{o} for {n} training inputs",
                y_train.nrows()
            )));
        }
        if (0..o).any(|c| (0..n).any(|i| !y_train[(i, c)].is_finite())) {
            return Err(Error::Data(
                "the training targets hold a non-finite value".into(),
            ));
        }
        let shape = x_train.shape().to_vec();
        // Modes of ρ_Y(θ)ᵀ: exact on a grid finer than twice its band limit (≤ n/2 + 1).
        let e: usize = shape.iter().product();
        let qy = 2 * e + 4;
        let rho: Vec<Mat<f64>> = (0..qy)
            .map(|k| output.so2_matrix(kind, &shape, o, 2.0 * PI * k as f64 / qy as f64))
            .collect::<Result<_>>()?;
        let mut coeffs: Vec<(i64, Mat<C64>)> = Vec::new();
        let top = (qy / 2 - 1) as i64;
        for m in -top..=top {
            let mut c = Mat::<C64>::zeros(o, o);
            for (k, r) in rho.iter().enumerate() {
                let w = C64::from_polar(
                    1.0 / qy as f64,
                    -(m as f64) * 2.0 * PI * k as f64 / qy as f64,
                );
                for p in 0..o {
                    for q in 0..o {
                        c[(p, q)] += w * r[(q, p)];
                    }
                }
            }
            if (0..o).any(|p| (0..o).any(|q| c[(p, q)].norm() > 1e-12)) {
                coeffs.push((m, c));
            }
        }
        let modes: Vec<i64> = coeffs.iter().map(|c| c.0).collect();

        let ModeIntegrals {
            ntk: b,
            order: points,
            rel_diff: error_estimate,
            ..
        } = mode_integrals(
            net,
            kind,
            x_train,
            x_train,
            &modes,
            tol,
            false,
            (Self::INITIAL_NODES, Self::MAX_NODES),
        )?;
        let self_kernel = net.kernel(x_train, None)?.ntk()?;
        let mean_diag = (0..n).map(|i| self_kernel[(i, i)]).sum::<f64>() / n as f64;
        let regulariser = diag_reg * mean_diag;
        let yc = Mat::from_fn(n, o, |i, c| C64::new(y_train[(i, c)], 0.0));
        let mut out_modes = Vec::new();
        for ((m, c), mut bm) in coeffs.into_iter().zip(b) {
            for k in 0..n {
                bm[(k, k)] += C64::new(regulariser, 0.0);
            }
            let (lambda, vectors) = hermitian_eigen(&bm, "a Fourier mode of the SO(2) kernel")?;
            let targets = vectors.adjoint() * (&yc * &c);
            out_modes.push(Mode {
                m,
                lambda,
                vectors,
                targets,
            });
        }
        let lambda_max = out_modes
            .iter()
            .flat_map(|m| m.lambda.iter())
            .fold(0.0_f64, |a, &l| a.max(l.abs()));
        Ok(Self {
            net: net.clone(),
            kind,
            x_train: x_train.clone(),
            outputs: o,
            modes: out_modes,
            rate: learning_rate / (n * o) as f64,
            cutoff: PSEUDO_INVERSE_RTOL * n as f64 * lambda_max,
            regulariser,
            tol,
            points,
            error_estimate,
        })
    }

    /// The quadrature size `Q` the training blocks converged at.
    pub fn quadrature_points(&self) -> usize {
        self.points
    }

    /// The relative difference of the last two quadrature rules for the training blocks.
    pub fn error_estimate(&self) -> f64 {
        self.error_estimate
    }

    /// The Fourier modes `m` that enter the mean.
    pub fn modes(&self) -> Vec<i64> {
        self.modes.iter().map(|m| m.m).collect()
    }

    /// `μ_t` at the test inputs (`M × O`); the test integrals `α_m(x)` are converged by the same
    /// doubling rule. `t` may be `f64::INFINITY`.
    pub fn mean(&self, x_test: &Batch, t: f64) -> Result<Mat<f64>> {
        check_time(t)?;
        self.net.check_batch(x_test, "x_test")?;
        let n = self.x_train.len();
        let a = mode_integrals(
            &self.net,
            self.kind,
            x_test,
            &self.x_train,
            &self.modes(),
            self.tol,
            false,
            (Self::INITIAL_NODES, Self::MAX_NODES),
        )?
        .ntk;
        let m = x_test.len();
        let mut out = Mat::<f64>::zeros(m, self.outputs);
        for (mode, alpha) in self.modes.iter().zip(&a) {
            let f: Vec<f64> = mode
                .lambda
                .iter()
                .map(|&l| spectral_factor(l, self.rate * t, self.cutoff))
                .collect();
            let scaled = Mat::from_fn(n, self.outputs, |i, c| mode.targets[(i, c)] * f[i]);
            let mu = alpha * &mode.vectors * &scaled;
            for r in 0..m {
                for c in 0..self.outputs {
                    out[(r, c)] += mu[(r, c)].re;
                }
            }
        }
        if (0..self.outputs).any(|c| (0..m).any(|r| !out[(r, c)].is_finite())) {
            return Err(Error::Numeric(format!(
                "the predicted mean at t = {t} overflowed to a non-finite value"
            )));
        }
        Ok(out)
    }
    /// `Σ_t(x, x')` at the test inputs (`M × M`, the same for every output): MATH.md §8 for the
    /// training set augmented with all of SO(2), mode by mode,
    ///
    /// ```text
    /// G_m       = f(B_m + r, η t/(N·O))                    (N × N, through its eigenbasis)
    /// T_m       = α_m G_m C_m G_m α'_mᴴ − α_m G_m κ'_mᴴ − κ_m G_m α'_mᴴ
    /// Σ_t(x,x') = K(x, x') + Σ_{m ∈ ℤ} T_m = K(x, x') + T_0 + 2 Re Σ_{m ≥ 1} T_m
    /// ```
    ///
    /// with `C_m`, `κ_m(x)` the modes of `θ ↦ K(x_i, R_θ x_j)`, `θ ↦ K(x, R_θ x_j)` built like
    /// `B_m`, `α_m(x)` (module docs); `T_{−m} = conj T_m` since the kernels are real. Unlike the
    /// mean, every mode contributes: the sum runs over `|m| ≤ L`, `L` doubling from
    /// [`Self::INITIAL_COV_BAND`] until the modes `L/2 < |m| ≤ L` add at most `tol · max|K|`.
    /// That is fast for analytic kernels (erf: geometric decay). For a kernel with a kink at
    /// correlation 1 (ReLU) `B_m`, `C_m` decay only like `m⁻²`, but off the training orbits
    /// `α_m`, `κ_m` still decay geometrically and so does `T_m`; a test input on the orbit of a
    /// training input makes `T_m` algebraic, and a tight `tol` is not reached by
    /// [`Self::MAX_COV_BAND`]: an error.
    /// Invariant under rotating both inputs together: `Σ_t(R_α x, R_α x') = Σ_t(x, x')`.
    /// `t` may be `f64::INFINITY`.
    pub fn covariance(&self, x_test: &Batch, t: f64) -> Result<Mat<f64>> {
        check_time(t)?;
        self.net.check_batch(x_test, "x_test")?;
        let prior = self.net.kernel(x_test, None)?.nngp()?;
        let m = x_test.len();
        let scale = (0..m)
            .flat_map(|j| (0..m).map(move |i| (i, j)))
            .fold(0.0_f64, |a, (i, j)| a.max(prior[(i, j)].abs()))
            .max(1e-300);
        let mut band = Self::INITIAL_COV_BAND;
        loop {
            let (total, shell) = self.covariance_sum(x_test, t, band)?;
            let tail = max_abs(std::slice::from_ref(&shell));
            if tail <= self.tol * scale {
                let cov = Mat::from_fn(m, m, |i, j| {
                    let s = |i: usize, j: usize| prior[(i, j)] + total[(i, j)].re;
                    0.5 * (s(i, j) + s(j, i))
                });
                if (0..m).any(|j| (0..m).any(|i| !cov[(i, j)].is_finite())) {
                    return Err(Error::Numeric(format!(
                        "the predicted covariance at t = {t} overflowed to a non-finite value"
                    )));
                }
                return Ok(cov);
            }
            if band >= Self::MAX_COV_BAND {
                return Err(Error::Numeric(format!(
                    "the SO(2) covariance did not converge to tol = {:e} with the Fourier modes \
                     |m| <= {band} (the last modes add {:.1e} relative; is the kernel smooth \
                     along the orbit? use C<k>)",
                    self.tol,
                    tail / scale
                )));
            }
            band *= 2;
        }
    }

    /// `Σ_{|m| ≤ band} T_m` and the part from `band/2 < |m| ≤ band` (both `M × M`, complex with
    /// zero imaginary part up to rounding).
    fn covariance_sum(&self, x_test: &Batch, t: f64, band: i64) -> Result<(Mat<C64>, Mat<C64>)> {
        let modes: Vec<i64> = (0..=band).collect();
        // `e^{imθ}` over a panel of up to 2π needs about `m` nodes: start there, allow 8·band.
        let b = band as usize;
        let orders = (Self::INITIAL_NODES.max(b), Self::MAX_NODES.max(8 * b));
        let train = mode_integrals(
            &self.net,
            self.kind,
            &self.x_train,
            &self.x_train,
            &modes,
            self.tol,
            true,
            orders,
        )?;
        let test = mode_integrals(
            &self.net,
            self.kind,
            x_test,
            &self.x_train,
            &modes,
            self.tol,
            true,
            orders,
        )?;
        let n = self.x_train.len();
        let mut eigen = Vec::with_capacity(modes.len());
        for b in &train.ntk {
            let mut b = b.clone();
            for k in 0..n {
                b[(k, k)] += C64::new(self.regulariser, 0.0);
            }
            eigen.push(hermitian_eigen(&b, "a Fourier mode of the SO(2) kernel")?);
        }
        // The cut-off of the pseudo-inverse counts every block of the sum (as for C_k).
        let lambda_max = eigen
            .iter()
            .flat_map(|(l, _)| l.iter())
            .fold(0.0_f64, |a, &l| a.max(l.abs()));
        let cutoff = self.cutoff.max(PSEUDO_INVERSE_RTOL * n as f64 * lambda_max);
        let m = x_test.len();
        let mut total = Mat::<C64>::zeros(m, m);
        let mut shell = Mat::<C64>::zeros(m, m);
        for (mi, &mode) in modes.iter().enumerate() {
            let (lambda, v) = &eigen[mi];
            let f: Vec<f64> = lambda
                .iter()
                .map(|&l| spectral_factor(l, self.rate * t, cutoff))
                .collect();
            // In the eigenbasis: P = α V diag(f), Q = κ V, c = Vᴴ C V.
            let mut p = &test.ntk[mi] * v;
            for (j, fj) in f.iter().enumerate() {
                for r in 0..m {
                    p[(r, j)] *= *fj;
                }
            }
            let q = &test.nngp[mi] * v;
            let c = v.adjoint() * &train.nngp[mi] * v;
            let quad = &p * &c * p.adjoint();
            let cross = &p * q.adjoint();
            let weight = if mode == 0 { 1.0 } else { 2.0 };
            for j in 0..m {
                for i in 0..m {
                    let term = (quad[(i, j)] - cross[(i, j)] - cross[(j, i)].conj()) * weight;
                    let term = C64::new(term.re, 0.0);
                    total[(i, j)] += term;
                    if 2 * mode > band {
                        shell[(i, j)] += term;
                    }
                }
            }
        }
        Ok((total, shell))
    }
}
/// The training set of an O(2) augmentation written as an SO(2) one. O(2) is the disjoint union
/// of SO(2) and SO(2)·s, so the O(2) orbit of `x` is the SO(2) orbit of `x` together with that of
/// `s x`: augmenting `{(x_i, y_i)}` with O(2) is augmenting
/// `{(x_i, y_i)} ∪ {(s x_i, ρ_Y(s) y_i)}` with SO(2) — the limit `k → ∞` of `D_k`, whose
/// augmented set is that of `C_k` on the doubled set. Rows `N + i` are the reflected copies.
///
/// `ρ_Y(s)`: the identity for invariant targets, `diag(1, −1)` for 2-D vector targets (the
/// reflection `(x, y) ↦ (x, −y)`, which is also the reversal `φ ↦ −φ` of a signal's angle), and
/// `s` itself for targets that transform like the input.
pub fn reflected_training_set(
    kind: RotationKind,
    x: &Batch,
    y: MatRef<f64>,
    output: OutputTransform,
) -> Result<(Batch, Mat<f64>)> {
    let (n, o) = (x.len(), y.ncols());
    if y.nrows() != n {
        return Err(Error::Shape(format!(
            "{} targets for {n} training inputs",
            y.nrows()
        )));
    }
    let e: usize = x.shape().iter().product();
    match output {
        OutputTransform::Input if o != e => {
            return Err(Error::Shape(format!(
                "targets that transform like the input need {e} outputs (one per input value), \
                 got {o}"
            )))
        }
        OutputTransform::Vector if o != 2 => {
            return Err(Error::Shape(format!(
                "vector targets reflecting under O2 need 2 outputs, got {o}"
            )))
        }
        _ => {}
    }
    let shape = x.shape().to_vec();
    let mut rows: Vec<Vec<f64>> = (0..n).map(|i| x.example(i).to_vec()).collect();
    for i in 0..n {
        rows.push(kind.reflect(x.example(i), &shape)?);
    }
    let mut out = Mat::zeros(2 * n, o);
    for i in 0..n {
        let row: Vec<f64> = (0..o).map(|c| y[(i, c)]).collect();
        let reflected = match output {
            OutputTransform::Invariant => row.clone(),
            OutputTransform::Vector => vec![row[0], -row[1]],
            OutputTransform::Input => kind.reflect(&row, &shape)?,
        };
        for c in 0..o {
            out[(i, c)] = row[c];
            out[(n + i, c)] = reflected[c];
        }
    }
    Ok((Batch::from_examples(shape, &rows)?, out))
}
