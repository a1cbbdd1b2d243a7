//! A nonlinearity written as an expression in `x`: `{ kind = "elementwise", phi = "x*exp(-x^2/2)" }`.
//!
//! `phi` uses the syntax of formulas ([`crate::symbolic::parse_expr`]): numbers, `pi`,
//! `+ - * / ^`, parentheses and `sqrt exp log sin cos tan arccos arcsin arctan erf abs sign min
//! max`, with `x` the only name. φ′ is kept twice, equal by test: as an expression (the symbolic
//! derivative of `crate::symbolic::diff`, in normal form, which derivations print), and as a
//! forward-mode jet of the tree that evaluates `(φ(x), φ′(x))` in one walk (what the numerics
//! use: one pass instead of two trees). Both follow the convention of the built-in activations
//! at a kink: the mean of the one-sided derivatives (`abs′(0) = 0`, `max′(u, v) = (u′ + v′)/2`
//! where `u = v`, `sign′ = 0`).
//!
//! The dual `(T_φ, Ṫ_φ)` is the adaptive quadrature of
//! [`crate::layer::adaptive_quadrature`] to the layer's relative tolerance `tol` (default
//! `1e-10`, at most `max_panels` panels per dimension, default 64); each evaluation's error
//! estimate is recorded in the layer's [`QuadratureLedger`], which the network's
//! [`crate::KernelReport`] reports. Measured against the closed forms of `relu`, `erf`,
//! `identity` and `x^3` written as expressions, the estimate bounds the error
//! (`tests/elementwise.rs`).

use std::f64::consts::PI;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::layer::adaptive_quadrature::{PairEstimate, Tolerance};
use crate::symbolic::expr::Func;
use crate::symbolic::parse::{parse_expr, Names};
use crate::symbolic::{Assumptions, Expr, Param};

/// φ(x) as an expression, with what the quadrature needs to know of it.
#[derive(Clone, Debug)]
pub struct Expression {
    /// As written in the network file.
    pub text: String,
    expr: Expr,
    /// φ′ in normal form (symbolic derivative).
    derivative: Expr,
    /// Whether φ has kinks (`abs`, `sign`, `min`, `max`).
    kinked: bool,
    /// The width of φ's transition at 0 (`adaptive_quadrature::transition_width`).
    pub width: f64,
    /// The quadrature's tolerance and panel cap.
    pub tol: Tolerance,
    /// The worst error estimate of the duals computed so far (shared by clones).
    pub ledger: Arc<QuadratureLedger>,
}

/// Equal when φ and the tolerance are (the ledgers are records, not part of the value).
impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr && self.tol == other.tol
    }
}

/// What the duals of one written activation have met so far: thread-safe maxima and counts,
/// updated once per evaluation (`T`, `Ṫ` at one `(k₁₁, k₁₂, k₂₂)`).
#[derive(Debug, Default)]
pub struct QuadratureLedger {
    /// The largest relative error estimate, as `f64` bits (non-negative floats order as their
    /// bits do).
    worst: AtomicU64,
    evaluations: AtomicU64,
    unreached: AtomicU64,
}

