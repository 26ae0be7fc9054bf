"""A bundle is accepted only if its parts agree (issue 26).

The spec's training record must describe the network it holds (the number, cell and
units of its recurrent layers, the window it reads), name a seqkit trainer and a reset
policy seqkit parses, and hold a vocabulary whose tokens fit the corpus's level; every
weight must be finite. ``load`` and ``seqkit inspect`` refuse anything else with one
line. A bundle written by a newer seqkit loads, with a one-line note.

Each bad bundle is a good one with one member rewritten (and the checksums in
``spec.json`` recomputed), so each test shows one disagreement and its exact message.
"""

from __future__ import annotations

import hashlib
import io
import json
import string
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import seqkit
from seqkit.bundle import TRAINER_NAMES, NewerBundleWarning, bundle_bytes, read_bundle, read_bundle_spec
from seqkit.datasets import Corpus
from seqkit.errors import ModelFileError
from seqkit.sequence_model import SequenceModel, load_bundle, save_bundle
from seqkit.trainers import InBatchTrainer, RandomWindows, StatefulTrainer, StatelessTrainer, StreamTrainer
from seqkit.vocab import Vocabulary

RESAVE = "Save the model again with save_bundle."
TEXT = "the quick brown fox jumps over the lazy dog " * 6


# Fixtures and helpers ----------------------------------------------------------------
@pytest.fixture(scope="module")
def model() -> SequenceModel:
    """A stateless LSTM of 4 units reading windows of 3 characters of the alphabet."""
    return StatelessTrainer(window=3, units=4, epochs=1).fit(seqkit.alphabet())[0]


@pytest.fixture(scope="module")
def good(model: SequenceModel) -> bytes:
    return bundle_bytes(model.bundle_contents())


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def rewritten(
    good: bytes,
    *,
    spec: dict[str, Any] | None = None,
    record: dict[str, Any] | None = None,
    hyperparameters: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    vocabulary: Vocabulary | None = None,
    network: keras.Model | None = None,
) -> bytes:
    """``good`` with fields of its spec, of its training record (``spec.spec``, its ``hyperparameters``
    and ``model``), its vocabulary or its network replaced; the checksums recomputed."""
    members = unzip(good)
    document = json.loads(members["spec.json"])
    document.update(spec or {})
    document["spec"].update(record or {})
    document["spec"]["hyperparameters"].update(hyperparameters or {})
    document["spec"]["model"].update(model or {})
    if vocabulary is not None:
        members["vocabulary.json"] = vocabulary.to_json().encode()
    if network is not None:
        with tempfile.TemporaryDirectory() as folder:
            network.save(Path(folder) / "model.keras")
            members["model.keras"] = (Path(folder) / "model.keras").read_bytes()
    for name in ("vocabulary.json", "model.keras"):
        document["members"][name] = {"sha256": hashlib.sha256(members[name]).hexdigest(), "bytes": len(members[name])}
    members["spec.json"] = json.dumps(document).encode()
    return zipped(members)


def with_weights(network: keras.Model, value: float, *, layers: tuple[str, ...]) -> keras.Model:
    """A copy of ``network`` whose ``layers`` hold ``value`` in every weight."""
    copy = keras.models.clone_model(network)
    copy.set_weights(network.get_weights())
    for name in layers:
        layer = copy.get_layer(name)
        layer.set_weights([np.full(weight.shape, value, dtype="float32") for weight in layer.get_weights()])
    return copy


def refusal(data: bytes, tmp_path: Path) -> str:
    """The message ``load_bundle`` refuses ``data`` with, its path written ``{path}``."""
    path = tmp_path / "model.seqkit"
    path.write_bytes(data)
    with pytest.raises(ModelFileError) as caught:
        load_bundle(path)
    return str(caught.value).replace(str(path), "{path}")


def inconsistent(detail: str) -> str:
    return f"Bundle '{{path}}' is inconsistent: spec.json {detail}. {RESAVE}"


