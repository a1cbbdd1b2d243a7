//! Arrays in and out: `.npy` files (through `npyz`) and JSON nested lists (through `serde_json`).
//!
//! An [`Array`] is a shape and its values in C order (last axis fastest), always f64. Reading
//! accepts `.npy` with dtype f64 or f32 (i64 and i32 are converted too), C order, any byte
//! order; and `.json` holding rectangular nested lists of numbers. Every error names the file,
//! and where it helps the offending index, in one line.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use faer::{Mat, MatRef};
use npyz::{DType, Order, TypeChar, WriterBuilder};
use serde_json::Value;

use crate::budget;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::symbolic::print::compact_number;

/// An n-dimensional f64 array: `values[flat(i₀, …, i_{d−1})]` with C-order (row-major)
/// flattening `flat = ((i₀·s₁ + i₁)·s₂ + …)`; `values.len() = Π shape`.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The extent of each axis.
    pub shape: Vec<usize>,
    /// The values, last axis fastest.
    pub values: Vec<f64>,
}

impl Array {
    /// An array from its shape and values; errors when `values.len() ≠ Π shape`.
    pub fn new(shape: Vec<usize>, values: Vec<f64>) -> Result<Self> {
        let len: usize = shape.iter().product();
        if len != values.len() {
            return Err(Error::Shape(format!(
                "an array of shape {shape:?} needs {len} values, got {}",
                values.len()
            )));
        }
        Ok(Self { shape, values })
    }

    /// The `R × C` array of a matrix (`values[i·C + j] = a[i, j]`).
    pub fn from_mat(a: MatRef<f64>) -> Self {
        let (r, c) = (a.nrows(), a.ncols());
        let values = (0..r)
            .flat_map(|i| (0..c).map(move |j| a[(i, j)]))
            .collect();
        Self {
            shape: vec![r, c],
            values,
        }
    }

    /// The array as a matrix: shape `[R, C]` gives R × C, shape `[N]` gives an N × 1 column
    /// (one output per example). Other ranks are an error naming `what`.
    pub fn to_mat(&self, what: &str) -> Result<Mat<f64>> {
        let (r, c) = match self.shape[..] {
            [n] => (n, 1),
            [r, c] => (r, c),
            _ => {
                return Err(Error::Shape(format!(
                    "{what} must have shape [N] or [N, O], got {:?}",
                    self.shape
                )))
            }
        };
        if self.values.len() != r * c {
            return Err(Error::Shape(format!(
                "{what}: shape {:?} does not match its {} values",
                self.shape,
                self.values.len()
            )));
        }
        Ok(Mat::from_fn(r, c, |i, j| self.values[i * c + j]))
    }
}

/// Reads an array from `path`, chosen by extension: `.npy` (f64, f32, i64 or i32; C order) or
/// `.json` (rectangular nested lists of numbers). Rejects empty arrays and NaN/±Inf, naming
/// the file and the index.
pub fn read_array(path: &Path) -> Result<Array> {
    let name = path.display().to_string();
    let array = match extension(path).as_deref() {
        Some("npy") => read_npy(path, &name)?,
        Some("json") => read_json(path, &name)?,
        _ => {
            return Err(Error::Invalid(format!(
                "{name}: unsupported file type; arrays are read from .npy or .json files"
            )))
        }
    };
    check_array(&name, array)
}

/// An array read from `name` is usable: not empty, every value finite and small enough that
/// its square does not overflow the kernels.
fn check_array(name: &str, array: Array) -> Result<Array> {
    if array.values.is_empty() {
        return Err(Error::Shape(format!(
            "{name}: the array is empty (shape {:?})",
            array.shape
        )));
    }
    if let Some(k) = array.values.iter().position(|v| !v.is_finite()) {
        return Err(Error::Data(format!(
            "{name}: non-finite value {} at {:?}",
            array.values[k],
            unravel(k, &array.shape)
        )));
    }
    if let Some(k) = array
        .values
        .iter()
        .position(|v| v.abs() > budget::MAX_INPUT_ABS)
    {
        return Err(Error::Data(format!(
            "{name}: value {} at {:?} is too large: its square overflows the kernels \
             (|x| must be at most {})",
            compact_number(array.values[k]),
            unravel(k, &array.shape),
            compact_number(budget::MAX_INPUT_ABS)
        )));
    }
    Ok(array)
}

