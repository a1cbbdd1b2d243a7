//! The fast kernel paths (fused layer chains, lazily computed input blocks, triangular Gram
//! matrix, mirrored completion, separable convolutions, vectorised ReLU dual) against a
//! brute-force per-pair recursion written out here from MATH.md §1–4.

use eqntk::layer::{Conv, Padding, Weights};
use eqntk::{Batch, BlockMap, Kernel, Network};
use std::f64::consts::PI;

fn relu_dual(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let s = (k11 * k22).sqrt();
    let rho = if s > 0.0 {
        (k12 / s).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let th = rho.acos();
    (
        s / (2.0 * PI) * ((1.0 - rho * rho).sqrt() + (PI - th) * rho),
        (PI - th) / (2.0 * PI),
    )
}

fn batch(n: usize, shape: &[usize], seed: u64) -> Batch {
    let m: usize = shape.iter().product();
    // A small deterministic generator, so the test does not depend on the crate's RNG use.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let v = (0..n * m)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect();
    Batch::new(shape.to_vec(), v).unwrap()
}

/// One layer of the reference recursion on full site × site blocks of one example pair.
enum RefLayer {
    Affine {
        conv: Option<Conv>,
        grid: Vec<usize>,
        w: f64,
        b: f64,
    },
    Relu,
    Pool,
}

/// `(K(x, y), Θ(x, y))` by the recursion, with the variances carried alongside.
fn reference(layers: &[RefLayer], x: &[f64], y: &[f64], sites: usize) -> (f64, f64) {
    let c = x.len() / sites;
    let gram = |a: &[f64], b: &[f64]| -> Vec<f64> {
        let mut g = vec![0.0; sites * sites];
        for s in 0..sites {
            for t in 0..sites {
                g[s * sites + t] =
                    (0..c).map(|ch| a[s * c + ch] * b[t * c + ch]).sum::<f64>() / c as f64;
            }
        }
        g
    };
    let (mut kxx, mut kyy, mut kxy) = (gram(x, x), gram(y, y), gram(x, y));
    let mut txy = vec![0.0; kxy.len()];
    let mut n = sites;
    for layer in layers {
        match layer {
            RefLayer::Affine { conv, grid, w, b } => {
                let avg = |m: &[f64]| -> Vec<f64> {
                    match conv {
                        None => m.to_vec(),
                        Some(cv) => {
                            // The tap gather, written out: (1/q) Σ_t m[src(o,t), src(o',t)].
                            let taps = cv.taps(grid);
                            let no = taps.n_out();
                            let mut out = vec![0.0; no * no];
                            for o in 0..no {
                                for o2 in 0..no {
                                    let mut s = 0.0;
                                    for t in 0..taps.n_taps() {
                                        if let (Some(a), Some(b2)) =
                                            (taps.src(o, t), taps.src(o2, t))
                                        {
                                            s += m[a * n + b2];
                                        }
                                    }
                                    out[o * no + o2] = s / taps.n_taps() as f64;
                                }
                            }
                            out
                        }
                    }
                };
                let (axx, ayy, axy, atxy) = (avg(&kxx), avg(&kyy), avg(&kxy), avg(&txy));
                n = (axx.len() as f64).sqrt().round() as usize;
                kxx = axx.iter().map(|v| w * v + b).collect();
                kyy = ayy.iter().map(|v| w * v + b).collect();
                kxy = axy.iter().map(|v| w * v + b).collect();
                txy = atxy.iter().zip(&kxy).map(|(t, k)| w * t + k).collect();
            }
            RefLayer::Relu => {
                let dx: Vec<f64> = (0..n).map(|s| kxx[s * n + s]).collect();
                let dy: Vec<f64> = (0..n).map(|s| kyy[s * n + s]).collect();
                for s in 0..n {
                    for t in 0..n {
                        let e = s * n + t;
                        kxx[e] = relu_dual(dx[s], kxx[e], dx[t]).0;
                        kyy[e] = relu_dual(dy[s], kyy[e], dy[t]).0;
                        let (v, dv) = relu_dual(dx[s], kxy[e], dy[t]);
                        kxy[e] = v;
                        txy[e] *= dv;
                    }
                }
            }
            RefLayer::Pool => {
                let mean = |m: &[f64]| vec![m.iter().sum::<f64>() / m.len() as f64];
                (kxx, kyy, kxy, txy) = (mean(&kxx), mean(&kyy), mean(&kxy), mean(&txy));
                n = 1;
            }
        }
    }
    (kxy[0], txy[0])
}

fn assert_matches(net: &Network, reference_layers: &[RefLayer], x: &Batch, y: Option<&Batch>) {
    let k = net.kernel(x, y).unwrap();
    let (nngp, ntk) = (k.nngp().unwrap(), k.ntk().unwrap());
    let yb = y.unwrap_or(x);
    let sites: usize = x.shape()[..x.shape().len() - 1]
        .iter()
        .product::<usize>()
        .max(1);
    for i in 0..x.len() {
        for j in 0..yb.len() {
            let (kv, tv) = reference(reference_layers, x.example(i), yb.example(j), sites);
            let tol = 1e-13 * (1.0 + kv.abs() + tv.abs());
            assert!(
                (nngp[(i, j)] - kv).abs() <= tol,
                "K[{i},{j}] {} vs {kv}",
                nngp[(i, j)]
            );
            assert!(
                (ntk[(i, j)] - tv).abs() <= tol,
                "Θ[{i},{j}] {} vs {tv}",
                ntk[(i, j)]
            );
        }
    }
}

const MLP: &str = "[input]\nshape = [6]\n\
    [[layers]]\nkind = 'dense'\nw_std = 1.5\nb_std = 0.1\n[[layers]]\nkind = 'relu'\n\
    [[layers]]\nkind = 'dense'\nw_std = 1.2\nb_std = 0.3\n[[layers]]\nkind = 'relu'\n\
    [[layers]]\nkind = 'dense'\nw_std = 1.5\nb_std = 0.1\n";

fn mlp_reference() -> Vec<RefLayer> {
    let dense = |w: f64, b: f64| RefLayer::Affine {
        conv: None,
        grid: vec![],
        w: w * w,
        b: b * b,
    };
    vec![
        dense(1.5, 0.1),
        RefLayer::Relu,
        dense(1.2, 0.3),
        RefLayer::Relu,
        dense(1.5, 0.1),
    ]
}

#[test]
fn mlp_kernel_matches_the_recursion() {
    let net = Network::from_toml_str(MLP, "mlp.toml").unwrap();
    // 150 examples: the mirrored completion recurses below its 64 × 64 tiles.
    let x = batch(150, &[6], 1);
    let y = batch(7, &[6], 2);
    assert_matches(&net, &mlp_reference(), &x, None);
    assert_matches(&net, &mlp_reference(), &x, Some(&y));
    assert_matches(&net, &mlp_reference(), &y, Some(&x));
}

fn cnn_toml(input: &str, p1: &str, p2: &str) -> String {
    format!(
        "[input]\nshape = {input}\n\
         [[layers]]\nkind = 'conv'\nfilter = [3, 3]\npadding = '{p1}'\nw_std = 1.5\nb_std = 0.1\n\
         [[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'conv'\nfilter = [3, 1]\npadding = '{p2}'\nw_std = 1.3\nb_std = 0.2\n\
         [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'global_avg_pool'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.5\nb_std = 0.1\n"
    )
}

fn conv(filter: Vec<usize>, padding: Padding) -> Conv {
    Conv {
        filter,
        padding,
        stride: vec![],
        weights: Weights::default(),
    }
}

#[test]
fn cnn_kernel_matches_the_recursion_for_every_padding() {
    for (p1, p2) in [
        (Padding::Circular, Padding::Circular),
        (Padding::Same, Padding::Valid),
        (Padding::Valid, Padding::Same),
    ] {
        let net = Network::from_toml_str(&cnn_toml("[5, 4, 2]", p1.name(), p2.name()), "cnn.toml")
            .unwrap();
        let g1 = vec![5, 4];
        let g2 = net.shape_before(2).grid.clone();
        let layers = vec![
            RefLayer::Affine {
                conv: Some(conv(vec![3, 3], p1)),
                grid: g1,
                w: 2.25,
                b: 0.01,
            },
            RefLayer::Relu,
            RefLayer::Affine {
                conv: Some(conv(vec![3, 1], p2)),
                grid: g2,
                w: 1.69,
                b: 0.04,
            },
            RefLayer::Relu,
            RefLayer::Pool,
            RefLayer::Affine {
                conv: None,
                grid: vec![],
                w: 2.25,
                b: 0.01,
            },
        ];
        let x = batch(5, &[5, 4, 2], 3);
        let y = batch(3, &[5, 4, 2], 4);
        assert_matches(&net, &layers, &x, None);
        assert_matches(&net, &layers, &x, Some(&y));
    }
}

fn maps(net: &Network) -> Vec<Box<dyn BlockMap + '_>> {
    net.layers()
        .iter()
        .enumerate()
        .map(|(l, layer)| layer.block_map(net.shape_before(l)).unwrap())
        .collect()
}

