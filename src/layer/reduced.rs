//! Right-invariant kernels of group layers, kept one representative per class of site pairs.
//!
//! After a lifting layer whose filter the point group maps to itself (square odd windows and
//! full filters), the kernel of every later group layer is *right-invariant*: with sites
//! `(g, p)` (point-group element, position),
//!
//! ```text
//! K[(g k, p), (g' k, p')] = K[(g, p), (g', p')]      for every k in the point group,
//! ```
//!
//! and so is Θ. It persists through nonlinearities, dense layers and group convolutions (with
//! any point-group `support`), and it makes pooling a mean over one slice. So the
//! block `R[(g, p), p'] = K[(g, p), (e, p')]` (|G|·P × P numbers instead of (|G|·P)²) holds the
//! whole kernel, `K[(g, p), (g', p')] = R[(g g'⁻¹, p), p']`, and the layers act on it as
//!
//! ```text
//! lift:        R[(g,p),p'] = σ_w² (1/|F|) Σ_{δ∈F} K⁰[p + A_g δ, p' + δ] + σ_b²
//! group conv:  A[R][(g,p),p'] = (1/(|H||F|)) Σ_{h∈H,δ∈F} R[(g h h⁻¹, p + A_g δ), p' + δ]
//!                             = (1/|F|) Σ_{δ∈F} R[(g, p + A_g δ), p' + δ]
//! nonlinearity: R'[(g,p),p'] = T(d[p], R[(g,p),p'], d'[p'])      (likewise Ṫ · Θ)
//! pooling:     K_out = mean over all (g, p, p') of R
//! ```
//!
//! (the group convolution's term for `h` is `M[(g h, ·), (h, ·)]`, which right-invariance moves
//! to `M[(g, ·), (e, ·)]`, so every `h` gives the same term). The site diagonals of the
//! self-covariances depend on p only, `K[(g,p),(g,p)](x, x) = d[p]`, and are carried by their
//! own recursion (a tap average's diagonal reads only diagonals). For groups without
//! translations (C_n, D_n, C4, D4) there is one position and the group convolution's average is
//! the identity.
//!
//! For p4 and p4m, `A_g` is a signed permutation of the two axes, so the average over a square
//! window factors into one pass per filter axis — the spatial part of the tap average for fixed
//! g is a shifted-window average whose first-index offsets are turned by `A_g` — as in
//! [`super::separable`].
//!
//! [`ReducedGroupRun::find`] recognises a run `lift → (nonlinearity | dense | group_conv)* →
//! group_pool` (or `global_avg_pool`) that satisfies the preconditions and returns it as a
//! single [`BlockMap`] from the lift's input sites to one site, so the reduced blocks never leave
//! the fused chain of [`crate::kernel::Kernel::map_chain`]. Anything else (a lifting filter the
//! point group does not map to itself, an unpooled output, a flatten readout) stays on the
//! general tap-table path.

use std::cell::RefCell;

use super::activation::Activation;
use super::affine::AffineMap;
use super::conv::Padding;
use super::group_conv::GroupConv;
use super::lift::{window_offsets, Lift, LiftFilter, Lifted};
use super::pool::pairwise_sum;
use super::shape::Shape;
use super::Layer;
use crate::group::{GroupSpec, PointGroup};
use crate::kernel::BlockMap;

/// A run of group layers from a lift to a pooling layer, computed on right-invariant reduced
/// blocks (see the module docs). Its [`BlockMap`] maps the lift's input blocks to the pooled
/// one-site kernel.
#[derive(Debug)]
pub(crate) struct ReducedGroupRun<'a> {
    /// Sites entering the lift.
    sites_in: usize,
    /// Order |G| of the point group (the group itself when there are no translations).
    order: usize,
    /// Positions P per group element.
    positions: usize,
    lift: LiftAverage,
    lift_affine: AffineMap,
    stages: Vec<Stage<'a>>,
}

/// The tap average of the lifting layer on reduced blocks.
#[derive(Debug)]
enum LiftAverage {
    /// p4, p4m: `R_g = Twisted_g(K⁰)` for each g.
    Twisted(TwistedAverage),
    /// Groups without translations: `R[g] = (1/|F|) Σ_t K⁰[src(g,t), src(e,t)]`; `src` is the
    /// lift's tap table, `order × taps` row-major.
    Gather { taps: usize, src: Vec<u32> },
}

