"""Export: a fitted model as a TensorFlow model that serves without seqkit.

A :class:`~seqkit.sequence_model.SequenceModel` keeps its vocabulary and layout
outside the Keras graph. :func:`export_model` puts them inside: the exported
model takes **token strings** and returns **next-token probabilities**, so any
TensorFlow runtime (TF Serving, a plain ``tf.saved_model.load``, Keras, the
TFLite interpreter) can use it with no seqkit installed.

Inside the graph, in order:

1. a ``StringLookup`` (the vocabulary, in id order) turns each token into its
   id; a token outside the vocabulary becomes the vocabulary's unknown id if it
   has one, and is refused otherwise (see *Unknown tokens* below);
2. the layout's encoding, as :meth:`~seqkit.layouts.Layout.transform_tensor`
   computes it: ``id / V`` (``scaled``), one-hot, or ``id + 1``
   (``embedding``), shaped as time steps or as features;
3. the trained network, its LSTMs (or GRUs) rebuilt without Keras state: a **stateful**
   model takes the state ``h, c`` of every LSTM layer (``h`` of every GRU layer) as inputs
   and returns the new state as outputs (the one-step generator of TensorFlow's "Text
   generation with an RNN" tutorial), so a server keeps one state per user;
4. the most likely next token, as a string (``top_k``, ties to the lower id,
   as :meth:`~seqkit.sequence_model.SequenceModel.generate` takes it).

Inputs: ``tokens``, strings ``(batch, L)`` — a stateless model reads a whole
window of ``L`` tokens (the model's ``window_length``), a stateful one reads
``L`` tokens per step (one, for a model trained with the default ``window=1``);
for a stateful model also ``lstm_1_h``, ``lstm_1_c``, … (``gru_1_h``, … for a GRU) float32
``(batch, units)``, zeros to start. Outputs: ``probabilities`` float32 ``(batch, V)``, ``token``
strings ``(batch,)``, and for a stateful model the new ``lstm_1_h``, ``lstm_1_c``, ….

The formats (:data:`FORMATS`):

- ``"saved_model"``: a SavedModel folder (``tf.saved_model.save`` of a
  ``tf.Module``) with the signatures ``serving_default`` (the above),
  ``vocabulary`` (the tokens in id order) and, for stateful models,
  ``initial_state`` (zeros for a batch size).
- ``"keras"``: a ``.keras`` file holding the same Keras model, string input and
  ``StringLookup`` layer included; it loads with ``keras.models.load_model``
  in safe mode (built-in layers and ops only). The tokens are
  ``model.get_layer("tokens_to_ids").get_vocabulary()``.
- ``"tflite"``: a ``.tflite`` flat buffer with the ``serving_default`` and
  ``vocabulary`` signatures, built-in TFLite ops only (the string lookup is
  TFLite's built-in hash table; the LSTMs are unrolled over the ``L`` steps,
  so no TensorFlow "select" ops are needed): ``tf.lite.Interpreter`` runs it.

Unknown tokens: with an unknown token in the vocabulary, every other string
maps to it. Without one, the SavedModel and Keras models refuse a token
outside the vocabulary (``InvalidArgumentError`` naming it); TFLite cannot
raise, so there the output ``unknown`` counts such tokens per row (their rows'
probabilities are meaningless): check it is ``0``. Every format has this
``unknown`` output.

Limits: windows are whole (a masked model's padding cannot be expressed as a
token); sampling with a temperature is left to the server (it has the
probabilities). A model with a subword vocabulary (:mod:`seqkit.subword`) is
refused: its tokenizer cannot run inside the TensorFlow graph without
TensorFlow Text or KerasHub; serve it with seqkit (``SequenceModel.load`` and
``generate``).

>>> import pathlib, tempfile
>>> from seqkit import alphabet
>>> from seqkit.trainers import StatelessTrainer
>>> model, _ = StatelessTrainer(window=2, units=4, epochs=1).fit(alphabet())
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> export_model(model, folder / "alphabet.keras", "keras").name
'alphabet.keras'
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

import keras
import tensorflow as tf

from seqkit.errors import ConfigurationError, ModelFileError
from seqkit.files import one_line, printable
from seqkit.layouts import Layout
from seqkit.models import STATE_PARTS, cell_of, recurrent_layers
from seqkit.subword import SubwordVocabulary
from seqkit.vocab import Vocabulary

FORMATS: tuple[str, ...] = ("saved_model", "keras", "tflite")
"""The export formats, in the order ``seqkit export --format`` lists them."""

LOOKUP_LAYER = "tokens_to_ids"
"""The name of the ``StringLookup`` layer holding the vocabulary in an exported Keras model."""


class Exportable(Protocol):
    """What :func:`export_model` reads from a model: a SequenceModel or a bundle's contents."""

    network: keras.Model
    vocabulary: Vocabulary
    layout: Layout
    window_length: int


