//! The reduced (right-invariant) path of group layers against the general tap-table path.
//!
//! `Network::kernel` runs a `lift → … → group_pool` run on blocks `R[(g,p),p'] = K[(g,p),(e,p')]`
//! when the lift's filter is preserved by the point group and every group convolution's support
//! is closed under conjugation. The reference here folds every layer's own kernel map
//! (`Layer::kernel`, full (|G|P)² blocks, tap tables) over the input kernel.

use eqntk::group::{Cyclic, Dihedral, FiniteGroup};
use eqntk::{Batch, Kernel, Network};
use faer::Mat;

/// Deterministic inputs in [−1, 1] from a small LCG (independent of the crate's RNG).
fn batch(shape: &[usize], n: usize, seed: u64) -> Batch {
    let m: usize = shape.iter().product();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
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

/// The general path: every layer's own kernel map, one after the other.
fn general(net: &Network, x1: &Batch, x2: Option<&Batch>) -> Kernel {
    let mut k = net.input_kernel(x1, x2).unwrap();
    for (l, layer) in net.layers().iter().enumerate() {
        k = layer.kernel(k, net.shape_before(l)).unwrap();
    }
    k.complete()
}

fn rel_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let (mut d, mut s) = (0.0f64, 0.0f64);
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            d = d.max((a[(i, j)] - b[(i, j)]).abs());
            s = s.max(b[(i, j)].abs());
        }
    }
    d / s
}

/// The reduced path is taken and equals the general path (NNGP, NTK and the self-variances)
/// to ≤ 1e-13 relative, for x2 = x1 and x2 ≠ x1.
fn check_reduced(toml: &str, shape: &[usize]) {
    let net = Network::from_toml_str(toml, "net.toml").unwrap();
    assert!(net.uses_reduced_group_run(first_lift(&net)), "{toml}");
    compare(&net, shape, toml);
}

fn first_lift(net: &Network) -> usize {
    net.layers()
        .iter()
        .position(|l| l.kind() == "lift")
        .unwrap()
}

fn compare(net: &Network, shape: &[usize], what: &str) {
    let (x1, x2) = (batch(shape, 3, 1), batch(shape, 2, 2));
    for x2 in [None, Some(&x2)] {
        let fast = net.kernel(&x1, x2).unwrap();
        let slow = general(net, &x1, x2);
        let dn = rel_diff(&fast.nngp().unwrap(), &slow.nngp().unwrap());
        let dt = rel_diff(&fast.ntk().unwrap(), &slow.ntk().unwrap());
        let v = |k: &Kernel| Mat::from_fn(1, k.n1(), |_, i| k.cov1().unwrap()[i]);
        let dv = rel_diff(&v(&fast), &v(&slow));
        assert!(
            dn <= 1e-13 && dt <= 1e-13 && dv <= 1e-13,
            "x2 {}: nngp {dn:.2e} ntk {dt:.2e} cov1 {dv:.2e}\n{what}",
            if x2.is_some() { "≠ x1" } else { "= x1" }
        );
    }
}

const W: &str = "w_std = 1.3\nb_std = 0.2\n";

/// `lift → act → (group_conv → act)^(depth−1) → group_pool → dense`.
fn gcnn(shape: &[usize], lift: &str, conv: &str, depth: usize, act: &str) -> String {
    let mut s = format!(
        "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\n{lift}\n{W}[[layers]]\nkind = '{act}'\n"
    );
    for _ in 1..depth {
        s += &format!("[[layers]]\nkind = 'group_conv'\n{conv}\n{W}[[layers]]\nkind = '{act}'\n");
    }
    s + &format!("[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{W}")
}

#[test]
fn p4_and_p4m_circular_and_same_depths_one_to_three() {
    let shape = [4, 4, 2];
    for group in ["p4", "p4m"] {
        for padding in ["circular", "same"] {
            for act in ["relu", "erf"] {
                for depth in 1..=3 {
                    let lift = format!("group = '{group}'\nfilter = [3, 3]\npadding = '{padding}'");
                    let conv = format!("filter = [3, 3]\npadding = '{padding}'");
                    check_reduced(&gcnn(&shape, &lift, &conv, depth, act), &shape);
                }
            }
        }
    }
}

