"""``app/`` reads features only through ``layers/`` query functions, which apply the one
visibility rule of ``layers/access.py``: it never imports the ``Feature`` model nor holds SQL on
the ``features`` table."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_app_never_touches_the_feature_table():
    offences = []
    for path, tree in _modules("app"):
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "layers.models":
                offences += [
                    f"{where}:{node.lineno} imports {a.name}"
                    for a in node.names
                    if a.name in ("Feature", "*")
                ]
            elif isinstance(node, ast.Attribute) and node.attr == "Feature":
                if isinstance(node.value, ast.Attribute | ast.Name) and "models" in ast.unparse(
                    node.value
                ):
                    offences.append(f"{where}:{node.lineno} uses {ast.unparse(node)}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                sql = " ".join(node.value.lower().split())
                if "from features" in sql or "join features" in sql:
                    offences.append(f"{where}:{node.lineno} has SQL on features")
    assert not offences, "app/ must read features through layers/ query functions:\n" + "\n".join(
        offences
    )
