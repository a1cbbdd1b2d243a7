"""Every stax layer against the eqntk command line on a network file written by hand."""

import numpy as np
import pytest

from conftest import assert_close
from eqntk import stax

DENSE_IN = '[[layers]]\nkind = "dense"\nw_std = 1.3\nb_std = 0.2\n'
DENSE_OUT = '[[layers]]\nkind = "dense"\nw_std = 1.1\nb_std = 0.1\n'

# (stax layer, its [[layers]] table) for each nonlinearity
ACTIVATIONS = [
    (stax.Relu(), 'kind = "relu"'),
    (stax.LeakyRelu(0.2), 'kind = "leaky_relu"\nalpha = 0.2'),
    (stax.ABRelu(-0.4, 1.1), 'kind = "abrelu"\na = -0.4\nb = 1.1'),
    (stax.Abs(), 'kind = "abs"'),
    (stax.Erf(), 'kind = "erf"'),
    (stax.Erf(1.2, 0.7, 0.1), 'kind = "erf"\na = 1.2\nb = 0.7\nc = 0.1'),
    (stax.Gelu(), 'kind = "gelu"'),
    (stax.Sign(), 'kind = "sign"'),
    (stax.Sin(), 'kind = "sin"'),
    (stax.Sin(1.0, 1.3, 0.2), 'kind = "sin"\na = 1.0\nb = 1.3\nc = 0.2'),
    (stax.Cos(0.9, 1.1, 0.3), 'kind = "cos"\na = 0.9\nb = 1.1\nc = 0.3'),
    (stax.Rbf(), 'kind = "rbf"\ngamma = 1.0'),
    (stax.Rbf(0.4), 'kind = "rbf"\ngamma = 0.4'),
    (stax.Exp(), 'kind = "exp"\na = 1.0\nb = 1.0'),
    (stax.Exp(0.7, 0.4), 'kind = "exp"\na = 0.7\nb = 0.4'),
    (stax.Gaussian(), 'kind = "gaussian"\na = 1.0\nb = -1.0'),
    (stax.Gaussian(1.3, -0.6), 'kind = "gaussian"\na = 1.3\nb = -0.6'),
    (stax.Monomial(3), 'kind = "monomial"\ndegree = 3'),
    (stax.RectifiedMonomial(2), 'kind = "rectified_monomial"\ndegree = 2'),
    (stax.Polynomial([0.2, 1.0, -0.3]), 'kind = "polynomial"\ncoef = [0.2, 1.0, -0.3]'),
    (stax.Hermite(3), 'kind = "hermite"\ndegree = 3'),
    (stax.Sigmoid_like(), 'kind = "sigmoid_like"'),
    (stax.Tanh(), 'kind = "tanh"'),
    (stax.Sigmoid(), 'kind = "sigmoid"'),
    (stax.Softplus(), 'kind = "softplus"'),
    (stax.Elementwise("x*exp(-x^2/2)"), 'kind = "elementwise"\nphi = "x*exp(-x^2/2)"'),
]


@pytest.mark.parametrize("layer,table", ACTIVATIONS, ids=[t.split('"')[1] + str(i) for i, (_, t) in enumerate(ACTIVATIONS)])
def test_activation(cli, rng, layer, table):
    net = stax.serial(stax.Dense(64, W_std=1.3, b_std=0.2), layer, stax.Dense(1, 1.1, 0.1))
    toml = f"[input]\nshape = [4]\n\n{DENSE_IN}\n[[layers]]\n{table}\n\n{DENSE_OUT}"
    x1, x2 = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    for a, b in [(x1, None), (x1, x2)]:
        nngp, ntk = cli.kernel(toml, a, b)
        k = net[2](a, b)
        assert_close(k.nngp, nngp, what="nngp")
        assert_close(k.ntk, ntk, what="ntk")


