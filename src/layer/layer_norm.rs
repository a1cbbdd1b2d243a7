//! Layer normalisation (neural-tangents' `LayerNorm`, ε = 10⁻¹²): over the channels at each
//! site (`axis = -1`, the default) or over all sites and channels together (`axis` = every
//! non-batch axis, e.g. `[1, 2, 3]` on images).
//!
//! ```toml
//! [[layers]]
//! kind = "layer_norm"
//! axis = [1, 2, 3]        # optional: neural-tangents' axes, batch axis 0, channels last
//! ```
//!
//! Finite width: `h′[s,c] = (h[s,c] − μ)/√(v + ε)` with `μ`, `v` the mean and variance over
//! the channels of site `s` (over every site and channel with all axes). At infinite width the
//! channel mean vanishes and the variance is the self-covariance, so (MATH.md §3, as
//! neural-tangents computes it)
//!
//! ```text
//! per site:   K′[s,s′](x,x′) = K[s,s′](x,x′) / √((ε + K[s,s](x,x)) (ε + K[s′,s′](x′,x′)))
//! all axes:   K′[s,s′](x,x′) = K[s,s′](x,x′) / √((ε + (1/|S|) Σ_q K[q,q](x,x)) (ε + (1/|S|) Σ_q K[q,q](x′,x′)))
//! ```
//!
//! likewise Θ′. On features on a group the per-site form normalises at each `(g, p)` and
//! commutes with the group action; the all-axes form is for grid features.

use super::shape::Shape;
use super::{Layer, LayerKind, Registration};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass, OpDims};
use crate::kernel::BlockMap;
use crate::symbolic::layers::{dual_args, site_sym, Sites};
use crate::symbolic::{Arg, Expr, IndexSet, IndexVar, KernelKind, KernelSym, LayerDefinitions};
use toml::Value;

/// The ε added to the variance (neural-tangents' default).
pub const EPS: f64 = 1e-12;

/// Layer normalisation over the axes `axis` (neural-tangents' convention: axis 0 is the batch,
/// the last axis the channels, negative axes count from the end; empty: the channels).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerNorm {
    pub axis: Vec<i64>,
}

/// What a layer norm normalises over, resolved on its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Over {
    /// The channels of each site.
    Channels,
    /// All sites and channels together.
    All,
}

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["layer_norm"],
    parse: |_, mut keys| {
        let axis = match keys.take("axis") {
            None => vec![],
            Some(Value::Integer(a)) => vec![a],
            Some(Value::Array(a))
                if !a.is_empty() && a.iter().all(|v| matches!(v, Value::Integer(_))) =>
            {
                a.iter().filter_map(Value::as_integer).collect()
            }
            Some(v) => {
                return Err(keys.key_err(
                    "axis",
                    format!("`axis` must be an integer or a list of integers, got {v}"),
                ))
            }
        };
        keys.finish(&["axis"])?;
        Ok(Layer::new(LayerNorm { axis }))
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
        self.over(input)?;
        Ok(input.clone())
    }

    fn block_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(NormMap(self.over(input).ok()?)))
    }

    /// At every angle θ the channel variance is `K(θ, θ)(x, x) = K(0)(x, x)`, so on kernels of
    /// the relative angle the map is the same division, `K′(φ) = K(φ)/√((ε + K(0)(x, x))(ε +
    /// K(0)(x′, x′)))`.
    fn so2_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(NormMap(Over::Channels)))
    }

    /// `K⁽ˡ⁾[p,p′] = K⁽ˡ⁻¹⁾[p,p′](x,x′) / √((ε + K⁽ˡ⁻¹⁾[p,p](x,x))(ε + K⁽ˡ⁻¹⁾[p′,p′](x′,x′)))`,
    /// likewise Θ.
    ///
    /// Over all axes the self-covariances are the site means
    /// `(1/|S|) Σ_q K⁽ˡ⁻¹⁾[q,q](x,x)` and `(1/|S|) Σ_q K⁽ˡ⁻¹⁾[q,q](x′,x′)`.
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let sites = Sites::of(input);
        let over = self.over(input).unwrap_or(Over::Channels);
        let [k11, k22]: [Expr; 2] = match over {
            Over::Channels => {
                let [k11, _, k22] = dual_args(l - 1, sites);
                [k11.into(), k22.into()]
            }
            Over::All => [Arg::x(), Arg::x_prime()].map(|a| {
                let q = IndexVar::new("q", "q", "q");
                let kqq = KernelSym::nngp(l - 1)
                    .at(q.clone(), q.clone())
                    .with_args(a.clone(), a);
                Expr::mean(q, IndexSet::Sites, kqq.into())
            }),
        };
        let scale = ((Expr::num(EPS) + k11) * (Expr::num(EPS) + k22)).sqrt();
        let note = match over {
            Over::Channels => "layer_norm over channels, eps = 1e-12",
            Over::All => "layer_norm over all sites and channels, eps = 1e-12",
        }
        .to_string();
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
        input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        let over = self.over(input).map_err(crate::error::Error::Invalid)?;
        Ok((Box::new(NormPass(over)), builder.ch_in))
    }

    fn summary(&self) -> String {
        match self.axis.is_empty() {
            true => "layer_norm".into(),
            false => format!("layer_norm axis {:?}", self.axis),
        }
    }
}

impl LayerNorm {
    /// Over the channels at each site (neural-tangents' default `axis = -1`).
    pub fn channels() -> Self {
        Self::default()
    }

