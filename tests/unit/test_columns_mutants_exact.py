"""cripto_pipeline.columns.pick_volume with no candidate at all (issue 16: mutation survivors)."""

from __future__ import annotations

import pytest

from cripto_pipeline import columns, exceptions


def test_picking_a_volume_among_no_columns_is_refused_as_ambiguous():
    notes = []
    with pytest.raises(exceptions.AmbiguousVolumeError) as caught:
        columns.pick_volume([], notes)
    assert "Several volume columns () and no rule picks the base-asset one." in str(caught.value)
    assert notes == []
