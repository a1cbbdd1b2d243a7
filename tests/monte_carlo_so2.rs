//! SO(2) G-CNNs against Monte-Carlo means of finite networks (MATH.md §9).
//!
//! A finite SO(2) G-CNN is sampled as the C_N G-CNN on the same circle
//! ([`Network::discretised`], N from the width: [`So2Grid::angles_for_width`]): its lifting
//! reads the N rotated copies of the input, its group convolutions are the C_N ones and its
//! pooling is the mean over the grid. Each case checks that
//!
//! 1. the analytic C_N kernel (the plain-network engine on the stacked rotated inputs) is within
//!    5% of the Monte-Carlo tolerance of the analytic SO(2) kernel — the discretisation is
//!    invisible at the tested widths — and
//! 2. the Monte-Carlo mean of the finite networks agrees with the analytic SO(2) kernel within
//!    the library's rule [`Agreement`] (`z·se + bias·scale/width`);
//!
//! and the per-draw error of the empirical NTK shrinks like `width^{-1/2}`.

use crate::common;

use common::{log_log_slope, max_abs, normal_batch as inputs};
use eqntk::action::Domain;
use eqntk::finite::{monte_carlo, Agreement};
use eqntk::So2Grid;
use eqntk::{Batch, FiniteNetwork, Network};
use faer::Mat;

/// The domain of the test inputs: `[P, 2]` are point sets here, `[n, C]` odd signals.
fn domain(shape: &[usize]) -> Domain {
    if shape.last() == Some(&2) {
        Domain::Points
    } else {
        Domain::Signal
    }
}

const W: &str = "w_std = 1.5\nb_std = 0.2\n";

/// Lift to SO(2), ReLU, `convs` × (group convolution, ReLU), group pooling, dense readout.
fn gcnn(shape: &[usize], convs: usize) -> Network {
    let mut t = format!(
        "[input]\nshape = {shape:?}\ndomain = '{}'\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\n\
         filter = 'full'\n{W}[[layers]]\nkind = 'relu'\n",
        domain(shape)
    );
    for _ in 0..convs {
        t += &format!("[[layers]]\nkind = 'group_conv'\n{W}[[layers]]\nkind = 'relu'\n");
    }
    t += &format!("[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{W}");
    Network::from_toml_str(&t, "so2.toml").unwrap()
}

/// Three examples (the symmetric kernel includes the kinked diagonal pairs).
fn examples(shape: &[usize], seed: u64) -> Batch {
    inputs(shape, 3, seed)
}

/// Checks 1 and 2 of the module docs at one width; returns the measured z-scores (NNGP, NTK)
/// and the largest discretisation gap relative to the tolerance.
fn check(name: &str, net: &Network, x: &Batch, width: usize, samples: usize) -> (f64, f64, f64) {
    let so2 = net.kernel(x, None).unwrap();
    let (k, t) = (so2.nngp().unwrap(), so2.ntk().unwrap());
    let mc = monte_carlo(net, x, None, width, samples, 100).unwrap();
    // The C_N kernel that the sampled networks have.
    let angles = So2Grid::angles_for_width(width, net.so2_degree().unwrap());
    let (discrete, grid) = net.discretised(angles).unwrap();
    let cn = discrete.kernel(&grid.stack(x).unwrap(), None).unwrap();
    let rule = Agreement::default();
    let mut gap = 0.0f64;
    for (an, cnk, se) in [
        (&k, cn.nngp().unwrap(), &mc.nngp_se),
        (&t, cn.ntk().unwrap(), &mc.ntk_se),
    ] {
        let tol = rule.tolerances(an, se, width);
        for i in 0..3 {
            for j in 0..3 {
                gap = gap.max((cnk[(i, j)] - an[(i, j)]).abs() / tol[(i, j)]);
            }
        }
    }
    assert!(
        gap <= 0.05,
        "{name}: the C{angles} kernel differs from SO2 by {gap:.3} of the Monte-Carlo tolerance"
    );
    if let Err(d) = rule.check(&mc, &k, &t, width) {
        panic!("{name}: {d} (width {width}, {samples} samples)");
    }
    let z = |mean: &Mat<f64>, se: &Mat<f64>, an: &Mat<f64>| {
        (0..3)
            .flat_map(|i| (0..3).map(move |j| (mean[(i, j)] - an[(i, j)]).abs() / se[(i, j)]))
            .fold(0.0, f64::max)
    };
    let (zk, zt) = (
        z(&mc.nngp_mean, &mc.nngp_se, &k),
        z(&mc.ntk_mean, &mc.ntk_se, &t),
    );
    eprintln!("{name} width {width} (C{angles}): z nngp {zk:.2}, ntk {zt:.2}, gap/tol {gap:.1e}");
    (zk, zt, gap)
}

