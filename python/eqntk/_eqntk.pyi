"""Type stubs of the compiled extension (python/src/lib.rs); the public API wraps these.

Every function takes the network as the text of an eqntk network file (`spec`), arrays as
float64 numpy arrays, releases the GIL while it computes, and raises ValueError (bad input),
MemoryError (over the budget or eqntk's size bounds), FloatingPointError (a kernel that
overflows), RuntimeError (a quadrature that does not converge) or OSError, with eqntk's
one-line message.
"""

from os import PathLike
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

_F64 = npt.NDArray[np.float64]

def kernel(
    spec: str,
    x1: _F64,
    x2: Optional[_F64] = None,
    orbit: Optional[str] = None,
    orbit_tol: Optional[float] = None,
) -> Tuple[_F64, _F64]:
    """`(nngp, ntk)`, each N1 × N2; with `orbit`, averaged over the group acting on x2."""

def caveats(spec: str) -> list[str]:
    """The network's warnings (e.g. correlated branches of a parallel block)."""

def check_network(spec: str) -> Tuple[list[int], str]:
    """The input shape and domain the network declares."""

def predict(
    spec: str,
    x_train: _F64,
    y_train: _F64,
    x_test: _F64,
    times: Sequence[float],
    learning_rate: float = 1.0,
    diag_reg: float = 0.0,
    cov: bool = False,
    augment: Optional[str] = None,
    targets: str = "invariant",
    explicit: bool = False,
) -> Tuple[npt.NDArray[np.float64], Optional[npt.NDArray[np.float64]]]:
    """The infinite ensemble's mean (time × test × output) and covariance (time × test × test)."""

def predict_kernels(
    ntk_train: _F64,
    nngp_train: _F64,
    y_train: _F64,
    ntk_test_train: _F64,
    nngp_test_train: _F64,
    times: Sequence[float],
    learning_rate: float = 1.0,
    diag_reg: float = 0.0,
    nngp_test_test: Optional[_F64] = None,
) -> Tuple[npt.NDArray[np.float64], Optional[npt.NDArray[np.float64]]]:
    """`predict` from kernels already computed."""

def finite_apply(spec: str, x: _F64, width: int, seed: int, out_dim: int = 1) -> _F64:
    """Outputs (N × out_dim) of the finite network of `width` drawn from `seed`."""

def finite_n_params(spec: str, width: int, out_dim: int = 1) -> int:
    """The number of parameters of that finite network."""

def derive(spec: str, format: str = "latex", name: str = "network") -> str:
    """The kernel recursion as formulas (`text`, `unicode`, `latex`, `markdown`, `sympy`)."""

def group(
    command: str, group: str, rep: Optional[str] = None, format: str = "json"
) -> Tuple[str, bool]:
    """`eqntk group table|decompose|check` as text in `format`, and whether it passed."""

def verify(paths: Sequence[Union[str, PathLike[str]]], check: bool = False) -> Tuple[str, bool]:
    """`eqntk verify` of claim files: the report and whether every claim held."""