/// What a layer kind is in the reduced run ([`super::LayerKind::reduced_step`]).
#[derive(Debug)]
pub enum ReducedStep<'a> {
    /// A stage between the lift and the pooling.
    Stage(Box<Stage<'a>>),
    /// The pooling that ends the run.
    Closes,
    /// A kind the run cannot take (or a filter the point group does not preserve).
    Breaks,
}

/// A layer between the lift and the pooling.
#[derive(Debug)]
pub enum Stage<'a> {
    /// A dense layer (the identity average) or a group convolution without translations.
    Affine(AffineMap),
    /// A group convolution on p4/p4m: `A[R]_g = Twisted_g(R_g)`.
    GroupConv(TwistedAverage, AffineMap),
    /// A pointwise nonlinearity.
    Activation(&'a Activation),
}

/// `out[p, p'] = (1/|F|) Σ_{δ∈F} M[p + A_g δ, p' + δ]` on an H×W grid (P = HW positions), for a
/// product window `F = O₀ × O₁`, done as one pass per filter axis.
#[derive(Clone, Debug)]
pub struct TwistedAverage {
    grid: [usize; 2],
    circular: bool,
    /// The offsets `O_a` along filter axis a.
    offsets: [Vec<i64>; 2],
    /// For each g and filter axis a: `A_g e_a = sign · e_axis`, as `(axis, sign)`.
    moves: Vec<[(usize, i64); 2]>,
}

impl TwistedAverage {
    fn new(point: PointGroup, grid: [usize; 2], circular: bool, offsets: [Vec<i64>; 2]) -> Self {
        let moves = (0..point.order())
            .map(|g| {
                let col = |v: (i64, i64)| match v {
                    (s, 0) => (0, s),
                    (0, s) => (1, s),
                    _ => unreachable!("point-group matrices are signed permutations"),
                };
                [
                    col(point.act_offset(g, (1, 0))),
                    col(point.act_offset(g, (0, 1))),
                ]
            })
            .collect();
        Self {
            grid,
            circular,
            offsets,
            moves,
        }
    }

    fn positions(&self) -> usize {
        self.grid[0] * self.grid[1]
    }

    /// `p` moved by `d` along `axis`, `None` off a non-circular grid.
    #[inline(always)]
    fn move_site(&self, p: usize, axis: usize, d: i64) -> Option<usize> {
        let [h, w] = self.grid;
        let (mut c, n) = if axis == 0 {
            ((p / w) as i64, h as i64)
        } else {
            ((p % w) as i64, w as i64)
        };
        c += d;
        if self.circular {
            c = c.rem_euclid(n);
        } else if c < 0 || c >= n {
            return None;
        }
        Some(if axis == 0 {
            c as usize * w + p % w
        } else {
            (p / w) * w + c as usize
        })
    }

    /// `out = Twisted_g(m)` for P×P blocks, through `tmp` (P²).
    #[inline(always)]
    fn apply(&self, g: usize, m: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        self.pass(0, self.moves[g][0], m, tmp);
        self.pass(1, self.moves[g][1], tmp, out);
    }

    /// One filter axis `a`: `out[p, p'] = (1/|O_a|) Σ_{d∈O_a} m[p + sign·d·e_axis, p' + d·e_a]`.
    #[inline(always)]
    fn pass(&self, a: usize, (axis, sign): (usize, i64), m: &[f64], out: &mut [f64]) {
        let np = self.positions();
        let w = 1.0 / self.offsets[a].len() as f64;
        for (p, row) in out.chunks_exact_mut(np).enumerate() {
            row.fill(0.0);
            for &d in &self.offsets[a] {
                let Some(src) = self.move_site(p, axis, sign * d) else {
                    continue;
                };
                self.add_shifted(a, d, &m[src * np..(src + 1) * np], row);
            }
            row.iter_mut().for_each(|v| *v *= w);
        }
    }

