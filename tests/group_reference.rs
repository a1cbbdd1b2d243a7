//! A brute-force reference for G-CNN kernels (MATH.md §5), written from the formulas with its
//! own index arithmetic, against the library's fast path to 1e-13 relative.
//!
//! Nothing here uses the library's groups, actions or tap tables. Group elements are indexed as
//! in the crate (`k < n`: `r^k`; `n + k`: `r^k s`, apply `s` first), but products come from
//! composing the actions themselves:
//!
//! * `C_n`, `D_n` on `n` samples: `r^k s^f` is the affine map `i ↦ k + (−1)^f i (mod n)`;
//! * the point groups of `C4`/`D4`/`p4`/`p4m` are 2×2 integer matrices, `r = [[0,−1],[1,0]]`
//!   (`r·(di, dj) = (−dj, di)`) and `s = [[0,1],[1,0]]` (`s·(di, dj) = (dj, di)`); `C4`/`D4` turn
//!   image pixels about the centre, `p4`/`p4m` offsets on the torus (`p + A_g δ`).
//!
//! Every layer is an explicit sum over all group elements and filter offsets:
//!
//! ```text
//! lift:        K¹[(g,p),(g',p')] = σ² (1/|F|) Σ_δ K⁰[p + A_g δ, p' + A_g' δ] + σ_b²,   Θ¹ = K¹
//! group conv:  M'[(g,p),(g',p')] = (1/(|H||F|)) Σ_{h∈H} Σ_δ M[(gh, p + A_g δ), (g'h, p' + A_g' δ)]
//! ```
//!
//! with the arc-cosine ReLU dual in between, mean pooling and a dense readout.

use crate::common;

use common::normal_batch as batch;
use eqntk::Network;
use std::f64::consts::PI;

/// The group of a lift, with what the brute force needs of it.
#[derive(Clone, Copy, Debug)]
enum G {
    /// `C_n` on signals of `n` samples.
    Cyc(usize),
    /// `D_n` on signals of `n` samples.
    Dih(usize),
    /// `C4` (false) or `D4` (true) on `h × h` images about the centre.
    Img { h: usize, flips: bool },
    /// `p4` (false) or `p4m` (true) on the `h × h` torus (or zero padded: `circular = false`).
    Torus {
        h: usize,
        flips: bool,
        circular: bool,
    },
}

type M2 = [[i64; 2]; 2];

fn mat_mul(a: M2, b: M2) -> M2 {
    let mut c = [[0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            c[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j];
        }
    }
    c
}

/// `r^k s^f` as a matrix (`s` applied first).
fn point_matrix(g: usize) -> M2 {
    let r = [[0, -1], [1, 0]];
    let mut m = if g >= 4 {
        [[0, 1], [1, 0]]
    } else {
        [[1, 0], [0, 1]]
    };
    for _ in 0..g % 4 {
        m = mat_mul(r, m);
    }
    m
}

fn apply(m: M2, (a, b): (i64, i64)) -> (i64, i64) {
    (m[0][0] * a + m[0][1] * b, m[1][0] * a + m[1][1] * b)
}

