"""How a page's stated output is compared with what its code printed (``test_docs``, ``test_notebooks``).

A ```` ```text ```` block after a python block is that block's expected output. A
word after ``text`` in its fence says how it is compared:

- ```` ```text ````: like a doctest, with ``...`` matching anything. Every page
  states its outputs this way unless a long training run stands behind them.
- ```` ```text rounding ````: the numbers come from a training run long enough
  that their last digits depend on the CPU: float sums are added in another
  order on an AVX2 CPU than on an AVX-512 one, and a few hundred optimizer steps
  turn a difference in the seventh digit into one in the third. Each number may
  differ from the page's by one unit of its last written digit or by 1% of it,
  whichever is more; the words around them must match as in a ```` ```text ````
  block.
- ```` ```text sample ````: text that a trained model sampled. Which token a
  seeded draw picks flips when a probability moves by a rounding difference, so
  the block must print a sample (some output), and the page shows the one its
  recording machine drew. That a seed repeats its sample on one machine is
  asserted exactly elsewhere (``tests/test_sampling.py``, ``tests/test_generation.py``).
"""

from __future__ import annotations

import doctest
import re

CHECKS = ("exact", "rounding", "sample")
"""How an output block is compared: the word after ``text`` in its fence, ``exact`` when there is none."""

RELATIVE_TOLERANCE = 0.01
"""A number in a ``rounding`` block may differ from the page's by this fraction of it (or one last-digit unit)."""

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
"""A number as outputs print it: ``2.72``, ``-0.66``, ``328,169``, the ``53.4`` of ``53.4%``."""

_CHECKER = doctest.OutputChecker()


def fence_check(info: str) -> str:
    """The check that a ```` ```text ```` fence's words after ``text`` ask for.

    >>> fence_check(""), fence_check("rounding"), fence_check("sample")
    ('exact', 'rounding', 'sample')
    >>> fence_check("approximate")
    Traceback (most recent call last):
    ...
    ValueError: unknown output check 'approximate' after ```text: expected one of exact, rounding, sample
    """
    word = info.strip() or "exact"
    if word not in CHECKS:
        raise ValueError(f"unknown output check {word!r} after ```text: expected one of {', '.join(CHECKS)}")
    return word


def _value(number: str) -> float:
    return float(number.replace(",", ""))


def _unit(number: str) -> float:
    """One unit of the last written digit: 0.01 for ``2.72``, 1 for ``66``."""
    _, point, decimals = number.partition(".")
    return 10.0 ** -len(decimals) if point else 1.0


def close_enough(want: str, got: str) -> bool:
    """Whether the printed number ``got`` is the page's ``want`` up to rounding.

    >>> close_enough("53.4", "53.3"), close_enough("2.04", "2.00"), close_enough("2.72", "2.80")
    (True, False, False)
    >>> close_enough("6.58", "6.56"), close_enough("328,169", "328,169")
    (True, True)
    """
    tolerance = max(_unit(want), RELATIVE_TOLERANCE * abs(_value(want)))
    return abs(_value(want) - _value(got)) <= tolerance + 1e-12


def _with_page_numbers(want: str, got: str) -> str:
    """``got`` with each number close enough to the page's replaced by the page's (as pytest's NUMBER does)."""
    wanted, printed = NUMBER.findall(want), list(NUMBER.finditer(got))
    if len(wanted) != len(printed):
        return got
    pieces, end = [], 0
    for page_number, match in zip(wanted, printed, strict=True):
        pieces.append(got[end : match.start()])
        pieces.append(page_number if close_enough(page_number, match.group()) else match.group())
        end = match.end()
    return "".join(pieces) + got[end:]


def matches(want: str, got: str, check: str = "exact", flags: int = doctest.ELLIPSIS) -> bool:
    """Whether ``got`` (what a block printed) shows what the page states, ``want``, under ``check``.

    >>> matches("test: 2.72 bits, 53.4% right\\n", "test: 2.72 bits, 53.3% right\\n")
    False
    >>> matches("test: 2.72 bits, 53.4% right\\n", "test: 2.72 bits, 53.3% right\\n", "rounding")
    True
    >>> matches("test: 2.72 bits\\n", "train: 2.72 bits\\n", "rounding")
    False
    >>> matches("def tus anction\\n", "def tuthe exponent\\n", "sample"), matches("def x\\n", "", "sample")
    (True, False)
    """
    if check == "sample":
        return bool(got.strip())
    if check == "rounding":
        got = _with_page_numbers(want, got)
    return _CHECKER.check_output(want, got, flags)