def is_stateful(model: Exportable) -> bool:
    """Whether ``model``'s network carries LSTM state from one call to the next."""
    return bool(recurrent_layers(model.network))


def state_names(model: Exportable) -> list[str]:
    """The names of the state inputs and outputs: ``lstm_1_h``, ``lstm_1_c``, … (none if stateless)."""
    if not is_stateful(model):
        return []
    return [f"{layer.name}_{part}" for layer in _recurrent(model.network) for part in STATE_PARTS[cell_of(layer)]]


def serving_network(model: Exportable, *, unroll: bool = False, refuse_unknown: bool = True) -> keras.Model:
    """A Keras model from token strings (and state) to next-token probabilities (and state).

    The vocabulary, the layout's encoding and the trained weights are inside;
    only built-in Keras layers and ops are used, so it loads without seqkit.
    The inputs and outputs are dicts, named as the module docstring says.

    Args:
        model: a fitted :class:`~seqkit.sequence_model.SequenceModel` (or a bundle's contents).
        unroll: unroll the LSTMs over the ``L`` steps of a window (no loop in the
            graph, which TFLite's built-in ops need). Defaults to False.
        refuse_unknown: for a vocabulary without an unknown token, refuse a token
            outside it (the ``StringLookup`` raises ``InvalidArgumentError``) rather
            than only count it in the ``unknown`` output. Defaults to True.

    Returns:
        An uncompiled functional ``keras.Model``.

    Raises:
        ConfigurationError: the model has a subword vocabulary (see :func:`check_exportable`).
    """
    check_exportable(model)
    vocabulary, layout, length = model.vocabulary, model.layout, model.window_length
    size = vocabulary.size
    stateful = is_stateful(model)
    tokens = keras.Input(shape=(length,), dtype="string", name="tokens")
    ids, unknown = _lookup(tokens, vocabulary, strict=refuse_unknown and vocabulary.unknown_id is None)
    if layout.encoding == "embedding":
        encoded = ids + 1
    elif layout.encoding == "scaled":
        # float32 division rounds id / V exactly as NumPy's float64 division rounded to float32.
        encoded = keras.ops.divide(keras.ops.cast(ids, "float32"), float(size))
    else:
        encoded = keras.ops.one_hot(ids, size, dtype="float32")
    hidden = keras.ops.reshape(encoded, (-1, *layout.input_shape(length, size)))
    inputs: dict[str, Any] = {"tokens": tokens}
    outputs: dict[str, Any] = {}
    for layer in model.network.layers[1:]:
        cell = cell_of(layer)
        if cell is None:
            hidden = layer(hidden)  # shared, stateless: Masking, Embedding, Reshape, Dropout, Dense
            continue
        config = layer.get_config()
        config.update(stateful=False, return_state=stateful, unroll=unroll, use_cudnn=False)
        twin = type(layer).from_config(config)
        if stateful:
            names = [f"{layer.name}_{part}" for part in STATE_PARTS[cell]]
            state = [keras.Input(shape=(layer.units,), name=name) for name in names]
            inputs.update({tensor.name: tensor for tensor in state})
            hidden, *new_state = twin(hidden, initial_state=state)
            outputs.update(dict(zip(names, new_state)))
        else:
            hidden = twin(hidden)
        twin.cell.set_weights(layer.cell.get_weights())
    best = keras.ops.squeeze(keras.ops.top_k(hidden, k=1)[1], axis=-1)
    token = keras.layers.StringLookup(
        vocabulary=list(vocabulary.tokens), num_oov_indices=0, invert=True, name="ids_to_tokens"
    )(best)
    outputs = {"probabilities": hidden, "token": token, "unknown": unknown, **outputs}
    return keras.Model(inputs, outputs, name="seqkit_serving")


