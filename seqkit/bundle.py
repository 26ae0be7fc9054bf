"""Bundles: the parts of a fitted model in one file.

A bundle is a zip archive (suffix ``.seqkit`` by convention) with exactly
three members:

- ``spec.json`` — format name ``"seqkit.bundle"`` and version, the seqkit
  version that wrote it, the model's training spec, layout config, window
  length, history, vocabulary size, input shape, statefulness, and the
  SHA-256 and size of each other member;
- ``vocabulary.json`` — the vocabulary (:meth:`Vocabulary.to_json`);
- ``model.keras`` — the Keras network (for stateful models, the batch-1 twin).

This module knows the file format, not the model class: it writes and reads
:class:`BundleContents`, the parts a model is made of. ``SequenceModel.save`` and
``SequenceModel.load`` (and ``save_bundle`` / ``load_bundle``, all in
:mod:`seqkit.sequence_model`) build on it.

:func:`write_bundle` builds the archive in memory and writes it atomically, so
an interrupted save leaves the previous bundle (or nothing) in place, never a
half-written one. :func:`read_bundle` checks everything before using
anything — the archive, its member names and sizes, the spec, the checksums,
the vocabulary, the Keras file (loaded in safe mode: no pickle, no lambda
layers), and that network, vocabulary and layout agree — and refuses a
missing, corrupted, foreign or newer file with a
:class:`~seqkit.errors.ModelFileError` whose one-line message says what is
wrong and how to fix it. Nothing is unpickled, ever.

The LSTM state of a stateful model is not saved: a loaded model starts from
a zero state, as after :meth:`~seqkit.sequence_model.SequenceModel.reset`.

>>> import pathlib, tempfile
>>> from seqkit import alphabet
>>> from seqkit.trainers import StatelessTrainer
>>> model, _ = StatelessTrainer(window=2, units=4, epochs=1).fit(alphabet())
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = write_bundle(model.bundle_contents(), folder / "alphabet.seqkit")
>>> path.name
'alphabet.seqkit'
>>> contents = read_bundle(path)
>>> contents.window_length, contents.layout, contents.stateful
(2, TimeSteps('scaled'), False)
>>> read_bundle_spec(path)["window_length"]
2
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import hashlib
import io
import json
import os
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from seqkit.checks import is_int
from seqkit.errors import LayoutError, ModelFileError
from seqkit.files import FileKind, check_path, one_line, printable, write_bytes_atomic
from seqkit.layouts import Layout, make_layout
from seqkit.models import recurrent_layers
from seqkit.version import __version__
from seqkit.vocab import Vocabulary

FORMAT_NAME = "seqkit.bundle"
FORMAT_VERSION = 1
SUFFIX = ".seqkit"
"""The conventional file suffix of a bundle (not enforced)."""

SPEC_MEMBER = "spec.json"
VOCABULARY_MEMBER = "vocabulary.json"
NETWORK_MEMBER = "model.keras"
MEMBERS: tuple[str, ...] = (SPEC_MEMBER, VOCABULARY_MEMBER, NETWORK_MEMBER)

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

MEMBER_LIMITS: dict[str, int] = {
    SPEC_MEMBER: 16 * 1024 * 1024,
    VOCABULARY_MEMBER: 64 * 1024 * 1024,
    NETWORK_MEMBER: sum(NETWORK_ENTRY_LIMITS.values()),
}
"""The largest uncompressed size, in bytes, accepted for each member (a guard against zip bombs)."""

_OTHER_ENTRY_LIMIT = 16 * 1024 * 1024
_BUNDLE_FILE = FileKind("Bundle", f"a {SUFFIX} file written by save_bundle", 0, ModelFileError, "")  # for paths
_CHUNK_BYTES = 1024 * 1024

_RESAVE = "Save the model again with save_bundle."
_RECORD_FIELDS: tuple[tuple[str, type, str], ...] = (  # the training record's fields that readers use
    ("trainer", str, "a string"),
    ("hyperparameters", dict, "an object"),
    ("corpus", dict, "an object"),
    ("layout", dict, "an object"),
    ("policy", dict, "an object"),
)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class BundleContents:
    """What a bundle holds: the parts of a fitted model.

    Attributes:
        network: the Keras network that predicts (for a stateful model, its batch-1 twin).
        vocabulary: maps tokens to the ids the network was trained on.
        layout: how windows are presented to the network.
        window_length: ``L``, the ids per window the network reads.
        spec: a JSON-ready record of how the model was trained. Defaults to empty.
        history: per-epoch training ``loss`` and ``accuracy``. Defaults to empty.
    """

    network: keras.Model
    vocabulary: Vocabulary
    layout: Layout
    window_length: int
    spec: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def stateful(self) -> bool:
        """Whether the network carries LSTM state from call to call."""
        return bool(recurrent_layers(self.network))


# Saving -----------------------------------------------------------------------------
def write_bundle(contents: BundleContents, path: str | os.PathLike[str]) -> Path:
    """Write ``contents`` as one bundle file at ``path``, atomically.

    The archive is built in memory and renamed over ``path`` only once it is
    complete and on disk: a crash at any moment leaves the old bundle (or no
    file), never a half-written one. Missing parent folders are created.

    Args:
        contents: the parts of the fitted model to save.
        path: the bundle file to create or replace (suffix ``.seqkit`` by convention).

    Returns:
        The path written, as a :class:`~pathlib.Path`.

    Raises:
        TypeError: ``contents`` is not a BundleContents.
        ModelFileError: ``path`` is a directory, or the file cannot be written.
    """
    if not isinstance(contents, BundleContents):
        raise TypeError(f"write_bundle writes a BundleContents; got {type(contents).__name__}.")
    target = Path(path)
    if target.is_dir():
        raise ModelFileError(
            f"Cannot save the bundle to '{printable(str(target))}': it is a directory. Give a file path such as "
            f"'{target / ('model' + SUFFIX)}'."
        )
    try:
        write_bytes_atomic(target, bundle_bytes(contents))
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise ModelFileError(
            f"Cannot save the bundle to '{printable(str(target))}': {reason}. Check that the folder exists and is "
            "writable."
        ) from None
    return target


def bundle_bytes(contents: BundleContents) -> bytes:
    """The bytes of the bundle archive of ``contents``: what :func:`write_bundle` writes, built in memory."""
    network_data = _network_bytes(contents.network)
    vocabulary_data = contents.vocabulary.to_json().encode("utf-8")
    layout = contents.layout
    window_length = int(contents.window_length)
    spec = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "seqkit_version": __version__,
        "stateful": contents.stateful,
        "window_length": window_length,
        "vocabulary_size": int(contents.vocabulary.size),
        "input_shape": list(layout.input_shape(window_length, contents.vocabulary.size)),
        "layout": layout.get_config(),
        "spec": contents.spec,
        "history": contents.history,
        "members": {
            VOCABULARY_MEMBER: _describe(vocabulary_data),
            NETWORK_MEMBER: _describe(network_data),
        },
    }
    try:
        spec_data = (json.dumps(spec, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"Cannot save the bundle: the model's spec or history is not JSON-ready ({error}). "
            "Keep only strings, numbers, booleans, lists and dicts in model.spec and model.history."
        ) from None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        members = ((SPEC_MEMBER, spec_data), (VOCABULARY_MEMBER, vocabulary_data), (NETWORK_MEMBER, network_data))
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _network_bytes(network: keras.Model) -> bytes:
    with tempfile.TemporaryDirectory(prefix="seqkit-bundle-") as folder:
        file = Path(folder) / NETWORK_MEMBER
        network.save(file, include_optimizer=False)
        return file.read_bytes()


def _describe(data: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


# Loading ----------------------------------------------------------------------------
def read_bundle(path: str | os.PathLike[str]) -> BundleContents:
    """Read a bundle written by :func:`write_bundle`; anything else is refused.

    Every member is checked before it is used, and the network, vocabulary and
    layout must agree. The Keras network is loaded with ``safe_mode=True``
    and ``compile=False``. A stateful network starts from a zero state.

    Args:
        path: the bundle file.

    Returns:
        The parts of the model, predicting exactly as the saved one did (from a reset state).

    Raises:
        ModelFileError: the file is missing, not a bundle, corrupted, written by
            a newer seqkit, or inconsistent. The message names the problem and the fix.

    >>> read_bundle("/no/such/model.seqkit")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seqkit.errors.ModelFileError: Bundle '/no/such/model.seqkit' does not exist. Check the path, or save...
    """
    file = check_path(path, _BUNDLE_FILE)
    source = _BUNDLE_FILE.source(file)
    members = _read_members(file, source)
    spec = _parse_spec(members[SPEC_MEMBER], source)
    _verify_checksums(spec, members, source)
    try:
        vocabulary_text = members[VOCABULARY_MEMBER].decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(f"{source} is corrupted: {VOCABULARY_MEMBER} is not UTF-8 text. {_RESAVE}") from None
    vocabulary = Vocabulary.from_json(vocabulary_text, source=f"{source} member {VOCABULARY_MEMBER}")
    layout = _layout(spec, source)
    _check_declared_shapes(spec, vocabulary, layout, source)
    network = _load_network(members[NETWORK_MEMBER], source)
    _check_network(network, spec, vocabulary, layout, source)
    return BundleContents(
        network,
        vocabulary,
        layout,
        window_length=spec["window_length"],
        spec=spec["spec"],
        history=spec["history"],
    )


def read_bundle_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated ``spec.json`` of a bundle, without loading its network.

    The archive, the spec and the members' checksums are checked as by
    :func:`read_bundle`; Keras is not involved, so this is quick (for an
    ``inspect`` command, say).

    Raises:
        ModelFileError: as :func:`read_bundle`, for every check but the network's.
    """
    file = check_path(path, _BUNDLE_FILE)
    source = _BUNDLE_FILE.source(file)
    members = _read_members(file, source)
    spec = _parse_spec(members[SPEC_MEMBER], source)
    _verify_checksums(spec, members, source)
    return spec


