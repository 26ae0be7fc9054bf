"""Scoring held-out text with a stream model, beside training on the same amount: time per MB.

Trains ``StreamTrainer`` (LSTM 64, embedding 16, 32 streams of 64 characters, XLA on a CPU)
for two epochs on the first ~1 MB of the Python standard library's source (whole files),
then scores the next ~1 MB (other files, every character predicted:
:meth:`StreamTrainer.score`) — the held-out text read as the same 32 parallel streams in
compiled segments, the state carried as in training. Prints seconds per MB of training
(epoch 2) and of scoring (the second call, after compilation) and their ratio.

Usage::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/stream_evaluation.py
"""

from __future__ import annotations

import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqkit._quiet import silence_tensorflow  # noqa: E402

silence_tensorflow()

from seqkit.corpora import python_stdlib  # noqa: E402
from seqkit.datasets import Corpus  # noqa: E402
from seqkit.trainers import StreamTrainer  # noqa: E402


def main() -> int:
    both = python_stdlib(max_bytes=2_000_000)
    half = 0
    total = 0
    for half, sequence in enumerate(both.sequences):
        total += len(sequence)
        if total >= len(both) / 2:
            break
    training = Corpus(both.sequences[: half + 1], "char", "stdlib (training)")
    held_out = Corpus(both.sequences[half + 1 :], "char", "stdlib (held out)")
    vocabulary = both.vocabulary()
    trainer = StreamTrainer(window=64, batch_size=32, units=64, embedding_dim=16, epochs=2, reset="epoch")
    model, history = trainer.fit(training, vocabulary=vocabulary)
    train_seconds = trainer.epoch_seconds_[-1]
    train_tokens = model.spec["samples"]
    trainer.score(model, held_out)  # compile
    started = time.perf_counter()
    scores = trainer.score(model, held_out)
    score_seconds = time.perf_counter() - started
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("| pass | characters | seconds | s / MB | chars / s |")
    print("|---|---:|---:|---:|---:|")
    print(f"| training, epoch 2 | {train_tokens:,} | {train_seconds:.2f} | {train_seconds / train_tokens * 1e6:.2f} | {train_tokens / train_seconds:,.0f} |")
    print(f"| scoring held-out text, every character | {scores['tokens']:,} | {score_seconds:.2f} | {score_seconds / scores['tokens'] * 1e6:.2f} | {scores['tokens'] / score_seconds:,.0f} |")
    print(f"\nscoring / training throughput: {(scores['tokens'] / score_seconds) / (train_tokens / train_seconds):.2f}x")
    print(f"held-out: {scores['bits_per_token']:.3f} bits per character, accuracy {scores['accuracy']:.2%}; "
          f"training loss {history.loss[-1]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
