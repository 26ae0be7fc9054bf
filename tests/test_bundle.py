"""Bundles: save and load a fitted SequenceModel, never losing or half-loading anything."""

from __future__ import annotations

import ast
import errno
import hashlib
import io
import json
import os
import random
import signal
import stat
import string
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import seqkit
import seqkit.bundle
from seqkit.bundle import FORMAT_NAME, MEMBERS, BundleContents, bundle_bytes, read_bundle, read_bundle_spec, write_bundle
from seqkit.errors import ModelFileError
from seqkit.layouts import TimeSteps
from seqkit.models import ModelSpec, build_model
from seqkit.sequence_model import SequenceModel, load_bundle, save_bundle
from seqkit.trainers import StatefulTrainer, StatelessTrainer
from seqkit.trainers.base import RandomWindows
from seqkit.vocab import Vocabulary

ALPHABET = string.ascii_uppercase


# Fixtures and helpers ----------------------------------------------------------------
@pytest.fixture(scope="module")
def stateless() -> SequenceModel:
    model, _ = StatelessTrainer(window=3, units=8, epochs=2).fit(seqkit.alphabet())
    return model


@pytest.fixture(scope="module")
def stateful() -> SequenceModel:
    """Trained until it recites the alphabet from 'A' (batch 5, predicting through its batch-1 twin)."""
    model, _ = StatefulTrainer(units=32, epochs=200).fit(seqkit.alphabet())
    model.reset()
    assert "".join(model.generate("A", 25)) == ALPHABET[1:]
    model.reset()
    return model


@pytest.fixture(scope="module")
def good(stateless: SequenceModel) -> bytes:
    """The bytes of a valid bundle (the stateless model)."""
    return bundle_bytes(stateless.bundle_contents())


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def make_zip(members: dict[str, bytes] | list[tuple[str, bytes]], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # "Duplicate name": wanted by the duplicate-member case
        for name, data in members.items() if isinstance(members, dict) else members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            kind = stat.S_IFLNK if name == symlink else stat.S_IFREG
            info.external_attr = (kind | 0o644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def rebuilt(
    data: bytes, *, replace: dict[str, bytes] | None = None, spec: dict[str, object] | None = None, rehash: bool = True
) -> bytes:
    """``data`` with members replaced and spec fields changed; checksums recomputed unless ``rehash=False``."""
    members = unzip(data)
    members.update(replace or {})
    document = json.loads(members["spec.json"])
    document.update(spec or {})
    if rehash:
        for name in ("vocabulary.json", "model.keras"):
            document["members"][name] = {
                "sha256": hashlib.sha256(members[name]).hexdigest(),
                "bytes": len(members[name]),
            }
    members["spec.json"] = json.dumps(document).encode()
    return make_zip(members)


def network_bytes(network: keras.Model) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        network.save(Path(folder) / "model.keras")
        return (Path(folder) / "model.keras").read_bytes()


def lambda_network() -> keras.Model:
    inputs = keras.Input(shape=(3, 1))
    flat = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Lambda(lambda x: keras.ops.softmax(keras.ops.tile(x, (1, 9))[:, :26]))(flat)
    return keras.Model(inputs, outputs)


def stateful_network(batch_size: int) -> keras.Model:
    return build_model(
        ModelSpec(units=4),
        TimeSteps("scaled"),
        window_length=1,
        vocabulary_size=26,
        batch_size=batch_size,
        stateful=True,
    )


def with_network_config(data: bytes, change: Callable[[dict[str, Any]], object]) -> bytes:
    """``data`` with the Keras config of its network changed in place by ``change`` (checksums recomputed)."""
    inner = unzip(unzip(data)["model.keras"])
    config = json.loads(inner["config.json"])
    change(config)
    inner["config.json"] = json.dumps(config).encode()
    return rebuilt(data, replace={"model.keras": make_zip(inner)})


def layer_config(config: dict[str, Any], class_name: str) -> dict[str, Any]:
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == class_name)["config"]


def conv_network() -> keras.Model:
    inputs = keras.Input(shape=(3, 1))
    hidden = keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(4, 2)(inputs))
    return keras.Model(inputs, keras.layers.Dense(26, activation="softmax")(hidden))


