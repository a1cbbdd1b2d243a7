//! Residual blocks and parallel branches (`residual`, `parallel`): neural-tangents' kernels
//! (`tests/reference/residual.py`, numbers in `residual.json`) against the fast kernel and the
//! interpreted derivation; hand cases and composition; the fused and the unfused kernel path;
//! Monte Carlo with the error shrinking with width; PSD and x1 ↔ x2; residual G-CNNs
//! (invariance, Result A); one-line errors.

use crate::common;

use common::{assert_close, log_log_slope, max_abs, normal_batch, reference_cases};
use eqntk::action::action_for;
use eqntk::finite::{monte_carlo_outputs, Agreement, FiniteNetwork};
use eqntk::group::GroupSpec;
use eqntk::orbit::orbit_kernel;
use eqntk::symbolic::{derive_network, evaluate_network};
use eqntk::{Batch, Network};
use faer::Mat;

fn net(toml: &str) -> Network {
    Network::from_toml_str(toml, "net.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

fn kernels(n: &Network, x1: &Batch, x2: Option<&Batch>) -> (Mat<f64>, Mat<f64>) {
    let k = n.kernel(x1, x2).unwrap();
    (k.nngp().unwrap(), k.ntk().unwrap())
}

#[test]
fn kernels_equal_neural_tangents() {
    let cases = reference_cases("residual.json");
    assert_eq!(cases.len(), 12);
    for c in &cases {
        let name = &c.name;
        let (k, t) = kernels(&c.network, &c.x1, Some(&c.x2));
        assert_close(&k, &c.nngp, 1e-10, &format!("{name} nngp"));
        assert_close(&t, &c.ntk, 1e-10, &format!("{name} ntk"));
        let deriv = derive_network(&c.network).unwrap();
        let (dk, dt) = evaluate_network(&c.network, &deriv, &c.x1, Some(&c.x2)).unwrap();
        assert_close(&dk, &c.nngp, 1e-10, &format!("{name} derivation nngp"));
        assert_close(&dt, &c.ntk, 1e-10, &format!("{name} derivation ntk"));
    }
}

const HEAD: &str = "[input]\nshape = [4]\n[[layers]]\nkind = 'dense'\nw_std = 1.3\nb_std = 0.2\n";
const TAIL: &str =
    "[[layers]]\nkind = 'erf'\n[[layers]]\nkind = 'dense'\nw_std = 1.1\nb_std = 0.1\n";

/// A residual block whose block ends in a zero layer (σ_w = 0, no bias) is the identity, and
/// `parallel` with one branch is that branch: NNGP and NTK, x2 = x1 and x2 ≠ x1.
#[test]
fn zero_blocks_and_single_branches_are_what_they_contain() {
    let (x1, x2) = (normal_batch(&[4], 3, 1), normal_batch(&[4], 2, 2));
    let plain = net(&format!("{HEAD}[[layers]]\nkind = 'relu'\n{TAIL}"));
    let zero_block = net(&format!(
        "{HEAD}[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'residual'\n\
         block = [{{ kind = 'relu' }}, {{ kind = 'dense', w_std = 0.0 }}]\n{TAIL}"
    ));
    let inline = net(&format!(
        "{HEAD}[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'dense'\nw_std = 0.8\n{TAIL}"
    ));
    let one_branch = net(&format!(
        "{HEAD}[[layers]]\nkind = 'parallel'\nbranches = [[{{ kind = 'relu' }}, \
         {{ kind = 'dense', w_std = 0.8 }}]]\n{TAIL}"
    ));
    for x2 in [None, Some(&x2)] {
        let (a, b) = (kernels(&plain, &x1, x2), kernels(&zero_block, &x1, x2));
        assert_close(&b.0, &a.0, 1e-14, "zero block nngp");
        assert_close(&b.1, &a.1, 1e-14, "zero block ntk");
        let (a, b) = (kernels(&inline, &x1, x2), kernels(&one_branch, &x1, x2));
        assert_close(&b.0, &a.0, 1e-14, "one branch nngp");
        assert_close(&b.1, &a.1, 1e-14, "one branch ntk");
    }
}

/// The combination rules, checked against branches computed as separate networks: a residual
/// with an identity shortcut on the raw input adds the input kernel (and no tangent kernel),
/// and a product of branches has `K = K₁K₂`, `Θ = Θ₁K₂ + K₁Θ₂`; two identities give `2K`
/// (branches are treated as independent, as in neural-tangents).
#[test]
fn combinations_equal_the_branches_computed_apart() {
    let (x1, x2) = (normal_batch(&[3], 3, 5), normal_batch(&[3], 2, 6));
    let block = "{ kind = 'dense', w_std = 1.5, b_std = 0.2 }, { kind = 'relu' }, \
                 { kind = 'dense', w_std = 1.1 }";
    let residual = net(&format!(
        "[input]\nshape = [3]\n[[layers]]\nkind = 'residual'\nblock = [{block}]\n"
    ));
    let alone = net(&format!("layers = [{block}]\n[input]\nshape = [3]\n"));
    let input = net("[input]\nshape = [3]\n[[layers]]\nkind = 'identity'\n");
    let (a, b) = (erf_branch(), dense_branch());
    let product = net(&format!(
        "[input]\nshape = [3]\n[[layers]]\nkind = 'parallel'\ncombine = 'prod'\n\
         branches = [[{a}], [{b}]]\n"
    ));
    let (na, nb) = (
        net(&format!("layers = [{a}]\n[input]\nshape = [3]\n")),
        net(&format!("layers = [{b}]\n[input]\nshape = [3]\n")),
    );
    let twice = net(
        "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\nw_std = 1.2\n[[layers]]\n\
         kind = 'parallel'\nbranches = [[], []]\n",
    );
    let once = net("[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\nw_std = 1.2\n");
    for x2 in [None, Some(&x2)] {
        let (kr, tr) = kernels(&residual, &x1, x2);
        let (kb, tb) = kernels(&alone, &x1, x2);
        let (k0, t0) = kernels(&input, &x1, x2);
        assert_eq!(max_abs(&t0), 0.0);
        assert_close(&kr, &(&kb + &k0), 1e-14, "residual nngp = block + input");
        assert_close(&tr, &tb, 1e-14, "residual ntk = block ntk");
        let (kp, tp) = kernels(&product, &x1, x2);
        let ((ka, ta), (kb, tb)) = (kernels(&na, &x1, x2), kernels(&nb, &x1, x2));
        let hadamard = |a: &Mat<f64>, b: &Mat<f64>| {
            Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] * b[(i, j)])
        };
        assert_close(&kp, &hadamard(&ka, &kb), 1e-14, "product nngp");
        let t = &hadamard(&ta, &kb) + &hadamard(&ka, &tb);
        assert_close(&tp, &t, 1e-14, "product ntk");
        let ((k2, t2), (k1, t1)) = (kernels(&twice, &x1, x2), kernels(&once, &x1, x2));
        assert_close(&k2, &(&k1 * faer::Scale(2.0)), 1e-14, "two identities nngp");
        assert_close(&t2, &(&t1 * faer::Scale(2.0)), 1e-14, "two identities ntk");
    }
}

