//! The kernel record: NNGP and NTK over example pairs and site pairs.
//!
//! For inputs `x1` (N1 examples) and `x2` (N2 examples) with S sites each, a [`Kernel`] holds
//!
//! * `nngp[i, j, s, s'] = K[s,s'](x1_i, x2_j)` and `ntk[i, j, s, s'] = Θ[s,s'](x1_i, x2_j)`,
//! * `cov1[i, s, s'] = K[s,s'](x1_i, x1_i)` and `cov2[j, s, s'] = K[s,s'](x2_j, x2_j)`,
//!
//! as in neural-tangents' `Kernel` (`nngp`, `ntk`, `cov1`, `cov2`). When the network's readout
//! only needs the site diagonal (a `flatten` readout), the kernel is *diagonal*: every block keeps
//! `s = s'` only (S numbers instead of S²). A nonlinearity at `(s, s')` reads the site diagonals
//! of `cov1` and `cov2`; that is why they travel with the cross kernel.
//!
//! When `x2` is `x1` the kernel is *symmetric*: only blocks with `j ≥ i` are computed, `cov1`
//! is read off the diagonal blocks, and [`Kernel::complete`] mirrors the rest at the end.

use faer::Mat;
use rayon::prelude::*;

use crate::data::Batch;
use crate::error::{Error, Result};

/// NNGP and NTK of a pair of batches, with the self-covariances of each batch.
#[derive(Clone, Debug)]
pub struct Kernel {
    n1: usize,
    n2: usize,
    sites: usize,
    full: bool,
    symmetric: bool,
    upper_only: bool,
    nngp: Vec<f64>,
    /// `None` while Θ is identically zero (the input kernel).
    ntk: Option<Vec<f64>>,
    cov1: Vec<f64>,
    cov2: Option<Vec<f64>>,
}

/// One layer's action on the kernel of a single example pair.
///
/// `apply` receives the input NNGP block `k` (S² numbers if full, S if diagonal), the input NTK
/// block `t` (absent for self-covariances, which carry no NTK), the site diagonals `d1`, `d2` of
/// the two self-covariances, and writes the output blocks. Every layer of eqntk is such a map,
/// applied independently to each example pair; [`Kernel::map`] does the bookkeeping.
pub trait BlockMap: Sync {
    /// Number of sites after the map.
    fn sites_out(&self, sites_in: usize) -> usize;
    /// Map one example pair; `full` tells whether blocks are S×S (true) or site diagonals.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        full: bool,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    );

    /// Map the blocks of one row `i` for a run of consecutive `j`: `k` and `t` hold the input
    /// blocks one after the other, `d2` the site diagonals of those `j` one after the other.
    /// Layers override it where a whole row is cheaper than block by block (one site).
    #[allow(clippy::too_many_arguments)]
    fn apply_row(
        &self,
        full: bool,
        sites_in: usize,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        apply_blocks(self, full, sites_in, k, t, d1, d2, k_out, t_out)
    }
}

/// The row map block by block: [`BlockMap::apply`] on each example pair of a row run. The
/// default of [`BlockMap::apply_row`], and the fallback of layers that override it only for
/// some shapes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_blocks<M: BlockMap + ?Sized>(
    m: &M,
    full: bool,
    sites_in: usize,
    k: &[f64],
    t: Option<&[f64]>,
    d1: &[f64],
    d2: &[f64],
    k_out: &mut [f64],
    mut t_out: Option<&mut [f64]>,
) {
    let bin = block_len(sites_in, full);
    let nb = k.len() / bin;
    let bout = k_out.len() / nb.max(1);
    for b in 0..nb {
        m.apply(
            full,
            &k[b * bin..(b + 1) * bin],
            t.map(|t| &t[b * bin..(b + 1) * bin]),
            d1,
            &d2[b * sites_in..(b + 1) * sites_in],
            &mut k_out[b * bout..(b + 1) * bout],
            t_out
                .as_deref_mut()
                .map(|t| &mut t[b * bout..(b + 1) * bout]),
        );
    }
}

pub(crate) fn block_len(sites: usize, full: bool) -> usize {
    if full {
        sites * sites
    } else {
        sites
    }
}

