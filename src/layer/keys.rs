//! The keys of one TOML table of a network file, read by the layer kind that owns them.
//!
//! Keys are consumed as they are read, so that [`Keys::finish`] can name any key left over
//! (a typo, or a key of another kind). Every error names the file, the table
//! (`layers[i] (kind)`) and the key.

use toml::{Table, Value};

use crate::error::{Error, Result};

/// The keys of one table, and where the table is (for errors).
pub struct Keys<'a> {
    file: &'a str,
    place: String,
    table: Table,
}

impl<'a> Keys<'a> {
    /// The keys of `table`, found at `place` (e.g. `layers[2] (conv)`) of `file`.
    pub fn new(file: &'a str, place: impl Into<String>, table: Table) -> Self {
        Self {
            file,
            place: place.into(),
            table,
        }
    }

    /// The file the table is in.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// Where the table is, without the kind (`layers[2]` of `layers[2] (conv)`): the prefix of
    /// the places of tables nested in it.
    pub fn base_place(&self) -> &str {
        self.place.split(" (").next().unwrap_or(&self.place)
    }

    /// An error about the table as a whole.
    pub fn err(&self, msg: impl std::fmt::Display) -> Error {
        Error::Spec(format!("{}: {}: {msg}", self.file, self.place))
    }

    /// An error about one key.
    pub fn key_err(&self, key: &str, reason: impl std::fmt::Display) -> Error {
        Error::Key {
            file: self.file.to_string(),
            place: self.place.clone(),
            key: key.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Remove and return the raw value of `key`.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.table.remove(key)
    }

    /// Put a value back (for a key read in two ways, e.g. `filter = "full" | [3, 3]`).
    pub fn put_back(&mut self, key: &str, value: Value) {
        self.table.insert(key.into(), value);
    }

    pub fn f64_opt(&mut self, key: &str) -> Result<Option<f64>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Float(v)) if v.is_finite() => Ok(Some(v)),
            Some(Value::Integer(v)) => Ok(Some(v as f64)),
            Some(v) => Err(self.key_err(key, format!("`{key}` must be a finite number, got {v}"))),
        }
    }

    pub fn f64_or(&mut self, key: &str, default: f64) -> Result<f64> {
        Ok(self.f64_opt(key)?.unwrap_or(default))
    }

    pub fn f64_required(&mut self, key: &str) -> Result<f64> {
        self.f64_opt(key)?
            .ok_or_else(|| self.key_err(key, format!("missing key `{key}`")))
    }

    /// A standard deviation: a finite number ≥ 0.
    pub fn std_opt(&mut self, key: &str) -> Result<Option<f64>> {
        let v = self.f64_opt(key)?;
        if let Some(v) = v {
            if v < 0.0 {
                return Err(self.key_err(key, format!("`{key}` must be ≥ 0, got {v}")));
            }
        }
        Ok(v)
    }

    pub fn usize_opt(&mut self, key: &str) -> Result<Option<usize>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Integer(v)) if v > 0 => Ok(Some(v as usize)),
            Some(v) => {
                Err(self.key_err(key, format!("`{key}` must be a positive integer, got {v}")))
            }
        }
    }

    pub fn usize_list(&mut self, key: &str) -> Result<Option<Vec<usize>>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|v| match v {
                    Value::Integer(i) if *i > 0 => Ok(*i as usize),
                    _ => Err(self.key_err(
                        key,
                        format!(
                            "`{key}` must be a list of positive integers, got {}",
                            Value::Array(a.clone())
                        ),
                    )),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => Err(self.key_err(
                key,
                format!("`{key}` must be a non-empty list of positive integers, got {v}"),
            )),
        }
    }

    pub fn str_opt(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.key_err(key, format!("`{key}` must be a string, got {v}"))),
        }
    }

    /// Fail on any key not read, listing the ones this table accepts.
    pub fn finish(self, accepted: &[&str]) -> Result<()> {
        if let Some(k) = self.table.keys().next() {
            return Err(self.key_err(
                k,
                format!(
                    "unknown key `{k}` (accepted: {})",
                    if accepted.is_empty() {
                        "none".to_string()
                    } else {
                        accepted.join(", ")
                    }
                ),
            ));
        }
        Ok(())
    }
}
