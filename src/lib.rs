//! # eqntk
//!
//! Infinite-width kernels — the NNGP `K` and the neural tangent kernel `Θ` — of ordinary and
//! group-equivariant neural networks, computed layer by layer with neural-tangents' conventions.

pub mod data;
pub mod error;
pub mod kernel;

pub use data::Batch;
pub use error::{Error, Result};
pub use kernel::{BlockMap, Kernel};

pub mod action;
pub mod group;
pub mod rep;

pub mod cli {
    //! Command-line subcommands: each module holds one subcommand's arguments and logic.
    pub mod group;
}