/// The site diagonals of `n` self-covariance blocks, one after the other (`n × sites`).
fn site_diagonals(cov: &[f64], sites: usize, full: bool) -> Vec<f64> {
    if full {
        cov.chunks(sites * sites)
            .flat_map(|b| (0..sites).map(move |s| b[s * sites + s]))
            .collect()
    } else {
        cov.to_vec()
    }
}

/// Where the input blocks of a fused chain of maps come from.
enum Source<'a> {
    /// Stored blocks, owned by the chain (`ntk = None`: Θ = 0); the outputs reuse the arrays
    /// when the block size does not change.
    Owned {
        nngp: Vec<f64>,
        ntk: Option<Vec<f64>>,
    },
    /// The input kernel `K⁰`, computed block by block from the examples (Θ⁰ = 0).
    Gram { x1: &'a Batch, x2: &'a Batch },
}

/// Sizes of the kernel entering a chain.
#[derive(Clone, Copy)]
struct ChainShape {
    n1: usize,
    n2: usize,
    sites: usize,
    full: bool,
    symmetric: bool,
}

/// Entries of input (or widest intermediate) blocks processed per task of a fused chain: the
/// ping-pong buffers of a task stay in the L2 cache.
const CHUNK_ENTRIES: usize = 4096;

/// Per-thread ping-pong buffers of a fused chain (reused, so no page faults per task).
#[derive(Default)]
struct ChainBuffers {
    k: [Vec<f64>; 2],
    t: [Vec<f64>; 2],
}

thread_local! {
    static CHAIN_BUFFERS: std::cell::RefCell<ChainBuffers> = Default::default();
}

/// A reference to a map is the map (so `&M` with `M: ?Sized` passes as `&dyn BlockMap`).
impl<M: BlockMap + ?Sized> BlockMap for &M {
    fn sites_out(&self, sites_in: usize) -> usize {
        (**self).sites_out(sites_in)
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
        (**self).apply(full, k, t, d1, d2, k_out, t_out)
    }
    fn apply_row(
        &self,
        full: bool,
        sites_in: usize,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        (**self).apply_row(full, sites_in, k, t, d1, d2, k_out, t_out)
    }
}

/// `out[s, s'] = (1/C) Σ_c a[s,c] b[s',c]` (or only `s = s'` when not `full`).
fn gram_block(a: &[f64], b: &[f64], sites: usize, full: bool, out: &mut [f64]) {
    let channels = a.len() / sites;
    let inv_c = 1.0 / channels as f64;
    if full {
        for s in 0..sites {
            let xs = &a[s * channels..(s + 1) * channels];
            for s2 in 0..sites {
                let ys = &b[s2 * channels..(s2 + 1) * channels];
                out[s * sites + s2] = dot(xs, ys) * inv_c;
            }
        }
    } else {
        for (s, o) in out.iter_mut().enumerate().take(sites) {
            let r = s * channels..(s + 1) * channels;
            *o = dot(&a[r.clone()], &b[r]) * inv_c;
        }
    }
}

/// Mirror the strict upper triangle of a square row-major matrix into its lower triangle.
fn mirror_upper(m: faer::MatMut<'_, f64>) {
    let n = m.nrows();
    if n <= 64 {
        let mut m = m;
        for i in 0..n {
            for j in 0..i {
                m[(i, j)] = m[(j, i)];
            }
        }
        return;
    }
    let h = n / 2;
    let (tl, tr, bl, br) = m.split_at_mut(h, h);
    rayon::join(
        || transpose_into(bl, tr.as_ref()),
        || rayon::join(|| mirror_upper(tl), || mirror_upper(br)),
    );
}

/// `dst = srcᵀ`, in cache-sized tiles.
fn transpose_into(dst: faer::MatMut<'_, f64>, src: faer::MatRef<'_, f64>) {
    let (r, c) = (dst.nrows(), dst.ncols());
    if r * c <= 64 * 64 {
        let mut dst = dst;
        for i in 0..r {
            for j in 0..c {
                dst[(i, j)] = src[(j, i)];
            }
        }
    } else if r >= c {
        let (d0, d1) = dst.split_at_row_mut(r / 2);
        let (s0, s1) = src.split_at_col(r / 2);
        rayon::join(|| transpose_into(d0, s0), || transpose_into(d1, s1));
    } else {
        let (d0, d1) = dst.split_at_col_mut(c / 2);
        let (s0, s1) = src.split_at_row(c / 2);
        rayon::join(|| transpose_into(d0, s0), || transpose_into(d1, s1));
    }
}

