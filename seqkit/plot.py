"""Pictures of training: loss and accuracy curves, and the LSTM's hidden state.

Five functions, each with one job:

- :func:`plot_history` draws loss and accuracy per epoch of one or several
  runs, side by side.
- :func:`hidden_state_trace` reads a stateful model's hidden state ``h``
  after every step as it reads a token sequence (no drawing; a NumPy array).
- :func:`plot_hidden_states` draws that trace as a heat map, optionally beside
  the same sequence read with a reset part-way, to show what a reset does.
- :func:`plot_activation_text` draws a text with each character coloured by
  one unit's activation (Karpathy, Johnson & Fei-Fei 2015; for an HTML page
  see :mod:`seqkit.activation_html`).
- :func:`plot_gate_saturation` draws how often each unit's gates are
  saturated, one panel per gate, one colour per layer.

The drawing functions return the matplotlib ``Figure``, draw into your own
axes when given ``ax=`` (one ``Axes`` per panel), and write a PNG only when
given a path (atomically: a crash leaves the old file or the new one). A figure
they create shows itself in Jupyter when it is a cell's value, with or without
pyplot, and holds no pyplot state: nothing is shown, nothing leaks between
calls. Matplotlib is an optional extra (``pip install 'seqkit[plot]'``),
imported only when a figure is drawn.

>>> from seqkit.trainers import StatelessTrainer
>>> import seqkit, tempfile, pathlib
>>> _, history = StatelessTrainer(window=3, units=8, epochs=3).fit(seqkit.alphabet())
>>> figure = plot_history({"window-timesteps": history})
>>> [axes.get_title() for axes in figure.axes]
['training loss (cross-entropy)', 'training accuracy']
>>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.png"
>>> figure = plot_history({"window-timesteps": history}, path)
>>> path.read_bytes()[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqkit.checks import check_int, is_int
from seqkit.errors import ConfigurationError, DataError, MissingDependencyError
from seqkit.files import write_bytes_atomic
from seqkit.models import recurrent_layers

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from seqkit.sequence_model import SequenceModel

INSTALL_HINT = "matplotlib is not installed: pip install 'seqkit[plot]'"
"""The message of the error raised when a figure is asked for without matplotlib."""

DPI = 110

METRICS = {"loss": "training loss (cross-entropy)", "accuracy": "training accuracy"}
"""What :func:`plot_history` can draw, and each panel's title."""


