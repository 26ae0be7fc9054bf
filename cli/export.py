"""``seqkit export``: a bundle as a TensorFlow model that serves without seqkit."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.text import Text

from .errors import SeqkitCommand
from .options import PathType, bundle_argument, output_options
from .paths import Input, Output, check_outputs
from .render import UI, terminal_safe

FORMAT_NAMES = ("saved_model", "keras", "tflite")
"""``seqkit.export.FORMATS``, spelled out so that ``--help`` does not import TensorFlow (a test keeps them equal)."""


@click.command(cls=SeqkitCommand, short_help="Export a bundle as a SavedModel, .keras or .tflite file.")
@bundle_argument
@click.option("--format", "export_format", type=click.Choice(FORMAT_NAMES), default="saved_model", show_default=True,
              help="saved_model: a folder for TF Serving or tf.saved_model.load; keras: a .keras file; "
                   "tflite: a .tflite file for the TFLite interpreter.")
@click.option("--out", required=True, type=PathType(path_type=Path), metavar="PATH",
              help="The folder (saved_model) or file (keras: name ending in .keras; tflite) to create.")
@click.option("--force", is_flag=True, help="Replace an existing export at --out.")
@output_options
def export(bundle: str, export_format: str, out: Path, force: bool, ui: UI) -> None:
    """Export BUNDLE as a model that takes token strings and returns next-token probabilities.

    The vocabulary (a StringLookup) and the layout's encoding are inside the
    graph, so the export runs with TensorFlow alone. A stateful model gets a
    one-step signature with the LSTM state as input and output, so a server
    keeps one state per user. The export is written beside --out and renamed
    into place when complete.

    \b
    Examples:
      seqkit export alphabet.seqkit --out alphabet_model
      seqkit export alphabet.seqkit --format tflite --out alphabet.tflite
    """
    if export_format == "keras" and out.suffix != ".keras":
        raise click.BadParameter(
            f"a Keras export is a file whose name ends in .keras; got '{terminal_safe(str(out))}'.", param_hint="'--out'"
        )
    if os.path.lexists(out) and not force:
        raise click.BadParameter(f"'{terminal_safe(str(out))}' already exists; give --force to replace it.",
                                 param_hint="'--out'")
    targets = check_outputs([Output("--out", out, folder=export_format == "saved_model")], [Input("BUNDLE", Path(bundle))])
    from seqkit.export import export_model, state_names
    from seqkit.sequence_model import SequenceModel

    model = SequenceModel.load(bundle)
    ui.note(f"Exporting {bundle} as {export_format} ...")
    export_model(model, targets["--out"], export_format, overwrite=force)
    states = state_names(model)
    reads = f"{model.window_length} token{'s' if model.window_length != 1 else ''} per {'step' if states else 'window'}"
    returns = "probabilities, token, unknown" + (" and the new state" if states else "")
    ui.result(Text(f"Exported {terminal_safe(bundle)} as {export_format} to {terminal_safe(str(out))}: reads {reads}"
                   f"{' and the LSTM state' if states else ''}, returns {returns}."))
    ui.emit_json({
        "bundle": bundle,
        "format": export_format,
        "out": str(out),
        "stateful": bool(states),
        "window_length": model.window_length,
        "inputs": ["tokens", *states],
        "outputs": ["probabilities", "token", "unknown", *states],
    })
