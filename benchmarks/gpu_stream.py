"""Stream training on a GPU: seqkit on Keras's JAX backend against PyTorch's cuDNN ``nn.LSTM``.

The same model (Embedding 16 -> LSTM -> Dense over every step), the same batches (``B``
parallel streams of 64-step segments of the Python standard library's source, state carried
from segment to segment and zeroed at each epoch's start), Adam at the same rate, the same
number of steps, in one process, contenders interleaved at each size:

- ``seqkit-cudnn``: :class:`seqkit.engine.jax_loop.JaxStreamLoop` (what ``StreamTrainer``
  runs on ``KERAS_BACKEND=jax``): each epoch one ``jax.jit`` program, Keras's LSTM taking
  cuDNN's kernel inside it (``jax.experimental.rnn``);
- ``seqkit-xla``: the same loop with ``use_cudnn=False``: the LSTM as XLA's own scan, to find
  the size from which cuDNN pays (the JAX analogue of ``CUDNN_MIN_WORK``);
- ``torch-cudnn``: PyTorch ``nn.LSTM`` (cuDNN), ``torch.optim.Adam(fused=True)`` on a GPU,
  one Python step per segment, the state detached between segments.

Reports characters per second of the epochs after the first (which holds compilation), the
first epoch's extra seconds, and the mean loss of the last epoch (after the same steps).
Float32 weights everywhere; TF32 as each framework has it by default on the card (printed).

No TensorFlow is imported (the GPU machine has none): ``KERAS_BACKEND=jax`` is set here.

Usage::

    python benchmarks/gpu_stream.py --json gpu-stream.json          # GPU, about 3 minutes
    python benchmarks/gpu_stream.py --dry                            # CPU, tiny sizes, < 1 minute
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX and PyTorch share the card
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

SEGMENT, EMBEDDING, LEARNING_RATE = 64, 16, 0.002
SIZES = ((64, 32), (256, 128), (1024, 256))  # units x streams
DRY_SIZES = ((16, 4), (32, 8))


def corpus_ids(megabytes: float) -> tuple[np.ndarray, int]:
    """The standard library's source as ids (one stream of characters), and the vocabulary size."""
    from seqkit.corpora import python_stdlib

    corpus = python_stdlib(max_bytes=int(megabytes * 1_000_000))
    vocabulary = corpus.vocabulary()
    ids = np.concatenate([vocabulary.encode_array(sequence) for sequence in corpus.sequences]).astype(np.int32)
    return ids, vocabulary.size


def layout(ids: np.ndarray, streams: int) -> tuple[np.ndarray, np.ndarray]:
    """Segment starts ``(steps, B)`` and resets (each row at step 0 only), as ``reset="epoch"`` trains."""
    from seqkit.streams import StreamLayout, stream_resets

    stream_layout = StreamLayout(len(ids), streams, SEGMENT)
    return stream_layout.segment_starts(), stream_resets(stream_layout, [0], "epoch")


def seqkit_run(ids: np.ndarray, vocabulary: int, units: int, streams: int, epochs: int, cudnn: bool) -> dict[str, Any]:
    """seqkit's JAX loop, ``epochs`` epochs; per-epoch seconds and losses."""
    import keras

    from seqkit.backends import jax_device
    from seqkit.engine.jax_loop import JaxStreamLoop, jax_policy
    from seqkit.models import ModelSpec, build_stream_model

    keras.utils.set_random_seed(7)
    policy = jax_policy(units=units, batch_size=streams)
    network = build_stream_model(
        ModelSpec(units=units, embedding_dim=EMBEDDING), vocabulary_size=vocabulary,
        use_cudnn="auto" if cudnn and jax_device() == "gpu" else False,
    )
    loop = JaxStreamLoop(network, streams=streams, policy=policy, learning_rate=LEARNING_RATE)
    starts, resets = layout(ids, streams)
    feed = loop.feed(ids, starts, resets, SEGMENT)
    cudnn_calls = loop.epoch_program(feed).count("cudnn_rnn")
    timed = loop.time_epochs(feed, epochs)
    return {"seconds": [seconds for seconds, _ in timed], "loss": [logs["loss"] for _, logs in timed],
            "steps": feed.steps, "cudnn_calls": cudnn_calls}