#[test]
fn p4_on_odd_sides_wider_filters_and_mixed_padding() {
    let shape = [5, 5, 1];
    for (group, lf, cf) in [
        ("p4m", "[5, 5]", "[3, 3]"),
        ("p4", "[1, 1]", "[5, 5]"),
        ("p4m", "[3, 3]", "[1, 1]"),
    ] {
        let lift = format!("group = '{group}'\nfilter = {lf}\npadding = 'same'");
        let conv = format!("filter = {cf}\npadding = 'circular'");
        check_reduced(&gcnn(&shape, &lift, &conv, 2, "relu"), &shape);
    }
}

#[test]
fn p4_full_lifting_filter() {
    for h in [3, 4] {
        let shape = [h, h, 1];
        for group in ["p4", "p4m"] {
            let lift = format!("group = '{group}'\nfilter = 'full'\npadding = 'circular'");
            let conv = "filter = [3, 3]\npadding = 'circular'";
            check_reduced(&gcnn(&shape, &lift, conv, 2, "erf"), &shape);
        }
    }
}

#[test]
fn groups_without_translations_full_lifts() {
    for n in [2, 3, 5, 8] {
        for (g, depth) in [(format!("C{n}"), 2), (format!("D{n}"), 3)] {
            let shape = [n, 2];
            let lift = format!("group = '{g}'\nfilter = 'full'");
            for act in ["relu", "erf"] {
                check_reduced(&gcnn(&shape, &lift, "", depth, act), &shape);
            }
        }
    }
    for h in [3, 4] {
        for g in ["C4", "D4"] {
            let shape = [h, h, 1];
            let lift = format!("group = '{g}'\nfilter = 'full'");
            check_reduced(&gcnn(&shape, &lift, "", 2, "relu"), &shape);
        }
    }
}

#[test]
fn a_window_the_point_group_preserves_is_reduced() {
    // A 3×3 window about the centre pixel of a 5×5 image is mapped to itself by C4 and D4.
    let shape = [5, 5, 1];
    for g in ["C4", "D4"] {
        let lift = format!("group = '{g}'\nfilter = [3, 3]");
        check_reduced(&gcnn(&shape, &lift, "", 2, "relu"), &shape);
    }
}

#[test]
fn conv_before_the_lift_dense_inside_and_standard_parameterization() {
    // The lift then receives a non-zero NTK; a dense layer acts on every site.
    let shape = [4, 4, 2];
    let toml = format!(
        "[input]\nshape = {shape:?}\n\
         [[layers]]\nkind = 'conv'\nfilter = [3, 3]\npadding = 'circular'\nwidth = 3\n{W}\
         [[layers]]\nkind = 'erf'\n\
         [[layers]]\nkind = 'lift'\ngroup = 'p4m'\nfilter = [3, 3]\npadding = 'same'\nwidth = 4\nparameterization = 'standard'\n{W}\
         [[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'dense'\nwidth = 2\nparameterization = 'standard'\n{W}\
         [[layers]]\nkind = 'leaky_relu'\nalpha = 0.3\n\
         [[layers]]\nkind = 'group_conv'\nfilter = [3, 3]\npadding = 'circular'\nsupport = [0, 2, 4, 6]\n{W}\
         [[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'group_pool'\n\
         [[layers]]\nkind = 'dense'\n{W}"
    );
    check_reduced(&toml, &shape);
}

#[test]
fn any_group_conv_support_is_reduced() {
    // Right-invariance makes every h of the support give the same term, so even a support that
    // is not a union of conjugacy classes ({e, s} in D4) keeps the kernel right-invariant.
    let shape = [4, 4, 1];
    for support in ["[0, 2]", "[0, 4]", "[1]", "[0, 2, 4, 6]"] {
        let lift = "group = 'p4m'\nfilter = [3, 3]\npadding = 'circular'";
        let conv = format!("filter = [3, 3]\npadding = 'same'\nsupport = {support}");
        check_reduced(&gcnn(&shape, lift, &conv, 2, "relu"), &shape);
    }
    let shape = [5, 1];
    for support in ["[0, 5]", "[3]"] {
        let conv = format!("support = {support}");
        check_reduced(
            &gcnn(&shape, "group = 'D5'\nfilter = 'full'", &conv, 3, "erf"),
            &shape,
        );
    }
}

