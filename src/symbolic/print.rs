//! Printing in LaTeX, Unicode and plain ASCII with minimal parentheses.
//!
//! | | LaTeX | Unicode | plain |
//! |---|---|---|---|
//! | kernel | `\Theta^{(2)}_{p,p'}(x,x')` | `Θ⁽²⁾[p,p'](x,x′)` | `Theta2[p,p'](x,x')` |
//! | transformed argument | `K^{(1)}(x,\rho(g)x')` | `K⁽¹⁾(x,ρ(g)x′)` | `K1(x,rho(g)x')` |
//! | tagged kernel | `\Theta^{(2)}_{\mathrm{GCNN};\,g,g'}` | `Θ⁽²⁾_GCNN[g,g']` | `Theta2_GCNN[g,g']` |
//! | indices | `p+A_{g}\delta`, `g h`, `g^{-1}` | `p+A_g δ`, `gh`, `g⁻¹` | `p+A_g(d)`, `g*h`, `g^-1` |
//! | average | `\frac{1}{\|F\|}\sum_{\delta\in F}` | `(1/\|F\|) Σ_{δ∈F}` | `(1/\|F\|)*sum_{d in F}` |
//! | power | `\sigma_w^2` | `σ_w²` | `sigma_w^2` |
//! | product | `a b` | `a b` | `a*b` |
//! | dual activation | `\dot{T}_{\mathrm{ReLU}}\left(…\right)` | `Ṫ_ReLU(…)` | `Tdot_ReLU(…)` |
//! | named intermediate (a derivation's LaTeX, `symbolic::named`) | `\theta^{(1)}(x,x')`, `\arccos \rho^{(1)}(x,x')` | in full | in full |
//!
//! Numbers print as integers, as fractions `p/q` when the `f64` is exactly the nearest double
//! to a fraction with denominator `q ≤ 16`, and otherwise as Rust's shortest round-trip
//! decimal (with an exponent outside `[1e-5, 1e16)`). In a product, negative powers become a
//! denominator; factors that are sums of terms, index sums, kernels or dual activations follow
//! the fraction (`\frac{\sqrt{k}}{2\pi}\left(…\right)`, `\frac{9}{4} K^{(0)}(x,x')`). An index sum extends over the product to its
//! right and ends at the next `+`/`−`, as in papers; it is parenthesised when other factors
//! follow it.

use super::expr::{Expr, Func};
use super::index::{Index, IndexSet, IndexVar};
use super::kernel_sym::{Arg, Example, KernelKind, KernelSym};
use super::param::{Name, Param};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// LaTeX math mode.
    Latex,
    /// Unicode text (the format of `Display`).
    Unicode,
    /// Plain ASCII.
    Plain,
}

const ADD: u8 = 1;
const MUL: u8 = 2;
const POW: u8 = 3;
const ATOM: u8 = 4;

impl Expr {
    /// The expression in `format`. Deterministic: the same tree always gives the same string.
    pub fn render(&self, format: Format) -> String {
        Printer(format, &[]).expr(self).0
    }
    /// LaTeX (math mode).
    pub fn to_latex(&self) -> String {
        self.render(Format::Latex)
    }
    /// Unicode text.
    pub fn to_unicode(&self) -> String {
        self.render(Format::Unicode)
    }
    /// Plain ASCII.
    pub fn to_plain(&self) -> String {
        self.render(Format::Plain)
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_unicode())
    }
}

impl KernelSym {
    /// The symbol in `format`.
    pub fn render(&self, format: Format) -> String {
        Printer(format, &[]).kernel(self)
    }
}

impl Index {
    /// The index expression in `format`.
    pub fn render(&self, format: Format) -> String {
        Printer(format, &[]).index(self).0
    }
}

impl std::fmt::Display for KernelSym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Format::Unicode))
    }
}

impl Name {
    /// The spelling in `format`.
    pub fn render(&self, format: Format) -> &str {
        match format {
            Format::Latex => &self.latex,
            Format::Unicode => &self.unicode,
            Format::Plain => &self.plain,
        }
    }
}

