//! Per-layer derivations: every layer kind of the engine states its `(K, Θ)` recursion as
//! definitions (MATH.md §2–4), in its own file ([`crate::layer::LayerKind::derive`]), with the
//! vocabulary of this module: the parameters `σ_{w,l}`, `σ_{b,l}`, `n_l`, the index conventions
//! of each kind of site ([`Sites`]) and the affine recursion shared by every affine kind.
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
use crate::layer::{Layer, Parameterization, Shape, Weights};

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

pub(crate) fn p() -> Index {
    Index::Var(IndexVar::p())
}

pub(crate) fn pp() -> Index {
    Index::Var(IndexVar::p().prime())
}

pub(crate) fn delta() -> Index {
    Index::Var(IndexVar::delta())
}

/// How the features entering a layer are indexed, which fixes the indices of its kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sites {
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
    pub(crate) fn of(s: &Shape) -> Self {
        match (s.lifted, s.grid.is_empty()) {
            (None, true) => Sites::Vector,
            (None, false) => Sites::Grid,
            (Some(GroupSpec::So2 { .. }), _) => Sites::So2,
            (Some(_), true) => Sites::Group,
            (Some(_), false) => Sites::GroupGrid,
        }
    }
}

pub(crate) fn g() -> Index {
    Index::Var(IndexVar::g())
}

pub(crate) fn gp() -> Index {
    Index::Var(IndexVar::g().prime())
}

pub(crate) fn h() -> Index {
    Index::Var(IndexVar::h())
}

/// The relative angle `φ` of SO(2) features.
pub fn phi() -> IndexVar {
    IndexVar::new("phi", "φ", r"\varphi")
}