def declaring(archive: bytes, name: str, size: int) -> bytes:
    """``archive`` whose central directory says entry ``name`` is ``size`` bytes uncompressed (a lying header)."""
    data = bytearray(archive)
    offset = data.find(b"PK\x01\x02")
    while offset >= 0:
        length = int.from_bytes(data[offset + 28 : offset + 30], "little")
        if data[offset + 46 : offset + 46 + length] == name.encode():
            data[offset + 24 : offset + 28] = size.to_bytes(4, "little")  # the uncompressed size
            return bytes(data)
        offset = data.find(b"PK\x01\x02", offset + 4)
    raise KeyError(name)


# Round trips -------------------------------------------------------------------------
def test_stateless_round_trip_predicts_bit_for_bit(stateless: SequenceModel, tmp_path: Path) -> None:
    loaded = load_bundle(save_bundle(stateless, tmp_path / "model.seqkit"))
    assert np.array_equal(loaded.next_distribution("XYZ"), stateless.next_distribution("XYZ"))
    assert loaded.predict_next("ABC", top_k=26) == stateless.predict_next("ABC", top_k=26)
    assert loaded.generate("ABC", 10) == stateless.generate("ABC", 10)
    assert loaded.generate("ABC", 10, temperature=0.8, seed=3) == stateless.generate("ABC", 10, temperature=0.8, seed=3)


def test_round_trip_keeps_vocabulary_layout_spec_and_history(stateless: SequenceModel, tmp_path: Path) -> None:
    loaded = load_bundle(save_bundle(stateless, tmp_path / "model.seqkit"))
    assert loaded.vocabulary.tokens == stateless.vocabulary.tokens
    assert loaded.layout == stateless.layout
    assert loaded.window_length == 3
    assert loaded.spec == stateless.spec
    assert loaded.history == stateless.history
    assert not loaded.stateful


def test_stateful_round_trip_generates_the_alphabet(stateful: SequenceModel, tmp_path: Path) -> None:
    loaded = load_bundle(save_bundle(stateful, tmp_path / "model.seqkit"))
    assert loaded.stateful and loaded.network.inputs[0].shape[0] == 1
    assert "".join(loaded.generate("A", 25)) == ALPHABET[1:]
    stateful.reset()
    loaded.reset()
    assert np.array_equal(loaded.next_distribution("ABC"), stateful.next_distribution("ABC"))
    assert loaded.predict_next("D", top_k=26) == stateful.predict_next("D", top_k=26)
    stateful.reset()


def test_loaded_stateful_model_starts_from_a_zero_state(stateful: SequenceModel, tmp_path: Path) -> None:
    stateful.reset()
    stateful.prime("ABCDEFG")  # state is not part of the bundle
    loaded = load_bundle(save_bundle(stateful, tmp_path / "model.seqkit"))
    stateful.reset()
    assert loaded.predict_next("A") == stateful.predict_next("A")
    stateful.reset()


def test_embedding_with_masked_padding_round_trips(tmp_path: Path) -> None:
    trainer = StatelessTrainer(encoding="embedding", window=RandomWindows(count=20, max_length=3), units=4, epochs=1)
    model, _ = trainer.fit(seqkit.alphabet())
    loaded = load_bundle(save_bundle(model, tmp_path / "model.seqkit"))
    assert loaded.layout == TimeSteps("embedding") and loaded.masked and model.masked
    assert np.array_equal(loaded.next_distribution("Q"), model.next_distribution("Q"))  # front-padded
    assert np.array_equal(loaded.next_distribution("PQR"), model.next_distribution("PQR"))


