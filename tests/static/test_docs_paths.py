"""Every repository path docs/ARCHITECTURE.md names in backticks exists (issue 15): the map and the
"to change X, edit Y" table stay true when files are renamed, moved or deleted.

A backticked token is a repository path when it starts with a top-level entry of the repository
(`src/...`, `tests/...`, `Makefile`, ...) or a package name (`cripto_pipeline/`, `cripto_ops/`,
`localaws/`, read as their directories); a bare file name (`responses.py`) must name some file of the
repository. Placeholders (`<run_id>`) and generated places (`.venvs/`, `build/`) are not paths."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "ARCHITECTURE.md"

#: Package names the docs may use for their directories.
PACKAGES = {
    "cripto_pipeline": "src/cripto_pipeline",
    "cripto_ops": "src/cripto_ops",
    "localaws": "emulator/src/localaws",
}
#: Top-level entries that are written by tools, not kept in the repository.
GENERATED = {"build", "reports"}
#: Kinds of file a bare name in backticks refers to (not S3 artifacts such as `metrics.json`).
SOURCE_SUFFIXES = (".py", ".tf", ".sh", ".toml", ".yml", ".tfvars", ".md", ".hcl", "Dockerfile")
#: Directories whose files are not the repository's (environments, state, caches).
NOT_REPO = {".git", ".venvs", ".local", "build", ".terraform", "__pycache__", ".pytest_cache", "mutants"}

BACKTICKED = re.compile(r"`([^`\n]+)`")


def _top_level() -> set:
    return {entry.name for entry in REPO.iterdir() if entry.name not in NOT_REPO and entry.name not in GENERATED}


def _repo_file_names() -> set:
    names = set()
    for _, directories, files in os.walk(REPO):
        directories[:] = [d for d in directories if d not in NOT_REPO]
        names.update(files)
    return names


def repo_path(token: str, top_level: set) -> Optional[str]:
    """The repository-relative path a backticked token names, or None when it names none."""
    if any(char in token for char in "<>{}$ =") or "://" in token:
        return None
    first = token.split("/", 1)[0]
    if first in PACKAGES:
        return PACKAGES[first] + token[len(first):]
    if first in top_level:
        return token
    return None


def _backticked(text: str) -> List[str]:
    return [token.strip() for token in BACKTICKED.findall(text)]


def test_the_architecture_page_names_repository_paths():
    # Guards the test itself: a page whose paths all went unrecognised would pass vacuously.
    top_level = _top_level()
    assert len({repo_path(t, top_level) for t in _backticked(DOC.read_text())} - {None}) >= 100


def test_every_backticked_repository_path_exists():
    top_level = _top_level()
    missing = []
    for number, line in enumerate(DOC.read_text().splitlines(), start=1):
        for token in _backticked(line):
            path = repo_path(token, top_level)
            if path is None:
                continue
            found = list(REPO.glob(path.rstrip("/"))) if "*" in path else [REPO / path]
            if not found or not all(p.exists() for p in found) or (path.endswith("/") and not found[0].is_dir()):
                missing.append(f"docs/ARCHITECTURE.md:{number}: `{token}`")
    assert not missing, "paths that do not exist:\n" + "\n".join(missing)


def test_every_bare_file_name_names_a_repository_file():
    names = _repo_file_names()
    top_level = _top_level()
    missing = []
    for number, line in enumerate(DOC.read_text().splitlines(), start=1):
        for token in _backticked(line):
            if "/" in token or repo_path(token, top_level) is not None or not token.endswith(SOURCE_SUFFIXES):
                continue
            if re.fullmatch(r"[\w.-]+", token) and token not in names:
                missing.append(f"docs/ARCHITECTURE.md:{number}: `{token}`")
    assert not missing, "file names that match no file of the repository:\n" + "\n".join(missing)


@pytest.mark.parametrize(
    "token, expected",
    [
        ("src/cripto_pipeline/layout.py", "src/cripto_pipeline/layout.py"),
        ("localaws/glue/models.py", "emulator/src/localaws/glue/models.py"),
        ("Makefile", "Makefile"),
        ("models/<dataset>/latest.json", None),  # an S3 key with a placeholder
        (".venvs/tools/bin/python", None),  # an environment, not a repository file
        ("make test", None),
    ],
)
def test_what_counts_as_a_repository_path(token, expected):
    assert repo_path(token, _top_level()) == expected
