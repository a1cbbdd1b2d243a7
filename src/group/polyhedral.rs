//! The finite rotation groups of the cube and the icosahedron: `O` (24), `Oh = O × {±I}` (48)
//! and `I` (60), as 3×3 orthogonal matrices.
//!
//! # Construction
//!
//! Each group is the closure of a few generators under multiplication, found breadth-first from
//! the identity (`g ↦ s g` for each generator `s` in turn), so element 0 is `I` and the order is
//! deterministic. Generators:
//!
//! * `O`: `C4` about z, `[[0, −1, 0], [1, 0, 0], [0, 0, 1]]`, and `C3` about (1, 1, 1), the
//!   cyclic permutation `(x, y, z) ↦ (z, x, y)`.
//! * `Oh`: those and the inversion `−I`.
//! * `I`: the same `C3` and the rotation by 2π/5 about the vertex `(0, 1, φ)` of the icosahedron
//!   with vertices the cyclic permutations of `(0, ±1, ±φ)`, `φ = (1 + √5)/2` (its 2-fold axes
//!   are the coordinate axes).
//!
//! Every entry of every element lies in a small alphabet — `{0, ±1}` for O and Oh,
//! `{0, ±1, ±½, ±φ/2, ±1/(2φ)}` for I — and is snapped to the f64 nearest to it after each
//! product, so the matrices are exact to the last bit and two elements are the same exactly when
//! their snapped entries agree (an entry further than `1e-9` from the alphabet is an error: the
//! generators would not close). Products, inverses and the multiplication table are those of the
//! matrices.
//!
//! # Element and class names
//!
//! A rotation by `2πk/n` (`k/n` in lowest terms, `k ≤ n/2`) is `Cn` (`k = 1`) or `Cn^k`; in
//! O/Oh the half-turns that are squares of a `C4` are `C2`, the others `C2'`. An improper element
//! `−R` is named after `R`: `−E = i`, `−C2 = σh`, `−C2' = σd`, `−C3 = S6`, `−C4 = S4`. Elements
//! are named `label#index` (`C4#3`), the identity `e`; [`Polyhedral::class_label`] gives the
//! Schoenflies label of a class (`E`, `8C3` is the class of `C3`), the column names of the
//! character tables.

use std::collections::HashMap;
use std::fmt;

use super::rotation3::Matrix3;
use super::FiniteGroup;
use crate::error::{Error, Result};

/// Which polyhedral group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolyhedralKind {
    /// The rotations of the cube, order 24 (≅ S4).
    Octahedral,
    /// The rotations and reflections of the cube, `O × {±I}`, order 48.
    FullOctahedral,
    /// The rotations of the icosahedron, order 60 (≅ A5).
    Icosahedral,
}

impl PolyhedralKind {
    /// `O`, `Oh` or `I`.
    pub fn name(&self) -> &'static str {
        match self {
            PolyhedralKind::Octahedral => "O",
            PolyhedralKind::FullOctahedral => "Oh",
            PolyhedralKind::Icosahedral => "I",
        }
    }
    /// The order: 24, 48, 60.
    pub fn order(&self) -> usize {
        match self {
            PolyhedralKind::Octahedral => 24,
            PolyhedralKind::FullOctahedral => 48,
            PolyhedralKind::Icosahedral => 60,
        }
    }
}

impl fmt::Display for PolyhedralKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A finite subgroup of O(3) with its elements, multiplication table and names.
#[derive(Clone, Debug)]
pub struct Polyhedral {
    kind: PolyhedralKind,
    elements: Vec<Matrix3>,
    table: Vec<usize>,
    inverse: Vec<usize>,
    labels: Vec<(String, String)>,
}

/// The golden ratio `φ = (1 + √5)/2`.
fn golden() -> f64 {
    (1.0 + 5f64.sqrt()) / 2.0
}

/// The entries the elements of a group may have (non-negative; signs are added).
fn alphabet(kind: PolyhedralKind) -> Vec<f64> {
    match kind {
        PolyhedralKind::Octahedral | PolyhedralKind::FullOctahedral => vec![0.0, 1.0],
        PolyhedralKind::Icosahedral => {
            let p = golden();
            vec![0.0, 1.0, 0.5, p / 2.0, 1.0 / (2.0 * p)]
        }
    }
}

const SNAP_TOL: f64 = 1e-9;

