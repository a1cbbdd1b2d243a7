//! Reading formulas in the plain syntax that `eqntk derive --format text` prints.
//!
//! ```text
//! definition  K2(x,x') = K1(x,x')*(-arccos(...)/(2*pi) + 1/2) + ...    # relu (closed form)
//! where line  where sigma_b1 = 0.1, sigma_w1 = 1.5
//! ```
//!
//! Expressions: numbers (`2`, `0.5`, `1e-3`), `pi`, `+ - * / ^`, parentheses, the functions
//! `sqrt exp log sin cos tan arccos arcsin arctan erf abs sign` (one argument) and `min max` (two),
//! the dual activations `T_φ(k11, k12, k22)` and `Tdot_φ(…)`, kernel symbols, sizes of index
//! sets `|F| |G| |H| |Omega|`, index sums `sum_{d in F} …` (the sum extends over the product to
//! its right, as printed), and names: the parameters of a network (`sigma_w1`, `sigma_b1`,
//! `n1`) and whatever a `where` block binds.
//!
//! Kernel symbols are `K<l>` (NNGP) and `Theta<l>` (NTK) of layer `l` (0 is the input kernel,
//! `(1/d) x·x′` as in neural-tangents), an optional network tag (`K2_GCNN`), optional site
//! indices in brackets (`K1[p+d,p'+d]`, `K2[(g,p),(g',p')]`) and two arguments `x`, `x'`, each
//! optionally transformed: `rho(g*h^-1)x'`. Index expressions are variables (`p`, `g`, `h`,
//! `d` = δ, `phi` = φ, primed with `'`), `a+b`, `a*b`, `a^-1`, `A_g(d)`, `A_(g*h)(d)` and pairs
//! `(g,p)`.
//!
//! A syntax error is one line naming the column, with a caret before the offending token.

use std::collections::BTreeSet;

use super::derivation::{Definition, Derivation};
use super::expr::{DualFn, Expr, Func};
use super::index::{Index, IndexSet, IndexVar};
use super::kernel_sym::{Arg, Example, KernelKind, KernelSym};
use super::layers::{fan_in, sigma_b, sigma_w};
use super::param::Param;
use crate::error::{Error, Result};

/// What a formula may name besides kernels: the parameters in scope.
///
/// A name is looked up by its plain spelling; a parameter of a network (`sigma_w1`) keeps its
/// Unicode and LaTeX spellings, so a parsed formula prints as the derived one does.
#[derive(Clone, Debug, Default)]
pub struct Names {
    params: BTreeSet<Param>,
    /// Accept any identifier as a parameter (for round trips of printed derivations).
    open: bool,
}

impl Names {
    /// No names: only numbers, `pi` and kernels.
    pub fn new() -> Self {
        Self::default()
    }
    /// Every identifier that is not a function or a kernel is a parameter.
    pub fn open() -> Self {
        Self {
            open: true,
            ..Self::default()
        }
    }
    /// The names plus `p`.
    pub fn with(mut self, p: Param) -> Self {
        self.params.insert(p);
        self
    }
    /// Add `p`.
    pub fn insert(&mut self, p: Param) {
        self.params.insert(p);
    }
    fn lookup(&self, plain: &str) -> Option<Param> {
        if let Some(p) = self.params.iter().find(|p| p.plain() == plain) {
            return Some(p.clone());
        }
        self.open.then(|| canonical_param(plain))
    }
}

/// The parameter a plain name denotes: `sigma_w3`, `sigma_b3`, `n3` with their layer, `alpha`,
/// `theta`, `k12`; any other name spelt the same in every format.
pub fn canonical_param(plain: &str) -> Param {
    let layer = |prefix: &str| {
        plain
            .strip_prefix(prefix)
            .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|r| r.parse::<usize>().ok())
    };
    if let Some(l) = layer("sigma_w") {
        return sigma_w(l);
    }
    if let Some(l) = layer("sigma_b") {
        return sigma_b(l);
    }
    if let Some(l) = layer("n") {
        return fan_in(l);
    }
    match plain {
        "sigma_w" => Param::sigma_w(),
        "sigma_b" => Param::sigma_b(),
        "alpha" => Param::alpha(),
        "theta" => Param::theta(),
        "k11" => Param::k(1, 1),
        "k12" => Param::k(1, 2),
        "k22" => Param::k(2, 2),
        _ => Param::named(plain),
    }
}

