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

``--compare`` instead races seqkit (its default precision, ``"auto"``, and bfloat16 forced)
against PyTorch (``nn.LSTM`` in float32 and under ``torch.autocast("cpu", dtype=torch.bfloat16)``,
1 and 2 threads each; an optional benchmark dependency: ``pip install -e '.[benchmarks]'``,
skipped with a message when absent) and Keras ``fit`` at three sizes (LSTM 64 x 32 streams
and LSTM 128 x 32 on 1 MB, LSTM 256 x 128 streams on 0.5 MB), each contender in a fresh
process, rounds interleaved, medians and spreads of the second epoch's characters per
second, with each contender's loss and held-out bits per character (100,000 characters
of the standard library that follow the training text). In the same run it measures the
machine's float32 and bfloat16 matmul peaks (PyTorch, 2 threads: a 2048-cube product and
the LSTM's recurrent product at each size) and prints each contender's fraction of the
model's float32 and bfloat16 ceilings (peak FLOP/s over the model's FLOPs per training
character: ``6 (4H (E + H) + H V)``).

Usage:
    .venv/bin/python benchmarks/stream_training.py [--megabytes 1] [--units 64]
    .venv/bin/python benchmarks/stream_training.py --compare [--rounds 3] [--sizes small,medium,large]
        [--contenders seqkit,seqkit-bf16,torch-2,torch-1,torch-bf16-2,torch-bf16-1,keras]
    .venv/bin/python benchmarks/stream_training.py --compare --dry   # a tiny run of every part (tests)
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


HELD_OUT_CHARACTERS = 100_000
"""Characters of held-out text each contender is scored on after training (bits per character)."""


def held_out_text(megabytes: float, tokens: set[str], characters: int = HELD_OUT_CHARACTERS) -> str:
    """The first ``characters`` of the standard library's source after the first ``megabytes``
    (text no contender trained on) that the vocabulary ``tokens`` has."""
    from seqkit.corpora import python_stdlib_after

    text = python_stdlib_after(int(megabytes * 1_000_000), 2 * characters)  # enough once others are dropped
    return "".join(character for character in text if character in tokens)[:characters]


