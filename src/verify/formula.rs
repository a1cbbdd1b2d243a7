//! Formula claims: a closed form or a whole recursion, written in the printed syntax, against
//! the network's kernel.
//!
//! ```toml
//! [[claims]]
//! kind = "formula"
//! network = "mlp"
//! x1 = "x"
//! ntk = "sigma_w3^2*(K1(x,x')*(pi - theta)/(2*pi) + K1s) + K2"   # or nngp = "…"
//! where = """
//! K1s = ...                       # bindings, one a line or separated by commas; each may use
//! theta = arccos(...)             # the network's parameters and the bindings above it
//! """
//! ```
//!
//! A formula names the input kernel `K0(x,x')`, `K0(x,x)`, `K0(x',x')` — `(1/d) x·x′` over all
//! `d` entries of an example, neural-tangents' convention — and `Theta0 = 0`, the network's
//! parameters by their printed names (`sigma_w1`, `sigma_b1`, `n1`) and the names bound in
//! `where`. Its values on `x1 × x2` are compared with the fast kernel, relative to the largest
//! entry.
//!
//! `definitions = """…"""` holds a recursion instead, as `eqntk derive --format text` prints
//! it (edit the printed text, then verify the edit). It is interpreted layer by layer like the
//! network's own derivation; when its kernels differ, the outcome names the first definition
//! whose replacement alone changes the network's output.
//!
//! The default tolerance is 1e-8, not the 1e-12 of the interpreter against the fast path:
//! a printed closed form evaluates literally, and `arccos ρ` near `ρ = 1` (every
//! self-covariance, where `ρ = k/√(k·k)`) turns a rounding of `ρ` by 1e-16 into an angle of
//! `√(2·1e-16) ≈ 1.5e-8`; the fast path evaluates the same dual activations in a stable form.
//! Set `rtol` per claim to ask for more where a formula has no such term.
//!
//! Where the normal form decides it, the outcome also says whether the formula is
//! *symbolically* equal to the derived one (both inlined down to `K0`, parameters replaced by
//! their values, normalised and compared); a formula that is not shown equal this way may
//! still be right, which the numbers decide.

use faer::Mat;

use super::check::{entry_table, input, network, relative_discrepancy, Outcome};
use super::claims::ClaimFile;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::symbolic::{
    derive_network, evaluate_network, parse_bindings, parse_derivation, parse_expr, Assumptions,
    Derivation, Example, Expr, Format, KernelKind, Names, NetworkDerivation, Param, SimpleEnv,
};

/// What a formula claim states.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// Closed forms of the output kernels (either or both), with bindings.
    Closed {
        /// `K⁽ᴸ⁾(x, x′)`.
        nngp: Option<String>,
        /// `Θ⁽ᴸ⁾(x, x′)`.
        ntk: Option<String>,
        /// The `where` block (empty: none).
        bindings: String,
    },
    /// A whole recursion in the printed syntax.
    Definitions(String),
}

