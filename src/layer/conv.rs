//! Convolution over a 1-D or 2-D grid with a stride (MATH.md §4; the output grid and padding
//! as in neural-tangents, see [`super::window`]: an odd filter at stride 1 is centred, an even
//! one reads `⌊(f − 1)/2⌋` positions before the site and `⌈(f − 1)/2⌉` after it).

use super::affine::{AffineMap, Parameterization, Weights};
use super::keys::Keys;
use super::separable::{AxisFilter, SeparableTaps};
use super::shape::Shape;
use super::taps::Taps;
use super::window::{stride_factors, stride_text, GridWindow};
use super::{Layer, LayerKind, Registration, Sums};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass};
use crate::kernel::BlockMap;
use crate::symbolic::layers::{affine_defs, Sites};
use crate::symbolic::{Expr, IndexSet, IndexVar, KernelKind, KernelSym, LayerDefinitions};

/// What a filter sees beyond the edge of the grid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Padding {
    /// Indices wrap: the grid is a torus; the output grid is the input grid.
    #[default]
    Circular,
    /// Zero padding: out-of-grid terms are 0 but the divisor stays q.
    Same,
    /// Only positions whose whole window lies inside the grid.
    Valid,
}

impl Padding {
    /// Read `padding` (`circular`, the default, `same` or `valid`).
    pub fn parse(keys: &mut Keys) -> Result<Self> {
        match keys.str_opt("padding")?.as_deref() {
            None | Some("circular") => Ok(Padding::Circular),
            Some("same") => Ok(Padding::Same),
            Some("valid") => Ok(Padding::Valid),
            Some(o) => Err(keys.key_err(
                "padding",
                format!("`padding` must be \"circular\", \"same\" or \"valid\", got \"{o}\""),
            )),
        }
    }

    /// The name used in network files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Circular => "circular",
            Self::Same => "same",
            Self::Valid => "valid",
        }
    }
}

/// Convolution: `K' = σ_w² A[K] + σ_b²`, `Θ' = σ_w² A[Θ] + K'` with
/// `A[M][p,p'] = (1/q) Σ_δ M[p+δ, p'+δ]` over the q filter offsets δ.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// Filter size per grid axis.
    pub filter: Vec<usize>,
    /// Boundary handling.
    pub padding: Padding,
    /// Stride per grid axis (empty: 1 on every axis).
    pub stride: Vec<usize>,
    /// σ_w, σ_b, width and parameterisation.
    pub weights: Weights,
}

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["conv"],
    parse: |_, mut keys| {
        let filter = keys
            .usize_list("filter")?
            .ok_or_else(|| keys.key_err("filter", "missing key `filter` (e.g. filter = [3, 3])"))?;
        let padding = Padding::parse(&mut keys)?;
        let stride = keys.usize_list("stride")?.unwrap_or_default();
        let weights = Weights::parse(&mut keys)?;
        keys.finish(&[
            "filter",
            "padding",
            "stride",
            "w_std",
            "b_std",
            "width",
            "parameterization",
        ])?;
        Ok(Layer::new(Conv {
            filter,
            padding,
            stride,
            weights,
        }))
    },
    example: |_| {
        "[input]\nshape = [5, 1]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3]\n\
         stride = [2]\npadding = \"same\"\nw_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n\
         [[layers]]\nkind = \"flatten\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n"
            .into()
    },
};

