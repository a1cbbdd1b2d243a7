//! Derivations: ordered lists of named kernel definitions, layer by layer.
//!
//! A network's recursion is written as definitions `K^{(l)}_{p,p'}(x,x') := rhs`, whose
//! right-hand sides refer to the kernels of earlier layers by name, so the size of the
//! derivation grows linearly with depth. [`Derivation::inline`] substitutes definitions into a
//! formula when a closed form is wanted (e.g. the polynomial of a linear network);
//! [`Derivation::evaluate`] interprets the definitions numerically, layer by layer.
//!
//! A layer contributes its definitions (NNGP then NTK); for example a dense layer
//! (MATH.md §2):
//!
//! ```
//! use eqntk::symbolic::*;
//! let sw2 = || Expr::from(Param::sigma_w()).squared();
//! let sb2 = || Expr::from(Param::sigma_b()).squared();
//! let mut d = Derivation::new();
//! d.define(KernelSym::nngp(1), sw2() * KernelSym::nngp(0) + sb2(), 1, "dense")?;
//! d.define(KernelSym::ntk(1), sw2() * KernelSym::ntk(0) + KernelSym::nngp(1), 1, "dense")?;
//! assert_eq!(
//!     d.render(Format::Plain),
//!     "K1(x,x') = sigma_w^2*K0(x,x') + sigma_b^2    # dense\n\
//!      Theta1(x,x') = sigma_w^2*Theta0(x,x') + K1(x,x')    # dense\n"
//! );
//! // K⁰(x,x') = 0.5 for the pair, Θ⁰ = 0; the table also holds (x,x) and (x',x').
//! let env = SimpleEnv::new()
//!     .with_param(Param::sigma_w(), 2.0)
//!     .with_param(Param::sigma_b(), 0.5)
//!     .with_kernel(|at| (at.layer == 0).then(|| match at.kind {
//!         KernelKind::Nngp => 0.5,
//!         KernelKind::Ntk => 0.0,
//!     }));
//! let table = d.evaluate(&env)?;
//! let ntk1 = table.iter().find(|(at, _)| {
//!     at.kind == KernelKind::Ntk && at.args.0.example != at.args.1.example
//! });
//! assert_eq!(ntk1.map(|(_, v)| v), Some(4.0 * 0.5 + 0.25));
//! # Ok::<(), eqntk::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::eval::{ArgValue, Env, GroupOps, KernelAt, Scope};
use super::expr::{DualFn, Expr};
use super::index::{Index, IndexSet, IndexValue, IndexVar};
use super::kernel_sym::{Example, KernelSym};
use super::normal::Assumptions;
use super::param::Param;
use super::print::Format;
use crate::error::{Error, Result};

/// One definition `name := rhs` of a derivation.
///
/// The left-hand side has untransformed arguments `(x, x')` (or `(x, x)`, `(x', x')`) and, if
/// it has sites, index *patterns*: variables (`p`, `p'`) or pairs of variables (`(g,p)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// The kernel being defined, e.g. `K^{(1)}_{p,p'}(x,x')`.
    pub name: KernelSym,
    /// Its formula in terms of earlier kernels.
    pub rhs: Expr,
    /// The network layer that produces it (1-based; 0 is the input).
    pub layer: usize,
    /// A short note shown beside the formula (`"dense"`, `"conv, circular padding"`).
    pub note: String,
}

/// An ordered list of definitions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Derivation {
    definitions: Vec<Definition>,
}

/// The kernels computed by [`Derivation::evaluate`], keyed by evaluated symbol.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelTable {
    values: BTreeMap<KernelAt, f64>,
}

impl KernelTable {
    /// The computed value at `at`.
    pub fn get(&self, at: &KernelAt) -> Option<f64> {
        self.values.get(at).copied()
    }
    /// Number of stored values.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// Whether nothing was computed.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// All values, in the order of their keys.
    pub fn iter(&self) -> impl Iterator<Item = (&KernelAt, f64)> {
        self.values.iter().map(|(k, v)| (k, *v))
    }
}

