"""Stepping a network for many rows at once: what batched generation and beam search run on.

A :class:`Stepper` reads ``N`` primes as the rows of one batch and then advances every row by
one token per call: one compiled call per step for all rows, whatever ``N``. The rows share
nothing: a stateless model reads each row's last window; a stateful one carries each row's
own LSTM (or GRU) state, passed in and out of the compiled function as values rather than
held in the layer's state variables, so that rows can be dropped (a sample that stopped) or
copied (the beams of beam search) by indexing: :meth:`Stepper.select`.

The stateful functions are built from the trained network's own layers: the input layers
(embedding, one-hot or scaled), the recurrent layers' cells and the output layer. Primes of
different lengths are read in one call, each cell wrapped in a stateless, masked
``keras.layers.RNN``, right-aligned: a masked step leaves a row's state as it was, so each
row starts generating from exactly the state its own prime leaves, as it would alone. A step
calls each cell once, as its layer does at every step, with no loop and no mask.

>>> from seqkit import alphabet
>>> from seqkit.trainers import StatefulTrainer
>>> model, _ = StatefulTrainer(units=8, epochs=2).fit(alphabet())
>>> stepper = model.stepper()
>>> rows, probabilities = stepper.start([[0, 1], [7]])
>>> probabilities.shape
(2, 26)
>>> rows, probabilities = stepper.advance(stepper.select(rows, [1]), [8])
>>> probabilities.shape
(1, 26)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import keras
import numpy as np

from seqkit.backends import keras_backend
from seqkit.errors import ConfigurationError, DataError
from seqkit.models import recurrent_layers

if TYPE_CHECKING:
    from seqkit.sequence_model import SequenceModel

__all__ = ["RecurrentStepper", "Stepper", "WindowStepper", "bucket", "stepper_for"]


class Stepper(Protocol):
    """Reads primes as rows of one batch, then advances all rows one token per call.

    ``rows`` is what carries each row from one call to the next (its last window, or its
    state); the caller never looks inside it, only selects from it.
    """

    def start(self, primes: Sequence[Sequence[int]]) -> tuple[Any, np.ndarray]:
        """Read one prime (ids, at least one) per row: ``(rows, next-token probabilities (N, V))``."""

    def advance(self, rows: Any, ids: Sequence[int] | np.ndarray) -> tuple[Any, np.ndarray]:
        """Feed one id per row: ``(rows, next-token probabilities (N, V))``."""

    def select(self, rows: Any, indices: Sequence[int] | np.ndarray) -> Any:
        """The rows at ``indices`` (in that order; an index may repeat)."""


class WindowStepper:
    """A stateless model's rows: each row's last ``L`` ids (front-padded if the model masks)."""

    def __init__(self, model: SequenceModel) -> None:
        self.model = model

    def start(self, primes: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        for prime in primes:
            if len(prime) < self.model.window_length and not self.model.masked:
                raise DataError(
                    f"This model reads windows of {self.model.window_length} tokens; a prime has "
                    f"{len(prime)}. Give primes of at least {self.model.window_length} tokens."
                )
        windows = np.concatenate([self.model.last_window(list(prime)) for prime in primes])
        return windows, self.model.probabilities(windows)

    def advance(self, rows: np.ndarray, ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        windows = np.concatenate([rows[:, 1:], np.asarray(ids, dtype=rows.dtype).reshape(-1, 1)], axis=1)
        return windows, self.model.probabilities(windows)

    def select(self, rows: np.ndarray, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        return rows[np.asarray(indices, dtype=np.int64)]


class RecurrentStepper:
    """A stateful model's rows: each row's own recurrent state, carried as values.

    Built once per model from its batch-1 network's layers (weights shared, not copied: a
    later change to the network's weights counts). Every row starts from the state the
    network holds now (zeros after ``reset``, or what ``prime`` left), and the network's
    own state is left as it was.
    """

    def __init__(self, model: SequenceModel) -> None:
        if model.window_length != 1:
            raise ConfigurationError(
                f"generate needs a stateful model that reads one token per step; this one reads "
                f"windows of {model.window_length}, and feeding back overlapping windows would read "
                "each token into the state several times. Train it with window=1 (the stateful "
                "default), or use predict_next on whole windows."
            )
        self.model = model
        network = model.network
        self._recurrent = recurrent_layers(network)
        self._layers = [layer for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
        first = self._layers.index(self._recurrent[0])
        self._before, self._after = self._layers[:first], self._layers[first:]
        self._runners = {
            id(layer): keras.layers.RNN(
                layer.cell, return_sequences=layer.return_sequences, return_state=True, name=f"{layer.name}_rows"
            )
            for layer in self._recurrent
        }
        self._states = [state for layer in self._recurrent for state in keras.tree.flatten(layer.states)]
        dtypes = [state.dtype for state in self._states]
        self._read = _compiled(network, self._run, dtypes, masked=True)
        self._step = _compiled(network, self._step_all, dtypes, masked=False)

    def _step_all(self, inputs: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        """One step for every row: ``(N, 1)`` one-token windows, encoded; no mask, no loop.

        Each recurrent layer's cell is called once, as its layer calls it at every step, so
        the values are those :meth:`_run` gives for one unmasked step.
        """
        hidden = inputs
        for layer in self._before:
            hidden = layer(hidden, training=False)
        hidden = keras.ops.reshape(hidden, (keras.ops.shape(hidden)[0], -1))
        remaining, ends = list(states), []
        for layer in self._after:
            if id(layer) not in self._runners:
                hidden = layer(hidden, training=False)
                continue
            count = len(keras.tree.flatten(layer.states))
            own, remaining = remaining[:count], remaining[count:]
            hidden, end = layer.cell(hidden, own, training=False)
            ends += keras.tree.flatten(end)
        return hidden, ends

    def _run(self, inputs: Any, mask: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        """The probabilities after the last of ``T`` steps and each row's state then.

        ``inputs``: the layout's encoding of ``(N * T, 1)`` one-token windows; ``mask``:
        ``(N, T)``, false where a row has no token yet (its state passes through).
        """
        rows, steps = keras.ops.shape(mask)[0], keras.ops.shape(mask)[1]
        hidden = inputs
        for layer in self._before:
            hidden = layer(hidden, training=False)
        hidden = keras.ops.reshape(hidden, (rows, steps, -1))
        remaining, ends = list(states), []
        for layer in self._after:
            runner = self._runners.get(id(layer))
            if runner is None:
                hidden = layer(hidden, training=False)
                continue
            count = len(keras.tree.flatten(layer.states))
            own, remaining = remaining[:count], remaining[count:]
            hidden, *end = runner(hidden, initial_state=own, mask=mask, training=False)
            ends += end
        return hidden, ends

    def start(self, primes: Sequence[Sequence[int]]) -> tuple[list[np.ndarray], np.ndarray]:
        if not primes or any(len(prime) == 0 for prime in primes):
            raise DataError("Give at least one token to predict from; got none.")
        distinct = list(dict.fromkeys(tuple(prime) for prime in primes))  # each prime read once, its rows copied
        length = max(len(prime) for prime in distinct)
        ids = np.zeros((len(distinct), length), dtype=np.int64)
        mask = np.zeros((len(distinct), length), dtype=bool)
        for row, prime in enumerate(distinct):
            ids[row, length - len(prime):] = prime
            mask[row, length - len(prime):] = True
        now = [np.asarray(keras.ops.convert_to_numpy(state.value)) for state in self._states]
        states = [np.repeat(value[:1], len(distinct), axis=0) for value in now]
        probabilities, ends = self._read(self._encoded(ids), mask, states)
        rows = [distinct.index(tuple(prime)) for prime in primes] if len(distinct) < len(primes) else None
        if rows is None:
            return ends, probabilities
        return self.select(ends, rows), probabilities[rows]

    def advance(self, rows: list[Any], ids: Sequence[int] | np.ndarray) -> tuple[list[Any], np.ndarray]:
        probabilities, ends = self._step(self._encoded(np.asarray(ids, dtype=np.int64)), rows)
        return ends, probabilities

    def select(self, rows: list[Any], indices: Sequence[int] | np.ndarray) -> list[np.ndarray]:
        indices = np.asarray(indices, dtype=np.int64)
        return [np.asarray(state)[indices] for state in rows]

    def _encoded(self, ids: np.ndarray) -> np.ndarray:
        """Ids as the network's input: each one a window of one token, ``(N * T, ...)``."""
        return self.model.layout.transform(ids.reshape(-1, 1), self.model.vocabulary.size)


