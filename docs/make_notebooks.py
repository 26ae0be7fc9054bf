"""Write the tutorials as Jupyter notebooks: ``docs/notebooks/*.ipynb`` from ``docs/*.md``.

The Markdown pages stay the source of truth; a notebook is generated from its
page with jupytext and never edited by hand. Run from the repository root::

    .venv/bin/python docs/make_notebooks.py            # the notebooks, unexecuted
    .venv/bin/python docs/make_notebooks.py --execute  # executed, with their outputs (commit these)

What a notebook adds to its page:

- an "Open in Colab" badge and a note saying where it comes from;
- a first cell that installs seqkit (tagged ``skip-execution``: the test
  suite and ``--execute`` run the checkout instead, so they skip it);
- where a page needs it (none does yet), a parameters cell (tagged
  ``parameters``, as papermill uses it): the test suite runs such a notebook
  with fewer epochs, and the cell must say so;
- a few notebook-only edits, each declared below in :data:`PAGES` and listed
  in the notebook's note: ``verbose=1`` on a fit, so the notebook shows Keras's
  progress bar; a figure drawn live where the page shows a static PNG.

Each page's ```` ```python ```` blocks become code cells; the ```` ```text ````
block that follows one (its expected output, as ``tests/test_docs.py`` pairs
them) becomes that cell's output, not a cell; each ``$ seqkit ...`` line of a
```` ```console ```` block becomes a ``!seqkit ...`` cell with the lines after it as
its output. ``--execute`` replaces those outputs with real ones: a fresh
kernel per notebook, in a temporary folder, with ``COLUMNS=120`` (the width the
pages' command outputs are written for) and ``TF_CPP_MIN_LOG_LEVEL=3``; the
saved outputs keep no timing metadata and leave out TensorFlow's C++ start-up
log lines (timestamps and process ids that change on every run and say nothing
about seqkit). ``tests/test_notebooks.py`` checks that the committed notebooks
match their pages and executes them.
"""

from __future__ import annotations

import configparser
import copy
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from nbformat import NotebookNode

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS / "notebooks"

SETUP_CFG = DOCS.parent / "setup.cfg"
GITHUB = "https://github.com/"


def github_repository(setup_cfg: Path = SETUP_CFG) -> str:
    """The GitHub ``owner/name`` of the project's ``url`` in ``setup.cfg``.

    The repository is written once, in the package metadata; the badges, the
    install cell and the links of every notebook follow it.

    >>> owner, name = github_repository().split("/")
    >>> name
    'seqkit'
    """
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(setup_cfg, encoding="utf-8")
    url = parser.get("metadata", "url", fallback="").strip().rstrip("/")
    repository = url.removeprefix(GITHUB)
    if not url.startswith(GITHUB) or repository.count("/") != 1 or not all(repository.split("/")):
        raise SystemExit(
            f"{setup_cfg}: the notebooks' Colab badges need [metadata] url = {GITHUB}OWNER/NAME; "
            f"got {url!r}. Set the project's GitHub address there."
        )
    return repository


REPOSITORY = github_repository()
"""GitHub ``owner/name`` the badges and links point to: ``setup.cfg``'s ``url``."""

BRANCH = "main"
COLAB = f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/docs/notebooks/{{name}}.ipynb"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
INSTALL = f'%pip install -q "seqkit[plot] @ git+https://github.com/{REPOSITORY}.git"'

SKIP_TAG = "skip-execution"
SHELL_MAGIC = "%%bash"
BASH_FENCE = re.compile(r"^```bash[ \t]*$", re.MULTILINE)
"""How jupytext turns a page's ```bash block into a cell: shown, tagged :data:`SKIP_TAG`, not run
(those blocks use the reader's own files, a checkout or a shell's setup)."""
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
CONSOLE_WIDTH = 120
KERNEL = "python3"


@dataclass(frozen=True)
class Edit:
    """An exact notebook-only change to the page's code: ``old`` becomes ``new`` ``count`` times.

    ``count`` None: every occurrence (at least one). A page that no longer holds
    ``old`` stops the generator with a message, so an edit never silently lapses.
    """

    old: str
    new: str
    why: str
    count: int | None = 1


