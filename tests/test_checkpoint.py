"""Checkpoints and resume: an interrupted run finishes exactly as the uninterrupted one.

The fault test kills a training process with SIGKILL at random moments, several
times in a row, resuming each time, and checks that the final weights equal those
of an uninterrupted run with the same seed, bit for bit.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqkit
from seqkit.checkpoint import FINGERPRINT_FILE, LOCK_FILE, checkpoint_for, latest_epoch
from seqkit.datasets import Corpus
from seqkit.errors import ConfigurationError, ModelFileError
from seqkit.io.pointer import read_pointer
from seqkit.trainers import StatefulTrainer, StatelessTrainer

TINY = dict(window=3, units=4, batch_size=4)


def weights(model: seqkit.SequenceModel) -> list[np.ndarray]:
    return model.network.get_weights()


def assert_same_weights(first: list[np.ndarray], second: list[np.ndarray]) -> None:
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the checkpoint of a completed 2-epoch stateless run."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    StatelessTrainer(**TINY, epochs=2, checkpoint_dir=folder).fit(seqkit.alphabet())
    return folder


# Resuming gives the uninterrupted run ------------------------------------------------
@pytest.mark.slow
def test_stateful_run_resumed_twice_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    """reset='never' carries the LSTM state across epochs: the checkpoint must carry it too."""

    def trainer(epochs: int, **kwargs: object) -> StatefulTrainer:
        return StatefulTrainer(units=6, batch_size=5, reset="never", epochs=epochs, **kwargs)

    whole, whole_history = trainer(9).fit(seqkit.alphabet())
    trainer(3, checkpoint_dir=tmp_path).fit(seqkit.alphabet())
    trainer(6, checkpoint_dir=tmp_path).fit(seqkit.alphabet(), resume=True)
    resumed, history = trainer(9, checkpoint_dir=tmp_path).fit(seqkit.alphabet(), resume=True)
    assert_same_weights(weights(resumed), weights(whole))
    assert history.loss == whole_history.loss and history.accuracy == whole_history.accuracy
    assert history.epochs == 9 and history.steps == whole_history.steps


@pytest.mark.slow
def test_dropout_run_resumed_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    """Dropout masks come from Keras SeedGenerator variables, which are part of model.variables."""

    def trainer(epochs: int, **kwargs: object) -> StatelessTrainer:
        return StatelessTrainer(**TINY, dropout=0.3, epochs=epochs, **kwargs)

    whole, _ = trainer(5).fit(seqkit.alphabet())
    trainer(2, checkpoint_dir=tmp_path).fit(seqkit.alphabet())
    resumed, _ = trainer(5, checkpoint_dir=tmp_path).fit(seqkit.alphabet(), resume=True)
    assert_same_weights(weights(resumed), weights(whole))


def test_resuming_a_finished_run_trains_no_more(finished: Path) -> None:
    model, history = StatelessTrainer(**TINY, epochs=2, checkpoint_dir=finished).fit(seqkit.alphabet(), resume=True)
    assert history.epochs == 2 and latest_epoch(finished) == 2


def test_resume_without_a_checkpoint_starts_from_epoch_zero(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "run"
    _, history = StatelessTrainer(**TINY, epochs=2, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    assert history.epochs == 2 and latest_epoch(folder) == 2


# What is written ---------------------------------------------------------------------
def test_folder_holds_two_checkpoints_and_the_fingerprint(finished: Path) -> None:
    names = sorted(path.name for path in finished.iterdir())
    assert names == [
        "checkpoint",
        "ckpt-1.data-00000-of-00001",
        "ckpt-1.index",
        "ckpt-2.data-00000-of-00001",
        "ckpt-2.index",
        FINGERPRINT_FILE,
        LOCK_FILE,
    ]
    assert (finished / "checkpoint").read_text() == (
        'model_checkpoint_path: "ckpt-2"\nall_model_checkpoint_paths: "ckpt-1"\nall_model_checkpoint_paths: "ckpt-2"\n'
    )
    assert tf.train.latest_checkpoint(str(finished)) == str(finished / "ckpt-2")  # TensorFlow reads it too
    record = json.loads((finished / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    assert record["format"] == "seqkit.checkpoint" and record["version"] == 2
    assert record["fingerprint"]["trainer"] == "StatelessTrainer"
    assert "epochs" not in record["fingerprint"]["hyperparameters"]
    assert record["fingerprint"]["hyperparameters"]["units"] == 4
    assert set(record["written_by"]) == {"seqkit", "tensorflow", "keras"}


def test_checkpoint_every_k_epochs_and_after_the_last(tmp_path: Path) -> None:
    seen: list[int] = []
    from seqkit.callbacks import EpochEnd

    def record(epoch: int, logs: dict[str, float]) -> None:
        seen.append(latest_epoch(tmp_path) or 0)

    StatelessTrainer(**TINY, epochs=5, checkpoint_dir=tmp_path, checkpoint_every=2).fit(
        seqkit.alphabet(), callbacks=[EpochEnd(record)]
    )
    # EpochEnd runs before the checkpoint callback: it sees the previous save
    assert seen == [0, 0, 2, 2, 4] and latest_epoch(tmp_path) == 5


def test_checkpoint_settings_are_not_hyperparameters(tmp_path: Path) -> None:
    trainer = StatelessTrainer(units=4, checkpoint_dir=tmp_path, checkpoint_every=3)
    assert "checkpoint_dir" not in trainer.hyperparameters() and "checkpoint_every" not in trainer.hyperparameters()


# Refusals ----------------------------------------------------------------------------
def test_a_folder_holding_a_checkpoint_is_not_overwritten(finished: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        StatelessTrainer(**TINY, epochs=2, checkpoint_dir=finished).fit(seqkit.alphabet())
    assert str(caught.value) == (
        f"Checkpoint folder '{finished}' already holds a checkpoint (epoch 2). Resume it with "
        "fit(..., resume=True) or seqkit train --resume, or give an empty folder."
    )


@pytest.mark.parametrize(
    ("change", "difference"),
    [
        (dict(units=5), "'units' is 4 there and 5 here"),
        (dict(seed=8), "'seed' is 7 there and 8 here"),
        (dict(corpus=Corpus.from_sequences(["ABCDEFGHIJKLM", "NOPQRSTUVWXYZ"])), "the corpus differs"),
        (dict(corpus=Corpus.from_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ!")),
         "the corpus differs; 'corpus.tokens' is 26 there and 27 here; the vocabulary differs; and 1 more"),
    ],
    ids=["units", "seed", "corpus", "vocabulary"],
)
def test_another_configuration_is_refused(finished: Path, change: dict[str, object], difference: str) -> None:
    corpus = change.pop("corpus", seqkit.alphabet())
    settings = {**TINY, "epochs": 3, **change}
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**settings, checkpoint_dir=finished).fit(corpus, resume=True)
    assert str(caught.value) == (
        f"Checkpoint folder '{finished}' was written by another training run: {difference}. Resume with the "
        "settings and data it was written with, or give another folder."
    )


def test_another_trainer_is_refused(finished: Path) -> None:
    with pytest.raises(ModelFileError, match=r"'trainer' is 'StatelessTrainer' there and 'StatefulTrainer' here"):
        StatefulTrainer(units=4, batch_size=4, window=3, epochs=3, checkpoint_dir=finished).fit(
            seqkit.alphabet(), resume=True
        )


def test_fewer_epochs_than_the_checkpoint_are_refused(finished: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        StatelessTrainer(**TINY, epochs=1, checkpoint_dir=finished).fit(seqkit.alphabet(), resume=True)
    assert str(caught.value) == (
        f"Checkpoint folder '{finished}' holds a checkpoint at epoch 2, past the 1 epochs asked. "
        "Ask for at least 2 epochs to resume it."
    )


def test_a_file_is_refused_as_a_checkpoint_folder(tmp_path: Path) -> None:
    file = tmp_path / "run"
    file.write_text("not a folder")
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=1, checkpoint_dir=file).fit(seqkit.alphabet())
    assert str(caught.value) == (
        f"Checkpoint folder '{file}' is a file; give a folder for the checkpoints (it is created if missing)."
    )


def copy_of(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def test_a_missing_fingerprint_is_refused(finished: Path, tmp_path: Path) -> None:
    folder = copy_of(finished, tmp_path)
    (folder / FINGERPRINT_FILE).unlink()
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=2, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    assert str(caught.value) == (
        f"Checkpoint folder '{folder}' holds a checkpoint but no {FINGERPRINT_FILE}; it was not written by seqkit. "
        "Give the folder of a seqkit run, or an empty folder."
    )


def test_a_corrupted_fingerprint_is_refused(finished: Path, tmp_path: Path) -> None:
    folder = copy_of(finished, tmp_path)
    (folder / FINGERPRINT_FILE).write_text("[1, 2")
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=2, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    assert str(caught.value) == (
        f"Checkpoint folder '{folder}': {FINGERPRINT_FILE} is corrupted or not a seqkit checkpoint record. "
        f"Delete the folder '{folder}' and train again."
    )


def test_corrupted_checkpoint_data_is_refused(finished: Path, tmp_path: Path) -> None:
    folder = copy_of(finished, tmp_path)
    data = folder / "ckpt-2.data-00000-of-00001"
    data.write_bytes(bytes(byte ^ 0xFF for byte in data.read_bytes()))
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=2, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    message = str(caught.value)
    assert message.startswith(f"Checkpoint '{folder / 'ckpt-2'}' cannot be read (")
    assert message.endswith(f"). Delete the folder '{folder}' and train again.") and "\n" not in message


# The folder is trusted no further than needed (issue 14) -----------------------------
def outside_files(tmp_path: Path) -> dict[Path, bytes]:
    """Checkpoint-like files in a sibling folder, which nothing may read or delete."""
    victim = tmp_path / "victim"
    victim.mkdir()
    files = {
        victim / "weights.index": b"keep me",
        victim / "weights.data-00000-of-00001": b"keep me too",
        victim / "ckpt-1.index": b"and me",
        victim / "ckpt-1.data-00000-of-00001": b"and me as well",
    }
    for path, data in files.items():
        path.write_bytes(data)
    return files


def pointer_of(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        ('all_model_checkpoint_paths: "{victim}/*"', '"{victim}/*"'),
        ('all_model_checkpoint_paths: "{victim}/ckpt-1"', '"{victim}/ckpt-1"'),
        ('all_model_checkpoint_paths: "../victim/ckpt-1"', '"../victim/ckpt-1"'),
        ('all_model_checkpoint_paths: "ckpt-*"', '"ckpt-*"'),
        ('all_model_checkpoint_paths: "ckpt-[12]"', '"ckpt-[12]"'),
        ('all_model_checkpoint_paths: "\\057etc\\057passwd"', '"\\057etc\\057passwd"'),
    ],
    ids=["absolute-glob", "absolute", "dotdot", "glob", "glob-class", "escaped"],
)
def test_a_crafted_pointer_reads_and_deletes_nothing_outside_the_folder(
    finished: Path, tmp_path: Path, entry: str, shown: str
) -> None:
    """The issue's reproduction: an older entry replaced by a path outside, newer than last_preserved."""
    victim_files = outside_files(tmp_path)
    folder = copy_of(finished, tmp_path)
    victim = str(tmp_path / "victim")
    (folder / "checkpoint").write_text(pointer_of([
        'model_checkpoint_path: "ckpt-2"',
        entry.format(victim=victim),
        'all_model_checkpoint_paths: "ckpt-2"',
        "all_model_checkpoint_timestamps: 4102444800.0",
        "all_model_checkpoint_timestamps: 4102444800.5",
        "last_preserved_timestamp: 1.0",
    ]))
    own = {path: path.read_bytes() for path in folder.iterdir()}
    shown = shown.format(victim=victim)
    shown = shown if len(shown) <= 80 else shown[:79] + "…"  # a name is cut to 80 characters in the message
    started = time.monotonic()
    for resume in (True, False):
        with pytest.raises(ModelFileError) as caught:
            StatelessTrainer(**TINY, epochs=4, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=resume)
        assert str(caught.value) == (
            f"Checkpoint folder '{folder}': its pointer file '{folder / 'checkpoint'}' names {shown}, "
            "not a checkpoint 'ckpt-N' of this folder; seqkit reads and deletes nothing outside the folder. Delete the "
            f"folder '{folder}' and train again, or give another folder."
        )
    with pytest.raises(ModelFileError):
        latest_epoch(folder)
    assert time.monotonic() - started < 60
    assert {path: path.read_bytes() for path in victim_files} == victim_files
    assert {path: path.read_bytes() for path in own} == own


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (['model_checkpoint_path: "/etc/passwd"'], 'names "/etc/passwd", not a checkpoint \'ckpt-N\' of this folder; '
         "seqkit reads and deletes nothing outside the folder."),
        (['model_checkpoint_path: "ckpt-2"', 'model_checkpoint_path: "ckpt-1"'],
         "is corrupted: it names the latest checkpoint twice."),
        (['all_model_checkpoint_paths: "ckpt-2"'], "is corrupted: it names no latest checkpoint."),
        (['model_checkpoint_path: "ckpt-2"', 'save_hook: "rm -rf ~"'], "is corrupted (line 2: save_hook: \"rm -rf ~\")."),
        (['model_checkpoint_path: "ckpt-2"', "last_preserved_timestamp: soon"],
         "is corrupted (line 2: last_preserved_timestamp: soon)."),
        (["\x00\x01garbage\x1b[2J"], "is corrupted (line 1: \\x00\\x01garbage\\x1b[2J)."),
        (['model_checkpoint_path: "ckpt-7"'], None),
    ],
    ids=["absolute-latest", "two-latest", "no-latest", "unknown-field", "bad-timestamp", "binary", "missing-files"],
)
def test_a_corrupted_pointer_is_refused(finished: Path, tmp_path: Path, lines: list[str], problem: str | None) -> None:
    folder = copy_of(finished, tmp_path)
    (folder / "checkpoint").write_text(pointer_of(lines))
    fix = f"Delete the folder '{folder}' and train again, or give another folder."
    expected = (
        f"Checkpoint folder '{folder}': its pointer file '{folder / 'checkpoint'}' {problem} {fix}" if problem
        else f"Checkpoint folder '{folder}': its pointer names checkpoint 'ckpt-7', whose files are missing. {fix}"
    )
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=4, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    assert str(caught.value) == expected
    with pytest.raises(ModelFileError) as caught:
        latest_epoch(folder)
    assert str(caught.value) == expected


