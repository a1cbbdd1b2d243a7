//! Line plots written as SVG through `plotters`.
//!
//! `plotters` is built without its font features: its SVG backend writes every label as an SVG
//! `<text>` element that the viewer typesets, and lays them out with a fixed width estimate, so
//! no font file or system font library is involved and the output is the same everywhere.

use std::ops::Range;
use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// One curve: a name for the legend and its points `(x, y)`, drawn in the given order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// The points, joined by straight segments and marked with dots.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from its name and points.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
        }
    }
}

/// A line plot: several [`Series`] on common axes, each optionally logarithmic.
///
/// Linear axes span the data with 5 % padding; a logarithmic axis spans whole decades
/// `[10^⌊log₁₀ min⌋, 10^⌈log₁₀ max⌉]` and needs every coordinate on it to be > 0. Colours are the
/// Okabe–Ito palette (readable with colour-blindness), cycled in series order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinePlot {
    /// The caption above the plot.
    pub title: String,
    /// The x-axis label.
    pub x_label: String,
    /// The y-axis label.
    pub y_label: String,
    /// Logarithmic x-axis.
    pub log_x: bool,
    /// Logarithmic y-axis.
    pub log_y: bool,
    /// The curves.
    pub series: Vec<Series>,
}

/// Okabe & Ito (2008), in an order that keeps neighbours distinct; yellow last (faint on white).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xF0, 0xE4, 0x42),
];

/// Width and height of the SVG canvas in px.
const SIZE: (u32, u32) = (640, 480);

/// The axis range of the values `v` (all finite, non-empty; all > 0 when `log`).
fn axis_range(v: impl Iterator<Item = f64> + Clone, log: bool) -> Range<f64> {
    let lo = v.clone().fold(f64::INFINITY, f64::min);
    let hi = v.fold(f64::NEG_INFINITY, f64::max);
    if log {
        let (a, mut b) = (lo.log10().floor(), hi.log10().ceil());
        if a == b {
            b += 1.0;
        }
        // a hair wider, so that plotters' `ceil(ln(start)/ln 10)` cannot round past the first
        // decade (ln(1e-3)/ln(10) = −2.9999999999999996)
        10f64.powf(a) * (1.0 - 1e-9)..10f64.powf(b) * (1.0 + 1e-9)
    } else if lo == hi {
        let h = 0.5 * lo.abs().max(1.0);
        lo - h..hi + h
    } else {
        let pad = 0.05 * (hi - lo);
        lo - pad..hi + pad
    }
}

/// Unicode superscript of an integer exponent (`-3` → `⁻³`).
fn superscript(n: i64) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            d => ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'][d as usize - '0' as usize],
        })
        .collect()
}

/// A tick label: `10ⁿ` for exact powers of ten on a log axis, else the value rounded to 10
/// significant digits (so `0.1 + 0.2` ticks print `0.3`) in its shortest form.
fn tick_label(v: f64, log: bool) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if log {
        let k = v.log10().round();
        if (v / 10f64.powf(k) - 1.0).abs() < 1e-9 {
            return format!("10{}", superscript(k as i64));
        }
    }
    let r: f64 = format!("{v:.9e}").parse().unwrap_or(v);
    if (1e-4..1e6).contains(&r.abs()) {
        format!("{r}")
    } else {
        format!("{r:e}")
    }
}

impl LinePlot {
    /// Checks that there is at least one point, all finite, and > 0 on logarithmic axes.
    fn check(&self) -> Result<()> {
        if self.series.iter().all(|s| s.points.is_empty()) {
            return Err(Error::Invalid(format!(
                "plot \"{}\" has no points to draw",
                self.title
            )));
        }
        for s in &self.series {
            for (i, &(x, y)) in s.points.iter().enumerate() {
                let bad = if !(x.is_finite() && y.is_finite()) {
                    "is not finite"
                } else if self.log_x && x <= 0.0 {
                    "has x <= 0 on a logarithmic x-axis"
                } else if self.log_y && y <= 0.0 {
                    "has y <= 0 on a logarithmic y-axis"
                } else {
                    continue;
                };
                return Err(Error::Data(format!(
                    "plot \"{}\": point {i} ({x}, {y}) of series \"{}\" {bad}",
                    self.title, s.name
                )));
            }
        }
        Ok(())
    }

