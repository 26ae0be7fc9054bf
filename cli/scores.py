"""Scores on a test set, and the baselines beside them: what ``train --baseline`` and ``evaluate`` print.

A model's score (:meth:`seqkit.sequence_model.SequenceModel.score`) is a row of the same
table as the baselines scored on the same test text (the "scored" column says how much each
row predicts: a stream model every token but each document's first, a window model every
token after its first window, the n-gram model every token, lzma every character): a Kneser-Ney n-gram model trained on the
same training text (:func:`seqkit.baselines.kneser_ney`) and a compressor's conditional
bits (:func:`seqkit.baselines.compressor`), each in bits per token and per character, so
that a number like "1.87 bits per character" has something to be read against.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from seqkit.datasets import Corpus
    from seqkit.vocab import Vocabulary

DEFAULT_BASELINE_ORDER = 5
"""The n-gram order of ``--baseline`` unless ``--baseline-order`` says otherwise."""


def corpus_text(corpus: Corpus, vocabulary: Vocabulary) -> str:
    """The text of a corpus: its documents joined by newlines, each its tokens joined as its level
    writes them (nothing between characters, a space between words, a subword vocabulary's own join)."""
    join = getattr(vocabulary, "join", None)
    if corpus.level not in ("char", "word") and callable(join):
        return "\n".join(join(list(sequence)) for sequence in corpus.sequences)
    separator = " " if corpus.level == "word" else ""
    return "\n".join(separator.join(sequence) for sequence in corpus.sequences)


def baseline_scores(training: Corpus, test: Corpus, vocabulary: Vocabulary, *, order: int) -> list[dict[str, Any]]:
    """The n-gram and compressor baselines trained on ``training`` and scored on ``test``, as report rows."""
    from seqkit.baselines import compressor, kneser_ney
    from seqkit.scoring import characters_of

    train_ids = [vocabulary.encode_array(sequence) for sequence in training.sequences if len(sequence)]
    test_ids = [vocabulary.encode_array(sequence) for sequence in test.sequences if len(sequence)]
    ngram = kneser_ney(train_ids, test_ids, vocabulary_size=vocabulary.size, order=order)
    characters = characters_of(vocabulary, list(test.tokens), test.level)
    rows = [{
        "name": ngram.name, "bits_per_token": ngram.bits_per_token, "tokens": ngram.tokens,
        "bits_per_character": ngram.bits_per_token * ngram.tokens / max(1, characters),
    }]
    packed = compressor(corpus_text(training, vocabulary), corpus_text(test, vocabulary), method="lzma")
    rows.append({
        "name": packed.name, "bits_per_token": None, "tokens": None, "characters": packed.tokens,
        "bits_per_character": packed.bits_per_token,
    })
    return rows


def model_row(name: str, score: dict[str, Any]) -> dict[str, Any]:
    """A model's score (``Score.as_dict()``) as a row of the scores table."""
    return {"name": name, **{key: score.get(key) for key in (
        "bits_per_token", "bits_per_character", "perplexity", "accuracy", "loss", "tokens", "characters")}}


def scores_table(title: str, rows: list[dict[str, Any]]) -> Table:
    """The rows (the model's, then the baselines') as one table: bits per token and per character."""
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column("model", overflow="fold")
    for heading in ("bits/token", "bits/char", "perplexity", "accuracy", "scored"):
        table.add_column(heading, justify="right")
    for row in rows:
        scored = f"{row['tokens']:,} tokens" if row.get("tokens") else (
            f"{row['characters']:,} chars" if row.get("characters") else "-")
        table.add_row(
            row["name"], _number(row.get("bits_per_token"), 4), _number(row.get("bits_per_character"), 4),
            _number(row.get("perplexity"), 2),
            "-" if row.get("accuracy") is None else f"{100 * row['accuracy']:.2f}%", scored,
        )
    return table


def model_name(model: Any) -> str:
    """``"seqkit: stream, 1 x LSTM 128"``: what a model is, for the scores table."""
    record = model.spec.get("model") or {}
    trainer = str(model.spec.get("trainer") or "model").removesuffix("Trainer").lower()
    trainer = {"inbatch": "in-batch"}.get(trainer, trainer)
    return f"seqkit: {trainer}, {record.get('layers', 1)} x {str(record.get('cell', 'lstm')).upper()} {record.get('units', '?')}"


def _number(value: Any, digits: int) -> str:
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"
