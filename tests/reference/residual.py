"""Reference kernels from neural-tangents for residual blocks and parallel branches.

Writes tests/reference/residual.json: for each case the network file (eqntk syntax), the
inputs and neural-tangents' NNGP and NTK. A residual block is neural-tangents'
serial(FanOut(2), parallel(serial(*block), shortcut or Identity()), FanInSum()). Run with a
Python that has neural-tangents:

    python tests/reference/residual.py
"""

import json
import pathlib

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
from neural_tangents import stax  # noqa: E402

PAD = {"valid": "VALID", "same": "SAME", "circular": "CIRCULAR"}


# Each layer is a pair (eqntk inline table, neural-tangents layer).
def dense(w, b, out=1):
    # out only matters to neural-tangents' shape checks (the kernel does not depend on it)
    return (f'{{ kind = "dense", w_std = {w}, b_std = {b} }}', stax.Dense(out, w, b))


def conv(filt, padding, w, b, stride=None):
    s = f', stride = {list(stride)}' if stride else ""
    return (f'{{ kind = "conv", filter = {list(filt)}, padding = "{padding}"{s}, '
            f'w_std = {w}, b_std = {b} }}',
            stax.Conv(1, filt, stride, PAD[padding], W_std=w, b_std=b))


def act(name, nt):
    return (f'{{ kind = "{name}" }}', nt)


RELU = act("relu", stax.Relu())
ERF = act("erf", stax.Erf())
NORM = act("layer_norm", stax.LayerNorm(axis=-1, eps=1e-12))


def avg_pool(window, stride, padding):
    return (f'{{ kind = "avg_pool", window = {list(window)}, stride = {list(stride)}, '
            f'padding = "{padding}" }}',
            stax.AvgPool(window, stride, PAD[padding], normalize_edges=False))


def seq(layers):
    return "[" + ", ".join(l[0] for l in layers) + "]"


def residual(block, shortcut=None):
    toml = f'{{ kind = "residual", block = {seq(block)}'
    if shortcut is not None:
        toml += f', shortcut = {seq(shortcut)}'
    toml += " }"
    nt_short = stax.serial(*[l[1] for l in shortcut]) if shortcut else stax.Identity()
    nt = stax.serial(stax.FanOut(2),
                     stax.parallel(stax.serial(*[l[1] for l in block]), nt_short),
                     stax.FanInSum())
    return (toml, nt)


def parallel(branches, combine):
    toml = (f'{{ kind = "parallel", combine = "{combine}", branches = ['
            + ", ".join(seq(b) for b in branches) + "] }")
    nt_branches = [stax.serial(*[l[1] for l in b]) if b else stax.Identity() for b in branches]
    fan_in = stax.FanInSum() if combine == "sum" else stax.FanInProd()
    nt = stax.serial(stax.FanOut(len(branches)), stax.parallel(*nt_branches), fan_in)
    return (toml, nt)


def case(name, shape, layers, seed, readout):
    rng = np.random.default_rng(seed)
    x1 = np.round(rng.standard_normal((2, *shape)), 6)
    x2 = np.round(rng.standard_normal((3, *shape)), 6)
    layers = layers + readout
    _, _, kernel_fn = stax.serial(*[l[1] for l in layers])
    k = kernel_fn(x1, x2, ("nngp", "ntk"))
    network = ("layers = [\n" + "".join(f"  {l[0]},\n" for l in layers) + "]\n\n"
               f"[input]\nshape = {list(shape)}\n")
    return {
        "name": name,
        "network": network,
        "shape": list(shape),
        "x1": x1.ravel().tolist(),
        "x2": x2.ravel().tolist(),
        "nngp": np.asarray(k.nngp).ravel().tolist(),
        "ntk": np.asarray(k.ntk).ravel().tolist(),
    }


FLAT = [act("flatten", stax.Flatten()), dense(1.1, 0.1)]
GAP = [act("global_avg_pool", stax.GlobalAvgPool()), dense(1.1, 0.1)]
OUT = [dense(1.1, 0.1)]


def main():
    cases = [
        case("mlp residual, identity shortcut", (4,),
             [dense(1.3, 0.2), residual([RELU, dense(1.2, 0.1)]), RELU], 1, OUT),
        case("mlp residual, projection shortcut", (4,),
             [dense(1.3, 0.2), residual([ERF, dense(1.4, 0.3)], [dense(0.8, 0.0)]), ERF], 2, OUT),
        # neural-tangents refuses an identity shortcut on the raw input (not Gaussian); the
        # Rust tests check that case by composition
        case("residual with a projection as the first layer", (3,),
             [residual([dense(1.5, 0.2), RELU, dense(1.1, 0.0)], [dense(0.7, 0.1)]), RELU], 3,
             OUT),
        case("two residual blocks with layer_norm", (5,),
             [dense(1.2, 0.1), residual([NORM, RELU, dense(1.3, 0.2)]),
              residual([NORM, ERF, dense(0.9, 0.1)]), RELU], 4, OUT),
        case("cnn residual, same padding, gap", (5, 4, 2),
             [conv((3, 3), "same", 1.4, 0.2),
              residual([RELU, conv((3, 3), "same", 1.3, 0.1), RELU, conv((3, 3), "same", 1.2, 0.0)]),
              RELU], 5, GAP),
        case("strided stage: stride-2 block, 1x1 stride-2 projection", (6, 6, 2),
             [conv((3, 3), "same", 1.4, 0.2),
              residual([RELU, conv((3, 3), "same", 1.3, 0.1, (2, 2)), RELU,
                        conv((3, 3), "same", 1.2, 0.1)],
                       [conv((1, 1), "same", 1.0, 0.0, (2, 2))]),
              RELU], 6, FLAT),
        case("valid stride-2 block with valid projection", (7, 2),
             [conv((3,), "circular", 1.4, 0.2),
              residual([RELU, conv((3,), "valid", 1.3, 0.1, (2,))],
                       [conv((3,), "valid", 0.9, 0.0, (2,))])], 7, GAP),
        case("residual with pooling in the block", (7, 2),
             [conv((3,), "circular", 1.5, 0.1),
              residual([RELU, avg_pool((3,), (1,), "same"), conv((3,), "circular", 1.2, 0.2)]),
              ERF], 8, GAP),
        case("parallel product of erf and dense", (4,),
             [dense(1.2, 0.3), parallel([[ERF], [dense(0.9, 0.3)]], "prod")], 9, OUT),
        case("parallel product of three branches with an identity", (5, 4, 2),
             [conv((3, 3), "circular", 1.3, 0.2),
              parallel([[RELU, conv((3, 3), "circular", 1.1, 0.1)], [], [ERF]], "prod")],
             10, GAP),
        case("parallel sum with a nested residual", (4,),
             [dense(1.2, 0.2),
              parallel([[RELU, dense(1.1, 0.1)], [],
                        [residual([ERF, dense(1.3, 0.0)]), RELU, dense(0.7, 0.2)]], "sum"),
              RELU], 11, OUT),
        case("cnn sum then product", (6, 2),
             [conv((3,), "same", 1.3, 0.2),
              residual([RELU, conv((3,), "same", 1.2, 0.0)]),
              parallel([[RELU], [conv((3,), "same", 1.0, 0.1)]], "prod")], 12, FLAT),
    ]
    out = pathlib.Path(__file__).with_suffix(".json")
    lines = ",\n".join(json.dumps(c) for c in cases)
    out.write_text('{"generator": "tests/reference/residual.py", "cases": [\n'
                   + lines + "\n]}\n")
    print(f"{len(cases)} cases written to {out}")


if __name__ == "__main__":
    main()
