"""Replay seqkit's exported XLA training programs with jaxlib (no TensorFlow): compile time, ms per step, accuracy.

Reads the folder ``benchmarks/hlo_export.py`` wrote (``FOLDER/manifest.json`` and one folder
per program: the HLO module, its inputs, the outputs TensorFlow computed on a CPU) and, for
each program, on JAX's default backend (a GPU where there is one, else the CPU):

1. deserializes the HLO module and compiles it with jaxlib (the entry point used is
   reported: ``hlo_to_stablehlo`` of the ``HloModuleProto``, or an ``XlaComputation``
   through ``xla_computation_to_mlir_module``; then the client's ``compile_and_load``),
   timing the compilation (on a GPU that includes XLA's autotuning);
2. runs it on the saved inputs: one warm-up call, then ``--repeats`` timed calls, each
   waited for (``block_until_ready``): milliseconds per call and per optimizer step;
3. compares every result with the CPU's: max abs difference, max difference relative to
   the result's largest magnitude, ``allclose`` at the stated tolerance (integer results
   must be equal).

Each program runs twice: as exported (``default`` dot precision: on an Ampere-or-later GPU
XLA runs float32 dots as TF32 there, as TensorFlow does with TF32 enabled, its default)
and with every ``dot_general`` / ``convolution`` rewritten to ``precision_config =
[HIGHEST, HIGHEST]`` (XLA GPU then computes float32 dots in full float32: TF32 off). XLA
has no flag for this in these versions; the rewrite is what ``jax.default_matmul_precision
("highest")`` does to JAX's own programs. On a CPU there is no TF32: both runs are float32
and the table says ``n/a``.

The tolerance (``RTOL``, ``ATOL``): after a few Adam steps a weight whose gradient is near
zero can move by up to the learning rate (1e-3) per step in a different direction when the
gradient is rounded differently, so results are compared at ``atol = ATOL`` per step of
the call; the records (loss sums, correct counts) at ``rtol = RTOL``.

Usage::

    python benchmarks/gpu_replay.py --dry                      # CPU, one repetition, small programs
    python benchmarks/gpu_replay.py --json replay.json         # GPU: every program, both precisions
    python benchmarks/gpu_replay.py --folder /tmp/hlo --repeats 50 --programs stream_64x32

Exit status 0 after a run (mismatches are reported, not fatal), 2 with one line on stderr
when the folder or a manifest is missing or malformed, 3 when no jaxlib entry point
compiles the modules.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_FOLDER = Path(__file__).resolve().parent / ".cache" / "hlo"
FORMAT = 1
RTOL = 1e-3
"""Relative tolerance of the comparison with the CPU's results."""
ATOL = 1e-3
"""Absolute tolerance per optimizer step of the call (see the module doc)."""
MANIFEST_KEYS = ("program", "module", "inputs", "outputs", "steps_per_call", "parameters", "results")


