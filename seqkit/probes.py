"""Probes: what a text "is" at each position, to correlate with the units of an LSTM.

Karpathy, Johnson & Fei-Fei (2015, "Visualizing and Understanding Recurrent
Networks") found LSTM cells that track whether the text is inside a quote or a
comment, how deep the brackets are nested or how far the line has run. A
**probe** is such a function of the text position; its values are later
correlated with each unit's activation.

Convention: a probe gives one float per *character* of a text, describing the
state **after reading that character** -- what a recurrent state can know at that
step. For ``a"bc"d`` the string probe is ``[0, 1, 1, 1, 0, 0]``: the opening quote
opens (1), the closing quote closes (0 after reading it). Consequences of the
convention, each tested:

* A triple quote is read one character at a time: after the first ``"`` of
  ``\"\"\"`` a (so far empty) string is open (1), after the second the empty string
  ``""`` is closed (0), after the third a triple-quoted string is open (1). Of the
  closing ``\"\"\"`` the first two quotes are still inside (1), the third closes (0).
* A newline ends a string that is not triple-quoted, so an unmatched apostrophe
  does not poison the rest of the text; the newline itself is 0. A backslash
  escapes the next character, whatever it is: an escaped quote or backslash does
  not close the string, and an escaped newline continues it.
* In C syntax the first ``/`` of ``//`` or ``/*`` is 0 (the reader cannot know yet)
  and the second character is 1; the closing ``*`` of ``*/`` is 1 and its ``/`` is 0.
* String prefixes need no handling: ``f"..."``, ``b"..."`` and raw strings
  ``r"..."`` are read as normal strings (so ``r"\\"`` is read as an unclosed
  string up to the end of its line).

The builtin probes (:data:`BUILTIN_PROBES`):

* ``string``: inside a string literal (1) or not (0). Python syntax: ``'...'``,
  ``"..."``, ``'''...'''`` and ``\"\"\"...\"\"\"``. C syntax: ``"..."`` and the char
  literal ``'...'``.
* ``comment``: inside a comment (1) or not (0). Python: ``#`` up to the newline
  (the ``#`` is 1, the newline 0). C: ``//`` up to the newline and ``/* ... */``.
* ``bracket_depth``: the number of ``(``, ``[`` and ``{`` open outside strings and
  comments; a closing bracket never takes it below 0.
* ``line_position``: characters read since the last newline (column ``k``, from 0,
  gives ``k + 1``; a newline gives 0).
* ``indentation``: the width of the line's leading spaces and tabs read so far.
* ``word_start``: 1 at a character that starts a word (``str.isalnum()`` or ``_``,
  after a character that is neither), else 0.

Quotes inside comments open nothing, and ``#`` or ``//`` inside strings open nothing.
Any other probe is a regular expression (:func:`regex_probe`) or a function of the
tokens (:func:`callable_probe`); :func:`token_labels` gives one value per token.

>>> builtin_probe("string").labels('a"bc"d').tolist()
[0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
>>> builtin_probe("bracket_depth").labels("f(a[1])").tolist()
[0.0, 1.0, 1.0, 2.0, 2.0, 1.0, 0.0]
>>> builtin_probe("comment", syntax="c").labels("x//y\\n").tolist()
[0.0, 0.0, 1.0, 1.0, 0.0]
>>> token_labels(resolve_probe(r"\\d+"), ["x", "=", "42"], separator=" ").tolist()
[0.0, 0.0, 1.0]
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import reprlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqkit.errors import ConfigurationError, DataError

__all__ = [
    "BUILTIN_PROBES",
    "SYNTAXES",
    "Probe",
    "builtin_probe",
    "callable_probe",
    "regex_probe",
    "resolve_probe",
    "token_labels",
]

BUILTIN_PROBES: tuple[str, ...] = ("string", "comment", "bracket_depth", "line_position", "indentation", "word_start")
"""The names :func:`builtin_probe` knows."""

SYNTAXES: tuple[str, ...] = ("python", "c")
"""The syntaxes the ``string``, ``comment`` and ``bracket_depth`` probes read."""

REGEX_PREFIX = "regex:"
"""A probe spec starting with this is a regular expression, even if the rest is a builtin name."""

_SHORT = reprlib.Repr()
_SHORT.maxstring = 40
_SHORT.maxother = 40


@dataclass(frozen=True)
class Probe:
    """A function of the text position, one float per character (or per token).

    Attributes:
        name: the probe's name in tables, e.g. ``"string"`` or ``"regex:\\\\d+"``.
        description: one short line for tables.
        function: for a character probe, ``function(text)`` gives one value per
            character of ``text``; for a token probe (``per_token``),
            ``function(tokens)`` gives one value per token of the list ``tokens``.
        per_token: whether ``function`` takes the list of tokens rather than a text.

    >>> probe = Probe("vowel", "a vowel (1) or not (0)", lambda text: [float(c in "aeiou") for c in text])
    >>> probe.labels("hat").tolist()
    [0.0, 1.0, 0.0]
    """

    name: str
    description: str
    function: Callable[..., Any]
    per_token: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError(
                f"A probe's name must be a non-empty str. Got {self.name!r} instead. Give the probe a name for tables."
            )
        if not callable(self.function):
            raise ConfigurationError(
                f"The function of probe {self.name!r} must be callable. Got {type(self.function).__name__} instead."
            )

    def labels(self, text: str) -> np.ndarray:
        """The probe's value after reading each character of ``text``.

        Args:
            text: the text to label.

        Returns:
            A float64 array of shape ``(len(text),)``.

        Raises:
            ConfigurationError: the probe takes tokens (``per_token``), not a text.
            DataError: ``text`` is not a str, or the function does not return one
                finite number per character.
        """
        if self.per_token:
            raise ConfigurationError(
                f"Probe {self.name!r} takes the list of tokens, not a text. "
                "Call token_labels(probe, tokens) instead (token_labels(probe, list(text)) for characters)."
            )
        if not isinstance(text, str):
            raise DataError(
                f"Probe {self.name!r} labels a str. Got {type(text).__name__} instead. "
                "Pass the text as a str, or call token_labels(probe, tokens) for tokens."
            )
        return _checked_values(self, self.function(text), len(text), "character")


# The lexer ---------------------------------------------------------------------------
_OPENERS = {
    "python": re.compile(r"'''|\"\"\"|['\"#]"),
    "c": re.compile(r"//|/\*|['\"]"),
}
_SINGLE_LINE_STRING_STOPS = {quote: re.compile(r"\\|\n|" + quote) for quote in "'\""}
_TRIPLE_STRING_STOPS = {quote: re.compile(r"\\|" + quote * 3) for quote in "'\""}


def _code_points(text: str) -> np.ndarray:
    """The code point of each character of ``text``, as a uint32 array."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _lex(text: str, syntax: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The string, comment and bracket-depth labels of ``text``, in one left-to-right pass.

    The pass jumps from one string or comment opener to the next with compiled
    regular expressions and fills each literal's labels by slices, so its Python
    work is per literal, not per character; the bracket depth is then a clamped
    cumulative sum over the brackets outside every literal.

    Args:
        text: the text to read.
        syntax: one of :data:`SYNTAXES`.

    Returns:
        ``(string, comment, depth)``, three float64 arrays of shape ``(len(text),)``.
    """
    size = len(text)
    string = np.zeros(size)
    comment = np.zeros(size)
    literal = np.zeros(size, dtype=bool)  # every character of a string or comment, delimiters included
    opener = _OPENERS[syntax]
    position = 0
    while (match := opener.search(text, position)) is not None:
        start, token = match.start(), match.group()
        if token in ("#", "//"):
            end = text.find("\n", start)
            end = size if end < 0 else end  # the newline itself is code
            comment[start + len(token) - 1 : end] = 1.0
        elif token == "/*":
            close = text.find("*/", start + 2)
            end = size if close < 0 else close + 2
            comment[start + 1 : close + 1 if close >= 0 else size] = 1.0  # the closing * is 1, its / is 0
        elif len(token) == 3:
            end = _triple_string(text, start, string)
        else:
            end = _single_line_string(text, start, string)
        literal[start:end] = True
        position = end
    return string, comment, _bracket_depth(_code_points(text), literal)


def _single_line_string(text: str, start: int, string: np.ndarray) -> int:
    """Label the string opened by the quote at ``start``; return where code resumes."""
    stops = _SINGLE_LINE_STRING_STOPS[text[start]]
    position = start + 1
    while (match := stops.search(text, position)) is not None:
        stop = match.start()
        if text[stop] == "\\":
            position = stop + 2
            continue
        string[start:stop] = 1.0
        return stop if text[stop] == "\n" else stop + 1  # a newline is code again, a closing quote is 0
    string[start:] = 1.0
    return len(text)


def _triple_string(text: str, start: int, string: np.ndarray) -> int:
    """Label the triple-quoted string opened at ``start``; return where code resumes."""
    stops = _TRIPLE_STRING_STOPS[text[start]]
    string[start] = 1.0  # after the second quote the empty string is closed (0), after the third it is open
    position = start + 3
    while (match := stops.search(text, position)) is not None:
        stop = match.start()
        if text[stop] == "\\":
            position = stop + 2
            continue
        string[start + 2 : stop + 2] = 1.0
        return stop + 3
    string[start + 2 :] = 1.0
    return len(text)


_OPENING_BRACKETS = np.array([ord(c) for c in "([{"], dtype=np.uint32)
_CLOSING_BRACKETS = np.array([ord(c) for c in ")]}"], dtype=np.uint32)


def _bracket_depth(code_points: np.ndarray, literal: np.ndarray) -> np.ndarray:
    """The number of brackets open after each character, counting those outside ``literal``.

    With ``steps`` the +1, -1 or 0 of each character and ``S`` their running sum, the
    depth clamped at 0 (``d = max(0, d + step)``) is ``S - min(0, min(S[:k + 1]))``.
    """
    code = ~literal
    steps = np.isin(code_points, _OPENING_BRACKETS) & code
    steps = steps.astype(np.int64) - (np.isin(code_points, _CLOSING_BRACKETS) & code)
    running = np.cumsum(steps)
    if running.size:
        running -= np.minimum(np.minimum.accumulate(running), 0)
    return running.astype(np.float64)


# The builtin probes ---------------------------------------------------------------------
def _lexer_labels(text: str, *, syntax: str, field: int) -> np.ndarray:
    """One of the three arrays of :func:`_lex`."""
    return _lex(text, syntax)[field]


def _newline_positions(code_points: np.ndarray) -> np.ndarray:
    """For each character, the index of the last newline at or before it, -1 if none."""
    indices = np.arange(code_points.size)
    return np.maximum.accumulate(np.where(code_points == 10, indices, -1)) if code_points.size else indices


def _line_position_labels(text: str) -> np.ndarray:
    """Characters since the last newline: column ``k`` gives ``k + 1``, a newline 0."""
    code_points = _code_points(text)
    return (np.arange(code_points.size) - _newline_positions(code_points)).astype(np.float64)


def _indentation_labels(text: str) -> np.ndarray:
    """The width of the current line's leading spaces and tabs read so far."""
    code_points = _code_points(text)
    if not code_points.size:
        return np.zeros(0)
    indices = np.arange(code_points.size)
    blank = (code_points == 32) | (code_points == 9)
    last_newline = _newline_positions(code_points)
    last_other = np.maximum.accumulate(np.where(blank, -1, indices))  # newlines included
    leading = blank & (last_other == last_newline)  # nothing but blanks since the newline
    counts = np.concatenate(([0], np.cumsum(leading)))
    return (counts[indices + 1] - counts[last_newline + 1]).astype(np.float64)


