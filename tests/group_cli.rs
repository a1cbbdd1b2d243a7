//! `eqntk group table | decompose | check`.

use crate::common::cli::eqntk;

/// Run `eqntk group ARGV`: `Ok((stdout, the check passed))` for exit codes 0 and 1, the error
/// line for exit code 2.
fn call(argv: &[&str]) -> Result<(String, bool), String> {
    let argv: Vec<&str> = std::iter::once("group")
        .chain(argv.iter().copied())
        .collect();
    match eqntk(&argv) {
        (0, out, _) => Ok((out, true)),
        (1, out, _) => Ok((out, false)),
        (_, _, err) => Err(err.trim_end().to_string()),
    }
}

fn json(argv: &[&str]) -> serde_json::Value {
    let (s, ok) = call(argv).unwrap();
    assert!(ok);
    serde_json::from_str(&s).unwrap()
}

#[test]
fn table_json_satisfies_the_orthogonality_relations() {
    for g in ["C1", "C7", "D1", "D2", "D6", "D7", "p4:2", "p4m:2"] {
        let v = json(&["table", g, "--format", "json"]);
        let order = v["order"].as_u64().unwrap() as f64;
        let sizes: Vec<f64> = v["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["size"].as_f64().unwrap())
            .collect();
        assert_eq!(sizes.iter().sum::<f64>(), order, "{g}");
        let rows: Vec<Vec<(f64, f64)>> = v["irreps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ir| {
                ir["characters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| match c.as_array() {
                        Some(p) => (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()),
                        None => (c.as_f64().unwrap(), 0.0),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(rows.len(), sizes.len(), "{g}: #irreps = #classes");
        let dims: f64 = v["irreps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["dim"].as_f64().unwrap().powi(2))
            .sum();
        assert_eq!(dims, order);
        for a in &rows {
            for b in &rows {
                let (mut re, mut im) = (0.0, 0.0);
                for ((x, y), s) in a.iter().zip(b).zip(&sizes) {
                    // x · conj(y)
                    re += s * (x.0 * y.0 + x.1 * y.1);
                    im += s * (x.1 * y.0 - x.0 * y.1);
                }
                let want = if std::ptr::eq(a, b) { order } else { 0.0 };
                assert!((re - want).abs() < 1e-9 && im.abs() < 1e-9, "{g}");
            }
        }
    }
}

#[test]
fn decompose_outputs() {
    let v = json(&["decompose", "D4", "image:3", "--format", "json"]);
    assert_eq!(v["group"], "D4");
    assert_eq!(v["rep"], "image:3");
    assert_eq!(v["dim"], 9);
    let m: Vec<(String, u64, u64)> = v["multiplicities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["irrep"].as_str().unwrap().to_string(),
                e["dim"].as_u64().unwrap(),
                e["multiplicity"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("A1", 1, 3),
        ("A2", 1, 0),
        ("B1", 1, 1),
        ("B2", 1, 1),
        ("E1", 2, 2),
    ];
    for (got, w) in m.iter().zip(want) {
        assert_eq!((got.0.as_str(), got.1, got.2), w);
    }
    let v = json(&["decompose", "C6", "regular", "--format", "json"]);
    assert!(v["multiplicities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["multiplicity"] == 1));
    let v = json(&["decompose", "p4m", "image:3", "--format", "json"]);
    assert_eq!(v["group"], "p4m:3");
    assert_eq!(v["dim"], 9);
    let v = json(&["decompose", "D5", "signal:10", "--format", "json"]);
    // D5 on 10 samples (shift by 2): two orbits, each A1 ⊕ E1 ⊕ E2, i.e. 2 A1 + 2 E1 + 2 E2.
    let ms: Vec<u64> = v["multiplicities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["multiplicity"].as_u64().unwrap())
        .collect();
    assert_eq!(ms, [2, 0, 2, 2]);
    let (md, _) = call(&["decompose", "D4", "image:3"]).unwrap();
    assert!(md.contains("image:3 = 3·A1 ⊕ B1 ⊕ B2 ⊕ 2·E1"), "{md}");
    let (tex, _) = call(&["decompose", "D4", "image:3", "--format", "latex"]).unwrap();
    assert!(
        tex.contains("$3\\,A_{1} \\oplus B_{1} \\oplus B_{2} \\oplus 2\\,E_{1}$"),
        "{tex}"
    );
    let v = json(&["decompose", "SO2:3", "signal:5", "--format", "json"]);
    let ms: Vec<u64> = v["multiplicities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["multiplicity"].as_u64().unwrap())
        .collect();
    assert_eq!(ms, [0, 1, 1, 1, 1, 1, 0]);
}

#[test]
fn d5_on_10_samples_by_orbit_counting() {
    // Independent of the code's multiplicities: the shift by 2 has 2 orbits of 5 sites, and D5
    // acts on each like on 5 samples, which holds A1, E1, E2 once (Frobenius reciprocity).
    let (s, _) = call(&["decompose", "D5", "signal:5", "--format", "json"]).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let ms: Vec<u64> = v["multiplicities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["multiplicity"].as_u64().unwrap())
        .collect();
    assert_eq!(ms, [1, 0, 1, 1]);
}

#[test]
fn check_passes_for_every_kind_of_group() {
    for g in [
        "C1", "C12", "D1", "D2", "D9", "p4:3", "p4m:2", "SO2", "SO2:6",
    ] {
        let (s, ok) = call(&["check", g]).unwrap();
        assert!(ok, "{g}\n{s}");
        assert!(!s.contains("FAIL"));
    }
    let v = json(&["check", "D4", "--format", "json"]);
    assert_eq!(v["passed"], true);
    assert!(v["checks"].as_array().unwrap().len() >= 10);
    let (tex, _) = call(&["check", "C3", "--format", "latex"]).unwrap();
    assert!(tex.contains("\\toprule"));
}

#[test]
fn tables_in_every_format() {
    let (md, _) = call(&["table", "D4"]).unwrap();
    assert!(md.contains("| E1 | 2 | 2 | 0 | -2 | 0 | 0 |"), "{md}");
    let (tex, _) = call(&["table", "C6", "--format", "latex"]).unwrap();
    assert!(tex.contains("\\begin{tabular}") && tex.contains("\\omega"));
    let (so2, _) = call(&["table", "SO2:2"]).unwrap();
    assert!(
        so2.contains("| chi_1 | 1 | 1 | ω | ω^2 | ω^3 | ω^4 |"),
        "{so2}"
    );
    let v = json(&["table", "SO2:1", "--format", "json"]);
    assert!(v["order"].is_null());
    assert_eq!(v["irreps"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_input_is_a_clear_error() {
    for argv in [
        vec!["table", "X3"],
        vec!["table", "C0"],
        vec!["table", "p4"],
        vec!["check", "D0"],
        vec!["decompose", "D5", "image:3"],
        vec!["decompose", "C4", "signal:6"],
        vec!["decompose", "D4", "pixels"],
        vec!["decompose", "D4", "signal:0"],
        vec!["decompose", "SO2", "signal:8"],
        vec!["decompose", "SO2", "regular"],
        vec!["decompose", "SO2:2", "signal:9"],
        vec!["decompose", "p4:3", "image:4"],
        vec!["decompose", "p4", "regular"],
    ] {
        let e = call(&argv).unwrap_err().to_string();
        assert!(!e.is_empty() && !e.contains('\n'), "{argv:?}: {e}");
    }
}
