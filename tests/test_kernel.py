"""seqkit's LSTM kernel computes what keras.layers.LSTM computes: outputs, final states, gradients.

The kernel (``seqkit/engine/kernel.py``) replaces the Keras layers' computation in stream
training, reading the layers' own weights. These tests hold it to the layer within
float32 tolerance, eagerly and under XLA, for one and two layers, and check that training
through it follows the same loss curve. Masking: the kernel is never used on masked input
(the stream network has none, and :func:`supports_kernel` refuses a masking embedding), so
there is no masked case to compare.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqkit.corpora import sample_text
from seqkit.engine.kernel import lstm_sequence, stream_forward, supports_kernel
from seqkit.engine.loops import InMemoryStreams, StreamLoop
from seqkit.engine.policy import choose_policy
from seqkit.errors import ConfigurationError
from seqkit.models import ModelSpec, build_stream_model
from seqkit.trainers import StreamTrainer

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


def _random(shape, seed):
    return tf.random.stateless_normal(shape, seed=(seed, 1))


def _both(keras_call, kernel_call, sources):
    """Outputs and gradients (of a loss touching every output) of the two computations."""
    sources = [source.value if isinstance(source, keras.Variable) else source for source in sources]
    results = []
    for call in (keras_call, kernel_call):
        with tf.GradientTape() as tape:
            tape.watch(sources)
            outputs = call()
            loss = sum(tf.reduce_sum(output * _random(tf.shape(output), 9 + number)) for number, output in enumerate(outputs))
        results.append((outputs, tape.gradient(loss, sources)))
    return results


def _assert_close(expected, actual):
    assert len(expected) == len(actual)
    for left, right in zip(expected, actual):
        np.testing.assert_allclose(tf.convert_to_tensor(right).numpy(), tf.convert_to_tensor(left).numpy(), **TOLERANCE)


def test_one_layer_equals_keras_lstm_outputs_states_and_gradients():
    keras.utils.set_random_seed(3)
    layer = keras.layers.LSTM(6, return_sequences=True, return_state=True)
    inputs, h0, c0 = _random((4, 7, 5), 1), _random((4, 6), 2), _random((4, 6), 3)
    layer(inputs, initial_state=[h0, c0])
    sources = [inputs, h0, c0, *layer.trainable_variables]
    (expected, expected_gradients), (actual, actual_gradients) = _both(
        lambda: layer(inputs, initial_state=[h0, c0]), lambda: lstm_sequence(layer, inputs, h0, c0), sources
    )
    _assert_close(expected, actual)
    _assert_close(expected_gradients, actual_gradients)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
def test_stream_network_equals_its_keras_computation(layers, jit_compile):
    keras.utils.set_random_seed(5)
    model = build_stream_model(ModelSpec(units=8, embedding_dim=4, layers=layers, dropout=0.1), vocabulary_size=6)
    ids = tf.constant(np.random.default_rng(1).integers(1, 7, size=(3, 5)), tf.int32)
    states = [_random((3, 8), 20 + number) for number in range(2 * layers)]
    sources = [*states, *model.trainable_variables]

    def by_keras():
        return model([ids, *states], training=False)

    def by_kernel():
        return stream_forward(model, [ids, *states], training=False)

    def both():
        return _both(by_keras, by_kernel, sources)

    (expected, expected_gradients), (actual, actual_gradients) = tf.function(both, jit_compile=jit_compile)()
    _assert_close(expected, actual)
    _assert_close(expected_gradients, actual_gradients)


def test_the_kernel_refuses_a_masking_embedding():
    model = build_stream_model(ModelSpec(units=4, embedding_dim=2), vocabulary_size=3)
    model.get_layer("embedding").mask_zero = True
    assert not supports_kernel(model)


def test_the_kernel_refuses_mixed_precision_networks():
    model = build_stream_model(ModelSpec(units=4, embedding_dim=2), vocabulary_size=3, precision="mixed_bfloat16")
    assert not supports_kernel(model)


def test_the_stream_loop_refuses_a_network_the_kernel_cannot_compute():
    with pytest.raises(ConfigurationError) as error:
        StreamLoop(
            lambda: build_stream_model(ModelSpec(units=4, embedding_dim=2), vocabulary_size=3, precision="mixed_bfloat16"),
            streams=2, kernel=True,
        )
    assert str(error.value) == (
        "StreamLoop cannot train this network with seqkit's LSTM kernel (kernel=True): the kernel "
        "computes float32 LSTMs with Keras's default activations only. Pass kernel=False."
    )


def test_the_policy_takes_the_kernel_in_float32_under_xla():
    assert choose_policy(units=64, batch_size=32, device="cpu", kernel=None).kernel


def test_the_policy_takes_the_kernel_for_bfloat16_and_leaves_it_out_of_float16():
    assert choose_policy(units=64, batch_size=32, device="cpu", kernel=None, precision="mixed_bfloat16").kernel
    assert not choose_policy(units=512, batch_size=128, device="gpu", kernel=None, precision="mixed_float16").kernel


@pytest.fixture
def cores(monkeypatch):
    """Sets the number of CPU cores the policy sees."""

    def set_cores(count):
        monkeypatch.setattr("seqkit.engine.policy.available_cores", lambda: count)

    return set_cores


def test_on_one_core_the_policy_leaves_the_kernel_out_of_a_plain_graph(cores):
    cores(1)
    policy = choose_policy(units=256, batch_size=128, device="cpu", kernel=None)
    assert (policy.jit_compile, policy.kernel, policy.shards) == (False, False, 1)


def test_on_two_cores_the_policy_takes_the_kernel_in_two_shards_at_every_size(cores):
    cores(2)
    for units, streams in [(64, 32), (256, 128)]:
        policy = choose_policy(units=units, batch_size=streams, device="cpu", kernel=None)
        assert (policy.jit_compile, policy.kernel, policy.shards) == (True, True, 2)
    assert policy.reason == (
        "CPU with 2 cores: seqkit's LSTM kernel under XLA, the 128 streams in 2 shards computed at once"
    )


def test_the_policy_keeps_keras_layers_in_a_graph_when_the_kernel_is_turned_off(cores):
    cores(2)
    policy = choose_policy(units=256, batch_size=128, device="cpu", kernel=False)
    assert (policy.jit_compile, policy.kernel, policy.shards) == (False, False, 1)


def test_the_policy_does_not_shard_fewer_than_32_streams_on_two_cores(cores):
    cores(2)
    assert choose_policy(units=64, batch_size=16, device="cpu", kernel=None).shards == 1


def test_the_policy_does_not_shard_distributed_steps(cores):
    cores(2)
    assert choose_policy(units=64, batch_size=32, device="cpu", kernel=None, distributed=True).shards == 1


def test_the_policy_leaves_the_kernel_to_trainers_that_ask_for_it():
    assert not choose_policy(units=64, batch_size=32, device="cpu").kernel


def test_the_policy_refuses_the_kernel_with_float16():
    with pytest.raises(ConfigurationError) as error:
        choose_policy(units=8, batch_size=2, device="gpu", kernel=True, precision="mixed_float16", owner="StreamTrainer")
    assert str(error.value) == (
        "StreamTrainer cannot train in mixed_float16 with seqkit's LSTM kernel (kernel=True): the kernel "
        "computes in float32 or bfloat16. Use precision='float32', 'mixed_bfloat16' or kernel=None."
    )


def test_the_policy_takes_the_kernel_in_bfloat16():
    policy = choose_policy(units=8, batch_size=2, device="cpu", kernel=True, precision="mixed_bfloat16")
    assert policy.kernel and policy.kernel_bfloat16 and policy.network_precision == "float32"


def _train(**options):
    trainer = StreamTrainer(window=16, batch_size=4, units=16, embedding_dim=8, epochs=3, **options)
    model, history = trainer.fit(sample_text(), validation=0.1)
    return trainer, model, history


def test_the_stream_trainer_trains_through_the_kernel_by_default():
    trainer, model, _ = _train()
    assert trainer.loop_.kernel
    assert model.spec["policy"]["kernel"] is True


def _one_step(kernel):
    keras.utils.set_random_seed(1)
    loop = StreamLoop(
        lambda: build_stream_model(ModelSpec(units=16, embedding_dim=8), vocabulary_size=30),
        streams=4, kernel=kernel,
    )
    ids = np.random.default_rng(0).integers(0, 30, size=(4, 17)).astype(np.int32)
    one_step = InMemoryStreams(  # each of the 4 streams one segment of 16 ids and the id after it
        ids.ravel(), np.array([[0, 17, 34, 51]], np.int32), np.arange(17, dtype=np.int32), np.ones((1, 4), bool)
    )
    history = loop.fit(lambda rows: None, steps=1, epochs=1, in_memory=one_step)
    record = np.array([history["loss"][0], history["accuracy"][0]])
    return record, loop.model.get_weights(), [state.numpy() for state in loop.states]


@pytest.mark.slow
def test_one_training_step_through_the_kernel_equals_one_through_keras():
    kernel_record, kernel_weights, kernel_states = _one_step(True)
    keras_record, keras_weights, keras_states = _one_step(False)
    np.testing.assert_allclose(kernel_record, keras_record, **TOLERANCE)
    _assert_close(keras_states, kernel_states)
    _assert_close(keras_weights, kernel_weights)


# Training amplifies float32 rounding: Adam divides each gradient by its own running
# magnitude, so the kernel's ~1e-7 relative gradient differences reach ~1e-5 of the loss
# after a few steps; the curves agree to 1e-4.
CURVE_TOLERANCE = 1e-4


@pytest.mark.slow
def test_training_through_the_kernel_follows_the_keras_loss_curve():
    _, _, kernel_history = _train(kernel=True)
    _, _, keras_history = _train(kernel=False)
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose(
            getattr(kernel_history, key), getattr(keras_history, key), rtol=CURVE_TOLERANCE, err_msg=key
        )


@pytest.mark.slow
def test_the_kernel_trains_under_a_mirrored_strategy_as_on_one_device():
    trainer, _, mirrored_history = _train(strategy="mirrored", kernel=True)
    _, _, single_history = _train(kernel=True)
    assert trainer.loop_.kernel
    np.testing.assert_allclose(mirrored_history.loss, single_history.loss, rtol=CURVE_TOLERANCE)


def _sharded_epoch(shards):
    keras.utils.set_random_seed(1)
    loop = StreamLoop(
        lambda: build_stream_model(ModelSpec(units=16, embedding_dim=8), vocabulary_size=30),
        streams=4, kernel=True, shards=shards,
    )
    rng = np.random.default_rng(0)
    resets = np.zeros((3, 4), bool)
    resets[0] = True
    streams = InMemoryStreams(
        ids=rng.integers(0, 30, size=400).astype(np.int32),
        starts=(np.arange(3)[:, None] * 16 + np.arange(4)[None] * 100).astype(np.int32),
        offsets=np.arange(17, dtype=np.int32),
        resets=resets,
    )
    logs = loop.fit(lambda rows: None, steps=3, epochs=2, in_memory=streams)
    return logs, loop.model.get_weights(), [state.numpy() for state in loop.states]


@pytest.mark.slow
def test_an_epoch_in_two_shards_trains_as_one_program():
    sharded_logs, sharded_weights, sharded_states = _sharded_epoch(2)
    logs, weights, states = _sharded_epoch(1)
    np.testing.assert_allclose(sharded_logs["loss"], logs["loss"], **TOLERANCE)
    _assert_close(states, sharded_states)
    _assert_close(weights, sharded_weights)


def test_the_stream_loop_refuses_shards_that_do_not_divide_the_streams():
    with pytest.raises(ValueError) as error:
        StreamLoop(lambda: None, streams=6, shards=4)  # type: ignore[arg-type]
    assert str(error.value) == "The 'shards' parameter of StreamLoop must be an int >= 1 that divides the 6 streams. Got 4 instead."


@pytest.mark.slow
def test_the_stream_trainer_shards_on_two_cores_and_follows_the_one_core_curve(cores):
    options = {"window": 16, "batch_size": 32, "units": 16, "embedding_dim": 8, "epochs": 3}
    cores(2)
    sharded = StreamTrainer(**options)
    _, sharded_history = sharded.fit(sample_text(), validation=0.1)
    cores(1)
    single = StreamTrainer(**options)
    _, single_history = single.fit(sample_text(), validation=0.1)
    assert (sharded.loop_.policy.shards, single.loop_.policy.shards) == (2, 1)
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose(
            getattr(sharded_history, key), getattr(single_history, key), rtol=CURVE_TOLERANCE, err_msg=key
        )


@pytest.mark.parametrize("rate", [0.5, 0.2])
@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "xla"])
def test_the_kernel_drops_out_what_keras_s_dropout_layer_drops(rate, jit_compile):
    """The kernel's dropout mask is Keras's, element for element, from the same seed state.

    Both keep where a uniform draw on the layer's seed is ``>= rate``; Keras's
    ``"auto_select"`` generator draws Philox's bits on a CPU, eagerly and under XLA
    (``benchmarks/dropout_masks.py``; under XLA the masks differ from the eager ones,
    but alike). One unit dropped differently would move the logits far beyond the
    tolerance; the kept values differ by float rounding (Keras multiplies by
    ``1 / (1 - rate)``, the kernel divides by ``1 - rate``).
    """
    keras.utils.set_random_seed(3)
    model = build_stream_model(ModelSpec(units=8, embedding_dim=4, dropout=rate), vocabulary_size=6)
    ids = tf.constant(np.random.default_rng(0).integers(1, 7, size=(4, 5)), tf.int32)
    inputs = [ids, tf.zeros((4, 8)), tf.zeros((4, 8))]

    def compiled(call):
        return tf.function(call, jit_compile=True) if jit_compile else call

    keras_way = compiled(lambda: model(inputs, training=True)[0])
    kernel_way = compiled(lambda: stream_forward(model, inputs, training=True)[0])
    generator = model.get_layer("dropout_1").seed_generator
    start = generator.state.numpy()
    expected = keras_way()
    generator.state.assign(start)
    actual = kernel_way()
    _assert_close([expected], [actual])
    assert not np.allclose(expected, model(inputs, training=False)[0]), "dropout changed nothing"


def test_the_policy_does_not_shard_a_network_with_dropout(cores):
    cores(2)
    assert choose_policy(units=64, batch_size=32, device="cpu", kernel=None, dropout=True).shards == 1
