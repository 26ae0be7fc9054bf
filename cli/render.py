"""Output: where results, progress and notes go, and how they look.

Results go to standard output, progress and notes to standard error, so
``seqkit train ... > summary.txt`` keeps the summary and shows the bar.
``--json`` prints exactly one JSON document on standard output and nothing
else (RFC 8259 JSON: a NaN or infinite number becomes ``null``); ``--quiet``
hides progress and notes. The consoles are injected: tests pass
``Consoles(out=Console(file=StringIO(), width=100), ...)`` as click's ``obj``
and read exactly what a user would see.

Text that comes from the user's data (tokens, file names, generated text) goes
through :func:`terminal_safe` before it is shown, so a token holding ``ESC]0;...``
cannot retitle or clear the terminal: control characters are shown escaped.

Progress: on a terminal, a live rich bar that keeps the epoch count and ETA at
80 columns (the bar goes first); elsewhere (a log file, CI), a plain line every
:data:`PLAIN_PROGRESS_SECONDS` seconds.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table

PLAIN_PROGRESS_SECONDS = 5.0
"""When standard error is not a terminal, a progress line at most this often (and at the end)."""

NARROW = 110
"""Below this terminal width the progress display drops its bar, keeping the epoch count and ETA."""


# Text from the user's data ------------------------------------------------------------
def terminal_safe(text: str, *, keep_layout: bool = False) -> str:
    r"""``text`` with every non-printable character escaped, as Python writes it.

    Control characters (ESC, BEL, CR, DEL, the C1 controls), bidirectional
    overrides and other invisible characters become ``\x1b``, ``\u202e``...;
    ordinary text, spaces and non-ASCII letters are kept. With ``keep_layout``,
    newlines and tabs are kept too (generated text). A backslash is kept as is.

    >>> print(terminal_safe("A" + chr(27) + "]0;pwned" + chr(7) + "B"))
    A\x1b]0;pwned\x07B
    >>> print(terminal_safe("one\ttwo"), terminal_safe("C\u202eD"), terminal_safe("café ♪"))
    one\ttwo C\u202eD café ♪
    >>> terminal_safe("one\ttwo\n", keep_layout=True) == "one\ttwo\n"
    True
    """
    if text.isprintable():
        return text
    return "".join(_escape_character(ch, keep_layout) for ch in text)


def _escape_character(ch: str, keep_layout: bool) -> str:
    if ch.isprintable() or (keep_layout and ch in "\n\t"):
        return ch
    number = ord(ch)
    if number < 0x80:
        return ch.encode("unicode_escape").decode("ascii")  # \n, \t, \r, \x1b, \x7f
    if number <= 0xFF:
        return f"\\x{number:02x}"
    return f"\\u{number:04x}" if number <= 0xFFFF else f"\\U{number:08x}"


# JSON ---------------------------------------------------------------------------------
def json_ready(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None, and NumPy scalars as Python's.

    >>> json_ready({"loss": float("nan"), "history": (0.5, float("inf")), "n": 3})
    {'loss': None, 'history': [0.5, None], 'n': 3}
    """
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    item = getattr(value, "item", None)  # a NumPy scalar
    if callable(item):
        return json_ready(item())
    return value


_INVISIBLE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
"""What json leaves raw but a terminal may act on: DEL, the C1 controls, invisible formatting."""


def to_json(document: Any) -> str:
    r"""``document`` as RFC 8259 JSON: no NaN or Infinity, and no raw control character.

    json escapes the C0 controls itself; DEL, the C1 controls and invisible
    formatting characters are escaped here too, so the text is safe on a terminal.

    >>> print(to_json({"token": chr(0x9b) + "2J", "loss": float("nan")}))
    {
      "token": "\u009b2J",
      "loss": null
    }
    """
    text = json.dumps(json_ready(document), ensure_ascii=False, indent=2, allow_nan=False)
    return _INVISIBLE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


@dataclass
class Consoles:
    """The two rich consoles a command writes to.

    Attributes:
        out: results (standard output).
        err: progress and notes (standard error).
    """

    out: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))


