"""seqkit: stateful sequence learning with LSTMs.

A token sequence becomes ids (:mod:`seqkit.vocab`), windows
(:mod:`seqkit.windows`) and tensors (:mod:`seqkit.layouts`); a trainer
(:mod:`seqkit.trainers`) fits an LSTM stateless, in-batch or stateful and
returns a :class:`~seqkit.sequence_model.SequenceModel` that predicts and
generates.

>>> import seqkit
>>> seqkit.Vocabulary.from_chars("ABCA").tokens
('A', 'B', 'C')

:class:`SequenceModel`, :func:`load` (a bundle) and :func:`~seqkit.inside.cells` (looking inside
the LSTM cells) are here too, imported on first use, so
that ``import seqkit`` stays free of Keras and TensorFlow until they are needed.
"""

from typing import Any

from seqkit.datasets import Corpus, alphabet, load_text
from seqkit.errors import (
    ConfigurationError,
    DataError,
    LayoutError,
    ModelFileError,
    NotFittedError,
    SeqkitError,
    VocabularyError,
)
from seqkit.layouts import Features, Layout, TimeSteps, make_layout
from seqkit.version import __version__
from seqkit.vocab import Vocabulary
from seqkit.windows import Windows, random_windows, sliding_windows

__all__ = [
    "ConfigurationError",
    "Corpus",
    "DataError",
    "Features",
    "Layout",
    "LayoutError",
    "ModelFileError",
    "NotFittedError",
    "SeqkitError",
    "SequenceModel",
    "TimeSteps",
    "Vocabulary",
    "VocabularyError",
    "Windows",
    "__version__",
    "alphabet",
    "cells",
    "load",
    "load_text",
    "make_layout",
    "random_windows",
    "sliding_windows",
]


def __getattr__(name: str) -> Any:
    """``SequenceModel``, ``load`` and ``cells`` on first use (they import Keras)."""
    if name == "SequenceModel":
        from seqkit.sequence_model import SequenceModel

        return SequenceModel
    if name == "cells":
        from seqkit.inside import cells

        return cells
    if name == "load":
        from seqkit.sequence_model import load_bundle

        return load_bundle
    raise AttributeError(f"module 'seqkit' has no attribute {name!r}")
