"""``seqkit train --level bpe|unigram``: the held-out text cut off first, the tokenizer trained on the rest.

A subword tokenizer learns its pieces from text; trained on text that includes the
validation or test split, it would have seen what it is scored on. So the text is read
as characters, the test and validation fractions are cut from the end of every
document (test first, as ``fit(test=...)`` cuts them), the tokenizer is trained on what
is left, and then every part is split into its pieces. A model continued with
``--init-from`` keeps its own tokenizer.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from pathlib import Path

    from seqkit.datasets import Corpus

    from .options import DataSource

DEFAULT_VOCAB_SIZE = 1000
"""``--vocab-size`` unless given: 256 byte pieces and 744 merges (or Unigram pieces)."""


class SubwordData(NamedTuple):
    """The training corpus in pieces, the held-out corpora (or None), and the vocabulary that split them."""

    corpus: Corpus
    validation: Corpus | None
    test: Corpus | None
    vocabulary: Any


def subword_data(
    data: DataSource, level: str, *, vocab_size: int | None, validation_split: float | None,
    validation_path: Path | None, test_split: float | None, test_path: Path | None, continued: Any = None,
) -> SubwordData:
    """Read ``data`` as characters, cut the held-out parts, train the tokenizer on the rest (or take
    ``continued``'s), and split every part into pieces."""
    from seqkit.datasets import Corpus, load_text
    from seqkit.splits import holdout_split
    from seqkit.subword import SubwordVocabulary

    characters = dataclasses.replace(data, level="char").load()
    name = characters.name
    test = None if test_path is None else load_text(test_path, level="char")
    if test_split is not None:
        characters, test = holdout_split(characters, test_split)
        test = dataclasses.replace(test, name="test split")
    validation = None if validation_path is None else load_text(validation_path, level="char")
    if validation_split is not None:
        characters, validation = holdout_split(characters, validation_split)
    characters = dataclasses.replace(characters, name=name)  # the cuts' suffixes dropped: it is the training text
    texts = ["".join(document) for document in characters.sequences]
    if continued is not None:
        vocabulary = continued.vocabulary
    else:
        vocabulary = SubwordVocabulary.train(texts, kind=level, vocab_size=vocab_size or DEFAULT_VOCAB_SIZE)

    def pieces(part: Corpus | None, name: str) -> Corpus | None:
        if part is None:
            return None
        return Corpus.from_sequences(["".join(document) for document in part.sequences], vocabulary=vocabulary, name=name)

    corpus = pieces(characters, characters.name)
    assert corpus is not None
    return SubwordData(corpus, pieces(validation, "validation text"), pieces(test, "test split" if test_split else "test text"), vocabulary)
