//! Readouts over sites: flatten and global average pooling (MATH.md §4).

use super::shape::Shape;
use crate::group::GroupSpec;
use crate::kernel::BlockMap;

/// Flatten the sites into channels: `K_out = (1/P) Σ_p K[p,p]` (likewise Θ).
///
/// (The `1/P` is the fan-in normalisation of the dense layer that follows.)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flatten;

/// Global average pooling: `K_out = (1/P²) Σ_{p,p'} K[p,p']` (likewise Θ).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalAvgPool;

/// Group pooling: the mean over all group elements and positions,
/// `K_out = mean_{(g,p),(g',p')} K[(g,p),(g',p')]` (likewise Θ) — invariant features. On SO(2)
/// features it is the zero Fourier mode `(1/2π) ∫ K(φ) dφ` of the kernel as a function of the
/// relative angle (evaluated by [`crate::Network::kernel`] on its angular grid).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupPool;

impl GroupPool {
    /// A vector of `C` channels; the input must be lifted.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        if input.lifted.is_none() {
            return Err("group_pool needs features on a group: put a lift layer before it".into());
        }
        Ok(Shape {
            grid: vec![],
            channels: input.channels,
            lifted: None,
        })
    }
}

impl Flatten {
    /// A vector of `P·C` channels.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        reject_so2(input)?;
        Ok(Shape {
            grid: vec![],
            channels: input.channels.map(|c| c * input.sites()),
            lifted: None,
        })
    }
}

impl GlobalAvgPool {
    /// A vector of `C` channels.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        reject_so2(input)?;
        Ok(Shape {
            grid: vec![],
            channels: input.channels,
            lifted: None,
        })
    }
}

/// Features on SO(2) are read out by group pooling only (their zero Fourier mode).
fn reject_so2(input: &Shape) -> Result<(), String> {
    match input.lifted {
        Some(GroupSpec::So2 { .. }) => Err("SO2 features must be pooled with group_pool".into()),
        _ => Ok(()),
    }
}

fn diagonal_mean(full: bool, m: &[f64]) -> f64 {
    if full {
        let s = (m.len() as f64).sqrt().round() as usize;
        (0..s).map(|i| m[i * s + i]).sum::<f64>() / s as f64
    } else {
        m.iter().sum::<f64>() / m.len() as f64
    }
}

fn full_mean(full: bool, m: &[f64]) -> f64 {
    assert!(
        full || m.len() == 1,
        "global pooling needs the full site × site kernel"
    );
    pairwise_sum(m) / m.len() as f64
}

/// `Σ_i v[i]` by pairwise summation (rounding error `O(ε log n)` instead of `O(ε n)`): pooling
/// sums (|G|·P)² entries, and a plain running sum would lose digits the kernels do not have.
pub(crate) fn pairwise_sum(v: &[f64]) -> f64 {
    if v.len() <= 64 {
        return v.iter().sum();
    }
    let (a, b) = v.split_at(v.len() / 2);
    pairwise_sum(a) + pairwise_sum(b)
}

macro_rules! readout_map {
    ($ty:ty, $f:ident) => {
        impl BlockMap for $ty {
            fn sites_out(&self, _sites_in: usize) -> usize {
                1
            }
            fn apply(
                &self,
                full: bool,
                k: &[f64],
                t: Option<&[f64]>,
                _d1: &[f64],
                _d2: &[f64],
                k_out: &mut [f64],
                t_out: Option<&mut [f64]>,
            ) {
                k_out[0] = $f(full, k);
                if let (Some(t), Some(t_out)) = (t, t_out) {
                    t_out[0] = $f(full, t);
                }
            }
        }
    };
}
readout_map!(Flatten, diagonal_mean);
readout_map!(GlobalAvgPool, full_mean);
readout_map!(GroupPool, full_mean);
