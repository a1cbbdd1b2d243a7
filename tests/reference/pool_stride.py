"""Reference kernels from neural-tangents for window and global sum pooling, strided
convolutions and LayerNorm.

Writes tests/reference/pool_stride.json: for each case the network file (eqntk syntax), the
inputs and neural-tangents' NNGP and NTK. Run with a Python that has neural-tangents:

    python tests/reference/pool_stride.py
"""

import json
import pathlib

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
from neural_tangents import stax  # noqa: E402

PAD = {"valid": "VALID", "same": "SAME", "circular": "CIRCULAR"}


def conv_toml(filt, stride, padding, w, b):
    s = f'[[layers]]\nkind = "conv"\nfilter = {list(filt)}\npadding = "{padding}"\n'
    if stride is not None:
        s += f"stride = {list(stride)}\n"
    return s + f"w_std = {w}\nb_std = {b}\n\n"


def pool_toml(kind, window, stride, padding):
    return (f'[[layers]]\nkind = "{kind}"\nwindow = {list(window)}\nstride = {list(stride)}\n'
            f'padding = "{padding}"\n\n')


TAIL = '[[layers]]\nkind = "flatten"\n\n[[layers]]\nkind = "dense"\nw_std = 1.1\nb_std = 0.1\n'


def case(name, shape, toml_layers, nt_layers, seed):
    rng = np.random.default_rng(seed)
    x1 = np.round(rng.standard_normal((2, *shape)), 6)
    x2 = np.round(rng.standard_normal((3, *shape)), 6)
    _, _, kernel_fn = stax.serial(*nt_layers, stax.Flatten(), stax.Dense(1, 1.1, 0.1))
    k = kernel_fn(x1, x2, ("nngp", "ntk"))
    toml = f"[input]\nshape = {list(shape)}\n\n" + "".join(toml_layers) + TAIL
    return {
        "name": name,
        "network": toml,
        "shape": list(shape),
        "x1": x1.ravel().tolist(),
        "x2": x2.ravel().tolist(),
        "nngp": np.asarray(k.nngp).ravel().tolist(),
        "ntk": np.asarray(k.ntk).ravel().tolist(),
    }


