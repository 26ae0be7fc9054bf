"""Stream training: truncated BPTT over parallel streams of a long corpus (char-rnn style)."""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import contextlib
import functools
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import keras
import numpy as np

from seqkit.backends import keras_backend
from seqkit.checks import check_int
from seqkit.datasets import Corpus
from seqkit.engine.plans import StreamSegments
from seqkit.engine.policy import DevicePolicy
from seqkit.errors import ConfigurationError, parameter_error
from seqkit.layouts import TimeSteps
from seqkit.models import build_model, build_stream_model
from seqkit.scoring import corpus_segments
from seqkit.splits import held_out_corpus
from seqkit.subword import SubwordVocabulary
from seqkit.streams import STREAM_RESET_POLICIES, StreamLayout, TokenFile, encode_corpus, stream_dataset, stream_resets
from seqkit.trainers.base import Prepared, Run, Trainer, as_corpus, copy_weights
from seqkit.vocab import Vocabulary
from seqkit.windows import WindowIndex, Windows, sliding_window_index

if TYPE_CHECKING:  # TensorFlow's engine (on Keras's JAX backend: seqkit.engine.jax_loop)
    from seqkit.distribute import StrategyLike
    from seqkit.engine.driver import Driver
    from seqkit.engine.feeds import Feed
    from seqkit.engine.jax_loop import JaxStreamLoop
    from seqkit.engine.loops import StreamLoop

__all__ = ["EVALUATION_TOKENS", "IN_MEMORY_BYTES", "StreamTrainer"]

IN_MEMORY_BYTES = 256 * 2**20
"""Corpora up to this many bytes of ids (64 M tokens) train from memory, one compiled program
per epoch; larger ones stream from their token file through ``tf.data``."""

EVALUATION_TOKENS = 2000
"""Tokens :meth:`StreamTrainer.evaluation_windows` scores: a stream model predicts through
its batch-1 twin one token per call, so a prefix of the corpus stands for the whole."""


class _Streams(NamedTuple):
    """A stream trainer's material: the token file, its layout as streams, the resets, the held-out segments."""

    tokens: TokenFile
    layout: StreamLayout
    resets: np.ndarray
    segments: StreamSegments | None


