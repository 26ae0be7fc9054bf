"""Checkpoints and resume: an interrupted run finishes exactly as the uninterrupted one.

The fault test kills a training process with SIGKILL at random moments, several
times in a row, resuming each time, and checks that the final weights equal those
of an uninterrupted run with the same seed, bit for bit.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import seqkit
from seqkit.checkpoint import FINGERPRINT_FILE, latest_epoch
from seqkit.datasets import Corpus
from seqkit.errors import ConfigurationError, ModelFileError
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
    ]
    record = json.loads((finished / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    assert record["format"] == "seqkit.checkpoint" and record["version"] == 1
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
    try:
        text = (folder / "checkpoint").read_text()
    except FileNotFoundError:
        return 0
    found = re.search(r'^model_checkpoint_path: "ckpt-(\d+)"', text, re.MULTILINE)
    return int(found.group(1)) if found else 0


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