fn erf_branch() -> &'static str {
    "{ kind = 'dense', w_std = 1.4, b_std = 0.3 }, { kind = 'erf' }"
}

fn dense_branch() -> &'static str {
    "{ kind = 'dense', w_std = 0.9, b_std = 0.5 }"
}

/// A CNN with a strided residual stage (1×1 strided projection), a product of branches and a
/// nested residual, on a signal.
fn strided_cnn() -> Network {
    net("[input]\nshape = [8, 2]\n\
         [[layers]]\nkind = 'conv'\nfilter = [3]\npadding = 'circular'\nw_std = 1.4\nb_std = 0.2\n\
         [[layers]]\nkind = 'residual'\n\
         block = [{ kind = 'relu' }, { kind = 'conv', filter = [3], padding = 'same', \
           stride = [2], w_std = 1.3, b_std = 0.1 }, { kind = 'relu' }, \
           { kind = 'conv', filter = [3], padding = 'same', w_std = 1.2 }]\n\
         shortcut = [{ kind = 'conv', filter = [1], padding = 'same', stride = [2], w_std = 1.0 }]\n\
         [[layers]]\nkind = 'parallel'\ncombine = 'prod'\n\
         branches = [[{ kind = 'erf' }, { kind = 'conv', filter = [3], padding = 'circular', \
           w_std = 0.9 }], [{ kind = 'residual', block = [{ kind = 'relu' }, \
           { kind = 'conv', filter = [3], padding = 'circular', w_std = 1.1, b_std = 0.1 }] }]]\n\
         [[layers]]\nkind = 'global_avg_pool'\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.1\nb_std = 0.1\n")
}

