//! Gaussian quadrature for expectations over a bivariate normal pair.
//!
//! A dual activation is an expectation `E[f(u) f(v)]` over
//! `(u, v) ~ N(0, [[k11, k12], [k12, k22]])`. Both rules here write the pair through the
//! Cholesky factor of the 2×2 covariance, with `z1, z2` independent standard normals:
//!
//! ```text
//! u = σ1 z1,   v = σ2 (ρ z1 + c z2),   σ1 = √k11, σ2 = √k22, ρ = k12/(σ1 σ2), c = √(1 − ρ²)
//! ```
//!
//! * [`expect_pair_hermite`] — the tensor Gauss–Hermite rule in `(z1, z2)`: fast, spectrally
//!   accurate for smooth `f` of moderate scale, poor for kinks or very sharp transitions.
//! * [`expect_pair_split`] — the robust rule: both integrals are split at the point where
//!   the integrand has its kink or sharp transition (`u = 0`, i.e. `z1 = 0`, for the outer
//!   integral; `v = 0`, i.e. `z2 = −ρ z1 / c`, for the inner one), each side is cut into
//!   Gauss–Legendre panels that shrink geometrically towards the split point (down to the
//!   transition width of `f`), and the Gaussian density is part of the integrand. A kink at a
//!   panel end leaves every panel smooth, so piecewise-polynomial `f` integrates to rounding
//!   error; the geometric grading resolves `erf(b x)`, `tanh` … at large variance and the
//!   near-kink of the inner expectation when `ρ → ±1`. Both integrals are cut at `|z| ≤ 10`
//!   (Gaussian tail mass `< 2e-23`).
//!
//! Rules are computed by Newton iteration on the three-term recurrences (Numerical Recipes'
//! `gauher`/`gauleg`, orthonormal form, so they are accurate to rounding for the sizes used)
//! and the two the crate uses are cached in `OnceLock`s.

use std::sync::OnceLock;

/// Nodes of the cached Gauss–Hermite rule used by [`expect_pair_hermite`].
pub const HERMITE_NODES: usize = 48;
/// Largest panel order served by the [`legendre_rule`] cache.
pub const MAX_LEGENDRE_NODES: usize = 64;
/// Both integrals of [`expect_pair_split`] are taken over `z ∈ [−Z_MAX, Z_MAX]`.
pub const Z_MAX: f64 = 10.0;

/// A one-dimensional quadrature rule `∫ f dμ ≈ Σ_i weights[i] · f(nodes[i])`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The nodes `x_i`.
    pub nodes: Vec<f64>,
    /// The weights `w_i`.
    pub weights: Vec<f64>,
}

impl Rule {
    /// Gauss–Hermite rule of `n ≥ 1` nodes for the *standard normal*:
    /// `E[f(z)] = ∫ f(z) e^{−z²/2}/√(2π) dz ≈ Σ_i w_i f(z_i)`, exact for polynomials of degree
    /// `≤ 2n − 1`; `Σ w_i = 1`, nodes symmetric about 0, largest first.
    pub fn gauss_hermite(n: usize) -> Rule {
        assert!(n >= 1, "a Gauss–Hermite rule needs at least one node");
        // Physicists' rule (weight e^{−x²}) by Newton's method on orthonormal Hermite
        // polynomials; then z = √2 x, w ← w/√π.
        const PI_M4: f64 = 0.751_125_544_464_942_5; // π^{−1/4}
        let nf = n as f64;
        let m = n.div_ceil(2);
        let mut x = vec![0.0; n];
        let mut w = vec![0.0; n];
        let mut z = 0.0_f64;
        for i in 0..m {
            z = match i {
                0 => (2.0 * nf + 1.0).sqrt() - 1.855_75 * (2.0 * nf + 1.0).powf(-1.0 / 6.0),
                1 => z - 1.14 * nf.powf(0.426) / z,
                2 => 1.86 * z - 0.86 * x[0],
                3 => 1.91 * z - 0.91 * x[1],
                _ => 2.0 * z - x[i - 2],
            };
            let mut pp = 0.0;
            for _ in 0..100 {
                let (mut p1, mut p2) = (PI_M4, 0.0);
                for j in 0..n {
                    let p3 = p2;
                    p2 = p1;
                    let jf = j as f64;
                    p1 = z * (2.0 / (jf + 1.0)).sqrt() * p2 - (jf / (jf + 1.0)).sqrt() * p3;
                }
                pp = (2.0 * nf).sqrt() * p2;
                let dz = p1 / pp;
                z -= dz;
                if dz.abs() <= 1e-15 * z.abs().max(1.0) {
                    break;
                }
            }
            x[i] = z;
            x[n - 1 - i] = -z;
            w[i] = 2.0 / (pp * pp);
            w[n - 1 - i] = w[i];
        }
        let inv_sqrt_pi = 1.0 / std::f64::consts::PI.sqrt();
        Rule {
            nodes: x.iter().map(|x| x * std::f64::consts::SQRT_2).collect(),
            weights: w.iter().map(|w| w * inv_sqrt_pi).collect(),
        }
    }