@pytest.mark.parametrize("resume", [True, False], ids=["resume", "new-run"])
def test_checkpoint_files_without_a_pointer_are_not_an_empty_folder(
    finished: Path, tmp_path: Path, resume: bool
) -> None:
    folder = copy_of(finished, tmp_path)
    (folder / "checkpoint").unlink()
    with pytest.raises(ModelFileError) as caught:  # other settings would otherwise take the folder over
        StatelessTrainer(**{**TINY, "units": 5}, epochs=4, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=resume)
    assert str(caught.value) == (
        f"Checkpoint folder '{folder}' holds checkpoint files (ckpt-1, ckpt-2) but no 'checkpoint' pointer naming the "
        f"latest; it is neither empty nor resumable. Delete the folder '{folder}' and train again, or give another "
        "folder."
    )
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        path.name for path in finished.iterdir() if path.name != "checkpoint"
    )


def test_a_pointer_linked_to_a_device_is_refused_at_once(finished: Path, tmp_path: Path) -> None:
    folder = copy_of(finished, tmp_path)
    (folder / "checkpoint").unlink()
    (folder / "checkpoint").symlink_to("/dev/zero")
    with pytest.raises(ModelFileError) as caught:
        latest_epoch(folder)
    assert str(caught.value) == (
        f"Checkpoint pointer '{folder / 'checkpoint'}' is not a regular file (a character device); expected "
        "TensorFlow's checkpoint state file."
    )