# Finite weights -----------------------------------------------------------------------
def test_an_all_nan_network_is_refused_naming_its_first_layer(model: SequenceModel, good: bytes, tmp_path: Path) -> None:
    nan = with_weights(model.network, float("nan"), layers=("lstm_1", "next_token"))
    assert refusal(rewritten(good, network=nan), tmp_path) == (
        "Bundle '{path}' has weights that are not finite: layer 'lstm_1' of its network holds NaN, so it cannot "
        "predict. Retrain with a smaller learning rate or with clip_norm (--clip-norm), or save the model again from "
        "finite weights."
    )


def test_an_infinite_weight_is_refused_naming_its_layer(model: SequenceModel, good: bytes, tmp_path: Path) -> None:
    infinite = with_weights(model.network, float("inf"), layers=("next_token",))
    assert refusal(rewritten(good, network=infinite), tmp_path) == (
        "Bundle '{path}' has weights that are not finite: layer 'next_token' of its network holds infinity, so it "
        "cannot predict. Retrain with a smaller learning rate or with clip_norm (--clip-norm), or save the model "
        "again from finite weights."
    )


# The training record agrees with the network --------------------------------------------
def test_units_recorded_for_the_model_must_be_the_networks(good: bytes, tmp_path: Path) -> None:
    bad = rewritten(good, model={"units": 9999}, hyperparameters={"units": 9999})
    assert refusal(bad, tmp_path) == inconsistent(
        "'spec.model.units' is 9999, but its network has 4 units per recurrent layer"
    )


def test_units_recorded_as_a_hyperparameter_must_be_the_networks(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, hyperparameters={"units": 9999}), tmp_path) == inconsistent(
        "'spec.hyperparameters.units' is 9999, but its network has 4 units per recurrent layer"
    )


def test_units_recorded_as_a_string_are_not_the_networks(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, model={"units": "4"}), tmp_path) == inconsistent(
        "'spec.model.units' is '4', but its network has 4 units per recurrent layer"
    )


def test_the_number_of_layers_must_be_the_networks(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, model={"layers": 2}), tmp_path) == inconsistent(
        "'spec.model.layers' is 2, but its network has 1 recurrent layer"
    )


def test_the_cell_must_be_the_networks(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, hyperparameters={"cell": "gru"}), tmp_path) == inconsistent(
        "'spec.hyperparameters.cell' is 'gru', but its network has LSTM layers"
    )


def test_the_hyperparameter_window_must_be_the_networks(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, hyperparameters={"window": 5}), tmp_path) == inconsistent(
        "'spec.hyperparameters.window' is 5, but its network reads windows of 3 tokens"
    )


def test_the_recorded_window_length_must_be_the_networks(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, record={"window_length": 1}), tmp_path) == inconsistent(
        "'spec.window_length' is 1, but its network reads windows of 3 tokens"
    )


def test_random_windows_must_be_at_most_as_long_as_the_networks(good: bytes, tmp_path: Path) -> None:
    window = {"random": True, "count": 100, "max_length": 5, "seed": 7}
    assert refusal(rewritten(good, hyperparameters={"window": window}), tmp_path) == inconsistent(
        "'spec.hyperparameters.window.max_length' is 5, but its network reads windows of 3 tokens"
    )


# Known names ------------------------------------------------------------------------------
def test_an_unknown_trainer_is_refused(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, record={"trainer": "EvilTrainer"}), tmp_path) == (
        "Bundle '{path}' is corrupted: spec.json 'spec.trainer' must be one of 'StatelessTrainer', 'InBatchTrainer', "
        f"'StatefulTrainer', 'StreamTrainer'; got 'EvilTrainer'. {RESAVE}"
    )


def test_an_unknown_trainer_is_refused_without_loading_the_network(good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.seqkit"
    path.write_bytes(rewritten(good, record={"trainer": "EvilTrainer"}))
    with pytest.raises(ModelFileError, match="'spec.trainer' must be one of"):
        read_bundle_spec(path)


def test_an_unknown_reset_policy_is_refused(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, hyperparameters={"reset": "sometimes"}), tmp_path) == (
        "Bundle '{path}' is corrupted: spec.json 'spec.hyperparameters.reset' is invalid (Unknown reset policy "
        f"'sometimes': expected 'epoch', 'boundary', 'every:K' (K >= 1) or 'never'.) {RESAVE}"
    )


