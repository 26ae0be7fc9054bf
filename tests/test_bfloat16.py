"""bfloat16 on a CPU (issue 25): seqkit's kernel with bfloat16 matmuls, the CPU features, and
the device policy's choice of precision on CPUs with and without bfloat16 hardware.

bfloat16 keeps 8 bits of mantissa (a relative rounding of 2**-9 = 0.2%), so its outputs
and gradients are compared with float32's at a relative tolerance of a few percent of each
tensor's scale, as mixed-precision tests do, and held-out quality is measured by the
benchmark (``benchmarks/stream_training.py --compare``), not here.
"""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqkit.engine import policy as policy_module
from seqkit.engine.cpu_features import cpu_features, parse_cpuinfo
from seqkit.engine.kernel import lstm_sequence, matmul, stream_forward
from seqkit.engine.policy import BFLOAT16_MIN_WORK, PrecisionWarning, choose_policy, precision_warning
from seqkit.errors import ConfigurationError
from seqkit.models import ModelSpec, build_stream_model
from seqkit.trainers import StreamTrainer

AMX = parse_cpuinfo("model name : Intel Xeon Platinum 8480+\nflags : fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n")
AVX512_BF16 = parse_cpuinfo("model name : AMD EPYC 9454\nflags : fpu avx2 avx512f avx512_bf16\n")
AVX2 = parse_cpuinfo("model name : AMD EPYC 7B13\nflags : fpu avx2 fma\n")


def relative_error(got, expected) -> float:
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    return float(np.linalg.norm(got - expected) / np.linalg.norm(expected))


# The CPU's features ----------------------------------------------------------------------
def test_cpuinfo_flags_name_the_bfloat16_hardware():
    assert (AMX.bfloat16_hardware, AVX512_BF16.bfloat16_hardware, AVX2.bfloat16_hardware) == ("AMX", "AVX512-BF16", None)


def test_cpuinfo_summary_lists_the_matmul_features():
    assert AMX.summary() == "Intel Xeon Platinum 8480+: AVX2, AVX-512, AVX512-BF16, AMX-BF16"
    assert AVX2.summary() == "AMD EPYC 7B13: AVX2"


def test_cpuinfo_without_flags_has_no_bfloat16_hardware():
    features = parse_cpuinfo("processor : 0\n")
    assert (features.model, features.flags, features.bfloat16_hardware) == ("unknown", frozenset(), None)


def test_the_machines_features_are_read_once():
    assert cpu_features() is cpu_features()


# The kernel in bfloat16 --------------------------------------------------------------------
def test_bfloat16_matmul_rounds_its_operands_and_returns_float32():
    a = tf.random.stateless_normal((8, 16), seed=(1, 2))
    b = tf.random.stateless_normal((16, 4), seed=(3, 4))
    got = matmul(a, b, bfloat16=True)
    rounded = tf.matmul(tf.cast(tf.cast(a, tf.bfloat16), tf.float32), tf.cast(tf.cast(b, tf.bfloat16), tf.float32))
    assert got.dtype == tf.float32
    # the product itself is rounded to bfloat16 too (as autocast's is): a few of its 2**-8 ulps
    np.testing.assert_allclose(got, rounded, rtol=2**-6, atol=1e-2)


def _layer_and_inputs(units=16, batch=4, steps=12, features=8):
    layer = keras.layers.LSTM(units, return_sequences=True, return_state=True)
    inputs = tf.random.stateless_normal((batch, steps, features), seed=(5, 6))
    layer(inputs)
    h0 = tf.random.stateless_normal((batch, units), seed=(7, 8)) * 0.5
    c0 = tf.random.stateless_normal((batch, units), seed=(9, 10)) * 0.5
    return layer, inputs, h0, c0


def _outputs_and_gradients(layer, inputs, h0, c0, bfloat16):
    weights = layer.trainable_variables
    with tf.GradientTape() as tape:
        tape.watch([inputs, h0, c0])
        outputs, h, c = lstm_sequence(layer, inputs, h0, c0, bfloat16=bfloat16)
        loss = tf.reduce_sum(outputs * tf.sin(tf.range(outputs.shape[-1], dtype=tf.float32))) + tf.reduce_sum(c)
    gradients = tape.gradient(loss, [inputs, h0, c0, *weights])
    return (outputs, h, c), gradients


def test_bfloat16_kernel_outputs_match_float32_at_bfloat16_tolerance():
    layer, inputs, h0, c0 = _layer_and_inputs()
    expected, _ = _outputs_and_gradients(layer, inputs, h0, c0, bfloat16=False)
    got, _ = _outputs_and_gradients(layer, inputs, h0, c0, bfloat16=True)
    for tensor, reference in zip(got, expected):
        assert tensor.dtype == tf.float32
        assert relative_error(tensor, reference) < 0.02


