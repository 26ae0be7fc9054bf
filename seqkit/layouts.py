"""Layouts: how a window of ids becomes the tensor an LSTM reads.

Two arrangements, the origin tutorial's central contrast:

- :class:`TimeSteps` — the window is a sequence of ``L`` time steps of ``F``
  features each: shape ``(n, L, F)``. The LSTM reads one token per step.
- :class:`Features` — the window is one time step of ``L * F`` features:
  shape ``(n, 1, L * F)``. The LSTM sees the window at once, like a dense net.

Three encodings of each id:

- ``"scaled"`` — ``id / V`` (the tutorial's), ``F = 1``. Padding is ``-1.0``.
- ``"onehot"`` — a unit vector of length ``V``, ``F = V``. Padding is all zeros.
- ``"embedding"`` — the id itself for an ``Embedding`` layer in the model,
  shifted by one so that ``0`` is padding (``mask_zero=True``).

In every encoding padding takes a value no real token can take, so a padded
position is never read as 'A'. With :class:`TimeSteps` the model masks it;
with :class:`Features` there is no time axis to mask, and the network sees
the padding value as an input like any other.

>>> import numpy as np
>>> from seqkit.windows import sliding_windows
>>> windows = sliding_windows(np.arange(26), length=3)
>>> TimeSteps("scaled").transform(windows.inputs, vocabulary_size=26).shape
(23, 3, 1)
>>> Features("onehot").transform(windows.inputs, vocabulary_size=26).shape
(23, 1, 78)
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Literal

import numpy as np

from seqkit.checks import check_int
from seqkit.errors import DataError, LayoutError
from seqkit.windows import PADDING_ID

Encoding = Literal["scaled", "onehot", "embedding"]
ENCODINGS: tuple[str, ...] = ("scaled", "onehot", "embedding")
SCALED_PADDING = -1.0
"""The value a padded position takes under the ``scaled`` encoding."""


class Layout(abc.ABC):
    """How windows of ids become input tensors, and how padding looks and is masked.

    Subclasses implement :meth:`arrange`, the one step that differs between
    layouts: turning encoded windows ``(n, L, F)`` into the model's input.

    Args:
        encoding: ``"scaled"``, ``"onehot"`` or ``"embedding"``. Defaults to ``"scaled"``.
    """

    name: ClassVar[str]

    def __init__(self, encoding: Encoding = "scaled") -> None:
        if encoding not in ENCODINGS:
            raise LayoutError(
                f"Unknown encoding {encoding!r}: expected one of 'scaled', 'onehot', 'embedding'."
            )
        self.encoding: Encoding = encoding

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.encoding!r})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.encoding == other.encoding  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.encoding))

    # The contract -------------------------------------------------------------------
    @abc.abstractmethod
    def arrange(self, encoded: np.ndarray) -> np.ndarray:
        """Arrange encoded windows ``(n, L, F)`` into the model's input shape."""

    @abc.abstractmethod
    def input_shape(self, window_length: int, vocabulary_size: int) -> tuple[int, ...]:
        """Shape of one sample as the model receives it (without the batch axis)."""

    @property
    @abc.abstractmethod
    def masks_padding(self) -> bool:
        """Whether the model can mask padded positions (only with a time axis per token)."""

    # Shared behaviour ---------------------------------------------------------------
    @property
    def input_dtype(self) -> str:
        """``"int32"`` for the embedding encoding (ids), else ``"float32"``."""
        return "int32" if self.encoding == "embedding" else "float32"

    @property
    def padding_value(self) -> float | int:
        """How a padded position is represented in :meth:`transform`'s output."""
        return {"scaled": SCALED_PADDING, "onehot": 0.0, "embedding": 0}[self.encoding]

    def transform(self, inputs: np.ndarray, vocabulary_size: int) -> np.ndarray:
        """Encode and arrange id windows ``(n, L)`` (padding = ``-1``) for the model.

        Args:
            inputs: int array ``(n, L)`` of ids in ``[0, vocabulary_size)`` or :data:`PADDING_ID`.
            vocabulary_size: ``V``, the number of ids.

        Returns:
            float32 ``(n, L, F)`` / ``(n, 1, L*F)``, or int32 ``(n, L)`` for ``embedding``.
        """
        ids = np.asarray(inputs)
        if ids.ndim != 2:
            raise DataError(f"A layout transforms windows of shape (n, L); got shape {ids.shape}.")
        vocabulary_size = check_int(f"{type(self).__name__}.transform", "vocabulary_size", vocabulary_size)
        real = ids != PADDING_ID
        if np.any(real & ((ids < 0) | (ids >= vocabulary_size))):
            bad = ids[real & ((ids < 0) | (ids >= vocabulary_size))][0]
            raise DataError(
                f"Id {int(bad)} is outside the vocabulary's range 0 to {vocabulary_size - 1}; "
                "encode tokens with the same vocabulary the layout is given."
            )
        if self.encoding == "embedding":
            return np.where(real, ids + 1, 0).astype(np.int32)
        if self.encoding == "scaled":
            encoded = np.where(real, ids / float(vocabulary_size), SCALED_PADDING)[..., None]
        else:
            encoded = np.zeros(ids.shape + (vocabulary_size,), dtype=np.float32)
            rows, steps = np.nonzero(real)
            encoded[rows, steps, ids[rows, steps]] = 1.0
        return self.arrange(encoded.astype(np.float32))

    def transform_tensor(self, ids: Any, vocabulary_size: int) -> Any:
        """:meth:`transform` inside a TensorFlow graph, for whole windows (no padding).

        The training loop calls it on each batch of windows cut from a
        :class:`~seqkit.windows.WindowIndex`, so no encoded copy of the corpus
        exists. The values are bit-identical to :meth:`transform`'s (``scaled``
        divides in float64 and rounds to float32, as NumPy does).

        Args:
            ids: int32 tensor ``(batch, L)`` of ids in ``[0, vocabulary_size)``.
            vocabulary_size: ``V``.

        Returns:
            The model's input batch: float32 ``(batch, *input_shape)``, or int32 ids + 1
            for ``embedding``.

        >>> import numpy as np
        >>> ids = np.array([[0, 13]], dtype="int32")
        >>> Features("scaled").transform_tensor(ids, 26).numpy().tolist()
        [[[0.0, 0.5]]]
        """
        import tensorflow as tf

        window_length = int(ids.shape[-1])
        shape = [-1, *self.input_shape(window_length, vocabulary_size)]
        if self.encoding == "embedding":
            return tf.reshape(ids + 1, shape)
        if self.encoding == "scaled":
            encoded = tf.cast(tf.cast(ids, tf.float64) / float(vocabulary_size), tf.float32)
        else:
            encoded = tf.one_hot(ids, vocabulary_size, dtype=tf.float32)
        return tf.reshape(encoded, shape)

    def get_config(self) -> dict[str, Any]:
        """JSON-ready description; :func:`make_layout` reads it back."""
        return {"layout": self.name, "encoding": self.encoding}


