//! The lifting layer: from functions on the input's sites to functions on a group
//! (MATH.md §5).
//!
//! With filter support F (offsets δ, or all sites for a full-support filter) and the point-group
//! action `A_g` on offsets,
//!
//! ```text
//! K¹[(g,p),(g',p')] = σ_w² (1/|F|) Σ_{δ∈F} K⁰[p + A_g δ, p' + A_g' δ] + σ_b²      Θ¹ = K¹
//! ```
//!
//! For groups without translations (C_n, D_n on periodic signals; C4, D4 on square images
//! rotated about their centre) there are no positions p and `p + A_g δ` reads `g·δ`, the action
//! of g on the site δ of the filter window (centred on site 0 of a signal, on the centre pixel of
//! an image). For p4 and p4m on the H×H torus, `A_g` rotates (and transposes) the offset:
//! `r·(di, dj) = (−dj, di)`, `s·(di, dj) = (dj, di)` — the orientation convention of
//! [`crate::group::PointGroup`], fixed once for the whole crate.
//!
//! **SO(2)** (`group = "SO2"`, `filter = "full"` only; first layer only) lifts planar point sets
//! `[P, 2]` and odd-length periodic signals `[n, C]` to functions on the circle. The kernel then
//! depends on the relative angle `φ = θ − θ'` only,
//! `K¹(φ)(x, x') = σ_w² k⁰(x, R_φ x') + σ_b²` with `k⁰(x, x') = x·x'/(PC)`; the layers up to the
//! `group_pool` are evaluated on an adaptive angular grid by [`crate::Network::kernel`]
//! (derivation and the aliasing estimate: [`crate::network::So2Report`] and the source of
//! `network::so2`). The grid's relative accuracy is the layer's `tol` (default 1e-12).
//!
//! The layer is a tap average (see [`Taps`]): output `(g, p)`, tap δ, source `p + A_g δ`. Its
//! finite-width form shares one weight per tap and channel pair across all `(g, p)`.

use super::affine::{standard_needs_fan_in, AffineMap, Parameterization, Weights};
use super::conv::Padding;
use super::shape::Shape;
use super::taps::Taps;
use super::{Layer, LayerKind, Registration, Sums};
use crate::action::{ImageAction, SignalAction, SiteAction};
use crate::error::Result;
use crate::finite::{FiniteBuilder, FinitePass};
use crate::group::{Cyclic, Dihedral, FiniteGroup, GroupSpec, PointGroup};
use crate::kernel::BlockMap;
use crate::symbolic::layers::{affine_defs, g, gp, p, phi, pp, Sites};
use crate::symbolic::{
    Arg, Expr, Index, IndexSet, IndexVar, KernelKind, KernelSym, LayerDefinitions,
};

/// The spatial support of a lifting filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiftFilter {
    /// Every site of the input (a full-support filter).
    Full,
    /// An odd window, one size per grid axis.
    Window(Vec<usize>),
}

/// Lifting layer (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Lift {
    /// The group: `C<n>`, `D<n>` (signals), `C4`, `D4` (images), `p4`, `p4m` (torus images),
    /// `SO2` (point sets and odd signals).
    pub group: GroupSpec,
    /// The filter's support.
    pub filter: LiftFilter,
    /// Boundary handling for p4/p4m (`circular` or `same`).
    pub padding: Padding,
    /// σ_w, σ_b, width and parameterisation.
    pub weights: Weights,
    /// SO(2) only: the relative accuracy asked of the angular grid (the aliasing estimate of
    /// the pooled kernel must fall below it); `None` for [`Lift::DEFAULT_SO2_TOL`].
    pub tol: Option<f64>,
}

/// What the layers after a lift need to know of its group: the point-group product and, for
/// roto-translation groups, the point group's action on offsets.
#[derive(Debug)]
pub enum Lifted {
    /// A group without translations (C_n, D_n, C4, D4): sites are group elements.
    Elements(Box<dyn FiniteGroup>),
    /// p4 or p4m: sites are (point-group element, position on the torus).
    RotoTranslation(PointGroup),
}

