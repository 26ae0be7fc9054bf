"""A text coloured by one LSTM unit's activation, as a standalone HTML page.

The picture of Karpathy, Johnson & Fei-Fei (2015), *Visualizing and
Understanding Recurrent Networks*: each character (or token) of a text gets a
background colour for the activation of one unit as it was read, blue for
negative, white at 0, red for positive, so a unit that tracks quotes, line
length or indentation shows itself at a glance. Hovering a token shows its
value.

:func:`activation_html` returns the page as a string; :func:`write_activation_html`
writes it atomically. The page is one file with inline CSS, no script, no
event handler and no external resource, so it opens in any browser, offline.
Every piece of text is HTML-escaped: a token ``<script>`` is shown, never run.

>>> page = activation_html(["<script>", " ", "ok"], [0.5, 0.0, -1.0], title="unit 17")
>>> "<script" in page, "&lt;script&gt;" in page
(False, True)
>>> page.count("<span ")
3
>>> background_color(1.0), background_color(0.0), background_color(-2.0)
('rgb(255,0,0)', 'rgb(255,255,255)', 'rgb(0,0,255)')
"""

from __future__ import annotations

import html
import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqkit.errors import ConfigurationError, DataError
from seqkit.files import write_text_atomic

__all__ = ["MAX_TOKENS", "activation_html", "background_color", "write_activation_html"]

MAX_TOKENS = 200_000
"""The most tokens one page shows; a longer text is refused (pass a slice)."""

DARK = 0.6
"""Past this share of ``limit`` a background is dark enough for white text."""

_STYLE = """\
body { font-family: sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.3em; margin: 0 0 0.3em; }
h2 { font-size: 1em; margin: 1.2em 0 0.3em; }
p.caption { margin: 0 0 0.6em; color: #444; }
.key { display: flex; align-items: center; gap: 0.5em; font-size: 0.85em; color: #444; }
.bar { width: 12em; height: 0.9em; border: 1px solid #999;
       background: linear-gradient(to right, rgb(0,0,255), rgb(255,255,255), rgb(255,0,0)); }
pre { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 13px;
      line-height: 1.45; tab-size: 8; white-space: pre-wrap; overflow-wrap: anywhere;
      border: 1px solid #ddd; padding: 0.6em; margin: 0; }
pre span.nl::after { content: "\\21B5"; opacity: 0.45; }
"""


def background_color(value: float, limit: float = 1.0) -> str:
    """The CSS colour of ``value``: blue at ``-limit``, white at 0, red at ``+limit``.

    Values are clipped to ``[-limit, limit]`` and interpolated linearly per
    channel between the three colours.

    Args:
        value: an activation.
        limit: the magnitude drawn at full colour. Defaults to 1.0 (``h`` and
            ``tanh(c)`` lie in ``[-1, 1]``).

    Returns:
        ``"rgb(R,G,B)"``, e.g. ``"rgb(255,128,128)"`` for half of ``+limit``.

    >>> background_color(0.5), background_color(-0.5)
    ('rgb(255,128,128)', 'rgb(128,128,255)')
    """
    share = min(1.0, max(-1.0, value / limit))
    fade = int(round(255 * (1.0 - abs(share))))
    return f"rgb(255,{fade},{fade})" if share > 0 else f"rgb({fade},{fade},255)"


def _check_limit(limit: float) -> float:
    if (
        isinstance(limit, bool)
        or not isinstance(limit, numbers.Real)
        or not math.isfinite(float(limit))
        or limit <= 0
    ):
        raise ConfigurationError(
            f"limit must be a finite number > 0 (the magnitude drawn at full colour, 1.0 for h or tanh(c)); "
            f"got {limit!r}."
        )
    return float(limit)


def _check_tokens(tokens: Sequence[str]) -> list[str]:
    if len(tokens) > MAX_TOKENS:
        raise DataError(
            f"activation_html shows at most {MAX_TOKENS} tokens; got {len(tokens)}. "
            f"Pass a slice of the tokens and the matching values, e.g. tokens[:{MAX_TOKENS}]."
        )
    listed = list(tokens)
    for position, token in enumerate(listed):
        if not isinstance(token, str):
            raise DataError(
                f"Tokens must be strings; got a {type(token).__name__} at position {position}: {token!r}."
            )
    return listed


def _check_values(values: Sequence[float] | np.ndarray, count: int) -> np.ndarray:
    """``values`` as a float array ``(rows, count)``."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            "values must be numbers: one per token (1-D), or one row per unit (2-D); "
            f"got {type(values).__name__} that is not a numeric array."
        ) from None
    if array.ndim not in (1, 2):
        raise DataError(
            f"values must be 1-D (one per token) or 2-D (units, tokens); got an array of shape {array.shape}."
        )
    rows = array.reshape(1, -1) if array.ndim == 1 else array
    if rows.shape[1] != count:
        raise DataError(
            f"activation_html needs one value per token; got {count} tokens and {rows.shape[1]} values "
            f"(values of shape {array.shape}). Pass values with one entry per token."
        )
    bad = ~np.isfinite(rows)
    if bad.any():
        row, column = (int(index) for index in np.argwhere(bad)[0])
        raise DataError(
            f"values must be finite; got {int(bad.sum())} NaN or infinite value(s), the first at token {column}"
            f"{f' of row {row}' if array.ndim == 2 else ''}. Replace them (e.g. numpy.nan_to_num) or pass a slice "
            "without them."
        )
    return rows


def _check_labels(labels: Sequence[str] | None, rows: int) -> list[str]:
    if labels is None:
        return [f"row {index}" for index in range(1, rows + 1)] if rows > 1 else [""]
    if isinstance(labels, str) or not all(isinstance(label, str) for label in labels) or len(labels) != rows:
        raise ConfigurationError(
            f"labels must be a list of {rows} string(s), one per row of values; got {labels!r}."
        )
    return list(labels)


def _token_span(token: str, value: float, limit: float) -> str:
    """One token's ``<span>``; its trailing newlines follow the span, so the line breaks there."""
    body = token.rstrip("\n")
    breaks = token[len(body):]
    style = f"background:{background_color(value, limit)}"
    if abs(value) >= DARK * limit:
        style += ";color:#fff"
    marker = ' class="nl"' if breaks else ""
    title = html.escape(f"{value + 0.0:.3f}", quote=True)
    return f'<span{marker} style="{style}" title="{title}">{html.escape(body, quote=True)}</span>{breaks}'


