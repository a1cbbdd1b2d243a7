//! Times the phases of a kernel computation: `phases NET.toml N [H]`.
use std::time::Instant;

use eqntk::{Batch, BlockMap, Kernel, Network};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn main() -> eqntk::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut net = Network::from_file(std::path::Path::new(&args[1]))?;
    let n: usize = args[2].parse().unwrap();
    if let Some(h) = args.get(3) {
        let h: usize = h.parse().unwrap();
        let text = std::fs::read_to_string(&args[1]).unwrap();
        let text = text.replace("shape = [8, 8, 1]", &format!("shape = [{h}, {h}, 1]"));
        net = Network::from_toml_str(&text, &args[1])?;
    }
    let m: usize = net.input_shape().iter().product();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let v: Vec<f64> = (0..n * m)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let x = Batch::new(net.input_shape().to_vec(), v)?;
    let maps: Vec<Box<dyn BlockMap + '_>> = net
        .layers()
        .iter()
        .enumerate()
        .map(|(l, layer)| layer.block_map(net.shape_before(l)).unwrap())
        .collect();
    let refs: Vec<&dyn BlockMap> = maps.iter().map(|m| &**m).collect();
    for _ in 0..3 {
        let t0 = Instant::now();
        let k = Kernel::input(&x, None, net.keeps_full_sites())?;
        let t1 = Instant::now();
        let k = k.map_chain(&refs);
        let t2 = Instant::now();
        let k = k.complete();
        let t3 = Instant::now();
        let a = k.ntk()?;
        let t4 = Instant::now();
        let s = |a: Instant, b: Instant| (b - a).as_secs_f64();
        println!(
            "input {:.4}  chain {:.4}  complete {:.4}  matrix {:.4}  total {:.4}  ({:.6})",
            s(t0, t1),
            s(t1, t2),
            s(t2, t3),
            s(t3, t4),
            s(t0, t4),
            a[(0, 1)]
        );
    }
    Ok(())
}
