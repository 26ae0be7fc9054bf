"""Keras's own callbacks work with every seqkit trainer, as they do under ``model.fit``.

Each callback is checked with each trainer (the test name says the callback and
what it must do, the id in brackets the trainer). What every check relies on is
the driving contract of Keras ``fit`` (``keras/src/backend/tensorflow/trainer.py``
and ``keras/src/callbacks/``):

- callbacks are wrapped in ``keras.callbacks.CallbackList(callbacks, model=network,
  add_progbar=verbose != 0, verbose=verbose, epochs=epochs, steps=steps_per_epoch)``,
  so every callback gets ``params`` ``{"verbose", "epochs", "steps"}`` and ``model``;
- the network carries its optimizer as ``network.optimizer`` (as ``compile`` attaches
  it) and the compiled step reads the optimizer's learning-rate variable, so a
  callback that sets ``optimizer.learning_rate`` changes the next updates;
- per epoch: ``on_epoch_begin(epoch)`` before the epoch's steps, then one
  ``on_train_batch_begin(0)`` / ``on_train_batch_end(steps - 1, logs)`` per compiled
  call (the whole epoch here, as Keras does with ``steps_per_execution``), then
  ``on_epoch_end(epoch, logs)``; ``logs`` hold ``"loss"`` and ``"accuracy"``;
- ``network.stop_training`` set by a callback stops training after the current
  step chunk, and that epoch still ends with ``on_epoch_end`` and counts in the history.

Every training here is tiny: 26 letters, 8 units, two to five epochs. The TensorBoard
checks need the ``tensorboard`` package: ``tf.summary.scalar`` and ``histogram``, which
Keras's callback calls, raise ``TBNotInstalledError`` without it.
"""

from __future__ import annotations

import csv
import glob
import math
import os
import zipfile
from collections import defaultdict
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqkit
from seqkit.trainers import InBatchTrainer, StatefulTrainer, StatelessTrainer, StreamTrainer

LEARNING_RATE = 0.01

TRAINERS = {
    "stateless": lambda **kwargs: StatelessTrainer(window=3, units=8, batch_size=5, **kwargs),
    "in-batch": lambda **kwargs: InBatchTrainer(units=8, **kwargs),
    "stateful": lambda **kwargs: StatefulTrainer(units=8, **kwargs),
    "stream": lambda **kwargs: StreamTrainer(window=4, batch_size=2, units=8, embedding_dim=4, **kwargs),
}
KINDS = list(TRAINERS)

STEPS = {
    "stateless": 5,  # 23 windows of 3 letters, batches of 5: ceil(23 / 5)
    "in-batch": 1,  # the whole dataset as one batch
    "stateful": 25,  # 25 one-letter samples, batch 1
    "stream": 3,  # 2 streams of 13 letters, segments of 4: (13 - 1) // 4
}
"""Optimizer steps per epoch of each trainer on the alphabet: Keras's ``params["steps"]``."""

NAN_LEARNING_RATE = 1e300
"""Overflows Adam's float32 learning rate to inf: the first update makes the weights
inf/NaN, so every loss computed after it is NaN."""

FIRST_NAN_EPOCH = {"stateless": 0, "in-batch": 1, "stateful": 0, "stream": 0}
"""The first epoch whose mean loss is NaN: the in-batch epoch 0 has one step, scored
before its own update; every other trainer updates within epoch 0."""

KIND_PARAMS = [KINDS[0], *(pytest.param(kind, marks=pytest.mark.slow) for kind in KINDS[1:])]
each_trainer = pytest.mark.parametrize("kind", KIND_PARAMS)
"""Every callback with every trainer: the stateless one in the default suite, the other three
marked slow (about a minute together; CI runs them with ``pytest -m slow``)."""


def fit(kind: str, callbacks: list[keras.callbacks.Callback], *, epochs: int, **options: Any) -> Any:
    """Train ``kind`` on the alphabet for ``epochs`` with ``callbacks``; returns the history.

    ``options`` go to ``fit`` (``verbose``) except ``learning_rate``, a hyperparameter.
    """
    learning_rate = options.pop("learning_rate", LEARNING_RATE)
    trainer = TRAINERS[kind](epochs=epochs, learning_rate=learning_rate)
    _, history = trainer.fit(seqkit.alphabet(), callbacks=callbacks, **options)
    return history


