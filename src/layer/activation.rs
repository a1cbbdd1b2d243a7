//! Temporary: minimal activations until the full module lands.
#[derive(Clone, Debug, PartialEq)]
pub enum Activation {
    Relu,
    Identity,
}
impl Activation {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Identity => "identity",
        }
    }
    pub fn phi(&self, x: f64) -> f64 {
        match self {
            Self::Relu => x.max(0.0),
            Self::Identity => x,
        }
    }
    pub fn dphi(&self, x: f64) -> f64 {
        match self {
            Self::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Identity => 1.0,
        }
    }
    pub fn dual(&self, k11: f64, k12: f64, k22: f64) -> (f64, f64) {
        match self {
            Self::Identity => (k12, 1.0),
            Self::Relu => {
                let s = (k11 * k22).sqrt();
                let rho = if s > 0.0 {
                    (k12 / s).clamp(-1.0, 1.0)
                } else {
                    0.0
                };
                let th = rho.acos();
                let pi = std::f64::consts::PI;
                (
                    s / (2.0 * pi) * ((1.0 - rho * rho).sqrt() + (pi - th) * rho),
                    (pi - th) / (2.0 * pi),
                )
            }
        }
    }
    pub fn dual_slice(
        &self,
        k11: f64,
        k12: &[f64],
        k22: &[f64],
        t_in: Option<&[f64]>,
        k_out: &mut [f64],
        t_out: Option<&mut [f64]>,
    ) {
        match (t_in, t_out) {
            (Some(t), Some(to)) => {
                for j in 0..k12.len() {
                    let (a, b) = self.dual(k11, k12[j], k22[j]);
                    k_out[j] = a;
                    to[j] = b * t[j];
                }
            }
            _ => {
                for j in 0..k12.len() {
                    k_out[j] = self.dual(k11, k12[j], k22[j]).0;
                }
            }
        }
    }
}
