"""The infinite (wide, circularly padded) ResNet as a neural-tangents user writes it, computed by eqntk.

    pip install .            # at the repository root
    python examples/python_resnet.py

Kernels, the ensemble's predictions over training time, the same trained on the C4 orbit of
the training set (invariant at every t), and a p4 G-CNN.
"""

import numpy as np

from eqntk import predict, stax


def WideResnetBlock(channels, strides=(1, 1), channel_mismatch=False):
    main = stax.serial(stax.Relu(), stax.Conv(channels, (3, 3), strides, padding="CIRCULAR"),
                       stax.Relu(), stax.Conv(channels, (3, 3), padding="CIRCULAR"))
    shortcut = stax.Identity() if not channel_mismatch else stax.Conv(
        channels, (3, 3), strides, padding="CIRCULAR")
    return stax.serial(stax.FanOut(2), stax.parallel(main, shortcut), stax.FanInSum())


def WideResnetGroup(n, channels, strides=(1, 1)):
    blocks = [WideResnetBlock(channels, strides, channel_mismatch=True)]
    blocks += [WideResnetBlock(channels, (1, 1)) for _ in range(n - 1)]
    return stax.serial(*blocks)


def WideResnet(block_size, k, num_classes):
    return stax.serial(
        stax.Conv(16, (3, 3), padding="CIRCULAR"),
        WideResnetGroup(block_size, int(16 * k)),
        WideResnetGroup(block_size, int(32 * k)),
        stax.GlobalAvgPool(), stax.Dense(num_classes, 1.0, 0.0))


rng = np.random.default_rng(0)
x_train = rng.normal(size=(12, 8, 8, 1))
y_train = np.eye(2)[rng.integers(0, 2, 12)] - 0.5
x_test = rng.normal(size=(4, 8, 8, 1))

init_fn, apply_fn, kernel_fn = WideResnet(block_size=1, k=1, num_classes=2)
k = kernel_fn(x_test, x_train, ("nngp", "ntk"))
print("NTK(test, train)[0, :4] =", np.round(k.ntk[0, :4], 6))

predict_fn = predict.gradient_descent_mse_ensemble(kernel_fn, x_train, y_train, diag_reg=1e-4)
for t in (0.0, 10.0, 100.0, None):
    mean = predict_fn(t=t, x_test=x_test, get="ntk")
    print(f"t = {t}: mean prediction of test 0 = {np.round(mean[0], 6)}")

# the same ensemble trained on the C4 orbit of the training set: invariant at every time
# (circular padding and global pooling keep the kernel C4-invariant, as the irrep-by-irrep
# solver needs; `explicit=True` writes the 4N examples out instead)
aug = predict.gradient_descent_mse_ensemble(kernel_fn, x_train, y_train, diag_reg=1e-4,
                                            augment="C4")
rotated = np.ascontiguousarray(np.rot90(x_test, 1, axes=(1, 2)))
for t in (10.0, None):
    gap = np.max(np.abs(aug(t, rotated, "ntk") - aug(t, x_test, "ntk")))
    plain = np.max(np.abs(predict_fn(t, rotated, "ntk") - predict_fn(t, x_test, "ntk")))
    print(f"t = {t}: C4 invariance error {gap:.1e} augmented, {plain:.1e} plain")

# a p4 G-CNN (lifting, group convolution, group pooling) on the same images, read as a torus
gcnn = stax.serial(stax.Lift(16, "p4", (3, 3), "CIRCULAR", 1.5, 0.1), stax.Relu(),
                   stax.GroupConv(16, (3, 3), W_std=1.5, b_std=0.1), stax.Relu(),
                   stax.GroupPool(), stax.Dense(2, 1.5, 0.1))
g_predict = predict.gradient_descent_mse_ensemble(gcnn[2], x_train, y_train, diag_reg=1e-4)
print("p4 G-CNN mean at t = ∞ for test 0:", np.round(g_predict(None, x_test, "ntk")[0], 6))
