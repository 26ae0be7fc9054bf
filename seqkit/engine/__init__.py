"""The training core: one train step, and the one compiled driver that runs it.

Keras ``fit`` called once per epoch spends almost all of its time on per-call and
per-step overhead when the model is as tiny as seqkit's. The engine runs every optimizer
step of an epoch inside one :func:`tf.function`, so the Python, dataset and callback
machinery is paid once per epoch instead of once per step. One concept per module:

- :mod:`seqkit.engine.plans` — :class:`EpochPlan` (which samples feed each step, which
  state rows reset), :func:`shuffled_plan`, :func:`stream_indices`, :class:`WindowedInputs`;
- :mod:`seqkit.engine.step` — :func:`train_step`, the one train step (loss, gradients,
  update, metric record), written once;
- :mod:`seqkit.engine.driver` — :class:`Driver`: owns the network, optimizer, carried state
  and strategy; one compiled loop for every trainer, every step through ``strategy.run``;
- :mod:`seqkit.engine.feeds` — what each step reads (plan rows, stream segments from memory
  or ``tf.data``, held-out segments); :mod:`seqkit.engine.state` — the state carried
  between steps; :mod:`seqkit.engine.shards` — a step's streams over a CPU's cores;
- :mod:`seqkit.engine.loops` — :class:`TrainingLoop` (window samples and epoch plans) and
  :class:`StreamLoop` (parallel streams): the driver called with arrays;
- :mod:`seqkit.engine.epochs` — :func:`run_epochs`, Keras callbacks around compiled calls;
- :mod:`seqkit.engine.policy` — :func:`choose_policy`: XLA, cuDNN, precision, the kernel,
  shards and distribution per model and device.

Its names are imported on first use (PEP 562), so that the modules that need no TensorFlow
(:mod:`~seqkit.engine.plans`, :mod:`~seqkit.engine.policy`, :mod:`~seqkit.engine.epochs`,
:mod:`~seqkit.engine.jax_loop`) import on Keras's JAX backend without it.
"""

import importlib
from typing import Any

_HOMES = {
    "Driver": "driver", "Position": "driver",
    "observers_only": "epochs", "run_epochs": "epochs",
    "StreamLoop": "loops", "TrainingLoop": "loops", "make_optimizer": "loops", "stateful_batch_size": "loops",
    "EpochPlan": "plans", "WindowedInputs": "plans", "auto_epochs_per_call": "plans",
    "shuffled_plan": "plans", "stream_indices": "plans",
    "DevicePolicy": "policy", "choose_policy": "policy",
    "train_step": "step",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'seqkit.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"seqkit.engine.{_HOMES[name]}"), name)


__all__ = [
    "DevicePolicy",
    "Driver",
    "EpochPlan",
    "Position",
    "StreamLoop",
    "TrainingLoop",
    "WindowedInputs",
    "auto_epochs_per_call",
    "choose_policy",
    "make_optimizer",
    "observers_only",
    "run_epochs",
    "shuffled_plan",
    "stateful_batch_size",
    "stream_indices",
    "train_step",
]
