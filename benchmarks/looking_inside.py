"""Looking inside: does a stream model trained on source code grow cells that track quotes and line length?

Karpathy, Johnson and Fei-Fei (2015) found, in 3-layer LSTMs of 512 units trained on the
Linux kernel's source, single cells that switch on inside a quote or count the position in
a line. This script trains seqkit's stream model on the Python standard library's source
at a few sizes, reads held-out standard-library source through it (:func:`seqkit.cells`:
every unit's ``h`` and ``c`` correlated with each probe, the units ranked by their
correlation on the held-out part of that text), and prints, per model and layer, the best
unit for "inside a string literal" and for "position in the line", with the held-out
bits per character. ``--figures DIR`` writes the docs' pictures of the largest model (its
best string unit and line-position unit over the held-out text, and its gate saturation).

Usage:
    .venv/bin/python benchmarks/looking_inside.py [--megabytes 1] [--epochs 5] [--sizes 64,128x2,256]
        [--figures docs/figures] [--save DIR]
    .venv/bin/python benchmarks/looking_inside.py --dry      # a tiny run of every part (tests)
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqkit._quiet import silence_tensorflow  # noqa: E402

silence_tensorflow()

PROBES = ("string", "line_position", "comment", "bracket_depth", "indentation")
HELD_OUT_CHARACTERS = 200_000
"""Characters of held-out source read through each model (its last fifth scores the ranking)."""


def parse_size(size: str) -> tuple[int, int]:
    """``"128x2"``: 128 units, 2 layers; ``"256"``: one layer."""
    units, _, layers = size.partition("x")
    return int(units), int(layers or 1)


def run(
    units: int, layers: int, megabytes: float, epochs: int, streams: int, held_out: int, figures: str | None,
    save: str | None = None,
) -> None:
    import seqkit
    from seqkit.corpora import python_stdlib, python_stdlib_after
    from seqkit.trainers import StreamTrainer

    corpus = python_stdlib(max_bytes=int(megabytes * 1_000_000))
    trainer = StreamTrainer(window=64, batch_size=streams, units=units, layers=layers, embedding_dim=16,
                            epochs=epochs, reset="epoch")
    started = time.perf_counter()
    model, history = trainer.fit(corpus)
    seconds = time.perf_counter() - started
    if save:
        os.makedirs(save, exist_ok=True)
        model.save(os.path.join(save, f"code-{units}x{layers}.seqkit"))
    text = "".join(character for character in python_stdlib_after(int(megabytes * 1_000_000), held_out)
                   if character in set(model.vocabulary.tokens))
    bits = model.score(text).loss / math.log(2)
    started = time.perf_counter()
    report = seqkit.cells(model, text, PROBES)
    read = time.perf_counter() - started
    print(f"\n## LSTM {units} x {layers} layer(s), {megabytes:g} MB x {epochs} epochs ({seconds:.0f} s); "
          f"held-out {bits:.3f} bits/char; cells read {len(text):,} characters in {read:.1f} s")
    print("| probe | layer | best unit | r (first 80%) | held-out r | layer's linear probe, held-out r |")
    print("|---|---:|---|---:|---:|---:|")
    for probe in PROBES:
        if not report.rankings[probe]:
            print(f"| {probe} | - | (constant) | - | - | - |")
            continue
        for layer in range(1, layers + 1):
            best = report.best(probe, layer)
            print(f"| {probe} | {layer} | {best.state}[{best.unit}] | {best.correlation:+.3f} | "
                  f"{best.held_out:+.3f} | {report.linear_probes[probe][layer - 1]:+.3f} |")
    saturated = report.saturation_left.mean(axis=2), report.saturation_right.mean(axis=2)
    for layer in range(layers):
        shares = ", ".join(f"{gate} {saturated[0][layer, index]:.0%} left / {saturated[1][layer, index]:.0%} right"
                           for index, gate in enumerate(("input", "forget", "output")))
        print(f"layer {layer + 1} gates saturated (mean over units): {shares}")
    if figures:
        os.makedirs(figures, exist_ok=True)
        report.plot("string", path=os.path.join(figures, "cells-string.png"), tokens=800)
        report.plot("line_position", path=os.path.join(figures, "cells-line-position.png"), tokens=800)
        report.plot_saturation(path=os.path.join(figures, "cells-saturation.png"))
        print(f"figures written to {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=1.0, help="MB of standard-library source to train on")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--sizes", default="64,128,128x2,256", help="units[xlayers], comma-separated")
    parser.add_argument("--held-out", type=int, default=HELD_OUT_CHARACTERS, help="held-out characters read")
    parser.add_argument("--figures", default=None, help="write the last size's figures to this folder")
    parser.add_argument("--save", default=None, help="save each model as a bundle in this folder")
    parser.add_argument("--dry", action="store_true", help="a tiny run of every part, for tests")
    args = parser.parse_args()
    if args.dry:
        args.megabytes, args.epochs, args.streams, args.sizes, args.held_out = 0.03, 1, 8, "16x2", 5_000
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    sizes = [parse_size(size) for size in args.sizes.split(",")]
    for number, (units, layers) in enumerate(sizes):
        figures = args.figures if number == len(sizes) - 1 else None
        run(units, layers, args.megabytes, args.epochs, args.streams, args.held_out, figures, args.save)


if __name__ == "__main__":
    main()
