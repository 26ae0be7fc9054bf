"""Fine-tuning: continue a saved model on new data (``fit(..., init_from=model)``).

char-rnn's ``init_from``: the network starts from a fitted model's weights instead of a
random draw, and trains on the new data with a fresh optimizer. What defines the network
comes from the model and is not asked again: its vocabulary, its cell, units, layers and
embedding width, and (for window trainers) its layout and encoding. A trainer parameter
left at its default takes the model's value; one set to something else that contradicts
the model is refused in one line, as is a network whose weights do not fit (a window model
with scaled inputs cannot become a stream model, which reads ids through an embedding).

Tokens of the new data that the model's vocabulary lacks are refused, naming them, unless
the vocabulary may grow (``extend_vocabulary=True``): the new tokens are appended, so every
old id keeps its meaning, and the rows of the embedding, the one-hot input weights and the
output layer grow, the old rows kept and the new ones drawn as a fresh network's are.

>>> from seqkit.vocab import Vocabulary
>>> grown_vocabulary(Vocabulary(["a", "b"]), [("a", "c", "d", "c")], extend=True).tokens
('a', 'b', 'c', 'd')
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import keras

from seqkit.errors import ConfigurationError, VocabularyError
from seqkit.files import printable
from seqkit.subword import SubwordVocabulary
from seqkit.vocab import Vocabulary

__all__ = [
    "ARCHITECTURE", "Continuation", "check_extensible", "check_inherited", "continuation", "grown_vocabulary",
    "inherited", "load_weights",
]

ARCHITECTURE = ("cell", "units", "layers", "embedding_dim")
"""The network parameters a fine-tuned model takes from the model it continues."""

MAX_NAMED = 10
"""The most unknown tokens an error names."""


@dataclass(frozen=True)
class Continuation:
    """What a fine-tuning run continues: the model, what it fixes, and the vocabulary to train with.

    Attributes:
        model: the fitted :class:`~seqkit.sequence_model.SequenceModel` continued.
        values: what it fixes (:func:`inherited`).
        vocabulary: its vocabulary, grown by the new tokens where allowed.
    """

    model: Any
    values: dict[str, Any]
    vocabulary: Vocabulary

    def describe(self) -> dict[str, Any]:
        """The training record's ``init_from`` entry: the model's trainer, corpus and tokens added."""
        return {
            "trainer": self.model.spec.get("trainer"),
            "corpus": self.model.spec.get("corpus"),
            "tokens_added": list(self.vocabulary.tokens[self.model.vocabulary.size :]),
        }


def continuation(
    trainer: Any, model: Any, sequences: Iterable[Sequence[str]], vocabulary: Vocabulary | None, *, extend: bool
) -> Continuation:
    """What continuing ``model`` with ``trainer`` on ``sequences`` fixes: the model's architecture
    (:func:`inherited`, contradictions refused) and its vocabulary, grown by the new tokens where
    ``extend`` allows. A ``vocabulary`` given (a token file's own) must begin with the model's.
    """
    values = inherited(model)
    check_inherited(trainer, values)
    grown = grown_vocabulary(model.vocabulary, sequences, extend=extend)
    if vocabulary is not None:  # given, or a token file's own: the ids are already its
        prefix = vocabulary.tokens[: model.vocabulary.size] == model.vocabulary.tokens
        if not prefix or vocabulary.unknown_token != model.vocabulary.unknown_token or (
            vocabulary.size > model.vocabulary.size and not extend
        ):
            raise ConfigurationError(
                f"{type(trainer).__name__}.fit continues the model with its own vocabulary; the vocabulary given "
                "(or the token file's) differs from it. Leave vocabulary out with init_from, or encode the token "
                "file with the model's vocabulary (extend_vocabulary=True lets it add tokens after the model's)."
            )
        grown = vocabulary
    check_extensible(values, model.vocabulary, grown)
    return Continuation(model, values, grown)


def inherited(model: Any) -> dict[str, Any]:
    """What ``model`` (a :class:`~seqkit.sequence_model.SequenceModel`) fixes for its fine-tuning:
    the :data:`ARCHITECTURE` values of its record, its ``layout`` and ``encoding``."""
    record = model.spec.get("model") or {}
    values = {name: record[name] for name in ARCHITECTURE if name in record}
    values.setdefault("cell", "lstm")
    return {**values, "layout": model.layout.name, "encoding": model.layout.encoding}


def check_inherited(trainer: Any, values: dict[str, Any]) -> None:
    """Refuse a parameter of ``trainer`` set, away from its default, to contradict ``values``."""
    owner = type(trainer).__name__
    defaults = {name: parameter.default for name, parameter in inspect.signature(type(trainer).__init__).parameters.items()}
    params = trainer.get_params()
    if "encoding" not in params and (values["layout"], values["encoding"]) != ("timesteps", "embedding"):
        raise ConfigurationError(
            f"{owner} reads token ids through an embedding, one per step; the model to continue reads "
            f"{values['encoding']} inputs ({values['layout']} layout). Continue it with a window trainer "
            "(stateless or stateful)."
        )
    for name, value in values.items():
        if name not in params:
            continue
        given = params[name]
        given = getattr(given, "name", given) if name == "layout" else given
        if given != defaults.get(name) and given != value:
            raise ConfigurationError(
                f"{owner} cannot continue the model with {name}={given!r}: the model has {name}={value!r}. "
                f"Leave {name} out (it is taken from the model), or train a new model without init_from."
            )


def grown_vocabulary(vocabulary: Vocabulary, sequences: Iterable[Sequence[str]], *, extend: bool) -> Vocabulary:
    """``vocabulary``, or with ``extend`` the same followed by the new tokens of ``sequences`` in
    order of first appearance; without ``extend`` a new token is refused, naming it.

    >>> grown_vocabulary(Vocabulary(["a"]), [("a", "b")], extend=False)
    Traceback (most recent call last):
    ...
    seqkit.errors.VocabularyError: The new data holds 1 token the model's vocabulary of 1 does not: 'b'. Train on text made of the model's tokens, or let the vocabulary grow (extend_vocabulary=True, --extend-vocabulary).
    """
    if vocabulary.unknown_token is not None:
        return vocabulary  # every token has an id: unknown ones take the unknown token's
    new: dict[str, None] = {}
    for sequence in sequences:
        for token in sequence:
            if token not in vocabulary and token not in new:
                new[token] = None
    if not new:
        return vocabulary
    if not extend:
        shown = ", ".join(repr(printable(token)) for token in list(new)[:MAX_NAMED]) + (", …" if len(new) > MAX_NAMED else "")
        noun = "token" if len(new) == 1 else "tokens"
        raise VocabularyError(
            f"The new data holds {len(new)} {noun} the model's vocabulary of {vocabulary.size} does not: {shown}. "
            "Train on text made of the model's tokens, or let the vocabulary grow "
            "(extend_vocabulary=True, --extend-vocabulary)."
        )
    return Vocabulary([*vocabulary.tokens, *new], unknown_token=vocabulary.unknown_token)


def load_weights(network: keras.Model, source: keras.Model, *, grown_inputs: bool = False) -> int:
    """Copy ``source``'s weights into ``network``'s layers of the same names; returns the layers copied.

    Where the vocabulary grew, the weights that grow with it — the ``embedding``'s rows, the
    output layer's (``next_token``) columns and bias and, with ``grown_inputs`` (one-hot time
    steps), the first recurrent layer's input rows — take the source's values in their leading
    slice and keep their own in the rest (the new ids come after the old ones). Any other
    difference of shape is refused, naming the layer and both shapes.
    """
    first_recurrent = next((layer.name for layer in network.layers if isinstance(layer, keras.layers.RNN)), None)
    copied = 0
    for layer in network.layers:
        if not layer.weights:
            continue
        try:
            origin = source.get_layer(layer.name)
        except ValueError:
            raise ConfigurationError(
                f"The model to continue has no layer {layer.name!r} (its layers: "
                f"{', '.join(other.name for other in source.layers if other.weights)}): this trainer's "
                "network does not fit it. Use the trainer and settings it was trained with."
            ) from None
        values = []
        for number, (mine, theirs) in enumerate(zip(layer.get_weights(), origin.get_weights(), strict=True)):
            axis = _vocabulary_axis(layer.name, number, mine.ndim, first_recurrent if grown_inputs else None)
            if mine.shape == theirs.shape:
                values.append(theirs)
            elif axis is not None and _grown_along(mine.shape, theirs.shape, axis):
                grown = mine.copy()
                grown[tuple(slice(0, size) for size in theirs.shape)] = theirs
                values.append(grown)
            else:
                raise ConfigurationError(
                    f"The model to continue does not fit this trainer's network: layer {layer.name!r} has weights "
                    f"of shape {tuple(theirs.shape)} there and {tuple(mine.shape)} here. Use the settings it "
                    "was trained with (its layout, encoding and window)."
                )
        layer.set_weights(values)
        copied += 1
    return copied


def _vocabulary_axis(name: str, number: int, ndim: int, grown_recurrent: str | None) -> int | None:
    """The axis of a layer's ``number``-th weight that grows with the vocabulary, or None."""
    if name == "embedding":
        return 0
    if name == "next_token":
        return ndim - 1  # the kernel's columns, the bias
    if name == grown_recurrent and number == 0:
        return 0  # one-hot inputs: one kernel row per id
    return None


