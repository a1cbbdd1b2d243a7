//! A table for papers, rendered as Markdown, LaTeX (booktabs) and CSV.

use super::format::FloatFormat;
use crate::error::{Error, Result};

/// Horizontal alignment of a column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Align {
    /// Flush left (text).
    #[default]
    Left,
    /// Centred.
    Center,
    /// Flush right (numbers).
    Right,
}

/// One column: its header, alignment and the format of its float cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The header text.
    pub name: String,
    /// True when `name` is LaTeX math (written `$name$` in Markdown and LaTeX, raw in CSV).
    pub name_is_math: bool,
    /// Alignment of the header and the cells.
    pub align: Align,
    /// How [`Cell::Float`]s in this column are written.
    pub format: FloatFormat,
}

impl Column {
    /// A column with a plain-text header and the default float format (4 significant digits).
    pub fn new(name: impl Into<String>, align: Align) -> Self {
        Self {
            name: name.into(),
            name_is_math: false,
            align,
            format: FloatFormat::default(),
        }
    }

    /// A column whose header is LaTeX math, e.g. `\Theta(x, x')`.
    pub fn math(name: impl Into<String>, align: Align) -> Self {
        Self {
            name_is_math: true,
            ..Self::new(name, align)
        }
    }

    /// This column with float format `format`.
    pub fn with_format(mut self, format: FloatFormat) -> Self {
        self.format = format;
        self
    }
}

/// One table entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Plain text; LaTeX special characters are escaped.
    Text(String),
    /// LaTeX math, without the dollars: `$…$` in Markdown and LaTeX, raw in CSV.
    Math(String),
    /// An integer, written in full.
    Int(i64),
    /// A float, written with its column's [`FloatFormat`].
    Float(f64),
    /// Nothing.
    Empty,
}

