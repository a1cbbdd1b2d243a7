"""The same stax code as neural-tangents (nt_reference/architectures.py), against the
kernels and predictions neural-tangents 0.6.5 computed in float64 (nt_reference/nt_kernels.json,
written by nt_reference/make_reference.py)."""

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_close
from eqntk import predict, stax
from nt_reference.architectures import architectures
from nt_reference.random_architectures import random_architectures

REF = json.loads((Path(__file__).parent / "nt_reference" / "nt_kernels.json").read_text())
ARCHS = architectures(stax)
RANDOM = random_architectures(stax)


def test_reference_covers_every_architecture():
    assert sorted(REF["cases"]) == sorted(ARCHS)
    assert sorted(REF["random_cases"]) == sorted(RANDOM)


@pytest.mark.parametrize("name", sorted(ARCHS))
def test_kernels_equal_neural_tangents(name):
    check_kernels(name, REF["cases"][name], ARCHS[name][0])


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_architectures_equal_neural_tangents(name):
    check_kernels(name, REF["random_cases"][name], RANDOM[name][0])


def check_kernels(name, case, layer):
    x1, x2 = np.array(case["x1"]), np.array(case["x2"])
    k11 = layer[2](x1, None)
    k12 = layer[2](x1, x2)
    off = ~np.eye(len(x1), dtype=bool)
    for g in ("nngp", "ntk"):
        ours, theirs = getattr(k11, g), np.array(case[f"{g}_11"])
        assert_close(ours[off], theirs[off], rtol=1e-10, what=f"{name} {g} x1×x1")
        # on the diagonal (ρ = 1) neural-tangents' ReLU-type duals take
        # arctan2(√(K₁₁K₂₂ − K₁₂²), K₁₂), and sign arcsin(ρ), of a rounding residue, which
        # keeps about half of the digits (an error of ~√ε ≈ 1.5e-8 in the angle where the
        # residue is > 0, carried into K and Θ by later layers); eqntk takes ρ = 1 exactly
        assert_close(np.diag(ours), np.diag(theirs), rtol=1e-7, what=f"{name} {g} diagonal")
    assert_close(k12.nngp, case["nngp_12"], rtol=1e-10, what=f"{name} nngp x1×x2")
    assert_close(k12.ntk, case["ntk_12"], rtol=1e-10, what=f"{name} ntk x1×x2")


@pytest.mark.parametrize("name", sorted(REF.get("predictions", {})))
def test_predictions_equal_neural_tangents(name):
    case = REF["predictions"][name]
    layer = ARCHS[name][0]
    predict_fn = predict.gradient_descent_mse_ensemble(
        layer[2], np.array(case["x_train"]), np.array(case["y_train"]),
        learning_rate=case["learning_rate"], diag_reg=case["diag_reg"])
    x_test = np.array(case["x_test"])
    for where, xt in (("test", x_test), ("train", None)):
        for t_name, t in (("t", np.array(case["times"])), ("inf", None)):
            p = predict_fn(t, xt, ("nngp", "ntk"), compute_cov=True)
            for g in ("nngp", "ntk"):
                what = f"{name} {g} {where} {t_name}"
                got = getattr(p, g)
                mean = np.array(case[f"{g}_{where}_{t_name}_mean"])
                cov = np.array(case[f"{g}_{where}_{t_name}_cov"])
                assert_close(got.mean, mean, rtol=1e-9, what=what + " mean")
                # covariances on the training set at t = ∞ vanish: compare on the scale of K
                scale = np.max(np.abs(layer[2](np.array(case["x_train"]), None, "nngp")))
                err = np.max(np.abs(got.covariance - cov)) / scale
                assert err < 1e-9, f"{what} cov: {err:.2e}"
