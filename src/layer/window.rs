//! Windows sliding over a grid with a stride: the geometry shared by strided convolutions and
//! window pooling, with neural-tangents' (XLA's) conventions for the output grid and padding.
//!
//! Per axis of `n` input positions, a window of `w` positions moved by `s`:
//!
//! * `valid`: `⌊(n − w)/s⌋ + 1` outputs, output `o` reads `s·o + t`, `t = 0 … w−1`;
//! * `same`: `⌈n/s⌉` outputs; the grid is padded by `P = max((⌈n/s⌉ − 1)s + w − n, 0)`
//!   positions, `⌊P/2⌋` of them before it, and output `o` reads `s·o + t − ⌊P/2⌋` (0 outside
//!   the grid);
//! * `circular`: the same pads filled by wrapping, `⌊(n + P − w)/s⌋ + 1` outputs, indices taken
//!   modulo `n`.
//!
//! For stride 1 and an odd window this is the centred window `t − ⌊w/2⌋`.

use super::conv::Padding;
use super::taps::Taps;

/// The strides as the derivations' notes print them: `2` when every axis has stride 2,
/// `(1,2)` otherwise (the factor of the scaled site `(1,2)*p`).
pub(crate) fn stride_text(stride: &[usize]) -> String {
    match stride {
        [s, rest @ ..] if rest.iter().all(|r| r == s) => s.to_string(),
        _ => format!(
            "({})",
            stride
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// The strides as factors of the scaled site `s p` ([`crate::symbolic::Index::scaled_axes`]).
pub(crate) fn stride_factors(stride: &[usize]) -> Vec<u32> {
    stride.iter().map(|&s| s as u32).collect()
}

/// One axis of a sliding window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AxisWindow {
    pub n_in: usize,
    pub size: usize,
    pub stride: usize,
    pub padding: Padding,
}

impl AxisWindow {
    /// The total padding `P` of `same` and `circular` (0 for `valid`).
    fn total_pad(&self) -> usize {
        match self.padding {
            Padding::Valid => 0,
            _ => {
                let out = self.n_in.div_ceil(self.stride);
                ((out - 1) * self.stride + self.size).saturating_sub(self.n_in)
            }
        }
    }

    /// The padding before the grid, `⌊P/2⌋`.
    pub fn pad_lo(&self) -> usize {
        self.total_pad() / 2
    }

    /// The number of outputs (the window must fit for `valid`).
    pub fn n_out(&self) -> usize {
        match self.padding {
            Padding::Same => self.n_in.div_ceil(self.stride),
            _ => (self.n_in + self.total_pad() - self.size) / self.stride + 1,
        }
    }

    /// The input position output `o` reads at window position `t` (`None`: zero padding).
    pub fn src(&self, o: usize, t: usize) -> Option<usize> {
        let i = (o * self.stride + t) as isize - self.pad_lo() as isize;
        let n = self.n_in as isize;
        match self.padding {
            Padding::Circular => Some(i.rem_euclid(n) as usize),
            _ if i < 0 || i >= n => None,
            _ => Some(i as usize),
        }
    }
}

/// Sliding windows over every axis of a grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GridWindow(pub Vec<AxisWindow>);

impl GridWindow {
    /// The windows of `size` moved by `stride` over `grid`, or why they do not fit (`what`
    /// names the size key: `filter` or `window`).
    pub fn try_new(
        grid: &[usize],
        size: &[usize],
        stride: &[usize],
        padding: Padding,
        what: &str,
    ) -> Result<Self, String> {
        if size.len() != grid.len() {
            return Err(format!(
                "`{what}` has {} axes but the input grid {grid:?} has {}",
                size.len(),
                grid.len()
            ));
        }
        if stride.len() != grid.len() {
            return Err(format!(
                "`stride` has {} axes but the input grid {grid:?} has {}",
                stride.len(),
                grid.len()
            ));
        }
        if size.contains(&0) {
            return Err(format!("`{what}` sizes must be positive, got {size:?}"));
        }
        if stride.contains(&0) {
            return Err(format!("`stride` must be positive, got {stride:?}"));
        }
        if stride.iter().zip(grid).any(|(s, n)| s > n) {
            return Err(format!(
                "`stride` {stride:?} is larger than the grid {grid:?}"
            ));
        }
        if padding == Padding::Valid && size.iter().zip(grid).any(|(w, n)| w > n) {
            return Err(format!(
                "`{what}` {size:?} is larger than the grid {grid:?} with padding = \"valid\""
            ));
        }
        let window = Self(
            grid.iter()
                .zip(size)
                .zip(stride)
                .map(|((&n_in, &size), &stride)| AxisWindow {
                    n_in,
                    size,
                    stride,
                    padding,
                })
                .collect(),
        );
        // The tap table holds one source per output site and window position: bound it before
        // it is built (a wide filter on a wrapped grid is legal, but not free).
        let taps = crate::budget::product_u128(&window.out_grid())
            .saturating_mul(crate::budget::product_u128(size));
        let place = format!("the {what} {size:?} on the grid {grid:?}");
        if taps > crate::budget::MAX_ENTRIES as u128 {
            return Err(crate::budget::too_large(
                &format!("{place}: output sites × taps"),
                taps,
                crate::budget::MAX_ENTRIES,
            )
            .to_string());
        }
        crate::budget::check_values(&place, taps, 8).map_err(|e| e.to_string())?;
        Ok(window)
    }

    /// The output grid.
    pub fn out_grid(&self) -> Vec<usize> {
        self.0.iter().map(AxisWindow::n_out).collect()
    }

    /// The window positions relative to `s·p` per axis (`t − ⌊P/2⌋`), row-major: the set `F`
    /// of the derivations.
    pub fn offsets(&self) -> Vec<Vec<i64>> {
        let mut out = vec![vec![]];
        for ax in &self.0 {
            let lo = ax.pad_lo() as i64;
            out = out
                .into_iter()
                .flat_map(|prefix: Vec<i64>| {
                    (0..ax.size as i64).map(move |t| {
                        let mut v = prefix.clone();
                        v.push(t - lo);
                        v
                    })
                })
                .collect();
        }
        out
    }

    /// The tap table: output site `o` (row-major on the output grid) at window position `t`
    /// (row-major on the window) reads the input site `src(o, t)`.
    pub fn taps(&self) -> Taps {
        let out = self.out_grid();
        let n_in: usize = self.0.iter().map(|a| a.n_in).product();
        let n_out: usize = out.iter().product();
        let q: usize = self.0.iter().map(|a| a.size).product();
        Taps::from_fn(n_in, n_out, q, |o, t| {
            let (mut o_rem, mut t_rem) = (o, t);
            let (mut src, mut stride) = (0usize, 1usize);
            for (ax, &n_out) in self.0.iter().zip(&out).rev() {
                let i = ax.src(o_rem % n_out, t_rem % ax.size)?;
                o_rem /= n_out;
                t_rem /= ax.size;
                src += i * stride;
                stride *= ax.n_in;
            }
            Some(src)
        })
    }
}
