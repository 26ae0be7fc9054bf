"""How a :class:`~seqkit.sequence_model.SequenceModel` reads text: stateless or stateful.

A stateless model reads the last window of the text, each prediction on its own; a
stateful one feeds every id through its batch-1 network once, the LSTM state carrying the
rest. The model picks one :class:`Reading` when it is made and delegates to it everything
that differs: the prediction's input shape, reading a prompt, priming,
resetting, the stride of evaluation windows, and evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import keras
import numpy as np

from seqkit.errors import DataError
from seqkit.models import reset_states
from seqkit.windows import WindowIndex, Windows

if TYPE_CHECKING:
    from seqkit.sequence_model import SequenceModel

__all__ = ["EVALUATION_CHUNK", "Reading", "StatefulReading", "StatelessReading"]

EVALUATION_CHUNK = 4096
"""Windows a stateless model predicts per call when it evaluates."""


class Reading(Protocol):
    """What differs between a stateful and a stateless :class:`SequenceModel`.

    A stateless model reads the last window of the text, each prediction on its own;
    a stateful one feeds every id through its batch-1 network once, the LSTM state
    carrying the rest. :class:`SequenceModel` picks one in ``__init__`` and delegates.
    """

    stateful: bool
    name: str

    def input_shape(self, network: keras.Model) -> list[int | None]:
        """The shape of the compiled prediction's input."""

    def read(self, model: SequenceModel, tokens: Any, ids: list[int]) -> np.ndarray:
        """The next-token distribution after reading ``tokens`` (``ids``, their encoding, not empty)."""

    def prime(self, model: SequenceModel, tokens: Any) -> None:
        """Warm the state on ``tokens``."""

    def reset(self, model: SequenceModel) -> None:
        """Zero the state."""

    def stride(self, window_length: int) -> int:
        """The stride of evaluation windows when the training record names none."""

    def predictions(self, model: SequenceModel, windows: Windows | WindowIndex) -> np.ndarray:
        """The most likely next id of every window, in order."""

    def distributions(self, model: SequenceModel, windows: Windows | WindowIndex) -> Iterator[tuple[slice, np.ndarray]]:
        """The next-token distributions of the windows, in order: ``(rows, probabilities (n, V))`` chunks."""


class StatelessReading:
    """Reads the last ``L`` ids of the text, front-padded if the model is masked; no state."""

    stateful = False
    name = "stateless"

    def input_shape(self, network: keras.Model) -> list[int | None]:
        return [None, *list(network.input_shape)[1:]]  # any batch size

    def read(self, model: SequenceModel, tokens: Any, ids: list[int]) -> np.ndarray:
        if len(ids) < model.window_length and not model.masked:
            raise DataError(
                f"This model reads windows of {model.window_length} tokens; got {len(ids)} "
                f"({' '.join(map(str, tokens))}). Give at least {model.window_length} tokens."
            )
        return model.probabilities(model.last_window(ids))[0]

    def prime(self, model: SequenceModel, tokens: Any) -> None:
        pass

    def reset(self, model: SequenceModel) -> None:
        pass

    def stride(self, window_length: int) -> int:
        return 1

    def predictions(self, model: SequenceModel, windows: Windows | WindowIndex) -> np.ndarray:
        """All windows independently, a few thousand at a time."""
        predicted = np.empty(len(windows), dtype=np.int32)
        for rows, probabilities in self.distributions(model, windows):
            predicted[rows] = np.argmax(probabilities, axis=-1)
        return predicted

    def distributions(self, model: SequenceModel, windows: Windows | WindowIndex) -> Iterator[tuple[slice, np.ndarray]]:
        """All windows independently, :data:`EVALUATION_CHUNK` at a time."""
        for start in range(0, len(windows), EVALUATION_CHUNK):
            rows = slice(start, min(len(windows), start + EVALUATION_CHUNK))
            chunk = windows.take(rows).inputs if isinstance(windows, WindowIndex) else windows.inputs[rows]
            yield rows, model.probabilities(chunk)


class StatefulReading:
    """Feeds every id once, ``L`` at a time, through the batch-1 network; its state holds the rest."""

    stateful = True
    name = "stateful"

    def input_shape(self, network: keras.Model) -> list[int | None]:
        return list(network.input_shape)  # the batch of 1 a stateful layer was built for

    def read(self, model: SequenceModel, tokens: Any, ids: list[int]) -> np.ndarray:
        return self._feed(model, ids)

    def prime(self, model: SequenceModel, tokens: Any) -> None:
        model.next_distribution(tokens)

    def reset(self, model: SequenceModel) -> None:
        reset_states(model.network)

    def stride(self, window_length: int) -> int:
        return window_length  # windows back to back

    def predictions(self, model: SequenceModel, windows: Windows | WindowIndex) -> np.ndarray:
        """From a reset state, in order, the state reset wherever the corpus sequence changes."""
        predicted = np.empty(len(windows), dtype=np.int64)
        for rows, probabilities in self.distributions(model, windows):
            predicted[rows] = np.argmax(probabilities, axis=-1)
        return predicted

    def distributions(self, model: SequenceModel, windows: Windows | WindowIndex) -> Iterator[tuple[slice, np.ndarray]]:
        """One window at a time from a reset state, in order, the state reset wherever the corpus
        sequence changes (and reset again at the end)."""
        model.reset()
        previous = None
        try:
            for row in range(len(windows)):
                if previous is not None and windows.sequence_ids[row] != previous:
                    model.reset()
                previous = windows.sequence_ids[row]
                window = windows.take([row]).inputs if isinstance(windows, WindowIndex) else windows.inputs[row : row + 1]
                yield slice(row, row + 1), model.probabilities(window)
        finally:
            model.reset()

    @staticmethod
    def _feed(model: SequenceModel, ids: list[int]) -> np.ndarray:
        """Feed ids one window at a time (non-overlapping) through the batch-1 twin."""
        if len(ids) % model.window_length:
            raise DataError(
                f"A stateful model reads {model.window_length} tokens per step; got {len(ids)} tokens, "
                f"which is not a multiple of {model.window_length}."
            )
        for start in range(0, len(ids), model.window_length):
            probabilities = model.probabilities(np.asarray([ids[start : start + model.window_length]]))
        return probabilities[0]
