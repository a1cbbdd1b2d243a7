//! SO(2) G-CNNs: kernels of the relative angle, evaluated on an angular grid (MATH.md §5, §7).
//!
//! A network whose first layer is an SO(2) lifting (`group = "SO2"`, `filter = "full"`) carries,
//! from the lifting to its `group_pool`, features that are functions on the circle. Its kernels
//! then depend on the two angles only through their difference:
//!
//! * **Lifting.** The feature at angle θ correlates the input with the filter rotated by θ,
//!   `h(θ)(x) = σ_w/√(PC) ⟨R_θ W, x⟩ + σ_b b = σ_w/√(PC) ⟨W, R_θ⁻¹ x⟩ + σ_b b` (ρ is orthogonal;
//!   PC is the number of input values). Hence
//!   `K¹(θ, θ')(x, x') = σ_w² k⁰(R_θ⁻¹ x, R_θ'⁻¹ x') + σ_b² = K¹(φ)(x, x')` with
//!
//!   ```text
//!   φ = θ − θ'  (first angle minus second),    K¹(φ)(x, x') = σ_w² k⁰(x, R_φ x') + σ_b²,    Θ¹ = K¹
//!   ```
//!
//!   where `k⁰(x, x') = x·x'/(PC)` is the kernel of flatten → dense's input. This is the finite
//!   case `K¹[g, g'] = k¹(x, ρ(g g'⁻¹) x')` of MATH.md §7 with `g g'⁻¹ = R_{θ−θ'}`. Rotating an
//!   input shifts the function: `K¹(φ)(R_α x, R_β x') = K¹(φ + β − α)(x, x')`.
//! * **Nonlinearity**, at every φ: `K'(φ) = T(k11, K(φ), k22)`, `Θ'(φ) = Ṫ(…) Θ(φ)`, with the
//!   self-covariance diagonals `k11 = K(θ, θ)(x, x) = K(0)(x, x)` — the same for every θ, the
//!   variances of the MLP.
//! * **Group convolution** over all of SO(2): the Haar average of identical terms,
//!   `(1/2π) ∫ dη M(θ + η, θ' + η) = M(θ − θ')`, so (as for a finite group with full support)
//!   `K'(φ) = σ_w² K(φ) + σ_b²` and `Θ'(φ) = σ_w² Θ(φ) + K'(φ)`. A `dense` layer acts the same
//!   way at every φ.
//! * **Group pooling**: the mean over θ and θ', i.e. the zero Fourier mode
//!   `K_pool = (1/2π) ∫ K(φ) dφ` (likewise Θ and the self-covariances).
//!
//! **The grid.** For every example pair the input kernel `φ ↦ k⁰(x, R_φ x')` is a
//! trigonometric polynomial, known through its Fourier coefficients: `A cos φ + B sin φ` for
//! point sets `[P, 2]` (`A = Σ_p x_p·x'_p/(2P)`, `B = Σ_p (x_p,1 x'_p,0 − x_p,0 x'_p,1)/(2P)`,
//! with `R_φ = [[cos φ, −sin φ], [sin φ, cos φ]]`), and, for odd signals `[n, C]` with `X_m = (1/n) Σ_j x[j] e^{−2πimj/n}`
//! and `z_m = Σ_c X_m,c conj(X'_m,c)`, `(1/C)[z_0 + 2 Σ_{m=1}^{L} (Re z_m cos mφ − Im z_m sin mφ)]`
//! (Parseval; rotation multiplies mode m by `e^{−imφ}`). It is evaluated exactly at the N angles
//! `φ_j = φ₀ + 2πj/N`; the layers act pointwise on these values and the pool is their mean,
//! `(1/N) Σ_j f(φ_j) = Σ_{N | m} f̂_m`. The grid is refined N → 2N (starting from the smallest
//! power of two ≥ max(8, 2L + 2), so that k⁰ is resolved) until the change of the pooled NNGP
//! and NTK — the **aliasing estimate**, `Σ_{m ≡ N/2 mod N} f̂_m` for the trapezoidal rule — is at
//! most `tol` times the pair's scale `max(|K̄|, |Θ̄|, √(K(0)(x,x) K(0)(x',x')),
//! √(Θ(0)(x,x) Θ(0)(x',x')))` (the Cauchy–Schwarz bounds of the integrands).
//!
//! When `|k⁰(x, R_φ x')|` reaches its Cauchy–Schwarz bound at some φ₀ (the pair `(x, x)`, a
//! rotated copy, a rotated negative; every pair of single points), kinked nonlinearities make the
//! integrand non-smooth there (ReLU: `|φ − φ₀|³` in the NNGP, `|φ − φ₀|` in the NTK) and the
//! plain rule converges like `N⁻²`. The grid is then anchored at φ₀ (and N is even, so φ₀ + π —
//! the other point where `R_φ x' = ±x` for point sets — is a node too); each half period is
//! smooth up to its end points, Euler–Maclaurin gives an error expansion in even powers of
//! `1/N`, and Romberg extrapolation removes them. Such a pair stops as soon as either sequence
//! — the plain rule (geometric for analytic φ, e.g. erf) or its extrapolation — changes by at
//! most the tolerance, and reports that change. Other pairs use the anchor of their largest `|k⁰|` and the plain rule,
//! which converges geometrically (the integrand is analytic in a strip). The refinement, its
//! stopping rule and its cap are those of [`crate::so2_quadrature`] (the one circle quadrature of
//! the crate; at the cap, [`Error::NotConverged`]).
//!
//! **The C_N discretisation.** [`Network::discretised`] builds the C_N G-CNN on the same circle
//! (the lift on the N rotated copies of the input, [`So2Grid`]); its kernel is the trapezoidal
//! rule of the one above on the unanchored grid, and its finite networks are what
//! [`crate::FiniteNetwork::sample`] draws for an SO(2) G-CNN.

