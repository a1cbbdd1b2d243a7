//! `[finite_ensembles]` of `kernel_regression` studies: the table's finite rows against a direct
//! computation from `train_ensemble`, the block's time convention against the infinite-ensemble
//! predictor μ_t for a wide network, the emergent invariance of C4-augmented ensembles, and
//! bad keys.

use std::path::{Path, PathBuf};

use eqntk::augment::{FiniteAugmentation, OutputTransform, TrainingSet};
use eqntk::dataset::{LabelledData, Labels};
use eqntk::experiment::{Experiment, FiniteEnsembles, RunContext};
use eqntk::finite::{train_ensemble, EnsembleConfig, EnsembleRun};
use eqntk::group::GroupSpec;
use eqntk::report::Cell;
use eqntk::{Batch, Domain, InfiniteEnsemble, Network};
use faer::{Mat, Side};

use crate::common::cli;
use crate::common::digits::small_digits;

fn ctx() -> RunContext {
    RunContext {
        base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("experiments"),
        progress: false,
    }
}

/// A study of the digits MLP on `data` with `extra` keys and a `[finite_ensembles]` table.
fn study_text(data: &Path, extra: &str, finite: &str) -> String {
    format!(
        "kind = \"kernel_regression\"\ntitle = \"t\"\ndata = \"{}\"\n{extra}\n\
         [[nets]]\nname = \"MLP\"\npath = \"nets/digits_mlp.toml\"\n[finite_ensembles]\n{finite}\n",
        data.display()
    )
}

/// `text` with its network paths absolute, for a study file written in the scratch folder.
fn absolute_nets(text: &str) -> String {
    text.replace(
        "nets/",
        &format!("{}/experiments/nets/", env!("CARGO_MANIFEST_DIR")),
    )
}

/// One row of the study's table: `(ensemble, augmentation, time, metric values)`.
type Row = (String, String, String, Vec<f64>);

/// The column names and rows of the study's table.
fn rows(text: &str) -> (Vec<String>, Vec<Row>) {
    let report = Experiment::from_toml_str(text, "inline")
        .unwrap()
        .run(&ctx())
        .unwrap();
    let table = &report.tables[0].1;
    let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let text_of = |c: &Cell| match c {
        Cell::Text(s) => s.clone(),
        Cell::Float(v) => v.to_string(),
        Cell::Int(v) => v.to_string(),
        other => format!("{other:?}"),
    };
    let float = |c: &Cell| match c {
        Cell::Float(v) => *v,
        Cell::Text(s) if s == "<1e-12" => 0.0,
        other => panic!("not a number: {other:?}"),
    };
    let rows = table
        .rows
        .iter()
        .map(|r| {
            (
                text_of(&r[3]),
                text_of(&r[1]),
                text_of(&r[4]),
                r[5..].iter().map(float).collect(),
            )
        })
        .collect();
    (names, rows)
}

/// The 90° rotation of an 8×8 image (numpy.rot90: out[r][c] = in[c][7 − r]).
fn rot90(img: &[f64]) -> Vec<f64> {
    (0..64).map(|k| img[(k % 8) * 8 + 7 - k / 8]).collect()
}

