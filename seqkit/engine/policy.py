"""The device policy: XLA, cuDNN and precision, decided in one place per model and device.

Keras's LSTM on the TensorFlow backend takes its cuDNN kernel (``CudnnRNNV3``) whenever
a GPU is visible and the layer's arguments allow it, and that kernel has no XLA
implementation: handing it to a ``jit_compile=True`` function fails with *"Detected
unsupported operations when trying to compile graph ... CudnnRNNV3"*. Keras's own
``fit`` avoids it by turning XLA off for such a layer. seqkit decides explicitly, here,
and the rest of the code only reads the :class:`DevicePolicy`:

- **one invariant**: XLA is never combined with cuDNN. A policy with ``jit_compile``
  builds its LSTMs with ``use_cudnn=False``;
- on a **CPU**: XLA for small steps (seqkit's compiled loop runs its tiny LSTMs 3-10x
  faster per step than the plain graph), a plain graph from ``batch x units`` =
  :data:`CPU_GRAPH_MIN_WORK` on, where oneDNN's matmuls beat XLA's; ``use_cudnn=False``;
  under XLA, windows of up to :data:`UNROLL_MAX_STEPS` time steps train with the LSTM
  unrolled (``unroll=True``);
- **seqkit's LSTM kernel** (:mod:`seqkit.engine.kernel`, stream training) in float32
  under XLA, where it was measured 2x faster per step than Keras's layers; not in a
  plain graph, where it was slower. On a CPU with several cores the streams are split
  into :func:`cpu_shards` shards, one compiled program each, run at once; with shards the
  kernel under XLA beats the plain graph at every size measured, so the size rule above
  does not apply to it;
- on a **GPU**: either cuDNN kernels inside a plain graph, or XLA without cuDNN, by the
  size of a step (``batch x units`` against :data:`CUDNN_MIN_WORK`): cuDNN for big steps,
  XLA for the tutorial's tiny models, whose steps are all kernel-launch overhead that XLA
  fuses away. The threshold was measured on an H200 through seqkit's XLA programs replayed
  with jaxlib (no TensorFlow runs there): ``benchmarks/gpu_replay.py``, ``benchmarks/RESULTS.md``;
- **masked (padded) input** never goes to cuDNN: seqkit pads in front, as the tutorial
  does, and cuDNN accepts right-padded masks only;
- **bfloat16 on a CPU** (``precision="auto"``, :func:`resolve_precision`): seqkit's LSTM kernel
  computes its matmuls (input projection, recurrence, output layer) in bfloat16 with float32
  weights, gate arithmetic and loss, on CPUs with AMX (:mod:`seqkit.engine.cpu_features`) from
  ``batch x units`` = :data:`BFLOAT16_MIN_WORK` on; everywhere else float32. bfloat16 asked
  for through Keras's layers (where the kernel does not run), measured slower, gets one line
  of warning (:func:`precision_warning`);
- **TF32**: on Ampere and later GPUs TensorFlow runs float32 matmuls and cuDNN in TF32
  (10-bit mantissas) unless ``tf.config.experimental.enable_tensor_float_32_execution(False)``;
  a GPU policy records whether it is on (:attr:`DevicePolicy.tf32`) and says so in its reason;
- under a **distributing strategy** no XLA (XLA inside ``strategy.run`` fails on CPU
  devices) and, on GPUs, cuDNN.

The user overrides XLA with ``jit_compile=True/False``; a combination that cannot run
is refused with one line naming the way out.

>>> policy = choose_policy(units=32, batch_size=1, device="cpu")
>>> policy.jit_compile, policy.use_cudnn
(True, False)
>>> choose_policy(units=512, batch_size=128, device="gpu").use_cudnn
'auto'
>>> choose_policy(units=32, batch_size=1, device="gpu", masked=True).jit_compile
True
>>> choose_policy(units=32, batch_size=1, device="cpu").tf32
False
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from seqkit.engine.cpu_features import CpuFeatures, cpu_features
from seqkit.errors import ConfigurationError, parameter_error

__all__ = [
    "BFLOAT16_MIN_WORK",
    "CPU_GRAPH_MIN_WORK",
    "CUDNN_MIN_WORK",
    "MIN_SHARD_STREAMS",
    "UNROLL_MAX_STEPS",
    "PRECISIONS",
    "PRECISION_CHOICES",
    "DevicePolicy",
    "PrecisionWarning",
    "choose_policy",
    "cpu_shards",
    "network_masks",
    "policy_for_network",
    "precision_warning",
    "prediction_use_cudnn",
    "resolve_precision",
    "tf32_enabled",
    "visible_device",
]

PRECISIONS: tuple[str, ...] = ("float32", "mixed_float16", "mixed_bfloat16")
"""Precisions a policy trains in: float32, or mixed precision (float32 weights and loss)."""

PRECISION_CHOICES: tuple[str, ...] = ("auto", *PRECISIONS)
"""What a trainer's ``precision=`` takes: one of :data:`PRECISIONS`, or ``"auto"`` (:func:`resolve_precision`)."""