# The format --------------------------------------------------------------------------
def test_bundle_is_one_zip_with_three_members_and_a_versioned_spec(stateless: SequenceModel, tmp_path: Path) -> None:
    path = save_bundle(stateless, tmp_path / "model.seqkit")
    members = unzip(path.read_bytes())
    assert list(members) == list(MEMBERS) == ["spec.json", "vocabulary.json", "model.keras"]
    spec = json.loads(members["spec.json"])
    assert {key: spec[key] for key in ("format", "version", "seqkit_version", "stateful", "window_length")} == {
        "format": FORMAT_NAME,
        "version": 1,
        "seqkit_version": seqkit.__version__,
        "stateful": False,
        "window_length": 3,
    }
    assert spec["vocabulary_size"] == 26 and spec["input_shape"] == [3, 1]
    assert spec["layout"] == {"layout": "timesteps", "encoding": "scaled"}
    assert spec["spec"] == stateless.spec and spec["history"] == stateless.history
    for name in ("vocabulary.json", "model.keras"):
        digest = hashlib.sha256(members[name]).hexdigest()
        assert spec["members"][name] == {"sha256": digest, "bytes": len(members[name])}
    assert Vocabulary.from_json(members["vocabulary.json"].decode()).tokens == tuple(ALPHABET)


def test_read_bundle_spec_validates_without_keras(stateless: SequenceModel, tmp_path: Path) -> None:
    path = save_bundle(stateless, tmp_path / "model.seqkit")
    assert read_bundle_spec(path)["spec"]["trainer"] == "StatelessTrainer"


def test_save_creates_missing_folders_and_returns_the_path(stateless: SequenceModel, tmp_path: Path) -> None:
    path = save_bundle(stateless, str(tmp_path / "deep" / "er" / "model.seqkit"))
    assert path == tmp_path / "deep" / "er" / "model.seqkit" and path.is_file()