use std::f64::consts::PI;

use num_complex::Complex;
use rayon::prelude::*;

use super::Network;
use crate::action::Domain;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::GroupSpec;
use crate::kernel::{BlockMap, Kernel};

use crate::so2_quadrature;

/// How the angular section of an SO(2) G-CNN was evaluated (see the module docs of
/// `network::so2` in the source: derivation, grid, aliasing estimate).
#[derive(Clone, Debug, PartialEq)]
pub struct So2Report {
    /// The largest number N of grid angles any example pair needed.
    pub angles: usize,
    /// The aliasing estimate: the largest change of a pooled NNGP or NTK entry (self-covariances
    /// included) at its last refinement, relative to the pair's scale; at most `tol`.
    pub aliasing_estimate: f64,
    /// The tolerance asked (the lift's `tol`, default [`crate::layer::Lift::DEFAULT_SO2_TOL`]).
    pub tol: f64,
}

/// A network's kernel together with how it was evaluated.
#[derive(Clone, Debug)]
pub struct KernelReport {
    /// The kernel, as [`Network::kernel`] returns it.
    pub kernel: Kernel,
    /// For a network starting with an SO(2) lifting: its angular grid and aliasing estimate.
    pub so2: Option<So2Report>,
    /// For each written activation (`elementwise`): its quadrature's error estimate.
    pub quadrature: Vec<super::QuadratureReport>,
}

/// `|k⁰|` within this relative distance of its Cauchy–Schwarz bound counts as reaching it.
const SINGULAR_GAP: f64 = 1e-9;

/// Angles evaluated per pass through the layers (bounded buffers).
const CHUNK: usize = 512;

/// `f(φ) = Σ_{m=0}^{L} (a_m cos mφ + b_m sin mφ)`.
#[derive(Clone, Debug)]
struct Trig {
    a: Vec<f64>,
    b: Vec<f64>,
}

impl Trig {
    fn eval(&self, phi: f64) -> f64 {
        let mut f = self.a[0];
        for m in 1..self.a.len() {
            let (s, c) = (m as f64 * phi).sin_cos();
            f += self.a[m] * c + self.b[m] * s;
        }
        f
    }

    /// `(f', f'')` at φ.
    fn derivatives(&self, phi: f64) -> (f64, f64) {
        let (mut d1, mut d2) = (0.0, 0.0);
        for m in 1..self.a.len() {
            let mf = m as f64;
            let (s, c) = (mf * phi).sin_cos();
            d1 += mf * (self.b[m] * c - self.a[m] * s);
            d2 -= mf * mf * (self.a[m] * c + self.b[m] * s);
        }
        (d1, d2)
    }