impl Kernel {
    /// The input kernel `K⁰[s,s'](x, x') = (1/C) Σ_c x[s,c] x'[s',c]`, `Θ⁰ = 0` (MATH.md §1).
    ///
    /// Examples have shape `[*grid, C]` (a vector `[D]` is one site with `D` channels). `x2 =
    /// None` means `x2 = x1` (the symmetric case). `full` keeps every site pair; otherwise only
    /// `s = s'` is kept.
    pub fn input(x1: &Batch, x2: Option<&Batch>, full: bool) -> Result<Self> {
        let (sites, full) = Self::check_input(x1, x2, full)?;
        let symmetric = x2.is_none();
        let x2b = x2.unwrap_or(x1);
        let (n1, n2) = (x1.len(), x2b.len());
        let blen = block_len(sites, full);
        let channels = x1.shape().last().copied().unwrap_or(1);

        let mut nngp = vec![0.0; n1 * n2 * blen];
        let cov1 = if sites == 1 {
            // One site: the NNGP is the Gram matrix X1 X2ᵀ / C, a single faer product (only
            // its upper triangle when x2 = x1).
            use faer::linalg::matmul::triangular::{matmul, BlockStructure};
            let a = faer::MatRef::from_row_major_slice(x1.values(), n1, channels);
            let b = faer::MatRef::from_row_major_slice(x2b.values(), n2, channels);
            let dst = faer::MatMut::from_row_major_slice_mut(&mut nngp, n1, n2);
            let structure = if symmetric {
                BlockStructure::TriangularUpper
            } else {
                BlockStructure::Rectangular
            };
            matmul(
                dst,
                structure,
                faer::Accum::Replace,
                a,
                BlockStructure::Rectangular,
                b.transpose(),
                BlockStructure::Rectangular,
                1.0 / channels as f64,
                faer::Par::rayon(0),
            );
            // The variances are the diagonal of the same product, so that ρ(x, x) = 1 exactly.
            if symmetric {
                (0..n1).map(|i| nngp[i * n2 + i]).collect()
            } else {
                Self::self_covariance(x1, sites, full)
            }
        } else {
            nngp.par_chunks_mut(n2 * blen)
                .enumerate()
                .for_each(|(i, row)| {
                    let j0 = if symmetric { i } else { 0 };
                    for j in j0..n2 {
                        let out = &mut row[j * blen..(j + 1) * blen];
                        gram_block(x1.example(i), x2b.example(j), sites, full, out);
                    }
                });
            Self::self_covariance(x1, sites, full)
        };
        let cov2 = x2.map(|x| Self::self_covariance(x, sites, full));
        Ok(Self {
            n1,
            n2,
            sites,
            full,
            symmetric,
            upper_only: symmetric && (sites > 1 || n1 > 1),
            ntk: None,
            nngp,
            cov1,
            cov2,
        })
    }

    /// A kernel with one site per example from its N1×N2 matrices (row-major, every entry
    /// filled) and the self-variances of each batch; `cov2 = None` means `x2 = x1`. `full` is
    /// the site layout of the network the kernel continues through (one site either way).
    pub(crate) fn from_single_site(
        (n1, n2): (usize, usize),
        full: bool,
        nngp: Vec<f64>,
        ntk: Vec<f64>,
        cov1: Vec<f64>,
        cov2: Option<Vec<f64>>,
    ) -> Self {
        debug_assert!(nngp.len() == n1 * n2 && ntk.len() == n1 * n2 && cov1.len() == n1);
        Self {
            n1,
            n2,
            sites: 1,
            full,
            symmetric: cov2.is_none(),
            upper_only: false,
            nngp,
            ntk: Some(ntk),
            cov1,
            cov2,
        }
    }

