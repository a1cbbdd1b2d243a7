r"""neural-tangents' ``stax``, computed by eqntk.

Every layer returns ``(init_fn, apply_fn, kernel_fn)`` with neural-tangents' names, signatures
and defaults, so that code written for neural-tangents' kernels runs unchanged after
``from eqntk import stax``::

    from eqntk import stax
    init_fn, apply_fn, kernel_fn = stax.serial(
        stax.Dense(512, W_std=1.5, b_std=0.05), stax.Relu(),
        stax.Dense(1, W_std=1.5, b_std=0.05))
    k = kernel_fn(x1, x2)          # k.nngp, k.ntk: N1 × N2 numpy arrays (float64)
    ntk = kernel_fn(x1, None, 'ntk')

A layer list is an eqntk network description (`eqntk.network.to_toml` writes it as the
network file the ``eqntk`` command line reads); ``kernel_fn`` builds it for the example shape
of ``x1`` and computes, layer by layer (NTK parameterisation):

* dense / conv: :math:`K' = \sigma_w^2\,\mathcal{A}[K] + \sigma_b^2`,
  :math:`\Theta' = \sigma_w^2\,\mathcal{A}[\Theta] + K'` (:math:`\mathcal{A}` averages over the
  filter taps; the identity for dense layers),
* nonlinearities: :math:`K' = \mathcal{T}_\phi(K)`, :math:`\Theta' = \dot{\mathcal{T}}_\phi(K)
  \odot \Theta` with :math:`\mathcal{T}_\phi(K)_{xx'} = \mathbb{E}[\phi(u)\phi(v)]`,
  :math:`(u, v) \sim \mathcal{N}(0, K|_{\{x, x'\}})`,
* ``FanOut`` / ``parallel`` / ``FanInSum``: :math:`K = \sum_b K_b`, :math:`\Theta = \sum_b
  \Theta_b`; ``FanInProd``: :math:`K = \prod_b K_b`, :math:`\Theta = \sum_b \Theta_b
  \prod_{c \ne b} K_c`,
* pooling and flattening: means (sums) over site pairs (``GlobalAvgPool``), over the site
  diagonal (``Flatten``), or over windows (``AvgPool``, ``SumPool``),

starting from :math:`K^{(0)}_{ss'}(x, x') = \frac{1}{C}\sum_c x_{sc} x'_{s'c}`,
:math:`\Theta^{(0)} = 0`. eqntk's own layers ``Lift``, ``GroupConv`` and ``GroupPool`` build
group-equivariant networks (C_n, D_n, C4, D4, p4, p4m, SO2); ``InputDomain`` declares what an
example is (``vector``, ``signal``, ``image``, ``torus``, ``points``), which group actions follow.

``init_fn(key, input_shape)`` and ``apply_fn(params, x)`` run eqntk's finite networks (one
hidden width, parameters drawn from a seed derived from ``key``): they are for Monte-Carlo
checks of the kernels, not for training.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np

from . import _eqntk
from ._spec import DomainOp, FanInOp, FanOutOp, ParallelOp, compile_ops, to_toml
from .kernel import Kernel, select, self_variances

__all__ = [
    "serial", "parallel", "repeat", "FanOut", "FanInSum", "FanInProd", "Identity",
    "Dense", "Conv", "Flatten", "GlobalAvgPool", "GlobalSumPool", "AvgPool", "SumPool",
    "LayerNorm", "Relu", "LeakyRelu", "ABRelu", "Abs", "Erf", "Gelu", "Sign", "Sin", "Cos",
    "Rbf", "Exp", "Gaussian", "Monomial", "RectifiedMonomial", "Polynomial", "Hermite",
    "Sigmoid_like", "Elementwise", "ElementwiseNumerical", "Tanh", "Sigmoid", "Softplus",
    "Lift", "GroupConv", "GroupPool", "InputDomain", "from_ops", "as_input",
]


# ---- inputs --------------------------------------------------------------------------------


def as_input(x, name: str = "x1") -> np.ndarray:
    """``x`` as a C-contiguous float64 array ``[N, *example_shape]``.

    A C-contiguous float64 numpy array is returned as it is (no copy); anything else
    (float32, integers, JAX arrays, Fortran order) is converted once.
    """
    if (isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.c_contiguous
            and x.flags.aligned):
        a = x
    else:
        a = np.asarray(x)
        if np.iscomplexobj(a):
            raise ValueError(f"{name} must be real, got dtype {a.dtype}")
        if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ValueError(f"{name} must be a numeric array, got dtype {a.dtype}")
        a = np.require(a, np.float64, ["C", "A"])
    if a.ndim < 2:
        raise ValueError(
            f"{name} must have shape [N, *example_shape] (a batch axis first), got shape "
            f"{list(a.shape)}"
        )
    return a


# ---- the layer value -----------------------------------------------------------------------


class _Net:
    """A layer (or a layer list): its ops, and the eqntk network file for an example shape."""

    __slots__ = ("ops",)

    def __init__(self, ops):
        self.ops = tuple(ops)

    def layers(self):
        return compile_ops(self.ops)

    def spec(self, shape: Sequence[int], name: Optional[str] = None) -> str:
        layers, domain = self.layers()
        return to_toml(layers, shape, domain, name)


class KernelFn:
    """``kernel_fn(x1, x2=None, get=None)``: the NNGP and NTK of the network on ``x1 × x2``.

    Returns a :class:`eqntk.kernel.Kernel` (``.nngp``, ``.ntk``) for ``get=None``, one array
    for ``get='nngp'`` or ``'ntk'``, and a namedtuple in the order asked for a tuple of names.
    ``x2=None`` means ``x2 = x1`` (the upper triangle is computed once). ``orbit='C4'`` (an
    eqntk extension) averages over the orbit of ``x2``:
    :math:`\\bar k(x, x') = \\frac{1}{|G|}\\sum_{g} k(x, \\rho(g) x')`.
    """

    def __init__(self, net: _Net):
        self._net = net

    @property
    def ops(self):
        return self._net.ops

    def spec(self, x1) -> str:
        """The eqntk network file of this network for the example shape of ``x1``."""
        return self._net.spec(as_input(x1).shape[1:])

    def __call__(self, x1, x2=None, get=None, *, orbit: Optional[str] = None,
                 orbit_tol: Optional[float] = None, **kwargs):
        _no_kwargs("kernel_fn", kwargs)
        a1 = as_input(x1, "x1")
        a2 = None if x2 is None else as_input(x2, "x2")
        spec = self._net.spec(a1.shape[1:])
        nngp, ntk = _eqntk.kernel(spec, a1, a2, orbit, orbit_tol)
        cov = self_variances(lambda b: _eqntk.kernel(spec, b, None, None, None), a1, a2, nngp)
        return select(Kernel(nngp, ntk, cov), get)

    def __repr__(self):
        return f"<eqntk kernel_fn of {len(self.ops)} ops>"


# keyword arguments neural-tangents' kernel_fn accepts that do not change eqntk's kernels
_IGNORED = {"diagonal_batch", "diagonal_spatial"}


def _no_kwargs(fn: str, kwargs: dict) -> None:
    unknown = sorted(set(kwargs) - _IGNORED)
    if unknown:
        raise TypeError(f"{fn}() got unexpected keyword arguments: {', '.join(unknown)}")


class FiniteParams:
    """Parameters of an eqntk finite network: the seed they are drawn from and the widths."""

    __slots__ = ("seed", "width", "out_dim", "input_shape")

    def __init__(self, seed: int, width: int, out_dim: int, input_shape):
        self.seed, self.width, self.out_dim, self.input_shape = seed, width, out_dim, tuple(input_shape)

    def __repr__(self):
        return (f"FiniteParams(seed={self.seed}, width={self.width}, out_dim={self.out_dim}, "
                f"input_shape={self.input_shape})")


def _seed(key) -> int:
    if isinstance(key, (int, np.integer)):
        return int(key) % (1 << 64)
    data = np.asarray(key)
    return int.from_bytes(hashlib.sha256(data.tobytes()).digest()[:8], "little")


def _widths(layers) -> Tuple[int, int]:
    """(hidden width, output width) of the affine layers of an eqntk layer list."""
    widths = []

    def walk(ls):
        for layer in ls:
            if layer["kind"] in ("dense", "conv", "lift", "group_conv"):
                widths.append(int(layer.get("width", 1)))
            for b in layer.get("branches", ()):
                walk(b)

    walk(layers)
    if not widths:
        raise ValueError("a finite network needs a Dense or Conv layer")
    hidden = widths[:-1] or widths
    if len(set(hidden)) > 1:
        raise ValueError(
            f"eqntk's finite networks have one hidden width; this network has {sorted(set(hidden))}"
        )
    return hidden[0], widths[-1]


class InitFn:
    """``init_fn(key, input_shape) -> (output_shape, params)`` of an eqntk finite network."""

    def __init__(self, net: _Net):
        self._net = net

    def __call__(self, key, input_shape, **kwargs):
        _no_kwargs("init_fn", kwargs)
        shape = tuple(int(s) for s in input_shape[1:])
        width, out_dim = _widths(self._net.layers()[0])
        # validates the network and the widths
        _eqntk.finite_n_params(self._net.spec(shape), width, out_dim)
        return (input_shape[0], out_dim), FiniteParams(_seed(key), width, out_dim, shape)


class ApplyFn:
    """``apply_fn(params, x) -> outputs [N, out_dim]`` of the finite network ``params`` names."""

    def __init__(self, net: _Net):
        self._net = net

    def __call__(self, params: FiniteParams, inputs, **kwargs):
        _no_kwargs("apply_fn", kwargs)
        x = as_input(inputs, "inputs")
        return _eqntk.finite_apply(self._net.spec(x.shape[1:]), x, params.width, params.seed,
                                   params.out_dim)


def from_ops(ops) -> tuple:
    """The ``(init_fn, apply_fn, kernel_fn)`` triple of an op list."""
    net = _Net(ops)
    return InitFn(net), ApplyFn(net), KernelFn(net)


def _ops(layer) -> tuple:
    try:
        kernel_fn = layer[2]
    except (TypeError, IndexError):
        raise TypeError(f"not a stax layer (init_fn, apply_fn, kernel_fn): {layer!r}") from None
    if not isinstance(kernel_fn, KernelFn):
        raise TypeError(
            "eqntk.stax combines eqntk.stax layers only (got a kernel_fn from elsewhere; "
            "use `from eqntk import stax` throughout)"
        )
    return kernel_fn.ops


def _layer(kind: str, **keys) -> tuple:
    table = {"kind": kind}
    table.update({k: v for k, v in keys.items() if v is not None})
    return from_ops([table])


# ---- combinators ---------------------------------------------------------------------------


def serial(*layers):
    """Layers one after the other: :math:`f = f_L \\circ \\dots \\circ f_1`."""
    ops = []
    for layer in layers:
        ops.extend(_ops(layer))
    return from_ops(ops)


def repeat(layer, n: int):
    """``layer`` applied ``n`` times: :math:`f = f^{\\circ n}` (neural-tangents' ``repeat``; its
    output shape must equal its input shape)."""
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"repeat needs a non-negative number of repetitions, got {n!r}")
    return serial(*([layer] * int(n)))


def parallel(*layers):
    """One layer per input of a list (after ``FanOut(n)``): branch ``b`` gets input ``b``."""
    return from_ops([ParallelOp(tuple(tuple(_ops(layer)) for layer in layers))])


def FanOut(num: int):
    """``num`` copies of the input, one per branch of the next ``parallel``."""
    if int(num) != num or num < 1:
        raise ValueError(f"FanOut needs a positive number of branches, got {num!r}")
    return from_ops([FanOutOp(int(num))])


def FanInSum():
    """Sum of the branches: :math:`K = \\sum_b K_b`, :math:`\\Theta = \\sum_b \\Theta_b`."""
    return from_ops([FanInOp("sum")])


def FanInProd():
    """Product of the branches: :math:`K = \\prod_b K_b`,
    :math:`\\Theta = \\sum_b \\Theta_b \\prod_{c\\ne b} K_c`."""
    return from_ops([FanInOp("prod")])


def FanInConcat(axis: int = -1):
    raise NotImplementedError("eqntk has no concatenation of branches (FanInConcat); use FanInSum")


def Identity():
    """The identity layer (an empty branch)."""
    return from_ops([])


# ---- affine layers -------------------------------------------------------------------------


def _std(x, name):
    if x is None:
        return None
    return float(x)


def _param(parameterization: str) -> str:
    p = str(parameterization).lower()
    if p not in ("ntk", "standard"):
        raise ValueError(f"parameterization must be 'ntk' or 'standard', got {parameterization!r}")
    return p


def _s(s):
    if tuple(s) != (1, 1):
        raise NotImplementedError(f"eqntk's standard parameterisation has s = (1, 1), got {s!r}")


def _axes(batch_axis=0, channel_axis=-1):
    if batch_axis != 0 or channel_axis not in (-1,):
        raise NotImplementedError(
            "eqntk's inputs are batch first and channels last (batch_axis=0, channel_axis=-1)"
        )


def Dense(out_dim: int, W_std: float = 1.0, b_std: Optional[float] = None, batch_axis: int = 0,
          channel_axis: int = -1, parameterization: str = "ntk", s: Tuple[int, int] = (1, 1)):
    """Fully connected layer :math:`\\frac{\\sigma_w}{\\sqrt{n}} W h + \\sigma_b b` (NTK
    parameterisation): :math:`K' = \\sigma_w^2 K + \\sigma_b^2`, :math:`\\Theta' = \\sigma_w^2
    \\Theta + K'`. ``b_std=None``: no bias."""
    _axes(batch_axis, channel_axis)
    _s(s)
    return _layer("dense", w_std=_std(W_std, "W_std"), b_std=_std(b_std, "b_std"),
                  width=int(out_dim), parameterization=_param(parameterization))


def _padding(padding: str) -> str:
    p = str(padding).upper()
    if p not in ("VALID", "SAME", "CIRCULAR"):
        raise ValueError(f"padding must be 'VALID', 'SAME' or 'CIRCULAR', got {padding!r}")
    return p.lower()


def _stride(strides, n):
    if strides is None:
        return None
    st = [int(v) for v in strides]
    if len(st) != n:
        raise ValueError(f"strides {tuple(strides)} must have one entry per filter axis ({n})")
    return None if all(v == 1 for v in st) else st


def Conv(out_chan: int, filter_shape: Sequence[int], strides: Optional[Sequence[int]] = None,
         padding: str = "VALID", W_std: float = 1.0, b_std: Optional[float] = None,
         dimension_numbers: Optional[Tuple[str, str, str]] = None,
         parameterization: str = "ntk", s: Tuple[int, int] = (1, 1)):
    """Convolution over the grid (channels last): :math:`K'_{pp'} = \\frac{\\sigma_w^2}{|F|}
    \\sum_{\\delta\\in F} K_{p+\\delta, p'+\\delta} + \\sigma_b^2`, likewise for Θ plus K'."""
    if dimension_numbers is not None and tuple(dimension_numbers) not in (
        ("NHWC", "HWIO", "NHWC"), ("NWC", "WIO", "NWC")
    ):
        raise NotImplementedError("eqntk's convolutions are channels last (NHWC / HWIO)")
    _s(s)
    filt = [int(v) for v in filter_shape]
    return _layer("conv", filter=filt, padding=_padding(padding), stride=_stride(strides, len(filt)),
                  w_std=_std(W_std, "W_std"), b_std=_std(b_std, "b_std"), width=int(out_chan),
                  parameterization=_param(parameterization))