    /// An angle where `|f|` is largest: the best of a fine sample, polished by Newton on `f'`.
    fn peak(&self) -> f64 {
        let samples = 16 * self.a.len().max(2);
        let h = 2.0 * PI / samples as f64;
        let mut best = (0..samples)
            .map(|j| j as f64 * h)
            .max_by(|p, q| self.eval(*p).abs().total_cmp(&self.eval(*q).abs()))
            .unwrap_or(0.0);
        let mut phi = best;
        for _ in 0..30 {
            let (d1, d2) = self.derivatives(phi);
            if d2 == 0.0 {
                break;
            }
            let step = d1 / d2;
            if !step.is_finite() || step.abs() > h {
                break;
            }
            phi -= step;
            if step.abs() < 1e-15 {
                break;
            }
        }
        if self.eval(phi).abs() >= self.eval(best).abs() {
            best = phi;
        }
        best
    }
}

/// How SO(2) acts on one input example, with what the input kernel needs of it.
enum Spectra {
    /// Point sets `[P, 2]` (or one point `[2]`): the points, row-major.
    Points(Vec<Vec<f64>>),
    /// Odd signals `[n, C]`: `X_m,c` for `m = 0..=L`, per example (`(L + 1) × C`, row-major),
    /// and the channel count.
    Signal(Vec<Vec<Complex<f64>>>, usize),
}

impl Spectra {
    fn new(x: &Batch, domain: Domain) -> Self {
        match (domain, x.shape()) {
            (Domain::Points, _) => {
                Spectra::Points((0..x.len()).map(|i| x.example(i).to_vec()).collect())
            }
            (_, &[n, c]) => {
                let l = (n - 1) / 2;
                let spectra = (0..x.len())
                    .map(|i| {
                        let e = x.example(i);
                        let mut out = vec![Complex::new(0.0, 0.0); (l + 1) * c];
                        for m in 0..=l {
                            for j in 0..n {
                                let w = Complex::from_polar(
                                    1.0 / n as f64,
                                    -2.0 * PI * (m * j % n) as f64 / n as f64,
                                );
                                for ch in 0..c {
                                    out[m * c + ch] += w * e[j * c + ch];
                                }
                            }
                        }
                        out
                    })
                    .collect();
                Spectra::Signal(spectra, c)
            }
            _ => unreachable!("checked by Lift::output_shape"),
        }
    }

    /// The degree L of the input kernel's trigonometric polynomial.
    fn degree(&self) -> usize {
        match self {
            Spectra::Points(_) => 1,
            Spectra::Signal(s, c) => s.first().map_or(0, |v| v.len() / c - 1),
        }
    }

    /// `φ ↦ k⁰(x_i, R_φ x'_j)` with `x'_j` from `other` (see the module docs).
    fn input_kernel(&self, i: usize, other: &Spectra, j: usize) -> Trig {
        match (self, other) {
            (Spectra::Points(x), Spectra::Points(y)) => {
                let (x, y) = (&x[i], &y[j]);
                let p = (x.len() / 2) as f64;
                let (mut a, mut b) = (0.0, 0.0);
                for (u, v) in x.chunks(2).zip(y.chunks(2)) {
                    a += u[0] * v[0] + u[1] * v[1];
                    b += u[1] * v[0] - u[0] * v[1];
                }
                Trig {
                    a: vec![0.0, a / (2.0 * p)],
                    b: vec![0.0, b / (2.0 * p)],
                }
            }
            (Spectra::Signal(x, c), Spectra::Signal(y, _)) => {
                let (x, y, c) = (&x[i], &y[j], *c);
                let modes = x.len() / c;
                let mut a = vec![0.0; modes];
                let mut b = vec![0.0; modes];
                for m in 0..modes {
                    let z: Complex<f64> =
                        (0..c).map(|ch| x[m * c + ch] * y[m * c + ch].conj()).sum();
                    let w = if m == 0 { 1.0 } else { 2.0 } / c as f64;
                    a[m] = w * z.re;
                    b[m] = -w * z.im;
                }
                b[0] = 0.0;
                Trig { a, b }
            }
            _ => unreachable!("both batches have the network's input shape"),
        }
    }
}