/// One array of an `.npz` archive, with the dtype it was stored in (`<f8`, `<i8`, …).
#[derive(Clone, Debug, PartialEq)]
pub struct NpzEntry {
    /// The values, as f64.
    pub array: Array,
    /// The stored dtype.
    pub dtype: String,
}

/// Reads every array of an `.npz` archive (`numpy.savez`, compressed or not), by name; each is
/// checked as a `.npy` file is, and named `FILE[name]` in errors.
pub fn read_npz(path: &Path) -> Result<std::collections::BTreeMap<String, NpzEntry>> {
    let name = path.display().to_string();
    let bad = |e: &dyn std::fmt::Display| {
        Error::Data(format!(
            "{name}: not a readable .npz archive ({})",
            first_line(&e.to_string())
        ))
    };
    let file = File::open(path).map_err(|source| Error::Io {
        path: name.clone(),
        source,
    })?;
    let mut npz = npyz::npz::NpzArchive::new(BufReader::new(file)).map_err(|e| bad(&e))?;
    let members: Vec<String> = npz.zip_archive().file_names().map(String::from).collect();
    let mut out = std::collections::BTreeMap::new();
    for member in members {
        let Some(array_name) = npyz::npz::array_name_from_file_name(&member).map(String::from)
        else {
            continue;
        };
        let label = format!("{name}[{array_name}]");
        let mut f = npz.zip_archive().by_name(&member).map_err(|e| bad(&e))?;
        budget::check(&format!("{label}: {} bytes", f.size()), f.size() as u128)?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).map_err(|e| bad(&e))?;
        drop(f);
        let len = bytes.len() as u64;
        let mut cursor = std::io::Cursor::new(bytes);
        let dtype = {
            let npy = npyz::NpyFile::new(&mut cursor).map_err(|e| {
                Error::Data(format!(
                    "{label}: not a readable .npy array ({})",
                    first_line(&e.to_string())
                ))
            })?;
            npy.dtype().descr().trim_matches('\'').to_string()
        };
        cursor.set_position(0);
        let array = check_array(&label, read_npy_from(cursor, len, &label)?)?;
        out.insert(array_name, NpzEntry { array, dtype });
    }
    if out.is_empty() {
        return Err(Error::Data(format!("{name}: the archive holds no arrays")));
    }
    Ok(out)
}

/// Reads a batch of examples from `path`: an array of shape `[N, *example_shape]`
/// (see [`read_array`] and [`Batch::from_array`]); errors name the file.
pub fn read_batch(path: &Path) -> Result<Batch> {
    let a = read_array(path)?;
    Batch::from_array(&a.shape, a.values).map_err(|e| in_file(path, e))
}

/// Writes `a` to `path` as a little-endian f64 `.npy` file in C order.
pub fn write_npy(path: &Path, a: &Array) -> Result<()> {
    let name = path.display().to_string();
    let len: usize = a.shape.iter().product();
    if len != a.values.len() {
        return Err(Error::Shape(format!(
            "{name}: cannot write an array of shape {:?} with {} values",
            a.shape,
            a.values.len()
        )));
    }
    let io_err = |source: std::io::Error| Error::Io {
        path: name.clone(),
        source,
    };
    let file = File::create(path).map_err(io_err)?;
    let shape: Vec<u64> = a.shape.iter().map(|&s| s as u64).collect();
    let mut writer = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&shape)
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(io_err)?;
    writer.extend(a.values.iter().copied()).map_err(io_err)?;
    writer.finish().map_err(io_err)
}

