//! A network's derivation: the ordered definitions of every layer, for NNGP and NTK.
//!
//! ```
//! use eqntk::symbolic::{derive_network, Format};
//! use eqntk::Network;
//! let net = Network::from_toml_str(
//!     "[input]\nshape = [3]\n[[layers]]\nkind = \"dense\"\nw_std = 1.5\n\
//!      [[layers]]\nkind = \"identity\"\n[[layers]]\nkind = \"dense\"\nw_std = 2.0\nb_std = 0.5\n",
//!     "net.toml",
//! )?;
//! let d = derive_network(&net)?;
//! // a linear network collapses to a polynomial in the input kernel
//! let (k, theta) = d.polynomial().expect("linear");
//! assert_eq!(k.to_plain(), "sigma_w1^2*sigma_w3^2*K0(x,x') + sigma_b3^2");
//! assert_eq!(theta.to_plain(), "2*sigma_w1^2*sigma_w3^2*K0(x,x') + sigma_b3^2");
//! # Ok::<(), eqntk::Error>(())
//! ```

use std::collections::BTreeMap;

use super::derivation::{Definition, Derivation};
use super::expr::Expr;
use super::kernel_sym::KernelSym;
use super::layers::{derive_node, fan_in, sigma_b, sigma_w};
use super::normal::Assumptions;
use super::param::Param;
use super::print::Format;
use crate::error::Result;
use crate::layer::Parameterization;
use crate::network::Network;

/// The derivation of a network's kernels, layer by layer.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkDerivation {
    /// Dual activations kept as `T_φ`, `Ṫ_φ` (what the interpreter evaluates).
    compact: Derivation,
    /// Closed forms substituted where they exist (what is printed).
    closed: Derivation,
    /// Values of every parameter the formulas name.
    params: BTreeMap<Param, f64>,
    /// Number of layers L.
    depth: usize,
    /// Whether every activation is the identity.
    linear: bool,
    /// The written activations `(node l, φ(u), φ′(u))`, printed before their layer.
    phis: Vec<(usize, Expr, Expr)>,
}

/// The derivation of `net`: for each node `l = 1 … L` ([`Network::nodes`]: the layers, with
/// composite layers opened into their branches), the definitions of
/// [`derive_layer`](super::derive_layer) (see `super::layers` for the formulas and conventions).
pub fn derive_network(net: &Network) -> Result<NetworkDerivation> {
    let mut compact = Derivation::new();
    let mut closed = Derivation::new();
    let mut params = BTreeMap::new();
    let mut linear = true;
    let mut phis = vec![];
    for (i, node) in net.nodes().iter().enumerate() {
        let (l, layer, input) = (i + 1, &node.layer, &node.shape_in);
        if let Some((phi, dphi)) = layer.written_phi() {
            phis.push((l, phi, dphi));
        }
        let defs = derive_node(layer, l, node.from.unwrap_or(i), input)?;
        let shown = layer.closed_form(&defs);
        linear &= layer.is_linear();
        if let Some(w) = layer.weights() {
            params.insert(sigma_w(l), w.w_std);
            if let Some(b) = w.b_std.filter(|b| *b != 0.0) {
                params.insert(sigma_b(l), b);
            }
            if w.parameterization == Parameterization::Standard {
                params.insert(fan_in(l), layer.fan_in(input).unwrap_or(0) as f64);
            }
        }
        for d in defs {
            compact.push(d)?;
        }
        for d in shown {
            closed.push(d)?;
        }
    }
    Ok(NetworkDerivation {
        compact,
        closed,
        params,
        depth: net.nodes().len(),
        linear,
        phis,
    })
}

impl NetworkDerivation {
    /// The definitions with closed-form dual activations substituted (the printed form).
    pub fn derivation(&self) -> &Derivation {
        &self.closed
    }
    /// The definitions with `T_φ`, `Ṫ_φ` kept as symbols (the evaluated form).
    pub fn compact(&self) -> &Derivation {
        &self.compact
    }
    /// The same network with other definitions to interpret (a researcher's edited
    /// recursion, read back by [`super::parse_derivation`]); the printed form is replaced too.
    pub fn with_compact(&self, definitions: Derivation) -> NetworkDerivation {
        NetworkDerivation {
            compact: definitions.clone(),
            closed: definitions,
            ..self.clone()
        }
    }
    /// The value of every parameter the formulas name (`σ_{w,l}`, non-zero `σ_{b,l}`, `n_l`),
    /// sorted by name.
    pub fn params(&self) -> &BTreeMap<Param, f64> {
        &self.params
    }
    /// Number of layers L.
    pub fn depth(&self) -> usize {
        self.depth
    }
    /// The output kernels `K⁽ᴸ⁾(x,x′)` and `Θ⁽ᴸ⁾(x,x′)` (without sites, after a readout).
    pub fn output(&self) -> (KernelSym, KernelSym) {
        (KernelSym::nngp(self.depth), KernelSym::ntk(self.depth))
    }
    /// Whether every activation is the identity (the network is linear in its input).
    pub fn is_linear(&self) -> bool {
        self.linear
    }

