"""Exports serve without seqkit: strings in, the same predictions out.

The three formats of every model are loaded in one subprocess where ``import
seqkit`` is blocked (``tests/export_worker.py``, TensorFlow only), and must give
exactly what :class:`~seqkit.sequence_model.SequenceModel` gives: the README's
stateful alphabet model generates the same 25 tokens from "A", and a stateless
window model the same probabilities within 1e-6. In-process tests cover every
layout and encoding, stacked stateful layers, unknown tokens, the file handling
and the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqkit
from seqkit.errors import ConfigurationError, ModelFileError
from seqkit.export import FORMATS, export_model, serving_network, state_names
from seqkit.layouts import Features, TimeSteps
from seqkit.models import ModelSpec, build_model
from seqkit.sequence_model import SequenceModel
from seqkit.trainers import StatefulTrainer, StatelessTrainer
from seqkit.vocab import Vocabulary

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")

WORKER = Path(__file__).with_name("export_worker.py")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
NAMES = {"saved_model": "model", "keras": "model.keras", "tflite": "model.tflite"}


# Models and their exports, built once ------------------------------------------------
@pytest.fixture(scope="module")
def alphabet_model() -> SequenceModel:
    """The README's stateful model (LSTM 50, 300 epochs, about 2 s): generates B..Z from A."""
    model, _ = StatefulTrainer(window=1, units=50, epochs=300, batch_size=1, reset="epoch", seed=7).fit(seqkit.alphabet())
    return model


@pytest.fixture(scope="module")
def window_model() -> SequenceModel:
    model, _ = StatelessTrainer(window=3, units=16, epochs=20, seed=7).fit(seqkit.alphabet())
    return model


@pytest.fixture(scope="module")
def exported(tmp_path_factory, alphabet_model, window_model) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("exports")
    paths = {}
    for name, model in (("stateful", alphabet_model), ("stateless", window_model)):
        for format_name in FORMATS:
            paths[name, format_name] = export_model(model, folder / name / NAMES[format_name], format_name)
    return paths


WINDOWS = [list(ALPHABET[start : start + 3]) for start in range(23)]


