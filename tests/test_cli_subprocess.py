"""The installed ``seqkit`` console script, run as a user runs it.

Exit statuses, ``--json`` documents that parse, one-line errors, Ctrl-C, and
a standard error free of TensorFlow's log lines. Each process pays
TensorFlow's import, so the runs are few and share one trained bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("seqkit")
TENSORFLOW_NOISE = ("I0000", "W0000", "E0000", "oneDNN", "cuda", "absl", "tensorflow", "cpu_feature_guard", "Traceback")


def seqkit_command() -> list[str]:
    if SCRIPT.exists():
        return [str(SCRIPT)]
    found = shutil.which("seqkit")
    if found is None:
        pytest.skip("the seqkit console script is not installed (pip install -e .)")
    return [found]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [*seqkit_command(), *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def assert_no_tensorflow_noise(stderr: str) -> None:
    for marker in TENSORFLOW_NOISE:
        assert marker not in stderr, f"{marker!r} leaked into stderr:\n{stderr}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("subprocess") / "alphabet.seqkit"
    completed = run("train", "--window", "2", "--epochs", "2", "--units", "4", "--out", str(out), "--json")
    return out, completed


def test_train_json_parses_and_stderr_is_clean(trained):
    out, completed = trained
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert (report["epochs"], report["bundle"]) == (2, str(out))
    assert completed.stderr == ""
    assert out.is_file()


def test_predict_and_generate_from_the_saved_bundle(trained):
    out, _ = trained
    predicted = run("predict", str(out), "AB", "--top-k", "3", "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert len(json.loads(predicted.stdout)["predictions"]) == 3
    assert_no_tensorflow_noise(predicted.stderr)


def test_experiments_json_and_progress_without_noise():
    completed = run("experiments", "window-timesteps", "--epochs", "1", "--json")
    assert completed.returncode == 0, completed.stderr
    [result] = json.loads(completed.stdout)["experiments"]
    assert (result["name"], result["epochs_run"], result["prime"]) == ("window-timesteps", 1, "ABC")
    assert len(result["generated"]) == 23
    assert completed.stderr == ""


def test_failures_are_one_line_without_traceback(tmp_path):
    fake = tmp_path / "fake.seqkit"
    fake.write_text("not a bundle", encoding="utf-8")
    completed = run("inspect", str(fake))
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr == (
        f"Error: Bundle '{fake}' is not a seqkit bundle: it is not a zip archive. Give a file written by save_bundle.\n"
    )


def test_usage_error_exits_2():
    completed = run("train", "--trainer", "stateful", "--reset", "every:0")
    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--reset': The reset interval k must be an int >= 1; got 0. Use e.g. 'every:4'."
    )
    assert_no_tensorflow_noise(completed.stderr)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_training_and_keeps_the_bundle(trained, tmp_path):
    source, _ = trained
    out = tmp_path / "kept.seqkit"
    out.write_bytes(source.read_bytes())
    before = out.read_bytes()
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    process = subprocess.Popen(
        [*seqkit_command(), "train", "--epochs", "100000", "--units", "4", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        # Wait until training runs: the import and the first epoch take a few seconds.
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.5)
            if time.monotonic() > deadline - 52:
                break
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert stdout == ""
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Interrupted: ") and last.endswith(f"'{out}' was not changed.")
    assert "Traceback" not in stderr
    assert out.read_bytes() == before
