"""Checkpoints: a training run that survives being killed, and resumes where it was.

A trainer given ``checkpoint_dir=`` saves its whole training state into that folder
every ``checkpoint_every`` epochs (and at the end), and with ``checkpoint_steps=`` every
that many steps inside an epoch too, as a :class:`tf.train.Checkpoint` ``ckpt-N`` (the
run's ``N``-th save): TensorFlow writes its files to a temporary folder and renames them,
then seqkit atomically replaces the folder's ``checkpoint`` pointer (TensorFlow's state
file) and deletes the older ``ckpt-*`` files but one, so a crash at any moment leaves the
previous checkpoint valid. A checkpoint holds:

- every variable of the network (``model.variables``: weights, and the states of the
  Keras ``SeedGenerator`` s that drive dropout);
- every variable of the Adam optimizer (its step count ``iterations``, learning rate,
  and both moment slots of every weight);
- the recurrent state the driver carries (:attr:`~seqkit.engine.driver.Driver.state_variables`:
  a stateful network's ``layer.states``, or every replica's own stream state), so that a
  run resumed mid-stream (or with ``reset="never"``) carries its state across the restart;
- the position: the epochs completed, the steps done of the epoch under way and their
  summed record (loss sum, correct, count), and the history (loss and accuracy) so far;
- the SHA-256 of the run's fingerprint.

Shuffle plans are a pure function of ``(seed, epoch)``, a stateful trainer's plan does
not depend on the epoch and stream segments are the same every epoch, so the epoch and
the step are all that is needed to continue the data order (a ``tf.data`` stream skips
the steps done). Together these make a resumed run finish exactly as the uninterrupted
one would: with the same seed on the same machine, bit-identical final weights.

Beside the checkpoints, ``seqkit-checkpoint.json`` records the run's *fingerprint*:
the trainer, its hyperparameters (all but ``epochs`` — a run may be resumed to train
longer — and the checkpoint settings), the vocabulary and a digest of the corpus.
Resuming with anything else is refused with a message naming what differs.

The folder is trusted no further than needed: seqkit reads and writes the ``checkpoint``
pointer itself (:mod:`seqkit.io.pointer`: only ``ckpt-N`` of the folder, deleted by exact
name) and holds an exclusive lock while a run uses it (:mod:`seqkit.io.lock`). Every
``OSError`` and TensorFlow I/O error becomes a one-line :class:`~seqkit.errors.ModelFileError`.

>>> import pathlib, tempfile
>>> from seqkit import alphabet
>>> from seqkit.trainers import StatelessTrainer
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> _ = StatelessTrainer(window=3, units=4, epochs=2, checkpoint_dir=folder).fit(alphabet())
>>> latest_epoch(folder)
2
>>> model, history = StatelessTrainer(window=3, units=4, epochs=3, checkpoint_dir=folder).fit(
...     alphabet(), resume=True)
>>> history.epochs, latest_epoch(folder)
(3, 3)
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import json
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from seqkit.checks import check_int
from seqkit.fingerprint import differences, digest, fingerprint, run_fingerprint
from seqkit.engine.driver import Position
from seqkit.errors import ConfigurationError, ModelFileError
from seqkit.files import FileKind, check_path, one_line, printable, read_file_bytes, write_text_atomic
from seqkit.io.lock import LOCK_FILE, FolderLock
from seqkit.io.pointer import (
    MAX_POINTER_BYTES,
    POINTER_FILE,
    checkpoint_files,
    latest_number,
    pointer_text,
    remove_interrupted_saves,
)
from seqkit.version import __version__

FORMAT_NAME = "seqkit.checkpoint"
FORMAT_VERSION = 2
FINGERPRINT_FILE = "seqkit-checkpoint.json"
"""The JSON file beside the checkpoints that says which run they belong to."""

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
"""The per-epoch figures a checkpoint keeps, so that a resumed run's history is whole."""

MAX_TO_KEEP = 2
"""Checkpoints kept in the folder: the latest, and the one before it."""

MAX_FINGERPRINT_BYTES = 1024 * 1024
"""The largest ``seqkit-checkpoint.json`` read: 1 MiB."""