impl G {
    /// Number of group elements indexing the lifted features (the point group for the torus).
    fn order(self) -> usize {
        match self {
            G::Cyc(n) => n,
            G::Dih(n) => 2 * n,
            G::Img { flips, .. } | G::Torus { flips, .. } => {
                if flips {
                    8
                } else {
                    4
                }
            }
        }
    }
    /// Positions per group element after the lift (1 without translations).
    fn positions(self) -> usize {
        match self {
            G::Torus { h, .. } => h * h,
            _ => 1,
        }
    }
    /// `g h`, from composing the actions.
    fn mul(self, g: usize, h: usize) -> usize {
        match self {
            G::Cyc(n) => (g + h) % n,
            G::Dih(n) => {
                // g: i ↦ kg + εg i; h: i ↦ kh + εh i; g∘h: i ↦ kg + εg kh + εg εh i.
                let (kg, fg) = (g % n, g >= n);
                let (kh, fh) = (h % n, h >= n);
                let eg: i64 = if fg { -1 } else { 1 };
                let k = (kg as i64 + eg * kh as i64).rem_euclid(n as i64) as usize;
                k + if fg != fh { n } else { 0 }
            }
            G::Img { .. } | G::Torus { .. } => {
                let m = mat_mul(point_matrix(g), point_matrix(h));
                (0..self.order())
                    .find(|&e| point_matrix(e) == m)
                    .expect("closed")
            }
        }
    }
    /// `g·s` for an input site `s` (groups without translations).
    fn act_site(self, g: usize, s: usize) -> usize {
        match self {
            G::Cyc(n) => (s + g) % n,
            G::Dih(n) => {
                let (k, f) = (g % n, g >= n);
                let i = if f { (n - s) % n } else { s };
                (i + k) % n
            }
            G::Img { h, .. } => {
                // Doubled coordinates about the centre c = (h−1)/2.
                let c = h as i64 - 1;
                let (i, j) = ((s / h) as i64, (s % h) as i64);
                let (u, v) = apply(point_matrix(g), (2 * i - c, 2 * j - c));
                (((u + c) / 2) * h as i64 + (v + c) / 2) as usize
            }
            G::Torus { .. } => unreachable!(),
        }
    }
    /// `p + A_g δ` on the torus, `None` on zero padding.
    fn torus_shift(self, g: usize, p: usize, d: (i64, i64)) -> Option<usize> {
        let G::Torus { h, circular, .. } = self else {
            unreachable!()
        };
        let (a, b) = apply(point_matrix(g), d);
        let (i, j) = ((p / h) as i64 + a, (p % h) as i64 + b);
        let hh = h as i64;
        if circular {
            Some((i.rem_euclid(hh) * hh + j.rem_euclid(hh)) as usize)
        } else if (0..hh).contains(&i) && (0..hh).contains(&j) {
            Some((i * hh + j) as usize)
        } else {
            None
        }
    }
}

/// The 3×3 window of offsets (the spatial filter of the torus layers).
fn window3() -> Vec<(i64, i64)> {
    (-1..=1)
        .flat_map(|a| (-1..=1).map(move |b| (a, b)))
        .collect()
}

/// The lifting filter: all input sites (full) or a centred window of `q` taps on a signal.
#[derive(Clone, Copy)]
enum Filter {
    Full,
    Signal(usize),
    Window3,
}

/// `(1/|F|) Σ_δ M[src(g,p,δ), src(g',p',δ)]` for the lift, on an `S0 × S0` input block.
fn lift_avg(g: G, f: Filter, s0: usize, m: &[f64]) -> Vec<f64> {
    let (ord, pos) = (g.order(), g.positions());
    let s1 = ord * pos;
    let mut out = vec![0.0; s1 * s1];
    // Sources of output (a, p) at tap t.
    let src = |a: usize, p: usize, t: usize| -> Option<usize> {
        match f {
            Filter::Full => Some(g.act_site(a, t)),
            Filter::Signal(q) => {
                let n = s0 as i64;
                let d = t as i64 - (q / 2) as i64;
                Some(g.act_site(a, d.rem_euclid(n) as usize))
            }
            Filter::Window3 => g.torus_shift(a, p, window3()[t]),
        }
    };
    let taps = match f {
        Filter::Full => s0,
        Filter::Signal(q) => q,
        Filter::Window3 => 9,
    };
    for a in 0..ord {
        for p in 0..pos {
            for b in 0..ord {
                for p2 in 0..pos {
                    let mut acc = 0.0;
                    for t in 0..taps {
                        if let (Some(u), Some(v)) = (src(a, p, t), src(b, p2, t)) {
                            acc += m[u * s0 + v];
                        }
                    }
                    out[(a * pos + p) * s1 + b * pos + p2] = acc / taps as f64;
                }
            }
        }
    }
    out
}