    /// For a linear network, the output kernels as closed polynomials in the input kernel
    /// `K⁽⁰⁾`: every definition inlined into `K⁽ᴸ⁾`, `Θ⁽ᴸ⁾`, then products distributed over sums
    /// and normalised ([`Expr::expand`]). `None` if some activation is not the identity.
    pub fn polynomial(&self) -> Option<(Expr, Expr)> {
        if !self.linear {
            return None;
        }
        let (k, t) = self.output();
        let none = Assumptions::new();
        let inline = |s: KernelSym| self.closed.inline(&Expr::from(s)).expand(&none);
        Some((inline(k), inline(t)))
    }

    /// The recursion, one definition a line, in `format` ([`Derivation::render`]), with each
    /// written activation's φ and φ′ before its layer: in text as comment lines, which the
    /// parser skips (`# phi(u) = u*exp(-u^2/2)`, `# phi'(u) = …`), in LaTeX as the first lines
    /// of the `aligned` environment (`\varphi(u) &= …`).
    pub fn render(&self, format: Format) -> String {
        let text = self.closed.render(format);
        if self.phis.is_empty() {
            return text;
        }
        let written = |l: usize, phi: &Expr, dphi: &Expr| -> [String; 2] {
            let (f, d) = (phi.render(format), dphi.render(format));
            match format {
                Format::Latex => [
                    format!(r"\varphi(u) &= {f} && \text{{elementwise, layer {l}}}"),
                    format!(r"\varphi'(u) &= {d}"),
                ],
                Format::Unicode => [format!("# φ(u) = {f}"), format!("# φ′(u) = {d}")],
                Format::Plain => [format!("# phi(u) = {f}"), format!("# phi'(u) = {d}")],
            }
        };
        if format == Format::Latex {
            let lines: Vec<String> = self
                .phis
                .iter()
                .flat_map(|(l, f, d)| written(*l, f, d))
                .collect();
            let head = "\\begin{aligned}\n";
            return match text.strip_prefix(head) {
                Some(rest) => format!("{head}{} \\\\\n{rest}", lines.join(" \\\\\n")),
                None => text,
            };
        }
        // one printed line per definition: φ before the first line of its layer
        let defs = self.closed.definitions();
        let lines: Vec<&str> = text.lines().collect();
        let mut out = String::new();
        let mut pending: Vec<&(usize, Expr, Expr)> = self.phis.iter().collect();
        for (i, line) in lines.iter().enumerate() {
            let layer = defs.get(i).map_or(usize::MAX, |d| d.layer);
            pending.retain(|(l, f, d)| {
                if *l > layer {
                    return true;
                }
                for w in written(*l, f, d) {
                    out += &w;
                    out.push('\n');
                }
                false
            });
            out += line;
            out.push('\n');
        }
        for (l, f, d) in pending {
            for w in written(*l, f, d) {
                out += &w;
                out.push('\n');
            }
        }
        out
    }

    /// The definitions of layer `l`, as printed.
    pub fn layer_definitions(&self, l: usize) -> Vec<&Definition> {
        self.closed
            .definitions()
            .iter()
            .filter(|d| d.layer == l)
            .collect()
    }

    /// The parameters as `name = value` lines in `format` (values in Rust's shortest
    /// round-trip form), sorted by name.
    pub fn render_params(&self, format: Format) -> Vec<String> {
        self.params
            .iter()
            .map(|(p, v)| {
                format!(
                    "{} = {}",
                    Expr::from(p.clone()).render(format),
                    super::print::compact_number(*v)
                )
            })
            .collect()
    }

    /// A Markdown document: parameters, the recursion in a `$$ … $$` block, and the closed
    /// polynomial for a linear network.
    pub fn to_markdown(&self, title: &str) -> String {
        let mut s = format!("# {title}\n\n");
        s += &self.markdown_body();
        s
    }

    /// [`NetworkDerivation::to_markdown`] without the title.
    pub fn markdown_body(&self) -> String {
        let mut s = String::from("Recursion (MATH.md §1–4), layer by layer:\n\n");
        s += "$$\n";
        s += &self.render(Format::Latex);
        s += "$$\n\n";
        let params = self.render_params(Format::Latex);
        if !params.is_empty() {
            s += "with ";
            s += &params
                .iter()
                .map(|p| format!("${p}$"))
                .collect::<Vec<_>>()
                .join(", ");
            s += ".\n\n";
        }
        if let Some((k, t)) = self.polynomial() {
            let (ks, ts) = self.output();
            s += "The network is linear; inlined and expanded:\n\n$$\n\\begin{aligned}\n";
            s += &format!("{} &= {} \\\\\n", ks.render(Format::Latex), k.to_latex());
            s += &format!("{} &= {}\n", ts.render(Format::Latex), t.to_latex());
            s += "\\end{aligned}\n$$\n\n";
        }
        s
    }
}
