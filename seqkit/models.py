"""Models: the Keras network for a layout and a few hyperparameters.

One function, no training logic. The network is the tutorial's: LSTM layers (or GRU
layers, ``ModelSpec(cell="gru")``) followed by a softmax ``Dense`` over the vocabulary.
The layout decides the input side (masking for padded time steps, an ``Embedding`` for ids).

>>> from seqkit.layouts import TimeSteps
>>> spec = ModelSpec(units=32)
>>> model = build_model(spec, TimeSteps("scaled"), window_length=3, vocabulary_size=26)
>>> model.input_shape, model.output_shape
((None, 3, 1), (None, 26))
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

from dataclasses import asdict, dataclass
from typing import Any

import keras

from seqkit.checks import check_bool, check_float, check_int, check_optional_int
from seqkit.errors import ConfigurationError, parameter_error
from seqkit.layouts import SCALED_PADDING, Layout

CELLS = ("lstm", "gru")
"""The recurrent cells a network can be made of."""

STATE_PARTS: dict[str, tuple[str, ...]] = {"lstm": ("h", "c"), "gru": ("h",)}
"""The state each cell carries: an LSTM its output ``h`` and its cell ``c``, a GRU only ``h``."""


@dataclass(frozen=True)
class ModelSpec:
    """Hyperparameters of the network.

    Attributes:
        units: units per recurrent layer. Defaults to 32.
        layers: number of stacked recurrent layers. Defaults to 1.
        dropout: dropout rate after each recurrent layer, in ``[0, 1)``. Defaults to 0.
        embedding_dim: width of the ``Embedding`` for the embedding encoding. Defaults to 16.
        masked: whether the windows hold padding that the model must mask. Defaults to False.
        cell: ``"lstm"`` or ``"gru"`` (Keras's ``GRU``, ``reset_after=True``, the cuDNN-compatible
            form). Defaults to ``"lstm"``.
    """

    units: int = 32
    layers: int = 1
    dropout: float = 0.0
    embedding_dim: int = 16
    masked: bool = False
    cell: str = "lstm"

    def __post_init__(self) -> None:
        for name in ("units", "layers", "embedding_dim"):
            check_int("ModelSpec", name, getattr(self, name))
        check_float("ModelSpec", "dropout", self.dropout, low=0.0, high=1.0, high_inclusive=False)
        check_bool("ModelSpec", "masked", self.masked)
        check_cell("ModelSpec", self.cell)

    def get_config(self) -> dict[str, Any]:
        return asdict(self)


def check_cell(owner: str, cell: object) -> str:
    """``cell`` if it is one of :data:`CELLS`, else the one-line parameter error.

    >>> check_cell("ModelSpec", "gru")
    'gru'
    >>> check_cell("ModelSpec", "rnn")
    Traceback (most recent call last):
    ...
    seqkit.errors.ConfigurationError: The 'cell' parameter of ModelSpec must be 'lstm' or 'gru'. Got 'rnn' instead.
    """
    if cell not in CELLS:
        raise parameter_error(owner, "cell", "'lstm' or 'gru'", cell)
    return str(cell)


def recurrent_layer(cell: str, units: int, **settings: Any) -> keras.layers.RNN:
    """A Keras ``LSTM`` or ``GRU`` layer of ``units`` with ``settings`` (the same for both).

    >>> type(recurrent_layer("gru", 4, name="gru_1")).__name__
    'GRU'
    """
    layer_class = keras.layers.GRU if check_cell("recurrent_layer", cell) == "gru" else keras.layers.LSTM
    return layer_class(units, **settings)


def cell_of(layer: keras.layers.Layer) -> str | None:
    """``"lstm"`` or ``"gru"`` for a Keras recurrent layer of that cell, else None."""
    if isinstance(layer, keras.layers.LSTM):
        return "lstm"
    if isinstance(layer, keras.layers.GRU):
        return "gru"
    return None


def build_model(
    spec: ModelSpec,
    layout: Layout,
    *,
    window_length: int,
    vocabulary_size: int,
    batch_size: int | None = None,
    stateful: bool = False,
    use_cudnn: bool | str = "auto",
    precision: str = "float32",
    unroll: bool = False,
) -> keras.Model:
    """Build (uncompiled) the recurrent network for ``layout``.

    Args:
        spec: the network's hyperparameters.
        layout: how windows are presented (decides the input shape and masking).
        window_length: ``L``, the ids per window.
        vocabulary_size: ``V``, the number of output classes.
        batch_size: a fixed batch size; required when ``stateful`` (Keras
            needs ``keras.Input(batch_shape=...)`` for stateful layers).
        stateful: carry the LSTM state from batch to batch. Defaults to False.
        use_cudnn: the LSTMs' ``use_cudnn``: ``"auto"`` (Keras's default) or False, as
            the :mod:`device policy <seqkit.engine.policy>` says (never cuDNN under XLA).
        precision: ``"float32"``, or a Keras mixed-precision policy name
            (``"mixed_float16"``, ``"mixed_bfloat16"``): float32 weights, the softmax
            in float32. Defaults to ``"float32"``.
        unroll: the LSTMs' ``unroll`` (the steps written out instead of a loop; the
            device policy's choice for windows of a few steps). Defaults to False.

    Returns:
        A functional ``keras.Model`` mapping inputs to next-token probabilities.
    """
    if stateful and batch_size is None:
        raise ConfigurationError(
            "A stateful model needs a fixed batch size: pass batch_size=N (N >= 1)."
        )
    check_optional_int("build_model", "batch_size", batch_size)
    shape = layout.input_shape(window_length, vocabulary_size)
    if stateful:
        inputs = keras.Input(batch_shape=(batch_size, *shape), dtype=layout.input_dtype, name="windows")
    else:
        inputs = keras.Input(shape=shape, dtype=layout.input_dtype, name="windows")
    hidden = inputs
    if layout.encoding == "embedding":
        hidden = keras.layers.Embedding(
            vocabulary_size + 1,
            spec.embedding_dim,
            mask_zero=spec.masked and layout.masks_padding,
            name="embedding",
            dtype=precision,
        )(hidden)
        if not layout.masks_padding:
            hidden = keras.layers.Reshape((1, window_length * spec.embedding_dim), name="as_features")(hidden)
    elif spec.masked and layout.masks_padding:
        mask_value = SCALED_PADDING if layout.encoding == "scaled" else 0.0
        hidden = keras.layers.Masking(mask_value=mask_value, name="padding_mask")(hidden)
    for number in range(spec.layers):
        last = number == spec.layers - 1
        hidden = recurrent_layer(
            spec.cell, spec.units, return_sequences=not last, stateful=stateful, use_cudnn=use_cudnn,
            name=f"{spec.cell}_{number + 1}", dtype=precision, unroll=unroll,
        )(hidden)
        if spec.dropout:
            hidden = keras.layers.Dropout(spec.dropout, name=f"dropout_{number + 1}")(hidden)
    outputs = keras.layers.Dense(vocabulary_size, activation="softmax", name="next_token", dtype="float32")(hidden)
    return keras.Model(inputs, outputs, name=f"seqkit_{spec.cell}")


def recurrent_layers(model: keras.Model) -> list[keras.layers.RNN]:
    """The RNN layers of ``model`` that carry state between calls."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.RNN) and layer.stateful]


