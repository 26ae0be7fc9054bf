"""The device policy (``seqkit.engine.policy.choose_policy``): one decision per model and device.

Each test pins one behaviour: where XLA runs, where cuDNN runs, what masked input and
distribution change, and the exact one-line refusals. The last tests walk every
combination of device, masking, distribution, ``jit_compile`` and precision and check the
invariant the whole policy exists for: no policy hands cuDNN (``CudnnRNNV3``, which has
no XLA kernel) to an XLA-compiled step.

Pure Python: no test here trains anything (``device`` is always given, except in the one
test of :func:`visible_device`).
"""

from __future__ import annotations

import itertools
import json

import pytest

from seqkit.engine.policy import (
    CPU_GRAPH_MIN_WORK,
    CUDNN_MIN_WORK,
    PRECISIONS,
    UNROLL_MAX_STEPS,
    TF32_NOTE,
    DevicePolicy,
    choose_policy,
    network_masks,
    policy_for_network,
    visible_device,
)
from seqkit.errors import ConfigurationError

@pytest.fixture(autouse=True)
def tf32(request: pytest.FixtureRequest):
    """TF32 execution off unless a test asks for ``tf32_on``: the exact GPU reasons below are those
    of a GPU without TF32 (TensorFlow's default turns it on; its own tests are at the end)."""
    import tensorflow as tf

    was = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution("tf32_on" in request.fixturenames)
    yield
    tf.config.experimental.enable_tensor_float_32_execution(was)


@pytest.fixture
def tf32_on() -> None:
    """TensorFlow's TF32 execution on (as by default), for the tests of TF32 itself."""


SMALL = {"units": 32, "batch_size": 1}  # the tutorial's alphabet LSTM: launch overhead only
LARGE = {"units": 512, "batch_size": 128}  # 65,536 >= CUDNN_MIN_WORK: enough work for cuDNN


def test_constants() -> None:
    assert PRECISIONS == ("float32", "mixed_float16", "mixed_bfloat16")
    assert isinstance(CUDNN_MIN_WORK, int) and CUDNN_MIN_WORK > 1
    assert SMALL["units"] * SMALL["batch_size"] < CUDNN_MIN_WORK <= LARGE["units"] * LARGE["batch_size"]


# The CPU --------------------------------------------------------------------------------
def test_cpu_default_is_xla_without_cudnn() -> None:
    policy = choose_policy(**SMALL, device="cpu")
    assert policy == DevicePolicy("cpu", True, False, "float32", "CPU: XLA-compiled steps")


def test_cpu_large_steps_train_in_a_graph() -> None:
    policy = choose_policy(**LARGE, device="cpu")
    assert policy == DevicePolicy(
        "cpu", False, False, "float32", f"CPU, batch x units = 65536 >= {CPU_GRAPH_MIN_WORK}: a graph (oneDNN matmuls)"
    )


def test_cpu_steps_below_the_graph_threshold_take_xla() -> None:
    assert choose_policy(units=CPU_GRAPH_MIN_WORK - 1, batch_size=1, device="cpu").jit_compile


def test_cpu_jit_off_is_a_plain_graph_without_cudnn() -> None:
    policy = choose_policy(**SMALL, device="cpu", jit_compile=False)
    assert policy == DevicePolicy("cpu", False, False, "float32", "XLA turned off (jit_compile=False)")


def test_cpu_jit_on_is_xla_without_cudnn() -> None:
    policy = choose_policy(**SMALL, device="cpu", jit_compile=True)
    assert policy == DevicePolicy("cpu", True, False, "float32", "XLA asked for (jit_compile=True); cuDNN off")


def test_cpu_masked_is_xla_as_unmasked() -> None:
    assert choose_policy(**SMALL, device="cpu", masked=True) == choose_policy(**SMALL, device="cpu")


# A GPU ----------------------------------------------------------------------------------
def test_gpu_small_model_is_xla_without_cudnn() -> None:
    policy = choose_policy(**SMALL, device="gpu")
    assert (policy.jit_compile, policy.use_cudnn) == (True, False)
    assert policy.reason == f"GPU, batch x units = 32 < {CUDNN_MIN_WORK}: XLA without cuDNN"


def test_gpu_large_model_is_cudnn_in_a_graph() -> None:
    policy = choose_policy(**LARGE, device="gpu")
    assert (policy.jit_compile, policy.use_cudnn) == (False, "auto")
    assert policy.reason == f"GPU, batch x units = 65536 >= {CUDNN_MIN_WORK}: cuDNN kernels in a graph"