@dataclass
class UI:
    """What one command invocation prints, given its ``--json`` and ``--quiet`` flags."""

    consoles: Consoles
    as_json: bool = False
    quiet: bool = False

    @property
    def out(self) -> Console:
        return self.consoles.out

    @property
    def err(self) -> Console:
        return self.consoles.err

    @property
    def chatty(self) -> bool:
        """Whether progress and notes are shown (neither ``--json`` nor ``--quiet``)."""
        return not (self.as_json or self.quiet)

    def result(self, *renderables: RenderableType) -> None:
        """Print results on standard output (not in ``--json`` mode)."""
        if not self.as_json:
            for renderable in renderables:
                self.out.print(renderable)

    def note(self, message: str) -> None:
        """A hint or status line on standard error, hidden by ``--quiet`` and ``--json``."""
        if self.chatty:
            self.err.print(terminal_safe(message), style="dim", highlight=False, markup=False)

    def emit_json(self, document: Any) -> None:
        """Write ``document`` as the one JSON document of this invocation (``--json`` only)."""
        if self.as_json:
            self.out.file.write(to_json(document) + "\n")
            self.out.file.flush()

    @contextmanager
    def progress(self) -> Iterator[EpochProgress]:
        """Epoch progress on standard error: a live bar on a terminal, else plain lines; none when not chatty."""
        if not self.chatty:
            yield EpochProgress(None)
        elif self.err.is_terminal:
            bar = LiveBar(self.err)
            with bar.display:
                yield EpochProgress(bar)
        else:
            yield EpochProgress(PlainLines(self.err))


def json_error(message: str, exit_code: int) -> str:
    """The JSON document ``--json`` prints on standard output when a command fails.

    >>> print(json_error("Give one data source, not --alphabet and --tokens.", 2))
    {
      "error": {
        "message": "Give one data source, not --alphabet and --tokens.",
        "exit_code": 2
      }
    }
    """
    return to_json({"error": {"message": message, "exit_code": exit_code}})


# Progress -----------------------------------------------------------------------------
class ProgressDisplay(Protocol):
    """Where epoch progress goes: a live bar, plain lines, or (None) nowhere."""

    def start(self, description: str, total: int) -> None: ...

    def update(
        self, completed: int, loss: float | None, accuracy: float | None, val_loss: float | None = None
    ) -> None: ...

    def finish(self, completed: int) -> None: ...


def progress_columns(width: int) -> list[ProgressColumn]:
    """The live display's columns for a terminal ``width`` wide.

    The epoch count, loss, accuracy and ETA are never cut: the bar is left out
    below :data:`NARROW` columns, the elapsed time below 72, and :class:`LiveBar`
    shortens the description to the room that is left.
    """

    def fixed(text: str) -> TextColumn:
        return TextColumn(text, table_column=Column(no_wrap=True))

    columns: list[ProgressColumn] = [SpinnerColumn(), fixed("[bold]{task.description}")]
    if width >= NARROW:
        columns.append(BarColumn(bar_width=24))
    columns += [
        fixed("epoch"),
        MofNCompleteColumn(table_column=Column(no_wrap=True)),
        fixed("loss {task.fields[loss]}"),
        fixed("acc {task.fields[accuracy]}"),
    ]
    if width >= 72:
        columns.append(TimeElapsedColumn(table_column=Column(no_wrap=True)))
    return columns + [fixed("ETA"), TimeRemainingColumn(table_column=Column(no_wrap=True))]


def fit_description(description: str, width: int, total: int) -> str:
    """``description`` cut (with ``…``) so that the progress line fits ``width`` columns.

    >>> fit_description("stateless on alphabet", 120, 500)
    'stateless on alphabet'
    >>> fit_description("stateless on alphabet", 80, 500)
    'stateless on alpha…'
    """
    digits = len(str(total))
    # spinner, "epoch", "N/N", "loss 0.1234", "acc 100.00%", "ETA", "0:00:00"; a space between columns
    used, columns = 1 + 5 + (2 * digits + 1) + 11 + 11 + 3 + 7, 8
    if width >= NARROW:
        used, columns = used + 24, columns + 1
    if width >= 72:
        used, columns = used + 7, columns + 1
    room = max(width - used - (columns - 1) - 1, 6)
    return description if len(description) <= room else description[: room - 1] + "…"


