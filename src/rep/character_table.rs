//! Character tables, and their Markdown / LaTeX (booktabs) / JSON renderings.

use num_complex::Complex64 as C64;
use serde_json::json;

use super::value::{format_value, json_number, ValueStyle};
use super::Irrep;
use crate::error::{Error, Result};
use crate::group::FiniteGroup;

/// A conjugacy class as a table column.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassInfo {
    /// ASCII name of the representative (`e`, `r^2`, `rs`).
    pub name: String,
    /// LaTeX name of the representative.
    pub latex: String,
    /// Number of elements.
    pub size: usize,
    /// The representative (smallest element index of the class).
    pub representative: usize,
}

/// An irrep as a table row.
#[derive(Clone, Debug, PartialEq)]
pub struct IrrepInfo {
    /// ASCII name (`A1`, `chi_2`, …).
    pub name: String,
    /// LaTeX name.
    pub latex: String,
    /// Dimension.
    pub dim: usize,
}

/// Output format of tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// A Markdown table (GitHub flavour).
    Markdown,
    /// A LaTeX `table` with a booktabs `tabular`.
    Latex,
    /// JSON.
    Json,
}

/// The character table `χ_ψ(C)` of a group: rows are irreps, columns conjugacy classes.
///
/// Orthogonality relations (checked by [`CharacterTable::row_orthogonality_error`] and
/// [`CharacterTable::column_orthogonality_error`]):
/// `(1/|G|) Σ_C |C| χ_ψ(C) conj χ_φ(C) = δ_ψφ` and `Σ_ψ χ_ψ(C) conj χ_ψ(C') = δ_CC' |G|/|C|`.
#[derive(Clone, Debug)]
pub struct CharacterTable {
    /// Group name (ASCII).
    pub group: String,
    /// Group name (LaTeX).
    pub group_latex: String,
    /// `|G|`, or `None` for a table sampled from a continuous group.
    pub order: Option<usize>,
    /// Columns.
    pub classes: Vec<ClassInfo>,
    /// Rows.
    pub irreps: Vec<IrrepInfo>,
    /// `values[row][column]`.
    pub values: Vec<Vec<C64>>,
    /// When `Some(n)`, complex `n`-th roots of unity print as powers of `ω = e^{2πi/n}`.
    pub omega: Option<usize>,
    /// A sentence appended to captions (e.g. how a continuous group was sampled).
    pub note: Option<String>,
    /// The order used to recognise exact values (`|G|`, or the sampling order).
    pub exact_order: usize,
}

impl CharacterTable {
    /// The table of `group` for the given irreps (a complete set, as from
    /// [`super::Irreps::irreps`]). Columns are the classes in the order of
    /// [`FiniteGroup::conjugacy_classes`]. Abelian groups print roots of unity as powers of
    /// `ω = e^{2πi/|G|}`.
    pub fn new(group: &dyn FiniteGroup, irreps: &[Irrep]) -> Self {
        let classes: Vec<ClassInfo> = group
            .conjugacy_classes()
            .into_iter()
            .map(|c| ClassInfo {
                name: group.element_name(c.representative),
                latex: group.element_latex(c.representative),
                size: c.size(),
                representative: c.representative,
            })
            .collect();
        let values = irreps
            .iter()
            .map(|ir| {
                classes
                    .iter()
                    .map(|c| ir.character(c.representative))
                    .collect()
            })
            .collect();
        Self {
            group: group.name(),
            group_latex: group.latex_name(),
            order: Some(group.order()),
            irreps: irreps
                .iter()
                .map(|ir| IrrepInfo {
                    name: ir.name.clone(),
                    latex: ir.latex.clone(),
                    dim: ir.dim(),
                })
                .collect(),
            classes,
            values,
            omega: if group.is_abelian() {
                Some(group.order())
            } else {
                None
            },
            note: None,
            exact_order: group.order(),
        }
    }

    fn group_order(&self) -> Result<f64> {
        self.order.map(|o| o as f64).ok_or_else(|| {
            Error::Group(format!(
                "{}: orthogonality needs a finite group's table",
                self.group
            ))
        })
    }

    /// `max_{ψ,φ} |(1/|G|) Σ_C |C| χ_ψ(C) conj χ_φ(C) − δ_ψφ|`.
    pub fn row_orthogonality_error(&self) -> Result<f64> {
        let n = self.group_order()?;
        let mut err: f64 = 0.0;
        for (a, ra) in self.values.iter().enumerate() {
            for (b, rb) in self.values.iter().enumerate() {
                let s: C64 = self
                    .classes
                    .iter()
                    .enumerate()
                    .map(|(c, cl)| ra[c] * rb[c].conj() * cl.size as f64)
                    .sum::<C64>()
                    / n;
                let want = if a == b { 1.0 } else { 0.0 };
                err = err.max((s - want).norm());
            }
        }
        Ok(err)
    }

