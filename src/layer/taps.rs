//! Tap averages: the linear part shared by convolutions, lifting and group convolutions.
//!
//! Each such layer computes, for every output index `o`, an average over taps `t` of inputs at
//! source indices `src(o, t)` (a filter offset, or a group element and an offset). Its kernel map
//! is then
//!
//! ```text
//! A[M][o, o'] = (1/|T|) Σ_t M[src(o,t), src(o',t)]       (a term is 0 when a source is padding)
//! ```
//!
//! (MATH.md §4–5). A [`Taps`] table stores `src` once; the same table serves the NNGP, the NTK
//! and the finite-width forward pass.

use super::separable::SeparableTaps;

/// The source table of a tap-averaging layer: `src(o, t)` for `n_out` outputs and `n_taps` taps.
#[derive(Clone, Debug, PartialEq)]
pub struct Taps {
    n_in: usize,
    n_out: usize,
    n_taps: usize,
    /// `src[o * n_taps + t]`; `None` where the tap falls on zero padding.
    src: Vec<Option<u32>>,
    /// The same average factored axis by axis, when the layer is a grid convolution.
    separable: Option<SeparableTaps>,
}

impl Taps {
    /// A table from `src(o, t)` for `o < n_out`, `t < n_taps`, with sources below `n_in`.
    pub fn from_fn(
        n_in: usize,
        n_out: usize,
        n_taps: usize,
        src: impl Fn(usize, usize) -> Option<usize>,
    ) -> Self {
        let mut v = Vec::with_capacity(n_out * n_taps);
        for o in 0..n_out {
            for t in 0..n_taps {
                let s = src(o, t);
                debug_assert!(s.is_none_or(|s| s < n_in));
                v.push(s.map(|s| s as u32));
            }
        }
        Self {
            n_in,
            n_out,
            n_taps,
            src: v,
            separable: None,
        }
    }

    /// Attach the axis-by-axis factorisation of this table, used by [`Taps::average`].
    ///
    /// `sep` must compute the same average as the table (same sites, same taps).
    pub fn with_separable(mut self, sep: SeparableTaps) -> Self {
        assert_eq!((sep.n_in(), sep.n_out()), (self.n_in, self.n_out));
        self.separable = Some(sep);
        self
    }

    /// True when [`Taps::average`] goes through the axis-by-axis factorisation.
    pub fn is_separable(&self) -> bool {
        self.separable.is_some()
    }

    /// Number of input indices.
    pub fn n_in(&self) -> usize {
        self.n_in
    }
    /// Number of output indices.
    pub fn n_out(&self) -> usize {
        self.n_out
    }
    /// Number of taps |T| (the divisor of the average, padding included).
    pub fn n_taps(&self) -> usize {
        self.n_taps
    }
    /// The source of output `o` at tap `t`.
    pub fn src(&self, o: usize, t: usize) -> Option<usize> {
        self.src[o * self.n_taps + t].map(|s| s as usize)
    }

    /// `out[o, o'] = (1/|T|) Σ_t m[src(o,t), src(o',t)]` for a full `n_in × n_in` block `m`.
    pub fn average_full(&self, m: &[f64], out: &mut [f64]) {
        let (ni, no, nt) = (self.n_in, self.n_out, self.n_taps);
        let w = 1.0 / nt as f64;
        out.fill(0.0);
        for o in 0..no {
            let row_o = &self.src[o * nt..(o + 1) * nt];
            let out_row = &mut out[o * no..(o + 1) * no];
            for (o2, acc) in out_row.iter_mut().enumerate() {
                let row_o2 = &self.src[o2 * nt..(o2 + 1) * nt];
                let mut s = 0.0;
                for (a, b) in row_o.iter().zip(row_o2) {
                    if let (Some(a), Some(b)) = (a, b) {
                        s += m[*a as usize * ni + *b as usize];
                    }
                }
                *acc = s * w;
            }
        }
    }

    /// `out[o] = (1/|T|) Σ_t m[src(o,t)]` for a site-diagonal block `m` (length `n_in`).
    pub fn average_diagonal(&self, m: &[f64], out: &mut [f64]) {
        let nt = self.n_taps;
        let w = 1.0 / nt as f64;
        for (o, acc) in out.iter_mut().enumerate().take(self.n_out) {
            let s: f64 = self.src[o * nt..(o + 1) * nt]
                .iter()
                .flatten()
                .map(|&a| m[a as usize])
                .sum();
            *acc = s * w;
        }
    }

    /// Apply the average to a block, full (`n_in²` values) or site-diagonal (`n_in` values),
    /// axis by axis when the table is separable.
    pub fn average(&self, full: bool, m: &[f64], out: &mut [f64]) {
        if let Some(sep) = &self.separable {
            sep.average(full, m, out)
        } else if full {
            self.average_full(m, out)
        } else {
            self.average_diagonal(m, out)
        }
    }
}
