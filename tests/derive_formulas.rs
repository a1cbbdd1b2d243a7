//! Formulas of every layer kind (insta snapshots, LaTeX and plain), the closed forms of the
//! dual activations against the engine's duals, the polynomial of linear networks, and
//! deterministic printing.

use eqntk::layer::{
    Activation, Conv, Dense, Flatten, GlobalAvgPool, Lift, Padding, Parameterization, Shape,
    Weights,
};
use eqntk::symbolic::{
    derive_layer, derive_network, dual_closed_form, evaluate_network, Definition, Derivation, Expr,
    Format, KernelKind, Param, SimpleEnv,
};
use eqntk::{Batch, Layer, Network};

fn vector(d: usize) -> Shape {
    Shape::from_input(&[d])
}

fn grid(g: &[usize], c: usize) -> Shape {
    Shape::from_input(&[g, &[c]].concat())
}

fn dense(b: Option<f64>, p: Parameterization) -> Layer {
    Layer::new(Dense {
        weights: Weights {
            w_std: 1.5,
            b_std: b,
            width: Some(8),
            parameterization: p,
        },
    })
}

fn conv(filter: &[usize], padding: Padding, b: Option<f64>, p: Parameterization) -> Layer {
    Layer::new(Conv {
        filter: filter.to_vec(),
        padding,
        stride: vec![],
        weights: Weights {
            w_std: 1.5,
            b_std: b,
            width: Some(8),
            parameterization: p,
        },
    })
}

fn activations() -> Vec<Activation> {
    vec![
        Activation::Relu,
        Activation::LeakyRelu { alpha: 0.1 },
        Activation::AbRelu { a: -0.5, b: 2.0 },
        Activation::Abs,
        Activation::Identity,
        Activation::Erf {
            a: 1.0,
            b: 1.0,
            c: 0.0,
        },
        Activation::Erf {
            a: 2.0,
            b: 0.5,
            c: 0.25,
        },
        Activation::Tanh,
        Activation::Gelu,
        Activation::Sigmoid,
        Activation::Softplus,
        Activation::Sin {
            a: 1.0,
            b: 1.0,
            c: 0.0,
        },
        Activation::Sin {
            a: 1.5,
            b: 2.0,
            c: 0.5,
        },
    ]
}

fn render(defs: &[Definition], format: Format) -> String {
    let mut d = Derivation::new();
    for def in defs {
        d.push(def.clone()).unwrap();
    }
    d.render(format)
}

/// Layer 2 (so that Θ⁽¹⁾ stays) and layer 1 (Θ⁽⁰⁾ = 0), in LaTeX and plain.
fn snapshot_layer(name: &str, layer: &Layer, input: &Shape) {
    let mut text = String::new();
    for l in [2, 1] {
        let defs = derive_layer(layer, l, input).unwrap();
        let shown = layer.closed_form(&defs);
        text += &format!("layer {l}, plain:\n{}", render(&shown, Format::Plain));
        text += &format!("layer {l}, LaTeX:\n{}", render(&shown, Format::Latex));
    }
    insta::assert_snapshot!(name, text);
}

#[test]
fn affine_layer_formulas() {
    use Parameterization::{Ntk, Standard};
    snapshot_layer("dense_ntk_bias", &dense(Some(0.1), Ntk), &vector(4));
    snapshot_layer("dense_ntk_no_bias", &dense(None, Ntk), &vector(4));
    snapshot_layer("dense_ntk_zero_bias", &dense(Some(0.0), Ntk), &vector(4));
    snapshot_layer(
        "dense_standard_bias",
        &dense(Some(0.1), Standard),
        &vector(4),
    );
    snapshot_layer("dense_standard_no_bias", &dense(None, Standard), &vector(4));
    snapshot_layer("dense_on_sites", &dense(Some(0.1), Ntk), &grid(&[5], 2));
    snapshot_layer(
        "conv_circular",
        &conv(&[3, 3], Padding::Circular, Some(0.1), Ntk),
        &grid(&[5, 5], 1),
    );
    snapshot_layer(
        "conv_same",
        &conv(&[3], Padding::Same, None, Ntk),
        &grid(&[5], 1),
    );
    snapshot_layer(
        "conv_valid",
        &conv(&[3, 1], Padding::Valid, Some(0.2), Ntk),
        &grid(&[5, 4], 3),
    );
    snapshot_layer(
        "conv_standard",
        &conv(&[3], Padding::Circular, Some(0.1), Standard),
        &grid(&[6], 2),
    );
}