def test_bfloat16_kernel_gradients_match_float32_at_bfloat16_tolerance():
    layer, inputs, h0, c0 = _layer_and_inputs()
    _, expected = _outputs_and_gradients(layer, inputs, h0, c0, bfloat16=False)
    _, got = _outputs_and_gradients(layer, inputs, h0, c0, bfloat16=True)
    names = ["inputs", "h0", "c0", "kernel", "recurrent_kernel", "bias"]
    errors = {name: relative_error(g, e) for name, g, e in zip(names, got, expected)}
    assert all(gradient.dtype == tf.float32 for gradient in got)
    assert max(errors.values()) < 0.03, errors


def test_bfloat16_kernel_differs_from_float32():
    """The bfloat16 path really rounds: it is close to float32, not equal to it."""
    layer, inputs, h0, c0 = _layer_and_inputs()
    (expected, *_), _ = _outputs_and_gradients(layer, inputs, h0, c0, bfloat16=False)
    (got, *_), _ = _outputs_and_gradients(layer, inputs, h0, c0, bfloat16=True)
    assert relative_error(got, expected) > 1e-5


def test_stream_forward_in_bfloat16_keeps_float32_logits_and_states():
    network = build_stream_model(ModelSpec(units=16, embedding_dim=4), vocabulary_size=7)
    ids = tf.constant(np.random.default_rng(0).integers(1, 8, size=(3, 10)), tf.int32)
    states = [tf.zeros((3, 16)), tf.zeros((3, 16))]
    expected = stream_forward(network, [ids, *states], training=False)
    got = stream_forward(network, [ids, *states], training=False, bfloat16=True)
    assert [tensor.dtype for tensor in got] == [tf.float32] * 3
    assert relative_error(got[0], expected[0]) < 0.02


# The policy's choice -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("features", "units", "streams", "expected"),
    [
        (AMX, 256, 128, "mixed_bfloat16"),
        (AMX, 512, 128, "mixed_bfloat16"),
        (AMX, 64, 32, "float32"),
        (AMX, 128, 32, "float32"),
        (AVX512_BF16, 256, 128, "float32"),
        (AVX2, 256, 128, "float32"),
    ],
)
def test_auto_precision_by_cpu_features_and_size(features, units, streams, expected):
    policy = choose_policy(units=units, batch_size=streams, device="cpu", precision="auto", kernel=None, features=features)
    assert policy.precision == expected


def test_auto_bfloat16_runs_through_the_kernel_with_a_float32_network():
    policy = choose_policy(units=256, batch_size=128, device="cpu", precision="auto", kernel=None, features=AMX)
    assert (policy.kernel, policy.kernel_bfloat16, policy.network_precision) == (True, True, "float32")
    assert policy.reason.endswith("precision auto: bfloat16 matmuls (AMX, batch x units = 32768 >= 32768)")


def test_auto_precision_says_why_float32_without_amx():
    policy = choose_policy(units=256, batch_size=128, device="cpu", precision="auto", kernel=None, features=AVX2)
    assert policy.reason.endswith("precision auto: float32 (this CPU has no AMX)")


def test_auto_precision_is_float32_below_the_measured_size():
    policy = choose_policy(units=64, batch_size=32, device="cpu", precision="auto", kernel=None, features=AMX)
    assert policy.reason.endswith("precision auto: float32 (batch x units = 2048 < 32768, where bfloat16 is slower)")


def test_auto_precision_is_float32_where_the_kernel_does_not_run():
    policy = choose_policy(units=256, batch_size=128, device="cpu", precision="auto", kernel=False, features=AMX)
    assert policy.precision == "float32"
    assert policy.reason.endswith(
        "precision auto: float32 (bfloat16 pays only in seqkit's LSTM kernel, not used here)"
    )


def test_auto_precision_is_float32_on_a_gpu():
    assert choose_policy(units=256, batch_size=128, device="gpu", precision="auto", features=AMX).precision == "float32"


def test_explicit_precision_is_kept_whatever_the_cpu():
    policy = choose_policy(units=64, batch_size=32, device="cpu", precision="mixed_bfloat16", kernel=None, features=AVX2)
    assert (policy.precision, policy.kernel) == ("mixed_bfloat16", True)


def test_the_threshold_is_the_large_measured_size():
    assert BFLOAT16_MIN_WORK == 256 * 128


def test_kernel_with_mixed_float16_is_refused():
    with pytest.raises(ConfigurationError) as caught:
        choose_policy(units=8, batch_size=4, device="gpu", precision="mixed_float16", kernel=True)
    assert str(caught.value) == (
        "Trainer cannot train in mixed_float16 with seqkit's LSTM kernel (kernel=True): the kernel computes in "
        "float32 or bfloat16. Use precision='float32', 'mixed_bfloat16' or kernel=None."
    )


def test_unknown_precision_lists_auto():
    with pytest.raises(ConfigurationError, match="'auto', 'float32', 'mixed_float16' or 'mixed_bfloat16'"):
        choose_policy(units=8, batch_size=4, device="cpu", precision="bfloat16")


