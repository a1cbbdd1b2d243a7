//! C4 and D4 acting on square images by 90° rotations about the centre and the transpose.

use super::SiteAction;
use crate::error::{Error, Result};
use crate::group::{FiniteGroup, PointGroup};

/// `C4` or `D4` acting on the pixels `(i, j)` of an `H×H` image about its centre:
/// `g·p = c + A_g (p − c)`, `c = ((H−1)/2, (H−1)/2)`. So `r·(i, j) = (H−1−j, i)`
/// (`(r·x)[i, j] = x[j, H−1−i]`, numpy's `rot90(x, 1, axes=(0, 1))`) and `s·(i, j) = (j, i)`.
#[derive(Debug)]
pub struct ImageAction {
    point: PointGroup,
    group: Box<dyn FiniteGroup>,
    h: usize,
}

impl ImageAction {
    /// The point group acting on `H×H` images, `H ≥ 1`.
    pub fn new(point: PointGroup, h: usize) -> Result<Self> {
        if h == 0 {
            return Err(Error::Shape("an image needs H ≥ 1".into()));
        }
        Ok(Self {
            point,
            group: point.group(),
            h,
        })
    }
    /// The side `H`.
    pub fn side(&self) -> usize {
        self.h
    }
    /// The point group.
    pub fn point_group(&self) -> PointGroup {
        self.point
    }
    /// `g·(i, j)`.
    pub fn act_pixel(&self, g: usize, (i, j): (usize, usize)) -> (usize, usize) {
        // Doubled coordinates about the centre keep everything integral for even H.
        let c = self.h as i64 - 1;
        let (u, v) = self
            .point
            .act_offset(g, (2 * i as i64 - c, 2 * j as i64 - c));
        (((u + c) / 2) as usize, ((v + c) / 2) as usize)
    }
}

impl SiteAction for ImageAction {
    fn group(&self) -> &dyn FiniteGroup {
        self.group.as_ref()
    }
    fn grid(&self) -> Vec<usize> {
        vec![self.h, self.h]
    }
    fn act(&self, g: usize, site: usize) -> usize {
        let (i, j) = self.act_pixel(g, (site / self.h, site % self.h));
        i * self.h + j
    }
}
