"""``seqkit info``: versions, devices and the device policy, as tables and as one JSON document.

The GPU case is simulated: a fake ``tensorflow.config`` that lists a GPU and the policy's
device forced to ``"gpu"``, so the GPU columns and the cuDNN rows are checked on any machine.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from seqkit.cli.info import POLICY_MODELS, describe_devices
from seqkit.cli.main import main
from seqkit.cli.render import Consoles
from seqkit.engine.policy import CUDNN_MIN_WORK, choose_policy

TOP_KEYS = [
    "seqkit", "python", "tensorflow", "keras", "keras_backend", "jax", "numpy", "platform", "tensorflow_build",
    "devices", "cpu", "policy_device", "tf32", "precisions", "policies", "backends",
]
DEVICE_KEYS = ["name", "type", "description", "compute_capability", "bfloat16"]
MODELS = [
    ("alphabet LSTM 32, batch 1", 32, 1, False, 1),
    ("in-batch LSTM 16, batch 25", 16, 25, False, 1),
    ("stateful LSTM 50, batch 1", 50, 1, False, 1),
    ("variable-length LSTM 32, batch 1, masked", 32, 1, True, 5),
    ("stream LSTM 64 x 32 streams", 64, 32, False, None),
    ("stream LSTM 256 x 128 streams", 256, 128, False, None),
    ("stream LSTM 512 x 128 streams", 512, 128, False, None),
]


def invoke(args: list[str], **kwargs) -> Result:
    return CliRunner().invoke(main, args, catch_exceptions=False, **kwargs)


def invoke_wide(args: list[str]) -> tuple[Result, str, str]:
    out, err = StringIO(), StringIO()
    consoles = Consoles(out=Console(file=out, width=320), err=Console(file=err, width=320))
    result = invoke(args, obj=consoles)
    return result, out.getvalue(), err.getvalue()


def table_rows(text: str) -> list[list[str]]:
    """The cells of every table row in rich's output (box characters dropped)."""
    rows = []
    for line in text.splitlines():
        if "│" in line or "┃" in line:
            rows.append([cell.strip() for cell in line.replace("┃", "│").strip().strip("│").split("│")])
    return rows


class FakeDevice(SimpleNamespace):
    name: str
    device_type: str


def fake_tensorflow(devices: list[tuple[str, str, dict]]) -> SimpleNamespace:
    """Just enough of ``tensorflow`` for :func:`describe_devices`."""
    listed = [FakeDevice(name=name, device_type=kind) for name, kind, _ in devices]
    details = {name: detail for name, _, detail in devices}

    def get_device_details(device: FakeDevice) -> dict:
        detail = details[device.name]
        if isinstance(detail, Exception):
            raise detail
        return detail

    experimental = SimpleNamespace(get_device_details=get_device_details)
    return SimpleNamespace(config=SimpleNamespace(list_physical_devices=lambda: listed, experimental=experimental))


@pytest.fixture
def simulated_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """TensorFlow seems to see one A100-class GPU next to the CPU."""
    import tensorflow as tf

    import seqkit.engine.policy as policy

    physical = [
        FakeDevice(name="/physical_device:CPU:0", device_type="CPU"),
        FakeDevice(name="/physical_device:GPU:0", device_type="GPU"),
    ]
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda *args: physical)
    monkeypatch.setattr(
        tf.config.experimental, "get_device_details",
        lambda device: {"device_name": "NVIDIA H100 80GB HBM3", "compute_capability": (9, 0)}
        if device.device_type == "GPU" else {},
    )
    monkeypatch.setattr(policy, "visible_device", lambda: "gpu")