def test_gpu_threshold_is_batch_times_units() -> None:
    at = choose_policy(units=CUDNN_MIN_WORK, batch_size=1, device="gpu")
    below = choose_policy(units=CUDNN_MIN_WORK - 1, batch_size=1, device="gpu")
    swapped = choose_policy(units=1, batch_size=CUDNN_MIN_WORK, device="gpu")
    assert (at.jit_compile, at.use_cudnn) == (False, "auto")
    assert (below.jit_compile, below.use_cudnn) == (True, False)
    assert (swapped.jit_compile, swapped.use_cudnn) == (False, "auto")


def test_gpu_jit_off_gives_cudnn_at_any_size() -> None:
    policy = choose_policy(**SMALL, device="gpu", jit_compile=False)
    assert policy == DevicePolicy("gpu", False, "auto", "float32", "XLA turned off (jit_compile=False)")


def test_gpu_jit_on_turns_cudnn_off_at_any_size() -> None:
    policy = choose_policy(**LARGE, device="gpu", jit_compile=True)
    assert policy == DevicePolicy("gpu", True, False, "float32", "XLA asked for (jit_compile=True); cuDNN off")


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
def test_gpu_masked_input_never_gets_cudnn(size: dict[str, int]) -> None:
    policy = choose_policy(**size, device="gpu", masked=True)
    assert policy == DevicePolicy(
        "gpu", True, False, "float32",
        "GPU with left-padded masks: cuDNN takes right-padded masks only, so no cuDNN",
    )


def test_gpu_masked_with_jit_off_is_a_plain_graph() -> None:
    policy = choose_policy(**LARGE, device="gpu", masked=True, jit_compile=False)
    assert (policy.jit_compile, policy.use_cudnn) == (False, False)


# Distribution ---------------------------------------------------------------------------
def test_distributed_on_cpu_is_a_graph() -> None:
    policy = choose_policy(**SMALL, device="cpu", distributed=True)
    assert policy == DevicePolicy(
        "cpu", False, False, "float32", "distributed steps run as a graph (no XLA in strategy.run)", distributed=True
    )


def test_distributed_on_gpu_uses_cudnn() -> None:
    policy = choose_policy(**SMALL, device="gpu", distributed=True)
    assert (policy.jit_compile, policy.use_cudnn) == (False, "auto")


def test_distributed_masked_on_gpu_has_no_cudnn() -> None:
    policy = choose_policy(**LARGE, device="gpu", distributed=True, masked=True)
    assert (policy.jit_compile, policy.use_cudnn) == (False, False)


def test_distributed_jit_off_is_accepted() -> None:
    assert choose_policy(**SMALL, device="cpu", distributed=True, jit_compile=False).jit_compile is False


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_distributed_with_xla_is_refused_in_one_line(device: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        choose_policy(**SMALL, device=device, distributed=True, jit_compile=True, owner="StreamTrainer")
    assert str(raised.value) == (
        "StreamTrainer cannot compile distributed steps with XLA (jit_compile=True): XLA inside "
        "tf.distribute's strategy.run fails on CPU devices. Leave jit_compile=None or set it to False."
    )


# Precision ------------------------------------------------------------------------------
@pytest.mark.parametrize("precision", PRECISIONS)
def test_precision_is_recorded_on_gpu(precision: str) -> None:
    assert choose_policy(**SMALL, device="gpu", precision=precision).precision == precision


def test_mixed_bfloat16_is_accepted_on_cpu() -> None:
    policy = choose_policy(**SMALL, device="cpu", precision="mixed_bfloat16")
    assert (policy.precision, policy.jit_compile, policy.use_cudnn) == ("mixed_bfloat16", True, False)


def test_precision_does_not_change_the_kernels() -> None:
    for device, size in itertools.product(("cpu", "gpu"), (SMALL, LARGE)):
        float32 = choose_policy(**size, device=device)
        bfloat16 = choose_policy(**size, device=device, precision="mixed_bfloat16")
        assert (bfloat16.jit_compile, bfloat16.use_cudnn) == (float32.jit_compile, float32.use_cudnn)


def test_mixed_float16_on_cpu_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigurationError) as raised:
        choose_policy(**SMALL, device="cpu", precision="mixed_float16", owner="StatelessTrainer")
    assert str(raised.value) == (
        "StatelessTrainer cannot train in mixed_float16 on a CPU (no float16 kernels there, and "
        "TensorFlow sees no GPU). Use precision='mixed_bfloat16' or 'float32'."
    )


@pytest.mark.parametrize("precision", ["float16", "bfloat16", "mixed_float32", "", None])
def test_unknown_precision_is_refused(precision: object) -> None:
    with pytest.raises(ConfigurationError) as raised:
        choose_policy(**SMALL, device="gpu", precision=precision, owner="StatefulTrainer")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "The 'precision' parameter of StatefulTrainer must be 'auto', 'float32', 'mixed_float16' or "
        f"'mixed_bfloat16'. Got {precision!r} instead."
    )


