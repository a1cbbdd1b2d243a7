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
use crate::group::GroupSpec;
use crate::layer::{
    Activation, Conv, Dense, Flatten, GlobalAvgPool, GroupConv, GroupPool, Layer, Lift, LiftFilter,
    Padding, Parameterization,
};

/// Where an error arose: the file and, inside it, the table.
struct At<'a> {
    file: &'a str,
    place: String,
}

impl At<'_> {
    fn err(&self, msg: impl std::fmt::Display) -> Error {
        Error::Spec(format!("{}: {}: {msg}", self.file, self.place))
    }
}

/// The keys of one table, consumed as they are read so leftovers can be reported.
struct Keys<'a> {
    at: At<'a>,
    table: Table,
}

impl Keys<'_> {
    fn take(&mut self, key: &str) -> Option<Value> {
        self.table.remove(key)
    }

    fn f64_opt(&mut self, key: &str) -> Result<Option<f64>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Float(v)) if v.is_finite() => Ok(Some(v)),
            Some(Value::Integer(v)) => Ok(Some(v as f64)),
            Some(v) => Err(self
                .at
                .err(format!("`{key}` must be a finite number, got {v}"))),
        }
    }

    fn f64_or(&mut self, key: &str, default: f64) -> Result<f64> {
        Ok(self.f64_opt(key)?.unwrap_or(default))
    }

    fn f64_required(&mut self, key: &str) -> Result<f64> {
        self.f64_opt(key)?
            .ok_or_else(|| self.at.err(format!("missing key `{key}`")))
    }

    fn std_opt(&mut self, key: &str) -> Result<Option<f64>> {
        let v = self.f64_opt(key)?;
        if let Some(v) = v {
            if v < 0.0 {
                return Err(self.at.err(format!("`{key}` must be ≥ 0, got {v}")));
            }
        }
        Ok(v)
    }

    fn usize_opt(&mut self, key: &str) -> Result<Option<usize>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Integer(v)) if v > 0 => Ok(Some(v as usize)),
            Some(v) => Err(self
                .at
                .err(format!("`{key}` must be a positive integer, got {v}"))),
        }
    }

    fn usize_list(&mut self, key: &str) -> Result<Option<Vec<usize>>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|v| match v {
                    Value::Integer(i) if *i > 0 => Ok(*i as usize),
                    _ => Err(self.at.err(format!(
                        "`{key}` must be a list of positive integers, got {}",
                        Value::Array(a.clone())
                    ))),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => Err(self.at.err(format!(
                "`{key}` must be a non-empty list of positive integers, got {v}"
            ))),
        }
    }

    fn str_opt(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.at.err(format!("`{key}` must be a string, got {v}"))),
        }
    }

    /// Fail on any key not read, listing the ones this table accepts.
    fn finish(self, accepted: &[&str]) -> Result<()> {
        if let Some(k) = self.table.keys().next() {
            return Err(self.at.err(format!(
                "unknown key `{k}` (accepted: {})",
                if accepted.is_empty() {
                    "none".to_string()
                } else {
                    accepted.join(", ")
                }
            )));
        }
        Ok(())
    }
}

fn parameterization(keys: &mut Keys) -> Result<Parameterization> {
    match keys.str_opt("parameterization")?.as_deref() {
        None | Some("ntk") => Ok(Parameterization::Ntk),
        Some("standard") => Ok(Parameterization::Standard),
        Some(o) => Err(keys.at.err(format!(
            "`parameterization` must be \"ntk\" or \"standard\", got \"{o}\""
        ))),
    }
}

fn padding(keys: &mut Keys) -> Result<Padding> {
    match keys.str_opt("padding")?.as_deref() {
        None | Some("circular") => Ok(Padding::Circular),
        Some("same") => Ok(Padding::Same),
        Some("valid") => Ok(Padding::Valid),
        Some(o) => Err(keys.at.err(format!(
            "`padding` must be \"circular\", \"same\" or \"valid\", got \"{o}\""
        ))),
    }
}

