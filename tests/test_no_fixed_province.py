"""No text in the code names one province: names, titles and metadata follow the work area.

Docstrings and comments (docs) may name Utrecht, and so may a parameter's default value; string
literals that reach users, templates and scripts may not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "layers", "scenarios", "spatial")
WORD = "Utrecht"


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the strings that stand alone as a statement: docstrings of modules, classes,
    functions and attributes."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def _defaults(tree: ast.AST) -> set[int]:
    """ids of the string constants that are parameter defaults."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arguments):
            for d in [*node.defaults, *node.kw_defaults]:
                if d is not None:
                    out.update(id(n) for n in ast.walk(d))
    return out


def test_no_string_in_the_code_names_the_province():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            allowed = _docstrings(tree) | _defaults(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and WORD in node.value
                    and id(node) not in allowed
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert found == []


def test_no_template_or_script_names_the_province():
    found = []
    for package in ("app", "layers"):
        for suffix in ("*.html", "*.j2", "*.js"):
            for path in sorted((ROOT / package).rglob(suffix)):
                if "vendor" in path.parts:
                    continue
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if WORD in line:
                        found.append(f"{path.relative_to(ROOT)}:{n}")
    assert found == []
