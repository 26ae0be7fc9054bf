"""seqkit.plot returns matplotlib Figures, draws into given axes, writes PNGs only when asked.

Without matplotlib it says how to install it.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import seqkit
from seqkit.errors import ConfigurationError, DataError, MissingDependencyError
from seqkit.plot import INSTALL_HINT, hidden_state_trace, plot_hidden_states, plot_history
from seqkit.trainers import StatefulTrainer, StatelessTrainer

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.fixture(scope="module")
def stateful_model():
    model, _ = StatefulTrainer(units=8, epochs=3, seed=7).fit(seqkit.alphabet())
    return model


@pytest.fixture(scope="module")
def stateless_fit():
    return StatelessTrainer(window=3, units=8, epochs=4, seed=7).fit(seqkit.alphabet())


def _image(path):
    import matplotlib.image

    return matplotlib.image.imread(path)


# plot_history -------------------------------------------------------------------------
def test_plot_history_returns_a_figure_and_writes_nothing(tmp_path, monkeypatch, stateless_fit):
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    figure = plot_history({"window-timesteps": stateless_fit.history})
    assert isinstance(figure, Figure)
    assert [axes.get_title() for axes in figure.axes] == ["training loss (cross-entropy)", "training accuracy"]
    assert [line.get_label() for line in figure.axes[1].lines] == ["window-timesteps"]
    assert not any(tmp_path.iterdir())


def test_plot_history_writes_a_png_that_opens(tmp_path, stateless_fit):
    _, history = stateless_fit
    path = tmp_path / "curves.png"
    figure = plot_history({"window-timesteps": history}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.read_bytes() == figure._repr_png_()
    image = _image(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 400
    assert image.std() > 0.01  # not a blank canvas


def test_plot_history_takes_several_runs_and_plain_dicts(tmp_path, stateless_fit):
    _, history = stateless_fit
    runs = {"a": history, "b": {"loss": [3.0, 2.0, 1.0], "accuracy": [0.0, 0.5, 1.0]}}
    figure = plot_history(runs, tmp_path / "nested" / "two.png", title="two runs")
    assert _image(tmp_path / "nested" / "two.png").size > 0
    assert figure.get_suptitle() == "two runs"


def test_plot_history_leaves_no_temporary_files(tmp_path, stateless_fit):
    plot_history({"a": stateless_fit.history}, tmp_path / "a.png")
    assert [path.name for path in tmp_path.iterdir()] == ["a.png"]


def test_plot_history_refuses_no_runs(tmp_path):
    with pytest.raises(DataError, match="at least one run"):
        plot_history({}, tmp_path / "x.png")


def test_plot_history_refuses_a_history_without_epochs(tmp_path):
    with pytest.raises(DataError, match="'empty' has no epochs"):
        plot_history({"empty": {"loss": [], "accuracy": []}}, tmp_path / "x.png")


def test_plot_history_wants_a_png_name(tmp_path, stateless_fit):
    with pytest.raises(ConfigurationError, match="ending in .png"):
        plot_history({"a": stateless_fit.history}, tmp_path / "curves.jpg")


def test_plot_history_draws_into_the_axes_given(stateless_fit):
    from matplotlib.figure import Figure

    mine = Figure()
    left, right = mine.subplots(1, 2)
    assert plot_history({"a": stateless_fit.history}, ax=[left, right]) is mine
    assert left.get_title() == "training loss (cross-entropy)" and len(right.lines) == 1


def test_plot_history_draws_one_metric_into_one_axes(stateless_fit):
    from matplotlib.figure import Figure

    axes = Figure().subfigures(1, 2)[1].subplots()
    figure = plot_history({"a": stateless_fit.history, "b": stateless_fit.history}, metrics="accuracy", ax=axes)
    assert figure is axes.figure.figure  # the top-level figure, also for axes in a subfigure
    assert axes.get_title() == "training accuracy" and len(axes.lines) == 2


@pytest.mark.parametrize(
    ("metrics", "ax", "message"),
    [
        (("loss", "accuracy"), "one", "give ax= as 2 matplotlib Axes"),
        ("val_loss", None, "metrics must name one or more of ['accuracy', 'loss']"),
        ((), None, "metrics must name"),
    ],
    ids=["one axes for two panels", "unknown metric", "no metric"],
)
def test_plot_history_refuses_axes_that_do_not_fit(stateless_fit, metrics, ax, message):
    from matplotlib.figure import Figure

    given = Figure().subplots() if ax == "one" else ax
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plot_history({"a": stateless_fit.history}, metrics=metrics, ax=given)


def test_a_figure_shows_itself_in_jupyter_without_pyplot(stateless_fit):
    import pickle

    figure = plot_history({"a": stateless_fit.history})
    assert figure._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pickle.loads(pickle.dumps(figure))._repr_png_()[:4] == b"\x89PNG"
    assert figure.canvas.manager is None  # not pyplot's: nothing shown, nothing kept open


# hidden_state_trace / plot_hidden_states ----------------------------------------------
def test_hidden_state_trace_has_one_row_per_step(stateful_model):
    trace = hidden_state_trace(stateful_model, ALPHABET)
    assert trace.shape == (26, 8)
    assert np.all(np.abs(trace) < 1.0)  # h = o * tanh(c)


def test_a_reset_makes_the_next_state_a_cold_start(stateful_model):
    straight = hidden_state_trace(stateful_model, ALPHABET)
    with_reset = hidden_state_trace(stateful_model, ALPHABET, reset_at=10)
    cold = hidden_state_trace(stateful_model, "KLM")
    np.testing.assert_array_equal(with_reset[:10], straight[:10])
    np.testing.assert_allclose(with_reset[10:13], cold, atol=1e-6)
    assert not np.allclose(with_reset[10], straight[10])


def test_the_trace_leaves_the_model_reset(stateful_model):
    stateful_model.reset()
    before = stateful_model.predict_next("A")[0]
    stateful_model.reset()
    hidden_state_trace(stateful_model, "ABCDE")
    assert stateful_model.predict_next("A")[0] == before
    stateful_model.reset()


def test_hidden_state_trace_needs_a_stateful_model(stateless_fit):
    with pytest.raises(ConfigurationError, match="needs a stateful model"):
        hidden_state_trace(stateless_fit.model, "ABC")


def test_reset_at_out_of_range_is_refused(stateful_model):
    with pytest.raises(ConfigurationError, match="between 0 and 2"):
        hidden_state_trace(stateful_model, "ABC", reset_at=3)


def test_plot_hidden_states_writes_a_png_that_opens(tmp_path, stateful_model):
    path = tmp_path / "state.png"
    figure = plot_hidden_states(stateful_model, ALPHABET, path, reset_at=10, title="t")
    image = _image(path)
    assert image.shape[0] > 300 and image.std() > 0.01
    assert figure.get_suptitle() == "t"


def test_plot_hidden_states_returns_a_figure_and_writes_nothing(tmp_path, monkeypatch, stateful_model):
    monkeypatch.chdir(tmp_path)
    figure = plot_hidden_states(stateful_model, ALPHABET, reset_at=10)
    titles = [axes.get_title(loc="left") for axes in figure.axes if axes.get_title(loc="left")]
    assert titles == ["read in one go", "state reset before K"]
    assert not any(tmp_path.iterdir())


def test_plot_hidden_states_draws_into_the_axes_given(stateful_model):
    from matplotlib.figure import Figure

    mine = Figure()
    (axes,) = mine.subplots(1, 1, squeeze=False)[0]
    assert plot_hidden_states(stateful_model, "ABCDE", ax=axes) is mine
    assert axes.get_title(loc="left") == "read in one go" and len(axes.images) == 1
    with pytest.raises(ConfigurationError, match="give ax= as 2 matplotlib Axes"):
        plot_hidden_states(stateful_model, "ABCDE", reset_at=2, ax=axes)


def test_plot_hidden_states_checks_the_path_before_reading(tmp_path, stateful_model):
    with pytest.raises(ConfigurationError, match="ending in .png"):
        plot_hidden_states(stateful_model, ALPHABET, tmp_path / "state.svg")


# Without matplotlib -------------------------------------------------------------------
def test_without_matplotlib_the_error_says_how_to_install_it(tmp_path, monkeypatch, stateless_fit, stateful_model):
    for name in [name for name in sys.modules if name == "matplotlib" or name.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` raise ImportError
    with pytest.raises(MissingDependencyError) as error:
        plot_history({"a": stateless_fit.history}, tmp_path / "a.png")
    assert str(error.value) == INSTALL_HINT == "matplotlib is not installed: pip install 'seqkit[plot]'"
    assert isinstance(error.value, ImportError) and isinstance(error.value, seqkit.SeqkitError)
    with pytest.raises(MissingDependencyError):
        plot_hidden_states(stateful_model, "ABC", tmp_path / "b.png")
    assert not any(tmp_path.iterdir())
    # The trace itself needs no matplotlib.
    assert hidden_state_trace(stateful_model, "ABC").shape == (3, 8)


# The CLI's --plot and --tensorboard -----------------------------------------------------
def test_train_plot_and_tensorboard(runner, tmp_path):
    from seqkit.cli.main import main

    figure, logs = tmp_path / "curves.png", tmp_path / "logs"
    result = runner.invoke(
        main, ["train", "--window", "3", "--units", "8", "--epochs", "3", "--plot", str(figure),
               "--tensorboard", str(logs), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert _image(figure).size > 0
    assert len(list((logs / "train").glob("events.out.tfevents.*"))) == 1


@pytest.mark.slow  # the six experiments' plot, ~4 s; train's plot stays in the default run
def test_experiments_plot_and_tensorboard(runner, tmp_path):
    from seqkit.cli.main import main

    figure, logs = tmp_path / "experiments.png", tmp_path / "logs"
    result = runner.invoke(
        main, ["experiments", "stateful", "window-timesteps", "--epochs", "2", "--plot", str(figure),
               "--tensorboard", str(logs), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert _image(figure).size > 0
    assert sorted(path.name for path in logs.iterdir()) == ["stateful", "window-timesteps"]


def test_plot_wants_a_png_name_before_training(runner, tmp_path):
    from seqkit.cli.main import main

    result = runner.invoke(main, ["train", "--plot", str(tmp_path / "curves.jpg")])
    assert result.exit_code == 2
    assert "ending in .png" in result.stderr


def test_tensorboard_events_hold_the_epoch_scalars(tmp_path):
    import tensorflow as tf

    from seqkit.callbacks import TensorBoardLog

    StatelessTrainer(window=3, units=8, epochs=3).fit(seqkit.alphabet(), callbacks=[TensorBoardLog(tmp_path)])
    (events,) = (tmp_path / "train").glob("events.out.tfevents.*")
    tags = [
        (value.tag, event.step)
        for event in tf.compat.v1.train.summary_iterator(str(events))
        for value in event.summary.value
    ]
    assert sorted(tags) == sorted((f"epoch_{name}", step) for step in range(3) for name in ("loss", "accuracy"))