def test_the_known_trainers_are_the_trainers_seqkit_has() -> None:
    from seqkit.trainers import TRAINERS

    assert set(TRAINER_NAMES) == {trainer.__name__ for trainer in TRAINERS.values()}


# The vocabulary fits the level ----------------------------------------------------------
LETTERS = list(string.ascii_uppercase)


def test_a_character_level_token_of_two_characters_is_refused(good: bytes, tmp_path: Path) -> None:
    vocabulary = Vocabulary([*LETTERS[:-1], "AB"])  # 26 tokens, as the network predicts
    assert refusal(rewritten(good, vocabulary=vocabulary), tmp_path) == (
        "Bundle '{path}' is inconsistent: its character-level vocabulary holds the token 'AB', which is not one "
        "character, so generated text would not split back into its tokens. Train at the level its tokens were "
        "split at, or save the model again with save_bundle."
    )


def test_a_vocabulary_without_a_level_is_character_level(good: bytes, tmp_path: Path) -> None:
    bad = rewritten(good, record={"corpus": {"name": "tokens"}}, vocabulary=Vocabulary([*LETTERS[:-1], "AB"]))
    assert "its character-level vocabulary holds the token 'AB'" in refusal(bad, tmp_path)


def test_a_word_level_token_holding_whitespace_is_refused(good: bytes, tmp_path: Path) -> None:
    bad = rewritten(
        good, record={"corpus": {"name": "tokens", "level": "word"}}, vocabulary=Vocabulary([*LETTERS[:-1], "Y Z"])
    )
    assert refusal(bad, tmp_path) == (
        "Bundle '{path}' is inconsistent: its word-level vocabulary holds the token 'Y Z', which holds whitespace, "
        "so generated text would not split back into its tokens. Train at the level its tokens were split at, or "
        "save the model again with save_bundle."
    )


