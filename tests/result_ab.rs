//! Result A + B (MATH.md §7–8): an infinite ensemble of G-CNNs trained on the plain data and an
//! infinite ensemble of the plain network trained on the fully augmented data have the same
//! mean prediction at every training time, at test inputs on and off the data.
//!
//! The G-CNN side is the ordinary predictor on the G-CNN's own kernel (`cli::predict::predict`);
//! the plain side is the augmented predictor (explicit and isotypic-block). Why they agree: on
//! the augmented set the Gram matrix is G-circulant and the invariant targets live in its trivial
//! isotypic block, where it acts as `|G| Θ̄(X,X)`; the `|G|` cancels against the loss
//! normalisation by `|G|N·O`, leaving `Θ̄(x,X) Θ̄⁻¹ (I − e^{−ηΘ̄t/(N·O)}) Y` = the G-CNN's μ_t.

use crate::common;

use common::normal_batch as batch;
use common::prediction::plain_prediction as predict;
use common::prediction::{block_prediction, explicit_prediction};
use eqntk::augment::{FiniteAugmentation, OutputTransform};
use eqntk::group::GroupSpec;
use eqntk::{Batch, Network};
use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const TIMES: [f64; 6] = [0.0, 1e-2, 1.0, 10.0, 1e3, f64::INFINITY];
const W: &str = "w_std = 1.4\nb_std = 0.2\n";

fn concat(parts: &[&Batch]) -> Batch {
    let v: Vec<f64> = parts.iter().flat_map(|b| b.values().to_vec()).collect();
    Batch::new(parts[0].shape().to_vec(), v).unwrap()
}

fn scaled(b: &Batch, s: f64) -> Batch {
    Batch::new(
        b.shape().to_vec(),
        b.values().iter().map(|v| v * s).collect(),
    )
    .unwrap()
}

/// Test inputs: the training inputs, their images under one group element, random inputs,
/// the same rescaled by 3 and far out (×100).
fn test_inputs(aug: &FiniteAugmentation, x: &Batch, seed: u64) -> Batch {
    let moved = aug
        .augment_batch(x)
        .unwrap()
        .slice(x.len(), 2 * x.len())
        .unwrap();
    let fresh = batch(x.shape(), 2, seed);
    concat(&[
        x,
        &moved,
        &fresh,
        &scaled(&fresh, 3.0),
        &scaled(&fresh, 100.0),
    ])
}

fn max_rel_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut d = 0.0f64;
    let mut s = 1e-300f64;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            d = d.max((a[(i, j)] - b[(i, j)]).abs());
            s = s.max(b[(i, j)].abs());
        }
    }
    d / s
}

/// A lift (`filter`), `depth − 1` group convolutions (`local` filter or full support), group
/// pooling, dense readout.
fn gcnn(shape: &[usize], group: &str, filter: &str, local: Option<&str>, depth: usize) -> Network {
    let mut s = format!(
        "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\ngroup = '{group}'\nfilter = {filter}\n{W}[[layers]]\nkind = 'relu'\n"
    );
    for _ in 1..depth {
        let f = local.map(|f| format!("filter = {f}\n")).unwrap_or_default();
        s += &format!("[[layers]]\nkind = 'group_conv'\n{f}{W}[[layers]]\nkind = 'relu'\n");
    }
    s += &format!("[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{W}");
    Network::from_toml_str(&s, "gcnn.toml").unwrap()
}

fn mlp(shape: &[usize], depth: usize) -> Network {
    let mut s = format!("[input]\nshape = {shape:?}\n[[layers]]\nkind = 'flatten'\n");
    for _ in 0..depth {
        s += &format!("[[layers]]\nkind = 'dense'\n{W}[[layers]]\nkind = 'relu'\n");
    }
    s += &format!("[[layers]]\nkind = 'dense'\n{W}");
    Network::from_toml_str(&s, "mlp.toml").unwrap()
}

/// Circular 3×3 CNN with global average pooling (translation invariant; the centred window is
/// symmetric under D4, so the kernel is invariant under p4m acting on both inputs).
fn cnn(shape: &[usize], depth: usize) -> Network {
    let mut s = format!("[input]\nshape = {shape:?}\n");
    for _ in 0..depth {
        s += &format!(
            "[[layers]]\nkind = 'conv'\nfilter = [3, 3]\npadding = 'circular'\n{W}[[layers]]\nkind = 'relu'\n"
        );
    }
    s += &format!("[[layers]]\nkind = 'global_avg_pool'\n[[layers]]\nkind = 'dense'\n{W}");
    Network::from_toml_str(&s, "cnn.toml").unwrap()
}

/// μ_t of the G-CNN on plain data vs μ_t of `plain` on data augmented with `group`, explicit
/// and block; returns the largest relative difference over times, inputs and outputs.
fn compare(g: &Network, plain: &Network, group: &str, x: &Batch, y: &Mat<f64>, seed: u64) -> f64 {
    let aug =
        FiniteAugmentation::from_spec(&GroupSpec::parse(group).unwrap(), g.domain(), x.shape())
            .unwrap();
    let xt = test_inputs(&aug, x, seed);
    let eta = 0.7;
    let ours = predict(g, x, y, &xt, &TIMES, eta, 0.0, false).unwrap();
    let mut worst = 0.0f64;
    for run in [explicit_prediction, block_prediction] {
        let theirs = run(
            plain,
            &aug,
            x,
            y.as_ref(),
            OutputTransform::Invariant,
            &xt,
            &TIMES,
            eta,
            0.0,
            false,
        )
        .unwrap();
        for (k, &t) in TIMES.iter().enumerate() {
            let d = max_rel_diff(&ours.mean[k], &theirs.mean[k]);
            assert!(d <= 1e-10, "{group}, t = {t}: relative difference {d:.2e}");
            worst = worst.max(d);
        }
    }
    // The comparison has power: the G-CNN's prediction is not the unaugmented plain network's.
    let unaug = predict(plain, x, y, &xt, &TIMES, eta, 0.0, false).unwrap();
    assert!(
        max_rel_diff(&ours.mean[3], &unaug.mean[3]) > 1e-3,
        "{group}: no power"
    );
    worst
}

fn targets(n: usize, o: usize, seed: u64) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Mat::from_fn(n, o, |_, _| StandardNormal.sample(&mut rng))
}

#[test]
fn p4_and_p4m_gcnn_on_plain_data_equal_the_rotation_augmented_cnn() {
    let shape = [5, 5, 1];
    let x = batch(&shape, 3, 1);
    let y = targets(3, 2, 2);
    for (g, point) in [("p4", "C4"), ("p4m", "D4")] {
        let net = gcnn(&shape, g, "[3, 3]", Some("[3, 3]"), 2);
        let d = compare(&net, &cnn(&shape, 2), point, &x, &y, 3);
        eprintln!("{g} G-CNN vs {point}-augmented CNN: {d:.2e}");
    }
}

#[test]
fn cyclic_and_dihedral_full_lift_gcnn_equal_the_augmented_mlp() {
    for (n, group) in [(5, "C5"), (6, "C6"), (6, "D6")] {
        let shape = [n, 1];
        let x = batch(&shape, 4, 10 + n as u64);
        let y = targets(4, 1, 20 + n as u64);
        let net = gcnn(&shape, group, "'full'", None, 2);
        let d = compare(&net, &mlp(&shape, 2), group, &x, &y, 30 + n as u64);
        eprintln!("{group} G-CNN vs {group}-augmented MLP: {d:.2e}");
    }
}