# ---- pooling and normalisation -------------------------------------------------------------


def Flatten(batch_axis: int = 0, batch_axis_out: int = 0):
    """Flatten the grid: the next dense layer sees :math:`\\frac{1}{|S|}\\sum_s K_{ss}`."""
    if batch_axis != 0 or batch_axis_out != 0:
        raise NotImplementedError("eqntk's inputs are batch first (batch_axis=0)")
    return _layer("flatten")


def GlobalAvgPool(batch_axis: int = 0, channel_axis: int = -1):
    """Mean over the grid: :math:`K' = \\frac{1}{|S|^2}\\sum_{s,s'} K_{ss'}`."""
    _axes(batch_axis, channel_axis)
    return _layer("global_avg_pool")


def GlobalSumPool(batch_axis: int = 0, channel_axis: int = -1):
    """Sum over the grid: :math:`K' = \\sum_{s,s'} K_{ss'}`."""
    _axes(batch_axis, channel_axis)
    return _layer("global_sum_pool")


def _pool(kind, window_shape, strides, padding):
    w = [int(v) for v in window_shape]
    st = None if strides is None else [int(v) for v in strides]
    if st is not None and len(st) != len(w):
        raise ValueError(f"strides {tuple(strides)} must have one entry per window axis ({len(w)})")
    return _layer(kind, window=w, stride=st, padding=_padding(padding))