# The warning where bfloat16 is slower ------------------------------------------------------
KERAS_BFLOAT16 = (
    "precision='mixed_bfloat16' trains through Keras's bfloat16 layers here (seqkit's LSTM kernel does not compute "
    "this model), measured 1.2-5.6x slower than float32 on a CPU. Use precision='auto' or 'float32'."
)


def test_bfloat16_through_keras_layers_is_warned_about():
    assert precision_warning("mixed_bfloat16", device="cpu", kernel=False) == KERAS_BFLOAT16


@pytest.mark.parametrize(
    ("precision", "device", "kernel"),
    [("mixed_bfloat16", "cpu", True), ("mixed_bfloat16", "gpu", False), ("float32", "cpu", False), ("auto", "cpu", False)],
)
def test_no_warning_where_bfloat16_was_not_measured_slower(precision, device, kernel):
    assert precision_warning(precision, device=device, kernel=kernel) is None


@pytest.mark.slow  # trains
def test_a_trainer_warns_in_one_line_and_trains_as_asked():
    trainer = StreamTrainer(window=8, batch_size=4, units=8, embedding_dim=4, epochs=1, precision="mixed_bfloat16",
                            kernel=False)
    with pytest.warns(PrecisionWarning) as caught:
        model, history = trainer.fit(list("abcdefghijklmnopqrstuvwxyz" * 4))
    assert [str(warning.message) for warning in caught] == [KERAS_BFLOAT16]
    assert model.spec["policy"]["precision"] == "mixed_bfloat16" and np.isfinite(history.loss[-1])


@pytest.mark.slow  # trains
def test_bfloat16_through_the_kernel_trains_without_a_warning(monkeypatch):
    monkeypatch.setattr(policy_module, "cpu_features", lambda: AVX2)
    trainer = StreamTrainer(window=8, batch_size=4, units=8, embedding_dim=4, epochs=1, precision="mixed_bfloat16",
                            kernel=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrecisionWarning)
        trainer.fit(list("abcdefghijklmnopqrstuvwxyz" * 4))


@pytest.mark.slow  # trains
def test_a_bfloat16_trained_stream_model_is_a_float32_model(monkeypatch):
    monkeypatch.setattr(policy_module, "cpu_features", lambda: AMX)
    trainer = StreamTrainer(window=8, batch_size=4, units=8, embedding_dim=4, epochs=2, precision="mixed_bfloat16")
    model, history = trainer.fit(list("abcdefghijklmnopqrstuvwxyz" * 4))
    assert trainer.loop_.policy.kernel_bfloat16 and model.spec["policy"]["precision"] == "mixed_bfloat16"
    assert {weight.dtype for weight in model.network.weights} == {"float32"}
    assert np.isfinite(history.loss).all()


@pytest.mark.slow  # trains
def test_float32_and_bfloat16_training_start_alike():
    """The first epoch's loss of the same seeded run in float32 and in bfloat16 agree to bfloat16's rounding."""
    losses = {}
    for precision in ("float32", "mixed_bfloat16"):
        trainer = StreamTrainer(window=8, batch_size=4, units=16, embedding_dim=4, epochs=1, precision=precision,
                                kernel=True)
        _, history = trainer.fit(list("abcdefghijklmnopqrstuvwxyz" * 8))
        losses[precision] = history.loss[0]
    assert losses["mixed_bfloat16"] == pytest.approx(losses["float32"], rel=0.01)


@pytest.mark.slow  # trains
def test_a_float32_checkpoint_resumes_under_auto_where_auto_is_float32(tmp_path, monkeypatch):
    """A run checkpointed by 0.4 (precision float32, its default then) resumes with 0.5's default."""
    monkeypatch.setattr(policy_module, "cpu_features", lambda: AVX2)
    text = list("abcdefghijklmnopqrstuvwxyz" * 4)
    settings = dict(window=8, batch_size=4, units=8, embedding_dim=4, checkpoint_dir=tmp_path)
    StreamTrainer(epochs=1, precision="float32", **settings).fit(text)
    trainer = StreamTrainer(epochs=2, **settings)
    trainer.fit(text, resume=True)
    assert trainer.initial_epoch_ == 1


def test_bfloat16_on_a_gpu_keeps_keras_layers():
    policy = choose_policy(units=64, batch_size=32, device="gpu", precision="mixed_bfloat16", kernel=None)
    assert not policy.kernel and policy.network_precision == "mixed_bfloat16"


@pytest.mark.slow  # trains
def test_seqkit_train_says_the_warning_as_a_note(runner):
    from seqkit.cli.main import main

    result = runner.invoke(main, ["train", "--window", "3", "--units", "4", "--epochs", "1", "--precision",
                                  "mixed_bfloat16"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert KERAS_BFLOAT16 in result.stderr.replace("\n", " ").replace("  ", " ")
    assert "PrecisionWarning" not in result.output
