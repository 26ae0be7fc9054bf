"""TensorFlow's ``checkpoint`` pointer file, read and written by seqkit itself.

The pointer says which ``ckpt-N`` of a folder is the latest. TensorFlow trusts it
(``CheckpointManager`` would read and delete whatever paths it names); seqkit
does not: :func:`read_pointer` accepts only ``ckpt-N`` names of the folder itself,
written as TensorFlow writes them, and :func:`latest_number` checks that the
files it names are there and regular. :func:`pointer_text` writes the pointer in
TensorFlow's format with relative names only.

>>> print(pointer_text(3, [2, 3]), end="")
model_checkpoint_path: "ckpt-3"
all_model_checkpoint_paths: "ckpt-2"
all_model_checkpoint_paths: "ckpt-3"
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from seqkit.errors import ModelFileError
from seqkit.files import FileKind, one_line, printable, read_file_bytes

POINTER_FILE = "checkpoint"
"""TensorFlow's state file in the folder: which ``ckpt-N`` is the latest (seqkit reads and writes it itself)."""

MAX_POINTER_BYTES = 64 * 1024
"""The largest ``checkpoint`` pointer read: 64 KiB (seqkit writes a few lines)."""

_POINTER_KIND = FileKind(
    "Checkpoint pointer", "TensorFlow's checkpoint state file", MAX_POINTER_BYTES, ModelFileError,
    "Delete the folder and train again, or give another folder.",
)
_CHECKPOINT = re.compile(r"ckpt-(\d{1,18})")
_CHECKPOINT_FILE = re.compile(r"ckpt-(\d{1,18})\.(?:index|data-\d{5}-of-\d{5})")
_POINTER_LINE = re.compile(r"\s*([A-Za-z_]+)\s*:\s*(.*?)\s*")
_POINTER_PATHS = ("model_checkpoint_path", "all_model_checkpoint_paths")
_POINTER_NUMBERS = ("all_model_checkpoint_timestamps", "last_preserved_timestamp")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def checkpoint_files(folder: Path) -> dict[int, list[str]]:
    """The ``ckpt-N`` files in ``folder``'s own listing, by ``N``."""
    found: dict[int, list[str]] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            match = _CHECKPOINT_FILE.fullmatch(entry.name)
            if match:
                found.setdefault(int(match.group(1)), []).append(entry.name)
    return found


def read_pointer(folder: Path, where: str) -> int | None:
    """The ``N`` of the ``ckpt-N`` the pointer names as the latest; None without a pointer.

    Every entry must be a ``ckpt-N`` of this folder, written as TensorFlow writes it
    (``model_checkpoint_path: "ckpt-2"``); timestamps must be numbers; nothing else may be there.
    """
    file = folder / POINTER_FILE
    if not os.path.lexists(file):
        return None
    text = read_file_bytes(file, _POINTER_KIND).decode("utf-8", "replace")
    shown = f"{where}: its pointer file '{printable(str(file))}'"
    fix = f"Delete the folder '{printable(str(folder))}' and train again, or give another folder."
    latest: int | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parsed = _POINTER_LINE.fullmatch(line)
        key, value = parsed.groups() if parsed else ("", "")
        if key in _POINTER_PATHS:
            name = _CHECKPOINT.fullmatch(value[1:-1]) if len(value) > 2 and value[0] == value[-1] == '"' else None
            if name is None:
                raise ModelFileError(
                    f"{shown} names {_shown(value)}, not a checkpoint 'ckpt-N' of "
                    f"this folder; seqkit reads and deletes nothing outside the folder. {fix}"
                )
            if key == "model_checkpoint_path":
                if latest is not None:
                    raise ModelFileError(f"{shown} is corrupted: it names the latest checkpoint twice. {fix}")
                latest = int(name.group(1))
        elif key not in _POINTER_NUMBERS or not _NUMBER.fullmatch(value):
            raise ModelFileError(
                f"{shown} is corrupted (line {number}: {_shown(line)}). {fix}"
            )
    if latest is None:
        raise ModelFileError(f"{shown} is corrupted: it names no latest checkpoint. {fix}")
    return latest


