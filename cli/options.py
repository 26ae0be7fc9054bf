"""Options shared by several commands, and the parameter types behind them.

The choices below mirror the library's registries (``seqkit.trainers.TRAINERS``,
``seqkit.layouts.LAYOUTS``, ``ENCODINGS``); they are spelled out here so that
``seqkit --help`` does not import TensorFlow, and a test keeps them equal.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .paths import Input, check_path_text
from .render import UI, Consoles, terminal_safe

if TYPE_CHECKING:
    from seqkit.datasets import Corpus

TRAINER_NAMES = ("stateless", "in-batch", "stateful", "stream")
CELL_NAMES = ("lstm", "gru")
STRATEGY_NAMES = ("default", "mirrored", "multi-worker")
LAYOUT_NAMES = ("timesteps", "features")
ENCODING_NAMES = ("scaled", "onehot", "embedding")
SUBWORD_LEVEL_NAMES = ("bpe", "unigram")
LEVEL_NAMES = ("char", "word", *SUBWORD_LEVEL_NAMES)

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
class DescribedType(click.ParamType):
    """A value read by one of the library's parsers (imported when used, so ``--help`` stays fast)
    and passed on as the parsed value describes itself; the parser's error is the usage error."""

    parser: tuple[str, str]
    """``(module, function)`` of the parser, whose result has ``describe()``."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        import importlib

        from seqkit.errors import ConfigurationError

        module, function = self.parser
        try:
            return getattr(importlib.import_module(module), function)(value).describe()
        except ConfigurationError as error:
            self.fail(str(error), param, ctx)


class ResetPolicyType(DescribedType):
    """``epoch``, ``boundary``, ``every:K`` (K >= 1) or ``never``; checked by the library's parser."""

    name = "epoch|boundary|every:K|never"
    parser = ("seqkit.reset", "parse_reset_policy")


class ScheduleType(DescribedType):
    """``constant``, ``cosine[:W]`` or ``plateau[:P]``; checked by the library's parser."""

    name = "constant|cosine[:W]|plateau[:P]"
    parser = ("seqkit.schedules", "parse_schedule")


class FiniteFloatRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``inf`` and ``nan`` (which pass range checks)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = value if isinstance(value, float) else click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{number} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class PathType(click.Path):
    """A :class:`click.Path` that refuses a NUL byte as a usage error (``os.stat`` would raise ValueError)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "\0" in value:
            self.fail("the path contains a NUL byte.", param, ctx)
        return super().convert(value, param, ctx)


POSITIVE = click.IntRange(min=1)
NON_NEGATIVE = click.IntRange(min=0)
SEED = click.IntRange(0, 2**32 - 1)
"""Seeds: what NumPy and Keras take, 0 to 2**32 - 1."""

MAX_UNITS = 16384
"""The most LSTM units per layer ``--units`` takes: 16384 units already weigh over 4 GB per layer."""

MIN_TEMPERATURE = 1e-3
"""The lowest ``--temperature``: below it sampling is greedy in all but name (and underflows)."""

MAX_TEMPERATURE = 100.0
"""The highest ``--temperature``: at 100 a softmax over next-token logits is already close to uniform
(the model no longer matters), and above it nothing changes but the risk of overflow."""

TEMPERATURE = FiniteFloatRange(MIN_TEMPERATURE, MAX_TEMPERATURE)
"""``--temperature``: a finite number from :data:`MIN_TEMPERATURE` to :data:`MAX_TEMPERATURE`."""


# Network size -----------------------------------------------------------------------
MAX_PARAMETERS = 50_000_000
"""The most parameters ``seqkit train`` builds a network of, unless ``--max-parameters`` raises it.

The bundle loader's bound (:data:`seqkit.io.keras_config.MAX_PARAMETERS`), spelled out here so
that the size is checked before TensorFlow is imported; a test keeps the two equal. A bundle
above it is refused by ``load``, so raising it makes a model that seqkit cannot load back."""

TRAINING_BYTES_PER_PARAMETER = 16
"""What training holds per parameter, as float32: the weight, its gradient and Adam's two slots
(4 x 4 bytes). Activations and carried states come on top."""

NETWORK_DEFAULTS: dict[str, dict[str, Any]] = {
    "stateless": {"units": 32, "layers": 1, "cell": "lstm", "embedding_dim": 16, "window": 1,
                  "layout": "timesteps", "encoding": "scaled"},
    "in-batch": {"units": 16, "layers": 1, "cell": "lstm", "embedding_dim": 16, "window": 1,
                 "layout": "timesteps", "encoding": "scaled"},
    "stateful": {"units": 32, "layers": 1, "cell": "lstm", "embedding_dim": 16, "window": 1,
                 "layout": "timesteps", "encoding": "scaled"},
    "stream": {"units": 128, "layers": 1, "cell": "lstm", "embedding_dim": 16, "window": 64},
}
"""Each trainer's defaults for what sizes its network, mirrored from the trainers' signatures (a test
keeps them equal) so that ``seqkit train`` sizes the network before importing TensorFlow. A stream
network reads one token a step through an embedding: its ``window`` is the segment length, not the
network's."""

