"""eqntk network files (TOML) from and to ``stax`` layers.

``to_toml(layer, input_shape)`` writes the network file of a stax layer (the file the
``eqntk`` command line reads: ``eqntk kernel --net FILE``); ``read(path)`` /
``from_toml(text)`` give a :class:`Network` holding the file's ``init_fn``, ``apply_fn`` and
``kernel_fn`` for its declared input shape.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

from . import _eqntk
from .kernel import Kernel, select, self_variances
from .stax import KernelFn, as_input


def to_toml(layer, input_shape: Sequence[int], name: Optional[str] = None) -> str:
    """The network file of ``layer`` (a stax triple or its ``kernel_fn``) on examples of shape
    ``input_shape`` (one example, channels last; a leading batch axis of -1 is dropped)."""
    kernel_fn = layer if isinstance(layer, KernelFn) else layer[2]
    if not isinstance(kernel_fn, KernelFn):
        raise TypeError("to_toml takes an eqntk.stax layer")
    shape = list(input_shape)
    if len(shape) > 1 and shape[0] in (-1, None):
        shape = shape[1:]
    text = kernel_fn._net.spec([int(s) for s in shape], name)
    _eqntk.check_network(text)
    return text


def write(path, layer, input_shape: Sequence[int], name: Optional[str] = None) -> None:
    """Write the network file of ``layer`` to ``path``."""
    text = to_toml(layer, input_shape, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Network:
    """A network read from an eqntk network file: ``kernel_fn(x1, x2=None, get=None)`` on
    ``[N, *input_shape]`` batches, ``apply_fn(width, seed, x)`` of its finite networks,
    ``toml`` (the text), ``input_shape`` and ``domain``."""

    def __init__(self, toml: str, name: str = "network"):
        self.input_shape, self.domain = _eqntk.check_network(toml)
        self.input_shape = tuple(self.input_shape)
        self.toml = toml
        self.name = name

    def kernel_fn(self, x1, x2=None, get=None, *, orbit=None, orbit_tol=None):
        a1 = as_input(x1, "x1")
        a2 = None if x2 is None else as_input(x2, "x2")
        nngp, ntk = _eqntk.kernel(self.toml, a1, a2, orbit, orbit_tol)
        cov = self_variances(lambda b: _eqntk.kernel(self.toml, b, None, None, None), a1, a2, nngp)
        return select(Kernel(nngp, ntk, cov), get)

    def apply_fn(self, width: int, seed: int, x, out_dim: int = 1):
        return _eqntk.finite_apply(self.toml, as_input(x, "x"), int(width), int(seed), int(out_dim))

    def caveats(self):
        return _eqntk.caveats(self.toml)

    def derive(self, format: str = "latex"):
        from .derive import derive
        return derive(self, format=format)

    def __repr__(self):
        return f"Network({self.name!r}, input_shape={self.input_shape}, domain={self.domain!r})"


def from_toml(text: str, name: str = "network") -> Network:
    """A :class:`Network` from the text of a network file (eqntk's errors as ValueError)."""
    return Network(text, name)


def read(path) -> Network:
    """A :class:`Network` from a network file; errors name the file, the layer and the key."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    name = os.path.splitext(os.path.basename(str(path)))[0]
    try:
        return Network(text, name)
    except ValueError as e:
        msg = str(e)
        if msg.startswith("network: "):
            msg = f"{path}: " + msg[len("network: "):]
        raise ValueError(msg) from None
