"""Checkpoints: a training run that survives being killed, and resumes where it was.

A trainer given ``checkpoint_dir=`` saves its whole training state into that folder
every ``checkpoint_every`` epochs (and at the end), with TensorFlow's own means —
:class:`tf.train.Checkpoint` and :class:`tf.train.CheckpointManager`, which write the
files first and then atomically switch the folder's ``checkpoint`` pointer, so a crash
at any moment leaves the previous checkpoint valid. A checkpoint holds:

- every variable of the network (``model.variables``: weights, and the states of the
  Keras ``SeedGenerator`` s that drive dropout);
- every variable of the Adam optimizer (its step count ``iterations``, learning rate,
  and both moment slots of every weight);
- the recurrent state variables of a stateful network (``layer.states``), listed
  explicitly so that a ``reset="never"`` run carries its state across the restart;
- the number of epochs completed and the history (loss and accuracy) so far;
- the SHA-256 of the run's fingerprint.

Shuffle plans are a pure function of ``(seed, epoch)`` and a stateful trainer's plan
does not depend on the epoch, so the epoch number is all that is needed to continue
the data order. Together these make a resumed run finish exactly as the uninterrupted
one would: with the same seed on the same machine, bit-identical final weights.

Beside the checkpoints, ``seqkit-checkpoint.json`` records the run's *fingerprint*:
the trainer, its hyperparameters (all but ``epochs`` — a run may be resumed to train
longer — and the checkpoint settings), the vocabulary and a digest of the corpus.
Resuming with anything else is refused with a message naming what differs.

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

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from seqkit.checks import check_int
from seqkit.errors import ConfigurationError, ModelFileError
from seqkit.files import one_line, write_text_atomic
from seqkit.version import __version__

FORMAT_NAME = "seqkit.checkpoint"
FORMAT_VERSION = 1
FINGERPRINT_FILE = "seqkit-checkpoint.json"
"""The JSON file beside the checkpoints that says which run they belong to."""

MAX_TO_KEEP = 2
"""Checkpoints kept in the folder: the latest, and the one before it."""

_NOT_COMPARED = ("epochs", "checkpoint_dir", "checkpoint_every")
"""Hyperparameters that may change between a run and its resumption."""

_MAX_FINGERPRINT_BYTES = 1024 * 1024

__all__ = [
    "FINGERPRINT_FILE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TrainingCheckpoint",
    "checkpoint_for",
    "fingerprint",
    "latest_epoch",
]


def _digest(document: Any) -> str:
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(
    trainer: str,
    hyperparameters: dict[str, Any],
    vocabulary_tokens: Sequence[str],
    unknown_token: str | None,
    sequences: Sequence[Sequence[str]],
    level: str,
) -> dict[str, Any]:
    """What a checkpoint must agree with to be resumed: configuration, vocabulary, corpus.

    Args:
        trainer: the trainer's class name.
        hyperparameters: JSON-ready hyperparameters; ``epochs`` and the checkpoint
            settings are left out.
        vocabulary_tokens: the vocabulary's tokens in id order.
        unknown_token: the vocabulary's unknown token, or None.
        sequences: the corpus's token sequences.
        level: the corpus's level, ``"char"`` or ``"word"``.

    Returns:
        A JSON-ready dict; two runs may share a checkpoint only if theirs are equal.

    >>> a = fingerprint("StatelessTrainer", {"units": 8, "epochs": 5}, ["A", "B"], None, [["A", "B"]], "char")
    >>> b = fingerprint("StatelessTrainer", {"units": 8, "epochs": 9}, ["A", "B"], None, [["A", "B"]], "char")
    >>> a == b, sorted(a)
    (True, ['corpus', 'hyperparameters', 'trainer', 'vocabulary'])
    """
    return {
        "trainer": trainer,
        "hyperparameters": {
            name: value for name, value in sorted(hyperparameters.items()) if name not in _NOT_COMPARED
        },
        "vocabulary": {
            "size": len(vocabulary_tokens),
            "sha256": _digest([list(vocabulary_tokens), unknown_token]),
        },
        "corpus": {
            "level": level,
            "tokens": sum(len(sequence) for sequence in sequences),
            "sha256": _digest([list(sequence) for sequence in sequences]),
        },
    }


def latest_epoch(directory: str | os.PathLike[str]) -> int | None:
    """Epochs completed by the latest checkpoint in ``directory``, or None if it has none.

    Reads only the checkpoint's index, not its values.
    """
    path = tf.train.latest_checkpoint(os.fspath(directory))
    if path is None:
        return None
    try:
        return int(tf.train.load_variable(path, "epoch/.ATTRIBUTES/VARIABLE_VALUE"))
    except Exception as error:  # NotFoundError, DataLossError, ...: a foreign or broken file
        raise ModelFileError(
            f"Checkpoint '{path}' cannot be read ({one_line(error)}). Delete the folder "
            f"'{directory}' and train again."
        ) from None


def _differences(saved: Any, current: Any, prefix: str = "") -> list[str]:
    """Human-readable differences between two fingerprints, e.g. ``'units' is 8 there and 16 here``."""
    if isinstance(saved, dict) and isinstance(current, dict):
        found: list[str] = []
        for key in sorted(set(saved) | set(current), key=str):
            label = f"{prefix}.{key}" if prefix and prefix != "hyperparameters" else str(key)
            if key not in saved:
                found.append(f"'{label}' is not set there and is {current[key]!r} here")
            elif key not in current:
                found.append(f"'{label}' is {saved[key]!r} there and not set here")
            else:
                found.extend(_differences(saved[key], current[key], label))
        return found
    if saved != current:
        if prefix.endswith("sha256"):
            return [f"the {prefix.split('.')[0]} differs"]
        return [f"'{prefix}' is {saved!r} there and {current!r} here"]
    return []


class TrainingCheckpoint(keras.callbacks.Callback):
    """Save a training loop's whole state every ``every`` epochs; restore it to resume.

    Trainers create it when given ``checkpoint_dir``; it works with any
    :class:`~seqkit.engine.TrainingLoop`. Call :meth:`begin` once before training (it
    restores the latest checkpoint or prepares an empty folder), then pass the
    callback to ``loop.fit(..., initial_epoch=...)``.

    Args:
        directory: the checkpoint folder (created if missing).
        loop: the :class:`~seqkit.engine.TrainingLoop` whose model and optimizer to save.
        fingerprint: the run's :func:`fingerprint`.
        every: save after every ``every``-th epoch, and always after the last one.
            Defaults to 1.
    """

    def __init__(self, directory: str | os.PathLike[str], loop: Any, fingerprint: dict[str, Any], *, every: int = 1) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.every = check_int("TrainingCheckpoint", "every", every)
        self.fingerprint = fingerprint
        self._fingerprint_sha = _digest(fingerprint)
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self._history = tf.Variable("", dtype=tf.string, trainable=False, name="history")
        self._sha = tf.Variable("", dtype=tf.string, trainable=False, name="fingerprint_sha256")
        states = list(loop.state_variables)
        self._checkpoint = tf.train.Checkpoint(
            network=[variable.value for variable in loop.model.variables],
            optimizer=[variable.value for variable in loop.optimizer.variables],
            states=[state.value for state in states],
            epoch=self._epoch,
            history=self._history,
            fingerprint_sha256=self._sha,
        )
        self._manager: tf.train.CheckpointManager | None = None
        self.history: dict[str, list[float]] = {"loss": [], "accuracy": []}
        self._saved_epoch = 0
        self._completed = 0
        self.initial_epoch = 0

    @property
    def fingerprint_path(self) -> Path:
        """The run's ``seqkit-checkpoint.json``."""
        return self.directory / FINGERPRINT_FILE

    # Starting ----------------------------------------------------------------------
    def begin(self, *, resume: bool) -> int:
        """Restore the latest checkpoint (``resume=True``) or start an empty folder.

        With ``resume=True`` and no checkpoint in the folder yet (a run killed before
        its first save), training starts from epoch 0. With ``resume=False`` a folder
        that already holds a checkpoint is refused, so that nothing is overwritten.

        Returns:
            The epoch to start at: the number of epochs the checkpoint completed, or 0.

        Raises:
            ModelFileError: the folder is a file, its checkpoint belongs to another
                run (another configuration, vocabulary or corpus), or is corrupted.
            ConfigurationError: ``resume=False`` and the folder holds a checkpoint.
        """
        where = f"Checkpoint folder '{self.directory}'"
        if self.directory.exists() and not self.directory.is_dir():
            raise ModelFileError(f"{where} is a file; give a folder for the checkpoints (it is created if missing).")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ModelFileError(f"{where} cannot be created: {error.strerror or error}.") from None
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, os.fspath(self.directory), max_to_keep=MAX_TO_KEEP, checkpoint_name="ckpt"
        )
        latest = self._manager.latest_checkpoint
        if latest is None:
            write_text_atomic(self.fingerprint_path, self._fingerprint_document())
            return 0
        completed = latest_epoch(self.directory)
        if not resume:
            raise ConfigurationError(
                f"{where} already holds a checkpoint (epoch {completed}). Resume it with fit(..., resume=True) "
                "or seqkit train --resume, or give an empty folder."
            )
        self._check_fingerprint(where)
        try:
            self._checkpoint.restore(latest).assert_consumed()
        except Exception as error:  # DataLossError, shape mismatch (ValueError), AssertionError, ...
            raise ModelFileError(
                f"Checkpoint '{latest}' cannot be restored ({one_line(error)}). Delete the folder "
                f"'{self.directory}' and train again."
            ) from None
        if self._sha.numpy().decode("utf-8", "replace") != self._fingerprint_sha:
            raise ModelFileError(
                f"Checkpoint '{latest}' does not belong to {where}'s {FINGERPRINT_FILE} (its fingerprint differs). "
                f"Delete the folder '{self.directory}' and train again."
            )
        self.history = self._restored_history(latest)
        self._saved_epoch = self._completed = int(self._epoch.numpy())
        return self._completed

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
        try:
            raw = file.read_bytes()[: _MAX_FINGERPRINT_BYTES + 1]
        except FileNotFoundError:
            raise ModelFileError(
                f"{where} holds a checkpoint but no {FINGERPRINT_FILE}; it was not written by seqkit. "
                "Give the folder of a seqkit run, or an empty folder."
            ) from None
        except OSError as error:
            raise ModelFileError(f"{where}: {FINGERPRINT_FILE} cannot be read: {error.strerror or error}.") from None
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
                f"'{self.directory}' and train again."
            )
        version = document.get("version")
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise ModelFileError(
                f"{where} was written with checkpoint format version {version!r}; this seqkit reads version "
                f"{FORMAT_VERSION}. Resume it with the seqkit that wrote it, or train again in an empty folder."
            )
        differences = _differences(document["fingerprint"], self.fingerprint)
        if differences:
            shown = "; ".join(differences[:3]) + (f"; and {len(differences) - 3} more" if len(differences) > 3 else "")
            raise ModelFileError(
                f"{where} was written by another training run: {shown}. Resume with the settings and data it "
                "was written with, or give another folder."
            )

    def _restored_history(self, latest: str) -> dict[str, list[float]]:
        try:
            history = json.loads(self._history.numpy().decode("utf-8"))
            loss, accuracy = history["loss"], history["accuracy"]
            if not all(isinstance(value, float | int) for value in [*loss, *accuracy]):
                raise ValueError("not numbers")
            return {"loss": [float(value) for value in loss], "accuracy": [float(value) for value in accuracy]}
        except Exception:
            raise ModelFileError(
                f"Checkpoint '{latest}' holds a corrupted history. Delete the folder '{self.directory}' and train again."
            ) from None

    # Saving ------------------------------------------------------------------------
    def save(self) -> str:
        """Write a checkpoint of the current state now; returns its path prefix."""
        if self._manager is None:
            raise ConfigurationError("TrainingCheckpoint.save needs begin() first.")
        self._epoch.assign(self._completed)
        self._history.assign(json.dumps(self.history))
        self._sha.assign(self._fingerprint_sha)
        path = self._manager.save(checkpoint_number=self._completed)
        self._saved_epoch = self._completed
        return path

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        self.history["loss"].append(float(logs.get("loss", float("nan"))))
        self.history["accuracy"].append(float(logs.get("accuracy", float("nan"))))
        self._completed = epoch + 1
        if self._completed % self.every == 0:
            self.save()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self._manager is not None and self._completed != self._saved_epoch:
            self.save()


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
) -> TrainingCheckpoint:
    """The checkpoint callback of a trainer's run, begun (restored or fresh).

    Used by ``Trainer.fit`` when the trainer has a ``checkpoint_dir``; its
    ``initial_epoch`` is where training continues.

    Args:
        trainer: the trainer's class name.
        hyperparameters: its JSON-ready hyperparameters (``Trainer.hyperparameters()``).
        directory: the checkpoint folder.
        every: save every this many epochs.
        epochs: the epochs asked for.
        loop: the :class:`~seqkit.engine.TrainingLoop` (``model``, ``optimizer``,
            ``state_variables``).
        corpus: the training :class:`~seqkit.datasets.Corpus`.
        vocabulary: its :class:`~seqkit.vocab.Vocabulary`.
        resume: continue from the latest checkpoint.

    Raises:
        ConfigurationError: the checkpoint is further along than the ``epochs`` asked.
        ModelFileError: see :meth:`TrainingCheckpoint.begin`.
    """
    record = fingerprint(
        trainer, hyperparameters, vocabulary.tokens, vocabulary.unknown_token, corpus.sequences, corpus.level
    )
    checkpoint = TrainingCheckpoint(directory, loop, record, every=int(every))
    checkpoint.initial_epoch = checkpoint.begin(resume=resume)
    if checkpoint.initial_epoch > int(epochs):
        raise ConfigurationError(
            f"Checkpoint folder '{checkpoint.directory}' holds a checkpoint at epoch {checkpoint.initial_epoch}, "
            f"past the {epochs} epochs asked. Ask for at least {checkpoint.initial_epoch} epochs to resume it."
        )
    return checkpoint
