"""Specification of seqkit.files' atomic writes: a file is replaced whole or not at all."""

import os
import stat

import pytest

from seqkit.files import write_bytes_atomic, write_text_atomic


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_writes_a_new_file(tmp_path):
    write_bytes_atomic(tmp_path / "data.bin", b"\x00\x01")
    assert (tmp_path / "data.bin").read_bytes() == b"\x00\x01"


def test_replaces_an_existing_file(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old content that is longer")
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"


def test_creates_missing_parent_directories(tmp_path):
    target = tmp_path / "a" / "b" / "data.bin"
    write_bytes_atomic(target, b"x")
    assert target.read_bytes() == b"x"


def test_leaves_no_temporary_file_behind(tmp_path):
    write_bytes_atomic(tmp_path / "data.bin", b"x")
    assert [path.name for path in tmp_path.iterdir()] == ["data.bin"]


def test_text_is_written_as_utf8(tmp_path):
    write_text_atomic(tmp_path / "t.txt", "日本 ü")
    assert (tmp_path / "t.txt").read_bytes() == "日本 ü".encode()


def test_a_failed_replace_keeps_the_old_file_and_removes_the_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def fail(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left on device"):
        write_bytes_atomic(target, b"new")
    assert (target.read_bytes(), [path.name for path in tmp_path.iterdir()]) == (b"old", ["data.bin"])


def test_an_interrupted_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_bytes_atomic(target, b"new")
    assert (target.read_bytes(), [path.name for path in tmp_path.iterdir()]) == (b"old", ["data.bin"])


def test_a_new_file_gets_the_usual_permissions_under_the_umask(tmp_path, umask_022):
    write_bytes_atomic(tmp_path / "data.bin", b"x")
    assert mode_of(tmp_path / "data.bin") == 0o644


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_bytes_atomic(target, b"new")
    assert mode_of(target) == 0o640
