//! The kernel map of a pointwise nonlinearity (MATH.md §3).
//!
//! ```text
//! K'[s,s'](x,x') = T(K[s,s](x,x), K[s,s'](x,x'), K[s',s'](x',x'))
//! Θ'[s,s'](x,x') = Ṫ(…) · Θ[s,s'](x,x')
//! ```

use super::activation::Activation;
use crate::kernel::BlockMap;

impl BlockMap for Activation {
    fn sites_out(&self, sites_in: usize) -> usize {
        sites_in
    }

    fn apply(
        &self,
        full: bool,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        if !full {
            // Site-diagonal blocks: entry s pairs site s of x with site s of x'.
            match (t, t_out) {
                (Some(t), Some(t_out)) => {
                    for s in 0..k.len() {
                        let (v, dv) = self.dual(d1[s], k[s], d2[s]);
                        k_out[s] = v;
                        t_out[s] = dv * t[s];
                    }
                }
                _ => {
                    for s in 0..k.len() {
                        k_out[s] = self.dual(d1[s], k[s], d2[s]).0;
                    }
                }
            }
            return;
        }
        let n = d1.len();
        match (t, t_out) {
            (Some(t), Some(t_out)) => {
                for (s, &d1s) in d1.iter().enumerate() {
                    let r = s * n..(s + 1) * n;
                    self.dual_slice(
                        d1s,
                        &k[r.clone()],
                        d2,
                        Some(&t[r.clone()]),
                        &mut k_out[r.clone()],
                        Some(&mut t_out[r]),
                    );
                }
            }
            _ => {
                for (s, &d1s) in d1.iter().enumerate() {
                    let r = s * n..(s + 1) * n;
                    self.dual_slice(d1s, &k[r.clone()], d2, None, &mut k_out[r], None);
                }
            }
        }
    }

    fn apply_row(
        &self,
        full: bool,
        sites_in: usize,
        k: &[f64],
        t: Option<&[f64]>,
        d1: &[f64],
        d2: &[f64],
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        if sites_in == 1 {
            // One site: the row is k12[j] with variances d1[0] and d2[j].
            self.dual_slice(d1[0], k, d2, t, k_out, t_out);
            return;
        }
        crate::kernel::apply_blocks(self, full, sites_in, k, t, d1, d2, k_out, t_out);
    }
}
