"""Subword vocabularies: byte-level BPE and Unigram pieces, trained with Hugging Face ``tokenizers``.

A :class:`SubwordVocabulary` is a :class:`~seqkit.vocab.Vocabulary` whose tokens
are a trained tokenizer's *pieces*, in id order, so windows, trainers, bundles
and generation use it as they use a character or word vocabulary. What it adds
is the tokenizer: :meth:`~SubwordVocabulary.split` cuts text into pieces and
:meth:`~SubwordVocabulary.join` puts pieces back together.

The pieces are byte-level: the text's UTF-8 bytes, each shown as one printable
character (a space is ``Ġ``, a newline ``Ċ``), merged into longer pieces by
training. All 256 byte pieces are always in the vocabulary, so no text is ever
unknown, and ``join(split(text)) == text`` exactly for every text: newlines,
tabs, runs of spaces, any script, characters never seen in training.

Training is deterministic: the same text gives the same vocabulary. (Unigram
training adds up floats, and scores the byte pieces it adds back, in an order
that changes from run to run: those byte pieces get one score, every score is
rounded to :data:`SCORE_DECIMALS` decimals, and the pieces are ordered by score,
then by piece.) The tokenizer is kept as its JSON (``Tokenizer.to_str()``), the
form vocabulary files and bundles store; nothing is pickled.

Scores per character: :meth:`~SubwordVocabulary.characters` counts the
characters pieces stand for, so bits per piece times ``len(pieces) /
characters(pieces)`` are bits per character.

>>> vocabulary = SubwordVocabulary.train("low lower lowest newer newest " * 20, kind="bpe", vocab_size=300)
>>> vocabulary.level, vocabulary.size
('bpe', 270)
>>> vocabulary.split(" lowest newer")
['Ġlowest', 'Ġnewer']
>>> vocabulary.join(['Ġlowest', 'Ġnewer'])
' lowest newer'
>>> vocabulary.join(vocabulary.split("naïve\\tтекст\\n")) == "naïve\\tтекст\\n"
True
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from seqkit.checks import check_int
from seqkit.errors import DataError, MissingDependencyError, ModelFileError, VocabularyError, parameter_error
from seqkit.files import one_line
from seqkit.vocab import Vocabulary

if TYPE_CHECKING:
    import numpy as np
    import tokenizers

SubwordLevel = Literal["bpe", "unigram"]
SUBWORD_LEVELS: tuple[SubwordLevel, ...] = ("bpe", "unigram")
"""The subword levels, as :attr:`SubwordVocabulary.level` and ``Corpus.level`` name them."""

FORMAT_NAME = "seqkit.subword-vocabulary"
"""The ``format`` of a subword vocabulary's config (a plain vocabulary's is ``seqkit.vocabulary``)."""

BYTE_PIECES = 256
"""The byte pieces every subword vocabulary holds; ``vocab_size`` asks for at least one more."""

SCORE_DECIMALS = 8
"""Unigram scores (log probabilities) are rounded to this many decimals after training."""

_MODELS = {"BPE": "bpe", "Unigram": "unigram"}  # the tokenizer's model type -> the level
_DROPPED_STEP = 0.0001  # the score step of the byte pieces a Unigram trainer adds back
_RESAVE = "Save the vocabulary again."


class SubwordVocabulary(Vocabulary, format_name=FORMAT_NAME):
    """A vocabulary of byte-level BPE or Unigram pieces, with the tokenizer that cuts text into them.

    Args:
        tokenizer: a Hugging Face tokenizer's JSON (``Tokenizer.to_str()``), as
            :meth:`train` makes it: a BPE or Unigram model, a byte-level
            pre-tokenizer and decoder, all 256 byte pieces, nothing that changes
            the text (no normalizer, no added tokens). Anything else is refused,
            as it would not give every text back exactly.

    Raises:
        VocabularyError: ``tokenizer`` is not such a tokenizer's JSON.

    >>> vocabulary = SubwordVocabulary.train("abab", kind="unigram", vocab_size=260)
    >>> SubwordVocabulary(vocabulary.tokenizer_json) == vocabulary
    True
    >>> SubwordVocabulary('{"model": 1}')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seqkit.errors.VocabularyError: The subword tokenizer is not one that gives every text back exactly: ...
    """

    def __init__(self, tokenizer: str) -> None:
        if not isinstance(tokenizer, str):
            raise VocabularyError(
                f"SubwordVocabulary(tokenizer) takes a tokenizer's JSON string; got {type(tokenizer).__name__}. "
                "Pass tokenizer.to_str(), or train one with SubwordVocabulary.train(texts, kind=..., vocab_size=...)."
            )
        try:
            spec = json.loads(tokenizer)
        except (ValueError, RecursionError) as error:
            raise VocabularyError(f"The subword tokenizer is not valid JSON ({one_line(error)}).") from None
        problem = _inexact(spec)
        if problem is not None:
            raise VocabularyError(
                f"The subword tokenizer is not one that gives every text back exactly: {problem}. "
                "Train one with SubwordVocabulary.train(texts, kind='bpe', vocab_size=...)."
            )
        try:
            self._tokenizer = _tokenizers().Tokenizer.from_str(tokenizer)
        except Exception as error:  # tokenizers raises a bare Exception for a JSON it cannot read
            raise VocabularyError(f"The subword tokenizer cannot be read by tokenizers ({one_line(error)}).") from None
        pieces = [self._tokenizer.id_to_token(number) for number in range(self._tokenizer.get_vocab_size())]
        if None in pieces:
            raise VocabularyError(
                f"The subword tokenizer's ids have a gap: no piece has id {pieces.index(None)}."
            )
        self._level: SubwordLevel = _MODELS[spec["model"]["type"]]  # type: ignore[assignment]
        self._json = self._tokenizer.to_str()
        super().__init__(pieces)  # type: ignore[arg-type]
        missing = [piece for piece in _byte_pieces() if piece not in self]
        if missing:
            raise VocabularyError(
                f"The subword tokenizer lacks {len(missing)} of the {BYTE_PIECES} byte pieces "
                f"(first {missing[0]!r}), so some texts cannot be split. "
                "Train it with SubwordVocabulary.train, which keeps them all."
            )

    # Training ----------------------------------------------------------------------
    @classmethod
    def train(cls, texts: str | Sequence[str], *, kind: SubwordLevel, vocab_size: int) -> SubwordVocabulary:
        """Train a byte-level BPE or Unigram tokenizer on ``texts``; the same texts give the same vocabulary.

        Args:
            texts: the training text, or several documents (no piece spans two).
            kind: ``"bpe"`` (merges of frequent pairs) or ``"unigram"`` (the likeliest pieces).
            vocab_size: the most pieces, the 256 byte pieces included; an int >= 257.
                A short text may give fewer.

        Returns:
            The vocabulary of the trained tokenizer's pieces, in id order.

        Raises:
            ConfigurationError: ``kind`` or ``vocab_size`` is not one of the above.
            DataError: ``texts`` holds no text.

        >>> SubwordVocabulary.train("", kind="bpe", vocab_size=300)
        Traceback (most recent call last):
        ...
        seqkit.errors.DataError: Cannot train a subword vocabulary on empty text: give the training text, or several documents.
        """
        owner = "SubwordVocabulary.train"
        if kind not in SUBWORD_LEVELS:
            raise parameter_error(owner, "kind", "'bpe' or 'unigram'", kind)
        vocab_size = check_int(owner, "vocab_size", vocab_size, minimum=BYTE_PIECES + 1)
        documents = [texts] if isinstance(texts, str) else list(texts)
        if not all(isinstance(document, str) for document in documents):
            raise parameter_error(owner, "texts", "a string or a sequence of strings", texts)
        if not any(documents):
            raise DataError(
                "Cannot train a subword vocabulary on empty text: give the training text, or several documents."
            )
        hf = _tokenizers()
        if kind == "bpe":
            tokenizer = hf.Tokenizer(hf.models.BPE())
            trainer: Any = hf.trainers.BpeTrainer(
                vocab_size=vocab_size, initial_alphabet=_byte_pieces(), special_tokens=[], show_progress=False
            )
        else:
            tokenizer = hf.Tokenizer(hf.models.Unigram())
            trainer = hf.trainers.UnigramTrainer(
                vocab_size=vocab_size, initial_alphabet=_byte_pieces(), special_tokens=[], show_progress=False
            )
        tokenizer.pre_tokenizer = hf.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tokenizer.decoder = hf.decoders.ByteLevel()
        try:
            tokenizer.train_from_iterator(documents, trainer=trainer, length=len(documents))
        except UnicodeEncodeError:
            raise _surrogate_error() from None
        if kind == "unigram":
            tokenizer.model = _canonical_unigram(json.loads(tokenizer.to_str())["model"]["vocab"])
        return cls(tokenizer.to_str())

    # What it adds to a vocabulary ------------------------------------------------------
    @property
    def level(self) -> SubwordLevel:
        """``"bpe"`` or ``"unigram"``: the kind of tokenizer."""
        return self._level

    @property
    def tokenizer_json(self) -> str:
        """The tokenizer as JSON; ``tokenizers.Tokenizer.from_str`` reads it."""
        return self._json

    def split(self, text: str) -> list[str]:
        """``text`` as the tokenizer's pieces; :meth:`join` gives it back exactly.

        >>> vocabulary = SubwordVocabulary.train("ab ab", kind="bpe", vocab_size=258)
        >>> vocabulary.split("ab\\n")
        ['ab', 'Ċ']
        """
        if not isinstance(text, str):
            raise VocabularyError(f"split takes a string of text; got {type(text).__name__}.")
        try:
            return list(self._tokenizer.encode(text, add_special_tokens=False).tokens)
        except TypeError:  # the only str tokenizers refuses: one with a lone surrogate
            raise _surrogate_error() from None

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Where each piece of :meth:`split` lies in ``text``: ``(start, end)`` character offsets
        (``end`` excluded), as the tokenizer reports them.

        >>> vocabulary = SubwordVocabulary.train("ab ab", kind="bpe", vocab_size=258)
        >>> vocabulary.split("ab ab"), vocabulary.offsets("ab ab")
        (['ab', 'Ġab'], [(0, 2), (2, 5)])
        """
        if not isinstance(text, str):
            raise VocabularyError(f"offsets takes a string of text; got {type(text).__name__}.")
        try:
            return [tuple(pair) for pair in self._tokenizer.encode(text, add_special_tokens=False).offsets]
        except TypeError:
            raise _surrogate_error() from None

    def join(self, pieces: Iterable[str]) -> str:
        """The text ``pieces`` stand for: :meth:`split` reversed.

        Pieces that end inside a character (a generated sequence may) give ``"\\ufffd"``
        for its bytes.

        >>> vocabulary = SubwordVocabulary.train("ab ab", kind="bpe", vocab_size=258)
        >>> vocabulary.join(["ab", "Ġ", "ab"])
        'ab ab'
        """
        if isinstance(pieces, str):
            raise VocabularyError(
                f"join takes a list of pieces; got the string {pieces[:20]!r}. Pass vocabulary.split(text)."
            )
        listed = list(pieces)
        for piece in listed:
            if piece not in self:
                raise VocabularyError(
                    f"Piece {piece!r} is not in this {self._level} vocabulary of {self.size} pieces. "
                    "Join only pieces of the vocabulary, as split and generate give them."
                )
        return str(self._tokenizer.decoder.decode(listed))

    def characters(self, pieces: Iterable[str]) -> int:
        """How many characters ``pieces`` stand for: ``len(join(pieces))``.

        Bits per character are bits per piece times ``len(pieces) / characters(pieces)``.

        >>> vocabulary = SubwordVocabulary.train("ab ab", kind="bpe", vocab_size=258)
        >>> vocabulary.characters(["ab", "Ġ", "ab"])
        5
        """
        return len(self.join(pieces))

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Map pieces to ids; a string is :meth:`split` first.

        >>> vocabulary = SubwordVocabulary.train("ab ab", kind="bpe", vocab_size=258)
        >>> vocabulary.encode("ab") == vocabulary.encode(["ab"])
        True
        """
        return super().encode(self.split(tokens) if isinstance(tokens, str) else tokens)

    def encode_array(self, tokens: Sequence[str]) -> np.ndarray:
        """:meth:`encode` as an int32 array; a string is :meth:`split` first."""
        return super().encode_array(self.split(tokens) if isinstance(tokens, str) else tokens)

    # Identity and persistence ------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return isinstance(other, SubwordVocabulary) and self._json == other._json

    def __hash__(self) -> int:
        return hash(self._json)

    def __repr__(self) -> str:
        shown = ", ".join(repr(token) for token in self.tokens[:5])
        return f"SubwordVocabulary({self._level!r}, [{shown}, …], size={self.size})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._json,))

    def get_config(self) -> dict[str, Any]:
        """The plain vocabulary's config, with this ``format``, the ``level`` and the ``tokenizer`` JSON."""
        return {**super().get_config(), "level": self._level, "tokenizer": self._json}

    @classmethod
    def from_checked_config(cls, config: dict[str, Any], *, source: str) -> SubwordVocabulary:
        """Read the tokenizer of a checked config; its level and pieces must agree with the config's.

        Raises:
            ModelFileError: the tokenizer is missing, corrupted, or disagrees with ``level`` or ``tokens``.
        """
        tokenizer, level, tokens = config.get("tokenizer"), config.get("level"), config["tokens"]
        if not isinstance(tokenizer, str):
            raise ModelFileError(f"{source} is corrupted: 'tokenizer' must be the tokenizer's JSON string. {_RESAVE}")
        if config.get("unknown_token") is not None:
            raise ModelFileError(
                f"{source} is corrupted: a subword vocabulary has no unknown token; got "
                f"{config['unknown_token']!r}. {_RESAVE}"
            )
        try:
            vocabulary = cls(tokenizer)
        except VocabularyError as error:
            raise ModelFileError(f"{source} is corrupted: {error} {_RESAVE}") from None
        if level != vocabulary.level:
            raise ModelFileError(
                f"{source} is corrupted: its 'level' is {level!r}, but its tokenizer is a {vocabulary.level!r} "
                f"one. {_RESAVE}"
            )
        if vocabulary.tokens != tuple(tokens):
            first = next(
                (number for number, pair in enumerate(zip(vocabulary.tokens, tokens)) if pair[0] != pair[1]),
                min(len(tokens), vocabulary.size),
            )
            theirs = repr(tokens[first]) if first < len(tokens) else "nothing"
            ours = repr(vocabulary.tokens[first]) if first < vocabulary.size else "nothing"
            raise ModelFileError(
                f"{source} is corrupted: its tokenizer's {vocabulary.size} pieces disagree with its "
                f"{len(tokens)} tokens (id {first}: {ours} in the tokenizer, {theirs} in 'tokens'). {_RESAVE}"
            )
        return vocabulary


