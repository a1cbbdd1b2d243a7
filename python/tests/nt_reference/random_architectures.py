"""Seeded random architectures written once against a ``stax`` module: neural-tangents' or eqntk's.

The hand-written cases of ``architectures.py`` cover each layer once; these combine them as a
user's code does: activations with random parameters, affine layers on flat and on image
inputs, even and odd filters, paddings, strides, pools, layer norms per site and over all
axes, residual and product blocks, ``repeat``, both parameterisations. ``make_reference.py``
runs them with neural-tangents and ``test_nt_reference.py`` with ``eqntk.stax``: the same
code, the same numbers.

Each entry is ``(layer, input_shape, n)`` as in ``architectures.py``.
"""

import random

CASES = 40


def _activation(stax, r, normalised):
    """A random activation; ``normalised``: the input's variance is 1 (after a layer norm).

    Not drawn: ``Sign``, whose Ṫ diverges at ρ = 1, so that neural-tangents' rounding of ρ on
    the diagonal changes the NTK there in the 6th digit, and ``RectifiedMonomial``, which
    neural-tangents 0.6.5 returns as NaN on the diagonal (an arccos of a ρ rounded above 1)
    and so on whole rows after the next layer. Both are checked against neural-tangents where
    its values are sound: ``architectures.py`` (sign) and ``tests/reference/activations_nt.py``
    (rectified monomials, x1 against x2)."""
    u = lambda lo, hi: round(r.uniform(lo, hi), 3)  # noqa: E731
    choices = [
        lambda: stax.Relu(),
        lambda: stax.LeakyRelu(u(-0.5, 0.5)),
        lambda: stax.ABRelu(u(-1.0, 0.0), u(0.5, 1.5)),
        lambda: stax.Abs(),
        lambda: stax.Erf(a=u(0.5, 1.5), b=u(0.5, 1.5), c=u(-0.3, 0.3)),
        lambda: stax.Gelu(),
        lambda: stax.Sin(a=u(0.5, 1.5), b=u(0.5, 1.5), c=u(-0.5, 0.5)),
        lambda: stax.Cos(a=u(0.5, 1.5), b=u(0.5, 1.5), c=u(-0.5, 0.5)),
        lambda: stax.Rbf(gamma=u(0.2, 1.0)),
        lambda: stax.Exp(a=u(0.3, 1.0), b=u(0.1, 0.5)),
        lambda: stax.Gaussian(a=u(0.5, 1.5), b=u(-1.0, -0.2)),
        lambda: stax.Monomial(r.choice([0, 1, 2, 3])),
        lambda: stax.Polynomial([u(-0.5, 0.5), u(0.5, 1.5), u(-0.5, 0.5)]),
        lambda: stax.Sigmoid_like(),
    ]
    if normalised:
        choices.append(lambda: stax.Hermite(r.choice([1, 2, 3])))
    return r.choice(choices)()


def _std(r):
    return round(r.uniform(0.6, 1.6), 3)


def _b_std(r):
    return r.choice([None, 0.0, round(r.uniform(0.05, 0.5), 3)])


def _param(r):
    return r.choice(["ntk", "ntk", "standard"])


def _dense(stax, r, width):
    return stax.Dense(width, W_std=_std(r), b_std=_b_std(r), parameterization=_param(r))


def _mlp(stax, r):
    width = r.choice([16, 64, 512])
    layers = [_dense(stax, r, width)]
    for _ in range(r.randint(1, 3)):
        kind = r.random()
        if kind < 0.2:
            main = stax.serial(_activation(stax, r, False), _dense(stax, r, width))
            other = r.choice([stax.Identity(), _dense(stax, r, width)])
            fan_in = r.choice([stax.FanInSum(), stax.FanInSum(), stax.FanInProd()])
            layers += [stax.FanOut(2), stax.parallel(main, other), fan_in]
        elif kind < 0.3:
            layers += [stax.repeat(stax.serial(_activation(stax, r, False),
                                               _dense(stax, r, width)), r.randint(1, 3))]
        elif kind < 0.4:
            layers += [stax.LayerNorm(), _activation(stax, r, True), _dense(stax, r, width)]
        else:
            layers += [_activation(stax, r, False), _dense(stax, r, width)]
    layers.append(_dense(stax, r, 1))
    shape = (r.randint(2, 6),)
    return stax.serial(*layers), shape


