"""The one train step: forward pass, loss, gradients, optimizer update, metric record.

Every way seqkit trains runs this function and nothing else for an optimizer step, the
way Keras's ``train_step`` sits under ``make_train_function``: the compiled loop over an
epoch plan (:class:`~seqkit.engine.loops.TrainingLoop`), each replica's share under
``strategy.run``, and the stream loop whose LSTM state is an input and an output
(:class:`~seqkit.engine.loops.StreamLoop`). What differs between them — which rows a
stateful layer resets, how the batch is gathered, what the loss is divided by — stays in
the wrappers.

The loss is the sparse categorical cross-entropy of the model's predictions, weighted
(``0`` for an empty slot), summed and divided by ``denominator`` (the batch's own count
on one device, the global count under a strategy, so that the all-reduced gradient is
one device's), plus the model's regularization losses times ``regularization_scale``.
Under mixed precision the predictions are cast to float32 first, so the loss is always
computed in float32, and the optimizer scales it (:class:`keras.optimizers.LossScaleOptimizer`).

A *record* is the float32 vector ``[loss sum, correct, count]`` over the real samples;
records add up across steps and replicas, and ``loss sum / count`` is the mean loss.

>>> import keras, numpy as np, tensorflow as tf
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.Input((1, 1)), keras.layers.LSTM(4),
...                           keras.layers.Dense(3, activation="softmax")])
>>> optimizer = keras.optimizers.Adam()
>>> _, record = train_step(model, optimizer, tf.zeros((2, 1, 1)), tf.constant([0, 1]), tf.ones(2))
>>> record.shape.as_list(), float(record[2]), int(optimizer.iterations.numpy())
([3], 2.0, 1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

__all__ = ["evaluate_step", "gradient_step", "loss_and_record", "record_of", "score", "train_step"]


def _predictions(outputs: Any) -> tf.Tensor:
    """The probabilities (or logits) among a model's outputs: the first one."""
    return outputs[0] if isinstance(outputs, list | tuple) else outputs


