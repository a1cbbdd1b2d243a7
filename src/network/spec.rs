//! Network files (TOML): parsing and validation with errors that name the key.
//!
//! ```toml
//! [input]
//! shape = [5, 5, 1]        # one example, channels last: [D] | [W, C] | [H, W, C] | [P, 2]
//! domain = "image"         # vector | signal | image | torus | points (MATH.md §5a); optional
//!                          # where the shape leaves no doubt: [D] vector, [n, C] signal,
//!                          # [H, W, C] image; point sets [P, 2] and tori must be declared
//!
//! [[layers]]
//! kind = "conv"
//! filter = [3, 3]
//! padding = "circular"     # circular | same | valid
//! w_std = 1.5
//! b_std = 0.1              # omit for no bias
//! ```

use std::path::Path;

use toml::{Table, Value};

use super::Network;
use crate::action::Domain;
use crate::error::{Error, Result};
use crate::layer::{parse_layer, Keys};

impl Network {
    /// Parse a network file's text; `file` names it in error messages.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self> {
        let mut top: Table = text.parse::<Table>().map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .map_or(String::new(), |l| format!("line {l}: "));
            Error::Spec(format!(
                "{file}: {line}invalid TOML: {}",
                e.message().lines().next().unwrap_or("parse error")
            ))
        })?;
        let input = match top.remove("input") {
            Some(Value::Table(t)) => {
                let mut k = Keys::new(file, "[input]", t);
                let shape = k.usize_list("shape")?.ok_or_else(|| {
                    k.key_err("shape", "missing key `shape` (e.g. shape = [8, 8, 1])")
                })?;
                let declared = k.str_opt("domain")?;
                let domain = match declared {
                    Some(d) => {
                        let d = Domain::parse(&d)
                            .map_err(|e| k.key_err("domain", format!("domain: {e}")))?;
                        d.check_shape(&shape).map_err(|e| k.key_err("domain", e))?;
                        d
                    }
                    None => Domain::default_for(&shape).unwrap_or(Domain::Vector),
                };
                k.finish(&["shape", "domain"])?;
                (shape, domain)
            }
            Some(_) => return Err(Error::Spec(format!("{file}: `input` must be a table"))),
            None => return Err(Error::Spec(format!("{file}: missing table [input]"))),
        };
        let layers = match top.remove("layers") {
            Some(Value::Array(a)) if !a.is_empty() => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| parse_layer(file, i, v))
                .collect::<Result<Vec<_>>>()?,
            Some(Value::Array(_)) | None => {
                return Err(Error::Spec(format!(
                    "{file}: no layers (add [[layers]] tables)"
                )))
            }
            Some(_) => {
                return Err(Error::Spec(format!(
                    "{file}: `layers` must be an array of tables ([[layers]])"
                )))
            }
        };
        // Free-form descriptive keys are allowed at the top; anything else is a typo.
        for (key, v) in &top {
            if !(matches!(key.as_str(), "name" | "description") && v.is_str()) {
                return Err(Error::Spec(format!(
                    "{file}: unknown top-level key `{key}` (accepted: input, layers, name, \
                     description)"
                )));
            }
        }
        let (input, domain) = input;
        Network::on_domain(input, domain, layers).map_err(|e| match e {
            Error::Spec(m) => Error::Spec(format!("{file}: {m}")),
            e => e,
        })
    }

    /// Read and parse a network file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }
}
