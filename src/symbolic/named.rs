//! Named intermediates of a printed derivation: the correlation `ρ` and the angle `θ = arccos ρ`.
//!
//! The closed forms of the arc-cosine family (ReLU, leaky ReLU, ABReLU, |x|, the rectified
//! monomials) and of sign read the kernels of the previous layer through the correlation
//! `ρ⁽ˡ⁾ = K⁽ˡ⁾(x,x′)/√(K⁽ˡ⁾(x,x) K⁽ˡ⁾(x′,x′))` and the angle `θ⁽ˡ⁾ = arccos ρ⁽ˡ⁾` (MATH.md §3).
//! A paper names them once and writes the kernels in them; [`Derivation::named`] does the same
//! for the LaTeX of a derivation ([`Derivation::render`] with [`Format::Latex`]):
//!
//! ```text
//! \rho^{(1)}(x,x') &= \frac{K^{(1)}(x,x')}{\sqrt{K^{(1)}(x,x) K^{(1)}(x',x')}} && \text{correlation} \\
//! \theta^{(1)}(x,x') &= \arccos \rho^{(1)}(x,x') \\
//! K^{(2)}(x,x') &= K^{(1)}(x,x') \left(-\frac{\theta^{(1)}(x,x')}{2 \pi} + \frac{1}{2}\right) + …
//! ```
//!
//! The names are a way of *printing* a formula, not a change of it: the definitions keep their
//! right-hand sides (what is evaluated, normalised, compared and exported), and the named form
//! is found in them after the fact, so every evaluation and the plain text (which is parsed
//! back) are those of the unnamed formulas. Substituting the names back
//! ([`NamedDerivation::expand`]) and normalising gives the right-hand side again.
//!
//! What is named, in the normal form of a right-hand side:
//!
//! * `arccos(K₁₂ (√(K₁₁ K₂₂))^{−1})` is `θ` (and defines `ρ`);
//! * in a product, `K₁₂^m (√(K₁₁ K₂₂))^{−m}` and, for even m, `K₁₂^m K₁₁^{−m/2} K₂₂^{−m/2}`
//!   are `ρ^m` (`\arcsin \rho`, `\sqrt{1 - \rho^2}`, the polynomials `A_n(ρ)`, `B_n(ρ)` of the
//!   rectified monomials);
//!
//! with `K₁₂ = K⁽ˡ⁾_{s,s′}(x,x′)` an NNGP kernel of a pair, `K₁₁ = K⁽ˡ⁾_{s,s}(x,x)` and
//! `K₂₂ = K⁽ˡ⁾_{s′,s′}(x′,x′)` its self-covariances (transforms of the arguments dropped, as a
//! nonlinearity reads them on SO(2) features). A kernel whose indices mention a variable bound
//! by an enclosing index sum is not named (the sum prints as before), and the self-covariances
//! need no name (their correlation is 1). Each intermediate is per layer and per argument pair
//! and is defined once, on its own line before the first definition that uses it.

use std::collections::BTreeSet;

use super::derivation::{Definition, Derivation};
use super::expr::{Expr, Func};
use super::index::IndexVar;
use super::kernel_sym::{Arg, KernelKind, KernelSym};
use super::normal::Assumptions;
use super::param::{Name, Param};
use super::print::{render_kernel_as, render_with_bare, Format, Head};

/// Which intermediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IntermediateKind {
    /// The correlation `ρ = K₁₂/√(K₁₁ K₂₂)`.
    Correlation,
    /// The angle `θ = arccos ρ`.
    Angle,
}

/// A named intermediate of the kernels of one pair: `ρ⁽ˡ⁾_{s,s′}(x,x′)` or `θ⁽ˡ⁾_{s,s′}(x,x′)`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Intermediate {
    /// Correlation or angle.
    pub kind: IntermediateKind,
    /// The kernel `K₁₂` of the pair, e.g. `K^{(1)}_{p,p'}(x,x')`: its layer, tag, sites and
    /// arguments are those of the name.
    pub pair: KernelSym,
}

impl Intermediate {
    /// The correlation of the pair `k12`.
    pub fn correlation(k12: KernelSym) -> Self {
        Self {
            kind: IntermediateKind::Correlation,
            pair: k12,
        }
    }

