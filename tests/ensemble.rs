//! Trained finite networks and ensembles against the linearised network and the
//! infinite-ensemble predictor (MATH.md §8–9).
//!
//! What is compared (as neural-tangents checks `gradient_descent_mse_ensemble` against trained
//! networks): M one-hidden-layer ReLU networks of width n, each initialised from its own seed and
//! trained by full-batch gradient descent on `L = 1/(2·N·O) Σ (f − y)²` with learning rate η for
//! time t (`dθ/dt = −η ∇L`, Euler steps dt), give member outputs on training and test inputs.
//! Their mean and unbiased covariance over members are compared with μ_t and Σ_t of
//! `Predictor` built from the *analytic* kernels `Network::kernel`. The difference may be:
//! * statistical: z = 5 standard errors of the ensemble estimate, the standard error taken from
//!   the member spread (no Gaussian assumption);
//! * finite width: O(1/n), allowed as `B/n` with B measured once at small width, where the bias
//!   stands out of the noise (`measure_finite_width_bias`, ignored; the numbers are quoted at
//!   the constants below);
//! * time discretisation: the exact difference between gradient descent and gradient flow of
//!   the *infinite-width* linear model, computed here from the eigenvalues of Θ(X,X).

use eqntk::finite::{train_ensemble, EnsembleConfig, EnsembleRun, TrainOptions};
use eqntk::{Batch, FiniteNetwork, Network, Predictor};
use faer::{Mat, Side};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// z-score of the statistical agreement (MATH.md §9).
const Z: f64 = 5.0;

/// N(0, 1) inputs in 3-D rescaled to |x|²/3 = 1 (unit input kernel on the diagonal).
fn inputs(n: usize, seed: u64) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = Vec::with_capacity(3 * n);
    for _ in 0..n {
        let x: Vec<f64> = (0..3).map(|_| rng.sample(StandardNormal)).collect();
        let norm = (x.iter().map(|a| a * a).sum::<f64>() / 3.0).sqrt();
        v.extend(x.iter().map(|a| a / norm));
    }
    Batch::new(vec![3], v).unwrap()
}

/// A one-hidden-layer ReLU MLP on 3-D inputs.
fn mlp() -> Network {
    Network::from_toml_str(
        "[input]\nshape=[3]\n[[layers]]\nkind='dense'\nw_std=1.5\nb_std=0.1\n\
         [[layers]]\nkind='relu'\n[[layers]]\nkind='dense'\nw_std=1.0\nb_std=0.1\n",
        "mlp.toml",
    )
    .unwrap()
}

/// Smooth targets of unit scale, N × O (O ≤ 2).
fn targets(x: &Batch, outputs: usize) -> Mat<f64> {
    Mat::from_fn(x.len(), outputs, |i, o| {
        let e = x.example(i);
        match o {
            0 => e[0].sin() + e[1] * e[2],
            _ => e[1].cos() - 0.5 * e[0],
        }
    })
}

fn block(m: &Mat<f64>, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) -> Mat<f64> {
    Mat::from_fn(rows.len(), cols.len(), |i, j| {
        m[(rows.start + i, cols.start + j)]
    })
}

fn max_abs(m: &Mat<f64>) -> f64 {
    (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| (i, j)))
        .fold(0.0, |a, (i, j)| a.max(m[(i, j)].abs()))
}

/// The comparison problem: N = 5 training points, 3 off-data test points, O = 2 outputs.
/// Predictions are made on all 8 points (training points first).
struct Problem {
    net: Network,
    x_train: Batch,
    y_train: Mat<f64>,
    x_all: Batch,
    /// Analytic K and Θ on all 8 points.
    nngp: Mat<f64>,
    ntk: Mat<f64>,
    learning_rate: f64,
}

const N_TRAIN: usize = 5;
const N_ALL: usize = 8;

