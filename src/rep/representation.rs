//! A representation `ρ : G → U(d)` of a finite group, stored as matrices or as permutations.

use faer::Mat;
use num_complex::Complex64 as C64;

use crate::error::{Error, Result};
use crate::group::FiniteGroup;

#[derive(Clone, Debug)]
enum Data {
    /// `ρ(g)` for every `g`, `d×d` each.
    Dense(Vec<Mat<C64>>),
    /// `ρ(g) e_s = e_{perm[g][s]}`: a permutation representation.
    Permutation(Vec<Vec<usize>>),
}

/// A representation of a finite group: `ρ(g)` for every element `g = 0..order`.
///
/// Matrices are complex (`num_complex::Complex64`); real representations simply have zero
/// imaginary parts ([`Rep::real_matrix`] returns them as f64). A permutation representation
/// (`ρ(g) e_s = e_{π_g(s)}`, e.g. the regular representation or `ρ_X` of an action on sites) is
/// stored as its permutations, so its character is the number of fixed points and nothing
/// `d×d` is allocated until a matrix is asked for.
#[derive(Clone, Debug)]
pub struct Rep {
    name: String,
    dim: usize,
    data: Data,
}

/// `max |a − b|` over all entries.
pub(crate) fn max_abs_diff(a: &Mat<C64>, b: &Mat<C64>) -> f64 {
    let mut m: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).norm());
        }
    }
    m
}

/// The conjugate transpose `Aᴴ` as an owned matrix.
pub(crate) fn adjoint(a: &Mat<C64>) -> Mat<C64> {
    Mat::from_fn(a.ncols(), a.nrows(), |i, j| a[(j, i)].conj())
}

impl Rep {
    /// A representation from its matrices `ρ(g)`, `g = 0..order` (all square, of one size).
    pub fn from_matrices(name: impl Into<String>, matrices: Vec<Mat<C64>>) -> Result<Self> {
        let name = name.into();
        let dim = matrices.first().map(|m| m.nrows()).ok_or_else(|| {
            Error::Group(format!("representation {name}: no matrices (empty group)"))
        })?;
        if let Some(g) = matrices
            .iter()
            .position(|m| m.nrows() != dim || m.ncols() != dim)
        {
            return Err(Error::Shape(format!(
                "representation {name}: ρ({g}) is not {dim}×{dim}"
            )));
        }
        if matrices
            .iter()
            .any(|m| (0..dim).any(|j| (0..dim).any(|i| !m[(i, j)].is_finite())))
        {
            return Err(Error::Data(format!(
                "representation {name}: a matrix holds a non-finite value"
            )));
        }
        Ok(Self {
            name,
            dim,
            data: Data::Dense(matrices),
        })
    }

    /// A representation from real matrices.
    pub fn from_real_matrices(name: impl Into<String>, matrices: &[Mat<f64>]) -> Result<Self> {
        Self::from_matrices(
            name,
            matrices
                .iter()
                .map(|m| Mat::from_fn(m.nrows(), m.ncols(), |i, j| C64::new(m[(i, j)], 0.0)))
                .collect(),
        )
    }

    /// The permutation representation `ρ(g) e_s = e_{perms[g][s]}` on `d = perms[g].len()`
    /// points. Each row must be a permutation of `0..d`.
    pub fn from_permutations(name: impl Into<String>, perms: Vec<Vec<usize>>) -> Result<Self> {
        let name = name.into();
        let dim = perms.first().map(|p| p.len()).ok_or_else(|| {
            Error::Group(format!(
                "representation {name}: no permutations (empty group)"
            ))
        })?;
        for (g, p) in perms.iter().enumerate() {
            let mut seen = vec![false; dim];
            if p.len() != dim
                || p.iter()
                    .any(|&s| s >= dim || std::mem::replace(&mut seen[s], true))
            {
                return Err(Error::Group(format!(
                    "representation {name}: entry {g} is not a permutation of 0..{dim}"
                )));
            }
        }
        Ok(Self {
            name,
            dim,
            data: Data::Permutation(perms),
        })
    }

