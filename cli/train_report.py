"""What ``seqkit train`` reports: the summary of a run, JSON-ready, and the rows of its table."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .render import duration, percent

if TYPE_CHECKING:
    from seqkit.sequence_model import SequenceModel
    from seqkit.trainers import History, Trainer


def summary(
    model: SequenceModel, history: History, trainer: Trainer, evaluation_accuracy: float, out_path: Path | None,
    *, restored: bool = False, evaluation_windows: int | None = None, training_windows: int | None = None,
) -> dict[str, Any]:
    """What training produced, JSON-ready (accuracies as fractions).

    ``accuracy`` is the last epoch's, averaged over its steps as the weights changed;
    ``evaluation_accuracy`` is the trained model's on ``evaluation_windows`` of the
    ``training_windows`` (a stream model's: its first tokens, one window each). The
    held-out figures are the last epoch's, or with ``restored`` (early stopping put the
    best weights back) the best epoch's: those of the model saved.
    """
    spec = model.spec
    scored = [(value, epoch) for epoch, value in enumerate(history.val_loss) if math.isfinite(value)]
    best = min(scored)[1] if scored else None
    shown = best if restored else (len(history.val_loss) - 1 if history.val_loss else None)
    return {
        "trainer": spec.get("trainer"),
        "hyperparameters": spec.get("hyperparameters"),
        "layout": model.layout.get_config(),
        "corpus": spec.get("corpus"),
        "vocabulary_size": model.vocabulary.size,
        "window_length": model.window_length,
        "samples": spec.get("samples"),
        "streams": spec.get("streams"),
        "epochs": history.epochs,
        "steps": history.steps,
        "loss": history.loss[-1] if history.loss else None,
        "accuracy": history.accuracy[-1] if history.accuracy else None,
        "evaluation_accuracy": evaluation_accuracy,
        "evaluation_windows": evaluation_windows,
        "training_windows": training_windows,
        "val_loss": history.val_loss[shown] if shown is not None else None,
        "val_accuracy": history.val_accuracy[shown] if shown is not None else None,
        "val_bits_per_token": history.val_bits_per_token[shown] if shown is not None else None,
        "best_epoch": best + 1 if best is not None else None,
        "restored_best_weights": restored and best is not None,
        "seconds": round(history.seconds, 3),
        "bundle": None if out_path is None else str(out_path),
        "model": spec.get("model"),
        "test": spec.get("test"),
        "init_from": spec.get("init_from"),
    }


def summary_rows(report: dict[str, Any]) -> list[tuple[str, Any]]:
    params = report["hyperparameters"] or {}
    corpus = report["corpus"] or {}
    rows: list[tuple[str, Any]] = [
        ("trainer", report["trainer"]),
        ("data", f"{corpus.get('name')}: {corpus.get('tokens')} tokens ({corpus.get('level')}), "
                 f"{report['vocabulary_size']} distinct"),
        ("layout", f"{report['layout']['layout']}, {report['layout']['encoding']}"),
        data_shape_row(report),
        ("network", network_text(report)),
    ]
    if "reset" in params:
        rows.append(("reset", params["reset"]))
    rows += [
        ("epochs", f"{report['epochs']} ({report['steps']} steps)"),
        ("loss", f"{report['loss']:.4f}" if report["loss"] is not None else "-"),
        ("training accuracy (last epoch)", percent(report["accuracy"])),
        (evaluation_label(report), percent(report["evaluation_accuracy"])),
    ]
    if report.get("val_loss") is not None:
        rows += [
            ("held-out loss", f"{report['val_loss']:.4f} ({report['val_bits_per_token']:.3f} bits per token)"
                              + (" at the best epoch" if report["restored_best_weights"] else "")),
            ("held-out accuracy", percent(report["val_accuracy"])),
            ("best held-out epoch", f"{report['best_epoch']}"
                                    + (" (its weights were kept)" if report["restored_best_weights"] else "")),
        ]
    if report.get("init_from"):
        added = report["init_from"].get("tokens_added") or []
        rows.append(("continued from", f"a {report['init_from'].get('trainer')} model"
                                       + (f", {len(added)} tokens added" if added else "")))
    rows += [
        ("time", duration(report["seconds"])),
        ("saved to", report["bundle"] or "-"),
    ]
    return rows


def data_shape_row(report: dict[str, Any]) -> tuple[str, str]:
    """How the data was fed: ``window`` (tokens per window, windows per epoch), or for a stream
    model ``segments`` (steps per segment, parallel streams, segments per epoch).

    >>> data_shape_row({"window_length": 3, "samples": 23, "streams": None})
    ('window', '3 tokens, 23 samples')
    >>> data_shape_row({"window_length": 1, "samples": 167936, "streams": {"streams": 32, "segment_length": 64}})
    ('segments', '64 steps x 32 streams, 2624 segments (167936 tokens) per epoch')
    """
    streams = report.get("streams")
    if isinstance(streams, dict):
        length, samples = streams["segment_length"], report["samples"]
        return ("segments", f"{length} steps x {streams['streams']} streams, "
                            f"{samples // length} segments ({samples} tokens) per epoch")
    return ("window", f"{report['window_length']} tokens, {report['samples']} samples")


def evaluation_label(report: dict[str, Any]) -> str:
    """What the trained model's accuracy covers: the training windows, or only the first tokens read.

    Beside it, ``training accuracy (last epoch)`` is the average over the last epoch's steps,
    while the weights still changed.

    >>> evaluation_label({"streams": None, "evaluation_windows": 23, "training_windows": 23})
    'accuracy on the training windows'
    >>> evaluation_label({"streams": {"streams": 32}, "evaluation_windows": 2000, "training_windows": 167936})
    'accuracy on the first 2,000 tokens'
    """
    unit = "tokens" if isinstance(report.get("streams"), dict) else "windows"
    evaluated, total = report.get("evaluation_windows"), report.get("training_windows")
    if evaluated is not None and total is not None and evaluated < total:
        return f"accuracy on the first {evaluated:,} {unit}"
    return f"accuracy on the training {unit}"


def network_text(report: dict[str, Any]) -> str:
    """``1 x LSTM 32``, with the clipping and the schedule when they are not the defaults."""
    model = report.get("model") or {}
    params = report["hyperparameters"] or {}
    layers, units = model.get("layers", params.get("layers")), model.get("units", params.get("units"))
    text = f"{layers} x {str(model.get('cell', 'lstm')).upper()} {units}"
    if params.get("clip_norm") is not None:
        text += f", gradients clipped to norm {params['clip_norm']:g}"
    if params.get("lr_schedule") not in (None, "constant"):
        text += f", learning rate {params['lr_schedule']}"
    return text