#[test]
fn finite_networks_agree_and_the_error_shrinks_with_width() {
    let n = strided_cnn();
    let x = normal_batch(&[8, 2], 3, 21);
    let (k, t) = kernels(&n, &x, None);
    let mc = monte_carlo_outputs(&n, &x, None, 64, 8, 300, 4).unwrap();
    let verdict = Agreement::default().check(&mc, &k, &t, 64);
    assert!(verdict.is_ok(), "{verdict:?}");
    // The agreement rule can tell: a product rule without the K₁Θ₂ term is rejected.
    let wrong = &t * faer::Scale(0.8);
    assert!(Agreement::default().check(&mc, &k, &wrong, 64).is_err());
    // One network's empirical NTK approaches the analytic one like width^(−1/2).
    let mut points = vec![];
    for w in [16usize, 64, 256] {
        let mc = monte_carlo_outputs(&n, &x, None, w, 1, 40, 7).unwrap();
        points.push((w as f64, common::ntk_rms_error(&mc, &t)));
    }
    let slope = log_log_slope(&points);
    assert!((-1.2..=-0.3).contains(&slope), "slope {slope}: {points:?}");
}

/// The pairwise path (branches fused into one block map) and the whole-kernel path (taken when
/// a branch pools) give the same numbers: a unit-window avg_pool is the identity but sends the
/// block through the second path.
#[test]
fn the_fused_and_the_whole_kernel_paths_agree() {
    let block = |pool: &str| {
        format!(
            "[input]\nshape = [6, 2]\n[[layers]]\nkind = 'conv'\nfilter = [3]\n\
             padding = 'circular'\nw_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'residual'\n\
             block = [{{ kind = 'relu' }}, {pool}{{ kind = 'conv', filter = [3], \
             padding = 'circular', w_std = 1.3 }}]\nshortcut = [{{ kind = 'erf' }}]\n\
             [[layers]]\nkind = 'global_avg_pool'\n[[layers]]\nkind = 'dense'\n"
        )
    };
    let fused = net(&block(""));
    let whole = net(&block(
        "{ kind = 'avg_pool', window = [1], stride = [1], padding = 'valid' }, ",
    ));
    let (x1, x2) = (normal_batch(&[6, 2], 3, 8), normal_batch(&[6, 2], 2, 9));
    for x2 in [None, Some(&x2)] {
        let (a, b) = (kernels(&fused, &x1, x2), kernels(&whole, &x1, x2));
        assert_close(&a.0, &b.0, 1e-14, "nngp");
        assert_close(&a.1, &b.1, 1e-14, "ntk");
    }
}