    /// The regular representation, derived from the action of `G` on itself by left
    /// multiplication: `ρ_reg(g) e_h = e_{gh}` (`|G|×|G|`).
    pub fn regular(group: &dyn FiniteGroup) -> Self {
        let n = group.order();
        let perms = (0..n)
            .map(|g| (0..n).map(|h| group.mul(g, h)).collect())
            .collect();
        Self::from_permutations(format!("regular({})", group.name()), perms)
            .expect("left multiplication permutes the group")
    }

    /// The trivial representation of dimension `dim` (`ρ(g) = I`).
    pub fn trivial(group: &dyn FiniteGroup, dim: usize) -> Self {
        let perms = vec![(0..dim).collect(); group.order()];
        Self {
            name: "trivial".into(),
            dim,
            data: Data::Permutation(perms),
        }
    }

    /// The name given at construction.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The same representation under another name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// The number of group elements it is defined on.
    pub fn order(&self) -> usize {
        match &self.data {
            Data::Dense(m) => m.len(),
            Data::Permutation(p) => p.len(),
        }
    }
    /// The permutations, when this is a permutation representation.
    pub fn permutations(&self) -> Option<&[Vec<usize>]> {
        match &self.data {
            Data::Permutation(p) => Some(p),
            Data::Dense(_) => None,
        }
    }

    fn check_element(&self, g: usize) -> Result<()> {
        if g >= self.order() {
            Err(Error::Group(format!(
                "representation {}: element {g} out of range 0..{}",
                self.name,
                self.order()
            )))
        } else {
            Ok(())
        }
    }

    /// `ρ(g)` as a `d×d` complex matrix.
    pub fn matrix(&self, g: usize) -> Result<Mat<C64>> {
        self.check_element(g)?;
        Ok(match &self.data {
            Data::Dense(m) => m[g].clone(),
            Data::Permutation(p) => {
                let mut m = Mat::zeros(self.dim, self.dim);
                for (s, &t) in p[g].iter().enumerate() {
                    m[(t, s)] = C64::new(1.0, 0.0);
                }
                m
            }
        })
    }

    /// `ρ(g)` as a real matrix; an error if an imaginary part exceeds `1e-12`.
    pub fn real_matrix(&self, g: usize) -> Result<Mat<f64>> {
        let m = self.matrix(g)?;
        let mut out = Mat::zeros(self.dim, self.dim);
        for j in 0..self.dim {
            for i in 0..self.dim {
                if m[(i, j)].im.abs() > 1e-12 {
                    return Err(Error::Group(format!(
                        "representation {} is not real: ρ({g})[{i},{j}] = {}",
                        self.name,
                        m[(i, j)]
                    )));
                }
                out[(i, j)] = m[(i, j)].re;
            }
        }
        Ok(out)
    }

    /// True when every `ρ(g)` is real to within `tol`.
    pub fn is_real(&self, tol: f64) -> bool {
        match &self.data {
            Data::Permutation(_) => true,
            Data::Dense(ms) => ms
                .iter()
                .all(|m| (0..self.dim).all(|j| (0..self.dim).all(|i| m[(i, j)].im.abs() <= tol))),
        }
    }

    /// The character `χ(g) = tr ρ(g)`.
    pub fn character(&self, g: usize) -> Result<C64> {
        self.check_element(g)?;
        Ok(match &self.data {
            Data::Dense(m) => (0..self.dim).map(|i| m[g][(i, i)]).sum(),
            Data::Permutation(p) => {
                let fixed = p[g].iter().enumerate().filter(|(s, &t)| *s == t).count();
                C64::new(fixed as f64, 0.0)
            }
        })
    }

    /// All characters `[χ(0), …, χ(order−1)]`.
    pub fn characters(&self) -> Vec<C64> {
        (0..self.order())
            .map(|g| self.character(g).expect("in range"))
            .collect()
    }

