//! Point sets in the plane with an O(2)-invariant or an O(2)-equivariant target.
//!
//! An example is P points `r_i ∈ R²`, stored as `[P, 2]` (point i is row i), drawn i.i.d.
//! from N(0, I₂). Targets:
//!
//! * invariant: `D(r) = Σ_{i<j} ‖r_i − r_j‖`, unchanged by any rotation, reflection and
//!   translation of the plane and any permutation of the points;
//! * equivariant: `V(r) = Σ_i ‖r_i‖ r_i ∈ R²`, with `V(Q r) = Q V(r)` for every orthogonal
//!   2 × 2 matrix Q (rotation about the origin or reflection), unchanged by permutations, and
//!   not translation-invariant.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::Dataset;
use crate::error::{Error, Result};

/// Which target a [`PointSets`] generator attaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PointTarget {
    /// `Σ_{i<j} ‖r_i − r_j‖` (N × 1).
    #[default]
    PairwiseDistanceSum,
    /// `Σ_i ‖r_i‖ r_i` (N × 2), transforming like a vector.
    NormWeightedSum,
}

/// Generator of N sets of P Gaussian points.
#[derive(Clone, Debug, PartialEq)]
pub struct PointSets {
    /// Points per set P ≥ 1.
    pub points: usize,
    /// Number of sets N ≥ 1.
    pub count: usize,
    /// The target.
    pub target: PointTarget,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
}

fn check(points: &[f64]) -> Result<()> {
    if points.is_empty() || points.len() % 2 != 0 {
        return Err(Error::Shape(format!(
            "a point set must have shape [P, 2] with P ≥ 1, got {} values",
            points.len()
        )));
    }
    Ok(())
}

/// `D(r) = Σ_{i<j} ‖r_i − r_j‖` of points `[P, 2]` (flattened row-major).
pub(crate) fn pairwise_distance_sum(points: &[f64]) -> Result<f64> {
    check(points)?;
    let p: Vec<&[f64]> = points.chunks(2).collect();
    let mut d = 0.0;
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            d += (p[i][0] - p[j][0]).hypot(p[i][1] - p[j][1]);
        }
    }
    Ok(d)
}

/// `V(r) = Σ_i ‖r_i‖ r_i` of points `[P, 2]` (flattened row-major).
pub(crate) fn norm_weighted_sum(points: &[f64]) -> Result<[f64; 2]> {
    check(points)?;
    Ok(points.chunks(2).fold([0.0, 0.0], |acc, r| {
        let n = r[0].hypot(r[1]);
        [acc[0] + n * r[0], acc[1] + n * r[1]]
    }))
}

impl PointSets {
    /// Inputs `[N, P, 2]`, targets N × 1 or N × 2 by [`PointTarget`].
    pub fn sample(&self) -> Result<Dataset> {
        if self.points == 0 || self.count == 0 {
            return Err(Error::Invalid(format!(
                "point sets need points ≥ 1 and count ≥ 1, got {} and {}",
                self.points, self.count
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for _ in 0..self.count {
            let x: Vec<f64> = (0..2 * self.points)
                .map(|_| StandardNormal.sample(&mut rng))
                .collect();
            ys.push(match self.target {
                PointTarget::PairwiseDistanceSum => vec![pairwise_distance_sum(&x)?],
                PointTarget::NormWeightedSum => norm_weighted_sum(&x)?.to_vec(),
            });
            xs.push(x);
        }
        Dataset::from_rows(vec![self.points, 2], &xs, &ys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies the 2 × 2 matrix q to every point.
    fn map(x: &[f64], q: [[f64; 2]; 2]) -> Vec<f64> {
        x.chunks(2)
            .flat_map(|r| {
                [
                    q[0][0] * r[0] + q[0][1] * r[1],
                    q[1][0] * r[0] + q[1][1] * r[1],
                ]
            })
            .collect()
    }

    #[test]
    fn targets_by_hand() {
        // (0,0), (3,4), (3,0): distances 5, 3, 4
        let x = [0.0, 0.0, 3.0, 4.0, 3.0, 0.0];
        assert_eq!(pairwise_distance_sum(&x).unwrap(), 12.0);
        assert_eq!(norm_weighted_sum(&x).unwrap(), [15.0 + 9.0, 20.0]);
    }

    #[test]
    fn invariant_and_equivariant_under_o2() {
        let gen = PointSets {
            points: 6,
            count: 5,
            target: PointTarget::PairwiseDistanceSum,
            seed: 3,
        };
        let inv = gen.sample().unwrap();
        let eqv = PointSets {
            target: PointTarget::NormWeightedSum,
            ..gen
        }
        .sample()
        .unwrap();
        assert_eq!(
            inv.inputs, eqv.inputs,
            "the target does not change the points"
        );
        assert_eq!((eqv.targets.nrows(), eqv.targets.ncols()), (5, 2));
        for theta in [0.3, 1.0, 2.5, -4.0] {
            let (s, c) = f64::sin_cos(theta);
            let rot = [[c, -s], [s, c]];
            // reflection across the line at angle θ/2
            let refl = [[c, s], [s, -c]];
            for q in [rot, refl] {
                for i in 0..5 {
                    let x = inv.inputs.example(i);
                    let qx = map(x, q);
                    let d = pairwise_distance_sum(&qx).unwrap();
                    assert!((d - inv.targets[(i, 0)]).abs() < 1e-12);
                    let v = norm_weighted_sum(&qx).unwrap();
                    let want = map(&[eqv.targets[(i, 0)], eqv.targets[(i, 1)]], q);
                    assert!((v[0] - want[0]).abs() < 1e-12 && (v[1] - want[1]).abs() < 1e-12);
                }
            }
        }
        // permutation invariance; translation changes V but not D
        let x = inv.inputs.example(0).to_vec();
        let mut p = x.clone();
        p.swap(0, 4);
        p.swap(1, 5);
        assert!(
            (pairwise_distance_sum(&p).unwrap() - pairwise_distance_sum(&x).unwrap()).abs() < 1e-12
        );
        let (vp, vx) = (
            norm_weighted_sum(&p).unwrap(),
            norm_weighted_sum(&x).unwrap(),
        );
        assert!((vp[0] - vx[0]).abs() < 1e-12 && (vp[1] - vx[1]).abs() < 1e-12);
        let t: Vec<f64> = x.iter().map(|v| v + 1.0).collect();
        assert!(
            (pairwise_distance_sum(&t).unwrap() - pairwise_distance_sum(&x).unwrap()).abs() < 1e-12
        );
        assert!(
            (norm_weighted_sum(&t).unwrap()[0] - norm_weighted_sum(&x).unwrap()[0]).abs() > 1e-3
        );
    }

    #[test]
    fn bad_input() {
        assert!(pairwise_distance_sum(&[1.0, 2.0, 3.0]).is_err());
        assert!(norm_weighted_sum(&[]).is_err());
        assert!(PointSets {
            points: 0,
            count: 1,
            target: PointTarget::default(),
            seed: 0
        }
        .sample()
        .is_err());
    }
}
