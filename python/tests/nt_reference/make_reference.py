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

out = {"neural_tangents": nt.__version__, "jax": jax.__version__, "cases": {}}
for i, (name, (layer, shape, n)) in enumerate(sorted(architectures(stax).items())):
    rng = np.random.default_rng(100 + i)
    x1 = rng.normal(size=(n,) + tuple(shape))
    x2 = rng.normal(size=(n - 1,) + tuple(shape))
    kernel_fn = layer[2]
    k11 = kernel_fn(x1, None, ("nngp", "ntk"))
    k12 = kernel_fn(x1, x2, ("nngp", "ntk"))
    out["cases"][name] = {
        "x1": x1.tolist(),
        "x2": x2.tolist(),
        "nngp_11": np.asarray(k11.nngp).tolist(),
        "ntk_11": np.asarray(k11.ntk).tolist(),
        "nngp_12": np.asarray(k12.nngp).tolist(),
        "ntk_12": np.asarray(k12.ntk).tolist(),
    }
    print(name, "done", file=sys.stderr)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_kernels.json")
with open(path, "w") as f:
    json.dump(out, f, indent=None, separators=(",", ":"))
    f.write("\n")
