"""``seqkit info``: versions, the devices TensorFlow sees, and the policy training would use on them.

The policy is :func:`seqkit.engine.policy.choose_policy`'s, shown for the tutorial's model
sizes (:data:`POLICY_MODELS`), so ``seqkit info`` on a GPU machine says at a glance which
models get XLA and which get cuDNN, and why.
"""

from __future__ import annotations

import platform
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from .errors import SeqkitCommand
from .options import output_options
from .render import UI, key_value_table

POLICY_MODELS: tuple[tuple[str, int, int, bool, int | None], ...] = (
    ("alphabet LSTM 32, batch 1", 32, 1, False, 1),
    ("in-batch LSTM 16, batch 25", 16, 25, False, 1),
    ("stateful LSTM 50, batch 1", 50, 1, False, 1),
    ("variable-length LSTM 32, batch 1, masked", 32, 1, True, 5),
    ("stream LSTM 64 x 32 streams", 64, 32, False, None),
    ("stream LSTM 256 x 128 streams", 256, 128, False, None),
    ("stream LSTM 512 x 128 streams", 512, 128, False, None),
)
"""``(model, units, batch_size, masked, steps)``: the sizes whose policy ``seqkit info`` shows
(``steps``: time steps per window; None for stream training's segments)."""

PRECISION_NAMES = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}
"""How the policy table names a precision (the matmuls'; weights stay float32)."""

BFLOAT16_MIN_CAPABILITY = (8, 0)
"""GPUs from Ampere (compute capability 8.0) on have bfloat16 arithmetic."""


@click.command(cls=SeqkitCommand, short_help="Show versions, devices and the training policy.")
@output_options
def info(ui: UI) -> None:
    """Show seqkit's, TensorFlow's, Keras's and Python's versions, the devices
    TensorFlow sees, and how training would run on them.

    The policy decides per model: XLA-compiled steps, or cuDNN kernels in a plain
    graph (never both: cuDNN has no XLA kernel). Override it with jit_compile=
    on a trainer, or --jit on|off on seqkit train.
    """
    document = collect_info()
    ui.result(*render_info(document))
    if document["keras_backend"] == "tensorflow":
        ui.note("Override the policy with jit_compile= on a trainer, or --jit on|off on seqkit train.")
    ui.emit_json(document)


def collect_info() -> dict[str, Any]:
    """Everything ``seqkit info`` shows, as JSON-ready values (on Keras's JAX backend, :func:`collect_info_on_jax`)."""
    from seqkit.backends import keras_backend

    if keras_backend() == "jax":
        return collect_info_on_jax()
    from seqkit._quiet import quiet_import

    quiet_import()
    import keras
    import numpy
    import tensorflow as tf

    from seqkit.backends import CAPABILITIES
    from seqkit.engine.cpu_features import cpu_features
    from seqkit.engine.policy import PRECISIONS, choose_policy, tf32_enabled, visible_device
    from seqkit.errors import ConfigurationError
    from seqkit.version import __version__

    devices = describe_devices(tf)
    device = visible_device()
    policies = [
        {
            "model": model,
            "units": units,
            "batch_size": batch_size,
            "masked": masked,
            "steps": steps,
            "policy": choose_policy(  # as the trainers choose: stream training's precision is "auto"
                units=units, batch_size=batch_size, device=device, masked=masked,
                kernel=None if model.startswith("stream") else False, steps=steps,
                precision="auto" if model.startswith("stream") else "float32",
            ).get_config(),
        }
        for model, units, batch_size, masked, steps in POLICY_MODELS
    ]
    precisions = []
    for precision in PRECISIONS:
        try:
            choose_policy(units=1, batch_size=1, device=device, precision=precision)
        except ConfigurationError:
            continue
        gpus = [entry for entry in devices if entry["type"] == "GPU"]
        if precision == "mixed_bfloat16" and device == "gpu" and not all(entry["bfloat16"] for entry in gpus):
            continue
        precisions.append(precision)
    build = dict(tf.sysconfig.get_build_info())
    return {
        "seqkit": __version__,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.config.backend(),
        "jax": _installed_version("jax"),
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "tensorflow_build": {
            "cuda": build.get("cuda_version") if build.get("is_cuda_build") else None,
            "cudnn": build.get("cudnn_version") if build.get("is_cuda_build") else None,
        },
        "devices": devices,
        "cpu": cpu_features().get_config(),
        "policy_device": device,
        "tf32": tf32_enabled(device),
        "precisions": precisions,
        "policies": policies,
        "backends": {name: list(what) for name, what in CAPABILITIES.items()},
    }


def collect_info_on_jax() -> dict[str, Any]:
    """``seqkit info`` where Keras runs on JAX: JAX's devices and the JAX policy of the stream sizes,
    without importing TensorFlow (the same keys as on TensorFlow)."""
    import jax
    import keras
    import numpy

    from seqkit.backends import CAPABILITIES, GPU_PLATFORMS, jax_device
    from seqkit.engine.cpu_features import cpu_features
    from seqkit.engine.jax_loop import jax_policy
    from seqkit.version import __version__

    device = jax_device()
    devices = [
        {
            "name": f"{entry.platform}:{entry.id}", "type": "GPU" if entry.platform in GPU_PLATFORMS else "CPU",
            "description": str(getattr(entry, "device_kind", "")) or None,
            "compute_capability": getattr(entry, "compute_capability", None), "bfloat16": None,
        }
        for entry in jax.devices()
    ]
    policies = [
        {
            "model": model, "units": units, "batch_size": batch_size, "masked": masked, "steps": steps,
            "policy": jax_policy(units=units, batch_size=batch_size, device=device).get_config(),
        }
        for model, units, batch_size, masked, steps in POLICY_MODELS
        if model.startswith("stream")  # on JAX seqkit trains stream models only
    ]
    return {
        "seqkit": __version__,
        "python": platform.python_version(),
        "tensorflow": _installed_version("tensorflow"),
        "keras": keras.__version__,
        "keras_backend": keras.config.backend(),
        "jax": jax.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "tensorflow_build": {"cuda": None, "cudnn": None},
        "devices": devices,
        "cpu": cpu_features().get_config(),
        "policy_device": device,
        "tf32": device == "gpu",  # JAX's default float32 dots and cuDNN's LSTM take TF32 on a GPU
        "precisions": ["float32"],
        "policies": policies,
        "backends": {name: list(what) for name, what in CAPABILITIES.items()},
    }


