//! Equivariance of the kernel maps of the group layers: transforming an input permutes the
//! (unpooled) kernel's group/site indices by the regular representation, NNGP and NTK; pooled
//! kernels are invariant in each argument separately.
//!
//! # The convention, derived
//!
//! Inputs transform by `(u·x)[s] = x[u⁻¹·s]` (MATH.md §5). A lifting unit computes
//! `f_g(x) = Σ_δ ψ(δ) x[g·δ]` (groups without translations; `g·δ` the action on the filter's
//! sites), so
//!
//! ```text
//! f_g(u·x) = Σ_δ ψ(δ) x[u⁻¹·(g·δ)] = Σ_δ ψ(δ) x[(u⁻¹g)·δ] = f_{u⁻¹g}(x).
//! ```
//!
//! A group convolution `f'_g = Σ_h ψ(h) f_{gh}` keeps this: `f'_g(u·x) = Σ_h ψ(h) f_{u⁻¹gh}(x) =
//! f'_{u⁻¹g}(x)`. Kernels are covariances of such units, hence
//!
//! ```text
//! K[g, g'](u·x, x') = K[u⁻¹g, g'](x, x'),     K[g, g'](x, u·x') = K[g, u⁻¹g'](x, x')
//! ```
//!
//! and likewise Θ. For p4/p4m on the torus, a unit `(g, p)` computes `Σ_δ ψ(δ) x[p + A_g δ]`; with
//! `u = (t, a)` acting by `u·p = t + A_a p`, `u⁻¹·s = A_a⁻¹(s − t)` and
//! `A_a⁻¹(p + A_g δ − t) = A_a⁻¹(p − t) + A_{a⁻¹g} δ`, so `f_{(g,p)}(u·x) = f_{(a⁻¹g, A_a⁻¹(p−t))}(x)`:
//! the feature index `(g, p)`, read as the group element `(p, g)` (translation p, then g), is
//! multiplied on the left by `u⁻¹` — the left regular representation of p4 on itself. In the
//! crate's numbering the lifted site `g·H² + p` *is* the index of the element `(p, g)` of
//! [`RotoTranslation`], so the permutation is `s ↦ u⁻¹ s` with the group's own product.
//! With zero (`same`) padding translations are no symmetry, but rotations of the image about its
//! centre c still are (`f_{(g,p)}(u·x) = f_{(a⁻¹g, c + A_a⁻¹(p − c))}(x)`): the pooled kernel is
//! C4/D4-invariant.

use crate::common;

use common::normal_batch as batch;
use eqntk::action::{site_action, Domain, SiteAction};
use eqntk::group::{FiniteGroup, GroupSpec, RotoTranslation};
use eqntk::{Batch, Network};

const W: &str = "w_std = 1.4\nb_std = 0.3\n";

/// lift [→ relu → group_conv] with no pooling, or the same followed by relu → group_pool → dense.
fn net(shape: &[usize], lift: &str, gconv: Option<&str>, pooled: bool) -> Network {
    let mut s = format!("[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\n{lift}\n{W}");
    if let Some(g) = gconv {
        s += &format!("[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_conv'\n{g}\n{W}");
    }
    if pooled {
        s += &format!(
            "[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_pool'\n\
             [[layers]]\nkind = 'dense'\n{W}"
        );
    }
    Network::from_toml_str(&s, "equivariance.toml").unwrap()
}

fn one(x: &Batch, i: usize) -> Batch {
    x.slice(i, i + 1).unwrap()
}

/// The NNGP and NTK blocks (S×S, row-major) of one example pair.
fn blocks(net: &Network, a: &Batch, b: &Batch) -> (Vec<f64>, Vec<f64>) {
    let k = net.kernel(a, Some(b)).unwrap();
    (k.nngp_block(0, 0), k.ntk_block(0, 0))
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-12 * scale
}

