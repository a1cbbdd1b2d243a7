//! Finite trained ensembles with augmentation: the ensemble mean's invariance error falls like
//! M^{−1/2} while a single member's stays O(1) (MATH.md §8).
//!
//! For an MLP with Gaussian initialisation the distribution of the network function is
//! invariant under any orthogonal transformation of the inputs, and gradient descent on the
//! fully augmented set keeps it so: the M → ∞ ensemble is exactly invariant even at finite
//! width, and the error of an M-member mean is pure Monte-Carlo noise, `Z/√M`.

use eqntk::augment::ensemble::train_on_orbits;
use eqntk::augment::orbit::orbit_summary;
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
    let aug = FiniteAugmentation::from_spec(&GroupSpec::Cyclic(4), &[4, 1], false).unwrap();
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
