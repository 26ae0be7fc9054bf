"""Specification of seqkit.distribute: the stream loop under tf.distribute strategies.

Each strategy runs in fresh subprocesses (logical CPU devices must be configured before
TensorFlow initializes, and a multi-worker cluster is one process per worker), every
process bounded in time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqkit.distribute import resolve_strategy, strategy_name
from seqkit.errors import ConfigurationError

WORKER = Path(__file__).with_name("distribute_worker.py")
TIMEOUT = 120


def run_bounded(command: list[str], *, env: dict[str, str] | None = None, timeout: int = TIMEOUT) -> str:
    """Run ``command`` in its own process group; kill the whole group if it overruns or fails."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        output, _ = process.communicate()
        pytest.fail(f"{command[:3]} ran past {timeout} s:\n{output[-3000:]}")
    if process.returncode != 0:
        pytest.fail(f"{command[:3]} exited with {process.returncode}:\n{output[-3000:]}")
    return output


def quiet_env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@pytest.mark.slow
def test_mirrored_over_two_cpu_devices_matches_one_device(tmp_path):
    run_bounded([sys.executable, str(WORKER), "mirrored", str(tmp_path / "run")], env=quiet_env())
    single, mirrored = np.load(tmp_path / "run.single.npz"), np.load(tmp_path / "run.mirrored.npz")
    assert int(single["replicas"]) == 1 and int(mirrored["replicas"]) == 2
    np.testing.assert_allclose(mirrored["loss"], single["loss"], rtol=1e-5)
    for name in single.files:
        if name.startswith("weight_"):
            np.testing.assert_allclose(mirrored[name], single[name], rtol=1e-4, atol=1e-5)
    # A stateless window trainer, batch 5 split unevenly over 2 replicas (Keras fit refuses that).
    single = np.load(tmp_path / "run.stateless-single.npz")
    mirrored = np.load(tmp_path / "run.stateless-mirrored.npz")
    np.testing.assert_allclose(mirrored["loss"], single["loss"], rtol=1e-5)
    np.testing.assert_allclose(mirrored["accuracy"], single["accuracy"], rtol=1e-6)
    for name in single.files:
        if name.startswith("weight_"):
            np.testing.assert_allclose(mirrored[name], single[name], rtol=1e-4, atol=1e-5)


def _loopback_namespace_reason() -> str | None:
    """None if this machine lets us run processes in a network namespace with only loopback."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip (iproute2) is not installed"
    try:
        probe = subprocess.run(
            ["unshare", "-rn", "sh", "-c", "ip link set lo up && ip -o link show | wc -l"],
            capture_output=True, text=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unshare -rn failed: {error}"
    if probe.returncode != 0:
        return f"unshare -rn is not allowed here: {probe.stderr.strip()[:200]}"
    if probe.stdout.strip() != "1":
        return f"the new namespace holds more than loopback: {probe.stdout.strip()} links"
    return None


LAUNCHER = """
import json, os, subprocess, sys
worker, out, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
cluster = {"worker": ["127.0.0.1:23456", "127.0.0.1:23457"]}
processes = []
for index in range(2):
    env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
    processes.append(subprocess.Popen([sys.executable, worker, "worker", f"{out}/worker{index}.npz"], env=env))
codes = []
try:
    for process in processes:
        codes.append(process.wait(timeout=timeout))
except subprocess.TimeoutExpired:
    codes.append("timeout")
finally:
    for process in processes:
        if process.poll() is None:
            process.kill()
sys.exit(0 if codes == [0, 0] else 1)
"""


@pytest.mark.slow
def test_two_workers_train_to_identical_weights(tmp_path):
    reason = _loopback_namespace_reason()
    if reason is not None:
        pytest.skip(f"2-worker test needs a private network namespace: {reason}")
    launcher = tmp_path / "launch.py"
    launcher.write_text(LAUNCHER)
    run_bounded(
        ["unshare", "-rn", "sh", "-c",
         f"ip link set lo up && exec {sys.executable} {launcher} {WORKER} {tmp_path} {TIMEOUT - 10}"],
        env=quiet_env(),
    )
    first, second = np.load(tmp_path / "worker0.npz"), np.load(tmp_path / "worker1.npz")
    assert int(first["replicas"]) == 2
    assert len(first["loss"]) == 3 and first["loss"][-1] < first["loss"][0]
    np.testing.assert_array_equal(first["loss"], second["loss"])
    weights = [name for name in first.files if name.startswith("weight_")]
    assert weights
    for name in weights:
        np.testing.assert_array_equal(first[name], second[name])


def test_default_strategy_by_name():
    assert resolve_strategy(None).num_replicas_in_sync == 1
    assert strategy_name(resolve_strategy("default")) == "default"


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ("tpu", "Unknown strategy 'tpu': expected 'default', 'mirrored', 'multi-worker', None or a tf.distribute.Strategy."),
        ("multi-worker", "The 'multi-worker' strategy reads the cluster from the TF_CONFIG environment variable"),
    ],
)
def test_bad_strategies_are_refused(strategy, message, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigurationError) as error:
        resolve_strategy(strategy)
    assert str(error.value).startswith(message)
