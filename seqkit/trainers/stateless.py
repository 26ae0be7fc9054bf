"""Stateless and in-batch training: each window is an independent sample."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras

from seqkit.checks import check_bool, check_int
from seqkit.distribute import StrategyLike
from seqkit.engine.plans import EpochPlan, shuffled_plan
from seqkit.errors import ConfigurationError
from seqkit.layouts import Layout
from seqkit.trainers.base import RandomWindows
from seqkit.trainers.windowed import WindowTrainer
from seqkit.windows import WindowIndex, Windows

__all__ = ["InBatchTrainer", "StatelessTrainer"]


class StatelessTrainer(WindowTrainer):
    """Each window is an independent sample; the LSTM state starts at zero for every one.

    Batches are drawn as Keras ``fit`` draws them: shuffled each epoch (unless
    ``shuffle=False``), ``ceil(n / batch_size)`` optimizer steps, the last partial.

    With ``strategy`` the epoch runs under ``tf.distribute``: every step's batch is split
    over the replicas (padded with empty slots when it does not split evenly) and the
    gradients are all-reduced, which matches one device at the same batch size up to
    floating-point rounding. Distributed steps are not XLA-compiled.

    Args:
        layout: ``"timesteps"`` or ``"features"`` (or a :class:`~seqkit.layouts.Layout`).
            Defaults to ``"timesteps"``.
        encoding: ``"scaled"``, ``"onehot"`` or ``"embedding"``. Defaults to ``"scaled"``.
        window: the window length ``L``, or a :class:`~seqkit.trainers.RandomWindows`.
            Defaults to 1.
        stride: steps between window starts. Defaults to None: 1.
        units: LSTM units per layer. Defaults to 32.
        layers: stacked LSTM layers. Defaults to 1.
        dropout: dropout after each LSTM layer, in ``[0, 1)``. Defaults to 0.
        embedding_dim: embedding width for the embedding encoding. Defaults to 16.
        cell: ``"lstm"`` or ``"gru"``. Defaults to ``"lstm"``.
        epochs: passes over the data. Defaults to 500.
        batch_size: samples per optimizer step. Defaults to 1.
        shuffle: reshuffle the windows every epoch. Defaults to True (Keras's default).
        learning_rate: Adam's learning rate. Defaults to 0.001 (Keras's default).
        clip_norm: clip the gradients to this global norm before each update (char-rnn's
            ``grad_clip``). Defaults to None: no clipping.
        lr_schedule: ``"constant"``, ``"cosine"`` or ``"cosine:W"`` (cosine decay to 0 over the
            run, after ``W`` steps of linear warmup), or ``"plateau"`` / ``"plateau:P"`` (halve
            the rate when the held-out loss, else the training loss, has not improved for ``P``
            epochs, 2 by default); see :mod:`seqkit.schedules`. Defaults to ``"constant"``.
        seed: seeds weights, shuffling and dropout; the same seed gives the same weights
            on the same CPU. Defaults to 7 (the tutorial's).
        strategy: None or ``"default"`` (one device), ``"mirrored"``, ``"multi-worker"``
            (reads ``TF_CONFIG``) or a :class:`tf.distribute.Strategy`. Defaults to None.
        jit_compile: compile the steps with XLA. Defaults to None: the
            :mod:`device policy <seqkit.engine.policy>` decides (XLA on a CPU).
        precision: ``"float32"``, ``"mixed_float16"`` (GPU), ``"mixed_bfloat16"`` or ``"auto"``
            (:func:`~seqkit.engine.policy.resolve_precision`). Defaults to ``"float32"``.
        callbacks: Keras callbacks, called as under ``model.fit``. Defaults to none.
        checkpoint_dir: a folder to save the training state in, so that
            ``fit(..., resume=True)`` continues an interrupted run exactly
            (see :mod:`seqkit.checkpoint`). Defaults to None: no checkpoints.
        checkpoint_every: save a checkpoint every this many epochs (and after the last).
            Defaults to 1.
        checkpoint_steps: also save every this many optimizer steps inside an epoch (for
            long epochs: a resumed run continues from that step). Defaults to None: at
            epoch ends only.

    >>> from seqkit import alphabet
    >>> trainer = StatelessTrainer(window=3, units=8, epochs=2)
    >>> model, history = trainer.fit(alphabet())
    >>> history.epochs, len(model.predict_next("ABC", top_k=3))
    (2, 3)
    """

    inapplicable = {
        "reset": ": only stateful and stream training carry a state to reset.",
        "kernel": ": seqkit's LSTM kernel trains stream models only (--trainer stream).",
    }

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
        cell: str = "lstm",
        epochs: int = 500,
        batch_size: int = 1,
        shuffle: bool = True,
        learning_rate: float = 0.001,
        clip_norm: float | None = None,
        lr_schedule: str = "constant",
        seed: int = 7,
        strategy: StrategyLike = None,
        jit_compile: bool | None = None,
        precision: str = "float32",
        callbacks: Sequence[keras.callbacks.Callback] = (),
        checkpoint_dir: Any = None,
        checkpoint_every: int = 1,
        checkpoint_steps: int | None = None,
    ) -> None:
        self._store(locals())

    def _validate(self) -> None:
        super()._validate()
        check_int(type(self).__name__, "batch_size", self.batch_size)
        check_bool(type(self).__name__, "shuffle", self.shuffle)

    def epoch_plans(self, windows: Windows | WindowIndex) -> Callable[[int], EpochPlan]:
        batch = self._step_batch_size(windows)
        count, seed = len(windows), int(self.seed)
        if not self.shuffle:
            fixed = shuffled_plan(count, batch, seed=seed, epoch=0, shuffle=False)
            return lambda epoch: fixed
        return lambda epoch: shuffled_plan(count, batch, seed=seed, epoch=epoch)


class InBatchTrainer(WindowTrainer):
    """The whole ordered dataset as one unshuffled batch: one optimizer step per epoch.

    The tutorial's "LSTM state within a batch" experiment. Folklore says the samples of
    one batch pass state to each other; in a stateless Keras LSTM they do not (every row
    starts from a zero state), which the tests and the docs show: what this trainer gains
    comes from full-batch gradient steps. It has no ``batch_size`` and no ``shuffle``:
    the batch is the dataset, in order; giving either is refused.

    Args:
        units: LSTM units per layer. Defaults to 16 (the tutorial's).
        epochs: passes over the data (one step each). Defaults to 5000 (the tutorial's).
        The others: as :class:`StatelessTrainer`.

    >>> from seqkit import alphabet
    >>> model, history = InBatchTrainer(units=8, epochs=3).fit(alphabet())
    >>> history.epochs, history.steps
    (3, 3)
    >>> InBatchTrainer(batch_size=4)
    Traceback (most recent call last):
    ...
    seqkit.errors.ConfigurationError: InBatchTrainer trains on the whole dataset as one unshuffled batch, so 'batch_size' means nothing for it; leave it out, or use StatelessTrainer.
    """

    inapplicable = {
        "reset": ": only stateful and stream training carry a state to reset.",
        "batch_size": ": it trains on the whole dataset as one batch.",
        "kernel": ": seqkit's LSTM kernel trains stream models only (--trainer stream).",
    }

    def __init__(
        self,
        *,
        layout: str | Layout = "timesteps",
        encoding: str = "scaled",
        window: int | RandomWindows = 1,
        stride: int | None = None,
        units: int = 16,
        layers: int = 1,
        dropout: float = 0.0,
        embedding_dim: int = 16,
        cell: str = "lstm",
        epochs: int = 5000,
        learning_rate: float = 0.001,
        clip_norm: float | None = None,
        lr_schedule: str = "constant",
        seed: int = 7,
        strategy: StrategyLike = None,
        jit_compile: bool | None = None,
        precision: str = "float32",
        callbacks: Sequence[keras.callbacks.Callback] = (),
        checkpoint_dir: Any = None,
        checkpoint_every: int = 1,
        checkpoint_steps: int | None = None,
        **meaningless: Any,
    ) -> None:
        _refuse_meaningless(type(self).__name__, meaningless)
        self._store(locals())

    def _step_batch_size(self, windows: Windows | WindowIndex) -> int:
        return len(windows)

    def epoch_plans(self, windows: Windows | WindowIndex) -> Callable[[int], EpochPlan]:
        fixed = shuffled_plan(len(windows), len(windows), seed=0, epoch=0, shuffle=False)
        return lambda epoch: fixed


def _refuse_meaningless(owner: str, given: dict[str, Any]) -> None:
    """Refuse ``batch_size``/``shuffle`` (meaningless in-batch) and any unknown name."""
    for name in given:
        if name in ("batch_size", "shuffle"):
            raise ConfigurationError(
                f"{owner} trains on the whole dataset as one unshuffled batch, so '{name}' means "
                "nothing for it; leave it out, or use StatelessTrainer."
            )
        raise ConfigurationError(f"{owner} has no parameter '{name}'. See help({owner}) for its parameters.")
