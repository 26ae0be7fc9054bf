"""Feeds: what each step of the :class:`~seqkit.engine.driver.Driver` reads.

The driver runs every trainer's steps the same way; what differs is where a step's batch
comes from. A feed answers that in three parts:

- :meth:`Feed.data` — the tensors that stay the same for a whole run (the samples, the
  corpus's ids), made once;
- :meth:`Feed.table` — what a compiled call walks through step by step: a table of
  rows (epoch plans, stream segment starts) or an iterator over ``tf.data`` batches;
- :meth:`Feed.batch` — inside the compiled step, one step's :class:`Batch`: the network's
  inputs, the targets, the weights (``0`` for an empty slot) and the state rows to reset.

Feeds here: :class:`PlanFeed` (window samples in arrays, or cut from the corpus per batch,
read in :class:`~seqkit.engine.plans.EpochPlan` order; under a distributing strategy each
replica takes its slice of a step's slots), :class:`SegmentFeed` (stream segments gathered
from the corpus's ids in memory), :class:`DatasetFeed` (stream segments from ``tf.data``,
each replica its own streams) and :class:`HeldOutFeed` (held-out
:class:`~seqkit.engine.plans.StreamSegments`, for evaluation).

>>> import numpy as np
>>> from seqkit.engine.plans import shuffled_plan
>>> feed = PlanFeed(np.zeros((3, 1, 1), "float32"), np.array([0, 1, 2]), input_shape=(1, 1), classes=3)
>>> feed.plans = lambda epoch: shuffled_plan(3, 2, seed=0, epoch=epoch, shuffle=False)
>>> feed.steps_per_epoch(0)
2
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

from seqkit.engine.plans import EpochPlan, StreamSegments, WindowedInputs
from seqkit.errors import DataError

__all__ = [
    "Batch",
    "DatasetFeed",
    "Feed",
    "HeldOutFeed",
    "InMemoryStreams",
    "PlanFeed",
    "SegmentFeed",
    "distributed_dataset",
]


class Batch(NamedTuple):
    """One step's batch, as the step reads it.

    Attributes:
        inputs: the network's input (without any carried state).
        targets: int32 class ids.
        weights: float32, the shape of ``targets``: 1 where scored, 0 for an empty slot.
        resets: bool ``(rows,)``: zero the row's state before the step.
        count: what the loss sum is divided by (the global count under a strategy), or
            None: the sum of ``weights``.
    """

    inputs: Any
    targets: tf.Tensor
    weights: tf.Tensor
    resets: tf.Tensor
    count: tf.Tensor | None


class Feed(abc.ABC):
    """Where the steps of a run read their batches (see the module's docstring)."""

    in_graph = True
    """The table is a tensor the step indexes (so a whole call may compile with XLA);
    False when each step takes the next element of an iterator."""

    multi_epoch = False
    """Several epochs may run in one compiled call (their tables back to back)."""

    @abc.abstractmethod
    def steps_per_epoch(self, epoch: int) -> int:
        """The steps of epoch ``epoch``."""

    @abc.abstractmethod
    def call_table(
        self, driver: Any, first_epoch: int, epochs: int, first_step: int, stop_step: int | None, *, training: bool = True
    ) -> tuple[Any, list[int]]:
        """The table of one compiled call and the steps it holds of each epoch: steps
        ``first_step .. stop_step - 1`` of epoch ``first_epoch`` (the whole epoch for None), or
        ``epochs`` whole epochs."""


    @abc.abstractmethod
    def data(self) -> dict[str, tf.Tensor]:
        """The tensors that stay the same for the run."""

    @abc.abstractmethod
    def batch(self, data: dict[str, tf.Tensor], element: Any) -> Batch:
        """One step's batch from the data and the step's element of the table (in-graph)."""

    def element(self, table: Any, step: tf.Tensor) -> Any:
        """The table's element of ``step``: row ``step`` of each of its tensors, or an iterator's
        next element (in-graph)."""
        if isinstance(table, dict):
            return {name: value[step] for name, value in table.items()}
        return next(table)


def _padded(table: dict[str, np.ndarray], capacity: int) -> dict[str, tf.Tensor]:
    """Each array of ``table`` padded with rows of ``-1`` / False up to ``capacity`` rows, as tensors."""
    return {name: tf.constant(_rows(value, capacity)) for name, value in table.items()}


def _rows(table: np.ndarray, capacity: int) -> np.ndarray:
    """``table`` padded with rows of ``-1`` / False up to ``capacity`` rows."""
    steps = table.shape[0]
    if capacity <= steps:
        return table
    return np.pad(table, ((0, capacity - steps), (0, 0)), constant_values=-1 if table.dtype != bool else False)


class PlanFeed(Feed):
    """Window samples read in epoch-plan order: gathered from arrays, or cut and encoded per batch.

    Args:
        inputs: float ``(n, time_steps, features)`` or int ``(n, time_steps)`` samples, or
            :class:`~seqkit.engine.plans.WindowedInputs` (windows cut from the corpus's
            ids and encoded inside the step).
        targets: int ``(n,)`` class ids; None with :class:`WindowedInputs`.
        input_shape: the network's input shape without the batch axis (None where free).
        classes: the classes of the network's output.
        plans: ``epoch -> EpochPlan``, called once per epoch in order. Defaults to None:
            give them before training (:attr:`plans`).

    Raises:
        DataError: the samples do not fit the network (shape, dtype, class ids, counts).
    """

    multi_epoch = True

    def __init__(
        self, inputs: ArrayLike | WindowedInputs, targets: ArrayLike | None, *, input_shape: Sequence[int | None],
        classes: int | None, plans: Callable[[int], EpochPlan] | None = None,
    ) -> None:
        self.classes = classes
        self.plans = plans
        self.capacity = 0
        self.windowing: tuple[int, Callable[[tf.Tensor], tf.Tensor]] | None = None
        if isinstance(inputs, WindowedInputs):
            self._tensors, self.num_samples = self._windowed(inputs, targets)
        else:
            self._tensors, self.num_samples = self._arrays(inputs, targets, tuple(input_shape))

    def data(self) -> dict[str, tf.Tensor]:
        """The samples (or the corpus's ids and the window starts) as tensors."""
        return self._tensors

    def _arrays(
        self, inputs: ArrayLike, targets: ArrayLike | None, expected: tuple[int | None, ...]
    ) -> tuple[dict[str, tf.Tensor], int]:
        if targets is None:
            raise DataError("targets are required with an input array; only WindowedInputs carry their own.")
        inputs = np.asarray(inputs)
        targets = np.asarray(targets)
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

    def _windowed(self, inputs: WindowedInputs, targets: ArrayLike | None) -> tuple[dict[str, tf.Tensor], int]:
        if targets is not None:
            raise DataError("WindowedInputs carry their targets (the id after each window); pass targets=None.")
        sequence = np.asarray(inputs.sequence)
        self._check_classes("WindowedInputs.sequence", sequence)
        self.windowing = (int(inputs.window_length), inputs.encode)
        data = {
            "sequence": tf.constant(sequence, dtype=tf.int32),
            "starts": tf.constant(np.asarray(inputs.starts), dtype=tf.int32),
        }
        return data, len(inputs)

    def _check_classes(self, what: str, ids: np.ndarray) -> None:
        classes = self.classes
        if len(ids) and (int(ids.min()) < 0 or (classes is not None and int(ids.max()) >= classes)):
            raise DataError(
                f"{what} must be class ids in [0, {classes}); got values from {int(ids.min())} to "
                f"{int(ids.max())}. Build the model's output layer with as many units as the "
                "vocabulary has tokens."
            )

    def check_plan(self, plan: EpochPlan, fixed_batch: int | None, stateful: bool) -> None:
        """Refuse a plan that reads samples these inputs lack, or another batch than the network's fixed one."""
        if not isinstance(plan, EpochPlan):
            raise DataError(
                f"a plan must be an EpochPlan; got {type(plan).__name__}. Build it with "
                "shuffled_plan() or EpochPlan(indices, reset_rows)."
            )
        highest = int(plan.indices.max())
        if highest >= self.num_samples:
            raise DataError(
                f"EpochPlan.indices must be < the number of samples {self.num_samples}; got "
                f"{highest}. Build the plan for these inputs."
            )
        if fixed_batch is not None and plan.batch_size != fixed_batch:
            kind = "stateful " if stateful else ""
            raise DataError(
                f"the plan's batch size {plan.batch_size} differs from the {kind}model's "
                f"fixed batch size {fixed_batch}. Build the plan with batch_size={fixed_batch}, or "
                f"rebuild the model with keras.Input(batch_shape=({plan.batch_size}, ...))."
            )

    def _plan(self, epoch: int) -> EpochPlan:
        if self.plans is None:
            raise DataError("PlanFeed has no plans; give plans=epoch -> EpochPlan before training.")
        return self.plans(epoch)

    def steps_per_epoch(self, epoch: int) -> int:
        """The steps of epoch ``epoch``'s plan."""
        return self._plan(epoch).steps


    def call_table(
        self, driver: Any, first_epoch: int, epochs: int, first_step: int, stop_step: int | None, *, training: bool = True
    ) -> tuple[Any, list[int]]:
        """The plans of the call back to back (padded to the longest call so far, so that calls of
        fewer steps reuse one compiled function), or an iterator under a distributing strategy."""
        plans = [self._plan(epoch) for epoch in range(first_epoch, first_epoch + epochs)]
        fixed = driver.model.inputs[0].shape[0]
        for plan in plans:
            self.check_plan(plan, fixed, bool(driver.state))
        indices = np.concatenate([plan.indices for plan in plans])[first_step:stop_step]
        resets = np.concatenate([plan.reset_rows for plan in plans])[first_step:stop_step]
        if training and driver.policy.distributed:
            return self.replica_table(indices, driver.strategy), [len(indices)]
        table = _padded({"indices": indices, "resets": resets}, self.capacity)
        self.capacity = max(self.capacity, len(indices))
        return table, [len(indices)] if epochs == 1 else [plan.steps for plan in plans]

    def replica_table(self, indices: np.ndarray, strategy: tf.distribute.Strategy) -> Any:
        """An iterator over a plan's slots ``(steps, B)`` for a strategy: replica ``k`` gets slot columns ``k*b .. (k+1)*b - 1``.

        The batch is padded with empty slots to a multiple of the replicas, so any batch
        size splits (Keras ``fit`` under MirroredStrategy refuses uneven batches); each
        element carries the step's global count, which every replica divides its loss by.
        """
        replicas = strategy.num_replicas_in_sync
        batch_size = indices.shape[1]
        per_replica = -(-batch_size // replicas)
        counts = (indices >= 0).sum(axis=1).astype(np.float32)
        indices = np.pad(indices, ((0, 0), (0, per_replica * replicas - batch_size)), constant_values=-1)
        return iter(distributed_dataset(
            strategy,
            lambda replica: tf.data.Dataset.from_tensor_slices(
                (indices[:, replica * per_replica : (replica + 1) * per_replica], counts)
            ),
        ))

    def _samples(self, data: dict[str, tf.Tensor], rows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The inputs and targets of samples ``rows``: gathered, or cut and encoded."""
        if self.windowing is None:
            return tf.gather(data["inputs"], rows), tf.gather(data["targets"], rows)
        window_length, encode = self.windowing
        # The window positions are computed in int64: on a GPU, TensorFlow keeps int32 tensors of
        # arithmetic in host memory, so int32 sums of the gathered starts would cross to the host
        # and back on every step; int64 stays on the device. (Gathering (rows, L) positions gives
        # the (rows, L) windows, so no reshape of the int32 ids is needed.)
        starts = tf.cast(tf.gather(data["starts"], rows), tf.int64)
        positions = tf.expand_dims(starts, -1) + tf.constant(np.arange(window_length), tf.int64)  # a Range reads host scalars
        return encode(tf.gather(data["sequence"], positions)), tf.gather(data["sequence"], starts + window_length)

    def batch(self, data: dict[str, tf.Tensor], element: Any) -> Batch:
        """The samples of the step's slots; an empty slot (``-1``) reads sample 0 at weight 0.

        A replica's element under a strategy is its slots and the step's global count
        (stateless networks only: nothing to reset).
        """
        if isinstance(element, dict):
            slots, resets, count = element["indices"], element["resets"], None
        else:
            slots, count = element
            resets = tf.zeros(tf.shape(slots), tf.bool)
        inputs, targets = self._samples(data, tf.maximum(slots, 0))
        return Batch(inputs, targets, tf.cast(slots >= 0, tf.float32), resets, count)


class InMemoryStreams(NamedTuple):
    """An epoch of stream batches as arrays, for :class:`SegmentFeed` to gather in the compiled program.

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


@dataclass(eq=False)
class SegmentFeed(Feed):
    """Stream segments gathered from the corpus's ids in memory: step ``t`` reads
    ``ids[starts[t, r] + offsets]`` for stream ``r``, the segment and the id after it.

    The network reads ``ids + 1`` (0 is its padding id); the loss is divided by ``B * T``.
    The ``+ 1`` is added once, to a copy of the whole table, rather than to every step's
    window: on a GPU, TensorFlow computes int32 arithmetic in host memory, so adding to (or
    slicing) the gathered window inside the loop would copy it to the host and back on every
    step. Each step gathers its inputs from the shifted table and its targets from the ids.
    """

    streams: InMemoryStreams
    capacity: int = field(default=0, init=False, repr=False)
    """The most rows a call's table has had (shorter tables are padded to it)."""

    def data(self) -> dict[str, tf.Tensor]:
        """The ids read as inputs (``ids + 1``) and as targets, and the offsets of each within a segment."""
        ids, offsets = self.streams.ids, self.streams.offsets
        return {
            "inputs": tf.constant(ids + np.int32(1), tf.int32),
            "targets": tf.constant(ids, tf.int32),
            "input_offsets": tf.constant(offsets[:-1], tf.int32),
            "target_offsets": tf.constant(offsets[1:], tf.int32),
        }

    def steps_per_epoch(self, epoch: int) -> int:
        """The same steps every epoch."""
        return int(self.streams.starts.shape[0])

    def call_table(
        self, driver: Any, first_epoch: int, epochs: int, first_step: int, stop_step: int | None, *, training: bool = True
    ) -> tuple[Any, list[int]]:
        """The segment starts and resets of steps ``first_step .. stop_step - 1`` (padded to a full
        call's rows, so that the last, shorter call of an epoch reuses the compiled program)."""
        stop = self.steps_per_epoch(first_epoch) if stop_step is None else stop_step
        starts = self.streams.starts[first_step:stop]
        table = _padded({"starts": starts, "resets": self.streams.resets[first_step:stop]}, self.capacity)
        self.capacity = max(self.capacity, len(starts))
        return table, [len(starts)]

    def batch(self, data: dict[str, tf.Tensor], element: Any) -> Batch:
        """The segments starting at the step's starts (``+ 1``), and the ids one step later."""
        starts = tf.expand_dims(element["starts"], -1)
        inputs = tf.gather(data["inputs"], starts + data["input_offsets"])
        targets = tf.gather(data["targets"], starts + data["target_offsets"])
        streams, segment = self.streams.starts.shape[1], self.streams.offsets.shape[0] - 1
        count = tf.constant(float(streams * segment), tf.float32)  # every stream's, for a slice of them too
        return Batch(inputs, targets, tf.ones(tf.shape(targets), tf.float32), element["resets"], count)


@dataclass(eq=False)
class HeldOutFeed(Feed):
    """Held-out :class:`~seqkit.engine.plans.StreamSegments`: every token scored once, for evaluation."""

    segments: StreamSegments
    table: dict[str, tf.Tensor] | None = field(default=None, init=False, repr=False)

    def data(self) -> dict[str, tf.Tensor]:
        """Nothing: the segments are the table."""
        return {}

    def steps_per_epoch(self, epoch: int) -> int:
        """The segments' steps."""
        return int(self.segments.inputs.shape[0])

    def call_table(
        self, driver: Any, first_epoch: int, epochs: int, first_step: int, stop_step: int | None, *, training: bool = True
    ) -> tuple[Any, list[int]]:
        """The segments, one row per step (made once)."""
        if self.table is None:
            names = ("inputs", "targets", "weights", "resets")
            self.table = {name: tf.constant(getattr(self.segments, name)) for name in names}
        return self.table, [self.steps_per_epoch(0)]

    @property
    def rows(self) -> int:
        """The streams the segments are laid out in."""
        return int(self.segments.inputs.shape[1])

    def batch(self, data: dict[str, tf.Tensor], element: Any) -> Batch:
        """The step's segment, weighted as laid out."""
        return Batch(element["inputs"] + 1, element["targets"], element["weights"], element["resets"], None)


@dataclass(eq=False)
class DatasetFeed(Feed):
    """Stream segments read with ``tf.data``, each replica its own streams.

    Args:
        dataset_for_rows: ``rows -> tf.data.Dataset`` of one epoch of ``(inputs, targets,
            reset)`` batches of those global stream rows.
        streams: ``B``, the global number of streams (the loss is divided by ``B * T``).
    """

    dataset_for_rows: Callable[[Sequence[int]], tf.data.Dataset]
    streams: int
    steps: int
    iterator: Any = field(default=None, init=False, repr=False)
    """The endless iterator, made at the first call."""

    in_graph = False

    def data(self) -> dict[str, tf.Tensor]:
        """Nothing: the batches come from the iterator."""
        return {}

    def steps_per_epoch(self, epoch: int) -> int:
        """The same steps every epoch."""
        return int(self.steps)

    def call_table(
        self, driver: Any, first_epoch: int, epochs: int, first_step: int, stop_step: int | None, *, training: bool = True
    ) -> tuple[Any, list[int]]:
        """One endless iterator over the epochs' batches, made at the first call (from its step
        ``first_step``: a resumed run skips what it had done), read ``stop - first`` steps a call."""
        if self.iterator is None:
            strategy = driver.strategy
            per_replica = self.streams // strategy.num_replicas_in_sync
            self.iterator = iter(distributed_dataset(
                strategy,
                lambda replica: self.dataset_for_rows(range(replica * per_replica, (replica + 1) * per_replica))
                .repeat().skip(first_step).prefetch(tf.data.AUTOTUNE),
            ))
        stop = self.steps if stop_step is None else stop_step
        return self.iterator, [stop - first_step]

    def element(self, table: Any, step: tf.Tensor) -> Any:
        """The iterator's next batch."""
        return next(table)

    def batch(self, data: dict[str, tf.Tensor], element: Any) -> Batch:
        """The ids (``+ 1``), the ids one step later, every target scored."""
        inputs, targets, resets = element
        count = float(self.streams) * tf.cast(tf.shape(targets)[1], tf.float32)
        return Batch(inputs + 1, targets, tf.ones(tf.shape(targets), tf.float32), resets, count)


def distributed_dataset(strategy: tf.distribute.Strategy, replica_dataset: Callable[[int], tf.data.Dataset]) -> Any:
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
