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

Usage:
    .venv/bin/python benchmarks/stream_training.py [--megabytes 1] [--units 64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqkit._quiet import silence_tensorflow  # noqa: E402

silence_tensorflow()

STREAMS, SEGMENT, EMBEDDING = 32, 64, 16


def seqkit_run(megabytes: float, units: int, epochs: int = 2) -> dict[str, float]:
    """Train seqkit's stream trainer; the last epoch's seconds and chars/s, and peak RSS."""
    from seqkit.corpora import python_stdlib
    from seqkit.trainers import StreamTrainer

    corpus = python_stdlib(max_bytes=int(megabytes * 1_000_000))
    trainer = StreamTrainer(
        window=SEGMENT, batch_size=STREAMS, units=units, embedding_dim=EMBEDDING, epochs=epochs, reset="epoch"
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


def in_subprocess(function: str, megabytes: float, units: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--run", function, "--megabytes", str(megabytes), "--units", str(units)],
        check=True, capture_output=True, text=True, timeout=1800,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=1.0, help="1x corpus size in MB of stdlib source")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--run", choices=["seqkit", "keras"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run = seqkit_run if args.run == "seqkit" else keras_run
        print(json.dumps(run(args.megabytes, args.units)))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
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
