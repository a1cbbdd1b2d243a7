"""eqntk: infinite-width kernels (NNGP, NTK) of ordinary and group-equivariant networks.

``from eqntk import stax`` is neural-tangents' ``stax`` computed by eqntk (float64, no JAX);
``eqntk.predict`` has neural-tangents' ``gradient_descent_mse_ensemble`` and the augmented
ensembles; ``eqntk.dask`` computes Gram matrices on a Dask cluster; ``eqntk.groups``
(character tables), ``eqntk.derive`` / ``eqntk.verify`` (formulas and claim files),
``eqntk.orbit_kernel`` and ``eqntk.network`` (network files) reach the rest of eqntk.
"""

from . import _eqntk, groups, network, predict, stax
from .derive import Derivation, VerifyReport, derive, verify
from .kernel import Kernel

__version__ = _eqntk.__version__


def orbit_kernel(kernel_fn, x1, x2=None, group: str = "C4", get=None, tol=None):
    r"""The kernels averaged over the orbit of ``x2`` under ``group`` acting on the network's
    declared input domain, :math:`\bar k(x, x') = \frac{1}{|G|}\sum_{g\in G} k(x, \rho(g)x')`
    (SO2/O2/SO3/O3 by adaptive quadrature to ``tol``). By Result A this is the kernel of the
    corresponding G-CNN, and of the infinite ensemble trained on fully augmented data."""
    return kernel_fn(x1, x2, get, orbit=group, orbit_tol=tol)


def batch(kernel_fn, batch_size: int = 0, device_count: int = -1, store_on_device: bool = True):
    """neural-tangents' ``nt.batch``: eqntk computes in parallel already, so this returns
    ``kernel_fn`` (use :func:`eqntk.dask.kernel` for Gram matrices out of memory)."""
    return kernel_fn


__all__ = ["stax", "predict", "groups", "network", "Kernel", "derive", "verify", "Derivation",
           "VerifyReport", "orbit_kernel", "batch", "__version__"]
