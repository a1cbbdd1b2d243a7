//! Per-layer derivations: every layer kind of the engine states its `(K, Θ)` recursion as
//! definitions (MATH.md §2–4).
//!
//! Layer `l` (1-based) reads the kernels `K⁽ˡ⁻¹⁾, Θ⁽ˡ⁻¹⁾` of its input and defines `K⁽ˡ⁾, Θ⁽ˡ⁾`.
//! Kernels carry site indices `[p,p']` while the features live on a grid, and none after a
//! readout (or for plain vectors). Each layer has its own parameters, named with the layer:
//! `σ_{w,l}`, `σ_{b,l}` and, in standard parameterisation, the fan-in `n_l`.
//!
//! | kind | NNGP | NTK |
//! |---|---|---|
//! | dense (NTK) | `K⁽ˡ⁾ = σ_{w,l}² K⁽ˡ⁻¹⁾ + σ_{b,l}²` | `Θ⁽ˡ⁾ = σ_{w,l}² Θ⁽ˡ⁻¹⁾ + K⁽ˡ⁾` |
//! | dense (standard) | same | `Θ⁽ˡ⁾ = n_l K⁽ˡ⁻¹⁾ + σ_{w,l}² Θ⁽ˡ⁻¹⁾ + [bias]` |
//! | conv | `K⁽ˡ⁾[p,p'] = σ_{w,l}² (1/\|F\|) Σ_{δ∈F} K⁽ˡ⁻¹⁾[p+δ,p'+δ] + σ_{b,l}²` | likewise, `A[Θ]` |
//! | flatten | `K⁽ˡ⁾ = (1/\|Ω\|) Σ_{p∈Ω} K⁽ˡ⁻¹⁾[p,p]` | likewise |
//! | global_avg_pool | `K⁽ˡ⁾ = (1/\|Ω\|²) Σ_{p,p'∈Ω} K⁽ˡ⁻¹⁾[p,p']` | likewise |
//! | activation φ | `K⁽ˡ⁾[p,p'] = T_φ(K⁽ˡ⁻¹⁾[p,p](x,x), K⁽ˡ⁻¹⁾[p,p'](x,x′), K⁽ˡ⁻¹⁾[p',p'](x′,x′))` | `Θ⁽ˡ⁾ = Ṫ_φ(…) Θ⁽ˡ⁻¹⁾` |
//! | lift (C_n, D_n, C4, D4) | `K⁽ˡ⁾[g,g'] = σ_{w,l}² (1/\|F\|) Σ_{δ∈F} K⁽ˡ⁻¹⁾[A_g δ, A_g' δ] + σ_{b,l}²` | as dense, `A[Θ]` |
//! | lift (p4, p4m) | `K⁽ˡ⁾[(g,p),(g',p')] = σ_{w,l}² (1/\|F\|) Σ_{δ∈F} K⁽ˡ⁻¹⁾[p+A_g δ, p'+A_g' δ] + σ_{b,l}²` | likewise |
//! | group_conv | `K⁽ˡ⁾[(g,p),(g',p')] = σ_{w,l}² (1/(\|H\|\|F\|)) Σ_{h∈H} Σ_{δ∈F} K⁽ˡ⁻¹⁾[(gh, p+A_g δ),(g'h, p'+A_g' δ)] + σ_{b,l}²` (no positions: `K⁽ˡ⁻¹⁾[gh, g'h]`) | likewise |
//! | group_pool | `K⁽ˡ⁾ = (1/(\|G\|²\|Ω\|²)) Σ_{g,g'∈G} Σ_{p,p'∈Ω} K⁽ˡ⁻¹⁾[(g,p),(g',p')]` | likewise |
//! | SO(2) layers | functions of the relative angle φ: `K⁽¹⁾(x,ρ(φ)x′) = σ_{w,1}² (1/\|Ω\|) Σ_{δ∈Ω} K⁽⁰⁾[δ,δ](x,ρ(φ)x′) + σ_{b,1}²`; group_conv `σ_w² K(x,ρ(φ)x′) + σ_b²`; group_pool the zero mode `(1/\|G\|) Σ_{φ∈G}` (read `(1/2π) ∫ dφ`) | likewise |
//!
//! For groups without translations `A_g δ` is `g` acting on the filter site `δ` (the window
//! around site 0 of a signal or the centre pixel of an image; `F = Ω` for a full filter); for
//! p4/p4m it is the point group rotating the offset ([`crate::layer::lift`]). Nonlinearities and
//! dense layers on features on a group read the same indices (`[g,g']`, `[(g,p),(g',p')]`, or the
//! angle φ with self-covariances at φ = 0). SO(2) derivations are interpreted on a grid of N
//! equally spaced angles `G` (the pool is the grid mean, refined until it settles; see
//! [`super::interpret`]).
//!
//! Conventions of the index sets (fixed here, used by [`super::interpret`]): `F` is the set of
//! filter offsets of the layer's convolution, centred on 0 for circular and same padding
//! (`{−1, 0, 1}²` for a 3×3 filter) and `{0, …, f−1}` per axis for valid padding (output site
//! `p` sees input sites `p + δ`); `Ω` is the set of sites of the layer's input. Circular
//! padding reads `p + δ` modulo the grid; same padding reads 0 outside it (the divisor stays
//! `|F|`).
//!
//! Simplifications applied to every layer: `σ_b = 0` (absent or zero bias) vanishes, and the
//! first layer reads `Θ⁽⁰⁾ = 0`. [`closed_forms`] replaces `T_φ`, `Ṫ_φ` by their closed forms
//! where they exist ([`dual_closed_form`]); the identity then disappears (`K⁽ˡ⁾ = K⁽ˡ⁻¹⁾`).