/// The layers of the angular section as maps of one-site blocks, applied at every angle.
struct Section<'a> {
    maps: Vec<Box<dyn BlockMap + 'a>>,
    tol: f64,
}

/// The self-covariance `K(0)(x, x)` entering every map of the section, and `(K, Θ)(0)(x, x)` at
/// its end.
struct Variances {
    entering: Vec<f64>,
    last: (f64, f64),
}

/// One example pair to evaluate: its input kernel, where its grid is anchored, whether the plain
/// rule needs Romberg extrapolation, and the variances of both examples.
struct Pair<'v> {
    trig: Trig,
    anchor: f64,
    singular: bool,
    v1: &'v Variances,
    v2: &'v Variances,
}

/// A pooled pair: `(K̄, Θ̄)`, the angles used and the relative aliasing estimate.
struct Pooled {
    k: f64,
    t: f64,
    angles: usize,
    estimate: f64,
}

impl Section<'_> {
    fn variances(&self, v0: f64) -> Variances {
        let (mut k, mut t) = (v0, 0.0);
        let mut entering = Vec::with_capacity(self.maps.len());
        for m in &self.maps {
            entering.push(k);
            let (mut ko, mut to) = ([0.0], [0.0]);
            m.apply(true, &[k], Some(&[t]), &[k], &[k], &mut ko, Some(&mut to));
            (k, t) = (ko[0], to[0]);
        }
        Variances {
            entering,
            last: (k, t),
        }
    }

    /// `(Σ K(φ), Σ Θ(φ))` over the angles `φ = anchor + 2πj/n` for `j = first, first + step, …`.
    fn sum(&self, pair: &Pair, n: usize, first: usize, step: usize) -> (f64, f64) {
        let js: Vec<usize> = (first..n).step_by(step).collect();
        let (mut sk, mut st) = (0.0, 0.0);
        let mut buf = [vec![], vec![], vec![], vec![]];
        let mut d2 = vec![];
        for chunk in js.chunks(CHUNK) {
            let len = chunk.len();
            let [k, t, k2, t2] = &mut buf;
            k.clear();
            k.extend(
                chunk
                    .iter()
                    .map(|&j| pair.trig.eval(pair.anchor + 2.0 * PI * j as f64 / n as f64)),
            );
            t.clear();
            t.resize(len, 0.0);
            k2.resize(len, 0.0);
            t2.resize(len, 0.0);
            for (l, m) in self.maps.iter().enumerate() {
                d2.clear();
                d2.resize(len, pair.v2.entering[l]);
                m.apply_row(
                    true,
                    1,
                    k,
                    Some(t),
                    &[pair.v1.entering[l]],
                    &d2,
                    k2,
                    Some(t2),
                );
                std::mem::swap(k, k2);
                std::mem::swap(t, t2);
            }
            sk += k.iter().sum::<f64>();
            st += t.iter().sum::<f64>();
        }
        (sk, st)
    }

    /// Refine the grid of one pair ([`crate::so2_quadrature::refine_sums`]) until its pooled
    /// `(K̄, Θ̄)` changes by at most `tol` times its scale; `what` names the pair in the
    /// [`Error::NotConverged`] at the cap.
    fn pool(&self, pair: &Pair, n0: usize, what: impl FnOnce() -> String) -> Result<Pooled> {
        let natural = ((pair.v1.last.0 * pair.v2.last.0).abs().sqrt())
            .max((pair.v1.last.1 * pair.v2.last.1).abs().sqrt());
        let m = so2_quadrature::refine_sums(
            n0,
            self.tol,
            pair.singular,
            what,
            |n, first, step| {
                let (k, t) = self.sum(pair, n, first, step);
                Ok(vec![k, t])
            },
            |v| {
                let s = natural.max(v[0].abs()).max(v[1].abs());
                vec![s, s]
            },
        )?;
        Ok(Pooled {
            k: m.values[0],
            t: m.values[1],
            angles: m.angles,
            estimate: m.estimate,
        })
    }
}

impl Network {
    /// The index of the `group_pool` closing the SO(2) angular section, if the network starts
    /// with an SO(2) lifting.
    pub(super) fn so2_pool(&self) -> Option<usize> {
        match self.layers.first()?.lifts_to() {
            Some(GroupSpec::So2 { .. }) => {
                self.layers.iter().position(|l| l.closes_group_section())
            }
            _ => None,
        }
    }