_FINGERPRINT_KIND = FileKind(
    "Checkpoint record", "a seqkit checkpoint record (JSON)", MAX_FINGERPRINT_BYTES, ModelFileError,
    "Delete the folder and train again.",
)
_FOLDER_KIND = FileKind("Checkpoint folder", "a folder", 0, ModelFileError, "")

__all__ = [
    "FINGERPRINT_FILE", "FORMAT_NAME", "FORMAT_VERSION", "LOCK_FILE", "MAX_FINGERPRINT_BYTES", "MAX_POINTER_BYTES",
    "MAX_TO_KEEP", "POINTER_FILE", "TrainingCheckpoint", "checkpoint_for", "fingerprint", "latest_epoch",
    "latest_position",
]


def latest_epoch(directory: str | os.PathLike[str]) -> int | None:
    """Epochs completed by the latest checkpoint in ``directory``, or None if it has none.

    Reads the folder's ``checkpoint`` pointer (validated: only ``ckpt-N`` of the folder)
    and the checkpoint's index, not its values (see :func:`latest_position`).
    """
    position = latest_position(directory)
    return None if position is None else position.epoch


def latest_position(directory: str | os.PathLike[str]) -> Position | None:
    """Where the latest checkpoint in ``directory`` is: the epochs completed and the steps done of
    the next one (its record left at zero); None if the folder has no checkpoint.

    Raises:
        ModelFileError: the pointer is corrupted, names anything but a ``ckpt-N`` of the
            folder, is missing while ``ckpt-*`` files are there, or the checkpoint is unreadable.
    """
    folder = check_path(directory, _FOLDER_KIND)
    number = latest_number(folder, f"Checkpoint folder '{printable(str(folder))}'")
    if number is None:
        return None
    return Position(_value_of(folder, number, "epoch"), _value_of(folder, number, "step"))


def _value_of(folder: Path, number: int, name: str) -> int:
    prefix = folder / f"ckpt-{number}"
    try:
        return int(tf.train.load_variable(os.fspath(prefix), f"{name}/.ATTRIBUTES/VARIABLE_VALUE"))
    except Exception as error:  # NotFoundError, DataLossError, ...: a foreign or broken file
        raise ModelFileError(
            f"Checkpoint '{printable(str(prefix))}' cannot be read ({one_line(error)}). Delete the folder "
            f"'{printable(str(folder))}' and train again."
        ) from None