    /// The input kernel followed by the maps `maps` (as [`Kernel::input`] then
    /// [`Kernel::map_chain`]), without storing the input kernel when it has several sites: its
    /// blocks are computed where the first map needs them.
    pub fn input_mapped(
        x1: &Batch,
        x2: Option<&Batch>,
        full: bool,
        maps: &[&dyn BlockMap],
    ) -> Result<Self> {
        let (sites, full) = Self::check_input(x1, x2, full)?;
        if sites == 1 || maps.is_empty() {
            return Ok(Self::input(x1, x2, full)?.map_chain(maps));
        }
        let cov1 = Self::self_covariance(x1, sites, full);
        let cov2 = x2.map(|x| Self::self_covariance(x, sites, full));
        let source = Source::Gram {
            x1,
            x2: x2.unwrap_or(x1),
        };
        let (n1, n2) = (x1.len(), x2.unwrap_or(x1).len());
        let shape = ChainShape {
            n1,
            n2,
            sites,
            full,
            symmetric: x2.is_none(),
        };
        Ok(run_chain(shape, source, cov1, cov2, maps))
    }

    /// Check that `x1` and `x2` fit together; the number of sites per example.
    fn check_input(x1: &Batch, x2: Option<&Batch>, full: bool) -> Result<(usize, bool)> {
        if let Some(x2) = x2 {
            if x2.shape() != x1.shape() {
                return Err(Error::Shape(format!(
                    "x1 examples have shape {:?} but x2 examples have shape {:?}",
                    x1.shape(),
                    x2.shape()
                )));
            }
        }
        let shape = x1.shape();
        let sites = if shape.len() <= 1 {
            1
        } else {
            shape[..shape.len() - 1].iter().product()
        };
        Ok((sites, full))
    }

    /// The blocks `K⁰(x_i, x_i)` of every example of `x`, one after the other.
    fn self_covariance(x: &Batch, sites: usize, full: bool) -> Vec<f64> {
        let blen = block_len(sites, full);
        let mut cov = vec![0.0; x.len() * blen];
        cov.par_chunks_mut(blen)
            .enumerate()
            .for_each(|(i, out)| gram_block(x.example(i), x.example(i), sites, full, out));
        cov
    }

    /// Apply one layer's [`BlockMap`] to every example pair (in parallel over rows).
    pub fn map<M: BlockMap + ?Sized>(self, m: &M) -> Self {
        self.map_chain(&[&m])
    }

    /// Apply several layers' maps in sequence, `maps[0]` first: the same result as
    /// `self.map(maps[0]).map(maps[1])…`, but each example pair goes through the whole chain
    /// while its blocks are in cache, and no intermediate kernel is stored.
    ///
    /// A map's NNGP output must not depend on whether it is also given the NTK (the
    /// self-covariances are mapped without it); every layer of eqntk satisfies this.
    pub fn map_chain(self, maps: &[&dyn BlockMap]) -> Self {
        if maps.is_empty() {
            return self;
        }
        let shape = ChainShape {
            n1: self.n1,
            n2: self.n2,
            sites: self.sites,
            full: self.full,
            symmetric: self.symmetric,
        };
        let Kernel {
            nngp,
            ntk,
            cov1,
            cov2,
            ..
        } = self;
        run_chain(shape, Source::Owned { nngp, ntk }, cov1, cov2, maps)
    }

    /// Fill the blocks below the diagonal of a symmetric kernel:
    /// `K[s,s'](x_j, x_i) = K[s',s](x_i, x_j)`. A no-op for other kernels.
    pub fn complete(mut self) -> Self {
        if !self.upper_only {
            return self;
        }
        let (n, s, full) = (self.n1, self.sites, self.full);
        let b = block_len(s, full);
        let ntk = self.ntk.get_or_insert_with(|| vec![0.0; n * n * b]);
        for arr in [&mut self.nngp, ntk] {
            if b == 1 {
                mirror_upper(faer::MatMut::from_row_major_slice_mut(arr, n, n));
                continue;
            }
            for i in 0..n {
                for j in 0..i {
                    let (src, dst) = ((j * n + i) * b, (i * n + j) * b);
                    if full {
                        for a in 0..s {
                            for c in 0..s {
                                arr[dst + a * s + c] = arr[src + c * s + a];
                            }
                        }
                    } else {
                        arr.copy_within(src..src + b, dst);
                    }
                }
            }
        }
        self.upper_only = false;
        self
    }
}