    /// The kernel after the `group_pool` at `pool` of an SO(2) G-CNN (one site per example),
    /// with its report.
    pub(super) fn so2_pooled_kernel(
        &self,
        x1: &Batch,
        x2: Option<&Batch>,
        pool: usize,
    ) -> Result<(Kernel, So2Report)> {
        let lift = self.layers[0]
            .as_lift()
            .ok_or_else(|| Error::Spec("an SO2 G-CNN starts with an SO2 lift".into()))?;
        let mut maps: Vec<Box<dyn BlockMap + '_>> = vec![Box::new(lift.so2_map(&self.shapes[0]))];
        for l in 1..pool {
            let layer = &self.layers[l];
            maps.push(layer.so2_map(&self.shapes[l]).ok_or_else(|| {
                Error::Spec(format!(
                    "layers[{l}] ({}): not available on SO2 features",
                    layer.kind()
                ))
            })?);
        }
        let section = Section {
            maps,
            tol: lift.so2_tol(),
        };
        let s1 = Spectra::new(x1, self.domain);
        let s2 = x2.map(|x| Spectra::new(x, self.domain));
        let s2r = s2.as_ref().unwrap_or(&s1);
        let (n1, n2) = (x1.len(), x2.map_or(x1.len(), Batch::len));
        let n0 = so2_quadrature::first_grid(s1.degree());

        let variances = |s: &Spectra, n: usize| -> Vec<Variances> {
            (0..n)
                .into_par_iter()
                .map(|i| section.variances(s.input_kernel(i, s, i).eval(0.0)))
                .collect()
        };
        let var1 = variances(&s1, n1);
        let var2 = s2.as_ref().map(|s| variances(s, n2));
        let var2r = var2.as_ref().unwrap_or(&var1);

        // Jobs: (which, i, j) with which = 0 for cross pairs, 1 and 2 for the self-covariances
        // of x1 and x2 when x2 is given.
        let mut jobs: Vec<(u8, usize, usize)> = Vec::new();
        for i in 0..n1 {
            let j0 = if x2.is_none() { i } else { 0 };
            jobs.extend((j0..n2).map(|j| (0, i, j)));
        }
        if x2.is_some() {
            jobs.extend((0..n1).map(|i| (1, i, i)));
            jobs.extend((0..n2).map(|j| (2, j, j)));
        }
        let results: Vec<Result<Pooled>> = jobs
            .par_iter()
            .map(|&(which, i, j)| {
                let (sa, sb, va, vb) = match which {
                    0 => (&s1, s2r, &var1[i], &var2r[j]),
                    1 => (&s1, &s1, &var1[i], &var1[i]),
                    _ => (s2r, s2r, &var2r[i], &var2r[i]),
                };
                let trig = sa.input_kernel(i, sb, j);
                let same = which != 0 || x2.is_none() && i == j;
                let (anchor, singular) = if same {
                    (0.0, trig.eval(0.0) > 0.0)
                } else {
                    let phi = trig.peak();
                    let bound = (trig_variance(sa, i) * trig_variance(sb, j)).sqrt();
                    (
                        phi,
                        bound > 0.0 && trig.eval(phi).abs() >= (1.0 - SINGULAR_GAP) * bound,
                    )
                };
                let pair = Pair {
                    trig,
                    anchor,
                    singular,
                    v1: va,
                    v2: vb,
                };
                let what = || {
                    let pair = match which {
                        0 => format!("(x1[{i}], x2[{j}])"),
                        1 => format!("(x1[{i}], x1[{i}])"),
                        _ => format!("(x2[{i}], x2[{i}])"),
                    };
                    format!(
                        "layers[0] (lift): the SO2 angular grid of the examples {pair} (raise \
                         `tol` on the lift layer)"
                    )
                };
                section.pool(&pair, n0, what)
            })
            .collect();

        let mut nngp = vec![0.0; n1 * n2];
        let mut ntk = vec![0.0; n1 * n2];
        let mut cov1 = vec![0.0; n1];
        let mut cov2 = x2.map(|_| vec![0.0; n2]);
        let (mut angles, mut estimate) = (0, 0.0f64);
        for (&(which, i, j), r) in jobs.iter().zip(results) {
            let p = r?;
            angles = angles.max(p.angles);
            estimate = estimate.max(p.estimate);
            match which {
                0 => {
                    nngp[i * n2 + j] = p.k;
                    ntk[i * n2 + j] = p.t;
                    if x2.is_none() {
                        nngp[j * n2 + i] = p.k;
                        ntk[j * n2 + i] = p.t;
                        if i == j {
                            cov1[i] = p.k;
                        }
                    }
                }
                1 => cov1[i] = p.k,
                _ => cov2.as_mut().expect("x2 given")[i] = p.k,
            }
        }
        let kernel = Kernel::from_single_site((n1, n2), self.full, nngp, ntk, cov1, cov2);
        Ok((
            kernel,
            So2Report {
                angles,
                aliasing_estimate: estimate,
                tol: section.tol,
            },
        ))
    }
}

