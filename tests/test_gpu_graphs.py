"""The GPU path's graphs, checked on a CPU (issue 23): which kernels each policy compiles in.

Keras's GPU check is forced on (``keras.src.backend.tensorflow.rnn._is_gpu_available``, as in
``tests/device_policy_worker.py``) and seqkit's policy is told the device is a GPU, so every
trainer builds its network and traces its compiled training loop exactly as on a GPU
machine. Nothing here runs those graphs (cuDNN has no CPU kernel): the tests read the ops
from the traced concrete function (its graph and its function library), not from the
recorded policy.

- **ops**: ``CudnnRNNV3`` is in the graph where the policy chose cuDNN, and in no function
  compiled with XLA, nor anywhere the policy chose no cuDNN (XLA, seqkit's kernel, masks);
- **host memory**: inside the loop bodies of the cuDNN path no op reads, from host memory,
  a tensor that a GPU kernel left in device memory (TensorFlow keeps int32 arithmetic in
  host memory on a GPU: each such op is a copy to the host and back per step). Asked of
  TensorFlow's kernel registry, not guessed;
- **mixed precision** on a CPU (bfloat16, and the loss scaling of ``mixed_float16``);
- the **device query** leaves TensorFlow's runtime unstarted.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqkit._quiet import quiet_import  # noqa: E402

quiet_import()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import kernels, op_def_registry  # noqa: E402

CUDNN = "CudnnRNNV3"
TINY = {"units": 8, "epochs": 1}


@pytest.fixture
def forced_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keras builds its LSTMs for cuDNN, and seqkit's policy decides for a GPU."""
    import seqkit.engine.policy as policy

    monkeypatch.setattr(sys.modules["keras.src.backend.tensorflow.rnn"], "_is_gpu_available", lambda: True)
    monkeypatch.setattr(policy, "visible_device", lambda: "gpu")


def make(name: str, **extra: Any) -> Any:
    from seqkit.trainers import InBatchTrainer, RandomWindows, StatefulTrainer, StatelessTrainer, StreamTrainer

    return {
        "stateless": lambda: StatelessTrainer(window=3, **TINY, **extra),
        "in-batch": lambda: InBatchTrainer(**TINY, **extra),
        "stateful": lambda: StatefulTrainer(**TINY, **extra),
        "stream": lambda: StreamTrainer(window=4, batch_size=2, embedding_dim=4, **TINY, **extra),
        "variable-length": lambda: StatelessTrainer(window=RandomWindows(count=50, max_length=4), **TINY, **extra),
    }[name]()


def traced(trainer: Any) -> tuple[Any, Any]:
    """``(policy, GraphDef)`` of the trainer's compiled training loop, traced (not run) on the alphabet."""
    from seqkit import alphabet

    trainer._validate()
    trainer.init_from_ = None
    with contextlib.ExitStack() as scope:
        run = trainer._prepare(alphabet(), None, None, scope)
        driver, feed = run.driver, run.feed
        table, _ = feed.call_table(driver, 0, 1, 0, None)
        function = driver._compiled(feed, True)
        concrete = function.get_concrete_function(driver._data(feed), table, tf.constant(1, tf.int32))
        outer_xla = concrete.function_def.attr["_XlaMustCompile"].b
        return driver.policy, (concrete.graph.as_graph_def(), outer_xla)


def _called(node: Any) -> list[str]:
    """The library functions a node calls (a call's ``f``, a loop's ``body`` and ``cond``, branches)."""
    names = []
    for value in node.attr.values():
        if value.HasField("func"):
            names.append(value.func.name)
        names += [function.name for function in value.list.func]
    return names


def functions(traced_graph: tuple[Any, bool]) -> Iterator[tuple[str, list[Any], bool]]:
    """``(name, nodes, compiled with XLA)`` for the top graph and every function it reaches."""
    graph_def, outer_xla = traced_graph
    library = {function.signature.name: function for function in graph_def.library.function}
    pending = [("<top>", list(graph_def.node), bool(outer_xla))]
    seen: set[tuple[str, bool]] = set()
    while pending:
        name, nodes, xla = pending.pop()
        if (name, xla) in seen:
            continue
        seen.add((name, xla))
        yield name, nodes, xla
        for node in nodes:
            inner_xla = xla or ("_XlaMustCompile" in node.attr and node.attr["_XlaMustCompile"].b)
            for called in _called(node):
                if called in library:
                    function = library[called]
                    compiled = inner_xla or ("_XlaMustCompile" in function.attr and function.attr["_XlaMustCompile"].b)
                    pending.append((called, list(function.node_def), compiled))