#[test]
fn kernels_are_psd_and_symmetric_under_exchange() {
    let n = strided_cnn();
    let (x1, x2) = (normal_batch(&[8, 2], 5, 30), normal_batch(&[8, 2], 3, 31));
    let (k12, t12) = kernels(&n, &x1, Some(&x2));
    let (k21, t21) = kernels(&n, &x2, Some(&x1));
    assert_close(&k12, &k21.transpose().to_owned(), 1e-14, "nngp x1 ↔ x2");
    assert_close(&t12, &t21.transpose().to_owned(), 1e-14, "ntk x1 ↔ x2");
    for (m, what) in [kernels(&n, &x1, None).0, kernels(&n, &x1, None).1]
        .into_iter()
        .zip(["nngp", "ntk"])
    {
        let eig = m.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        let min = eig.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(min >= -1e-12 * max_abs(&m), "{what}: eigenvalue {min}");
    }
}

/// The derivation opens each block into its layers: for a linear residual network the output
/// kernels collapse to `K = σ₁²σ₂² K⁰ + σ₁² K⁰` and `Θ = 2σ₁²σ₂² K⁰ + σ₁² K⁰` (the block's
/// `K⁽²⁾`, `Θ⁽²⁾` plus the shortcut's `K⁽¹⁾`, `Θ⁽¹⁾`).
#[test]
fn the_derivation_numbers_the_layers_of_each_branch() {
    let n = net(
        "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\nw_std = 1.5\n[[layers]]\n\
         kind = 'residual'\nblock = [{ kind = 'dense', w_std = 0.7 }]\n",
    );
    let d = derive_network(&n).unwrap();
    assert_eq!(d.depth(), 3);
    let (k, t) = d.polynomial().expect("linear");
    let value = |e: &eqntk::symbolic::Expr| e.to_plain();
    assert_eq!(
        value(&k),
        "sigma_w1^2*K0(x,x') + sigma_w1^2*sigma_w2^2*K0(x,x')"
    );
    assert_eq!(
        value(&t),
        "2*sigma_w1^2*sigma_w2^2*K0(x,x') + sigma_w1^2*K0(x,x')"
    );
    let printed = d.render(eqntk::symbolic::Format::Plain);
    assert!(
        printed.contains("K3(x,x') = K1(x,x') + K2(x,x')"),
        "{printed}"
    );
}

const W: &str = "w_std = 1.4\nb_std = 0.2\n";

/// Result A with residual blocks: a G-CNN with a full lifting and residual blocks of group
/// convolutions (and layer_norm on group features) equals the orbit average of the MLP with the
/// same blocks; p4/p4m G-CNNs with local filters equal the rotation-averaged residual CNN. Each
/// G-CNN kernel is invariant under the group acting on x2.
#[test]
fn residual_gcnns_equal_the_orbit_averaged_residual_networks() {
    let res = |conv: &str| {
        format!(
            "[[layers]]\nkind = 'residual'\nblock = [{{ kind = 'layer_norm' }}, \
             {{ kind = 'relu' }}, {{ {conv}, w_std = 1.3, b_std = 0.1 }}]\n"
        )
    };
    let cases = [
        ("C5", vec![5, 2], "'full'", "kind = 'group_conv'", false),
        ("D4", vec![4, 2], "'full'", "kind = 'group_conv'", false),
        (
            "p4",
            vec![5, 5, 1],
            "[3, 3]",
            "kind = 'group_conv', filter = [3, 3]",
            true,
        ),
        (
            "p4m",
            vec![4, 4, 1],
            "[3, 3]",
            "kind = 'group_conv', filter = [3, 3]",
            true,
        ),
    ];
    for (group, shape, filter, gconv, local) in cases {
        let g = net(&format!(
            "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\ngroup = '{group}'\n\
             filter = {filter}\n{W}{}[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_pool'\n\
             [[layers]]\nkind = 'dense'\n{W}",
            res(gconv)
        ));
        let plain = if local {
            net(&format!(
                "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'conv'\nfilter = [3, 3]\n\
                 padding = 'circular'\n{W}{}[[layers]]\nkind = 'relu'\n\
                 [[layers]]\nkind = 'global_avg_pool'\n[[layers]]\nkind = 'dense'\n{W}",
                res("kind = 'conv', filter = [3, 3], padding = 'circular'")
            ))
        } else {
            net(&format!(
                "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'flatten'\n[[layers]]\n\
                 kind = 'dense'\n{W}{}[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'dense'\n{W}",
                res("kind = 'dense'")
            ))
        };
        let (x1, x2) = (normal_batch(&shape, 3, 40), normal_batch(&shape, 2, 41));
        let (kg, tg) = kernels(&g, &x1, Some(&x2));
        let orbit = match group {
            "p4" => "C4",
            "p4m" => "D4",
            other => other,
        };
        let avg = orbit_kernel(
            &plain,
            &x1,
            Some(&x2),
            GroupSpec::parse(orbit).unwrap(),
            1e-13,
        )
        .unwrap();
        let scale = max_abs(&avg.nngp).max(max_abs(&avg.ntk));
        let dn = max_abs(&(&kg - &avg.nngp)) / scale;
        let dt = max_abs(&(&tg - &avg.ntk)) / scale;
        assert!(
            dn <= 1e-12 && dt <= 1e-12,
            "{group}: nngp {dn:.2e}, ntk {dt:.2e}"
        );
        // invariance: the G-CNN kernel against every group image of x2 is the same
        let action = action_for(GroupSpec::parse(orbit).unwrap(), g.domain(), &shape).unwrap();
        for e in 0..action.order().unwrap() {
            let img = action.act_on_batch(e, &x2).unwrap();
            let (k, t) = kernels(&g, &x1, Some(&img));
            assert_close(&k, &kg, 1e-12, &format!("{group} element {e} nngp"));
            assert_close(&t, &tg, 1e-12, &format!("{group} element {e} ntk"));
        }
    }
}

