//! How groups act on the inputs of a network: permutations of sites (the representation ρ_X of
//! the kernels) and SO(2) rotations of signals and point sets.
//!
//! # Conventions (binding for the whole crate)
//!
//! * A finite group acts on an example `x` of shape `[*grid, C]` (channels last, channels
//!   untouched) through an action on its sites: `(g·x)[s, c] = x[g⁻¹·s, c]`. Equivalently
//!   `g·x = (ρ_X(g) ⊗ I_C) x` with the permutation representation `ρ_X(g) e_s = e_{g·s}`
//!   ([`SiteAction::representation`]). Sites are flattened in C order (`i·W + j` for images).
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
//!   (band-limited trigonometric interpolation). Points `[P, 2]` rotate by `R(θ)`.

mod image;
mod signal;
pub mod so2;
mod torus;

pub use image::ImageAction;
pub use signal::SignalAction;
pub use torus::TorusAction;

use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::{FiniteGroup, GroupSpec, PointGroup};
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

/// The action a user means by a group name on examples of the given shape (`[n, C]` or
/// `[H, W, C]`):
///
/// * `C<k>`, `D<k>` on a signal `[n, C]`: [`SignalAction`] (needs `k | n`);
/// * `C4`, `D4` on an image `[H, H, C]`: [`ImageAction`] (rotations about the centre);
/// * `p4[:H]`, `p4m[:H]` on an image `[H, H, C]`: [`TorusAction`].
///
/// Everything else (a non-square image, `C3` on an image, `SO2`, a vector `[D]`) is an error.
pub fn action_for(spec: &GroupSpec, shape: &[usize]) -> Result<Box<dyn SiteAction>> {
    let image = |shape: &[usize], what: &str| -> Result<usize> {
        match shape {
            [h, w, _] if h == w => Ok(*h),
            [h, w, _] => Err(Error::Group(format!(
                "{what} needs a square image, got {h}×{w} (shape {shape:?})"
            ))),
            _ => Err(Error::Group(format!(
                "{what} acts on images [H, H, C], got shape {shape:?}"
            ))),
        }
    };
    match (*spec, shape) {
        (GroupSpec::Cyclic(k), [n, _]) => Ok(Box::new(SignalAction::cyclic(k, *n)?)),
        (GroupSpec::Dihedral(k), [n, _]) => Ok(Box::new(SignalAction::dihedral(k, *n)?)),
        (GroupSpec::Cyclic(4), _) => Ok(Box::new(ImageAction::new(
            PointGroup::C4,
            image(shape, "C4")?,
        )?)),
        (GroupSpec::Dihedral(4), _) => Ok(Box::new(ImageAction::new(
            PointGroup::D4,
            image(shape, "D4")?,
        )?)),
        (GroupSpec::Cyclic(_) | GroupSpec::Dihedral(_), _) => Err(Error::Group(format!(
            "{spec} acts on periodic signals [n, C] (only C4 and D4 act on images), got shape \
             {shape:?}"
        ))),
        (GroupSpec::P4(h) | GroupSpec::P4m(h), _) => {
            let side = image(shape, &spec.to_string())?;
            if let Some(h) = h.filter(|&h| h != side) {
                return Err(Error::Group(format!(
                    "{spec} acts on {h}×{h} images, got {side}×{side}"
                )));
            }
            let point = if matches!(spec, GroupSpec::P4(_)) {
                PointGroup::C4
            } else {
                PointGroup::D4
            };
            Ok(Box::new(TorusAction::new(point, side)?))
        }
        (GroupSpec::So2 { .. }, _) => Err(Error::Group(
            "SO2 is continuous and does not permute sites: use action::so2 (rotate_signal, \
             rotate_points) or its subgroups C<k>"
                .into(),
        )),
    }
}