#[test]
fn lift_and_pool_on_planar_point_sets() {
    let net = gcnn(&[4, 2], 0);
    check("points [4,2]", &net, &examples(&[4, 2], 1), 128, 100);
}

#[test]
fn lift_and_pool_on_odd_signals() {
    let net = gcnn(&[5, 3], 0);
    check("signal [5,3]", &net, &examples(&[5, 3], 2), 128, 100);
}

#[test]
fn group_convolution_on_signals_and_points() {
    for (shape, seed) in [(&[5usize, 1][..], 3), (&[3, 2][..], 4)] {
        let net = gcnn(shape, 1);
        check(
            &format!("group_conv {shape:?}"),
            &net,
            &examples(shape, seed),
            64,
            48,
        );
    }
}

#[test]
fn residual_block_with_layer_norm_and_projection_shortcut() {
    let shape = [3usize, 2];
    let t = format!(
        "[input]\nshape = {shape:?}\ndomain = 'points'\n[[layers]]\nkind = 'lift'\n\
         group = 'SO2'\nfilter = 'full'\n{W}[[layers]]\nkind = 'residual'\nblock = [{{ kind = \
         'relu' }}, {{ kind = 'group_conv', w_std = 1.3, b_std = 0.1 }}, {{ kind = 'layer_norm' \
         }}, {{ kind = 'erf' }}, {{ kind = 'group_conv', w_std = 1.2 }}]\nshortcut = [{{ kind = \
         'group_conv', w_std = 0.8, b_std = 0.3 }}]\n[[layers]]\nkind = 'relu'\n[[layers]]\n\
         kind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{W}"
    );
    let net = Network::from_toml_str(&t, "so2.toml").unwrap();
    check("residual [3,2]", &net, &examples(&shape, 8), 64, 48);
}

/// The per-draw discrepancy of the empirical NTK of the finite SO(2) G-CNN from the analytic
/// SO(2) NTK shrinks like `width^{-1/2}`: from M draws, `√(sample variance + (mean − Θ)²)` per
/// entry, averaged and relative to the largest |Θ|, fitted against the width on a log-log scale.
#[test]
fn ntk_discrepancy_shrinks_with_width() {
    let net = gcnn(&[4, 2], 0);
    let x = examples(&[4, 2], 5);
    let t = net.kernel(&x, None).unwrap().ntk().unwrap();
    let samples = 60;
    let mut points = vec![];
    for width in [16usize, 64, 256] {
        let mc = monte_carlo(&net, &x, None, width, samples, 7).unwrap();
        let m = samples as f64;
        let mut err = 0.0;
        for i in 0..3 {
            for j in 0..3 {
                let var = mc.ntk_se[(i, j)].powi(2) * (m - 1.0);
                err += (var + (mc.ntk_mean[(i, j)] - t[(i, j)]).powi(2)).sqrt();
            }
        }
        points.push((width as f64, err / (9.0 * max_abs(&t))));
    }
    let slope = log_log_slope(&points);
    eprintln!("SO2 NTK discrepancy slope {slope:.3}, points {points:?}");
    assert!(
        (-1.2..=-0.35).contains(&slope),
        "log-log slope of the NTK discrepancy vs width is {slope:.3} (expected ≈ −1/2); \
         points {points:?}"
    );
}

#[test]
fn finite_so2_networks_take_the_so2_inputs() {
    let net = gcnn(&[5, 1], 1);
    let x = examples(&[5, 1], 6);
    let fin = FiniteNetwork::sample(&net, 16, 0).unwrap();
    assert_eq!(fin.input_shape(), &[5, 1]);
    // A finite C_N G-CNN is invariant under the rotations by 2π/N of its input.
    let n = So2Grid::angles_for_width(16, net.so2_degree().unwrap());
    let f = fin.forward(&x).unwrap();
    let r = eqntk::orbit::rotate_batch(
        &x,
        Domain::Signal,
        2.0 * std::f64::consts::PI * 3.0 / n as f64,
    )
    .unwrap();
    let fr = fin.forward(&r).unwrap();
    let d: Mat<f64> = &f - &fr;
    assert!(max_abs(&d) <= 1e-10 * max_abs(&f), "{:?} vs {:?}", f, fr);
    // The discretisation needs an odd N ≥ 3 and an SO(2) network.
    assert!(net.discretised(4).is_err() && net.discretised(1).is_err());
    let plain = Network::from_toml_str(
        "[input]\nshape = [5, 1]\n[[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n",
        "p.toml",
    )
    .unwrap();
    assert!(plain.discretised(5).is_err());
    // Layer::kernel on SO(2) features is an error, not a panic.
    let k = net.input_kernel(&x, None).unwrap();
    let e = net.layers()[0].kernel(k, net.shape_before(0)).unwrap_err();
    assert!(e.to_string().contains("relative angle"), "{e}");
}