impl QuadratureLedger {
    /// Record one evaluation.
    #[inline]
    pub fn record(&self, e: &PairEstimate) {
        let r = e.relative_error();
        if r > f64::from_bits(self.worst.load(Ordering::Relaxed)) {
            self.worst.fetch_max(r.to_bits(), Ordering::Relaxed);
        }
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        if !e.reached {
            self.unreached.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(worst relative error estimate, evaluations, evaluations that missed the tolerance)`.
    pub fn read(&self) -> (f64, u64, u64) {
        (
            f64::from_bits(self.worst.load(Ordering::Relaxed)),
            self.evaluations.load(Ordering::Relaxed),
            self.unreached.load(Ordering::Relaxed),
        )
    }

    /// Forget what was recorded.
    pub fn reset(&self) {
        self.worst.store(0, Ordering::Relaxed);
        self.evaluations.store(0, Ordering::Relaxed);
        self.unreached.store(0, Ordering::Relaxed);
    }
}

impl Expression {
    /// Parse `text` as φ(x) with the default tolerance; the reason only on error (the caller
    /// names the key).
    pub fn parse(text: &str) -> Result<Self, String> {
        let x = Param::named("x");
        let names = Names::new().with(x.clone());
        let expr = parse_expr(text, &names, "phi").map_err(|e| e.to_string())?;
        let mut kinked = false;
        check(&expr, &mut kinked)?;
        let derivative = expr.derivative(&x).normalize(&Assumptions::new());
        let width = crate::layer::adaptive_quadrature::transition_width(|x| jet(&expr, x));
        Ok(Self {
            text: text.trim().to_string(),
            expr,
            derivative,
            kinked,
            width,
            tol: Tolerance::DEFAULT,
            ledger: Arc::default(),
        })
    }

    /// φ as an expression in `x`.
    pub fn phi(&self) -> &Expr {
        &self.expr
    }

    /// φ′ as an expression in `x` (symbolic derivative, normal form).
    pub fn derivative(&self) -> &Expr {
        &self.derivative
    }

    /// `(φ(u), φ′(u))` as expressions in the variable `u` (as derivations print them).
    pub fn written_in_u(&self) -> (Expr, Expr) {
        let (x, u) = (Param::named("x"), Expr::from(Param::named("u")));
        (
            self.expr.substitute_param(&x, &u),
            self.derivative.substitute_param(&x, &u),
        )
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
            *kinked |= matches!(f, Func::Abs | Func::Sign | Func::Min | Func::Max);
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
                Func::Sign => {
                    let s = if u > 0.0 {
                        1.0
                    } else if u < 0.0 {
                        -1.0
                    } else {
                        u
                    };
                    (s, 0.0)
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

    /// φ with every function of the syntax, smooth and kinked.
    const PHIS: [&str; 7] = [
        "x*exp(-x^2/2)",
        "erf(2*x) + sin(x)^2",
        "sqrt(1 + x^2) - log(2 + cos(x))",
        "arctan(x)/(1 + x^2) + tan(x/3)",
        "max(x, 0) - 0.3*min(x, 0.5)",
        "abs(x)^1.5 + 2^x",
        "arcsin(x/4) + arccos(x/5)",
    ];

    /// φ′ against central differences at points away from kinks.
    #[test]
    fn derivatives_match_central_differences() {
        for text in PHIS {
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

    /// The symbolic φ′ evaluated numerically is the jet's φ′, kinks included.
    #[test]
    fn the_symbolic_derivative_is_the_jet() {
        use crate::symbolic::SimpleEnv;
        for text in PHIS.into_iter().chain([
            "x^3 - 2*x",
            "max(x, 0)",
            "abs(x - 0.5)*sign(x)",
            "min(x^2, 1) + max(2*x, x + 1)",
            "x^x",
            "exp(-x)/(1 + exp(-x))",
            "cos(3*x + 0.2)*erf(x/2)",
        ]) {
            let e = Expression::parse(text).unwrap();
            let x = Param::named("x");
            let mut points: Vec<f64> = (0..37).map(|i| -1.8 + 0.1 * i as f64).collect();
            points.extend([0.0, 0.5, 1.0, -1.0]);
            for v in points {
                if text == "x^x" && v <= 0.0 {
                    continue;
                }
                let (_, jet) = e.jet(v);
                let sym = e
                    .derivative()
                    .eval(&SimpleEnv::new().with_param(x.clone(), v))
                    .unwrap();
                assert!(
                    (sym - jet).abs() <= 1e-12 * (1.0 + jet.abs()),
                    "{text} at {v}: symbolic {sym} vs jet {jet}"
                );
            }
        }
    }

    #[test]
    fn derivatives_print_simplified() {
        let (phi, dphi) = Expression::parse("x*exp(-x^2/2)").unwrap().written_in_u();
        assert_eq!(phi.to_plain(), "u*exp(-u^2/2)");
        assert_eq!(dphi.to_plain(), "exp(-u^2/2) - u^2*exp(-u^2/2)");
        let (_, drelu) = Expression::parse("max(x, 0)").unwrap().written_in_u();
        assert_eq!(drelu.to_plain(), "sign(u)/2 + 1/2");
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