/// For every u: `K[s, s'](u·x, x') = K[π(s), s'](x, x')` and `K[s, s'](x, u·x') = K[s, π(s')](x,
/// x')` with `π = perm(u)` (NNGP and NTK).
fn check_permutation(
    net: &Network,
    action: &dyn SiteAction,
    shape: &[usize],
    perm: impl Fn(usize, usize) -> usize,
    what: &str,
) {
    let x = batch(shape, 2, 1);
    let (x1, x2) = (one(&x, 0), one(&x, 1));
    let (k, t) = blocks(net, &x1, &x2);
    let s = (k.len() as f64).sqrt().round() as usize;
    assert_eq!(s * s, k.len());
    let scale = k.iter().chain(&t).fold(0.0f64, |m, v| m.max(v.abs()));
    for u in action.group().elements() {
        let ux1 = action.act_on_batch(u, &x1).unwrap();
        let ux2 = action.act_on_batch(u, &x2).unwrap();
        let (k1, t1) = blocks(net, &ux1, &x2);
        let (k2, t2) = blocks(net, &x1, &ux2);
        for a in 0..s {
            for b in 0..s {
                let (pa, pb) = (perm(u, a), perm(u, b));
                for (name, moved, base) in [
                    ("K(u·x, x')", k1[a * s + b], k[pa * s + b]),
                    ("Θ(u·x, x')", t1[a * s + b], t[pa * s + b]),
                    ("K(x, u·x')", k2[a * s + b], k[a * s + pb]),
                    ("Θ(x, u·x')", t2[a * s + b], t[a * s + pb]),
                ] {
                    assert!(
                        close(moved, base, scale),
                        "{what}: {name}[{a},{b}] = {moved} but the permuted entry is {base} \
                         (u = {})",
                        action.group().element_name(u)
                    );
                }
            }
        }
        // Not trivially true: the kernel really moves (u ≠ e changes some entry).
        if u != action.group().identity() {
            assert!(
                (0..s * s).any(|e| !close(k1[e], k[e], scale)),
                "{what}: u = {} leaves the kernel unchanged; the test would not see a wrong \
                 permutation",
                action.group().element_name(u)
            );
        }
    }
}

/// `s ↦ u⁻¹ s` in the group indexing the lifted features (no translations).
fn left_regular(group: &dyn FiniteGroup) -> impl Fn(usize, usize) -> usize + '_ {
    move |u, g| group.mul(group.inv(u), g)
}

#[test]
fn cyclic_and_dihedral_lifts_permute_by_the_regular_representation() {
    for (group, shape, filter) in [
        ("C5", vec![5, 2], "'full'"),
        ("D4", vec![4, 1], "'full'"),
        ("D3", vec![6, 1], "'full'"),
        ("C7", vec![7, 1], "[3]"),
        ("D5", vec![5, 1], "[3]"),
        ("C4", vec![3, 3, 1], "'full'"),
        ("D4", vec![4, 4, 1], "'full'"),
        ("D4", vec![5, 5, 1], "[3, 3]"),
    ] {
        let spec = GroupSpec::parse(group).unwrap();
        let action = site_action(spec, Domain::default_for(&shape).unwrap(), &shape).unwrap();
        let lift = format!("group = '{group}'\nfilter = {filter}");
        for gconv in [None, Some(""), Some("support = [0, 1]")] {
            let n = net(&shape, &lift, gconv, false);
            let what = format!("{group} {shape:?} {filter} {gconv:?}");
            check_permutation(&n, &*action, &shape, left_regular(action.group()), &what);
        }
    }
}

#[test]
fn p4_and_p4m_lifts_permute_by_the_regular_representation() {
    for (group, h) in [("p4", 4), ("p4m", 3)] {
        let shape = [h, h, 2];
        let spec = GroupSpec::parse(group).unwrap();
        let action = site_action(spec, Domain::default_for(&shape).unwrap(), &shape).unwrap();
        let rt = match group {
            "p4" => RotoTranslation::p4(h).unwrap(),
            _ => RotoTranslation::p4m(h).unwrap(),
        };
        let perm = |u: usize, s: usize| rt.mul(rt.inv(u), s);
        let lift = format!("group = '{group}'\nfilter = [3, 3]\npadding = 'circular'");
        for gconv in [
            None,
            Some("filter = [3, 3]\npadding = 'circular'"),
            Some("filter = [3, 3]\npadding = 'circular'\nsupport = [0, 3]"),
        ] {
            let n = net(&shape, &lift, gconv, false);
            let what = format!("{group} {gconv:?}");
            check_permutation(&n, &*action, &shape, perm, &what);
        }
    }
}