/// `text` as an expression; `what` names it in errors (`"nngp formula"`).
pub fn parse_expr(text: &str, names: &Names, what: &str) -> Result<Expr> {
    let mut p = Parser::new(text, names, what)?;
    let e = p.expr()?;
    p.expect_end()?;
    Ok(e)
}

/// A derivation in the printed syntax: one definition a line (`lhs = rhs`, an optional
/// `# note`), blank lines and `#` comment lines ignored, and optional `where` lines whose
/// bindings are returned in order. The layer of a definition is its symbol's layer.
pub fn parse_derivation(
    text: &str,
    names: &Names,
    what: &str,
) -> Result<(Derivation, Vec<(Param, Expr)>)> {
    let mut names = names.clone();
    let mut derivation = Derivation::new();
    let mut bindings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let what = format!("{what}, line {}", i + 1);
        let (body, note) = match line.split_once('#') {
            Some((b, n)) => (b, n.trim()),
            None => (line, ""),
        };
        if body.trim().is_empty() {
            continue;
        }
        if let Some(rest) = body.trim_start().strip_prefix("where ") {
            let offset = body.len() - rest.len();
            for (p, e) in parse_bindings_at(rest, &names, &what, offset)? {
                names.insert(p.clone());
                bindings.push((p, e));
            }
            continue;
        }
        let mut p = Parser::new(body, &names, &what)?;
        let lhs = p.kernel_lhs()?;
        p.expect(Tok::Eq, "`=` after the defined kernel")?;
        let rhs = p.expr()?;
        p.expect_end()?;
        let layer = lhs.layer;
        derivation.push(Definition {
            name: lhs,
            rhs,
            layer,
            note: note.to_string(),
        })?;
    }
    Ok((derivation, bindings))
}

/// Bindings `name = expr`, separated by commas or new lines; each may use the names bound
/// before it.
pub(crate) fn parse_bindings(text: &str, names: &Names, what: &str) -> Result<Vec<(Param, Expr)>> {
    let mut names = names.clone();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let body = line.split_once('#').map_or(line, |(b, _)| b);
        let what = format!("{what}, line {}", i + 1);
        for (p, e) in parse_bindings_at(body, &names, &what, 0)? {
            names.insert(p.clone());
            out.push((p, e));
        }
    }
    Ok(out)
}

fn parse_bindings_at(
    text: &str,
    names: &Names,
    what: &str,
    offset: usize,
) -> Result<Vec<(Param, Expr)>> {
    let mut names = names.clone();
    let mut out = Vec::new();
    let mut p = Parser::new(text, &names, what)?;
    p.offset = offset;
    while !p.at_end() {
        let (name, at) = match p.next() {
            (Tok::Ident(s), at) => (s, at),
            (_, at) => return Err(p.error_at(at, "expected a name to bind")),
        };
        if Parser::reserved(&name) {
            return Err(p.error_at(at, &format!("`{name}` is reserved and cannot be bound")));
        }
        p.expect(Tok::Eq, "`=` after the name")?;
        let e = p.expr()?;
        let param = canonical_param(&name);
        names.insert(param.clone());
        p.names = names.clone();
        out.push((param, e));
        if p.peek() == &Tok::Comma {
            p.next();
        }
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Bar,
    Eq,
    Prime,
    End,
}

fn lex(text: &str, what: &str) -> Result<Vec<(Tok, usize)>> {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = match c {
            '+' => Some(Tok::Plus),
            '-' => Some(Tok::Minus),
            '*' => Some(Tok::Star),
            '/' => Some(Tok::Slash),
            '^' => Some(Tok::Caret),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            ',' => Some(Tok::Comma),
            '|' => Some(Tok::Bar),
            '=' => Some(Tok::Eq),
            '\'' => Some(Tok::Prime),
            _ => None,
        };
        if let Some(t) = single {
            out.push((t, start));
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && bytes.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == '.') {
                i += 1;
            }
            // an exponent: e, optional sign, digits
            if i < bytes.len() && (bytes[i] == 'e' || bytes[i] == 'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == '+' || bytes[j] == '-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    while j < bytes.len() && bytes[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let s: String = bytes[start..i].iter().collect();
            let v: f64 = s
                .parse()
                .map_err(|_| syntax(what, text, start, &format!("malformed number `{s}`")))?;
            out.push((Tok::Num(v), start));
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(bytes[start..i].iter().collect()), start));
            continue;
        }
        return Err(syntax(
            what,
            text,
            start,
            &format!("unexpected character {}", c.escape_debug()),
        ));
    }
    out.push((Tok::End, bytes.len()));
    Ok(out)
}

