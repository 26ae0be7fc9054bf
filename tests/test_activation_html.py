"""seqkit.activation_html: a text coloured by a unit's activation, as a safe standalone page.

The page is one HTML5 file, with inline CSS only: no script, no event handler,
no external resource. Every text is escaped, each token is one span coloured
blue (-limit) to white (0) to red (+limit), and its value shows on hover.
"""

from __future__ import annotations

import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from seqkit.activation_html import MAX_TOKENS, activation_html, background_color, write_activation_html
from seqkit.errors import ConfigurationError, DataError


class Page(HTMLParser):
    """Every tag with its attributes, and the text inside each ``<pre>`` and ``<h2>``."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: list[str] = []
        self.headings: list[str] = []
        self._inside: str | None = None
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("pre", "h2"):
            self._inside = tag
            (self.blocks if tag == "pre" else self.headings).append("")

    def handle_endtag(self, tag):
        if tag == self._inside:
            self._inside = None

    def handle_data(self, data):
        if self._inside == "pre":
            self.blocks[-1] += data
        elif self._inside == "h2":
            self.headings[-1] += data

    def spans(self) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == "span"]


HOSTILE = ["<script>alert(1)</script>", " ", '" onmouseover="alert(2)', "\n", "<img src=x onerror=alert(3)>", "&amp;"]


# A safe, standalone document ---------------------------------------------------------------
def test_the_page_is_a_standalone_html5_document():
    page = activation_html("hi", [0.1, -0.1], title="t")
    assert page.startswith("<!DOCTYPE html>\n")
    assert '<meta charset="utf-8">' in page
    assert page.rstrip().endswith("</html>")
    assert "<style>" in page
    lowered = page.lower()
    for outside in ("http:", "https:", "//", "<link", "@import", "url(", "src="):
        assert outside not in lowered.replace("</", "<")  # "</span>" is not "//"


def test_script_in_the_text_stays_text():
    page = activation_html(HOSTILE, np.zeros(len(HOSTILE)), title="<script>t</script>", caption="<b>c</b>",
                           labels=["<script>l</script>"])
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;c&lt;/b&gt;" in page and "<b>" not in page
    parsed = Page(page)
    assert {tag for tag, _ in parsed.tags} <= {"html", "head", "meta", "title", "style", "body", "h1", "p", "div",
                                                "section", "h2", "pre", "span"}
    assert parsed.blocks == ["".join(HOSTILE)]  # the text, exactly, as the browser shows it
    assert parsed.headings == ["<script>l</script>"]


def test_no_event_handler_attribute_anywhere():
    parsed = Page(activation_html(HOSTILE, np.linspace(-1, 1, len(HOSTILE))))
    names = {name for _, attrs in parsed.tags for name in attrs}
    assert not any(name.startswith("on") for name in names)
    assert names <= {"lang", "charset", "name", "content", "class", "style", "title"}


# Colours and values ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "color"),
    [(1.0, "rgb(255,0,0)"), (0.0, "rgb(255,255,255)"), (-1.0, "rgb(0,0,255)"), (0.5, "rgb(255,128,128)"),
     (-0.5, "rgb(128,128,255)"), (7.0, "rgb(255,0,0)"), (-7.0, "rgb(0,0,255)")],
    ids=["+limit red", "0 white", "-limit blue", "half red", "half blue", "clipped red", "clipped blue"],
)
def test_blue_white_red(value, color):
    assert background_color(value) == color
    (span,) = Page(activation_html(["x"], [value])).spans()
    assert span["style"].startswith(f"background:{color}")


def test_the_limit_scales_the_colours():
    styles = [span["style"] for span in Page(activation_html("abc", [2.0, -1.0, 5.0], limit=2.0)).spans()]
    assert styles[0].startswith("background:rgb(255,0,0)")
    assert styles[1].startswith("background:rgb(128,128,255)")
    assert styles[2].startswith("background:rgb(255,0,0)")  # clipped to the limit


def test_dark_backgrounds_get_white_text():
    styles = [span["style"] for span in Page(activation_html("ab", [-0.9, 0.1])).spans()]
    assert styles == ["background:rgb(25,25,255);color:#fff", "background:rgb(255,230,230)"]


def test_one_span_per_token_with_its_value_on_hover():
    tokens = ["a", " ", "\t", "", "word", "\n", "z"]
    values = [0.7341, -0.5, 0.0, 0.25, -1.0, 0.3, -0.0]
    parsed = Page(activation_html(tokens, values))
    assert [span["title"] for span in parsed.spans()] == ["0.734", "-0.500", "0.000", "0.250", "-1.000", "0.300",
                                                           "0.000"]
    assert parsed.blocks == ["".join(tokens)]  # whitespace kept, tabs stay tabs


def test_newlines_break_the_line_after_a_coloured_span():
    page = activation_html(["a", "\n", "b", "c\n\n"], [0.1, 0.9, 0.2, -0.3])
    assert '<span class="nl" style="background:rgb(255,25,25);color:#fff" title="0.900"></span>\n<span' in page
    assert '<span class="nl" style="background:rgb(178,178,255)" title="-0.300">c</span>\n\n</pre>' in page
    assert Page(page).blocks == ["a\nbc\n\n"]


def test_whitespace_tokens_are_coloured():
    (span,) = Page(activation_html([" "], [1.0])).spans()
    assert span["style"].startswith("background:rgb(255,0,0)")


# Several units ------------------------------------------------------------------------------
def test_a_2d_array_gives_one_labelled_block_per_unit():
    values = np.array([[0.1, 0.2, 0.3], [-1.0, 0.0, 1.0]])
    labels = ["layer 1 unit 17 (string, r=0.91)", "layer 2 unit 3"]
    parsed = Page(activation_html("abc", values, labels=labels, title="T", caption="C"))
    assert parsed.headings == labels
    assert parsed.blocks == ["abc", "abc"]
    assert len(parsed.spans()) == 6
    assert parsed.spans()[3]["style"].startswith("background:rgb(0,0,255)")


def test_unlabelled_rows_are_numbered_and_a_single_row_has_no_heading():
    assert Page(activation_html("ab", np.zeros((2, 2)))).headings == ["row 1", "row 2"]
    assert Page(activation_html("ab", [0.0, 0.0])).headings == []
    assert Page(activation_html("ab", [0.0, 0.0], labels=["unit 5"])).headings == ["unit 5"]


def test_title_and_caption():
    page = activation_html("a", [0.0], title="War & Peace", caption="unit 1 < 2")
    assert "<title>War &amp; Peace</title>" in page and "<h1>War &amp; Peace</h1>" in page
    assert '<p class="caption">unit 1 &lt; 2</p>' in page
    assert "<title>Activations</title>" in activation_html("a", [0.0])


def test_an_empty_text_is_an_empty_block():
    assert Page(activation_html([], [])).blocks == [""]


# Errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tokens", "values", "kwargs", "error", "message"),
    [
        ("abc", [0.1, 0.2], {}, DataError,
         "activation_html needs one value per token; got 3 tokens and 2 values (values of shape (2,)). "
         "Pass values with one entry per token."),
        ("ab", np.zeros((2, 3)), {}, DataError,
         "activation_html needs one value per token; got 2 tokens and 3 values (values of shape (2, 3)). "
         "Pass values with one entry per token."),
        ("abc", [0.1, np.nan, np.inf], {}, DataError,
         "values must be finite; got 2 NaN or infinite value(s), the first at token 1. Replace them "
         "(e.g. numpy.nan_to_num) or pass a slice without them."),
        ("ab", [[0.0, 0.0], [0.0, np.nan]], {}, DataError,
         "values must be finite; got 1 NaN or infinite value(s), the first at token 1 of row 1. Replace them "
         "(e.g. numpy.nan_to_num) or pass a slice without them."),
        ("ab", np.zeros((1, 1, 2)), {}, DataError,
         "values must be 1-D (one per token) or 2-D (units, tokens); got an array of shape (1, 1, 2)."),
        ("ab", ["x", "y"], {}, DataError,
         "values must be numbers: one per token (1-D), or one row per unit (2-D); got list that is not a numeric "
         "array."),
        (["a", 1], [0.0, 0.0], {}, DataError, "Tokens must be strings; got a int at position 1: 1."),
        ("ab", [0.0, 0.0], {"limit": 0}, ConfigurationError,
         "limit must be a finite number > 0 (the magnitude drawn at full colour, 1.0 for h or tanh(c)); got 0."),
        ("ab", [0.0, 0.0], {"limit": float("inf")}, ConfigurationError,
         "limit must be a finite number > 0 (the magnitude drawn at full colour, 1.0 for h or tanh(c)); got inf."),
        ("ab", [0.0, 0.0], {"limit": -1.0}, ConfigurationError,
         "limit must be a finite number > 0 (the magnitude drawn at full colour, 1.0 for h or tanh(c)); got -1.0."),
        ("ab", np.zeros((2, 2)), {"labels": ["only one"]}, ConfigurationError,
         "labels must be a list of 2 string(s), one per row of values; got ['only one']."),
        ("ab", [0.0, 0.0], {"labels": "unit 1"}, ConfigurationError,
         "labels must be a list of 1 string(s), one per row of values; got 'unit 1'."),
    ],
    ids=["counts", "2d counts", "non-finite", "non-finite 2d", "3d", "not numbers", "not strings", "limit 0",
         "limit inf", "limit negative", "labels count", "labels a string"],
)
def test_errors_say_what_and_how_to_fix(tokens, values, kwargs, error, message):
    with pytest.raises(error) as raised:
        activation_html(tokens, values, **kwargs)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


def test_too_many_tokens_are_refused_with_a_hint_to_slice():
    tokens = ["a"] * (MAX_TOKENS + 1)
    with pytest.raises(DataError) as raised:
        activation_html(tokens, np.zeros(len(tokens)))
    assert str(raised.value) == (
        "activation_html shows at most 200000 tokens; got 200001. Pass a slice of the tokens and the matching "
        "values, e.g. tokens[:200000]."
    )


def test_the_largest_text_is_rendered():
    tokens = ["ab"] * 1000
    page = activation_html(tokens, np.linspace(-1, 1, len(tokens)))
    assert len(re.findall(r"<span ", page)) == 1000


# Writing --------------------------------------------------------------------------------
def test_write_round_trips(tmp_path):
    target = tmp_path / "nested" / "unit.html"
    written = write_activation_html(target, HOSTILE, np.linspace(-1, 1, len(HOSTILE)), title="unit 3",
                                    caption="quotes")
    assert written == target
    assert target.read_text(encoding="utf-8") == activation_html(
        HOSTILE, np.linspace(-1, 1, len(HOSTILE)), title="unit 3", caption="quotes"
    )
    assert [path.name for path in target.parent.iterdir()] == ["unit.html"]  # no temporary file left


def test_write_takes_htm_and_replaces_a_file(tmp_path):
    target = tmp_path / "unit.HTM"
    target.write_text("old")
    write_activation_html(target, "é", [0.5])
    assert "é" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["unit.png", "unit", "unit.html.txt"])
def test_write_refuses_a_name_that_is_not_html(tmp_path, name):
    with pytest.raises(ConfigurationError) as raised:
        write_activation_html(tmp_path / name, "a", [0.0])
    assert str(raised.value) == (
        f"Activation pages are written as HTML: give a path ending in .html or .htm; got {str(tmp_path / name)!r}."
    )
    assert not any(tmp_path.iterdir())


def test_write_checks_the_values_before_writing(tmp_path):
    target = tmp_path / "unit.html"
    target.write_text("old")
    with pytest.raises(DataError, match="one value per token"):
        write_activation_html(target, "ab", [0.0])
    assert target.read_text() == "old"


def test_the_module_needs_neither_matplotlib_nor_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import seqkit.activation_html as m\n"
        "m.write_activation_html(sys.argv[1], 'a', [0.0])\n"
        "print(sorted(n for n in ('matplotlib', 'tensorflow', 'keras') if n in sys.modules))\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-c", code, str(Path(folder) / "a.html")], capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
