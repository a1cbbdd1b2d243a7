//! Declared input domains (MATH.md §5a): what one example *is*, so that a group acts on it in one
//! way only, never guessed from the array's shape.
//!
//! MATH.md §5a: "A group acts on a *declared* input domain, never on a shape guessed from an
//! array: the same `[7, 2]` array is a 2-channel periodic signal or seven planar points, and the
//! two give different kernels."
//!
//! | domain | shape | default for | groups acting |
//! |---|---|---|---|
//! | [`Domain::Vector`] | `[D]` | `[D]` | none |
//! | [`Domain::Signal`] | `[n, C]`, periodic | `[n, C]` | `C<k>`, `D<k>`, `SO2`, `O2` |
//! | [`Domain::Points`] | `[P, 2]` (or one point `[2]`) | never: declare it | `C<k>`, `D<k>`, `SO2`, `O2` |
//! | [`Domain::Image`] | `[H, W, C]` | `[H, W, C]` | `C4`, `D4` (square, about the centre); `p4`, `p4m` (read as a torus) |
//! | [`Domain::Torus`] | `[H, H, C]` | never: declare it | `p4`, `p4m` |
//! | [`Domain::Sphere`] | `[L+1, 2L+1, C]`, band-limited | never: declare it | `O`, `Oh`, `I`, `SO3`, `O3` |
//!
//! The actions themselves are fixed once in [`crate::action::action_for`].

use crate::error::{Error, Result};
use crate::group::{GroupSpec, Rotation3Group};

/// What one input example is; the group actions follow it (MATH.md §5a).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Domain {
    /// A plain vector `[D]`: no group acts on it.
    Vector,
    /// A periodic 1-D signal `[n, C]` of `n` samples and `C` channels (sample `j` at angle
    /// `2πj/n`).
    Signal,
    /// A square image `[H, H, C]` (rotations about the centre; `[H, W, C]` with `H ≠ W` is an
    /// image no rotation acts on).
    Image,
    /// A square image `[H, H, C]` on the torus (circular translations and point-group
    /// rotations/flips about site 0).
    Torus,
    /// A planar point set `[P, 2]`: `P` points `(x, y)`, rotated as vectors (`[2]`: one point).
    Points,
    /// A band-limited signal on the sphere `[L+1, 2L+1, C]` (degrees `≤ L`), sampled on the
    /// Gauss–Legendre grid of [`crate::action::sphere`]; rotated by `(R·f)(y) = f(R⁻¹ y)`.
    Sphere,
}

impl Domain {
    /// Every domain, in the order of the table above.
    pub const ALL: [Domain; 6] = [
        Domain::Vector,
        Domain::Signal,
        Domain::Points,
        Domain::Image,
        Domain::Torus,
        Domain::Sphere,
    ];

    /// The name written in network files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Domain::Vector => "vector",
            Domain::Signal => "signal",
            Domain::Image => "image",
            Domain::Torus => "torus",
            Domain::Points => "points",
            Domain::Sphere => "sphere",
        }
    }

    /// Parses `vector`, `signal`, `image`, `torus`, `points` or `sphere`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "vector" => Ok(Domain::Vector),
            "signal" => Ok(Domain::Signal),
            "image" => Ok(Domain::Image),
            "torus" => Ok(Domain::Torus),
            "points" => Ok(Domain::Points),
            "sphere" => Ok(Domain::Sphere),
            other => Err(Error::Invalid(format!(
                "unknown input domain `{other}` (expected vector, signal, image, torus, points or \
                 sphere)"
            ))),
        }
    }

    /// The domain of an undeclared input, where the shape leaves no doubt: `[D]` is a vector,
    /// `[n, C]` a periodic signal, `[H, W, C]` an image. Point sets, tori and sphere signals are
    /// never defaulted: they must be declared.
    pub fn default_for(shape: &[usize]) -> Result<Self> {
        match shape.len() {
            1 => Ok(Domain::Vector),
            2 => Ok(Domain::Signal),
            3 => Ok(Domain::Image),
            _ => Err(Error::Shape(format!(
                "no input domain has examples of shape {shape:?} (expected [D], [n, C] or [H, W, \
                 C])"
            ))),
        }
    }

    /// Why examples of `shape` cannot belong to this domain, if they cannot.
    pub fn check_shape(self, shape: &[usize]) -> std::result::Result<(), String> {
        let ok = match (self, shape) {
            (_, s) if s.contains(&0) => false,
            (Domain::Vector, [_]) => true,
            (Domain::Signal, [_, _]) => true,
            (Domain::Image, [_, _, _]) => true,
            (Domain::Torus, [h, w, _]) => h == w,
            (Domain::Points, [2] | [_, 2] | [3] | [_, 3]) => true,
            (Domain::Sphere, [a, b, _]) => *b + 1 == 2 * *a,
            _ => false,
        };
        if ok {
            return Ok(());
        }
        if self == Domain::Sphere {
            return Err(format!(
                "domain = \"sphere\": {}",
                super::sphere::shape_error(shape)
            ));
        }
        Err(format!(
            "domain = \"{}\" needs examples of shape {}, got {shape:?}",
            self.name(),
            self.shapes()
        ))
    }

    /// The shapes of the domain's examples, as text.
    pub fn shapes(self) -> &'static str {
        match self {
            Domain::Vector => "[D]",
            Domain::Signal => "[n, C]",
            Domain::Image => "[H, W, C]",
            Domain::Torus => "[H, H, C]",
            Domain::Points => "[P, 2] or [P, 3]",
            Domain::Sphere => "[L+1, 2L+1, C]",
        }
    }

    /// The declared domain (checked against the shape), or the default for the shape.
    pub fn resolve(declared: Option<Domain>, shape: &[usize]) -> Result<Self> {
        match declared {
            Some(d) => {
                d.check_shape(shape).map_err(Error::Shape)?;
                Ok(d)
            }
            None => Self::default_for(shape),
        }
    }

    /// The groups that act on this domain, as text (for [`Error::NoAction`]).
    pub fn groups(self) -> &'static str {
        match self {
            Domain::Vector => "none",
            Domain::Signal => "C<k>, D<k>, SO2, O2",
            Domain::Points => "C<k>, D<k>, SO2, O2 on [P, 2]; O, Oh, I, SO3, O3 on [P, 3]",
            Domain::Image => "C4, D4, p4, p4m",
            Domain::Torus => "p4, p4m",
            Domain::Sphere => "O, Oh, I, SO3, O3",
        }
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A group acting on inputs: a [`GroupSpec`] (the groups of layers), or `O2` — SO(2) with the
/// reflections, a group of orbit averages and augmentations only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputGroup {
    /// `C<k>`, `D<k>`, `SO2[:L]`, `p4[:H]`, `p4m[:H]`.
    Spec(GroupSpec),
    /// `O2 = SO(2) ⋊ {1, s}`.
    O2,
    /// `SO3`, `O3`, `O`, `Oh`, `I` acting on 3-D point sets and sphere signals.
    Rotation3(Rotation3Group),
}