def torch_run(ids: np.ndarray, vocabulary: int, units: int, streams: int, epochs: int) -> dict[str, Any]:
    """PyTorch's nn.LSTM (cuDNN on a GPU) on the same batches; per-epoch seconds and losses."""
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    torch.manual_seed(7)
    embedding = torch.nn.Embedding(vocabulary + 1, EMBEDDING).to(device)
    lstm = torch.nn.LSTM(EMBEDDING, units, batch_first=True).to(device)
    dense = torch.nn.Linear(units, vocabulary).to(device)
    parameters = [*embedding.parameters(), *lstm.parameters(), *dense.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=LEARNING_RATE, fused=device.type == "cuda")
    starts, resets = layout(ids, streams)
    table = torch.as_tensor(ids.astype(np.int64), device=device)
    starts_t = torch.as_tensor(starts, device=device)
    keep_t = torch.as_tensor(~resets, device=device).to(torch.float32)
    positions = torch.arange(SEGMENT + 1, device=device)
    seconds, losses = [], []
    for _ in range(epochs):
        h = torch.zeros(1, streams, units, device=device)
        c = torch.zeros(1, streams, units, device=device)
        total = torch.zeros((), device=device)
        started = time.perf_counter()
        for step in range(len(starts)):
            window = table[starts_t[step][:, None] + positions[None, :]]
            keep = keep_t[step][None, :, None]
            out, (h, c) = lstm(embedding(window[:, :-1] + 1), (h * keep, c * keep))
            loss = torch.nn.functional.cross_entropy(dense(out).reshape(-1, vocabulary), window[:, 1:].reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            h, c = h.detach(), c.detach()
            total += loss.detach()
        mean = float(total) / len(starts)  # waits for the device
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
        losses.append(mean)
    return {"seconds": seconds, "loss": losses, "steps": len(starts)}


def summary(name: str, units: int, streams: int, run: dict[str, Any]) -> dict[str, Any]:
    """Characters per second after the first epoch, compilation, the last loss."""
    later = run["seconds"][1:] or run["seconds"]
    per_epoch = statistics.median(later)
    characters = run["steps"] * streams * SEGMENT
    return {
        "contender": name, "units": units, "streams": streams, "steps_per_epoch": run["steps"],
        "chars_per_s": characters / per_epoch, "ms_per_step": 1000 * per_epoch / run["steps"],
        "first_epoch_extra_s": run["seconds"][0] - per_epoch, "last_loss": run["loss"][-1],
        "epochs": len(run["seconds"]), "cudnn_calls_in_program": run.get("cudnn_calls"),
    }


def machine() -> dict[str, Any]:
    """What ran: the platform, JAX's device and TF32 defaults, PyTorch's."""
    import jax

    info: dict[str, Any] = {
        "platform": platform.platform(), "python": platform.python_version(), "jax": jax.__version__,
        "jax_device": str(jax.devices()[0].device_kind), "jax_default_matmul_precision": str(jax.config.jax_default_matmul_precision),
    }
    try:
        import torch

        info.update(torch=torch.__version__, torch_cuda=torch.cuda.is_available())
        if torch.cuda.is_available():
            info.update(
                torch_device=torch.cuda.get_device_name(), torch_cudnn=torch.backends.cudnn.version(),
                torch_cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                torch_matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
            )
    except ImportError:
        info["torch"] = None
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry", action="store_true", help="tiny sizes on whatever device, for a check in the suite")
    parser.add_argument("--megabytes", type=float, default=None, help="corpus size (default 1, dry 0.05)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per contender (default 3, dry 2)")
    parser.add_argument("--sizes", default=None, help="units x streams list, e.g. 64x32,256x128")
    parser.add_argument("--json", type=Path, default=None, help="write the rows and the machine here")
    arguments = parser.parse_args(argv)
    megabytes = arguments.megabytes or (0.05 if arguments.dry else 1.0)
    epochs = arguments.epochs or (2 if arguments.dry else 3)
    sizes = DRY_SIZES if arguments.dry else SIZES
    if arguments.sizes:
        sizes = tuple(tuple(int(part) for part in size.split("x")) for size in arguments.sizes.split(","))  # type: ignore[misc]
    ids, vocabulary = corpus_ids(megabytes)
    info = machine()
    print(f"machine: {json.dumps(info)}")
    print(f"corpus: {len(ids)} characters, vocabulary {vocabulary}; {epochs} epochs per contender")
    has_torch = importlib.util.find_spec("torch") is not None
    if not has_torch:
        print("torch is not installed: the PyTorch contender is skipped (pip install torch)")
    rows = []
    header = (
        f"{'contender':<13} {'units x streams':>15} {'chars/s':>12} {'ms/step':>9} {'compile s':>9} {'last loss':>9} "
        f"{'cudnn':>6}"
    )
    print(header)
    for units, streams in sizes:
        runs = [("seqkit-cudnn", lambda: seqkit_run(ids, vocabulary, units, streams, epochs, True)),
                ("seqkit-xla", lambda: seqkit_run(ids, vocabulary, units, streams, epochs, False))]
        if has_torch:
            runs.append(("torch-cudnn", lambda: torch_run(ids, vocabulary, units, streams, epochs)))
        for name, run in runs:
            try:
                row = summary(name, units, streams, run())
            except Exception as error:  # noqa: BLE001 - one contender's failure must not lose the others' rows
                print(f"{name:<13} {f'{units} x {streams}':>15} FAILED: {type(error).__name__}: {error}"[:400], flush=True)
                continue
            rows.append(row)
            calls = "" if row["cudnn_calls_in_program"] is None else f" {row['cudnn_calls_in_program']:>6}"
            print(
                f"{name:<13} {f'{units} x {streams}':>15} {row['chars_per_s']:>12,.0f} {row['ms_per_step']:>9.2f} "
                f"{row['first_epoch_extra_s']:>9.1f} {row['last_loss']:>9.3f}{calls}", flush=True,
            )
        by_name = {row["contender"]: row for row in rows if (row["units"], row["streams"]) == (units, streams)}
        if {"torch-cudnn", "seqkit-cudnn", "seqkit-xla"} <= set(by_name):
            best = max(by_name["seqkit-cudnn"]["chars_per_s"], by_name["seqkit-xla"]["chars_per_s"])
            print(f"  seqkit (best path) / torch-cudnn at {units} x {streams}: {best / by_name['torch-cudnn']['chars_per_s']:.2f}x")
    if arguments.json:
        arguments.json.write_text(json.dumps({"machine": info, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
