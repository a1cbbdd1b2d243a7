//! The SO(3) orbit average of a network that reads its 3-D point sets only through the input
//! kernel, as a low-dimensional integral over the spectrum of the points' cross-covariance.
//!
//! # The reduction
//!
//! If the first layer flattens the input ([`reads_only_the_input_kernel`]), the kernel of the
//! pair `(x, R x′)` depends on the inputs only through `⟨x, x⟩`, `⟨x′, x′⟩` and
//! `τ = ⟨x, R x′⟩ = Σ_p ⟨x_p, R x′_p⟩ = tr(R A)` with `A = Σ_p x′_p x_pᵀ` (3 × 3):
//! `k(x, R x′) = F(τ)` for a scalar function `F` of the pair. With the signed singular value
//! decomposition `A = U diag(s) Vᵀ` (`U, V ∈ SO(3)`, `s₁ ≥ s₂ ≥ |s₃|`, `sign s₃ = sign det A`),
//! `tr(R A) = tr(R′ diag(s))` with `R′ = Vᵀ R U` Haar-distributed when `R` is. In the unit
//! quaternion `q` of `R′` (uniform on S³ under the Haar measure)
//!
//! ```text
//! R′₁₁ = q₀² + q₁² − q₂² − q₃²,  R′₂₂ = q₀² − q₁² + q₂² − q₃²,  R′₃₃ = q₀² − q₁² − q₂² + q₃²
//! τ = Σᵢ λᵢ wᵢ,   w = (q₀², q₁², q₂², q₃²) ~ Dirichlet(½, ½, ½, ½),
//! λ = (s₁ + s₂ + s₃, s₁ − s₂ − s₃, −s₁ + s₂ − s₃, −s₁ − s₂ + s₃),   λ₁ ≥ λ₂ ≥ λ₃ ≥ λ₄.
//! ```
//!
//! By the aggregation property of the Dirichlet law, `u = w₁ + w₂ ~ U(0, 1)`, `a = w₁/u` and
//! `b = w₃/(1 − u)` are independent, `a, b ~ Beta(½, ½)`, and `τ = u 𝒜 + (1 − u) ℬ` with
//! `𝒜 = λ₂ + (λ₁ − λ₂) a ∈ [λ₂, λ₁]`, `ℬ = λ₄ + (λ₃ − λ₄) b ∈ [λ₄, λ₃]`, so `𝒜 ≥ ℬ`. The
//! uniform `u` integrates in closed form against an antiderivative `G′ = F`, and the arcsine
//! laws become uniform angles (`a = (1 + cos φ)/2`):
//!
//! ```text
//! ∫_SO(3) k(x, R x′) dR = (1/π²) ∫₀^π ∫₀^π [G(𝒜(φ)) − G(ℬ(ψ))] / [𝒜(φ) − ℬ(ψ)] dφ dψ
//! ```
//!
//! (`F(𝒜)` where `𝒜 = ℬ`). `F` is analytic on `(−S, S)`, `S = ‖x‖ ‖x′‖ ≥ ‖A‖_* ≥ |λᵢ|`, and
//! may have branch points at `τ = ±S` (ReLU-type kernels where `x′` is a rotation of `x` or of
//! `−x`, e.g. on a Gram diagonal: there `λ₁ = S`), where it is analytic in `√(S ∓ τ)`. Then
//! `G(𝒜(φ))` is analytic in `φ` on `[0, π]` (`S − 𝒜 = (λ₁ − λ₂) sin²(φ/2)`), so
//! Gauss–Legendre rules in `φ` and `ψ` on `[0, π]` converge geometrically in both cases.
//!
//! # The quadrature
//!
//! The rule of level `N` takes the `N`-point Gauss–Legendre rule in `φ` and in `ψ`. `G` is
//! needed only at the `2N` nodes `𝒜_k`, `ℬ_l`: sorted, `G` is the running sum of `F`
//! integrated between consecutive nodes, each gap cut into pieces no longer than their
//! distance to `±S` (geometric grading towards the branch points) and integrated by the
//! [`PIECE_NODES`]-point Gauss–Legendre rule; a piece that ends on a branch point (single
//! points and collinear sets on a Gram diagonal, where `𝒜 ≡ S`) is integrated in
//! `τ = S − L y²`, which makes `√(S − τ)` analytic. The `F` values, for the NNGP and the NTK
//! alike, are one kernel evaluation of the network on synthetic inputs with the same norms and
//! the inner product `τ`. Levels `N = 8, 16, …, 256`; a pair is done when two successive levels
//! differ by at most `tol` relative to the largest entry of either matrix (the estimate
//! reported); [`Error::NotConverged`] past the last level. `A = 0` (a zero point set) gives
//! `F(0)`; rank-one `A` (a single point, or collinear sets) gives `λ = (s₁, s₁, −s₁, −s₁)`,
//! the mean of `F` over `[−s₁, s₁]`.

