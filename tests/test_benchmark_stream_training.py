"""benchmarks/stream_training.py --compare, as a user runs it: the dry run end to end (issue 25).

In a subprocess (the script quiets TensorFlow for its whole process): a tiny model on 50 KB,
seqkit in float32 and with bfloat16 forced, PyTorch with and without bf16 autocast where
PyTorch is installed, the matmul peaks, one round. About 40 s on 2 cores: in the slow suite.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "stream_training.py"
TORCH = importlib.util.find_spec("torch") is not None

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dry_run() -> subprocess.CompletedProcess:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--compare", "--dry", "--rounds", "1", "--sizes", "small",
         "--contenders", "seqkit,seqkit-bf16,torch-1,torch-bf16-1"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900,
    )


def rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("| ") and not line.startswith("| contender")]


def test_the_dry_run_names_the_cpu_and_its_bfloat16_hardware(dry_run):
    assert dry_run.returncode == 0, dry_run.stdout + dry_run.stderr[-3000:]
    cpu = next(line for line in dry_run.stdout.splitlines() if line.startswith("CPU: "))
    assert "; bfloat16 hardware: " in cpu


def test_seqkit_in_both_precisions_with_held_out_bits(dry_run):
    assert dry_run.returncode == 0, dry_run.stderr[-3000:]
    table = rows(dry_run.stdout)
    ours = next(row for row in table if row.startswith("| seqkit StreamTrainer (precision auto) |"))
    forced = next(row for row in table if row.startswith("| seqkit StreamTrainer, precision='mixed_bfloat16' |"))
    assert ours.split(" | ")[3] == "1.00x"
    assert forced.split(" | ")[1] == "mixed_bfloat16"
    held_out = [float(row.rstrip(" |").split(" | ")[-1]) for row in (ours, forced)]
    assert abs(held_out[1] - held_out[0]) / held_out[0] < 0.01  # bfloat16 within 1% of float32


@pytest.mark.skipif(not TORCH, reason="PyTorch is an optional benchmark dependency")
def test_pytorch_contenders_peaks_and_ceilings(dry_run):
    assert dry_run.returncode == 0, dry_run.stderr[-3000:]
    assert "## matmul peaks (PyTorch, 2 threads, GFLOP/s)" in dry_run.stdout
    assert "ceilings (square-matmul peak / FLOPs per character): float32 " in dry_run.stdout
    table = rows(dry_run.stdout)
    assert sum(row.startswith("| PyTorch nn.LSTM, 1 thread |") for row in table) == 1
    autocast = next(row for row in table if row.startswith("| PyTorch nn.LSTM, bf16 autocast, 1 thread |"))
    assert "bfloat16 autocast" in autocast or "failed: " in autocast  # no bfloat16 LSTM without the hardware
