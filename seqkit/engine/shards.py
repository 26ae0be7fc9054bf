"""Shards: one step's rows split into slices whose gradients separate compiled programs compute at once.

XLA runs independent loops inside one program one after the other, so on a multi-core
CPU a step whose streams are split into ``shards`` slices, each slice's forward and
backward pass a compiled program of its own, called from a plain graph, runs the slices
on different cores at once (TensorFlow's executor runs independent ops in parallel). The
gradients are summed and applied once: the same update as one program, up to float
rounding (:func:`~seqkit.engine.policy.cpu_shards` decides how many).

>>> import tensorflow as tf
>>> total = sum_gradients([tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])])
>>> total.numpy().tolist()
[4.0, 6.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf

from seqkit.engine.step import gradient_step

__all__ = ["Shards", "sum_gradients"]


def sum_gradients(parts: Sequence[tf.Tensor | tf.IndexedSlices]) -> tf.Tensor | tf.IndexedSlices:
    """The gradient of a batch from its shards' gradients.

    An embedding's gradient stays ``tf.IndexedSlices`` with one row per occurrence of a
    token, as one program's is: Keras 3's Adam squares those rows before adding the
    duplicates up (its second moment of an embedding row is the sum of the squared
    per-occurrence gradients, not the square of their sum), so a dense sum would train
    differently (measured: 2.38 against 2.21 loss after two epochs of the stream
    benchmark).
    """
    if isinstance(parts[0], tf.IndexedSlices):
        return tf.IndexedSlices(
            tf.concat([part.values for part in parts], 0), tf.concat([part.indices for part in parts], 0),
            parts[0].dense_shape,
        )
    return tf.add_n(list(parts))


class Shards:
    """A train step over ``count`` slices of the batch's rows, one compiled program per slice.

    Args:
        network: the network being trained.
        optimizer: its optimizer (applied once, to the summed gradients).
        count: the slices; it must divide the rows of every batch.
        jit_compile: compile each slice's program, and the update, with XLA.
        from_logits: the network returns logits.
        forward: computes the network's outputs (seqkit's LSTM kernel), or None.
    """

    def __init__(
        self, network: keras.Model, optimizer: keras.optimizers.Optimizer, *, count: int, jit_compile: bool,
        from_logits: bool, forward: Callable[..., Any] | None,
    ) -> None:
        self.network, self.optimizer, self.count = network, optimizer, int(count)
        self.from_logits, self.forward = from_logits, forward
        self._gradients = tf.function(self._slice_gradients, jit_compile=jit_compile)
        self._apply = tf.function(self._apply_gradients, jit_compile=jit_compile)

    def _slice_gradients(
        self, inputs: list[tf.Tensor], targets: tf.Tensor, weights: tf.Tensor, count: tf.Tensor
    ) -> tuple[list[tf.Tensor], tf.Tensor, list[tf.Tensor]]:
        """One slice's new states, record and gradients, its loss divided by the step's ``count``."""
        outputs, record, gradients = gradient_step(
            self.network, self.optimizer, inputs, targets, weights, denominator=count,
            regularization_scale=1.0 / self.count, from_logits=self.from_logits, forward=self.forward,
        )
        return [tf.cast(value, tf.float32) for value in outputs[1:]], record, gradients

    def _apply_gradients(self, gradients: list[tf.Tensor]) -> None:
        self.optimizer.apply(gradients, self.network.trainable_variables)

    def step(
        self, inputs: list[tf.Tensor], targets: tf.Tensor, weights: tf.Tensor, count: tf.Tensor
    ) -> tuple[list[tf.Tensor], tf.Tensor]:
        """Train one step: the outputs (logits left out: ``[None, *new states]``) and the record."""
        parts = [tf.split(value, self.count) for value in (targets, weights, *inputs)]
        results = [
            self._gradients([part[number] for part in parts[2:]], parts[0][number], parts[1][number], count)
            for number in range(self.count)
        ]
        self._apply([sum_gradients(grads) for grads in zip(*(result[2] for result in results))])
        states = [tf.concat(list(values), 0) for values in zip(*(result[0] for result in results))]
        return [None, *states], tf.add_n([result[1] for result in results])
