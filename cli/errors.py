"""The command boundary: library errors become one-line CLI errors.

Every seqkit command is a :class:`SeqkitCommand`. Its :meth:`~SeqkitCommand.invoke`
turns what the library raises on purpose (:class:`seqkit.errors.SeqkitError`)
into a :class:`click.ClickException` — ``Error: <message>`` on standard error,
exit status 1, no traceback — and Ctrl-C into :class:`Interrupted` (exit 130).
Anything else is a bug and keeps its traceback.

Exit statuses follow click: 0 success, 1 a failure about the data or a file,
2 a usage error about the command line itself, 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import Any

import click

INTERRUPTED_EXIT_CODE = 130
"""128 + SIGINT, as shells report a process stopped by Ctrl-C."""


class Interrupted(click.ClickException):
    """The user pressed Ctrl-C; the message says what was kept."""

    exit_code = INTERRUPTED_EXIT_CODE

    def format_message(self) -> str:
        return self.message

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


def as_click_exception(error: BaseException) -> click.ClickException | None:
    """The CLI error for a library error, or None if ``error`` is not seqkit's.

    A SeqkitError's message is made one line (the library's are, this is a guard).
    """
    errors = sys.modules.get("seqkit.errors")  # not imported yet: cannot be seqkit's error
    if errors is None or not isinstance(error, errors.SeqkitError):
        return None
    return click.ClickException(" ".join(str(error).split()))


class SeqkitCommand(click.Command):
    """A click command whose invocation is wrapped by the error boundary."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("Interrupted: stopped before finishing; nothing was written.") from None
        except click.ClickException:
            raise
        except Exception as error:
            converted = as_click_exception(error)
            if converted is None:
                raise
            raise converted from None
