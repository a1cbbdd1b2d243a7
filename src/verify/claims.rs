//! Claim files (TOML): networks, inputs and claims, parsed with errors that name the key.
//!
//! ```toml
//! title = "ReLU MLP against Monte Carlo"
//! description = "…"                       # optional, Markdown
//!
//! [networks.mlp]                           # inline: the keys of a network file
//! input = { shape = [4] }
//! layers = [{ kind = "dense", w_std = 1.5, b_std = 0.1 }, { kind = "relu" }, …]
//! [networks.cnn]
//! file = "../examples/cnn.toml"            # or a network file, relative to this file
//!
//! [inputs.x]                               # N examples of i.i.d. N(0, scale²) entries
//! seed = 1
//! shape = [4]                              # one example
//! count = 3
//! scale = 1.0                              # optional
//! [inputs.data]
//! file = "x.json"                          # or a batch file (.json / .npy), [N, *shape]
//!
//! [[claims]]
//! kind = "kernel_equal"                    # see `ClaimKind` for every kind and its keys
//! a = "mlp"
//! b = "derivation"                         # the interpreter of a's derivation
//! x1 = "x"
//! expect = "fail"                          # optional: the claim is expected to fail
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use toml::{Table, Value};

use crate::data::Batch;
use crate::error::{Error, Result};
use crate::group::GroupSpec;
use crate::io::read_batch;
use crate::network::Network;

/// Which kernel(s) a claim compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// `K` only.
    Nngp,
    /// `Θ` only.
    Ntk,
    /// Both.
    Both,
}

/// Where a group acts in an invariance claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `k(g·x, x′) = k(x, x′)`.
    X1,
    /// `k(x, g·x′) = k(x, x′)`.
    X2,
    /// `k(g·x, g·x′) = k(x, x′)`.
    Both,
}

/// A kernel source: a network, optionally orbit-averaged over a group acting on `x2`.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelSource {
    /// The network's name in the claim file.
    pub net: String,
    /// `Some(G)`: `(1/|G|) Σ_g k(x, g·x′)` (MATH.md §6).
    pub orbit: Option<GroupSpec>,
    /// Interpret the network's derivation instead of calling the fast kernel code.
    pub derivation: bool,
}

