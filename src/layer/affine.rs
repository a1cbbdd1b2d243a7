//! The affine plumbing shared by dense, conv, lift and group_conv: their parameters
//! ([`Weights`]), their kernel map ([`AffineMap`]) and their finite-width pass ([`AffinePass`]).
//!
//! NTK parameterisation (`σ_w/√fan_in · W h + σ_b b`):
//!
//! ```text
//! K' = σ_w² A[K] + σ_b²        Θ' = σ_w² A[Θ] + K'
//! ```
//!
//! Standard parameterisation (`W ~ N(0, σ_w²/fan_in)`, `b ~ N(0, σ_b²)`), with `n` the fan-in:
//!
//! ```text
//! K' = σ_w² A[K] + σ_b²        Θ' = n·A[K] + σ_w² A[Θ] + [1 if the layer has a bias]
//! ```
//!
//! `A` is the identity for a dense layer and the tap average of [`Taps`] for a convolution
//! (MATH.md §2, §4); for a convolution the fan-in is `C_in · q`.

use rand::Rng;
use rand_distr::StandardNormal;

use super::keys::Keys;
use super::shape::Shape;
use super::taps::Taps;
use crate::error::Result;
use crate::finite::{matmul, rm, rm_mut, FiniteBuilder, FinitePass, OpDims};
use crate::kernel::BlockMap;

/// How weights are scaled (MATH.md §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Parameterization {
    /// `σ_w/√fan_in · W h + σ_b b` with `W, b ~ N(0, 1)` (neural-tangents' default).
    #[default]
    Ntk,
    /// `W h + b` with `W ~ N(0, σ_w²/fan_in)`, `b ~ N(0, σ_b²)`.
    Standard,
}

impl Parameterization {
    /// The name used in network files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ntk => "ntk",
            Self::Standard => "standard",
        }
    }
}

/// The parameters every affine layer has: `w_std = σ_w`, `b_std = σ_b` (`None`: no bias),
/// `width` (output channels, neural-tangents' `out_dim`/`out_chan`) and the parameterisation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    /// σ_w.
    pub w_std: f64,
    /// σ_b, `None` for no bias.
    pub b_std: Option<f64>,
    /// Output channels: the fan-in of the next layer in standard parameterisation and the
    /// default width of sampled finite networks.
    pub width: Option<usize>,
    /// Weight scaling.
    pub parameterization: Parameterization,
}

impl Default for Weights {
    fn default() -> Self {
        Self::new(1.0, None)
    }
}

