"""The window trainers' shared prepare stage: windows, network, compiled loop.

Stateless, in-batch and stateful training all cut windows from the corpus, encode them
with a layout, build the LSTM network and train it with the compiled
:class:`~seqkit.engine.loops.TrainingLoop` from one :class:`~seqkit.engine.plans.EpochPlan`
per epoch. :class:`WindowTrainer` does all of that; a subclass decides only what differs:
the plan of each epoch (:meth:`WindowTrainer.epoch_plans`), the network's fixed batch size
(stateful), the stride's default and the distribution strategy.
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import abc
import contextlib
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import keras
import numpy as np

from seqkit.checks import check_int, check_optional_int
from seqkit.distribute import StrategyLike, check_strategy, resolve_strategy
from seqkit.engine.driver import Driver
from seqkit.engine.feeds import Feed
from seqkit.engine.loops import TrainingLoop
from seqkit.engine.plans import EpochPlan, WindowedInputs
from seqkit.engine.policy import DevicePolicy, prediction_use_cudnn
from seqkit.errors import parameter_error
from seqkit.layouts import ENCODINGS, LAYOUTS, Layout, make_layout
from seqkit.models import build_model
from seqkit.trainers.base import Prepared, RandomWindows, Run, Trainer, as_corpus
from seqkit.vocab import Vocabulary
from seqkit.windows import WindowIndex, Windows, random_windows, sliding_window_index

__all__ = ["WindowTrainer"]


class WindowTrainer(Trainer):
    """A trainer whose samples are windows of the corpus (stateless, in-batch, stateful)."""

    def _validate(self) -> None:
        super()._validate()
        owner = type(self).__name__
        check_optional_int(owner, "stride", self.stride)
        if not isinstance(self.layout, Layout) and self.layout not in LAYOUTS:
            raise parameter_error(owner, "layout", "'timesteps' or 'features'", self.layout)
        if self.encoding not in ENCODINGS:
            raise parameter_error(owner, "encoding", "'scaled', 'onehot' or 'embedding'", self.encoding)
        if isinstance(self.window, RandomWindows):
            check_int("RandomWindows", "count", self.window.count)
            check_int("RandomWindows", "max_length", self.window.max_length)
        else:
            check_int(owner, "window", self.window)
        check_strategy(owner, self._strategy_param())

    # What subclasses decide ---------------------------------------------------------
    @abc.abstractmethod
    def epoch_plans(self, windows: Windows | WindowIndex) -> Callable[[int], EpochPlan]:
        """``epoch -> EpochPlan``: which samples feed each step of that epoch."""

    def _network_batch_size(self, windows: Windows | WindowIndex) -> int | None:
        """The fixed batch the network is built with (None: any batch)."""
        return None

    def _stride(self) -> int:
        """The stride actually used: the given one, else 1."""
        return 1 if self.stride is None else int(self.stride)

    def _strategy_param(self) -> StrategyLike:
        """The ``strategy`` hyperparameter, for trainers that have one."""
        return getattr(self, "strategy", None)

    def _evaluation_plan(self, windows: Windows | WindowIndex) -> EpochPlan | None:
        """How held-out windows are read: None (in order, in large batches) for stateless models."""
        return None

    def _min_piece(self) -> int:
        """A held-out or training piece must hold one window and its target: ``L + 1`` tokens."""
        return 2 if isinstance(self.window, RandomWindows) else int(self.window) + 1

    def _step_batch_size(self, windows: Windows | WindowIndex) -> int:
        """Rows per optimizer step, for the device policy."""
        return min(int(self.batch_size), len(windows))

    # The windows ---------------------------------------------------------------------
    def make_windows(self, corpus: Any, vocabulary: Vocabulary) -> Windows:
        """The training windows this trainer cuts from ``corpus``, materialized ``(n, L)``."""
        windows = self.training_windows(corpus, vocabulary)
        return windows.materialize() if isinstance(windows, WindowIndex) else windows

    def training_windows(self, corpus: Any, vocabulary: Vocabulary) -> Windows | WindowIndex:
        """The training windows: a :class:`~seqkit.windows.WindowIndex` for sliding windows
        (``O(N)`` memory, cut per batch while training), :class:`Windows` for random ones."""
        corpus = as_corpus(corpus)
        if isinstance(self.window, RandomWindows):
            flat = [token_id for sequence in corpus.encode(vocabulary) for token_id in sequence]
            return random_windows(flat, self.window.count, self.window.max_length, seed=self.window.seed)
        sequences = [vocabulary.encode_array(sequence) for sequence in corpus.sequences]
        lengths = [len(sequence) for sequence in sequences]
        ids = np.concatenate(sequences) if len(sequences) > 1 else sequences[0]
        del sequences
        return sliding_window_index(ids, int(self.window), self._stride(), sequence_lengths=lengths)

    def evaluation_windows(self, corpus: Any, vocabulary: Vocabulary) -> Windows | WindowIndex:
        """The windows to score a fitted model on: its training windows."""
        return self.training_windows(corpus, vocabulary)

    # Stage 1, step by step -----------------------------------------------------------
    def _data(self, data: Any, vocabulary: Vocabulary | None, validation: Any, scope: contextlib.ExitStack) -> Prepared:
        """The windows (and held-out windows), encoded as the layout says."""
        corpus, vocabulary, held_out = self.split(data, validation, vocabulary)
        windows = self.training_windows(corpus, vocabulary)
        params = self._effective_params()  # fine-tuning keeps the model's layout and encoding
        layout = make_layout(params["layout"], params["encoding"])
        encode = functools.partial(layout.transform_tensor, vocabulary_size=vocabulary.size)
        inputs, targets = _samples(windows, layout, vocabulary.size, encode)
        validation_set = None
        if held_out is not None:
            held_windows = self.training_windows(held_out, vocabulary)
            validation_set = (*_samples(held_windows, layout, vocabulary.size, encode), self._evaluation_plan(held_windows))
        spec = self._model_spec(
            masked=not isinstance(windows, WindowIndex) and bool(np.any(windows.lengths < windows.window_length))
        )
        strategy_param = self._strategy_param()
        return Prepared(
            vocabulary=vocabulary, layout=layout, spec=spec, window_length=windows.window_length,
            samples=len(windows), corpus={"name": corpus.name, "level": corpus.level, "tokens": len(corpus)},
            corpus_data=corpus,
            strategy=None if strategy_param in (None, "default") else resolve_strategy(strategy_param),
            step_rows=self._step_batch_size(windows),
            time_steps=layout.input_shape(windows.window_length, vocabulary.size)[0],
            material=_WindowSamples(windows, inputs, targets, validation_set),
        )

    def _network(self, prepared: Prepared, policy: DevicePolicy) -> keras.Model:
        """The window network, at the trainer's fixed batch when stateful."""
        return build_model(
            prepared.spec, prepared.layout, window_length=prepared.window_length,
            vocabulary_size=prepared.vocabulary.size, batch_size=self._network_batch_size(prepared.material.windows),
            stateful=self.stateful, use_cudnn=policy.use_cudnn, precision=policy.precision, unroll=policy.unroll,
        )

    def _driver(self, prepared: Prepared, policy: DevicePolicy, network: keras.Model) -> TrainingLoop:
        """A :class:`~seqkit.engine.loops.TrainingLoop` (the driver, fed window samples)."""
        return TrainingLoop(network, strategy=prepared.strategy, policy=policy, **self._optimizer_settings())

    def _feeds(self, prepared: Prepared, driver: Driver) -> tuple[Feed, Feed | None, int]:
        """The samples in this trainer's epoch plans, and the held-out samples in its evaluation plan."""
        samples = prepared.material
        plans = self.epoch_plans(samples.windows)
        assert isinstance(driver, TrainingLoop)
        held_out = None if samples.validation is None else driver.evaluation_feed(*samples.validation)
        return driver.feed(samples.inputs, samples.targets, plans), held_out, plans(0).steps

    def _predictor(self, run: Run, *, during_training: bool = False) -> keras.Model:
        """Prediction runs outside XLA, in float32, the LSTMs with Keras's own kernel choice (cuDNN on a
        GPU unless masked): the trained network serves when only that differs, else a copy (at batch 1
        for stateful networks, outside any strategy)."""
        policy = run.policy
        if not during_training and not self.stateful and not policy.distributed and policy.precision == "float32":
            return run.network
        twin = build_model(
            run.data.spec, run.data.layout, window_length=run.data.window_length, vocabulary_size=run.data.vocabulary.size,
            batch_size=1 if self.stateful else None, stateful=self.stateful,
            use_cudnn=prediction_use_cudnn(run.data.spec.masked),
        )
        twin.set_weights(run.network.get_weights())
        return twin


class _WindowSamples(NamedTuple):
    """A window trainer's material: the windows, what the loop reads of them, the held-out set."""

    windows: Windows | WindowIndex
    inputs: np.ndarray | WindowedInputs
    targets: np.ndarray | None
    validation: tuple[Any, Any, EpochPlan | None] | None


def _samples(
    windows: Windows | WindowIndex, layout: Layout, vocabulary_size: int, encode: Callable[[Any], Any]
) -> tuple[np.ndarray | WindowedInputs, np.ndarray | None]:
    """What the training loop reads: windows cut and encoded in-graph (by ``encode``), or encoded arrays."""
    if isinstance(windows, WindowIndex):
        return WindowedInputs(windows.ids, windows.starts, windows.window_length, encode), None
    return layout.transform(windows.inputs, vocabulary_size), windows.targets