fn same_bits(a: &Kernel, b: &Kernel) {
    let (n1, n2) = (a.n1(), a.n2());
    for i in 0..n1 {
        for j in 0..n2 {
            let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
            assert_eq!(
                bits(a.nngp_block(i, j)),
                bits(b.nngp_block(i, j)),
                "K block {i},{j}"
            );
            assert_eq!(
                bits(a.ntk_block(i, j)),
                bits(b.ntk_block(i, j)),
                "Θ block {i},{j}"
            );
        }
    }
}

#[test]
fn a_fused_chain_equals_layer_by_layer_maps_bit_for_bit() {
    let net = Network::from_toml_str(&cnn_toml("[4, 6, 1]", "circular", "same"), "c.toml").unwrap();
    let ms = maps(&net);
    let refs: Vec<&dyn BlockMap> = ms.iter().map(|m| &**m).collect();
    let x = batch(6, &[4, 6, 1], 5);
    let y = batch(4, &[4, 6, 1], 6);
    for y in [None, Some(&y)] {
        // Stop before the pooling so that full site blocks are compared.
        for upto in [1, 2, 4, refs.len()] {
            let stepwise = refs[..upto]
                .iter()
                .fold(Kernel::input(&x, y, true).unwrap(), |k, m| k.map(*m));
            let fused = Kernel::input(&x, y, true).unwrap().map_chain(&refs[..upto]);
            let lazy = Kernel::input_mapped(&x, y, true, &refs[..upto]).unwrap();
            same_bits(&stepwise, &fused);
            same_bits(&stepwise, &lazy);
            same_bits(&stepwise.clone().complete(), &lazy.complete());
        }
    }
}

