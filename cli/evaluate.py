"""``seqkit evaluate``: accuracy of a saved model on a corpus, and its mistakes."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from .errors import SeqkitCommand
from .options import NON_NEGATIVE, bundle_argument, data_options, load_corpus, model_level, open_bundle, output_options
from .render import UI, join_tokens, key_value_table, percent


@click.command(cls=SeqkitCommand, short_help="Score a model on a corpus and list its mistakes.")
@bundle_argument
@data_options
@click.option("--show", "shown", type=NON_NEGATIVE, default=20, show_default=True,
              help="How many mistakes to list (0: none).")
@output_options
def evaluate(
    bundle: str, use_alphabet: bool, text_path: str | None, tokens: str | None, level: str | None, shown: int, ui: UI
) -> None:
    """Score a saved model on a corpus: accuracy over every window, and the mistakes.

    The windows are cut as in training (the model's window length; for a
    stateful model, consecutive windows read in order). The corpus defaults
    to the alphabet; --text is split at the model's level unless --level is given.
    Every token must be in the model's vocabulary.
    """
    model = open_bundle(bundle)
    corpus = load_corpus(
        use_alphabet=use_alphabet, text_path=text_path, tokens=tokens, level=level, default_level=model_level(model)
    )
    evaluation = model.evaluate(model.windows(corpus.encode(model.vocabulary)))
    token_level = model_level(model)
    ui.result(key_value_table("Evaluation", [
        ("model", bundle),
        ("data", f"{corpus.name}: {len(corpus)} tokens"),
        ("windows", evaluation.total),
        ("correct", evaluation.correct),
        ("accuracy", percent(evaluation.accuracy)),
    ]))
    if evaluation.mistakes and shown:
        table = Table(title="Mistakes", title_justify="left", title_style="bold")
        table.add_column("input")
        table.add_column("expected", style="green")
        table.add_column("predicted", style="red")
        for inputs, expected, predicted in evaluation.mistakes[:shown]:
            table.add_row(escape(join_tokens(inputs, token_level)), escape(expected), escape(predicted))
        ui.result(table)
        if len(evaluation.mistakes) > shown:
            ui.result(f"... and {len(evaluation.mistakes) - shown} more (--show N lists more).")
    ui.emit_json({
        "bundle": bundle,
        "corpus": {"name": corpus.name, "tokens": len(corpus), "level": corpus.level},
        "total": evaluation.total,
        "correct": evaluation.correct,
        "accuracy": evaluation.accuracy,
        "mistakes": [
            {"input": list(inputs), "expected": expected, "predicted": predicted}
            for inputs, expected, predicted in evaluation.mistakes
        ],
    })