    /// Gauss–Legendre rule of `n ≥ 1` nodes on `[−1, 1]`: `∫_{−1}^{1} f ≈ Σ_i w_i f(x_i)`,
    /// exact for polynomials of degree `≤ 2n − 1`; `Σ w_i = 2`.
    pub fn gauss_legendre(n: usize) -> Rule {
        assert!(n >= 1, "a Gauss–Legendre rule needs at least one node");
        // The crate's one Gauss–Legendre rule (nodes ascending); sizes here are small.
        let (nodes, weights) =
            crate::group::gauss_legendre(n).expect("a panel order within the node budget");
        Rule { nodes, weights }
    }
}

/// The cached Gauss–Hermite rule of [`HERMITE_NODES`] nodes (standard-normal weight).
pub fn hermite_rule() -> &'static Rule {
    static RULE: OnceLock<Rule> = OnceLock::new();
    RULE.get_or_init(|| Rule::gauss_hermite(HERMITE_NODES))
}

/// The cached Gauss–Legendre rule of `n` nodes on `[−1, 1]`, `1 ≤ n ≤ MAX_LEGENDRE_NODES`.
pub fn legendre_rule(n: usize) -> &'static Rule {
    static RULES: [OnceLock<Rule>; MAX_LEGENDRE_NODES + 1] =
        [const { OnceLock::new() }; MAX_LEGENDRE_NODES + 1];
    assert!(
        (1..=MAX_LEGENDRE_NODES).contains(&n),
        "Gauss–Legendre panel order out of range"
    );
    RULES[n].get_or_init(|| Rule::gauss_legendre(n))
}

/// Resolution of the panels of [`expect_pair_split`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Panels {
    /// Gauss–Legendre nodes per panel.
    pub nodes: usize,
    /// Longest panel (in standard deviations) away from the split point.
    pub max_length: f64,
}

impl Panels {
    /// The reference resolution ([`super::activation::Activation::dual_by_quadrature`]).
    pub const FINE: Panels = Panels {
        nodes: 20,
        max_length: 1.0,
    };
    /// A cheaper resolution for the hot path of smooth φ at larger variances.
    pub const FAST: Panels = Panels {
        nodes: 10,
        max_length: 1.5,
    };
}

/// A centred bivariate normal `(u, v)` written through the Cholesky factor of its covariance:
/// `u = σ1 z1`, `v = σ2 (ρ z1 + c z2)` with `c = √(1 − ρ²)`.
///
/// Conventions for degenerate covariances (so that every dual is finite): negative variances
/// (rounding) count as 0; `ρ = k12/√(k11 k22)` is clamped to `[−1, 1]`; when `k11 k22 = 0` the
/// correlation is taken as `ρ = 0` (neural-tangents divides by `√max(k11 k22, 1e-20)`, which
/// gives the same 0 since then `k12 = 0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BivariateNormal {
    /// `σ1 = √k11`.
    pub sigma1: f64,
    /// `σ2 = √k22`.
    pub sigma2: f64,
    /// The clamped correlation `ρ ∈ [−1, 1]`.
    pub rho: f64,
    /// `c = √(1 − ρ²) = √((1 − ρ)(1 + ρ))`.
    pub c: f64,
}

