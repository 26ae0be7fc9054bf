"""``seqkit evaluate``: accuracy of a saved model on a corpus, and its mistakes."""

from __future__ import annotations

import click
from rich.table import Table

from .errors import SeqkitCommand
from .options import NON_NEGATIVE, DataSource, bundle_argument, data_options, model_level, open_bundle, output_options
from .render import UI, cell, join_tokens, key_value_table, percent


@click.command(cls=SeqkitCommand, short_help="Score a model on a corpus and list its mistakes.")
@bundle_argument
@data_options
@click.option("--show", "shown", type=NON_NEGATIVE, default=20, show_default=True,
              help="How many mistakes to list (0: none).")
@output_options
def evaluate(bundle: str, data: DataSource, shown: int, ui: UI) -> None:
    """Score a saved model on a corpus: accuracy over every window, and the mistakes.

    The windows are cut as in training (the model's window length; for a
    stateful model, consecutive windows read in order), within each document.
    The corpus defaults to the alphabet; --text is split at the model's level
    unless --level is given. Every token must be in the model's vocabulary.
    --json lists the first 10,000 mistakes ("mistakes_shown" of
    "mistakes_total").
    """
    data.check()
    model = open_bundle(bundle)
    token_level = model_level(model)
    corpus = data.load(default_level=token_level)
    evaluation = model.evaluate(model.windows(corpus.encode(model.vocabulary)))
    wrong = evaluation.total - evaluation.correct
    ui.result(key_value_table("Evaluation", [
        ("model", bundle),
        ("data", f"{corpus.name}: {len(corpus)} tokens"),
        ("windows", evaluation.total),
        ("correct", evaluation.correct),
        ("accuracy", percent(evaluation.accuracy)),
    ]))
    if evaluation.mistakes and shown:
        table = Table(title="Mistakes", title_justify="left", title_style="bold")
        table.add_column("input", overflow="fold")
        table.add_column("expected", style="green", overflow="fold")
        table.add_column("predicted", style="red", overflow="fold")
        for inputs, expected, predicted in evaluation.mistakes[:shown]:
            table.add_row(cell(join_tokens(inputs, token_level)), cell(expected), cell(predicted))
        ui.result(table)
        if wrong > shown:
            ui.result(f"... and {wrong - shown} more (--show N lists more).")
    ui.emit_json({
        "bundle": bundle,
        "corpus": {"name": corpus.name, "tokens": len(corpus), "level": corpus.level,
                   "documents": len(corpus.sequences)},
        "total": evaluation.total,
        "correct": evaluation.correct,
        "accuracy": evaluation.accuracy,
        "mistakes_total": wrong,
        "mistakes_shown": len(evaluation.mistakes),
        "mistakes": [
            {"input": list(inputs), "expected": expected, "predicted": predicted}
            for inputs, expected, predicted in evaluation.mistakes
        ],
    })
