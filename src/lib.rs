//! # eqntk
//!
//! Infinite-width kernels — the NNGP `K` and the neural tangent kernel `Θ` — of ordinary and
//! group-equivariant neural networks, computed layer by layer with neural-tangents' conventions.

pub mod cli;
pub mod data;
pub mod dataset;
pub mod error;
pub mod io;
pub mod kernel;
pub mod metrics;
pub mod predict;
pub mod report;

pub use data::Batch;
pub use error::{Error, Result};
pub use kernel::{BlockMap, Kernel};
pub mod finite;
pub mod layer;
pub mod network;

pub use finite::FiniteNetwork;
pub use layer::{Activation, Layer};
pub use network::Network;
pub use predict::{parse_times, Predictor, TrainingKernels};
