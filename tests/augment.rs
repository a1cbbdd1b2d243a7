//! Result B (MATH.md §8) for infinite ensembles: the explicitly augmented predictor against the
//! isotypic-block one, exact invariance/equivariance of μ_t with full augmentation, O(1) errors
//! without it or with a proper subgroup, SO(2) through Fourier modes, and bad input.

#![allow(clippy::needless_range_loop)]

use crate::common;

use common::normal_batch as random_batch;
// Index loops over the time list keep the (mean, cov) pairs aligned and readable.

use common::prediction::{block_prediction, explicit_prediction};
use eqntk::action::Domain;
use eqntk::augment::{orbit_summary, so2_orbit_batch, so2_output_matrices};
use eqntk::augment::{FiniteAugmentation, OutputTransform, RotationKind, So2Predictor};
use eqntk::group::GroupSpec;
use eqntk::metrics::OutputRep;
use eqntk::{Batch, Error, Network, Predictor};
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const TIMES: [f64; 6] = [0.0, 1e-2, 1.0, 10.0, 1e3, f64::INFINITY];

fn random_targets(n: usize, o: usize, seed: u64) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Mat::from_fn(n, o, |_, _| StandardNormal.sample(&mut rng))
}

fn scaled(b: &Batch, s: f64) -> Batch {
    Batch::new(
        b.shape().to_vec(),
        b.values().iter().map(|v| v * s).collect(),
    )
    .unwrap()
}

fn concat(a: &Batch, b: &Batch) -> Batch {
    Batch::new(a.shape().to_vec(), [a.values(), b.values()].concat()).unwrap()
}

/// The `[input]` keys of a planar point set of the given shape (point sets are never the
/// default domain of `[P, 2]`).
fn points(shape: &str) -> String {
    format!("{shape}\ndomain = \"points\"")
}

fn mlp(shape: &str) -> Network {
    Network::from_toml_str(
        &format!(
            r#"
            [input]
            shape = {shape}
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
            b_std = 0.1
            [[layers]]
            kind = "relu"
            [[layers]]
            kind = "dense"
            "#
        ),
        "mlp",
    )
    .unwrap()
}

/// Circular convolutions with odd, centred filters (symmetric under the point group), ReLU,
/// pooling or flatten, dense readout.
fn cnn(shape: &str, filter: &str, readout: &str) -> Network {
    Network::from_toml_str(
        &format!(
            r#"
            [input]
            shape = {shape}
            [[layers]]
            kind = "conv"
            filter = {filter}
            padding = "circular"
            w_std = 1.5
            b_std = 0.1
            [[layers]]
            kind = "relu"
            [[layers]]
            kind = "conv"
            filter = {filter}
            padding = "circular"
            w_std = 1.5
            b_std = 0.1
            [[layers]]
            kind = "relu"
            [[layers]]
            kind = "{readout}"
            [[layers]]
            kind = "dense"
            w_std = 1.5
            b_std = 0.1
            "#
        ),
        "cnn",
    )
    .unwrap()
}

fn max_rel_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let scale = (0..a.ncols())
        .flat_map(|j| (0..a.nrows()).map(move |i| (i, j)))
        .fold(1e-300_f64, |m, (i, j)| m.max(a[(i, j)].abs()));
    let d = (0..a.ncols())
        .flat_map(|j| (0..a.nrows()).map(move |i| (i, j)))
        .fold(0.0_f64, |m, (i, j)| m.max((a[(i, j)] - b[(i, j)]).abs()));
    d / scale
}

struct Case {
    name: &'static str,
    net: Network,
    group: &'static str,
    shape: Vec<usize>,
    /// A proper subgroup (or `None`: no augmentation at all is tested).
    subgroup: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "C6 MLP",
            net: mlp("[6, 1]"),
            group: "C6",
            shape: vec![6, 1],
            subgroup: Some("C3"),
        },
        Case {
            name: "D6 CNN",
            net: cnn("[6, 1]", "[3]", "global_avg_pool"),
            group: "D6",
            shape: vec![6, 1],
            subgroup: Some("C6"),
        },
        Case {
            name: "C4 CNN",
            net: cnn("[3, 3, 1]", "[3, 3]", "flatten"),
            group: "C4",
            shape: vec![3, 3, 1],
            subgroup: None,
        },
        Case {
            name: "D4 MLP",
            net: mlp("[3, 3, 1]"),
            group: "D4",
            shape: vec![3, 3, 1],
            subgroup: Some("C4"),
        },
        Case {
            name: "p4 CNN",
            net: cnn("[3, 3, 1]", "[3, 3]", "flatten"),
            group: "p4",
            shape: vec![3, 3, 1],
            subgroup: Some("C4"),
        },
    ]
}