def test_the_unknown_token_is_not_a_character(good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.seqkit"
    path.write_bytes(rewritten(good, vocabulary=Vocabulary(LETTERS[:-1], unknown_token="<unk>")))
    assert read_bundle(path).vocabulary.unknown_token == "<unk>"


# A newer seqkit -----------------------------------------------------------------------------
def test_a_bundle_of_a_newer_seqkit_loads_with_a_note(good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.seqkit"
    path.write_bytes(rewritten(good, spec={"seqkit_version": "99.0.0"}))
    with pytest.warns(NewerBundleWarning) as caught:
        loaded = load_bundle(path)
    assert loaded.window_length == 3
    assert [str(warning.message) for warning in caught] == [
        f"Bundle '{path}' was written by seqkit 99.0.0, newer than this seqkit ({seqkit.__version__}): loading it "
        "anyway. Upgrade seqkit if it does not work as expected."
    ]


@pytest.mark.parametrize("version", [seqkit.__version__, "0.1.0", "unknown"])
def test_a_bundle_of_this_or_an_older_seqkit_loads_without_a_note(version: str, good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.seqkit"
    path.write_bytes(rewritten(good, spec={"seqkit_version": version}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NewerBundleWarning)
        load_bundle(path)


def test_a_newer_bundle_format_is_still_refused(good: bytes, tmp_path: Path) -> None:
    assert refusal(rewritten(good, spec={"version": 2, "seqkit_version": "99.0.0"}), tmp_path) == (
        "Bundle '{path}' was written by a newer seqkit (format version 2); this seqkit reads version 1: upgrade "
        "seqkit."
    )


# Valid bundles of every kind still load -------------------------------------------------
KINDS = {
    "stateless": lambda: StatelessTrainer(window=2, units=4, epochs=1).fit(seqkit.alphabet()),
    "in-batch": lambda: InBatchTrainer(window=3, units=4, epochs=1).fit(seqkit.alphabet()),
    "stateful": lambda: StatefulTrainer(window=2, units=4, epochs=1, batch_size=2, reset="every:2").fit(seqkit.alphabet()),
    "random-windows": lambda: StatelessTrainer(window=RandomWindows(count=20, max_length=4), units=4, epochs=1).fit(
        seqkit.alphabet()
    ),
    "stream-gru-2-layers": lambda: StreamTrainer(units=4, layers=2, cell="gru", epochs=1, batch_size=2, window=8).fit(
        TEXT
    ),
    "words": lambda: StatelessTrainer(window=2, units=4, epochs=1).fit(Corpus.from_text(TEXT, level="word")),
}


@pytest.mark.parametrize(
    "kind", [pytest.param(kind, marks=() if kind == "stateless" else pytest.mark.slow) for kind in KINDS]
)
def test_a_valid_bundle_of_every_kind_loads(kind: str, tmp_path: Path) -> None:
    trained, _ = KINDS[kind]()
    loaded = load_bundle(save_bundle(trained, tmp_path / f"{kind}.seqkit"))
    assert loaded.spec == trained.spec
    assert np.allclose(loaded.network.get_weights()[0], trained.network.get_weights()[0])


@pytest.mark.slow  # a stream model trained, saved, continued and saved again, ~5 s
def test_a_fine_tuned_stream_model_loads(tmp_path: Path) -> None:
    base, _ = StreamTrainer(units=4, epochs=1, batch_size=2, window=8).fit(TEXT)
    tuned, _ = StreamTrainer(epochs=1, batch_size=2, window=8).fit(TEXT + "!", init_from=base, extend_vocabulary=True)
    loaded = load_bundle(save_bundle(tuned, tmp_path / "tuned.seqkit"))
    assert loaded.spec["hyperparameters"]["units"] == 4 and loaded.vocabulary.tokens[-1] == "!"


# seqkit inspect runs the same checks ------------------------------------------------------
def test_inspect_refuses_an_all_nan_bundle(model: SequenceModel, good: bytes, tmp_path: Path, runner: Any) -> None:
    from seqkit.cli.main import main

    path = tmp_path / "nan.seqkit"
    path.write_bytes(rewritten(good, network=with_weights(model.network, float("nan"), layers=("lstm_1", "next_token"))))
    result = runner.invoke(main, ["inspect", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: Bundle '{path}' has weights that are not finite: layer 'lstm_1' of its network holds NaN, so it "
        "cannot predict. Retrain with a smaller learning rate or with clip_norm (--clip-norm), or save the model again "
        "from finite weights."
    )


def test_inspect_refuses_units_that_are_not_the_networks(good: bytes, tmp_path: Path, runner: Any) -> None:
    from seqkit.cli.main import main

    path = tmp_path / "units.seqkit"
    path.write_bytes(rewritten(good, model={"units": 9999}, hyperparameters={"units": 9999}))
    result = runner.invoke(main, ["inspect", str(path)], catch_exceptions=False)
    assert result.exit_code == 1 and "9999" not in result.stdout
    assert result.stderr.splitlines()[-1] == (
        f"Error: Bundle '{path}' is inconsistent: spec.json 'spec.model.units' is 9999, but its network has 4 units "
        f"per recurrent layer. {RESAVE}"
    )


def test_inspect_notes_a_bundle_of_a_newer_seqkit_once(good: bytes, tmp_path: Path, runner: Any) -> None:
    from seqkit.cli.main import main

    path = tmp_path / "newer.seqkit"
    path.write_bytes(rewritten(good, spec={"seqkit_version": "99.0.0"}))
    result = runner.invoke(main, ["inspect", str(path)], catch_exceptions=False)
    assert result.exit_code == 0
    note = (
        f"Bundle '{path}' was written by seqkit 99.0.0, newer than this seqkit ({seqkit.__version__}): loading it "
        "anyway. Upgrade seqkit if it does not work as expected."
    )
    # one note, however the terminal wraps it (rich folds a long path anywhere, even inside a word)
    assert "".join(result.stderr.split()) == "".join(note.split())