/// The C_N discretisation of an SO(2) G-CNN's circle: the N angles `θ_g = 2πg/N` and the
/// input map of [`Network::discretised`].
///
/// The SO(2) lifting computes `h(θ)(x) = σ_w/√(PC) ⟨W, R_θ⁻¹ x⟩ + σ_b b`; on the grid its input is
/// the stack of rotated copies `x̃[g] = R_{θ_g}⁻¹ x` (N sites of P·C channels, `[N, P·C]`
/// row-major), on which the lifting is a dense layer acting at every site g.
#[derive(Clone, Debug, PartialEq)]
pub struct So2Grid {
    angles: usize,
    shape: Vec<usize>,
    domain: Domain,
}

impl So2Grid {
    /// The number N of grid angles.
    pub fn angles(&self) -> usize {
        self.angles
    }

    /// The shape `[N, P·C]` of a stacked example.
    pub fn stacked_shape(&self) -> Vec<usize> {
        vec![self.angles, self.shape.iter().product()]
    }

    /// `x̃[g] = R_{θ_g}⁻¹ x` for every example of `x` (examples of the SO(2) network's input
    /// shape), as a batch of shape [`So2Grid::stacked_shape`].
    pub fn stack(&self, x: &Batch) -> Result<Batch> {
        let per = x.example_len();
        let mut rows = vec![Vec::with_capacity(self.angles * per); x.len()];
        for g in 0..self.angles {
            let theta = 2.0 * PI * g as f64 / self.angles as f64;
            let r = crate::orbit::rotate_batch(x, self.domain, -theta)?;
            for (i, row) in rows.iter_mut().enumerate() {
                row.extend_from_slice(r.example(i));
            }
        }
        Batch::from_examples(self.stacked_shape(), &rows)
    }

    /// [`So2Grid::stack`] of one example.
    pub fn stack_example(&self, example: &[f64]) -> Result<Vec<f64>> {
        let x = Batch::new(self.shape.clone(), example.to_vec())?;
        Ok(self.stack(&x)?.example(0).to_vec())
    }

    /// The number of angles used when a finite SO(2) G-CNN of width `width` is sampled
    /// ([`crate::FiniteNetwork::sample`]): the odd `N = 2⌈2√width⌉ + 1`, at least `2L + 3` for
    /// an input kernel of degree L (1 for point sets, (n − 1)/2 for signals of n samples).
    ///
    /// The C_N kernel differs from the SO(2) one by the aliasing of the Fourier modes of the
    /// relative angle at multiples of N: geometrically small for distinct generic examples, and
    /// `O(N⁻²)` relative where a kinked activation (ReLU) meets `x′ = R_φ x` — at this N about
    /// `1/(16·width)`, below the O(1/width) finite-width bias and far below the O(width^{-1/2})
    /// Monte-Carlo error of one network.
    pub fn angles_for_width(width: usize, degree: usize) -> usize {
        let n = 2 * (2.0 * (width as f64).sqrt()).ceil() as usize + 1;
        n.max(2 * degree + 3)
    }
}

