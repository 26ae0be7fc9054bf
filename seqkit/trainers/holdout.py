"""What a trainer holds out: the test split and the validation split, cut as ``fit`` cuts them.

Every document of a corpus is cut the same way: training | validation | test. The test
split comes off the end first (``fit(test=...)``), then the validation split off the end of
what is left (``fit(validation=...)``); each piece keeps at least one of the trainer's
windows and its target (:meth:`HeldOut._min_piece`). The vocabulary is taken from all the
data, so a held-out token always has an id. :class:`HeldOut` is the base of every trainer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seqkit.checks import check_float
from seqkit.datasets import Corpus
from seqkit.errors import ConfigurationError, DataError
from seqkit.splits import held_out_corpus, holdout_split, split_test
from seqkit.subword import SubwordVocabulary
from seqkit.vocab import Vocabulary

__all__ = ["CorpusLike", "HeldOut", "as_corpus"]

CorpusLike = Corpus | str | Sequence[str]


def as_corpus(data: CorpusLike) -> Corpus:
    """A :class:`Corpus` from a Corpus, a string (characters) or a list of tokens."""
    if isinstance(data, Corpus):
        return data
    if isinstance(data, str):
        return Corpus.from_text(data, level="char")
    if isinstance(data, Sequence) and all(isinstance(token, str) for token in data):
        return Corpus.from_tokens(data)
    raise DataError(
        f"Cannot train on a {type(data).__name__}: give a seqkit Corpus, a string, or a list of string tokens."
    )


class HeldOut:
    """The held-out data of a trainer: :meth:`split` (validation) and :meth:`split_test` (test)."""

    def _min_piece(self) -> int:
        """The fewest tokens a held-out or training piece needs: one window and its target."""
        return 2

    def split(
        self, data: Any, validation: Any, vocabulary: Vocabulary | None = None
    ) -> tuple[Corpus, Vocabulary, Corpus | None]:
        """The training corpus, its vocabulary and the held-out corpus, as ``fit`` takes them.

        A fraction cuts each sequence of ``data`` (:func:`seqkit.splits.holdout_split`, every
        piece long enough for one of this trainer's windows) after the vocabulary is taken
        from all of it; a corpus is held out as given (a string is split at the training
        corpus's level).
        """
        corpus = as_corpus(data)
        vocabulary = vocabulary or corpus.vocabulary()
        if validation is None:
            return corpus, vocabulary, None
        if isinstance(validation, float | int) and not isinstance(validation, bool):
            fraction = check_float(
                type(self).__name__ + ".fit", "validation", validation, low=0.0, high=1.0,
                low_inclusive=False, high_inclusive=False,
            )
            training, held_out = holdout_split(corpus, fraction, min_tokens=self._min_piece())
            return training, vocabulary, held_out
        return corpus, vocabulary, held_out_corpus(  # a text split as the corpus is (a subword one by its tokenizer)
            validation, corpus.level, role="validation", owner=type(self).__name__ + ".fit", subword=corpus.subword
        )

    def _held_out_test(self, data: Any, vocabulary: Vocabulary | None, test: Any) -> tuple[Any, Vocabulary | None, Corpus | None]:
        """The data left for training, the vocabulary (of all the data, the test split included), the test
        corpus, checked before any training: every token known, one window and its target in a document."""
        if test is None:
            return data, vocabulary, None
        if not isinstance(data, Corpus | str | Sequence):  # a token file, with its own vocabulary
            if isinstance(test, float | int) and not isinstance(test, bool):
                raise ConfigurationError(
                    f"{type(self).__name__}.fit holds out a test fraction of an in-memory corpus only; with a "
                    f"{type(data).__name__}, give the test text as a separate corpus (test=Corpus...)."
                )
            vocabulary = getattr(data, "vocabulary", vocabulary)
            subword = vocabulary if isinstance(vocabulary, SubwordVocabulary) else None
            held_out = held_out_corpus(test, data.level, owner=type(self).__name__ + ".fit", subword=subword)
        else:
            corpus = as_corpus(data)
            data, held_out = self.split_test(corpus, test)
            vocabulary = vocabulary or corpus.vocabulary()
        self._check_test(held_out, vocabulary)
        return data, vocabulary, held_out

    def _check_test(self, test: Corpus, vocabulary: Vocabulary | None) -> None:
        """Refuse, before training, a test set that could not be scored after it."""
        if vocabulary is not None:
            for sequence in test.sequences:
                vocabulary.encode_array(sequence)  # an unknown token is named here, not after training
        if max(map(len, test.sequences)) < self._min_piece():
            raise DataError(
                f"The test set {test.name!r} has no document of {self._min_piece()} tokens, the fewest this trainer "
                f"scores (a window and its target): give a longer test text or a larger test fraction."
            )

    def split_test(self, data: Any, test: Any) -> tuple[Corpus, Corpus]:
        """The corpus left for training and validation, and the test corpus, as ``fit(test=...)`` cuts them:
        a fraction off the end of each sequence of ``data`` (every piece long enough for one of
        this trainer's windows), or the test set as given (a string split at ``data``'s level)."""
        return split_test(as_corpus(data), test, min_tokens=self._min_piece(), owner=type(self).__name__ + ".fit")
