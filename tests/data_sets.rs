//! Data-set files and the `kernel_regression` study: the `.npz` reader (dtypes, the x/y split,
//! every refusal), and the study's accuracy and OSP against a direct computation from
//! `eqntk predict`.

use std::path::Path;

use crate::common::cli;
use crate::common::digits::{npz, small_digits, Values};
use eqntk::dataset::{LabelledData, Labels, Split};
use eqntk::io::read_npz;

#[test]
fn the_shipped_digits_are_what_their_readme_says() {
    let all =
        read_npz(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits/digits.npz")).unwrap();
    assert_eq!(all["x"].array.shape, vec![1797, 8, 8, 1]);
    assert_eq!(all["y"].dtype, "<i8");
    let mut counts = [0; 10];
    all["y"]
        .array
        .values
        .iter()
        .for_each(|v| counts[*v as usize] += 1);
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    assert!(all["x"]
        .array
        .values
        .iter()
        .all(|v| (0.0..=1.0).contains(v) && (v * 16.0).fract() == 0.0));
    // the rotated copy: image i turned by turns[i] quarter turns (numpy.rot90, counter-clockwise)
    let rot =
        read_npz(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits/digits_rotated.npz"))
            .unwrap();
    let (x, xr, turns) = (
        &all["x"].array.values,
        &rot["x"].array.values,
        &rot["turns"].array.values,
    );
    for i in 0..1797 {
        let img = |r: usize, c: usize| x[i * 64 + r * 8 + c];
        for r in 0..8 {
            for c in 0..8 {
                // rot90 by k: out[r][c] = in[c][7 − r] once, applied k times
                let (mut a, mut b) = (r, c);
                for _ in 0..turns[i] as usize {
                    (a, b) = (b, 7 - a);
                }
                assert_eq!(xr[i * 64 + r * 8 + c], img(a, b), "image {i}");
            }
        }
    }
}

#[test]
fn the_reader_takes_f32_f64_and_integer_labels_and_splits_x_y() {
    let x: Vec<f64> = (0..24).map(|i| i as f64 / 10.0).collect();
    let xf: Vec<f32> = x.iter().map(|v| *v as f32).collect();
    let p = npz(
        "ok.npz",
        &[
            ("x_train", &[4, 3], Values::F32(&xf[..12])),
            ("y_train", &[4], Values::I32(&[0, 2, 1, 2])),
            ("x_test", &[4, 3], Values::F64(&x[12..])),
            ("y_test", &[4], Values::F64(&[1.0, 0.0, 2.0, 2.0])),
        ],
    );
    let d = LabelledData::from_npz(&p, None).unwrap();
    assert_eq!(d.x_train.shape(), &[3]);
    assert_eq!(
        d.x_train.example(1),
        &[0.3f32 as f64, 0.4f32 as f64, 0.5f32 as f64]
    );
    assert_eq!(
        d.labels,
        Labels::Classes {
            classes: 3,
            train: vec![0, 2, 1, 2],
            test: vec![1, 0, 2, 2]
        }
    );
    // centred one-hot targets: rows sum to zero, the label's entry is 1 − 1/K
    let y = d.train_targets();
    for i in 0..4 {
        let row: Vec<f64> = (0..3).map(|k| y[(i, k)]).collect();
        assert!(row.iter().sum::<f64>().abs() < 1e-15);
        assert!((row[[0, 2, 1, 2][i]] - 2.0 / 3.0).abs() < 1e-15);
    }
    // real targets and the x, y split
    let p = npz(
        "xy.npz",
        &[
            ("x", &[8, 3], Values::F64(&x)),
            ("y", &[8, 2], Values::F64(&x[..16])),
        ],
    );
    let d = LabelledData::from_npz(&p, Some(Split { test: 3, seed: 4 })).unwrap();
    assert_eq!((d.x_train.len(), d.x_test.len()), (5, 3));
    let Labels::Real { train, test } = &d.labels else {
        panic!("real targets")
    };
    assert_eq!((train.nrows(), train.ncols(), test.nrows()), (5, 2, 3));
    // every example lands in one half with its own target row
    let mut seen: Vec<f64> = (0..5)
        .map(|i| d.x_train.example(i)[0])
        .chain((0..3).map(|i| d.x_test.example(i)[0]))
        .collect();
    seen.sort_by(f64::total_cmp);
    assert_eq!(
        seen,
        (0..8).map(|i| (3 * i) as f64 / 10.0).collect::<Vec<_>>()
    );
    for i in 0..5 {
        let e = (d.x_train.example(i)[0] * 10.0).round() as usize / 3;
        assert_eq!(train[(i, 0)], x[2 * e]);
    }
}

#[test]
fn malformed_data_sets_are_refused_naming_what_is_wrong() {
    let x = [0.5f64; 12];
    type Arrays<'a> = Vec<(&'a str, Vec<u64>, Values<'a>)>;
    let cases: Vec<(&str, Arrays, &str)> = vec![
        (
            "missing.npz",
            vec![
                ("x_train", vec![4, 3], Values::F64(&x)),
                ("y_train", vec![4], Values::I64(&[0, 1, 0, 1])),
            ],
            "missing arrays x_test, y_test",
        ),
        (
            "negative.npz",
            vec![
                ("x_train", vec![2, 3], Values::F64(&x[..6])),
                ("y_train", vec![2], Values::I64(&[0, -1])),
                ("x_test", vec![2, 3], Values::F64(&x[..6])),
                ("y_test", vec![2], Values::I64(&[0, 1])),
            ],
            "integer labels are classes 0 … K−1",
        ),
        (
            "huge.npz",
            vec![
                ("x_train", vec![2, 3], Values::F64(&x[..6])),
                ("y_train", vec![2], Values::I64(&[0, 1_000_000])),
                ("x_test", vec![2, 3], Values::F64(&x[..6])),
                ("y_test", vec![2], Values::I64(&[0, 1])),
            ],
            "out of range",
        ),
        (
            "nan.npz",
            vec![
                (
                    "x_train",
                    vec![2, 3],
                    Values::F64(&[0.0, f64::NAN, 1.0, 2.0, 3.0, 4.0]),
                ),
                ("y_train", vec![2], Values::I64(&[0, 1])),
                ("x_test", vec![2, 3], Values::F64(&x[..6])),
                ("y_test", vec![2], Values::I64(&[0, 1])),
            ],
            "[x_train]: non-finite value NaN at [0, 1]",
        ),
        (
            "count.npz",
            vec![
                ("x_train", vec![2, 3], Values::F64(&x[..6])),
                ("y_train", vec![3], Values::I64(&[0, 1, 1])),
                ("x_test", vec![2, 3], Values::F64(&x[..6])),
                ("y_test", vec![2], Values::I64(&[0, 1])),
            ],
            "[y_train] has shape [3], expected [2]",
        ),
        (
            "shapes.npz",
            vec![
                ("x_train", vec![2, 3], Values::F64(&x[..6])),
                ("y_train", vec![2], Values::I64(&[0, 1])),
                ("x_test", vec![3, 2], Values::F64(&x[..6])),
                ("y_test", vec![3], Values::I64(&[0, 1, 1])),
            ],
            "x_train examples have shape [3], x_test examples [2]",
        ),
    ];
    for (file, arrays, want) in cases {
        let refs: Vec<(&str, &[u64], Values)> = arrays
            .into_iter()
            .map(|(n, s, v)| (n, &*Box::leak(s.into_boxed_slice()), v))
            .collect();
        let p = npz(file, &refs);
        let e = LabelledData::from_npz(&p, None).unwrap_err().to_string();
        assert!(e.contains(want), "{file}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
    let p = npz(
        "xy_nosplit.npz",
        &[
            ("x", &[4, 3], Values::F64(&x)),
            ("y", &[4], Values::I64(&[0, 1, 0, 1])),
        ],
    );
    let e = LabelledData::from_npz(&p, None).unwrap_err().to_string();
    assert!(e.contains("split"), "{e}");
    let e = LabelledData::from_npz(&p, Some(Split { test: 4, seed: 0 }))
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least one training and one test"), "{e}");
    // not an archive
    let bad = cli::file("not.npz", "hello");
    let e = read_npz(&bad).unwrap_err().to_string();
    assert!(e.contains("not a readable .npz archive"), "{e}");
    // a data set whose images do not fit the network: one line, exit 2
    let (code, _, err) = cli::eqntk(&["data", "info", cli::s(&bad)]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
}

fn study(data: &Path, times: &str, extra: &str) -> Vec<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        "kind = \"kernel_regression\"\ntitle = \"t\"\ndata = \"{}\"\ntimes = [{times}]\n{extra}\n\
         [[nets]]\nname = \"MLP\"\npath = \"{}\"\n",
        data.display(),
        root.join("experiments/nets/digits_mlp.toml").display()
    );
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = cli::file(&format!("study_{n}.toml"), &text);
    let out = cli::dir().join(format!("study_{n}"));
    let (code, _, err) = cli::eqntk(&["experiment", cli::s(&file), "--out", cli::s(&out)]);
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(out.join("kernel_regression.csv")).unwrap();
    csv.lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// The 90° rotation of an 8×8 image (numpy.rot90: out[r][c] = in[c][7 − r]).
fn rot90(img: &[f64]) -> Vec<f64> {
    (0..64).map(|k| img[(k % 8) * 8 + 7 - k / 8]).collect()
}

fn argmax(row: &[f64]) -> usize {
    (0..row.len()).fold(0, |b, i| if row[i] > row[b] { i } else { b })
}

#[test]
fn accuracy_and_osp_equal_a_direct_computation_from_predict() {
    let data = small_digits();
    let rows = study(
        &data,
        "1, inf",
        "augment = [\"none\", \"C4\"]\nmetrics = [\"accuracy\", \"osp\"]\nosp_group = \"C4\"",
    );
    assert_eq!(
        rows[0],
        [
            "network",
            "augmentation",
            "train_size",
            "time",
            "accuracy",
            "osp"
        ]
    );
    // the plain ensemble, directly: eqntk predict on x_train with centred one-hot targets, on
    // the test images and their three rotations
    let d = LabelledData::from_npz(&data, None).unwrap();
    let Labels::Classes { test: labels, .. } = &d.labels else {
        panic!()
    };
    let mut targets = Vec::new();
    let y = d.train_targets();
    for i in 0..y.nrows() {
        targets.extend((0..10).map(|k| y[(i, k)]));
    }
    let yf = cli::dir().join("direct_y.npy");
    eqntk::io::write_npy(
        &yf,
        &eqntk::io::Array {
            shape: vec![60, 10],
            values: targets,
        },
    )
    .unwrap();
    let xf = cli::data("direct_x.npy", &d.x_train);
    let mut orbit = Vec::new();
    for a in 0..15 {
        let mut img = d.x_test.example(a).to_vec();
        for _ in 0..4 {
            orbit.extend_from_slice(&img);
            img = rot90(&img);
        }
    }
    let tf = cli::data(
        "direct_t.npy",
        &eqntk::Batch::new(vec![8, 8, 1], orbit).unwrap(),
    );
    let net = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/nets/digits_mlp.toml");
    let (code, out, err) = cli::eqntk(&[
        "predict",
        "--net",
        cli::s(&net),
        "--x-train",
        cli::s(&xf),
        "--y-train",
        cli::s(&yf),
        "--x-test",
        cli::s(&tf),
        "--time",
        "1,inf",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let at = |r: &Vec<String>, aug: &str, t: f64| r[1] == aug && r[3].parse::<f64>().unwrap() == t;
    for (ti, time) in [1.0, f64::INFINITY].into_iter().enumerate() {
        let mean = &json["mean"][ti];
        let pred = |r: usize| -> usize {
            let row: Vec<f64> = (0..10).map(|c| mean[r][c].as_f64().unwrap()).collect();
            argmax(&row)
        };
        let acc = (0..15).filter(|&a| pred(4 * a) == labels[a]).count() as f64 / 15.0;
        let osp = (0..15)
            .map(|a| (0..4).filter(|&g| pred(4 * a + g) == pred(4 * a)).count())
            .sum::<usize>() as f64
            / 15.0;
        let row = rows.iter().skip(1).find(|r| at(r, "none", time)).unwrap();
        let (racc, rosp): (f64, f64) = (row[4].parse().unwrap(), row[5].parse().unwrap());
        assert!(
            (racc - acc).abs() < 1e-3,
            "t = {time}: study {racc}, direct {acc}"
        );
        assert!(
            (rosp - osp).abs() < 1e-3,
            "t = {time}: study {rosp}, direct {osp}"
        );
        // the C4-augmented infinite ensemble predicts one class on every orbit: OSP = |G|
        let aug = rows.iter().skip(1).find(|r| at(r, "C4", time)).unwrap();
        assert_eq!(aug[5].parse::<f64>().unwrap(), 4.0, "t = {time}");
    }
    // the plain one does not (on these rotated digits)
    let plain_inf = rows
        .iter()
        .skip(1)
        .find(|r| at(r, "none", f64::INFINITY))
        .unwrap();
    assert!(plain_inf[5].parse::<f64>().unwrap() < 4.0, "{plain_inf:?}");
}

/// Learning curves rise in expectation: the mean accuracy over 3 seeded subsets at t = ∞ grows
/// from 20 to 40 to 60 training images. (A single subset may buck the trend; the mean over
/// repeats is what is claimed, checked here on fixed seeds.)
#[test]
fn learning_curves_rise_over_repeats() {
    let data = small_digits();
    let rows = study(
        &data,
        "inf",
        "train_sizes = [20, 40, 60]\nrepeats = 3\nseed = 5",
    );
    let acc: Vec<f64> = [20, 40, 60]
        .iter()
        .map(|n| {
            let r = rows.iter().find(|r| r[2] == n.to_string()).unwrap();
            r[4].parse().unwrap()
        })
        .collect();
    assert!(acc[0] < acc[1] && acc[1] < acc[2], "{acc:?}");
}

#[test]
fn bad_studies_are_one_line_errors() {
    let data = small_digits();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = [
        ("metrics = [\"accurcy\"]", "unknown metric \"accurcy\""),
        ("metrics = [\"osp\"]", "need `osp_group`"),
        (
            "train_sizes = [61]",
            "not between 1 and the 60 training examples",
        ),
        ("augment = [\"C5\"]", "C5"),
    ];
    for (extra, want) in cases {
        let text = format!(
            "kind = \"kernel_regression\"\ntitle = \"t\"\ndata = \"{}\"\ntimes = [inf]\n{extra}\n\
             [[nets]]\nname = \"MLP\"\npath = \"{}\"\n",
            data.display(),
            root.join("experiments/nets/digits_mlp.toml").display()
        );
        let file = cli::file("bad_study.toml", &text);
        let out = cli::dir().join("bad_study");
        let e = cli::fails(&["experiment", cli::s(&file), "--out", cli::s(&out)]);
        assert!(e.contains(want), "{extra}: {e}");
    }
    // A study too large for the memory budget is refused before its first run, naming the
    // network, the augmentation and the training size (only the up-front check says them).
    let text = format!(
        "kind = \"kernel_regression\"\ntitle = \"t\"\ndata = \"{}\"\ntimes = [inf]\n\
         augment = [\"none\", \"p4m\"]\n[[nets]]\nname = \"MLP\"\npath = \"{}\"\n",
        data.display(),
        root.join("experiments/nets/digits_mlp.toml").display()
    );
    let file = cli::file("huge_study.toml", &text);
    let out = cli::dir().join("huge_study");
    let e = cli::fails(&[
        "--memory",
        "16M",
        "experiment",
        cli::s(&file),
        "--out",
        cli::s(&out),
    ]);
    assert!(
        e.contains("MLP with augment = \"p4m\" at 60 training examples"),
        "{e}"
    );
    assert!(!out.join("kernel_regression.csv").exists());
}
