//! The 2-D Ising model on an L × L torus, sampled by Metropolis.
//!
//! Spins `s_i = ±1` on sites `i = (r, c)`, stored row-major (`i = r·L + c`), coupling J = 1,
//! no field, periodic neighbours. The energy per site
//!
//! ```text
//! e(s) = E(s)/L² = −(1/L²) Σ_{(r,c)} s_{r,c} (s_{r+1,c} + s_{r,c+1})      (indices mod L)
//! ```
//!
//! counts each nearest-neighbour bond once (twice for L = 2, where the right and left
//! neighbours coincide; that keeps e(all up) = −2 for every L). It is invariant under the
//! symmetries of the torus — translations, 90° rotations, transposition (p4m) — and under the
//! global spin flip s → −s.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Dataset;
use crate::error::{Error, Result};

/// Where the Markov chain starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IsingStart {
    /// Independent uniform ±1 spins (a "hot" start).
    #[default]
    Random,
    /// All spins +1 (a "cold" start; below T_c it avoids slow domain-wall states).
    AllUp,
}

/// Metropolis sampler of the Ising model at temperature T (k_B = 1).
///
/// One sweep is L² single-spin Metropolis steps at uniformly random sites: flip s_i with
/// probability `min(1, exp(−ΔE/T))`, `ΔE = 2 s_i Σ_{j~i} s_j`. After `burn_in` sweeps, a
/// configuration is recorded after every `thin`-th of the next `sweeps` sweeps, so
/// N = ⌊sweeps / thin⌋.
#[derive(Clone, Debug, PartialEq)]
pub struct IsingSampler {
    /// Side of the torus, L ≥ 2.
    pub l: usize,
    /// Temperature T > 0 (T_c = 2/ln(1 + √2) ≈ 2.269).
    pub temperature: f64,
    /// Sweeps after the burn-in.
    pub sweeps: usize,
    /// Sweeps discarded first.
    pub burn_in: usize,
    /// Record every `thin`-th sweep (≥ 1).
    pub thin: usize,
    /// Initial configuration.
    pub start: IsingStart,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
}

fn check_l(config: &[f64], l: usize) -> Result<()> {
    if l < 2 || config.len() != l * l {
        return Err(Error::Shape(format!(
            "an Ising configuration on an L × L torus needs L ≥ 2 and L² values, got L = {l} and {} values",
            config.len()
        )));
    }
    Ok(())
}

/// `e(s) = −(1/L²) Σ_{(r,c)} s_{r,c} (s_{r+1,c} + s_{r,c+1})` (indices mod L) of a row-major
/// L × L configuration. Any real values are accepted; for ±1 spins e ∈ [−2, 2].
pub(crate) fn energy_per_site(config: &[f64], l: usize) -> Result<f64> {
    check_l(config, l)?;
    let mut e = 0.0;
    for r in 0..l {
        for c in 0..l {
            let s = config[r * l + c];
            e -= s * (config[((r + 1) % l) * l + c] + config[r * l + (c + 1) % l]);
        }
    }
    Ok(e / (l * l) as f64)
}

/// The magnetisation per site `m(s) = (1/L²) Σ_i s_i`.
pub fn magnetisation(config: &[f64]) -> f64 {
    config.iter().sum::<f64>() / config.len().max(1) as f64
}

/// The exact thermal mean `⟨e⟩_T = Σ_s e(s) exp(−L² e(s)/T) / Σ_s exp(−L² e(s)/T)` by
/// enumerating all 2^{L²} configurations; L ∈ {2, 3, 4}.
pub fn exact_mean_energy_per_site(l: usize, temperature: f64) -> Result<f64> {
    if !(2..=4).contains(&l) {
        return Err(Error::Invalid(format!(
            "exact enumeration needs L in 2..=4 (2^(L²) states), got L = {l}"
        )));
    }
    check_temperature(temperature)?;
    let n = l * l;
    let (mut z, mut ez) = (0.0, 0.0);
    let mut s = vec![0.0; n];
    for bits in 0u32..(1 << n) {
        for (i, v) in s.iter_mut().enumerate() {
            *v = if bits >> i & 1 == 1 { 1.0 } else { -1.0 };
        }
        let e = energy_per_site(&s, l)?;
        // shifted by the ground-state energy −2L² so the largest weight is 1
        let w = (-(n as f64) * (e + 2.0) / temperature).exp();
        z += w;
        ez += e * w;
    }
    Ok(ez / z)
}

fn check_temperature(t: f64) -> Result<()> {
    if !(t.is_finite() && t > 0.0) {
        return Err(Error::Invalid(format!(
            "the temperature must be a finite number > 0, got {t}"
        )));
    }
    Ok(())
}