class ReplayError(Exception):
    """A problem reported as one line (exit status in ``code``)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Result:
    """One program run in one precision mode."""

    program: str
    mode: str
    tf32: str
    entry_point: str
    compile_seconds: float
    ms_per_call: float
    ms_per_step: float
    steps_per_call: int
    repeats: int
    max_abs_diff: float
    max_rel_diff: float
    worst_result: str
    allclose: bool
    atol: float
    rtol: float
    dots_rewritten: int


# ---------------------------------------------------------------------------- the folder
def load_folder(folder: Path) -> list[dict[str, Any]]:
    """The programs' manifests (each with ``"folder"`` added); ReplayError when missing or malformed."""
    index_path = folder / "manifest.json"
    if not folder.is_dir():
        raise ReplayError(f"gpu_replay: no folder {folder}; export it first with benchmarks/hlo_export.py")
    if not index_path.is_file():
        raise ReplayError(f"gpu_replay: {folder} has no manifest.json; export it with benchmarks/hlo_export.py")
    index = _read_json(index_path)
    if not isinstance(index, dict) or not isinstance(index.get("programs"), list):
        raise ReplayError(f"gpu_replay: malformed manifest {index_path}: no list of programs")
    if index.get("format") != FORMAT:
        raise ReplayError(f"gpu_replay: {index_path} has format {index.get('format')!r}, this script reads {FORMAT}")
    manifests = []
    for name in index["programs"]:
        path = folder / str(name) / "manifest.json"
        if not path.is_file():
            raise ReplayError(f"gpu_replay: malformed folder: program {name!r} has no {path}")
        manifest = _read_json(path)
        missing = [key for key in MANIFEST_KEYS if not isinstance(manifest, dict) or key not in manifest]
        if missing:
            raise ReplayError(f"gpu_replay: malformed manifest {path}: missing {', '.join(missing)}")
        for key in ("module", "inputs", "outputs"):
            if not (folder / str(name) / str(manifest[key])).is_file():
                raise ReplayError(f"gpu_replay: malformed manifest {path}: its {key} file {manifest[key]!r} is missing")
        if not all(isinstance(entry, dict) and {"name", "shape", "dtype"} <= set(entry)
                   for entry in [*manifest["parameters"], *manifest["results"]]):
            raise ReplayError(f"gpu_replay: malformed manifest {path}: parameters and results need name, shape, dtype")
        manifest["folder"] = str(folder / str(name))
        manifests.append(manifest)
    if not manifests:
        raise ReplayError(f"gpu_replay: {index_path} lists no programs")
    return manifests


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ReplayError(f"gpu_replay: malformed manifest {path}: {error}") from None


def _arrays(path: Path, prefix: str, entries: Sequence[dict[str, Any]]) -> list[np.ndarray]:
    """The arrays ``prefix000, prefix001, ...`` of an npz file, checked against the manifest's entries."""
    with np.load(path) as archive:
        arrays = [archive[f"{prefix}{index:03d}"] if f"{prefix}{index:03d}" in archive else None
                  for index in range(len(entries))]
    for entry, value in zip(entries, arrays):
        if value is None or list(value.shape) != list(entry["shape"]) or str(value.dtype) != entry["dtype"]:
            raise ReplayError(f"gpu_replay: {path} does not hold {entry['name']} as its manifest says")
    return arrays  # type: ignore[return-value]


# ---------------------------------------------------------------------------- compiling
def _to_stablehlo(proto: bytes) -> tuple[Any, str]:
    """The module as StableHLO (bytecode or text) and the name of the jaxlib entry point that converted it."""
    from jax._src.lib import _jax

    failures = []
    try:
        return _jax.mlir.hlo_to_stablehlo(proto), "mlir.hlo_to_stablehlo"
    except Exception as error:  # noqa: BLE001 - any failure: try the next entry point
        failures.append(f"hlo_to_stablehlo: {error}")
    try:
        from jax._src.lib import xla_client

        computation = xla_client.XlaComputation(proto)
        return _jax.mlir.xla_computation_to_mlir_module(computation), "XlaComputation+xla_computation_to_mlir_module"
    except Exception as error:  # noqa: BLE001
        failures.append(f"xla_computation_to_mlir_module: {error}")
    raise ReplayError("gpu_replay: no jaxlib entry point converts the HLO module: " + "; ".join(failures), code=3)


def _walk(operation: Any) -> Any:
    """Every operation nested in ``operation`` (regions, blocks), depth first."""
    for region in operation.regions:
        for block in region.blocks:
            for child in block.operations:
                child = getattr(child, "operation", child)
                yield child
                yield from _walk(child)


def _context() -> Any:
    """An MLIR context with JAX's dialects, also accepting ops of dialects this jaxlib no longer registers."""
    from jaxlib.mlir import ir
    from jaxlib.mlir.dialects import stablehlo as hlo

    try:
        from jax._src.interpreters import mlir as jax_mlir

        context = jax_mlir.make_ir_context()  # JAX's own: every dialect it emits registered
    except Exception:  # noqa: BLE001 - a newer JAX moved it: a bare context with StableHLO
        context = ir.Context()
        hlo.register_dialect(context)
    context.allow_unregistered_dialects = True
    return context