@dataclass(frozen=True)
class Page:
    """A tutorial that becomes a notebook, and what the notebook adds to it.

    Attributes:
        name: the page, ``docs/<name>.md``; the notebook is ``docs/notebooks/<name>.ipynb``.
        edits: notebook-only changes to the code cells.
        parameters: the source of the parameters cell, or None for none.
        quick: what the test suite injects after the parameters cell (fewer epochs).
        figures: a static image the page shows (its path) → the code that draws it live.
        after: the start of a code cell → a notebook-only cell to add after it.
        slow: the full run is too long for the default suite: the tests execute it in the
            slow suite (CI runs it) and the default suite checks the committed outputs only.
    """

    name: str
    edits: tuple[Edit, ...] = ()
    parameters: str | None = None
    quick: Mapping[str, Any] = field(default_factory=dict)
    figures: Mapping[str, str] = field(default_factory=dict)
    after: Mapping[str, str] = field(default_factory=dict)
    slow: bool = False


PAGES: tuple[Page, ...] = (
    Page(
        "quickstart",
        edits=(Edit(".fit(seqkit.alphabet())", ".fit(seqkit.alphabet(), verbose=1)",
                    "`verbose=1` on the fit, to show Keras's progress bar"),),
        after={
            "print(history.epochs": (
                "# Notebook only: the training curves (seqkit.plot returns a matplotlib Figure).\n"
                "from seqkit.plot import plot_history\n"
                "\n"
                'plot_history({"stateful, LSTM 50": history})'
            ),
        },
    ),
    Page(
        "stateful",
        edits=(
            Edit("model, history = trainer.fit(corpus)", "model, history = trainer.fit(corpus, verbose=1)",
                 "`verbose=1` on the first fit, to show Keras's progress bar"),
        ),
        figures={
            "figures/hidden-state.png": (
                "# Notebook only: the heat map, drawn live (docs/make_figures.py draws the page's PNG).\n"
                "from seqkit.plot import plot_hidden_states\n"
                "\n"
                'plot_hidden_states(model, ALPHABET, reset_at=ALPHABET.index("K"))'
            ),
        },
        slow=True,
    ),
    Page(
        "validation",
        edits=(
            Edit("model, history = trainer.fit(corpus, validation=0.1, callbacks=[stop])",
                 "model, history = trainer.fit(corpus, validation=0.1, callbacks=[stop], verbose=1)",
                 "`verbose=1` on the fit, to show Keras's progress bar with the held-out loss"),
        ),
        after={
            "from seqkit.plot import plot_history": (
                "# Notebook only: show the figure the cell above drew (plot_history returns it).\n"
                "figure"
            ),
        },
        slow=True,
    ),
    Page(
        "custom-vocabulary",
        edits=(
            Edit("chords, _ = trainer.fit(song)", "chords, _ = trainer.fit(song, verbose=1)",
                 "`verbose=1` on the first fit, to show Keras's progress bar"),
        ),
        after={
            "trainer = StatelessTrainer(window=3, encoding=\"onehot\", units=16, epochs=150, seed=7)": (
                "# Notebook only: the chord model's training curves (seqkit.plot returns a Figure).\n"
                "from seqkit.plot import plot_history\n"
                "\n"
                'plot_history({"chords": chords.history})'
            ),
        },
        slow=True,
    ),
    Page(
        "layouts",
        after={
            "from seqkit.trainers import StatelessTrainer": (
                "# Notebook only: the three models' training curves (seqkit.plot returns a Figure), and\n"
                "# Keras's progress bar on a 3-epoch fit (the page's fits run 500 epochs each, without one).\n"
                "from seqkit.plot import plot_history\n"
                "\n"
                "StatelessTrainer(window=3, units=32, epochs=3, batch_size=1, seed=7).fit(corpus, verbose=1)\n"
                "plot_history({name: model.history for name, model in models.items()})"
            ),
        },
        slow=True,
    ),
    Page(
        "in-batch",
        after={
            "import numpy as np": (
                "# Notebook only: the loss curve of the 5,000 full-batch steps (seqkit.plot returns a Figure),\n"
                "# and Keras's progress bar on a 3-epoch fit: each epoch is one step on the whole alphabet.\n"
                "from seqkit.plot import plot_history\n"
                "\n"
                "InBatchTrainer(window=1, units=16, epochs=3, seed=7).fit(corpus, verbose=1)\n"
                'plot_history({"in-batch, LSTM 16": history})'
            ),
        },
        slow=True,
    ),
    Page(
        "variable-length",
        edits=(
            Edit("    model, _ = trainer.fit(corpus)\n", '    model, _ = trainer.fit(corpus, verbose=1 if encoding == "onehot" else 0)\n',
                 "`verbose=1` on the one-hot fit, to show Keras's progress bar"),
        ),
        after={
            "from seqkit.trainers import RandomWindows, StatelessTrainer": (
                "# Notebook only: both models' training curves (seqkit.plot returns a Figure).\n"
                "from seqkit.plot import plot_history\n"
                "\n"
                "plot_history({encoding: model.history for encoding, model in models.items()})"
            ),
        },
        slow=True,
    ),
    Page(
        "export",
        edits=(
            Edit('interpreter = tf.lite.Interpreter(model_path="alphabet.tflite")',
                 "import warnings\n\n"
                 'warnings.filterwarnings("ignore", message=r"(?s).*tf\\.lite\\.Interpreter is deprecated")\n'
                 'interpreter = tf.lite.Interpreter(model_path="alphabet.tflite")',
                 "TensorFlow's deprecation notice for `tf.lite.Interpreter` filtered (its successor, LiteRT, "
                 "is another package with the same API)"),
        ),
        after={
            "import seqkit\nfrom seqkit.trainers import StatefulTrainer": (
                "# Notebook only: the training curves (seqkit.plot returns a Figure), and Keras's progress\n"
                "# bar on a 3-epoch fit (the page's fit runs 300 epochs without one).\n"
                "from seqkit.plot import plot_history\n"
                "\n"
                'StatefulTrainer(window=1, units=50, epochs=3, batch_size=1, reset="epoch", seed=7).fit(\n'
                "    seqkit.alphabet(), verbose=1\n"
                ")\n"
                'plot_history({"stateful, LSTM 50": history})'
            ),
        },
        slow=True,
    ),
    Page(
        "scale",
        edits=(Edit("trainer.fit(sample_text())", "trainer.fit(sample_text(), verbose=1)",
                    "`verbose=1` on the stream fit, to show Keras's progress bar"),),
        after={
            "from seqkit.corpora import sample_text": (
                "# Notebook only: the one epoch's record, drawn (seqkit.plot returns a Figure).\n"
                "from seqkit.plot import plot_history\n"
                "\n"
                'plot_history({"stream, 2 KB": history})'
            ),
        },
        slow=True,
    ),
    Page(
        "generation",
        edits=(Edit("model, history = trainer.fit(python_stdlib(max_bytes=200_000))",
                    "model, history = trainer.fit(python_stdlib(max_bytes=200_000), verbose=1)",
                    "`verbose=1` on the fit, to show Keras's progress bar"),),
        after={
            "from seqkit.corpora import python_stdlib": (
                "# Notebook only: the training curve of the model the page writes with (seqkit.plot returns a Figure).\n"
                "from seqkit.plot import plot_history\n"
                "\n"
                'plot_history({"stream, LSTM 128": history})'
            ),
        },
        slow=True,
    ),
    Page(
        "inside",
        edits=(Edit("model, history = trainer.fit(python_stdlib(max_bytes=200_000))",
                    "model, history = trainer.fit(python_stdlib(max_bytes=200_000), verbose=1)",
                    "`verbose=1` on the fit, to show Keras's progress bar"),),
        after={
            'figure = report.plot("line_position"': (
                "# Notebook only: the figure itself (a matplotlib Figure shows itself as a cell's value).\n"
                "figure"
            ),
        },
        slow=True,
    ),
    Page(
        "cli",
        after={
            '!seqkit train --tokens "C G Am F C G Am F C G Am F C G F C"': (
                "# Notebook only: the curve that --plot wrote, and the same command without --quiet,\n"
                "# which shows seqkit's progress display.\n"
                "from IPython.display import Image, display\n"
                "\n"
                'display(Image("chords.png"))\n'
                '!seqkit train --tokens "C G Am F C G Am F C G Am F C G F C" --window 3 --encoding onehot '
                "--units 16 --epochs 150 --out chords-again.seqkit"
            ),
        },
        slow=True,
    ),
)
"""The tutorials published as notebooks: the two that carry the origin tutorial's story (the
alphabet, then state), held-out evaluation on real text, your own vocabulary, the layouts,
in-batch training, variable-length windows, export, scale, generation, looking inside the cells and the command line. The first
runs in full in the test suite (about 15 s on two CPU cores, kernel start included); the
others run in full in the slow suite, which CI runs too. A page's ``console`` blocks (a
terminal session) run as ``!seqkit ...`` cells; its ``bash`` blocks (the reader's own files,
a checkout, shell completion) become ``%%bash`` cells tagged ``skip-execution``: shown,
never run. A page whose full run would be too long even there gets ``parameters`` and
``quick``. Add a page here and run ``--execute`` to publish another."""