/// The group-convolution average over the support `hs` (and a 3×3 window on the torus).
fn gconv_avg(g: G, hs: &[usize], m: &[f64]) -> Vec<f64> {
    let (ord, pos) = (g.order(), g.positions());
    let s = ord * pos;
    let offsets: Vec<(i64, i64)> = match g {
        G::Torus { .. } => window3(),
        _ => vec![(0, 0)],
    };
    let src = |a: usize, p: usize, hh: usize, d: (i64, i64)| -> Option<usize> {
        let q = match g {
            G::Torus { .. } => g.torus_shift(a, p, d)?,
            _ => 0,
        };
        Some(g.mul(a, hh) * pos + q)
    };
    let divisor = (hs.len() * offsets.len()) as f64;
    // The sources of every output (a, p), listed once (the sums below are still over all h, δ).
    let sources: Vec<Vec<Option<usize>>> = (0..ord)
        .flat_map(|a| (0..pos).map(move |p| (a, p)))
        .map(|(a, p)| {
            hs.iter()
                .flat_map(|&hh| offsets.iter().map(move |&d| (hh, d)))
                .map(|(hh, d)| src(a, p, hh, d))
                .collect()
        })
        .collect();
    let mut out = vec![0.0; s * s];
    for (o, so) in sources.iter().enumerate() {
        for (o2, so2) in sources.iter().enumerate() {
            let mut acc = 0.0;
            for (u, v) in so.iter().zip(so2) {
                if let (Some(u), Some(v)) = (u, v) {
                    acc += m[u * s + v];
                }
            }
            out[o * s + o2] = acc / divisor;
        }
    }
    out
}

/// Arc-cosine ReLU dual (Cho & Saul), written out: `(T, Ṫ)`.
fn relu_dual(k11: f64, k12: f64, k22: f64) -> (f64, f64) {
    let n = (k11 * k22).sqrt();
    if n == 0.0 {
        return (0.0, 0.25);
    }
    let rho = (k12 / n).clamp(-1.0, 1.0);
    let th = rho.acos();
    (
        n / (2.0 * PI) * (th.sin() + (PI - th) * th.cos()),
        (PI - th) / (2.0 * PI),
    )
}

/// The kernels of one example pair (a, b) at one layer: `K(a,a)`, `K(b,b)`, `K(a,b)`, `Θ(a,b)`.
#[derive(Clone)]
struct Pair {
    s: usize,
    kaa: Vec<f64>,
    kbb: Vec<f64>,
    kab: Vec<f64>,
    tab: Vec<f64>,
}