impl IsingSampler {
    /// A sampler with a random start and seed 0.
    pub fn new(l: usize, temperature: f64, sweeps: usize, burn_in: usize, thin: usize) -> Self {
        Self {
            l,
            temperature,
            sweeps,
            burn_in,
            thin,
            start: IsingStart::Random,
            seed: 0,
        }
    }

    /// Runs the chain: inputs `[N, L, L, 1]` of ±1, targets N × 1 the energy per site.
    pub fn sample(&self) -> Result<Dataset> {
        let l = self.l;
        if l < 2 {
            return Err(Error::Invalid(format!(
                "the Ising torus needs L ≥ 2, got {l}"
            )));
        }
        check_temperature(self.temperature)?;
        if self.thin == 0 || self.sweeps / self.thin == 0 {
            return Err(Error::Invalid(format!(
                "sweeps = {} with thin = {} records no configuration (need thin ≥ 1, sweeps ≥ thin)",
                self.sweeps, self.thin
            )));
        }
        let n = l * l;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut s: Vec<i8> = match self.start {
            IsingStart::AllUp => vec![1; n],
            IsingStart::Random => (0..n)
                .map(|_| if rng.random::<bool>() { 1 } else { -1 })
                .collect(),
        };
        // acceptance probabilities for ΔE = 4, 8 (and 12, 16 for L = 2, where each neighbour
        // is counted twice); ΔE ≤ 0 is always accepted
        let accept: [f64; 4] =
            std::array::from_fn(|k| (-4.0 * (k + 1) as f64 / self.temperature).exp());
        let sweep = |s: &mut [i8], rng: &mut ChaCha8Rng| {
            for _ in 0..n {
                let i = rng.random_range(0..n);
                let (r, c) = (i / l, i % l);
                let nb = s[((r + 1) % l) * l + c]
                    + s[((r + l - 1) % l) * l + c]
                    + s[r * l + (c + 1) % l]
                    + s[r * l + (c + l - 1) % l];
                let de = 2 * i32::from(s[i]) * i32::from(nb);
                if de <= 0 || rng.random::<f64>() < accept[(de / 4 - 1) as usize] {
                    s[i] = -s[i];
                }
            }
        };
        for _ in 0..self.burn_in {
            sweep(&mut s, &mut rng);
        }
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for k in 1..=self.sweeps {
            sweep(&mut s, &mut rng);
            if k % self.thin == 0 {
                let x: Vec<f64> = s.iter().map(|&v| f64::from(v)).collect();
                ys.push(vec![energy_per_site(&x, l)?]);
                xs.push(x);
            }
        }
        Dataset::from_rows(vec![l, l, 1], &xs, &ys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_spins(l: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
        (0..l * l)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect()
    }

    /// (r, c) ↦ (c, L−1−r): the image rotated by 90°.
    fn rot90(x: &[f64], l: usize) -> Vec<f64> {
        let mut y = vec![0.0; l * l];
        for r in 0..l {
            for c in 0..l {
                y[c * l + (l - 1 - r)] = x[r * l + c];
            }
        }
        y
    }

    fn transpose(x: &[f64], l: usize) -> Vec<f64> {
        (0..l * l).map(|i| x[(i % l) * l + i / l]).collect()
    }

    fn translate(x: &[f64], l: usize, dr: usize, dc: usize) -> Vec<f64> {
        (0..l * l)
            .map(|i| x[((i / l + dr) % l) * l + (i % l + dc) % l])
            .collect()
    }

    #[test]
    fn ground_state_and_checkerboard() {
        for l in [2, 3, 4, 7] {
            assert_eq!(energy_per_site(&vec![1.0; l * l], l).unwrap(), -2.0);
            assert_eq!(energy_per_site(&vec![-1.0; l * l], l).unwrap(), -2.0);
        }
        for l in [2, 4, 6] {
            let board: Vec<f64> = (0..l * l)
                .map(|i| if (i / l + i % l) % 2 == 0 { 1.0 } else { -1.0 })
                .collect();
            assert_eq!(energy_per_site(&board, l).unwrap(), 2.0);
        }
        // one flipped spin in the ground state breaks 4 bonds: ΔE = +8
        let mut s = vec![1.0; 25];
        s[7] = -1.0;
        assert_eq!(energy_per_site(&s, 5).unwrap(), -2.0 + 8.0 / 25.0);
    }

    #[test]
    fn energy_is_invariant_under_p4m_and_spin_flip() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for l in [3, 4, 5] {
            for _ in 0..20 {
                let x = random_spins(l, &mut rng);
                let e = energy_per_site(&x, l).unwrap();
                let flipped: Vec<f64> = x.iter().map(|v| -v).collect();
                let variants = [
                    rot90(&x, l),
                    rot90(&rot90(&x, l), l),
                    transpose(&x, l),
                    translate(&x, l, 1, 0),
                    translate(&x, l, 2, l - 1),
                    flipped,
                ];
                for v in &variants {
                    assert_eq!(energy_per_site(v, l).unwrap(), e);
                }
            }
        }
        // and it is not invariant under an arbitrary permutation (the test is not vacuous)
        let x = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0];
        let y = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 1.0, 1.0];
        assert_ne!(
            energy_per_site(&x, 3).unwrap(),
            energy_per_site(&y, 3).unwrap()
        );
    }

    #[test]
    fn sampler_shapes_and_determinism() {
        let mut p = IsingSampler::new(4, 2.0, 10, 5, 2);
        p.seed = 3;
        let a = p.sample().unwrap();
        assert_eq!(a.inputs.len(), 5);
        assert_eq!(a.inputs.shape(), &[4, 4, 1]);
        assert_eq!((a.targets.nrows(), a.targets.ncols()), (5, 1));
        assert!(a.inputs.values().iter().all(|v| v.abs() == 1.0));
        for i in 0..5 {
            assert_eq!(
                a.targets[(i, 0)],
                energy_per_site(a.inputs.example(i), 4).unwrap()
            );
        }
        let b = p.sample().unwrap();
        assert_eq!(a.inputs, b.inputs);
        p.seed = 4;
        assert_ne!(p.sample().unwrap().inputs, a.inputs);
    }

    #[test]
    fn ordered_at_low_and_disordered_at_high_temperature() {
        // T = 1.5: Onsager's spontaneous magnetisation (1 − sinh(2/T)^{−4})^{1/8} = 0.986 (larger
        // still on a finite torus); 0.9 is far below it.
        let mut cold = IsingSampler::new(8, 1.5, 400, 100, 4);
        cold.start = IsingStart::AllUp;
        let d = cold.sample().unwrap();
        let m: f64 = (0..d.inputs.len())
            .map(|i| magnetisation(d.inputs.example(i)).abs())
            .sum::<f64>()
            / d.inputs.len() as f64;
        assert!(m > 0.9, "mean |m| = {m} at T = 1.5");
        // T = 10, L = 16: E m² = χT/L² with χT ≈ 1 + 4 tanh(1/T) ≈ 1.4, so E|m| ≤ sqrt(1.4/256)
        // ≈ 0.074; 0.2 is almost 3× that, and the mean over 100 samples has a small spread.
        let hot = IsingSampler::new(16, 10.0, 200, 50, 2).sample().unwrap();
        let m: f64 = (0..hot.inputs.len())
            .map(|i| magnetisation(hot.inputs.example(i)).abs())
            .sum::<f64>()
            / hot.inputs.len() as f64;
        assert!(m < 0.2, "mean |m| = {m} at T = 10");
    }

    #[test]
    fn metropolis_matches_exact_enumeration() {
        // exact limits: ⟨e⟩ → −2 as T → 0, → 0 as T → ∞
        assert!((exact_mean_energy_per_site(3, 0.05).unwrap() + 2.0).abs() < 1e-12);
        assert!(exact_mean_energy_per_site(3, 1e6).unwrap().abs() < 1e-5);
        for (l, t, seed) in [(3, 2.5, 1), (2, 1.8, 2)] {
            let exact = exact_mean_energy_per_site(l, t).unwrap();
            let mut p = IsingSampler::new(l, t, 40_000, 500, 1);
            p.seed = seed;
            let d = p.sample().unwrap();
            let e: Vec<f64> = (0..d.targets.nrows()).map(|i| d.targets[(i, 0)]).collect();
            // standard error from 40 batch means of 1000 sweeps each (robust to autocorrelation)
            let means: Vec<f64> = e
                .chunks(1000)
                .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                .collect();
            let k = means.len() as f64;
            let mean = means.iter().sum::<f64>() / k;
            let var = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (k - 1.0);
            let se = (var / k).sqrt();
            assert!(
                se < 0.01,
                "the run must be long enough to be a test (se = {se})"
            );
            assert!(
                (mean - exact).abs() < 5.0 * se,
                "L = {l}, T = {t}: Metropolis {mean} ± {se}, exact {exact}"
            );
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(IsingSampler::new(1, 2.0, 10, 0, 1).sample().is_err());
        assert!(IsingSampler::new(4, 0.0, 10, 0, 1).sample().is_err());
        assert!(IsingSampler::new(4, f64::NAN, 10, 0, 1).sample().is_err());
        assert!(IsingSampler::new(4, 2.0, 10, 0, 0).sample().is_err());
        assert!(IsingSampler::new(4, 2.0, 3, 0, 5).sample().is_err());
        assert!(energy_per_site(&[1.0; 5], 2).is_err());
        assert!(exact_mean_energy_per_site(5, 2.0).is_err());
    }
}