use super::derivation::Definition;
use super::expr::Expr;
use super::index::{Index, IndexSet, IndexVar};
use super::kernel_sym::Arg;
use super::kernel_sym::{KernelKind, KernelSym};
use super::normal::Assumptions;
use super::param::Param;
use crate::error::{Error, Result};
use crate::group::GroupSpec;
use crate::layer::{
    Activation, Conv, Dense, GroupConv, Layer, Lift, LiftFilter, Padding, Parameterization, Shape,
};

const SUB: [&str; 10] = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"];

fn subscript(l: usize) -> String {
    l.to_string()
        .chars()
        .map(|c| SUB[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}

/// The weight scale `σ_{w,l}` of layer `l`.
pub fn sigma_w(l: usize) -> Param {
    Param::new(
        &format!("sigma_w{l}"),
        &format!("σ_w{}", subscript(l)),
        &format!(r"\sigma_{{w,{l}}}"),
    )
}

/// The bias scale `σ_{b,l}` of layer `l`.
pub fn sigma_b(l: usize) -> Param {
    Param::new(
        &format!("sigma_b{l}"),
        &format!("σ_b{}", subscript(l)),
        &format!(r"\sigma_{{b,{l}}}"),
    )
}

/// The fan-in `n_l` of layer `l` (standard parameterisation only).
pub fn fan_in(l: usize) -> Param {
    Param::new(
        &format!("n{l}"),
        &format!("n{}", subscript(l)),
        &format!("n_{{{l}}}"),
    )
}

/// The name of `φ` as printed in `T_φ`, `Ṫ_φ`.
pub fn activation_symbol(a: &Activation) -> &'static str {
    match a {
        Activation::Relu => "ReLU",
        Activation::LeakyRelu { .. } => "LeakyReLU",
        Activation::AbRelu { .. } => "ABReLU",
        Activation::Abs => "Abs",
        Activation::Identity => "Id",
        Activation::Erf { .. } => "Erf",
        Activation::Tanh => "Tanh",
        Activation::Gelu => "GELU",
        Activation::Sigmoid => "Sigmoid",
        Activation::Softplus => "Softplus",
        Activation::Sin { .. } => "Sin",
    }
}

fn p() -> Index {
    Index::Var(IndexVar::p())
}

fn pp() -> Index {
    Index::Var(IndexVar::p().prime())
}

fn delta() -> Index {
    Index::Var(IndexVar::delta())
}

/// How the features entering a layer are indexed, which fixes the indices of its kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sites {
    /// A vector: `K(x,x′)`.
    Vector,
    /// A grid: `K[p,p′]`.
    Grid,
    /// A finite group without translations: `K[g,g′]`.
    Group,
    /// A roto-translation group: `K[(g,p),(g′,p′)]`.
    GroupGrid,
    /// SO(2): a function of the relative angle, `K(x, ρ(φ)x′)`.
    So2,
}

