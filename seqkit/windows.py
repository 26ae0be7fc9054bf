"""Windows: (input window, next token) pairs cut from id sequences.

A :class:`Windows` holds ``inputs`` of shape ``(n, L)``, ``targets`` of shape
``(n,)`` and the true ``lengths`` of each window. Windows shorter than ``L``
are padded at the front (as Keras's ``pad_sequences`` does) with
:data:`PADDING_ID`, which is ``-1`` and so can never be confused with a real
token id (the origin tutorial pads with 0, which is also the id of 'A').

>>> windows = sliding_windows([0, 1, 2, 3, 4], length=3)
>>> windows.inputs.tolist(), windows.targets.tolist()
([[0, 1, 2], [1, 2, 3]], [3, 4])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqkit.checks import check_int
from seqkit.errors import DataError

PADDING_ID = -1
"""The id that marks padding in window inputs; never a vocabulary id."""


@dataclass(frozen=True)
class Windows:
    """Input windows, their true lengths and the token that follows each.

    Attributes:
        inputs: int32 array ``(n, L)`` of ids, front-padded with :data:`PADDING_ID`.
        lengths: int32 array ``(n,)``: how many trailing positions of each row are real.
        targets: int32 array ``(n,)``: the id that follows each window.
        sequence_ids: int32 array ``(n,)``: which input sequence each window comes from
            (stateful training resets state where it changes).
    """

    inputs: np.ndarray
    lengths: np.ndarray
    targets: np.ndarray
    sequence_ids: np.ndarray

    def __post_init__(self) -> None:
        count = len(self.targets)
        if self.inputs.ndim != 2 or len(self.inputs) != count:
            raise DataError(
                f"Windows need inputs of shape (n, L) and targets of shape (n,); got inputs "
                f"{self.inputs.shape} and targets {self.targets.shape}."
            )
        if self.lengths.shape != (count,) or self.sequence_ids.shape != (count,):
            raise DataError(
                f"Windows need lengths and sequence_ids of shape ({count},); got "
                f"{self.lengths.shape} and {self.sequence_ids.shape}."
            )

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def window_length(self) -> int:
        """``L``, the width of :attr:`inputs`."""
        return int(self.inputs.shape[1])

    @property
    def padding_mask(self) -> np.ndarray:
        """Boolean ``(n, L)`` array, True where the input is padding."""
        return self.inputs == PADDING_ID

    def subset(self, indices: Sequence[int] | np.ndarray) -> Windows:
        """The windows at ``indices``, in that order."""
        index = np.asarray(indices, dtype=np.int64)
        return Windows(
            self.inputs[index], self.lengths[index], self.targets[index], self.sequence_ids[index]
        )


def _as_id_sequences(ids: Sequence[int] | Sequence[Sequence[int]] | np.ndarray) -> list[np.ndarray]:
    """Accept one id sequence or several; return a list of int64 arrays of ids >= 0."""
    if isinstance(ids, np.ndarray) and ids.ndim == 1:
        sequences = [ids.astype(np.int64)]
    else:
        items = list(ids)
        if items and all(isinstance(item, Sequence | np.ndarray) and not isinstance(item, str) for item in items):
            sequences = [np.asarray(item, dtype=np.int64).reshape(-1) for item in items]
        else:
            sequences = [np.asarray(items, dtype=np.int64).reshape(-1)]
    for number, sequence in enumerate(sequences):
        if np.any(sequence < 0):
            position = int(np.argmax(sequence < 0))
            raise DataError(
                f"Ids must be vocabulary ids >= 0; got {int(sequence[position])} at position {position} "
                f"of sequence {number}. Encode tokens with Vocabulary.encode (padding is added by the windows)."
            )
    return sequences


def sliding_windows(
    ids: Sequence[int] | Sequence[Sequence[int]] | np.ndarray, length: int, stride: int = 1
) -> Windows:
    """Every window of ``length`` ids and the id after it, stepping by ``stride``.

    Over a sequence of ``N`` ids this yields ``(N - length - 1) // stride + 1``
    windows; the alphabet (``N = 26``) gives 25 windows of length 1 and 23 of
    length 3, the tutorial's ``dataX``/``dataY``. Several sequences (a list of
    id lists) are windowed separately: no window crosses a boundary.

    Args:
        ids: one id sequence, or a list of them.
        length: window length ``L``, at least 1 and less than every sequence's length.
        stride: step between window starts. Defaults to 1.

    Returns:
        The windows, in order, with their sequence of origin.

    >>> sliding_windows(list(range(6)), length=2, stride=2).inputs.tolist()
    [[0, 1], [2, 3]]
    >>> sliding_windows([[0, 1, 2], [5, 6, 7]], length=2).sequence_ids.tolist()
    [0, 1]
    """
    length = check_int("sliding_windows", "length", length)
    stride = check_int("sliding_windows", "stride", stride)
    sequences = _as_id_sequences(ids)
    inputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    origins: list[np.ndarray] = []
    for number, sequence in enumerate(sequences):
        if len(sequence) == 0:
            raise DataError(
                f"Sequence {number} is empty: cannot cut windows from an empty corpus. "
                "Give at least length + 1 tokens."
            )
        if length >= len(sequence):
            raise DataError(
                f"Window length {length} must be shorter than the sequence it slides over "
                f"({len(sequence)} tokens{'' if len(sequences) == 1 else f' in sequence {number}'}). "
                f"Use a window length of at most {len(sequence) - 1}, or a longer corpus."
            )
        view = np.lib.stride_tricks.sliding_window_view(sequence, length + 1)[::stride]
        inputs.append(view[:, :length])
        targets.append(view[:, length])
        origins.append(np.full(len(view), number, dtype=np.int32))
    stacked = np.concatenate(inputs).astype(np.int32)
    return Windows(
        inputs=stacked,
        lengths=np.full(len(stacked), length, dtype=np.int32),
        targets=np.concatenate(targets).astype(np.int32),
        sequence_ids=np.concatenate(origins),
    )


def random_windows(
    ids: Sequence[int] | np.ndarray, count: int, max_length: int, *, seed: int | None = 7
) -> Windows:
    """Random windows of 1 to ``max_length`` consecutive ids and the id after each.

    Draws exactly as the origin tutorial's variable-length experiment does
    (``numpy.random.seed(7)``; ``start = randint(N - 2)``;
    ``end = randint(start, min(start + max_length, N - 1))``), so with
    ``seed=7`` over the alphabet it reproduces the tutorial's 1000 samples.
    Shorter windows are front-padded with :data:`PADDING_ID`.

    Args:
        ids: the id sequence to sample from (at least 3 ids).
        count: number of windows to draw.
        max_length: the longest window, ``L`` of the result.
        seed: seed of the legacy NumPy generator. Defaults to 7, the tutorial's.

    >>> w = random_windows(list(range(26)), count=3, max_length=5, seed=7)
    >>> w.inputs.shape, w.lengths.tolist()
    ((3, 5), [5, 1, 1])
    >>> w.inputs.tolist()[:2], w.targets.tolist()[:2]
    ([[15, 16, 17, 18, 19], [-1, -1, -1, -1, 22]], [20, 23])
    """
    count = check_int("random_windows", "count", count)
    max_length = check_int("random_windows", "max_length", max_length)
    sequence = _as_id_sequences(ids)
    if len(sequence) != 1:
        raise DataError("random_windows samples from one id sequence; got several. Concatenate them first.")
    source = sequence[0]
    if len(source) < 3:
        raise DataError(
            f"random_windows needs a sequence of at least 3 ids to sample from; got {len(source)}. "
            "Use a longer corpus."
        )
    generator = np.random.RandomState(seed)
    size = len(source)
    inputs = np.full((count, max_length), PADDING_ID, dtype=np.int32)
    lengths = np.empty(count, dtype=np.int32)
    targets = np.empty(count, dtype=np.int32)
    for row in range(count):
        start = generator.randint(size - 2)
        end = generator.randint(start, min(start + max_length, size - 1))
        window = source[start : end + 1]
        inputs[row, max_length - len(window) :] = window
        lengths[row] = len(window)
        targets[row] = source[end + 1]
    return Windows(inputs, lengths, targets, np.zeros(count, dtype=np.int32))


@dataclass(frozen=True, eq=False)
class WindowIndex:
    """Sliding windows kept as start positions into one id array, never copied out.

    Window ``i`` reads ``ids[starts[i] : starts[i] + window_length]`` and predicts
    ``ids[starts[i] + window_length]``. The index costs ``O(N)`` memory (the ids once,
    plus one start and one sequence number per window) whatever the window length and
    however the layout encodes it: the training loop cuts and encodes each batch inside
    its compiled step. :meth:`take` materializes a few windows as :class:`Windows`.

    Attributes:
        ids: int32 ``(N,)``: every sequence's ids, concatenated.
        starts: int32 ``(n,)``: where each window starts in :attr:`ids`.
        window_length: ``L``.
        sequence_ids: int32 ``(n,)``: which input sequence each window comes from.

    >>> index = sliding_window_index([[0, 1, 2, 3], [7, 8, 9]], length=2)
    >>> index.starts.tolist(), index.targets.tolist(), index.sequence_ids.tolist()
    ([0, 1, 4], [2, 3, 9], [0, 0, 1])
    >>> index.take([2]).inputs.tolist()
    [[7, 8]]
    """

    ids: np.ndarray
    starts: np.ndarray
    window_length: int
    sequence_ids: np.ndarray

    def __post_init__(self) -> None:
        if self.ids.ndim != 1 or self.starts.shape != self.sequence_ids.shape or self.starts.ndim != 1:
            raise DataError(
                f"A WindowIndex needs 1-D ids and starts and sequence_ids of one shape; got ids "
                f"{self.ids.shape}, starts {self.starts.shape}, sequence_ids {self.sequence_ids.shape}."
            )

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def targets(self) -> np.ndarray:
        """int32 ``(n,)``: the id after each window."""
        return self.ids[self.starts + self.window_length]

    @property
    def lengths(self) -> np.ndarray:
        """int32 ``(n,)``: every window is whole (no padding), so all ``L``."""
        return np.full(len(self), self.window_length, dtype=np.int32)

    def take(self, rows: Sequence[int] | np.ndarray | slice) -> Windows:
        """The windows at ``rows`` (indices or a slice), materialized, in that order."""
        starts = self.starts[rows]
        positions = starts[:, None] + np.arange(self.window_length, dtype=starts.dtype)
        return Windows(
            inputs=self.ids[positions],
            lengths=np.full(len(starts), self.window_length, dtype=np.int32),
            targets=self.ids[starts + self.window_length],
            sequence_ids=self.sequence_ids[rows],
        )

    def materialize(self) -> Windows:
        """Every window as :class:`Windows` (``(n, L)`` ids: only for small corpora)."""
        return self.take(slice(None))


def sliding_window_index(
    ids: Sequence[int] | Sequence[Sequence[int]] | np.ndarray,
    length: int,
    stride: int = 1,
    *,
    sequence_lengths: Sequence[int] | np.ndarray | None = None,
) -> WindowIndex:
    """The windows of :func:`sliding_windows`, as a :class:`WindowIndex` (no ``(n, L)`` copy).

    Args:
        ids: one id sequence or a list of them; or, with ``sequence_lengths``, all
            sequences concatenated in one 1-D array (used as is when it is int32).
        length: window length ``L``, less than every sequence's length.
        stride: step between window starts. Defaults to 1.
        sequence_lengths: the length of each sequence in a concatenated ``ids``.

    >>> sliding_window_index(list(range(6)), length=2, stride=2).materialize().inputs.tolist()
    [[0, 1], [2, 3]]
    """
    length = check_int("sliding_window_index", "length", length)
    stride = check_int("sliding_window_index", "stride", stride)
    if sequence_lengths is None:
        sequences = _as_id_sequences(ids)
        sizes = np.array([len(sequence) for sequence in sequences], dtype=np.int64)
        flat = np.concatenate(sequences).astype(np.int32) if sequences else np.zeros(0, np.int32)
    else:
        flat = np.asarray(ids)
        if flat.dtype != np.int32:
            flat = flat.astype(np.int32)
        sizes = np.asarray(sequence_lengths, dtype=np.int64)
        if flat.ndim != 1 or sizes.sum() != len(flat):
            raise DataError(
                f"sequence_lengths must add up to the length of the 1-D ids ({flat.shape}); "
                f"they add up to {int(sizes.sum())}."
            )
        if len(flat) and int(flat.min()) < 0:
            raise DataError(f"Ids must be vocabulary ids >= 0; got {int(flat.min())}.")
    if len(flat) >= 2**31 - 1:
        raise DataError(f"A WindowIndex holds fewer than 2**31 ids; got {len(flat)}. Split the corpus.")
    starts: list[np.ndarray] = []
    origins: list[np.ndarray] = []
    offset = 0
    for number, size in enumerate(sizes.tolist()):
        if size == 0:
            raise DataError(
                f"Sequence {number} is empty: cannot cut windows from an empty corpus. "
                "Give at least length + 1 tokens."
            )
        if length >= size:
            raise DataError(
                f"Window length {length} must be shorter than the sequence it slides over "
                f"({size} tokens{'' if len(sizes) == 1 else f' in sequence {number}'}). "
                f"Use a window length of at most {size - 1}, or a longer corpus."
            )
        starts.append(np.arange(offset, offset + size - length, stride, dtype=np.int32))
        origins.append(np.full(len(starts[-1]), number, dtype=np.int32))
        offset += size
    return WindowIndex(flat, np.concatenate(starts), length, np.concatenate(origins))
