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

import sysconfig
from importlib import resources
from pathlib import Path

from seqkit.checks import check_optional_int
from seqkit.datasets import Corpus
from seqkit.errors import DataError, parameter_error

__all__ = ["python_stdlib", "python_stdlib_files", "sample_text", "SAMPLE_TEXTS"]

SAMPLE_TEXTS: tuple[str, ...] = ("tiny_python",)
"""The texts bundled in ``seqkit/data``."""


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
    for path in sorted(root.rglob("*.py")):
        if {"site-packages", "dist-packages"} & set(path.parts) or not path.is_file():
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
    documents: list[str] = []
    for path in python_stdlib_files(max_bytes):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if text:
            documents.append(text)
    return Corpus.from_sequences(documents, level="char", name="python-stdlib")


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