#[test]
fn readout_layer_formulas() {
    snapshot_layer("flatten", &Layer::new(Flatten), &grid(&[4, 4], 1));
    snapshot_layer("flatten_vector", &Layer::new(Flatten), &vector(3));
    snapshot_layer(
        "global_avg_pool",
        &Layer::new(GlobalAvgPool),
        &grid(&[6], 2),
    );
}

#[test]
fn activation_formulas() {
    for a in activations() {
        let name = format!("activation_{}", a.name());
        let name = match a {
            Activation::Erf { a: 2.0, .. } | Activation::Sin { a: 1.5, .. } => name + "_params",
            _ => name,
        };
        snapshot_layer(&name, &Layer::new(a.clone()), &vector(3));
    }
    // on sites the dual reads the site diagonals
    snapshot_layer(
        "activation_relu_on_sites",
        &Layer::new(Activation::Relu),
        &grid(&[4], 1),
    );
}

#[test]
fn simplifications_remove_what_vanishes() {
    // no bias: no σ_b anywhere
    let defs = derive_layer(&dense(None, Parameterization::Ntk), 3, &vector(2)).unwrap();
    let plain = render(&defs, Format::Plain);
    assert!(!plain.contains("sigma_b"), "{plain}");
    // first layer: Θ⁽¹⁾ = K⁽¹⁾ (Θ⁽⁰⁾ = 0)
    let defs = derive_layer(&dense(Some(0.3), Parameterization::Ntk), 1, &vector(2)).unwrap();
    assert_eq!(defs[1].rhs.to_plain(), "K1(x,x')");
    // the identity disappears
    let id = Activation::Identity;
    let defs = eqntk::symbolic::closed_forms(
        &derive_layer(&Layer::new(id.clone()), 4, &grid(&[3], 1)).unwrap(),
        &id,
    );
    assert_eq!(defs[0].rhs.to_plain(), "K3[p,p'](x,x')");
    assert_eq!(defs[1].rhs.to_plain(), "Theta3[p,p'](x,x')");
    // layer 0 is the input: an error, not a panic
    assert!(derive_layer(&Layer::new(Flatten), 0, &vector(2)).is_err());
    // a layer that does not fit its input: an error naming it
    let e = derive_layer(
        &conv(&[3], Padding::Same, None, Parameterization::Ntk),
        2,
        &vector(2),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("layer 2 (conv)"), "{e}");
}

/// The printed closed forms, evaluated, agree with the engine's duals (which use polynomial
/// acos/asin and rearranged formulas) away from the degenerate ρ = ±1.
#[test]
fn closed_forms_evaluate_to_the_engine_duals() {
    let cases = [
        (1.0, 0.3, 2.0),
        (0.5, -0.4, 0.7),
        (2.5, 2.0, 1.9),
        (0.01, 0.001, 0.3),
        (3.0, -2.9, 3.0),
    ];
    for a in activations() {
        let Some((t, tdot)) = dual_closed_form(&a) else {
            assert!(
                !a.has_closed_form(),
                "{a:?} has a closed form in the engine"
            );
            continue;
        };
        for (k11, k12, k22) in cases {
            let env = SimpleEnv::new()
                .with_param(Param::k(1, 1), k11)
                .with_param(Param::k(1, 2), k12)
                .with_param(Param::k(2, 2), k22);
            let (et, etdot) = a.dual(k11, k12, k22);
            let (gt, gtdot) = (t.eval(&env).unwrap(), tdot.eval(&env).unwrap());
            let scale = (k11 * k22).sqrt().max(1.0);
            assert!(
                (gt - et).abs() <= 1e-12 * scale,
                "{a:?} T({k11},{k12},{k22}): {gt} vs {et}"
            );
            assert!(
                (gtdot - etdot).abs() <= 1e-12 * etdot.abs().max(1.0),
                "{a:?} Tdot({k11},{k12},{k22}): {gtdot} vs {etdot}"
            );
        }
    }
}

