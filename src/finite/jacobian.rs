//! The backward pass: the parameter Jacobian and the empirical kernels.
//!
//! For one example and one output o, reverse mode carries `g = ∂f_o/∂h` (same shape as the
//! features) from the output back to the input. Through an affine layer
//! `H' = w_mult · P W + b_mult · 1 bᵀ` (P the patch matrix):
//!
//! ```text
//! ∂f/∂W = w_mult · Pᵀ g        ∂f/∂b = b_mult · Σ_o g[o, :]        ∂f/∂P = w_mult · g Wᵀ
//! ```
//!
//! and `∂f/∂h[s, c]` sums `∂f/∂P[o, t·C_in + c]` over the (o, t) whose tap source is s (the
//! transpose of the gather). Through φ: `g ⊙ φ'(h)`; through pooling: `g[c]/P` at every site;
//! flatten only relabels.

use rayon::prelude::*;

use super::forward::Trace;
use super::FiniteNetwork;
use crate::data::Batch;
use crate::error::{Error, Result};
use faer::Mat;

impl FiniteNetwork {
    /// The Jacobian `J[i, μ] = ∂f_output(x_i)/∂θ_μ`, an N × P matrix (parameter layout in
    /// [`FiniteNetwork`]'s docs).
    pub fn jacobian(&self, x: &Batch, output: usize) -> Result<Mat<f64>> {
        self.check_batch(x, "x")?;
        if output >= self.out_dim {
            return Err(Error::Invalid(format!(
                "output {output} does not exist: the network has {} outputs",
                self.out_dim
            )));
        }
        let np = self.params.len();
        let rows: Vec<Vec<f64>> = (0..x.len())
            .into_par_iter()
            .map(|i| {
                let mut row = vec![0.0; np];
                self.backward(&self.trace(x.example(i)), output, &mut row);
                row
            })
            .collect();
        Ok(Mat::from_fn(x.len(), np, |i, m| rows[i][m]))
    }

    /// The empirical NTK of output 0, `Θ̂ = J(x1) J(x2)ᵀ` (N1 × N2); `x2 = None` means `x1`.
    pub fn empirical_ntk(&self, x1: &Batch, x2: Option<&Batch>) -> Result<Mat<f64>> {
        let j1 = self.jacobian(x1, 0)?;
        let j2 = match x2 {
            Some(x2) => self.jacobian(x2, 0)?,
            None => j1.clone(),
        };
        Ok(&j1 * j2.transpose())
    }

    /// The empirical NNGP averaged over outputs, `K̂ = F(x1) F(x2)ᵀ / O` (N1 × N2), with
    /// `F = forward(x)`; `x2 = None` means `x1`.
    pub fn empirical_nngp(&self, x1: &Batch, x2: Option<&Batch>) -> Result<Mat<f64>> {
        let f1 = self.forward(x1)?;
        let f2 = match x2 {
            Some(x2) => self.forward(x2)?,
            None => f1.clone(),
        };
        Ok((&f1 * f2.transpose()) * faer::Scale(1.0 / self.out_dim as f64))
    }

    /// Reverse mode for one example: writes `∂f_output/∂θ` into `jac` (length P).
    pub(super) fn backward(&self, trace: &Trace, output: usize, jac: &mut [f64]) {
        let mut cotangent = vec![0.0; self.out_dim];
        cotangent[output] = 1.0;
        self.vjp(trace, cotangent, jac, false);
    }