impl BivariateNormal {
    /// From the covariance entries `[[k11, k12], [k12, k22]]`.
    pub fn from_cov(k11: f64, k12: f64, k22: f64) -> Self {
        let sigma1 = k11.max(0.0).sqrt();
        let sigma2 = k22.max(0.0).sqrt();
        let s = sigma1 * sigma2;
        let rho = if s > 0.0 {
            (k12 / s).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        BivariateNormal {
            sigma1,
            sigma2,
            rho,
            c: ((1.0 - rho) * (1.0 + rho)).sqrt(),
        }
    }
}

/// `(E[f(u).0 · f(v).0], E[f(u).1 · f(v).1])` by the tensor Gauss–Hermite rule of
/// [`HERMITE_NODES`]² points: `Σ_i Σ_j w_i w_j f(σ1 z_i) f(σ2(ρ z_i + c z_j))`.
///
/// `f` returns two functions at once (for a dual activation: `(φ(x), φ'(x))`), so one call
/// gives `T` and `Ṫ`. Costs `n + n²` evaluations of `f`; accurate for smooth `f` whose scale
/// of variation is not much smaller than `σ1`, `σ2`.
pub fn expect_pair_hermite(cov: &BivariateNormal, f: impl Fn(f64) -> (f64, f64)) -> (f64, f64) {
    let rule = hermite_rule();
    let (a, b) = (cov.sigma2 * cov.rho, cov.sigma2 * cov.c);
    let (mut t, mut tdot) = (0.0, 0.0);
    for (&z1, &w1) in rule.nodes.iter().zip(&rule.weights) {
        let (fu, du) = f(cov.sigma1 * z1);
        let (mut inner_f, mut inner_d) = (0.0, 0.0);
        for (&z2, &w2) in rule.nodes.iter().zip(&rule.weights) {
            let (fv, dv) = f(a * z1 + b * z2);
            inner_f += w2 * fv;
            inner_d += w2 * dv;
        }
        t += w1 * fu * inner_f;
        tdot += w1 * du * inner_d;
    }
    (t, tdot)
}

/// `(E[f(u).0 · f(v).0], E[f(u).1 · f(v).1])` by split, geometrically graded Gauss–Legendre
/// panels (see the module docs): robust for kinks and sharp transitions of `f` at `x = 0`.
///
/// `width` is the width (in units of `x`) of the transition of `f` at 0: `0` for a kink
/// (ReLU, |x|), `1/b` for `erf(b x)`, `1` for `tanh`, the logistic sigmoid, GELU, softplus.
/// Panels are refined towards each split point down to a quarter of the smallest relevant
/// scale (in `z` units: `width/σ`, and `c` for the smoothed kink of the inner expectation);
/// panels away from it are at most `panels.max_length` long, which suits `f` that vary on a
/// scale `≳ 1/σ`. Costs about `(2 panels.nodes (10/max_length + log₄(1/scale)))²` evaluations
/// of `f`.
pub fn expect_pair_split(
    cov: &BivariateNormal,
    f: impl Fn(f64) -> (f64, f64),
    width: f64,
    panels: Panels,
) -> (f64, f64) {
    let &BivariateNormal {
        sigma1,
        sigma2,
        rho,
        c,
    } = cov;
    // Width in z-units of a transition of width `width` seen through a scale factor `scale`.
    let scaled = |scale: f64| {
        if width > 0.0 && scale > 0.0 {
            width / scale
        } else {
            f64::INFINITY
        }
    };
    // Outer integrand f(σ1 z1) · g(z1), g(z1) = E_z2[f(σ2(ρ z1 + c z2))]: f has its feature at
    // z1 = 0 of width width/σ1; g is f seen at scale σ2 smoothed by a Gaussian of width c.
    let g_width = if c == 0.0 {
        // ρ = ±1: g(z1) = f(±σ2 z1) has its feature at the split point itself.
        scaled(sigma2)
    } else if width > 0.0 {
        scaled(sigma2).max(c)
    } else {
        c
    };
    let outer_min = 0.25 * scaled(sigma1).min(g_width).min(1.0);
    let inner_min = 0.25 * scaled(sigma2 * c).min(1.0);
    let (mut t, mut tdot) = (0.0, 0.0);
    let mut outer = |z1: f64, w1: f64| {
        let (fu, du) = f(sigma1 * z1);
        if fu == 0.0 && du == 0.0 {
            return;
        }
        let (mut inner_f, mut inner_d) = (0.0, 0.0);
        if c == 0.0 {
            // ρ = ±1: v is a function of z1 alone.
            let (fv, dv) = f(sigma2 * rho * z1);
            inner_f = fv;
            inner_d = dv;
        } else {
            let kink = (-rho * z1 / c).clamp(-Z_MAX, Z_MAX);
            let mut inner = |z2: f64, w2: f64| {
                let (fv, dv) = f(sigma2 * (rho * z1 + c * z2));
                inner_f += w2 * fv;
                inner_d += w2 * dv;
            };
            graded_panels(kink, -Z_MAX, inner_min, panels, &mut inner);
            graded_panels(kink, Z_MAX, inner_min, panels, &mut inner);
        }
        t += w1 * fu * inner_f;
        tdot += w1 * du * inner_d;
    };
    graded_panels(0.0, -Z_MAX, outer_min, panels, &mut outer);
    graded_panels(0.0, Z_MAX, outer_min, panels, &mut outer);
    (t, tdot)
}

/// Visits `(z, w)` for a Gauss–Legendre rule of `∫ h(z) N(z) dz` over the segment from
/// `origin` to `end` (`N` the standard normal density, folded into `w`), with panels shrinking
/// geometrically (ratio 4) towards `origin` until they are shorter than `h_min`.
fn graded_panels(
    origin: f64,
    end: f64,
    h_min: f64,
    panels: Panels,
    visit: &mut impl FnMut(f64, f64),
) {
    const MAX_LEVELS: usize = 80;
    let length = (end - origin).abs();
    if length == 0.0 {
        return;
    }
    let dir = if end > origin { 1.0 } else { -1.0 };
    let rule = legendre_rule(panels.nodes);
    let norm = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    let mut panel = |d0: f64, d1: f64| {
        let (mid, half) = (0.5 * (d0 + d1), 0.5 * (d1 - d0));
        for (&x, &w) in rule.nodes.iter().zip(&rule.weights) {
            let z = origin + dir * (mid + half * x);
            visit(z, w * half * norm * (-0.5 * z * z).exp());
        }
    };
    // Geometric panels on [0, p] (distances from origin), then uniform ones on [p, length].
    let p = length.min(1.0);
    let mut hi = p;
    let mut levels = 0;
    while hi > h_min && levels < MAX_LEVELS {
        panel(0.25 * hi, hi);
        hi *= 0.25;
        levels += 1;
    }
    panel(0.0, hi);
    if length > p {
        let pieces = ((length - p) / panels.max_length).ceil();
        let step = (length - p) / pieces;
        for k in 0..pieces as usize {
            panel(p + k as f64 * step, p + (k + 1) as f64 * step);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E[z^{2k}] = (2k − 1)!! for a standard normal.
    fn double_factorial_odd(k: usize) -> f64 {
        (1..=k).map(|i| (2 * i - 1) as f64).product()
    }

    #[test]
    fn hermite_rule_reproduces_normal_moments() {
        for n in [1, 2, 5, 20, HERMITE_NODES] {
            let rule = Rule::gauss_hermite(n);
            for k in 0..n {
                // exact for degree ≤ 2n − 1
                let m: f64 = rule
                    .nodes
                    .iter()
                    .zip(&rule.weights)
                    .map(|(z, w)| w * z.powi(2 * k as i32))
                    .sum();
                let exact = double_factorial_odd(k);
                assert!(
                    (m - exact).abs() <= 1e-12 * exact,
                    "n={n} k={k}: {m} vs {exact}"
                );
                let odd: f64 = rule
                    .nodes
                    .iter()
                    .zip(&rule.weights)
                    .map(|(z, w)| w * z.powi(2 * k as i32 + 1))
                    .sum();
                assert!(odd.abs() <= 1e-12 * exact.max(1.0));
            }
        }
    }

    #[test]
    fn legendre_rule_integrates_polynomials() {
        for n in [1, 2, 7, 10, 20] {
            let rule = Rule::gauss_legendre(n);
            for k in 0..2 * n {
                let m: f64 = rule
                    .nodes
                    .iter()
                    .zip(&rule.weights)
                    .map(|(x, w)| w * x.powi(k as i32))
                    .sum();
                let exact = if k % 2 == 0 {
                    2.0 / (k as f64 + 1.0)
                } else {
                    0.0
                };
                assert!((m - exact).abs() <= 1e-14, "n={n} k={k}: {m} vs {exact}");
            }
        }
    }

    #[test]
    fn graded_panels_integrate_the_density_and_moments() {
        // ∫_{0}^{10} N = 1/2 − tail, ∫ z² N over the same half line = 1/2 − tail.
        let (mut m0, mut m2, mut m1) = (0.0, 0.0, 0.0);
        graded_panels(0.0, Z_MAX, 1e-6, Panels::FINE, &mut |z, w| {
            m0 += w;
            m1 += w * z;
            m2 += w * z * z;
        });
        let half_mean = 1.0 / (2.0 * std::f64::consts::PI).sqrt(); // E[z 1{z>0}]
        assert!((m0 - 0.5).abs() < 1e-14);
        assert!((m1 - half_mean).abs() < 1e-14);
        assert!((m2 - 0.5).abs() < 1e-14);
        // A split away from 0 on both sides still sums to the full mass.
        let mut total = 0.0;
        graded_panels(2.3, -Z_MAX, 1e-3, Panels::FAST, &mut |_, w| total += w);
        graded_panels(2.3, Z_MAX, 1e-3, Panels::FAST, &mut |_, w| total += w);
        assert!((total - 1.0).abs() < 1e-14);
    }

    #[test]
    fn pair_rules_reproduce_the_covariance() {
        // E[u v] = k12, E[u² v²] = k11 k22 + 2 k12² (Isserlis).
        let (k11, k12, k22) = (1.3, -0.7, 0.9);
        let cov = BivariateNormal::from_cov(k11, k12, k22);
        for (t, q) in [
            expect_pair_hermite(&cov, |x| (x, x * x)),
            expect_pair_split(&cov, |x| (x, x * x), 0.0, Panels::FAST),
        ] {
            assert!((t - k12).abs() < 1e-13, "{t}");
            assert!((q - (k11 * k22 + 2.0 * k12 * k12)).abs() < 1e-12, "{q}");
        }
    }
}
