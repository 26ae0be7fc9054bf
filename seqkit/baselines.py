"""Baselines: what a language model's test score is compared with, on the same split.

Two kinds, each reported as a :class:`BaselineScore`:

* :class:`KneserNey` (and :func:`kneser_ney`): a token n-gram model with interpolated
  modified Kneser-Ney smoothing (Chen & Goodman 1998), fitted on the training ids and
  scored on the test ids, in bits per token. The order-20 model of char-rnn's paper
  ('Visualizing and Understanding Recurrent Networks') is one of these.
* :func:`compressor`: the bits a compressor spends on the test text once it has read the
  training text, ``(len(C(train + test)) - len(C(train))) * 8 / characters(test)``.

The n-gram model is written here, in NumPy, because no PyPI library fits: ``kenlm``
ships no wheel and its Python module only queries models (estimating one needs its C++
``lmplz`` and Boost); NLTK's ``KneserNeyInterpolated`` (one discount, pure Python) took
5.3 s to fit a 5-gram on 200 KB and 6.2 ms per scored character, growing with the training
size (14.8 ms at 800 KB): hours for 600 KB of test text after 6 MB of training. This one
fits a 5-gram on 1 MB of Python source in under 2 s, and an order-20 model on 6 MB in 53 s
(1.9 GB at most), scoring 600 KB in 2 s, on a two-core machine.

>>> train, test = [[0, 1, 0, 1, 0, 1, 2]], [[0, 1, 0, 1]]
>>> score = kneser_ney(train, test, vocabulary_size=3, order=2)
>>> score.name, score.tokens, score.unit, round(score.bits_per_token, 3)
('Kneser-Ney 2-gram', 4, 'token', 0.661)
"""

from __future__ import annotations

import bz2
import lzma
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqkit.checks import check_int, is_int
from seqkit.errors import DataError, NotFittedError, parameter_error

__all__ = ["BaselineScore", "COMPRESSORS", "FALLBACK_DISCOUNTS", "KneserNey", "compressor", "kneser_ney", "modified_discounts"]

COMPRESSORS: tuple[str, ...] = ("lzma", "bz2")
"""The methods :func:`compressor` knows."""

FALLBACK_DISCOUNTS: tuple[float, float, float] = (0.5, 1.0, 1.5)
"""The discounts an order gets when its count-of-counts leave Chen & Goodman's undefined
or out of range (too little data), as KenLM's ``--discount_fallback``."""

LZMA_MAX_DICTIONARY = 1536 * 1024 * 1024
"""The largest dictionary lzma accepts (1.5 GiB): the most text :func:`compressor` can condition on."""


@dataclass(frozen=True)
class BaselineScore:
    """A baseline's cost on the test data.

    Attributes:
        name: what scored, e.g. ``"Kneser-Ney 5-gram"`` or ``"lzma"``.
        bits_per_token: bits per scored unit.
        tokens: the number of units scored.
        unit: ``"token"`` (n-gram models) or ``"character"`` (compressors).
    """

    name: str
    bits_per_token: float
    tokens: int
    unit: str


