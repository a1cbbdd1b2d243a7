//! Group names as written by users: `C8`, `D4`, `SO2`, `SO2:6`, `p4`, `p4:5`, `p4m:5`, and the
//! 3-D rotation groups `SO3`, `O3`, `O`, `Oh`, `I` ([`Rotation3Group`], read with [`GroupName`]).

use super::{Cyclic, Dihedral, FiniteGroup, Polyhedral, PolyhedralKind, RotoTranslation, So2};
use crate::budget;
use crate::error::{Error, Result};

/// A group named by a user.
///
/// Grammar (case-sensitive, as in the papers): `C<n>` and `D<n>` (`n ≥ 1`), `SO2` or `SO2:<L>`
/// (band limit `L`, default [`So2::DEFAULT_BAND_LIMIT`]), `p4` / `p4m` optionally followed by
/// `:<H>` (the torus side; without it the side comes from the image the group acts on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupSpec {
    /// `C<n>`.
    Cyclic(usize),
    /// `D<n>` (order 2n).
    Dihedral(usize),
    /// `SO2[:L]`.
    So2 {
        /// The band limit `L`, if given.
        band_limit: Option<usize>,
    },
    /// `p4[:H]`.
    P4(Option<usize>),
    /// `p4m[:H]`.
    P4m(Option<usize>),
}

fn number(s: &str, whole: &str) -> Result<usize> {
    s.parse::<usize>().map_err(|_| {
        Error::Group(format!(
            "unknown group `{whole}` (expected C<n>, D<n>, SO2[:L], p4[:H] or p4m[:H])"
        ))
    })
}

impl GroupSpec {
    /// Parse a group name.
    ///
    /// The 3-D rotation groups (`SO3`, `O3`, `O`, `Oh`, `I`) are named by [`GroupName`]; here
    /// they are a one-line error, since layers, orbits and augmentation do not take them yet.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some(g) = Rotation3Group::from_name(s) {
            return Err(Error::Group(format!(
                "{g} is a 3-D rotation group: it is not supported for layers, orbit averages or \
                 augmentation yet (only `eqntk group table|decompose|check {g}`)"
            )));
        }
        let unknown = || {
            Error::Group(format!(
                "unknown group `{s}` (expected C<n>, D<n>, SO2[:L], p4[:H] or p4m[:H])"
            ))
        };
        let spec = if let Some(rest) = s.strip_prefix("SO2") {
            match rest.strip_prefix(':') {
                None if rest.is_empty() => GroupSpec::So2 { band_limit: None },
                Some(l) => GroupSpec::So2 {
                    band_limit: Some(number(l, s)?),
                },
                None => return Err(unknown()),
            }
        } else if let Some(rest) = s.strip_prefix("p4m") {
            GroupSpec::P4m(Self::side(rest, s)?)
        } else if let Some(rest) = s.strip_prefix("p4") {
            GroupSpec::P4(Self::side(rest, s)?)
        } else if let Some(n) = s.strip_prefix('C') {
            GroupSpec::Cyclic(number(n, s)?)
        } else if let Some(n) = s.strip_prefix('D') {
            GroupSpec::Dihedral(number(n, s)?)
        } else {
            return Err(unknown());
        };
        if let Some(order) = spec.order(None) {
            if order > budget::MAX_GROUP_ORDER {
                return Err(budget::too_large(
                    &format!("the order of {s}"),
                    order,
                    budget::MAX_GROUP_ORDER,
                ));
            }
        }
        if let GroupSpec::So2 {
            band_limit: Some(l),
        } = spec
        {
            budget::at_most(&format!("the band limit of {s}"), l, budget::MAX_BAND_LIMIT)?;
        }
        match spec {
            GroupSpec::Cyclic(0) | GroupSpec::Dihedral(0) => {
                Err(Error::Group(format!("{s} is not a group: n must be ≥ 1")))
            }
            GroupSpec::P4(Some(0)) | GroupSpec::P4m(Some(0)) => {
                Err(Error::Group(format!("{s}: the torus side H must be ≥ 1")))
            }
            _ => Ok(spec),
        }
    }

    fn side(rest: &str, whole: &str) -> Result<Option<usize>> {
        if rest.is_empty() {
            Ok(None)
        } else if let Some(h) = rest.strip_prefix(':') {
            Ok(Some(number(h, whole)?))
        } else {
            Err(Error::Group(format!(
                "unknown group `{whole}` (expected C<n>, D<n>, SO2[:L], p4[:H] or p4m[:H])"
            )))
        }
    }

    /// The order |G| of the finite group named (`side` supplies a missing torus side), saturating
    /// instead of overflowing; `None` for SO2 and for `p4`/`p4m` without a side.
    pub fn order(&self, side: Option<usize>) -> Option<usize> {
        match *self {
            GroupSpec::Cyclic(n) => Some(n),
            GroupSpec::Dihedral(n) => Some(n.saturating_mul(2)),
            GroupSpec::P4(h) => h.or(side).map(|h| h.saturating_mul(h).saturating_mul(4)),
            GroupSpec::P4m(h) => h.or(side).map(|h| h.saturating_mul(h).saturating_mul(8)),
            GroupSpec::So2 { .. } => None,
        }
    }

    /// The finite group named, with `side` supplying a missing torus side for `p4`/`p4m`.
    ///
    /// `SO2` is not finite and is an error here; so is `p4`/`p4m` without any side.
    pub fn finite_group(&self, side: Option<usize>) -> Result<Box<dyn FiniteGroup>> {
        let need_side = |h: Option<usize>, name: &str| {
            h.or(side).ok_or_else(|| {
                Error::Group(format!(
                    "{name} needs a torus side: write {name}:<H>, e.g. {name}:3"
                ))
            })
        };
        if let Some(order) = self.order(side) {
            if order > budget::MAX_GROUP_ORDER {
                return Err(budget::too_large(
                    &format!("the order of {self} on this input"),
                    order,
                    budget::MAX_GROUP_ORDER,
                ));
            }
        }
        Ok(match *self {
            GroupSpec::Cyclic(n) => Box::new(Cyclic::new(n)?),
            GroupSpec::Dihedral(n) => Box::new(Dihedral::new(n)?),
            GroupSpec::P4(h) => Box::new(RotoTranslation::p4(need_side(h, "p4")?)?),
            GroupSpec::P4m(h) => Box::new(RotoTranslation::p4m(need_side(h, "p4m")?)?),
            GroupSpec::So2 { .. } => {
                return Err(Error::Group(
                    "SO2 is a continuous group; this needs a finite group (use C<n> for its \
                     quadrature subgroups)"
                        .into(),
                ))
            }
        })
    }

    /// The SO(2) value named, if this is `SO2[:L]`.
    pub fn so2(&self) -> Option<So2> {
        match *self {
            GroupSpec::So2 { band_limit } => {
                Some(So2::new(band_limit.unwrap_or(So2::DEFAULT_BAND_LIMIT)))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for GroupSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupSpec::Cyclic(n) => write!(f, "C{n}"),
            GroupSpec::Dihedral(n) => write!(f, "D{n}"),
            GroupSpec::So2 { band_limit: None } => write!(f, "SO2"),
            GroupSpec::So2 {
                band_limit: Some(l),
            } => write!(f, "SO2:{l}"),
            GroupSpec::P4(None) => write!(f, "p4"),
            GroupSpec::P4(Some(h)) => write!(f, "p4:{h}"),
            GroupSpec::P4m(None) => write!(f, "p4m"),
            GroupSpec::P4m(Some(h)) => write!(f, "p4m:{h}"),
        }
    }
}