fn argmax(row: &[f64]) -> usize {
    (0..row.len()).fold(0, |b, i| if row[i] > row[b] { i } else { b })
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// accuracy, osp, invariance, mse of predictions on the test orbits (4 rows per test image,
/// the image itself first), written out from their definitions.
fn direct_scores(pred: &Mat<f64>, labels: &[usize], targets: &Mat<f64>) -> [f64; 4] {
    let m = labels.len();
    let row = |r: usize| -> Vec<f64> { (0..pred.ncols()).map(|c| pred[(r, c)]).collect() };
    let acc = (0..m).filter(|&a| argmax(&row(4 * a)) == labels[a]).count() as f64 / m as f64;
    let osp = (0..m)
        .map(|a| {
            (0..4)
                .filter(|&g| argmax(&row(4 * a + g)) == argmax(&row(4 * a)))
                .count()
        })
        .sum::<usize>() as f64
        / m as f64;
    let inv = (0..m)
        .map(|a| {
            let own = row(4 * a);
            let worst = (0..4)
                .map(|g| {
                    let d: Vec<f64> = row(4 * a + g)
                        .iter()
                        .zip(&own)
                        .map(|(p, q)| p - q)
                        .collect();
                    norm(&d)
                })
                .fold(0.0, f64::max);
            worst / norm(&own)
        })
        .sum::<f64>()
        / m as f64;
    let mut mse = 0.0;
    for a in 0..m {
        for c in 0..targets.ncols() {
            mse += (pred[(4 * a, c)] - targets[(a, c)]).powi(2);
        }
    }
    [acc, osp, inv, mse / (m * targets.ncols()) as f64]
}

fn mean_of(preds: &[Mat<f64>]) -> Mat<f64> {
    let mut mean = Mat::<f64>::zeros(preds[0].nrows(), preds[0].ncols());
    for p in preds {
        mean += p;
    }
    mean * faer::Scale(1.0 / preds.len() as f64)
}

/// The members the study should have trained: `train_ensemble` on the training set (or its four
/// rotations, built here with `rot90`), recorded on the test images and their rotations, with
/// `t = steps × learning_rate` (η = 1: `steps_per_unit = 1/learning_rate`).
fn direct_run(data: &LabelledData, augmented: bool, cfg: &EnsembleConfig) -> EnsembleRun {
    let net = eqntk::io::read_network(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/nets/digits_mlp.toml"),
    )
    .unwrap();
    let y = data.train_targets();
    let n = data.x_train.len();
    let (x, y) = if augmented {
        let mut xs = Vec::new();
        let mut ys = Mat::<f64>::zeros(4 * n, y.ncols());
        for i in 0..n {
            let mut img = data.x_train.example(i).to_vec();
            for g in 0..4 {
                xs.push(img.clone());
                for c in 0..y.ncols() {
                    ys[(4 * i + g, c)] = y[(i, c)];
                }
                img = rot90(&img);
            }
        }
        (Batch::from_examples(vec![8, 8, 1], &xs).unwrap(), ys)
    } else {
        (data.x_train.clone(), y)
    };
    let mut orbit = Vec::new();
    for a in 0..data.x_test.len() {
        let mut img = data.x_test.example(a).to_vec();
        for _ in 0..4 {
            orbit.push(img.clone());
            img = rot90(&img);
        }
    }
    let eval = Batch::from_examples(vec![8, 8, 1], &orbit).unwrap();
    train_ensemble(&net, &x, y.as_ref(), &eval, cfg).unwrap()
}

/// Every finite row (`M=k` and `member`) equals the metrics of the same members computed
/// here: the mean of the first k members, and each member's metric averaged over the members;
/// plain and C4-augmented, at every finite time, and t = ∞ only for the infinite ensemble.
#[test]
fn finite_rows_equal_a_direct_computation_from_train_ensemble() {
    let data = small_digits();
    let text = study_text(
        &data,
        "augment = [\"none\", \"C4\"]\ntimes = [50, 500, inf]\n\
         metrics = [\"accuracy\", \"osp\", \"invariance\", \"mse\"]\nosp_group = \"C4\"",
        "width = 24\nmembers = [1, 3]\nlearning_rate = 25\nseed = 7",
    );
    let (names, rows) = rows(&text);
    assert_eq!(
        names,
        [
            "network",
            "augmentation",
            "train_size",
            "ensemble",
            "time",
            "accuracy",
            "osp",
            "invariance",
            "mse"
        ]
    );
    let order: Vec<(String, String)> = rows.iter().map(|r| (r.0.clone(), r.2.clone())).collect();
    let want: Vec<(String, String)> = [
        ("infinite", "50"),
        ("infinite", "500"),
        ("infinite", "inf"),
        ("M=1", "50"),
        ("M=1", "500"),
        ("M=3", "50"),
        ("M=3", "500"),
        ("member", "50"),
        ("member", "500"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(order[..9], want[..]);
    assert_eq!(order[9..], want[..]);

    let d = LabelledData::from_npz(&data, None).unwrap();
    let Labels::Classes { test: labels, .. } = &d.labels else {
        panic!()
    };
    // centred one-hot targets
    let targets = Mat::from_fn(labels.len(), 10, |a, k| {
        f64::from(u8::from(labels[a] == k)) - 0.1
    });
    let cfg = EnsembleConfig {
        width: 24,
        members: 3,
        seed: 7,
        learning_rate: 1.0,
        times: vec![50.0, 500.0],
        steps_per_unit: 1.0 / 25.0,
        progress: false,
    };
    for (aug, augmented) in [("none", false), ("C4", true)] {
        let run = direct_run(&d, augmented, &cfg);
        for (k, t) in ["50", "500"].iter().enumerate() {
            let preds = run.predictions(k);
            let member: Vec<f64> = (0..4)
                .map(|j| {
                    preds
                        .iter()
                        .map(|p| direct_scores(p, labels, &targets)[j])
                        .sum::<f64>()
                        / 3.0
                })
                .collect();
            for (label, want) in [
                ("M=1", direct_scores(&preds[0], labels, &targets).to_vec()),
                (
                    "M=3",
                    direct_scores(&mean_of(preds), labels, &targets).to_vec(),
                ),
                ("member", member),
            ] {
                let row = rows
                    .iter()
                    .find(|r| r.0 == label && r.1 == aug && r.2 == *t)
                    .unwrap();
                for (j, (got, want)) in row.3.iter().zip(&want).enumerate() {
                    assert!(
                        (got - want).abs() <= 1e-9 * (1.0 + want.abs()),
                        "{aug}, {label}, t = {t}, metric {j}: table {got}, direct {want}"
                    );
                }
            }
        }
    }
}

/// Inputs `[3, 3, 1]` of unit scale (|x|²/9 = 1) from `seed`.
fn images(n: usize, seed: u64) -> Batch {
    let b = crate::common::normal_batch(&[3, 3, 1], n, seed);
    let mut v = Vec::new();
    for i in 0..n {
        let e = b.example(i);
        let s = (e.iter().map(|a| a * a).sum::<f64>() / 9.0).sqrt();
        v.extend(e.iter().map(|a| a / s));
    }
    Batch::new(vec![3, 3, 1], v).unwrap()
}

/// The infinite-width linear model trained by `steps` gradient-descent steps of size `dt` on
/// the flow `dF/dt = −η Θ (F − Y)/(N·O)`: with `Θ(X,X) = V diag(λ) Vᵀ`, `c = η/(N·O)`,
/// `μ = Θ(x,X) V diag((1 − (1 − dt·c·λ)^steps)/λ) Vᵀ Y` (μ_t of the flow has `e^{−c t λ}`),
/// written out here from the analytic NTK of the training set and the test points.
fn discrete_mean(
    ntk: &Mat<f64>,
    n: usize,
    y: &Mat<f64>,
    eta: f64,
    dt: f64,
    steps: i32,
) -> Mat<f64> {
    let c = eta / (n * y.ncols()) as f64;
    let theta = Mat::from_fn(n, n, |i, j| ntk[(i, j)]);
    let evd = theta.self_adjoint_eigen(Side::Lower).unwrap();
    let v = evd.U().to_owned();
    let f = Mat::from_fn(n, n, |i, j| {
        let l = evd.S()[i];
        if i != j {
            0.0
        } else if l.abs() < 1e-12 {
            dt * c * steps as f64
        } else {
            (1.0 - (1.0 - dt * c * l).powi(steps)) / l
        }
    });
    let m = ntk.nrows() - n;
    let cross = Mat::from_fn(m, n, |a, i| ntk[(n + a, i)]);
    cross * (&v * f * v.transpose()) * y
}

/// The mean of a wide C4-augmented finite ensemble of the block follows the infinite-width
/// model at the block's times (t = steps × learning_rate / η): within 5 standard errors of the
/// ensemble mean plus the O(1/width) bias (B = 4, measured in tests/ensemble.rs for this
/// one-hidden-layer ReLU network), against the infinite-width model trained by the same steps
/// (so the time discretisation cancels), which is also μ_t of the flow up to that
/// discretisation. And the comparison has power: the model at 2t or t/2 is rejected.
#[test]
fn a_wide_finite_ensemble_follows_the_infinite_predictor() {
    let net = Network::from_toml_str(
        "[input]\nshape=[3,3,1]\ndomain='image'\n[[layers]]\nkind='flatten'\n\
         [[layers]]\nkind='dense'\nw_std=1.5\nb_std=0.1\n[[layers]]\nkind='relu'\n\
         [[layers]]\nkind='dense'\nw_std=1.0\nb_std=0.1\n",
        "wide.toml",
    )
    .unwrap();
    let x = images(3, 1);
    let y = Mat::from_fn(3, 1, |i, _| [4.0, -2.5, 1.5][i]);
    let c4 =
        FiniteAugmentation::from_spec(&GroupSpec::parse("C4").unwrap(), Domain::Image, &[3, 3, 1])
            .unwrap();
    // the training images (where μ_t moves most with t) and one new image, with their orbits
    let points = Batch::new(vec![3, 3, 1], [x.values(), images(1, 2).values()].concat()).unwrap();
    let eval = c4.orbit_batch(&points).unwrap();
    let (eta, t) = (2.0, 1.5);
    let block = FiniteEnsembles {
        width: 512,
        members: vec![192],
        learning_rate: 0.1,
        seed: 3,
    };
    let run = block
        .train(&net, Some(&c4), &x, &y, &eval, &[t], eta, false)
        .unwrap();
    // the analytic model on the augmented set (group-major) and the test orbits
    let xa = c4.augment_batch(&x).unwrap();
    let ya = Mat::from_fn(12, 1, |r, _| y[(r % 3, 0)]);
    let all = Batch::new(vec![3, 3, 1], [xa.values(), eval.values()].concat()).unwrap();
    let ntk = net.kernel(&all, None).unwrap().ntk().unwrap();
    let dt = block.learning_rate / eta;
    let steps = (t / dt).round() as i32;
    let model = |s: i32| discrete_mean(&ntk, 12, &ya, eta, dt, s);
    let flow = InfiniteEnsemble::train(
        &net,
        &x,
        y.as_ref(),
        TrainingSet::Orbit {
            group: &c4,
            targets: OutputTransform::Invariant,
        },
        eta,
        0.0,
    )
    .unwrap()
    .mean(&eval, t)
    .unwrap();
    let want = model(steps);
    let disc = crate::common::max_abs(&(&want - &flow));
    assert!(disc < 0.02, "gradient descent vs flow: {disc}");
    let mean = run.mean(0);
    let se = run.mean_standard_error(0);
    let (mut rejects_2t, mut rejects_half) = (false, false);
    for a in 0..eval.len() {
        let tol = 5.0 * se[(a, 0)] + 4.0 * 4.0 / 512.0;
        let diff = (mean[(a, 0)] - want[(a, 0)]).abs();
        assert!(
            diff <= tol,
            "test point {a}: ensemble mean {} vs the infinite-width model {} (tolerance {tol})",
            mean[(a, 0)],
            want[(a, 0)]
        );
        rejects_2t |= (mean[(a, 0)] - model(2 * steps)[(a, 0)]).abs() > tol;
        rejects_half |= (mean[(a, 0)] - model(steps / 2)[(a, 0)]).abs() > tol;
    }
    assert!(
        rejects_2t && rejects_half,
        "the comparison cannot tell t from 2t ({rejects_2t}) or t/2 ({rejects_half})"
    );
}

/// Emergent invariance (MATH.md §8) on the small digits: the mean of 16 C4-augmented members
/// predicts one class on more rotations of the test images (OSP) than the plain mean of 16 and
/// than a single augmented member, at each recorded time (fixed seeds).
#[test]
fn augmented_ensembles_have_a_higher_osp_than_plain_ones_and_single_members() {
    let data = small_digits();
    let text = study_text(
        &data,
        "augment = [\"none\", \"C4\"]\ntimes = [1000, 4000]\nmetrics = [\"osp\"]\n\
         osp_group = \"C4\"",
        "width = 16\nmembers = [16]\nlearning_rate = 25",
    );
    let (_, rows) = rows(&text);
    let osp = |ens: &str, aug: &str, t: &str| {
        rows.iter()
            .find(|r| r.0 == ens && r.1 == aug && r.2 == t)
            .unwrap()
            .3[0]
    };
    for t in ["1000", "4000"] {
        let (aug, plain, single) = (
            osp("M=16", "C4", t),
            osp("M=16", "none", t),
            osp("member", "C4", t),
        );
        assert!(
            aug > plain && aug > single,
            "t = {t}: augmented {aug}, plain {plain}, member {single}"
        );
        assert_eq!(osp("infinite", "C4", t), 4.0);
    }
}

/// Bad `[finite_ensembles]` keys are one-line errors naming the key, exit code 2, before
/// anything is trained.
#[test]
fn bad_finite_ensembles_are_one_line_errors() {
    let data = small_digits();
    let cases = [
        (
            "width = 0\nmembers = [2]\nlearning_rate = 1",
            "times = [10]",
            "`width` = 0",
        ),
        (
            "width = 8\nmembers = []\nlearning_rate = 1",
            "times = [10]",
            "`members` must not be empty",
        ),
        (
            "width = 8\nmembers = [4, 2]\nlearning_rate = 1",
            "times = [10]",
            "`members` must be increasing",
        ),
        (
            "width = 8\nmembers = [1]\nlearning_rate = 1",
            "times = [10]",
            "must be ≥ 2",
        ),
        (
            "width = 8\nmembers = [0, 2]\nlearning_rate = 1",
            "times = [10]",
            "`members` = 0",
        ),
        (
            "width = 8\nmembers = [2]\nlearning_rate = 0",
            "times = [10]",
            "`learning_rate` must be",
        ),
        (
            "width = 8\nmembers = [2]\nlearning_rate = nan",
            "times = [10]",
            "`learning_rate` must be",
        ),
        (
            "width = 8\nmembers = [2]\nlearning_rate = 1",
            "times = [inf]",
            "needs one besides inf",
        ),
        (
            "width = 8\nmembers = [2]\nlearning_rate = 1e-300",
            "times = [10]",
            "finite_ensembles",
        ),
        (
            "width = 8\nmembers = [2]\nlearning_rate = 1\ncolour = 3",
            "times = [10]",
            "colour",
        ),
        ("width = 8\nmembers = [2]", "times = [10]", "learning_rate"),
        (
            "width = 8\nmembers = [65536]\nlearning_rate = 1e-3",
            "times = [1000]",
            "the work of training",
        ),
        (
            "width = 65536\nmembers = [2]\nlearning_rate = 1",
            "times = [10]",
            "finite networks of width 65536",
        ),
    ];
    for (finite, times, want) in cases {
        let text = study_text(&data, times, finite);
        let file = cli::file("bad_finite.toml", &absolute_nets(&text));
        let out = cli::dir().join("bad_finite");
        let e = cli::fails(&["experiment", cli::s(&file), "--out", cli::s(&out)]);
        assert!(e.contains(want), "{finite}: {e}");
        assert!(!out.join("kernel_regression.csv").exists());
    }
}

/// The finite rows are the same whatever the number of threads (members train in parallel and
/// are reduced in the order of m): the CSV of one study with 1 and with 3 rayon threads.
#[test]
fn finite_rows_do_not_depend_on_the_thread_count() {
    let data = small_digits();
    let text = study_text(
        &data,
        "augment = [\"none\", \"C4\"]\ntimes = [100]\nmetrics = [\"osp\", \"mse\"]\n\
         osp_group = \"C4\"",
        "width = 8\nmembers = [2, 5]\nlearning_rate = 25\nseed = 3",
    );
    let file = cli::file("threads_study.toml", &absolute_nets(&text));
    let csv = |threads: &str| {
        let out = cli::dir().join(format!("threads_{threads}"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_eqntk"))
            .args([
                "experiment",
                cli::s(&file),
                "--out",
                cli::s(&out),
                "--quiet",
            ])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        std::fs::read_to_string(out.join("kernel_regression.csv")).unwrap()
    };
    let one = csv("1");
    assert!(one.contains("M=5") && one.contains("member"), "{one}");
    assert_eq!(one, csv("3"));
}