/// What a claim states.
#[derive(Clone, Debug, PartialEq)]
pub enum ClaimKind {
    /// `k_a(x1, x2) = k_b(x1, x2)` entrywise, relative to the largest entry, within `rtol`.
    /// Keys: `a`, `b` (network names; `b = "derivation"` is a's derivation evaluated by
    /// interpretation), `orbit_a`, `orbit_b` (groups; `orbit` is `orbit_b`), `x1`, `x2`,
    /// `kernel`, `rtol`. Result A reads `a = "gcnn"`, `b = "mlp"`, `orbit = "C4"`.
    KernelEqual {
        /// Left side.
        a: KernelSource,
        /// Right side.
        b: KernelSource,
        /// Inputs.
        x1: String,
        /// Inputs (default `x1`).
        x2: Option<String>,
        /// Which kernels.
        which: Which,
        /// Relative tolerance.
        rtol: f64,
    },
    /// `k(…g…) = k(x1, x2)` for every `g ∈ G`. Keys: `net`, `orbit` (optional averaging
    /// group), `group`, `on` (`"x1" | "x2" | "both"`), `x1`, `x2`, `kernel`, `rtol`.
    Invariant {
        /// The kernel.
        source: KernelSource,
        /// The group acting.
        group: GroupSpec,
        /// Where it acts.
        on: Side,
        /// Inputs.
        x1: String,
        /// Inputs (default `x1`).
        x2: Option<String>,
        /// Which kernels.
        which: Which,
        /// Relative tolerance.
        rtol: f64,
    },
    /// `K(x, x)` and `Θ(x, x)` are positive semi-definite: smallest eigenvalue
    /// `≥ −tol · λ_max`. Keys: `net`, `orbit`, `x`, `tol`.
    Psd {
        /// The kernel.
        source: KernelSource,
        /// Inputs.
        x: String,
        /// Relative tolerance.
        tol: f64,
    },
    /// The Monte-Carlo mean of finite networks agrees with the analytic kernel at every width:
    /// `|mean − k| ≤ z·se + bias·max|k|/width` entrywise. Keys: `net`, `reference` (the
    /// network whose analytic kernel is compared; default `net`), `x1`, `x2`, `widths`,
    /// `samples`, `z`, `bias`, `seed`, `kernel`.
    MonteCarlo {
        /// The sampled network.
        net: String,
        /// The network of the analytic kernel.
        reference: String,
        /// Inputs.
        x1: String,
        /// Inputs (default `x1`).
        x2: Option<String>,
        /// Widths of the hidden layers.
        widths: Vec<usize>,
        /// Networks per width.
        samples: usize,
        /// Standard errors allowed.
        z: f64,
        /// Allowance for the O(1/width) bias, relative to the largest entry.
        bias: f64,
        /// Seed of the first network.
        seed: u64,
        /// Which kernels.
        which: Which,
    },
    /// Infinite-ensemble mean predictions of `a` and `b` agree at every time (relative to the
    /// largest mean). Keys: `a`, `b`, `orbit_a`, `orbit_b`, `augment_a`, `augment_b` (train on
    /// the full orbit of the training set, invariant targets), `train`, `targets`, `test`,
    /// `times`, `rtol`.
    MeanPredictionEqual {
        /// Left side.
        a: KernelSource,
        /// Right side.
        b: KernelSource,
        /// Augmentation group of a's training set.
        augment_a: Option<GroupSpec>,
        /// Augmentation group of b's training set.
        augment_b: Option<GroupSpec>,
        /// Training inputs.
        train: String,
        /// Targets (an input whose examples are the target vectors).
        targets: String,
        /// Test inputs.
        test: String,
        /// Training times (may include `inf`).
        times: Vec<f64>,
        /// Relative tolerance.
        rtol: f64,
    },
    /// A researcher's formula against the network's kernel (`super::formula`). Keys:
    /// `network`, `x1`, `x2`, `nngp` and/or `ntk` with an optional `where` block, or
    /// `definitions` (a whole recursion in the printed syntax); `rtol` (default 1e-8, see
    /// `super::formula` on why closed forms lose digits).
    Formula {
        /// The network.
        net: String,
        /// The closed forms or the recursion.
        statement: super::formula::Statement,
        /// Inputs.
        x1: String,
        /// Inputs (default `x1`).
        x2: Option<String>,
        /// Relative tolerance.
        rtol: f64,
    },
    /// `μ_t(g·x) = μ_t(x)` for every `g`, every time, every test input (Result B, MATH.md §8).
    /// Keys: `net`, `group`, `augment` (train on the group's orbit of the training set,
    /// default true), `train`, `targets`, `test`, `times`, `rtol`.
    InvariantPrediction {
        /// The network.
        net: String,
        /// The group.
        group: GroupSpec,
        /// Whether the training set is augmented by the group.
        augment: bool,
        /// Training inputs.
        train: String,
        /// Targets.
        targets: String,
        /// Test inputs.
        test: String,
        /// Training times.
        times: Vec<f64>,
        /// Relative tolerance.
        rtol: f64,
    },
}

/// One claim.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// A short name (default `claim i`).
    pub name: String,
    /// What is claimed.
    pub kind: ClaimKind,
    /// Marked `expect = "fail"`.
    pub expect_fail: bool,
}

/// Where a batch comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum InputSource {
    /// Seeded normal entries.
    Normal {
        /// Seed of the ChaCha8 generator.
        seed: u64,
        /// Standard deviation.
        scale: f64,
    },
    /// A batch file.
    File(PathBuf),
}

/// A named batch.
#[derive(Clone, Debug)]
pub struct Input {
    /// How it was made (for the document).
    pub source: InputSource,
    /// The examples.
    pub batch: Batch,
}

/// A parsed claim file.
#[derive(Clone, Debug)]
pub struct ClaimFile {
    /// The file.
    pub path: PathBuf,
    /// Title of the document.
    pub title: String,
    /// Free text (Markdown) shown under the title.
    pub description: String,
    /// Networks by name, with their source (`inline` or the path as written).
    pub networks: BTreeMap<String, (Network, String)>,
    /// Inputs by name.
    pub inputs: BTreeMap<String, Input>,
    /// Claims, in file order.
    pub claims: Vec<Claim>,
}

/// Keys of one table, consumed as read, so unknown keys are reported.
struct Keys<'a> {
    file: &'a str,
    place: String,
    table: Table,
}