def _read_members(file: Path, source: str) -> dict[str, bytes]:
    """Open the archive, vet every member's name, kind and size, and read the three members."""
    if file.is_dir():
        raise ModelFileError(f"{source} is a directory; expected a {SUFFIX} file written by save_bundle.")
    try:
        status = file.stat()
        if not stat.S_ISREG(status.st_mode):
            raise ModelFileError(f"{source} is not a regular file; expected a {SUFFIX} file written by save_bundle.")
        size = status.st_size
        with file.open("rb") as handle:
            head = handle.read(len(_ZIP_MAGIC))
    except FileNotFoundError:
        raise ModelFileError(
            f"{source} does not exist. Check the path, or save a model there with save_bundle(model, path)."
        ) from None
    except ModelFileError:
        raise
    except OSError as error:
        raise ModelFileError(f"{source} cannot be read: {error.strerror or error}. Check its permissions.") from None
    if size == 0:
        raise ModelFileError(f"{source} is empty (0 bytes); it is not a seqkit bundle. {_RESAVE}")
    try:
        archive = zipfile.ZipFile(file)
    except Exception as error:  # zipfile raises many kinds on damaged input
        if head == _ZIP_MAGIC:
            raise ModelFileError(
                f"{source} is truncated or corrupted: its zip directory is missing or damaged "
                f"({one_line(error)}). {_RESAVE}"
            ) from None
        raise ModelFileError(
            f"{source} is not a seqkit bundle: it is not a zip archive. Give a file written by save_bundle."
        ) from None
    with archive:
        infos = archive.infolist()
        _vet_names(infos, source)
        members: dict[str, bytes] = {}
        for info in infos:
            members[info.filename] = _read_member(archive, info, source)
    return members


