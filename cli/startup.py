"""What the ``seqkit`` command does to its own process to start and stop quickly.

These are application decisions, taken by the command and never by the library (a
program that imports seqkit keeps its own environment):

- **XLA's persistent compilation cache.** Every run compiles its training steps with XLA
  (1-2 s each on a CPU); TensorFlow can keep the compiled programs on disk
  (``--tf_xla_persistent_cache_directory``) and load them on the next run instead. The
  command turns this on before TensorFlow is imported, in
  ``$SEQKIT_CACHE_DIR`` or ``$XDG_CACHE_HOME/seqkit`` or ``~/.cache/seqkit``, under
  ``xla/<key>``: the key digests the machine, its CPU's instruction sets, Python and the
  TensorFlow, Keras and seqkit versions, so an upgrade or another machine sharing the
  home directory never reads a program compiled for something else (TensorFlow's own
  file names digest the program and the device). The folder is safe to delete at any
  time. ``SEQKIT_XLA_CACHE=off`` turns the cache off; a ``TF_XLA_FLAGS`` that already
  names a cache directory is left as it is.
- **No unused imports.** Keras imports ``matplotlib.pyplot`` and scikit-learn when they
  are installed, for its image-gallery and scikit-learn wrappers (about 1 s together);
  the command never uses those, so it imports TensorFlow and Keras with the two hidden
  (``seqkit._quiet.silence_tensorflow(lean=True)``). ``seqkit train --plot`` imports
  matplotlib itself later.
- **A quick exit.** Tearing down TensorFlow's runtime at interpreter exit takes about 0.8
  s; :func:`exit_now` ends the process once the command's output is flushed and its
  files are closed (every save in seqkit is complete, renamed into place, before the
  command returns).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import platform
import sys
from pathlib import Path

CACHE_FLAG = "--tf_xla_persistent_cache_directory"


def cache_root() -> Path:
    """``$SEQKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/seqkit``, else ``~/.cache/seqkit``."""
    if os.environ.get("SEQKIT_CACHE_DIR"):
        return Path(os.environ["SEQKIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqkit"


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return platform.processor()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def cache_key() -> str:
    """A digest of what a compiled program depends on besides the program itself."""
    parts = [
        platform.machine(), platform.system(), _cpu_flags(), platform.python_version(),
        *(_version(package) for package in ("tensorflow", "tensorflow-cpu", "keras", "seqkit")),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def enable_compilation_cache() -> Path | None:
    """Point TensorFlow's XLA persistent cache at seqkit's folder; returns it (None: left off).

    Must run before TensorFlow is imported. Does nothing under ``SEQKIT_XLA_CACHE=off``,
    when ``TF_XLA_FLAGS`` already names a cache directory, or when the folder cannot be
    created (a read-only home: the run simply compiles, as without a cache).
    """
    if os.environ.get("SEQKIT_XLA_CACHE", "").lower() in {"off", "0", "false", "no"}:
        return None
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if CACHE_FLAG in flags:
        return None
    folder = cache_root() / "xla" / cache_key()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    os.environ["TF_XLA_FLAGS"] = f"{flags} {CACHE_FLAG}={folder}".strip()
    return folder


def exit_now(code: int) -> None:
    """Flush the standard streams and end the process with ``code``, skipping TensorFlow's teardown."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