# Building ---------------------------------------------------------------------------------
FENCE = re.compile(r"^```(\w*)(?:[ \t]+(\S+))?[ \t]*$")
OUTPUT_CHECK = "output_check"
"""The cell metadata key (under ``seqkit``) that keeps the word after a page's output fence: ``rounding`` or ``sample``."""
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
PAGE_LINK = re.compile(r"\]\(([\w.-]+)\.md(#[^)\s]*)?\)")
PAGE_NOTE = re.compile(r"^\*This page as a notebook:\*.*\n\n?", re.MULTILINE)
"""The page's own line pointing to its notebook (the notebook has its badge instead)."""


def _page_url(name: str) -> str:
    return f"https://github.com/{REPOSITORY}/blob/{BRANCH}/docs/{name}.md"


def _relink(markdown: str) -> str:
    """Links to other pages point to their notebook when there is one, else to the page on GitHub."""
    notebooks = {page.name for page in PAGES}

    def page(match: re.Match[str]) -> str:
        name, anchor = match.group(1), match.group(2) or ""
        return f"]({name}.ipynb{anchor})" if name in notebooks else f"]({_page_url(name)}{anchor})"

    def image(match: re.Match[str]) -> str:
        alt, target = match.groups()
        if "://" in target:
            return match.group(0)
        return f"![{alt}](https://raw.githubusercontent.com/{REPOSITORY}/{BRANCH}/docs/{target})"

    return IMAGE.sub(image, PAGE_LINK.sub(page, markdown))


