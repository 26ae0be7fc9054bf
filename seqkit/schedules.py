"""Learning-rate schedules: how Adam's rate moves over a run.

Three, named as the CLI's ``--lr-schedule`` takes them:

- ``"constant"`` — the rate as given, every step (Keras's default);
- ``"cosine"`` or ``"cosine:W"`` — ``W`` steps of linear warmup from 0 to the rate, then a
  cosine decay to 0 at the run's last step (:class:`WarmupCosine`, a Keras
  ``LearningRateSchedule`` read by the optimizer at every step, inside the compiled loop);
- ``"plateau"`` or ``"plateau:P"`` — halve the rate when the held-out loss (else the
  training loss) has not improved for ``P`` epochs, 2 by default, down to a hundredth of
  the rate (Keras's ``ReduceLROnPlateau``, a callback between epochs).

:func:`make_optimizer` builds the Adam that reads the rate, on either Keras backend.

>>> parse_schedule("cosine:100")
Schedule(kind='cosine', warmup=100, patience=2)
>>> parse_schedule("plateau").describe(), parse_schedule("constant").describe()
('plateau:2', 'constant')
>>> parse_schedule("linear")
Traceback (most recent call last):
...
seqkit.errors.ConfigurationError: Unknown learning-rate schedule 'linear': expected 'constant', 'cosine', 'cosine:W' (W warmup steps >= 0), 'plateau' or 'plateau:P' (P epochs >= 1).
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import math
from dataclasses import dataclass
from typing import Any

import keras

from seqkit.errors import ConfigurationError

__all__ = ["SCHEDULE_KINDS", "LearningRate", "Schedule", "WarmupCosine", "make_optimizer", "parse_schedule"]

SCHEDULE_KINDS = ("constant", "cosine", "plateau")
"""The schedules there are."""

_EXPECTED = (
    "expected 'constant', 'cosine', 'cosine:W' (W warmup steps >= 0), 'plateau' or 'plateau:P' (P epochs >= 1)."
)


@dataclass(frozen=True)
class Schedule:
    """A parsed ``lr_schedule``.

    Attributes:
        kind: ``"constant"``, ``"cosine"`` or ``"plateau"``.
        warmup: steps of linear warmup before the cosine decay. Defaults to 0.
        patience: epochs without improvement before the plateau schedule halves the rate.
            Defaults to 2.
    """

    kind: str
    warmup: int = 0
    patience: int = 2

    def describe(self) -> str:
        """The text :func:`parse_schedule` reads back (``"cosine:100"``, ``"plateau:2"``)."""
        if self.kind == "cosine":
            return f"cosine:{self.warmup}" if self.warmup else "cosine"
        if self.kind == "plateau":
            return f"plateau:{self.patience}"
        return self.kind

    def learning_rate(self, rate: float) -> float | WarmupCosine:
        """What the optimizer is built with: ``rate``, or a :class:`WarmupCosine` from it (its
        length set later, once the run's steps are known: :meth:`WarmupCosine.set_total_steps`)."""
        return WarmupCosine(rate, warmup_steps=self.warmup) if self.kind == "cosine" else rate

    def callbacks(self, *, held_out: bool, rate: float) -> list[keras.callbacks.Callback]:
        """The callbacks the schedule needs: Keras's ``ReduceLROnPlateau`` for ``"plateau"``."""
        if self.kind != "plateau":
            return []
        return [keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss" if held_out else "loss", factor=0.5, patience=self.patience, min_lr=rate / 100,
        )]


def parse_schedule(value: object) -> Schedule:
    """Read an ``lr_schedule``: ``"constant"``, ``"cosine[:W]"`` or ``"plateau[:P]"`` (or a :class:`Schedule`)."""
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, str):
        raise ConfigurationError(f"lr_schedule must be a string; got {value!r}: {_EXPECTED}")
    kind, _, argument = value.strip().partition(":")
    if kind not in SCHEDULE_KINDS or (kind == "constant" and argument):
        raise ConfigurationError(f"Unknown learning-rate schedule {value!r}: {_EXPECTED}")
    if not argument:
        return Schedule(kind)
    if not argument.isdigit() or len(argument) > 9 or (kind == "plateau" and int(argument) < 1):
        raise ConfigurationError(f"Unknown learning-rate schedule {value!r}: {_EXPECTED}")
    return Schedule(kind, warmup=int(argument)) if kind == "cosine" else Schedule(kind, patience=int(argument))


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to ``rate`` over ``warmup_steps``, then a cosine decay to 0 at ``total_steps``.

    The rate at step ``s`` (the optimizer's iterations, counted from 0):
    ``rate * (s + 1) / warmup_steps`` while ``s < warmup_steps``, then
    ``rate * (1 + cos(pi * min(1, (s - warmup_steps) / (total_steps - warmup_steps)))) / 2``.

    Args:
        rate: the peak learning rate.
        warmup_steps: steps of warmup. Defaults to 0.
        total_steps: the run's optimizer steps; set it before the first step
            (:meth:`set_total_steps`), when the trainer knows them. Defaults to 1.

    >>> schedule = WarmupCosine(0.1, warmup_steps=2, total_steps=6)
    >>> [round(float(schedule(step)), 4) for step in range(7)]
    [0.05, 0.1, 0.1, 0.0854, 0.05, 0.0146, 0.0]
    """

    def __init__(self, rate: float, *, warmup_steps: int = 0, total_steps: int = 1) -> None:
        self.rate = float(rate)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)

    def set_total_steps(self, total_steps: int) -> None:
        """The run's length in optimizer steps (read when the training step is traced)."""
        self.total_steps = int(total_steps)

    def __call__(self, step: Any) -> Any:
        step = keras.ops.cast(step, "float32")
        warmup = float(self.warmup_steps)
        span = float(max(1, self.total_steps - self.warmup_steps))
        progress = keras.ops.minimum(1.0, keras.ops.maximum(0.0, step - warmup) / span)
        decayed = self.rate * 0.5 * (1.0 + keras.ops.cos(math.pi * progress))
        if not self.warmup_steps:
            return decayed
        return keras.ops.where(step < warmup, self.rate * (step + 1.0) / warmup, decayed)

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps}


LearningRate = float | keras.optimizers.schedules.LearningRateSchedule
"""Adam's learning rate: a number, or a schedule of the step (:mod:`seqkit.schedules`)."""


def make_optimizer(
    network: keras.Model, learning_rate: LearningRate, *, loss_scale: bool = False, clip_norm: float | None = None
) -> keras.optimizers.Optimizer:
    """Adam for ``network``, built, attached as ``network.optimizer`` (as ``compile`` does).

    The one optimizer of every trainer, on either backend (:mod:`seqkit.engine.driver`,
    :mod:`seqkit.engine.jax_loop`).

    Args:
        network: the model whose trainable variables it updates.
        learning_rate: Adam's learning rate, or a Keras ``LearningRateSchedule``.
        loss_scale: wrap it in a :class:`keras.optimizers.LossScaleOptimizer` (for
            ``mixed_float16``). Defaults to False.
        clip_norm: clip the gradients to this global norm before each update (Keras's
            ``global_clipnorm``). Defaults to None: no clipping.
    """
    rate = learning_rate if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule) else float(learning_rate)
    optimizer: keras.optimizers.Optimizer = keras.optimizers.Adam(
        learning_rate=rate, global_clipnorm=None if clip_norm is None else float(clip_norm)
    )
    if loss_scale:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(network.trainable_variables)
    network.optimizer = optimizer
    return optimizer
