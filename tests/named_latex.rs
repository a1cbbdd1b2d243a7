//! The LaTeX of derivations with named intermediates (`symbolic::named`): the correlation
//! `\rho^{(l)}` and the angle `\theta^{(l)}` are each defined once, before their first use, and
//! the named formulas are the unnamed ones — substituted back they normalise to the same
//! trees and evaluate to the same numbers — while the text and Unicode are unchanged.

use std::collections::BTreeMap;
use std::path::Path;

use eqntk::symbolic::{
    derive_network, parse_derivation, Assumptions, Derivation, Expr, Format, IntermediateKind,
    KernelKind, KernelSym, NamedLine, Names, Param, SimpleEnv,
};
use eqntk::Network;

fn mlp() -> Network {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Network::from_file(&root.join("examples/mlp.toml")).unwrap()
}

/// A two-hidden-layer MLP with the activation `act` (TOML keys of one layer).
fn mlp_with(act: &str) -> Network {
    let toml = format!(
        "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\nw_std = 1.5\nb_std = 0.1\n\
         [[layers]]\n{act}\n[[layers]]\nkind = \"dense\"\nw_std = 1.2\nb_std = 0.2\n\
         [[layers]]\n{act}\n[[layers]]\nkind = \"dense\"\nw_std = 0.9\n"
    );
    Network::from_toml_str(&toml, act).unwrap()
}

/// A CNN on 5-sample signals with the activation `act`: kernels at sites `p, p'`.
fn cnn_with(act: &str) -> Network {
    let toml = format!(
        "[input]\nshape = [5, 2]\n[[layers]]\nkind = \"conv\"\nfilter = [3]\n\
         padding = \"circular\"\nw_std = 1.5\nb_std = 0.1\n[[layers]]\n{act}\n\
         [[layers]]\nkind = \"conv\"\nfilter = [3]\npadding = \"same\"\nw_std = 1.3\n\
         [[layers]]\n{act}\n[[layers]]\nkind = \"flatten\"\n[[layers]]\nkind = \"dense\"\n"
    );
    Network::from_toml_str(&toml, act).unwrap()
}

const NAMED: [&str; 11] = [
    "kind = \"relu\"",
    "kind = \"leaky_relu\"\nalpha = 0.1",
    "kind = \"abrelu\"\na = -0.5\nb = 2.0",
    "kind = \"abs\"",
    "kind = \"sign\"",
    "kind = \"rectified_monomial\"\ndegree = 0",
    "kind = \"rectified_monomial\"\ndegree = 1",
    "kind = \"rectified_monomial\"\ndegree = 2",
    "kind = \"rectified_monomial\"\ndegree = 3",
    "kind = \"rectified_monomial\"\ndegree = 4",
    "kind = \"rectified_monomial\"\ndegree = 5",
];

const UNNAMED: [&str; 6] = [
    "kind = \"erf\"",
    "kind = \"gelu\"",
    "kind = \"identity\"",
    "kind = \"sigmoid_like\"",
    "kind = \"tanh\"",
    "kind = \"sin\"",
];

