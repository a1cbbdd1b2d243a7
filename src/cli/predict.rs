//! `eqntk predict`: mean (and covariance) of an infinite ensemble trained by gradient flow.

use std::path::PathBuf;

use faer::Mat;
use serde_json::json;

use super::matrix_json;
use eqntk::augment::{Augmentation, InfiniteEnsemble, OutputTransform, TrainingSet};
use eqntk::io::{read_array, read_batch};
use eqntk::predict::{parse_times, Prediction, Predictor};
use eqntk::Batch;
use eqntk::Network;
use eqntk::{Error, Result};

/// Output formats of `predict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PredictFormat {
    /// `{"time": [...], "mean": [[[..]]], "cov": [[[..]]]}` (time × test × output).
    Json,
    /// One block per time, for reading.
    Table,
}

/// Arguments of `eqntk predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Network file (TOML); or give stored kernels with --train-kernels and --test-kernels.
    #[arg(long, required_unless_present = "train_kernels")]
    pub net: Option<PathBuf>,
    /// Training inputs `[N, *input.shape]`.
    #[arg(long, required_unless_present = "train_kernels")]
    pub x_train: Option<PathBuf>,
    /// Training targets `[N]` or `[N, O]`.
    #[arg(long)]
    pub y_train: PathBuf,
    /// Test inputs `[M, *input.shape]`.
    #[arg(long, required_unless_present = "train_kernels")]
    pub x_test: Option<PathBuf>,
    /// Stored train × train kernels instead of a network: P.ntk.npy and P.nngp.npy (N × N), as
    /// `eqntk kernel --x1 TRAIN --format npy --out P` writes them.
    #[arg(long, value_name = "P", conflicts_with_all = ["net", "x_train", "x_test", "augment"], requires = "test_kernels")]
    pub train_kernels: Option<PathBuf>,
    /// Stored test × train kernels: Q.ntk.npy and Q.nngp.npy (M × N), from
    /// `eqntk kernel --x1 TEST --x2 TRAIN --format npy --out Q`.
    #[arg(long, value_name = "Q", requires = "train_kernels")]
    pub test_kernels: Option<PathBuf>,
    /// With stored kernels and --cov: the test × test NNGP, R.nngp.npy (M × M).
    #[arg(long, value_name = "R", requires = "train_kernels")]
    pub test_test_kernels: Option<PathBuf>,
    /// Training times, comma separated; `inf` for the end of training.
    #[arg(long, default_value = "inf", allow_hyphen_values = true)]
    pub time: String,
    /// Learning rate η (time is measured in units of 1/η).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub learning_rate: f64,
    /// Added to the diagonal of the training kernels (neural-tangents' `diag_reg`).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub diag_reg: f64,
    /// Also output the covariance over test points.
    #[arg(long)]
    pub cov: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PredictFormat::Json)]
    pub format: PredictFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Train on the full orbit of the training set under this group, acting on the network's
    /// declared `[input] domain`: C<k>, D<k>, C4, D4, p4, p4m (through the isotypic blocks) or
    /// SO2, O2 (exact limit through Fourier modes); O, Oh, I (3-D point sets, irrep blocks),
    /// SO3, O3 (invariant targets, orbit-averaged kernels).
    #[arg(long)]
    pub augment: Option<String>,
    /// How targets transform under --augment: invariant, input (ρ_Y = ρ_X) or vector (2
    /// outputs under C<k>, SO2; 3 outputs under O, Oh, I, rotating with the 3×3 matrices).
    #[arg(long, default_value = "invariant")]
    pub targets: String,
    /// With --augment: augment explicitly (|G|N examples) instead of using the isotypic blocks.
    #[arg(long)]
    pub explicit: bool,
}

/// Targets as an N×O matrix from an array of shape `[N]` or `[N, O]`.
pub fn targets(path: &std::path::Path, n: usize) -> Result<Mat<f64>> {
    let a = read_array(path)?;
    let (rows, cols) = match a.shape.as_slice() {
        [r] => (*r, 1),
        [r, c] => (*r, *c),
        s => {
            return Err(Error::Shape(format!(
                "{}: targets must have shape [N] or [N, O], got {s:?}",
                path.display()
            )))
        }
    };
    if rows != n {
        return Err(Error::Shape(format!(
            "{}: {rows} targets for {n} training inputs",
            path.display()
        )));
    }
    Ok(Mat::from_fn(rows, cols, |i, j| a.values[i * cols + j]))
}

/// The prediction of `--net` trained on `(x_train, y)` (augmented as `--augment` says) at
/// `x_test`.
fn from_network(
    args: &PredictArgs,
    net: &Network,
    x_train: &Batch,
    y: &Mat<f64>,
    x_test: &Batch,
    times: &[f64],
) -> Result<Prediction> {
    let augmentation = match &args.augment {
        Some(group) => Some(Augmentation::new(group, net.domain(), x_train.shape())?),
        None => None,
    };
    let set = match &augmentation {
        Some(a) => a.training_set(OutputTransform::parse(&args.targets)?, args.explicit)?,
        None => TrainingSet::Given,
    };
    InfiniteEnsemble::train(
        net,
        x_train,
        y.as_ref(),
        set,
        args.learning_rate,
        args.diag_reg,
    )?
    .predict(x_test, times, args.cov)
}

fn time_json(t: f64) -> serde_json::Value {
    if t.is_infinite() {
        json!("inf")
    } else {
        json!(t)
    }
}

