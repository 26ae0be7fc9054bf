"""tf.distribute strategies by name: one device, the local devices, or several machines.

seqkit's compiled loops run a step through ``strategy.run`` and feed it with
``strategy.distribute_datasets_from_function``, as TensorFlow's custom-training-loop
guide does; the model and optimizer are created under ``strategy.scope()``. This
module turns the names the trainers and the CLI accept into strategies.

- ``None`` / ``"default"`` — the default strategy: one device, no replicas.
- ``"mirrored"`` — :class:`tf.distribute.MirroredStrategy` over every local GPU, or
  every logical CPU device when there is no GPU (see :func:`split_cpu`).
- ``"multi-worker"`` — :class:`tf.distribute.MultiWorkerMirroredStrategy`; the
  cluster and this process's place in it come from the ``TF_CONFIG`` environment
  variable, as TensorFlow documents. Create it before any other TensorFlow work.

>>> resolve_strategy(None).num_replicas_in_sync
1
>>> strategy_name(resolve_strategy("default"))
'default'
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import json
import os

import tensorflow as tf

from seqkit.checks import check_int
from seqkit.errors import ConfigurationError, parameter_error

__all__ = ["STRATEGY_NAMES", "StrategyLike", "resolve_strategy", "split_cpu", "strategy_name"]

STRATEGY_NAMES: tuple[str, ...] = ("default", "mirrored", "multi-worker")
StrategyLike = str | tf.distribute.Strategy | None


def check_strategy(owner: str, strategy: object) -> None:
    """Refuse a ``strategy`` hyperparameter that is no name seqkit knows and no Strategy.

    >>> check_strategy("StreamTrainer", "mirrored")
    >>> check_strategy("StreamTrainer", "tpu")
    Traceback (most recent call last):
    ...
    seqkit.errors.ConfigurationError: The 'strategy' parameter of StreamTrainer must be None, 'default', 'mirrored', 'multi-worker' or a tf.distribute.Strategy. Got 'tpu' instead.
    """
    if not (strategy is None or strategy in STRATEGY_NAMES or isinstance(strategy, tf.distribute.Strategy)):
        raise parameter_error(
            owner, "strategy", "None, 'default', 'mirrored', 'multi-worker' or a tf.distribute.Strategy", strategy
        )


def split_cpu(devices: int) -> None:
    """Split the physical CPU into ``devices`` logical devices (for MirroredStrategy on CPU).

    Must run before TensorFlow initializes its devices (before the first op); afterwards
    TensorFlow refuses, and this raises :class:`~seqkit.errors.ConfigurationError`.

    Args:
        devices: how many logical CPU devices, at least 1.
    """
    devices = check_int("split_cpu", "devices", devices)
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)]
        )
    except RuntimeError as error:
        raise ConfigurationError(
            f"Cannot split the CPU into {devices} devices: {error}. Call split_cpu() first "
            "thing in the process, before any TensorFlow op runs."
        ) from None


def resolve_strategy(strategy: StrategyLike) -> tf.distribute.Strategy:
    """The strategy a name stands for; a :class:`tf.distribute.Strategy` is returned as is.

    Raises:
        ConfigurationError: an unknown name, or ``"multi-worker"`` without a usable ``TF_CONFIG``.
    """
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy is None or strategy == "default":
        return tf.distribute.get_strategy()
    if strategy == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy([device.name for device in gpus])
        cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(cpus, cross_device_ops=tf.distribute.ReductionToOneDevice())
    if strategy == "multi-worker":
        try:
            config = json.loads(os.environ.get("TF_CONFIG", ""))
            config["cluster"]["worker"], config["task"]["index"]
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(
                "The 'multi-worker' strategy reads the cluster from the TF_CONFIG environment "
                "variable, e.g. TF_CONFIG='{\"cluster\": {\"worker\": [\"host1:2222\", "
                "\"host2:2222\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}'; "
                f"got {os.environ.get('TF_CONFIG')!r}."
            ) from None
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            raise ConfigurationError(
                f"Cannot start the 'multi-worker' strategy: {error}. Create it first thing in the "
                "process, before any other TensorFlow work."
            ) from None
    raise ConfigurationError(
        f"Unknown strategy {strategy!r}: expected 'default', 'mirrored', 'multi-worker', None "
        "or a tf.distribute.Strategy."
    )


def strategy_name(strategy: tf.distribute.Strategy) -> str:
    """``"default"``, ``"mirrored"``, ``"multi-worker"`` or the class name of another strategy."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "multi-worker"
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return "mirrored"
    if strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy():
        return "default"
    return type(strategy).__name__
