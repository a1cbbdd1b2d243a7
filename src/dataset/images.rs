//! Synthetic square images with a target invariant under the rotations and flips of the square.
//!
//! An image is a sum of random Gaussian bumps,
//! `x[r, c] = Σ_k a_k exp(−((r − u_k)² + (c − v_k)²) / (2 w_k²))`, `a_k ~ N(0, 1)`, centres
//! `(u_k, v_k)` uniform in `[0, H−1]²`, widths `w_k` uniform in `[H/8, H/4]`. Its target is the
//! radially weighted mean about the image centre `o = ((H−1)/2, (H−1)/2)`:
//!
//! ```text
//! y(x) = Σ_p ω(‖p − o‖) x[p] / Σ_p ω(‖p − o‖),      ω(ρ) = exp(−ρ² / (2 (H/4)²))
//! ```
//!
//! A 90° rotation or a flip of the pixel grid about `o` permutes pixels among those at the same
//! distance from `o`, so y is exactly invariant under D4 (and hence C4); it is *not* invariant
//! under translations, which move mass towards or away from the centre.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::Dataset;
use crate::error::{Error, Result};

/// Generator of N random `[H, H, 1]` images with the D4-invariant target
/// `radial_weighted_mean`.
#[derive(Clone, Debug, PartialEq)]
pub struct RadialImages {
    /// Side H ≥ 2 of the square image.
    pub size: usize,
    /// Number of images N ≥ 1.
    pub count: usize,
    /// Gaussian bumps per image (≥ 1).
    pub bumps: usize,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
}

fn weights(h: usize) -> Vec<f64> {
    let o = (h as f64 - 1.0) / 2.0;
    let s = h as f64 / 4.0;
    (0..h * h)
        .map(|i| {
            let (r, c) = ((i / h) as f64 - o, (i % h) as f64 - o);
            (-(r * r + c * c) / (2.0 * s * s)).exp()
        })
        .collect()
}

/// `y(x) = Σ_p ω(‖p − o‖) x[p] / Σ_p ω(‖p − o‖)` of a row-major H × H image (one channel),
/// `o` the centre of the grid, `ω(ρ) = exp(−ρ²/(2 (H/4)²))`. Invariant under D4 about `o`.
pub(crate) fn radial_weighted_mean(image: &[f64], h: usize) -> Result<f64> {
    if h < 1 || image.len() != h * h {
        return Err(Error::Shape(format!(
            "an H × H image with H = {h} needs {} values, got {}",
            h * h,
            image.len()
        )));
    }
    let w = weights(h);
    Ok(w.iter().zip(image).map(|(a, b)| a * b).sum::<f64>() / w.iter().sum::<f64>())
}

impl RadialImages {
    /// Inputs `[N, H, H, 1]`, targets N × 1.
    pub fn sample(&self) -> Result<Dataset> {
        let h = self.size;
        if h < 2 || self.count == 0 || self.bumps == 0 {
            return Err(Error::Invalid(format!(
                "radial images need size ≥ 2, count ≥ 1 and bumps ≥ 1, got {}, {}, {}",
                h, self.count, self.bumps
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let hf = h as f64;
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for _ in 0..self.count {
            let mut x = vec![0.0; h * h];
            for _ in 0..self.bumps {
                let a: f64 = rng.sample(StandardNormal);
                let u = rng.random::<f64>() * (hf - 1.0);
                let v = rng.random::<f64>() * (hf - 1.0);
                let w = hf / 8.0 * (1.0 + rng.random::<f64>());
                for (i, xi) in x.iter_mut().enumerate() {
                    let (dr, dc) = ((i / h) as f64 - u, (i % h) as f64 - v);
                    *xi += a * (-(dr * dr + dc * dc) / (2.0 * w * w)).exp();
                }
            }
            ys.push(vec![radial_weighted_mean(&x, h)?]);
            xs.push(x);
        }
        Dataset::from_rows(vec![h, h, 1], &xs, &ys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rot90(x: &[f64], h: usize) -> Vec<f64> {
        let mut y = vec![0.0; h * h];
        for r in 0..h {
            for c in 0..h {
                y[c * h + (h - 1 - r)] = x[r * h + c];
            }
        }
        y
    }

    fn flip_columns(x: &[f64], h: usize) -> Vec<f64> {
        (0..h * h)
            .map(|i| x[(i / h) * h + (h - 1 - i % h)])
            .collect()
    }

    #[test]
    fn target_is_d4_invariant_and_not_translation_invariant() {
        for h in [5, 6] {
            let d = RadialImages {
                size: h,
                count: 10,
                bumps: 3,
                seed: 7,
            }
            .sample()
            .unwrap();
            assert_eq!(d.inputs.shape(), &[h, h, 1]);
            for i in 0..10 {
                let x = d.inputs.example(i);
                let y = d.targets[(i, 0)];
                assert_eq!(y, radial_weighted_mean(x, h).unwrap());
                let mut g = x.to_vec();
                for _ in 0..3 {
                    g = rot90(&g, h);
                    assert!((radial_weighted_mean(&g, h).unwrap() - y).abs() < 1e-12);
                }
                let f = flip_columns(x, h);
                assert!((radial_weighted_mean(&f, h).unwrap() - y).abs() < 1e-12);
            }
        }
        // a bump at the centre weighs more than the same bump shifted to a corner
        let mut centre = vec![0.0; 25];
        centre[12] = 1.0;
        let mut corner = vec![0.0; 25];
        corner[0] = 1.0;
        assert!(
            radial_weighted_mean(&centre, 5).unwrap()
                > 5.0 * radial_weighted_mean(&corner, 5).unwrap()
        );
    }

    #[test]
    fn deterministic_and_bad_input() {
        let p = RadialImages {
            size: 4,
            count: 3,
            bumps: 2,
            seed: 1,
        };
        assert_eq!(p.sample().unwrap().inputs, p.sample().unwrap().inputs);
        assert!(RadialImages {
            count: 0,
            ..p.clone()
        }
        .sample()
        .is_err());
        assert!(RadialImages { size: 1, ..p }.sample().is_err());
        assert!(radial_weighted_mean(&[1.0; 5], 2).is_err());
    }
}
