"""Vocabulary: tokens <-> ids.

Ids are ``0 .. size - 1`` in the order the tokens were given, so the alphabet
maps ``A -> 0 … Z -> 25`` exactly as the origin tutorial's ``char_to_int``.
Padding never takes a vocabulary id: windows mark it with
:data:`seqkit.windows.PADDING_ID` (``-1``) and each layout represents it in a
way no real token can take. An optional *unknown token* absorbs tokens that
are not in the vocabulary; without one, an unknown token is an error naming it.

>>> vocab = Vocabulary.from_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
>>> vocab.size, vocab.token_to_id("A"), vocab.id_to_token(25)
(26, 0, 'Z')
>>> vocab.encode("CAB")
[2, 0, 1]
>>> vocab.decode([7, 8])
['H', 'I']
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from seqkit.checks import is_int
from seqkit.errors import ModelFileError, VocabularyError
from seqkit.files import FileKind, one_line, printable, read_file_bytes, read_text, write_text_atomic

FORMAT_NAME = "seqkit.vocabulary"
FORMAT_VERSION = 1
Level = Literal["char", "word"]
MAX_VOCABULARY_BYTES = 64 * 1024 * 1024
"""The largest vocabulary file read: 64 MiB (a million long tokens fit)."""

VOCABULARY_FILE = FileKind(
    "Vocabulary file", "a JSON file", MAX_VOCABULARY_BYTES, ModelFileError, "It is not a seqkit vocabulary."
)
"""What :meth:`Vocabulary.load` reads: a regular file of at most :data:`MAX_VOCABULARY_BYTES`."""


def split_tokens(text: str, level: Level) -> list[str]:
    """Split ``text`` into tokens: characters (``"char"``) or whitespace-separated words (``"word"``).

    >>> split_tokens("C D  E", "word")
    ['C', 'D', 'E']
    >>> split_tokens("ab", "char")
    ['a', 'b']
    """
    if level == "char":
        return list(text)
    if level == "word":
        return text.split()
    if level in ("bpe", "unigram"):
        raise VocabularyError(
            f"Level {level!r} splits text with a trained tokenizer, not with split_tokens. "
            "Use SubwordVocabulary.split(text) (seqkit.subword), or Corpus.from_text(text, vocabulary=...)."
        )
    raise VocabularyError(
        f"Unknown tokenization level {level!r}: expected 'char' or 'word'. "
        "Use level='char' for one token per character or level='word' to split on whitespace."
    )


class Vocabulary:
    """An ordered, immutable mapping between string tokens and integer ids.

    Args:
        tokens: the distinct tokens, in id order. Copied on the way in.
        unknown_token: a token to map unknown tokens to. It is added at the
            end if it is not among ``tokens``. Defaults to None: unknown
            tokens raise :class:`~seqkit.errors.VocabularyError`.

    >>> Vocabulary(["do", "re", "mi"]).encode(["mi", "do"])
    [2, 0]
    >>> Vocabulary(["a", "b"], unknown_token="<unk>").encode(["a", "z"])
    [0, 2]

    A subclass declares the ``format`` its configs carry, and :meth:`from_config`
    reads such a config with it (``class SubwordVocabulary(Vocabulary, format_name=...)``).
    """

    format_name: ClassVar[str] = FORMAT_NAME
    """The ``format`` of this class's configs; :meth:`from_config` dispatches on it."""
    format_version: ClassVar[int] = FORMAT_VERSION
    """The version of that format this seqkit writes and reads."""

    def __init_subclass__(cls, *, format_name: str | None = None, **options: Any) -> None:
        super().__init_subclass__(**options)
        if format_name is not None:
            cls.format_name = format_name
            _READERS[format_name] = cls

    def __init__(self, tokens: Iterable[str], *, unknown_token: str | None = None) -> None:
        if isinstance(tokens, str):
            raise VocabularyError(
                f"Vocabulary(tokens) expects a list of tokens, got the string {_preview(tokens)}. "
                "Use Vocabulary.from_chars(text) for characters or Vocabulary.from_words(text) for words."
            )
        token_list = list(tokens)
        for token in token_list:
            if not isinstance(token, str) or token == "":
                raise VocabularyError(
                    f"Every token must be a non-empty string; got {token!r}. "
                    "Convert tokens to strings before building the vocabulary."
                )
            try:
                token.encode("utf-8")
            except UnicodeEncodeError:
                raise VocabularyError(
                    f"Token {token!r} is not valid Unicode text (it holds a lone surrogate) and "
                    "cannot be saved as UTF-8. Decode your input with errors='replace' first."
                ) from None
        if unknown_token is not None:
            if not isinstance(unknown_token, str) or unknown_token == "":
                raise VocabularyError(
                    f"The unknown token must be a non-empty string; got {unknown_token!r}."
                )
            if unknown_token not in token_list:
                token_list.append(unknown_token)
        if not token_list:
            raise VocabularyError(
                "Cannot build a vocabulary from an empty corpus: no tokens were given. "
                "Pass at least one token."
            )
        index: dict[str, int] = {}
        duplicates: list[str] = []
        for position, token in enumerate(token_list):
            if token in index:
                duplicates.append(token)
            else:
                index[token] = position
        if duplicates:
            shown = ", ".join(repr(token) for token in sorted(set(duplicates))[:5])
            raise VocabularyError(
                f"Duplicate tokens in vocabulary: {shown}. Each token must appear once; "
                "use Vocabulary.from_corpus(tokens) to collect the distinct tokens of a corpus."
            )
        self._tokens: tuple[str, ...] = tuple(token_list)
        self._index = index
        self._unknown_token = unknown_token

    # Construction -------------------------------------------------------------------
    @classmethod
    def from_corpus(cls, tokens: Iterable[str], *, unknown_token: str | None = None) -> Vocabulary:
        """Build from a token stream: its distinct tokens in order of first appearance.

        >>> Vocabulary.from_corpus(["b", "a", "b"]).tokens
        ('b', 'a')
        """
        return cls(dict.fromkeys(tokens), unknown_token=unknown_token)

    @classmethod
    def from_chars(cls, text: str, *, unknown_token: str | None = None) -> Vocabulary:
        """Character-level vocabulary of ``text`` (distinct characters, first-appearance order)."""
        return cls.from_corpus(split_tokens(text, "char"), unknown_token=unknown_token)

    @classmethod
    def from_words(cls, text: str, *, unknown_token: str | None = None) -> Vocabulary:
        """Word-level vocabulary of ``text`` split on whitespace.

        >>> Vocabulary.from_words("C D E C").tokens
        ('C', 'D', 'E')
        """
        return cls.from_corpus(split_tokens(text, "word"), unknown_token=unknown_token)

    @classmethod
    def from_text_file(
        cls, path: str | os.PathLike[str], *, level: Level = "char", unknown_token: str | None = None
    ) -> Vocabulary:
        """Vocabulary of a UTF-8 text file at ``level`` (see :func:`seqkit.files.read_text`)."""
        return cls.from_corpus(split_tokens(read_text(path), level), unknown_token=unknown_token)

    # The contract -------------------------------------------------------------------
    @property
    def tokens(self) -> tuple[str, ...]:
        """The tokens in id order."""
        return self._tokens

    @property
    def size(self) -> int:
        """Number of ids (the unknown token included)."""
        return len(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self._tokens == other._tokens and self._unknown_token == other._unknown_token

    def __hash__(self) -> int:
        return hash((self._tokens, self._unknown_token))

    def __repr__(self) -> str:
        shown = ", ".join(repr(token) for token in self._tokens[:5])
        more = ", …" if self.size > 5 else ""
        return f"Vocabulary([{shown}{more}], size={self.size}, unknown_token={self._unknown_token!r})"

    @property
    def unknown_token(self) -> str | None:
        """The token unknown tokens map to, or None."""
        return self._unknown_token

    @property
    def unknown_id(self) -> int | None:
        """The id of :attr:`unknown_token`, or None."""
        return None if self._unknown_token is None else self._index[self._unknown_token]

    def token_to_id(self, token: str) -> int:
        """The id of ``token``; the unknown id if it is not known and there is one.

        >>> Vocabulary(["a", "b"]).token_to_id("c")
        Traceback (most recent call last):
        ...
        seqkit.errors.VocabularyError: Token 'c' is not in the vocabulary of 2 tokens ('a', 'b'). Use only tokens of the vocabulary, or build it with unknown_token='<unk>' to map unknown tokens to one id.
        """
        found = self._index.get(token)
        if found is not None:
            return found
        if self._unknown_token is not None:
            return self._index[self._unknown_token]
        raise VocabularyError(
            f"Token {token!r} is not in the vocabulary of {self.size} tokens ({self._sample()}). "
            "Use only tokens of the vocabulary, or build it with unknown_token='<unk>' "
            "to map unknown tokens to one id."
        )

    def id_to_token(self, token_id: int) -> str:
        """The token of ``token_id``; ids must lie in ``[0, size)``."""
        if not is_int(token_id):
            raise VocabularyError(f"Token ids must be integers; got {token_id!r}.")
        if not 0 <= int(token_id) < self.size:
            raise VocabularyError(
                f"Token id {int(token_id)} is out of range: valid ids are 0 to {self.size - 1} "
                f"for this vocabulary of {self.size} tokens."
            )
        return self._tokens[int(token_id)]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Map tokens to ids. A string is read as a sequence of characters."""
        return [self.token_to_id(token) for token in tokens]

    def encode_array(self, tokens: Sequence[str]) -> np.ndarray:
        """Map tokens to an int32 array without a list of Python ints in between.

        The same ids as :meth:`encode` (and the same errors), about 10x faster and 8x
        smaller on long sequences.

        >>> Vocabulary(["a", "b"]).encode_array("abba").tolist()
        [0, 1, 1, 0]
        """
        try:
            return np.fromiter(map(self._index.__getitem__, tokens), dtype=np.int32, count=len(tokens))
        except KeyError:
            return np.asarray(self.encode(tokens), dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Map ids back to tokens."""
        return [self.id_to_token(token_id) for token_id in ids]

    def _sample(self) -> str:
        shown = ", ".join(repr(token) for token in self._tokens[:5])
        return shown + (", …" if self.size > 5 else "")

    # Persistence --------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """A JSON-ready description, versioned, that :meth:`from_config` reads back."""
        return {
            "format": self.format_name,
            "version": self.format_version,
            "tokens": list(self._tokens),
            "unknown_token": self._unknown_token,
        }

    @classmethod
    def from_config(cls, config: object, *, source: str = "vocabulary") -> Vocabulary:
        """Rebuild a vocabulary from :meth:`get_config`'s output, validating every field.

        A config whose ``format`` a subclass declares is read by that subclass (a
        subword vocabulary's, say), whichever class this is called on.

        Raises:
            ModelFileError: the document is not a seqkit vocabulary of a supported version.
        """
        if not isinstance(config, dict):
            raise ModelFileError(
                f"{source} is not a seqkit vocabulary: expected a JSON object, "
                f"found {type(config).__name__}."
            )
        format_name = config.get("format")
        reader = _READERS.get(format_name) if isinstance(format_name, str) else None
        if reader is None or not issubclass(reader, cls):
            raise ModelFileError(
                f"{source} is not a seqkit vocabulary: its 'format' is {config.get('format')!r}, "
                f"expected {cls.format_name!r}. Build one with {cls.__name__}(...).save(path)."
            )
        if reader is not cls:
            return reader.from_config(config, source=source)
        version = config.get("version")
        if type(version) is not int or version != cls.format_version:
            raise ModelFileError(
                f"{source} has vocabulary format version {version!r}; this seqkit reads version "
                f"{cls.format_version}. Upgrade seqkit or re-save the vocabulary with this version."
            )
        tokens = config.get("tokens")
        unknown = config.get("unknown_token")
        if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
            raise ModelFileError(f"{source} is corrupted: 'tokens' must be a list of strings.")
        if unknown is not None and not isinstance(unknown, str):
            raise ModelFileError(f"{source} is corrupted: 'unknown_token' must be a string or null.")
        if unknown is not None and unknown not in tokens:
            raise ModelFileError(f"{source} is corrupted: its unknown token {unknown!r} is not among its tokens.")
        return cls.from_checked_config(config, source=source)

    @classmethod
    def from_checked_config(cls, config: dict[str, Any], *, source: str) -> Vocabulary:
        """The vocabulary of a config whose format, version, tokens and unknown token are checked.

        The one stage of :meth:`from_config` a subclass overrides to read its own fields.
        """
        try:
            return cls(config["tokens"], unknown_token=config.get("unknown_token"))
        except VocabularyError as error:
            raise ModelFileError(f"{source} is corrupted: {error}") from None

    def to_json(self) -> str:
        """The vocabulary as a UTF-8 JSON document (non-ASCII tokens kept as they are)."""
        return json.dumps(self.get_config(), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "vocabulary") -> Vocabulary:
        """Parse :meth:`to_json`'s output."""
        try:
            config = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            raise ModelFileError(f"{source} is not valid JSON ({error}); it is not a seqkit vocabulary.") from None
        except ValueError:  # a number of more than 4300 digits (Python's int conversion limit)
            raise ModelFileError(
                f"{source} is not valid JSON (it holds a number of more than 4300 digits); "
                "it is not a seqkit vocabulary."
            ) from None
        return cls.from_config(config, source=source)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary as JSON, atomically.

        Raises:
            ModelFileError: the file cannot be written (a read-only or full folder, a
                directory, a device); the message names the path and the reason.
        """
        try:
            write_text_atomic(path, self.to_json())
        except OSError as error:
            raise ModelFileError(
                f"Cannot save the vocabulary to '{printable(os.fspath(path))}': "
                f"{error.strerror or one_line(error)}. Give a writable file path."
            ) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`; anything else is refused.

        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "vocab.json"
        >>> Vocabulary(["ü", "日本"]).save(path)
        >>> Vocabulary.load(path).tokens
        ('ü', '日本')
        """
        source = VOCABULARY_FILE.source(path)
        raw = read_file_bytes(path, VOCABULARY_FILE)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"{source} is not UTF-8 text; it is not a seqkit vocabulary.") from None
        return cls.from_json(text, source=source)


_READERS: dict[str, type[Vocabulary]] = {FORMAT_NAME: Vocabulary}
"""Which class reads a config of each ``format``: subclasses add theirs as they are defined."""


def unfit_token(tokens: Iterable[str], level: Level) -> str | None:
    """The first of ``tokens`` that does not split back into itself at ``level``, or None if all do.

    Text is made of tokens joined together, and read by splitting it at its level
    (:func:`split_tokens`): a character-level token must be one character, a
    word-level token a word without whitespace, or the text does not split back
    into the tokens it was made of.

    >>> unfit_token(["A", "B", "AB"], "char")
    'AB'
    >>> unfit_token(["do", "re mi"], "word")
    're mi'
    >>> unfit_token(["do", "re", "mi"], "word") is None
    True
    """
    for token in tokens:
        if split_tokens(token, level) != [token]:
            return token
    return None


def as_vocabulary(tokens: Vocabulary | Sequence[str]) -> Vocabulary:
    """Return ``tokens`` if it is a Vocabulary, else build one from the distinct tokens."""
    return tokens if isinstance(tokens, Vocabulary) else Vocabulary.from_corpus(tokens)


def _preview(text: str, limit: int = 20) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
