"""Export the XLA programs a GPU would run for seqkit training, as HLO, with inputs and CPU outputs.

A GPU with TensorFlow has not been available to seqkit's developers, but a GPU with
JAX is. This script (which needs TensorFlow, so runs here, on a CPU) builds each
training program of the device policy's XLA paths on a GPU exactly as the trainers
build it — the trainer's own ``_prepare`` (network, :class:`~seqkit.engine.driver.Driver`,
feed) under ``choose_policy(..., device="gpu")`` — takes the compiled loop the driver
traces (``Driver._compiled``: one ``tf.function(jit_compile=True)`` running a call's steps
in a ``tf.while_loop``), and writes, per program, into ``FOLDER/<program>/``:

- ``module.hlo.pb``: the HLO module, ``experimental_get_compiler_ir(...)(stage="hlo_serialized")``
  (a serialized ``HloModuleProto``, before any XLA optimization, so that the GPU compiler
  optimizes it for itself), and ``module.hlo.txt``, the same as text;
- ``inputs.npz``: the HLO parameters ``p000, p001, ...`` in parameter order: the loop's
  arguments flattened as ``tf.nest`` flattens them (the feed's constant ``data``, the
  call's ``table``, the step ``count``), then every variable the function captures
  (network weights, optimizer slots and step, the carried LSTM state), their values
  before the call (seeded);
- ``outputs.npz``: what the same program returned on this CPU, ``o000, o001, ...`` in
  the order of the HLO's result tuple: the per-step records ``[loss sum, correct, count]``,
  then the new value of every variable the call wrote (tf2xla returns a resource only
  when the program modified it; the ones not written, e.g. Adam's learning rate, are
  absent);
- ``manifest.json``: the program's name and sizes, the steps per call, the policy, every
  parameter's and result's name, shape and dtype, TensorFlow's version and whether it had
  TF32 on (which decides the dots' ``precision_config``).

``FOLDER/manifest.json`` lists the programs. ``benchmarks/gpu_replay.py`` reads the
folder without TensorFlow, compiles each module with jaxlib and compares.

Programs (``--programs`` picks some, ``--quick`` the small ones only):

- ``stream_64x32``: StreamTrainer, LSTM 64 x 32 streams, embedding 16, 64-step segments,
  a 96-character vocabulary; the policy's GPU choice at that size is XLA without cuDNN
  with seqkit's kernel;
- ``stream_256x128``: the same at LSTM 256 x 128 streams, with ``jit_compile=True`` (XLA with
  seqkit's kernel whatever the threshold): the XLA side of the comparison that set
  ``CUDNN_MIN_WORK`` (65,536 since this program ran on an H200, so now also the policy's
  own choice at this size);
- ``stateless_alphabet``: StatelessTrainer on the alphabet, window 3, LSTM 32, batch 1
  (the tutorial's model; Keras's LSTM with ``use_cudnn=False`` under XLA), one epoch a call;
- ``stateful_alphabet``: StatefulTrainer on the alphabet, window 1, LSTM 16, batch 1.

Usage::

    .venv/bin/python benchmarks/hlo_export.py                       # all, into benchmarks/.cache/hlo
    .venv/bin/python benchmarks/hlo_export.py --quick --folder /tmp/hlo
    .venv/bin/python benchmarks/hlo_export.py --programs stream_64x32,stateless_alphabet
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqkit._quiet import quiet_import, silence_tensorflow  # noqa: E402

silence_tensorflow()
quiet_import()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

DEFAULT_FOLDER = Path(__file__).resolve().parent / ".cache" / "hlo"
FORMAT = 1
"""The folder's format version (``gpu_replay.py`` refuses another)."""

SEGMENT, EMBEDDING, SEED = 64, 16, 7


@dataclass(frozen=True)
class Program:
    """One program to export.

    Attributes:
        name: its folder's name.
        kind: ``"stream"``, ``"stateless"`` or ``"stateful"``.
        units: LSTM units.
        batch: streams (stream training) or the batch size (window trainers).
        steps: optimizer steps per exported call (stream training: the first ``steps`` steps
            of an epoch; window trainers: one whole epoch).
        quick: exported by ``--quick``.
        jit_compile: the trainer's ``jit_compile`` (None: the policy decides).
        window: the window length (window trainers).
        description: one line for the manifest.
    """

    name: str
    kind: str
    units: int
    batch: int
    steps: int
    quick: bool
    jit_compile: bool | None = None
    window: int = SEGMENT
    description: str = ""


