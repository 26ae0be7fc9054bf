"""Fuzzing the loaders: whatever the bytes, seqkit loads them or refuses them with its own error.

Hypothesis feeds the vocabulary loader, the text corpus loader and the bundle loader
random bytes, truncations and bit flips of real files, JSON of the wrong types, huge
numbers and deep nesting. Every example must either load or raise a
:class:`~seqkit.errors.SeqkitError` with a one-line message: no other exception, no
crash, and no hang (each example is bounded by a deadline and by a hard alarm).
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seqkit
from seqkit.bundle import bundle_bytes
from seqkit.datasets import Corpus, load_text
from seqkit.errors import SeqkitError
from seqkit.sequence_model import SequenceModel
from seqkit.trainers import StatelessTrainer
from seqkit.vocab import Vocabulary

HARD_LIMIT_SECONDS = 20
"""A hang, not a slow example: the alarm fails the test after this long."""

FAST = settings(
    max_examples=60, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SLOW = settings(
    # A network of a legal size (a 2,391-unit LSTM, 23 M parameters) takes Keras 6 s to build on 2 busy cores,
    # mostly the orthogonal initializer: slow, not a hang. A hang is what the alarm of bounded() catches.
    max_examples=25, deadline=timedelta(seconds=HARD_LIMIT_SECONDS),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@contextlib.contextmanager
def bounded(seconds: int = HARD_LIMIT_SECONDS) -> Iterator[None]:
    def hung(signum: int, frame: Any) -> None:
        raise TimeoutError(f"a loader ran for more than {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def loads_or_refuses(load: Callable[[], object]) -> object | None:
    """Run ``load``: a result, or a SeqkitError with a one-line message; anything else fails."""
    with bounded():
        try:
            return load()
        except SeqkitError as error:
            message = str(error)
            assert message and "\n" not in message, repr(message)
            return None


# Strategies ----------------------------------------------------------------------------
HUGE = st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 1e308, -1e308, 0.0])
json_leaves = st.none() | st.booleans() | st.integers() | HUGE | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


def deep(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


deep_json = st.builds(deep, st.integers(900, 200_000), st.sampled_from(["list", "object"]))
huge_number_text = st.integers(4_000, 60_000).map(lambda digits: "9" * digits)


def flip(data: bytes, positions: list[int]) -> bytes:
    damaged = bytearray(data)
    for position in positions:
        damaged[position % len(damaged)] ^= 1 << (position % 8)
    return bytes(damaged)


# Fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def model() -> SequenceModel:
    trained, _ = StatelessTrainer(window=2, units=4, epochs=1).fit(seqkit.alphabet())
    return trained


@pytest.fixture(scope="module")
def good_bundle(model: SequenceModel) -> bytes:
    return bundle_bytes(model.bundle_contents())


VOCABULARY = Vocabulary(["A", "B", "ü", "日本"], unknown_token="<unk>")
GOOD_VOCABULARY = VOCABULARY.to_json().encode("utf-8")


# The vocabulary loader -----------------------------------------------------------------
def load_vocabulary_file(folder: Path, data: bytes) -> Vocabulary | None:
    path = folder / "vocabulary.json"
    path.write_bytes(data)
    loaded = loads_or_refuses(lambda: Vocabulary.load(path))
    assert loaded is None or isinstance(loaded, Vocabulary)
    return loaded  # type: ignore[return-value]


@FAST
@given(data=st.binary(max_size=2048))
def test_vocabulary_random_bytes(folder: Path, data: bytes) -> None:
    load_vocabulary_file(folder, data)


@FAST
@given(cut=st.integers(0, len(GOOD_VOCABULARY)))
def test_vocabulary_truncations(folder: Path, cut: int) -> None:
    loaded = load_vocabulary_file(folder, GOOD_VOCABULARY[:cut])
    assert loaded is None or loaded == VOCABULARY


@FAST
@given(positions=st.lists(st.integers(0, 8 * len(GOOD_VOCABULARY)), min_size=1, max_size=4))
def test_vocabulary_bit_flips(folder: Path, positions: list[int]) -> None:
    load_vocabulary_file(folder, flip(GOOD_VOCABULARY, positions))


@FAST
@given(document=json_values)
def test_vocabulary_any_json_document(document: object) -> None:
    loads_or_refuses(lambda: Vocabulary.from_json(json.dumps(document)))


@FAST
@given(field=st.sampled_from(["format", "version", "tokens", "unknown_token"]), value=json_values)
def test_vocabulary_fields_of_wrong_types(field: str, value: object) -> None:
    config = {**VOCABULARY.get_config(), field: value}
    loads_or_refuses(lambda: Vocabulary.from_json(json.dumps(config)))


@FAST
@given(text=deep_json | huge_number_text | huge_number_text.map(lambda n: f'{{"version": {n}}}'))
def test_vocabulary_deep_nesting_and_huge_numbers(text: str) -> None:
    assert loads_or_refuses(lambda: Vocabulary.from_json(text)) is None


# The text corpus loader ----------------------------------------------------------------
@FAST
@given(data=st.binary(max_size=2048) | st.text(max_size=300).map(lambda text: text.encode("utf-8")),
       level=st.sampled_from(["char", "word"]))
def test_text_corpus_any_bytes(folder: Path, data: bytes, level: str) -> None:
    path = folder / "corpus.txt"
    path.write_bytes(data)
    corpus = loads_or_refuses(lambda: load_text(path, level=level))  # type: ignore[arg-type]
    if corpus is not None:
        assert isinstance(corpus, Corpus) and len(corpus) >= 1
        text = data.decode("utf-8-sig")
        assert corpus.tokens == tuple(text if level == "char" else text.split())


# The bundle loader ---------------------------------------------------------------------
def load_bundle_bytes(folder: Path, data: bytes) -> SequenceModel | None:
    path = folder / "model.seqkit"
    path.write_bytes(data)
    loaded = loads_or_refuses(lambda: SequenceModel.load(path))
    assert loaded is None or isinstance(loaded, SequenceModel)
    return loaded  # type: ignore[return-value]


@FAST
@given(data=st.binary(max_size=4096) | st.binary(max_size=512).map(lambda tail: b"PK\x03\x04" + tail))
def test_bundle_random_bytes(folder: Path, data: bytes) -> None:
    load_bundle_bytes(folder, data)


@SLOW
@given(fraction=st.floats(0, 1, exclude_max=True))
def test_bundle_truncations(folder: Path, good_bundle: bytes, fraction: float) -> None:
    assert load_bundle_bytes(folder, good_bundle[: int(fraction * len(good_bundle))]) is None


@SLOW
@given(positions=st.lists(st.integers(0, 2**40), min_size=1, max_size=3))
def test_bundle_bit_flips(folder: Path, good_bundle: bytes, model: SequenceModel, positions: list[int]) -> None:
    loaded = load_bundle_bytes(folder, flip(good_bundle, [p % (8 * len(good_bundle)) for p in positions]))
    if loaded is not None:  # a flip the format does not cover (e.g. a zip timestamp): still the same model
        assert loaded.predict_next("AB", top_k=3) == model.predict_next("AB", top_k=3)


def rebuilt_with_spec(good: bytes, change: Callable[[dict[str, Any]], object]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    spec = json.loads(members["spec.json"])
    change(spec)
    members["spec.json"] = json.dumps(spec).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


SPEC_FIELDS = ["format", "version", "seqkit_version", "stateful", "window_length", "vocabulary_size",
               "input_shape", "layout", "spec", "history", "members"]


@SLOW
@given(field=st.sampled_from(SPEC_FIELDS), value=json_values)
def test_bundle_spec_fields_of_wrong_types(folder: Path, good_bundle: bytes, field: str, value: object) -> None:
    load_bundle_bytes(folder, rebuilt_with_spec(good_bundle, lambda spec: spec.__setitem__(field, value)))


@SLOW
@given(text=deep_json | huge_number_text)
def test_bundle_spec_deep_nesting_and_huge_numbers(folder: Path, good_bundle: bytes, text: str) -> None:
    with zipfile.ZipFile(io.BytesIO(good_bundle)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["spec.json"] = text.encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert load_bundle_bytes(folder, buffer.getvalue()) is None


# Hostile networks and records (issue 14) -----------------------------------------------
def rebuilt_with_network_config(good: bytes, change: Callable[[dict[str, Any]], object]) -> bytes:
    """``good`` with its Keras config changed by ``change``, checksums recomputed (only the sizes are hostile)."""
    import hashlib

    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(io.BytesIO(members["model.keras"])) as archive:
        inner = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(inner["config.json"])
    change(config)
    inner["config.json"] = json.dumps(config).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in inner.items():
            archive.writestr(name, data)
    members["model.keras"] = buffer.getvalue()
    spec = json.loads(members["spec.json"])
    spec["members"]["model.keras"] = {
        "sha256": hashlib.sha256(members["model.keras"]).hexdigest(), "bytes": len(members["model.keras"])
    }
    members["spec.json"] = json.dumps(spec).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


LAYER_FIELDS = ["units", "input_dim", "output_dim", "batch_shape", "stateful", "target_shape", "class_name",
                "build_config", "input_shape", "batch_input_shape", "shape"]


def set_layer_field(config: dict[str, Any], index: int, field: str, value: object) -> None:
    layers = config["config"]["layers"]
    layer = layers[index % len(layers)]
    if field in ("class_name", "build_config"):
        layer[field] = value
    else:
        layer["config"][field] = value


@pytest.mark.slow  # a legal network size takes Keras seconds to build: minutes when examples land there
@SLOW
@given(index=st.integers(0, 10), field=st.sampled_from(LAYER_FIELDS),
       value=json_values | st.integers(1, 10**12) | st.lists(st.none() | st.integers(0, 10**10), max_size=4))
def test_bundle_network_sizes_of_any_value(
    folder: Path, good_bundle: bytes, index: int, field: str, value: object
) -> None:
    """A config's units, dimensions and shapes are sized before Keras builds anything: no memory blow-up, no hang."""
    load_bundle_bytes(folder, rebuilt_with_network_config(
        good_bundle, lambda config: set_layer_field(config, index, field, value)))


