"""The kernel record returned by ``kernel_fn`` (neural-tangents' ``Kernel``)."""

from __future__ import annotations

from collections import namedtuple
from typing import Optional

import numpy as np

#: The kernels ``kernel_fn`` can return, by neural-tangents' names.
KERNEL_NAMES = ("nngp", "ntk")


class Kernel:
    r"""NNGP and NTK of a network on ``x1 × x2``.

    * ``nngp[i, j]`` :math:`= K(x_{1,i}, x_{2,j}) = \lim_{n\to\infty}
      \mathbb{E}[f(x_{1,i}) f(x_{2,j})]` over random initialisations,
    * ``ntk[i, j]`` :math:`= \Theta(x_{1,i}, x_{2,j}) = \lim_{n\to\infty}
      \langle \partial_\theta f(x_{1,i}), \partial_\theta f(x_{2,j}) \rangle`,

    both ``N1 × N2`` float64 numpy arrays (row ``i`` is ``x1[i]``), as neural-tangents' ``Kernel``
    holds them (``trace_axes=(-1,)``, ``diagonal_axes=()``).
    """

    __slots__ = ("nngp", "ntk")

    def __init__(self, nngp: np.ndarray, ntk: np.ndarray):
        self.nngp = nngp
        self.ntk = ntk

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


def _check(name: str) -> None:
    if name not in KERNEL_NAMES:
        raise ValueError(
            f"get must name kernels among {', '.join(KERNEL_NAMES)} (eqntk computes NNGP and "
            f"NTK), got {name!r}"
        )


def get_names(get) -> tuple:
    """The names ``get`` asks for (all for ``None``)."""
    if get is None:
        return KERNEL_NAMES
    if isinstance(get, str):
        _check(get)
        return (get,)
    names = tuple(get)
    for g in names:
        _check(g)
    return names


def is_single(get) -> Optional[str]:
    return get if isinstance(get, str) else None
