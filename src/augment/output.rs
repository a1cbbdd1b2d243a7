//! How targets transform when their inputs are transformed: `y ↦ ρ_Y(g) y`.

use faer::{Mat, MatRef};

use super::augmentation::{FiniteAugmentation, RotationKind};
use crate::error::{Error, Result};
use crate::rep::rotation_matrix;

/// The output representation `ρ_Y` of an augmentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputTransform {
    /// `ρ_Y(g) = I_O`: invariant targets (the default).
    #[default]
    Invariant,
    /// `ρ_Y = ρ_X`: each target row is an example of the input's own shape, flattened
    /// (`O = Π shape`), transformed like the input (signal-to-signal or image-to-image maps).
    Input,
    /// Vector targets rotating with the input, for rotation groups only: `ρ_Y(θ) = R(θ)` on 2-D
    /// targets (`O = 2`) under `C<k>` (element `j` is `θ = 2πj/k`) and SO(2); `ρ_Y(g) = M_g`,
    /// the 3×3 orthogonal matrix itself, on 3-D targets (`O = 3`) under `O`, `Oh`, `I` — polar
    /// vectors (forces, dipoles), so the inversion `−I` of `Oh` maps `y ↦ −y`.
    Vector,
}

impl OutputTransform {
    /// Parses `invariant`, `input` or `vector`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "invariant" => Ok(Self::Invariant),
            "input" => Ok(Self::Input),
            "vector" => Ok(Self::Vector),
            other => Err(Error::Invalid(format!(
                "unknown target transformation `{other}` (expected invariant, input or vector)"
            ))),
        }
    }

    /// `ρ_Y(g)` for every element of a finite augmentation, `O × O` each.
    ///
    /// Errors when `O` does not fit (`Input` needs `O = Π shape`, `Vector` needs `O = 2`) or the
    /// group has no rotation angle (`Vector` on a group other than `C<k>`).
    pub fn matrices(self, aug: &FiniteAugmentation, o: usize) -> Result<Vec<Mat<f64>>> {
        let e: usize = aug.shape().iter().product();
        if self == OutputTransform::Vector && aug.is_3d() {
            if o != 3 {
                return Err(Error::Shape(format!(
                    "vector targets rotating under {} on {} inputs need 3 outputs, got {o}",
                    aug.name(),
                    aug.domain_name()
                )));
            }
        } else {
            self.check(
                o,
                e,
                &format!(
                    "the planar group {} on {} inputs",
                    aug.name(),
                    aug.domain_name()
                ),
            )?;
        }
        (0..aug.order())
            .map(|g| match self {
                OutputTransform::Invariant => Ok(Mat::identity(o, o)),
                OutputTransform::Input => aug.input_matrix(g),
                OutputTransform::Vector if aug.is_3d() => {
                    let m = aug.matrix3(g).expect("element of a 3-D group").0;
                    Ok(Mat::from_fn(3, 3, |i, j| m[i][j]))
                }
                OutputTransform::Vector => aug.angle(g).map(rotation_matrix).ok_or_else(|| {
                    Error::Group(format!(
                        "vector targets rotate with the input, but {} is not a rotation \
                             group (C<k>, SO2, O, Oh or I)",
                        aug.name()
                    ))
                }),
            })
            .collect()
    }

    /// `ρ_Y(θ)` for a rotation by `θ` of examples of `shape` under SO(2).
    pub fn so2_matrix(
        self,
        kind: RotationKind,
        shape: &[usize],
        o: usize,
        theta: f64,
    ) -> Result<Mat<f64>> {
        let e: usize = shape.iter().product();
        self.check(o, e, "SO2")?;
        Ok(match self {
            OutputTransform::Invariant => Mat::identity(o, o),
            OutputTransform::Vector => rotation_matrix(theta),
            OutputTransform::Input => {
                let mut m = Mat::zeros(e, e);
                let mut unit = vec![0.0; e];
                for j in 0..e {
                    unit[j] = 1.0;
                    let col = kind.rotate(&unit, shape, theta)?;
                    unit[j] = 0.0;
                    for (i, v) in col.into_iter().enumerate() {
                        m[(i, j)] = v;
                    }
                }
                m
            }
        })
    }

    fn check(self, o: usize, e: usize, group: &str) -> Result<()> {
        match self {
            OutputTransform::Input if o != e => Err(Error::Shape(format!(
                "targets that transform like the input need {e} outputs (one per input value), \
                 got {o}"
            ))),
            OutputTransform::Vector if o != 2 => Err(Error::Shape(format!(
                "vector targets rotating under {group} need 2 outputs, got {o}"
            ))),
            _ => Ok(()),
        }
    }
}

/// The augmented targets, group-major like [`FiniteAugmentation::augment_batch`]: row `g·N + i`
/// is `(ρ_Y(g) y_i)ᵀ`, i.e. the block of group element `g` is `Y ρ_Y(g)ᵀ`.
pub(crate) fn augment_targets(y: MatRef<f64>, rho_y: &[Mat<f64>]) -> Result<Mat<f64>> {
    let (n, o) = (y.nrows(), y.ncols());
    if let Some(r) = rho_y.iter().find(|r| r.nrows() != o || r.ncols() != o) {
        return Err(Error::Shape(format!(
            "ρ_Y(g) is {}×{} but the targets have {o} outputs",
            r.nrows(),
            r.ncols()
        )));
    }
    let mut out = Mat::zeros(rho_y.len() * n, o);
    for (g, r) in rho_y.iter().enumerate() {
        let block = y * r.transpose();
        for i in 0..n {
            for c in 0..o {
                out[(g * n + i, c)] = block[(i, c)];
            }
        }
    }
    Ok(out)
}
