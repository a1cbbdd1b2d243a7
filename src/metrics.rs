//! Equivariance metrics of a predictor along the orbit of a test input (MATH.md §8).
//!
//! The inputs are plain numbers, so any predictor can be measured — an infinite ensemble, a
//! finite ensemble, a single member. For one test input x and a finite group G = {g₀ = e, g₁, …}:
//!
//! * `orbit[k] = μ(ρ_X(g_k) x)`, the prediction (a vector of O outputs) at the k-th transformed
//!   input, so `orbit[0] = μ(x)`;
//! * [`OutputRep`] gives ρ_Y(g_k), the O × O matrix by which the target should transform
//!   (the identity for an invariant target).
//!
//! Conventions fixed here: ‖·‖ is the Euclidean norm; a ratio whose denominator is zero is 0
//! when its numerator is zero too, and +∞ otherwise; standard deviations are population ones
//! (divide by |G|); a class is the index of the largest output (the first on ties), or for a
//! single output whether it is > 0.

use faer::Mat;

use crate::error::{Error, Result};

/// How the outputs should transform along the orbit.
#[derive(Clone, Copy, Debug)]
pub enum OutputRep<'a> {
    /// ρ_Y(g) = I for every g: an invariant target.
    Invariant,
    /// ρ_Y(g_k) = `matrices[k]`, one orthogonal O × O matrix per group element, in the order of
    /// the orbit (`matrices[0]` the identity).
    Matrices(&'a [Mat<f64>]),
}

/// The three metrics of MATH.md §8 for one test input.
#[derive(Clone, Debug, PartialEq)]
pub struct OrbitMetrics {
    /// `max_g ‖μ(ρ_X(g)x) − ρ_Y(g) μ(x)‖`.
    pub abs_error: f64,
    /// `abs_error / ‖μ(x)‖`.
    pub rel_error: f64,
    /// Per output component c, with `z_g = ρ_Y(g)ᵀ μ(ρ_X(g)x)` (the prediction carried back to
    /// x, constant along the orbit for an equivariant μ; `z_g = μ(ρ_X(g)x)` when invariant):
    /// `std_g z_{g,c} / |mean_g z_{g,c}|`.
    pub rel_std_components: Vec<f64>,
    /// The vector form `sqrt(Σ_c std_g z_{g,c}²) / ‖mean_g z_g‖` (the RMS distance of z_g from its
    /// orbit mean relative to the mean's length; independent of an orthogonal change of output
    /// basis; equals the single component's value when O = 1).
    pub rel_std: f64,
    /// The number of g whose predicted class at ρ_X(g)x equals that at x, in 1 ..= |G|.
    pub same_prediction: usize,
    /// |G|, the length of the orbit.
    pub orbit_len: usize,
}

/// `a / b` with `0/0 = 0` and `a/0 = ∞` (a, b ≥ 0).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else if a == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// `ρ v` for an O × O matrix and a vector of length O.
fn apply(rho: &Mat<f64>, v: &[f64]) -> Vec<f64> {
    (0..rho.nrows())
        .map(|i| (0..rho.ncols()).map(|j| rho[(i, j)] * v[j]).sum())
        .collect()
}

/// `ρᵀ v` (= ρ⁻¹ v for orthogonal ρ).
fn apply_transpose(rho: &Mat<f64>, v: &[f64]) -> Vec<f64> {
    (0..rho.ncols())
        .map(|j| (0..rho.nrows()).map(|i| rho[(i, j)] * v[i]).sum())
        .collect()
}

