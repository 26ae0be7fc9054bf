"""Parameter checks shared by every module: one place, one message shape.

Each check returns the value converted to its plain Python type, or raises the
:class:`~seqkit.errors.ConfigurationError` built by
:func:`~seqkit.errors.parameter_error` (*"The 'units' parameter of StatefulTrainer
must be an int >= 1. Got 0 instead."*). A ``bool`` is never an int here, and a float
must be finite.

>>> check_int("StatefulTrainer", "units", 50)
50
>>> check_int("StatefulTrainer", "units", True)
Traceback (most recent call last):
...
seqkit.errors.ConfigurationError: The 'units' parameter of StatefulTrainer must be an int >= 1. Got True instead.
>>> check_float("Trainer", "dropout", 0.5, low=0.0, high=1.0, high_inclusive=False)
0.5
"""

from __future__ import annotations

import math
import numbers

from seqkit.errors import parameter_error

__all__ = ["check_bool", "check_float", "check_int", "check_optional_int", "is_int"]


def is_int(value: object) -> bool:
    """True for a Python or NumPy integer that is not a bool.

    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(owner: str, name: str, value: object, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]``, else the one-shape error.

    Args:
        owner: the class or function that owns the parameter, for the message.
        name: the parameter's name.
        value: what was given.
        minimum: the smallest value allowed. Defaults to 1.
        maximum: the largest value allowed. Defaults to None (no bound).

    >>> check_int("EpochPlan", "steps", 0, minimum=0)
    0
    >>> check_int("Trainer", "seed", 2**32, minimum=0, maximum=2**32 - 1)
    Traceback (most recent call last):
    ...
    seqkit.errors.ConfigurationError: The 'seed' parameter of Trainer must be an int in [0, 4294967295]. Got 4294967296 instead.
    """
    expected = f"an int >= {minimum}" if maximum is None else f"an int in [{minimum}, {maximum}]"
    if not is_int(value) or value < minimum or (maximum is not None and value > maximum):  # type: ignore[operator]
        raise parameter_error(owner, name, expected, value)
    return int(value)  # type: ignore[arg-type]


def check_optional_int(owner: str, name: str, value: object, minimum: int = 1) -> int | None:
    """None, or ``value`` as an int >= ``minimum``.

    >>> check_optional_int("TrainingLoop.evaluate", "batch_size", None) is None
    True
    """
    if value is None:
        return None
    if not is_int(value) or value < minimum:  # type: ignore[operator]
        raise parameter_error(owner, name, f"None or an int >= {minimum}", value)
    return int(value)  # type: ignore[arg-type]


def check_float(
    owner: str,
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """``value`` as a finite float within the bounds, else the one-shape error.

    ``low=0.0, low_inclusive=False`` reads "a float > 0"; both bounds read
    "a float in [low, high)" and so on.

    >>> check_float("Trainer", "learning_rate", 0.01, low=0.0, low_inclusive=False)
    0.01
    >>> check_float("Trainer", "learning_rate", float("inf"), low=0.0, low_inclusive=False)
    Traceback (most recent call last):
    ...
    seqkit.errors.ConfigurationError: The 'learning_rate' parameter of Trainer must be a finite float > 0. Got inf instead.
    """
    if low is not None and high is not None:
        expected = f"a float in {'[' if low_inclusive else '('}{low:g}, {high:g}{']' if high_inclusive else ')'}"
    elif low is not None:
        expected = f"a finite float {'>=' if low_inclusive else '>'} {low:g}"
    elif high is not None:
        expected = f"a finite float {'<=' if high_inclusive else '<'} {high:g}"
    else:
        expected = "a finite float"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise parameter_error(owner, name, expected, value)
    number = float(value)
    if low is not None and (number < low or (number == low and not low_inclusive)):
        raise parameter_error(owner, name, expected, value)
    if high is not None and (number > high or (number == high and not high_inclusive)):
        raise parameter_error(owner, name, expected, value)
    return number


def check_bool(owner: str, name: str, value: object) -> bool:
    """``value`` if it is True or False, else the one-shape error.

    >>> check_bool("StatelessTrainer", "shuffle", "yes")
    Traceback (most recent call last):
    ...
    seqkit.errors.ConfigurationError: The 'shuffle' parameter of StatelessTrainer must be True or False. Got 'yes' instead.
    """
    if not isinstance(value, bool):
        raise parameter_error(owner, name, "True or False", value)
    return value
