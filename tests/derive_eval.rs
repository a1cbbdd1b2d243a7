//! `derive --eval` (the interpreter of a network's derivation) against the fast kernel code.

use eqntk::layer::{Activation, Conv, Dense, Flatten, GlobalAvgPool, Padding, Parameterization};
use eqntk::symbolic::{derive_network, evaluate_network};
use eqntk::{Batch, Layer, Network};
use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn batch(rng: &mut ChaCha8Rng, n: usize, shape: &[usize]) -> Batch {
    let len: usize = shape.iter().product();
    let values = (0..n * len).map(|_| StandardNormal.sample(rng)).collect();
    let mut full = vec![n];
    full.extend_from_slice(shape);
    Batch::from_array(&full, values).unwrap()
}

/// max |a − b| ≤ tol · max |b| (relative to the scale of the matrix).
fn assert_close(a: &Mat<f64>, b: &Mat<f64>, tol: f64, what: &str) {
    let scale = (0..b.nrows())
        .flat_map(|i| (0..b.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| b[(i, j)].abs())
        .fold(0.0, f64::max);
    for i in 0..b.nrows() {
        for j in 0..b.ncols() {
            let d = (a[(i, j)] - b[(i, j)]).abs();
            assert!(
                d <= tol * scale,
                "{what}: entry ({i},{j}) interpreter {} vs kernel {} (scale {scale})",
                a[(i, j)],
                b[(i, j)]
            );
        }
    }
}

fn check(net: &Network, x1: &Batch, x2: Option<&Batch>, what: &str) {
    let d = derive_network(net).unwrap();
    let (k, t) = evaluate_network(net, &d, x1, x2).unwrap();
    let fast = net.kernel(x1, x2).unwrap();
    assert_close(&k, &fast.nngp().unwrap(), 1e-12, &format!("{what} nngp"));
    assert_close(&t, &fast.ntk().unwrap(), 1e-12, &format!("{what} ntk"));
}

#[test]
fn every_example_network() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("bench")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    for f in files {
        let net = Network::from_file(&f).unwrap();
        let shape = net.input_shape().to_vec();
        let big = shape.iter().product::<usize>() > 30;
        let x1 = batch(&mut rng, if big { 1 } else { 2 }, &shape);
        let x2 = batch(&mut rng, 2, &shape);
        check(&net, &x1, Some(&x2), &f.display().to_string());
        if !big {
            check(&net, &x1, None, &f.display().to_string());
        }
    }
}