    /// The angle of the pair `k12`.
    pub fn angle(k12: KernelSym) -> Self {
        Self {
            kind: IntermediateKind::Angle,
            pair: k12,
        }
    }

    /// The self-covariances `(K₁₁, K₂₂)` of the pair.
    pub fn variances(&self) -> (KernelSym, KernelSym) {
        variances(&self.pair)
    }

    /// The name as a parameter spelt in the three formats (`rho1(x,x')`, `ρ⁽¹⁾(x,x′)`,
    /// `\rho^{(1)}(x,x')`): what the named right-hand sides of [`NamedDerivation`] hold.
    pub fn symbol(&self) -> Param {
        let head = match self.kind {
            IntermediateKind::Correlation => Head::Rho,
            IntermediateKind::Angle => Head::Theta,
        };
        let spell = |f| render_kernel_as(&self.pair, head, f);
        Param(Name {
            plain: spell(Format::Plain),
            unicode: spell(Format::Unicode),
            latex: spell(Format::Latex),
        })
    }

    /// The right-hand side of its definition: `K₁₂ (√(K₁₁ K₂₂))^{−1}` (normal form) for the
    /// correlation, `arccos ρ` (the correlation's [`Intermediate::symbol`]) for the angle.
    pub fn definition(&self) -> Expr {
        match self.kind {
            IntermediateKind::Correlation => correlation_expr(&self.pair),
            IntermediateKind::Angle => {
                Expr::from(Intermediate::correlation(self.pair.clone()).symbol()).arccos()
            }
        }
    }

    /// The intermediate in kernels only: `K₁₂ (√(K₁₁ K₂₂))^{−1}` or `arccos` of it.
    pub fn expansion(&self) -> Expr {
        match self.kind {
            IntermediateKind::Correlation => correlation_expr(&self.pair),
            IntermediateKind::Angle => correlation_expr(&self.pair).arccos(),
        }
    }
}

/// One line of a [`NamedDerivation`].
#[derive(Clone, Debug, PartialEq)]
pub enum NamedLine {
    /// The definition of an intermediate.
    Intermediate(Intermediate),
    /// A definition of the derivation and its right-hand side written with the intermediates.
    Definition {
        /// The definition, unchanged.
        definition: Definition,
        /// Its right-hand side with the intermediates' symbols in place of what they stand for.
        shown: Expr,
    },
}

/// A derivation written with named intermediates (module docs), as the LaTeX prints it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamedDerivation {
    lines: Vec<NamedLine>,
}

impl NamedDerivation {
    /// The lines: every definition of the derivation in order, each intermediate before the
    /// first definition that uses it.
    pub fn lines(&self) -> &[NamedLine] {
        &self.lines
    }

    /// The intermediates, in the order they are defined.
    pub fn intermediates(&self) -> Vec<&Intermediate> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                NamedLine::Intermediate(i) => Some(i),
                NamedLine::Definition { .. } => None,
            })
            .collect()
    }

    /// `e` with every intermediate's symbol replaced by its [`Intermediate::expansion`]. For a
    /// definition, `expand(shown).normalize(…)` is its normalised right-hand side.
    pub fn expand(&self, e: &Expr) -> Expr {
        let mut out = e.clone();
        for i in self.intermediates() {
            out = out.substitute_param(&i.symbol(), &i.expansion());
        }
        out
    }

    /// The lines in `format`, as [`Derivation::render`] prints definitions (LaTeX: an `aligned`
    /// environment). The correlation is written `K₁₂/√(K₁₁ K₂₂)` and noted `correlation`.
    pub fn render(&self, format: Format) -> String {
        let bare: Vec<Param> = self.intermediates().iter().map(|i| i.symbol()).collect();
        let lines: Vec<String> = self
            .lines
            .iter()
            .map(|line| match line {
                NamedLine::Intermediate(i) => {
                    let lhs = Expr::from(i.symbol()).render(format);
                    match i.kind {
                        IntermediateKind::Correlation => {
                            let (k11, k22) = i.variances();
                            let num = i.pair.render(format);
                            let root = (Expr::from(k11) * Expr::from(k22))
                                .sqrt()
                                .normalize(&Assumptions::new())
                                .render(format);
                            let rhs = match format {
                                Format::Latex => format!(r"\frac{{{num}}}{{{root}}}"),
                                _ => format!("{num}/{root}"),
                            };
                            Derivation::line(format, &lhs, &rhs, "correlation")
                        }
                        IntermediateKind::Angle => {
                            let rhs = render_with_bare(&i.definition(), format, &bare);
                            Derivation::line(format, &lhs, &rhs, "")
                        }
                    }
                }
                NamedLine::Definition { definition, shown } => Derivation::line(
                    format,
                    &definition.name.render(format),
                    &render_with_bare(shown, format, &bare),
                    &definition.note,
                ),
            })
            .collect();
        Derivation::join_lines(format, &lines)
    }
}