def activation_html(
    tokens: Sequence[str],
    values: Sequence[float] | np.ndarray,
    *,
    title: str = "",
    caption: str = "",
    limit: float = 1.0,
    labels: Sequence[str] | None = None,
) -> str:
    """A standalone HTML page of ``tokens``, each coloured by its activation.

    The text is shown in a monospace block, one ``<span>`` per token, its
    background blue (``-limit``) to white (0) to red (``+limit``), values
    clipped to that range, with white text on the darker colours. Each span's
    ``title`` holds the value (``title="0.734"``), shown on hover. Newlines
    end the line (a faint ``↵`` marks where), tabs stay tabs, and whitespace
    tokens are coloured like any other. Several units can be shown at once:
    give ``values`` one row per unit, and ``labels`` to name the rows.

    Args:
        tokens: the text read, one string per step: characters (``"hello"``
            works as is) or words.
        values: one activation per token (1-D), or one row per unit of shape
            ``(units, len(tokens))`` (2-D).
        title: the page's title and heading. Defaults to none.
        caption: a line of text under the heading. Defaults to none.
        limit: the magnitude drawn at full colour. Defaults to 1.0 (``h`` and
            ``tanh(c)`` lie in ``[-1, 1]``).
        labels: a heading for each row of ``values``, e.g. ``"layer 1 unit 17"``.
            Defaults to None: ``"row 1"``, ``"row 2"``... for 2-D values, no
            heading for 1-D.

    Returns:
        The page, a complete HTML5 document.

    Raises:
        ConfigurationError: ``limit`` is not a finite number > 0, or ``labels``
            does not hold one string per row.
        DataError: more than :data:`MAX_TOKENS` tokens, a token is not a string,
            ``values`` is not 1-D or 2-D numbers with one per token, or holds
            NaN or infinity.

    >>> page = activation_html("ab", [[0.1, -0.2], [1.0, 0.0]], labels=["unit 1", "unit 2"])
    >>> page.count("<pre>"), page.count("<span "), '<h2>unit 2</h2>' in page
    (2, 4, True)
    """
    limit = _check_limit(limit)
    listed = _check_tokens(tokens)
    rows = _check_values(values, len(listed))
    names = _check_labels(labels, rows.shape[0])
    page_title = title or "Activations"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(page_title, quote=True)}</title>",
        f"<style>\n{_STYLE}</style>",
        "</head>",
        "<body>",
    ]
    if title:
        parts.append(f"<h1>{html.escape(title, quote=True)}</h1>")
    if caption:
        parts.append(f'<p class="caption">{html.escape(caption, quote=True)}</p>')
    parts.append(
        f'<div class="key">{-limit:.3g} <div class="bar"></div> {limit:.3g} '
        "(hover over a token to see its value)</div>"
    )
    for name, row in zip(names, rows, strict=True):
        parts.append("<section>")
        if name:
            parts.append(f"<h2>{html.escape(name, quote=True)}</h2>")
        spans = "".join(_token_span(token, float(value), limit) for token, value in zip(listed, row, strict=True))
        parts.append(f"<pre>{spans}</pre>")
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_activation_html(
    path: str | os.PathLike[str],
    tokens: Sequence[str],
    values: Sequence[float] | np.ndarray,
    **kwargs: object,
) -> Path:
    """Write :func:`activation_html`'s page to ``path`` atomically.

    A crash leaves the old file or the new one, never half a page; parent
    folders are created.

    Args:
        path: the file to write, ending in ``.html`` or ``.htm``.
        tokens: the text read, one string per step.
        values: one activation per token, or one row per unit.
        **kwargs: ``title``, ``caption``, ``limit``, ``labels`` of :func:`activation_html`.

    Returns:
        The path written.

    Raises:
        ConfigurationError: ``path`` does not end in ``.html`` or ``.htm``, or
            an argument of :func:`activation_html` is not valid.
        DataError: as :func:`activation_html`.

    >>> import tempfile, pathlib
    >>> path = write_activation_html(pathlib.Path(tempfile.mkdtemp()) / "unit.html", "hi", [0.5, -0.5])
    >>> path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ConfigurationError(
            f"Activation pages are written as HTML: give a path ending in .html or .htm; got {str(path)!r}."
        )
    write_text_atomic(target, activation_html(tokens, values, **kwargs))  # type: ignore[arg-type]
    return target
