"""Real corpora that need no download: Python's own standard library, and a bundled sample.

Every machine that runs seqkit has Python, and so the source files of its standard
library: tens of megabytes of real, structured text. :func:`python_stdlib` reads them
as a character corpus with one document per file (stateful training resets its state
where a file ends). :func:`sample_text` is a two-kilobyte Python file shipped with
seqkit, for tests and quick examples.

>>> corpus = python_stdlib(max_bytes=50_000)
>>> corpus.level, len(corpus.sequences) >= 1, 0 < len(corpus) <= 50_000
('char', True, True)
>>> sample_text().name
'tiny_python'
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

from seqkit.checks import check_int, check_optional_int
from seqkit.datasets import Corpus
from seqkit.errors import DataError, parameter_error

__all__ = ["python_stdlib", "python_stdlib_after", "python_stdlib_files", "sample_text", "SAMPLE_TEXTS"]

SAMPLE_TEXTS: tuple[str, ...] = ("tiny_python",)
"""The texts bundled in ``seqkit/data``."""


THIRD_PARTY = ("site-packages", "dist-packages")
"""The folders of installed packages, left out of the standard library's source."""


def _python_sources(root: Path) -> list[Path]:
    """The ``*.py`` paths under ``root``, sorted, outside :data:`THIRD_PARTY` folders (never walked into)."""
    paths: list[Path] = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in THIRD_PARTY]
        paths.extend(Path(folder) / name for name in names if name.endswith(".py"))
    return sorted(paths)


def python_stdlib_files(max_bytes: int | None = None) -> list[Path]:
    """The standard library's ``*.py`` files, sorted, up to ``max_bytes`` of source in all.

    Third-party packages (``site-packages``, ``dist-packages``) are left out, and so are
    files that are not valid UTF-8. The order is the sorted path order, so the same
    Python installation always gives the same corpus.

    Args:
        max_bytes: stop once the files listed hold this many bytes (the last file
            crossing the limit is left out). Defaults to None: every file.
    """
    max_bytes = check_optional_int("python_stdlib_files", "max_bytes", max_bytes)
    root = Path(sysconfig.get_paths()["stdlib"])
    files: list[Path] = []
    total = 0
    for path in _python_sources(root):
        if not path.is_file():
            continue
        size = path.stat().st_size
        if size == 0:
            continue
        if max_bytes is not None and total + size > max_bytes:
            if files:
                break
            continue
        files.append(path)
        total += size
    if not files:
        raise DataError(
            f"Found no standard-library source under {root} within max_bytes={max_bytes}; "
            "give a larger max_bytes."
        )
    return files


def python_stdlib(max_bytes: int | None = 20_000_000) -> Corpus:
    """The standard library's source as a character corpus, one document per file.

    Args:
        max_bytes: the most bytes of source to read (whole files only; see
            :func:`python_stdlib_files`). Defaults to 20 MB; None reads everything
            (about 30-40 MB on CPython 3.11).

    Returns:
        A char-level :class:`~seqkit.datasets.Corpus` named ``"python-stdlib"``.
    """
    documents = list(_read_sources(python_stdlib_files(max_bytes)))
    return Corpus.from_sequences(documents, level="char", name="python-stdlib")


def _read_sources(paths: Iterable[Path]) -> Iterator[str]:
    """The text of each of ``paths`` that reads as UTF-8 and is not empty, in order (lazily)."""
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if text:
            yield text


def python_stdlib_after(max_bytes: int, characters: int) -> str:
    """The standard library's source after its first ``max_bytes``: text a model of them never saw.

    A model trained on ``python_stdlib(max_bytes=max_bytes)`` read the files that
    :func:`python_stdlib_files` lists for ``max_bytes``; this is the source of the files
    that follow them, in the same order, joined: the held-out text to score that model
    on, or to read it against (``seqkit.cells``). It may hold characters the model's
    vocabulary lacks; drop those before scoring.

    Args:
        max_bytes: the ``max_bytes`` the model's corpus was read with.
        characters: how many characters to return (fewer only when the standard
            library ends first).

    Returns:
        The first ``characters`` characters of the files after the first ``max_bytes``.

    >>> trained = python_stdlib(max_bytes=50_000)
    >>> unseen = python_stdlib_after(50_000, 2_000)
    >>> len(unseen), unseen[:300] in "".join("".join(document) for document in trained.sequences)
    (2000, False)
    """
    max_bytes = check_int("python_stdlib_after", "max_bytes", max_bytes)
    characters = check_int("python_stdlib_after", "characters", characters)
    trained = set(python_stdlib_files(max_bytes))
    parts: list[str] = []
    total = 0
    for text in _read_sources(path for path in python_stdlib_files(None) if path not in trained):
        parts.append(text)
        total += len(text)
        if total >= characters:
            break
    return "".join(parts)[:characters]


def sample_text(name: str = "tiny_python") -> Corpus:
    """A text bundled with seqkit, as a char corpus (one document).

    Args:
        name: one of :data:`SAMPLE_TEXTS`. Defaults to ``"tiny_python"``, about two
            kilobytes of plain Python.
    """
    if name not in SAMPLE_TEXTS:
        raise parameter_error("sample_text", "name", f"one of {', '.join(SAMPLE_TEXTS)}", name)
    text = resources.files("seqkit").joinpath("data", f"{name}.txt").read_text(encoding="utf-8")
    return Corpus.from_text(text, level="char", name=name)
