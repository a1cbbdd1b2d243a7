//! Data-set fixtures: `.npz` archives written in the scratch folder, and a small slice of the
//! shipped rotated digits for studies that must run in seconds.

use std::path::{Path, PathBuf};

use eqntk::io::read_npz;
use npyz::WriterBuilder;

use super::cli;

/// The values of one array of [`npz`], with their dtype.
pub enum Values<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
    I64(&'a [i64]),
    I32(&'a [i32]),
}

/// Writes an `.npz` archive of `(name, shape, values)` arrays in the scratch folder.
pub fn npz(file: &str, arrays: &[(&str, &[u64], Values)]) -> PathBuf {
    let path = cli::dir().join(file);
    let mut w = npyz::npz::NpzWriter::create(&path).unwrap();
    for (name, shape, values) in arrays {
        macro_rules! put {
            ($t:ty, $v:expr) => {{
                let mut a = w
                    .array::<$t>(name, Default::default())
                    .unwrap()
                    .default_dtype()
                    .shape(shape)
                    .begin_nd()
                    .unwrap();
                a.extend($v.iter().copied()).unwrap();
                a.finish().unwrap();
            }};
        }
        match values {
            Values::F64(v) => put!(f64, v),
            Values::F32(v) => put!(f32, v),
            Values::I64(v) => put!(i64, v),
            Values::I32(v) => put!(i32, v),
        }
    }
    drop(w);
    path
}

/// A small digits study: 60 training and 15 test images of the rotated set, in file order.
/// Written once for all the tests that read it (they run in parallel).
pub fn small_digits() -> PathBuf {
    static FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(write_small_digits).clone()
}

fn write_small_digits() -> PathBuf {
    let rot =
        read_npz(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits/digits_rotated.npz"))
            .unwrap();
    let (x, y) = (&rot["x"].array.values, &rot["y"].array.values);
    let y: Vec<i64> = y.iter().map(|v| *v as i64).collect();
    npz(
        "small_digits.npz",
        &[
            ("x_train", &[60, 8, 8, 1], Values::F64(&x[..60 * 64])),
            ("y_train", &[60], Values::I64(&y[..60])),
            ("x_test", &[15, 8, 8, 1], Values::F64(&x[60 * 64..75 * 64])),
            ("y_test", &[15], Values::I64(&y[60..75])),
        ],
    )
}
