//! Window pooling: the sum or the mean of each window of a grid, moved by a stride
//! (neural-tangents' `SumPool` and `AvgPool` with `normalize_edges = False`).
//!
//! ```toml
//! [[layers]]
//! kind = "avg_pool"        # or "sum_pool"
//! window = [2, 2]
//! stride = [2, 2]          # default 1 on every axis
//! padding = "valid"        # default; "same" or "circular"
//! ```
//!
//! Output site `p` reads the input sites `s·p + δ`, `δ ∈ F` (the window, shifted by the
//! padding before the grid: see [`super::window`]). The layer is linear without parameters,
//! so with `c = 1/|F|` (avg) or `c = 1` (sum)
//!
//! ```text
//! K′[p,p′] = c² Σ_{δ,δ′∈F} K[s·p+δ, s·p′+δ′]        (likewise Θ′)
//! ```
//!
//! a term being 0 where a site falls on `same` padding; the divisor of `avg_pool` stays `|F|`
//! at the edges.

use super::conv::Padding;
use super::keys::Keys;
use super::pool::reject_so2;
use super::shape::Shape;
use super::taps::Taps;
use super::window::{stride_factors, stride_text, GridWindow};
use super::{Layer, LayerKind, Registration, SiteNeed, Sums};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass, OpDims};
use crate::kernel::BlockMap;
use crate::symbolic::layers::{delta, p, pp};
use crate::symbolic::{Expr, Index, IndexSet, IndexVar, KernelKind, KernelSym, LayerDefinitions};

/// Whether a window is summed or averaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolOp {
    /// `sum_pool`.
    Sum,
    /// `avg_pool`: the sum divided by the window size (padding included).
    Avg,
}

/// Sum or average pooling over windows of a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowPool {
    /// Sum or mean.
    pub op: PoolOp,
    /// Window size per grid axis.
    pub window: Vec<usize>,
    /// Stride per grid axis.
    pub stride: Vec<usize>,
    /// Boundary handling.
    pub padding: Padding,
}

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["avg_pool", "sum_pool"],
    parse: |kind, mut keys| {
        let window = keys
            .usize_list("window")?
            .ok_or_else(|| keys.key_err("window", "missing key `window` (e.g. window = [2, 2])"))?;
        let stride = keys
            .usize_list("stride")?
            .unwrap_or_else(|| vec![1; window.len()]);
        let padding = parse_padding(&mut keys)?;
        keys.finish(&["window", "stride", "padding"])?;
        let op = if kind == "sum_pool" {
            PoolOp::Sum
        } else {
            PoolOp::Avg
        };
        Ok(Layer::new(WindowPool {
            op,
            window,
            stride,
            padding,
        }))
    },
    example: |kind| {
        format!(
            "[input]\nshape = [5, 4, 1]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3, 3]\n\
             w_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n[[layers]]\n\
             kind = \"{kind}\"\nwindow = [2, 2]\nstride = [2, 2]\npadding = \"same\"\n\n\
             [[layers]]\nkind = \"flatten\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n"
        )
    },
};

/// `padding`: `valid` (the default, as in neural-tangents' pooling), `same` or `circular`.
fn parse_padding(keys: &mut Keys) -> Result<Padding> {
    match keys.str_opt("padding")?.as_deref() {
        None | Some("valid") => Ok(Padding::Valid),
        Some("same") => Ok(Padding::Same),
        Some("circular") => Ok(Padding::Circular),
        Some(o) => Err(keys.key_err(
            "padding",
            format!("`padding` must be \"valid\", \"same\" or \"circular\", got \"{o}\""),
        )),
    }
}

impl WindowPool {
    /// The windows over `grid`, or why they do not fit.
    fn windows(&self, grid: &[usize]) -> Result<GridWindow, String> {
        GridWindow::try_new(grid, &self.window, &self.stride, self.padding, "window")
    }

    /// The factor `c` of one summed term: `1/|F|` (avg) or 1 (sum).
    fn weight(&self) -> f64 {
        match self.op {
            PoolOp::Sum => 1.0,
            PoolOp::Avg => 1.0 / self.window.iter().product::<usize>() as f64,
        }
    }

    /// The window positions `F` relative to `s·p` on the input grid `grid` (row-major), as the
    /// derivation interpreter enumerates them.
    pub fn offsets(&self, grid: &[usize]) -> Vec<Vec<i64>> {
        self.windows(grid).map_or(vec![], |w| w.offsets())
    }

    fn taps(&self, input: &Shape) -> Taps {
        self.windows(&input.grid)
            .expect("checked by output_shape")
            .taps()
    }
}

impl LayerKind for WindowPool {
    fn taps(&self) -> usize {
        self.window.iter().fold(1, |a, &w| a.saturating_mul(w))
    }

