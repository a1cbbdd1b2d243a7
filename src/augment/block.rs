//! The predictor of a fully augmented training set through its isotypic block structure.
//!
//! Augmenting `X = (x_1 … x_N)` with a finite group `G` gives the training set
//! `{ρ_X(g) x_i}` (index `(g, i)`), and for a kernel invariant under simultaneous transformation
//! (MATH.md §6) its Gram matrix is **G-circulant**:
//!
//! ```text
//! Θ(g x_i, h x_j) = Θ(x_i, g⁻¹h x_j) = A(g⁻¹h)_ij,        A(k)_ij = Θ(x_i, ρ_X(k) x_j).
//! ```
//!
//! It commutes with `(g, i) ↦ (k g, i)`, so the group Fourier transform block-diagonalises it:
//! on the functions `g ↦ Σ_b ψ(g)_ab u_b` (one copy for each row `a` of each unitary irrep `ψ`,
//! `u ∈ (ℂ^N)^{d_ψ}`) the normalised operator `Θ/|G|` acts as the `d_ψ N × d_ψ N` Hermitian block
//!
//! ```text
//! B_ψ = (1/|G|) Σ_k ψ(k) ⊗ A(k)          (block (c, b) = (1/|G|) Σ_k ψ(k)_cb A(k)),
//! ```
//!
//! and the flow of the augmented set at rate `η/(|G|·N·O)` is the flow of `B_ψ` at rate
//! `η/(N·O)`. With `F_ψ = f(B_ψ + r/|G|, η t/(N·O))`, `f(λ, s) = (1 − e^{−λs})/λ` and, for a
//! test input `x` and the functions `a_x(g)_i = Θ(x, ρ_X(g) x_i)`, `k_x(g)_i = K(x, ρ_X(g) x_i)`:
//!
//! ```text
//! α_ψa(x)   = (1/|G|) Σ_g ψ(g)_a· ⊗ a_x(g)            (a row over (c, i), length d_ψ N)
//! û_ψa[Y]   = (d_ψ/|G|) Σ_g conj ψ(g)_a· ⊗ Y ρ_Y(g)ᵀ    (a column over (b, i), d_ψ N × O)
//! μ_t(x)    = Re Σ_ψ Σ_a α_ψa(x) F_ψ û_ψa[Y]
//! Σ_t(x,x') = K(x,x') + Re Σ_ψ d_ψ Σ_a [P F_ψ C_ψ F_ψ P'ᴴ − P F_ψ Q'ᴴ − Q F_ψ P'ᴴ]
//! ```
//!
//! with `P = α_ψa(x)`, `Q` the same built from `k_x`, and `C_ψ` the block of `K` built like
//! `B_ψ`. For invariant targets only the trivial irrep carries `û[Y]`, and `μ_t` is the plain
//! predictor of the **orbit-averaged** kernel `Θ̄ = B_trivial` at the un-augmented rate.
//! Cost: `Σ_ψ (d_ψ N)³ ≤ max d_ψ · |G| N³` instead of `(|G| N)³` for the eigendecompositions, and
//! `|G| N²` training kernel entries instead of `|G|² N²`.
//!
//! Regularisation and the pseudo-inverse cut-off are those of [`crate::Predictor`] applied to the
//! explicit `|G|N × |G|N` system: `r = diag_reg · mean_i A(e)_ii` (added as `r/|G|` to every block)
//! and `ε = 1e-12 · |G|N · λ_max` (in units of the blocks).

use faer::{Mat, MatRef};
use num_complex::Complex64 as C64;

use super::spectral::{check_time, hermitian_eigen, spectral_factor};
use crate::error::{Error, Result};
use crate::group::FiniteGroup;
use crate::predict::PSEUDO_INVERSE_RTOL;
use crate::rep::Irrep;

/// Relative tolerance of the invariance check `A(k)ᵀ = A(k⁻¹)`.
const INVARIANCE_RTOL: f64 = 1e-8;