/// An environment whose kernel lookups try a table first, then a base environment.
struct WithTable<'a> {
    base: &'a dyn Env,
    table: &'a KernelTable,
}

impl Env for WithTable<'_> {
    fn param(&self, p: &Param) -> Result<f64> {
        self.base.param(p)
    }
    fn set(&self, s: IndexSet) -> Result<Vec<IndexValue>> {
        self.base.set(s)
    }
    fn kernel(&self, at: &KernelAt) -> Result<f64> {
        match self.table.get(at) {
            Some(v) => Ok(v),
            None => self.base.kernel(at),
        }
    }
    fn group(&self) -> Option<&dyn GroupOps> {
        self.base.group()
    }
    fn dual(&self, f: &DualFn, k11: f64, k12: f64, k22: f64) -> Result<f64> {
        self.base.dual(f, k11, k12, k22)
    }
    fn sites(&self, layer: usize) -> Result<Vec<IndexValue>> {
        self.base.sites(layer)
    }
    fn resolve(&self, layer: usize, site: &IndexValue) -> Option<IndexValue> {
        self.base.resolve(layer, site)
    }
}

/// Bind the variables of an index pattern to the parts of an index expression.
fn match_pattern(pattern: &Index, index: &Index, out: &mut Vec<(IndexVar, Index)>) -> bool {
    match (pattern, index) {
        (Index::Var(v), i) => {
            out.push((v.clone(), i.clone()));
            true
        }
        (Index::Pair(pa, pb), Index::Pair(a, b)) => {
            match_pattern(pa, a, out) && match_pattern(pb, b, out)
        }
        _ => false,
    }
}

/// Bind the variables of an index pattern to the parts of an index value.
fn bind_pattern(pattern: &Index, value: &IndexValue, scope: &mut Scope) -> Result<()> {
    match (pattern, value) {
        (Index::Var(v), x) => {
            scope.bind(v.clone(), x.clone());
            Ok(())
        }
        (Index::Pair(pa, pb), IndexValue::Pair(a, b)) => {
            bind_pattern(pa, a, scope)?;
            bind_pattern(pb, b, scope)
        }
        (p, x) => Err(Error::Invalid(format!(
            "site {x:?} does not fit the index pattern {}",
            p.render(Format::Plain)
        ))),
    }
}

fn is_pattern(i: &Index) -> bool {
    match i {
        Index::Var(_) => true,
        Index::Pair(a, b) => is_pattern(a) && is_pattern(b),
        _ => false,
    }
}

fn escape_latex_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out += r"\textbackslash{}",
            '{' | '}' | '_' | '&' | '%' | '$' | '#' => {
                out.push('\\');
                out.push(c)
            }
            '^' => out += r"\^{}",
            '~' => out += r"\~{}",
            c => out.push(c),
        }
    }
    out
}

fn examples(a: &ArgValue, b: &ArgValue) -> (Example, Example) {
    (a.example, b.example)
}

impl Derivation {
    /// An empty derivation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append `name := rhs` (layer and note as in [`Definition`]). Errors if the left-hand side
    /// has indices that are not patterns of variables, or transformed arguments other than
    /// `ρ(φ) x′` with `φ` a variable (a kernel of the relative angle, as on SO(2) features).
    pub fn define(&mut self, name: KernelSym, rhs: Expr, layer: usize, note: &str) -> Result<()> {
        self.push(Definition {
            name,
            rhs,
            layer,
            note: note.to_string(),
        })
    }

    /// Append a definition (checked as in [`Derivation::define`]).
    pub fn push(&mut self, def: Definition) -> Result<()> {
        let lhs = &def.name;
        let relative_angle = matches!(lhs.args.1.transform, None | Some(Index::Var(_)));
        if lhs.args.0.transform.is_some() || !relative_angle {
            return Err(Error::Invalid(format!(
                "the left-hand side {} of a definition cannot have transformed arguments",
                lhs.render(Format::Plain)
            )));
        }
        if let Some((a, b)) = &lhs.idx {
            if !is_pattern(a) || !is_pattern(b) {
                return Err(Error::Invalid(format!(
                    "the indices of {} must be variables or pairs of variables",
                    lhs.render(Format::Plain)
                )));
            }
        }
        self.definitions.push(def);
        Ok(())
    }

