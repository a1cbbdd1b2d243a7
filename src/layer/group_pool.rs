//! Group pooling: the mean over all group elements and positions (invariant features).
//!
//! ```toml
//! [[layers]]
//! kind = "group_pool"
//! ```

use super::pool::{full_mean, ReadoutMap, ReadoutPass};
use super::reduced::ReducedStep;
use super::shape::Shape;
use super::{Layer, LayerKind, Registration, SiteNeed};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass};
use crate::group::GroupSpec;
use crate::kernel::BlockMap;
use crate::symbolic::layers::{group_readout_defs, Sites};
use crate::symbolic::LayerDefinitions;

/// Group pooling: the mean over all group elements and positions,
/// `K_out = mean_{(g,p),(g',p')} K[(g,p),(g',p')]` (likewise Θ) — invariant features. On SO(2)
/// features it is the zero Fourier mode `(1/2π) ∫ K(φ) dφ` of the kernel as a function of the
/// relative angle (evaluated by [`crate::Network::kernel`] on its angular grid).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupPool;

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["group_pool"],
    parse: |_, keys| {
        keys.finish(&[])?;
        Ok(Layer::new(GroupPool))
    },
    example: |_| {
        "[input]\nshape = [3, 3, 1]\n\n[[layers]]\nkind = \"lift\"\ngroup = \"C4\"\n\
         filter = [3, 3]\nw_std = 1.3\nb_std = 0.1\n\n[[layers]]\nkind = \"relu\"\n\n\
         [[layers]]\nkind = \"group_conv\"\nw_std = 1.2\nb_std = 0.1\n\n[[layers]]\n\
         kind = \"relu\"\n\n[[layers]]\nkind = \"group_pool\"\n\n[[layers]]\n\
         kind = \"dense\"\nw_std = 1.1\n"
            .into()
    },
};

impl LayerKind for GroupPool {
    fn reduced_step(&self, _input: &Shape, _group: &GroupSpec) -> ReducedStep<'_> {
        ReducedStep::Closes
    }

    fn keeps_right_invariance(&self) -> bool {
        true
    }

    fn closes_group_section(&self) -> bool {
        true
    }

    fn so2_discretised(&self, _angles: usize) -> Option<Layer> {
        // The mean over the N angles and the sites.
        Some(Layer::new(super::GlobalAvgPool))
    }

    fn kind(&self) -> &'static str {
        "group_pool"
    }

    /// A vector of `C` channels; the input must be lifted.
    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        if input.lifted.is_none() {
            return Err("group_pool needs features on a group: put a lift layer before it".into());
        }
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

    /// `K⁽ˡ⁾ = (1/(|G|²|Ω|²)) Σ_{g,g′∈G} Σ_{p,p′∈Ω} K⁽ˡ⁻¹⁾[(g,p),(g′,p′)]`; on SO(2) the
    /// zero mode over the relative angle.
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        LayerDefinitions::new(group_readout_defs(l, Sites::of(input), false, "group_pool"))
    }

    fn finite_pass(
        &self,
        _input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        Ok((Box::new(ReadoutPass::Mean), builder.ch_in))
    }
}
