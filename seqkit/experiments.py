"""The origin tutorial's six experiments as named, runnable recipes.

Each :class:`Experiment` carries the tutorial's hyperparameters (scaled
inputs ``id / 26``, Adam, categorical cross-entropy, seed 7) and the accuracy
the tutorial reported, so a run shows both side by side.

>>> sorted(EXPERIMENTS)
['in-batch', 'one-char', 'stateful', 'variable-length', 'window-features', 'window-timesteps']
>>> EXPERIMENTS["stateful"].tutorial_accuracy
100.0
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import keras

from seqkit.checks import check_optional_int
from seqkit.datasets import ALPHABET, Corpus, alphabet
from seqkit.errors import ConfigurationError
from seqkit.sequence_model import Evaluation, SequenceModel
from seqkit.trainers import (
    History,
    InBatchTrainer,
    RandomWindows,
    StatefulTrainer,
    StatelessTrainer,
    Trainer,
)


@dataclass(frozen=True)
class Experiment:
    """One of the tutorial's experiments.

    Attributes:
        name: short name used by the CLI (``seqkit experiments one-char``).
        title: a one-line description.
        make_trainer: builds the trainer with the tutorial's hyperparameters;
            takes ``epochs`` (None: the tutorial's count).
        tutorial_accuracy: the accuracy (percent) the tutorial's text reports.
        notebook_accuracy: what the seed notebook's own run printed, where it differs.
        layout: ``"timesteps"`` or ``"features"`` (for tables).
        trainer_kind: ``"stateless"``, ``"in-batch"`` or ``"stateful"`` (for tables).
    """

    name: str
    title: str
    make_trainer: Callable[[int | None], Trainer]
    tutorial_accuracy: float
    layout: str
    trainer_kind: str
    epochs: int
    notebook_accuracy: float | None = None
    probe_prime: str = "A"
    """The prefix ``generate`` starts from in the summary: 'A', or the first window."""



@dataclass
class ExperimentResult:
    """What running an experiment produced.

    Attributes:
        experiment: the recipe that ran.
        model: the fitted model.
        history: per-epoch loss and accuracy, time and steps.
        evaluation: accuracy over the training windows (the tutorial's ``model.evaluate``).
        random_patterns: accuracy on 20 random single patterns from a cold state.
        generated: what the model generates from :attr:`Experiment.probe_prime`.
        cold_start: for the stateful model, what it generates from a cold 'K'.
        primed: for the stateful model, what it generates from 'K' after reading A…J.
        seconds: wall-clock time of training and evaluation.
    """

    experiment: Experiment
    model: SequenceModel
    history: History
    evaluation: Evaluation
    random_patterns: Evaluation
    generated: str
    seconds: float
    cold_start: str | None = None
    primed: str | None = None

    @property
    def accuracy(self) -> float:
        """Accuracy over the training windows, in percent."""
        return 100.0 * self.evaluation.accuracy


def _stateless(window: int, layout: str, units: int = 32, epochs: int = 500) -> Callable[[int | None], Trainer]:
    return lambda e: StatelessTrainer(
        layout=layout, window=window, units=units, epochs=e or epochs, batch_size=1, seed=7
    )


EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in (
        Experiment(
            "one-char",
            "One char -> next char (LSTM 32, 500 epochs, batch 1)",
            _stateless(1, "timesteps"),
            84.00,
            "timesteps",
            "stateless",
            500,
            notebook_accuracy=80.00,
        ),
        Experiment(
            "window-features",
            "Three-char window as features (1 step x 3 features)",
            _stateless(3, "features"),
            86.96,
            "features",
            "stateless",
            500,
            notebook_accuracy=82.61,
            probe_prime="ABC",
        ),
        Experiment(
            "window-timesteps",
            "Three-char window as time steps (3 steps x 1 feature)",
            _stateless(3, "timesteps"),
            100.00,
            "timesteps",
            "stateless",
            500,
            probe_prime="ABC",
        ),
        Experiment(
            "in-batch",
            "One char, whole dataset as one unshuffled batch (LSTM 16, 5000 epochs)",
            lambda e: InBatchTrainer(window=1, units=16, epochs=e or 5000, seed=7),
            100.00,
            "timesteps",
            "in-batch",
            5000,
        ),
        Experiment(
            "stateful",
            "Stateful LSTM 50, batch 1, state reset every epoch (300 epochs)",
            lambda e: StatefulTrainer(window=1, units=50, epochs=e or 300, batch_size=1, reset="epoch", seed=7),
            100.00,
            "timesteps",
            "stateful",
            300,
        ),
        Experiment(
            "variable-length",
            "1000 random substrings of length 1-5, padded and masked (LSTM 32, 500 epochs)",
            lambda e: StatelessTrainer(
                window=RandomWindows(count=1000, max_length=5, seed=7),
                units=32,
                epochs=e or 500,
                batch_size=1,
                seed=7,
            ),
            98.90,
            "timesteps",
            "stateless",
            500,
        ),
    )
}

FIXED_WINDOW_EXPERIMENTS: tuple[str, ...] = ("one-char", "window-features", "window-timesteps", "in-batch", "stateful")


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``, or an error listing the valid names."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ConfigurationError(
            f"Unknown experiment {name!r}: expected one of {', '.join(EXPERIMENTS)}."
        ) from None


def run_experiment(
    name: str,
    *,
    epochs: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    corpus: Corpus | None = None,
) -> ExperimentResult:
    """Train and evaluate one experiment on the alphabet.

    Args:
        name: an experiment name (see :data:`EXPERIMENTS`).
        epochs: override the tutorial's epoch count (for quick runs). Defaults to None.
        callbacks: Keras callbacks for progress, early stopping or logging.
        corpus: the data; defaults to the alphabet.

    >>> result = run_experiment("window-timesteps", epochs=3)
    >>> result.history.epochs, len(result.generated)
    (3, 23)
    """
    experiment = get_experiment(name)
    epochs = check_optional_int("run_experiment", "epochs", epochs)
    data = corpus or alphabet()
    started = time.perf_counter()
    trainer = experiment.make_trainer(epochs)
    model, history = trainer.fit(data, callbacks=callbacks)
    windows = trainer.make_windows(data if isinstance(data, Corpus) else alphabet(), model.vocabulary)
    evaluation = model.evaluate(windows)
    random_patterns = model.evaluate_random_patterns(windows, count=20, seed=7)
    prime = experiment.probe_prime
    model.reset()
    steps = len(ALPHABET) - len(prime)
    generated = "".join(model.generate(prime, steps))
    cold_start = primed = None
    if model.stateful:
        model.reset()
        cold_start = "".join(model.generate("K", 5))
        model.reset()
        primed = "".join(model.generate("ABCDEFGHIJK", 5))
        model.reset()
    seconds = time.perf_counter() - started
    return ExperimentResult(
        experiment=replace(experiment),
        model=model,
        history=history,
        evaluation=evaluation,
        random_patterns=random_patterns,
        generated=generated,
        seconds=seconds,
        cold_start=cold_start,
        primed=primed,
    )