/// The array as JSON nested lists: shape `[A, B]` gives `[[..B numbers..], ..A rows..]`;
/// shape `[]` gives a bare number. (Non-finite values, which JSON lacks, become `null`.)
pub fn to_json_nested(a: &Array) -> Value {
    fn nest(shape: &[usize], values: &[f64]) -> Value {
        match shape.split_first() {
            None => Value::from(values[0]),
            Some((&n, rest)) => {
                let step: usize = rest.iter().product();
                Value::Array(
                    (0..n)
                        .map(|i| nest(rest, &values[i * step..(i + 1) * step]))
                        .collect(),
                )
            }
        }
    }
    if a.values.is_empty() {
        // A zero axis: the nesting down to it, empty below.
        return nest_empty(&a.shape);
    }
    nest(&a.shape, &a.values)
}

fn nest_empty(shape: &[usize]) -> Value {
    match shape.split_first() {
        Some((&n, rest)) if n > 0 => Value::Array((0..n).map(|_| nest_empty(rest)).collect()),
        _ => Value::Array(Vec::new()),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

/// Prefixes an error's message with the file name.
fn in_file(path: &Path, e: Error) -> Error {
    let name = path.display();
    match e {
        Error::Spec(m) => Error::Spec(format!("{name}: {m}")),
        Error::Shape(m) => Error::Shape(format!("{name}: {m}")),
        Error::Data(m) => Error::Data(format!("{name}: {m}")),
        Error::Group(m) => Error::Group(format!("{name}: {m}")),
        Error::Numeric(m) => Error::Numeric(format!("{name}: {m}")),
        Error::Invalid(m) => Error::Invalid(format!("{name}: {m}")),
        io @ Error::Io { .. } => io,
        other => Error::InFile {
            path: name.to_string(),
            source: Box::new(other),
        },
    }
}

/// The multi-index of flat position `k` in C order.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (d, &s) in shape.iter().enumerate().rev() {
        idx[d] = k % s.max(1);
        k /= s.max(1);
    }
    idx
}

fn read_npy(path: &Path, name: &str) -> Result<Array> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: name.to_string(),
        source,
    })?;
    let file_len = file
        .metadata()
        .map_err(|source| Error::Io {
            path: name.to_string(),
            source,
        })?
        .len();
    read_npy_from(BufReader::new(file), file_len, name)
}

/// A `.npy` array from `reader`, which holds `file_len` bytes.
fn read_npy_from<R: std::io::Read + std::io::Seek>(
    mut reader: R,
    file_len: u64,
    name: &str,
) -> Result<Array> {
    let data_start = npy_data_start(&mut reader, name)?;
    check_npy_header_shape(&mut reader, data_start, name)?;
    let npy = npyz::NpyFile::new(reader).map_err(|e| {
        Error::Data(format!(
            "{name}: not a readable .npy file ({})",
            first_line(&e.to_string())
        ))
    })?;
    let shape: Vec<usize> = npy
        .shape()
        .iter()
        .map(|&s| usize::try_from(s).unwrap_or(usize::MAX))
        .collect();
    let len = budget::product(&format!("{name}: the header's shape"), &shape, usize::MAX)?;
    let item = npy.dtype().num_bytes().unwrap_or(8) as u128;
    budget::check_values(
        &format!("{name}: an array of shape {shape:?}"),
        len as u128,
        8,
    )?;
    let data_bytes = (file_len as u128).saturating_sub(data_start as u128);
    let promised = (len as u128).saturating_mul(item);
    if data_bytes != promised {
        return Err(Error::Data(format!(
            "{name}: header shape {shape:?} promises {promised} bytes of data, the file holds \
             {data_bytes}"
        )));
    }
    if npy.order() == Order::Fortran && shape.iter().filter(|&&s| s > 1).count() > 1 {
        return Err(Error::Data(format!(
            "{name}: the array is stored in Fortran order; save it in C order \
             (e.g. np.save(path, np.ascontiguousarray(x)))"
        )));
    }
    let corrupt = |e: std::io::Error| {
        Error::Data(format!(
            "{name}: truncated or corrupt data ({})",
            first_line(&e.to_string())
        ))
    };
    let dtype = npy.dtype();
    let values: Vec<f64> = match &dtype {
        DType::Plain(ts) => match (ts.type_char(), ts.size_field()) {
            (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(corrupt)?,
            (TypeChar::Float, 4) => npy
                .into_vec::<f32>()
                .map_err(corrupt)?
                .into_iter()
                .map(f64::from)
                .collect(),
            (TypeChar::Int, 8) => npy
                .into_vec::<i64>()
                .map_err(corrupt)?
                .into_iter()
                .map(|v| v as f64)
                .collect(),
            (TypeChar::Int, 4) => npy
                .into_vec::<i32>()
                .map_err(corrupt)?
                .into_iter()
                .map(f64::from)
                .collect(),
            _ => {
                return Err(Error::Data(format!(
                    "{name}: expected a float array, found dtype {ts}"
                )))
            }
        },
        other => {
            return Err(Error::Data(format!(
                "{name}: expected a float array, found dtype {}",
                other.descr()
            )))
        }
    };
    if values.len() != len {
        return Err(Error::Data(format!(
            "{name}: header shape {shape:?} promises {len} values, file holds {}",
            values.len()
        )));
    }
    Ok(Array { shape, values })
}

fn read_json(path: &Path, name: &str) -> Result<Array> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: name.to_string(),
        source,
    })?;
    let root: Value = serde_json::from_reader(BufReader::new(file)).map_err(|e| {
        Error::Data(format!(
            "{name}: not valid JSON ({})",
            first_line(&e.to_string())
        ))
    })?;
    // The shape is read off the first entry at each depth; every other entry must agree.
    let mut shape = Vec::new();
    let mut v = &root;
    while let Value::Array(items) = v {
        shape.push(items.len());
        match items.first() {
            Some(first) => v = first,
            None => break,
        }
    }
    // The shape is only a claim until every entry agrees: nothing is reserved from it.
    budget::product(&format!("{name}: the shape"), &shape, usize::MAX)?;
    let mut values = Vec::new();
    let mut index = Vec::new();
    collect_json(&root, &shape, &mut index, &mut values, name)?;
    Ok(Array { shape, values })
}

