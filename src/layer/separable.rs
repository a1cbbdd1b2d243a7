//! The tap average of a grid convolution, done one grid axis at a time.
//!
//! A stride-1 convolution with a rectangular filter on a circular, same or valid grid has taps
//! `δ = (δ₁, …, δ_d)` whose sources factor axis by axis, and a tap falls on padding exactly when
//! one of its axes does. The tap average of [`super::taps::Taps`] therefore factors:
//!
//! ```text
//! A = A₁ ∘ A₂ ∘ … ∘ A_d,    A_a[M][(…m…), (…m′…)] = (1/f_a) Σ_{δ<f_a} M[(…src(m,δ)…), (…src(m′,δ)…)]
//! ```
//!
//! where `A_a` moves the axis-`a` index of *both* sites by the same offset. With the sites laid
//! out row-major, one output row of `A_a[M]` (all `m′` for fixed `m`) is a sum of `f_a` input rows,
//! each shifted along axis `a` — contiguous additions that vectorise, instead of a gather over
//! `Π f_a` taps per entry. `Taps` keeps the general gather, which is the reference in the tests.

use std::cell::RefCell;

use super::conv::Padding;

/// One grid axis of a convolution: its input length, filter size (odd) and padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisFilter {
    /// Input length along the axis.
    pub n_in: usize,
    /// Filter size along the axis (odd).
    pub filter: usize,
    /// Boundary handling.
    pub padding: Padding,
}

impl AxisFilter {
    /// Output length: `n_in` (circular, same) or `n_in − filter + 1` (valid).
    pub fn n_out(&self) -> usize {
        match self.padding {
            Padding::Valid => self.n_in + 1 - self.filter,
            _ => self.n_in,
        }
    }

    /// The source of output position `m` at tap `d`, `None` on zero padding.
    fn src(&self, m: usize, d: usize) -> Option<usize> {
        let (n, h) = (self.n_in as isize, (self.filter / 2) as isize);
        let i = m as isize + d as isize;
        match self.padding {
            Padding::Valid => Some(i as usize),
            Padding::Circular => Some((i - h).rem_euclid(n) as usize),
            Padding::Same => (0..n).contains(&(i - h)).then_some((i - h) as usize),
        }
    }

    /// `out[m′·q + r] += inp[src(m′, d)·q + r]` for every `m′` whose source is not padding;
    /// `inp` has `n_in·q` values and `out` has `n_out·q`.
    #[inline(always)]
    fn add_shifted(&self, d: usize, q: usize, inp: &[f64], out: &mut [f64]) {
        let n = self.n_in;
        let h = (self.filter / 2) as isize;
        match self.padding {
            Padding::Valid => add(
                &mut out[..self.n_out() * q],
                &inp[d * q..(d + self.n_out()) * q],
            ),
            Padding::Circular => {
                let k = (d as isize - h).rem_euclid(n as isize) as usize;
                add(&mut out[..(n - k) * q], &inp[k * q..n * q]);
                add(&mut out[(n - k) * q..n * q], &inp[..k * q]);
            }
            Padding::Same => {
                let s = d as isize - h;
                let k = s.unsigned_abs();
                if k >= n {
                } else if s >= 0 {
                    add(&mut out[..(n - k) * q], &inp[k * q..n * q]);
                } else {
                    add(&mut out[k * q..n * q], &inp[..(n - k) * q]);
                }
            }
        }
    }
}

#[inline(always)]
fn add(out: &mut [f64], inp: &[f64]) {
    for (o, i) in out.iter_mut().zip(inp) {
        *o += *i;
    }
}

/// The tap average of a convolution over a row-major grid, applied axis by axis.
#[derive(Clone, Debug, PartialEq)]
pub struct SeparableTaps {
    axes: Vec<AxisFilter>,
}

