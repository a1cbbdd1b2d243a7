//! Finite trained ensembles with augmentation: the ensemble mean's invariance error falls like
//! M^{−1/2} while a single member's stays O(1) (MATH.md §8).
//!
//! For an MLP with Gaussian initialisation the distribution of the network function is
//! invariant under any orthogonal transformation of the inputs, and gradient descent on the
//! fully augmented set keeps it so: the M → ∞ ensemble is exactly invariant even at finite
//! width, and the error of an M-member mean is pure Monte-Carlo noise, `Z/√M`. The augmented
//! ensemble's mean is also compared with the augmented infinite-ensemble predictor.

use crate::common;
use common::prediction::explicit_prediction;
use common::prediction::plain_prediction as predict;
use eqntk::action::Domain;
use eqntk::augment::orbit_summary;
use eqntk::augment::train_on_orbits;
use eqntk::augment::{FiniteAugmentation, OutputTransform};
use eqntk::finite::EnsembleConfig;
use eqntk::group::GroupSpec;
use eqntk::metrics::OutputRep;
use eqntk::{Batch, Network};
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

#[test]
fn ensemble_invariance_error_falls_like_inverse_sqrt_members() {
    let net = Network::from_toml_str(
        r#"
        [input]
        shape = [4, 1]
        [[layers]]
        kind = "flatten"
        [[layers]]
        kind = "dense"
        w_std = 1.5
        b_std = 0.1
        [[layers]]
        kind = "relu"
        [[layers]]
        kind = "dense"
        w_std = 1.5
        "#,
        "mlp",
    )
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut normal =
        |k: usize| -> Vec<f64> { (0..k).map(|_| StandardNormal.sample(&mut rng)).collect() };
    let x = Batch::new(vec![4, 1], normal(12)).unwrap();
    let y = Mat::from_fn(3, 1, |i, _| [0.5, -1.0, 0.8][i]);
    let xt = Batch::new(vec![4, 1], normal(8)).unwrap();
    let aug =
        FiniteAugmentation::from_spec(&GroupSpec::Cyclic(4), Domain::Signal, &[4, 1]).unwrap();
    let members = 128;
    let config = EnsembleConfig {
        width: 16,
        members,
        seed: 7,
        learning_rate: 1.0,
        times: vec![3.0],
        steps_per_unit: 4.0,
        progress: false,
    };
    let run = train_on_orbits(
        &net,
        Some(&aug),
        &x,
        y.as_ref(),
        OutputTransform::Invariant,
        &aug,
        &xt,
        &config,
    )
    .unwrap();
    let preds = run.predictions(0);
    // Mean absolute invariance error of an m-member mean, averaged over 128/m disjoint ensembles.
    let error_of = |m: usize| -> f64 {
        let groups = members / m;
        (0..groups)
            .map(|g| {
                let mut mean = Mat::<f64>::zeros(preds[0].nrows(), 1);
                for p in &preds[g * m..(g + 1) * m] {
                    mean += p;
                }
                let mean = mean * faer::Scale(1.0 / m as f64);
                orbit_summary(mean.as_ref(), 4, OutputRep::Invariant)
                    .unwrap()
                    .abs_error
                    .mean
            })
            .sum::<f64>()
            / groups as f64
    };
    let sizes = [2usize, 4, 8, 16, 32];
    let pts: Vec<(f64, f64)> = sizes
        .iter()
        .map(|&m| ((m as f64).ln(), error_of(m).ln()))
        .collect();
    let n = pts.len() as f64;
    let (sx, sy) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (mx, my) = (sx / n, sy / n);
    let slope = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    // Band: at M = 32 four disjoint ensembles enter the average, a relative scatter of roughly
    // 1/√(2·4) ≈ 0.35 in the error, i.e. ±0.35 in its log over a log-range of ln 16 ≈ 2.8 —
    // about ±0.15 on the least-squares slope; the band allows ±0.2 around −1/2.
    assert!(
        (-0.7..=-0.3).contains(&slope),
        "slope {slope}, points {pts:?}"
    );
    // A single member is far from invariant; the 32-member mean is much closer.
    let single = error_of(1);
    let rel_single = preds
        .iter()
        .map(|p| {
            orbit_summary(p.as_ref(), 4, OutputRep::Invariant)
                .unwrap()
                .rel_error
                .mean
        })
        .sum::<f64>()
        / members as f64;
    assert!(
        rel_single > 0.05,
        "single member relative error {rel_single}"
    );
    assert!(single > 4.0 * error_of(32), "{single} vs {}", error_of(32));
}

/// N(0, 1) signals `[3, 1]` rescaled to |x|²/3 = 1 (unit input kernel on the diagonal, as in
/// `tests/ensemble.rs`; cyclic shifts keep the norm).
fn unit_signals(n: usize, seed: u64) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = Vec::with_capacity(3 * n);
    for _ in 0..n {
        let x: Vec<f64> = (0..3).map(|_| StandardNormal.sample(&mut rng)).collect();
        let norm = (x.iter().map(|a| a * a).sum::<f64>() / 3.0).sqrt();
        v.extend(x.iter().map(|a| a / norm));
    }
    Batch::new(vec![3, 1], v).unwrap()
}