    /// `max_{C,C'} |Σ_ψ χ_ψ(C) conj χ_ψ(C') − δ_CC' |G|/|C||`.
    pub fn column_orthogonality_error(&self) -> Result<f64> {
        let n = self.group_order()?;
        let mut err: f64 = 0.0;
        for (c, cl) in self.classes.iter().enumerate() {
            for d in 0..self.classes.len() {
                let s: C64 = self.values.iter().map(|r| r[c] * r[d].conj()).sum();
                let want = if c == d { n / cl.size as f64 } else { 0.0 };
                err = err.max((s - want).norm());
            }
        }
        Ok(err)
    }

    fn cell(&self, v: C64, style: ValueStyle) -> String {
        format_value(v, self.exact_order, self.omega, style)
    }

    fn uses_omega(&self) -> bool {
        self.values.iter().flatten().any(|&v| {
            format_value(v, self.exact_order, self.omega, ValueStyle::Markdown).starts_with('ω')
        })
    }

    fn caption_order(&self) -> String {
        match self.order {
            Some(n) => format!("order {n}, {} classes", self.classes.len()),
            None => format!("{} classes sampled", self.classes.len()),
        }
    }

    /// A Markdown table: a title line, a header of class representatives, a row of class sizes,
    /// one row per irrep (name, dimension, characters), and notes.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "Character table of {} ({}).\n\n",
            self.group,
            self.caption_order()
        );
        s += "| irrep | dim |";
        for c in &self.classes {
            s += &format!(" {} |", c.name);
        }
        s += "\n|:--|--:|";
        s += &"--:|".repeat(self.classes.len());
        s += "\n| *size* | |";
        for c in &self.classes {
            s += &format!(" {} |", c.size);
        }
        s += "\n";
        for (ir, row) in self.irreps.iter().zip(&self.values) {
            s += &format!("| {} | {} |", ir.name, ir.dim);
            for &v in row {
                s += &format!(" {} |", self.cell(v, ValueStyle::Markdown));
            }
            s += "\n";
        }
        if let (true, Some(n)) = (self.uses_omega(), self.omega) {
            s += &format!("\nω = e^(2πi/{n}).\n");
        }
        if let Some(note) = &self.note {
            s += &format!("\n{note}\n");
        }
        s
    }

    /// A LaTeX `table` environment with a booktabs `tabular`, caption and label, ready to paste.
    pub fn to_latex(&self) -> String {
        let label: String = self
            .group
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let mut caption = format!(
            "Character table of ${}$ ({}).",
            self.group_latex,
            self.caption_order()
        );
        if let (true, Some(n)) = (self.uses_omega(), self.omega) {
            caption += &format!(" Here $\\omega = e^{{2\\pi i/{n}}}$.");
        }
        if let Some(note) = &self.note {
            caption += &format!(" {note}");
        }
        let mut s = String::from("\\begin{table}[ht]\n  \\centering\n");
        s += &format!("  \\caption{{{caption}}}\n");
        s += &format!("  \\label{{tab:character-table-{label}}}\n");
        s += &format!(
            "  \\begin{{tabular}}{{lr{}}}\n",
            "r".repeat(self.classes.len())
        );
        s += "    \\toprule\n    irrep & dim";
        for c in &self.classes {
            s += &format!(" & ${}$", c.latex);
        }
        s += " \\\\\n    size &";
        for c in &self.classes {
            s += &format!(" & {}", c.size);
        }
        s += " \\\\\n    \\midrule\n";
        for (ir, row) in self.irreps.iter().zip(&self.values) {
            s += &format!("    ${}$ & {}", ir.latex, ir.dim);
            for &v in row {
                s += &format!(" & ${}$", self.cell(v, ValueStyle::Latex));
            }
            s += " \\\\\n";
        }
        s += "    \\bottomrule\n  \\end{tabular}\n\\end{table}\n";
        s
    }

    /// JSON: `{"group", "order", "classes": [{"name", "size"}], "irreps": [{"name", "dim",
    /// "characters"}]}`. An irrep whose character takes a non-real value lists every value as
    /// `[re, im]`; a real-valued character lists plain numbers. Values within `1e-12` of an
    /// integer are printed as that integer.
    pub fn to_json(&self) -> serde_json::Value {
        let classes: Vec<_> = self
            .classes
            .iter()
            .map(|c| json!({"name": c.name, "size": c.size}))
            .collect();
        let irreps: Vec<_> = self
            .irreps
            .iter()
            .zip(&self.values)
            .map(|(ir, row)| {
                let real = row.iter().all(|v| v.im.abs() <= 1e-12);
                let chars: Vec<_> = row
                    .iter()
                    .map(|v| {
                        if real {
                            json_number(v.re)
                        } else {
                            json!([json_number(v.re), json_number(v.im)])
                        }
                    })
                    .collect();
                json!({"name": ir.name, "dim": ir.dim, "characters": chars})
            })
            .collect();
        json!({"group": self.group, "order": self.order, "classes": classes, "irreps": irreps})
    }

    /// Render in the given format (JSON pretty-printed).
    pub fn render(&self, format: TableFormat) -> String {
        match format {
            TableFormat::Markdown => self.to_markdown(),
            TableFormat::Latex => self.to_latex(),
            TableFormat::Json => {
                serde_json::to_string_pretty(&self.to_json()).expect("JSON values serialise") + "\n"
            }
        }
    }
}