# The override's type --------------------------------------------------------------------
@pytest.mark.parametrize("jit_compile", ["auto", "on", 1, 0, 1.0])
def test_non_bool_jit_compile_is_refused(jit_compile: object) -> None:
    with pytest.raises(ConfigurationError) as raised:
        choose_policy(**SMALL, device="cpu", jit_compile=jit_compile, owner="InBatchTrainer")  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"The 'jit_compile' parameter of InBatchTrainer must be None, True or False. Got {jit_compile!r} instead."
    )


def test_owner_defaults_to_trainer() -> None:
    with pytest.raises(ConfigurationError, match=r"^Trainer cannot train in mixed_float16 on a CPU"):
        choose_policy(**SMALL, device="cpu", precision="mixed_float16")


# The policy object ----------------------------------------------------------------------
def test_policy_refuses_xla_with_cudnn() -> None:
    with pytest.raises(ConfigurationError) as raised:
        DevicePolicy("gpu", True, "auto", "float32", "wrong")
    assert str(raised.value) == (
        "A device policy cannot combine XLA (jit_compile=True) with cuDNN kernels: "
        "CudnnRNNV3 has no XLA implementation. Use jit_compile=False for cuDNN."
    )


def test_policy_config_is_json_ready() -> None:
    config = choose_policy(**LARGE, device="gpu", precision="mixed_float16").get_config()
    assert config == {
        "device": "gpu",
        "jit_compile": False,
        "use_cudnn": "auto",
        "precision": "mixed_float16",
        "reason": f"GPU, batch x units = 65536 >= {CUDNN_MIN_WORK}: cuDNN kernels in a graph",
        "kernel": False,
        "shards": 1,
        "unroll": False,
        "distributed": False,
        "backend": "tensorflow",
        "tf32": False,
    }
    assert json.loads(json.dumps(config)) == config
    assert DevicePolicy(**config) == choose_policy(**LARGE, device="gpu", precision="mixed_float16")


def test_policy_is_frozen() -> None:
    policy = choose_policy(**SMALL, device="cpu")
    with pytest.raises(AttributeError):
        policy.jit_compile = False  # type: ignore[misc]


def test_device_defaults_to_what_tensorflow_sees() -> None:
    device = visible_device()
    assert device in ("cpu", "gpu")
    assert choose_policy(**SMALL) == choose_policy(**SMALL, device=device)


# The invariant, over every combination --------------------------------------------------
COMBINATIONS = list(
    itertools.product(("cpu", "gpu"), (False, True), (False, True), (None, True, False), PRECISIONS, ("small", "large"))
)


def _refusal(device: str, distributed: bool, jit_compile: bool | None, precision: str) -> str | None:
    """The start of the one-line refusal this combination must get, or None if it must run."""
    if precision == "mixed_float16" and device == "cpu":
        return "Trainer cannot train in mixed_float16 on a CPU"
    if distributed and jit_compile is True:
        return "Trainer cannot compile distributed steps with XLA (jit_compile=True)"
    return None


@pytest.mark.parametrize(
    "device, masked, distributed, jit_compile, precision, size",
    COMBINATIONS,
    ids=[
        f"{d}-{'masked' if m else 'plain'}-{'dist' if s else 'one'}-jit{j}-{p}-{z}"
        for d, m, s, j, p, z in COMBINATIONS
    ],
)
def test_no_policy_combines_xla_with_cudnn(
    device: str, masked: bool, distributed: bool, jit_compile: bool | None, precision: str, size: str
) -> None:
    shape = SMALL if size == "small" else LARGE
    arguments = dict(
        device=device, masked=masked, distributed=distributed, jit_compile=jit_compile, precision=precision
    )
    refusal = _refusal(device, distributed, jit_compile, precision)
    if refusal is not None:
        with pytest.raises(ConfigurationError) as raised:
            choose_policy(**shape, **arguments)  # type: ignore[arg-type]
        message = str(raised.value)
        assert message.startswith(refusal) and "\n" not in message
        return
    policy = choose_policy(**shape, **arguments)  # type: ignore[arg-type]
    assert not (policy.jit_compile and policy.use_cudnn)  # the invariant
    assert policy.use_cudnn in (False, "auto")
    assert (policy.device, policy.precision) == (device, precision)
    assert policy.reason and "\n" not in policy.reason
    if jit_compile is not None:
        assert policy.jit_compile is jit_compile  # the user's override is obeyed
    if device == "cpu" or masked:
        assert policy.use_cudnn is False  # no cuDNN kernel on a CPU; left-padded masks never go to cuDNN
    if distributed:
        assert policy.jit_compile is False
    if device == "gpu" and not masked and jit_compile is False:
        assert policy.use_cudnn == "auto"  # XLA off on a GPU: cuDNN where the input allows it