def prepare_module(module: Any, *, highest: bool) -> tuple[str, int, int]:
    """``module`` (StableHLO bytecode or text) made compilable by this jaxlib, as text.

    TensorFlow's HLO holds ``copy`` instructions, which the converter keeps as ``mhlo.copy``:
    jaxlib 0.11's compile pipeline no longer legalizes MHLO ("CHLO => [StableHLO+Shape] =>
    StableHLO failed", seen on the H200), so each copy is replaced by its operand (a copy
    computes nothing). With ``highest``, every dot and convolution also gets
    ``precision_config = [HIGHEST, HIGHEST]`` (TF32 off). Returns the text, the copies
    removed and the dots rewritten.
    """
    from jaxlib.mlir import ir
    from jaxlib.mlir.dialects import stablehlo as hlo

    with _context():
        parsed = ir.Module.parse(module)
        copies = [operation for operation in _walk(parsed.operation) if operation.name == "mhlo.copy"]
        for operation in copies:
            operation.results[0].replace_all_uses_with(operation.operands[0])
            operation.erase()
        count = 0
        if highest:
            attribute = ir.ArrayAttr.get([hlo.PrecisionAttr.get("HIGHEST")] * 2)
            for operation in _walk(parsed.operation):  # walked again: the copies are gone
                if operation.name in ("stablehlo.dot_general", "stablehlo.dot", "stablehlo.convolution"):
                    operation.attributes["precision_config"] = attribute
                    count += 1
        return str(parsed), len(copies), count


def compile_module(proto: bytes, *, highest: bool) -> tuple[Any, str, float, int]:
    """The loaded executable for the default device; the entry points used, the compile seconds, dots rewritten."""
    import jax
    from jax._src.lib import xla_client

    converted, converter = _to_stablehlo(proto)
    module, copies, rewritten = prepare_module(converted, highest=highest)
    how = converter + (f" ({copies} mhlo.copy removed)" if copies else "")
    device = jax.devices()[0]
    client = device.client
    options = xla_client.CompileOptions()
    attempts: list[tuple[str, Callable[[], Any]]] = [
        ("client.compile_and_load(module, [device])", lambda: client.compile_and_load(module, [device], options)),
        ("client.compile_and_load(module, DeviceList)",
         lambda: client.compile_and_load(module, xla_client.DeviceList((device,)), options)),
        ("client.compile(module)", lambda: client.compile(module, compile_options=options)),
    ]
    failures = []
    for name, attempt in attempts:
        started = time.perf_counter()
        try:
            executable = attempt()
        except Exception as error:  # noqa: BLE001 - any failure: try the next entry point
            detail = " | ".join(str(error).splitlines()[:4]) if str(error) else type(error).__name__
            failures.append(f"{name}: {detail[:600]}")
            continue
        if not hasattr(executable, "execute_sharded") and not hasattr(executable, "execute"):
            failures.append(f"{name}: returned {type(executable).__name__}, not a loaded executable")
            continue
        return executable, f"{how} -> {name}", time.perf_counter() - started, rewritten
    raise ReplayError("gpu_replay: no jaxlib entry point compiles the module: " + "; ".join(failures), code=3)


def execute(executable: Any, arguments: Sequence[Any]) -> list[Any]:
    """One call: the results as device arrays (not waited for)."""
    if hasattr(executable, "execute_sharded"):
        results = executable.execute_sharded(list(arguments))
        return [parts[0] for parts in results.disassemble_into_single_device_arrays()]
    return list(executable.execute(list(arguments)))