use faer::Mat;
use rayon::prelude::*;

use super::OrbitKernel;
use crate::action::Domain;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::gauss_legendre::gauss_legendre;
use crate::network::Network;

/// Gauss–Legendre nodes per piece of the running integral of `F`.
pub(crate) const PIECE_NODES: usize = 12;

/// The levels `N` (Gauss–Legendre nodes per angle) of the reduced SO(3) rule.
const LEVELS: [usize; 6] = [8, 16, 32, 64, 128, 256];

/// Whether the network's kernel depends on a 3-D point set `[P, 3]` only through the input
/// kernel `K⁰(x, y) = ⟨x, y⟩ / 3P`: its first layer flattens the points (every later layer then
/// sees one site), so `k(x, R x′)` is a function of `⟨x, x⟩`, `⟨x′, x′⟩`, `tr(R A)`.
pub fn reads_only_the_input_kernel(net: &Network) -> bool {
    let shape = net.input_shape();
    net.domain() == Domain::Points
        && shape.len() == 2
        && shape[1] == 3
        && net.layers().first().map(|l| l.kind()) == Some("flatten")
        && net.layers().iter().all(|l| l.lifts_to().is_none())
}

/// `λ = (s₁ + s₂ + s₃, s₁ − s₂ − s₃, −s₁ + s₂ − s₃, −s₁ − s₂ + s₃)` (descending) for the signed
/// singular values of `A` (`s₁ ≥ s₂ ≥ |s₃|`, `sign s₃ = sign det A`): for `R` with unit
/// quaternion `q` in the frame of the signed SVD, `tr(R A) = Σᵢ λᵢ qᵢ²`.
pub fn trace_spectrum(a: &[[f64; 3]; 3]) -> [f64; 4] {
    let s = signed_singular_values(a);
    [
        s[0] + s[1] + s[2],
        s[0] - s[1] - s[2],
        -s[0] + s[1] - s[2],
        -s[0] - s[1] + s[2],
    ]
}

/// The signed singular values `s₁ ≥ s₂ ≥ |s₃|` of a 3 × 3 matrix, `sign s₃ = sign det A`, by
/// one-sided Jacobi rotations of the columns (accurate to rounding relative to `s₁`).
pub(crate) fn signed_singular_values(a: &[[f64; 3]; 3]) -> [f64; 3] {
    let det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
        - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    // columns of A
    let mut c = [[0.0; 3]; 3];
    for (j, col) in c.iter_mut().enumerate() {
        for (i, v) in col.iter_mut().enumerate() {
            *v = a[i][j];
        }
    }
    let dot = |x: &[f64; 3], y: &[f64; 3]| x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
    for _sweep in 0..60 {
        let mut rotated = false;
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            let alpha = dot(&c[p], &c[p]);
            let beta = dot(&c[q], &c[q]);
            let gamma = dot(&c[p], &c[q]);
            if gamma.abs() <= 1e-17 * (alpha * beta).sqrt() || gamma == 0.0 {
                continue;
            }
            rotated = true;
            let zeta = (beta - alpha) / (2.0 * gamma);
            let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
            let t = if zeta == 0.0 { 1.0 } else { t };
            let cs = 1.0 / (1.0 + t * t).sqrt();
            let sn = cs * t;
            let (cp, cq) = (c[p], c[q]);
            for i in 0..3 {
                c[p][i] = cs * cp[i] - sn * cq[i];
                c[q][i] = sn * cp[i] + cs * cq[i];
            }
        }
        if !rotated {
            break;
        }
    }
    let mut s = [
        dot(&c[0], &c[0]).sqrt(),
        dot(&c[1], &c[1]).sqrt(),
        dot(&c[2], &c[2]).sqrt(),
    ];
    s.sort_by(|x, y| y.total_cmp(x));
    if det < 0.0 {
        s[2] = -s[2];
    }
    s
}