def test_a_fingerprint_linked_to_dev_zero_is_refused_at_once(finished: Path, tmp_path: Path) -> None:
    folder = copy_of(finished, tmp_path)
    (folder / FINGERPRINT_FILE).unlink()
    (folder / FINGERPRINT_FILE).symlink_to("/dev/zero")
    started = time.monotonic()
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=2, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    assert str(caught.value) == (
        f"Checkpoint record '{folder / FINGERPRINT_FILE}' is not a regular file (a character device); expected a "
        "seqkit checkpoint record (JSON)."
    )
    assert time.monotonic() - started < 30


@pytest.mark.slow
def test_links_in_the_folder_are_never_written_through(finished: Path, tmp_path: Path) -> None:
    outside = tmp_path / "important.json"
    outside.write_text("precious")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / FINGERPRINT_FILE).symlink_to(outside)
    StatelessTrainer(**TINY, epochs=1, checkpoint_dir=fresh).fit(seqkit.alphabet())
    assert outside.read_text() == "precious"
    assert not (fresh / FINGERPRINT_FILE).is_symlink() and latest_epoch(fresh) == 1

    folder = copy_of(finished, tmp_path)
    pointer = tmp_path / "pointer-elsewhere"
    pointer.write_bytes((folder / "checkpoint").read_bytes())
    (folder / "checkpoint").unlink()
    (folder / "checkpoint").symlink_to(pointer)  # a valid pointer, read through the link
    StatelessTrainer(**TINY, epochs=3, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    assert pointer.read_bytes() == (finished / "checkpoint").read_bytes()
    assert not (folder / "checkpoint").is_symlink() and latest_epoch(folder) == 3


def test_a_nul_byte_in_the_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=1, checkpoint_dir=f"{tmp_path}/run\x00s").fit(seqkit.alphabet())
    assert str(caught.value) == (
        f"Checkpoint folder '{tmp_path}/run\\x00s' is not a valid path: it holds a NUL byte, which no file name can "
        "contain. Check the path."
    )