    /// Reverse mode for one example with a general output cotangent `c` (length O): writes
    /// `Σ_o c_o ∂f_o/∂θ` into `grad` (length P), or adds it when `accumulate`.
    ///
    /// Every parameter is written (or added to) exactly once, so `accumulate` sums over examples.
    pub(super) fn vjp(
        &self,
        trace: &Trace,
        cotangent: Vec<f64>,
        grad: &mut [f64],
        accumulate: bool,
    ) {
        let jac = grad;
        let mut g = cotangent;
        for (l, op) in self.ops.iter().enumerate().rev() {
            let h = &trace.inputs[l];
            let need_input = l > 0;
            g = op.pass.backward(
                &self.params,
                &op.dims,
                h,
                trace.patches[l].as_deref(),
                g,
                jac,
                accumulate,
                need_input,
            );
            if !need_input {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Network;

    fn batch(shape: Vec<usize>, n: usize, seed: u64) -> Batch {
        let per: usize = shape.iter().product();
        let v = (0..n * per)
            .map(|i| ((i as u64 * 7919 + seed * 104729) % 1000) as f64 / 250.0 - 2.0)
            .collect();
        Batch::new(shape, v).unwrap()
    }

    /// Central differences of f_o(x) in every parameter agree with the backward pass.
    fn check_against_finite_differences(toml: &str, shape: Vec<usize>, out_dim: usize) {
        let net = Network::from_toml_str(toml, "t.toml").unwrap();
        let mut fin = FiniteNetwork::sample_with_outputs(&net, 3, out_dim, 7).unwrap();
        let x = batch(shape, 2, 3);
        let eps = 1e-6;
        for o in 0..out_dim {
            let j = fin.jacobian(&x, o).unwrap();
            for m in 0..fin.n_params() {
                let orig = fin.params[m];
                fin.params[m] = orig + eps;
                let fp = fin.forward(&x).unwrap();
                fin.params[m] = orig - eps;
                let fm = fin.forward(&x).unwrap();
                fin.params[m] = orig;
                for i in 0..x.len() {
                    let fd = (fp[(i, o)] - fm[(i, o)]) / (2.0 * eps);
                    assert!(
                        (fd - j[(i, m)]).abs() < 1e-6 * (1.0 + fd.abs()),
                        "{toml}: param {m}, example {i}, output {o}: fd {fd} vs jacobian {}",
                        j[(i, m)]
                    );
                }
            }
        }
    }

    #[test]
    fn mlp_jacobian_matches_finite_differences() {
        check_against_finite_differences(
            "[input]\nshape=[4]\n[[layers]]\nkind='dense'\nw_std=1.3\nb_std=0.2\nwidth=3\n\
             [[layers]]\nkind='relu'\n[[layers]]\nkind='dense'\nb_std=0.5\n\
             parameterization='standard'\n[[layers]]\nkind='identity'\n\
             [[layers]]\nkind='dense'\nw_std=0.9\nb_std=0.3\n",
            vec![4],
            2,
        );
    }

    #[test]
    fn cnn_jacobian_matches_finite_differences() {
        for (pad, readout) in [
            ("circular", "global_avg_pool"),
            ("same", "flatten"),
            ("valid", "global_avg_pool"),
        ] {
            check_against_finite_differences(
                &format!(
                    "[input]\nshape=[5,4,2]\n[[layers]]\nkind='conv'\nfilter=[3,3]\n\
                     padding='{pad}'\nb_std=0.2\nwidth=3\n[[layers]]\nkind='relu'\n\
                     [[layers]]\nkind='conv'\nfilter=[3,1]\npadding='{pad}'\nw_std=1.2\n\
                     b_std=0.1\nparameterization='standard'\n[[layers]]\nkind='{readout}'\n\
                     [[layers]]\nkind='dense'\nb_std=0.3\n"
                ),
                vec![5, 4, 2],
                2,
            );
        }
        check_against_finite_differences(
            "[input]\nshape=[5,2]\n[[layers]]\nkind='conv'\nfilter=[3]\npadding='same'\n\
             b_std=0.2\n[[layers]]\nkind='relu'\n[[layers]]\nkind='flatten'\n\
             [[layers]]\nkind='dense'\n",
            vec![5, 2],
            1,
        );
    }

    #[test]
    fn empirical_ntk_is_the_gram_matrix_of_the_jacobian() {
        let net = Network::from_toml_str(
            "[input]\nshape=[3]\n[[layers]]\nkind='dense'\nb_std=0.1\n[[layers]]\nkind='relu'\n\
             [[layers]]\nkind='dense'\n",
            "t.toml",
        )
        .unwrap();
        let fin = FiniteNetwork::sample(&net, 5, 1).unwrap();
        let (x1, x2) = (batch(vec![3], 2, 1), batch(vec![3], 3, 2));
        let (j1, j2) = (fin.jacobian(&x1, 0).unwrap(), fin.jacobian(&x2, 0).unwrap());
        let t = fin.empirical_ntk(&x1, Some(&x2)).unwrap();
        for i in 0..2 {
            for j in 0..3 {
                let want: f64 = (0..fin.n_params()).map(|m| j1[(i, m)] * j2[(j, m)]).sum();
                assert!((t[(i, j)] - want).abs() < 1e-12);
            }
        }
    }
}
