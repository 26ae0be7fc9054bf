"""The seqkit executable's start-up and exit: XLA's persistent cache, a lean Keras import, a quick exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli import startup
from cli.startup import CACHE_FLAG, cache_key, cache_root, enable_compilation_cache

ROOT = Path(__file__).parents[1]


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("SEQKIT_CACHE_DIR", "XDG_CACHE_HOME", "SEQKIT_XLA_CACHE", "TF_XLA_FLAGS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_cache_lives_in_seqkit_cache_dir_first(clean_environment, tmp_path):
    clean_environment.setenv("SEQKIT_CACHE_DIR", str(tmp_path / "mine"))
    clean_environment.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "mine"


def test_the_cache_lives_in_xdg_cache_home_next(clean_environment, tmp_path):
    clean_environment.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "seqkit"


def test_the_cache_lives_in_the_home_cache_by_default(clean_environment):
    assert cache_root() == Path.home() / ".cache" / "seqkit"


def test_enabling_the_cache_names_a_keyed_folder_in_tf_xla_flags(clean_environment, tmp_path):
    clean_environment.setenv("SEQKIT_CACHE_DIR", str(tmp_path))
    clean_environment.setenv("TF_XLA_FLAGS", "--tf_xla_auto_jit=0")
    folder = enable_compilation_cache()
    assert folder == tmp_path / "xla" / cache_key()
    assert folder.is_dir()
    assert os.environ["TF_XLA_FLAGS"] == f"--tf_xla_auto_jit=0 {CACHE_FLAG}={folder}"


def test_the_key_changes_with_the_tensorflow_version(clean_environment):
    before = cache_key()
    clean_environment.setattr(startup, "_version", lambda package: "9.9.9" if package == "tensorflow" else "1")
    assert cache_key() != before


def test_seqkit_xla_cache_off_leaves_the_cache_off(clean_environment, tmp_path):
    clean_environment.setenv("SEQKIT_CACHE_DIR", str(tmp_path))
    clean_environment.setenv("SEQKIT_XLA_CACHE", "off")
    assert enable_compilation_cache() is None
    assert "TF_XLA_FLAGS" not in os.environ
    assert not (tmp_path / "xla").exists()


def test_a_cache_directory_already_in_tf_xla_flags_is_kept(clean_environment, tmp_path):
    clean_environment.setenv("SEQKIT_CACHE_DIR", str(tmp_path))
    clean_environment.setenv("TF_XLA_FLAGS", f"{CACHE_FLAG}=/somewhere/else")
    assert enable_compilation_cache() is None
    assert os.environ["TF_XLA_FLAGS"] == f"{CACHE_FLAG}=/somewhere/else"


def test_an_unwritable_cache_root_leaves_the_cache_off(clean_environment, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    clean_environment.setenv("SEQKIT_CACHE_DIR", str(blocker))
    assert enable_compilation_cache() is None
    assert "TF_XLA_FLAGS" not in os.environ


def _seqkit(*args: str, cache: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SEQKIT_CACHE_DIR": str(cache)}
    environment.pop("TF_XLA_FLAGS", None)
    environment.pop("SEQKIT_XLA_CACHE", None)
    return subprocess.run(
        [sys.executable, "-m", "seqkit", *args], capture_output=True, text=True, timeout=300, cwd=ROOT, env=environment
    )


@pytest.mark.slow
def test_a_second_run_reads_the_compiled_programs_of_the_first(tmp_path):
    arguments = ("train", "--trainer", "stateful", "--units", "8", "--epochs", "40", "--batch-size", "1", "--json")
    first = _seqkit(*arguments, cache=tmp_path)
    programs = sorted((tmp_path / "xla" / cache_key()).iterdir())
    second = _seqkit(*arguments, cache=tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert programs, "the first run wrote no compiled program"
    assert sorted((tmp_path / "xla" / cache_key()).iterdir()) == programs, "the second run compiled again"
    first_result, second_result = json.loads(first.stdout), json.loads(second.stdout)
    for result in (first_result, second_result):
        result.pop("seconds")
    assert first_result == second_result


def test_the_executable_keeps_its_exit_status_for_usage_errors(tmp_path):
    result = _seqkit("train", "--epochs", "0", cache=tmp_path)
    assert result.returncode == 2
    assert "Error: Invalid value for '--epochs': 0 is not in the range x>=1." in result.stderr


@pytest.mark.slow
def test_the_lean_import_leaves_out_what_keras_would_import_for_nothing():
    code = (
        "import sys\n"
        "from seqkit._quiet import quiet_import, silence_tensorflow\n"
        "silence_tensorflow(lean=True)\n"
        "quiet_import()\n"
        "print('matplotlib' in sys.modules, 'sklearn' in sys.modules)\n"
        "import matplotlib.pyplot, sklearn.base\n"
        "print('matplotlib' in sys.modules, 'sklearn' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.stdout.split() == ["False", "False", "True", "True"], result.stderr
