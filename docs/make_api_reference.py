"""Generate ``docs/api.md``, the API reference, from seqkit's docstrings.

Run from the repository root after changing a public signature or docstring::

    .venv/bin/python docs/make_api_reference.py

``tests/test_docs.py`` fails while ``docs/api.md`` differs from what this
script renders, so the reference cannot drift from the code. Each module
listed in :data:`MODULES` contributes its docstring, then every public class
(with its public methods and properties) and function defined in it, with
signatures from :mod:`inspect`. ``>>>`` examples become ``pycon`` code blocks
(they are run by ``tests/test_docstrings.py``).
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "api.md"

MODULES = (
    "seqkit.datasets",
    "seqkit.vocab",
    "seqkit.subword",
    "seqkit.windows",
    "seqkit.layouts",
    "seqkit.models",
    "seqkit.schedules",
    "seqkit.trainers.base",
    "seqkit.trainers.continuation",
    "seqkit.trainers.stateless",
    "seqkit.trainers.stateful",
    "seqkit.trainers.stream",
    "seqkit.reset",
    "seqkit.streams",
    "seqkit.corpora",
    "seqkit.distribute",
    "seqkit.backends",
    "seqkit.engine.jax_loop",
    "seqkit.engine.policy",
    "seqkit.engine.cpu_features",
    "seqkit.callbacks",
    "seqkit.sequence_model",
    "seqkit.sampling",
    "seqkit.stepping",
    "seqkit.scoring",
    "seqkit.baselines",
    "seqkit.splits",
    "seqkit.bundle",
    "seqkit.io.keras_config",
    "seqkit.checkpoint",
    "seqkit.experiments",
    "seqkit.plot",
    "seqkit.inside",
    "seqkit.probes",
    "seqkit.activation_html",
    "seqkit.errors",
    "seqkit.checks",
    "seqkit.files",
    "seqkit.version",
)

SECTIONS = ("Args:", "Arguments:", "Returns:", "Raises:", "Attributes:", "Yields:", "Example:", "Examples:")


def _inline(text: str) -> str:
    """reStructuredText roles and literals as Markdown code."""
    text = re.sub(r":(?:class|func|meth|data|attr|mod|exc):`~?([^`]+)`", lambda m: f"`{m.group(1).split('.')[-1] if '~' in m.group(0) else m.group(1)}`", text)
    return text.replace("``", "`")


def _docstring(obj: object) -> str:
    """A docstring as Markdown: prose, bulleted Args/Returns/… sections, pycon examples."""
    doc = inspect.getdoc(obj) or ""
    out: list[str] = []
    lines = doc.splitlines()
    index = 0
    section: str | None = None
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith(">>>"):
            example = []
            while index < len(lines) and lines[index].strip():
                example.append(lines[index].strip() if lines[index].lstrip().startswith((">>>", "...")) else lines[index])
                index += 1
            out += ["", "```pycon", *[text.rstrip() for text in example], "```", ""]
            section = None
            continue
        if stripped in SECTIONS:
            section = stripped
            out += ["", f"**{stripped[:-1]}**", ""]
        elif section and line.startswith("    ") and not line.startswith("        "):
            match = re.match(r"\s+([\w*]+)( \([^)]*\))?:\s*(.*)", line)
            if match and section not in ("Returns:", "Yields:"):
                out.append(f"- `{match.group(1)}`{match.group(2) or ''}: {_inline(match.group(3))}")
            else:
                out.append(f"- {_inline(stripped)}" if not out or not out[-1].startswith("- ") else f"  {_inline(stripped)}")
        elif section and line.startswith("        "):
            out.append(f"  {_inline(stripped)}")
        else:
            if not stripped:
                section = None if not (index + 1 < len(lines) and lines[index + 1].startswith("    ")) else section
            out.append(_inline(line))
        index += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _signature(obj: object) -> str:
    """``(a: int, *, b: str = 'x') -> T`` with string annotations unquoted."""
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"
    if inspect.isclass(obj):
        signature = signature.replace(return_annotation=inspect.Signature.empty)
    return re.sub(r"<class (\w+)>", r"\1", str(signature)).replace("'", "")


def _public_members(module: object) -> list[tuple[str, object]]:
    names = getattr(module, "__all__", None)
    members = []
    for name, value in vars(module).items():
        if name.startswith("_") or (names is not None and name not in names):
            continue
        if (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == module.__name__:  # type: ignore[attr-defined]
            members.append((name, value))
    return members


def _class_members(cls: type) -> list[tuple[str, object]]:
    members = []
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if name == "__init__":
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = getattr(cls, name)  # bound: the signature drops cls
        if inspect.isfunction(value) or inspect.ismethod(value) or isinstance(value, property):
            if inspect.getdoc(value):
                members.append((name, value))
    return members


def render() -> str:
    """The whole reference, as Markdown."""
    parts = [
        "# API reference",
        "",
        "Generated from the docstrings by `docs/make_api_reference.py`; do not edit by hand",
        "(`tests/test_docs.py` fails while this file is stale). The `>>>` examples run in",
        "`tests/test_docstrings.py`. For the ideas behind the API, start with the [tutorials](index.md).",
        "",
        "Modules: " + ", ".join(f"[`{name}`](#{name.replace('.', '')})" for name in MODULES) + ".",
    ]
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        parts += ["", f"## {module_name}", "", _docstring(module)]
        for name, value in _public_members(module):
            if inspect.isclass(value):
                bases = [base.__name__ for base in value.__bases__ if base is not object]
                heading = f"class {name}" + (f"({', '.join(bases)})" if bases else "")
                signature = [] if issubclass(value, BaseException) else [f"`{name}{_signature(value)}`", ""]
                parts += ["", f"### {heading}", "", *signature, _docstring(value)]
                for member_name, member in _class_members(value):
                    if isinstance(member, property):
                        parts += ["", f"#### {name}.{member_name} *(property)*", "", _docstring(member)]
                    else:
                        parts += ["", f"#### {name}.{member_name}", "",
                                  f"`{member_name}{_signature(member)}`", "", _docstring(member)]
            else:
                parts += ["", f"### {name}", "", f"`{name}{_signature(value)}`", "", _docstring(value)]
    text = "\n".join(parts)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