impl Sites {
    fn of(s: &Shape) -> Self {
        match (s.lifted, s.grid.is_empty()) {
            (None, true) => Sites::Vector,
            (None, false) => Sites::Grid,
            (Some(GroupSpec::So2 { .. }), _) => Sites::So2,
            (Some(_), true) => Sites::Group,
            (Some(_), false) => Sites::GroupGrid,
        }
    }
}

fn g() -> Index {
    Index::Var(IndexVar::g())
}

fn gp() -> Index {
    Index::Var(IndexVar::g().prime())
}

fn h() -> Index {
    Index::Var(IndexVar::h())
}

/// The relative angle `φ` of SO(2) features.
pub fn phi() -> IndexVar {
    IndexVar::new("phi", "φ", r"\varphi")
}

/// `K⁽ˡ⁾` or `Θ⁽ˡ⁾` at the generic pair of sites of features indexed as `sites`.
fn site_sym(kind: KernelKind, l: usize, sites: Sites) -> KernelSym {
    let s = KernelSym::new(kind, l);
    match sites {
        Sites::Vector => s,
        Sites::Grid => s.at(p(), pp()),
        Sites::Group => s.at(g(), gp()),
        Sites::GroupGrid => s.at(Index::pair(g(), p()), Index::pair(gp(), pp())),
        Sites::So2 => s.with_args(Arg::x(), Arg::x_prime().transformed(phi())),
    }
}

/// `K⁽ˡ⁾` or `Θ⁽ˡ⁾`, at `[p,p']` when `indexed`.
fn sym(kind: KernelKind, l: usize, indexed: bool) -> KernelSym {
    site_sym(kind, l, if indexed { Sites::Grid } else { Sites::Vector })
}

/// The three kernels a nonlinearity reads, `(k₁₁, k₁₂, k₂₂)`, for features indexed as `sites`.
fn dual_args(l: usize, sites: Sites) -> [KernelSym; 3] {
    match sites {
        Sites::Vector => KernelSym::dual_args_unindexed(l),
        Sites::Grid => KernelSym::dual_args(l, p(), pp()),
        Sites::Group => KernelSym::dual_args(l, g(), gp()),
        Sites::GroupGrid => KernelSym::dual_args(l, Index::pair(g(), p()), Index::pair(gp(), pp())),
        // the self-covariances sit at relative angle 0
        Sites::So2 => {
            let [a, _, c] = KernelSym::dual_args_unindexed(l);
            [a, site_sym(KernelKind::Nngp, l, sites), c]
        }
    }
}

fn sq(p: Param) -> Expr {
    Expr::from(p).squared()
}

/// `σ²_w` and `σ²_b` of an affine layer, with what is known about them: the bias vanishes when
/// it is absent or zero.
fn affine_assumptions(l: usize, b_std: Option<f64>) -> Assumptions {
    match b_std {
        Some(b) if b != 0.0 => Assumptions::new(),
        _ => Assumptions::new().with_zero(sigma_b(l)),
    }
}

/// The NTK term of an affine layer: `σ_w² A[Θ] + K'` (NTK parameterisation) or
/// `n A[K] + σ_w² A[Θ] + [bias]` (standard).
fn affine_ntk(
    l: usize,
    parameterization: Parameterization,
    has_bias: bool,
    avg_k: Expr,
    avg_t: Expr,
    k_new: Expr,
) -> Expr {
    match parameterization {
        Parameterization::Ntk => sq(sigma_w(l)) * avg_t + k_new,
        Parameterization::Standard => {
            let bias = if has_bias { 1.0 } else { 0.0 };
            Expr::from(fan_in(l)) * avg_k + sq(sigma_w(l)) * avg_t + bias
        }
    }
}

