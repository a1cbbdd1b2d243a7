//! Every eqntk item the extension uses, in one place. Root re-exports first; the items below
//! the line are deeper paths (the command-line entry points reused so that Python prints
//! exactly what `eqntk derive`, `eqntk group` and `eqntk verify` print).

pub use eqntk::{
    Augmentation, Error, FiniteNetwork, InfiniteEnsemble, Network, Predictor, TrainingSet,
};

// ---- deeper paths ----
pub use eqntk::action::InputGroup;
pub use eqntk::augment::OutputTransform;
pub use eqntk::cli::derive::{run as derive_run, DeriveArgs, DeriveFormat};
pub use eqntk::cli::group::{run as group_run, GroupArgs, GroupCommand};
pub use eqntk::cli::verify::{run as verify_run, VerifyArgs};
pub use eqntk::orbit::orbit_kernel;
pub use eqntk::rep::TableFormat;