def main():
    cases = []
    seed = 0
    nt_pool = {"avg_pool": lambda w, s, p: stax.AvgPool(w, s, p, normalize_edges=False),
               "sum_pool": stax.SumPool}
    for kind in ["avg_pool", "sum_pool"]:
        for padding in ["valid", "same", "circular"]:
            for window, stride in [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((2, 2), (1, 1))]:
                seed += 1
                layers = [conv_toml((3, 3), None, "circular", 1.4, 0.2),
                          '[[layers]]\nkind = "relu"\n\n',
                          pool_toml(kind, window, stride, padding)]
                nt = [stax.Conv(1, (3, 3), padding="CIRCULAR", W_std=1.4, b_std=0.2),
                      stax.Relu(), nt_pool[kind](window, stride, PAD[padding])]
                name = f"{kind} {window} stride {stride} {padding}"
                cases.append(case(name, (5, 4, 2), layers, nt, seed))
            # first layer, 1-D
            seed += 1
            layers = [pool_toml(kind, (3,), (2,), padding),
                      conv_toml((3,), None, "same", 1.5, 0.1), '[[layers]]\nkind = "relu"\n\n']
            nt = [nt_pool[kind]((3,), (2,), PAD[padding]),
                  stax.Conv(1, (3,), padding="SAME", W_std=1.5, b_std=0.1), stax.Relu()]
            cases.append(case(f"{kind} (3,) stride (2,) {padding} first", (7, 2), layers, nt, seed))
    for padding in ["valid", "same", "circular"]:
        for shape, filt, stride in [((5, 4, 2), (3, 3), (2, 2)), ((6, 6, 2), (3, 3), (2, 2)),
                                    ((7, 2), (3,), (3,)), ((8, 2), (5,), (2,))]:
            seed += 1
            layers = [conv_toml(filt, stride, padding, 1.3, 0.3),
                      '[[layers]]\nkind = "relu"\n\n',
                      conv_toml(filt, None, padding, 1.2, 0.0) if padding != "valid" else ""]
            nt = [stax.Conv(1, filt, stride, PAD[padding], W_std=1.3, b_std=0.3), stax.Relu()]
            if padding != "valid":
                nt.append(stax.Conv(1, filt, None, PAD[padding], W_std=1.2, b_std=0.0))
            name = f"conv {filt} stride {stride} {padding} on {shape}"
            cases.append(case(name, shape, layers, nt, seed))
    for shape, padding in [((5, 4, 2), "same"), ((7, 2), "circular")]:
        seed += 1
        filt = (3,) * (len(shape) - 1)
        layers = [conv_toml(filt, None, padding, 1.4, 0.2), '[[layers]]\nkind = "relu"\n\n',
                  '[[layers]]\nkind = "global_sum_pool"\n\n']
        nt = [stax.Conv(1, filt, padding=PAD[padding], W_std=1.4, b_std=0.2), stax.Relu(),
              stax.GlobalSumPool()]
        cases.append(case(f"global_sum_pool on {shape}", shape, layers, nt, seed))
    dense = '[[layers]]\nkind = "dense"\nw_std = 1.3\nb_std = 0.4\n\n'
    norm_relu = '[[layers]]\nkind = "layer_norm"\n\n[[layers]]\nkind = "relu"\n\n'
    nt_norm_relu = [stax.LayerNorm(axis=-1, eps=1e-12), stax.Relu()]
    for shape, first, nt_first in [
        ((3,), dense, stax.Dense(1, 1.3, 0.4)),
        ((5, 4, 2), conv_toml((3, 3), None, "same", 1.4, 0.2),
         stax.Conv(1, (3, 3), padding="SAME", W_std=1.4, b_std=0.2)),
        ((7, 2), conv_toml((3,), (2,), "circular", 1.4, 0.2),
         stax.Conv(1, (3,), (2,), padding="CIRCULAR", W_std=1.4, b_std=0.2)),
    ]:
        seed += 1
        layers = [first, norm_relu]
        nt = [nt_first, *nt_norm_relu]
        if len(shape) > 1:
            layers.append(pool_toml("avg_pool", (2,) * (len(shape) - 1), (1,) * (len(shape) - 1),
                                    "valid"))
            nt.append(stax.AvgPool((2,) * (len(shape) - 1), None, "VALID", normalize_edges=False))
        cases.append(case(f"layer_norm on {shape}", shape, layers, nt, seed))
    # one stride per axis, on a grid that is not square
    for padding in ["valid", "same", "circular"]:
        for stride in [(1, 2), (2, 1)]:
            seed += 1
            filt, shape = (3, 3), (5, 6, 2)
            layers = [conv_toml(filt, stride, padding, 1.3, 0.3),
                      '[[layers]]\nkind = "relu"\n\n',
                      conv_toml(filt, None, padding, 1.2, 0.0) if padding != "valid" else ""]
            nt = [stax.Conv(1, filt, stride, PAD[padding], W_std=1.3, b_std=0.3), stax.Relu()]
            if padding != "valid":
                nt.append(stax.Conv(1, filt, None, PAD[padding], W_std=1.2, b_std=0.0))
            name = f"conv {filt} stride {stride} {padding} on {shape}"
            cases.append(case(name, shape, layers, nt, seed))
    for kind in ["avg_pool", "sum_pool"]:
        for padding in ["valid", "same", "circular"]:
            for window, stride in [((2, 3), (1, 2)), ((3, 2), (2, 1)), ((2, 3), (2, 1))]:
                seed += 1
                layers = [conv_toml((3, 3), None, "circular", 1.4, 0.2),
                          '[[layers]]\nkind = "relu"\n\n',
                          pool_toml(kind, window, stride, padding)]
                nt = [stax.Conv(1, (3, 3), padding="CIRCULAR", W_std=1.4, b_std=0.2),
                      stax.Relu(), nt_pool[kind](window, stride, PAD[padding])]
                name = f"{kind} {window} stride {stride} {padding} on (5, 6, 2)"
                cases.append(case(name, (5, 6, 2), layers, nt, seed))
    # a conv with one stride per axis on the full site × site kernel, read by a window pool
    for conv_stride, conv_pad, kind, window, stride, padding in [
        ((2, 1), "same", "avg_pool", (2, 2), (1, 2), "valid"),
        ((1, 2), "circular", "sum_pool", (3, 2), (2, 1), "same"),
    ]:
        seed += 1
        layers = [conv_toml((3, 3), conv_stride, conv_pad, 1.3, 0.3),
                  '[[layers]]\nkind = "relu"\n\n', pool_toml(kind, window, stride, padding)]
        nt = [stax.Conv(1, (3, 3), conv_stride, PAD[conv_pad], W_std=1.3, b_std=0.3), stax.Relu(),
              nt_pool[kind](window, stride, PAD[padding])]
        name = (f"conv (3, 3) stride {conv_stride} {conv_pad}, {kind} {window} stride {stride} "
                f"{padding} on (5, 6, 2)")
        cases.append(case(name, (5, 6, 2), layers, nt, seed))
    # even filters: neural-tangents (XLA) pads ⌊P/2⌋ before the grid and ⌈P/2⌉ after it
    for padding in ["valid", "same", "circular"]:
        for shape, filt, stride in [((5, 4, 2), (2, 2), None), ((5, 6, 2), (2, 3), None),
                                    ((8, 2), (4,), None), ((6, 6, 2), (2, 2), (2, 2)),
                                    ((7, 2), (2,), (2,))]:
            seed += 1
            layers = [conv_toml(filt, stride, padding, 1.3, 0.3),
                      '[[layers]]\nkind = "relu"\n\n',
                      conv_toml(filt, None, padding, 1.2, 0.1) if padding != "valid" else ""]
            nt = [stax.Conv(1, filt, stride, PAD[padding], W_std=1.3, b_std=0.3), stax.Relu()]
            if padding != "valid":
                nt.append(stax.Conv(1, filt, None, PAD[padding], W_std=1.2, b_std=0.1))
            name = f"even conv {filt} stride {stride} {padding} on {shape}"
            cases.append(case(name, shape, layers, nt, seed))
    # layer_norm over every non-batch axis: the variance is the mean over sites and channels
    for shape, first, nt_first, axis in [
        ((5, 4, 2), conv_toml((3, 3), None, "same", 1.4, 0.2),
         stax.Conv(1, (3, 3), padding="SAME", W_std=1.4, b_std=0.2), (1, 2, 3)),
        ((7, 2), conv_toml((2,), (2,), "circular", 1.4, 0.2),
         stax.Conv(1, (2,), (2,), padding="CIRCULAR", W_std=1.4, b_std=0.2), (-2, -1)),
        ((4, 5, 1), conv_toml((3, 2), None, "valid", 1.3, 0.1),
         stax.Conv(1, (3, 2), padding="VALID", W_std=1.3, b_std=0.1), (3, 1, 2)),
    ]:
        seed += 1
        layers = [first, f'[[layers]]\nkind = "layer_norm"\naxis = {list(axis)}\n\n',
                  '[[layers]]\nkind = "erf"\n\n', conv_toml((3,) * (len(shape) - 1), None,
                                                        "circular", 1.2, 0.1)]
        nt = [nt_first, stax.LayerNorm(axis=axis, eps=1e-12), stax.Erf(),
              stax.Conv(1, (3,) * (len(shape) - 1), padding="CIRCULAR", W_std=1.2, b_std=0.1)]
        cases.append(case(f"layer_norm axis {axis} on {shape}", shape, layers, nt, seed))
    out = pathlib.Path(__file__).with_suffix(".json")
    lines = ",\n".join(json.dumps(c) for c in cases)
    out.write_text('{"generator": "tests/reference/pool_stride.py", "cases": [\n'
                   + lines + "\n]}\n")
    print(f"{len(cases)} cases written to {out}")


if __name__ == "__main__":
    main()