/// The self-covariances through every stage of a chain: `covs[l]` enters `maps[l]`.
fn self_covariances(
    cov: Vec<f64>,
    sites: &[usize],
    full: bool,
    maps: &[&dyn BlockMap],
) -> Vec<Vec<f64>> {
    let mut covs = vec![cov];
    for (l, m) in maps.iter().enumerate() {
        let (s, bin, bout) = (
            sites[l],
            block_len(sites[l], full),
            block_len(sites[l + 1], full),
        );
        let prev = &covs[l];
        let n = prev.len() / bin;
        let d = site_diagonals(prev, s, full);
        let mut out = vec![0.0; n * bout];
        out.par_chunks_mut(bout).enumerate().for_each(|(i, o)| {
            let di = &d[i * s..(i + 1) * s];
            m.apply(full, &prev[i * bin..(i + 1) * bin], None, di, di, o, None)
        });
        covs.push(out);
    }
    covs
}

/// Run `maps` over every example pair (only `j ≥ i` when symmetric), each task taking a run of
/// blocks of one row through the whole chain in per-thread buffers.
fn run_chain(
    shape: ChainShape,
    source: Source<'_>,
    cov1: Vec<f64>,
    cov2: Option<Vec<f64>>,
    maps: &[&dyn BlockMap],
) -> Kernel {
    let ChainShape {
        n1,
        n2,
        full,
        symmetric,
        ..
    } = shape;
    let mut sites = vec![shape.sites];
    for m in maps {
        sites.push(m.sites_out(*sites.last().unwrap()));
    }
    let blens: Vec<usize> = sites.iter().map(|&s| block_len(s, full)).collect();
    let (b0, bl) = (blens[0], *blens.last().unwrap());
    let widest = *blens.iter().max().unwrap();
    let chunk = (CHUNK_ENTRIES / widest).max(1);

    let covs1 = self_covariances(cov1, &sites, full, maps);
    let covs2 = cov2.map(|c| self_covariances(c, &sites, full, maps));
    let diagonals = |covs: &Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        covs.iter()
            .zip(&sites)
            .map(|(c, &s)| site_diagonals(c, s, full))
            .collect()
    };
    let d1s = diagonals(&covs1);
    let d2s = covs2.as_ref().map(diagonals);
    let d2s_ref = d2s.as_ref().unwrap_or(&d1s);

    let gram = match &source {
        Source::Gram { x1, x2 } => Some((*x1, *x2)),
        _ => None,
    };
    // Outputs: the input arrays themselves when the block size is unchanged.
    let (mut out_k, mut out_t, in_place_k, in_place_t, stored) = match source {
        Source::Owned { nngp, ntk } if bl == b0 => {
            let has_t = ntk.is_some();
            let t = ntk.unwrap_or_else(|| vec![0.0; n1 * n2 * bl]);
            (nngp, t, true, has_t, None)
        }
        Source::Owned { nngp, ntk } => (
            vec![0.0; n1 * n2 * bl],
            vec![0.0; n1 * n2 * bl],
            false,
            false,
            Some((nngp, ntk)),
        ),
        Source::Gram { .. } => (
            vec![0.0; n1 * n2 * bl],
            vec![0.0; n1 * n2 * bl],
            false,
            false,
            None,
        ),
    };
    let task = |i: usize, ja: usize, kc: &mut [f64], tc: &mut [f64]| {
        let nb = kc.len() / bl;
        let mut bufs = CHAIN_BUFFERS.with(|b| std::mem::take(&mut *b.borrow_mut()));
        for v in bufs.k.iter_mut().chain(bufs.t.iter_mut()) {
            if v.len() < nb * widest {
                v.resize(nb * widest, 0.0);
            }
        }
        let ChainBuffers {
            k: [ka, kb],
            t: [ta, tb],
        } = &mut bufs;
        // Stage the input blocks in the first buffers.
        let (k0, t0) = (&mut ka[..nb * b0], &mut ta[..nb * b0]);
        let range = (i * n2 + ja) * b0..(i * n2 + ja + nb) * b0;
        if in_place_k {
            k0.copy_from_slice(kc);
        } else if let Some((nngp, _)) = &stored {
            k0.copy_from_slice(&nngp[range.clone()]);
        } else if let Some((x1, x2)) = gram {
            for (b, out) in k0.chunks_mut(b0).enumerate() {
                gram_block(x1.example(i), x2.example(ja + b), sites[0], full, out);
            }
        }
        match &stored {
            _ if in_place_t => t0.copy_from_slice(tc),
            Some((_, Some(ntk))) => t0.copy_from_slice(&ntk[range]),
            _ => t0.fill(0.0),
        }
        let mut cur = 0;
        for (l, m) in maps.iter().enumerate() {
            let (s, bin, bout) = (sites[l], blens[l], blens[l + 1]);
            let (kin, kout, tin, tout) = if cur == 0 {
                (
                    &ka[..nb * bin],
                    &mut kb[..nb * bout],
                    &ta[..nb * bin],
                    &mut tb[..nb * bout],
                )
            } else {
                (
                    &kb[..nb * bin],
                    &mut ka[..nb * bout],
                    &tb[..nb * bin],
                    &mut ta[..nb * bout],
                )
            };
            m.apply_row(
                full,
                s,
                kin,
                Some(tin),
                &d1s[l][i * s..(i + 1) * s],
                &d2s_ref[l][ja * s..(ja + nb) * s],
                kout,
                Some(tout),
            );
            cur = 1 - cur;
        }
        let (kr, tr) = if cur == 0 { (&*ka, &*ta) } else { (&*kb, &*tb) };
        kc.copy_from_slice(&kr[..nb * bl]);
        tc.copy_from_slice(&tr[..nb * bl]);
        CHAIN_BUFFERS.with(|b| *b.borrow_mut() = bufs);
    };

    out_k
        .par_chunks_mut(n2 * bl)
        .zip(out_t.par_chunks_mut(n2 * bl))
        .enumerate()
        .for_each(|(i, (krow, trow))| {
            let j0 = if symmetric { i } else { 0 };
            krow[j0 * bl..]
                .par_chunks_mut(chunk * bl)
                .zip(trow[j0 * bl..].par_chunks_mut(chunk * bl))
                .enumerate()
                .for_each(|(c, (kc, tc))| task(i, j0 + c * chunk, kc, tc));
        });

    let sites_out = *sites.last().unwrap();
    Kernel {
        n1,
        n2,
        sites: sites_out,
        full,
        symmetric,
        upper_only: symmetric && (sites_out > 1 || n1 > 1),
        nngp: out_k,
        ntk: Some(out_t),
        cov1: covs1.into_iter().last().unwrap(),
        cov2: covs2.map(|c| c.into_iter().last().unwrap()),
    }
}

