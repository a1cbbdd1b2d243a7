//! Analytic kernels (`Network::kernel`) against Monte-Carlo means of finite networks (MATH.md §9).

use crate::common;

use common::{max_abs, normal_batch};
use eqntk::finite::{monte_carlo, monte_carlo_outputs, Agreement, MonteCarlo};
use eqntk::{Batch, FiniteNetwork, Network};
use faer::Mat;

struct Case {
    name: String,
    toml: String,
    shape: Vec<usize>,
}

fn run(
    case: &Case,
    width: usize,
    out_dim: usize,
    samples: usize,
    seed: u64,
) -> (Mat<f64>, Mat<f64>, MonteCarlo) {
    let net = Network::from_toml_str(&case.toml, &case.name).unwrap();
    let x1 = normal_batch(&case.shape, 2, seed ^ 0x5eed);
    let x2 = normal_batch(&case.shape, 1, seed ^ 0xbeef);
    let x = Batch::new(case.shape.clone(), [x1.values(), x2.values()].concat()).unwrap();
    let k = net.kernel(&x, None).unwrap();
    let mc = monte_carlo_outputs(&net, &x, None, width, out_dim, samples, seed).unwrap();
    (k.nngp().unwrap(), k.ntk().unwrap(), mc)
}

fn mlp(act: &str) -> Case {
    Case {
        name: format!("mlp_{act}"),
        toml: format!(
            "[input]\nshape=[4]\n[[layers]]\nkind='dense'\nw_std=1.5\nb_std=0.2\n\
             [[layers]]\n{act}\n[[layers]]\nkind='dense'\nw_std=1.5\nb_std=0.2\n\
             [[layers]]\n{act}\n[[layers]]\nkind='dense'\nw_std=1.2\nb_std=0.3\n"
        ),
        shape: vec![4],
    }
}

fn cnn(padding: &str, readout: &str, act: &str, side: usize) -> Case {
    Case {
        name: format!("cnn_{padding}_{readout}"),
        toml: format!(
            "[input]\nshape=[{side},{side},1]\n[[layers]]\nkind='conv'\nfilter=[3,3]\n\
             padding='{padding}'\nw_std=1.5\nb_std=0.2\n[[layers]]\n{act}\n\
             [[layers]]\nkind='conv'\nfilter=[3,3]\npadding='{padding}'\nw_std=1.5\n\
             b_std=0.2\n[[layers]]\n{act}\n[[layers]]\nkind='{readout}'\n\
             [[layers]]\nkind='dense'\nw_std=1.2\nb_std=0.3\n"
        ),
        shape: vec![side, side, 1],
    }
}

/// The library's agreement rule (z = 5 standard errors plus the O(1/width) bias allowance;
/// see [`Agreement`]).
const AGREEMENT: Agreement = Agreement { z: 5.0, bias: 0.5 };

/// Assert `|MC mean − analytic| ≤ Z·se + AGREEMENT.bias·scale/width` for every entry of NNGP and NTK.
fn assert_agrees(case: &Case, width: usize, out_dim: usize, samples: usize, seed: u64) {
    let (k, t, mc) = run(case, width, out_dim, samples, seed);
    if let Err(d) = AGREEMENT.check(&mc, &k, &t, width) {
        panic!("{} {d} (width {width}, {samples} samples)", case.name);
    }
}

/// Every activation, as a network-file layer table.
const ACTIVATIONS: [&str; 11] = [
    "kind='relu'",
    "kind='leaky_relu'\nalpha=0.2",
    "kind='abrelu'\na=-0.4\nb=1.1",
    "kind='abs'",
    "kind='erf'\na=1.2\nb=0.7\nc=0.1",
    "kind='identity'",
    "kind='tanh'",
    "kind='gelu'",
    "kind='sigmoid'",
    "kind='softplus'",
    "kind='sin'\na=1.0\nb=1.3\nc=0.2",
];
/// Run `check` on the case built for every activation.
fn for_each_activation(build: impl Fn(&str) -> Case, check: impl Fn(&Case)) {
    for act in ACTIVATIONS {
        check(&build(act));
    }
}

#[test]
fn mlp_every_activation() {
    for_each_activation(mlp, |case| assert_agrees(case, 128, 32, 400, 1));
}

#[test]
fn conv1d_every_activation() {
    let build = |act: &str| Case {
        name: format!("conv1d_{act}"),
        toml: format!(
            "[input]\nshape=[6,1]\n[[layers]]\nkind='conv'\nfilter=[3]\npadding='same'\n\
             w_std=1.4\nb_std=0.3\n[[layers]]\n{act}\n[[layers]]\nkind='conv'\nfilter=[3]\n\
             padding='circular'\nw_std=1.3\nb_std=0.2\n[[layers]]\n{act}\n\
             [[layers]]\nkind='flatten'\n[[layers]]\nkind='dense'\nw_std=1.1\nb_std=0.2\n"
        ),
        shape: vec![6, 1],
    };
    for_each_activation(build, |case| assert_agrees(case, 64, 32, 300, 2));
}

