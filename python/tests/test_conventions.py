"""neural-tangents' return conventions, eqntk's errors as Python exceptions, no copies of
inputs, and the GIL released while eqntk computes."""

import threading
import time
import tracemalloc

import numpy as np
import pytest

import eqntk
from conftest import assert_close
from eqntk import stax

MLP = stax.serial(stax.Dense(512, 1.5, 0.1), stax.Relu(), stax.Dense(512, 1.5, 0.1), stax.Relu(),
                  stax.Dense(1, 1.5, 0.1))


def test_return_conventions(rng):
    x1, x2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 3))
    kernel_fn = MLP[2]
    k = kernel_fn(x1, x2)
    assert isinstance(k, eqntk.Kernel)
    assert k.nngp.shape == (4, 2) and k.ntk.shape == (4, 2)
    assert k.nngp.dtype == np.float64 and k.nngp.flags.c_contiguous
    # one array for a name, positional or keyword
    np.testing.assert_array_equal(kernel_fn(x1, x2, "ntk"), k.ntk)
    np.testing.assert_array_equal(kernel_fn(x1, x2, get="nngp"), k.nngp)
    # a namedtuple in the order asked
    t = kernel_fn(x1, x2, ("ntk", "nngp"))
    assert t._fields == ("ntk", "nngp")
    ntk, nngp = t
    np.testing.assert_array_equal(ntk, k.ntk)
    np.testing.assert_array_equal(nngp, k.nngp)
    assert kernel_fn(x1, x2, ("nngp",))._fields == ("nngp",)
    # x2 = None is x1 × x1: symmetric, and equal to passing x1 twice off the diagonal; on it,
    # x2 = None knows ρ = 1 exactly, while a pair passed twice goes through arccos(ρ ≈ 1), which
    # keeps only about half of the digits (√ε ≈ 1e-8), as for neural-tangents
    k11 = kernel_fn(x1)
    np.testing.assert_array_equal(k11.ntk, k11.ntk.T)
    twice = kernel_fn(x1, x1, "ntk")
    off = ~np.eye(4, dtype=bool)
    assert_close(k11.ntk[off], twice[off], rtol=1e-14)
    assert_close(np.diag(k11.ntk), np.diag(twice), rtol=1e-7)
    # the NTK exceeds the NNGP on the diagonal (Θ = K + positive terms)
    assert np.all(np.diag(k11.ntk) > np.diag(k11.nngp))
    # float32 and integer inputs are converted; JAX-like objects go through np.asarray
    assert_close(kernel_fn(x1.astype(np.float32), None, "ntk"),
                 kernel_fn(x1.astype(np.float32).astype(np.float64), None, "ntk"), rtol=1e-15)
    assert kernel_fn([[1, 0, 0], [0, 1, 0]], None, "nngp").shape == (2, 2)


def test_triples_and_serial_like_neural_tangents():
    layer = stax.Dense(3)
    assert isinstance(layer, tuple) and len(layer) == 3
    init_fn, apply_fn, kernel_fn = stax.serial(stax.Dense(16), stax.Relu(), stax.Dense(1))
    assert callable(init_fn) and callable(apply_fn) and callable(kernel_fn)
    # nested serial = flat serial
    x = np.eye(3)
    a = stax.serial(stax.serial(stax.Dense(16, 1.2), stax.Relu()), stax.Dense(1))[2](x, None, "ntk")
    b = stax.serial(stax.Dense(16, 1.2), stax.Relu(), stax.Dense(1))[2](x, None, "ntk")
    np.testing.assert_array_equal(a, b)
    # repeat(layer, n) = serial of n copies; repeat(layer, 0) is the identity
    block = stax.serial(stax.Dense(16, 1.3, 0.1), stax.Erf())
    c = stax.serial(stax.repeat(block, 3), stax.Dense(1))[2](x, None, "ntk")
    d = stax.serial(block, block, block, stax.Dense(1))[2](x, None, "ntk")
    np.testing.assert_array_equal(c, d)
    e = stax.serial(stax.Dense(4), stax.repeat(block, 0), stax.Dense(1))[2](x, None, "ntk")
    np.testing.assert_array_equal(e, stax.serial(stax.Dense(4), stax.Dense(1))[2](x, None, "ntk"))
    assert not np.allclose(c, stax.serial(block, stax.Dense(1))[2](x, None, "ntk"))
    with pytest.raises(ValueError, match="non-negative number of repetitions"):
        stax.repeat(block, -1)


def test_closed_form_one_hidden_layer(rng):
    """The arc-cosine kernel written out (Cho & Saul), independent of eqntk's code."""
    x = rng.normal(size=(4, 5))
    sw, sb = 1.4, 0.3
    k = stax.serial(stax.Dense(8, sw, sb), stax.Relu(), stax.Dense(1, sw, sb))[2](x)
    k0 = x @ x.T / 5
    k1 = sw**2 * k0 + sb**2
    d = np.sqrt(np.diag(k1))
    c = np.clip(k1 / np.outer(d, d), -1, 1)
    np.fill_diagonal(c, 1.0)  # ρ(x, x) = 1 exactly
    th = np.arccos(c)
    t = np.outer(d, d) * (np.sin(th) + (np.pi - th) * c) / (2 * np.pi)
    tdot = (np.pi - th) / (2 * np.pi)
    nngp = sw**2 * t + sb**2
    ntk = sw**2 * (k1 * tdot) + nngp
    assert_close(k.nngp, nngp, rtol=1e-12)
    assert_close(k.ntk, ntk, rtol=1e-12)