/// A Gauss–Legendre rule on `[−1, 1]`: nodes and weights.
type GlRule = (Vec<f64>, Vec<f64>);

/// The Gauss–Legendre rule on `[−1, 1]`, cached per size.
fn rule(n: usize) -> &'static GlRule {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, OnceLock};
    static RULES: OnceLock<Mutex<BTreeMap<usize, &'static GlRule>>> = OnceLock::new();
    let rules = RULES.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut map = rules.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(n).or_insert_with(|| {
        Box::leak(Box::new(
            gauss_legendre(n).expect("Gauss–Legendre sizes here are small and positive"),
        ))
    })
}

/// One refined pair: its index, the NNGP and NTK averages and the number of `F` nodes.
type PairValue = (usize, f64, f64, usize);

/// One pair `(x, x′)`: the norms and the trace spectrum.
#[derive(Clone, Copy, Debug)]
struct Pair {
    /// `⟨x, x⟩`, `⟨x′, x′⟩`.
    norms: (f64, f64),
    lambda: [f64; 4],
}

impl Pair {
    fn new(x: &[f64], y: &[f64]) -> Self {
        let mut a = [[0.0; 3]; 3];
        for (p, q) in x.chunks(3).zip(y.chunks(3)) {
            // A = Σ_p x′_p x_pᵀ
            for (i, row) in a.iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v += q[i] * p[j];
                }
            }
        }
        let n = |v: &[f64]| v.iter().map(|t| t * t).sum::<f64>();
        Pair {
            norms: (n(x), n(y)),
            lambda: trace_spectrum(&a),
        }
    }

    /// `S = ‖x‖ ‖x′‖`, the largest `|τ|`.
    fn bound(&self) -> f64 {
        (self.norms.0 * self.norms.1).sqrt()
    }
}

/// The nodes where `F` is needed at one level and how they combine into the average.
#[derive(Debug)]
struct Plan {
    /// Inner products `τ` at which `F` is evaluated.
    tau: Vec<f64>,
    /// Weight of each node in the running integral of `F`.
    weight: Vec<f64>,
    /// The form of the average.
    form: Form,
}

#[derive(Debug)]
enum Form {
    /// `F(tau[0])` (`A = 0`: every rotation gives the same `τ`).
    Constant,
    /// The double sum over the angle nodes.
    Angles {
        /// `𝒜_k` then `ℬ_l`, in node order, with their (Gauss–Legendre / 2) weights.
        points: Vec<f64>,
        point_weight: Vec<f64>,
        n: usize,
        /// `order[r]`: the point at sorted rank `r`; `tau[r]` is `F` at it (weight 0), and the
        /// nodes of the gap from rank `r − 1` to `r` are `gap[r - 1]..gap[r]` (offset `2n`).
        order: Vec<usize>,
        gap: Vec<usize>,
    },
}

