//! Flatten: the sites become channels; the kernel keeps the mean of its site diagonal.
//!
//! ```toml
//! [[layers]]
//! kind = "flatten"
//! ```

use super::pool::{diagonal_mean, reject_so2, ReadoutMap, ReadoutPass};
use super::shape::Shape;
use super::{Layer, LayerKind, Registration, SiteNeed};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass};
use crate::kernel::BlockMap;
use crate::symbolic::layers::{group_readout_defs, readout_defs, Sites};
use crate::symbolic::LayerDefinitions;

/// Flatten the sites into channels: `K_out = (1/P) Σ_p K[p,p]` (likewise Θ).
///
/// (The `1/P` is the fan-in normalisation of the dense layer that follows.)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flatten;

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["flatten"],
    parse: |_, keys| {
        keys.finish(&[])?;
        Ok(Layer::new(Flatten))
    },
    example: |_| {
        "[input]\nshape = [3, 2]\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.3\n\
         b_std = 0.2\n\n[[layers]]\nkind = \"erf\"\n\n[[layers]]\nkind = \"flatten\"\n\n\
         [[layers]]\nkind = \"dense\"\nw_std = 1.1\n"
            .into()
    },
};

impl LayerKind for Flatten {
    fn keeps_right_invariance(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "flatten"
    }

    /// A vector of `P·C` channels.
    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        reject_so2(input)?;
        Ok(Shape {
            grid: vec![],
            channels: input.channels.map(|c| c * input.sites()),
            lifted: None,
        })
    }

    /// Only the site diagonal is read: the layers before need not keep the rest.
    fn site_need(&self) -> SiteNeed {
        SiteNeed::Diagonal
    }

    fn block_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(ReadoutMap(diagonal_mean)))
    }

    /// `K⁽ˡ⁾ = (1/|Ω|) Σ_{p∈Ω} K⁽ˡ⁻¹⁾[p,p]` (on a group: over the diagonal `(g,p) = (g′,p′)`).
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let sites = Sites::of(input);
        LayerDefinitions::new(match sites {
            Sites::Vector | Sites::Grid => readout_defs(l, sites == Sites::Grid, false),
            _ => group_readout_defs(l, sites, true, "flatten"),
        })
    }

    fn finite_pass(
        &self,
        input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        Ok((
            Box::new(ReadoutPass::Flatten),
            builder.ch_in * input.sites(),
        ))
    }
}