def test_errors_carry_eqntk_messages(cli, tmp_path):
    kernel_fn = MLP[2]
    # wrong shapes: x2's examples differ from x1's
    with pytest.raises(ValueError, match=r"x2 examples have shape \[4\] but the network's input shape is \[3\]"):
        kernel_fn(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"\[N, \*example_shape\]"):
        kernel_fn(np.ones(3))
    # NaN and inf
    with pytest.raises(ValueError, match=r"example 1 holds a non-finite value \(NaN\)"):
        kernel_fn(np.array([[1.0, 0, 0], [0, np.nan, 0]]))
    with pytest.raises(ValueError, match="non-finite value"):
        kernel_fn(np.ones((2, 3)), np.array([[np.inf, 0, 0]]))
    # unknown parameters in a network file: eqntk's message, as the command line prints it
    bad = tmp_path / "bad.toml"
    bad.write_text('[input]\nshape = [3]\n\n[[layers]]\nkind = "dense"\nw_sd = 1.5\n')
    r = cli.run("kernel", "--net", bad, "--x1", cli.array(np.ones((1, 3))), check=False)
    assert r.returncode == 2
    with pytest.raises(ValueError) as e:
        eqntk.network.read(bad)
    assert r.stderr.strip() == "error: " + str(e.value)
    assert "unknown key `w_sd`" in str(e.value) and "layers[0] (dense)" in str(e.value)
    # an unknown keyword of a stax layer is Python's TypeError, as in neural-tangents
    with pytest.raises(TypeError):
        stax.Dense(3, W_sd=1.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        kernel_fn(np.ones((2, 3)), None, None, channels_first=True)
    # impossible values: eqntk's checks, one line
    with pytest.raises(ValueError, match="`width` must be a positive integer, got 0"):
        stax.serial(stax.Dense(0), stax.Relu(), stax.Dense(1))[2](np.ones((2, 3)))
    with pytest.raises(ValueError, match="does not act on"):
        eqntk.orbit_kernel(kernel_fn, np.ones((2, 3)), None, "C4")
    with pytest.raises(ValueError, match="FanOut"):
        stax.serial(stax.FanOut(2), stax.parallel(stax.Dense(1), stax.Dense(1)))[2](np.ones((2, 3)))
    with pytest.raises(ValueError):
        stax.serial(stax.Conv(4, (3, 3)), stax.Flatten(), stax.Dense(1))[2](np.ones((2, 2, 2, 1)))
    # a big request is a MemoryError naming what would need how much
    with pytest.raises(MemoryError) as e:
        stax.serial(stax.Conv(4, (3, 3), padding="SAME"), stax.Relu(), stax.GlobalAvgPool(),
                    stax.Dense(1))[2](np.ones((1, 1024, 1024, 1)))
    assert "is too large" in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_no_copy_of_large_inputs():
    """A C-contiguous float64 input reaches eqntk as it is: no copy on the Python side."""
    x = np.random.default_rng(1).normal(size=(200, 10_000))  # 16 MB
    assert stax.as_input(x) is x
    kernel_fn = stax.serial(stax.Dense(8), stax.Relu(), stax.Dense(1))[2]
    kernel_fn(x[:2])  # warm up
    tracemalloc.start()
    kernel_fn(x, None, "ntk")
    _, peak64 = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # results (2 × 200 × 200 × 8 B = 640 kB) only; the input is 16 MB
    assert peak64 < x.nbytes / 10, peak64
    # the measurement sees copies: a float32 input is converted (one float64 copy) first
    x32 = x.astype(np.float32)
    tracemalloc.start()
    kernel_fn(x32, None, "ntk")
    _, peak32 = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak32 >= x.nbytes, peak32
    # and results are arrays of their own, not views of something larger
    k = kernel_fn(x[:5])
    assert not np.shares_memory(k.ntk, k.nngp)
    assert k.ntk.flags.writeable and k.ntk.flags.c_contiguous


def test_gil_released_two_threads_overlap():
    """Two kernel computations in two threads overlap in time, and Python code runs while they
    do: the GIL is released during eqntk's computation."""
    kernel_fn = stax.serial(stax.Conv(8, (3, 3), padding="SAME"), stax.Relu(),
                            stax.Conv(8, (3, 3), padding="SAME"), stax.Relu(),
                            stax.GlobalAvgPool(), stax.Dense(1))[2]
    x = np.random.default_rng(2).normal(size=(40, 8, 8, 1))
    t0 = time.perf_counter()
    kernel_fn(x)
    single = time.perf_counter() - t0
    assert single > 0.02, "the test needs a computation of a few tens of milliseconds"

    spans = {}
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    def work(name):
        a = time.perf_counter()
        kernel_fn(x)
        spans[name] = (a, time.perf_counter())

    tick = threading.Thread(target=ticker)
    tick.start()
    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    tick.join()
    (a0, a1), (b0, b1) = spans["a"], spans["b"]
    overlap = min(a1, b1) - max(a0, b0)
    shorter = min(a1 - a0, b1 - b0)
    assert overlap > 0.5 * shorter, (overlap, shorter)
    # while both computed, the ticker thread kept running Python (≥ 1 tick per 5 ms)
    inside = [t for t in ticks if max(a0, b0) < t < min(a1, b1)]
    assert len(inside) >= overlap / 0.005, (len(inside), overlap)


def test_type_stubs_cover_the_extension():
    """The installed `_eqntk.pyi` declares exactly the functions the extension exports, with
    the extension's parameter names."""
    import ast
    import inspect
    from pathlib import Path

    import eqntk._eqntk as native

    stub = Path(eqntk.__file__).with_name("_eqntk.pyi")
    assert stub.exists(), "the type stubs are installed beside the extension"
    tree = ast.parse(stub.read_text())
    declared = {f.name: [a.arg for a in f.args.args] for f in tree.body if isinstance(f, ast.FunctionDef)}
    exported = {n for n in dir(native) if not n.startswith("_") and callable(getattr(native, n))}
    assert set(declared) == exported
    for name, params in declared.items():
        sig = inspect.signature(getattr(native, name))
        assert list(sig.parameters) == params, name


def test_elementwise_takes_python_functions_of_numpy_arithmetic(rng):
    """neural-tangents' ``Elementwise(fn)`` / ``ElementwiseNumerical(fn, deg)`` with ``fn`` a
    Python function: eqntk writes φ out by calling it on a symbol, and the kernel equals the
    built-in layer's (or the string form's)."""
    import math

    x = rng.normal(size=(4, 3))

    def kernel(act):
        return stax.serial(stax.Dense(8, 1.4, 0.2), act, stax.Dense(1, 1.1))[2](x, None, "ntk")

    for fn, same in [
        (np.tanh, stax.Tanh()),
        (lambda u: 1 / (1 + np.exp(-u)), stax.Sigmoid()),
        (lambda u: np.maximum(u, 0), stax.Relu()),
        (lambda u: 0.7 * np.sin(1.3 * u + 0.2), stax.Sin(a=0.7, b=1.3, c=0.2)),
        (lambda u: u * np.exp(-u ** 2 / 2), stax.Elementwise("x*exp(-x^2/2)")),
        (lambda u: -u ** 3 / 3 + np.abs(u), stax.Elementwise("-x^3/3 + abs(x)")),
    ]:
        # the quadrature's accuracy against closed forms (sin, relu) is 1e-8 (tests/elementwise.rs)
        assert_close(kernel(stax.ElementwiseNumerical(fn, deg=25)), kernel(same), rtol=1e-8,
                     what=getattr(fn, "__name__", "lambda"))
        assert_close(kernel(stax.Elementwise(fn)), kernel(same), rtol=1e-8, what="Elementwise")
    # a different φ gives a different kernel
    assert not np.allclose(kernel(stax.Elementwise(np.sin)), kernel(stax.Elementwise(np.cos)))
    with pytest.raises(NotImplementedError, match="could not write"):
        stax.Elementwise(lambda u: math.exp(u))
    with pytest.raises(NotImplementedError, match="needs φ itself"):
        stax.Elementwise(None, nngp_fn=lambda c12, c11, c22: c12)


def test_self_variances_cov1_cov2(rng):
    """neural-tangents' ``cov1``, ``cov2`` (``diagonal_batch=True``): the NNGP of each example
    with itself; ``cov2`` is ``None`` for ``x2=None``. 300 examples span two blocks of the
    chunked computation."""
    x1, x2 = rng.normal(size=(300, 3)), rng.normal(size=(5, 3))
    kernel_fn = MLP[2]
    k = kernel_fn(x1, x2)
    assert_close(k.cov1, np.diag(kernel_fn(x1, None, "nngp")), rtol=1e-14, what="cov1")
    assert_close(k.cov2, np.diag(kernel_fn(x2, None, "nngp")), rtol=1e-14, what="cov2")
    assert k.cov1.shape == (300,) and k.cov2.shape == (5,)
    same = kernel_fn(x2, None)
    np.testing.assert_array_equal(same.cov1, np.diag(same.nngp))
    assert same.cov2 is None
    np.testing.assert_array_equal(kernel_fn(x1, x2, "cov2"), k.cov2)
    t = kernel_fn(x2, x1, ("cov1", "ntk"))
    assert t._fields == ("cov1", "ntk")
    np.testing.assert_array_equal(t.cov1, k.cov2)
    with pytest.raises(ValueError, match="get must name"):
        kernel_fn(x1, x2, "cov3")