def ops_of(traced_graph: tuple[Any, bool], *, xla: bool | None = None) -> set[str]:
    """The op types of the traced loop (of its XLA-compiled functions only, or of the others only)."""
    return {node.op for _, nodes, compiled in functions(traced_graph) if xla is None or compiled == xla for node in nodes}


# Which kernels each policy compiles in ---------------------------------------------------
CASES = [
    # (trainer, arguments, cuDNN chosen, XLA chosen)
    ("stateless", {}, False, True),  # a tiny model on a GPU: XLA without cuDNN
    ("stream", {"kernel": False}, False, True),
    ("stateless", {"jit_compile": False}, True, False),  # cuDNN in a plain graph
    ("in-batch", {"jit_compile": False}, True, False),
    ("stateful", {"jit_compile": False}, True, False),
    ("stream", {"jit_compile": False, "kernel": False}, True, False),
    ("stream", {"kernel": True}, False, True),  # seqkit's kernel under XLA
    ("variable-length", {}, False, True),  # masked input: never cuDNN
    ("variable-length", {"jit_compile": False}, False, False),
]


@pytest.mark.parametrize(
    "name, extra, cudnn, xla", CASES, ids=[f"{name}-{'-'.join(f'{k}={v}' for k, v in extra.items()) or 'default'}"
                                           for name, extra, *_ in CASES],
)
def test_the_graph_holds_cudnn_exactly_where_the_policy_chose_it(
    forced_gpu: None, name: str, extra: dict[str, Any], cudnn: bool, xla: bool
) -> None:
    policy, graph = traced(make(name, **extra))
    assert (policy.use_cudnn == "auto", policy.jit_compile) == (cudnn, xla)
    assert (CUDNN in ops_of(graph)) is cudnn
    assert CUDNN not in ops_of(graph, xla=True), "cuDNN inside an XLA-compiled function"
    assert bool(ops_of(graph, xla=True)) is xla, "the XLA policy compiles its steps with XLA, the others do not"


def test_seqkits_kernel_replaces_the_keras_lstm_loop(forced_gpu: None) -> None:
    policy, graph = traced(make("stream", kernel=True))
    assert policy.kernel is True
    assert not {op for op in ops_of(graph) if op.startswith("CudnnRNN")}


def test_a_masking_network_never_gets_cudnn_even_under_a_cudnn_policy(forced_gpu: None) -> None:
    """The mask is read from the network: a hand-built masking network, a GPU cuDNN policy."""
    from seqkit.engine.loops import TrainingLoop
    from seqkit.engine.plans import shuffled_plan
    from seqkit.engine.policy import choose_policy

    network = keras.Sequential([
        keras.Input((4,), dtype="int32"), keras.layers.Embedding(6, 3, mask_zero=True), keras.layers.LSTM(8),
        keras.layers.Dense(5, activation="softmax"),
    ])
    loop = TrainingLoop(network, policy=choose_policy(units=512, batch_size=128, device="gpu"))
    feed = loop.feed(np.ones((6, 4), "int32"), np.arange(6) % 5, lambda epoch: shuffled_plan(6, 3, seed=0, epoch=epoch))
    table, _ = feed.call_table(loop, 0, 1, 0, None)
    concrete = loop._compiled(feed, True).get_concrete_function(loop._data(feed), table, tf.constant(1))
    assert loop.policy.use_cudnn is False
    assert CUDNN not in ops_of((concrete.graph.as_graph_def(), False))


# Host memory inside the loop -------------------------------------------------------------
_KERNELS: dict[str, list[Any]] = {}


def gpu_kernel(node: Any) -> Any | None:
    """The GPU kernel TensorFlow's registry holds for the node's types, or None (the op runs on the CPU)."""
    if node.op not in _KERNELS:
        try:
            registered = kernels.get_registered_kernels_for_op(node.op).kernel
        except Exception:  # noqa: BLE001 - a function call, not an op
            registered = []
        _KERNELS[node.op] = [kernel for kernel in registered if kernel.device_type == "GPU" and not kernel.label]
    for kernel in _KERNELS[node.op]:
        if all(c.name in node.attr and node.attr[c.name].type in c.allowed_values.list.type for c in kernel.constraint):
            return kernel
    return None


