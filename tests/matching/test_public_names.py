"""The benchmarks use the matching library through its public modules only.

They measure the library as its callers use it, not its internals.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script", ["matching.py", "synthetic.py"])
def test_benchmarks_use_public_names_only(script: str) -> None:
    """The benchmarks measure the library as its callers use it, not its internals."""
    tree = ast.parse((ROOT / "benchmarks" / script).read_text(encoding="utf-8"))
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("matching"):
            module = node.module or ""
            names = [alias.name for alias in node.names]
            private += [f"{module}.{n}" for n in names if n.startswith("_")]
            if any(part.startswith("_") for part in module.split(".")):
                private.append(module)
        elif isinstance(node, ast.Import):
            private += [
                a.name
                for a in node.names
                if a.name.startswith("matching")
                and any(part.startswith("_") for part in a.name.split("."))
            ]
    assert not private, private