impl Lifted {
    /// The structure behind a lifted shape's group.
    pub fn of(spec: &GroupSpec) -> Self {
        match *spec {
            GroupSpec::Cyclic(n) => Lifted::Elements(Box::new(Cyclic::new(n).expect("n ≥ 1"))),
            GroupSpec::Dihedral(n) => Lifted::Elements(Box::new(Dihedral::new(n).expect("n ≥ 1"))),
            GroupSpec::P4(_) => Lifted::RotoTranslation(PointGroup::C4),
            GroupSpec::P4m(_) => Lifted::RotoTranslation(PointGroup::D4),
            GroupSpec::So2 { .. } => unreachable!("SO2 features are not lifted to sites"),
        }
    }

    /// Order of the group indexing the sites (the point group for p4/p4m).
    pub fn order_of(spec: &GroupSpec) -> usize {
        match *spec {
            GroupSpec::Cyclic(n) => n,
            GroupSpec::Dihedral(n) => 2 * n,
            GroupSpec::P4(_) => 4,
            GroupSpec::P4m(_) => 8,
            GroupSpec::So2 { .. } => 1,
        }
    }

    /// `g h` in the group indexing the sites.
    pub fn mul(&self, g: usize, h: usize) -> usize {
        match self {
            Lifted::Elements(grp) => grp.mul(g, h),
            Lifted::RotoTranslation(pg) => pg.mul(g, h),
        }
    }
}

/// `p + δ` on a grid, wrapping (circular) or `None` outside (same).
pub(crate) fn shift(grid: &[usize], p: usize, delta: &[i64], circular: bool) -> Option<usize> {
    let mut rem = p;
    let mut out = 0usize;
    let mut stride = 1usize;
    for ax in (0..grid.len()).rev() {
        let n = grid[ax] as i64;
        let i = (rem % grid[ax]) as i64 + delta[ax];
        rem /= grid[ax];
        let i = if circular {
            i.rem_euclid(n)
        } else if i < 0 || i >= n {
            return None;
        } else {
            i
        };
        out += i as usize * stride;
        stride *= grid[ax];
    }
    Some(out)
}

/// The offsets of an odd window, centred on 0, in row-major order.
pub(crate) fn window_offsets(window: &[usize]) -> Vec<Vec<i64>> {
    let mut out = vec![vec![]];
    for &q in window {
        let half = (q / 2) as i64;
        out = out
            .into_iter()
            .flat_map(|o| {
                (-half..=half).map(move |d| {
                    let mut v = o.clone();
                    v.push(d);
                    v
                })
            })
            .collect();
    }
    out
}

impl Lift {
    fn check_window(&self, grid: &[usize]) -> Result<(), String> {
        if let LiftFilter::Window(w) = &self.filter {
            if w.len() != grid.len() {
                return Err(format!(
                    "`filter` has {} axes but the input grid {grid:?} has {}",
                    w.len(),
                    grid.len()
                ));
            }
            if let Some(q) = w.iter().find(|&&q| q % 2 == 0) {
                return Err(format!("`filter` sizes must be odd, got {q}"));
            }
            if w.iter().zip(grid).any(|(q, n)| q > n) {
                return Err(format!(
                    "`filter` {w:?} is larger than the input grid {grid:?}"
                ));
            }
            if grid.len() == 2 && w[0] != w[1] {
                return Err(format!(
                    "a lifting filter must be square so that the point group maps it to itself, \
                     got {w:?}"
                ));
            }
        }
        Ok(())
    }

