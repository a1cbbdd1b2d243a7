"""The kernel record returned by ``kernel_fn`` (neural-tangents' ``Kernel``)."""

from __future__ import annotations

from collections import namedtuple
from typing import Callable, Optional

import numpy as np

#: The kernels ``kernel_fn`` computes, by neural-tangents' names.
KERNEL_NAMES = ("nngp", "ntk")
#: What ``get`` can ask for: the kernels and the self-variances of either batch.
GET_NAMES = KERNEL_NAMES + ("cov1", "cov2")


class Kernel:
    r"""NNGP and NTK of a network on ``x1 × x2``.

    * ``nngp[i, j]`` :math:`= K(x_{1,i}, x_{2,j}) = \lim_{n\to\infty}
      \mathbb{E}[f(x_{1,i}) f(x_{2,j})]` over random initialisations,
    * ``ntk[i, j]`` :math:`= \Theta(x_{1,i}, x_{2,j}) = \lim_{n\to\infty}
      \langle \partial_\theta f(x_{1,i}), \partial_\theta f(x_{2,j}) \rangle`,

    both ``N1 × N2`` float64 numpy arrays (row ``i`` is ``x1[i]``), as neural-tangents' ``Kernel``
    holds them (``trace_axes=(-1,)``, ``diagonal_axes=()``), and

    * ``cov1[i]`` :math:`= K(x_{1,i}, x_{1,i})`, ``cov2[j]`` :math:`= K(x_{2,j}, x_{2,j})` (``None``
      when ``x2`` is ``None``), neural-tangents' ``diagonal_batch=True`` self-variances, computed
      when first read.
    """

    __slots__ = ("nngp", "ntk", "_cov", "_covs")

    def __init__(self, nngp: np.ndarray, ntk: np.ndarray,
                 cov: Optional[Callable[[int], Optional[np.ndarray]]] = None):
        self.nngp = nngp
        self.ntk = ntk
        self._cov = cov
        self._covs = {}

    def _self_variance(self, which: int) -> Optional[np.ndarray]:
        if which not in self._covs:
            if self._cov is None:
                raise ValueError("this kernel was computed without its inputs: no cov1, cov2")
            self._covs[which] = self._cov(which)
        return self._covs[which]

    @property
    def cov1(self) -> np.ndarray:
        return self._self_variance(1)

    @property
    def cov2(self) -> Optional[np.ndarray]:
        return self._self_variance(2)

    @property
    def shape1(self):
        return (self.nngp.shape[0],)

    @property
    def shape2(self):
        return (self.nngp.shape[1],)

    def __repr__(self) -> str:
        n1, n2 = self.nngp.shape
        return f"Kernel(nngp=<{n1}×{n2}>, ntk=<{n1}×{n2}>)"

    def _repr_markdown_(self) -> str:
        def table(name, m):
            rows = ["| " + " | ".join(f"{v:.10g}" for v in r) + " |" for r in m]
            head = "| " + " | ".join(f"x2[{j}]" for j in range(m.shape[1])) + " |"
            sep = "|" + "---|" * m.shape[1]
            return f"**{name}**\n\n" + "\n".join([head, sep] + rows)

        if self.nngp.size > 400:
            return f"`{self!r}`"
        return table("NNGP K", self.nngp) + "\n\n" + table("NTK Θ", self.ntk)


def select(kernel: Kernel, get) -> object:
    """neural-tangents' return conventions for ``get``.

    ``None``: the ``Kernel``; a string: that array; a tuple or list of names: a namedtuple
    with those fields, in the order asked.
    """
    if get is None:
        return kernel
    if isinstance(get, str):
        _check(get)
        return getattr(kernel, get)
    names = tuple(get)
    for g in names:
        _check(g)
    return namedtuple("Kernel", names)(*(getattr(kernel, g) for g in names))


def _check(name: str, names=GET_NAMES) -> None:
    if name not in names:
        raise ValueError(
            f"get must name kernels among {', '.join(names)} (eqntk computes NNGP and "
            f"NTK), got {name!r}"
        )


def get_names(get) -> tuple:
    """The names ``get`` asks for (all for ``None``)."""
    if get is None:
        return KERNEL_NAMES
    if isinstance(get, str):
        _check(get, KERNEL_NAMES)
        return (get,)
    names = tuple(get)
    for g in names:
        _check(g, KERNEL_NAMES)
    return names


def is_single(get) -> Optional[str]:
    return get if isinstance(get, str) else None


def self_variances(kernel: Callable, a1: np.ndarray, a2: Optional[np.ndarray],
                   nngp: np.ndarray, chunk: int = 256) -> Callable[[int], Optional[np.ndarray]]:
    """``cov(1)``, ``cov(2)``: the NNGP self-variances of ``a1`` and ``a2``, from the diagonal
    of ``nngp`` when ``a2`` is ``None``, otherwise from ``kernel(block, None)`` of blocks of
    ``chunk`` examples (``kernel`` returns ``(nngp, ntk)``)."""

    def diagonal(a):
        out = np.empty(len(a))
        for i in range(0, len(a), chunk):
            out[i:i + chunk] = np.diagonal(kernel(np.ascontiguousarray(a[i:i + chunk]))[0])
        return out

    def cov(which: int) -> Optional[np.ndarray]:
        if which == 1:
            return np.diagonal(nngp).copy() if a2 is None else diagonal(a1)
        return None if a2 is None else diagonal(a2)

    return cov