def _compiled(network: keras.Model, run: Callable[..., Any], state_dtypes: list[str], *, masked: bool) -> Callable[..., Any]:
    """``run(inputs, [mask,] states)`` compiled once for this process's Keras backend.

    Returns a function of NumPy arrays (or the states it returned before) that returns the
    probabilities as NumPy and the states as the backend's arrays, so that they go straight
    back in at the next step. On TensorFlow, one concrete ``tf.function`` for every batch size
    (and prime length). On JAX, one ``jax.jit`` program per shape, the network's weights passed
    in through a :class:`keras.StatelessScope`; rows (and steps) are padded to powers of two
    there, so that rows leaving one by one cost a handful of compilations, not one per size.
    """
    if keras_backend() == "jax":
        return _jax_compiled(network, run, masked=masked)
    import tensorflow as tf

    signature = [tf.TensorSpec([None, *network.inputs[0].shape[1:]], network.inputs[0].dtype)]
    if masked:
        signature.append(tf.TensorSpec([None, None], tf.bool))
    signature.append([tf.TensorSpec([None, None], dtype) for dtype in state_dtypes])
    # A concrete function: called directly, it skips tf.function's matching of the arguments.
    function = tf.function(lambda *arguments: run(*arguments[:-1], list(arguments[-1])), input_signature=signature)
    concrete = function.get_concrete_function()

    def call(*arguments: Any) -> tuple[np.ndarray, list[Any]]:
        probabilities, ends = concrete(*arguments[:-1], [tf.convert_to_tensor(state) for state in arguments[-1]])
        return probabilities.numpy(), ends

    return call