    /// `out[p'] += inp[p' + d·e_a]` for every p' whose source is on the grid.
    #[inline(always)]
    fn add_shifted(&self, a: usize, d: i64, inp: &[f64], out: &mut [f64]) {
        let [h, w] = self.grid;
        if a == 1 && self.add_shifted_columns(d, inp, out) {
            return;
        }
        let (n, q, outer) = if a == 0 { (h, w, 1) } else { (w, 1, h) };
        let stride = n * q;
        for r in 0..outer {
            let (o, i) = (
                &mut out[r * stride..(r + 1) * stride],
                &inp[r * stride..(r + 1) * stride],
            );
            if self.circular {
                let k = d.rem_euclid(n as i64) as usize;
                add(&mut o[..(n - k) * q], &i[k * q..]);
                add(&mut o[(n - k) * q..], &i[..k * q]);
            } else {
                let k = d.unsigned_abs() as usize;
                if k >= n {
                } else if d >= 0 {
                    add(&mut o[..(n - k) * q], &i[k * q..]);
                } else {
                    add(&mut o[k * q..], &i[..(n - k) * q]);
                }
            }
        }
    }

    /// [`TwistedAverage::add_shifted`] along the last axis as one contiguous add over the whole
    /// row, `out[x] += inp[x + s]`, with the `m = |s|` entries per grid row whose source wraps
    /// (or falls on padding) set aside first and written back with their own source. Every
    /// entry still receives exactly one addition. False (nothing done) when the set-aside
    /// entries would not fit the stack buffer.
    #[inline(always)]
    fn add_shifted_columns(&self, d: i64, inp: &[f64], out: &mut [f64]) -> bool {
        const FIX: usize = 64;
        let [h, w] = self.grid;
        let n = w as i64;
        // The shift as the representative in (−n/2, n/2] when indices wrap.
        let s = if self.circular {
            let k = d.rem_euclid(n);
            if 2 * k > n {
                k - n
            } else {
                k
            }
        } else {
            d
        };
        if s == 0 {
            add(out, inp);
            return true;
        }
        let m = s.unsigned_abs() as usize;
        if m >= w {
            // Only without wrapping: every source is padding.
            return true;
        }
        if h * m > FIX {
            return false;
        }
        let mut fixed = [0.0; FIX];
        // Wrapping entries: columns n−m.. (s > 0) or ..m (s < 0) of every grid row.
        let cols = if s > 0 { w - m..w } else { 0..m };
        let mut i = 0;
        for r in 0..h {
            for c in cols.clone() {
                let x = r * w + c;
                fixed[i] = if self.circular {
                    let src = r * w + (c as i64 + s).rem_euclid(n) as usize;
                    out[x] + inp[src]
                } else {
                    out[x]
                };
                i += 1;
            }
        }
        let len = h * w - m;
        if s > 0 {
            add(&mut out[..len], &inp[m..]);
        } else {
            add(&mut out[m..], &inp[..len]);
        }
        let mut i = 0;
        for r in 0..h {
            for c in cols.clone() {
                out[r * w + c] = fixed[i];
                i += 1;
            }
        }
        true
    }

    /// The diagonal of [`TwistedAverage::apply`] for g = e, from the diagonal `m` of the input:
    /// the same additions in the same order, so it equals the block's diagonal bit for bit.
    fn apply_diagonal(&self, m: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        self.pass_diagonal(0, m, tmp);
        self.pass_diagonal(1, tmp, out);
    }

    fn pass_diagonal(&self, a: usize, m: &[f64], out: &mut [f64]) {
        let w = 1.0 / self.offsets[a].len() as f64;
        for (p, o) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for &d in &self.offsets[a] {
                if let Some(src) = self.move_site(p, a, d) {
                    acc += m[src];
                }
            }
            *o = acc * w;
        }
    }
}

#[inline(always)]
fn add(out: &mut [f64], inp: &[f64]) {
    for (o, i) in out.iter_mut().zip(inp) {
        *o += *i;
    }
}

impl<'a> ReducedGroupRun<'a> {
    /// If `layers` starts with a lift that begins a run `lift → (nonlinearity | dense |
    /// group_conv)* → group_pool | global_avg_pool` on which kernels stay right-invariant: the
    /// number of layers in the run and its map. `shapes[l]` is the input shape of `layers[l]`
    /// (as checked by [`LayerKind::output_shape`](crate::layer::LayerKind::output_shape)).
    ///
    /// `None` when the run does not start with a lift, ends without pooling, contains another
    /// layer kind, or when the lift's filter is not mapped to itself by the point group.
    pub fn find(layers: &'a [Layer], shapes: &[Shape]) -> Option<(usize, Self)> {
        let lift = layers.first()?.as_lift()?;
        let (input, lifted) = (shapes.first()?, shapes.get(1)?);
        let spec = lifted.lifted?;
        let (lift_avg, taps) = lift_average(lift, input, &spec)?;
        let mut run = Self {
            sites_in: input.sites(),
            order: Lifted::order_of(&spec),
            positions: lifted.positions(),
            lift: lift_avg,
            lift_affine: lift.weights.map(None, taps, input.channels),
            stages: vec![],
        };
        for (l, layer) in layers.iter().enumerate().skip(1) {
            match layer.reduced_step(shapes.get(l)?, &spec) {
                ReducedStep::Stage(s) => run.stages.push(*s),
                ReducedStep::Closes => return Some((l + 1, run)),
                ReducedStep::Breaks => return None,
            }
        }
        None
    }