class LiveBar:
    """A rich live progress display on a terminal."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.display = Progress(*progress_columns(console.width), console=console)
        self._task: TaskID | None = None

    def start(self, description: str, total: int) -> None:
        shown = fit_description(description, self.console.width, total)
        self._task = self.display.add_task(escape(shown), total=total, loss="-", accuracy="-")

    def update(
        self, completed: int, loss: float | None, accuracy: float | None, val_loss: float | None = None
    ) -> None:
        if self._task is not None:
            self.display.update(
                self._task, completed=completed, loss=_loss(loss, val_loss), accuracy=percent(accuracy)
            )

    def finish(self, completed: int) -> None:
        if self._task is not None:
            self.display.update(self._task, total=max(completed, 1), completed=max(completed, 1))


class PlainLines:
    """Progress as plain lines, for a standard error that is a file or a pipe.

    One line after the first epoch, then at most one every ``interval`` seconds,
    and one at the end: ``alphabet: epoch 120/500 loss 0.1234 acc 84.00% elapsed
    0:00:05 ETA 0:00:12``. The ETA is measured from the epochs after the first line
    (compilation left out); until there are any, it is estimated from the time
    elapsed so far and marked ``~`` (``ETA ~0:08:43``): it includes the start-up,
    so it errs high. The clock is injected for tests.
    """

    def __init__(
        self, console: Console, *, interval: float = PLAIN_PROGRESS_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.console = console
        self.interval = interval
        self.clock = clock
        self._description = ""
        self._total = 0
        self._started = 0.0
        self._first: int | None = None
        self._first_time = 0.0
        self._last_line: float | None = None
        self._shown: int | None = None
        self._latest: tuple[int, float | None, float | None, float | None] = (0, None, None, None)

    def start(self, description: str, total: int) -> None:
        self._description, self._total, self._started = description, total, self.clock()
        self._first = self._last_line = self._shown = None

    def update(
        self, completed: int, loss: float | None, accuracy: float | None, val_loss: float | None = None
    ) -> None:
        now = self.clock()
        if self._first is None:
            self._first, self._first_time = completed, now  # the rate is measured from here (after compiling)
        self._latest = (completed, loss, accuracy, val_loss)
        if self._last_line is None or now - self._last_line >= self.interval:
            self._write(now)

    def finish(self, completed: int) -> None:
        if self._first is not None and self._shown != self._latest[0]:
            self._write(self.clock())

    def _write(self, now: float) -> None:
        completed, loss, accuracy, val_loss = self._latest
        done, spent = completed - (self._first or 0), now - self._first_time
        eta = estimated_time(completed, self._total, done, spent, now - self._started)
        self.console.print(
            f"{self._description}: epoch {completed}/{self._total} loss {_loss(loss, val_loss)} acc {percent(accuracy)} "
            f"elapsed {clock_time(now - self._started)} ETA {eta}",
            markup=False, highlight=False, soft_wrap=True,
        )
        self.console.file.flush()
        self._last_line, self._shown = now, completed


def estimated_time(completed: int, total: int, measured: int, measured_seconds: float, elapsed: float) -> str:
    """The time left for ``total - completed`` epochs, as :class:`PlainLines` shows it.

    From ``measured`` epochs that took ``measured_seconds`` when there are any; else from
    the ``elapsed`` time of the ``completed`` epochs, start-up included, marked ``~``.

    >>> estimated_time(101, 500, 100, 5.0, 6.05)
    '0:00:19'
    >>> estimated_time(1, 500, 0, 0.0, 1.05)
    '~0:08:43'
    >>> estimated_time(1, 1, 0, 0.0, 1.05), estimated_time(0, 10, 0, 0.0, 0.0)
    ('0:00:00', '-:--:--')
    """
    remaining = max(total - completed, 0)
    if remaining == 0:
        return clock_time(0)
    if measured > 0 and measured_seconds > 0:
        return clock_time(measured_seconds / measured * remaining)
    if completed > 0 and elapsed > 0:
        return "~" + clock_time(elapsed / completed * remaining)
    return clock_time(math.inf)


class EpochProgress:
    """Feeds a :class:`ProgressDisplay` from training callbacks.

    ``track(name, epochs)`` returns a function ``(epoch, logs)`` for
    :class:`seqkit.callbacks.EpochEnd`. It also counts the epochs done, so an
    interrupted command can say how far it got, even when nothing is displayed.
    """

    def __init__(self, display: ProgressDisplay | None) -> None:
        self.display = display
        self.completed = 0

    def track(self, description: str, epochs: int) -> Callable[[int, dict[str, float]], None]:
        self.completed = 0
        if self.display is not None:
            self.display.start(terminal_safe(description), epochs)

        def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
            self.completed = epoch + 1
            if self.display is not None:
                self.display.update(epoch + 1, logs.get("loss"), logs.get("accuracy"), logs.get("val_loss"))

        return on_epoch_end

    def finish(self) -> None:
        """Mark the current task done (training may stop early, e.g. ``--until-accuracy``)."""
        if self.display is not None:
            self.display.finish(self.completed)


def _loss(loss: float | None, val_loss: float | None = None) -> str:
    """``0.1234``, and ``0.1234 val 0.2345`` when the epoch was scored on held-out data."""
    shown = "-" if loss is None else f"{loss:.4f}"
    return shown if val_loss is None else f"{shown} val {val_loss:.4f}"


# Formatting -------------------------------------------------------------------------
def percent(fraction: float | None) -> str:
    """``0.8696`` -> ``'86.96%'``; None -> ``'-'``."""
    return "-" if fraction is None else f"{100.0 * fraction:.2f}%"


def duration(seconds: float) -> str:
    """Seconds as a short human duration: ``'0.8 s'``, ``'42.0 s'``, ``'3 min 05 s'``, ``'1 h 02 min'``.

    >>> duration(0.84), duration(185), duration(3725)
    ('0.8 s', '3 min 05 s', '1 h 02 min')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def clock_time(seconds: float) -> str:
    """Seconds as ``H:MM:SS``, as rich's progress columns show time.

    >>> clock_time(12.4), clock_time(3725)
    ('0:00:12', '1:02:05')
    """
    if not math.isfinite(seconds):
        return "-:--:--"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}"