/// The residual counterpart of the doubled-NTK check: finite residual networks are sampled with
/// the same layers, so the Monte-Carlo mean sees a projection shortcut's own parameters.
#[test]
fn a_projection_shortcut_adds_its_own_tangent_kernel() {
    let with = net(&format!(
        "{HEAD}[[layers]]\nkind = 'residual'\nblock = [{{ kind = 'relu' }}, \
         {{ kind = 'dense', w_std = 1.2 }}]\nshortcut = [{{ kind = 'dense', w_std = 0.9 }}]\n{TAIL}"
    ));
    let x = normal_batch(&[4], 3, 50);
    let (k, t) = kernels(&with, &x, None);
    let fin = FiniteNetwork::sample(&with, 32, 3).unwrap();
    // P = 4·32 + 32 (first) + 32·32 (block) + 32·32 (shortcut) + 32 (tail) + 1 bias … counted:
    let expected = 4 * 32 + 32 + 32 * 32 + 32 * 32 + 32 + 1;
    assert_eq!(fin.n_params(), expected);
    let mc = monte_carlo_outputs(&with, &x, None, 64, 8, 300, 12).unwrap();
    assert!(Agreement::default().check(&mc, &k, &t, 64).is_ok());
}

#[test]
fn impossible_branches_are_one_line_errors() {
    let bad = |toml: &str, needle: &str| {
        let e = Network::from_toml_str(toml, "net.toml")
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains(needle), "{e:?} lacks {needle:?}");
    };
    let sig = "[input]\nshape = [6, 2]\n[[layers]]\nkind = 'conv'\nfilter = [3]\nw_std = 1.0\n\
               padding = 'same'\n";
    bad(
        &format!(
            "{sig}[[layers]]\nkind = 'residual'\nblock = [{{ kind = 'conv', filter = [3], \
             padding = 'same', stride = [2] }}]\n"
        ),
        "block ends with features of grid [3] but shortcut with grid [6]",
    );
    bad(
        &format!(
            "{sig}[[layers]]\nkind = 'parallel'\nbranches = [[], [{{ kind = 'conv', \
             filter = [3], padding = 'valid' }}]]\n"
        ),
        "branches[0] ends with features of grid [6] but branches[1] with grid [4]",
    );
    bad(
        &format!(
            "{sig}[[layers]]\nkind = 'residual'\nblock = [{{ kind = 'conv', filtr = [3] }}]\n"
        ),
        "layers[1].block[0] (conv)",
    );
    bad(
        &format!("{sig}[[layers]]\nkind = 'residual'\nshortcut = []\n"),
        "missing key `block`",
    );
    bad(
        &format!("{sig}[[layers]]\nkind = 'residual'\nblock = []\n"),
        "`block` needs at least one layer",
    );
    bad(
        &format!("{sig}[[layers]]\nkind = 'parallel'\ncombine = 'max'\nbranches = [[]]\n"),
        "unknown combine \"max\"",
    );
    bad(
        &format!("{sig}[[layers]]\nkind = 'parallel'\nbranches = [{{ kind = 'relu' }}]\n"),
        "branches[0] must be a list of layers",
    );
    bad(
        &format!(
            "{sig}[[layers]]\nkind = 'residual'\nblock = [{{ kind = 'lift', group = 'C6', \
             filter = 'full' }}]\n"
        ),
        "block[0] (lift): a lifting acts on the network's input",
    );
    // A finite network needs the two paths to have the same channels.
    let n = net("[input]\nshape = [3]\n[[layers]]\nkind = 'residual'\n\
         block = [{ kind = 'dense' }, { kind = 'relu' }, { kind = 'dense' }]\n\
         [[layers]]\nkind = 'dense'\n");
    let e = FiniteNetwork::sample(&n, 8, 1).unwrap_err().to_string();
    assert!(
        e.contains("block ends with 8 channels")
            && e.contains("shortcut with 3")
            && !e.contains('\n'),
        "{e}"
    );
    // And the command line says the same in one line, with exit code 2.
    let file = common::cli::file(
        "bad_residual.toml",
        &format!("{sig}[[layers]]\nkind = 'residual'\nblock = []\n"),
    );
    let msg = common::cli::fails(&["derive", "--net", common::cli::s(&file)]);
    assert!(msg.contains("`block` needs at least one layer"), "{msg}");
}