impl Plan {
    fn new(pair: &Pair, n: usize) -> Plan {
        let lam = pair.lambda;
        let s_max = pair.bound();
        let range = lam[0] - lam[3];
        if s_max == 0.0 || range <= 1e-14 * s_max {
            return Plan {
                tau: vec![0.5 * (lam[0] + lam[3])],
                weight: vec![0.0],
                form: Form::Constant,
            };
        }
        let (y, w) = rule(n);
        let mut points = Vec::with_capacity(2 * n);
        let mut point_weight = Vec::with_capacity(2 * n);
        for (lo, hi) in [(lam[1], lam[0]), (lam[3], lam[2])] {
            for (yk, wk) in y.iter().zip(w) {
                let phi = 0.5 * std::f64::consts::PI * (1.0 + yk);
                let p = lo + (hi - lo) * 0.5 * (1.0 + phi.cos());
                points.push(p.clamp(-s_max, s_max));
                point_weight.push(0.5 * wk);
            }
        }
        let mut order: Vec<usize> = (0..2 * n).collect();
        order.sort_by(|&i, &j| points[i].total_cmp(&points[j]));
        let mut tau: Vec<f64> = order.iter().map(|&i| points[i]).collect();
        let mut weight = vec![0.0; 2 * n];
        let mut gap = vec![2 * n];
        let mut pieces = vec![];
        for r in 1..2 * n {
            let (u, v) = (points[order[r - 1]], points[order[r]]);
            pieces.clear();
            cut(u, v, s_max, 0, &mut pieces);
            for &(lo, hi, end) in &pieces {
                push_piece(lo, hi, end, &mut tau, &mut weight);
            }
            gap.push(tau.len());
        }
        Plan {
            tau,
            weight,
            form: Form::Angles {
                points,
                point_weight,
                n,
                order,
                gap,
            },
        }
    }

    /// The average from `F` at the nodes.
    fn average(&self, f: &[f64]) -> f64 {
        match &self.form {
            Form::Constant => f[0],
            Form::Angles {
                points,
                point_weight,
                n,
                order,
                gap,
            } => {
                let m = 2 * n;
                let mut g = vec![0.0; m];
                let mut fp = vec![0.0; m];
                let mut run = 0.0;
                for r in 0..m {
                    if r > 0 {
                        run += (gap[r - 1]..gap[r])
                            .map(|k| self.weight[k] * f[k])
                            .sum::<f64>();
                    }
                    g[order[r]] = run;
                    fp[order[r]] = f[r];
                }
                let scale = points.iter().fold(0.0f64, |a, b| a.max(b.abs()));
                let mut total = 0.0;
                for k in 0..*n {
                    let mut row = 0.0;
                    for l in *n..m {
                        let d = points[k] - points[l];
                        row += point_weight[l]
                            * if d > 1e-13 * scale {
                                (g[k] - g[l]) / d
                            } else {
                                0.5 * (fp[k] + fp[l])
                            };
                    }
                    total += point_weight[k] * row;
                }
                total
            }
        }
    }
}

/// Cut `[u, v]` into pieces each no longer than its distance to the branch points `±s`; a
/// piece ending on one (to rounding) is marked with that end (`1`: at `v`, `−1`: at `u`).
fn cut(u: f64, v: f64, s: f64, depth: usize, out: &mut Vec<(f64, f64, i8)>) {
    let len = v - u;
    if len <= 0.0 {
        return;
    }
    let (du, dv) = ((u + s).min(s - u).max(0.0), (s - v).min(v + s).max(0.0));
    let touch = 1e-12 * len;
    if dv <= touch && du >= len {
        out.push((u, v, 1));
        return;
    }
    if du <= touch && dv >= len {
        out.push((u, v, -1));
        return;
    }
    if du.min(dv) >= len || depth >= 200 {
        out.push((u, v, 0));
        return;
    }
    let mid = 0.5 * (u + v);
    cut(u, mid, s, depth + 1, out);
    cut(mid, v, s, depth + 1, out);
}

