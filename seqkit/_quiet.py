"""Import TensorFlow and Keras without their start-up noise.

TensorFlow's C++ runtime writes log lines to the process's standard error
before Python can configure anything (``absl::InitializeLog`` warnings, the
oneDNN notice, "Could not find cuda drivers"). ``TF_CPP_MIN_LOG_LEVEL`` hides
most of them once the logger is initialised; the lines written before that
are silenced here by pointing file descriptor 2 at ``/dev/null`` for the
duration of the import only.
"""

from __future__ import annotations

import os
import sys


def quiet_import() -> None:
    """Import ``tensorflow`` and ``keras`` with their start-up logging silenced.

    Idempotent: once TensorFlow is imported, this does nothing.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules and "keras" in sys.modules:
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