fn mlp(text_layers: &str, shape: &str) -> Network {
    Network::from_toml_str(
        &format!("[input]\nshape = {shape}\n{text_layers}"),
        "test.toml",
    )
    .unwrap()
}

#[test]
fn linear_networks_collapse_to_a_polynomial() {
    let net = mlp(
        "[[layers]]\nkind = \"dense\"\nw_std = 1.5\n\
         [[layers]]\nkind = \"identity\"\n\
         [[layers]]\nkind = \"dense\"\nw_std = 0.7\nb_std = 0.3\n\
         [[layers]]\nkind = \"dense\"\nw_std = 2.0\nb_std = 0.1\n",
        "[3]",
    );
    let d = derive_network(&net).unwrap();
    let (k, t) = d.polynomial().unwrap();
    // K = σ₄²(σ₃² σ₁² K⁰ + σ_b3²) + σ_b4², by hand
    assert_eq!(
        k.to_plain(),
        "sigma_w1^2*sigma_w3^2*sigma_w4^2*K0(x,x') + sigma_b4^2 + sigma_b3^2*sigma_w4^2"
    );
    // Θ: each of the three weight layers contributes the product of the σ_w² above it
    assert_eq!(
        t.to_plain(),
        "3*sigma_w1^2*sigma_w3^2*sigma_w4^2*K0(x,x') + sigma_b4^2 + 2*sigma_b3^2*sigma_w4^2"
    );
    // numerically: the polynomial against the fast path
    let x = Batch::from_array(&[2, 3], vec![0.3, -1.0, 2.0, 1.5, 0.2, -0.7]).unwrap();
    let fast = net.kernel(&x, None).unwrap();
    let (kn, tn) = (fast.nngp().unwrap(), fast.ntk().unwrap());
    for i in 0..2 {
        for j in 0..2 {
            let k0 = x
                .example(i)
                .iter()
                .zip(x.example(j))
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / 3.0;
            let mut env = SimpleEnv::new().with_kernel(move |at| {
                (at.layer == 0 && at.kind == KernelKind::Nngp).then_some(k0)
            });
            for (p, v) in d.params() {
                env = env.with_param(p.clone(), *v);
            }
            let (kv, tv) = (k.eval(&env).unwrap(), t.eval(&env).unwrap());
            assert!((kv - kn[(i, j)]).abs() < 1e-12 * kn[(i, j)].abs().max(1.0));
            assert!((tv - tn[(i, j)]).abs() < 1e-12 * tn[(i, j)].abs().max(1.0));
        }
    }
    // not linear: no polynomial
    let relu = mlp(
        "[[layers]]\nkind = \"dense\"\nw_std = 1.5\n[[layers]]\nkind = \"relu\"\n\
         [[layers]]\nkind = \"dense\"\nw_std = 1.0\n",
        "[3]",
    );
    assert!(derive_network(&relu).unwrap().polynomial().is_none());
}

#[test]
fn printing_is_deterministic() {
    for f in ["mlp.toml", "cnn.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(f);
        let net = Network::from_file(&path).unwrap();
        let a = derive_network(&net).unwrap();
        let b = derive_network(&net).unwrap();
        assert_eq!(a, b);
        for format in [Format::Latex, Format::Unicode, Format::Plain] {
            assert_eq!(a.render(format), b.render(format));
            assert_eq!(a.render(format), a.render(format));
        }
        assert_eq!(a.to_markdown("t"), b.to_markdown("t"));
        insta::assert_snapshot!(format!("network_{f}_markdown"), a.to_markdown(f));
        insta::assert_snapshot!(format!("network_{f}_unicode"), a.render(Format::Unicode));
    }
}

