//! The one error type of the crate.
//!
//! Every variant carries what is needed to say, in one line, what is wrong: the file, the layer
//! index and the key for network files; the array and its shape for data; the group and the
//! domain for an action that does not exist; the budget for a request that is too large. The
//! command line prints it as a single line and exits non-zero.
//!
//! The structured variants (`Key`, `ShapeMismatch`, `NoAction`, `NotConverged`, `Budget`,
//! `TooLarge`, `NonFinite`) let callers react to the kind of failure without parsing text; the
//! message variants (`Spec`, `Shape`, …) hold errors whose data is only a sentence.

/// Errors raised by eqntk. Library code never panics on user input; it returns one of these.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A network file or network description is malformed or inconsistent.
    #[error("{0}")]
    Spec(String),
    /// One key of a file (network, claim, experiment, data set) is wrong: `file: place: reason`.
    /// `place` is the table (`layers[2] (conv)`, `[input]`, `claims[0]`), `key` the key.
    #[error("{file}: {place}: {reason}")]
    Key {
        file: String,
        place: String,
        key: String,
        reason: String,
    },
    /// An array has the wrong shape, is empty, or does not fit the network.
    #[error("{0}")]
    Shape(String),
    /// An array's shape differs from the one required.
    #[error("{what} has shape {got:?}, expected {expected:?}")]
    ShapeMismatch {
        what: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// Data values are unusable (NaN, ±Inf, a negative time, …).
    #[error("{0}")]
    Data(String),
    /// A group, representation or group action was asked for that does not exist or cannot act.
    #[error("{0}")]
    Group(String),
    /// A group does not act on a declared input domain.
    #[error("{group} does not act on {domain} inputs (groups that do: {allowed})")]
    NoAction {
        group: String,
        domain: String,
        allowed: String,
    },
    /// An adaptive computation stopped at its cap before reaching its tolerance.
    #[error("{what} did not converge to {tol:e} (error estimate {estimate:e})")]
    NotConverged {
        what: String,
        tol: f64,
        estimate: f64,
    },
    /// A request would need more memory than the budget allows.
    #[error(
        "{what} would need {} but the memory budget is {} (raise it with --memory)",
        human_bytes(*needs),
        human_bytes(*budget)
    )]
    Budget {
        what: String,
        needs: u128,
        budget: u128,
    },
    /// A size taken from user input is over the largest one eqntk accepts.
    #[error("{what} = {asked} is too large (at most {limit})")]
    TooLarge {
        what: String,
        asked: String,
        limit: String,
    },
    /// A computed quantity is not finite; `layer` names where it broke and `cause` the
    /// parameters that drove it.
    #[error("{layer}: {quantity} overflows to a non-finite value ({cause})")]
    NonFinite {
        layer: String,
        quantity: String,
        cause: String,
    },
    /// A formula does not parse: `what` names it (`nngp formula`, `definitions, line 3`),
    /// `column` is 1-based and `marked` is the text with `^` before the offending token.
    #[error("{what}, column {column}: {reason}: {marked}")]
    Parse {
        what: String,
        column: usize,
        reason: String,
        marked: String,
    },
    /// A numerical failure that input checks could not prevent (a singular system, …).
    #[error("{0}")]
    Numeric(String),
    /// A command-line or library argument is invalid.
    #[error("{0}")]
    Invalid(String),
    /// An error inside a named file (the file is said first).
    #[error("{path}: {source}")]
    InFile {
        path: String,
        #[source]
        source: Box<Error>,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A size or budget error with its `what` rewritten (to say where the request came from);
    /// other errors unchanged.
    pub(crate) fn with_what(self, at: impl FnOnce(String) -> String) -> Self {
        match self {
            Error::TooLarge { what, asked, limit } => Error::TooLarge {
                what: at(what),
                asked,
                limit,
            },
            Error::Budget {
                what,
                needs,
                budget,
            } => Error::Budget {
                what: at(what),
                needs,
                budget,
            },
            e => e,
        }
    }
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A byte count as people read it: `512 B`, `3.2 GiB`.
pub fn human_bytes(n: u128) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_errors_are_one_line() {
        let e = Error::Budget {
            what: "the 40000 × 40000 Gram matrix".into(),
            needs: 3 * (1u128 << 30) + (1 << 29),
            budget: 2 << 30,
        };
        assert_eq!(
            e.to_string(),
            "the 40000 × 40000 Gram matrix would need 3.5 GiB but the memory budget is 2.0 GiB \
             (raise it with --memory)"
        );
        let e = Error::NoAction {
            group: "C4".into(),
            domain: "vector".into(),
            allowed: "none".into(),
        };
        assert!(!e.to_string().contains('\n'));
        assert_eq!(human_bytes(17), "17 B");
    }
}
