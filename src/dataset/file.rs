//! A researcher's data set from a file: training and test examples with labels or targets.
//!
//! An `.npz` archive (`numpy.savez`) holds either `x_train`, `y_train`, `x_test`, `y_test`, or
//! `x` and `y`, split into training and test examples by a seeded shuffle
//! ([`Split`]). Examples are `[N, *shape]`; `y` is `[N]` or `[N, O]`.
//!
//! * **Classification** — `y` is `[N]` of integers `0 … K−1` (stored as integers, or as floats
//!   with integral values): the targets are one-hot rows minus `1/K`, so each row sums to zero
//!   (centred one-hot targets, as in neural-tangents' examples), and accuracy is the share of
//!   test examples whose largest output is their label.
//! * **Regression** — any other `y`: the targets are `y` as given (`[N]` becomes `[N, 1]`).

use std::collections::BTreeMap;
use std::path::Path;

use faer::Mat;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::Batch;
use crate::error::{Error, Result};
use crate::io::{read_npz, NpzEntry};

/// The largest number of classes of a classification data set.
pub const MAX_CLASSES: usize = 10_000;

/// How `x`, `y` are split when the file has no `x_train` / `x_test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Test examples (the rest train).
    pub test: usize,
    /// Seed of the shuffle (ChaCha8).
    pub seed: u64,
}

/// The targets of a data set.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    /// Class labels `0 … classes − 1`.
    Classes {
        /// Number of classes K.
        classes: usize,
        /// Labels of the training examples.
        train: Vec<usize>,
        /// Labels of the test examples.
        test: Vec<usize>,
    },
    /// Real targets, `N × O`.
    Real {
        /// Training targets.
        train: Mat<f64>,
        /// Test targets.
        test: Mat<f64>,
    },
}

/// Training and test examples with their labels or targets.
#[derive(Clone, Debug)]
pub struct LabelledData {
    /// Training examples.
    pub x_train: Batch,
    /// Test examples.
    pub x_test: Batch,
    /// Labels or targets.
    pub labels: Labels,
}

impl LabelledData {
    /// Reads an `.npz` data set; `split` is used (and needed) when it holds `x`, `y`.
    pub fn from_npz(path: &Path, split: Option<Split>) -> Result<Self> {
        let name = path.display().to_string();
        let mut arrays = read_npz(path)?;
        let mut take = |key: &str| arrays.remove(key);
        let (xtr, ytr, xte, yte) = match (
            take("x_train"),
            take("y_train"),
            take("x_test"),
            take("y_test"),
        ) {
            (Some(a), Some(b), Some(c), Some(d)) => (a, b, c, d),
            (None, None, None, None) => {
                let (x, y) = match (take("x"), take("y")) {
                    (Some(x), Some(y)) => (x, y),
                    _ => {
                        return Err(Error::Data(format!(
                            "{name}: a data set holds x_train, y_train, x_test, y_test, or x and y \
                             (found {})",
                            names(&arrays)
                        )))
                    }
                };
                let split = split.ok_or_else(|| {
                    Error::Invalid(format!(
                        "{name}: holds x and y; say how many examples to test on (split = \
                         {{ test = …, seed = … }})"
                    ))
                })?;
                return split_xy(&name, x, y, split);
            }
            (a, b, c, d) => {
                let missing: Vec<&str> = [
                    ("x_train", &a),
                    ("y_train", &b),
                    ("x_test", &c),
                    ("y_test", &d),
                ]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| *k)
                .collect();
                return Err(Error::Data(format!(
                    "{name}: missing array{} {}",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", ")
                )));
            }
        };
        let x_train = batch(&name, "x_train", xtr)?;
        let x_test = batch(&name, "x_test", xte)?;
        if x_train.shape() != x_test.shape() {
            return Err(Error::Shape(format!(
                "{name}: x_train examples have shape {:?}, x_test examples {:?}",
                x_train.shape(),
                x_test.shape()
            )));
        }
        let labels = labels(&name, &ytr, &yte, x_train.len(), x_test.len())?;
        Ok(Self {
            x_train,
            x_test,
            labels,
        })
    }

    /// The training targets as rows (centred one-hot for classes).
    pub fn train_targets(&self) -> Mat<f64> {
        match &self.labels {
            Labels::Classes { classes, train, .. } => one_hot(train, *classes),
            Labels::Real { train, .. } => train.clone(),
        }
    }

    /// The first `n` training examples and their targets, after a seeded shuffle (`seed`
    /// `None`: in file order): the subsets of a learning curve.
    pub fn train_subset(&self, n: usize, seed: Option<u64>) -> Result<(Batch, Mat<f64>)> {
        let total = self.x_train.len();
        if n == 0 || n > total {
            return Err(Error::Invalid(format!(
                "a training subset of {n} examples from {total}"
            )));
        }
        let mut order: Vec<usize> = (0..total).collect();
        if let Some(s) = seed {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(s));
        }
        order.truncate(n);
        let m = self.x_train.example_len();
        let mut values = Vec::with_capacity(n * m);
        for &i in &order {
            values.extend_from_slice(self.x_train.example(i));
        }
        let x = Batch::new(self.x_train.shape().to_vec(), values)?;
        let y = self.train_targets();
        let y = Mat::from_fn(n, y.ncols(), |r, c| y[(order[r], c)]);
        Ok((x, y))
    }
}

/// One-hot rows of `labels` minus `1/K`.
pub(crate) fn one_hot(labels: &[usize], classes: usize) -> Mat<f64> {
    let centre = 1.0 / classes as f64;
    Mat::from_fn(labels.len(), classes, |i, k| {
        (if labels[i] == k { 1.0 } else { 0.0 }) - centre
    })
}

