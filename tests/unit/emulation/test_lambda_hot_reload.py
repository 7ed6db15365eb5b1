"""What counts as a change of a hot-reloading function's folder (``localaws.lambda_executor.hot_reload``)."""
from __future__ import annotations

import os
from pathlib import Path

from localaws.lambda_executor.hot_reload import signature


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    (root / "pkg").mkdir(parents=True)
    (root / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "pkg" / "helper.py").write_text("VALUE = 1\n")
    return root


def test_an_untouched_folder_keeps_its_signature(tmp_path):
    root = _folder(tmp_path)
    assert signature(root) == signature(root)
    assert {entry[0] for entry in signature(root)} == {"handler.py", os.path.join("pkg", "helper.py")}


def test_an_in_place_edit_of_the_same_size_changes_it(tmp_path):
    root = _folder(tmp_path)
    before = signature(root)
    helper = root / "pkg" / "helper.py"
    stat = helper.stat()
    helper.write_text("VALUE = 2\n")
    os.utime(helper, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # a clock tick later, however coarse
    assert signature(root) != before


def test_a_save_by_rename_changes_it_even_with_the_old_time_and_size(tmp_path):
    root = _folder(tmp_path)
    handler = root / "handler.py"
    stat = handler.stat()
    before = signature(root)
    replacement = root / ".handler.py.swp"
    replacement.write_text(handler.read_text().replace("1", "2"))
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, handler)  # what most editors do: new inode, same name
    assert signature(root) != before


def test_added_and_removed_files_change_it(tmp_path):
    root = _folder(tmp_path)
    before = signature(root)
    (root / "new.py").write_text("")
    added = signature(root)
    assert added != before
    (root / "new.py").unlink()
    (root / "pkg" / "helper.py").unlink()
    assert signature(root) not in (before, added)


def test_bytecode_caches_and_git_metadata_do_not_count(tmp_path):
    root = _folder(tmp_path)
    before = signature(root)
    for ignored in (root / "__pycache__", root / "pkg" / "__pycache__", root / ".git"):
        ignored.mkdir()
        (ignored / "handler.cpython-312.pyc").write_bytes(b"\0")
    assert signature(root) == before


def test_a_missing_folder_is_empty_and_creating_it_is_a_change(tmp_path):
    root = tmp_path / "not-yet"
    assert signature(root) == frozenset()
    root.mkdir()
    (root / "handler.py").write_text("")
    assert signature(root) != frozenset()