thread_local! {
    /// Intermediate blocks between axis passes, kept per thread to avoid a fresh (page-faulting)
    /// allocation per block.
    static SCRATCH: RefCell<[Vec<f64>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

impl SeparableTaps {
    /// The average over the product filter of `axes` (outermost grid axis first).
    pub fn new(axes: Vec<AxisFilter>) -> Self {
        Self { axes }
    }

    /// Number of input sites `Π n_in`.
    pub fn n_in(&self) -> usize {
        self.axes.iter().map(|a| a.n_in).product()
    }
    /// Number of output sites `Π n_out`.
    pub fn n_out(&self) -> usize {
        self.axes.iter().map(AxisFilter::n_out).product()
    }

    /// `A[M]` for a full `n_in × n_in` block `m` (`out`: `n_out × n_out`), or for a
    /// site-diagonal block (`m`: `n_in`, `out`: `n_out`) when `full` is false.
    pub fn average(&self, full: bool, m: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F.
                return unsafe { self.average_avx512(full, m, out) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2.
                return unsafe { self.average_avx2(full, m, out) };
            }
        }
        self.average_generic(full, m, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn average_avx512(&self, full: bool, m: &[f64], out: &mut [f64]) {
        self.average_generic(full, m, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn average_avx2(&self, full: bool, m: &[f64], out: &mut [f64]) {
        self.average_generic(full, m, out)
    }

    #[inline(always)]
    fn average_generic(&self, full: bool, m: &[f64], out: &mut [f64]) {
        let n_axes = self.axes.len();
        let mut sizes: Vec<usize> = self.axes.iter().map(|a| a.n_in).collect();
        let len = |sizes: &[usize]| {
            let s: usize = sizes.iter().product();
            if full {
                s * s
            } else {
                s
            }
        };
        if n_axes == 1 {
            pass(&self.axes[0], 1, 1, full, m, out);
            return;
        }
        let mut scratch = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        if let ([a0, a1], true) = (&self.axes[..], full) {
            if a0.padding != Padding::Valid && a1.padding != Padding::Valid {
                // Output rows (i, ·) of the second pass read only rows (i, ·) of the first: make
                // those W rows and consume them at once, so the intermediate stays in cache.
                let (h, wd) = (a0.n_in, a1.n_in);
                let tmp = grow(&mut scratch[0], wd * h * wd);
                let (mut plan0, mut plan1) = (EdgePlan::new(a0), EdgePlan::new(a1));
                for i in 0..h {
                    let rows = i * wd..(i + 1) * wd;
                    pass_full_same_size(a0, &mut plan0, (1, wd), m, 0, tmp, i * wd, rows.clone());
                    pass_full_same_size(a1, &mut plan1, (h, 1), tmp, i * wd, out, 0, rows);
                }
                SCRATCH.with(|s| *s.borrow_mut() = scratch);
                return;
            }
        }
        for (a, ax) in self.axes.iter().enumerate() {
            let p: usize = sizes[..a].iter().product();
            let q: usize = sizes[a + 1..].iter().product();
            let in_len = len(&sizes);
            sizes[a] = ax.n_out();
            let out_len = len(&sizes);
            // Pass a reads the previous pass's buffer and the last pass writes `out`.
            let [s0, s1] = &mut scratch;
            let (src, dst): (&[f64], &mut [f64]) = match (a, a + 1 == n_axes) {
                (0, _) => (m, grow(s0, out_len)),
                (_, true) => (&(if a % 2 == 1 { &*s0 } else { &*s1 })[..in_len], &mut *out),
                _ if a % 2 == 1 => (&s0[..in_len], grow(s1, out_len)),
                _ => (&s1[..in_len], grow(s0, out_len)),
            };
            pass(ax, p, q, full, src, dst);
        }
        SCRATCH.with(|s| *s.borrow_mut() = scratch);
    }
}

fn grow(v: &mut Vec<f64>, len: usize) -> &mut [f64] {
    if v.len() < len {
        v.resize(len, 0.0);
    }
    &mut v[..len]
}

/// One axis pass on sites laid out `[p][axis][q]`: full blocks `(p·n·q)²` → `(p·m·q)²`, or
/// site-diagonal blocks `p·n·q` → `p·m·q`.
#[inline(always)]
fn pass(ax: &AxisFilter, p: usize, q: usize, full: bool, inp: &[f64], out: &mut [f64]) {
    let (n, m, f) = (ax.n_in, ax.n_out(), ax.filter);
    let w = 1.0 / f as f64;
    if !full {
        for p1 in 0..p {
            let o = &mut out[p1 * m * q..(p1 + 1) * m * q];
            o.fill(0.0);
            for d in 0..f {
                ax.add_shifted(d, q, &inp[p1 * n * q..(p1 + 1) * n * q], o);
            }
            o.iter_mut().for_each(|v| *v *= w);
        }
        return;
    }
    if ax.padding != Padding::Valid {
        let rows = 0..p * n * q;
        return pass_full_same_size(ax, &mut EdgePlan::new(ax), (p, q), inp, 0, out, 0, rows);
    }
    let (sin, sout) = (p * n * q, p * m * q);
    for p1 in 0..p {
        for mo in 0..m {
            for q1 in 0..q {
                let orow = (p1 * m + mo) * q + q1;
                let out_row = &mut out[orow * sout..(orow + 1) * sout];
                out_row.fill(0.0);
                for d in 0..f {
                    let Some(a) = ax.src(mo, d) else { continue };
                    let irow = (p1 * n + a) * q + q1;
                    let in_row = &inp[irow * sin..(irow + 1) * sin];
                    for p2 in 0..p {
                        ax.add_shifted(
                            d,
                            q,
                            &in_row[p2 * n * q..(p2 + 1) * n * q],
                            &mut out_row[p2 * m * q..(p2 + 1) * m * q],
                        );
                    }
                }
                out_row.iter_mut().for_each(|v| *v *= w);
            }
        }
    }
}

/// Where the whole-row shift of [`pass_full_same_size`] crosses a segment boundary: the axis
/// positions within `h = f/2` of either end and, per tap, their source position (None on
/// padding); built once per axis, with a reusable list of the taps present in a row.
struct EdgePlan {
    edge: Vec<usize>,
    edge_src: Vec<Option<usize>>,
    /// `(position, source of tap 0, 1, 2)` when `f = 3` and no edge source is padding.
    edge3: Vec<(usize, usize, usize, usize)>,
    /// `(input offset, tap)` of the taps whose source row is not padding.
    taps: Vec<(usize, usize)>,
}

impl EdgePlan {
    fn new(ax: &AxisFilter) -> Self {
        let (n, f) = (ax.n_in, ax.filter);
        let h = f / 2;
        let edge: Vec<usize> = (0..h.min(n)).chain(h.max(n.saturating_sub(h))..n).collect();
        let edge_src: Vec<Option<usize>> = edge
            .iter()
            .flat_map(|&j| (0..f).map(move |d| ax.src(j, d)))
            .collect();
        let edge3 = match (f, edge_src.iter().all(Option::is_some)) {
            (3, true) => edge
                .iter()
                .zip(edge_src.chunks_exact(3))
                .map(|(&j, s)| (j, s[0].unwrap(), s[1].unwrap(), s[2].unwrap()))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            edge,
            edge_src,
            edge3,
            taps: Vec::with_capacity(f),
        }
    }
}

/// The full pass for circular or same padding (`n_out = n_in`), for output rows `rows`. Tap `d`
/// moves both sites' axis index by `d − h` (`h = f/2`), which in a row of `p` segments
/// `[axis][q]` is a shift of the whole row by `(d − h)·q`: so each output row is first computed
/// as one long sum of shifted input rows, and the `h` axis positions at either end of every
/// segment, where that shift crosses a segment boundary, are then overwritten with their wrapped
/// (or padded) sum. Every entry is summed in tap order, as in the chunked pass. `inp` holds the
/// input rows from `in_row0` on and `out` the output rows from `out_row0` on.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pass_full_same_size(
    ax: &AxisFilter,
    plan: &mut EdgePlan,
    (p, q): (usize, usize),
    inp: &[f64],
    in_row0: usize,
    out: &mut [f64],
    out_row0: usize,
    rows: std::ops::Range<usize>,
) {
    let (n, f) = (ax.n_in, ax.filter);
    let h = f / 2;
    let w = 1.0 / f as f64;
    let (l, r) = (n * q, p * n * q);
    let EdgePlan {
        edge,
        edge_src,
        edge3,
        taps,
    } = plan;
    for orow in rows {
        let (p1, mo, q1) = (orow / l, orow / q % n, orow % q);
        let o = &mut out[(orow - out_row0) * r..(orow - out_row0 + 1) * r];
        taps.clear();
        for d in 0..f {
            if let Some(a) = ax.src(mo, d) {
                let irow = (p1 * n + a) * q + q1;
                taps.push(((irow - in_row0) * r, d));
            }
        }
        let row = |off: usize| &inp[off..off + r];
        // Interior: entry x of tap d reads x + (d − h)·q, so the slice starts at d·q.
        let lo = h * q;
        if r > 2 * lo {
            let len = r - 2 * lo;
            let ob = &mut o[lo..lo + len];
            match taps[..] {
                [(a, da), (b, db), (c, dc)] => {
                    let (a, b, c) = (
                        &row(a)[da * q..da * q + len],
                        &row(b)[db * q..db * q + len],
                        &row(c)[dc * q..dc * q + len],
                    );
                    for (((o, x), y), z) in ob.iter_mut().zip(a).zip(b).zip(c) {
                        *o = (x + y + z) * w;
                    }
                }
                _ => {
                    ob.fill(0.0);
                    for &(a, d) in taps.iter() {
                        add(ob, &row(a)[d * q..d * q + len]);
                    }
                    ob.iter_mut().for_each(|v| *v *= w);
                }
            }
        }
        if let ([(a, _), (b, _), (c, _)], false) = (&taps[..], edge3.is_empty()) {
            // Three taps at every edge position (the circular 3-tap filter).
            let (a, b, c) = (row(*a), row(*b), row(*c));
            if q == 1 {
                let segs = o.chunks_exact_mut(l).zip(a.chunks_exact(l));
                for ((os, sa), (sb, sc)) in segs.zip(b.chunks_exact(l).zip(c.chunks_exact(l))) {
                    for &(j, s0, s1, s2) in edge3.iter() {
                        os[j] = (sa[s0] + sb[s1] + sc[s2]) * w;
                    }
                }
            } else {
                for base in (0..p).map(|p2| p2 * l) {
                    for &(j, s0, s1, s2) in edge3.iter() {
                        let oc = &mut o[base + j * q..base + (j + 1) * q];
                        let x = &a[base + s0 * q..base + (s0 + 1) * q];
                        let y = &b[base + s1 * q..base + (s1 + 1) * q];
                        let z = &c[base + s2 * q..base + (s2 + 1) * q];
                        for (((o, x), y), z) in oc.iter_mut().zip(x).zip(y).zip(z) {
                            *o = (x + y + z) * w;
                        }
                    }
                }
            }
            continue;
        }
        for p2 in 0..p {
            let base = p2 * l;
            for (e, &j) in edge.iter().enumerate() {
                let srcs = &edge_src[e * f..(e + 1) * f];
                let oc = &mut o[base + j * q..base + (j + 1) * q];
                if q == 1 {
                    let mut acc = 0.0;
                    for &(a, d) in taps.iter() {
                        if let Some(s) = srcs[d] {
                            acc += row(a)[base + s];
                        }
                    }
                    oc[0] = acc * w;
                } else {
                    oc.fill(0.0);
                    for &(a, d) in taps.iter() {
                        if let Some(s) = srcs[d] {
                            add(oc, &row(a)[base + s * q..base + (s + 1) * q]);
                        }
                    }
                    oc.iter_mut().for_each(|v| *v *= w);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Conv;
    use crate::layer::Weights;

    fn conv(filter: Vec<usize>, padding: Padding) -> Conv {
        Conv {
            filter,
            padding,
            stride: vec![],
            weights: Weights::default(),
        }
    }

    /// A non-symmetric block with entries in [−1, 1] (so 1e-15 is a few rounding errors).
    fn block(len: usize) -> Vec<f64> {
        (0..len)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) / 50.0)
            .collect()
    }

    fn check(grid: &[usize], filter: &[usize], padding: Padding) {
        let c = conv(filter.to_vec(), padding);
        let taps = c.taps(grid);
        let axes = grid
            .iter()
            .zip(filter)
            .map(|(&n_in, &f)| AxisFilter {
                n_in,
                filter: f,
                padding,
            })
            .collect();
        let sep = SeparableTaps::new(axes);
        let (ni, no) = (taps.n_in(), taps.n_out());
        assert_eq!((sep.n_in(), sep.n_out()), (ni, no));
        for full in [true, false] {
            let m = block(if full { ni * ni } else { ni });
            let len = if full { no * no } else { no };
            let (mut want, mut got) = (vec![0.0; len], vec![f64::NAN; len]);
            if full {
                taps.average_full(&m, &mut want);
            } else {
                taps.average_diagonal(&m, &mut want);
            }
            sep.average(full, &m, &mut got);
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-15,
                    "grid {grid:?} filter {filter:?} {padding:?} full={full} entry {k}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn separable_average_equals_the_tap_gather() {
        for padding in [Padding::Circular, Padding::Same, Padding::Valid] {
            for f in [1, 3, 5] {
                for n in [1, 2, 4, 7] {
                    if padding != Padding::Valid || f <= n {
                        check(&[n], &[f], padding);
                    }
                }
                // Three axes take the pass-by-pass route rather than the fused 2-D one.
                if padding != Padding::Valid || f <= 3 {
                    check(&[3, 4, 5], &[f, 3, f.min(3)], padding);
                }
                for (h, w) in [(5, 7), (6, 4), (3, 3), (2, 5), (7, 1)] {
                    for (fh, fw) in [(f, f), (f, 1), (1, f), (f, 3)] {
                        if padding != Padding::Valid || (fh <= h && fw <= w) {
                            check(&[h, w], &[fh, fw], padding);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn conv_taps_use_the_separable_path() {
        let c = conv(vec![3, 3], Padding::Same);
        let taps = c.taps(&[4, 5]);
        let m = block(400);
        let (mut a, mut b) = (vec![0.0; 400], vec![0.0; 400]);
        taps.average(true, &m, &mut a);
        taps.average_full(&m, &mut b);
        assert!(taps.is_separable());
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-15));
    }
}
