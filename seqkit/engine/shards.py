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

import functools
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
    """A train step over ``count`` slices of the streams, one compiled program per slice.

    Each slice's program cuts its rows of the step's element, makes their batch (the feed's)
    and their state inputs (zeroed where they reset), and computes their gradients; the
    gradients are summed and applied by one more program, and the new state stored.

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
        self.from_logits, self.forward, self.jit_compile = from_logits, forward, bool(jit_compile)
        self._programs: dict[tuple[int, int], Callable[..., Any]] = {}
        self._apply = tf.function(self._apply_gradients, jit_compile=jit_compile, autograph=False)

    def _slice_gradients(
        self, feed: Any, state: Any, number: int, data: dict[str, tf.Tensor], element: Any
    ) -> tuple[list[tf.Tensor], tf.Tensor, list[tf.Tensor]]:
        """Slice ``number``'s batch (its rows of the step's element), its state rows zeroed where they
        reset, and its new states, record and gradients, its loss divided by the whole step's count."""
        rows = int(tf.nest.flatten(element)[0].shape[0]) // self.count
        part = tf.nest.map_structure(lambda value: value[number * rows : (number + 1) * rows], element)
        batch = feed.batch(data, part)
        state_inputs, _ = state.begin(batch.resets, rows=slice(number * rows, (number + 1) * rows))
        outputs, record, gradients = gradient_step(
            self.network, self.optimizer, [batch.inputs, *state_inputs], batch.targets, batch.weights,
            denominator=batch.count, regularization_scale=1.0 / self.count, from_logits=self.from_logits,
            forward=self.forward,
        )
        return [tf.cast(value, tf.float32) for value in outputs[1:]], record, gradients

    def _program(self, feed: Any, state: Any, number: int) -> Callable[..., Any]:
        """Slice ``number``'s compiled program for a feed (one per slice, so that they run at once)."""
        key = (id(feed), number)
        if key not in self._programs:
            self._programs[key] = tf.function(
                functools.partial(self._slice_gradients, feed, state, number), jit_compile=self.jit_compile,
                autograph=False,
            )
        return self._programs[key]

    def _apply_gradients(self, gradients: list[tf.Tensor]) -> None:
        self.optimizer.apply(gradients, self.network.trainable_variables)

    def step(self, feed: Any, state: Any, data: dict[str, tf.Tensor], element: Any) -> tf.Tensor:
        """Train one step of a stream feed; its record. The new state is stored (``state.end``)."""
        results = [self._program(feed, state, number)(data, element) for number in range(self.count)]
        self._apply([sum_gradients(grads) for grads in zip(*(result[2] for result in results))])
        states = [tf.concat(list(values), 0) for values in zip(*(result[0] for result in results))]
        state.end([None, *states], None, [])
        return tf.add_n([result[1] for result in results])
