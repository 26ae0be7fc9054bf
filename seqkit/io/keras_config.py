"""A ``.keras`` archive vetted, sized and loaded before anything in it is trusted.

A Keras file is a zip of ``config.json``, ``metadata.json`` and
``model.weights.h5``. :func:`vet_keras_archive` bounds every entry from the zip
headers, reads ``config.json`` in bounded chunks and sizes the network it
declares with :func:`count_parameters` — before Keras builds anything, so that a
tiny file declaring ``Dense(units=250_000_000)`` is refused without allocating
it. :func:`load_keras_archive` then loads it with ``safe_mode=True`` (no pickle,
no lambda layers) and ``compile=False``.
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import io
import json
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import keras

from seqkit.checks import is_int
from seqkit.errors import ModelFileError
from seqkit.files import one_line
from seqkit.io.zipsafe import ArchiveKind, read_bounded, unsafe_name

MAX_PARAMETERS = 50_000_000
"""The most values a bundle's network may allocate: 50 million (200 MB as float32).

Counted from ``model.keras``'s ``config.json`` — the weights of every ``Embedding``,
``Dense`` and recurrent layer (and a stateful layer's state), from their units,
dimensions and input shapes — before Keras builds anything, so that a tiny file
declaring ``Dense(units=250_000_000)`` is refused without allocating it."""

NETWORK_ENTRY_LIMITS: dict[str, int] = {
    "config.json": 16 * 1024 * 1024,
    "metadata.json": 1024 * 1024,
    "model.weights.h5": MAX_PARAMETERS * 8 + 16 * 1024 * 1024,
}
"""The largest uncompressed size, in bytes, of each entry of ``model.keras`` (itself a zip); any
other entry may hold at most 16 MiB. Checked from the zip headers, before anything is decompressed."""

OTHER_ENTRY_LIMIT = 16 * 1024 * 1024
"""The largest uncompressed size, in bytes, of an entry of ``model.keras`` not in :data:`NETWORK_ENTRY_LIMITS`."""


def load_keras_archive(data: bytes, source: str, member: str, kind: ArchiveKind) -> keras.Model:
    """The Keras model in ``data`` (the bytes of ``member``, a ``.keras`` file), vetted, then loaded in safe mode.

    Raises:
        ModelFileError: see :func:`vet_keras_archive`; or Keras cannot load it, or it holds no model.
    """
    vet_keras_archive(data, source, member, kind)
    try:
        with tempfile.TemporaryDirectory(prefix="seqkit-bundle-") as folder:
            file = Path(folder) / member
            file.write_bytes(data)
            network = keras.saving.load_model(file, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises anything from ValueError to KeyError on a bad file
        raise ModelFileError(
            f"{source}: Keras cannot load its {member} in safe mode ({type(error).__name__}: "
            f"{one_line(error)}). {kind.fix}"
        ) from None
    if not isinstance(network, keras.Model):
        raise ModelFileError(
            f"{source}: its {member} holds a {type(network).__name__}, not a Keras model. {kind.fix}"
        )
    return network


def vet_keras_archive(data: bytes, source: str, member: str, kind: ArchiveKind) -> None:
    """``member`` is a zip too: bound what Keras would unpack, and what it would build, before handing it over.

    Raises:
        ModelFileError: an entry is unsafe or larger than its limit, ``config.json`` is
            missing or cannot be sized, or the network holds more than :data:`MAX_PARAMETERS`.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            infos = inner.infolist()
            for info in infos:
                if unsafe_name(info.filename) or stat.S_ISLNK(info.external_attr >> 16):
                    raise ModelFileError(
                        f"{source} has an unsafe entry {info.filename!r} inside its {member}; refusing to "
                        f"read it. {kind.foreign}"
                    )
                limit = NETWORK_ENTRY_LIMITS.get(info.filename, OTHER_ENTRY_LIMIT)
                if info.file_size > limit:
                    raise ModelFileError(
                        f"{source} has a {member} whose entry {info.filename} declares {info.file_size} bytes "
                        f"uncompressed, more than the {limit} allowed; refusing it (a corrupted file or a zip bomb). "
                        f"{kind.fix}"
                    )
            names = [info.filename for info in infos]
            if "config.json" not in names:
                raise ModelFileError(f"{source} is corrupted: its {member} has no config.json. {kind.fix}")
            config_limit = NETWORK_ENTRY_LIMITS["config.json"]
            raw = read_bounded(
                inner, inner.getinfo("config.json"), config_limit,
                f"{source} is corrupted: its {member} entry config.json", kind.fix,
            )
    except ModelFileError:
        raise
    except Exception as error:
        raise ModelFileError(
            f"{source} is corrupted: its {member} is not a Keras archive ({one_line(error)}). {kind.fix}"
        ) from None
    if raw is None:
        raise ModelFileError(
            f"{source} has a {member} whose entry config.json is larger than the {config_limit} bytes "
            f"allowed. {kind.fix}"
        )
    try:
        config = json.loads(raw.decode("utf-8"))
        parameters = count_parameters(config)
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError) as error:  # JSONDecodeError: a ValueError
        raise ModelFileError(
            f"{source} is corrupted: its network config cannot be sized ({one_line(error)}). {kind.fix}"
        ) from None
    if parameters > MAX_PARAMETERS:
        shown = f"{parameters:,}" if parameters < 10**15 else "more than 10^15"
        raise ModelFileError(
            f"{source} holds a network of {shown} parameters by its config, more than the {MAX_PARAMETERS:,} "
            f"seqkit loads; refusing to build it (a corrupted or hostile file). {kind.fix}"
        )


