"""SequenceModel: a trained network with its vocabulary and layout, ready to predict.

A ``SequenceModel`` is what a trainer's ``fit`` returns and what a bundle
holds. It speaks tokens, not tensors: ``predict_next`` ranks the next token,
``generate`` extends a prompt, and for stateful models ``prime`` warms the
LSTM state on a prefix and ``reset`` clears it. ``save`` writes it as one file
and ``load`` reads it back (the format is :mod:`seqkit.bundle`'s);
:func:`save_bundle` and :func:`load_bundle` do the same as functions.

A stateful model keeps a *batch-1 twin* of the network it was trained with
(Keras 3 refuses a batch of another size than the one a stateful layer was
built for), holding the trained weights, so a model trained on ``N``
parallel streams predicts one token at a time without rebuilding anything.
"""

from __future__ import annotations

import functools

from seqkit._quiet import quiet_import

quiet_import()

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from seqkit.backends import keras_backend
from seqkit.bundle import BundleContents, read_bundle, write_bundle
from seqkit.datasets import Corpus
from seqkit.checks import check_int
from seqkit.engine.policy import prediction_use_cudnn
from seqkit.errors import ConfigurationError, DataError
from seqkit.layouts import Layout
from seqkit.models import recurrent_layers
from seqkit.reading import Reading, StatefulReading, StatelessReading
from seqkit.sampling import Sample
from seqkit.stepping import Stepper, bucket, stepper_for
from seqkit.subword import SubwordVocabulary
from seqkit.scoring import Score, characters_of, model_spec, score_distributions, score_streams
from seqkit.vocab import Vocabulary, split_tokens
from seqkit.windows import PADDING_ID, WindowIndex, Windows, sliding_windows

MAX_MISTAKES = 10_000
"""Evaluation keeps the first this many mistakes; its accuracy counts all of them."""


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


def _is_token_list(value: object) -> bool:
    """Whether ``value`` is a list or tuple of string tokens."""
    return isinstance(value, list | tuple) and all(isinstance(token, str) for token in value)


def _predict(network: keras.Model, inputs: Any) -> Any:
    """The network's prediction (``training=False``), for :class:`SequenceModel`'s compiled function."""
    return network(inputs, training=False)


