"""Writes nt_kernels.json: neural-tangents' NNGP and NTK (float64) of `architectures.py`.

Run once with the neural-tangents venv (../../../../shared/bench/nt-venv.sh makes it):

    $(bash /work/shared/bench/nt-venv.sh) python/tests/nt_reference/make_reference.py
"""

import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)

import neural_tangents as nt  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from architectures import architectures  # noqa: E402
from random_architectures import random_architectures  # noqa: E402


def kernels(archs, seed):
    """x1, x2 and the NNGP and NTK of x1 × x1 and x1 × x2 for every architecture."""
    cases = {}
    for i, (name, (layer, shape, n)) in enumerate(sorted(archs.items())):
        rng = np.random.default_rng(seed + i)
        x1 = rng.normal(size=(n,) + tuple(shape))
        x2 = rng.normal(size=(n - 1,) + tuple(shape))
        kernel_fn = layer[2]
        k11 = kernel_fn(x1, None, ("nngp", "ntk"))
        k12 = kernel_fn(x1, x2, ("nngp", "ntk"))
        cases[name] = {
            "x1": x1.tolist(),
            "x2": x2.tolist(),
            "nngp_11": np.asarray(k11.nngp).tolist(),
            "ntk_11": np.asarray(k11.ntk).tolist(),
            "nngp_12": np.asarray(k12.nngp).tolist(),
            "ntk_12": np.asarray(k12.ntk).tolist(),
        }
        for key in ("nngp_11", "ntk_11", "nngp_12", "ntk_12"):
            assert np.all(np.isfinite(cases[name][key])), f"{name}: neural-tangents' {key}"
        print(name, "done", file=sys.stderr)
    return cases


out = {"neural_tangents": nt.__version__, "jax": jax.__version__}
out["cases"] = kernels(architectures(stax), 100)
out["random_cases"] = kernels(random_architectures(stax), 2000)

# predictions of gradient_descent_mse_ensemble: both modes, with covariances, on test inputs
# and on the training set, at finite times and t = None
PREDICT = {"mlp_relu": 0, "cnn_valid_circular_gap": 1, "fan_in_prod": 2}
out["predictions"] = {}
archs = architectures(stax)
for name, seed in sorted(PREDICT.items()):
    layer, shape, n = archs[name]
    rng = np.random.default_rng(500 + seed)
    x_train = rng.normal(size=(6,) + tuple(shape))
    y_train = rng.normal(size=(6, 2))
    x_test = rng.normal(size=(3,) + tuple(shape))
    case = {"x_train": x_train.tolist(), "y_train": y_train.tolist(), "x_test": x_test.tolist(),
            "learning_rate": 0.8, "diag_reg": 1e-3, "times": [0.5, 3.0]}
    predict_fn = nt.predict.gradient_descent_mse_ensemble(
        layer[2], x_train, y_train, learning_rate=0.8, diag_reg=1e-3)
    for where, xt in (("test", x_test), ("train", None)):
        for t_name, t in (("t", np.array([0.5, 3.0])), ("inf", None)):
            p = predict_fn(t, xt, ("nngp", "ntk"), compute_cov=True)
            for g in ("nngp", "ntk"):
                gauss = getattr(p, g)
                case[f"{g}_{where}_{t_name}_mean"] = np.asarray(gauss.mean).tolist()
                case[f"{g}_{where}_{t_name}_cov"] = np.asarray(gauss.covariance).tolist()
    out["predictions"][name] = case
    print(name, "predictions done", file=sys.stderr)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_kernels.json")
with open(path, "w") as f:
    json.dump(out, f, indent=None, separators=(",", ":"))
    f.write("\n")
