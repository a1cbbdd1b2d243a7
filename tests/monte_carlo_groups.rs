//! Group layers (lift, group_conv, group_pool) against finite-width G-CNNs (MATH.md §9), the
//! NTK defect of MATH.md §10, and the finite G-CNN against a direct forward pass written from
//! the definition of a p4 convolution (rotated filters, no tap tables).

use crate::common;

use common::{max_abs, normal_batch};
use eqntk::finite::{monte_carlo_outputs, Agreement, MonteCarlo};
use eqntk::{Batch, FiniteNetwork, Network};
use faer::Mat;
use std::f64::consts::PI;

struct Case {
    name: &'static str,
    toml: String,
    shape: Vec<usize>,
}

const W: &str = "w_std = 1.5\nb_std = 0.2\n";

/// lift → relu → group_conv → relu → group_pool → dense.
fn gcnn(name: &'static str, shape: &[usize], lift: &str, gconv: &str) -> Case {
    Case {
        name,
        toml: format!(
            "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\n{lift}\n{W}\
             [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_conv'\n{gconv}\n{W}\
             [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_pool'\n\
             [[layers]]\nkind = 'dense'\nw_std = 1.2\nb_std = 0.3\n"
        ),
        shape: shape.to_vec(),
    }
}

fn p4() -> Case {
    gcnn(
        "p4 4x4",
        &[4, 4, 1],
        "group = 'p4'\nfilter = [3, 3]\npadding = 'circular'",
        "filter = [3, 3]\npadding = 'circular'",
    )
}

fn d3() -> Case {
    gcnn(
        "D3 on 6 samples",
        &[6, 1],
        "group = 'D3'\nfilter = 'full'",
        "",
    )
}

fn c4_image() -> Case {
    gcnn("C4 3x3", &[3, 3, 1], "group = 'C4'\nfilter = 'full'", "")
}

/// Three examples: x = x1 ∪ x2, symmetric kernel (diagonal and off-diagonal entries).
fn examples(shape: &[usize], seed: u64) -> Batch {
    normal_batch(shape, 3, seed ^ 0x5eed)
}