def _installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, read from its metadata (not imported), or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def describe_devices(tf: Any) -> list[dict[str, Any]]:
    """The physical devices TensorFlow sees: name, type, and for GPUs the card, compute capability
    and bfloat16 support (None where it does not apply or is unknown)."""
    devices = []
    for device in tf.config.list_physical_devices():
        entry: dict[str, Any] = {
            "name": device.name,
            "type": device.device_type,
            "description": None,
            "compute_capability": None,
            "bfloat16": None,
        }
        if device.device_type == "GPU":
            try:
                details = tf.config.experimental.get_device_details(device)
            except Exception:  # noqa: BLE001 - details are optional; the device is still listed
                details = {}
            entry["description"] = details.get("device_name")
            capability = details.get("compute_capability")
            if capability is not None:
                major, minor = (int(part) for part in capability)
                entry["compute_capability"] = f"{major}.{minor}"
                entry["bfloat16"] = (major, minor) >= BFLOAT16_MIN_CAPABILITY
        devices.append(entry)
    return devices


def _build_text(document: dict[str, Any]) -> str:
    """What TensorFlow was built with, or why that is not shown (Keras on JAX does not import it)."""
    if document["keras_backend"] == "jax":
        return "- (not imported: Keras runs on JAX)"
    build = document["tensorflow_build"]
    return f"CUDA {build['cuda']}, cuDNN {build['cudnn']}" if build["cuda"] else "no CUDA"


def _cpu_text(cpu: dict[str, Any]) -> str:
    """The CPU's model, its matmul features and what they mean for bfloat16, in one line."""
    from seqkit.engine.cpu_features import FEATURE_NAMES

    names = dict(FEATURE_NAMES)
    features = ", ".join(names[flag] for flag in cpu["flags"]) or "no AVX2, AVX-512 or AMX flags read"
    hardware = cpu["bfloat16_hardware"]
    bfloat16 = f"bfloat16 matmuls on {hardware}" if hardware else "bfloat16 matmuls emulated (no AVX512-BF16 or AMX)"
    return f"{cpu['model']}: {features}; {bfloat16}"


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def render_info(document: dict[str, Any]) -> list[Table]:
    """The four tables of ``seqkit info``: versions, devices, policy, what runs on each Keras backend."""
    versions = key_value_table(
        "seqkit",
        [
            ("seqkit", document["seqkit"]),
            ("Python", document["python"]),
            ("TensorFlow", document["tensorflow"] or "not installed"),
            ("Keras", f"{document['keras']} (backend: {document['keras_backend']})"),
            ("JAX", document["jax"] or "not installed (pip install -e '.[jax]' for KERAS_BACKEND=jax)"),
            ("NumPy", document["numpy"]),
            ("platform", document["platform"]),
            ("CPU", _cpu_text(document["cpu"])),
            ("TensorFlow built with", _build_text(document)),
        ],
    )
    seer = "JAX" if document["keras_backend"] == "jax" else "TensorFlow"
    devices = Table(title=f"Devices {seer} sees", title_justify="left", title_style="bold")
    for column in ("device", "type", "name", "compute capability", "bfloat16"):
        devices.add_column(column)
    for entry in document["devices"]:
        devices.add_row(
            escape(entry["name"]), entry["type"], escape(entry["description"] or "-"),
            entry["compute_capability"] or "-", _yes_no(entry["bfloat16"]),
        )
    policy = Table(
        title=f"Training policy on {document['policy_device'].upper()} "
        f"(precisions: {', '.join(document['precisions'])}; TF32: {_yes_no(document['tf32'])})",
        title_justify="left",
        title_style="bold",
    )
    policy.add_column("model", style="cyan")
    policy.add_column("batch x units", justify="right")
    policy.add_column("XLA")
    policy.add_column("cuDNN")
    policy.add_column("precision")
    policy.add_column("why", overflow="fold")
    for row in document["policies"]:
        chosen = row["policy"]
        policy.add_row(
            escape(row["model"]),
            f"{row['batch_size'] * row['units']:,}",
            _yes_no(chosen["jit_compile"]),
            "auto" if chosen["use_cudnn"] == "auto" else _yes_no(bool(chosen["use_cudnn"])),
            PRECISION_NAMES.get(chosen["precision"], chosen["precision"]),
            escape(chosen["reason"]),
        )
    backends = Table(title="What runs on each Keras backend (KERAS_BACKEND)", title_justify="left", title_style="bold")
    backends.add_column("backend", style="cyan")
    backends.add_column("seqkit runs", overflow="fold")
    for name, what in document["backends"].items():
        backends.add_row(name, ", ".join(what))
    return [versions, devices, policy, backends]