impl Derivation {
    /// The derivation with named intermediates (module docs of `named`): the printed LaTeX.
    ///
    /// ```
    /// use eqntk::symbolic::{derive_network, Format, IntermediateKind};
    /// use eqntk::Network;
    /// let net = Network::from_toml_str(
    ///     "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\n\
    ///      [[layers]]\nkind = \"relu\"\n[[layers]]\nkind = \"dense\"\n",
    ///     "relu.toml",
    /// )?;
    /// let d = derive_network(&net)?;
    /// let named = d.derivation().named();
    /// let kinds: Vec<_> = named.intermediates().iter().map(|i| (i.kind, i.pair.layer)).collect();
    /// assert_eq!(kinds, [(IntermediateKind::Correlation, 1), (IntermediateKind::Angle, 1)]);
    /// let latex = d.render(Format::Latex);
    /// assert!(latex.contains(r"\theta^{(1)}(x,x') &= \arccos \rho^{(1)}(x,x')"));
    /// // the text, which the parser reads back, prints every formula in full
    /// assert!(!d.render(Format::Plain).contains("rho1"));
    /// # Ok::<(), eqntk::Error>(())
    /// ```
    pub fn named(&self) -> NamedDerivation {
        let mut lines = Vec::new();
        let mut defined: BTreeSet<Intermediate> = BTreeSet::new();
        for d in self.definitions() {
            let mut used = Vec::new();
            // A right-hand side read back by the parser holds the same formula in another tree
            // (`1/√a · b` as `1 · (√a)^{−1} · b`); when its normal form prints the same, the
            // names are found in the normal form, so that both print the same LaTeX.
            let none = Assumptions::new();
            let normal = d.rhs.normalize(&none);
            let rhs =
                if normal != d.rhs && normal.render(Format::Latex) == d.rhs.render(Format::Latex) {
                    &normal
                } else {
                    &d.rhs
                };
            let shown = show(rhs, &mut Vec::new(), &mut used);
            for i in used {
                if defined.insert(i.clone()) {
                    lines.push(NamedLine::Intermediate(i));
                }
            }
            lines.push(NamedLine::Definition {
                definition: d.clone(),
                shown,
            });
        }
        NamedDerivation { lines }
    }
}

/// `(K₁₁, K₂₂)` of the pair `K₁₂ = K_{s,s′}(a,b)`: `K_{s,s}(a,a)`, `K_{s′,s′}(b,b)`, the
/// arguments untransformed.
fn variances(k12: &KernelSym) -> (KernelSym, KernelSym) {
    let plain = |a: &Arg| Arg {
        example: a.example,
        transform: None,
    };
    let (a, b) = (plain(&k12.args.0), plain(&k12.args.1));
    let k11 = KernelSym {
        args: (a.clone(), a),
        idx: k12.idx.as_ref().map(|(s, _)| (s.clone(), s.clone())),
        ..k12.clone()
    };
    let k22 = KernelSym {
        args: (b.clone(), b),
        idx: k12.idx.as_ref().map(|(_, t)| (t.clone(), t.clone())),
        ..k12.clone()
    };
    (k11, k22)
}

/// `(√(K₁₁ K₂₂))^{−m}` in normal form.
fn root_power(k12: &KernelSym, m: f64) -> Expr {
    let (k11, k22) = variances(k12);
    (Expr::from(k11) * Expr::from(k22))
        .sqrt()
        .pow(Expr::num(-m))
        .normalize(&Assumptions::new())
}

/// `K₁₂ (√(K₁₁ K₂₂))^{−1}` in normal form.
fn correlation_expr(k12: &KernelSym) -> Expr {
    (Expr::from(k12.clone()) * root_power(k12, 1.0)).normalize(&Assumptions::new())
}