#[test]
fn cnn_every_padding_and_readout() {
    for (padding, side) in [("circular", 4), ("same", 4), ("valid", 6)] {
        for readout in ["flatten", "global_avg_pool"] {
            let case = cnn(padding, readout, "kind='relu'", side);
            assert_agrees(&case, 64, 64, 300, 3);
        }
    }
}

/// Even filters, which neural-tangents pads ⌊P/2⌋ before the grid and ⌈P/2⌉ after it, at
/// stride 1 and 2 on every padding.
#[test]
fn cnn_even_filters() {
    for (padding, stride) in [("circular", 1), ("same", 1), ("valid", 1), ("same", 2)] {
        let case = Case {
            name: format!("cnn_even_{padding}_stride_{stride}"),
            toml: format!(
                "[input]\nshape=[5,4,1]\n[[layers]]\nkind='conv'\nfilter=[2,3]\n\
                 stride=[{stride},{stride}]\npadding='{padding}'\nw_std=1.5\nb_std=0.2\n\
                 [[layers]]\nkind='relu'\n[[layers]]\nkind='conv'\nfilter=[2,2]\n\
                 padding='{padding}'\nw_std=1.4\nb_std=0.1\n[[layers]]\nkind='relu'\n\
                 [[layers]]\nkind='flatten'\n[[layers]]\nkind='dense'\nw_std=1.2\nb_std=0.3\n"
            ),
            shape: vec![5, 4, 1],
        };
        assert_agrees(&case, 64, 64, 300, 6);
    }
}

/// Standard parameterisation: the declared `width`s are the fan-ins the analytic NTK uses, so
/// they are set to the sampled width.
#[test]
fn standard_parameterization_dense_and_conv() {
    let n = 128;
    let mlp = Case {
        name: "mlp_standard".into(),
        toml: format!(
            "[input]\nshape=[4]\n[[layers]]\nkind='dense'\nw_std=1.5\nb_std=0.2\nwidth={n}\n\
             parameterization='standard'\n[[layers]]\nkind='relu'\n[[layers]]\nkind='dense'\n\
             w_std=1.5\nwidth={n}\nparameterization='standard'\n[[layers]]\nkind='relu'\n\
             [[layers]]\nkind='dense'\nw_std=1.2\nb_std=0.3\nparameterization='standard'\n"
        ),
        shape: vec![4],
    };
    assert_agrees(&mlp, n, 128, 400, 4);
    let n = 48;
    let cnn = Case {
        name: "cnn_standard".into(),
        toml: format!(
            "[input]\nshape=[4,4,1]\n[[layers]]\nkind='conv'\nfilter=[3,3]\npadding='same'\n\
             w_std=1.5\nb_std=0.2\nwidth={n}\nparameterization='standard'\n\
             [[layers]]\nkind='relu'\n[[layers]]\nkind='conv'\nfilter=[3,3]\n\
             padding='circular'\nw_std=1.5\nb_std=0.1\nwidth={n}\nparameterization='standard'\n\
             [[layers]]\nkind='relu'\n[[layers]]\nkind='global_avg_pool'\n\
             [[layers]]\nkind='dense'\nw_std=1.2\nb_std=0.3\nparameterization='standard'\n"
        ),
        shape: vec![4, 4, 1],
    };
    assert_agrees(&cnn, n, 64, 300, 5);
}

/// The per-draw discrepancy of the empirical NTK shrinks like n^{-1/2} (MATH.md §9).
///
/// From M draws, the root-mean-square error of one network's Θ̂ against the analytic Θ is
/// `√(sample variance + (mean − Θ)²)`, with the sample variance `M·se²·(M−1)/M`. Its mean over
/// entries, relative to the largest |Θ|, is fitted against the width on a log-log scale.
#[test]
fn ntk_discrepancy_shrinks_with_width() {
    let case = mlp("kind='relu'");
    let widths = [16usize, 64, 256];
    let samples = 100;
    let mut logs = Vec::new();
    for &w in &widths {
        let (_, t, mc) = run(&case, w, 1, samples, 6);
        let m = samples as f64;
        let mut err = 0.0;
        for i in 0..3 {
            for j in 0..3 {
                let var = mc.ntk_se[(i, j)].powi(2) * (m - 1.0);
                err += (var + (mc.ntk_mean[(i, j)] - t[(i, j)]).powi(2)).sqrt();
            }
        }
        err /= 9.0 * max_abs(&t);
        logs.push(((w as f64).ln(), err.ln()));
    }
    let n = logs.len() as f64;
    let (mx, my) = (
        logs.iter().map(|l| l.0).sum::<f64>() / n,
        logs.iter().map(|l| l.1).sum::<f64>() / n,
    );
    let slope = logs.iter().map(|l| (l.0 - mx) * (l.1 - my)).sum::<f64>()
        / logs.iter().map(|l| (l.0 - mx).powi(2)).sum::<f64>();
    eprintln!("NTK discrepancy slope {slope:.3}, points {logs:?}");
    assert!(
        (-1.2..=-0.35).contains(&slope),
        "log-log slope of the NTK discrepancy vs width is {slope:.3} (expected ≈ −1/2); \
         points {logs:?}"
    );
}

