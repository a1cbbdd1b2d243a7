//! A batch of examples: the arrays kernels are computed from.

use crate::error::{Error, Result};

/// `N` examples of one shape `[*grid, C]` (channels last), stored contiguously in C order.
///
/// The shape of one example is `[D]` (a vector: one site, `D` channels), `[W, C]` (a 1-D signal)
/// or `[H, W, C]` (an image). Values are finite f64; [`Batch::new`] rejects NaN and ±Inf.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    shape: Vec<usize>,
    len: usize,
    values: Vec<f64>,
}

impl Batch {
    /// A batch from its example shape and the values of all examples (length `N · Π shape`).
    pub fn new(shape: Vec<usize>, values: Vec<f64>) -> Result<Self> {
        let per: usize = shape.iter().product();
        if shape.is_empty() || per == 0 {
            return Err(Error::Shape(format!(
                "an example must have a non-empty shape with no zero axis, got {shape:?}"
            )));
        }
        if values.is_empty() {
            return Err(Error::Shape("the batch is empty (no examples)".into()));
        }
        if values.len() % per != 0 {
            return Err(Error::Shape(format!(
                "{} values do not split into examples of shape {shape:?}",
                values.len()
            )));
        }
        if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!(
                "example {} holds a non-finite value ({})",
                pos / per,
                values[pos]
            )));
        }
        Ok(Self {
            len: values.len() / per,
            shape,
            values,
        })
    }

    /// A batch from an array whose first axis is the batch axis: `full_shape = [N, *shape]`.
    pub fn from_array(full_shape: &[usize], values: Vec<f64>) -> Result<Self> {
        match full_shape.split_first() {
            Some((&n, rest)) if !rest.is_empty() => {
                if n == 0 {
                    return Err(Error::Shape("the batch is empty (no examples)".into()));
                }
                let b = Self::new(rest.to_vec(), values)?;
                if b.len != n {
                    return Err(Error::Shape(format!(
                        "array of shape {full_shape:?} has {} values",
                        b.values.len()
                    )));
                }
                Ok(b)
            }
            _ => Err(Error::Shape(format!(
                "an input array must have shape [N, *example_shape], got {full_shape:?}"
            ))),
        }
    }

    /// The shape of one example, `[*grid, C]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of examples `N`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a batch holds at least one example.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of values per example.
    pub fn example_len(&self) -> usize {
        self.values.len() / self.len
    }

    /// The values of example `i`, `[*grid, C]` flattened in C order.
    pub fn example(&self, i: usize) -> &[f64] {
        let m = self.example_len();
        &self.values[i * m..(i + 1) * m]
    }

    /// All values, example after example.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The batch with examples `[i0, i1)` of this one.
    pub fn slice(&self, i0: usize, i1: usize) -> Result<Self> {
        let m = self.example_len();
        Self::new(self.shape.clone(), self.values[i0 * m..i1 * m].to_vec())
    }

    /// The batch built from examples given as rows of values (all of this batch's shape).
    pub fn from_examples(shape: Vec<usize>, examples: &[Vec<f64>]) -> Result<Self> {
        Self::new(shape, examples.concat())
    }
}
