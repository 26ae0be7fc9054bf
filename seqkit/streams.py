"""Stream training data: a long id sequence on disk, read as ``B`` parallel streams.

Truncated backpropagation through time, as char-rnn does it. The corpus — one long
sequence of ids, documents back to back — is cut into ``B`` contiguous streams of
``S = N // B`` ids; stream ``r`` starts at ``r * S``. Each optimizer step reads the
next segment of ``T`` ids of every stream, so row ``r`` of batch ``t + 1`` continues
row ``r`` of batch ``t``, and the model predicts the next id at every one of the ``T``
steps. The LSTM state is carried from segment to segment and zeroed at each epoch's
start and, with the ``"boundary"`` policy, before the segment where a new document
begins.

The ids live in a :class:`TokenFile` (raw little-endian int32) and reach the training
loop through ``tf.data``: each stream is a :class:`tf.data.FixedLengthRecordDataset`
reading its segments from the file, so no window is ever materialized and a corpus
larger than memory trains. Under a :class:`tf.distribute.Strategy` each replica reads
its own streams (replica ``k`` of ``R`` owns rows ``k * B / R`` to ``(k + 1) * B / R - 1``).

>>> layout = StreamLayout(length=1_000, streams=4, segment_length=10)
>>> layout.stream_length, layout.steps, layout.tokens_per_epoch
(250, 24, 960)
>>> stream_resets(layout, document_starts=[0, 260], policy="boundary")[:2].astype(int).tolist()
[[1, 1, 1, 1], [0, 1, 0, 0]]
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from seqkit.checks import check_int
from seqkit.datasets import Corpus
from seqkit.errors import ConfigurationError, DataError
from seqkit.files import TEXT_FILE, check_path, read_text
from seqkit.vocab import Vocabulary

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "StreamLayout",
    "TokenFile",
    "encode_corpus",
    "encode_text_files",
    "stream_dataset",
    "stream_resets",
]

_ID_DTYPE = np.dtype("<i4")
# how a token file's path is checked (seqkit.files.check_path)
_TOKEN_FILE = dataclasses.replace(TEXT_FILE, noun="Token file", expected="a file written by encode_corpus")
STREAM_RESET_POLICIES = ("epoch", "boundary")


@dataclass(frozen=True)
class TokenFile:
    """An encoded corpus on disk: ids as raw little-endian int32, documents back to back.

    Attributes:
        path: the ``.ids`` file.
        vocabulary: the vocabulary the ids belong to.
        document_starts: int64 ``(documents,)``: where each document starts (the first is 0).
        name: a label for tables and bundles.
        level: ``"char"`` or ``"word"``.
    """

    path: Path
    vocabulary: Vocabulary
    document_starts: np.ndarray
    name: str = "corpus"
    level: str = "char"

    def __post_init__(self) -> None:
        file = check_path(self.path, _TOKEN_FILE)
        try:
            status = file.stat()
        except OSError:
            raise DataError(f"Token file '{file}' does not exist or cannot be read. Check the path.") from None
        if not stat.S_ISREG(status.st_mode):
            raise DataError(
                f"Token file '{file}' is not a regular file; expected a file written by encode_corpus."
            )
        size = status.st_size
        if size == 0 or size % _ID_DTYPE.itemsize:
            raise DataError(
                f"Token file '{file}' holds {size} bytes, not a whole, non-zero number of int32 ids: "
                "it is truncated or not a seqkit token file. Encode the corpus again with encode_corpus."
            )
        starts = np.asarray(self.document_starts)
        length = size // _ID_DTYPE.itemsize
        if (
            starts.ndim != 1
            or len(starts) == 0
            or starts[0] != 0
            or np.any(np.diff(starts) <= 0)
            or starts[-1] >= length
        ):
            raise DataError(
                f"The document starts of token file '{file}' must begin at 0, increase, and stay "
                f"below its {length} ids. Encode the corpus again with encode_corpus."
            )

    @property
    def length(self) -> int:
        """``N``, the number of ids in the file."""
        return Path(self.path).stat().st_size // _ID_DTYPE.itemsize

    def __len__(self) -> int:
        return self.length

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Ids ``[start, stop)`` read from the file (a memory map; nothing else is loaded)."""
        ids = np.memmap(self.path, dtype=_ID_DTYPE, mode="r")
        return np.asarray(ids[start:stop], dtype=np.int32)


