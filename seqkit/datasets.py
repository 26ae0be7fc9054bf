"""Datasets: token sequences to learn from.

A :class:`Corpus` is one or more token sequences (documents) at ``char`` or
``word`` level. The canonical dataset is :func:`alphabet`, the origin
tutorial's ``"ABCDEFGHIJKLMNOPQRSTUVWXYZ"``.

>>> corpus = alphabet()
>>> corpus.vocabulary().encode("AZ"), len(corpus)
([0, 25], 26)
>>> Corpus.from_text("do re mi do", level="word").tokens
('do', 're', 'mi', 'do')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from seqkit.errors import DataError
from seqkit.files import read_text
from seqkit.vocab import Level, Vocabulary, split_tokens

# read_text lives in seqkit.files; it stays importable from here, where it was first.
__all__ = ["ALPHABET", "Corpus", "alphabet", "load_text", "read_text"]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Corpus:
    """One or more token sequences, and the level they were split at.

    Attributes:
        sequences: the documents, each a tuple of tokens. Windows never cross
            from one to the next, and stateful training can reset between them.
        level: ``"char"`` or ``"word"``.
        name: a label for tables and bundles.
    """

    sequences: tuple[tuple[str, ...], ...]
    level: Level = "char"
    name: str = "corpus"

    def __post_init__(self) -> None:
        if not self.sequences or not any(self.sequences):
            raise DataError(
                f"The corpus {self.name!r} is empty: it holds no tokens. "
                "Give a text, a file or a token list with at least two tokens."
            )

    @classmethod
    def from_text(cls, text: str, *, level: Level = "char", name: str = "text") -> Corpus:
        """One sequence: ``text`` split into characters or whitespace-separated words."""
        return cls((tuple(split_tokens(text, level)),), level, name)

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], *, level: Level = "word", name: str = "tokens") -> Corpus:
        """One sequence of the given tokens."""
        return cls((tuple(tokens),), level, name)

    @classmethod
    def from_sequences(
        cls, sequences: Iterable[Sequence[str] | str], *, level: Level = "char", name: str = "sequences"
    ) -> Corpus:
        """Several sequences; a string is split at ``level``.

        >>> Corpus.from_sequences(["AB", "XYZ"]).sequences
        (('A', 'B'), ('X', 'Y', 'Z'))
        """
        return cls(
            tuple(
                tuple(split_tokens(item, level) if isinstance(item, str) else item)
                for item in sequences
            ),
            level,
            name,
        )

    @property
    def tokens(self) -> tuple[str, ...]:
        """All tokens, the sequences concatenated."""
        return tuple(token for sequence in self.sequences for token in sequence)

    def __len__(self) -> int:
        return sum(len(sequence) for sequence in self.sequences)

    def vocabulary(self, *, unknown_token: str | None = None) -> Vocabulary:
        """The corpus's distinct tokens in order of first appearance."""
        return Vocabulary.from_corpus(self.tokens, unknown_token=unknown_token)

    def encode(self, vocabulary: Vocabulary) -> list[list[int]]:
        """Each sequence as ids of ``vocabulary``."""
        return [vocabulary.encode(sequence) for sequence in self.sequences]


def alphabet() -> Corpus:
    """The 26 capital letters A to Z, the origin tutorial's dataset."""
    return Corpus.from_text(ALPHABET, level="char", name="alphabet")


def load_text(path: str | os.PathLike[str], *, level: Level = "char") -> Corpus:
    """A corpus from a UTF-8 text file, split into characters or words.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scale.txt"
    >>> _ = path.write_text("C D E F G A B C", encoding="utf-8")
    >>> load_text(path, level="word").vocabulary().tokens
    ('C', 'D', 'E', 'F', 'G', 'A', 'B')
    """
    file = Path(path)
    text = read_text(file)
    if not split_tokens(text, level):
        raise DataError(
            f"Text file '{file}' is empty: it holds no {'characters' if level == 'char' else 'words'}. "
            "Give a file with at least two tokens."
        )
    return Corpus.from_text(text, level=level, name=file.name)
