"""The ``seqkit`` root command group.

Each subcommand lives in its own module and is attached with ``add_command``.
Nothing here imports TensorFlow: commands import the library when they run,
so ``seqkit --help`` and usage errors stay quick.

Shell completion is click's: ``eval "$(_SEQKIT_COMPLETE=bash_source seqkit)"``
(``zsh_source``, ``fish_source`` for other shells).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import click

from seqkit._quiet import silence_tensorflow
from seqkit.version import __version__

from .startup import enable_compilation_cache, exit_now

from .cells import cells
from .evaluate import evaluate
from .experiments import experiments
from .export import export
from .generate import generate
from .info import info
from .inspect import inspect
from .predict import predict
from .render import Consoles, json_error
from .train import train
from .vocab import vocab

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _silence_tensorflow(ctx: click.Context) -> None:
    """Keep TensorFlow's and Keras's logging and warnings off the user's screen.

    The command is the application, so it decides: TensorFlow's start-up lines
    and logging off for the process (``seqkit._quiet.silence_tensorflow``; the
    library itself never does this), and the warnings that TensorFlow, Keras and
    absl raise about their own internals ignored while the command runs (the
    filters are restored when it returns, so calling the CLI in-process, e.g.
    from a notebook, leaves the caller's warning filters as they were).
    """
    silence_tensorflow()
    ctx.with_resource(warnings.catch_warnings())
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|absl)(\.|$)")


class SeqkitGroup(click.Group):
    """The root group: under ``--json``, a failure also prints a JSON error object on stdout.

    ``{"error": {"message": ..., "exit_code": ...}}``, so a script reading stdout
    always gets one JSON document; the one-line message still goes to stderr.
    Parameter errors happen before a subcommand runs, so this is caught here, at
    the top, for usage errors and failures alike.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = args[: args.index("--")] if "--" in args else args
        ctx.meta["seqkit.json"] = "--json" in given
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            if ctx.meta.get("seqkit.json"):
                consoles = ctx.obj if isinstance(ctx.obj, Consoles) else Consoles()
                consoles.out.file.write(json_error(error.format_message(), error.exit_code) + "\n")
                consoles.out.file.flush()
            raise


@click.group(cls=SeqkitGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(version=__version__, prog_name="seqkit")  # seqkit/version.py, not installed metadata that may lag
@click.option("--quiet", "-q", is_flag=True, help="Hide progress and notes in every subcommand.")
@click.pass_context
def main(ctx: click.Context, quiet: bool) -> None:
    """seqkit: train LSTMs to predict the next token.

    \b
    Start with the tutorial's experiments:
      seqkit experiments                    # all six, with the tutorial's epochs
      seqkit experiments stateful --epochs 50
    Then train, save and use your own model:
      seqkit train --tokens "C D E F G A B C" --window 2 --out scale.seqkit
      seqkit predict scale.seqkit "E F"
      seqkit generate scale.seqkit --prime "C D" --steps 8

    Every command takes --json (one JSON document on stdout, an error object on
    failure) and --quiet.
    Exit status: 0 ok, 1 failed (data, file or model), 2 usage error,
    130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    """
    _silence_tensorflow(ctx)
    ctx.ensure_object(Consoles)
    ctx.meta["seqkit.quiet"] = quiet


for command in (experiments, train, predict, generate, evaluate, cells, inspect, vocab, export, info):
    main.add_command(command)


def run() -> None:
    """The ``seqkit`` executable: :func:`main` with XLA's compilation cache and a quick exit.

    ``main`` is the click command (tests and notebooks invoke it in-process); this entry
    point also takes the process-wide steps a short-lived command wants
    (:mod:`seqkit.cli.startup`): the persistent compilation cache before TensorFlow is
    imported, Keras imported without the optional packages it would load for nothing, and
    an exit that skips TensorFlow's teardown once the output is flushed.
    """
    enable_compilation_cache()
    silence_tensorflow(lean=True)
    try:
        main()
    except SystemExit as done:
        code = done.code
        if code is not None and not isinstance(code, int):
            sys.stderr.write(f"{code}\n")
            code = 1
        exit_now(code or 0)
    exit_now(0)
