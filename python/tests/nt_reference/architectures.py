"""Architectures written once against a ``stax`` module: neural-tangents' or eqntk's.

``make_reference.py`` runs them with neural-tangents (float64) and stores the kernels in
``nt_kernels.json``; ``test_nt_reference.py`` runs the very same code with ``eqntk.stax``.
Each entry is ``(layer, input_shape, n)``: ``n`` inputs of ``input_shape`` drawn from a seeded
normal distribution.
"""


def architectures(stax):
    def block(width, stride=1, project=False):
        main = stax.serial(
            stax.Relu(),
            stax.Conv(width, (3, 3), (stride, stride), "SAME", W_std=1.5, b_std=0.05),
            stax.Relu(),
            stax.Conv(width, (3, 3), padding="SAME", W_std=1.5, b_std=0.05),
        )
        shortcut = (
            stax.Conv(width, (1, 1), (stride, stride), "SAME", W_std=1.5, b_std=0.05)
            if project else stax.Identity()
        )
        return stax.serial(stax.FanOut(2), stax.parallel(main, shortcut), stax.FanInSum())

    return {
        "mlp_relu": (stax.serial(
            stax.Dense(512, W_std=1.5, b_std=0.1), stax.Relu(),
            stax.Dense(512, W_std=1.5, b_std=0.1), stax.Relu(),
            stax.Dense(1, W_std=1.5, b_std=0.1)), (7,), 5),
        "mlp_erf_gelu": (stax.serial(
            stax.Dense(256, W_std=1.2, b_std=0.2), stax.Erf(a=1.1, b=0.9, c=0.1),
            stax.Dense(256, W_std=1.3), stax.Gelu(),
            stax.Dense(1, W_std=1.1, b_std=0.3)), (4,), 5),
        "mlp_leaky_abrelu_abs": (stax.serial(
            stax.Dense(64, W_std=1.4, b_std=0.2), stax.LeakyRelu(0.2),
            stax.Dense(64, W_std=1.2), stax.ABRelu(-0.4, 1.1),
            stax.Dense(64, W_std=1.1, b_std=0.1), stax.Abs(),
            stax.Dense(1)), (5,), 4),
        "mlp_sin_cos_exp": (stax.serial(
            stax.Dense(64, W_std=0.9, b_std=0.1), stax.Sin(a=1.0, b=1.3, c=0.2),
            stax.Dense(64, W_std=1.1), stax.Cos(a=0.9, b=1.1, c=0.3),
            stax.Dense(64, W_std=0.8, b_std=0.2), stax.Exp(a=0.7, b=0.4),
            stax.Dense(1)), (3,), 4),
        "mlp_gaussian_poly_sign": (stax.serial(
            stax.Dense(64, W_std=1.0, b_std=0.1), stax.Gaussian(a=1.3, b=-0.6),
            stax.Dense(64, W_std=1.2), stax.Polynomial([0.2, 1.0, -0.3]),
            stax.Dense(64, W_std=0.9, b_std=0.3), stax.Sign(),
            stax.Dense(1, W_std=1.0, b_std=0.1)), (6,), 4),
        "mlp_monomial_sigmoid_like_rbf": (stax.serial(
            stax.Dense(64, W_std=0.8, b_std=0.1), stax.Monomial(2),
            stax.Dense(64, W_std=1.1), stax.Sigmoid_like(),
            stax.Dense(64, W_std=1.3, b_std=0.2), stax.Rbf(gamma=0.4),
            stax.Dense(1)), (3,), 4),
        "mlp_standard": (stax.serial(
            stax.Dense(48, W_std=1.5, b_std=0.1, parameterization="standard"), stax.Relu(),
            stax.Dense(32, W_std=1.3, b_std=0.2, parameterization="standard"), stax.Erf(),
            stax.Dense(1, W_std=1.1, parameterization="standard")), (5,), 4),
        "cnn_same_strided_flatten": (stax.serial(
            stax.Conv(16, (3, 3), padding="SAME", W_std=1.5, b_std=0.1), stax.Relu(),
            stax.Conv(16, (3, 3), (2, 2), "SAME", W_std=1.4, b_std=0.1), stax.Relu(),
            stax.Flatten(), stax.Dense(1, W_std=1.2, b_std=0.1)), (6, 6, 2), 3),
        "cnn_valid_circular_gap": (stax.serial(
            stax.Conv(16, (3, 3), padding="VALID", W_std=1.5, b_std=0.1), stax.Erf(),
            stax.Conv(16, (3, 3), padding="CIRCULAR", W_std=1.3, b_std=0.2), stax.Relu(),
            stax.GlobalAvgPool(), stax.Dense(1, W_std=1.5, b_std=0.1)), (6, 5, 1), 3),
        "cnn_pools": (stax.serial(
            stax.Conv(8, (3, 3), padding="SAME", W_std=1.5, b_std=0.1), stax.Relu(),
            stax.AvgPool((2, 2), (2, 2), "VALID"),
            stax.Conv(8, (3, 3), padding="SAME", W_std=1.2), stax.Relu(),
            stax.SumPool((2, 2), padding="SAME"),
            stax.GlobalSumPool(), stax.Dense(1, W_std=1.1, b_std=0.2)), (6, 6, 1), 3),
        "cnn_layer_norm": (stax.serial(
            stax.Conv(8, (3, 3), padding="CIRCULAR", W_std=1.5, b_std=0.1), stax.LayerNorm(),
            stax.Relu(), stax.Conv(8, (3, 3), padding="CIRCULAR", W_std=1.2, b_std=0.1),
            stax.GlobalAvgPool(), stax.Dense(1, W_std=1.5)), (5, 5, 2), 3),
        "cnn_layer_norm_all_axes_even_filters": (stax.serial(
            stax.Conv(8, (2, 2), padding="SAME", W_std=1.5, b_std=0.1),
            stax.LayerNorm(axis=(1, 2, 3)), stax.Relu(),
            stax.Conv(8, (4, 3), (2, 1), padding="CIRCULAR", W_std=1.2, b_std=0.1),
            stax.LayerNorm(axis=(-3, -2, -1)), stax.Gelu(),
            stax.Conv(8, (2, 1), padding="VALID", W_std=1.3), stax.Relu(),
            stax.Flatten(), stax.Dense(1, W_std=1.5)), (6, 5, 2), 3),
        "conv1d_circular": (stax.serial(
            stax.Conv(8, (3,), padding="CIRCULAR", W_std=1.4, b_std=0.1), stax.Relu(),
            stax.Conv(8, (3,), (2,), "SAME", W_std=1.3, b_std=0.2), stax.Gelu(),
            stax.GlobalAvgPool(), stax.Dense(1, W_std=1.1)), (9, 2), 4),
        "resnet": (stax.serial(
            stax.Conv(32, (3, 3), padding="SAME", W_std=1.5, b_std=0.05),
            block(32), block(32, 2, True), block(32),
            stax.Relu(), stax.GlobalAvgPool(), stax.Dense(1, W_std=1.5, b_std=0.05)), (6, 6, 3), 3),
        "fan_in_prod": (stax.serial(
            stax.Dense(64, W_std=1.3, b_std=0.2),
            stax.FanOut(2),
            stax.parallel(stax.serial(stax.Erf(), stax.Dense(64, W_std=1.1)),
                          stax.Dense(64, W_std=0.7, b_std=0.3)),
            stax.FanInProd(), stax.Dense(64, W_std=1.1), stax.Relu(),
            stax.Dense(1, W_std=1.2)), (4,), 4),
        "three_branches_sum": (stax.serial(
            stax.Dense(64, W_std=1.2, b_std=0.1),
            stax.FanOut(3),
            stax.parallel(stax.Dense(64, W_std=1.0),
                          stax.serial(stax.Relu(), stax.Dense(64, W_std=1.3, b_std=0.1), stax.Relu(),
                                      stax.Dense(64, W_std=0.9)),
                          stax.Identity()),
            stax.FanInSum(), stax.Relu(), stax.Dense(1, W_std=1.1, b_std=0.1)), (5,), 4),
    }
