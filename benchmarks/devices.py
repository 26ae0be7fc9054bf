"""Training speed on every device path this machine has: XLA, graph, cuDNN, mixed precision.

One run, one process, seqkit and plain Keras interleaved, on whatever TensorFlow sees:

- **paths**: on a CPU, ``xla`` (``jit_compile=True``) and ``graph`` (``jit_compile=False``);
  on a GPU, ``xla`` (XLA, LSTMs built with ``use_cudnn=False``), ``cudnn`` (``jit_compile=False``:
  cuDNN kernels in a plain graph), and the same two in ``mixed_float16`` (and
  ``mixed_bfloat16`` where the card has bfloat16, compute capability >= 8.0);
- **stream training** (``StreamTrainer``, segments of 64 characters of the Python standard
  library's source): (a) 32 streams, LSTM 64, embedding 16; (b) 128 streams, LSTM 256.
  Characters per second of the second epoch (compilation excluded), and the same model on
  the same batches through Keras ``fit`` (``benchmarks/stream_training.py``'s contender)
  with XLA, cuDNN and precision set as on the seqkit path: the ratio seqkit / Keras;
- **a sweep** of cuDNN-in-a-graph against XLA-without-cuDNN (on a CPU: graph against XLA)
  over LSTM units x streams, to set ``seqkit.engine.policy.CUDNN_MIN_WORK`` from: the
  smallest ``batch x units`` from which cuDNN wins at every larger measured size;
- **the tutorial's experiments** (``seqkit.experiments``), seconds per experiment on each
  path (the whole ``run_experiment``: training, evaluation, generation) and the ratio to
  the tutorial's plain-Keras code (``benchmarks/keras_reference.py``, Keras's defaults:
  on a GPU that is cuDNN, on a CPU a graph without XLA) at the same epochs.

Every row also shows the policy ``choose_policy`` picks for that size on this device, and
the policy the fitted model recorded (``model.spec["policy"]``).

Usage::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/devices.py --quick          # CPU, < 2 min
    TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/devices.py --json devices.json        # GPU, < 5 min
    TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/devices.py --sections sweep --budget 120

``--budget SECONDS`` skips (and lists) whatever would start after that many seconds, so a
run on a rented machine ends in time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seqkit._quiet import quiet_import, silence_tensorflow  # noqa: E402

silence_tensorflow()

quiet_import()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import seqkit  # noqa: E402
from seqkit.engine.policy import CUDNN_MIN_WORK, choose_policy, visible_device  # noqa: E402

SEGMENT, EMBEDDING, SEED = 64, 16, 7
STREAM_SIZES = {"a": (64, 32), "b": (256, 128)}  # name -> (units, streams)


@dataclass(frozen=True)
class DevicePath:
    """One way of running: XLA or not, and the precision. ``kernel`` names what runs the LSTM."""

    name: str
    jit_compile: bool
    precision: str
    kernel: str  # "xla", "graph" or "cudnn"

    @property
    def keras_use_cudnn(self) -> bool | str:
        return "auto" if self.kernel == "cudnn" else False


def available_paths(device: str, bfloat16: bool) -> list[DevicePath]:
    """The paths this machine can run, in the order they are measured."""
    if device == "cpu":
        return [DevicePath("xla", True, "float32", "xla"), DevicePath("graph", False, "float32", "graph")]
    paths = [
        DevicePath("xla", True, "float32", "xla"),
        DevicePath("cudnn", False, "float32", "cudnn"),
        DevicePath("xla-fp16", True, "mixed_float16", "xla"),
        DevicePath("cudnn-fp16", False, "mixed_float16", "cudnn"),
    ]
    if bfloat16:
        paths += [DevicePath("xla-bf16", True, "mixed_bfloat16", "xla"), DevicePath("cudnn-bf16", False, "mixed_bfloat16", "cudnn")]
    return paths


DEFAULT_PATHS = ("xla", "graph", "cudnn", "xla-fp16", "cudnn-fp16")
"""Measured unless ``--paths`` names others (the bfloat16 ones: ``--paths ...,xla-bf16,cudnn-bf16``)."""


def picks(units: int, batch_size: int, device: str, masked: bool = False) -> str:
    """What the policy chooses by default for this size: ``xla`` / ``cudnn`` / ``graph``."""
    policy = choose_policy(units=units, batch_size=batch_size, device=device, masked=masked)
    return kernel_of(policy.get_config())


def kernel_of(policy: dict[str, Any] | None) -> str:
    if not policy:
        return "?"
    if policy.get("jit_compile"):
        return "xla"
    return "cudnn" if policy.get("use_cudnn") and policy.get("device") == "gpu" else "graph"


class Budget:
    """Seconds left for the run; work that would start after it is skipped and listed."""

    def __init__(self, seconds: float | None) -> None:
        self.started = time.perf_counter()
        self.seconds = seconds
        self.skipped: list[str] = []

    def allows(self, what: str) -> bool:
        if self.seconds is None or time.perf_counter() - self.started < self.seconds:
            return True
        self.skipped.append(what)
        return False

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def _float32() -> None:
    keras.mixed_precision.set_global_policy("float32")


# Stream training ------------------------------------------------------------------------
def seqkit_stream(corpus: Any, units: int, streams: int, path: DevicePath, epochs: int = 2) -> dict[str, Any]:
    """seqkit's StreamTrainer on ``corpus``; the last epoch's characters per second."""
    from seqkit.trainers import StreamTrainer

    trainer = StreamTrainer(
        window=SEGMENT, batch_size=streams, units=units, embedding_dim=EMBEDDING, epochs=epochs,
        reset="epoch", seed=SEED, jit_compile=path.jit_compile, precision=path.precision,
    )
    try:
        model, history = trainer.fit(corpus)
    finally:
        _float32()
    seconds = float(trainer.epoch_seconds_[-1])
    tokens = int(model.spec["samples"])
    steps = history.steps // max(history.epochs, 1)
    return {
        "chars_per_second": tokens / seconds,
        "epoch_seconds": seconds,
        "ms_per_step": 1000 * seconds / max(steps, 1),
        "steps_per_epoch": steps,
        "loss": float(history.loss[-1]),
        "policy": model.spec.get("policy"),
    }


def keras_stream(corpus: Any, units: int, streams: int, path: DevicePath, epochs: int = 2) -> dict[str, Any]:
    """The same model and batches through Keras ``fit``, XLA / cuDNN / precision as on ``path``."""
    from stream_training import keras_run

    keras.mixed_precision.set_global_policy(path.precision)
    try:
        result = keras_run(
            0, units, epochs, streams=streams, segment=SEGMENT, embedding=EMBEDDING,
            jit_compile=path.jit_compile, use_cudnn=path.keras_use_cudnn, corpus=corpus,
        )
    finally:
        _float32()
    return {
        "chars_per_second": result["chars_per_second"],
        "epoch_seconds": result["epoch_seconds"],
        "loss": float(result["loss"]),
        "jit_compile": result.get("jit_compile"),
    }


def run_stream(corpus: Any, device: str, paths: list[DevicePath], budget: Budget, with_keras: bool) -> list[dict[str, Any]]:
    rows = []
    for path in paths:  # float32 paths first: under a budget, mixed precision is what gets skipped
        for size, (units, streams) in STREAM_SIZES.items():
            what = f"stream ({size}) LSTM {units} x {streams} streams, {path.name}"
            if not budget.allows(what):
                continue
            row: dict[str, Any] = {
                "size": size, "units": units, "streams": streams, "path": path.name,
                "policy_picks": picks(units, streams, device),
            }
            row["seqkit"] = _guarded(seqkit_stream, corpus, units, streams, path)
            if with_keras:
                row["keras"] = _guarded(keras_stream, corpus, units, streams, path)
                if "error" not in row["seqkit"] and "error" not in row["keras"]:
                    row["ratio"] = row["seqkit"]["chars_per_second"] / row["keras"]["chars_per_second"]
            rows.append(row)
            _print_stream_row(row)
    return rows


def _guarded(function: Any, *args: Any) -> dict[str, Any]:
    """Run one measurement; a failure is a row with its error, not the end of the run."""
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - reported in the table and the JSON
        _float32()
        message = " ".join(str(error).split())
        return {"error": f"{type(error).__name__}: {message[:300]}"}


STREAM_HEADER = (
    "| size | path | policy picks | seqkit ran | seqkit chars/s | ms/step | Keras chars/s | seqkit / Keras | loss |\n"
    "|---|---|---|---|---:|---:|---:|---:|---:|"
)


def _print_stream_row(row: dict[str, Any]) -> None:
    ours, theirs = row["seqkit"], row.get("keras", {})
    if "error" in ours:
        print(f"| ({row['size']}) {row['units']} x {row['streams']} | {row['path']} | {row['policy_picks']} | "
              f"error: {ours['error']} | | | | | |", flush=True)
        return
    keras_cps = f"{theirs['chars_per_second']:,.0f}" if "chars_per_second" in theirs else theirs.get("error", "-")
    ratio = f"{row['ratio']:.2f}x" if "ratio" in row else "-"
    print(
        f"| ({row['size']}) {row['units']} x {row['streams']} | {row['path']} | {row['policy_picks']} | "
        f"{kernel_of(ours['policy'])} | {ours['chars_per_second']:,.0f} | {ours['ms_per_step']:.2f} | "
        f"{keras_cps} | {ratio} | {ours['loss']:.4f} |",
        flush=True,
    )


# The sweep ------------------------------------------------------------------------------
def run_sweep(
    text: str, device: str, units_list: list[int], batch_list: list[int], steps: int, budget: Budget
) -> tuple[list[dict[str, Any]], int | None]:
    """cuDNN (GPU) or graph (CPU) against XLA at each units x streams; float32, seqkit only."""
    from seqkit.datasets import Corpus

    other = DevicePath("cudnn", False, "float32", "cudnn") if device == "gpu" else DevicePath("graph", False, "float32", "graph")
    xla = DevicePath("xla", True, "float32", "xla")
    rows = []
    for units in units_list:
        for batch in batch_list:
            what = f"sweep LSTM {units} x {batch} streams"
            if not budget.allows(what):
                continue
            corpus = Corpus.from_text(text[: batch * SEGMENT * steps + 1], level="char", name="python-stdlib")
            row: dict[str, Any] = {"units": units, "streams": batch, "work": units * batch,
                                   "policy_picks": picks(units, batch, device)}
            for path in (xla, other):
                result = _guarded(seqkit_stream, corpus, units, batch, path)
                row[path.name] = result
            measured = [row[p.name].get("ms_per_step") for p in (xla, other)]
            if None not in measured:
                row["winner"] = other.name if measured[1] < measured[0] else "xla"
                row["other_over_xla"] = measured[1] / measured[0]
            rows.append(row)
            _print_sweep_row(row, other.name)
    suggestion = suggest_min_work(rows, other.name) if device == "gpu" else None
    return rows, suggestion


def suggest_min_work(rows: list[dict[str, Any]], other: str) -> int | None:
    """The smallest measured ``batch x units`` from which ``other`` (cuDNN) wins at every larger size."""
    measured = sorted((row["work"], row.get("winner")) for row in rows if row.get("winner"))
    suggestion = None
    for work, winner in reversed(measured):
        if winner != other:
            break
        suggestion = work
    return suggestion


def _print_sweep_row(row: dict[str, Any], other: str) -> None:
    def cell(result: dict[str, Any]) -> str:
        return f"{result['ms_per_step']:.2f}" if "ms_per_step" in result else result.get("error", "-")[:80]

    ratio = f"{row['other_over_xla']:.2f}" if "other_over_xla" in row else "-"
    print(
        f"| {row['units']} | {row['streams']} | {row['work']:,} | {row['policy_picks']} | {cell(row['xla'])} | "
        f"{cell(row[other])} | {ratio} | {row.get('winner', '-')} |",
        flush=True,
    )


# The tutorial's experiments -------------------------------------------------------------
def run_experiments(
    names: list[str], device: str, paths: list[DevicePath], epochs_scale: float, budget: Budget, with_keras: bool
) -> list[dict[str, Any]]:
    """Each experiment on each f32 path, and the tutorial's Keras code, at the same epochs."""
    from dataclasses import replace

    import seqkit.experiments as experiments

    reference = None
    if with_keras:
        from keras_reference import REFERENCE_EXPERIMENTS as reference

    rows = []
    for name in names:
        experiment = experiments.EXPERIMENTS[name]
        epochs = max(1, round(experiment.epochs * epochs_scale))
        probe = experiment.make_trainer(epochs)
        units = int(probe.units)
        batch = 25 if name == "in-batch" else int(getattr(probe, "batch_size", 1) or 1)  # in-batch: all 25 windows
        row: dict[str, Any] = {
            "experiment": name, "epochs": epochs, "units": units, "batch_size": batch,
            "policy_picks": picks(units, batch, device, masked=name == "variable-length"),
            "paths": {},
        }
        if with_keras and budget.allows(f"experiment {name}, Keras reference"):
            row["keras"] = _guarded(lambda: _keras_experiment(reference, name, epochs))
        for path in paths:
            if path.precision != "float32" or not budget.allows(f"experiment {name}, {path.name}"):
                continue

            def configured(e: int | None, make=experiment.make_trainer, path=path) -> Any:
                trainer = make(e)
                trainer.jit_compile, trainer.precision = path.jit_compile, path.precision
                return trainer

            original = experiments.EXPERIMENTS[name]
            experiments.EXPERIMENTS[name] = replace(original, make_trainer=configured)
            try:
                row["paths"][path.name] = _guarded(lambda: _seqkit_experiment(experiments, name, epochs))
            finally:
                experiments.EXPERIMENTS[name] = original
                _float32()
            result, keras_result = row["paths"][path.name], row.get("keras", {})
            if "seconds" in result and "seconds" in keras_result:
                result["keras_over_seqkit"] = keras_result["seconds"] / result["seconds"]
        rows.append(row)
        _print_experiment_row(row)
    return rows


