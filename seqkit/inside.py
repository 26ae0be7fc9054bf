"""Looking inside the cells: which LSTM units track quotes, brackets, line length.

Karpathy, Johnson and Fei-Fei (2015, "Visualizing and Understanding Recurrent Networks")
found single LSTM cells that switch on inside a quote, count the position in a line or
the depth of nested brackets, by reading activations against the text, and measured how
often each gate is saturated. :func:`cells` does this for any seqkit model whose layers
are LSTMs:

1. it reads the text once, as ``streams`` parallel streams (each its own state, carried
   from token to token, as a stream model trains), computing every layer's hidden state
   ``h``, cell state ``c`` and gates from the layers' own weights, in NumPy, a chunk of
   steps at a time: the states are never all held, only running sums (and the
   activations of the first :data:`RECORDED_TOKENS` held-out tokens, for the pictures);
   the tokens and the probes' labels are held whole (about 150 bytes per character with
   the builtin probes), so a text is at most :data:`MAX_TOKENS` tokens;
2. it labels every token with each probe (:mod:`seqkit.probes`: inside a string, a
   comment, bracket depth, line position, indentation, word start, a regular expression,
   any function of the tokens), the character probes reading the text itself, its
   whitespace and newlines included, each token taking the value at its last character;
3. it ranks the units for each probe: the Pearson correlation of every unit's ``h`` and
   ``c`` with the probe on the first part of the text, and **on the held-out rest**
   (the last ``held_out`` fraction), with the sign found on the first: a unit ranks by its
   held-out correlation, so one lucky unit on a short text is not taken for a tracker.
   A ridge-regression probe over all of a layer's units, fitted on the first part and
   scored on the held-out part, says how much of the probe the layer holds at all;
4. it counts, per gate and unit, the fraction of steps the gate is left-saturated (below
   0.1) or right-saturated (above 0.9): the paper's saturation plot.

The :class:`CellReport` it returns draws the paper's pictures: the text coloured by one
unit (:meth:`CellReport.plot`, :meth:`CellReport.html`) and the gate saturation scatter
(:meth:`CellReport.plot_saturation`).

The model reads the text continuously, as a stateful or stream model does: a stateless
model (trained on separate windows) is read the same way, through its cells, which is
not how it was trained; its ranking is still what its units compute.

>>> from seqkit.trainers import StreamTrainer
>>> text = 'x = "ab" + (c)\\n' * 40
>>> model, _ = StreamTrainer(window=16, batch_size=4, units=8, embedding_dim=4, epochs=1).fit(text)
>>> report = cells(model, text, probes=["string", "line_position"], streams=4)
>>> best = report.best("string")
>>> best.probe, best.state in ("h", "c"), -1 <= best.held_out <= 1
('string', True, True)
>>> report.saturation_left.shape  # (layers, gates, units)
(1, 3, 8)
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqkit.checks import check_int
from seqkit.errors import ConfigurationError, DataError
from seqkit.probes import BUILTIN_PROBES, Probe, resolve_probe, token_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from seqkit.sequence_model import SequenceModel

__all__ = ["CellReport", "UnitScore", "cells", "GATES", "RECORDED_TOKENS"]

GATES: tuple[str, ...] = ("input", "forget", "output")
"""The gates whose saturation is counted (the cell input, a tanh, is not a gate)."""

LEFT_SATURATED, RIGHT_SATURATED = 0.1, 0.9
"""A gate below 0.1 is left-saturated, above 0.9 right-saturated (the paper's thresholds)."""

RECORDED_TOKENS = 5_000
"""Held-out tokens whose activations the report keeps for its pictures (all units)."""

MIN_TOKENS = 100
"""The fewest tokens :func:`cells` reads: fewer give no meaningful correlation."""

MAX_TOKENS = 10_000_000
"""The most tokens :func:`cells` reads at once: the states are read a chunk at a time, but the
tokens and each probe's labels are held whole (about 150 bytes per character with the builtin
probes, 1.5 GB at this bound)."""

MAX_RECORDED_TOKENS = 100_000
"""The most held-out tokens whose activations a report keeps (``record=``)."""

CHUNK_STEPS = 64
"""Steps read per chunk: the input projection of a chunk is one matmul."""

RIDGE = 1e-3
"""The ridge penalty of the linear probe, relative to the mean variance of the units."""


@dataclass(frozen=True)
class UnitScore:
    """How well one unit's state tracks one probe.

    Attributes:
        probe: the probe's name.
        layer: the LSTM layer, from 1.
        unit: the unit in the layer, from 0.
        state: ``"h"`` (the hidden state) or ``"c"`` (the cell state).
        correlation: Pearson's r with the probe on the text before the held-out part.
        held_out: r on the held-out part, with the sign of ``correlation`` (so a unit whose
            correlation changes sign scores negative): the ranking key.
    """

    probe: str
    layer: int
    unit: int
    state: str
    correlation: float
    held_out: float

    @property
    def name(self) -> str:
        """``"layer 1 c[17]"``: where the unit is."""
        return f"layer {self.layer} {self.state}[{self.unit}]"


@dataclass
class CellReport:
    """What :func:`cells` found: units ranked per probe, the layers' linear probes, gate
    saturation, and the recorded activations of the first held-out tokens.

    Attributes:
        probes: the probes, by name, in the order asked for.
        rankings: per probe, every unit's :class:`UnitScore`, best first (probes that are
            constant on the text have none).
        linear_probes: per probe, per layer, the held-out correlation of a ridge probe over
            all the layer's ``h`` and ``c`` (NaN where the probe is constant).
        saturation_left: ``(layers, gates, units)``: fraction of steps each gate was below 0.1.
        saturation_right: the same above 0.9.
        tokens: the first held-out tokens, whose activations are recorded, as the text shows
            them (each with the whitespace between it and the token before).
        activations: ``(layers, 2, len(tokens), units)``: ``h`` and ``c`` of every unit there.
        labels: per probe, its values at the recorded tokens.
        fit_tokens: tokens read to rank (the text before the held-out part).
        held_out_tokens: tokens read to score the ranking.
        streams: the parallel streams the text was read as.
        stream_starts: where, in :attr:`tokens`, a stream starts (its state from zeros): the
            recorded text is the first streams' text, one after the other.
    """

    probes: dict[str, Probe]
    rankings: dict[str, list[UnitScore]]
    linear_probes: dict[str, list[float]]
    saturation_left: np.ndarray
    saturation_right: np.ndarray
    tokens: list[str]
    activations: np.ndarray
    labels: dict[str, np.ndarray]
    fit_tokens: int
    held_out_tokens: int
    streams: int
    stream_starts: list[int] = field(default_factory=lambda: [0])

    def best(self, probe: str, layer: int | None = None) -> UnitScore:
        """The unit that tracks ``probe`` best on held-out text (in ``layer``, if given)."""
        ranking = self._ranking(probe)
        if layer is not None:
            ranking = [score for score in ranking if score.layer == layer]
        if not ranking and layer is not None and self.rankings[probe]:
            raise DataError(
                f"No unit of layer {layer} tracks probe {probe!r}: the model has no such layer, or its units "
                "are constant on this text."
            )
        if not ranking:
            raise DataError(
                f"No unit tracks probe {probe!r}: it is constant on the text before the held-out part or on the "
                "held-out part. Give a text where it varies in both."
            )
        return ranking[0]

    @property
    def varying(self) -> list[str]:
        """The probes that some unit tracks (those not constant on the text), in order."""
        return [name for name, ranking in self.rankings.items() if ranking]

    def top(self, probe: str, count: int = 3) -> list[UnitScore]:
        """The ``count`` best units for ``probe``, best first."""
        return self._ranking(probe)[:count]

    def _ranking(self, probe: str) -> list[UnitScore]:
        if probe not in self.rankings:
            raise ConfigurationError(
                f"This report has no probe {probe!r}; it has {', '.join(map(repr, self.rankings))}. "
                "Ask cells() for it with probes=[...]."
            )
        return self.rankings[probe]

    def values(self, score: UnitScore) -> np.ndarray:
        """The unit's activation at each recorded token, in [-1, 1], turned so that red (+) is
        "more of the probe": ``h`` as it is, a cell state ``c`` centred on its median over the
        recorded tokens and divided by its largest distance from it (a cell that counts grows
        past 1, where ``tanh(c)`` would show one colour; the correlations use ``c`` itself),
        and negated where the unit correlates negatively with its probe."""
        values = self.activations[score.layer - 1, ("h", "c").index(score.state), :, score.unit].astype(np.float64)
        if score.state == "c" and len(values):
            values = values - np.median(values)
            largest = float(np.max(np.abs(values)))
            values = values / largest if largest > 0 else values
        return -values if score.correlation < 0 else values

    def _caption(self, score: UnitScore) -> str:
        flipped = ", negated" if score.correlation < 0 else ""
        return f"{score.name}{flipped}: {score.probe}, held-out r = {score.held_out:.2f}"

    def plot(
        self,
        unit: UnitScore | str,
        *,
        ax: Any = None,
        path: str | os.PathLike[str] | None = None,
        tokens: int = 1_000,
        columns: int = 80,
    ) -> Figure:
        """The paper's picture: the first ``tokens`` recorded held-out tokens, each coloured by
        the unit's activation (a probe's name: its best unit). Returns the matplotlib ``Figure``
        and takes ``ax=`` (:func:`seqkit.plot.plot_activation_text`)."""
        from seqkit.plot import plot_activation_text

        score = self.best(unit) if isinstance(unit, str) else unit
        count = check_int("CellReport.plot", "tokens", tokens)
        return plot_activation_text(
            self._surface(count), self.values(score)[:count], ax=ax, path=path, columns=columns,
            title=self._caption(score),
        )

    def plot_saturation(self, *, ax: Any = None, path: str | os.PathLike[str] | None = None) -> Figure:
        """The gate saturation scatter, one panel per gate, one colour per layer
        (:func:`seqkit.plot.plot_gate_saturation`)."""
        from seqkit.plot import plot_gate_saturation

        return plot_gate_saturation(self.saturation_left, self.saturation_right, gates=GATES, ax=ax, path=path)

    def html(self, units: Sequence[UnitScore | str] | None = None, *, tokens: int = RECORDED_TOKENS) -> str:
        """A standalone HTML page (no scripts) of the recorded held-out text, one block per unit,
        each token's background coloured by the unit's activation (blue negative, red positive).

        Args:
            units: the units to show, or probe names (their best units). Defaults to None: the
                best unit of every probe.
            tokens: how many recorded tokens to show.
        """
        from seqkit.activation_html import activation_html

        surface, values, settings = self._page(units, tokens)
        return activation_html(surface, values, **settings)

    def write_html(
        self, path: str | os.PathLike[str], units: Sequence[UnitScore | str] | None = None, *, tokens: int = RECORDED_TOKENS
    ) -> Path:
        """:meth:`html`, written to ``path`` (ending in ``.html``) atomically."""
        from seqkit.activation_html import write_activation_html

        surface, values, settings = self._page(units, tokens)
        return write_activation_html(path, surface, values, **settings)

    def _page(self, units: Sequence[UnitScore | str] | None, tokens: int) -> tuple[list[str], np.ndarray, dict[str, Any]]:
        scores = self._scores(units)
        count = check_int("CellReport.html", "tokens", tokens)
        surface = self._surface(count)
        values = np.stack([self.values(score)[: len(surface)] for score in scores])
        return surface, values, {
            "labels": [self._caption(score) for score in scores],
            "title": "seqkit: looking inside the cells",
            "caption": f"The first {len(surface):,} held-out tokens; each token's background is the unit's "
            "activation after reading it (h, or c centred and scaled; negated where it correlates negatively, so "
            "that red is more of the probe): blue -1, white 0, red +1.",
        }

    def _scores(self, units: Sequence[UnitScore | str] | None) -> list[UnitScore]:
        scores = (
            [self.best(name) for name in self.varying]
            if units is None else [self.best(unit) if isinstance(unit, str) else unit for unit in units]
        )
        if not scores:
            raise DataError(
                "No unit to show: every probe is constant on this text (or no unit was given). Give a text "
                "where a probe varies, or the units to show."
            )
        return scores

    def _surface(self, count: int) -> list[str]:
        """The first ``count`` recorded tokens, as the text shows them."""
        return self.tokens[:count]

    def _best_or_none(self, name: str, layer: int, shape: Callable[[UnitScore], Any]) -> Any:
        """The best unit of ``layer`` for probe ``name`` through ``shape``, or None where none is ranked."""
        best = _first(self.rankings[name], layer)
        return None if best is None else shape(best)

    def to_json(self, top: int = 5) -> dict[str, Any]:
        """The ranking (``top`` units per probe and the best of each layer), the linear probes
        and the saturation summary, as JSON-ready values."""

        def unit(score: UnitScore) -> dict[str, Any]:
            return {
                "layer": score.layer, "unit": score.unit, "state": score.state,
                "correlation": _finite(score.correlation), "held_out": _finite(score.held_out),
            }

        layers = self.saturation_left.shape[0]
        return {
            "fit_tokens": self.fit_tokens,
            "held_out_tokens": self.held_out_tokens,
            "streams": self.streams,
            "probes": {
                name: {
                    "description": probe.description,
                    "top": [unit(score) for score in self.top(name, top)],
                    "best_per_layer": [self._best_or_none(name, layer, unit) for layer in range(1, layers + 1)],
                    "linear_probe_held_out": [_finite(value) for value in self.linear_probes[name]],
                }
                for name, probe in self.probes.items()
            },
            "saturation": {
                gate: {
                    "left": [float(self.saturation_left[layer, index].mean()) for layer in range(layers)],
                    "right": [float(self.saturation_right[layer, index].mean()) for layer in range(layers)],
                }
                for index, gate in enumerate(GATES)
            },
        }


def _first(scores: list[UnitScore], layer: int) -> UnitScore | None:
    return next((score for score in scores if score.layer == layer), None)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# Reading the network ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cell:
    """One LSTM layer's weights, as NumPy, in Keras's gate order (input, forget, cell, output)."""

    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray

    @property
    def units(self) -> int:
        return self.recurrent_kernel.shape[0]


def _network_parts(model: SequenceModel) -> tuple[Callable[[np.ndarray], np.ndarray], list[_Cell]]:
    """The function from token ids to the first LSTM's inputs, and every LSTM's weights.

    Raises:
        ConfigurationError: a model without LSTM layers (a GRU's), with other activations or
            layers between its LSTMs, or one that reads a window as features.
    """
    import keras

    from seqkit.layouts import TimeSteps

    network = model.network
    layers = [layer for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
    recurrent = [layer for layer in layers if isinstance(layer, keras.layers.RNN)]
    if not recurrent or not all(isinstance(layer, keras.layers.LSTM) for layer in recurrent):
        kinds = sorted({type(layer).__name__ for layer in recurrent}) or ["none"]
        raise ConfigurationError(
            f"cells reads LSTM cells (their h, c and gates); this model's recurrent layers are "
            f"{', '.join(kinds)}. Train it with cell='lstm'."
        )
    if not isinstance(model.layout, TimeSteps):
        raise ConfigurationError(
            f"cells reads a text one token per step; this model's layout ({model.layout!r}) reads each window "
            "as one step of features. Use a model trained with a timesteps layout (the default)."
        )
    first, last = layers.index(recurrent[0]), layers.index(recurrent[-1])
    for layer in layers[first:last]:
        if not isinstance(layer, (keras.layers.LSTM, keras.layers.Dropout)):
            raise ConfigurationError(
                f"cells reads LSTMs stacked directly (dropout between them is fine); this model has a "
                f"{type(layer).__name__} layer between them. Use a model seqkit built."
            )
    cells = []
    for layer in recurrent:
        cell = layer.cell
        if (
            cell.activation is not keras.activations.tanh
            or cell.recurrent_activation is not keras.activations.sigmoid
            or not cell.use_bias
        ):
            raise ConfigurationError(
                f"cells reads LSTMs with Keras's default activations (tanh and sigmoid) and a bias; "
                f"layer {layer.name!r} differs. Use a model seqkit built."
            )
        cells.append(_Cell(*(np.asarray(keras.ops.convert_to_numpy(weight), np.float32) for weight in
                             (cell.kernel, cell.recurrent_kernel, cell.bias))))
    before = layers[:first]
    size = model.vocabulary.size

    def encode(ids: np.ndarray) -> np.ndarray:
        hidden = model.layout.transform(ids.reshape(-1, 1), size)
        for layer in before:
            hidden = layer(hidden, training=False)
        return np.asarray(keras.ops.convert_to_numpy(hidden), np.float32).reshape(len(ids), -1)

    return encode, cells


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * values) + 1.0)  # overflow-free