impl LayerKind for Conv {
    fn sums(&self, input: &Shape) -> Sums<'_> {
        Sums::Window {
            offsets: self.offsets(&input.grid),
            padding: self.padding,
        }
    }

    fn kind(&self) -> &'static str {
        "conv"
    }

    fn taps(&self) -> usize {
        self.filter.iter().fold(1, |a, &f| a.saturating_mul(f))
    }

    /// The output shape, or why the input does not fit the filter.
    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        if let Some(g) = input.lifted {
            return Err(format!(
                "features are indexed by {g} after a lift; use group_conv instead of conv"
            ));
        }
        if input.grid.is_empty() {
            return Err(
                "a conv layer needs a grid input ([W, C] or [H, W, C]), got a vector".into(),
            );
        }
        if self.filter.len() != input.grid.len() {
            return Err(format!(
                "`filter` has {} axes but the input grid {:?} has {}",
                self.filter.len(),
                input.grid,
                input.grid.len()
            ));
        }
        if self.filter.contains(&0) {
            return Err(format!(
                "`filter` sizes must be positive, got {:?}",
                self.filter
            ));
        }
        self.weights.check_fan_in(input)?;
        let grid = self.windows(&input.grid)?.out_grid();
        Ok(Shape {
            grid,
            channels: self.weights.width,
            lifted: None,
        })
    }

    fn block_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(self.map(input)))
    }

    fn weights(&self) -> Option<&Weights> {
        Some(&self.weights)
    }

    fn fan_in(&self, input: &Shape) -> Option<usize> {
        Some(input.channels.unwrap_or(0) * self.filter.iter().product::<usize>())
    }

    /// `K⁽ˡ⁾[p,p′] = σ_{w,l}² (1/|F|) Σ_{δ∈F} K⁽ˡ⁻¹⁾[p+δ, p′+δ] + σ_{b,l}²`.
    fn derive(&self, l: usize, _input: &Shape) -> LayerDefinitions {
        let filter: Vec<String> = self.filter.iter().map(|f| f.to_string()).collect();
        let strides = self.strides();
        let unit = strides.iter().all(|&s| s == 1);
        let s = stride_text(&strides);
        let window = match self.padding {
            Padding::Valid => "F = {0..f-1} per axis".to_string(),
            _ if unit && self.filter.iter().all(|f| f % 2 == 1) => "F centred on 0".to_string(),
            _ if unit => "F = the filter offsets from p as neural-tangents pads".to_string(),
            _ => format!("stride {s}, F = the filter offsets from {s}*p as neural-tangents pads"),
        };
        let s = stride_factors(&strides);
        let note = format!(
            "conv {}, {} padding, {window}{}",
            filter.join("x"),
            self.padding.name(),
            match self.weights.parameterization {
                Parameterization::Ntk => "",
                Parameterization::Standard => ", standard parameterisation",
            }
        );
        affine_defs(
            l,
            &self.weights,
            Sites::Grid,
            |kind| tap_average(kind, l, &s),
            note,
        )
    }

    fn finite_pass(
        &self,
        input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        let taps = self.taps(&input.grid);
        let q = taps.n_taps();
        Ok(self.weights.finite_pass(Some(taps), q, builder))
    }

    fn summary(&self) -> String {
        let strides = self.strides();
        let stride = match strides.as_slice() {
            s if s.iter().all(|&s| s == 1) => String::new(),
            [s, rest @ ..] if rest.iter().all(|r| r == s) => format!(" stride {s}"),
            s => format!(
                " stride {}",
                s.iter().map(usize::to_string).collect::<Vec<_>>().join("×")
            ),
        };
        format!(
            "conv {}{stride} {} ({})",
            self.filter
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("×"),
            self.padding.name(),
            self.weights.summary()
        )
    }
}

/// `(1/|F|) Σ_{δ∈F} M⁽ˡ⁻¹⁾[s p+δ, s p′+δ]` (`p+δ` for stride 1), `s p` coordinate-wise
/// with the stride of each axis.
fn tap_average(kind: KernelKind, l: usize, s: &[u32]) -> Expr {
    use crate::symbolic::layers::{delta, p, pp};
    let m =
        KernelSym::new(kind, l - 1).at(p().scaled_axes(s) + delta(), pp().scaled_axes(s) + delta());
    Expr::mean(IndexVar::delta(), IndexSet::Filter, m.into())
}

impl Conv {
    /// The stride per axis (1 where none is given).
    fn strides(&self) -> Vec<usize> {
        match self.stride.is_empty() {
            true => vec![1; self.filter.len()],
            false => self.stride.clone(),
        }
    }

    /// The filter windows over `grid`, or why they do not fit.
    fn windows(&self, grid: &[usize]) -> Result<GridWindow, String> {
        GridWindow::try_new(grid, &self.filter, &self.strides(), self.padding, "filter")
    }

    /// The filter offsets `F` relative to `s p` on the input grid `grid` (row-major), as the
    /// derivation interpreter enumerates them.
    pub fn offsets(&self, grid: &[usize]) -> Vec<Vec<i64>> {
        self.windows(grid).map_or(vec![], |w| w.offsets())
    }

    /// The tap table of this convolution on the grid `grid` (taps in row-major filter order),
    /// with its axis-by-axis factorisation attached for stride 1 and odd filters (the fast
    /// path of `Taps::average`, which centres the filter).
    pub fn taps(&self, grid: &[usize]) -> Taps {
        let table = self.windows(grid).expect("checked by output_shape").taps();
        if self.strides().iter().any(|&s| s != 1) || self.filter.iter().any(|f| f % 2 == 0) {
            return table;
        }
        let axes = grid
            .iter()
            .zip(&self.filter)
            .map(|(&n_in, &filter)| AxisFilter {
                n_in,
                filter,
                padding: self.padding,
            })
            .collect();
        table.with_separable(SeparableTaps::new(axes))
    }

    /// The kernel map for an input of shape `input`.
    pub fn map(&self, input: &Shape) -> AffineMap {
        let taps = self.taps(&input.grid);
        let q = taps.n_taps();
        self.weights.map(Some(taps), q, input.channels)
    }
}
