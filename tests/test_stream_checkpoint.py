"""Stream training checkpoints and resumes: inside an epoch, from memory and from ``tf.data``,
with shards and under a strategy, a resumed run ends with the weights of a run never stopped.

The fault test (slow suite) kills training processes with SIGKILL at random moments, some of
them while a checkpoint is being written, and resumes each time.
"""

from __future__ import annotations

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

from seqkit.checkpoint import latest_epoch
from seqkit.corpora import sample_text
from seqkit.errors import ModelFileError
from seqkit.io.pointer import read_pointer
from seqkit.streams import encode_corpus
from seqkit.trainers import StreamTrainer

SMALL = dict(window=8, batch_size=32, units=16, embedding_dim=8)
"""7 steps an epoch of the sample text; 32 streams train in 2 shards on 2 cores."""


class StopAt(keras.callbacks.Callback):
    """Interrupts training (as a Ctrl-C would) when the run reaches ``epoch``, ``step``."""

    def __init__(self, epoch: int, step: int) -> None:
        super().__init__()
        self.epoch, self.step = epoch, step

    def on_steps_end(self, position: object) -> None:
        if (position.epoch, position.step) == (self.epoch, self.step):  # type: ignore[attr-defined]
            raise KeyboardInterrupt


def same_weights(first: object, second: object) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(first.network.get_weights(), second.network.get_weights()))


@pytest.mark.slow
def test_a_stream_run_resumed_inside_an_epoch_ends_as_the_run_never_stopped(tmp_path: Path) -> None:
    text = sample_text()
    whole, whole_history = StreamTrainer(**SMALL, epochs=3).fit(text)
    trainer = StreamTrainer(**SMALL, epochs=3, checkpoint_dir=tmp_path, checkpoint_steps=2)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(text, callbacks=[StopAt(1, 6)])
    assert latest_epoch(tmp_path) == 1  # saved at epoch 1, step 4: inside the second epoch
    resumed, history = StreamTrainer(**SMALL, epochs=3, checkpoint_dir=tmp_path, checkpoint_steps=2).fit(
        text, resume=True
    )
    assert same_weights(resumed, whole)
    assert history.loss == whole_history.loss  # the interrupted epoch's figures too


@pytest.mark.slow
def test_a_stream_run_from_a_token_file_resumes_and_refuses_another_file(tmp_path: Path) -> None:
    text = sample_text()
    tokens = encode_corpus(text, text.vocabulary(), tmp_path / "corpus.ids")
    StreamTrainer(**SMALL, epochs=1, checkpoint_dir=tmp_path / "run").fit(tokens)
    model, history = StreamTrainer(**SMALL, epochs=2, checkpoint_dir=tmp_path / "run").fit(tokens, resume=True)
    whole, _ = StreamTrainer(**SMALL, epochs=2).fit(tokens)
    assert history.epochs == 2 and same_weights(model, whole)
    other = encode_corpus(text, text.vocabulary(), tmp_path / "other.ids")
    ids = np.array(other.read())
    ids[0] = (ids[0] + 1) % text.vocabulary().size
    ids.astype("<i4").tofile(other.path)
    with pytest.raises(ModelFileError, match=r"was written by another training run: the corpus differs"):
        StreamTrainer(**SMALL, epochs=3, checkpoint_dir=tmp_path / "run").fit(other, resume=True)


# The fault test -----------------------------------------------------------------------
EPOCHS = 30
_CHILD = """
import sys
import numpy as np
mode, folder, out = sys.argv[1], sys.argv[2], sys.argv[3]
strategy = None
if mode == "mirrored":
    from seqkit.distribute import split_cpu
    split_cpu(2)
    strategy = "mirrored"
import seqkit.trainers.stream as stream_module
from seqkit.corpora import sample_text
from seqkit.files import write_bytes_atomic
from seqkit.trainers import StreamTrainer
if mode != "memory":
    stream_module.IN_MEMORY_BYTES = 0  # the tf.data path, as for a corpus larger than memory
checkpoints = {} if folder == "-" else dict(checkpoint_dir=folder, checkpoint_steps=2)
trainer = StreamTrainer(window=8, batch_size=32, units=16, embedding_dim=8, epochs=%d, strategy=strategy,
                        **checkpoints)
model, history = trainer.fit(sample_text(), resume=folder != "-")
assert history.epochs == %d, history.epochs
import io
buffer = io.BytesIO()
np.savez(buffer, *model.network.get_weights(), loss=np.array(history.loss))
write_bytes_atomic(out, buffer.getvalue())
""" % (EPOCHS, EPOCHS)