def modified_discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Chen & Goodman's discounts ``(D1, D2, D3+)`` for one order, from its n-grams' counts.

    With ``n_r`` the number of n-grams seen ``r`` times and ``Y = n1 / (n1 + 2 n2)``:
    ``D1 = 1 - 2Y n2/n1``, ``D2 = 2 - 3Y n3/n2``, ``D3+ = 3 - 4Y n4/n3``. When an ``n_r`` is
    zero or a discount leaves ``(0, r]``, the order gets :data:`FALLBACK_DISCOUNTS`.

    >>> modified_discounts(np.array([1] * 10 + [2] * 4 + [3] * 2 + [4]))
    (0.5555555555555556, 1.1666666666666665, 1.8888888888888888)
    >>> modified_discounts(np.array([1, 1, 2]))
    (0.5, 1.0, 1.5)
    """
    n1, n2, n3, n4 = (int(n) for n in np.bincount(counts, minlength=5)[1:5])
    if min(n1, n2, n3, n4) == 0:
        return FALLBACK_DISCOUNTS
    y = n1 / (n1 + 2 * n2)
    discounts = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    if not all(0 < discount <= r for r, discount in enumerate(discounts, start=1)):
        return FALLBACK_DISCOUNTS
    return discounts


@dataclass(frozen=True)
class _Order:
    """One order of a fitted model. An n-gram's key is ``context id * (V + 1) + word``,
    its context id the n-gram's index one order down (order 1 has one, empty, context);
    int64 keys are exact while training positions times ``V + 1`` stay below 2**63."""

    keys: np.ndarray  # sorted keys of every n-gram of this order in the training documents
    weights: np.ndarray  # per n-gram: its discounted count over its context's total count
    backoff: np.ndarray  # per context: the share left to the order below (1 where never followed)
    discounts: tuple[float, float, float]


class KneserNey:
    """An n-gram model with interpolated modified Kneser-Ney smoothing.

    ``p(w | h) = max(c(hw) - D(c(hw)), 0) / c(h) + gamma(h) p(w | h')`` where ``h'`` drops
    the oldest token of ``h``, ``gamma(h)`` is the discounted mass and ``D`` takes one value
    for counts of 1, 2 and 3 or more (:func:`modified_discounts`). The highest order counts
    occurrences; lower orders count distinct left neighbours (continuation counts), except
    n-grams that open a document, which nothing can extend leftwards (as KenLM does). The
    order-1 distribution is interpolated with the uniform one over the vocabulary, so
    every token gets a probability above zero.

    Each document is read after ``order - 1`` beginning-of-document symbols (id
    ``vocabulary_size``, never predicted), so no context crosses from one document into
    the next, and a document's first tokens are predicted from "the start of a document".

    Args:
        order: the n-gram order: the longest context is ``order - 1`` tokens. Defaults to 5.

    Attributes (after :meth:`fit`):
        vocabulary_size_: the number of token ids.
        discounts_: array ``(order, 3)``: ``D1, D2, D3+`` of each order, lowest first.

    >>> model = KneserNey(order=3).fit([[0, 1, 2, 0, 1, 2, 0, 1]], vocabulary_size=3)
    >>> probabilities = model.probabilities([0, 1])
    >>> probabilities.round(3).tolist(), float(probabilities.sum())
    ([0.104, 0.073, 0.823], 1.0)
    """

    def __init__(self, order: int = 5) -> None:
        self.order = order

    def __repr__(self) -> str:
        return f"KneserNey(order={self.order!r})"

    def fit(self, sequences: Sequence[Sequence[int]], vocabulary_size: int) -> KneserNey:
        """Count the n-grams of ``sequences`` (documents of ids below ``vocabulary_size``).

        Raises:
            ConfigurationError: ``order`` or ``vocabulary_size`` is not an int >= 1.
            DataError: the documents hold no token, or an id outside the vocabulary.
        """
        order = check_int("KneserNey", "order", self.order)
        size = check_int("KneserNey.fit", "vocabulary_size", vocabulary_size)
        documents = _documents("training data", sequences, size, "fit a model to")
        stream, offsets = _stream(documents, order, size)
        targets = np.flatnonzero(offsets >= order - 1)
        orders: list[_Order] = []
        # Order 0: the empty n-gram, index 0, ends at every position and opens no document.
        ids, keys, opens = np.zeros(len(stream), np.int64), np.zeros(1, np.int64), np.zeros(1, bool)
        contexts = 1  # order 1's n-grams all follow the empty one
        for length in range(1, order + 1):
            longer_keys, longer_ids = _index(ids, stream, offsets, size, length)
            if length > 1:  # the order below is complete: its counts need this order's n-grams
                raw = _counts(ids, targets, len(keys))
                continuation = _continuation_counts(ids, longer_ids, targets, len(keys), len(longer_keys))
                orders.append(_order(keys, np.where(opens, raw, continuation), contexts, size))
                contexts = len(keys)
            opens = opens[longer_keys // (size + 1)] | ((length == 1) & (longer_keys == size))
            ids, keys = longer_ids, longer_keys
        orders.append(_order(keys, _counts(ids, targets, len(keys)), contexts, size))
        self.order_, self.vocabulary_size_, self._orders = order, size, orders
        self.discounts_ = np.array([level.discounts for level in orders])
        return self

    def probabilities(self, context_ids: Sequence[int]) -> np.ndarray:
        """The next token's distribution after ``context_ids``: an array of ``vocabulary_size_``.

        Only the last ``order - 1`` ids count; fewer are read as the start of a document.
        """
        size = self._fitted("probabilities")
        context = _ids(context_ids, "The context", size)
        tail = context[max(0, len(context) - self.order_ + 1) :]
        documents = [np.append(tail, word) for word in range(size)]
        stream, offsets = _stream(documents, self.order_, size)
        ends = np.cumsum([len(document) + self.order_ - 1 for document in documents]) - 1
        return np.exp2(self._log2_probabilities(stream, offsets, ends))

    def score(self, sequences: Sequence[Sequence[int]]) -> BaselineScore:
        """The model's cost on ``sequences``, every token of every document, in bits per token.

        Raises:
            DataError: the documents hold no token, or an id outside the vocabulary.
        """
        size = self._fitted("score")
        documents = _documents("test data", sequences, size, "score")
        stream, offsets = _stream(documents, self.order_, size)
        targets = np.flatnonzero(offsets >= self.order_ - 1)
        bits = -float(np.mean(self._log2_probabilities(stream, offsets, targets)))
        return BaselineScore(f"Kneser-Ney {self.order_}-gram", bits, len(targets), "token")

    def _fitted(self, method: str) -> int:
        if not hasattr(self, "_orders"):
            raise NotFittedError(
                f"KneserNey.{method} needs a fitted model: call fit(sequences, vocabulary_size) first."
            )
        return self.vocabulary_size_

    def _log2_probabilities(self, stream: np.ndarray, offsets: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """log2 p of the tokens at ``targets`` of a padded stream, interpolating up the orders."""
        size = self.vocabulary_size_
        probabilities = np.full(len(targets), 1.0 / size)
        shorter = np.zeros(len(stream), np.int64)
        for length, level in enumerate(self._orders, start=1):
            longer = _find(level.keys, np.where(offsets >= length - 1, _extend(shorter, stream, size, length), -1))
            contexts = shorter[targets - 1] if length > 1 else np.zeros(len(targets), np.int64)
            grams = longer[targets]
            weights = np.where(grams >= 0, level.weights[np.maximum(grams, 0)], 0.0)
            backoff = np.where(contexts >= 0, level.backoff[np.maximum(contexts, 0)], 1.0)
            probabilities = weights + backoff * probabilities
            shorter = longer
        return np.log2(probabilities)


def kneser_ney(
    train: Sequence[Sequence[int]], test: Sequence[Sequence[int]], *, vocabulary_size: int, order: int = 5
) -> BaselineScore:
    """Fit a :class:`KneserNey` model of ``order`` on ``train`` and score it on ``test``.

    >>> kneser_ney([[0, 1] * 50], [[0, 1] * 5], vocabulary_size=2, order=3).bits_per_token < 0.1
    True
    """
    return KneserNey(order).fit(train, vocabulary_size).score(test)


def compressor(train_text: str, test_text: str, *, method: str = "lzma") -> BaselineScore:
    """The bits per character ``method`` spends on ``test_text`` after reading ``train_text``.

    The cost is ``(len(C(train + test)) - len(C(train))) * 8 / len(test_text)`` on the UTF-8
    bytes. With ``"lzma"`` (preset 9 extreme, raw LZMA2) the dictionary is sized to hold
    training and test text whole, so every test byte can refer back to any training byte:
    a smaller dictionary (a preset's 64 MiB on larger corpora) would forget the start of the
    training text and the "conditional" cost would be partly unconditional. ``"bz2"``
    compresses blocks of 900 kB independently, so test text sees at most the last 900 kB
    of training text, and none after a block boundary: nearly an unconditional baseline.

    Args:
        train_text: the text read first.
        test_text: the text whose cost is measured; not empty.
        method: one of :data:`COMPRESSORS`. Defaults to ``"lzma"``.

    >>> text = "def f(x):\\n    return x + 1\\n" * 20
    >>> compressor(text, text).bits_per_token < 0.2
    True
    """
    if method not in COMPRESSORS:
        raise parameter_error("compressor", "method", f"one of {', '.join(map(repr, COMPRESSORS))}", method)
    for name, text in (("train_text", train_text), ("test_text", test_text)):
        if not isinstance(text, str):
            raise DataError(f"compressor's {name} must be a str, got {type(text).__name__}. Decode bytes first.")
    if not test_text:
        raise DataError("compressor's test_text is empty: there is nothing to score. Give a non-empty text.")
    train = train_text.encode("utf-8", errors="surrogatepass")
    both = train + test_text.encode("utf-8", errors="surrogatepass")
    if method == "lzma" and len(both) > LZMA_MAX_DICTIONARY:
        raise DataError(
            f"lzma cannot condition on {len(both)} bytes of text: its dictionary holds at most "
            f"{LZMA_MAX_DICTIONARY} bytes (1.5 GiB). Use a shorter training text."
        )
    if method == "lzma":
        filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": max(len(both), 4096)}]

        def compress(data: bytes) -> int:
            return len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters))

    else:

        def compress(data: bytes) -> int:
            return len(bz2.compress(data, compresslevel=9))

    bits = (compress(both) - compress(train)) * 8 / len(test_text)
    return BaselineScore(method, bits, len(test_text), "character")


# Counting --------------------------------------------------------------------------------
def _documents(what: str, sequences: Sequence[Sequence[int]], size: int, verb: str) -> list[np.ndarray]:
    """The documents as int64 arrays of ids in ``[0, size)``; at least one token in all."""
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, (Sequence, np.ndarray)):
        raise DataError(
            f"The {what} must be a list of id sequences (documents), got {type(sequences).__name__}. "
            "Encode the text with a Vocabulary and pass [ids]."
        )
    hint = "Give a list of documents, each a list of ids: [[3, 1, 4]], not [3, 1, 4]."
    documents = [_ids(sequence, f"Sequence {index} of the {what}", size, hint) for index, sequence in enumerate(sequences)]
    if not any(len(document) for document in documents):
        raise DataError(f"The {what} holds no tokens: there is nothing to {verb}. Give at least one non-empty sequence.")
    return documents


def _ids(sequence: Sequence[int], where: str, size: int, hint: str = "Give a list of ids, e.g. [3, 1, 4].") -> np.ndarray:
    """One sequence as an int64 array, every id in ``[0, size)``; ``where`` names it in errors."""
    if isinstance(sequence, (str, bytes)) or is_int(sequence):
        raise DataError(f"{where} is {sequence!r}, not a sequence of ids. {hint}")
    ids = np.asarray(sequence)
    if ids.size == 0:
        return np.zeros(0, np.int64)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise DataError(
            f"{where} is not a flat sequence of integer ids (shape {ids.shape}, {ids.dtype}). "
            "Encode the text with a Vocabulary first."
        )
    outside = np.flatnonzero((ids < 0) | (ids >= size))
    if len(outside):
        raise DataError(
            f"{where} holds id {int(ids[outside[0]])} at position {int(outside[0])}, outside the vocabulary's "
            f"ids 0 .. {size - 1}. Encode it with the model's vocabulary, or fit with a larger vocabulary_size."
        )
    return ids.astype(np.int64)


def _stream(documents: list[np.ndarray], order: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The documents joined, each after ``order - 1`` BOS symbols (id ``size``), and each
    symbol's offset in its padded document.

    >>> _stream([np.array([7]), np.array([8, 9])], 2, 5)
    (array([5, 7, 5, 8, 9]), array([0, 1, 0, 1, 2]))
    """
    lengths = np.array([len(document) + order - 1 for document in documents], np.int64)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    stream = np.full(len(offsets), size, np.int64)
    if documents:
        stream[offsets >= order - 1] = np.concatenate(documents)
    return stream, offsets


def _extend(shorter: np.ndarray, stream: np.ndarray, size: int, length: int) -> np.ndarray:
    """Key of the ``length``-gram ending at each position: (index of the (length-1)-gram
    ending before it, token). Negative where that index is -1 (unknown, or before the stream).

    >>> _extend(np.array([0, 3, 1]), np.array([2, 0, 1]), 2, 2).tolist()
    [-1, 0, 10]
    """
    if length == 1:
        return stream.copy()  # every token follows the empty n-gram, index 0
    before = np.concatenate(([-1], shorter[:-1]))
    return before * (size + 1) + stream  # stream <= size, so -1 * (size + 1) + stream < 0


def _index(shorter: np.ndarray, stream: np.ndarray, offsets: np.ndarray, size: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted keys of every ``length``-gram of the documents, and the index of the one
    ending at each position (-1 where it would reach into the document before)."""
    valid = offsets >= length - 1
    keys, inverse = np.unique(_extend(shorter, stream, size, length)[valid], return_inverse=True)
    ids = np.full(len(stream), -1, np.int64)
    ids[valid] = inverse.reshape(-1)
    return keys, ids


def _counts(ids: np.ndarray, targets: np.ndarray, count: int) -> np.ndarray:
    """How often each of ``count`` n-grams ends at a predicted position."""
    return np.bincount(ids[targets], minlength=count)


def _find(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query in the sorted ``keys``; -1 where absent (negative queries are).

    >>> _find(np.array([2, 5, 9]), np.array([5, 4, 9, 11, -3])).tolist()
    [1, -1, 2, -1, -1]
    """
    where = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where((queries >= 0) & (keys[where] == queries), where, -1)


def _continuation_counts(
    shorter: np.ndarray, longer: np.ndarray, targets: np.ndarray, shorter_count: int, longer_count: int
) -> np.ndarray:
    """N1+(. g) of each shorter n-gram g: how many distinct one-longer n-grams end with it."""
    suffix = np.full(longer_count, -1, np.int64)
    suffix[longer[targets]] = shorter[targets]
    return np.bincount(suffix[suffix >= 0], minlength=shorter_count)


def _order(keys: np.ndarray, counts: np.ndarray, contexts: int, size: int) -> _Order:
    """An order's interpolation weights from its n-grams' (adjusted) counts."""
    discounts = modified_discounts(counts[counts > 0])
    taken = np.array([0.0, *discounts])[np.minimum(counts, 3)]
    parents = keys // (size + 1)
    totals = np.bincount(parents, weights=counts, minlength=contexts)
    left = np.bincount(parents, weights=taken, minlength=contexts)
    backoff = np.divide(left, totals, out=np.ones(contexts), where=totals > 0)
    weights = np.divide(counts - taken, totals[parents], out=np.zeros(len(keys)), where=counts > 0)
    return _Order(keys, weights, backoff, discounts)
