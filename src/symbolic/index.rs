//! Index expressions: sites `p, p'`, group elements `g, g', h`, filter offsets `δ`, and the
//! operations between them (`p + δ`, `g h`, `g⁻¹`, `A_g δ`, the pair `(g, p)`).

use super::param::Name;

/// A named index variable (`p`, `p'`, `g`, `h`, `δ`, …). Its value is bound by a sum or by the
/// left-hand side of a definition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IndexVar(pub Name);

impl IndexVar {
    /// A variable with explicit spellings.
    pub fn new(plain: &str, unicode: &str, latex: &str) -> Self {
        Self(Name::new(plain, unicode, latex))
    }
    /// The site (position) `p`.
    pub fn p() -> Self {
        Self(Name::same("p"))
    }
    /// A group element `g`.
    pub fn g() -> Self {
        Self(Name::same("g"))
    }
    /// An element `h` of the support `H` of a group convolution.
    pub fn h() -> Self {
        Self(Name::same("h"))
    }
    /// A filter offset `δ` (plain `d`).
    pub fn delta() -> Self {
        Self::new("d", "δ", r"\delta")
    }
    /// The same variable primed: `p` → `p'`.
    pub fn prime(&self) -> Self {
        Self(self.0.primed())
    }
}

/// The index sets a sum can range over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexSet {
    /// `F`: the offsets of a filter (a window of offsets centred on 0, or all sites).
    Filter,
    /// `G`: all elements of the group.
    Group,
    /// `H ⊆ G`: the point-group support of a group convolution.
    Support,
    /// `Ω`: the sites (positions) of a feature map.
    Sites,
}

impl IndexSet {
    /// The set's name in one of the three spellings (`F`, `G`, `H`, `Ω` / `\Omega` / `Omega`).
    pub fn name(self) -> Name {
        match self {
            IndexSet::Filter => Name::same("F"),
            IndexSet::Group => Name::same("G"),
            IndexSet::Support => Name::same("H"),
            IndexSet::Sites => Name::new("Omega", "Ω", r"\Omega"),
        }
    }
}

/// An index expression.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Index {
    /// A variable.
    Var(IndexVar),
    /// `a + b`: translation of a site by an offset (coordinate-wise).
    Add(Box<Index>, Box<Index>),
    /// `g h`: the group product.
    Mul(Box<Index>, Box<Index>),
    /// `g⁻¹`: the group inverse.
    Inv(Box<Index>),
    /// `A_g δ`: the point-group element `g` acting on the offset `δ` (for a group without
    /// translations, `g·δ`: the element acting on a site).
    Act(Box<Index>, Box<Index>),
    /// `(g, p)`: a site of a feature map on a group (element and position).
    Pair(Box<Index>, Box<Index>),
    /// `s p`: a site scaled by a stride (coordinate-wise), where a strided layer's output site
    /// `p` starts its window in the input. The factors are either one stride `s ≥ 2` for every
    /// axis (printed `2*p`) or one stride `≥ 1` per axis, not all equal (printed `(1,2)*p`,
    /// the coordinate-wise product `(p₁, 2p₂)`); [`Index::scaled_axes`] keeps this form.
    Scale(Vec<u32>, Box<Index>),
}

impl Index {
    /// `A_g δ`.
    pub fn act(g: impl Into<Index>, delta: impl Into<Index>) -> Self {
        Index::Act(Box::new(g.into()), Box::new(delta.into()))
    }
    /// `(g, p)`.
    pub fn pair(g: impl Into<Index>, p: impl Into<Index>) -> Self {
        Index::Pair(Box::new(g.into()), Box::new(p.into()))
    }
    /// `s p`: the site scaled by the stride `s` on every axis (the index itself for `s = 1`).
    pub fn scaled(self, s: u32) -> Self {
        self.scaled_axes(&[s])
    }
    /// `(s₁,…,s_d) ⊙ p`: the site scaled by the stride `s_i` on axis `i`; one stride for every
    /// axis when they are all equal (`2*p`), the index itself when that stride is 1.
    pub fn scaled_axes(self, s: &[u32]) -> Self {
        match s {
            _ if s.iter().all(|&k| k == 1) => self,
            [k, rest @ ..] if rest.iter().all(|r| r == k) => Index::Scale(vec![*k], Box::new(self)),
            _ => Index::Scale(s.to_vec(), Box::new(self)),
        }
    }
    /// `g⁻¹`.
    pub fn inv(self) -> Self {
        Index::Inv(Box::new(self))
    }
    /// Whether the variable `v` occurs in this index.
    pub fn mentions(&self, v: &IndexVar) -> bool {
        match self {
            Index::Var(w) => w == v,
            Index::Inv(a) | Index::Scale(_, a) => a.mentions(v),
            Index::Add(a, b) | Index::Mul(a, b) | Index::Act(a, b) | Index::Pair(a, b) => {
                a.mentions(v) || b.mentions(v)
            }
        }
    }
    /// Replace every occurrence of variable `v` by `by`.
    pub fn substitute(&self, v: &IndexVar, by: &Index) -> Index {
        let s = |a: &Index| Box::new(a.substitute(v, by));
        match self {
            Index::Var(w) if w == v => by.clone(),
            Index::Var(_) => self.clone(),
            Index::Inv(a) => Index::Inv(s(a)),
            Index::Scale(k, a) => Index::Scale(k.clone(), s(a)),
            Index::Add(a, b) => Index::Add(s(a), s(b)),
            Index::Mul(a, b) => Index::Mul(s(a), s(b)),
            Index::Act(a, b) => Index::Act(s(a), s(b)),
            Index::Pair(a, b) => Index::Pair(s(a), s(b)),
        }
    }
}

impl From<IndexVar> for Index {
    fn from(v: IndexVar) -> Self {
        Index::Var(v)
    }
}

impl From<&IndexVar> for Index {
    fn from(v: &IndexVar) -> Self {
        Index::Var(v.clone())
    }
}

impl<T: Into<Index>> std::ops::Add<T> for Index {
    type Output = Index;
    /// `p + δ`.
    fn add(self, rhs: T) -> Index {
        Index::Add(Box::new(self), Box::new(rhs.into()))
    }
}

impl<T: Into<Index>> std::ops::Mul<T> for Index {
    type Output = Index;
    /// The group product `g h`.
    fn mul(self, rhs: T) -> Index {
        Index::Mul(Box::new(self), Box::new(rhs.into()))
    }
}

/// The value of an index in evaluation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexValue {
    /// A site or an offset: integer coordinates on the grid (one per spatial axis). Sums such
    /// as `p + δ` are *not* wrapped; the environment's `resolve` decides what a site outside
    /// the grid means (wrap for circular padding, zero for same padding).
    Point(Vec<i64>),
    /// A group element, by its index in the group's table.
    Elem(usize),
    /// A site `(g, p)` of a feature map on a group.
    Pair(Box<IndexValue>, Box<IndexValue>),
}

impl IndexValue {
    /// A one-dimensional site or offset.
    pub fn point1(i: i64) -> Self {
        IndexValue::Point(vec![i])
    }
    /// The pair `(a, b)`.
    pub fn pair(a: IndexValue, b: IndexValue) -> Self {
        IndexValue::Pair(Box::new(a), Box::new(b))
    }
}