#[test]
fn kernels_do_not_depend_on_the_number_of_threads() {
    let net = Network::from_toml_str(MLP, "mlp.toml").unwrap();
    let x = batch(300, &[6], 7);
    let cnn =
        Network::from_toml_str(&cnn_toml("[6, 5, 1]", "circular", "circular"), "c.toml").unwrap();
    let xc = batch(9, &[6, 5, 1], 8);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                net.kernel(&x, None).unwrap(),
                cnn.kernel(&xc, None).unwrap(),
            )
        })
    };
    let (a, b) = (run(1), run(3));
    same_bits(&a.0, &b.0);
    same_bits(&a.1, &b.1);
}

#[test]
fn the_input_kernel_alone_is_the_gram_matrix() {
    let x = batch(70, &[5], 9);
    let k = Kernel::input(&x, None, true).unwrap().complete();
    let (nngp, ntk) = (k.nngp().unwrap(), k.ntk().unwrap());
    for i in 0..70 {
        for j in 0..70 {
            let want: f64 = (0..5)
                .map(|c| x.example(i)[c] * x.example(j)[c])
                .sum::<f64>()
                / 5.0;
            assert!((nngp[(i, j)] - want).abs() <= 1e-15);
            assert_eq!(ntk[(i, j)], 0.0);
        }
    }
    assert_eq!(k.cov1().unwrap()[3].to_bits(), nngp[(3, 3)].to_bits());
}
