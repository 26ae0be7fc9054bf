"""seqkit on a real GPU (issue 11): every trainer trains under the device policy.

Marked ``gpu`` and skipped where TensorFlow sees no GPU, so the default run
(``-m "not slow"``) reports them as skipped on a CPU machine. On a GPU machine::

    python -m pytest -m gpu tests/test_gpu.py

(``benchmarks/gpu_check.sh`` runs them there with ``benchmarks/devices.py``.)

What they check: each trainer trains with the policy's default choice, with the variables
on the GPU and the choice recorded in ``model.spec["policy"]``; both GPU kernels run
(cuDNN in a graph, and XLA without cuDNN); masked, front-padded input never reaches cuDNN
and predicts the same on the GPU as on the CPU; mixed precision trains with finite losses,
float32 variables and float32 outputs.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqkit._quiet import quiet_import, silence_tensorflow  # noqa: E402

silence_tensorflow()

quiet_import()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

GPUS = tf.config.list_physical_devices("GPU")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not GPUS, reason="TensorFlow sees no GPU here"),
]

POLICY_KEYS = {
    "device", "jit_compile", "use_cudnn", "precision", "reason", "kernel", "shards", "unroll", "distributed", "backend", "tf32",
}


def bfloat16_card() -> bool:
    if not GPUS:
        return False
    capability = tf.config.experimental.get_device_details(GPUS[0]).get("compute_capability")
    return capability is not None and tuple(capability) >= (8, 0)


@pytest.fixture(autouse=True)
def _float32_after() -> None:
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def exact_float32():
    """TF32 off for comparisons across devices (Ampere and later round matmuls to TF32 by default)."""
    was = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    yield
    tf.config.experimental.enable_tensor_float_32_execution(was)


def make(name: str, **extra):
    from seqkit.trainers import InBatchTrainer, RandomWindows, StatefulTrainer, StatelessTrainer, StreamTrainer

    tiny = {"units": 8, "epochs": 2, **extra}
    return {
        "stateless": lambda: StatelessTrainer(window=3, **tiny),
        "in-batch": lambda: InBatchTrainer(**tiny),
        "stateful": lambda: StatefulTrainer(**tiny),
        "stream": lambda: StreamTrainer(window=4, batch_size=2, embedding_dim=4, **tiny),
        "variable-length": lambda: StatelessTrainer(window=RandomWindows(count=50, max_length=4), **tiny),
    }[name]()


TRAINERS = ("stateless", "in-batch", "stateful", "stream", "variable-length")
BATCH = {"stateless": 1, "in-batch": 25, "stateful": 1, "stream": 2, "variable-length": 1}  # rows per step


def fit(trainer, data=None):
    from seqkit import alphabet

    model, history = trainer.fit(data if data is not None else alphabet())
    assert all(math.isfinite(value) for value in history.loss), history.loss
    return model, history


def check_policy(model, **expected) -> dict:
    policy = model.spec["policy"]
    assert set(policy) == POLICY_KEYS
    assert policy["device"] == "gpu"
    assert not (policy["jit_compile"] and policy["use_cudnn"])
    for key, value in expected.items():
        assert policy[key] == value, (key, policy)
    return policy


def stdlib(megabytes: float):
    from seqkit.corpora import python_stdlib

    return python_stdlib(max_bytes=int(megabytes * 1_000_000))


# Every trainer, the default policy ------------------------------------------------------
@pytest.mark.parametrize("name", TRAINERS)
def test_every_trainer_trains_on_the_gpu_by_default(name: str) -> None:
    from seqkit.engine.policy import visible_device

    assert visible_device() == "gpu"
    model, history = fit(make(name))
    assert history.epochs == 2
    check_policy(model, precision="float32")
    assert all("GPU" in variable.value.device for variable in model.network.trainable_variables)


@pytest.mark.parametrize("name", TRAINERS)
def test_the_recorded_policy_is_choose_policys(name: str) -> None:
    from seqkit.engine.policy import choose_policy

    model, _ = fit(make(name))
    policy = model.spec["policy"]
    expected = choose_policy(units=8, batch_size=BATCH[name], device="gpu", masked=name == "variable-length")
    assert (policy["jit_compile"], policy["use_cudnn"]) == (expected.jit_compile, expected.use_cudnn)


# Both GPU kernels -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["stateless", "stateful", "stream"])
def test_jit_off_runs_the_cudnn_kernel(name: str) -> None:
    model, _ = fit(make(name, jit_compile=False))
    check_policy(model, jit_compile=False, use_cudnn="auto")


def test_a_large_stream_model_gets_cudnn_by_default_and_xla_on_request() -> None:
    from seqkit.engine.policy import choose_policy
    from seqkit.trainers import StreamTrainer

    corpus = stdlib(0.1)
    expected = choose_policy(units=256, batch_size=128, device="gpu")
    model, _ = fit(StreamTrainer(window=64, batch_size=128, units=256, embedding_dim=16, epochs=1), corpus)
    check_policy(model, jit_compile=expected.jit_compile, use_cudnn=expected.use_cudnn)
    model, _ = fit(
        StreamTrainer(window=64, batch_size=128, units=256, embedding_dim=16, epochs=1, jit_compile=True), corpus
    )
    check_policy(model, jit_compile=True, use_cudnn=False)


def test_cudnn_and_xla_learn_the_same_stream_model(exact_float32) -> None:
    """One epoch from the same seed: the two kernels give the same losses up to rounding."""
    from seqkit.trainers import StreamTrainer

    corpus = stdlib(0.05)
    losses = {}
    for jit_compile in (True, False):
        trainer = StreamTrainer(window=32, batch_size=16, units=32, embedding_dim=8, epochs=2, jit_compile=jit_compile)
        _, history = fit(trainer, corpus)
        losses[jit_compile] = history.loss
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-3)


# Masked, front-padded input -------------------------------------------------------------
@pytest.mark.parametrize("jit_compile", [None, False])
def test_masked_input_never_gets_cudnn(jit_compile: bool | None) -> None:
    extra = {} if jit_compile is None else {"jit_compile": jit_compile}
    model, _ = fit(make("variable-length", epochs=3, **extra))
    check_policy(model, use_cudnn=False, jit_compile=jit_compile is not False)


def _masked_inputs(trainer, model) -> np.ndarray:
    from seqkit import alphabet

    windows = trainer.make_windows(alphabet(), model.vocabulary)
    assert (windows.lengths < windows.window_length).any(), "the draw should hold padded windows"
    return model.layout.transform(windows.inputs, model.vocabulary.size)


def _probabilities_on(device: str, model, inputs: np.ndarray) -> np.ndarray:
    with tf.device(device):
        output = model.network(tf.constant(inputs), training=False)
    assert device.split(":")[0].strip("/").upper() in output.device.upper(), output.device
    return np.asarray(output)


def test_masked_predictions_agree_between_gpu_and_cpu(exact_float32) -> None:
    """The GPU-trained model predicts its padded windows the same on both devices."""
    trainer = make("variable-length", epochs=5)
    model, _ = fit(trainer)
    inputs = _masked_inputs(trainer, model)
    gpu = _probabilities_on("/GPU:0", model, inputs)
    cpu = _probabilities_on("/CPU:0", model, inputs)
    np.testing.assert_allclose(gpu, cpu, atol=1e-5)
    assert (gpu.argmax(-1) == cpu.argmax(-1)).all()


def test_masked_training_on_gpu_and_cpu_agree(exact_float32) -> None:
    """The same recipe trained on the GPU and under ``tf.device('/CPU:0')``: close losses and predictions."""
    runs = {}
    for device in ("/GPU:0", "/CPU:0"):
        trainer = make("variable-length", epochs=5)
        with tf.device(device):
            model, history = fit(trainer)
            inputs = _masked_inputs(trainer, model)
            runs[device] = (history.loss, np.asarray(model.network(tf.constant(inputs), training=False)))
    (gpu_loss, gpu_probabilities), (cpu_loss, cpu_probabilities) = runs["/GPU:0"], runs["/CPU:0"]
    np.testing.assert_allclose(gpu_loss, cpu_loss, rtol=1e-3)
    np.testing.assert_allclose(gpu_probabilities, cpu_probabilities, atol=1e-3)
    assert (gpu_probabilities.argmax(-1) == cpu_probabilities.argmax(-1)).mean() >= 0.95


# Mixed precision ------------------------------------------------------------------------
def _check_mixed(model, precision: str) -> None:
    check_policy(model, precision=precision)
    assert all(variable.dtype == "float32" for variable in model.network.trainable_variables)
    assert model.network.outputs[0].dtype == "float32", "the loss is computed from float32 outputs"


@pytest.mark.parametrize("name", ["stateless", "stream"])
def test_mixed_float16_trains_with_float32_variables_and_loss(name: str) -> None:
    model, history = fit(make(name, precision="mixed_float16", epochs=3))
    _check_mixed(model, "mixed_float16")
    assert history.loss[-1] < history.loss[0] * 1.5


def test_mixed_float16_large_stream_model_with_cudnn() -> None:
    from seqkit.trainers import StreamTrainer

    trainer = StreamTrainer(window=64, batch_size=128, units=256, embedding_dim=16, epochs=2, precision="mixed_float16")
    model, history = fit(trainer, stdlib(0.1))
    _check_mixed(model, "mixed_float16")
    assert history.loss[-1] < history.loss[0]


@pytest.mark.skipif(not bfloat16_card(), reason="this GPU has no bfloat16 (compute capability < 8.0)")
@pytest.mark.parametrize("name", ["stateless", "stream"])
def test_mixed_bfloat16_trains(name: str) -> None:
    model, _ = fit(make(name, precision="mixed_bfloat16"))
    _check_mixed(model, "mixed_bfloat16")


def test_mixed_precision_does_not_leak_into_later_models() -> None:
    fit(make("stateless", precision="mixed_float16"))
    assert keras.mixed_precision.global_policy().name == "float32"


# seqkit info ----------------------------------------------------------------------------
def test_info_reports_the_gpu() -> None:
    import json

    from click.testing import CliRunner

    from seqkit.cli.main import main

    result = CliRunner().invoke(main, ["info", "--json"], catch_exceptions=False)
    document = json.loads(result.stdout)
    assert document["policy_device"] == "gpu"
    gpus = [entry for entry in document["devices"] if entry["type"] == "GPU"]
    assert gpus and all(entry["compute_capability"] for entry in gpus)
    assert "mixed_float16" in document["precisions"]