def _vet_names(infos: list[zipfile.ZipInfo], source: str) -> None:
    names = [info.filename for info in infos]
    for info in infos:
        if _unsafe_name(info.filename):
            raise ModelFileError(
                f"{source} has an unsafe member {info.filename!r} (an absolute path or '..'); refusing to "
                "read it. Use only bundles written by save_bundle."
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ModelFileError(
                f"{source} has a member {info.filename!r} that is a symbolic link; refusing to read it. "
                "Use only bundles written by save_bundle."
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ModelFileError(
            f"{source} holds member {duplicates[0]!r} more than once; refusing an ambiguous archive. {_RESAVE}"
        )
    if SPEC_MEMBER not in names and {"config.json", "model.weights.h5"} <= set(names):
        raise ModelFileError(
            f"{source} is a Keras model file, not a seqkit bundle: it has no vocabulary or spec. "
            "Save a fitted SequenceModel with save_bundle."
        )
    missing = [name for name in MEMBERS if name not in names]
    if missing:
        listed = ", ".join(missing)
        raise ModelFileError(
            f"{source} is not a complete seqkit bundle: {listed} missing. Give a file written by save_bundle."
        )
    extra = [name for name in names if name not in MEMBERS]
    if extra:
        raise ModelFileError(
            f"{source} has unexpected member(s) {', '.join(map(repr, extra))}; a seqkit bundle holds exactly "
            f"{', '.join(MEMBERS)}. Use only bundles written by save_bundle."
        )


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return True
    return ".." in re.split(r"[/\\]", name)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> bytes:
    name = info.filename
    limit = MEMBER_LIMITS[name]
    if info.file_size > limit:
        raise ModelFileError(
            f"{source} member {name} declares {info.file_size} bytes uncompressed, more than the "
            f"{limit} allowed; refusing it (a corrupted file or a zip bomb). {_RESAVE}"
        )
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{source} member {name} is encrypted; bundles are never encrypted. {_RESAVE}")
    data = _read_bounded(archive, info, limit, f"{source} is corrupted: member {name}")
    if data is None:
        raise ModelFileError(f"{source} member {name} is larger than the {limit} bytes allowed. {_RESAVE}")
    return data


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, corrupted: str) -> bytes | None:
    """An entry's bytes, read in chunks; None as soon as more than ``limit`` come out.

    zipfile stops at the declared size and checks the CRC; the chunks bound memory
    even if the header lies. A damaged entry raises ``ModelFileError("{corrupted} cannot be read (...)")``.
    """
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                total += len(chunk)
                if total > limit:
                    return None
                chunks.append(chunk)
    except Exception as error:  # BadZipFile (CRC), zlib.error, EOFError, NotImplementedError, ...
        raise ModelFileError(f"{corrupted} cannot be read ({one_line(error)}). {_RESAVE}") from None
    return b"".join(chunks)


def _parse_spec(raw: bytes, source: str) -> dict[str, Any]:
    """Parse and type-check ``spec.json``: format and version first, then every field."""
    try:
        spec = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ModelFileError(
            f"{source} is corrupted: {SPEC_MEMBER} is not valid JSON ({one_line(error)}). {_RESAVE}"
        ) from None
    except ValueError:  # a number of more than 4300 digits (Python's int conversion limit)
        raise ModelFileError(
            f"{source} is corrupted: {SPEC_MEMBER} is not valid JSON (it holds a number of more than 4300 "
            f"digits). {_RESAVE}"
        ) from None
    if not isinstance(spec, dict):
        raise ModelFileError(
            f"{source} is not a seqkit bundle: {SPEC_MEMBER} holds a JSON {type(spec).__name__}, expected an object."
        )
    if spec.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{source} is not a seqkit bundle: its {SPEC_MEMBER} 'format' is {spec.get('format')!r}, "
            f"expected {FORMAT_NAME!r}. Give a file written by save_bundle."
        )
    version = spec.get("version")
    if not _is_int(version, minimum=1):
        raise ModelFileError(
            f"{source} is corrupted: {SPEC_MEMBER} 'version' must be an int >= 1; got {version!r}. {_RESAVE}"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{source} was written by a newer seqkit (format version {version}); this seqkit reads version "
            f"{FORMAT_VERSION}: upgrade seqkit."
        )

    def wrong(field: str, expected: str) -> ModelFileError:
        return ModelFileError(
            f"{source} is corrupted: {SPEC_MEMBER} '{field}' must be {expected}; got {spec.get(field)!r}. {_RESAVE}"
        )

    if not isinstance(spec.get("seqkit_version"), str):
        raise wrong("seqkit_version", "a string")
    if not isinstance(spec.get("stateful"), bool):
        raise wrong("stateful", "true or false")
    for name in ("window_length", "vocabulary_size"):
        if not _is_int(spec.get(name), minimum=1):
            raise wrong(name, "an int >= 1")
    shape = spec.get("input_shape")
    if not isinstance(shape, list) or not shape or not all(_is_int(size, minimum=1) for size in shape):
        raise wrong("input_shape", "a non-empty list of ints >= 1")
    layout = spec.get("layout")
    if not isinstance(layout, dict) or not all(isinstance(layout.get(key), str) for key in ("layout", "encoding")):
        raise wrong("layout", "an object with string 'layout' and 'encoding'")
    model_spec = spec.get("spec")
    if not isinstance(model_spec, dict) or not isinstance(model_spec.get("model", {}), dict):
        raise wrong("spec", "an object (with an object 'model', if any)")
    if not isinstance(model_spec.get("model", {}).get("masked", False), bool):
        raise ModelFileError(
            f"{source} is corrupted: {SPEC_MEMBER} 'spec.model.masked' must be true or false; "
            f"got {model_spec['model']['masked']!r}. {_RESAVE}"
        )
    for key, kind, expected in _RECORD_FIELDS:
        if key in model_spec and not isinstance(model_spec[key], kind):
            shown = repr(model_spec[key])
            raise ModelFileError(
                f"{source} is corrupted: {SPEC_MEMBER} 'spec.{key}' must be {expected}; got "
                f"{shown if len(shown) <= 60 else shown[:59] + '…'}. {_RESAVE}"
            )
    history = spec.get("history")
    if not isinstance(history, dict) or not all(
        isinstance(values, list) and all(_is_number(value) for value in values) for values in history.values()
    ):
        raise wrong("history", "an object of lists of numbers")
    recorded = spec.get("members")
    if not isinstance(recorded, dict) or set(recorded) != {VOCABULARY_MEMBER, NETWORK_MEMBER} or not all(
        isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and _SHA256.fullmatch(entry["sha256"])
        and _is_int(entry.get("bytes"), minimum=0)
        for entry in recorded.values()
    ):
        raise wrong("members", f"an object giving the 'sha256' and 'bytes' of {VOCABULARY_MEMBER} and {NETWORK_MEMBER}")
    return spec