BFLOAT16_MIN_WORK = 128 * 256
"""``batch_size * units`` from which ``precision="auto"`` trains in bfloat16 on a CPU with AMX.
The one size where bfloat16 was measured faster on an AMX CPU is LSTM 256 x 128 streams
(issue 25: PyTorch's bf16 autocast 1.9x its float32 there, on 2 Sapphire Rapids cores), and
it was not faster at 64 x 32 (Keras's ``mixed_bfloat16`` 5.6x slower than float32; PyTorch's
autocast level with float32): the threshold is the size where it won, since nothing between
the two was measured. seqkit's own bfloat16 kernel has not yet run on an AMX CPU
(``benchmarks/RESULTS.md``, "bfloat16 on a CPU")."""


class PrecisionWarning(UserWarning):
    """A precision asked for where it was measured slower than float32 (:func:`precision_warning`)."""

CPU_GRAPH_MIN_WORK = 64 * 128
"""``batch_size * units`` from which a CPU trains in a plain graph rather than under XLA.
Measured on this project's 2-core AVX-512 CPU (``benchmarks/RESULTS.md``, stream model,
64-step segments, ms per step): at 32 x 64, XLA with seqkit's kernel 5.0 against 10.5 in
a graph; at 64 x 128 the two tie (29 against 30); at 128 x 128 the graph's oneDNN matmuls
win (46 against 60), and at 128 x 256 (118 against 159)."""

CUDNN_MIN_WORK = 128 * 512
"""``batch_size * units`` from which cuDNN is chosen over XLA on a GPU. Measured on an NVIDIA
H200 (``benchmarks/RESULTS.md``, "GPU"), where no TensorFlow runs: seqkit's XLA programs,
exported as HLO and replayed with jaxlib, trained the stream model at 1.04 ms a step at
32 x 64 and 1.69 at 128 x 256 (TF32), faster than any cuDNN LSTM measured on the same card
at 128 x 256 (Keras-on-JAX 2.1-2.8 ms, PyTorch 4.2-5.6); at 256 x 1024 cuDNN won (5.4 ms
against 8.9 for XLA's scan). The threshold is the next power of two above the largest size
where XLA won; TensorFlow's own cuDNN path is still unmeasured."""

MIN_SHARD_STREAMS = 16
"""The fewest streams a shard of the kernel's step computes (:func:`cpu_shards`): the smallest
shard measured (on this project's 2 cores, 16 streams per shard at LSTM 64 and 64 at LSTM
256 were both faster than one program). Smaller shards are unmeasured, so not taken."""

UNROLL_MAX_STEPS = 3
"""The most time steps per sample for which a CPU under XLA unrolls the LSTM (Keras's
``unroll=True``: the steps written out instead of a ``while`` loop). Measured on this
project's 2 cores (``benchmarks/RESULTS.md``): the tutorial's alphabet experiments (1 and 3
steps) trained 20-35% faster unrolled, compilation included; at 64 steps unrolling was 4x
slower."""

Device = Literal["cpu", "gpu"]


