"""Output paths, checked before any work starts.

A command that writes (``train --out/--plot/--checkpoint/--tensorboard``,
``experiments --plot/--tensorboard``, ``vocab --save``) calls :func:`check_outputs`
first, so a bad path costs nothing instead of the whole run. An output must be:

- a path at all (no NUL byte);
- a regular file or a new one, for a file output; a folder or a new one, for a
  folder output — never a device (``/dev/null``), a FIFO or a socket, even
  through a symbolic link (a link to a regular file is written through);
- somewhere seqkit can write: the nearest existing folder above it is writable;
- distinct from every input (``--text`` files, a vocabulary) and from every
  other output, after resolving links (hard links included).

Each refusal is a usage error (exit 2) with one line naming the option(s).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from .render import terminal_safe


@dataclass(frozen=True)
class Output:
    """One output path of a command.

    Attributes:
        option: the option that gives it, e.g. ``"--out"``.
        path: the path as given.
        folder: True for a folder (``--checkpoint``, ``--tensorboard``), False for a file.
    """

    option: str
    path: Path
    folder: bool = False


@dataclass(frozen=True)
class Input:
    """One input file or folder of a command (``--text``), which no output may replace."""

    option: str
    path: Path


def _shown(path: Path | str) -> str:
    return terminal_safe(str(path))


def _kind(mode: int) -> str:
    """What a non-regular file is, for a message."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_path_text(option: str, path: str | os.PathLike[str]) -> None:
    """Refuse a path holding a NUL byte (the operating system cannot take it)."""
    if "\0" in os.fspath(path):
        raise click.BadParameter("the path contains a NUL byte.", param_hint=f"'{option}'")


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _check_one(output: Output) -> Path:
    """The path to write ``output`` to (links followed); raises BadParameter if it cannot be written."""
    check_path_text(output.option, output.path)
    hint = f"'{output.option}'"
    target = Path(os.path.realpath(output.path))
    link = f"'{_shown(output.path)}' is a symbolic link to " if output.path.is_symlink() else f"'{_shown(output.path)}' is "
    if os.path.lexists(target) or os.path.exists(output.path):  # /dev/stdout: a link to a pipe realpath cannot name
        mode = os.stat(output.path if os.path.exists(output.path) else target).st_mode
        if output.folder and not stat.S_ISDIR(mode):
            raise click.BadParameter(f"{link}{_kind(mode)}; give a folder to write in.", param_hint=hint)
        if not output.folder and not stat.S_ISREG(mode):
            raise click.BadParameter(
                f"{link}{_kind(mode)}, not a regular file; give the path of a file to create or replace.",
                param_hint=hint,
            )
    existing = _nearest_existing(target if output.folder else target.parent)
    if not existing.is_dir():
        raise click.BadParameter(
            f"cannot create '{_shown(output.path)}': '{_shown(existing)}' is not a folder.", param_hint=hint
        )
    if not os.access(existing, os.W_OK | os.X_OK) or not _can_create_in(existing):
        raise click.BadParameter(
            f"cannot write in '{_shown(existing)}': permission denied. Give a path in a folder you can write to.",
            param_hint=hint,
        )
    return target


def _can_create_in(folder: Path) -> bool:
    """Whether a file can really be made in ``folder``: ``os.access`` says yes to root even where the
    file system refuses every new file (``/proc``, ``/sys``, a read-only mount)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _same(first: Path, second: Path) -> bool:
    if first == second:
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def check_outputs(outputs: Sequence[Output], inputs: Sequence[Input] = ()) -> dict[str, Path]:
    """Check every output before any work; return where each is written (links followed).

    Raises:
        click.BadParameter: an output that cannot be written (exit 2).
        click.UsageError: two outputs on one path, or an output on an input (exit 2).
    """
    targets = {output.option: _check_one(output) for output in outputs}
    for number, output in enumerate(outputs):
        for other in outputs[number + 1 :]:
            if _same(targets[output.option], targets[other.option]):
                raise click.UsageError(
                    f"{output.option} and {other.option} name the same path '{_shown(output.path)}'; "
                    "give each its own."
                )
        for source in inputs:
            check_path_text(source.option, source.path)
            if _same(targets[output.option], Path(os.path.realpath(source.path))):
                raise click.UsageError(
                    f"{output.option} '{_shown(output.path)}' is also the {source.option} input; writing it would "
                    "destroy the input. Give another path."
                )
    return targets