#[test]
fn relu_mlp_latex_defines_rho_and_theta_once_per_layer_and_uses_them() {
    let d = derive_network(&mlp()).unwrap();
    let latex = d.render(Format::Latex);
    let lines: Vec<&str> = latex.lines().collect();
    let count = |s: &str| latex.matches(s).count();
    let position = |prefix: &str| {
        let at: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with(prefix))
            .collect();
        assert_eq!(at.len(), 1, "{prefix} defined {} times\n{latex}", at.len());
        at[0]
    };
    for (l, next) in [(1, 2), (3, 4)] {
        let rho = format!(
            r"\rho^{{({l})}}(x,x') &= \frac{{K^{{({l})}}(x,x')}}{{\sqrt{{K^{{({l})}}(x,x) K^{{({l})}}(x',x')}}}} && \text{{correlation}} \\"
        );
        let theta = format!(r"\theta^{{({l})}}(x,x') &= \arccos \rho^{{({l})}}(x,x') \\");
        assert_eq!(count(&rho), 1, "{rho}\n{latex}");
        assert_eq!(count(&theta), 1, "{theta}\n{latex}");
        let (r, t) = (position(&rho), position(&theta));
        let k = position(&format!("K^{{({next})}}(x,x') &="));
        let ntk = position(&format!(r"\Theta^{{({next})}}(x,x') &="));
        assert!(r < t && t < k && k < ntk, "order of ρ, θ, K, Θ\n{latex}");
        // the kernels of the layer read the angle, and nothing else spells the arccos out
        let angle = format!(r"\theta^{{({l})}}(x,x')");
        assert!(lines[k].contains(&format!(
            r"\left(-\frac{{{angle}}}{{2 \pi}} + \frac{{1}}{{2}}\right)"
        )));
        assert!(lines[ntk].contains(&format!(
            r"\left(-\frac{{{angle}}}{{2 \pi}} + \frac{{1}}{{2}}\right)"
        )));
        assert!(!lines[k].contains(r"\arccos") && !lines[ntk].contains(r"\arccos"));
    }
    assert_eq!(
        count(r"\rho^{("),
        2 + 2,
        "two definitions, two uses in θ\n{latex}"
    );
    assert_eq!(count(r"\arccos"), 2, "{latex}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with(r"\rho^{(")).count(),
        2
    );
    assert!(latex.starts_with("\\begin{aligned}\n") && latex.ends_with("\\end{aligned}\n"));
    // the library's named form says the same
    let named = d.derivation().named();
    let kinds: Vec<(IntermediateKind, usize)> = named
        .intermediates()
        .iter()
        .map(|i| (i.kind, i.pair.layer))
        .collect();
    use IntermediateKind::{Angle, Correlation};
    assert_eq!(
        kinds,
        [(Correlation, 1), (Angle, 1), (Correlation, 3), (Angle, 3)]
    );
}

/// Substituting the arccos text back for `\theta^{(l)}(x,x')` and dropping the definitions of
/// ρ and θ gives, character for character, the LaTeX of every right-hand side in full.
#[test]
fn relu_latex_with_theta_spelt_out_is_the_unnamed_latex() {
    for net in [
        mlp(),
        cnn_with("kind = \"relu\""),
        mlp_with("kind = \"abs\""),
    ] {
        let d = derive_network(&net).unwrap();
        let named = d.derivation().named();
        let mut latex = d.render(Format::Latex);
        for i in named.intermediates() {
            let symbol = Expr::from(i.symbol()).to_latex();
            match i.kind {
                IntermediateKind::Angle => {
                    let spelt = format!(r"\arccos\left({}\right)", i.expansion().args_latex());
                    latex = latex.replace(&symbol, &spelt);
                }
                IntermediateKind::Correlation => {
                    // the printed definition `ρ &= \frac{K₁₂}{√(K₁₁K₂₂)}` is the expansion that
                    // the other tests substitute back (which prints `\frac{1}{√(K₁₁K₂₂)}K₁₂`)
                    let head = format!(r"{symbol} &= \frac{{");
                    let line = latex.lines().find(|l| l.starts_with(&head)).unwrap();
                    let body = line[head.len()..]
                        .strip_suffix(r"} && \text{correlation} \\")
                        .unwrap();
                    let (num, den) = body.split_once("}{").unwrap();
                    assert_eq!(
                        format!(r"\frac{{1}}{{{den}}}{num}"),
                        i.expansion().to_latex(),
                        "{line}"
                    );
                }
            }
        }
        let kept: Vec<&str> = latex
            .lines()
            .filter(|l| !l.starts_with(r"\rho^{(") && !l.starts_with(r"\arccos\left("))
            .collect();
        let want = d.derivation().render_without_intermediates(Format::Latex);
        assert_eq!(kept.join("\n") + "\n", want);
        assert_ne!(d.render(Format::Latex), want);
    }
}

trait ArgsLatex {
    fn args_latex(&self) -> String;
}

impl ArgsLatex for Expr {
    /// The LaTeX of the argument of a one-argument function application.
    fn args_latex(&self) -> String {
        match self {
            Expr::Apply(_, xs) if xs.len() == 1 => xs[0].to_latex(),
            other => panic!("not an application: {other:?}"),
        }
    }
}

/// Every network the project ships, the activations with and without intermediates on MLPs and
/// CNNs.
fn all_networks() -> Vec<(String, Network)> {
    let mut all = crate::formula_parse::shipped();
    for act in NAMED.iter().chain(&UNNAMED) {
        all.push((format!("mlp {act}"), mlp_with(act)));
        all.push((format!("cnn {act}"), cnn_with(act)));
    }
    all
}

/// The named form is the formula: each definition's named right-hand side, with the
/// intermediates substituted back, normalises to its right-hand side; a right-hand side that
/// names nothing is kept as it is; every intermediate is defined once, before its first use,
/// and the ones of `NAMED` activations are there.
#[test]
fn named_right_hand_sides_substituted_back_are_the_right_hand_sides() {
    let none = Assumptions::new();
    let mut named_defs = 0;
    for (name, net) in all_networks() {
        let d = derive_network(&net).unwrap();
        for derivation in [d.derivation(), d.compact()] {
            let named = derivation.named();
            let mut defined: Vec<Param> = Vec::new();
            let mut rhs = derivation.definitions().iter();
            for line in named.lines() {
                match line {
                    NamedLine::Intermediate(i) => {
                        let s = i.symbol();
                        assert!(!defined.contains(&s), "{name}: {} twice", s.0.latex);
                        let used = params_of(&i.definition());
                        assert!(used.iter().all(|p| defined.contains(p)), "{name}");
                        defined.push(s);
                    }
                    NamedLine::Definition { definition, shown } => {
                        assert_eq!(Some(definition), rhs.next(), "{name}: order");
                        let used: Vec<Param> = params_of(shown)
                            .into_iter()
                            .filter(|p| named.intermediates().iter().any(|i| i.symbol() == *p))
                            .collect();
                        assert!(
                            used.iter().all(|p| defined.contains(p)),
                            "{name}: used first"
                        );
                        if used.is_empty() {
                            assert_eq!(shown, &definition.rhs, "{name}");
                        } else {
                            named_defs += 1;
                            assert_eq!(
                                named.expand(shown).normalize(&none),
                                definition.rhs.normalize(&none),
                                "{name}: {}",
                                definition.name.render(Format::Plain)
                            );
                        }
                    }
                }
            }
            assert_eq!(rhs.next(), None);
        }
        let shown = d.render(Format::Latex);
        if NAMED.iter().any(|a| name.ends_with(a)) {
            assert!(shown.contains(r"\rho^{(1)}"), "{name}\n{shown}");
            assert_eq!(
                shown.contains(r"\theta^{(1)}"),
                !name.contains("sign"),
                "{name}\n{shown}"
            );
        }
        if UNNAMED.iter().any(|a| name.ends_with(a)) {
            assert_eq!(
                shown,
                d.derivation().render_without_intermediates(Format::Latex)
            );
        }
    }
    assert!(named_defs > 100, "only {named_defs} named definitions");
}

fn params_of(e: &Expr) -> Vec<Param> {
    let mut out = Vec::new();
    fn walk(e: &Expr, out: &mut Vec<Param>) {
        if let Expr::Param(p) = e {
            out.push(p.clone());
        }
        e.children().into_iter().for_each(|c| walk(c, out));
    }
    walk(e, &mut out);
    out
}

/// A small deterministic generator (xorshift) in [0, 1).
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Random kernels of every layer: variances in [0.2, 3], correlations in (−0.98, 0.98), NTKs
/// in [0, 2]; keyed by layer, kind and the examples of the pair.
fn random_kernels(draws: &mut Draws, depth: usize) -> BTreeMap<(usize, KernelKind, u8), f64> {
    let mut out = BTreeMap::new();
    for l in 0..=depth {
        let (a, b) = (0.2 + 2.8 * draws.next(), 0.2 + 2.8 * draws.next());
        let c = (2.0 * draws.next() - 1.0) * 0.98 * (a * b).sqrt();
        out.insert((l, KernelKind::Nngp, 0), a);
        out.insert((l, KernelKind::Nngp, 1), c);
        out.insert((l, KernelKind::Nngp, 2), b);
        for pair in 0..3 {
            out.insert((l, KernelKind::Ntk, pair), 2.0 * draws.next());
        }
    }
    out
}

/// The named right-hand sides evaluate, with the intermediates evaluated from their own
/// definitions, to the numbers of the right-hand sides (random kernel values, 1e-12).
#[test]
fn named_formulas_evaluate_to_the_unnamed_ones() {
    use eqntk::symbolic::Example;
    let mut draws = Draws(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;
    for act in NAMED {
        let net = mlp_with(act);
        let d = derive_network(&net).unwrap();
        let named = d.derivation().named();
        for _ in 0..20 {
            let k = random_kernels(&mut draws, d.depth());
            let pair = |a: Example, b: Example| match (a, b) {
                (Example::X, Example::X) => 0,
                (Example::XPrime, Example::XPrime) => 2,
                _ => 1,
            };
            let mut params: BTreeMap<Param, f64> = d.params().clone();
            let env = |params: &BTreeMap<Param, f64>| {
                let mut e = SimpleEnv::new().with_kernel(|at| {
                    k.get(&(
                        at.layer,
                        at.kind,
                        pair(at.args.0.example, at.args.1.example),
                    ))
                    .copied()
                });
                for (p, v) in params {
                    e = e.with_param(p.clone(), *v);
                }
                e
            };
            for line in named.lines() {
                match line {
                    NamedLine::Intermediate(i) => {
                        let v = i.definition().eval(&env(&params)).unwrap();
                        params.insert(i.symbol(), v);
                    }
                    NamedLine::Definition { definition, shown } => {
                        let want = definition.rhs.eval(&env(&params)).unwrap();
                        let got = shown.eval(&env(&params)).unwrap();
                        assert!(
                            // ρ^m against K₁₂^m (K₁₁K₂₂)^{−m/2}: rounding, amplified by the
                            // coefficients of the rectified monomials' polynomials
                            (got - want).abs() <= 1e-10 * want.abs().max(1.0),
                            "{act}: {} = {got}, unnamed {want}",
                            definition.name.render(Format::Plain)
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// The text (parsed back) and the Unicode print every right-hand side in full, as before:
/// the named LaTeX changes no other format, and print → parse → print stays the identity.
#[test]
fn text_and_unicode_are_unnamed_and_round_trip() {
    for (name, net) in all_networks() {
        let d = derive_network(&net).unwrap();
        for derivation in [d.derivation(), d.compact()] {
            for f in [Format::Plain, Format::Unicode] {
                assert_eq!(
                    derivation.render(f),
                    derivation.render_without_intermediates(f),
                    "{name}"
                );
            }
            let text = derivation.render(Format::Plain);
            for i in derivation.named().intermediates() {
                let symbol = i.symbol();
                assert!(!text.contains(&symbol.0.plain), "{name}\n{text}");
                let unicode = derivation.render(Format::Unicode);
                assert!(!unicode.contains(&symbol.0.unicode), "{name}\n{unicode}");
            }
            let (parsed, _) = parse_derivation(&text, &Names::open(), &name)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert_eq!(parsed.render(Format::Plain), text, "{name}");
            let shown = |d: &Derivation| -> Vec<Option<Expr>> {
                d.named()
                    .lines()
                    .iter()
                    .map(|l| match l {
                        NamedLine::Intermediate(i) => Some(i.expansion()),
                        NamedLine::Definition { shown, .. } => Some(shown.clone()),
                    })
                    .collect()
            };
            assert_eq!(shown(&parsed), shown(derivation), "{name}");
            assert_eq!(
                parsed.render(Format::Latex),
                derivation.render(Format::Latex),
                "{name}"
            );
        }
    }
}

/// Kernels inside an index sum over a variable they mention are not named (the sum prints as
/// before), self-covariances are not named, and a correlation outside an arccos is `ρ`.
#[test]
fn bound_indices_and_self_covariances_are_not_named() {
    use eqntk::symbolic::{Index, IndexSet, IndexVar};
    let p = IndexVar::p();
    let d = IndexVar::delta();
    let pair = |i: Index, j: Index| KernelSym::nngp(1).at(i, j);
    let shifted = |v: &IndexVar| Index::from(p.clone()) + Index::from(v.clone());
    let [k11, k12, k22] = KernelSym::dual_args(1, Index::from(d.clone()), Index::from(d.clone()));
    let rho = |a: KernelSym, b: KernelSym, c: KernelSym| {
        Expr::from(b) * (Expr::from(a) * Expr::from(c)).sqrt().powi(-1)
    };
    let none = Assumptions::new();
    // Σ_δ arccos ρ(K[δ,δ]): the pair mentions the bound δ
    let summed =
        Expr::sum(d.clone(), IndexSet::Filter, rho(k11, k12, k22).arccos()).normalize(&none);
    // arccos of the correlation of K[p+δ, p] outside any sum names it
    let free = rho(
        pair(shifted(&d), shifted(&d))
            .with_args(eqntk::symbolic::Arg::x(), eqntk::symbolic::Arg::x()),
        pair(shifted(&d), p.clone().into()),
        pair(p.clone().into(), p.clone().into()).with_args(
            eqntk::symbolic::Arg::x_prime(),
            eqntk::symbolic::Arg::x_prime(),
        ),
    )
    .normalize(&none);
    // a self-covariance over itself
    let [s11, _, _] = KernelSym::dual_args_unindexed(1);
    let selfish =
        (Expr::from(s11.clone()) * Expr::from(s11.clone()).sqrt().powi(-1)).normalize(&none);
    let mut dv = Derivation::new();
    dv.define(KernelSym::nngp(2), summed.clone(), 2, "sum")
        .unwrap();
    dv.define(KernelSym::nngp(3), free.clone(), 3, "free")
        .unwrap();
    dv.define(KernelSym::nngp(4), selfish.clone(), 4, "self")
        .unwrap();
    let named = dv.named();
    assert_eq!(
        named.intermediates().len(),
        1,
        "{}",
        dv.render(Format::Latex)
    );
    let latex = dv.render(Format::Latex);
    assert!(
        latex.contains(&format!("K^{{(2)}}(x,x') &= {}", summed.to_latex())),
        "{latex}"
    );
    assert!(
        latex.contains(&format!("K^{{(4)}}(x,x') &= {}", selfish.to_latex())),
        "{latex}"
    );
    assert!(
        latex.contains(r"K^{(3)}(x,x') &= \rho^{(1)}_{p+\delta,p}(x,x') && \text{free}"),
        "{latex}"
    );
}
