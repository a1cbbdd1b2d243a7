//! A nonlinearity written as an expression in `x`: `{ kind = "elementwise", phi = "x*exp(-x^2/2)" }`.
//!
//! `phi` uses the syntax of formulas ([`crate::symbolic::parse_expr`]): numbers, `pi`,
//! `+ - * / ^`, parentheses and `sqrt exp log sin cos tan arccos arcsin arctan erf abs min max`,
//! with `x` the only name. φ and φ′ are evaluated together by forward-mode differentiation of
//! the expression tree (exact derivatives, no finite differences), with the convention of the
//! built-in activations at a kink: the mean of the one-sided derivatives (`abs′(0) = 0`,
//! `max′(u, v) = (u′ + v′)/2` where `u = v`). The dual `(T_φ, Ṫ_φ)` is the quadrature of
//! [`super::Activation::dual`] for φ without a closed form (split Gauss–Legendre panels in the
//! Cholesky coordinates, split at 0 for a φ with `abs`, `min` or `max`); measured against the
//! closed forms of `relu`, `erf` and `identity` written as expressions it agrees to ≲ 1e-9
//! relative (`tests/elementwise.rs`).

use std::f64::consts::PI;

use crate::symbolic::expr::Func;
use crate::symbolic::parse::{parse_expr, Names};
use crate::symbolic::{Expr, Param};

/// φ(x) as an expression, with what the quadrature needs to know of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Expression {
    /// As written in the network file.
    pub text: String,
    expr: Expr,
    /// Whether φ has kinks (`abs`, `min`, `max`), which the quadrature splits at 0.
    kinked: bool,
}

impl Expression {
    /// Parse `text` as φ(x); the reason only on error (the caller names the key).
    pub fn parse(text: &str) -> Result<Self, String> {
        let names = Names::new().with(Param::named("x"));
        let expr = parse_expr(text, &names, "phi").map_err(|e| e.to_string())?;
        let mut kinked = false;
        check(&expr, &mut kinked)?;
        Ok(Self {
            text: text.trim().to_string(),
            expr,
            kinked,
        })
    }

    /// `(φ(x), φ′(x))`.
    pub fn jet(&self, x: f64) -> (f64, f64) {
        jet(&self.expr, x)
    }

    /// Whether φ has kinks (it uses `abs`, `min` or `max`).
    pub fn is_kinked(&self) -> bool {
        self.kinked
    }
}

/// Only numbers, `pi`, `x` and the elementary functions: no kernels, sums or duals.
fn check(e: &Expr, kinked: &mut bool) -> Result<(), String> {
    match e {
        Expr::Num(_) | Expr::Pi | Expr::Param(_) => Ok(()),
        Expr::Apply(Func::Dual(_), _) => Err("phi cannot use a dual activation".into()),
        Expr::Apply(f, args) => {
            *kinked |= matches!(f, Func::Abs | Func::Min | Func::Max);
            args.iter().try_for_each(|a| check(a, kinked))
        }
        Expr::Pow(b, p) => check(b, kinked).and(check(p, kinked)),
        Expr::Mul(fs) | Expr::Add(fs) => fs.iter().try_for_each(|a| check(a, kinked)),
        Expr::Kernel(_) | Expr::Card(_) | Expr::Sum { .. } => {
            Err("phi is a function of x alone (numbers, pi, x and elementary functions)".into())
        }
    }
}