fn problem() -> Problem {
    let net = mlp();
    let x_train = inputs(N_TRAIN, 1);
    let x_test = inputs(N_ALL - N_TRAIN, 2);
    let x_all = Batch::new(vec![3], [x_train.values(), x_test.values()].concat()).unwrap();
    let k = net.kernel(&x_all, None).unwrap();
    Problem {
        y_train: targets(&x_train, 2),
        nngp: k.nngp().unwrap(),
        ntk: k.ntk().unwrap(),
        net,
        x_train,
        x_all,
        // c = η/(N·O) = 0.2: over t ∈ [0, 10] the modes of Θ(X,X) (eigenvalues ≈ 0.28 … 5.8)
        // go from untrained to converged.
        learning_rate: 2.0,
    }
}

impl Problem {
    fn predictor(&self) -> Predictor {
        let tr = 0..N_TRAIN;
        Predictor::new(
            block(&self.ntk, tr.clone(), tr.clone()).as_ref(),
            block(&self.nngp, tr.clone(), tr).as_ref(),
            self.y_train.as_ref(),
            self.learning_rate,
            0.0,
        )
        .unwrap()
    }

    fn mu(&self, t: f64) -> Mat<f64> {
        let cross = block(&self.ntk, 0..N_ALL, 0..N_TRAIN);
        self.predictor().mean(cross.as_ref(), t).unwrap()
    }

    fn sigma(&self, t: f64) -> Mat<f64> {
        self.predictor()
            .covariance(
                self.nngp.as_ref(),
                block(&self.nngp, 0..N_ALL, 0..N_TRAIN).as_ref(),
                block(&self.ntk, 0..N_ALL, 0..N_TRAIN).as_ref(),
                t,
            )
            .unwrap()
    }

    /// μ and Σ of the infinite-width linear model trained by `steps` gradient-descent steps of
    /// size `dt` instead of the flow: with `Θ(X,X) = V diag(λ) Vᵀ`, c = η/(N·O) and
    /// `P = Θ(x,X) V diag((1 − (1 − dt·c·λ)^steps)/λ) Vᵀ`, `μ = P Y` and
    /// `Σ = K(x,x') + P K(X,X) Pᵀ − P K(X,x') − (P K(X,x'))ᵀ` (the flow has `e^{−c t λ}` in
    /// place of `(1 − dt·c·λ)^steps`). Written out here, independently of `Predictor`.
    fn discrete(&self, dt: f64, steps: usize) -> (Mat<f64>, Mat<f64>) {
        let c = self.learning_rate / (N_TRAIN * self.y_train.ncols()) as f64;
        let theta = block(&self.ntk, 0..N_TRAIN, 0..N_TRAIN);
        let evd = theta.self_adjoint_eigen(Side::Lower).unwrap();
        let v = evd.U().to_owned();
        let f = Mat::from_fn(N_TRAIN, N_TRAIN, |i, j| {
            if i == j {
                let l = evd.S()[i];
                (1.0 - (1.0 - dt * c * l).powi(steps as i32)) / l
            } else {
                0.0
            }
        });
        let pm = block(&self.ntk, 0..N_ALL, 0..N_TRAIN) * (&v * f * v.transpose());
        let k_xx = block(&self.nngp, 0..N_TRAIN, 0..N_TRAIN);
        let k_ax = block(&self.nngp, 0..N_ALL, 0..N_TRAIN);
        let cross = &pm * k_ax.transpose();
        let sigma = &self.nngp + &pm * k_xx * pm.transpose() - &cross - cross.transpose();
        (&pm * &self.y_train, sigma)
    }

    /// The largest differences, over entries, between the infinite-width gradient-descent
    /// prediction (`dt = 1/spu`) and the flow: (mean, covariance).
    fn discretisation_error(&self, t: f64, spu: f64) -> (f64, f64) {
        let (mu_d, sigma_d) = self.discrete(1.0 / spu, (t * spu).round() as usize);
        (
            max_abs(&(mu_d - self.mu(t))),
            max_abs(&(sigma_d - self.sigma(t))),
        )
    }

