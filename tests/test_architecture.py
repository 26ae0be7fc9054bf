"""Specification of the architecture: dependencies point one way, no private name crosses a module.

The layering is written as import-linter contracts in ``setup.cfg`` (``[importlinter]``):
from the experiments down to the errors, the CLI on top and never imported by the
library, the engine's loops above its step, plans and device policy, each trainer on the
window trainer or the base. ``lint-imports`` sees every import, those inside functions
too, so a cycle hidden in a function breaks a contract.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "seqkit").rglob("*.py"), *(ROOT / "cli").rglob("*.py")])


def test_the_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    contracts = (ROOT / "setup.cfg").read_text().count("[importlinter:contract:")
    assert f"Contracts: {contracts} kept, 0 broken." in result.stdout


def _imported_names(path: Path) -> list[tuple[str, str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (node.module.startswith("seqkit") or node.level):
            found.extend((node.module or ".", alias.name, node.lineno) for alias in node.names)
    return found


def test_no_private_name_is_imported_across_modules():
    private = [
        f"{path.relative_to(ROOT)}:{line}: {name} from {module}"
        for path in SOURCES
        for module, name, line in _imported_names(path)
        if name.startswith("_") and name != "__version__"
    ]
    assert private == []


def test_no_private_keras_or_tensorflow_api_is_used():
    private = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "keras.src" in line or "_flatten_layers" in line or "tensorflow.python" in line
    ]
    assert private == []
