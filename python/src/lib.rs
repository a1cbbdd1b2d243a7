//! `eqntk._eqntk`: the compiled core of the `eqntk` Python package.
//!
//! Each function takes a network as the text of an eqntk network file (the TOML that
//! `eqntk.stax` writes) and numpy arrays, releases the GIL while eqntk computes, and returns
//! numpy arrays that own eqntk's result vectors. eqntk errors become `ValueError` (and
//! `MemoryError`, `FloatingPointError`, `RuntimeError`, `OSError`) with eqntk's one-line
//! message. The Python modules (`eqntk.stax`, `eqntk.predict`, …) are the documented surface.

// The command line's modules, compiled into the extension too, so that `eqntk.derive`,
// `eqntk.groups` and `eqntk.verify` print exactly what the binary prints. The extension uses
// three of the subcommands; the rest is compiled but unused.
#[path = "../../src/cli/mod.rs"]
#[allow(dead_code)]
mod cli;
mod convert;
mod error;
mod imports;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use numpy::{PyArray2, PyArray3, PyReadonlyArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use convert::{array2, mat2, stack, view};
use error::{to_py, Result};
use imports::*;

/// Default relative tolerance of SO(2)/O(2) orbit quadratures (as `eqntk kernel --orbit`).
const ORBIT_TOL: f64 = 1e-12;
/// Default tolerance of SO(3)/O(3) orbit quadratures.
const SO3_ORBIT_TOL: f64 = 1e-10;

/// The NNGP and NTK arrays of a kernel call.
type KernelPair<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>);

fn network(spec: &str) -> Result<Network> {
    Network::from_toml_str(spec, "network")
}

/// NNGP and NTK of the network `spec` on `x1 × x2` (`x2 = None`: x1 × x1, the upper triangle
/// computed once): two row-major `N1 × N2` arrays.
///
/// With `orbit`, the kernels are averaged over the orbit of x2 under that group acting on the
/// network's declared input domain, `k̄(x, x′) = (1/|G|) Σ_g k(x, ρ(g) x′)`.
#[pyfunction]
#[pyo3(signature = (spec, x1, x2=None, orbit=None, orbit_tol=None))]
fn kernel<'py>(
    py: Python<'py>,
    spec: &str,
    x1: PyReadonlyArrayDyn<'py, f64>,
    x2: Option<PyReadonlyArrayDyn<'py, f64>>,
    orbit: Option<&str>,
    orbit_tol: Option<f64>,
) -> PyResult<KernelPair<'py>> {
    let v1 = view(&x1, "x1")?;
    let v2 = match &x2 {
        Some(a) => Some(view(a, "x2")?),
        None => None,
    };
    let spec = spec.to_owned();
    let orbit = orbit.map(str::to_owned);
    let computed = py.detach(move || -> Result<(usize, usize, Vec<f64>, Vec<f64>)> {
        let net = network(&spec)?;
        let b1 = v1.batch()?;
        let b2 = v2.as_ref().map(|v| v.batch()).transpose()?;
        let (n1, n2) = (b1.len(), b2.as_ref().map_or(b1.len(), |b| b.len()));
        match orbit {
            None => {
                let k = net.kernel(&b1, b2.as_ref())?;
                let (nngp, ntk) = k.into_row_major()?;
                Ok((n1, n2, nngp, ntk))
            }
            Some(g) => {
                let group = InputGroup::parse(&g)?;
                let tol = orbit_tol.unwrap_or(match group {
                    InputGroup::Rotation3(_) => SO3_ORBIT_TOL,
                    _ => ORBIT_TOL,
                });
                if !(tol.is_finite() && tol > 0.0) {
                    return Err(Error::Invalid(format!(
                        "orbit_tol must be a positive number, got {tol}"
                    )));
                }
                let o = orbit_kernel(&net, &b1, b2.as_ref(), group, tol)?;
                let flat = |m: &faer::Mat<f64>| -> Vec<f64> {
                    (0..n1)
                        .flat_map(|i| (0..n2).map(move |j| (i, j)))
                        .map(|(i, j)| m[(i, j)])
                        .collect()
                };
                Ok((n1, n2, flat(&o.nngp), flat(&o.ntk)))
            }
        }
    });
    let (n1, n2, nngp, ntk) = computed.map_err(to_py)?;
    Ok((array2(py, n1, n2, nngp), array2(py, n1, n2, ntk)))
}