impl Pair {
    fn input(xa: &[f64], xb: &[f64], sites: usize) -> Self {
        let c = xa.len() / sites;
        let gram = |u: &[f64], v: &[f64]| {
            let mut k = vec![0.0; sites * sites];
            for s in 0..sites {
                for t in 0..sites {
                    k[s * sites + t] =
                        (0..c).map(|i| u[s * c + i] * v[t * c + i]).sum::<f64>() / c as f64;
                }
            }
            k
        };
        Pair {
            s: sites,
            kaa: gram(xa, xa),
            kbb: gram(xb, xb),
            kab: gram(xa, xb),
            tab: vec![0.0; sites * sites],
        }
    }
    /// `K' = w A[K] + b`, `Θ' = w A[Θ] + K'`.
    fn affine(&self, s: usize, avg: impl Fn(&[f64]) -> Vec<f64>, w: f64, b: f64) -> Self {
        let aff = |m: &[f64]| avg(m).iter().map(|v| w * v + b).collect::<Vec<_>>();
        let kab = aff(&self.kab);
        let tab = avg(&self.tab)
            .iter()
            .zip(&kab)
            .map(|(t, k)| w * t + k)
            .collect();
        Pair {
            s,
            kaa: aff(&self.kaa),
            kbb: aff(&self.kbb),
            kab,
            tab,
        }
    }
    fn relu(&self) -> Self {
        let s = self.s;
        let map = |m: &[f64], d1: &[f64], d2: &[f64], t: Option<&[f64]>| {
            let mut k = vec![0.0; s * s];
            let mut th = vec![0.0; s * s];
            for i in 0..s {
                for j in 0..s {
                    let (a, b) = relu_dual(d1[i * s + i], m[i * s + j], d2[j * s + j]);
                    k[i * s + j] = a;
                    if let Some(t) = t {
                        th[i * s + j] = b * t[i * s + j];
                    }
                }
            }
            (k, th)
        };
        let (kab, tab) = map(&self.kab, &self.kaa, &self.kbb, Some(&self.tab));
        Pair {
            s,
            kaa: map(&self.kaa, &self.kaa, &self.kaa, None).0,
            kbb: map(&self.kbb, &self.kbb, &self.kbb, None).0,
            kab,
            tab,
        }
    }
    fn pool(&self) -> Self {
        let mean = |m: &[f64]| vec![m.iter().sum::<f64>() / m.len() as f64];
        Pair {
            s: 1,
            kaa: mean(&self.kaa),
            kbb: mean(&self.kbb),
            kab: mean(&self.kab),
            tab: mean(&self.tab),
        }
    }
}

const W1: (f64, f64) = (1.3, 0.2);
const W2: (f64, f64) = (1.5, 0.3);
const W3: (f64, f64) = (1.2, 0.1);

/// lift → relu → group_conv → relu by brute force (pool and readout: [`Pair::pool`], [`readout`]).
fn reference(g: G, f: Filter, hs: &[usize], xa: &[f64], xb: &[f64], s0: usize) -> Pair {
    let s1 = g.order() * g.positions();
    let sq = |w: (f64, f64)| (w.0 * w.0, w.1 * w.1);
    let (w1, b1) = sq(W1);
    let (w2, b2) = sq(W2);
    let k = Pair::input(xa, xb, s0).affine(s1, |m| lift_avg(g, f, s0, m), w1, b1);
    k.relu().affine(s1, |m| gconv_avg(g, hs, m), w2, b2).relu()
}

fn toml(shape: &[usize], lift: &str, gconv: &str, pooled: bool) -> String {
    let w = |(a, b): (f64, f64)| format!("w_std = {a}\nb_std = {b}\n");
    let mut s = format!(
        "[input]\nshape = {shape:?}\n[[layers]]\nkind = 'lift'\n{lift}\n{}[[layers]]\nkind = 'relu'\n\
         [[layers]]\nkind = 'group_conv'\n{gconv}\n{}[[layers]]\nkind = 'relu'\n",
        w(W1),
        w(W2)
    );
    if pooled {
        s += &format!(
            "[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{}",
            w(W3)
        );
    }
    s
}