def AvgPool(window_shape: Sequence[int], strides: Optional[Sequence[int]] = None,
            padding: str = "VALID", normalize_edges: bool = False, batch_axis: int = 0,
            channel_axis: int = -1):
    """Mean over windows (``normalize_edges=False``: padded taps count as zeros)."""
    _axes(batch_axis, channel_axis)
    if normalize_edges:
        raise NotImplementedError("eqntk's AvgPool has normalize_edges=False")
    return _pool("avg_pool", window_shape, strides, padding)


def SumPool(window_shape: Sequence[int], strides: Optional[Sequence[int]] = None,
            padding: str = "VALID", batch_axis: int = 0, channel_axis: int = -1):
    """Sum over windows."""
    _axes(batch_axis, channel_axis)
    return _pool("sum_pool", window_shape, strides, padding)


def LayerNorm(axis: Union[int, Sequence[int]] = -1, eps: float = 1e-12, batch_axis: int = 0,
              channel_axis: int = -1):
    """Normalise over the channels at each site (``axis=-1``): :math:`K'_{ss'} = K_{ss'} /
    \\sqrt{(\\varepsilon + K_{ss})(\\varepsilon + K_{s's'})}`, or over every non-batch axis
    (e.g. ``axis=(1, 2, 3)`` on images): the same with the site means
    :math:`\\frac{1}{|S|}\\sum_q K_{qq}` in the denominator; ε = 1e-12."""
    _axes(batch_axis, channel_axis)
    ax = [int(a) for a in axis] if isinstance(axis, (tuple, list)) else [int(axis)]
    if eps != 1e-12:
        raise NotImplementedError(f"eqntk's LayerNorm has eps = 1e-12, got {eps!r}")
    return _layer("layer_norm", axis=None if ax == [-1] else ax)