impl Weights {
    /// The network-file keys these parameters take.
    pub const KEYS: [&'static str; 4] = ["w_std", "b_std", "width", "parameterization"];

    /// `σ_w`, `σ_b` in NTK parameterisation, width unset.
    pub fn new(w_std: f64, b_std: Option<f64>) -> Self {
        Self {
            w_std,
            b_std,
            width: None,
            parameterization: Parameterization::Ntk,
        }
    }

    /// Read `w_std` (default 1), `b_std`, `width` and `parameterization` (default `ntk`).
    pub fn parse(keys: &mut Keys) -> Result<Self> {
        let w_std = keys.std_opt("w_std")?.unwrap_or(1.0);
        let b_std = keys.std_opt("b_std")?;
        let width = keys.usize_opt("width")?;
        let parameterization = match keys.str_opt("parameterization")?.as_deref() {
            None | Some("ntk") => Parameterization::Ntk,
            Some("standard") => Parameterization::Standard,
            Some(o) => {
                return Err(keys.key_err(
                    "parameterization",
                    format!("`parameterization` must be \"ntk\" or \"standard\", got \"{o}\""),
                ))
            }
        };
        Ok(Self {
            w_std,
            b_std,
            width,
            parameterization,
        })
    }

    /// Standard parameterisation needs the fan-in, i.e. the channels of the input.
    pub fn check_fan_in(&self, input: &Shape) -> Result<(), String> {
        if self.parameterization == Parameterization::Standard && input.channels.is_none() {
            return Err(standard_needs_fan_in());
        }
        Ok(())
    }

    /// The affine kernel map with tap table `taps` (`None`: dense) and `q` taps per output,
    /// on inputs with `channels_in` channels.
    pub fn map(&self, taps: Option<Taps>, q: usize, channels_in: Option<usize>) -> AffineMap {
        AffineMap {
            taps,
            w_var: self.w_std * self.w_std,
            b_var: self.b_std.map_or(0.0, |b| b * b),
            standard_fan_in: match self.parameterization {
                Parameterization::Ntk => None,
                Parameterization::Standard => channels_in.map(|c| (c * q) as f64),
            },
            has_bias: self.b_std.is_some(),
        }
    }

    /// The finite-width pass with tap table `taps` (`None`: dense) and `q` taps per output:
    /// draws `W` (`q·C_in × C_out`) then `b` from `builder` and scales them as in
    /// [`crate::finite`]'s docs.
    pub fn finite_pass(
        &self,
        taps: Option<Taps>,
        q: usize,
        builder: &mut FiniteBuilder,
    ) -> (Box<dyn FinitePass>, usize) {
        let (ch_in, ch_out) = (builder.ch_in, builder.ch_out_affine);
        let fan_in = (q * ch_in) as f64;
        let w_scale = self.w_std / fan_in.sqrt();
        let b_scale = self.b_std.unwrap_or(0.0);
        // (multiplier in the forward pass, scale of the stored N(0,1) draw)
        let ((w_mult, w_store), (b_mult, b_store)) = match self.parameterization {
            Parameterization::Ntk => ((w_scale, 1.0), (b_scale, 1.0)),
            Parameterization::Standard => ((1.0, w_scale), (1.0, b_scale)),
        };
        let w_offset = builder.params.len();
        let n_w = q * ch_in * ch_out;
        for _ in 0..n_w {
            let v: f64 = builder.rng.sample(StandardNormal);
            builder.params.push(w_store * v);
        }
        let b_offset = self.b_std.map(|_| {
            let off = builder.params.len();
            for _ in 0..ch_out {
                let v: f64 = builder.rng.sample(StandardNormal);
                builder.params.push(b_store * v);
            }
            off
        });
        let pass = AffinePass {
            taps,
            q,
            w_offset,
            b_offset,
            w_mult,
            b_mult,
        };
        (Box::new(pass), ch_out)
    }

    /// `σ_w = …, σ_b = …[, standard]`, for layer summaries.
    pub fn summary(&self) -> String {
        let mut s = format!("σ_w = {}", self.w_std);
        if let Some(b) = self.b_std {
            s += &format!(", σ_b = {b}");
        }
        if self.parameterization == Parameterization::Standard {
            s += ", standard";
        }
        s
    }
}

/// The error for standard parameterisation without a known fan-in.
pub(crate) fn standard_needs_fan_in() -> String {
    "parameterization = \"standard\" needs the fan-in: set `width` on the previous \
     dense/conv layer"
        .to_string()
}

/// The finite-width affine layer:
/// `h'[o, :] = w_mult · Σ_t h[src(o,t), :] W_t + b_mult · b` (a dense layer is one tap with
/// `src(o, 0) = o`). The forward pass gathers, for each output site o, the inputs at the
/// sources of its taps (zero where a tap falls on padding) into a row of the patch matrix `P`
/// (`S_out × q·C_in`), then computes `H' = w_mult · P W + b_mult · 1 bᵀ` with one matrix product.
#[derive(Clone, Debug)]
pub struct AffinePass {
    /// The source table; `None` for a dense layer.
    taps: Option<Taps>,
    /// Number of taps q (1 for dense).
    q: usize,
    /// Offset of `W` in the parameter vector; `W` has `q·ch_in × ch_out` entries.
    w_offset: usize,
    /// Offset of `b` (`ch_out` entries), when the layer has a bias.
    b_offset: Option<usize>,
    /// Multiplier of the stored weights: `σ_w/√fan_in` (NTK) or 1 (standard).
    w_mult: f64,
    /// Multiplier of the stored bias: `σ_b` (NTK) or 1 (standard).
    b_mult: f64,
}

impl AffinePass {
    /// The patch matrix `P[o, t·C_in + c] = h[src(o,t), c]` (0 on padding).
    fn gather(&self, taps: &Taps, d: &OpDims, h: &[f64]) -> Vec<f64> {
        let c = d.ch_in;
        let mut p = vec![0.0; d.sites_out * self.q * c];
        for (o, row) in p.chunks_mut(self.q * c).enumerate() {
            for (t, dst) in row.chunks_mut(c).enumerate() {
                if let Some(s) = taps.src(o, t) {
                    dst.copy_from_slice(&h[s * c..(s + 1) * c]);
                }
            }
        }
        p
    }
}

impl FinitePass for AffinePass {
    fn forward(&self, params: &[f64], d: &OpDims, h: &[f64]) -> (Vec<f64>, Option<Vec<f64>>) {
        let patch = self.taps.as_ref().map(|taps| self.gather(taps, d, h));
        let pm = patch.as_deref().unwrap_or(h);
        let mut out = vec![0.0; d.sites_out * d.ch_out];
        let k = self.q * d.ch_in;
        let w = &params[self.w_offset..self.w_offset + k * d.ch_out];
        matmul(
            rm_mut(&mut out, d.sites_out, d.ch_out),
            rm(pm, d.sites_out, k),
            rm(w, k, d.ch_out),
            self.w_mult,
            false,
        );
        if let Some(bo) = self.b_offset {
            let b = &params[bo..bo + d.ch_out];
            for row in out.chunks_mut(d.ch_out) {
                for (v, bc) in row.iter_mut().zip(b) {
                    *v += self.b_mult * bc;
                }
            }
        }
        (out, patch)
    }

