//! A derivation as a SymPy script, for computer-algebra users: `eqntk derive --format sympy`.
//!
//! The script declares the parameters and the input kernels as SymPy symbols and assigns every
//! definition in order, once for each pair of arguments a later layer reads — `(x, x)`,
//! `(x, x′)`, `(x′, x′)` — as `K1_xx`, `K1_xy`, `K1_yy` (`y` stands for `x′`); the closed forms
//! of the dual activations are written out. The last lines name the outputs `nngp` and `ntk`.
//! Running it (`python3 script.py`, with SymPy installed) leaves them as SymPy expressions in the
//! input kernels `K0_xx, K0_xy, K0_yy` and the parameters, e.g. for `sympy.simplify`.
//!
//! Only networks without sites after their input export (vectors, or a flatten first): sums
//! over sites and filters, group indices and relative angles have no plain SymPy form here, and
//! activations without a closed form (tanh, sigmoid, softplus, `elementwise`) have no formula to
//! write; both are one-line errors.

use super::derivation::Definition;
use super::expr::{Expr, Func};
use super::kernel_sym::{Example, KernelKind, KernelSym};
use super::network::NetworkDerivation;
use super::print::compact_number;
use crate::error::{Error, Result};

/// The SymPy script of `deriv` (see the module docs); `title` goes in its first comment.
pub fn to_sympy(deriv: &NetworkDerivation, title: &str) -> Result<String> {
    let defs = deriv.derivation().definitions();
    let mut body = String::new();
    for d in defs {
        for (a, b) in [
            (Example::X, Example::X),
            (Example::X, Example::XPrime),
            (Example::XPrime, Example::XPrime),
        ] {
            let at = |e: Example| match e {
                Example::X => a,
                Example::XPrime => b,
            };
            let name = symbol(&d.name.map_examples(at), d)?;
            let rhs = expr(&substitute_examples(&d.rhs, a, b), d)?;
            body += &format!("{name} = {rhs}\n");
        }
    }
    let params: Vec<String> = deriv
        .params()
        .keys()
        .map(|p| p.plain().to_string())
        .collect();
    let (k, t) = deriv.output();
    let mut s = format!(
        "# {title}: the kernel recursion, written by eqntk (derive --format sympy).\n\
         # K<l>_xy is K^(l)(x, x'), K<l>_xx is K^(l)(x, x), K<l>_yy is K^(l)(x', x').\n\
         from sympy import Abs, Max, Min, Rational, acos, asin, atan, cos, erf, exp, log, pi, \
         sin, sqrt, symbols, tan\n\n"
    );
    if !params.is_empty() {
        s += &format!(
            "{} = symbols('{}', positive=True)\n",
            params.join(", ") + if params.len() == 1 { "," } else { "" },
            params.join(" ")
        );
    }
    s += "K0_xx, K0_xy, K0_yy = symbols('K0_xx K0_xy K0_yy', real=True)\n\n";
    s += &body;
    s += &format!(
        "\nnngp = {}\nntk = {}\n",
        symbol(&k.map_examples(|e| e), &defs[defs.len() - 1])?,
        symbol(&t.map_examples(|e| e), &defs[defs.len() - 1])?
    );
    // the values of the parameters, for substitution
    let values: Vec<String> = deriv
        .params()
        .iter()
        .map(|(p, v)| format!("{}: {}", p.plain(), compact_number(*v)))
        .collect();
    s += &format!("values = {{{}}}\n", values.join(", "));
    Ok(s)
}

/// `K3_xy`, `Theta3_xx`: a site-free kernel symbol as a Python name.
fn symbol(k: &KernelSym, d: &Definition) -> Result<String> {
    if k.idx.is_some() || k.tag.is_some() {
        return Err(unsupported(d, "kernels with site indices"));
    }
    let arg = |a: &super::kernel_sym::Arg| -> Result<&str> {
        if a.transform.is_some() {
            return Err(unsupported(d, "transformed arguments ρ(g)x′"));
        }
        Ok(match a.example {
            Example::X => "x",
            Example::XPrime => "y",
        })
    };
    let kind = match k.kind {
        KernelKind::Nngp => "K",
        KernelKind::Ntk => "Theta",
    };
    Ok(format!(
        "{kind}{}_{}{}",
        k.layer,
        arg(&k.args.0)?,
        arg(&k.args.1)?
    ))
}

fn unsupported(d: &Definition, what: &str) -> Error {
    Error::Invalid(format!(
        "--format sympy: layer {} ({}) has {what}, which the SymPy export does not write (it \
         takes networks without sites and with closed-form activations)",
        d.layer, d.note
    ))
}

/// `rhs` with its kernels' arguments `(x, x′)` replaced by `(a, b)`.
fn substitute_examples(rhs: &Expr, a: Example, b: Example) -> Expr {
    rhs.substitute_kernels(&|k| {
        Some(Expr::from(k.map_examples(|e| match e {
            Example::X => a,
            Example::XPrime => b,
        })))
    })
}

/// The expression in Python/SymPy syntax, fully parenthesised where precedence could bite.
fn expr(e: &Expr, d: &Definition) -> Result<String> {
    Ok(match e {
        Expr::Num(v) => number(*v),
        Expr::Pi => "pi".into(),
        Expr::Param(p) => p.plain().to_string(),
        Expr::Kernel(k) => symbol(k, d)?,
        Expr::Add(ts) => {
            let mut sum = String::new();
            for (i, t) in ts.iter().enumerate() {
                let term = expr(t, d)?;
                match (i, term.strip_prefix('-')) {
                    (0, _) => sum += &term,
                    (_, Some(rest)) => sum += &format!(" - {rest}"),
                    (_, None) => sum += &format!(" + {term}"),
                }
            }
            format!("({sum})")
        }
        Expr::Mul(fs) => {
            let parts: Vec<String> = fs.iter().map(|f| expr(f, d)).collect::<Result<_>>()?;
            parts.join("*")
        }
        Expr::Pow(b, p) => format!("({})**({})", expr(b, d)?, expr(p, d)?),
        Expr::Apply(f, args) => {
            let name = match f {
                Func::Sqrt => "sqrt",
                Func::Arccos => "acos",
                Func::Arcsin => "asin",
                Func::Sin => "sin",
                Func::Cos => "cos",
                Func::Erf => "erf",
                Func::Exp => "exp",
                Func::Log => "log",
                Func::Tan => "tan",
                Func::Arctan => "atan",
                Func::Abs => "Abs",
                Func::Sign => "sign",
                Func::Min => "Min",
                Func::Max => "Max",
                Func::Dual(_) => return Err(unsupported(d, "an activation without a closed form")),
            };
            let parts: Vec<String> = args.iter().map(|a| expr(a, d)).collect::<Result<_>>()?;
            format!("{name}({})", parts.join(", "))
        }
        Expr::Card(_) | Expr::Sum { .. } => return Err(unsupported(d, "sums over index sets")),
    })
}

/// A number SymPy reads exactly: integers and small fractions as `Rational`, others as floats
/// in their shortest round-trip form.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    match super::print::as_fraction(v) {
        Some((p, q)) => format!("Rational({p}, {q})"),
        None => format!("{v:?}"),
    }
}
