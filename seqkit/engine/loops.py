"""The two ways to call the driver with arrays: windows in epoch-plan order, and parallel streams.

Both are a :class:`~seqkit.engine.driver.Driver` (one compiled loop, one train step);
what they add is how the samples become a feed:

- :class:`TrainingLoop` takes window samples (arrays, or
  :class:`~seqkit.engine.plans.WindowedInputs`) and an
  :class:`~seqkit.engine.plans.EpochPlan` per epoch (a :class:`~seqkit.engine.feeds.PlanFeed`);
  a stateful network's rows are zeroed and kept by its :class:`~seqkit.engine.state.LayerState`.
- :class:`StreamLoop` trains truncated BPTT over parallel streams, the LSTM state an input
  and an output of the network kept per replica (:class:`~seqkit.engine.state.StreamState`),
  from ``tf.data`` (:class:`~seqkit.engine.feeds.DatasetFeed`) or from ids in memory
  (:class:`~seqkit.engine.feeds.SegmentFeed`).

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

from collections.abc import Callable, Sequence

import keras
import tensorflow as tf
from numpy.typing import ArrayLike

from seqkit.checks import check_float, check_int, check_optional_int
from seqkit.engine.driver import Driver, LearningRate, Position, is_distributing, logs_of, make_optimizer
from seqkit.engine.epochs import EpochLogs
from seqkit.engine.feeds import DatasetFeed, HeldOutFeed, InMemoryStreams, PlanFeed, SegmentFeed
from seqkit.engine.plans import EpochPlan, StreamSegments, WindowedInputs, shuffled_plan
from seqkit.engine.policy import DevicePolicy
from seqkit.engine.state import StreamState, stateful_batch_size
from seqkit.errors import ConfigurationError, DataError, parameter_error
from seqkit.models import recurrent_layers

__all__ = ["InMemoryStreams", "StreamLoop", "TrainingLoop", "make_optimizer", "stateful_batch_size"]


def _policy(jit_compile: bool, distributed: bool, loss_scale: bool, kernel: bool = False, shards: int = 1) -> DevicePolicy:
    """The policy of a loop built from flags rather than by :func:`~seqkit.engine.policy.choose_policy`."""
    return DevicePolicy(
        "cpu", bool(jit_compile), False, "mixed_float16" if loss_scale else "float32", "given to the loop",
        kernel=bool(kernel), shards=int(shards), distributed=distributed,
    )


class TrainingLoop(Driver):
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
        policy: every device decision at once, instead of ``jit_compile`` and
            ``loss_scale`` (what the trainers pass). Defaults to None.
        clip_norm: clip the gradients to this global norm. Defaults to None.

    >>> import keras
    >>> import numpy as np
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
        learning_rate: LearningRate = 0.001,
        jit_compile: bool = True,
        strategy: tf.distribute.Strategy | None = None,
        loss_scale: bool = False,
        policy: DevicePolicy | None = None,
        clip_norm: float | None = None,
    ) -> None:
        if not isinstance(model, keras.Model):
            raise parameter_error("TrainingLoop", "model", "a keras.Model", model)
        if not model.built or not getattr(model, "inputs", None):
            raise ConfigurationError(
                "TrainingLoop needs a built functional or Sequential model with a known "
                "input shape; start it with keras.Input(...)."
            )
        if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            learning_rate = check_float("TrainingLoop", "learning_rate", learning_rate, low=0.0, low_inclusive=False)
        if policy is None:
            policy = _policy(jit_compile, is_distributing(strategy), loss_scale)
        if policy.distributed and recurrent_layers(model):
            raise ConfigurationError(
                "TrainingLoop cannot distribute a model with stateful RNN layers: their state "
                "is one variable, not one per replica. Train long streams with "
                "seqkit.trainers.StreamTrainer(strategy=...), which gives each replica its own streams."
            )
        super().__init__(
            model, policy=policy, strategy=strategy, learning_rate=learning_rate, clip_norm=clip_norm, owner="TrainingLoop"
        )
        self.learning_rate = learning_rate
        self.jit_compile = policy.jit_compile
        self.distributed = policy.distributed

    def feed(
        self, inputs: ArrayLike | WindowedInputs, targets: ArrayLike | None, plans: Callable[[int], EpochPlan] | None = None
    ) -> PlanFeed:
        """The samples as a :class:`~seqkit.engine.feeds.PlanFeed` for this network (checked once)."""
        return PlanFeed(
            inputs, targets, input_shape=tuple(self.model.inputs[0].shape[1:]), classes=self.model.outputs[0].shape[-1],
            plans=plans,
        )

    def run_epoch(self, inputs: ArrayLike | WindowedInputs, targets: ArrayLike | None, plan: EpochPlan) -> EpochLogs:
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
        feed = self._epoch_feed(inputs, targets)
        feed.plans = lambda epoch: plan
        table, steps = feed.call_table(self, 0, 1, 0, None)
        return logs_of(self.run(feed, self._data(feed), table, sum(steps)).sum(axis=0))

    def _epoch_feed(self, inputs: ArrayLike | WindowedInputs, targets: ArrayLike | None) -> PlanFeed:
        """The feed of the samples :meth:`run_epoch` was last given, when they are the same objects again,
        so that epoch after epoch runs one compiled function; else a new one."""
        last = getattr(self, "_last_epoch_feed", None)
        if last is None or last[0] is not inputs or last[1] is not targets:
            last = (inputs, targets, self.feed(inputs, targets))
            self._last_epoch_feed = last
        return last[2]

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
        start: Position | None = None,
        every_steps: int | None = None,
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
            start: a position inside an epoch to resume at (a checkpoint's), instead of
                ``initial_epoch``. Defaults to None.
            every_steps: split epochs into calls of this many steps (see
                :meth:`Driver.fit <seqkit.engine.driver.Driver.fit>`). Defaults to None.

        Returns:
            The history, ``{"loss": [...], "accuracy": [...], "seconds": [...]}`` (and
            ``val_loss``, ``val_accuracy``), one entry per epoch run.
        """
        check_int("TrainingLoop.fit", "epochs", epochs, minimum=0)
        check_int("TrainingLoop.fit", "initial_epoch", initial_epoch, minimum=0)
        check_optional_int("TrainingLoop.fit", "epochs_per_call", epochs_per_call)
        feed = self.feed(inputs, targets, plans)
        held_out = None if validation is None else self.evaluation_feed(*validation)
        return self.train(
            feed, epochs=epochs, start=start or Position(initial_epoch), callbacks=callbacks, verbose=verbose,
            epochs_per_call=epochs_per_call, validation=held_out, every_steps=every_steps,
        )

    def evaluate(  # type: ignore[override]
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
        >>> import numpy as np
        >>> model = keras.Sequential([keras.Input((1, 1)), keras.layers.LSTM(2),
        ...                           keras.layers.Dense(2, activation="softmax")])
        >>> loop = TrainingLoop(model, jit_compile=False)
        >>> logs = loop.evaluate(np.zeros((5, 1, 1)), np.array([0, 1, 0, 1, 1]))
        >>> 0.0 <= logs["accuracy"] <= 1.0
        True
        """
        return self.evaluate_feed(self.evaluation_feed(inputs, targets, plan, batch_size))

    def evaluation_feed(
        self, inputs: ArrayLike | WindowedInputs, targets: ArrayLike | None, plan: EpochPlan | None,
        batch_size: int | None = None,
    ) -> PlanFeed:
        """Held-out samples as a feed (see :meth:`evaluate`), for ``Driver.train(validation=...)``:
        in order for a stateless network, as ``plan`` says from a zero state for a stateful one."""
        batch_size = check_optional_int("TrainingLoop.evaluate", "batch_size", batch_size)
        feed = self.feed(inputs, targets)
        if plan is None:
            if self.state:
                raise DataError(
                    "TrainingLoop.evaluate needs a plan for a model with stateful RNN layers: the "
                    "samples as its fixed batch of streams (seqkit.engine.stream_indices)."
                )
            plan = shuffled_plan(
                feed.num_samples, batch_size or min(feed.num_samples, 4096), seed=0, epoch=0, shuffle=False
            )
        if self.state:  # from a zero state, as a fresh reading
            reset_rows = plan.reset_rows.copy()
            reset_rows[0] = True
            plan = EpochPlan(plan.indices, reset_rows)
        feed.plans = lambda epoch: plan
        return feed


class StreamLoop(Driver):
    """Truncated BPTT over parallel streams, under any ``tf.distribute`` strategy.

    The stream counterpart of :class:`TrainingLoop`: each step reads a segment of ``T``
    ids per stream, predicts the next id at every step (``return_sequences``), and carries
    the LSTM state to the next segment of the same stream. The model, the Adam optimizer
    and the state are created under ``strategy.scope()``; each step runs through
    ``strategy.run`` on batches from ``strategy.distribute_datasets_from_function``, as
    TensorFlow's custom-training-loop guide does; the loss is the cross-entropy summed
    over a replica's rows divided by the *global* ``B * T``, so the all-reduced gradient
    equals one device's at the same global batch. The state lives in per-replica
    (``ON_READ``) variables of the replica's own rows: each replica owns its streams.

    One compiled call runs one epoch (or ``every_steps`` steps of it).

    Args:
        build: builds the network (:func:`seqkit.models.build_stream_model`): inputs
            ``[ids + 1, *states]``, outputs ``[logits, *states]``; the width of each
            state is read from the network's state inputs.
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
            per core), then summed and applied once (:mod:`seqkit.engine.shards`).
            Defaults to 1.
        policy: every device decision at once, instead of ``jit_compile``,
            ``loss_scale``, ``kernel`` and ``shards`` (what the trainers pass). Defaults to None.
        clip_norm: clip the gradients to this global norm. Defaults to None.

    Raises:
        ConfigurationError: ``kernel=True`` for a network the kernel cannot compute
            (mixed precision, non-default activations).
    """

    def __init__(
        self,
        build: Callable[[], keras.Model],
        *,
        streams: int,
        strategy: tf.distribute.Strategy | None = None,
        learning_rate: LearningRate = 0.001,
        jit_compile: bool = True,
        loss_scale: bool = False,
        kernel: bool = False,
        shards: int = 1,
        policy: DevicePolicy | None = None,
        clip_norm: float | None = None,
    ) -> None:
        strategy = strategy or tf.distribute.get_strategy()
        replicas = strategy.num_replicas_in_sync
        if check_int("StreamLoop", "streams", streams) % replicas:
            raise parameter_error(
                "StreamLoop", "streams", f"an int >= 1 divisible by the {replicas} replicas", streams
            )
        if policy is None:
            policy = _policy(jit_compile, is_distributing(strategy), loss_scale, kernel, shards)
        if int(streams) % check_int("StreamLoop", "shards", policy.shards):
            raise parameter_error("StreamLoop", "shards", f"an int >= 1 that divides the {streams} streams", shards)
        self.streams = int(streams)
        self.streams_per_replica = self.streams // replicas
        with strategy.scope():
            network = build()
            sizes = [int(state.shape[-1]) for state in network.inputs[1:]]
            super().__init__(
                network, policy=policy, strategy=strategy, learning_rate=learning_rate, clip_norm=clip_norm,
                from_logits=True,
                state=StreamState(self.streams_per_replica, sizes), owner="StreamLoop",
            )
        self.jit_compile = policy.jit_compile
        self.kernel = policy.kernel

    @property
    def states(self) -> list[tf.Variable]:
        """The per-replica state variables (one per state input of the network)."""
        return self.state.state_variables  # type: ignore[union-attr]

    def evaluate(self, segments: StreamSegments) -> EpochLogs:  # type: ignore[override]
        """Mean cross-entropy and accuracy over every predicted token of ``segments``, no training.

        The held-out ids are read as parallel streams of segments, the state carried from
        segment to segment and zeroed where ``segments.resets`` says (each stream's start and
        every segment in which a document begins: training's ``"boundary"`` rule, whatever
        the trainer's ``reset``), in one compiled call; the first token of a document is not
        scored, since nothing before it in its document predicts it. The training state is
        not touched.
        """
        return self.evaluate_feed(self.held_out(segments))

    def held_out(self, segments: StreamSegments) -> HeldOutFeed:
        """Held-out segments as a feed (one per set, so that its compiled loop is traced once)."""
        cached = getattr(self, "_held_out_feed", None)
        if cached is None or cached.segments is not segments:
            cached = HeldOutFeed(segments)
            self._held_out_feed = cached
        return cached

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
        start: Position | None = None,
        every_steps: int | None = None,
    ) -> dict[str, list[float]]:
        """Train epochs up to ``epochs`` of ``steps`` steps; returns ``{"loss", "accuracy", "seconds"}``.

        Callbacks are driven as under ``model.fit``, one epoch per compiled call (or one
        call per ``every_steps`` steps, after each of which callbacks with
        ``on_steps_end`` may save the position). With ``validation``, each epoch ends
        with :meth:`evaluate` on it (``val_loss``, ``val_accuracy`` in the logs). With
        ``in_memory`` (one replica only), the epochs read the ids from memory inside the
        compiled program instead of from ``dataset_for_rows``: the same batches, without
        ``tf.data`` beside the training on the CPU and without a dispatch per step.
        ``start`` resumes at a checkpoint's position.
        """
        if in_memory is not None and not self.policy.distributed:
            feed: SegmentFeed | DatasetFeed = SegmentFeed(in_memory)
        else:
            feed = DatasetFeed(dataset_for_rows, self.streams, int(steps))
        held_out = None if validation is None else self.held_out(validation)
        return self.train(
            feed, epochs=epochs, start=start, callbacks=callbacks, verbose=verbose, validation=held_out,
            every_steps=every_steps,
        )