def encode_corpus(corpus: Corpus, vocabulary: Vocabulary, path: str | os.PathLike[str]) -> TokenFile:
    """Write ``corpus`` encoded with ``vocabulary`` to ``path``, one document at a time.

    >>> import tempfile, pathlib
    >>> corpus = Corpus.from_sequences(["abc", "ba"])
    >>> tokens = encode_corpus(corpus, corpus.vocabulary(), pathlib.Path(tempfile.mkdtemp()) / "c.ids")
    >>> tokens.read().tolist(), tokens.document_starts.tolist()
    ([0, 1, 2, 1, 0], [0, 3])
    """
    return _write(
        (vocabulary.encode_array(document) for document in corpus.sequences),
        vocabulary,
        path,
        name=corpus.name,
        level=corpus.level,
    )


def encode_text_files(
    paths: Sequence[str | os.PathLike[str]],
    path: str | os.PathLike[str],
    *,
    vocabulary: Vocabulary | None = None,
    name: str = "files",
) -> TokenFile:
    """Encode UTF-8 text files (one document each) as characters, streaming: one file in memory at a time.

    Args:
        paths: the text files, in order.
        path: the ``.ids`` file to write.
        vocabulary: the character vocabulary. Defaults to the files' distinct characters
            in order of first appearance (a first pass over the files).
        name: a label for the corpus.
    """
    if vocabulary is None:
        seen: dict[str, None] = {}
        for file in paths:
            seen.update(dict.fromkeys(read_text(file)))
        if not seen:
            raise DataError("The text files hold no characters; give at least one non-empty file.")
        vocabulary = Vocabulary(list(seen))
    return _write(
        (vocabulary.encode_array(read_text(file)) for file in paths), vocabulary, path, name=name, level="char"
    )


def _write(
    documents: Iterable[np.ndarray], vocabulary: Vocabulary, path: str | os.PathLike[str], *, name: str, level: str
) -> TokenFile:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    starts: list[int] = []
    total = 0
    # Written beside the target and renamed over it only when complete (as
    # seqkit.files.write_bytes_atomic does for small files): a failure midway leaves the
    # old file, or none.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for ids in documents:
                if len(ids) == 0:
                    continue
                starts.append(total)
                handle.write(np.asarray(ids, dtype=_ID_DTYPE).tobytes())
                total += len(ids)
            handle.flush()
            os.fsync(handle.fileno())
        if total == 0:
            raise DataError(f"The corpus {name!r} is empty: nothing to encode into '{target}'.")
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return TokenFile(target, vocabulary, np.asarray(starts, dtype=np.int64), name=name, level=level)


