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
wrong and how to fix it. Nothing is unpickled, ever. The archive is read by
:mod:`seqkit.io.zipsafe`; the Keras file is vetted, sized and loaded by
:mod:`seqkit.io.keras_config`.

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
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from seqkit.checks import is_int
from seqkit.errors import LayoutError, ModelFileError
from seqkit.files import FileKind, check_path, one_line, printable, write_bytes_atomic
from seqkit.io.keras_config import MAX_PARAMETERS, NETWORK_ENTRY_LIMITS, count_parameters, load_keras_archive
from seqkit.io.zipsafe import ArchiveKind, read_members, zip_bytes
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

MEMBER_LIMITS: dict[str, int] = {
    SPEC_MEMBER: 16 * 1024 * 1024,
    VOCABULARY_MEMBER: 64 * 1024 * 1024,
    NETWORK_MEMBER: sum(NETWORK_ENTRY_LIMITS.values()),
}
"""The largest uncompressed size, in bytes, accepted for each member (a guard against zip bombs)."""

_BUNDLE_FILE = FileKind("Bundle", f"a {SUFFIX} file written by save_bundle", 0, ModelFileError, "")  # for paths

_RESAVE = "Save the model again with save_bundle."
_RECORD_FIELDS: tuple[tuple[str, type, str], ...] = (  # the training record's fields that readers use
    ("trainer", str, "a string"),
    ("hyperparameters", dict, "an object"),
    ("corpus", dict, "an object"),
    ("layout", dict, "an object"),
    ("policy", dict, "an object"),
)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BUNDLE_ARCHIVE = ArchiveKind(
    name="seqkit bundle",
    plural="bundles",
    expected=f"a {SUFFIX} file written by save_bundle",
    create="save a model there with save_bundle(model, path)",
    give="Give a file written by save_bundle.",
    foreign="Use only bundles written by save_bundle.",
    fix=_RESAVE,
    limits=MEMBER_LIMITS,
)


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
    return zip_bytes(((SPEC_MEMBER, spec_data), (VOCABULARY_MEMBER, vocabulary_data), (NETWORK_MEMBER, network_data)))


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
    network = load_keras_archive(members[NETWORK_MEMBER], source, NETWORK_MEMBER, _BUNDLE_ARCHIVE)
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
    return read_members(file, source, _BUNDLE_ARCHIVE, lambda names: _check_members(names, source))


def _check_members(names: list[str], source: str) -> None:
    """A Keras file given for a bundle is named as such (missing and extra members are refused next)."""
    if SPEC_MEMBER not in names and {"config.json", "model.weights.h5"} <= set(names):
        raise ModelFileError(
            f"{source} is a Keras model file, not a seqkit bundle: it has no vocabulary or spec. "
            "Save a fitted SequenceModel with save_bundle."
        )


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
