//! How groups act on the inputs of a network: permutations of sites (the representation ρ_X of
//! the kernels) and SO(2) rotations of signals and point sets.
//!
//! # Conventions (binding for the whole crate)
//!
//! * A finite group acts on an example `x` of shape `[*grid, C]` (channels last, channels
//!   untouched) through an action on its sites: `(g·x)[s, c] = x[g⁻¹·s, c]`. Equivalently
//!   `g·x = (ρ_X(g) ⊗ I_C) x` with the permutation representation `ρ_X(g) e_s = e_{g·s}`
//!   ([`SiteAction::representation`]). Sites are flattened in C order (`i·W + j` for images).
//! * Which action a group has is fixed by the declared input [`Domain`], never by the array's
//!   shape: [`action_for`] is the one table (MATH.md §5a).
//! * Periodic 1-D signals of `n` samples ([`SignalAction`]): `C_k`/`D_k` with `k | n`;
//!   `r^a·i = i + a·n/k (mod n)`, `s·i = −i (mod n)`. For `k = n` this is the shift by one
//!   sample and the reversal about sample 0.
//! * Square `H×H` images ([`ImageAction`], rotations about the centre, no wrap-around): `r·(i, j) =
//!   (H−1−j, i)`, so `(r·x)[i, j] = x[j, H−1−i]` = numpy's `np.rot90(x, 1, axes=(0, 1))`;
//!   `s·(i, j) = (j, i)` (transpose).
//! * Torus images ([`TorusAction`]) for `p4`/`p4m`: `(t, g)·p = t + A_g p (mod H)` with the linear
//!   part of [`crate::group::PointGroup`] (`r·(di, dj) = (−dj, di)`, `s·(di, dj) = (dj, di)`).
//! * SO(2) ([`so2`]): rotating a periodic signal by `θ` multiplies Fourier mode `m` by `e^{−imθ}`
//!   (MATH.md §5); `θ = 2πk/n` is the shift by `k` samples; other angles need odd `n`
//!   (band-limited trigonometric interpolation). Points `[P, 2]` rotate by `R(θ)`. The
//!   reflection of O(2) reverses a signal (`i ↦ −i`) and maps a point `(x, y)` to `(x, −y)`
//!   ([`RotationKind`]).
//! * 3-D groups (`O`, `Oh`, `I`, `SO3`, `O3`) act on 3-D point sets `[P, 3]` by `p ↦ M p` and on
//!   band-limited sphere signals `[L+1, 2L+1, C]` by `(M·f)(y) = f(Mᵀ y)`, exactly through
//!   spherical-harmonic analysis and synthesis on the Gauss–Legendre grid ([`sphere`],
//!   [`Space3`]); `−I` maps a point set to `−p` and a sphere signal to `f(−y)`.

mod domain;
mod image;
mod signal;
pub mod so2;
pub mod sphere;
mod torus;

pub use domain::{Domain, InputGroup};
pub use image::ImageAction;
pub use signal::SignalAction;
pub use so2::RotationKind;
pub use sphere::SphereGrid;
pub use torus::TorusAction;

use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::{FiniteGroup, GroupSpec, Matrix3, PointGroup, Polyhedral, Rotation3Group};
use crate::rep::Rep;

/// A finite group acting on a finite set of sites by permutations.
pub trait SiteAction: Send + Sync + std::fmt::Debug {
    /// The group.
    fn group(&self) -> &dyn FiniteGroup;
    /// The grid the sites live on (`[n]` for signals, `[H, H]` for images).
    fn grid(&self) -> Vec<usize>;
    /// `g·s` for a site index `s` (C order over the grid).
    fn act(&self, g: usize, site: usize) -> usize;