impl InputGroup {
    /// Parses `O2` or anything [`GroupSpec::parse`] accepts.
    pub fn parse(s: &str) -> Result<Self> {
        if s.trim() == "O2" {
            return Ok(InputGroup::O2);
        }
        if let Some(g) = Rotation3Group::from_name(s.trim()) {
            return Ok(InputGroup::Rotation3(g));
        }
        GroupSpec::parse(s)
            .map(InputGroup::Spec)
            .map_err(|e| match e {
                Error::Group(m) if m.starts_with("unknown group") => Error::Group(m.replace(
                    "(expected C<n>,",
                    "(expected O2 (orbit averages and augmentation), C<n>,",
                )),
                e => e,
            })
    }

    /// Whether the group is continuous (`SO2`, `O2`, `SO3`, `O3`).
    pub fn is_continuous(&self) -> bool {
        matches!(
            self,
            InputGroup::O2
                | InputGroup::Spec(GroupSpec::So2 { .. })
                | InputGroup::Rotation3(Rotation3Group::So3 | Rotation3Group::O3)
        )
    }
}

impl From<GroupSpec> for InputGroup {
    fn from(g: GroupSpec) -> Self {
        InputGroup::Spec(g)
    }
}

impl From<&GroupSpec> for InputGroup {
    fn from(g: &GroupSpec) -> Self {
        InputGroup::Spec(*g)
    }
}

impl From<&InputGroup> for InputGroup {
    fn from(g: &InputGroup) -> Self {
        *g
    }
}

impl std::fmt::Display for InputGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputGroup::Spec(g) => g.fmt(f),
            InputGroup::O2 => f.write_str("O2"),
            InputGroup::Rotation3(g) => g.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        assert_eq!(Domain::default_for(&[5]).unwrap(), Domain::Vector);
        assert_eq!(Domain::default_for(&[7, 2]).unwrap(), Domain::Signal);
        assert_eq!(Domain::default_for(&[4, 4, 1]).unwrap(), Domain::Image);
        assert!(Domain::default_for(&[1, 2, 3, 4]).is_err());
        assert!(Domain::Points.check_shape(&[5, 2]).is_ok());
        assert!(Domain::Points.check_shape(&[2]).is_ok());
        assert!(Domain::Points.check_shape(&[5, 3]).is_ok());
        assert!(Domain::Points
            .check_shape(&[5, 4])
            .unwrap_err()
            .contains("[P, 2] or [P, 3]"));
        assert!(Domain::Torus.check_shape(&[3, 4, 1]).is_err());
        assert!(Domain::Image.check_shape(&[3, 1]).is_err());
        for d in Domain::ALL {
            assert_eq!(Domain::parse(d.name()).unwrap(), d);
        }
        assert!(Domain::parse("ball").is_err());
        assert!(Domain::Sphere.check_shape(&[3, 5, 2]).is_ok());
        assert!(Domain::Sphere.check_shape(&[1, 1, 1]).is_ok());
        assert_eq!(
            Domain::Sphere.check_shape(&[3, 4, 1]).unwrap_err(),
            "domain = \"sphere\": a sphere signal has shape [L+1, 2L+1, C] (L ≥ 0), got [3, 4, 1]"
        );
        assert!(Domain::Sphere.check_shape(&[3, 5]).is_err());
        assert!(Domain::default_for(&[3, 5, 1]).unwrap() != Domain::Sphere);
        assert_eq!(InputGroup::parse("O2").unwrap(), InputGroup::O2);
        assert_eq!(InputGroup::parse("C3").unwrap().to_string(), "C3");
        assert_eq!(InputGroup::parse("O3").unwrap().to_string(), "O3");
        assert!(InputGroup::parse("O4").is_err());
    }
}