/// The network's caveats (`warning:` lines of the command line), e.g. correlated branches.
#[pyfunction]
fn caveats(spec: &str) -> PyResult<Vec<String>> {
    Ok(network(spec).map_err(to_py)?.caveats())
}

/// Check a network description; returns the example shape and the declared domain.
#[pyfunction]
fn check_network(spec: &str) -> PyResult<(Vec<usize>, String)> {
    let net = network(spec).map_err(to_py)?;
    Ok((
        net.input_shape().to_vec(),
        format!("{:?}", net.domain()).to_lowercase(),
    ))
}

type PredictOut<'py> = (Bound<'py, PyArray3<f64>>, Option<Bound<'py, PyArray3<f64>>>);

/// The infinite ensemble of `spec` trained by gradient flow on MSE on `(x_train, y_train)`
/// (optionally on the full orbit under `augment`), at `x_test` and each of `times`:
/// means `[T, M, O]` and, with `cov`, covariances `[T, M, M]`.
#[pyfunction]
#[pyo3(signature = (spec, x_train, y_train, x_test, times, learning_rate=1.0, diag_reg=0.0, cov=false, augment=None, targets="invariant", explicit=false))]
#[allow(clippy::too_many_arguments)]
fn predict<'py>(
    py: Python<'py>,
    spec: &str,
    x_train: PyReadonlyArrayDyn<'py, f64>,
    y_train: PyReadonlyArrayDyn<'py, f64>,
    x_test: PyReadonlyArrayDyn<'py, f64>,
    times: Vec<f64>,
    learning_rate: f64,
    diag_reg: f64,
    cov: bool,
    augment: Option<&str>,
    targets: &str,
    explicit: bool,
) -> PyResult<PredictOut<'py>> {
    let (vx, vy, vt) = (
        view(&x_train, "x_train")?,
        view(&y_train, "y_train")?,
        view(&x_test, "x_test")?,
    );
    let (spec, augment, targets) = (
        spec.to_owned(),
        augment.map(str::to_owned),
        targets.to_owned(),
    );
    let p = py
        .detach(move || -> Result<_> {
            let net = network(&spec)?;
            let xb = vx.batch()?;
            let tb = vt.batch()?;
            let y = vy.mat("y_train")?;
            let aug = match &augment {
                Some(g) => Some(Augmentation::new(g, net.domain(), xb.shape())?),
                None => None,
            };
            let set = match &aug {
                Some(a) => a.training_set(OutputTransform::parse(&targets)?, explicit)?,
                None => TrainingSet::Given,
            };
            let m = tb.len();
            let p = InfiniteEnsemble::train(&net, &xb, y.as_ref(), set, learning_rate, diag_reg)?
                .predict(&tb, &times, cov)?;
            Ok((m, y.ncols(), p))
        })
        .map_err(to_py)?;
    let (m, o, p) = p;
    let means = stack(py, &p.mean, m, o);
    let covs = cov.then(|| stack(py, &p.cov, m, m));
    Ok((means, covs))
}

