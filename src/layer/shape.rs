//! The shape of the features one example carries between layers.

use crate::group::GroupSpec;

use super::lift::Lifted;

/// Features of one example: values on `sites()` sites, each with `channels` channels.
///
/// `grid` is the spatial grid (`[]` for a plain vector, `[W]` for a signal, `[H, W]` for an
/// image). After a lifting layer the features are also indexed by the elements g of a point
/// group (`lifted`); sites are then the pairs `(g, p)`, numbered `g·|grid| + p`. After an SO(2)
/// lifting (`lifted = Some(SO2)`) there is one site — the kernel's dependence on the relative
/// angle is carried by the network's angular grid, not by sites — until `group_pool`. `channels` is
/// known for the input and after layers that set `width`; it is only needed as the fan-in of a
/// layer in standard parameterisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The spatial grid, `[]` for a vector.
    pub grid: Vec<usize>,
    /// Number of channels, when known.
    pub channels: Option<usize>,
    /// The group the features are indexed by, after a lifting layer.
    pub lifted: Option<GroupSpec>,
}

impl Shape {
    /// The shape of an input example `[*grid, C]` (a vector `[D]` has no grid and `D` channels).
    pub fn from_input(shape: &[usize]) -> Self {
        let (c, grid) = shape.split_last().expect("input shape is non-empty");
        Self {
            grid: grid.to_vec(),
            channels: Some(*c),
            lifted: None,
        }
    }

    /// Number of positions, `Π grid` (1 for a vector).
    pub fn positions(&self) -> usize {
        self.grid.iter().product()
    }

    /// Number of sites: positions, times the group order after a lifting layer.
    pub fn sites(&self) -> usize {
        self.positions() * self.lifted.map_or(1, |g| Lifted::order_of(&g))
    }

    /// The same shape with other channels (sites unchanged).
    pub fn with_channels(&self, channels: Option<usize>) -> Self {
        Self {
            channels,
            ..self.clone()
        }
    }
}
