"""``seqkit predict``: the most likely next tokens after a context."""

from __future__ import annotations

import click
from rich.table import Table

from .errors import SeqkitCommand
from .options import (
    POSITIVE,
    bundle_argument,
    model_level,
    open_bundle,
    output_options,
    split_context,
)
from .render import UI, cell, join_tokens, visible_tokens


DEFAULT_TOP_K = 5
"""Candidates ``predict`` lists when ``--top-k`` is not given (fewer if the vocabulary is smaller)."""


@click.command(cls=SeqkitCommand, short_help="Rank the most likely next tokens.")
@bundle_argument
@click.argument("context", metavar="TOKENS")
@click.option("--top-k", "-k", type=POSITIVE, default=None,
              help="How many candidates to list, at most the model's vocabulary size.  [default: 5, or the whole "
                   "vocabulary if it is smaller]")
@output_options
def predict(bundle: str, context: str, top_k: int | None, ui: UI) -> None:
    """Rank the tokens most likely to follow TOKENS.

    TOKENS is read at the model's level: characters ("ABC") for a
    character model, whitespace-separated words ("C D E") for a word model,
    text split by the model's own tokenizer for a subword (bpe, unigram) model.
    A stateful model reads all of TOKENS from a zero state, priming as it goes.

    \b
    Example:
      seqkit predict alphabet.seqkit ABC
    """
    model = open_bundle(bundle, ui)
    if top_k is None:
        top_k = min(DEFAULT_TOP_K, model.vocabulary.size)
    check_top_k(top_k, model.vocabulary.size)
    level = model_level(model)
    tokens = split_context(context, level, model.vocabulary)
    predictions = model.predict_next(tokens, top_k=top_k)
    table = Table(title=f"Next token after {cell(repr(join_tokens(tokens, level, model.vocabulary)))}",
                  title_justify="left", title_style="bold")
    table.add_column("rank", justify="right", min_width=4)
    table.add_column("token", style="cyan", overflow="fold")
    table.add_column("probability", justify="right", min_width=6)
    for rank, prediction in enumerate(predictions, start=1):
        table.add_row(str(rank), cell(visible_tokens([prediction.token], level, model.vocabulary)),
                      f"{prediction.probability:.4f}")
    ui.result(table)
    ui.emit_json({
        "context": tokens,
        "predictions": [
            {"token": p.token, "text": join_tokens([p.token], level, model.vocabulary), "probability": p.probability}
            for p in predictions
        ],
    })


def check_top_k(top_k: int, vocabulary_size: int) -> None:
    """Refuse (exit 2) a ``--top-k`` larger than the model's vocabulary: there are not that many candidates.

    >>> check_top_k(26, 26)
    >>> check_top_k(1000, 26)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 1000 is more than the 26 tokens of the model's vocabulary; give at most 26.
    """
    if top_k > vocabulary_size:
        raise click.BadParameter(
            f"{top_k} is more than the {vocabulary_size} tokens of the model's vocabulary; "
            f"give at most {vocabulary_size}.",
            param_hint="'--top-k' / '-k'",
        )