/// Checks the orbit (non-empty, equal lengths ≥ 1, finite) and the representation (one
/// orthogonal O × O matrix per element, to 1e-10 in every entry of ρᵀρ − I).
fn check(orbit: &[Vec<f64>], rep: OutputRep) -> Result<usize> {
    let first = orbit
        .first()
        .ok_or_else(|| Error::Shape("the orbit holds no predictions".into()))?;
    let o = first.len();
    if o == 0 {
        return Err(Error::Shape("the prediction at x has no outputs".into()));
    }
    for (k, p) in orbit.iter().enumerate() {
        if p.len() != o {
            return Err(Error::Shape(format!(
                "the prediction at group element {k} has {} outputs, the one at x has {o}",
                p.len()
            )));
        }
        if let Some(c) = p.iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!(
                "output {c} of the prediction at group element {k} is not finite ({})",
                p[c]
            )));
        }
    }
    if let OutputRep::Matrices(m) = rep {
        if m.len() != orbit.len() {
            return Err(Error::Shape(format!(
                "{} output matrices ρ_Y(g) for an orbit of {} predictions",
                m.len(),
                orbit.len()
            )));
        }
        for (k, r) in m.iter().enumerate() {
            if r.nrows() != o || r.ncols() != o {
                return Err(Error::Shape(format!(
                    "ρ_Y(g_{k}) is {} × {}, the predictions have {o} outputs",
                    r.nrows(),
                    r.ncols()
                )));
            }
            for i in 0..o {
                for j in 0..o {
                    let rtr: f64 = (0..o).map(|l| r[(l, i)] * r[(l, j)]).sum();
                    let want = if i == j { 1.0 } else { 0.0 };
                    // a NaN entry fails too
                    if (rtr - want).abs() > 1e-10 || rtr.is_nan() {
                        return Err(Error::Group(format!(
                            "ρ_Y(g_{k}) is not orthogonal: (ρᵀρ)[{i},{j}] = {rtr}"
                        )));
                    }
                }
            }
        }
    }
    Ok(o)
}

/// Invariance/equivariance error `(max_g ‖μ(ρ_X(g)x) − ρ_Y(g) μ(x)‖, that / ‖μ(x)‖)`.
///
/// `orbit`: |G| predictions of O outputs each, `orbit[0] = μ(x)`.
pub(crate) fn equivariance_error(orbit: &[Vec<f64>], rep: OutputRep) -> Result<(f64, f64)> {
    check(orbit, rep)?;
    let mu = &orbit[0];
    let mut worst = 0.0f64;
    for (k, p) in orbit.iter().enumerate() {
        let target = match rep {
            OutputRep::Invariant => mu.clone(),
            OutputRep::Matrices(m) => apply(&m[k], mu),
        };
        let d: Vec<f64> = p.iter().zip(&target).map(|(a, b)| a - b).collect();
        worst = worst.max(norm(&d));
    }
    Ok((worst, ratio(worst, norm(mu))))
}

/// Relative standard deviation over the orbit: `(per-component, vector form)` as defined on
/// [`OrbitMetrics::rel_std_components`] and [`OrbitMetrics::rel_std`].
pub(crate) fn relative_std(orbit: &[Vec<f64>], rep: OutputRep) -> Result<(Vec<f64>, f64)> {
    let o = check(orbit, rep)?;
    let n = orbit.len() as f64;
    let z: Vec<Vec<f64>> = match rep {
        OutputRep::Invariant => orbit.to_vec(),
        OutputRep::Matrices(m) => orbit
            .iter()
            .zip(m)
            .map(|(p, r)| apply_transpose(r, p))
            .collect(),
    };
    let mean: Vec<f64> = (0..o)
        .map(|c| z.iter().map(|v| v[c]).sum::<f64>() / n)
        .collect();
    let var: Vec<f64> = (0..o)
        .map(|c| z.iter().map(|v| (v[c] - mean[c]).powi(2)).sum::<f64>() / n)
        .collect();
    let per: Vec<f64> = (0..o)
        .map(|c| ratio(var[c].sqrt(), mean[c].abs()))
        .collect();
    let total = ratio(var.iter().sum::<f64>().sqrt(), norm(&mean));
    Ok((per, total))
}

/// The predicted class of one output vector: argmax (first on ties), or `[μ > 0]` when O = 1.
pub(crate) fn predicted_class(prediction: &[f64]) -> usize {
    if prediction.len() == 1 {
        return usize::from(prediction[0] > 0.0);
    }
    let mut best = 0;
    for (c, v) in prediction.iter().enumerate() {
        if *v > prediction[best] {
            best = c;
        }
    }
    best
}

/// Orbit same prediction: `#{g : class(μ(ρ_X(g)x)) = class(μ(x))}`, in 1 ..= |G| (g = e always
/// counts). Classes are [`predicted_class`]; labels are invariant, so no ρ_Y enters.
pub(crate) fn orbit_same_prediction(orbit: &[Vec<f64>]) -> Result<usize> {
    check(orbit, OutputRep::Invariant)?;
    let c0 = predicted_class(&orbit[0]);
    Ok(orbit.iter().filter(|p| predicted_class(p) == c0).count())
}

