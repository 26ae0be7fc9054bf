"""The command boundary: library errors become one-line CLI errors.

Every seqkit command is a :class:`SeqkitCommand`. Its :meth:`~SeqkitCommand.invoke`
turns what the library raises on purpose (:class:`seqkit.errors.SeqkitError`), an
``OSError`` (a full disk, a read-only folder) and a TensorFlow I/O error into a
:class:`click.ClickException` — ``Error: <message>`` on standard error, exit
status 1, no traceback — and Ctrl-C or ``SIGTERM`` into :class:`Interrupted`
(exit 130 or 143). Anything else is a bug and keeps its traceback. Messages are
made one line and :func:`~cli.render.terminal_safe`, so text from a file cannot
drive the terminal.

Exit statuses follow click: 0 success, 1 a failure about the data or a file,
2 a usage error about the command line itself, 130 interrupted (Ctrl-C),
143 terminated (``SIGTERM``).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from .render import terminal_safe

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


_signalled: list[int] = []
"""The stop signals received while the command runs (see :func:`raise_if_signalled`)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    _signalled.append(signum)
    raise Terminated()


def _raise_interrupted(signum: int, frame: Any) -> None:
    _signalled.append(signum)
    raise KeyboardInterrupt()


def raise_if_signalled() -> None:
    """Raise the interrupt again if a stop signal arrived and was lost on the way.

    The exception a signal handler raises surfaces wherever the main thread is when the
    signal arrives, and code outside seqkit can swallow it: with standard input at
    ``/dev/null`` (as under pytest) a Ctrl-C in the middle of training went unnoticed about
    one time in four, and the code that swallows it was not found. The handlers also
    record the signal, and the progress callback calls this after every epoch, so
    training stops at the next epoch boundary at the latest.
    """
    if _signalled:
        signum = _signalled[-1]
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def checked(function: Callable[[int, dict[str, float]], None]) -> Callable[[int, dict[str, float]], None]:
    """``function`` (an epoch-end callback), then :func:`raise_if_signalled`."""

    def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
        function(epoch, logs)
        raise_if_signalled()

    return on_epoch_end


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the command runs, ``SIGTERM`` raises :class:`Terminated` (a ``KeyboardInterrupt``).

    So ``kill PID`` stops a training as Ctrl-C does: the same message, the same
    ``--resume`` hint, and nothing half-written. Ctrl-C (``SIGINT``) raises
    ``KeyboardInterrupt`` as Python's own handler does; both are also recorded for
    :func:`raise_if_signalled`. Only the main thread can install a handler; elsewhere (a
    test runner's thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _signalled.clear()
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    previous_interrupt = signal.getsignal(signal.SIGINT)
    if previous_interrupt is signal.default_int_handler:  # Python's own: replace it; an ignored or custom one stays
        signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if previous_interrupt is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_interrupt)
        _signalled.clear()


def as_click_exception(error: BaseException) -> click.ClickException | None:
    """The CLI error for a library, file-system or TensorFlow error; None for anything else (a bug).

    The message is made one line and terminal-safe (:func:`terminal_line`).
    """
    errors = sys.modules.get("seqkit.errors")  # not imported yet: cannot be seqkit's error
    if errors is not None and isinstance(error, errors.SeqkitError):
        return click.ClickException(terminal_line(str(error)))
    if isinstance(error, OSError):
        return click.ClickException(terminal_line(describe_os_error(error)))
    tensorflow = sys.modules.get("tensorflow")  # not imported yet: cannot be TensorFlow's error
    op_error = getattr(getattr(tensorflow, "errors", None), "OpError", None)
    if op_error is not None and isinstance(error, op_error):
        return click.ClickException(terminal_line(f"TensorFlow could not complete the operation: {error.message}"))
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


def terminal_line(message: str) -> str:
    """``message`` on one line, with control characters escaped.

    >>> terminal_line("two\\n   lines")
    'two lines'
    """
    return terminal_safe(" ".join(message.split()))


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