    /// Entries of a reduced block, `|G|·P·P`.
    fn reduced_len(&self) -> usize {
        self.order * self.positions * self.positions
    }

    /// The self-covariance diagonals `d[p]` entering each nonlinearity, from the site diagonal
    /// `d0` of the lift's input (`out[s]` for the s-th nonlinearity, P values each).
    fn diagonals(&self, d0: &[f64]) -> Vec<Vec<f64>> {
        let np = self.positions;
        let mut tmp = vec![0.0; np];
        let mut d = vec![0.0; np];
        match &self.lift {
            LiftAverage::Twisted(avg) => avg.apply_diagonal(d0, &mut tmp, &mut d),
            LiftAverage::Gather { taps, src } => {
                let w = 1.0 / *taps as f64;
                let mut acc = 0.0;
                for &s in &src[..*taps] {
                    acc += d0[s as usize];
                }
                d[0] = acc * w;
            }
        }
        self.lift_affine.affine(&mut d, None);
        let mut out = vec![];
        for stage in &self.stages {
            match stage {
                Stage::Affine(m) => m.affine(&mut d, None),
                Stage::GroupConv(avg, m) => {
                    let prev = d.clone();
                    avg.apply_diagonal(&prev, &mut tmp, &mut d);
                    m.affine(&mut d, None);
                }
                Stage::Activation(act) => {
                    let mut next = vec![0.0; np];
                    for (p, &v) in d.iter().enumerate() {
                        act.dual_slice(v, &[v], &[v], None, &mut next[p..p + 1], None);
                    }
                    out.push(std::mem::replace(&mut d, next));
                }
            }
        }
        out
    }

    /// The reduced lift: `k_out = R¹` (|G|·P·P) from the input block `k` (S_in²).
    #[inline(always)]
    fn lift_block(&self, k: &[f64], tmp: &mut [f64], k_out: &mut [f64]) {
        let np2 = self.positions * self.positions;
        match &self.lift {
            LiftAverage::Twisted(avg) => {
                for (g, out) in k_out.chunks_exact_mut(np2).enumerate() {
                    avg.apply(g, k, tmp, out);
                }
            }
            LiftAverage::Gather { taps, src } => {
                let (n, w) = (self.sites_in, 1.0 / *taps as f64);
                let e = &src[..*taps];
                for (g, out) in k_out.iter_mut().enumerate() {
                    let mut acc = 0.0;
                    for (&a, &b) in src[g * taps..(g + 1) * taps].iter().zip(e) {
                        acc += k[a as usize * n + b as usize];
                    }
                    *out = acc * w;
                }
            }
        }
    }

