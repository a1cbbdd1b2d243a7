#![doc = include_str!("../README.md")]

pub mod action;
pub mod augment;
pub mod budget;
pub(crate) mod data;
pub mod dataset;
pub(crate) mod error;
pub mod experiment;
pub mod finite;
pub mod gram;
pub mod group;
pub mod io;
pub(crate) mod kernel;
pub mod layer;
pub mod metrics;
pub(crate) mod network;
pub mod orbit;
pub mod predict;
pub mod rep;
pub mod report;
pub(crate) mod so2_quadrature;
pub mod symbolic;
pub mod verify;

pub use action::Domain;
pub use augment::{Augmentation, InfiniteEnsemble, TrainingSet};
pub use data::Batch;
pub use error::{Error, Result};
pub use finite::FiniteNetwork;
pub use kernel::{BlockMap, Kernel};
pub use layer::{Activation, Layer};
pub use network::{KernelReport, Network, QuadratureReport, So2Grid, So2Report};
pub use predict::{parse_times, Predictor, TrainingKernels};
