//! Window pooling (`avg_pool`, `sum_pool`), `global_sum_pool`, strided convolutions and
//! `layer_norm`: neural-tangents' kernels (`tests/reference/pool_stride.py`, numbers in
//! `pool_stride.json`) against the fast kernel and the interpreted derivation, hand cases, Monte
//! Carlo on every padding, with one stride per axis and on group features, and the shape errors.

use crate::common;

use common::{assert_close, normal_batch};
use eqntk::finite::{monte_carlo_outputs, Agreement, FiniteNetwork};
use eqntk::symbolic::{derive_network, evaluate_network};
use eqntk::Network;
use faer::Mat;

#[test]
fn kernels_equal_neural_tangents_for_every_padding_and_stride() {
    let cases = common::reference_cases("pool_stride.json");
    assert_eq!(cases.len(), 85);
    // one stride per axis: conv (1,2), (2,1) and pooling (1,2), (2,1) on every padding, and
    // a conv with one stride per axis on the full site × site kernel
    let per_axis = cases
        .iter()
        .filter(|c| c.name.contains("stride (1, 2)") || c.name.contains("stride (2, 1)"))
        .count();
    assert_eq!(per_axis, 26);
    // even filters (2, 2), (2, 3), (4,) and (2,), at stride 1 and 2, on every padding
    assert_eq!(
        cases.iter().filter(|c| c.name.starts_with("even")).count(),
        15
    );
    // layer_norm over every non-batch axis, on 2-D and 1-D grids
    assert_eq!(
        cases
            .iter()
            .filter(|c| c.name.starts_with("layer_norm axis"))
            .count(),
        3
    );
    for c in &cases {
        let (name, net) = (&c.name, &c.network);
        let fast = net.kernel(&c.x1, Some(&c.x2)).unwrap();
        assert_close(
            &fast.nngp().unwrap(),
            &c.nngp,
            1e-10,
            &format!("{name} nngp"),
        );
        assert_close(&fast.ntk().unwrap(), &c.ntk, 1e-10, &format!("{name} ntk"));
        let deriv = derive_network(net).unwrap();
        let (k, t) = evaluate_network(net, &deriv, &c.x1, Some(&c.x2)).unwrap();
        assert_close(&k, &c.nngp, 1e-10, &format!("{name} derivation nngp"));
        assert_close(&t, &c.ntk, 1e-10, &format!("{name} derivation ntk"));
    }
}

fn pooled(kind: &str, window: &str, stride: &str, padding: &str, b_std: f64) -> Network {
    let toml = format!(
        "[input]\nshape = [5, 4, 2]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3, 3]\n\
         w_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n[[layers]]\n\
         kind = \"{kind}\"\nwindow = {window}\nstride = {stride}\npadding = \"{padding}\"\n\n\
         [[layers]]\nkind = \"flatten\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n\
         b_std = {b_std}\n"
    );
    Network::from_toml_str(&toml, "pool").unwrap()
}

/// With only linear layers without bias after it, `sum_pool` = |F| × `avg_pool` on features,
/// so |F|² × on both kernels; the finite networks (same parameters) differ by |F|.
#[test]
fn sum_pool_is_window_size_times_avg_pool() {
    let x = normal_batch(&[5, 4, 2], 3, 5);
    for padding in ["valid", "same", "circular"] {
        for (window, q) in [("[2, 2]", 4.0), ("[3, 2]", 6.0)] {
            let sum = pooled("sum_pool", window, "[2, 2]", padding, 0.0);
            let avg = pooled("avg_pool", window, "[2, 2]", padding, 0.0);
            let (ks, ka) = (sum.kernel(&x, None).unwrap(), avg.kernel(&x, None).unwrap());
            let scaled = |m: Mat<f64>| &m * faer::Scale(q * q);
            let what = format!("{window} {padding}");
            assert_close(
                &ks.nngp().unwrap(),
                &scaled(ka.nngp().unwrap()),
                1e-13,
                &what,
            );
            assert_close(&ks.ntk().unwrap(), &scaled(ka.ntk().unwrap()), 1e-13, &what);
            let fs = FiniteNetwork::sample(&sum, 16, 3)
                .unwrap()
                .forward(&x)
                .unwrap();
            let fa = FiniteNetwork::sample(&avg, 16, 3)
                .unwrap()
                .forward(&x)
                .unwrap();
            assert_close(
                &fs,
                &(&fa * faer::Scale(q)),
                1e-13,
                &format!("finite {what}"),
            );
        }
    }
}

