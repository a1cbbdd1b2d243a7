//! # eqntk
//!
//! Infinite-width kernels — the NNGP `K` and the neural tangent kernel `Θ` — of ordinary and
//! group-equivariant neural networks, computed layer by layer with neural-tangents' conventions.

pub mod data;
pub mod error;
pub mod kernel;
pub mod symbolic;

pub use data::Batch;
pub use error::{Error, Result};
pub use kernel::{BlockMap, Kernel};
