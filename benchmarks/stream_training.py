"""Stream training speed: seqkit's StreamTrainer against plain Keras, and scaling with corpus size.

Part 1 trains the same char model (Embedding -> LSTM -> Dense over every step) on the
same batches — ``B`` parallel streams of ``T``-step segments of the Python standard
library's source, row r of batch t+1 continuing row r of batch t, state reset at each
epoch start — two ways, in one run:

- seqkit: ``StreamTrainer(reset="epoch")`` (tf.data from a token file, one compiled
  call per epoch, XLA step);
- plain Keras: a ``stateful=True`` model, ``fit(x, y, batch_size=B, shuffle=False)``
  on the segments laid out in stream order, with a callback resetting the state at
  each epoch start (Keras's defaults otherwise: ``jit_compile="auto"``).

Both run 2 epochs; the second epoch's time (compilation excluded) gives characters per
second. Part 2 times one seqkit epoch (the second) at 1x, 2x, 4x and 8x the corpus, each
in a fresh process so that its peak memory (``ru_maxrss``) is its own.

``--compare`` instead races seqkit against PyTorch (``nn.LSTM``, 1 and 2 threads; an
optional benchmark dependency: ``pip install -e '.[benchmarks]'``, skipped with a message
when absent) and Keras ``fit`` at two sizes (LSTM 64 x 32 streams on 1 MB, LSTM 256 x 128
streams on 0.5 MB), each contender in a fresh process, rounds interleaved, medians and
spreads of the second epoch's characters per second.

Usage:
    .venv/bin/python benchmarks/stream_training.py [--megabytes 1] [--units 64]
    .venv/bin/python benchmarks/stream_training.py --compare [--rounds 3] [--sizes small,large]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqkit._quiet import silence_tensorflow  # noqa: E402

silence_tensorflow()

STREAMS, SEGMENT, EMBEDDING = 32, 64, 16


def seqkit_run(megabytes: float, units: int, epochs: int = 2, *, streams: int = STREAMS) -> dict[str, float]:
    """Train seqkit's stream trainer; the last epoch's seconds and chars/s, and peak RSS."""
    from seqkit.corpora import python_stdlib
    from seqkit.trainers import StreamTrainer

    corpus = python_stdlib(max_bytes=int(megabytes * 1_000_000))
    trainer = StreamTrainer(
        window=SEGMENT, batch_size=streams, units=units, embedding_dim=EMBEDDING, epochs=epochs, reset="epoch"
    )
    model, history = trainer.fit(corpus)
    tokens = model.spec["samples"]
    epoch_seconds = float(trainer.epoch_seconds_[-1])
    return {
        "megabytes": megabytes,
        "tokens": len(corpus),
        "tokens_per_epoch": tokens,
        "epoch_seconds": epoch_seconds,
        "chars_per_second": tokens / epoch_seconds,
        "loss": history.loss[-1],
        "accuracy": history.accuracy[-1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def keras_run(
    megabytes: float,
    units: int,
    epochs: int = 2,
    *,
    streams: int = STREAMS,
    segment: int = SEGMENT,
    embedding: int = EMBEDDING,
    jit_compile: bool | str = "auto",
    use_cudnn: bool | str = "auto",
    corpus=None,
) -> dict[str, float]:
    """The same model and batches through plain Keras fit (stateful, shuffle=False).

    The keyword arguments default to this benchmark's model and Keras's own defaults;
    ``benchmarks/devices.py`` passes others (its sizes, and XLA / cuDNN set as on the
    seqkit path it compares with). Under a mixed-precision global policy the output
    layer stays float32, as Keras's mixed-precision guide does it.
    """
    import keras
    import numpy as np

    from seqkit.corpora import python_stdlib
    from seqkit.streams import StreamLayout

    corpus = corpus if corpus is not None else python_stdlib(max_bytes=int(megabytes * 1_000_000))
    vocabulary = corpus.vocabulary()
    ids = np.concatenate([vocabulary.encode_array(document) for document in corpus.sequences])
    layout = StreamLayout(len(ids), streams, segment)
    starts = layout.segment_starts().reshape(-1)  # step-major: batch t is rows t*B .. t*B + B - 1
    positions = starts[:, None] + np.arange(segment)
    inputs, targets = ids[positions] + 1, ids[positions + 1]

    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input(batch_shape=(streams, segment), dtype="int32"),
            keras.layers.Embedding(vocabulary.size + 1, embedding),
            keras.layers.LSTM(units, return_sequences=True, stateful=True, use_cudnn=use_cudnn),
            keras.layers.Dense(vocabulary.size, dtype="float32"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.001),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )

    class ResetAndTime(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            for layer in self.model.layers:
                if getattr(layer, "stateful", False):
                    layer.reset_state()
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    timer = ResetAndTime()
    history = model.fit(inputs, targets, batch_size=streams, shuffle=False, epochs=epochs, verbose=0, callbacks=[timer])
    return {
        "tokens_per_epoch": layout.tokens_per_epoch,
        "epoch_seconds": timer.seconds[-1],
        "chars_per_second": layout.tokens_per_epoch / timer.seconds[-1],
        "loss": history.history["loss"][-1],
        "accuracy": history.history["accuracy"][-1],
        "jit_compile": bool(model.jit_compile),
    }


def torch_run(megabytes: float, units: int, epochs: int = 2, *, streams: int = STREAMS, threads: int = 2) -> dict[str, float]:
    """The same model, batches and optimizer in PyTorch (``nn.LSTM``), on ``threads`` CPU threads.

    Embedding(V + 1, 16) -> LSTM(units) -> Linear(V), Adam(0.001, eps=1e-7 as Keras),
    cross-entropy averaged over the batch; the state is carried from batch to batch
    (detached: truncated BPTT) and zeroed at each epoch's start, as seqkit does.
    """
    import numpy as np
    import torch

    from seqkit.corpora import python_stdlib  # imports neither TensorFlow nor Keras

    torch.set_num_threads(threads)
    torch.manual_seed(7)
    corpus = python_stdlib(max_bytes=int(megabytes * 1_000_000))
    vocabulary = corpus.vocabulary()
    ids = np.concatenate([vocabulary.encode_array(document) for document in corpus.sequences])
    # seqkit.streams.StreamLayout's geometry, in NumPy (that module imports TensorFlow, and
    # TensorFlow and PyTorch in one process crash in their shared C++ runtime)
    stream_length = len(ids) // streams
    steps = (stream_length - 1) // SEGMENT
    starts = np.arange(steps)[:, None] * SEGMENT + np.arange(streams)[None, :] * stream_length
    positions = starts[..., None] + np.arange(SEGMENT)
    inputs = torch.from_numpy((ids[positions] + 1).astype(np.int64))
    targets = torch.from_numpy(ids[positions + 1].astype(np.int64))

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = torch.nn.Embedding(vocabulary.size + 1, EMBEDDING)
            self.lstm = torch.nn.LSTM(EMBEDDING, units, batch_first=True)
            self.output = torch.nn.Linear(units, vocabulary.size)

        def forward(self, x, state):
            hidden, state = self.lstm(self.embedding(x), state)
            return self.output(hidden), state

    network = Network()
    optimizer = torch.optim.Adam(network.parameters(), lr=0.001, eps=1e-7)
    seconds, losses = [], []
    for _ in range(epochs):
        state = (torch.zeros(1, streams, units), torch.zeros(1, streams, units))
        started, total, correct = time.perf_counter(), 0.0, 0
        for step in range(steps):
            logits, state = network(inputs[step], state)
            state = tuple(part.detach() for part in state)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocabulary.size), targets[step].reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            correct += int((logits.argmax(-1) == targets[step]).sum())
        seconds.append(time.perf_counter() - started)
        losses.append(total / steps)
    tokens_per_epoch = steps * streams * SEGMENT
    return {
        "tokens_per_epoch": tokens_per_epoch,
        "epoch_seconds": seconds[-1],
        "chars_per_second": tokens_per_epoch / seconds[-1],
        "loss": losses[-1],
        "accuracy": correct / tokens_per_epoch,
    }


CONTENDERS = {
    "seqkit": "seqkit StreamTrainer",
    "torch-2": "PyTorch nn.LSTM, 2 threads",
    "torch-1": "PyTorch nn.LSTM, 1 thread",
    "keras": "Keras fit (TensorFlow, stateful, shuffle=False)",
}
SIZES = {"small": (64, STREAMS, 1.0), "large": (256, 128, 0.5)}
"""name: (units, streams, megabytes of corpus)."""


def contender_run(name: str, megabytes: float, units: int, streams: int) -> dict[str, float]:
    if name == "seqkit":
        return seqkit_run(megabytes, units, streams=streams)
    if name == "keras":
        return keras_run(megabytes, units, streams=streams)
    return torch_run(megabytes, units, streams=streams, threads=int(name.split("-")[1]))


def in_subprocess(function: str, megabytes: float, units: int, streams: int = STREAMS) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--run", function, "--megabytes", str(megabytes), "--units", str(units),
         "--streams", str(streams)],
        check=True, capture_output=True, text=True, timeout=1800,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    return statistics.median(values)


def compare(rounds: int, sizes: list[str], contenders: list[str]) -> None:
    """Every contender at every size, ``rounds`` times, interleaved; medians and spreads."""
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for number in range(rounds):
        for size in sizes:
            units, streams, megabytes = SIZES[size]
            for name in contenders:
                result = in_subprocess(name, megabytes, units, streams)
                results.setdefault((size, name), []).append(result)
                print(f"round {number + 1} {size} {name}: {result['chars_per_second']:,.0f} chars/s, "
                      f"loss {result['loss']:.4f}", file=sys.stderr, flush=True)
    for size in sizes:
        units, streams, megabytes = SIZES[size]
        ours = _median([result["chars_per_second"] for result in results[(size, "seqkit")]])
        print(f"\n## {size}: Embedding({EMBEDDING}) -> LSTM({units}) -> Dense, B={streams} streams x T={SEGMENT}, "
              f"{megabytes:g} MB, epoch 2 of 2, {rounds} rounds interleaved")
        print("| contender | chars / s, median (min-max) | seqkit / contender | loss after 2 epochs |")
        print("|---|---:|---:|---:|")
        for name in contenders:
            speeds = [result["chars_per_second"] for result in results[(size, name)]]
            print(f"| {CONTENDERS[name]} | {_median(speeds):,.0f} ({min(speeds):,.0f}-{max(speeds):,.0f}) | "
                  f"{ours / _median(speeds):.2f}x | {results[(size, name)][0]['loss']:.4f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=1.0, help="1x corpus size in MB of stdlib source")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--streams", type=int, default=STREAMS)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of --compare")
    parser.add_argument("--compare", action="store_true",
                        help="seqkit against PyTorch and Keras at both model sizes (skips PyTorch if not installed)")
    parser.add_argument("--sizes", default="small,large", help="with --compare: small, large or both")
    parser.add_argument("--run", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(contender_run(args.run, args.megabytes, args.units, args.streams)))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if args.compare:
        contenders = list(CONTENDERS)
        if importlib.util.find_spec("torch") is None:
            print("PyTorch is not installed: comparing with Keras only "
                  "(pip install -e '.[benchmarks]' adds it).")
            contenders = ["seqkit", "keras"]
        compare(args.rounds, args.sizes.split(","), contenders)
        return
    print(f"model: Embedding({EMBEDDING}) -> LSTM({args.units}) -> Dense, B={STREAMS} streams, T={SEGMENT}")
    ours = in_subprocess("seqkit", args.megabytes, args.units)
    reference = in_subprocess("keras", args.megabytes, args.units)
    print(f"\n## seqkit vs plain Keras, {args.megabytes:g} MB, epoch 2 of 2")
    print("| loop | s / epoch | chars / s | loss | accuracy |\n|---|---:|---:|---:|---:|")
    for name, result in (("seqkit StreamTrainer", ours), ("Keras fit (stateful, shuffle=False)", reference)):
        print(f"| {name} | {result['epoch_seconds']:.2f} | {result['chars_per_second']:,.0f} | "
              f"{result['loss']:.4f} | {result['accuracy']:.2%} |")
    print(f"\nspeed ratio seqkit / Keras: {ours['chars_per_second'] / reference['chars_per_second']:.2f}x")
    print("\n## seqkit epoch time and peak memory by corpus size")
    print("| size | chars | s / epoch | s / epoch per MB | peak RSS (MB) |\n|---|---:|---:|---:|---:|")
    for factor in (1, 2, 4, 8):
        result = ours if factor == 1 else in_subprocess("seqkit", args.megabytes * factor, args.units)
        print(f"| {factor}x | {result['tokens']:,} | {result['epoch_seconds']:.2f} | "
              f"{result['epoch_seconds'] / result['megabytes']:.2f} | {result['peak_rss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
