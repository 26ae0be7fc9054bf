"""Files: the one place seqkit reads text and writes files.

Writes are atomic: write beside the target, flush to disk, then rename. A crash
at any moment leaves either the old file or the new one in place, never a
half-written file; a device, FIFO or socket is never replaced. Reads trust
nothing: only regular files are read (a FIFO, ``/dev/zero`` or a link to them is
refused from ``os.stat``, before anything is opened), each kind of file up to a
size cap (:data:`MAX_TEXT_BYTES` for a corpus), in chunks. Text is read as UTF-8,
a leading byte-order mark dropped, with an error that says what is wrong
otherwise. :func:`one_line` shortens a foreign error (from ``zipfile``, Keras,
TensorFlow) and :func:`printable` escapes control characters, for one-line messages.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
>>> write_text_atomic(target, "hello")
>>> read_text(target)
'hello'
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from seqkit.errors import DataError, SeqkitError

__all__ = [
    "MAX_TEXT_BYTES",
    "TEXT_FILE",
    "FileKind",
    "check_path",
    "decode_text",
    "one_line",
    "printable",
    "read_file_bytes",
    "read_text",
    "read_text_stream",
    "write_bytes_atomic",
    "write_text_atomic",
]


_KINDS = (  # what a file that is not regular is, for messages
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


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


def _write_target(path: str | os.PathLike[str], follow_symlinks: bool) -> Path:
    """The file a write to ``path`` replaces: ``path``, or the file its symbolic link names if followed.

    Raises:
        OSError: ``path`` holds a NUL byte, or names a directory, a device, a FIFO or a
            socket (renaming over it would replace the node itself, ``/dev/null`` say).
    """
    text = os.fspath(path)
    if (b"\x00" if isinstance(text, bytes) else "\x00") in text:
        raise OSError(errno.EINVAL, "the path holds a NUL byte, which no file name can contain")
    target = Path(os.fsdecode(text))
    if target.is_symlink():
        if not follow_symlinks:
            return target  # the link itself is replaced
        target = Path(os.path.realpath(target))
    try:
        status = target.stat()
    except (FileNotFoundError, NotADirectoryError):
        return target
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "it is a directory", str(target))
    if not stat.S_ISREG(status.st_mode):
        what = next((name for test, name in _KINDS if test(status.st_mode)), "a special file")
        raise OSError(errno.EINVAL, f"it is {what}, not a regular file")
    return target


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, follow_symlinks: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file only.

    Args:
        path: the file to create or replace.
        data: its new content.
        follow_symlinks: if ``path`` is a symbolic link, replace the file it names (the
            link stays), or with False the link itself (for files inside a folder seqkit
            owns, which must never write elsewhere). Defaults to True.

    Raises:
        OSError: the file cannot be written (its folder is read-only or full, say), or
            ``path`` is a directory, a device, a FIFO or a socket, or holds a NUL byte.
    """
    target = _write_target(path, follow_symlinks)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, f"'{printable(str(target.parent))}' is not a folder") from None
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


def write_text_atomic(path: str | os.PathLike[str], text: str, *, follow_symlinks: bool = True) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"), follow_symlinks=follow_symlinks)


# Reading ------------------------------------------------------------------------------
MAX_TEXT_BYTES = 2 * 1024 * 1024 * 1024
"""The largest text file (a corpus) seqkit reads: 2 GiB. Larger files are refused before any byte is read."""

_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """What :func:`read_file_bytes` accepts, and how its errors are worded.

    Attributes:
        noun: what the file is called in messages, e.g. ``"Text file"``.
        expected: what a good file is, e.g. ``"a UTF-8 text file"``.
        limit: the largest size accepted, in bytes.
        error: the :class:`~seqkit.errors.SeqkitError` subclass raised.
        too_large: the advice given with a file over ``limit``.
        directory: the message for a directory (``{source}``, ``{path}``, ``{expected}`` are filled).
    """

    noun: str
    expected: str
    limit: int
    error: type[SeqkitError]
    too_large: str
    directory: str = "{source} is a directory; expected {expected}."

    def source(self, path: str | os.PathLike[str]) -> str:
        """``noun 'path'``, the path shown with control characters escaped."""
        return f"{self.noun} '{printable(os.fspath(path))}'"


TEXT_FILE = FileKind(
    "Text file", "a UTF-8 text file", MAX_TEXT_BYTES, DataError,
    "Split it into several files, or train from a token file (seqkit.streams.encode_text_files).",
    directory="'{path}' is a directory; expected {expected}.",
)
"""A corpus file: UTF-8 text of at most :data:`MAX_TEXT_BYTES`."""


def check_path(path: str | os.PathLike[str], kind: FileKind) -> Path:
    """``path`` as a :class:`~pathlib.Path`, refused with ``kind``'s error if no file could have that name.

    >>> check_path("a\\x00b", TEXT_FILE)
    Traceback (most recent call last):
    ...
    seqkit.errors.DataError: Text file 'a\\x00b' is not a valid path: it holds a NUL byte, which no file name can contain. Check the path.
    """
    try:
        text = os.fspath(path)
    except TypeError:
        raise kind.error(f"{kind.noun} path must be a string or a path; got {type(path).__name__}.") from None
    if (b"\x00" if isinstance(text, bytes) else "\x00") in text:
        raise kind.error(
            f"{kind.source(path)} is not a valid path: it holds a NUL byte, which no file name can contain. "
            "Check the path."
        )
    return Path(os.fsdecode(text))