    /// Append all definitions of `other`.
    pub fn extend(&mut self, other: Derivation) {
        self.definitions.extend(other.definitions);
    }

    /// The definitions, in order.
    pub fn definitions(&self) -> &[Definition] {
        &self.definitions
    }

    /// Number of definitions.
    pub fn len(&self) -> usize {
        self.definitions.len()
    }

    /// Whether there are no definitions.
    pub fn is_empty(&self) -> bool {
        self.definitions.is_empty()
    }

    /// Every right-hand side in normal form under `assumptions`.
    pub fn normalize(&self, assumptions: &Assumptions) -> Derivation {
        let definitions = self
            .definitions
            .iter()
            .map(|d| Definition {
                rhs: d.rhs.normalize(assumptions),
                ..d.clone()
            })
            .collect();
        Derivation { definitions }
    }

    /// The derivation with `f` applied to every right-hand side (e.g. a rewrite rule or
    /// [`Expr::substitute_duals`]).
    pub fn map_rhs(&self, f: impl Fn(&Expr) -> Expr) -> Derivation {
        let definitions = self
            .definitions
            .iter()
            .map(|d| Definition {
                rhs: f(&d.rhs),
                ..d.clone()
            })
            .collect();
        Derivation { definitions }
    }

    /// The right-hand side that defines `sym`, instantiated at its indices and arguments:
    /// if `K^{(1)}_{p,p'}(x,x') := σ_w² K^{(0)}_{p,p'}(x,x') + σ_b²`, then `K^{(1)}_{q,q}(x',x')`
    /// gives `σ_w² K^{(0)}_{q,q}(x',x') + σ_b²`. The last matching definition wins. `None` if no
    /// definition matches. A definition of the relative angle, `K(x, ρ(φ)x′) := …`, matches
    /// `K(x, ρ(t)x′)` with `φ = t`; other transformed arguments match nothing.
    pub fn instantiate(&self, sym: &KernelSym) -> Option<Expr> {
        if sym.args.0.transform.is_some() {
            return None;
        }
        self.definitions.iter().rev().find_map(|d| {
            let lhs = &d.name;
            if (lhs.kind, lhs.layer, &lhs.tag) != (sym.kind, sym.layer, &sym.tag) {
                return None;
            }
            let mut binds = Vec::new();
            match (&lhs.args.1.transform, &sym.args.1.transform) {
                (None, None) => {}
                (Some(Index::Var(v)), Some(t)) => binds.push((v.clone(), t.clone())),
                _ => return None,
            }
            match (&lhs.idx, &sym.idx) {
                (None, None) => {}
                (Some((pa, pb)), Some((a, b))) => {
                    if !(match_pattern(pa, a, &mut binds) && match_pattern(pb, b, &mut binds)) {
                        return None;
                    }
                }
                _ => return None,
            }
            // The lhs examples must be consistent with a map lhs-example → sym-example.
            let (la, lb) = (lhs.args.0.example, lhs.args.1.example);
            let (sa, sb) = (sym.args.0.example, sym.args.1.example);
            if la == lb && sa != sb {
                return None;
            }
            let map = move |e: Example| {
                if e == la {
                    sa
                } else if e == lb {
                    sb
                } else {
                    e
                }
            };
            let mut rhs = d
                .rhs
                .substitute_kernels(&|k| Some(Expr::from(k.map_examples(map))));
            // Simultaneous substitution through temporaries that cannot occur in a formula.
            let temps: Vec<IndexVar> = (0..binds.len())
                .map(|i| IndexVar::new(&format!("#{i}"), &format!("#{i}"), &format!("#{i}")))
                .collect();
            for ((v, _), t) in binds.iter().zip(&temps) {
                rhs = rhs.substitute_index(v, &Index::Var(t.clone()));
            }
            for ((_, target), t) in binds.iter().zip(&temps) {
                rhs = rhs.substitute_index(t, target);
            }
            Some(rhs)
        })
    }