GRID = [
    ("conv valid + flatten", [6, 5, 2],
     stax.serial(stax.Conv(8, (3, 3), W_std=1.5, b_std=0.1), stax.Relu(), stax.Flatten(), stax.Dense(1)),
     '[[layers]]\nkind = "conv"\nfilter = [3, 3]\npadding = "valid"\nw_std = 1.5\nb_std = 0.1\n\n'
     '[[layers]]\nkind = "relu"\n\n[[layers]]\nkind = "flatten"\n\n[[layers]]\nkind = "dense"\n'),
    ("conv same strided + global avg pool", [6, 6, 1],
     stax.serial(stax.Conv(8, (3, 3), (2, 2), "SAME", 1.4, 0.2), stax.Erf(), stax.GlobalAvgPool(),
                 stax.Dense(1, 1.2)),
     '[[layers]]\nkind = "conv"\nfilter = [3, 3]\npadding = "same"\nstride = [2, 2]\nw_std = 1.4\n'
     'b_std = 0.2\n\n[[layers]]\nkind = "erf"\n\n[[layers]]\nkind = "global_avg_pool"\n\n'
     '[[layers]]\nkind = "dense"\nw_std = 1.2\n'),
    ("conv circular + global sum pool", [5, 5, 1],
     stax.serial(stax.Conv(8, (3, 3), padding="CIRCULAR", W_std=1.5, b_std=0.1), stax.Relu(),
                 stax.GlobalSumPool(), stax.Dense(1, 1.5, 0.1)),
     '[[layers]]\nkind = "conv"\nfilter = [3, 3]\npadding = "circular"\nw_std = 1.5\nb_std = 0.1\n\n'
     '[[layers]]\nkind = "relu"\n\n[[layers]]\nkind = "global_sum_pool"\n\n'
     '[[layers]]\nkind = "dense"\nw_std = 1.5\nb_std = 0.1\n'),
    ("avg pool + sum pool", [6, 6, 1],
     stax.serial(stax.Conv(4, (3, 3), padding="SAME"), stax.Relu(), stax.AvgPool((2, 2), (2, 2)),
                 stax.SumPool((2, 2), padding="SAME"), stax.Flatten(), stax.Dense(1)),
     '[[layers]]\nkind = "conv"\nfilter = [3, 3]\npadding = "same"\n\n[[layers]]\nkind = "relu"\n\n'
     '[[layers]]\nkind = "avg_pool"\nwindow = [2, 2]\nstride = [2, 2]\npadding = "valid"\n\n'
     '[[layers]]\nkind = "sum_pool"\nwindow = [2, 2]\npadding = "same"\n\n'
     '[[layers]]\nkind = "flatten"\n\n[[layers]]\nkind = "dense"\n'),
    ("layer norm", [5, 5, 2],
     stax.serial(stax.Conv(4, (3, 3), padding="CIRCULAR", W_std=1.3), stax.LayerNorm(), stax.Relu(),
                 stax.GlobalAvgPool(), stax.Dense(1)),
     '[[layers]]\nkind = "conv"\nfilter = [3, 3]\npadding = "circular"\nw_std = 1.3\n\n'
     '[[layers]]\nkind = "layer_norm"\n\n[[layers]]\nkind = "relu"\n\n'
     '[[layers]]\nkind = "global_avg_pool"\n\n[[layers]]\nkind = "dense"\n'),
    ("conv 1-d", [7, 2],
     stax.serial(stax.Conv(4, (3,), padding="CIRCULAR", W_std=1.2, b_std=0.3), stax.Gelu(),
                 stax.GlobalAvgPool(), stax.Dense(1)),
     '[[layers]]\nkind = "conv"\nfilter = [3]\npadding = "circular"\nw_std = 1.2\nb_std = 0.3\n\n'
     '[[layers]]\nkind = "gelu"\n\n[[layers]]\nkind = "global_avg_pool"\n\n[[layers]]\nkind = "dense"\n'),
    ("standard parameterisation", [5],
     stax.serial(stax.Dense(48, 1.5, 0.1, parameterization="standard"), stax.Relu(),
                 stax.Dense(1, 1.2, parameterization="standard")),
     '[[layers]]\nkind = "dense"\nw_std = 1.5\nb_std = 0.1\nwidth = 48\nparameterization = "standard"\n\n'
     '[[layers]]\nkind = "relu"\n\n[[layers]]\nkind = "dense"\nw_std = 1.2\nparameterization = "standard"\n'),
    ("residual: FanOut, parallel, Identity, FanInSum", [6, 6, 2],
     stax.serial(stax.Conv(8, (3, 3), padding="SAME", W_std=1.5, b_std=0.05),
                 stax.FanOut(2),
                 stax.parallel(stax.serial(stax.Relu(), stax.Conv(8, (3, 3), padding="SAME", W_std=1.5)),
                               stax.Identity()),
                 stax.FanInSum(), stax.Relu(), stax.GlobalAvgPool(), stax.Dense(1, 1.5, 0.05)),
     '[[layers]]\nkind = "conv"\nfilter = [3, 3]\npadding = "same"\nw_std = 1.5\nb_std = 0.05\n\n'
     '[[layers]]\nkind = "residual"\nblock = [{ kind = "relu" }, { kind = "conv", filter = [3, 3], '
     'padding = "same", w_std = 1.5 }]\n\n[[layers]]\nkind = "relu"\n\n'
     '[[layers]]\nkind = "global_avg_pool"\n\n[[layers]]\nkind = "dense"\nw_std = 1.5\nb_std = 0.05\n'),
    ("FanInProd", [4],
     stax.serial(stax.Dense(8, 1.3, 0.2), stax.FanOut(2),
                 stax.parallel(stax.serial(stax.Erf(), stax.Dense(8)), stax.Dense(8, 0.7, 0.3)),
                 stax.FanInProd(), stax.Dense(1)),
     '[[layers]]\nkind = "dense"\nw_std = 1.3\nb_std = 0.2\n\n[[layers]]\nkind = "parallel"\n'
     'branches = [[{ kind = "erf" }, { kind = "dense" }], [{ kind = "dense", w_std = 0.7, b_std = 0.3 }]]\n'
     'combine = "prod"\n\n[[layers]]\nkind = "dense"\n'),
    ("p4 G-CNN: Lift, GroupConv, GroupPool", [5, 5, 1],
     stax.serial(stax.Lift(8, "p4", (3, 3), "CIRCULAR", 1.5, 0.1), stax.Relu(),
                 stax.GroupConv(8, (3, 3), W_std=1.5, b_std=0.1), stax.Relu(), stax.GroupPool(),
                 stax.Dense(1, 1.5, 0.1)),
     '[[layers]]\nkind = "lift"\ngroup = "p4"\nfilter = [3, 3]\npadding = "circular"\nw_std = 1.5\n'
     'b_std = 0.1\n\n[[layers]]\nkind = "relu"\n\n[[layers]]\nkind = "group_conv"\nfilter = [3, 3]\n'
     'w_std = 1.5\nb_std = 0.1\n\n[[layers]]\nkind = "relu"\n\n[[layers]]\nkind = "group_pool"\n\n'
     '[[layers]]\nkind = "dense"\nw_std = 1.5\nb_std = 0.1\n'),
    ("C4 G-CNN with a support", [5, 5, 1],
     stax.serial(stax.Lift(8, "C4", (3, 3), W_std=1.3, b_std=0.1), stax.Relu(),
                 stax.GroupConv(8, support=[0, 1], W_std=1.2), stax.Relu(), stax.GroupPool(),
                 stax.Dense(1)),
     '[[layers]]\nkind = "lift"\ngroup = "C4"\nfilter = [3, 3]\nw_std = 1.3\nb_std = 0.1\n\n'
     '[[layers]]\nkind = "relu"\n\n[[layers]]\nkind = "group_conv"\nsupport = [0, 1]\nw_std = 1.2\n\n'
     '[[layers]]\nkind = "relu"\n\n[[layers]]\nkind = "group_pool"\n\n[[layers]]\nkind = "dense"\n'),
]