def _conv(stax, r, width, dims, size):
    """A convolution that keeps at least one site on every axis."""
    padding = r.choice(["SAME", "VALID", "CIRCULAR"])
    filt = tuple(r.choice([1, 2, 3]) for _ in range(dims))
    if padding == "VALID":
        filt = tuple(min(f, s) for f, s in zip(filt, size))
    strides = None if r.random() < 0.6 else tuple(r.choice([1, 2]) for _ in range(dims))
    layer = stax.Conv(width, filt, strides, padding, W_std=_std(r), b_std=_b_std(r),
                      parameterization=_param(r))
    st = strides or (1,) * dims
    if padding == "VALID":
        size = tuple((s - f) // t + 1 for s, f, t in zip(size, filt, st))
    else:
        size = tuple((s + t - 1) // t for s, t in zip(size, st))
    return layer, size


def _cnn(stax, r):
    dims = r.choice([1, 2, 2])
    size = tuple(r.randint(3, 6) for _ in range(dims))
    shape = size + (r.randint(1, 3),)
    width = r.choice([8, 32])
    layers = []
    first, size = _conv(stax, r, width, dims, size)
    layers.append(first)
    for _ in range(r.randint(1, 2)):
        kind = r.random()
        if kind < 0.25 and dims == 2:
            padding = r.choice(["SAME", "CIRCULAR"])
            main = stax.serial(_activation(stax, r, False),
                               stax.Conv(width, (3, 3), padding=padding, W_std=_std(r),
                                         b_std=_b_std(r)))
            layers += [stax.FanOut(2), stax.parallel(main, stax.Identity()), stax.FanInSum()]
        elif kind < 0.4 and min(size) >= 2:
            pool = r.choice([stax.AvgPool, stax.SumPool])
            window = tuple(r.choice([1, 2]) for _ in range(dims))
            padding = r.choice(["VALID", "SAME"])
            layers += [_activation(stax, r, False), pool(window, None, padding)]
            if padding == "VALID":
                size = tuple((s - w) // w + 1 for s, w in zip(size, window))
            else:
                size = tuple((s + w - 1) // w for s, w in zip(size, window))
            # a pooled activation is not Gaussian: an affine layer comes next
            layer, size = _conv(stax, r, width, dims, size)
            layers.append(layer)
        elif kind < 0.6:
            layer, size = _conv(stax, r, width, dims, size)
            axis = r.choice([-1, tuple(range(1, dims + 2)), tuple(range(-dims - 1, 0))])
            layers += [stax.LayerNorm(axis=axis), _activation(stax, r, True), layer]
        elif kind < 0.7:
            # neural-tangents' Dense on an image acts on the channel axis at every site
            layers += [_activation(stax, r, False), _dense(stax, r, width)]
        else:
            layer, size = _conv(stax, r, width, dims, size)
            layers += [_activation(stax, r, False), layer]
    layers.append(_activation(stax, r, False))
    layers.append(r.choice([stax.GlobalAvgPool(), stax.GlobalSumPool(), stax.Flatten()]))
    layers.append(_dense(stax, r, 1))
    return stax.serial(*layers), shape


def random_architectures(stax, cases=CASES):
    out = {}
    for i in range(cases):
        r = random.Random(1000 + i)
        layer, shape = (_mlp if i % 2 == 0 else _cnn)(stax, r)
        out[f"random_{i:02d}"] = (layer, shape, 3)
    return out