@dataclass(frozen=True)
class StreamLayout:
    """How ``N`` ids are cut into ``B`` streams of segments of ``T`` steps.

    Attributes:
        length: ``N``, ids in the corpus.
        streams: ``B``, parallel streams (rows of every batch).
        segment_length: ``T``, time steps per segment (the truncation of backpropagation).
    """

    length: int
    streams: int
    segment_length: int

    def __post_init__(self) -> None:
        for name in ("length", "streams", "segment_length"):
            check_int("StreamLayout", name, getattr(self, name))
        if self.steps < 1:
            raise DataError(
                f"A corpus of {self.length} tokens is too short for {self.streams} streams of "
                f"segments of {self.segment_length}: each stream needs at least "
                f"{self.segment_length + 1} tokens. Use fewer streams (batch_size), a shorter "
                f"segment (window), or a longer corpus (at least "
                f"{self.streams * (self.segment_length + 1)} tokens)."
            )

    @property
    def stream_length(self) -> int:
        """``S = N // B``: the ids of one stream (the last ``N mod B`` ids are left out)."""
        return self.length // self.streams

    @property
    def steps(self) -> int:
        """Optimizer steps per epoch: ``(S - 1) // T``."""
        return (self.stream_length - 1) // self.segment_length

    @property
    def tokens_per_epoch(self) -> int:
        """Predicted tokens per epoch: ``steps * B * T``."""
        return self.steps * self.streams * self.segment_length

    def segment_starts(self) -> np.ndarray:
        """int64 ``(steps, B)``: where row ``r`` of step ``t`` starts in the corpus."""
        rows = np.arange(self.streams, dtype=np.int64) * self.stream_length
        steps = np.arange(self.steps, dtype=np.int64) * self.segment_length
        return steps[:, None] + rows[None, :]


def stream_resets(
    layout: StreamLayout, document_starts: Sequence[int] | np.ndarray, policy: str = "boundary"
) -> np.ndarray:
    """Which rows zero their state before which step: bool ``(steps, B)``.

    ``"epoch"`` zeroes every row before step 0. ``"boundary"`` also zeroes row ``r``
    before step ``t`` when a document starts inside that segment (or at its first id),
    so no state flows from one document into the next segment of another. Within a
    segment the state is never cut: the ids before the new document are read from a
    zero state instead.
    """
    if policy not in STREAM_RESET_POLICIES:
        raise ConfigurationError(
            f"Unknown stream reset policy {policy!r}: expected 'epoch' or 'boundary'."
        )
    resets = np.zeros((layout.steps, layout.streams), dtype=bool)
    resets[0] = True
    if policy == "boundary":
        starts = np.sort(np.asarray(document_starts, dtype=np.int64))
        first = layout.segment_starts()
        before = np.searchsorted(starts, first, side="left")
        through = np.searchsorted(starts, first + layout.segment_length, side="left")
        resets |= through > before
    return resets


def stream_dataset(
    tokens: TokenFile,
    layout: StreamLayout,
    resets: np.ndarray,
    rows: Sequence[int],
) -> tf.data.Dataset:
    """The batches of ``rows`` (a replica's streams), read from the file with ``tf.data``.

    Each element is ``(inputs, targets, reset)``: int32 ``(len(rows), T)`` ids, the
    ids one step later, and bool ``(len(rows),)``. The dataset has ``layout.steps``
    elements (one epoch); each row is a pair of
    :class:`tf.data.FixedLengthRecordDataset` readers (inputs, and targets one id
    later) over the row's part of the file, so only a few segments are in memory.
    """
    from seqkit._quiet import quiet_import

    quiet_import()
    import tensorflow as tf

    record_bytes = layout.segment_length * _ID_DTYPE.itemsize
    filename = str(tokens.path)

    length = tokens.length

    def reader(offset: int) -> tf.data.Dataset:
        records = tf.data.FixedLengthRecordDataset(
            filename,
            record_bytes=record_bytes,
            header_bytes=offset * _ID_DTYPE.itemsize,
            footer_bytes=((length - offset) * _ID_DTYPE.itemsize) % record_bytes,
            buffer_size=max(record_bytes * 64, 1 << 16),
        )
        return records.take(layout.steps)

    inputs = tf.data.Dataset.zip(tuple(reader(row * layout.stream_length) for row in rows))
    targets = tf.data.Dataset.zip(tuple(reader(row * layout.stream_length + 1) for row in rows))
    flags = tf.data.Dataset.from_tensor_slices(resets[:, list(rows)])

    def decode(*records: tf.Tensor) -> tf.Tensor:
        raw = tf.stack(records)
        return tf.reshape(tf.io.decode_raw(raw, tf.int32, little_endian=True), [len(rows), layout.segment_length])

    return tf.data.Dataset.zip((inputs.map(decode), targets.map(decode), flags))
