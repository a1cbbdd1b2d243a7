//! Global average pooling: the mean over all sites.
//!
//! ```toml
//! [[layers]]
//! kind = "global_avg_pool"
//! ```

use super::pool::{full_mean, reject_so2, ReadoutMap, ReadoutPass};
use super::reduced::ReducedStep;
use super::shape::Shape;
use super::{Layer, LayerKind, Registration, SiteNeed};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass};
use crate::group::GroupSpec;
use crate::kernel::BlockMap;
use crate::symbolic::layers::{group_readout_defs, readout_defs, Sites};
use crate::symbolic::LayerDefinitions;

/// Global average pooling: `K_out = (1/P²) Σ_{p,p'} K[p,p']` (likewise Θ).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalAvgPool;

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["global_avg_pool"],
    parse: |_, keys| {
        keys.finish(&[])?;
        Ok(Layer::new(GlobalAvgPool))
    },
    example: |_| {
        "[input]\nshape = [4, 1]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3]\n\
         w_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n[[layers]]\n\
         kind = \"global_avg_pool\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n"
            .into()
    },
};

impl LayerKind for GlobalAvgPool {
    fn reduced_step(&self, _input: &Shape, _group: &GroupSpec) -> ReducedStep<'_> {
        ReducedStep::Closes
    }

    fn keeps_right_invariance(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "global_avg_pool"
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
        Some(Box::new(ReadoutMap(full_mean)))
    }

    /// `K⁽ˡ⁾ = (1/|Ω|²) Σ_{p,p′∈Ω} K⁽ˡ⁻¹⁾[p,p′]` (on a group: over all `(g,p), (g′,p′)`).
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let sites = Sites::of(input);
        LayerDefinitions::new(match sites {
            Sites::Vector | Sites::Grid => readout_defs(l, sites == Sites::Grid, true),
            _ => group_readout_defs(l, sites, false, "global_avg_pool"),
        })
    }

    fn finite_pass(
        &self,
        _input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        Ok((Box::new(ReadoutPass::Mean), builder.ch_in))
    }
}