def input_args(node: Any) -> list[str] | None:
    """The name of the op's argument each data input of ``node`` feeds, or None for a function call."""
    op = op_def_registry.get(node.op)
    if op is None:
        return None
    names = []
    for arg in op.input_arg:
        if arg.number_attr:
            count = node.attr[arg.number_attr].i
        elif arg.type_list_attr:
            count = len(node.attr[arg.type_list_attr].list.type)
        else:
            count = 1
        names += [arg.name] * count
    return names


def output_arg(producer: Any, output: list[str]) -> str:
    """The producer's output argument an input names: ``op:arg:i`` in a function, ``op`` or ``op:i`` in a graph."""
    if output and not output[0].isdigit():
        return output[0]
    index = int(output[0]) if output else 0
    return op_def_registry.get(producer.op).output_arg[min(index, len(op_def_registry.get(producer.op).output_arg) - 1)].name


def host_round_trips(nodes: list[Any]) -> list[str]:
    """Each input that a GPU kernel reads from host memory while its producer's GPU kernel wrote it to
    device memory: ``"op name (input arg) <- producer op name"``. Function arguments are not judged."""
    by_name = {node.name: node for node in nodes}
    found = []
    for node in nodes:
        kernel, args = gpu_kernel(node), input_args(node)
        if kernel is None or args is None:
            continue
        host = set(kernel.host_memory_arg)
        for arg, source in zip(args, [name for name in node.input if not name.startswith("^")]):
            producer_name, *output = source.split(":")
            producer = by_name.get(producer_name)
            if arg not in host or producer is None:
                continue
            producer_kernel = gpu_kernel(producer)
            if producer_kernel is not None and output_arg(producer, output) not in producer_kernel.host_memory_arg:
                found.append(f"{node.op} {node.name} ({arg}) <- {producer.op} {producer.name}")
    return found


KERAS_EMBEDDING = ("embedding",)
"""Keras's own ``Embedding`` (``ops.take``) fixes negative ids with int32 ``Less``/``AddV2`` and reshapes
their gradient's indices in int32: Keras code, the same under ``model.fit``, left out of the audit."""


def loop_bodies(graph: tuple[Any, bool]) -> list[tuple[str, list[Any]]]:
    """The while-loop bodies of the traced loop (and what they call), outside XLA."""
    return [(name, nodes) for name, nodes, xla in functions(graph) if name != "<top>" and not xla and "cond" not in name]


def test_the_audit_finds_a_round_trip_of_int32_arithmetic() -> None:
    """The audit's own check: the old stream step, ``window[:, :-1] + 1`` on a gathered window."""

    @tf.function
    def old_batch(ids: tf.Tensor, starts: tf.Tensor) -> tf.Tensor:
        window = tf.gather(ids, tf.expand_dims(starts, -1) + tf.range(5))
        return window[:, :-1] + 1

    graph = old_batch.get_concrete_function(tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32)).graph
    trips = host_round_trips(list(graph.as_graph_def().node))
    assert len(trips) == 1 and trips[0].startswith("StridedSlice ") and trips[0].endswith("<- GatherV2 GatherV2")


@pytest.mark.parametrize("name", ["stateless", "in-batch", "stateful", "stream", "variable-length"])
def test_no_loop_body_of_the_cudnn_path_copies_device_tensors_to_the_host(forced_gpu: None, name: str) -> None:
    extra = {"kernel": False} if name == "stream" else {}
    policy, graph = traced(make(name, jit_compile=False, **extra))
    assert policy.jit_compile is False
    bodies = loop_bodies(graph)
    assert bodies, "the loop should hold a while body"
    trips = [
        f"{function}: {trip}" for function, nodes in bodies for trip in host_round_trips(nodes)
        if not any(scope in trip.split()[1] for scope in KERAS_EMBEDDING)
    ]
    assert trips == []


# Mixed precision on a CPU ----------------------------------------------------------------
@pytest.fixture
def float32_after() -> Iterator[None]:
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_mixed_bfloat16_trains_end_to_end_on_a_cpu(float32_after: None) -> None:
    from seqkit import alphabet
    from seqkit.trainers import StatelessTrainer

    from seqkit.engine.policy import PrecisionWarning

    with pytest.warns(PrecisionWarning, match="trains through Keras's bfloat16 layers"):  # measured slower: said
        model, history = StatelessTrainer(window=3, units=8, epochs=2, precision="mixed_bfloat16").fit(alphabet())
    assert all(math.isfinite(loss) for loss in history.loss) and len(history.loss) == 2
    assert model.spec["policy"]["precision"] == "mixed_bfloat16"
    assert all(variable.dtype == "float32" for variable in model.network.trainable_variables)
    assert keras.mixed_precision.global_policy().name == "float32", "the precision does not leak"


