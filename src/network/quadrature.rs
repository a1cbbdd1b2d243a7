//! What the adaptive quadrature of a network's written activations reported.
//!
//! Each `elementwise` layer records, for every dual it evaluates, the quadrature's relative
//! error estimate (against the scale `E[|φ(u)| |φ(v)|]`, see `crate::layer::adaptive_quadrature`)
//! and whether its tolerance was met within the panel cap. The record belongs to the layer
//! value and accumulates over every kernel it computes until [`super::Network::reset_quadrature`]
//! (so that concurrent computations on one network can only widen a report, never hide an
//! entry); a network read from a file starts empty.

use super::Network;
use crate::layer::Layer;

/// The quadrature record of one written activation.
#[derive(Clone, Debug, PartialEq)]
pub struct QuadratureReport {
    /// Where the layer is: `layers[1]`, or `layers[2] branches[0][1]` inside a composite.
    pub layer: String,
    /// φ as written.
    pub phi: String,
    /// The relative tolerance asked (`tol`).
    pub tol: f64,
    /// The panel cap per dimension (`max_panels`).
    pub max_panels: usize,
    /// The largest relative error estimate of any evaluation (of `T` or `Ṫ`).
    pub error_estimate: f64,
    /// Duals evaluated.
    pub evaluations: u64,
    /// Evaluations that did not meet `tol` within `max_panels`.
    pub unreached: u64,
}

impl QuadratureReport {
    /// Whether every evaluation met the tolerance.
    pub fn is_reached(&self) -> bool {
        self.unreached == 0
    }

    /// One line for a user: `elementwise layers[1] (phi = …): quadrature error ≤ 3e-12
    /// (estimated, relative, worst over 1275 entries)`, or, when the cap stopped it, a warning
    /// naming the reached accuracy.
    pub fn message(&self) -> String {
        let head = format!("elementwise {} (phi = {})", self.layer, self.phi);
        let e = crate::symbolic::compact_number(round_up(self.error_estimate));
        if self.is_reached() {
            format!(
                "{head}: quadrature error ≤ {e} (estimated, relative, worst over {} entries)",
                self.evaluations
            )
        } else {
            format!(
                "{head}: the quadrature did not reach tol = {} in {} of {} entries within \
                 max_panels = {}; reached error ≤ {e} (estimated, relative); raise max_panels \
                 or tol",
                crate::symbolic::compact_number(self.tol),
                self.unreached,
                self.evaluations,
                self.max_panels
            )
        }
    }
}

/// `x` rounded up to one significant digit (a bound stays a bound when printed).
fn round_up(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let scale = 10f64.powf(x.log10().floor());
    let r = (x / scale).ceil() * scale;
    // the printed digits: 1e-12, not 1.0000000000000001e-12
    format!("{r:.0e}").parse().unwrap_or(r)
}

impl Network {
    /// The quadrature record of every written activation, in layer order (empty when the
    /// network has none).
    pub fn quadrature_reports(&self) -> Vec<QuadratureReport> {
        let mut out = vec![];
        collect(self.layers(), "", &mut out);
        out
    }

    /// Forget the quadrature records of every written activation.
    pub fn reset_quadrature(&self) {
        fn reset(layers: &[Layer]) {
            for l in layers {
                l.reset_quadrature();
                if let Some((branches, _)) = l.branches() {
                    branches.iter().for_each(|b| reset(b));
                }
            }
        }
        reset(self.layers());
    }
}

fn collect(layers: &[Layer], prefix: &str, out: &mut Vec<QuadratureReport>) {
    for (i, l) in layers.iter().enumerate() {
        let place = if prefix.is_empty() {
            format!("layers[{i}]")
        } else {
            format!("{prefix}[{i}]")
        };
        if let Some(mut r) = l.quadrature() {
            r.layer = place.clone();
            out.push(r);
        }
        if let Some((branches, _)) = l.branches() {
            for (b, layers) in branches.iter().enumerate() {
                collect(layers, &format!("{place} branches[{b}]"), out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_round_up() {
        assert_eq!(round_up(2.01e-12), 3e-12);
        assert_eq!(round_up(1e-10), 1e-10);
        assert_eq!(round_up(0.0), 0.0);
    }
}
