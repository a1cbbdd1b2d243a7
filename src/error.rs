//! The one error type of the crate.
//!
//! Every variant carries a message that already names what is wrong (the file, the layer index
//! and the key for network files; the array and its shape for data), so the command line can
//! print it as a single line and exit non-zero.

/// Errors raised by eqntk. Library code never panics on user input; it returns one of these.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A network file or network description is malformed or inconsistent.
    #[error("{0}")]
    Spec(String),
    /// An array has the wrong shape, is empty, or does not fit the network.
    #[error("{0}")]
    Shape(String),
    /// Data values are unusable (NaN, ±Inf, a negative time, …).
    #[error("{0}")]
    Data(String),
    /// A group, representation or group action was asked for that does not exist or cannot act.
    #[error("{0}")]
    Group(String),
    /// A numerical failure that input checks could not prevent (a singular system, …).
    #[error("{0}")]
    Numeric(String),
    /// A command-line or library argument is invalid.
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
