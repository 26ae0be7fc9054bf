"""Reset policies: when a stateful trainer zeroes the LSTM state.

A policy is a small strategy object with one method, :meth:`ResetPolicy.reset_rows`,
that says, for each step of an epoch and each row (stream) of the batch,
whether the state of that row is zeroed *before* the step.

- :class:`PerEpoch` — at the start of every epoch (the tutorial's).
- :class:`AtBoundaries` — at the start of every epoch and wherever a row
  moves on to a new sequence of the corpus.
- :class:`EveryKBatches` — every ``k`` steps (truncating the state's memory).
- :class:`Never` — only once, before training; state flows across epochs.

>>> import numpy as np
>>> sequence_ids = np.array([[0], [0], [1], [1]])
>>> AtBoundaries().reset_rows(sequence_ids).ravel().tolist()
[True, False, True, False]
>>> parse_reset_policy("every:2")
EveryKBatches(k=2)
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass

import numpy as np

from seqkit.checks import is_int
from seqkit.errors import ConfigurationError


class ResetPolicy(abc.ABC):
    """When to zero each stream's state; one method to implement."""

    name: str = ""

    @abc.abstractmethod
    def reset_rows(self, sequence_ids: np.ndarray) -> np.ndarray:
        """Which rows reset before which step of an epoch.

        Args:
            sequence_ids: int array ``(steps, batch)``: the corpus sequence each
                sample comes from (``-1`` for an empty slot).

        Returns:
            bool array ``(steps, batch)``: True where the row's state is zeroed before the step.
        """

    def describe(self) -> str:
        """The policy as the CLI spells it (``epoch``, ``boundary``, ``every:K``, ``never``)."""
        return self.name


@dataclass(frozen=True)
class PerEpoch(ResetPolicy):
    """Reset every row at the start of each epoch."""

    name = "epoch"

    def reset_rows(self, sequence_ids: np.ndarray) -> np.ndarray:
        rows = np.zeros(sequence_ids.shape, dtype=bool)
        rows[0] = True
        return rows


@dataclass(frozen=True)
class AtBoundaries(ResetPolicy):
    """Reset at each epoch's start and where a row passes into another sequence."""

    name = "boundary"

    def reset_rows(self, sequence_ids: np.ndarray) -> np.ndarray:
        rows = np.zeros(sequence_ids.shape, dtype=bool)
        rows[0] = True
        rows[1:] = sequence_ids[1:] != sequence_ids[:-1]
        return rows


@dataclass(frozen=True)
class EveryKBatches(ResetPolicy):
    """Reset every row before steps ``0, k, 2k, …`` of each epoch.

    Args:
        k: the number of batches between resets, at least 1.
    """

    k: int = 1

    def __post_init__(self) -> None:
        if not is_int(self.k) or self.k < 1:
            raise ConfigurationError(
                f"The reset interval k must be an int >= 1; got {self.k!r}. Use e.g. 'every:4'."
            )

    def reset_rows(self, sequence_ids: np.ndarray) -> np.ndarray:
        rows = np.zeros(sequence_ids.shape, dtype=bool)
        rows[:: self.k] = True
        return rows

    def describe(self) -> str:
        return f"every:{self.k}"


@dataclass(frozen=True)
class Never(ResetPolicy):
    """Never reset during training (the state starts at zero once)."""

    name = "never"

    def reset_rows(self, sequence_ids: np.ndarray) -> np.ndarray:
        return np.zeros(sequence_ids.shape, dtype=bool)


def parse_reset_policy(policy: str | ResetPolicy) -> ResetPolicy:
    """A policy from its spelling: ``epoch``, ``boundary``, ``every:K`` or ``never``.

    >>> parse_reset_policy("every:0")
    Traceback (most recent call last):
    ...
    seqkit.errors.ConfigurationError: The reset interval k must be an int >= 1; got 0. Use e.g. 'every:4'.
    """
    if isinstance(policy, ResetPolicy):
        return policy
    text = str(policy).strip().lower()
    simple: dict[str, ResetPolicy] = {"epoch": PerEpoch(), "boundary": AtBoundaries(), "never": Never()}
    if text in simple:
        return simple[text]
    if text.startswith("every:"):
        count = text.removeprefix("every:")
        if re.fullmatch(r"-?[0-9]+", count) is None:
            raise ConfigurationError(
                f"Invalid reset policy {policy!r}: the interval after 'every:' must be an integer, e.g. 'every:4'."
            )
        return EveryKBatches(int(count))
    raise ConfigurationError(
        f"Unknown reset policy {policy!r}: expected 'epoch', 'boundary', 'every:K' (K >= 1) or 'never'."
    )