/// Explicit augmentation and the isotypic blocks give the same mean and covariance.
#[test]
fn explicit_augmentation_equals_isotypic_blocks() {
    for case in cases() {
        let aug = FiniteAugmentation::from_spec(
            &GroupSpec::parse(case.group).unwrap(),
            Domain::default_for(&case.shape).unwrap(),
            &case.shape,
        )
        .unwrap();
        let x = random_batch(&case.shape, 2, 1);
        let y = random_targets(2, 2, 2);
        let xt = random_batch(&case.shape, 3, 3);
        let args = (
            &case.net,
            &aug,
            &x,
            y.as_ref(),
            OutputTransform::Invariant,
            &xt,
        );
        let a = explicit_prediction(
            args.0, args.1, args.2, args.3, args.4, args.5, &TIMES, 1.0, 0.0, true,
        )
        .unwrap();
        let b = block_prediction(
            args.0, args.1, args.2, args.3, args.4, args.5, &TIMES, 1.0, 0.0, true,
        )
        .unwrap();
        for k in 0..TIMES.len() {
            let dm = max_rel_diff(&a.mean[k], &b.mean[k]);
            let dc = max_rel_diff(&a.cov[k], &b.cov[k]);
            assert!(
                dm <= 1e-10,
                "{}: mean differs by {dm:e} at t = {}",
                case.name,
                TIMES[k]
            );
            assert!(
                dc <= 1e-10,
                "{}: cov differs by {dc:e} at t = {}",
                case.name,
                TIMES[k]
            );
        }
    }
}

/// Equivariant targets: signal-to-signal maps (ρ_Y = ρ_X) under D6 and vector targets under C4.
#[test]
fn explicit_equals_blocks_for_equivariant_targets() {
    let net = cnn("[6, 1]", "[3]", "global_avg_pool");
    let shape = vec![6, 1];
    let aug =
        FiniteAugmentation::from_spec(&GroupSpec::Dihedral(6), Domain::Signal, &shape).unwrap();
    let x = random_batch(&shape, 2, 11);
    let y = random_targets(2, 6, 12);
    let xt = random_batch(&shape, 2, 13);
    let a = explicit_prediction(
        &net,
        &aug,
        &x,
        y.as_ref(),
        OutputTransform::Input,
        &xt,
        &TIMES,
        1.0,
        0.0,
        true,
    )
    .unwrap();
    let b = block_prediction(
        &net,
        &aug,
        &x,
        y.as_ref(),
        OutputTransform::Input,
        &xt,
        &TIMES,
        1.0,
        0.0,
        true,
    )
    .unwrap();
    for k in 0..TIMES.len() {
        assert!(max_rel_diff(&a.mean[k], &b.mean[k]) <= 1e-10);
        assert!(max_rel_diff(&a.cov[k], &b.cov[k]) <= 1e-10);
    }
    // Equivariance of the mean: μ(g x) = ρ_Y(g) μ(x).
    let rho = OutputTransform::Input.matrices(&aug, 6).unwrap();
    let orbits = aug.orbit_batch(&xt).unwrap();
    let p = block_prediction(
        &net,
        &aug,
        &x,
        y.as_ref(),
        OutputTransform::Input,
        &orbits,
        &TIMES,
        1.0,
        0.0,
        false,
    )
    .unwrap();
    for (k, m) in p.mean.iter().enumerate() {
        let s = orbit_summary(m.as_ref(), aug.order(), OutputRep::Matrices(&rho)).unwrap();
        assert!(
            s.rel_error.max <= 1e-10,
            "t = {}: {:e}",
            TIMES[k],
            s.rel_error.max
        );
    }
}

fn orbit_error(
    net: &Network,
    aug: Option<&FiniteAugmentation>,
    orbit_group: &FiniteAugmentation,
    x: &Batch,
    y: &Mat<f64>,
    xt: &Batch,
    t: f64,
) -> f64 {
    let orbits = orbit_group.orbit_batch(xt).unwrap();
    let mean = match aug {
        Some(a) => block_prediction(
            net,
            a,
            x,
            y.as_ref(),
            OutputTransform::Invariant,
            &orbits,
            &[t],
            1.0,
            0.0,
            false,
        )
        .unwrap()
        .mean
        .remove(0),
        None => {
            let k = net.kernel(x, None).unwrap();
            let p = Predictor::new(
                k.ntk().unwrap().as_ref(),
                k.nngp().unwrap().as_ref(),
                y.as_ref(),
                1.0,
                0.0,
            )
            .unwrap();
            let c = net.kernel(&orbits, Some(x)).unwrap();
            p.mean(c.ntk().unwrap().as_ref(), t).unwrap()
        }
    };
    orbit_summary(mean.as_ref(), orbit_group.order(), OutputRep::Invariant)
        .unwrap()
        .rel_error
        .max
}