def test_a_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=1, checkpoint_dir=tmp_path / "file" / "run").fit(seqkit.alphabet())
    assert str(caught.value) == f"Checkpoint folder '{tmp_path / 'file' / 'run'}' cannot be created: Not a directory."


# Writing fails: a full or read-only filesystem ---------------------------------------
@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (tf.errors.ResourceExhaustedError(None, None, "ckpt-1_temp/part-00000-of-00001; No space left on device"),
         "ckpt-1_temp/part-00000-of-00001; No space left on device"),
        (tf.errors.PermissionDeniedError(None, None, "ckpt-1_temp; Read-only file system"),
         "ckpt-1_temp; Read-only file system"),
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    ],
    ids=["tensorflow-full", "tensorflow-read-only", "oserror-full"],
)
@pytest.mark.slow
def test_a_failing_save_is_one_line_and_releases_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, reason: str
) -> None:
    def fail(self: tf.train.Checkpoint, prefix: str, options: object = None) -> str:
        raise error

    with monkeypatch.context() as patched:
        patched.setattr(tf.train.Checkpoint, "write", fail)
        with pytest.raises(ModelFileError) as caught:
            StatelessTrainer(**TINY, epochs=2, checkpoint_dir=tmp_path).fit(seqkit.alphabet())
    assert str(caught.value) == (
        f"Checkpoint folder '{tmp_path}' cannot be written ({reason}). Free some space or make it writable, then "
        "resume with fit(..., resume=True) or seqkit train --resume."
    )
    _, history = StatelessTrainer(**TINY, epochs=2, checkpoint_dir=tmp_path).fit(seqkit.alphabet(), resume=True)
    assert history.epochs == 2 and latest_epoch(tmp_path) == 2