@dataclass(frozen=True)
class DevicePolicy:
    """How a model trains on a device.

    Attributes:
        device: ``"cpu"`` or ``"gpu"``.
        jit_compile: compile the training steps with XLA.
        use_cudnn: passed to ``keras.layers.LSTM(use_cudnn=...)``: False, or ``"auto"``
            (Keras picks cuDNN where the arguments allow it). Never ``"auto"`` with XLA.
        precision: ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``.
        reason: one sentence on why, for ``seqkit info`` and the training record.
        kernel: training runs seqkit's own LSTM kernel (:mod:`seqkit.engine.kernel`)
            rather than the Keras layers' computation. Defaults to False.
        shards: the streams of a step are computed as this many slices at once, one
            compiled program each (:class:`~seqkit.engine.loops.StreamLoop`). Defaults to 1.
        unroll: the LSTMs are built with ``unroll=True`` (short windows under XLA on a CPU,
            :data:`UNROLL_MAX_STEPS`). Defaults to False.
        distributed: the steps run under a distributing ``tf.distribute`` strategy (several
            replicas, or a strategy other than the default one): never XLA, never shards.
            Decided here, once, for the :class:`~seqkit.engine.driver.Driver`. Defaults to False.
        backend: the Keras backend the steps run on: ``"tensorflow"``, or ``"jax"``
            (:func:`seqkit.engine.jax_loop.jax_policy`: ``jit`` always, and on a GPU cuDNN's
            LSTM inside it, which JAX allows). Defaults to ``"tensorflow"``.
        tf32: float32 matmuls and cuDNN kernels run in TF32 (a GPU with TensorFlow's TF32
            execution on: :func:`tf32_enabled`); always False on a CPU. Defaults to False.
    """

    device: Device
    jit_compile: bool
    use_cudnn: bool | str
    precision: str
    reason: str
    kernel: bool = False
    shards: int = 1
    unroll: bool = False
    distributed: bool = False
    backend: str = "tensorflow"
    tf32: bool = False

    def __post_init__(self) -> None:
        if self.backend == "tensorflow" and self.jit_compile and self.use_cudnn:
            raise ConfigurationError(
                "A device policy cannot combine XLA (jit_compile=True) with cuDNN kernels: "
                "CudnnRNNV3 has no XLA implementation. Use jit_compile=False for cuDNN."
            )

    @property
    def kernel_bfloat16(self) -> bool:
        """seqkit's LSTM kernel computes the matmuls in bfloat16 (``mixed_bfloat16`` with the kernel)."""
        return self.kernel and self.precision == "mixed_bfloat16"

    @property
    def network_precision(self) -> str:
        """The dtype policy the network's layers are built with: float32 where the kernel computes
        in bfloat16 itself (its weights and gates stay float32), else :attr:`precision`."""
        return "float32" if self.kernel_bfloat16 else self.precision

    def get_config(self) -> dict[str, Any]:
        """The policy as JSON-ready values."""
        return asdict(self)


def visible_device() -> Device:
    """``"gpu"`` when TensorFlow sees a GPU, else ``"cpu"``.

    Reads the *physical* devices, which does not start TensorFlow's runtime: after it, a
    program may still call ``tf.config.set_visible_devices`` or
    ``tf.config.experimental.set_memory_growth`` (both refused once the runtime runs, which
    ``tf.config.list_logical_devices`` would have started).
    """
    from seqkit._quiet import quiet_import

    quiet_import()
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def tf32_enabled(device: Device) -> bool:
    """True when float32 matmuls and cuDNN kernels on ``device`` run in TF32: a GPU, with
    TensorFlow's TF32 execution on (its default, which rounds on Ampere and later GPUs).

    >>> tf32_enabled("cpu")
    False
    """
    if device != "gpu":
        return False
    from seqkit._quiet import quiet_import

    quiet_import()
    import tensorflow as tf

    return bool(tf.config.experimental.tensor_float_32_execution_enabled())


TF32_NOTE = "; float32 matmuls in TF32"
"""What a GPU policy's reason adds while TF32 is on."""


def network_masks(network: Any) -> bool:
    """True when ``network`` masks its input: a ``keras.layers.Masking`` layer, or an
    ``Embedding(mask_zero=True)``, anywhere in it (nested models included).

    seqkit pads in front and cuDNN takes right-padded masks only, so such a network must
    never get cuDNN, whatever the spec it was built from says.

    >>> import keras
    >>> network_masks(keras.Sequential([keras.Input((3,)), keras.layers.Embedding(5, 2, mask_zero=True)]))
    True
    >>> network_masks(keras.Sequential([keras.Input((3, 1)), keras.layers.LSTM(2)]))
    False
    """
    import keras

    for layer in _layers(network):
        if isinstance(layer, keras.layers.Masking) or getattr(layer, "mask_zero", False) is True:
            return True
    return False


def _layers(network: Any) -> list[Any]:
    """Every layer inside ``network``, nested models' included (depth first, through the public ``layers``)."""
    found: list[Any] = []
    for layer in getattr(network, "layers", []):
        found += [layer, *_layers(layer)]
    return found


