"""The device policy in training, on a CPU, with Keras's GPU check forced on (issue 11).

Keras's LSTM takes its cuDNN path (``CudnnRNNV3``) whenever it believes a GPU is there,
and that op has no XLA kernel. Forcing the belief on a CPU machine
(``keras.src.backend.tensorflow.rnn._is_gpu_available = lambda: True``) reproduces, without
a GPU, what a GPU machine does: seqkit used to fail there with *"Detected unsupported
operations when trying to compile graph ... on XLA_CPU_JIT: CudnnRNNV3"*.

For every trainer and ``jit_compile`` None (the policy decides), True and False, one tiny
fit (8 units, 2 epochs) runs in its own process (the forcing is process-wide), in two
scenarios:

- ``forced``: TensorFlow sees no GPU, so the policy decides for a CPU (XLA, no cuDNN);
- ``simulated-gpu``: the policy is also told the device is a GPU, so it decides as on a
  GPU machine; where it picks cuDNN, the cuDNN op runs on the CPU and fails for want of
  a CPU kernel -- the sign that cuDNN was chosen without XLA.

What must never happen is cuDNN inside XLA. A fit either trains (with finite losses and
the policy recorded in ``model.spec["policy"]``), is refused with seqkit's one-line error
where the issue allows it, or fails only because cuDNN has no CPU kernel.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from seqkit.engine.policy import CUDNN_MIN_WORK

pytestmark = pytest.mark.slow  # a forcing worker process per trainer and scenario, 10 s each: CI runs them

WORKER = Path(__file__).with_name("device_policy_worker.py")
TIMEOUT = 300
SCENARIOS = ("forced", "simulated-gpu")
TRAINERS = ("stateless", "in-batch", "stateful", "stream", "variable-length")
MASKED = {"variable-length"}
LARGEST_BATCH = 26  # no tiny trainer here steps on more than the alphabet's 26 windows at once
UNITS = 8

XLA_WITH_CUDNN = re.compile(r"Detected unsupported operations|XLA_\w+_JIT[\s\S]*CudnnRNN|CudnnRNN[\s\S]*XLA_\w+_JIT")
CUDNN_WITHOUT_CPU_KERNEL = re.compile(
    r"No OpKernel was registered to support Op 'CudnnRNN\w*'"
    r"|No registered '?CudnnRNN\w*'? OpKernel for '?CPU'? devices"
    r"|Cannot assign a device for operation \S*CudnnRNN"
)


@functools.cache
def run_worker(scenario: str, trainer: str) -> tuple[dict[str, Any], dict[Any, dict[str, Any]]]:
    """``(forcing check, {jit_compile: record})`` from one worker process (run once per pair)."""
    # The scenarios are CPU ones: on a GPU machine the worker is kept off the GPU.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, str(WORKER), scenario, trainer],
        capture_output=True, text=True, env=env, timeout=TIMEOUT,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and len(lines) == 4, (
        f"worker exited {done.returncode} with {len(lines)} records\nstdout:\n{done.stdout}\nstderr:\n{done.stderr[-4000:]}"
    )
    check, *fits = lines
    return check, {record["jit_compile"]: record for record in fits}


def describe(record: dict[str, Any]) -> str:
    if record["outcome"] == "trained":
        return f"trained, loss {record['loss']}, policy {record['policy']}"
    return f"{record['error_type']}: {record['message'][:1500]}\n{record.get('traceback', '')[-1500:]}"


def is_cudnn_without_cpu_kernel(record: dict[str, Any]) -> bool:
    return (
        record["outcome"] == "error"
        and record["error_type"] in ("InvalidArgumentError", "NotFoundError")
        and CUDNN_WITHOUT_CPU_KERNEL.search(record["message"]) is not None
        and XLA_WITH_CUDNN.search(record["message"]) is None
    )


def is_one_line_refusal(record: dict[str, Any]) -> bool:
    return record["outcome"] == "error" and record["seqkit_error"] and "\n" not in record["message"].strip()


def assert_trained(record: dict[str, Any], *, device: str, jit_compile: bool) -> None:
    assert record["outcome"] == "trained", describe(record)
    assert record["finite"] and len(record["loss"]) == 2, describe(record)
    policy = record["policy"]
    assert isinstance(policy, dict), f"model.spec['policy'] missing: {describe(record)}"
    assert set(policy) == {
        "device", "jit_compile", "use_cudnn", "precision", "reason", "kernel", "shards", "unroll", "distributed",
        "backend", "tf32",
    }
    assert (policy["device"], policy["jit_compile"], policy["precision"]) == (device, jit_compile, "float32")
    assert not (policy["jit_compile"] and policy["use_cudnn"])


CASES = [
    pytest.param(scenario, trainer, jit, id=f"{scenario}-{trainer}-jit{jit}",
                 marks=[pytest.mark.slow] if scenario == "simulated-gpu" else [])
    for scenario in SCENARIOS for trainer in TRAINERS for jit in (None, True, False)
]

SCENARIO_PARAMS = [
    "forced",  # the check: Keras's GPU check forced on, in the default suite
    pytest.param("simulated-gpu", marks=pytest.mark.slow),  # the GPU branch of the policy too; CI runs it
]


@pytest.mark.parametrize("scenario", SCENARIO_PARAMS)
@pytest.mark.parametrize("trainer", TRAINERS)
def test_the_forcing_takes_effect(scenario: str, trainer: str) -> None:
    check, _ = run_worker(scenario, trainer)
    assert check == {"check": "forcing", "lstm_supports_jit": False}, "Keras did not take the forced GPU check"


@pytest.mark.parametrize("scenario, trainer, jit_compile", CASES)
def test_cudnn_never_runs_inside_xla(scenario: str, trainer: str, jit_compile: bool | None) -> None:
    record = run_worker(scenario, trainer)[1][jit_compile]
    if record["outcome"] == "error":
        assert XLA_WITH_CUDNN.search(record["message"]) is None, describe(record)


@pytest.mark.parametrize("trainer", TRAINERS)
def test_cpu_policy_trains_with_xla_by_default(trainer: str) -> None:
    record = run_worker("forced", trainer)[1][None]
    assert_trained(record, device="cpu", jit_compile=True)
    assert record["policy"]["use_cudnn"] is False


@pytest.mark.parametrize("scenario", SCENARIO_PARAMS)
@pytest.mark.parametrize("trainer", TRAINERS)
def test_jit_on_trains_with_xla_and_without_cudnn(scenario: str, trainer: str) -> None:
    record = run_worker(scenario, trainer)[1][True]
    assert_trained(record, device="cpu" if scenario == "forced" else "gpu", jit_compile=True)
    assert record["policy"]["use_cudnn"] is False


@pytest.mark.parametrize("scenario", SCENARIO_PARAMS)
@pytest.mark.parametrize("trainer", TRAINERS)
def test_jit_off_trains_or_fails_only_for_want_of_a_cpu_cudnn_kernel(scenario: str, trainer: str) -> None:
    record = run_worker(scenario, trainer)[1][False]
    if record["outcome"] == "trained":
        assert_trained(record, device="cpu" if scenario == "forced" else "gpu", jit_compile=False)
        assert record["policy"]["use_cudnn"] is False, "cuDNN was chosen, yet the CPU ran it: " + describe(record)
    else:
        assert is_cudnn_without_cpu_kernel(record), describe(record)


def test_jit_off_on_a_cpu_policy_trains_as_a_plain_graph() -> None:
    for trainer in TRAINERS:
        record = run_worker("forced", trainer)[1][False]
        assert_trained(record, device="cpu", jit_compile=False)
        assert record["policy"]["use_cudnn"] is False


@pytest.mark.slow
@pytest.mark.parametrize("trainer", sorted(set(TRAINERS) - MASKED))
def test_jit_off_on_a_gpu_policy_chooses_cudnn(trainer: str) -> None:
    """On a GPU, jit_compile=False means cuDNN: here the cuDNN op is built and finds no CPU kernel."""
    record = run_worker("simulated-gpu", trainer)[1][False]
    assert is_cudnn_without_cpu_kernel(record), describe(record)


@pytest.mark.slow
@pytest.mark.parametrize("trainer", sorted(MASKED))
def test_masked_input_never_gets_cudnn_on_a_gpu(trainer: str) -> None:
    for jit_compile in (None, False):
        record = run_worker("simulated-gpu", trainer)[1][jit_compile]
        assert_trained(record, device="gpu", jit_compile=jit_compile is not False)
        assert record["policy"]["use_cudnn"] is False


@pytest.mark.slow
@pytest.mark.parametrize("trainer", TRAINERS)
def test_gpu_policy_default_for_tiny_models(trainer: str) -> None:
    """The tutorial-sized models: XLA without cuDNN while they are under CUDNN_MIN_WORK."""
    record = run_worker("simulated-gpu", trainer)[1][None]
    if UNITS * LARGEST_BATCH < CUDNN_MIN_WORK or trainer in MASKED:
        assert_trained(record, device="gpu", jit_compile=True)
        assert record["policy"]["use_cudnn"] is False
    else:  # a threshold measured this low sends even these to cuDNN
        assert record["outcome"] == "trained" or is_cudnn_without_cpu_kernel(record) or is_one_line_refusal(record), (
            describe(record)
        )
