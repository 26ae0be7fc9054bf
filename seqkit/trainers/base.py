"""The shared base of seqkit's trainers.

A trainer follows scikit-learn's estimator rules: ``__init__`` only stores
hyperparameters; :meth:`Trainer.fit` validates them, cuts windows, builds the
network, trains it with the compiled :class:`~seqkit.engine.TrainingLoop`
and returns a :class:`FitResult` — the fitted
:class:`~seqkit.sequence_model.SequenceModel` and its :class:`History`.
Subclasses decide only what differs: the batch plan of each epoch, and
whether the network is stateful.
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import abc
import contextlib
import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import keras
import numpy as np

from seqkit.datasets import Corpus
from seqkit.engine import EpochPlan, TrainingLoop, WindowedInputs, auto_epochs_per_call
from seqkit.errors import DataError, parameter_error
from seqkit.layouts import ENCODINGS, LAYOUTS, Layout, make_layout
from seqkit.models import ModelSpec, build_model
from seqkit.sequence_model import SequenceModel
from seqkit.vocab import Vocabulary
from seqkit.windows import WindowIndex, Windows, random_windows, sliding_window_index


@dataclass(frozen=True)
class RandomWindows:
    """Ask a trainer for random variable-length windows instead of sliding ones.

    Attributes:
        count: how many windows to draw.
        max_length: the longest window (``L``); shorter ones are padded and masked.
        seed: the NumPy seed of the draw. Defaults to 7 (the tutorial's).
    """

    count: int = 1000
    max_length: int = 5
    seed: int = 7


@dataclass
class History:
    """What training did, epoch by epoch.

    Attributes:
        loss: mean training cross-entropy of each epoch.
        accuracy: training accuracy of each epoch (from the training passes).
        seconds: wall-clock time of the training loop.
        steps: optimizer steps taken.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0

    @property
    def epochs(self) -> int:
        """Epochs completed (fewer than asked if a callback stopped training)."""
        return len(self.loss)

    def as_dict(self) -> dict[str, Any]:
        return {"loss": self.loss, "accuracy": self.accuracy, "seconds": self.seconds, "steps": self.steps}


class FitResult(NamedTuple):
    """``trainer.fit(...)`` returns the fitted model and its history: ``model, history = ...``."""

    model: SequenceModel
    history: History


CorpusLike = Corpus | str | Sequence[str]


def as_corpus(data: CorpusLike) -> Corpus:
    """A :class:`Corpus` from a Corpus, a string (characters) or a list of tokens."""
    if isinstance(data, Corpus):
        return data
    if isinstance(data, str):
        return Corpus.from_text(data, level="char")
    if isinstance(data, Sequence) and all(isinstance(token, str) for token in data):
        return Corpus.from_tokens(data)
    raise DataError(
        f"Cannot train on a {type(data).__name__}: give a seqkit Corpus, a string, or a list of string tokens."
    )


class Trainer(abc.ABC):
    """Common hyperparameters and the fit procedure shared by every trainer.

    Args:
        layout: ``"timesteps"`` or ``"features"``. Defaults to ``"timesteps"``.
        encoding: ``"scaled"``, ``"onehot"`` or ``"embedding"``. Defaults to ``"scaled"``.
        window: the window length ``L``, or a :class:`RandomWindows`. Defaults to 1.
        stride: steps between window starts. Defaults to 1 for stateless
            trainers and to the window length for the stateful one.
        units: LSTM units per layer. Defaults to 32.
        layers: stacked LSTM layers. Defaults to 1.
        dropout: dropout after each LSTM layer. Defaults to 0.
        embedding_dim: embedding width for the embedding encoding. Defaults to 16.
        epochs: passes over the data. Defaults to 500.
        batch_size: samples per optimizer step. Defaults to 1.
        learning_rate: Adam's learning rate. Defaults to 0.001 (Keras's default).
        seed: seeds weights, shuffling and dropout; the same seed gives the
            same weights on CPU. Defaults to 7 (the tutorial's).
        callbacks: Keras callbacks (progress, early stopping, logging,
            checkpoints), called after every epoch. Defaults to none.
        checkpoint_dir: a folder to save the training state in, so that
            ``fit(..., resume=True)`` continues an interrupted run exactly
            (see :mod:`seqkit.checkpoint`). Defaults to None: no checkpoints.
        checkpoint_every: save a checkpoint every this many epochs (and after
            the last). Defaults to 1.
    """

    stateful: bool = False

    def __init__(
        self,
        *,
        layout: str | Layout = "timesteps",
        encoding: str = "scaled",
        window: int | RandomWindows = 1,
        stride: int | None = None,
        units: int = 32,
        layers: int = 1,
        dropout: float = 0.0,
        embedding_dim: int = 16,
        epochs: int = 500,
        batch_size: int = 1,
        learning_rate: float = 0.001,
        seed: int = 7,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        checkpoint_dir: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.layout = layout
        self.encoding = encoding
        self.window = window
        self.stride = stride
        self.units = units
        self.layers = layers
        self.dropout = dropout
        self.embedding_dim = embedding_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed
        self.callbacks = callbacks
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.get_params().items())
        return f"{type(self).__name__}({shown})"

    # Hyperparameters ----------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The hyperparameters as given to ``__init__`` (callbacks excluded)."""
        import inspect

        names = [
            name
            for klass in type(self).__mro__
            if "__init__" in vars(klass)
            for name in inspect.signature(klass.__init__).parameters
            if name not in ("self", "callbacks", "checkpoint_dir", "checkpoint_every", "kwargs", "args")
        ]
        return {name: getattr(self, name) for name in dict.fromkeys(names)}

    def _check_int(self, name: str, minimum: int = 1) -> int:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
            raise parameter_error(type(self).__name__, name, f"an int >= {minimum}", value)
        return int(value)

    def _validate(self) -> None:
        owner = type(self).__name__
        for name in ("units", "layers", "embedding_dim", "epochs", "batch_size"):
            self._check_int(name)
        if self.stride is not None:
            self._check_int("stride")
        self._check_int("checkpoint_every")
        if self.checkpoint_dir is not None and not isinstance(self.checkpoint_dir, str | os.PathLike):
            raise parameter_error(owner, "checkpoint_dir", "None or a folder path", self.checkpoint_dir)
        if not isinstance(self.layout, Layout) and self.layout not in LAYOUTS:
            raise parameter_error(owner, "layout", "'timesteps' or 'features'", self.layout)
        if self.encoding not in ENCODINGS:
            raise parameter_error(owner, "encoding", "'scaled', 'onehot' or 'embedding'", self.encoding)
        if isinstance(self.window, RandomWindows):
            for name in ("count", "max_length"):
                value = getattr(self.window, name)
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise parameter_error("RandomWindows", name, "an int >= 1", value)
        else:
            self._check_int("window")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float) or not 0 <= self.dropout < 1:
            raise parameter_error(owner, "dropout", "a float in [0, 1)", self.dropout)
        if (
            isinstance(self.learning_rate, bool)
            or not isinstance(self.learning_rate, int | float)
            or not self.learning_rate > 0
        ):
            raise parameter_error(owner, "learning_rate", "a float > 0", self.learning_rate)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise parameter_error(owner, "seed", "an int >= 0", self.seed)

    # What subclasses decide ---------------------------------------------------------
    @abc.abstractmethod
    def _network_batch_size(self, windows: Windows) -> int | None:
        """The fixed batch the network is built with (None: any batch)."""

    @abc.abstractmethod
    def _plans(self, windows: Windows) -> Callable[[int], EpochPlan]:
        """``epoch -> EpochPlan``: which samples feed each step of that epoch."""

    def _distribution(self) -> Any:
        """The ``tf.distribute.Strategy`` to train under, or None for one device."""
        return None

    def _stride(self) -> int:
        """The stride actually used: the given one, else 1."""
        return 1 if self.stride is None else int(self.stride)

    # The procedure ------------------------------------------------------------------
    def make_windows(self, corpus: Corpus, vocabulary: Vocabulary) -> Windows:
        """The training windows this trainer cuts from ``corpus``, materialized ``(n, L)``."""
        windows = self.training_windows(corpus, vocabulary)
        return windows.materialize() if isinstance(windows, WindowIndex) else windows

    def training_windows(self, corpus: Corpus, vocabulary: Vocabulary) -> Windows | WindowIndex:
        """The training windows: a :class:`~seqkit.windows.WindowIndex` for sliding windows
        (``O(N)`` memory, cut per batch while training), :class:`Windows` for random ones."""
        if isinstance(self.window, RandomWindows):
            flat = [token_id for sequence in corpus.encode(vocabulary) for token_id in sequence]
            return random_windows(flat, self.window.count, self.window.max_length, seed=self.window.seed)
        sequences = [vocabulary.encode_array(sequence) for sequence in corpus.sequences]
        lengths = [len(sequence) for sequence in sequences]
        ids = np.concatenate(sequences) if len(sequences) > 1 else sequences[0]
        del sequences
        return sliding_window_index(ids, int(self.window), self._stride(), sequence_lengths=lengths)

    def fit(
        self,
        data: CorpusLike,
        *,
        vocabulary: Vocabulary | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        resume: bool = False,
    ) -> FitResult:
        """Train on ``data`` and return the fitted model with its history.

        Args:
            data: a :class:`~seqkit.datasets.Corpus`, a string (characters) or a token list.
            vocabulary: the id mapping; defaults to the corpus's distinct tokens in order.
            callbacks: more callbacks for this run, after the constructor's.
            resume: continue from the latest checkpoint in ``checkpoint_dir`` (from
                epoch 0 if it holds none yet). Defaults to False: a folder that
                already holds a checkpoint is refused rather than overwritten.
        """
        self._validate()
        corpus = as_corpus(data)
        vocabulary = vocabulary or corpus.vocabulary()
        windows = self.training_windows(corpus, vocabulary)
        layout = make_layout(self.layout, self.encoding)  # type: ignore[arg-type]
        inputs, targets = _samples(windows, layout, vocabulary.size)
        spec = ModelSpec(
            units=int(self.units),
            layers=int(self.layers),
            dropout=float(self.dropout),
            embedding_dim=int(self.embedding_dim),
            masked=not isinstance(windows, WindowIndex) and bool(np.any(windows.lengths < windows.window_length)),
        )

        def build(batch_size: int | None) -> keras.Model:
            return build_model(
                spec,
                layout,
                window_length=windows.window_length,
                vocabulary_size=vocabulary.size,
                batch_size=batch_size,
                stateful=self.stateful,
            )

        keras.utils.set_random_seed(int(self.seed))
        strategy = self._distribution()  # None: one device
        with contextlib.nullcontext() if strategy is None else strategy.scope():
            network = build(self._network_batch_size(windows))
        loop = TrainingLoop(network, learning_rate=float(self.learning_rate), strategy=strategy)
        started = time.perf_counter()
        plans = self._plans(windows)
        all_callbacks = [*self.callbacks, *callbacks]
        checkpoint = None
        if self.checkpoint_dir is not None:  # resume hook: restore before fit, save as a callback
            from seqkit.checkpoint import checkpoint_for

            checkpoint = checkpoint_for(self, loop, corpus, vocabulary, resume=resume)
            all_callbacks.append(checkpoint)
        logs = loop.fit(
            inputs,
            targets,
            plans,
            epochs=int(self.epochs),
            initial_epoch=0 if checkpoint is None else checkpoint.initial_epoch,
            callbacks=all_callbacks,
            epochs_per_call=_epochs_per_call(all_callbacks, plans(0).steps),
        )
        if checkpoint is not None:  # the epochs before the restart too
            logs = checkpoint.history
        history = History(
            loss=[float(value) for value in logs["loss"]],
            accuracy=[float(value) for value in logs["accuracy"]],
            seconds=time.perf_counter() - started,
        )
        history.steps = history.epochs * plans(0).steps
        predictor = network
        if self.stateful or strategy is not None:  # a plain copy: batch 1, or outside the strategy
            predictor = build(1 if self.stateful else None)
            predictor.set_weights(network.get_weights())
        record = {
            "trainer": type(self).__name__,
            "hyperparameters": _jsonable(self.get_params()),
            "layout": layout.get_config(),
            "model": spec.get_config(),
            "window_length": windows.window_length,
            "samples": len(windows),
            "corpus": {"name": corpus.name, "level": corpus.level, "tokens": len(corpus)},
        }
        model = SequenceModel(
            predictor,
            vocabulary,
            layout,
            window_length=windows.window_length,
            spec=record,
            history={"loss": history.loss, "accuracy": history.accuracy},
        )
        self.model_ = model
        self.history_ = history
        return FitResult(model, history)