    /// `axis` resolved on the features `input` (`[N, *grid, C]` in neural-tangents' layout).
    fn over(&self, input: &Shape) -> Result<Over, String> {
        if self.axis.is_empty() {
            return Ok(Over::Channels);
        }
        let ndim = input.grid.len() as i64 + 2;
        let mut axes = Vec::with_capacity(self.axis.len());
        for &a in &self.axis {
            let r = if a < 0 { a + ndim } else { a };
            if !(0..ndim).contains(&r) {
                return Err(format!(
                    "`axis` {a} is out of range for features with {ndim} axes (batch, {} grid,                      channels)",
                    input.grid.len()
                ));
            }
            axes.push(r);
        }
        axes.sort_unstable();
        axes.dedup();
        if axes.contains(&0) {
            return Err("`axis` cannot normalise over the batch axis 0".into());
        }
        if !axes.contains(&(ndim - 1)) {
            return Err(format!(
                "`axis` must include the channel axis ({}, or -1): without it there is no                  infinite-width limit",
                ndim - 1
            ));
        }
        match axes.len() as i64 {
            1 => Ok(Over::Channels),
            n if n == ndim - 1 && input.lifted.is_none() => Ok(Over::All),
            n if n == ndim - 1 => {
                Err("`axis` over all axes is for grid features, not features on a group".into())
            }
            _ => Err(format!(
                "`axis` {:?} normalises over some grid axes only; eqntk normalises over the                  channels (axis -1) or over every non-batch axis",
                self.axis
            )),
        }
    }
}

/// The kernel map: each entry divided by `√((ε + d₁[s])(ε + d₂[s′]))`, or by the site means of
/// `d₁` and `d₂` over all axes.
#[derive(Debug)]
struct NormMap(Over);

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
        let mean = |d: &[f64]| d.iter().sum::<f64>() / d.len() as f64;
        let all = ((EPS + mean(d1)) * (EPS + mean(d2))).sqrt();
        let scale = |i: usize| match (self.0, full) {
            (Over::All, _) => all,
            (Over::Channels, true) => ((EPS + d1[i / n]) * (EPS + d2[i % n])).sqrt(),
            (Over::Channels, false) => ((EPS + d1[i]) * (EPS + d2[i])).sqrt(),
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

/// The finite pass, site by site over the channels or over the whole feature vector.
#[derive(Debug)]
struct NormPass(Over);

impl NormPass {
    /// The rows normalised together: one site's channels, or all features.
    fn row_len(&self, d: &OpDims, h: &[f64]) -> usize {
        match self.0 {
            Over::Channels => d.ch_in,
            Over::All => h.len(),
        }
    }
}

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
        for row in h.chunks(self.row_len(d, h)) {
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
        let len = self.row_len(d, h);
        for (row, grow) in h.chunks(len).zip(g.chunks(len)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(sites: usize, ch: usize) -> OpDims {
        OpDims {
            sites_in: sites,
            ch_in: ch,
            sites_out: sites,
            ch_out: ch,
        }
    }

    /// Features of 3 sites × 2 channels whose sites have very different scales.
    const H: [f64; 6] = [0.3, -1.2, 4.0, 7.5, -0.02, 0.05];

    /// Over all axes: one mean and variance for the whole example; per site: one per site.
    #[test]
    fn forward_standardises_the_rows_it_is_asked_to() {
        let (all, _) = NormPass(Over::All).forward(&[], &dims(3, 2), &H);
        let n = H.len() as f64;
        let mean = H.iter().sum::<f64>() / n;
        let var = H.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        for (o, h) in all.iter().zip(H) {
            assert!((o - (h - mean) / (var + EPS).sqrt()).abs() < 1e-14);
        }
        let (site, _) = NormPass(Over::Channels).forward(&[], &dims(3, 2), &H);
        for (row, h) in site.chunks(2).zip(H.chunks(2)) {
            // two channels standardised: ±1
            assert!((row[0].abs() - 1.0).abs() < 1e-9 && (row[0] + row[1]).abs() < 1e-12);
            assert_eq!(row[0] > 0.0, h[0] > h[1]);
        }
        assert!(all.iter().zip(&site).any(|(a, s)| (a - s).abs() > 0.1));
    }

    /// The backward pass is the transpose of the Jacobian: `⟨g, J δ⟩` equals a central
    /// difference of `⟨g, f(h)⟩` along δ, for both normalisations.
    #[test]
    fn backward_matches_central_differences() {
        let g = [0.7, -0.4, 1.1, 0.2, -0.9, 0.5];
        let delta = [0.3, 0.1, -0.5, 0.8, 0.2, -0.6];
        for over in [Over::All, Over::Channels] {
            let pass = NormPass(over);
            let d = dims(3, 2);
            let grad_h = pass.backward(&[], &d, &H, None, g.to_vec(), &mut [], false, true);
            let along: f64 = grad_h.iter().zip(&delta).map(|(a, b)| a * b).sum();
            let f = |s: f64| -> f64 {
                let h: Vec<f64> = H.iter().zip(&delta).map(|(h, d)| h + s * d).collect();
                let (out, _) = pass.forward(&[], &d, &h);
                out.iter().zip(&g).map(|(a, b)| a * b).sum()
            };
            let eps = 1e-6;
            let fd = (f(eps) - f(-eps)) / (2.0 * eps);
            assert!(
                (along - fd).abs() < 1e-7 * (1.0 + fd.abs()),
                "{over:?}: {along} vs {fd}"
            );
        }
    }
}
