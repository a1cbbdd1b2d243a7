//! A definition's right-hand side in the form the interpreter walks: the same tree of sums,
//! products, powers, functions and kernel symbols as the printed [`Expr`], term for term and in
//! the same order, with its index variables numbered (a slot each instead of a name looked up
//! in a scope), its parameters read once, and its index values inline ([`Val`], no heap). So an
//! entry costs a walk of the formula, not a walk plus an allocation per index.

use super::expr::{DualFn, Expr, Func};
use super::index::{Index, IndexSet, IndexValue, IndexVar};
use super::kernel_sym::{Example, KernelKind, KernelSym};
use super::param::Param;
use crate::error::{Error, Result};

/// The most grid axes a site has (inputs are at most `[H, W, C]`; one spare).
pub(crate) const MAX_AXES: usize = 3;

/// A grid point or offset with its coordinates inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pt {
    len: usize,
    c: [i64; MAX_AXES],
}

impl Pt {
    /// The point with coordinates `c` (at most [`MAX_AXES`]).
    pub(crate) fn new(c: &[i64]) -> Result<Self> {
        if c.len() > MAX_AXES {
            return Err(Error::Invalid(format!(
                "sites of more than {MAX_AXES} axes: {c:?}"
            )));
        }
        let mut p = Pt {
            len: c.len(),
            c: [0; MAX_AXES],
        };
        p.c[..c.len()].copy_from_slice(c);
        Ok(p)
    }
    /// The coordinates.
    pub(crate) fn coords(&self) -> &[i64] {
        &self.c[..self.len]
    }
    /// The coordinates, to change in place.
    pub(crate) fn coords_mut(&mut self) -> &mut [i64] {
        &mut self.c[..self.len]
    }
}

/// The value of an index: [`IndexValue`] without heap, for the sites the network derivations
/// use (a point, an element, or an element with a point).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    /// A site or offset.
    Point(Pt),
    /// A group element.
    Elem(usize),
    /// `(g, p)`.
    Pair(usize, Pt),
}

impl Val {
    /// The inline form of `v`.
    pub(crate) fn of(v: &IndexValue) -> Result<Self> {
        Ok(match v {
            IndexValue::Point(c) => Val::Point(Pt::new(c)?),
            IndexValue::Elem(g) => Val::Elem(*g),
            IndexValue::Pair(g, p) => match (&**g, &**p) {
                (IndexValue::Elem(g), IndexValue::Point(c)) => Val::Pair(*g, Pt::new(c)?),
                _ => return Err(Error::Invalid(format!("the site {v:?} is not (g, p)"))),
            },
        })
    }
    fn elem(self) -> Result<usize> {
        match self {
            Val::Elem(g) => Ok(g),
            other => Err(Error::Invalid(format!(
                "expected a group element, found {other:?}"
            ))),
        }
    }
}

/// The group operations of index expressions on inline values.
pub(crate) trait SlotGroup {
    /// `g h`.
    fn mul(&self, g: usize, h: usize) -> usize;
    /// `g⁻¹`.
    fn inv(&self, g: usize) -> usize;
    /// `A_g δ`.
    fn act(&self, g: usize, p: Pt) -> Result<Pt>;
}

/// What a numbered formula reads while it is evaluated (one layer's environment).
pub(crate) trait Frame {
    /// The elements of an index set.
    fn set(&self, s: IndexSet) -> Result<&[Val]>;
    /// The group of the layer's indices.
    fn group(&self) -> Option<&dyn SlotGroup>;
    /// The value of kernel `k` at the evaluated transforms and sites (not yet resolved onto
    /// the grid).
    fn kernel(
        &self,
        k: &KernelRef,
        transforms: [Option<Val>; 2],
        sites: Option<(Val, Val)>,
    ) -> Result<f64>;
    /// `T_φ` or `Ṫ_φ`.
    fn dual(&self, f: &DualFn, k11: f64, k12: f64, k22: f64) -> Result<f64>;
}

/// An index expression with numbered variables.
#[derive(Clone, Debug)]
enum Ix {
    Var(usize),
    /// A variable no enclosing sum or left-hand side binds (an error when evaluated).
    Unbound(String),
    Add(Box<Ix>, Box<Ix>),
    Mul(Box<Ix>, Box<Ix>),
    Inv(Box<Ix>),
    Act(Box<Ix>, Box<Ix>),
    Pair(Box<Ix>, Box<Ix>),
    Scale(Vec<u32>, Box<Ix>),
}

/// A kernel symbol of a numbered formula.
#[derive(Clone, Debug)]
pub(crate) struct KernelRef {
    /// The symbol as printed (for errors).
    pub(crate) sym: KernelSym,
    /// Layer, kind and examples of the symbol.
    pub(crate) layer: usize,
    pub(crate) kind: KernelKind,
    pub(crate) examples: [Example; 2],
    transforms: [Option<Ix>; 2],
    sites: Option<(Ix, Ix)>,
}