#[test]
fn evaluation_errors_are_reported() {
    // a network that ends with sites has no N1×N2 kernel
    let net = mlp(
        "[[layers]]\nkind = \"conv\"\nfilter = [3]\nw_std = 1.0\n",
        "[5, 1]",
    );
    let d = derive_network(&net).unwrap();
    let x = Batch::from_array(&[1, 5, 1], vec![1.0; 5]).unwrap();
    let e = evaluate_network(&net, &d, &x, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("readout"), "{e}");
    // a batch of the wrong shape
    let y = Batch::from_array(&[1, 4, 1], vec![1.0; 4]).unwrap();
    assert!(evaluate_network(&net, &d, &y, None).is_err());
    let _ = Expr::num(0.0);
}

/// The formula of every layer of a network given in TOML whose kind is a group layer or that
/// reads features on a group, at its place in the network (so the shapes are the real ones):
/// plain and LaTeX; also the Unicode form, which the document prints.
fn snapshot_group_layers(name: &str, toml: &str) {
    let net = Network::from_toml_str(toml, "net.toml").unwrap();
    let mut text = String::new();
    for (i, layer) in net.layers().iter().enumerate() {
        let input = net.shape_before(i);
        if input.lifted.is_none() && !layer.is::<Lift>() {
            continue;
        }
        let defs = derive_layer(layer, i + 1, input).unwrap();
        text += &format!(
            "layer {} ({}), plain:\n{}",
            i + 1,
            layer.kind(),
            render(&defs, Format::Plain)
        );
        text += &format!(
            "layer {} ({}), LaTeX:\n{}",
            i + 1,
            layer.kind(),
            render(&defs, Format::Latex)
        );
        text += &format!(
            "layer {} ({}), Unicode:\n{}",
            i + 1,
            layer.kind(),
            render(&defs, Format::Unicode)
        );
    }
    insta::assert_snapshot!(name, text);
}

const GCNN_TAIL: &str = "w_std = 1.5\nb_std = 0.1\n[[layers]]\nkind = 'relu'\n[[layers]]\n\
    kind = 'group_conv'\nGCONV\nw_std = 1.5\n[[layers]]\nkind = 'relu'\n[[layers]]\n\
    kind = 'group_pool'\n[[layers]]\nkind = 'dense'\nw_std = 1.0\n";

fn gcnn(shape: &str, lift: &str, gconv: &str) -> String {
    format!(
        "[input]\nshape = {shape}\n[[layers]]\nkind = 'lift'\n{lift}\n{}",
        GCNN_TAIL.replace("GCONV", gconv)
    )
}

#[test]
fn group_layer_formulas() {
    // C_n without translations: A_g δ is g acting on the filter site δ, products g h
    snapshot_group_layers(
        "gcnn_c5_signal",
        &gcnn(
            "[5, 2]",
            "group = 'C5'\nfilter = 'full'",
            "support = [0, 1]",
        ),
    );
    // p4 on the torus: pair indices (g, p), p + A_g δ, (g h, p + A_g δ)
    snapshot_group_layers(
        "gcnn_p4_torus",
        &gcnn(
            "[4, 4, 1]",
            "group = 'p4'\nfilter = [3, 3]\npadding = 'circular'",
            "filter = [3, 3]\npadding = 'same'\nparameterization = 'standard'\nwidth = 2",
        )
        .replace("kind = 'lift'\n", "kind = 'lift'\nwidth = 2\n"),
    );
    // SO(2): functions of the relative angle φ, pooling is the zero mode
    snapshot_group_layers(
        "gcnn_so2_points",
        &gcnn("[3, 2]", "group = 'SO2'\nfilter = 'full'", ""),
    );
}

#[test]
fn parameter_lists_print_extreme_values_compactly() {
    let net = Network::from_toml_str(
        "[input]\nshape = [2]\n[[layers]]\nkind = 'dense'\nw_std = 1e-300\nb_std = 1e140\n",
        "tiny.toml",
    )
    .unwrap();
    let md = eqntk::symbolic::derive_network(&net)
        .unwrap()
        .to_markdown("tiny");
    assert!(md.contains("= 1e-300") && md.contains("= 1e140"), "{md}");
    assert!(!md.contains("00000000"), "{md}");
}
