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
"""

from seqkit._quiet import quiet_import

quiet_import()

from seqkit.engine.driver import Driver, Position  # noqa: E402
from seqkit.engine.epochs import observers_only, run_epochs  # noqa: E402
from seqkit.engine.loops import StreamLoop, TrainingLoop, make_optimizer, stateful_batch_size  # noqa: E402
from seqkit.engine.plans import (  # noqa: E402
    EpochPlan,
    WindowedInputs,
    auto_epochs_per_call,
    shuffled_plan,
    stream_indices,
)
from seqkit.engine.policy import DevicePolicy, choose_policy  # noqa: E402
from seqkit.engine.step import train_step  # noqa: E402

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
