//! The SO(3)-orbit-averaged MLP kernel of 100 × 100 point sets of 8 points to 1e-10 (issue 10's
//! speed case), for the ReLU and the Erf MLP of `benches/so3/` (flatten first: the reduced rule
//! of `eqntk::orbit`). The whole command is timed by
//! `farm-bench -- eqntk kernel --net benches/so3/so3_mlp_relu3.toml
//! --x1 benches/so3/points_100x8.json --orbit SO3 --orbit-tol 1e-10 --format json`.

use criterion::{criterion_group, criterion_main, Criterion};
use eqntk::orbit::orbit_kernel;
use eqntk::{Batch, Network};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn inputs(n: usize) -> Batch {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let v = (0..n * 24)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    Batch::new(vec![8, 3], v).unwrap()
}

fn so3(c: &mut Criterion) {
    let group = eqntk::action::InputGroup::parse("SO3").unwrap();
    let x = inputs(100);
    for (name, toml) in [
        (
            "so3/mlp_relu3_100x100_1e-10",
            include_str!("so3/so3_mlp_relu3.toml"),
        ),
        (
            "so3/mlp_erf3_100x100_1e-10",
            include_str!("so3/so3_mlp_erf3.toml"),
        ),
    ] {
        let net = Network::from_toml_str(toml, name).unwrap();
        let mut g = c.benchmark_group("so3");
        g.sample_size(10);
        g.bench_function(name, |b| {
            b.iter(|| orbit_kernel(&net, &x, None, group, 1e-10).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, so3);
criterion_main!(benches);