def policy_for_network(policy: DevicePolicy, network: Any) -> DevicePolicy:
    """``policy`` as it applies to the built ``network``: without cuDNN where the network masks
    its input (:func:`network_masks`), its recurrent layers then set to skip cuDNN too.

    A policy chosen from a spec that did not know of the network's mask (a network built by
    hand, given to a :class:`~seqkit.engine.loops.TrainingLoop` with a GPU policy) would
    otherwise hand left-padded masks to cuDNN, which refuses them at run time.

    >>> import keras
    >>> network = keras.Sequential([keras.Input((3,)), keras.layers.Embedding(5, 2, mask_zero=True),
    ...                             keras.layers.LSTM(2)])
    >>> policy = policy_for_network(choose_policy(units=512, batch_size=128, device="gpu"), network)
    >>> policy.use_cudnn, network.layers[-1].use_cudnn
    (False, False)
    """
    if not policy.use_cudnn or not network_masks(network):
        return policy
    for layer in _layers(network):
        if hasattr(layer, "use_cudnn"):
            layer.use_cudnn = False
    return replace(
        policy, use_cudnn=False,
        reason=f"{policy.reason}; the network masks its input (Masking or Embedding(mask_zero=True)), so no cuDNN",
    )


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def cpu_shards(streams: int, cores: int | None = None) -> int:
    """How many slices of ``streams`` the kernel's step computes at once on ``cores`` CPU cores.

    The largest divisor of ``streams`` that is at most ``cores`` and leaves each shard
    :data:`MIN_SHARD_STREAMS` streams or more; 1 (one program) where there is none.

    >>> cpu_shards(32, cores=2), cpu_shards(128, cores=16), cpu_shards(48, cores=4), cpu_shards(16, cores=2)
    (2, 8, 3, 1)
    """
    cores = available_cores() if cores is None else cores
    for shards in range(min(cores, streams // MIN_SHARD_STREAMS), 1, -1):
        if streams % shards == 0:
            return shards
    return 1


def choose_policy(
    *,
    units: int,
    batch_size: int,
    device: Device | None = None,
    masked: bool = False,
    distributed: bool = False,
    jit_compile: bool | None = None,
    precision: str = "float32",
    owner: str = "Trainer",
    kernel: bool | None = False,
    steps: int | None = None,
    dropout: bool = False,
    network: Any = None,
    features: CpuFeatures | None = None,
) -> DevicePolicy:
    """The :class:`DevicePolicy` for a model of ``units`` trained at ``batch_size``.

    Args:
        units: LSTM units per layer.
        batch_size: rows per optimizer step (streams, for stream training).
        device: ``"cpu"`` or ``"gpu"``. Defaults to None: :func:`visible_device`.
        masked: the input holds padding that the network masks (left-padded).
        distributed: the steps run through ``strategy.run`` over several replicas.
        jit_compile: the user's override: True (XLA, never cuDNN), False (no XLA:
            cuDNN where a GPU and the input allow it) or None (decide here).
        precision: one of :data:`PRECISION_CHOICES`: ``"auto"`` lets :func:`resolve_precision`
            decide. Defaults to ``"float32"``.
        owner: who asks, for error messages.
        kernel: seqkit's LSTM kernel (:mod:`seqkit.engine.kernel`): True, False, or None
            (decide here: the kernel in float32 under XLA, where it was measured faster;
            in a plain graph Keras's layers were faster; on a CPU with several cores, the
            kernel under XLA in :func:`cpu_shards` shards at any size).
            Defaults to False, for trainers whose networks the kernel does not compute.
        steps: the time steps of a training sample, where every sample has the same
            number: up to :data:`UNROLL_MAX_STEPS` under XLA on a CPU, the LSTMs are
            unrolled (``jit_compile=False`` turns it off with XLA). Defaults to None:
            unknown, never unrolled.
        dropout: the network draws dropout masks in training. Its shards would draw from
            one shared seed generator and so run one after the other (measured slower than
            one program), so the kernel is not sharded. Defaults to False.
        network: the built network, where it exists: one that masks its input
            (:func:`network_masks`) counts as ``masked``. Defaults to None.
        features: the CPU's features, for ``precision="auto"``. Defaults to None: this
            machine's (:func:`~seqkit.engine.cpu_features.cpu_features`).

    Raises:
        ConfigurationError: ``jit_compile=True`` under a distributing strategy, or an
            unknown precision, or ``mixed_float16`` on a CPU, or ``kernel=True`` with
            ``mixed_float16``.

    >>> choose_policy(units=8, batch_size=4, device="cpu", jit_compile=False).jit_compile
    False
    >>> choose_policy(units=8, batch_size=4, device="cpu", distributed=True, jit_compile=True)
    Traceback (most recent call last):
    ...
    seqkit.errors.ConfigurationError: Trainer cannot compile distributed steps with XLA (jit_compile=True): XLA inside tf.distribute's strategy.run fails on CPU devices. Leave jit_compile=None or set it to False.
    """
    if network is not None:
        masked = masked or network_masks(network)
    policy = _choose(
        units=units, batch_size=batch_size, device=device, masked=masked, distributed=distributed,
        jit_compile=jit_compile, precision=precision, owner=owner, kernel=kernel, steps=steps, dropout=dropout,
        features=features,
    )
    tf32 = tf32_enabled(policy.device)
    reason = f"{policy.reason}{TF32_NOTE}" if tf32 else policy.reason
    return replace(policy, distributed=bool(distributed), tf32=tf32, reason=reason)


def _choose(
    *,
    units: int,
    batch_size: int,
    device: Device | None,
    masked: bool,
    distributed: bool,
    jit_compile: bool | None,
    precision: str,
    owner: str,
    kernel: bool | None,
    steps: int | None,
    dropout: bool,
    features: CpuFeatures | None,
) -> DevicePolicy:
    """:func:`choose_policy` before its ``distributed`` is recorded."""
    if jit_compile is not None and not isinstance(jit_compile, bool):
        raise parameter_error(owner, "jit_compile", "None, True or False", jit_compile)
    if precision not in PRECISION_CHOICES:
        raise parameter_error(owner, "precision", "'auto', 'float32', 'mixed_float16' or 'mixed_bfloat16'", precision)
    if kernel is not None and not isinstance(kernel, bool):
        raise parameter_error(owner, "kernel", "None, True or False", kernel)
    if kernel and precision == "mixed_float16":
        raise ConfigurationError(
            f"{owner} cannot train in mixed_float16 with seqkit's LSTM kernel (kernel=True): the kernel "
            "computes in float32 or bfloat16. Use precision='float32', 'mixed_bfloat16' or kernel=None."
        )
    device = device or visible_device()
    precision, precision_reason = resolve_precision(
        precision, device=device, units=units, batch_size=batch_size, features=features
    )
    settings = dict(
        units=units, batch_size=batch_size, device=device, masked=masked, distributed=distributed,
        jit_compile=jit_compile, owner=owner, kernel=kernel, steps=steps, dropout=dropout,
    )
    policy = _choose_kernel(precision=precision, **settings)
    if precision_reason and policy.precision == "mixed_bfloat16" and not policy.kernel:
        policy = _choose_kernel(precision="float32", **settings)
        precision_reason = "precision auto: float32 (bfloat16 pays only in seqkit's LSTM kernel, not used here)"
    return replace(policy, reason=f"{policy.reason}; {precision_reason}") if precision_reason else policy


KERNEL_PRECISIONS = ("float32", "mixed_bfloat16")
"""What seqkit's LSTM kernel computes in: float32, or bfloat16 matmuls with float32 weights and gates.
The policy takes the kernel in bfloat16 on a CPU only (``kernel=True`` forces it anywhere): on a
GPU, ``mixed_bfloat16`` keeps Keras's layers, as before, since the kernel in bfloat16 is
unmeasured there."""


def _choose_kernel(
    *,
    units: int,
    batch_size: int,
    device: Device,
    masked: bool,
    distributed: bool,
    jit_compile: bool | None,
    precision: str,
    owner: str,
    kernel: bool | None,
    steps: int | None,
    dropout: bool,
) -> DevicePolicy:
    """:func:`choose_policy` once the precision is known: XLA or a graph, the kernel, shards, unrolling."""
    policy = _device_policy(
        units=units, batch_size=batch_size, device=device, masked=masked,
        distributed=distributed, jit_compile=jit_compile, precision=precision, owner=owner,
    )
    shards = cpu_shards(batch_size) if device == "cpu" and not distributed and not dropout else 1
    kernel_precisions = KERNEL_PRECISIONS if device == "cpu" else ("float32",)  # a GPU's bfloat16 stays Keras's
    if kernel is not False and precision in kernel_precisions and jit_compile is None and shards > 1:
        return DevicePolicy(
            device, True, False, precision,
            f"CPU with {available_cores()} cores: seqkit's LSTM kernel under XLA, "
            f"the {batch_size} streams in {shards} shards computed at once",
            kernel=True, shards=shards,
        )
    if kernel is False or (kernel is None and (precision not in kernel_precisions or not policy.jit_compile)):
        if steps is not None and steps <= UNROLL_MAX_STEPS and device == "cpu" and policy.jit_compile:
            noun = "step" if steps == 1 else "steps"
            return replace(policy, unroll=True, reason=f"{policy.reason}; the LSTM unrolled over its {steps} {noun}")
        return policy
    if not policy.jit_compile:
        shards = 1
    suffix = f", the {batch_size} streams in {shards} shards computed at once" if shards > 1 else ""
    return replace(policy, kernel=True, shards=shards, reason=f"{policy.reason}; seqkit's LSTM kernel{suffix}")


def _device_policy(
    *,
    units: int,
    batch_size: int,
    device: Device,
    masked: bool,
    distributed: bool,
    jit_compile: bool | None,
    precision: str,
    owner: str,
) -> DevicePolicy:
    """XLA, cuDNN and precision for :func:`choose_policy`, its arguments checked."""
    if precision == "mixed_float16" and device == "cpu":
        raise ConfigurationError(
            f"{owner} cannot train in mixed_float16 on a CPU (no float16 kernels there, and "
            "TensorFlow sees no GPU). Use precision='mixed_bfloat16' or 'float32'."
        )
    if distributed:
        if jit_compile:
            raise ConfigurationError(
                f"{owner} cannot compile distributed steps with XLA (jit_compile=True): XLA inside "
                "tf.distribute's strategy.run fails on CPU devices. Leave jit_compile=None or set it to False."
            )
        cudnn = "auto" if device == "gpu" and not masked else False
        return DevicePolicy(device, False, cudnn, precision, "distributed steps run as a graph (no XLA in strategy.run)")
    if jit_compile is True:
        return DevicePolicy(device, True, False, precision, "XLA asked for (jit_compile=True); cuDNN off")
    if device == "cpu":
        if jit_compile is False:
            return DevicePolicy(device, False, False, precision, "XLA turned off (jit_compile=False)")
        if batch_size * units >= CPU_GRAPH_MIN_WORK:
            return DevicePolicy(
                device, False, False, precision,
                f"CPU, batch x units = {batch_size * units} >= {CPU_GRAPH_MIN_WORK}: a graph (oneDNN matmuls)",
            )
        return DevicePolicy(device, True, False, precision, "CPU: XLA-compiled steps")
    if masked:
        return DevicePolicy(
            device, jit_compile is not False, False, precision,
            "GPU with left-padded masks: cuDNN takes right-padded masks only, so no cuDNN",
        )
    if jit_compile is False or batch_size * units >= CUDNN_MIN_WORK:
        why = "XLA turned off (jit_compile=False)" if jit_compile is False else (
            f"GPU, batch x units = {batch_size * units} >= {CUDNN_MIN_WORK}: cuDNN kernels in a graph"
        )
        return DevicePolicy(device, False, "auto", precision, why)
    return DevicePolicy(
        device, True, False, precision,
        f"GPU, batch x units = {batch_size * units} < {CUDNN_MIN_WORK}: XLA without cuDNN",
    )


def resolve_precision(
    precision: str, *, device: Device, units: int, batch_size: int, features: CpuFeatures | None = None
) -> tuple[str, str]:
    """The precision to train in, and why, for ``precision`` (``"auto"`` decided here).

    ``"auto"`` is bfloat16 (``"mixed_bfloat16"``: float32 weights, gates and loss, bfloat16
    matmuls) on a CPU with AMX from ``batch x units`` = :data:`BFLOAT16_MIN_WORK` on, and
    float32 everywhere else: on CPUs without AMX (their bfloat16 matmuls are emulated, or,
    with AVX512-BF16 alone, were measured barely faster for the recurrence), below the
    threshold, and on GPUs (where mixed precision stays the user's choice). Without AMX it
    stays float32 even where seqkit's bfloat16 kernel was measured no slower (on an AVX2 CPU,
    ``benchmarks/RESULTS.md``): there bfloat16 only rounds, and what speed it gave is
    unexplained, so the numerics stay float32's. Any other
    precision is returned as it is, with no reason.

    Args:
        precision: one of :data:`PRECISION_CHOICES`.
        device: ``"cpu"`` or ``"gpu"``.
        units: LSTM units per layer.
        batch_size: rows (streams) per step.
        features: the CPU's features. Defaults to None: this machine's.

    Returns:
        ``(precision, reason)``: one of :data:`PRECISIONS`, and the sentence the policy's
        reason gains (empty unless ``precision`` was ``"auto"``).

    >>> from seqkit.engine.cpu_features import parse_cpuinfo
    >>> amx = parse_cpuinfo("model name : Xeon\\nflags : avx2 avx512f avx512_bf16 amx_bf16\\n")
    >>> resolve_precision("auto", device="cpu", units=256, batch_size=128, features=amx)
    ('mixed_bfloat16', 'precision auto: bfloat16 matmuls (AMX, batch x units = 32768 >= 32768)')
    >>> resolve_precision("auto", device="cpu", units=64, batch_size=32, features=amx)[0]
    'float32'
    >>> resolve_precision("auto", device="cpu", units=256, batch_size=128, features=parse_cpuinfo("flags : avx2\\n"))
    ('float32', 'precision auto: float32 (this CPU has no AMX)')
    """
    if precision != "auto":
        return precision, ""
    if device != "cpu":
        return "float32", "precision auto: float32 (mixed precision on a GPU is precision='mixed_bfloat16' or 'mixed_float16')"
    features = cpu_features() if features is None else features
    work = batch_size * units
    if features.bfloat16_hardware != "AMX":
        return "float32", "precision auto: float32 (this CPU has no AMX)"
    if work < BFLOAT16_MIN_WORK:
        return "float32", f"precision auto: float32 (batch x units = {work} < {BFLOAT16_MIN_WORK}, where bfloat16 is slower)"
    return "mixed_bfloat16", f"precision auto: bfloat16 matmuls (AMX, batch x units = {work} >= {BFLOAT16_MIN_WORK})"


def precision_warning(precision: str, *, device: Device, kernel: bool) -> str | None:
    """One line on why ``precision`` will train slower than float32 here, or None.

    ``"mixed_bfloat16"`` on a CPU where seqkit's LSTM kernel does not compute the model
    (``kernel=False``, a GRU, the window trainers) trains through Keras's bfloat16 layers,
    measured slower than float32 on a CPU at both sizes measured, even one with AMX (issue
    25: 5.6x slower at LSTM 64 x 32 streams, 1.2x at 256 x 128). Through the kernel it was
    not measured slower (``benchmarks/RESULTS.md``, "bfloat16 on a CPU"), so no warning.
    Trainers warn with it (:class:`PrecisionWarning`) and train as asked.

    >>> print(precision_warning("mixed_bfloat16", device="cpu", kernel=False))
    precision='mixed_bfloat16' trains through Keras's bfloat16 layers here (seqkit's LSTM kernel does not compute this model), measured 1.2-5.6x slower than float32 on a CPU. Use precision='auto' or 'float32'.
    >>> precision_warning("mixed_bfloat16", device="cpu", kernel=True) is None
    True
    """
    if precision != "mixed_bfloat16" or device != "cpu" or kernel:
        return None
    return (
        "precision='mixed_bfloat16' trains through Keras's bfloat16 layers here (seqkit's LSTM kernel does not "
        "compute this model), measured 1.2-5.6x slower than float32 on a CPU. Use precision='auto' or 'float32'."
    )


def warn_about_precision(precision: str, policy: DevicePolicy) -> None:
    """Warn (:class:`PrecisionWarning`) where :func:`precision_warning` has a line for the
    ``precision`` a user asked for and the ``policy`` it got."""
    message = precision_warning(precision, device=policy.device, kernel=policy.kernel)
    if message is not None:
        warnings.warn(message, PrecisionWarning, stacklevel=3)


def prediction_use_cudnn(masked: bool) -> bool | str:
    """``use_cudnn`` of a network that predicts (outside XLA): Keras's choice, unless masked.

    Prediction runs in a plain graph, so cuDNN may serve it on a GPU, except for
    left-padded masked input, which cuDNN refuses at run time.

    >>> prediction_use_cudnn(False), prediction_use_cudnn(True)
    ('auto', False)
    """
    return False if masked else "auto"