@pytest.mark.parametrize("name,shape,layer,tables", GRID, ids=[g[0] for g in GRID])
def test_grid_network(cli, rng, name, shape, layer, tables):
    toml = f"[input]\nshape = {shape}\n\n{tables}"
    x1, x2 = rng.normal(size=[4] + shape), rng.normal(size=[3] + shape)
    for a, b in [(x1, None), (x1, x2)]:
        nngp, ntk = cli.kernel(toml, a, b)
        k = layer[2](a, b)
        assert_close(k.nngp, nngp, what=f"{name} nngp")
        assert_close(k.ntk, ntk, what=f"{name} ntk")


def test_declared_domain_points_so2(cli, rng):
    """InputDomain('points') + an SO2 lift: planar point sets are never a default domain."""
    layer = stax.serial(stax.InputDomain("points"), stax.Lift(8, "SO2", "full", W_std=1.4, b_std=0.1),
                        stax.Relu(), stax.GroupPool(), stax.Dense(1))
    toml = ('[input]\nshape = [4, 2]\ndomain = "points"\n\n[[layers]]\nkind = "lift"\ngroup = "SO2"\n'
            'filter = "full"\nw_std = 1.4\nb_std = 0.1\n\n[[layers]]\nkind = "relu"\n\n'
            '[[layers]]\nkind = "group_pool"\n\n[[layers]]\nkind = "dense"\n')
    x = rng.normal(size=(3, 4, 2))
    nngp, ntk = cli.kernel(toml, x)
    k = layer[2](x)
    assert_close(k.nngp, nngp)
    assert_close(k.ntk, ntk)
    # without the declaration a [4, 2] example is a periodic signal, where SO2 lifts need odd n
    with pytest.raises(ValueError):
        stax.serial(stax.Lift(8, "SO2", "full"), stax.GroupPool(), stax.Dense(1))[2](x)


def test_orbit_kernel_matches_cli(cli, rng):
    import eqntk

    layer = stax.serial(stax.Conv(8, (3, 3), padding="CIRCULAR", W_std=1.5, b_std=0.1), stax.Relu(),
                        stax.GlobalAvgPool(), stax.Dense(1, 1.5, 0.1))
    toml = ('[input]\nshape = [4, 4, 1]\n\n[[layers]]\nkind = "conv"\nfilter = [3, 3]\n'
            'padding = "circular"\nw_std = 1.5\nb_std = 0.1\n\n[[layers]]\nkind = "relu"\n\n'
            '[[layers]]\nkind = "global_avg_pool"\n\n[[layers]]\nkind = "dense"\nw_std = 1.5\nb_std = 0.1\n')
    x1, x2 = rng.normal(size=(3, 4, 4, 1)), rng.normal(size=(2, 4, 4, 1))
    nngp, ntk = cli.kernel(toml, x1, x2, "--orbit", "D4")
    k = eqntk.orbit_kernel(layer[2], x1, x2, "D4")
    assert_close(k.nngp, nngp)
    assert_close(k.ntk, ntk)
    # and by hand: the mean over the 8 elements of D4 acting on x2 (rot90 and the transpose)
    imgs = []
    for t in (False, True):
        base = np.swapaxes(x2, 1, 2) if t else x2
        imgs += [np.rot90(base, r, axes=(1, 2)) for r in range(4)]
    mean = sum(layer[2](x1, np.ascontiguousarray(g), "ntk") for g in imgs) / 8
    assert_close(k.ntk, mean, rtol=1e-12)