def _saves(folder: Path) -> int:
    """The number of the checkpoint the folder's pointer names (the run's saves so far), 0 before any."""
    return read_pointer(folder, "the run's folder") or 0


def _saving(folder: Path) -> bool:
    """TensorFlow writes a checkpoint into ``ckpt-N_temp`` first: a save is under way."""
    try:
        return any("_temp" in name for name in os.listdir(folder))
    except FileNotFoundError:
        return False


def _run(mode: str, folder: str, out: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, mode, folder, str(out)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@pytest.mark.slow  # 3 x (4 killed processes + 1 resumed + 1 uninterrupted), about 3 minutes: CI runs it
@pytest.mark.parametrize("mode", ["memory", "tf.data", "mirrored"])
def test_stream_training_killed_at_random_moments_resumes_to_the_same_weights(tmp_path: Path, mode: str) -> None:
    """Memory: one XLA program per call, 2 shards on 2 cores; tf.data: the step compiled, the
    iterator skipping what was done; mirrored: 2 replicas, each saving its own streams' state."""
    folder, out = tmp_path / "run", tmp_path / "final.npz"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    chance = random.Random(os.getpid())
    kills: list[tuple[int, bool]] = []
    for attempt in range(4):
        before = _saves(folder)
        child = _run(mode, str(folder), out, env)
        in_save = False
        try:
            deadline = time.monotonic() + 120
            target = before + chance.randint(2, 12)
            while _saves(folder) < target:
                assert child.poll() is None, child.stderr.read().decode()[-3000:] if child.stderr else "child died"
                assert time.monotonic() < deadline, "the child saved no checkpoint within 120 s"
                time.sleep(0.005)
            if attempt % 2:  # kill while the next checkpoint is being written
                while not _saving(folder) and time.monotonic() < deadline and child.poll() is None:
                    time.sleep(0.0005)
                in_save = _saving(folder)
            else:  # somewhere inside a call, or a save
                time.sleep(chance.uniform(0.0, 0.05))
        finally:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
            child.wait()
            if child.stderr:
                child.stderr.close()
        assert child.returncode == -signal.SIGKILL, "the child finished before it was killed"
        kills.append((_saves(folder), in_save))
    assert not out.exists()
    finish = _run(mode, str(folder), out, env)
    _, errors = finish.communicate(timeout=300)
    assert finish.returncode == 0, errors.decode()[-3000:]
    reference = tmp_path / "reference.npz"
    whole = _run(mode, "-", reference, env)
    _, errors = whole.communicate(timeout=300)
    assert whole.returncode == 0, errors.decode()[-3000:]
    assert any(in_save for _, in_save in kills), f"no kill landed inside a save: {kills}"
    with np.load(out) as resumed, np.load(reference) as uninterrupted:
        assert resumed.files == uninterrupted.files
        for name in resumed.files:
            np.testing.assert_array_equal(resumed[name], uninterrupted[name], err_msg=name)
    print(f"{mode}: killed after saves {kills}")



def test_what_a_save_killed_half_way_left_is_deleted_when_the_run_resumes(tmp_path: Path) -> None:
    from seqkit.trainers import StatelessTrainer
    import seqkit

    StatelessTrainer(window=3, units=4, epochs=1, checkpoint_dir=tmp_path).fit(seqkit.alphabet())
    left = tmp_path / "ckpt-2_temp"
    left.mkdir()
    (left / "part-00000-of-00001.data-00000-of-00001.tempstate1079936535264316147").write_bytes(b"")
    (left / "part-00000-of-00001.index").write_bytes(b"half")
    foreign = tmp_path / "ckpt-3_temp"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    victim = tmp_path.parent / f"{tmp_path.name}-victim"
    victim.mkdir()
    (victim / "part-00000-of-00001.index").write_text("not seqkit's")
    (tmp_path / "ckpt-4_temp").symlink_to(victim)
    StatelessTrainer(window=3, units=4, epochs=2, checkpoint_dir=tmp_path).fit(seqkit.alphabet(), resume=True)
    assert not left.exists()
    assert (foreign / "notes.txt").read_text() == "mine"  # not TensorFlow's: left as it is
    assert (victim / "part-00000-of-00001.index").read_text() == "not seqkit's"  # a link is never followed