@pytest.fixture(scope="module")
def served(exported, tmp_path_factory) -> dict:
    """Every export served by ``tests/export_worker.py``, one subprocess with TensorFlow only."""
    jobs = [{"format": f, "path": str(exported["stateful", f]), "prime": "A", "steps": 25} for f in FORMATS]
    jobs += [{"format": f, "path": str(exported["stateless", f]), "windows": WINDOWS} for f in FORMATS]
    job_file = tmp_path_factory.mktemp("jobs") / "jobs.json"
    job_file.write_text(json.dumps(jobs), encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    result = subprocess.run(
        [sys.executable, "-I", str(WORKER), str(job_file)], capture_output=True, text=True, timeout=300, env=env,
        cwd=job_file.parent,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    generation = {f: answers["answers"][number] for number, f in enumerate(FORMATS)}
    probabilities = {f: answers["answers"][len(FORMATS) + number] for number, f in enumerate(FORMATS)}
    return {"generation": generation, "probabilities": probabilities, "isolation": answers}


# Served without seqkit ------------------------------------------------------------------
@pytest.mark.slow
def test_the_server_could_not_import_seqkit(served):
    assert served["isolation"]["seqkit_importable"] is False
    assert served["isolation"]["seqkit_loaded"] is False


@pytest.mark.slow
@pytest.mark.parametrize("format_name", FORMATS)
def test_each_format_generates_exactly_what_sequence_model_generates(served, alphabet_model, format_name):
    alphabet_model.reset()
    expected = alphabet_model.generate("A", steps=25)
    alphabet_model.reset()
    assert expected == list("BCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert served["generation"][format_name]["generated"] == expected


@pytest.mark.slow
@pytest.mark.parametrize("format_name", FORMATS)
def test_each_format_steps_the_state_as_sequence_model_does(served, alphabet_model, format_name):
    alphabet_model.reset()
    expected = alphabet_model.next_distribution(["A"])
    alphabet_model.reset()
    np.testing.assert_allclose(served["generation"][format_name]["first"], expected, rtol=0, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("format_name", FORMATS)
def test_each_format_gives_the_stateless_probabilities_within_1e_6(served, window_model, format_name):
    expected = np.stack([window_model.next_distribution(window) for window in WINDOWS])
    np.testing.assert_allclose(served["probabilities"][format_name]["probabilities"], expected, rtol=0, atol=1e-6)


# The graph: every layout and encoding, stacked layers, unknown tokens -------------------
def _random_model(layout, *, window_length=3, stateful=False, layers=1, vocabulary=None) -> SequenceModel:
    """An untrained network: the export must compute what seqkit computes, trained or not."""
    vocabulary = vocabulary or Vocabulary(list("ABCDE"))
    network = build_model(
        ModelSpec(units=6, layers=layers, embedding_dim=4), layout, window_length=window_length,
        vocabulary_size=vocabulary.size, batch_size=1 if stateful else None, stateful=stateful,
    )
    return SequenceModel(network, vocabulary, layout, window_length=window_length)


@pytest.mark.parametrize("layout", [TimeSteps, Features], ids=["timesteps", "features"])
@pytest.mark.parametrize("encoding", ["scaled", "onehot", "embedding"])
def test_the_graph_encodes_every_layout_as_the_layout_does(layout, encoding):
    model = _random_model(layout(encoding))
    windows = [list("ABC"), list("EDA"), list("CCE")]
    served = serving_network(model)({"tokens": tf.constant(windows)})
    expected = np.stack([model.next_distribution(window) for window in windows])
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, rtol=0, atol=1e-6)
    assert [token.decode() for token in served["token"].numpy()] == [
        model.vocabulary.id_to_token(int(np.argmax(row))) for row in expected
    ]


def test_a_stacked_stateful_model_takes_and_returns_each_layers_state():
    model = _random_model(TimeSteps("onehot"), window_length=1, stateful=True, layers=2)
    assert state_names(model) == ["lstm_1_h", "lstm_1_c", "lstm_2_h", "lstm_2_c"]
    network = serving_network(model)
    state = {name: tf.zeros((1, 6)) for name in state_names(model)}
    model.reset()
    for token in "ABDCE":
        outputs = network({"tokens": tf.constant([[token]]), **state})
        state = {name: outputs[name] for name in state_names(model)}
        np.testing.assert_allclose(outputs["probabilities"].numpy()[0], model.next_distribution([token]), atol=1e-6)


def test_a_batch_keeps_one_state_per_row(alphabet_model):
    network = serving_network(alphabet_model)
    state = {name: tf.zeros((2, 50)) for name in state_names(alphabet_model)}
    rows = []
    for tokens in (["A", "K"], ["B", "L"]):
        outputs = network({"tokens": tf.constant([[token] for token in tokens]), **state})
        state = {name: outputs[name] for name in state_names(alphabet_model)}
        rows.append([token.decode() for token in outputs["token"].numpy()])
    assert rows[1][0] == "C"  # row 0 read A, B: its own state, whatever row 1 read


def test_an_unknown_token_takes_the_unknown_id_when_the_vocabulary_has_one():
    model = _random_model(TimeSteps("scaled"), vocabulary=Vocabulary(list("ABCD"), unknown_token="<unk>"))
    network = serving_network(model)
    outputs = network({"tokens": tf.constant([["A", "?", "B"], ["A", "<unk>", "B"]])})
    probabilities = outputs["probabilities"].numpy()
    np.testing.assert_allclose(probabilities[0], probabilities[1], rtol=0, atol=1e-6)  # rows of one batch
    assert outputs["unknown"].numpy().tolist() == [1, 0]


def test_an_unknown_token_is_refused_by_the_saved_model_and_counted_by_tflite(exported):
    serve = tf.saved_model.load(str(exported["stateless", "saved_model"])).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"not in the vocabulary of this model \(26 tokens, no unknown token\).*\[\[A \? C\]\]"):
        serve(tokens=tf.constant([["A", "?", "C"]]))
    runner = tf.lite.Interpreter(model_path=str(exported["stateless", "tflite"])).get_signature_runner("serving_default")
    assert runner(tokens=np.array([["A", "?", "C"], ["A", "B", "C"]]))["unknown"].tolist() == [1, 0]


def test_an_unknown_token_is_refused_by_the_keras_model(exported):
    model = keras.models.load_model(exported["stateless", "keras"])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r'found OOV values \["\?"\]'):
        model({"tokens": tf.constant([["A", "?", "C"]])})


def test_the_saved_model_lists_its_vocabulary_and_a_zero_state(exported):
    loaded = tf.saved_model.load(str(exported["stateful", "saved_model"]))
    assert [token.decode() for token in loaded.signatures["vocabulary"]()["tokens"].numpy()] == list(ALPHABET)
    state = loaded.signatures["initial_state"](batch_size=tf.constant(3))
    assert {name: tuple(value.shape) for name, value in state.items()} == {"lstm_1_h": (3, 50), "lstm_1_c": (3, 50)}


def test_the_tflite_model_needs_only_builtin_ops_and_lists_its_vocabulary(exported):
    interpreter = tf.lite.Interpreter(model_path=str(exported["stateful", "tflite"]))
    assert set(interpreter.get_signature_list()) == {"serving_default", "vocabulary", "initial_state"}
    tokens = interpreter.get_signature_runner("vocabulary")()["tokens"]
    assert [token.decode() for token in tokens] == list(ALPHABET)


# Files ----------------------------------------------------------------------------------
def test_sequence_model_export_writes_the_format_asked(window_model, tmp_path):
    path = window_model.export(tmp_path / "window.keras", "keras")
    assert path == tmp_path / "window.keras" and path.is_file()


def test_an_unknown_format_is_refused(window_model, tmp_path):
    with pytest.raises(ConfigurationError, match="Unknown export format 'onnx': expected one of 'saved_model', 'keras', 'tflite'."):
        export_model(window_model, tmp_path / "model", "onnx")


def test_a_keras_export_needs_the_keras_suffix(window_model, tmp_path):
    with pytest.raises(ConfigurationError, match=r"ends in \.keras"):
        export_model(window_model, tmp_path / "model.h5", "keras")


def test_an_existing_path_is_refused_without_overwrite(window_model, tmp_path):
    (tmp_path / "model.keras").write_bytes(b"old")
    with pytest.raises(ModelFileError, match="already exists; choose another path, or replace it with overwrite=True"):
        export_model(window_model, tmp_path / "model.keras", "keras")
    assert (tmp_path / "model.keras").read_bytes() == b"old"


def test_overwrite_replaces_an_export_and_leaves_no_temporary_files(window_model, tmp_path):
    first = export_model(window_model, tmp_path / "model", "saved_model")
    (first / "marker").write_text("old")
    export_model(window_model, tmp_path / "model", "saved_model", overwrite=True)
    assert not (first / "marker").exists() and (first / "saved_model.pb").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


def test_overwrite_never_replaces_a_folder_that_is_not_a_saved_model(window_model, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("keep me")
    with pytest.raises(ModelFileError, match="is not a SavedModel folder; refusing to replace it"):
        export_model(window_model, tmp_path / "data", "saved_model", overwrite=True)
    assert (tmp_path / "data" / "notes.txt").read_text() == "keep me"


def test_an_unwritable_path_is_one_line(window_model, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ModelFileError, match="Cannot write the export to") as error:
        export_model(window_model, tmp_path / "file" / "model.tflite", "tflite")
    assert "\n" not in str(error.value)


# The command ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundle(window_model, tmp_path_factory) -> Path:
    return window_model.save(tmp_path_factory.mktemp("bundle") / "window.seqkit")


def test_the_cli_lists_the_library_formats():
    from seqkit.cli.export import FORMAT_NAMES

    assert FORMAT_NAMES == FORMATS


def test_the_cli_exports_and_reports_the_signature(runner, bundle, tmp_path):
    from seqkit.cli.main import main

    out = tmp_path / "window.tflite"
    result = runner.invoke(main, ["export", str(bundle), "--format", "tflite", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["inputs"] == ["tokens"] and document["outputs"] == ["probabilities", "token", "unknown"]
    assert out.is_file()


@pytest.mark.parametrize(
    ("arguments", "status", "message"),
    [
        (["--format", "onnx", "--out", "{tmp}/m"], 2, "Invalid value for '--format'"),
        (["--format", "keras", "--out", "{tmp}/m.h5"], 2, "a Keras export is a file whose name ends in .keras"),
        (["--out", "{tmp}/existing"], 2, "already exists; give --force to replace it."),
        (["--out", "{tmp}/file/m"], 2, "is not a folder"),
    ],
    ids=["unknown format", "keras suffix", "existing path", "unwritable path"],
)
def test_cli_usage_errors_exit_2(runner, bundle, tmp_path, arguments, status, message):
    from seqkit.cli.main import main

    (tmp_path / "existing").mkdir()
    (tmp_path / "file").write_text("")
    result = runner.invoke(main, ["export", str(bundle), *[a.replace("{tmp}", str(tmp_path)) for a in arguments]])
    assert result.exit_code == status
    assert message in result.stderr


def test_cli_force_replaces_an_export(runner, bundle, tmp_path):
    from seqkit.cli.main import main

    out = tmp_path / "model"
    assert runner.invoke(main, ["export", str(bundle), "--out", str(out)]).exit_code == 0
    result = runner.invoke(main, ["export", str(bundle), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.stderr
    assert (out / "saved_model.pb").is_file()


def test_cli_a_bundle_that_fails_to_load_exits_1_with_one_line(runner, tmp_path):
    from seqkit.cli.main import main

    (tmp_path / "broken.seqkit").write_bytes(b"not a zip file")
    result = runner.invoke(main, ["export", str(tmp_path / "broken.seqkit"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "m").exists()
