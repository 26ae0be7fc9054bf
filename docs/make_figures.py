"""Regenerate every figure in ``docs/figures/`` with seqkit's own plotting.

Run from the repository root (a few minutes on a laptop CPU)::

    .venv/bin/python docs/make_figures.py

- ``training-curves.png``: loss and accuracy per epoch of the tutorial's six
  experiments, side by side. Five run with the tutorial's epochs; the
  variable-length experiment (500 epochs of 1000 windows, many minutes) runs
  :data:`VARIABLE_LENGTH_EPOCHS` epochs, and its label says so.
- ``hidden-state.png``: the hidden state of the tutorial's stateful model
  (LSTM 50, 300 epochs) as it reads A..Z, in one go and with a reset before K.
"""

from __future__ import annotations

import time
from pathlib import Path

from seqkit.experiments import EXPERIMENTS, run_experiment
from seqkit.plot import plot_hidden_states, plot_history

FIGURES = Path(__file__).resolve().parent / "figures"
VARIABLE_LENGTH_EPOCHS = 40
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def main() -> None:
    histories = {}
    stateful = None
    for name, experiment in EXPERIMENTS.items():
        started = time.perf_counter()
        epochs = VARIABLE_LENGTH_EPOCHS if name == "variable-length" else None
        result = run_experiment(name, epochs=epochs)
        label = f"{name} ({result.accuracy:.2f}%)"
        if epochs is not None:
            label = f"{name} ({epochs} of {experiment.epochs} epochs, {result.accuracy:.2f}%)"
        histories[label] = result.history
        if name == "stateful":
            stateful = result.model
        print(f"{label}: {time.perf_counter() - started:.1f} s")
    path = plot_history(
        histories,
        FIGURES / "training-curves.png",
        title="The tutorial's experiments: training loss and accuracy (final accuracy over the windows in brackets)",
    )
    print("wrote", path)
    assert stateful is not None
    path = plot_hidden_states(
        stateful,
        ALPHABET,
        FIGURES / "hidden-state.png",
        reset_at=ALPHABET.index("K"),
        title="Stateful LSTM 50 reading A..Z: hidden state h after each letter",
    )
    print("wrote", path)


if __name__ == "__main__":
    main()
