//! Small Lennard-Jones clusters in ℝ³ with their energy (invariant) and forces (equivariant).
//!
//! An example is P atoms `r_i ∈ ℝ³`, stored as `[P, 3]` (atom i is row i), in units of σ and
//! not rescaled. Configurations are drawn by random sequential placement: each atom is drawn
//! uniformly in the ball of radius `R = (d/2) (P/φ)^{1/3}` (packing fraction φ = 0.2 of spheres
//! of diameter d) and redrawn until it is at least `d = min_distance · σ` from every atom
//! placed before it, so no pair sits on the repulsive wall. Each configuration is then
//! **centred** (its centroid subtracted), since the targets are translation-invariant and the
//! rotation groups act about the origin.
//!
//! Targets, with the pair potential `V(r) = 4ε[(σ/r)¹² − (σ/r)⁶]`:
//!
//! * energy `E(r) = Σ_{i<j} V(‖r_i − r_j‖)` (N × 1), unchanged by every `Q ∈ O(3)`, every
//!   translation and every permutation of the atoms;
//! * forces `F_i = −∇_{r_i} E = Σ_{j≠i} (24ε/r_ij²)[2(σ/r_ij)¹² − (σ/r_ij)⁶](r_i − r_j)`,
//!   flattened row-major to N × 3P (atom i in columns 3i..3i+3, like the inputs), with
//!   `F(Q r) = Q F(r)` atom by atom and permuted with the atoms.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Dataset;
use crate::error::{Error, Result};

/// Packing fraction of the ball the atoms are placed in.
const PACKING: f64 = 0.2;
/// Redraws of one atom before the placement gives up.
const MAX_TRIES: usize = 100_000;

/// Which target a [`LennardJones`] generator attaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LjTarget {
    /// `E` (N × 1).
    #[default]
    Energy,
    /// `F = −∇E` (N × 3P).
    Forces,
}

/// Generator of N Lennard-Jones clusters of P atoms.
#[derive(Clone, Debug, PartialEq)]
pub struct LennardJones {
    /// Atoms per cluster P ≥ 2.
    pub atoms: usize,
    /// Number of clusters N ≥ 1.
    pub count: usize,
    /// Well depth ε > 0.
    pub epsilon: f64,
    /// Length scale σ > 0.
    pub sigma: f64,
    /// Smallest pair distance, in units of σ (in (0, 2]).
    pub min_distance: f64,
    /// The target.
    pub target: LjTarget,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
}

impl LennardJones {
    /// P atoms, N clusters, ε = σ = 1, pairs at least 0.95σ apart, energy targets.
    pub fn new(atoms: usize, count: usize, seed: u64) -> Self {
        Self {
            atoms,
            count,
            epsilon: 1.0,
            sigma: 1.0,
            min_distance: 0.95,
            target: LjTarget::Energy,
            seed,
        }
    }

    fn check(&self) -> Result<()> {
        if self.atoms < 2 || self.count == 0 {
            return Err(Error::Invalid(format!(
                "Lennard-Jones clusters need atoms ≥ 2 and count ≥ 1, got {} and {}",
                self.atoms, self.count
            )));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.epsilon) || !positive(self.sigma) {
            return Err(Error::Invalid(format!(
                "Lennard-Jones ε and σ must be finite and > 0, got {} and {}",
                self.epsilon, self.sigma
            )));
        }
        if !(positive(self.min_distance) && self.min_distance <= 2.0) {
            return Err(Error::Invalid(format!(
                "the smallest pair distance must be in (0, 2] σ, got {}",
                self.min_distance
            )));
        }
        Ok(())
    }

    /// `E(r)` of atoms `[P, 3]` (flattened row-major).
    pub fn energy(&self, x: &[f64]) -> Result<f64> {
        let p = atoms(x)?;
        let mut e = 0.0;
        for i in 0..p.len() {
            for j in i + 1..p.len() {
                let s6 = (self.sigma * self.sigma / dist2(p[i], p[j])).powi(3);
                e += 4.0 * self.epsilon * (s6 * s6 - s6);
            }
        }
        Ok(e)
    }

    /// `F = −∇E` of atoms `[P, 3]`, flattened like the atoms.
    pub fn forces(&self, x: &[f64]) -> Result<Vec<f64>> {
        let p = atoms(x)?;
        let mut f = vec![0.0; x.len()];
        for i in 0..p.len() {
            for j in i + 1..p.len() {
                let r2 = dist2(p[i], p[j]);
                let s6 = (self.sigma * self.sigma / r2).powi(3);
                let c = 24.0 * self.epsilon * (2.0 * s6 * s6 - s6) / r2;
                for k in 0..3 {
                    let d = c * (p[i][k] - p[j][k]);
                    f[3 * i + k] += d;
                    f[3 * j + k] -= d;
                }
            }
        }
        Ok(f)
    }