# Helpers ----------------------------------------------------------------------------------
def _tokenizers() -> Any:
    """The ``tokenizers`` package, imported when a subword vocabulary is first used."""
    try:
        import tokenizers
    except ImportError:
        raise MissingDependencyError(
            "Subword vocabularies need the 'tokenizers' package, which is not installed: "
            "pip install 'tokenizers>=0.19'."
        ) from None
    return tokenizers


def _byte_pieces() -> list[str]:
    """The 256 characters that stand for the bytes 0 to 255, sorted."""
    return sorted(_tokenizers().pre_tokenizers.ByteLevel.alphabet())


def _canonical_unigram(vocab: list[list[Any]]) -> tokenizers.models.Model:
    """A Unigram model of the trained pieces that is the same for the same text.

    The trainer keeps every byte piece: those its model dropped come back scored
    ``lowest + k * 0.0001``, ``k`` counting them in an order that changes from run to
    run. They all get the lowest score here; then scores are rounded to
    :data:`SCORE_DECIMALS` decimals (sums of floats in another order differ in their
    last digits) and the pieces ordered by score, then by piece.
    """
    scores = {str(piece): float(score) for piece, score in vocab}
    lowest = min(scores.values())
    for piece, score in scores.items():
        steps = (score - lowest) / _DROPPED_STEP
        if len(piece) == 1 and steps < BYTE_PIECES + 0.5 and abs(steps - round(steps)) < 1e-6:
            scores[piece] = lowest
    scored = sorted(((piece, round(score, SCORE_DECIMALS)) for piece, score in scores.items()),
                    key=lambda entry: (-entry[1], entry[0]))
    return _tokenizers().models.Unigram(scored, None, False)