def _classifier() -> keras.Model:
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((2, 1)), keras.layers.LSTM(4), keras.layers.Dense(3, activation="softmax")])


def test_loss_scaling_scales_the_loss_and_unscales_the_gradients() -> None:
    from seqkit.engine.loops import TrainingLoop
    from seqkit.engine.step import gradient_step

    inputs, targets, weights = tf.constant(np.linspace(0, 1, 8, dtype="float32").reshape(4, 2, 1)), tf.constant(
        [0, 1, 2, 1]
    ), tf.ones(4)
    plain, scaled = TrainingLoop(_classifier(), jit_compile=False), TrainingLoop(_classifier(), jit_compile=False, loss_scale=True)
    assert isinstance(scaled.optimizer, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(plain.optimizer, keras.optimizers.LossScaleOptimizer)
    scale = float(scaled.optimizer.dynamic_scale.numpy())
    assert scale == 2.0**15
    _, _, unscaled_gradients = gradient_step(plain.model, plain.optimizer, inputs, targets, weights)
    _, _, scaled_gradients = gradient_step(scaled.model, scaled.optimizer, inputs, targets, weights)
    for unscaled, scaled_gradient in zip(unscaled_gradients, scaled_gradients):
        np.testing.assert_allclose(scaled_gradient.numpy() / scale, unscaled.numpy(), rtol=1e-5, atol=1e-9)
    before = [variable.numpy().copy() for variable in scaled.model.trainable_variables]
    scaled.optimizer.apply(scaled_gradients, scaled.model.trainable_variables)  # unscaled inside, then Adam
    plain.optimizer.apply(unscaled_gradients, plain.model.trainable_variables)
    for after_scaled, after_plain, start in zip(scaled.model.trainable_variables, plain.model.trainable_variables, before):
        np.testing.assert_allclose(after_scaled.numpy(), after_plain.numpy(), rtol=1e-5, atol=1e-7)
        assert not np.array_equal(after_scaled.numpy(), start)


def test_a_step_with_infinite_gradients_is_skipped_and_the_scale_halves() -> None:
    from seqkit.engine.loops import TrainingLoop

    loop = TrainingLoop(_classifier(), jit_compile=False, loss_scale=True)
    variables = loop.model.trainable_variables
    before = [variable.numpy().copy() for variable in variables]
    scale = float(loop.optimizer.dynamic_scale.numpy())
    infinite = [tf.fill(tf.shape(variable), float("inf")) for variable in variables]
    loop.optimizer.apply(infinite, variables)
    assert float(loop.optimizer.dynamic_scale.numpy()) == scale / 2
    for variable, start in zip(variables, before):
        np.testing.assert_array_equal(variable.numpy(), start)


# The device query leaves the runtime unstarted -------------------------------------------
@pytest.mark.slow  # a fresh process (~6 s)
def test_choosing_a_policy_leaves_tensorflows_device_settings_open() -> None:
    """After ``import seqkit``, a trainer built and the device chosen by TensorFlow's view, a program
    may still hide GPUs and set memory growth (both refused once TensorFlow's runtime has started)."""
    script = textwrap.dedent(
        """
        import seqkit
        from seqkit.engine.policy import choose_policy
        from seqkit.trainers import StatelessTrainer
        import tensorflow as tf

        StatelessTrainer(units=8)
        choose_policy(units=8, batch_size=1)
        from tensorflow.python.eager import context

        assert not context.context()._initialized, "the runtime has started"
        for gpu in tf.config.list_physical_devices("GPU"):
            tf.config.experimental.set_memory_growth(gpu, True)
        tf.config.set_visible_devices([], "GPU")
        tf.config.threading.set_intra_op_parallelism_threads(2)  # refused once the runtime runs
        print("settings accepted")
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("settings accepted")


@pytest.mark.slow  # the check of the check above, in a second fresh process (~6 s)
def test_the_proxy_fails_once_the_runtime_has_started() -> None:
    """What the test above guards against: the old query (logical devices) starts the runtime."""
    script = (
        "import tensorflow as tf\ntf.config.list_logical_devices('GPU')\n"
        "try:\n    tf.config.threading.set_intra_op_parallelism_threads(2)\n"
        "except RuntimeError as error:\n    print('refused:', error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert "refused: Intra op parallelism cannot be modified after initialization." in done.stdout
