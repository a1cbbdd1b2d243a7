//! The infinite ensemble of a network trained by gradient flow on the mean-squared error — one
//! value for every training set eqntk solves (MATH.md §6, §8):
//!
//! * the training set as given: the plain [`Predictor`] on `Θ(X, X)`;
//! * its full orbit under a finite group, through the isotypic blocks ([`BlockPredictor`], cost
//!   `Σ_ψ (d_ψ N)³`), or explicitly (the `|G|N` transformed examples through [`Predictor`]);
//! * its orbit under SO(2) or O(2), exactly, through Fourier modes ([`So2Predictor`]);
//! * its orbit under SO(3) or O(3), for invariant targets: the trivial-irrep block, i.e. the
//!   plain predictor of the orbit-averaged kernels `Θ̄`, `K̄` ([`crate::orbit::orbit_kernel`],
//!   to [`SO3_ORBIT_TOL`]).
//!
//! All of them give `μ_t(x) = Θ(x, X̃) Θ(X̃, X̃)⁻¹ (I − e^{−η Θ(X̃, X̃) t/(|X̃|·O)}) Ỹ` (and Σ_t)
//! for their training set `X̃`; the block and Fourier forms only compute it faster. Callers —
//! `eqntk predict`, the experiments — choose a [`TrainingSet`] and never a solver.

use faer::{Mat, MatRef};

use super::augmentation::{FiniteAugmentation, RotationKind};
use super::block::BlockPredictor;
use super::output::{augment_targets, OutputTransform};
use super::so2::{reflected_training_set, So2Predictor};
use crate::action::{action_for, Domain, InputAction, InputGroup};
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::predict::{Prediction, Predictor};

/// Relative agreement of two successive Fourier quadratures of the SO(2) orbit integrals.
pub(crate) const ROTATION_ORBIT_TOL: f64 = 1e-13;

/// The `--orbit-tol` of the SO(3) / O(3) orbit averages of an SO(3)-augmented ensemble.
pub const SO3_ORBIT_TOL: f64 = 1e-12;

/// What an infinite ensemble is trained on.
#[derive(Clone, Copy, Debug)]
pub enum TrainingSet<'a> {
    /// The training examples and targets as given.
    Given,
    /// Their full orbit `{(ρ_X(g) x_i, ρ_Y(g) y_i)}` under a finite group, solved irrep by irrep
    /// (needs a kernel invariant under simultaneous transformation, as every eqntk network's is
    /// for the actions of its declared domain).
    Orbit {
        /// The group and its action on the inputs.
        group: &'a FiniteAugmentation,
        /// How targets transform (`ρ_Y`).
        targets: OutputTransform,
    },
    /// The same orbit, written out: `|G|N` examples through the ordinary predictor (slower;
    /// the independent form of [`TrainingSet::Orbit`]).
    ExplicitOrbit {
        /// The group and its action on the inputs.
        group: &'a FiniteAugmentation,
        /// How targets transform (`ρ_Y`).
        targets: OutputTransform,
    },
    /// Their orbit under all of SO(2) (or O(2), `reflections`), through Fourier modes.
    RotationOrbit {
        /// Signals or planar points.
        kind: RotationKind,
        /// O(2) rather than SO(2).
        reflections: bool,
        /// How targets transform (`ρ_Y`).
        targets: OutputTransform,
    },
    /// Their orbit under all of SO(3) (or O(3), `reflections`) rotating 3-D point sets, for
    /// invariant targets: only the trivial irrep carries the targets, and the ensemble is the
    /// plain predictor of the orbit averages `Θ̄(X, X)`, `K̄` at the un-augmented rate (the limit
    /// of the O, I block predictors). The regulariser is `diag_reg · mean_i Θ(x_i, x_i)` added to
    /// `Θ̄(X, X)`, as for SO(2). `Σ_t` needs every irrep and is not available.
    Rotation3Orbit {
        /// O(3) rather than SO(3).
        reflections: bool,
    },
}