RECURRENT_WEIGHTS: dict[str, tuple[int, int]] = {"lstm": (4, 1), "gru": (3, 2)}
"""Per cell, its gates and the bias vectors of each: an LSTM has 4 gates and one bias; Keras's GRU
(``reset_after=True``) 3 gates and two biases (input and recurrent)."""


def network_parameters(
    layout: str, encoding: str, *, window_length: int, vocabulary_size: int, units: int, layers: int,
    cell: str = "lstm", embedding_dim: int = 16,
) -> int:
    """The parameters of :func:`seqkit.models.build_model`'s network, counted from its options alone.

    Nothing is built, and nothing heavier than :mod:`seqkit.layouts` is imported: an optional
    ``Embedding`` of ``(V + 1) x E``, ``layers`` recurrent layers of ``gates x units x (inputs +
    units + biases)`` (:data:`RECURRENT_WEIGHTS`), and the ``Dense`` softmax of ``V x (units + 1)``.
    The inputs of the first layer are the layout's features: 1 per step scaled, ``V`` one-hot, ``E``
    embedded (times the window in the ``features`` layout). A stream network is the ``timesteps``,
    ``embedding`` one at window 1. Exactly ``build_model(...).count_params()`` (tested).

    Args:
        layout: ``"timesteps"`` or ``"features"``.
        encoding: ``"scaled"``, ``"onehot"`` or ``"embedding"``.
        window_length: tokens per window.
        vocabulary_size: ``V``, the tokens of the vocabulary.
        units: units per recurrent layer.
        layers: recurrent layers.
        cell: ``"lstm"`` or ``"gru"``. Defaults to ``"lstm"``.
        embedding_dim: ``E``, the embedding's width. Defaults to 16.

    >>> network_parameters("timesteps", "scaled", window_length=3, vocabulary_size=26, units=32, layers=1)
    5210
    >>> network_parameters("timesteps", "scaled", window_length=1, vocabulary_size=26, units=16384, layers=8)
    16107143194
    """
    from seqkit.layouts import make_layout

    shape = make_layout(layout, encoding).input_shape(window_length, vocabulary_size)  # type: ignore[arg-type]
    parameters = 0
    if encoding == "embedding":
        parameters += (vocabulary_size + 1) * embedding_dim
        features = embedding_dim * (window_length if layout == "features" else 1)
    else:
        features = shape[-1]
    gates, biases = RECURRENT_WEIGHTS[cell]
    for _ in range(layers):
        parameters += gates * units * (features + units + biases)
        features = units
    return parameters + vocabulary_size * (units + 1)


