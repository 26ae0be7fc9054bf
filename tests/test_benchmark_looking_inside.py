"""benchmarks/looking_inside.py, as a user runs it: the dry run end to end (issue 27).

In a subprocess: a 2-layer LSTM of 16 units trained for one epoch on 30 KB of the standard
library, 5,000 held-out characters read through its cells, the figures written. About 20 s: in
the slow suite.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "looking_inside.py"

pytestmark = pytest.mark.slow


def test_the_dry_run_reports_every_probe_per_layer_and_draws(tmp_path):
    pytest.importorskip("matplotlib")
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, str(SCRIPT), "--dry", "--figures", str(tmp_path)], cwd=ROOT, env=environment,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert any(line.startswith("## LSTM 16 x 2 layer(s), 0.03 MB x 1 epochs") for line in lines)
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| probe")]
    for probe in ("string", "line_position", "comment", "bracket_depth", "indentation"):
        assert [row.split(" | ")[1] for row in table if row.startswith(f"| {probe} |")] in (["1", "2"], ["-"])
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "cells-line-position.png", "cells-saturation.png", "cells-string.png"]