/// `(e(x), e′(x))` by forward-mode differentiation.
fn jet(e: &Expr, x: f64) -> (f64, f64) {
    match e {
        Expr::Num(v) => (*v, 0.0),
        Expr::Pi => (PI, 0.0),
        Expr::Param(_) => (x, 1.0),
        Expr::Add(ts) => ts.iter().fold((0.0, 0.0), |(a, da), t| {
            let (b, db) = jet(t, x);
            (a + b, da + db)
        }),
        Expr::Mul(fs) => fs.iter().fold((1.0, 0.0), |(a, da), f| {
            let (b, db) = jet(f, x);
            (a * b, a * db + b * da)
        }),
        Expr::Pow(b, p) => {
            let ((u, du), (v, dv)) = (jet(b, x), jet(p, x));
            let value = u.powf(v);
            // v u^(v−1) u′, plus u^v ln(u) v′ when the exponent varies
            let mut d = if du == 0.0 {
                0.0
            } else {
                v * u.powf(v - 1.0) * du
            };
            if dv != 0.0 {
                d += value * u.ln() * dv;
            }
            (value, d)
        }
        Expr::Apply(f, args) => {
            let (u, du) = jet(&args[0], x);
            match f {
                Func::Sqrt => {
                    let s = u.sqrt();
                    (s, du / (2.0 * s))
                }
                Func::Arccos => (u.acos(), -du / (1.0 - u * u).sqrt()),
                Func::Arcsin => (u.asin(), du / (1.0 - u * u).sqrt()),
                Func::Sin => (u.sin(), u.cos() * du),
                Func::Cos => (u.cos(), -u.sin() * du),
                Func::Erf => (libm::erf(u), 2.0 / PI.sqrt() * (-u * u).exp() * du),
                Func::Exp => {
                    let v = u.exp();
                    (v, v * du)
                }
                Func::Log => (u.ln(), du / u),
                Func::Tan => {
                    let t = u.tan();
                    (t, (1.0 + t * t) * du)
                }
                Func::Arctan => (u.atan(), du / (1.0 + u * u)),
                Func::Abs => {
                    let s = if u > 0.0 {
                        1.0
                    } else if u < 0.0 {
                        -1.0
                    } else {
                        0.0
                    };
                    (u.abs(), s * du)
                }
                Func::Min | Func::Max => {
                    let (v, dv) = jet(&args[1], x);
                    let first = if matches!(f, Func::Min) { u < v } else { u > v };
                    if u == v {
                        (u, 0.5 * (du + dv))
                    } else if first {
                        (u, du)
                    } else {
                        (v, dv)
                    }
                }
                Func::Dual(_) => (f64::NAN, f64::NAN),
            }
        }
        Expr::Kernel(_) | Expr::Card(_) | Expr::Sum { .. } => (f64::NAN, f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// φ′ against central differences at points away from kinks.
    #[test]
    fn derivatives_match_central_differences() {
        for text in [
            "x*exp(-x^2/2)",
            "erf(2*x) + sin(x)^2",
            "sqrt(1 + x^2) - log(2 + cos(x))",
            "arctan(x)/(1 + x^2) + tan(x/3)",
            "max(x, 0) - 0.3*min(x, 0.5)",
            "abs(x)^1.5 + 2^x",
            "arcsin(x/4) + arccos(x/5)",
        ] {
            let e = Expression::parse(text).unwrap();
            for &x in &[-1.3, -0.4, 0.7, 1.9] {
                let h = 1e-6;
                let fd = (e.jet(x + h).0 - e.jet(x - h).0) / (2.0 * h);
                let (_, d) = e.jet(x);
                assert!(
                    (fd - d).abs() <= 1e-6 * (1.0 + d.abs()),
                    "{text} at {x}: {d} vs {fd}"
                );
            }
        }
    }

    #[test]
    fn kinks_use_the_mean_of_the_one_sided_derivatives() {
        assert_eq!(Expression::parse("max(x, 0)").unwrap().jet(0.0), (0.0, 0.5));
        assert_eq!(Expression::parse("abs(x)").unwrap().jet(0.0), (0.0, 0.0));
        assert!(Expression::parse("max(x, 0)").unwrap().is_kinked());
        assert!(!Expression::parse("erf(x)").unwrap().is_kinked());
    }

    #[test]
    fn only_functions_of_x_are_accepted() {
        for (text, needle) in [
            ("y + 1", "y"),
            ("K0(x,x') + x", "function of x alone"),
            ("erf(x", "phi"),
            ("", "phi"),
        ] {
            let e = Expression::parse(text).unwrap_err();
            assert!(e.contains(needle) && !e.contains('\n'), "{text}: {e}");
        }
    }
}