    /// The whole run on one example pair (`t = None`: NNGP only).
    #[inline(always)]
    fn run(
        &self,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        s: &mut Scratch,
    ) -> (f64, f64) {
        let len = self.reduced_len();
        let (np, np2) = (self.positions, self.positions * self.positions);
        for v in [&mut s.ka, &mut s.kb, &mut s.ta, &mut s.tb] {
            v.resize(len, 0.0);
        }
        s.tmp.resize(np2, 0.0);
        let diag1 = self.diagonals(d1);
        let diag2 = self.diagonals(d2);
        let with_t = t.is_some();
        let Scratch {
            ka,
            kb,
            ta,
            tb,
            tmp,
        } = s;
        let (mut ka, mut kb, mut ta, mut tb) = (
            &mut ka[..len],
            &mut kb[..len],
            &mut ta[..len],
            &mut tb[..len],
        );
        let tmp = &mut tmp[..np2];

        self.lift_block(k, tmp, ka);
        match t {
            // Θ entering a first lift is 0: skip its average.
            Some(t) if t.iter().any(|&v| v != 0.0) => self.lift_block(t, tmp, ta),
            _ => ta.fill(0.0),
        }
        self.lift_affine.affine(ka, with_t.then_some(&mut *ta));

        let mut nonlinearity = 0;
        for stage in &self.stages {
            match stage {
                Stage::Affine(m) => m.affine(ka, with_t.then_some(&mut *ta)),
                Stage::GroupConv(avg, m) => {
                    for (g, (src, dst)) in ka
                        .chunks_exact(np2)
                        .zip(kb.chunks_exact_mut(np2))
                        .enumerate()
                    {
                        avg.apply(g, src, tmp, dst);
                    }
                    if with_t {
                        for (g, (src, dst)) in ta
                            .chunks_exact(np2)
                            .zip(tb.chunks_exact_mut(np2))
                            .enumerate()
                        {
                            avg.apply(g, src, tmp, dst);
                        }
                    }
                    std::mem::swap(&mut ka, &mut kb);
                    std::mem::swap(&mut ta, &mut tb);
                    m.affine(ka, with_t.then_some(&mut *ta));
                }
                Stage::Activation(act) => {
                    let (e1, e2) = (&diag1[nonlinearity], &diag2[nonlinearity]);
                    nonlinearity += 1;
                    for (r, (src, dst)) in
                        ka.chunks_exact(np).zip(kb.chunks_exact_mut(np)).enumerate()
                    {
                        let k11 = e1[r % np];
                        let range = r * np..(r + 1) * np;
                        if with_t {
                            act.dual_slice(
                                k11,
                                src,
                                e2,
                                Some(&ta[range.clone()]),
                                dst,
                                Some(&mut tb[range]),
                            );
                        } else {
                            act.dual_slice(k11, src, e2, None, dst, None);
                        }
                    }
                    std::mem::swap(&mut ka, &mut kb);
                    std::mem::swap(&mut ta, &mut tb);
                }
            }
        }
        let mean = |v: &[f64]| pairwise_sum(v) / v.len() as f64;
        (mean(ka), if with_t { mean(ta) } else { 0.0 })
    }
}

/// Per-thread buffers of [`ReducedGroupRun`] (reused across example pairs).
#[derive(Default)]
struct Scratch {
    ka: Vec<f64>,
    kb: Vec<f64>,
    ta: Vec<f64>,
    tb: Vec<f64>,
    tmp: Vec<f64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

impl BlockMap for ReducedGroupRun<'_> {
    fn sites_out(&self, _sites_in: usize) -> usize {
        1
    }

    fn apply(
        &self,
        full: bool,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        assert!(full, "the reduced group run needs full site × site blocks");
        let mut s = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        let t = t.filter(|_| t_out.is_some());
        let (kv, tv) = super::simd::dispatch(
            #[inline(always)]
            || self.run(k, t, d1, d2, &mut s),
        );
        k_out[0] = kv;
        if let Some(t_out) = t_out {
            t_out[0] = tv;
        }
        SCRATCH.with(|c| *c.borrow_mut() = s);
    }
}

/// The point group of p4/p4m.
fn point_group(spec: &GroupSpec) -> Option<PointGroup> {
    match spec {
        GroupSpec::P4(_) => Some(PointGroup::C4),
        GroupSpec::P4m(_) => Some(PointGroup::D4),
        _ => None,
    }
}

/// The reduced lift average and its number of taps |F|, or `None` when the point group does not
/// map the filter to itself.
fn lift_average(lift: &Lift, input: &Shape, spec: &GroupSpec) -> Option<(LiftAverage, usize)> {
    match point_group(spec) {
        Some(point) => {
            let [h, w] = <[usize; 2]>::try_from(input.grid.as_slice()).ok()?;
            let circular = lift.padding == Padding::Circular;
            let offsets: [Vec<i64>; 2] = match &lift.filter {
                LiftFilter::Window(f) if f.len() == 2 && f[0] == f[1] => {
                    let axis = |q: usize| (-((q / 2) as i64)..=(q / 2) as i64).collect();
                    [axis(f[0]), axis(f[1])]
                }
                // Every offset of the torus: a rotation permutes them modulo the side.
                LiftFilter::Full if circular && h == w => {
                    [(0..h as i64).collect(), (0..w as i64).collect()]
                }
                _ => return None,
            };
            let taps = offsets[0].len() * offsets[1].len();
            debug_assert_eq!(
                taps,
                match &lift.filter {
                    LiftFilter::Window(f) => window_offsets(f).len(),
                    LiftFilter::Full => h * w,
                }
            );
            let avg = TwistedAverage::new(point, [h, w], circular, offsets);
            Some((LiftAverage::Twisted(avg), taps))
        }
        None => {
            // A group acting on sites: the filter's sites must be permuted by every element.
            let table = lift.taps(input);
            let (order, taps) = (table.n_out(), table.n_taps());
            let mut src = Vec::with_capacity(order * taps);
            for g in 0..order {
                for t in 0..taps {
                    src.push(table.src(g, t)? as u32);
                }
            }
            let mut identity = src[..taps].to_vec();
            identity.sort_unstable();
            if identity.windows(2).any(|w| w[0] == w[1]) {
                return None;
            }
            for row in src.chunks(taps) {
                let mut r = row.to_vec();
                r.sort_unstable();
                if r != identity {
                    return None;
                }
            }
            Some((LiftAverage::Gather { taps, src }, taps))
        }
    }
}

