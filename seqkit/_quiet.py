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

import os
import sys

_silenced = False


def silence_tensorflow() -> None:
    """Quiet TensorFlow and Keras for the whole process: for applications, never the library.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless the environment already sets it, and
    makes every later :func:`quiet_import` silence the import's start-up lines
    and set TensorFlow's logger to ``ERROR``. Imports nothing itself, so a
    command line stays quick until it needs TensorFlow. Idempotent.
    """
    global _silenced
    _silenced = True
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
        import tensorflow as tf

        import keras  # noqa: F401

        tf.get_logger().setLevel("ERROR")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
