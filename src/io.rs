//! Arrays in and out: `.npy` files (through `npyz`) and JSON nested lists (through `serde_json`).
//!
//! An [`Array`] is a shape and its values in C order (last axis fastest), always f64. Reading
//! accepts `.npy` with dtype f64 or f32 (i64 and i32 are converted too), C order, any byte
//! order; and `.json` holding rectangular nested lists of numbers. Every error names the file,
//! and where it helps the offending index, in one line.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use faer::{Mat, MatRef};
use npyz::{DType, Order, TypeChar, WriterBuilder};
use serde_json::Value;

use crate::data::Batch;
use crate::error::{Error, Result};

/// An n-dimensional f64 array: `values[flat(i₀, …, i_{d−1})]` with C-order (row-major)
/// flattening `flat = ((i₀·s₁ + i₁)·s₂ + …)`; `values.len() = Π shape`.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The extent of each axis.
    pub shape: Vec<usize>,
    /// The values, last axis fastest.
    pub values: Vec<f64>,
}

impl Array {
    /// An array from its shape and values; errors when `values.len() ≠ Π shape`.
    pub fn new(shape: Vec<usize>, values: Vec<f64>) -> Result<Self> {
        let len: usize = shape.iter().product();
        if len != values.len() {
            return Err(Error::Shape(format!(
                "an array of shape {shape:?} needs {len} values, got {}",
                values.len()
            )));
        }
        Ok(Self { shape, values })
    }

    /// The `R × C` array of a matrix (`values[i·C + j] = a[i, j]`).
    pub fn from_mat(a: MatRef<f64>) -> Self {
        let (r, c) = (a.nrows(), a.ncols());
        let values = (0..r)
            .flat_map(|i| (0..c).map(move |j| a[(i, j)]))
            .collect();
        Self {
            shape: vec![r, c],
            values,
        }
    }

    /// The array as a matrix: shape `[R, C]` gives R × C, shape `[N]` gives an N × 1 column
    /// (one output per example). Other ranks are an error naming `what`.
    pub fn to_mat(&self, what: &str) -> Result<Mat<f64>> {
        let (r, c) = match self.shape[..] {
            [n] => (n, 1),
            [r, c] => (r, c),
            _ => {
                return Err(Error::Shape(format!(
                    "{what} must have shape [N] or [N, O], got {:?}",
                    self.shape
                )))
            }
        };
        if self.values.len() != r * c {
            return Err(Error::Shape(format!(
                "{what}: shape {:?} does not match its {} values",
                self.shape,
                self.values.len()
            )));
        }
        Ok(Mat::from_fn(r, c, |i, j| self.values[i * c + j]))
    }
}

/// Reads an array from `path`, chosen by extension: `.npy` (f64, f32, i64 or i32; C order) or
/// `.json` (rectangular nested lists of numbers). Rejects empty arrays and NaN/±Inf, naming
/// the file and the index.
pub fn read_array(path: &Path) -> Result<Array> {
    let name = path.display().to_string();
    let array = match extension(path).as_deref() {
        Some("npy") => read_npy(path, &name)?,
        Some("json") => read_json(path, &name)?,
        _ => {
            return Err(Error::Invalid(format!(
                "{name}: unsupported file type; arrays are read from .npy or .json files"
            )))
        }
    };
    if array.values.is_empty() {
        return Err(Error::Shape(format!(
            "{name}: the array is empty (shape {:?})",
            array.shape
        )));
    }
    if let Some(k) = array.values.iter().position(|v| !v.is_finite()) {
        return Err(Error::Data(format!(
            "{name}: non-finite value {} at {:?}",
            array.values[k],
            unravel(k, &array.shape)
        )));
    }
    Ok(array)
}

/// Reads a batch of examples from `path`: an array of shape `[N, *example_shape]`
/// (see [`read_array`] and [`Batch::from_array`]); errors name the file.
pub fn read_batch(path: &Path) -> Result<Batch> {
    let a = read_array(path)?;
    Batch::from_array(&a.shape, a.values).map_err(|e| in_file(path, e))
}

/// Writes `a` to `path` as a little-endian f64 `.npy` file in C order.
pub fn write_npy(path: &Path, a: &Array) -> Result<()> {
    let name = path.display().to_string();
    let len: usize = a.shape.iter().product();
    if len != a.values.len() {
        return Err(Error::Shape(format!(
            "{name}: cannot write an array of shape {:?} with {} values",
            a.shape,
            a.values.len()
        )));
    }
    let io_err = |source: std::io::Error| Error::Io {
        path: name.clone(),
        source,
    };
    let file = File::create(path).map_err(io_err)?;
    let shape: Vec<u64> = a.shape.iter().map(|&s| s as u64).collect();
    let mut writer = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&shape)
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(io_err)?;
    writer.extend(a.values.iter().copied()).map_err(io_err)?;
    writer.finish().map_err(io_err)
}

/// The array as JSON nested lists: shape `[A, B]` gives `[[..B numbers..], ..A rows..]`;
/// shape `[]` gives a bare number. (Non-finite values, which JSON lacks, become `null`.)
pub fn to_json_nested(a: &Array) -> Value {
    fn nest(shape: &[usize], values: &[f64]) -> Value {
        match shape.split_first() {
            None => Value::from(values[0]),
            Some((&n, rest)) => {
                let step: usize = rest.iter().product();
                Value::Array(
                    (0..n)
                        .map(|i| nest(rest, &values[i * step..(i + 1) * step]))
                        .collect(),
                )
            }
        }
    }
    if a.values.is_empty() {
        // A zero axis: the nesting down to it, empty below.
        return nest_empty(&a.shape);
    }
    nest(&a.shape, &a.values)
}

