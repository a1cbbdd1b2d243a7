//! Symbolic kernel formulas: expressions, a canonical normal form, printing and evaluation.
//!
//! # Notation
//!
//! | symbol | meaning | LaTeX | plain |
//! |---|---|---|---|
//! | `K⁽ˡ⁾[s,s'](x,x′)` | NNGP kernel of layer `l` at sites `s, s'` | `K^{(l)}_{s,s'}(x,x')` | `Kl[s,s'](x,x')` |
//! | `Θ⁽ˡ⁾[s,s'](x,x′)` | neural tangent kernel | `\Theta^{(l)}_{s,s'}(x,x')` | `Thetal[s,s'](x,x')` |
//! | `K⁽⁰⁾` | input kernel `(1/C) Σ_c x[s,c] x'[s',c]` | | |
//! | `ρ(g) x′` | the input transformed by `g` | `\rho(g)x'` | `rho(g)x'` |
//! | `p, p'` | sites (positions) | | |
//! | `g, g', h` | group elements; `g h` product, `g⁻¹` inverse | `g h`, `g^{-1}` | `g*h`, `g^-1` |
//! | `δ` | filter offset; `p + δ` translated site | `\delta` | `d` |
//! | `A_g δ` | point-group element `g` acting on an offset | `A_{g}\delta` | `A_g(d)` |
//! | `F, G, H, Ω` | filter offsets, group, support, sites; `\|F\|` their sizes | `F`, `\Omega` | `Omega` |
//! | `Σ_{δ∈F}` | sum over a set | `\sum_{\delta\in F}` | `sum_{d in F}` |
//! | `σ_w, σ_b` | weight and bias scales | `\sigma_w`, `\sigma_b` | `sigma_w`, `sigma_b` |
//! | `T_φ, Ṫ_φ` | dual activation and its derivative kernel, arguments `(k₁₁, k₁₂, k₂₂)` | `T_{\mathrm{φ}}`, `\dot{T}_{\mathrm{φ}}` | `T_phi`, `Tdot_phi` |
//!
//! For example the dense layer of MATH.md §2 is
//!
//! ```text
//! LaTeX:   K^{(1)}(x,x') = \sigma_w^2 K^{(0)}(x,x') + \sigma_b^2
//! Unicode: K⁽¹⁾(x,x′) = σ_w² K⁽⁰⁾(x,x′) + σ_b²
//! plain:   K1(x,x') = sigma_w^2*K0(x,x') + sigma_b^2
//! ```
//!
//! # Pieces
//!
//! * [`Expr`] — numbers, `π`, parameters, `|S|`, kernel symbols, functions (`√`, `arccos`,
//!   `arcsin`, `sin`, `cos`, `erf`, `exp`, `T_φ`, `Ṫ_φ`), powers, products, sums of terms and
//!   index sums. Build with operators: `σ_w² K + σ_b²` is
//!   `Expr::from(Param::sigma_w()).squared() * KernelSym::nngp(0) + Expr::from(Param::sigma_b()).squared()`.
//! * [`Expr::normalize`] — the canonical form (rules in `normal`).
//! * [`Expr::render`] with a [`Format`] — LaTeX, Unicode, plain.
//! * [`Expr::eval`] in an [`Env`] — numbers from parameters, index sets, a group
//!   ([`GroupOps`]), kernel lookups and dual activations; [`SimpleEnv`] builds one.
//! * [`Derivation`] — named definitions layer by layer; [`Derivation::evaluate`] interprets
//!   them into a [`KernelTable`]; [`Derivation::inline`] substitutes them into a formula.
//! * [`Derivation::named`] — the same definitions written with the intermediates a paper
//!   names, the correlation `ρ⁽ˡ⁾` and the angle `θ⁽ˡ⁾ = arccos ρ⁽ˡ⁾` (how the LaTeX prints
//!   them; the formulas themselves are unchanged).
//!
//! ```
//! use eqntk::symbolic::{Assumptions, Expr, KernelSym, Param};
//! let sw2 = Expr::from(Param::sigma_w()).squared();
//! let sb2 = Expr::from(Param::sigma_b()).squared();
//! let k1 = sw2 * KernelSym::nngp(0) + sb2;
//! assert_eq!(k1.to_latex(), r"\sigma_w^2 K^{(0)}(x,x') + \sigma_b^2");
//! let no_bias = Assumptions::new().with_zero(Param::sigma_b());
//! assert_eq!(k1.normalize(&no_bias).to_plain(), "sigma_w^2*K0(x,x')");
//! ```

pub(crate) mod collapse;
pub(crate) mod derivation;
pub(crate) mod diff;
pub(crate) mod entries;
pub(crate) mod eval;
pub(crate) mod expr;
pub(crate) mod index;
pub(crate) mod interpret;
pub(crate) mod kernel_sym;
pub(crate) mod layers;
pub(crate) mod named;
pub(crate) mod network;
pub(crate) mod normal;
pub(crate) mod param;
pub(crate) mod parse;
pub(crate) mod print;
pub(crate) mod slots;
pub(crate) mod sympy;

pub use crate::layer::activation::{closed_forms, dual_closed_form};
pub use collapse::{
    collapse_derivation, collapse_lifting, collapse_network, collapse_pool, lifting_facts,
    reduce_word, LiftingFacts, NotApplicable,
};
pub use derivation::{Definition, Derivation, KernelTable};
pub use eval::{erf, ArgValue, CayleyTable, Env, GroupOps, KernelAt, Scope, SimpleEnv};
pub use expr::{DualFn, Expr, Func};
pub use index::{Index, IndexSet, IndexValue, IndexVar};
pub use interpret::evaluate_network;
pub use kernel_sym::{Arg, Example, KernelKind, KernelSym};
pub use layers::{derive_layer, LayerDefinitions};
pub use named::{Intermediate, IntermediateKind, NamedDerivation, NamedLine};
pub use network::{derive_network, NetworkDerivation};
pub use normal::Assumptions;
pub use param::{Name, Param};
pub(crate) use parse::parse_bindings;
pub use parse::{canonical_param, parse_derivation, parse_expr, Names};
pub use print::{compact_number, Format};
pub use sympy::to_sympy;
