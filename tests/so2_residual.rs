//! Residual and parallel blocks on SO(2) features (MATH.md §5b, §7): inside an SO(2) G-CNN's
//! angular section a block acts pointwise in the relative angle, its branches combined at each
//! angle. Checked against
//!
//! * Result A: with a full lifting, the pooled kernel is the SO(2)-orbit average of the MLP with
//!   the same blocks (group convolutions become dense layers), computed independently by
//!   [`orbit_kernel`] on the plain network;
//! * the interpreted derivation (its own angular grid, on rotated inputs);
//! * invariance under rotations of either input;
//! * finite networks (sampled as C_N G-CNNs on the same circle) in `monte_carlo_so2.rs`.

use crate::common;

use common::{assert_close, max_abs, normal_batch as batch};
use eqntk::action::Domain;
use eqntk::group::GroupSpec;
use eqntk::orbit::{orbit_kernel, rotate_batch};
use eqntk::symbolic::{derive_network, evaluate_network};
use eqntk::Network;

/// A block of the fixtures, written once with `{conv}` for the layer that is a group
/// convolution in the G-CNN and a dense layer in the MLP.
struct Block {
    /// The middle of the network file: residual/parallel layers (and anything between them).
    body: &'static str,
    what: &'static str,
}

const BLOCKS: [Block; 4] = [
    Block {
        body: "[[layers]]\nkind = 'residual'\nblock = [{ kind = 'relu' }, { kind = '{conv}', \
               w_std = 1.3, b_std = 0.1 }, { kind = 'relu' }, { kind = '{conv}', w_std = 1.2, \
               b_std = 0.2 }]\n",
        what: "identity shortcut",
    },
    Block {
        body: "[[layers]]\nkind = 'residual'\nblock = [{ kind = 'erf' }, { kind = '{conv}', \
               w_std = 1.3, b_std = 0.1 }, { kind = 'layer_norm' }, { kind = 'relu' }, \
               { kind = '{conv}', w_std = 1.2 }]\nshortcut = [{ kind = '{conv}', w_std = 0.8, \
               b_std = 0.3 }]\n",
        what: "layer_norm in the block, projection shortcut",
    },
    Block {
        body: "[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'parallel'\ncombine = 'prod'\n\
               branches = [[{ kind = '{conv}', w_std = 1.1, b_std = 0.2 }, { kind = 'erf' }], \
               [{ kind = '{conv}', w_std = 0.9, b_std = 0.4 }]]\n",
        what: "product of branches",
    },
    Block {
        body: "[[layers]]\nkind = 'residual'\nblock = [{ kind = 'relu' }, { kind = 'residual', \
               block = [{ kind = 'relu' }, { kind = '{conv}', w_std = 1.2, b_std = 0.1 }] }, \
               { kind = 'layer_norm' }, { kind = '{conv}', w_std = 1.1 }]\n\
               [[layers]]\nkind = 'layer_norm'\n",
        what: "nested residual, layer_norm between blocks",
    },
];

const LIFT: &str = "w_std = 1.4\nb_std = 0.2\n";
const READOUT: &str = "[[layers]]\nkind = 'relu'\n";

/// Lift to SO(2) (full filter), the block with group convolutions, ReLU, group pooling, dense.
fn gcnn(shape: &[usize], domain: Domain, block: &Block) -> String {
    format!(
        "[input]\nshape = {shape:?}\ndomain = '{domain}'\n[[layers]]\nkind = 'lift'\n\
         group = 'SO2'\nfilter = 'full'\n{LIFT}{}{READOUT}[[layers]]\nkind = 'group_pool'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.1\n",
        block.body.replace("{conv}", "group_conv")
    )
}

/// The plain counterpart: flatten, dense (the lift), the block with dense layers, ReLU, dense.
fn mlp(shape: &[usize], domain: Domain, block: &Block) -> String {
    format!(
        "[input]\nshape = {shape:?}\ndomain = '{domain}'\n[[layers]]\nkind = 'flatten'\n\
         [[layers]]\nkind = 'dense'\n{LIFT}{}{READOUT}[[layers]]\nkind = 'dense'\nw_std = 1.1\n",
        block.body.replace("{conv}", "dense")
    )
}

