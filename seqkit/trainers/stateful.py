"""Stateful training: the LSTM state flows from batch to batch, reset by policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from seqkit.engine import EpochPlan
from seqkit.errors import ConfigurationError, parameter_error
from seqkit.reset import ResetPolicy, parse_reset_policy
from seqkit.trainers.base import RandomWindows, Trainer
from seqkit.windows import Windows


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


class StatefulTrainer(Trainer):
    """``stateful=True`` LSTM with a fixed batch of parallel streams and a reset policy.

    The windows are read in corpus order, never shuffled; with
    ``batch_size = N`` they are split into ``N`` contiguous streams (see
    :func:`stream_indices`). The state is zeroed where ``reset`` says:
    ``"epoch"`` (the tutorial's), ``"boundary"`` (also where a stream enters
    the next sequence of the corpus), ``"every:K"`` or ``"never"``.

    The fitted model predicts through a batch-1 copy of the network, so
    ``generate`` works however many streams it was trained on. The stride
    defaults to the window length, so consecutive steps read consecutive,
    non-overlapping windows.

    Args:
        reset: a policy name or :class:`~seqkit.reset.ResetPolicy`. Defaults to ``"epoch"``.
        **kwargs: the hyperparameters of :class:`~seqkit.trainers.base.Trainer`.

    >>> from seqkit import alphabet
    >>> model, history = StatefulTrainer(units=8, epochs=2, reset="every:5").fit(alphabet())
    >>> model.stateful, history.steps
    (True, 50)
    """

    stateful = True

    def __init__(self, *, reset: str | ResetPolicy = "epoch", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reset = reset

    def _validate(self) -> None:
        super()._validate()
        if isinstance(self.window, RandomWindows):
            raise ConfigurationError(
                "StatefulTrainer reads the corpus in order and cannot use RandomWindows; "
                "give an int window length, or use StatelessTrainer for random windows."
            )
        parse_reset_policy(self.reset)

    def _stride(self) -> int:
        return int(self.window) if self.stride is None else int(self.stride)  # type: ignore[arg-type]

    def _network_batch_size(self, windows: Windows) -> int | None:
        if self.batch_size > len(windows):
            raise parameter_error(
                type(self).__name__,
                "batch_size",
                f"at most the number of training windows ({len(windows)}) so that every stream holds one",
                self.batch_size,
            )
        return int(self.batch_size)

    def _plans(self, windows: Windows) -> Callable[[int], EpochPlan]:
        indices = stream_indices(len(windows), int(self.batch_size))
        sequence_ids = np.where(indices >= 0, windows.sequence_ids[np.maximum(indices, 0)], -1)
        plan = EpochPlan(indices, parse_reset_policy(self.reset).reset_rows(sequence_ids))
        return lambda epoch: plan
