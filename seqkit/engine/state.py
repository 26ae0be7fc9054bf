"""Carried state: the recurrent state a network keeps from one step to the next.

The :class:`~seqkit.engine.driver.Driver` runs every step the same way; what it carries
between steps is one of two kinds of state, and each knows how to zero the rows a step
resets and what to keep:

- :class:`LayerState` — the state variables of a Keras network's stateful RNN layers
  (``keras.layers.LSTM(stateful=True)``, a fixed batch): the network reads and writes
  them itself; the rows a step resets are zeroed before it, and the rows of empty slots
  (weight 0) get back their state from before the step.
- :class:`StreamState` — the state of a stream network, an input and an output of the
  network (:func:`seqkit.models.build_stream_model`), kept in per-replica variables
  (each replica owns its own streams under ``tf.distribute``).

Both give :meth:`begin` (before a step: zero the rows, return the state inputs of the
network) and :meth:`end` (after it: keep what the step made), and list their variables
for checkpoints (:attr:`variables`, one per replica and state).

>>> import keras, tensorflow as tf
>>> model = keras.Sequential([keras.Input(batch_shape=(2, 1, 1)), keras.layers.LSTM(3, stateful=True)])
>>> state = LayerState(model)
>>> len(state.variables), stateful_batch_size(model)
(2, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from seqkit.models import recurrent_layers

__all__ = ["LayerState", "StreamState", "stateful_batch_size"]


def stateful_batch_size(model: keras.Model) -> int | None:
    """The fixed batch size of a model's stateful RNN layers, or None if it has none.

    >>> import keras
    >>> model = keras.Sequential([keras.Input(batch_shape=(4, 1, 1)),
    ...                           keras.layers.LSTM(2, stateful=True)])
    >>> stateful_batch_size(model)
    4
    """
    for layer in recurrent_layers(model):
        if layer.states is not None:
            return int(layer.states[0].shape[0])
    return None


class LayerState:
    """The state variables of a Keras network's stateful RNN layers (none for a stateless one).

    Args:
        network: the Keras network; its stateful layers must be built.
    """

    inputs = False
    """The network does not take this state as an input: its layers read it themselves."""

    def __init__(self, network: keras.Model) -> None:
        self.layer_variables: list[Any] = [variable for layer in recurrent_layers(network) for variable in layer.states]

    @property
    def variables(self) -> list[tf.Variable]:
        """The state variables (TensorFlow's, under Keras's), for checkpoints."""
        return [variable.value for variable in self.layer_variables]

    def __bool__(self) -> bool:
        return bool(self.layer_variables)

    def begin(self, resets: tf.Tensor) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
        """Zero the rows ``resets`` marks; returns no network inputs, and the state before the step."""
        keep = tf.expand_dims(tf.logical_not(resets), -1)
        for state in self.layer_variables:
            state.assign(tf.where(keep, state.value, tf.zeros_like(state.value)))
        return [], [tf.identity(state.value) for state in self.layer_variables]

    def end(self, outputs: Any, weights: tf.Tensor, before: Sequence[tf.Tensor]) -> None:
        """Give the empty slots (weight 0) their state from before the step."""
        real = tf.expand_dims(weights > 0, -1)
        for state, old in zip(self.layer_variables, before):
            state.assign(tf.where(real, state.value, old))

    def snapshot(self) -> list[tf.Tensor]:
        """The current values (evaluation puts them back afterwards)."""
        return [tf.identity(state.value) for state in self.layer_variables]

    def restore(self, values: Sequence[tf.Tensor]) -> None:
        """Put back values taken by :meth:`snapshot`."""
        for state, value in zip(self.layer_variables, values):
            state.assign(value)


class StreamState:
    """The state of a stream network, kept per replica: ``B / R`` rows on each of ``R`` replicas.

    Created under the strategy's scope (as ``ON_READ`` variables, so that each replica
    reads and writes its own); outside any strategy, plain variables.

    Args:
        rows: the streams each replica owns.
        sizes: the width of each state input of the network, in order.
        name: a prefix for the variables' names. Defaults to ``"stream_state"``.
    """

    inputs = True
    """The network takes this state as inputs after the ids, and returns the new one after the logits."""

    def __init__(self, rows: int, sizes: Sequence[int], *, name: str = "stream_state") -> None:
        self.sizes = [int(size) for size in sizes]
        self.rows = int(rows)
        self.strategy = tf.distribute.get_strategy()  # the one whose scope creates the variables
        self.state_variables = [
            tf.Variable(
                tf.zeros([self.rows, size]),
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.SUM,
                name=f"{name}_{number}",
            )
            for number, size in enumerate(self.sizes)
        ]

    @property
    def variables(self) -> list[tf.Variable]:
        """Every replica's own state variables, for checkpoints (each replica's rows saved as they are)."""
        return [
            local for variable in self.state_variables for local in self.strategy.experimental_local_results(variable)
        ]

    def __bool__(self) -> bool:
        return True

    def begin(self, resets: tf.Tensor, rows: slice | None = None) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
        """The state inputs of the network: the stored state (its ``rows``, for a slice of the
        streams), zeroed in the rows ``resets`` marks."""
        keep = tf.expand_dims(tf.cast(tf.logical_not(resets), tf.float32), -1)
        values = [state.read_value() for state in self.state_variables]
        if rows is not None:
            values = [value[rows] for value in values]
        return [value * keep for value in values], []

    def end(self, outputs: Any, weights: tf.Tensor, before: Sequence[tf.Tensor]) -> None:
        """Store the new state, the network's outputs after the logits."""
        for state, value in zip(self.state_variables, outputs[1:]):
            state.assign(tf.cast(value, state.dtype))

    def snapshot(self) -> list[tf.Tensor]:
        """Nothing: evaluation reads its own state (:meth:`for_rows`), never this one."""
        return []

    def restore(self, values: Sequence[tf.Tensor]) -> None:
        """Nothing to put back (see :meth:`snapshot`)."""
        del values

    def for_rows(self, rows: int) -> StreamState:
        """A state of the same sizes for ``rows`` streams (evaluation's own, on one device)."""
        with tf.distribute.get_strategy().scope():
            return StreamState(rows, self.sizes, name="evaluation_state")
