"""``seqkit vocab``: what a corpus turns into — tokens, ids, counts, windows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from .errors import SeqkitCommand
from .options import POSITIVE, DataSource, PathType, data_options, output_options
from .paths import Output, check_outputs
from .render import UI, key_value_table, visible_token


@click.command(cls=SeqkitCommand, short_help="Show the tokens and ids a corpus gives.")
@data_options
@click.option("--window", type=POSITIVE, default=None, help="Also count the training windows of this length.")
@click.option("--save", "save_path", type=PathType(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Save the vocabulary as JSON (atomically; never over a --text input).")
@output_options
def vocab(data: DataSource, window: int | None, save_path: Path | None, ui: UI) -> None:
    """Show the vocabulary a corpus gives: each token's id and count.

    Ids follow first appearance, so the alphabet maps A to 0 ... Z to 25.
    Control characters in tokens are shown escaped (ESC as \\x1b).
    """
    data.check()
    targets = check_outputs([Output("--save", save_path)] if save_path is not None else [], data.inputs())
    corpus = data.load()
    vocabulary = corpus.vocabulary()
    counts = Counter(corpus.tokens)
    windows = None
    if window is not None:
        from seqkit.windows import sliding_windows

        windows = len(sliding_windows(corpus.encode(vocabulary), window))
    if save_path is not None:
        vocabulary.save(targets["--save"])
    rows = [
        ("corpus", corpus.name),
        ("level", corpus.level),
        ("tokens", len(corpus)),
        ("vocabulary size", vocabulary.size),
    ]
    if len(corpus.sequences) > 1:
        rows.append(("documents", len(corpus.sequences)))
    if windows is not None:
        rows.append((f"windows of {window}", windows))
    if save_path is not None:
        rows.append(("saved to", str(save_path)))
    table = Table(title="Vocabulary", title_justify="left", title_style="bold")
    table.add_column("id", justify="right", min_width=2)
    table.add_column("token", style="cyan", overflow="fold")
    table.add_column("count", justify="right", min_width=5)
    for token_id, token in enumerate(vocabulary.tokens):
        table.add_row(str(token_id), escape(visible_token(token)), str(counts[token]))
    ui.result(key_value_table("Corpus", rows), table)
    ui.emit_json({
        "corpus": corpus.name,
        "level": corpus.level,
        "tokens": len(corpus),
        "documents": len(corpus.sequences),
        "vocabulary": list(vocabulary.tokens),
        "counts": [counts[token] for token in vocabulary.tokens],
        "windows": windows,
        "saved_to": None if save_path is None else str(save_path),
    })
