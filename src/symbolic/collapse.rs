//! The invariance collapse behind Result A (MATH.md §7) as rewrite rules that check their
//! preconditions.
//!
//! For a group `G` acting on the sites by permutations (`(ρ(h)x)[s] = x[h⁻¹·s]`, orthogonal),
//! a G-CNN's kernels collapse onto those of the matching plain network (tag `MLP`):
//!
//! 1. [`collapse_lifting`] — full-support lifting: reindexing `δ ↦ g⁻¹·δ` over all sites gives
//!    `Σ_{δ∈Ω} K⁽⁰⁾[g·δ, g'·δ](x,x′) = Σ_{δ∈Ω} K⁽⁰⁾[δ,δ](x, ρ(g g'⁻¹)x′)`. Does not apply when
//!    the filter is local (`F ≠ Ω`: the reindexing does not map `F` onto itself) or the action
//!    is not orthogonal.
//! 2. [`collapse_invariant`] — once `K⁽ˡ⁾[a,b](x,x′) = k⁽ˡ⁾(x, ρ(a b⁻¹)x′)` (and likewise `Θ`),
//!    every kernel of layer `l` in a later formula is replaced by the plain network's kernel at
//!    the transformed argument, and the group words are reduced ([`reduce_word`]):
//!    `(g h)(g' h)⁻¹ = g g'⁻¹`, `a a⁻¹ = e`. A group convolution then averages identical terms
//!    and the normal form folds `(1/|H|) Σ_{h∈H} c = c`.
//! 3. [`collapse_pool`] — group pooling `(1/|G|²) Σ_g Σ_{g'} f(g g'⁻¹) = (1/|G|) Σ_g f(g)` by
//!    the reindexing `g ↦ g g'` (a bijection of `G` for each `g'`). Does not apply when the
//!    summand depends on `g, g'` otherwise than through `g g'⁻¹`.
//!
//! Each rule returns the rewritten formula or [`NotApplicable`] with the reason; nothing is
//! assumed that the rule did not check.

use super::expr::Expr;
use super::index::{Index, IndexSet, IndexVar};
use super::kernel_sym::{Arg, KernelSym};
use super::normal::Assumptions;

/// Why a rewrite rule does not apply. Displays as `does not apply: …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotApplicable(pub String);

impl std::fmt::Display for NotApplicable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "does not apply: {}", self.0)
    }
}

/// What the lifting layer and the group action guarantee (read off the layer, not the formula).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiftingFacts {
    /// The group, as printed in messages (`C5`).
    pub group: String,
    /// Whether the lifting filter spans every site (`filter = "full"`: `F = Ω`).
    pub full_support: bool,
    /// Whether the group acts on the sites by permutations (so `ρ_X` is orthogonal).
    pub orthogonal: bool,
}

/// One letter of a group word: a variable or its inverse.
type Letter = (IndexVar, bool);

fn letters(i: &Index, inverse: bool, out: &mut Vec<Letter>) -> Option<()> {
    match i {
        Index::Var(v) => out.push((v.clone(), inverse)),
        Index::Mul(a, b) => {
            if inverse {
                letters(b, true, out)?;
                letters(a, true, out)?;
            } else {
                letters(a, false, out)?;
                letters(b, false, out)?;
            }
        }
        Index::Inv(a) => letters(a, !inverse, out)?,
        _ => return None,
    }
    Some(())
}

/// The group word `i` (products and inverses of variables) freely reduced: adjacent `a a⁻¹`
/// and `a⁻¹ a` cancel. `None` when the word reduces to the identity `e`; indices that are not
/// group words (sites, offsets, pairs) are returned unchanged.
pub fn reduce_word(i: &Index) -> Option<Index> {
    let mut word = Vec::new();
    if letters(i, false, &mut word).is_none() {
        return Some(i.clone());
    }
    let mut stack: Vec<Letter> = Vec::new();
    for l in word {
        match stack.last() {
            Some(top) if top.0 == l.0 && top.1 != l.1 => {
                stack.pop();
            }
            _ => stack.push(l),
        }
    }
    stack
        .into_iter()
        .map(|(v, inv)| {
            let x = Index::Var(v);
            if inv {
                x.inv()
            } else {
                x
            }
        })
        .reduce(|a, b| a * b)
}

fn reduce_args(k: &KernelSym) -> KernelSym {
    let arg = |a: &Arg| Arg {
        example: a.example,
        transform: a.transform.as_ref().and_then(reduce_word),
    };
    KernelSym {
        args: (arg(&k.args.0), arg(&k.args.1)),
        ..k.clone()
    }
}