/// `K⁽ˡ⁾` or `Θ⁽ˡ⁾` at the generic pair of sites of features indexed as `sites`.
pub(crate) fn site_sym(kind: KernelKind, l: usize, sites: Sites) -> KernelSym {
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
pub(crate) fn sym(kind: KernelKind, l: usize, indexed: bool) -> KernelSym {
    site_sym(kind, l, if indexed { Sites::Grid } else { Sites::Vector })
}

/// The three kernels a nonlinearity reads, `(k₁₁, k₁₂, k₂₂)`, for features indexed as `sites`.
pub(crate) fn dual_args(l: usize, sites: Sites) -> [KernelSym; 3] {
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

pub(crate) fn sq(p: Param) -> Expr {
    Expr::from(p).squared()
}

/// `σ²_w` and `σ²_b` of an affine layer, with what is known about them: the bias vanishes when
/// it is absent or zero.
pub(crate) fn affine_assumptions(l: usize, b_std: Option<f64>) -> Assumptions {
    match b_std {
        Some(b) if b != 0.0 => Assumptions::new(),
        _ => Assumptions::new().with_zero(sigma_b(l)),
    }
}

/// The NTK term of an affine layer: `σ_w² A[Θ] + K'` (NTK parameterisation) or
/// `n A[K] + σ_w² A[Θ] + [bias]` (standard).
pub(crate) fn affine_ntk(
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

pub(crate) fn readout_defs(l: usize, indexed: bool, pool: bool) -> Vec<(KernelSym, Expr, String)> {
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

/// Group pooling (and `global_avg_pool`, `flatten` of features on a group): the mean over all
/// pairs of sites `(g, p), (g′, p′)` (the diagonal only for `flatten`); on SO(2) the zero
/// Fourier mode `(1/2π) ∫ dφ M(x, ρ(φ)x′)`, written as the mean over `φ ∈ G`.
pub(crate) fn group_readout_defs(
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

/// The raw recursion of one layer: definitions `(name, rhs, note)` in layer order (`K⁽ˡ⁾`
/// then `Θ⁽ˡ⁾`), and what is known of the layer's parameters (e.g. `σ_{b,l} = 0`).
pub struct LayerDefinitions {
    /// `(K⁽ˡ⁾ or Θ⁽ˡ⁾ at its indices, right-hand side, note)`.
    pub defs: Vec<(KernelSym, Expr, String)>,
    /// Facts used to simplify the right-hand sides.
    pub assumptions: Assumptions,
}

impl LayerDefinitions {
    /// Definitions with no assumptions.
    pub fn new(defs: Vec<(KernelSym, Expr, String)>) -> Self {
        Self {
            defs,
            assumptions: Assumptions::new(),
        }
    }
}

/// The recursion of an affine layer `l` whose tap average of the incoming kernels is
/// `avg(kind)`: `K⁽ˡ⁾ = σ_{w,l}² avg(K) + σ_{b,l}²` and the NTK term of [`affine_ntk`], both
/// defined at the output indices of `out` and annotated with `note`.
pub(crate) fn affine_defs(
    l: usize,
    weights: &Weights,
    out: Sites,
    avg: impl Fn(KernelKind) -> Expr,
    note: String,
) -> LayerDefinitions {
    let (avg_k, avg_t) = (avg(KernelKind::Nngp), avg(KernelKind::Ntk));
    let k_new = site_sym(KernelKind::Nngp, l, out);
    let k_rhs = sq(sigma_w(l)) * avg_k.clone() + sq(sigma_b(l));
    let t_rhs = affine_ntk(
        l,
        weights.parameterization,
        weights.b_std.is_some(),
        avg_k,
        avg_t,
        k_new.clone().into(),
    );
    LayerDefinitions {
        defs: vec![
            (k_new, k_rhs, note.clone()),
            (site_sym(KernelKind::Ntk, l, out), t_rhs, note),
        ],
        assumptions: affine_assumptions(l, weights.b_std),
    }
}

/// The definitions layer `l` (1-based) contributes, for features of shape `input` entering
/// it: `K⁽ˡ⁾` then `Θ⁽ˡ⁾`, with `T_φ`, `Ṫ_φ` kept as symbols (see the module docs for the
/// formulas). Absent or zero biases are simplified away, and for `l = 1` the input NTK
/// `Θ⁽⁰⁾ = 0` is substituted.
///
/// Errors if the layer does not fit `input` or `l = 0`. Each kind states its recursion in
/// [`crate::layer::LayerKind::derive`].
pub fn derive_layer(layer: &Layer, l: usize, input: &Shape) -> Result<Vec<Definition>> {
    derive_node(layer, l, l.saturating_sub(1), input)
}

/// [`derive_layer`] for layer `l` reading the kernels of layer `from` (the composite's input,
/// for the first layer of a branch; see [`crate::network::Node`]) instead of `l − 1`.
pub fn derive_node(layer: &Layer, l: usize, from: usize, input: &Shape) -> Result<Vec<Definition>> {
    if layer.branches().is_some() {
        return Err(Error::Invalid(format!(
            "layer {l} ({}) is composite: derive the network, which numbers the layers of its \
             branches",
            layer.kind()
        )));
    }
    if l == 0 {
        return Err(Error::Invalid(
            "layers are numbered from 1 (layer 0 is the input)".into(),
        ));
    }
    layer
        .output_shape(input)
        .map_err(|m| Error::Spec(format!("layer {l} ({}): {m}", layer.kind())))?;
    let LayerDefinitions { defs, assumptions } = layer.derive(l, input);
    Ok(defs
        .into_iter()
        .map(|(name, rhs, note)| {
            let rhs = if from + 1 != l {
                rhs.substitute_kernels(&|k| {
                    (k.layer + 1 == l).then(|| {
                        Expr::from(KernelSym {
                            layer: from,
                            ..k.clone()
                        })
                    })
                })
            } else {
                rhs
            };
            // Θ⁽⁰⁾ = 0: the input kernel carries no tangent kernel.
            let rhs = rhs.substitute_kernels(&|k| {
                (k.layer == 0 && k.kind == KernelKind::Ntk).then(|| Expr::num(0.0))
            });
            Definition {
                name,
                rhs: rhs.normalize(&assumptions),
                layer: l,
                note,
            }
        })
        .collect())
}