def _read_chunk(
    cell: _Cell, inputs: np.ndarray, h: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One layer over ``inputs`` ``(T, B, D)`` from the state ``(h, c)``: the ``h``, ``c`` and
    input, forget and output gates of every step ``(T, B, H)`` each (``gates``: ``(T, B, 3, H)``),
    and the final state."""
    steps, rows = inputs.shape[:2]
    units = cell.units
    projected = (inputs.reshape(steps * rows, -1) @ cell.kernel + cell.bias).reshape(steps, rows, 4 * units)
    hidden = np.empty((steps, rows, units), np.float32)
    cells = np.empty((steps, rows, units), np.float32)
    gates = np.empty((steps, rows, 3, units), np.float32)
    for t in range(steps):
        z = projected[t] + h @ cell.recurrent_kernel
        i, f = _sigmoid(z[:, :units]), _sigmoid(z[:, units : 2 * units])
        g, o = np.tanh(z[:, 2 * units : 3 * units]), _sigmoid(z[:, 3 * units :])
        c = f * c + i * g
        h = o * np.tanh(c)
        hidden[t], cells[t] = h, c
        gates[t, :, 0], gates[t, :, 1], gates[t, :, 2] = i, f, o
    return hidden, cells, gates, h, c


# Running sums ----------------------------------------------------------------------------------------
class _Moments:
    """Running sums for the correlation of every column of ``x`` with every column of ``y``, and
    for a ridge regression of ``y`` on all of ``x`` (``x``'s columns: one layer's ``h`` then ``c``)."""

    def __init__(self, columns: int, probes: int) -> None:
        self.count = 0
        self.x = np.zeros(columns)
        self.xx = np.zeros(columns)
        self.y = np.zeros(probes)
        self.yy = np.zeros(probes)
        self.xy = np.zeros((columns, probes))
        self.gram = np.zeros((columns, columns))

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        x, y = x.astype(np.float64), y.astype(np.float64)
        self.count += len(x)
        self.x += x.sum(0)
        self.xx += (x * x).sum(0)
        self.y += y.sum(0)
        self.yy += (y * y).sum(0)
        self.xy += x.T @ y
        self.gram += x.T @ x

    def correlations(self) -> np.ndarray:
        """``(columns, probes)``: Pearson's r (NaN where a column or a probe is constant)."""
        n = self.count
        covariance = self.xy - np.outer(self.x, self.y) / n
        spread_x = np.sqrt(np.maximum(self.xx - self.x**2 / n, 0.0))
        spread_y = np.sqrt(np.maximum(self.yy - self.y**2 / n, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = covariance / np.outer(spread_x, spread_y)
        r[~np.isfinite(r)] = np.nan
        return np.clip(r, -1.0, 1.0)

    def ridge(self) -> tuple[np.ndarray, np.ndarray]:
        """The ridge probe fitted on these sums: weights ``(columns, probes)`` and intercepts ``(probes,)``."""
        n = self.count
        mean_x, mean_y = self.x / n, self.y / n
        covariance_xx = self.gram / n - np.outer(mean_x, mean_x)
        covariance_xy = self.xy / n - np.outer(mean_x, mean_y)
        penalty = RIDGE * max(float(np.trace(covariance_xx)) / len(mean_x), 1e-12)
        weights = np.linalg.solve(covariance_xx + penalty * np.eye(len(mean_x)), covariance_xy)
        return weights, mean_y - mean_x @ weights

    def prediction_correlation(self, weights: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
        """Per probe, r between ``x @ weights + intercepts`` and ``y`` over these sums (NaN where constant)."""
        n = self.count
        predicted = self.x @ weights + n * intercepts
        predicted_sq = (
            np.einsum("ip,ij,jp->p", weights, self.gram, weights) + 2 * intercepts * (self.x @ weights) + n * intercepts**2
        )
        cross = np.einsum("ip,ip->p", weights, self.xy) + intercepts * self.y
        covariance = cross - predicted * self.y / n
        spread = np.sqrt(np.maximum(predicted_sq - predicted**2 / n, 0.0) * np.maximum(self.yy - self.y**2 / n, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = covariance / spread
        r[~np.isfinite(r)] = np.nan
        return np.clip(r, -1.0, 1.0)


@dataclass
class _Pass:
    """What one read of a part of the text leaves: each layer's running sums, the saturation
    counts, and (if asked) the first tokens' activations."""

    moments: list[_Moments]
    left: np.ndarray
    right: np.ndarray
    steps: int = 0
    recorded: list[np.ndarray] = field(default_factory=list)


def _read_part(
    encode: Callable[[np.ndarray], np.ndarray],
    layers: list[_Cell],
    ids: np.ndarray,
    labels: np.ndarray,
    streams: int,
    record: int,
) -> _Pass:
    """Read ``ids`` as ``streams`` parallel streams, adding every step to the running sums."""
    units = [cell.units for cell in layers]
    part = _Pass(
        moments=[_Moments(2 * size, labels.shape[1]) for size in units],
        left=np.zeros((len(layers), 3, max(units))),
        right=np.zeros((len(layers), 3, max(units))),
    )
    length = len(ids) // streams
    recording = min(streams, -(-record // length)) if record else 0  # the first streams, whole, hold the record
    states = [(np.zeros((streams, size), np.float32), np.zeros((streams, size), np.float32)) for size in units]
    offsets = np.arange(streams) * length
    for start in range(0, length, CHUNK_STEPS):
        positions = offsets[None, :] + np.arange(start, min(start + CHUNK_STEPS, length))[:, None]  # (T, B)
        steps = positions.shape[0]
        hidden = encode(ids[positions.reshape(-1)]).reshape(steps, streams, -1)
        chunk_labels = labels[positions.reshape(-1)]
        layer_states = []
        for number, cell in enumerate(layers):
            hidden, cell_states, gates, h, c = _read_chunk(cell, hidden, *states[number])
            states[number] = (h, c)
            both = np.concatenate([hidden, cell_states], axis=-1).reshape(steps * streams, -1)
            part.moments[number].add(both, chunk_labels)
            size = cell.units
            part.left[number, :, :size] += (gates < LEFT_SATURATED).sum(axis=(0, 1))
            part.right[number, :, :size] += (gates > RIGHT_SATURATED).sum(axis=(0, 1))
            layer_states.append(np.stack([hidden[:, :recording], cell_states[:, :recording]]))  # (2, T, S, H)
        part.steps += steps * streams
        if recording:
            part.recorded.append(layer_states)
    return part


def _recorded(part: _Pass, record: int, units: int) -> np.ndarray:
    """``(layers, 2, record, units)``: the recorded streams' activations, stream after stream (so
    in the order of the text), zero-padded to the widest layer."""
    layers = len(part.moments)
    if not part.recorded:
        return np.zeros((layers, 2, 0, units), np.float32)
    streams = part.recorded[0][0].shape[2]
    steps = sum(block[0].shape[1] for block in part.recorded)
    values = np.zeros((layers, 2, streams * steps, units), np.float32)
    for number in range(layers):
        joined = np.concatenate([block[number] for block in part.recorded], axis=1)  # (2, steps, S, H)
        ordered = joined.transpose(0, 2, 1, 3).reshape(2, streams * steps, -1)  # stream 0's steps, then stream 1's
        values[number, :, :, : ordered.shape[-1]] = ordered
    return values[:, :, :record]


# The public function ------------------------------------------------------------------------------------
def cells(
    model: SequenceModel,
    text: str | Sequence[str],
    probes: Sequence[str | Probe | Callable[..., Any]] | None = None,
    *,
    syntax: str = "python",
    held_out: float = 0.2,
    streams: int | None = None,
    record: int = RECORDED_TOKENS,
) -> CellReport:
    """Find the units of ``model`` that track each probe on ``text``, and measure its gates.

    Args:
        model: a :class:`~seqkit.sequence_model.SequenceModel` with LSTM layers and a
            timesteps layout (every stream, stateful and embedding model seqkit trains).
        text: the text (split as the model splits text), or its tokens.
        probes: builtin probe names (:data:`seqkit.probes.BUILTIN_PROBES`), regular
            expressions, :class:`~seqkit.probes.Probe` objects or functions of the token list
            (:func:`seqkit.probes.resolve_probe`). Defaults to None: every builtin probe.
        syntax: ``"python"`` or ``"c"``: how the string and comment probes read the text.
        held_out: the fraction at the end of the text the ranking is scored on. Defaults to 0.2.
        streams: parallel streams the text is read as. Defaults to None: one per 500 tokens
            of the held-out part, at most 32.
        record: held-out tokens whose activations the report keeps for its pictures.

    Returns:
        A :class:`CellReport`.

    Raises:
        ConfigurationError: a model :func:`cells` cannot read, an unknown probe, a bad setting.
        DataError: a text of fewer than :data:`MIN_TOKENS` tokens or more than
            :data:`MAX_TOKENS`, or not a text.
        VocabularyError: a token the model's vocabulary lacks.
    """
    owner = "cells"
    if not isinstance(held_out, (int, float)) or isinstance(held_out, bool) or not 0.05 <= held_out <= 0.5:
        raise ConfigurationError(f"held_out must be a fraction between 0.05 and 0.5; got {held_out!r}.")
    record = check_int(owner, "record", record, minimum=0, maximum=MAX_RECORDED_TOKENS)
    resolved = _probes(probes, syntax)
    encode, layers = _network_parts(model)
    full_text, tokens, ends = _text_and_tokens(model, text)
    if len(tokens) < MIN_TOKENS:
        raise DataError(
            f"cells needs a text of at least {MIN_TOKENS} tokens to correlate units with probes; got "
            f"{len(tokens)}. Give a longer text."
        )
    if len(tokens) > MAX_TOKENS:
        raise DataError(
            f"cells reads at most {MAX_TOKENS:,} tokens (its tokens and probe labels are held in memory); got "
            f"{len(tokens):,}. Give a slice of the text."
        )
    ids = np.asarray(model.vocabulary.encode(tokens), dtype=np.int64)
    labels = np.stack([_labels(probe, full_text, tokens, ends) for probe in resolved.values()], axis=1)
    surface = [full_text[start:end] for start, end in zip([0, *ends[:-1]], ends)]

    split = int(len(tokens) * (1 - held_out))
    if streams is None:
        streams = max(1, min(32, (len(tokens) - split) // 500))
    streams = check_int(owner, "streams", streams)
    if (len(tokens) - split) // streams < 2:
        raise ConfigurationError(
            f"streams={streams} leaves fewer than 2 held-out tokens per stream ({len(tokens) - split} held out). "
            "Give fewer streams or a longer text."
        )
    fit = _read_part(encode, layers, ids[:split], labels[:split], streams, record=0)
    held = _read_part(encode, layers, ids[split:], labels[split:], streams, record=record)
    activations = _recorded(held, record, max(cell.units for cell in layers))
    recorded = activations.shape[2]
    return CellReport(
        probes=resolved,
        rankings=_rankings(list(resolved), fit, held, layers),
        linear_probes=_linear_probes(list(resolved), fit, held),
        saturation_left=(fit.left + held.left) / (fit.steps + held.steps),
        saturation_right=(fit.right + held.right) / (fit.steps + held.steps),
        tokens=surface[split : split + recorded],
        activations=activations,
        labels={name: labels[split : split + recorded, index] for index, name in enumerate(resolved)},
        fit_tokens=fit.steps,
        held_out_tokens=held.steps,
        streams=streams,
        stream_starts=list(range(0, recorded, (len(tokens) - split) // streams)),
    )


def _probes(probes: Any, syntax: str) -> dict[str, Probe]:
    """The probes asked for, by name: builtin names, regular expressions, :class:`Probe` objects or
    functions (one of them alone counts as a list of one); two with one name are refused."""
    if probes is None:
        probes = BUILTIN_PROBES
    elif isinstance(probes, (str, Probe, re.Pattern)) or callable(probes):
        probes = [probes]
    resolved: dict[str, Probe] = {}
    for spec in probes:
        probe = resolve_probe(spec, syntax=syntax)
        if probe.name in resolved:
            raise ConfigurationError(
                f"Two probes are named {probe.name!r}; each needs its own name. Give a function another "
                "__name__, or make it a probe with callable_probe(function, name=...)."
            )
        resolved[probe.name] = probe
    if not resolved:
        raise ConfigurationError("cells needs at least one probe; got none. Leave probes=None for the builtin ones.")
    return resolved


def _text_and_tokens(model: SequenceModel, text: Any) -> tuple[str, list[str], list[int]]:
    """The text, its tokens as the model splits it, and where each token ends in the text
    (exclusive): the character probes label the text itself, whitespace and newlines included,
    and each token takes the label of its last character."""
    from seqkit.subword import SubwordVocabulary

    if isinstance(text, str):
        if isinstance(model.vocabulary, SubwordVocabulary):
            tokens = model.vocabulary.split(text)
            return text, tokens, [end for _, end in model.vocabulary.offsets(text)]
        if model.level == "word":
            spans = [match.span() for match in re.finditer(r"\S+", text)]
            return text, [text[start:end] for start, end in spans], [end for _, end in spans]
        return text, list(text), list(range(1, len(text) + 1))
    if isinstance(text, Sequence) and all(isinstance(token, str) for token in text):
        tokens = list(text)
        separator = " " if model.level == "word" else ""
        ends, at = [], 0
        for number, token in enumerate(tokens):
            at += len(token) + (len(separator) if number else 0)
            ends.append(at)
        return separator.join(tokens), tokens, ends
    raise DataError(f"cells reads a text (a str) or its tokens (a list of str); got {type(text).__name__}.")


def _labels(probe: Probe, text: str, tokens: list[str], ends: list[int]) -> np.ndarray:
    """One value of ``probe`` per token: a character probe's value at the token's last character
    (0 for a token of no characters at the start), a function of the tokens as it gives them."""
    if probe.per_token:
        return token_labels(probe, tokens)
    values = probe.labels(text)
    positions = np.asarray(ends, dtype=np.int64) - 1
    return np.where(positions >= 0, values[np.maximum(positions, 0)], 0.0)


def _rankings(names: list[str], fit: _Pass, held: _Pass, layers: list[_Cell]) -> dict[str, list[UnitScore]]:
    """Per probe, every unit's :class:`UnitScore`, by held-out correlation (signed by the fit's), best first."""
    rankings: dict[str, list[UnitScore]] = {name: [] for name in names}
    for number, cell in enumerate(layers):
        fitted, scored = fit.moments[number].correlations(), held.moments[number].correlations()
        for column in range(2 * cell.units):
            state, unit = ("h", column) if column < cell.units else ("c", column - cell.units)
            for index, name in enumerate(names):
                r, r_held = fitted[column, index], scored[column, index]
                if math.isnan(r) or math.isnan(r_held):
                    continue
                rankings[name].append(UnitScore(name, number + 1, unit, state, float(r), float(math.copysign(1, r) * r_held)))
    for name in names:
        rankings[name].sort(key=lambda score: (-score.held_out, -abs(score.correlation)))
    return rankings


def _linear_probes(names: list[str], fit: _Pass, held: _Pass) -> dict[str, list[float]]:
    """Per probe, per layer: the held-out r of a ridge probe fitted on the fit part."""
    probes: dict[str, list[float]] = {name: [] for name in names}
    for fitted, scored in zip(fit.moments, held.moments):
        weights, intercepts = fitted.ridge()
        correlations = scored.prediction_correlation(weights, intercepts)
        for index, name in enumerate(names):
            probes[name].append(float(correlations[index]))
    return probes
