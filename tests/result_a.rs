//! Result A (MATH.md §7): the G-CNN kernel equals the orbit-averaged kernel of its plain
//! counterpart, NNGP and NTK, to ≤ 1e-12 relative.

use crate::common;

use common::normal_batch as batch;
use eqntk::group::GroupSpec;
use eqntk::orbit::orbit_kernel;
use eqntk::{Batch, Network};
use faer::Mat;

fn rel_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut d = 0.0f64;
    let mut s = 0.0f64;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            d = d.max((a[(i, j)] - b[(i, j)]).abs());
            s = s.max(b[(i, j)].abs());
        }
    }
    d / s
}

const W: &str = "w_std = 1.4\nb_std = 0.2\n";

/// `depth` hidden layers: a lift then group convolutions, each followed by `act`.
fn gcnn(
    shape: &[usize],
    group: &str,
    filter: &str,
    depth: usize,
    act: &str,
    local: Option<&str>,
) -> String {
    let mut s = format!("[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\ngroup = '{group}'\nfilter = {filter}\n{W}[[layers]]\n{act}\n");
    for _ in 1..depth {
        match local {
            Some(f) => {
                s += &format!(
                    "[[layers]]\nkind = 'group_conv'\nfilter = {f}\n{W}[[layers]]\n{act}\n"
                )
            }
            None => s += &format!("[[layers]]\nkind = 'group_conv'\n{W}[[layers]]\n{act}\n"),
        }
    }
    s + &format!("[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{W}")
}

/// The plain counterpart of a full-lift G-CNN: flatten, then an MLP of the same depth.
fn mlp(shape: &[usize], depth: usize, act: &str) -> String {
    let mut s = format!("[input]\nshape = {shape:?}\n[[layers]]\nkind = 'flatten'\n");
    for _ in 0..depth {
        s += &format!("[[layers]]\nkind = 'dense'\n{W}[[layers]]\n{act}\n");
    }
    s + &format!("[[layers]]\nkind = 'dense'\n{W}")
}

/// The plain counterpart of a p4/p4m G-CNN: circular CNN with global average pooling.
fn cnn(shape: &[usize], depth: usize, act: &str) -> String {
    let mut s = format!("[input]\nshape = {shape:?}\n");
    for _ in 0..depth {
        s += &format!("[[layers]]\nkind = 'conv'\nfilter = [3, 3]\npadding = 'circular'\n{W}[[layers]]\n{act}\n");
    }
    s + &format!("[[layers]]\nkind = 'global_avg_pool'\n[[layers]]\nkind = 'dense'\n{W}")
}

fn check(g_toml: &str, plain_toml: &str, orbit: &str, x1: &Batch, x2: &Batch, tol: f64) {
    let g = Network::from_toml_str(g_toml, "gcnn.toml").unwrap();
    let plain = Network::from_toml_str(plain_toml, "plain.toml").unwrap();
    let kg = g.kernel(x1, Some(x2)).unwrap();
    let avg = orbit_kernel(
        &plain,
        x1,
        Some(x2),
        GroupSpec::parse(orbit).unwrap(),
        1e-13,
    )
    .unwrap();
    let dn = rel_diff(&kg.nngp().unwrap(), &avg.nngp);
    let dt = rel_diff(&kg.ntk().unwrap(), &avg.ntk);
    assert!(
        dn <= tol && dt <= tol,
        "{orbit}: nngp {dn:.2e}, ntk {dt:.2e}\n{g_toml}"
    );
}

const RELU: &str = "kind = 'relu'";
const ERF: &str = "kind = 'erf'";

#[test]
fn cyclic_groups_full_lift_equal_the_orbit_averaged_mlp() {
    for n in 2..=12 {
        let shape = [n, 2];
        let (x1, x2) = (batch(&shape, 3, n as u64), batch(&shape, 2, 100 + n as u64));
        let g = format!("C{n}");
        check(
            &gcnn(&shape, &g, "'full'", 2, RELU, None),
            &mlp(&shape, 2, RELU),
            &g,
            &x1,
            &x2,
            1e-12,
        );
    }
}

#[test]
fn dihedral_groups_full_lift_equal_the_orbit_averaged_mlp() {
    for n in 2..=8 {
        let shape = [n, 1];
        let (x1, x2) = (batch(&shape, 3, n as u64), batch(&shape, 2, 200 + n as u64));
        let g = format!("D{n}");
        check(
            &gcnn(&shape, &g, "'full'", 2, RELU, None),
            &mlp(&shape, 2, RELU),
            &g,
            &x1,
            &x2,
            1e-12,
        );
    }
}

#[test]
fn depths_and_activations() {
    let shape = [6, 1];
    let (x1, x2) = (batch(&shape, 3, 7), batch(&shape, 3, 8));
    for depth in 1..=3 {
        for act in [RELU, ERF, "kind = 'tanh'"] {
            check(
                &gcnn(&shape, "D6", "'full'", depth, act, None),
                &mlp(&shape, depth, act),
                "D6",
                &x1,
                &x2,
                1e-12,
            );
        }
    }
}

#[test]
fn rotations_of_square_images_full_lift() {
    for h in [3, 4] {
        let shape = [h, h, 1];
        let (x1, x2) = (
            batch(&shape, 2, 30 + h as u64),
            batch(&shape, 3, 40 + h as u64),
        );
        for g in ["C4", "D4"] {
            check(
                &gcnn(&shape, g, "'full'", 2, RELU, None),
                &mlp(&shape, 2, RELU),
                g,
                &x1,
                &x2,
                1e-12,
            );
        }
    }
}

#[test]
fn p4_and_p4m_local_filters_equal_the_rotation_averaged_cnn() {
    let shape = [5, 5, 1];
    let (x1, x2) = (batch(&shape, 2, 50), batch(&shape, 2, 51));
    for (g, point) in [("p4", "C4"), ("p4m", "D4")] {
        for depth in 1..=2 {
            let gt = gcnn(&shape, g, "[3, 3]", depth, RELU, Some("[3, 3]"));
            // The CNN with pooling is translation invariant, so averaging over the point group
            // about the centre or over all of p4/p4m gives the same kernel.
            check(&gt, &cnn(&shape, depth, RELU), point, &x1, &x2, 1e-12);
            check(&gt, &cnn(&shape, depth, RELU), g, &x1, &x2, 1e-12);
        }
    }
}

#[test]
fn a_local_lifting_filter_on_a_signal_is_not_the_mlp_average() {
    // Result A needs a lift whose filter spans the input: with a 3-tap window on C7 the
    // G-CNN kernel differs from the orbit-averaged MLP by O(1).
    let shape = [7, 1];
    let (x1, x2) = (batch(&shape, 3, 60), batch(&shape, 3, 61));
    let g = Network::from_toml_str(&gcnn(&shape, "C7", "[3]", 2, RELU, None), "g").unwrap();
    let plain = Network::from_toml_str(&mlp(&shape, 2, RELU), "m").unwrap();
    let kg = g.kernel(&x1, Some(&x2)).unwrap();
    let avg = orbit_kernel(&plain, &x1, Some(&x2), GroupSpec::Cyclic(7), 1e-12).unwrap();
    assert!(rel_diff(&kg.ntk().unwrap(), &avg.ntk) > 1e-2);
}