# Figures and logs -------------------------------------------------------------------
def _png_path(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and value.suffix.lower() != ".png":
        raise click.BadParameter(
            f"the figure is written as PNG: give a file name ending in .png; got '{terminal_safe(str(value))}'."
        )
    return value


def figure_options(function: F) -> F:
    """``--plot FILE.png`` (training curves; needs ``seqkit[plot]``) and ``--tensorboard DIR`` (event files)."""
    from pathlib import Path

    function = click.option(
        "--tensorboard", "tensorboard_dir", type=PathType(file_okay=False, path_type=Path), default=None,
        metavar="DIR", help="Write loss and accuracy per epoch as TensorBoard logs (tensorboard --logdir DIR).",
    )(function)
    return click.option(
        "--plot", "plot_path", type=PathType(dir_okay=False, path_type=Path), default=None, metavar="FILE.png",
        callback=_png_path,
        help="Draw loss and accuracy per epoch to this PNG (needs matplotlib: pip install 'seqkit[plot]').",
    )(function)


def require_plotting(plot_path: Path | None) -> None:
    """With ``--plot``, refuse up front (exit 1) if matplotlib is missing, rather than after training."""
    import importlib.util

    if plot_path is not None and importlib.util.find_spec("matplotlib") is None:
        raise click.ClickException("--plot needs matplotlib, which is not installed: pip install 'seqkit[plot]'.")


# Data -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataSource:
    """What the data options say: the alphabet, ``--tokens``, or ``--text`` files and folders.

    Several ``--text`` give several documents (one per file), and so does a folder
    (every file directly in it that is not hidden, sorted by name); ``--lines``
    makes each line a document. Windows never cross from one document to the
    next, and ``--reset boundary`` zeroes a stateful model's state between them.

    Attributes:
        use_alphabet: ``--alphabet``.
        text_paths: the ``--text`` values (``-`` is standard input).
        tokens: ``--tokens``.
        level: ``--level``, or None when not given.
        lines: ``--lines``.
    """

    use_alphabet: bool = False
    text_paths: tuple[str, ...] = ()
    tokens: str | None = None
    level: str | None = None
    lines: bool = False

    def check(self) -> None:
        """Refuse options that contradict each other (no file is read).

        Raises:
            click.UsageError: more than one source; ``--level`` or ``--lines`` without ``--text``.
            click.BadParameter: a ``--text`` path with a NUL byte, or ``-`` twice.
        """
        given = [name for name, value in (("--alphabet", self.use_alphabet), ("--text", self.text_paths),
                                          ("--tokens", self.tokens)) if value is not None and value not in (False, ())]
        if len(given) > 1:
            raise click.UsageError(f"Give one data source, not {' and '.join(given)}.")
        if self.level is not None and not self.text_paths:
            raise click.UsageError("--level applies to --text only; --tokens are always split on whitespace.")
        if self.lines and not self.text_paths:
            raise click.UsageError("--lines applies to --text only: it makes each line of the text a document.")
        if self.text_paths.count("-") > 1:
            raise click.BadParameter("'-' (standard input) can be read once.", param_hint="'--text'")
        for path in self.text_paths:
            check_path_text("--text", path)

    def files(self) -> list[Path]:
        """The text files to read, folders listed (not read); ``-`` is left out.

        Raises:
            seqkit.errors.DataError: a folder holds no file to read.
        """
        files: list[Path] = []
        for text_path in self.text_paths:
            path = Path(text_path)
            if text_path != "-" and path.is_dir():
                files += folder_documents(path)
            elif text_path != "-":
                files.append(path)
        return files

    def inputs(self) -> list[Input]:
        """Every file and folder read, which no output may replace."""
        folders = [Input("--text", Path(path)) for path in self.text_paths if path != "-" and Path(path).is_dir()]
        return folders + [Input("--text", path) for path in self.files()]

    def load(self, default_level: str = "char", vocabulary: Any = None) -> Corpus:
        """The corpus (the alphabet when no source is given).

        Args:
            default_level: the level of ``--text`` when ``--level`` is not given. Defaults to ``char``.
            vocabulary: a model's vocabulary; a subword one splits ``--text`` at its level
                (``bpe``, ``unigram``). Defaults to None.

        Raises:
            seqkit.errors.DataError: a file is missing, unreadable, not UTF-8 or empty.
            click.UsageError: a subword level without a subword vocabulary of that level.
        """
        from seqkit.datasets import Corpus, alphabet, load_text
        from seqkit.subword import SubwordVocabulary

        level: Any = self.level or default_level
        if self.tokens is not None:
            return Corpus.from_tokens(self.tokens.split(), level="word", name="tokens")
        if not self.text_paths:
            return alphabet()
        subword = vocabulary if level in SUBWORD_LEVEL_NAMES else None
        if subword is not None and not (isinstance(subword, SubwordVocabulary) and subword.level == level):
            subword = None
        if level in SUBWORD_LEVEL_NAMES and subword is None:
            raise click.UsageError(
                f"--level {level} splits --text with a trained {level} tokenizer, which only a {level} model has; "
                "use --level char or word here."
            )
        if len(self.text_paths) == 1 and not self.lines:
            [text_path] = self.text_paths
            if text_path == "-":
                return Corpus.from_text(read_stdin(), level=level, name="stdin", vocabulary=subword)
            if not Path(text_path).is_dir():
                return load_text(text_path, level=level, vocabulary=subword)
        return Corpus.from_sequences(self._documents(level), level=level, name=self._name(), vocabulary=subword)

    def _documents(self, level: str) -> list[str]:
        from seqkit.files import read_text

        texts: list[str] = []
        for text_path in self.text_paths:
            if text_path == "-":
                texts.append(read_stdin())
            elif Path(text_path).is_dir():
                texts += [read_text(path) for path in folder_documents(Path(text_path))]
            else:
                texts.append(read_text(text_path))
        documents = [line for text in texts for line in text.splitlines()] if self.lines else texts
        return [document for document in documents if (document.split() if level == "word" else document)]

    def _name(self) -> str:
        names = ["stdin" if path == "-" else Path(path).name or path for path in self.text_paths]
        return names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"


def folder_documents(folder: Path) -> list[Path]:
    """The documents of a ``--text`` folder: its regular files, not hidden, sorted by name.

    Subfolders, hidden files and anything that is not a regular file (a FIFO, a
    device) are left out.

    Raises:
        seqkit.errors.DataError: the folder holds no such file, or cannot be listed.
    """
    from seqkit.errors import DataError

    try:
        entries = sorted(folder.iterdir())
    except OSError as error:
        raise DataError(f"Folder '{terminal_safe(str(folder))}' cannot be listed: {error.strerror}.") from None
    files = [entry for entry in entries if not entry.name.startswith(".") and entry.is_file()]
    if not files:
        raise DataError(
            f"Folder '{terminal_safe(str(folder))}' holds no text files; put one document per file in it, "
            "or give a file."
        )
    return files


def data_options(function: F) -> F:
    """``--alphabet`` / ``--text FILE|DIR`` (repeatable; ``-`` for stdin) / ``--tokens "..."``, ``--level``
    and ``--lines``; the command receives them as one :class:`DataSource`, ``data``."""

    @click.option("--alphabet", "use_alphabet", is_flag=True, help="Use the 26 letters A-Z (the default data).")
    @click.option(
        "--text", "text_paths", metavar="FILE|DIR", multiple=True,
        help="A UTF-8 text file to learn from; '-' reads standard input. Repeat it, or give a folder "
             "(every file in it), for several documents.",
    )
    @click.option("--tokens", metavar='"T1 T2 ..."', help='Whitespace-separated tokens, e.g. --tokens "C D E F G A B".')
    @click.option("--level", type=click.Choice(LEVEL_NAMES), default=None,
                  help="Split --text into characters, words, or subword pieces (bpe, unigram: a trained "
                       "tokenizer's). [default: char]")
    @click.option("--lines", is_flag=True, help="Each line of --text is a document.")
    @functools.wraps(function)
    def wrapper(
        *args: Any, use_alphabet: bool, text_paths: tuple[str, ...], tokens: str | None, level: str | None,
        lines: bool, **kwargs: Any,
    ) -> Any:
        data = DataSource(use_alphabet, tuple(text_paths), tokens, level, lines)
        return function(*args, data=data, **kwargs)

    return wrapper  # type: ignore[return-value]


def read_stdin() -> str:
    """Standard input as UTF-8 text (a byte-order mark dropped), with the same message as a non-UTF-8 file."""
    from seqkit.files import read_text_stream

    return read_text_stream(click.get_binary_stream("stdin"))


def split_context(text: str, level: str, vocabulary: Any = None) -> list[str]:
    """A command-line context (``predict``, ``generate --prime``) as tokens at the model's level.

    A subword model's context is split by its own tokenizer: pass its ``vocabulary``.
    """
    if level in SUBWORD_LEVEL_NAMES:
        return list(vocabulary.split(text))
    return list(text) if level == "char" else text.split()


# Bundles ----------------------------------------------------------------------------
def bundle_argument(function: F) -> F:
    """The ``BUNDLE`` argument: a file written by ``seqkit train --out`` (checked when loaded)."""
    return click.argument("bundle", metavar="BUNDLE", type=PathType(path_type=str))(function)


def model_level(model: Any) -> str:
    """The tokenization level a model was trained at: its subword vocabulary's, else its record's (``char`` if unknown)."""
    from seqkit.subword import SubwordVocabulary

    if isinstance(model.vocabulary, SubwordVocabulary):
        return model.vocabulary.level
    corpus = model.spec.get("corpus") if isinstance(model.spec, dict) else None
    level = corpus.get("level") if isinstance(corpus, dict) else None
    return level if level in LEVEL_NAMES else "char"


def open_bundle(path: str, ui: UI | None = None) -> Any:
    """Load a bundle; a missing, foreign or corrupted file raises ModelFileError (exit 1).

    A bundle written by a newer seqkit loads with a one-line note (``ui.note``: hidden by
    ``--json`` and ``--quiet``) instead of Python's two-line warning.
    """
    import warnings

    from seqkit.bundle import NewerBundleWarning
    from seqkit.sequence_model import SequenceModel

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NewerBundleWarning)
        model = SequenceModel.load(path)
    for warning in caught:
        if issubclass(warning.category, NewerBundleWarning):
            if ui is not None:
                ui.note(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model
