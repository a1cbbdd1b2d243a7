//! Arrays in and out: `.npy` and JSON, good files and bad ones.

use std::path::{Path, PathBuf};

use eqntk::io::{read_array, read_batch, to_json_nested, write_npy, Array};
use eqntk::Error;
use npyz::{Order, WriterBuilder};

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("eqntk-io-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn write_text(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A version-1.0 `.npy` file assembled byte by byte from the format's specification.
fn raw_npy(dir: &Path, name: &str, descr: &str, shape: &str, data: &[u8]) -> PathBuf {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn err_of<T: std::fmt::Debug>(r: eqntk::Result<T>) -> (Error, String) {
    let e = r.expect_err("expected an error");
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "not one line: {msg:?}");
    (e, msg)
}

#[test]
fn npy_f64_round_trip() {
    let dir = scratch("roundtrip");
    let shape = vec![2, 3, 4];
    let values: Vec<f64> = (0..24)
        .map(|k| (k as f64).sin() * 1e-3 + k as f64)
        .collect();
    let a = Array::new(shape.clone(), values.clone()).unwrap();
    let p = dir.join("a.npy");
    write_npy(&p, &a).unwrap();
    assert_eq!(read_array(&p).unwrap(), a);
    // The file is a standard little-endian f64 array in C order.
    let npy = npyz::NpyFile::new(std::fs::File::open(&p).unwrap()).unwrap();
    assert_eq!(npy.dtype().descr(), "'<f8'");
    assert_eq!(npy.shape(), &[2, 3, 4]);
    assert_eq!(npy.order(), Order::C);
}

#[test]
fn npy_written_by_hand_reads_in_c_order() {
    let dir = scratch("byhand");
    let vals = [1.5f64, -2.0, 3.25, 4.0, 0.5, -6.0];
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = raw_npy(&dir, "x.npy", "<f8", "(2, 3)", &data);
    let a = read_array(&p).unwrap();
    assert_eq!(a.shape, vec![2, 3]);
    assert_eq!(a.values, vals.to_vec());
    // Big-endian too.
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let p = raw_npy(&dir, "xb.npy", ">f8", "(3, 2)", &data);
    assert_eq!(read_array(&p).unwrap().values, vals.to_vec());
}

#[test]
fn npy_f32_and_integers_are_converted() {
    let dir = scratch("f32");
    let p = dir.join("x32.npy");
    let vals32 = [0.1f32, -7.25, 3.0e-5, 1.0e6];
    let mut w = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(&[2, 2])
        .writer(std::io::BufWriter::new(std::fs::File::create(&p).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend(vals32.iter().copied()).unwrap();
    w.finish().unwrap();
    let a = read_array(&p).unwrap();
    assert_eq!(a.shape, vec![2, 2]);
    let expect: Vec<f64> = vals32.iter().map(|&v| f64::from(v)).collect();
    assert_eq!(a.values, expect);

    let data: Vec<u8> = [3i64, -4, 5].iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = raw_npy(&dir, "i8.npy", "<i8", "(3,)", &data);
    assert_eq!(read_array(&p).unwrap().values, vec![3.0, -4.0, 5.0]);
    let data: Vec<u8> = [7i32, -8].iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = raw_npy(&dir, "i4.npy", "<i4", "(1, 2)", &data);
    let a = read_array(&p).unwrap();
    assert_eq!((a.shape, a.values), (vec![1, 2], vec![7.0, -8.0]));
}

#[test]
fn npy_bad_dtype_fortran_order_nan_and_empty_are_errors() {
    let dir = scratch("npybad");
    let p = raw_npy(&dir, "x1.npy", "<U5", "(2,)", &[0u8; 40]);
    let (_, msg) = err_of(read_array(&p));
    assert!(
        msg.ends_with("x1.npy: expected a float array, found dtype <U5"),
        "{msg}"
    );

    let p = dir.join("f.npy");
    let mut w = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .order(Order::Fortran)
        .shape(&[2, 3])
        .writer(std::io::BufWriter::new(std::fs::File::create(&p).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend((0..6).map(|k| k as f64)).unwrap();
    w.finish().unwrap();
    let (_, msg) = err_of(read_array(&p));
    assert!(
        msg.contains("f.npy") && msg.contains("Fortran order"),
        "{msg}"
    );

    let mut vals = [0.0f64; 6];
    vals[5] = f64::NAN;
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = raw_npy(&dir, "nan.npy", "<f8", "(2, 3)", &data);
    let (e, msg) = err_of(read_array(&p));
    assert!(matches!(e, Error::Data(_)));
    assert!(
        msg.contains("nan.npy") && msg.contains("NaN at [1, 2]"),
        "{msg}"
    );

    let p = raw_npy(&dir, "empty.npy", "<f8", "(0, 3)", &[]);
    let (_, msg) = err_of(read_array(&p));
    assert!(msg.contains("empty.npy: the array is empty"), "{msg}");

    let p = raw_npy(&dir, "short.npy", "<f8", "(4,)", &[0u8; 16]);
    let (_, msg) = err_of(read_array(&p));
    assert!(msg.contains("short.npy"), "{msg}");

    let p = write_text(&dir, "junk.npy", "this is not numpy");
    let (_, msg) = err_of(read_array(&p));
    assert!(msg.contains("junk.npy: not a readable .npy file"), "{msg}");
}

#[test]
fn json_nested_lists_read_in_c_order() {
    let dir = scratch("json");
    let p = write_text(&dir, "x.json", "[[[1, 2], [3, 4.5]], [[-5, 6e-1], [7, 8]]]");
    let a = read_array(&p).unwrap();
    assert_eq!(a.shape, vec![2, 2, 2]);
    assert_eq!(a.values, vec![1.0, 2.0, 3.0, 4.5, -5.0, 0.6, 7.0, 8.0]);
}

#[test]
fn json_ragged_non_numeric_invalid_and_empty_are_errors() {
    let dir = scratch("jsonbad");
    let cases = [
        (
            "[[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2]]",
            "x.json: row 3 has 2 entries, expected 4",
        ),
        (
            "[[1,2,3],[4,5,\"a\"]]",
            "x.json: value at [1, 2] is not a number",
        ),
        (
            "[[1,2,3],[4,5,null]]",
            "x.json: value at [1, 2] is not a number",
        ),
        ("[[1,2],[3,[4]]]", "x.json: value at [1, 1] is not a number"),
        (
            "[[1,2],3]",
            "x.json: row 1 is not a list, expected 2 entries",
        ),
        (
            "[[[1],[2]],[[3],[4,5]]]",
            "x.json: row [1, 1] has 2 entries, expected 1",
        ),
        ("[]", "x.json: the array is empty"),
        ("[[], []]", "x.json: the array is empty"),
        ("[[1,2]", "x.json: not valid JSON"),
        ("[1, NaN]", "x.json: not valid JSON"),
    ];
    for (text, want) in cases {
        let p = write_text(&dir, "x.json", text);
        let (_, msg) = err_of(read_array(&p));
        assert!(msg.contains(want), "{text}: {msg:?} lacks {want:?}");
    }
}

#[test]
fn missing_file_and_wrong_extension_are_errors() {
    let dir = scratch("missing");
    let (e, msg) = err_of(read_array(&dir.join("nope.npy")));
    assert!(
        matches!(e, Error::Io { .. }) && msg.contains("nope.npy"),
        "{msg}"
    );
    let (e, msg) = err_of(read_array(&dir.join("nope.json")));
    assert!(
        matches!(e, Error::Io { .. }) && msg.contains("nope.json"),
        "{msg}"
    );
    let p = write_text(&dir, "x.csv", "1,2,3\n");
    let (_, msg) = err_of(read_array(&p));
    assert!(msg.contains("x.csv: unsupported file type"), "{msg}");
    let p = write_text(&dir, "noext", "[1]");
    let (_, msg) = err_of(read_array(&p));
    assert!(msg.contains("noext: unsupported file type"), "{msg}");
}

#[test]
fn batches_need_a_leading_example_axis() {
    let dir = scratch("batch");
    let p = write_text(
        &dir,
        "b.json",
        "[[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]",
    );
    let b = read_batch(&p).unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(b.shape(), &[3, 2]);
    assert_eq!(b.example(1), &[7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
    let p = write_text(&dir, "v.json", "[1, 2, 3]");
    let (e, msg) = err_of(read_batch(&p));
    assert!(matches!(e, Error::Shape(_)));
    assert!(msg.starts_with(&format!("{}: ", p.display())), "{msg}");
}

#[test]
fn nested_json_output_round_trips() {
    let dir = scratch("jsonout");
    let a = Array::new(vec![2, 3], vec![1.0, 2.5, -3.0, 4.0, 5.0, 6.125]).unwrap();
    let v = to_json_nested(&a);
    assert_eq!(v, serde_json::json!([[1.0, 2.5, -3.0], [4.0, 5.0, 6.125]]));
    let p = write_text(&dir, "o.json", &v.to_string());
    assert_eq!(read_array(&p).unwrap(), a);
    let three = Array::new(vec![1, 2, 1], vec![0.5, 0.25]).unwrap();
    assert_eq!(to_json_nested(&three), serde_json::json!([[[0.5], [0.25]]]));
    let scalar = Array::new(vec![], vec![2.0]).unwrap();
    assert_eq!(to_json_nested(&scalar), serde_json::json!(2.0));
}

#[test]
fn matrices_convert_both_ways() {
    let m = faer::Mat::from_fn(2, 3, |i, j| (10 * i + j) as f64);
    let a = Array::from_mat(m.as_ref());
    assert_eq!(a.shape, vec![2, 3]);
    assert_eq!(a.values, vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
    assert_eq!(a.to_mat("y").unwrap(), m);
    let col = Array::new(vec![3], vec![1.0, 2.0, 3.0])
        .unwrap()
        .to_mat("y")
        .unwrap();
    assert_eq!((col.nrows(), col.ncols(), col[(2, 0)]), (3, 1, 3.0));
    let cube = Array::new(vec![1, 1, 2], vec![1.0, 2.0]).unwrap();
    let (_, msg) = err_of(cube.to_mat("the targets"));
    assert!(
        msg.contains("the targets must have shape [N] or [N, O]"),
        "{msg}"
    );
    assert!(Array::new(vec![2, 2], vec![1.0]).is_err());
}