def seqkit_run(
    megabytes: float, units: int, epochs: int = 2, *, streams: int = STREAMS, precision: str = "auto",
    held_out: int = HELD_OUT_CHARACTERS,
) -> dict[str, float]:
    """Train seqkit's stream trainer; the last epoch's seconds and chars/s, peak RSS, and the
    held-out bits per character of the model it returns (which predicts in float32)."""
    import math
    import warnings

    from seqkit.corpora import python_stdlib
    from seqkit.trainers import StreamTrainer

    corpus = python_stdlib(max_bytes=int(megabytes * 1_000_000))
    trainer = StreamTrainer(
        window=SEGMENT, batch_size=streams, units=units, embedding_dim=EMBEDDING, epochs=epochs, reset="epoch",
        precision=precision,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bfloat16 forced where it is slower is what is measured
        model, history = trainer.fit(corpus)
    tokens = model.spec["samples"]
    epoch_seconds = float(trainer.epoch_seconds_[-1])
    text = held_out_text(megabytes, set(model.vocabulary.tokens), held_out)
    score = model.score(text)
    return {
        "held_out_bits_per_char": score.loss / math.log(2),
        "precision": model.spec["policy"]["precision"],
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


def _stream_batches(ids, streams: int):
    """seqkit.streams.StreamLayout's geometry, in NumPy (that module imports TensorFlow, and
    TensorFlow and PyTorch in one process crash in their shared C++ runtime): the inputs and
    targets of each step, ``(steps, streams, SEGMENT)``."""
    import numpy as np

    stream_length = len(ids) // streams
    steps = (stream_length - 1) // SEGMENT
    starts = np.arange(steps)[:, None] * SEGMENT + np.arange(streams)[None, :] * stream_length
    positions = starts[..., None] + np.arange(SEGMENT)
    return (ids[positions] + 1).astype(np.int64), ids[positions + 1].astype(np.int64)


def torch_run(
    megabytes: float, units: int, epochs: int = 2, *, streams: int = STREAMS, threads: int = 2,
    bfloat16: bool = False, held_out: int = HELD_OUT_CHARACTERS,
) -> dict[str, float]:
    """The same model, batches and optimizer in PyTorch (``nn.LSTM``), on ``threads`` CPU threads.

    Embedding(V + 1, 16) -> LSTM(units) -> Linear(V), Adam(0.001, eps=1e-7 as Keras),
    cross-entropy averaged over the batch; the state is carried from batch to batch
    (detached: truncated BPTT) and zeroed at each epoch's start, as seqkit does. With
    ``bfloat16``, the forward runs under ``torch.autocast("cpu", dtype=torch.bfloat16)``
    (PyTorch's one-line mixed precision: float32 weights, bfloat16 matmuls and LSTM), the
    loss in float32; the held-out score is read the same way.
    """
    import contextlib
    import math

    import numpy as np
    import torch

    from seqkit.corpora import python_stdlib  # imports neither TensorFlow nor Keras

    torch.set_num_threads(threads)
    torch.manual_seed(7)
    corpus = python_stdlib(max_bytes=int(megabytes * 1_000_000))
    vocabulary = corpus.vocabulary()
    ids = np.concatenate([vocabulary.encode_array(document) for document in corpus.sequences])
    inputs, targets = (torch.from_numpy(array) for array in _stream_batches(ids, streams))
    steps = len(inputs)

    def precision():
        return torch.autocast("cpu", dtype=torch.bfloat16) if bfloat16 else contextlib.nullcontext()

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
            with precision():
                logits, state = network(inputs[step], state)
            state = tuple(part.detach().float() for part in state)
            logits = logits.float()
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocabulary.size), targets[step].reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            correct += int((logits.argmax(-1) == targets[step]).sum())
        seconds.append(time.perf_counter() - started)
        losses.append(total / steps)
    tokens_per_epoch = steps * streams * SEGMENT
    text = held_out_text(megabytes, set(vocabulary.tokens), held_out)
    held_inputs, held_targets = (torch.from_numpy(array) for array in _stream_batches(vocabulary.encode_array(text), streams))
    state, total = (torch.zeros(1, streams, units), torch.zeros(1, streams, units)), 0.0
    with torch.no_grad():
        for step in range(len(held_inputs)):
            with precision():
                logits, state = network(held_inputs[step], state)
            state = tuple(part.float() for part in state)
            total += float(torch.nn.functional.cross_entropy(
                logits.float().reshape(-1, vocabulary.size), held_targets[step].reshape(-1), reduction="sum"))
    return {
        "tokens_per_epoch": tokens_per_epoch,
        "epoch_seconds": seconds[-1],
        "chars_per_second": tokens_per_epoch / seconds[-1],
        "loss": losses[-1],
        "accuracy": correct / tokens_per_epoch,
        "held_out_bits_per_char": total / held_targets.numel() / math.log(2),
        "precision": "bfloat16 autocast" if bfloat16 else "float32",
    }


def matmul_peaks(shapes: list[tuple[int, int, int]], threads: int = 2, seconds: float = 1.0) -> dict[str, float]:
    """GFLOP/s of PyTorch's float32 and bfloat16 matmuls on ``threads`` threads, best of a few
    timed batches: ``{"float32 MxKxN": ..., "bfloat16 MxKxN": ...}`` for each ``(M, K, N)``."""
    import torch

    torch.set_num_threads(threads)
    peaks = {}
    for dtype, name in ((torch.float32, "float32"), (torch.bfloat16, "bfloat16")):
        for m, k, n in shapes:
            a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
            started = time.perf_counter()
            a @ b
            best = time.perf_counter() - started  # an emulated bfloat16 product can take seconds: once is enough
            repeats = max(1, int(seconds / 5 / max(best, 1e-7)))
            for _ in range(5 if best < seconds else 0):
                started = time.perf_counter()
                for _ in range(repeats):
                    a @ b
                best = min(best, (time.perf_counter() - started) / repeats)
            peaks[f"{name} {m}x{k}x{n}"] = 2 * m * k * n / best / 1e9
    return peaks


CONTENDERS = {
    "seqkit": "seqkit StreamTrainer (precision auto)",
    "seqkit-bf16": "seqkit StreamTrainer, precision='mixed_bfloat16'",
    "torch-2": "PyTorch nn.LSTM, 2 threads",
    "torch-1": "PyTorch nn.LSTM, 1 thread",
    "torch-bf16-2": "PyTorch nn.LSTM, bf16 autocast, 2 threads",
    "torch-bf16-1": "PyTorch nn.LSTM, bf16 autocast, 1 thread",
    "keras": "Keras fit (TensorFlow, stateful, shuffle=False)",
}
SIZES = {"small": (64, STREAMS, 1.0), "medium": (128, STREAMS, 1.0), "large": (256, 128, 0.5)}
"""name: (units, streams, megabytes of corpus)."""

DRY_SIZE = (16, 16, 0.05)
"""``--dry``: LSTM 16 x 16 streams on 50 KB, every contender and the peaks, in seconds (tests)."""


def contender_run(name: str, megabytes: float, units: int, streams: int, held_out: int) -> dict[str, float]:
    if name.startswith("seqkit"):
        precision = "mixed_bfloat16" if name == "seqkit-bf16" else "auto"
        return seqkit_run(megabytes, units, streams=streams, precision=precision, held_out=held_out)
    if name == "keras":
        return keras_run(megabytes, units, streams=streams)
    return torch_run(
        megabytes, units, streams=streams, threads=int(name.rsplit("-", 1)[1]), bfloat16="bf16" in name,
        held_out=held_out,
    )


def in_subprocess(
    function: str, megabytes: float, units: int, streams: int = STREAMS, held_out: int = HELD_OUT_CHARACTERS
) -> dict[str, float]:
    """One contender's run in a fresh process; ``{"error": its last line}`` where it fails (PyTorch's
    bfloat16 LSTM, for one, has no oneDNN primitive on CPUs without AVX512-BF16 or AMX)."""
    finished = subprocess.run(
        [sys.executable, __file__, "--run", function, "--megabytes", str(megabytes), "--units", str(units),
         "--streams", str(streams), "--held-out", str(held_out)],
        capture_output=True, text=True, timeout=1800,
    )
    if finished.returncode != 0:
        lines = finished.stderr.strip().splitlines() or [f"exit status {finished.returncode}"]
        return {"error": lines[-1]}
    return json.loads(finished.stdout.strip().splitlines()[-1])


def flops_per_character(units: int, vocabulary: int, embedding: int = EMBEDDING) -> float:
    """Matmul FLOPs of one training character: forward ``2 (4H (E + H) + H V)``, backward twice that."""
    return 6 * (4 * units * (embedding + units) + units * vocabulary)


def peaks_in_subprocess(sizes: list[tuple[int, int]], dry: bool) -> dict[str, float]:
    """:func:`matmul_peaks` in a fresh process (PyTorch and TensorFlow never share one)."""
    shapes = [(2048, 2048, 2048) if not dry else (256, 256, 256)] + [(streams, units, 4 * units) for units, streams in sizes]
    output = subprocess.run(
        [sys.executable, __file__, "--peaks", json.dumps(shapes), *(["--dry"] if dry else [])],
        check=True, capture_output=True, text=True, timeout=600,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    return statistics.median(values)


def compare(rounds: int, sizes: list[str], contenders: list[str], *, dry: bool = False) -> None:
    """Every contender at every size, ``rounds`` times, interleaved; medians, spreads, held-out
    bits per character, and each contender's fraction of the model's matmul ceilings."""
    import numpy as np

    from seqkit.engine.cpu_features import cpu_features

    geometry = {size: DRY_SIZE if dry else SIZES[size] for size in sizes}
    held_out = 5_000 if dry else HELD_OUT_CHARACTERS
    print(f"CPU: {cpu_features().summary()}; bfloat16 hardware: {cpu_features().bfloat16_hardware or 'none'}")
    peaks = {}
    if any(name.startswith("torch") for name in contenders):
        peaks = peaks_in_subprocess(sorted({(units, streams) for units, streams, _ in geometry.values()}), dry)
        print("\n## matmul peaks (PyTorch, 2 threads, GFLOP/s)")
        print("| product | float32 | bfloat16 | bfloat16 / float32 |\n|---|---:|---:|---:|")
        for key in [key for key in peaks if key.startswith("float32")]:
            shape = key.split(" ", 1)[1]
            f32, bf16 = peaks[key], peaks[f"bfloat16 {shape}"]
            print(f"| {shape} | {f32:,.3g} | {bf16:,.3g} | {bf16 / f32:.3g}x |")
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for number in range(rounds):
        for size in sizes:
            units, streams, megabytes = geometry[size]
            for name in contenders:
                if any("error" in result for result in results.get((size, name), [])):
                    continue  # it failed once: it fails again
                result = in_subprocess(name, megabytes, units, streams, held_out)
                results.setdefault((size, name), []).append(result)
                said = result.get("error") or (
                    f"{result['chars_per_second']:,.0f} chars/s, loss {result['loss']:.4f}"
                )
                print(f"round {number + 1} {size} {name}: {said}", file=sys.stderr, flush=True)
    vocabulary = 100  # the standard library's characters in 0.5-1 MB: about 100 (for the FLOPs only)
    for size in sizes:
        units, streams, megabytes = geometry[size]
        ours = _median([result["chars_per_second"] for result in results[(size, contenders[0])]])
        flops = flops_per_character(units, vocabulary)
        ceilings = {}
        if peaks:
            square = next(iter(peaks)).split(" ", 1)[1]
            ceilings = {precision: peaks[f"{precision} {square}"] * 1e9 / flops for precision in ("float32", "bfloat16")}
        print(f"\n## {size}: Embedding({EMBEDDING}) -> LSTM({units}) -> Dense, B={streams} streams x T={SEGMENT}, "
              f"{megabytes:g} MB, epoch 2 of 2, {rounds} rounds interleaved, {flops / 1e6:.2f} MFLOP per character")
        if ceilings:
            print(f"ceilings (square-matmul peak / FLOPs per character): float32 {ceilings['float32']:,.0f} chars/s, "
                  f"bfloat16 {ceilings['bfloat16']:,.0f} chars/s")
        print(f"| contender | precision | chars / s, median (min-max) | {contenders[0]} / contender | "
              "of float32 ceiling | of bfloat16 ceiling | loss after 2 epochs | held-out bits / char |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for name in contenders:
            runs = results[(size, name)]
            if "error" in runs[0]:
                print(f"| {CONTENDERS[name]} | - | failed: {runs[0]['error'][:120]} | - | - | - | - | - |")
                continue
            speeds = [result["chars_per_second"] for result in runs]
            median = _median(speeds)
            fractions = [f"{median / ceilings[p]:.0%}" if ceilings else "-" for p in ("float32", "bfloat16")]
            bits = [result["held_out_bits_per_char"] for result in runs if "held_out_bits_per_char" in result]
            print(f"| {CONTENDERS[name]} | {runs[0].get('precision', 'float32')} | {median:,.0f} "
                  f"({min(speeds):,.0f}-{max(speeds):,.0f}) | {ours / median:.2f}x | {fractions[0]} | {fractions[1]} | "
                  f"{runs[0]['loss']:.4f} | {f'{float(np.median(bits)):.4f}' if bits else '-'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=1.0, help="1x corpus size in MB of stdlib source")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--streams", type=int, default=STREAMS)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of --compare")
    parser.add_argument("--compare", action="store_true",
                        help="seqkit against PyTorch and Keras at both model sizes (skips PyTorch if not installed)")
    parser.add_argument("--sizes", default="small,medium,large", help="with --compare: small, medium, large")
    parser.add_argument("--contenders", default=",".join(CONTENDERS),
                        help="with --compare: which contenders, the first the one the ratios are of")
    parser.add_argument("--dry", action="store_true", help="with --compare: a tiny run of every part, for tests")
    parser.add_argument("--run", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--held-out", type=int, default=HELD_OUT_CHARACTERS, help=argparse.SUPPRESS)
    parser.add_argument("--peaks", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(contender_run(args.run, args.megabytes, args.units, args.streams, args.held_out)))
        return
    if args.peaks:
        print(json.dumps(matmul_peaks([tuple(shape) for shape in json.loads(args.peaks)], seconds=0.05 if args.dry else 1.0)))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if args.compare:
        contenders = [name for name in args.contenders.split(",") if name]
        unknown = sorted(set(contenders) - set(CONTENDERS))
        if unknown:
            parser.error(f"unknown contenders {', '.join(unknown)}; choose from {', '.join(CONTENDERS)}")
        if importlib.util.find_spec("torch") is None and any(name.startswith("torch") for name in contenders):
            print("PyTorch is not installed: comparing without it (pip install -e '.[benchmarks]' adds it).")
            contenders = [name for name in contenders if not name.startswith("torch")]
        compare(args.rounds, args.sizes.split(","), contenders, dry=args.dry)
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
