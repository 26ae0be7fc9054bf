"""Record ``seqkit experiments`` as a screenshot-like capture: docs/cli-capture.svg and .txt.

The table is printed by the real command, into a rich console that records
what it prints (``Console(record=True)``); the progress display goes to the
terminal as usual.

Usage::

    python docs/make_cli_capture.py              # all six experiments, the tutorial's epochs (slow)
    python docs/make_cli_capture.py --epochs 3   # a quick capture
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import click
from rich.console import Console

from seqkit.cli.main import main
from seqkit.cli.render import Consoles

HERE = Path(__file__).resolve().parent
WIDTH = 120


def capture(epochs: int | None, names: list[str], folder: Path = HERE) -> int:
    """Run the command, recording its standard output; write the SVG and the text file."""
    args = ["experiments", *names] + ([] if epochs is None else ["--epochs", str(epochs)])
    recording = Console(record=True, width=WIDTH, force_terminal=True, color_system="truecolor")
    recording.print(f"[bold green]$[/] seqkit {' '.join(args)}", highlight=False)
    consoles = Consoles(out=recording, err=Console(stderr=True))
    try:
        main.main(args=args, obj=consoles, prog_name="seqkit", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    title = f"seqkit {' '.join(args)}"
    recording.save_svg(str(folder / "cli-capture.svg"), title=title, clear=False)
    recording.save_text(str(folder / "cli-capture.txt"), styles=False)
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="epochs per experiment (default: the tutorial's)")
    parser.add_argument("names", nargs="*", help="experiments to run (default: all six)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse(sys.argv[1:])
    sys.exit(capture(options.epochs, options.names))