/// Whether `k` is the kernel of a pair that can be named: an NNGP kernel that is not its own
/// self-covariance and whose indices mention no bound variable.
fn nameable(k: &KernelSym, bound: &[IndexVar]) -> bool {
    k.kind == KernelKind::Nngp && variances(k).0 != *k && !bound.iter().any(|v| k.mentions(v))
}

/// A power `ρ^m` of a correlation among `factors` (module docs): the factors without it, the
/// pair and `m`.
fn take_correlation(factors: &[Expr], bound: &[IndexVar]) -> Option<(Vec<Expr>, KernelSym, f64)> {
    for (i, f) in factors.iter().enumerate() {
        let (k, m) = match f {
            Expr::Kernel(k) => (&**k, 1.0),
            Expr::Pow(b, e) => match (&**b, e.as_num()) {
                (Expr::Kernel(k), Some(m)) if m >= 1.0 && m.fract() == 0.0 => (&**k, m),
                _ => continue,
            },
            _ => continue,
        };
        if !nameable(k, bound) {
            continue;
        }
        // the factors that ρ^m consumes besides K₁₂^m
        let wanted: Vec<Expr> = match root_power(k, m) {
            Expr::Mul(fs) => fs,
            single => vec![single],
        };
        let mut taken = vec![i];
        for w in &wanted {
            match factors
                .iter()
                .enumerate()
                .position(|(j, g)| !taken.contains(&j) && g == w)
            {
                Some(j) => taken.push(j),
                None => break,
            }
        }
        if taken.len() != wanted.len() + 1 {
            continue;
        }
        let rest = factors
            .iter()
            .enumerate()
            .filter(|(j, _)| !taken.contains(j))
            .map(|(_, g)| g.clone())
            .collect();
        return Some((rest, k.clone(), m));
    }
    None
}

/// The pair whose correlation `e` is, up to the normal form.
fn whole_correlation(e: &Expr, bound: &[IndexVar]) -> Option<KernelSym> {
    let normal = e.normalize(&Assumptions::new());
    let Expr::Mul(fs) = &normal else { return None };
    match take_correlation(fs, bound)? {
        (rest, k, m) if rest.is_empty() && m == 1.0 => Some(k),
        _ => None,
    }
}

fn note(used: &mut Vec<Intermediate>, i: Intermediate) {
    if !used.contains(&i) {
        used.push(i);
    }
}

/// `e` with the intermediates' symbols in place of what they stand for; `used` collects them
/// in order of appearance (a correlation before its angle).
fn show(e: &Expr, bound: &mut Vec<IndexVar>, used: &mut Vec<Intermediate>) -> Expr {
    match e {
        Expr::Sum { var, set, body } => {
            bound.push(var.clone());
            let body = show(body, bound, used);
            bound.pop();
            Expr::Sum {
                var: var.clone(),
                set: *set,
                body: Box::new(body),
            }
        }
        Expr::Apply(Func::Arccos, xs) if xs.len() == 1 => match whole_correlation(&xs[0], bound) {
            Some(k12) => {
                note(used, Intermediate::correlation(k12.clone()));
                let theta = Intermediate::angle(k12);
                let symbol = theta.symbol();
                note(used, theta);
                Expr::Param(symbol)
            }
            None => e.map_children(&mut |c| show(c, bound, used)),
        },
        Expr::Mul(fs) => {
            let mut fs: Vec<Expr> = fs.iter().map(|c| show(c, bound, used)).collect();
            while let Some((mut rest, k12, m)) = take_correlation(&fs, bound) {
                let rho = Intermediate::correlation(k12);
                let symbol = Expr::from(rho.symbol());
                note(used, rho);
                // after the numbers, π and parameters, as a paper writes `3 ρ √(1 − ρ²)`
                let at = rest
                    .iter()
                    .position(|f| !matches!(f, Expr::Num(_) | Expr::Pi | Expr::Param(_)))
                    .unwrap_or(rest.len());
                rest.insert(at, if m == 1.0 { symbol } else { symbol.pow(m) });
                fs = rest;
            }
            match fs.len() {
                1 => fs.pop().unwrap_or(Expr::Num(1.0)),
                _ => Expr::Mul(fs),
            }
        }
        _ => e.map_children(&mut |c| show(c, bound, used)),
    }
}
