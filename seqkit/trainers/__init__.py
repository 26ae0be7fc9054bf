"""Trainers: stateless, in-batch, stateful and stream LSTM training.

>>> from seqkit.trainers import StatelessTrainer, InBatchTrainer, StatefulTrainer
>>> StatefulTrainer(reset="every:3").reset
'every:3'

The names are imported on first use (PEP 562). On Keras's TensorFlow backend (the default)
every trainer is here; on its JAX backend (``KERAS_BACKEND=jax``) :class:`StreamTrainer`
trains without TensorFlow (:mod:`seqkit.engine.jax_loop`), and asking for a window trainer
says, in one line, that it needs TensorFlow (:mod:`seqkit.backends`).
"""

from __future__ import annotations

import importlib
from typing import Any

from seqkit.backends import CAPABILITIES, keras_backend
from seqkit.errors import ConfigurationError

_HOMES = {
    "FitResult": "base", "History": "base", "RandomWindows": "base", "Trainer": "base",
    "StatefulTrainer": "stateful",
    "InBatchTrainer": "stateless", "StatelessTrainer": "stateless",
    "StreamTrainer": "stream",
    "WindowTrainer": "windowed",
}
_TRAINER_NAMES = {"stateless": "StatelessTrainer", "in-batch": "InBatchTrainer", "stateful": "StatefulTrainer", "stream": "StreamTrainer"}

__all__ = [
    "TRAINERS",
    "FitResult",
    "History",
    "InBatchTrainer",
    "RandomWindows",
    "StatefulTrainer",
    "StatelessTrainer",
    "StreamTrainer",
    "Trainer",
    "WindowTrainer",
    "stream_indices",
]


def __getattr__(name: str) -> Any:
    if name == "stream_indices":
        from seqkit.engine.plans import stream_indices

        return stream_indices
    backend = keras_backend()
    if name == "TRAINERS":  # the trainers this backend runs (seqkit.backends.CAPABILITIES)
        return {key: __getattr__(value) for key, value in _TRAINER_NAMES.items() if value in CAPABILITIES[backend]}
    if name not in _HOMES:
        raise AttributeError(f"module 'seqkit.trainers' has no attribute {name!r}")
    if name.endswith("Trainer") and name != "Trainer" and name not in CAPABILITIES[backend]:
        runs = ", ".join(what for what in CAPABILITIES[backend] if what.endswith("Trainer"))
        raise ConfigurationError(
            f"{name} needs Keras's TensorFlow backend; this process runs Keras on {backend!r} "
            f"(KERAS_BACKEND={backend}), where seqkit trains {runs} only. "
            "Unset KERAS_BACKEND (or set it to tensorflow) to use it."
        )
    return getattr(importlib.import_module(f"seqkit.trainers.{_HOMES[name]}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