/// The outcome of a formula claim on `x1 × x2`.
pub(super) fn check_formula(
    cf: &ClaimFile,
    net_name: &str,
    statement: &Statement,
    x1: &str,
    x2: Option<&str>,
    rtol: f64,
) -> Result<Outcome> {
    let net = network(cf, net_name)?;
    let x1 = input(cf, x1)?;
    let x2 = x2.map(|n| input(cf, n)).transpose()?;
    let deriv = derive_network(net)?;
    let fast = net.kernel(x1, x2)?;
    let (k, theta) = (fast.nngp()?, fast.ntk()?);
    match statement {
        Statement::Closed {
            nngp,
            ntk,
            bindings,
        } => {
            let mut names = Names::new();
            deriv.params().keys().for_each(|p| names.insert(p.clone()));
            let bound = parse_bindings(bindings, &names, "`where`")?;
            bound.iter().for_each(|(p, _)| names.insert(p.clone()));
            let mut pairs = Vec::new();
            let mut symbolic = Vec::new();
            for (label, text, kind, computed) in [
                ("K", nngp, KernelKind::Nngp, &k),
                (r"\Theta", ntk, KernelKind::Ntk, &theta),
            ] {
                let Some(text) = text else { continue };
                let what = format!("`{}` formula", if label == "K" { "nngp" } else { "ntk" });
                let formula = substitute(parse_expr(text, &names, &what)?, &bound);
                check_symbols(&formula, &what)?;
                let values = closed_values(&formula, &deriv, x1, x2.unwrap_or(x1))?;
                symbolic.push((label, symbolically_equal(&formula, &deriv, kind)));
                pairs.push((label, values, computed.clone()));
            }
            if pairs.is_empty() {
                return Err(Error::Spec(
                    "a formula claim needs `nngp`, `ntk` or `definitions`".into(),
                ));
            }
            let discrepancy = pairs
                .iter()
                .map(|(_, f, c)| relative_discrepancy(f, c))
                .fold(0.0, f64::max);
            let shown: Vec<String> = symbolic
                .iter()
                .map(|(l, eq)| {
                    let l = if *l == "K" { "K" } else { "Θ" };
                    match eq {
                        true => format!("{l}: symbolically equal to the derivation"),
                        false => format!("{l}: not shown equal symbolically"),
                    }
                })
                .collect();
            let refs: Vec<(&str, &Mat<f64>, &Mat<f64>)> =
                pairs.iter().map(|(n, f, c)| (*n, f, c)).collect();
            Ok(Outcome {
                measure: format!(
                    "max |formula − kernel| / max |kernel| ({})",
                    shown.join("; ")
                ),
                discrepancy,
                tolerance: rtol,
                table: entry_table(
                    &format!("the formula (a) and the kernel of {net_name} (b)"),
                    &refs,
                    "a",
                    "b",
                ),
            })
        }
        Statement::Definitions(text) => {
            let mut names = Names::new();
            deriv.params().keys().for_each(|p| names.insert(p.clone()));
            let (defs, bound) = parse_derivation(text, &names, "`definitions`")?;
            let defs = defs.map_rhs(|e| substitute(e.clone(), &bound));
            let defs = aligned(&defs, deriv.compact())?;
            crate::budget::check_interpreter(net, x1.len(), x2.unwrap_or(x1).len())?;
            let run =
                |d: &Derivation| evaluate_network(net, &deriv.with_compact(d.clone()), x1, x2);
            let (kd, td) = run(&defs)?;
            let discrepancy = relative_discrepancy(&kd, &k).max(relative_discrepancy(&td, &theta));
            let mut measure = "max |k_definitions − k| / max |k|".to_string();
            if discrepancy > rtol {
                if let Some(name) = first_wrong(&defs, deriv.compact(), &k, &theta, rtol, &run)? {
                    measure += &format!("; first definition that differs: {name}");
                }
            }
            Ok(Outcome {
                measure,
                discrepancy,
                tolerance: rtol,
                table: entry_table(
                    &format!("the definitions (a) and the kernel of {net_name} (b)"),
                    &[("K", &kd, &k), (r"\Theta", &td, &theta)],
                    "a",
                    "b",
                ),
            })
        }
    }
}

/// The formula with every binding substituted, the last first (a binding may use earlier
/// ones).
fn substitute(e: Expr, bound: &[(Param, Expr)]) -> Expr {
    bound
        .iter()
        .rev()
        .fold(e, |e, (p, by)| e.substitute_param(p, by))
}

/// A closed formula may read only the input kernel, without sites or transforms.
fn check_symbols(e: &Expr, what: &str) -> Result<()> {
    for k in e.kernels() {
        let plain = k.render(Format::Plain);
        if k.layer != 0 || k.idx.is_some() || k.tag.is_some() {
            return Err(Error::Spec(format!(
                "{what}: {plain}: a closed formula reads the input kernel K0(x,x') only \
                 (state later layers with `definitions`)"
            )));
        }
        if k.args.0.transform.is_some() || k.args.1.transform.is_some() {
            return Err(Error::Spec(format!(
                "{what}: {plain}: transformed arguments need `definitions`"
            )));
        }
    }
    Ok(())
}

