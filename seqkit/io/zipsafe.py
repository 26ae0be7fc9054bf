"""Zip archives read defensively: nothing is trusted before it is checked.

An archive is refused unless it is a regular, non-empty zip file whose member
names are relative (no absolute path, drive letter, NUL or ``..``), none a
symbolic link, none listed twice, none encrypted, and each no larger than its
limit — checked from the headers first, then again while reading in bounded
chunks, so a zip bomb or a lying header never costs more than the limit.
Every refusal is a one-line :class:`~seqkit.errors.ModelFileError` whose
wording comes from the :class:`ArchiveKind` being read.

>>> unsafe_name("../etc/passwd"), unsafe_name("/abs"), unsafe_name("spec.json")
(True, True, False)
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from seqkit.errors import ModelFileError
from seqkit.files import one_line

CHUNK_BYTES = 1024 * 1024
"""Bytes decompressed at a time: the most a read holds beyond its limit."""

ZIP_MAGIC = b"PK\x03\x04"
"""The first bytes of a zip file (a local file header)."""

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""The modification time :func:`zip_bytes` gives every member, so that an archive's bytes depend on its members only."""


@dataclass(frozen=True)
class ArchiveKind:
    """An archive format, as its refusals name it.

    Attributes:
        name: what the archive is, e.g. ``"seqkit bundle"``.
        plural: the name of several, e.g. ``"bundles"``.
        expected: what a path should be, e.g. ``"a .seqkit file written by save_bundle"``.
        create: how to make one, e.g. ``"save a model there with save_bundle(model, path)"``.
        give: the fix for a foreign file, e.g. ``"Give a file written by save_bundle."``.
        foreign: the fix for a hostile member, e.g. ``"Use only bundles written by save_bundle."``.
        fix: the fix for a damaged file, e.g. ``"Save the model again with save_bundle."``.
        limits: the archive's members, in order, and the largest uncompressed size, in bytes, of each.
    """

    name: str
    plural: str
    expected: str
    create: str
    give: str
    foreign: str
    fix: str
    limits: Mapping[str, int]


def read_members(
    file: Path, source: str, kind: ArchiveKind, check_names: Callable[[list[str]], None] | None = None
) -> dict[str, bytes]:
    """Open the archive, vet every member's name, kind and size, and read every member.

    Args:
        file: the archive.
        source: how messages name it, e.g. ``"Bundle 'model.seqkit'"``.
        kind: the archive format.
        check_names: called with the member names once they are vetted as safe, before
            :func:`vet_members` and before anything is decompressed (to refuse a foreign file first).

    Returns:
        Each member's bytes, by name.

    Raises:
        ModelFileError: the file is missing, not a regular file, empty, not a zip archive,
            truncated, or a member is unsafe, duplicated, missing, unexpected, encrypted, too
            large or corrupted.
    """
    if file.is_dir():
        raise ModelFileError(f"{source} is a directory; expected {kind.expected}.")
    try:
        status = file.stat()
        if not stat.S_ISREG(status.st_mode):
            raise ModelFileError(f"{source} is not a regular file; expected {kind.expected}.")
        size = status.st_size
        with file.open("rb") as handle:
            head = handle.read(len(ZIP_MAGIC))
    except FileNotFoundError:
        raise ModelFileError(f"{source} does not exist. Check the path, or {kind.create}.") from None
    except ModelFileError:
        raise
    except OSError as error:
        raise ModelFileError(f"{source} cannot be read: {error.strerror or error}. Check its permissions.") from None
    if size == 0:
        raise ModelFileError(f"{source} is empty (0 bytes); it is not a {kind.name}. {kind.fix}")
    try:
        archive = zipfile.ZipFile(file)
    except Exception as error:  # zipfile raises many kinds on damaged input
        if head == ZIP_MAGIC:
            raise ModelFileError(
                f"{source} is truncated or corrupted: its zip directory is missing or damaged "
                f"({one_line(error)}). {kind.fix}"
            ) from None
        raise ModelFileError(f"{source} is not a {kind.name}: it is not a zip archive. {kind.give}") from None
    with archive:
        infos = archive.infolist()
        vet_names(infos, source, kind)
        if check_names is not None:
            check_names([info.filename for info in infos])
        vet_members([info.filename for info in infos], source, kind)
        members: dict[str, bytes] = {}
        for info in infos:
            members[info.filename] = read_member(archive, info, source, kind)
    return members


