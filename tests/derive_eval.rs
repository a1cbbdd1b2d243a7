//! `derive --eval` (the interpreter of a network's derivation) against the fast kernel code.

use eqntk::layer::{
    Activation, Combine, Conv, Dense, Flatten, GlobalAvgPool, GlobalSumPool, LayerNorm, Padding,
    Parallel, Parameterization, PoolOp, Weights, WindowPool,
};
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

fn scaled(b: Batch, s: f64) -> Batch {
    let mut full = vec![b.len()];
    full.extend_from_slice(b.shape());
    Batch::from_array(&full, b.values().iter().map(|v| v * s).collect()).unwrap()
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
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("examples");
    // Every network file shipped: examples, benchmark cases and the experiments' networks —
    // except the experiments' 4×4 p4m G-CNN, whose interpretation (full point-group support on
    // every layer) takes ~30 s even in a release build; its layer kinds are covered by the
    // smaller p4m cases of `finite_group_cnns_on_images`.
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("bench")).unwrap())
        .chain(std::fs::read_dir(root.join("experiments/nets")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| !p.ends_with("ising_gcnn.toml"))
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

fn activation(rng: &mut ChaCha8Rng, i: usize) -> Activation {
    let u = |rng: &mut ChaCha8Rng| rng.random_range(0.3..1.5);
    match i % 11 {
        0 => Activation::Relu,
        1 => Activation::LeakyRelu {
            alpha: u(rng) - 0.5,
        },
        2 => Activation::AbRelu {
            a: -u(rng),
            b: u(rng),
        },
        3 => Activation::Abs,
        4 => Activation::Identity,
        5 => Activation::Erf {
            a: u(rng),
            b: u(rng),
            c: u(rng) - 0.9,
        },
        6 => Activation::Tanh,
        7 => Activation::Gelu,
        8 => Activation::Sigmoid,
        9 => Activation::Softplus,
        _ => Activation::Sin {
            a: u(rng),
            b: u(rng),
            c: u(rng) - 0.9,
        },
    }
}

fn parameterization(rng: &mut ChaCha8Rng) -> Parameterization {
    if rng.random_bool(0.3) {
        Parameterization::Standard
    } else {
        Parameterization::Ntk
    }
}

fn bias(rng: &mut ChaCha8Rng) -> Option<f64> {
    match rng.random_range(0..3) {
        0 => None,
        1 => Some(0.0),
        _ => Some(rng.random_range(0.05..0.5)),
    }
}

/// The grid of the features after `layers` on `input`.
fn grid_after(input: &[usize], layers: &[Layer]) -> Vec<usize> {
    let net = Network::new(input.to_vec(), layers.to_vec()).unwrap();
    net.shape_before(layers.len()).grid.clone()
}

/// Per axis of `side`, 1 or (where the axis has at least two sites) a random choice of 1, 2.
fn one_or_two(rng: &mut ChaCha8Rng, side: &[usize]) -> Vec<usize> {
    side.iter()
        .map(|&n| if n >= 2 { rng.random_range(1..3) } else { 1 })
        .collect()
}

/// A random stack: (conv | dense, activation) × depth on a grid, now and then a residual or
/// parallel block, a window pool or a layer norm, a readout, dense, activation, dense; convs
/// and pools take one stride per axis; every kind appears over the seeds.
fn random_network(rng: &mut ChaCha8Rng, seed: usize) -> Network {
    let input: Vec<usize> = match seed % 3 {
        0 => vec![rng.random_range(2..5)],
        1 => vec![rng.random_range(3..7), rng.random_range(1..3)],
        _ => vec![3, rng.random_range(3..5), rng.random_range(1..3)],
    };
    let grid = input.len() - 1;
    let mut layers = Vec::new();
    let mut side: Vec<usize> = input[..grid].to_vec();
    for d in 0..rng.random_range(1..3) {
        let width = Some(rng.random_range(2..6));
        if grid > 0 && rng.random_bool(0.7) {
            let padding =
                [Padding::Circular, Padding::Same, Padding::Valid][rng.random_range(0..3)];
            let filter: Vec<usize> = side
                .iter()
                .map(|&n| {
                    let f = [1, 2, 3][rng.random_range(0..3)];
                    if padding == Padding::Valid && f > n {
                        1
                    } else {
                        f
                    }
                })
                .collect();
            let stride = match rng.random_bool(0.3) {
                true => one_or_two(rng, &side),
                false => vec![],
            };
            layers.push(Layer::new(Conv {
                filter,
                padding,
                stride,
                weights: Weights {
                    w_std: rng.random_range(0.5..1.3),
                    b_std: bias(rng),
                    width,
                    parameterization: parameterization(rng),
                },
            }));
        } else {
            layers.push(Layer::new(Dense {
                weights: Weights {
                    w_std: rng.random_range(0.5..1.3),
                    b_std: bias(rng),
                    width,
                    parameterization: parameterization(rng),
                },
            }));
        }
        layers.push(Layer::new(activation(rng, seed + d)));
        // Now and then the pair becomes a residual block or one branch of a product (when it
        // keeps the grid, so that an identity path fits).
        let keeps_grid = layers[layers.len() - 2]
            .downcast_ref::<Conv>()
            .is_none_or(|c| c.padding != Padding::Valid && c.stride.iter().all(|&s| s == 1));
        if keeps_grid && rng.random_bool(0.5) {
            let pair: Vec<Layer> = layers.drain(layers.len() - 2..).collect();
            // A projection of the same width, so that the channels of the two paths agree.
            let projection = vec![Layer::new(Dense {
                weights: Weights {
                    w_std: 0.8,
                    b_std: Some(0.3),
                    width,
                    parameterization: Parameterization::Ntk,
                },
            })];
            layers.push(Layer::new(match rng.random_range(0..3) {
                0 => Parallel::residual(pair, projection),
                1 => Parallel::new(vec![pair, projection], Combine::Prod),
                _ => Parallel::new(vec![pair], Combine::Sum),
            }));
        }
        side = grid_after(&input, &layers);
        if grid > 0 && rng.random_bool(0.3) {
            let padding =
                [Padding::Circular, Padding::Same, Padding::Valid][rng.random_range(0..3)];
            layers.push(Layer::new(WindowPool {
                op: [PoolOp::Avg, PoolOp::Sum][rng.random_range(0..2)],
                window: one_or_two(rng, &side),
                stride: one_or_two(rng, &side),
                padding,
            }));
            side = grid_after(&input, &layers);
        }
        if rng.random_bool(0.25) {
            // per site, or over every non-batch axis (grid axes, then channels)
            let axis = match rng.random_bool(0.5) {
                true => (1..=grid_after(&input, &layers).len() as i64 + 1).collect(),
                false => vec![],
            };
            layers.push(Layer::new(LayerNorm { axis }));
        }
    }
    if grid > 0 {
        layers.push(match rng.random_range(0..3) {
            0 => Layer::new(Flatten),
            1 => Layer::new(GlobalAvgPool),
            _ => Layer::new(GlobalSumPool),
        });
    }
    layers.push(Layer::new(Dense {
        weights: Weights {
            w_std: 1.3,
            b_std: bias(rng),
            width: Some(3),
            parameterization: parameterization(rng),
        },
    }));
    layers.push(Layer::new(activation(rng, seed * 7 + 3)));
    layers.push(Layer::new(Dense::new(0.9, bias(rng))));
    Network::new(input, layers).unwrap()
}

#[test]
fn random_networks_of_every_layer_kind() {
    let mut kinds = std::collections::BTreeSet::new();
    let mut inputs_strided = false;
    let mut even_filters = std::collections::BTreeSet::new();
    for seed in 0..80 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed as u64);
        let net = random_network(&mut rng, seed);
        // the layers, and the layers inside their branches
        let opened = net.nodes().iter().map(|n| &n.layer);
        for l in net.layers().iter().chain(opened) {
            if let Some(c) = l.downcast_ref::<Conv>() {
                if c.filter.iter().any(|f| f % 2 == 0) {
                    even_filters.insert(c.padding.name());
                }
            }
            if l.downcast_ref::<LayerNorm>()
                .is_some_and(|n| n.axis.len() > 1)
            {
                kinds.insert("layer_norm/all_axes".into());
            }
            let extra = match (l.downcast_ref::<Conv>(), l.weights()) {
                (Some(c), Some(_)) if c.stride.iter().any(|&s| s > 1) => {
                    inputs_strided |= c.stride.windows(2).any(|s| s[0] != s[1]);
                    format!("/{}/strided", c.padding.name())
                }
                (Some(c), Some(w)) => format!("/{}/{:?}", c.padding.name(), w.parameterization),
                (None, Some(w)) => format!("/{:?}", w.parameterization),
                _ => String::new(),
            };
            kinds.insert(format!("{}{extra}", l.kind()));
        }
        let shape = net.input_shape().to_vec();
        // small inputs keep the quadrature duals on their fast Gauss–Hermite branch
        let x1 = scaled(batch(&mut rng, 2, &shape), 0.4);
        let x2 = scaled(batch(&mut rng, 2, &shape), 0.4);
        check(&net, &x1, Some(&x2), &format!("seed {seed}: {net:?}"));
        check(&net, &x1, None, &format!("seed {seed} (x2 = x1): {net:?}"));
    }
    // every kind was exercised
    for k in [
        "conv/circular/Ntk",
        "conv/same/Ntk",
        "conv/valid/Ntk",
        "conv/circular/Standard",
        "dense/Ntk",
        "dense/Standard",
        "flatten",
        "global_avg_pool",
        "global_sum_pool",
        "avg_pool",
        "sum_pool",
        "layer_norm",
        "layer_norm/all_axes",
        "conv/same/strided",
        "conv/circular/strided",
        "residual",
        "parallel",
        "relu",
        "leaky_relu",
        "abrelu",
        "abs",
        "identity",
        "erf",
        "tanh",
        "gelu",
        "sigmoid",
        "softplus",
        "sin",
    ] {
        assert!(kinds.contains(k), "no random network has {k}: {kinds:?}");
    }
    assert!(
        inputs_strided,
        "no random network has a conv with different strides per axis"
    );
    assert_eq!(
        even_filters.len(),
        3,
        "even filters on every padding: {even_filters:?}"
    );
}

