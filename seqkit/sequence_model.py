"""SequenceModel: a trained network with its vocabulary and layout, ready to predict.

A ``SequenceModel`` is what a trainer's ``fit`` returns and what a bundle
holds. It speaks tokens, not tensors: ``predict_next`` ranks the next token,
``generate`` extends a prompt, and for stateful models ``prime`` warms the
LSTM state on a prefix and ``reset`` clears it.

A stateful model keeps a *batch-1 twin* of the network it was trained with
(Keras 3 refuses a batch of another size than the one a stateful layer was
built for), holding the trained weights, so a model trained on ``N``
parallel streams predicts one token at a time without rebuilding anything.
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from seqkit.errors import ConfigurationError, DataError, NotFittedError
from seqkit.layouts import Layout
from seqkit.models import recurrent_layers, reset_states
from seqkit.vocab import Vocabulary
from seqkit.windows import PADDING_ID, WindowIndex, Windows

MAX_MISTAKES = 10_000
"""Evaluation keeps the first this many mistakes; its accuracy counts all of them."""
_EVALUATION_CHUNK = 4096


@dataclass(frozen=True)
class Prediction:
    """One candidate next token and its probability."""

    token: str
    probability: float


@dataclass(frozen=True)
class Evaluation:
    """Accuracy of a model over a set of windows.

    Attributes:
        accuracy: fraction of windows whose next token is predicted right (0 to 1).
        total: number of windows.
        mistakes: ``(input tokens, expected, predicted)`` for every wrong prediction
            (the first :data:`MAX_MISTAKES` of them on a long corpus).
        wrong: the number of wrong predictions. Defaults to ``len(mistakes)``.
    """

    accuracy: float
    total: int
    mistakes: tuple[tuple[tuple[str, ...], str, str], ...] = field(default=())
    wrong: int | None = None

    @property
    def correct(self) -> int:
        return self.total - (len(self.mistakes) if self.wrong is None else self.wrong)


class SequenceModel:
    """A fitted next-token model: vocabulary + layout + Keras network + training spec.

    Args:
        network: the Keras model used for prediction. For stateful models, a
            batch-1 stateful network with the trained weights.
        vocabulary: maps tokens to the ids the network was trained on.
        layout: how windows are presented to the network.
        window_length: ``L``, the ids per window the network reads.
        spec: a JSON-ready record of how the model was trained (trainer,
            hyperparameters), kept in bundles and shown by ``seqkit inspect``.
        history: per-epoch training ``loss`` and ``accuracy``.
    """

    def __init__(
        self,
        network: keras.Model,
        vocabulary: Vocabulary,
        layout: Layout,
        *,
        window_length: int,
        spec: dict[str, Any] | None = None,
        history: dict[str, list[float]] | None = None,
    ) -> None:
        self.network = network
        self.vocabulary = vocabulary
        self.layout = layout
        self.window_length = int(window_length)
        self.spec: dict[str, Any] = dict(spec or {})
        self.history: dict[str, list[float]] = {key: list(values) for key, values in (history or {}).items()}
        self.stateful = bool(recurrent_layers(network))
        self.masked = self.spec.get("model", {}).get("masked", False)
        self._predict = tf.function(lambda x: self.network(x, training=False), reduce_retracing=True)

    def __repr__(self) -> str:
        kind = "stateful" if self.stateful else "stateless"
        return (
            f"SequenceModel({kind}, layout={self.layout!r}, window_length={self.window_length}, "
            f"vocabulary_size={self.vocabulary.size})"
        )

    # Persistence --------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save as one bundle file, atomically (see :func:`seqkit.bundle.save_bundle`)."""
        from seqkit.bundle import save_bundle

        return save_bundle(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SequenceModel:
        """Load a bundle, validated whole before use (see :func:`seqkit.bundle.load_bundle`)."""
        from seqkit.bundle import load_bundle

        return load_bundle(path)

    # Inputs -------------------------------------------------------------------------
    def _window_ids(self, tokens: Any) -> np.ndarray:
        """The last ``L`` ids of ``tokens`` as one window, front-padded if allowed."""
        ids = self.vocabulary.encode(tokens)
        if not ids:
            raise DataError("Give at least one token to predict from; got none.")
        if len(ids) >= self.window_length:
            return np.asarray([ids[-self.window_length :]], dtype=np.int32)
        if not self.masked:
            raise DataError(
                f"This model reads windows of {self.window_length} tokens; got {len(ids)} "
                f"({' '.join(map(str, tokens))}). Give at least {self.window_length} tokens."
            )
        window = np.full((1, self.window_length), PADDING_ID, dtype=np.int32)
        window[0, self.window_length - len(ids) :] = ids
        return window

    def _probabilities(self, id_windows: np.ndarray) -> np.ndarray:
        inputs = self.layout.transform(id_windows, self.vocabulary.size)
        return np.asarray(self._predict(tf.constant(inputs)))

    def _step_stateful(self, ids: list[int]) -> np.ndarray:
        """Feed ids one window at a time (non-overlapping) through the batch-1 twin."""
        if len(ids) % self.window_length:
            raise DataError(
                f"A stateful model reads {self.window_length} tokens per step; got {len(ids)} tokens, "
                f"which is not a multiple of {self.window_length}."
            )
        for start in range(0, len(ids), self.window_length):
            probabilities = self._probabilities(np.asarray([ids[start : start + self.window_length]]))
        return probabilities[0]

    # Prediction ---------------------------------------------------------------------
    def next_distribution(self, tokens: Any) -> np.ndarray:
        """Probabilities of every vocabulary token coming next after ``tokens``.

        Stateless models read the last ``L`` tokens. Stateful models feed every
        token through the network, advancing its state, as :meth:`prime` does.
        """
        if self.stateful:
            ids = self.vocabulary.encode(tokens)
            if not ids:
                raise DataError("Give at least one token to predict from; got none.")
            return self._step_stateful(ids)
        return self._probabilities(self._window_ids(tokens))[0]

    def predict_next(self, tokens: Any, top_k: int = 1) -> list[Prediction]:
        """The ``top_k`` most likely next tokens, most likely first.

        Args:
            tokens: the context, a list of tokens (a string is read as characters).
            top_k: how many candidates to return, 1 to the vocabulary size.
        """
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= self.vocabulary.size:
            raise ConfigurationError(
                f"top_k must be an int between 1 and the vocabulary size {self.vocabulary.size}; got {top_k!r}."
            )
        probabilities = self.next_distribution(tokens)
        order = np.argsort(-probabilities, kind="stable")[:top_k]
        return [Prediction(self.vocabulary.id_to_token(int(i)), float(probabilities[i])) for i in order]

    def prime(self, tokens: Any) -> None:
        """Warm a stateful model's state by reading ``tokens`` (no-op for stateless ones)."""
        if self.stateful:
            self.next_distribution(tokens)

    def reset(self) -> None:
        """Zero the state of a stateful model (no-op for stateless ones)."""
        reset_states(self.network)

    def generate(
        self,
        prime: Any,
        steps: int,
        *,
        temperature: float | None = None,
        seed: int | None = None,
    ) -> list[str]:
        """Extend ``prime`` by ``steps`` tokens, feeding each prediction back in.

        Greedy (the most likely token) by default; with ``temperature`` the
        next token is sampled from the softened distribution. The state of a
        stateful model is *not* reset first: call :meth:`reset` for a cold start.

        Returns:
            The generated tokens, without the prime.
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ConfigurationError(f"steps must be an int >= 0; got {steps!r}.")
        if temperature is not None and not temperature > 0:
            raise ConfigurationError(f"temperature must be a positive number or None; got {temperature!r}.")
        if self.stateful and self.window_length != 1 and steps:
            raise ConfigurationError(
                f"generate needs a stateful model that reads one token per step; this one reads "
                f"windows of {self.window_length}, and feeding back overlapping windows would read "
                "each token into the state several times. Train it with window=1 (the stateful "
                "default), or use predict_next on whole windows."
            )
        context = list(prime)
        generator = np.random.default_rng(seed)
        generated: list[str] = []
        distribution = self.next_distribution(context) if steps else None
        for step in range(steps):
            assert distribution is not None
            if temperature is None:
                token_id = int(np.argmax(distribution))
            else:
                logits = np.log(np.clip(distribution, 1e-12, 1.0)) / temperature
                weights = np.exp(logits - logits.max())
                token_id = int(generator.choice(len(weights), p=weights / weights.sum()))
            token = self.vocabulary.id_to_token(token_id)
            generated.append(token)
            context.append(token)
            if step + 1 < steps:
                if self.stateful:
                    distribution = self._step_stateful([token_id])
                else:
                    distribution = self.next_distribution(context)
        return generated

    # Evaluation ---------------------------------------------------------------------
    def evaluate(self, windows: Windows | WindowIndex) -> Evaluation:
        """Accuracy over ``windows`` (ids of this model's vocabulary).

        Stateless models predict all windows independently, a few thousand at a
        time. Stateful models are reset, then read the windows in order through the
        batch-1 copy, state carried from one to the next and reset wherever the
        corpus sequence changes, whatever reset policy training used. A :class:`~seqkit.windows.WindowIndex` is materialized one
        chunk at a time, so evaluating a long corpus needs no ``(n, L)`` copy.
        """
        if len(windows) == 0:
            raise DataError("Cannot evaluate on zero windows; give at least one.")
        if windows.window_length != self.window_length:
            raise DataError(
                f"This model reads windows of {self.window_length} tokens; the evaluation windows "
                f"have {windows.window_length}. Cut them with the same window length."
            )
        if self.stateful:
            predicted = self._stream_predictions(windows)
        else:
            predicted = np.empty(len(windows), dtype=np.int32)
            for start in range(0, len(windows), _EVALUATION_CHUNK):
                rows = slice(start, start + _EVALUATION_CHUNK)
                chunk = windows.take(rows).inputs if isinstance(windows, WindowIndex) else windows.inputs[rows]
                predicted[rows] = np.argmax(self._probabilities(chunk), axis=-1)
        return self._score(windows, predicted)

    def evaluate_random_patterns(self, windows: Windows, count: int = 20, seed: int = 7) -> Evaluation:
        """Accuracy on ``count`` windows drawn at random, each predicted from a cold state.

        This is the tutorial's "Test a Random Pattern": a model that only did
        well because of context carried between ordered samples fails it.
        """
        picks = np.random.RandomState(seed).randint(len(windows), size=count)
        chosen = windows.subset(picks)
        predicted = []
        for row in range(len(chosen)):
            self.reset()
            predicted.append(int(np.argmax(self._probabilities(chosen.inputs[row : row + 1])[0])))
        self.reset()
        return self._score(chosen, np.asarray(predicted))

    def _stream_predictions(self, windows: Windows | WindowIndex) -> np.ndarray:
        self.reset()
        predicted = np.empty(len(windows), dtype=np.int64)
        previous = None
        for row in range(len(windows)):
            if previous is not None and windows.sequence_ids[row] != previous:
                self.reset()
            previous = windows.sequence_ids[row]
            window = windows.take([row]).inputs if isinstance(windows, WindowIndex) else windows.inputs[row : row + 1]
            predicted[row] = int(np.argmax(self._probabilities(window)[0]))
        self.reset()
        return predicted

    def _score(self, windows: Windows | WindowIndex, predicted: np.ndarray) -> Evaluation:
        targets = windows.targets
        wrong = np.nonzero(predicted != targets)[0]
        shown = windows.take(wrong[:MAX_MISTAKES]) if isinstance(windows, WindowIndex) else windows.subset(wrong[:MAX_MISTAKES])
        mistakes = tuple(
            (
                tuple(self.vocabulary.decode(int(i) for i in shown.inputs[number] if i != PADDING_ID)),
                self.vocabulary.id_to_token(int(targets[row])),
                self.vocabulary.id_to_token(int(predicted[row])),
            )
            for number, row in enumerate(wrong[:MAX_MISTAKES])
        )
        return Evaluation(1.0 - len(wrong) / len(windows), len(windows), mistakes, wrong=len(wrong))


def require_fitted(model: SequenceModel | None) -> SequenceModel:
    """Return ``model`` or raise :class:`NotFittedError` telling the user to fit first."""
    if model is None:
        raise NotFittedError("This trainer has not been fitted yet. Call fit(corpus) first.")
    return model