# Matplotlib, lazily -----------------------------------------------------------------
@functools.cache
def _figure_class() -> type[Figure]:
    """``NotebookFigure``: a matplotlib ``Figure`` that shows itself as a PNG in Jupyter.

    Built on first use, so importing :mod:`seqkit.plot` does not import matplotlib.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(INSTALL_HINT) from None

    class NotebookFigure(Figure):
        """A ``Figure`` with ``_repr_png_``: IPython displays it without pyplot or ``%matplotlib``."""

        def _repr_png_(self) -> bytes:
            return _png_bytes(self)

    NotebookFigure.__module__ = __name__  # pickles as seqkit.plot.NotebookFigure (module __getattr__)
    NotebookFigure.__qualname__ = "NotebookFigure"
    return NotebookFigure


def __getattr__(name: str) -> Any:
    if name == "NotebookFigure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas (no pyplot, no global state, no display)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise MissingDependencyError(INSTALL_HINT) from None
    figure_class = _figure_class()
    figure = figure_class(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _target_axes(ax: Any, panels: int, what: str) -> list[Axes] | None:
    """``ax`` as a list of ``panels`` axes (None: make a new figure)."""
    if ax is None:
        return None
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != panels or not all(hasattr(item, "plot") and hasattr(item, "figure") for item in axes):
        raise ConfigurationError(
            f"{what} draws {panels} panel(s): give ax= as {panels} matplotlib Axes (one per panel); "
            f"got {ax!r}."
        )
    return axes


def _root_figure(axes: Axes) -> Figure:
    """The figure that holds ``axes`` (the top-level one for axes in a subfigure)."""
    return axes.figure.figure


def _png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _check_png_path(path: str | os.PathLike[str] | None) -> Path | None:
    if path is None:
        return None
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ConfigurationError(f"Figures are written as PNG: give a path ending in .png; got {str(path)!r}.")
    return target


def _save_png(figure: Figure, target: Path | None) -> Figure:
    """Render ``figure`` to PNG bytes in memory and write them to ``target`` atomically, if given."""
    if target is not None:
        write_bytes_atomic(target, _png_bytes(figure))
    return figure


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


def _held_out(history: Any, key: str) -> list[float]:
    """``val_loss`` / ``val_accuracy`` of a run validated on held-out data; empty otherwise."""
    values = history.get(f"val_{key}") if isinstance(history, Mapping) else getattr(history, f"val_{key}", None)
    return [float(value) for value in values or []]


def _metric_names(metrics: str | Sequence[str]) -> list[str]:
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names or any(name not in METRICS for name in names) or len(set(names)) != len(names):
        raise ConfigurationError(
            f"metrics must name one or more of {sorted(METRICS)}, each once; got {metrics!r}."
        )
    return names


def plot_history(
    histories: Mapping[str, Any],
    path: str | os.PathLike[str] | None = None,
    *,
    metrics: str | Sequence[str] = ("loss", "accuracy"),
    ax: Axes | Sequence[Axes] | None = None,
    title: str | None = None,
    log_epochs: bool | None = None,
) -> Figure:
    """Draw loss and accuracy per epoch of one or several runs, side by side.

    The loss panel shows the training loss (log scale), the accuracy panel the
    training accuracy, one line per run, so runs of different experiments can
    be compared at a glance. A run validated on held-out data (``val_loss``,
    ``val_accuracy``) gets a dashed line beside its training line.

    Args:
        histories: run name → its history: a :class:`~seqkit.trainers.History`
            (``trainer.fit`` returns one), ``SequenceModel.history``, or any
            mapping with per-epoch ``"loss"`` and ``"accuracy"`` lists.
        path: a PNG file to write (replaced atomically; parent folders are
            created). Defaults to None: nothing is written.
        metrics: the panels, left to right: ``"loss"``, ``"accuracy"`` or both.
            Defaults to both.
        ax: the matplotlib Axes to draw into, one per metric (e.g.
            ``plt.subplots(1, 2)[1]``). Defaults to None: a new figure.
        title: a title over the figure. Defaults to none.
        log_epochs: draw epochs on a log scale. Defaults to None: on when the
            longest run has more than five times the epochs of the shortest.

    Returns:
        The matplotlib ``Figure`` drawn into (the one holding ``ax``, if given).

    Raises:
        MissingDependencyError: matplotlib is not installed.
        DataError: no runs were given, or a run has no epochs.
        ConfigurationError: ``path`` does not end in ``.png``, or ``ax`` does not
            hold one Axes per metric.

    >>> runs = {"a": {"loss": [2.0, 1.0, 0.5], "accuracy": [0.1, 0.5, 0.9]}}
    >>> figure = plot_history(runs, metrics="accuracy")
    >>> [line.get_label() for line in figure.axes[0].lines]
    ['a']
    """
    if not histories:
        raise DataError("plot_history needs at least one run; got an empty mapping of histories.")
    names = _metric_names(metrics)
    target = _check_png_path(path)
    axes_given = _target_axes(ax, len(names), "plot_history")
    curves = {name: {key: _series(history, key) for key in names} for name, history in histories.items()}
    for name, series in curves.items():
        if not all(series.values()):
            raise DataError(f"The run {name!r} has no epochs to plot; train it for at least one epoch.")
    lengths = [len(next(iter(series.values()))) for series in curves.values()]
    if log_epochs is None:
        log_epochs = max(lengths) > 5 * min(lengths)
    if axes_given is None:
        figure = _new_figure(5.5 * len(names), 4.2)
        panels = list(np.ravel(figure.subplots(1, len(names), squeeze=False)))
    else:
        figure, panels = _root_figure(axes_given[0]), axes_given
    for axes, key in zip(panels, names, strict=True):
        for name, series in curves.items():
            scale = 100.0 if key == "accuracy" else 1.0
            values = np.asarray(series[key]) * scale
            (line,) = axes.plot(np.arange(1, len(values) + 1), values, label=name, linewidth=1.4)
            held_out = _held_out(histories[name], key)
            if held_out:  # the held-out curve, dashed, in the run's colour
                axes.plot(
                    np.arange(1, len(held_out) + 1), np.asarray(held_out) * scale, label=f"{name} (held out)",
                    linewidth=1.4, linestyle="--", color=line.get_color(),
                )
        axes.set_title(METRICS[key])
        if key == "loss":
            axes.set_yscale("log")
        else:
            axes.set_ylabel("%")
            axes.set_ylim(-2, 102)
        axes.set_xlabel("epoch (log scale)" if log_epochs else "epoch")
        if log_epochs:
            axes.set_xscale("log")
        axes.grid(True, alpha=0.3)
    panels[-1].legend(loc="best", fontsize="small")
    if title:
        figure.suptitle(title)
    return _save_png(figure, target)


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
    path: str | os.PathLike[str] | None = None,
    *,
    reset_at: int | None = None,
    ax: Axes | Sequence[Axes] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw a heat map of the hidden state as a stateful model reads ``tokens``.

    Each column is one step (labelled with the token read and, above, the
    token the model predicts next); each row is one LSTM unit, in the order of
    the step where it is most active, so a model that counts its way through
    the alphabet shows a diagonal. With ``reset_at`` a second panel shows the
    same sequence with the state zeroed before that step: the columns after
    the reset show what the model "forgot", and its predictions say what that
    costs.

    Args:
        model: a fitted stateful :class:`~seqkit.sequence_model.SequenceModel`.
        tokens: what it reads.
        path: a PNG file to write (replaced atomically). Defaults to None:
            nothing is written.
        reset_at: a step before which the second panel zeroes the state. Defaults to
            None (one panel).
        ax: the matplotlib Axes to draw into, one per panel (two with
            ``reset_at``). Defaults to None: a new figure.
        title: a title over the figure. Defaults to none.

    Returns:
        The matplotlib ``Figure`` drawn into (the one holding ``ax``, if given).

    Raises:
        MissingDependencyError: matplotlib is not installed.
        ConfigurationError: the model is stateless, ``path`` does not end in
            ``.png``, or ``ax`` does not hold one Axes per panel.

    >>> import seqkit, tempfile, pathlib
    >>> from seqkit.trainers import StatefulTrainer
    >>> model, _ = StatefulTrainer(units=8, epochs=2).fit(seqkit.alphabet())
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.png"
    >>> figure = plot_hidden_states(model, "ABCDEFGHIJ", path, reset_at=5)
    >>> path.exists(), [axes.get_title(loc="left") for axes in figure.axes[:2]]
    (True, ['read in one go', 'state reset before F'])
    """
    tokens = list(tokens)
    target = _check_png_path(path)
    axes_given = _target_axes(ax, 1 if reset_at is None else 2, "plot_hidden_states")
    panels = [("read in one go", *_trace(model, tokens, None))]
    if reset_at is not None:
        label = tokens[reset_at * model.window_length] if 0 <= reset_at < len(tokens) // model.window_length else "?"
        panels.append((f"state reset before {label}", *_trace(model, tokens, reset_at)))
    states = panels[0][1]
    order = np.lexsort((np.arange(states.shape[1]), np.argmax(states, axis=0)))
    steps, units = states.shape
    if axes_given is None:
        figure = _new_figure(max(6.0, 0.34 * steps + 2.2), (1.0 + 0.07 * units) * len(panels) + 0.6)
        grid = list(figure.subplots(len(panels), 1, squeeze=False, sharex=True)[:, 0])
    else:
        figure, grid = _root_figure(axes_given[0]), axes_given
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
    return _save_png(figure, target)