    fn run(&self, width: usize, members: usize, seed: u64, times: &[f64], spu: f64) -> EnsembleRun {
        let cfg = EnsembleConfig {
            width,
            members,
            seed,
            learning_rate: self.learning_rate,
            times: times.to_vec(),
            steps_per_unit: spu,
            progress: false,
        };
        train_ensemble(
            &self.net,
            &self.x_train,
            self.y_train.as_ref(),
            &self.x_all,
            &cfg,
        )
        .unwrap()
    }
}

/// Standard error of the output-averaged covariance estimate at (a, b), from the member spread:
/// the per-member products `(1/O) Σ_o (F_m[a,o] − mean)(F_m[b,o] − mean)` have sample std s,
/// and the SE is s/√M.
fn covariance_se(run: &EnsembleRun, k: usize) -> Mat<f64> {
    let preds = run.predictions(k);
    let mean = run.mean(k);
    let (m, o) = (preds.len() as f64, mean.ncols());
    Mat::from_fn(N_ALL, N_ALL, |a, b| {
        let prods: Vec<f64> = preds
            .iter()
            .map(|p| {
                (0..o)
                    .map(|c| (p[(a, c)] - mean[(a, c)]) * (p[(b, c)] - mean[(b, c)]))
                    .sum::<f64>()
                    / o as f64
            })
            .collect();
        let avg = prods.iter().sum::<f64>() / m;
        let var = prods.iter().map(|q| (q - avg).powi(2)).sum::<f64>() / (m - 1.0);
        (var / m).sqrt()
    })
}

/// Finite-width bias allowances: |E[ensemble] − infinite width| ≤ B/width. Measured by
/// `measure_finite_width_bias` (4000 members, against the infinite-width model trained by the
/// same gradient-descent steps): width × largest |difference| is ≈ 1.6, 1.6, 2.0 (mean, t = 10,
/// widths 32, 64, 128, where it is 17–30 SE) and ≤ 2.2 at t = 1; for the covariance ≈ 1.3,
/// 1.2 at t = 1 (widths 32, 64; 6–12 SE) and ≈ 0.3 at t = 10; at t = 0 no bias is visible (a
/// one-hidden-layer network's prior is exactly Gaussian in its first layer, so its output
/// covariance is exactly K at any width). The allowances take these ×2.
const MEAN_BIAS_B: f64 = 4.0;
const COV_BIAS_B: f64 = 2.5;

/// (2) The trained ensemble's mean and covariance against the infinite-ensemble predictor at
/// t ∈ {0, 1, 10}; at t = 0 the mean is ~0 and the covariance ≈ K(x, x'). Also checks that the
/// comparison has power: a predictor with time off by ×2 (e.g. normalising by N instead of N·O
/// with O = 2) is rejected.
#[test]
fn trained_ensemble_matches_the_infinite_ensemble_predictor() {
    let p = problem();
    let (width, members, spu) = (512, 128, 50.0);
    let times = [0.0, 1.0, 10.0];
    let run = p.run(width, members, 1000, &times, spu);
    let n = width as f64;
    let mut rejects_wrong_time = false;
    for (k, &t) in times.iter().enumerate() {
        let mu = p.mu(t);
        let (disc, disc_cov) = p.discretisation_error(t, spu);
        let mean = run.mean(k);
        let se = run.mean_standard_error(k);
        let mut worst: f64 = 0.0;
        for a in 0..N_ALL {
            for o in 0..2 {
                let tol = Z * se[(a, o)] + MEAN_BIAS_B / n + disc;
                let diff = (mean[(a, o)] - mu[(a, o)]).abs();
                worst = worst.max(diff / tol);
                assert!(
                    diff <= tol,
                    "t = {t}, point {a}, output {o}: ensemble mean {} vs μ_t {} (tolerance {tol})",
                    mean[(a, o)],
                    mu[(a, o)]
                );
                if t == 1.0 {
                    for wrong in [p.mu(2.0 * t), p.mu(0.5 * t)] {
                        if (mean[(a, o)] - wrong[(a, o)]).abs() > tol {
                            rejects_wrong_time = true;
                        }
                    }
                }
            }
        }
        if t == 0.0 {
            assert_eq!(max_abs(&mu), 0.0);
        }
        let sigma = p.sigma(t);
        let cov = run.covariance(k);
        let cse = covariance_se(&run, k);
        for a in 0..N_ALL {
            for b in 0..N_ALL {
                let tol = Z * cse[(a, b)] + COV_BIAS_B / n + disc_cov;
                let diff = (cov[(a, b)] - sigma[(a, b)]).abs();
                worst = worst.max(diff / tol);
                assert!(
                    diff <= tol,
                    "t = {t}, ({a}, {b}): ensemble covariance {} vs Σ_t {} (tolerance {tol})",
                    cov[(a, b)],
                    sigma[(a, b)]
                );
            }
        }
        if t == 0.0 {
            // Σ_0 is the prior K(x, x') itself.
            assert!(max_abs(&(&sigma - &p.nngp)) < 1e-12);
        }
        eprintln!("t = {t}: largest |difference| / tolerance = {worst:.3} (discretisation {disc:.1e}, {disc_cov:.1e})");
    }
    assert!(
        rejects_wrong_time,
        "the comparison at t = 1 cannot tell μ_t from μ_2t or μ_t/2"
    );
}