/// Full augmentation: μ_t invariant to 1e-10 at every t, at test inputs on and off the data;
/// no augmentation and a proper subgroup: O(1) errors.
#[test]
fn full_augmentation_makes_the_mean_invariant() {
    for case in cases() {
        let full = FiniteAugmentation::from_spec(
            &GroupSpec::parse(case.group).unwrap(),
            Domain::default_for(&case.shape).unwrap(),
            &case.shape,
        )
        .unwrap();
        let x = random_batch(&case.shape, 3, 21);
        let y = random_targets(3, 1, 22);
        let random = random_batch(&case.shape, 2, 23);
        let xt = concat(
            &concat(&x.slice(0, 1).unwrap(), &random),
            &concat(&scaled(&random, 3.0), &scaled(&random, 100.0)),
        );
        for &t in &TIMES {
            let e = orbit_error(&case.net, Some(&full), &full, &x, &y, &xt, t);
            assert!(e <= 1e-10, "{} full, t = {t}: {e:e}", case.name);
        }
        for &t in &[1.0, f64::INFINITY] {
            let none = orbit_error(&case.net, None, &full, &x, &y, &xt, t);
            assert!(none > 1e-2, "{} none, t = {t}: {none:e}", case.name);
            if let Some(sub) = case.subgroup {
                let s = FiniteAugmentation::from_spec(
                    &GroupSpec::parse(sub).unwrap(),
                    Domain::default_for(&case.shape).unwrap(),
                    &case.shape,
                )
                .unwrap();
                let e = orbit_error(&case.net, Some(&s), &full, &x, &y, &xt, t);
                assert!(e > 1e-2, "{} subgroup {sub}, t = {t}: {e:e}", case.name);
            }
        }
    }
}

/// SO(2): the C_k error on an SO(2) orbit falls with k; the SO(2) limit is invariant under
/// arbitrary angles to 1e-8.
#[test]
fn so2_limit_and_cyclic_subgroups() {
    let net = mlp(&points("[3, 2]"));
    let shape = vec![3, 2];
    let x = random_batch(&shape, 3, 31);
    let y = random_targets(3, 1, 32);
    let xt = random_batch(&shape, 2, 33);
    let angles = [0.0, 0.3, 1.1, 2.0, 2.9, 4.4, 5.7];
    let orbits = so2_orbit_batch(RotationKind::Points, &xt, &angles).unwrap();
    let so2 = So2Predictor::new(
        &net,
        RotationKind::Points,
        &x,
        y.as_ref(),
        OutputTransform::Invariant,
        1.0,
        0.0,
        1e-13,
    )
    .unwrap();
    for &t in &TIMES {
        let m = so2.mean(&orbits, t).unwrap();
        let e = orbit_summary(m.as_ref(), angles.len(), OutputRep::Invariant)
            .unwrap()
            .rel_error
            .max;
        assert!(e <= 1e-8, "SO(2), t = {t}: {e:e}");
    }
    let mut last = f64::INFINITY;
    for k in [4, 8, 16, 32] {
        let aug =
            FiniteAugmentation::from_spec(&GroupSpec::Cyclic(k), Domain::Points, &shape).unwrap();
        let m = block_prediction(
            &net,
            &aug,
            &x,
            y.as_ref(),
            OutputTransform::Invariant,
            &orbits,
            &[10.0],
            1.0,
            0.0,
            false,
        )
        .unwrap();
        let e = orbit_summary(m.mean[0].as_ref(), angles.len(), OutputRep::Invariant)
            .unwrap()
            .abs_error
            .max;
        assert!(e < last, "C{k}: {e:e} not below {last:e}");
        last = e;
    }
    // Vector targets rotate: μ(R_θ x) = R(θ) μ(x).
    let yv = random_targets(3, 2, 34);
    let so2v = So2Predictor::new(
        &net,
        RotationKind::Points,
        &x,
        yv.as_ref(),
        OutputTransform::Vector,
        1.0,
        0.0,
        1e-13,
    )
    .unwrap();
    assert_eq!(so2v.modes(), vec![-1, 1]);
    let rho = so2_output_matrices(
        OutputTransform::Vector,
        RotationKind::Points,
        &shape,
        2,
        &angles,
    )
    .unwrap();
    let m = so2v.mean(&orbits, 10.0).unwrap();
    let s = orbit_summary(m.as_ref(), angles.len(), OutputRep::Matrices(&rho)).unwrap();
    assert!(s.rel_error.max <= 1e-8, "{:e}", s.rel_error.max);
}

fn erf_mlp(shape: &str) -> Network {
    Network::from_toml_str(
        &format!(
            r#"
            [input]
            shape = {shape}
            [[layers]]
            kind = "flatten"
            [[layers]]
            kind = "dense"
            w_std = 1.5
            b_std = 0.1
            [[layers]]
            kind = "erf"
            [[layers]]
            kind = "dense"
            "#
        ),
        "erf-mlp",
    )
    .unwrap()
}

