//! Adaptive quadrature with an error estimate for `E[f(u) f(v)]` over a bivariate normal pair.
//!
//! In the Cholesky coordinates of [`super::quadrature`] (`u = σ1 z1`, `v = σ2 (ρ z1 + c z2)`,
//! `z1, z2` independent standard normals, `c = √(1 − ρ²)`) the expectation is a nested pair of
//! one-dimensional integrals over `|z| ≤ Z_MAX`:
//!
//! ```text
//! E[f(u) f(v)] = ∫ N(z1) f(σ1 z1) g(z1) dz1,      g(z1) = ∫ N(z2) f(σ2 (ρ z1 + c z2)) dz2.
//! ```
//!
//! Each integral is *globally adaptive* with the Gauss–Kronrod pair G7/K15 (QUADPACK's `qag`):
//! panels start at breakpoints (`z1 = 0` and `±2.5` outside; `z2 = −ρ z1/c`, the kink or
//! transition of `f(v)`, and `±2.5` inside), the panel with the largest error estimate is
//! bisected until the estimates sum to at most the tolerance or a panel cap is hit. A panel's
//! estimate is `|K15 − G7|` (never below 50 ε times the panel's integral of `|f|`): the error of
//! the lower rule, which bounds the error of the K15 value returned once the rule converges
//! (QUADPACK's sharper rescaling of it under-estimated sharp transitions at loose tolerances).
//! When `|ρ| → 1` the outer panels also start at `±c, ±10c`, the width of the near-kink of `g`.
//!
//! The error of the outer integral is its own estimate plus the propagated error of the inner
//! ones, `Σ_i |w_i f(u_i)| e_in(z1_i)`. Tolerances are *relative to the scale*
//! `S = E[|f(u)| |f(v)|]` (which bounds `|E[f(u) f(v)]|` and is 0 only when the product
//! vanishes): each inner integral is refined to `tol/16` of its own scale `∫ N |f(v)|` (its
//! errors are noise the outer rule sees), the outer one to `tol · S` in total. `f` returns `(φ, φ′)`, so one pass gives `T` and `Ṫ`, each
//! with its estimate and scale; both must meet the tolerance.
//!
//! Why Gauss–Legendre (Kronrod) panels in the Cholesky coordinates rather than Gauss–Hermite:
//! a Gauss–Hermite rule has no embedded lower-order rule (an estimate needs a second, larger
//! rule: five times the work in two dimensions), it cannot be split at a kink, and its
//! convergence for a kinked φ (`max`, `abs`) is only algebraic; panels put the kink of `f(u)`
//! and of `f(v)` at panel ends, so piecewise-smooth φ converge geometrically, bisection resolves
//! sharp transitions (`erf(b x)` at large `b σ`) and the near-kink of `g` of width `c` as
//! `ρ → ±1`, and the embedded G7 gives the estimate at no extra evaluations.
//!
//! Work is bounded: at most `max_panels` panels per one-dimensional integral, so at most
//! `(15 · max_panels)²` evaluations of `f` per expectation; where the cap stops the refinement
//! the result says so ([`PairEstimate::reached`]).

use super::quadrature::{BivariateNormal, Z_MAX};

/// Nodes of the 15-point Kronrod rule on `[−1, 1]` (the non-negative half, largest first);
/// the odd-indexed ones (`1, 3, 5`) and 0 are the nodes of the 7-point Gauss rule.
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
/// Weights of the 15-point Kronrod rule, in the order of [`XGK`].
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// Weights of the 7-point Gauss rule at `XGK[1], XGK[3], XGK[5], XGK[7]`.
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// Breakpoints (in standard deviations) where the initial panels end, besides the split point.
const BREAKS: [f64; 2] = [-2.5, 2.5];

/// How finely to integrate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Relative tolerance, against the scale `E[|f(u)| |f(v)|]`.
    pub rel: f64,
    /// At most this many panels per one-dimensional integral.
    pub max_panels: usize,
}

impl Tolerance {
    /// The default for written activations: `1e-10` relative, 64 panels.
    pub const DEFAULT: Tolerance = Tolerance {
        rel: 1e-10,
        max_panels: 64,
    };
}

/// `(E[f(u).0 f(v).0], E[f(u).1 f(v).1])` with error estimates and scales.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairEstimate {
    /// The two expectations (`T`, `Ṫ` for `f = (φ, φ′)`).
    pub value: [f64; 2],
    /// Their estimated absolute errors.
    pub error: [f64; 2],
    /// Their scales `E[|f(u).k| |f(v).k|]`, to which the tolerance is relative.
    pub scale: [f64; 2],
    /// Whether both estimates met the tolerance within the panel cap.
    pub reached: bool,
}