/// The predictor from kernels computed elsewhere: `ntk_train`, `nngp_train` (N × N), targets
/// (N × O), `ntk_test_train`, `nngp_test_train` (M × N) and, for covariances,
/// `nngp_test_test` (M × M). Passing the NNGP as both kernels gives neural-tangents'
/// `get='nngp'` predictor (training of the readout layer only).
#[pyfunction]
#[pyo3(signature = (ntk_train, nngp_train, y_train, ntk_test_train, nngp_test_train, times, learning_rate=1.0, diag_reg=0.0, nngp_test_test=None))]
#[allow(clippy::too_many_arguments)]
fn predict_kernels<'py>(
    py: Python<'py>,
    ntk_train: PyReadonlyArrayDyn<'py, f64>,
    nngp_train: PyReadonlyArrayDyn<'py, f64>,
    y_train: PyReadonlyArrayDyn<'py, f64>,
    ntk_test_train: PyReadonlyArrayDyn<'py, f64>,
    nngp_test_train: PyReadonlyArrayDyn<'py, f64>,
    times: Vec<f64>,
    learning_rate: f64,
    diag_reg: f64,
    nngp_test_test: Option<PyReadonlyArrayDyn<'py, f64>>,
) -> PyResult<PredictOut<'py>> {
    let a = view(&ntk_train, "ntk_train")?;
    let b = view(&nngp_train, "nngp_train")?;
    let y = view(&y_train, "y_train")?;
    let c = view(&ntk_test_train, "ntk_test_train")?;
    let d = view(&nngp_test_train, "nngp_test_train")?;
    let e = match &nngp_test_test {
        Some(a) => Some(view(a, "nngp_test_test")?),
        None => None,
    };
    let with_cov = e.is_some();
    let out = py
        .detach(move || -> Result<_> {
            let (ntk, nngp, y) = (a.mat("ntk_train")?, b.mat("nngp_train")?, y.mat("y_train")?);
            let (ntk_tx, nngp_tx) = (c.mat("ntk_test_train")?, d.mat("nngp_test_train")?);
            let n = ntk.nrows();
            for (what, m, r, cc) in [
                ("nngp_train", &nngp, n, n),
                ("y_train", &y, n, y.ncols()),
                ("ntk_test_train", &ntk_tx, ntk_tx.nrows(), n),
                ("nngp_test_train", &nngp_tx, ntk_tx.nrows(), n),
            ] {
                if m.nrows() != r || m.ncols() != cc {
                    return Err(Error::ShapeMismatch {
                        what: what.into(),
                        expected: vec![r, cc],
                        got: vec![m.nrows(), m.ncols()],
                    });
                }
            }
            let tt = e.as_ref().map(|v| v.mat("nngp_test_test")).transpose()?;
            let p = Predictor::new(
                ntk.as_ref(),
                nngp.as_ref(),
                y.as_ref(),
                learning_rate,
                diag_reg,
            )?;
            let mut means = Vec::new();
            let mut covs = Vec::new();
            for &t in &times {
                means.push(p.mean(ntk_tx.as_ref(), t)?);
                if let Some(k) = &tt {
                    covs.push(p.covariance(k.as_ref(), nngp_tx.as_ref(), ntk_tx.as_ref(), t)?);
                }
            }
            Ok((ntk_tx.nrows(), y.ncols(), means, covs))
        })
        .map_err(to_py)?;
    let (m, o, means, covs) = out;
    Ok((
        stack(py, &means, m, o),
        with_cov.then(|| stack(py, &covs, m, m)),
    ))
}

/// Outputs `[N, out_dim]` of the finite network of `spec` sampled at `width` from `seed`
/// (parameters i.i.d. N(0, 1), scaled as the parameterisation says).
#[pyfunction]
#[pyo3(signature = (spec, x, width, seed, out_dim=1))]
fn finite_apply<'py>(
    py: Python<'py>,
    spec: &str,
    x: PyReadonlyArrayDyn<'py, f64>,
    width: usize,
    seed: u64,
    out_dim: usize,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let v = view(&x, "x")?;
    let spec = spec.to_owned();
    let out = py
        .detach(move || -> Result<_> {
            let net = network(&spec)?;
            let f = FiniteNetwork::sample_with_outputs(&net, width, out_dim, seed)?;
            f.forward(&v.batch()?)
        })
        .map_err(to_py)?;
    Ok(mat2(py, &out))
}

/// The number of parameters of the finite network of `spec` at `width`.
#[pyfunction]
#[pyo3(signature = (spec, width, out_dim=1))]
fn finite_n_params(spec: &str, width: usize, out_dim: usize) -> PyResult<usize> {
    let net = network(spec).map_err(to_py)?;
    Ok(FiniteNetwork::sample_with_outputs(&net, width, out_dim, 0)
        .map_err(to_py)?
        .n_params())
}

