"""eqntk.dask: blocks computed by eqntk equal the in-memory kernel, on the local scheduler and
on a LocalCluster with two worker processes."""

import numpy as np
import pytest

from conftest import assert_close
from eqntk import stax

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import eqntk.dask as edask  # noqa: E402

NET = stax.serial(stax.Conv(8, (3, 3), padding="SAME", W_std=1.5, b_std=0.1), stax.Relu(),
                  stax.GlobalAvgPool(), stax.Dense(1, 1.5, 0.1))


def test_blocks_equal_in_memory_local_scheduler(rng):
    x1 = rng.normal(size=(11, 4, 4, 1))
    x2 = rng.normal(size=(7, 4, 4, 1))
    full = NET[2](x1, None)
    nngp, ntk = edask.kernel(NET[2], x1, chunks=4)
    assert nngp.chunks == ((4, 4, 3), (4, 4, 3))
    np.testing.assert_array_equal(nngp.compute(), full.nngp)
    np.testing.assert_array_equal(ntk.compute(), full.ntk)
    cross = NET[2](x1, x2)
    n2, t2 = edask.kernel(NET[2], x1, x2, chunks=3)
    np.testing.assert_array_equal(n2.compute(), cross.nngp)
    np.testing.assert_array_equal(t2.compute(), cross.ntk)


def test_triangle_computed_once(rng, monkeypatch):
    calls = []
    real = edask._block

    def counting(spec, a, b):
        calls.append((len(a), None if b is None else len(b)))
        return real(spec, a, b)

    monkeypatch.setattr(edask, "_block", counting)
    x = rng.normal(size=(10, 3))
    mlp = stax.serial(stax.Dense(8), stax.Relu(), stax.Dense(1))
    nngp, ntk = edask.kernel(mlp[2], x, chunks=4)
    import dask as d

    n, t = d.compute(nngp, ntk, scheduler="sync")
    # 3 row blocks: 3 diagonal (x2 = None) + 3 above the diagonal = 6 evaluations, not 9
    assert len(calls) == 6
    assert sum(1 for c in calls if c[1] is None) == 3
    full = mlp[2](x)
    # dense input kernels X·X′ᵀ/d go through a blocked matrix product whose summation order
    # depends on the block sizes: equal to rounding (convolutional networks, above, bit for bit)
    assert_close(n, full.nngp, rtol=1e-14)
    assert_close(t, full.ntk, rtol=1e-14)


def test_local_cluster_two_workers(rng):
    from distributed import Client, LocalCluster

    x = rng.normal(size=(9, 4, 4, 1))
    full = NET[2](x)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        nngp, ntk = edask.kernel(NET[2], x, chunks=3)
        n, t = client.compute([nngp, ntk], sync=True)
        workers = client.run(lambda: __import__("os").getpid())
        assert len(workers) == 2
    np.testing.assert_array_equal(n, full.nngp)
    np.testing.assert_array_equal(t, full.ntk)
