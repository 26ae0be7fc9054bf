"""Stateful training: the LSTM state flows from batch to batch, reset by policy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from seqkit.checks import check_int
from seqkit.engine.plans import EpochPlan, stream_indices
from seqkit.errors import ConfigurationError, parameter_error
from seqkit.layouts import Layout
from seqkit.reset import ResetPolicy, parse_reset_policy
from seqkit.trainers.base import RandomWindows
from seqkit.trainers.windowed import WindowTrainer
from seqkit.windows import WindowIndex, Windows

__all__ = ["StatefulTrainer", "stream_indices"]


class StatefulTrainer(WindowTrainer):
    """``stateful=True`` LSTM with a fixed batch of parallel streams and a reset policy.

    The windows are read in corpus order, never shuffled; with ``batch_size = N`` they
    are split into ``N`` contiguous streams (see
    :func:`~seqkit.engine.plans.stream_indices`). The state is zeroed where ``reset``
    says: ``"epoch"`` (the tutorial's), ``"boundary"`` (also where a stream enters the
    next sequence of the corpus), ``"every:K"`` or ``"never"``.

    The fitted model predicts through a batch-1 copy of the network, so ``generate``
    works however many streams it was trained on. The stride defaults to the window
    length, so consecutive steps read consecutive, non-overlapping windows. Stateful
    layers hold one state for all replicas, so there is no ``strategy``: train long
    corpora on several devices with :class:`~seqkit.trainers.StreamTrainer`.

    Args:
        reset: a policy name or :class:`~seqkit.reset.ResetPolicy`. Defaults to ``"epoch"``.
        stride: steps between window starts. Defaults to None: the window length.
        batch_size: the number of parallel streams. Defaults to 1.
        The others: as :class:`~seqkit.trainers.StatelessTrainer`.

    >>> from seqkit import alphabet
    >>> model, history = StatefulTrainer(units=8, epochs=2, reset="every:5").fit(alphabet())
    >>> model.stateful, history.steps
    (True, 50)
    """

    inapplicable = {
        "strategy": " (one state for all replicas); use --trainer stream, which gives each replica its own streams.",
        "kernel": ": seqkit's LSTM kernel trains stream models only (--trainer stream).",
    }

    stateful = True

    def __init__(
        self,
        *,
        layout: str | Layout = "timesteps",
        encoding: str = "scaled",
        window: int = 1,
        stride: int | None = None,
        units: int = 32,
        layers: int = 1,
        dropout: float = 0.0,
        embedding_dim: int = 16,
        cell: str = "lstm",
        epochs: int = 500,
        batch_size: int = 1,
        reset: str | ResetPolicy = "epoch",
        learning_rate: float = 0.001,
        clip_norm: float | None = None,
        lr_schedule: str = "constant",
        seed: int = 7,
        jit_compile: bool | None = None,
        precision: str = "float32",
        callbacks: Sequence[keras.callbacks.Callback] = (),
        checkpoint_dir: Any = None,
        checkpoint_every: int = 1,
        checkpoint_steps: int | None = None,
    ) -> None:
        self._store(locals())

    def _validate(self) -> None:
        if isinstance(self.window, RandomWindows):
            raise ConfigurationError(
                "StatefulTrainer reads the corpus in order and cannot use RandomWindows; "
                "give an int window length, or use StatelessTrainer for random windows."
            )
        super()._validate()
        check_int(type(self).__name__, "batch_size", self.batch_size)
        parse_reset_policy(self.reset)

    def _stride(self) -> int:
        return int(self.window) if self.stride is None else int(self.stride)  # type: ignore[arg-type]

    def _network_batch_size(self, windows: Windows | WindowIndex) -> int | None:
        if self.batch_size > len(windows):
            raise parameter_error(
                type(self).__name__,
                "batch_size",
                f"at most the number of training windows ({len(windows)}) so that every stream holds one",
                self.batch_size,
            )
        return int(self.batch_size)

    def _step_batch_size(self, windows: Windows | WindowIndex) -> int:
        return int(self.batch_size)

    def _stream_plan(self, windows: Windows | WindowIndex) -> EpochPlan:
        indices = stream_indices(len(windows), int(self.batch_size))
        sequence_ids = np.where(indices >= 0, windows.sequence_ids[np.maximum(indices, 0)], -1)
        return EpochPlan(indices, parse_reset_policy(self.reset).reset_rows(sequence_ids))

    def epoch_plans(self, windows: Windows | WindowIndex) -> Callable[[int], EpochPlan]:
        plan = self._stream_plan(windows)
        return lambda epoch: plan

    def _evaluation_plan(self, windows: Windows | WindowIndex) -> EpochPlan | None:
        """Held-out windows as the same ``batch_size`` streams, reset by the same policy, from zero."""
        return self._stream_plan(windows)