/// A group a user names, resolved on a declared input domain: finite (site permutations or
/// rotations, with its irreps) or SO(2)/O(2).
#[derive(Debug)]
pub enum Augmentation {
    /// A finite group with its action and irreps.
    Finite(FiniteAugmentation),
    /// SO(2) (or O(2), `reflections`) rotating signals or planar points.
    Rotations {
        /// Signals or planar points.
        kind: RotationKind,
        /// O(2) rather than SO(2).
        reflections: bool,
    },
    /// SO(3) (or O(3), `reflections`) rotating 3-D point sets.
    Rotations3 {
        /// O(3) rather than SO(3).
        reflections: bool,
    },
}

impl Augmentation {
    /// The group named `group` (`C<k>`, `D<k>`, `C4`, `D4`, `p4`, `p4m`, `SO2`, `O2`, `O`, `Oh`,
    /// `I`) acting on examples of `shape` in `domain`, through the one action table
    /// [`action_for`]. Pairs without an action are [`Error::NoAction`].
    pub fn new(group: &str, domain: Domain, shape: &[usize]) -> Result<Self> {
        let group = InputGroup::parse(group)?;
        super::augmentation::refuse_sphere(domain)?;
        match action_for(group, domain, shape)? {
            InputAction::Continuous { kind, reflections } => {
                Ok(Self::Rotations { kind, reflections })
            }
            InputAction::Continuous3 { reflections, .. } => Ok(Self::Rotations3 { reflections }),
            _ => Ok(Self::Finite(FiniteAugmentation::from_input(
                &group, domain, shape,
            )?)),
        }
    }

    /// The training set of this augmentation: the isotypic blocks (or, `explicit`, the `|G|N`
    /// examples) of a finite group, the Fourier modes of SO(2)/O(2), the orbit averages of
    /// SO(3)/O(3) (invariant targets only). Explicit augmentation with a continuous group is an
    /// error.
    pub fn training_set(
        &self,
        targets: OutputTransform,
        explicit: bool,
    ) -> Result<TrainingSet<'_>> {
        match (self, explicit) {
            (Self::Finite(group), false) => Ok(TrainingSet::Orbit { group, targets }),
            (Self::Finite(group), true) => Ok(TrainingSet::ExplicitOrbit { group, targets }),
            (Self::Rotations { kind, reflections }, false) => Ok(TrainingSet::RotationOrbit {
                kind: *kind,
                reflections: *reflections,
                targets,
            }),
            (Self::Rotations { reflections, .. }, true) => Err(Error::Invalid(format!(
                "explicit augmentation needs a finite group, and {} is continuous (use C<k> or \
                 D<k> for an explicit orbit)",
                if *reflections { "O2" } else { "SO2" }
            ))),
            (Self::Rotations3 { reflections }, explicit) => {
                let name = if *reflections { "O3" } else { "SO3" };
                if explicit {
                    return Err(Error::Invalid(format!(
                        "explicit augmentation needs a finite group, and {name} is continuous \
                         (use O, Oh or I for an explicit orbit)"
                    )));
                }
                if targets != OutputTransform::Invariant {
                    return Err(Error::Invalid(format!(
                        "{name} augmentation is available for invariant targets only (use O, \
                         Oh or I for targets that rotate)"
                    )));
                }
                Ok(TrainingSet::Rotation3Orbit {
                    reflections: *reflections,
                })
            }
        }
    }
}

/// How the trained ensemble evaluates: the kernel of the test inputs against a training set
/// (given, or its written-out orbit), against the orbit through the blocks, or through modes.
#[derive(Debug)]
enum Solver {
    Kernel {
        p: Predictor,
        x: Batch,
    },
    Blocks {
        p: BlockPredictor,
        orbit: Batch,
    },
    Modes(Box<So2Predictor>),
    Averaged {
        p: Predictor,
        x: Batch,
        group: InputGroup,
    },
}