fn run(
    case: &Case,
    width: usize,
    out_dim: usize,
    samples: usize,
    seed: u64,
) -> (Mat<f64>, Mat<f64>, MonteCarlo) {
    let net = Network::from_toml_str(&case.toml, case.name).unwrap();
    let x = examples(&case.shape, seed);
    let k = net.kernel(&x, None).unwrap();
    let mc = monte_carlo_outputs(&net, &x, None, width, out_dim, samples, seed).unwrap();
    (k.nngp().unwrap(), k.ntk().unwrap(), mc)
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

#[test]
fn p4_gcnn_agrees_with_finite_networks() {
    assert_agrees(&p4(), 24, 16, 120, 1);
}

#[test]
fn dihedral_gcnn_on_signals_agrees_with_finite_networks() {
    assert_agrees(&d3(), 64, 32, 200, 2);
}

#[test]
fn c4_image_gcnn_agrees_with_finite_networks() {
    assert_agrees(&c4_image(), 64, 32, 200, 3);
}

/// p4m with zero padding: the layers still share one weight per tap, only the sums change.
#[test]
fn p4m_same_padding_agrees_with_finite_networks() {
    let case = gcnn(
        "p4m 3x3 same",
        &[3, 3, 1],
        "group = 'p4m'\nfilter = [3, 3]\npadding = 'same'",
        "filter = [3, 3]\npadding = 'same'\nsupport = [0, 1, 4]",
    );
    assert_agrees(&case, 24, 16, 120, 4);
}

/// Least-squares slope of `ln err` against `ln width`, where err is the per-draw RMS error of
/// Θ̂ against the analytic Θ, averaged over entries and divided by the largest |Θ|
/// (as in `tests/monte_carlo.rs`).
fn ntk_error_slope(
    case: &Case,
    widths: &[usize],
    samples: usize,
    seed: u64,
) -> (f64, Vec<(f64, f64)>) {
    let mut logs = Vec::new();
    for &w in widths {
        let (_, t, mc) = run(case, w, 1, samples, seed);
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
    (slope, logs)
}

/// The per-draw discrepancy of the empirical NTK shrinks like n^{-1/2} (MATH.md §9).
#[test]
fn ntk_discrepancy_shrinks_with_width() {
    for (case, widths) in [(d3(), vec![16, 64, 256]), (p4(), vec![8, 16, 32, 64])] {
        let (slope, logs) = ntk_error_slope(&case, &widths, 60, 6);
        eprintln!("{}: slope {slope:.3}, points {logs:?}", case.name);
        assert!(
            (-1.2..=-0.35).contains(&slope),
            "{}: log-log slope of the NTK discrepancy vs width is {slope:.3} (expected ≈ −1/2); \
             points {logs:?}",
            case.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// MATH.md §10: a lifting layer whose NTK counts its weights twice.

/// Arc-cosine ReLU dual (Cho & Saul), written out: `(T, Ṫ)`.
fn relu_dual(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let n = (k11 * k22).sqrt();
    let rho = (k12 / n).clamp(-1.0, 1.0);
    let th = rho.acos();
    (
        n / (2.0 * PI) * (th.sin() + (PI - th) * th.cos()),
        (PI - th) / (2.0 * PI),
    )
}

/// lift → relu → group_pool → dense: the NTK from the analytic NNGP of the lift alone, with the
/// lift's NTK taken as `Θ¹ = K¹` (correct) or `Θ¹ = 2σ_w² A(K⁰) + σ_b² = 2K¹ − σ_b²` (defect):
///
/// ```text
/// Θ = σ₂² mean_{s,s'}(Ṫ(K¹) ⊙ Θ¹) + K,     K = σ₂² mean_{s,s'} T(K¹) + b₂²
/// ```
fn hand_ntk(
    lift_toml: &str,
    shape: &[usize],
    x: &Batch,
    b1: f64,
    (w2, b2): (f64, f64),
) -> (Mat<f64>, Mat<f64>) {
    let lift = Network::from_toml_str(
        &format!(
            "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\n{lift_toml}\nb_std = {b1}\n"
        ),
        "lift.toml",
    )
    .unwrap();
    let k1 = lift.kernel(x, None).unwrap();
    let s = k1.sites();
    let n = x.len();
    let (mut good, mut bad) = (Mat::zeros(n, n), Mat::zeros(n, n));
    for i in 0..n {
        for j in 0..n {
            let (k, di, dj) = (
                k1.nngp_block(i, j),
                k1.nngp_block(i, i),
                k1.nngp_block(j, j),
            );
            let (mut kt, mut tg, mut tb) = (0.0, 0.0, 0.0);
            for a in 0..s {
                for b in 0..s {
                    let (t, tdot) = relu_dual(di[a * s + a], k[a * s + b], dj[b * s + b]);
                    kt += t;
                    tg += tdot * k[a * s + b];
                    tb += tdot * (2.0 * k[a * s + b] - b1 * b1);
                }
            }
            let m = (s * s) as f64;
            let kout = w2 * w2 * kt / m + b2 * b2;
            good[(i, j)] = w2 * w2 * tg / m + kout;
            bad[(i, j)] = w2 * w2 * tb / m + kout;
        }
    }
    (good, bad)
}

/// The Monte-Carlo mean accepts the correct lifting NTK and rejects the doubled one by many
/// standard errors (the hand computation of the correct one is first checked against the
/// library to 1e-12, so the two hand-computed kernels differ only in the defect).
#[test]
fn doubled_lifting_weights_are_rejected() {
    let b1 = 0.4;
    for (name, shape, lift, width) in [
        (
            "p4",
            vec![4, 4, 1],
            "group = 'p4'\nfilter = [3, 3]\nw_std = 1.5",
            128,
        ),
        (
            "D3",
            vec![6, 1],
            "group = 'D3'\nfilter = 'full'\nw_std = 1.5",
            256,
        ),
    ] {
        let toml = format!(
            "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\n{lift}\nb_std = {b1}\n\
             [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_pool'\n\
             [[layers]]\nkind = 'dense'\nw_std = 1.2\nb_std = 0.3\n"
        );
        let net = Network::from_toml_str(&toml, name).unwrap();
        // Inputs with a non-zero mean, so that the pooled weight part of Θ¹ is O(1) (for
        // zero-mean inputs its off-diagonal site pairs nearly cancel).
        let x0 = examples(&shape, 7);
        let x = Batch::new(shape.clone(), x0.values().iter().map(|v| v + 1.0).collect()).unwrap();
        let (good, bad) = hand_ntk(lift, &shape, &x, b1, (1.2, 0.3));
        let lib = net.kernel(&x, None).unwrap().ntk().unwrap();
        let scale = max_abs(&lib);
        for i in 0..3 {
            for j in 0..3 {
                let d = (good[(i, j)] - lib[(i, j)]).abs();
                assert!(
                    d <= 1e-12 * scale,
                    "{name}: hand NTK {d:.2e} off the library"
                );
            }
        }
        let mc = monte_carlo_outputs(&net, &x, None, width, 1, 300, 8).unwrap();
        let mut worst_bad = f64::INFINITY;
        for i in 0..3 {
            for j in 0..3 {
                let (mean, se) = (mc.ntk_mean[(i, j)], mc.ntk_se[(i, j)]);
                // One hidden layer: no finite-width bias in the mean, only noise.
                let tol = AGREEMENT.z * se + AGREEMENT.bias * scale / width as f64;
                assert!(
                    (mean - good[(i, j)]).abs() <= tol,
                    "{name}[{i},{j}]: correct NTK {:.5} vs Monte Carlo {mean:.5} ± {se:.1e}",
                    good[(i, j)]
                );
                worst_bad = worst_bad.min((mean - bad[(i, j)]).abs() / se);
                assert!(
                    (mean - bad[(i, j)]).abs() > 4.0 * tol,
                    "{name}[{i},{j}]: the doubled-weights NTK {:.5} is within 4 tolerances of \
                     the Monte-Carlo mean {mean:.5}",
                    bad[(i, j)]
                );
            }
        }
        eprintln!("{name}: the doubled-weights NTK is ≥ {worst_bad:.0} standard errors away");
        assert!(worst_bad > 20.0, "{name}: {worst_bad}");
    }
}

/// A lift followed only by pooling: the network is linear in its input, its empirical NTK
/// `Θ̂ = J Jᵀ` is the same for every draw and equals `K¹` pooled; the defect would double the
/// weight part, `mean(2σ_w² A(K⁰)) + σ_b²`.
#[test]
fn lift_then_pool_ntk_is_the_pooled_nngp_not_twice_its_weight_part() {
    let (w, b) = (1.5, 0.4);
    for (shape, lift) in [
        (vec![4, 4, 2], "group = 'p4m'\nfilter = [3, 3]"),
        (vec![5, 1], "group = 'C5'\nfilter = 'full'"),
    ] {
        let toml = format!(
            "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\n{lift}\nw_std = {w}\n\
             b_std = {b}\n[[layers]]\nkind = 'group_pool'\n"
        );
        let net = Network::from_toml_str(&toml, "lift_pool").unwrap();
        let x = examples(&shape, 9);
        let k = net.kernel(&x, None).unwrap();
        let (nngp, ntk) = (k.nngp().unwrap(), k.ntk().unwrap());
        let mc = monte_carlo_outputs(&net, &x, None, 1, 1, 4, 10).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let defect = 2.0 * (nngp[(i, j)] - b * b) + b * b;
                let (mean, se) = (mc.ntk_mean[(i, j)], mc.ntk_se[(i, j)]);
                assert!(
                    se <= 1e-12 * ntk[(i, j)].abs().max(1.0),
                    "{lift}: Θ̂ varies: {se}"
                );
                assert!((mean - ntk[(i, j)]).abs() <= 1e-12 * ntk[(i, j)].abs().max(1.0));
                assert!((ntk[(i, j)] - nngp[(i, j)]).abs() <= 1e-14 * nngp[(i, j)].abs().max(1.0));
                assert!((mean - defect).abs() > 0.1 * (nngp[(i, j)] - b * b).abs());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The finite G-CNN against a p4 forward pass written from the definition.

/// numpy's `np.rot90(a, k)` on a 3×3 array, as an index map: `rot90(a, k)[i][j] = a[i0][j0]`.
/// (`rot90(a)[i][j] = a[j][2 − i]`.)
fn rot90_src(k: usize, (mut i, mut j): (usize, usize)) -> (usize, usize) {
    for _ in 0..k % 4 {
        (i, j) = (j, 2 - i);
    }
    (i, j)
}

/// `x[(i + a, j + b)]` on an h×h image with `c` channels: wrapped or zero.
fn pixel(x: &[f64], h: usize, c: usize, (i, j): (i64, i64), circular: bool, ch: usize) -> f64 {
    let hh = h as i64;
    let (i, j) = if circular {
        (i.rem_euclid(hh), j.rem_euclid(hh))
    } else if (0..hh).contains(&i) && (0..hh).contains(&j) {
        (i, j)
    } else {
        return 0.0;
    };
    x[(i as usize * h + j as usize) * c + ch]
}

/// A p4 G-CNN from its definition: the lift correlates the image with the four rotated copies
/// `rot90(ψ, k)` of its filter; the group convolution at rotation k uses the filter stack rolled
/// by k along the rotation axis and each slice rotated by `rot90(·, k)`
/// (`out[k, p] = Σ_m Σ_δ rot90(ψ[(m − k) mod 4], k)[δ] · f[m, p + δ]`); then ReLU, the mean over
/// rotations and positions, and a dense readout. Parameters are read in the documented layout
/// of [`FiniteNetwork`]: weights `(tap·C_in + c) × C_out`, tap = `(i·3 + j)` for the lift and
/// `h·9 + i·3 + j` for the group convolution, then the bias.
#[allow(clippy::too_many_arguments)]
fn direct_p4(
    x: &[f64],
    h: usize,
    c: usize,
    n: usize,
    p: &[f64],
    sig: [(f64, f64); 3],
    circular: bool,
) -> f64 {
    let relu = |v: f64| v.max(0.0);
    // Lift.
    let (w1, rest) = p.split_at(9 * c * n);
    let (b1, rest) = rest.split_at(n);
    let m1 = sig[0].0 / ((9 * c) as f64).sqrt();
    let mut f1 = vec![0.0; 4 * h * h * n]; // [k][pi][pj][n]
    for k in 0..4 {
        for pi in 0..h {
            for pj in 0..h {
                for d in 0..n {
                    let mut acc = 0.0;
                    for i in 0..3 {
                        for j in 0..3 {
                            let (i0, j0) = rot90_src(k, (i, j));
                            let q = (pi as i64 + i as i64 - 1, pj as i64 + j as i64 - 1);
                            for cc in 0..c {
                                acc += p_w(w1, (i0 * 3 + j0) * c + cc, n, d)
                                    * pixel(x, h, c, q, circular, cc);
                            }
                        }
                    }
                    f1[((k * h + pi) * h + pj) * n + d] = relu(m1 * acc + sig[0].1 * b1[d]);
                }
            }
        }
    }
    // Group convolution.
    let (w2, rest) = rest.split_at(36 * n * n);
    let (b2, rest) = rest.split_at(n);
    let m2 = sig[1].0 / ((36 * n) as f64).sqrt();
    let mut pooled = vec![0.0; n];
    for k in 0..4 {
        for pi in 0..h {
            for pj in 0..h {
                for d in 0..n {
                    let mut acc = 0.0;
                    for m in 0..4 {
                        let slice = (m + 4 - k) % 4;
                        for i in 0..3 {
                            for j in 0..3 {
                                let (i0, j0) = rot90_src(k, (i, j));
                                let q = (pi as i64 + i as i64 - 1, pj as i64 + j as i64 - 1);
                                let fm = &f1[m * h * h * n..(m + 1) * h * h * n];
                                for cc in 0..n {
                                    acc += p_w(w2, ((slice * 9 + i0 * 3 + j0) * n) + cc, n, d)
                                        * pixel(fm, h, n, q, circular, cc);
                                }
                            }
                        }
                    }
                    pooled[d] += relu(m2 * acc + sig[1].1 * b2[d]) / (4 * h * h) as f64;
                }
            }
        }
    }
    // Dense readout.
    let (w3, b3) = rest.split_at(n);
    assert_eq!(b3.len(), 1);
    let m3 = sig[2].0 / (n as f64).sqrt();
    m3 * pooled.iter().zip(w3).map(|(a, b)| a * b).sum::<f64>() + sig[2].1 * b3[0]
}

/// Weight `W[row, col]` of a row-major `rows × cols` matrix.
fn p_w(w: &[f64], row: usize, cols: usize, col: usize) -> f64 {
    w[row * cols + col]
}

#[test]
fn finite_p4_gcnn_equals_a_direct_forward_pass() {
    let (h, c, n) = (4, 2, 3);
    let sig = [(1.3, 0.2), (1.4, 0.3), (0.9, 0.5)];
    for pad in ["circular", "same"] {
        let toml = format!(
            "[input]\nshape = [{h}, {h}, {c}]\n[[layers]]\nkind = 'lift'\ngroup = 'p4'\n\
             filter = [3, 3]\npadding = '{pad}'\nw_std = {}\nb_std = {}\n[[layers]]\nkind = 'relu'\n\
             [[layers]]\nkind = 'group_conv'\nfilter = [3, 3]\npadding = '{pad}'\nw_std = {}\n\
             b_std = {}\n[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_pool'\n\
             [[layers]]\nkind = 'dense'\nw_std = {}\nb_std = {}\n",
            sig[0].0, sig[0].1, sig[1].0, sig[1].1, sig[2].0, sig[2].1
        );
        let net = Network::from_toml_str(&toml, "p4.toml").unwrap();
        let fin = FiniteNetwork::sample(&net, n, 11).unwrap();
        let x = normal_batch(&[h, h, c], 3, 12);
        let out = fin.forward(&x).unwrap();
        assert_eq!(
            fin.n_params(),
            9 * c * n + n + 36 * n * n + n + n + 1,
            "parameter layout"
        );
        for e in 0..3 {
            let want = direct_p4(
                x.example(e),
                h,
                c,
                n,
                fin.parameters(),
                sig,
                pad == "circular",
            );
            let got = out[(e, 0)];
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{pad} example {e}: library {got} vs direct {want}"
            );
        }
    }
}