impl Kernel {
    /// The first quantity of the kernel holding a non-finite value (±∞ or NaN), checked in the
    /// order `K`, `Θ`, `K(x, x)`, `K(x′, x′)`; `None` when every value is finite.
    pub fn check_finite(&self) -> Option<&'static str> {
        let bad = |v: &[f64]| v.iter().any(|x| !x.is_finite());
        if bad(&self.nngp) {
            Some("K")
        } else if self.ntk.as_deref().is_some_and(bad) {
            Some("Θ")
        } else if bad(&self.cov1) {
            Some("K(x, x)")
        } else if self.cov2.as_deref().is_some_and(bad) {
            Some("K(x′, x′)")
        } else {
            None
        }
    }

    /// `self`, or [`Error::NonFinite`] when [`Kernel::check_finite`] finds a non-finite value
    /// after `layers` (the run `layers[from..from + layers.len()]` that produced it; empty for the
    /// input kernel). The error names the layers, the quantity and the scale parameters of
    /// those layers ([`crate::layer::LayerKind::parameters`]).
    pub fn finite_after(self, layers: &[crate::layer::Layer], from: usize) -> Result<Self> {
        let Some(quantity) = self.check_finite() else {
            return Ok(self);
        };
        let kinds: Vec<&str> = layers.iter().map(|l| l.kind()).collect();
        let layer = match layers.len() {
            0 => "[input]".to_string(),
            1 => format!("layers[{from}] ({})", kinds[0]),
            n => format!(
                "layers[{from}]–layers[{}] ({})",
                from + n - 1,
                kinds.join(", ")
            ),
        };
        let params: Vec<String> = layers
            .iter()
            .flat_map(|l| l.parameters())
            .map(|(name, v)| format!("{name} = {}", crate::symbolic::print::compact_number(v)))
            .collect();
        let cause = if params.is_empty() {
            "the kernel entering it is too large".to_string()
        } else {
            params.join(", ")
        };
        Err(Error::NonFinite {
            layer,
            quantity: quantity.to_string(),
            cause: if layers.is_empty() {
                "the input values are too large".to_string()
            } else {
                cause
            },
        })
    }

    /// The kernel of branch outputs combined entrywise (MATH.md §5b): for a sum of independent
    /// branches `K = Σ_b K_b`, `Θ = Σ_b Θ_b`; for a product `K = Π_b K_b` and
    /// `Θ = Σ_b Θ_b Π_{c≠b} K_c`, at every example pair and site pair (the self-covariances
    /// likewise). Every kernel has the same layout: the branches of one layer, from one input.
    pub fn combine(kernels: Vec<Kernel>, combine: crate::layer::Combine) -> Kernel {
        let mut it = kernels.into_iter();
        let mut acc = it
            .next()
            .expect("a composite layer has at least one branch");
        for k in it {
            debug_assert!(
                (k.n1, k.n2, k.sites, k.full, k.upper_only)
                    == (acc.n1, acc.n2, acc.sites, acc.full, acc.upper_only)
            );
            let zip = |a: &mut [f64], b: &[f64], f: &dyn Fn(f64, f64) -> f64| {
                a.iter_mut().zip(b).for_each(|(a, &b)| *a = f(*a, b))
            };
            match combine {
                crate::layer::Combine::Sum => {
                    let add = |a: f64, b: f64| a + b;
                    acc.ntk = match (acc.ntk.take(), k.ntk) {
                        (Some(mut a), Some(b)) => {
                            zip(&mut a, &b, &add);
                            Some(a)
                        }
                        (a, b) => a.or(b),
                    };
                    zip(&mut acc.nngp, &k.nngp, &add);
                    zip(&mut acc.cov1, &k.cov1, &add);
                    if let (Some(a), Some(b)) = (acc.cov2.as_mut(), k.cov2.as_ref()) {
                        zip(a, b, &add);
                    }
                }
                crate::layer::Combine::Prod => {
                    let mul = |a: f64, b: f64| a * b;
                    // Θ ← Θ·K_b + K·Θ_b before K ← K·K_b.
                    acc.ntk = match (acc.ntk.take(), k.ntk) {
                        (None, None) => None,
                        (ta, tb) => {
                            let mut out = vec![0.0; acc.nngp.len()];
                            if let Some(ta) = ta {
                                for ((o, t), kb) in out.iter_mut().zip(&ta).zip(&k.nngp) {
                                    *o += t * kb;
                                }
                            }
                            if let Some(tb) = tb {
                                for ((o, t), ka) in out.iter_mut().zip(&tb).zip(&acc.nngp) {
                                    *o += ka * t;
                                }
                            }
                            Some(out)
                        }
                    };
                    zip(&mut acc.nngp, &k.nngp, &mul);
                    zip(&mut acc.cov1, &k.cov1, &mul);
                    if let (Some(a), Some(b)) = (acc.cov2.as_mut(), k.cov2.as_ref()) {
                        zip(a, b, &mul);
                    }
                }
            }
        }
        acc
    }

    /// Number of examples in `x1`.
    pub fn n1(&self) -> usize {
        self.n1
    }
    /// Number of examples in `x2`.
    pub fn n2(&self) -> usize {
        self.n2
    }
    /// Number of sites S per example.
    pub fn sites(&self) -> usize {
        self.sites
    }
    /// True when every site pair is kept, false when only the site diagonal is.
    pub fn is_full(&self) -> bool {
        self.full
    }
    /// True when `x2` is `x1`.
    pub fn is_symmetric(&self) -> bool {
        self.symmetric
    }

    fn block(&self, arr: &[f64], i: usize, j: usize) -> Vec<f64> {
        assert!(i < self.n1 && j < self.n2, "example index out of range");
        let b = block_len(self.sites, self.full);
        if self.upper_only && j < i {
            let src = &arr[(j * self.n2 + i) * b..(j * self.n2 + i + 1) * b];
            if self.full {
                let s = self.sites;
                (0..b).map(|k| src[(k % s) * s + k / s]).collect()
            } else {
                src.to_vec()
            }
        } else {
            arr[(i * self.n2 + j) * b..(i * self.n2 + j + 1) * b].to_vec()
        }
    }

    /// The NNGP block `K[·,·](x1_i, x2_j)`: S×S row-major if full, the S site-diagonal values
    /// otherwise.
    pub fn nngp_block(&self, i: usize, j: usize) -> Vec<f64> {
        self.block(&self.nngp, i, j)
    }
    /// The NTK block `Θ[·,·](x1_i, x2_j)`, laid out as [`Kernel::nngp_block`].
    pub fn ntk_block(&self, i: usize, j: usize) -> Vec<f64> {
        match &self.ntk {
            Some(ntk) => self.block(ntk, i, j),
            None => {
                assert!(i < self.n1 && j < self.n2, "example index out of range");
                vec![0.0; block_len(self.sites, self.full)]
            }
        }
    }
    /// The self-covariance block `K[·,·](x1_i, x1_i)`.
    pub fn cov1_block(&self, i: usize) -> &[f64] {
        let b = block_len(self.sites, self.full);
        &self.cov1[i * b..(i + 1) * b]
    }
    /// The self-covariance block `K[·,·](x2_j, x2_j)`.
    pub fn cov2_block(&self, j: usize) -> &[f64] {
        let b = block_len(self.sites, self.full);
        match &self.cov2 {
            Some(c) => &c[j * b..(j + 1) * b],
            None => &self.cov1[j * b..(j + 1) * b],
        }
    }

    fn matrix(&self, arr: &[f64]) -> Result<Mat<f64>> {
        if self.sites != 1 {
            return Err(Error::Shape(format!(
                "the kernel still has {} sites per example; end the network with a readout \
                 (flatten, global_avg_pool or group_pool) to get an N1×N2 matrix",
                self.sites
            )));
        }
        let (n1, n2) = (self.n1, self.n2);
        if arr.is_empty() {
            return Ok(Mat::zeros(n1, n2));
        }
        if !self.upper_only {
            return Ok(faer::MatRef::from_row_major_slice(arr, n1, n2).to_owned());
        }
        Ok(Mat::from_fn(n1, n2, |i, j| {
            if self.upper_only && j < i {
                arr[j * n2 + i]
            } else {
                arr[i * n2 + j]
            }
        }))
    }

    /// The N1×N2 NNGP matrix `K(x1_i, x2_j)`; an error while sites remain.
    pub fn nngp(&self) -> Result<Mat<f64>> {
        self.matrix(&self.nngp)
    }
    /// The N1×N2 NTK matrix `Θ(x1_i, x2_j)`; an error while sites remain.
    pub fn ntk(&self) -> Result<Mat<f64>> {
        match &self.ntk {
            Some(ntk) => self.matrix(ntk),
            None => self.matrix(&[]).map(|_| Mat::zeros(self.n1, self.n2)),
        }
    }
    /// The N1 self-variances `K(x1_i, x1_i)` once the sites are read out.
    pub fn cov1(&self) -> Result<Vec<f64>> {
        self.single_site_cov(&self.cov1)
    }
    /// The N2 self-variances `K(x2_j, x2_j)` once the sites are read out.
    pub fn cov2(&self) -> Result<Vec<f64>> {
        self.single_site_cov(self.cov2.as_ref().unwrap_or(&self.cov1))
    }
    fn single_site_cov(&self, c: &[f64]) -> Result<Vec<f64>> {
        if self.sites != 1 {
            return Err(Error::Shape(format!(
                "the kernel still has {} sites per example",
                self.sites
            )));
        }
        Ok(c.to_vec())
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