_WORD = re.compile(r"\w+")  # \w is str.isalnum() or "_", character by character


def _word_start_labels(text: str) -> np.ndarray:
    """1 at the first character of each run of word characters, else 0."""
    labels = np.zeros(len(text))
    labels[[match.start() for match in _WORD.finditer(text)]] = 1.0
    return labels


def _builtin_table() -> dict[tuple[str, str], Probe]:
    """One :class:`Probe` per builtin name and syntax, built once so that equal requests give equal probes."""
    table: dict[tuple[str, str], Probe] = {}
    for syntax in SYNTAXES:
        literals = "a string or char literal" if syntax == "c" else "a string literal"
        lexed = {
            "string": (0, f"inside {literals} (1) or not (0)"),
            "comment": (1, "inside a comment (1) or not (0)"),
            "bracket_depth": (2, "brackets (, [ and { open outside strings and comments"),
        }
        for name, (field, description) in lexed.items():
            function = functools.partial(_lexer_labels, syntax=syntax, field=field)
            table[name, syntax] = Probe(name, description, function)
    for name, function, description in (
        ("line_position", _line_position_labels, "characters read since the last newline"),
        ("indentation", _indentation_labels, "width of the line's leading spaces and tabs"),
        ("word_start", _word_start_labels, "first character of a word (1) or not (0)"),
    ):
        probe = Probe(name, description, function)
        for syntax in SYNTAXES:
            table[name, syntax] = probe
    return table