def _seqkit_experiment(experiments: Any, name: str, epochs: int) -> dict[str, Any]:
    started = time.perf_counter()
    result = experiments.run_experiment(name, epochs=epochs)
    return {
        "seconds": time.perf_counter() - started,
        "accuracy": result.accuracy / 100.0,
        "steps": result.history.steps,
        "policy": result.model.spec.get("policy"),
    }


def _keras_experiment(reference: Any, name: str, epochs: int) -> dict[str, Any]:
    result = reference[name](epochs=epochs)
    return {"seconds": result.seconds, "accuracy": result.accuracy, "steps": result.steps}


def _print_experiment_row(row: dict[str, Any]) -> None:
    keras_result = row.get("keras", {})
    keras_cell = f"{keras_result['seconds']:.1f}" if "seconds" in keras_result else keras_result.get("error", "-")
    for name, result in row["paths"].items():
        if "error" in result:
            print(f"| {row['experiment']} | {row['epochs']} | {name} | {row['policy_picks']} | error: {result['error']} "
                  f"| | {keras_cell} | |", flush=True)
            continue
        ratio = f"{result['keras_over_seqkit']:.1f}x" if "keras_over_seqkit" in result else "-"
        print(
            f"| {row['experiment']} | {row['epochs']} | {name} | {row['policy_picks']} | {kernel_of(result['policy'])} | "
            f"{result['seconds']:.1f} | {keras_cell} | {ratio} | {100 * result['accuracy']:.2f}% |",
            flush=True,
        )


