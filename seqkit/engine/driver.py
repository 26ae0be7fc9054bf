"""The driver: one compiled loop that runs the one train step for every trainer.

A :class:`Driver` owns the network, its optimizer, the state it carries from step to step
(:mod:`seqkit.engine.state`) and the ``tf.distribute`` strategy, and takes every
decision from one :class:`~seqkit.engine.policy.DevicePolicy` (XLA, seqkit's LSTM kernel,
shards, precision, distribution). What differs between trainers is only what it is fed
(:mod:`seqkit.engine.feeds`). One batch's path through it:

1. the host asks the feed for a call's *table* (a few epochs of plan rows, an epoch of
   segment starts, or the ``tf.data`` iterator) and calls the compiled loop once;
2. in the loop, for each step: the feed's element of the table → ``strategy.run`` (the
   default strategy included, as Keras does) → on each replica the feed's :class:`Batch`,
   the state's rows zeroed (``state.begin``), :func:`~seqkit.engine.step.train_step` (or
   :class:`~seqkit.engine.shards.Shards`), the new state kept (``state.end``) →
   ``strategy.reduce`` → the step's record ``[loss sum, correct, count]`` in the call's table;
3. the host sums each epoch's records (float64) into its logs, drives the Keras callbacks
   (:func:`~seqkit.engine.epochs.run_epochs`), and, every ``every_steps`` steps inside an
   epoch, hands the :class:`Position` to callbacks that save it (checkpoints).

With XLA the whole loop is one XLA program when the feed is a table and the step is one
program; with shards or a ``tf.data`` iterator the loop is a graph and each step (or
shard) a compiled program; under a distributing strategy everything is a graph.
Evaluation runs the same loop without the update, on one device, and leaves the training
state as it was.

>>> import keras, numpy as np
>>> from seqkit.engine.feeds import PlanFeed
>>> from seqkit.engine.plans import shuffled_plan
>>> from seqkit.engine.policy import choose_policy
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.Input((1, 1)), keras.layers.LSTM(4),
...                           keras.layers.Dense(3, activation="softmax")])
>>> driver = Driver(model, policy=choose_policy(units=4, batch_size=2, device="cpu", jit_compile=False))
>>> feed = PlanFeed(np.zeros((3, 1, 1), "float32"), np.array([1, 2, 0]), input_shape=(1, 1), classes=3,
...                 plans=lambda epoch: shuffled_plan(3, 2, seed=1, epoch=epoch))
>>> history = driver.train(feed, epochs=2)
>>> len(history["loss"]), int(driver.optimizer.iterations.numpy())
(2, 4)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from seqkit.engine.epochs import EpochLogs, logs_of, run_epochs
from seqkit.engine.feeds import Feed
from seqkit.engine.kernel import stream_forward, supports_kernel
from seqkit.engine.policy import DevicePolicy, policy_for_network
from seqkit.engine.shards import Shards
from seqkit.engine.state import LayerState, StreamState
from seqkit.engine.step import evaluate_step, train_step
from seqkit.errors import ConfigurationError
from seqkit.schedules import LearningRate, make_optimizer

__all__ = ["Driver", "LearningRate", "Position", "is_distributing", "logs_of", "make_optimizer"]

def is_distributing(strategy: tf.distribute.Strategy | None) -> bool:
    """True when steps must run under ``strategy`` rather than the default strategy (several
    replicas, or any strategy other than the default one, or inside another's scope)."""
    if strategy is None:
        return tf.distribute.has_strategy()
    return strategy.num_replicas_in_sync > 1 or strategy is not tf.distribute.get_strategy() or tf.distribute.has_strategy()


@dataclass
class Position:
    """Where a run is: ``step`` steps of epoch ``epoch`` done, their records summed in ``record``.

    A checkpoint saves it, so that a run resumed inside an epoch reports that epoch's
    figures as the uninterrupted run does.
    """

    epoch: int = 0
    step: int = 0
    record: np.ndarray = field(default_factory=lambda: np.zeros(3))


class Driver:
    """Train (and evaluate) a network from feeds, one compiled call per epoch or per many.

    Args:
        network: the built Keras network; its first output holds the predictions.
        policy: every device decision (:func:`~seqkit.engine.policy.choose_policy`):
            ``jit_compile``, ``kernel``, ``shards``, ``precision``, ``distributed``.
        state: what is carried between steps. Defaults to None: the network's own
            stateful layers (:class:`~seqkit.engine.state.LayerState`, none for a stateless
            network).
        strategy: the ``tf.distribute`` strategy the network and state were built under.
            Defaults to None: the default strategy.
        learning_rate: Adam's learning rate, or a Keras ``LearningRateSchedule``. Defaults to 0.001.
        clip_norm: clip the gradients to this global norm. Defaults to None: no clipping.
        from_logits: the network outputs logits rather than probabilities. Defaults to False.
        owner: who drives, for error messages. Defaults to ``"Driver"``.

    Raises:
        ConfigurationError: XLA under a distributing strategy, or seqkit's kernel for a
            network it cannot compute.
    """

    def __init__(
        self,
        network: keras.Model,
        *,
        policy: DevicePolicy,
        state: LayerState | StreamState | None = None,
        strategy: tf.distribute.Strategy | None = None,
        learning_rate: LearningRate = 0.001,
        clip_norm: float | None = None,
        from_logits: bool = False,
        owner: str = "Driver",
    ) -> None:
        self.model = network
        policy = policy_for_network(policy, network)  # a network that masks its input never gets cuDNN
        self.policy = policy
        self.strategy = strategy or tf.distribute.get_strategy()
        if policy.distributed and policy.jit_compile:
            raise ConfigurationError(
                f"{owner} cannot compile distributed steps with XLA (jit_compile=True): XLA "
                "inside strategy.run fails on CPU devices. Pass jit_compile=False."
            )
        if policy.kernel and not supports_kernel(network):
            raise ConfigurationError(
                f"{owner} cannot train this network with seqkit's LSTM kernel (kernel=True): the kernel "
                "computes float32 LSTMs with Keras's default activations only. Pass kernel=False."
            )
        self.state = LayerState(network) if state is None else state
        self.schedule = learning_rate if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule) else None
        """The learning-rate schedule the optimizer reads, or None for a constant rate."""
        with self.strategy.scope():
            self.optimizer = make_optimizer(
                network, learning_rate, loss_scale=policy.precision == "mixed_float16", clip_norm=clip_norm
            )
        self.replicas = int(self.strategy.num_replicas_in_sync)
        self.from_logits = bool(from_logits)
        self.forward = (
            functools.partial(stream_forward, network, bfloat16=policy.kernel_bfloat16) if policy.kernel else None
        )
        self.shards = None
        if policy.shards > 1:
            self.shards = Shards(
                network, self.optimizer, count=policy.shards, jit_compile=policy.jit_compile,
                from_logits=self.from_logits, forward=self.forward,
            )
        self._functions: dict[tuple[int, bool], tuple[Feed, Callable[..., tf.Tensor]]] = {}
        self._evaluation_states: dict[int, StreamState] = {}
        self._feed_data: dict[int, tuple[Feed, dict[str, tf.Tensor]]] = {}
        self.traces = 0
        """How many times a compiled loop was traced (a retrace costs ~seconds)."""

    @property
    def state_variables(self) -> list[Any]:
        """The carried state's variables, every replica's own (checkpoints save them)."""
        return self.state.variables

    # ------------------------------------------------------------------ compiled code
    def _replica_step(self, feed: Feed, training: bool, state: Any, data: dict[str, tf.Tensor], element: Any) -> tf.Tensor:
        """One replica's step: its batch, its state's rows zeroed, the step, the new state kept; its record."""
        if training and self.shards is not None:  # each slice's batch and state made in its own program
            return self.shards.step(feed, state, data, element)
        batch = feed.batch(data, element)
        state_inputs, before = state.begin(batch.resets)
        inputs = [batch.inputs, *state_inputs] if state.inputs else batch.inputs
        if not training:
            outputs, record = evaluate_step(
                self.model, inputs, batch.targets, batch.weights, from_logits=self.from_logits, forward=self.forward
            )
        else:
            outputs, record = train_step(
                self.model, self.optimizer, inputs, batch.targets, batch.weights, denominator=batch.count,
                regularization_scale=1.0 / self.replicas, from_logits=self.from_logits, forward=self.forward,
            )
        state.end(outputs, batch.weights, before)
        return record

    def _loop(
        self, feed: Feed, training: bool, state: Any, step: Callable[..., tf.Tensor], data: dict[str, tf.Tensor],
        table: Any, count: tf.Tensor,
    ) -> tf.Tensor:
        """``count`` steps of a table through ``strategy.run``; the per-step records ``(rows, 3)``.

        The table may hold more rows than ``count`` (padding, so that calls of fewer steps
        reuse one compiled function); their records stay zero.
        """
        self.traces += 1
        strategy = self.strategy if training else tf.distribute.get_strategy()
        saved = state.snapshot() if not training else []

        def body(index: tf.Tensor, records: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            per_replica = strategy.run(step, args=(data, feed.element(table, index)))
            record = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
            return index + 1, tf.tensor_scatter_nd_update(records, tf.reshape(index, [1, 1]), tf.reshape(record, [1, 3]))

        rows = tf.shape(next(iter(table.values())))[0] if isinstance(table, dict) else count
        _, records = tf.while_loop(
            lambda index, _: index < count, body, (tf.constant(0, tf.int32), tf.zeros([rows, 3], tf.float32))
        )
        if not training:
            state.restore(saved)
        return records

    def _compiled(self, feed: Feed, training: bool) -> Callable[..., tf.Tensor]:
        """The compiled loop for a feed (traced once per feed, kept while the feed is)."""
        key = (id(feed), training)
        if key not in self._functions:
            state = self.state if training else self._evaluation_state(feed)
            jit = self.policy.jit_compile and not (training and self.policy.distributed)
            whole = jit and feed.in_graph and (self.shards is None or not training)
            step: Callable[..., tf.Tensor] = functools.partial(self._replica_step, feed, training, state)
            if jit and not whole and (self.shards is None or not training):
                step = tf.function(step, jit_compile=True, autograph=False)  # each step one XLA program, the loop a graph
            # No autograph: the loop is an explicit tf.while_loop and nothing inside branches on a tensor.
            loop = tf.function(functools.partial(self._loop, feed, training, state, step), jit_compile=whole, autograph=False)
            self._functions[key] = (feed, loop)  # the feed is kept so that its id stays its own
        return self._functions[key][1]

    def _evaluation_state(self, feed: Feed) -> Any:
        """The state evaluation carries: a stream network's own for the feed's rows, else the network's
        (put back as it was after the call)."""
        if not isinstance(self.state, StreamState):
            return self.state
        rows = int(getattr(feed, "rows"))
        if rows not in self._evaluation_states:
            self._evaluation_states[rows] = self.state.for_rows(rows)
        return self._evaluation_states[rows]

    def run(self, feed: Feed, data: dict[str, tf.Tensor], table: Any, count: int, *, training: bool = True) -> np.ndarray:
        """Run ``count`` steps of ``table`` in one compiled call; the per-step records, float64 ``(count, 3)``."""
        records = self._compiled(feed, training)(data, table, tf.constant(count, tf.int32))
        return records.numpy()[:count].astype(np.float64)

    # ------------------------------------------------------------------ the host loop
    def evaluate_feed(self, feed: Feed) -> EpochLogs:
        """Mean cross-entropy and accuracy of the network on a feed's one pass, without training.

        The training state is left as it was (a stream network reads with its own state).
        """
        table, steps = feed.call_table(self, 0, 1, 0, None, training=False)
        return logs_of(self.run(feed, self._data(feed), table, sum(steps), training=False).sum(axis=0))

    def _data(self, feed: Feed) -> dict[str, tf.Tensor]:
        """The feed's constant tensors, made once per feed (the feed is kept with them)."""
        key = id(feed)
        if key not in self._feed_data:
            self._feed_data[key] = (feed, feed.data())
        return self._feed_data[key][1]

    def train(
        self,
        feed: Feed,
        *,
        epochs: int,
        start: Position | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        verbose: int = 0,
        epochs_per_call: int | None = None,
        validation: Feed | None = None,
        every_steps: int | None = None,
    ) -> dict[str, list[float]]:
        """Train epochs ``start.epoch .. epochs - 1``; the history ``{"loss", "accuracy", "seconds", ...}``.

        Callbacks are driven as under ``model.fit`` (:func:`~seqkit.engine.epochs.run_epochs`).

        Args:
            feed: what the steps read.
            epochs: index of the epoch to stop before (Keras meaning).
            start: where to start: an epoch, and for a run resumed inside it, the steps
                done and their summed record. Defaults to the start of epoch 0.
            callbacks: Keras callbacks; those with an ``on_steps_end(position)`` method are
                also called every ``every_steps`` steps inside an epoch.
            verbose: 0 silent, 1 Keras's progress bar, 2 one line per epoch.
            epochs_per_call: epochs per compiled call. Defaults to None: about 512 steps
                per call when every callback only watches and the feed allows it, else 1.
            validation: a feed evaluated after every epoch (``val_loss``, ``val_accuracy``).
            every_steps: split each epoch into calls of this many steps, calling
                ``on_steps_end`` after each but the last. Defaults to None: whole epochs.
        """
        start = start or Position()
        steps = feed.steps_per_epoch(start.epoch)
        data = self._data(feed)
        if validation is not None or every_steps or start.step or not feed.multi_epoch or self.policy.distributed:
            epochs_per_call = 1
        savers = [callback for callback in callbacks if hasattr(callback, "on_steps_end")]

        def run_call(first: int, count: int) -> list[EpochLogs]:
            if count > 1:
                table, steps = feed.call_table(self, first, count, 0, None)
                records = self.run(feed, data, table, sum(steps))
                logs = [logs_of(part.sum(axis=0)) for part in np.split(records, np.cumsum(steps)[:-1])]
            else:
                logs = [logs_of(self._epoch(feed, data, first, start, every_steps, savers))]
            if validation is not None:
                scores = self.evaluate_feed(validation)
                logs[-1].update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            return logs

        return run_epochs(
            self.model, run_call, epochs=epochs, steps_per_epoch=steps, initial_epoch=start.epoch,
            callbacks=callbacks, verbose=verbose, epochs_per_call=epochs_per_call,
        )

    def _epoch(
        self, feed: Feed, data: dict[str, tf.Tensor], epoch: int, start: Position, every_steps: int | None,
        savers: Sequence[Any],
    ) -> np.ndarray:
        """One epoch (the rest of it, where ``start`` is inside it), in calls of ``every_steps``; its summed record."""
        steps = feed.steps_per_epoch(epoch)
        step, total = (start.step, np.array(start.record, np.float64)) if epoch == start.epoch else (0, np.zeros(3))
        while step < steps:
            stop = min(steps, step + every_steps) if every_steps else steps
            table, called = feed.call_table(self, epoch, 1, step, stop)
            total = total + self.run(feed, data, table, sum(called)).sum(axis=0)
            step = stop
            if step < steps:
                for saver in savers:
                    saver.on_steps_end(Position(epoch, step, total.copy()))
        return total