impl Keys<'_> {
    fn err(&self, msg: impl std::fmt::Display) -> Error {
        Error::Spec(format!("{}: {}: {msg}", self.file, self.place))
    }
    fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(format!("`{key}` must be a string, got {v}"))),
        }
    }
    fn required(&mut self, key: &str) -> Result<String> {
        self.string(key)?
            .ok_or_else(|| self.err(format!("missing key `{key}`")))
    }
    fn float(&mut self, key: &str, default: f64) -> Result<f64> {
        match self.table.remove(key) {
            None => Ok(default),
            Some(Value::Float(v)) if !v.is_nan() => Ok(v),
            Some(Value::Integer(v)) => Ok(v as f64),
            Some(v) => Err(self.err(format!("`{key}` must be a number, got {v}"))),
        }
    }
    fn positive(&mut self, key: &str, default: f64) -> Result<f64> {
        let v = self.float(key, default)?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(self.err(format!(
                "`{key}` must be a finite number ≥ 0, got {}",
                crate::symbolic::print::compact_number(v)
            )));
        }
        Ok(v)
    }
    fn count(&mut self, key: &str) -> Result<Option<usize>> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(Value::Integer(v)) if v > crate::budget::MAX_COUNT as i64 => {
                Err(self.err(format!(
                    "`{key}` = {v} is too large (at most {})",
                    crate::budget::MAX_COUNT
                )))
            }
            Some(Value::Integer(v)) if v > 0 => Ok(Some(v as usize)),
            Some(v) => Err(self.err(format!("`{key}` must be a positive integer, got {v}"))),
        }
    }
    fn counts(&mut self, key: &str) -> Result<Option<Vec<usize>>> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(Value::Array(a)) if !a.is_empty() => {
                a.iter()
                    .map(|v| match v {
                        Value::Integer(i) if *i > crate::budget::MAX_EXTENT as i64 => Err(self
                            .err(format!(
                                "`{key}`: {i} is too large (at most {} per entry)",
                                crate::budget::MAX_EXTENT
                            ))),
                        Value::Integer(i) if *i > 0 => Ok(*i as usize),
                        v => Err(self.err(format!("`{key}` must list positive integers, got {v}"))),
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Some)
            }
            Some(v) => Err(self.err(format!(
                "`{key}` must be a non-empty list of positive integers, got {v}"
            ))),
        }
    }
    fn times(&mut self) -> Result<Vec<f64>> {
        match self.table.remove("times") {
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|v| match v {
                    Value::Float(t) if *t >= 0.0 => Ok(*t),
                    Value::Integer(t) if *t >= 0 => Ok(*t as f64),
                    v => Err(self.err(format!("`times` must be numbers ≥ 0 (or inf), got {v}"))),
                })
                .collect(),
            Some(v) => Err(self.err(format!(
                "`times` must be a non-empty list of numbers, got {v}"
            ))),
            None => Err(self.err("missing key `times` (e.g. times = [0, 1, 10, inf])")),
        }
    }
    fn group(&mut self, key: &str) -> Result<Option<GroupSpec>> {
        match self.string(key)? {
            None => Ok(None),
            Some(g) => GroupSpec::parse(&g)
                .map(Some)
                .map_err(|e| self.err(format!("`{key}`: {e}"))),
        }
    }
    fn which(&mut self) -> Result<Which> {
        match self.string("kernel")?.as_deref() {
            None | Some("both") => Ok(Which::Both),
            Some("nngp") => Ok(Which::Nngp),
            Some("ntk") => Ok(Which::Ntk),
            Some(o) => Err(self.err(format!(
                "`kernel` must be \"nngp\", \"ntk\" or \"both\", got \"{o}\""
            ))),
        }
    }
    fn boolean(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.table.remove(key) {
            None => Ok(default),
            Some(Value::Boolean(b)) => Ok(b),
            Some(v) => Err(self.err(format!("`{key}` must be true or false, got {v}"))),
        }
    }
    fn finish(self) -> Result<()> {
        match self.table.keys().next() {
            Some(k) => Err(self.err(format!("unknown key `{k}`"))),
            None => Ok(()),
        }
    }
}

fn read_text(path: &Path) -> Result<String> {
    crate::io::read_text(path)
}

