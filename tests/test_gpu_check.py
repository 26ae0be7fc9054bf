"""benchmarks/gpu_check.sh, the one prepared GPU check, in its dry mode on this CPU.

The script runs on a GPU machine without TensorFlow; ``GPU_CHECK_DRY=1`` runs the same steps
here at tiny sizes (the HLO replay of programs exported by ``benchmarks/hlo_export.py
--quick``, the stream trainer on Keras's JAX backend with TensorFlow unimportable, and the
stream benchmark), so that the one call on the GPU works the first time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    folder = tmp_path_factory.mktemp("gpu-check")
    hlo, out = folder / "hlo", folder / "out"
    exported = subprocess.run(
        [sys.executable, "benchmarks/hlo_export.py", "--quick", "--folder", str(hlo)], cwd=ROOT,
        capture_output=True, text=True, timeout=600,
    )
    assert exported.returncode == 0, exported.stderr[-2000:]
    environment = {**os.environ, "GPU_CHECK_DRY": "1", "HLO": str(hlo), "OUT": str(out), "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900,
    )
    return done, out


def test_the_dry_run_runs_every_step(dry_run: tuple[subprocess.CompletedProcess, Path]) -> None:
    done, out = dry_run
    summary = (out / "summary.txt").read_text()
    assert done.returncode == 0, summary
    for step in ("replay", "trainer", "stream"):
        assert f"] {step} exit 0 after" in summary


def test_the_dry_run_replays_the_programs_as_the_cpu_computed_them(dry_run: tuple[subprocess.CompletedProcess, Path]) -> None:
    _, out = dry_run
    results = json.loads((out / "replay.json").read_text())["results"]
    assert results and all(result["allclose"] for result in results)


def test_the_dry_run_trains_on_jax_without_tensorflow(dry_run: tuple[subprocess.CompletedProcess, Path]) -> None:
    _, out = dry_run
    trained = json.loads((out / "trainer.txt").read_text().strip().splitlines()[-1])
    assert trained["tensorflow_imported"] is False and trained["policy"]["backend"] == "jax"
    assert (out / "jax-gpu.seqkit").is_file()


def test_the_dry_run_measures_seqkit_on_jax_at_every_size(dry_run: tuple[subprocess.CompletedProcess, Path]) -> None:
    _, out = dry_run
    rows = json.loads((out / "gpu-stream.json").read_text())["rows"]
    measured = {(row["contender"], row["units"], row["streams"]) for row in rows}
    assert {("seqkit-cudnn", 16, 4), ("seqkit-xla", 16, 4), ("seqkit-cudnn", 32, 8), ("seqkit-xla", 32, 8)} <= measured
    assert all(row["chars_per_s"] > 0 and row["last_loss"] > 0 for row in rows)