fn collect_json(
    v: &Value,
    shape: &[usize],
    index: &mut Vec<usize>,
    out: &mut Vec<f64>,
    name: &str,
) -> Result<()> {
    let depth = index.len();
    if depth == shape.len() {
        return match v.as_f64() {
            Some(x) if v.is_number() => {
                out.push(x);
                Ok(())
            }
            _ => Err(Error::Data(format!(
                "{name}: value at {index:?} is not a number"
            ))),
        };
    }
    let expected = shape[depth];
    let Value::Array(items) = v else {
        return Err(Error::Shape(format!(
            "{name}: {} is not a list, expected {expected} entries",
            row_name(index)
        )));
    };
    if items.len() != expected {
        return Err(Error::Shape(format!(
            "{name}: {} has {} entries, expected {expected}",
            row_name(index),
            items.len()
        )));
    }
    for (i, item) in items.iter().enumerate() {
        index.push(i);
        collect_json(item, shape, index, out, name)?;
        index.pop();
    }
    Ok(())
}

/// `row 3` for a top-level row, `row [1, 3]` deeper down.
fn row_name(index: &[usize]) -> String {
    match index {
        [] => "the top-level list".to_string(),
        [i] => format!("row {i}"),
        _ => format!("row {index:?}"),
    }
}

/// The byte offset where the data of a `.npy` file starts (after magic, version, header
/// length and header), read from its first bytes; the reader is rewound.
fn npy_data_start<R: std::io::Read + std::io::Seek>(r: &mut R, name: &str) -> Result<u64> {
    use std::io::SeekFrom;
    let mut head = [0u8; 12];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(source) => {
                return Err(Error::Io {
                    path: name.to_string(),
                    source,
                })
            }
        }
    }
    r.seek(SeekFrom::Start(0)).map_err(|source| Error::Io {
        path: name.to_string(),
        source,
    })?;
    if got < 10 || &head[..6] != b"\x93NUMPY" {
        return Err(Error::Data(format!(
            "{name}: not a readable .npy file (no \\x93NUMPY magic and header)"
        )));
    }
    match head[6] {
        1 => Ok(10 + u16::from_le_bytes([head[8], head[9]]) as u64),
        2 | 3 if got == 12 => {
            Ok(12 + u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as u64)
        }
        v => Err(Error::Data(format!(
            "{name}: not a readable .npy file (unsupported format version {v})"
        ))),
    }
}

