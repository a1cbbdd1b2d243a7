//! Convolution over a 1-D or 2-D grid, stride 1, odd filters (MATH.md §4).

use super::affine::{AffineMap, Parameterization, Weights};
use super::keys::Keys;
use super::separable::{AxisFilter, SeparableTaps};
use super::shape::Shape;
use super::taps::Taps;
use super::{Layer, LayerKind, Registration};
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
    /// Filter size per grid axis (odd).
    pub filter: Vec<usize>,
    /// Boundary handling.
    pub padding: Padding,
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
        let weights = Weights::parse(&mut keys)?;
        keys.finish(&[
            "filter",
            "padding",
            "w_std",
            "b_std",
            "width",
            "parameterization",
        ])?;
        Ok(Layer::new(Conv {
            filter,
            padding,
            weights,
        }))
    },
    example: |_| {
        "[input]\nshape = [4, 1]\n\n[[layers]]\nkind = \"conv\"\nfilter = [3]\n\
         padding = \"same\"\nw_std = 1.4\nb_std = 0.2\n\n[[layers]]\nkind = \"relu\"\n\n\
         [[layers]]\nkind = \"flatten\"\n\n[[layers]]\nkind = \"dense\"\nw_std = 1.1\n"
            .into()
    },
};

impl LayerKind for Conv {
    fn kind(&self) -> &'static str {
        "conv"
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
        if let Some(f) = self.filter.iter().find(|&&f| f == 0 || f % 2 == 0) {
            return Err(format!("`filter` sizes must be odd, got {f}"));
        }
        self.weights.check_fan_in(input)?;
        let grid = match self.padding {
            Padding::Circular | Padding::Same => input.grid.clone(),
            Padding::Valid => {
                let mut g = Vec::new();
                for (&n, &f) in input.grid.iter().zip(&self.filter) {
                    if f > n {
                        return Err(format!(
                            "`filter` {:?} is larger than the grid {:?} with padding = \"valid\"",
                            self.filter, input.grid
                        ));
                    }
                    g.push(n - f + 1);
                }
                g
            }
        };
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
        let window = match self.padding {
            Padding::Valid => "F = {0..f-1} per axis".to_string(),
            _ => "F centred on 0".to_string(),
        };
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
            |kind| tap_average(kind, l),
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
        format!(
            "conv {} {} ({})",
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

/// `(1/|F|) Σ_{δ∈F} M⁽ˡ⁻¹⁾[p+δ, p′+δ]`.
fn tap_average(kind: KernelKind, l: usize) -> Expr {
    use crate::symbolic::layers::{delta, p, pp};
    let m = KernelSym::new(kind, l - 1).at(p() + delta(), pp() + delta());
    Expr::mean(IndexVar::delta(), IndexSet::Filter, m.into())
}

impl Conv {
    /// The tap table of this convolution on the grid `grid` (taps in row-major filter order),
    /// with its axis-by-axis factorisation attached (the fast path of [`Taps::average`]).
    pub fn taps(&self, grid: &[usize]) -> Taps {
        let axes = grid
            .iter()
            .zip(&self.filter)
            .map(|(&n_in, &filter)| AxisFilter {
                n_in,
                filter,
                padding: self.padding,
            })
            .collect();
        self.tap_table(grid)
            .with_separable(SeparableTaps::new(axes))
    }

    /// The plain tap table (the gather reference).
    fn tap_table(&self, grid: &[usize]) -> Taps {
        let out = match self.padding {
            Padding::Valid => grid
                .iter()
                .zip(&self.filter)
                .map(|(&n, &f)| n - f + 1)
                .collect(),
            _ => grid.to_vec(),
        };
        let n_in: usize = grid.iter().product();
        let n_out: usize = out.iter().product();
        let q: usize = self.filter.iter().product();
        let padding = self.padding;
        let filter = &self.filter;
        Taps::from_fn(n_in, n_out, q, |o, t| {
            // Unravel the output position and the tap (row-major), then add the offset.
            let (mut o_rem, mut t_rem) = (o, t);
            let mut src = 0usize;
            for ax in (0..grid.len()).rev() {
                let (p, d) = (o_rem % out[ax], t_rem % filter[ax]);
                o_rem /= out[ax];
                t_rem /= filter[ax];
                let half = (filter[ax] / 2) as isize;
                let n = grid[ax] as isize;
                let i = match padding {
                    Padding::Valid => p as isize + d as isize,
                    _ => p as isize + d as isize - half,
                };
                let i = match padding {
                    Padding::Circular => i.rem_euclid(n),
                    _ if i < 0 || i >= n => return None,
                    _ => i,
                };
                let stride: usize = grid[ax + 1..].iter().product();
                src += i as usize * stride;
            }
            Some(src)
        })
    }

    /// The kernel map for an input of shape `input`.
    pub fn map(&self, input: &Shape) -> AffineMap {
        let taps = self.taps(&input.grid);
        let q = taps.n_taps();
        self.weights.map(Some(taps), q, input.channels)
    }
}