/// An infinite ensemble of `net`, trained by gradient flow on a [`TrainingSet`].
///
/// ```
/// use eqntk::{Batch, InfiniteEnsemble, Network, TrainingSet};
/// let net = Network::from_toml_str(
///     "[input]\nshape = [2]\n[[layers]]\nkind = \"dense\"\n[[layers]]\nkind = \"erf\"\n\
///      [[layers]]\nkind = \"dense\"\n",
///     "net",
/// )?;
/// let x = Batch::new(vec![2], vec![1.0, 0.0, 0.0, 1.0])?;
/// let y = faer::mat![[1.0], [-1.0]];
/// let ens = InfiniteEnsemble::train(&net, &x, y.as_ref(), TrainingSet::Given, 1.0, 0.0)?;
/// let p = ens.predict(&x, &[f64::INFINITY], false)?;
/// assert!((p.mean[0][(0, 0)] - 1.0).abs() < 1e-10); // interpolates at t = ∞
/// # Ok::<(), eqntk::Error>(())
/// ```
#[derive(Debug)]
pub struct InfiniteEnsemble<'n> {
    net: &'n Network,
    solver: Solver,
}

impl<'n> InfiniteEnsemble<'n> {
    /// Trains on `(x_train, y_train)` (`N` examples, `N × O` targets) as `set` says, with
    /// learning rate η and `diag_reg` (neural-tangents' conventions, [`Predictor`]).
    ///
    /// Errors on shapes, targets that cannot transform as asked, a bad η or `diag_reg`, a kernel
    /// that is not a kernel (asymmetric, negative eigenvalues) and quadratures that do not
    /// converge.
    pub fn train(
        net: &'n Network,
        x_train: &Batch,
        y_train: MatRef<f64>,
        set: TrainingSet,
        learning_rate: f64,
        diag_reg: f64,
    ) -> Result<Self> {
        net.check_batch(x_train, "x_train")?;
        if y_train.nrows() != x_train.len() {
            return Err(Error::Shape(format!(
                "{} targets for {} training inputs",
                y_train.nrows(),
                x_train.len()
            )));
        }
        let kernel_predictor = |x: &Batch, y: MatRef<f64>| -> Result<Predictor> {
            let k = net.kernel(x, None)?;
            Predictor::new(
                k.ntk()?.as_ref(),
                k.nngp()?.as_ref(),
                y,
                learning_rate,
                diag_reg,
            )
        };
        let solver = match set {
            TrainingSet::Given => Solver::Kernel {
                p: kernel_predictor(x_train, y_train)?,
                x: x_train.clone(),
            },
            TrainingSet::ExplicitOrbit { group, targets } => {
                let rho_y = targets.matrices(group, y_train.ncols())?;
                let x = group.augment_batch(x_train)?;
                let y = augment_targets(y_train, &rho_y)?;
                Solver::Kernel {
                    p: kernel_predictor(&x, y.as_ref())?,
                    x,
                }
            }
            TrainingSet::Orbit { group, targets } => {
                let rho_y = targets.matrices(group, y_train.ncols())?;
                let orbit = group.augment_batch(x_train)?;
                let train = net.kernel(x_train, Some(&orbit))?;
                let p = BlockPredictor::new(
                    group.group(),
                    group.irreps(),
                    train.ntk()?.as_ref(),
                    Some(train.nngp()?.as_ref()),
                    y_train,
                    &rho_y,
                    learning_rate,
                    diag_reg,
                )?;
                Solver::Blocks { p, orbit }
            }
            TrainingSet::RotationOrbit {
                kind,
                reflections,
                targets,
            } => {
                let (x, y) = if reflections {
                    reflected_training_set(kind, x_train, y_train, targets)?
                } else {
                    (x_train.clone(), y_train.to_owned())
                };
                Solver::Modes(Box::new(So2Predictor::new(
                    net,
                    kind,
                    &x,
                    y.as_ref(),
                    targets,
                    learning_rate,
                    diag_reg,
                    ROTATION_ORBIT_TOL,
                )?))
            }
            TrainingSet::Rotation3Orbit { reflections } => {
                let group = InputGroup::parse(if reflections { "O3" } else { "SO3" })?;
                let avg = crate::orbit::orbit_kernel(net, x_train, None, group, SO3_ORBIT_TOL)?;
                // r = diag_reg · mean_i Θ(x_i, x_i) on Θ̄(X, X) (as for SO(2)); the Predictor
                // adds diag_reg′ · mean_i Θ̄(x_i, x_i).
                let plain = net.kernel(x_train, None)?.ntk()?;
                let n = x_train.len() as f64;
                let mean_diag = |m: &Mat<f64>| (0..m.nrows()).map(|i| m[(i, i)]).sum::<f64>() / n;
                let (theta, theta_bar) = (mean_diag(&plain), mean_diag(&avg.ntk));
                let reg = if diag_reg == 0.0 || theta_bar == 0.0 {
                    diag_reg
                } else {
                    diag_reg * theta / theta_bar
                };
                Solver::Averaged {
                    p: Predictor::new(
                        avg.ntk.as_ref(),
                        avg.nngp.as_ref(),
                        y_train,
                        learning_rate,
                        reg,
                    )?,
                    x: x_train.clone(),
                    group,
                }
            }
        };
        Ok(Self { net, solver })
    }