_BUILTINS = _builtin_table()


def _check_syntax(syntax: object) -> str:
    """``syntax`` if it is one of :data:`SYNTAXES`; a ConfigurationError otherwise."""
    if not isinstance(syntax, str) or syntax not in SYNTAXES:
        raise ConfigurationError(
            f"Unknown probe syntax {syntax!r}. Expected one of: {', '.join(SYNTAXES)}. "
            "Pass syntax='python' or syntax='c'."
        )
    return syntax


def builtin_probe(name: str, *, syntax: str = "python") -> Probe:
    """The builtin probe called ``name``.

    Args:
        name: one of :data:`BUILTIN_PROBES`.
        syntax: the syntax the ``string``, ``comment`` and ``bracket_depth`` probes
            read, one of :data:`SYNTAXES`; the other probes ignore it.

    Returns:
        The probe (the same object for the same name and syntax).

    Raises:
        ConfigurationError: ``name`` or ``syntax`` is unknown.

    >>> builtin_probe("line_position").labels("ab\\nc").tolist()
    [1.0, 2.0, 0.0, 1.0]
    """
    syntax = _check_syntax(syntax)
    if not isinstance(name, str) or name not in BUILTIN_PROBES:
        raise ConfigurationError(
            f"Unknown builtin probe {name!r}. Expected one of: {', '.join(BUILTIN_PROBES)}. "
            "Use one of these names, or regex_probe() for a pattern."
        )
    return _BUILTINS[name, syntax]


