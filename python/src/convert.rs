//! numpy arrays in and out.
//!
//! In: a C-contiguous float64 array is read in place through its buffer (no copy on the Python
//! side; `eqntk.stax` passes such arrays through unchanged); the one copy is the eqntk `Batch`
//! that owns its values. Out: every result is a Rust `Vec<f64>` handed to numpy as the array's
//! own memory (`into_pyarray`, no copy).

use numpy::ndarray::{Array2, Array3};
use numpy::{IntoPyArray, PyArray2, PyArray3, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A borrowed C-contiguous float64 array: its shape and its values.
pub struct View<'a> {
    pub shape: Vec<usize>,
    pub values: &'a [f64],
}

/// The shape and values of `a`, or a `ValueError` when it is not C-contiguous.
pub fn view<'a>(a: &'a PyReadonlyArrayDyn<'_, f64>, name: &str) -> PyResult<View<'a>> {
    let shape = a.shape().to_vec();
    let values = a.as_slice().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a C-contiguous float64 array (numpy.ascontiguousarray)"
        ))
    })?;
    Ok(View { shape, values })
}

impl View<'_> {
    /// The eqntk batch `[N, *example_shape]` (copies the values into the batch).
    pub fn batch(&self) -> eqntk::Result<eqntk::Batch> {
        eqntk::Batch::from_array(&self.shape, self.values.to_vec())
    }

    /// The values as an `r × c` faer matrix (a 1-D array is a column).
    pub fn mat(&self, name: &str) -> eqntk::Result<faer::Mat<f64>> {
        let (r, c) = match self.shape.as_slice() {
            [r] => (*r, 1),
            [r, c] => (*r, *c),
            s => {
                return Err(eqntk::Error::Shape(format!(
                    "{name} must be a 1-D or 2-D array, got shape {s:?}"
                )))
            }
        };
        let v = self.values;
        if let Some(p) = v.iter().position(|x| !x.is_finite()) {
            return Err(eqntk::Error::Data(format!(
                "{name} holds a non-finite value ({}) at row {}",
                v[p],
                p / c.max(1)
            )));
        }
        Ok(faer::Mat::from_fn(r, c, |i, j| v[i * c + j]))
    }
}

/// A row-major `r × c` result as a numpy array owning the vector.
pub fn array2(py: Python<'_>, r: usize, c: usize, v: Vec<f64>) -> Bound<'_, PyArray2<f64>> {
    Array2::from_shape_vec((r, c), v)
        .expect("the length is r·c")
        .into_pyarray(py)
}

/// A faer matrix as a numpy array (one copy out of faer's column-major storage).
pub fn mat2<'py>(py: Python<'py>, m: &faer::Mat<f64>) -> Bound<'py, PyArray2<f64>> {
    let (r, c) = (m.nrows(), m.ncols());
    let mut v = Vec::with_capacity(r * c);
    for i in 0..r {
        for j in 0..c {
            v.push(m[(i, j)]);
        }
    }
    array2(py, r, c, v)
}

/// Matrices of one shape stacked along a first axis: `[len, r, c]`.
pub fn stack<'py>(
    py: Python<'py>,
    ms: &[faer::Mat<f64>],
    r: usize,
    c: usize,
) -> Bound<'py, PyArray3<f64>> {
    let mut v = Vec::with_capacity(ms.len() * r * c);
    for m in ms {
        for i in 0..r {
            for j in 0..c {
                v.push(m[(i, j)]);
            }
        }
    }
    Array3::from_shape_vec((ms.len(), r, c), v)
        .expect("the length is n·r·c")
        .into_pyarray(py)
}
