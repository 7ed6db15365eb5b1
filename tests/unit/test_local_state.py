"""scripts/local_state.py: which emulation the local Terraform state describes (issue 9). The check
against a real emulation restarted is tests/integration/emulation/test_emulation_reset.py."""
from __future__ import annotations

import json
import os
import time

from .conftest import load_module

local_state = load_module("scripts/local_state.py", "local_state_under_test")


def _state(directory, session_id=None, age_s=0.0):
    state = directory / "terraform.tfstate"
    state.write_text('{"version": 4, "serial": 7}')
    if age_s:
        then = time.time() - age_s
        os.utime(state, (then, then))
    if session_id is not None:
        (directory / "emulation.json").write_text(json.dumps({"session_id": session_id}))
    return state


def test_no_state_belongs_to_nobody_and_records_the_emulation(tmp_path):
    message = local_state.adopt(tmp_path / "local", "s-1", started_at=time.time())
    assert "belongs to emulation s-1" in message
    assert json.loads((tmp_path / "local" / "emulation.json").read_text()) == {"session_id": "s-1"}


def test_a_state_of_this_emulation_stays(tmp_path):
    state = _state(tmp_path, "s-1", age_s=3600)
    local_state.adopt(tmp_path, "s-1", started_at=time.time())
    assert state.exists()


def test_a_state_of_another_emulation_is_moved_aside_and_kept(tmp_path):
    (tmp_path / "terraform.tfstate.backup").write_text("{}")
    _state(tmp_path, "s-old")
    message = local_state.adopt(tmp_path, "s-new", started_at=time.time() - 3600)
    assert "emulation s-old" in message and "s-new" in message
    assert not (tmp_path / "terraform.tfstate").exists() and not (tmp_path / "terraform.tfstate.backup").exists()
    (moved,) = (tmp_path / "previous-emulations").glob("*/terraform.tfstate")
    assert json.loads(moved.read_text())["serial"] == 7
    assert (moved.parent / "terraform.tfstate.backup").exists()
    assert json.loads((tmp_path / "emulation.json").read_text())["session_id"] == "s-new"


def test_an_unrecorded_state_is_stale_only_if_written_before_the_emulation_started(tmp_path):
    # Written by a version without records: last written an hour ago, emulation up for a minute -> stale.
    _state(tmp_path, age_s=3600)
    assert "before this emulation started" in local_state.belongs_elsewhere(tmp_path, "s-1", time.time() - 60)
    # Written after the emulation started: it describes this emulation.
    _state(tmp_path, age_s=10)
    assert local_state.belongs_elsewhere(tmp_path, "s-1", time.time() - 60) is None


def test_an_emulation_that_does_not_answer_is_a_clear_error(tmp_path, capsys):
    assert local_state.main(["--state-dir", str(tmp_path), "--endpoint", "http://127.0.0.1:9"]) == 1
    assert "is it up (`make up`)?" in capsys.readouterr().err