/// `(p, q)` with `x == p / q` exactly in `f64`, `2 ≤ q ≤ 16`, smallest such `q`.
pub(crate) fn as_fraction(x: f64) -> Option<(i64, i64)> {
    if !x.is_finite() || x.fract() == 0.0 {
        return None;
    }
    (2..=16).find_map(|q| {
        let p = (x * q as f64).round();
        (p.abs() < 1e6 && p / q as f64 == x).then_some((p as i64, q))
    })
}

fn superscript(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            '-' => '⁻',
            '(' => '⁽',
            ')' => '⁾',
            c => c,
        })
        .collect()
}

/// A number as short plain text for messages and parameter lists: integers below 10¹⁶ as
/// integers, `1e-5 ≤ |x| < 1e16` in positional notation (shortest round-trip digits), anything
/// else in scientific notation (`1e200`, `1e-320`, `-2.5e-7`); `inf`, `-inf`, `NaN`.
pub fn compact_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if is_integer(x) {
        return format!("{}", x as i64);
    }
    if (1e-5..1e16).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

fn is_integer(x: f64) -> bool {
    x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16
}

/// The head of a kernel-like symbol: `K`, `Θ`, or the name of a named intermediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Head {
    /// `K` or `Θ`, by the symbol's kind.
    Kernel,
    /// The correlation `ρ`.
    Rho,
    /// The angle `θ`.
    Theta,
}

/// `e` in `format`, with the parameters of `bare` (named intermediates) taken as arguments of
/// functions without parentheses in LaTeX: `\arccos \rho^{(1)}(x,x')`.
pub(crate) fn render_with_bare(e: &Expr, format: Format, bare: &[Param]) -> String {
    Printer(format, bare).expr(e).0
}

/// The spelling of `k` in `format` with another head: `\rho^{(1)}_{p,p'}(x,x')` for
/// [`Head::Rho`].
pub(crate) fn render_kernel_as(k: &KernelSym, head: Head, format: Format) -> String {
    Printer(format, &[]).kernel_as(k, head)
}

/// The printer: the format, and the parameters printed as bare function arguments in LaTeX.
struct Printer<'a>(Format, &'a [Param]);