def _inexact(spec: object) -> str | None:
    """Why the tokenizer described by ``spec`` would not give every text back exactly, or None."""
    if not isinstance(spec, dict):
        return f"its JSON is a {type(spec).__name__}, not an object"
    model = spec.get("model")
    model_type = model.get("type") if isinstance(model, dict) else None
    if model_type not in _MODELS:
        return f"its model is {model_type!r}, not 'BPE' or 'Unigram'"
    if model.get("dropout") is not None:  # type: ignore[union-attr]
        return "its BPE model has dropout, which splits the same text differently each time"
    pre_tokenizer, decoder = spec.get("pre_tokenizer"), spec.get("decoder")
    if not (isinstance(pre_tokenizer, dict) and pre_tokenizer.get("type") == "ByteLevel"
            and pre_tokenizer.get("add_prefix_space") is False):
        return "its pre-tokenizer is not ByteLevel(add_prefix_space=False)"
    if not (isinstance(decoder, dict) and decoder.get("type") == "ByteLevel"):
        return "its decoder is not ByteLevel"
    for field in ("normalizer", "post_processor", "truncation", "padding"):
        if spec.get(field) is not None:
            return f"it has a {field}"
    if spec.get("added_tokens"):
        return "it has added tokens"
    return None


def _surrogate_error() -> VocabularyError:
    return VocabularyError(
        "The text holds a lone surrogate, which is not valid Unicode and has no UTF-8 bytes. "
        "Decode your input with errors='replace' first."
    )


__all__ = ["BYTE_PIECES", "FORMAT_NAME", "SCORE_DECIMALS", "SUBWORD_LEVELS", "SubwordLevel", "SubwordVocabulary"]