/// Reads the header text of a `.npy` file (between its first bytes and `data_start`) and checks
/// that the product of its `shape` does not overflow, before the reader library computes it;
/// the reader is rewound. A header that cannot be read this way is left to the library.
fn check_npy_header_shape<R: std::io::Read + std::io::Seek>(
    r: &mut R,
    data_start: u64,
    name: &str,
) -> Result<()> {
    use std::io::{Read, SeekFrom};
    let io = |source| Error::Io {
        path: name.to_string(),
        source,
    };
    let len = data_start.min(1 << 20) as usize;
    let mut head = Vec::with_capacity(len);
    r.by_ref()
        .take(len as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    let text = String::from_utf8_lossy(&head);
    let Some(at) = text.find("'shape'").or_else(|| text.find("\"shape\"")) else {
        return Ok(());
    };
    let rest = &text[at..];
    let (Some(open), Some(close)) = (rest.find('('), rest.find(')')) else {
        return Ok(());
    };
    if close < open {
        return Ok(());
    }
    let mut dims = Vec::new();
    for part in rest[open + 1..close].split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        match part.parse::<u128>() {
            Ok(d) => dims.push(usize::try_from(d).unwrap_or(usize::MAX)),
            Err(_) => return Ok(()),
        }
    }
    budget::product(&format!("{name}: the header's shape"), &dims, usize::MAX).map(|_| ())
}

/// The first non-empty line of a library's message, trimmed.
pub(crate) fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Reads a text file; invalid UTF-8 is an error giving the byte offset of the first bad byte.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: name.clone(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        Error::Data(format!(
            "{name}: not valid UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// The one-line error of a TOML syntax error: `file: line L: invalid TOML: message` (the line
/// from the error's span, the message's first line).
pub(crate) fn toml_error(text: &str, file: &str, e: &toml::de::Error) -> Error {
    toml_error_as(text, file, e, "invalid TOML: ")
}

/// [`toml_error`] with `prefix` before the message (empty for errors of content, such as an
/// unknown or missing key, where the TOML itself is valid).
pub(crate) fn toml_error_as(text: &str, file: &str, e: &toml::de::Error, prefix: &str) -> Error {
    let message = first_line(e.message());
    let message = message.trim_end_matches('.');
    let Some(span) = e.span() else {
        return Error::Spec(format!("{file}: {prefix}{message}"));
    };
    let boundary = |i: usize| {
        (0..=i.min(text.len()))
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0)
    };
    let start = boundary(span.start);
    let line = text[..start].matches('\n').count() + 1;
    // The key of the line the error points at, when the message does not name it.
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let key = line_text
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| {
            !k.is_empty()
                && k.len() <= 64
                && !k.starts_with('[')
                && k.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\''))
        })
        .filter(|k| !message.contains(&format!("`{k}`")));
    let key = key.map_or(String::new(), |k| format!("`{k}`: "));
    Error::Spec(format!("{file}: line {line}: {prefix}{key}{message}"))
}

/// Reads a network file: the text (see `read_text`), its sizes and scales checked against
/// the limits of [`crate::budget`] (`check_network_table`), then [`Network::from_toml_str`].
pub fn read_network(path: &Path) -> Result<Network> {
    let text = read_text(path)?;
    let file = path.display().to_string();
    network_from_str(&text, &file)
}

/// [`read_network`] from text; `file` names it in errors.
pub(crate) fn network_from_str(text: &str, file: &str) -> Result<Network> {
    let table: toml::Table = text.parse().map_err(|e| toml_error(text, file, &e))?;
    check_network_table(&table, file)?;
    Network::from_toml_str(text, file)
}

/// The scale parameters of layers (`w_std`, `b_std`, activation parameters) whose squares
/// must stay finite.
pub(crate) const SCALE_KEYS: [&str; 6] = ["w_std", "b_std", "alpha", "a", "b", "c"];