/// Rule 1: the lifting `Σ_{δ∈F} K⁽⁰⁾[g·δ, g'·δ](x,x′)` (written `K⁽⁰⁾[A_g δ, A_{g'} δ]`)
/// becomes `Σ_{δ∈Ω} K⁽⁰⁾[δ,δ](x, ρ(g g'⁻¹)x′)`; see the module docs for the preconditions.
/// Every input kernel in `rhs` must sit inside a sum over the filter at indices `(A_a δ, A_b δ)`.
pub fn collapse_lifting(rhs: &Expr, facts: &LiftingFacts) -> Result<Expr, NotApplicable> {
    if !facts.orthogonal {
        return Err(NotApplicable(format!(
            "the action of {} on the sites is not a permutation, so ρ_X is not orthogonal",
            facts.group
        )));
    }
    if !facts.full_support {
        return Err(NotApplicable(format!(
            "the lifting filter of {} is local (F ≠ Ω): the reindexing δ ↦ g⁻¹·δ does not map \
             F onto itself, so K¹[g,g'] is not a function of g g'⁻¹",
            facts.group
        )));
    }
    let mut problem: Option<String> = None;
    let out = lift_rewrite(rhs, None, &mut problem);
    match problem {
        Some(p) => Err(NotApplicable(p)),
        None => Ok(out.normalize(&Assumptions::new())),
    }
}

fn lift_rewrite(e: &Expr, bound: Option<&IndexVar>, problem: &mut Option<String>) -> Expr {
    match e {
        Expr::Sum { var, set, body } if *set == IndexSet::Filter => Expr::Sum {
            var: var.clone(),
            set: IndexSet::Sites,
            body: Box::new(lift_rewrite(body, Some(var), problem)),
        },
        Expr::Card(IndexSet::Filter) => Expr::Card(IndexSet::Sites),
        Expr::Kernel(k) if k.layer == 0 => {
            let ok = k.args.0.transform.is_none() && k.args.1.transform.is_none();
            let pair = match (&k.idx, bound) {
                (Some((Index::Act(a, d1), Index::Act(b, d2))), Some(v))
                    if ok && **d1 == Index::Var(v.clone()) && **d2 == Index::Var(v.clone()) =>
                {
                    Some(((**a).clone(), (**b).clone(), v.clone()))
                }
                _ => None,
            };
            match pair {
                Some((a, b, v)) => {
                    let h = reduce_word(&(a * b.inv()));
                    let second = match h {
                        Some(h) => k.args.1.clone().transformed(h),
                        None => k.args.1.clone(),
                    };
                    Expr::from(
                        KernelSym {
                            args: (k.args.0.clone(), second),
                            ..(**k).clone()
                        }
                        .at(v.clone(), v),
                    )
                }
                None => {
                    problem.get_or_insert_with(|| {
                        format!(
                            "the input kernel {} is not read at (A_g δ, A_g' δ) inside a sum \
                             over the filter",
                            k.render(super::print::Format::Unicode)
                        )
                    });
                    e.clone()
                }
            }
        }
        _ => e.map_children(&mut |c| lift_rewrite(c, bound, problem)),
    }
}

/// Rule 2: with `K⁽ˡ⁾[a,b](x,x′) = k⁽ˡ⁾(x, ρ(a b⁻¹)x′)` and `Θ⁽ˡ⁾` likewise (for the layers in
/// `layers`), replace those kernels in `rhs` by the plain network's (tagged `tag`) at the
/// transformed argument, reduce the group words and normalise. Fails if a kernel of those
/// layers is read at indices that are not group elements, or with transformed arguments.
pub fn collapse_invariant(rhs: &Expr, layers: &[usize], tag: &str) -> Result<Expr, NotApplicable> {
    let mut problem: Option<String> = None;
    let out = invariant_rewrite(rhs, layers, tag, &mut problem);
    match problem {
        Some(p) => Err(NotApplicable(p)),
        None => Ok(out.normalize(&Assumptions::new())),
    }
}

fn is_word(i: &Index) -> bool {
    matches!(i, Index::Var(_) | Index::Mul(..) | Index::Inv(_))
}

fn invariant_rewrite(e: &Expr, layers: &[usize], tag: &str, problem: &mut Option<String>) -> Expr {
    match e {
        Expr::Kernel(k) if layers.contains(&k.layer) && k.tag.is_none() => match &k.idx {
            Some((a, b))
                if is_word(a)
                    && is_word(b)
                    && k.args.0.transform.is_none()
                    && k.args.1.transform.is_none() =>
            {
                let plain = KernelSym {
                    idx: None,
                    tag: Some(tag.to_string()),
                    ..(**k).clone()
                };
                let second = match reduce_word(&(a.clone() * b.clone().inv())) {
                    Some(h) => plain.args.1.clone().transformed(h),
                    None => plain.args.1.clone(),
                };
                Expr::from(reduce_args(&KernelSym {
                    args: (plain.args.0.clone(), second),
                    ..plain
                }))
            }
            _ => {
                problem.get_or_insert_with(|| {
                    format!(
                        "{} is not indexed by group elements alone",
                        k.render(super::print::Format::Unicode)
                    )
                });
                e.clone()
            }
        },
        _ => e.map_children(&mut |c| invariant_rewrite(c, layers, tag, problem)),
    }
}