impl Network {
    /// The degree L of the input kernel `φ ↦ k⁰(x, R_φ x′)` of an SO(2) G-CNN: 1 for point sets,
    /// `(n − 1)/2` for signals of n samples; `None` for other networks.
    pub fn so2_degree(&self) -> Option<usize> {
        self.so2_pool()?;
        Some(match (self.domain, self.input.as_slice()) {
            (Domain::Signal, [n, _]) => (n - 1) / 2,
            _ => 1,
        })
    }

    /// The SO(2) G-CNN discretised on the C_N grid of `angles` angles (odd, ≥ 3): a network on the
    /// stacked rotated inputs of the returned [`So2Grid`] in which
    ///
    /// * the SO(2) `lift` is a `dense` layer (same σ's and width) at every site g of `x̃[g]`:
    ///   `K¹[g, g′] = σ_w² k⁰(R_{θ_g}⁻¹ x, R_{θ_g′}⁻¹ x′) + σ_b²`, the C_N lifting;
    /// * a `group_conv` is a circular `conv` over the N sites with a filter of all N taps:
    ///   `(1/N) Σ_h M[g + h, g′ + h]`, the C_N group convolution with full support;
    /// * `group_pool` is `global_avg_pool`: the trapezoidal mean over the grid;
    ///
    /// and every other layer is kept. Its kernel on `grid.stack(x)` is the C_N kernel that the
    /// SO(2) kernel is the N → ∞ limit of; its finite networks are finite C_N G-CNNs.
    ///
    /// Errors when the network has no SO(2) section or `angles` is even or below 3.
    pub fn discretised(&self, angles: usize) -> Result<(Network, So2Grid)> {
        let Some(pool) = self.so2_pool() else {
            return Err(Error::Invalid(
                "only an SO2 G-CNN (an SO2 lift first) has a C_N discretisation".into(),
            ));
        };
        if angles < 3 || angles % 2 == 0 {
            return Err(Error::Invalid(format!(
                "the C_N discretisation of SO2 needs an odd N ≥ 3 (a group convolution is a \
                 centred filter of all N taps), got N = {angles}"
            )));
        }
        let mut layers = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            // The section — the lift, the group convolutions, the pooling that closes it —
            // becomes its C_N counterpart; the layers after it stay as they are.
            let in_section = l <= pool;
            layers.push(
                in_section
                    .then(|| layer.so2_discretised(angles))
                    .flatten()
                    .unwrap_or_else(|| layer.clone()),
            );
        }
        let grid = So2Grid {
            angles,
            shape: self.input.clone(),
            domain: self.domain,
        };
        let net = Network::new(grid.stacked_shape(), layers)?;
        Ok((net, grid))
    }
}

/// `k⁰(x_i, x_i)`, the variance of example i of `s`.
fn trig_variance(s: &Spectra, i: usize) -> f64 {
    s.input_kernel(i, s, i).eval(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orbit::rotate_batch;

    /// The Fourier form of `k⁰(x, R_φ x')` against the input kernel of actually rotated
    /// examples (sign convention of φ included).
    #[test]
    fn input_kernel_matches_rotated_inputs() {
        for (shape, domain) in [
            (vec![3, 2], Domain::Points),
            (vec![2], Domain::Points),
            (vec![7, 1], Domain::Signal),
            (vec![5, 3], Domain::Signal),
            (vec![5, 2], Domain::Signal),
        ] {
            let m: usize = shape.iter().product();
            let v: Vec<f64> = (0..2 * m)
                .map(|i| ((i * 7 + 3) % 11) as f64 - 5.2)
                .collect();
            let x = Batch::new(shape.clone(), v).unwrap();
            let s = Spectra::new(&x, domain);
            let trig = s.input_kernel(0, &s, 1);
            for phi in [0.0, 0.3, 1.7, -2.5] {
                let y = rotate_batch(&x.slice(1, 2).unwrap(), domain, phi).unwrap();
                let direct: f64 = x
                    .example(0)
                    .iter()
                    .zip(y.example(0))
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
                    / m as f64;
                assert!(
                    (trig.eval(phi) - direct).abs() < 1e-12,
                    "{shape:?} φ = {phi}"
                );
            }
            let peak = trig.peak();
            for t in 0..100 {
                assert!(trig.eval(peak).abs() >= trig.eval(0.0628 * t as f64).abs() - 1e-14);
            }
        }
    }
}