    /// Inputs `[N, P, 3]` (centred), targets N × 1 (energy) or N × 3P (forces).
    pub fn sample(&self) -> Result<Dataset> {
        self.check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let d = self.min_distance * self.sigma;
        let radius = 0.5 * d * (self.atoms as f64 / PACKING).cbrt();
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for _ in 0..self.count {
            let mut placed: Vec<[f64; 3]> = Vec::with_capacity(self.atoms);
            while placed.len() < self.atoms {
                let mut tries = 0;
                let atom = loop {
                    let q = in_ball(&mut rng, radius);
                    if placed.iter().all(|&a| dist2(a, q) >= d * d) {
                        break q;
                    }
                    tries += 1;
                    if tries == MAX_TRIES {
                        return Err(Error::Numeric(format!(
                            "could not place {} atoms at least {d} apart in a ball of radius \
                             {radius}",
                            self.atoms
                        )));
                    }
                };
                placed.push(atom);
            }
            let n = self.atoms as f64;
            let c: [f64; 3] = std::array::from_fn(|k| placed.iter().map(|a| a[k]).sum::<f64>() / n);
            let x: Vec<f64> = placed
                .iter()
                .flat_map(|a| [a[0] - c[0], a[1] - c[1], a[2] - c[2]])
                .collect();
            ys.push(match self.target {
                LjTarget::Energy => vec![self.energy(&x)?],
                LjTarget::Forces => self.forces(&x)?,
            });
            xs.push(x);
        }
        Dataset::from_rows(vec![self.atoms, 3], &xs, &ys)
    }
}

/// The rows of `[P, 3]` atoms.
fn atoms(x: &[f64]) -> Result<Vec<[f64; 3]>> {
    if x.len() < 6 || x.len() % 3 != 0 {
        return Err(Error::Shape(format!(
            "a Lennard-Jones cluster must have shape [P, 3] with P ≥ 2, got {} values",
            x.len()
        )));
    }
    Ok(x.chunks(3).map(|a| [a[0], a[1], a[2]]).collect())
}

fn dist2(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|k| (a[k] - b[k]).powi(2)).sum()
}

