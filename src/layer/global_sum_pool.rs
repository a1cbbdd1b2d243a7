//! Global sum pooling: the sum over all sites (neural-tangents' `GlobalSumPool`).
//!
//! ```toml
//! [[layers]]
//! kind = "global_sum_pool"
//! ```

use super::pool::{pairwise_sum, reject_so2, ReadoutMap, ReadoutPass};
use super::shape::Shape;
use super::{Layer, LayerKind, Registration, SiteNeed};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass};
use crate::kernel::BlockMap;
use crate::symbolic::layers::{g, gp, p, pp, Sites};
use crate::symbolic::{Expr, Index, IndexSet, IndexVar, KernelKind, KernelSym, LayerDefinitions};

/// Global sum pooling: `K_out = Σ_{s,s′} K[s,s′]` over all sites (likewise Θ); `|Ω|²` times
/// `global_avg_pool`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalSumPool;

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["global_sum_pool"],
    parse: |_, keys| {
        keys.finish(&[])?;
        Ok(Layer::new(GlobalSumPool))
    },
    example: |_| {
        "[input]\nshape = [4, 1]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3]\n\
         w_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n[[layers]]\n\
         kind = \"global_sum_pool\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 0.6\n"
            .into()
    },
};

/// `Σ_{s,s′} M[s,s′]` of a full block (a single site when site-diagonal).
fn full_sum(full: bool, m: &[f64]) -> f64 {
    assert!(
        full || m.len() == 1,
        "global pooling needs the full site × site kernel"
    );
    pairwise_sum(m)
}

impl LayerKind for GlobalSumPool {
    fn kind(&self) -> &'static str {
        "global_sum_pool"
    }

    /// A vector of `C` channels.
    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        reject_so2(input)?;
        Ok(Shape {
            grid: vec![],
            channels: input.channels,
            lifted: None,
        })
    }

    /// Every site pair is read.
    fn site_need(&self) -> SiteNeed {
        SiteNeed::Full
    }

    fn block_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(ReadoutMap(full_sum)))
    }

    /// `K⁽ˡ⁾ = Σ_{p,p′∈Ω} K⁽ˡ⁻¹⁾[p,p′]` (on a group: over all `(g,p), (g′,p′)`).
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let sites = Sites::of(input);
        let sum = |v: IndexVar, set, body| Expr::sum(v, set, body);
        let defs = [KernelKind::Nngp, KernelKind::Ntk]
            .into_iter()
            .map(|kind| {
                let m = KernelSym::new(kind, l - 1);
                let over_sites = |body: Expr| {
                    sum(
                        IndexVar::p(),
                        IndexSet::Sites,
                        sum(IndexVar::p().prime(), IndexSet::Sites, body),
                    )
                };
                let over_group = |body: Expr| {
                    sum(
                        IndexVar::g(),
                        IndexSet::Group,
                        sum(IndexVar::g().prime(), IndexSet::Group, body),
                    )
                };
                let rhs = match sites {
                    Sites::Grid => over_sites(m.at(p(), pp()).into()),
                    Sites::Group => over_group(m.at(g(), gp()).into()),
                    Sites::GroupGrid => over_group(over_sites(
                        m.at(Index::pair(g(), p()), Index::pair(gp(), pp())).into(),
                    )),
                    // one site (a vector; SO(2) features are rejected by the shape)
                    _ => m.into(),
                };
                (KernelSym::new(kind, l), rhs, "global_sum_pool".to_string())
            })
            .collect();
        LayerDefinitions::new(defs)
    }

    fn finite_pass(
        &self,
        _input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        Ok((Box::new(ReadoutPass::Sum), builder.ch_in))
    }
}
