//! The shape of the features one example carries between layers.

/// Features of one example: values on `sites()` sites, each with `channels` channels.
///
/// `grid` is the spatial grid (`[]` for a plain vector, `[W]` for a signal, `[H, W]` for an
/// image). `channels` is known for the input and after layers that set `width`; it is only
/// needed as the fan-in of a layer in standard parameterisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The spatial grid, `[]` for a vector.
    pub grid: Vec<usize>,
    /// Number of channels, when known.
    pub channels: Option<usize>,
}

impl Shape {
    /// The shape of an input example `[*grid, C]` (a vector `[D]` has no grid and `D` channels).
    pub fn from_input(shape: &[usize]) -> Self {
        let (c, grid) = shape.split_last().expect("input shape is non-empty");
        Self {
            grid: grid.to_vec(),
            channels: Some(*c),
        }
    }

    /// Number of sites, `Π grid` (1 for a vector).
    pub fn sites(&self) -> usize {
        self.grid.iter().product()
    }
}
