"""Every tutorial in ``docs/`` runs, and shows the output it claims.

A small collector, one test per Markdown file:

- the file's ```` ```python ```` blocks run in order, in one namespace (a
  tutorial is one story: later blocks use what earlier ones built), with the
  working directory set to a fresh temporary folder, so files the examples
  write (models, figures) land there;
- a ```` ```text ```` block that directly follows a python block (blank lines
  between are allowed) is that block's expected output: what the block
  prints must match it, compared like a doctest with ``...`` as a wildcard —
  so every accuracy a tutorial states is asserted; a word after ``text``
  (```` ```text rounding ````, ```` ```text sample ````) loosens the comparison
  for outputs whose last digits, or sampled text, depend on the CPU's float
  rounding (``tests/doc_outputs.py`` says exactly how);
- in a ```` ```console ```` block, every line starting with ``$ seqkit`` is
  run with click's ``CliRunner`` (same process, same working folder) and must
  exit with status 0; the lines after it, up to the next ``$``, are its
  expected standard output (in a 120-column terminal), compared the same way
  (``...`` for what varies, e.g. times) except that runs of spaces compare
  equal, since rich re-aligns a table's columns when a time gets wider.

``docs/api.md`` is generated from the docstrings (``docs/make_api_reference.py``);
a test here fails when it is stale. The docstrings' own ``>>>`` examples run
in ``tests/test_docstrings.py``.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib.util
import io
import re
import shlex
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
import doc_outputs
from doc_outputs import fence_check, matches

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)(?:[ \t]+(\S+))?[ \t]*$")
FLAGS = doctest.ELLIPSIS
CONSOLE_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
CONSOLE_WIDTH = 120


@dataclass
class Block:
    """One fenced block of a Markdown file."""

    language: str
    text: str
    line: int  # 1-based line of the opening fence
    expected: str | None = None  # for python blocks: the text block that follows
    check: str = "exact"  # how ``expected`` is compared: the word after ``text`` (doc_outputs.CHECKS)


def parse_blocks(markdown: str) -> list[Block]:
    """The fenced blocks of ``markdown``, each python block paired with the text block after it."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    previous_end: int | None = None
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match or not match.group(1):
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        check = fence_check(match.group(2) or "") if match.group(1) == "text" else "exact"
        block = Block(match.group(1), "\n".join(body) + "\n", start + 1, check=check)
        between = lines[previous_end + 1 : start] if previous_end is not None else ["x"]
        if (
            block.language == "text"
            and blocks
            and blocks[-1].language == "python"
            and blocks[-1].expected is None
            and all(not line.strip() for line in between)
        ):
            blocks[-1].expected, blocks[-1].check = block.text, block.check
        else:
            blocks.append(block)
        previous_end = index
        index += 1
    return blocks


def _strip_line_ends(text: str) -> str:
    """Trailing spaces are invisible on the page (rich pads table lines with them): ignore them."""
    return "".join(line.rstrip() + "\n" for line in text.splitlines()).rstrip("\n") + "\n"


def _mismatch(where: str, want: str, got: str, flags: int = FLAGS, check: str = "exact") -> str | None:
    want, got = _strip_line_ends(want), _strip_line_ends(got)
    if matches(want, got, check, flags):
        return None
    return f"{where}: output differs ({check} check).\n--- expected\n{want}--- got\n{got}"


def _console_commands(block: Block) -> list[tuple[int, str, str]]:
    """``(line, command, expected output)`` for each ``$ seqkit ...`` line of a console block."""
    commands: list[tuple[int, str, str]] = []
    for offset, line in enumerate(block.text.splitlines(), start=1):
        if line.startswith("$ "):
            commands.append((block.line + offset, line[2:], ""))
        elif commands:
            number, command, output = commands[-1]
            commands[-1] = (number, command, output + line + "\n")
    return commands


