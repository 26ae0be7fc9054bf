"""Epoch plans: which samples feed each optimizer step, and which state rows reset first.

An :class:`EpochPlan` is the one contract between a trainer and the compiled loop: a
``(steps, batch)`` table of sample indices (``-1`` marks an empty slot) and a table saying
which rows of a stateful model's recurrent state to zero before each step. Stateless
trainers use :func:`shuffled_plan` (Keras ``fit`` semantics); stateful ones lay ordered
samples out as parallel streams with :func:`stream_indices`, so that row ``r`` of step
``t + 1`` continues row ``r`` of step ``t``. :class:`WindowedInputs` says how a step finds
its samples without materializing the windows.

>>> plan = shuffled_plan(5, 2, seed=0, epoch=0, shuffle=False)
>>> plan.indices.tolist(), plan.steps, plan.num_samples
([[0, 1], [2, 3], [4, -1]], 3, 5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqkit.checks import check_int
from seqkit.errors import DataError

__all__ = [
    "STEPS_PER_CALL",
    "EpochPlan",
    "StreamSegments",
    "WindowedInputs",
    "auto_epochs_per_call",
    "shuffled_plan",
    "stream_indices",
    "stream_segments",
]

STEPS_PER_CALL = 512
"""Steps per compiled call that fit aims at when it may chunk epochs (call overhead ~1 ms)."""


@dataclass(frozen=True, eq=False)
class WindowedInputs:
    """Samples cut from one 1-D array inside the compiled step, never materialized.

    Sample ``i`` is ``encode(sequence[starts[i] : starts[i] + window_length])`` and its
    target is ``sequence[starts[i] + window_length]``. Passed to
    :meth:`~seqkit.engine.loops.TrainingLoop.fit` in place of an input array (with
    ``targets=None``), it keeps memory at ``O(N)`` whatever the window length and the
    encoding: each step gathers and encodes only its own batch.

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
    encode: Callable[[Any], Any]

    def __post_init__(self) -> None:
        sequence, starts = np.asarray(self.sequence), np.asarray(self.starts)
        if sequence.ndim != 1 or starts.ndim != 1 or len(starts) == 0:
            raise DataError(
                f"WindowedInputs needs a 1-D sequence and a non-empty 1-D starts array; got "
                f"shapes {sequence.shape} and {starts.shape}."
            )
        check_int("WindowedInputs", "window_length", self.window_length)
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

    >>> a = shuffled_plan(5, 2, seed=7, epoch=3).indices
    >>> bool((a == shuffled_plan(5, 2, seed=7, epoch=3).indices).all())
    True
    """
    check_int("shuffled_plan", "num_samples", num_samples)
    check_int("shuffled_plan", "batch_size", batch_size)
    if shuffle:
        order = np.random.default_rng((seed, epoch)).permutation(num_samples)
    else:
        order = np.arange(num_samples)
    steps = -(-num_samples // batch_size)
    indices = np.full(steps * batch_size, -1, dtype=np.int32)
    indices[:num_samples] = order
    indices = indices.reshape(steps, batch_size)
    return EpochPlan(indices, np.zeros(indices.shape, dtype=bool))


def stream_indices(count: int, streams: int) -> np.ndarray:
    """Lay ``count`` ordered samples out as ``streams`` parallel streams.

    Row ``r`` of step ``t`` is sample ``r * m + t`` with ``m = ceil(count / streams)``,
    so row ``r`` of step ``t + 1`` continues row ``r`` of step ``t``. Slots past the
    end are ``-1`` (empty). The naive layout — consecutive samples side by side in
    one batch — would carry state from sample ``t`` to sample ``t + streams``
    instead, and teach a different dependency.

    >>> stream_indices(5, 2).tolist()
    [[0, 3], [1, 4], [2, -1]]
    """
    length = -(-count // streams)
    table = np.arange(streams * length, dtype=np.int64).reshape(streams, length).T
    return np.where(table < count, table, -1).astype(np.int32)


def auto_epochs_per_call(steps_per_epoch: int) -> int:
    """Epochs per compiled call that make about 512 optimizer steps per call.

    >>> auto_epochs_per_call(1), auto_epochs_per_call(25), auto_epochs_per_call(1000)
    (512, 20, 1)
    """
    return max(1, STEPS_PER_CALL // max(1, int(steps_per_epoch)))


@dataclass(frozen=True, eq=False)
class StreamSegments:
    """Held-out ids laid out as ``B`` parallel streams of ``T``-step segments, every token scored.

    Attributes:
        inputs: int32 ``(steps, B, T)`` ids (``0`` where padded).
        targets: int32 ``(steps, B, T)``: the id after each input.
        weights: float32 ``(steps, B, T)``: 1 where a target is scored, 0 for padding and
            for the first id of a document (nothing before it in its document predicts it).
        resets: bool ``(steps, B)``: zero the row's state before the segment (step 0, and
            where a document begins inside the segment, as stream training does).
    """

    inputs: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    resets: np.ndarray

    @property
    def tokens(self) -> int:
        """How many targets are scored."""
        return int(self.weights.sum())


def stream_segments(ids: np.ndarray, document_starts: np.ndarray, streams: int, segment_length: int) -> StreamSegments:
    """Lay ``ids`` out as :class:`StreamSegments` so that every id but the first is a target once.

    Stream ``r`` reads ids ``r * S`` to ``(r + 1) * S`` (``S = ceil((N - 1) / B)``), one id
    more than it predicts, so consecutive streams overlap by one id and no target is left
    out (stream training drops the last ``N mod B`` ids instead; evaluation does not).

    >>> segments = stream_segments(np.arange(10), np.array([0]), streams=2, segment_length=3)
    >>> segments.tokens, segments.inputs.shape
    (9, (2, 2, 3))
    >>> segments.targets[:, 0].ravel().tolist(), segments.targets[:, 1].ravel().tolist()
    ([1, 2, 3, 4, 5, 0], [6, 7, 8, 9, 0, 0])
    """
    ids = np.asarray(ids, dtype=np.int32)
    check_int("stream_segments", "streams", streams)
    check_int("stream_segments", "segment_length", segment_length)
    if len(ids) < 2:
        raise DataError(f"Held-out text of {len(ids)} token(s) has nothing to predict; give at least 2 tokens.")
    predicted = len(ids) - 1
    streams = min(streams, predicted)
    per_stream = -(-predicted // streams)
    steps = -(-per_stream // segment_length)
    width = steps * segment_length
    inputs = np.zeros((streams, width), dtype=np.int32)
    targets = np.zeros((streams, width), dtype=np.int32)
    weights = np.zeros((streams, width), dtype=np.float32)
    starts_document = np.zeros(len(ids), dtype=bool)
    starts_document[np.asarray(document_starts, dtype=np.int64)] = True
    resets = np.zeros((streams, steps), dtype=bool)
    resets[:, 0] = True
    for row in range(streams):
        first = row * per_stream
        count = max(0, min(per_stream, predicted - first))
        inputs[row, :count] = ids[first : first + count]
        targets[row, :count] = ids[first + 1 : first + 1 + count]
        weights[row, :count] = ~starts_document[first + 1 : first + 1 + count]
        new_document = np.flatnonzero(starts_document[first : first + count])
        resets[row, new_document // segment_length] = True
    shape = (streams, steps, segment_length)
    return StreamSegments(
        inputs.reshape(shape).transpose(1, 0, 2).copy(),
        targets.reshape(shape).transpose(1, 0, 2).copy(),
        weights.reshape(shape).transpose(1, 0, 2).copy(),
        resets.T.copy(),
    )
