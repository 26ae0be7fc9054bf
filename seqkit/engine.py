"""The compiled training loop: a whole epoch of optimizer steps in one TensorFlow call.

Keras ``fit`` called once per epoch spends almost all of its time on per-call and
per-step overhead when the model is as tiny as seqkit's (an LSTM of a few dozen units
on a 26-letter alphabet). :class:`TrainingLoop` runs every optimizer step of an epoch
inside one :func:`tf.function`, so the Python, dataset and callback machinery is paid
once per epoch instead of once per step.

What feeds each step is an :class:`EpochPlan`: a ``(steps, batch)`` table of sample
indices (``-1`` marks an empty slot) and a table saying which rows of a stateful
model's recurrent state to zero before each step. Stateless trainers use
:func:`shuffled_plan` (Keras ``fit`` semantics); the stateful trainer builds plans whose
row ``r`` of step ``t + 1`` continues row ``r`` of step ``t``.

>>> import keras
>>> import numpy as np
>>> from seqkit.engine import TrainingLoop, shuffled_plan
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.Input((1, 1)), keras.layers.LSTM(4),
...                           keras.layers.Dense(3, activation="softmax")])
>>> inputs = np.array([[[0.0]], [[0.5]], [[1.0]]], dtype="float32")
>>> targets = np.array([1, 2, 0])
>>> loop = TrainingLoop(model, learning_rate=0.01, jit_compile=False)  # XLA pays off on long runs
>>> history = loop.fit(inputs, targets, lambda epoch: shuffled_plan(3, 2, seed=1, epoch=epoch),
...                    epochs=3)
>>> sorted(history), len(history["loss"])
(['accuracy', 'loss'], 3)
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

from seqkit.errors import ConfigurationError, DataError, parameter_error

_STEPS_PER_CALL = 512
"""Steps per compiled call that fit aims at when it may chunk epochs (call overhead ~1 ms)."""

__all__ = [
    "EpochPlan",
    "StreamLoop",
    "TrainingLoop",
    "WindowedInputs",
    "auto_epochs_per_call",
    "shuffled_plan",
    "stateful_batch_size",
]


@dataclass(frozen=True, eq=False)
class WindowedInputs:
    """Samples cut from one 1-D array inside the compiled step, never materialized.

    Sample ``i`` is ``encode(sequence[starts[i] : starts[i] + window_length])`` and its
    target is ``sequence[starts[i] + window_length]``. Passed to :meth:`TrainingLoop.fit`
    in place of an input array (with ``targets=None``), it keeps memory at ``O(N)``
    whatever the window length and the encoding: each step gathers and encodes only its
    own batch.

    Args:
        sequence: int32 ``(N,)`` class ids.
        starts: int ``(n,)`` window starts, each ``<= N - window_length - 1``.
        window_length: ``L``, an int >= 1.
        encode: maps an int32 tensor ``(batch, L)`` to the model's input batch inside
            the graph (e.g. :meth:`seqkit.layouts.Layout.transform_tensor`).
    """

    sequence: np.ndarray
    starts: np.ndarray
    window_length: int
    encode: Callable[[tf.Tensor], tf.Tensor]

    def __post_init__(self) -> None:
        sequence, starts = np.asarray(self.sequence), np.asarray(self.starts)
        if sequence.ndim != 1 or starts.ndim != 1 or len(starts) == 0:
            raise DataError(
                f"WindowedInputs needs a 1-D sequence and a non-empty 1-D starts array; got "
                f"shapes {sequence.shape} and {starts.shape}."
            )
        if isinstance(self.window_length, bool) or not isinstance(self.window_length, (int, np.integer)) or self.window_length < 1:
            raise parameter_error("WindowedInputs", "window_length", "an int >= 1", self.window_length)
        if int(starts.min()) < 0 or int(starts.max()) + self.window_length >= len(sequence):
            raise DataError(
                f"WindowedInputs.starts must lie in [0, {len(sequence) - self.window_length - 1}] "
                f"so that each window and its target fit the sequence of {len(sequence)}; got "
                f"{int(starts.min())} to {int(starts.max())}."
            )

    def __len__(self) -> int:
        return int(len(self.starts))


@dataclass(frozen=True, eq=False)
class EpochPlan:
    """Which samples feed each optimizer step of an epoch, and which state rows reset first.

    Args:
        indices: ``(steps, batch)`` integer indices into the sample arrays; ``-1`` is an
            empty slot (weight 0: it counts neither in the loss nor in the metrics, and
            in a stateful model it leaves its row's state unchanged).
        reset_rows: ``(steps, batch)`` booleans: zero the recurrent state of row ``r``
            before step ``t``. All ``False`` for stateless models.

    >>> plan = EpochPlan(np.array([[0, 1], [2, -1]]), np.zeros((2, 2), dtype=bool))
    >>> plan.steps, plan.batch_size, plan.num_samples
    (2, 2, 3)
    >>> EpochPlan(np.array([[0, 1]]), np.zeros((1, 3), dtype=bool))
    Traceback (most recent call last):
    ...
    seqkit.errors.DataError: EpochPlan.reset_rows must have the shape of indices (1, 2); ...
    """

    indices: np.ndarray
    reset_rows: np.ndarray

    def __post_init__(self) -> None:
        indices = np.asarray(self.indices)
        reset_rows = np.asarray(self.reset_rows)
        if indices.ndim != 2 or indices.shape[0] < 1 or indices.shape[1] < 1:
            raise DataError(
                "EpochPlan.indices must be a non-empty (steps, batch) array; "
                f"got shape {indices.shape}. Build it with shuffled_plan() or reshape it."
            )
        if not np.issubdtype(indices.dtype, np.integer):
            raise DataError(
                f"EpochPlan.indices must hold integers; got dtype {indices.dtype}. "
                "Cast it with .astype('int32')."
            )
        if reset_rows.shape != indices.shape:
            raise DataError(
                f"EpochPlan.reset_rows must have the shape of indices {indices.shape}; "
                f"got {reset_rows.shape}. Build both from the same (steps, batch) layout."
            )
        if indices.min() < -1:
            raise DataError(
                f"EpochPlan.indices must be sample indices >= 0 or -1 for an empty slot; "
                f"got {int(indices.min())}."
            )
        real_per_step = (indices >= 0).sum(axis=1)
        if not real_per_step.all():
            empty = int(np.flatnonzero(real_per_step == 0)[0])
            raise DataError(
                f"EpochPlan step {empty} has no sample (every slot is -1); an optimizer "
                "step needs at least one. Drop empty steps from the plan."
            )
        object.__setattr__(self, "indices", indices.astype(np.int32, copy=False))
        object.__setattr__(self, "reset_rows", reset_rows.astype(bool, copy=False))

    @property
    def steps(self) -> int:
        """Number of optimizer steps in the epoch."""
        return int(self.indices.shape[0])

    @property
    def batch_size(self) -> int:
        """Rows per step (including empty slots)."""
        return int(self.indices.shape[1])

    @property
    def num_samples(self) -> int:
        """Number of real (non-empty) slots in the epoch."""
        return int((self.indices >= 0).sum())


def shuffled_plan(
    num_samples: int, batch_size: int, *, seed: int, epoch: int, shuffle: bool = True
) -> EpochPlan:
    """Plan one epoch like Keras ``fit``: ``ceil(n / batch)`` steps, the last one partial.

    The permutation is a pure function of ``(seed, epoch)``
    (``np.random.default_rng((seed, epoch))``), so a resumed run reproduces it. The last
    batch is padded with ``-1`` (empty slots). No state row is ever reset.

    Args:
        num_samples: number of samples ``n``; an int >= 1.
        batch_size: samples per optimizer step; an int >= 1.
        seed: seed of the shuffle.
        epoch: the epoch number, mixed into the seed.
        shuffle: permute the samples. Defaults to True; False keeps the order 0..n-1.

    Returns:
        The :class:`EpochPlan`.

    >>> shuffled_plan(5, 2, seed=0, epoch=0, shuffle=False).indices.tolist()
    [[0, 1], [2, 3], [4, -1]]
    >>> a = shuffled_plan(5, 2, seed=7, epoch=3).indices
    >>> bool((a == shuffled_plan(5, 2, seed=7, epoch=3).indices).all())
    True
    """
    for name, value in (("num_samples", num_samples), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise parameter_error("shuffled_plan", name, "an int >= 1", value)
    if shuffle:
        order = np.random.default_rng((seed, epoch)).permutation(num_samples)
    else:
        order = np.arange(num_samples)
    steps = -(-num_samples // batch_size)
    indices = np.full(steps * batch_size, -1, dtype=np.int32)
    indices[:num_samples] = order
    indices = indices.reshape(steps, batch_size)
    return EpochPlan(indices, np.zeros(indices.shape, dtype=bool))


def auto_epochs_per_call(steps_per_epoch: int) -> int:
    """Epochs per compiled call that make about 512 optimizer steps per call.

    >>> auto_epochs_per_call(1), auto_epochs_per_call(25), auto_epochs_per_call(1000)
    (512, 20, 1)
    """
    return max(1, _STEPS_PER_CALL // max(1, int(steps_per_epoch)))


def _stateful_rnn_layers(model: keras.Model) -> list[keras.layers.RNN]:
    """Every stateful RNN layer of ``model``, nested ones included."""
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.RNN) and getattr(layer, "stateful", False)
    ]


def stateful_batch_size(model: keras.Model) -> int | None:
    """The fixed batch size of a model's stateful RNN layers, or None if it has none.

    >>> import keras
    >>> model = keras.Sequential([keras.Input(batch_shape=(4, 1, 1)),
    ...                           keras.layers.LSTM(2, stateful=True)])
    >>> stateful_batch_size(model)
    4
    """
    for layer in _stateful_rnn_layers(model):
        if layer.states is not None:
            return int(layer.states[0].shape[0])
    return None


class _NoCallbacks:
    """The do-nothing stand-in for an empty :class:`keras.callbacks.CallbackList`."""

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        """Do nothing."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Do nothing."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Do nothing."""

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        """Do nothing."""


class TrainingLoop:
    """Train a Keras classifier with one compiled TensorFlow call per epoch (or per many).

    The loop owns a :class:`keras.optimizers.Adam` and minimizes the sparse categorical
    cross-entropy of the model's softmax output (the same quantity as the categorical
    cross-entropy on one-hot targets), plus the model's regularization losses. Each step
    of a plan: zero the planned state rows of every stateful RNN layer, gather the batch,
    run the forward pass with ``training=True``, and apply the gradient of
    ``sum(w * ce) / sum(w)`` where ``w`` is 0 on empty slots. The result equals Keras
    ``fit`` on the same batches.

    Stateful models must be built with a static batch size,
    ``keras.Input(batch_shape=(batch, time_steps, features))``, and every plan must use
    that batch size. Their state lives in the layers' variables and carries over from
    step to step and from epoch to epoch until a plan resets it.

    Args:
        model: a built Keras model whose output is a softmax over classes, shape
            ``(batch, classes)``.
        learning_rate: Adam's learning rate. Defaults to 0.001 (Keras's default).
        jit_compile: compile the steps with XLA. Defaults to True: on CPU it runs
            seqkit's tiny LSTMs 3-10x faster per step than the plain graph (see
            ``benchmarks/engine_variants.py``), for a one-off compile of ~1-2 s. Turn
            it off for a model with an op XLA cannot compile, or for short runs.
            Ignored (no XLA) under a distributing strategy.
        strategy: a ``tf.distribute.Strategy`` to train under, the model built in its
            ``scope()``; each step runs through ``strategy.run``, replica ``k`` taking
            its slice of the batch (padded with empty slots to split evenly), the loss
            divided by the global count. Stateless models only. Defaults to None (one
            device, the compiled loop above).

    >>> import keras
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((1, 1)), keras.layers.LSTM(4),
    ...                           keras.layers.Dense(3, activation="softmax")])
    >>> loop = TrainingLoop(model, jit_compile=False)
    >>> inputs = np.zeros((3, 1, 1), dtype="float32")
    >>> logs = loop.run_epoch(inputs, np.array([0, 1, 2]), shuffled_plan(3, 3, seed=0, epoch=0))
    >>> sorted(logs), loop.optimizer.iterations.numpy().item()
    (['accuracy', 'loss'], 1)
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        learning_rate: float = 0.001,
        jit_compile: bool = True,
        strategy: tf.distribute.Strategy | None = None,
    ) -> None:
        if not isinstance(model, keras.Model):
            raise parameter_error("TrainingLoop", "model", "a keras.Model", model)
        if not model.built or not getattr(model, "inputs", None):
            raise ConfigurationError(
                "TrainingLoop needs a built functional or Sequential model with a known "
                "input shape; start it with keras.Input(...)."
            )
        if (
            isinstance(learning_rate, bool)
            or not isinstance(learning_rate, (int, float))
            or not learning_rate > 0
        ):
            raise parameter_error("TrainingLoop", "learning_rate", "a float > 0", learning_rate)
        self.model = model
        self.learning_rate = float(learning_rate)
        self.strategy = strategy
        self._distributed = strategy is not None and strategy is not tf.distribute.get_strategy()
        # XLA inside strategy.run fails on CPU devices ("Trying to access resource ...
        # located in device CPU:1 from device CPU:0"): distributed steps run as a graph.
        self.jit_compile = bool(jit_compile) and not self._distributed
        self._stateful_layers = _stateful_rnn_layers(model)
        if self._distributed and self._stateful_layers:
            raise ConfigurationError(
                "TrainingLoop cannot distribute a model with stateful RNN layers: their state "
                "is one variable, not one per replica. Train long streams with "
                "seqkit.trainers.StreamTrainer(strategy=...), which gives each replica its own streams."
            )
        with strategy.scope() if self._distributed else contextlib.nullcontext():
            self.optimizer = keras.optimizers.Adam(learning_rate=self.learning_rate)
            self.optimizer.build(model.trainable_variables)
        self._state_variables = [v for layer in self._stateful_layers for v in layer.states]
        self._traces = 0
        self._windowing: tuple[int, Callable[[tf.Tensor], tf.Tensor]] | None = None
        self._train = tf.function(self._train_steps, jit_compile=self.jit_compile)
        self._evaluate = tf.function(self._evaluate_steps, jit_compile=self.jit_compile)
        self._distributed_train = tf.function(self._distributed_steps)

    @property
    def traces(self) -> int:
        """How many times a compiled function was traced (a retrace costs ~seconds)."""
        return self._traces

    # ----------------------------------------------------------------- compiled code
    def _batch(self, data: dict[str, tf.Tensor], rows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The inputs and targets of samples ``rows``: gathered, or cut and encoded."""
        if "sequence" not in data:
            return tf.gather(data["inputs"], rows), tf.gather(data["targets"], rows)
        window_length, encode = self._windowing
        starts = tf.gather(data["starts"], rows)
        positions = tf.expand_dims(starts, -1) + tf.range(window_length, dtype=starts.dtype)
        window_ids = tf.reshape(tf.gather(data["sequence"], positions), [-1, window_length])
        return encode(window_ids), tf.gather(data["sequence"], starts + window_length)

    def _train_steps(
        self,
        data: dict[str, tf.Tensor],
        indices: tf.Tensor,
        reset_rows: tf.Tensor,
        num_steps: tf.Tensor,
    ) -> tf.Tensor:
        """The first ``num_steps`` steps of a plan table; per-step (loss sum, correct, count).

        ``indices`` may hold more rows than ``num_steps`` (padding to a fixed capacity,
        so every chunk of epochs reuses one compiled function); those rows are not run
        and their records stay zero.
        """
        self._traces += 1
        model, optimizer = self.model, self.optimizer
        variables = model.trainable_variables
        records = tf.zeros([tf.shape(indices)[0], 3], tf.float32)
        for step in tf.range(num_steps):
            slots = indices[step]
            real = slots >= 0
            weights = tf.cast(real, tf.float32)
            keep = tf.expand_dims(tf.logical_not(reset_rows[step]), -1)
            for state in self._state_variables:
                state.assign(tf.where(keep, state.value, tf.zeros_like(state.value)))
            before = [tf.identity(state.value) for state in self._state_variables]
            rows = tf.maximum(slots, 0)
            batch_inputs, batch_targets = self._batch(data, rows)
            with tf.GradientTape() as tape:
                outputs = model(batch_inputs, training=True)
                cross_entropy = keras.losses.sparse_categorical_crossentropy(
                    batch_targets, outputs
                )
                count = tf.reduce_sum(weights)
                loss = tf.reduce_sum(cross_entropy * weights) / count
                if model.losses:
                    loss = loss + tf.add_n(model.losses)
            gradients = tape.gradient(loss, variables)
            optimizer.apply(gradients, variables)
            for state, old in zip(self._state_variables, before):
                state.assign(tf.where(tf.expand_dims(real, -1), state.value, old))
            correct = tf.cast(
                tf.equal(tf.argmax(outputs, axis=-1, output_type=tf.int32), batch_targets),
                tf.float32,
            )
            record = tf.stack([loss * count, tf.reduce_sum(correct * weights), count])
            records = tf.tensor_scatter_nd_update(
                records, tf.reshape(step, [1, 1]), tf.reshape(record, [1, 3])
            )
        return records

    def _replica_step(self, data: dict[str, tf.Tensor], slots: tf.Tensor, global_count: tf.Tensor) -> tf.Tensor:
        """One replica's share of a step: its slice of the batch, loss over the global count."""
        model = self.model
        variables = model.trainable_variables
        weights = tf.cast(slots >= 0, tf.float32)
        batch_inputs, batch_targets = self._batch(data, tf.maximum(slots, 0))
        replicas = float(self.strategy.num_replicas_in_sync)  # type: ignore[union-attr]
        with tf.GradientTape() as tape:
            outputs = model(batch_inputs, training=True)
            cross_entropy = keras.losses.sparse_categorical_crossentropy(batch_targets, outputs)
            loss = tf.reduce_sum(cross_entropy * weights) / global_count
            regularization = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
            loss = loss + regularization / replicas
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        correct = tf.cast(
            tf.equal(tf.argmax(outputs, axis=-1, output_type=tf.int32), batch_targets), tf.float32
        )
        count = tf.reduce_sum(weights)
        return tf.stack(
            [tf.reduce_sum(cross_entropy * weights) + regularization * count, tf.reduce_sum(correct * weights), count]
        )

    def _distributed_steps(self, data: dict[str, tf.Tensor], iterator: Any, num_steps: tf.Tensor) -> tf.Tensor:
        """An epoch under the strategy: every step through ``strategy.run``; (loss sum, correct, count)."""
        self._traces += 1
        strategy = self.strategy
        assert strategy is not None
        totals = tf.zeros([3], tf.float32)
        for _ in tf.range(num_steps):
            slots, global_count = next(iterator)
            per_replica = strategy.run(self._replica_step, args=(data, slots, global_count))
            totals += strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
        return totals

    def _distribute_plan(self, plan: EpochPlan) -> Any:
        """The plan as a distributed dataset: replica ``k`` gets columns ``k*b .. (k+1)*b - 1``.

        The batch is padded with empty slots to a multiple of the replicas, so any batch
        size splits (Keras ``fit`` under MirroredStrategy refuses uneven batches).
        """
        strategy = self.strategy
        assert strategy is not None
        replicas = strategy.num_replicas_in_sync
        per_replica = -(-plan.batch_size // replicas)
        indices = np.pad(plan.indices, ((0, 0), (0, per_replica * replicas - plan.batch_size)), constant_values=-1)
        counts = (plan.indices >= 0).sum(axis=1).astype(np.float32)

        def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
            local = context.num_replicas_in_sync // context.num_input_pipelines
            first = context.input_pipeline_id * local
            parts = [
                tf.data.Dataset.from_tensor_slices(
                    (indices[:, replica * per_replica : (replica + 1) * per_replica], counts)
                )
                for replica in range(first, first + local)
            ]
            if local == 1:
                return parts[0]
            return tf.data.Dataset.zip(tuple(parts)).flat_map(
                lambda *batches: tf.data.Dataset.from_tensor_slices(
                    tuple(tf.stack(component) for component in zip(*batches))
                )
            )

        return strategy.distribute_datasets_from_function(dataset_fn)

    def _evaluate_steps(
        self, inputs: tf.Tensor, targets: tf.Tensor, indices: tf.Tensor
    ) -> tf.Tensor:
        """Stateless forward passes over a plan; returns (loss sum, correct, count)."""
        self._traces += 1
        totals = tf.zeros([3], tf.float32)
        for step in tf.range(tf.shape(indices)[0]):
            slots = indices[step]
            weights = tf.cast(slots >= 0, tf.float32)
            rows = tf.maximum(slots, 0)
            batch_targets = tf.gather(targets, rows)
            outputs = self.model(tf.gather(inputs, rows), training=False)
            cross_entropy = keras.losses.sparse_categorical_crossentropy(
                batch_targets, outputs
            )
            correct = tf.cast(
                tf.equal(tf.argmax(outputs, axis=-1, output_type=tf.int32), batch_targets),
                tf.float32,
            )
            count = tf.reduce_sum(weights)
            if self.model.losses:
                cross_entropy = cross_entropy + tf.add_n(self.model.losses)
            totals += tf.stack(
                [
                    tf.reduce_sum(cross_entropy * weights),
                    tf.reduce_sum(correct * weights),
                    count,
                ]
            )
        return totals

    # ------------------------------------------------------------------- validation
    def _prepare(
        self, inputs: ArrayLike | WindowedInputs, targets: ArrayLike | None
    ) -> tuple[dict[str, tf.Tensor], int]:
        """Validate and convert the samples once; returns the tensors and n."""
        if isinstance(inputs, WindowedInputs):
            return self._prepare_windowed(inputs, targets)
        if targets is None:
            raise DataError(
                "targets are required with an input array; only WindowedInputs carry their own."
            )
        inputs = np.asarray(inputs)
        targets = np.asarray(targets)
        expected = tuple(self.model.inputs[0].shape[1:])
        if inputs.ndim != len(expected) + 1 or any(
            want is not None and got != want for got, want in zip(inputs.shape[1:], expected)
        ):
            raise DataError(
                f"inputs must have shape (samples, {', '.join(map(str, expected))}) to fit "
                f"the model's input; got {inputs.shape}. Lay the windows out with the "
                "layout the model was built for."
            )
        if targets.ndim != 1 or not np.issubdtype(targets.dtype, np.integer):
            raise DataError(
                f"targets must be a 1-D array of integer class ids; got shape "
                f"{targets.shape} and dtype {targets.dtype}. Pass ids, not one-hot rows "
                "(use targets.argmax(-1) on one-hot arrays)."
            )
        if inputs.shape[0] != targets.shape[0]:
            raise DataError(
                f"inputs and targets must hold the same number of samples; got "
                f"{inputs.shape[0]} inputs and {targets.shape[0]} targets."
            )
        if inputs.shape[0] == 0:
            raise DataError("inputs and targets are empty; give at least one sample.")
        classes = self.model.outputs[0].shape[-1]
        if targets.min() < 0 or (classes is not None and targets.max() >= classes):
            raise DataError(
                f"targets must be class ids in [0, {classes}); got values from "
                f"{int(targets.min())} to {int(targets.max())}. Build the model's output "
                "layer with as many units as the vocabulary has tokens."
            )
        if np.issubdtype(inputs.dtype, np.integer):
            converted = tf.constant(inputs, dtype=tf.int32)
        else:
            converted = tf.constant(inputs, dtype=tf.float32)
        data = {"inputs": converted, "targets": tf.constant(targets, dtype=tf.int32)}
        return data, int(inputs.shape[0])

    def _prepare_windowed(
        self, inputs: WindowedInputs, targets: ArrayLike | None
    ) -> tuple[dict[str, tf.Tensor], int]:
        if targets is not None:
            raise DataError(
                "WindowedInputs carry their targets (the id after each window); pass targets=None."
            )
        sequence = np.asarray(inputs.sequence)
        classes = self.model.outputs[0].shape[-1]
        if len(sequence) and (int(sequence.min()) < 0 or (classes is not None and int(sequence.max()) >= classes)):
            raise DataError(
                f"WindowedInputs.sequence must hold class ids in [0, {classes}); got values from "
                f"{int(sequence.min())} to {int(sequence.max())}."
            )
        windowing = (int(inputs.window_length), inputs.encode)
        if self._windowing is not None and self._windowing != windowing:
            # Another window length or encoder: the compiled functions must be traced anew.
            self._train = tf.function(self._train_steps, jit_compile=self.jit_compile)
            self._distributed_train = tf.function(self._distributed_steps)
        self._windowing = windowing
        data = {
            "sequence": tf.constant(sequence, dtype=tf.int32),
            "starts": tf.constant(np.asarray(inputs.starts), dtype=tf.int32),
        }
        return data, len(inputs)

    def _check_plan(self, plan: EpochPlan, num_samples: int) -> None:
        if not isinstance(plan, EpochPlan):
            raise DataError(
                f"a plan must be an EpochPlan; got {type(plan).__name__}. Build it with "
                "shuffled_plan() or EpochPlan(indices, reset_rows)."
            )
        highest = int(plan.indices.max())
        if highest >= num_samples:
            raise DataError(
                f"EpochPlan.indices must be < the number of samples {num_samples}; got "
                f"{highest}. Build the plan for these inputs."
            )
        fixed = self.model.inputs[0].shape[0]
        if fixed is not None and plan.batch_size != fixed:
            kind = "stateful " if self._stateful_layers else ""
            raise DataError(
                f"the plan's batch size {plan.batch_size} differs from the {kind}model's "
                f"fixed batch size {fixed}. Build the plan with batch_size={fixed}, or "
                f"rebuild the model with keras.Input(batch_shape=({plan.batch_size}, ...))."
            )

    # ------------------------------------------------------------------ public API
    def run_epoch(
        self, inputs: ArrayLike | WindowedInputs, targets: ArrayLike | None, plan: EpochPlan
    ) -> dict[str, float]:
        """Run every optimizer step of ``plan`` in one compiled call.

        Args:
            inputs: float ``(n, time_steps, features)`` or int ``(n, time_steps)`` (ids
                for an Embedding model); numpy or tensors. Or :class:`WindowedInputs`,
                cut and encoded per batch inside the compiled step.
            targets: int ``(n,)`` class ids; None with :class:`WindowedInputs`.
            plan: the epoch's :class:`EpochPlan`.

        Returns:
            ``{"loss": mean cross-entropy (plus any regularization, as Keras reports it),
            "accuracy": fraction correct}`` over the real samples, from the training
            forward passes (like Keras ``fit``'s running metrics: each sample is scored
            before its own update).
        """
        data, num_samples = self._prepare(inputs, targets)
        return self._run(data, num_samples, [plan])[0]

    def _run(
        self,
        data: dict[str, tf.Tensor],
        num_samples: int,
        plans: Sequence[EpochPlan],
        capacity: int = 0,
    ) -> list[dict[str, float]]:
        """Run ``plans`` back to back in one compiled call; one logs dict per plan.

        The step table is padded to ``capacity`` rows when it is shorter, so chunks of
        different lengths share one compiled function.
        """
        for plan in plans:
            self._check_plan(plan, num_samples)
        if self._distributed:
            logs = []
            for plan in plans:
                loss_sum, correct, count = self._distributed_train(
                    data, iter(self._distribute_plan(plan)), tf.constant(plan.steps, tf.int32)
                ).numpy()
                logs.append({"loss": float(loss_sum / count), "accuracy": float(correct / count)})
            return logs
        indices = np.concatenate([plan.indices for plan in plans])
        reset_rows = np.concatenate([plan.reset_rows for plan in plans])
        steps = indices.shape[0]
        if capacity > steps:
            indices = np.pad(indices, ((0, capacity - steps), (0, 0)), constant_values=-1)
            reset_rows = np.pad(reset_rows, ((0, capacity - steps), (0, 0)))
        records = self._train(
            data,
            tf.constant(indices),
            tf.constant(reset_rows),
            tf.constant(steps, tf.int32),
        ).numpy()
        logs = []
        start = 0
        for plan in plans:
            loss_sum, correct, count = records[start : start + plan.steps].sum(
                axis=0, dtype=np.float64
            )
            start += plan.steps
            logs.append({"loss": float(loss_sum / count), "accuracy": float(correct / count)})
        return logs

    def fit(
        self,
        inputs: ArrayLike | WindowedInputs,
        targets: ArrayLike | None,
        plans: Callable[[int], EpochPlan],
        *,
        epochs: int,
        initial_epoch: int = 0,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        epochs_per_call: int | None = None,
    ) -> dict[str, list[float]]:
        """Train epochs ``initial_epoch .. epochs - 1`` with few compiled calls.

        Drives Keras-protocol callbacks (``on_train_begin``, ``on_epoch_begin``,
        ``on_epoch_end(epoch, logs)``, ``on_train_end``) with ``callback.model`` set,
        and stops when a callback sets ``model.stop_training`` (e.g.
        :class:`keras.callbacks.EarlyStopping`). Callbacks that need
        ``model.optimizer`` (learning-rate schedulers) do not apply: the optimizer is
        :attr:`optimizer`.

        Several epochs can run in one compiled call (``epochs_per_call``), which is what
        makes one-step epochs (in-batch training) fast. The callbacks still see every
        epoch, in order, but only after its call returns, and a stop request takes
        effect at the end of the call. The default keeps that invisible: one epoch per
        call when callbacks are given, otherwise about 512 steps per call.

        Args:
            inputs: see :meth:`run_epoch`; converted to tensors once.
            targets: see :meth:`run_epoch`.
            plans: ``plans(epoch)`` returns the :class:`EpochPlan` of that epoch; it is
                called once per epoch, in order.
            epochs: index of the epoch to stop before (Keras meaning); an int >= 0.
            initial_epoch: epoch to start at, for resumed runs. Defaults to 0.
            callbacks: Keras callbacks. Defaults to none.
            epochs_per_call: epochs per compiled call; an int >= 1. Defaults to None
                (automatic, see above).

        Returns:
            The history, ``{"loss": [...], "accuracy": [...]}``, one entry per epoch run.
        """
        for name, value, low in (
            ("epochs", epochs, 0),
            ("initial_epoch", initial_epoch, 0),
            ("epochs_per_call", 1 if epochs_per_call is None else epochs_per_call, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise parameter_error("TrainingLoop.fit", name, f"an int >= {low}", value)
        data, num_samples = self._prepare(inputs, targets)
        # Keras's CallbackList costs ~40 us per event even when empty: skip it then.
        callback_list: keras.callbacks.CallbackList | _NoCallbacks = _NoCallbacks()
        if callbacks:
            callback_list = keras.callbacks.CallbackList(
                list(callbacks), model=self.model, epochs=epochs, verbose=0
            )
        history: dict[str, list[float]] = {"loss": [], "accuracy": []}
        self.model.stop_training = False
        logs: dict[str, float] = {}
        capacity = 0
        per_call = epochs_per_call
        callback_list.on_train_begin()
        epoch = initial_epoch
        while epoch < epochs and not self.model.stop_training:
            first = plans(epoch)
            if per_call is None:
                per_call = 1 if callbacks else auto_epochs_per_call(first.steps)
            chunk = [first] + [plans(e) for e in range(epoch + 1, min(epoch + per_call, epochs))]
            callback_list.on_epoch_begin(epoch)
            chunk_logs = self._run(data, num_samples, chunk, capacity)
            capacity = max(capacity, sum(plan.steps for plan in chunk))
            for offset, logs in enumerate(chunk_logs):
                if offset:
                    callback_list.on_epoch_begin(epoch + offset)
                history["loss"].append(logs["loss"])
                history["accuracy"].append(logs["accuracy"])
                callback_list.on_epoch_end(epoch + offset, dict(logs))
            epoch += len(chunk)
        callback_list.on_train_end(dict(logs))
        return history

    def evaluate(
        self, inputs: ArrayLike, targets: ArrayLike, *, batch_size: int | None = None
    ) -> dict[str, float]:
        """Mean cross-entropy and accuracy of the model, stateless, in one compiled call.

        Stateful models are refused: their layers accept only their fixed batch size
        and a forward pass would advance their state. Evaluate those by running the
        streams through the model (or a batch-1 twin) as the stateful trainer does.

        Args:
            inputs: see :meth:`run_epoch`.
            targets: see :meth:`run_epoch`.
            batch_size: samples per forward pass. Defaults to None: all at once.

        Returns:
            ``{"loss": ..., "accuracy": ...}`` over all samples.

        >>> import keras
        >>> model = keras.Sequential([keras.Input((1, 1)), keras.layers.LSTM(2),
        ...                           keras.layers.Dense(2, activation="softmax")])
        >>> loop = TrainingLoop(model, jit_compile=False)
        >>> logs = loop.evaluate(np.zeros((5, 1, 1)), np.array([0, 1, 0, 1, 1]))
        >>> 0.0 <= logs["accuracy"] <= 1.0
        True
        """
        if self._stateful_layers:
            raise DataError(
                "TrainingLoop.evaluate is stateless and this model has stateful RNN "
                "layers; evaluate it by running its streams in order at its fixed batch "
                "size (or through a batch-1 twin with the trained weights)."
            )
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise parameter_error(
                "TrainingLoop.evaluate", "batch_size", "None or an int >= 1", batch_size
            )
        if isinstance(inputs, WindowedInputs):
            raise DataError("TrainingLoop.evaluate takes input arrays; materialize the windows first.")
        data, num_samples = self._prepare(inputs, targets)
        inputs, targets = data["inputs"], data["targets"]
        if batch_size is None:
            batch_size = num_samples
        plan = shuffled_plan(num_samples, batch_size, seed=0, epoch=0, shuffle=False)
        self._check_plan(plan, num_samples)
        loss_sum, correct, count = self._evaluate(
            inputs, targets, tf.constant(plan.indices)
        ).numpy()
        return {"loss": float(loss_sum / count), "accuracy": float(correct / count)}


class StreamLoop:
    """Truncated BPTT over parallel streams, under any ``tf.distribute`` strategy.

    The stream counterpart of :class:`TrainingLoop`: each step reads a segment of ``T``
    ids per stream, predicts the next id at every step (``return_sequences``), and carries
    the LSTM state to the next segment of the same stream. The model and the Adam
    optimizer are created under ``strategy.scope()``; each step runs through
    ``strategy.run`` on batches from ``strategy.distribute_datasets_from_function``, as
    TensorFlow's custom-training-loop guide does; the loss is the cross-entropy summed
    over a replica's rows divided by the *global* ``B * T``, so the all-reduced gradient
    equals one device's at the same global batch. The state lives in per-replica
    (``ON_READ``) variables of the replica's own rows: each replica owns its streams.

    One compiled call runs one epoch (a ``tf.range`` loop over the distributed iterator).
    With the default strategy the step is compiled with XLA; under a distributing
    strategy it runs as a plain graph: XLA inside ``strategy.run`` fails on CPU devices
    ("Trying to access resource ... located in device CPU:1 from device CPU:0").

    Args:
        build: builds the network (:func:`seqkit.models.build_stream_model`): inputs
            ``[ids + 1, *states]``, outputs ``[logits, *states]``.
        state_sizes: the width of each state input, in order.
        streams: ``B``, the global number of streams; a multiple of the replicas.
        strategy: a ``tf.distribute.Strategy``. Defaults to the default strategy.
        learning_rate: Adam's learning rate. Defaults to 0.001.
        jit_compile: compile the step with XLA. Defaults to None: only under the
            default strategy.
    """

    def __init__(
        self,
        build: Callable[[], keras.Model],
        *,
        state_sizes: Sequence[int],
        streams: int,
        strategy: tf.distribute.Strategy | None = None,
        learning_rate: float = 0.001,
        jit_compile: bool | None = None,
    ) -> None:
        self.strategy = strategy or tf.distribute.get_strategy()
        replicas = self.strategy.num_replicas_in_sync
        if isinstance(streams, bool) or not isinstance(streams, (int, np.integer)) or streams < 1 or streams % replicas:
            raise parameter_error(
                "StreamLoop", "streams", f"an int >= 1 divisible by the {replicas} replicas", streams
            )
        self.streams = int(streams)
        self.streams_per_replica = self.streams // replicas
        distributed = replicas > 1 or tf.distribute.has_strategy() or self.strategy is not tf.distribute.get_strategy()
        self.jit_compile = (not distributed) if jit_compile is None else bool(jit_compile)
        with self.strategy.scope():
            self.model = build()
            self.optimizer = keras.optimizers.Adam(learning_rate=float(learning_rate))
            self.optimizer.build(self.model.trainable_variables)
            self.states = [
                tf.Variable(
                    tf.zeros([self.streams_per_replica, int(size)]),
                    trainable=False,
                    synchronization=tf.VariableSynchronization.ON_READ,
                    aggregation=tf.VariableAggregation.SUM,
                    name=f"stream_state_{number}",
                )
                for number, size in enumerate(state_sizes)
            ]
        self._replicas = replicas
        self._step_function = tf.function(self._step, jit_compile=True) if self.jit_compile else self._step
        self._epoch = tf.function(self._epoch_steps)

    def _step(self, inputs: tf.Tensor, targets: tf.Tensor, reset: tf.Tensor) -> tf.Tensor:
        """One replica's step; returns its (cross-entropy sum, correct, count)."""
        keep = tf.expand_dims(tf.cast(tf.logical_not(reset), tf.float32), -1)
        states = [state.read_value() * keep for state in self.states]
        variables = self.model.trainable_variables
        global_count = float(self.streams) * tf.cast(tf.shape(targets)[1], tf.float32)
        with tf.GradientTape() as tape:
            logits, *new_states = self.model([inputs + 1, *states], training=True)
            cross_entropy = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
            loss = tf.reduce_sum(cross_entropy) / global_count
            if self.model.losses:
                loss = loss + tf.add_n(self.model.losses) / float(self._replicas)
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply(gradients, variables)
        for state, value in zip(self.states, new_states):
            state.assign(value)
        correct = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), targets)
        return tf.stack(
            [
                tf.reduce_sum(cross_entropy),
                tf.reduce_sum(tf.cast(correct, tf.float32)),
                tf.cast(tf.size(targets), tf.float32),
            ]
        )

    def _epoch_steps(self, iterator: Any, steps: tf.Tensor) -> tf.Tensor:
        totals = tf.zeros([3], tf.float32)
        for _ in tf.range(steps):
            inputs, targets, reset = next(iterator)
            per_replica = self.strategy.run(self._step_function, args=(inputs, targets, reset))
            totals += self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
        return totals

    def distribute(self, dataset_for_rows: Callable[[Sequence[int]], tf.data.Dataset]) -> Any:
        """A distributed dataset: each replica gets the batches of its own streams.

        Args:
            dataset_for_rows: ``rows -> tf.data.Dataset`` of one epoch of ``(inputs,
                targets, reset)`` batches for those global stream rows.
        """
        per_replica = self.streams_per_replica

        def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
            local = context.num_replicas_in_sync // context.num_input_pipelines
            first = context.input_pipeline_id * local
            parts = [
                dataset_for_rows(range(replica * per_replica, (replica + 1) * per_replica))
                for replica in range(first, first + local)
            ]
            if local == 1:
                dataset = parts[0]
            else:  # consecutive elements go to consecutive local replicas
                dataset = tf.data.Dataset.zip(tuple(parts)).flat_map(
                    lambda *batches: tf.data.Dataset.from_tensor_slices(
                        tuple(tf.stack(component) for component in zip(*batches))
                    )
                )
            return dataset.repeat().prefetch(tf.data.AUTOTUNE)

        return self.strategy.distribute_datasets_from_function(dataset_fn)

    def fit(
        self,
        dataset_for_rows: Callable[[Sequence[int]], tf.data.Dataset],
        *,
        steps: int,
        epochs: int,
        callbacks: Sequence[keras.callbacks.Callback] = (),
    ) -> dict[str, list[float]]:
        """Train ``epochs`` epochs of ``steps`` steps; returns ``{"loss", "accuracy", "seconds"}``.

        Callbacks follow the Keras protocol, one ``on_epoch_end`` per epoch (a callback
        setting ``model.stop_training`` stops after that epoch).
        """
        import time

        iterator = iter(self.distribute(dataset_for_rows))
        callback_list: keras.callbacks.CallbackList | _NoCallbacks = _NoCallbacks()
        if callbacks:
            callback_list = keras.callbacks.CallbackList(list(callbacks), model=self.model, epochs=epochs, verbose=0)
        history: dict[str, list[float]] = {"loss": [], "accuracy": [], "seconds": []}
        self.model.stop_training = False
        logs: dict[str, float] = {}
        callback_list.on_train_begin()
        for epoch in range(epochs):
            if self.model.stop_training:
                break
            callback_list.on_epoch_begin(epoch)
            started = time.perf_counter()
            loss_sum, correct, count = self._epoch(iterator, tf.constant(steps, tf.int32)).numpy()
            history["seconds"].append(time.perf_counter() - started)
            logs = {"loss": float(loss_sum / count), "accuracy": float(correct / count)}
            history["loss"].append(logs["loss"])
            history["accuracy"].append(logs["accuracy"])
            callback_list.on_epoch_end(epoch, dict(logs))
        callback_list.on_train_end(dict(logs))
        return history
