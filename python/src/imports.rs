//! Every eqntk item the extension uses, in one place. Root re-exports first; below the line
//! come deeper paths and the command-line entry points (compiled in from `src/cli`, so that
//! Python prints exactly what `eqntk derive`, `eqntk group` and `eqntk verify` print).

pub use eqntk::{
    Augmentation, Error, FiniteNetwork, InfiniteEnsemble, Network, Predictor, TrainingSet,
};

// ---- deeper paths ----
pub use crate::cli::derive::{run as derive_run, DeriveArgs, DeriveFormat};
pub use crate::cli::group::{run as group_run, GroupArgs, GroupCommand};
pub use crate::cli::verify::{run as verify_run, VerifyArgs};
pub use eqntk::action::InputGroup;
pub use eqntk::augment::OutputTransform;
pub use eqntk::orbit::orbit_kernel;
pub use eqntk::rep::TableFormat;