    /// Number of sites `|X|`.
    fn n_sites(&self) -> usize {
        self.grid().iter().product()
    }
    /// `[g·0, g·1, …]`.
    fn permutation(&self, g: usize) -> Vec<usize> {
        (0..self.n_sites()).map(|s| self.act(g, s)).collect()
    }
    /// The permutation representation `ρ_X(g) e_s = e_{g·s}` on the sites.
    fn representation(&self) -> Rep {
        let perms = self
            .group()
            .elements()
            .map(|g| self.permutation(g))
            .collect();
        Rep::from_permutations(format!("sites({:?})", self.grid()), perms)
            .expect("a group action permutes the sites")
    }
    /// `(g·x)[s, c] = x[g⁻¹·s, c]` for one example `x` of shape `[*grid, C]`.
    fn act_on_example(&self, g: usize, x: &[f64], shape: &[usize]) -> Result<Vec<f64>> {
        let grid = self.grid();
        let channels = check_shape(&grid, shape, self.group())?;
        if g >= self.group().order() {
            return Err(Error::Group(format!(
                "element {g} is not in {} (order {})",
                self.group().name(),
                self.group().order()
            )));
        }
        if x.len() != self.n_sites() * channels {
            return Err(Error::Shape(format!(
                "an example of shape {shape:?} has {} values, got {}",
                self.n_sites() * channels,
                x.len()
            )));
        }
        let mut out = vec![0.0; x.len()];
        for s in 0..self.n_sites() {
            let t = self.act(g, s);
            out[t * channels..(t + 1) * channels]
                .copy_from_slice(&x[s * channels..(s + 1) * channels]);
        }
        Ok(out)
    }
    /// `g` applied to every example of a batch.
    fn act_on_batch(&self, g: usize, batch: &Batch) -> Result<Batch> {
        let shape = batch.shape().to_vec();
        let rows = (0..batch.len())
            .map(|i| self.act_on_example(g, batch.example(i), &shape))
            .collect::<Result<Vec<_>>>()?;
        Batch::from_examples(shape, &rows)
    }
    /// The orbit `[g·x for g in 0..|G|]` of one example.
    fn orbit(&self, x: &[f64], shape: &[usize]) -> Result<Vec<Vec<f64>>> {
        self.group()
            .elements()
            .map(|g| self.act_on_example(g, x, shape))
            .collect()
    }
}

/// Check `shape = [*grid, C]`; returns `C`.
fn check_shape(grid: &[usize], shape: &[usize], group: &dyn FiniteGroup) -> Result<usize> {
    if shape.len() != grid.len() + 1 || shape[..grid.len()] != *grid || shape[grid.len()] == 0 {
        return Err(Error::Shape(format!(
            "{} acts on examples of shape {grid:?} + [C], got {shape:?}",
            group.name()
        )));
    }
    Ok(shape[grid.len()])
}

/// How a group acts on the examples of a declared domain: the one table of actions (MATH.md §5a),
/// built by [`action_for`].
#[derive(Debug)]
pub enum InputAction {
    /// A finite group permuting the sites (channels untouched): `C<k>`/`D<k>` on signals with
    /// `k | n` ([`SignalAction`]), `C4`/`D4` on square images ([`ImageAction`]), `p4`/`p4m` on
    /// the torus ([`TorusAction`]).
    Sites(Box<dyn SiteAction>),
    /// `C_k` (or `D_k`, `reflections`) as a subgroup of O(2): element `j < k` is `R(2πj/k)`,
    /// element `k + j` of `D_k` is `R(2πj/k)·s` ([`RotationKind::transform`]). Points always;
    /// signals when `k ∤ n` (odd `n`, band-limited rotation).
    Rotations {
        /// Signal or points.
        kind: RotationKind,
        /// The rotation order `k`.
        k: usize,
        /// `D_k` rather than `C_k`.
        reflections: bool,
    },
    /// SO(2) (or O(2), `reflections`): every `R_θ` (and `R_θ s`).
    Continuous {
        /// Signal or points.
        kind: RotationKind,
        /// O(2) rather than SO(2).
        reflections: bool,
    },
    /// A finite group of 3×3 orthogonal matrices (`O`, `Oh`, `I`) acting on 3-D point sets
    /// `[P, 3]` or sphere signals through [`Space3::transform`] (element `g` in the order of
    /// [`Polyhedral`]).
    Rotations3 {
        /// The group's matrices.
        group: Box<Polyhedral>,
        /// Point sets or sphere signals.
        space: Space3,
    },
    /// SO(3) (or O(3), `reflections`: also `−R`) acting through [`Space3::transform`].
    Continuous3 {
        /// O(3) rather than SO(3).
        reflections: bool,
        /// Point sets or sphere signals.
        space: Space3,
    },
}

/// What a 3×3 orthogonal matrix acts on: 3-D point sets or band-limited sphere signals.
#[derive(Clone, Debug)]
pub enum Space3 {
    /// `[P, 3]`: `p ↦ M p` for every point.
    Points,
    /// `[L+1, 2L+1, C]`: `(M·f)(y) = f(Mᵀ y)` on the grid, `C` channels.
    Sphere {
        /// The grid of the examples' band limit.
        grid: std::sync::Arc<SphereGrid>,
        /// `C`.
        channels: usize,
    },
}