    /// The output shape, or why the group cannot act on this input.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        if let Some(g) = input.lifted {
            return Err(format!("the features are already lifted to {g}"));
        }
        if self.weights.parameterization == Parameterization::Standard && input.channels.is_none() {
            return Err(standard_needs_fan_in());
        }
        let grid = &input.grid;
        let (lifted, out_grid) = match self.group {
            GroupSpec::Cyclic(_) | GroupSpec::Dihedral(_) => {
                if self.padding != Padding::Circular {
                    return Err(format!(
                        "`padding`: {} moves sites around the whole input (a circle or \
                         torus); its lifting needs padding = \"circular\"",
                        self.group
                    ));
                }
                self.site_action(grid)
                    .map_err(|e| format!("`group`: {e}"))?;
                self.check_window(grid)?;
                if let (2, LiftFilter::Window(_)) = (grid.len(), &self.filter) {
                    if grid[0] % 2 == 0 {
                        return Err(format!(
                            "a local lifting filter for {} on images needs an odd side (a \
                             centre pixel to rotate about); use filter = \"full\"",
                            self.group
                        ));
                    }
                }
                (self.group, vec![])
            }
            GroupSpec::P4(h) | GroupSpec::P4m(h) => {
                match grid.as_slice() {
                    [a, b] if a == b => {}
                    _ => {
                        return Err(format!(
                            "`group`: {} acts on square images [H, H, C], got grid {grid:?}",
                            self.group
                        ))
                    }
                }
                if let Some(h) = h.filter(|&h| h != grid[0]) {
                    return Err(format!(
                        "`group`: {} acts on {h}×{h} images, got {}×{}",
                        self.group, grid[0], grid[0]
                    ));
                }
                if self.padding == Padding::Valid {
                    return Err("lift takes padding = \"circular\" or \"same\"".into());
                }
                if self.filter == LiftFilter::Full && self.padding != Padding::Circular {
                    return Err(
                        "a full-support filter on the torus needs padding = \"circular\"".into(),
                    );
                }
                self.check_window(grid)?;
                let spec = match self.group {
                    GroupSpec::P4(_) => GroupSpec::P4(Some(grid[0])),
                    _ => GroupSpec::P4m(Some(grid[0])),
                };
                (spec, grid.clone())
            }
            GroupSpec::So2 { band_limit } => {
                self.check_so2(grid, input.channels, band_limit)?;
                (self.group, vec![])
            }
        };
        if self.tol.is_some() && !matches!(self.group, GroupSpec::So2 { .. }) {
            return Err(format!(
                "`tol` sets the accuracy of the SO2 angular grid; {} needs none",
                self.group
            ));
        }
        Ok(Shape {
            grid: out_grid,
            channels: self.weights.width,
            lifted: Some(lifted),
        })
    }

    /// The relative accuracy of the SO(2) angular grid: `tol`, or [`Lift::DEFAULT_SO2_TOL`].
    pub fn so2_tol(&self) -> f64 {
        self.tol.unwrap_or(Self::DEFAULT_SO2_TOL)
    }

    /// The default relative accuracy of the SO(2) angular grid.
    pub const DEFAULT_SO2_TOL: f64 = 1e-12;

    /// Why an SO(2) lifting does not fit its input, if it does not.
    ///
    /// SO(2) acts on planar point sets `[P, 2]` (and a single point `[2]`) by rotating every
    /// point, and on odd-length periodic signals `[n, C]` by band-limited phase rotation; which
    /// of the two is the network's declared input domain ([`crate::Network::domain`]), checked
    /// against [`crate::action::action_for`] when the network is built. Here: the shapes either
    /// could have.
    fn check_so2(
        &self,
        grid: &[usize],
        channels: Option<usize>,
        band_limit: Option<usize>,
    ) -> Result<(), String> {
        if band_limit.is_some() {
            return Err(format!(
                "an SO2 lifting takes no band limit (got {}): the angular grid is refined until \
                 the kernel reaches `tol`; write group = \"SO2\"",
                self.group
            ));
        }
        if self.filter != LiftFilter::Full {
            return Err(
                "an SO2 lifting needs filter = \"full\": a local window is not mapped to \
                 itself by rotations through arbitrary angles"
                    .into(),
            );
        }
        if self.padding != Padding::Circular {
            return Err("an SO2 lifting takes padding = \"circular\" (the default)".into());
        }
        if self.weights.parameterization == Parameterization::Standard && channels.is_none() {
            return Err(standard_needs_fan_in());
        }
        match (grid, channels) {
            ([], Some(2)) | ([_], Some(2)) => {}
            ([n], _) if n % 2 == 1 => {}
            ([n], _) => {
                return Err(format!(
                    "SO2 rotates periodic signals by band-limited phase rotation, which needs an \
                     odd length; got a signal of even length {n}"
                ))
            }
            _ => {
                let shape: Vec<usize> = grid.iter().copied().chain(channels).collect();
                return Err(format!(
                    "SO2 acts on planar point sets [P, 2] and on odd-length periodic signals \
                     [n, C], got input shape {shape:?}"
                ));
            }
        }
        if let Some(t) = self.tol {
            if !(t > 0.0 && t < 1.0) {
                return Err(format!("`tol` must lie in (0, 1), got {t}"));
            }
        }
        Ok(())
    }

    /// The SO(2) lifting's kernel map on the angular grid, applied to the input kernel
    /// `k⁰(φ) = k⁰(x, R_φ x')` (with `Θ⁰ = 0`) at every angle φ:
    ///
    /// ```text
    /// K¹(φ) = σ_w² k⁰(φ) + σ_b²        Θ¹(φ) = K¹(φ)   (standard: n·k⁰(φ) + [bias])
    /// ```
    ///
    /// with `n = P·C` the fan-in of the full filter (every site and channel).
    pub fn so2_map(&self, input: &Shape) -> AffineMap {
        self.weights.map(None, input.positions(), input.channels)
    }

    /// The action of a group without translations on the input sites.
    fn site_action(&self, grid: &[usize]) -> crate::Result<Box<dyn SiteAction>> {
        let err = |m: String| crate::Error::Group(m);
        match (self.group, grid) {
            (GroupSpec::Cyclic(4), [h, w]) if h == w => {
                Ok(Box::new(ImageAction::new(PointGroup::C4, *h)?))
            }
            (GroupSpec::Dihedral(4), [h, w]) if h == w => {
                Ok(Box::new(ImageAction::new(PointGroup::D4, *h)?))
            }
            (GroupSpec::Cyclic(k), [n]) => Ok(Box::new(SignalAction::cyclic(k, *n)?)),
            (GroupSpec::Dihedral(k), [n]) => Ok(Box::new(SignalAction::dihedral(k, *n)?)),
            (g, []) => Err(err(format!(
                "{g} cannot act on a vector input; it acts on periodic signals [n, C] (C4 and \
                 D4 also on square images [H, H, C])"
            ))),
            (g, _) => Err(err(format!(
                "{g} cannot act on an input grid {grid:?}: C<n>/D<n> act on periodic signals \
                 [n, C], C4/D4 on square images [H, H, C]"
            ))),
        }
    }

    /// The tap table on an input grid accepted by [`Lift::output_shape`].
    pub fn taps(&self, input: &Shape) -> Taps {
        let grid = &input.grid;
        let n_in = input.sites();
        match self.group {
            GroupSpec::P4(_) | GroupSpec::P4m(_) => {
                let point = match self.group {
                    GroupSpec::P4(_) => PointGroup::C4,
                    _ => PointGroup::D4,
                };
                let offsets: Vec<Vec<i64>> = match &self.filter {
                    LiftFilter::Window(w) => window_offsets(w),
                    // Every offset of the torus once.
                    LiftFilter::Full => (0..grid[0] as i64)
                        .flat_map(|a| (0..grid[1] as i64).map(move |b| vec![a, b]))
                        .collect(),
                };
                let p_count = n_in;
                let circular = self.padding == Padding::Circular;
                Taps::from_fn(n_in, point.order() * p_count, offsets.len(), |o, t| {
                    let (g, p) = (o / p_count, o % p_count);
                    let (a, b) = point.act_offset(g, (offsets[t][0], offsets[t][1]));
                    shift(grid, p, &[a, b], circular)
                })
            }
            _ => {
                let action = self.site_action(grid).expect("checked by output_shape");
                let filter_sites: Vec<usize> = match &self.filter {
                    LiftFilter::Full => (0..n_in).collect(),
                    LiftFilter::Window(w) => {
                        // The window around site 0 of a signal, or the centre pixel of an image.
                        let centre: Vec<i64> = grid
                            .iter()
                            .map(|&n| if grid.len() == 1 { 0 } else { (n / 2) as i64 })
                            .collect();
                        let origin = shift(grid, 0, &centre, true).expect("inside");
                        window_offsets(w)
                            .iter()
                            .map(|d| shift(grid, origin, d, true).expect("circular"))
                            .collect()
                    }
                };
                let order = action.group().order();
                Taps::from_fn(n_in, order, filter_sites.len(), |g, t| {
                    Some(action.act(g, filter_sites[t]))
                })
            }
        }
    }

    /// The kernel map for an input of shape `input`.
    pub fn map(&self, input: &Shape) -> AffineMap {
        let taps = self.taps(input);
        let q = taps.n_taps();
        self.weights.map(Some(taps), q, input.channels)
    }

    /// How the lifted features are indexed.
    fn out_sites(&self) -> Sites {
        match self.group {
            GroupSpec::So2 { .. } => Sites::So2,
            GroupSpec::P4(_) | GroupSpec::P4m(_) => Sites::GroupGrid,
            _ => Sites::Group,
        }
    }
}

