"""benchmarks/generation.py, as a user runs it: the dry run end to end.

The script runs in a subprocess (it quiets TensorFlow for its whole process, which a test
process must not inherit): a tiny stream model, 4 samples of 20 characters, one round. About
10 s on 2 cores, most of it importing TensorFlow and training the tiny model: in the slow suite,
which CI runs, since the default suite is near its 5-minute budget.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "generation.py"


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dry_run() -> subprocess.CompletedProcess:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(SCRIPT), "--dry", "--rounds", "1"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)


def test_the_dry_run_prints_the_machine_the_command_and_the_table(dry_run):
    assert dry_run.returncode == 0, dry_run.stdout + dry_run.stderr[-3000:]
    lines = dry_run.stdout.splitlines()
    assert lines[0].startswith("machine: ") and " CPUs, Python " in lines[0] and ", TensorFlow " in lines[0]
    assert ", Keras " in lines[0]
    assert lines[1] == "command: python benchmarks/generation.py --dry --rounds 1"
    header = "| contender | seconds, median (min-max) | chars / s | seqkit batched / contender | fraction of ceiling |"
    assert header in lines
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| contender")]
    for start in ("| seqkit batched: 1 x `generate(prime, 20, num_samples=4,",
                  "| seqkit separate: 4 x `generate(prime, 20,",
                  "| TF tutorial `OneStep` loop (LSTM), batch of 4 primes, 20 steps |",
                  "| ceiling: 20 compiled network steps"):
        assert sum(row.startswith(start) for row in rows) == 1, (start, rows)
    batched = next(row for row in rows if row.startswith("| seqkit batched"))
    assert batched.split(" | ")[3] == "1.00x"
    ceiling = next(row for row in rows if row.startswith("| ceiling"))
    assert ceiling.rstrip(" |").endswith("100%")


def test_the_dry_run_checks_the_tutorial_model_is_seqkits_network(dry_run):
    assert dry_run.returncode == 0, dry_run.stderr[-3000:]
    check = next(line for line in dry_run.stdout.splitlines() if line.startswith("greedy check: "))
    assert check.startswith("greedy check: passed: tutorial argmax ")
    assert "seqkit batched sample i == seqkit separate sample seeded i: yes" in dry_run.stdout
