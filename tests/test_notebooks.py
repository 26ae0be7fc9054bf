"""The tutorials as notebooks: generated from ``docs/*.md``, committed with outputs, executed here.

``docs/make_notebooks.py`` writes ``docs/notebooks/*.ipynb`` from the Markdown
pages (jupytext), and ``--execute`` saves them with their real outputs. Here:

- the committed notebooks are what the generator makes from today's pages
  (a page edited without regenerating fails), and carry their outputs: the
  figure (``image/png``), Keras's progress bar, no error, no warning;
- each notebook runs in a fresh Jupyter kernel (nbclient) from the checkout,
  its install cell skipped: a notebook without a parameters cell runs in full
  and every output is compared with the page's (as ``test_docs`` compares
  them); one with a parameters cell runs here with fewer epochs (the cell
  says so), and in full, compared, in the slow tests;
- no cell writes to standard error: TensorFlow's C++ start-up lines aside
  (``make_notebooks.clean_outputs``), a warning there (``install "ipywidgets"``,
  a Keras ``UserWarning``) fails the test.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from doc_outputs import matches

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("jupytext")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", DOCS / "make_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


make_notebooks = _load_generator()
PAGES = {page.name: page for page in make_notebooks.PAGES}
FULL_IN_SUITE = [  # every executed notebook runs in the slow suite (CI); its page runs in test_docs
    pytest.param(name, marks=[pytest.mark.slow]) for name, page in PAGES.items() if not page.quick
]
QUICK_IN_SUITE = [name for name, page in PAGES.items() if page.quick]

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
KERAS_PROGRESS = re.compile(r"^(?:Epoch \d+/\d+|\s*\d+/\d+ .*(?:step|━).*)\n", re.MULTILINE)


def _stdout(cell) -> str:
    """What a cell printed, as a reader sees it: no colours, no carriage returns."""
    text = "".join(output.text for output in cell.outputs if output.output_type == "stream")
    return ANSI.sub("", text.replace("\r\n", "\n"))


def _shape(notebook) -> list[tuple[str, str, list[str]]]:
    return [(cell.cell_type, cell.source, cell.metadata.get("tags", [])) for cell in notebook.cells]


def _code(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def assert_shows_figure_and_progress(notebook, *, command_line: bool = False) -> None:
    """A figure, and training progress: Keras's bar, or for the command line's notebook seqkit's own display."""
    outputs = [output for cell in _code(notebook) for output in cell.outputs]
    assert any("image/png" in output.get("data", {}) for output in outputs), "no figure (image/png output)"
    progress = "".join(_stdout(cell) for cell in _code(notebook))
    if command_line:
        assert re.search(r" epoch +(\d+)/\1 loss \d", progress.replace("\r", "\n")), "no seqkit progress ('epoch N/N')"
        return
    # Keras prints "Epoch 1/N" above the bar only when a fit has more than one epoch.
    assert re.search(r"^\s*\d+/\d+ ━+ .*step", progress, re.MULTILINE), "no Keras progress bar"


def assert_no_error_or_warning(notebook) -> None:
    for cell in _code(notebook):
        for output in cell.outputs:
            assert output.output_type != "error", f"{cell.source[:60]!r} raised {output.get('ename')}"
            assert output.get("name") != "stderr", f"{cell.source[:60]!r} wrote to stderr:\n{output.text}"


def assert_outputs_match_the_page(built, executed) -> None:
    """Each output the page states is what the cell printed, compared as ``test_docs`` compares it.

    ``...`` is a wildcard; a cell whose page block is ```text rounding`` or ```text
    sample`` (its metadata keeps which) is compared as ``doc_outputs`` says.
    """
    failures = []
    for want_cell, got_cell in zip(_code(built), _code(executed), strict=True):
        want = _stdout(want_cell)
        if not want:
            continue
        got = KERAS_PROGRESS.sub("", _stdout(got_cell))
        console = want_cell.source.startswith("!")
        flags = doctest.ELLIPSIS | (doctest.NORMALIZE_WHITESPACE if console else 0)
        if console:  # rich pads table lines; the page does not show trailing spaces
            got = "\n".join(line.rstrip() for line in got.splitlines()) + "\n"
        check = want_cell.metadata.get("seqkit", {}).get(make_notebooks.OUTPUT_CHECK, "exact")
        if not matches(want, got, check, flags):
            failures.append(f"{want_cell.source!r}\n--- page\n{want}--- notebook\n{got}")
    assert not failures, "\n\n".join(failures)