/// The formula's values on `x1 × x2`.
fn closed_values(
    formula: &Expr,
    deriv: &NetworkDerivation,
    x1: &Batch,
    x2: &Batch,
) -> Result<Mat<f64>> {
    let dot = |a: &[f64], b: &[f64]| {
        a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>() / a.len().max(1) as f64
    };
    let mut out = Mat::zeros(x1.len(), x2.len());
    for i in 0..x1.len() {
        for j in 0..x2.len() {
            let (a, b) = (x1.example(i), x2.example(j));
            let k0 = [dot(a, a), dot(a, b), dot(b, b)];
            let mut env = SimpleEnv::new().with_kernel(move |at| {
                if at.layer != 0 || at.sites.is_some() {
                    return None;
                }
                Some(match at.kind {
                    KernelKind::Ntk => 0.0,
                    KernelKind::Nngp => match (at.args.0.example, at.args.1.example) {
                        (Example::X, Example::X) => k0[0],
                        (Example::XPrime, Example::XPrime) => k0[2],
                        _ => k0[1],
                    },
                })
            });
            for (p, v) in deriv.params() {
                env = env.with_param(p.clone(), *v);
            }
            out[(i, j)] = formula.eval(&env)?;
            if !out[(i, j)].is_finite() {
                return Err(Error::Numeric(format!(
                    "the formula is not finite at entry ({i}, {j}) ({})",
                    crate::symbolic::print::compact_number(out[(i, j)])
                )));
            }
        }
    }
    Ok(out)
}

/// Whether the expanded normal forms of the formula and of the derived output kernel (inlined
/// down to `K0`) coincide. Parameters stay symbolic: a formula that writes `1.5` for
/// `sigma_w1` is checked by its numbers only.
fn symbolically_equal(formula: &Expr, deriv: &NetworkDerivation, kind: KernelKind) -> bool {
    let (k, t) = deriv.output();
    let sym = if kind == KernelKind::Nngp { k } else { t };
    let derived = deriv.derivation().inline(&Expr::from(sym));
    expanded(formula) == expanded(&derived)
}

/// [`Expr::expand`] to its fixed point: one pass can leave products of sums that its own
/// distribution created.
fn expanded(e: &Expr) -> Expr {
    let none = Assumptions::new();
    let mut e = e.expand(&none);
    for _ in 0..16 {
        let next = e.expand(&none);
        if next == e {
            break;
        }
        e = next;
    }
    e
}

/// The user's definitions in the network's order, each matched to the network's definition of
/// the same kernel; a kernel the network does not define, or one left out, is an error.
fn aligned(user: &Derivation, network: &Derivation) -> Result<Derivation> {
    let mut out = Derivation::new();
    for d in network.definitions() {
        let mine = user
            .definitions()
            .iter()
            .find(|u| u.name == d.name)
            .ok_or_else(|| {
                Error::Spec(format!(
                    "`definitions` does not define {}",
                    d.name.render(Format::Plain)
                ))
            })?;
        out.push(crate::symbolic::Definition {
            layer: d.layer,
            ..mine.clone()
        })?;
    }
    if let Some(extra) = user
        .definitions()
        .iter()
        .find(|u| !network.definitions().iter().any(|d| d.name == u.name))
    {
        return Err(Error::Spec(format!(
            "`definitions`: {} is not a kernel of the network",
            extra.name.render(Format::Plain)
        )));
    }
    Ok(out)
}

type Run<'a> = dyn Fn(&Derivation) -> Result<(Mat<f64>, Mat<f64>)> + 'a;

/// The first of the user's definitions (in the network's order) that, put alone into the
/// network's own derivation, changes its output beyond `rtol`.
fn first_wrong(
    user: &Derivation,
    network: &Derivation,
    k: &Mat<f64>,
    theta: &Mat<f64>,
    rtol: f64,
    run: &Run<'_>,
) -> Result<Option<String>> {
    for (i, mine) in user.definitions().iter().enumerate() {
        let mut hybrid = Derivation::new();
        for (j, d) in network.definitions().iter().enumerate() {
            hybrid.push(if i == j { mine.clone() } else { d.clone() })?;
        }
        let (kh, th) = run(&hybrid)?;
        if relative_discrepancy(&kh, k).max(relative_discrepancy(&th, theta)) > rtol {
            return Ok(Some(mine.name.render(Format::Plain)));
        }
    }
    Ok(None)
}