# ---- nonlinearities ------------------------------------------------------------------------


def _stabilize(do_stabilize):
    # neural-tangents' rescaling for numerical stability does not change the kernel
    del do_stabilize


def Relu(do_stabilize: bool = False):
    """:math:`\\phi(x) = \\max(x, 0)` (arc-cosine kernel of degree 1)."""
    _stabilize(do_stabilize)
    return _layer("relu")


def LeakyRelu(alpha: float, do_stabilize: bool = False):
    """:math:`\\phi(x) = x` for x ≥ 0, :math:`\\alpha x` otherwise."""
    _stabilize(do_stabilize)
    return _layer("leaky_relu", alpha=float(alpha))


def ABRelu(a: float, b: float, do_stabilize: bool = False):
    """:math:`\\phi(x) = a\\min(x, 0) + b\\max(x, 0)`."""
    _stabilize(do_stabilize)
    return _layer("abrelu", a=float(a), b=float(b))


def Abs(do_stabilize: bool = False):
    """:math:`\\phi(x) = |x|`."""
    _stabilize(do_stabilize)
    return _layer("abs")


def Erf(a: float = 1.0, b: float = 1.0, c: float = 0.0):
    """:math:`\\phi(x) = a\\,\\mathrm{erf}(b x) + c`."""
    return _layer("erf", a=float(a), b=float(b), c=float(c))