# Regular expressions and callables ---------------------------------------------------
def _compile(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled; a ConfigurationError naming it and re's message if it is invalid."""
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ConfigurationError(
            f"Invalid regular expression {pattern!r} for a regex probe: {error}. "
            "Give a valid Python regular expression (see the re module)."
        ) from None


def _match_labels(text: str, *, pattern: re.Pattern[str]) -> np.ndarray:
    """1 for each character inside a (non-empty) match of ``pattern``, else 0."""
    spans = [match.span() for match in pattern.finditer(text) if match.end() > match.start()]
    bounds = np.array(spans, dtype=np.int64).reshape(-1, 2)
    edges = np.bincount(bounds[:, 0], minlength=len(text) + 1) - np.bincount(bounds[:, 1], minlength=len(text) + 1)
    return (np.cumsum(edges[: len(text)]) > 0).astype(np.float64)


def regex_probe(pattern: str | re.Pattern[str], *, name: str | None = None) -> Probe:
    """A probe that is 1 inside any match of ``pattern`` and 0 elsewhere.

    Matches are those of ``pattern.finditer(text)``; an empty match marks nothing.

    Args:
        pattern: a regular expression, as a str or a compiled ``re.Pattern`` of str.
        name: the probe's name; defaults to ``"regex:"`` followed by the pattern.

    Returns:
        A character probe.

    Raises:
        ConfigurationError: ``pattern`` is not a valid regular expression of str, or
            ``name`` is empty.

    >>> regex_probe("ab").labels("xabab").tolist()
    [0.0, 1.0, 1.0, 1.0, 1.0]
    """
    if isinstance(pattern, str):
        compiled = _compile(pattern)
    elif isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
        compiled = pattern
    else:
        raise ConfigurationError(
            f"A regex probe needs a str or a compiled re.Pattern of str. Got {type(pattern).__name__} "
            f"{_SHORT.repr(pattern)} instead. Pass the pattern as a str."
        )
    label = f"{REGEX_PREFIX}{compiled.pattern}" if name is None else name
    description = f"inside a match of /{compiled.pattern}/ (1) or not (0)"
    return Probe(label, description, functools.partial(_match_labels, pattern=compiled))


def callable_probe(function: Callable[[list[str]], Sequence[float]], *, name: str) -> Probe:
    """A probe computed by ``function`` from the list of tokens.

    Args:
        function: called with the list of tokens; must return one finite number per
            token (checked by :func:`token_labels`).
        name: the probe's name in tables.

    Returns:
        A token probe (``per_token=True``) whose description is the first line of the
        function's docstring, or ``"values of <name>"`` if it has none.

    Raises:
        ConfigurationError: ``function`` is not callable or ``name`` is empty.

    >>> lengths = callable_probe(lambda tokens: [len(t) for t in tokens], name="length")
    >>> token_labels(lengths, ["ab", "c"]).tolist()
    [2.0, 1.0]
    """
    if not callable(function):
        raise ConfigurationError(
            f"callable_probe needs a function of the list of tokens. Got {type(function).__name__} "
            f"{_SHORT.repr(function)} instead. "
            "Pass a function that takes a list of str and returns one number per token."
        )
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(
            f"The name of a callable probe must be a non-empty str. Got {name!r} instead. Pass name='...'."
        )
    doc = (getattr(function, "__doc__", None) or "").strip()
    description = doc.splitlines()[0] if doc and not isinstance(function, functools.partial) else f"values of {name}"
    return Probe(name, description, function, per_token=True)


def resolve_probe(spec: str | re.Pattern[str] | Probe | Callable[..., Any], *, syntax: str = "python") -> Probe:
    """The probe a user's spec (a CLI ``--probe`` value, say) stands for.

    Args:
        spec: a builtin name (:data:`BUILTIN_PROBES`); a str starting with
            ``"regex:"`` (a regular expression, even if the rest is a builtin name);
            any other str or an ``re.Pattern`` (a regular expression, see
            :func:`regex_probe`); a :class:`Probe` (returned as is); or a callable of
            the list of tokens (see :func:`callable_probe`, named after its
            ``__name__``).
        syntax: the syntax of the builtin lexer probes, one of :data:`SYNTAXES`.

    Returns:
        The probe.

    Raises:
        ConfigurationError: ``syntax`` is unknown, the str is empty or neither a
            builtin name nor a valid regular expression, or ``spec`` has another type.

    >>> [resolve_probe(spec).name for spec in ("comment", r"\\d+", "regex:string")]
    ['comment', 'regex:\\\\d+', 'regex:string']
    """
    syntax = _check_syntax(syntax)
    if isinstance(spec, Probe):
        return spec
    if isinstance(spec, str):
        if spec in BUILTIN_PROBES:
            return builtin_probe(spec, syntax=syntax)
        pattern = spec[len(REGEX_PREFIX) :] if spec.startswith(REGEX_PREFIX) else spec
        if not pattern:
            raise ConfigurationError(
                f"The probe {spec!r} is empty. Give a builtin probe ({', '.join(BUILTIN_PROBES)}) "
                "or a regular expression."
            )
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            raise ConfigurationError(
                f"The probe {spec!r} is neither a builtin probe ({', '.join(BUILTIN_PROBES)}) nor a valid "
                f"regular expression ({error}). Give a builtin name or a valid Python regular expression."
            ) from None
        return regex_probe(compiled)
    if isinstance(spec, re.Pattern):
        return regex_probe(spec)
    if callable(spec):
        return callable_probe(spec, name=getattr(spec, "__name__", type(spec).__name__))
    raise ConfigurationError(
        f"A probe must be a builtin probe name ({', '.join(BUILTIN_PROBES)}), a regular expression (a str or "
        f"re.Pattern), a Probe or a function of the list of tokens. Got {type(spec).__name__} "
        f"{_SHORT.repr(spec)} instead."
    )


# Values per token -------------------------------------------------------------------
def _describe(value: object) -> str:
    """A short repr of ``value`` for an error message (a numpy scalar as its Python value)."""
    return _SHORT.repr(value.item() if isinstance(value, np.generic) else value)


def _count(number: int, noun: str) -> str:
    """``"1 token"``, ``"3 tokens"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _as_float(value: object) -> float | None:
    """``value`` as a float if it is a real number (bools included), else None."""
    if not isinstance(value, (numbers.Real, np.bool_)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _float_array(items: Sequence[object]) -> np.ndarray | None:
    """``items`` as float64 if numpy reads them as a 1-d array of bools, ints or floats, else None."""
    try:
        array = np.asarray(items)
    except ValueError:  # a ragged nest of sequences
        return None
    return array.astype(np.float64) if array.ndim == 1 and array.dtype.kind in "biuf" else None


def _checked_values(probe: Probe, values: object, count: int, unit: str) -> np.ndarray:
    """``values`` as a float64 array of ``count`` finite numbers; a DataError saying what is wrong otherwise."""
    expected = f"it must return one finite number per {unit} ({count} here)"
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise DataError(f"Probe {probe.name!r} returned an array of shape {values.shape}; {expected}.")
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise DataError(f"Probe {probe.name!r} returned {_describe(values)}; {expected}.")
    items = values if isinstance(values, np.ndarray) else list(values)
    if len(items) != count:
        returned = f"{_count(len(items), 'value')} for {_count(count, unit)}"
        raise DataError(f"Probe {probe.name!r} returned {returned}; {expected}.")
    result = _float_array(items)
    if result is None:
        floats = [_as_float(item) for item in items]
        if None in floats:
            index = floats.index(None)
            raise DataError(f"Probe {probe.name!r} returned {_describe(items[index])} for {unit} {index}; {expected}.")
        result = np.array(floats, dtype=np.float64)
    finite = np.isfinite(result)
    if not finite.all():
        index = int(np.argmin(finite))
        raise DataError(f"Probe {probe.name!r} returned {float(result[index])!r} for {unit} {index}; {expected}.")
    return result


def token_labels(probe: Probe, tokens: Sequence[str], *, separator: str = "") -> np.ndarray:
    """One value of ``probe`` per token: the state after reading the token.

    A character probe labels ``separator.join(tokens)``, and each token takes the
    value at its last character; an empty token takes the value of the position
    before it (0 at the start). A token probe (``per_token``) is called with
    ``list(tokens)``.

    Args:
        probe: the probe.
        tokens: the tokens, each a str.
        separator: what stands between two tokens in the text, e.g. ``" "`` for words.

    Returns:
        A float64 array of shape ``(len(tokens),)``.

    Raises:
        ConfigurationError: ``probe`` is not a Probe or ``separator`` is not a str.
        DataError: a token is not a str, or a token probe does not return one finite
            number per token.

    >>> token_labels(builtin_probe("bracket_depth"), ["f(", "x", ")"]).tolist()
    [1.0, 1.0, 0.0]
    >>> token_labels(builtin_probe("string"), ["x=", "'a", "b'"], separator=" ").tolist()
    [0.0, 1.0, 0.0]
    """
    if not isinstance(probe, Probe):
        raise ConfigurationError(
            f"token_labels needs a Probe. Got {type(probe).__name__} instead. Make one with resolve_probe(spec)."
        )
    if not isinstance(separator, str):
        raise ConfigurationError(
            f"The separator of token_labels must be a str. Got {type(separator).__name__} instead. Pass separator=' '."
        )
    tokens = list(tokens)
    if probe.per_token:
        return _checked_values(probe, probe.function(tokens), len(tokens), "token")
    try:
        text = separator.join(tokens)
    except TypeError:
        index, token = next((i, t) for i, t in enumerate(tokens) if not isinstance(t, str))
        raise DataError(
            f"token_labels needs tokens that are str. Token {index} is {type(token).__name__} {_SHORT.repr(token)}. "
            "Decode ids to tokens first."
        ) from None
    values = np.concatenate(([0.0], probe.labels(text)))  # values[k + 1] is the value at character k
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    last_characters = np.cumsum(lengths + len(separator)) - len(separator) - 1
    return values[last_characters + 1]
