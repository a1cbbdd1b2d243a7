//! The benchmark cases of `shared/bench/CASES.md` (NNGP and NTK, x2 = x1, f64), at reduced
//! sizes (`…_small`) and at full size. Full sizes take about a second per iteration:
//! `cargo bench --bench kernels -- small` runs only the reduced ones.

use criterion::{criterion_group, criterion_main, Criterion};
use eqntk::{Batch, Network};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

const MLP_RELU3: &str = include_str!("../examples/bench/mlp_relu3.toml");
const CNN_RELU2_GAP: &str = include_str!("../examples/bench/cnn_relu2_gap.toml");
const P4_RELU2_POOL: &str = include_str!("../examples/bench/p4_relu2_pool.toml");
const RESNET2_RELU_GAP: &str = include_str!("../examples/bench/resnet2_relu_gap.toml");

/// `(Dense, Erf) × 5, Dense(1)`, W_std = 1.5, b_std = 0.1.
fn mlp_erf5() -> String {
    let mut s = String::from("[input]\nshape = [784]\n");
    for _ in 0..5 {
        s += "[[layers]]\nkind = \"dense\"\nw_std = 1.5\nb_std = 0.1\n[[layers]]\nkind = \"erf\"\n";
    }
    s + "[[layers]]\nkind = \"dense\"\nw_std = 1.5\nb_std = 0.1\n"
}

/// Standard normal inputs of shape `[n, *shape]` (seeded).
fn inputs(n: usize, shape: &[usize]) -> Batch {
    let m: usize = shape.iter().product();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let v = (0..n * m)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    Batch::new(shape.to_vec(), v).unwrap()
}

fn case(c: &mut Criterion, name: &str, toml: &str, n: usize, grid: Option<usize>) {
    let toml = match grid {
        Some(h) => toml.replace("shape = [8, 8, 1]", &format!("shape = [{h}, {h}, 1]")),
        None => toml.to_string(),
    };
    // A network file naming a kind this build does not have yet is skipped.
    let Ok(net) = Network::from_toml_str(&toml, name) else {
        eprintln!("skipping {name}: its network does not parse in this build");
        return;
    };
    let x = inputs(n, net.input_shape());
    c.bench_function(name, |b| {
        b.iter(|| {
            let k = net.kernel(&x, None).unwrap();
            (k.nngp().unwrap(), k.ntk().unwrap())
        })
    });
}

fn small(c: &mut Criterion) {
    case(c, "small/mlp_relu3_n500", MLP_RELU3, 500, None);
    case(c, "small/mlp_erf5_n250", &mlp_erf5(), 250, None);
    case(
        c,
        "small/cnn_relu2_gap_16x16_n4",
        CNN_RELU2_GAP,
        4,
        Some(16),
    );
    case(c, "small/cnn_relu2_gap_8x8_n16", CNN_RELU2_GAP, 16, Some(8));
    case(c, "small/p4_relu2_pool_8x8_n4", P4_RELU2_POOL, 4, Some(8));
    case(
        c,
        "small/resnet2_relu_gap_16x16_n4",
        RESNET2_RELU_GAP,
        4,
        Some(16),
    );
}

fn full(c: &mut Criterion) {
    case(c, "full/mlp_relu3_n4000", MLP_RELU3, 4000, None);
    case(c, "full/mlp_erf5_n2000", &mlp_erf5(), 2000, None);
    case(
        c,
        "full/cnn_relu2_gap_16x16_n16",
        CNN_RELU2_GAP,
        16,
        Some(16),
    );
    case(c, "full/cnn_relu2_gap_8x8_n64", CNN_RELU2_GAP, 64, Some(8));
    case(c, "full/p4_relu2_pool_8x8_n16", P4_RELU2_POOL, 16, Some(8));
    case(
        c,
        "full/resnet2_relu_gap_16x16_n16",
        RESNET2_RELU_GAP,
        16,
        Some(16),
    );
}

criterion_group!(small_cases, small);
criterion_group! {
    name = full_cases;
    config = Criterion::default().sample_size(10);
    targets = full
}
criterion_main!(small_cases, full_cases);