impl PairEstimate {
    /// The larger of the two relative error estimates `error[k]/scale[k]` (0 where both
    /// vanish).
    pub fn relative_error(&self) -> f64 {
        (0..2)
            .map(|k| relative(self.error[k], self.scale[k]))
            .fold(0.0, f64::max)
    }
}

fn relative(error: f64, scale: f64) -> f64 {
    if error == 0.0 {
        0.0
    } else if scale > 0.0 {
        error / scale
    } else {
        f64::INFINITY
    }
}

/// One panel's integrals of a two-component integrand.
#[derive(Clone, Copy, Debug, Default)]
struct Panel {
    a: f64,
    b: f64,
    value: [f64; 2],
    /// The panel's own (QK15) error estimate plus, outside, the propagated inner errors.
    error: [f64; 2],
    scale: [f64; 2],
}

impl Panel {
    fn badness(&self, scale: [f64; 2]) -> f64 {
        (0..2)
            .map(|k| relative(self.error[k], scale[k].max(f64::MIN_POSITIVE)))
            .sum()
    }
}

/// A panel's error estimate from the Kronrod and Gauss values and the integral of `|h|`
/// (`abs`): `|K15 − G7|`, the error of the lower rule, which bounds the far smaller error of
/// K15 once the rule converges, and at least 50 ε `abs` (rounding). QUADPACK rescales it by
/// `(200 |K15 − G7| / I_asc)^{3/2}`; that under-estimated sharp transitions at coarse
/// tolerances here (`erf(4x)` at variance 1e4, `tol = 1e-4`), so the plain difference is used.
fn qk15_error(resk: f64, resg: f64, abs: f64) -> f64 {
    (resk - resg).abs().max(50.0 * f64::EPSILON * abs)
}

/// Integrate a two-component `h` (values and scales, each `[f64; 2]`) over `[a, b]` by G7/K15:
/// `h(z)` returns `(value, |·| scale, propagated error)` with the normal density already folded
/// in.
fn panel(a: f64, b: f64, h: &mut impl FnMut(f64) -> ([f64; 2], [f64; 2], [f64; 2])) -> Panel {
    let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
    let (mut resk, mut resg, mut abs, mut prop) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
    for i in 0..15 {
        // node order: −x0 … −x6, 0, x6 … x0
        let (j, sign) = if i < 7 { (i, -1.0) } else { (14 - i, 1.0) };
        let z = mid + sign * half * XGK[j];
        let (v, s, e) = h(z);
        for k in 0..2 {
            resk[k] += WGK[j] * v[k];
            abs[k] += WGK[j] * s[k];
            prop[k] += WGK[j] * e[k];
            if j % 2 == 1 {
                resg[k] += WG[j / 2] * v[k];
            }
        }
    }
    let mut p = Panel {
        a,
        b,
        ..Panel::default()
    };
    for k in 0..2 {
        p.value[k] = resk[k] * half;
        p.scale[k] = abs[k] * half;
        p.error[k] = qk15_error(resk[k] * half, resg[k] * half, abs[k] * half) + prop[k] * half;
    }
    p
}

/// Global adaptive integration of `h` over `[−Z_MAX, Z_MAX]` from panels cut at `breaks`,
/// refined to `tol` of the scale (both components) or until `max_panels`.
fn adaptive(
    breaks: &[f64],
    tol: f64,
    max_panels: usize,
    h: &mut impl FnMut(f64) -> ([f64; 2], [f64; 2], [f64; 2]),
) -> PairEstimate {
    let mut panels: Vec<Panel> = breaks
        .windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| panel(w[0], w[1], h))
        .collect();
    loop {
        let (mut value, mut error, mut scale) = ([0.0; 2], [0.0; 2], [0.0; 2]);
        for p in &panels {
            for k in 0..2 {
                value[k] += p.value[k];
                error[k] += p.error[k];
                scale[k] += p.scale[k];
            }
        }
        let met = (0..2).all(|k| error[k] <= tol * scale[k]);
        let full = panels.len() >= max_panels;
        if met || full {
            return PairEstimate {
                value,
                error,
                scale,
                // the inner errors are in the total: an inner cap matters only through them
                reached: met,
            };
        }
        let worst = (0..panels.len())
            .max_by(|&i, &j| {
                panels[i]
                    .badness(scale)
                    .total_cmp(&panels[j].badness(scale))
            })
            .expect("at least one panel");
        let Panel { a, b, .. } = panels[worst];
        let m = 0.5 * (a + b);
        if !(m > a && m < b) {
            // the panel is as small as floating point allows
            return PairEstimate {
                value,
                error,
                scale,
                reached: false,
            };
        }
        panels[worst] = panel(a, m, h);
        panels.push(panel(m, b, h));
    }
}