def learning_rate_of(callback: keras.callbacks.Callback) -> float:
    """The learning rate of the optimizer the callback sees, now."""
    return float(keras.ops.convert_to_numpy(callback.model.optimizer.learning_rate))


class Recorder(keras.callbacks.Callback):
    """Records the training hooks Keras fit calls, with copies of their logs."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[Any, ...]] = []
        self.logs: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("train_batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("train_batch_end", batch))
        self.logs["train_batch_end"].append(dict(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch))
        self.logs["epoch_end"].append(dict(logs or {}))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))


# The driving contract, CSVLogger and ModelCheckpoint: observers sharing one fit -------------
@pytest.fixture(scope="module", params=KIND_PARAMS)
def observed(request, tmp_path_factory):
    """A three-epoch fit watched by callbacks that only observe (one fit per trainer keeps
    the file quick): a :class:`Recorder`, a CSVLogger, a weights checkpoint per epoch and
    a ``.keras`` checkpoint."""
    kind = request.param
    folder = tmp_path_factory.mktemp(f"observed-{kind}")
    recorder = Recorder()
    callbacks = [
        recorder,
        keras.callbacks.CSVLogger(str(folder / "training.csv")),
        keras.callbacks.ModelCheckpoint(str(folder / "weights-{epoch:02d}.weights.h5"), save_weights_only=True),
        keras.callbacks.ModelCheckpoint(str(folder / "model.keras")),
    ]
    history = fit(kind, callbacks, epochs=3)
    with open(folder / "training.csv", newline="") as file:
        rows = list(csv.reader(file))
    network = recorder.model
    return {
        "kind": kind,
        "recorder": recorder,
        "history": history,
        "folder": folder,
        "csv": rows,
        "network": network,
        "final": [np.array(weight) for weight in network.get_weights()],
    }


def test_callbacks_get_keras_fit_params(observed):
    params = observed["recorder"].params
    assert (params["epochs"], params["steps"]) == (3, STEPS[observed["kind"]])
    assert "verbose" in params


def test_callbacks_see_the_network_with_its_optimizer(observed):
    recorder = observed["recorder"]
    assert isinstance(recorder.model, keras.Model)
    assert isinstance(recorder.model.optimizer, keras.optimizers.Optimizer)


def test_hooks_run_in_keras_fit_order_one_batch_call_per_epoch(observed):
    last = STEPS[observed["kind"]] - 1
    expected = [("train_begin",)]
    for epoch in range(3):
        expected += [("epoch_begin", epoch), ("train_batch_begin", 0), ("train_batch_end", last), ("epoch_end", epoch)]
    assert observed["recorder"].events == [*expected, ("train_end",)]


def test_batch_end_logs_hold_the_epochs_running_loss_and_accuracy(observed):
    logs = observed["recorder"].logs
    assert len(logs["train_batch_end"]) == len(logs["epoch_end"]) == 3
    for batch_logs, epoch_logs in zip(logs["train_batch_end"], logs["epoch_end"], strict=True):
        assert batch_logs["loss"] == pytest.approx(epoch_logs["loss"], rel=1e-6)
        assert batch_logs["accuracy"] == pytest.approx(epoch_logs["accuracy"], rel=1e-6)


def test_epoch_end_logs_are_the_history(observed):
    logs, history = observed["recorder"].logs["epoch_end"], observed["history"]
    assert [entry["loss"] for entry in logs] == pytest.approx(history.loss, rel=1e-6)
    assert [entry["accuracy"] for entry in logs] == pytest.approx(history.accuracy, rel=1e-6)


def test_csv_logger_header_has_epoch_loss_and_accuracy(observed):
    header = observed["csv"][0]
    assert header[0] == "epoch"
    assert {"loss", "accuracy"} <= set(header)


def test_csv_logger_writes_one_row_per_epoch(observed):
    header, *body = observed["csv"]
    table = [dict(zip(header, row, strict=True)) for row in body]
    history = observed["history"]
    assert [int(row["epoch"]) for row in table] == [0, 1, 2]
    assert [float(row["loss"]) for row in table] == pytest.approx(history.loss, rel=1e-6)
    assert [float(row["accuracy"]) for row in table] == pytest.approx(history.accuracy, rel=1e-6)


def test_model_checkpoint_writes_weights_each_epoch(observed):
    written = sorted(name for name in os.listdir(observed["folder"]) if name.endswith(".weights.h5"))
    assert written == ["weights-01.weights.h5", "weights-02.weights.h5", "weights-03.weights.h5"]


def test_model_checkpoint_weights_load_into_the_network(observed):
    network = observed["network"]
    network.set_weights([np.zeros_like(weight) for weight in observed["final"]])
    network.load_weights(str(observed["folder"] / "weights-03.weights.h5"))
    for loaded, final in zip(network.get_weights(), observed["final"], strict=True):
        np.testing.assert_array_equal(loaded, final)


def test_model_checkpoint_writes_a_keras_model_file(observed):
    path = observed["folder"] / "model.keras"
    assert zipfile.is_zipfile(path)
    loaded = keras.models.load_model(str(path), compile=False)
    for weight, final in zip(loaded.get_weights(), observed["final"], strict=True):
        np.testing.assert_array_equal(weight, final)


# ReduceLROnPlateau ------------------------------------------------------------------------
@each_trainer
def test_reduce_lr_on_plateau_halves_the_optimizers_learning_rate(kind):
    # No epoch improves by 1e9: epoch 0 sets the best, epoch 1 halves the rate.
    reduce = keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_delta=1e9)
    fit(kind, [reduce], epochs=2)
    assert learning_rate_of(reduce) == pytest.approx(LEARNING_RATE / 2, rel=1e-6)


# LearningRateScheduler --------------------------------------------------------------------
SCHEDULE = [0.0, LEARNING_RATE / 2, LEARNING_RATE / 4]
"""The scheduled rate of epochs 0, 1, 2: a rate of 0 makes Adam's updates exactly zero."""


