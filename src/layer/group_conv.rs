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

use super::affine::{AffineMap, Parameterization, Weights};
use super::conv::Padding;
use super::lift::{shift, window_offsets, Lifted};
use super::reduced::{group_conv_step, ReducedStep};
use super::shape::Shape;
use super::taps::Taps;
use super::{Layer, LayerKind, Registration, Sums};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass};
use crate::group::GroupSpec;
use crate::kernel::BlockMap;
use crate::symbolic::layers::{affine_defs, delta, g, gp, h, p, pp, site_sym, Sites};
use crate::symbolic::{Expr, Index, IndexSet, IndexVar, KernelKind, KernelSym, LayerDefinitions};

/// Group convolution (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupConv {
    /// Spatial filter for p4/p4m (odd, square); `None` for groups without translations.
    pub filter: Option<Vec<usize>>,
    /// Point-group elements `h` summed over; `None` for all.
    pub support: Option<Vec<usize>>,
    /// Boundary handling for p4/p4m (`circular` or `same`).
    pub padding: Padding,
    /// σ_w, σ_b, width and parameterisation.
    pub weights: Weights,
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
            if self.weights.parameterization == Parameterization::Standard {
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
        self.weights.check_fan_in(input)?;
        Ok(input.with_channels(self.weights.width))
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
        // NTK parameterisation only (checked by output_shape): no fan-in enters.
        self.weights.map(None, 1, None)
    }

    /// The kernel map for an input of shape `input`.
    pub fn map(&self, input: &Shape) -> AffineMap {
        let taps = self.taps(input);
        let q = taps.n_taps();
        self.weights.map(Some(taps), q, input.channels)
    }
}

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["group_conv"],
    parse: |_, mut k| {
        let support = match k.take("support") {
            None => None,
            Some(toml::Value::Array(a)) if !a.is_empty() => Some(
                a.iter()
                    .map(|v| match v {
                        toml::Value::Integer(i) if *i >= 0 => Ok(*i as usize),
                        _ => Err(k.key_err(
                            "support",
                            "`support` must be a list of point-group element indices (0 = identity)",
                        )),
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            Some(_) => {
                return Err(k.key_err(
                    "support",
                    "`support` must be a non-empty list of point-group element indices",
                ))
            }
        };
        let filter = k.usize_list("filter")?;
        let padding = Padding::parse(&mut k)?;
        let weights = Weights::parse(&mut k)?;
        k.finish(&[
            "filter",
            "support",
            "padding",
            "w_std",
            "b_std",
            "width",
            "parameterization",
        ])?;
        Ok(Layer::new(GroupConv {
            filter,
            support,
            padding,
            weights,
        }))
    },
    example: |_| {
        "[input]\nshape = [3, 3, 1]\n\n[[layers]]\nkind = \"lift\"\ngroup = \"C4\"\n\
         filter = [3, 3]\nw_std = 1.3\nb_std = 0.1\n\n[[layers]]\nkind = \"relu\"\n\n\
         [[layers]]\nkind = \"group_conv\"\nw_std = 1.2\nb_std = 0.1\n\n[[layers]]\n\
         kind = \"relu\"\n\n[[layers]]\nkind = \"group_pool\"\n\n[[layers]]\n\
         kind = \"dense\"\nw_std = 1.1\n"
            .into()
    },
};

impl LayerKind for GroupConv {
    fn sums(&self, _input: &Shape) -> Sums<'_> {
        Sums::GroupWindow {
            offsets: self.filter.as_ref().map_or(vec![], |f| window_offsets(f)),
            padding: self.padding,
            support: self.support.clone(),
        }
    }

    fn reduced_step(&self, input: &Shape, group: &GroupSpec) -> ReducedStep<'_> {
        group_conv_step(self, input, group)
    }

    fn keeps_right_invariance(&self) -> bool {
        true
    }

    fn so2_map<'a>(&'a self, _input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(GroupConv::so2_map(self)))
    }

    fn so2_discretised(&self, angles: usize) -> Option<Layer> {
        // On C_N a group convolution with every tap is a circular convolution of N taps.
        Some(Layer::new(super::Conv {
            filter: vec![angles],
            padding: Padding::Circular,
            stride: vec![],
            weights: self.weights,
        }))
    }

    fn kind(&self) -> &'static str {
        "group_conv"
    }

    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        GroupConv::output_shape(self, input)
    }

    fn block_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(self.map(input)))
    }

    fn weights(&self) -> Option<&Weights> {
        Some(&self.weights)
    }

    fn fan_in(&self, input: &Shape) -> Option<usize> {
        let order = input.lifted.map_or(1, |g| Lifted::order_of(&g));
        let h = self.support.as_ref().map_or(order, |s| s.len());
        let f: usize = self.filter.as_ref().map_or(1, |f| f.iter().product());
        Some(input.channels.unwrap_or(0) * h * f)
    }

    /// The group convolution (MATH.md §5): `(1/(|H| |F|)) Σ_{h∈H} Σ_{δ∈F} M[(g h, p + A_g δ),
    /// (g′ h, p′ + A_g′ δ)]`, without the spatial part when there are no positions; on SO(2)
    /// the integral over the whole circle of a function of `θ − θ′` is that function itself.
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let sites = Sites::of(input);
        let avg = |kind: KernelKind| -> Expr {
            let m = KernelSym::new(kind, l - 1);
            match sites {
                Sites::GroupGrid => Expr::mean(
                    IndexVar::h(),
                    IndexSet::Support,
                    Expr::mean(
                        IndexVar::delta(),
                        IndexSet::Filter,
                        m.at(
                            Index::pair(g() * h(), p() + Index::act(g(), delta())),
                            Index::pair(gp() * h(), pp() + Index::act(gp(), delta())),
                        )
                        .into(),
                    ),
                ),
                Sites::So2 => site_sym(kind, l - 1, sites).into(),
                _ => Expr::mean(
                    IndexVar::h(),
                    IndexSet::Support,
                    m.at(g() * h(), gp() * h()).into(),
                ),
            }
        };
        let support = match &self.support {
            None => "H = G".to_string(),
            Some(s) => {
                let s: Vec<String> = s.iter().map(|h| h.to_string()).collect();
                format!("H = {{{}}}", s.join(", "))
            }
        };
        let note = match (sites, &self.filter) {
            (Sites::So2, _) => "group_conv over the whole circle".to_string(),
            (_, Some(f)) => {
                let f: Vec<String> = f.iter().map(|q| q.to_string()).collect();
                format!(
                    "group_conv, {support}, F = {} window, {} padding",
                    f.join("x"),
                    self.padding.name()
                )
            }
            _ => format!("group_conv, {support}"),
        };
        affine_defs(l, &self.weights, sites, avg, note)
    }

    fn finite_pass(
        &self,
        input: &Shape,
        builder: &mut FiniteBuilder,
    ) -> Result<(Box<dyn FinitePass>, usize)> {
        let taps = self.taps(input);
        let q = taps.n_taps();
        Ok(self.weights.finite_pass(Some(taps), q, builder))
    }
}
