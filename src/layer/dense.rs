//! The dense (fully connected) layer, acting on the channels at every site.
//!
//! NTK parameterisation: `K' = σ_w² K + σ_b²`, `Θ' = σ_w² Θ + K'`; standard
//! parameterisation: `Θ' = n·K + σ_w² Θ + [bias]` with fan-in `n = C_in` (MATH.md §2).
//!
//! ```toml
//! [[layers]]
//! kind = "dense"
//! w_std = 1.5              # default 1
//! b_std = 0.1              # omit for no bias
//! width = 512              # output channels
//! parameterization = "ntk" # ntk (default) | standard
//! ```

use super::affine::{AffineMap, Weights};
use super::reduced::{ReducedStep, Stage};
use super::shape::Shape;
use super::{Layer, LayerKind, Registration};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass};
use crate::group::GroupSpec;
use crate::kernel::BlockMap;
use crate::symbolic::layers::{affine_defs, site_sym, Sites};
use crate::symbolic::LayerDefinitions;

/// Dense layer (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// σ_w, σ_b, width and parameterisation.
    pub weights: Weights,
}

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["dense"],
    parse: |_, mut keys| {
        let weights = Weights::parse(&mut keys)?;
        keys.finish(&Weights::KEYS)?;
        Ok(Layer::new(Dense { weights }))
    },
    example: |_| {
        "[input]\nshape = [3]\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.5\nb_std = 0.2\n\n\
         [[layers]]\nkind = \"relu\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.2\n\
         b_std = 0.1\n"
            .into()
    },
};

impl Dense {
    /// A dense layer in NTK parameterisation.
    pub fn new(w_std: f64, b_std: Option<f64>) -> Self {
        Self {
            weights: Weights::new(w_std, b_std),
        }
    }

    /// The kernel map for an input of shape `input`.
    pub fn map(&self, input: &Shape) -> AffineMap {
        self.weights.map(None, 1, input.channels)
    }
}

impl LayerKind for Dense {
    fn reduced_step(&self, input: &Shape, _group: &GroupSpec) -> ReducedStep<'_> {
        ReducedStep::Stage(Box::new(Stage::Affine(self.map(input))))
    }

    fn keeps_right_invariance(&self) -> bool {
        true
    }

    fn so2_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(self.map(input)))
    }

    fn kind(&self) -> &'static str {
        "dense"
    }

    /// The same sites, `width` channels.
    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        self.weights.check_fan_in(input)?;
        Ok(input.with_channels(self.weights.width))
    }

    fn block_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(self.map(input)))
    }

    fn weights(&self) -> Option<&Weights> {
        Some(&self.weights)
    }

    fn fan_in(&self, input: &Shape) -> Option<usize> {
        Some(input.channels.unwrap_or(0))
    }

    /// `K⁽ˡ⁾ = σ_{w,l}² K⁽ˡ⁻¹⁾ + σ_{b,l}²` at the sites of the input.
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let sites = Sites::of(input);
        let note = format!(
            "dense, {} parameterisation",
            self.weights.parameterization.name()
        );
        affine_defs(
            l,
            &self.weights,
            sites,
            |kind| site_sym(kind, l - 1, sites).into(),
            note,
        )
    }

    fn finite_pass(
        &self,
        _input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        Ok(self.weights.finite_pass(None, 1, builder))
    }

    fn summary(&self) -> String {
        format!("dense ({})", self.weights.summary())
    }
}
