"""Scores: how well a fitted model predicts a text, in nats, bits and perplexity.

:meth:`SequenceModel.score <seqkit.sequence_model.SequenceModel.score>` is the one scoring
method, for every trainer's models, and it scores a text the way the model reads text:

- a **window** model (stateless, in-batch, stateful) predicts the target of every window
  cut as in training (:meth:`~seqkit.sequence_model.SequenceModel.windows`), a stateful one
  in order with its state carried (:mod:`seqkit.reading`);
- a **stream** model reads the text as the parallel streams of segments it was trained on
  (:func:`corpus_segments`), its state carried from segment to segment, every token but the
  first of each document scored, in one compiled call (:func:`score_streams`, what
  :meth:`StreamTrainer.score <seqkit.trainers.StreamTrainer.score>` computes).

A :class:`Score` holds the mean cross-entropy in nats per scored token (Keras's: each
probability floored at ``1e-7``), the accuracy, and the counts that turn it into bits per
token, perplexity and bits per *character*, which compares models of different
vocabularies (characters, words, subwords) on the same text.

>>> score = Score(loss=0.6931471805599453, accuracy=0.5, tokens=4, characters=8)
>>> score.bits_per_token, score.perplexity, score.bits_per_character
(1.0, 2.0, 0.5)
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from seqkit.datasets import Corpus
from seqkit.backends import keras_backend
from seqkit.engine.plans import StreamSegments, stream_segments
from seqkit.engine.policy import choose_policy
from seqkit.errors import DataError
from seqkit.models import ModelSpec, build_stream_model
from seqkit.vocab import Vocabulary

__all__ = ["PROBABILITY_FLOOR", "Score", "characters_of", "corpus_segments", "score_distributions", "score_streams"]

PROBABILITY_FLOOR = 1e-7
"""The smallest probability a score takes the logarithm of (Keras's ``epsilon``, as its losses clip)."""


@dataclass(frozen=True)
class Score:
    """A model's score on a text.

    Attributes:
        loss: mean cross-entropy, nats per scored token.
        accuracy: the fraction of scored tokens that were the most likely prediction.
        tokens: how many tokens were scored.
        characters: how many characters those tokens stand for (see :func:`characters_of`).
    """

    loss: float
    accuracy: float
    tokens: int
    characters: int

    @property
    def bits_per_token(self) -> float:
        """Cross-entropy in bits per scored token."""
        return self.loss / math.log(2)

    @property
    def perplexity(self) -> float:
        """``exp(loss)``: the number of equally likely tokens the model hesitates between, on average."""
        return math.exp(self.loss)

    @property
    def bits_per_character(self) -> float:
        """Bits per character of the scored text: the total bits over its characters."""
        return self.bits_per_token * self.tokens / max(1, self.characters)

    def as_dict(self) -> dict[str, float | int]:
        """Every figure, JSON-ready."""
        return {
            "loss": self.loss, "bits_per_token": self.bits_per_token, "perplexity": self.perplexity,
            "bits_per_character": self.bits_per_character, "accuracy": self.accuracy,
            "tokens": self.tokens, "characters": self.characters,
        }


def characters_of(vocabulary: Vocabulary, tokens: Sequence[str], level: str) -> int:
    """The characters ``tokens`` stand for: their lengths (a word one more, for the space after it;
    a subword vocabulary counts the characters of its pieces' text).

    >>> characters_of(Vocabulary(["do", "re"]), ["do", "re", "do"], "word")
    9
    """
    counted = getattr(vocabulary, "characters", None)
    if callable(counted):
        return int(counted(tokens))
    return sum(map(len, tokens)) + (len(tokens) if level == "word" else 0)


def score_distributions(
    chunks: Iterable[tuple[slice, np.ndarray]], targets: np.ndarray, *, characters: int
) -> Score:
    """The :class:`Score` of next-token distributions ``(rows, probabilities)`` against ``targets``."""
    loss_sum, correct = 0.0, 0
    for rows, probabilities in chunks:
        expected = targets[rows]
        chosen = probabilities[np.arange(len(expected)), expected]
        loss_sum += float(-np.log(np.clip(chosen.astype(np.float64), PROBABILITY_FLOOR, 1.0)).sum())
        correct += int((np.argmax(probabilities, axis=-1) == expected).sum())
    return Score(loss_sum / len(targets), correct / len(targets), len(targets), characters)


def corpus_segments(corpus: Corpus, vocabulary: Vocabulary, streams: int, segment_length: int) -> StreamSegments:
    """``corpus`` as ``streams`` parallel streams of ``segment_length``-step segments, every token
    but the first of each document scored (empty documents skipped)."""
    sequences = [vocabulary.encode_array(sequence) for sequence in corpus.sequences if len(sequence)]
    if sum(len(sequence) for sequence in sequences) < 2:
        raise DataError(
            f"The text {corpus.name!r} has {sum(map(len, sequences))} token(s): nothing to "
            "predict. Give at least 2 tokens."
        )
    starts = np.cumsum([0] + [len(sequence) for sequence in sequences[:-1]])
    segments = stream_segments(np.concatenate(sequences), starts, int(streams), int(segment_length))
    if not segments.tokens:
        raise DataError(
            f"The text {corpus.name!r} has no token to predict: the first token of a document is never scored "
            "(nothing before it predicts it). Give a document of at least 2 tokens."
        )
    return segments


def scored_stream_tokens(corpus: Corpus) -> list[str]:
    """The tokens a stream score predicts: every token but the first of each document."""
    return [token for sequence in corpus.sequences for token in sequence[1:]]


def score_streams(
    network: keras.Model, spec: ModelSpec, vocabulary: Vocabulary, corpus: Corpus, *, streams: int, segment_length: int
) -> Score:
    """Score ``corpus`` as a stream model reads it: ``streams`` parallel streams of segments.

    ``network`` holds the trained weights (the batch-1 twin of a fitted stream model, or the
    stream network itself); they are copied, by layer name, into a stream network that a
    :class:`~seqkit.engine.loops.StreamLoop` evaluates in one compiled call, under the device
    policy stream training chooses for the same network (so a score repeats the trainer's).
    """
    segments = corpus_segments(corpus, vocabulary, streams, segment_length)
    if keras_backend() == "jax":
        from seqkit.engine.jax_loop import JaxStreamLoop, jax_policy

        policy = jax_policy(units=spec.units, batch_size=int(streams), owner="SequenceModel.score")
        stream_network = _stream_network(network, spec, vocabulary, policy.use_cudnn)
        logs = JaxStreamLoop(stream_network, streams=int(streams), policy=policy).evaluate(segments)
    else:
        from seqkit.engine.loops import StreamLoop

        policy = choose_policy(
            units=spec.units, batch_size=int(streams), kernel=None if spec.cell == "lstm" else False,
            dropout=spec.dropout > 0, owner="SequenceModel.score",
        )
        stream_network = _stream_network(network, spec, vocabulary, policy.use_cudnn)
        logs = StreamLoop(lambda: stream_network, streams=int(streams), policy=policy).evaluate(segments)
    return Score(
        float(logs["loss"]), float(logs["accuracy"]), segments.tokens,
        characters_of(vocabulary, scored_stream_tokens(corpus), corpus.level),
    )


def _stream_network(network: keras.Model, spec: ModelSpec, vocabulary: Vocabulary, use_cudnn: bool | str) -> keras.Model:
    """A stream network with ``network``'s weights, copied by layer name."""
    stream_network = build_stream_model(spec, vocabulary_size=vocabulary.size, use_cudnn=use_cudnn)
    for layer in stream_network.layers:
        if layer.weights:
            layer.set_weights(network.get_layer(layer.name).get_weights())
    return stream_network


def model_spec(record: dict[str, Any]) -> ModelSpec:
    """The :class:`~seqkit.models.ModelSpec` of a training record's ``model`` entry."""
    fields = {name: value for name, value in (record.get("model") or {}).items() if name in ModelSpec.__dataclass_fields__}
    return ModelSpec(**fields)
