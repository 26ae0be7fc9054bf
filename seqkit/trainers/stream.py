"""Stream training: truncated BPTT over parallel streams of a long corpus (char-rnn style)."""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from seqkit.distribute import StrategyLike, check_strategy, resolve_strategy, strategy_name
from seqkit.engine import StreamLoop
from seqkit.errors import ConfigurationError, parameter_error
from seqkit.layouts import TimeSteps
from seqkit.models import ModelSpec, build_model, build_stream_model
from seqkit.sequence_model import SequenceModel
from seqkit.streams import STREAM_RESET_POLICIES, StreamLayout, TokenFile, encode_corpus, stream_dataset, stream_resets
from seqkit.trainers.base import CorpusLike, FitResult, History, Trainer, _jsonable, as_corpus
from seqkit.vocab import Vocabulary
from seqkit.windows import WindowIndex, Windows, sliding_window_index


class StreamTrainer(Trainer):
    """Train on a long corpus as ``batch_size`` parallel streams of ``window``-step segments.

    Truncated backpropagation through time, as char-rnn does it: the corpus (documents
    back to back) is split into ``B = batch_size`` contiguous streams; each optimizer
    step reads the next ``T = window`` ids of every stream, so row ``r`` of batch
    ``t + 1`` continues row ``r`` of batch ``t``, and the network predicts the next id at
    every step of the segment. The state is zeroed at each epoch's start and, with
    ``reset="boundary"``, before a segment in which a new document begins (see
    :func:`seqkit.streams.stream_resets`). The ids are written to a file once and read
    back through ``tf.data`` (:func:`seqkit.streams.stream_dataset`), so no window is
    materialized; a :class:`~seqkit.streams.TokenFile` trains without ever being loaded.

    With ``strategy`` the loop runs under ``tf.distribute``: each of ``R`` replicas owns
    ``B / R`` streams and its own state; the result matches one device at the same
    global batch up to floating-point rounding.

    The fitted model predicts one token at a time through a batch-1 stateful twin with
    the trained weights: ``model.reset(); model.prime(prefix); model.generate(...)``.

    Args:
        reset: ``"boundary"`` (default) or ``"epoch"``.
        strategy: None or ``"default"``, ``"mirrored"``, ``"multi-worker"`` (reads
            ``TF_CONFIG``), or a :class:`tf.distribute.Strategy`. Defaults to None.
        jit_compile: compile the step with XLA. Defaults to None: yes under the default
            strategy, no under a distributing one.
        **kwargs: the hyperparameters of :class:`~seqkit.trainers.base.Trainer`; here
            ``window`` is the segment length ``T`` (default 64), ``batch_size`` the number
            of streams (default 32), ``encoding`` must be ``"embedding"`` (the default)
            and ``units`` defaults to 128, ``epochs`` to 10.

    >>> from seqkit.corpora import sample_text
    >>> trainer = StreamTrainer(window=16, batch_size=4, units=16, embedding_dim=8, epochs=2)
    >>> model, history = trainer.fit(sample_text())
    >>> history.epochs, history.steps, model.stateful
    (2, 58, True)
    >>> model.reset(); len(model.generate("def ", steps=5))
    5
    """

    stateful = True

    def __init__(
        self,
        *,
        reset: str = "boundary",
        strategy: StrategyLike = None,
        jit_compile: bool | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("window", 64)
        kwargs.setdefault("batch_size", 32)
        kwargs.setdefault("encoding", "embedding")
        kwargs.setdefault("units", 128)
        kwargs.setdefault("epochs", 10)
        super().__init__(**kwargs)
        self.reset = reset
        self.strategy = strategy
        self.jit_compile = jit_compile

    def _validate(self) -> None:
        super()._validate()
        owner = type(self).__name__
        if self.encoding != "embedding":
            raise parameter_error(owner, "encoding", "'embedding' (stream training reads ids)", self.encoding)
        if self.layout not in ("timesteps",):
            raise parameter_error(owner, "layout", "'timesteps' (a segment is T time steps)", self.layout)
        if self.stride is not None:
            raise parameter_error(owner, "stride", "None (segments follow each other)", self.stride)
        if self.reset not in STREAM_RESET_POLICIES:
            raise parameter_error(owner, "reset", "'boundary' or 'epoch'", self.reset)
        if self.checkpoint_dir is not None:
            raise ConfigurationError(
                "StreamTrainer does not write checkpoints yet; leave checkpoint_dir=None."
            )
        check_strategy(owner, self.strategy)
        if self.jit_compile is not None and not isinstance(self.jit_compile, bool):
            raise parameter_error(owner, "jit_compile", "None, True or False", self.jit_compile)

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters; ``strategy`` is left out (the spec's ``streams`` records it)."""
        params = super().get_params()
        params.pop("strategy", None)
        return params

    def _network_batch_size(self, windows: Windows) -> int | None:  # pragma: no cover - not used
        return int(self.batch_size)

    def _plans(self, windows: Windows) -> Any:  # pragma: no cover - not used
        raise NotImplementedError("StreamTrainer reads segments from tf.data, not epoch plans.")

    def training_windows(self, corpus: Any, vocabulary: Vocabulary) -> Windows | WindowIndex:
        """Every position of the corpus as a window of one token (what the model predicts from)."""
        sequences = [vocabulary.encode_array(sequence) for sequence in corpus.sequences]
        lengths = [len(sequence) for sequence in sequences]
        return sliding_window_index(np.concatenate(sequences), 1, 1, sequence_lengths=lengths)

    def fit(  # type: ignore[override]
        self,
        data: CorpusLike | TokenFile,
        *,
        vocabulary: Vocabulary | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        resume: bool = False,
    ) -> FitResult:
        """Train on ``data`` (a corpus, a string, tokens, or a :class:`~seqkit.streams.TokenFile`).

        Args:
            data: the corpus. A :class:`~seqkit.streams.TokenFile` is read from disk as
                it is, with its own vocabulary.
            vocabulary: the id mapping for an in-memory corpus; defaults to its
                distinct tokens in order.
            callbacks: more Keras callbacks, after the constructor's.
            resume: not supported yet (stream training writes no checkpoints); must be False.
        """
        self._validate()
        if resume:
            raise ConfigurationError("StreamTrainer cannot resume: it writes no checkpoints yet.")
        strategy = resolve_strategy(self.strategy)
        replicas = int(strategy.num_replicas_in_sync)
        if int(self.batch_size) % replicas:
            raise parameter_error(
                type(self).__name__,
                "batch_size",
                f"a multiple of the {replicas} replicas (each replica trains its own streams)",
                self.batch_size,
            )
        with tempfile.TemporaryDirectory(prefix="seqkit-stream-") as folder:
            if isinstance(data, TokenFile):
                tokens = data
                vocabulary = data.vocabulary
                corpus_record = {"name": data.name, "level": data.level, "tokens": data.length}
            else:
                corpus = as_corpus(data)
                vocabulary = vocabulary or corpus.vocabulary()
                tokens = encode_corpus(corpus, vocabulary, Path(folder) / "corpus.ids")
                corpus_record = {"name": corpus.name, "level": corpus.level, "tokens": len(corpus)}
            layout = StreamLayout(tokens.length, int(self.batch_size), int(self.window))
            resets = stream_resets(layout, tokens.document_starts, str(self.reset))
            spec = ModelSpec(
                units=int(self.units), layers=int(self.layers), dropout=float(self.dropout),
                embedding_dim=int(self.embedding_dim),
            )
            keras.utils.set_random_seed(int(self.seed))
            loop = StreamLoop(
                lambda: build_stream_model(spec, vocabulary_size=vocabulary.size),
                state_sizes=[spec.units] * (2 * spec.layers),
                streams=layout.streams,
                strategy=strategy,
                learning_rate=float(self.learning_rate),
                jit_compile=self.jit_compile,
            )
            started = time.perf_counter()
            logs = loop.fit(
                lambda rows: stream_dataset(tokens, layout, resets, rows),
                steps=layout.steps,
                epochs=int(self.epochs),
                callbacks=[*self.callbacks, *callbacks],
            )
            seconds = time.perf_counter() - started
        history = History(loss=logs["loss"], accuracy=logs["accuracy"], seconds=seconds)
        history.steps = history.epochs * layout.steps
        predictor = build_model(
            spec, TimeSteps("embedding"), window_length=1, vocabulary_size=vocabulary.size,
            batch_size=1, stateful=True,
        )
        for layer in predictor.layers:
            if layer.weights:
                layer.set_weights(loop.model.get_layer(layer.name).get_weights())
        record = {
            "trainer": type(self).__name__,
            "hyperparameters": _jsonable(self.get_params()),
            "layout": TimeSteps("embedding").get_config(),
            "model": spec.get_config(),
            "window_length": 1,
            "samples": layout.tokens_per_epoch,
            "corpus": corpus_record,
            "streams": {
                "streams": layout.streams, "segment_length": layout.segment_length,
                "steps_per_epoch": layout.steps, "replicas": strategy.num_replicas_in_sync,
                "strategy": strategy_name(strategy),
            },
        }
        model = SequenceModel(
            predictor, vocabulary, TimeSteps("embedding"), window_length=1, spec=record,
            history={"loss": history.loss, "accuracy": history.accuracy},
        )
        self.model_, self.history_, self.network_ = model, history, loop.model
        self.epoch_seconds_ = list(logs["seconds"])
        return FitResult(model, history)
