"""cripto_pipeline.columns: pick_volume with no candidate, plain against quote-currency volumes, several
quote-currency volumes alone; map_columns with an unnamed first column beside a named timestamp; a capital X
at either end of a header name (issue 16: mutation survivors)."""

from __future__ import annotations

import pytest

from cripto_pipeline import columns, exceptions


def test_picking_a_volume_among_no_columns_is_refused_as_ambiguous():
    notes = []
    with pytest.raises(exceptions.AmbiguousVolumeError) as caught:
        columns.pick_volume([], notes)
    assert "Several volume columns () and no rule picks the base-asset one." in str(caught.value)
    assert notes == []


# --- map_columns: an unnamed first column beside a named timestamp ----------------------------------


def test_an_unnamed_first_column_is_ignored_when_a_timestamp_column_is_named():
    notes = []
    mapping = columns.map_columns(["", "timestamp", "open", "high", "low", "close"], notes)
    assert mapping == {"timestamp": 1, "open": 2, "high": 3, "low": 4, "close": 5}
    assert notes == ["The file has no volume column: volume is taken as 0, so the model trains on price features "
                     "only (volume features are constant)."]


# --- pick_volume: quote-currency columns are never chosen among several -----------------------------


@pytest.mark.parametrize("candidates, chosen", [
    (["volume_usd", "volume"], "volume"),
    (["volumeto", "vol"], "vol"),
    (["quote_volume", "volume_eur", "v"], "v"),
])
def test_a_plain_volume_wins_over_quote_currency_volumes(candidates, chosen):
    notes = []
    assert columns.pick_volume(candidates, notes) == chosen
    others = ", ".join(c for c in candidates if c != chosen)
    assert notes == [f"Used '{chosen}' as the volume (plain volume, no base-asset column); ignored {others}."]


def test_a_single_quote_currency_volume_is_used_without_a_note():
    notes = []
    assert columns.pick_volume(["volume_usd"], notes) == "volume_usd"
    assert notes == []


@pytest.mark.parametrize("candidates", [["volume_usd", "volume_eur"], ["volumeto", "quote_volume", "volume_currency"]])
def test_several_quote_currency_volumes_alone_are_ambiguous(candidates):
    notes = []
    with pytest.raises(exceptions.AmbiguousVolumeError) as caught:
        columns.pick_volume(candidates, notes)
    assert caught.value.what == f"Several volume columns ({', '.join(candidates)}) and no rule picks the base-asset one."
    assert caught.value.where == {"volume_columns": candidates}
    assert notes == []


# --- normalise_name: capital X at either end -----------------------------------------------------


@pytest.mark.parametrize("cell, name", [("XRP Volume", "xrp_volume"), ("Index X", "index_x"), ("\ufeffX", "x")])
def test_a_capital_x_at_either_end_of_a_header_name_is_kept(cell, name):
    assert columns.normalise_name(cell) == name