class TrainingCheckpoint(keras.callbacks.Callback):
    """Save a training loop's whole state every ``every`` epochs; restore it to resume.

    Trainers create it when given ``checkpoint_dir``; it works with any
    :class:`~seqkit.engine.TrainingLoop`. Call :meth:`begin` once before training (it
    locks the folder, then restores the latest checkpoint or prepares an empty
    folder), then pass the callback to ``loop.fit(..., initial_epoch=...)``. The lock
    is released at the end of training or by :meth:`close`; ``with checkpoint:``
    releases it whatever happens.

    Args:
        directory: the checkpoint folder (created if missing).
        loop: the :class:`~seqkit.engine.TrainingLoop` whose model and optimizer to save.
        fingerprint: the run's :func:`fingerprint`.
        every: save after every ``every``-th epoch, and always after the last one.
            Defaults to 1.
        steps_per_epoch: the run's steps per epoch, which a restored position must be
            inside. Defaults to None: not checked.
    """

    def __init__(
        self, directory: str | os.PathLike[str], loop: Any, fingerprint: dict[str, Any], *, every: int = 1,
        steps_per_epoch: int | None = None,
    ) -> None:
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.directory = Path(directory)
        self.every = check_int("TrainingCheckpoint", "every", every)
        self.fingerprint = fingerprint
        self._fingerprint_sha = digest(fingerprint)
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self._step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self._record = tf.Variable(tf.zeros([3], tf.float64), trainable=False, name="record")
        self._history = tf.Variable("", dtype=tf.string, trainable=False, name="history")
        self._sha = tf.Variable("", dtype=tf.string, trainable=False, name="fingerprint_sha256")
        states = list(loop.state_variables)
        self._checkpoint = tf.train.Checkpoint(
            network=[variable.value for variable in loop.model.variables],
            optimizer=[variable.value for variable in loop.optimizer.variables],
            states=states,
            epoch=self._epoch,
            step=self._step,
            record=self._record,
            history=self._history,
            fingerprint_sha256=self._sha,
        )
        _ = self._checkpoint.save_counter  # created now, so that every checkpoint holds it (restore matches all)
        self._lock: FolderLock | None = None
        self._begun = False
        self.history: dict[str, list[float]] = {"loss": [], "accuracy": []}
        self._number = 0
        self._saved: tuple[int, int] = (0, 0)
        self.position = Position()
        """Where the restored checkpoint was (training continues there): the epochs completed, and the
        steps and summed record of the epoch under way; the start of epoch 0 for a new run."""

    @property
    def fingerprint_path(self) -> Path:
        """The run's ``seqkit-checkpoint.json``."""
        return self.directory / FINGERPRINT_FILE

    @property
    def lock_path(self) -> Path:
        """The folder's lock file (see :data:`LOCK_FILE`)."""
        return self.directory / LOCK_FILE

    @property
    def initial_epoch(self) -> int:
        """Epochs the restored checkpoint had completed (training continues in the next); 0 for a new run."""
        return self.position.epoch

    @property
    def resumed(self) -> bool:
        """Whether :meth:`begin` restored a checkpoint (training continues at :attr:`position`)."""
        return self.position.epoch > 0 or self.position.step > 0

    # Starting ----------------------------------------------------------------------
    def begin(self, *, resume: bool) -> int:
        """Lock the folder, then restore the latest checkpoint (``resume=True``) or start an empty folder.

        With ``resume=True`` and no checkpoint in the folder yet (a run killed before
        its first save), training starts from epoch 0. With ``resume=False`` a folder
        that already holds a checkpoint is refused, so that nothing is overwritten.
        The folder stays locked until :meth:`close` (called at the end of training,
        and by any error raised here).

        Returns:
            The epoch to start at: the number of epochs the checkpoint completed, or 0.

        Raises:
            ModelFileError: the folder is a file, cannot be created or locked, is in use by
                another run, its pointer is corrupted or names anything but its own
                ``ckpt-N``, it holds ``ckpt-*`` files without a pointer, or its checkpoint
                belongs to another run (another configuration, vocabulary or corpus) or
                is corrupted.
            ConfigurationError: ``resume=False`` and the folder holds a checkpoint.
        """
        self.directory = check_path(self.directory, _FOLDER_KIND)
        where = f"Checkpoint folder '{printable(str(self.directory))}'"
        if self.directory.exists() and not self.directory.is_dir():
            raise ModelFileError(f"{where} is a file; give a folder for the checkpoints (it is created if missing).")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ModelFileError(f"{where} cannot be created: {error.strerror or error}.") from None
        self._acquire_lock(where)
        try:
            self.position = self._start(where, resume=resume)
        except BaseException:
            self.close()
            raise
        self._begun = True
        return self.initial_epoch

    def _start(self, where: str, *, resume: bool) -> Position:
        latest = latest_number(self.directory, where)
        self._write(where, lambda: remove_interrupted_saves(self.directory))
        if latest is None:
            document = self._fingerprint_document()
            self._write(where, lambda: write_text_atomic(self.fingerprint_path, document, follow_symlinks=False))
            return Position()
        completed = _value_of(self.directory, latest, "epoch")
        if not resume:
            raise ConfigurationError(
                f"{where} already holds a checkpoint (epoch {completed}). Resume it with fit(..., resume=True) "
                "or seqkit train --resume, or give an empty folder."
            )
        self._check_fingerprint(where)
        prefix = os.fspath(self.directory / f"ckpt-{latest}")
        try:
            self._checkpoint.restore(prefix).assert_consumed()
        except Exception as error:  # DataLossError, shape mismatch (ValueError), AssertionError, ...
            raise ModelFileError(
                f"Checkpoint '{printable(prefix)}' cannot be restored ({one_line(error)}). Delete the folder "
                f"'{printable(str(self.directory))}' and train again."
            ) from None
        if self._sha.numpy().decode("utf-8", "replace") != self._fingerprint_sha:
            raise ModelFileError(
                f"Checkpoint '{printable(prefix)}' does not belong to {where}'s {FINGERPRINT_FILE} (its fingerprint "
                f"differs). Delete the folder '{printable(str(self.directory))}' and train again."
            )
        self.history = self._restored_history(prefix)
        position = Position(int(self._epoch.numpy()), int(self._step.numpy()), self._record.numpy().astype("float64"))
        steps = self.steps_per_epoch
        if min(position.epoch, position.step, position.record[2]) < 0 or not np.isfinite(position.record).all() or (
            steps is not None and position.step >= steps
        ):
            raise ModelFileError(
                f"Checkpoint '{printable(prefix)}' holds a corrupted position (epoch {position.epoch}, step "
                f"{position.step}). Delete the folder '{printable(str(self.directory))}' and train again."
            )
        self._number = latest
        self._saved = (position.epoch, position.step)
        return position

    def _acquire_lock(self, where: str) -> None:
        """Hold an exclusive ``flock`` on the folder's lock file, or refuse at once (a :class:`FolderLock`)."""
        lock = FolderLock(self.lock_path)
        lock.acquire(where)
        self._lock = lock

    def close(self) -> None:
        """Release the folder's lock (idempotent); no more saves. Training calls it at its end."""
        self._begun = False
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def __enter__(self) -> TrainingCheckpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _fingerprint_document(self) -> str:
        document = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "fingerprint": self.fingerprint,
            "written_by": {
                "seqkit": __version__,
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
            },
        }
        return json.dumps(document, ensure_ascii=False, indent=1) + "\n"

    def _check_fingerprint(self, where: str) -> None:
        file = self.fingerprint_path
        if not os.path.lexists(file):
            raise ModelFileError(
                f"{where} holds a checkpoint but no {FINGERPRINT_FILE}; it was not written by seqkit. "
                "Give the folder of a seqkit run, or an empty folder."
            )
        raw = read_file_bytes(file, _FINGERPRINT_KIND)
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            document = None
        if (
            not isinstance(document, dict)
            or document.get("format") != FORMAT_NAME
            or not isinstance(document.get("fingerprint"), dict)
        ):
            raise ModelFileError(
                f"{where}: {FINGERPRINT_FILE} is corrupted or not a seqkit checkpoint record. Delete the folder "
                f"'{printable(str(self.directory))}' and train again."
            )
        version = document.get("version")
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise ModelFileError(
                f"{where} was written with checkpoint format version {version!r}; this seqkit reads version "
                f"{FORMAT_VERSION}. Resume it with the seqkit that wrote it, or train again in an empty folder."
            )
        found = differences(document["fingerprint"], self.fingerprint)
        if found:
            shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
            raise ModelFileError(
                f"{where} was written by another training run: {shown}. Resume with the settings and data it "
                "was written with, or give another folder."
            )

    def _restored_history(self, latest: str) -> dict[str, list[float]]:
        try:
            history = json.loads(self._history.numpy().decode("utf-8"))
            restored = {}
            for key in ("loss", "accuracy", *(key for key in HISTORY_KEYS[2:] if key in history)):
                values = history[key]
                if not isinstance(values, list) or not all(
                    isinstance(value, float | int) and not isinstance(value, bool) for value in values
                ):
                    raise ValueError("not numbers")
                restored[key] = [float(value) for value in values]
            return restored
        except Exception:
            raise ModelFileError(
                f"Checkpoint '{printable(latest)}' holds a corrupted history. Delete the folder "
                f"'{printable(str(self.directory))}' and train again."
            ) from None

    # Saving ------------------------------------------------------------------------
    def save(self) -> str:
        """Write a checkpoint of the current state now; returns its path prefix.

        The files are written first (TensorFlow: a temporary folder, then a rename), then
        the pointer is replaced atomically, then the older ``ckpt-*`` files but
        ``MAX_TO_KEEP - 1`` are deleted by name. Checkpoint ``ckpt-N`` is the run's
        ``N``-th save (a resumed run goes on counting).

        Raises:
            ModelFileError: the folder is read-only, full or gone (the lock is released).
        """
        if not self._begun:
            raise ConfigurationError("TrainingCheckpoint.save needs begin() first (and no close() since).")
        position = self.position
        self._epoch.assign(position.epoch)
        self._step.assign(position.step)
        self._record.assign(np.asarray(position.record, dtype=np.float64))
        self._history.assign(json.dumps(self.history))
        self._sha.assign(self._fingerprint_sha)
        number = self._number + 1
        prefix = os.fspath(self.directory / f"ckpt-{number}")
        where = f"Checkpoint folder '{printable(str(self.directory))}'"

        def write() -> None:
            self._checkpoint.write(prefix)
            files = checkpoint_files(self.directory)
            kept = [*sorted(n for n in files if n < number)[-(MAX_TO_KEEP - 1):], number]
            write_text_atomic(self.directory / POINTER_FILE, pointer_text(number, kept), follow_symlinks=False)
            for other, names in files.items():
                if other not in kept:
                    for name in names:
                        os.unlink(self.directory / name)

        self._write(where, write)
        self._number = number
        self._saved = (position.epoch, position.step)
        return prefix

    def _write(self, where: str, action: Any) -> None:
        """Run ``action``; an OSError or a TensorFlow error becomes a one-line ModelFileError."""
        try:
            action()
        except (OSError, tf.errors.OpError) as error:
            self.close()
            reason = error.strerror if isinstance(error, OSError) and error.strerror else one_line(error)
            raise ModelFileError(
                f"{where} cannot be written ({reason}). Free some space or make it writable, then resume with "
                "fit(..., resume=True) or seqkit train --resume."
            ) from None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        done = len(self.history.get("loss", []))
        for key in HISTORY_KEYS:
            if key in logs or key in ("loss", "accuracy"):
                # a figure that starts after a resume (validation added) is NaN for the epochs before it
                values = self.history.setdefault(key, [float("nan")] * done)
                values.append(float(logs.get(key, float("nan"))))
        self.position = Position(epoch + 1)
        if (epoch + 1) % self.every == 0:
            self.save()

    def on_steps_end(self, position: Position) -> None:
        """Save inside an epoch (the driver calls it every ``every_steps`` steps): where the epoch is,
        and its summed record so far."""
        self.position = position
        self.save()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        try:
            if self._begun and (self.position.epoch, self.position.step) != self._saved:
                self.save()
        finally:
            self.close()