    fn backward(
        &self,
        params: &[f64],
        d: &OpDims,
        h: &[f64],
        cache: Option<&[f64]>,
        g: Vec<f64>,
        grad: &mut [f64],
        accumulate: bool,
        need_input: bool,
    ) -> Vec<f64> {
        let k = self.q * d.ch_in;
        let pm = cache.unwrap_or(h);
        let (so, co) = (d.sites_out, d.ch_out);
        // ∂f/∂W = w_mult · Pᵀ g   (k × co)
        matmul(
            rm_mut(&mut grad[self.w_offset..self.w_offset + k * co], k, co),
            rm(pm, so, k).transpose(),
            rm(&g, so, co),
            self.w_mult,
            accumulate,
        );
        if let Some(bo) = self.b_offset {
            let jb = &mut grad[bo..bo + co];
            if !accumulate {
                jb.fill(0.0);
            }
            for row in g.chunks(co) {
                for (j, v) in jb.iter_mut().zip(row) {
                    *j += self.b_mult * v;
                }
            }
        }
        if !need_input {
            return vec![];
        }
        // ∂f/∂P = w_mult · g Wᵀ   (so × k)
        let w = &params[self.w_offset..self.w_offset + k * co];
        let mut gp = vec![0.0; so * k];
        matmul(
            rm_mut(&mut gp, so, k),
            rm(&g, so, co),
            rm(w, k, co).transpose(),
            self.w_mult,
            false,
        );
        match &self.taps {
            None => gp,
            Some(taps) => {
                let c = d.ch_in;
                let mut gh = vec![0.0; d.sites_in * c];
                for (o, row) in gp.chunks(k).enumerate() {
                    for (t, src) in row.chunks(c).enumerate() {
                        if let Some(s) = taps.src(o, t) {
                            for (dv, v) in gh[s * c..(s + 1) * c].iter_mut().zip(src) {
                                *dv += v;
                            }
                        }
                    }
                }
                gh
            }
        }
    }
}

/// The kernel map of one affine layer (see the module docs).
#[derive(Clone, Debug)]
pub struct AffineMap {
    /// `None` for a dense layer (`A` is the identity).
    pub taps: Option<Taps>,
    /// σ_w².
    pub w_var: f64,
    /// σ_b² (0 without a bias).
    pub b_var: f64,
    /// `Some(n)` in standard parameterisation, with `n` the fan-in.
    pub standard_fan_in: Option<f64>,
    /// Whether the layer has a bias (matters for the standard-parameterisation NTK).
    pub has_bias: bool,
}

impl BlockMap for AffineMap {
    fn sites_out(&self, sites_in: usize) -> usize {
        self.taps.as_ref().map_or(sites_in, Taps::n_out)
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
        // First the tap averages A[K] and A[Θ], then the affine part in place.
        match &self.taps {
            Some(taps) => taps.average(full, k, k_out),
            None => k_out.copy_from_slice(k),
        }
        match (t, t_out) {
            (Some(t), Some(t_out)) => {
                match &self.taps {
                    Some(taps) => taps.average(full, t, t_out),
                    None => t_out.copy_from_slice(t),
                }
                self.affine(k_out, Some(t_out));
            }
            _ => self.affine(k_out, None),
        }
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
        if self.taps.is_some() {
            // Block by block, as the default does.
            crate::kernel::apply_blocks(self, full, sites_in, k, t, d1, d2, k_out, t_out);
            return;
        }
        // Dense: the whole row is one elementwise map.
        k_out.copy_from_slice(k);
        match (t, t_out) {
            (Some(t), Some(t_out)) => {
                t_out.copy_from_slice(t);
                self.affine(k_out, Some(t_out));
            }
            _ => self.affine(k_out, None),
        }
    }
}

impl AffineMap {
    /// Given `k = A[K]` and `t = A[Θ]`, write `K'` into `k` and `Θ'` into `t`.
    pub(crate) fn affine(&self, k: &mut [f64], t: Option<&mut [f64]>) {
        let (w, b) = (self.w_var, self.b_var);
        match (t, self.standard_fan_in) {
            (None, _) => k.iter_mut().for_each(|v| *v = w * *v + b),
            (Some(t), None) => {
                for (kv, tv) in k.iter_mut().zip(t.iter_mut()) {
                    *kv = w * *kv + b;
                    *tv = w * *tv + *kv;
                }
            }
            (Some(t), Some(n)) => {
                let bias = if self.has_bias { 1.0 } else { 0.0 };
                for (kv, tv) in k.iter_mut().zip(t.iter_mut()) {
                    *tv = n * *kv + w * *tv + bias;
                    *kv = w * *kv + b;
                }
            }
        }
    }
}