    /// The plot as an SVG document (640 × 480 px). Deterministic: the same plot gives the same
    /// bytes. Errors on empty plots, non-finite points and non-positive values on log axes.
    pub fn to_svg(&self) -> Result<String> {
        self.check()?;
        let all = self.series.iter().flat_map(|s| s.points.iter());
        let xr = axis_range(all.clone().map(|p| p.0), self.log_x);
        let yr = axis_range(all.map(|p| p.1), self.log_y);
        let mut svg = String::new();
        let drawn = match (self.log_x, self.log_y) {
            (false, false) => {
                self.draw(&mut svg, RangedCoordf64::from(xr), RangedCoordf64::from(yr))
            }
            (false, true) => self.draw(&mut svg, RangedCoordf64::from(xr), yr.log_scale()),
            (true, false) => self.draw(&mut svg, xr.log_scale(), RangedCoordf64::from(yr)),
            (true, true) => self.draw(&mut svg, xr.log_scale(), yr.log_scale()),
        };
        drawn
            .map_err(|e| Error::Invalid(format!("plot \"{}\": drawing failed: {e}", self.title)))?;
        Ok(svg)
    }

    /// Writes [`LinePlot::to_svg`] to `path`.
    pub fn write_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let svg = self.to_svg()?;
        std::fs::write(path, svg).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    }

    fn draw<X, Y>(
        &self,
        svg: &mut String,
        x: X,
        y: Y,
    ) -> std::result::Result<(), Box<dyn std::error::Error + 'static>>
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)
            .map_err(|e| e.to_string())?;
        let (log_x, log_y) = (self.log_x, self.log_y);
        let fx = move |v: &f64| tick_label(*v, log_x);
        let fy = move |v: &f64| tick_label(*v, log_y);
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, s) in self.series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(s.name.as_str())
                .legend(move |(px, py)| {
                    PathElement::new(vec![(px, py), (px + 20, py)], color.stroke_width(2))
                });
            chart
                .draw_series(PointSeries::of_element(
                    s.points.iter().copied(),
                    3,
                    color.filled(),
                    &|c, size, style| EmptyElement::at(c) + Circle::new((0, 0), size, style),
                ))
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(log: bool) -> LinePlot {
        let t: Vec<f64> = (0..8).map(|i| 10f64.powi(i - 3)).collect();
        LinePlot {
            title: "Invariance error of μ_t <C4 & D4>".into(),
            x_label: "training time t".into(),
            y_label: "relative error".into(),
            log_x: log,
            log_y: log,
            series: vec![
                Series::new(
                    "no augmentation",
                    t.iter().map(|&t| (t, 0.5 + 0.1 * t.ln().abs())).collect(),
                ),
                Series::new(
                    "C4 augmented",
                    t.iter().map(|&t| (t, 1e-12 * (1.0 + t))).collect(),
                ),
            ],
        }
    }

    #[test]
    fn svg_is_deterministic_and_names_every_series() {
        for log in [false, true] {
            let p = sample(log);
            let a = p.to_svg().unwrap();
            let b = p.clone().to_svg().unwrap();
            assert_eq!(a, b);
            assert!(a.starts_with("<svg") && a.trim_end().ends_with("</svg>"));
            for name in [
                "no augmentation",
                "C4 augmented",
                "training time t",
                "relative error",
            ] {
                assert!(
                    a.contains(&format!(">\n{name}\n<")) || a.contains(name),
                    "{name}"
                );
            }
            // the title's markup characters are escaped, not injected
            assert!(a.contains("μ_t &lt;C4 &amp; D4&gt;"));
        }
    }

    #[test]
    fn log_axes_get_power_of_ten_ticks() {
        let svg = sample(true).to_svg().unwrap();
        assert!(svg.contains("10⁻³"), "x ticks at decades");
        assert!(svg.contains("10⁴"));
        // plotters may step by two decades on the long y axis; one tick must sit near 1e-12
        assert!(
            svg.contains("10⁻¹²") || svg.contains("10⁻¹¹"),
            "y axis spans the tiny errors"
        );
    }

    #[test]
    fn bad_points_are_errors() {
        let mut p = sample(true);
        p.series[1].points[2].1 = 0.0;
        let e = p.to_svg().unwrap_err().to_string();
        assert!(e.contains("point 2") && e.contains("C4 augmented"), "{e}");
        let mut p = sample(false);
        p.series[0].points[0].0 = f64::NAN;
        assert!(p.to_svg().is_err());
        assert!(LinePlot::default().to_svg().is_err());
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick_label(0.1 + 0.2, false), "0.3");
        assert_eq!(tick_label(1e-3, true), "10⁻³");
        assert_eq!(tick_label(2e-3, true), "0.002");
        assert_eq!(tick_label(2.5e7, false), "2.5e7");
    }

    #[test]
    fn write_svg_reports_the_path() {
        let e = sample(false)
            .write_svg("/nonexistent-dir/x.svg")
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent-dir/x.svg"));
    }
}