def reset_states(model: keras.Model) -> None:
    """Zero the state of every stateful RNN layer of ``model`` (Keras ``Model`` has no reset)."""
    for layer in recurrent_layers(model):
        layer.reset_state()


def build_stream_model(
    spec: ModelSpec, *, vocabulary_size: int, use_cudnn: bool | str = "auto", precision: str = "float32"
) -> keras.Model:
    """The network of stream training: the next id at every step of a segment.

    Inputs: ids + 1, int32 ``(batch, T)`` (``0`` is reserved, as in the embedding
    layout), then the initial state of each recurrent layer, ``(batch, units)`` each: ``h``
    and ``c`` of an LSTM, ``h`` of a GRU (:data:`STATE_PARTS`).
    Outputs: logits ``(batch, T, V)``, then the final state of each layer, in the same order.
    The state is an input and an output rather than a layer variable, so the training
    loop can keep one state per replica under any ``tf.distribute`` strategy. Its layers
    (``embedding``, ``lstm_1`` or ``gru_1`` …, ``next_token``) have the weights of
    :func:`build_model`'s embedding network at ``window_length=1``, which is how a
    trained stream model predicts one token at a time. ``use_cudnn`` and ``precision``
    are as in :func:`build_model`.

    >>> model = build_stream_model(ModelSpec(units=8, embedding_dim=4), vocabulary_size=5)
    >>> [tuple(shape) for shape in model.output_shape]
    [(None, None, 5), (None, 8), (None, 8)]
    """
    ids = keras.Input(shape=(None,), dtype="int32", name="segments")
    states = []
    hidden = keras.layers.Embedding(vocabulary_size + 1, spec.embedding_dim, name="embedding", dtype=precision)(ids)
    final_states = []
    for number in range(spec.layers):
        name = f"{spec.cell}_{number + 1}"
        initial = [keras.Input(shape=(spec.units,), name=f"{name}_{part}") for part in STATE_PARTS[spec.cell]]
        states += initial
        hidden, *final = recurrent_layer(
            spec.cell, spec.units, return_sequences=True, return_state=True, use_cudnn=use_cudnn,
            name=name, dtype=precision,
        )(hidden, initial_state=initial)
        final_states += final
        if spec.dropout:
            hidden = keras.layers.Dropout(spec.dropout, name=f"dropout_{number + 1}")(hidden)
    logits = keras.layers.Dense(vocabulary_size, name="next_token", dtype="float32")(hidden)
    return keras.Model([ids, *states], [logits, *final_states], name=f"seqkit_stream_{spec.cell}")