# Sizing a network from its Keras config, before Keras builds it ----------------------
_SIZED_LAYERS = ("Embedding", "Dense", "LSTM", "GRU", "SimpleRNN", "LayerNormalization", "BatchNormalization")
_SHAPE_LAYERS = ("InputLayer", "Reshape", "Flatten", "Lambda")
_WEIGHTLESS_LAYERS = (
    "Masking", "Dropout", "SpatialDropout1D", "GaussianNoise", "Activation", "Softmax", "ReLU",
    # the Keras ops a functional graph records to build masks (Embedding(mask_zero=True)): elementwise
    "NotEqual", "Equal", "Cast", "LogicalAnd", "LogicalOr", "LogicalNot", "Any", "All",
)
_RECURRENT_GATES = {"LSTM": (4, 1), "GRU": (3, 2), "SimpleRNN": (1, 1)}  # gates, biases per gate
_HUGE = 10**18  # sizes are clamped here: the cap is far below, and the arithmetic stays small
_MODEL_CLASSES = ("Functional", "Sequential", "Model")


def count_parameters(config: Any) -> int:
    """An upper bound of the values Keras allocates to build the network of a ``config.json``.

    Weights of ``Embedding`` (``input_dim * output_dim``), ``Dense``
    (``units * (inputs + 1)``), ``LSTM`` / ``GRU`` / ``SimpleRNN``
    (``gates * units * (inputs + units + biases)``, plus ``batch * units`` per state
    when stateful) and normalization layers, where ``inputs`` is the widest feature
    size the layer can receive: the last dimension of its inbound layers' outputs
    and of its own ``build_config`` (Keras builds a layer from it when loading).
    Layers that allocate nothing (``Masking``, ``Dropout``, ``Reshape``, the mask ops
    Keras records such as ``NotEqual``) pass the size on; ``Flatten`` and ``Lambda``
    may merge time steps into features, so the bound grows by the time steps seen.
    Any other layer class is refused: it cannot be sized here.

    Args:
        config: the parsed ``config.json`` of a ``.keras`` archive.

    Returns:
        The number of values, an upper bound for networks seqkit writes (exact for them).

    Raises:
        ValueError: the config is not a Functional or Sequential model of the layers above.

    >>> import keras
    >>> inputs = keras.Input(shape=(3, 1))
    >>> network = keras.Model(inputs, keras.layers.Dense(26)(keras.layers.LSTM(8)(inputs)))
    >>> count_parameters(json.loads(network.to_json())), network.count_params()
    (554, 554)
    """
    if not isinstance(config, dict) or config.get("class_name") not in _MODEL_CLASSES:
        raise ValueError(f"expected a Functional or Sequential model, got {_kind(config)}")
    body = config.get("config")
    layers = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(layers, list) or not layers:
        raise ValueError("the model lists no layers")
    outputs: dict[str, int] = {}  # layer name -> widest feature size it outputs
    steps, batch, total = 1, 1, 0
    model_build = config.get("build_config") or {}
    model_shapes = [  # a Sequential model is built from these before its layers are called
        *_shapes(body.get("build_input_shape")),
        *(_shapes(model_build.get("input_shape")) if isinstance(model_build, dict) else []),
    ]
    previous = max([1, *(shape[-1] for shape in map(_shape, model_shapes) if shape and shape[-1])])
    for layer in layers:
        if not isinstance(layer, dict) or not isinstance(layer.get("config"), dict):
            raise ValueError(f"a layer is {_kind(layer)}, not an object with a 'config'")
        kind, settings = layer.get("class_name"), layer["config"]
        if not isinstance(kind, str):
            raise ValueError(f"a layer's class_name is {_kind(kind)}, not a string")
        build = layer.get("build_config") or {}
        if not isinstance(build, dict):
            raise ValueError(f"a layer's build_config is {_kind(build)}, not an object")
        shapes = [_shape(shape) for shape in _shapes(build.get("input_shape"))]
        for key in ("batch_shape", "batch_input_shape"):  # any layer may declare its input (Keras kwargs)
            if settings.get(key) is not None:
                shapes.append(_shape(settings[key]))
        for key in ("input_shape", "shape") if kind == "InputLayer" else ("input_shape",):
            if settings.get(key) is not None:
                shapes.append(_shape([None, *_as_list(settings[key], key)]))
        if kind != "Embedding" and settings.get("input_dim") is not None:
            shapes.append([None, _positive(settings, "input_dim")])
        inbound = [outputs[name] for name in _inbound_names(layer.get("inbound_nodes")) if name in outputs]
        features = max([previous, *inbound, *(shape[-1] for shape in shapes if shape and shape[-1])])
        for shape in shapes:
            batch = max(batch, shape[0] or 1) if shape else batch
            steps = max(steps, _product(shape[1:-1]))
        if kind in _RECURRENT_GATES:
            units = _positive(settings, "units")
            gates, biases = _RECURRENT_GATES[kind]
            total += gates * units * (features + units + biases)
            if settings.get("stateful") is True:
                total += (2 if kind == "LSTM" else 1) * batch * units
            features = units
        elif kind == "Dense":
            units = _positive(settings, "units")
            total += units * (features + 1)
            features = units
        elif kind == "Embedding":
            total += _positive(settings, "input_dim") * _positive(settings, "output_dim")
            features = _positive(settings, "output_dim")
        elif kind in ("LayerNormalization", "BatchNormalization"):
            total += 4 * features
        elif kind == "Reshape":
            target = _shape([None, *_as_list(settings.get("target_shape") or [], "target_shape")])
            steps = max(steps, _product(target[1:-1]))
            features = max(features, target[-1] or 1) if len(target) > 1 else features
        elif kind in ("Flatten", "Lambda"):
            features *= steps
        elif kind not in _WEIGHTLESS_LAYERS and kind != "InputLayer":
            raise ValueError(f"layer class {kind!r} is not one seqkit can size before building it")
        features, steps, batch = min(features, _HUGE), min(steps, _HUGE), min(batch, _HUGE)
        outputs[str(layer.get("name", settings.get("name", "")))] = features
        previous = features
        if total > _HUGE:
            break
    return total