class RatesAndWeights(keras.callbacks.Callback):
    """Records ``logs["learning_rate"]`` (LearningRateScheduler adds it at epoch end)
    and the weights at the start and after every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: list[float | None] = []
        self.weights: list[list[np.ndarray]] = []

    def on_train_begin(self, logs=None):
        self.weights.append([np.array(weight) for weight in self.model.get_weights()])

    def on_epoch_end(self, epoch, logs=None):
        self.rates.append((logs or {}).get("learning_rate"))
        self.weights.append([np.array(weight) for weight in self.model.get_weights()])


@pytest.fixture(scope="module", params=KIND_PARAMS)
def scheduled(request):
    """A three-epoch fit under ``LearningRateScheduler`` following :data:`SCHEDULE`."""
    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch, rate: SCHEDULE[epoch])
    watcher = RatesAndWeights()  # after the scheduler: sees the logs it writes to
    fit(request.param, [scheduler, watcher], epochs=3)
    return scheduler, watcher


def test_learning_rate_scheduler_sets_each_epochs_rate(scheduled):
    scheduler, watcher = scheduled
    assert watcher.rates == pytest.approx(SCHEDULE, rel=1e-6)
    assert learning_rate_of(scheduler) == pytest.approx(SCHEDULE[-1], rel=1e-6)


def test_scheduled_learning_rate_drives_the_updates(scheduled):
    # Epoch 0 runs at rate 0: its updates leave every weight as it was; epoch 1 runs
    # at a rate above 0 again, and the weights move.
    _, watcher = scheduled
    start, after_epoch_0, after_epoch_1 = watcher.weights[:3]
    assert len(start) == len(after_epoch_0) > 0
    for before, now in zip(start, after_epoch_0, strict=True):
        np.testing.assert_array_equal(now, before)
    assert any(not np.array_equal(now, before) for before, now in zip(after_epoch_0, after_epoch_1, strict=True))


# TensorBoard (needs the tensorboard package: tf.summary.scalar/histogram live there) -----
@pytest.fixture(scope="module", params=KIND_PARAMS)
def tensorboard_run(request, tmp_path_factory):
    """A two-epoch fit with Keras's TensorBoard; the train event file's summaries by tag."""
    log_dir = tmp_path_factory.mktemp(f"tensorboard-{request.param}")
    board = keras.callbacks.TensorBoard(log_dir=str(log_dir), histogram_freq=1, write_graph=True)
    history = fit(request.param, [board], epochs=2)
    values: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    plugins: dict[str, str] = {}
    files = glob.glob(os.path.join(log_dir, "train", "events.out.tfevents.*"))
    assert files, f"no train event file under {log_dir}"
    for path in files:
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                values[value.tag][event.step] = tf.make_ndarray(value.tensor)
                if value.metadata.plugin_data.plugin_name:
                    plugins[value.tag] = value.metadata.plugin_data.plugin_name
    return {"values": values, "plugins": plugins, "network": board.model, "history": history}


def test_tensorboard_writes_epoch_loss_scalars(tensorboard_run):
    loss = tensorboard_run["values"]["epoch_loss"]
    assert sorted(loss) == [0, 1]
    assert [float(loss[step]) for step in (0, 1)] == pytest.approx(tensorboard_run["history"].loss, rel=1e-6)
    assert tensorboard_run["plugins"]["epoch_loss"] == "scalars"


def test_tensorboard_writes_the_learning_rate_of_model_optimizer(tensorboard_run):
    rate = tensorboard_run["values"]["epoch_learning_rate"]
    assert {step: float(value) for step, value in rate.items()} == pytest.approx({0: LEARNING_RATE, 1: LEARNING_RATE})


def test_tensorboard_writes_a_histogram_of_every_weight_each_epoch(tensorboard_run):
    # Keras's TensorBoard._log_weights: tag "<weight.path with ':' as '_'>/histogram".
    network = tensorboard_run["network"]
    expected = {
        f"{weight.path.replace(':', '_')}/histogram" for layer in network.layers for weight in layer.weights
    }
    histograms = {tag for tag, plugin in tensorboard_run["plugins"].items() if plugin == "histograms"}
    assert expected and histograms == expected
    for tag in expected:
        assert sorted(tensorboard_run["values"][tag]) == [0, 1], tag


def test_tensorboard_write_graph_writes_the_keras_model(tensorboard_run):
    assert tensorboard_run["plugins"]["keras"] == "graph_keras_model"
    assert sorted(tensorboard_run["values"]["keras"]) == [0]


# ProgbarLogger ----------------------------------------------------------------------------
@each_trainer
def test_verbose_1_shows_keras_progress_bar(kind, capsys):
    fit(kind, [], epochs=3, verbose=1)
    out = capsys.readouterr().out
    assert [out.count(f"Epoch {epoch}/3") for epoch in (1, 2, 3)] == [1, 1, 1]
    assert f"{STEPS[kind]}/{STEPS[kind]}" in out


@each_trainer
def test_progbar_logger_given_as_callback_is_the_one_used(kind, capsys):
    # Keras's ProgbarLogger follows params["verbose"]; with verbose=2 it prints one
    # line per epoch, and fit adds no second progress bar beside it.
    progbar = keras.callbacks.ProgbarLogger()
    fit(kind, [progbar], epochs=3, verbose=2)
    out = capsys.readouterr().out
    assert [out.count(f"Epoch {epoch}/3") for epoch in (1, 2, 3)] == [1, 1, 1]
    assert out.count(f"{STEPS[kind]}/{STEPS[kind]} - ") == 3
    assert (progbar.epochs, progbar.target) == (3, STEPS[kind])


# EarlyStopping ----------------------------------------------------------------------------
@each_trainer
def test_early_stopping_stops_training(kind):
    # No epoch improves by 1e9: epoch 0 sets the best, epoch 1 stops (patience 0).
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    history = fit(kind, [stop], epochs=5)
    assert history.epochs == 2
    assert stop.stopped_epoch == 1


# TerminateOnNaN ---------------------------------------------------------------------------
@each_trainer
def test_terminate_on_nan_stops_at_the_first_nan_epoch(kind, capsys):
    history = fit(kind, [keras.callbacks.TerminateOnNaN()], epochs=4, learning_rate=NAN_LEARNING_RATE)
    # Keras still ends the NaN epoch (on_epoch_end, history) before it stops.
    assert history.epochs == FIRST_NAN_EPOCH[kind] + 1
    assert math.isnan(history.loss[-1])
    assert all(math.isfinite(loss) for loss in history.loss[:-1])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
