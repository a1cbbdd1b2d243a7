//! The dense (fully connected) layer, acting on the channels at every site.

use super::affine::AffineMap;
use super::shape::Shape;

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

/// Dense layer: `K' = σ_w² K + σ_b²`, `Θ' = σ_w² Θ + K'` (NTK parameterisation), or
/// `Θ' = n·K + σ_w² Θ + [bias]` with fan-in `n` (standard parameterisation).
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// σ_w.
    pub w_std: f64,
    /// σ_b, `None` for no bias.
    pub b_std: Option<f64>,
    /// Output channels (only the fan-in of the next layer and the default finite width).
    pub width: Option<usize>,
    /// Weight scaling.
    pub parameterization: Parameterization,
}

impl Dense {
    /// A dense layer in NTK parameterisation.
    pub fn new(w_std: f64, b_std: Option<f64>) -> Self {
        Self {
            w_std,
            b_std,
            width: None,
            parameterization: Parameterization::Ntk,
        }
    }

    /// The output shape: the same sites, `width` channels.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        if self.parameterization == Parameterization::Standard && input.channels.is_none() {
            return Err(standard_needs_fan_in());
        }
        Ok(input.with_channels(self.width))
    }

    /// The kernel map for an input of shape `input`.
    pub fn block_map(&self, input: &Shape) -> AffineMap {
        AffineMap {
            taps: None,
            w_var: self.w_std * self.w_std,
            b_var: self.b_std.map_or(0.0, |b| b * b),
            standard_fan_in: match self.parameterization {
                Parameterization::Ntk => None,
                Parameterization::Standard => input.channels.map(|c| c as f64),
            },
            has_bias: self.b_std.is_some(),
        }
    }
}

pub(crate) fn standard_needs_fan_in() -> String {
    "parameterization = \"standard\" needs the fan-in: set `width` on the previous \
     dense/conv layer"
        .to_string()
}
