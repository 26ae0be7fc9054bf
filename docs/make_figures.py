"""Regenerate every figure in ``docs/figures/`` with seqkit's own plotting.

Run from the repository root (about a minute on a quiet laptop CPU)::

    .venv/bin/python docs/make_figures.py

- ``training-curves.png``: loss and accuracy per epoch of the tutorial's six
  experiments, side by side, each with the tutorial's epochs (pass
  ``--epochs N`` for a quick draft; the labels then say so).
- ``hidden-state.png``: the hidden state of the tutorial's stateful model
  (LSTM 50, 300 epochs) as it reads A..Z, in one go and with a reset before K.
"""

from __future__ import annotations

import time
from pathlib import Path

from seqkit._quiet import silence_tensorflow

silence_tensorflow()  # a script: keep TensorFlow quiet

from seqkit.experiments import EXPERIMENTS, run_experiment  # noqa: E402
from seqkit.plot import plot_hidden_states, plot_history  # noqa: E402

FIGURES = Path(__file__).resolve().parent / "figures"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def main(epochs: int | None = None) -> None:
    histories = {}
    stateful = None
    for name, experiment in EXPERIMENTS.items():
        started = time.perf_counter()
        result = run_experiment(name, epochs=epochs)
        label = f"{name} ({result.accuracy:.2f}%)"
        if epochs is not None:
            label = f"{name} ({epochs} of {experiment.epochs} epochs, {result.accuracy:.2f}%)"
        histories[label] = result.history
        if name == "stateful":
            stateful = result.model
        print(f"{label}: {time.perf_counter() - started:.1f} s")
    path = FIGURES / "training-curves.png"
    plot_history(
        histories,
        path,
        title="The tutorial's experiments: training loss and accuracy (final accuracy over the windows in brackets)",
    )
    print("wrote", path)
    assert stateful is not None
    path = FIGURES / "hidden-state.png"
    plot_hidden_states(
        stateful,
        ALPHABET,
        path,
        reset_at=ALPHABET.index("K"),
        title="Stateful LSTM 50 reading A..Z: hidden state h after each letter",
    )
    print("wrote", path)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="epochs per experiment (default: the tutorial's)")
    main(parser.parse_args().epochs)