/// A stored kernel matrix `PREFIX.KERNEL.npy` of shape `rows × cols` (`None`: any).
fn stored(
    prefix: &std::path::Path,
    kernel: &str,
    rows: Option<usize>,
    cols: Option<usize>,
) -> Result<Mat<f64>> {
    let path = PathBuf::from(format!("{}.{kernel}.npy", prefix.display()));
    let a = read_array(&path)?;
    let m = a.to_mat(&path.display().to_string())?;
    let fits = |want: Option<usize>, got: usize| want.is_none_or(|w| w == got);
    if !fits(rows, m.nrows()) || !fits(cols, m.ncols()) {
        return Err(Error::ShapeMismatch {
            what: path.display().to_string(),
            expected: vec![rows.unwrap_or(m.nrows()), cols.unwrap_or(m.ncols())],
            got: vec![m.nrows(), m.ncols()],
        });
    }
    Ok(m)
}

/// The prediction from stored kernels (`--train-kernels`, `--test-kernels`).
fn from_stored(args: &PredictArgs, p_train: &std::path::Path, times: &[f64]) -> Result<Prediction> {
    let q = args.test_kernels.as_deref().ok_or_else(|| {
        Error::Invalid("--train-kernels needs --test-kernels Q (the test × train kernels)".into())
    })?;
    let ntk = stored(p_train, "ntk", None, None)?;
    let n = ntk.nrows();
    if ntk.ncols() != n {
        return Err(Error::Shape(format!(
            "{}.ntk.npy: the train × train kernel must be square, got {} × {}",
            p_train.display(),
            n,
            ntk.ncols()
        )));
    }
    let nngp = stored(p_train, "nngp", Some(n), Some(n))?;
    let y = targets(&args.y_train, n)?;
    let ntk_tx = stored(q, "ntk", None, Some(n))?;
    let nngp_tx = stored(q, "nngp", Some(ntk_tx.nrows()), Some(n))?;
    let test =
        match (&args.test_test_kernels, args.cov) {
            (Some(r), true) => Some(stored(
                r,
                "nngp",
                Some(ntk_tx.nrows()),
                Some(ntk_tx.nrows()),
            )?),
            (None, true) => return Err(Error::Invalid(
                "--cov with stored kernels needs --test-test-kernels R (R.nngp.npy, test × test)"
                    .into(),
            )),
            _ => None,
        };
    eqntk::budget::check_values(
        &format!("the predictor of {n} training points"),
        (n as u128) * (n as u128) * 4,
        8,
    )?;
    let p = Predictor::new(
        ntk.as_ref(),
        nngp.as_ref(),
        y.as_ref(),
        args.learning_rate,
        args.diag_reg,
    )?;
    let cov = test
        .as_ref()
        .map(|k| |t| p.covariance(k.as_ref(), nngp_tx.as_ref(), ntk_tx.as_ref(), t));
    Prediction::at_times(times, |t| p.mean(ntk_tx.as_ref(), t), cov)
}

/// Run `eqntk predict`; returns what goes to stdout.
pub fn run(args: &PredictArgs) -> Result<String> {
    let times = parse_times(&args.time)?;
    if let Some(p) = &args.train_kernels {
        let bar = super::spinner("solving the predictor");
        let computed = from_stored(args, p, &times);
        bar.finish_and_clear();
        return output(args, computed?);
    }
    let missing = |what: &str| Error::Invalid(format!("predict needs {what} (or stored kernels)"));
    let net = eqntk::io::read_network(args.net.as_deref().ok_or_else(|| missing("--net"))?)?;
    super::warn_caveats(&net);
    let x_train = read_batch(
        args.x_train
            .as_deref()
            .ok_or_else(|| missing("--x-train"))?,
    )?;
    let x_test = read_batch(args.x_test.as_deref().ok_or_else(|| missing("--x-test"))?)?;
    let y = targets(&args.y_train, x_train.len())?;
    let bar = super::spinner("computing kernels and predictions");
    let computed = from_network(args, &net, &x_train, &y, &x_test, &times);
    bar.finish_and_clear();
    output(args, computed?)
}

/// The prediction as `--format` asks, to `--out` or returned for stdout.
fn output(args: &PredictArgs, p: Prediction) -> Result<String> {
    for (k, t) in p.times.iter().enumerate() {
        let t = eqntk::symbolic::compact_number(*t);
        super::finite_matrix(&format!("the mean at t = {t}"), &p.mean[k])?;
        if let Some(c) = p.cov.get(k) {
            super::finite_matrix(&format!("the covariance at t = {t}"), c)?;
        }
    }
    let text = match args.format {
        PredictFormat::Json => {
            let mut v = json!({
                "time": p.times.iter().map(|&t| time_json(t)).collect::<Vec<_>>(),
                "mean": p.mean.iter().map(matrix_json).collect::<Vec<_>>(),
            });
            if args.cov {
                v["cov"] = p.cov.iter().map(matrix_json).collect::<Vec<_>>().into();
            }
            serde_json::to_string(&v).expect("finite numbers serialise") + "\n"
        }
        PredictFormat::Table => {
            let mut s = String::new();
            for (k, t) in p.times.iter().enumerate() {
                s.push_str(&format!(
                    "t = {}\nmean (test × output)\n",
                    eqntk::symbolic::compact_number(*t)
                ));
                s.push_str(&super::matrix_table(&p.mean[k]));
                if args.cov {
                    s.push_str("covariance (test × test)\n");
                    s.push_str(&super::matrix_table(&p.cov[k]));
                }
            }
            s
        }
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
            Ok(String::new())
        }
        None => Ok(text),
    }
}