# ---------------------------------------------------------------------------- one program
def compare(results: Sequence[np.ndarray], expected: Sequence[np.ndarray], names: Sequence[str], *, atol: float,
            rtol: float) -> tuple[float, float, str, bool]:
    """Max abs difference, max difference relative to each result's largest magnitude, the worst result's
    name, and whether all are close (integers and booleans: equal)."""
    worst_abs, worst_rel, worst, close = 0.0, 0.0, "", True
    if len(results) != len(expected):
        return float("inf"), float("inf"), f"{len(results)} results, {len(expected)} expected", False
    for got, want, name in zip(results, expected, names):
        got = np.asarray(got)
        if got.shape != want.shape:
            return float("inf"), float("inf"), f"{name} has shape {got.shape}, expected {want.shape}", False
        if not np.issubdtype(want.dtype, np.floating):
            same = bool(np.array_equal(got, want))
            close &= same
            difference = 0.0 if same else float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
            relative = difference
        else:
            close &= bool(np.allclose(got, want, rtol=rtol, atol=atol))
            difference = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
            scale = float(np.max(np.abs(want))) if want.size else 0.0
            relative = difference / scale if scale > 0 else difference
        if difference > worst_abs or not worst:
            worst_abs, worst = difference, name
        worst_rel = max(worst_rel, relative)
    return worst_abs, worst_rel, worst, close


def replay(manifest: dict[str, Any], *, repeats: int, highest: bool, platform_name: str) -> Result:
    """Compile and run one program in one precision mode; its measurements."""
    import jax

    folder = Path(manifest["folder"])
    proto = (folder / manifest["module"]).read_bytes()
    inputs = _arrays(folder / manifest["inputs"], "p", manifest["parameters"])
    expected = _arrays(folder / manifest["outputs"], "o", manifest["results"])
    executable, entry_point, compile_seconds, rewritten = compile_module(proto, highest=highest)
    device = jax.devices()[0]

    def fresh() -> list[Any]:
        """The inputs on the device, new buffers: the module aliases the variables' parameters to their
        results (TensorFlow donates them), so each call consumes its arguments."""
        arguments = [jax.device_put(np.array(value, copy=True), device) for value in inputs]
        return jax.block_until_ready(arguments)

    arguments = fresh()
    for argument, value in zip(arguments, inputs):
        if argument.dtype != value.dtype:
            raise ReplayError(f"gpu_replay: {value.dtype} input became {argument.dtype} on the device (jax_enable_x64?)")
    outputs = execute(executable, arguments)  # warm-up (and the results compared)
    jax.block_until_ready(outputs)
    results = [np.asarray(output) for output in outputs]
    seconds = []
    for _ in range(repeats):
        arguments = fresh()
        started = time.perf_counter()
        jax.block_until_ready(execute(executable, arguments))
        seconds.append(time.perf_counter() - started)
    steps = int(manifest["steps_per_call"])
    atol = ATOL * steps
    max_abs, max_rel, worst, close = compare(
        results, expected, [entry["name"] for entry in manifest["results"]], atol=atol, rtol=RTOL
    )
    ms = statistics.median(seconds) * 1000.0
    gpu = platform_name in ("gpu", "cuda", "rocm")
    return Result(
        program=manifest["program"], mode="highest" if highest else "default",
        tf32=("off" if highest else "on") if gpu else "n/a", entry_point=entry_point,
        compile_seconds=compile_seconds, ms_per_call=ms, ms_per_step=ms / steps, steps_per_call=steps,
        repeats=repeats, max_abs_diff=max_abs, max_rel_diff=max_rel, worst_result=worst, allclose=close,
        atol=atol, rtol=RTOL, dots_rewritten=rewritten,
    )