impl Space3 {
    /// The space of examples of `shape` in `domain` (points unless `domain` is the sphere).
    pub fn of(domain: Domain, shape: &[usize]) -> Result<Self> {
        if domain != Domain::Sphere {
            return Ok(Space3::Points);
        }
        let (grid, channels) = SphereGrid::for_shape(shape)?;
        Ok(Space3::Sphere {
            grid: std::sync::Arc::new(grid),
            channels,
        })
    }

    /// `M` (orthogonal) applied to one example.
    pub fn transform(&self, m: &Matrix3, x: &[f64]) -> Vec<f64> {
        match self {
            Space3::Points => rotate_points3(m, x),
            Space3::Sphere { grid, channels } => grid.transform(m, x, *channels),
        }
    }

    /// `M` applied to every example of a batch.
    pub fn transform_batch(&self, m: &Matrix3, x: &Batch) -> Result<Batch> {
        let rows: Vec<Vec<f64>> = (0..x.len())
            .map(|i| self.transform(m, x.example(i)))
            .collect();
        Batch::from_examples(x.shape().to_vec(), &rows)
    }
}

/// `M p` for every point of a 3-D point set `x` (`P × 3` values, row-major).
pub(crate) fn rotate_points3(m: &Matrix3, x: &[f64]) -> Vec<f64> {
    x.chunks_exact(3)
        .flat_map(|p| m.apply([p[0], p[1], p[2]]))
        .collect()
}

impl InputAction {
    /// The group's name: `C4`, `D6`, `p4m:5`, `SO2`, `O2`.
    pub fn name(&self) -> String {
        match self {
            InputAction::Sites(a) => a.group().name(),
            InputAction::Rotations { k, reflections, .. } => {
                format!("{}{k}", if *reflections { "D" } else { "C" })
            }
            InputAction::Continuous { reflections, .. } => {
                if *reflections { "O2" } else { "SO2" }.into()
            }
            InputAction::Rotations3 { group, .. } => group.kind().name().into(),
            InputAction::Continuous3 { reflections, .. } => {
                if *reflections { "O3" } else { "SO3" }.into()
            }
        }
    }

    /// `|G|` for a finite group; `None` for SO(2) and O(2).
    pub fn order(&self) -> Option<usize> {
        match self {
            InputAction::Sites(a) => Some(a.group().order()),
            InputAction::Rotations { k, reflections, .. } => {
                Some(if *reflections { 2 * k } else { *k })
            }
            InputAction::Rotations3 { group, .. } => Some(group.order()),
            InputAction::Continuous { .. } | InputAction::Continuous3 { .. } => None,
        }
    }

    /// The rotation kind of an O(2) subgroup acting by rotations; `None` for site permutations.
    pub fn rotation_kind(&self) -> Option<RotationKind> {
        match self {
            InputAction::Sites(_)
            | InputAction::Rotations3 { .. }
            | InputAction::Continuous3 { .. } => None,
            InputAction::Rotations { kind, .. } | InputAction::Continuous { kind, .. } => {
                Some(*kind)
            }
        }
    }

    /// `ρ_X(g) x` for element `g` of a finite group and one example `x` of `shape`.
    pub fn act_on_example(&self, g: usize, x: &[f64], shape: &[usize]) -> Result<Vec<f64>> {
        match self {
            InputAction::Sites(a) => a.act_on_example(g, x, shape),
            InputAction::Rotations {
                kind,
                k,
                reflections,
            } => {
                let order = if *reflections { 2 * k } else { *k };
                if g >= order {
                    return Err(Error::Group(format!(
                        "element {g} is not in {} (order {order})",
                        self.name()
                    )));
                }
                let theta = 2.0 * std::f64::consts::PI * (g % k) as f64 / *k as f64;
                kind.transform(x, shape, theta, g >= *k)
            }
            InputAction::Rotations3 { group, space } => {
                if g >= group.order() {
                    return Err(Error::Group(format!(
                        "element {g} is not in {} (order {})",
                        self.name(),
                        group.order()
                    )));
                }
                let fits = match space {
                    Space3::Points => shape.last() == Some(&3),
                    Space3::Sphere { grid, channels } => {
                        let l = grid.band_limit();
                        *shape == [l + 1, 2 * l + 1, *channels]
                    }
                };
                if !fits || x.len() != shape.iter().product::<usize>() {
                    return Err(Error::Shape(format!(
                        "{} acts on {}, got shape {shape:?}",
                        self.name(),
                        match space {
                            Space3::Points => "3-D point sets [P, 3]".to_string(),
                            Space3::Sphere { grid, channels } => format!(
                                "sphere signals [{}, {}, {channels}]",
                                grid.band_limit() + 1,
                                2 * grid.band_limit() + 1
                            ),
                        }
                    )));
                }
                Ok(space.transform(group.matrix(g), x))
            }
            InputAction::Continuous { .. } | InputAction::Continuous3 { .. } => {
                Err(Error::Group(format!(
                    "{} is continuous: it has no numbered elements (use its rotations)",
                    self.name()
                )))
            }
        }
    }