/// The Gauss–Legendre nodes of `∫_lo^hi F`. Where the piece ends on a branch point
/// (`end = ±1`) it is integrated in `τ = hi − L y²` (`end = 1`) or `τ = lo + L y²`
/// (`end = −1`), `y ∈ [0, 1]` cut at `2^−k`, `k = 1, …, 20` (graded towards `y = 0`: where the
/// branch point lies just beyond the end, as with biases and unequal norms, its image is near
/// `y = 0` off the real axis).
fn push_piece(lo: f64, hi: f64, end: i8, tau: &mut Vec<f64>, weight: &mut Vec<f64>) {
    let (y, w) = rule(PIECE_NODES);
    let len = hi - lo;
    if end == 0 {
        for (yk, wk) in y.iter().zip(w) {
            tau.push(lo + 0.5 * len * (1.0 + yk));
            weight.push(0.5 * len * wk);
        }
        return;
    }
    let mut b = 1.0;
    for k in 1..=Y_GRADING {
        let a = if k == Y_GRADING {
            0.0
        } else {
            0.5f64.powi(k as i32)
        };
        let h = b - a;
        for (yk, wk) in y.iter().zip(w) {
            let t = a + 0.5 * h * (1.0 + yk);
            let at = if end > 0 {
                hi - len * t * t
            } else {
                lo + len * t * t
            };
            tau.push(at);
            weight.push(2.0 * len * t * 0.5 * h * wk);
        }
        b = a;
    }
}

/// Pieces of the graded rule in `y` on a piece that ends on a branch point.
const Y_GRADING: usize = 21;

/// Synthetic inputs with `⟨x̃, x̃⟩ = nx`, `⟨ỹ, ỹ⟩ = ny` and `⟨x̃, ỹ⟩ = τ` (first two coordinates).
fn synthetic_x(len: usize, nx: f64) -> Vec<f64> {
    let mut v = vec![0.0; len];
    v[0] = nx.sqrt();
    v
}

fn synthetic_y(len: usize, nx: f64, ny: f64, tau: f64) -> Vec<f64> {
    let mut v = vec![0.0; len];
    if nx > 0.0 {
        let along = tau / nx.sqrt();
        v[0] = along;
        v[1] = (ny - along * along).max(0.0).sqrt();
    } else {
        v[1] = ny.sqrt();
    }
    v
}

