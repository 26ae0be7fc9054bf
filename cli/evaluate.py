"""``seqkit evaluate``: the score of a saved model on a corpus (beside baselines), and its mistakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.table import Table

from .errors import SeqkitCommand
from .options import (
    NON_NEGATIVE, DataSource, PathType, bundle_argument, data_options, model_level, open_bundle, output_options,
)
from .render import UI, cell, key_value_table, percent, visible_tokens
from .scores import DEFAULT_BASELINE_ORDER, baseline_scores, model_name, model_row, scores_table

MISTAKE_TOKENS = 2000
"""The tokens of a stream model's mistakes listed: its one-stream twin reads one token per call."""


@click.command(cls=SeqkitCommand, short_help="Score a model on a corpus and list its mistakes.")
@bundle_argument
@data_options
@click.option("--show", "shown", type=NON_NEGATIVE, default=20, show_default=True,
              help="How many mistakes to list (0: none).")
@click.option("--baseline", "baseline_path", type=PathType(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="TRAIN_FILE", help="Also score a Kneser-Ney n-gram model and lzma trained on this text (the "
                                         "model's training text) on the same corpus.")
@click.option("--baseline-order", type=click.IntRange(1, 32), default=None, metavar="N",
              help=f"The n-gram order of --baseline. [default: {DEFAULT_BASELINE_ORDER}]")
@output_options
def evaluate(bundle: str, data: DataSource, shown: int, baseline_path: Path | None, baseline_order: int | None, ui: UI) -> None:
    """Score a saved model on a corpus: loss, bits per token and per character, perplexity,
    accuracy, and the mistakes.

    The text is read as the model reads text (SequenceModel.score): a window model
    predicts every window cut as in training (a stateful one in order, its state
    carried, within each document); a stream model reads the text as the parallel
    streams of segments it was trained on, its state carried, every token but the first
    of each document scored. The corpus defaults to the alphabet; --text is split at the
    model's level unless --level is given. Every token must be in the model's vocabulary.
    --json gives the score (loss, bits_per_token, bits_per_character, perplexity,
    accuracy, tokens) and lists the first 10,000 mistakes ("mistakes_shown" of
    "mistakes_total"); "window_accuracy" is the accuracy over the windows the mistakes
    come from (a stream model's first 2,000 tokens, read by its one-stream twin).
    """
    if baseline_order is not None and baseline_path is None:
        raise click.UsageError("--baseline-order sets the n-gram of --baseline TRAIN_FILE: give --baseline too.")
    baseline_order = baseline_order or DEFAULT_BASELINE_ORDER
    data.check()
    model = open_bundle(bundle, ui)
    token_level = model_level(model)
    corpus = data.load(default_level=token_level, vocabulary=model.vocabulary)
    score = model.score(corpus)
    windows = model.windows(corpus.encode(model.vocabulary))
    streamed = isinstance(model.spec.get("streams"), dict)
    if streamed and len(windows) > MISTAKE_TOKENS:  # a stream model's twin reads one token per call
        windows = windows.subset(np.arange(MISTAKE_TOKENS))
        ui.note(f"Mistakes: the first {MISTAKE_TOKENS} tokens, read in order by the one-stream model.")
    evaluation = model.evaluate(windows)
    wrong = evaluation.total - evaluation.correct
    ui.result(key_value_table("Evaluation", [
        ("model", bundle),
        ("data", f"{corpus.name}: {len(corpus)} tokens"),
        ("tokens scored", score.tokens),
        ("loss", f"{score.loss:.4f} nats per token"),
        ("bits per token", f"{score.bits_per_token:.4f}"),
        ("bits per character", f"{score.bits_per_character:.4f}"),
        ("perplexity", f"{score.perplexity:.3f}"),
        ("accuracy", percent(score.accuracy)),
        *([("mistakes listed from", f"the first {evaluation.total} tokens")] if streamed else [
            ("windows", evaluation.total), ("correct", evaluation.correct),
        ]),
    ]))
    baselines: list[dict[str, Any]] = []
    if baseline_path is not None:
        from seqkit.datasets import load_text

        ui.note(f"Scoring the baselines (Kneser-Ney {baseline_order}-gram, lzma) trained on {baseline_path}...")
        training = load_text(baseline_path, level=corpus.level, vocabulary=getattr(corpus, "subword", None))
        baselines = baseline_scores(training, corpus, model.vocabulary, order=baseline_order)
        ui.result(scores_table(f"Beside the baselines, on {corpus.name}",
                               [model_row(model_name(model), score.as_dict()), *baselines]))
    if evaluation.mistakes and shown:
        table = Table(title="Mistakes", title_justify="left", title_style="bold")
        table.add_column("input", overflow="fold")
        table.add_column("expected", style="green", overflow="fold")
        table.add_column("predicted", style="red", overflow="fold")
        for inputs, expected, predicted in evaluation.mistakes[:shown]:
            table.add_row(*(cell(visible_tokens(shown_tokens, token_level, model.vocabulary))
                            for shown_tokens in (inputs, [expected], [predicted])))
        ui.result(table)
        if wrong > shown:
            ui.result(f"... and {wrong - shown} more (--show N lists more).")
    ui.emit_json({
        "bundle": bundle,
        "corpus": {"name": corpus.name, "tokens": len(corpus), "level": corpus.level,
                   "documents": len(corpus.sequences)},
        **score.as_dict(),
        "baselines": baselines,
        "total": evaluation.total,
        "correct": evaluation.correct,
        "window_accuracy": evaluation.accuracy,
        "mistakes_total": wrong,
        "mistakes_shown": len(evaluation.mistakes),
        "mistakes": [
            {"input": list(inputs), "expected": expected, "predicted": predicted}
            for inputs, expected, predicted in evaluation.mistakes
        ],
    })