impl Cell {
    /// A plain-text cell.
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    /// A LaTeX-math cell (no surrounding dollars).
    pub fn math(s: impl Into<String>) -> Self {
        Cell::Math(s.into())
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.into())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<f64> for Cell {
    fn from(x: f64) -> Self {
        Cell::Float(x)
    }
}
impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}
impl From<i32> for Cell {
    fn from(n: i32) -> Self {
        Cell::Int(n.into())
    }
}
impl From<usize> for Cell {
    /// Saturates at `i64::MAX` (no table holds a larger count).
    fn from(n: usize) -> Self {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// A titled table: `columns.len()` columns and any number of rows of exactly that many cells.
///
/// The three renderings are deterministic byte for byte. Renderers check the shape and return
/// [`Error::Shape`] naming the first row of the wrong length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Caption (may be empty).
    pub title: String,
    /// The columns, left to right.
    pub columns: Vec<Column>,
    /// The rows, top to bottom; `rows[i].len() == columns.len()`.
    pub rows: Vec<Vec<Cell>>,
}

/// Escapes the characters TeX treats specially in text mode.
fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\textbackslash{}"),
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '^' => out.push_str(r"\textasciicircum{}"),
            '~' => out.push_str(r"\textasciitilde{}"),
            // OT1-encoded fonts print these as other glyphs (—, ¡, ¿) in text mode
            '|' => out.push_str(r"\textbar{}"),
            '<' => out.push_str(r"\textless{}"),
            '>' => out.push_str(r"\textgreater{}"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A Markdown cell cannot hold `|` unescaped or a line break.
fn markdown_escape(s: &str) -> String {
    s.replace('|', r"\|").replace(['\n', '\r'], " ")
}

/// RFC 4180: a field holding `,`, `"`, CR or LF is quoted, inner quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Table {
    /// An empty table with the given title and columns.
    pub fn new(title: impl Into<String>, columns: Vec<Column>) -> Self {
        Self {
            title: title.into(),
            columns,
            rows: Vec::new(),
        }
    }

    /// Appends a row; errors when it does not have one cell per column.
    pub fn push_row(&mut self, row: Vec<Cell>) -> Result<()> {
        if row.len() != self.columns.len() {
            return Err(Error::Shape(format!(
                "table \"{}\": a row of {} cells does not fit {} columns",
                self.title,
                row.len(),
                self.columns.len()
            )));
        }
        self.rows.push(row);
        Ok(())
    }

    fn check(&self) -> Result<()> {
        if self.columns.is_empty() {
            return Err(Error::Shape(format!(
                "table \"{}\" has no columns",
                self.title
            )));
        }
        if let Some(i) = self.rows.iter().position(|r| r.len() != self.columns.len()) {
            return Err(Error::Shape(format!(
                "table \"{}\": row {i} has {} cells, expected {} (one per column)",
                self.title,
                self.rows[i].len(),
                self.columns.len()
            )));
        }
        Ok(())
    }

    /// The cell text in plain form (Markdown before escaping, CSV before quoting).
    fn plain(cell: &Cell, format: FloatFormat, math: impl Fn(&str) -> String) -> String {
        match cell {
            Cell::Text(s) => s.clone(),
            Cell::Math(s) => math(s),
            Cell::Int(n) => n.to_string(),
            Cell::Float(x) => format.format(*x),
            Cell::Empty => String::new(),
        }
    }

    /// GitHub/pandoc pipe table. Columns are padded to a common width (counted in chars); the
    /// delimiter row encodes alignment (`:---`, `:---:`, `---:`); math is written `$…$`; a
    /// non-empty title follows as a pandoc caption line `Table: title`.
    pub fn to_markdown(&self) -> Result<String> {
        self.check()?;
        let header: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                if c.name_is_math {
                    markdown_escape(&format!("${}$", c.name))
                } else {
                    markdown_escape(&c.name)
                }
            })
            .collect();
        let body: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&self.columns)
                    .map(|(cell, col)| {
                        markdown_escape(&Self::plain(cell, col.format, |m| format!("${m}$")))
                    })
                    .collect()
            })
            .collect();
        // at least 3 so the delimiter row `:-:` stays valid
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|j| {
                body.iter()
                    .map(|r| r[j].chars().count())
                    .chain([header[j].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let pad = |s: &str, w: usize, align: Align| {
            let fill = w - s.chars().count();
            match align {
                Align::Left => format!("{s}{}", " ".repeat(fill)),
                Align::Right => format!("{}{s}", " ".repeat(fill)),
                Align::Center => {
                    let l = fill / 2;
                    format!("{}{s}{}", " ".repeat(l), " ".repeat(fill - l))
                }
            }
        };
        let line = |cells: &[String]| {
            let inner: Vec<String> = cells
                .iter()
                .zip(&self.columns)
                .zip(&widths)
                .map(|((s, c), &w)| pad(s, w, c.align))
                .collect();
            format!("| {} |\n", inner.join(" | "))
        };
        let mut out = line(&header);
        let delim: Vec<String> = self
            .columns
            .iter()
            .zip(&widths)
            .map(|(c, &w)| match c.align {
                Align::Left => format!(":{}", "-".repeat(w - 1)),
                Align::Right => format!("{}:", "-".repeat(w - 1)),
                Align::Center => format!(":{}:", "-".repeat(w - 2)),
            })
            .collect();
        out.push_str(&format!("|{}|\n", {
            let v: Vec<String> = delim.iter().map(|d| format!(" {d} ")).collect();
            v.join("|")
        }));
        for row in &body {
            out.push_str(&line(row));
        }
        if !self.title.is_empty() {
            out.push_str(&format!("\nTable: {}\n", markdown_escape(&self.title)));
        }
        Ok(out)
    }

    /// The booktabs `tabular` alone:
    /// `\begin{tabular}{lrc}` `\toprule` header `\midrule` rows `\bottomrule` `\end{tabular}`.
    /// Text is escaped (`\ _ % & # $ { } ^ ~ | < >`), math cells are passed through as `$…$`, floats
    /// use [`FloatFormat::format_latex`].
    pub fn to_latex_tabular(&self) -> Result<String> {
        self.check()?;
        let spec: String = self
            .columns
            .iter()
            .map(|c| match c.align {
                Align::Left => 'l',
                Align::Center => 'c',
                Align::Right => 'r',
            })
            .collect();
        let mut out = format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n");
        let header: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                if c.name_is_math {
                    format!("${}$", c.name)
                } else {
                    latex_escape(&c.name)
                }
            })
            .collect();
        out.push_str(&format!("{} \\\\\n\\midrule\n", header.join(" & ")));
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&self.columns)
                .map(|(cell, col)| match cell {
                    Cell::Text(s) => latex_escape(s),
                    Cell::Math(s) => format!("${s}$"),
                    Cell::Int(n) if *n < 0 => format!("${n}$"),
                    Cell::Int(n) => n.to_string(),
                    Cell::Float(x) => col.format.format_latex(*x),
                    Cell::Empty => String::new(),
                })
                .collect();
            out.push_str(&format!("{} \\\\\n", cells.join(" & ")));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        Ok(out)
    }

    /// A floating `table` environment around [`Table::to_latex_tabular`], centred, with the
    /// title as (escaped) `\caption` when it is not empty. Needs `\usepackage{booktabs}`.
    pub fn to_latex(&self) -> Result<String> {
        let tabular = self.to_latex_tabular()?;
        let mut out = String::from("\\begin{table}[ht]\n\\centering\n");
        if !self.title.is_empty() {
            out.push_str(&format!("\\caption{{{}}}\n", latex_escape(&self.title)));
        }
        out.push_str(&tabular);
        out.push_str("\\end{table}\n");
        Ok(out)
    }

    /// CSV: a header row of column names, then one record per row, fields quoted by RFC 4180
    /// (a field holding `,` `"` CR or LF is wrapped in quotes, inner quotes doubled). Records end
    /// in LF. Math is written raw (no dollars), floats with the column format, the title is not
    /// written.
    pub fn to_csv(&self) -> Result<String> {
        self.check()?;
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| csv_field(&c.name)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&self.columns)
                .map(|(cell, col)| csv_field(&Self::plain(cell, col.format, |m| m.to_string())))
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small table that exercises every cell kind, alignment and escape.
    fn sample() -> Table {
        let mut t = Table::new(
            "Invariance error of mu_t (C4, 100% augmented)",
            vec![
                Column::new("group_name", Align::Left),
                Column::math(r"|G|", Align::Center),
                Column::math(r"\Theta(x, x')", Align::Right)
                    .with_format(FloatFormat::Significant(3)),
                Column::new("error", Align::Right).with_format(FloatFormat::Scientific(2)),
                Column::new("note", Align::Left),
            ],
        );
        t.push_row(vec![
            "C4".into(),
            4usize.into(),
            0.123456.into(),
            1.234e-12.into(),
            "50% & #1, \"exact\"".into(),
        ])
        .unwrap();
        t.push_row(vec![
            Cell::math(r"D_4"),
            8usize.into(),
            (-12.3456).into(),
            f64::INFINITY.into(),
            Cell::Empty,
        ])
        .unwrap();
        t.push_row(vec![
            "p4m | torus".into(),
            (-1i64).into(),
            1234.5.into(),
            0.0.into(),
            "a_b\nc".into(),
        ])
        .unwrap();
        t
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(sample().to_markdown().unwrap());
    }

    #[test]
    fn latex_snapshot() {
        insta::assert_snapshot!(sample().to_latex().unwrap());
    }

    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!(sample().to_csv().unwrap());
    }

    #[test]
    fn latex_escapes_text_but_not_math() {
        let tex = sample().to_latex_tabular().unwrap();
        assert!(tex.contains(r"group\_name"));
        assert!(tex.contains(r"50\% \& \#1"));
        assert!(tex.contains(r"$\Theta(x, x')$"));
        assert!(tex.contains(r"$D_4$"));
        assert!(tex.contains("\\toprule\n") && tex.contains("\\midrule\n"));
        assert!(tex.ends_with("\\bottomrule\n\\end{tabular}\n"));
    }

    #[test]
    fn csv_quotes_per_rfc4180() {
        let csv = sample().to_csv().unwrap();
        let lines: Vec<&str> = csv.split('\n').collect();
        assert_eq!(lines[1], r#"C4,4,0.123,1.2e-12,"50% & #1, ""exact""""#);
        // the embedded line break stays inside its quoted field
        assert!(csv.contains("\"a_b\nc\"\n"));
    }

    #[test]
    fn ragged_rows_are_errors() {
        let mut t = sample();
        assert!(t.push_row(vec![Cell::Empty]).is_err());
        t.rows.push(vec![Cell::Empty]);
        for r in [t.to_markdown(), t.to_latex(), t.to_csv()] {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("row 3"), "{e}");
        }
        assert!(Table::new("t", vec![]).to_csv().is_err());
    }
}