/// `∫_SO(3) dR k(x1_i, R x2_j)` (NNGP and NTK) for a network that
/// [`reads_only_the_input_kernel`], by the reduced rule of the module docs; `symmetric` when
/// `x2` is `x1` (only `j ≥ i` is computed).
pub(super) fn so3_reduced_average(
    net: &Network,
    x1: &Batch,
    x2: &Batch,
    symmetric: bool,
    tol: f64,
) -> Result<OrbitKernel> {
    if tol.is_nan() || tol <= 0.0 {
        return Err(Error::Invalid(format!(
            "the SO3 tolerance must be > 0, got {tol}"
        )));
    }
    let (n1, n2) = (x1.len(), x2.len());
    // the matrices, and per pair its spectrum, value and change (≈ 12 values)
    crate::budget::check_kernel(net, n1, n2)?;
    crate::budget::check_values(
        "the pairs of the reduced SO3 orbit average",
        n1 as u128 * n2 as u128,
        96,
    )?;
    let len = x1.example_len();
    let shape = x1.shape().to_vec();
    let pairs: Vec<(usize, usize)> = (0..n1)
        .flat_map(|i| (0..n2).map(move |j| (i, j)))
        .filter(|&(i, j)| !symmetric || j >= i)
        .collect();
    let spectra: Vec<Pair> = pairs
        .iter()
        .map(|&(i, j)| Pair::new(x1.example(i), x2.example(j)))
        .collect();
    // One level for the listed pairs of one row: F from one kernel of x̃_i against every ỹ.
    let evaluate = |items: &[usize], n: usize| -> Result<Vec<(f64, f64, usize)>> {
        let plans: Vec<Plan> = items.iter().map(|&p| Plan::new(&spectra[p], n)).collect();
        let nx = spectra[items[0]].norms.0;
        let x = Batch::from_examples(shape.clone(), &[synthetic_x(len, nx)])?;
        let mut ys = vec![];
        for (plan, &p) in plans.iter().zip(items) {
            let ny = spectra[p].norms.1;
            ys.extend(plan.tau.iter().map(|&t| synthetic_y(len, nx, ny, t)));
        }
        let y = Batch::from_examples(shape.clone(), &ys)?;
        let k = net.kernel(&x, Some(&y))?;
        let (kn, kt) = (k.nngp()?, k.ntk()?);
        let (mut at, mut out) = (0, vec![]);
        let mut fn_ = Vec::new();
        let mut ft = Vec::new();
        for plan in &plans {
            let m = plan.tau.len();
            fn_.clear();
            ft.clear();
            fn_.extend((at..at + m).map(|c| kn[(0, c)]));
            ft.extend((at..at + m).map(|c| kt[(0, c)]));
            out.push((plan.average(&fn_), plan.average(&ft), m));
            at += m;
        }
        Ok(out)
    };
    // rows of pairs still to refine, by x1 index
    let mut rows: Vec<Vec<usize>> = vec![vec![]; n1];
    for (p, &(i, _)) in pairs.iter().enumerate() {
        rows[i].push(p);
    }
    let run = |rows: &[Vec<usize>], n: usize| -> Result<Vec<PairValue>> {
        let done: Vec<Result<Vec<PairValue>>> = rows
            .par_iter()
            .filter(|r| !r.is_empty())
            .map(|r| {
                // bound the synthetic batch: a few pairs at a time at fine levels
                let per = (1usize << 16) / (4 * n * (PIECE_NODES + 1));
                let mut out = vec![];
                for chunk in r.chunks(per.max(1)) {
                    let v = evaluate(chunk, n)?;
                    out.extend(chunk.iter().zip(v).map(|(&p, (a, b, c))| (p, a, b, c)));
                }
                Ok(out)
            })
            .collect();
        let mut all = vec![];
        for d in done {
            all.extend(d?);
        }
        Ok(all)
    };
    let mut value = vec![(f64::NAN, f64::NAN); pairs.len()];
    let mut change = vec![f64::INFINITY; pairs.len()];
    let mut samples = 0usize;
    let mut estimate = 0.0f64;
    for (level, &n) in LEVELS.iter().enumerate() {
        let results = run(&rows, n)?;
        for &(p, k, t, m) in &results {
            samples = samples.max(m);
            let (k0, t0) = value[p];
            change[p] = if level == 0 {
                f64::INFINITY
            } else {
                (k - k0).abs().max((t - t0).abs())
            };
            value[p] = (k, t);
        }
        let scale = value
            .iter()
            .fold(0.0f64, |a, v| a.max(v.0.abs()).max(v.1.abs()))
            .max(f64::MIN_POSITIVE);
        // a pair whose average is constant (A = 0) is exact at the first level
        for (p, pair) in spectra.iter().enumerate() {
            let r = pair.lambda[0] - pair.lambda[3];
            if pair.bound() == 0.0 || r <= 1e-14 * pair.bound() {
                change[p] = 0.0;
            }
        }
        let mut open = 0;
        for r in rows.iter_mut() {
            r.retain(|&p| change[p] > tol * scale);
            open += r.len();
        }
        if open == 0 {
            estimate = change.iter().fold(0.0f64, |a, &c| a.max(c / scale));
            break;
        }
        if level + 1 == LEVELS.len() {
            let worst = change.iter().fold(0.0f64, |a, &c| a.max(c / scale));
            return Err(Error::NotConverged {
                what: format!(
                    "the reduced SO3 orbit average ({n} Gauss–Legendre angles, {open} pairs open)"
                ),
                tol,
                estimate: worst,
            });
        }
    }
    let mut nngp = Mat::zeros(n1, n2);
    let mut ntk = Mat::zeros(n1, n2);
    for (&(i, j), &(k, t)) in pairs.iter().zip(&value) {
        nngp[(i, j)] = k;
        ntk[(i, j)] = t;
        if symmetric {
            nngp[(j, i)] = k;
            ntk[(j, i)] = t;
        }
    }
    Ok(OrbitKernel {
        nngp,
        ntk,
        samples,
        error_estimate: estimate,
    })
}
