"""``seqkit experiments``: run the tutorial's experiments and compare with its numbers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .errors import Interrupted, SeqkitCommand, checked, interrupt_exit_code
from .options import POSITIVE, figure_options, output_options, require_plotting
from .paths import Output, check_outputs
from .render import UI, cell, duration

if TYPE_CHECKING:
    from seqkit.experiments import ExperimentResult


def _check_names(ctx: click.Context, param: click.Parameter, names: tuple[str, ...]) -> tuple[str, ...]:
    if not names:
        return names
    from seqkit.errors import ConfigurationError
    from seqkit.experiments import get_experiment

    for name in names:
        try:
            get_experiment(name)
        except ConfigurationError as error:
            raise click.BadParameter(str(error), ctx, param) from None
    return tuple(dict.fromkeys(names))


@click.command(cls=SeqkitCommand, short_help="Run the tutorial's experiments and compare accuracies.")
@click.argument("names", metavar="[NAME]...", nargs=-1, callback=_check_names)
@click.option(
    "--epochs",
    type=POSITIVE,
    default=None,
    help="Train every experiment this many epochs instead of the tutorial's (for quick runs).",
)
@click.option("--list", "list_only", is_flag=True, help="List the experiments without running them.")
@figure_options
@output_options
def experiments(
    names: tuple[str, ...],
    epochs: int | None,
    list_only: bool,
    plot_path: Path | None,
    tensorboard_dir: Path | None,
    ui: UI,
) -> None:
    """Run the tutorial's experiments on the alphabet (all six by default).

    Each experiment trains with the tutorial's hyperparameters (inputs scaled
    id / 26, Adam, seed 7), then the table shows the tutorial's accuracy beside
    seqkit's, the time taken, and what the model generates from 'A' (from 'ABC'
    for the three-char windows); the stateful model also generates from a cold
    'K' and from 'K' primed with A..J.

    \b
    Experiments: one-char, window-features, window-timesteps, in-batch,
    stateful, variable-length (the slowest: 500 epochs of 1000 samples).
    """
    from seqkit.experiments import EXPERIMENTS

    chosen = list(names or EXPERIMENTS)
    if list_only:
        ui.result(listing_table(chosen))
        ui.emit_json({"experiments": [describe(EXPERIMENTS[name]) for name in chosen]})
        return
    outputs = [
        Output(option, path, folder)
        for option, path, folder in (("--plot", plot_path, False), ("--tensorboard", tensorboard_dir, True))
        if path is not None
    ]
    targets = check_outputs(outputs)
    require_plotting(plot_path)
    results = run_all(chosen, epochs, ui, targets.get("--tensorboard"))
    if plot_path is not None:
        from seqkit.plot import plot_history

        plot_history({result.experiment.name: result.history for result in results}, targets["--plot"],
                     title="The tutorial's experiments" + (f", {epochs} epochs each" if epochs else ""))
        ui.note(f"Training curves drawn to {plot_path}.")
    ui.result(results_table(results, ui.out.width, epochs), table_notes(results))
    ui.emit_json({"epochs": epochs, "experiments": [result_document(result) for result in results]})


def run_all(
    names: Sequence[str], epochs: int | None, ui: UI, tensorboard_dir: Path | None = None
) -> list[ExperimentResult]:
    """Run ``names`` in order under one progress display; Ctrl-C stops with what finished.

    With ``tensorboard_dir``, each experiment logs to ``tensorboard_dir/NAME``.
    """
    from seqkit.callbacks import EpochEnd, TensorBoardLog
    from seqkit.experiments import EXPERIMENTS, run_experiment

    results: list[ExperimentResult] = []
    with ui.progress() as progress:
        for name in names:
            total = epochs or EXPERIMENTS[name].epochs
            callbacks = [EpochEnd(checked(progress.track(name, total)))]
            if tensorboard_dir is not None:
                callbacks.append(TensorBoardLog(tensorboard_dir / name))
            try:
                results.append(run_experiment(name, epochs=epochs, callbacks=callbacks))
            except KeyboardInterrupt as interrupt:
                done = ", ".join(result.experiment.name for result in results) or "none"
                raise Interrupted(
                    f"Interrupted: {name} stopped at epoch {progress.completed} of {total}; "
                    f"finished experiments: {done}.",
                    interrupt_exit_code(interrupt),
                ) from None
            progress.finish()
    return results


# Rendering --------------------------------------------------------------------------
def fraction(percentage: float | None) -> float | None:
    """A percentage as a fraction, as every ``--json`` gives accuracies: ``84.0`` -> ``0.84``.

    >>> fraction(86.96), fraction(None)
    (0.8696, None)
    """
    return None if percentage is None else round(percentage / 100.0, 6)


def describe(experiment: Any) -> dict[str, Any]:
    """An experiment as JSON-ready data (accuracies as fractions, as ``train --json``)."""
    return {
        "name": experiment.name,
        "title": experiment.title,
        "layout": experiment.layout,
        "trainer": experiment.trainer_kind,
        "epochs": experiment.epochs,
        "tutorial_accuracy": fraction(experiment.tutorial_accuracy),
        "notebook_accuracy": fraction(experiment.notebook_accuracy),
    }


def result_document(result: ExperimentResult) -> dict[str, Any]:
    """One experiment's result as JSON-ready data (accuracies as fractions, as ``train --json``)."""
    return {
        **describe(result.experiment),
        "epochs_run": result.history.epochs,
        "accuracy": fraction(result.accuracy),
        "random_pattern_accuracy": round(result.random_patterns.accuracy, 6),
        "seconds": round(result.seconds, 3),
        "training_seconds": round(result.history.seconds, 3),
        "prime": result.experiment.probe_prime,
        "generated": result.generated,
        "cold_start": result.cold_start,
        "primed": result.primed,
        "history": {"loss": result.history.loss, "accuracy": result.history.accuracy},
    }


