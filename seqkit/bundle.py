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
layers) — and accepts a bundle only if its parts agree: network, vocabulary
and layout; the training record and the network (recurrent layers, cell,
units, window); the trainer and reset policy among those seqkit knows; the
vocabulary's tokens fit for the corpus's level; the weights finite. It refuses
a missing, corrupted, foreign, inconsistent or newer-format file with a
:class:`~seqkit.errors.ModelFileError` whose one-line message says what is
wrong and how to fix it, and loads one written by a newer seqkit in the same
format with a one-line :class:`NewerBundleWarning`. Nothing is unpickled, ever. The archive is read by
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
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from seqkit.checks import is_int
from seqkit.errors import ConfigurationError, LayoutError, ModelFileError
from seqkit.files import FileKind, check_path, one_line, printable, write_bytes_atomic
from seqkit.io.keras_config import MAX_PARAMETERS, NETWORK_ENTRY_LIMITS, count_parameters, load_keras_archive
from seqkit.io.zipsafe import ArchiveKind, read_members, zip_bytes
from seqkit.layouts import Layout, make_layout
from seqkit.models import cell_of, recurrent_layers
from seqkit.reset import parse_reset_policy
from seqkit.subword import SubwordVocabulary
from seqkit.version import __version__
from seqkit.vocab import Vocabulary, unfit_token

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

TRAINER_NAMES: tuple[str, ...] = ("StatelessTrainer", "InBatchTrainer", "StatefulTrainer", "StreamTrainer")
"""The trainers whose models a bundle may hold: the names its training record's ``trainer`` may take
(the classes of :data:`seqkit.trainers.TRAINERS`, written here because the trainers sit above bundles)."""


class NewerBundleWarning(UserWarning):
    """A bundle written by a newer seqkit than this one: it loads, but may rely on what this seqkit lacks."""


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

    Every member is checked before it is used, and the parts must agree: the
    network, vocabulary and layout; the training record and the network (the
    number, cell and units of its recurrent layers, the window it reads); the
    trainer and reset policy named, among seqkit's; the vocabulary's tokens and
    the corpus's level (a character-level token is one character, a word-level
    one holds no whitespace); every weight finite. The Keras network is loaded
    with ``safe_mode=True`` and ``compile=False``. A stateful network starts from
    a zero state. A bundle written by a newer seqkit (in a format this one reads)
    loads with a one-line :class:`NewerBundleWarning`.

    Args:
        path: the bundle file.

    Returns:
        The parts of the model, predicting exactly as the saved one did (from a reset state).

    Raises:
        ModelFileError: the file is missing, not a bundle, corrupted, written in
            a newer format, inconsistent, or its weights are not finite. The message
            names the problem and the fix.

    >>> read_bundle("/no/such/model.seqkit")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seqkit.errors.ModelFileError: Bundle '/no/such/model.seqkit' does not exist. Check the path, or save...
    """
    file = check_path(path, _BUNDLE_FILE)
    source = _BUNDLE_FILE.source(file)
    members = _read_members(file, source)
    spec = _parse_spec(members[SPEC_MEMBER], source)
    _note_newer_version(spec, source)
    _verify_checksums(spec, members, source)
    try:
        vocabulary_text = members[VOCABULARY_MEMBER].decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(f"{source} is corrupted: {VOCABULARY_MEMBER} is not UTF-8 text. {_RESAVE}") from None
    vocabulary = Vocabulary.from_json(vocabulary_text, source=f"{source} member {VOCABULARY_MEMBER}")
    layout = _layout(spec, source)
    _check_declared_shapes(spec, vocabulary, layout, source)
    _check_vocabulary_level(vocabulary, spec["spec"], source)
    network = load_keras_archive(members[NETWORK_MEMBER], source, NETWORK_MEMBER, _BUNDLE_ARCHIVE)
    _check_network(network, spec, vocabulary, layout, source)
    _check_record(network, spec, source)
    _check_finite(network, source)
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

    The archive, the spec (the trainer and reset policy named too) and the
    members' checksums are checked as by :func:`read_bundle`, with the same
    :class:`NewerBundleWarning`; Keras is not involved, so this is quick.

    Raises:
        ModelFileError: as :func:`read_bundle`, for every check but those of the
            vocabulary and the network.
    """
    file = check_path(path, _BUNDLE_FILE)
    source = _BUNDLE_FILE.source(file)
    members = _read_members(file, source)
    spec = _parse_spec(members[SPEC_MEMBER], source)
    _note_newer_version(spec, source)
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
            raise ModelFileError(
                f"{source} is corrupted: {SPEC_MEMBER} 'spec.{key}' must be {expected}; got "
                f"{_shown(model_spec[key])}. {_RESAVE}"
            )
    _check_names(model_spec, source)
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


# The parts must agree ------------------------------------------------------------------
_CELL_NAMES = {"lstm": "LSTM", "gru": "GRU"}


def _check_names(record: dict[str, Any], source: str) -> None:
    """The training record's trainer is a seqkit trainer, and its reset policy one seqkit parses."""
    trainer = record.get("trainer")
    if trainer is not None and trainer not in TRAINER_NAMES:
        raise ModelFileError(
            f"{source} is corrupted: {SPEC_MEMBER} 'spec.trainer' must be one of "
            f"{', '.join(repr(name) for name in TRAINER_NAMES)}; got {_shown(trainer)}. {_RESAVE}"
        )
    reset = record.get("hyperparameters", {}).get("reset")
    if reset is not None:
        try:
            parse_reset_policy(reset)
        except ConfigurationError as error:
            raise ModelFileError(
                f"{source} is corrupted: {SPEC_MEMBER} 'spec.hyperparameters.reset' is invalid ({one_line(error)}) "
                f"{_RESAVE}"
            ) from None


