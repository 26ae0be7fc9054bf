"""The epoch driver: Keras callbacks around compiled calls, as under ``model.fit``.

A loop hands :func:`run_epochs` a function that trains a few epochs in one compiled call
and returns one logs dict per epoch; the driver calls it until the last epoch or until a
callback sets ``network.stop_training``, and drives the callbacks with the hooks, params
and objects Keras's own callbacks expect: ``CallbackList(epochs=, steps=, verbose=)``,
``callback.model`` set to the network with its optimizer attached as
``network.optimizer`` (learning-rate schedulers, TensorBoard), and one
``on_train_batch_begin`` / ``on_train_batch_end`` pair per epoch, as Keras calls them once
per execution under ``steps_per_execution`` (``TerminateOnNaN`` reads its logs).
``verbose=1`` adds Keras's progress bar, ``verbose=2`` one line per epoch.

Several epochs can run in one call when every callback only watches (marked
``observes_only``, or Keras's progress bar): they still see every epoch in order, a
call's epochs at a time. Any other callback gets one epoch per call, so that it acts
exactly where it says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import keras

from seqkit.checks import check_int
from seqkit.engine.plans import auto_epochs_per_call

__all__ = ["EpochLogs", "logs_of", "observers_only", "run_epochs"]

EpochLogs = dict[str, float]


def logs_of(record: Sequence[float]) -> EpochLogs:
    """``{"loss", "accuracy"}`` from a summed record ``[loss sum, correct, count]``.

    >>> logs_of([3.0, 1.0, 4.0])
    {'loss': 0.75, 'accuracy': 0.25}
    """
    loss_sum, correct, count = record
    return {"loss": float(loss_sum / count), "accuracy": float(correct / count)}


class _NoCallbacks:
    """The do-nothing stand-in for an empty :class:`keras.callbacks.CallbackList` (~40 us an event)."""

    def on_train_begin(self, logs: EpochLogs | None = None) -> None:
        """Do nothing."""

    def on_epoch_begin(self, epoch: int, logs: EpochLogs | None = None) -> None:
        """Do nothing."""

    def on_train_batch_begin(self, batch: int, logs: EpochLogs | None = None) -> None:
        """Do nothing."""

    def on_train_batch_end(self, batch: int, logs: EpochLogs | None = None) -> None:
        """Do nothing."""

    def on_epoch_end(self, epoch: int, logs: EpochLogs | None = None) -> None:
        """Do nothing."""

    def on_train_end(self, logs: EpochLogs | None = None) -> None:
        """Do nothing."""


def observers_only(callbacks: Sequence[keras.callbacks.Callback]) -> bool:
    """True when every callback only watches, so several epochs may share one compiled call."""
    return all(
        getattr(callback, "observes_only", False) or isinstance(callback, keras.callbacks.ProgbarLogger)
        for callback in callbacks
    )


def run_epochs(
    network: keras.Model,
    run_call: Callable[[int, int], list[EpochLogs]],
    *,
    epochs: int,
    steps_per_epoch: int,
    initial_epoch: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
    epochs_per_call: int | None = None,
) -> dict[str, list[float]]:
    """Train epochs ``initial_epoch .. epochs - 1``, calling ``run_call(first, count)``.

    Args:
        network: the model the callbacks see (``callback.model``); ``stop_training`` on
            it stops training after the current epoch.
        run_call: ``(first_epoch, count) -> [logs of each epoch]``: trains ``count``
            epochs from ``first_epoch`` in one compiled call.
        epochs: index of the epoch to stop before (Keras meaning); an int >= 0.
        steps_per_epoch: optimizer steps per epoch, for the callbacks' ``params``.
        initial_epoch: epoch to start at, for resumed runs. Defaults to 0.
        callbacks: Keras callbacks. Defaults to none.
        verbose: 0 silent, 1 Keras's progress bar, 2 one line per epoch. Defaults to 0.
        epochs_per_call: epochs per compiled call. Defaults to None: about 512 steps
            when every callback only watches, else 1.

    Returns:
        The history: each logs key (``loss``, ``accuracy``, ...) to its per-epoch values,
        plus ``seconds``, the wall-clock time of each call's epochs.
    """
    check_int("run_epochs", "epochs", epochs, minimum=0)
    check_int("run_epochs", "initial_epoch", initial_epoch, minimum=0)
    check_int("run_epochs", "verbose", verbose, minimum=0, maximum=2)
    if epochs_per_call is None:
        epochs_per_call = auto_epochs_per_call(steps_per_epoch) if observers_only(callbacks) else 1
    check_int("run_epochs", "epochs_per_call", epochs_per_call)
    callback_list: keras.callbacks.CallbackList | _NoCallbacks = _NoCallbacks()
    if callbacks or verbose:
        callback_list = keras.callbacks.CallbackList(
            list(callbacks), add_history=False, add_progbar=verbose != 0, model=network,
            verbose=verbose, epochs=epochs, steps=steps_per_epoch,
        )
    history: dict[str, list[float]] = {}
    network.stop_training = False
    logs: EpochLogs = {}
    callback_list.on_train_begin()
    epoch = initial_epoch
    while epoch < epochs and not network.stop_training:
        count = min(epochs_per_call, epochs - epoch)
        callback_list.on_epoch_begin(epoch)
        callback_list.on_train_batch_begin(0)
        started = time.perf_counter()
        call_logs = run_call(epoch, count)
        seconds = (time.perf_counter() - started) / len(call_logs)
        for offset, logs in enumerate(call_logs):
            if offset:
                callback_list.on_epoch_begin(epoch + offset)
                callback_list.on_train_batch_begin(0)
            for name, value in logs.items():
                history.setdefault(name, []).append(value)
            history.setdefault("seconds", []).append(seconds)
            callback_list.on_train_batch_end(steps_per_epoch - 1, dict(logs))
            callback_list.on_epoch_end(epoch + offset, logs)
        epoch += len(call_logs)
    callback_list.on_train_end(dict(logs))
    return history