def prediction_function(network: keras.Model, input_shape: tuple[int | None, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """``inputs -> probabilities`` for ``network`` on this process's Keras backend.

    On TensorFlow, one ``tf.function`` traced once for every batch size. On JAX, one
    ``jax.jit`` program (:func:`_jax_prediction`).
    """
    dtype = network.inputs[0].dtype
    if keras_backend() == "jax":
        return _jax_prediction(network, dtype)
    import tensorflow as tf

    # One trace per model, for every batch size. TensorFlow counts traces per Python code
    # object: a lambda here would share its count with every other SequenceModel, and
    # after five models TensorFlow warns of "retracing"; a partial is this model's own.
    spec = tf.TensorSpec(input_shape, dtype)
    compiled = tf.function(functools.partial(_predict, network), input_signature=[spec])
    return lambda inputs: np.asarray(compiled(tf.convert_to_tensor(inputs, dtype=spec.dtype)))


def _jax_prediction(network: keras.Model, dtype: str) -> Callable[[np.ndarray], np.ndarray]:
    """``inputs -> probabilities`` as one ``jax.jit`` program on Keras's JAX backend.

    The weights, and a stateful network's LSTM state, are passed in at each call (so later
    changes to them count) through a :class:`keras.StatelessScope`; a stateless network's rows
    are padded to a power of two (a batch of any size costs one compilation per power); the state the call leaves
    is read from the scope and written back to the layers' state variables. Keras's own
    ``stateless_call`` would drop it: a stateful layer's state variables are not among the
    network's tracked variables.
    """
    import jax

    variables = list(network.variables)
    states = [state for layer in recurrent_layers(network) for state in keras.tree.flatten(layer.states or [])]

    def program(values: list[Any], state_values: list[Any], inputs: Any) -> tuple[Any, list[Any]]:
        with keras.StatelessScope(state_mapping=[*zip(variables, values), *zip(states, state_values)]) as scope:
            outputs = network(inputs, training=False)
            ends = [scope.get_current_value(state) for state in states]
        return outputs, [old if end is None else end for old, end in zip(state_values, ends)]

    compiled = jax.jit(program)

    def predict(inputs: np.ndarray) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=dtype)
        rows = len(inputs)
        if not states and rows != bucket(rows):  # any batch size: padded to a power of two, one program per size
            inputs = np.concatenate([inputs, np.repeat(inputs[:1], bucket(rows) - rows, axis=0)])
        outputs, ends = compiled([variable.value for variable in variables], [state.value for state in states], inputs)
        for state, end in zip(states, ends):
            state.assign(end)
        return np.asarray(outputs)[:rows]

    return predict


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
        self.window_length = check_int("SequenceModel", "window_length", window_length)
        self.spec: dict[str, Any] = dict(spec or {})
        self.history: dict[str, list[float]] = {key: list(values) for key, values in (history or {}).items()}
        self._reading: Reading = StatefulReading() if recurrent_layers(network) else StatelessReading()
        self.masked = self.spec.get("model", {}).get("masked", False)
        for layer in network.layers:  # prediction runs outside XLA: Keras's kernel choice, no cuDNN if masked
            if isinstance(layer, keras.layers.LSTM | keras.layers.GRU):
                layer.use_cudnn = prediction_use_cudnn(bool(self.masked))
        self._predict = prediction_function(network, self._reading.input_shape(network))
        self._stepper: Stepper | None = None

    @property
    def stateful(self) -> bool:
        """Whether the network carries LSTM state from one call to the next (read-only)."""
        return self._reading.stateful

    def __repr__(self) -> str:
        return (
            f"SequenceModel({self._reading.name}, layout={self.layout!r}, window_length={self.window_length}, "
            f"vocabulary_size={self.vocabulary.size})"
        )

    # Persistence --------------------------------------------------------------------
    def bundle_contents(self) -> BundleContents:
        """The parts a bundle holds: network, vocabulary, layout, window length, spec, history."""
        return BundleContents(
            self.network,
            self.vocabulary,
            self.layout,
            window_length=self.window_length,
            spec=self.spec,
            history=self.history,
        )

    @classmethod
    def from_bundle_contents(cls, contents: BundleContents) -> SequenceModel:
        """The model made of a bundle's parts (see :func:`seqkit.bundle.read_bundle`)."""
        return cls(
            contents.network,
            contents.vocabulary,
            contents.layout,
            window_length=contents.window_length,
            spec=contents.spec,
            history=contents.history,
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save as one bundle file, atomically (see :func:`seqkit.bundle.write_bundle`).

        Returns:
            The path written.
        """
        return write_bundle(self.bundle_contents(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SequenceModel:
        """Load a bundle, validated whole before use (see :func:`seqkit.bundle.read_bundle`).

        A stateful model starts from a zero state.
        """
        return cls.from_bundle_contents(read_bundle(path))

    def export(
        self,
        path: str | os.PathLike[str],
        format: str = "saved_model",  # noqa: A002 - the word Keras and the CLI use
        *,
        overwrite: bool = False,
    ) -> Path:
        """Export as a TensorFlow model that takes token strings and serves without seqkit.

        ``format`` is ``"saved_model"``, ``"keras"`` or ``"tflite"``; see
        :func:`seqkit.export.export_model` and ``docs/export.md``.

        Returns:
            The path written.

        Raises:
            ConfigurationError: Keras runs on JAX in this process (export is TensorFlow's).
        """
        from seqkit.backends import require_tensorflow

        require_tensorflow("Export")
        from seqkit.export import export_model

        return export_model(self, path, format, overwrite=overwrite)

    # Inputs -------------------------------------------------------------------------
    def last_window(self, ids: Sequence[int]) -> np.ndarray:
        """The last ``L`` of ``ids`` as one window, front-padded with ``PADDING_ID`` when shorter."""
        if len(ids) >= self.window_length:
            return np.asarray([ids[-self.window_length :]], dtype=np.int32)
        if not self.masked:
            raise DataError(
                f"This model reads windows of {self.window_length} tokens; got {len(ids)}. "
                f"Give at least {self.window_length} tokens."
            )
        window = np.full((1, self.window_length), PADDING_ID, dtype=np.int32)
        window[0, self.window_length - len(ids) :] = ids
        return window

    def probabilities(self, id_windows: np.ndarray) -> np.ndarray:
        """The next-token distribution after each window of ids ``(n, L)``, ``(n, V)``."""
        inputs = self.layout.transform(id_windows, self.vocabulary.size)
        return self._predict(inputs)

    # Prediction ---------------------------------------------------------------------
    def next_distribution(self, tokens: Any) -> np.ndarray:
        """Probabilities of every vocabulary token coming next after ``tokens``.

        Stateless models read the last ``L`` tokens. Stateful models feed every
        token through the network, advancing its state, as :meth:`prime` does.
        """
        ids = self.vocabulary.encode(tokens)
        if not ids:
            raise DataError("Give at least one token to predict from; got none.")
        return self._reading.read(self, tokens, ids)

    def predict_next(self, tokens: Any, top_k: int = 1) -> list[Prediction]:
        """The ``top_k`` most likely next tokens, most likely first.

        Args:
            tokens: the context, a list of tokens (a string is read as characters, or split into
                a subword vocabulary's pieces).
            top_k: how many candidates to return, 1 to the vocabulary size.
        """
        top_k = check_int("SequenceModel.predict_next", "top_k", top_k, maximum=self.vocabulary.size)
        probabilities = self.next_distribution(tokens)
        order = np.argsort(-probabilities, kind="stable")[:top_k]
        return [Prediction(self.vocabulary.id_to_token(int(i)), float(probabilities[i])) for i in order]

    def prime(self, tokens: Any) -> None:
        """Warm a stateful model's state by reading ``tokens`` (no-op for stateless ones)."""
        self._reading.prime(self, tokens)

    def reset(self) -> None:
        """Zero the state of a stateful model (no-op for stateless ones)."""
        self._reading.reset(self)

    def stepper(self) -> Stepper:
        """What steps this model for many rows at once (:mod:`seqkit.stepping`); made once, then reused."""
        if self._stepper is None:
            self._stepper = stepper_for(self)
        return self._stepper

    def split(self, text: str) -> list[str]:
        """``text`` as this model's tokens: characters, words, or a subword vocabulary's pieces.

        >>> from seqkit import alphabet
        >>> from seqkit.trainers import StatelessTrainer
        >>> StatelessTrainer(units=4, epochs=1).fit(alphabet())[0].split("ABC")
        ['A', 'B', 'C']
        """
        if isinstance(self.vocabulary, SubwordVocabulary):
            return list(self.vocabulary.split(text))
        return split_tokens(text, self.level)  # type: ignore[arg-type]

    def generate(
        self,
        prime: Any = None,
        steps: int | None = None,
        *,
        primes: Sequence[Any] | None = None,
        num_samples: int | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        repetition_penalty: float | None = None,
        stop: Any = None,
        keep_stop: bool = False,
        seed: int | None = None,
    ) -> list[Any]:
        """Extend ``prime`` by up to ``steps`` tokens, feeding each prediction back in.

        Greedy (the most likely token) by default. With ``temperature``, ``top_k`` or
        ``top_p`` the next token is sampled (:mod:`seqkit.sampling`: the temperature
        first, then the ``k`` most likely tokens, then the nucleus of probability ``p``),
        from ``numpy.random.default_rng(seed)``: the same seed gives the same text. A
        stateful model starts from the state it holds (it is *not* reset first: call
        :meth:`reset` for a cold start) and keeps it: generating does not change it. Each
        step costs the same whatever the length of the text so far.

        With ``num_samples=N`` it makes ``N`` samples as the rows of one batch (one compiled
        call per step for all of them), sample ``i`` seeded with ``seed + i``: the same tokens
        as ``generate(prime, steps, seed=seed + i)`` alone. :meth:`sample` does the same and
        also says why each sample ended, with its seed and log-probability.

        Args:
            prime: the tokens to start from (a string is read as characters, or split into a
                subword vocabulary's pieces; a list of strings is a list of tokens).
            steps: the most tokens to generate; an int in ``[0, MAX_STEPS]``.
            primes: several primes instead of ``prime`` (``["def ", "class "]``), each as
                ``prime`` takes it; their samples are returned as a list of token lists, in
                order. Defaults to None.
            num_samples: samples per prime, returned as a list of token lists. Defaults to
                None: one sample, returned as its tokens.
            temperature: a finite float > 0. Defaults to None.
            top_k: sample among the ``k`` most likely tokens. Defaults to None.
            top_p: sample within the nucleus of probability ``p`` in ``(0, 1]``. Defaults to None.
            repetition_penalty: multiply the log-probability of tokens already in the text by
                this float > 0 (above 1 discourages repeats). Defaults to None.
            stop: a stop sequence or a list of them: a sample ends when it generates one. A
                string is split as the model splits text (``"\\n"`` at the character level,
                words at the word level; every token must be in the vocabulary); a list of token
                lists gives the tokens. A subword model finds a string stop in the text instead,
                even inside a piece, and cuts the sample's text there. Defaults to None.
            keep_stop: whether the stop sequence stays at the end of a sample. Defaults to False.
            seed: the seed of the draws. Defaults to None (unseeded).

        Returns:
            The generated tokens, without the prime; a list of them per sample if
            ``num_samples`` or ``primes`` is given.

        >>> from seqkit import alphabet
        >>> from seqkit.trainers import StatelessTrainer
        >>> model, _ = StatelessTrainer(window=2, encoding="onehot", units=8, epochs=2).fit(alphabet())
        >>> a = model.generate("AB", 5, temperature=0.8, top_k=3, seed=1)
        >>> a == model.generate("AB", 5, temperature=0.8, top_k=3, seed=1), len(a)
        (True, 5)
        >>> model.generate("AB", 5, num_samples=3, temperature=0.8, top_k=3, seed=0)[1] == model.generate(
        ...     "AB", 5, temperature=0.8, top_k=3, seed=1)
        True
        """
        many = num_samples is not None or primes is not None
        samples = self.sample(
            prime, steps, primes=primes, num_samples=1 if num_samples is None else num_samples, temperature=temperature,
            top_k=top_k, top_p=top_p, repetition_penalty=repetition_penalty, stop=stop, keep_stop=keep_stop,
            seed=seed, owner="SequenceModel.generate",
        )
        tokens = [list(sample.tokens) for sample in samples]
        return tokens if many else tokens[0]

    def sample(
        self,
        prime: Any = None,
        steps: int | None = None,
        *,
        primes: Sequence[Any] | None = None,
        num_samples: int = 1,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        repetition_penalty: float | None = None,
        beam: int | None = None,
        stop: Any = None,
        keep_stop: bool = False,
        seed: int | None = None,
        on_tokens: Callable[[int, list[str]], None] | None = None,
        on_step: Callable[[int], None] | None = None,
        owner: str = "SequenceModel.sample",
    ) -> list[Sample]:
        """Samples of up to ``steps`` tokens after each prime, with what made them: :mod:`seqkit.sampling`.

        The samples are the rows of one batch: ``num_samples`` per prime, in the order of the
        primes. When sampling, sample ``i`` draws from ``numpy.random.default_rng(seed + i)``
        (with no ``seed``, a random one, recorded in each :class:`~seqkit.sampling.Sample`), so it
        is the same alone as in a batch. With ``beam=W`` it returns the ``W`` most likely
        continuations of each prime instead, most likely first (``num_samples`` must be 1).

        Args:
            prime, steps, primes, temperature, top_k, top_p, repetition_penalty, stop, keep_stop, seed:
                as :meth:`generate`.
            num_samples: samples per prime; an int in ``[1, MAX_ROWS]`` with the primes. Defaults to 1.
            beam: the width of a beam search, in ``[1, MAX_BEAM]``. Defaults to None.
            on_tokens: called with ``(sample number, tokens)`` as each sample's tokens become final
                (a stop sequence that is dropped is never passed). Defaults to None.
            on_step: called with the number of steps done after each step (over all the
                primes' searches with ``beam``). Defaults to None.
            owner: the name a refused parameter's message gives (``generate`` and ``SampleText``
                pass theirs). Defaults to ``"SequenceModel.sample"``.

        Returns:
            One :class:`~seqkit.sampling.Sample` per row (per beam with ``beam``).

        >>> from seqkit import alphabet
        >>> from seqkit.trainers import StatefulTrainer
        >>> model, _ = StatefulTrainer(units=16, epochs=150, seed=7).fit(alphabet())
        >>> [("".join(s.tokens), s.stop_reason) for s in model.sample(primes=["A", "ABC"], steps=8, stop="F", keep_stop=True)]
        [('BCDEF', 'stop'), ('DEF', 'stop')]
        """
        from seqkit import sampling

        steps = check_int(owner, "steps", steps, minimum=0, maximum=sampling.MAX_STEPS)
        num_samples = check_int(owner, "num_samples", num_samples, maximum=sampling.MAX_ROWS)
        subword = isinstance(self.vocabulary, SubwordVocabulary)
        token_stops, text_stops = self._stop_sequences(stop, as_text=subword)
        decoding = sampling.Decoding.checked(
            owner, self.vocabulary.size, temperature=temperature, top_k=top_k, top_p=top_p,
            repetition_penalty=repetition_penalty, beam=beam, keep_stop=keep_stop, stop=token_stops,
            stop_texts=text_stops,
        )
        if (prime is None) == (primes is None):
            raise ConfigurationError(
                f"{owner} takes one prime (prime=) or a list of them (primes=); give exactly one of the two."
            )
        given = [prime] if primes is None else list(primes) if isinstance(primes, list | tuple) else None
        if not given:
            raise DataError(f"primes= takes a list of primes, such as primes=['def ', 'class ']; got {primes!r}.")
        for each in given:
            if not (isinstance(each, str) or _is_token_list(each)):
                raise DataError(
                    f"A prime is a string or a list of string tokens; got {type(each).__name__} ({each!r:.40}). "
                    "Give prime='def ', prime=['C', 'G'] or primes=['def ', 'class ']."
                )
        rows = len(given) * (beam or num_samples)
        if len(given) * num_samples > sampling.MAX_ROWS:
            raise ConfigurationError(
                f"{len(given)} primes x {num_samples} samples is {len(given) * num_samples} rows; "
                f"one generation makes at most {sampling.MAX_ROWS}. Generate in several calls."
            )
        if rows * steps > sampling.MAX_TOKENS:
            raise ConfigurationError(
                f"{rows} samples x {steps} steps is {rows * steps:,} tokens; one generation makes at most "
                f"{sampling.MAX_TOKENS:,}. Generate fewer or shorter samples, or in several calls."
            )
        if beam is not None and num_samples != 1:
            raise ConfigurationError("Beam search returns the beam's continuations: give num_samples=1 with beam.")
        if beam is not None and on_tokens is not None:
            raise ConfigurationError(
                "Beam search settles its continuations only at the end, so there is nothing to stream: "
                "leave on_tokens out with beam."
            )
        encoded = []
        for each in given:
            ids = self.vocabulary.encode(self.split(each) if isinstance(each, str) else list(each))
            if not ids:
                raise DataError("Give at least one token to predict from; got none.")
            encoded.append(ids)
        stepper = self.stepper()
        decode = self.vocabulary.decode

        def made(index: int, ids: list[int], found: list[int], seed: int | None, reason: str, log_p: float,
                 text: str | None) -> Sample:
            tokens = tuple(decode(found))
            return Sample(tuple(decode(ids)), tokens, seed, reason, log_p, index,
                          self.join(tokens) if text is None else text)

        if steps == 0:
            return [made(index, ids, [], None, "length", 0.0, None) for index, ids in enumerate(encoded)
                    for _ in range(num_samples)]
        if beam is not None:
            beams = []
            for index, ids in enumerate(encoded):
                offset = index * steps  # one progress count over every prime's search
                found = sampling.beam_search(
                    stepper, ids, steps, decoding, vocabulary_size=self.vocabulary.size,
                    text_of=lambda ids: self.join(decode(ids)),
                    on_step=None if on_step is None else (lambda done, offset=offset: on_step(offset + done)),
                )
                beams += [made(index, ids, tokens, None, reason, log_p, text) for tokens, reason, log_p, text in found]
            return beams
        rows_ids = [ids for ids in encoded for _ in range(num_samples)]
        seeds = None
        if decoding.sampling:
            seed = int(np.random.SeedSequence().entropy % 2**32) if seed is None else check_int(owner, "seed", seed, minimum=0)
            seeds = [seed + row for row in range(len(rows_ids))]
        results = sampling.generate(
            stepper, rows_ids, steps, decoding, vocabulary_size=self.vocabulary.size, seeds=seeds,
            text_of=lambda ids: self.join(decode(ids)),
            on_tokens=None if on_tokens is None else (lambda row, ids: on_tokens(row, decode(ids))),
            on_step=on_step,
        )
        return [
            made(row // num_samples, rows_ids[row], ids, None if seeds is None else seeds[row], reason, log_p, text)
            for row, (ids, reason, log_p, text) in enumerate(results)
        ]

    def join(self, tokens: Sequence[str]) -> str:
        """``tokens`` as text: characters joined, words with spaces, a subword vocabulary's pieces by its ``join``.

        >>> from seqkit import alphabet
        >>> from seqkit.trainers import StatelessTrainer
        >>> StatelessTrainer(units=4, epochs=1).fit(alphabet())[0].join(["A", "B"])
        'AB'
        """
        if isinstance(self.vocabulary, SubwordVocabulary):
            return str(self.vocabulary.join(tokens))
        return (" " if self.level == "word" else "").join(tokens)

    def _stop_sequences(self, stop: Any, *, as_text: bool = False) -> tuple[list[list[int]], list[str]]:
        """``stop`` as id sequences (a string split as the model splits text, a list of them, or token
        lists), and, with ``as_text`` (a subword model), its strings as text to find in the samples."""
        if stop is None:
            return [], []
        given = [stop] if isinstance(stop, str) else list(stop) if isinstance(stop, list | tuple) else None
        if given is None:
            raise DataError(
                f"A stop sequence is a string or a list of tokens; got {type(stop).__name__}. "
                'Give stop="\\n", stop=["\\n\\n", "END"] or stop=[["</s>"]].'
            )
        sequences, texts = [], []
        for each in given:
            if not (isinstance(each, str) or _is_token_list(each)):
                raise DataError(
                    f"A stop sequence is a string or a list of tokens; got {type(each).__name__} ({each!r:.40}) "
                    'in the list. Give stop="\\n", stop=["\\n\\n", "END"] or stop=[["</s>"]].'
                )
            if as_text and isinstance(each, str):
                if not each:
                    raise DataError("The stop sequence '' holds no text; give a non-empty one.")
                texts.append(each)
                continue
            tokens = self.split(each) if isinstance(each, str) else list(each)
            if not tokens:
                raise DataError(f"The stop sequence {each!r} holds no token at this model's level; give a non-empty one.")
            missing = [token for token in tokens if token not in self.vocabulary]
            if missing:
                raise DataError(
                    f"The stop sequence {each!r} holds {missing[0]!r}, which is not in the model's vocabulary, so it "
                    "could never be generated. Give a stop sequence of the model's tokens."
                )
            sequences.append(self.vocabulary.encode(tokens))
        return sequences, texts

    # Evaluation ---------------------------------------------------------------------
    @property
    def stride(self) -> int:
        """Tokens between the starts of the windows it was trained on (its record's ``stride``;
        else the window length for a stateful model, which reads windows back to back, and 1)."""
        stride = (self.spec.get("hyperparameters") or {}).get("stride")
        if isinstance(stride, int) and not isinstance(stride, bool) and stride >= 1:
            return stride
        return self._reading.stride(self.window_length)

    def windows(self, sequences: Sequence[Sequence[int]]) -> Windows:
        """The windows this model reads from id ``sequences``, cut as in training.

        Its window length and :attr:`stride`; no window crosses from one sequence into
        the next. Score them with :meth:`evaluate`.
        """
        return sliding_windows(sequences, self.window_length, self.stride)

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
        return self._score(windows, self._reading.predictions(self, windows))

    def score(self, data: Any, *, streams: int | None = None, segment_length: int | None = None) -> Score:
        """Cross-entropy (nats, bits per token and per character), perplexity and accuracy on ``data``.

        The one scoring method, for every kind of model (:mod:`seqkit.scoring`): a stateless model
        predicts every token from the window before it; a stateful one reads its windows as in
        training, in order, its state carried; a stream model reads ``data`` as the parallel streams of segments it
        was trained on, its state carried, in one compiled call: what
        :meth:`StreamTrainer.score <seqkit.trainers.StreamTrainer.score>` reports.

        Args:
            data: a :class:`~seqkit.datasets.Corpus`, a text (split as the model splits text:
                :meth:`corpus_of`) or a list of tokens; every token must be in the vocabulary.
            streams: a stream model's parallel streams. Defaults to None: its training's.
            segment_length: a stream model's segment length. Defaults to None: its training's.

        Returns:
            A :class:`~seqkit.scoring.Score`.

        >>> from seqkit import alphabet
        >>> from seqkit.trainers import StatelessTrainer
        >>> model, _ = StatelessTrainer(window=2, units=8, epochs=2).fit(alphabet())
        >>> score = model.score(alphabet())
        >>> score.tokens, round(score.bits_per_token, 2) > 0
        (24, True)
        """
        corpus = self.corpus_of(data)
        layout = self.spec.get("streams")
        if isinstance(layout, dict) and self.window_length == 1 and self.stateful:
            streams = check_int("SequenceModel.score", "streams", streams if streams is not None else layout.get("streams"))
            length = check_int(
                "SequenceModel.score", "segment_length",
                segment_length if segment_length is not None else layout.get("segment_length"),
            )
            return score_streams(
                self.network, model_spec(self.spec), self.vocabulary, corpus, streams=streams, segment_length=length
            )
        sequences = corpus.encode(self.vocabulary)
        # A stateless model predicts every position from its window; a stateful one reads as it was trained.
        windows = self.windows(sequences) if self.stateful else sliding_windows(sequences, self.window_length, 1)
        if len(windows) == 0:
            raise DataError(
                f"The text {corpus.name!r} holds no window of {self.window_length} tokens and its target; "
                f"give at least {self.window_length + 1} tokens."
            )
        targets = np.asarray(windows.targets)
        characters = characters_of(self.vocabulary, self.vocabulary.decode(targets.tolist()), corpus.level)
        return score_distributions(self._reading.distributions(self, windows), targets, characters=characters)

    @property
    def level(self) -> str:
        """The level the model's training text was split at (``"char"`` where the record names none)."""
        level = (self.spec.get("corpus") or {}).get("level")
        return level if isinstance(level, str) else "char"

    def corpus_of(self, data: Any) -> Corpus:
        """``data`` as this model reads it: a Corpus as it is, a text split at :attr:`level` (a subword
        model's by its own tokenizer), a list of tokens.

        >>> from seqkit import alphabet
        >>> from seqkit.trainers import StatelessTrainer
        >>> StatelessTrainer(units=4, epochs=1).fit(alphabet())[0].corpus_of("ABC").tokens
        ('A', 'B', 'C')
        """
        if isinstance(data, Corpus):
            return data
        if isinstance(data, str):
            if isinstance(self.vocabulary, SubwordVocabulary):
                return Corpus.from_text(data, name="text", vocabulary=self.vocabulary)
            return Corpus.from_text(data, level=self.level, name="text")
        if isinstance(data, Sequence) and all(isinstance(token, str) for token in data):
            return Corpus.from_tokens(data, level=self.level)
        raise DataError(
            f"Cannot score a {type(data).__name__}: give a seqkit Corpus, a text, or a list of string tokens."
        )

    def evaluate_random_patterns(self, windows: Windows, count: int = 20, seed: int = 7) -> Evaluation:
        """Accuracy on ``count`` windows drawn at random, each predicted from a cold state.

        This is the tutorial's "Test a Random Pattern": a model that only did
        well because of context carried between ordered samples fails it.
        """
        count = check_int("SequenceModel.evaluate_random_patterns", "count", count)
        picks = np.random.RandomState(seed).randint(len(windows), size=count)
        chosen = windows.subset(picks)
        predicted = []
        for row in range(len(chosen)):
            self.reset()
            predicted.append(int(np.argmax(self.probabilities(chosen.inputs[row : row + 1])[0])))
        self.reset()
        return self._score(chosen, np.asarray(predicted))

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



def save_bundle(model: SequenceModel, path: str | os.PathLike[str]) -> Path:
    """Save ``model`` as one bundle file at ``path``, atomically: :meth:`SequenceModel.save`.

    The archive is built in memory and renamed over ``path`` only once it is
    complete and on disk: a crash at any moment leaves the old bundle (or no
    file), never a half-written one. Missing parent folders are created.

    Args:
        model: the fitted model to save.
        path: the bundle file to create or replace (suffix ``.seqkit`` by convention).

    Returns:
        The path written, as a :class:`~pathlib.Path`.

    Raises:
        TypeError: ``model`` is not a SequenceModel.
        ModelFileError: ``path`` is a directory, or the file cannot be written.
    """
    if not isinstance(model, SequenceModel):
        raise TypeError(f"save_bundle saves a fitted SequenceModel; got {type(model).__name__}.")
    return model.save(path)


def load_bundle(path: str | os.PathLike[str]) -> SequenceModel:
    """Load a bundle written by :func:`save_bundle`: :meth:`SequenceModel.load`.

    Every member is checked before it is used (see :func:`seqkit.bundle.read_bundle`),
    and a missing, corrupted, foreign or newer file is refused.

    Raises:
        ModelFileError: the file is missing, not a bundle, corrupted, written by
            a newer seqkit, or inconsistent. The message names the problem and the fix.
    """
    return SequenceModel.load(path)