def checkpoint_for(
    *,
    trainer: str,
    hyperparameters: dict[str, Any],
    directory: str | os.PathLike[str],
    every: int,
    epochs: int,
    loop: Any,
    corpus: Any,
    vocabulary: Any,
    resume: bool,
    steps_per_epoch: int | None = None,
) -> TrainingCheckpoint:
    """The checkpoint callback of a trainer's run, begun (restored or fresh).

    ``Trainer.fit`` makes it when the trainer has a ``checkpoint_dir``; its ``position`` is
    where training continues. The folder is locked until training ends or
    :meth:`TrainingCheckpoint.close`: train inside ``with checkpoint:``. ``trainer`` and
    ``hyperparameters`` (``Trainer.hyperparameters()``), ``vocabulary`` and ``corpus`` (a
    ``Corpus`` or a ``TokenFile``) make the fingerprint; ``loop`` is the
    :class:`~seqkit.engine.driver.Driver` (``model``, ``optimizer``, ``state_variables``);
    ``every`` epochs between saves; ``epochs`` asked; ``steps_per_epoch`` bounds a restored
    position; ``resume`` continues from the latest checkpoint.

    Raises:
        ConfigurationError: the checkpoint is further along than the ``epochs`` asked.
        ModelFileError: see :meth:`TrainingCheckpoint.begin`.
    """
    record = run_fingerprint(trainer, hyperparameters, vocabulary, corpus)
    checkpoint = TrainingCheckpoint(directory, loop, record, every=int(every), steps_per_epoch=steps_per_epoch)
    checkpoint.begin(resume=resume)
    if checkpoint.initial_epoch > int(epochs):
        checkpoint.close()
        raise ConfigurationError(
            f"Checkpoint folder '{printable(str(checkpoint.directory))}' holds a checkpoint at epoch "
            f"{checkpoint.initial_epoch}, past the {epochs} epochs asked. Ask for at least {checkpoint.initial_epoch} "
            "epochs to resume it."
        )
    return checkpoint