def _stream(text: str) -> NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _split_markdown(source: str) -> list[tuple[str, str, str]]:
    """A markdown cell as ``(kind, text, check)`` pieces.

    ``kind`` is ``"markdown"``, ``"text"`` (a text block) or ``"console"``; ``check`` is
    the word after ``text`` in a text block's fence (``rounding``, ``sample``; ``""``
    for none), which ``tests/test_notebooks.py`` compares the executed output by.
    """
    pieces: list[tuple[str, str, str]] = []
    lines = source.split("\n")
    prose: list[str] = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match and match.group(1) in ("text", "console"):
            end = index + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if "\n".join(prose).strip():
                pieces.append(("markdown", "\n".join(prose).strip("\n"), ""))
            prose = []
            pieces.append((match.group(1), "\n".join(lines[index + 1 : end]) + "\n", match.group(2) or ""))
            index = end + 1
        else:
            prose.append(lines[index])
            index += 1
    if "\n".join(prose).strip():
        pieces.append(("markdown", "\n".join(prose).strip("\n"), ""))
    return pieces


def _console_cells(block: str) -> list[NotebookNode]:
    """``$ seqkit ...`` lines as ``!seqkit ...`` cells, each with the lines after it as output."""
    cells: list[NotebookNode] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            cells.append(nbformat.v4.new_code_cell("!" + line[2:]))
        elif cells:
            outputs = cells[-1].outputs
            if outputs:
                outputs[0].text += line + "\n"
            else:
                outputs.append(_stream(line + "\n"))
    return cells


def _apply_edits(page: Page, cells: list[NotebookNode]) -> None:
    for edit in page.edits:
        found = sum(cell.source.count(edit.old) for cell in cells if cell.cell_type == "code")
        wanted = edit.count if edit.count is not None else max(found, 1)
        if found != wanted:
            raise SystemExit(
                f"docs/{page.name}.md: the notebook edit {edit.old!r} -> {edit.new!r} expects {wanted} "
                f"occurrence(s) in the code and found {found}; update PAGES in docs/make_notebooks.py."
            )
        left = wanted
        for cell in cells:
            if cell.cell_type == "code" and left:
                occurrences = min(cell.source.count(edit.old), left)
                cell.source = cell.source.replace(edit.old, edit.new, occurrences)
                left -= occurrences