struct Case {
    name: &'static str,
    shape: Vec<usize>,
    g: G,
    f: Filter,
    support: Option<Vec<usize>>,
    lift: String,
    gconv: String,
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

fn readout(unpooled: &Pair) -> Pair {
    let (w3, b3) = (W3.0 * W3.0, W3.1 * W3.1);
    unpooled.pool().affine(1, |m| m.to_vec(), w3, b3)
}

fn check(case: &Case) {
    // (One x2 example on the torus keeps the brute force fast; the 2×2 cases check indexing.)
    let n2 = if matches!(case.g, G::Torus { .. }) {
        1
    } else {
        2
    };
    let (x1, x2) = (batch(&case.shape, 2, 1), batch(&case.shape, n2, 2));
    let s0: usize = case.shape[..case.shape.len() - 1].iter().product();
    let hs: Vec<usize> = case
        .support
        .clone()
        .unwrap_or_else(|| (0..case.g.order()).collect());
    let kernels = [true, false].map(|pooled| {
        let text = toml(&case.shape, &case.lift, &case.gconv, pooled);
        let net = Network::from_toml_str(&text, case.name).unwrap();
        net.kernel(&x1, Some(&x2)).unwrap()
    });
    for i in 0..2 {
        for j in 0..n2 {
            let unpooled = reference(case.g, case.f, &hs, x1.example(i), x2.example(j), s0);
            let pooled = readout(&unpooled);
            for (k, r, what) in [
                (&kernels[0], &pooled, "pooled"),
                (&kernels[1], &unpooled, "unpooled"),
            ] {
                let (dn, dt) = (
                    rel(&k.nngp_block(i, j), &r.kab),
                    rel(&k.ntk_block(i, j), &r.tab),
                );
                assert!(
                    dn <= 1e-13 && dt <= 1e-13,
                    "{} ({what}) [{i},{j}]: nngp {dn:.2e}, ntk {dt:.2e}",
                    case.name
                );
            }
            // The self-covariances travel along: check them too.
            if j == 0 {
                let d = rel(kernels[1].cov1_block(i), &unpooled.kaa);
                assert!(d <= 1e-13, "{} cov1[{i}]: {d:.2e}", case.name);
            }
        }
    }
}

fn support_key(s: &Option<Vec<usize>>) -> String {
    s.as_ref()
        .map_or(String::new(), |s| format!("support = {s:?}\n"))
}

fn elements(
    name: &'static str,
    shape: Vec<usize>,
    g: G,
    f: Filter,
    support: Option<Vec<usize>>,
) -> Case {
    let (group, filter) = match (g, f) {
        (G::Cyc(n), _) => (format!("C{n}"), f),
        (G::Dih(n), _) => (format!("D{n}"), f),
        (G::Img { flips, .. }, _) => ((if flips { "D4" } else { "C4" }).to_string(), f),
        _ => unreachable!(),
    };
    let filter = match filter {
        Filter::Full => "'full'".to_string(),
        Filter::Signal(q) => format!("[{q}]"),
        Filter::Window3 => "[3, 3]".into(),
    };
    Case {
        name,
        shape,
        g,
        f,
        lift: format!("group = '{group}'\nfilter = {filter}"),
        gconv: support_key(&support),
        support,
    }
}

fn torus(
    name: &'static str,
    h: usize,
    flips: bool,
    circular: bool,
    support: Option<Vec<usize>>,
) -> Case {
    let group = if flips { "p4m" } else { "p4" };
    let pad = if circular { "circular" } else { "same" };
    Case {
        name,
        shape: vec![h, h, 2],
        g: G::Torus { h, flips, circular },
        f: Filter::Window3,
        lift: format!("group = '{group}'\nfilter = [3, 3]\npadding = '{pad}'"),
        gconv: format!(
            "filter = [3, 3]\npadding = '{pad}'\n{}",
            support_key(&support)
        ),
        support,
    }
}

#[test]
fn cyclic_and_dihedral_groups_on_signals() {
    check(&elements("C5", vec![5, 2], G::Cyc(5), Filter::Full, None));
    check(&elements(
        "D4 signal",
        vec![4, 1],
        G::Dih(4),
        Filter::Full,
        None,
    ));
    check(&elements(
        "D5 signal",
        vec![5, 2],
        G::Dih(5),
        Filter::Full,
        None,
    ));
    // A local lifting window (3 taps around sample 0).
    check(&elements(
        "C7 window",
        vec![7, 1],
        G::Cyc(7),
        Filter::Signal(3),
        None,
    ));
    check(&elements(
        "D6 window",
        vec![6, 1],
        G::Dih(6),
        Filter::Signal(3),
        None,
    ));
}

#[test]
fn rotations_of_square_images() {
    check(&elements(
        "C4 3x3",
        vec![3, 3, 1],
        G::Img { h: 3, flips: false },
        Filter::Full,
        None,
    ));
    check(&elements(
        "D4 4x4",
        vec![4, 4, 2],
        G::Img { h: 4, flips: true },
        Filter::Full,
        None,
    ));
}

#[test]
fn p4_and_p4m_circular_and_same() {
    for h in [4, 5] {
        for flips in [false, true] {
            for circular in [true, false] {
                check(&torus("torus", h, flips, circular, None));
            }
        }
    }
}

#[test]
fn support_subsets() {
    check(&elements(
        "C5 support",
        vec![5, 2],
        G::Cyc(5),
        Filter::Full,
        Some(vec![0, 2]),
    ));
    check(&elements(
        "D4 support",
        vec![4, 1],
        G::Dih(4),
        Filter::Full,
        Some(vec![1, 6]),
    ));
    check(&torus("p4 support", 4, false, true, Some(vec![0, 3])));
    check(&torus(
        "p4m support",
        5,
        true,
        false,
        Some(vec![0, 2, 5, 7]),
    ));
}

/// Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (Newton on P_n).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let mut x = (PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 0.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=n {
                    let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                    (p0, p1) = (p1, p2);
                }
                dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            (x, 2.0 / ((1.0 - x * x) * dp * dp))
        })
        .collect()
}

