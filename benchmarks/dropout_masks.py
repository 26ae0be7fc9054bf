"""Does the LSTM kernel drop out what Keras's ``Dropout`` layer drops? Draw both ways and compare.

The stream network's dropout (:func:`seqkit.engine.kernel.stream_forward`) draws its own
mask (``stateless_uniform(..., alg="philox") >= rate``) from the layer's seed generator;
Keras's layer calls ``tf.nn.experimental.stateless_dropout`` (``alg="auto_select"``). For each
rate and way of running (eager, ``tf.function``, ``tf.function(jit_compile=True)``), this
resets the layer's seed generator to the same state before each of the two draws and
prints whether the masks agree element for element, the keep rates, the mean output
(1 in expectation for an input of ones) and how far the kept values differ. A last column
says whether the XLA masks are the eager ones of the same seed state.

Run: ``TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/dropout_masks.py`` (about 15 s on a CPU).
"""

from __future__ import annotations

import numpy as np

from seqkit._quiet import quiet_import

quiet_import()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqkit.engine.kernel import _dropout  # noqa: E402 - the private helper under measurement

SHAPE = (32, 64, 64)  # the stream benchmark's mask: 32 streams x 64 steps x 64 units
DRAWS = 5


def _compiled(function, mode):
    if mode == "eager":
        return function
    return tf.function(function, jit_compile=mode == "xla")


def measure(rate: float, mode: str, inputs: tf.Tensor) -> dict[str, float | bool]:
    keras.utils.set_random_seed(3)
    layer = keras.layers.Dropout(rate)
    layer.build(SHAPE)
    keras_way = _compiled(lambda x: layer(x, training=True), mode)
    kernel_way = _compiled(lambda x: _dropout(layer, x, training=True), mode)
    pairs, eager_masks = [], []
    for _ in range(DRAWS):
        start = layer.seed_generator.state.numpy()
        expected = keras_way(inputs).numpy()
        layer.seed_generator.state.assign(start)
        actual = kernel_way(inputs).numpy()
        layer.seed_generator.state.assign(start)
        eager_masks.append(layer(inputs, training=True).numpy() != 0)
        pairs.append((expected, actual))
    both_keep = [(a != 0) & (b != 0) for a, b in pairs]
    return {
        "masks_equal": all(np.array_equal(a != 0, b != 0) for a, b in pairs),
        "agreement": float(np.mean([np.mean((a != 0) == (b != 0)) for a, b in pairs])),
        "keep_keras": float(np.mean([np.mean(a != 0) for a, _ in pairs])),
        "keep_kernel": float(np.mean([np.mean(b != 0) for _, b in pairs])),
        "values_equal": all(np.array_equal(a, b) for a, b in pairs),
        "max_relative": float(max(np.max(np.abs(a - b)[k] / np.abs(a)[k], initial=0.0) for (a, b), k in zip(pairs, both_keep))),
        "same_as_eager": all(np.array_equal(a != 0, e) for (a, _), e in zip(pairs, eager_masks)),
    }


def measure_mean(rate: float, mode: str, ones: tf.Tensor) -> tuple[float, float]:
    keras.utils.set_random_seed(3)
    layer = keras.layers.Dropout(rate)
    layer.build(SHAPE)
    keras_way = _compiled(lambda x: layer(x, training=True), mode)
    kernel_way = _compiled(lambda x: _dropout(layer, x, training=True), mode)
    means = []
    for _ in range(DRAWS):
        start = layer.seed_generator.state.numpy()
        expected = float(np.mean(keras_way(ones).numpy()))
        layer.seed_generator.state.assign(start)
        means.append((expected, float(np.mean(kernel_way(ones).numpy()))))
    return float(np.mean([m[0] for m in means])), float(np.mean([m[1] for m in means]))



def main() -> None:
    inputs = tf.random.stateless_normal(SHAPE, seed=(1, 2))
    ones = tf.ones(SHAPE)
    print(f"mask {SHAPE}, {DRAWS} draws each; keep rate and mean output from an input of ones")
    print("| rate | mode | masks equal | agreement | keep rate Keras / kernel | mean output Keras / kernel "
          "| kept values equal | max relative difference | XLA mask = eager mask |")
    print("|---|---|---|---:|---:|---:|---|---:|---|")
    for rate in (0.2, 0.5):
        for mode in ("eager", "graph", "xla"):
            values = measure(rate, mode, inputs)
            mean = measure_mean(rate, mode, ones)
            print(
                f"| {rate} | {mode} | {values['masks_equal']} | {values['agreement']:.4f} "
                f"| {values['keep_keras']:.4f} / {values['keep_kernel']:.4f} | {mean[0]:.4f} / {mean[1]:.4f} "
                f"| {values['values_equal']} | {values['max_relative']:.2e} "
                f"| {values['same_as_eager'] if mode == 'xla' else '-'} |"
            )


if __name__ == "__main__":
    main()