# The run --------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    try:
        from seqkit.cli.info import describe_devices
    except ImportError:  # seqkit on PYTHONPATH rather than installed: the cli/ folder beside it
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from cli.info import describe_devices

    devices = describe_devices(tf)
    return {
        "seqkit": seqkit.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "devices": devices,
        "policy_device": visible_device(),
        "cudnn_min_work": CUDNN_MIN_WORK,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a reduced run (CPU: under 2 minutes)")
    parser.add_argument("--megabytes", type=float, default=None, help="stream corpus size (default 1; quick 0.05)")
    parser.add_argument("--epochs-scale", type=float, default=None,
                        help="fraction of the tutorial's epochs (default 0.05; quick 0.01)")
    parser.add_argument("--sections", default="sweep,stream,experiments",
                        help="comma-separated sections, run in this order (default: sweep,stream,experiments)")
    parser.add_argument("--variable-length", action="store_true", help="also time the variable-length experiment")
    parser.add_argument("--paths", default=None, help="comma-separated path names (default: all available)")
    parser.add_argument("--no-keras", dest="keras", action="store_false", help="skip the plain-Keras contenders")
    parser.add_argument("--budget", type=float, default=None, help="skip work that would start after SECONDS")
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    info = machine()
    device = info["policy_device"]
    gpus = [entry for entry in info["devices"] if entry["type"] == "GPU"]
    bfloat16 = bool(gpus) and all(entry["bfloat16"] for entry in gpus)
    paths = available_paths(device, bfloat16)
    if args.paths:
        wanted = args.paths.split(",")
        unknown = [name for name in wanted if name not in {path.name for path in paths}]
        if unknown:
            parser.error(f"paths {unknown} are not available on this {device.upper()}; "
                         f"choose from {[path.name for path in paths]}")
        paths = [path for path in paths if path.name in wanted]
    else:
        paths = [path for path in paths if path.name in DEFAULT_PATHS]
    sections = args.sections.split(",")
    megabytes = args.megabytes if args.megabytes is not None else (0.05 if args.quick else 1.0)
    epochs_scale = args.epochs_scale if args.epochs_scale is not None else (0.01 if args.quick else 0.05)
    quick_cpu = args.quick and device == "cpu"
    sweep_units = [32, 256] if quick_cpu else [32, 64, 256]
    sweep_batches = [1, 32] if quick_cpu else [1, 32, 128]
    sweep_steps = 4 if args.quick else 20
    experiment_names = ["one-char", "in-batch"] if args.quick else [
        "one-char", "window-features", "window-timesteps", "in-batch", "stateful"
    ]
    if args.variable_length:
        experiment_names.append("variable-length")
    budget = Budget(args.budget)

    gpu_names = ", ".join(f"{entry['description'] or entry['name']} (cc {entry['compute_capability']})" for entry in gpus)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {info['python']}, TensorFlow "
          f"{info['tensorflow']}, Keras {info['keras']}, seqkit {info['seqkit']}")
    print(f"device: {device.upper()}{' - ' + gpu_names if gpus else ''}; paths: {', '.join(p.name for p in paths)}; "
          f"CUDNN_MIN_WORK = {CUDNN_MIN_WORK}")
    report: dict[str, Any] = {"machine": info, "paths": [path.__dict__ for path in paths], "quick": args.quick}

    def section_stream() -> None:
        from seqkit.corpora import python_stdlib

        corpus = python_stdlib(max_bytes=int(megabytes * 1_000_000))
        print(f"\n## Stream training, {len(corpus):,} characters, T = {SEGMENT}, embedding {EMBEDDING}, "
              "epoch 2 of 2")
        print("(a) LSTM 64 x 32 streams, (b) LSTM 256 x 128 streams; Keras = the same model through fit, "
              "XLA / cuDNN / precision as on the path")
        print(STREAM_HEADER)
        report["stream"] = {"megabytes": megabytes, "characters": len(corpus),
                            "rows": run_stream(corpus, device, paths, budget, args.keras)}

    def section_sweep() -> None:
        from seqkit.corpora import python_stdlib

        largest = max(sweep_batches) * SEGMENT * sweep_steps + 1
        text = "".join("".join(document) for document in python_stdlib(max_bytes=2 * largest).sequences)
        other = "cudnn" if device == "gpu" else "graph"
        print(f"\n## Sweep: {other} against XLA, ms per step (T = {SEGMENT}, {sweep_steps} steps per epoch, epoch 2)")
        print(f"| units | streams | batch x units | policy picks | xla ms/step | {other} ms/step | {other} / xla | faster |")
        print("|---:|---:|---:|---|---:|---:|---:|---|")
        rows, suggestion = run_sweep(text, device, sweep_units, sweep_batches, sweep_steps, budget)
        report["sweep"] = {"rows": rows, "steps_per_epoch": sweep_steps, "suggested_cudnn_min_work": suggestion}
        if device == "gpu":
            print(f"\nsuggested CUDNN_MIN_WORK (smallest batch x units from which cuDNN wins at every larger "
                  f"measured size): {suggestion if suggestion is not None else 'none: XLA won at the largest size'}"
                  f"; now {CUDNN_MIN_WORK}")

    def section_experiments() -> None:
        print(f"\n## The tutorial's experiments at {epochs_scale:g} of their epochs: seconds per experiment "
              "(run_experiment) and Keras's defaults (keras_reference.py) at the same epochs")
        print("| experiment | epochs | path | policy picks | ran | seqkit s | Keras s | Keras / seqkit | seqkit acc |")
        print("|---|---:|---|---|---|---:|---:|---:|---:|")
        report["experiments"] = {
            "epochs_scale": epochs_scale,
            "rows": run_experiments(experiment_names, device, paths, epochs_scale, budget, args.keras),
        }

    runners = {"stream": section_stream, "sweep": section_sweep, "experiments": section_experiments}
    unknown = [name for name in sections if name not in runners]
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {list(runners)}")
    for name in sections:
        runners[name]()

    report["seconds"] = budget.elapsed
    report["skipped"] = budget.skipped
    if budget.skipped:
        print(f"\nskipped for the {args.budget:g} s budget: {'; '.join(budget.skipped)}")
    print(f"\ntotal {budget.elapsed:.0f} s")
    if args.json_path is not None:
        args.json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
