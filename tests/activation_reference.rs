//! The closed-form activations against neural-tangents: NNGP and NTK of two-hidden-layer MLPs
//! computed by neural-tangents (`tests/reference/activations_nt.py`, numbers committed in
//! `tests/reference/activations_nt.json`), to 1e-10 relative to the kernel's scale.
//!
//! neural-tangents is right for every case there; where it is not (Hermite off unit variance,
//! RectifiedMonomial on the diagonal, Sign on the diagonal) the script generates no reference
//! or the test skips those entries, and `tests/activation_network.rs` checks eqntk by hand
//! cases and Monte Carlo instead.

use eqntk::{Batch, Network};
use faer::Mat;
use serde_json::Value;

const DATA: &str = include_str!("reference/activations_nt.json");

fn matrix(v: &Value) -> Mat<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    Mat::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}

fn batch(v: &Value) -> Batch {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    Batch::new(vec![rows[0].len()], rows.concat()).unwrap()
}

/// The largest `|a − b|` relative to `max |b|`, skipping the diagonal when `off_diagonal`.
fn relative_error(a: &Mat<f64>, b: &Mat<f64>, off_diagonal: bool) -> f64 {
    let mut scale: f64 = 0.0;
    let mut diff: f64 = 0.0;
    for i in 0..b.nrows() {
        for j in 0..b.ncols() {
            scale = scale.max(b[(i, j)].abs());
            if !(off_diagonal && i == j) {
                diff = diff.max((a[(i, j)] - b[(i, j)]).abs());
            }
        }
    }
    diff / scale.max(f64::MIN_POSITIVE)
}

#[test]
fn kernels_match_neural_tangents() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut kinds: Vec<&str> = cases.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    kinds.dedup();
    for kind in [
        "gelu",
        "sign",
        "sin",
        "cos",
        "rbf",
        "exp",
        "gaussian",
        "monomial",
        "polynomial",
        "hermite",
        "sigmoid_like",
        "rectified_monomial",
    ] {
        assert!(
            kinds.contains(&kind),
            "no neural-tangents reference for {kind}"
        );
    }
    let mut worst: f64 = 0.0;
    for case in cases {
        let what = format!("{} {}", case["kind"], case["params"]);
        let net = Network::from_toml_str(case["network"].as_str().unwrap(), &what).unwrap();
        let inputs = &data["inputs"][case["inputs"].as_str().unwrap()];
        let (x1, x2) = (batch(&inputs["x1"]), batch(&inputs["x2"]));
        let k11 = net.kernel(&x1, None).unwrap();
        let k12 = net.kernel(&x1, Some(&x2)).unwrap();
        // rectified monomials: neural-tangents' diagonal is NaN, so only x1 against x2
        // (one hidden layer, which reads no NaN) is compared
        let cross_only = case["cross_only"].as_bool().unwrap_or(false);
        // neural-tangents' Sign forms arctan2(√(k11 k22 − k12²), k12): on the diagonal the
        // square root of a rounding error (~1e-9 relative there) moves T by ~1e-4. The exact
        // value is T(k, k, k) = E[sign(u)²] = 1, checked below.
        let sign = case["kind"] == "sign";
        if sign {
            let k = k11.nngp().unwrap();
            for i in 0..k.nrows() {
                assert!((k[(i, i)] - (1.2f64 * 1.2 + 0.1 * 0.1)).abs() < 1e-14);
            }
        }
        for (name, ours) in [
            ("nngp_11", k11.nngp().unwrap()),
            ("ntk_11", k11.ntk().unwrap()),
            ("nngp_12", k12.nngp().unwrap()),
            ("ntk_12", k12.ntk().unwrap()),
        ] {
            if cross_only && name.ends_with("11") {
                assert!(case.get(name).is_none());
                continue;
            }
            let err = relative_error(&ours, &matrix(&case[name]), sign && name.ends_with("11"));
            worst = worst.max(err);
            assert!(err <= 1e-10, "{what} {name}: relative error {err:.2e}");
        }
    }
    eprintln!("activations vs neural-tangents: worst relative error {worst:.2e}");
}