fn eqntk(args: &[&str]) -> (String, String, i32) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eqntk"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn json_matrix(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn command_line_derive() {
    // formulas
    let (text, _, code) = eqntk(&["derive", "--net", "examples/mlp.toml"]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with("K1(x,x') = sigma_w1^2*K0(x,x') + sigma_b1^2"),
        "{text}"
    );
    assert!(text.contains("where sigma_b1 = 0.1"), "{text}");
    let (latex, _, _) = eqntk(&["derive", "--net", "examples/cnn.toml", "--format", "latex"]);
    assert!(latex.starts_with("\\begin{aligned}") && latex.contains(r"\sum_{\delta\in F}"));
    let (md, _, _) = eqntk(&[
        "derive",
        "--net",
        "examples/cnn.toml",
        "--format",
        "markdown",
    ]);
    assert!(md.contains("$$\n\\begin{aligned}"), "{md}");
    // numbers by interpretation, in the JSON of `eqntk kernel`
    let dir = std::env::temp_dir().join(format!("eqntk-derive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x1 = dir.join("x1.json");
    std::fs::write(&x1, "[[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.2, 0.7]]").unwrap();
    let x1s = x1.to_str().unwrap();
    let (out, err, code) = eqntk(&[
        "derive",
        "--net",
        "examples/mlp.toml",
        "--x1",
        x1s,
        "--eval",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (fast, _, _) = eqntk(&["kernel", "--net", "examples/mlp.toml", "--x1", x1s]);
    let got: serde_json::Value = serde_json::from_str(&out).unwrap();
    let want: serde_json::Value = serde_json::from_str(&fast).unwrap();
    for key in ["nngp", "ntk"] {
        let (g, w) = (json_matrix(&got[key]), json_matrix(&want[key]));
        for (gr, wr) in g.iter().zip(&w) {
            for (a, b) in gr.iter().zip(wr) {
                assert!((a - b).abs() <= 1e-12 * b.abs(), "{key}: {a} vs {b}");
            }
        }
    }
    // bad combinations are errors with exit code 2
    let (_, err, code) = eqntk(&["derive", "--net", "examples/mlp.toml", "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    let (_, err, code) = eqntk(&[
        "derive",
        "--net",
        "examples/mlp.toml",
        "--x1",
        x1s,
        "--eval",
        "--format",
        "latex",
    ]);
    assert_eq!(code, 2, "{err}");
    let (_, err, code) = eqntk(&["derive", "--net", "nope.toml"]);
    assert!(code == 2 && err.contains("nope.toml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn command_line_verify_exit_codes() {
    let (out, _, code) = eqntk(&["verify", "derivations/wrong_ntk.toml", "--check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("fails as expected"));
    let (_, err, code) = eqntk(&["verify", "no/such/dir"]);
    assert_eq!(code, 2, "{err}");
}

/// A G-CNN: lift, ReLU-like activation, a group convolution, activation, `readout`, dense.
fn gcnn_toml(shape: &[usize], lift: &str, gconv: &str, act: &str, readout: &str) -> String {
    let w = "w_std = 1.3\nb_std = 0.3\n";
    format!(
        "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\n{lift}\n{w}[[layers]]\nkind = '{act}'\n\
         [[layers]]\nkind = 'group_conv'\n{gconv}\n{w}[[layers]]\nkind = '{act}'\n\
         [[layers]]\nkind = '{readout}'\n[[layers]]\nkind = 'dense'\n{w}"
    )
}

fn check_gcnn(toml: &str, shape: &[usize], seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let net = Network::from_toml_str(toml, "gcnn.toml").unwrap();
    let x1 = batch(&mut rng, 2, shape);
    let x2 = batch(&mut rng, 1, shape);
    check(&net, &x1, Some(&x2), toml);
    check(&net, &x1, None, toml);
}

#[test]
fn finite_group_cnns_on_signals() {
    // C5: full and local lifting, full and partial group-convolution support
    for (lift, gconv) in [
        ("group = 'C5'\nfilter = 'full'", ""),
        ("group = 'C5'\nfilter = [3]", "support = [0, 1, 4]"),
    ] {
        check_gcnn(
            &gcnn_toml(&[5, 2], lift, gconv, "relu", "group_pool"),
            &[5, 2],
            3,
        );
    }
    // D4 on signals of 4 samples (shift and reversal), erf, standard parameterisation
    let toml = gcnn_toml(
        &[4, 1],
        "group = 'D4'\nfilter = [3]\nwidth = 3\nparameterization = 'standard'",
        "support = [0, 2, 5]\nparameterization = 'standard'",
        "erf",
        "group_pool",
    );
    check_gcnn(&toml, &[4, 1], 4);
}

#[test]
fn finite_group_cnns_on_images() {
    // C4 rotating 3×3 images about the centre pixel, local and full lifting
    for lift in [
        "group = 'C4'\nfilter = [3, 3]",
        "group = 'D4'\nfilter = 'full'",
    ] {
        check_gcnn(
            &gcnn_toml(&[3, 3, 1], lift, "", "relu", "group_pool"),
            &[3, 3, 1],
            5,
        );
    }
    // p4 on the 4×4 torus with circular and same padding; p4m with a readout by flatten
    for padding in ["circular", "same"] {
        let lift = format!("group = 'p4'\nfilter = [3, 3]\npadding = '{padding}'");
        let gconv = format!("filter = [3, 3]\nsupport = [0, 1]\npadding = '{padding}'");
        check_gcnn(
            &gcnn_toml(&[4, 4, 1], &lift, &gconv, "relu", "group_pool"),
            &[4, 4, 1],
            6,
        );
    }
    let toml = gcnn_toml(
        &[3, 3, 1],
        "group = 'p4m'\nfilter = [3, 3]\npadding = 'circular'",
        "filter = [3, 3]\npadding = 'circular'",
        "erf",
        "flatten",
    );
    check_gcnn(&toml, &[3, 3, 1], 7);
}

#[test]
fn dense_layers_and_readouts_on_group_features() {
    // a dense layer acts per site (g) of lifted features; global_avg_pool averages over them
    let toml = "[input]\nshape = [5, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'C5'\nfilter = [3]\n\
                w_std = 1.2\n[[layers]]\nkind = 'dense'\nw_std = 0.9\nb_std = 0.4\n[[layers]]\n\
                kind = 'tanh'\n[[layers]]\nkind = 'global_avg_pool'\n[[layers]]\nkind = 'dense'\n\
                w_std = 1.1\n";
    check_gcnn(toml, &[5, 1], 9);
    let toml = gcnn_toml(
        &[3, 3, 2],
        "group = 'C4'\nfilter = [3, 3]",
        "support = [1, 3]",
        "relu",
        "flatten",
    );
    check_gcnn(&toml, &[3, 3, 2], 10);
}

/// An SO(2) G-CNN: lift to the circle, `depth` × (nonlinearity, group convolution after the
/// first), group pooling, dense.
fn so2_toml(shape: &[usize], domain: &str, act: &str, depth: usize) -> String {
    let w = "w_std = 1.3\nb_std = 0.3\n";
    let mut t = format!(
        "[input]\nshape = {shape:?}\ndomain = '{domain}'\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n{w}\
         [[layers]]\nkind = '{act}'\n"
    );
    for _ in 1..depth {
        t += &format!("[[layers]]\nkind = 'group_conv'\n{w}[[layers]]\nkind = '{act}'\n");
    }
    t + &format!("[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{w}")
}

fn check_so2(net: &Network, x1: &Batch, x2: Option<&Batch>, what: &str) {
    let d = derive_network(net).unwrap();
    let (k, t) = evaluate_network(net, &d, x1, x2).unwrap();
    let fast = net.kernel(x1, x2).unwrap();
    assert_close(&k, &fast.nngp().unwrap(), 1e-10, &format!("{what} nngp"));
    assert_close(&t, &fast.ntk().unwrap(), 1e-10, &format!("{what} ntk"));
}

#[test]
fn so2_gcnns_match_the_fast_kernel() {
    // the interpreter rotates the inputs on its own angular grid; the fast path sums Fourier
    // modes of the input kernel on an adaptive grid. `[7, 2]` is a two-channel signal (band
    // limit 3, not the point sets' 1): the interpreter takes the domain from the network file.
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for (shape, domain) in [
        (vec![4, 2], "points"),
        (vec![5, 1], "signal"),
        (vec![7, 2], "signal"),
    ] {
        for act in ["relu", "erf"] {
            for depth in [1, 2] {
                let toml = so2_toml(&shape, domain, act, depth);
                let net = Network::from_toml_str(&toml, "so2.toml").unwrap();
                let x1 = batch(&mut rng, 2, &shape);
                let x2 = batch(&mut rng, 2, &shape);
                check_so2(&net, &x1, Some(&x2), &toml);
                // x2 = x1: the kernel reaches its Cauchy–Schwarz bound at φ = 0
                check_so2(&net, &x1, None, &toml);
            }
        }
    }
}

#[test]
fn so2_pair_with_an_off_grid_kink() {
    // x′ = x rotated by 1 rad: the ReLU kinks sit at φ = −1 (and −1 + π), which the interpreter
    // finds from rotated inputs and anchors its grid at; with a group convolution, on point
    // sets and on an odd signal.
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for (shape, domain, depth) in [
        (vec![3, 2], eqntk::action::Domain::Points, 1),
        (vec![5, 1], eqntk::action::Domain::Signal, 2),
    ] {
        let toml = so2_toml(&shape, &domain.to_string(), "relu", depth);
        let net = Network::from_toml_str(&toml, "so2.toml").unwrap();
        let x = batch(&mut rng, 1, &shape);
        let y = eqntk::orbit::rotate_batch(&x, domain, 1.0).unwrap();
        check_so2(&net, &x, Some(&y), &toml);
    }
}

#[test]
fn p4_bench_network_on_three_inputs() {
    // The 8×8 p4 G-CNN of the benchmarks (256 sites per layer, 65536 site pairs): the
    // interpreter evaluates only the site pairs the output needs, once each, one per class of
    // right-invariant pairs (it took ~2 min when every layer's full table was tabulated).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let net = Network::from_file(&root.join("examples/bench/p4_relu2_pool.toml")).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let x = batch(&mut rng, 3, net.input_shape());
    check(&net, &x, None, "p4_relu2_pool, 3 inputs");
}