fn dense_defs(d: &Dense, l: usize, sites: Sites) -> Vec<(KernelSym, Expr, String)> {
    let k_in = Expr::from(site_sym(KernelKind::Nngp, l - 1, sites));
    let t_in = Expr::from(site_sym(KernelKind::Ntk, l - 1, sites));
    let k_new = site_sym(KernelKind::Nngp, l, sites);
    let k_rhs = sq(sigma_w(l)) * k_in.clone() + sq(sigma_b(l));
    let t_rhs = affine_ntk(
        l,
        d.parameterization,
        d.b_std.is_some(),
        k_in,
        t_in,
        k_new.clone().into(),
    );
    let note = format!("dense, {} parameterisation", d.parameterization.name());
    vec![
        (k_new, k_rhs, note.clone()),
        (site_sym(KernelKind::Ntk, l, sites), t_rhs, note),
    ]
}

/// `(1/|F|) Σ_{δ∈F} M⁽ˡ⁻¹⁾[p+δ, p'+δ]`.
fn tap_average(kind: KernelKind, l: usize) -> Expr {
    let m = KernelSym::new(kind, l - 1).at(p() + delta(), pp() + delta());
    Expr::mean(IndexVar::delta(), IndexSet::Filter, m.into())
}

fn conv_defs(c: &Conv, l: usize) -> Vec<(KernelSym, Expr, String)> {
    let avg_k = tap_average(KernelKind::Nngp, l);
    let avg_t = tap_average(KernelKind::Ntk, l);
    let k_new = sym(KernelKind::Nngp, l, true);
    let k_rhs = sq(sigma_w(l)) * avg_k.clone() + sq(sigma_b(l));
    let t_rhs = affine_ntk(
        l,
        c.parameterization,
        c.b_std.is_some(),
        avg_k,
        avg_t,
        k_new.clone().into(),
    );
    let filter: Vec<String> = c.filter.iter().map(|f| f.to_string()).collect();
    let window = match c.padding {
        Padding::Valid => "F = {0..f-1} per axis".to_string(),
        _ => "F centred on 0".to_string(),
    };
    let note = format!(
        "conv {}, {} padding, {window}{}",
        filter.join("x"),
        c.padding.name(),
        match c.parameterization {
            Parameterization::Ntk => "",
            Parameterization::Standard => ", standard parameterisation",
        }
    );
    vec![
        (k_new, k_rhs, note.clone()),
        (sym(KernelKind::Ntk, l, true), t_rhs, note),
    ]
}

fn readout_defs(l: usize, indexed: bool, pool: bool) -> Vec<(KernelSym, Expr, String)> {
    let note = if pool { "global_avg_pool" } else { "flatten" };
    [KernelKind::Nngp, KernelKind::Ntk]
        .into_iter()
        .map(|kind| {
            let rhs = if !indexed {
                sym(kind, l - 1, false).into()
            } else if pool {
                Expr::mean(
                    IndexVar::p(),
                    IndexSet::Sites,
                    Expr::mean(
                        IndexVar::p().prime(),
                        IndexSet::Sites,
                        KernelSym::new(kind, l - 1).at(p(), pp()).into(),
                    ),
                )
            } else {
                Expr::mean(
                    IndexVar::p(),
                    IndexSet::Sites,
                    KernelSym::new(kind, l - 1).at(p(), p()).into(),
                )
            };
            (KernelSym::new(kind, l), rhs, note.to_string())
        })
        .collect()
}

fn activation_defs(a: &Activation, l: usize, sites: Sites) -> Vec<(KernelSym, Expr, String)> {
    let [k11, k12, k22] = dual_args(l - 1, sites);
    let phi = activation_symbol(a);
    let t = Expr::dual(
        phi,
        k11.clone().into(),
        k12.clone().into(),
        k22.clone().into(),
    );
    let tdot = Expr::dual_dot(phi, k11.into(), k12.into(), k22.into());
    let note = activation_note(a);
    vec![
        (site_sym(KernelKind::Nngp, l, sites), t, note.clone()),
        (
            site_sym(KernelKind::Ntk, l, sites),
            tdot * site_sym(KernelKind::Ntk, l - 1, sites),
            note,
        ),
    ]
}