/// Pooled kernels: `K(u·x, x') = K(x, u·x') = K(x, x')` for every u, NNGP and NTK.
fn check_invariant(net: &Network, action: &dyn SiteAction, shape: &[usize], what: &str) {
    let x = batch(shape, 2, 3);
    let y = batch(shape, 2, 4);
    let k = net.kernel(&x, Some(&y)).unwrap();
    let (k0, t0) = (k.nngp().unwrap(), k.ntk().unwrap());
    let scale = (0..2)
        .flat_map(|i| (0..2).map(move |j| (i, j)))
        .fold(0.0f64, |m, (i, j)| m.max(t0[(i, j)].abs()));
    for u in action.group().elements() {
        let ux = action.act_on_batch(u, &x).unwrap();
        let uy = action.act_on_batch(u, &y).unwrap();
        for (a, b, arg) in [(&ux, &y, "first"), (&x, &uy, "second")] {
            let k = net.kernel(a, Some(b)).unwrap();
            let (k1, t1) = (k.nngp().unwrap(), k.ntk().unwrap());
            for i in 0..2 {
                for j in 0..2 {
                    assert!(
                        close(k1[(i, j)], k0[(i, j)], scale)
                            && close(t1[(i, j)], t0[(i, j)], scale),
                        "{what}: not invariant under {} in the {arg} argument at [{i},{j}]",
                        action.group().element_name(u)
                    );
                }
            }
        }
    }
}

#[test]
fn pooled_kernels_are_invariant_in_each_argument() {
    for (group, shape, filter) in [
        ("C5", vec![5, 2], "'full'"),
        ("D6", vec![6, 1], "'full'"),
        ("D7", vec![7, 1], "[3]"),
        ("C4", vec![4, 4, 1], "'full'"),
        ("D4", vec![3, 3, 2], "'full'"),
    ] {
        let spec = GroupSpec::parse(group).unwrap();
        let action = site_action(spec, Domain::default_for(&shape).unwrap(), &shape).unwrap();
        let lift = format!("group = '{group}'\nfilter = {filter}");
        let n = net(&shape, &lift, Some(""), true);
        check_invariant(&n, &*action, &shape, &format!("{group} {shape:?}"));
    }
    // p4/p4m on the torus: every rotation (flip) and translation.
    for (group, h) in [("p4", 4), ("p4m", 3)] {
        let shape = [h, h, 1];
        let spec = GroupSpec::parse(group).unwrap();
        let action = site_action(spec, Domain::default_for(&shape).unwrap(), &shape).unwrap();
        let lift = format!("group = '{group}'\nfilter = [3, 3]");
        let n = net(&shape, &lift, Some("filter = [3, 3]"), true);
        check_invariant(&n, &*action, &shape, group);
    }
}

/// With zero padding, rotations (and flips) of the image about its centre remain symmetries.
#[test]
fn same_padding_pooled_kernels_are_invariant_under_rotations_about_the_centre() {
    for (group, point, h) in [("p4", "C4", 4), ("p4m", "D4", 5)] {
        let shape = [h, h, 1];
        let action = site_action(
            GroupSpec::parse(point).unwrap(),
            Domain::default_for(&shape).unwrap(),
            &shape,
        )
        .unwrap();
        let lift = format!("group = '{group}'\nfilter = [3, 3]\npadding = 'same'");
        let n = net(
            &shape,
            &lift,
            Some("filter = [3, 3]\npadding = 'same'"),
            true,
        );
        check_invariant(&n, &*action, &shape, &format!("{group} same"));
        // …but translations are not: the kernel moves under a circular shift.
        let torus = site_action(
            GroupSpec::parse(group).unwrap(),
            Domain::default_for(&shape).unwrap(),
            &shape,
        )
        .unwrap();
        let x = batch(&shape, 1, 5);
        let shifted = torus.act_on_batch(1, &x).unwrap(); // translation by (0, 1)
        let a = n.kernel(&x, None).unwrap().nngp().unwrap()[(0, 0)];
        let b = n.kernel(&x, Some(&shifted)).unwrap().nngp().unwrap()[(0, 0)];
        let c = n.kernel(&shifted, None).unwrap().nngp().unwrap()[(0, 0)];
        assert!(
            (a - b).abs() > 1e-6 || (a - c).abs() > 1e-6,
            "{group} same: {a} {b} {c}"
        );
    }
}