# The committed notebooks ----------------------------------------------------------------
@pytest.mark.parametrize("name", list(PAGES))
def test_the_committed_notebook_is_its_page(name):
    committed = nbformat.read(make_notebooks.notebook_path(PAGES[name]), as_version=4)
    assert _shape(committed) == _shape(make_notebooks.build(PAGES[name])), (
        f"docs/notebooks/{name}.ipynb is stale: docs/{name}.md or the generator changed. "
        "Regenerate it with: .venv/bin/python docs/make_notebooks.py --execute"
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_the_committed_notebook_carries_its_outputs(name):
    committed = nbformat.read(make_notebooks.notebook_path(PAGES[name]), as_version=4)
    nbformat.validate(committed)
    assert_shows_figure_and_progress(committed, command_line=name == "cli")
    assert_no_error_or_warning(committed)
    ran = [cell for cell in _code(committed) if "skip-execution" not in cell.metadata.get("tags", [])]
    assert all(cell.execution_count for cell in ran), "a cell was not executed"


def test_every_notebook_is_a_tutorial_listed_in_the_index():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for name in PAGES:
        assert f"({name}.md)" in index
    assert sorted(path.stem for path in (DOCS / "notebooks").glob("*.ipynb")) == sorted(PAGES)


# The generator ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_links_its_notebook_in_colab(name):
    page = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    colab = make_notebooks.COLAB.format(name=name)
    assert f"*This page as a notebook:* [open in Colab]({colab}) · [`notebooks/{name}.ipynb`](notebooks/{name}.ipynb)" in page


def test_the_badges_point_to_the_repository_in_setup_cfg(tmp_path):
    setup_cfg = tmp_path / "setup.cfg"
    setup_cfg.write_text("[metadata]\nname = seqkit\nurl = https://github.com/ada/lstm-lab/\n", encoding="utf-8")
    assert make_notebooks.github_repository(setup_cfg) == "ada/lstm-lab"
    assert make_notebooks.github_repository() == make_notebooks.REPOSITORY
    assert make_notebooks.COLAB.startswith(f"https://colab.research.google.com/github/{make_notebooks.REPOSITORY}/")


def test_a_setup_cfg_without_a_github_url_stops_the_generator(tmp_path):
    setup_cfg = tmp_path / "setup.cfg"
    setup_cfg.write_text("[metadata]\nname = seqkit\nurl = https://example.org/seqkit\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        make_notebooks.github_repository(setup_cfg)
    assert str(stopped.value) == (
        f"{setup_cfg}: the notebooks' Colab badges need [metadata] url = https://github.com/OWNER/NAME; "
        "got 'https://example.org/seqkit'. Set the project's GitHub address there."
    )


@pytest.mark.slow  # a notebook executed in a kernel, ~4 s
def test_a_parameters_cell_is_overridden_and_the_install_cell_skipped(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("raise SystemExit('the install cell ran')", metadata={"tags": ["skip-execution"]}),
        nbformat.v4.new_code_cell("EPOCHS = 300", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('epochs:', EPOCHS)"),
    ])
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    executed = make_notebooks.execute(notebook, tmp_path, parameters={"EPOCHS": 20})
    assert [cell.source for cell in executed.cells] == [cell.source for cell in notebook.cells]
    assert executed.cells[0].outputs == [] and executed.cells[0].execution_count is None
    assert _stdout(executed.cells[2]) == "epochs: 20\n"

def test_expected_output_blocks_become_outputs_and_commands_become_cells():
    notebook = make_notebooks.build(PAGES["quickstart"])
    first, install = notebook.cells[0], _code(notebook)[0]
    assert first.source.startswith("# Quickstart")
    assert "https://colab.research.google.com/github/seqkit-dev/seqkit/blob/main/docs/notebooks/quickstart.ipynb" in (
        first.source
    )
    assert install.metadata["tags"] == ["skip-execution"] and "%pip install" in install.source
    hello = _code(notebook)[1]
    assert hello.source.startswith("import seqkit") and _stdout(hello) == "BCDEFGHIJKLMNOPQRSTUVWXYZ\n"
    assert not any("```text" in cell.source or "```console" in cell.source for cell in notebook.cells)
    command = next(cell for cell in _code(notebook) if cell.source.startswith("!"))
    assert command.source == "!seqkit experiments stateful --quiet"
    assert "The tutorial's experiments, reproduced" in _stdout(command)
    assert not any("](quickstart.md" in cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_a_page_output_compared_to_its_rounding_keeps_that_check_in_the_notebook():
    notebook = make_notebooks.build(PAGES["validation"])
    checks = [cell.metadata.get("seqkit", {}).get("output_check") for cell in _code(notebook) if _stdout(cell)]
    assert checks.count("rounding") == 2 and checks.count(None) == len(checks) - 2
    fences = [cell for cell in notebook.cells if re.search(r"^```text", cell.source, re.MULTILINE)]
    assert not fences, "a page's output block was left in the notebook as text"


def test_a_rounding_cell_takes_the_last_digit_and_an_exact_one_does_not():
    built, executed = make_notebooks.build(PAGES["validation"]), make_notebooks.build(PAGES["validation"])
    scored = [index for index, cell in enumerate(_code(built)) if "% right" in _stdout(cell)]
    assert len(scored) == 1
    printed = _code(executed)[scored[0]].outputs[0]
    printed.text = printed.text.replace("66% right", "65% right")
    assert_outputs_match_the_page(built, executed)
    del _code(built)[scored[0]].metadata["seqkit"]
    with pytest.raises(AssertionError, match="65% right"):
        assert_outputs_match_the_page(built, executed)


def test_a_notebook_edit_that_no_longer_matches_stops_the_generator():
    page = make_notebooks.Page("quickstart", edits=(make_notebooks.Edit("no such code", "x", "why"),))
    with pytest.raises(SystemExit, match="expects 1 occurrence"):
        make_notebooks.build(page)


def test_the_parameters_cell_says_what_the_tests_run():
    for page in PAGES.values():
        if page.quick:
            assert page.parameters is not None
            for name, value in page.quick.items():
                assert f"{name} = {value}" in page.parameters, f"{page.name}: the cell does not say {name} = {value}"


def test_tensorflow_start_up_lines_are_left_out_and_nothing_else():
    cell = nbformat.v4.new_code_cell("import tensorflow")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=(
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "I0000 00:00:1795816427.978706   11048 port.cc:153] oneDNN custom operations are on.\n"
            "E0000 00:00:1795816430.125358   11048 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR\n"
        )),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: install \"ipywidgets\"\n"),
    ]
    cleaned = make_notebooks.clean_outputs(nbformat.v4.new_notebook(cells=[cell]))
    assert [output.text for output in cleaned.cells[0].outputs] == ['UserWarning: install "ipywidgets"\n']