/// μ_t of the infinite-width linear model trained by `steps` gradient-descent steps of size
/// `dt` instead of the flow, `Θ(x,X) V diag((1 − (1 − dt·c·λ)^steps)/λ) Vᵀ Y` with
/// `Θ(X,X) = V diag(λ) Vᵀ` and `c = η/(N·O)` (written out independently of the predictor).
fn discrete_mean(
    ntk_train: &Mat<f64>,
    ntk_cross: &Mat<f64>,
    y: &Mat<f64>,
    c: f64,
    dt: f64,
    steps: usize,
) -> Mat<f64> {
    let n = ntk_train.nrows();
    let evd = ntk_train.self_adjoint_eigen(faer::Side::Lower).unwrap();
    let v = evd.U().to_owned();
    let f = Mat::from_fn(n, n, |i, j| {
        let l = evd.S()[i];
        if i == j {
            (1.0 - (1.0 - dt * c * l).powi(steps as i32)) / l
        } else {
            0.0
        }
    });
    ntk_cross * (&v * f * v.transpose()) * y
}

/// The C3 problem: a one-hidden-layer ReLU MLP on unit signals `[3, 1]`, 4 training signals
/// augmented to 12, predictions on the C3 orbits of the 4 training and 2 off-data signals.
struct C3Problem {
    net: Network,
    aug: FiniteAugmentation,
    x: Batch,
    y: Mat<f64>,
    orbits: Batch,
    eta: f64,
}

const C3_TIMES: [f64; 2] = [1.0, 10.0];
const C3_SPU: f64 = 50.0;

fn c3_problem() -> C3Problem {
    let net = Network::from_toml_str(
        "[input]\nshape=[3, 1]\n[[layers]]\nkind='flatten'\n[[layers]]\nkind='dense'\n\
         w_std=1.5\nb_std=0.1\n[[layers]]\nkind='relu'\n[[layers]]\nkind='dense'\nw_std=1.0\n\
         b_std=0.1\n",
        "mlp.toml",
    )
    .unwrap();
    let x = unit_signals(4, 21);
    let off = unit_signals(2, 22);
    let aug =
        FiniteAugmentation::from_spec(&GroupSpec::Cyclic(3), Domain::Signal, &[3, 1]).unwrap();
    let probe = Batch::new(vec![3, 1], [x.values(), off.values()].concat()).unwrap();
    C3Problem {
        orbits: aug.orbit_batch(&probe).unwrap(),
        y: Mat::from_fn(4, 1, |i, _| [0.9, -0.6, 0.3, -1.1][i]),
        net,
        aug,
        x,
        // c = η/(N·O) = 2.4/12 = 0.2, as in tests/ensemble.rs.
        eta: 2.4,
    }
}

impl C3Problem {
    /// The trained ensemble, recorded on the orbits (input-major, 3 rows per probe input).
    fn run(&self, width: usize, members: usize, seed: u64) -> eqntk::finite::EnsembleRun {
        let config = EnsembleConfig {
            width,
            members,
            seed,
            learning_rate: self.eta,
            times: C3_TIMES.to_vec(),
            steps_per_unit: C3_SPU,
            progress: false,
        };
        let probe = Batch::new(vec![3, 1], {
            // Every third orbit row is the probe input itself (g = identity).
            (0..self.orbits.len() / 3)
                .flat_map(|a| self.orbits.example(3 * a).to_vec())
                .collect()
        })
        .unwrap();
        train_on_orbits(
            &self.net,
            Some(&self.aug),
            &self.x,
            self.y.as_ref(),
            OutputTransform::Invariant,
            &self.aug,
            &probe,
            &config,
        )
        .unwrap()
    }

    /// μ_t of the augmented infinite ensemble on the orbits, and the infinite-width
    /// gradient-descent-minus-flow difference at the same steps.
    fn infinite(&self) -> (Vec<Mat<f64>>, Vec<Mat<f64>>) {
        let p = explicit_prediction(
            &self.net,
            &self.aug,
            &self.x,
            self.y.as_ref(),
            OutputTransform::Invariant,
            &self.orbits,
            &C3_TIMES,
            self.eta,
            0.0,
            false,
        )
        .unwrap();
        let xa = self.aug.augment_batch(&self.x).unwrap();
        let ya = Mat::from_fn(12, 1, |i, _| self.y[(i % 4, 0)]);
        let ntk_train = self.net.kernel(&xa, None).unwrap().ntk().unwrap();
        let ntk_cross = self
            .net
            .kernel(&self.orbits, Some(&xa))
            .unwrap()
            .ntk()
            .unwrap();
        let disc = C3_TIMES
            .iter()
            .zip(&p.mean)
            .map(|(&t, mu)| {
                let steps = (t * C3_SPU).round() as usize;
                discrete_mean(
                    &ntk_train,
                    &ntk_cross,
                    &ya,
                    self.eta / 12.0,
                    1.0 / C3_SPU,
                    steps,
                ) - mu
            })
            .collect();
        (p.mean, disc)
    }
}