def latest_number(folder: Path, where: str) -> int | None:
    """The latest checkpoint's ``N``, checked against the files; None if the folder holds none.

    Raises:
        ModelFileError: the pointer is corrupted, names anything but a ``ckpt-N`` of the
            folder, is missing while ``ckpt-*`` files are there, or names files that are
            missing or not regular files; or the folder cannot be read.
    """
    fix = f"Delete the folder '{printable(str(folder))}' and train again, or give another folder."
    try:
        if not folder.is_dir():
            return None
        files = checkpoint_files(folder)
        latest = read_pointer(folder, where)
    except ModelFileError:
        raise
    except OSError as error:
        raise ModelFileError(f"{where} cannot be read: {error.strerror or one_line(error)}.") from None
    if latest is None:
        if files:
            names = ", ".join(f"ckpt-{number}" for number in sorted(files)[:3])
            raise ModelFileError(
                f"{where} holds checkpoint files ({names}{', ...' if len(files) > 3 else ''}) but no '{POINTER_FILE}' "
                f"pointer naming the latest; it is neither empty nor resumable. {fix}"
            )
        return None
    names = files.get(latest, [])
    if f"ckpt-{latest}.index" not in names or len(names) < 2:
        raise ModelFileError(f"{where}: its pointer names checkpoint 'ckpt-{latest}', whose files are missing. {fix}")
    for name in names:
        try:
            regular = stat.S_ISREG(os.lstat(folder / name).st_mode)
        except OSError:
            regular = False
        if not regular:
            raise ModelFileError(f"{where}: its checkpoint file '{name}' is not a regular file. {fix}")
    return latest



def _shown(text: str, limit: int = 80) -> str:
    """``text`` for a one-line message: control characters escaped, at most ``limit`` characters."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pointer_text(latest: int, kept: Sequence[int]) -> str:
    """The pointer in TensorFlow's format (``tf.train.latest_checkpoint`` reads it), relative names only."""
    lines = [f'model_checkpoint_path: "ckpt-{latest}"']
    lines += [f'all_model_checkpoint_paths: "ckpt-{number}"' for number in kept]
    return "\n".join(lines) + "\n"


__all__ = [
    "MAX_POINTER_BYTES",
    "POINTER_FILE",
    "checkpoint_files",
    "latest_number",
    "pointer_text",
    "read_pointer",
]


_TEMPORARY_FOLDER = re.compile(r"ckpt-\d{1,18}_temp")
_TEMPORARY_FILE = re.compile(r"part-\d{5}-of-\d{5}\.(?:index|data-\d{5}-of-\d{5})(?:\.tempstate\d{1,24})?")


def remove_interrupted_saves(folder: Path) -> list[str]:
    """Delete what a save killed half-way left: TensorFlow's ``ckpt-N_temp`` folders of shard files
    (``part-00000-of-00001.index``, ``.data-00000-of-00001``, and their ``.tempstate...`` files).

    Only real folders (not links) of that exact name are touched, only TensorFlow's shard
    files in them are deleted by name, and a folder holding anything else is left as it is.
    The pointer never names them, so nothing a resume needs is lost.

    Returns:
        The names of the folders removed.
    """
    removed = []
    with os.scandir(folder) as entries:
        temporaries = [entry.name for entry in entries
                       if _TEMPORARY_FOLDER.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)]
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for name in temporaries:
        try:
            handle = os.open(folder / name, flags)  # the folder itself, never what a link swapped in names
        except OSError:
            continue
        try:
            with os.scandir(handle) as entries:
                names = [(entry.name, entry.is_file(follow_symlinks=False)) for entry in entries]
            if not all(regular and _TEMPORARY_FILE.fullmatch(file) for file, regular in names):
                continue
            for file, _ in names:
                os.unlink(file, dir_fd=handle)
        finally:
            os.close(handle)
        os.rmdir(folder / name)
        removed.append(name)
    return removed
