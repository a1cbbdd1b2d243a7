//! Layer normalisation over the channels at each site (neural-tangents' `LayerNorm(axis=-1)`,
//! ε = 10⁻¹²).
//!
//! ```toml
//! [[layers]]
//! kind = "layer_norm"
//! ```
//!
//! Finite width: `h′[s,c] = (h[s,c] − μ_s)/√(v_s + ε)` with `μ_s`, `v_s` the mean and variance
//! over the channels of site `s`. At infinite width the channel mean vanishes and the
//! variance is the self-covariance, so (MATH.md §3, as neural-tangents computes it)
//!
//! ```text
//! K′[s,s′](x,x′) = K[s,s′](x,x′) / √((ε + K[s,s](x,x)) (ε + K[s′,s′](x′,x′)))      (likewise Θ′)
//! ```
//!
//! On features on a group it normalises at each `(g, p)` and commutes with the group action.

use super::shape::Shape;
use super::{Layer, LayerKind, Registration};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass, OpDims};
use crate::kernel::BlockMap;
use crate::symbolic::layers::{dual_args, site_sym, Sites};
use crate::symbolic::{Expr, KernelKind, LayerDefinitions};

/// The ε added to the variance (neural-tangents' default).
pub const EPS: f64 = 1e-12;

/// Layer normalisation over channels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerNorm;

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["layer_norm"],
    parse: |_, keys| {
        keys.finish(&[])?;
        Ok(Layer::new(LayerNorm))
    },
    example: |_| {
        "[input]\nshape = [4, 2]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3]\n\
         w_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"layer_norm\"\n\n[[layers]]\n\
         kind = \"relu\"\n\n[[layers]]\nkind = \"global_avg_pool\"\n\n[[layers]]\n\
         kind = \"dense\"\nw_std = 1.1\n"
            .into()
    },
};

impl LayerKind for LayerNorm {
    fn kind(&self) -> &'static str {
        "layer_norm"
    }

    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        Ok(input.clone())
    }

    fn block_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(NormMap))
    }

    /// At every angle θ the channel variance is `K(θ, θ)(x, x) = K(0)(x, x)`, so on kernels of
    /// the relative angle the map is the same division, `K′(φ) = K(φ)/√((ε + K(0)(x, x))(ε +
    /// K(0)(x′, x′)))`.
    fn so2_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(NormMap))
    }

    /// `K⁽ˡ⁾[p,p′] = K⁽ˡ⁻¹⁾[p,p′](x,x′) / √((ε + K⁽ˡ⁻¹⁾[p,p](x,x))(ε + K⁽ˡ⁻¹⁾[p′,p′](x′,x′)))`,
    /// likewise Θ.
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let sites = Sites::of(input);
        let [k11, _, k22] = dual_args(l - 1, sites);
        let scale =
            ((Expr::num(EPS) + Expr::from(k11)) * (Expr::num(EPS) + Expr::from(k22))).sqrt();
        let note = "layer_norm over channels, eps = 1e-12".to_string();
        let defs = [KernelKind::Nngp, KernelKind::Ntk]
            .into_iter()
            .map(|kind| {
                let rhs = Expr::from(site_sym(kind, l - 1, sites)) / scale.clone();
                (site_sym(kind, l, sites), rhs, note.clone())
            })
            .collect();
        LayerDefinitions::new(defs)
    }

    fn is_linear(&self) -> bool {
        false
    }

    fn finite_pass(
        &self,
        _input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        Ok((Box::new(NormPass), builder.ch_in))
    }
}

/// The kernel map: each entry divided by `√((ε + d₁[s])(ε + d₂[s′]))`.
#[derive(Debug)]
struct NormMap;

impl BlockMap for NormMap {
    fn sites_out(&self, sites_in: usize) -> usize {
        sites_in
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
        let n = d1.len();
        let scale = |i: usize| match full {
            true => ((EPS + d1[i / n]) * (EPS + d2[i % n])).sqrt(),
            false => ((EPS + d1[i]) * (EPS + d2[i])).sqrt(),
        };
        for (i, (o, v)) in k_out.iter_mut().zip(k).enumerate() {
            *o = v / scale(i);
        }
        if let (Some(t), Some(t_out)) = (t, t_out) {
            for (i, (o, v)) in t_out.iter_mut().zip(t).enumerate() {
                *o = v / scale(i);
            }
        }
    }
}

/// The finite pass, site by site over the channels.
#[derive(Debug)]
struct NormPass;

/// The mean and `1/√(v + ε)` of one site's channels.
fn moments(row: &[f64]) -> (f64, f64) {
    let n = row.len() as f64;
    let mean = row.iter().sum::<f64>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, 1.0 / (var + EPS).sqrt())
}

impl FinitePass for NormPass {
    fn forward(&self, _params: &[f64], d: &OpDims, h: &[f64]) -> (Vec<f64>, Option<Vec<f64>>) {
        let mut out = Vec::with_capacity(h.len());
        for row in h.chunks(d.ch_in) {
            let (mean, inv) = moments(row);
            out.extend(row.iter().map(|v| (v - mean) * inv));
        }
        (out, None)
    }

    /// `∂h = (1/σ)(g − mean(g) − ĥ mean(g ĥ))` at each site, `ĥ` the normalised features.
    fn backward(
        &self,
        _params: &[f64],
        d: &OpDims,
        h: &[f64],
        _cache: Option<&[f64]>,
        g: Vec<f64>,
        _grad: &mut [f64],
        _accumulate: bool,
        need_input: bool,
    ) -> Vec<f64> {
        if !need_input {
            return vec![];
        }
        let mut out = Vec::with_capacity(h.len());
        for (row, grow) in h.chunks(d.ch_in).zip(g.chunks(d.ch_in)) {
            let (mean, inv) = moments(row);
            let n = row.len() as f64;
            let g_mean = grow.iter().sum::<f64>() / n;
            let gh_mean = row
                .iter()
                .zip(grow)
                .map(|(v, g)| (v - mean) * inv * g)
                .sum::<f64>()
                / n;
            out.extend(
                row.iter()
                    .zip(grow)
                    .map(|(v, g)| inv * (g - g_mean - (v - mean) * inv * gh_mean)),
            );
        }
        out
    }
}