def data_size(size: int) -> str:
    """A number of bytes in decimal units: ``'800.0 MB'``, ``'257.7 GB'``.

    >>> data_size(512), data_size(800_000_000), data_size(257_714_291_104), data_size(3 * 10**15)
    ('512 bytes', '800.0 MB', '257.7 GB', '3000.0 TB')
    """
    if size < 1000:
        return f"{size} bytes"
    for power, unit in enumerate(("kB", "MB", "GB"), start=1):
        if size / 1000**power < 999.95:
            return f"{size / 1000**power:.1f} {unit}"
    return f"{size / 1000**4:.1f} TB"


VISIBLE_WHITESPACE = {" ": "\u2420", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
"""How a table cell shows whitespace inside a token: a space as ``␠`` (U+2420), a newline, a tab and a
carriage return as ``\\n``, ``\\t`` and ``\\r``."""


def visible_token(token: str) -> str:
    r"""A token as a table cell shows it: whitespace made visible, control characters escaped.

    A space becomes ``␠``, a newline ``\n`` and a tab ``\t``; anything else
    non-printable is escaped as :func:`terminal_safe` does. Generated text keeps
    its layout instead (``terminal_safe(text, keep_layout=True)``): only tokens
    shown one by one, in a cell of their own, go through here.

    >>> print(visible_token(" "), visible_token("\n"), visible_token("\t"), visible_token(" the"))
    ␠ \n \t ␠the
    >>> print(visible_token("A"), visible_token(chr(27) + "[2J"))
    A \x1b[2J
    """
    return terminal_safe("".join(VISIBLE_WHITESPACE.get(character, character) for character in token))


def visible_tokens(tokens: Sequence[str], level: str, vocabulary: Any = None) -> str:
    r"""Tokens as one table cell: words joined by spaces, each :func:`visible_token`; characters and
    subword pieces joined as text (:func:`join_tokens`), their whitespace made visible.

    >>> print(visible_tokens(["a", " ", "b", "\n"], "char"), visible_tokens(["to", "be"], "word"))
    a␠b\n to be
    """
    if level == "word":
        return " ".join(visible_token(token) for token in tokens)
    return visible_token(join_tokens(tokens, level, vocabulary))


def cell(text: str) -> str:
    r"""Text from the user's data for a table cell or title: :func:`terminal_safe`, rich markup escaped.

    >>> print(cell("[red]" + chr(27) + "[2J"))
    \[red]\x1b[2J
    """
    return escape(terminal_safe(text))


def join_tokens(tokens: Sequence[str], level: str, vocabulary: Any = None) -> str:
    """Tokens as text: characters joined as they are, words with spaces, subword pieces by ``vocabulary.join``.

    Args:
        tokens: the tokens.
        level: ``char``, ``word``, or a subword level (``bpe``, ``unigram``).
        vocabulary: the model's vocabulary; needed at a subword level. Defaults to None.
    """
    if level == "char":
        return "".join(tokens)
    if level == "word":
        return " ".join(tokens)
    if vocabulary is None:
        raise TypeError(f"join_tokens needs the model's vocabulary to join {level} pieces; pass vocabulary=.")
    return str(vocabulary.join(tokens))


def key_value_table(title: str, rows: Sequence[tuple[str, Any]]) -> Table:
    """A two-column table of labels and values (summaries, ``inspect``)."""
    table = Table(title=title, show_header=False, title_justify="left", title_style="bold")
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(cell(label), value if isinstance(value, Table) else cell(str(value)))
    return table