/// Two branches without their own final affine layer are correlated: the entrywise rule (the
/// same as neural-tangents') is then not the kernel of finite networks. eqntk says so (a caveat,
/// printed as a warning by the command line), and Monte Carlo confirms it is needed; the
/// ordinary residual block (one such path, the identity) has no caveat and agrees.
#[test]
fn correlated_branches_are_flagged_and_differ_from_finite_networks() {
    let flagged = net(
        "[input]\nshape = [4]\n[[layers]]\nkind = 'dense'\nw_std = 1.3\nb_std = 0.2\n\
         [[layers]]\nkind = 'parallel'\ncombine = 'prod'\n\
         branches = [[{ kind = 'erf' }], [{ kind = 'relu' }]]\n\
         [[layers]]\nkind = 'dense'\nw_std = 1.1\n",
    );
    let caveats = flagged.caveats();
    assert_eq!(caveats.len(), 1, "{caveats:?}");
    assert!(caveats[0].starts_with("layers[1] (parallel): branches[0] and branches[1]"));
    assert!(strided_cnn().caveats().is_empty());
    let x = normal_batch(&[4], 3, 60);
    let (k, t) = kernels(&flagged, &x, None);
    let mc = monte_carlo_outputs(&flagged, &x, None, 64, 8, 300, 13).unwrap();
    assert!(Agreement::default().check(&mc, &k, &t, 64).is_err());
    let file = common::cli::file(
        "flagged.toml",
        "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\n[[layers]]\nkind = 'parallel'\n\
         branches = [[], []]\n",
    );
    let (code, _, stderr) = common::cli::eqntk(&["derive", "--net", common::cli::s(&file)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with("warning: layers[1] (parallel): branches[0] and branches[1]"),
        "{stderr}"
    );
}