def test_save_refuses_a_directory(stateless: SequenceModel, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as caught:
        save_bundle(stateless, tmp_path)
    assert str(caught.value) == (
        f"Cannot save the bundle to '{tmp_path}': it is a directory. Give a file path such as "
        f"'{tmp_path / 'model.seqkit'}'."
    )


def test_save_refuses_what_is_not_a_sequence_model(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"^save_bundle saves a fitted SequenceModel; got str\.$"):
        save_bundle("model", tmp_path / "model.seqkit")  # type: ignore[arg-type]


def test_read_bundle_gives_the_parts_of_the_model(stateless: SequenceModel, tmp_path: Path) -> None:
    contents = read_bundle(write_bundle(stateless.bundle_contents(), tmp_path / "model.seqkit"))
    assert isinstance(contents, BundleContents)
    assert (contents.vocabulary, contents.layout, contents.window_length) == (stateless.vocabulary, stateless.layout, 3)
    assert (contents.spec, contents.history, contents.stateful) == (stateless.spec, stateless.history, False)


def test_write_bundle_refuses_what_is_not_bundle_contents(stateless: SequenceModel, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"^write_bundle writes a BundleContents; got SequenceModel\.$"):
        write_bundle(stateless, tmp_path / "model.seqkit")  # type: ignore[arg-type]


def test_the_bundle_format_does_not_import_the_model_class() -> None:
    tree = ast.parse(Path(seqkit.bundle.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "seqkit.sequence_model" not in imported and "seqkit" not in imported


# Atomic saves ------------------------------------------------------------------------
def test_crash_mid_save_keeps_the_old_bundle_and_leaves_no_temp_file(
    stateless: SequenceModel, stateful: SequenceModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_bundle(stateless, tmp_path / "model.seqkit")

    def failing_fsync(fd: int) -> None:  # the new archive is written, not yet renamed into place
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr("seqkit.files.os.fsync", failing_fsync)
    with pytest.raises(ModelFileError) as caught:
        save_bundle(stateful, path)
    assert str(caught.value) == (
        f"Cannot save the bundle to '{path}': Input/output error. Check that the folder exists and is writable."
    )
    monkeypatch.undo()
    assert not load_bundle(path).stateful
    assert sorted(os.listdir(tmp_path)) == ["model.seqkit"]


def test_interrupt_before_rename_keeps_the_old_bundle(
    stateless: SequenceModel, stateful: SequenceModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_bundle(stateless, tmp_path / "model.seqkit")

    def interrupted(source: str, target: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("seqkit.files.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_bundle(stateful, path)
    monkeypatch.undo()
    assert not load_bundle(path).stateful
    assert sorted(os.listdir(tmp_path)) == ["model.seqkit"]


def test_failure_while_serializing_the_network_writes_nothing(
    stateless: SequenceModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(self: keras.Model, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_bundle(stateless, tmp_path / "model.seqkit")
    assert os.listdir(tmp_path) == []


_CHILD = """
import pathlib, sys
from seqkit.sequence_model import load_bundle, save_bundle
target, ready = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
models = [load_bundle(path) for path in sys.argv[3:]]
saves = 0
while True:
    save_bundle(models[saves % 2], target)
    saves += 1
    if saves == 2:
        ready.touch()
"""


@pytest.mark.slow
def test_sigkill_while_saving_never_breaks_the_bundle(
    stateless: SequenceModel, stateful: SequenceModel, tmp_path: Path
) -> None:
    first = save_bundle(stateless, tmp_path / "first.seqkit")
    second = save_bundle(stateful, tmp_path / "second.seqkit")
    target = tmp_path / "out" / "model.seqkit"
    target.parent.mkdir()
    target.write_bytes(first.read_bytes())
    ready = tmp_path / "ready"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(target), str(ready), str(first), str(second)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else "child died"
            assert time.monotonic() < deadline, "the child never finished two saves"
            time.sleep(0.05)
        time.sleep(random.Random(7).uniform(0.2, 0.5))  # many saves in flight, killed mid-way through one
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    loaded = load_bundle(target)
    assert loaded.spec["trainer"] in {"StatelessTrainer", "StatefulTrainer"}
    leftovers = [name for name in os.listdir(target.parent) if name != "model.seqkit"]
    assert all(name.startswith(".model.seqkit.") and name.endswith(".tmp") for name in leftovers)


# Refusals ----------------------------------------------------------------------------
def test_missing_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nothing.seqkit"
    with pytest.raises(ModelFileError) as caught:
        load_bundle(path)
    assert str(caught.value) == (
        f"Bundle '{path}' does not exist. Check the path, or save a model there with save_bundle(model, path)."
    )


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as caught:
        load_bundle(tmp_path)
    assert str(caught.value) == f"Bundle '{tmp_path}' is a directory; expected a .seqkit file written by save_bundle."


def test_device_file_is_refused() -> None:
    with pytest.raises(ModelFileError) as caught:
        load_bundle("/dev/null")
    assert str(caught.value) == "Bundle '/dev/null' is not a regular file; expected a .seqkit file written by save_bundle."


def test_unreadable_file_is_refused(good: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.seqkit"
    path.write_bytes(good)

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(ModelFileError) as caught:
        load_bundle(path)
    assert str(caught.value) == f"Bundle '{path}' cannot be read: Permission denied. Check its permissions."


RESAVE = "Save the model again with save_bundle."
FOREIGN = "Use only bundles written by save_bundle."


def _spec_of(data: bytes) -> dict[str, object]:
    return json.loads(unzip(data)["spec.json"])


def spec_record(good: bytes, **fields: object) -> dict[str, object]:
    """The bundle's spec with fields of its training record (``spec.spec``) changed."""
    return {"spec": {**_spec_of(good)["spec"], **fields}}  # type: ignore[dict-item]


REFUSALS: list[tuple[str, Callable[[bytes], bytes], str]] = [
    (
        "truncated",
        lambda good: good[: len(good) // 2],
        "is truncated or corrupted: its zip directory is missing or damaged (File is not a zip file). " + RESAVE,
    ),
    (
        "random-bytes",
        lambda good: random.Random(0).randbytes(4096),
        "is not a seqkit bundle: it is not a zip archive. Give a file written by save_bundle.",
    ),
    ("empty", lambda good: b"", "is empty (0 bytes); it is not a seqkit bundle. " + RESAVE),
    (
        "text-file",
        lambda good: b"A B C D E\nF G H\n",
        "is not a seqkit bundle: it is not a zip archive. Give a file written by save_bundle.",
    ),
    (
        "no-spec",
        lambda good: make_zip({k: v for k, v in unzip(good).items() if k != "spec.json"}),
        "is not a complete seqkit bundle: spec.json missing. Give a file written by save_bundle.",
    ),
    (
        "keras-file",
        lambda good: unzip(good)["model.keras"],
        "is a Keras model file, not a seqkit bundle: it has no vocabulary or spec. "
        "Save a fitted SequenceModel with save_bundle.",
    ),
    (
        "other-format",
        lambda good: rebuilt(good, spec={"format": "seqkit.vocabulary"}),
        "is not a seqkit bundle: its spec.json 'format' is 'seqkit.vocabulary', expected 'seqkit.bundle'. "
        "Give a file written by save_bundle.",
    ),
    (
        "spec-not-json",
        lambda good: make_zip({**unzip(good), "spec.json": b"{format: 1"}),
        "is corrupted: spec.json is not valid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)). " + RESAVE,
    ),
    (
        "spec-a-list",
        lambda good: make_zip({**unzip(good), "spec.json": b"[1, 2]"}),
        "is not a seqkit bundle: spec.json holds a JSON list, expected an object.",
    ),
    (
        "future-version",
        lambda good: rebuilt(good, spec={"version": 2}),
        "was written by a newer seqkit (format version 2); this seqkit reads version 1: upgrade seqkit.",
    ),
    (
        "version-a-bool",
        lambda good: rebuilt(good, spec={"version": True}),
        "is corrupted: spec.json 'version' must be an int >= 1; got True. " + RESAVE,
    ),
    (
        "window-length-a-string",
        lambda good: rebuilt(good, spec={"window_length": "3"}),
        "is corrupted: spec.json 'window_length' must be an int >= 1; got '3'. " + RESAVE,
    ),
    (
        "stateful-a-string",
        lambda good: rebuilt(good, spec={"stateful": "no"}),
        "is corrupted: spec.json 'stateful' must be true or false; got 'no'. " + RESAVE,
    ),
    (
        "history-of-strings",
        lambda good: rebuilt(good, spec={"history": {"loss": ["low"]}}),
        "is corrupted: spec.json 'history' must be an object of lists of numbers; got {'loss': ['low']}. " + RESAVE,
    ),
    (
        "layout-unknown",
        lambda good: rebuilt(good, spec={"layout": {"layout": "spiral", "encoding": "scaled"}}),
        "is corrupted: spec.json 'layout' is invalid (Unknown layout 'spiral': expected 'timesteps' or "
        "'features'.) " + RESAVE,
    ),
    (
        "checksum-mismatch",
        lambda good: rebuilt(good, replace={"vocabulary.json": Vocabulary(["Z"]).to_json().encode()}, rehash=False),
        "is corrupted: member vocabulary.json does not match the SHA-256 checksum in spec.json. " + RESAVE,
    ),
    (
        "dotdot-member",
        lambda good: make_zip({**unzip(good), "../evil.sh": b"rm -rf ~"}),
        "has an unsafe member '../evil.sh' (an absolute path or '..'); refusing to read it. " + FOREIGN,
    ),
    (
        "absolute-member",
        lambda good: make_zip({**unzip(good), "/etc/cron.d/evil": b"* * * * * evil"}),
        "has an unsafe member '/etc/cron.d/evil' (an absolute path or '..'); refusing to read it. " + FOREIGN,
    ),
    (
        "symlink-member",
        lambda good: make_zip({**unzip(good), "vocabulary.json": b"/etc/passwd"}, symlink="vocabulary.json"),
        "has a member 'vocabulary.json' that is a symbolic link; refusing to read it. " + FOREIGN,
    ),
    (
        "duplicate-member",
        lambda good: make_zip([*unzip(good).items(), ("spec.json", b"{}")]),
        "holds member 'spec.json' more than once; refusing an ambiguous archive. " + RESAVE,
    ),
    (
        "extra-member",
        lambda good: make_zip({**unzip(good), "notes.txt": b"hello"}),
        "has unexpected member(s) 'notes.txt'; a seqkit bundle holds exactly spec.json, vocabulary.json, "
        "model.keras. " + FOREIGN,
    ),
    (
        "zip-bomb",
        lambda good: make_zip({**unzip(good), "spec.json": b" " * (16 * 1024 * 1024 + 1)}),
        "member spec.json declares 16777217 bytes uncompressed, more than the 16777216 allowed; refusing it "
        "(a corrupted file or a zip bomb). " + RESAVE,
    ),
    (
        "spec-vocabulary-size-mismatch",
        lambda good: rebuilt(good, spec={"vocabulary_size": 27}),
        "is inconsistent: spec.json says the vocabulary has 27 tokens, vocabulary.json has 26. " + RESAVE,
    ),
    (
        "spec-input-shape-mismatch",
        lambda good: rebuilt(good, spec={"input_shape": [1, 3]}),
        "is inconsistent: spec.json 'input_shape' is [1, 3], but layout TimeSteps('scaled') with window_length 3 "
        "and 26 tokens implies [3, 1]. " + RESAVE,
    ),
    (
        "vocabulary-size-mismatching-the-model",
        lambda good: rebuilt(
            good,
            replace={"vocabulary.json": Vocabulary([*ALPHABET, "?"]).to_json().encode()},
            spec={"vocabulary_size": 27},
        ),
        "is inconsistent: its network outputs shape (None, 26), but its vocabulary has 27 tokens "
        "(expected (batch, 27)). " + RESAVE,
    ),
    (
        "window-length-mismatching-the-model",
        lambda good: rebuilt(good, spec={"window_length": 2, "input_shape": [2, 1]}),
        "is inconsistent: its network reads samples of shape (3, 1), but layout TimeSteps('scaled') implies "
        "(2, 1). " + RESAVE,
    ),
    (
        "stateful-flag-mismatch",
        lambda good: rebuilt(good, spec={"stateful": True}),
        "is inconsistent: its network is stateless, but spec.json says stateful=true. " + RESAVE,
    ),
    (
        "stateful-batch-not-one",
        lambda good: rebuilt(
            good,
            replace={"model.keras": network_bytes(stateful_network(4))},
            spec={"stateful": True, "window_length": 1, "input_shape": [1, 1]},
        ),
        "is inconsistent: its stateful network has batch size 4; seqkit predicts with a batch-1 network. " + RESAVE,
    ),
    (
        "model-not-a-keras-archive",
        lambda good: rebuilt(good, replace={"model.keras": b"\x80\x04K\x01."}),
        "is corrupted: its model.keras is not a Keras archive (File is not a zip file). " + RESAVE,
    ),
    (
        "hyperparameters-not-an-object",
        lambda good: rebuilt(good, spec=spec_record(good, hyperparameters="oops")),
        "is corrupted: spec.json 'spec.hyperparameters' must be an object; got 'oops'. " + RESAVE,
    ),
    (
        "corpus-not-an-object",
        lambda good: rebuilt(good, spec=spec_record(good, corpus=["A", "B"])),
        "is corrupted: spec.json 'spec.corpus' must be an object; got ['A', 'B']. " + RESAVE,
    ),
    (
        "dense-of-250-million-units",
        lambda good: with_network_config(good, lambda config: layer_config(config, "Dense").update(units=250_000_000)),
        "holds a network of 2,250,000,320 parameters by its config, more than the 50,000,000 seqkit loads; refusing "
        "to build it (a corrupted or hostile file). " + RESAVE,
    ),
    (
        "lstm-of-huge-inputs",
        lambda good: with_network_config(
            good, lambda config: layer_config(config, "InputLayer").update(batch_shape=[None, 3, 10**9])
        ),
        "holds a network of 32,000,000,522 parameters by its config, more than the 50,000,000 seqkit loads; refusing "
        "to build it (a corrupted or hostile file). " + RESAVE,
    ),
    (
        "stateful-state-of-a-huge-batch",
        lambda good: with_network_config(
            good, lambda config: (layer_config(config, "InputLayer").update(batch_shape=[10**8, 3, 1]),
                                  layer_config(config, "LSTM").update(stateful=True))
        ),
        "holds a network of 1,600,000,554 parameters by its config, more than the 50,000,000 seqkit loads; refusing "
        "to build it (a corrupted or hostile file). " + RESAVE,
    ),
    (
        "dense-declaring-a-huge-input",  # Keras builds the first layer of a Sequential model from it
        lambda good: with_network_config(good, lambda config: layer_config(config, "Dense").update(input_dim=10**9)),
        "holds a network of 26,000,000,346 parameters by its config, more than the 50,000,000 seqkit loads; refusing "
        "to build it (a corrupted or hostile file). " + RESAVE,
    ),
    (
        "units-not-an-int",
        lambda good: with_network_config(good, lambda config: layer_config(config, "LSTM").update(units=8.5)),
        "is corrupted: its network config cannot be sized ('units' must be an int >= 1, got '8.5'). " + RESAVE,
    ),
    (
        "layer-that-cannot-be-sized",
        lambda good: rebuilt(good, replace={"model.keras": network_bytes(conv_network())}),
        "is corrupted: its network config cannot be sized (layer class 'Conv1D' is not one seqkit can size before "
        "building it). " + RESAVE,
    ),
    (
        "keras-entry-declaring-2-gb",
        lambda good: rebuilt(
            good, replace={"model.keras": declaring(unzip(good)["model.keras"], "model.weights.h5", 1_900_000_000)}
        ),
        "has a model.keras whose entry model.weights.h5 declares 1900000000 bytes uncompressed, more than the "
        "416777216 allowed; refusing it (a corrupted file or a zip bomb). " + RESAVE,
    ),
    (
        "invalid-vocabulary",
        lambda good: rebuilt(good, replace={"vocabulary.json": b'{"format": "seqkit.vocabulary", "version": 1}'}),
        "member vocabulary.json is corrupted: 'tokens' must be a list of strings.",
    ),
]


@pytest.mark.parametrize(("make", "message"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_refusals(make: Callable[[bytes], bytes], message: str, good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.seqkit"
    path.write_bytes(make(good))
    with pytest.raises(ModelFileError) as caught:
        load_bundle(path)
    assert str(caught.value) == f"Bundle '{path}' {message}"


def test_a_corrupted_member_fails_its_crc_check(good: bytes, tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        info = archive.getinfo("vocabulary.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    damaged = bytearray(good)
    damaged[start] ^= 0xFF
    path = tmp_path / "model.seqkit"
    path.write_bytes(bytes(damaged))
    with pytest.raises(ModelFileError) as caught:
        load_bundle(path)
    assert str(caught.value).startswith(f"Bundle '{path}' is corrupted: member vocabulary.json cannot be read (")
    assert str(caught.value).endswith(f"). {RESAVE}")


def test_keras_safe_mode_refuses_lambda_layers(good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.seqkit"
    path.write_bytes(rebuilt(good, replace={"model.keras": network_bytes(lambda_network())}))
    with pytest.raises(ModelFileError) as caught:
        load_bundle(path)
    message = str(caught.value)
    assert message.startswith(f"Bundle '{path}': Keras cannot load its model.keras in safe mode (ValueError: ")
    assert "Lambda" in message and message.endswith(f"). {RESAVE}") and "\n" not in message



# Memory bombs: refused from their config and headers, without allocating (issue 14) ------
_LOAD_MEASURED = """
import resource, sys, time
import keras, tensorflow
from seqkit.errors import ModelFileError
from seqkit.sequence_model import load_bundle
before, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.monotonic()
try:
    load_bundle(sys.argv[1])
    print("loaded")
except ModelFileError as error:
    print(error)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)  # MiB: ru_maxrss is in KiB
print(round(time.monotonic() - started, 1))
"""


def load_measured(path: Path) -> tuple[str, int, float]:
    """Load ``path`` in a fresh process: its one line of output, its peak memory growth (MiB) and seconds."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", _LOAD_MEASURED, str(path)], env=env, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    message, growth, seconds = done.stdout.decode().splitlines()[-3:]
    return message, int(growth), float(seconds)


@pytest.mark.slow
def test_a_tiny_bundle_declaring_a_huge_dense_layer_is_refused_without_allocating(good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bomb.seqkit"
    path.write_bytes(
        with_network_config(good, lambda config: layer_config(config, "Dense").update(units=250_000_000))
    )
    assert path.stat().st_size < 64 * 1024
    message, growth, seconds = load_measured(path)
    assert message.startswith(f"Bundle '{path}' holds a network of 2,250,000,320 parameters by its config")
    assert growth < 300 and seconds < 30, (growth, seconds)


@pytest.mark.slow
def test_a_tiny_bundle_with_a_1_9_gb_keras_entry_is_refused_without_allocating(good: bytes, tmp_path: Path) -> None:
    """The issue's 5.5 KB bundle: a 1.9 GB weights entry of zeros, deflated twice (inner zip, then the bundle)."""
    inner = unzip(unzip(good)["model.keras"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in inner.items():
            if name != "model.weights.h5":
                archive.writestr(name, data)
        with archive.open("model.weights.h5", "w", force_zip64=True) as handle:
            zeros = bytes(1 << 20)
            for _ in range(1_900_000_000 >> 20):
                handle.write(zeros)
    path = tmp_path / "bomb.seqkit"
    path.write_bytes(rebuilt(good, replace={"model.keras": buffer.getvalue()}))
    assert path.stat().st_size < 64 * 1024
    message, growth, seconds = load_measured(path)
    assert message == (
        f"Bundle '{path}' has a model.keras whose entry model.weights.h5 declares {(1_900_000_000 >> 20) << 20} bytes "
        f"uncompressed, more than the 416777216 allowed; refusing it (a corrupted file or a zip bomb). {RESAVE}"
    )
    assert growth < 300 and seconds < 30, (growth, seconds)


@pytest.mark.slow
def test_parameters_are_counted_exactly_for_seqkit_networks(stateless: SequenceModel, stateful: SequenceModel) -> None:
    embedding, _ = StatelessTrainer(window=3, units=4, epochs=1, encoding="embedding", layout="features").fit(
        seqkit.alphabet()
    )
    masked, _ = StatelessTrainer(encoding="embedding", window=RandomWindows(count=20, max_length=3), units=4, epochs=1).fit(
        seqkit.alphabet()
    )  # Keras records a NotEqual op for the mask
    for model in (stateless, stateful, embedding, masked):
        config = json.loads(unzip(unzip(bundle_bytes(model.bundle_contents()))["model.keras"])["config.json"])
        states = sum(int(np.prod(state.shape)) for layer in model.network.layers for state in getattr(layer, "states", None) or [])
        assert seqkit.bundle.count_parameters(config) == model.network.count_params() + states


def test_sequence_model_save_and_load_wrap_the_bundle_functions(tmp_path):
    import seqkit
    from seqkit.sequence_model import SequenceModel, load_bundle, save_bundle
    from seqkit.trainers import StatelessTrainer

    model, _ = StatelessTrainer(window=3, units=4, epochs=1).fit(seqkit.alphabet())
    path = model.save(tmp_path / "m.seqkit")
    loaded = SequenceModel.load(path)
    np.testing.assert_array_equal(loaded.next_distribution("ABC"), model.next_distribution("ABC"))
