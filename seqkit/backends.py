"""Backends: which Keras backend this process runs, and what seqkit does on each.

Keras 3 runs on TensorFlow (its default) or on JAX (``KERAS_BACKEND=jax``, set before
Keras is imported). seqkit's default is TensorFlow, and TensorFlow is the only backend for
the window trainers, ``tf.distribute``, checkpoints, export and LiteRT. On **JAX**, where a
GPU machine has JAX but no TensorFlow, the stream trainer trains (one ``jax.jit``-compiled
program per epoch, the LSTM state carried explicitly, cuDNN's LSTM inside ``jit`` on a GPU:
:mod:`seqkit.engine.jax_loop`) and a fitted or loaded model predicts, generates and scores
without importing TensorFlow, and saves (Keras's serializer imports TensorFlow there if it
is installed, to check for its types). A bundle written on one backend loads on the other
(a ``.keras`` file is backend-neutral).

>>> keras_backend() in BACKENDS
True
>>> CAPABILITIES["jax"][:2]
('StreamTrainer', 'generate')
"""

from __future__ import annotations

from seqkit.errors import ConfigurationError

__all__ = ["BACKENDS", "CAPABILITIES", "GPU_PLATFORMS", "jax_device", "keras_backend", "require_tensorflow"]

BACKENDS = ("tensorflow", "jax")
"""The Keras backends seqkit runs on."""

CAPABILITIES: dict[str, tuple[str, ...]] = {
    "tensorflow": (
        "StatelessTrainer", "InBatchTrainer", "StatefulTrainer", "StreamTrainer", "tf.distribute",
        "checkpoints", "export", "generate", "load", "predict", "save", "score",
    ),
    "jax": ("StreamTrainer", "generate", "load", "predict", "save", "score"),
}
"""What runs on each backend (``seqkit info`` shows it)."""


def keras_backend() -> str:
    """The backend Keras runs on in this process: ``"tensorflow"`` or ``"jax"``.

    Imports Keras (and TensorFlow, on its backend) through :func:`~seqkit._quiet.quiet_import`,
    so quietly where the application asked for quiet.
    """
    from seqkit._quiet import quiet_import

    quiet_import()
    import keras

    backend = str(keras.config.backend())
    if backend not in BACKENDS:
        raise ConfigurationError(
            f"seqkit runs on Keras's TensorFlow or JAX backend; this process runs Keras on {backend!r}. "
            "Set KERAS_BACKEND=tensorflow (the default) or KERAS_BACKEND=jax before Python starts."
        )
    return backend


def require_tensorflow(what: str) -> None:
    """Refuse ``what`` in one line unless Keras runs on TensorFlow.

    >>> require_tensorflow("Export") if keras_backend() == "tensorflow" else None
    """
    backend = keras_backend()
    if backend != "tensorflow":
        raise ConfigurationError(
            f"{what} needs Keras's TensorFlow backend; this process runs Keras on {backend!r} "
            f"(KERAS_BACKEND={backend}), where seqkit offers {', '.join(CAPABILITIES[backend])}. "
            "Unset KERAS_BACKEND (or set it to tensorflow) for this."
        )


GPU_PLATFORMS = ("gpu", "cuda", "rocm")
"""JAX's names for a GPU platform (a backend's, or a device's ``platform``)."""


def jax_device() -> str:
    """``"gpu"`` when JAX's default backend is a GPU, else ``"cpu"`` (imports JAX)."""
    import jax

    return "gpu" if jax.default_backend() in GPU_PLATFORMS else "cpu"
