"""Output: where results, progress and notes go, and how they look.

Results go to standard output, progress and notes to standard error, so
``seqkit train ... > summary.txt`` keeps the summary and shows the bar.
``--json`` prints exactly one JSON document on standard output and nothing
else; ``--quiet`` hides progress and notes. The consoles are injected: tests
pass ``Consoles(out=Console(file=StringIO(), width=100), ...)`` as click's
``obj`` and read exactly what a user would see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import click
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table


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
            self.err.print(message, style="dim", highlight=False)

    def emit_json(self, document: Any) -> None:
        """Write ``document`` as the one JSON document of this invocation (``--json`` only)."""
        if self.as_json:
            self.out.file.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
            self.out.file.flush()

    @contextmanager
    def progress(self) -> Iterator[EpochProgress]:
        """A live epoch progress display on standard error (a silent one when not chatty)."""
        if not self.chatty:
            yield EpochProgress(None)
            return
        display = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("epoch"),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("acc {task.fields[accuracy]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.err,
        )
        with display:
            yield EpochProgress(display)


class EpochProgress:
    """Feeds a rich :class:`~rich.progress.Progress` from training callbacks.

    ``track(name, epochs)`` returns a function ``(epoch, logs)`` for
    :class:`seqkit.callbacks.EpochEnd`. It also counts the epochs done, so an
    interrupted command can say how far it got, even when nothing is displayed.
    """

    def __init__(self, display: Progress | None) -> None:
        self.display = display
        self.completed = 0
        self._task: TaskID | None = None

    def track(self, description: str, epochs: int) -> Callable[[int, dict[str, float]], None]:
        self.completed = 0
        if self.display is not None:
            self._task = self.display.add_task(escape(description), total=epochs, loss="-", accuracy="-")

        def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
            self.completed = epoch + 1
            if self.display is not None and self._task is not None:
                self.display.update(
                    self._task,
                    completed=epoch + 1,
                    loss=f"{logs.get('loss', float('nan')):.4f}",
                    accuracy=percent(logs.get("accuracy", float("nan"))),
                )

        return on_epoch_end

    def finish(self) -> None:
        """Mark the current task done (training may stop early, e.g. ``--until-accuracy``)."""
        if self.display is not None and self._task is not None:
            self.display.update(self._task, total=max(self.completed, 1), completed=max(self.completed, 1))


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


def join_tokens(tokens: Sequence[str], level: str) -> str:
    """Tokens as text: characters joined as they are, words with spaces."""
    return "".join(tokens) if level == "char" else " ".join(tokens)


def key_value_table(title: str, rows: Sequence[tuple[str, Any]]) -> Table:
    """A two-column table of labels and values (summaries, ``inspect``)."""
    table = Table(title=title, show_header=False, title_justify="left", title_style="bold")
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, value if isinstance(value, Table) else escape(str(value)))
    return table