/// Sorted breakpoints `−Z_MAX, extra…, Z_MAX` (those inside the range), without duplicates.
fn breakpoints(extra: &[f64]) -> Vec<f64> {
    let mut b = vec![-Z_MAX, Z_MAX];
    b.extend(extra.iter().copied().filter(|x| x.abs() < Z_MAX));
    b.sort_by(f64::total_cmp);
    b.dedup();
    b
}

/// Breakpoints `at ± 2.5·4^{−k}` (k ≥ 1) while they are longer than 16 `width_z`.
fn graded(at: f64, width_z: f64, breaks: &mut Vec<f64>) {
    let mut g = BREAKS[1] / 4.0;
    let mut levels = 0;
    while g > 16.0 * width_z && levels < 40 {
        breaks.extend([at - g, at + g]);
        g /= 4.0;
        levels += 1;
    }
}

/// The width (in units of x) of the transition of `f` at 0, found from `f′` on the points
/// `±4^k`, `k = −14 … 3`: the smallest `|x|` where `f′(x)` differs from its one-sided limit
/// `f′(±4^{−14})` by more than a tenth of the largest `|f′|` seen; `f64::INFINITY` when it never
/// does (a kink at 0 is not a transition: the panels split there). E.g. about `1/b` for
/// `erf(b x)`, 1 for `x exp(−x²/2)`, none for `x` and `max(x, 0)`.
pub fn transition_width(f: impl Fn(f64) -> (f64, f64)) -> f64 {
    let points: Vec<f64> = (-14..=3).map(|k| 4f64.powi(k)).collect();
    let mut largest = 0.0f64;
    for &x in &points {
        largest = largest.max(f(x).1.abs()).max(f(-x).1.abs());
    }
    if !largest.is_finite() || largest == 0.0 {
        return f64::INFINITY;
    }
    let mut width = f64::INFINITY;
    for side in [1.0, -1.0] {
        let limit = f(side * points[0]).1;
        if let Some(&x) = points
            .iter()
            .find(|&&x| (f(side * x).1 - limit).abs() > 0.1 * largest)
        {
            width = width.min(x);
        }
    }
    width
}

/// The standard normal density.
#[inline]
fn density(z: f64) -> f64 {
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    (-0.5 * z * z).exp() * INV_SQRT_2PI
}