def _run_command(command: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from seqkit.cli.main import main

    arguments = shlex.split(command)
    if arguments[0] != "seqkit":
        raise ValueError(f"console blocks may only run seqkit commands; got {command!r}")
    # Stdout only (progress and notes go to stderr), as wide as a typical terminal.
    result = CliRunner().invoke(main, arguments[1:], catch_exceptions=True, env={"COLUMNS": str(CONSOLE_WIDTH)})
    output = result.stdout
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    return result.exit_code, output


def run_markdown(path: Path) -> list[str]:
    """Run every python and console block of ``path`` in order; return the failures (empty: all passed)."""
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    failures: list[str] = []
    for block in parse_blocks(path.read_text(encoding="utf-8")):
        where = f"{path.name}, block at line {block.line}"
        if block.language == "python":
            output = io.StringIO()
            try:
                code = compile(block.text, f"{path.name}:{block.line}", "exec")
                with contextlib.redirect_stdout(output):
                    exec(code, namespace)  # noqa: S102 - running the tutorial is the point
            except Exception:
                failures.append(f"{where} raised:\n{traceback.format_exc()}")
                break  # later blocks depend on this one
            if block.expected is not None:
                failure = _mismatch(where, block.expected, output.getvalue(), check=block.check)
                if failure:
                    failures.append(failure)
        elif block.language == "console":
            for line, command, want in _console_commands(block):
                status, got = _run_command(command)
                if status != 0:
                    failures.append(f"{path.name}, line {line}: `{command}` exited with {status}:\n{got}")
                elif want.strip():
                    failure = _mismatch(f"{path.name}, line {line} (`{command}`)", want, got, CONSOLE_FLAGS)
                    if failure:
                        failures.append(failure)
    return failures


TUTORIALS = sorted(path for path in DOCS.glob("*.md") if path.name != "api.md")


def test_the_tutorials_are_collected():
    names = {path.name for path in TUTORIALS}
    assert {
        "index.md",
        "quickstart.md",
        "layouts.md",
        "in-batch.md",
        "stateful.md",
        "variable-length.md",
        "custom-vocabulary.md",
        "cli.md",
    } <= names


QUICK = {"index.md", "quickstart.md"}
"""The pages the default suite runs; the others train for seconds each and run in the slow suite (CI)."""


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, marks=() if path.name in QUICK else pytest.mark.slow) for path in TUTORIALS],
    ids=[path.name for path in TUTORIALS],
)
def test_tutorial_runs_and_shows_its_output(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    failures = run_markdown(path)
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_the_reliability_examples_run_twice_in_a_row(tmp_path, monkeypatch):
    """What docs/reliability.md shows holds on a second run in the same folder too (files it
    wrote the first time, such as checkpoints and bundles, change nothing it claims)."""
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert not run_markdown(DOCS / "reliability.md")


def test_the_readme_examples_run_and_show_their_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    failures = run_markdown(ROOT / "README.md")
    assert not failures, "\n\n".join(failures)


def test_every_tutorial_is_listed_in_the_index():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for path in TUTORIALS:
        if path.name != "index.md":
            assert f"({path.name})" in index, f"docs/index.md does not link {path.name}"


def test_every_figure_a_tutorial_shows_exists():
    for path in TUTORIALS:
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", path.read_text(encoding="utf-8")):
            assert (DOCS / target).is_file(), f"{path.name} shows {target}, which does not exist"


# The collector itself: a broken example must fail ------------------------------------
def test_the_collector_pairs_each_python_block_with_the_text_block_after_it():
    blocks = parse_blocks("```python\nprint(1)\n```\n\n```text\n1\n```\n\nprose\n\n```text\nnot output\n```\n")
    assert [(block.language, block.expected) for block in blocks] == [("python", "1\n"), ("text", None)]


@pytest.mark.parametrize(
    ("markdown", "message"),
    [
        ("```python\nprint('accuracy: 100.00%')\n```\n```text\naccuracy: 99.00%\n```\n", "output differs"),
        ("```python\nraise RuntimeError('rotten example')\n```\n", "rotten example"),
        ("```python\nx = 1\n```\n```python\nprint(y)\n```\n", "NameError"),
        ("```console\n$ seqkit no-such-command\n```\n", "exited with 2"),
    ],
    ids=["wrong output", "exception", "undefined name", "failing command"],
)
def test_a_broken_example_fails(tmp_path, monkeypatch, markdown, message):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "broken.md"
    page.write_text(markdown, encoding="utf-8")
    failures = run_markdown(page)
    assert failures and message in "\n".join(failures)


def test_an_example_with_a_wildcard_passes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "ok.md"
    page.write_text("```python\nprint('took 1.234 s, 100.00%')\n```\n\n```text\ntook ... s, 100.00%\n```\n")
    assert run_markdown(page) == []


def _run_page(tmp_path, markdown: str) -> list[str]:
    page = tmp_path / "page.md"
    page.write_text(markdown, encoding="utf-8")
    return run_markdown(page)


def test_the_word_after_text_says_how_the_output_is_compared():
    blocks = parse_blocks(
        "```python\nprint(1)\n```\n\n```text rounding\n1\n```\n"
        "```python\nprint(2)\n```\n```text sample\n2\n```\n"
        "```python\nprint(3)\n```\n```text\n3\n```\n"
    )
    assert [block.check for block in blocks] == ["rounding", "sample", "exact"]


def test_an_unknown_check_after_text_is_refused():
    with pytest.raises(ValueError, match=r"^unknown output check 'roughly' after ```text: expected one of exact, "
                                         r"rounding, sample$"):
        parse_blocks("```python\nprint(1)\n```\n```text roughly\n1\n```\n")


def test_a_rounding_block_takes_a_last_digit_or_one_percent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = "```python\nprint('test: 2.71 bits, perplexity 6.61, 53.3% right, 32,810 characters')\n```\n"
    page = "test: 2.72 bits, perplexity 6.57, 53.4% right, 32,810 characters"
    assert _run_page(tmp_path, code + f"```text rounding\n{page}\n```\n") == []
    assert "output differs (exact check)" in _run_page(tmp_path, code + f"```text\n{page}\n```\n")[0]


@pytest.mark.parametrize(
    "printed",
    ["test: 2.80 bits, 53.4% right", "train: 2.72 bits, 53.4% right", "test: 2.72 bits, 53.4% right, 1 more"],
    ids=["a number 3% off", "another word", "another number of numbers"],
)
def test_a_rounding_block_still_fails_on_a_real_difference(tmp_path, monkeypatch, printed):
    monkeypatch.chdir(tmp_path)
    page = f"```python\nprint({printed!r})\n```\n```text rounding\ntest: 2.72 bits, 53.4% right\n```\n"
    failures = _run_page(tmp_path, page)
    assert len(failures) == 1 and "output differs (rounding check)" in failures[0]


def test_a_sample_block_takes_another_sample_but_not_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    other = "```python\nprint('def tuthe exponent')\n```\n```text sample\ndef tus anction\n```\n"
    assert _run_page(tmp_path, other) == []
    failures = _run_page(tmp_path, "```python\nx = 'def'\n```\n```text sample\ndef tus anction\n```\n")
    assert len(failures) == 1 and "output differs (sample check)" in failures[0]


def test_the_output_checks_examples_hold():
    result = doctest.testmod(doc_outputs)
    assert result.failed == 0 and result.attempted >= 8


# The API reference ----------------------------------------------------------------------
def test_the_api_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_api_reference", DOCS / "make_api_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (DOCS / "api.md").read_text(encoding="utf-8")
    assert current == module.render(), (
        "docs/api.md is stale: a docstring or signature changed. "
        "Regenerate it with: .venv/bin/python docs/make_api_reference.py"
    )