def _as_list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"'{name}' must be a list, got {str(value)[:40]!r}")
    return value


def _kind(value: Any) -> str:
    return f"a {type(value).__name__}" if not isinstance(value, dict) else repr(value.get("class_name"))[:40]


def _positive(settings: dict[str, Any], name: str) -> int:
    value = settings.get(name)
    if not _is_int(value, minimum=1):
        raise ValueError(f"'{name}' must be an int >= 1, got {str(value)[:40]!r}")
    return min(int(value), _HUGE)  # type: ignore[arg-type]


def _shapes(value: Any) -> list[list[Any]]:
    """The shapes in a build_config ``input_shape``: one shape, a list of shapes or a dict of them."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [shape for item in value.values() for shape in _shapes(item)]
    if isinstance(value, list) and value and all(isinstance(item, list | dict) or item is None for item in value) and any(
        isinstance(item, list | dict) for item in value
    ):
        return [shape for item in value for shape in _shapes(item)]
    if isinstance(value, list):
        return [value]
    raise ValueError(f"an input shape is {type(value).__name__}, not a list")


def _shape(shape: Any) -> list[int | None]:
    if not isinstance(shape, list) or not all(item is None or _is_int(item, minimum=0) for item in shape):
        raise ValueError(f"a shape must be a list of ints >= 0 or nulls, got {str(shape)[:60]}")
    return shape


def _product(sizes: list[int | None]) -> int:
    result = 1
    for size in sizes:
        result *= size or 1
    return result


def _inbound_names(nodes: Any) -> list[str]:
    """The layer names in ``inbound_nodes`` (every ``keras_history``), as Keras reads them."""
    found: list[str] = []
    pending = [nodes]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            history = item.get("keras_history")
            if isinstance(history, list) and history and isinstance(history[0], str):
                found.append(history[0])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _is_int(value: object, *, minimum: int) -> bool:
    return is_int(value) and value >= minimum  # type: ignore[operator]


__all__ = [
    "MAX_PARAMETERS",
    "NETWORK_ENTRY_LIMITS",
    "OTHER_ENTRY_LIMIT",
    "count_parameters",
    "load_keras_archive",
    "vet_keras_archive",
]
