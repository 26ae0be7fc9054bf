"""The ``seqkit`` root command group.

Each subcommand lives in its own module and is attached with ``add_command``.
Nothing here imports TensorFlow: commands import the library when they run,
so ``seqkit --help`` and usage errors stay quick.

Shell completion is click's: ``eval "$(_SEQKIT_COMPLETE=bash_source seqkit)"``
(``zsh_source``, ``fish_source`` for other shells).
"""

from __future__ import annotations

import os
import warnings

import click

from .evaluate import evaluate
from .experiments import experiments
from .generate import generate
from .info import info
from .inspect import inspect
from .predict import predict
from .render import Consoles
from .train import train
from .vocab import vocab

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _silence_tensorflow() -> None:
    """Keep TensorFlow's and Keras's logging and warnings off the user's screen."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module=r"keras(\.|$)")
    warnings.filterwarnings("ignore", module=r"tensorflow(\.|$)")
    warnings.filterwarnings("ignore", module=r"absl(\.|$)")


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="seqkit", prog_name="seqkit")
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

    Every command takes --json (one JSON document on stdout) and --quiet.
    Exit status: 0 ok, 1 failed (data, file or model), 2 usage error, 130 interrupted.
    """
    _silence_tensorflow()
    ctx.ensure_object(Consoles)
    ctx.meta["seqkit.quiet"] = quiet


for command in (experiments, train, predict, generate, evaluate, inspect, vocab, info):
    main.add_command(command)
