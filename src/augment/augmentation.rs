//! A finite group acting on the inputs of a network, with its irreps: what a training set is
//! augmented with.
//!
//! The action is the one of the declared input domain ([`crate::action::action_for`]), of two
//! kinds:
//!
//! * **site permutations** ([`crate::action::SiteAction`]): `C<k>`/`D<k>` on periodic signals
//!   (`k | n`), `C4`/`D4` about the centre of square images, `p4`/`p4m` on the torus;
//! * **rotations** by the angles `2πj/k` of `C<k> ⊂ SO(2)` (and the reflections of
//!   `D<k> ⊂ O(2)`, [`RotationKind`]): every point of a point set `[P, 2]` is rotated by
//!   `R(2πj/k)`, or a periodic signal of odd length `n` is rotated by band-limited interpolation
//!   (mode `m` times `e^{−imθ}`) — this is how `C<k>` acts on a signal when `k ∤ n`.
//!
//! The element indices are those of [`crate::group`]; the irreps are the closed-form ones of
//! `C_n`/`D_n` and the numerical ones of `p4`/`p4m` (up to order [`crate::rep::MAX_NUMERICAL_ORDER`]).

use std::f64::consts::PI;

use faer::Mat;

pub use crate::action::RotationKind;
use crate::action::{action_for, Domain, InputAction, InputGroup};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::{Cyclic, Dihedral, FiniteGroup, GroupSpec};
use crate::rep::{GroupWithIrreps, Irrep, Irreps};

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
    /// The group a user names acting on examples of `shape` in the declared `domain`, through
    /// the one action table [`action_for`] (site permutations, or `C<k>`/`D<k>` ⊂ O(2) rotating
    /// points and odd-length signals).
    ///
    /// `SO2` and `O2` are not finite (use [`crate::augment::So2Predictor`]); pairs without an
    /// action are [`Error::NoAction`].
    pub fn from_spec(spec: &GroupSpec, domain: Domain, shape: &[usize]) -> Result<Self> {
        let side = match shape {
            [h, _, _] => Some(*h),
            _ => None,
        };
        // The irreps: Σ d² = |G| matrices of d × d per element, |G|² complex values in all.
        if let Some(order) = spec.order(side) {
            crate::budget::at_most(
                &format!("the order of {spec} on this input"),
                order,
                crate::budget::MAX_GROUP_ORDER,
            )?;
            let order = order as u128;
            crate::budget::check_values(&format!("the irreps of {spec}"), order * order, 16)?;
        }
        match action_for(spec, domain, shape)? {
            InputAction::Sites(action) => {
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
            InputAction::Rotations {
                kind,
                k,
                reflections,
            } => Self::rotations(k, reflections, kind, shape),
            InputAction::Continuous { .. } => Err(Error::Group(format!(
                "{spec} is continuous: augment with it through So2Predictor (or use C<k>)"
            ))),
            InputAction::Rotations3 { .. } | InputAction::Continuous3 { .. } => {
                unreachable!("a planar group spec never acts as a 3-D rotation group")
            }
        }
    }

    /// The group a user names (planar or 3-D), acting on examples of `shape` in `domain`: a
    /// [`GroupSpec`] through [`FiniteAugmentation::from_spec`], or `O`, `Oh`, `I` rotating 3-D
    /// point sets (their irreps found numerically). SO3 and O3 are continuous and refused here
    /// ([`crate::Augmentation`] takes them for invariant targets).
    pub fn from_input(group: &InputGroup, domain: Domain, shape: &[usize]) -> Result<Self> {
        let spec = match group {
            InputGroup::Spec(spec) => return Self::from_spec(spec, domain, shape),
            InputGroup::O2 => {
                return Err(Error::Group(
                    "O2 is continuous: augment with it through So2Predictor (or use D<k>)".into(),
                ))
            }
            InputGroup::Rotation3(g) => g,
        };
        refuse_sphere(domain)?;
        match action_for(*group, domain, shape)? {
            InputAction::Rotations3 {
                group: polyhedral,
                space,
            } => {
                let irreps = crate::rep::polyhedral::polyhedral_irreps(&polyhedral)?;
                Ok(Self {
                    name: spec.to_string(),
                    group: Box::new((*polyhedral).clone()),
                    input: InputAction::Rotations3 {
                        group: polyhedral,
                        space,
                    },
                    irreps,
                    shape: shape.to_vec(),
                    rotation_order: None,
                })
            }
            _ => Err(Error::Group(format!(
                "{spec} is continuous: augment with it through Augmentation (invariant targets), or use its \
                 finite subgroups O, Oh or I, which are exact"
            ))),
        }
    }

    /// `C<k>` (or `D<k>`, `reflections`) `⊂ O(2)` acting on examples of `shape` by the rotations
    /// `R(2πj/k)` (and `R(2πj/k)·s`) of [`RotationKind`].
    pub fn rotations(
        k: usize,
        reflections: bool,
        kind: RotationKind,
        shape: &[usize],
    ) -> Result<Self> {
        kind.check_shape(shape)?;
        let (group, irreps): (Box<dyn FiniteGroup>, _) = if reflections {
            let d = Dihedral::new(k)?;
            let irreps = d.irreps()?;
            (Box::new(d), irreps)
        } else {
            let c = Cyclic::new(k)?;
            let irreps = c.irreps()?;
            (Box::new(c), irreps)
        };
        Ok(Self {
            name: group.name(),
            irreps,
            group,
            input: InputAction::Rotations {
                kind,
                k,
                reflections,
            },
            shape: shape.to_vec(),
            rotation_order: (!reflections).then_some(k),
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

    /// The 3×3 orthogonal matrix of element `g` of `O`, `Oh` or `I` acting on 3-D point sets or
    /// sphere signals; `None` for the planar groups and site permutations.
    pub fn matrix3(&self, g: usize) -> Option<crate::group::Matrix3> {
        match &self.input {
            InputAction::Rotations3 { group, .. } if g < group.order() => Some(*group.matrix(g)),
            _ => None,
        }
    }

    /// Whether the group is one of the 3-D rotation groups `O`, `Oh`, `I`.
    pub fn is_3d(&self) -> bool {
        matches!(self.input, InputAction::Rotations3 { .. })
    }

    /// The declared domain's name as the action sees it (for error messages).
    pub(crate) fn domain_name(&self) -> &'static str {
        match &self.input {
            InputAction::Rotations3 {
                space: crate::action::Space3::Sphere { .. },
                ..
            } => "sphere",
            InputAction::Rotations3 { .. } => "points",
            InputAction::Rotations {
                kind: RotationKind::Points,
                ..
            } => "points",
            InputAction::Rotations { .. } => "signal",
            InputAction::Sites(_)
            | InputAction::Continuous { .. }
            | InputAction::Continuous3 { .. } => "this domain",
        }
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
        self.input.act_on_example(g, x, &self.shape)
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

/// Augmented training on sphere signals is not built yet: refuse it rather than guess.
pub(crate) fn refuse_sphere(domain: Domain) -> Result<()> {
    if domain == Domain::Sphere {
        return Err(Error::Invalid(
            "augmentation of sphere signals is not available (kernel --orbit averages them)".into(),
        ));
    }
    Ok(())
}