fn nest_empty(shape: &[usize]) -> Value {
    match shape.split_first() {
        Some((&n, rest)) if n > 0 => Value::Array((0..n).map(|_| nest_empty(rest)).collect()),
        _ => Value::Array(Vec::new()),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

/// Prefixes an error's message with the file name.
fn in_file(path: &Path, e: Error) -> Error {
    let name = path.display();
    match e {
        Error::Spec(m) => Error::Spec(format!("{name}: {m}")),
        Error::Shape(m) => Error::Shape(format!("{name}: {m}")),
        Error::Data(m) => Error::Data(format!("{name}: {m}")),
        Error::Group(m) => Error::Group(format!("{name}: {m}")),
        Error::Numeric(m) => Error::Numeric(format!("{name}: {m}")),
        Error::Invalid(m) => Error::Invalid(format!("{name}: {m}")),
        io @ Error::Io { .. } => io,
        other => Error::InFile {
            path: name.to_string(),
            source: Box::new(other),
        },
    }
}

/// The multi-index of flat position `k` in C order.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (d, &s) in shape.iter().enumerate().rev() {
        idx[d] = k % s.max(1);
        k /= s.max(1);
    }
    idx
}

fn read_npy(path: &Path, name: &str) -> Result<Array> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: name.to_string(),
        source,
    })?;
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .map_err(|e| Error::Data(format!("{name}: not a readable .npy file ({e})")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    if npy.order() == Order::Fortran && shape.iter().filter(|&&s| s > 1).count() > 1 {
        return Err(Error::Data(format!(
            "{name}: the array is stored in Fortran order; save it in C order \
             (e.g. np.save(path, np.ascontiguousarray(x)))"
        )));
    }
    let corrupt =
        |e: std::io::Error| Error::Data(format!("{name}: truncated or corrupt data ({e})"));
    let dtype = npy.dtype();
    let values: Vec<f64> = match &dtype {
        DType::Plain(ts) => match (ts.type_char(), ts.size_field()) {
            (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(corrupt)?,
            (TypeChar::Float, 4) => npy
                .into_vec::<f32>()
                .map_err(corrupt)?
                .into_iter()
                .map(f64::from)
                .collect(),
            (TypeChar::Int, 8) => npy
                .into_vec::<i64>()
                .map_err(corrupt)?
                .into_iter()
                .map(|v| v as f64)
                .collect(),
            (TypeChar::Int, 4) => npy
                .into_vec::<i32>()
                .map_err(corrupt)?
                .into_iter()
                .map(f64::from)
                .collect(),
            _ => {
                return Err(Error::Data(format!(
                    "{name}: expected a float array, found dtype {ts}"
                )))
            }
        },
        other => {
            return Err(Error::Data(format!(
                "{name}: expected a float array, found dtype {}",
                other.descr()
            )))
        }
    };
    let len: usize = shape.iter().product();
    if values.len() != len {
        return Err(Error::Data(format!(
            "{name}: header shape {shape:?} promises {len} values, file holds {}",
            values.len()
        )));
    }
    Ok(Array { shape, values })
}

fn read_json(path: &Path, name: &str) -> Result<Array> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: name.to_string(),
        source,
    })?;
    let root: Value = serde_json::from_reader(BufReader::new(file))
        .map_err(|e| Error::Data(format!("{name}: not valid JSON ({e})")))?;
    // The shape is read off the first entry at each depth; every other entry must agree.
    let mut shape = Vec::new();
    let mut v = &root;
    while let Value::Array(items) = v {
        shape.push(items.len());
        match items.first() {
            Some(first) => v = first,
            None => break,
        }
    }
    let mut values = Vec::with_capacity(shape.iter().product());
    let mut index = Vec::with_capacity(shape.len());
    collect_json(&root, &shape, &mut index, &mut values, name)?;
    Ok(Array { shape, values })
}

fn collect_json(
    v: &Value,
    shape: &[usize],
    index: &mut Vec<usize>,
    out: &mut Vec<f64>,
    name: &str,
) -> Result<()> {
    let depth = index.len();
    if depth == shape.len() {
        return match v.as_f64() {
            Some(x) if v.is_number() => {
                out.push(x);
                Ok(())
            }
            _ => Err(Error::Data(format!(
                "{name}: value at {index:?} is not a number"
            ))),
        };
    }
    let expected = shape[depth];
    let Value::Array(items) = v else {
        return Err(Error::Shape(format!(
            "{name}: {} is not a list, expected {expected} entries",
            row_name(index)
        )));
    };
    if items.len() != expected {
        return Err(Error::Shape(format!(
            "{name}: {} has {} entries, expected {expected}",
            row_name(index),
            items.len()
        )));
    }
    for (i, item) in items.iter().enumerate() {
        index.push(i);
        collect_json(item, shape, index, out, name)?;
        index.pop();
    }
    Ok(())
}

/// `row 3` for a top-level row, `row [1, 3]` deeper down.
fn row_name(index: &[usize]) -> String {
    match index {
        [] => "the top-level list".to_string(),
        [i] => format!("row {i}"),
        _ => format!("row {index:?}"),
    }
}