/// The reduced group convolution (`Breaks` for a filter the point group does not preserve).
///
/// Its `support` H does not matter on reduced blocks: right-invariance makes every `h` term
/// equal, whatever H is, and the output is right-invariant again because
/// `M[(g k h, ·), (g' k h, ·)] = M[(g, ·), (g', ·)]` for any h. Only the fan-in `|H|·|F|`
/// (standard parameterisation) sees it.
pub(super) fn group_conv_step<'a>(
    gc: &GroupConv,
    shape: &Shape,
    spec: &GroupSpec,
) -> ReducedStep<'a> {
    match group_conv_stage(gc, shape, spec) {
        Some(s) => ReducedStep::Stage(Box::new(s)),
        None => ReducedStep::Breaks,
    }
}

fn group_conv_stage<'a>(gc: &GroupConv, shape: &Shape, spec: &GroupSpec) -> Option<Stage<'a>> {
    let support = gc.support.as_ref().map_or(Lifted::order_of(spec), Vec::len);
    match (point_group(spec), &gc.filter) {
        (Some(point), Some(f)) if f.len() == 2 && f[0] == f[1] => {
            let [h, w] = <[usize; 2]>::try_from(shape.grid.as_slice()).ok()?;
            let axis = |q: usize| (-((q / 2) as i64)..=(q / 2) as i64).collect();
            let offsets = [axis(f[0]), axis(f[1])];
            let taps = support * f[0] * f[1];
            let circular = gc.padding == Padding::Circular;
            let avg = TwistedAverage::new(point, [h, w], circular, offsets);
            let m = gc.weights.map(None, taps, shape.channels);
            Some(Stage::GroupConv(avg, m))
        }
        (None, None) => {
            let taps = support;
            Some(Stage::Affine(gc.weights.map(None, taps, shape.channels)))
        }
        _ => None,
    }
}

/// The affine part of a tap-averaging layer with `taps` taps per input channel.
#[cfg(test)]
mod tests {
    use super::*;

    /// `out[p'] += inp[p' + d·e_a]` entry by entry (the definition).
    fn shifted_reference(t: &TwistedAverage, a: usize, d: i64, inp: &[f64], out: &mut [f64]) {
        for (p, o) in out.iter_mut().enumerate() {
            if let Some(s) = t.move_site(p, a, d) {
                *o += inp[s];
            }
        }
    }

    #[test]
    fn shifted_adds_equal_the_definition_bit_for_bit() {
        for circular in [true, false] {
            for (h, w) in [(1, 1), (3, 3), (4, 8), (8, 8), (5, 2), (70, 3), (2, 40)] {
                let t = TwistedAverage::new(PointGroup::C4, [h, w], circular, [vec![0], vec![0]]);
                let np = h * w;
                let inp: Vec<f64> = (0..np).map(|i| (i as f64 * 0.37).sin()).collect();
                let base: Vec<f64> = (0..np).map(|i| (i as f64 * 0.11).cos()).collect();
                for a in 0..2 {
                    let n = [h, w][a] as i64;
                    for d in -n - 1..=n + 1 {
                        let (mut got, mut want) = (base.clone(), base.clone());
                        t.add_shifted(a, d, &inp, &mut got);
                        shifted_reference(&t, a, d, &inp, &mut want);
                        assert_eq!(got, want, "{h}×{w} circular={circular} axis {a} shift {d}");
                    }
                }
            }
        }
    }
}
