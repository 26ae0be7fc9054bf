"""Options shared by several commands, and the parameter types behind them.

The choices below mirror the library's registries (``seqkit.trainers.TRAINERS``,
``seqkit.layouts.LAYOUTS``, ``ENCODINGS``); they are spelled out here so that
``seqkit --help`` does not import TensorFlow, and a test keeps them equal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .render import UI, Consoles

if TYPE_CHECKING:
    from seqkit.datasets import Corpus

TRAINER_NAMES = ("stateless", "in-batch", "stateful", "stream")
STRATEGY_NAMES = ("default", "mirrored", "multi-worker")
LAYOUT_NAMES = ("timesteps", "features")
ENCODING_NAMES = ("scaled", "onehot", "embedding")
LEVEL_NAMES = ("char", "word")

F = TypeVar("F", bound=Callable[..., Any])


# Output -----------------------------------------------------------------------------
def output_options(function: F) -> F:
    """``--json`` and ``--quiet``; the command receives a ready :class:`~cli.render.UI` as ``ui``."""

    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout and nothing else.")
    @click.option("--quiet", "-q", is_flag=True, help="Hide progress and notes; print only results and errors.")
    @click.pass_context
    @functools.wraps(function)
    def wrapper(ctx: click.Context, *args: Any, as_json: bool, quiet: bool, **kwargs: Any) -> Any:
        consoles = ctx.find_object(Consoles) or Consoles()
        root_quiet = bool(ctx.meta.get("seqkit.quiet", False))
        return function(*args, ui=UI(consoles, as_json=as_json, quiet=quiet or root_quiet), **kwargs)

    return wrapper  # type: ignore[return-value]


# Parameter types --------------------------------------------------------------------
class ResetPolicyType(click.ParamType):
    """``epoch``, ``boundary``, ``every:K`` (K >= 1) or ``never``; checked by the library's parser."""

    name = "epoch|boundary|every:K|never"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from seqkit.errors import ConfigurationError
        from seqkit.reset import parse_reset_policy

        try:
            return parse_reset_policy(value).describe()
        except ConfigurationError as error:
            self.fail(str(error), param, ctx)


POSITIVE = click.IntRange(min=1)
NON_NEGATIVE = click.IntRange(min=0)


# Figures and logs -------------------------------------------------------------------
def _png_path(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and value.suffix.lower() != ".png":
        raise click.BadParameter(f"the figure is written as PNG: give a file name ending in .png; got '{value}'.")
    return value


def figure_options(function: F) -> F:
    """``--plot FILE.png`` (training curves; needs ``seqkit[plot]``) and ``--tensorboard DIR`` (event files)."""
    from pathlib import Path

    function = click.option(
        "--tensorboard", "tensorboard_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        metavar="DIR", help="Write loss and accuracy per epoch as TensorBoard logs (tensorboard --logdir DIR).",
    )(function)
    return click.option(
        "--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE.png",
        callback=_png_path,
        help="Draw loss and accuracy per epoch to this PNG (needs matplotlib: pip install 'seqkit[plot]').",
    )(function)


# Data -------------------------------------------------------------------------------
def data_options(function: F) -> F:
    """``--alphabet`` / ``--text FILE`` (``-`` for stdin) / ``--tokens "..."``, and ``--level``."""
    options = [
        click.option(
            "--alphabet", "use_alphabet", is_flag=True, help="Use the 26 letters A-Z (the default data)."
        ),
        click.option(
            "--text",
            "text_path",
            metavar="FILE",
            help="A UTF-8 text file to learn from; '-' reads standard input.",
        ),
        click.option(
            "--tokens",
            metavar='"T1 T2 ..."',
            help='Whitespace-separated tokens, e.g. --tokens "C D E F G A B".',
        ),
        click.option(
            "--level",
            type=click.Choice(LEVEL_NAMES),
            default=None,
            help="Split --text into characters or words. [default: char]",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def load_corpus(
    *, use_alphabet: bool, text_path: str | None, tokens: str | None, level: str | None, default_level: str = "char"
) -> Corpus:
    """The corpus the data options describe (the alphabet when none is given).

    Raises:
        click.UsageError: more than one source, or ``--level`` without ``--text``.
        seqkit.errors.DataError: the file is missing, unreadable, not UTF-8 or empty.
    """
    given = [name for name, value in (("--alphabet", use_alphabet), ("--text", text_path), ("--tokens", tokens)) if value is not None and value is not False]
    if len(given) > 1:
        raise click.UsageError(f"Give one data source, not {' and '.join(given)}.")
    if level is not None and text_path is None:
        raise click.UsageError("--level applies to --text only; --tokens are always split on whitespace.")
    from seqkit.datasets import Corpus, alphabet, load_text

    if text_path == "-":
        return Corpus.from_text(read_stdin(), level=level or default_level, name="stdin")  # type: ignore[arg-type]
    if text_path is not None:
        return load_text(text_path, level=level or default_level)  # type: ignore[arg-type]
    if tokens is not None:
        return Corpus.from_tokens(tokens.split(), name="tokens")
    return alphabet()


def read_stdin() -> str:
    """Standard input as UTF-8 text, with the same message as a non-UTF-8 file."""
    from seqkit.errors import DataError

    raw = click.get_binary_stream("stdin").read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"Standard input is not valid UTF-8 (byte {error.start}: 0x{raw[error.start]:02x}). "
            "Convert it to UTF-8, e.g. with iconv."
        ) from None


def split_context(text: str, level: str) -> list[str]:
    """A command-line context (``predict``, ``generate --prime``) as tokens at the model's level."""
    return list(text) if level == "char" else text.split()


# Bundles ----------------------------------------------------------------------------
def bundle_argument(function: F) -> F:
    """The ``BUNDLE`` argument: a file written by ``seqkit train --out`` (checked when loaded)."""
    return click.argument("bundle", metavar="BUNDLE", type=click.Path(path_type=str))(function)


def model_level(model: Any) -> str:
    """The tokenization level a model was trained at (``char`` if unknown)."""
    corpus = model.spec.get("corpus") if isinstance(model.spec, dict) else None
    level = corpus.get("level") if isinstance(corpus, dict) else None
    return level if level in LEVEL_NAMES else "char"


def open_bundle(path: str) -> Any:
    """Load a bundle; a missing, foreign or corrupted file raises ModelFileError (exit 1)."""
    from seqkit.sequence_model import SequenceModel

    return SequenceModel.load(path)