def Gelu(approximate: bool = False):
    """:math:`\\phi(x) = x\\,\\Phi(x)`. As in neural-tangents, ``approximate`` (the tanh form)
    does not change the kernel, which is the exact GELU's; eqntk's finite networks
    (``apply_fn``) use the exact GELU either way."""
    return _layer("gelu")


def Sign():
    """:math:`\\phi(x) = \\mathrm{sign}(x)`."""
    return _layer("sign")


def Sin(a: float = 1.0, b: float = 1.0, c: float = 0.0):
    """:math:`\\phi(x) = a\\sin(b x + c)`."""
    return _layer("sin", a=float(a), b=float(b), c=float(c))


def Cos(a: float = 1.0, b: float = 1.0, c: float = 0.0):
    """:math:`\\phi(x) = a\\cos(b x + c)`."""
    return _layer("cos", a=float(a), b=float(b), c=float(c))


def Rbf(gamma: float = 1.0):
    """:math:`\\phi(x) = \\sqrt{2}\\sin(\\sqrt{2\\gamma} x + \\pi/4)` (the RBF kernel
    :math:`e^{-\\gamma\\|x - x'\\|^2}` after one layer)."""
    return _layer("rbf", gamma=float(gamma))


def Exp(a: float = 1, b: float = 1):
    """:math:`\\phi(x) = a e^{b x}`."""
    return _layer("exp", a=float(a), b=float(b))


def Gaussian(a: float = 1, b: float = -1):
    """:math:`\\phi(x) = a e^{b x^2}`."""
    return _layer("gaussian", a=float(a), b=float(b))