/// The one-line syntax error: `what, column c: reason: text with ^ before column c`.
fn syntax(what: &str, text: &str, at: usize, reason: &str) -> Error {
    let chars: Vec<char> = text.chars().collect();
    let at = at.min(chars.len());
    let before: String = chars[..at].iter().collect();
    let after: String = chars[at..].iter().collect();
    // control characters would break the one line
    let marked: String = format!("{before}^{after}")
        .chars()
        .flat_map(|c| match c.is_control() {
            true => c.escape_default().collect::<Vec<_>>(),
            false => vec![c],
        })
        .collect();
    Error::Parse {
        what: what.to_string(),
        column: at + 1,
        reason: reason.to_string(),
        marked,
    }
}

struct Parser<'a> {
    text: &'a str,
    what: &'a str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
    names: Names,
    /// Columns are counted from the start of the line the text was cut from.
    offset: usize,
}

const FUNCTIONS: [(&str, Func); 13] = [
    ("sqrt", Func::Sqrt),
    ("exp", Func::Exp),
    ("log", Func::Log),
    ("sin", Func::Sin),
    ("cos", Func::Cos),
    ("tan", Func::Tan),
    ("arccos", Func::Arccos),
    ("arcsin", Func::Arcsin),
    ("arctan", Func::Arctan),
    ("erf", Func::Erf),
    ("abs", Func::Abs),
    ("sign", Func::Sign),
    ("min", Func::Min),
];

impl<'a> Parser<'a> {
    fn new(text: &'a str, names: &Names, what: &'a str) -> Result<Self> {
        Ok(Self {
            text,
            what,
            toks: lex(text, what)?,
            pos: 0,
            names: names.clone(),
            offset: 0,
        })
    }