/// Where the precondition fails the general path runs (and still agrees with itself layer by
/// layer; Result A for these cases is in `tests/result_a.rs`).
#[test]
fn failing_preconditions_use_the_general_path() {
    let not_reduced = |toml: &str, shape: &[usize]| {
        let net = Network::from_toml_str(toml, "net.toml").unwrap();
        assert!(!net.uses_reduced_group_run(first_lift(&net)), "{toml}");
        compare(&net, shape, toml);
    };
    // A 3-tap window on a 7-sample signal is not mapped to itself by C7.
    let shape = [7, 1];
    not_reduced(
        &gcnn(&shape, "group = 'C7'\nfilter = [3]", "", 2, "relu"),
        &shape,
    );
    let shape = [4, 4, 1];
    let lift = "group = 'p4m'\nfilter = [3, 3]\npadding = 'circular'";
    // A flatten readout keeps only site diagonals: nothing to reduce.
    let flat = format!(
        "[input]\nshape = [4, 4, 1]\n[[layers]]\nkind = 'lift'\n{lift}\n{W}[[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'flatten'\n[[layers]]\nkind = 'dense'\n{W}"
    );
    not_reduced(&flat, &shape);
}

#[test]
fn unpooled_output_uses_the_general_path() {
    let toml = format!(
        "[input]\nshape = [4, 4, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'p4'\nfilter = [3, 3]\n{W}\
         [[layers]]\nkind = 'relu'"
    );
    let net = Network::from_toml_str(&toml, "net.toml").unwrap();
    assert!(!net.uses_reduced_group_run(0));
    let x = batch(&[4, 4, 1], 2, 3);
    let (a, b) = (net.kernel(&x, None).unwrap(), general(&net, &x, None));
    for i in 0..2 {
        for j in 0..2 {
            assert_eq!(a.nngp_block(i, j), b.nngp_block(i, j));
        }
    }
}

/// `max |K[(g k, p), (g' k, p')] − K[(g, p), (g', p')]|` over one NTK block of the general path.
fn right_invariance_defect(net: &Network, x: &Batch, mul: impl Fn(usize, usize) -> usize) -> f64 {
    let shape = net.shape_before(net.layers().len());
    let (p, order) = (shape.positions(), shape.sites() / shape.positions());
    let s = order * p;
    let blk = general(net, x, None).ntk_block(0, 1);
    let mut worst = 0.0f64;
    for g in 0..order {
        for g2 in 0..order {
            for k in 0..order {
                for q in 0..p {
                    for q2 in 0..p {
                        let a = blk[(g * p + q) * s + g2 * p + q2];
                        let b = blk[(mul(g, k) * p + q) * s + mul(g2, k) * p + q2];
                        worst = worst.max((a - b).abs());
                    }
                }
            }
        }
    }
    worst
}

/// The property the reduced path rests on, checked on the general path's full blocks: right
/// multiplication of both group indices leaves the kernel unchanged after a lift whose filter
/// the point group preserves (whatever the group convolution's support) — and not after a lift
/// whose filter it does not preserve (a full-support group convolution would restore it: its
/// average over all h is itself an average over right multiplications).
#[test]
fn full_blocks_are_right_invariant_exactly_when_expected() {
    let d4 = Dihedral::new(4).unwrap();
    let x = batch(&[4, 4, 1], 2, 9);
    for support in ["[0, 1, 2, 3, 4, 5, 6, 7]", "[0, 4]"] {
        let toml = format!(
            "[input]\nshape = [4, 4, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'p4m'\nfilter = [3, 3]\npadding = 'same'\n{W}\
             [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_conv'\nfilter = [3, 3]\nsupport = {support}\n{W}\
             [[layers]]\nkind = 'erf'"
        );
        let net = Network::from_toml_str(&toml, "net.toml").unwrap();
        let worst = right_invariance_defect(&net, &x, |a, b| d4.mul(a, b));
        assert!(worst <= 1e-13, "support {support}: {worst:.2e}");
    }
    let c7 = Cyclic::new(7).unwrap();
    let toml = format!(
        "[input]\nshape = [7, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'C7'\nfilter = [3]\n{W}\
         [[layers]]\nkind = 'relu'"
    );
    let net = Network::from_toml_str(&toml, "net.toml").unwrap();
    let worst = right_invariance_defect(&net, &batch(&[7, 1], 2, 10), |a, b| c7.mul(a, b));
    assert!(worst > 1e-3, "C7 with a 3-tap window: {worst:.2e}");
}
