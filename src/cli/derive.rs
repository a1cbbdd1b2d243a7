//! `eqntk derive`: a network's kernel recursion as formulas, or its numbers by interpretation.

use std::path::PathBuf;

use eqntk::io::read_batch;
use eqntk::symbolic::{derive_network, evaluate_network, Format};
use eqntk::{Error, Result};

/// Output formats of `eqntk derive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DeriveFormat {
    /// Plain ASCII, one definition a line (default without `--eval`).
    Text,
    /// Unicode text.
    Unicode,
    /// A LaTeX `aligned` environment.
    Latex,
    /// A Markdown document with `$$ … $$` blocks.
    Markdown,
    /// A SymPy script assigning every definition (networks without sites, closed-form
    /// activations).
    Sympy,
    /// `{"nngp": [[..]], "ntk": [[..]]}` (with `--eval`; the default there).
    Json,
    /// Aligned columns (with `--eval`).
    Table,
}

/// Arguments of `eqntk derive`.
#[derive(Debug, clap::Args)]
pub struct DeriveArgs {
    /// Network file (TOML).
    #[arg(long)]
    pub net: PathBuf,
    /// Evaluate the derivation by interpretation on x1 × x2 (not through the fast kernel code).
    #[arg(long, requires = "x1")]
    pub eval: bool,
    /// First batch, `[N1, *input.shape]` (.npy or .json); with `--eval`.
    #[arg(long)]
    pub x1: Option<PathBuf>,
    /// Second batch (default: x1); with `--eval`.
    #[arg(long)]
    pub x2: Option<PathBuf>,
    /// Output format: text | unicode | latex | markdown | sympy, or json | table with `--eval`.
    #[arg(long, value_enum)]
    pub format: Option<DeriveFormat>,
}

/// Run `eqntk derive`; returns what goes to stdout.
pub fn run(args: &DeriveArgs) -> Result<String> {
    let net = eqntk::io::read_network(&args.net)?;
    super::warn_caveats(&net);
    let deriv = derive_network(&net)?;
    if let Some((k, t)) = deriv.polynomial() {
        for (what, e) in [("K", &k), ("Θ", &t)] {
            if !finite_constants(e) {
                let cause: Vec<String> = deriv
                    .params()
                    .iter()
                    .map(|(p, v)| {
                        format!(
                            "{} = {}",
                            eqntk::symbolic::Expr::from(p.clone()).render(Format::Plain),
                            eqntk::symbolic::compact_number(*v)
                        )
                    })
                    .collect();
                return Err(Error::NonFinite {
                    layer: "the closed polynomial of the linear network".into(),
                    quantity: format!("a coefficient of {what}"),
                    cause: cause.join(", "),
                });
            }
        }
    }
    if args.eval {
        let x1 = read_batch(args.x1.as_deref().expect("clap requires x1 with --eval"))?;
        let x2 = args.x2.as_deref().map(read_batch).transpose()?;
        let format = match args.format.unwrap_or(DeriveFormat::Json) {
            DeriveFormat::Json => super::Format::Json,
            DeriveFormat::Table => super::Format::Table,
            other => {
                return Err(Error::Invalid(format!(
                    "--eval prints numbers: --format json or table, not {other:?}"
                )))
            }
        };
        let (nngp, ntk) = evaluate_network(&net, &deriv, &x1, x2.as_ref())?;
        return super::kernel::render(&nngp, &ntk, format, None);
    }
    if args.x1.is_some() || args.x2.is_some() {
        return Err(Error::Invalid("--x1/--x2 are only used with --eval".into()));
    }
    let name = args
        .net
        .file_stem()
        .map_or("network".to_string(), |s| s.to_string_lossy().into_owned());
    Ok(match args.format.unwrap_or(DeriveFormat::Text) {
        DeriveFormat::Text => text(&deriv, Format::Plain),
        DeriveFormat::Unicode => text(&deriv, Format::Unicode),
        DeriveFormat::Latex => deriv.render(Format::Latex),
        DeriveFormat::Markdown => deriv.to_markdown(&format!("Kernel recursion of `{name}`")),
        DeriveFormat::Sympy => eqntk::symbolic::to_sympy(&deriv, &name)?,
        other => {
            return Err(Error::Invalid(format!(
                "--format {other:?} needs --eval (formulas print as text, unicode, latex, \
                 markdown or sympy)"
            )))
        }
    })
}

/// The recursion and the parameter values as text; the closed polynomial for a linear network.
fn text(deriv: &eqntk::symbolic::NetworkDerivation, format: Format) -> String {
    let mut s = deriv.render(format);
    // Parameter values in compact notation (`1e200`, `1e-320`), never hundreds of digits.
    let params: Vec<String> = deriv
        .params()
        .iter()
        .map(|(p, v)| {
            format!(
                "{} = {}",
                eqntk::symbolic::Expr::from(p.clone()).render(format),
                eqntk::symbolic::compact_number(*v)
            )
        })
        .collect();
    if !params.is_empty() {
        s += &format!("where {}\n", params.join(", "));
    }
    if let Some((k, t)) = deriv.polynomial() {
        let (ks, ts) = deriv.output();
        s += &format!(
            "linear network:\n{} = {}\n{} = {}\n",
            ks.render(format),
            k.render(format),
            ts.render(format),
            t.render(format)
        );
    }
    s
}

/// Whether every number in `e` is finite.
fn finite_constants(e: &eqntk::symbolic::Expr) -> bool {
    match e {
        eqntk::symbolic::Expr::Num(v) => v.is_finite(),
        e => e.children().into_iter().all(finite_constants),
    }
}