/// A formula with numbered index variables.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Num(f64),
    /// A parameter without a value: the error it raises when read.
    Missing(String),
    Card(IndexSet),
    Kernel(Box<KernelRef>),
    Apply(Func, Vec<Node>),
    Pow(Box<Node>, Box<Node>),
    Mul(Vec<Node>),
    Add(Vec<Node>),
    Sum {
        slot: usize,
        set: IndexSet,
        body: Box<Node>,
    },
}

/// The numbering of index variables while a formula is translated: `bound` are the variables
/// in scope, innermost last.
#[derive(Default)]
pub(crate) struct Slots {
    names: Vec<IndexVar>,
    bound: Vec<usize>,
}

impl Slots {
    /// The slot of `v`, numbered on first sight.
    fn slot(&mut self, v: &IndexVar) -> usize {
        match self.names.iter().position(|w| w == v) {
            Some(i) => i,
            None => {
                self.names.push(v.clone());
                self.names.len() - 1
            }
        }
    }
    /// Bind `v` (a left-hand side's variable); its slot.
    pub(crate) fn bind(&mut self, v: &IndexVar) -> usize {
        let s = self.slot(v);
        self.bound.push(s);
        s
    }
    /// How many slots an evaluation needs.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    fn index(&mut self, i: &Index) -> Ix {
        let mut b = |a: &Index| Box::new(self.index(a));
        match i {
            Index::Var(v) => {
                let s = self.slot(v);
                if self.bound.contains(&s) {
                    Ix::Var(s)
                } else {
                    Ix::Unbound(v.0.plain.clone())
                }
            }
            Index::Add(x, y) => Ix::Add(b(x), b(y)),
            Index::Mul(x, y) => Ix::Mul(b(x), b(y)),
            Index::Inv(x) => Ix::Inv(b(x)),
            Index::Act(x, y) => Ix::Act(b(x), b(y)),
            Index::Pair(x, y) => Ix::Pair(b(x), b(y)),
            Index::Scale(k, x) => Ix::Scale(k.clone(), b(x)),
        }
    }

    /// `e` with its variables numbered and its parameters read by `param`.
    pub(crate) fn node(&mut self, e: &Expr, param: &dyn Fn(&Param) -> Result<f64>) -> Node {
        match e {
            Expr::Num(x) => Node::Num(*x),
            Expr::Pi => Node::Num(std::f64::consts::PI),
            Expr::Param(p) => match param(p) {
                Ok(v) => Node::Num(v),
                Err(e) => Node::Missing(e.to_string()),
            },
            Expr::Card(s) => Node::Card(*s),
            Expr::Kernel(k) => {
                let transforms = [
                    k.args.0.transform.as_ref().map(|t| self.index(t)),
                    k.args.1.transform.as_ref().map(|t| self.index(t)),
                ];
                let sites = k.idx.as_ref().map(|(a, b)| (self.index(a), self.index(b)));
                Node::Kernel(Box::new(KernelRef {
                    sym: (**k).clone(),
                    layer: k.layer,
                    kind: k.kind,
                    examples: [k.args.0.example, k.args.1.example],
                    transforms,
                    sites,
                }))
            }
            Expr::Apply(f, xs) => {
                Node::Apply(f.clone(), xs.iter().map(|x| self.node(x, param)).collect())
            }
            Expr::Pow(b, x) => {
                Node::Pow(Box::new(self.node(b, param)), Box::new(self.node(x, param)))
            }
            Expr::Mul(fs) => Node::Mul(fs.iter().map(|f| self.node(f, param)).collect()),
            Expr::Add(ts) => Node::Add(ts.iter().map(|t| self.node(t, param)).collect()),
            Expr::Sum { var, set, body } => {
                let slot = self.bind(var);
                let body = Box::new(self.node(body, param));
                self.bound.pop();
                Node::Sum {
                    slot,
                    set: *set,
                    body,
                }
            }
        }
    }
}

fn no_group() -> Error {
    Error::Invalid("an index uses group operations but the environment has no group".into())
}

/// A placeholder value, overwritten before it is read.
const UNSET: Val = Val::Elem(usize::MAX);

