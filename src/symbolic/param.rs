//! Named scalars: hyper-parameters (`σ_w`, `σ_b`, `a`, `b`, `α`, …) and placeholders (`k₁₁`, …).

/// A name in the three output formats: LaTeX, Unicode and plain ASCII.
///
/// Ordering and equality use all three spellings, plain first, so that sorting is stable
/// across formats.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name {
    /// ASCII spelling, e.g. `sigma_w`.
    pub plain: String,
    /// Unicode spelling, e.g. `σ_w`.
    pub unicode: String,
    /// LaTeX spelling (math mode), e.g. `\sigma_w`.
    pub latex: String,
}

impl Name {
    /// A name with its three spellings.
    pub fn new(plain: &str, unicode: &str, latex: &str) -> Self {
        Self {
            plain: plain.to_string(),
            unicode: unicode.to_string(),
            latex: latex.to_string(),
        }
    }

    /// A name spelt the same in all three formats (an ASCII letter such as `a`).
    pub fn same(name: &str) -> Self {
        Self::new(name, name, name)
    }

    /// The name with a prime appended (`p` → `p'`), as used for the second site of a pair.
    pub fn primed(&self) -> Self {
        Self {
            plain: format!("{}'", self.plain),
            unicode: format!("{}'", self.unicode),
            latex: format!("{}'", self.latex),
        }
    }
}

/// A named real scalar in a formula: a hyper-parameter such as `σ_w`, or a placeholder such as
/// `k₁₁` in a closed-form dual activation. Its value comes from [`Assumptions`] (in the normal
/// form) or from an [`Env`] (in evaluation).
///
/// [`Assumptions`]: super::Assumptions
/// [`Env`]: super::Env
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Param(pub Name);

impl Param {
    /// A parameter with explicit spellings: `Param::new("sigma_w", "σ_w", r"\sigma_w")`.
    pub fn new(plain: &str, unicode: &str, latex: &str) -> Self {
        Self(Name::new(plain, unicode, latex))
    }

    /// A parameter spelt the same everywhere, e.g. `Param::named("a")`.
    pub fn named(name: &str) -> Self {
        Self(Name::same(name))
    }

    /// The weight scale `σ_w`.
    pub fn sigma_w() -> Self {
        Self::new("sigma_w", "σ_w", r"\sigma_w")
    }

    /// The bias scale `σ_b`.
    pub fn sigma_b() -> Self {
        Self::new("sigma_b", "σ_b", r"\sigma_b")
    }

    /// The leaky-ReLU slope `α`.
    pub fn alpha() -> Self {
        Self::new("alpha", "α", r"\alpha")
    }

    /// The angle `θ` (e.g. `θ = arccos ρ` in the arc-cosine kernel).
    pub fn theta() -> Self {
        Self::new("theta", "θ", r"\theta")
    }

    /// The entry `k_{ij}` of a 2×2 covariance (`i, j ∈ {1, 2}`), placeholder for closed-form
    /// dual activations `T(k₁₁, k₁₂, k₂₂)`.
    pub fn k(i: u8, j: u8) -> Self {
        const SUB: [&str; 10] = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"];
        Self::new(
            &format!("k{i}{j}"),
            &format!("k{}{}", SUB[(i % 10) as usize], SUB[(j % 10) as usize]),
            &format!("k_{{{i}{j}}}"),
        )
    }

    /// The plain spelling.
    pub fn plain(&self) -> &str {
        &self.0.plain
    }
}