PROGRAMS: dict[str, Program] = {
    program.name: program
    for program in (
        Program("stream_64x32", "stream", 64, 32, 8, True,
                description="StreamTrainer LSTM 64 x 32 streams, seqkit's kernel under XLA (the GPU policy's choice)"),
        Program("stream_256x128", "stream", 256, 128, 4, False, jit_compile=True,
                description="StreamTrainer LSTM 256 x 128 streams, seqkit's kernel under XLA "
                            "(jit_compile=True: the GPU policy alone picks cuDNN at this size)"),
        Program("stateless_alphabet", "stateless", 32, 1, 23, True, window=3,
                description="StatelessTrainer alphabet, window 3, LSTM 32, batch 1, Keras LSTM use_cudnn=False under XLA"),
        Program("stateful_alphabet", "stateful", 16, 1, 25, False, window=1,
                description="StatefulTrainer alphabet, window 1, LSTM 16, batch 1, Keras LSTM use_cudnn=False under XLA"),
    )
}

_SHAPE = re.compile(r"\b(pred|s8|s16|s32|s64|u8|u16|u32|u64|f16|bf16|f32|f64)\[([0-9,]*)\]")
_HLO_DTYPES = {
    "pred": "bool", "s8": "int8", "s16": "int16", "s32": "int32", "s64": "int64", "u8": "uint8",
    "u16": "uint16", "u32": "uint32", "u64": "uint64", "f16": "float16", "bf16": "bfloat16",
    "f32": "float32", "f64": "float64",
}


def hlo_signature(text: str) -> tuple[list[tuple[str, list[int]]], list[tuple[str, list[int]]]]:
    """The entry computation's parameter and result shapes ``(dtype, dims)`` from an HLO module's text.

    Read from the ``entry_computation_layout={(params)->(results)}`` of the ``HloModule`` line.
    """
    header = text.split("\n", 1)[0]
    match = re.search(r"entry_computation_layout=\{\((.*)\)->(.*)\}", header)
    if match is None:
        raise ValueError("no entry_computation_layout in the HLO module's first line")

    def shapes(part: str) -> list[tuple[str, list[int]]]:
        return [(_HLO_DTYPES[kind], [int(dim) for dim in dims.split(",") if dim]) for kind, dims in _SHAPE.findall(part)]

    return shapes(match.group(1)), shapes(match.group(2))


def random_text(length: int, seed: int = SEED) -> str:
    """``length`` characters drawn (seeded) from 96 printable ASCII characters: a ~96-token vocabulary."""
    rng = random.Random(seed)
    alphabet = string.printable[:96]
    return "".join(rng.choice(alphabet) for _ in range(length))


def prepare(program: Program) -> Any:
    """The trainer's prepared run (network, driver, feed) for ``program``, under the GPU policy.

    The trainer's own ``_prepare`` builds everything; only ``choose_policy`` is given
    ``device="gpu"`` (what a machine with a GPU would pass) while it runs.
    """
    import seqkit.trainers.base as trainer_base
    from seqkit.datasets import Corpus, alphabet
    from seqkit.engine.policy import choose_policy
    from seqkit.trainers import StatefulTrainer, StatelessTrainer, StreamTrainer

    trainer: Any
    if program.kind == "stream":
        tokens = program.batch * SEGMENT * (program.steps + 1) + 1
        corpus = Corpus.from_text(random_text(tokens), level="char", name="random96")
        trainer = StreamTrainer(
            window=SEGMENT, batch_size=program.batch, units=program.units, embedding_dim=EMBEDDING, epochs=1,
            reset="epoch", seed=SEED, jit_compile=program.jit_compile,
        )
    elif program.kind == "stateless":
        corpus = alphabet()
        trainer = StatelessTrainer(
            window=program.window, units=program.units, batch_size=program.batch, epochs=1, seed=SEED,
            jit_compile=program.jit_compile,
        )
    elif program.kind == "stateful":
        corpus = alphabet()
        trainer = StatefulTrainer(
            window=program.window, units=program.units, batch_size=program.batch, epochs=1, seed=SEED,
            jit_compile=program.jit_compile,
        )
    else:
        raise ValueError(f"unknown program kind {program.kind!r}")

    original: Callable[..., Any] = trainer_base.choose_policy

    def gpu_policy(**kwargs: Any) -> Any:
        kwargs["device"] = "gpu"
        return choose_policy(**kwargs)

    trainer_base.choose_policy = gpu_policy
    try:
        with contextlib.ExitStack() as scope:
            run = trainer._prepare(corpus, None, None, scope)
            # the stream corpus's token file is only read while preparing (the feed holds its ids)
    finally:
        trainer_base.choose_policy = original
    if run.policy.device != "gpu":
        raise RuntimeError(f"{program.name}: the trainer did not take the GPU policy (it chose {run.policy.reason!r})")
    return run