def _degree(degree):
    if int(degree) != degree:
        raise ValueError(f"degree must be an integer, got {degree!r}")
    return int(degree)


def Monomial(degree: int):
    """:math:`\\phi(x) = x^n`."""
    return _layer("monomial", degree=_degree(degree))


def RectifiedMonomial(degree: int):
    """:math:`\\phi(x) = \\max(x, 0)^n` (arc-cosine kernel of degree n)."""
    return _layer("rectified_monomial", degree=_degree(degree))


def Polynomial(coef: Sequence[float]):
    """:math:`\\phi(x) = \\sum_i c_i x^i`."""
    return _layer("polynomial", coef=[float(c) for c in coef])


def Hermite(degree: int):
    """:math:`\\phi(x) = \\mathrm{He}_n(x)/\\sqrt{n!}` (exact at every pre-activation variance;
    neural-tangents' kernel assumes unit variance)."""
    return _layer("hermite", degree=_degree(degree))


def Sigmoid_like():
    """neural-tangents' ``Sigmoid_like``: a sigmoid-shaped erf, :math:`\\phi(x) =
    \\tfrac12 (1 + \\mathrm{erf}(x / 2.4020563531719796))`."""
    return _layer("sigmoid_like")


def Tanh():
    """:math:`\\phi(x) = \\tanh x` (eqntk; dual by Gauss–Hermite quadrature)."""
    return _layer("tanh")


def Sigmoid():
    """:math:`\\phi(x) = 1/(1 + e^{-x})` (eqntk; quadrature)."""
    return _layer("sigmoid")


def Softplus():
    """:math:`\\phi(x) = \\log(1 + e^{x})` (eqntk; quadrature)."""
    return _layer("softplus")


class _Traced:
    """φ(x) written out by calling a Python φ on a symbol: arithmetic and numpy's (or scipy's)
    ufuncs on it build the expression text that eqntk parses."""

    __array_priority__ = 1000
    _UFUNCS = {
        "exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan", "sqrt": "sqrt",
        "arcsin": "arcsin", "arccos": "arccos", "arctan": "arctan", "absolute": "abs",
        "fabs": "abs", "erf": "erf",
    }

    def __init__(self, text: str):
        self.text = text

    @staticmethod
    def _of(v) -> str:
        if isinstance(v, _Traced):
            return f"({v.text})"
        if isinstance(v, (bool, np.bool_)) or not np.isscalar(v) or not np.isreal(v):
            raise TypeError(f"not a real number: {v!r}")
        return f"({float(v)!r})"

    def _bin(self, op, other, reverse=False):
        a, b = (self._of(other), self._of(self)) if reverse else (self._of(self), self._of(other))
        return _Traced(f"{a} {op} {b}")

    def __add__(self, o): return self._bin("+", o)
    def __radd__(self, o): return self._bin("+", o, True)
    def __sub__(self, o): return self._bin("-", o)
    def __rsub__(self, o): return self._bin("-", o, True)
    def __mul__(self, o): return self._bin("*", o)
    def __rmul__(self, o): return self._bin("*", o, True)
    def __truediv__(self, o): return self._bin("/", o)
    def __rtruediv__(self, o): return self._bin("/", o, True)
    def __pow__(self, o): return self._bin("^", o)
    def __rpow__(self, o): return self._bin("^", o, True)
    def __neg__(self): return _Traced(f"-{self._of(self)}")
    def __pos__(self): return self
    def __abs__(self): return _Traced(f"abs{self._of(self)}")

    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        name = ufunc.__name__
        if method != "__call__" or kwargs:
            return NotImplemented
        if name in self._UFUNCS and len(args) == 1:
            return _Traced(f"{self._UFUNCS[name]}{self._of(args[0])}")
        if name == "tanh":  # tanh u = 1 − 2/(e^{2u} + 1)
            return _Traced(f"1 - 2/(exp(2*{self._of(args[0])}) + 1)")
        if name == "square":
            return _Traced(f"{self._of(args[0])}^2")
        if name == "negative":
            return -args[0]
        two = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/",
               "true_divide": "/", "power": "^"}
        if name in two and len(args) == 2:
            return _Traced(f"{self._of(args[0])} {two[name]} {self._of(args[1])}")
        if name in ("maximum", "minimum") and len(args) == 2:
            return _Traced(f"{name[:3]}({self._of(args[0])}, {self._of(args[1])})")
        return NotImplemented


