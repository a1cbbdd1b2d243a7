r"""Groups and their character tables, as numpy arrays and dicts that render in notebooks.

``character_table('D4')`` is the table :math:`\chi_\psi(C)` (rows: irreps ψ, columns:
conjugacy classes C) of eqntk's groups ``C<n>``, ``D<n>`` (order 2n), ``SO2[:L]`` (the irreps
:math:`\chi_k`, :math:`|k| \le L`, on :math:`C_{2L+1}`), ``p4:<H>``, ``p4m:<H>`` and the 3-D
rotation groups ``O``, ``Oh``, ``I``, ``SO3``, ``O3``. It satisfies the orthogonality relations
:math:`\frac{1}{|G|}\sum_C |C|\,\chi_\psi(C)\overline{\chi_{\psi'}(C)} = \delta_{\psi\psi'}`.
``decompose(G, rep)`` gives the multiplicities :math:`m_\psi = \frac{1}{|G|}\sum_g
\chi_\rho(g)\overline{\chi_\psi(g)}` of a representation (``regular``, ``signal:N``,
``image:H``, …); ``check(G)`` runs eqntk's self-checks (axioms, homomorphism, orthogonality).
"""

from __future__ import annotations

import json

import numpy as np

from . import _eqntk


def _run(command, group, rep=None, fmt="json"):
    return _eqntk.group(command, str(group), rep, fmt)


def _complex(v):
    if isinstance(v, list):
        return complex(v[0], v[1])
    return complex(v)


class CharacterTable:
    """A character table: ``values`` (irreps × classes, complex, or real when every character
    is real), ``irreps`` (names), ``dims``, ``classes`` (names), ``class_sizes``, ``order``."""

    def __init__(self, data: dict, markdown: str, latex: str):
        self.data = data
        self.group = data["group"]
        self.order = data.get("order")
        self.classes = [c["name"] for c in data["classes"]]
        self.class_sizes = np.array([c["size"] for c in data["classes"]])
        self.irreps = [r["name"] for r in data["irreps"]]
        self.dims = np.array([r["dim"] for r in data["irreps"]])
        values = np.array([[_complex(v) for v in r["characters"]] for r in data["irreps"]])
        self.values = values.real.copy() if np.all(values.imag == 0) else values
        self._markdown = markdown
        self._latex = latex

    def to_dict(self) -> dict:
        """The table as eqntk's JSON (``eqntk group table G --format json``) reads."""
        return self.data

    def __getitem__(self, key):
        """``table['E1', 'r']`` or ``table['E1']`` (a row as a dict of classes)."""
        if isinstance(key, tuple):
            return self.values[self.irreps.index(key[0]), self.classes.index(key[1])]
        return dict(zip(self.classes, self.values[self.irreps.index(key)]))

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)

    def __repr__(self):
        return f"CharacterTable({self.group}: {len(self.irreps)} irreps, {len(self.classes)} classes)"

    def __str__(self):
        return self._markdown

    def _repr_markdown_(self):
        return self._markdown

    def _repr_latex_(self):
        # a bare tabular (notebooks render math, not LaTeX table floats)
        body = self._latex
        start, end = body.find(r"\begin{tabular}"), body.find(r"\end{tabular}")
        if start >= 0 and end >= 0:
            body = body[start:end + len(r"\end{tabular}")]
            body = body.replace(r"\toprule", r"\hline").replace(r"\midrule", r"\hline").replace(
                r"\bottomrule", r"\hline").replace("tabular", "array").replace("$", "")
            for word in ("irrep", "dim", "size"):
                body = body.replace(f"{word} &", rf"\text{{{word}}} &", 1)
        return "$$" + body + "$$"

    def orthogonality_error(self) -> float:
        """max |⟨χ_ψ, χ_ψ'⟩ − δ| over pairs of irreps (row orthogonality)."""
        w = self.class_sizes / self.class_sizes.sum()
        v = np.asarray(self.values, dtype=complex)
        gram = (v * w) @ v.conj().T
        return float(np.max(np.abs(gram - np.eye(len(v)))))


def character_table(group: str) -> CharacterTable:
    """The character table of ``group`` (``'C4'``, ``'D6'``, ``'p4:3'``, ``'O'``, …)."""
    text, _ = _run("table", group)
    md, _ = _run("table", group, fmt="markdown")
    tex, _ = _run("table", group, fmt="latex")
    return CharacterTable(json.loads(text), md, tex)


class Report(dict):
    """A dict (eqntk's JSON) with its Markdown and LaTeX renderings for notebooks."""

    def __init__(self, data, markdown, latex, ok=True):
        super().__init__(data)
        self.ok = ok
        self._markdown, self._latex = markdown, latex

    def _repr_markdown_(self):
        return self._markdown

    def __str__(self):
        return self._markdown


def decompose(group: str, rep: str) -> Report:
    """Multiplicities of the irreps of ``group`` in ``rep`` (``regular``, ``signal:N``,
    ``image:H``; for 3-D groups ``points:P``, ``sphere:L``, ``wigner:l``, ``tensor:a,b``)."""
    text, _ = _run("decompose", group, rep)
    md, _ = _run("decompose", group, rep, "markdown")
    tex, _ = _run("decompose", group, rep, "latex")
    return Report(json.loads(text), md, tex)


def multiplicities(group: str, rep: str) -> dict:
    """``{irrep: multiplicity}`` of ``rep``."""
    return {m["irrep"]: m["multiplicity"] for m in decompose(group, rep)["multiplicities"]}


def check(group: str) -> Report:
    """eqntk's self-checks of ``group``; ``.ok`` is True when every check passed."""
    text, ok = _run("check", group)
    md, _ = _run("check", group, fmt="markdown")
    return Report(json.loads(text), md, None, ok)