impl OrbitMetrics {
    /// All metrics of one test input from its orbit of predictions and ρ_Y.
    pub fn compute(orbit: &[Vec<f64>], rep: OutputRep) -> Result<Self> {
        let (abs_error, rel_error) = equivariance_error(orbit, rep)?;
        let (rel_std_components, rel_std) = relative_std(orbit, rep)?;
        Ok(Self {
            abs_error,
            rel_error,
            rel_std_components,
            rel_std,
            same_prediction: orbit_same_prediction(orbit)?,
            orbit_len: orbit.len(),
        })
    }
}

/// Mean and maximum of one metric over test inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// Arithmetic mean (+∞ if any value is +∞).
    pub mean: f64,
    /// Largest value.
    pub max: f64,
}

impl Stat {
    fn of(v: impl Iterator<Item = f64> + Clone) -> Self {
        let n = v.clone().count() as f64;
        Self {
            mean: v.clone().sum::<f64>() / n,
            max: v.fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// [`OrbitMetrics`] aggregated over many test inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsSummary {
    /// Number of test inputs.
    pub inputs: usize,
    /// Absolute invariance/equivariance error.
    pub abs_error: Stat,
    /// Relative invariance/equivariance error.
    pub rel_error: Stat,
    /// Relative standard deviation over the orbit (vector form).
    pub rel_std: Stat,
    /// Mean over inputs of `same_prediction / |G|` (1 for a perfectly invariant classifier).
    pub same_prediction_fraction: f64,
    /// The smallest `same_prediction` over inputs (the worst input).
    pub same_prediction_min: usize,
}

impl MetricsSummary {
    /// Aggregates per-input metrics; errors on an empty list.
    pub fn from_metrics(metrics: &[OrbitMetrics]) -> Result<Self> {
        if metrics.is_empty() {
            return Err(Error::Shape(
                "no test inputs to summarise metrics over".into(),
            ));
        }
        let m = metrics.iter();
        Ok(Self {
            inputs: metrics.len(),
            abs_error: Stat::of(m.clone().map(|x| x.abs_error)),
            rel_error: Stat::of(m.clone().map(|x| x.rel_error)),
            rel_std: Stat::of(m.clone().map(|x| x.rel_std)),
            same_prediction_fraction: m
                .clone()
                .map(|x| x.same_prediction as f64 / x.orbit_len as f64)
                .sum::<f64>()
                / metrics.len() as f64,
            same_prediction_min: m.map(|x| x.same_prediction).min().unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rot(theta: f64) -> Mat<f64> {
        let (s, c) = theta.sin_cos();
        Mat::from_fn(2, 2, |i, j| [[c, -s], [s, c]][i][j])
    }

    #[test]
    fn invariant_scalar_orbit() {
        // values 1, 3, 1, 3: mean 2, population std 1; worst deviation from μ(x)=1 is 2
        let orbit = vec![vec![1.0], vec![3.0], vec![1.0], vec![3.0]];
        let m = OrbitMetrics::compute(&orbit, OutputRep::Invariant).unwrap();
        assert_eq!(m.abs_error, 2.0);
        assert_eq!(m.rel_error, 2.0);
        assert_eq!(m.rel_std_components, vec![0.5]);
        assert_eq!(m.rel_std, 0.5);
        assert_eq!(m.same_prediction, 4, "all positive: one class");
        let m = OrbitMetrics::compute(&[vec![1.0], vec![-1.0]], OutputRep::Invariant).unwrap();
        assert_eq!(m.same_prediction, 1);
        assert_eq!(m.rel_std, f64::INFINITY, "std 1 around a zero mean");
    }

    #[test]
    fn exactly_invariant_orbit_has_zero_metrics() {
        let orbit = vec![vec![0.3, -2.0]; 8];
        let m = OrbitMetrics::compute(&orbit, OutputRep::Invariant).unwrap();
        assert_eq!((m.abs_error, m.rel_error, m.rel_std), (0.0, 0.0, 0.0));
        assert_eq!(m.same_prediction, 8);
        // the all-zero predictor is invariant too: 0/0 counts as 0
        let m = OrbitMetrics::compute(&[vec![0.0], vec![0.0]], OutputRep::Invariant).unwrap();
        assert_eq!((m.rel_error, m.rel_std), (0.0, 0.0));
    }

    #[test]
    fn equivariant_vector_orbit_under_c4() {
        // μ(g_k x) = R_{kπ/2} μ(x) exactly: zero error and zero spread of z_g = R_kᵀ μ(g_k x)
        let reps: Vec<Mat<f64>> = (0..4)
            .map(|k| rot(k as f64 * std::f64::consts::FRAC_PI_2))
            .collect();
        let mu = [3.0, 4.0];
        let orbit: Vec<Vec<f64>> = reps.iter().map(|r| apply(r, &mu)).collect();
        let m = OrbitMetrics::compute(&orbit, OutputRep::Matrices(&reps)).unwrap();
        assert!(m.abs_error < 1e-14 && m.rel_std < 1e-14);
        // perturb the prediction at g₂ by (0, 1): error 1, relative 1/5; z_2 moves by R₂ᵀ(0,1) = (0,−1)
        let mut bad = orbit.clone();
        bad[2][1] += 1.0;
        let m = OrbitMetrics::compute(&bad, OutputRep::Matrices(&reps)).unwrap();
        assert!((m.abs_error - 1.0).abs() < 1e-14);
        assert!((m.rel_error - 0.2).abs() < 1e-14);
        // component 2 of z: values 4,4,3,4 → mean 3.75, std sqrt(3)/4
        let want = 3f64.sqrt() / 4.0 / 3.75;
        assert!(m.rel_std_components[0] < 1e-14);
        assert!((m.rel_std_components[1] - want).abs() < 1e-14);
        let mean_norm = (9.0f64 + 3.75 * 3.75).sqrt();
        assert!((m.rel_std - 3f64.sqrt() / 4.0 / mean_norm).abs() < 1e-14);
    }

    #[test]
    fn classification_counts_argmax_agreement() {
        let orbit = vec![
            vec![0.1, 0.7, 0.2],
            vec![0.5, 0.5, 0.0], // tie → class 0
            vec![0.0, 0.9, 0.1],
            vec![0.3, 0.3, 0.4],
        ];
        assert_eq!(orbit_same_prediction(&orbit).unwrap(), 2);
    }

    #[test]
    fn summary_means_and_maxima() {
        let a = OrbitMetrics::compute(&[vec![1.0], vec![3.0]], OutputRep::Invariant).unwrap();
        let b = OrbitMetrics::compute(&[vec![2.0], vec![2.0]], OutputRep::Invariant).unwrap();
        let s = MetricsSummary::from_metrics(&[a, b]).unwrap();
        assert_eq!(s.inputs, 2);
        assert_eq!(
            s.abs_error,
            Stat {
                mean: 1.0,
                max: 2.0
            }
        );
        assert_eq!(
            s.rel_error,
            Stat {
                mean: 1.0,
                max: 2.0
            }
        );
        assert_eq!(
            s.rel_std,
            Stat {
                mean: 0.25,
                max: 0.5
            }
        );
        assert_eq!(s.same_prediction_fraction, 1.0);
        assert_eq!(s.same_prediction_min, 2);
        assert!(MetricsSummary::from_metrics(&[]).is_err());
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(OrbitMetrics::compute(&[], OutputRep::Invariant).is_err());
        assert!(OrbitMetrics::compute(&[vec![]], OutputRep::Invariant).is_err());
        assert!(OrbitMetrics::compute(&[vec![1.0], vec![1.0, 2.0]], OutputRep::Invariant).is_err());
        assert!(OrbitMetrics::compute(&[vec![f64::NAN]], OutputRep::Invariant).is_err());
        let reps = vec![rot(0.0)];
        let two = [vec![1.0, 0.0], vec![0.0, 1.0]];
        assert!(OrbitMetrics::compute(&two, OutputRep::Matrices(&reps)).is_err());
        let skew = vec![
            rot(0.0),
            Mat::from_fn(2, 2, |i, j| if i == j { 2.0 } else { 0.0 }),
        ];
        let e = OrbitMetrics::compute(&two, OutputRep::Matrices(&skew)).unwrap_err();
        assert!(e.to_string().contains("not orthogonal"), "{e}");
    }
}
