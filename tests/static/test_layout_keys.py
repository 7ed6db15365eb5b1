"""Every S3 key is built and parsed in src/cripto_pipeline/layout.py (issue 15): the code elsewhere
(src, lambdas, glue, scripts) holds no key prefix as a string, builds no key from layout's prefix
constants and splits no key on "/". Docstrings and comments may describe keys; messages may quote them
in prose (a string that only *starts* with a prefix is a key). Tests are black-box and may spell keys.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List

REPO = Path(__file__).resolve().parents[2]
CODE_DIRS = ("src", "lambdas", "glue", "scripts")
LAYOUT = "src/cripto_pipeline/layout.py"

#: The key prefixes and file names of the layout (layout.py's module docstring lists them all).
KEY_PREFIXES = ("raw/", "features/", "models/", "errors/")
KEY_NAMES = frozenset({
    "raw.csv", "manifest.json", "features.parquet", "duplicate-of.json", "glue-start.json", "model.joblib",
    "metrics.json", "features.json", "lineage.json", "report.html", "status.json", "latest.json",
})  # fmt: skip
#: layout's building blocks: outside layout.py they may name a listing prefix, never be glued into a key.
PREFIX_CONSTANTS = frozenset({"RAW_PREFIX", "RAW_SUFFIX", "FEATURES_PREFIX", "MODELS_PREFIX", "ERRORS_PREFIX",
                              "CONTENT_CLAIMS_DIR"})

#: Files that still do what this test forbids, and why. Each entry must still be needed (see the last test).
ALLOWED: Dict[str, str] = {}


def code_files() -> Iterator[Path]:
    for top in CODE_DIRS:
        for path in sorted((REPO / top).rglob("*.py")):
            if path.relative_to(REPO).as_posix() != LAYOUT:
                yield path


def _docstrings(tree: ast.AST) -> set:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _starts_a_key(text: str) -> bool:
    return text.startswith(KEY_PREFIXES) or text in KEY_NAMES


def violations(path: Path) -> List[str]:
    """Hand-built keys in one file: ``file:line: what``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings = _docstrings(tree)
    relative = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    found: Dict[int, str] = {}  # one finding per line (an f-string's parts are nodes of their own)
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if _starts_a_key(node.value):
                what = f"key literal {node.value!r}"
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and _starts_a_key(first.value):
                what = f"key built in an f-string starting {first.value!r}"
            elif any(isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Attribute)
                     and part.value.attr in PREFIX_CONSTANTS for part in node.values):
                what = "key built in an f-string from layout's prefix constants"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            if any(isinstance(side, ast.Attribute) and side.attr in PREFIX_CONSTANTS for side in (node.left, node.right)):
                what = "key built with + from layout's prefix constants"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("split", "rsplit", "partition", "rpartition") and node.args and \
                    isinstance(node.args[0], ast.Constant) and node.args[0].value == "/":
                what = f".{node.func.attr}('/') (parse keys with layout)"
        if what:
            found.setdefault(node.lineno, f"{relative}:{node.lineno}: {what}")
    return [found[line] for line in sorted(found)]


def test_the_scan_finds_hand_built_keys(tmp_path):
    """The scanner itself: each forbidden form is caught, descriptions are not."""
    sample = tmp_path / "sample.py"
    sample.write_text('"""Writes models/<dataset>/latest.json."""\n'
                      'a = "models/" + dataset\n'
                      'b = f"features/{dataset}/"\n'
                      'c = f"{layout.ERRORS_PREFIX}{dataset}/"\n'
                      'd = key.split("/")[2]\n'
                      'e = "latest.json"\n'
                      'f = "Upload to raw/<dataset>.csv"\n')
    assert [hit.split(":")[1] for hit in violations(sample)] == ["2", "3", "4", "5", "6"]


def test_no_key_is_built_or_parsed_outside_layout():
    found = [hit for path in code_files() if path.relative_to(REPO).as_posix() not in ALLOWED
             for hit in violations(path)]
    assert not found, "build and parse S3 keys with cripto_pipeline.layout:\n" + "\n".join(found)


def test_every_exception_is_still_needed():
    stale = [name for name in ALLOWED if not violations(REPO / name)]
    assert not stale, f"remove from ALLOWED (they build no keys any more): {stale}"