def _header(page: Page, title: str) -> NotebookNode:
    notes = [edit.why for edit in page.edits]
    if page.parameters:
        notes.append("a parameters cell (the test suite runs this notebook with fewer epochs)")
    if page.figures or page.after:
        notes.append("figures drawn live with `seqkit.plot`")
    badge = f"[![Open In Colab]({BADGE})]({COLAB.format(name=page.name)})"
    text = (
        f"{title}\n\n{badge}\n\n"
        f"*This notebook is [`docs/{page.name}.md`]({_page_url(page.name)}), generated by "
        "`docs/make_notebooks.py` (edit the page, not the notebook). It adds an install cell"
        + "".join(f"; {note}" for note in notes)
        + ".*"
    )
    return nbformat.v4.new_markdown_cell(text)


def build(page: Page) -> NotebookNode:
    """The notebook of ``page``, unexecuted: the page's expected outputs as the cells' outputs."""
    markdown = PAGE_NOTE.sub("", (DOCS / f"{page.name}.md").read_text(encoding="utf-8"))
    # A ```bash block becomes a %%bash cell whatever language jupytext would guess for the page.
    source = jupytext.reads(BASH_FENCE.sub(f"```python\n{SHELL_MAGIC}", markdown), fmt="md")
    cells: list[NotebookNode] = []
    for cell in source.cells:
        if cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(cell.source))
            if cell.source.startswith(SHELL_MAGIC):  # a ```bash block: the reader's own files or machine
                cells[-1].metadata["tags"] = [SKIP_TAG]
            continue
        for kind, text, check in _split_markdown(cell.source):
            if kind == "text" and cells and cells[-1].cell_type == "code" and not cells[-1].outputs:
                cells[-1].outputs.append(_stream(text))
                if check:
                    cells[-1].metadata["seqkit"] = {OUTPUT_CHECK: check}
            elif kind == "console":
                cells.extend(_console_cells(text))
            elif kind == "text":
                cells.append(nbformat.v4.new_markdown_cell(f"```text\n{text}```"))
            else:
                cells.extend(_markdown_cells(page, text))
    for anchor, extra in page.after.items():
        where = [index for index, cell in enumerate(cells)
                 if cell.cell_type == "code" and cell.source.startswith(anchor)]
        if len(where) != 1:
            raise SystemExit(f"docs/{page.name}.md: {len(where)} code cells start with {anchor!r}, not one; "
                             "update PAGES in docs/make_notebooks.py.")
        cells.insert(where[0] + 1, nbformat.v4.new_code_cell(extra))
    _apply_edits(page, cells)
    for target, code in page.figures.items():
        if not any(cell.source == code for cell in cells):
            raise SystemExit(f"docs/{page.name}.md no longer shows {target}; update PAGES in docs/make_notebooks.py.")
    install = nbformat.v4.new_code_cell(
        "# Install seqkit with matplotlib for the figures (Colab has TensorFlow already).\n" + INSTALL
    )
    install.metadata["tags"] = [SKIP_TAG]
    title, _, rest = cells[0].source.partition("\n")
    if cells[0].cell_type != "markdown" or not title.startswith("# "):
        raise SystemExit(f"docs/{page.name}.md must start with its title ('# ...').")
    opening = [_header(page, title)]
    if rest.strip():
        opening.append(nbformat.v4.new_markdown_cell(rest.strip("\n")))
    opening.append(install)
    if page.parameters:
        parameters = nbformat.v4.new_code_cell(page.parameters)
        parameters.metadata["tags"] = [PARAMETERS_TAG]
        opening.append(parameters)
    cells = opening + cells[1:]
    for index, cell in enumerate(cells):
        cell.id = f"{page.name}-{index:03d}"
        if cell.cell_type == "code":
            cell.execution_count = None
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    nbformat.validate(notebook)
    return notebook


def _markdown_cells(page: Page, text: str) -> list[NotebookNode]:
    """Prose; a static figure the notebook draws live becomes prose, then the drawing cell."""
    cells: list[NotebookNode] = []
    rest = text
    for target, code in page.figures.items():
        match = re.search(r"!\[[^\]]*\]\(" + re.escape(target) + r"\)\n?", rest)
        if match:
            before = rest[: match.start()].strip("\n")
            if before:
                cells.append(nbformat.v4.new_markdown_cell(_relink(before)))
            cells.append(nbformat.v4.new_code_cell(code))
            rest = rest[match.end() :]
    if rest.strip():
        cells.append(nbformat.v4.new_markdown_cell(_relink(rest.strip("\n"))))
    return cells


