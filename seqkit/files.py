"""Files: the one place seqkit reads text and writes files.

Writes are atomic: write beside the target, flush to disk, then rename. A crash
at any moment leaves either the old file or the new one in place, never a
half-written file. Text is read as UTF-8, with an error that says what is
wrong otherwise. :func:`one_line` shortens a foreign error (from ``zipfile``,
Keras, TensorFlow) for a one-line message about a file.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
>>> write_text_atomic(target, "hello")
>>> read_text(target)
'hello'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from seqkit.errors import DataError

__all__ = ["one_line", "read_text", "write_bytes_atomic", "write_text_atomic"]


# Writing ------------------------------------------------------------------------------
def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _new_file_mode(target: Path) -> int:
    """The mode the target would have if written in place: its current one, else 0o666 less the umask.

    ``mkstemp`` creates its file readable by the owner only; without this a
    replaced file would lose its permissions and a new one would ignore the umask.
    """
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file only.

    Args:
        path: the file to create or replace.
        data: its new content.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(target)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(target.parent)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


# Reading ------------------------------------------------------------------------------
def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 text file, with an error that says what is wrong otherwise.

    A leading byte-order mark is dropped (it is not a token).

    Raises:
        DataError: the file is missing, unreadable, a directory or not UTF-8.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise DataError(f"Text file '{file}' does not exist. Check the path.") from None
    except IsADirectoryError:
        raise DataError(f"'{file}' is a directory; expected a UTF-8 text file.") from None
    except OSError as error:
        raise DataError(f"Text file '{file}' cannot be read: {error.strerror}.") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(
            f"Text file '{file}' is not valid UTF-8 (byte {error.start}: "
            f"0x{raw[error.start]:02x}). Convert it to UTF-8, e.g. with iconv."
        ) from None


# Messages -----------------------------------------------------------------------------
def one_line(error: BaseException, limit: int = 200) -> str:
    """``error``'s message on one line, at most ``limit`` characters; its type name if it has none.

    Args:
        error: the exception to describe.
        limit: the longest text returned; a longer one ends in ``…``. Defaults to 200.

    >>> one_line(ValueError("line one\\n   line two"))
    'line one line two'
    >>> one_line(KeyError()), one_line(ValueError("x" * 10), limit=5)
    ('KeyError', 'xxxx…')
    """
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