/// Measures the finite-width bias quoted at `MEAN_BIAS_B` / `COV_BIAS_B`: for widths 32, 64,
/// 128 and 4000 members, ensemble estimates against the infinite-width model trained by the
/// *same* gradient-descent steps (so the time discretisation cancels). Prints, over points and
/// outputs, the largest |difference|, the largest |difference|/SE, and the largest excess
/// `|difference| − 3·SE` (a lower bound on the bias where it stands out of the noise).
/// Run with `cargo test --test suite ensemble -- --ignored --nocapture`.
#[test]
#[ignore = "measurement (a few minutes); its numbers are quoted at MEAN_BIAS_B"]
fn measure_finite_width_bias() {
    let p = problem();
    let times = [0.0, 1.0, 10.0];
    let spu = 20.0;
    for width in [32, 64, 128] {
        let run = p.run(width, 4000, 50_000, &times, spu);
        for (k, &t) in times.iter().enumerate() {
            let (mu, sigma) = p.discrete(1.0 / spu, (t * spu).round() as usize);
            let stats = |est: &Mat<f64>, se: &Mat<f64>, want: &Mat<f64>| {
                let (mut d, mut z, mut excess) = (0.0_f64, 0.0_f64, 0.0_f64);
                for a in 0..est.nrows() {
                    for b in 0..est.ncols() {
                        let diff = (est[(a, b)] - want[(a, b)]).abs();
                        d = d.max(diff);
                        z = z.max(diff / se[(a, b)]);
                        excess = excess.max(diff - 3.0 * se[(a, b)]);
                    }
                }
                (d, z, excess)
            };
            let m = stats(&run.mean(k), &run.mean_standard_error(k), &mu);
            let c = stats(&run.covariance(k), &covariance_se(&run, k), &sigma);
            eprintln!(
                "width {width:4} t = {t:4}: mean |diff| ≤ {:.4} (≤ {:.1} SE, excess {:+.4}); \
                 covariance |diff| ≤ {:.4} (≤ {:.1} SE, excess {:+.4})",
                m.0, m.1, m.2, c.0, c.1, c.2
            );
        }
    }
}

/// Max |a − b| over all members, points and outputs of two runs with the same members.
fn max_member_difference(a: &EnsembleRun, b: &EnsembleRun) -> f64 {
    (0..a.times().len())
        .flat_map(|k| a.predictions(k).iter().zip(b.predictions(k)))
        .map(|(p, q)| max_abs(&(p - q)))
        .fold(0.0, f64::max)
}

