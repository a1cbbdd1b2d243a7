//! A finite group acting on the inputs of a network, with its irreps: what a training set is
//! augmented with.
//!
//! Two kinds of action:
//!
//! * **site permutations** ([`SiteAction`]): `C<k>`/`D<k>` on periodic signals (`k | n`), `C4`/`D4`
//!   about the centre of square images, `p4`/`p4m` on the torus;
//! * **rotations** by the angles `2πj/k` of `C<k> ⊂ SO(2)` ([`RotationKind`]): every point of a
//!   point set `[P, 2]` is rotated by `R(2πj/k)`, or a periodic signal of odd length `n` is
//!   rotated by band-limited interpolation (mode `m` times `e^{−imθ}`) — this is how `C<k>` acts
//!   on a signal when `k ∤ n`.
//!
//! The element indices are those of [`crate::group`]; the irreps are the closed-form ones of
//! `C_n`/`D_n` and the numerical ones of `p4`/`p4m` (up to order [`crate::rep::MAX_NUMERICAL_ORDER`]).

use std::f64::consts::PI;

use faer::Mat;

use crate::action::{action_for, so2, SiteAction};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::{Cyclic, FiniteGroup, GroupSpec};
use crate::rep::{GroupWithIrreps, Irrep, Irreps};

/// How a rotation by `θ` acts on one example.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationKind {
    /// A periodic signal `[n, C]`: Fourier mode `m` gains `e^{−imθ}` (exact shifts when
    /// `θ ∈ 2πℤ/n`; other angles need odd `n`).
    Signal,
    /// A point set `[P, 2]`: every point is multiplied by `R(θ)`.
    Points,
}

impl RotationKind {
    /// Checks that examples of `shape` can be rotated by any angle.
    pub fn check_shape(self, shape: &[usize]) -> Result<()> {
        match (self, shape) {
            (RotationKind::Points, [p, 2]) if *p > 0 => Ok(()),
            (RotationKind::Points, _) => Err(Error::Group(format!(
                "rotations of point sets need examples of shape [P, 2], got {shape:?}"
            ))),
            (RotationKind::Signal, [n, c]) if n % 2 == 1 && *c > 0 => Ok(()),
            (RotationKind::Signal, [n, _]) => Err(Error::Group(format!(
                "rotating a periodic signal by arbitrary angles needs an odd number of samples \
                 (band-limited interpolation), got n = {n}"
            ))),
            (RotationKind::Signal, _) => Err(Error::Group(format!(
                "rotations of periodic signals need examples of shape [n, C], got {shape:?}"
            ))),
        }
    }

    /// `R_θ x` for one example `x` of `shape`.
    pub fn rotate(self, x: &[f64], shape: &[usize], theta: f64) -> Result<Vec<f64>> {
        match self {
            RotationKind::Points => so2::rotate_points(x, shape, theta),
            RotationKind::Signal => so2::rotate_signal(x, shape, theta),
        }
    }

    /// `R_θ` applied to every example of a batch.
    pub fn rotate_batch(self, batch: &Batch, theta: f64) -> Result<Batch> {
        let shape = batch.shape().to_vec();
        let rows = (0..batch.len())
            .map(|i| self.rotate(batch.example(i), &shape, theta))
            .collect::<Result<Vec<_>>>()?;
        Batch::from_examples(shape, &rows)
    }
}

/// How the group acts on inputs.
#[derive(Debug)]
enum InputAction {
    Sites(Box<dyn SiteAction>),
    Rotations(RotationKind),
}

/// A finite group `G`, its action `ρ_X` on examples of one shape, and its complete set of
/// unitary irreps (trivial first).
#[derive(Debug)]
pub struct FiniteAugmentation {
    name: String,
    group: Box<dyn FiniteGroup>,
    input: InputAction,
    irreps: Vec<Irrep>,
    shape: Vec<usize>,
    /// `k` when element `j` is the rotation by `2πj/k` (cyclic groups), for vector targets.
    rotation_order: Option<usize>,
}

impl FiniteAugmentation {
    /// The group a user names acting on examples of `shape`.
    ///
    /// * `points = false`: `C<k>`, `D<k>` on signals `[n, C]` permute samples when `k | n`; `C<k>`
    ///   with `k ∤ n` rotates an odd-length signal by band-limited interpolation; `C4`, `D4`,
    ///   `p4`, `p4m` act on square images (see [`action_for`]).
    /// * `points = true`: examples are point sets `[P, 2]` and `C<k>` rotates every point.
    ///
    /// `SO2` is not finite (use [`crate::augment::So2Predictor`]); other pairs are errors that
    /// name the group and the shape.
    pub fn from_spec(spec: &GroupSpec, shape: &[usize], points: bool) -> Result<Self> {
        if let GroupSpec::So2 { .. } = spec {
            return Err(Error::Group(
                "SO2 is continuous: augment with it through So2Predictor (or use C<k>)".into(),
            ));
        }
        // The irreps: Σ d² = |G| matrices of d × d per element, |G|² complex values in all.
        let side = match shape {
            [h, _, _] => Some(*h),
            _ => None,
        };
        if let Some(order) = spec.order(side) {
            crate::budget::at_most(
                &format!("the order of {spec} on this input"),
                order,
                crate::budget::MAX_GROUP_ORDER,
            )?;
            let order = order as u128;
            crate::budget::check_values(&format!("the irreps of {spec}"), order * order, 16)?;
        }
        if points {
            return match spec {
                GroupSpec::Cyclic(k) => Self::rotations(*k, RotationKind::Points, shape),
                _ => Err(Error::Group(format!(
                    "{spec} does not act on point sets: only rotation groups C<k> (and SO2) do"
                ))),
            };
        }
        if let (GroupSpec::Cyclic(k), [n, _]) = (spec, shape) {
            if *k > 0 && n % k != 0 {
                return Self::rotations(*k, RotationKind::Signal, shape);
            }
        }
        let action = action_for(spec, shape)?;
        let side = match shape {
            [h, _, _] => Some(*h),
            _ => None,
        };
        let with = GroupWithIrreps::from_spec(spec, side)?;
        let rotation_order = match spec {
            GroupSpec::Cyclic(k) => Some(*k),
            _ => None,
        };
        Ok(Self {
            name: action.group().name(),
            group: with.group,
            input: InputAction::Sites(action),
            irreps: with.irreps,
            shape: shape.to_vec(),
            rotation_order,
        })
    }

