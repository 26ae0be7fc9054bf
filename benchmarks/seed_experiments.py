"""seqkit beside the tutorial's plain-Keras code, in one run: accuracy, time, ratio.

For each experiment this runs the plain-Keras reference (``keras_reference.py``,
the tutorial ported to Keras 3 and trained the tutorial's way) and seqkit's
recipe (``seqkit.experiments.run_experiment``) with the same number of
optimizer steps, one after the other in the same process, and prints both
accuracies, both times and the speed-up. The total ratio is over the five
fixed-window experiments (variable-length only with ``--variable-length``: its
reference alone takes over half an hour on 2 cores).

seqkit's time is the whole ``run_experiment`` call: building, training,
evaluating and generating the summary strings. The reference's is training
plus evaluation. The comparison is therefore, if anything, unfair to seqkit.

Usage::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/seed_experiments.py
    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/seed_experiments.py --epochs-scale 0.1
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import seqkit  # noqa: E402
from seqkit._quiet import quiet_import, silence_tensorflow  # noqa: E402

silence_tensorflow()

quiet_import()  # TensorFlow's start-up noise off before keras_reference imports it
from keras_reference import REFERENCE_EXPERIMENTS  # noqa: E402
from seqkit.experiments import EXPERIMENTS, FIXED_WINDOW_EXPERIMENTS, run_experiment  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(FIXED_WINDOW_EXPERIMENTS), help="experiments to run")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="fraction of the tutorial's epochs")
    parser.add_argument("--variable-length", action="store_true", help="also run variable-length")
    args = parser.parse_args(argv)
    names = list(args.names) + (["variable-length"] if args.variable_length else [])

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, seqkit {seqkit.__version__}")
    header = f"{'experiment':18} {'epochs':>6} {'steps':>7} {'keras acc':>9} {'seqkit acc':>10} {'keras s':>8} {'seqkit s':>9} {'speed-up':>8}"
    print(header)
    print("-" * len(header))
    totals = {"keras": 0.0, "seqkit": 0.0}
    for name in names:
        epochs = max(1, round(EXPERIMENTS[name].epochs * args.epochs_scale))
        reference = REFERENCE_EXPERIMENTS[name](epochs=epochs)
        started = time.perf_counter()
        ours = run_experiment(name, epochs=epochs)
        seqkit_seconds = time.perf_counter() - started
        if ours.history.steps != reference.steps:
            print(f"warning: {name}: seqkit took {ours.history.steps} steps, Keras {reference.steps}")
        if name in FIXED_WINDOW_EXPERIMENTS:
            totals["keras"] += reference.seconds
            totals["seqkit"] += seqkit_seconds
        print(
            f"{name:18} {epochs:>6} {ours.history.steps:>7} {100 * reference.accuracy:>8.2f}% "
            f"{ours.accuracy:>9.2f}% {reference.seconds:>8.1f} {seqkit_seconds:>9.1f} "
            f"{reference.seconds / seqkit_seconds:>7.1f}x",
            flush=True,
        )
    if totals["seqkit"]:
        print("-" * len(header))
        print(
            f"{'fixed-window total':18} {'':>6} {'':>7} {'':>9} {'':>10} {totals['keras']:>8.1f} "
            f"{totals['seqkit']:>9.1f} {totals['keras'] / totals['seqkit']:>7.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