class StreamTrainer(Trainer):
    """Train on a long corpus as ``batch_size`` parallel streams of ``window``-step segments.

    Truncated backpropagation through time, as char-rnn does it: the corpus (documents
    back to back) is split into ``B = batch_size`` contiguous streams; each optimizer
    step reads the next ``T = window`` ids of every stream, so row ``r`` of batch
    ``t + 1`` continues row ``r`` of batch ``t``, and the network predicts the next id at
    every step of the segment. The state is zeroed at each epoch's start and, with
    ``reset="boundary"``, before a segment in which a new document begins (see
    :func:`seqkit.streams.stream_resets`). The ids are written to a file once; up to
    :data:`IN_MEMORY_BYTES` of them (64 M tokens) are then read into memory and each epoch
    runs as one compiled program that gathers its segments itself; a larger corpus (or one
    trained under a distributing strategy) is read back through ``tf.data``
    (:func:`seqkit.streams.stream_dataset`), so no window is materialized and a large
    :class:`~seqkit.streams.TokenFile` trains without ever being loaded.

    With ``strategy`` the loop runs under ``tf.distribute``: each of ``R`` replicas owns
    ``B / R`` streams and its own state; the result matches one device at the same
    global batch up to floating-point rounding.

    The fitted model predicts one token at a time through a batch-1 stateful twin with
    the trained weights: ``model.reset(); model.prime(prefix); model.generate(...)``.

    On Keras's JAX backend (``KERAS_BACKEND=jax``) the same stages train through
    :class:`~seqkit.engine.jax_loop.JaxStreamLoop` (each epoch one ``jax.jit`` program, cuDNN's
    LSTM inside it on a GPU), without TensorFlow; what only TensorFlow does (``strategy``,
    checkpoints, ``kernel=True``, mixed precision) is refused there in one line.

    Args:
        window: the segment length ``T``. Defaults to 64.
        batch_size: the number of streams ``B``. Defaults to 32.
        units: LSTM units per layer. Defaults to 128.
        layers: stacked LSTM layers. Defaults to 1.
        dropout: dropout after each LSTM layer. Defaults to 0.
        embedding_dim: the width of the token embedding. Defaults to 16.
        cell: ``"lstm"`` or ``"gru"`` (seqkit's kernel computes LSTMs only: a GRU trains
            through Keras's layer). Defaults to ``"lstm"``.
        epochs: passes over the corpus. Defaults to 10.
        reset: ``"boundary"`` (default) or ``"epoch"``.
        learning_rate: Adam's learning rate. Defaults to 0.001.
        clip_norm: clip the gradients to this global norm (char-rnn's ``grad_clip``).
            Defaults to None.
        lr_schedule: ``"constant"``, ``"cosine[:W]"`` or ``"plateau[:P]"`` (see
            :class:`~seqkit.trainers.StatelessTrainer`). Defaults to ``"constant"``.
        seed: seeds the weights and dropout. Defaults to 7.
        strategy: None or ``"default"``, ``"mirrored"``, ``"multi-worker"`` (reads
            ``TF_CONFIG``), or a :class:`tf.distribute.Strategy`. Defaults to None.
        jit_compile: compile the step with XLA. Defaults to None: the
            :mod:`device policy <seqkit.engine.policy>` decides (XLA on one CPU, never
            under a distributing strategy).
        precision: ``"auto"``, ``"float32"``, ``"mixed_float16"`` (GPU) or ``"mixed_bfloat16"``
            (on a CPU, seqkit's kernel with bfloat16 matmuls and float32 weights, gates and
            loss). Defaults to ``"auto"``: bfloat16 on a CPU with AMX from LSTM 256 x 128
            streams on, float32 elsewhere (:func:`~seqkit.engine.policy.resolve_precision`).
            bfloat16 asked for where it was measured slower trains with a one-line
            :class:`~seqkit.engine.policy.PrecisionWarning`.
        kernel: train with seqkit's own LSTM kernel (:mod:`seqkit.engine.kernel`: the
            input projection hoisted out of the recurrence, the backward written by hand;
            the same weights and results as Keras's layer to float32 rounding, 2x faster
            per step on a CPU; on several cores the streams of an in-memory epoch are split
            into one slice per core, computed at once: :func:`~seqkit.engine.policy.cpu_shards`).
            Defaults to None: the device policy decides (the kernel in float32 unless cuDNN
            or a plain graph is chosen). False trains through Keras's layers.
        callbacks: Keras callbacks, called as under ``model.fit``. Defaults to none.
        checkpoint_dir: a folder to save the training state in (weights, optimizer, every
            stream's LSTM state, the position in the epoch), so that ``fit(..., resume=True)``
            continues an interrupted run exactly (see :mod:`seqkit.checkpoint`). Defaults to
            None: no checkpoints.
        checkpoint_every: save a checkpoint every this many epochs (and after the last).
            Defaults to 1.
        checkpoint_steps: also save every this many optimizer steps inside an epoch (for
            long epochs: a resumed run continues from that step). Defaults to None: at
            epoch ends only.

    >>> from seqkit.corpora import sample_text
    >>> trainer = StreamTrainer(window=16, batch_size=4, units=16, embedding_dim=8, epochs=2)
    >>> model, history = trainer.fit(sample_text())
    >>> history.epochs, history.steps, model.stateful
    (2, 58, True)
    >>> model.reset(); len(model.generate("def ", steps=5))
    5
    """

    inapplicable = {
        "stride": ": its segments follow each other.",
        "layout": ": a segment is T time steps of token ids.",
        "encoding": ": it reads token ids through an embedding.",
    }

    stateful = True

    def __init__(
        self,
        *,
        window: int = 64,
        batch_size: int = 32,
        units: int = 128,
        layers: int = 1,
        dropout: float = 0.0,
        embedding_dim: int = 16,
        cell: str = "lstm",
        epochs: int = 10,
        reset: str = "boundary",
        learning_rate: float = 0.001,
        clip_norm: float | None = None,
        lr_schedule: str = "constant",
        seed: int = 7,
        strategy: StrategyLike = None,
        jit_compile: bool | None = None,
        precision: str = "auto",
        kernel: bool | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        checkpoint_dir: Any = None,
        checkpoint_every: int = 1,
        checkpoint_steps: int | None = None,
    ) -> None:
        self._store(locals())

    def _validate(self) -> None:
        super()._validate()
        owner = type(self).__name__
        check_int(owner, "window", self.window)
        check_int(owner, "batch_size", self.batch_size)
        if self.reset not in STREAM_RESET_POLICIES:
            raise parameter_error(owner, "reset", "'boundary' or 'epoch'", self.reset)
        if keras_backend() == "jax":
            self._validate_on_jax(owner)
            return
        from seqkit.distribute import check_strategy

        check_strategy(owner, self.strategy)

    def _validate_on_jax(self, owner: str) -> None:
        """Refuse, in one line each, what Keras's JAX backend does not train: TensorFlow's parts."""
        tensorflow_only = {
            "strategy": (self.strategy is not None, "tf.distribute is TensorFlow's"),
            "checkpoint_dir": (self.checkpoint_dir is not None, "checkpoints are written by TensorFlow"),
            "checkpoint_steps": (self.checkpoint_steps is not None, "checkpoints are written by TensorFlow"),
            "kernel": (bool(self.kernel), "seqkit's LSTM kernel is written in TensorFlow"),
            "jit_compile": (self.jit_compile is False, "on JAX every epoch is one jax.jit program"),
            "precision": (self.precision not in ("auto", "float32"), "on JAX seqkit trains in float32"),
        }
        for name, (refused, why) in tensorflow_only.items():
            if refused:
                raise ConfigurationError(
                    f"{owner} cannot take {name}={getattr(self, name)!r} on Keras's JAX backend: {why}. "
                    f"Leave {name} at its default, or unset KERAS_BACKEND to train on TensorFlow."
                )

    def training_windows(self, corpus: Any, vocabulary: Vocabulary) -> WindowIndex:
        """Every position of the corpus as a window of one token (what the model predicts from)."""
        corpus = as_corpus(corpus)
        sequences = [vocabulary.encode_array(sequence) for sequence in corpus.sequences]
        lengths = [len(sequence) for sequence in sequences]
        return sliding_window_index(np.concatenate(sequences), 1, 1, sequence_lengths=lengths)

    def evaluation_windows(self, corpus: Any, vocabulary: Vocabulary) -> Windows:
        """The first :data:`EVALUATION_TOKENS` positions of the corpus, read in order."""
        return self.training_windows(corpus, vocabulary).take(slice(0, EVALUATION_TOKENS))

    def score(self, model: Any, corpus: Any) -> dict[str, float]:
        """Cross-entropy, accuracy and bits per token of a fitted stream model on ``corpus``, every token.

        The text is read as this trainer's ``batch_size`` parallel streams of ``window``-step
        segments in compiled calls, the state carried as in training
        (:meth:`seqkit.engine.loops.StreamLoop.evaluate`), at least as fast as training; the
        same figures as :meth:`SequenceModel.score <seqkit.sequence_model.SequenceModel.score>`
        (to bfloat16's rounding where the trainer trained in bfloat16: its loop scores in the
        precision it trained in, a ``SequenceModel`` in float32).

        The score belongs to the model: a model this trainer did not just fit (a loaded bundle,
        or the trainer not fitted at all) is scored by :meth:`SequenceModel.score` with this
        trainer's streams and segment length; the trainer's own fitted model through its
        training loop, already compiled.

        Args:
            model: the :class:`~seqkit.sequence_model.SequenceModel` to score (its vocabulary
                and trained weights).
            corpus: the text to score (its tokens must be in the model's vocabulary).

        Returns:
            ``loss`` (nats per token), ``accuracy``, ``bits_per_token`` and ``tokens`` scored.
        """
        if getattr(self, "loop_", None) is None or model is not getattr(self, "model_", None):
            score = model.score(corpus, streams=int(self.batch_size), segment_length=int(self.window))
            return {"loss": score.loss, "accuracy": score.accuracy, "bits_per_token": score.bits_per_token,
                    "tokens": score.tokens}
        segments = self._segments(model.corpus_of(corpus), model.vocabulary)
        logs = self.loop_.evaluate(segments)
        return {**logs, "bits_per_token": logs["loss"] / math.log(2), "tokens": segments.tokens}

    def _segments(self, corpus: Corpus, vocabulary: Vocabulary) -> StreamSegments:
        """``corpus`` as this trainer's streams of segments, every token scored (empty documents skipped)."""
        return corpus_segments(corpus, vocabulary, int(self.batch_size), int(self.window))

    def _train(
        self, run: Run, callbacks: Sequence[keras.callbacks.Callback], *, resume: bool, verbose: int
    ) -> dict[str, list[float]]:
        logs = super()._train(run, callbacks, resume=resume, verbose=verbose)
        self.epoch_seconds_ = list(logs.get("seconds", []))
        return logs

    def _data(self, data: Any, vocabulary: Vocabulary | None, validation: Any, scope: contextlib.ExitStack) -> Prepared:
        """Encode the corpus to a token file (or read a :class:`~seqkit.streams.TokenFile` as
        it is, with its own vocabulary) laid out as streams; the held-out text, if any, as
        :class:`~seqkit.engine.plans.StreamSegments`."""
        strategy = None
        if keras_backend() == "tensorflow":
            from seqkit.distribute import resolve_strategy

            strategy = resolve_strategy(self.strategy)
        replicas = 1 if strategy is None else int(strategy.num_replicas_in_sync)
        if int(self.batch_size) % replicas:
            raise parameter_error(
                type(self).__name__,
                "batch_size",
                f"a multiple of the {replicas} replicas (each replica trains its own streams)",
                self.batch_size,
            )
        held_out = None
        if isinstance(data, TokenFile):
            tokens = data
            vocabulary = data.vocabulary
            corpus_record = {"name": data.name, "level": data.level, "tokens": data.length}
            corpus_data: Corpus | TokenFile = data
            if isinstance(validation, float | int) and not isinstance(validation, bool):
                raise ConfigurationError(
                    "StreamTrainer holds out a fraction of an in-memory corpus only; with a TokenFile, "
                    "give the validation text as a separate corpus (validation=Corpus...)."
                )
            if validation is not None:
                subword = data.vocabulary if isinstance(data.vocabulary, SubwordVocabulary) else None
                held_out = held_out_corpus(
                    validation, data.level, role="validation", owner=type(self).__name__ + ".fit", subword=subword
                )
        else:
            corpus, vocabulary, held_out = self.split(data, validation, vocabulary)
            folder = scope.enter_context(tempfile.TemporaryDirectory(prefix="seqkit-stream-"))
            tokens = encode_corpus(corpus, vocabulary, Path(folder) / "corpus.ids")
            corpus_record = {"name": corpus.name, "level": corpus.level, "tokens": len(corpus)}
            corpus_data = corpus
        segments = None if held_out is None else self._segments(held_out, vocabulary)
        layout = StreamLayout(tokens.length, int(self.batch_size), int(self.window))
        resets = stream_resets(layout, tokens.document_starts, str(self.reset))
        spec = self._model_spec()
        return Prepared(
            vocabulary=vocabulary, layout=TimeSteps("embedding"), spec=spec, window_length=1,
            samples=layout.tokens_per_epoch, corpus=corpus_record, corpus_data=corpus_data, strategy=strategy,
            step_rows=layout.streams // replicas, time_steps=None,
            material=_Streams(tokens, layout, resets, segments),
            record={
                "streams": {
                    "streams": layout.streams, "segment_length": layout.segment_length,
                    "steps_per_epoch": layout.steps, "replicas": replicas,
                    "strategy": _strategy_name(strategy),
                },
            },
        )

    def _network(self, prepared: Prepared, policy: DevicePolicy) -> keras.Model:
        """The stream network: ids and LSTM states in, logits and the new states out."""
        return build_stream_model(
            prepared.spec, vocabulary_size=prepared.vocabulary.size, use_cudnn=policy.use_cudnn,
            precision=policy.network_precision,
        )

    def _policy(self, prepared: Prepared) -> DevicePolicy:
        """The device policy: TensorFlow's (:func:`~seqkit.engine.policy.choose_policy`), or on Keras's
        JAX backend :func:`~seqkit.engine.jax_loop.jax_policy`."""
        if keras_backend() == "jax":
            from seqkit.engine.jax_loop import jax_policy

            return jax_policy(units=prepared.spec.units, batch_size=prepared.step_rows, precision=self.precision)
        return super()._policy(prepared)

    def _driver(self, prepared: Prepared, policy: DevicePolicy, network: keras.Model) -> StreamLoop | JaxStreamLoop:
        """A :class:`~seqkit.engine.loops.StreamLoop` (the driver, each replica its own streams' state),
        or on Keras's JAX backend a :class:`~seqkit.engine.jax_loop.JaxStreamLoop`."""
        if policy.backend == "jax":
            from seqkit.engine.jax_loop import JaxStreamLoop

            self.loop_ = JaxStreamLoop(
                network, streams=prepared.material.layout.streams, policy=policy, **self._optimizer_settings()
            )
            return self.loop_
        from seqkit.engine.loops import StreamLoop

        self.loop_ = StreamLoop(
            lambda: network, streams=prepared.material.layout.streams, strategy=prepared.strategy,
            policy=policy, **self._optimizer_settings(),
        )
        return self.loop_

    def _feeds(self, prepared: Prepared, driver: Driver) -> tuple[Feed, Feed | None, int]:
        """The segments from memory (one compiled program per epoch), or from ``tf.data`` for a corpus
        over :data:`IN_MEMORY_BYTES` or a distributing strategy; the held-out segments. On JAX, the ids,
        segment starts and resets on the device (every corpus from memory)."""
        tokens, layout, resets, segments = prepared.material
        if driver.policy.backend == "jax":
            feed = driver.feed(tokens.read(), layout.segment_starts(), resets, layout.segment_length)
            return feed, None if segments is None else driver.held_out(segments), layout.steps
        from seqkit.engine.feeds import DatasetFeed, InMemoryStreams, SegmentFeed
        from seqkit.engine.loops import StreamLoop
        if not driver.policy.distributed and tokens.length * 4 <= IN_MEMORY_BYTES:
            feed: Feed = SegmentFeed(InMemoryStreams(
                np.asarray(tokens.read(), dtype=np.int32), layout.segment_starts().astype(np.int32),
                np.arange(layout.segment_length + 1, dtype=np.int32), resets,
            ))
        else:
            feed = DatasetFeed(functools.partial(stream_dataset, tokens, layout, resets), layout.streams, layout.steps)
        assert isinstance(driver, StreamLoop)
        return feed, None if segments is None else driver.held_out(segments), layout.steps

    def _predictor(self, run: Run, *, during_training: bool = False) -> keras.Model:
        """A batch-1 stateful twin with the trained weights: the stream network takes its state as
        inputs, the twin keeps it in its layers, one token per call."""
        twin = build_model(
            run.data.spec, TimeSteps("embedding"), window_length=1, vocabulary_size=run.data.vocabulary.size,
            batch_size=1, stateful=True,
        )
        return copy_weights(run.network, twin)


def _strategy_name(strategy: Any) -> str:
    """The strategy's name for the record; ``"none"`` on Keras's JAX backend, which has none."""
    if strategy is None:
        return "none"
    from seqkit.distribute import strategy_name

    return strategy_name(strategy)
