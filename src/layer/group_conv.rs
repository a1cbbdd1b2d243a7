//! Group convolution on features indexed by a group (MATH.md §5).
//!
//! With point-group support H (default: the whole point group) and spatial filter F (p4, p4m
//! only; groups without translations have no positions):
//!
//! ```text
//! A[M][(g,p),(g',p')] = (1/(|H| |F|)) Σ_{h∈H} Σ_{δ∈F} M[(g h, p + A_g δ), (g' h, p' + A_g' δ)]
//! K' = σ_w² A[K] + σ_b²        Θ' = σ_w² A[Θ] + K'
//! ```
//!
//! (the nonlinearity before it is its own layer). The fan-in is `C_in · |H| · |F|`.
//!
//! On SO(2) features (after an SO(2) lifting) the convolution integrates over the whole circle
//! and maps a kernel of the relative angle to itself, `K'(φ) = σ_w² K(φ) + σ_b²`,
//! `Θ'(φ) = σ_w² Θ(φ) + K'(φ)`; it is evaluated on the angular grid of
//! [`crate::network::So2Report`] (no `support`, NTK parameterisation only).

use super::affine::AffineMap;
use super::conv::Padding;
use super::dense::{standard_needs_fan_in, Parameterization};
use super::lift::{shift, window_offsets, Lifted};
use super::shape::Shape;
use super::taps::Taps;
use crate::group::GroupSpec;

/// Group convolution (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupConv {
    /// Spatial filter for p4/p4m (odd, square); `None` for groups without translations.
    pub filter: Option<Vec<usize>>,
    /// Point-group elements `h` summed over; `None` for all.
    pub support: Option<Vec<usize>>,
    /// Boundary handling for p4/p4m (`circular` or `same`).
    pub padding: Padding,
    /// σ_w.
    pub w_std: f64,
    /// σ_b, `None` for no bias.
    pub b_std: Option<f64>,
    /// Output channels.
    pub width: Option<usize>,
    /// Weight scaling.
    pub parameterization: Parameterization,
}

impl GroupConv {
    /// The output shape (the input's sites), or why the layer does not fit its input.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        let Some(group) = input.lifted else {
            return Err("group_conv needs features on a group: put a lift layer before it".into());
        };
        if let GroupSpec::So2 { .. } = group {
            // On the circle the convolution integrates over all of SO(2); see network::so2.
            if self.support.is_some() {
                return Err(
                    "a group_conv on SO2 features integrates over the whole circle; \
                            `support` is not available"
                        .into(),
                );
            }
            if self.parameterization == Parameterization::Standard {
                return Err(
                    "a group_conv on SO2 features has an infinite fan-in (the whole \
                            circle); use parameterization = \"ntk\""
                        .into(),
                );
            }
        }
        let order = Lifted::order_of(&group);
        if let Some(support) = &self.support {
            if support.is_empty() {
                return Err("`support` is empty".into());
            }
            if let Some(h) = support.iter().find(|&&h| h >= order) {
                return Err(format!(
                    "`support` element {h} is not an element of the point group of {group} \
                     (elements 0..{order})"
                ));
            }
            let mut s = support.clone();
            s.sort_unstable();
            s.dedup();
            if s.len() != support.len() {
                return Err("`support` lists an element twice".into());
            }
        }
        match (&self.filter, input.grid.len()) {
            (Some(_), 0) => {
                return Err(format!(
                    "features on {group} have no positions; group_conv takes no `filter`"
                ))
            }
            (None, n) if n > 0 => {
                return Err(format!(
                    "features on {group} have positions {:?}: give a spatial `filter`, e.g. \
                     filter = [3, 3]",
                    input.grid
                ))
            }
            (Some(f), _) => {
                if f.len() != input.grid.len() || f.iter().any(|q| q % 2 == 0) || f[0] != f[1] {
                    return Err(format!(
                        "`filter` must be a square odd window like [3, 3], got {f:?}"
                    ));
                }
                if self.padding == Padding::Valid {
                    return Err("group_conv takes padding = \"circular\" or \"same\"".into());
                }
            }
            _ => {}
        }
        if self.parameterization == Parameterization::Standard && input.channels.is_none() {
            return Err(standard_needs_fan_in());
        }
        Ok(input.with_channels(self.width))
    }

    /// The tap table: output `(g, p)`, tap `(h, δ)`, source `(g h, p + A_g δ)`.
    pub fn taps(&self, input: &Shape) -> Taps {
        let group = input.lifted.expect("checked by output_shape");
        let lifted = Lifted::of(&group);
        let order = Lifted::order_of(&group);
        let support: Vec<usize> = self.support.clone().unwrap_or_else(|| (0..order).collect());
        let positions = input.positions();
        let n = input.sites();
        match (&lifted, &self.filter) {
            (Lifted::RotoTranslation(point), Some(f)) => {
                let offsets = window_offsets(f);
                let circular = self.padding == Padding::Circular;
                let nt = support.len() * offsets.len();
                Taps::from_fn(n, n, nt, |o, t| {
                    let (g, p) = (o / positions, o % positions);
                    let (h, d) = (support[t / offsets.len()], &offsets[t % offsets.len()]);
                    let (a, b) = point.act_offset(g, (d[0], d[1]));
                    let q = shift(&input.grid, p, &[a, b], circular)?;
                    Some(point.mul(g, h) * positions + q)
                })
            }
            _ => Taps::from_fn(n, n, support.len(), |g, t| Some(lifted.mul(g, support[t]))),
        }
    }

    /// The map on SO(2) features at every relative angle φ:
    /// `K'(φ) = σ_w² K(φ) + σ_b²`, `Θ'(φ) = σ_w² Θ(φ) + K'(φ)`.
    pub fn so2_map(&self) -> AffineMap {
        AffineMap {
            taps: None,
            w_var: self.w_std * self.w_std,
            b_var: self.b_std.map_or(0.0, |b| b * b),
            standard_fan_in: None,
            has_bias: self.b_std.is_some(),
        }
    }

    /// The kernel map for an input of shape `input`.
    pub fn block_map(&self, input: &Shape) -> AffineMap {
        AffineMap::from_taps(
            self.taps(input),
            self.w_std,
            self.b_std,
            self.parameterization,
            input.channels,
        )
    }
}