    fn reserved(name: &str) -> bool {
        name == "pi"
            || name == "sum_"
            || name == "rho"
            || name == "max"
            || FUNCTIONS.iter().any(|(n, _)| *n == name)
            || kernel_head(name).is_some()
            || dual_head(name).is_some()
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn peek2(&self) -> &Tok {
        &self.toks[(self.pos + 1).min(self.toks.len() - 1)].0
    }
    fn at(&self) -> usize {
        self.toks[self.pos].1
    }
    fn next(&mut self) -> (Tok, usize) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn at_end(&self) -> bool {
        *self.peek() == Tok::End
    }
    fn error_at(&self, at: usize, reason: &str) -> Error {
        let full = if self.offset > 0 {
            // report columns of the whole line
            let pad = " ".repeat(self.offset);
            return syntax(
                self.what,
                &format!("{pad}{}", self.text),
                at + self.offset,
                reason,
            );
        } else {
            self.text
        };
        syntax(self.what, full, at, reason)
    }
    fn error(&self, reason: &str) -> Error {
        self.error_at(self.at(), reason)
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<()> {
        if *self.peek() == t {
            self.next();
            Ok(())
        } else {
            Err(self.error(&format!("expected {what}, found {}", describe(self.peek()))))
        }
    }
    fn expect_end(&self) -> Result<()> {
        match self.peek() {
            Tok::End => Ok(()),
            Tok::RParen => Err(self.error("unbalanced `)`")),
            t => Err(self.error(&format!("unexpected {}", describe(t)))),
        }
    }

    /// sum of terms: `term (('+' | '-') term)*`
    fn expr(&mut self) -> Result<Expr> {
        if self.at_end() {
            return Err(self.error("empty formula"));
        }
        let mut terms = vec![self.signed_term()?];
        loop {
            match self.peek() {
                Tok::Plus => {
                    self.next();
                    terms.push(self.term()?);
                }
                Tok::Minus => {
                    self.next();
                    terms.push(negate(self.term()?));
                }
                _ => break,
            }
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap_or(Expr::Num(0.0))
        } else {
            Expr::Add(terms)
        })
    }

    fn signed_term(&mut self) -> Result<Expr> {
        match self.peek() {
            Tok::Minus => {
                self.next();
                Ok(negate(self.term()?))
            }
            Tok::Plus => {
                self.next();
                self.term()
            }
            _ => self.term(),
        }
    }

    /// product: `power (('*' | '/') power)*`; an index sum takes the rest of the product.
    fn term(&mut self) -> Result<Expr> {
        let mut factors: Vec<Expr> = Vec::new();
        let mut divide = false;
        loop {
            let f = if self.is_sum() {
                self.sum()?
            } else {
                self.power()?
            };
            let f = if divide { f.powi(-1) } else { f };
            push_factor(&mut factors, f);
            match self.peek() {
                Tok::Star => divide = false,
                Tok::Slash => divide = true,
                _ => break,
            }
            self.next();
        }
        Ok(match factors.len() {
            1 => factors.pop().unwrap_or(Expr::Num(1.0)),
            _ => Expr::Mul(factors),
        })
    }

    fn is_sum(&self) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == "sum_") && *self.peek2() == Tok::LBrace
    }

    /// `sum_{v in S} product`
    fn sum(&mut self) -> Result<Expr> {
        self.next(); // `sum_`
        self.expect(Tok::LBrace, "`{` after `sum_`")?;
        let var = self.index_var()?;
        match self.next() {
            (Tok::Ident(s), _) if s == "in" => {}
            (t, at) => {
                return Err(self.error_at(at, &format!("expected `in`, found {}", describe(&t))))
            }
        }
        let set = self.index_set()?;
        self.expect(Tok::RBrace, "`}` closing the sum's range")?;
        let body = self.term()?;
        Ok(Expr::sum(var, set, body))
    }

    /// `atom ('^' exponent)?`; `-` binds looser than `^`.
    fn power(&mut self) -> Result<Expr> {
        let base = self.atom()?;
        if *self.peek() == Tok::Caret {
            self.next();
            let exp = match self.peek() {
                Tok::Minus => {
                    self.next();
                    negate(self.atom()?)
                }
                _ => self.atom()?,
            };
            return Ok(base.pow(exp));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr> {
        let (t, at) = self.next();
        match t {
            Tok::Num(v) => Ok(Expr::Num(v)),
            Tok::LParen => {
                let e = self.expr()?;
                if *self.peek() != Tok::RParen {
                    return Err(self.error_at(at, "unbalanced `(`"));
                }
                self.next();
                Ok(e)
            }
            Tok::Bar => {
                let set = self.index_set()?;
                self.expect(Tok::Bar, "`|` closing the size of a set")?;
                Ok(Expr::card(set))
            }
            Tok::Ident(name) => self.named(name, at),
            Tok::End => Err(self.error_at(at, "the formula ends too early")),
            t => Err(self.error_at(at, &format!("unexpected {}", describe(&t)))),
        }
    }

    fn named(&mut self, name: String, at: usize) -> Result<Expr> {
        if name == "pi" {
            return Ok(Expr::Pi);
        }
        if let Some(f) = FUNCTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f.clone())
            .or_else(|| (name == "max").then_some(Func::Max))
        {
            let args = self.call_args(&name, at)?;
            if args.len() != f.arity() {
                return Err(self.error_at(
                    at,
                    &format!(
                        "`{name}` takes {} argument{}, got {}",
                        f.arity(),
                        if f.arity() == 1 { "" } else { "s" },
                        args.len()
                    ),
                ));
            }
            return Ok(Expr::Apply(f, args));
        }
        if let Some(dual) = dual_head(&name) {
            let args = self.call_args(&name, at)?;
            if args.len() != 3 {
                return Err(self.error_at(
                    at,
                    &format!(
                        "`{name}` takes 3 arguments (k11, k12, k22), got {}",
                        args.len()
                    ),
                ));
            }
            return Ok(Expr::Apply(Func::Dual(dual), args));
        }
        if let Some((kind, layer, tag)) = kernel_head(&name) {
            return Ok(Expr::Kernel(Box::new(self.kernel_rest(kind, layer, tag)?)));
        }
        if *self.peek() == Tok::LParen {
            return Err(self.error_at(at, &format!("unknown function `{name}`")));
        }
        match self.names.lookup(&name) {
            Some(p) => Ok(Expr::Param(p)),
            None => Err(self.error_at(at, &format!("unknown symbol `{name}`"))),
        }
    }

    fn call_args(&mut self, name: &str, at: usize) -> Result<Vec<Expr>> {
        if *self.peek() != Tok::LParen {
            return Err(self.error_at(at, &format!("`{name}` needs its arguments in parentheses")));
        }
        let open = self.at();
        self.next();
        let mut args = vec![self.expr()?];
        while *self.peek() == Tok::Comma {
            self.next();
            args.push(self.expr()?);
        }
        if *self.peek() != Tok::RParen {
            return Err(self.error_at(open, "unbalanced `(`"));
        }
        self.next();
        Ok(args)
    }

    /// The defined kernel of a definition's left-hand side.
    fn kernel_lhs(&mut self) -> Result<KernelSym> {
        match self.next() {
            (Tok::Ident(name), at) => match kernel_head(&name) {
                Some((kind, layer, tag)) => self.kernel_rest(kind, layer, tag),
                None => Err(self.error_at(
                    at,
                    &format!("a definition starts with a kernel (K1, Theta1, …), found `{name}`"),
                )),
            },
            (t, at) => Err(self.error_at(
                at,
                &format!("a definition starts with a kernel, found {}", describe(&t)),
            )),
        }
    }

    /// After `K<l>[_tag]`: optional `[s,s']`, then `(arg,arg)`.
    fn kernel_rest(
        &mut self,
        kind: KernelKind,
        layer: usize,
        tag: Option<String>,
    ) -> Result<KernelSym> {
        let mut sym = KernelSym::new(kind, layer);
        if let Some(t) = tag {
            sym = sym.tagged(&t);
        }
        if *self.peek() == Tok::LBracket {
            self.next();
            let a = self.index()?;
            self.expect(Tok::Comma, "`,` between the two sites")?;
            let b = self.index()?;
            self.expect(Tok::RBracket, "`]` closing the sites")?;
            sym = sym.at(a, b);
        }
        self.expect(Tok::LParen, "the kernel's arguments `(x,x')`")?;
        let a = self.arg()?;
        self.expect(Tok::Comma, "`,` between the two arguments")?;
        let b = self.arg()?;
        self.expect(Tok::RParen, "`)` closing the kernel's arguments")?;
        Ok(sym.with_args(a, b))
    }

    /// `x`, `x'`, `rho(g)x`, `rho(g)x'`.
    fn arg(&mut self) -> Result<Arg> {
        let mut transform = None;
        if matches!(self.peek(), Tok::Ident(s) if s == "rho") {
            self.next();
            self.expect(Tok::LParen, "`(` after `rho`")?;
            transform = Some(self.index()?);
            self.expect(Tok::RParen, "`)` closing `rho(…)`")?;
        }
        let example = match self.next() {
            (Tok::Ident(s), _) if s == "x" => {
                if *self.peek() == Tok::Prime {
                    self.next();
                    Example::XPrime
                } else {
                    Example::X
                }
            }
            (t, at) => {
                return Err(self.error_at(
                    at,
                    &format!("a kernel argument is x or x', found {}", describe(&t)),
                ))
            }
        };
        Ok(Arg { example, transform })
    }

    /// `prod ('+' prod)*`
    fn index(&mut self) -> Result<Index> {
        let mut i = self.index_prod()?;
        while *self.peek() == Tok::Plus {
            self.next();
            i = i + self.index_prod()?;
        }
        Ok(i)
    }

    /// `act ('*' act)*`
    fn index_prod(&mut self) -> Result<Index> {
        let mut i = self.index_act()?;
        while *self.peek() == Tok::Star {
            self.next();
            i = i * self.index_act()?;
        }
        Ok(i)
    }

    /// `A_g(d)`, `A_(g*h)(d)` or an inverse.
    fn index_act(&mut self) -> Result<Index> {
        if let Tok::Ident(s) = self.peek().clone() {
            if let Some(g) = s.strip_prefix("A_") {
                self.next();
                let g = if g.is_empty() {
                    self.expect(Tok::LParen, "`(` after `A_`")?;
                    let g = self.index()?;
                    self.expect(Tok::RParen, "`)` closing the group element")?;
                    g
                } else {
                    let mut v = index_var(g);
                    while *self.peek() == Tok::Prime {
                        self.next();
                        v = v.prime();
                    }
                    Index::Var(v)
                };
                self.expect(Tok::LParen, "`(` before the offset acted on")?;
                let d = self.index()?;
                self.expect(Tok::RParen, "`)` closing the offset")?;
                return Ok(Index::act(g, d));
            }
        }
        self.index_inv()
    }

    /// `atom ('^-1')*`
    fn index_inv(&mut self) -> Result<Index> {
        let mut i = self.index_atom()?;
        while *self.peek() == Tok::Caret {
            self.next();
            self.expect(Tok::Minus, "`-1` (the inverse) after `^` in an index")?;
            match self.next() {
                (Tok::Num(1.0), _) => {}
                (t, at) => {
                    return Err(self.error_at(
                        at,
                        &format!(
                            "only `^-1` (the inverse) is an index power, found {}",
                            describe(&t)
                        ),
                    ))
                }
            }
            i = i.inv();
        }
        Ok(i)
    }

    fn index_atom(&mut self) -> Result<Index> {
        // `2*p`: a site scaled by a stride
        if let Tok::Num(k) = *self.peek() {
            let (_, at) = self.next();
            if k.fract() != 0.0 || !(2.0..=u32::MAX as f64).contains(&k) {
                return Err(self.error_at(at, "an index is scaled by an integer stride ≥ 2"));
            }
            self.expect(Tok::Star, "`*` after the stride of a scaled index")?;
            return Ok(self.index_inv()?.scaled(k as u32));
        }
        // `(1,2)*p`: a site scaled by one stride per axis
        if *self.peek() == Tok::LParen
            && matches!(self.peek2(), Tok::Num(_))
            && self.toks.get(self.pos + 2).map(|t| &t.0) == Some(&Tok::Comma)
        {
            self.next();
            let mut strides = Vec::new();
            loop {
                match self.next() {
                    (Tok::Num(k), _)
                        if k.fract() == 0.0 && (1.0..=u32::MAX as f64).contains(&k) =>
                    {
                        strides.push(k as u32)
                    }
                    (_, at) => {
                        return Err(self.error_at(
                            at,
                            "the strides of a scaled index are integers ≥ 1, as in (1,2)*p",
                        ))
                    }
                }
                match self.next() {
                    (Tok::Comma, _) => {}
                    (Tok::RParen, _) => break,
                    (t, at) => {
                        return Err(self.error_at(
                            at,
                            &format!("expected `,` or `)` in the strides, found {}", describe(&t)),
                        ))
                    }
                }
            }
            self.expect(Tok::Star, "`*` after the strides of a scaled index")?;
            return Ok(self.index_inv()?.scaled_axes(&strides));
        }
        if *self.peek() == Tok::LParen {
            let open = self.at();
            self.next();
            let a = self.index()?;
            let out = if *self.peek() == Tok::Comma {
                self.next();
                let b = self.index()?;
                Index::pair(a, b)
            } else {
                a
            };
            if *self.peek() != Tok::RParen {
                return Err(self.error_at(open, "unbalanced `(` in an index"));
            }
            self.next();
            return Ok(out);
        }
        Ok(Index::Var(self.index_var()?))
    }

    fn index_var(&mut self) -> Result<IndexVar> {
        match self.next() {
            (Tok::Ident(s), _) => {
                let mut v = index_var(&s);
                while *self.peek() == Tok::Prime {
                    self.next();
                    v = v.prime();
                }
                Ok(v)
            }
            (t, at) => Err(self.error_at(
                at,
                &format!("expected an index variable, found {}", describe(&t)),
            )),
        }
    }

    fn index_set(&mut self) -> Result<IndexSet> {
        match self.next() {
            (Tok::Ident(s), at) => match s.as_str() {
                "F" => Ok(IndexSet::Filter),
                "G" => Ok(IndexSet::Group),
                "H" => Ok(IndexSet::Support),
                "Omega" => Ok(IndexSet::Sites),
                _ => Err(self.error_at(at, &format!("unknown index set `{s}` (F, G, H or Omega)"))),
            },
            (t, at) => Err(self.error_at(
                at,
                &format!(
                    "expected an index set (F, G, H, Omega), found {}",
                    describe(&t)
                ),
            )),
        }
    }
}

