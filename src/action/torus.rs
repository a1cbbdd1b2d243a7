//! p4 and p4m acting on images on the H×H torus (rotations, flips, circular translations).

use super::SiteAction;
use crate::error::Result;
use crate::group::{FiniteGroup, PointGroup, RotoTranslation};

/// `p4`/`p4m` acting on the sites of the `H×H` torus: `(t, g)·p = t + A_g p (mod H)`.
#[derive(Debug)]
pub struct TorusAction {
    group: RotoTranslation,
}

impl TorusAction {
    /// The roto-translation group with the given point group on the `H×H` torus.
    pub fn new(point: PointGroup, h: usize) -> Result<Self> {
        Ok(Self {
            group: RotoTranslation::new(point, h)?,
        })
    }
    /// The group, with its element helpers.
    pub fn roto_translation(&self) -> &RotoTranslation {
        &self.group
    }
}

impl SiteAction for TorusAction {
    fn group(&self) -> &dyn FiniteGroup {
        &self.group
    }
    fn grid(&self) -> Vec<usize> {
        vec![self.group.h(), self.group.h()]
    }
    fn act(&self, g: usize, site: usize) -> usize {
        let h = self.group.h();
        let (i, j) = self.group.act_site(g, (site / h, site % h));
        i * h + j
    }
}