    /// `ρ(g) v` for a vector `v` of length `d`.
    pub fn apply(&self, g: usize, v: &[C64]) -> Result<Vec<C64>> {
        self.check_element(g)?;
        if v.len() != self.dim {
            return Err(Error::Shape(format!(
                "representation {} has dimension {} but the vector has length {}",
                self.name,
                self.dim,
                v.len()
            )));
        }
        Ok(match &self.data {
            Data::Permutation(p) => {
                let mut out = vec![C64::new(0.0, 0.0); self.dim];
                for (s, &t) in p[g].iter().enumerate() {
                    out[t] = v[s];
                }
                out
            }
            Data::Dense(m) => (0..self.dim)
                .map(|i| (0..self.dim).map(|j| m[g][(i, j)] * v[j]).sum())
                .collect(),
        })
    }

    /// `Σ_g c_g ρ(g)` (`d×d`), without forming permutation matrices.
    pub(crate) fn weighted_sum(&self, coeffs: &[C64]) -> Mat<C64> {
        let mut out = Mat::<C64>::zeros(self.dim, self.dim);
        match &self.data {
            Data::Permutation(p) => {
                for (g, &c) in coeffs.iter().enumerate() {
                    for (s, &t) in p[g].iter().enumerate() {
                        out[(t, s)] += c;
                    }
                }
            }
            Data::Dense(m) => {
                for (g, &c) in coeffs.iter().enumerate() {
                    if c != C64::new(0.0, 0.0) {
                        out += faer::Scale(c) * &m[g];
                    }
                }
            }
        }
        out
    }

    fn dense(&self) -> Vec<Mat<C64>> {
        (0..self.order())
            .map(|g| self.matrix(g).expect("in range"))
            .collect()
    }

    fn check_same_group(&self, other: &Rep, what: &str) -> Result<()> {
        if self.order() != other.order() {
            return Err(Error::Group(format!(
                "{what} of {} and {}: they are defined on groups of orders {} and {}",
                self.name,
                other.name,
                self.order(),
                other.order()
            )));
        }
        Ok(())
    }

    /// The direct sum `(ρ ⊕ σ)(g) = diag(ρ(g), σ(g))`, dimension `d_ρ + d_σ`.
    pub fn direct_sum(&self, other: &Rep) -> Result<Rep> {
        self.check_same_group(other, "direct sum")?;
        let (a, b) = (self.dim, other.dim);
        let name = format!("{} ⊕ {}", self.name, other.name);
        if let (Data::Permutation(p), Data::Permutation(q)) = (&self.data, &other.data) {
            let perms = p
                .iter()
                .zip(q)
                .map(|(p, q)| p.iter().copied().chain(q.iter().map(|&t| t + a)).collect())
                .collect();
            return Rep::from_permutations(name, perms);
        }
        let mats = (0..self.order())
            .map(|g| {
                let (x, y) = (self.matrix(g).expect("g"), other.matrix(g).expect("g"));
                Mat::from_fn(a + b, a + b, |i, j| match (i < a, j < a) {
                    (true, true) => x[(i, j)],
                    (false, false) => y[(i - a, j - a)],
                    _ => C64::new(0.0, 0.0),
                })
            })
            .collect();
        Rep::from_matrices(name, mats)
    }

    /// The tensor (Kronecker) product `(ρ ⊗ σ)(g) = ρ(g) ⊗ σ(g)`, basis `e_i ⊗ f_j ↦ i·d_σ + j`.
    pub fn tensor(&self, other: &Rep) -> Result<Rep> {
        self.check_same_group(other, "tensor product")?;
        let (a, b) = (self.dim, other.dim);
        let name = format!("{} ⊗ {}", self.name, other.name);
        if let (Data::Permutation(p), Data::Permutation(q)) = (&self.data, &other.data) {
            let perms = p
                .iter()
                .zip(q)
                .map(|(p, q)| {
                    (0..a * b)
                        .map(|ij| p[ij / b] * b + q[ij % b])
                        .collect::<Vec<_>>()
                })
                .collect();
            return Rep::from_permutations(name, perms);
        }
        let mats = (0..self.order())
            .map(|g| {
                let (x, y) = (self.matrix(g).expect("g"), other.matrix(g).expect("g"));
                Mat::from_fn(a * b, a * b, |r, c| x[(r / b, c / b)] * y[(r % b, c % b)])
            })
            .collect();
        Rep::from_matrices(name, mats)
    }