    /// `ρ_X(g)` applied to every example of a batch.
    pub fn act_on_batch(&self, g: usize, batch: &Batch) -> Result<Batch> {
        let shape = batch.shape().to_vec();
        let rows = (0..batch.len())
            .map(|i| self.act_on_example(g, batch.example(i), &shape))
            .collect::<Result<Vec<_>>>()?;
        Batch::from_examples(shape, &rows)
    }

    /// The site permutation, or an error saying the action is not one.
    pub fn into_sites(self) -> Result<Box<dyn SiteAction>> {
        match self {
            InputAction::Sites(a) => Ok(a),
            other => Err(Error::Group(format!(
                "{} acts on these inputs by rotating them, not by permuting their sites",
                other.name()
            ))),
        }
    }
}

/// The action of `group` on examples of `shape` in the declared `domain` — the one table of
/// MATH.md §5a, used by every consumer (lifting layers, orbit averages, augmentation, metrics,
/// claims, experiments):
///
/// * **signals** `[n, C]` (sample `j` at angle `2πj/n`, channels untouched): `C<k>` rotates by
///   `2πj/k` — the exact cyclic shift by `j·n/k` samples when `k | n` ([`SignalAction`]),
///   band-limited (trigonometric) interpolation when `n` is odd and `k ∤ n`
///   ([`InputAction::Rotations`]; even `n` with `k ∤ n` is refused); `D<k>` adds the reversal
///   `s ↦ −s`; `SO2` is the continuous rotation (mode `m` times `e^{−imθ}`, odd `n`), `O2` adds
///   the reversal;
/// * **planar points** `[P, 2]`: `C<k>` rotates every point by `R(2πj/k)`, `D<k>` adds
///   `R(2πj/k)·diag(1, −1)`; `SO2` all `R(θ)`, `O2` also `R(θ)·diag(1, −1)`;
/// * **square images** `[H, H, C]`: `C4`, `D4` about the centre ([`ImageAction`]); `p4`, `p4m`
///   read the image as a torus ([`TorusAction`]);
/// * **torus** `[H, H, C]`: `p4`, `p4m` ([`TorusAction`]);
/// * **3-D point sets** `[P, 3]`: `O`, `Oh`, `I` (their matrices), `SO3`, `O3` rotate every point;
/// * **sphere signals** `[L+1, 2L+1, C]`: `O`, `Oh`, `I`, `SO3`, `O3` by `(M·f)(y) = f(Mᵀ y)`,
///   exact for band-limited signals ([`sphere`]);
/// * **vectors** `[D]`: nothing acts.
///
/// A group that does not act on the domain is [`Error::NoAction`]; a shape outside the domain,
/// or a group that acts on the domain but not at this size (C3 on an even-length signal, C4 on a
/// non-square image, `p4:5` on a 4×4 torus), a one-line [`Error::Shape`] / [`Error::Group`].
pub fn action_for(
    group: impl Into<InputGroup>,
    domain: Domain,
    shape: &[usize],
) -> Result<InputAction> {
    let group = group.into();
    domain.check_shape(shape).map_err(Error::Shape)?;
    let no_action = || Error::NoAction {
        group: group.to_string(),
        domain: domain.name().into(),
        allowed: domain.groups().into(),
    };
    let square = |what: &str| -> Result<usize> {
        match shape {
            [h, w, _] if h == w => Ok(*h),
            _ => Err(Error::Group(format!(
                "{what} needs a square image [H, H, C], got shape {shape:?}"
            ))),
        }
    };
    let torus = |spec: &GroupSpec| -> Result<InputAction> {
        let side = square(&spec.to_string())?;
        let (h, point) = match *spec {
            GroupSpec::P4(h) => (h, PointGroup::C4),
            GroupSpec::P4m(h) => (h, PointGroup::D4),
            _ => unreachable!("called for p4 and p4m"),
        };
        if let Some(h) = h.filter(|&h| h != side) {
            return Err(Error::Group(format!(
                "{spec} acts on {h}×{h} images, got {side}×{side}"
            )));
        }
        Ok(InputAction::Sites(Box::new(TorusAction::new(point, side)?)))
    };
    if let InputGroup::Spec(GroupSpec::Cyclic(0) | GroupSpec::Dihedral(0)) = group {
        return Err(Error::Group(format!(
            "{group} is not a group: k must be ≥ 1"
        )));
    }
    let kind = RotationKind::of(domain);
    let points3 = domain == Domain::Points && shape.last() == Some(&3);
    match (domain, group) {
        (Domain::Points | Domain::Sphere, InputGroup::Rotation3(g))
            if points3 || domain == Domain::Sphere =>
        {
            let space = Space3::of(domain, shape)?;
            Ok(match g {
                Rotation3Group::So3 => InputAction::Continuous3 {
                    reflections: false,
                    space,
                },
                Rotation3Group::O3 => InputAction::Continuous3 {
                    reflections: true,
                    space,
                },
                Rotation3Group::Polyhedral(kind) => InputAction::Rotations3 {
                    group: Box::new(Polyhedral::new(kind)?),
                    space,
                },
            })
        }
        (Domain::Points, InputGroup::Rotation3(_)) => Err(Error::Group(format!(
            "{group} acts on 3-D point sets [P, 3], got shape {shape:?}"
        ))),
        (Domain::Points, InputGroup::Spec(_) | InputGroup::O2) if points3 => {
            Err(Error::Group(format!(
                "{group} acts on planar point sets [P, 2]; 3-D point sets [P, 3] take O, Oh, I, \
                 SO3 or O3"
            )))
        }
        (Domain::Signal, InputGroup::Spec(GroupSpec::Cyclic(k) | GroupSpec::Dihedral(k))) => {
            let reflections = matches!(group, InputGroup::Spec(GroupSpec::Dihedral(_)));
            let n = shape[0];
            if n % k == 0 {
                let a = if reflections {
                    SignalAction::dihedral(k, n)?
                } else {
                    SignalAction::cyclic(k, n)?
                };
                Ok(InputAction::Sites(Box::new(a)))
            } else if n % 2 == 1 {
                Ok(InputAction::Rotations {
                    kind: RotationKind::Signal,
                    k,
                    reflections,
                })
            } else {
                Err(Error::Group(format!(
                    "{group} cannot act on a periodic signal of {n} samples: {k} does not divide \
                     {n} and band-limited rotation needs an odd-length signal"
                )))
            }
        }
        (
            Domain::Points,
            InputGroup::Spec(spec @ (GroupSpec::Cyclic(k) | GroupSpec::Dihedral(k))),
        ) => Ok(InputAction::Rotations {
            kind: RotationKind::Points,
            k,
            reflections: matches!(spec, GroupSpec::Dihedral(_)),
        }),
        (
            Domain::Signal | Domain::Points,
            InputGroup::Spec(GroupSpec::So2 { .. }) | InputGroup::O2,
        ) => {
            let kind = kind.expect("signals and points rotate");
            kind.check_shape(shape).map_err(|_| {
                Error::Group(format!(
                    "{group} cannot act on a periodic signal of {} samples: band-limited \
                     rotation needs an odd-length signal",
                    shape[0]
                ))
            })?;
            Ok(InputAction::Continuous {
                kind,
                reflections: group == InputGroup::O2,
            })
        }
        (Domain::Image, InputGroup::Spec(GroupSpec::Cyclic(4))) => Ok(InputAction::Sites(
            Box::new(ImageAction::new(PointGroup::C4, square("C4")?)?),
        )),
        (Domain::Image, InputGroup::Spec(GroupSpec::Dihedral(4))) => Ok(InputAction::Sites(
            Box::new(ImageAction::new(PointGroup::D4, square("D4")?)?),
        )),
        (
            Domain::Image | Domain::Torus,
            InputGroup::Spec(spec @ (GroupSpec::P4(_) | GroupSpec::P4m(_))),
        ) => torus(&spec),
        _ => Err(no_action()),
    }
}

/// [`action_for`] for callers that need the site permutation (and its representation ρ_X):
/// errors when the group acts on the domain by rotations instead.
pub fn site_action(
    group: impl Into<InputGroup>,
    domain: Domain,
    shape: &[usize],
) -> Result<Box<dyn SiteAction>> {
    action_for(group, domain, shape)?.into_sites()
}