def export_model(
    model: Exportable,
    path: str | os.PathLike[str],
    format: str = "saved_model",  # noqa: A002 - the word users know from Keras and the CLI
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` as a self-contained TensorFlow model that takes strings.

    The export is built beside ``path`` and renamed into place once complete:
    an interrupted export leaves nothing at ``path``.

    Args:
        model: a fitted :class:`~seqkit.sequence_model.SequenceModel` (or a bundle's contents).
        path: the SavedModel folder, ``.keras`` file or ``.tflite`` file to create.
        format: ``"saved_model"``, ``"keras"`` or ``"tflite"``. Defaults to ``"saved_model"``.
        overwrite: replace an existing export at ``path`` (a folder only if it
            holds a ``saved_model.pb``). Defaults to False: an existing path is refused.

    Returns:
        The path written.

    Raises:
        ConfigurationError: an unknown format, a ``.keras`` export whose name
            does not end in ``.keras``, or a model with a subword vocabulary.
        ModelFileError: ``path`` exists (without ``overwrite``), or cannot be written.
    """
    check_exportable(model)
    if format not in FORMATS:
        raise ConfigurationError(
            f"Unknown export format {format!r}: expected one of {', '.join(map(repr, FORMATS))}."
        )
    target = Path(path)
    if format == "keras" and target.suffix != ".keras":
        raise ConfigurationError(
            f"A Keras export is a file whose name ends in .keras (Keras refuses other names); "
            f"got '{printable(str(target))}'. Name it e.g. '{printable(target.stem or 'model')}.keras'."
        )
    _check_target(target, format, overwrite=overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        workspace = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as error:
        raise ModelFileError(f"Cannot write the export to '{printable(str(target))}': {one_line(error)}") from None
    try:
        built = {"saved_model": _build_saved_model, "keras": _build_keras, "tflite": _build_tflite}[format](
            model, workspace
        )
        _publish(built, target, workspace, overwrite=overwrite)
    except OSError as error:
        raise ModelFileError(f"Cannot write the export to '{printable(str(target))}': {one_line(error)}") from None
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return target


def check_exportable(model: Exportable) -> None:
    """Refuse a model whose tokens cannot be made inside the TensorFlow graph: a subword vocabulary's.

    Raises:
        ConfigurationError: the model has a :class:`~seqkit.subword.SubwordVocabulary`;
            the message says what can be exported and how to serve this one.
    """
    if isinstance(model.vocabulary, SubwordVocabulary):
        kind = {"bpe": "BPE", "unigram": "Unigram"}[model.vocabulary.level]
        raise ConfigurationError(
            f"Export of a model with a {kind} vocabulary is not supported: its tokenizer cannot run inside the "
            "TensorFlow graph. Export a char or word model, or serve this one with seqkit "
            "(SequenceModel.load + generate)."
        )


# The three formats ----------------------------------------------------------------------
class ServingModule(tf.Module):
    """The SavedModel's root: the serving network and its signatures as ``tf.function`` s.

    Args:
        model: the fitted model to serve.
        refuse_unknown: refuse a token outside a vocabulary that has no unknown
            token, with an ``InvalidArgumentError`` that shows the rows holding them. TFLite
            cannot raise: its export counts them in ``unknown`` instead. Defaults to True.
        unroll: unroll the LSTMs (see :func:`serving_network`). Defaults to False.
    """

    def __init__(self, model: Exportable, *, refuse_unknown: bool = True, unroll: bool = False) -> None:
        super().__init__(name="seqkit_export")
        self.network = serving_network(model, unroll=unroll, refuse_unknown=False)
        # A Keras variable is not a tf.Variable: track the tf.Variables it holds, or a
        # TFLite conversion keeps them as uninitialized resources (as keras.export does).
        self.weights = [weight.value for weight in self.network.weights]
        self.tokens = tf.constant(list(model.vocabulary.tokens))
        self.state_names = state_names(model)
        self.state_units = [
            layer.units for layer in _recurrent(model.network) for _ in STATE_PARTS[cell_of(layer)]
        ] if self.state_names else []
        names = ["tokens", *self.state_names]
        specs = [tf.TensorSpec([None, model.window_length], tf.string, name="tokens")]
        specs += [tf.TensorSpec([None, units], tf.float32, name=name) for name, units in zip(self.state_names, self.state_units)]
        message = (
            f"A token is not in the vocabulary of this model ({model.vocabulary.size} tokens, no unknown "
            "token); the vocabulary signature lists them. The rows holding such tokens:"
        )
        check = refuse_unknown and model.vocabulary.unknown_id is None

        # Each function's name is its signature's name (TFLite takes the names from them).
        def serving_default(*tensors: tf.Tensor) -> dict[str, tf.Tensor]:
            outputs = dict(self.network(dict(zip(names, tensors)), training=False))
            if check:
                known = tf.equal(outputs["unknown"], 0)
                unknown = tf.boolean_mask(tensors[0], ~known)
                with tf.control_dependencies([tf.debugging.Assert(tf.reduce_all(known), [message, unknown])]):
                    outputs = {name: tf.identity(value) for name, value in outputs.items()}
            return outputs

        def vocabulary() -> dict[str, tf.Tensor]:
            return {"tokens": tf.identity(self.tokens)}

        def initial_state(batch_size: tf.Tensor) -> dict[str, tf.Tensor]:
            return {name: tf.zeros([batch_size, units]) for name, units in zip(self.state_names, self.state_units)}

        self.serving_default = tf.function(serving_default, input_signature=specs)
        self.vocabulary = tf.function(vocabulary, input_signature=[])
        self.initial_state = tf.function(initial_state, input_signature=[tf.TensorSpec([], tf.int32, name="batch_size")])

    def signatures(self) -> dict[str, Any]:
        """The concrete functions to save as signatures, by name."""
        functions = [self.serving_default, self.vocabulary] + ([self.initial_state] if self.state_names else [])
        return {function.__name__: function.get_concrete_function() for function in functions}


@contextlib.contextmanager
def _no_info_lines() -> Any:
    """While saving, TensorFlow's logger skips its ``INFO`` lines ("Assets written to: ...").

    Where the logger shows INFO (a notebook, an absl-configured program) each SavedModel
    write prints a line about a temporary folder the user never sees. The level is put back
    as it was on the way out, so nothing is changed for the caller.
    """
    logger = tf.get_logger()
    level = logger.level
    if level > 20 or (level == 0 and logger.getEffectiveLevel() > 20):
        yield
        return
    logger.setLevel(30)
    try:
        yield
    finally:
        logger.setLevel(level)


def _build_saved_model(model: Exportable, workspace: Path) -> Path:
    module = ServingModule(model)
    folder = workspace / "saved_model"
    with _no_info_lines():
        tf.saved_model.save(module, str(folder), signatures=module.signatures())
    return folder


def _build_keras(model: Exportable, workspace: Path) -> Path:
    file = workspace / "model.keras"
    serving_network(model).save(file)
    return file


def _build_tflite(model: Exportable, workspace: Path) -> Path:
    module = ServingModule(model, refuse_unknown=False, unroll=True)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(list(module.signatures().values()), module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        with _no_info_lines():
            flat_buffer = converter.convert()
    except Exception as error:  # the converter raises its own ConverterError, with MLIR dumps
        raise ConfigurationError(
            f"TFLite cannot convert this model with its built-in ops: {one_line(error)}"
        ) from None
    file = workspace / "model.tflite"
    file.write_bytes(flat_buffer)
    return file


# Helpers --------------------------------------------------------------------------------
def _recurrent(network: keras.Model) -> list[keras.layers.RNN]:
    """The LSTM and GRU layers of ``network``, in order."""
    return [layer for layer in network.layers if cell_of(layer) is not None]


def _lookup(tokens: Any, vocabulary: Vocabulary, *, strict: bool) -> tuple[Any, Any]:
    """Token strings → int32 ids, and the count of unknown tokens per row.

    ``strict``: no out-of-vocabulary index, the ``StringLookup`` refuses unknown tokens.
    Otherwise index 0 is the out-of-vocabulary one and an unknown token takes the
    vocabulary's unknown id (or 0, counted in ``unknown``).
    """
    oov = "[seqkit-oov]"
    while oov in vocabulary:
        oov = f"[{oov}]"
    lookup = keras.layers.StringLookup(
        vocabulary=list(vocabulary.tokens), num_oov_indices=0 if strict else 1, oov_token=oov, name=LOOKUP_LAYER
    )
    ids = keras.ops.cast(lookup(tokens), "int32") - (0 if strict else 1)
    unknown = ids < 0
    count = keras.ops.sum(keras.ops.cast(unknown, "int32"), axis=-1)
    fallback = vocabulary.unknown_id if vocabulary.unknown_id is not None else 0
    return keras.ops.where(unknown, fallback, ids), count


def _check_target(target: Path, format: str, *, overwrite: bool) -> None:  # noqa: A002
    if not (target.exists() or target.is_symlink()):
        return
    shown = printable(str(target))
    if not overwrite:
        raise ModelFileError(f"'{shown}' already exists; choose another path, or replace it with overwrite=True (--force).")
    if format == "saved_model":
        if not (target.is_dir() and (target / "saved_model.pb").is_file()):
            raise ModelFileError(f"'{shown}' exists and is not a SavedModel folder; refusing to replace it.")
    elif not target.is_file():
        raise ModelFileError(f"'{shown}' exists and is not a file; refusing to replace it.")


def _publish(built: Path, target: Path, workspace: Path, *, overwrite: bool) -> None:
    """Rename the finished export into place; an old folder is moved aside first (deleted with the workspace)."""
    if built.is_dir() and overwrite and target.exists():
        os.rename(target, workspace / "replaced")
    os.replace(built, target)
    with contextlib.suppress(OSError):  # make the rename durable, where the platform allows
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