/// A 1×1 window with stride 1 is the identity: the kernels are those of the network without it.
#[test]
fn avg_pool_with_a_unit_window_is_the_identity() {
    let x = normal_batch(&[5, 4, 2], 3, 9);
    let toml = "[input]\nshape = [5, 4, 2]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3, 3]\n\
                w_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n[[layers]]\n\
                kind = \"flatten\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\nb_std = 0.3\n";
    let plain = Network::from_toml_str(toml, "plain")
        .unwrap()
        .kernel(&x, None)
        .unwrap();
    for padding in ["valid", "same", "circular"] {
        let k = pooled("avg_pool", "[1, 1]", "[1, 1]", padding, 0.3)
            .kernel(&x, None)
            .unwrap();
        assert_close(&k.nngp().unwrap(), &plain.nngp().unwrap(), 1e-14, padding);
        assert_close(&k.ntk().unwrap(), &plain.ntk().unwrap(), 1e-14, padding);
    }
}

/// The mean of finite networks agrees with the fast kernel for every padding (windows that
/// overlap, start before the edge and run over it).
#[test]
fn finite_networks_agree_for_every_padding() {
    let (width, samples) = (64, 300);
    for (i, padding) in ["valid", "same", "circular"].into_iter().enumerate() {
        for (j, kind) in ["avg_pool", "sum_pool"].into_iter().enumerate() {
            let net = pooled(kind, "[3, 3]", "[2, 2]", padding, 0.1);
            let x = normal_batch(&[5, 4, 2], 3, 20 + i as u64);
            let k = net.kernel(&x, None).unwrap();
            let seed = 7000 + 100 * (2 * i + j) as u64;
            let mc = monte_carlo_outputs(&net, &x, None, width, 16, samples, seed).unwrap();
            let verdict =
                Agreement::default().check(&mc, &k.nngp().unwrap(), &k.ntk().unwrap(), width);
            if let Err(d) = verdict {
                panic!("{kind} {padding}: {d} (width {width}, {samples} networks)");
            }
        }
    }
}

/// `layer_norm` over every non-batch axis (one mean and variance per example): the mean of
/// finite networks agrees with the fast kernel, on an image and on a 1-D signal, and the
/// interpreted derivation equals the fast kernel.
#[test]
fn layer_norm_over_all_axes_three_ways() {
    let (width, samples) = (64, 300);
    for (i, (shape, filter, axis)) in [
        (vec![4, 4, 2], "[3, 3]", "[1, 2, 3]"),
        (vec![6, 1], "[2]", "[-2, -1]"),
    ]
    .into_iter()
    .enumerate()
    {
        let toml = format!(
            "[input]\nshape = {shape:?}\n\n[[layers]]\nkind = \"conv\"\nfilter = {filter}\n\
             padding = \"same\"\nw_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"layer_norm\"\n\
             axis = {axis}\n\n[[layers]]\nkind = \"relu\"\n\n[[layers]]\nkind = \"conv\"\n\
             filter = {filter}\npadding = \"circular\"\nw_std = 1.3\nb_std = 0.1\n\n\
             [[layers]]\nkind = \"layer_norm\"\naxis = {axis}\n\n[[layers]]\nkind = \"erf\"\n\n\
             [[layers]]\nkind = \"flatten\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n"
        );
        let net = Network::from_toml_str(&toml, "layer_norm all axes").unwrap();
        let x = normal_batch(&shape, 3, 40 + i as u64);
        let k = net.kernel(&x, None).unwrap();
        let per_site = Network::from_toml_str(&toml.replace(&format!("axis = {axis}\n"), ""), "")
            .unwrap()
            .kernel(&x, None)
            .unwrap();
        let gap = (&k.nngp().unwrap() - &per_site.nngp().unwrap()).norm_max();
        assert!(
            gap > 1e-3,
            "{axis}: the two normalisations agree ({gap:.1e})"
        );
        let mc = monte_carlo_outputs(&net, &x, None, width, 16, samples, 7600 + i as u64).unwrap();
        if let Err(d) =
            Agreement::default().check(&mc, &k.nngp().unwrap(), &k.ntk().unwrap(), width)
        {
            panic!("layer_norm axis {axis}: {d} (width {width}, {samples} networks)");
        }
        let deriv = derive_network(&net).unwrap();
        let (kd, td) = evaluate_network(&net, &deriv, &x, None).unwrap();
        assert_close(&kd, &k.nngp().unwrap(), 1e-12, "derivation nngp");
        assert_close(&td, &k.ntk().unwrap(), 1e-12, "derivation ntk");
    }
}