    /// The restriction to a subgroup `H`, given by its embedding: `embedding[h]` is the element
    /// of `G` that `h ∈ H` maps to; `(Res ρ)(h) = ρ(embedding[h])`.
    ///
    /// The embedding must be a homomorphism; see [`Rep::homomorphism_error`] to check the result.
    pub fn restrict(&self, embedding: &[usize]) -> Result<Rep> {
        if let Some(&g) = embedding.iter().find(|&&g| g >= self.order()) {
            return Err(Error::Group(format!(
                "restriction of {}: element {g} is outside the group of order {}",
                self.name,
                self.order()
            )));
        }
        let name = format!("Res({})", self.name);
        Ok(match &self.data {
            Data::Permutation(p) => Rep {
                name,
                dim: self.dim,
                data: Data::Permutation(embedding.iter().map(|&g| p[g].clone()).collect()),
            },
            Data::Dense(m) => Rep {
                name,
                dim: self.dim,
                data: Data::Dense(embedding.iter().map(|&g| m[g].clone()).collect()),
            },
        })
    }

    /// The change of basis `ρ'(g) = Qᴴ ρ(g) Q` for a unitary `Q` (`d×d`): the representation in
    /// the orthonormal basis given by the columns of `Q`.
    pub fn change_basis(&self, q: &Mat<C64>) -> Result<Rep> {
        if q.nrows() != self.dim || q.ncols() != self.dim {
            return Err(Error::Shape(format!(
                "change of basis of {}: Q is {}×{}, expected {}×{}",
                self.name,
                q.nrows(),
                q.ncols(),
                self.dim,
                self.dim
            )));
        }
        let qh = adjoint(q);
        let err = max_abs_diff(&(&qh * q), &Mat::identity(self.dim, self.dim));
        if err > 1e-9 {
            return Err(Error::Numeric(format!(
                "change of basis of {}: Q is not unitary (‖QᴴQ − I‖_max = {err:.2e})",
                self.name
            )));
        }
        let mats = self.dense().iter().map(|m| &qh * m * q).collect();
        Rep::from_matrices(format!("{}'", self.name), mats)
    }

    /// `max_{a,b} ‖ρ(a)ρ(b) − ρ(ab)‖_max`: zero for a homomorphism.
    pub fn homomorphism_error(&self, group: &dyn FiniteGroup) -> Result<f64> {
        if group.order() != self.order() {
            return Err(Error::Group(format!(
                "representation {} has {} matrices but {} has order {}",
                self.name,
                self.order(),
                group.name(),
                group.order()
            )));
        }
        if let Data::Permutation(p) = &self.data {
            let ok = (0..self.order()).all(|a| {
                (0..self.order()).all(|b| {
                    let ab = group.mul(a, b);
                    (0..self.dim).all(|s| p[a][p[b][s]] == p[ab][s])
                })
            });
            return Ok(if ok { 0.0 } else { 1.0 });
        }
        let m = self.dense();
        let mut err: f64 = 0.0;
        for a in 0..self.order() {
            for b in 0..self.order() {
                err = err.max(max_abs_diff(&(&m[a] * &m[b]), &m[group.mul(a, b)]));
            }
        }
        Ok(err)
    }

    /// `max_g ‖ρ(g)ᴴ ρ(g) − I‖_max`: zero for a unitary (orthogonal, if real) representation.
    pub fn unitarity_error(&self) -> f64 {
        if let Data::Permutation(_) = &self.data {
            return 0.0;
        }
        let id = Mat::identity(self.dim, self.dim);
        self.dense()
            .iter()
            .map(|m| max_abs_diff(&(&adjoint(m) * m), &id))
            .fold(0.0, f64::max)
    }
}