def bucket(size: int) -> int:
    """The power of two at or above ``size``: the batch sizes a ``jax.jit`` program is compiled for.

    >>> bucket(1), bucket(5), bucket(32)
    (1, 8, 32)
    """
    return 1 << max(size - 1, 0).bit_length()


def _jax_compiled(network: keras.Model, run: Callable[..., Any], *, masked: bool) -> Callable[..., Any]:
    import jax

    variables = list(network.variables)

    def program(values: list[Any], *arguments: Any) -> tuple[Any, list[Any]]:
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return run(*arguments)

    compiled = jax.jit(program)

    def call(inputs: np.ndarray, *arguments: Any) -> tuple[np.ndarray, list[np.ndarray]]:
        *mask, states = arguments
        states = [np.asarray(state) for state in states]
        rows = len(states[0])
        steps = mask[0].shape[1] if masked else 1
        padded_rows, padded_steps = bucket(rows), (bucket(steps) if masked else 1)
        per_row = inputs.reshape(rows, steps, *inputs.shape[1:])
        grown = np.zeros((padded_rows, padded_steps, *inputs.shape[1:]), dtype=inputs.dtype)
        grown[:rows, padded_steps - steps:] = per_row  # right-aligned: the last step stays the last
        grown_states = [np.concatenate([state, np.zeros((padded_rows - rows, *state.shape[1:]), state.dtype)]) for state in states]
        flat = grown.reshape(padded_rows * padded_steps, *inputs.shape[1:])
        if masked:
            grown_mask = np.zeros((padded_rows, padded_steps), dtype=bool)
            grown_mask[:rows, padded_steps - steps:] = mask[0]
            probabilities, ends = compiled([variable.value for variable in variables], flat, grown_mask, grown_states)
        else:
            probabilities, ends = compiled([variable.value for variable in variables], flat, grown_states)
        return np.asarray(probabilities)[:rows], [np.asarray(end)[:rows] for end in ends]

    return call


def stepper_for(model: SequenceModel) -> Stepper:
    """The stepper that fits ``model``: a :class:`RecurrentStepper` if it is stateful, else a :class:`WindowStepper`."""
    return RecurrentStepper(model) if model.stateful else WindowStepper(model)
