"""seqkit as a Python package: an honest import, ``python -m seqkit``, and a complete wheel.

- Importing the library changes no process-wide setting: after ``import seqkit``,
  ``seqkit.trainers`` and a fit, ``os.environ``, TensorFlow's logger level and the
  warning filters are exactly what importing TensorFlow and Keras alone leaves
  (TensorFlow sets a few variables of its own). Quieting TensorFlow is the
  command line's decision, never the library's.
- ``python -m seqkit`` is the ``seqkit`` command.
- A wheel built from the checkout carries every package, ``py.typed``, the
  license, the metadata (MIT, URLs, classifiers) and the version written once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import seqkit

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 300

SNAPSHOT = """
import json, logging, os, sys, warnings
sys.modules["jax"] = None  # where JAX is installed (the test extra) TensorFlow imports it, and JAX sets TF_CPP_MIN_LOG_LEVEL
def snapshot():
    return {
        "environ": dict(os.environ),
        "tensorflow_logger_level": logging.getLogger("tensorflow").level,
        "warning_filters": [repr(entry) for entry in warnings.filters],
    }
"""


def run_python(code: str) -> dict:
    """Run ``code`` in a fresh interpreter, as a user would (no TF_CPP_MIN_LOG_LEVEL); return its JSON."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-c", SNAPSHOT + code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def tensorflow_alone() -> dict:
    """What importing TensorFlow and Keras, and nothing else, leaves in a process."""
    return run_python("import tensorflow, keras\nprint(json.dumps(snapshot()))")


@pytest.fixture(scope="module")
def with_seqkit() -> dict:
    """The same process state after importing seqkit (TensorFlow through it) and fitting a model."""
    return run_python(
        "before = snapshot()\n"
        "import seqkit, seqkit.trainers, seqkit.plot, seqkit.callbacks\n"
        "imported = snapshot()\n"
        "seqkit.trainers.StatelessTrainer(window=2, units=4, epochs=2).fit(seqkit.alphabet())\n"
        "seqkit.trainers.StatefulTrainer(units=4, epochs=2).fit(seqkit.alphabet(), verbose=1)\n"
        "import seqkit._quiet\n"
        "print(json.dumps({'before': before, 'imported': imported, 'fitted': snapshot(),\n"
        "                  'silenced': seqkit._quiet._silenced}))"
    )


@pytest.mark.slow
def test_importing_seqkit_sets_no_environment_variable(tensorflow_alone, with_seqkit):
    assert "TF_CPP_MIN_LOG_LEVEL" not in with_seqkit["fitted"]["environ"]
    assert with_seqkit["imported"]["environ"] == tensorflow_alone["environ"]
    assert with_seqkit["fitted"]["environ"] == with_seqkit["imported"]["environ"]


@pytest.mark.slow
def test_importing_seqkit_leaves_tensorflows_logger_level(tensorflow_alone, with_seqkit):
    levels = [with_seqkit[stage]["tensorflow_logger_level"] for stage in ("before", "imported", "fitted")]
    assert levels == [tensorflow_alone["tensorflow_logger_level"]] * 3
    assert with_seqkit["silenced"] is False


@pytest.mark.slow
def test_importing_seqkit_adds_no_warning_filter(tensorflow_alone, with_seqkit):
    assert with_seqkit["imported"]["warning_filters"] == tensorflow_alone["warning_filters"]
    assert with_seqkit["fitted"]["warning_filters"] == with_seqkit["imported"]["warning_filters"]


def test_fitting_leaves_numpys_global_random_state():
    import numpy as np

    from seqkit.trainers import StatelessTrainer

    np.random.seed(12345)
    before = np.random.get_state()
    StatelessTrainer(window=2, units=4, epochs=1).fit(seqkit.alphabet())
    after = np.random.get_state()
    assert after[0] == before[0] and np.array_equal(after[1], before[1]) and after[2:] == before[2:]


def test_the_command_line_quiets_tensorflow_only_while_it_runs(runner, tmp_path):
    from seqkit.cli.main import main

    filters = list(warnings.filters)
    result = runner.invoke(main, ["vocab", "--alphabet", "--save", str(tmp_path / "vocab.json")])
    assert result.exit_code == 0, result.output
    assert warnings.filters == filters


# python -m seqkit ---------------------------------------------------------------------
def test_python_m_seqkit_is_the_seqkit_command():
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "seqkit", "--help"], capture_output=True, text=True, env=env,
                          timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("Usage: python -m seqkit [OPTIONS] COMMAND [ARGS]...")
    for command in ("experiments", "train", "predict", "generate"):
        assert command in done.stdout.split("Commands:")[1]
    version = subprocess.run([sys.executable, "-m", "seqkit", "--version"], capture_output=True, text=True,
                             timeout=TIMEOUT)
    assert version.stdout.strip() == f"seqkit, version {seqkit.__version__}"


# The wheel ------------------------------------------------------------------------------
IGNORED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", ".hypothesis", "__pycache__",
                                 "*.pyc", ".pytest_cache", "tests", "benchmarks", "docs")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """A wheel built by pip from a copy of the checkout (so the build writes nothing into it)."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "seqkit"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(folder / "dist"),
         str(source)],
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    if done.returncode != 0 and "Could not find a version that satisfies the requirement" in done.stderr:
        pytest.skip("pip cannot fetch the build backend (no package index reachable)")
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = (folder / "dist").glob("seqkit-*.whl")
    return zipfile.ZipFile(built)


def _metadata(wheel: zipfile.ZipFile):
    (name,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    return Parser().parsestr(wheel.read(name).decode("utf-8"))


@pytest.mark.slow
def test_the_wheel_carries_py_typed_and_the_license(wheel):
    names = wheel.namelist()
    assert "seqkit/py.typed" in names
    (license_name,) = [name for name in names if ".dist-info/" in name and name.rsplit("/", 1)[-1] == "LICENSE"]
    text = wheel.read(license_name).decode("utf-8")
    assert text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 seqkit developers" in text


@pytest.mark.slow
def test_the_wheel_carries_every_package_and_the_data(wheel):
    names = set(wheel.namelist())
    for folder, prefix in ((ROOT / "seqkit", "seqkit"), (ROOT / "cli", "seqkit/cli")):
        for module in folder.rglob("*.py"):
            if "__pycache__" not in module.parts:
                assert f"{prefix}/{module.relative_to(folder).as_posix()}" in names
    assert "seqkit/__main__.py" in names
    assert "seqkit/data/tiny_python.txt" in names


@pytest.mark.slow
def test_the_wheel_metadata(wheel):
    metadata = _metadata(wheel)
    assert metadata["Name"] == "seqkit"
    assert metadata["Version"] == seqkit.__version__
    assert "MIT" in (metadata.get("License-Expression") or metadata.get("License") or "")
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and "Framework :: Jupyter" in classifiers
    urls = dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL"))
    assert {"Documentation", "Source", "Issues"} <= set(urls)
    extras = metadata.get_all("Provides-Extra")
    assert {"plot", "tensorboard", "test"} <= set(extras)


def test_the_version_is_written_once():
    setup = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert "version = attr: seqkit.version.__version__" in setup
    assert setup.count("version =") == 1