/// The lifting (MATH.md §5): `σ² (1/|F|) Σ_{δ∈F} M⁽ˡ⁻¹⁾[s(g,δ), s(g′,δ)]` with
/// `s(g,δ) = A_g δ` (no translations: `g` acting on the filter site δ) or `p + A_g δ`
/// (roto-translations); for SO(2) the full-support average at the rotated argument.
fn lift_defs(lift: &Lift, l: usize, input: &Shape, out: Sites) -> Vec<(KernelSym, Expr, String)> {
    let d = IndexVar::delta;
    let avg = |kind: KernelKind| -> Expr {
        let m = KernelSym::new(kind, l - 1);
        let m = match out {
            Sites::So2 if input.grid.is_empty() => {
                return m
                    .with_args(Arg::x(), Arg::x_prime().transformed(phi()))
                    .into()
            }
            Sites::So2 => m
                .at(Index::from(d()), Index::from(d()))
                .with_args(Arg::x(), Arg::x_prime().transformed(phi())),
            Sites::GroupGrid => m.at(p() + Index::act(g(), d()), pp() + Index::act(gp(), d())),
            _ => m.at(Index::act(g(), d()), Index::act(gp(), d())),
        };
        Expr::mean(d(), IndexSet::Filter, m.into())
    };
    let (avg_k, avg_t) = (avg(KernelKind::Nngp), avg(KernelKind::Ntk));
    let k_new = site_sym(KernelKind::Nngp, l, out);
    let k_rhs = sq(sigma_w(l)) * avg_k.clone() + sq(sigma_b(l));
    let t_rhs = affine_ntk(
        l,
        lift.parameterization,
        lift.b_std.is_some(),
        avg_k,
        avg_t,
        k_new.clone().into(),
    );
    let filter = match &lift.filter {
        LiftFilter::Full => "F = Ω (full support)".to_string(),
        LiftFilter::Window(w) => {
            let w: Vec<String> = w.iter().map(|q| q.to_string()).collect();
            format!("F = {} window", w.join("x"))
        }
    };
    let how = match out {
        Sites::So2 => ", φ = θ − θ′ the relative angle".to_string(),
        Sites::GroupGrid => format!(", {} padding", lift.padding.name()),
        _ => ", A_g δ = g·δ".to_string(),
    };
    let note = format!("lift to {}, {filter}{how}", lift.group);
    vec![
        (k_new, k_rhs, note.clone()),
        (site_sym(KernelKind::Ntk, l, out), t_rhs, note),
    ]
}

/// The group convolution (MATH.md §5): `(1/(|H| |F|)) Σ_{h∈H} Σ_{δ∈F} M[(g h, p + A_g δ),
/// (g′ h, p′ + A_g′ δ)]`, without the spatial part when there are no positions; on SO(2) the
/// integral over the whole circle of a function of `θ − θ′` is that function itself.
fn group_conv_defs(c: &GroupConv, l: usize, sites: Sites) -> Vec<(KernelSym, Expr, String)> {
    let avg = |kind: KernelKind| -> Expr {
        let m = KernelSym::new(kind, l - 1);
        match sites {
            Sites::GroupGrid => Expr::mean(
                IndexVar::h(),
                IndexSet::Support,
                Expr::mean(
                    IndexVar::delta(),
                    IndexSet::Filter,
                    m.at(
                        Index::pair(g() * h(), p() + Index::act(g(), delta())),
                        Index::pair(gp() * h(), pp() + Index::act(gp(), delta())),
                    )
                    .into(),
                ),
            ),
            Sites::So2 => site_sym(kind, l - 1, sites).into(),
            _ => Expr::mean(
                IndexVar::h(),
                IndexSet::Support,
                m.at(g() * h(), gp() * h()).into(),
            ),
        }
    };
    let (avg_k, avg_t) = (avg(KernelKind::Nngp), avg(KernelKind::Ntk));
    let k_new = site_sym(KernelKind::Nngp, l, sites);
    let k_rhs = sq(sigma_w(l)) * avg_k.clone() + sq(sigma_b(l));
    let t_rhs = affine_ntk(
        l,
        c.parameterization,
        c.b_std.is_some(),
        avg_k,
        avg_t,
        k_new.clone().into(),
    );
    let support = match &c.support {
        None => "H = G".to_string(),
        Some(s) => {
            let s: Vec<String> = s.iter().map(|h| h.to_string()).collect();
            format!("H = {{{}}}", s.join(", "))
        }
    };
    let note = match (sites, &c.filter) {
        (Sites::So2, _) => "group_conv over the whole circle".to_string(),
        (_, Some(f)) => {
            let f: Vec<String> = f.iter().map(|q| q.to_string()).collect();
            format!(
                "group_conv, {support}, F = {} window, {} padding",
                f.join("x"),
                c.padding.name()
            )
        }
        _ => format!("group_conv, {support}"),
    };
    vec![
        (k_new, k_rhs, note.clone()),
        (site_sym(KernelKind::Ntk, l, sites), t_rhs, note),
    ]
}