/// The SO(2) limit is the limit of C_k augmentation: geometric convergence for an analytic
/// kernel (erf: C_64 agrees to 1e-9), algebraic (~k⁻²) for ReLU, whose kernel has a kink at
/// correlation 1 (halving the error at least twice per doubling of k, i.e. faster than k⁻¹).
#[test]
fn so2_limit_is_the_large_k_limit() {
    let shape = vec![5, 1];
    let x = random_batch(&shape, 2, 41);
    let y = random_targets(2, 1, 42);
    let xt = random_batch(&shape, 2, 43);
    let gap = |net: &Network, k: usize, t: f64| {
        let so2 = So2Predictor::new(
            net,
            RotationKind::Signal,
            &x,
            y.as_ref(),
            OutputTransform::Invariant,
            1.0,
            0.0,
            1e-13,
        )
        .unwrap();
        let aug =
            FiniteAugmentation::from_spec(&GroupSpec::Cyclic(k), Domain::Signal, &shape).unwrap();
        let a = so2.mean(&xt, t).unwrap();
        let b = block_prediction(
            net,
            &aug,
            &x,
            y.as_ref(),
            OutputTransform::Invariant,
            &xt,
            &[t],
            1.0,
            0.0,
            false,
        )
        .unwrap();
        max_rel_diff(&a, &b.mean[0])
    };
    let erf = erf_mlp("[5, 1]");
    for &t in &[1.0, f64::INFINITY] {
        let d = gap(&erf, 64, t);
        assert!(d < 1e-9, "erf, t = {t}: {d:e}");
    }
    let relu = mlp("[5, 1]");
    let gaps: Vec<f64> = [16, 32, 64].iter().map(|&k| gap(&relu, k, 10.0)).collect();
    assert!(gaps[0] > 1e-8, "{gaps:?}");
    assert!(
        gaps[1] < gaps[0] / 2.5 && gaps[2] < gaps[1] / 2.5,
        "{gaps:?}"
    );
}

#[test]
fn bad_input_gives_clear_errors() {
    // An action that does not fit the data.
    let e = FiniteAugmentation::from_spec(&GroupSpec::Cyclic(4), Domain::Image, &[3, 4, 1])
        .unwrap_err();
    assert!(matches!(e, Error::Group(_)), "{e}");
    assert!(e.to_string().contains("square"), "{e}");
    let e =
        FiniteAugmentation::from_spec(&GroupSpec::Cyclic(4), Domain::Signal, &[6, 1]).unwrap_err();
    assert!(e.to_string().contains("odd"), "{e}");
    let e =
        FiniteAugmentation::from_spec(&GroupSpec::P4(None), Domain::Points, &[5, 2]).unwrap_err();
    assert!(matches!(e, Error::NoAction { .. }), "{e}");
    assert!(e.to_string().contains("points"), "{e}");
    // Targets that cannot transform as asked.
    let aug =
        FiniteAugmentation::from_spec(&GroupSpec::Dihedral(6), Domain::Signal, &[6, 1]).unwrap();
    let e = OutputTransform::Vector.matrices(&aug, 2).unwrap_err();
    assert!(e.to_string().contains("not a rotation group"), "{e}");
    let e = OutputTransform::Input.matrices(&aug, 3).unwrap_err();
    assert!(e.to_string().contains("6 outputs"), "{e}");
    let e = OutputTransform::Vector.matrices(&aug, 1).unwrap_err();
    assert!(e.to_string().contains("2 outputs"), "{e}");
    // A batch of another shape, a NaN time.
    let net = mlp("[6, 1]");
    let x = random_batch(&[6, 1], 2, 1);
    let y = random_targets(2, 1, 2);
    let other = random_batch(&[3, 1], 2, 1);
    assert!(aug.augment_batch(&other).is_err());
    let e = block_prediction(
        &net,
        &aug,
        &x,
        y.as_ref(),
        OutputTransform::Invariant,
        &x,
        &[1.0, f64::NAN],
        1.0,
        0.0,
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    assert!(eqntk::parse_times("0,nan").is_err());
    // A kernel that is not invariant cannot use the block structure.
    let plain = Network::from_toml_str(
        r#"
        [input]
        shape = [6, 1]
        [[layers]]
        kind = "conv"
        filter = [3]
        padding = "same"
        [[layers]]
        kind = "relu"
        [[layers]]
        kind = "flatten"
        [[layers]]
        kind = "dense"
        "#,
        "zero-padded",
    )
    .unwrap();
    let e = block_prediction(
        &plain,
        &aug,
        &x,
        y.as_ref(),
        OutputTransform::Invariant,
        &x,
        &[1.0],
        1.0,
        0.0,
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("not invariant"), "{e}");
}