def test_a_cpu_under_xla_unrolls_windows_of_up_to_three_steps() -> None:
    policy = choose_policy(units=32, batch_size=1, device="cpu", steps=UNROLL_MAX_STEPS)
    assert policy.unroll
    assert policy.reason == "CPU: XLA-compiled steps; the LSTM unrolled over its 3 steps"


def test_longer_windows_keep_the_lstm_loop() -> None:
    assert not choose_policy(units=32, batch_size=1, device="cpu", steps=UNROLL_MAX_STEPS + 1).unroll


def test_no_unrolling_without_xla() -> None:
    assert not choose_policy(units=32, batch_size=1, device="cpu", steps=1, jit_compile=False).unroll


def test_no_unrolling_on_a_gpu_where_it_was_not_measured() -> None:
    assert not choose_policy(units=32, batch_size=1, device="gpu", steps=1).unroll


def test_no_unrolling_when_the_step_count_is_unknown() -> None:
    assert not choose_policy(units=32, batch_size=1, device="cpu").unroll


# TF32 -----------------------------------------------------------------------------------
def test_a_gpu_with_tf32_on_records_it_and_says_so(tf32_on: None) -> None:
    policy = choose_policy(**LARGE, device="gpu")
    assert policy.tf32 is True
    assert policy.get_config()["tf32"] is True
    assert policy.reason == f"GPU, batch x units = 65536 >= {CUDNN_MIN_WORK}: cuDNN kernels in a graph{TF32_NOTE}"
    assert TF32_NOTE == "; float32 matmuls in TF32"


def test_a_gpu_with_tf32_off_records_exact_float32() -> None:
    policy = choose_policy(**LARGE, device="gpu")
    assert policy.tf32 is False
    assert TF32_NOTE not in policy.reason


def test_a_cpu_never_has_tf32(tf32_on: None) -> None:
    for size in (SMALL, LARGE):
        policy = choose_policy(**size, device="cpu")
        assert policy.tf32 is False and TF32_NOTE not in policy.reason


# Masking read from the network ----------------------------------------------------------
def _lstm_network(*, masking: bool = False, mask_zero: bool | None = None):
    import keras

    if mask_zero is not None:
        layers = [keras.Input((3,), dtype="int32"), keras.layers.Embedding(5, 2, mask_zero=mask_zero)]
    else:
        layers = [keras.Input((3, 1)), *([keras.layers.Masking(0.0)] if masking else [])]
    return keras.Sequential([*layers, keras.layers.LSTM(4), keras.layers.Dense(2)])


def test_network_masks_finds_a_masking_layer_or_an_embedding_with_mask_zero() -> None:
    assert network_masks(_lstm_network(masking=True)) is True
    assert network_masks(_lstm_network(mask_zero=True)) is True
    assert network_masks(_lstm_network(mask_zero=False)) is False
    assert network_masks(_lstm_network()) is False


def test_network_masks_looks_inside_nested_models() -> None:
    import keras

    inner = _lstm_network(masking=True)
    outer = keras.Sequential([keras.Input((3, 1)), inner])
    assert network_masks(outer) is True


def test_choose_policy_reads_masking_from_the_network() -> None:
    policy = choose_policy(**LARGE, device="gpu", network=_lstm_network(masking=True))
    assert policy == choose_policy(**LARGE, device="gpu", masked=True)
    assert choose_policy(**LARGE, device="gpu", network=_lstm_network()).use_cudnn == "auto"


def test_a_cudnn_policy_meets_a_masking_network_without_cudnn() -> None:
    network = _lstm_network(mask_zero=True)
    policy = policy_for_network(choose_policy(**LARGE, device="gpu"), network)
    assert policy.use_cudnn is False and policy.jit_compile is False
    assert policy.reason.endswith("; the network masks its input (Masking or Embedding(mask_zero=True)), so no cuDNN")
    assert [layer.use_cudnn for layer in network.layers if hasattr(layer, "use_cudnn")] == [False]


def test_a_policy_without_cudnn_or_a_network_without_masks_is_kept() -> None:
    cudnn = choose_policy(**LARGE, device="gpu")
    network = _lstm_network()
    assert policy_for_network(cudnn, network) is cudnn
    assert network.layers[-2].use_cudnn == "auto"
    xla = choose_policy(**SMALL, device="gpu")
    assert policy_for_network(xla, _lstm_network(masking=True)) is xla


def test_the_driver_trains_a_masking_network_without_cudnn_under_a_cudnn_policy() -> None:
    from seqkit.engine.loops import TrainingLoop

    network = _lstm_network(masking=True)
    loop = TrainingLoop(network, policy=choose_policy(**LARGE, device="gpu"))
    assert loop.policy.use_cudnn is False
    assert network.layers[-2].use_cudnn is False
