"""neural-tangents' NNGP and NTK of small MLPs with each closed-form activation.

Writes tests/reference/activations_nt.json, read by tests/activation_reference.rs. Run with
neural-tangents installed:

    python tests/reference/activations_nt.py

Every network is Dense -> act -> Dense -> act -> Dense in NTK parameterisation. Hermite is
generated only where neural-tangents' kernel is valid (unit-variance pre-activations: unit-norm
inputs, w_std = 1, no bias); RectifiedMonomial only for one hidden layer and x1 against x2
(neural-tangents returns NaN on the diagonal, which this script checks and reports).
"""
import json
import math
import os

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np
from neural_tangents import stax

D = 4
rng = np.random.default_rng(20261203)
X1 = rng.normal(size=(3, D)) * np.array([[0.6], [1.0], [1.4]])
X2 = rng.normal(size=(2, D)) * np.array([[0.8], [1.2]])


def unit(x):
    # |x|^2 / D = 1: the input kernel's diagonal is 1
    return x / np.sqrt((x**2).sum(axis=1, keepdims=True) / D)


def toml_value(v):
    if isinstance(v, list):
        return "[" + ", ".join(repr(float(c)) for c in v) + "]"
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def network(kind, params, w_std, b_std, readout_w, readout_b):
    act_lines = "".join(f"{k} = {toml_value(v)}\n" for k, v in params.items())

    def dense(w, b):
        s = f'[[layers]]\nkind = "dense"\nw_std = {w!r}\n'
        return s + (f"b_std = {b!r}\n" if b is not None else "")

    act = f'[[layers]]\nkind = "{kind}"\n{act_lines}'
    return (
        f"[input]\nshape = [{D}]\n\n"
        + dense(w_std, b_std)
        + act
        + dense(w_std, b_std)
        + act
        + dense(readout_w, readout_b)
    )


CASES = [
    ("gelu", {}, stax.Gelu()),
    ("sign", {}, stax.Sign()),
    ("sin", {"a": 1.3, "b": 0.7, "c": 0.4}, stax.Sin(a=1.3, b=0.7, c=0.4)),
    ("cos", {"a": 0.9, "b": 1.1, "c": -0.2}, stax.Cos(a=0.9, b=1.1, c=-0.2)),
    ("rbf", {"gamma": 0.6}, stax.Rbf(gamma=0.6)),
    ("exp", {"a": 0.8, "b": 0.3}, stax.Exp(a=0.8, b=0.3)),
    ("gaussian", {"a": 1.2, "b": -0.4}, stax.Gaussian(a=1.2, b=-0.4)),
    ("monomial", {"degree": 0}, stax.Monomial(0)),
    ("monomial", {"degree": 1}, stax.Monomial(1)),
    ("monomial", {"degree": 2}, stax.Monomial(2)),
    ("monomial", {"degree": 3}, stax.Monomial(3)),
    ("monomial", {"degree": 5}, stax.Monomial(5)),
    ("polynomial", {"coef": [0.3, -1.0, 0.5, 0.2]}, stax.Polynomial([0.3, -1.0, 0.5, 0.2])),
    ("polynomial", {"coef": [0.0, 1.0]}, stax.Polynomial([0.0, 1.0])),
    ("polynomial", {"coef": [0.7]}, stax.Polynomial([0.7])),
    ("sigmoid_like", {}, stax.Sigmoid_like()),
]
# neural-tangents' Hermite kernel holds only at unit pre-activation variance
HERMITE = [("hermite", {"degree": n}, stax.Hermite(n)) for n in (1, 2, 3, 4)]


def kernels(act, x1, x2, w_std, b_std, rw, rb):
    _, _, kernel_fn = stax.serial(
        stax.Dense(512, W_std=w_std, b_std=b_std),
        act,
        stax.Dense(512, W_std=w_std, b_std=b_std),
        act,
        stax.Dense(1, W_std=rw, b_std=rb),
    )
    k11 = kernel_fn(x1, None, ("nngp", "ntk"))
    k12 = kernel_fn(x1, x2, ("nngp", "ntk"))
    return {
        "nngp_11": np.asarray(k11.nngp).tolist(),
        "ntk_11": np.asarray(k11.ntk).tolist(),
        "nngp_12": np.asarray(k12.nngp).tolist(),
        "ntk_12": np.asarray(k12.ntk).tolist(),
    }


def main():
    import warnings

    out = {"inputs": {}, "cases": []}
    out["inputs"]["general"] = {"x1": X1.tolist(), "x2": X2.tolist()}
    out["inputs"]["unit"] = {"x1": unit(X1).tolist(), "x2": unit(X2).tolist()}
    for kind, params, act in CASES:
        entry = {"kind": kind, "params": params, "inputs": "general"}
        entry["network"] = network(kind, params, 1.5, 0.2, 1.2, 0.1)
        entry.update(kernels(act, X1, X2, 1.5, 0.2, 1.2, 0.1))
        out["cases"].append(entry)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kind, params, act in HERMITE:
            entry = {"kind": kind, "params": params, "inputs": "unit"}
            entry["network"] = network(kind, params, 1.0, None, 1.2, None)
            entry.update(kernels(act, unit(X1), unit(X2), 1.0, None, 1.2, None))
            out["cases"].append(entry)
    for case in out["cases"]:
        for key in [k for k in ("nngp_11", "ntk_11", "nngp_12", "ntk_12") if k in case]:
            assert all(math.isfinite(v) for row in case[key] for v in row), case
    # RectifiedMonomial: one hidden layer, x1 against x2 only, where neural-tangents' kernel
    # is finite (its diagonal entries are NaN, and a second layer would read them)
    for n in (0, 1, 2, 3):
        _, _, kfn = stax.serial(
            stax.Dense(512, W_std=1.5, b_std=0.2),
            stax.RectifiedMonomial(n),
            stax.Dense(1, W_std=1.2, b_std=0.1),
        )
        k12 = kfn(X1, X2, ("nngp", "ntk"))
        params = {"degree": n}
        act = f'[[layers]]\nkind = "rectified_monomial"\ndegree = {n}\n'
        out["cases"].append({
            "kind": "rectified_monomial",
            "params": params,
            "inputs": "general",
            "cross_only": True,
            "network": f"[input]\nshape = [{D}]\n\n"
            '[[layers]]\nkind = "dense"\nw_std = 1.5\nb_std = 0.2\n'
            + act
            + '[[layers]]\nkind = "dense"\nw_std = 1.2\nb_std = 0.1\n',
            "nngp_12": np.asarray(k12.nngp).tolist(),
            "ntk_12": np.asarray(k12.ntk).tolist(),
        })
    # neural-tangents' RectifiedMonomial on an ordinary input: NaN on the diagonal
    _, _, kfn = stax.serial(stax.Dense(1, W_std=1.5), stax.RectifiedMonomial(2))
    diag = np.asarray(kfn(X1, None, "nngp")).diagonal()
    print("neural-tangents RectifiedMonomial(2), diagonal of K(x1, x1):", diag)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "activations_nt.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {path}")


if __name__ == "__main__":
    main()
