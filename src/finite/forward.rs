//! The forward pass: `f(x)` for a batch, keeping what the backward pass needs.
//!
//! Features of one example are a `sites × channels` array (row-major, channels last, as in a
//! [`Batch`]); each layer's [`FinitePass`](super::FinitePass) maps them to the next layer's.

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::FiniteNetwork;
use crate::data::Batch;
use crate::error::{Error, Result};

/// What one example's forward pass leaves for the backward pass.
pub(super) struct Trace {
    /// The input features of every layer.
    pub inputs: Vec<Vec<f64>>,
    /// The patch matrix of every convolution (`None` for other layers).
    pub patches: Vec<Option<Vec<f64>>>,
    /// The network output (`out_dim` values).
    pub output: Vec<f64>,
}

/// `dst (m × n) = alpha · a (m × k) · b (k × n)` (or `+=` with `accumulate`), all row-major.
pub(crate) fn matmul(dst: MatMut<f64>, a: MatRef<f64>, b: MatRef<f64>, alpha: f64, acc: bool) {
    let accum = if acc { Accum::Add } else { Accum::Replace };
    faer::linalg::matmul::matmul(dst, accum, a, b, alpha, Par::Seq);
}

pub(crate) fn rm(s: &[f64], rows: usize, cols: usize) -> MatRef<'_, f64> {
    MatRef::from_row_major_slice(s, rows, cols)
}

pub(crate) fn rm_mut(s: &mut [f64], rows: usize, cols: usize) -> MatMut<'_, f64> {
    MatMut::from_row_major_slice_mut(s, rows, cols)
}

impl FiniteNetwork {
    /// The outputs `F[i, o] = f_o(x_i)`, an N × out_dim matrix.
    ///
    /// Errors when the examples of `x` do not have the network's input shape.
    pub fn forward(&self, x: &Batch) -> Result<faer::Mat<f64>> {
        self.check_batch(x, "x")?;
        let outs: Vec<Vec<f64>> = (0..x.len())
            .into_par_iter()
            .map(|i| self.trace(x.example(i)).output)
            .collect();
        Ok(faer::Mat::from_fn(x.len(), self.out_dim, |i, o| outs[i][o]))
    }

    pub(super) fn check_batch(&self, x: &Batch, name: &str) -> Result<()> {
        if x.shape() != self.input.as_slice() {
            return Err(Error::Shape(format!(
                "{name} examples have shape {:?} but the network's input shape is {:?}",
                x.shape(),
                self.input
            )));
        }
        Ok(())
    }

    /// The forward pass of one example, keeping every layer's input.
    pub(super) fn trace(&self, example: &[f64]) -> Trace {
        let mut inputs = Vec::with_capacity(self.ops.len());
        let mut patches = Vec::with_capacity(self.ops.len());
        let mut h = match &self.so2 {
            Some(grid) => grid
                .stack_example(example)
                .expect("the example has the network's input shape"),
            None => example.to_vec(),
        };
        for op in &self.ops {
            let (out, patch) = op.pass.forward(&self.params, &op.dims, &h);
            inputs.push(h);
            patches.push(patch);
            h = out;
        }
        Trace {
            inputs,
            patches,
            output: h,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Network;

    /// A direct 2-D convolution from its definition (3×3 filter, stride 1), independent of the
    /// tap tables: `out[i, j, d] = m Σ_{a,b,c} W[(a·3 + b)·C + c, d] x[i+a−1, j+b−1, c]`
    /// (SAME: zero outside; CIRCULAR: wrapped; VALID: `x[i+a, j+b]`, smaller output).
    fn direct_conv(
        x: &[f64],
        (h, w, c): (usize, usize, usize),
        wt: &[f64],
        d: usize,
        m: f64,
        pad: &str,
    ) -> Vec<f64> {
        let (ho, wo) = if pad == "valid" {
            (h - 2, w - 2)
        } else {
            (h, w)
        };
        let mut out = vec![0.0; ho * wo * d];
        for i in 0..ho {
            for j in 0..wo {
                for a in 0..3 {
                    for b in 0..3 {
                        let (ii, jj) = match pad {
                            "valid" => ((i + a) as isize, (j + b) as isize),
                            _ => (i as isize + a as isize - 1, j as isize + b as isize - 1),
                        };
                        let (ii, jj) = match pad {
                            "circular" => (ii.rem_euclid(h as isize), jj.rem_euclid(w as isize)),
                            _ if ii < 0 || jj < 0 || ii >= h as isize || jj >= w as isize => {
                                continue
                            }
                            _ => (ii, jj),
                        };
                        for cc in 0..c {
                            let xv = x[(ii as usize * w + jj as usize) * c + cc];
                            for dd in 0..d {
                                out[(i * wo + j) * d + dd] +=
                                    m * wt[((a * 3 + b) * c + cc) * d + dd] * xv;
                            }
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn conv_forward_matches_the_direct_sum() {
        let (h, w, c, width) = (4, 5, 2, 3);
        let x: Vec<f64> = (0..h * w * c)
            .map(|i| ((i * 37 % 17) as f64 - 8.0) / 5.0)
            .collect();
        let batch = Batch::new(vec![h, w, c], x.clone()).unwrap();
        for pad in ["circular", "same", "valid"] {
            let net = Network::from_toml_str(
                &format!(
                    "[input]\nshape=[{h},{w},{c}]\n[[layers]]\nkind='conv'\nfilter=[3,3]\n\
                     padding='{pad}'\nw_std=1.3\n[[layers]]\nkind='flatten'\n\
                     [[layers]]\nkind='dense'\nw_std=0.7\nb_std=0.4\n"
                ),
                "t.toml",
            )
            .unwrap();
            let fin = FiniteNetwork::sample(&net, width, 5).unwrap();
            let p = fin.parameters();
            let nw = 9 * c * width;
            let hidden = direct_conv(
                &x,
                (h, w, c),
                &p[..nw],
                width,
                1.3 / ((9 * c) as f64).sqrt(),
                pad,
            );
            // Dense readout on the flattened features (one output), then the bias.
            let k = hidden.len();
            let wd = &p[nw..nw + k];
            let want = 0.7 / (k as f64).sqrt()
                * hidden.iter().zip(wd).map(|(a, b)| a * b).sum::<f64>()
                + 0.4 * p[nw + k];
            assert_eq!(p.len(), nw + k + 1);
            let got = fin.forward(&batch).unwrap()[(0, 0)];
            assert!((got - want).abs() < 1e-12, "{pad}: {got} vs {want}");
        }
    }
}