/// One irrep's block: eigendecomposition of `B_ψ`, target coefficients and `C_ψ`.
#[derive(Clone, Debug)]
struct IrrepBlock {
    dim: usize,
    /// `ψ(g)` for every g.
    mats: Vec<Mat<C64>>,
    /// Eigenvalues of `B_ψ + r/|G|`.
    lambda: Vec<f64>,
    /// Eigenvectors, `dN × dN`.
    vectors: Mat<C64>,
    /// `Vᴴ û_ψa[Y]` for a = 0..d (`dN × O`); empty when ψ does not occur in the targets.
    targets: Vec<Mat<C64>>,
    /// `Vᴴ C_ψ V`, when the NNGP was given.
    nngp: Option<Mat<C64>>,
}

/// Mean and covariance of the infinite ensemble trained on a fully augmented training set,
/// computed irrep by irrep (module docs for the equations).
#[derive(Clone, Debug)]
pub(crate) struct BlockPredictor {
    n: usize,
    outputs: usize,
    order: usize,
    blocks: Vec<IrrepBlock>,
    /// `η/(N·O)`.
    rate: f64,
    cutoff: f64,
}

/// `A(k)` = columns `k·N .. (k+1)·N` of an `R × |G|N` matrix.
fn orbit_block(m: MatRef<f64>, k: usize, n: usize) -> MatRef<f64> {
    m.subcols(k * n, n)
}