def _check_vocabulary_level(vocabulary: Vocabulary, record: dict[str, Any], source: str) -> None:
    """Every token of a character-level (or unlabelled) vocabulary is one character, of a word-level one a word.

    Generated text is the tokens joined; a token that does not split back into itself
    at the corpus's level makes text that does not read back. Subword vocabularies
    split text by their own tokenizer and are exempt; so is the unknown token.
    """
    if isinstance(vocabulary, SubwordVocabulary):
        return
    corpus = record.get("corpus", {})
    level = corpus.get("level") if isinstance(corpus.get("level"), str) else "char"
    reasons = {"char": "which is not one character", "word": "which holds whitespace"}
    if level not in reasons:
        return
    token = unfit_token((token for token in vocabulary.tokens if token != vocabulary.unknown_token), level)
    if token is not None:
        kind = "character" if level == "char" else "word"
        raise ModelFileError(
            f"{source} is inconsistent: its {kind}-level vocabulary holds the token {_shown(token)}, "
            f"{reasons[level]}, so generated text would not split back into its tokens. Train at the level its "
            f"tokens were split at, or save the model again with save_bundle."
        )


def _check_record(network: keras.Model, spec: dict[str, Any], source: str) -> None:
    """The training record describes the loaded network: its recurrent layers' number, cell and units, its window."""
    recurrent = [layer for layer in network.layers if isinstance(layer, keras.layers.RNN)]
    cells = sorted({cell_of(layer) or type(layer).__name__ for layer in recurrent})
    units = sorted({int(layer.units) for layer in recurrent})
    none = "has no recurrent layer"
    facts: dict[str, tuple[Any, str]] = {  # field: (the network's value, what the message says of it)
        "layers": (len(recurrent), f"has {len(recurrent)} recurrent layer{'' if len(recurrent) == 1 else 's'}"),
        "cell": (
            cells[0] if len(cells) == 1 else None,
            f"has {' and '.join(_CELL_NAMES.get(cell, cell) for cell in cells)} layers" if cells else none,
        ),
        "units": (
            units[0] if len(units) == 1 else None,
            f"has {' and '.join(map(str, units))} units per recurrent layer" if units else none,
        ),
    }
    record = spec["spec"]
    window_length = spec["window_length"]
    reads = f"reads windows of {window_length} token{'' if window_length == 1 else 's'}"
    claims: list[tuple[str, Any, Any, str]] = []  # (field, recorded, the network's, what the message says of it)
    for part in ("model", "hyperparameters"):
        recorded = record.get(part, {})
        claims += [(f"spec.{part}.{name}", recorded[name], *facts[name]) for name in facts if name in recorded]
    window = record.get("hyperparameters", {}).get("window")
    if window is not None and record.get("trainer") != "StreamTrainer":  # a stream's window is its segment length
        if isinstance(window, dict) and "max_length" in window:  # RandomWindows: the longest window
            claims.append(("spec.hyperparameters.window.max_length", window["max_length"], window_length, reads))
        else:
            claims.append(("spec.hyperparameters.window", window, window_length, reads))
    if "window_length" in record:
        claims.append(("spec.window_length", record["window_length"], window_length, reads))
    for name, recorded, actual, said in claims:
        if type(recorded) is not type(actual) or recorded != actual:
            raise ModelFileError(
                f"{source} is inconsistent: {SPEC_MEMBER} '{name}' is {_shown(recorded)}, but its network {said}. "
                f"{_RESAVE}"
            )


def _check_finite(network: keras.Model, source: str) -> None:
    """Every weight of the network is a finite number: a NaN or an infinity makes every prediction NaN."""
    for layer in network.layers:
        for weight in layer.weights:
            values = np.asarray(weight.numpy())
            if not np.isfinite(values).all():
                held = "NaN" if np.isnan(values).any() else "infinity"
                raise ModelFileError(
                    f"{source} has weights that are not finite: layer '{printable(layer.name)}' of its network holds "
                    f"{held}, so it cannot predict. Retrain with a smaller learning rate or with clip_norm "
                    f"(--clip-norm), or save the model again from finite weights."
                )


def _note_newer_version(spec: dict[str, Any], source: str) -> None:
    """A one-line :class:`NewerBundleWarning` when the bundle's ``seqkit_version`` is newer than this seqkit."""
    written = _version_numbers(spec["seqkit_version"])
    if written is not None and written > (_version_numbers(__version__) or ()):
        warnings.warn(
            f"{source} was written by seqkit {printable(spec['seqkit_version'][:40])}, newer than this seqkit "
            f"({__version__}): loading it anyway. Upgrade seqkit if it does not work as expected.",
            NewerBundleWarning,
            stacklevel=3,
        )


def _version_numbers(version: str) -> tuple[int, ...] | None:
    """The release numbers a version starts with (``"0.4.0rc1"`` -> ``(0, 4, 0)``), or None if it starts with none."""
    match = re.match(r"[0-9]{1,9}(?:\.[0-9]{1,9})*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else None


# Helpers ----------------------------------------------------------------------------
def _shown(value: object, limit: int = 60) -> str:
    """``value``'s repr for a one-line message, at most ``limit`` characters (a longer one ends in ``…``)."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


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
    "TRAINER_NAMES",
    "BundleContents",
    "NewerBundleWarning",
    "bundle_bytes",
    "count_parameters",
    "read_bundle",
    "read_bundle_spec",
    "write_bundle",
]