def _entry(name: str, value: np.ndarray) -> dict[str, Any]:
    return {"name": name, "shape": list(value.shape), "dtype": str(value.dtype)}


def export_program(program: Program, folder: Path) -> dict[str, Any]:
    """Export one program into ``folder / program.name``; its manifest."""
    started = time.perf_counter()
    run = prepare(program)
    driver, feed, policy = run.driver, run.feed, run.policy
    if not policy.jit_compile:
        raise RuntimeError(f"{program.name}: the policy does not compile with XLA ({policy.reason})")
    data = driver._data(feed)
    stop = None if program.kind != "stream" else program.steps
    table, steps = feed.call_table(driver, 0, 1, 0, stop)
    count = tf.constant(sum(steps), tf.int32)
    if sum(steps) != program.steps:
        raise RuntimeError(f"{program.name}: a call holds {sum(steps)} steps, not the {program.steps} expected")
    function = driver._compiled(feed, True)
    concrete = function.get_concrete_function(data, table, count)

    # The HLO parameters: the flat arguments, then the captured inputs (variables' handles).
    names = {"data": sorted(data), "table": sorted(table) if isinstance(table, dict) else []}
    flat = tf.nest.flatten((data, table, count))
    flat_names = [f"data/{key}" for key in names["data"]] + [f"table/{key}" for key in names["table"]] + ["count"]
    if len(flat) != len(flat_names):
        raise RuntimeError(f"{program.name}: the loop's arguments are not (data dict, table dict, count)")
    by_handle = {id(variable.handle): variable for variable in concrete.variables}
    captured: list[tuple[str, Any]] = []
    for capture in concrete.captured_inputs:
        variable = by_handle.get(id(capture))
        if variable is None:
            if capture.dtype == tf.resource:
                raise RuntimeError(f"{program.name}: a captured resource is no variable of the function")
            captured.append(("constant", capture))
        else:
            captured.append((variable.name, variable))

    text = function.experimental_get_compiler_ir(data, table, count)(stage="hlo")
    serialized = function.experimental_get_compiler_ir(data, table, count)(stage="hlo_serialized")
    parameters, results = hlo_signature(text)

    inputs = [np.asarray(value.numpy()) for value in flat]
    inputs += [np.asarray(source.numpy()) for _, source in captured]
    input_names = flat_names + [name for name, _ in captured]
    if len(parameters) != len(inputs) or any(
        dtype != str(value.dtype) or dims != list(value.shape) for (dtype, dims), value in zip(parameters, inputs)
    ):
        raise RuntimeError(
            f"{program.name}: the HLO's {len(parameters)} parameters do not match the {len(inputs)} "
            "arguments and captured variables in order"
        )

    call_started = time.perf_counter()
    records = function(data, table, count).numpy()
    cpu_seconds = time.perf_counter() - call_started
    after = [np.asarray(source.numpy()) for _, source in captured]
    outputs, output_names = [records], ["records"]
    written = [index for index, (before, now) in enumerate(zip(inputs[len(flat):], after)) if not np.array_equal(before, now)]
    if len(written) != len(results) - 1:
        written = _align(results[1:], after)
    for index in written:
        outputs.append(after[index])
        output_names.append(input_names[len(flat) + index])
    if len(outputs) != len(results) or any(
        dtype != str(value.dtype) or dims != list(value.shape) for (dtype, dims), value in zip(results, outputs)
    ):
        raise RuntimeError(f"{program.name}: the HLO's results do not match the records and the variables written")

    target = folder / program.name
    target.mkdir(parents=True, exist_ok=True)
    (target / "module.hlo.pb").write_bytes(serialized)
    (target / "module.hlo.txt").write_text(text)
    np.savez_compressed(target / "inputs.npz", **{f"p{index:03d}": value for index, value in enumerate(inputs)})
    np.savez_compressed(target / "outputs.npz", **{f"o{index:03d}": value for index, value in enumerate(outputs)})
    manifest = {
        "format": FORMAT,
        "program": program.name,
        "description": program.description,
        "kind": program.kind,
        "units": program.units,
        "batch": program.batch,
        "embedding": EMBEDDING if program.kind == "stream" else None,
        "segment": SEGMENT if program.kind == "stream" else None,
        "window": None if program.kind == "stream" else program.window,
        "vocabulary": int(run.data.vocabulary.size),
        "steps_per_call": int(sum(steps)),
        "quick": program.quick,
        "policy": policy.get_config(),
        "module": "module.hlo.pb",
        "module_text": "module.hlo.txt",
        "inputs": "inputs.npz",
        "outputs": "outputs.npz",
        "parameters": [_entry(name, value) for name, value in zip(input_names, inputs)],
        "results": [_entry(name, value) for name, value in zip(output_names, outputs)],
        "tensorflow": tf.__version__,
        "tensorflow_tf32": bool(tf.config.experimental.tensor_float_32_execution_enabled()),
        "cpu_call_seconds": cpu_seconds,
        "export_seconds": time.perf_counter() - started,
        "bytes": sum(path.stat().st_size for path in target.iterdir()),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _align(results: list[tuple[str, list[int]]], values: list[np.ndarray]) -> list[int]:
    """The variables (indices into ``values``) the results are, in order, matched by shape and dtype
    (for when a variable was written but kept its value); raises when that is ambiguous."""
    chosen: list[int] = []
    start = 0
    for dtype, dims in results:
        matches = [index for index in range(start, len(values))
                   if str(values[index].dtype) == dtype and list(values[index].shape) == dims]
        if not matches:
            raise RuntimeError("the HLO's results do not match the captured variables in order")
        chosen.append(matches[0])
        start = matches[0] + 1
    return chosen


def main(argv: list[str] | None = None) -> int:
    """Export the programs asked; print one line each and the total size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help=f"output folder (default {DEFAULT_FOLDER})")
    parser.add_argument("--quick", action="store_true", help="the small programs only")
    parser.add_argument("--programs", default=None, help=f"comma-separated names from {', '.join(PROGRAMS)}")
    args = parser.parse_args(argv)
    if args.programs:
        names = [name.strip() for name in args.programs.split(",") if name.strip()]
        unknown = [name for name in names if name not in PROGRAMS]
        if unknown:
            parser.error(f"unknown programs {unknown}; choose from {', '.join(PROGRAMS)}")
    else:
        names = [name for name, program in PROGRAMS.items() if program.quick or not args.quick]
    import keras

    print(f"hlo_export: TensorFlow {tf.__version__}, Keras {keras.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()} {platform.processor() or ''}".rstrip())
    folder: Path = args.folder
    folder.mkdir(parents=True, exist_ok=True)
    manifests = []
    for name in names:
        manifest = export_program(PROGRAMS[name], folder)
        manifests.append(manifest)
        print(f"  {name:20s} {len(manifest['parameters']):3d} params {len(manifest['results']):3d} results "
              f"{manifest['steps_per_call']:3d} steps/call  CPU call {manifest['cpu_call_seconds']:.2f} s  "
              f"{manifest['bytes'] / 1e6:.2f} MB  ({manifest['policy']['reason']})")
    index = {
        "format": FORMAT,
        "programs": [manifest["program"] for manifest in manifests],
        "tensorflow": tf.__version__,
        "exported_on": {"platform": platform.platform(), "machine": platform.machine(), "python": platform.python_version()},
    }
    (folder / "manifest.json").write_text(json.dumps(index, indent=1) + "\n")
    total = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    print(f"wrote {len(manifests)} programs to {folder} ({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