# Executed ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FULL_IN_SUITE)
def test_the_notebook_runs_and_shows_its_page_output(name, tmp_path):
    built = make_notebooks.build(PAGES[name])
    executed = make_notebooks.execute(built, tmp_path)
    assert_no_error_or_warning(executed)
    assert_shows_figure_and_progress(executed, command_line=name == "cli")
    assert_outputs_match_the_page(built, executed)


@pytest.mark.parametrize("name", QUICK_IN_SUITE)
def test_the_notebook_runs_with_fewer_epochs(name, tmp_path):
    executed = make_notebooks.execute(make_notebooks.build(PAGES[name]), tmp_path, parameters=PAGES[name].quick)
    assert_no_error_or_warning(executed)
    assert_shows_figure_and_progress(executed, command_line=name == "cli")
    epochs = re.findall(r"^Epoch \d+/(\d+)$", "".join(_stdout(cell) for cell in _code(executed)), re.MULTILINE)
    assert set(epochs) == {str(value) for value in PAGES[name].quick.values()}


@pytest.mark.slow
@pytest.mark.parametrize("name", QUICK_IN_SUITE)
def test_the_notebook_in_full_shows_its_page_output(name, tmp_path):
    built = make_notebooks.build(PAGES[name])
    executed = make_notebooks.execute(built, tmp_path)
    assert_no_error_or_warning(executed)
    assert_shows_figure_and_progress(executed, command_line=name == "cli")
    assert_outputs_match_the_page(built, executed)


@pytest.mark.slow
def test_the_command_line_in_a_notebook_shows_its_progress_without_warnings(tmp_path):
    """``!seqkit train`` (a terminal: the live bar) and the CLI called in the kernel (plain lines)."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("!seqkit train --window 2 --units 4 --epochs 3"),
        nbformat.v4.new_code_cell(
            "from seqkit.cli.main import main\n"
            "main(['train', '--window', '2', '--units', '4', '--epochs', '3'], standalone_mode=False)"
        ),
    ])
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    executed = make_notebooks.execute(notebook, tmp_path)
    assert_no_error_or_warning(executed)
    shell, in_kernel = executed.cells
    assert re.search(r"stateless on alphabet .*epoch 3/3 loss \d\.\d{4} acc", _stdout(shell))
    shown = "".join(output.data["text/plain"] for output in in_kernel.outputs if output.output_type == "display_data")
    assert "stateless on alphabet: epoch 3/3 loss" in shown
    assert "Trained" in _stdout(shell) and "Trained" in shown
