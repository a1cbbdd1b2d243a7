//! Tables and plots for papers.
//!
//! * [`Table`] — a titled grid of [`Cell`]s rendered as Markdown (pipe table), LaTeX (booktabs)
//!   and CSV (RFC 4180 quoting). Floats are formatted per column by a [`FloatFormat`], with
//!   Rust's exact decimal conversion: no locale, identical bytes on every machine.
//! * [`LinePlot`] — line plots (linear or logarithmic axes) written as SVG through `plotters`.
//!   Text is emitted as SVG `<text>` elements, so no font library is linked or needed.

mod format;
mod plot;
mod table;

pub use format::FloatFormat;
pub use plot::{LinePlot, Series};
pub use table::{Align, Cell, Column, Table};
