"""``seqkit predict``: the most likely next tokens after a context."""

from __future__ import annotations

import click
from rich.table import Table

from .errors import SeqkitCommand
from .options import (
    POSITIVE,
    SUBWORD_LEVEL_NAMES,
    bundle_argument,
    model_level,
    open_bundle,
    output_options,
    split_context,
)
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
    character model, whitespace-separated words ("C D E") for a word model,
    text split by the model's own tokenizer for a subword (bpe, unigram) model.
    A stateful model reads all of TOKENS from a zero state, priming as it goes.

    \b
    Example:
      seqkit predict alphabet.seqkit ABC
    """
    model = open_bundle(bundle)
    level = model_level(model)
    tokens = split_context(context, level, model.vocabulary)
    predictions = model.predict_next(tokens, top_k=min(top_k, model.vocabulary.size))
    table = Table(title=f"Next token after {cell(repr(join_tokens(tokens, level, model.vocabulary)))}",
                  title_justify="left", title_style="bold")
    table.add_column("rank", justify="right", min_width=4)
    table.add_column("token", style="cyan", overflow="fold")
    table.add_column("probability", justify="right", min_width=6)
    for rank, prediction in enumerate(predictions, start=1):
        text = join_tokens([prediction.token], level, model.vocabulary)
        shown = repr(text) if level in SUBWORD_LEVEL_NAMES else text  # a piece's spaces, made visible
        table.add_row(str(rank), cell(shown), f"{prediction.probability:.4f}")
    ui.result(table)
    ui.emit_json({
        "context": tokens,
        "predictions": [
            {"token": p.token, "text": join_tokens([p.token], level, model.vocabulary), "probability": p.probability}
            for p in predictions
        ],
    })