    fn sums(&self, input: &Shape) -> Sums<'_> {
        Sums::Window {
            offsets: self.offsets(&input.grid),
            padding: self.padding,
        }
    }

    fn kind(&self) -> &'static str {
        match self.op {
            PoolOp::Sum => "sum_pool",
            PoolOp::Avg => "avg_pool",
        }
    }

    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        reject_so2(input)?;
        if let Some(g) = input.lifted {
            return Err(format!(
                "features are indexed by {g} after a lift; {} pools plain grids only",
                self.kind()
            ));
        }
        if input.grid.is_empty() {
            return Err(format!(
                "{} needs a grid input ([W, C] or [H, W, C]), got a vector",
                self.kind()
            ));
        }
        let w = self.windows(&input.grid)?;
        Ok(Shape {
            grid: w.out_grid(),
            ..input.clone()
        })
    }

    /// Windows read covariances between different sites.
    fn site_need(&self) -> SiteNeed {
        SiteNeed::Full
    }

    fn block_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(PoolMap {
            taps: self.taps(input),
            c2: self.weight() * self.weight(),
        }))
    }

    /// `K⁽ˡ⁾[p,p′] = c² Σ_{δ∈F} Σ_{δ′∈F} K⁽ˡ⁻¹⁾[s p+δ, s p′+δ′]` (c = 1/|F| as the means of
    /// `avg_pool`), likewise Θ.
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let s = stride_text(&self.stride);
        let factors = stride_factors(&self.stride);
        let dp = IndexVar::delta().prime();
        let note = format!(
            "{} {}, stride {s}, {} padding, F = the window offsets from {s}*p{}",
            self.kind(),
            self.window
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join("x"),
            self.padding.name(),
            match self.windows(&input.grid) {
                Ok(w) if w.0.iter().any(|a| a.pad_lo() > 0) => " (starting before the edge)",
                _ => "",
            }
        );
        let defs = [KernelKind::Nngp, KernelKind::Ntk]
            .into_iter()
            .map(|kind| {
                let m = KernelSym::new(kind, l - 1).at(
                    p().scaled_axes(&factors) + delta(),
                    pp().scaled_axes(&factors) + Index::from(&dp),
                );
                let inner = |var, body| match self.op {
                    PoolOp::Sum => Expr::sum(var, IndexSet::Filter, body),
                    PoolOp::Avg => Expr::mean(var, IndexSet::Filter, body),
                };
                let rhs = inner(IndexVar::delta(), inner(dp.clone(), m.into()));
                (KernelSym::new(kind, l).at(p(), pp()), rhs, note.clone())
            })
            .collect();
        LayerDefinitions::new(defs)
    }

    fn finite_pass(
        &self,
        input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        let pass = PoolPass {
            taps: self.taps(input),
            c: self.weight(),
        };
        Ok((Box::new(pass), builder.ch_in))
    }

    fn summary(&self) -> String {
        let join = |v: &[usize]| {
            v.iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join("×")
        };
        format!(
            "{} {} stride {} {}",
            self.kind(),
            join(&self.window),
            join(&self.stride),
            self.padding.name()
        )
    }
}

/// The kernel map `M′ = c² P M Pᵀ` with `P[o, i]` the number of window positions of output
/// `o` on input site `i`.
#[derive(Debug)]
struct PoolMap {
    taps: Taps,
    c2: f64,
}

impl BlockMap for PoolMap {
    fn sites_out(&self, _sites_in: usize) -> usize {
        self.taps.n_out()
    }

    fn apply(
        &self,
        full: bool,
        k: &[f64],
        t: Option<&[f64]>,
        _d1: &[f64],
        _d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        // A site-diagonal block is only ever a single site (the layer needs full kernels).
        assert!(
            full || self.taps.n_in() == 1,
            "window pooling needs the full site × site kernel"
        );
        self.pool(k, k_out);
        if let (Some(t), Some(t_out)) = (t, t_out) {
            self.pool(t, t_out);
        }
    }
}

impl PoolMap {
    /// `out = c² P m Pᵀ`: the rows pooled first, then the columns.
    fn pool(&self, m: &[f64], out: &mut [f64]) {
        let (ni, no, nt) = (self.taps.n_in(), self.taps.n_out(), self.taps.n_taps());
        let mut rows = vec![0.0; no * ni];
        for o in 0..no {
            let row = &mut rows[o * ni..(o + 1) * ni];
            for i in (0..nt).filter_map(|t| self.taps.src(o, t)) {
                for (r, v) in row.iter_mut().zip(&m[i * ni..(i + 1) * ni]) {
                    *r += v;
                }
            }
        }
        for o in 0..no {
            let row = &rows[o * ni..(o + 1) * ni];
            for o2 in 0..no {
                let s: f64 = (0..nt)
                    .filter_map(|t| self.taps.src(o2, t))
                    .map(|i| row[i])
                    .sum();
                out[o * no + o2] = self.c2 * s;
            }
        }
    }
}

/// The finite pass `h′[o, c] = c Σ_t h[src(o,t), c]`.
#[derive(Debug)]
struct PoolPass {
    taps: Taps,
    c: f64,
}

impl FinitePass for PoolPass {
    fn forward(&self, _params: &[f64], d: &OpDims, h: &[f64]) -> (Vec<f64>, Option<Vec<f64>>) {
        let ch = d.ch_in;
        let mut out = vec![0.0; self.taps.n_out() * ch];
        for (o, row) in out.chunks_mut(ch).enumerate() {
            for i in (0..self.taps.n_taps()).filter_map(|t| self.taps.src(o, t)) {
                for (r, v) in row.iter_mut().zip(&h[i * ch..(i + 1) * ch]) {
                    *r += v;
                }
            }
            row.iter_mut().for_each(|r| *r *= self.c);
        }
        (out, None)
    }

    fn backward(
        &self,
        _params: &[f64],
        d: &OpDims,
        _h: &[f64],
        _cache: Option<&[f64]>,
        g: Vec<f64>,
        _grad: &mut [f64],
        _accumulate: bool,
        need_input: bool,
    ) -> Vec<f64> {
        if !need_input {
            return vec![];
        }
        let ch = d.ch_in;
        let mut out = vec![0.0; self.taps.n_in() * ch];
        for (o, row) in g.chunks(ch).enumerate() {
            for i in (0..self.taps.n_taps()).filter_map(|t| self.taps.src(o, t)) {
                for (r, v) in out[i * ch..(i + 1) * ch].iter_mut().zip(row) {
                    *r += self.c * v;
                }
            }
        }
        out
    }
}
