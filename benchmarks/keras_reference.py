"""Plain-Keras reference of the tutorial seqkit grew from, for benchmarks.

The tutorial is Jason Brownlee's "Understanding Stateful LSTM Recurrent Neural
Networks in Python with Keras" (Keras 2.4 era; the notebook copy is in
``shared/seed/alphabet-lstm-notebook.txt``).  Each experiment below is that
code ported to Keras 3 / TF 2.x with as few changes as the API forces:

* ``keras.utils.to_categorical`` / ``keras.utils.pad_sequences`` instead of
  ``np_utils`` / ``keras.preprocessing.sequence``;
* ``keras.Input(shape=...)`` (``keras.Input(batch_shape=(1, 1, 1))`` for the
  stateful model) instead of ``input_shape=`` / ``batch_input_shape=``;
* ``lstm.reset_state()`` instead of ``model.reset_states()`` (a Keras 3 Model
  has no ``reset_states``);
* ``keras.utils.set_random_seed(7)`` instead of ``numpy.random.seed(7)`` (it
  seeds numpy with 7 too, and also Python and TensorFlow, so that the weight
  initialisation is repeatable as well).

The way of training is kept on purpose -- ``model.fit`` with the tutorial's
batch sizes, a per-epoch ``fit`` loop with manual resets for the stateful
model -- because this is the baseline seqkit is compared with.  Do not
optimise it.

Every experiment function returns a :class:`ReferenceResult`: the accuracy of
``model.evaluate`` on the training data (as the tutorial reports it), the
seconds spent in training plus that evaluation (model construction, data
preparation and the prediction demo are not timed), and the number of
optimizer steps taken (read from ``model.optimizer.iterations``).

Use from another script (``benchmarks/`` on ``sys.path``)::

    from keras_reference import REFERENCE_EXPERIMENTS, run_reference
    result = REFERENCE_EXPERIMENTS["window-timesteps"](epochs=50)
    result = run_reference("stateful", epochs_scale=0.1)

or from the command line::

    TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/keras_reference.py \\
        one-char stateful --epochs-scale 0.1 --demo
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHAR_TO_INT = dict((c, i) for i, c in enumerate(ALPHABET))
INT_TO_CHAR = dict((i, c) for i, c in enumerate(ALPHABET))
SEED = 7

#: Epochs each experiment uses in the tutorial.
FULL_EPOCHS: dict[str, int] = {
    "one-char": 500,
    "window-features": 500,
    "window-timesteps": 500,
    "in-batch": 5000,
    "stateful": 300,
    "variable-length": 500,
}

#: Accuracies (percent) the blog post reports; the notebook copy shows 80.00
#: for one-char and 82.61 for window-features.
TUTORIAL_ACCURACY: dict[str, float] = {
    "one-char": 84.00,
    "window-features": 86.96,
    "window-timesteps": 100.00,
    "in-batch": 100.00,
    "stateful": 100.00,
    "variable-length": 98.90,
}


@dataclass
class ReferenceResult:
    """Outcome of one reference experiment."""

    name: str
    accuracy: float  # fraction in [0, 1], from model.evaluate on the training data
    seconds: float  # training + evaluation wall time
    steps: int  # optimizer steps taken (model.optimizer.iterations)
    epochs: int
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    # CPU time of this process over the same span (all threads); less sensitive
    # than `seconds` to other jobs sharing the cores
    cpu_seconds: float = 0.0
    # e.g. "predictions": list of "ABC -> D" strings when demo=True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accuracy_percent(self) -> float:
        return 100.0 * self.accuracy


# --------------------------------------------------------------------------
# shared helpers (the tutorial's data preparation, unchanged)


def _start(seed: int = SEED) -> None:
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)  # numpy.random.seed(7) and more


def _fixed_windows(seq_length: int) -> tuple[list[list[int]], list[int]]:
    dataX, dataY = [], []
    for i in range(0, len(ALPHABET) - seq_length, 1):
        seq_in = ALPHABET[i : i + seq_length]
        seq_out = ALPHABET[i + seq_length]
        dataX.append([CHAR_TO_INT[char] for char in seq_in])
        dataY.append(CHAR_TO_INT[seq_out])
    return dataX, dataY


def _compile(model: keras.Model) -> None:
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])


def _steps(model: keras.Model) -> int:
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def _fit_and_evaluate(name, model, X, y, epochs, fit_kwargs, verbose) -> ReferenceResult:
    c0 = time.process_time()
    t0 = time.perf_counter()
    model.fit(X, y, epochs=epochs, verbose=verbose, **fit_kwargs)
    t1 = time.perf_counter()
    scores = model.evaluate(X, y, verbose=0)
    t2 = time.perf_counter()
    c2 = time.process_time()
    return ReferenceResult(
        name=name,
        accuracy=float(scores[1]),
        seconds=t2 - t0,
        steps=_steps(model),
        epochs=epochs,
        train_seconds=t1 - t0,
        eval_seconds=t2 - t1,
        cpu_seconds=c2 - c0,
    )


def _demo_patterns(model, dataX, shape_of) -> list[str]:
    """The tutorial's 'demonstrate some model predictions' loop."""
    out = []
    for pattern in dataX:
        x = numpy.reshape(pattern, shape_of(pattern))
        x = x / float(len(ALPHABET))
        prediction = model.predict(x, verbose=0)
        index = numpy.argmax(prediction)
        seq_in = "".join(INT_TO_CHAR[value] for value in pattern)
        out.append(f"{seq_in} -> {INT_TO_CHAR[index]}")
    return out


