//! Times the kernel of a network file on random normal inputs: `timing NET.toml N [H]`.
use std::time::Instant;

use eqntk::{Batch, Network};
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
    for _ in 0..3 {
        let t = Instant::now();
        let k = net.kernel(&x, None)?;
        let s = t.elapsed().as_secs_f64();
        println!("{s:.4} s  ntk[0,1] = {:.6}", k.ntk()?[(0, 1)]);
    }
    Ok(())
}
