//! Gauss–Legendre quadrature on `[−1, 1]`.
//!
//! The `n` nodes `x_i` are the roots of the Legendre polynomial `P_n`, the weights
//! `w_i = 2 / ((1 − x_i²) P_n′(x_i)²)`, and `Σ_i w_i p(x_i) = ∫_{−1}^{1} p(x) dx` exactly for
//! every polynomial `p` of degree `≤ 2n − 1`.
//!
//! `P_n` and `P_n′` come from the three-term recurrence
//! `(k + 1) P_{k+1} = (2k + 1) x P_k − k P_{k−1}` and `(1 − x²) P_n′ = n (P_{n−1} − x P_n)`; each
//! root is found by Newton's method from the Chebyshev-like guess
//! `cos(π (i + 3/4) / (n + 1/2))`, which converges quadratically to the `i`-th root. Nodes are
//! returned in ascending order and are symmetric about 0 to rounding.

use std::f64::consts::PI;

use crate::error::{Error, Result};

/// The largest number of Gauss–Legendre nodes asked for by user-facing code.
pub const MAX_GAUSS_LEGENDRE_NODES: usize = 1 << 14;

/// `(P_n(x), P_{n−1}(x))` by the three-term recurrence.
pub fn legendre_pair(n: usize, x: f64) -> (f64, f64) {
    let (mut p_prev, mut p) = (0.0, 1.0);
    for k in 0..n {
        let next = ((2 * k + 1) as f64 * x * p - k as f64 * p_prev) / (k + 1) as f64;
        p_prev = p;
        p = next;
    }
    (p, p_prev)
}

/// The `n`-point Gauss–Legendre rule: `(nodes, weights)`, nodes ascending in `(−1, 1)`,
/// weights positive summing to 2.
pub fn gauss_legendre(n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if n == 0 {
        return Err(Error::Invalid(
            "a Gauss–Legendre rule needs at least one node".into(),
        ));
    }
    crate::budget::at_most(
        "the number of Gauss–Legendre nodes",
        n,
        MAX_GAUSS_LEGENDRE_NODES,
    )?;
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    let nf = n as f64;
    for i in 0..n.div_ceil(2) {
        // Roots in descending order; i-th root from the top.
        let mut x = (PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (p, q) = legendre_pair(n, x);
            dp = nf * (q - x * p) / (1.0 - x * x);
            let dx = p / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                let (p, q) = legendre_pair(n, x);
                dp = nf * (q - x * p) / (1.0 - x * x);
                break;
            }
        }
        let w = 2.0 / ((1.0 - x * x) * dp * dp);
        // Place symmetric pairs (the middle node of odd n is exactly 0).
        let (lo, hi) = (i, n - 1 - i);
        if lo == hi {
            nodes[lo] = 0.0;
        } else {
            nodes[hi] = x;
            nodes[lo] = -x;
        }
        weights[hi] = w;
        weights[lo] = w;
    }
    Ok((nodes, weights))
}