def _samples(
    windows: Windows | WindowIndex, layout: Layout, vocabulary_size: int
) -> tuple[np.ndarray | WindowedInputs, np.ndarray | None]:
    """What the training loop reads: windows cut and encoded in-graph, or encoded arrays."""
    if isinstance(windows, WindowIndex):
        encode = functools.partial(layout.transform_tensor, vocabulary_size=vocabulary_size)
        return WindowedInputs(windows.ids, windows.starts, windows.window_length, encode), None
    return layout.transform(windows.inputs, vocabulary_size), windows.targets


def _epochs_per_call(callbacks: Sequence[keras.callbacks.Callback], steps_per_epoch: int) -> int | None:
    """Several epochs per compiled call unless a callback may act on an epoch's end.

    Callbacks marked ``observes_only`` (progress, logging) see every epoch's logs in
    order, just a few epochs at a time; any other callback (early stopping,
    checkpoints) gets one epoch per call so that it acts exactly where it says.
    """
    if callbacks and all(getattr(callback, "observes_only", False) for callback in callbacks):
        return auto_epochs_per_call(steps_per_epoch)
    return None


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, RandomWindows):
            out[name] = {"random": True, "count": value.count, "max_length": value.max_length, "seed": value.seed}
        elif isinstance(value, Layout):
            out[name] = value.name
        elif hasattr(value, "describe"):
            out[name] = value.describe()
        elif isinstance(value, np.integer):
            out[name] = int(value)
        else:
            out[name] = value
    return out