# Looking inside the cells ---------------------------------------------------------------
MAX_PLOTTED_TOKENS = 5_000
"""The most tokens :func:`plot_activation_text` draws; pass a slice of a longer text."""

MAX_PLOTTED_CELLS = 40_000
"""The most character cells :func:`plot_activation_text` draws (long word-level tokens)."""

TAB_WIDTH = 8
"""A tab fills the cells up to the next multiple of this column."""

ACTIVATION_COLORS = ("#0000ff", "#ffffff", "#ff0000")
"""Blue at ``-limit``, white at 0, red at ``+limit`` (as in :mod:`seqkit.activation_html`)."""

_CELL_WIDTH = 0.11  # inches per character cell in a figure plot_activation_text makes
_CELL_HEIGHT = 0.2
_DARK = 0.6  # past this share of the limit a cell is dark enough for white letters
_NEWLINE_MARK = "↵"


@functools.cache
def _activation_colormap() -> Any:
    """The blue-white-red colormap of activations (built on first use: matplotlib is lazy)."""
    try:
        from matplotlib.colors import LinearSegmentedColormap
    except ImportError:
        raise MissingDependencyError(INSTALL_HINT) from None
    colormap = LinearSegmentedColormap.from_list("seqkit_activation", list(ACTIVATION_COLORS))
    return colormap.with_extremes(bad=(1.0, 1.0, 1.0, 0.0))  # cells no character falls in: transparent