/// A uniform point in the ball of radius `r` (rejection from the cube).
fn in_ball(rng: &mut ChaCha8Rng, r: f64) -> [f64; 3] {
    loop {
        let q: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
        if q.iter().map(|v| v * v).sum::<f64>() <= 1.0 {
            return q.map(|v| v * r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::{Matrix3, O3};

    fn map(x: &[f64], q: &Matrix3) -> Vec<f64> {
        x.chunks(3)
            .flat_map(|a| q.apply([a[0], a[1], a[2]]))
            .collect()
    }

    /// Swaps atoms i and j.
    fn swap(x: &[f64], i: usize, j: usize) -> Vec<f64> {
        let mut y = x.to_vec();
        for k in 0..3 {
            y.swap(3 * i + k, 3 * j + k);
        }
        y
    }

    fn rel(a: &[f64], b: &[f64]) -> f64 {
        let d = a
            .iter()
            .zip(b)
            .fold(0.0_f64, |m, (u, v)| m.max((u - v).abs()));
        d / b.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
    }

    #[test]
    fn dimer_and_trimer_by_hand() {
        let lj = LennardJones::new(2, 1, 0);
        // V(σ) = 0 and |F| = 24ε/σ, repulsive; the minimum V(2^{1/6}σ) = −ε with no force.
        let x = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        assert!(lj.energy(&x).unwrap().abs() < 1e-15);
        assert_eq!(
            lj.forces(&x).unwrap(),
            vec![-24.0, 0.0, 0.0, 24.0, 0.0, 0.0]
        );
        let m = 2f64.powf(1.0 / 6.0);
        let x = [0.0, 0.0, 0.0, 0.0, 0.0, m];
        assert!((lj.energy(&x).unwrap() + 1.0).abs() < 1e-14);
        assert!(lj.forces(&x).unwrap().iter().all(|f| f.abs() < 1e-13));
        // equilateral trimer at the pair minimum: −3ε; ε = 2, σ = 1/2 at r = 1:
        // 4·2·(2⁻¹² − 2⁻⁶) per pair.
        let h = m * 3f64.sqrt() / 2.0;
        let t = [0.0, 0.0, 0.0, m, 0.0, 0.0, m / 2.0, h, 0.0];
        assert!((lj.energy(&t).unwrap() + 3.0).abs() < 1e-14);
        let lj2 = LennardJones {
            epsilon: 2.0,
            sigma: 0.5,
            ..lj
        };
        let t = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.5, 3f64.sqrt() / 2.0, 0.0];
        let want = 3.0 * 8.0 * (2f64.powi(-12) - 2f64.powi(-6));
        assert!((lj2.energy(&t).unwrap() - want).abs() < 1e-14);
    }

    #[test]
    fn forces_are_minus_the_gradient() {
        let mut lj = LennardJones::new(5, 4, 7);
        let data = lj.sample().unwrap();
        lj.target = LjTarget::Forces;
        let forces = lj.sample().unwrap();
        assert_eq!(
            data.inputs, forces.inputs,
            "the target does not change the atoms"
        );
        assert_eq!(forces.targets.ncols(), 15);
        for a in 0..4 {
            let x = data.inputs.example(a);
            let f: Vec<f64> = (0..15).map(|c| forces.targets[(a, c)]).collect();
            assert_eq!(f, lj.forces(x).unwrap());
            // central differences, error O(h²·E''') ≈ 1e-10 relative at h = 1e-5
            let h = 1e-5;
            let fd: Vec<f64> = (0..15)
                .map(|c| {
                    let (mut p, mut m) = (x.to_vec(), x.to_vec());
                    p[c] += h;
                    m[c] -= h;
                    -(lj.energy(&p).unwrap() - lj.energy(&m).unwrap()) / (2.0 * h)
                })
                .collect();
            assert!(rel(&fd, &f) < 1e-6, "{}", rel(&fd, &f));
            // Newton's third law: the forces sum to zero
            for k in 0..3 {
                let s: f64 = (0..5).map(|i| f[3 * i + k]).sum();
                assert!(s.abs() < 1e-9 * f.iter().map(|v| v.abs()).sum::<f64>());
            }
        }
    }

    #[test]
    fn energy_invariant_forces_equivariant() {
        let lj = LennardJones::new(6, 3, 11);
        let data = lj.sample().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for a in 0..3 {
            let x = data.inputs.example(a);
            let (e, f) = (lj.energy(x).unwrap(), lj.forces(x).unwrap());
            assert_eq!(e, data.targets[(a, 0)]);
            // centred, and no pair closer than the minimum distance
            for k in 0..3 {
                assert!((0..6).map(|i| x[3 * i + k]).sum::<f64>().abs() < 1e-12);
            }
            let p = atoms(x).unwrap();
            for i in 0..6 {
                for j in i + 1..6 {
                    assert!(dist2(p[i], p[j]) >= 0.95f64.powi(2));
                }
            }
            for _ in 0..4 {
                let q = O3.random(&mut rng);
                let qx = map(x, &q);
                assert!((lj.energy(&qx).unwrap() - e).abs() < 1e-12 * e.abs().max(1.0));
                assert!(rel(&lj.forces(&qx).unwrap(), &map(&f, &q)) < 1e-12);
            }
            let px = swap(x, 1, 4);
            assert!((lj.energy(&px).unwrap() - e).abs() < 1e-12 * e.abs().max(1.0));
            assert!(rel(&lj.forces(&px).unwrap(), &swap(&f, 1, 4)) < 1e-12);
            let tx: Vec<f64> = x.iter().map(|v| v + 0.7).collect();
            assert!((lj.energy(&tx).unwrap() - e).abs() < 1e-12 * e.abs().max(1.0));
        }
    }

    #[test]
    fn seeded_and_bad_input() {
        let a = LennardJones::new(4, 2, 3).sample().unwrap();
        assert_eq!(
            a.inputs,
            LennardJones::new(4, 2, 3).sample().unwrap().inputs
        );
        assert_ne!(
            a.inputs,
            LennardJones::new(4, 2, 4).sample().unwrap().inputs
        );
        assert!(LennardJones::new(1, 2, 0).sample().is_err());
        assert!(LennardJones::new(3, 0, 0).sample().is_err());
        let bad = LennardJones {
            sigma: -1.0,
            ..LennardJones::new(3, 1, 0)
        };
        assert!(bad.sample().is_err());
        assert!(LennardJones::new(3, 1, 0).energy(&[1.0, 2.0, 3.0]).is_err());
    }
}
