//! Symbolic differentiation of an expression in one parameter.
//!
//! The rules of calculus on the tree, chained through every argument (`(f∘u)′ = f′(u) u′`):
//!
//! ```text
//! (Σ tᵢ)′ = Σ tᵢ′        (Π fᵢ)′ = Σᵢ fᵢ′ Π_{j≠i} fⱼ
//! (b^p)′ = p b^{p−1} b′ + b^p log(b) p′     (each term only where b, resp. p, depends on x)
//! √u′ = u′/(2√u)   exp′ = exp   log′ u = u′/u   sin′ = cos   cos′ = −sin   tan′ = 1 + tan²
//! arcsin′ u = u′/√(1 − u²)   arccos′ u = −u′/√(1 − u²)   arctan′ u = u′/(1 + u²)
//! erf′ u = (2/√π) exp(−u²) u′
//! ```
//!
//! Kinks follow the convention of the built-in activations: at a kink the derivative is the
//! mean of the one-sided derivatives. With `sign(0) = 0` ([`Func::Sign`]) this is exact
//! everywhere:
//!
//! ```text
//! abs(u)′    = sign(u) u′
//! max(u, v)′ = (u′ + v′)/2 + sign(u − v) (u′ − v′)/2      (ReLU: 1/2 + sign(x)/2)
//! min(u, v)′ = (u′ + v′)/2 − sign(u − v) (u′ − v′)/2
//! sign(u)′   = 0                                           (a jump: no derivative kernel)
//! ```
//!
//! The result is not normalised; [`Expr::normalize`] simplifies it.

use super::expr::{Expr, Func};
use super::param::Param;

impl Expr {
    /// Whether the parameter `x` occurs in the expression.
    pub fn mentions_param(&self, x: &Param) -> bool {
        match self {
            Expr::Param(p) => p == x,
            _ => self.children().iter().any(|c| c.mentions_param(x)),
        }
    }

    /// `d self / d x` by the rules of the module docs (kernels, sizes and sums are constants
    /// in `x`; a dual activation has no derivative here and is kept as `NaN`).
    pub fn derivative(&self, x: &Param) -> Expr {
        if !self.mentions_param(x) {
            return Expr::num(0.0);
        }
        match self {
            Expr::Param(_) => Expr::num(1.0),
            Expr::Add(ts) => Expr::Add(ts.iter().map(|t| t.derivative(x)).collect()),
            Expr::Mul(fs) => Expr::Add(
                (0..fs.len())
                    .filter(|&i| fs[i].mentions_param(x))
                    .map(|i| {
                        let mut term: Vec<Expr> = fs.clone();
                        term[i] = fs[i].derivative(x);
                        Expr::Mul(term)
                    })
                    .collect(),
            ),
            Expr::Pow(b, p) => {
                let mut terms = vec![];
                if b.mentions_param(x) {
                    terms.push(
                        (**p).clone() * (**b).clone().pow((**p).clone() - 1.0) * b.derivative(x),
                    );
                }
                if p.mentions_param(x) {
                    terms.push(
                        self.clone()
                            * Expr::Apply(Func::Log, vec![(**b).clone()])
                            * p.derivative(x),
                    );
                }
                Expr::Add(terms)
            }
            Expr::Apply(f, args) => {
                let u = args[0].clone();
                let du = args[0].derivative(x);
                let outer = match f {
                    Func::Sqrt => 0.5 * u.sqrt().powi(-1),
                    Func::Exp => u.exp(),
                    Func::Log => u.powi(-1),
                    Func::Sin => u.cos(),
                    Func::Cos => -u.sin(),
                    Func::Tan => 1.0 + Expr::Apply(Func::Tan, vec![u]).squared(),
                    Func::Arcsin => (1.0 - u.squared()).sqrt().powi(-1),
                    Func::Arccos => -(1.0 - u.squared()).sqrt().powi(-1),
                    Func::Arctan => (1.0 + u.squared()).powi(-1),
                    Func::Erf => 2.0 * Expr::pi().sqrt().powi(-1) * (-u.squared()).exp(),
                    Func::Abs => u.sign(),
                    Func::Sign => Expr::num(0.0),
                    Func::Min | Func::Max => {
                        let (v, dv) = (args[1].clone(), args[1].derivative(x));
                        let side = if *f == Func::Max { 0.5 } else { -0.5 };
                        return 0.5 * (du.clone() + dv.clone()) + side * (u - v).sign() * (du - dv);
                    }
                    Func::Dual(_) => Expr::num(f64::NAN),
                };
                outer * du
            }
            Expr::Num(_) | Expr::Pi | Expr::Card(_) | Expr::Kernel(_) | Expr::Sum { .. } => {
                Expr::num(0.0)
            }
        }
    }

    /// `sign self` (`sign 0 = 0`).
    pub fn sign(self) -> Self {
        Expr::Apply(Func::Sign, vec![self])
    }
}

#[cfg(test)]
mod tests {
    use super::super::eval::SimpleEnv;
    use super::super::normal::Assumptions;
    use super::*;

    fn at(e: &Expr, x: &Param, v: f64) -> f64 {
        e.eval(&SimpleEnv::new().with_param(x.clone(), v)).unwrap()
    }

    #[test]
    fn rules_agree_with_central_differences() {
        let x = Param::named("x");
        let ex = || Expr::from(x.clone());
        for e in [
            ex() * (-0.5 * ex().squared()).exp(),
            ex().sin().squared() + (2.0 * ex()).exp().sqrt(),
            ex().pow(ex()),
            (ex() * 0.3).arcsin() + (ex() / 4.0).arccos(),
        ] {
            let d = e.derivative(&x).normalize(&Assumptions::new());
            for v in [0.4, 0.9, 1.7] {
                let h = 1e-6;
                let fd = (at(&e, &x, v + h) - at(&e, &x, v - h)) / (2.0 * h);
                let exact = at(&d, &x, v);
                assert!(
                    (fd - exact).abs() < 1e-6 * (1.0 + exact.abs()),
                    "{fd} {exact}"
                );
            }
        }
    }

    #[test]
    fn kinks_take_the_mean_of_the_one_sided_derivatives() {
        let x = Param::named("x");
        let relu = Expr::Apply(Func::Max, vec![Expr::from(x.clone()), Expr::num(0.0)]);
        let d = relu.derivative(&x).normalize(&Assumptions::new());
        assert_eq!(at(&d, &x, 0.0), 0.5);
        assert_eq!(at(&d, &x, 2.0), 1.0);
        assert_eq!(at(&d, &x, -2.0), 0.0);
        let abs = Expr::Apply(Func::Abs, vec![Expr::from(x.clone())]).derivative(&x);
        assert_eq!(at(&abs, &x, 0.0), 0.0);
    }
}