/// The share of rows of `outputs` whose largest entry is at `labels` (ties: the first).
pub fn accuracy(outputs: faer::MatRef<'_, f64>, labels: &[usize]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let right = (0..outputs.nrows())
        .filter(|&i| argmax(outputs.row(i).iter().copied()) == labels[i])
        .count();
    right as f64 / labels.len() as f64
}

/// The index of the largest value (the first of equals).
pub fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

fn names(arrays: &BTreeMap<String, NpzEntry>) -> String {
    if arrays.is_empty() {
        return "no other arrays".into();
    }
    arrays.keys().cloned().collect::<Vec<_>>().join(", ")
}

fn batch(file: &str, key: &str, e: NpzEntry) -> Result<Batch> {
    Batch::from_array(&e.array.shape, e.array.values)
        .map_err(|err| Error::Shape(format!("{file}[{key}]: {err}")))
}

fn is_integer_dtype(dtype: &str) -> bool {
    dtype.contains('i') || dtype.contains('u')
}

/// Labels if `y` is `[N]` of integral values `≥ 0`, otherwise real targets.
fn labels(file: &str, ytr: &NpzEntry, yte: &NpzEntry, ntr: usize, nte: usize) -> Result<Labels> {
    for (key, y, n) in [("y_train", ytr, ntr), ("y_test", yte, nte)] {
        if y.array.shape.first() != Some(&n) || y.array.shape.len() > 2 {
            return Err(Error::Shape(format!(
                "{file}[{key}] has shape {:?}, expected [{n}] or [{n}, O]",
                y.array.shape
            )));
        }
    }
    let integral = |y: &NpzEntry| {
        y.array.shape.len() == 1 && y.array.values.iter().all(|v| v.fract() == 0.0 && *v >= 0.0)
    };
    let int_dtype = is_integer_dtype(&ytr.dtype) || is_integer_dtype(&yte.dtype);
    if integral(ytr) && integral(yte) {
        let classes = ytr
            .array
            .values
            .iter()
            .chain(&yte.array.values)
            .fold(0.0f64, |m, v| m.max(*v)) as usize
            + 1;
        if classes > MAX_CLASSES {
            return Err(Error::Data(format!(
                "{file}: label {} is out of range (at most {} classes)",
                classes - 1,
                MAX_CLASSES
            )));
        }
        let to = |y: &NpzEntry| y.array.values.iter().map(|v| *v as usize).collect();
        return Ok(Labels::Classes {
            classes: classes.max(2),
            train: to(ytr),
            test: to(yte),
        });
    }
    if int_dtype {
        let (key, y) = if integral(ytr) {
            ("y_test", yte)
        } else {
            ("y_train", ytr)
        };
        let bad = y
            .array
            .values
            .iter()
            .find(|v| **v < 0.0)
            .copied()
            .unwrap_or(-1.0);
        return Err(Error::Data(format!(
            "{file}[{key}]: integer labels are classes 0 … K−1 in a [N] array, found {} (shape {:?})",
            crate::symbolic::print::compact_number(bad),
            y.array.shape
        )));
    }
    let mat = |y: &NpzEntry| {
        let (n, o) = (y.array.shape[0], y.array.shape.get(1).copied().unwrap_or(1));
        Mat::from_fn(n, o, |i, j| y.array.values[i * o + j])
    };
    let (train, test) = (mat(ytr), mat(yte));
    if train.ncols() != test.ncols() {
        return Err(Error::Shape(format!(
            "{file}: y_train has {} outputs, y_test {}",
            train.ncols(),
            test.ncols()
        )));
    }
    Ok(Labels::Real { train, test })
}

fn split_xy(file: &str, x: NpzEntry, y: NpzEntry, split: Split) -> Result<LabelledData> {
    let all = batch(file, "x", x)?;
    let n = all.len();
    if y.array.shape.first() != Some(&n) {
        return Err(Error::Shape(format!(
            "{file}[y] has shape {:?}, expected [{n}] or [{n}, O]",
            y.array.shape
        )));
    }
    if split.test == 0 || split.test >= n {
        return Err(Error::Invalid(format!(
            "{file}: split.test = {} must leave at least one training and one test example of {n}",
            split.test
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(split.seed));
    let (test_idx, train_idx) = order.split_at(split.test);
    let per_y = y.array.values.len() / n;
    let pick_x = |idx: &[usize]| {
        let m = all.example_len();
        let mut v = Vec::with_capacity(idx.len() * m);
        idx.iter()
            .for_each(|&i| v.extend_from_slice(all.example(i)));
        Batch::new(all.shape().to_vec(), v)
    };
    let pick_y = |idx: &[usize]| {
        let mut shape = y.array.shape.clone();
        shape[0] = idx.len();
        let mut v = Vec::with_capacity(idx.len() * per_y);
        idx.iter()
            .for_each(|&i| v.extend_from_slice(&y.array.values[i * per_y..(i + 1) * per_y]));
        NpzEntry {
            array: crate::io::Array { shape, values: v },
            dtype: y.dtype.clone(),
        }
    };
    let (ytr, yte) = (pick_y(train_idx), pick_y(test_idx));
    let labels = labels(file, &ytr, &yte, train_idx.len(), test_idx.len())?;
    Ok(LabelledData {
        x_train: pick_x(train_idx)?,
        x_test: pick_x(test_idx)?,
        labels,
    })
}
