//! Convolution over a 1-D or 2-D grid, stride 1, odd filters (MATH.md §4).

use super::affine::AffineMap;
use super::dense::{standard_needs_fan_in, Parameterization};
use super::separable::{AxisFilter, SeparableTaps};
use super::shape::Shape;
use super::taps::Taps;

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
    /// σ_w.
    pub w_std: f64,
    /// σ_b, `None` for no bias.
    pub b_std: Option<f64>,
    /// Output channels.
    pub width: Option<usize>,
    /// Weight scaling.
    pub parameterization: Parameterization,
}

impl Conv {
    /// The output shape, or why the input does not fit the filter.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
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
        if self.parameterization == Parameterization::Standard && input.channels.is_none() {
            return Err(standard_needs_fan_in());
        }
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
            channels: self.width,
            lifted: None,
        })
    }

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
    pub fn block_map(&self, input: &Shape) -> AffineMap {
        AffineMap::from_taps(
            self.taps(&input.grid),
            self.w_std,
            self.b_std,
            self.parameterization,
            input.channels,
        )
    }
}
