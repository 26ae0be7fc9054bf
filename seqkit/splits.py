"""Held-out data: a corpus cut into training and validation parts that share no window.

:func:`holdout_split` cuts **every sequence** of a corpus at the same fraction: its first
``1 - fraction`` of tokens train, the rest is held out. Each part keeps the cut as a
sequence boundary, and windows never cross a boundary (:mod:`seqkit.windows`, the stream
layout of :mod:`seqkit.streams`), so no window — and no stream segment — lies on both
sides, and none reads across the cut. Cutting each document rather than the corpus as a
whole keeps every document on both sides in the same proportion (as char-rnn's
``val_frac`` does for its single stream).

>>> from seqkit.datasets import Corpus
>>> train, held_out = holdout_split(Corpus.from_sequences(["ABCDEFGHIJ", "KLMNOPQRST"]), 0.2)
>>> ["".join(s) for s in train.sequences], ["".join(s) for s in held_out.sequences]
(['ABCDEFGH', 'KLMNOPQR'], ['IJ', 'ST'])
"""

from __future__ import annotations

import dataclasses
import math

from seqkit.checks import check_float, check_int
from seqkit.datasets import Corpus
from seqkit.subword import SubwordVocabulary
from seqkit.errors import DataError, parameter_error

__all__ = ["holdout_split"]


def holdout_split(corpus: Corpus, fraction: float, *, min_tokens: int = 2) -> tuple[Corpus, Corpus]:
    """The training part and the held-out part of ``corpus``.

    Args:
        corpus: the corpus to cut.
        fraction: the share of each sequence held out, in ``(0, 1)``; the held-out part of
            a sequence is its last ``ceil(len * fraction)`` tokens.
        min_tokens: a piece (held out or training) shorter than this is dropped: it holds
            no window and its target. Defaults to 2 (one token and its next); a window
            trainer of window length ``L`` asks for ``L + 1``.

    Returns:
        ``(training, held_out)``, two corpora at the corpus's level.

    Raises:
        DataError: nothing would be left on one side.
    """
    fraction = check_float("holdout_split", "fraction", fraction, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    min_tokens = check_int("holdout_split", "min_tokens", min_tokens, minimum=2)
    training, held_out = [], []
    for sequence in corpus.sequences:
        cut = len(sequence) - math.ceil(len(sequence) * fraction - 1e-9)  # 10 * 0.3 is 3, not 4
        if cut >= min_tokens:
            training.append(sequence[:cut])
        if len(sequence) - cut >= min_tokens:
            held_out.append(sequence[cut:])
    if not training or not held_out:
        side = "training" if not training else "held-out"
        raise DataError(
            f"Holding out {fraction:g} of each sequence of {corpus.name!r} ({len(corpus)} tokens) leaves no "
            f"{side} piece of at least {min_tokens} tokens. Hold out a {'smaller' if not training else 'larger'} "
            "fraction, or give a separate validation corpus."
        )
    return (
        dataclasses.replace(corpus, sequences=tuple(training), name=f"{corpus.name} (training)"),
        dataclasses.replace(corpus, sequences=tuple(held_out), name=f"{corpus.name} (held out)"),
    )


def split_test(corpus: Corpus, test: object, *, min_tokens: int = 2, owner: str = "fit") -> tuple[Corpus, Corpus]:
    """The corpus left for training (and validation) and the test corpus, as ``fit(test=...)`` takes it.

    A fraction cuts the end of every sequence (:func:`holdout_split`); anything else is the
    test set as given (:func:`held_out_corpus`), and ``corpus`` stays whole.

    >>> training, test = split_test(Corpus.from_text("ABCDEFGHIJ"), 0.2)
    >>> "".join(training.tokens), "".join(test.tokens), test.name
    ('ABCDEFGH', 'IJ', 'test split')
    """
    if isinstance(test, float | int) and not isinstance(test, bool):
        fraction = check_float(owner, "test", test, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        training, held_out = holdout_split(corpus, fraction, min_tokens=min_tokens)
        return training, dataclasses.replace(held_out, name="test split")
    return corpus, held_out_corpus(test, corpus.level, owner=owner, subword=corpus.subword)


def held_out_corpus(
    data: object, level: str, *, role: str = "test", owner: str = "fit", subword: SubwordVocabulary | None = None
) -> Corpus:
    """A held-out set given as data: a :class:`Corpus` as it is, a text (split at ``level``, by
    ``subword`` for a subword level) or a list of tokens; ``role`` (``"test"`` or ``"validation"``)
    names it and the parameter of the error.

    >>> held_out_corpus("do re", "word").tokens
    ('do', 're')
    >>> held_out_corpus("do re", "word", role="validation").name
    'validation text'
    """
    if isinstance(data, str):
        return Corpus.from_text(data, level=level, name=f"{role} text", vocabulary=subword)  # type: ignore[arg-type]
    if isinstance(data, Corpus):
        return data
    if isinstance(data, list | tuple) and data and all(isinstance(token, str) for token in data):
        return Corpus.from_tokens(data, level=level, name=f"{role} tokens")  # type: ignore[arg-type]
    raise parameter_error(owner, role, "None, a fraction in (0, 1) or a corpus", data)