fn net(toml: &str) -> Network {
    Network::from_toml_str(toml, "net.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

/// Planar point sets and periodic signals (one and two channels).
const INPUTS: [(&[usize], Domain); 3] = [
    (&[4, 2], Domain::Points),
    (&[5, 1], Domain::Signal),
    (&[7, 2], Domain::Signal),
];

#[test]
fn result_a_for_residual_so2_gcnns() {
    for (s, &(shape, domain)) in INPUTS.iter().enumerate() {
        let (x1, x2) = (batch(shape, 3, s as u64), batch(shape, 2, 20 + s as u64));
        for block in &BLOCKS {
            let g = net(&gcnn(shape, domain, block));
            let plain = net(&mlp(shape, domain, block));
            let what = format!("{shape:?} {domain}, {}", block.what);
            let kg = g.kernel(&x1, Some(&x2)).unwrap();
            let so2 = GroupSpec::So2 { band_limit: None };
            let avg = orbit_kernel(&plain, &x1, Some(&x2), so2, 1e-13).unwrap();
            assert_close(
                &kg.nngp().unwrap(),
                &avg.nngp,
                1e-12,
                &format!("{what} nngp"),
            );
            assert_close(&kg.ntk().unwrap(), &avg.ntk, 1e-12, &format!("{what} ntk"));
            // The blocks matter: without them the kernels differ.
            let bare = net(&gcnn(shape, domain, &Block { body: "", what: "" }));
            let kb = bare.kernel(&x1, Some(&x2)).unwrap().ntk().unwrap();
            let d = max_abs(&(&kb - &kg.ntk().unwrap()));
            assert!(d > 1e-3 * max_abs(&kb), "{what}: the block changed nothing");
        }
    }
}

#[test]
fn residual_so2_gcnns_match_their_interpreted_derivation() {
    for (s, &(shape, domain)) in INPUTS.iter().enumerate() {
        let (x1, x2) = (
            batch(shape, 2, 40 + s as u64),
            batch(shape, 2, 50 + s as u64),
        );
        for block in &BLOCKS {
            let g = net(&gcnn(shape, domain, block));
            let what = format!("{shape:?} {domain}, {}", block.what);
            let d = derive_network(&g).unwrap();
            for x2 in [Some(&x2), None] {
                let (k, t) = evaluate_network(&g, &d, &x1, x2).unwrap();
                let fast = g.kernel(&x1, x2).unwrap();
                assert_close(&k, &fast.nngp().unwrap(), 1e-10, &format!("{what} nngp"));
                assert_close(&t, &fast.ntk().unwrap(), 1e-10, &format!("{what} ntk"));
            }
        }
    }
}

#[test]
fn residual_so2_gcnns_are_rotation_invariant() {
    for (s, &(shape, domain)) in INPUTS.iter().enumerate() {
        let (x1, x2) = (
            batch(shape, 2, 60 + s as u64),
            batch(shape, 3, 70 + s as u64),
        );
        let block = &BLOCKS[1];
        let g = net(&gcnn(shape, domain, block));
        let k = g.kernel(&x1, Some(&x2)).unwrap();
        for angle in [0.7, 2.9] {
            let r1 = rotate_batch(&x1, domain, angle).unwrap();
            let r2 = rotate_batch(&x2, domain, -1.3 * angle).unwrap();
            let kr = g.kernel(&r1, Some(&r2)).unwrap();
            let what = format!("{shape:?} {domain} rotated by {angle}");
            assert_close(&kr.nngp().unwrap(), &k.nngp().unwrap(), 1e-10, &what);
            assert_close(&kr.ntk().unwrap(), &k.ntk().unwrap(), 1e-10, &what);
        }
    }
}

#[test]
fn pooling_inside_a_branch_on_so2_features_is_a_one_line_error() {
    let toml = "[input]\nshape = [3, 2]\ndomain = 'points'\n[[layers]]\nkind = 'lift'\n\
                group = 'SO2'\nfilter = 'full'\n[[layers]]\nkind = 'residual'\n\
                block = [{ kind = 'relu' }, { kind = 'group_pool' }]\n";
    let e = Network::from_toml_str(toml, "net.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("block[1] (group_pool)")
            && e.contains("pooled after the block")
            && !e.contains('\n'),
        "{e}"
    );
}
