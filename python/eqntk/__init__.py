"""eqntk: infinite-width kernels (NNGP, NTK) of ordinary and group-equivariant networks.

``from eqntk import stax`` is neural-tangents' ``stax`` computed by eqntk (float64, no JAX);
``eqntk.predict`` has neural-tangents' ``gradient_descent_mse_ensemble`` and the augmented
ensembles; ``eqntk.dask`` computes Gram matrices on a Dask cluster; ``eqntk.groups``,
``eqntk.derive``, ``eqntk.verify`` and ``eqntk.network`` reach the rest of eqntk.
"""

from . import _eqntk, stax
from .kernel import Kernel

__version__ = _eqntk.__version__

__all__ = ["stax", "Kernel", "__version__"]