/// The estimate does not depend on how many threads evaluate the networks.
#[test]
fn monte_carlo_is_deterministic_across_thread_counts() {
    let case = cnn("same", "global_avg_pool", "kind='relu'", 4);
    let net = Network::from_toml_str(&case.toml, &case.name).unwrap();
    let x = normal_batch(&case.shape, 2, 9);
    let go = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| monte_carlo_outputs(&net, &x, None, 8, 2, 6, 10).unwrap())
    };
    let (a, b) = (go(1), go(2));
    assert_eq!(a.nngp_mean, b.nngp_mean);
    assert_eq!(a.ntk_mean, b.ntk_mean);
    assert_eq!(a.ntk_se, b.ntk_se);
}

#[test]
fn bad_arguments_are_errors() {
    let case = mlp("kind='relu'");
    let net = Network::from_toml_str(&case.toml, &case.name).unwrap();
    let x = normal_batch(&[4], 2, 1);
    assert!(monte_carlo(&net, &x, None, 8, 1, 0).is_err());
    assert!(monte_carlo(&net, &x, None, 0, 4, 0).is_err());
    let wrong = normal_batch(&[3], 2, 1);
    assert!(monte_carlo(&net, &x, Some(&wrong), 8, 4, 0).is_err());
    let fin = FiniteNetwork::sample(&net, 4, 0).unwrap();
    assert!(fin.forward(&wrong).is_err());
    assert!(fin.jacobian(&x, 1).is_err());
    // Sites left at the output: no single output vector.
    let grid = Network::from_toml_str(
        "[input]\nshape=[4,1]\n[[layers]]\nkind='conv'\nfilter=[3]\n",
        "grid.toml",
    )
    .unwrap();
    let e = FiniteNetwork::sample(&grid, 4, 0).unwrap_err().to_string();
    assert!(e.contains("sites"), "{e}");
    let act_only =
        Network::from_toml_str("[input]\nshape=[4]\n[[layers]]\nkind='relu'\n", "a.toml").unwrap();
    assert!(FiniteNetwork::sample(&act_only, 4, 0).is_err());
}

#[test]
#[ignore = "measurement, not a test: prints the finite-width bias at small widths"]
fn measure_bias() {
    let known = |c: &Case| Network::from_toml_str(&c.toml, &c.name).is_ok();
    let mlps = ACTIVATIONS.iter().map(|a| mlp(a)).filter(known);
    let cases = mlps.chain([
        cnn("circular", "global_avg_pool", "kind='relu'", 4),
        cnn("same", "flatten", "kind='relu'", 4),
        cnn("valid", "global_avg_pool", "kind='relu'", 5),
    ]);
    for case in cases {
        for &width in &[4usize, 8, 16] {
            let (k, t, mc) = run(&case, width, 16, 10000, 11);
            let (sk, st) = (max_abs(&k), max_abs(&t));
            let mut bk = 0.0f64;
            let mut bt = 0.0f64;
            let mut zk = 0.0f64;
            let mut zt = 0.0f64;
            for i in 0..3 {
                for j in 0..3 {
                    bk = bk.max((mc.nngp_mean[(i, j)] - k[(i, j)]).abs());
                    bt = bt.max((mc.ntk_mean[(i, j)] - t[(i, j)]).abs());
                    zk = zk.max(mc.nngp_se[(i, j)]);
                    zt = zt.max(mc.ntk_se[(i, j)]);
                }
            }
            println!(
                "{} n={width}: nngp n·bias/scale = {:.3} (se·n/scale {:.3}); ntk n·bias/scale = {:.3} (se·n/scale {:.3})",
                case.name,
                bk * width as f64 / sk,
                zk * width as f64 / sk,
                bt * width as f64 / st,
                zt * width as f64 / st
            );
        }
    }
}
