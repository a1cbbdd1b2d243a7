//! Deterministic number formatting for tables and plot ticks.
//!
//! Every float goes through Rust's `{:.Ne}` conversion, which rounds the exact binary value to
//! N digits after the point (ties to even on the exact decimal expansion) and never consults a
//! locale; the fixed-notation strings are assembled from its digits, so the same f64 prints the
//! same bytes everywhere.

/// How the floats of a column are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatFormat {
    /// `d ≥ 1` significant digits in positional notation: 3 → `0.00123`, `12.3`, `1230`.
    Significant(usize),
    /// `d ≥ 1` significant digits in scientific notation: 3 → `1.23e-3` (LaTeX:
    /// `$1.23 \times 10^{-3}$`); an exact zero is written `0`.
    Scientific(usize),
    /// A fixed number of digits after the decimal point: 2 → `3.14`, `-0.50`, `1234.00`.
    Fixed(usize),
    /// The shortest string that reads back as the same f64 (Rust's `Display`): full precision.
    Shortest,
}

impl Default for FloatFormat {
    /// Four significant digits.
    fn default() -> Self {
        FloatFormat::Significant(4)
    }
}

/// The parts of a formatted finite float: sign, mantissa/positional text, and for scientific
/// notation the power of ten.
pub(crate) struct Formatted {
    pub negative: bool,
    pub digits: String,
    pub exponent: Option<i32>,
}

/// `x` rounded to `d` significant digits as (digit string of length d, decimal exponent of the
/// first digit): 0.001234, 3 → ("123", −3).
fn significant_digits(x: f64, d: usize) -> (String, i32) {
    let s = format!("{:.*e}", d - 1, x.abs());
    let (mant, exp) = s.split_once('e').expect("`{:e}` always writes an exponent");
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    (
        digits,
        exp.parse().expect("`{:e}` writes an integer exponent"),
    )
}

/// Positional notation of the digit string `digits` (d₀.d₁d₂… × 10^exp).
fn positional(digits: &str, exp: i32) -> String {
    let n = digits.len() as i32;
    if exp < 0 {
        format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    } else if exp + 1 >= n {
        format!("{}{}", digits, "0".repeat((exp + 1 - n) as usize))
    } else {
        let (int, frac) = digits.split_at((exp + 1) as usize);
        format!("{int}.{frac}")
    }
}

impl FloatFormat {
    /// Splits the formatted finite `x` into sign, digits and (scientific) exponent. A zero of
    /// either sign prints as positive zero; a value that rounds to zero prints without a sign.
    pub(crate) fn parts(self, x: f64) -> Formatted {
        debug_assert!(x.is_finite());
        let x = if x == 0.0 { 0.0 } else { x };
        let (digits, exponent) = match self {
            FloatFormat::Significant(d) => {
                let (digits, exp) = significant_digits(x, d.max(1));
                (positional(&digits, exp), None)
            }
            // an exact zero has no exponent: `0`, not `0.0e0`
            FloatFormat::Scientific(_) if x == 0.0 => ("0".to_string(), None),
            FloatFormat::Scientific(d) => {
                let (digits, exp) = significant_digits(x, d.max(1));
                let (first, rest) = digits.split_at(1);
                let mant = if rest.is_empty() {
                    first.to_string()
                } else {
                    format!("{first}.{rest}")
                };
                (mant, Some(exp))
            }
            FloatFormat::Fixed(p) => (format!("{:.*}", p, x.abs()), None),
            FloatFormat::Shortest => (format!("{}", x.abs()), None),
        };
        let is_zero = digits.chars().all(|c| matches!(c, '0' | '.')) && exponent.is_none();
        Formatted {
            negative: x < 0.0 && !is_zero,
            digits,
            exponent,
        }
    }

    /// The plain-text form of `x` (Markdown, CSV, plot ticks): `-0.00123`, `1.23e-3`, `NaN`,
    /// `inf`, `-inf`.
    pub fn format(self, x: f64) -> String {
        if x.is_nan() {
            return "NaN".into();
        }
        if x.is_infinite() {
            return if x > 0.0 { "inf" } else { "-inf" }.into();
        }
        let f = self.parts(x);
        let sign = if f.negative { "-" } else { "" };
        match f.exponent {
            Some(e) => format!("{sign}{}e{e}", f.digits),
            None => format!("{sign}{}", f.digits),
        }
    }

    /// The LaTeX form of `x`: positional numbers as text (a minus sign in math mode), scientific
    /// ones as `$1.23 \times 10^{-3}$`, infinities as `$\infty$`.
    pub fn format_latex(self, x: f64) -> String {
        if x.is_nan() {
            return "NaN".into();
        }
        if x.is_infinite() {
            return if x > 0.0 { r"$\infty$" } else { r"$-\infty$" }.into();
        }
        let f = self.parts(x);
        let sign = if f.negative { "-" } else { "" };
        match f.exponent {
            Some(e) => format!(r"${sign}{} \times 10^{{{e}}}$", f.digits),
            None if f.negative => format!("${sign}{}$", f.digits),
            None => f.digits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FloatFormat::*;

    #[test]
    fn significant_digits_positional() {
        assert_eq!(Significant(3).format(0.001234), "0.00123");
        assert_eq!(Significant(3).format(12.345), "12.3");
        assert_eq!(Significant(3).format(1234.5), "1230");
        assert_eq!(Significant(3).format(123.0), "123");
        assert_eq!(Significant(3).format(-0.5), "-0.500");
        assert_eq!(Significant(3).format(9.996), "10.0");
        assert_eq!(Significant(2).format(0.0), "0.0");
        assert_eq!(Significant(2).format(-0.0), "0.0");
        assert_eq!(Significant(1).format(7.0), "7");
    }

    #[test]
    fn scientific_and_fixed() {
        assert_eq!(Scientific(3).format(0.001234), "1.23e-3");
        assert_eq!(Scientific(1).format(-25000.0), "-2e4");
        assert_eq!(Scientific(2).format(0.0), "0");
        assert_eq!(Fixed(2).format(1.23456), "1.23");
        assert_eq!(Fixed(2).format(-0.001), "0.00");
        assert_eq!(Fixed(0).format(2.5), "2");
        assert_eq!(Shortest.format(0.1), "0.1");
        assert_eq!(Shortest.format(-1e-7), "-0.0000001");
    }

    #[test]
    fn non_finite_and_latex() {
        assert_eq!(Significant(3).format(f64::NAN), "NaN");
        assert_eq!(Significant(3).format(f64::NEG_INFINITY), "-inf");
        assert_eq!(
            Scientific(2).format_latex(-0.000123),
            r"$-1.2 \times 10^{-4}$"
        );
        assert_eq!(Significant(2).format_latex(-1.5), "$-1.5$");
        assert_eq!(Significant(2).format_latex(1.5), "1.5");
        assert_eq!(Fixed(1).format_latex(f64::INFINITY), r"$\infty$");
    }
}