/// Finite-width bias allowance |E[ensemble] − μ_t| ≤ C/√width for the C3 problem, measured by
/// `measure_augmented_finite_width_bias` (4000 members, gradient descent vs flow subtracted):
/// at t = 10 the bias stands 48–70 SE out of the noise and width × excess is 3.1, 4.7, 7.0 at
/// widths 32, 64, 128 — it falls like width^{−0.43} here, not yet like 1/width, so the
/// `B/width` form of `tests/ensemble.rs` cannot be carried over; √width × excess is 0.56,
/// 0.58, 0.62, and C takes the largest ×2. At t = 1 no bias stands out (excess ≤ 0.34/width).
const C3_MEAN_BIAS_C: f64 = 1.25;

/// Finite ensembles trained on a C3-augmented set against the augmented infinite-ensemble
/// predictor (`explicit_prediction`), on the C3 orbits of training and off-data inputs.
///
/// Tolerance per entry: z = 5 standard errors from the member spread, plus `B/width` for the
/// finite-width bias (`C3_MEAN_BIAS_C`), plus the exact gradient-descent-vs-flow difference of
/// the infinite-width model. The test also checks that it has power (the unaugmented predictor
/// is rejected) and that the ensemble mean is far more invariant than its members (the M → ∞
/// ensemble is exactly invariant at any width, so its error is Monte-Carlo noise ~ M^{-1/2}:
/// a ratio ≈ 1/8 at M = 64; asserted < 1/3).
#[test]
fn augmented_finite_ensemble_matches_the_augmented_infinite_ensemble() {
    let p = c3_problem();
    let (width, members) = (256, 64);
    let run = p.run(width, members, 300);
    let (mu, disc) = p.infinite();
    // The unaugmented infinite ensemble (4 examples, the same c = η'/4) must be rejected.
    let plain = predict(
        &p.net,
        &p.x,
        &p.y,
        &p.orbits,
        &C3_TIMES,
        p.eta * 4.0 / 12.0,
        0.0,
        false,
    )
    .unwrap();
    const Z: f64 = 5.0;
    let mut power = false;
    for (k, &t) in C3_TIMES.iter().enumerate() {
        let (mean, se) = (run.mean(k), run.mean_standard_error(k));
        for a in 0..p.orbits.len() {
            let tol =
                Z * se[(a, 0)] + C3_MEAN_BIAS_C / (width as f64).sqrt() + disc[k][(a, 0)].abs();
            let diff = (mean[(a, 0)] - mu[k][(a, 0)]).abs();
            assert!(
                diff <= tol,
                "t = {t}, orbit point {a}: ensemble {} vs μ_t {} (tolerance {tol:.3e})",
                mean[(a, 0)],
                mu[k][(a, 0)]
            );
            power |= (mean[(a, 0)] - plain.mean[k][(a, 0)]).abs() > tol;
        }
        let ens = orbit_summary(mean.as_ref(), 3, OutputRep::Invariant)
            .unwrap()
            .abs_error
            .mean;
        let single = run
            .predictions(k)
            .iter()
            .map(|q| {
                orbit_summary(q.as_ref(), 3, OutputRep::Invariant)
                    .unwrap()
                    .abs_error
                    .mean
            })
            .sum::<f64>()
            / members as f64;
        eprintln!("t = {t}: ensemble invariance error {ens:.3e}, single member {single:.3e}");
        assert!(
            ens < single / 3.0,
            "t = {t}: ensemble {ens} vs member {single}"
        );
    }
    assert!(power, "the unaugmented predictor is not rejected");
}

/// Measures `C3_MEAN_BIAS_C`: for widths 32, 64, 128 and 4000 members, prints width × the
/// largest excess `|ensemble − μ_t| − 3·SE` over orbit points (a lower bound on B where the
/// bias stands out of the noise) and the largest |difference|/SE, at t = 1 and 10 (gradient
/// descent vs flow subtracted exactly).
#[test]
#[ignore]
fn measure_augmented_finite_width_bias() {
    let p = c3_problem();
    let (mu, disc) = p.infinite();
    for width in [32usize, 64, 128] {
        let run = p.run(width, 4000, 77);
        for (k, &t) in C3_TIMES.iter().enumerate() {
            let (mean, se) = (run.mean(k), run.mean_standard_error(k));
            let (mut excess, mut z) = (f64::NEG_INFINITY, 0.0f64);
            for a in 0..p.orbits.len() {
                let d = (mean[(a, 0)] - mu[k][(a, 0)] - disc[k][(a, 0)]).abs();
                excess = excess.max(d - 3.0 * se[(a, 0)]);
                z = z.max(d / se[(a, 0)]);
            }
            eprintln!(
                "width {width:4} t = {t:4}: width × excess {:+.3}, largest |diff|/SE {z:.1}",
                width as f64 * excess
            );
        }
    }
}