# Executing -----------------------------------------------------------------------------------
TENSORFLOW_LOG = re.compile(
    r"^(?:[IWEF]\d{4} \d+:\d+:\d+\.\d+\s+\d+ \S+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow .*"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.)\n?",
    re.MULTILINE,
)
"""TensorFlow's C++ log lines (``I0000 00:00:... port.cc:153] oneDNN ...``), written at import
before any setting can hide them."""


def kernel_environment() -> dict[str, str]:
    """The kernel's environment: this Python's scripts first on PATH (``!seqkit``), wide, quiet C++ logs."""
    scripts = str(Path(sys.executable).parent)
    # Under pytest ipykernel would not forward output written to the file descriptors themselves
    # (TensorFlow's C++ lines, a library's warnings): a user's kernel does.
    inherited = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    return {
        **inherited,
        "PATH": scripts + os.pathsep + os.environ.get("PATH", ""),
        "COLUMNS": str(CONSOLE_WIDTH),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


def clean_outputs(notebook: NotebookNode) -> NotebookNode:
    """Drop TensorFlow's C++ log lines from standard-error outputs, and outputs left empty."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.text = TENSORFLOW_LOG.sub("", output.text)
                if not output.text:
                    continue
            kept.append(output)
        cell.outputs = kept
    return notebook


def execute(
    notebook: NotebookNode,
    folder: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    timeout: int = 600,
) -> NotebookNode:
    """Run ``notebook`` in a fresh kernel with ``folder`` as working directory; return it executed.

    Cells tagged ``skip-execution`` are not run (they keep their source, without
    outputs); ``parameters`` are assigned in a cell after the ``parameters`` cell,
    as papermill does (that cell is not kept). A cell that raises stops the run
    with nbclient's ``CellExecutionError``.
    """
    from nbclient import NotebookClient

    work = copy.deepcopy(notebook)
    skipped = {cell.id: cell.source for cell in work.cells if SKIP_TAG in cell.metadata.get("tags", [])}
    for cell in work.cells:
        if cell.id in skipped:
            cell.source = ""
    if parameters:
        where = next(
            (index for index, cell in enumerate(work.cells) if PARAMETERS_TAG in cell.metadata.get("tags", [])),
            None,
        )
        if where is None:
            raise ValueError("This notebook has no parameters cell to override.")
        injected = nbformat.v4.new_code_cell("\n".join(f"{name} = {value!r}" for name, value in parameters.items()))
        injected.metadata["tags"] = [INJECTED_TAG]
        injected.id = "injected-parameters"
        work.cells.insert(where + 1, injected)
    client = NotebookClient(
        work,
        timeout=timeout,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(folder)}},
        coalesce_streams=True,
        record_timing=False,
    )
    client.execute(env=kernel_environment())
    work.cells = [cell for cell in work.cells if INJECTED_TAG not in cell.metadata.get("tags", [])]
    for cell in work.cells:
        if cell.id in skipped:
            cell.source, cell.outputs, cell.execution_count = skipped[cell.id], [], None
    work.metadata = notebook.metadata
    return clean_outputs(work)


def notebook_path(page: Page) -> Path:
    return NOTEBOOKS / f"{page.name}.ipynb"


def main(argv: list[str] | None = None) -> None:
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run each notebook and save its real outputs")
    parser.add_argument("pages", nargs="*", help="page names (default: all of PAGES)")
    arguments = parser.parse_args(argv)
    chosen = [page for page in PAGES if not arguments.pages or page.name in arguments.pages]
    NOTEBOOKS.mkdir(exist_ok=True)
    for page in chosen:
        notebook = build(page)
        if arguments.execute:
            started = time.perf_counter()
            with tempfile.TemporaryDirectory() as folder:
                notebook = execute(notebook, folder)
            print(f"{page.name}: executed in {time.perf_counter() - started:.0f} s")
        nbformat.write(notebook, notebook_path(page))
        print("wrote", notebook_path(page).relative_to(DOCS.parent))


if __name__ == "__main__":
    main()