def _check_limit(limit: float) -> float:
    if isinstance(limit, bool) or not isinstance(limit, int | float | np.integer | np.floating):
        limit_ok = False
    else:
        limit_ok = bool(np.isfinite(limit)) and limit > 0
    if not limit_ok:
        raise ConfigurationError(
            f"limit must be a finite number > 0 (the magnitude drawn at full colour, 1.0 for h or tanh(c)); "
            f"got {limit!r}."
        )
    return float(limit)


def _activation_row(tokens: Sequence[str], values: Any) -> tuple[list[str], np.ndarray]:
    """``tokens`` as a list of strings and ``values`` as finite floats, one per token."""
    if len(tokens) > MAX_PLOTTED_TOKENS:
        raise DataError(
            f"plot_activation_text draws at most {MAX_PLOTTED_TOKENS} tokens; got {len(tokens)}. Pass a slice "
            f"of the tokens and the matching values, e.g. tokens[:{MAX_PLOTTED_TOKENS}] (or write a longer text "
            "with seqkit.activation_html)."
        )
    listed = list(tokens)
    for position, token in enumerate(listed):
        if not isinstance(token, str):
            raise DataError(
                f"Tokens must be strings; got a {type(token).__name__} at position {position}: {token!r}."
            )
    try:
        row = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"values must be numbers, one per token; got {type(values).__name__} that is not a numeric array."
        ) from None
    if row.ndim != 1:
        raise DataError(
            f"plot_activation_text draws one unit: values must be 1-D, one per token; got an array of shape "
            f"{row.shape}. Pass one row, e.g. values[unit]."
        )
    if len(row) != len(listed):
        raise DataError(
            f"plot_activation_text needs one value per token; got {len(listed)} tokens and {len(row)} values. "
            "Pass values with one entry per token."
        )
    bad = ~np.isfinite(row)
    if bad.any():
        raise DataError(
            f"values must be finite; got {int(bad.sum())} NaN or infinite value(s), the first at token "
            f"{int(np.argmax(bad))}. Replace them (e.g. numpy.nan_to_num) or pass a slice without them."
        )
    return listed, row