/// (1) Gradient descent lowers the loss at every step, and on the training inputs a wide
/// network follows the linearised network `f_lin = f_0 + J_0 (θ − θ_0)` trained by the same
/// steps, `r_{k+1} = (I − dt·η/N · Θ̂_0) r_k` with `r = f_lin(X) − Y` and Θ̂_0 the empirical NTK
/// at initialisation; the gap closes as the width grows (lazy training, O(n^{−1/2})).
#[test]
fn gradient_descent_follows_the_linearised_network() {
    let net = mlp();
    let x = inputs(N_TRAIN, 1);
    let y = targets(&x, 1);
    let (eta, spu) = (1.0, 50.0);
    let dt = 1.0 / spu;
    let c = eta / N_TRAIN as f64;
    let mut gaps = Vec::new();
    for width in [256, 4096] {
        let mut fin = FiniteNetwork::sample(&net, width, 7).unwrap();
        let theta0 = fin.empirical_ntk(&x, None).unwrap();
        let mut r = fin.forward(&x).unwrap() - &y;
        let step = Mat::<f64>::identity(N_TRAIN, N_TRAIN) - &theta0 * faer::Scale(dt * c);
        let mut gap: f64 = 0.0;
        let mut first_loss = None;
        for (span, steps) in [(1.0, 50), (9.0, 450)] {
            let rep = fin
                .train(&x, y.as_ref(), eta, span, TrainOptions { steps })
                .unwrap();
            first_loss.get_or_insert(rep.initial_loss());
            for w in rep.losses.windows(2) {
                assert!(
                    w[1] < w[0],
                    "width {width}: the loss rose from {} to {}",
                    w[0],
                    w[1]
                );
            }
            for _ in 0..steps {
                r = &step * &r;
            }
            let f = fin.forward(&x).unwrap();
            gap = gap.max(max_abs(&(f - (&y + &r))));
        }
        let last = fin.loss(&x, y.as_ref()).unwrap();
        assert!(
            last < 0.1 * first_loss.unwrap(),
            "width {width}: loss {last}"
        );
        eprintln!("width {width}: max |f − f_lin| on the training inputs = {gap:.2e}");
        gaps.push(gap);
    }
    // 16× the width: the n^{-1/2} law predicts a 4× smaller gap.
    assert!(gaps[1] < gaps[0] / 2.5, "gaps {gaps:?}");
    assert!(gaps[1] < 0.01 * max_abs(&y), "gaps {gaps:?}");
}

/// (3) Time discretisation: Euler steps have a global error O(dt), so the change in every
/// member's prediction from dt to dt/2 is ≈ 2× the change from dt/2 to dt/4.
#[test]
fn halving_the_time_step_halves_the_change_in_predictions() {
    let p = problem();
    let times = [1.0, 10.0];
    let runs: Vec<EnsembleRun> = [10.0, 20.0, 40.0]
        .iter()
        .map(|&spu| p.run(256, 4, 77, &times, spu))
        .collect();
    let d1 = max_member_difference(&runs[0], &runs[1]);
    let d2 = max_member_difference(&runs[1], &runs[2]);
    eprintln!(
        "dt 0.1 → 0.05: {d1:.3e}; 0.05 → 0.025: {d2:.3e}; ratio {:.3}",
        d1 / d2
    );
    assert!((1.7..2.3).contains(&(d1 / d2)), "ratio {}", d1 / d2);
    assert!(d2 < 0.05 * max_abs(&p.y_train));
}

/// Members are reduced in order: the run is bit-for-bit the same on 1 and on 3 threads.
#[test]
fn runs_do_not_depend_on_the_thread_count() {
    let p = problem();
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| p.run(64, 6, 5, &[0.5, 2.0], 10.0))
    };
    let (a, b) = (on(1), on(3));
    for k in 0..2 {
        assert_eq!(a.predictions(k), b.predictions(k));
        assert_eq!(a.mean(k), b.mean(k));
        assert_eq!(a.covariance(k), b.covariance(k));
    }
}
