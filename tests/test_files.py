"""Reading trusts nothing: only regular files, each kind up to a cap; writes never replace a device.

``seqkit.files`` is where every corpus, vocabulary and checkpoint record is read. A FIFO
with no writer, ``/dev/zero`` or a link to it is refused from ``os.stat`` before anything is
opened, so nothing blocks or grows without bound; a NUL byte in a path is a one-line error.
"""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest

from seqkit.datasets import load_text
from seqkit.errors import DataError, ModelFileError
from seqkit.files import (
    MAX_TEXT_BYTES,
    TEXT_FILE,
    FileKind,
    decode_text,
    printable,
    read_file_bytes,
    read_text,
    read_text_stream,
    write_bytes_atomic,
)
from seqkit.vocab import Vocabulary

SMALL = FileKind("Text file", "a UTF-8 text file", 8, DataError, "Split it into several files.")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def refused_quickly(call, error: type[Exception]) -> str:
    """The message of ``error`` raised by ``call``, which must not block (a hang fails after 10 s)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as raised:  # noqa: BLE001 (handed back to the test)
            outcome.append(raised)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert outcome, "the call blocked for 10 s"
    assert isinstance(outcome[0], error), outcome[0]
    message = str(outcome[0])
    assert "\n" not in message
    return message


def test_a_fifo_with_no_writer_is_refused_at_once(fifo: Path) -> None:
    assert refused_quickly(lambda: load_text(fifo), DataError) == (
        f"Text file '{fifo}' is not a regular file (a FIFO); expected a UTF-8 text file."
    )


def test_a_vocabulary_from_a_fifo_is_refused_at_once(fifo: Path) -> None:
    assert refused_quickly(lambda: Vocabulary.load(fifo), ModelFileError) == (
        f"Vocabulary file '{fifo}' is not a regular file (a FIFO); expected a JSON file."
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_at_once(device: str) -> None:
    started = time.monotonic()
    assert refused_quickly(lambda: read_text(device), DataError) == (
        f"Text file '{device}' is not a regular file (a character device); expected a UTF-8 text file."
    )
    assert time.monotonic() - started < 5


def test_a_link_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "corpus.txt"
    link.symlink_to("/dev/zero")
    assert refused_quickly(lambda: Vocabulary.from_text_file(link), DataError) == (
        f"Text file '{link}' is not a regular file (a character device); expected a UTF-8 text file."
    )


def test_a_link_to_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("ABC", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    assert read_text(tmp_path / "link.txt") == "ABC"


def test_a_file_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"A" * 9)
    with pytest.raises(DataError) as caught:
        read_file_bytes(path, SMALL)
    assert str(caught.value) == (
        f"Text file '{path}' holds 9 bytes, more than the 8 bytes allowed for a UTF-8 text file. "
        "Split it into several files."
    )
    path.write_bytes(b"A" * 8)
    assert read_file_bytes(path, SMALL) == b"A" * 8


def test_the_caps_are_documented_constants() -> None:
    from seqkit.checkpoint import MAX_FINGERPRINT_BYTES, MAX_POINTER_BYTES
    from seqkit.vocab import MAX_VOCABULARY_BYTES

    assert MAX_TEXT_BYTES == TEXT_FILE.limit == 2 * 1024**3
    assert MAX_VOCABULARY_BYTES == 64 * 1024**2
    assert (MAX_FINGERPRINT_BYTES, MAX_POINTER_BYTES) == (1024**2, 64 * 1024)


@pytest.mark.parametrize(
    ("load", "error", "message"),
    [
        (load_text, DataError, "Text file 'a\\x00b.txt' is not a valid path: it holds a NUL byte, which no file name "
         "can contain. Check the path."),
        (Vocabulary.load, ModelFileError, "Vocabulary file 'a\\x00b.txt' is not a valid path: it holds a NUL byte, "
         "which no file name can contain. Check the path."),
    ],
    ids=["text", "vocabulary"],
)
def test_a_nul_byte_in_a_path_is_one_line(load, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        load("a\x00b.txt")
    assert str(caught.value) == message


def test_a_nul_byte_in_a_bundle_path_is_one_line() -> None:
    from seqkit.sequence_model import load_bundle

    with pytest.raises(ModelFileError) as caught:
        load_bundle("m\x00.seqkit")
    assert str(caught.value) == (
        "Bundle 'm\\x00.seqkit' is not a valid path: it holds a NUL byte, which no file name can contain. "
        "Check the path."
    )


def test_control_characters_in_paths_are_escaped() -> None:
    with pytest.raises(DataError) as caught:
        read_text("/no/such\n\x1b]0;pwned\x07.txt")
    assert str(caught.value) == "Text file '/no/such\\n\\x1b]0;pwned\\x07.txt' does not exist. Check the path."
    assert printable("日本 ü") == "日本 ü"


# Standard input -------------------------------------------------------------------------
def test_a_bom_on_standard_input_is_not_a_token() -> None:
    assert read_text_stream(io.BytesIO("\ufeffABC".encode("utf-8"))) == "ABC"
    assert decode_text("\ufeffABC".encode("utf-8"), "Standard input") == "ABC"


def test_standard_input_over_the_cap_is_refused() -> None:
    with pytest.raises(DataError) as caught:
        read_text_stream(io.BytesIO(b"A" * 9), limit=8)
    assert str(caught.value) == (
        "Standard input holds more than the 8 bytes allowed for a text. Split it into several files."
    )


def test_standard_input_not_utf8_keeps_its_message() -> None:
    with pytest.raises(DataError) as caught:
        read_text_stream(io.BytesIO("Café".encode("latin-1")))
    assert str(caught.value) == (
        "Standard input is not valid UTF-8 (byte 3: 0xe9). Convert it to UTF-8, e.g. with iconv."
    )


# Writing -------------------------------------------------------------------------------
def test_a_write_never_replaces_a_fifo(fifo: Path) -> None:
    with pytest.raises(OSError) as caught:
        write_bytes_atomic(fifo, b"data")
    assert caught.value.strerror == "it is a FIFO, not a regular file"
    assert fifo.is_fifo()


def test_a_write_through_a_link_replaces_the_file_it_names(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_bytes(b"old")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    write_bytes_atomic(tmp_path / "link.json", b"new")
    assert (tmp_path / "link.json").is_symlink() and (tmp_path / "real.json").read_bytes() == b"new"


def test_saving_a_vocabulary_where_it_cannot_be_written_is_one_line(tmp_path: Path, fifo: Path) -> None:
    with pytest.raises(ModelFileError) as caught:
        Vocabulary(["A", "B"]).save(fifo)
    assert str(caught.value) == (
        f"Cannot save the vocabulary to '{fifo}': it is a FIFO, not a regular file. Give a writable "
        "file path."
    )
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFileError) as caught:
        Vocabulary(["A", "B"]).save(tmp_path / "file" / "vocabulary.json")
    assert str(caught.value) == (
        f"Cannot save the vocabulary to '{tmp_path / 'file' / 'vocabulary.json'}': '{tmp_path / 'file'}' is not a "
        "folder. Give a writable file path."
    )


def test_a_token_file_must_be_a_regular_file() -> None:
    import numpy as np

    from seqkit.streams import TokenFile

    vocabulary = Vocabulary(["A", "B"])
    with pytest.raises(DataError) as caught:
        TokenFile(Path("/dev/zero"), vocabulary, np.array([0]))
    assert str(caught.value) == "Token file '/dev/zero' is not a regular file; expected a file written by encode_corpus."
    with pytest.raises(DataError) as caught:
        TokenFile(Path("c\x00.ids"), vocabulary, np.array([0]))
    assert str(caught.value) == (
        "Token file 'c\\x00.ids' is not a valid path: it holds a NUL byte, which no file name can contain. Check the path."
    )
