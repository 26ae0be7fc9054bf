"""The command boundary: library errors become one-line CLI errors.

Every seqkit command is a :class:`SeqkitCommand`. Its :meth:`~SeqkitCommand.invoke`
turns what the library raises on purpose (:class:`seqkit.errors.SeqkitError`), an
``OSError`` (a full disk, a read-only folder) and a TensorFlow I/O error into a
:class:`click.ClickException` — ``Error: <message>`` on standard error, exit
status 1, no traceback — and Ctrl-C or ``SIGTERM`` into :class:`Interrupted`
(exit 130 or 143). Anything else is a bug and keeps its traceback. Messages are
made one line and :func:`~cli.render.printable`, so text from a file cannot
drive the terminal.

Exit statuses follow click: 0 success, 1 a failure about the data or a file,
2 a usage error about the command line itself, 130 interrupted (Ctrl-C),
143 terminated (``SIGTERM``).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from .render import printable

INTERRUPTED_EXIT_CODE = 130
"""128 + SIGINT, as shells report a process stopped by Ctrl-C."""

TERMINATED_EXIT_CODE = 143
"""128 + SIGTERM, as shells report a process stopped by ``kill``."""


class Terminated(KeyboardInterrupt):
    """``SIGTERM`` arrived: stop as Ctrl-C stops, with exit status 143."""


def interrupt_exit_code(interrupt: BaseException) -> int:
    """143 for ``SIGTERM`` (:class:`Terminated`), 130 for Ctrl-C."""
    return TERMINATED_EXIT_CODE if isinstance(interrupt, Terminated) else INTERRUPTED_EXIT_CODE


class Interrupted(click.ClickException):
    """The user pressed Ctrl-C (or the process got ``SIGTERM``); the message says what was kept."""

    def __init__(self, message: str, exit_code: int = INTERRUPTED_EXIT_CODE) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def format_message(self) -> str:
        return self.message

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the command runs, ``SIGTERM`` raises :class:`Terminated` (a ``KeyboardInterrupt``).

    So ``kill PID`` stops a training as Ctrl-C does: the same message, the same
    ``--resume`` hint, and nothing half-written. Only the main thread can install
    a handler; elsewhere (a test runner's thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def as_click_exception(error: BaseException) -> click.ClickException | None:
    """The CLI error for a library, file-system or TensorFlow error; None for anything else (a bug).

    The message is made one line and printable.
    """
    errors = sys.modules.get("seqkit.errors")  # not imported yet: cannot be seqkit's error
    if errors is not None and isinstance(error, errors.SeqkitError):
        return click.ClickException(one_line(str(error)))
    if isinstance(error, OSError):
        return click.ClickException(one_line(describe_os_error(error)))
    tensorflow = sys.modules.get("tensorflow")  # not imported yet: cannot be TensorFlow's error
    op_error = getattr(getattr(tensorflow, "errors", None), "OpError", None)
    if op_error is not None and isinstance(error, op_error):
        return click.ClickException(one_line(f"TensorFlow could not complete the operation: {error.message}"))
    return None


def describe_os_error(error: OSError) -> str:
    """``Cannot write 'x': No space left on device.`` and the like, from an ``OSError``.

    >>> describe_os_error(PermissionError(13, "Permission denied", "/data/model.seqkit"))
    "Cannot use '/data/model.seqkit': Permission denied."
    >>> describe_os_error(OSError(28, "No space left on device"))
    'No space left on device.'
    """
    reason = error.strerror or str(error) or type(error).__name__
    if error.filename is None:
        return f"{reason}."
    return f"Cannot use '{error.filename}': {reason}."


def one_line(message: str) -> str:
    """``message`` on one line, with control characters escaped.

    >>> one_line("two\\n   lines")
    'two lines'
    """
    return printable(" ".join(message.split()))


class SeqkitCommand(click.Command):
    """A click command whose invocation is wrapped by the error boundary."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with sigterm_as_interrupt():
                return super().invoke(ctx)
        except KeyboardInterrupt as interrupt:
            raise Interrupted(
                "Interrupted: stopped before finishing; nothing was written.", interrupt_exit_code(interrupt)
            ) from None
        except click.ClickException:
            raise
        except Exception as error:
            converted = as_click_exception(error)
            if converted is None:
                raise
            raise converted from None