/// `E[f(u).k f(v).k]` for `k = 0, 1` by nested adaptive G7/K15 quadrature (module docs), with
/// the estimated error, the scale and whether the tolerance was met.
///
/// `width` is the width (in units of x) of the transition of `f` at 0 (`f64::INFINITY` for
/// none; see [`transition_width`]): where it is narrow against the standard deviation, the
/// first panels are graded towards the split points (ratio 4) until they are at most 16 times
/// its width in z, so that some node sees it and the refinement can follow.
pub fn expect_pair_adaptive(
    cov: &BivariateNormal,
    f: impl Fn(f64) -> (f64, f64),
    width: f64,
    tol: Tolerance,
) -> PairEstimate {
    let &BivariateNormal {
        sigma1,
        sigma2,
        rho,
        c,
    } = cov;
    // Tighter inside: the inner errors are noise in the outer integrand, which the outer
    // K15 − G7 difference sees and no outer bisection removes.
    let inner_tol = tol.rel / 16.0;
    // The inner expectation at z1: values, scales, errors of E_z2[f(v)] and |f(v)|.
    let inner = |z1: f64| -> PairEstimate {
        if c == 0.0 {
            // ρ = ±1: v is a function of z1 alone
            let (fv, dv) = f(sigma2 * rho * z1);
            return PairEstimate {
                value: [fv, dv],
                error: [0.0; 2],
                scale: [fv.abs(), dv.abs()],
                reached: true,
            };
        }
        let split = -rho * z1 / c;
        let mut h = |z2: f64| {
            let n = density(z2);
            let (fv, dv) = f(sigma2 * (rho * z1 + c * z2));
            ([n * fv, n * dv], [n * fv.abs(), n * dv.abs()], [0.0; 2])
        };
        let mut breaks = vec![split, BREAKS[0], BREAKS[1]];
        graded(split, width / (sigma2 * c), &mut breaks);
        let breaks = breakpoints(&breaks);
        adaptive(&breaks, inner_tol, tol.max_panels, &mut h)
    };
    let mut outer = |z1: f64| {
        let (fu, du) = f(sigma1 * z1);
        if fu == 0.0 && du == 0.0 {
            return ([0.0; 2], [0.0; 2], [0.0; 2]);
        }
        let n = density(z1);
        let g = inner(z1);
        let w = [n * fu, n * du];
        (
            [w[0] * g.value[0], w[1] * g.value[1]],
            [w[0].abs() * g.scale[0], w[1].abs() * g.scale[1]],
            [w[0].abs() * g.error[0], w[1].abs() * g.error[1]],
        )
    };
    // As ρ → ±1, g(z1) has a near-kink of width c at 0 (where the inner split −ρ z1/c is in
    // range); for |ρ| ≈ 1 and φ vanishing on a half line, the product can live only there, so
    // panels must start at that width lest every node miss it.
    let mut breaks = vec![0.0, BREAKS[0], BREAKS[1]];
    if c > 0.0 && c < 0.1 {
        breaks.extend([-10.0 * c, -c, c, 10.0 * c]);
    }
    graded(0.0, width / sigma1, &mut breaks);
    let breaks = breakpoints(&breaks);
    // the outer refinement gets what the inner errors leave of the tolerance; they are at
    // most half of it
    adaptive(&breaks, tol.rel, tol.max_panels, &mut outer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kronrod_weights_integrate_polynomials() {
        // K15 is exact to degree 22, G7 to degree 13, on [−1, 1].
        let mut p = |z: f64| ([z.powi(12), z.powi(22)], [0.0; 2], [0.0; 2]);
        let q = panel(-1.0, 1.0, &mut p);
        assert!((q.value[0] - 2.0 / 13.0).abs() < 1e-15);
        assert!((q.value[1] - 2.0 / 23.0).abs() < 1e-15);
        let sum: f64 = WGK.iter().sum::<f64>() * 2.0 - WGK[7];
        let gsum: f64 = WG.iter().sum::<f64>() * 2.0 - WG[3];
        assert!((sum - 2.0).abs() < 1e-15 && (gsum - 2.0).abs() < 1e-15);
    }

    #[test]
    fn moments_of_the_pair_are_exact_with_small_estimates() {
        // E[u v] = k12, E[u² v²] = k11 k22 + 2 k12² (Isserlis)
        let (k11, k12, k22) = (1.3, -0.7, 0.9);
        let cov = BivariateNormal::from_cov(k11, k12, k22);
        let r = expect_pair_adaptive(&cov, |x| (x, x * x), f64::INFINITY, Tolerance::DEFAULT);
        assert!(r.reached);
        assert!((r.value[0] - k12).abs() < 1e-13, "{r:?}");
        assert!(
            (r.value[1] - (k11 * k22 + 2.0 * k12 * k12)).abs() < 1e-12,
            "{r:?}"
        );
        assert!(r.relative_error() <= 1e-10);
    }

    #[test]
    fn transition_widths() {
        let erf = |b: f64| {
            move |x: f64| {
                let d = b * std::f64::consts::FRAC_2_SQRT_PI * (-(b * x) * (b * x)).exp();
                (libm::erf(b * x), d)
            }
        };
        let w = transition_width(erf(4.0));
        assert!((0.0625..=0.25).contains(&w), "{w}");
        assert!(transition_width(erf(400.0)) < 0.01);
        assert_eq!(transition_width(|x| (x, 1.0)), f64::INFINITY);
        let relu = |x: f64| (x.max(0.0), if x > 0.0 { 1.0 } else { 0.0 });
        assert_eq!(transition_width(relu), f64::INFINITY);
    }

    #[test]
    fn a_panel_cap_that_is_too_small_is_reported() {
        let cov = BivariateNormal::from_cov(400.0, 399.9, 400.0);
        let step = |x: f64| (libm::erf(30.0 * (x - 0.3)), 0.0);
        let r = expect_pair_adaptive(
            &cov,
            step,
            f64::INFINITY,
            Tolerance {
                rel: 1e-12,
                max_panels: 4,
            },
        );
        assert!(!r.reached && r.relative_error() > 1e-12, "{r:?}");
    }
}
