"""Does gradient clipping keep a large learning rate from going NaN? Measured, not assumed.

The folklore (keras-team/keras#7375 and #5127; char-rnn's ``grad_clip=5``): an LSTM trained
at a large learning rate goes NaN unless its gradients are clipped. This script trains the
same stream LSTM (2 x 256 units, 16 streams of 100 steps, the first 100 KB of the standard
library's source, seed 7) at learning rates 0.5 and 5.0, with and without ``clip_norm=5``,
and prints each epoch's training loss (nats per character), so anyone can rerun what
``docs/real-text.md`` ("Clipping") reports.

    python benchmarks/clipping.py            # about 10 minutes on 2 cores
    python benchmarks/clipping.py --dry      # seconds: a tiny model, one epoch, one rate
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry", action="store_true", help="a tiny model for one epoch (checks the script runs)")
    arguments = parser.parse_args(argv)
    from seqkit.corpora import python_stdlib
    from seqkit.trainers import StreamTrainer

    text = "".join("".join(document) for document in python_stdlib(max_bytes=400_000).sequences)[:100_000]
    size = dict(window=16, batch_size=4, units=16, layers=1, epochs=1) if arguments.dry else dict(
        window=100, batch_size=16, units=256, layers=2, epochs=4)
    rates = (0.5,) if arguments.dry else (0.5, 5.0)
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"command: python benchmarks/clipping.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print("| learning rate | clip_norm | training loss per epoch (nats/char) | finite | seconds |")
    print("|---|---|---|---|---|")
    for rate in rates:
        for clip in (None, 5.0):
            started = time.perf_counter()
            _, history = StreamTrainer(learning_rate=rate, clip_norm=clip, seed=7, **size).fit(text)
            losses = ", ".join(f"{loss:.1f}" for loss in history.loss)
            finite = all(math.isfinite(loss) for loss in history.loss)
            print(f"| {rate:g} | {clip if clip is not None else '-'} | {losses} | {'yes' if finite else 'NO'} | "
                  f"{time.perf_counter() - started:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