/// Group pooling (and `global_avg_pool`, `flatten` of features on a group): the mean over all
/// pairs of sites `(g, p), (g′, p′)` (the diagonal only for `flatten`); on SO(2) the zero
/// Fourier mode `(1/2π) ∫ dφ M(x, ρ(φ)x′)`, written as the mean over `φ ∈ G`.
fn group_readout_defs(
    l: usize,
    sites: Sites,
    diagonal: bool,
    note: &str,
) -> Vec<(KernelSym, Expr, String)> {
    [KernelKind::Nngp, KernelKind::Ntk]
        .into_iter()
        .map(|kind| {
            let m = KernelSym::new(kind, l - 1);
            let rhs = match (sites, diagonal) {
                (Sites::So2, _) => {
                    Expr::mean(phi(), IndexSet::Group, site_sym(kind, l - 1, sites).into())
                }
                (Sites::GroupGrid, false) => {
                    let inner = m.at(Index::pair(g(), p()), Index::pair(gp(), pp()));
                    Expr::mean(
                        IndexVar::g(),
                        IndexSet::Group,
                        Expr::mean(
                            IndexVar::g().prime(),
                            IndexSet::Group,
                            Expr::mean(
                                IndexVar::p(),
                                IndexSet::Sites,
                                Expr::mean(IndexVar::p().prime(), IndexSet::Sites, inner.into()),
                            ),
                        ),
                    )
                }
                (Sites::GroupGrid, true) => Expr::mean(
                    IndexVar::g(),
                    IndexSet::Group,
                    Expr::mean(
                        IndexVar::p(),
                        IndexSet::Sites,
                        m.at(Index::pair(g(), p()), Index::pair(g(), p())).into(),
                    ),
                ),
                (_, false) => Expr::mean(
                    IndexVar::g(),
                    IndexSet::Group,
                    Expr::mean(
                        IndexVar::g().prime(),
                        IndexSet::Group,
                        m.at(g(), gp()).into(),
                    ),
                ),
                (_, true) => Expr::mean(IndexVar::g(), IndexSet::Group, m.at(g(), g()).into()),
            };
            let note = match sites {
                Sites::So2 => format!("{note}: zero mode over the relative angle φ ∈ SO(2)"),
                _ => note.to_string(),
            };
            (KernelSym::new(kind, l), rhs, note)
        })
        .collect()
}

fn activation_note(a: &Activation) -> String {
    let how = if a.has_closed_form() {
        "closed form"
    } else {
        "quadrature"
    };
    let params = match *a {
        Activation::LeakyRelu { alpha } => format!(" alpha = {alpha}"),
        Activation::AbRelu { a, b } => format!(" a = {a}, b = {b}"),
        Activation::Erf { a, b, c } | Activation::Sin { a, b, c } => {
            format!(" a = {a}, b = {b}, c = {c}")
        }
        _ => String::new(),
    };
    format!("{}{params} ({how})", a.name())
}