def _tutorial(experiment: Any) -> str:
    text = f"{experiment.tutorial_accuracy:.2f}%"
    if experiment.notebook_accuracy is not None:
        text += f"\n[dim]nb {experiment.notebook_accuracy:.2f}%[/dim]"
    return text


def _accuracy(result: ExperimentResult) -> str:
    style = "green" if result.accuracy >= result.experiment.tutorial_accuracy - 0.005 else "yellow"
    return f"[{style}]{result.accuracy:.2f}%[/{style}]"


WIDE = 110
"""Below this console width the layout, trainer and epochs go under the experiment's name."""


def results_table(results: Sequence[ExperimentResult], width: int = WIDE, epochs: int | None = None) -> Table:
    """The summary table: tutorial vs seqkit, time and generated text.

    Below :data:`WIDE` columns the layout, trainer and epochs are folded into
    the experiment cell so the generated text keeps its room.
    """
    compact = width < WIDE
    title = "The tutorial's experiments, reproduced"
    if epochs is not None:
        title += f" [dim](quick run: {epochs} epochs each, not the tutorial's)[/dim]"
    table = Table(title=title, title_style="bold", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("experiment", style="cyan", overflow="fold")
    if not compact:
        table.add_column("layout", overflow="fold")
        table.add_column("trainer", overflow="fold")
        table.add_column("epochs", justify="right", overflow="fold", min_width=5)
    # Numbers wrap (at their spaces) or fold, never cut: "100.00%" stays whole down to 7 columns.
    table.add_column("tutorial", justify="right", overflow="fold", min_width=7)
    table.add_column("seqkit", justify="right", overflow="fold", min_width=7)
    table.add_column("time", justify="right", overflow="fold", min_width=5)
    table.add_column("generated", overflow="fold", min_width=12)
    for result in results:
        experiment = result.experiment
        generated = f"{cell(experiment.probe_prime)} → {cell(result.generated)}"
        if result.cold_start is not None:
            generated += f"\ncold K → {cell(result.cold_start)}"
        if result.primed is not None:
            generated += f"\nA..J, K → {cell(result.primed)}"
        if compact:
            setup = [
                f"{experiment.name}\n[dim]{experiment.layout}, {experiment.trainer_kind},\n"
                f"{result.history.epochs} epochs[/dim]"
            ]
        else:
            setup = [experiment.name, experiment.layout, experiment.trainer_kind, str(result.history.epochs)]
        table.add_row(*setup, _tutorial(experiment), _accuracy(result), duration(result.seconds), generated)
    return table


def table_notes(results: Sequence[ExperimentResult]) -> Text:
    """What the table's abbreviations mean, for the rows shown."""
    notes = []
    if any(result.experiment.notebook_accuracy is not None for result in results):
        notes.append("nb: what the seed notebook's own run printed.")
    if any(result.cold_start is not None for result in results):
        notes.append("cold K: generated from 'K' after a reset; A..J, K: from 'K' after reading A..J.")
    return Text("\n".join(notes), style="dim")


def listing_table(names: Sequence[str]) -> Table:
    from seqkit.experiments import EXPERIMENTS

    table = Table(title="Experiments", title_style="bold", title_justify="left")
    table.add_column("name", style="cyan", overflow="fold")
    table.add_column("what it is")
    table.add_column("epochs", justify="right", overflow="fold", min_width=5)
    table.add_column("tutorial", justify="right", overflow="fold", min_width=7)
    for name in names:
        experiment = EXPERIMENTS[name]
        table.add_row(name, escape(experiment.title), str(experiment.epochs), _tutorial(experiment))
    return table
