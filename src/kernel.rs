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
    ntk: Vec<f64>,
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
        mut t_out: Option<&mut [f64]>,
    ) {
        let bin = block_len(sites_in, full);
        let nb = k.len() / bin;
        let bout = k_out.len() / nb.max(1);
        for b in 0..nb {
            self.apply(
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

impl Kernel {
    /// The input kernel `K⁰[s,s'](x, x') = (1/C) Σ_c x[s,c] x'[s',c]`, `Θ⁰ = 0` (MATH.md §1).
    ///
    /// Examples have shape `[*grid, C]` (a vector `[D]` is one site with `D` channels). `x2 =
    /// None` means `x2 = x1` (the symmetric case). `full` keeps every site pair; otherwise only
    /// `s = s'` is kept.
    pub fn input(x1: &Batch, x2: Option<&Batch>, full: bool) -> Result<Self> {
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
        let channels = *shape.last().expect("a batch has a non-empty shape");
        let sites = if shape.len() == 1 {
            1
        } else {
            shape[..shape.len() - 1].iter().product()
        };
        let inv_c = 1.0 / channels as f64;
        let symmetric = x2.is_none();
        let x2b = x2.unwrap_or(x1);
        let (n1, n2) = (x1.len(), x2b.len());
        let blen = block_len(sites, full);

        let gram_block = |a: &[f64], b: &[f64], out: &mut [f64]| {
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
        };

        let mut nngp = vec![0.0; n1 * n2 * blen];
        if sites == 1 {
            // One site: the NNGP is the Gram matrix X1 X2ᵀ / C, a single faer product.
            let a = faer::MatRef::from_row_major_slice(x1.values(), n1, channels);
            let b = faer::MatRef::from_row_major_slice(x2b.values(), n2, channels);
            let dst = faer::MatMut::from_row_major_slice_mut(&mut nngp, n1, n2);
            faer::linalg::matmul::matmul(
                dst,
                faer::Accum::Replace,
                a,
                b.transpose(),
                inv_c,
                faer::Par::rayon(0),
            );
        } else {
            nngp.par_chunks_mut(n2 * blen)
                .enumerate()
                .for_each(|(i, row)| {
                    let j0 = if symmetric { i } else { 0 };
                    for j in j0..n2 {
                        gram_block(
                            x1.example(i),
                            x2b.example(j),
                            &mut row[j * blen..(j + 1) * blen],
                        );
                    }
                });
        }
        let self_cov = |x: &Batch| {
            let mut cov = vec![0.0; x.len() * blen];
            cov.par_chunks_mut(blen)
                .enumerate()
                .for_each(|(i, out)| gram_block(x.example(i), x.example(i), out));
            cov
        };
        let cov1 = self_cov(x1);
        let cov2 = x2.map(self_cov);
        Ok(Self {
            n1,
            n2,
            sites,
            full,
            symmetric,
            upper_only: symmetric && sites > 1,
            ntk: vec![0.0; n1 * n2 * blen],
            nngp,
            cov1,
            cov2,
        })
    }

    /// Apply one layer's [`BlockMap`] to every example pair (in parallel over rows).
    pub fn map<M: BlockMap + ?Sized>(self, m: &M) -> Self {
        let sites_out = m.sites_out(self.sites);
        let full = self.full;
        let (bin, bout) = (block_len(self.sites, full), block_len(sites_out, full));
        let sites = self.sites;
        let d1 = site_diagonals(&self.cov1, sites, full);
        let d2 = self.cov2.as_deref().map(|c| site_diagonals(c, sites, full));
        let d2r = d2.as_ref().unwrap_or(&d1);
        let (n1, n2) = (self.n1, self.n2);
        let upper = self.symmetric;

        let mut nngp = vec![0.0; n1 * n2 * bout];
        let mut ntk = vec![0.0; n1 * n2 * bout];
        nngp.par_chunks_mut(n2 * bout)
            .zip(ntk.par_chunks_mut(n2 * bout))
            .enumerate()
            .for_each(|(i, (krow, trow))| {
                let j0 = if upper { i } else { 0 };
                let (a, b) = ((i * n2 + j0) * bin, (i * n2 + n2) * bin);
                m.apply_row(
                    full,
                    sites,
                    &self.nngp[a..b],
                    Some(&self.ntk[a..b]),
                    &d1[i * sites..(i + 1) * sites],
                    &d2r[j0 * sites..n2 * sites],
                    &mut krow[j0 * bout..],
                    Some(&mut trow[j0 * bout..]),
                );
            });
        let self_map = |cov: &[f64], d: &[f64]| {
            let n = d.len() / sites;
            let mut out = vec![0.0; n * bout];
            out.par_chunks_mut(bout).enumerate().for_each(|(i, o)| {
                let di = &d[i * sites..(i + 1) * sites];
                m.apply(full, &cov[i * bin..(i + 1) * bin], None, di, di, o, None)
            });
            out
        };
        let cov1 = if upper {
            // x2 = x1: the self-covariances are the diagonal blocks of the cross kernel.
            (0..n1)
                .flat_map(|i| nngp[(i * n2 + i) * bout..(i * n2 + i + 1) * bout].to_vec())
                .collect()
        } else {
            self_map(&self.cov1, &d1)
        };
        let cov2 = match (&self.cov2, &d2) {
            (Some(c), Some(d)) => Some(self_map(c, d)),
            _ => None,
        };
        Self {
            n1,
            n2,
            sites: sites_out,
            full,
            symmetric: self.symmetric,
            upper_only: upper && (sites_out > 1 || n1 > 1),
            nngp,
            ntk,
            cov1,
            cov2,
        }
    }

    /// Fill the blocks below the diagonal of a symmetric kernel:
    /// `K[s,s'](x_j, x_i) = K[s',s](x_i, x_j)`. A no-op for other kernels.
    pub fn complete(mut self) -> Self {
        if !self.upper_only {
            return self;
        }
        let (n, s, full) = (self.n1, self.sites, self.full);
        let b = block_len(s, full);
        for arr in [&mut self.nngp, &mut self.ntk] {
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
        self.block(&self.ntk, i, j)
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
        self.matrix(&self.ntk)
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