@FAST
@given(config=json_values | st.fixed_dictionaries({"class_name": st.just("Functional"), "config": json_values}))
def test_counting_parameters_of_any_json(config: object) -> None:
    from seqkit.bundle import count_parameters

    with bounded():
        try:
            assert count_parameters(config) >= 0
        except ValueError as error:
            assert str(error) and "\n" not in str(error)


@SLOW
@given(field=st.sampled_from(["trainer", "hyperparameters", "corpus", "layout", "policy", "model"]), value=json_values)
def test_bundle_training_record_of_any_value(
    folder: Path, good_bundle: bytes, model: SequenceModel, field: str, value: object
) -> None:
    """spec.spec's fields that readers use (``hyperparameters``, ``corpus``, ...): load and use, or refuse."""
    loaded = load_bundle_bytes(folder, rebuilt_with_spec(good_bundle, lambda spec: spec["spec"].__setitem__(field, value)))
    if loaded is not None:
        assert loaded.stride >= 1
        assert loaded.predict_next("AB", top_k=3) == model.predict_next("AB", top_k=3)


@FAST
@given(path=st.text(min_size=1, max_size=40))
def test_any_path_is_read_or_refused_in_one_line(folder: Path, path: str) -> None:
    """NUL bytes, control characters, surrogates: never a bare ValueError or UnicodeEncodeError."""
    loads_or_refuses(lambda: load_text(folder / path))
    loads_or_refuses(lambda: Vocabulary.load(folder / path))
    loads_or_refuses(lambda: SequenceModel.load(folder / path))