impl Printer<'_> {
    fn latex(&self) -> bool {
        self.0 == Format::Latex
    }

    fn pick<'a>(&self, latex: &'a str, unicode: &'a str, plain: &'a str) -> &'a str {
        match self.0 {
            Format::Latex => latex,
            Format::Unicode => unicode,
            Format::Plain => plain,
        }
    }

    fn minus(&self) -> &'static str {
        if self.0 == Format::Unicode {
            "−"
        } else {
            "-"
        }
    }

    fn parens(&self, s: &str) -> String {
        if self.latex() {
            format!(r"\left({s}\right)")
        } else {
            format!("({s})")
        }
    }

    fn wrap(&self, e: &Expr, min: u8) -> String {
        let (s, p) = self.expr(e);
        if p < min {
            self.parens(&s)
        } else {
            s
        }
    }

    /// A non-negative number's text and precedence.
    fn number(&self, x: f64) -> (String, u8) {
        if x < 0.0 {
            let (s, _) = self.number(-x);
            return (format!("{}{s}", self.minus()), MUL);
        }
        if x.is_nan() {
            return (self.pick(r"\mathrm{NaN}", "NaN", "NaN").into(), ATOM);
        }
        if x.is_infinite() {
            return (self.pick(r"\infty", "∞", "inf").into(), ATOM);
        }
        if is_integer(x) {
            return (format!("{}", x as i64), ATOM);
        }
        if let Some((p, q)) = as_fraction(x) {
            return match self.0 {
                Format::Latex => (format!(r"\frac{{{p}}}{{{q}}}"), POW),
                _ => (format!("{p}/{q}"), MUL),
            };
        }
        if (1e-5..1e16).contains(&x) {
            return (format!("{x}"), ATOM);
        }
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        match self.0 {
            Format::Latex => (format!(r"{mantissa} \times 10^{{{exp}}}"), MUL),
            Format::Unicode => (format!("{mantissa}×10{}", superscript(exp)), MUL),
            Format::Plain => (s, ATOM),
        }
    }

    fn set(&self, s: IndexSet) -> String {
        s.name().render(self.0).to_string()
    }

    fn var(&self, v: &IndexVar) -> String {
        v.0.render(self.0).to_string()
    }

    /// Text and precedence of an index expression (1 sum, 2 product, 3 action, 4 inverse,
    /// 5 atom).
    fn index(&self, i: &Index) -> (String, u8) {
        let sub = |i: &Index, min: u8| {
            let (s, p) = self.index(i);
            if p < min {
                format!("({s})")
            } else {
                s
            }
        };
        match i {
            Index::Var(v) => (self.var(v), 5),
            Index::Pair(a, b) => (format!("({},{})", sub(a, 0), sub(b, 0)), 5),
            Index::Add(a, b) => (format!("{}+{}", sub(a, 1), sub(b, 2)), 1),
            Index::Mul(a, b) => {
                let sep = self.pick(" ", "", "*");
                (format!("{}{sep}{}", sub(a, 2), sub(b, 3)), 2)
            }
            Index::Scale(k, a) => {
                let (factor, sep) = match k.as_slice() {
                    [k] => (k.to_string(), self.pick("", "", "*")),
                    ks => {
                        let list = ks.iter().map(u32::to_string).collect::<Vec<_>>();
                        (
                            format!("({})", list.join(",")),
                            self.pick(r"\odot ", "⊙", "*"),
                        )
                    }
                };
                (format!("{factor}{sep}{}", sub(a, 3)), 2)
            }
            Index::Inv(a) => {
                let inv = self.pick("^{-1}", "⁻¹", "^-1");
                (format!("{}{inv}", sub(a, 5)), 4)
            }
            Index::Act(g, d) => {
                let (gs, gp) = self.index(g);
                match self.0 {
                    Format::Latex => (format!("A_{{{gs}}}{}", sub(d, 4)), 3),
                    Format::Unicode => {
                        let gs = if gp < 5 { format!("({gs})") } else { gs };
                        (format!("A_{gs} {}", sub(d, 4)), 3)
                    }
                    Format::Plain => {
                        let gs = if gp < 5 { format!("({gs})") } else { gs };
                        (format!("A_{gs}({})", sub(d, 0)), 3)
                    }
                }
            }
        }
    }

    fn arg(&self, a: &Arg) -> String {
        let x = match (a.example, self.0) {
            (Example::X, _) => "x",
            (Example::XPrime, Format::Unicode) => "x′",
            (Example::XPrime, _) => "x'",
        };
        match &a.transform {
            None => x.to_string(),
            Some(g) => {
                let rho = self.pick(r"\rho", "ρ", "rho");
                format!("{rho}({}){x}", self.index(g).0)
            }
        }
    }

    fn kernel(&self, k: &KernelSym) -> String {
        self.kernel_as(k, Head::Kernel)
    }

    fn kernel_as(&self, k: &KernelSym, head: Head) -> String {
        let l = k.layer;
        let head = match (head, k.kind) {
            (Head::Kernel, KernelKind::Nngp) => "K",
            (Head::Kernel, KernelKind::Ntk) => self.pick(r"\Theta", "Θ", "Theta"),
            (Head::Rho, _) => self.pick(r"\rho", "ρ", "rho"),
            (Head::Theta, _) => self.pick(r"\theta", "θ", "theta"),
        };
        let mut s = match self.0 {
            Format::Latex => format!("{head}^{{({l})}}"),
            Format::Unicode => format!("{head}{}", superscript(&format!("({l})"))),
            Format::Plain => format!("{head}{l}"),
        };
        let idx = k
            .idx
            .as_ref()
            .map(|(a, b)| format!("{},{}", self.index(a).0, self.index(b).0));
        match (self.0, &k.tag, idx) {
            (Format::Latex, Some(t), Some(i)) => s += &format!(r"_{{\mathrm{{{t}}};\,{i}}}"),
            (Format::Latex, Some(t), None) => s += &format!(r"_{{\mathrm{{{t}}}}}"),
            (Format::Latex, None, Some(i)) => s += &format!("_{{{i}}}"),
            (_, t, i) => {
                if let Some(t) = t {
                    s += &format!("_{t}");
                }
                if let Some(i) = i {
                    s += &format!("[{i}]");
                }
            }
        }
        format!("{s}({},{})", self.arg(&k.args.0), self.arg(&k.args.1))
    }

    fn func(&self, f: &Func, args: &[Expr]) -> String {
        let bare = match args {
            [Expr::Param(p)] => self.latex() && *f != Func::Sqrt && self.1.contains(p),
            _ => false,
        };
        let list = args
            .iter()
            .map(|a| self.expr(a).0)
            .collect::<Vec<_>>()
            .join(", ");
        if *f == Func::Sqrt {
            return match self.0 {
                Format::Latex => format!(r"\sqrt{{{list}}}"),
                Format::Unicode => match args {
                    [Expr::Param(_) | Expr::Pi | Expr::Card(_)] => format!("√{list}"),
                    [Expr::Num(x)] if *x >= 0.0 && self.number(*x).1 == ATOM => format!("√{list}"),
                    _ => format!("√({list})"),
                },
                Format::Plain => format!("sqrt({list})"),
            };
        }
        let name = match f {
            Func::Sqrt => String::new(),
            Func::Arccos => self.pick(r"\arccos", "arccos", "arccos").into(),
            Func::Arcsin => self.pick(r"\arcsin", "arcsin", "arcsin").into(),
            Func::Sin => self.pick(r"\sin", "sin", "sin").into(),
            Func::Cos => self.pick(r"\cos", "cos", "cos").into(),
            Func::Erf => self.pick(r"\operatorname{erf}", "erf", "erf").into(),
            Func::Exp => self.pick(r"\exp", "exp", "exp").into(),
            Func::Log => self.pick(r"\log", "log", "log").into(),
            Func::Tan => self.pick(r"\tan", "tan", "tan").into(),
            Func::Arctan => self.pick(r"\arctan", "arctan", "arctan").into(),
            Func::Abs => self.pick(r"\operatorname{abs}", "abs", "abs").into(),
            Func::Sign => self.pick(r"\operatorname{sign}", "sign", "sign").into(),
            Func::Min => self.pick(r"\min", "min", "min").into(),
            Func::Max => self.pick(r"\max", "max", "max").into(),
            Func::Dual(d) => match (self.0, d.derivative) {
                (Format::Latex, false) => format!(r"T_{{\mathrm{{{}}}}}", d.phi),
                (Format::Latex, true) => format!(r"\dot{{T}}_{{\mathrm{{{}}}}}", d.phi),
                (Format::Unicode, false) => format!("T_{}", d.phi),
                (Format::Unicode, true) => format!("Ṫ_{}", d.phi),
                (Format::Plain, false) => format!("T_{}", d.phi),
                (Format::Plain, true) => format!("Tdot_{}", d.phi),
            },
        };
        if bare {
            // a named intermediate reads as a paper writes it: `\arccos \rho^{(1)}(x,x')`
            return format!("{name} {list}");
        }
        format!("{name}{}", self.parens(&list))
    }

    fn pow_base_ok(e: &Expr) -> bool {
        match e {
            Expr::Num(x) => *x >= 0.0 && (is_integer(*x) || as_fraction(*x).is_none()),
            Expr::Pi | Expr::Param(_) | Expr::Card(_) | Expr::Kernel(_) => true,
            Expr::Apply(f, _) => *f != Func::Sqrt,
            _ => false,
        }
    }

    fn power(&self, b: &Expr, e: &Expr) -> String {
        let base = if Self::pow_base_ok(b) {
            self.expr(b).0
        } else {
            self.parens(&self.expr(b).0)
        };
        let n = e.as_num();
        let exp = match self.0 {
            Format::Latex => {
                let s = self.expr(e).0;
                if s.chars().count() == 1 {
                    format!("^{s}")
                } else {
                    format!("^{{{s}}}")
                }
            }
            Format::Unicode => match n {
                Some(n) if is_integer(n) => superscript(&format!("{}", n as i64)),
                _ => format!("^{}", self.wrap(e, ATOM)),
            },
            Format::Plain => match n {
                Some(n) if is_integer(n) && n >= 0.0 => format!("^{}", n as i64),
                _ => format!("^{}", self.wrap(e, ATOM)),
            },
        };
        format!("{base}{exp}")
    }

    /// The factors of a product, printed; `trailing` factors (sums of terms, index sums) are
    /// kept apart so that they follow a fraction.
    fn product(&self, factors: &[Expr]) -> (String, u8) {
        let mut coef = 1.0;
        let mut rest: Vec<&Expr> = Vec::new();
        for (i, f) in factors.iter().enumerate() {
            match f {
                Expr::Num(x) if i == 0 => coef = *x,
                _ => rest.push(f),
            }
        }
        let negative = coef < 0.0;
        let coef = coef.abs();
        let mut num: Vec<String> = Vec::new();
        let mut den: Vec<String> = Vec::new();
        // Numerator factors in their order; `true` marks a trailing factor (a sum of terms or
        // a final index sum), which follows the fraction when there is a denominator.
        let mut parts: Vec<(String, bool)> = Vec::new();
        match as_fraction(coef) {
            Some((p, q)) => {
                if p != 1 {
                    num.push(p.to_string());
                }
                den.push(q.to_string());
            }
            None if coef != 1.0 => num.push(self.number(coef).0),
            None => {}
        }
        parts.extend(num.drain(..).map(|n| (n, false)));
        let last = rest.len().saturating_sub(1);
        for (i, f) in rest.iter().enumerate() {
            match f {
                Expr::Pow(b, e) if e.as_num().is_some_and(|n| n < 0.0) => {
                    let n = -e.as_num().unwrap_or(-1.0);
                    // In LaTeX the denominator is grouped by \frac's braces.
                    let sum = matches!(**b, Expr::Sum { .. });
                    let min = if self.latex() && !sum { MUL } else { POW };
                    let d = if n == 1.0 {
                        self.wrap(b, min)
                    } else {
                        self.power(b, &Expr::Num(n))
                    };
                    den.push(d);
                }
                Expr::Add(_) => parts.push((self.parens(&self.expr(f).0), true)),
                Expr::Kernel(_) | Expr::Apply(Func::Dual(_), _) => {
                    parts.push((self.expr(f).0, true))
                }
                Expr::Sum { .. } if i == last => parts.push((self.expr(f).0, true)),
                Expr::Sum { .. } => parts.push((self.parens(&self.expr(f).0), false)),
                _ => parts.push((self.wrap(f, POW), false)),
            }
        }
        let sep = self.pick(" ", " ", "*");
        let join = |parts: &[String]| -> String {
            let mut s = String::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    let digit = p.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '−');
                    s += match (self.0, digit) {
                        (Format::Latex, true) => r" \cdot ",
                        (Format::Unicode, true) => "·",
                        _ => sep,
                    };
                }
                s += p;
            }
            s
        };
        let n_parts = parts.len();
        let mut body = if den.is_empty() {
            let all: Vec<String> = parts.into_iter().map(|(p, _)| p).collect();
            if all.is_empty() {
                "1".to_string()
            } else {
                join(&all)
            }
        } else {
            let num: Vec<String> = parts.iter().filter(|p| !p.1).map(|p| p.0.clone()).collect();
            let trail: Vec<String> = parts.iter().filter(|p| p.1).map(|p| p.0.clone()).collect();
            let n = if num.is_empty() {
                "1".to_string()
            } else {
                join(&num)
            };
            let d = join(&den);
            let frac = match self.0 {
                Format::Latex => format!(r"\frac{{{n}}}{{{d}}}"),
                _ if den.len() > 1 => format!("{n}/({d})"),
                _ => format!("{n}/{d}"),
            };
            if trail.is_empty() {
                frac
            } else if self.latex() {
                format!("{frac}{}", trail.join(" "))
            } else {
                format!("({frac}){sep}{}", trail.join(sep))
            }
        };
        let single_atom = !negative && den.is_empty() && n_parts == 1;
        if negative {
            body = format!("{}{body}", self.minus());
        }
        let prec = if single_atom && rest.len() == 1 {
            self.expr(rest[0]).1
        } else {
            MUL
        };
        (body, prec)
    }

    fn negate(e: &Expr) -> Option<Expr> {
        match e {
            Expr::Num(x) if *x < 0.0 => Some(Expr::Num(-x)),
            Expr::Mul(fs) => match fs.first() {
                Some(Expr::Num(c)) if *c < 0.0 => {
                    let mut fs = fs.clone();
                    if *c == -1.0 {
                        fs.remove(0);
                    } else {
                        fs[0] = Expr::Num(-c);
                    }
                    Some(match fs.len() {
                        0 => Expr::Num(1.0),
                        _ => Expr::Mul(fs),
                    })
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn expr(&self, e: &Expr) -> (String, u8) {
        match e {
            Expr::Num(x) => self.number(*x),
            Expr::Pi => (self.pick(r"\pi", "π", "pi").into(), ATOM),
            Expr::Param(p) => (p.0.render(self.0).into(), ATOM),
            Expr::Card(s) => (format!("|{}|", self.set(*s)), ATOM),
            Expr::Kernel(k) => (self.kernel(k), ATOM),
            Expr::Apply(f, xs) => (self.func(f, xs), ATOM),
            Expr::Pow(_, ex) if ex.as_num().is_some_and(|n| n < 0.0) => {
                self.product(std::slice::from_ref(e))
            }
            Expr::Pow(b, ex) => (self.power(b, ex), POW),
            Expr::Mul(fs) if fs.is_empty() => ("1".into(), ATOM),
            Expr::Mul(fs) if fs.len() == 1 => self.expr(&fs[0]),
            Expr::Mul(fs) => {
                // A product nested in a product (not in normal form) keeps its parentheses.
                if fs.iter().any(|f| matches!(f, Expr::Mul(_))) {
                    let parts: Vec<String> = fs
                        .iter()
                        .map(|f| match f {
                            Expr::Mul(_) => self.parens(&self.expr(f).0),
                            _ => self.wrap(f, POW),
                        })
                        .collect();
                    return (parts.join(self.pick(" ", " ", "*")), MUL);
                }
                self.product(fs)
            }
            Expr::Add(ts) if ts.is_empty() => ("0".into(), ATOM),
            Expr::Add(ts) if ts.len() == 1 => self.expr(&ts[0]),
            Expr::Add(ts) => {
                let mut s = String::new();
                for (i, t) in ts.iter().enumerate() {
                    let term = |t: &Expr| match t {
                        Expr::Add(_) => self.parens(&self.expr(t).0),
                        _ => self.expr(t).0,
                    };
                    match (i, Self::negate(t)) {
                        (0, Some(pos)) => s += &format!("{}{}", self.minus(), self.wrap(&pos, MUL)),
                        (0, None) => s += &term(t),
                        (_, Some(pos)) => {
                            s += &format!(" {} {}", self.minus(), self.wrap(&pos, MUL))
                        }
                        (_, None) => s += &format!(" + {}", term(t)),
                    }
                }
                (s, ADD)
            }
            Expr::Sum { var, set, body } => {
                let head = match self.0 {
                    Format::Latex => format!(r"\sum_{{{}\in {}}}", self.var(var), self.set(*set)),
                    Format::Unicode => format!("Σ_{{{}∈{}}}", self.var(var), self.set(*set)),
                    Format::Plain => format!("sum_{{{} in {}}}", self.var(var), self.set(*set)),
                };
                (format!("{head} {}", self.wrap(body, MUL)), MUL)
            }
        }
    }
}