fn parse_layer(file: &str, i: usize, value: Value) -> Result<Layer> {
    let Value::Table(mut table) = value else {
        return Err(Error::Spec(format!("{file}: layers[{i}]: must be a table")));
    };
    let kind = match table.remove("kind") {
        Some(Value::String(s)) => s,
        Some(v) => {
            return Err(Error::Spec(format!(
                "{file}: layers[{i}]: `kind` must be a string, got {v}"
            )))
        }
        None => {
            return Err(Error::Spec(format!(
                "{file}: layers[{i}]: missing key `kind`"
            )))
        }
    };
    let mut k = Keys {
        at: At {
            file,
            place: format!("layers[{i}] ({kind})"),
        },
        table,
    };
    const AFFINE: [&str; 4] = ["w_std", "b_std", "width", "parameterization"];
    let layer = match kind.as_str() {
        "dense" => {
            let l = Dense {
                w_std: k.std_opt("w_std")?.unwrap_or(1.0),
                b_std: k.std_opt("b_std")?,
                width: k.usize_opt("width")?,
                parameterization: parameterization(&mut k)?,
            };
            k.finish(&AFFINE)?;
            Layer::Dense(l)
        }
        "conv" => {
            let filter = k
                .usize_list("filter")?
                .ok_or_else(|| k.at.err("missing key `filter` (e.g. filter = [3, 3])"))?;
            let padding = padding(&mut k)?;
            let l = Conv {
                filter,
                padding,
                w_std: k.std_opt("w_std")?.unwrap_or(1.0),
                b_std: k.std_opt("b_std")?,
                width: k.usize_opt("width")?,
                parameterization: parameterization(&mut k)?,
            };
            k.finish(&[
                "filter",
                "padding",
                "w_std",
                "b_std",
                "width",
                "parameterization",
            ])?;
            Layer::Conv(l)
        }
        "lift" => {
            let group = match k.str_opt("group")? {
                Some(g) => GroupSpec::parse(&g).map_err(|e| k.at.err(e))?,
                None => return Err(k.at.err("missing key `group` (e.g. group = \"p4\")")),
            };
            let filter = match k.take("filter") {
                None => return Err(k.at.err("missing key `filter` (\"full\" or e.g. [3, 3])")),
                Some(Value::String(s)) if s == "full" => LiftFilter::Full,
                Some(v) => {
                    k.table.insert("filter".into(), v);
                    LiftFilter::Window(k.usize_list("filter")?.expect("present"))
                }
            };
            let l = Lift {
                group,
                filter,
                padding: padding(&mut k)?,
                w_std: k.std_opt("w_std")?.unwrap_or(1.0),
                b_std: k.std_opt("b_std")?,
                width: k.usize_opt("width")?,
                parameterization: parameterization(&mut k)?,
                tol: k.f64_opt("tol")?,
            };
            k.finish(&[
                "group",
                "filter",
                "padding",
                "w_std",
                "b_std",
                "width",
                "parameterization",
                "tol",
            ])?;
            Layer::Lift(l)
        }
        "group_conv" => {
            let support = match k.take("support") {
                None => None,
                Some(Value::Array(a)) if !a.is_empty() => Some(
                    a.iter()
                        .map(|v| match v {
                            Value::Integer(i) if *i >= 0 => Ok(*i as usize),
                            _ => Err(k.at.err(
                                "`support` must be a list of point-group element indices (0 = identity)",
                            )),
                        })
                        .collect::<Result<Vec<_>>>()?,
                ),
                Some(_) => {
                    return Err(k.at.err(
                        "`support` must be a non-empty list of point-group element indices",
                    ))
                }
            };
            let l = GroupConv {
                filter: k.usize_list("filter")?,
                support,
                padding: padding(&mut k)?,
                w_std: k.std_opt("w_std")?.unwrap_or(1.0),
                b_std: k.std_opt("b_std")?,
                width: k.usize_opt("width")?,
                parameterization: parameterization(&mut k)?,
            };
            k.finish(&[
                "filter",
                "support",
                "padding",
                "w_std",
                "b_std",
                "width",
                "parameterization",
            ])?;
            Layer::GroupConv(l)
        }
        "group_pool" => {
            k.finish(&[])?;
            Layer::GroupPool(GroupPool)
        }
        "flatten" => {
            k.finish(&[])?;
            Layer::Flatten(Flatten)
        }
        "global_avg_pool" => {
            k.finish(&[])?;
            Layer::GlobalAvgPool(GlobalAvgPool)
        }
        name => {
            let (act, accepted): (Activation, &[&str]) = match name {
                "relu" => (Activation::Relu, &[]),
                "identity" => (Activation::Identity, &[]),
                "abs" => (Activation::Abs, &[]),
                "tanh" => (Activation::Tanh, &[]),
                "gelu" => (Activation::Gelu, &[]),
                "sigmoid" => (Activation::Sigmoid, &[]),
                "softplus" => (Activation::Softplus, &[]),
                "leaky_relu" => (
                    Activation::LeakyRelu {
                        alpha: k.f64_required("alpha")?,
                    },
                    &["alpha"],
                ),
                "abrelu" => (
                    Activation::AbRelu {
                        a: k.f64_required("a")?,
                        b: k.f64_required("b")?,
                    },
                    &["a", "b"],
                ),
                "erf" => (
                    Activation::Erf {
                        a: k.f64_or("a", 1.0)?,
                        b: k.f64_or("b", 1.0)?,
                        c: k.f64_or("c", 0.0)?,
                    },
                    &["a", "b", "c"],
                ),
                "sin" => (
                    Activation::Sin {
                        a: k.f64_or("a", 1.0)?,
                        b: k.f64_or("b", 1.0)?,
                        c: k.f64_or("c", 0.0)?,
                    },
                    &["a", "b", "c"],
                ),
                _ => {
                    return Err(k.at.err(format!(
                        "unknown layer kind \"{name}\" (known: dense, conv, flatten, \
                         global_avg_pool, lift, group_conv, group_pool, relu, leaky_relu, abrelu, abs, erf, identity, tanh, \
                         gelu, sigmoid, softplus, sin)"
                    )))
                }
            };
            k.finish(accepted)?;
            Layer::Activation(act)
        }
    };
    Ok(layer)
}

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
                let mut k = Keys {
                    at: At {
                        file,
                        place: "[input]".into(),
                    },
                    table: t,
                };
                let shape = k
                    .usize_list("shape")?
                    .ok_or_else(|| k.at.err("missing key `shape` (e.g. shape = [8, 8, 1])"))?;
                let declared = k.str_opt("domain")?;
                k.finish(&["shape", "domain"])?;
                let domain_err = |reason: String| Error::Key {
                    file: file.into(),
                    place: "[input]".into(),
                    key: "domain".into(),
                    reason,
                };
                let domain = match declared {
                    Some(d) => {
                        let d =
                            Domain::parse(&d).map_err(|e| domain_err(format!("domain: {e}")))?;
                        d.check_shape(&shape).map_err(domain_err)?;
                        d
                    }
                    None => Domain::default_for(&shape).unwrap_or(Domain::Vector),
                };
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