# --------------------------------------------------------------------------
# the experiments


def one_char(epochs: int = 500, *, demo: bool = False, verbose: int = 0) -> ReferenceResult:
    """Naive LSTM to learn one-char to one-char mapping (tutorial: 84.00%)."""
    _start()
    seq_length = 1
    dataX, dataY = _fixed_windows(seq_length)
    X = numpy.reshape(dataX, (len(dataX), seq_length, 1))
    X = X / float(len(ALPHABET))
    y = keras.utils.to_categorical(dataY)
    model = keras.Sequential(
        [
            keras.Input(shape=(X.shape[1], X.shape[2])),
            layers.LSTM(32),
            layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    _compile(model)
    result = _fit_and_evaluate("one-char", model, X, y, epochs, dict(batch_size=1), verbose)
    if demo:
        result.extra["predictions"] = _demo_patterns(model, dataX, lambda p: (1, len(p), 1))
    return result


def window_features(epochs: int = 500, *, demo: bool = False, verbose: int = 0) -> ReferenceResult:
    """Naive LSTM, three-char window as features of one time step (tutorial: 86.96%)."""
    _start()
    seq_length = 3
    dataX, dataY = _fixed_windows(seq_length)
    X = numpy.reshape(dataX, (len(dataX), 1, seq_length))
    X = X / float(len(ALPHABET))
    y = keras.utils.to_categorical(dataY)
    model = keras.Sequential(
        [
            keras.Input(shape=(X.shape[1], X.shape[2])),
            layers.LSTM(32),
            layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    _compile(model)
    result = _fit_and_evaluate("window-features", model, X, y, epochs, dict(batch_size=1), verbose)
    if demo:
        result.extra["predictions"] = _demo_patterns(model, dataX, lambda p: (1, 1, len(p)))
    return result


def window_timesteps(epochs: int = 500, *, demo: bool = False, verbose: int = 0) -> ReferenceResult:
    """Naive LSTM, three-char window as three time steps (tutorial: 100%)."""
    _start()
    seq_length = 3
    dataX, dataY = _fixed_windows(seq_length)
    X = numpy.reshape(dataX, (len(dataX), seq_length, 1))
    X = X / float(len(ALPHABET))
    y = keras.utils.to_categorical(dataY)
    model = keras.Sequential(
        [
            keras.Input(shape=(X.shape[1], X.shape[2])),
            layers.LSTM(32),
            layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    _compile(model)
    result = _fit_and_evaluate("window-timesteps", model, X, y, epochs, dict(batch_size=1), verbose)
    if demo:
        result.extra["predictions"] = _demo_patterns(model, dataX, lambda p: (1, len(p), 1))
    return result


def in_batch(epochs: int = 5000, *, demo: bool = False, verbose: int = 0) -> ReferenceResult:
    """One-char to one-char with all data in one unshuffled batch (tutorial: 100%)."""
    _start()
    seq_length = 1
    dataX, dataY = _fixed_windows(seq_length)
    # convert list of lists to array and pad sequences if needed
    X = keras.utils.pad_sequences(dataX, maxlen=seq_length, dtype="float32")
    # reshape X to be [samples, time steps, features] (the tutorial reshapes dataX)
    X = numpy.reshape(dataX, (X.shape[0], seq_length, 1))
    X = X / float(len(ALPHABET))
    y = keras.utils.to_categorical(dataY)
    model = keras.Sequential(
        [
            keras.Input(shape=(X.shape[1], X.shape[2])),
            layers.LSTM(16),
            layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    _compile(model)
    result = _fit_and_evaluate(
        "in-batch", model, X, y, epochs, dict(batch_size=len(dataX), shuffle=False), verbose
    )
    if demo:
        shape_of = lambda p: (1, len(p), 1)  # noqa: E731
        result.extra["predictions"] = _demo_patterns(model, dataX, shape_of)
        randoms = [dataX[numpy.random.randint(len(dataX))] for _ in range(20)]
        result.extra["random_predictions"] = _demo_patterns(model, randoms, shape_of)
    return result


def stateful(epochs: int = 300, *, demo: bool = False, verbose: int = 0) -> ReferenceResult:
    """Stateful LSTM, one char per step, state kept across batches (tutorial: 100%).

    Trained the tutorial's way: one ``fit`` call per epoch, ``shuffle=False``,
    state reset by hand after each.  With ``demo=True`` also generates from 'A'
    feeding each prediction back (expected B..Z), and from a cold 'K' (which
    the tutorial shows going wrong: K->B, B->C, ...).
    """
    _start()
    seq_length = 1
    dataX, dataY = _fixed_windows(seq_length)
    X = numpy.reshape(dataX, (len(dataX), seq_length, 1))
    X = X / float(len(ALPHABET))
    y = keras.utils.to_categorical(dataY)
    batch_size = 1
    lstm = layers.LSTM(50, stateful=True)
    model = keras.Sequential(
        [
            keras.Input(batch_shape=(batch_size, X.shape[1], X.shape[2])),
            lstm,
            layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    _compile(model)
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.fit(X, y, epochs=1, batch_size=batch_size, verbose=verbose, shuffle=False)
        lstm.reset_state()  # model.reset_states() in Keras 2
    t1 = time.perf_counter()
    scores = model.evaluate(X, y, batch_size=batch_size, verbose=0)
    lstm.reset_state()
    t2 = time.perf_counter()
    c2 = time.process_time()
    result = ReferenceResult(
        name="stateful",
        accuracy=float(scores[1]),
        seconds=t2 - t0,
        steps=_steps(model),
        epochs=epochs,
        train_seconds=t1 - t0,
        eval_seconds=t2 - t1,
        cpu_seconds=c2 - c0,
    )
    if demo:
        # demonstrate some model predictions
        seed = [CHAR_TO_INT[ALPHABET[0]]]
        generated = []
        for _ in range(0, len(ALPHABET) - 1):
            x = numpy.reshape(seed, (1, len(seed), 1))
            x = x / float(len(ALPHABET))
            prediction = model.predict(x, verbose=0)
            index = int(numpy.argmax(prediction))
            generated.append(f"{INT_TO_CHAR[seed[0]]} -> {INT_TO_CHAR[index]}")
            seed = [index]
        lstm.reset_state()
        # demonstrate a random starting point
        letter = "K"
        seed = [CHAR_TO_INT[letter]]
        from_k = []
        for _ in range(0, 5):
            x = numpy.reshape(seed, (1, len(seed), 1))
            x = x / float(len(ALPHABET))
            prediction = model.predict(x, verbose=0)
            index = int(numpy.argmax(prediction))
            from_k.append(f"{INT_TO_CHAR[seed[0]]} -> {INT_TO_CHAR[index]}")
            seed = [index]
        lstm.reset_state()
        result.extra["predictions"] = generated
        result.extra["from_K"] = from_k
    return result


def variable_length(epochs: int = 500, *, demo: bool = False, verbose: int = 0) -> ReferenceResult:
    """Variable-length input (1-5 chars, pre-padded) to one-char output (tutorial: 98.90%).

    1000 samples, batch_size 1: a full run is 500 * 1000 optimizer steps.
    """
    _start()
    num_inputs = 1000
    max_len = 5
    dataX, dataY = [], []
    for _ in range(num_inputs):
        start = numpy.random.randint(len(ALPHABET) - 2)
        end = numpy.random.randint(start, min(start + max_len, len(ALPHABET) - 1))
        sequence_in = ALPHABET[start : end + 1]
        sequence_out = ALPHABET[end + 1]
        dataX.append([CHAR_TO_INT[char] for char in sequence_in])
        dataY.append(CHAR_TO_INT[sequence_out])
    # convert list of lists to array and pad sequences if needed
    X = keras.utils.pad_sequences(dataX, maxlen=max_len, dtype="float32")
    # reshape X to be [samples, time steps, features]
    X = numpy.reshape(X, (X.shape[0], max_len, 1))
    X = X / float(len(ALPHABET))
    y = keras.utils.to_categorical(dataY)
    batch_size = 1
    model = keras.Sequential(
        [
            keras.Input(shape=(X.shape[1], 1)),
            layers.LSTM(32),
            layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    _compile(model)
    result = _fit_and_evaluate(
        "variable-length", model, X, y, epochs, dict(batch_size=batch_size), verbose
    )
    if demo:
        out = []
        for _ in range(20):
            pattern = dataX[numpy.random.randint(len(dataX))]
            x = keras.utils.pad_sequences([pattern], maxlen=max_len, dtype="float32")
            x = numpy.reshape(x, (1, max_len, 1))
            x = x / float(len(ALPHABET))
            prediction = model.predict(x, verbose=0)
            index = numpy.argmax(prediction)
            seq_in = "".join(INT_TO_CHAR[value] for value in pattern)
            out.append(f"{seq_in} -> {INT_TO_CHAR[index]}")
        result.extra["predictions"] = out
    return result


#: name -> experiment function; each takes ``epochs`` (default: the tutorial's)
#: and keyword-only ``demo`` / ``verbose``, and returns a ReferenceResult.
REFERENCE_EXPERIMENTS: dict[str, Callable[..., ReferenceResult]] = {
    "one-char": one_char,
    "window-features": window_features,
    "window-timesteps": window_timesteps,
    "in-batch": in_batch,
    "stateful": stateful,
    "variable-length": variable_length,
}


def scaled_epochs(name: str, epochs_scale: float = 1.0) -> int:
    """The tutorial's epochs for ``name`` times ``epochs_scale``, at least 1."""
    return max(1, int(round(FULL_EPOCHS[name] * epochs_scale)))


def run_reference(
    name: str, epochs_scale: float = 1.0, *, epochs: int | None = None, **kwargs: Any
) -> ReferenceResult:
    """Run one experiment by name, with ``epochs`` or the tutorial's epochs scaled."""
    if name not in REFERENCE_EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; choose from {sorted(REFERENCE_EXPERIMENTS)}")
    if epochs is None:
        epochs = scaled_epochs(name, epochs_scale)
    return REFERENCE_EXPERIMENTS[name](epochs=epochs, **kwargs)


def format_table(results: list[ReferenceResult]) -> str:
    header = (
        f"{'experiment':<18} {'epochs':>6} {'accuracy %':>10} {'tutorial %':>10} "
        f"{'seconds':>9} {'cpu s':>8} {'steps':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<18} {r.epochs:>6} {r.accuracy_percent:>10.2f} "
            f"{TUTORIAL_ACCURACY[r.name]:>10.2f} {r.seconds:>9.1f} {r.cpu_seconds:>8.1f} {r.steps:>8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "experiments",
        nargs="*",
        metavar="NAME",
        help=f"experiments to run (default: all): {', '.join(REFERENCE_EXPERIMENTS)}",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--epochs-scale", type=float, default=1.0, help="multiply the tutorial's epochs")
    group.add_argument("--epochs", type=int, default=None, help="fixed epochs for every experiment")
    parser.add_argument("--demo", action="store_true", help="also print the tutorial's prediction demos")
    parser.add_argument("--verbose", type=int, default=0, help="verbose argument passed to fit")
    args = parser.parse_args(argv)
    names = args.experiments or list(REFERENCE_EXPERIMENTS)
    unknown = [n for n in names if n not in REFERENCE_EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {unknown}; choose from {list(REFERENCE_EXPERIMENTS)}")
    results = []
    for name in names:
        r = run_reference(name, args.epochs_scale, epochs=args.epochs, demo=args.demo, verbose=args.verbose)
        results.append(r)
        print(
            f"{r.name}: accuracy {r.accuracy_percent:.2f}% in {r.seconds:.1f}s "
            f"(train {r.train_seconds:.1f}s, eval {r.eval_seconds:.2f}s, cpu {r.cpu_seconds:.1f}s), {r.steps} steps, {r.epochs} epochs",
            flush=True,
        )
        for key, values in r.extra.items():
            print(f"  {key}: " + ", ".join(values), flush=True)
    print()
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