/// The 3-D rotation groups: SO(3), O(3) and the finite `O`, `Oh`, `I`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rotation3Group {
    /// `SO3`: all rotations of ℝ³.
    So3,
    /// `O3`: rotations and rotations times the inversion −I.
    O3,
    /// `O`, `Oh`, `I`.
    Polyhedral(PolyhedralKind),
}

impl Rotation3Group {
    /// `SO3`, `O3`, `O`, `Oh` or `I` (exact, case-sensitive); `None` for anything else.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "SO3" => Rotation3Group::So3,
            "O3" => Rotation3Group::O3,
            "O" => Rotation3Group::Polyhedral(PolyhedralKind::Octahedral),
            "Oh" => Rotation3Group::Polyhedral(PolyhedralKind::FullOctahedral),
            "I" => Rotation3Group::Polyhedral(PolyhedralKind::Icosahedral),
            _ => return None,
        })
    }
    /// The order of a finite group, `None` for SO3 and O3.
    pub fn order(&self) -> Option<usize> {
        match self {
            Rotation3Group::Polyhedral(k) => Some(k.order()),
            _ => None,
        }
    }
    /// True when the group contains the inversion −I (O3, Oh).
    pub fn has_inversion(&self) -> bool {
        matches!(
            self,
            Rotation3Group::O3 | Rotation3Group::Polyhedral(PolyhedralKind::FullOctahedral)
        )
    }
    /// The finite group, or an error for SO3 / O3.
    pub fn finite_group(&self) -> Result<Polyhedral> {
        match self {
            Rotation3Group::Polyhedral(k) => Polyhedral::new(*k),
            g => Err(Error::Group(format!(
                "{g} is a continuous group; this needs a finite group (O, Oh or I)"
            ))),
        }
    }
}

impl std::fmt::Display for Rotation3Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rotation3Group::So3 => f.write_str("SO3"),
            Rotation3Group::O3 => f.write_str("O3"),
            Rotation3Group::Polyhedral(k) => f.write_str(k.name()),
        }
    }
}

/// Any group name: a planar [`GroupSpec`] or a [`Rotation3Group`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupName {
    /// `C<n>`, `D<n>`, `SO2[:L]`, `p4[:H]`, `p4m[:H]`.
    Planar(GroupSpec),
    /// `SO3`, `O3`, `O`, `Oh`, `I`.
    Rotation3(Rotation3Group),
}

impl GroupName {
    /// Parse any group name; unknown names are a one-line error listing the grammar.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if let Some(g) = Rotation3Group::from_name(t) {
            return Ok(GroupName::Rotation3(g));
        }
        GroupSpec::parse(t)
            .map(GroupName::Planar)
            .map_err(|e| match e {
                Error::Group(m) if m.starts_with("unknown group") => Error::Group(format!(
                    "unknown group `{t}` (expected C<n>, D<n>, SO2[:L], p4[:H], p4m[:H], SO3, O3, \
                 O, Oh or I)"
                )),
                e => e,
            })
    }
}

impl std::fmt::Display for GroupName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupName::Planar(g) => g.fmt(f),
            GroupName::Rotation3(g) => g.fmt(f),
        }
    }
}