def _verify_checksums(spec: dict[str, Any], members: dict[str, bytes], source: str) -> None:
    for name, entry in spec["members"].items():
        data = members[name]
        if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ModelFileError(
                f"{source} is corrupted: member {name} does not match the SHA-256 checksum in {SPEC_MEMBER}. "
                f"{_RESAVE}"
            )


def _layout(spec: dict[str, Any], source: str) -> Layout:
    try:
        return make_layout(spec["layout"])
    except LayoutError as error:
        raise ModelFileError(f"{source} is corrupted: {SPEC_MEMBER} 'layout' is invalid ({error}) {_RESAVE}") from None


def _check_declared_shapes(spec: dict[str, Any], vocabulary: Vocabulary, layout: Layout, source: str) -> None:
    if spec["vocabulary_size"] != vocabulary.size:
        raise ModelFileError(
            f"{source} is inconsistent: {SPEC_MEMBER} says the vocabulary has {spec['vocabulary_size']} tokens, "
            f"{VOCABULARY_MEMBER} has {vocabulary.size}. {_RESAVE}"
        )
    implied = list(layout.input_shape(spec["window_length"], vocabulary.size))
    if spec["input_shape"] != implied:
        raise ModelFileError(
            f"{source} is inconsistent: {SPEC_MEMBER} 'input_shape' is {spec['input_shape']}, but layout "
            f"{layout!r} with window_length {spec['window_length']} and {vocabulary.size} tokens implies "
            f"{implied}. {_RESAVE}"
        )


