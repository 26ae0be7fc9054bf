"""benchmarks/linux_kernel.py, as a user runs it: the dry run end to end, and the corpus from a package.

Every test runs the script in a subprocess (it quiets TensorFlow for its whole process, which a
test process must not inherit). The corpus tests read a small fake ``linux-source`` package built
here, so they need neither the real one (140 MB) nor TensorFlow.
"""

import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "linux_kernel.py"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=600)


def tar_xz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def ar_member(name: str, data: bytes) -> bytes:
    header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
    return header + data + (b"\n" if len(data) % 2 else b"")


KERNEL = {
    **{f"linux-source-9.9/drivers/d{i:02}.c": f"/* driver {i} */\nint f{i}(void)\n{{\n\treturn {i};\n}}\n" * 12
       for i in range(40)},
    "linux-source-9.9/include/h.h": "/* © 2015 */\n#define H 1\n",
    "linux-source-9.9/README": "NOT C SOURCE " * 100,
}
"""The fake kernel tree: 40 C files, a header with the only non-ASCII character, a README."""

C_CHARACTERS = sum(len(text) for path, text in KERNEL.items() if path.endswith((".c", ".h")))


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    """:data:`KERNEL` as a Debian package, as ``apt-get download linux-source-9.9`` would fetch it."""
    data = tar_xz({"./usr/src/linux-source-9.9.tar.xz": tar_xz({path: text.encode() for path, text in KERNEL.items()})})
    deb = tmp_path_factory.mktemp("apt") / "linux-source-9.9_9.9.1-1_all.deb"
    deb.write_bytes(b"!<arch>\n" + ar_member("debian-binary", b"2.0\n") + ar_member("control.tar.xz", tar_xz({}))
                    + ar_member("data.tar.xz", data))
    return deb


def build(package: Path, folder: Path, *extra: str) -> subprocess.CompletedProcess:
    return run("--source", str(package), "--corpus-dir", str(folder), "--characters", "3000", "--corpus-only", *extra)


@pytest.mark.slow
def test_the_dry_run_prints_the_machine_the_command_and_the_table():
    result = run("--dry")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("machine: ") and " CPUs, Python " in lines[0]
    assert lines[1] == "command: python benchmarks/linux_kernel.py --dry"
    assert "| model | parameters: paper / seqkit | paper test: nats (bits) / char " in result.stdout
    assert any(line.startswith("| LSTM 1x16 (1 x 16 cells) | ") for line in lines)
    if importlib.util.find_spec("seqkit.baselines") is None:
        assert "baselines skipped" in result.stderr
    else:
        assert any("20-gram" in line for line in lines if line.startswith("| "))


def test_a_missing_linux_source_fails_with_one_line_saying_how_to_get_it(tmp_path):
    if list(Path("/usr/src").glob("linux-source-*")):
        pytest.skip("this machine has a linux-source package in /usr/src")
    result = run("--corpus-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"linux_kernel.py: no linux-source package in {tmp_path}, ")
    assert "apt-get download linux-source-X.Y" in result.stderr and "--source PATH" in result.stderr


def test_the_corpus_is_the_first_characters_of_the_shuffled_c_files_split_90_5_5(package, tmp_path):
    result = build(package, tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["kernel_version"] == "9.9.1-1" and manifest["source"] == package.name
    assert manifest["files"]["c_and_h_in_tree"] == 41 and manifest["characters"] == 3000
    assert {name: entry["characters"] for name, entry in manifest["splits"].items()} == {
        "train": 2700, "validation": 150, "test": 150}
    text = "".join((tmp_path / f"{name}.txt").read_text() for name in ("train", "validation", "test"))
    assert "NOT C SOURCE" not in text and text.startswith("/* ")
    for name, entry in manifest["splits"].items():
        assert hashlib.sha256((tmp_path / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


def test_a_second_run_reuses_the_corpus_after_checking_it(package, tmp_path):
    build(package, tmp_path)
    result = build(package, tmp_path)
    assert result.returncode == 0 and "reused and verified" in result.stdout


def test_a_changed_split_is_refused(package, tmp_path):
    build(package, tmp_path)
    (tmp_path / "test.txt").write_text("tampered")
    result = build(package, tmp_path)
    assert result.returncode == 1
    assert "test.txt does not match the sha256" in result.stderr


def test_the_seed_sets_the_file_order(package, tmp_path):
    build(package, tmp_path / "0")
    build(package, tmp_path / "0 again")
    build(package, tmp_path / "1", "--seed", "1")
    train = {folder: (tmp_path / folder / "train.txt").read_text() for folder in ("0", "0 again", "1")}
    assert train["0"] == train["0 again"] != train["1"]


def test_ascii_keeps_only_printable_ascii_tab_newline_and_form_feed(package, tmp_path):
    build(package, tmp_path / "utf8", "--characters", str(C_CHARACTERS))  # every file
    build(package, tmp_path / "ascii", "--characters", str(C_CHARACTERS - 1), "--charset", "ascii")
    assert "©" in (tmp_path / "utf8" / "train.txt").read_text()
    assert "©" not in "".join(path.read_text() for path in (tmp_path / "ascii").glob("*.txt"))


def test_the_docstring_examples_hold():
    result = subprocess.run([sys.executable, "-m", "doctest", str(SCRIPT)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
