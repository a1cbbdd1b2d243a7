//! Indexed kernel symbols `K^{(l)}_{s,s'}(x, x')` and `Θ^{(l)}_{s,s'}(x, x')`.

use super::index::{Index, IndexVar};

/// Which kernel a symbol names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KernelKind {
    /// The NNGP kernel `K`.
    Nngp,
    /// The neural tangent kernel `Θ`.
    Ntk,
}

/// One of the two examples of a kernel evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Example {
    /// The first example `x`.
    X,
    /// The second example `x'`.
    XPrime,
}

/// An argument of a kernel: an example, optionally transformed by the input action of a group
/// element, `ρ(g) x'`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arg {
    /// Which example.
    pub example: Example,
    /// `Some(g)` for `ρ(g) x`.
    pub transform: Option<Index>,
}

impl Arg {
    /// The untransformed example `x`.
    pub fn x() -> Self {
        Self {
            example: Example::X,
            transform: None,
        }
    }
    /// The untransformed example `x'`.
    pub fn x_prime() -> Self {
        Self {
            example: Example::XPrime,
            transform: None,
        }
    }
    /// `ρ(g)` applied to this argument (replacing any earlier transform).
    pub fn transformed(self, g: impl Into<Index>) -> Self {
        Self {
            transform: Some(g.into()),
            ..self
        }
    }
}

/// An indexed kernel symbol: `K^{(l)}_{s,s'}(x, x')` (NNGP) or `Θ^{(l)}_{s,s'}(x, x')` (NTK) of
/// layer `l` (layer 0 is the input kernel), with optional site indices and an optional tag
/// naming the network (`Θ_GCNN`, `Θ_MLP`) when two networks appear in one derivation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelSym {
    /// Layer `l`.
    pub layer: usize,
    /// `K` or `Θ`.
    pub kind: KernelKind,
    /// Network tag, e.g. `Some("GCNN")`.
    pub tag: Option<String>,
    /// The two example arguments, `(x, x')` by default.
    pub args: (Arg, Arg),
    /// The site indices `(s, s')`; `None` for a kernel without sites (after pooling, dense).
    pub idx: Option<(Index, Index)>,
}

impl KernelSym {
    /// `K^{(l)}(x, x')`.
    pub fn nngp(layer: usize) -> Self {
        Self::new(KernelKind::Nngp, layer)
    }
    /// `Θ^{(l)}(x, x')`.
    pub fn ntk(layer: usize) -> Self {
        Self::new(KernelKind::Ntk, layer)
    }
    /// A symbol of the given kind and layer with arguments `(x, x')` and no indices.
    pub fn new(kind: KernelKind, layer: usize) -> Self {
        Self {
            layer,
            kind,
            tag: None,
            args: (Arg::x(), Arg::x_prime()),
            idx: None,
        }
    }
    /// The same symbol at sites `(s, s')`.
    pub fn at(self, s: impl Into<Index>, s_prime: impl Into<Index>) -> Self {
        Self {
            idx: Some((s.into(), s_prime.into())),
            ..self
        }
    }
    /// The same symbol with other arguments, e.g. `(x, x)` for a self-covariance.
    pub fn with_args(self, a: Arg, b: Arg) -> Self {
        Self {
            args: (a, b),
            ..self
        }
    }
    /// The same symbol tagged with a network name.
    pub fn tagged(self, tag: &str) -> Self {
        Self {
            tag: Some(tag.to_string()),
            ..self
        }
    }
    /// The three kernels a nonlinearity reads at sites `(s, s')` of layer `l`:
    /// `k₁₁ = K^{(l)}_{s,s}(x,x)`, `k₁₂ = K^{(l)}_{s,s'}(x,x')`, `k₂₂ = K^{(l)}_{s',s'}(x',x')`
    /// (MATH.md §3), ready for [`Expr::dual`](super::Expr::dual).
    pub fn dual_args(
        layer: usize,
        s: impl Into<Index>,
        s_prime: impl Into<Index>,
    ) -> [KernelSym; 3] {
        let (s, t) = (s.into(), s_prime.into());
        [
            Self::nngp(layer)
                .at(s.clone(), s.clone())
                .with_args(Arg::x(), Arg::x()),
            Self::nngp(layer).at(s, t.clone()),
            Self::nngp(layer)
                .at(t.clone(), t)
                .with_args(Arg::x_prime(), Arg::x_prime()),
        ]
    }

    /// The three kernels a nonlinearity reads when the kernel has no sites:
    /// `K^{(l)}(x,x)`, `K^{(l)}(x,x')`, `K^{(l)}(x',x')`.
    pub fn dual_args_unindexed(layer: usize) -> [KernelSym; 3] {
        [
            Self::nngp(layer).with_args(Arg::x(), Arg::x()),
            Self::nngp(layer),
            Self::nngp(layer).with_args(Arg::x_prime(), Arg::x_prime()),
        ]
    }

    /// The symbol with every example renamed by `f` (transforms kept): `(x, x') ↦ (x, x)` for
    /// the self-covariance of `x`.
    pub fn map_examples(&self, f: impl Fn(Example) -> Example) -> Self {
        let m = |a: &Arg| Arg {
            example: f(a.example),
            transform: a.transform.clone(),
        };
        Self {
            args: (m(&self.args.0), m(&self.args.1)),
            ..self.clone()
        }
    }
    /// Whether index variable `v` occurs in the indices or argument transforms.
    pub fn mentions(&self, v: &IndexVar) -> bool {
        self.indices().any(|i| i.mentions(v))
    }
    /// Replace index variable `v` by `by` in the indices and transforms.
    pub fn substitute_index(&self, v: &IndexVar, by: &Index) -> Self {
        let arg = |a: &Arg| Arg {
            example: a.example,
            transform: a.transform.as_ref().map(|t| t.substitute(v, by)),
        };
        Self {
            args: (arg(&self.args.0), arg(&self.args.1)),
            idx: self
                .idx
                .as_ref()
                .map(|(a, b)| (a.substitute(v, by), b.substitute(v, by))),
            ..self.clone()
        }
    }
    /// All index expressions of the symbol: site indices then argument transforms.
    pub fn indices(&self) -> impl Iterator<Item = &Index> {
        self.idx
            .iter()
            .flat_map(|(a, b)| [a, b])
            .chain(self.args.0.transform.iter())
            .chain(self.args.1.transform.iter())
    }
}