# ---------------------------------------------------------------------------- the run
def machine() -> dict[str, Any]:
    """The backend and the machine: platform, device kind, versions."""
    import jax
    import jaxlib

    device = jax.devices()[0]
    return {
        "platform": device.platform,
        "device_kind": device.device_kind,
        "devices": len(jax.devices()),
        "jax": jax.__version__,
        "jaxlib": getattr(jaxlib, "__version__", "?"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


def table(results: Sequence[Result]) -> str:
    """The results as a text table."""
    header = (f"{'program':20s} {'tf32':4s} {'dots':>4s} {'compile s':>9s} {'ms/call':>9s} {'ms/step':>8s} "
              f"{'max abs diff':>12s} {'max rel diff':>12s} {'allclose':>8s}")
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result.program:20s} {result.tf32 if result.tf32 != 'n/a' else result.mode[:4]:4s} "
            f"{result.dots_rewritten if result.mode == 'highest' else '-':>4} {result.compile_seconds:9.2f} "
            f"{result.ms_per_call:9.3f} {result.ms_per_step:8.4f} {result.max_abs_diff:12.3e} "
            f"{result.max_rel_diff:12.3e} {str(result.allclose):>8s}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Replay the folder's programs; print the table, write JSON when asked."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help=f"the exported folder (default {DEFAULT_FOLDER})")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per program and mode (default 20)")
    parser.add_argument("--dry", action="store_true", help="CPU, one repetition, the small programs only")
    parser.add_argument("--programs", default=None, help="comma-separated program names (default: all, or the small ones with --dry)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    args = parser.parse_args(argv)
    try:
        manifests = load_folder(args.folder)
        if args.programs:
            wanted = [name.strip() for name in args.programs.split(",") if name.strip()]
            unknown = sorted(set(wanted) - {manifest["program"] for manifest in manifests})
            if unknown:
                raise ReplayError(f"gpu_replay: {args.folder} has no programs {', '.join(unknown)}")
            manifests = [manifest for manifest in manifests if manifest["program"] in wanted]
        elif args.dry:
            quick = [manifest for manifest in manifests if manifest.get("quick")]
            manifests = quick or [min(manifests, key=lambda manifest: os.path.getsize(
                Path(manifest["folder"]) / manifest["inputs"]))]
        repeats = 1 if args.dry else max(1, int(args.repeats))
        if args.dry:
            os.environ["JAX_PLATFORMS"] = "cpu"
        import jax

        try:
            jax.config.update("jax_enable_x64", True)  # the optimizer's step counter is int64
        except Exception as error:  # noqa: BLE001 - checked per input below
            print(f"gpu_replay: could not enable 64-bit types ({error}); int64 inputs may not survive")
        if args.dry:
            jax.config.update("jax_platforms", "cpu")
        info = machine()
        gpu = info["platform"] in ("gpu", "cuda", "rocm")
        print(f"gpu_replay: {info['platform']} ({info['device_kind']}, {info['devices']} device(s)), "
              f"jax {info['jax']}, jaxlib {info['jaxlib']}, Python {info['python']}, {info['machine']}, "
              f"{info['cpus']} CPUs")
        print("TF32: 'on' = the dots as exported (DEFAULT precision), 'off' = rewritten to HIGHEST" if gpu else
              "TF32: n/a on a CPU (float32 dots are float32 either way); both precision modes run "
              "('defa' as exported, 'high' rewritten to HIGHEST)")
        results = []
        skipped = []
        for manifest in manifests:
            results.append(replay(manifest, repeats=repeats, highest=False, platform_name=info["platform"]))
            try:
                results.append(replay(manifest, repeats=repeats, highest=True, platform_name=info["platform"]))
            except Exception as error:  # noqa: BLE001 - the rewrite is extra: report it, keep the rest
                line = str(error).splitlines()[0] if str(error) else type(error).__name__
                skipped.append({"program": manifest["program"], "mode": "highest", "error": line})
                print(f"gpu_replay: {manifest['program']}: the HIGHEST-precision (TF32 off) run failed: {line}")
        print(f"jaxlib entry point: {results[0].entry_point}")
        print(f"{repeats} timed call(s) per row after one warm-up; medians. Tolerance: rtol {RTOL}, "
              f"atol {ATOL} x steps per call")
        print(table(results))
    except ReplayError as error:
        print(str(error), file=sys.stderr)
        return error.code
    if args.json is not None:
        args.json.write_text(json.dumps({
            "machine": info, "folder": str(args.folder), "repeats": repeats, "dry": bool(args.dry),
            "tolerance": {"rtol": RTOL, "atol_per_step": ATOL},
            "results": [asdict(result) for result in results], "skipped": skipped,
        }, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
