"""Pictures of training: loss and accuracy curves, and the LSTM's hidden state.

Three functions, each with one job:

- :func:`plot_history` draws loss and accuracy per epoch of one or several
  runs, side by side, into a PNG.
- :func:`hidden_state_trace` reads a stateful model's hidden state ``h``
  after every step as it reads a token sequence (no drawing; a NumPy array).
- :func:`plot_hidden_states` draws that trace as a heat map, optionally beside
  the same sequence read with a reset part-way, to show what a reset does.

Matplotlib is an optional extra (``pip install 'seqkit[plot]'``): it is
imported only when a figure is drawn, always with the non-interactive Agg
backend, so plotting works on servers without a display. PNGs are written
atomically (a crash leaves the old file or the new one).

>>> from seqkit.trainers import StatelessTrainer
>>> import seqkit, tempfile, pathlib
>>> _, history = StatelessTrainer(window=3, units=8, epochs=3).fit(seqkit.alphabet())
>>> path = plot_history({"window-timesteps": history}, pathlib.Path(tempfile.mkdtemp()) / "curves.png")
>>> path.read_bytes()[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqkit.checks import is_int
from seqkit.errors import ConfigurationError, DataError, MissingDependencyError
from seqkit.files import write_bytes_atomic
from seqkit.models import recurrent_layers

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from seqkit.sequence_model import SequenceModel

INSTALL_HINT = "matplotlib is not installed: pip install 'seqkit[plot]'"
"""The message of the error raised when a figure is asked for without matplotlib."""

DPI = 110


# Matplotlib, lazily -----------------------------------------------------------------
def _new_figure(width: float, height: float) -> Figure:
    """A matplotlib ``Figure`` on the Agg canvas (no pyplot, no global state, no display)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(INSTALL_HINT) from None
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save_png(figure: Figure, path: str | os.PathLike[str]) -> Path:
    """Render ``figure`` to PNG bytes in memory, then write them to ``path`` atomically."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ConfigurationError(f"Figures are written as PNG: give a path ending in .png; got {str(path)!r}.")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    write_bytes_atomic(target, buffer.getvalue())
    return target


# Training curves ---------------------------------------------------------------------
def _series(history: Any, key: str) -> list[float]:
    """``history.loss`` / ``history["loss"]``: a trainer's History or a model's ``history`` dict."""
    values = history.get(key) if isinstance(history, Mapping) else getattr(history, key, None)
    if values is None:
        raise DataError(
            f"A history needs per-epoch '{key}' values (a seqkit History or a dict with 'loss' and "
            f"'accuracy'); got a {type(history).__name__} without them."
        )
    return [float(value) for value in values]


def plot_history(
    histories: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    log_epochs: bool | None = None,
) -> Path:
    """Draw loss and accuracy per epoch of one or several runs, side by side, as a PNG.

    The left panel shows the training loss (log scale), the right one the
    training accuracy, one line per run, so runs of different experiments can
    be compared at a glance.

    Args:
        histories: run name → its history: a :class:`~seqkit.trainers.History`
            (``trainer.fit`` returns one), ``SequenceModel.history``, or any
            mapping with per-epoch ``"loss"`` and ``"accuracy"`` lists.
        path: the PNG file to write (replaced atomically; parent folders are created).
        title: a title over both panels. Defaults to none.
        log_epochs: draw epochs on a log scale. Defaults to None: on when the
            longest run has more than five times the epochs of the shortest.

    Returns:
        The path written.

    Raises:
        MissingDependencyError: matplotlib is not installed.
        DataError: no runs were given, or a run has no epochs.

    >>> import tempfile, pathlib
    >>> runs = {"a": {"loss": [2.0, 1.0, 0.5], "accuracy": [0.1, 0.5, 0.9]}}
    >>> plot_history(runs, pathlib.Path(tempfile.mkdtemp()) / "a.png").stat().st_size > 1000
    True
    """
    if not histories:
        raise DataError("plot_history needs at least one run; got an empty mapping of histories.")
    curves = {name: (_series(history, "loss"), _series(history, "accuracy")) for name, history in histories.items()}
    for name, (loss, accuracy) in curves.items():
        if not loss or not accuracy:
            raise DataError(f"The run {name!r} has no epochs to plot; train it for at least one epoch.")
    lengths = [len(loss) for loss, _ in curves.values()]
    if log_epochs is None:
        log_epochs = max(lengths) > 5 * min(lengths)
    figure = _new_figure(11, 4.2)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for name, (loss, accuracy) in curves.items():
        epochs = np.arange(1, len(loss) + 1)
        loss_axes.plot(epochs, loss, label=name, linewidth=1.4)
        accuracy_axes.plot(epochs[: len(accuracy)], np.asarray(accuracy) * 100.0, label=name, linewidth=1.4)
    loss_axes.set_yscale("log")
    loss_axes.set_title("training loss (cross-entropy)")
    accuracy_axes.set_title("training accuracy")
    accuracy_axes.set_ylabel("%")
    accuracy_axes.set_ylim(-2, 102)
    for axes in (loss_axes, accuracy_axes):
        axes.set_xlabel("epoch (log scale)" if log_epochs else "epoch")
        if log_epochs:
            axes.set_xscale("log")
        axes.grid(True, alpha=0.3)
    accuracy_axes.legend(loc="best", fontsize="small")
    if title:
        figure.suptitle(title)
    return _save_png(figure, path)


# Hidden state --------------------------------------------------------------------------
def _reset_steps(reset_at: int | Iterable[int] | None, steps: int) -> set[int]:
    if reset_at is None:
        return set()
    positions = [reset_at] if isinstance(reset_at, int | np.integer) else list(reset_at)
    for position in positions:
        if not is_int(position) or not 0 <= position < steps:
            raise ConfigurationError(
                f"reset_at must hold step indices between 0 and {steps - 1} (the steps read); got {position!r}."
            )
    return {int(position) for position in positions}


def _trace(
    model: SequenceModel, tokens: Sequence[str], reset_at: int | Iterable[int] | None
) -> tuple[np.ndarray, list[str]]:
    """Hidden states after each step, and the token the model predicts after each step."""
    layers = recurrent_layers(model.network)
    if not model.stateful or not layers:
        raise ConfigurationError(
            "hidden_state_trace needs a stateful model (one trained with StatefulTrainer); got "
            f"{model!r}. A stateless model starts every window from a zero state."
        )
    tokens = list(tokens)
    length = model.window_length
    if not tokens or len(tokens) % length:
        raise DataError(
            f"This model reads {length} token(s) per step; give a non-empty token sequence whose length "
            f"is a multiple of {length}; got {len(tokens)} tokens."
        )
    steps = len(tokens) // length
    resets = _reset_steps(reset_at, steps)
    first = layers[0]
    states: list[np.ndarray] = []
    predictions: list[str] = []
    model.reset()
    for step in range(steps):
        if step in resets:
            model.reset()
        distribution = model.next_distribution(tokens[step * length : (step + 1) * length])
        # The LSTM's state variables are [h, c], each (batch 1, units); h is what the next layer sees.
        states.append(np.asarray(first.states[0])[0].copy())
        predictions.append(model.vocabulary.id_to_token(int(np.argmax(distribution))))
    model.reset()
    return np.stack(states), predictions


def hidden_state_trace(
    model: SequenceModel, tokens: Sequence[str], reset_at: int | Iterable[int] | None = None
) -> np.ndarray:
    """The hidden state ``h`` of a stateful model's first LSTM layer after each step.

    The model is reset, then reads ``tokens`` one step at a time (one token per
    step for window length 1, else consecutive non-overlapping windows), as in
    generation; after each step the layer's ``states`` variables are read. The
    model is reset again at the end, so the trace leaves no state behind.

    Args:
        model: a fitted stateful :class:`~seqkit.sequence_model.SequenceModel`.
        tokens: what it reads, e.g. ``"ABCDEFGHIJKLMNOPQRSTUVWXYZ"``.
        reset_at: step index (or indices) before which the state is zeroed,
            e.g. ``10`` to forget ``A..J`` before reading ``K``. Defaults to None.

    Returns:
        float array ``(steps, units)``: row ``t`` is ``h`` after step ``t``.

    Raises:
        ConfigurationError: the model is stateless, or ``reset_at`` is out of range.
        DataError: ``tokens`` is empty or not a multiple of the window length.

    >>> import seqkit
    >>> from seqkit.trainers import StatefulTrainer
    >>> model, _ = StatefulTrainer(units=8, epochs=2).fit(seqkit.alphabet())
    >>> trace = hidden_state_trace(model, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", reset_at=10)
    >>> trace.shape
    (26, 8)
    >>> bool((hidden_state_trace(model, "K") == trace[10]).all())   # a reset is a cold start
    True
    """
    return _trace(model, tokens, reset_at)[0]


def plot_hidden_states(
    model: SequenceModel,
    tokens: Sequence[str],
    path: str | os.PathLike[str],
    *,
    reset_at: int | None = None,
    title: str | None = None,
) -> Path:
    """Draw a heat map of the hidden state as a stateful model reads ``tokens``.

    Each column is one step (labelled with the token read and, below, the
    token the model predicts next); each row is one LSTM unit, in the order of
    the step where it is most active, so a model that counts its way through
    the alphabet shows a diagonal. With ``reset_at`` a second panel shows the
    same sequence with the state zeroed before that step: the columns after
    the reset show what the model "forgot", and its predictions say what that
    costs.

    Args:
        model: a fitted stateful :class:`~seqkit.sequence_model.SequenceModel`.
        tokens: what it reads.
        path: the PNG file to write (replaced atomically).
        reset_at: a step before which the second panel zeroes the state. Defaults to
            None (one panel).
        title: a title over the figure. Defaults to none.

    Returns:
        The path written.

    Raises:
        MissingDependencyError: matplotlib is not installed.

    >>> import seqkit, tempfile, pathlib
    >>> from seqkit.trainers import StatefulTrainer
    >>> model, _ = StatefulTrainer(units=8, epochs=2).fit(seqkit.alphabet())
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.png"
    >>> plot_hidden_states(model, "ABCDEFGHIJ", path, reset_at=5) == path
    True
    """
    tokens = list(tokens)
    panels = [("read in one go", *_trace(model, tokens, None))]
    if reset_at is not None:
        label = tokens[reset_at * model.window_length] if 0 <= reset_at < len(tokens) // model.window_length else "?"
        panels.append((f"state reset before {label}", *_trace(model, tokens, reset_at)))
    states = panels[0][1]
    order = np.lexsort((np.arange(states.shape[1]), np.argmax(states, axis=0)))
    steps, units = states.shape
    figure = _new_figure(max(6.0, 0.34 * steps + 2.2), (1.0 + 0.07 * units) * len(panels) + 0.6)
    grid = figure.subplots(len(panels), 1, squeeze=False, sharex=True)[:, 0]
    length = model.window_length
    read = ["".join(tokens[step * length : (step + 1) * length]) for step in range(steps)]
    image = None
    for axes, (name, trace, predicted) in zip(grid, panels, strict=True):
        image = axes.imshow(trace[:, order].T, aspect="auto", cmap="RdBu_r", vmin=-1.0, vmax=1.0,
                            interpolation="nearest")
        axes.set_title(name, loc="left", fontsize="medium")
        axes.set_ylabel("LSTM unit\n(by peak step)")
        axes.set_yticks([])
        axes.set_xticks(range(steps), read)
        axes.tick_params(axis="x", labelbottom=True)
        top = axes.secondary_xaxis("top")
        top.set_xticks(range(steps), ["→" + token for token in predicted], fontsize="x-small")
        if reset_at is not None and name.startswith("state reset"):
            axes.axvline(reset_at - 0.5, color="black", linewidth=2.0)
    grid[-1].set_xlabel("token read (top: the token predicted next)")
    figure.colorbar(image, ax=list(grid), shrink=0.8, label="h (hidden state)")
    if title:
        figure.suptitle(title)
    return _save_png(figure, path)
