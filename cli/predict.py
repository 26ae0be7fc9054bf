"""``seqkit predict``: the most likely next tokens after a context."""

from __future__ import annotations

import click
from rich.table import Table

from .errors import SeqkitCommand
from .options import POSITIVE, bundle_argument, model_level, open_bundle, output_options, split_context
from .render import UI, cell, join_tokens


@click.command(cls=SeqkitCommand, short_help="Rank the most likely next tokens.")
@bundle_argument
@click.argument("context", metavar="TOKENS")
@click.option("--top-k", "-k", type=POSITIVE, default=5, show_default=True,
              help="How many candidates to list (at most the vocabulary size).")
@output_options
def predict(bundle: str, context: str, top_k: int, ui: UI) -> None:
    """Rank the tokens most likely to follow TOKENS.

    TOKENS is read at the model's level: characters ("ABC") for a
    character model, whitespace-separated words ("C D E") for a word model.
    A stateful model reads all of TOKENS from a zero state, priming as it goes.

    \b
    Example:
      seqkit predict alphabet.seqkit ABC
    """
    model = open_bundle(bundle)
    level = model_level(model)
    tokens = split_context(context, level)
    predictions = model.predict_next(tokens, top_k=min(top_k, model.vocabulary.size))
    table = Table(title=f"Next token after {cell(repr(join_tokens(tokens, level)))}", title_justify="left",
                  title_style="bold")
    table.add_column("rank", justify="right", min_width=4)
    table.add_column("token", style="cyan", overflow="fold")
    table.add_column("probability", justify="right", min_width=6)
    for rank, prediction in enumerate(predictions, start=1):
        table.add_row(str(rank), cell(prediction.token), f"{prediction.probability:.4f}")
    ui.result(table)
    ui.emit_json({
        "context": tokens,
        "predictions": [{"token": p.token, "probability": p.probability} for p in predictions],
    })