def _phi_text(fn) -> str:
    """φ as eqntk's expression text: a string as it is, a Python function traced on a symbol."""
    if isinstance(fn, str):
        return fn
    if not callable(fn):
        raise TypeError(f"Elementwise needs φ as a function or an expression string, got {fn!r}")
    try:
        out = fn(_Traced("x"))
    except Exception as e:  # noqa: BLE001 - any failure means φ cannot be written out
        out = e
    if isinstance(out, _Traced):
        return out.text
    raise NotImplementedError(
        f"eqntk could not write φ = {getattr(fn, '__name__', fn)!r} as an expression: it evaluates "
        "φ in Rust, from Python's arithmetic and numpy's ufuncs (np.exp, np.sin, np.tanh, "
        "scipy.special.erf, ...) applied to x, or from a string such as \"x*exp(-x^2/2)\"; "
        "JAX functions and math.* are not traced"
    )


def Elementwise(fn: Union[str, Callable, None] = None, nngp_fn=None, d_nngp_fn=None):
    """Any φ: an expression string in ``x`` (e.g. ``"x*exp(-x^2/2)"``) or a Python function of
    numpy arithmetic (e.g. ``lambda x: x * np.exp(-x**2 / 2)``, ``np.tanh``), which eqntk writes
    out as an expression by calling it on a symbol. Its dual is computed by quadrature, φ′ by
    differentiating the expression; ``nngp_fn`` and ``d_nngp_fn`` are not needed (and not
    used)."""
    if fn is None:
        raise NotImplementedError(
            "eqntk's Elementwise needs φ itself (fn); closed-form nngp_fn are not taken"
        )
    return _layer("elementwise", phi=_phi_text(fn))


def ElementwiseNumerical(fn: Union[str, Callable], deg: int = 25, df=None):
    """As :func:`Elementwise` (eqntk chooses its own quadrature; ``deg`` and ``df`` are not
    used)."""
    return Elementwise(fn)


# ---- group-equivariant layers (eqntk) ------------------------------------------------------


def _filter(filter_shape):
    if filter_shape is None:
        return None
    if isinstance(filter_shape, str):
        return filter_shape
    return [int(v) for v in filter_shape]


def InputDomain(domain: str):
    """Declare what one example is: ``vector``, ``signal`` (periodic 1-D), ``image``,
    ``torus`` or ``points`` (planar or 3-D point sets). Group actions (``Lift``, orbits,
    augmentation) follow the declared domain, never the shape. Must come first."""
    return from_ops([DomainOp(str(domain))])


def Lift(out_chan: int, group: str, filter_shape: Union[Sequence[int], str] = "full",
         padding: Optional[str] = None, W_std: float = 1.0, b_std: Optional[float] = None,
         parameterization: str = "ntk"):
    """Lifting convolution to functions on a group: ``group`` = ``C<n>``/``D<n>`` (periodic
    signals), ``C4``/``D4`` (square images), ``p4``/``p4m`` (images on a torus), ``SO2``.
    :math:`K'_{(g,p),(g',p')} = \\frac{\\sigma_w^2}{|F|}\\sum_{\\delta\\in F}
    K_{p + g\\delta,\\, p' + g'\\delta} + \\sigma_b^2`."""
    return _layer("lift", group=str(group), filter=_filter(filter_shape),
                  padding=None if padding is None else _padding(padding),
                  w_std=_std(W_std, "W_std"), b_std=_std(b_std, "b_std"), width=int(out_chan),
                  parameterization=_param(parameterization))


def GroupConv(out_chan: int, filter_shape: Optional[Sequence[int]] = None,
              support: Optional[Sequence[int]] = None, padding: Optional[str] = None,
              W_std: float = 1.0, b_std: Optional[float] = None, parameterization: str = "ntk"):
    """Group convolution over the point group (``support``: the elements summed over, default
    all) and, on p4/p4m, over a spatial window ``filter_shape``."""
    return _layer("group_conv", filter=_filter(filter_shape),
                  support=None if support is None else [int(v) for v in support],
                  padding=None if padding is None else _padding(padding),
                  w_std=_std(W_std, "W_std"), b_std=_std(b_std, "b_std"), width=int(out_chan),
                  parameterization=_param(parameterization))


def GroupPool():
    """Mean over group elements and positions: an invariant feature."""
    return _layer("group_pool")
