"""``seqkit cells``: which LSTM units of a saved model track quotes, brackets, line length (:mod:`seqkit.inside`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from .errors import SeqkitCommand
from .options import PathType, bundle_argument, open_bundle, output_options
from .paths import Input, Output, check_outputs
from .render import UI

BUILTIN_NAMES = ("string", "comment", "bracket_depth", "line_position", "indentation", "word_start")
"""The builtin probes (:data:`seqkit.probes.BUILTIN_PROBES`, named here so that --help imports no NumPy)."""


@click.command(cls=SeqkitCommand, short_help="Find the LSTM units that track quotes, brackets, line length.")
@bundle_argument
@click.option("--text", "text_path", required=True, metavar="FILE",
              type=PathType(exists=True, dir_okay=False, path_type=Path),
              help="The UTF-8 text to read (source code, for the builtin probes); its last --held-out part scores the ranking.")
@click.option("--probe", "probes", multiple=True, metavar="NAME|REGEX",
              help=f"What to look for: {', '.join(BUILTIN_NAMES)}, or a regular expression whose matches "
                   "mark the spans (regex:PATTERN forces one). Repeat it. [default: every builtin probe]")
@click.option("--syntax", type=click.Choice(("python", "c")), default="python", show_default=True,
              help="How the string and comment probes read the text.")
@click.option("--top", type=click.IntRange(1, 100), default=3, show_default=True, help="Units listed per probe.")
@click.option("--held-out", type=click.FloatRange(0.05, 0.5), default=0.2, show_default=True, metavar="FRACTION",
              help="The fraction at the end of the text the ranking is scored on.")
@click.option("--html", "html_path", type=PathType(dir_okay=False, path_type=Path), default=None, metavar="FILE.html",
              help="Write the held-out text coloured by each probe's best unit (a page with no scripts).")
@click.option("--png", "png_path", type=PathType(dir_okay=False, path_type=Path), default=None, metavar="FILE.png",
              help="Write the picture of the first probe's best unit (the first that varies on the text).")
@click.option("--saturation", "saturation_path", type=PathType(dir_okay=False, path_type=Path), default=None,
              metavar="FILE.png", help="Write the gate saturation scatter.")
@output_options
def cells(
    bundle: str, text_path: Path, probes: tuple[str, ...], syntax: str, top: int, held_out: float,
    html_path: Path | None, png_path: Path | None, saturation_path: Path | None, ui: UI,
) -> None:
    """Find the units of a saved LSTM model that track what the text is at each position:
    inside a string or a comment, bracket depth, position in the line, indentation, word
    starts, or the spans of a regular expression (Karpathy et al. 2015).

    The model reads the text once, in parallel streams, its state carried; every unit's
    h and c is correlated with each probe on the first part of the text, and ranked by
    its correlation on the held-out rest (the sign found first). "layer r" is a linear
    probe over all of a layer's units, also scored on the held-out part.

    \b
    Examples:
      seqkit cells code.seqkit --text held_out.py
      seqkit cells code.seqkit --text held_out.py --probe string --probe '\\d+' --html cells.html
    """
    for suffix, path, option in ((".html", html_path, "--html"), (".png", png_path, "--png"),
                                 (".png", saturation_path, "--saturation")):
        if path is not None and path.suffix.lower() not in ((suffix, ".htm") if suffix == ".html" else (suffix,)):
            raise click.BadParameter(f"'{path}' does not end in {suffix}; give a {suffix} path.", param_hint=option)
    outputs = [Output(option, path) for option, path in
               (("--html", html_path), ("--png", png_path), ("--saturation", saturation_path)) if path is not None]
    if outputs:
        check_outputs(outputs, [Input("BUNDLE", Path(bundle)), Input("--text", text_path)])
    from seqkit.files import read_text
    from seqkit.probes import resolve_probe

    chosen = list(probes) or list(BUILTIN_NAMES)
    for spec in chosen:
        try:
            resolve_probe(spec, syntax=syntax)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--probe") from None
    text = read_text(text_path)
    model = open_bundle(bundle, ui)
    from seqkit.inside import cells as find_cells

    ui.note(f"Reading {text_path} through the cells of {bundle}...")
    report = find_cells(model, text, chosen, syntax=syntax, held_out=held_out)
    if (html_path is not None or png_path is not None) and not report.varying:
        from seqkit.errors import DataError

        raise DataError(
            f"No probe varies on {text_path} ({', '.join(report.probes)}): there is no unit to draw. Give a text "
            "where they do, or leave out --html and --png."
        )
    ui.result(ranking_table(report, top))
    written = []
    if html_path is not None:
        written.append(str(report.write_html(html_path)))
    if png_path is not None:
        report.plot(report.varying[0], path=png_path)
        written.append(str(png_path))
    if saturation_path is not None:
        report.plot_saturation(path=saturation_path)
        written.append(str(saturation_path))
    for path in written:
        ui.note(f"Wrote {path}.")
    if ui.as_json:
        ui.emit_json(report.to_json(top=top))


def ranking_table(report: Any, top: int) -> Table:
    """The best ``top`` units of each probe, and each layer's linear probe, as one table."""
    table = Table(
        title=f"Units that track each probe ({report.fit_tokens:,} tokens to rank, "
              f"{report.held_out_tokens:,} held out to score, {report.streams} streams)",
        title_justify="left", title_style="bold",
    )
    for column, justify in (("probe", "left"), ("unit", "left"), ("r", "right"), ("held-out r", "right"),
                            ("layer r (held out)", "right")):
        table.add_column(column, justify=justify, style="cyan" if column == "probe" else None)
    for name, probe in report.probes.items():
        linear = ", ".join("-" if value != value else f"{value:+.2f}" for value in report.linear_probes[name])
        scores = report.top(name, top)
        if not scores:
            table.add_row(escape(name), "(constant on this text)", "-", "-", linear, end_section=True)
            continue
        for number, score in enumerate(scores):
            table.add_row(
                escape(name) if number == 0 else "", score.name, f"{score.correlation:+.2f}", f"{score.held_out:+.2f}",
                linear if number == 0 else "", end_section=number == len(scores) - 1,
            )
    return table
