"""Import Keras (and TensorFlow, where Keras runs on it); quiet them only when the application asks.

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
    if sys.modules.get("tensorflow") is not None:  # imported already: quiet what can still be quieted
        sys.modules["tensorflow"].get_logger().setLevel("ERROR")


def _on_tensorflow() -> bool:
    """Keras runs on TensorFlow (its default backend; ``KERAS_BACKEND=jax`` picks JAX)."""
    import keras

    return bool(keras.config.backend() == "tensorflow")


def _done() -> bool:
    """Keras is imported, and TensorFlow too where Keras runs on it."""
    return "keras" in sys.modules and ("tensorflow" in sys.modules or not _on_tensorflow())


def _import_both() -> None:
    """``import keras``, then ``import tensorflow`` where Keras runs on TensorFlow."""
    import keras  # noqa: F401

    if _on_tensorflow():
        import tensorflow  # noqa: F401


def quiet_import() -> None:
    """Import ``keras``, and ``tensorflow`` where Keras runs on it; silently if :func:`silence_tensorflow` was called.

    On Keras's JAX backend (``KERAS_BACKEND=jax``) TensorFlow is not imported at all
    (:mod:`seqkit.backends`). Idempotent: once both are imported, this does nothing.
    """
    if _done():
        return
    if not _silenced:
        _import_both()
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. embedded): import loudly
        _import_both()
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        with lean_keras_import() if _lean else contextlib.nullcontext():
            _import_both()
        if sys.modules.get("tensorflow") is not None:
            sys.modules["tensorflow"].get_logger().setLevel("ERROR")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
