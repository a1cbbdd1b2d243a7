"""Gram matrices as Dask arrays whose blocks eqntk computes.

``nngp, ntk = eqntk.dask.kernel(kernel_fn, x1, x2=None, chunks=1024)`` splits ``x1`` (and
``x2``) into row blocks of ``chunks`` examples; block ``(i, j)`` is
``kernel_fn(x1[I_i], x2[I_j])``. For ``x2=None`` only the blocks on and above the diagonal
are computed (the diagonal ones as the upper triangle of a symmetric block) and the blocks
below are their transposes. Each entry is computed from its own example pair, so the blocks
equal the in-memory kernel.

The arrays are lazy: ``.compute()`` runs them on Dask's default scheduler (threads), or on
any ``dask.distributed`` cluster a ``Client`` is connected to::

    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
    nngp, ntk = eqntk.dask.kernel(kernel_fn, x, chunks=512)
    ntk = ntk.compute()

(or ``dask_jobqueue.SLURMCluster`` / ``PBSCluster`` for batch systems). Workers need
``eqntk`` installed. For an eqntk ``kernel_fn`` a task ships only the network file and its
two blocks of inputs.
"""

from __future__ import annotations

import numpy as np

from . import _eqntk
from .stax import KernelFn, as_input


def _block(spec, a, b):
    # arrays that travelled to a worker may arrive unaligned or read-only: one copy then
    a = np.require(a, np.float64, ["C", "A"])
    b = None if b is None else np.require(b, np.float64, ["C", "A"])
    return _eqntk.kernel(spec, a, b)


def _block_fn(kernel_fn, a, b):
    k = kernel_fn(a, b, ("nngp", "ntk"))
    return np.asarray(k.nngp, dtype=np.float64), np.asarray(k.ntk, dtype=np.float64)


def _pick(pair, which, transpose):
    m = pair[which]
    return np.ascontiguousarray(m.T) if transpose else m


def kernel(kernel_fn, x1, x2=None, chunks: int = 1024):
    """``(nngp, ntk)``: two lazy ``N1 × N2`` Dask arrays of float64, chunked
    ``chunks × chunks``. See the module documentation."""
    import dask
    import dask.array as da

    if int(chunks) != chunks or chunks < 1:
        raise ValueError(f"chunks must be a positive integer, got {chunks!r}")
    chunks = int(chunks)
    a1 = as_input(x1, "x1")
    a2 = None if x2 is None else as_input(x2, "x2")
    if isinstance(kernel_fn, KernelFn):
        spec = kernel_fn.spec(a1)
        # check the network and shapes once, before any task is built
        _eqntk.check_network(spec)
        compute = dask.delayed(_block, pure=True)
        head = (spec,)
    else:
        compute = dask.delayed(_block_fn, pure=True)
        head = (kernel_fn,)
    pick = dask.delayed(_pick, pure=True)
    r1 = [(i, min(i + chunks, len(a1))) for i in range(0, len(a1), chunks)]
    second = a1 if a2 is None else a2
    r2 = [(j, min(j + chunks, len(second))) for j in range(0, len(second), chunks)]
    blocks1 = [dask.delayed(a1[i0:i1]) for i0, i1 in r1]
    blocks2 = blocks1 if a2 is None else [dask.delayed(a2[j0:j1]) for j0, j1 in r2]
    pairs = {}
    for bi in range(len(r1)):
        for bj in range(len(r2)):
            if a2 is None and bj < bi:
                continue
            b = None if (a2 is None and bi == bj) else blocks2[bj]
            pairs[bi, bj] = compute(*head, blocks1[bi], b)
    out = []
    for which in (0, 1):
        rows = []
        for bi, (i0, i1) in enumerate(r1):
            row = []
            for bj, (j0, j1) in enumerate(r2):
                if (bi, bj) in pairs:
                    d = pick(pairs[bi, bj], which, False)
                else:
                    d = pick(pairs[bj, bi], which, True)
                row.append(da.from_delayed(d, shape=(i1 - i0, j1 - j0), dtype=np.float64))
            rows.append(row)
        out.append(da.block(rows))
    return out[0], out[1]