def _vet_network_archive(data: bytes, source: str) -> None:
    """``model.keras`` is a zip too: bound what Keras would unpack, and what it would build, before handing it over."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            infos = inner.infolist()
            for info in infos:
                if _unsafe_name(info.filename) or stat.S_ISLNK(info.external_attr >> 16):
                    raise ModelFileError(
                        f"{source} has an unsafe entry {info.filename!r} inside its {NETWORK_MEMBER}; refusing to "
                        "read it. Use only bundles written by save_bundle."
                    )
                limit = NETWORK_ENTRY_LIMITS.get(info.filename, _OTHER_ENTRY_LIMIT)
                if info.file_size > limit:
                    raise ModelFileError(
                        f"{source} has a {NETWORK_MEMBER} whose entry {info.filename} declares {info.file_size} bytes "
                        f"uncompressed, more than the {limit} allowed; refusing it (a corrupted file or a zip bomb). "
                        f"{_RESAVE}"
                    )
            names = [info.filename for info in infos]
            if "config.json" not in names:
                raise ModelFileError(f"{source} is corrupted: its {NETWORK_MEMBER} has no config.json. {_RESAVE}")
            config_limit = NETWORK_ENTRY_LIMITS["config.json"]
            raw = _read_bounded(
                inner, inner.getinfo("config.json"), config_limit,
                f"{source} is corrupted: its {NETWORK_MEMBER} entry config.json",
            )
    except ModelFileError:
        raise
    except Exception as error:
        raise ModelFileError(
            f"{source} is corrupted: its {NETWORK_MEMBER} is not a Keras archive ({one_line(error)}). {_RESAVE}"
        ) from None
    if raw is None:
        raise ModelFileError(
            f"{source} has a {NETWORK_MEMBER} whose entry config.json is larger than the {config_limit} bytes "
            f"allowed. {_RESAVE}"
        )
    try:
        config = json.loads(raw.decode("utf-8"))
        parameters = count_parameters(config)
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError) as error:  # JSONDecodeError: a ValueError
        raise ModelFileError(
            f"{source} is corrupted: its network config cannot be sized ({one_line(error)}). {_RESAVE}"
        ) from None
    if parameters > MAX_PARAMETERS:
        shown = f"{parameters:,}" if parameters < 10**15 else "more than 10^15"
        raise ModelFileError(
            f"{source} holds a network of {shown} parameters by its config, more than the {MAX_PARAMETERS:,} "
            f"seqkit loads; refusing to build it (a corrupted or hostile file). {_RESAVE}"
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


def _load_network(data: bytes, source: str) -> keras.Model:
    _vet_network_archive(data, source)
    try:
        with tempfile.TemporaryDirectory(prefix="seqkit-bundle-") as folder:
            file = Path(folder) / NETWORK_MEMBER
            file.write_bytes(data)
            network = keras.saving.load_model(file, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises anything from ValueError to KeyError on a bad file
        raise ModelFileError(
            f"{source}: Keras cannot load its {NETWORK_MEMBER} in safe mode ({type(error).__name__}: "
            f"{one_line(error)}). {_RESAVE}"
        ) from None
    if not isinstance(network, keras.Model):
        raise ModelFileError(
            f"{source}: its {NETWORK_MEMBER} holds a {type(network).__name__}, not a Keras model. {_RESAVE}"
        )
    return network


def _check_network(
    network: keras.Model, spec: dict[str, Any], vocabulary: Vocabulary, layout: Layout, source: str
) -> None:
    """The loaded network must take the layout's input and predict one probability per token."""
    inconsistent = f"{source} is inconsistent:"
    if len(network.inputs) != 1 or len(network.outputs) != 1:
        raise ModelFileError(
            f"{inconsistent} its network has {len(network.inputs)} inputs and {len(network.outputs)} outputs; "
            f"a seqkit network has one of each. {_RESAVE}"
        )
    outputs = tuple(network.outputs[0].shape)
    if len(outputs) != 2 or outputs[-1] != vocabulary.size:
        raise ModelFileError(
            f"{inconsistent} its network outputs shape {outputs}, but its vocabulary has {vocabulary.size} "
            f"tokens (expected (batch, {vocabulary.size})). {_RESAVE}"
        )
    inputs = tuple(network.inputs[0].shape)
    expected = tuple(spec["input_shape"])
    if inputs[1:] != expected:
        raise ModelFileError(
            f"{inconsistent} its network reads samples of shape {inputs[1:]}, but layout {layout!r} implies "
            f"{expected}. {_RESAVE}"
        )
    dtype = str(network.inputs[0].dtype)
    if dtype != layout.input_dtype:
        raise ModelFileError(
            f"{inconsistent} its network reads {dtype} inputs, but layout {layout!r} gives "
            f"{layout.input_dtype}. {_RESAVE}"
        )
    stateful = bool(recurrent_layers(network))
    if stateful != spec["stateful"]:
        kind = "stateful" if stateful else "stateless"
        raise ModelFileError(
            f"{inconsistent} its network is {kind}, but {SPEC_MEMBER} says stateful={str(spec['stateful']).lower()}. "
            f"{_RESAVE}"
        )
    if stateful and inputs[0] != 1:
        raise ModelFileError(
            f"{inconsistent} its stateful network has batch size {inputs[0]}; seqkit predicts with a batch-1 "
            f"network. {_RESAVE}"
        )


# Helpers ----------------------------------------------------------------------------
def _is_int(value: object, *, minimum: int) -> bool:
    return is_int(value) and value >= minimum  # type: ignore[operator]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_PARAMETERS",
    "MEMBERS",
    "MEMBER_LIMITS",
    "NETWORK_ENTRY_LIMITS",
    "SUFFIX",
    "BundleContents",
    "bundle_bytes",
    "count_parameters",
    "read_bundle",
    "read_bundle_spec",
    "write_bundle",
]