/// The largest |value| of a scale parameter: its square, times any finite kernel, stays
/// representable for a few layers, and the kernel fold catches the rest.
pub const MAX_SCALE: f64 = 1e150;

/// Checks the sizes and scales of a parsed network table before the network is built:
/// `input.shape` and each layer's `filter` have sides at most [`budget::MAX_EXTENT`] and at
/// most [`budget::MAX_ENTRIES`] entries; `width` is at most [`budget::MAX_EXTENT`]; scale
/// parameters ([`SCALE_KEYS`]) are finite and at most [`MAX_SCALE`] in size. Other checks are
/// left to [`Network::from_toml_str`].
pub(crate) fn check_network_table(table: &toml::Table, file: &str) -> Result<()> {
    use toml::Value as T;
    let sides = |v: &T, what: &str| -> Result<()> {
        let T::Array(items) = v else { return Ok(()) };
        let mut dims = Vec::new();
        for item in items {
            if let T::Integer(i) = item {
                let d = usize::try_from(*i).unwrap_or(0);
                if d > budget::MAX_EXTENT {
                    return Err(budget::too_large(
                        what,
                        format!("{v}"),
                        format!("{} per side", budget::MAX_EXTENT),
                    ));
                }
                dims.push(d);
            }
        }
        budget::product(what, &dims, budget::MAX_ENTRIES).map(|_| ())
    };
    if let Some(T::Table(input)) = table.get("input") {
        if let Some(shape) = input.get("shape") {
            sides(shape, &format!("{file}: [input]: shape"))?;
        }
    }
    let Some(T::Array(layers)) = table.get("layers") else {
        return Ok(());
    };
    check_layers(layers, "layers", file, &sides)
}

/// [`check_network_table`] on the layer list `layers` found at `at` (`layers`,
/// `layers[1].block`, …), and on the layer lists nested in its residual and parallel blocks.
fn check_layers(
    layers: &[toml::Value],
    at: &str,
    file: &str,
    sides: &dyn Fn(&toml::Value, &str) -> Result<()>,
) -> Result<()> {
    use toml::Value as T;
    for (i, layer) in layers.iter().enumerate() {
        let T::Table(layer) = layer else { continue };
        let kind = layer.get("kind").and_then(T::as_str).unwrap_or("?");
        let here = format!("{at}[{i}]");
        let place = format!("{file}: {here} ({kind})");
        for key in ["filter", "window", "stride"] {
            if let Some(f) = layer.get(key) {
                sides(f, &format!("{place}: {key}"))?;
            }
        }
        if let Some(T::Integer(w)) = layer.get("width") {
            if *w > budget::MAX_EXTENT as i64 {
                return Err(budget::too_large(
                    &format!("{place}: width"),
                    w,
                    budget::MAX_EXTENT,
                ));
            }
        }
        for key in SCALE_KEYS {
            let v = match layer.get(key) {
                Some(T::Float(v)) => *v,
                Some(T::Integer(v)) => *v as f64,
                _ => continue,
            };
            if !v.is_finite() {
                return Err(Error::Key {
                    file: file.to_string(),
                    place: format!("{here} ({kind})"),
                    key: key.to_string(),
                    reason: format!("`{key}` must be a finite number, got {v}"),
                });
            }
            if v.abs() > MAX_SCALE {
                return Err(budget::too_large(
                    &format!("{place}: {key}"),
                    compact_number(v),
                    format!(
                        "{} in size, so that its square stays finite",
                        compact_number(MAX_SCALE)
                    ),
                ));
            }
        }
        // The layers of residual and parallel blocks, checked alike.
        for key in ["block", "shortcut"] {
            if let Some(T::Array(inner)) = layer.get(key) {
                check_layers(inner, &format!("{here}.{key}"), file, sides)?;
            }
        }
        if let Some(T::Array(branches)) = layer.get("branches") {
            for (b, branch) in branches.iter().enumerate() {
                if let T::Array(inner) = branch {
                    check_layers(inner, &format!("{here}.branches[{b}]"), file, sides)?;
                }
            }
        }
    }
    Ok(())
}
