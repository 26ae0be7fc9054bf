"""The installed ``seqkit`` console script, run as a user runs it.

Exit statuses, ``--json`` documents that parse, one-line errors, Ctrl-C, and
a standard error free of TensorFlow's log lines. Every process pays
TensorFlow's import, so the independent runs start together and the tests
read their results.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

SCRIPT = Path(sys.executable).with_name("seqkit")
TENSORFLOW_NOISE = ("I0000", "W0000", "E0000", "oneDNN", "cuda", "absl", "tensorflow", "cpu_feature_guard", "Traceback")
TIMEOUT = 180


def seqkit_command() -> list[str]:
    if SCRIPT.exists():
        return [str(SCRIPT)]
    found = shutil.which("seqkit")
    if found is None:
        pytest.skip("the seqkit console script is not installed (pip install -e .)")
    return [found]


def start(*args: str) -> subprocess.Popen[str]:
    """Start ``seqkit ARGS`` as a user would: no TF_CPP_MIN_LOG_LEVEL in the environment."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.Popen(
        [*seqkit_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def assert_no_tensorflow_noise(stderr: str) -> None:
    for marker in TENSORFLOW_NOISE:
        assert marker not in stderr, f"{marker!r} leaked into stderr:\n{stderr}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The independent runs, started at once; ``predict`` follows ``train``."""
    folder = tmp_path_factory.mktemp("subprocess")
    bundle, fake = folder / "alphabet.seqkit", folder / "fake.seqkit"
    fake.write_text("not a bundle", encoding="utf-8")
    started = {
        "train": start("train", "--window", "2", "--epochs", "2", "--units", "4", "--out", str(bundle), "--json"),
        "experiments": start("experiments", "window-timesteps", "--epochs", "1", "--json"),
        "failure": start("inspect", str(fake)),
        "usage": start("train", "--trainer", "stateful", "--reset", "every:0"),
    }
    results: dict[str, object] = {name: finish(process) for name, process in started.items()}
    results["predict"] = finish(start("predict", str(bundle), "AB", "--top-k", "3", "--json"))
    results["bundle"], results["fake"] = bundle, fake
    return results


@pytest.mark.slow
def test_train_json_parses_and_stderr_is_empty(runs):
    completed = runs["train"]
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert (report["epochs"], report["bundle"]) == (2, str(runs["bundle"]))
    assert completed.stderr == ""


@pytest.mark.slow
def test_predict_from_the_saved_bundle(runs):
    completed = runs["predict"]
    assert completed.returncode == 0, completed.stderr
    assert len(json.loads(completed.stdout)["predictions"]) == 3
    assert completed.stderr == ""


@pytest.mark.slow
def test_experiments_json_parses_and_stderr_is_empty(runs):
    completed = runs["experiments"]
    assert completed.returncode == 0, completed.stderr
    [result] = json.loads(completed.stdout)["experiments"]
    assert (result["name"], result["epochs_run"], result["prime"]) == ("window-timesteps", 1, "ABC")
    assert len(result["generated"]) == 23
    assert result["tutorial_accuracy"] == 1.0 and 0.0 <= result["accuracy"] <= 1.0  # fractions, as train --json
    assert completed.stderr == ""


@pytest.mark.slow
def test_failure_is_one_line_with_exit_1(runs):
    completed = runs["failure"]
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr == (
        f"Error: Bundle '{runs['fake']}' is not a seqkit bundle: it is not a zip archive. "
        "Give a file written by save_bundle.\n"
    )


@pytest.mark.slow
def test_usage_error_exits_2(runs):
    completed = runs["usage"]
    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--reset': The reset interval k must be an int >= 1; got 0. Use e.g. 'every:4'."
    )
    assert_no_tensorflow_noise(completed.stderr)


@pytest.mark.slow
def test_ctrl_c_stops_training_and_keeps_the_existing_bundle(tmp_path):
    out = tmp_path / "kept.seqkit"
    out.write_bytes(b"the previous bundle")
    process = start("train", "--epochs", "100000", "--units", "4", "--out", str(out))
    try:
        # Wait for the "Training ..." note: the import is over and fit has begun.
        deadline, seen = time.monotonic() + TIMEOUT, ""
        while "Training" not in seen and time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([process.stderr], [], [], 1.0)
            if ready:
                seen += process.stderr.readline()
        time.sleep(2.0)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, seen + stderr
    assert stdout == ""
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Interrupted: training stopped at epoch ")
    assert last.endswith(f" of 100000; '{out}' was not changed.")
    assert_no_tensorflow_noise(seen + stderr)
    assert out.read_bytes() == b"the previous bundle"


@pytest.fixture(scope="module")
def terminated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A long training with standard error to a file, read while it runs, then stopped with SIGTERM."""
    folder = tmp_path_factory.mktemp("terminated")
    log, run, out = folder / "stderr.txt", folder / "run", folder / "model.seqkit"
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    args = ["train", "--epochs", "100000", "--units", "4", "--checkpoint", str(run), "--checkpoint-every", "7",
            "--out", str(out)]
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen([*seqkit_command(), *args], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
    try:
        deadline, progress_lines = time.monotonic() + TIMEOUT, []
        while len(progress_lines) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.5)
            progress_lines = [line for line in log.read_text(encoding="utf-8").splitlines() if ": epoch " in line]
        running = process.poll() is None
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
    from seqkit.checkpoint import latest_epoch

    return {"lines_while_running": progress_lines, "running": running, "returncode": process.returncode,
            "stdout": stdout, "stderr": log.read_text(encoding="utf-8"), "run": run, "out": out,
            "checkpoint_epoch": latest_epoch(run)}


@pytest.mark.slow
def test_progress_lines_are_written_while_training_when_stderr_is_a_file(terminated):
    assert terminated["running"], terminated["stderr"]
    first, second = terminated["lines_while_running"][:2]
    assert first.startswith("stateless on alphabet: epoch 1/100000 loss ")
    assert second.startswith("stateless on alphabet: epoch ") and " ETA " in second


@pytest.mark.slow
def test_sigterm_stops_cleanly_with_the_resume_hint_and_exit_143(terminated):
    assert terminated["returncode"] == 143, terminated["stderr"]
    assert terminated["stdout"] == ""
    last = terminated["stderr"].strip().splitlines()[-1]
    assert last.startswith("Interrupted: training stopped at epoch ")
    assert last.endswith(
        f" of 100000; '{terminated['out']}' was not changed; the last checkpoint holds epoch "
        f"{terminated['checkpoint_epoch']}: continue with --checkpoint {terminated['run']} --resume."
    )
    assert not terminated["out"].exists()
    assert_no_tensorflow_noise(terminated["stderr"])


def test_a_stop_signal_lost_on_the_way_is_raised_at_the_next_epoch_end():
    from cli.errors import Terminated, checked, sigterm_as_interrupt

    seen = []
    with sigterm_as_interrupt():
        on_epoch_end = checked(lambda epoch, logs: seen.append(epoch))
        on_epoch_end(0, {})
        for epoch, (signum, raised) in enumerate([(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)], 1):
            with pytest.raises(raised):
                try:
                    os.kill(os.getpid(), signum)
                    time.sleep(1)
                except raised:
                    pass  # swallowed, as code outside seqkit may do
                on_epoch_end(epoch, {})
    assert seen == [0, 1, 2]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