def score(
    predictions: tf.Tensor, targets: tf.Tensor, *, from_logits: bool = False
) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-sample cross-entropy and correctness (1.0 / 0.0), in float32.

    Works for ``(batch, classes)`` predictions with ``(batch,)`` targets and for
    ``(batch, T, classes)`` with ``(batch, T)``.
    """
    predictions = tf.cast(predictions, tf.float32)
    cross_entropy = keras.losses.sparse_categorical_crossentropy(targets, predictions, from_logits=from_logits)
    # Compared in int64: on a GPU, int32 comparisons run in host memory, a copy per step.
    correct = tf.cast(tf.equal(tf.argmax(predictions, axis=-1), tf.cast(targets, tf.int64)), tf.float32)
    return cross_entropy, correct


def record_of(loss_sum: tf.Tensor, correct: tf.Tensor, weights: tf.Tensor, count: tf.Tensor) -> tf.Tensor:
    """The record ``[loss sum, correct, count]`` of a step."""
    return tf.stack([loss_sum, tf.reduce_sum(correct * weights), count])


def loss_and_record(
    model: keras.Model,
    outputs: Any,
    targets: tf.Tensor,
    weights: tf.Tensor,
    *,
    denominator: tf.Tensor | None = None,
    regularization_scale: float = 1.0,
    from_logits: bool = False,
) -> tuple[tf.Tensor, tf.Tensor]:
    """The loss to minimize and the step's record, for training and evaluation alike.

    The loss is the weighted cross-entropy sum over ``denominator`` (default: the sum of
    ``weights``) plus the model's regularization losses times ``regularization_scale``;
    the record's loss sum counts the regularization once per real sample, as Keras
    reports it. Arguments as in :func:`train_step`.
    """
    cross_entropy, correct = score(_predictions(outputs), targets, from_logits=from_logits)
    count = tf.reduce_sum(weights)
    loss_sum = tf.reduce_sum(cross_entropy * weights)
    loss = loss_sum / (count if denominator is None else denominator)
    if model.losses:
        regularization = tf.add_n(model.losses)
        loss = loss + regularization * regularization_scale
        loss_sum = loss_sum + regularization * count
    return loss, record_of(loss_sum, correct, weights, count)


def gradient_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    inputs: Any,
    targets: tf.Tensor,
    weights: tf.Tensor,
    *,
    denominator: tf.Tensor | None = None,
    regularization_scale: float = 1.0,
    from_logits: bool = False,
    forward: Callable[..., Any] | None = None,
) -> tuple[Any, tf.Tensor, list[tf.Tensor]]:
    """:func:`train_step` without the update: the outputs, the record and the gradients.

    The gradients are those of the optimizer's scaled loss with respect to
    ``model.trainable_variables``, as ``optimizer.apply`` takes them. Gradients of
    shards of one batch, each computed with the batch's ``denominator`` and
    ``regularization_scale = 1 / shards``, add up to the batch's
    (:class:`~seqkit.engine.loops.StreamLoop` with ``shards``). Arguments as in
    :func:`train_step`.
    """
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        outputs = (forward or model)(inputs, training=True)
        loss, record = loss_and_record(
            model, outputs, targets, weights, denominator=denominator,
            regularization_scale=regularization_scale, from_logits=from_logits,
        )
        scaled = optimizer.scale_loss(loss)
    return outputs, record, tape.gradient(scaled, variables)


def train_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    inputs: Any,
    targets: tf.Tensor,
    weights: tf.Tensor,
    *,
    denominator: tf.Tensor | None = None,
    regularization_scale: float = 1.0,
    from_logits: bool = False,
    forward: Callable[..., Any] | None = None,
) -> tuple[Any, tf.Tensor]:
    """One optimizer step on one batch; returns the model's outputs and the step's record.

    Args:
        model: the network; its first output holds the predictions.
        optimizer: updates ``model.trainable_variables``.
        inputs: what the model is called on (a tensor, or a list for the stream model).
        targets: int32 class ids, the shape of the predictions without the class axis.
        weights: float32, the shape of ``targets``: 1 for a real sample, 0 for an empty slot.
        denominator: what the weighted loss sum is divided by. Defaults to None: the
            sum of ``weights`` (the mean over this batch).
        regularization_scale: factor of the model's regularization losses (``1 /
            replicas`` under a strategy, whose gradients are summed). Defaults to 1.
        from_logits: the predictions are logits rather than probabilities.
        forward: computes the model's outputs, ``forward(inputs, training=...)``, with the
            model's own variables. Defaults to None: the model itself. The stream loop
            passes seqkit's LSTM kernel (:func:`seqkit.engine.kernel.stream_forward`).

    Returns:
        ``(outputs, record)``: everything the model returned (a stateful stream model
        returns its new states after the logits) and ``[loss sum, correct, count]``.
    """
    outputs, record, gradients = gradient_step(
        model, optimizer, inputs, targets, weights, denominator=denominator,
        regularization_scale=regularization_scale, from_logits=from_logits, forward=forward,
    )
    optimizer.apply(gradients, model.trainable_variables)
    return outputs, record


def evaluate_step(
    model: keras.Model,
    inputs: Any,
    targets: tf.Tensor,
    weights: tf.Tensor,
    *,
    from_logits: bool = False,
    forward: Callable[..., Any] | None = None,
) -> tuple[Any, tf.Tensor]:
    """A forward pass without training, the evaluation counterpart of :func:`train_step`.

    ``forward`` is as in :func:`train_step`.

    Returns:
        ``(outputs, record)``: the model's outputs (new states after the predictions, for
        the stream model) and ``[loss sum, correct, count]``.
    """
    outputs = (forward or model)(inputs, training=False)
    _, record = loss_and_record(model, outputs, targets, weights, from_logits=from_logits)
    return outputs, record