    /// μ_t at `x_test` for every time of `times` (`f64::INFINITY` is the end of training), and
    /// Σ_t when `with_cov`. The test kernels are computed once for all times.
    pub fn predict(&self, x_test: &Batch, times: &[f64], with_cov: bool) -> Result<Prediction> {
        super::check_time_list(times)?;
        self.net.check_batch(x_test, "x_test")?;
        let test_nngp = || -> Result<Option<Mat<f64>>> {
            match with_cov {
                true => Ok(Some(self.net.kernel(x_test, None)?.nngp()?)),
                false => Ok(None),
            }
        };
        match &self.solver {
            Solver::Kernel { p, x } => {
                let cross = self.net.kernel(x_test, Some(x))?;
                let (ntk, nngp) = (cross.ntk()?, cross.nngp()?);
                let test = test_nngp()?;
                let cov = test
                    .as_ref()
                    .map(|k| |t| p.covariance(k.as_ref(), nngp.as_ref(), ntk.as_ref(), t));
                Prediction::at_times(times, |t| p.mean(ntk.as_ref(), t), cov)
            }
            Solver::Blocks { p, orbit } => {
                let cross = self.net.kernel(x_test, Some(orbit))?;
                let (ntk, nngp) = (cross.ntk()?, cross.nngp()?);
                let test = test_nngp()?;
                let cov = test
                    .as_ref()
                    .map(|k| |t| p.covariance(k.as_ref(), nngp.as_ref(), ntk.as_ref(), t));
                Prediction::at_times(times, |t| p.mean(ntk.as_ref(), t), cov)
            }
            Solver::Modes(p) => {
                let cov = with_cov.then_some(|t| p.covariance(x_test, t));
                Prediction::at_times(times, |t| p.mean(x_test, t), cov)
            }
            Solver::Averaged { p, x, group } => {
                if with_cov {
                    return Err(Error::Invalid(format!(
                        "--cov with {group} augmentation is not available (every irrep enters \
                         Σ_t; use O, Oh or I)"
                    )));
                }
                let cross =
                    crate::orbit::orbit_kernel(self.net, x_test, Some(x), *group, SO3_ORBIT_TOL)?;
                Prediction::at_times(
                    times,
                    |t| p.mean(cross.ntk.as_ref(), t),
                    None::<fn(f64) -> _>,
                )
            }
        }
    }

    /// μ_t at `x_test` at one time.
    pub fn mean(&self, x_test: &Batch, t: f64) -> Result<Mat<f64>> {
        let mut p = self.predict(x_test, &[t], false)?;
        Ok(p.mean.remove(0))
    }

    /// The Fourier predictor of an SO(2)/O(2) orbit (its quadrature size and error estimate),
    /// `None` for the other training sets.
    pub fn rotation_modes(&self) -> Option<&So2Predictor> {
        match &self.solver {
            Solver::Modes(p) => Some(p),
            _ => None,
        }
    }
}