def _text_cells(tokens: Sequence[str], columns: int) -> list[tuple[int, int, str, int]]:
    """``(row, column, character, token index)`` of each cell of the text laid out in a grid.

    Lines wrap at ``columns`` and end at newlines; a newline takes a cell of
    its own (drawn as ``↵``, in the column after a full line if need be). A
    token that fits on a line but not in the rest of this one starts the next
    line, so words are not split. A tab fills the cells up to the next tab stop.
    """
    cells: list[tuple[int, int, str, int]] = []
    row = column = 0
    for index, token in enumerate(tokens):
        first_line = token.split("\n", 1)[0]
        if 0 < column and column + len(first_line) > columns >= len(first_line):
            row, column = row + 1, 0
        for character in token:
            if character == "\n":
                cells.append((row, column, _NEWLINE_MARK, index))
                row, column = row + 1, 0
                continue
            if column >= columns:
                row, column = row + 1, 0
            if character == "\t":
                stop = min(columns, column + TAB_WIDTH - column % TAB_WIDTH)
                cells.extend((row, cell, " ", index) for cell in range(column, stop))
                column = stop
            else:
                cells.append((row, column, character, index))
                column += 1
        if len(cells) > MAX_PLOTTED_CELLS:
            raise DataError(
                f"plot_activation_text draws at most {MAX_PLOTTED_CELLS} character cells; the first {index + 1} "
                "tokens already fill more. Pass a shorter slice of the tokens and the matching values."
            )
    return cells


def plot_activation_text(
    tokens: Sequence[str],
    values: Sequence[float] | np.ndarray,
    *,
    ax: Axes | Sequence[Axes] | None = None,
    path: str | os.PathLike[str] | None = None,
    columns: int = 80,
    limit: float = 1.0,
    title: str | None = None,
) -> Figure:
    """Draw a text with each character's cell coloured by one unit's activation.

    The picture of Karpathy, Johnson & Fei-Fei (2015): the text laid out in a
    monospace grid, each character on a cell coloured blue (``-limit``) to
    white (0) to red (``+limit``), values clipped to that range, with a small
    colour bar. A token of several characters (word level) colours all its
    cells with its value, and starts a new line rather than being split when
    it does not fit in the rest of one. Lines wrap at ``columns`` and end at
    newlines, whose cell shows ``↵``; a space's cell is coloured but blank, a
    tab fills the cells up to the next multiple of :data:`TAB_WIDTH`. When the
    cells are too small for letters (a small ``ax``), only the colours are
    drawn. For longer texts, or to hover over values, use
    :func:`seqkit.activation_html.activation_html`.

    Args:
        tokens: the text read, one string per step: characters (``"hello"``
            works as is) or words; at most :data:`MAX_PLOTTED_TOKENS`.
        values: one activation per token (e.g. ``h`` or ``tanh(c)`` of one unit).
        ax: the matplotlib Axes to draw into (one). Defaults to None: a new figure.
        path: a PNG file to write (replaced atomically; parent folders are
            created). Defaults to None: nothing is written.
        columns: where lines wrap, in characters. Defaults to 80.
        limit: the magnitude drawn at full colour. Defaults to 1.0.
        title: a title over the text. Defaults to none.

    Returns:
        The matplotlib ``Figure`` drawn into (the one holding ``ax``, if given).

    Raises:
        MissingDependencyError: matplotlib is not installed.
        ConfigurationError: ``path`` does not end in ``.png``, ``ax`` is not one
            Axes, ``columns`` is not an int >= 1 or ``limit`` not a number > 0.
        DataError: more than :data:`MAX_PLOTTED_TOKENS` tokens (or
            :data:`MAX_PLOTTED_CELLS` cells), a token is not a string, or
            ``values`` is not 1-D finite numbers with one per token.

    >>> text = "if (x) {\\n\\treturn;\\n}"
    >>> figure = plot_activation_text(text, [0.1] * len(text), title="unit 3")
    >>> figure.axes[0].get_title(loc="left"), len(figure.axes[0].images)
    ('unit 3', 1)
    """
    target = _check_png_path(path)
    axes_given = _target_axes(ax, 1, "plot_activation_text")
    columns = check_int("plot_activation_text", "columns", columns)
    limit = _check_limit(limit)
    listed, row_values = _activation_row(tokens, values)
    cells = _text_cells(listed, columns)
    rows = max((cell[0] for cell in cells), default=0) + 1
    width = max([columns if rows > 1 else 0, *(cell[1] + 1 for cell in cells), 1])
    grid = np.full((rows, width), np.nan)
    for row, column, _, index in cells:
        grid[row, column] = row_values[index]
    colormap = _activation_colormap()
    if axes_given is None:
        height = _CELL_HEIGHT * rows + (0.8 if title else 0.5)
        figure = _new_figure(max(2.0, _CELL_WIDTH * width + 1.0), max(1.0, height))
        axes = figure.subplots()
        aspect: float | str = _CELL_HEIGHT / _CELL_WIDTH  # cells keep their shape in a figure wider than the text
        cell_width, cell_height = _CELL_WIDTH, _CELL_HEIGHT
    else:
        axes = axes_given[0]
        figure = _root_figure(axes)
        box = axes.get_position()
        figure_width, figure_height = figure.get_size_inches()
        cell_width, cell_height = box.width * figure_width / width, box.height * figure_height / rows
        aspect = "auto"
    image = axes.imshow(
        np.ma.masked_invalid(grid), cmap=colormap, vmin=-limit, vmax=limit, interpolation="nearest",
        aspect=aspect, extent=(0, width, rows, 0),
    )
    fontsize = min(9.5, 72 * cell_width / 0.85, 72 * cell_height * 0.65)
    if fontsize >= 3.0:  # letters readable: draw them on their cells
        for row, column, character, index in cells:
            if character == " " or not character.isprintable():
                continue
            dark = abs(row_values[index]) >= _DARK * limit
            color = "white" if dark else ("0.45" if character == _NEWLINE_MARK else "black")
            axes.text(
                column + 0.5, row + 0.5, character, ha="center", va="center", family="monospace",
                fontsize=fontsize, color=color, parse_math=False,
            )
    axes.set_xlim(0, width)
    axes.set_ylim(rows, 0)
    axes.set_axis_off()
    if title:
        axes.set_title(title, loc="left", fontsize="medium", parse_math=False)
    figure.colorbar(
        image, ax=axes, location="right", fraction=0.03, pad=0.01,
        shrink=min(1.0, 2.5 / max(cell_height * rows, 1e-9)), label="activation",
    )
    return _save_png(figure, target)