/// The definitions layer `l` (1-based) contributes, for features of shape `input` entering
/// it: `K⁽ˡ⁾` then `Θ⁽ˡ⁾`, with `T_φ`, `Ṫ_φ` kept as symbols (see the module docs for the
/// formulas). Absent or zero biases are simplified away, and for `l = 1` the input NTK
/// `Θ⁽⁰⁾ = 0` is substituted.
///
/// Errors if the layer does not fit `input` or `l = 0`. Every layer kind of [`Layer`] has a
/// derivation; a new kind must add its arm here.
pub fn derive_layer(layer: &Layer, l: usize, input: &Shape) -> Result<Vec<Definition>> {
    if l == 0 {
        return Err(Error::Invalid(
            "layers are numbered from 1 (layer 0 is the input)".into(),
        ));
    }
    layer
        .output_shape(input)
        .map_err(|m| Error::Spec(format!("layer {l} ({}): {m}", layer.kind())))?;
    let sites = Sites::of(input);
    let indexed = sites == Sites::Grid;
    let lifted = matches!(sites, Sites::Group | Sites::GroupGrid | Sites::So2);
    let (raw, assumptions) = match layer {
        Layer::Dense(d) => (dense_defs(d, l, sites), affine_assumptions(l, d.b_std)),
        Layer::Conv(c) => (conv_defs(c, l), affine_assumptions(l, c.b_std)),
        Layer::Flatten(_) if lifted => (
            group_readout_defs(l, sites, true, "flatten"),
            Assumptions::new(),
        ),
        Layer::GlobalAvgPool(_) if lifted => (
            group_readout_defs(l, sites, false, "global_avg_pool"),
            Assumptions::new(),
        ),
        Layer::Flatten(_) => (readout_defs(l, indexed, false), Assumptions::new()),
        Layer::GlobalAvgPool(_) => (readout_defs(l, indexed, true), Assumptions::new()),
        Layer::Activation(a) => (activation_defs(a, l, sites), Assumptions::new()),
        Layer::Lift(lift) => {
            let out = match lift.group {
                GroupSpec::So2 { .. } => Sites::So2,
                GroupSpec::P4(_) | GroupSpec::P4m(_) => Sites::GroupGrid,
                _ => Sites::Group,
            };
            (
                lift_defs(lift, l, input, out),
                affine_assumptions(l, lift.b_std),
            )
        }
        Layer::GroupConv(c) => (group_conv_defs(c, l, sites), affine_assumptions(l, c.b_std)),
        Layer::GroupPool(_) => (
            group_readout_defs(l, sites, false, "group_pool"),
            Assumptions::new(),
        ),
    };
    Ok(raw
        .into_iter()
        .map(|(name, rhs, note)| {
            let rhs = if l == 1 {
                rhs.substitute_kernels(&|k| {
                    (k.layer == 0 && k.kind == KernelKind::Ntk).then(|| Expr::num(0.0))
                })
            } else {
                rhs
            };
            Definition {
                name,
                rhs: rhs.normalize(&assumptions),
                layer: l,
                note,
            }
        })
        .collect())
}