/// Rule 3: the group pooling `(1/|G|²) Σ_{g∈G} Σ_{g'∈G} f(g g'⁻¹)` becomes
/// `(1/|G|) Σ_{g∈G} f(g)`: the inner sum is reindexed `g ↦ g g'`, after which the summand no
/// longer depends on `g'`. `rhs` must be in normal form with the two sums over `G` outermost.
pub fn collapse_pool(rhs: &Expr) -> Result<Expr, NotApplicable> {
    fn find(e: &Expr) -> Option<(Vec<Expr>, IndexVar, IndexVar, Expr)> {
        let (factors, sum) = match e {
            Expr::Mul(fs) => {
                let i = fs.iter().position(|f| matches!(f, Expr::Sum { .. }))?;
                let mut rest = fs.clone();
                let s = rest.remove(i);
                (rest, s)
            }
            s @ Expr::Sum { .. } => (vec![], s.clone()),
            _ => return None,
        };
        match sum {
            Expr::Sum {
                var: g,
                set: IndexSet::Group,
                body,
            } => match *body {
                Expr::Sum {
                    var: gp,
                    set: IndexSet::Group,
                    body,
                } => Some((factors, g, gp, *body)),
                _ => None,
            },
            _ => None,
        }
    }
    let (factors, g, gp, body) = find(rhs).ok_or_else(|| {
        NotApplicable("the formula is not a double sum over G × G (group pooling)".into())
    })?;
    // Σ_g Σ_g' f = Σ_g' Σ_g f (finite sums), then g ↦ g g' in the inner sum.
    let shifted = body
        .substitute_index(&g, &(Index::Var(g.clone()) * Index::Var(gp.clone())))
        .substitute_kernels(&|k| Some(Expr::from(reduce_args(k))));
    if shifted.mentions_index(&gp) {
        return Err(NotApplicable(format!(
            "the pooled summand depends on {} and {} otherwise than through {}·{}⁻¹",
            g.0.unicode, gp.0.unicode, g.0.unicode, gp.0.unicode
        )));
    }
    let mut fs = factors;
    fs.push(Expr::sum(
        gp.clone(),
        IndexSet::Group,
        Expr::sum(g, IndexSet::Group, shifted),
    ));
    Ok(Expr::Mul(fs).normalize(&Assumptions::new()))
}

fn has_pool(e: &Expr) -> bool {
    let is_pool = |s: &Expr| {
        matches!(s, Expr::Sum { set: IndexSet::Group, body, .. }
            if matches!(**body, Expr::Sum { set: IndexSet::Group, .. }))
    };
    match e {
        Expr::Mul(fs) => fs.iter().any(is_pool),
        s => is_pool(s),
    }
}

/// The collapse of a G-CNN derivation whose layer 1 is a lifting and whose later layers read
/// kernels indexed by group elements (group convolutions, nonlinearities, a final group
/// pooling): rule 1 on layer 1, rule 2 on every later definition (with every earlier layer
/// collapsed), rule 3 on a pooling. The result defines the G-CNN's kernels (tag `GCNN`) in terms
/// of the plain network's (tag `tag`), one definition per step, each note naming the rule; the
/// last one reads `Θ_GCNN = (1/|G|) Σ_g Θ_MLP(x, ρ(g) x′)` when the network ends with pooling.
/// The first rule that does not apply stops the collapse, and its reason is returned.
pub fn collapse_derivation(
    d: &super::Derivation,
    facts: &LiftingFacts,
    tag: &str,
) -> Result<super::Derivation, NotApplicable> {
    let mut out = super::Derivation::new();
    // the layer of the pooling, once collapsed: later layers read orbit averages
    let mut pooled: Option<usize> = None;
    for def in d.definitions() {
        let fail = |e: NotApplicable| {
            NotApplicable(format!("layer {} ({}): {}", def.layer, def.note, e.0))
        };
        if let Some(pool) = pooled.filter(|&p| def.layer > p) {
            let rhs =
                collapse_readout(&def.rhs, def.name.kind, def.layer, pool, tag).map_err(fail)?;
            out.push(super::Definition {
                name: def.name.clone().tagged("GCNN"),
                rhs,
                layer: def.layer,
                note: format!(
                    "{}: affine, so it commutes with the orbit average; the summand is the \
                     plain network's next layer",
                    def.note
                ),
            })
            .map_err(|e| NotApplicable(e.to_string()))?;
            continue;
        }
        let (rhs, mut note) = if def.layer == 1 {
            let rhs = collapse_lifting(&def.rhs, facts)
                .and_then(|r| collapse_invariant(&r, &[1], tag))
                .map_err(fail)?;
            (rhs, "lifting: δ ↦ g⁻¹·δ over all sites".to_string())
        } else {
            let earlier: Vec<usize> = (1..=def.layer).collect();
            let rhs = collapse_invariant(&def.rhs, &earlier, tag).map_err(fail)?;
            (rhs, format!("{}: K[a,b] = k(x, ρ(a b⁻¹)x′)", def.note))
        };
        let rhs = if has_pool(&rhs) {
            note = format!("{}: g ↦ g g'", def.note);
            pooled = Some(def.layer);
            collapse_pool(&rhs).map_err(fail)?
        } else {
            rhs
        };
        out.push(super::Definition {
            name: def.name.clone().tagged("GCNN"),
            rhs,
            layer: def.layer,
            note,
        })
        .map_err(|e| NotApplicable(e.to_string()))?;
    }
    Ok(out)
}