def test_a_read_only_folder_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(path: object, text: str, **options: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("seqkit.checkpoint.write_text_atomic", read_only)
    with pytest.raises(ModelFileError) as caught:
        StatelessTrainer(**TINY, epochs=2, checkpoint_dir=tmp_path).fit(seqkit.alphabet())
    assert str(caught.value) == (
        f"Checkpoint folder '{tmp_path}' cannot be written (Read-only file system). Free some space or make it "
        "writable, then resume with fit(..., resume=True) or seqkit train --resume."
    )


# One run at a time -------------------------------------------------------------------
@contextlib.contextmanager
def held_lock(folder: Path, pid: str = "4242"):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "w") as handle:
        handle.write(pid + "\n")
        handle.flush()
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def test_a_folder_in_use_is_refused_at_once_and_free_after(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with held_lock(folder):
        started = time.monotonic()
        with pytest.raises(ModelFileError) as caught:
            StatelessTrainer(**TINY, epochs=1, checkpoint_dir=folder).fit(seqkit.alphabet())
        assert time.monotonic() - started < 30
    assert str(caught.value) == (
        f"Checkpoint folder '{folder}' is in use by another training run (process 4242). Wait for it to finish, or "
        "give another folder."
    )
    assert latest_epoch(folder) is None
    StatelessTrainer(**TINY, epochs=1, checkpoint_dir=folder).fit(seqkit.alphabet())
    assert latest_epoch(folder) == 1


def test_the_lock_is_released_after_a_refusal(finished: Path, tmp_path: Path) -> None:
    folder = copy_of(finished, tmp_path)
    with pytest.raises(ConfigurationError):  # refused after the lock was taken
        StatelessTrainer(**TINY, epochs=2, checkpoint_dir=folder).fit(seqkit.alphabet())
    with pytest.raises(ConfigurationError):
        StatelessTrainer(**TINY, epochs=1, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    _, history = StatelessTrainer(**TINY, epochs=3, checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)
    assert history.epochs == 3


_RACER = """
import os, sys, time
import seqkit
from seqkit.callbacks import EpochEnd
from seqkit.errors import SeqkitError
from seqkit.trainers import StatefulTrainer
folder, signals = sys.argv[1], sys.argv[2]


def hold(epoch, logs):  # after its first epoch, the run says it is training and waits to be let go
    if epoch == 0 and signals != "-":
        open(os.path.join(signals, "training"), "w").close()
        deadline = time.monotonic() + 120
        while not os.path.exists(os.path.join(signals, "go")) and time.monotonic() < deadline:
            time.sleep(0.02)


try:
    StatefulTrainer(units=8, batch_size=5, epochs=20, checkpoint_dir=folder).fit(
        seqkit.alphabet(), callbacks=[EpochEnd(hold)])
except SeqkitError as error:
    print(error, file=sys.stderr)
    sys.exit(1)
"""


@pytest.mark.slow
def test_two_concurrent_runs_on_one_folder_give_one_refusal_and_one_good_run(tmp_path: Path) -> None:
    folder, signals = tmp_path / "run", tmp_path
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = subprocess.Popen(
        [sys.executable, "-c", _RACER, str(folder), str(signals)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not (signals / "training").exists():  # the first run holds the folder and is training
            assert first.poll() is None, first.stderr.read().decode() if first.stderr else "the first run died"
            assert time.monotonic() < deadline, "the first run did not start training within 120 s"
            time.sleep(0.02)
        second = subprocess.run(
            [sys.executable, "-c", _RACER, str(folder), "-"], env=env, capture_output=True, timeout=120
        )
        assert first.poll() is None, "the first run ended before the second one tried"
        (signals / "go").touch()
        _, errors = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, errors.decode()[-2000:]
    assert second.returncode == 1 and "Traceback" not in second.stderr.decode()
    assert second.stderr.decode().splitlines()[-1] == (
        f"Checkpoint folder '{folder}' is in use by another training run (process {first.pid}). Wait for it to "
        "finish, or give another folder."
    )
    assert latest_epoch(folder) == 20
    _, history = StatefulTrainer(units=8, batch_size=5, epochs=20, checkpoint_dir=folder).fit(
        seqkit.alphabet(), resume=True
    )
    assert history.epochs == 20  # the good run's checkpoint is whole


# Resume says where it resumed -----------------------------------------------------------
class TinyLoop:
    """What a checkpoint saves of a training loop: a model, its optimizer, its state variables."""

    def __init__(self) -> None:
        self.model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        self.optimizer = keras.optimizers.Adam()
        self.optimizer.build(self.model.trainable_variables)
        self.state_variables: list[object] = []


def test_the_checkpoint_tells_the_epoch_it_resumed_at(tmp_path: Path) -> None:
    """``initial_epoch`` (and ``resumed``) is what a CLI prints as "Resuming at epoch N"."""
    corpus = seqkit.alphabet()
    arguments = dict(
        trainer="TinyTrainer", hyperparameters={"units": 1}, directory=tmp_path, every=1, epochs=5,
        corpus=corpus, vocabulary=corpus.vocabulary(),
    )
    with checkpoint_for(**arguments, loop=TinyLoop(), resume=True) as checkpoint:
        assert (checkpoint.initial_epoch, checkpoint.resumed) == (0, False)
        for epoch in range(2):
            checkpoint.on_epoch_end(epoch, {"loss": 1.0, "accuracy": 0.5})
        checkpoint.on_train_end()
    with checkpoint_for(**arguments, loop=TinyLoop(), resume=True) as checkpoint:
        assert (checkpoint.initial_epoch, checkpoint.resumed) == (2, True)
        assert checkpoint.history == {"loss": [1.0, 1.0], "accuracy": [0.5, 0.5]}


def test_a_position_outside_the_epoch_is_refused(tmp_path: Path) -> None:
    from seqkit.engine.driver import Position

    corpus = seqkit.alphabet()
    arguments = dict(
        trainer="TinyTrainer", hyperparameters={"units": 1}, directory=tmp_path, every=1, epochs=5,
        corpus=corpus, vocabulary=corpus.vocabulary(), steps_per_epoch=10,
    )
    with checkpoint_for(**arguments, loop=TinyLoop(), resume=True) as checkpoint:
        checkpoint.on_steps_end(Position(1, 99, np.zeros(3)))  # what no run of 10 steps an epoch writes
    with pytest.raises(ModelFileError) as error:
        checkpoint_for(**arguments, loop=TinyLoop(), resume=True)
    assert str(error.value) == (
        f"Checkpoint '{tmp_path / 'ckpt-1'}' holds a corrupted position (epoch 1, step 99). Delete the folder "
        f"'{tmp_path}' and train again."
    )


# The fault test: SIGKILL at random moments, resume each time ------------------------
EPOCHS = 100
_CHILD = """
import sys
import numpy as np
import seqkit
from seqkit.files import write_bytes_atomic
from seqkit.trainers import StatefulTrainer
folder, out = sys.argv[1], sys.argv[2]
trainer = StatefulTrainer(units=8, batch_size=5, reset="never", epochs={epochs}, checkpoint_dir=folder)
model, history = trainer.fit(seqkit.alphabet(), resume=True)
assert history.epochs == {epochs}, history.epochs
import io
buffer = io.BytesIO()
np.savez(buffer, *model.network.get_weights(), loss=np.array(history.loss))
write_bytes_atomic(out, buffer.getvalue())
""".format(epochs=EPOCHS)


def _saved_epoch(folder: Path) -> int:
    """The number of the checkpoint the folder's pointer names (the run's saves so far), 0 before any."""
    return read_pointer(folder, "the run's folder") or 0


@pytest.mark.slow  # three training processes killed and resumed (20-30 s): the slow suite, which CI runs
def test_training_killed_at_random_moments_resumes_to_the_same_weights(tmp_path: Path) -> None:
    folder, out = tmp_path / "run", tmp_path / "final.npz"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    chance = random.Random(os.getpid())
    kills: list[int] = []
    started = time.monotonic()
    for _ in range(3):
        before = _saved_epoch(folder)
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(folder), str(out)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            target = before + chance.randint(1, 15)  # kill it a random number of epochs later
            while _saved_epoch(folder) < target:
                assert child.poll() is None, child.stderr.read().decode() if child.stderr else "child died"
                assert time.monotonic() < deadline, "the child saved no checkpoint within 60 s"
                time.sleep(0.02)
            time.sleep(chance.uniform(0.0, 0.05))  # then somewhere inside an epoch, or inside a save
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            if child.stderr:
                child.stderr.close()
        assert child.returncode == -signal.SIGKILL, "the child finished before it was killed"
        kills.append(_saved_epoch(folder))
    assert not out.exists()
    finish = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder), str(out)], env=env, capture_output=True, timeout=120
    )
    assert finish.returncode == 0, finish.stderr.decode()[-2000:]
    assert all(kills[i] <= kills[i + 1] for i in range(len(kills) - 1)) and kills[-1] < EPOCHS, kills

    whole, history = StatefulTrainer(units=8, batch_size=5, reset="never", epochs=EPOCHS).fit(seqkit.alphabet())
    with np.load(out) as saved:
        resumed = [saved[f"arr_{i}"] for i in range(len(weights(whole)))]
        np.testing.assert_array_equal(saved["loss"], np.array(history.loss))
    assert_same_weights(resumed, weights(whole))
    print(f"killed at checkpoints {kills}; total {time.monotonic() - started:.1f} s")