/// `axis` values that neural-tangents accepts but eqntk does not, or that have no limit, are
/// one-line errors naming the layer.
#[test]
fn layer_norm_axis_errors() {
    for (axis, needle) in [
        ("[1, 2]", "must include the channel axis"),
        ("[0, 3]", "batch axis"),
        ("[1, 3]", "some grid axes only"),
        ("[7]", "out of range"),
        ("'all'", "an integer or a list of integers"),
    ] {
        let toml = format!(
            "[input]\nshape = [4, 4, 2]\n[[layers]]\nkind = \"conv\"\nfilter = [3, 3]\n\
             [[layers]]\nkind = \"layer_norm\"\naxis = {axis}\n"
        );
        let e = Network::from_toml_str(&toml, "net")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("layers[1] (layer_norm)") && e.contains(needle),
            "{axis}: {e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
}

/// The mean of finite networks agrees with the fast kernel when the axes have different
/// strides: two strided convolutions ((2,1) circular, then (1,2) same) on a 5×6 grid, and
/// `avg_pool` / `sum_pool` windows (3,2) moved by (2,1) and (2,3) moved by (1,2).
#[test]
fn finite_networks_agree_with_one_stride_per_axis() {
    let (width, samples) = (64, 300);
    let head = "[input]\nshape = [5, 6, 2]\n\n";
    let tail = "[[layers]]\nkind = \"flatten\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n\
                b_std = 0.1\n";
    let conv = |stride: &str, padding: &str| {
        format!(
            "[[layers]]\nkind = \"conv\"\nfilter = [3, 3]\nstride = {stride}\n\
             padding = \"{padding}\"\nw_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n"
        )
    };
    let pool = |kind: &str, window: &str, stride: &str, padding: &str| {
        format!(
            "[[layers]]\nkind = \"{kind}\"\nwindow = {window}\nstride = {stride}\n\
             padding = \"{padding}\"\n\n"
        )
    };
    let cases = [
        (
            "conv (2,1) circular, conv (1,2) same",
            conv("[2, 1]", "circular") + &conv("[1, 2]", "same"),
        ),
        (
            "avg_pool (3,2) stride (2,1) same",
            conv("[1, 1]", "same") + &pool("avg_pool", "[3, 2]", "[2, 1]", "same"),
        ),
        (
            "sum_pool (2,3) stride (1,2) valid",
            conv("[1, 1]", "circular") + &pool("sum_pool", "[2, 3]", "[1, 2]", "valid"),
        ),
    ];
    for (i, (name, layers)) in cases.into_iter().enumerate() {
        let net = Network::from_toml_str(&format!("{head}{layers}{tail}"), name).unwrap();
        let x = normal_batch(&[5, 6, 2], 3, 40 + i as u64);
        let k = net.kernel(&x, None).unwrap();
        let mc = monte_carlo_outputs(&net, &x, None, width, 16, samples, 7700 + i as u64).unwrap();
        let verdict = Agreement::default().check(&mc, &k.nngp().unwrap(), &k.ntk().unwrap(), width);
        if let Err(d) = verdict {
            panic!("{name}: {d} (width {width}, {samples} networks)");
        }
    }
}

/// Impossible shapes are one-line errors naming the layer.
#[test]
fn impossible_windows_and_strides_are_one_line_errors() {
    let net = |layer: &str| {
        Network::from_toml_str(
            &format!("[input]\nshape = [4, 3, 1]\n\n[[layers]]\n{layer}\n"),
            "bad.toml",
        )
    };
    for (layer, says) in [
        (
            "kind = \"avg_pool\"\nwindow = [5, 1]",
            "`window` [5, 1] is larger than the grid [4, 3] with padding = \"valid\"",
        ),
        (
            "kind = \"sum_pool\"\nwindow = [2, 2]\nstride = [4, 4]\npadding = \"same\"",
            "`stride` [4, 4] is larger than the grid [4, 3]",
        ),
        (
            "kind = \"conv\"\nfilter = [3, 3]\nstride = [5, 5]",
            "`stride` [5, 5] is larger than the grid [4, 3]",
        ),
        (
            "kind = \"conv\"\nfilter = [3, 3]\nstride = [0, 0]",
            "`stride` must be a list of positive integers",
        ),
        (
            "kind = \"avg_pool\"\nwindow = [2, 2]\nstride = [2]",
            "`stride` has 1 axes but the input grid [4, 3] has 2",
        ),
        (
            "kind = \"conv\"\nfilter = [3, 3]\nstride = [1, 2, 1]",
            "`stride` has 3 axes but the input grid [4, 3] has 2",
        ),
        (
            "kind = \"sum_pool\"\nwindow = [2, 2]\nstride = [1, 0]",
            "`stride` must be a list of positive integers, got [1, 0]",
        ),
        (
            "kind = \"conv\"\nfilter = [3, 3]\nstride = [1, 4]",
            "`stride` [1, 4] is larger than the grid [4, 3]",
        ),
        (
            "kind = \"avg_pool\"\nwindow = [2, 2]\nstride = [5, 1]\npadding = \"circular\"",
            "`stride` [5, 1] is larger than the grid [4, 3]",
        ),
        (
            "kind = \"avg_pool\"\nwindow = [2]",
            "`window` has 1 axes but the input grid [4, 3] has 2",
        ),
    ] {
        let e = net(layer).unwrap_err().to_string();
        assert!(e.contains(says), "{layer}: {e}");
        assert!(e.contains("layers[0]"), "{layer}: {e}");
        assert!(!e.contains('\n'), "{layer}: {e}");
    }
}

/// `global_sum_pool` = `|S|²` × `global_avg_pool` on the kernels (`|S|` sites, followed by a
/// dense layer without bias), on a grid and on p4 features (sites `(g, p)`), fast and
/// interpreted; the finite networks differ by `|S|`.
#[test]
fn global_sum_pool_is_the_number_of_sites_squared_times_global_avg_pool() {
    let grid = "[input]\nshape = [5, 4, 2]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3, 3]\n\
                w_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n";
    let p4 = "[input]\nshape = [4, 4, 1]\n\n[[layers]]\nkind = \"lift\"\ngroup = \"p4\"\n\
              filter = [3, 3]\npadding = \"circular\"\nw_std = 1.5\nb_std = 0.1\n\n\
              [[layers]]\nkind = \"relu\"\n\n";
    for (head, shape, sites) in [(grid, vec![5, 4, 2], 20.0), (p4, vec![4, 4, 1], 64.0)] {
        let net = |pool: &str| {
            let toml = format!(
                "{head}[[layers]]\nkind = \"{pool}\"\n\n[[layers]]\nkind = \"dense\"\n\
                 w_std = 0.7\n"
            );
            Network::from_toml_str(&toml, pool).unwrap()
        };
        let (sum, avg) = (net("global_sum_pool"), net("global_avg_pool"));
        let x = normal_batch(&shape, 3, 4);
        let (ks, ka) = (sum.kernel(&x, None).unwrap(), avg.kernel(&x, None).unwrap());
        let scaled = |m: Mat<f64>| &m * faer::Scale(sites * sites);
        assert_close(
            &ks.nngp().unwrap(),
            &scaled(ka.nngp().unwrap()),
            1e-13,
            "nngp",
        );
        assert_close(&ks.ntk().unwrap(), &scaled(ka.ntk().unwrap()), 1e-13, "ntk");
        let (k, t) = evaluate_network(&sum, &derive_network(&sum).unwrap(), &x, None).unwrap();
        assert_close(&k, &ks.nngp().unwrap(), 1e-12, "derivation nngp");
        assert_close(&t, &ks.ntk().unwrap(), 1e-12, "derivation ntk");
        let fs = FiniteNetwork::sample(&sum, 8, 3)
            .unwrap()
            .forward(&x)
            .unwrap();
        let fa = FiniteNetwork::sample(&avg, 8, 3)
            .unwrap()
            .forward(&x)
            .unwrap();
        assert_close(&fs, &(&fa * faer::Scale(sites)), 1e-13, "finite");
    }
}

/// `layer_norm` on p4 features (normalised at each `(g, p)`): the interpreted derivation equals
/// the fast kernel, and the finite networks agree with it.
#[test]
fn layer_norm_on_group_features_three_ways() {
    let toml = "[input]\nshape = [4, 4, 1]\n\n[[layers]]\nkind = \"lift\"\ngroup = \"p4\"\n\
                filter = [3, 3]\npadding = \"circular\"\nw_std = 1.5\nb_std = 0.1\n\n\
                [[layers]]\nkind = \"layer_norm\"\n\n[[layers]]\nkind = \"relu\"\n\n\
                [[layers]]\nkind = \"group_pool\"\n\n[[layers]]\nkind = \"dense\"\n\
                w_std = 1.2\n";
    let net = Network::from_toml_str(toml, "p4 layer_norm").unwrap();
    let x = normal_batch(&[4, 4, 1], 3, 31);
    let k = net.kernel(&x, None).unwrap();
    let (kd, td) = evaluate_network(&net, &derive_network(&net).unwrap(), &x, None).unwrap();
    assert_close(&kd, &k.nngp().unwrap(), 1e-12, "nngp");
    assert_close(&td, &k.ntk().unwrap(), 1e-12, "ntk");
    let width = 64;
    let mc = monte_carlo_outputs(&net, &x, None, width, 16, 300, 4242).unwrap();
    if let Err(d) = Agreement::default().check(&mc, &k.nngp().unwrap(), &k.ntk().unwrap(), width) {
        panic!("p4 layer_norm: {d}");
    }
}