def _grown_along(mine: tuple[int, ...], theirs: tuple[int, ...], axis: int) -> bool:
    """Whether ``mine`` is ``theirs`` grown along ``axis`` only."""
    return all((a >= b) if index == axis else (a == b) for index, (a, b) in enumerate(zip(mine, theirs)))


def check_extensible(values: dict[str, Any], old: Vocabulary, new: Vocabulary) -> None:
    """Refuse to grow the vocabulary of a model whose inputs would change meaning: scaled inputs
    (``id / V`` changes with ``V``), one-hot windows as features (each position's block of ``V``
    columns would shift), a subword vocabulary (its tokenizer already splits every text)."""
    if new.size == old.size:
        return
    if isinstance(old, SubwordVocabulary):
        raise ConfigurationError(
            f"Cannot grow a {old.level} vocabulary: its tokenizer splits every text into its own pieces. Give the "
            "text as a string (split by the model's tokenizer), without extend_vocabulary."
        )
    if values["encoding"] == "scaled":
        raise ConfigurationError(
            f"Cannot grow the vocabulary of a model with scaled inputs (id / {old.size}): every input it learned "
            "would change. Train a new model, or continue one with onehot or embedding inputs."
        )
    if values["encoding"] == "onehot" and values["layout"] == "features":
        raise ConfigurationError(
            f"Cannot grow the vocabulary of a model that reads a window of one-hot vectors as features: each "
            f"position's {old.size} columns would shift. Train a new model, or continue one with embedding inputs."
        )