# The JSON document ----------------------------------------------------------------------
def test_info_json_is_one_document_with_exact_keys() -> None:
    import keras
    import numpy
    import tensorflow as tf

    import seqkit

    result = invoke(["info", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert list(document) == TOP_KEYS
    assert document["seqkit"] == seqkit.__version__
    assert document["python"] == platform.python_version()
    assert document["tensorflow"] == tf.__version__
    assert document["keras"] == keras.__version__
    assert document["keras_backend"] == "tensorflow"
    assert document["numpy"] == numpy.__version__
    assert document["backends"]["jax"] == ["StreamTrainer", "generate", "load", "predict", "save", "score"]
    assert document["platform"] == platform.platform()
    assert list(document["tensorflow_build"]) == ["cuda", "cudnn"]
    assert document["devices"], "TensorFlow always sees at least the CPU"
    for entry in document["devices"]:
        assert list(entry) == DEVICE_KEYS
    assert {"name": "/physical_device:CPU:0", "type": "CPU", "description": None,
            "compute_capability": None, "bfloat16": None} in document["devices"]


def test_info_json_policies_are_choose_policys_for_the_tutorial_sizes() -> None:
    document = json.loads(invoke(["info", "--json"]).stdout)
    device = document["policy_device"]
    assert device == ("gpu" if any(entry["type"] == "GPU" for entry in document["devices"]) else "cpu")
    assert [
        (row["model"], row["units"], row["batch_size"], row["masked"], row["steps"]) for row in document["policies"]
    ] == MODELS
    for row in document["policies"]:
        assert list(row) == ["model", "units", "batch_size", "masked", "steps", "policy"]
        stream = row["model"].startswith("stream")
        expected = choose_policy(
            units=row["units"], batch_size=row["batch_size"], device=device, masked=row["masked"],
            kernel=None if stream else False, steps=row["steps"], precision="auto" if stream else "float32",
        )
        assert row["policy"] == expected.get_config()


def test_policy_models_are_the_tutorials() -> None:
    assert list(POLICY_MODELS) == MODELS


def test_info_json_on_a_two_core_cpu_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    from seqkit.engine.cpu_features import parse_cpuinfo

    monkeypatch.setattr("seqkit.engine.policy.available_cores", lambda: 2)
    monkeypatch.setattr("seqkit.engine.policy.cpu_features", lambda: parse_cpuinfo("flags : avx2\n"))
    document = json.loads(invoke(["info", "--json"]).stdout)
    if document["policy_device"] != "cpu":
        pytest.skip("TensorFlow sees a GPU here")
    assert [entry["type"] for entry in document["devices"]] == ["CPU"]
    assert document["precisions"] == ["float32", "mixed_bfloat16"]
    policies = {row["model"]: row["policy"] for row in document["policies"]}
    for model, *_ in MODELS[:3]:
        assert policies[model] == {
            "device": "cpu", "jit_compile": True, "use_cudnn": False, "precision": "float32",
            "reason": "CPU: XLA-compiled steps; the LSTM unrolled over its 1 step", "kernel": False, "shards": 1,
            "unroll": True, "distributed": False, "backend": "tensorflow", "tf32": False,
        }
    assert policies[MODELS[3][0]] == {
        "device": "cpu", "jit_compile": True, "use_cudnn": False, "precision": "float32",
        "reason": "CPU: XLA-compiled steps", "kernel": False, "shards": 1, "unroll": False,
        "distributed": False, "backend": "tensorflow", "tf32": False,
    }
    for model, streams in [("stream LSTM 64 x 32 streams", 32), ("stream LSTM 256 x 128 streams", 128)]:
        assert policies[model] == {
            "device": "cpu", "jit_compile": True, "use_cudnn": False, "precision": "float32",
            "reason": f"CPU with 2 cores: seqkit's LSTM kernel under XLA, the {streams} streams in 2 shards computed at "
                      "once; precision auto: float32 (this CPU has no AMX)",
            "kernel": True, "shards": 2, "unroll": False, "distributed": False,
            "backend": "tensorflow", "tf32": False,
        }


def test_info_json_with_a_simulated_gpu(simulated_gpu: None) -> None:
    document = json.loads(invoke(["info", "--json"]).stdout)
    assert document["policy_device"] == "gpu"
    assert document["devices"] == [
        {"name": "/physical_device:CPU:0", "type": "CPU", "description": None,
         "compute_capability": None, "bfloat16": None},
        {"name": "/physical_device:GPU:0", "type": "GPU", "description": "NVIDIA H100 80GB HBM3",
         "compute_capability": "9.0", "bfloat16": True},
    ]
    assert document["precisions"] == ["float32", "mixed_float16", "mixed_bfloat16"]
    assert document["tf32"] is True, "TensorFlow's TF32 execution is on by default"
    chosen = {row["model"]: (row["policy"]["jit_compile"], row["policy"]["use_cudnn"]) for row in document["policies"]}
    assert chosen["alphabet LSTM 32, batch 1"] == (True, False)
    assert chosen["variable-length LSTM 32, batch 1, masked"] == (True, False)
    assert chosen["stream LSTM 512 x 128 streams"] == (False, "auto")  # 65,536 >= CUDNN_MIN_WORK
    assert chosen["stream LSTM 256 x 128 streams"] == (True, False)
    for jit_compile, use_cudnn in chosen.values():
        assert not (jit_compile and use_cudnn)


# Devices --------------------------------------------------------------------------------
def test_describe_devices_reads_compute_capability_and_bfloat16() -> None:
    tf = fake_tensorflow([
        ("/physical_device:CPU:0", "CPU", {}),
        ("/physical_device:GPU:0", "GPU", {"device_name": "Tesla T4", "compute_capability": (7, 5)}),
        ("/physical_device:GPU:1", "GPU", {"device_name": "NVIDIA A100-SXM4-40GB", "compute_capability": (8, 0)}),
        ("/physical_device:GPU:2", "GPU", RuntimeError("no details")),
    ])
    assert describe_devices(tf) == [
        {"name": "/physical_device:CPU:0", "type": "CPU", "description": None,
         "compute_capability": None, "bfloat16": None},
        {"name": "/physical_device:GPU:0", "type": "GPU", "description": "Tesla T4",
         "compute_capability": "7.5", "bfloat16": False},
        {"name": "/physical_device:GPU:1", "type": "GPU", "description": "NVIDIA A100-SXM4-40GB",
         "compute_capability": "8.0", "bfloat16": True},
        {"name": "/physical_device:GPU:2", "type": "GPU", "description": None,
         "compute_capability": None, "bfloat16": None},
    ]


def test_no_bfloat16_precision_on_a_gpu_without_it(monkeypatch: pytest.MonkeyPatch, simulated_gpu: None) -> None:
    import tensorflow as tf

    monkeypatch.setattr(
        tf.config.experimental, "get_device_details",
        lambda device: {"device_name": "Tesla T4", "compute_capability": (7, 5)} if device.device_type == "GPU" else {},
    )
    document = json.loads(invoke(["info", "--json"]).stdout)
    assert document["precisions"] == ["float32", "mixed_float16"]


# Tables ---------------------------------------------------------------------------------
def test_info_tables() -> None:
    import tensorflow as tf

    result, out, err = invoke_wide(["info"])
    assert result.exit_code == 0 and result.stdout == ""
    rows = table_rows(out)
    assert ["TensorFlow", tf.__version__] in rows
    assert ["Python", platform.python_version()] in rows
    assert ["device", "type", "name", "compute capability", "bfloat16"] in rows
    assert ["/physical_device:CPU:0", "CPU", "-", "-", "-"] in rows
    assert ["model", "batch x units", "XLA", "cuDNN", "precision", "why"] in rows
    policy_rows = [row for row in rows if row[0] in {model for model, *_ in MODELS}]
    assert [row[0] for row in policy_rows] == [model for model, *_ in MODELS]
    assert [row[1] for row in policy_rows] == ["32", "400", "50", "32", "2,048", "32,768", "65,536"]
    assert err.strip() == "Override the policy with jit_compile= on a trainer, or --jit on|off on seqkit train."


def test_info_says_what_runs_on_each_keras_backend() -> None:
    _, out, _ = invoke_wide(["info"])
    rows = table_rows(out)
    assert "What runs on each Keras backend (KERAS_BACKEND)" in out
    assert ["jax", "StreamTrainer, generate, load, predict, save, score"] in rows


def test_info_tables_on_a_cpu() -> None:
    result, out, _ = invoke_wide(["info"])
    if "Training policy on CPU" not in out:
        pytest.skip("TensorFlow sees a GPU here")
    assert "Training policy on CPU (precisions: float32, mixed_bfloat16; TF32: no)" in out
    assert ["alphabet LSTM 32, batch 1", "32", "yes", "no", "float32",
            "CPU: XLA-compiled steps; the LSTM unrolled over its 1 step"] in table_rows(out)


def test_info_tables_with_a_simulated_gpu(simulated_gpu: None) -> None:
    _, out, _ = invoke_wide(["info"])
    rows = table_rows(out)
    assert "Training policy on GPU (precisions: float32, mixed_float16, mixed_bfloat16; TF32: yes)" in out
    assert ["/physical_device:GPU:0", "GPU", "NVIDIA H100 80GB HBM3", "9.0", "yes"] in rows
    small = choose_policy(units=32, batch_size=1, device="gpu")
    masked = choose_policy(units=32, batch_size=1, device="gpu", masked=True)
    large = choose_policy(units=512, batch_size=128, device="gpu", kernel=None, precision="auto")
    show = {True: "yes", False: "no", "auto": "auto"}
    assert ["alphabet LSTM 32, batch 1", "32", show[small.jit_compile], show[small.use_cudnn], "float32",
            small.reason] in rows
    assert ["variable-length LSTM 32, batch 1, masked", "32", "yes", "no", "float32", masked.reason] in rows
    assert ["stream LSTM 512 x 128 streams", "65,536", "no", "auto", "float32", large.reason] in rows


def test_info_quiet_and_json_print_no_note() -> None:
    for flags in (["--quiet"], ["--json"]):
        result, _, err = invoke_wide(["info", *flags])
        assert result.exit_code == 0 and err == ""


def test_info_is_listed_and_takes_json_and_quiet() -> None:
    listing = invoke(["--help"]).stdout
    assert "info" in listing.split("Commands:")[1].split()
    help_text = invoke(["info", "--help"]).stdout
    assert "--json" in help_text and "--quiet" in help_text


# As a user runs it ----------------------------------------------------------------------
@pytest.mark.slow
def test_info_console_script_keeps_tensorflow_quiet() -> None:
    script = Path(sys.executable).with_name("seqkit")
    if not script.exists():
        pytest.skip("the seqkit console script is not installed (pip install -e .)")
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([str(script), "info", "--json"], capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert list(json.loads(done.stdout)) == TOP_KEYS


def test_info_reports_tf32_off_on_a_cpu() -> None:
    document = json.loads(invoke(["info", "--json"]).stdout)
    if document["policy_device"] != "cpu":
        pytest.skip("TensorFlow sees a GPU here")
    assert document["tf32"] is False
    assert all(row["policy"]["tf32"] is False for row in document["policies"])


def test_info_reports_tf32_turned_off_on_a_gpu(simulated_gpu: None) -> None:
    import tensorflow as tf

    was = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        document = json.loads(invoke(["info", "--json"]).stdout)
        _, out, _ = invoke_wide(["info"])
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(was)
    assert document["tf32"] is False
    assert all(row["policy"]["tf32"] is False for row in document["policies"])
    assert "(precisions: float32, mixed_float16, mixed_bfloat16; TF32: no)" in out


def test_info_names_the_cpus_matrix_features(monkeypatch: pytest.MonkeyPatch) -> None:
    from seqkit.engine.cpu_features import parse_cpuinfo

    features = parse_cpuinfo("model name : Intel Xeon\nflags : avx2 avx512f avx512_bf16 amx_bf16\n")
    monkeypatch.setattr("seqkit.engine.cpu_features.cpu_features", lambda: features)
    document = json.loads(invoke(["info", "--json"]).stdout)
    assert document["cpu"] == {"model": "Intel Xeon", "flags": ["avx2", "avx512f", "avx512_bf16", "amx_bf16"],
                               "bfloat16_hardware": "AMX"}
    _, out, _ = invoke_wide(["info"])
    assert ["CPU", "Intel Xeon: AVX2, AVX-512, AVX512-BF16, AMX-BF16; bfloat16 matmuls on AMX"] in table_rows(out)
