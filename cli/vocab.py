"""``seqkit vocab``: what a corpus turns into — tokens, ids, counts, windows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from .errors import SeqkitCommand
from .options import POSITIVE, data_options, load_corpus, output_options
from .render import UI, key_value_table


@click.command(cls=SeqkitCommand, short_help="Show the tokens and ids a corpus gives.")
@data_options
@click.option("--window", type=POSITIVE, default=None, help="Also count the training windows of this length.")
@click.option("--save", "save_path", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Save the vocabulary as JSON (atomically).")
@output_options
def vocab(
    use_alphabet: bool, text_path: str | None, tokens: str | None, level: str | None,
    window: int | None, save_path: Path | None, ui: UI,
) -> None:
    """Show the vocabulary a corpus gives: each token's id and count.

    Ids follow first appearance, so the alphabet maps A to 0 ... Z to 25.
    """
    corpus = load_corpus(use_alphabet=use_alphabet, text_path=text_path, tokens=tokens, level=level)
    vocabulary = corpus.vocabulary()
    counts = Counter(corpus.tokens)
    windows = None
    if window is not None:
        from seqkit.windows import sliding_windows

        windows = len(sliding_windows(corpus.encode(vocabulary), window))
    if save_path is not None:
        vocabulary.save(save_path)
    rows = [
        ("corpus", corpus.name),
        ("level", corpus.level),
        ("tokens", len(corpus)),
        ("vocabulary size", vocabulary.size),
    ]
    if windows is not None:
        rows.append((f"windows of {window}", windows))
    if save_path is not None:
        rows.append(("saved to", str(save_path)))
    table = Table(title="Vocabulary", title_justify="left", title_style="bold")
    table.add_column("id", justify="right")
    table.add_column("token", style="cyan")
    table.add_column("count", justify="right")
    for token_id, token in enumerate(vocabulary.tokens):
        table.add_row(str(token_id), escape(repr(token) if token.isspace() else token), str(counts[token]))
    ui.result(key_value_table("Corpus", rows), table)
    ui.emit_json({
        "corpus": corpus.name,
        "level": corpus.level,
        "tokens": len(corpus),
        "vocabulary": list(vocabulary.tokens),
        "counts": [counts[token] for token in vocabulary.tokens],
        "windows": windows,
        "saved_to": None if save_path is None else str(save_path),
    })
