//! Exact-looking printing of character values: integers, `2cos(pπ/q)`, roots of unity.

use std::f64::consts::PI;

use num_complex::Complex64 as C64;

/// How [`format_value`] prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueStyle {
    /// Plain text / Markdown: `-1`, `2cos(2π/5)`, `ω^2`, `e^(2πi·1/3)`, `0.1234`.
    Markdown,
    /// LaTeX math (without `$`): `-1`, `2\cos\frac{2\pi}{5}`, `\omega^{2}`, `e^{2\pi i/3}`.
    Latex,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Print a character value of a group of order `order` as exactly as it is recognised.
///
/// Recognised, in order (tolerance `1e-9`): integers; `i`, `−i`; `ω^a = e^{2πi a/n}` when
/// `omega = Some(n)`; other roots of unity `e^{2πi p/q}` with `q | order`; real numbers
/// `2cos(2πa/order)`; otherwise four decimals (`a+bi` for complex values).
pub(crate) fn format_value(
    v: C64,
    order: usize,
    omega: Option<usize>,
    style: ValueStyle,
) -> String {
    const TOL: f64 = 1e-9;
    let latex = style == ValueStyle::Latex;
    if v.im.abs() < TOL {
        let x = v.re;
        if (x - x.round()).abs() < TOL {
            return format!("{}", x.round() as i64);
        }
        let n = order.max(1);
        for a in 1..n {
            if 2 * a > n {
                break;
            }
            if (x - 2.0 * (2.0 * PI * a as f64 / n as f64).cos()).abs() < TOL {
                // 2πa/n = pπ/q in lowest terms.
                let g = gcd(2 * a, n);
                let (p, q) = (2 * a / g, n / g);
                return match (latex, p) {
                    (false, 1) => format!("2cos(π/{q})"),
                    (false, _) => format!("2cos({p}π/{q})"),
                    (true, 1) => format!("2\\cos\\frac{{\\pi}}{{{q}}}"),
                    (true, _) => format!("2\\cos\\frac{{{p}\\pi}}{{{q}}}"),
                };
            }
        }
        return format!("{x:.4}");
    }
    if v.re.abs() < TOL && (v.im.abs() - 1.0).abs() < TOL {
        return if v.im > 0.0 { "i".into() } else { "-i".into() };
    }
    if (v.norm() - 1.0).abs() < TOL {
        let turns = v.arg().rem_euclid(2.0 * PI) / (2.0 * PI);
        if let Some(n) = omega {
            let a = turns * n as f64;
            if (a - a.round()).abs() < TOL * n as f64 {
                let a = (a.round() as usize) % n;
                return match (latex, a) {
                    (_, 1) if !latex => "ω".into(),
                    (_, 1) => "\\omega".into(),
                    (false, _) => format!("ω^{a}"),
                    (true, _) => format!("\\omega^{{{a}}}"),
                };
            }
        }
        let n = order.max(1);
        let a = turns * n as f64;
        if (a - a.round()).abs() < TOL * n as f64 {
            let a = (a.round() as usize) % n;
            let g = gcd(a, n);
            let (p, q) = (a / g, n / g);
            return match (latex, p) {
                (false, 1) => format!("e^(2πi/{q})"),
                (false, _) => format!("e^(2πi·{p}/{q})"),
                (true, 1) => format!("e^{{2\\pi i/{q}}}"),
                (true, _) => format!("e^{{2\\pi i\\cdot {p}/{q}}}"),
            };
        }
    }
    let sign = if v.im < 0.0 { "-" } else { "+" };
    format!("{:.4}{sign}{:.4}i", v.re, v.im.abs())
}

/// A JSON number for a value, snapped to an integer within `1e-12` and with `-0` printed as `0`.
pub(crate) fn json_number(x: f64) -> serde_json::Value {
    if (x - x.round()).abs() < 1e-12 {
        let r = x.round();
        serde_json::json!(if r == 0.0 { 0 } else { r as i64 })
    } else {
        serde_json::json!(x)
    }
}
