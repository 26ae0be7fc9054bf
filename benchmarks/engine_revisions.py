"""seqkit against an earlier seqkit, on the same machine, interleaved: is a refactor slower?

Each round runs, for every source tree given, one fresh process that times seqkit's side of
the two benchmarks — the five fixed-window experiments of the tutorial
(``run_experiment``, whole) and stream training (``StreamTrainer``, LSTM 64, 32 streams of
64 characters, 1 MB of the standard library; the median of epochs 2 to 4) — alternating the trees
from round to round. It prints each tree's medians, their spreads, and the ratio of each
tree to the first.

Usage (the tree of another revision made with ``git worktree add``)::

    git worktree add /tmp/before eca2267
    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/engine_revisions.py /tmp/before . --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
try:  # seqkit after 0.1: the library is quiet only when asked
    from seqkit._quiet import silence_tensorflow
    silence_tensorflow()
except ImportError:
    pass
from seqkit._quiet import quiet_import
quiet_import()
import seqkit
from seqkit.experiments import FIXED_WINDOW_EXPERIMENTS, run_experiment
from seqkit.corpora import python_stdlib
from seqkit.trainers import StreamTrainer
assert seqkit.__file__.startswith(sys.argv[1]), (seqkit.__file__, sys.argv[1])
times = {}
for name in FIXED_WINDOW_EXPERIMENTS:
    started = time.perf_counter()
    run_experiment(name)
    times[name] = time.perf_counter() - started
corpus = python_stdlib(max_bytes=1_000_000)
trainer = StreamTrainer(window=64, batch_size=32, units=64, embedding_dim=16, epochs=4, reset="epoch")
model, _ = trainer.fit(corpus)
# the median of epochs 2-4: one epoch's time swings by +-15% on a shared 2-core machine
times["stream chars/s"] = model.spec["samples"] / sorted(trainer.epoch_seconds_[1:])[1]
print(json.dumps(times))
"""


def run(tree: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree / "seqkit")], env=env, cwd=tree, capture_output=True, text=True,
        check=True, timeout=1800,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (the first is the baseline)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.trees]
    results: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
    for number in range(args.rounds):
        order = trees if number % 2 == 0 else list(reversed(trees))
        for tree in order:
            results[tree].append(run(tree))
            print(f"round {number + 1}, {tree}: {results[tree][-1]}", flush=True)
    keys = list(results[trees[0]][0])
    print()
    print(f"{'measure':22}" + "".join(f"{str(tree)[-24:]:>28}" for tree in trees) + "   ratio to first")
    for key in keys:
        medians = [statistics.median(run[key] for run in results[tree]) for tree in trees]
        spreads = [(min(run[key] for run in results[tree]), max(run[key] for run in results[tree])) for tree in trees]
        cells = "".join(f"{median:>14.2f} ({low:.2f}-{high:.2f})".rjust(28) for median, (low, high) in zip(medians, spreads))
        if key == "stream chars/s":  # higher is better: speed ratio = new / old
            ratio = medians[-1] / medians[0]
        else:  # seconds: speed ratio = old / new
            ratio = medians[0] / medians[-1]
        print(f"{key:22}{cells}   {ratio:.3f}x")
    total = [statistics.median(sum(v for k, v in run.items() if k != "stream chars/s") for run in results[tree]) for tree in trees]
    print(f"{'experiments total s':22}" + "".join(f"{value:>28.2f}" for value in total) + f"   {total[0] / total[-1]:.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