/// The matrix with every entry replaced by the nearest signed alphabet value, and the code of
/// that matrix (one small integer per entry); `None` if an entry is not near the alphabet.
fn snap(m: &Matrix3, alpha: &[f64]) -> Option<(Matrix3, [i8; 9])> {
    let mut out = [[0.0; 3]; 3];
    let mut code = [0i8; 9];
    for k in 0..9 {
        let x = m.0[k / 3][k % 3];
        let (idx, &a) = alpha
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| (x.abs() - **a).abs().total_cmp(&(x.abs() - **b).abs()))
            .expect("non-empty alphabet");
        if (x.abs() - a).abs() > SNAP_TOL {
            return None;
        }
        let sign = if idx == 0 || x > 0.0 { 1.0 } else { -1.0 };
        out[k / 3][k % 3] = sign * a;
        code[k] = (sign as i8) * idx as i8;
    }
    Some((Matrix3(out), code))
}

impl Polyhedral {
    /// The rotation group of the cube, `O`.
    pub fn octahedral() -> Self {
        Self::new(PolyhedralKind::Octahedral).expect("the generators of O close")
    }
    /// The full symmetry group of the cube, `Oh`.
    pub fn full_octahedral() -> Self {
        Self::new(PolyhedralKind::FullOctahedral).expect("the generators of Oh close")
    }
    /// The rotation group of the icosahedron, `I`.
    pub fn icosahedral() -> Self {
        Self::new(PolyhedralKind::Icosahedral).expect("the generators of I close")
    }

