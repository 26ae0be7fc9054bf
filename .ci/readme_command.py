"""Print the set-up command that README.md marks with ``<!-- command: NAME -->``.

The README holds exactly two set-up commands, each in the first fenced block
after its marker; CI runs them from here so the README cannot drift from CI.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def command(readme: str, name: str) -> str:
    pattern = re.compile(rf"<!-- command: {re.escape(name)} -->\s*```(?:bash|sh|console)?\n(.*?)\n```", re.S)
    match = pattern.search(readme)
    if match is None:
        raise SystemExit(f"README.md has no '<!-- command: {name} -->' block followed by a fenced command.")
    lines = [line.strip() for line in match.group(1).splitlines() if line.strip()]
    if len(lines) != 1:
        raise SystemExit(f"The README's {name} command must be one line; found {len(lines)}.")
    return lines[0]


if __name__ == "__main__":
    print(command(Path(sys.argv[1]).read_text(encoding="utf-8"), sys.argv[2]))
