"""eqntk.predict against `eqntk predict`, with neural-tangents' return conventions."""

import json

import numpy as np
import pytest

from conftest import assert_close
from eqntk import predict, stax

MLP_TOML = """[input]
shape = [3]

[[layers]]
kind = "dense"
w_std = 1.5
b_std = 0.1

[[layers]]
kind = "erf"

[[layers]]
kind = "dense"
w_std = 1.5
b_std = 0.1
"""
MLP = stax.serial(stax.Dense(256, 1.5, 0.1), stax.Erf(), stax.Dense(1, 1.5, 0.1))

CNN_TOML = """[input]
shape = [4, 4, 1]

[[layers]]
kind = "conv"
filter = [3, 3]
padding = "valid"
w_std = 1.5
b_std = 0.1

[[layers]]
kind = "relu"

[[layers]]
kind = "flatten"

[[layers]]
kind = "dense"
w_std = 1.2
b_std = 0.1
"""
CNN = stax.serial(stax.Conv(32, (3, 3), W_std=1.5, b_std=0.1), stax.Relu(), stax.Flatten(),
                  stax.Dense(1, 1.2, 0.1))


def cli_predict(cli, toml, x_train, y_train, x_test, times, *extra):
    net = cli.file("pred.toml", toml)
    out = cli.run("predict", "--net", net, "--x-train", cli.array(x_train), "--y-train",
                  cli.array(y_train), "--x-test", cli.array(x_test), "--time",
                  ",".join(times), "--cov", *extra).stdout
    d = json.loads(out)
    return np.array(d["mean"]), np.array(d["cov"])


def test_predict_fn_matches_cli(cli, rng):
    x_train, x_test = rng.normal(size=(8, 3)), rng.normal(size=(5, 3))
    y_train = rng.normal(size=(8, 2))
    mean, cov = cli_predict(cli, MLP_TOML, x_train, y_train, x_test, ["0", "0.5", "10", "inf"],
                            "--learning-rate", "0.7", "--diag-reg", "1e-3")
    predict_fn = predict.gradient_descent_mse_ensemble(MLP[2], x_train, y_train,
                                                       learning_rate=0.7, diag_reg=1e-3)
    out = predict_fn(t=[0.0, 0.5, 10.0, None and 0 or np.inf], x_test=x_test, get="ntk",
                     compute_cov=True)
    assert isinstance(out, predict.Gaussian)
    assert out.mean.shape == (4, 5, 2) and out.covariance.shape == (4, 5, 5)
    assert_close(out.mean, mean, rtol=1e-12, what="mean")
    assert_close(out.covariance, cov, rtol=1e-12, what="cov")
    # t=None is the end of training; a scalar t drops the time axis
    assert_close(predict_fn(None, x_test, "ntk"), mean[3], rtol=1e-12)
    assert_close(predict_fn(0.5, x_test, "ntk"), mean[1], rtol=1e-12)
    # at t = 0 the mean is zero; at t = ∞ with no regulariser it interpolates the training set
    np.testing.assert_array_equal(predict_fn(0.0, x_test, "ntk"), 0.0)
    relu = stax.serial(stax.Dense(64, 1.5, 0.1), stax.Relu(), stax.Dense(1, 1.5, 0.1))
    assert np.linalg.cond(relu[2](x_train, None, "ntk")) < 1e4
    exact = predict.gradient_descent_mse_ensemble(relu[2], x_train, y_train)
    assert_close(exact(None, None, "ntk"), y_train, rtol=1e-10)


def test_get_conventions_and_nngp(rng):
    x_train, x_test = rng.normal(size=(6, 3)), rng.normal(size=(4, 3))
    y_train = rng.normal(size=(6, 1))
    predict_fn = predict.gradient_descent_mse_ensemble(MLP[2], x_train, y_train, diag_reg=1e-4)
    both = predict_fn(2.0, x_test)
    assert both._fields == ("nngp", "ntk")
    assert both.ntk.shape == (4, 1)
    t = predict_fn(2.0, x_test, ("ntk", "nngp"), compute_cov=True)
    assert t._fields == ("ntk", "nngp") and isinstance(t.nngp, predict.Gaussian)
    # get='nngp' at t = ∞: NNGP posterior mean and covariance, written out with numpy
    k = MLP[2](x_train, None)
    kt = MLP[2](x_test, x_train)
    ktt = MLP[2](x_test, None, "nngp")
    reg = 1e-4 * np.trace(k.nngp) / len(k.nngp)
    kinv = np.linalg.inv(k.nngp + reg * np.eye(len(k.nngp)))
    g = predict_fn(None, x_test, "nngp", compute_cov=True)
    assert_close(g.mean, kt.nngp @ kinv @ y_train, rtol=1e-9)
    assert_close(g.covariance, ktt - kt.nngp @ kinv @ kt.nngp.T, rtol=1e-8)
    # a 1-D target gives 1-D means
    y1 = predict.gradient_descent_mse_ensemble(MLP[2], x_train, y_train[:, 0])(1.0, x_test, "ntk")
    assert y1.shape == (4,)
    # times of any shape lead the output
    assert predict_fn(np.ones((2, 3)), x_test, "ntk").shape == (2, 3, 4, 1)


def test_augmented_predictor_matches_cli_and_is_invariant(cli, rng):
    x_train, x_test = rng.normal(size=(5, 4, 4, 1)), rng.normal(size=(3, 4, 4, 1))
    y_train = rng.normal(size=(5, 1))
    mean, cov = cli_predict(cli, CNN_TOML, x_train, y_train, x_test, ["1", "inf"],
                            "--augment", "C4")
    predict_fn = predict.gradient_descent_mse_ensemble(CNN[2], x_train, y_train, augment="C4")
    out = predict_fn([1.0, np.inf], x_test, "ntk", compute_cov=True)
    assert_close(out.mean, mean, rtol=1e-12, what="mean")
    assert_close(out.covariance, cov, rtol=1e-12, what="cov")
    # Result B: the augmented ensemble's mean is C4-invariant at every time
    rotated = np.ascontiguousarray(np.rot90(x_test, 1, axes=(1, 2)))
    for t in (0.3, 5.0, None):
        assert_close(predict_fn(t, rotated, "ntk"), predict_fn(t, x_test, "ntk"), rtol=1e-10)
    # …while the plain one is not
    plain = predict.gradient_descent_mse_ensemble(CNN[2], x_train, y_train)
    gap = np.max(np.abs(plain(None, rotated, "ntk") - plain(None, x_test, "ntk")))
    assert gap > 1e-3
    # the explicit orbit (4N examples) agrees with the irrep blocks
    explicit = predict.gradient_descent_mse_ensemble(CNN[2], x_train, y_train, augment="C4",
                                                     explicit=True)
    assert_close(explicit(2.0, x_test, "ntk"), predict_fn(2.0, x_test, "ntk"), rtol=1e-10)
    with pytest.raises(ValueError, match="NTK"):
        predict_fn(1.0, x_test, "nngp")
    with pytest.raises(ValueError, match="does not act"):
        predict.gradient_descent_mse_ensemble(MLP[2], rng.normal(size=(4, 3)), np.ones((4, 1)),
                                              augment="C4")(1.0, rng.normal(size=(2, 3)), "ntk")
