"""``seqkit inspect``: what a bundle holds, without running it."""

from __future__ import annotations

import warnings
from typing import Any

import click

from .errors import SeqkitCommand
from .options import SUBWORD_LEVEL_NAMES, bundle_argument, model_level, open_bundle, output_options
from .render import UI, cell, key_value_table, percent, visible_token

SHOWN_TOKENS = 40


@click.command(cls=SeqkitCommand, short_help="Show what a bundle holds.")
@bundle_argument
@output_options
def inspect(bundle: str, ui: UI) -> None:
    """Show a bundle's vocabulary, layout, trainer, hyperparameters and training history.

    The whole bundle is validated as by predict, so a file that inspect
    accepts is one that predict and generate can use: its parts agree (spec
    and network, known trainer and reset names, tokens fit for the level) and
    its weights are finite. A bundle written by a newer seqkit gets a note.
    """
    from seqkit.bundle import NewerBundleWarning, read_bundle_spec

    model = open_bundle(bundle, ui)  # a newer bundle's note shown once, here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NewerBundleWarning)
        stored = read_bundle_spec(bundle)
    spec: dict[str, Any] = model.spec
    params = spec.get("hyperparameters")
    if not isinstance(params, dict):
        params = {}
    history = model.history
    losses, accuracies = history.get("loss") or [], history.get("accuracy") or []
    tokens = model.vocabulary.tokens
    shown = " ".join(visible_token(token) for token in tokens[:SHOWN_TOKENS]) + (f" ... (+{len(tokens) - SHOWN_TOKENS})" if len(tokens) > SHOWN_TOKENS else "")
    level = model_level(model)
    kind = f"{level} pieces, Ġ a space, Ċ a newline" if level in SUBWORD_LEVEL_NAMES else level
    rows: list[tuple[str, Any]] = [
        ("bundle", f"{bundle} (format {stored['version']}, seqkit {stored['seqkit_version']})"),
        ("trainer", spec.get("trainer", "-")),
        ("stateful", "yes" if model.stateful else "no"),
        ("layout", f"{model.layout.name}, {model.layout.encoding}"),
        ("window length", model.window_length),
        ("vocabulary", f"{model.vocabulary.size} tokens ({kind}): {shown}"),
    ]
    rows += [(name, _show(value)) for name, value in params.items() if name not in ("layout", "encoding")]
    if losses:
        best = max(accuracies) if accuracies else None
        rows += [
            ("epochs trained", len(losses)),
            ("loss", f"{losses[0]:.4f} -> {losses[-1]:.4f}"),
            ("accuracy", f"{percent(accuracies[0])} -> {percent(accuracies[-1])} (best {percent(best)})"
             if accuracies else "-"),
        ]
    rows += _held_out_rows(history)
    test = spec.get("test")
    if isinstance(test, dict) and isinstance(test.get("bits_per_token"), int | float):
        rows.append(("test score", f"{test['bits_per_token']:.4f} bits per token, "
                                   f"{test.get('bits_per_character', float('nan')):.4f} per character, "
                                   f"on {test.get('tokens')} tokens of the {test.get('corpus')}"))
    continued = spec.get("init_from")
    if isinstance(continued, dict):
        corpus = continued.get("corpus") if isinstance(continued.get("corpus"), dict) else {}
        rows.append(("continued from", f"a {continued.get('trainer')} model trained on {corpus.get('name')}"))
    ui.result(key_value_table(f"Bundle {cell(bundle)}", rows))
    ui.emit_json({
        "bundle": bundle,
        "format_version": stored["version"],
        "seqkit_version": stored["seqkit_version"],
        "stateful": model.stateful,
        "layout": model.layout.get_config(),
        "window_length": model.window_length,
        "vocabulary": list(tokens),
        "level": level,
        "unknown_token": model.vocabulary.unknown_token,
        "spec": spec,
        "history": history,
    })


def _held_out_rows(history: dict[str, list[float]]) -> list[tuple[str, str]]:
    """The held-out history a bundle stores (fit with validation): loss, bits per token, accuracy.

    >>> _held_out_rows({"val_loss": [0.9, 0.5, 0.6], "val_accuracy": [0.5, 0.8, 0.7]})
    [('held-out loss', '0.9000 -> 0.6000 (best 0.5000, epoch 2)'), ('held-out accuracy', '50.00% -> 70.00% (best 80.00%)')]
    """
    rows = []
    losses = history.get("val_loss") or []
    if losses:
        best = min(range(len(losses)), key=lambda epoch: losses[epoch])
        rows.append(("held-out loss", f"{losses[0]:.4f} -> {losses[-1]:.4f} (best {losses[best]:.4f}, epoch {best + 1})"))
    bits = history.get("val_bits_per_token") or []
    if bits:
        rows.append(("held-out bits per token", f"{bits[0]:.4f} -> {bits[-1]:.4f} (best {min(bits):.4f})"))
    accuracies = history.get("val_accuracy") or []
    if accuracies:
        rows.append(("held-out accuracy",
                     f"{percent(accuracies[0])} -> {percent(accuracies[-1])} (best {percent(max(accuracies))})"))
    return rows


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    return "-" if value is None else str(value)
