"""benchmarks/hlo_export.py and benchmarks/gpu_replay.py, as a user runs them: export the small
programs, then replay them without TensorFlow (``--dry``, on the CPU).

The export runs in a subprocess (it quiets TensorFlow for its whole process); the replay in a
subprocess in which ``import tensorflow`` (and Keras, and seqkit) fails, as on the GPU machine
that has JAX but no TensorFlow. One exported folder serves every test of the module.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "benchmarks" / "hlo_export.py"
REPLAY = ROOT / "benchmarks" / "gpu_replay.py"
QUICK = ("stream_64x32", "stateless_alphabet")

WITHOUT_TENSORFLOW = (
    "import runpy, sys\n"
    "for name in ('tensorflow', 'keras', 'seqkit'):\n"
    "    sys.modules[name] = None  # any import of them raises ImportError\n"
    "sys.argv = [{script!r}, *sys.argv[1:]]\n"
    "runpy.run_path({script!r}, run_name='__main__')\n"
)


def replay(*args: str) -> subprocess.CompletedProcess:
    """gpu_replay.py with ``args``, in a Python where TensorFlow cannot be imported, on the CPU."""
    environment = {**os.environ, "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    code = WITHOUT_TENSORFLOW.format(script=str(REPLAY))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """The small programs exported into a temporary folder."""
    folder = tmp_path_factory.mktemp("hlo")
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, str(EXPORT), "--quick", "--folder", str(folder)], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


@pytest.mark.slow  # an export and a replay in fresh processes, ~20 s; the refusals below stay in the default run
def test_export_writes_each_program_with_its_parameters_in_hlo_order(exported):
    index = json.loads((exported / "manifest.json").read_text())
    assert index["programs"] == list(QUICK)
    total = sum(path.stat().st_size for path in exported.rglob("*") if path.is_file())
    assert total < 5e6
    for name in QUICK:
        manifest = json.loads((exported / name / "manifest.json").read_text())
        assert manifest["policy"]["device"] == "gpu" and manifest["policy"]["jit_compile"]
        assert manifest["policy"]["use_cudnn"] is False
        assert manifest["tensorflow"] and manifest["steps_per_call"] >= 1
        names = [entry["name"] for entry in manifest["parameters"]]
        assert names[-1].startswith("adam") and names[-1].endswith("velocity:0") and "count" in names
        assert manifest["results"][0] == {"name": "records", "shape": [manifest["steps_per_call"], 3], "dtype": "float32"}
        for file in ("module.hlo.pb", "module.hlo.txt", "inputs.npz", "outputs.npz"):
            assert (exported / name / file).is_file()
    stream = json.loads((exported / "stream_64x32" / "manifest.json").read_text())
    assert stream["policy"]["kernel"] and (stream["units"], stream["batch"]) == (64, 32)


@pytest.mark.slow
def test_dry_replay_without_tensorflow_matches_the_cpu_outputs(exported, tmp_path):
    report = tmp_path / "replay.json"
    done = replay("--dry", "--folder", str(exported), "--json", str(report))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "max abs diff" in done.stdout and "ms/step" in done.stdout and "compile s" in done.stdout
    assert "n/a on a CPU" in done.stdout
    for name in QUICK:
        assert name in done.stdout
    data = json.loads(report.read_text())
    assert {"machine", "results", "tolerance", "repeats", "folder"} <= set(data)
    assert data["machine"]["platform"] == "cpu" and data["repeats"] == 1
    assert sorted((result["program"], result["mode"]) for result in data["results"]) == sorted(
        (name, mode) for name in QUICK for mode in ("default", "highest")
    )
    for result in data["results"]:
        assert {"compile_seconds", "ms_per_step", "max_abs_diff", "max_rel_diff", "allclose", "tf32",
                "entry_point"} <= set(result)
        assert result["allclose"], result
        assert result["max_rel_diff"] < 1e-4, result  # the same XLA CPU: rounding only
        assert result["tf32"] == "n/a" and result["ms_per_step"] > 0
        if result["mode"] == "highest":
            assert result["dots_rewritten"] > 0


def test_missing_folder_is_one_line_and_exit_status_2(tmp_path):
    done = replay("--dry", "--folder", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no folder" in lines[0] and "hlo_export.py" in lines[0]


def test_malformed_manifest_is_one_line_and_exit_status_2(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "programs": ["p"]}))
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "manifest.json").write_text(json.dumps({"program": "p"}))
    done = replay("--dry", "--folder", str(tmp_path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "malformed manifest" in lines[0] and "missing module" in lines[0]