def vet_names(infos: list[zipfile.ZipInfo], source: str, kind: ArchiveKind) -> None:
    """Refuse a member with an unsafe name, a symbolic link, or a name listed twice."""
    names = [info.filename for info in infos]
    for info in infos:
        if unsafe_name(info.filename):
            raise ModelFileError(
                f"{source} has an unsafe member {info.filename!r} (an absolute path or '..'); refusing to "
                f"read it. {kind.foreign}"
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ModelFileError(
                f"{source} has a member {info.filename!r} that is a symbolic link; refusing to read it. "
                f"{kind.foreign}"
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ModelFileError(
            f"{source} holds member {duplicates[0]!r} more than once; refusing an ambiguous archive. {kind.fix}"
        )


def vet_members(names: list[str], source: str, kind: ArchiveKind) -> None:
    """Refuse an archive that lacks one of ``kind``'s members, or holds any other."""
    missing = [name for name in kind.limits if name not in names]
    if missing:
        listed = ", ".join(missing)
        raise ModelFileError(f"{source} is not a complete {kind.name}: {listed} missing. {kind.give}")
    extra = [name for name in names if name not in kind.limits]
    if extra:
        raise ModelFileError(
            f"{source} has unexpected member(s) {', '.join(map(repr, extra))}; a {kind.name} holds exactly "
            f"{', '.join(kind.limits)}. {kind.foreign}"
        )


def zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip archive of ``members`` (name, data), deflated, built in memory; the same bytes for the same members.

    >>> zip_bytes([("a.txt", b"hi")]) == zip_bytes([("a.txt", b"hi")])
    True
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def unsafe_name(name: str) -> bool:
    """Whether a member name could escape a folder: empty, absolute, a drive, a NUL or a ``..`` part."""
    if not name or "\x00" in name or name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return True
    return ".." in re.split(r"[/\\]", name)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str, kind: ArchiveKind) -> bytes:
    """A member's bytes, refused if its header or its content exceeds its limit, or it is encrypted."""
    name = info.filename
    limit = kind.limits.get(name, 0)
    if info.file_size > limit:
        raise ModelFileError(
            f"{source} member {name} declares {info.file_size} bytes uncompressed, more than the "
            f"{limit} allowed; refusing it (a corrupted file or a zip bomb). {kind.fix}"
        )
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{source} member {name} is encrypted; {kind.plural} are never encrypted. {kind.fix}")
    data = read_bounded(archive, info, limit, f"{source} is corrupted: member {name}", kind.fix)
    if data is None:
        raise ModelFileError(f"{source} member {name} is larger than the {limit} bytes allowed. {kind.fix}")
    return data


def read_bounded(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, corrupted: str, fix: str
) -> bytes | None:
    """An entry's bytes, read in chunks; None as soon as more than ``limit`` come out.

    zipfile stops at the declared size and checks the CRC; the chunks bound memory
    even if the header lies. A damaged entry raises ``ModelFileError("{corrupted} cannot be read (...). {fix}")``.
    """
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(CHUNK_BYTES):
                total += len(chunk)
                if total > limit:
                    return None
                chunks.append(chunk)
    except Exception as error:  # BadZipFile (CRC), zlib.error, EOFError, NotImplementedError, ...
        raise ModelFileError(f"{corrupted} cannot be read ({one_line(error)}). {fix}") from None
    return b"".join(chunks)


__all__ = [
    "CHUNK_BYTES",
    "FIXED_TIME",
    "ZIP_MAGIC",
    "ArchiveKind",
    "read_bounded",
    "read_member",
    "read_members",
    "unsafe_name",
    "vet_members",
    "vet_names",
    "zip_bytes",
]
