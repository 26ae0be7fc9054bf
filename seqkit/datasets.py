"""Datasets: token sequences to learn from.

A :class:`Corpus` is one or more token sequences (documents) at ``char`` or
``word`` level, or at a subword level (``bpe``, ``unigram``): the pieces a
:class:`~seqkit.subword.SubwordVocabulary` splits the text into. The canonical
dataset is :func:`alphabet`, the origin tutorial's ``"ABCDEFGHIJKLMNOPQRSTUVWXYZ"``.

>>> corpus = alphabet()
>>> corpus.vocabulary().encode("AZ"), len(corpus)
([0, 25], 26)
>>> Corpus.from_text("do re mi do", level="word").tokens
('do', 're', 'mi', 'do')
>>> pieces = SubwordVocabulary.train("do re mi do re mi", kind="bpe", vocab_size=264)
>>> corpus = Corpus.from_text("do re mi", vocabulary=pieces)
>>> corpus.level, corpus.tokens, corpus.vocabulary() is pieces
('bpe', ('do', 'Ġre', 'Ġmi'), True)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from seqkit.errors import DataError, VocabularyError
from seqkit.files import read_text
from seqkit.subword import SUBWORD_LEVELS, SubwordVocabulary
from seqkit.vocab import Level, Vocabulary, split_tokens, unfit_token

# read_text lives in seqkit.files; it stays importable from here, where it was first.
__all__ = ["ALPHABET", "Corpus", "CorpusLevel", "alphabet", "load_text", "read_text", "split_text"]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CorpusLevel = Literal["char", "word", "bpe", "unigram"]
"""The levels a corpus's tokens are split at: characters, words, or a subword vocabulary's pieces."""


def split_text(text: str, level: CorpusLevel | None = None, vocabulary: SubwordVocabulary | None = None) -> list[str]:
    """``text`` as tokens: characters, whitespace-separated words, or the pieces of a subword ``vocabulary``.

    Args:
        text: the text to split.
        level: ``"char"``, ``"word"``, ``"bpe"`` or ``"unigram"``. Defaults to the
            vocabulary's level, else ``"char"``.
        vocabulary: the subword vocabulary that splits a ``bpe`` or ``unigram`` text.
            Defaults to None (character and word levels need none).

    Raises:
        VocabularyError: a subword level without its vocabulary, or a vocabulary of another level.

    >>> split_text("do re", "word")
    ['do', 're']
    >>> split_text("do re", "bpe")
    Traceback (most recent call last):
    ...
    seqkit.errors.VocabularyError: Level 'bpe' splits text with a trained tokenizer: give vocabulary=SubwordVocabulary.train(text, kind='bpe', vocab_size=...).
    """
    if vocabulary is None:
        if level in SUBWORD_LEVELS:
            raise VocabularyError(
                f"Level {level!r} splits text with a trained tokenizer: give "
                f"vocabulary=SubwordVocabulary.train(text, kind={level!r}, vocab_size=...)."
            )
        return split_tokens(text, level or "char")  # type: ignore[arg-type]
    if not isinstance(vocabulary, SubwordVocabulary):
        raise VocabularyError(
            f"vocabulary= splits text into subword pieces: it must be a SubwordVocabulary; got a "
            f"{type(vocabulary).__name__}. Leave it out for the char and word levels."
        )
    if level is not None and level != vocabulary.level:
        raise VocabularyError(
            f"The vocabulary splits text into {vocabulary.level!r} pieces, but level is {level!r}. "
            f"Give level={vocabulary.level!r}, or leave level out."
        )
    return vocabulary.split(text)


@dataclass(frozen=True)
class Corpus:
    """One or more token sequences, and the level they were split at.

    Attributes:
        sequences: the documents, each a tuple of tokens. Windows never cross
            from one to the next, and stateful training can reset between them.
        level: ``"char"``, ``"word"``, ``"bpe"`` or ``"unigram"``.
        name: a label for tables and bundles.
        subword: the subword vocabulary that split a ``bpe`` or ``unigram`` corpus
            (what :meth:`vocabulary` returns), or None. Defaults to None.
    """

    sequences: tuple[tuple[str, ...], ...]
    level: CorpusLevel = "char"
    name: str = "corpus"
    subword: SubwordVocabulary | None = None

    def __post_init__(self) -> None:
        if not self.sequences or not any(self.sequences):
            raise DataError(
                f"The corpus {self.name!r} is empty: it holds no tokens. "
                "Give a text, a file or a token list with at least two tokens."
            )
        if self.subword is not None and self.subword.level != self.level:
            raise DataError(
                f"The corpus {self.name!r} is at level {self.level!r}, but its subword vocabulary splits "
                f"{self.subword.level!r} pieces. Give level={self.subword.level!r}."
            )

    @classmethod
    def from_text(
        cls, text: str, *, level: CorpusLevel | None = None, name: str = "text",
        vocabulary: SubwordVocabulary | None = None,
    ) -> Corpus:
        """One sequence: ``text`` split into characters, whitespace-separated words or subword pieces.

        Args:
            text: the text.
            level: see :func:`split_text`. Defaults to the vocabulary's level, else ``"char"``.
            name: a label for tables and bundles. Defaults to ``"text"``.
            vocabulary: the subword vocabulary that splits it. Defaults to None.
        """
        return cls._of([text], level, name, vocabulary)

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], *, level: Level | None = None, name: str = "tokens") -> Corpus:
        """One sequence of the given tokens.

        ``level`` defaults to what the tokens are: ``"char"`` if every one is a single
        character, else ``"word"``; a token that the level would not split back into itself
        (``"do"`` at ``"char"``, ``"re mi"`` at ``"word"``) is refused, since a model trained
        on it could not read or write text made of it.

        >>> Corpus.from_tokens(list("ab cd")).level, Corpus.from_tokens(["do", "re"]).level
        ('char', 'word')
        """
        sequence = tuple(tokens)
        return cls((sequence,), _level_of((sequence,), level, name), name)

    @classmethod
    def from_sequences(
        cls, sequences: Iterable[Sequence[str] | str], *, level: CorpusLevel | None = None, name: str = "sequences",
        vocabulary: SubwordVocabulary | None = None,
    ) -> Corpus:
        """Several sequences; a string is split as :func:`split_text` splits it (``level``, ``vocabulary``).

        >>> Corpus.from_sequences(["AB", "XYZ"]).sequences
        (('A', 'B'), ('X', 'Y', 'Z'))
        """
        return cls._of(sequences, level, name, vocabulary)

    @classmethod
    def _of(
        cls, items: Iterable[Sequence[str] | str], level: CorpusLevel | None, name: str,
        vocabulary: SubwordVocabulary | None,
    ) -> Corpus:
        items = list(items)
        sequences = tuple(
            tuple(split_text(item, level, vocabulary) if isinstance(item, str) else item) for item in items
        )
        if vocabulary is not None:
            return cls(sequences, vocabulary.level, name, vocabulary)
        if all(isinstance(item, str) for item in items):  # split here: the tokens fit the level
            return cls(sequences, level or "char", name)
        return cls(sequences, _level_of(sequences, level, name), name)

    @property
    def tokens(self) -> tuple[str, ...]:
        """All tokens, the sequences concatenated."""
        return tuple(token for sequence in self.sequences for token in sequence)

    def __len__(self) -> int:
        return sum(len(sequence) for sequence in self.sequences)

    def vocabulary(self, *, unknown_token: str | None = None) -> Vocabulary:
        """The corpus's distinct tokens in order of first appearance; a subword corpus's subword vocabulary.

        Raises:
            VocabularyError: a subword corpus that does not hold its vocabulary (pass that
                vocabulary on, e.g. ``fit(corpus, vocabulary=...)``), or an unknown token
                asked of a subword vocabulary (which needs none).
        """
        if self.level not in SUBWORD_LEVELS:
            return Vocabulary.from_corpus(self.tokens, unknown_token=unknown_token)
        if self.subword is None:
            raise VocabularyError(
                f"The {self.level} corpus {self.name!r} does not hold the subword vocabulary that split it. "
                "Pass that vocabulary on (fit(corpus, vocabulary=...)), or make the corpus with "
                "Corpus.from_text(text, vocabulary=...)."
            )
        if unknown_token is not None:
            raise VocabularyError(
                f"A {self.level} vocabulary has no unknown token: every text splits into its pieces. "
                "Leave unknown_token out."
            )
        return self.subword

    def encode(self, vocabulary: Vocabulary) -> list[list[int]]:
        """Each sequence as ids of ``vocabulary``."""
        return [vocabulary.encode(sequence) for sequence in self.sequences]


def _level_of(sequences: tuple[tuple[str, ...], ...], level: CorpusLevel | None, name: str) -> CorpusLevel:
    """The level of given tokens: ``level`` if they fit it, else refused; without one, ``"char"`` if
    every token is one character, else ``"word"``."""
    distinct = list(dict.fromkeys(token for sequence in sequences for token in sequence))  # in order
    if level is None:
        level = "char" if all(isinstance(token, str) and len(token) == 1 for token in distinct) else "word"
    if level in ("char", "word"):
        unfit = unfit_token(distinct, level)
        if unfit is not None:
            what, fix = (("is not one character", "Give level='word' if the tokens are words.") if level == "char" else
                         ("is not one word (it is empty or holds whitespace)", "Split it into words."))
            raise DataError(
                f"The corpus {name!r} is at level {level!r}, but its token {unfit!r} {what}, so text made of its "
                f"tokens would not split back into them. {fix}"
            )
    return level


def alphabet() -> Corpus:
    """The 26 capital letters A to Z, the origin tutorial's dataset."""
    return Corpus.from_text(ALPHABET, level="char", name="alphabet")


def load_text(
    path: str | os.PathLike[str], *, level: CorpusLevel | None = None, vocabulary: SubwordVocabulary | None = None
) -> Corpus:
    """A corpus from a UTF-8 text file, split into characters, words or subword pieces (see :func:`split_text`).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scale.txt"
    >>> _ = path.write_text("C D E F G A B C", encoding="utf-8")
    >>> load_text(path, level="word").vocabulary().tokens
    ('C', 'D', 'E', 'F', 'G', 'A', 'B')
    """
    file = Path(path)
    text = read_text(file)
    if not split_text(text, level, vocabulary):
        raise DataError(
            f"Text file '{file}' is empty: it holds no {'words' if level == 'word' else 'characters'}. "
            "Give a file with at least two tokens."
        )
    return Corpus.from_text(text, level=level, name=file.name, vocabulary=vocabulary)