impl Ix {
    /// As [`Index::eval`], on inline values, into `out` (no value is moved through a
    /// `Result`: this is the innermost loop of a G-CNN's sums).
    fn eval(&self, f: &dyn Frame, slots: &[Val], out: &mut Val) -> Result<()> {
        match self {
            Ix::Var(s) => *out = slots[*s],
            Ix::Unbound(name) => {
                return Err(Error::Invalid(format!(
                    "index variable {name} is not bound"
                )))
            }
            Ix::Pair(a, b) => {
                let (mut x, mut y) = (UNSET, UNSET);
                a.eval(f, slots, &mut x)?;
                b.eval(f, slots, &mut y)?;
                *out = match (x, y) {
                    (Val::Elem(g), Val::Point(p)) => Val::Pair(g, p),
                    (x, y) => {
                        return Err(Error::Invalid(format!(
                            "the site ({x:?}, {y:?}) is not (g, p)"
                        )))
                    }
                };
            }
            Ix::Add(a, b) => {
                let mut y = UNSET;
                a.eval(f, slots, out)?;
                b.eval(f, slots, &mut y)?;
                match (&mut *out, y) {
                    (Val::Point(x), Val::Point(y)) if x.len == y.len => {
                        for (a, b) in x.coords_mut().iter_mut().zip(y.coords()) {
                            *a += b;
                        }
                    }
                    (x, y) => {
                        return Err(Error::Invalid(format!(
                            "cannot add indices {x:?} and {y:?}"
                        )))
                    }
                }
            }
            Ix::Scale(k, a) => {
                a.eval(f, slots, out)?;
                match out {
                    Val::Point(x) if k.len() == 1 || k.len() == x.len => {
                        for (i, c) in x.coords_mut().iter_mut().enumerate() {
                            *c *= i64::from(k[if k.len() == 1 { 0 } else { i }]);
                        }
                    }
                    Val::Point(x) => {
                        return Err(Error::Invalid(format!(
                            "cannot scale the {}-axis index {:?} by the {} strides {k:?}",
                            x.len,
                            x.coords(),
                            k.len()
                        )))
                    }
                    x => return Err(Error::Invalid(format!("cannot scale the index {x:?}"))),
                }
            }
            Ix::Mul(a, b) => {
                let g = f.group().ok_or_else(no_group)?;
                let mut y = UNSET;
                a.eval(f, slots, out)?;
                b.eval(f, slots, &mut y)?;
                *out = Val::Elem(g.mul(out.elem()?, y.elem()?));
            }
            Ix::Inv(a) => {
                let g = f.group().ok_or_else(no_group)?;
                a.eval(f, slots, out)?;
                *out = Val::Elem(g.inv(out.elem()?));
            }
            Ix::Act(a, d) => {
                let g = f.group().ok_or_else(no_group)?;
                let mut e = UNSET;
                a.eval(f, slots, &mut e)?;
                let e = e.elem()?;
                d.eval(f, slots, out)?;
                match out {
                    Val::Point(p) => *p = g.act(e, *p)?,
                    other => {
                        return Err(Error::Invalid(format!("A_g acts on points, not {other:?}")))
                    }
                }
            }
        }
        Ok(())
    }
}

impl Node {
    /// The value of the formula with its variables bound in `slots` — as [`Expr::eval_in`],
    /// operation for operation (so the same rounding).
    pub(crate) fn eval(&self, f: &dyn Frame, slots: &mut [Val]) -> Result<f64> {
        Ok(match self {
            Node::Num(x) => *x,
            Node::Missing(e) => return Err(Error::Invalid(e.clone())),
            Node::Card(s) => f.set(*s)?.len() as f64,
            Node::Kernel(k) => {
                let mut t = [None, None];
                for (t, i) in t.iter_mut().zip(&k.transforms) {
                    if let Some(i) = i {
                        let mut v = UNSET;
                        i.eval(f, slots, &mut v)?;
                        *t = Some(v);
                    }
                }
                let sites = match &k.sites {
                    None => None,
                    Some((a, b)) => {
                        let (mut x, mut y) = (UNSET, UNSET);
                        a.eval(f, slots, &mut x)?;
                        b.eval(f, slots, &mut y)?;
                        Some((x, y))
                    }
                };
                f.kernel(k, t, sites)?
            }
            Node::Apply(func, xs) => {
                if xs.len() != func.arity() {
                    return Err(Error::Invalid(format!(
                        "{func:?} takes {} arguments, got {}",
                        func.arity(),
                        xs.len()
                    )));
                }
                let x = xs[0].eval(f, slots)?;
                match func {
                    Func::Sqrt => x.sqrt(),
                    Func::Arccos => x.acos(),
                    Func::Arcsin => x.asin(),
                    Func::Sin => x.sin(),
                    Func::Cos => x.cos(),
                    Func::Erf => super::eval::erf(x),
                    Func::Exp => x.exp(),
                    Func::Log => x.ln(),
                    Func::Tan => x.tan(),
                    Func::Arctan => x.atan(),
                    Func::Abs => x.abs(),
                    Func::Sign => super::eval::sign(x),
                    Func::Min => x.min(xs[1].eval(f, slots)?),
                    Func::Max => x.max(xs[1].eval(f, slots)?),
                    Func::Dual(d) => {
                        let k12 = xs[1].eval(f, slots)?;
                        let k22 = xs[2].eval(f, slots)?;
                        f.dual(d, x, k12, k22)?
                    }
                }
            }
            Node::Pow(b, e) => {
                let (b, e) = (b.eval(f, slots)?, e.eval(f, slots)?);
                if e.fract() == 0.0 && e.abs() < i32::MAX as f64 {
                    b.powi(e as i32)
                } else {
                    b.powf(e)
                }
            }
            Node::Mul(fs) => {
                let mut p = 1.0;
                for x in fs {
                    p *= x.eval(f, slots)?;
                }
                p
            }
            Node::Add(ts) => {
                let mut s = 0.0;
                for t in ts {
                    s += t.eval(f, slots)?;
                }
                s
            }
            Node::Sum { slot, set, body } => {
                let outer = slots[*slot];
                let mut s = 0.0;
                for &v in f.set(*set)? {
                    slots[*slot] = v;
                    s += body.eval(f, slots)?;
                }
                slots[*slot] = outer;
                s
            }
        })
    }
}