/// `K<l>`, `Theta<l>`, with an optional `_TAG`.
fn kernel_head(name: &str) -> Option<(KernelKind, usize, Option<String>)> {
    let (kind, rest) = if let Some(r) = name.strip_prefix("Theta") {
        (KernelKind::Ntk, r)
    } else if let Some(r) = name.strip_prefix('K') {
        (KernelKind::Nngp, r)
    } else {
        return None;
    };
    let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let layer = rest[..digits].parse().ok()?;
    match &rest[digits..] {
        "" => Some((kind, layer, None)),
        t => t
            .strip_prefix('_')
            .filter(|t| !t.is_empty())
            .map(|t| (kind, layer, Some(t.to_string()))),
    }
}

/// `T_φ` and `Tdot_φ`.
fn dual_head(name: &str) -> Option<DualFn> {
    let (derivative, phi) = if let Some(p) = name.strip_prefix("Tdot_") {
        (true, p)
    } else {
        (false, name.strip_prefix("T_")?)
    };
    (!phi.is_empty()).then(|| DualFn {
        phi: phi.to_string(),
        derivative,
    })
}

/// The plain spellings of index variables: `d` is δ, `phi` is φ.
fn index_var(plain: &str) -> IndexVar {
    match plain {
        "d" => IndexVar::delta(),
        "phi" => IndexVar::new("phi", "φ", r"\varphi"),
        s => IndexVar::new(s, s, s),
    }
}