    /// Substitute definitions into `e` until only undefined kernels (such as the input kernel
    /// `K^{(0)}`) remain. The result can be large for deep networks; normalise or
    /// [`Expr::expand`] it afterwards.
    pub fn inline(&self, e: &Expr) -> Expr {
        e.substitute_kernels(&|k| self.instantiate(k).map(|r| self.inline(&r)))
    }

    /// The derivation in `format`, one definition a line (`lhs = rhs`, with the note). LaTeX is
    /// an `aligned` environment with notes in `\text{…}`, written with named intermediates
    /// ([`Derivation::named`]: the correlation `\rho^{(l)}` and the angle `\theta^{(l)}`, each
    /// defined on its own line before its first use); text and Unicode print every right-hand
    /// side in full, the text in the syntax [`super::parse_derivation`] reads.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Latex => self.named().render(format),
            _ => self.render_without_intermediates(format),
        }
    }

    /// The derivation in `format` with every right-hand side in full, also in LaTeX (what
    /// [`Expr::render`] gives for each).
    pub fn render_without_intermediates(&self, format: Format) -> String {
        let lines: Vec<String> = self
            .definitions
            .iter()
            .map(|d| {
                Self::line(
                    format,
                    &d.name.render(format),
                    &d.rhs.render(format),
                    &d.note,
                )
            })
            .collect();
        Self::join_lines(format, &lines)
    }

    /// One printed line `lhs = rhs`, with the note (LaTeX: `lhs &= rhs && \text{note}`).
    pub(crate) fn line(format: Format, lhs: &str, rhs: &str, note: &str) -> String {
        match (format, note.is_empty()) {
            (Format::Latex, true) => format!("{lhs} &= {rhs}"),
            (Format::Latex, false) => {
                format!(r"{lhs} &= {rhs} && \text{{{}}}", escape_latex_text(note))
            }
            (_, true) => format!("{lhs} = {rhs}"),
            (_, false) => format!("{lhs} = {rhs}    # {note}"),
        }
    }

    /// The printed lines as a document: an `aligned` environment in LaTeX, one a line otherwise.
    pub(crate) fn join_lines(format: Format, lines: &[String]) -> String {
        match format {
            Format::Latex => {
                format!(
                    "\\begin{{aligned}}\n{}\n\\end{{aligned}}\n",
                    lines.join(" \\\\\n")
                )
            }
            _ => lines.iter().map(|l| format!("{l}\n")).collect(),
        }
    }

    /// Evaluate the definitions in order for one example pair, filling a table of kernels.
    ///
    /// Each definition is evaluated for the arguments `(x, x')`, `(x, x)` and `(x', x')` (the
    /// self-covariances that later nonlinearities read as `k₁₁`, `k₂₂`), and, if it has sites,
    /// for every pair of sites in `env.sites(name.layer)` (which must be resolved sites, as
    /// [`Env::resolve`] returns them). Kernels not defined in the derivation (the input kernel)
    /// come from `env.kernel`.
    ///
    /// A definition of the relative angle, `K(x, ρ(φ)x′) := …` (SO(2) features), is evaluated
    /// at every angle of `env.set(G)` (the environment's angular grid, elements `Elem(j)`) and
    /// at `Elem(0)`, the angle 0 by convention; its value at angle 0 is also stored as the
    /// untransformed `K(x, x′)` — the self-covariances `K(x, x)` that nonlinearities read.
    pub fn evaluate(&self, env: &dyn Env) -> Result<KernelTable> {
        let mut table = KernelTable::default();
        for d in &self.definitions {
            let lhs = &d.name;
            let angle_var = match &lhs.args.1.transform {
                None => None,
                Some(Index::Var(v)) => Some(v.clone()),
                Some(_) => {
                    return Err(Error::Invalid(format!(
                        "{} has a transformed argument that is not a relative angle",
                        lhs.render(Format::Plain)
                    )))
                }
            };
            if let Some(v) = angle_var {
                if lhs.idx.is_some() {
                    return Err(Error::Invalid(format!(
                        "{}: a kernel of the relative angle has no sites",
                        lhs.render(Format::Plain)
                    )));
                }
                let zero = IndexValue::Elem(0);
                let mut angles = vec![zero.clone()];
                angles.extend(env.set(IndexSet::Group)?.into_iter().filter(|a| *a != zero));
                let maps: [fn(Example) -> Example; 3] =
                    [|e| e, |_| Example::X, |_| Example::XPrime];
                let mut done: BTreeSet<(Example, Example)> = BTreeSet::new();
                let mut fresh = KernelTable::default();
                for m in maps {
                    let lhs_m = lhs.map_examples(m);
                    let (a, b) = (lhs_m.args.0.example, lhs_m.args.1.example);
                    if !done.insert((a, b)) {
                        continue;
                    }
                    let rhs_m = d
                        .rhs
                        .substitute_kernels(&|k| Some(Expr::from(k.map_examples(m))));
                    let with = WithTable {
                        base: env,
                        table: &table,
                    };
                    for angle in &angles {
                        let mut scope = Scope::new();
                        scope.bind(v.clone(), angle.clone());
                        let value = rhs_m.eval_in(&with, &mut scope)?;
                        let key = lhs_m.locate_unindexed(env, &scope)?;
                        if *angle == zero {
                            let mut plain = key.clone();
                            plain.args.1.transform = None;
                            fresh.values.insert(plain, value);
                        }
                        fresh.values.insert(key, value);
                    }
                }
                table.values.extend(fresh.values);
                continue;
            }
            let sites = match &lhs.idx {
                Some(_) => Some(env.sites(lhs.layer)?),
                None => None,
            };
            let maps: [fn(Example) -> Example; 3] = [|e| e, |_| Example::X, |_| Example::XPrime];
            let mut done: BTreeSet<(Example, Example)> = BTreeSet::new();
            let mut fresh = KernelTable::default();
            for m in maps {
                let lhs_m = lhs.map_examples(m);
                let scope = Scope::new();
                let key0 = lhs_m.locate_unindexed(env, &scope)?;
                if !done.insert(examples(&key0.args.0, &key0.args.1)) {
                    continue;
                }
                let rhs_m = d
                    .rhs
                    .substitute_kernels(&|k| Some(Expr::from(k.map_examples(m))));
                let with = WithTable {
                    base: env,
                    table: &table,
                };
                match (&lhs_m.idx, &sites) {
                    (Some((pa, pb)), Some(sites)) => {
                        for sa in sites {
                            for sb in sites {
                                let mut scope = Scope::new();
                                bind_pattern(pa, sa, &mut scope)?;
                                bind_pattern(pb, sb, &mut scope)?;
                                let v = rhs_m.eval_in(&with, &mut scope)?;
                                let key = KernelAt {
                                    sites: Some((sa.clone(), sb.clone())),
                                    ..key0.clone()
                                };
                                fresh.values.insert(key, v);
                            }
                        }
                    }
                    _ => {
                        let v = rhs_m.eval_in(&with, &mut Scope::new())?;
                        fresh.values.insert(key0, v);
                    }
                }
            }
            table.values.extend(fresh.values);
        }
        Ok(table)
    }
}

impl KernelSym {
    /// The lookup key of this symbol without its sites (arguments evaluated).
    fn locate_unindexed(&self, env: &dyn Env, scope: &Scope) -> Result<KernelAt> {
        let bare = KernelSym {
            idx: None,
            ..self.clone()
        };
        bare.locate(env, scope)?.ok_or_else(|| {
            Error::Invalid("a kernel without sites cannot lie outside the grid".into())
        })
    }
}

impl std::fmt::Display for Derivation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Format::Unicode))
    }
}
