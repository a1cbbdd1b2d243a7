//! eqntk's errors as Python exceptions, carrying eqntk's one-line message.
//!
//! | eqntk error | Python exception |
//! |---|---|
//! | malformed networks, keys, shapes, data, groups, actions, parse errors, invalid requests | `ValueError` |
//! | a request over the memory budget, a size over eqntk's bounds | `MemoryError` |
//! | a kernel that overflows, a numerical failure | `FloatingPointError` |
//! | a quadrature that does not converge | `RuntimeError` |
//! | reading or writing a file | `OSError` |

use pyo3::exceptions::{
    PyFloatingPointError, PyMemoryError, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::PyErr;

/// The message as one line (eqntk's messages are one line; this also folds any that are not).
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Python exception of an eqntk error.
pub fn to_py(e: eqntk::Error) -> PyErr {
    let msg = one_line(&e.to_string());
    let mut kind = &e;
    while let eqntk::Error::InFile { source, .. } = kind {
        kind = source;
    }
    match kind {
        eqntk::Error::Budget { .. } | eqntk::Error::TooLarge { .. } => PyMemoryError::new_err(msg),
        eqntk::Error::NonFinite { .. } | eqntk::Error::Numeric(_) => {
            PyFloatingPointError::new_err(msg)
        }
        eqntk::Error::NotConverged { .. } => PyRuntimeError::new_err(msg),
        eqntk::Error::Io { .. } => PyOSError::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

/// `Result` with eqntk's error, for code that runs without the GIL.
pub type Result<T> = std::result::Result<T, eqntk::Error>;