/// The closed form of the dual activation of `a` as `(T, Ṫ)` in the placeholders
/// `k₁₁, k₁₂, k₂₂` ([`Param::k`]), or `None` when it is computed by quadrature. With
/// `θ = arccos(k₁₂/√(k₁₁ k₂₂))` (MATH.md §3):
///
/// * ABReLU `a·min(x,0) + b·max(x,0)` (ReLU `a=0, b=1`; LeakyReLU `a=α, b=1`; |x| `a=−1, b=1`;
///   identity `a=b=1`): `Ṫ = (a²+b²)/2 − (a−b)² θ/(2π)`,
///   `T = (a−b)² √(k₁₁k₂₂ − k₁₂²)/(2π) + Ṫ k₁₂`;
/// * Erf `a·erf(bx) + c`: `T = a² (2/π) arcsin(2b² k₁₂/√((1+2b²k₁₁)(1+2b²k₂₂))) + c²`,
///   `Ṫ = a² (4b²/π) ((1+2b²k₁₁)(1+2b²k₂₂) − 4b⁴k₁₂²)^{−1/2}`;
/// * Sin `a·sin(bx + c)`: `T = (a²/2)(e₋ − cos(2c) e₊)`, `Ṫ = (a²b²/2)(e₋ + cos(2c) e₊)` with
///   `e∓ = exp(−b²(k₁₁ + k₂₂ ∓ 2k₁₂)/2)`.
///
/// The activation's parameters enter as numbers; the result is in normal form.
pub fn dual_closed_form(a: &Activation) -> Option<(Expr, Expr)> {
    let k11 = || Expr::from(Param::k(1, 1));
    let k12 = || Expr::from(Param::k(1, 2));
    let k22 = || Expr::from(Param::k(2, 2));
    let ab = |a: f64, b: f64| {
        let theta = (k12() / (k11() * k22()).sqrt()).arccos();
        let d2 = (a - b) * (a - b);
        let tdot = Expr::num(0.5 * (a * a + b * b)) - Expr::num(d2) * theta / (2.0 * Expr::pi());
        let t = Expr::num(d2) * (k11() * k22() - k12().squared()).sqrt() / (2.0 * Expr::pi())
            + tdot.clone() * k12();
        (t, tdot)
    };
    let (t, tdot) = match *a {
        Activation::Relu => ab(0.0, 1.0),
        Activation::LeakyRelu { alpha } => ab(alpha, 1.0),
        Activation::AbRelu { a, b } => ab(a, b),
        Activation::Abs => ab(-1.0, 1.0),
        Activation::Identity => (k12(), Expr::num(1.0)),
        Activation::Erf { a, b, c } => {
            let b2 = 2.0 * b * b;
            let p1 = 1.0 + Expr::num(b2) * k11();
            let p2 = 1.0 + Expr::num(b2) * k22();
            let t = Expr::num(a * a * 2.0) / Expr::pi()
                * (Expr::num(b2) * k12() / (p1.clone() * p2.clone()).sqrt()).arcsin()
                + c * c;
            let radicand = p1 * p2 - Expr::num(b2 * b2) * k12().squared();
            let tdot = Expr::num(a * a * 2.0 * b2) / Expr::pi() * radicand.sqrt().powi(-1);
            (t, tdot)
        }
        Activation::Sin { a, b, c } => {
            let e = |sign: f64| {
                (Expr::num(-0.5 * b * b) * (k11() + k22() + Expr::num(2.0 * sign) * k12())).exp()
            };
            let cos2c = Expr::num(2.0 * c).cos();
            let t = Expr::num(0.5 * a * a) * (e(-1.0) - cos2c.clone() * e(1.0));
            let tdot = Expr::num(0.5 * a * a * b * b) * (e(-1.0) + cos2c * e(1.0));
            (t, tdot)
        }
        Activation::Tanh | Activation::Gelu | Activation::Sigmoid | Activation::Softplus => {
            return None
        }
    };
    let none = Assumptions::new();
    Some((t.normalize(&none), tdot.normalize(&none)))
}

/// `defs` with `T_φ`, `Ṫ_φ` of activation `a` replaced by their closed forms (if any), in normal
/// form. For the identity this gives `K⁽ˡ⁾ = K⁽ˡ⁻¹⁾`, `Θ⁽ˡ⁾ = Θ⁽ˡ⁻¹⁾`.
pub fn closed_forms(defs: &[Definition], a: &Activation) -> Vec<Definition> {
    let Some((t, tdot)) = dual_closed_form(a) else {
        return defs.to_vec();
    };
    let none = Assumptions::new();
    defs.iter()
        .map(|d| Definition {
            rhs: d
                .rhs
                .substitute_duals(&|f| {
                    Some(if f.derivative {
                        tdot.clone()
                    } else {
                        t.clone()
                    })
                })
                .normalize(&none),
            ..d.clone()
        })
        .collect()
}