def read_file_bytes(path: str | os.PathLike[str], kind: FileKind) -> bytes:
    """The bytes of a regular file of at most ``kind.limit`` bytes; anything else is refused.

    FIFOs, devices (``/dev/zero``), sockets and symbolic links to them are refused from
    ``os.stat`` before the file is opened, so a FIFO with no writer cannot block; the file
    is opened non-blocking and checked again on its descriptor (it may have been swapped),
    and read in chunks that stop past the limit (it may have grown).

    Args:
        path: the file.
        kind: what the file must be, and how errors are worded.

    Raises:
        SeqkitError: ``kind.error``, with a one-line message: the path is invalid, the
            file is missing, unreadable, a directory, not a regular file, or too large.
    """
    file = check_path(path, kind)
    source = kind.source(file)

    def refuse(status: os.stat_result) -> None:
        if stat.S_ISDIR(status.st_mode):
            raise kind.error(kind.directory.format(source=source, path=printable(str(file)), expected=kind.expected))
        if not stat.S_ISREG(status.st_mode):
            what = next((name for test, name in _KINDS if test(status.st_mode)), "a special file")
            raise kind.error(f"{source} is not a regular file ({what}); expected {kind.expected}.")
        if status.st_size > kind.limit:
            raise too_large(status.st_size)

    def too_large(size: int) -> SeqkitError:
        return kind.error(
            f"{source} holds {size} bytes, more than the {kind.limit} bytes allowed for {kind.expected}. "
            f"{kind.too_large}"
        )

    try:
        refuse(os.stat(file))
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except SeqkitError:
        raise
    except (FileNotFoundError, NotADirectoryError):
        raise kind.error(f"{source} does not exist. Check the path.") from None
    except OSError as error:
        raise kind.error(f"{source} cannot be read: {error.strerror or one_line(error)}.") from None
    try:
        refuse(os.fstat(descriptor))
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(descriptor, _CHUNK_BYTES):
            total += len(chunk)
            if total > kind.limit:
                raise too_large(total)
            chunks.append(chunk)
    except SeqkitError:
        raise
    except OSError as error:
        raise kind.error(f"{source} cannot be read: {error.strerror or one_line(error)}.") from None
    finally:
        os.close(descriptor)
    return b"".join(chunks)


def decode_text(raw: bytes, source: str) -> str:
    """UTF-8 ``raw`` as text; a leading byte-order mark is dropped (it is not a token).

    Args:
        raw: the bytes read.
        source: what they were read from, for the message, e.g. ``"Standard input"``.

    Raises:
        DataError: ``raw`` is not UTF-8.

    >>> decode_text(b"\\xef\\xbb\\xbfABC", "Standard input")
    'ABC'
    >>> decode_text(b"caf\\xe9", "Standard input")
    Traceback (most recent call last):
    ...
    seqkit.errors.DataError: Standard input is not valid UTF-8 (byte 3: 0xe9). Convert it to UTF-8, e.g. with iconv.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{source} is not valid UTF-8 (byte {error.start}: 0x{raw[error.start]:02x}). "
            "Convert it to UTF-8, e.g. with iconv."
        ) from None


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 text file (a regular file of at most :data:`MAX_TEXT_BYTES`).

    A leading byte-order mark is dropped (it is not a token).

    Raises:
        DataError: the file is missing, unreadable, a directory, not a regular file
            (a FIFO, ``/dev/zero``), too large, or not UTF-8.
    """
    return decode_text(read_file_bytes(path, TEXT_FILE), TEXT_FILE.source(path))


def read_text_stream(stream: BinaryIO, source: str = "Standard input", *, limit: int = MAX_TEXT_BYTES) -> str:
    """UTF-8 text from an open binary stream (standard input), at most ``limit`` bytes; no BOM.

    Args:
        stream: where to read, e.g. ``sys.stdin.buffer``.
        source: what it is called in messages. Defaults to ``"Standard input"``.
        limit: the most bytes accepted. Defaults to :data:`MAX_TEXT_BYTES`.

    Raises:
        DataError: more than ``limit`` bytes, or not UTF-8.

    >>> import io
    >>> read_text_stream(io.BytesIO("\\ufeffAB".encode("utf-8")))
    'AB'
    """
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(_CHUNK_BYTES):
        total += len(chunk)
        if total > limit:
            raise DataError(
                f"{source} holds more than the {limit} bytes allowed for a text. Split it into several files."
            )
        chunks.append(chunk)
    return decode_text(b"".join(chunks), source)


# Messages -----------------------------------------------------------------------------
def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped, for a one-line message.

    >>> printable("runs/a\\nb\\x1b[2J")
    'runs/a\\\\nb\\\\x1b[2J'
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


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