fn negate(e: Expr) -> Expr {
    match e {
        Expr::Num(x) => Expr::Num(-x),
        Expr::Mul(mut fs) => {
            match fs.first_mut() {
                Some(Expr::Num(c)) => *c = -*c,
                _ => fs.insert(0, Expr::Num(-1.0)),
            }
            Expr::Mul(fs)
        }
        e => Expr::Mul(vec![Expr::Num(-1.0), e]),
    }
}

/// Append a factor, flattening products and merging numbers into a leading coefficient.
fn push_factor(factors: &mut Vec<Expr>, f: Expr) {
    match f {
        Expr::Mul(fs) => fs.into_iter().for_each(|g| push_factor(factors, g)),
        Expr::Num(x) => match factors.first_mut() {
            Some(Expr::Num(c)) => *c *= x,
            _ => factors.insert(0, Expr::Num(x)),
        },
        Expr::Pow(b, e) if matches!(*b, Expr::Num(_)) && e.as_num() == Some(-1.0) => {
            let x = b.as_num().unwrap_or(1.0);
            match factors.first_mut() {
                Some(Expr::Num(c)) => *c /= x,
                _ => factors.insert(0, Expr::Num(1.0 / x)),
            }
        }
        f => factors.push(f),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("number {v}"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::End => "the end of the formula".into(),
        t => format!(
            "`{}`",
            match t {
                Tok::Plus => "+",
                Tok::Minus => "-",
                Tok::Star => "*",
                Tok::Slash => "/",
                Tok::Caret => "^",
                Tok::LParen => "(",
                Tok::RParen => ")",
                Tok::LBracket => "[",
                Tok::RBracket => "]",
                Tok::LBrace => "{",
                Tok::RBrace => "}",
                Tok::Comma => ",",
                Tok::Bar => "|",
                Tok::Eq => "=",
                Tok::Prime => "'",
                _ => "?",
            }
        ),
    }
}
