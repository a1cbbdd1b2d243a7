r"""Predictions of infinite ensembles trained by gradient descent on MSE (neural-tangents'
``predict``), and of ensembles trained on augmented data.

With the NTK :math:`\Theta` and NNGP :math:`K` on the training set :math:`X` (N examples, O
outputs), loss :math:`\frac{1}{2NO}\sum (f(x_i) - y_i)^2`, learning rate η and
:math:`e_t = \exp(-\eta\,\Theta(X,X)\,t / (NO))`, the ensemble mean and covariance at test
inputs :math:`x` are

.. math::

    \mu_t(x) = \Theta(x, X)\,\Theta(X,X)^{-1}(I - e_t)\,Y,

    \Sigma_t = K(x,x) + \Theta(x,X)\Theta^{-1}(I-e_t)K(X,X)(I-e_t)\Theta^{-1}\Theta(X,x)
      - \big(\Theta(x,X)\Theta^{-1}(I-e_t)K(X,x) + \text{h.c.}\big),

``diag_reg`` adds :math:`\text{diag\_reg}\cdot\mathrm{tr}\,\Theta(X,X)/N` to the diagonal.
``get='nngp'`` is the same with :math:`\Theta` replaced by :math:`K` (training the readout
layer only). ``augment='C4'`` trains on the full orbit :math:`\{(\rho_X(g)x_i,
\rho_Y(g)y_i)\}_{g\in G}`, solved irrep by irrep (the augmented Gram matrix is
G-circulant), or for SO2/O2 exactly through Fourier modes; the mean is then equivariant at
every t, :math:`\mu_t(\rho_X(g)x) = \rho_Y(g)\mu_t(x)`.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Optional

import numpy as np

from . import _eqntk
from .kernel import get_names
from .stax import KernelFn, as_input

Gaussian = namedtuple("Gaussian", ["mean", "covariance"])
Gaussian.__doc__ = "A mean and a covariance (neural-tangents' ``predict.Gaussian``)."


def _times(t):
    """(flat list of times, shape of t) with ``None`` = ∞."""
    if t is None:
        return [float("inf")], None
    a = np.asarray(t, dtype=np.float64)
    flat = [float(v) for v in a.reshape(-1)]
    if any(np.isnan(v) for v in flat):
        raise ValueError("training times must be numbers (None or inf for the end of training)")
    return flat, a.shape


def _targets(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(f"y_train must have shape [N] or [N, O], got {list(y.shape)}")
    return np.ascontiguousarray(y)


def _shape(means, covs, tshape, vector_y):
    if vector_y:
        means = means[..., 0]
    if tshape is None:
        means = means[0]
        covs = None if covs is None else covs[0]
    else:
        means = means.reshape(tshape + means.shape[1:])
        covs = None if covs is None else covs.reshape(tshape + covs.shape[1:])
    return means, covs


def gradient_descent_mse_ensemble(kernel_fn, x_train, y_train, learning_rate: float = 1.0,
                                  diag_reg: float = 0.0, diag_reg_absolute_scale: bool = False,
                                  trace_axes=(-1,), *, augment: Optional[str] = None,
                                  targets: str = "invariant", explicit: bool = False,
                                  **kernel_fn_train_train_kwargs):
    """neural-tangents' ``gradient_descent_mse_ensemble``: returns
    ``predict_fn(t=None, x_test=None, get=None, compute_cov=False)``.

    ``predict_fn`` gives, at training time ``t`` (``None`` = ∞; an array of times gives
    arrays with ``t``'s shape first) and test inputs ``x_test`` (``None``: the training
    inputs), the ensemble mean ``[M, O]``, or ``Gaussian(mean, covariance)`` with
    ``compute_cov``; ``get=None`` gives both ``nngp`` and ``ntk`` predictions as a namedtuple,
    a name or tuple of names what is asked.

    eqntk extensions: ``augment`` (a group, e.g. ``'C4'``, ``'p4m'``, ``'SO2'``) trains on the
    full orbit of the training set under the group acting on the network's declared input
    domain; ``targets`` says how targets transform (``'invariant'``, ``'input'``,
    ``'vector'``); ``explicit`` writes the |G|N examples out instead of the irrep blocks.
    Augmented predictions are for the NTK (``get='ntk'``) of an eqntk ``kernel_fn``.
    """
    if tuple(trace_axes) not in ((-1,),):
        raise NotImplementedError("eqntk's predictions trace the output axis (trace_axes=(-1,))")
    if kernel_fn_train_train_kwargs:
        raise TypeError("unexpected keyword arguments: " + ", ".join(sorted(kernel_fn_train_train_kwargs)))
    x_train = as_input(x_train, "x_train")
    y = _targets(y_train)
    vector_y = y.ndim == 1
    y2 = y.reshape(len(y), -1)
    eqntk_net = isinstance(kernel_fn, KernelFn)
    if augment is not None and not eqntk_net:
        raise ValueError("augment= needs an eqntk.stax kernel_fn (the group acts through the network)")
    if augment is not None and diag_reg_absolute_scale:
        raise NotImplementedError("augment= takes diag_reg relative to trace(Θ)/N")
    cache = {}

    def train_kernels():
        if "train" not in cache:
            k = kernel_fn(x_train, None, ("nngp", "ntk"))
            cache["train"] = (np.ascontiguousarray(k.nngp, dtype=np.float64),
                              np.ascontiguousarray(k.ntk, dtype=np.float64))
        return cache["train"]

    def predict_fn(t=None, x_test=None, get=None, compute_cov: bool = False, **kwargs):
        if kwargs:
            raise TypeError("unexpected keyword arguments: " + ", ".join(sorted(kwargs)))
        times, tshape = _times(t)
        names = get_names(get)
        xt = x_train if x_test is None else as_input(x_test, "x_test")
        out = {}
        for g in names:
            if augment is not None:
                if g != "ntk":
                    raise ValueError("augmented predictions are those of the NTK (get='ntk')")
                spec = kernel_fn.spec(x_train)
                means, covs = _eqntk.predict(spec, x_train, y2, xt, times, float(learning_rate),
                                             float(diag_reg), bool(compute_cov), augment,
                                             targets, bool(explicit))
            else:
                nngp_dd, ntk_dd = train_kernels()
                kdd = ntk_dd if g == "ntk" else nngp_dd
                n = kdd.shape[0]
                scale = np.trace(kdd) / n
                absolute = diag_reg * (1.0 if diag_reg_absolute_scale else scale)
                r = absolute / scale if scale > 0 else float(diag_reg)
                kreg = kdd + absolute * np.eye(n) if absolute else kdd
                # neural-tangents' NNGP mode: Θ and K both the (regularised) NNGP, so that
                # Σ_t = K(x,x) − K(x,X) K_r⁻¹ (I − e_t²) K(X,x)
                middle = nngp_dd if g == "ntk" else kreg
                if x_test is None:
                    # on the training set: (I − e_t) Y and e_t K e_t (NTK) or K_r e_t² (NNGP)
                    ktd_g = kreg
                    ktd_k = nngp_dd if g == "ntk" else kreg
                    tt = ktd_k if compute_cov else None
                else:
                    k = kernel_fn(xt, x_train, ("nngp", "ntk"))
                    nngp_td = np.ascontiguousarray(k.nngp, dtype=np.float64)
                    ktd_g = np.ascontiguousarray(k.ntk, dtype=np.float64) if g == "ntk" else nngp_td
                    ktd_k = nngp_td
                    tt = None
                    if compute_cov:
                        tt = np.ascontiguousarray(kernel_fn(xt, None, "nngp"), dtype=np.float64)
                args = (kdd, middle, y2, ktd_g, ktd_k)
                means, covs = _eqntk.predict_kernels(*args, times, float(learning_rate), float(r), tt)
            means, covs = _shape(means, covs, tshape, vector_y)
            out[g] = Gaussian(means, covs) if compute_cov else means
        if isinstance(get, str):
            return out[get]
        return namedtuple("Gaussians", names)(*(out[g] for g in names))

    return predict_fn


def gp_inference(*args, **kwargs):
    raise NotImplementedError("eqntk.predict has gradient_descent_mse_ensemble only")
