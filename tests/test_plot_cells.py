"""seqkit.plot's "looking inside the cells" pictures: an activation-coloured text, and gate saturation.

Both return a matplotlib Figure, draw into the axes given, write a PNG only
when asked (atomically), and refuse inputs that do not fit with a one-line
error saying how to fix them.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from seqkit.errors import ConfigurationError, DataError  # noqa: E402
from seqkit.plot import (  # noqa: E402
    MAX_PLOTTED_TOKENS,
    plot_activation_text,
    plot_gate_saturation,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _figure(*shape):
    from matplotlib.figure import Figure

    figure = Figure()
    return figure, figure.subplots(*shape) if shape else figure.subplots()


def _drawn_letters(axes) -> list[str]:
    return [text.get_text() for text in axes.texts]


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


# plot_activation_text -----------------------------------------------------------------------
def test_activation_text_returns_a_figure_and_writes_nothing(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    figure = plot_activation_text("ab c", [0.5, -0.5, 0.0, 1.0], title="unit 1")
    assert isinstance(figure, Figure)
    axes = figure.axes[0]
    assert axes.get_title(loc="left") == "unit 1"
    assert _drawn_letters(axes) == ["a", "b", "c"]  # the space's cell is coloured but blank
    assert not any(tmp_path.iterdir())
    assert figure._repr_png_()[:8] == PNG


def test_activation_text_colours_each_cell_blue_white_red_clipped():
    figure = plot_activation_text("abcd", [-1.0, 0.0, 1.0, 3.0])
    (image,) = figure.axes[0].images
    colours = image.to_rgba(image.get_array())[0, :, :3]
    np.testing.assert_allclose(colours, [[0, 0, 1], [1, 1, 1], [1, 0, 0], [1, 0, 0]], atol=0.01)


def test_activation_text_lays_out_a_grid_wrapping_at_columns_and_newlines():
    text = "abcdef\nxy"
    figure = plot_activation_text(text, np.linspace(-1, 1, len(text)), columns=4)
    (image,) = figure.axes[0].images
    grid = image.get_array()
    assert grid.shape == (3, 4)  # "abcd" / "ef↵" / "xy"
    assert list(np.ma.getmaskarray(grid)[1]) == [False, False, False, True]
    assert _drawn_letters(figure.axes[0]) == list("abcdef") + ["↵"] + list("xy")


def test_word_tokens_fill_a_cell_per_character_and_are_not_split():
    tokens = ["one", " two", " three"]
    figure = plot_activation_text(tokens, [0.9, 0.0, -0.9], columns=8)
    (image,) = figure.axes[0].images
    grid = image.get_array()
    assert grid.shape == (2, 8)  # " three" does not fit after "one two": it starts the next line
    np.testing.assert_allclose(grid[0, :7], [0.9] * 3 + [0.0] * 4)
    np.testing.assert_allclose(grid[1, :6], [-0.9] * 6)


def test_tabs_fill_up_to_the_next_tab_stop():
    figure = plot_activation_text("\tx", [0.5, -0.5])
    grid = figure.axes[0].images[0].get_array()
    np.testing.assert_allclose(grid[0], [0.5] * 8 + [-0.5])


def test_activation_text_draws_into_the_axes_given(tmp_path):
    mine, axes = _figure()
    target = tmp_path / "text.png"
    assert plot_activation_text("hi", [0.2, -0.2], ax=axes, path=target) is mine
    assert len(axes.images) == 1
    assert target.read_bytes()[:8] == PNG
    assert [path.name for path in tmp_path.iterdir()] == ["text.png"]  # no temporary file left


def test_activation_text_takes_one_axes():
    _, pair = _figure(1, 2)
    with pytest.raises(ConfigurationError) as raised:
        plot_activation_text("hi", [0.2, -0.2], ax=pair)
    assert _one_line(raised) == (
        f"plot_activation_text draws 1 panel(s): give ax= as 1 matplotlib Axes (one per panel); got {pair!r}."
    )


def test_activation_text_writes_a_png(tmp_path):
    target = tmp_path / "nested" / "unit.png"
    plot_activation_text("int main() {\n\treturn 0;\n}\n", np.linspace(-1, 1, 26), path=target)
    assert target.read_bytes()[:8] == PNG


@pytest.mark.parametrize(
    ("tokens", "values", "kwargs", "error", "message"),
    [
        ("abc", [0.1, 0.2], {}, DataError,
         "plot_activation_text needs one value per token; got 3 tokens and 2 values. "
         "Pass values with one entry per token."),
        ("ab", np.zeros((2, 2)), {}, DataError,
         "plot_activation_text draws one unit: values must be 1-D, one per token; got an array of shape (2, 2). "
         "Pass one row, e.g. values[unit]."),
        ("ab", [0.0, np.nan], {}, DataError,
         "values must be finite; got 1 NaN or infinite value(s), the first at token 1. Replace them "
         "(e.g. numpy.nan_to_num) or pass a slice without them."),
        (["a", None], [0.0, 0.0], {}, DataError, "Tokens must be strings; got a NoneType at position 1: None."),
        ("ab", [0.0, 0.0], {"limit": 0.0}, ConfigurationError,
         "limit must be a finite number > 0 (the magnitude drawn at full colour, 1.0 for h or tanh(c)); got 0.0."),
        ("ab", [0.0, 0.0], {"columns": 0}, ConfigurationError,
         "The 'columns' parameter of plot_activation_text must be an int >= 1. Got 0 instead."),
        ("ab", [0.0, 0.0], {"path": "unit.svg"}, ConfigurationError,
         "Figures are written as PNG: give a path ending in .png; got 'unit.svg'."),
    ],
    ids=["counts", "2d", "non-finite", "not strings", "limit", "columns", "not png"],
)
def test_activation_text_refuses_what_does_not_fit(tokens, values, kwargs, error, message):
    with pytest.raises(error) as raised:
        plot_activation_text(tokens, values, **kwargs)
    assert _one_line(raised) == message


def test_activation_text_refuses_too_many_tokens():
    tokens = ["a"] * (MAX_PLOTTED_TOKENS + 1)
    with pytest.raises(DataError) as raised:
        plot_activation_text(tokens, np.zeros(len(tokens)))
    assert _one_line(raised) == (
        "plot_activation_text draws at most 5000 tokens; got 5001. Pass a slice of the tokens and the matching "
        "values, e.g. tokens[:5000] (or write a longer text with seqkit.activation_html)."
    )


def test_activation_text_refuses_too_many_cells():
    with pytest.raises(DataError) as raised:
        plot_activation_text(["x" * 30_000, "y" * 30_000], [0.0, 0.0])
    assert _one_line(raised) == (
        "plot_activation_text draws at most 40000 character cells; the first 2 tokens already fill more. "
        "Pass a shorter slice of the tokens and the matching values."
    )


# plot_gate_saturation --------------------------------------------------------------------------
def _fractions(layers=2, gates=3, units=5, seed=0):
    rng = np.random.default_rng(seed)
    left = rng.uniform(0.0, 0.5, size=(layers, gates, units))
    return left, rng.uniform(0.0, 0.5, size=(layers, gates, units))


def test_gate_saturation_draws_a_panel_per_gate_and_a_colour_per_layer(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    left, right = _fractions()
    figure = plot_gate_saturation(left, right)
    assert isinstance(figure, Figure)
    assert [axes.get_title() for axes in figure.axes] == ["input gate", "forget gate", "output gate"]
    for gate, axes in enumerate(figure.axes):
        assert axes.get_xlim() == (0.0, 1.0) and axes.get_ylim() == (0.0, 1.0)
        assert len(axes.collections) == 2  # one scatter per layer
        np.testing.assert_allclose(axes.collections[1].get_offsets(), np.column_stack([left[1, gate], right[1, gate]]))
        assert len(axes.lines) == 1  # the diagonal x + y = 1
        np.testing.assert_allclose(axes.lines[0].get_xydata(), [[0, 1], [1, 0]])
    legend = figure.axes[-1].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["layer 1", "layer 2"]
    assert not any(tmp_path.iterdir())


def test_gate_saturation_names_gates_and_layers():
    left, right = _fractions(layers=1, gates=2)
    figure = plot_gate_saturation(left, right, gates=["forget", "output"], layers=["char LSTM"])
    assert [axes.get_title() for axes in figure.axes] == ["forget gate", "output gate"]
    assert [text.get_text() for text in figure.axes[-1].get_legend().get_texts()] == ["char LSTM"]


def test_gate_saturation_draws_into_the_axes_given_and_writes_a_png(tmp_path):
    mine, panels = _figure(1, 3)
    target = tmp_path / "gates.png"
    assert plot_gate_saturation(*_fractions(), ax=panels, path=target) is mine
    assert all(len(axes.collections) == 2 for axes in panels)
    assert target.read_bytes()[:8] == PNG
    assert [path.name for path in tmp_path.iterdir()] == ["gates.png"]


def test_gate_saturation_wants_one_axes_per_gate():
    _, pair = _figure(1, 2)
    with pytest.raises(ConfigurationError) as raised:
        plot_gate_saturation(*_fractions(), ax=pair)
    assert _one_line(raised) == (
        f"plot_gate_saturation draws 3 panel(s): give ax= as 3 matplotlib Axes (one per panel); got {pair!r}."
    )


@pytest.mark.parametrize(
    ("left", "right", "kwargs", "error", "message"),
    [
        (np.zeros((2, 3)), np.zeros((2, 3)), {}, DataError,
         "left must have shape (layers, gates, units), each at least 1; got an array of shape (2, 3)."),
        (np.zeros((2, 3, 0)), np.zeros((2, 3, 0)), {}, DataError,
         "left must have shape (layers, gates, units), each at least 1; got an array of shape (2, 3, 0)."),
        (np.zeros((2, 3, 4)), np.zeros((2, 3, 5)), {}, DataError,
         "left and right must have the same shape (layers, gates, units); got (2, 3, 4) and (2, 3, 5)."),
        (np.zeros((2, 4, 5)), np.zeros((2, 4, 5)), {}, ConfigurationError,
         "gates must be a list of 4 name(s), one per gate of left and right; got ('input', 'forget', 'output')."),
        (np.zeros((2, 3, 5)), np.zeros((2, 3, 5)), {"layers": ["a"]}, ConfigurationError,
         "layers must be a list of 2 name(s), one per layer of left and right; got ['a']."),
        (np.full((1, 3, 2), 1.5), np.zeros((1, 3, 2)), {}, DataError,
         "left holds fractions of time steps, each in [0, 1]; got 6 value(s) outside, the first 1.5 at index "
         "(0, 0, 0). Divide counts by the number of steps."),
        (np.zeros((1, 3, 2)), np.array([[[0.0, -0.1], [0, 0], [0, np.nan]]]), {}, DataError,
         "right holds fractions of time steps, each in [0, 1]; got 2 value(s) outside, the first -0.1 at index "
         "(0, 0, 1). Divide counts by the number of steps."),
        (np.zeros((1, 3, 2)), np.zeros((1, 3, 2)), {"path": "gates.jpg"}, ConfigurationError,
         "Figures are written as PNG: give a path ending in .png; got 'gates.jpg'."),
    ],
    ids=["2d", "no units", "shapes differ", "gates count", "layers count", "above 1", "below 0 and nan", "not png"],
)
def test_gate_saturation_refuses_what_does_not_fit(left, right, kwargs, error, message):
    with pytest.raises(error) as raised:
        plot_gate_saturation(left, right, **kwargs)
    assert _one_line(raised) == message


# Without matplotlib ---------------------------------------------------------------------------
def test_without_matplotlib_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    from seqkit.errors import MissingDependencyError
    from seqkit.plot import INSTALL_HINT

    for name in [name for name in sys.modules if name == "matplotlib" or name.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` raise ImportError
    with pytest.raises(MissingDependencyError, match="pip install 'seqkit\\[plot\\]'") as raised:
        plot_activation_text("ab", [0.0, 0.0], path=tmp_path / "a.png")
    assert str(raised.value) == INSTALL_HINT
    with pytest.raises(MissingDependencyError):
        plot_gate_saturation(*_fractions(), path=tmp_path / "b.png")
    assert not any(tmp_path.iterdir())
