"""One neural-tangents-style script, run with either ``stax``: the speed of ``from eqntk import
stax`` against ``from neural_tangents import stax`` as a user sees it, the whole process timed
from outside (Python start-up, imports, the kernel, writing it).

    python benches/python/same_script.py eqntk CASE OUT.npz
    python benches/python/same_script.py nt CASE OUT.npz        # a Python with neural-tangents
    python benches/python/same_script.py nt-jit CASE OUT.npz    # the same under jax.jit

The cases are the benchmark cases of neural-tangents' own timing script (same architectures,
sizes and seeded inputs); the script below the imports is identical for both packages.
"""

import sys

which, case, out = sys.argv[1:4]
if which.startswith("nt"):
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import jax

    jax.config.update("jax_enable_x64", True)
    from neural_tangents import stax
elif which == "eqntk":
    from eqntk import stax
else:
    sys.exit(f"first argument: eqntk, nt or nt-jit, got {which!r}")

import numpy as np  # noqa: E402


def mlp(depth, act):
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(512, 1.5, 0.1), act()]
    return stax.serial(*layers, stax.Dense(1, 1.5, 0.1))


def conv():
    return stax.Conv(64, (3, 3), padding="CIRCULAR", W_std=1.5, b_std=0.1)


def cnn():
    return stax.serial(conv(), stax.Relu(), conv(), stax.Relu(), stax.GlobalAvgPool(),
                       stax.Dense(1, 1.5, 0.1))


def resnet():
    def block():
        main = stax.serial(stax.Relu(), conv(), stax.Relu(), conv())
        return stax.serial(stax.FanOut(2), stax.parallel(main, stax.Identity()), stax.FanInSum())

    return stax.serial(conv(), block(), block(), stax.Relu(), stax.GlobalAvgPool(),
                       stax.Dense(1, 1.5, 0.1))


CASES = {
    "mlp_relu3_n4000": (lambda: mlp(3, stax.Relu), (4000, 784)),
    "mlp_erf5_n2000": (lambda: mlp(5, stax.Erf), (2000, 784)),
    "cnn_relu2_gap_16x16_n16": (cnn, (16, 16, 16, 1)),
    "cnn_relu2_gap_8x8_n64": (cnn, (64, 8, 8, 1)),
    "resnet2_relu_gap_16x16_n16": (resnet, (16, 16, 16, 1)),
}

make, shape = CASES[case]
_, _, kernel_fn = make()
if which == "nt-jit":
    kernel_fn = jax.jit(kernel_fn, static_argnames="get")
x = np.random.default_rng(0).standard_normal(shape)
k = kernel_fn(x, None, ("nngp", "ntk"))
np.savez(out, nngp=np.asarray(k.nngp), ntk=np.asarray(k.ntk))