    /// The generators listed in the module docs.
    pub fn generators(kind: PolyhedralKind) -> Vec<Matrix3> {
        let c4 = Matrix3([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        let c3 = Matrix3([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        match kind {
            PolyhedralKind::Octahedral => vec![c4, c3],
            PolyhedralKind::FullOctahedral => vec![c4, c3, Matrix3::scalar(-1.0)],
            PolyhedralKind::Icosahedral => {
                let c5 = Matrix3::from_axis_angle(
                    [0.0, 1.0, golden()],
                    2.0 * std::f64::consts::PI / 5.0,
                );
                vec![c5, c3]
            }
        }
    }

    /// The group generated by [`Polyhedral::generators`]; an error if the generators leave the
    /// alphabet of entries or the closure does not have the expected order.
    pub fn new(kind: PolyhedralKind) -> Result<Self> {
        Self::from_generators(kind, &Self::generators(kind))
    }

    /// The closure of `generators` (entries in the alphabet of `kind`), checked to have the
    /// order of `kind`.
    pub fn from_generators(kind: PolyhedralKind, generators: &[Matrix3]) -> Result<Self> {
        let alpha = alphabet(kind);
        let fail = |what: String| Error::Group(format!("{kind}: {what}"));
        let gens: Vec<Matrix3> = generators
            .iter()
            .map(|g| snap(g, &alpha).map(|s| s.0))
            .collect::<Option<_>>()
            .ok_or_else(|| fail("a generator has an entry outside the alphabet".into()))?;
        let (id, id_code) = snap(&Matrix3::IDENTITY, &alpha).expect("I is in every alphabet");
        let mut elements = vec![id];
        let mut index: HashMap<[i8; 9], usize> = HashMap::from([(id_code, 0)]);
        let mut next = 0;
        while next < elements.len() {
            let g = elements[next];
            for s in &gens {
                let (m, code) = snap(&s.mul(&g), &alpha)
                    .ok_or_else(|| fail("a product left the alphabet of entries".into()))?;
                if let std::collections::hash_map::Entry::Vacant(slot) = index.entry(code) {
                    if elements.len() >= kind.order() {
                        return Err(fail(format!("more than {} elements", kind.order())));
                    }
                    slot.insert(elements.len());
                    elements.push(m);
                }
            }
            next += 1;
        }
        if elements.len() != kind.order() {
            return Err(fail(format!(
                "the generators close on {} elements, not {}",
                elements.len(),
                kind.order()
            )));
        }
        let n = elements.len();
        let lookup = |m: &Matrix3| -> Result<usize> {
            let (_, code) =
                snap(m, &alpha).ok_or_else(|| fail("a product left the alphabet".into()))?;
            index
                .get(&code)
                .copied()
                .ok_or_else(|| fail("the elements are not closed under products".into()))
        };
        let mut table = vec![0; n * n];
        for a in 0..n {
            for b in 0..n {
                table[a * n + b] = lookup(&elements[a].mul(&elements[b]))?;
            }
        }
        let inverse = (0..n)
            .map(|a| lookup(&elements[a].transpose()))
            .collect::<Result<Vec<_>>>()?;
        let mut group = Self {
            kind,
            elements,
            table,
            inverse,
            labels: Vec::new(),
        };
        group.labels = (0..n).map(|a| group.label(a)).collect();
        Ok(group)
    }

    /// Which group this is.
    pub fn kind(&self) -> PolyhedralKind {
        self.kind
    }
    /// The matrix of element `a`.
    pub fn matrix(&self, a: usize) -> &Matrix3 {
        &self.elements[a]
    }
    /// All matrices, in element order.
    pub fn matrices(&self) -> &[Matrix3] {
        &self.elements
    }
    /// The index of the element equal to `m` within `tol` (max-norm), if any.
    pub fn find(&self, m: &Matrix3, tol: f64) -> Option<usize> {
        self.elements.iter().position(|e| e.max_abs_diff(m) <= tol)
    }

    /// `(ASCII, LaTeX)` Schoenflies label of an element's kind (see the module docs).
    fn label(&self, a: usize) -> (String, String) {
        let m = &self.elements[a];
        let improper = m.det() < 0.0;
        let r = if improper { m.scale(-1.0) } else { *m };
        // The order n of R and the k with angle 2πk/n: cos ω = (tr R − 1)/2.
        let omega = r.rotation_angle();
        let turns = omega / (2.0 * std::f64::consts::PI);
        let (mut n, mut k) = (1, 0);
        'search: for nn in 1..=12usize {
            for kk in 0..=nn / 2 {
                if (turns - kk as f64 / nn as f64).abs() < 1e-9 {
                    (n, k) = (nn, kk);
                    break 'search;
                }
            }
        }
        let proper = match (n, k) {
            (1, _) => "E".to_string(),
            (2, _) => {
                // A half-turn is C2 when it is the square of an order-4 element of the group.
                let is_square_of_c4 = (0..self.elements.len()).any(|b| {
                    let bm = &self.elements[b];
                    bm.det() > 0.0
                        && (bm.trace() - 1.0).abs() < 1e-9
                        && bm.mul(bm).max_abs_diff(&r) < 1e-9
                });
                let has_c4 = (0..self.elements.len()).any(|b| {
                    self.elements[b].det() > 0.0 && (self.elements[b].trace() - 1.0).abs() < 1e-9
                });
                if !has_c4 || is_square_of_c4 {
                    "C2".to_string()
                } else {
                    "C2'".to_string()
                }
            }
            (n, 1) => format!("C{n}"),
            (n, k) => format!("C{n}^{k}"),
        };
        let ascii = if improper {
            match proper.as_str() {
                "E" => "i".to_string(),
                "C2" => "σh".to_string(),
                "C2'" => "σd".to_string(),
                "C3" => "S6".to_string(),
                "C4" => "S4".to_string(),
                other => format!("-{other}"),
            }
        } else {
            proper
        };
        let latex = match ascii.as_str() {
            "E" => "E".to_string(),
            "i" => "i".to_string(),
            "σh" => "\\sigma_{h}".to_string(),
            "σd" => "\\sigma_{d}".to_string(),
            "C2'" => "C_{2}'".to_string(),
            s => {
                // Cn, Cn^k, Sn, -Cn
                let (base, rest) = s.split_at(s.find(|c: char| c.is_ascii_digit()).unwrap_or(0));
                match rest.split_once('^') {
                    Some((n, k)) => format!("{base}_{{{n}}}^{{{k}}}"),
                    None => format!("{base}_{{{rest}}}"),
                }
            }
        };
        (ascii, latex)
    }

    /// The Schoenflies label of element `a`'s kind (`E`, `C3`, `C2'`, `C5^2`, `i`, `S6`, `σh`,
    /// …) and its LaTeX form: the same for all elements of a conjugacy class.
    pub fn class_label(&self, a: usize) -> (&str, &str) {
        let (s, l) = &self.labels[a];
        (s, l)
    }
}

impl FiniteGroup for Polyhedral {
    fn order(&self) -> usize {
        self.elements.len()
    }
    fn mul(&self, a: usize, b: usize) -> usize {
        self.table[a * self.elements.len() + b]
    }
    fn inv(&self, a: usize) -> usize {
        self.inverse[a]
    }
    fn name(&self) -> String {
        self.kind.name().to_string()
    }
    fn latex_name(&self) -> String {
        match self.kind {
            PolyhedralKind::Octahedral => "O".into(),
            PolyhedralKind::FullOctahedral => "O_{h}".into(),
            PolyhedralKind::Icosahedral => "I".into(),
        }
    }
    fn element_name(&self, a: usize) -> String {
        if a == 0 {
            "e".into()
        } else {
            format!("{}#{a}", self.labels[a].0)
        }
    }
    fn element_latex(&self, a: usize) -> String {
        if a == 0 {
            "e".into()
        } else {
            format!("{}\\#{a}", self.labels[a].1)
        }
    }
    fn cayley_table(&self) -> Vec<usize> {
        self.table.clone()
    }
}