pub(super) const REGISTRATION: Registration = Registration {
    kinds: &["lift"],
    parse: |_, mut k| {
        let group = match k.str_opt("group")? {
            Some(g) => GroupSpec::parse(&g).map_err(|e| k.key_err("group", e))?,
            None => return Err(k.key_err("group", "missing key `group` (e.g. group = \"p4\")")),
        };
        let filter = match k.take("filter") {
            None => {
                return Err(k.key_err("filter", "missing key `filter` (\"full\" or e.g. [3, 3])"))
            }
            Some(toml::Value::String(s)) if s == "full" => LiftFilter::Full,
            Some(v) => {
                k.put_back("filter", v);
                LiftFilter::Window(k.usize_list("filter")?.unwrap_or_default())
            }
        };
        let padding = Padding::parse(&mut k)?;
        let weights = Weights::parse(&mut k)?;
        let tol = k.f64_opt("tol")?;
        k.finish(&[
            "group",
            "filter",
            "padding",
            "w_std",
            "b_std",
            "width",
            "parameterization",
            "tol",
        ])?;
        Ok(Layer::new(Lift {
            group,
            filter,
            padding,
            weights,
            tol,
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

impl LayerKind for Lift {
    fn sums(&self, _input: &Shape) -> Sums<'_> {
        Sums::Lift(self)
    }

    fn as_lift(&self) -> Option<&Lift> {
        Some(self)
    }

    fn so2_discretised(&self, _angles: usize) -> Option<Layer> {
        // The lift onto C_N: a dense layer on the N stacked rotations of the input.
        Some(Layer::new(super::Dense {
            weights: self.weights,
        }))
    }

    fn kind(&self) -> &'static str {
        "lift"
    }

    fn output_shape(&self, input: &Shape) -> Result<Shape, String> {
        Lift::output_shape(self, input)
    }

    fn block_map<'a>(&'a self, input: &Shape) -> Option<Box<dyn BlockMap + 'a>> {
        Some(Box::new(self.map(input)))
    }

    fn weights(&self) -> Option<&Weights> {
        Some(&self.weights)
    }

    fn fan_in(&self, input: &Shape) -> Option<usize> {
        let taps = match (&self.filter, self.group) {
            (_, GroupSpec::So2 { .. }) | (LiftFilter::Full, _) => input.positions(),
            (LiftFilter::Window(w), _) => w.iter().product(),
        };
        Some(input.channels.unwrap_or(0) * taps)
    }

    fn lifts_to(&self) -> Option<GroupSpec> {
        Some(self.group)
    }

    /// The lifting (MATH.md §5): `σ² (1/|F|) Σ_{δ∈F} M⁽ˡ⁻¹⁾[s(g,δ), s(g′,δ)]` with
    /// `s(g,δ) = A_g δ` (no translations: `g` acting on the filter site δ) or `p + A_g δ`
    /// (roto-translations); for SO(2) the full-support average at the rotated argument.
    fn derive(&self, l: usize, input: &Shape) -> LayerDefinitions {
        let out = self.out_sites();
        let d = IndexVar::delta;
        let avg = |kind: KernelKind| -> Expr {
            let m = KernelSym::new(kind, l - 1);
            let m = match out {
                Sites::So2 if input.grid.is_empty() => {
                    return m
                        .with_args(Arg::x(), Arg::x_prime().transformed(phi()))
                        .into()
                }
                Sites::So2 => m
                    .at(Index::from(d()), Index::from(d()))
                    .with_args(Arg::x(), Arg::x_prime().transformed(phi())),
                Sites::GroupGrid => m.at(p() + Index::act(g(), d()), pp() + Index::act(gp(), d())),
                _ => m.at(Index::act(g(), d()), Index::act(gp(), d())),
            };
            Expr::mean(d(), IndexSet::Filter, m.into())
        };
        let filter = match &self.filter {
            LiftFilter::Full => "F = Ω (full support)".to_string(),
            LiftFilter::Window(w) => {
                let w: Vec<String> = w.iter().map(|q| q.to_string()).collect();
                format!("F = {} window", w.join("x"))
            }
        };
        let how = match out {
            Sites::So2 => ", φ = θ − θ′ the relative angle".to_string(),
            Sites::GroupGrid => format!(", {} padding", self.padding.name()),
            _ => ", A_g δ = g·δ".to_string(),
        };
        let note = format!("lift to {}, {filter}{how}", self.group);
        affine_defs(l, &self.weights, out, avg, note)
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