static SCRATCH: AtomicUsize = AtomicUsize::new(0);

/// A fresh folder under the system's temporary directory holding `NAME.toml` = `spec`.
fn scratch_file(spec: &str, name: &str) -> Result<(PathBuf, PathBuf)> {
    let dir = std::env::temp_dir().join(format!(
        "eqntk-py-{}-{}",
        std::process::id(),
        SCRATCH.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |path: &PathBuf, source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, spec).map_err(|e| io(&file, e))?;
    Ok((dir, file))
}

/// The kernel recursion of `spec` as `eqntk derive --format FORMAT` prints it
/// (`text`, `unicode`, `latex`, `markdown`, `sympy`).
#[pyfunction]
#[pyo3(signature = (spec, format="latex", name="network"))]
fn derive(py: Python<'_>, spec: &str, format: &str, name: &str) -> PyResult<String> {
    let format = match format {
        "text" => DeriveFormat::Text,
        "unicode" => DeriveFormat::Unicode,
        "latex" => DeriveFormat::Latex,
        "markdown" => DeriveFormat::Markdown,
        "sympy" => DeriveFormat::Sympy,
        o => {
            return Err(PyValueError::new_err(format!(
                "format must be text, unicode, latex, markdown or sympy, got {o:?}"
            )))
        }
    };
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let spec = spec.to_owned();
    py.detach(move || -> Result<String> {
        let (dir, file) = scratch_file(&spec, &name)?;
        let out = derive_run(&DeriveArgs {
            net: file,
            eval: false,
            x1: None,
            x2: None,
            format: Some(format),
        });
        let _ = std::fs::remove_dir_all(&dir);
        out
    })
    .map_err(to_py)
}

fn table_format(format: &str) -> PyResult<TableFormat> {
    match format {
        "markdown" => Ok(TableFormat::Markdown),
        "latex" => Ok(TableFormat::Latex),
        "json" => Ok(TableFormat::Json),
        o => Err(PyValueError::new_err(format!(
            "format must be markdown, latex or json, got {o:?}"
        ))),
    }
}

/// `eqntk group table|decompose|check`: the text printed and whether every check held.
#[pyfunction]
#[pyo3(signature = (command, group, rep=None, format="json"))]
fn group(
    py: Python<'_>,
    command: &str,
    group: &str,
    rep: Option<&str>,
    format: &str,
) -> PyResult<(String, bool)> {
    let format = table_format(format)?;
    let group = group.to_owned();
    let command = match (command, rep) {
        ("table", None) => GroupCommand::Table { group, format },
        ("check", None) => GroupCommand::Check { group, format },
        ("decompose", Some(rep)) => GroupCommand::Decompose {
            group,
            rep: rep.to_owned(),
            format,
        },
        ("decompose", None) => {
            return Err(PyValueError::new_err(
                "decompose needs a representation (regular, signal:N, image:H, …)",
            ))
        }
        (c, _) => {
            return Err(PyValueError::new_err(format!(
                "command must be table, decompose or check, got {c:?}"
            )))
        }
    };
    py.detach(move || group_run(&GroupArgs { command }))
        .map_err(to_py)
}

/// `eqntk verify PATHS… [--check]`: the pass/fail table and whether every claim held.
#[pyfunction]
#[pyo3(signature = (paths, check=false))]
fn verify(py: Python<'_>, paths: Vec<PathBuf>, check: bool) -> PyResult<(String, bool)> {
    py.detach(move || verify_run(&VerifyArgs { paths, check }))
        .map_err(to_py)
}

/// The compiled core of `eqntk`.
#[pymodule]
fn _eqntk(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(kernel, m)?)?;
    m.add_function(wrap_pyfunction!(caveats, m)?)?;
    m.add_function(wrap_pyfunction!(check_network, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(predict_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(finite_apply, m)?)?;
    m.add_function(wrap_pyfunction!(finite_n_params, m)?)?;
    m.add_function(wrap_pyfunction!(derive, m)?)?;
    m.add_function(wrap_pyfunction!(group, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    Ok(())
}
