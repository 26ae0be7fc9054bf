"""Import TensorFlow and Keras; quiet them only when the application asks.

seqkit is a library: importing it changes no process-wide setting. Its
modules import TensorFlow through :func:`quiet_import`, which by default is a
plain ``import tensorflow, keras`` — no environment variable set, no logger
level changed, no file descriptor touched — so a program or a notebook that
imports seqkit sees TensorFlow exactly as it would without seqkit.

Quieting TensorFlow is the application's decision. The ``seqkit`` command
(and scripts such as the benchmarks) call :func:`silence_tensorflow` first;
from then on the process is quiet: ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already
set), TensorFlow's Python logger at ``ERROR``, and the import itself runs with
file descriptor 2 pointed at ``/dev/null``, because TensorFlow's C++ runtime
writes some lines (``absl::InitializeLog`` warnings, the oneDNN notice, "Could
not find cuda drivers") before any setting can reach it.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import sys
from collections.abc import Iterator

_silenced = False
_lean = False

HIDDEN_FROM_KERAS = ("matplotlib", "sklearn")
"""Packages Keras imports optionally at start-up (image gallery, scikit-learn wrappers)."""


class _Hide(importlib.abc.MetaPathFinder):
    """Makes ``import`` of the named top-level packages fail, as if they were not installed."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden while Keras imports)", name=fullname)
        return None


@contextlib.contextmanager
def lean_keras_import() -> Iterator[None]:
    """Within the block, matplotlib and scikit-learn look uninstalled (unless already imported).

    Keras imports both optionally (``try: import ...; except ImportError``), about 1 s
    together, for features seqkit's command never uses; afterwards both import normally.
    In that process Keras's image gallery and scikit-learn wrappers are unavailable.
    """
    finder = _Hide(tuple(name for name in HIDDEN_FROM_KERAS if name not in sys.modules))
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def silence_tensorflow(*, lean: bool = False) -> None:
    """Quiet TensorFlow and Keras for the whole process: for applications, never the library.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless the environment already sets it, and
    makes every later :func:`quiet_import` silence the import's start-up lines
    and set TensorFlow's logger to ``ERROR``. Imports nothing itself, so a
    command line stays quick until it needs TensorFlow. Idempotent.

    Args:
        lean: also import Keras without the optional packages it would load for
            features the application never uses (:func:`lean_keras_import`). The
            ``seqkit`` command passes True. Defaults to False.
    """
    global _silenced, _lean
    _silenced = True
    _lean = _lean or lean
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:  # imported already: quiet what can still be quieted
        sys.modules["tensorflow"].get_logger().setLevel("ERROR")


def quiet_import() -> None:
    """Import ``tensorflow`` and ``keras``; silently if :func:`silence_tensorflow` was called.

    Idempotent: once both are imported, this does nothing.
    """
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return
    if not _silenced:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. embedded): import loudly
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        with lean_keras_import() if _lean else contextlib.nullcontext():
            import tensorflow as tf

            import keras  # noqa: F401

        tf.get_logger().setLevel("ERROR")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
