"""seqkit on Keras's JAX backend: stream training and generation without TensorFlow, bundles across backends.

The JAX runs happen in ``tests/jax_worker.py``, a process where ``import tensorflow`` fails
and ``KERAS_BACKEND=jax``; this process runs Keras on TensorFlow, so the same bundle is
read on both backends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqkit.errors import ConfigurationError

pytest.importorskip("jax")

WORKER = Path(__file__).with_name("jax_worker.py")
TEXT = "def add(a, b):\n    return a + b\n\n" * 40


def run_worker(*arguments: str, allow_tensorflow: bool = False) -> dict:
    environment = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
                   "JAX_WORKER_ALLOW_TENSORFLOW": "1" if allow_tensorflow else "0"}
    done = subprocess.run(
        [sys.executable, str(WORKER), *arguments], capture_output=True, text=True, timeout=300, env=environment,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def jax_trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    bundle = tmp_path_factory.mktemp("jax") / "jax.seqkit"
    return bundle, run_worker("train", str(bundle))


@pytest.mark.slow  # a JAX process that trains, ~20 s with the test below; the refusals further down stay in the default run
def test_stream_trainer_trains_on_jax_without_tensorflow(jax_trained: tuple[Path, dict]) -> None:
    _, result = jax_trained
    assert result["tensorflow_imported"] is False
    assert result["policy"]["backend"] == "jax" and result["policy"]["jit_compile"] is True
    assert result["loss"][-1] < result["loss"][0] / 3
    assert len(result["val_loss"]) == len(result["loss"]) == 6


@pytest.mark.slow  # a JAX process, ~15 s
def test_where_tensorflow_is_installed_jax_training_generation_and_scoring_do_not_import_it(tmp_path: Path) -> None:
    result = run_worker("train", str(tmp_path / "jax.seqkit"), allow_tensorflow=True)
    assert result["tensorflow_imported_before_save"] is False


@pytest.mark.slow  # a JAX process, ~8 s
def test_seqkit_info_on_jax_shows_the_jax_policy_without_tensorflow() -> None:
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from seqkit.cli.main import main\n"
        "main(['info', '--json'])\n"
    )
    environment = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=environment)
    document = json.loads(done.stdout)
    assert document["keras_backend"] == "jax" and document["tensorflow_build"] == {"cuda": None, "cudnn": None}
    assert [row["model"] for row in document["policies"]] == [
        "stream LSTM 64 x 32 streams", "stream LSTM 256 x 128 streams", "stream LSTM 512 x 128 streams",
    ]
    assert {row["policy"]["backend"] for row in document["policies"]} == {"jax"}


@pytest.mark.slow
def test_a_jax_bundle_generates_the_same_greedy_text_on_tensorflow(jax_trained: tuple[Path, dict]) -> None:
    from seqkit.sequence_model import SequenceModel

    bundle, result = jax_trained
    model = SequenceModel.load(bundle)
    model.reset()
    assert "".join(model.generate("def ", steps=40)) == result["greedy"]
    assert model.score(TEXT).loss == pytest.approx(result["score"], rel=1e-5)


@pytest.mark.slow  # a TensorFlow training and a JAX process, ~15 s
def test_a_tensorflow_bundle_generates_the_same_greedy_text_on_jax(tmp_path: Path) -> None:
    from seqkit.trainers import StreamTrainer

    trainer = StreamTrainer(window=16, batch_size=4, units=24, embedding_dim=8, epochs=6, learning_rate=0.01)
    model, _ = trainer.fit(TEXT)
    bundle = model.save(tmp_path / "tf.seqkit")
    model.reset()
    expected = "".join(model.generate("def ", steps=40))
    result = run_worker("generate", str(bundle), "def ", "40")
    assert result["tensorflow_imported"] is False
    assert result["greedy"] == expected
    # batched sampling and beam search: the same path, the same text on both backends
    assert result["samples"] == ["".join(t) for t in model.generate("def ", 40, num_samples=5, temperature=0.8, seed=3)]
    assert result["beams"] == ["".join(beam.tokens) for beam in model.sample("def ", 40, beam=3)]
    assert result["score"] == pytest.approx(model.score(TEXT).loss, rel=1e-5)


@pytest.mark.slow  # a TensorFlow training and a JAX process, ~12 s
def test_a_stateless_tensorflow_bundle_generates_the_same_greedy_text_on_jax(tmp_path: Path) -> None:
    from seqkit.trainers import StatelessTrainer

    model, _ = StatelessTrainer(window=4, units=16, epochs=20, encoding="onehot").fit(TEXT)
    bundle = model.save(tmp_path / "stateless.seqkit")
    result = run_worker("generate", str(bundle), "def ", "30")
    assert result["greedy"] == "".join(model.generate("def ", steps=30))
    assert result["score"] == pytest.approx(model.score(TEXT).loss, rel=1e-5, abs=1e-6)  # a loss near 0: float32 noise


def test_a_window_trainer_on_jax_says_it_needs_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    import seqkit.trainers

    monkeypatch.setattr(seqkit.trainers, "keras_backend", lambda: "jax")
    with pytest.raises(ConfigurationError) as caught:
        seqkit.trainers.StatelessTrainer  # noqa: B018
    assert str(caught.value) == (
        "StatelessTrainer needs Keras's TensorFlow backend; this process runs Keras on 'jax' (KERAS_BACKEND=jax), "
        "where seqkit trains StreamTrainer only. Unset KERAS_BACKEND (or set it to tensorflow) to use it."
    )
    assert list(seqkit.trainers.TRAINERS) == ["stream"]


def test_the_stream_trainer_on_jax_refuses_tensorflow_only_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import seqkit.trainers.stream as stream

    monkeypatch.setattr(stream, "keras_backend", lambda: "jax")
    with pytest.raises(ConfigurationError) as caught:
        stream.StreamTrainer(checkpoint_dir="runs").fit(TEXT)
    assert str(caught.value) == (
        "StreamTrainer cannot take checkpoint_dir='runs' on Keras's JAX backend: checkpoints are written by "
        "TensorFlow. Leave checkpoint_dir at its default, or unset KERAS_BACKEND to train on TensorFlow."
    )


def test_export_on_jax_says_it_needs_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    import seqkit.backends

    monkeypatch.setattr(seqkit.backends, "keras_backend", lambda: "jax")
    with pytest.raises(ConfigurationError) as caught:
        seqkit.backends.require_tensorflow("Export")
    assert str(caught.value) == (
        "Export needs Keras's TensorFlow backend; this process runs Keras on 'jax' (KERAS_BACKEND=jax), where "
        "seqkit offers StreamTrainer, generate, load, predict, save, score. Unset KERAS_BACKEND (or set it to "
        "tensorflow) for this."
    )


def test_the_jax_policy_puts_cudnn_inside_jit_on_a_gpu() -> None:
    from seqkit.engine.jax_loop import jax_policy

    policy = jax_policy(units=256, batch_size=128, device="gpu")
    assert (policy.backend, policy.jit_compile, policy.use_cudnn, policy.tf32) == ("jax", True, "auto", True)
    assert jax_policy(units=8, batch_size=4, device="cpu").use_cudnn is False


def test_the_jax_policy_refuses_mixed_precision() -> None:
    from seqkit.engine.jax_loop import jax_policy

    with pytest.raises(ConfigurationError) as caught:
        jax_policy(units=8, batch_size=4, device="cpu", precision="mixed_bfloat16")
    assert str(caught.value) == (
        "StreamTrainer trains in float32 on Keras's JAX backend; got precision='mixed_bfloat16'. "
        "Use precision='float32', or the TensorFlow backend for mixed precision."
    )
