"""Layer lists -> eqntk network files (the TOML the `eqntk` command line reads).

A stax layer carries a list of *ops*: plain eqntk layer tables (dicts with a ``kind``),
``FanOut(n)``, ``parallel`` (one op list per branch), ``FanIn`` (``sum`` or ``prod``) and an
input-domain declaration. `compile_ops` turns such a list into eqntk layers, where every
``FanOut(n) … parallel(…) … FanIn`` region becomes one ``kind = "parallel"`` layer whose
branches are the per-branch op lists (an empty branch is the identity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Union


@dataclass(frozen=True)
class FanOutOp:
    num: int


@dataclass(frozen=True)
class ParallelOp:
    branches: tuple  # tuple of op lists (tuples)


@dataclass(frozen=True)
class FanInOp:
    combine: str  # "sum" | "prod"


@dataclass(frozen=True)
class DomainOp:
    domain: str


Op = Union[dict, FanOutOp, ParallelOp, FanInOp, DomainOp]


def compile_ops(ops: Sequence[Op], top: bool = True) -> tuple:
    """(eqntk layer tables, declared domain or None) of a serial op list."""
    layers: List[dict] = []
    domain: Optional[str] = None
    i = 0
    ops = list(ops)
    while i < len(ops):
        op = ops[i]
        if isinstance(op, dict):
            layers.append(op)
            i += 1
        elif isinstance(op, DomainOp):
            if not top:
                raise ValueError("InputDomain declares the network's input: it cannot sit in a branch")
            if layers or domain is not None:
                raise ValueError("InputDomain must come first, before any layer")
            domain = op.domain
            i += 1
        elif isinstance(op, FanOutOp):
            n = op.num
            branches: List[list] = [[] for _ in range(n)]
            i += 1
            closed = None
            while i < len(ops):
                inner = ops[i]
                if isinstance(inner, FanInOp):
                    closed = inner.combine
                    i += 1
                    break
                if isinstance(inner, ParallelOp):
                    if len(inner.branches) != n:
                        raise ValueError(
                            f"parallel of {len(inner.branches)} layers after FanOut({n}): "
                            f"the numbers of branches must agree"
                        )
                    for b, extra in zip(branches, inner.branches):
                        b.extend(extra)
                    i += 1
                    continue
                raise ValueError(
                    f"after FanOut({n}) the branches take layers through parallel(...) until "
                    f"FanInSum() or FanInProd(); got {_describe(inner)}"
                )
            if closed is None:
                raise ValueError(
                    f"FanOut({n}) is never closed by FanInSum() or FanInProd() (eqntk networks "
                    f"end with one output)"
                )
            compiled = [compile_ops(b, top=False)[0] for b in branches]
            if n == 1 and closed == "sum":
                layers.extend(compiled[0])
            else:
                layers.append({"kind": "parallel", "branches": compiled, "combine": closed})
        elif isinstance(op, ParallelOp):
            raise ValueError("parallel(...) needs several inputs: put FanOut(n) before it")
        elif isinstance(op, FanInOp):
            raise ValueError(f"FanIn{op.combine.capitalize()}() without a FanOut(n) before it")
        else:  # pragma: no cover - ops are built by eqntk.stax only
            raise TypeError(f"not an eqntk layer: {op!r}")
    return layers, domain


def _describe(op: Op) -> str:
    if isinstance(op, dict):
        return f"the layer {op.get('kind')!r}"
    return type(op).__name__.replace("Op", "")


# ---- TOML ----------------------------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        r = repr(v)
        return r if any(c in r for c in ".en") else r + ".0"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} to a network file")


def to_toml(
    layers: Sequence[dict], shape: Sequence[int], domain: Optional[str] = None, name: Optional[str] = None
) -> str:
    """An eqntk network file: ``[input]`` (shape, domain) and one ``[[layers]]`` table a layer."""
    out = []
    if name is not None:
        out.append(f"name = {_value(name)}\n")
    out.append("[input]\n")
    out.append(f"shape = {_value([int(s) for s in shape])}\n")
    if domain is not None:
        out.append(f"domain = {_value(domain)}\n")
    for layer in layers:
        out.append("\n[[layers]]\n")
        for k, v in layer.items():
            out.append(f"{k} = {_value(v)}\n")
    return "".join(out)
