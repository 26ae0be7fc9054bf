"""The compiled loops: every way of running the one train step.

- :class:`TrainingLoop` trains a window model from an :class:`~seqkit.engine.plans.EpochPlan`:
  one compiled call runs every optimizer step of an epoch (or of several), with XLA where
  the :mod:`device policy <seqkit.engine.policy>` says so; stateful rows are zeroed and
  kept in-graph by assignment. Under a distributing ``tf.distribute`` strategy each step
  runs through ``strategy.run``, replica ``k`` taking its slice of the batch.
- :class:`StreamLoop` trains truncated BPTT over parallel streams, the LSTM state an input
  and an output of the network, kept per replica.

Both call :func:`seqkit.engine.step.train_step` for the step itself and
:func:`seqkit.engine.epochs.run_epochs` for the callbacks, and attach their optimizer to
the network (``network.optimizer``), as Keras's ``compile`` does.

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
(['accuracy', 'loss', 'seconds'], 3)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

from seqkit.checks import check_float, check_int, check_optional_int
from seqkit.engine.epochs import EpochLogs, run_epochs
from seqkit.engine.kernel import stream_forward, supports_kernel
from seqkit.engine.plans import EpochPlan, StreamSegments, WindowedInputs, shuffled_plan
from seqkit.engine.step import evaluate_step, gradient_step, train_step
from seqkit.errors import ConfigurationError, DataError, parameter_error
from seqkit.models import recurrent_layers

__all__ = ["InMemoryStreams", "StreamLoop", "TrainingLoop", "make_optimizer", "stateful_batch_size"]


def make_optimizer(network: keras.Model, learning_rate: float, *, loss_scale: bool = False) -> keras.optimizers.Optimizer:
    """Adam for ``network``, built, attached as ``network.optimizer`` (as ``compile`` does).

    Args:
        network: the model whose trainable variables it updates.
        learning_rate: Adam's learning rate.
        loss_scale: wrap it in a :class:`keras.optimizers.LossScaleOptimizer` (for
            ``mixed_float16``). Defaults to False.
    """
    optimizer: keras.optimizers.Optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    if loss_scale:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(network.trainable_variables)
    network.optimizer = optimizer
    return optimizer


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


def _is_distributing(strategy: tf.distribute.Strategy | None) -> bool:
    """True when steps must go through ``strategy.run`` (a strategy other than the default one)."""
    if strategy is None:
        return False
    return strategy.num_replicas_in_sync > 1 or strategy is not tf.distribute.get_strategy()


def _logs(record: Sequence[float]) -> EpochLogs:
    loss_sum, correct, count = record
    return {"loss": float(loss_sum / count), "accuracy": float(correct / count)}


def _distributed_dataset(
    strategy: tf.distribute.Strategy, replica_dataset: Callable[[int], tf.data.Dataset]
) -> Any:
    """A distributed dataset whose replica ``k`` reads ``replica_dataset(k)``.

    Each input pipeline serves its local replicas; consecutive elements of a pipeline go
    to consecutive local replicas, as ``distribute_datasets_from_function`` deals them.
    """

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        local = context.num_replicas_in_sync // context.num_input_pipelines
        first = context.input_pipeline_id * local
        parts = [replica_dataset(replica) for replica in range(first, first + local)]
        if local == 1:
            return parts[0]
        return tf.data.Dataset.zip(tuple(parts)).flat_map(
            lambda *batches: tf.data.Dataset.from_tensor_slices(
                tuple(tf.stack(component) for component in zip(*batches))
            )
        )

    return strategy.distribute_datasets_from_function(dataset_fn)


class TrainingLoop:
    """Train a Keras classifier with one compiled TensorFlow call per epoch (or per many).

    The loop owns a :class:`keras.optimizers.Adam` and minimizes the sparse categorical
    cross-entropy of the model's softmax output (the same quantity as the categorical
    cross-entropy on one-hot targets), plus the model's regularization losses. Each step
    of a plan: zero the planned state rows of every stateful RNN layer, gather the batch,
    run :func:`~seqkit.engine.step.train_step`, and keep the old state of empty slots.
    The result equals Keras ``fit`` on the same batches.

    Stateful models must be built with a static batch size,
    ``keras.Input(batch_shape=(batch, time_steps, features))``, and every plan must use
    that batch size. Their state lives in the layers' variables and carries over from
    step to step and from epoch to epoch until a plan resets it.

    Args:
        model: a built Keras model whose output is a softmax over classes, shape
            ``(batch, classes)``.
        learning_rate: Adam's learning rate. Defaults to 0.001 (Keras's default).
        jit_compile: compile the steps with XLA. Defaults to True (what the device
            policy picks on a CPU). Must be False under a distributing strategy.
        strategy: a ``tf.distribute.Strategy`` to train under, the model built in its
            ``scope()``; each step runs through ``strategy.run``, replica ``k`` taking
            its slice of the batch (padded with empty slots to split evenly), the loss
            divided by the global count. Stateless models only. Defaults to None (one
            device, the compiled loop above).
        loss_scale: scale the loss for ``mixed_float16`` (a ``LossScaleOptimizer``).
            Defaults to False.

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
        loss_scale: bool = False,
    ) -> None:
        if not isinstance(model, keras.Model):
            raise parameter_error("TrainingLoop", "model", "a keras.Model", model)
        if not model.built or not getattr(model, "inputs", None):
            raise ConfigurationError(
                "TrainingLoop needs a built functional or Sequential model with a known "
                "input shape; start it with keras.Input(...)."
            )
        self.learning_rate = check_float("TrainingLoop", "learning_rate", learning_rate, low=0.0, low_inclusive=False)
        self.model = model
        self.strategy = strategy
        self.distributed = _is_distributing(strategy)
        if self.distributed and jit_compile:
            raise ConfigurationError(
                "TrainingLoop cannot compile distributed steps with XLA (jit_compile=True): XLA "
                "inside strategy.run fails on CPU devices. Pass jit_compile=False."
            )
        self.jit_compile = bool(jit_compile)
        stateful = recurrent_layers(model)
        if self.distributed and stateful:
            raise ConfigurationError(
                "TrainingLoop cannot distribute a model with stateful RNN layers: their state "
                "is one variable, not one per replica. Train long streams with "
                "seqkit.trainers.StreamTrainer(strategy=...), which gives each replica its own streams."
            )
        with strategy.scope() if self.distributed else contextlib.nullcontext():
            self.optimizer = make_optimizer(model, self.learning_rate, loss_scale=loss_scale)
        self.state_variables: list[Any] = [variable for layer in stateful for variable in layer.states]
        """The recurrent state variables of the model's stateful layers (checkpoints save them)."""
        self._traces = 0
        self._windowing: tuple[int, Callable[[tf.Tensor], tf.Tensor]] | None = None
        self._compile()

    def _compile(self) -> None:
        self._train = tf.function(self._plan_steps, jit_compile=self.jit_compile)
        self._evaluate = tf.function(self._evaluate_plan, jit_compile=self.jit_compile)
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
        assert self._windowing is not None
        window_length, encode = self._windowing
        starts = tf.gather(data["starts"], rows)
        positions = tf.expand_dims(starts, -1) + tf.range(window_length, dtype=starts.dtype)
        window_ids = tf.reshape(tf.gather(data["sequence"], positions), [-1, window_length])
        return encode(window_ids), tf.gather(data["sequence"], starts + window_length)

    def _plan_steps(
        self, data: dict[str, tf.Tensor], indices: tf.Tensor, reset_rows: tf.Tensor, num_steps: tf.Tensor
    ) -> tf.Tensor:
        """The first ``num_steps`` steps of a plan table; per-step records ``(steps, 3)``.

        ``indices`` may hold more rows than ``num_steps`` (padding to a fixed capacity,
        so every chunk of epochs reuses one compiled function); those rows are not run
        and their records stay zero.
        """
        self._traces += 1
        records = tf.zeros([tf.shape(indices)[0], 3], tf.float32)
        for step in tf.range(num_steps):
            record = self._plan_step(
                data, indices[step], reset_rows[step],
                lambda inputs, targets, weights: train_step(self.model, self.optimizer, inputs, targets, weights)[1],
            )
            records = tf.tensor_scatter_nd_update(records, tf.reshape(step, [1, 1]), tf.reshape(record, [1, 3]))
        return records

    def _plan_step(
        self,
        data: dict[str, tf.Tensor],
        slots: tf.Tensor,
        reset_row: tf.Tensor,
        run: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor],
    ) -> tf.Tensor:
        """One step of a plan around ``run(inputs, targets, weights) -> record``.

        Zero the stateful rows the plan resets, gather (or cut and encode) the batch, run
        the step, then give the empty slots (weight 0) their state from before the step.
        """
        real = slots >= 0
        keep = tf.expand_dims(tf.logical_not(reset_row), -1)
        for state in self.state_variables:
            state.assign(tf.where(keep, state.value, tf.zeros_like(state.value)))
        before = [tf.identity(state.value) for state in self.state_variables]
        batch_inputs, batch_targets = self._batch(data, tf.maximum(slots, 0))
        record = run(batch_inputs, batch_targets, tf.cast(real, tf.float32))
        for state, old in zip(self.state_variables, before):
            state.assign(tf.where(tf.expand_dims(real, -1), state.value, old))
        return record

    def _replica_step(self, data: dict[str, tf.Tensor], slots: tf.Tensor, global_count: tf.Tensor) -> tf.Tensor:
        """One replica's share of a step: its slice of the batch, loss over the global count."""
        assert self.strategy is not None
        batch_inputs, batch_targets = self._batch(data, tf.maximum(slots, 0))
        _, record = train_step(
            self.model, self.optimizer, batch_inputs, batch_targets, tf.cast(slots >= 0, tf.float32),
            denominator=global_count, regularization_scale=1.0 / self.strategy.num_replicas_in_sync,
        )
        return record

    def _distributed_steps(self, data: dict[str, tf.Tensor], iterator: Any, num_steps: tf.Tensor) -> tf.Tensor:
        """An epoch under the strategy: every step through ``strategy.run``; the summed record."""
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
        return _distributed_dataset(
            strategy,
            lambda replica: tf.data.Dataset.from_tensor_slices(
                (indices[:, replica * per_replica : (replica + 1) * per_replica], counts)
            ),
        )

    def _evaluate_plan(self, data: dict[str, tf.Tensor], indices: tf.Tensor, reset_rows: tf.Tensor) -> tf.Tensor:
        """Forward passes over a plan without training; the summed record.

        A stateful model's state goes through the plan as in training (zeroed where the
        plan says, kept for empty slots) and is put back as it was afterwards, so that
        evaluating between epochs leaves training exactly where it was.
        """
        self._traces += 1
        saved = [tf.identity(state.value) for state in self.state_variables]
        totals = tf.zeros([3], tf.float32)
        for step in tf.range(tf.shape(indices)[0]):
            totals += self._plan_step(
                data, indices[step], reset_rows[step],
                lambda inputs, targets, weights: evaluate_step(self.model, inputs, targets, weights)[1],
            )
        for state, value in zip(self.state_variables, saved):
            state.assign(value)
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
        self._check_classes("targets", targets)
        dtype = tf.int32 if np.issubdtype(inputs.dtype, np.integer) else tf.float32
        data = {"inputs": tf.constant(inputs, dtype=dtype), "targets": tf.constant(targets, dtype=tf.int32)}
        return data, int(inputs.shape[0])

    def _check_classes(self, what: str, ids: np.ndarray) -> None:
        classes = self.model.outputs[0].shape[-1]
        if len(ids) and (int(ids.min()) < 0 or (classes is not None and int(ids.max()) >= classes)):
            raise DataError(
                f"{what} must be class ids in [0, {classes}); got values from {int(ids.min())} to "
                f"{int(ids.max())}. Build the model's output layer with as many units as the "
                "vocabulary has tokens."
            )

    def _prepare_windowed(
        self, inputs: WindowedInputs, targets: ArrayLike | None
    ) -> tuple[dict[str, tf.Tensor], int]:
        if targets is not None:
            raise DataError(
                "WindowedInputs carry their targets (the id after each window); pass targets=None."
            )
        sequence = np.asarray(inputs.sequence)
        self._check_classes("WindowedInputs.sequence", sequence)
        windowing = (int(inputs.window_length), inputs.encode)
        if self._windowing is not None and self._windowing != windowing:
            self._compile()  # another window length or encoder: trace anew
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
            kind = "stateful " if self.state_variables else ""
            raise DataError(
                f"the plan's batch size {plan.batch_size} differs from the {kind}model's "
                f"fixed batch size {fixed}. Build the plan with batch_size={fixed}, or "
                f"rebuild the model with keras.Input(batch_shape=({plan.batch_size}, ...))."
            )

    # ------------------------------------------------------------------ public API
    def run_epoch(
        self, inputs: ArrayLike | WindowedInputs, targets: ArrayLike | None, plan: EpochPlan
    ) -> EpochLogs:
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
        self, data: dict[str, tf.Tensor], num_samples: int, plans: Sequence[EpochPlan], capacity: int = 0
    ) -> list[EpochLogs]:
        """Run ``plans`` back to back in one compiled call; one logs dict per plan.

        The step table is padded to ``capacity`` rows when it is shorter, so chunks of
        different lengths share one compiled function.
        """
        for plan in plans:
            self._check_plan(plan, num_samples)
        if self.distributed:
            return [
                _logs(
                    self._distributed_train(
                        data, iter(self._distribute_plan(plan)), tf.constant(plan.steps, tf.int32)
                    ).numpy()
                )
                for plan in plans
            ]
        indices = np.concatenate([plan.indices for plan in plans])
        reset_rows = np.concatenate([plan.reset_rows for plan in plans])
        steps = indices.shape[0]
        if capacity > steps:
            indices = np.pad(indices, ((0, capacity - steps), (0, 0)), constant_values=-1)
            reset_rows = np.pad(reset_rows, ((0, capacity - steps), (0, 0)))
        records = self._train(
            data, tf.constant(indices), tf.constant(reset_rows), tf.constant(steps, tf.int32)
        ).numpy()
        logs, start = [], 0
        for plan in plans:
            logs.append(_logs(records[start : start + plan.steps].sum(axis=0, dtype=np.float64)))
            start += plan.steps
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
        verbose: int = 0,
        epochs_per_call: int | None = None,
        validation: tuple[ArrayLike | WindowedInputs, ArrayLike | None, EpochPlan | None] | None = None,
    ) -> dict[str, list[float]]:
        """Train epochs ``initial_epoch .. epochs - 1`` with few compiled calls.

        Callbacks are driven as under ``model.fit`` (:func:`seqkit.engine.epochs.run_epochs`).
        With ``validation``, every epoch is followed by :meth:`evaluate` on it, and its
        ``val_loss`` and ``val_accuracy`` join the epoch's logs (one epoch per call then).

        Args:
            inputs: see :meth:`run_epoch`; converted to tensors once.
            targets: see :meth:`run_epoch`.
            plans: ``plans(epoch)`` returns the :class:`EpochPlan` of that epoch; it is
                called once per epoch, in order.
            epochs: index of the epoch to stop before (Keras meaning); an int >= 0.
            initial_epoch: epoch to start at, for resumed runs. Defaults to 0.
            callbacks: Keras callbacks. Defaults to none.
            verbose: 0 silent, 1 Keras's progress bar, 2 one line per epoch. Defaults to 0.
            epochs_per_call: epochs per compiled call; an int >= 1. Defaults to None
                (about 512 steps per call when every callback only watches, else 1).
            validation: held-out ``(inputs, targets, plan)`` as :meth:`evaluate` takes
                them. Defaults to None.

        Returns:
            The history, ``{"loss": [...], "accuracy": [...], "seconds": [...]}`` (and
            ``val_loss``, ``val_accuracy``), one entry per epoch run.
        """
        check_int("TrainingLoop.fit", "epochs", epochs, minimum=0)
        check_int("TrainingLoop.fit", "initial_epoch", initial_epoch, minimum=0)
        check_optional_int("TrainingLoop.fit", "epochs_per_call", epochs_per_call)
        data, num_samples = self._prepare(inputs, targets)
        held_out = None
        if validation is not None:
            held_out = (*self._prepare(validation[0], validation[1]), validation[2])
            epochs_per_call = 1
        capacity = 0

        def run_call(first: int, count: int) -> list[EpochLogs]:
            nonlocal capacity
            chunk = [plans(epoch) for epoch in range(first, first + count)]
            logs = self._run(data, num_samples, chunk, capacity)
            capacity = max(capacity, sum(plan.steps for plan in chunk))
            if held_out is not None:
                scores = self._evaluate_prepared(*held_out)
                logs[-1].update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            return logs

        return run_epochs(
            self.model, run_call, epochs=epochs, steps_per_epoch=plans(initial_epoch).steps,
            initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose, epochs_per_call=epochs_per_call,
        )

    def evaluate(
        self,
        inputs: ArrayLike | WindowedInputs,
        targets: ArrayLike | None,
        plan: EpochPlan | None = None,
        *,
        batch_size: int | None = None,
    ) -> EpochLogs:
        """Mean cross-entropy and accuracy of the model on samples, without training, in one call.

        Stateless models read the samples in order, ``batch_size`` at a time. A stateful
        model reads them as ``plan`` lays them out (its fixed batch of streams, the rows
        zeroed where the plan says), from a zero state; its training state is put back
        afterwards.

        Args:
            inputs: see :meth:`run_epoch` (arrays or :class:`WindowedInputs`).
            targets: see :meth:`run_epoch`.
            plan: the order to read the samples in. Defaults to None: in order, in
                batches of ``batch_size``; a stateful model needs a plan.
            batch_size: samples per forward pass without a plan. Defaults to None: all
                at once, up to 4096.

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
        data, num_samples = self._prepare(inputs, targets)
        return self._evaluate_prepared(data, num_samples, plan, batch_size)

    def _evaluate_prepared(
        self, data: dict[str, tf.Tensor], num_samples: int, plan: EpochPlan | None, batch_size: int | None = None
    ) -> EpochLogs:
        batch_size = check_optional_int("TrainingLoop.evaluate", "batch_size", batch_size)
        if plan is None:
            if self.state_variables:
                raise DataError(
                    "TrainingLoop.evaluate needs a plan for a model with stateful RNN layers: the "
                    "samples as its fixed batch of streams (seqkit.engine.stream_indices)."
                )
            plan = shuffled_plan(num_samples, batch_size or min(num_samples, 4096), seed=0, epoch=0, shuffle=False)
        self._check_plan(plan, num_samples)
        indices, reset_rows = plan.indices, plan.reset_rows
        if self.state_variables:  # from a zero state, as a fresh reading
            reset_rows = reset_rows.copy()
            reset_rows[0] = True
        return _logs(self._evaluate(data, tf.constant(indices), tf.constant(reset_rows)).numpy())


def _sum_gradients(parts: Sequence[tf.Tensor | tf.IndexedSlices]) -> tf.Tensor | tf.IndexedSlices:
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


class InMemoryStreams(NamedTuple):
    """An epoch of stream batches as arrays, for :meth:`StreamLoop.fit` to read in its compiled program.

    Attributes:
        ids: int32 ``(N,)``: the corpus's ids.
        starts: int32 ``(steps, B)``: where each stream's segment of each step starts.
        offsets: int32 ``(T + 1,)``: ``0 .. T``, a segment and the id after it.
        resets: bool ``(steps, B)``: zero the row's state before the step.
    """

    ids: np.ndarray
    starts: np.ndarray
    offsets: np.ndarray
    resets: np.ndarray


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

    Args:
        build: builds the network (:func:`seqkit.models.build_stream_model`): inputs
            ``[ids + 1, *states]``, outputs ``[logits, *states]``.
        state_sizes: the width of each state input, in order.
        streams: ``B``, the global number of streams; a multiple of the replicas.
        strategy: a ``tf.distribute.Strategy``. Defaults to the default strategy.
        learning_rate: Adam's learning rate. Defaults to 0.001.
        jit_compile: compile the step with XLA. Defaults to True; must be False under a
            distributing strategy.
        loss_scale: scale the loss for ``mixed_float16``. Defaults to False.
        kernel: train and evaluate through seqkit's LSTM kernel
            (:mod:`seqkit.engine.kernel`) instead of the Keras layers' own computation,
            with the same weights. Defaults to False.
        shards: split each step's streams into this many slices whose gradients are
            computed by separate compiled programs, which TensorFlow runs at once (one
            per core), then summed and applied once: the same update as one program,
            up to float rounding (with dropout, each shard draws its own masks from the
            layers' shared seed generator, so the shards run one after the other).
            Epochs from memory only (``fit(in_memory=...)``, one replica); the
            ``tf.data`` path runs one program per step. Defaults to 1.

    Raises:
        ConfigurationError: ``kernel=True`` for a network the kernel cannot compute
            (mixed precision, non-default activations).
    """

    def __init__(
        self,
        build: Callable[[], keras.Model],
        *,
        state_sizes: Sequence[int],
        streams: int,
        strategy: tf.distribute.Strategy | None = None,
        learning_rate: float = 0.001,
        jit_compile: bool = True,
        loss_scale: bool = False,
        kernel: bool = False,
        shards: int = 1,
    ) -> None:
        self.strategy = strategy or tf.distribute.get_strategy()
        replicas = self.strategy.num_replicas_in_sync
        if check_int("StreamLoop", "streams", streams) % replicas:
            raise parameter_error(
                "StreamLoop", "streams", f"an int >= 1 divisible by the {replicas} replicas", streams
            )
        self.streams = int(streams)
        self.streams_per_replica = self.streams // replicas
        if self.streams % check_int("StreamLoop", "shards", shards):
            raise parameter_error("StreamLoop", "shards", f"an int >= 1 that divides the {self.streams} streams", shards)
        self.shards = int(shards)
        distributed = _is_distributing(self.strategy) or tf.distribute.has_strategy()
        if distributed and jit_compile:
            raise ConfigurationError(
                "StreamLoop cannot compile distributed steps with XLA (jit_compile=True): XLA "
                "inside strategy.run fails on CPU devices. Pass jit_compile=False."
            )
        self.jit_compile = bool(jit_compile)
        with self.strategy.scope():
            self.model = build()
            self.optimizer = make_optimizer(self.model, float(learning_rate), loss_scale=loss_scale)
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
        if kernel and not supports_kernel(self.model):
            raise ConfigurationError(
                "StreamLoop cannot train this network with seqkit's LSTM kernel (kernel=True): the kernel "
                "computes float32 LSTMs with Keras's default activations only. Pass kernel=False."
            )
        self.kernel = bool(kernel)
        self._forward = (lambda inputs, training: stream_forward(self.model, inputs, training=training)) if kernel else None
        self._replicas = replicas
        self._state_sizes = [int(size) for size in state_sizes]
        self._step_function = tf.function(self._step, jit_compile=True) if self.jit_compile else self._step
        self._epoch = tf.function(self._epoch_steps)
        # With shards, the epoch is a plain graph whose steps call the compiled shard programs,
        # so that the executor can run them at once; XLA would run them one after the other.
        self._memory_epoch = tf.function(self._memory_epoch_steps, jit_compile=self.jit_compile and self.shards == 1)
        self._shard_function = tf.function(self._shard_gradients, jit_compile=self.jit_compile)
        self._apply_function = tf.function(self._apply, jit_compile=self.jit_compile)
        self._evaluate = tf.function(self._evaluate_segments, jit_compile=self.jit_compile)

    def _step(self, inputs: tf.Tensor, targets: tf.Tensor, reset: tf.Tensor) -> tf.Tensor:
        """One replica's step on its streams; returns its record."""
        keep = tf.expand_dims(tf.cast(tf.logical_not(reset), tf.float32), -1)
        states = [state.read_value() * keep for state in self.states]
        global_count = float(self.streams) * tf.cast(tf.shape(targets)[1], tf.float32)
        outputs, record = train_step(
            self.model, self.optimizer, [inputs + 1, *states], targets, tf.ones(tf.shape(targets), tf.float32),
            denominator=global_count, regularization_scale=1.0 / self._replicas, from_logits=True,
            forward=self._forward,
        )
        for state, value in zip(self.states, outputs[1:]):
            state.assign(tf.cast(value, state.dtype))
        return record

    def _epoch_steps(self, iterator: Any, steps: tf.Tensor) -> tf.Tensor:
        totals = tf.zeros([3], tf.float32)
        for _ in tf.range(steps):
            inputs, targets, reset = next(iterator)
            per_replica = self.strategy.run(self._step_function, args=(inputs, targets, reset))
            totals += self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
        return totals

    @staticmethod
    def _memory_batch(
        ids: tf.Tensor, starts: tf.Tensor, offsets: tf.Tensor, resets: tf.Tensor, states: Sequence[tf.Tensor]
    ) -> tuple[list[tf.Tensor], tf.Tensor]:
        """The model's inputs (``ids + 1`` and the states, zeroed where ``resets``) and the targets
        of the streams starting at ``starts``."""
        window = tf.gather(ids, tf.expand_dims(starts, -1) + offsets)
        keep = tf.expand_dims(tf.cast(tf.logical_not(resets), tf.float32), -1)
        return [window[:, :-1] + 1, *[state * keep for state in states]], window[:, 1:]

    def _shard_gradients(
        self, ids: tf.Tensor, starts: tf.Tensor, offsets: tf.Tensor, resets: tf.Tensor, count: tf.Tensor,
        *states: tf.Tensor,
    ) -> tuple[list[tf.Tensor], tf.Tensor, list[tf.Tensor]]:
        """One shard's new states, record and gradients, its loss divided by the step's ``count``."""
        inputs, targets = self._memory_batch(ids, starts, offsets, resets, states)
        outputs, record, gradients = gradient_step(
            self.model, self.optimizer, inputs, targets, tf.ones(tf.shape(targets), tf.float32),
            denominator=count, regularization_scale=1.0 / self.shards, from_logits=True, forward=self._forward,
        )
        return [tf.cast(value, tf.float32) for value in outputs[1:]], record, gradients

    def _apply(self, gradients: list[tf.Tensor]) -> None:
        self.optimizer.apply(gradients, self.model.trainable_variables)

    def _sharded_step(
        self, ids: tf.Tensor, starts: tf.Tensor, offsets: tf.Tensor, resets: tf.Tensor, states: list[tf.Tensor],
        count: tf.Tensor,
    ) -> tuple[list[tf.Tensor], tf.Tensor]:
        """:func:`~seqkit.engine.step.train_step` over ``shards`` slices of the streams at once; new states, record."""
        rows = [tf.split(value, self.shards) for value in (starts, resets, *states)]
        results = [
            self._shard_function(ids, rows[0][number], offsets, rows[1][number], count, *(part[number] for part in rows[2:]))
            for number in range(self.shards)
        ]
        self._apply_function([_sum_gradients(parts) for parts in zip(*(result[2] for result in results))])
        new_states = [tf.concat(list(parts), 0) for parts in zip(*(result[0] for result in results))]
        return new_states, tf.add_n([result[1] for result in results])

    def _memory_epoch_steps(self, ids: tf.Tensor, starts: tf.Tensor, offsets: tf.Tensor, resets: tf.Tensor) -> tf.Tensor:
        """One epoch from ids in memory, in one compiled program; the summed record.

        Step ``t`` reads ``ids[starts[t, r] + offsets]`` for each stream ``r`` (``offsets`` is
        ``0 .. T``: the segment and the id after it); the state is carried in the loop and
        written back to the state variables at the end. With ``shards``, the program is a
        graph whose steps run the shards' compiled programs.
        """
        states = [state.read_value() for state in self.states]
        segment = tf.shape(offsets)[0] - 1
        count = float(self.streams) * tf.cast(segment, tf.float32)
        totals = tf.zeros([3], tf.float32)
        for step in tf.range(tf.shape(starts)[0]):
            if self.shards > 1:
                states, record = self._sharded_step(ids, starts[step], offsets, resets[step], states, count)
            else:
                inputs, targets = self._memory_batch(ids, starts[step], offsets, resets[step], states)
                outputs, record = train_step(
                    self.model, self.optimizer, inputs, targets, tf.ones(tf.shape(targets), tf.float32),
                    denominator=count, from_logits=True, forward=self._forward,
                )
                states = [tf.cast(value, tf.float32) for value in outputs[1:]]
            totals += record
        for variable, value in zip(self.states, states):
            variable.assign(value)
        return totals

    def _evaluate_segments(
        self, inputs: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor, resets: tf.Tensor
    ) -> tf.Tensor:
        """Forward passes over ``(steps, B, T)`` segments, the state carried in the loop; the summed record."""
        streams = tf.shape(inputs)[1]
        states = [tf.zeros([streams, size]) for size in self._state_sizes]
        totals = tf.zeros([3], tf.float32)
        for step in tf.range(tf.shape(inputs)[0]):
            keep = tf.expand_dims(tf.cast(tf.logical_not(resets[step]), tf.float32), -1)
            states = [state * keep for state in states]
            outputs, record = evaluate_step(
                self.model, [inputs[step] + 1, *states], targets[step], weights[step], from_logits=True,
                forward=self._forward,
            )
            states = [tf.cast(value, tf.float32) for value in outputs[1:]]
            totals += record
        return totals

    def evaluate(self, segments: StreamSegments) -> EpochLogs:
        """Mean cross-entropy and accuracy over every predicted token of ``segments``, no training.

        The held-out ids are read as parallel streams of segments, the state carried from
        segment to segment and zeroed where ``segments.resets`` says (each stream's start and
        every segment in which a document begins: training's ``"boundary"`` rule, whatever
        the trainer's ``reset``), in one compiled call; the first token of a document is not
        scored, since nothing before it in its document predicts it. The training state is
        not touched.
        """
        return _logs(
            self._evaluate(
                tf.constant(segments.inputs), tf.constant(segments.targets), tf.constant(segments.weights),
                tf.constant(segments.resets),
            ).numpy()
        )

    def distribute(self, dataset_for_rows: Callable[[Sequence[int]], tf.data.Dataset]) -> Any:
        """A distributed dataset: each replica gets the batches of its own streams.

        Args:
            dataset_for_rows: ``rows -> tf.data.Dataset`` of one epoch of ``(inputs,
                targets, reset)`` batches for those global stream rows.
        """
        per_replica = self.streams_per_replica
        return _distributed_dataset(
            self.strategy,
            lambda replica: dataset_for_rows(range(replica * per_replica, (replica + 1) * per_replica)),
        )

    def fit(
        self,
        dataset_for_rows: Callable[[Sequence[int]], tf.data.Dataset],
        *,
        steps: int,
        epochs: int,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        verbose: int = 0,
        validation: StreamSegments | None = None,
        in_memory: InMemoryStreams | None = None,
    ) -> dict[str, list[float]]:
        """Train ``epochs`` epochs of ``steps`` steps; returns ``{"loss", "accuracy", "seconds"}``.

        Callbacks are driven as under ``model.fit``, one epoch per compiled call. With
        ``validation``, each epoch ends with :meth:`evaluate` on it (``val_loss``,
        ``val_accuracy`` in the logs). With ``in_memory`` (one replica only), the epochs
        read the ids from memory inside the compiled program instead of from
        ``dataset_for_rows``: the same batches, without ``tf.data`` beside the training
        on the CPU and without a dispatch per step.
        """
        if in_memory is not None and self._replicas == 1 and not _is_distributing(self.strategy):
            tensors = [tf.constant(value) for value in in_memory]

            def next_epoch() -> tf.Tensor:
                return self._memory_epoch(*tensors)
        else:
            iterator = iter(self.distribute(lambda rows: dataset_for_rows(rows).repeat().prefetch(tf.data.AUTOTUNE)))

            def next_epoch() -> tf.Tensor:
                return self._epoch(iterator, tf.constant(steps, tf.int32))

        def run_call(first: int, count: int) -> list[EpochLogs]:
            logs = _logs(next_epoch().numpy())
            if validation is not None:
                scores = self.evaluate(validation)
                logs.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            return [logs]

        return run_epochs(
            self.model, run_call, epochs=epochs, steps_per_epoch=steps, callbacks=callbacks, verbose=verbose,
            epochs_per_call=1,
        )
