"""``seqkit cells``: the units of a saved model that track each probe, as a table, JSON and pictures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from seqkit.cli.main import main
from seqkit.trainers import StreamTrainer

CODE = (
    'def f(x):\n    return "a(b)" + g([x, 1])  # one\n'
    "class K:\n    name = 'k'\n    def m(self):\n        return {1: (2, 3)}\n"
)


def invoke(runner: CliRunner, args: list[str]) -> Result:
    return runner.invoke(main, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cells")
    bundle, text = folder / "code.seqkit", folder / "code.py"
    StreamTrainer(window=16, batch_size=4, units=8, embedding_dim=4, epochs=1).fit(CODE * 12)[0].save(bundle)
    text.write_text(CODE * 12, encoding="utf-8")
    return bundle, text


def test_the_table_lists_the_best_units_of_each_probe(runner, files):
    bundle, text = files
    result = invoke(runner, ["cells", str(bundle), "--text", str(text), "--probe", "string", "--probe", "line_position",
                             "--top", "2"])
    assert result.exit_code == 0, result.output
    assert "Units that track each probe" in result.stdout
    assert "string" in result.stdout and "line_position" in result.stdout
    assert result.stdout.count("layer 1 ") == 4


def test_json_gives_the_ranking(runner, files):
    bundle, text = files
    result = invoke(runner, ["cells", str(bundle), "--text", str(text), "--probe", "string", "--json"])
    document = json.loads(result.stdout)
    assert list(document["probes"]) == ["string"]
    assert len(document["probes"]["string"]["top"]) == 3
    assert {"layer", "unit", "state", "correlation", "held_out"} == set(document["probes"]["string"]["top"][0])


def test_a_regular_expression_is_a_probe(runner, files):
    bundle, text = files
    document = json.loads(invoke(runner, ["cells", str(bundle), "--text", str(text), "--probe", r"\d", "--json"]).stdout)
    assert list(document["probes"]) == [r"regex:\d"]


def test_the_pictures_are_written(runner, files, tmp_path):
    pytest.importorskip("matplotlib")
    bundle, text = files
    html, png, saturation = tmp_path / "cells.html", tmp_path / "unit.png", tmp_path / "gates.png"
    result = invoke(runner, ["cells", str(bundle), "--text", str(text), "--probe", "string", "--html", str(html),
                             "--png", str(png), "--saturation", str(saturation)])
    assert result.exit_code == 0, result.output
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert png.read_bytes()[:4] == saturation.read_bytes()[:4] == b"\x89PNG"


def test_an_invalid_regular_expression_is_a_usage_error(runner, files):
    bundle, text = files
    result = invoke(runner, ["cells", str(bundle), "--text", str(text), "--probe", "(a"])
    assert result.exit_code == 2
    assert "Invalid value for --probe: The probe '(a' is neither a builtin probe" in result.output


def test_a_page_of_another_kind_is_a_usage_error(runner, files, tmp_path):
    bundle, text = files
    result = invoke(runner, ["cells", str(bundle), "--text", str(text), "--html", str(tmp_path / "cells.txt")])
    assert result.exit_code == 2
    assert f"Invalid value for --html: '{tmp_path / 'cells.txt'}' does not end in .html; give a .html path." in result.output


def test_the_text_is_never_overwritten(runner, files, tmp_path):
    bundle, text = files
    page = tmp_path / "page.html"
    page.write_text(text.read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke(runner, ["cells", str(bundle), "--text", str(page), "--html", str(page)])
    assert result.exit_code == 2
    assert f"--html '{page}' is also the --text input; writing it would destroy the input." in result.output
    assert page.read_text(encoding="utf-8") == text.read_text(encoding="utf-8")


def test_a_short_text_fails_in_one_line(runner, files, tmp_path):
    bundle, _ = files
    short = tmp_path / "short.py"
    short.write_text("x = 1\n", encoding="utf-8")
    result = invoke(runner, ["cells", str(bundle), "--text", str(short)])
    assert result.exit_code == 1
    assert result.output.strip().endswith(
        "cells needs a text of at least 100 tokens to correlate units with probes; got 6. Give a longer text."
    )
    assert "Traceback" not in result.output


def test_the_help_names_the_library_s_builtin_probes():
    from seqkit.cli.cells import BUILTIN_NAMES
    from seqkit.probes import BUILTIN_PROBES

    assert BUILTIN_NAMES == BUILTIN_PROBES
