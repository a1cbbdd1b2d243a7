r"""Kernel recursions as formulas (``eqntk derive``) and claim files (``eqntk verify``).

``derive(layer, input_shape)`` returns the recursion :math:`K^{(l)}, \Theta^{(l)}` layer by
layer as eqntk prints it; in a notebook it renders as LaTeX (``_repr_latex_``).
``verify(paths)`` checks claim files (``derivations/*.toml``) and returns the pass/fail table.
"""

from __future__ import annotations

from typing import Optional, Sequence

from . import _eqntk
from .stax import KernelFn

FORMATS = ("text", "unicode", "latex", "markdown", "sympy")


class Derivation(str):
    """The recursion as text in one format; renders as LaTeX in notebooks."""

    def __new__(cls, text: str, latex: str, markdown: str):
        s = super().__new__(cls, text)
        s._latex, s._markdown = latex, markdown
        return s

    @property
    def latex(self) -> str:
        return self._latex

    def _repr_latex_(self):
        return "$$" + self._latex.strip() + "$$"

    def _repr_markdown_(self):
        return self._markdown


def _spec(layer, input_shape) -> tuple:
    from .network import Network

    if isinstance(layer, Network):
        return layer.toml, layer.name
    if isinstance(layer, str):
        return layer, "network"
    kernel_fn = layer if isinstance(layer, KernelFn) else layer[2]
    if input_shape is None:
        raise ValueError("derive needs input_shape (one example, e.g. (8, 8, 3)) for a stax layer")
    return kernel_fn._net.spec([int(s) for s in input_shape]), "network"


def derive(layer, input_shape: Optional[Sequence[int]] = None, format: str = "text") -> Derivation:
    """The kernel recursion of ``layer`` (a stax layer with ``input_shape``, an
    :class:`eqntk.network.Network`, or network-file text) in ``format`` (``text``,
    ``unicode``, ``latex``, ``markdown``, ``sympy``)."""
    spec, name = _spec(layer, input_shape)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    text = _eqntk.derive(spec, format, name)
    latex = text if format == "latex" else _eqntk.derive(spec, "latex", name)
    md = text if format == "markdown" else _eqntk.derive(spec, "markdown", name)
    return Derivation(text, latex, md)


class VerifyReport:
    """The verdicts of ``eqntk verify``: ``ok`` and the pass/fail ``table`` (Markdown)."""

    def __init__(self, table: str, ok: bool):
        self.table, self.ok = table, ok

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.table

    def __repr__(self):
        return f"VerifyReport(ok={self.ok})"

    def _repr_markdown_(self):
        return self.table


def verify(*paths, check: bool = False) -> VerifyReport:
    """Check the claims of claim files (or folders of them) and (re)write their documents;
    ``check=True`` rewrites nothing and fails when a document is out of date."""
    flat = []
    for p in paths:
        flat.extend(p if isinstance(p, (list, tuple)) else [p])
    table, ok = _eqntk.verify([str(p) for p in flat], bool(check))
    return VerifyReport(table, ok)