/// The SO(2) orbit average of a Gram matrix (x2 = x1), whose diagonal entries have a kink at
/// angle 0 for ReLU networks, against composite Gauss–Legendre on [0, 2π] (the kink sits at the
/// ends of the interval, where Gauss–Legendre does not care).
#[test]
fn so2_orbit_average_of_a_gram_matrix_matches_gauss_legendre() {
    use eqntk::action::Domain;
    use eqntk::group::GroupSpec;
    use eqntk::orbit::{orbit_kernel, rotate_batch};
    let net = Network::from_toml_str(
        "[input]\nshape = [5, 2]\ndomain = 'points'\n[[layers]]\nkind = 'flatten'\n[[layers]]\n\
         kind = 'dense'\nw_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'dense'\n\
         w_std = 1.4\nb_std = 0.2\n[[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'dense'\n",
        "mlp.toml",
    )
    .unwrap();
    let x = batch(&[5, 2], 2, 9);
    let got = orbit_kernel(&net, &x, None, GroupSpec::So2 { band_limit: None }, 1e-12).unwrap();
    let (panels, rule) = (24, gauss_legendre(16));
    let mut want = [[0.0; 2]; 2];
    let mut want_t = [[0.0; 2]; 2];
    for p in 0..panels {
        let (a, b) = (
            2.0 * PI * p as f64 / panels as f64,
            2.0 * PI * (p + 1) as f64 / panels as f64,
        );
        for &(u, w) in &rule {
            let theta = 0.5 * (a + b) + 0.5 * (b - a) * u;
            let k = net
                .kernel(&x, Some(&rotate_batch(&x, Domain::Points, theta).unwrap()))
                .unwrap();
            let (kn, kt) = (k.nngp().unwrap(), k.ntk().unwrap());
            let weight = 0.5 * (b - a) * w / (2.0 * PI);
            for i in 0..2 {
                for j in 0..2 {
                    want[i][j] += weight * kn[(i, j)];
                    want_t[i][j] += weight * kt[(i, j)];
                }
            }
        }
    }
    for i in 0..2 {
        for j in 0..2 {
            let (dn, dt) = (
                (got.nngp[(i, j)] - want[i][j]).abs() / want[i][j].abs(),
                (got.ntk[(i, j)] - want_t[i][j]).abs() / want_t[i][j].abs(),
            );
            assert!(
                dn <= 1e-11 && dt <= 1e-11,
                "[{i},{j}]: nngp {dn:.1e}, ntk {dt:.1e} ({} angles, estimate {:.1e})",
                got.samples,
                got.error_estimate
            );
        }
    }
    assert!(got.error_estimate <= 1e-12);
}