impl BlockPredictor {
    /// Prepares μ_t (and Σ_t when `nngp_train_aug` is given) from
    ///
    /// * `ntk_train_aug` — `N × |G|N`, entry `[i, k·N + j] = Θ(x_i, ρ_X(k) x_j)` (the kernel of
    ///   the training inputs against the group-major augmented set);
    /// * `nngp_train_aug` — the same for K (needed only for the covariance);
    /// * `y_train` (`N × O`), `rho_y` (`ρ_Y(g)`, one `O × O` orthogonal matrix per element);
    /// * `group`, its complete set of unitary `irreps`, learning rate η, `diag_reg`.
    ///
    /// Errors on shapes, an incomplete set of irreps, non-finite values, or a kernel that is not
    /// invariant under simultaneous transformation (`A(k)ᵀ ≠ A(k⁻¹)`, which the block structure
    /// needs).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        group: &dyn FiniteGroup,
        irreps: &[Irrep],
        ntk_train_aug: MatRef<f64>,
        nngp_train_aug: Option<MatRef<f64>>,
        y_train: MatRef<f64>,
        rho_y: &[Mat<f64>],
        learning_rate: f64,
        diag_reg: f64,
    ) -> Result<Self> {
        let order = group.order();
        let n = y_train.nrows();
        let o = y_train.ncols();
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(Error::Invalid(format!(
                "the learning rate must be a finite number > 0, got {}",
                crate::symbolic::print::compact_number(learning_rate)
            )));
        }
        if !(diag_reg.is_finite() && diag_reg >= 0.0) {
            return Err(Error::Invalid(format!(
                "diag_reg must be a finite number >= 0, got {}",
                crate::symbolic::print::compact_number(diag_reg)
            )));
        }
        if n == 0 || o == 0 {
            return Err(Error::Shape("the training targets are empty".into()));
        }
        let total: usize = irreps.iter().map(|ir| ir.dim() * ir.dim()).sum();
        if total != order || irreps.iter().any(|ir| ir.rep.order() != order) {
            return Err(Error::Group(format!(
                "the block predictor needs a complete set of irreps of {} (Σ d² = {order}, got \
                 {total})",
                group.name()
            )));
        }
        for (what, m) in [("Θ", Some(ntk_train_aug)), ("K", nngp_train_aug)] {
            let Some(m) = m else { continue };
            if m.nrows() != n || m.ncols() != order * n {
                return Err(Error::Shape(format!(
                    "the augmented training {what} is {}×{}, expected {n}×{} (N × |G|N)",
                    m.nrows(),
                    m.ncols(),
                    order * n
                )));
            }
            check_invariant(group, m, n, what)?;
        }
        if rho_y.len() != order || rho_y.iter().any(|r| r.nrows() != o || r.ncols() != o) {
            return Err(Error::Shape(format!(
                "need {order} output matrices ρ_Y(g) of size {o}×{o}"
            )));
        }
        if (0..o).any(|c| (0..n).any(|i| !y_train[(i, c)].is_finite())) {
            return Err(Error::Data(
                "the training targets hold a non-finite value".into(),
            ));
        }

        let regulariser = diag_reg * (0..n).map(|i| ntk_train_aug[(i, i)]).sum::<f64>() / n as f64;
        let mut blocks = Vec::with_capacity(irreps.len());
        for ir in irreps {
            let d = ir.dim();
            let mats: Vec<Mat<C64>> = (0..order)
                .map(|g| ir.rep.matrix(g))
                .collect::<Result<_>>()?;
            let mut b = circulant_block(&mats, ntk_train_aug, n, d);
            for k in 0..d * n {
                b[(k, k)] += C64::new(regulariser / order as f64, 0.0);
            }
            let (lambda, vectors) = hermitian_eigen(&b, "an isotypic block of Θ")?;
            let vh = vectors.adjoint().to_owned();
            // û_ψa[Y] = (d/|G|) Σ_g conj ψ(g)_ab Y ρ_Y(g)ᵀ, stacked over b.
            let mut targets = Vec::new();
            let mut any = false;
            let coeffs: Vec<Vec<Mat<C64>>> = (0..d)
                .map(|a| {
                    (0..d)
                        .map(|bb| {
                            let mut m = Mat::<C64>::zeros(o, o);
                            for (g, r) in rho_y.iter().enumerate() {
                                let w = mats[g][(a, bb)].conj() * (d as f64 / order as f64);
                                for p in 0..o {
                                    for q in 0..o {
                                        m[(p, q)] += w * r[(q, p)];
                                    }
                                }
                            }
                            m
                        })
                        .collect()
                })
                .collect();
            let scale = 1e-13;
            for row in &coeffs {
                for m in row {
                    for q in 0..o {
                        for p in 0..o {
                            any |= m[(p, q)].norm() > scale;
                        }
                    }
                }
            }
            if any {
                let yc = Mat::from_fn(n, o, |i, c| C64::new(y_train[(i, c)], 0.0));
                for row in &coeffs {
                    let mut u = Mat::<C64>::zeros(d * n, o);
                    for (bb, m) in row.iter().enumerate() {
                        let block = &yc * m;
                        for i in 0..n {
                            for c in 0..o {
                                u[(bb * n + i, c)] = block[(i, c)];
                            }
                        }
                    }
                    targets.push(&vh * &u);
                }
            }
            let nngp = nngp_train_aug.map(|k| {
                let c = circulant_block(&mats, k, n, d);
                &vh * &c * &vectors
            });
            blocks.push(IrrepBlock {
                dim: d,
                mats,
                lambda,
                vectors,
                targets,
                nngp,
            });
        }
        let lambda_max = blocks
            .iter()
            .flat_map(|b| b.lambda.iter())
            .fold(0.0_f64, |m, &l| m.max(l.abs()));
        let lambda_min = blocks
            .iter()
            .flat_map(|b| b.lambda.iter())
            .fold(f64::INFINITY, |m, &l| m.min(l));
        if lambda_min < -1e-6 * lambda_max {
            return Err(Error::Numeric(format!(
                "the augmented training NTK is not positive semi-definite (eigenvalue \
                 {lambda_min:e} against largest {lambda_max:e})"
            )));
        }
        Ok(Self {
            n,
            outputs: o,
            order,
            blocks,
            rate: learning_rate / (n * o) as f64,
            cutoff: PSEUDO_INVERSE_RTOL * (order * n) as f64 * lambda_max,
        })
    }

    /// `α_ψa(x)` for every test row: `M × dN`.
    fn alpha(&self, b: &IrrepBlock, a: usize, test: MatRef<f64>) -> Mat<C64> {
        let (n, d, order) = (self.n, b.dim, self.order);
        let m = test.nrows();
        let mut out = Mat::<C64>::zeros(m, d * n);
        for g in 0..order {
            let block = orbit_block(test, g, n);
            for c in 0..d {
                let w = b.mats[g][(a, c)] / order as f64;
                if w.norm() == 0.0 {
                    continue;
                }
                for i in 0..n {
                    for r in 0..m {
                        out[(r, c * n + i)] += w * block[(r, i)];
                    }
                }
            }
        }
        out
    }

    fn factors(&self, b: &IrrepBlock, t: f64) -> Vec<f64> {
        b.lambda
            .iter()
            .map(|&l| spectral_factor(l, self.rate * t, self.cutoff))
            .collect()
    }

    fn check_test(&self, what: &str, m: MatRef<f64>) -> Result<()> {
        if m.ncols() != self.order * self.n {
            return Err(Error::Shape(format!(
                "{what} has {} columns, expected |G|·N = {}",
                m.ncols(),
                self.order * self.n
            )));
        }
        if (0..m.ncols()).any(|j| (0..m.nrows()).any(|i| !m[(i, j)].is_finite())) {
            return Err(Error::Data(format!("{what} holds a non-finite value")));
        }
        Ok(())
    }

    /// `μ_t` at M test inputs from `ntk_test_aug` (`M × |G|N`, entry `[x, g·N + i] =
    /// Θ(x, ρ_X(g) x_i)`); returns `M × O`. `t` may be `f64::INFINITY`.
    pub fn mean(&self, ntk_test_aug: MatRef<f64>, t: f64) -> Result<Mat<f64>> {
        check_time(t)?;
        self.check_test("the test × augmented-train NTK", ntk_test_aug)?;
        let m = ntk_test_aug.nrows();
        let mut out = Mat::<f64>::zeros(m, self.outputs);
        for b in self.blocks.iter().filter(|b| !b.targets.is_empty()) {
            let f = self.factors(b, t);
            for (a, target) in b.targets.iter().enumerate() {
                let scaled =
                    Mat::from_fn(target.nrows(), target.ncols(), |i, c| target[(i, c)] * f[i]);
                let p = self.alpha(b, a, ntk_test_aug) * &b.vectors;
                let mu = &p * &scaled;
                for r in 0..m {
                    for c in 0..self.outputs {
                        out[(r, c)] += mu[(r, c)].re;
                    }
                }
            }
        }
        check_output("mean", out.as_ref(), t)?;
        Ok(out)
    }

    /// `Σ_t` over M test inputs (`M × M`), from K(x, x') (`nngp_test_test`, M × M) and the
    /// test × augmented-train kernels `nngp_test_aug`, `ntk_test_aug` (`M × |G|N`). Needs the
    /// NNGP at construction.
    pub fn covariance(
        &self,
        nngp_test_test: MatRef<f64>,
        nngp_test_aug: MatRef<f64>,
        ntk_test_aug: MatRef<f64>,
        t: f64,
    ) -> Result<Mat<f64>> {
        check_time(t)?;
        self.check_test("the test × augmented-train NTK", ntk_test_aug)?;
        self.check_test("the test × augmented-train NNGP", nngp_test_aug)?;
        let m = ntk_test_aug.nrows();
        if nngp_test_test.nrows() != m || nngp_test_test.ncols() != m || nngp_test_aug.nrows() != m
        {
            return Err(Error::Shape(format!(
                "the test kernels must have {m} rows (K(x,x') is {}×{})",
                nngp_test_test.nrows(),
                nngp_test_test.ncols()
            )));
        }
        let mut acc = Mat::<C64>::zeros(m, m);
        for b in &self.blocks {
            let c = b.nngp.as_ref().ok_or_else(|| {
                Error::Invalid(
                    "the covariance needs the augmented training NNGP at construction".into(),
                )
            })?;
            let f = self.factors(b, t);
            let dn = f.len();
            for a in 0..b.dim {
                // In the eigenbasis: P̃ = P V diag(f), Q̃ = Q V.
                let mut p = self.alpha(b, a, ntk_test_aug) * &b.vectors;
                for j in 0..dn {
                    for r in 0..m {
                        p[(r, j)] *= f[j];
                    }
                }
                let q = self.alpha(b, a, nngp_test_aug) * &b.vectors;
                let quad = &p * c * p.adjoint();
                let cross = &p * q.adjoint();
                let w = b.dim as f64;
                for i in 0..m {
                    for j in 0..m {
                        acc[(i, j)] += (quad[(i, j)] - cross[(i, j)] - cross[(j, i)].conj()) * w;
                    }
                }
            }
        }
        let cov = Mat::from_fn(m, m, |i, j| {
            let s = |i: usize, j: usize| nngp_test_test[(i, j)] + acc[(i, j)].re;
            0.5 * (s(i, j) + s(j, i))
        });
        check_output("covariance", cov.as_ref(), t)?;
        Ok(cov)
    }
}