    /// `C<k> ⊂ SO(2)` rotating examples of `shape` by the angles `2πj/k`.
    pub fn rotations(k: usize, kind: RotationKind, shape: &[usize]) -> Result<Self> {
        kind.check_shape(shape)?;
        let c = Cyclic::new(k)?;
        Ok(Self {
            name: c.name(),
            irreps: c.irreps()?,
            group: Box::new(c),
            input: InputAction::Rotations(kind),
            shape: shape.to_vec(),
            rotation_order: Some(k),
        })
    }

    /// The group's name, e.g. `D4`, `p4m:4`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The group.
    pub fn group(&self) -> &dyn FiniteGroup {
        self.group.as_ref()
    }
    /// `|G|`.
    pub fn order(&self) -> usize {
        self.group.order()
    }
    /// The complete set of unitary irreps, trivial first.
    pub fn irreps(&self) -> &[Irrep] {
        &self.irreps
    }
    /// The shape of one example.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// The rotation angle `2πj/k` of element `j` of a cyclic group; `None` for other groups.
    pub fn angle(&self, g: usize) -> Option<f64> {
        self.rotation_order
            .map(|k| 2.0 * PI * (g % k) as f64 / k as f64)
    }

    fn check_batch(&self, batch: &Batch) -> Result<()> {
        if batch.shape() != self.shape.as_slice() {
            return Err(Error::Shape(format!(
                "{} was set up for examples of shape {:?}, got {:?}",
                self.name,
                self.shape,
                batch.shape()
            )));
        }
        Ok(())
    }

    /// `ρ_X(g) x` for one example of the group's shape.
    pub fn act_on_example(&self, g: usize, x: &[f64]) -> Result<Vec<f64>> {
        if g >= self.order() {
            return Err(Error::Group(format!(
                "element {g} is not in {} (order {})",
                self.name,
                self.order()
            )));
        }
        match &self.input {
            InputAction::Sites(a) => a.act_on_example(g, x, &self.shape),
            InputAction::Rotations(kind) => {
                let theta = self.angle(g).expect("rotation groups have angles");
                kind.rotate(x, &self.shape, theta)
            }
        }
    }

    /// `ρ_X(g)` applied to every example.
    pub fn act_on_batch(&self, g: usize, batch: &Batch) -> Result<Batch> {
        self.check_batch(batch)?;
        let rows = (0..batch.len())
            .map(|i| self.act_on_example(g, batch.example(i)))
            .collect::<Result<Vec<_>>>()?;
        Batch::from_examples(self.shape.clone(), &rows)
    }

    /// The fully augmented inputs, **group-major**: row `g·N + i` is `ρ_X(g) x_i` (`|G|·N` rows).
    pub fn augment_batch(&self, batch: &Batch) -> Result<Batch> {
        self.check_batch(batch)?;
        let mut rows = Vec::with_capacity(self.order() * batch.len());
        for g in 0..self.order() {
            for i in 0..batch.len() {
                rows.push(self.act_on_example(g, batch.example(i))?);
            }
        }
        Batch::from_examples(self.shape.clone(), &rows)
    }

    /// The orbits of test inputs, **input-major**: row `a·|G| + g` is `ρ_X(g) x_a`, so the orbit
    /// of `x_a` is rows `a·|G| .. (a+1)·|G|` and starts with `x_a` itself.
    pub fn orbit_batch(&self, batch: &Batch) -> Result<Batch> {
        self.check_batch(batch)?;
        let mut rows = Vec::with_capacity(self.order() * batch.len());
        for a in 0..batch.len() {
            for g in 0..self.order() {
                rows.push(self.act_on_example(g, batch.example(a))?);
            }
        }
        Batch::from_examples(self.shape.clone(), &rows)
    }

    /// The matrix of `ρ_X(g)` on flattened examples (`E × E`, `E = Π shape`): column `j` is
    /// `ρ_X(g) e_j`. The action is linear, so this is exact.
    pub fn input_matrix(&self, g: usize) -> Result<Mat<f64>> {
        let e: usize = self.shape.iter().product();
        let mut m = Mat::zeros(e, e);
        let mut unit = vec![0.0; e];
        for j in 0..e {
            unit[j] = 1.0;
            let col = self.act_on_example(g, &unit)?;
            unit[j] = 0.0;
            for (i, v) in col.into_iter().enumerate() {
                m[(i, j)] = v;
            }
        }
        Ok(m)
    }
}