def _fractions(name: str, values: Any) -> np.ndarray:
    """``values`` as a float array ``(layers, gates, units)`` of fractions in [0, 1]."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"{name} must be numbers of shape (layers, gates, units); got {type(values).__name__} that is not "
            "a numeric array."
        ) from None
    if array.ndim != 3 or 0 in array.shape:
        raise DataError(
            f"{name} must have shape (layers, gates, units), each at least 1; got an array of shape {array.shape}."
        )
    outside = ~((array >= 0.0) & (array <= 1.0))  # NaN is outside too
    if outside.any():
        first = tuple(int(index) for index in np.argwhere(outside)[0])
        raise DataError(
            f"{name} holds fractions of time steps, each in [0, 1]; got {int(outside.sum())} value(s) outside, "
            f"the first {float(array[first])!r} at index {first}. Divide counts by the number of steps."
        )
    return array


def _names(what: str, names: Sequence[str], count: int) -> list[str]:
    if isinstance(names, str) or not all(isinstance(name, str) for name in names) or len(names) != count:
        raise ConfigurationError(
            f"{what} must be a list of {count} name(s), one per {what[:-1]} of left and right; got {names!r}."
        )
    return list(names)


def plot_gate_saturation(
    left: np.ndarray,
    right: np.ndarray,
    *,
    gates: Sequence[str] = ("input", "forget", "output"),
    layers: Sequence[str] | None = None,
    ax: Axes | Sequence[Axes] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Draw how often each gate of each unit is saturated: one panel per gate.

    The gate scatter of Karpathy, Johnson & Fei-Fei (2015): each point is one
    unit, at x = the fraction of time steps its gate was left-saturated (below
    0.1: closed) and y = the fraction right-saturated (above 0.9: open), one
    colour per layer. Points on the faint diagonal x + y = 1 are always
    saturated; a forget gate high on the y axis is an integrator that
    remembers, one far right a unit that forgets at once.

    Args:
        left: fractions in [0, 1] of shape ``(layers, gates, units)``: how
            often each gate was below 0.1.
        right: the same shape: how often each gate was above 0.9.
        gates: a name per gate, in the order of axis 1; panel ``i`` is titled
            ``"<name> gate"``. Defaults to ``("input", "forget", "output")``.
        layers: a legend name per layer. Defaults to None: ``"layer 1"``,
            ``"layer 2"``...
        ax: the matplotlib Axes to draw into, one per gate. Defaults to None:
            a new figure.
        path: a PNG file to write (replaced atomically; parent folders are
            created). Defaults to None: nothing is written.

    Returns:
        The matplotlib ``Figure`` drawn into (the one holding ``ax``, if given).

    Raises:
        MissingDependencyError: matplotlib is not installed.
        ConfigurationError: ``path`` does not end in ``.png``, ``ax`` does not
            hold one Axes per gate, or ``gates`` / ``layers`` do not name each
            gate / layer of the arrays.
        DataError: ``left`` or ``right`` is not a 3-D numeric array, their shapes
            differ, or a value is outside [0, 1].

    >>> left = np.array([[[0.1, 0.5], [0.0, 0.2], [0.3, 0.3]]])
    >>> figure = plot_gate_saturation(left, 1.0 - left)
    >>> [axes.get_title() for axes in figure.axes]
    ['input gate', 'forget gate', 'output gate']
    """
    target = _check_png_path(path)
    gate_count = len(gates) if not isinstance(gates, str) else 1
    axes_given = _target_axes(ax, gate_count, "plot_gate_saturation")
    left_array, right_array = _fractions("left", left), _fractions("right", right)
    if left_array.shape != right_array.shape:
        raise DataError(
            f"left and right must have the same shape (layers, gates, units); got {left_array.shape} and "
            f"{right_array.shape}."
        )
    layer_count, gate_axis, _ = left_array.shape
    gate_names = _names("gates", gates, gate_axis)
    layer_names = _names("layers", layers, layer_count) if layers is not None else [
        f"layer {number}" for number in range(1, layer_count + 1)
    ]
    if axes_given is None:
        figure = _new_figure(3.8 * gate_axis + 0.4, 4.2)
        panels = list(np.ravel(figure.subplots(1, gate_axis, squeeze=False)))
    else:
        figure, panels = _root_figure(axes_given[0]), axes_given
    for gate, (axes, gate_name) in enumerate(zip(panels, gate_names, strict=True)):
        axes.plot([0.0, 1.0], [1.0, 0.0], color="0.75", linewidth=0.8, linestyle="--", zorder=0)
        for layer, layer_name in enumerate(layer_names):
            axes.scatter(
                left_array[layer, gate], right_array[layer, gate], s=14, alpha=0.7, color=f"C{layer}",
                label=layer_name, clip_on=False, linewidths=0,
            )
        axes.set_xlim(0.0, 1.0)
        axes.set_ylim(0.0, 1.0)
        axes.set_aspect("equal")
        axes.set_title(f"{gate_name} gate", parse_math=False)
        axes.set_xlabel("fraction left-saturated (< 0.1)")
        axes.set_ylabel("fraction right-saturated (> 0.9)")
        axes.grid(True, alpha=0.3)
    panels[-1].legend(loc="upper right", fontsize="small")
    return _save_png(figure, target)