/// `(1/|G|) Σ_k ψ(k) ⊗ A(k)`: block (c, b) is `(1/|G|) Σ_k ψ(k)_cb A(k)`.
fn circulant_block(mats: &[Mat<C64>], aug: MatRef<f64>, n: usize, d: usize) -> Mat<C64> {
    let order = mats.len();
    let mut b = Mat::<C64>::zeros(d * n, d * n);
    for (k, psi) in mats.iter().enumerate() {
        let a = orbit_block(aug, k, n);
        for c in 0..d {
            for bb in 0..d {
                let w = psi[(c, bb)] / order as f64;
                if w.norm() == 0.0 {
                    continue;
                }
                for j in 0..n {
                    for i in 0..n {
                        b[(c * n + i, bb * n + j)] += w * a[(i, j)];
                    }
                }
            }
        }
    }
    b
}

/// `A(k)ᵀ = A(k⁻¹)` (to `INVARIANCE_RTOL`), a necessary condition for the G-circulant structure.
fn check_invariant(group: &dyn FiniteGroup, aug: MatRef<f64>, n: usize, what: &str) -> Result<()> {
    let mut scale = 0.0_f64;
    for j in 0..aug.ncols() {
        for i in 0..n {
            let v = aug[(i, j)];
            if !v.is_finite() {
                return Err(Error::Data(format!(
                    "the augmented training {what} holds a non-finite value"
                )));
            }
            scale = scale.max(v.abs());
        }
    }
    for k in 0..group.order() {
        let a = orbit_block(aug, k, n);
        let b = orbit_block(aug, group.inv(k), n);
        for i in 0..n {
            for j in 0..n {
                if (a[(i, j)] - b[(j, i)]).abs() > INVARIANCE_RTOL * scale {
                    return Err(Error::Numeric(format!(
                        "the {what} is not invariant under {} acting on both arguments: \
                         {what}(x_{i}, g x_{j}) ≠ {what}(x_{j}, g⁻¹ x_{i}) for g = {}; the \
                         block-diagonal predictor needs an invariant kernel (use explicit \
                         augmentation)",
                        group.name(),
                        group.element_name(k)
                    )));
                }
            }
        }
    }
    Ok(())
}

fn check_output(what: &str, a: MatRef<f64>, t: f64) -> Result<()> {
    if (0..a.ncols()).any(|j| (0..a.nrows()).any(|i| !a[(i, j)].is_finite())) {
        return Err(Error::Numeric(format!(
            "the predicted {what} at t = {t} overflowed to a non-finite value"
        )));
    }
    Ok(())
}