/// `count` examples of shape `shape` with i.i.d. `N(0, scale²)` entries from ChaCha8 seeded by
/// `seed`, drawn in C order.
pub fn normal_batch(seed: u64, shape: &[usize], count: usize, scale: f64) -> Result<Batch> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut full = vec![count];
    full.extend_from_slice(shape);
    let len = crate::budget::product("an input batch's shape", &full, crate::budget::MAX_ENTRIES)?;
    let values = (0..len)
        .map(|_| scale * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng))
        .collect::<Vec<f64>>();
    Batch::from_array(&full, values)
}

impl ClaimFile {
    /// Read and parse a claim file; networks and batch files are resolved relative to it.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let file = path.display().to_string();
        let mut top: Table = text
            .parse::<Table>()
            .map_err(|e| crate::io::toml_error(&text, &file, &e))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut keys = Keys {
            file: &file,
            place: "top level".into(),
            table: Table::new(),
        };
        let mut take_str = |k: &str| -> Result<Option<String>> {
            match top.remove(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(v) => Err(Error::Spec(format!(
                    "{file}: `{k}` must be a string, got {v}"
                ))),
            }
        };
        let title = take_str("title")?.unwrap_or_else(|| file.clone());
        let description = take_str("description")?.unwrap_or_default();
        let networks = Self::networks(&file, dir, top.remove("networks"))?;
        let inputs = Self::inputs(&file, dir, top.remove("inputs"))?;
        let claims = match top.remove("claims") {
            Some(Value::Array(a)) if !a.is_empty() => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| Self::claim(&file, i, v))
                .collect::<Result<Vec<_>>>()?,
            _ => {
                return Err(Error::Spec(format!(
                    "{file}: no claims (add [[claims]] tables)"
                )))
            }
        };
        keys.table = top;
        keys.finish()?;
        let cf = ClaimFile {
            path: path.to_path_buf(),
            title,
            description,
            networks,
            inputs,
            claims,
        };
        cf.check_names()?;
        Ok(cf)
    }

    fn networks(
        file: &str,
        dir: &Path,
        v: Option<Value>,
    ) -> Result<BTreeMap<String, (Network, String)>> {
        let Some(Value::Table(t)) = v else {
            return Err(Error::Spec(format!(
                "{file}: missing table [networks] (e.g. [networks.mlp] with file = \"…\")"
            )));
        };
        let mut out = BTreeMap::new();
        for (name, v) in t {
            if name == "derivation" {
                return Err(Error::Spec(format!(
                    "{file}: `derivation` is reserved (the interpreter of a network's \
                     derivation); rename the network"
                )));
            }
            let Value::Table(mut net) = v else {
                return Err(Error::Spec(format!(
                    "{file}: networks.{name} must be a table"
                )));
            };
            let parsed = match net.remove("file") {
                Some(Value::String(f)) => {
                    if !net.is_empty() {
                        return Err(Error::Spec(format!(
                            "{file}: networks.{name}: `file` cannot be combined with other keys"
                        )));
                    }
                    (crate::io::read_network(&dir.join(&f))?, f)
                }
                Some(v) => {
                    return Err(Error::Spec(format!(
                        "{file}: networks.{name}: `file` must be a string, got {v}"
                    )))
                }
                None => {
                    let text = toml::to_string(&net)
                        .map_err(|e| Error::Spec(format!("{file}: networks.{name}: {e}")))?;
                    let net =
                        crate::io::network_from_str(&text, &format!("{file}: networks.{name}"))?;
                    (net, "inline".to_string())
                }
            };
            out.insert(name, parsed);
        }
        Ok(out)
    }

    fn inputs(file: &str, dir: &Path, v: Option<Value>) -> Result<BTreeMap<String, Input>> {
        let Some(Value::Table(t)) = v else {
            return Err(Error::Spec(format!(
                "{file}: missing table [inputs] (e.g. [inputs.x] with seed, shape, count)"
            )));
        };
        let mut out = BTreeMap::new();
        for (name, v) in t {
            let Value::Table(table) = v else {
                return Err(Error::Spec(format!(
                    "{file}: inputs.{name} must be a table"
                )));
            };
            let mut k = Keys {
                file,
                place: format!("inputs.{name}"),
                table,
            };
            let input = if let Some(f) = k.string("file")? {
                k.finish()?;
                let path = dir.join(&f);
                Input {
                    source: InputSource::File(PathBuf::from(f)),
                    batch: read_batch(&path)?,
                }
            } else {
                let seed = k.float("seed", f64::NAN);
                let seed = match seed {
                    Ok(s) if s.is_finite() && s >= 0.0 && s.fract() == 0.0 => s as u64,
                    _ => {
                        return Err(
                            k.err("needs `file`, or `seed` (an integer ≥ 0), `shape` and `count`")
                        )
                    }
                };
                let shape = k
                    .counts("shape")?
                    .ok_or_else(|| k.err("missing key `shape` (one example, e.g. [4])"))?;
                let count = k
                    .count("count")?
                    .ok_or_else(|| k.err("missing key `count`"))?;
                let scale = k.positive("scale", 1.0)?;
                k.finish()?;
                Input {
                    source: InputSource::Normal { seed, scale },
                    batch: normal_batch(seed, &shape, count, scale)?,
                }
            };
            out.insert(name, input);
        }
        Ok(out)
    }

    fn claim(file: &str, i: usize, v: Value) -> Result<Claim> {
        let Value::Table(table) = v else {
            return Err(Error::Spec(format!("{file}: claims[{i}] must be a table")));
        };
        let mut k = Keys {
            file,
            place: format!("claims[{i}]"),
            table,
        };
        let name = k
            .string("name")?
            .unwrap_or_else(|| format!("claim {}", i + 1));
        let expect_fail = match k.string("expect")?.as_deref() {
            None | Some("pass") => false,
            Some("fail") => true,
            Some(o) => {
                return Err(k.err(format!(
                    "`expect` must be \"pass\" or \"fail\", got \"{o}\""
                )))
            }
        };
        let source = |k: &mut Keys, net_key: &str, orbit_key: &str| -> Result<KernelSource> {
            let net = k.required(net_key)?;
            Ok(KernelSource {
                derivation: net == "derivation",
                net,
                orbit: k.group(orbit_key)?,
            })
        };
        let kind = k.required("kind")?;
        let kind = match kind.as_str() {
            "kernel_equal" => {
                let a = source(&mut k, "a", "orbit_a")?;
                let mut b = source(&mut k, "b", "orbit_b")?;
                if a.derivation {
                    return Err(k.err("`a` must name a network (`b` may be \"derivation\")"));
                }
                if b.derivation {
                    b.net = a.net.clone();
                }
                // `orbit` is the common case: the orbit average of the right-hand side
                if let Some(g) = k.group("orbit")? {
                    if b.orbit.is_some() {
                        return Err(k.err("give `orbit` or `orbit_b`, not both"));
                    }
                    b.orbit = Some(g);
                }
                ClaimKind::KernelEqual {
                    a,
                    b,
                    x1: k.required("x1")?,
                    x2: k.string("x2")?,
                    which: k.which()?,
                    rtol: k.positive("rtol", 1e-12)?,
                }
            }
            "invariant" => ClaimKind::Invariant {
                source: source(&mut k, "net", "orbit")?,
                group: k
                    .group("group")?
                    .ok_or_else(|| k.err("missing key `group`"))?,
                on: match k.string("on")?.as_deref() {
                    None | Some("x2") => Side::X2,
                    Some("x1") => Side::X1,
                    Some("both") => Side::Both,
                    Some(o) => {
                        return Err(k.err(format!(
                            "`on` must be \"x1\", \"x2\" or \"both\", got \"{o}\""
                        )))
                    }
                },
                x1: k.required("x1")?,
                x2: k.string("x2")?,
                which: k.which()?,
                rtol: k.positive("rtol", 1e-12)?,
            },
            "formula" => {
                let net = k.required("network")?;
                let (nngp, ntk) = (k.string("nngp")?, k.string("ntk")?);
                let bindings = k.string("where")?;
                let statement = match (k.string("definitions")?, nngp, ntk) {
                    (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                        return Err(k.err("give `definitions` or `nngp`/`ntk`, not both"))
                    }
                    (Some(_), None, None) if bindings.is_some() => {
                        return Err(k.err(
                            "`where` goes with `nngp`/`ntk`; in `definitions` write a `where` line",
                        ))
                    }
                    (Some(d), None, None) => super::formula::Statement::Definitions(d),
                    (None, None, None) => {
                        return Err(k.err("a formula claim needs `nngp`, `ntk` or `definitions`"))
                    }
                    (None, nngp, ntk) => super::formula::Statement::Closed {
                        nngp,
                        ntk,
                        bindings: bindings.unwrap_or_default(),
                    },
                };
                ClaimKind::Formula {
                    net,
                    statement,
                    x1: k.required("x1")?,
                    x2: k.string("x2")?,
                    rtol: k.positive("rtol", 1e-8)?,
                }
            }
            "psd" => ClaimKind::Psd {
                source: source(&mut k, "net", "orbit")?,
                x: k.required("x")?,
                tol: k.positive("tol", 1e-10)?,
            },
            "monte_carlo" => {
                let net = k.required("net")?;
                ClaimKind::MonteCarlo {
                    reference: k.string("reference")?.unwrap_or_else(|| net.clone()),
                    net,
                    x1: k.required("x1")?,
                    x2: k.string("x2")?,
                    widths: k
                        .counts("widths")?
                        .ok_or_else(|| k.err("missing key `widths` (e.g. [256, 1024])"))?,
                    samples: k
                        .count("samples")?
                        .ok_or_else(|| k.err("missing key `samples`"))?,
                    z: k.positive("z", 5.0)?,
                    bias: k.positive("bias", 0.0)?,
                    seed: k.positive("seed", 0.0)? as u64,
                    which: k.which()?,
                }
            }
            "mean_prediction_equal" => ClaimKind::MeanPredictionEqual {
                a: source(&mut k, "a", "orbit_a")?,
                b: source(&mut k, "b", "orbit_b")?,
                augment_a: k.group("augment_a")?,
                augment_b: k.group("augment_b")?,
                train: k.required("train")?,
                targets: k.required("targets")?,
                test: k.required("test")?,
                times: k.times()?,
                rtol: k.positive("rtol", 1e-9)?,
            },
            "invariant_prediction" => ClaimKind::InvariantPrediction {
                net: k.required("net")?,
                group: k
                    .group("group")?
                    .ok_or_else(|| k.err("missing key `group`"))?,
                augment: k.boolean("augment", true)?,
                train: k.required("train")?,
                targets: k.required("targets")?,
                test: k.required("test")?,
                times: k.times()?,
                rtol: k.positive("rtol", 1e-9)?,
            },
            o => {
                return Err(k.err(format!(
                    "unknown claim kind \"{o}\" (kernel_equal, invariant, psd, monte_carlo, \
                     mean_prediction_equal, invariant_prediction)"
                )))
            }
        };
        k.finish()?;
        Ok(Claim {
            name,
            kind,
            expect_fail,
        })
    }

    /// Every network and input a claim names must exist.
    fn check_names(&self) -> Result<()> {
        let file = self.path.display();
        for (i, c) in self.claims.iter().enumerate() {
            let (nets, inputs): (Vec<&String>, Vec<&String>) = match &c.kind {
                ClaimKind::KernelEqual { a, b, x1, x2, .. } => (
                    vec![&a.net, &b.net],
                    [Some(x1), x2.as_ref()].into_iter().flatten().collect(),
                ),
                ClaimKind::Invariant { source, x1, x2, .. } => (
                    vec![&source.net],
                    [Some(x1), x2.as_ref()].into_iter().flatten().collect(),
                ),
                ClaimKind::Psd { source, x, .. } => (vec![&source.net], vec![x]),
                ClaimKind::Formula { net, x1, x2, .. } => (
                    vec![net],
                    [Some(x1), x2.as_ref()].into_iter().flatten().collect(),
                ),
                ClaimKind::MonteCarlo {
                    net,
                    reference,
                    x1,
                    x2,
                    ..
                } => (
                    vec![net, reference],
                    [Some(x1), x2.as_ref()].into_iter().flatten().collect(),
                ),
                ClaimKind::MeanPredictionEqual {
                    a,
                    b,
                    train,
                    targets,
                    test,
                    ..
                } => (vec![&a.net, &b.net], vec![train, targets, test]),
                ClaimKind::InvariantPrediction {
                    net,
                    train,
                    targets,
                    test,
                    ..
                } => (vec![net], vec![train, targets, test]),
            };
            if let Some(n) = nets.iter().find(|n| !self.networks.contains_key(**n)) {
                return Err(Error::Spec(format!(
                    "{file}: claims[{i}]: no network named `{n}` (defined: {})",
                    self.networks.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            if let Some(n) = inputs.iter().find(|n| !self.inputs.contains_key(**n)) {
                return Err(Error::Spec(format!(
                    "{file}: claims[{i}]: no input named `{n}` (defined: {})",
                    self.inputs.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        Ok(())
    }
}