class TimeSteps(Layout):
    """The window as ``L`` time steps: shape ``(n, L, F)``; padding is masked.

    >>> import numpy as np
    >>> TimeSteps("scaled").transform(np.array([[-1, 13]]), vocabulary_size=26).ravel().tolist()
    [-1.0, 0.5]
    """

    name = "timesteps"

    def arrange(self, encoded: np.ndarray) -> np.ndarray:
        return encoded

    def input_shape(self, window_length: int, vocabulary_size: int) -> tuple[int, ...]:
        if self.encoding == "embedding":
            return (window_length,)
        return (window_length, 1 if self.encoding == "scaled" else vocabulary_size)

    @property
    def masks_padding(self) -> bool:
        return True


class Features(Layout):
    """The window as one time step of ``L * F`` features: shape ``(n, 1, L * F)``.

    >>> import numpy as np
    >>> Features("scaled").transform(np.array([[0, 13]]), vocabulary_size=26).tolist()
    [[[0.0, 0.5]]]
    """

    name = "features"

    def arrange(self, encoded: np.ndarray) -> np.ndarray:
        count, length, width = encoded.shape
        return encoded.reshape(count, 1, length * width)

    def input_shape(self, window_length: int, vocabulary_size: int) -> tuple[int, ...]:
        if self.encoding == "embedding":
            return (window_length,)
        return (1, window_length * (1 if self.encoding == "scaled" else vocabulary_size))

    @property
    def masks_padding(self) -> bool:
        return False


LAYOUTS: dict[str, type[Layout]] = {"timesteps": TimeSteps, "features": Features}


def make_layout(layout: str | Layout | dict[str, Any], encoding: Encoding | None = None) -> Layout:
    """A layout from its name (``"timesteps"``, ``"features"``), a config dict, or itself.

    >>> make_layout("features", "onehot")
    Features('onehot')
    >>> make_layout({"layout": "timesteps", "encoding": "scaled"})
    TimeSteps('scaled')
    """
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, dict):
        name, encoding = layout.get("layout"), layout.get("encoding", encoding)
    else:
        name = layout
    if name not in LAYOUTS:
        raise LayoutError(f"Unknown layout {name!r}: expected 'timesteps' or 'features'.")
    return LAYOUTS[str(name)](encoding or "scaled")  # type: ignore[arg-type]