/// Whether `e` is affine in the kernels it reads: no kernel inside a function, a power or a
/// product with another kernel.
fn affine_in_kernels(e: &Expr) -> bool {
    let has = |e: &Expr| !e.kernels().is_empty();
    match e {
        Expr::Kernel(_) => true,
        _ if !has(e) => true,
        Expr::Add(ts) => ts.iter().all(affine_in_kernels),
        Expr::Mul(fs) => {
            let with: Vec<&Expr> = fs.iter().filter(|f| has(f)).collect();
            with.len() <= 1 && with.iter().all(|f| affine_in_kernels(f))
        }
        Expr::Sum { body, .. } => affine_in_kernels(body),
        _ => false,
    }
}

/// Rule 4: a layer after the pooling whose formula is affine in the (orbit-averaged) kernels
/// before it: `f((1/|G|) Σ_g k(x, ρ(g)x′)) = (1/|G|) Σ_g f(k(x, ρ(g)x′))`, and `f` applied to
/// the plain network's kernels is the plain network's kernel of the next layer. The plain
/// network has no pooling layer, so its layers after the pooling are numbered one lower.
fn collapse_readout(
    rhs: &Expr,
    kind: super::KernelKind,
    layer: usize,
    pool: usize,
    tag: &str,
) -> Result<Expr, NotApplicable> {
    if !affine_in_kernels(rhs) {
        return Err(NotApplicable(
            "a nonlinear layer after the pooling does not commute with the orbit average".into(),
        ));
    }
    if let Some(k) = rhs
        .kernels()
        .into_iter()
        .find(|k| k.idx.is_some() || k.layer < pool)
    {
        return Err(NotApplicable(format!(
            "{} is not a kernel of the pooled features",
            k.render(super::print::Format::Unicode)
        )));
    }
    let g = IndexVar::g();
    let plain = KernelSym::new(kind, layer - 1)
        .tagged(tag)
        .with_args(Arg::x(), Arg::x_prime().transformed(g.clone()));
    Ok(Expr::mean(g, IndexSet::Group, plain.into()).normalize(&Assumptions::new()))
}

/// What the first layer of `net` guarantees for the collapse: its group, whether its filter
/// spans the input (`filter = "full"`) and whether the group permutes the input sites
/// ([`crate::action::action_for`] on the declared input domain is a site permutation, so `ρ_X`
/// is a permutation and
/// orthogonal). `Err` when the network does not start with a lifting to a finite group.
pub fn lifting_facts(net: &crate::Network) -> Result<LiftingFacts, NotApplicable> {
    use crate::group::GroupSpec;
    use crate::layer::LiftFilter;
    let Some(lift) = net.layers().first().and_then(|l| l.as_lift()) else {
        return Err(NotApplicable(
            "the network does not start with a lifting layer".into(),
        ));
    };
    if let GroupSpec::So2 { .. } = lift.group {
        return Err(NotApplicable(
            "SO2 is continuous: its derivation is already written in the relative angle φ, and \
             the pooled kernel is the zero mode (1/2π) ∫ dφ of θ ↦ Θ(x, ρ(φ)x′), checked \
             numerically"
                .into(),
        ));
    }
    Ok(LiftingFacts {
        group: lift.group.to_string(),
        full_support: lift.filter == LiftFilter::Full,
        orthogonal: crate::action::site_action(lift.group, net.domain(), net.input_shape()).is_ok(),
    })
}

/// The Result A collapse of `net`'s derivation ([`super::NetworkDerivation::compact`]) onto the
/// plain network (tag `MLP`): [`lifting_facts`] read off the network, then
/// [`collapse_derivation`].
pub fn collapse_network(
    net: &crate::Network,
    d: &super::NetworkDerivation,
) -> Result<super::Derivation, NotApplicable> {
    collapse_derivation(d.compact(), &lifting_facts(net)?, "MLP")
}
