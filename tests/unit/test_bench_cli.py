"""python -m cripto_pipeline.bench: its defaults, options and printed JSON, with the benchmark replaced
by a recorder (issue 16: survivors of the mutation run)."""

from __future__ import annotations

import json

import pytest

from cripto_pipeline import bench


@pytest.fixture
def asked(monkeypatch):
    calls = []

    def fake(rows, symbols, repeat):
        calls.append((rows, symbols, repeat))
        return {"rows": float(rows), "seconds_best": 2.0}

    monkeypatch.setattr(bench, "benchmark", fake)
    monkeypatch.setattr(bench, "peak_rss_mib", lambda: 1023.94)
    return calls


def test_the_defaults_are_one_million_rows_one_symbol_three_repeats_and_the_budget(asked, capsys):
    assert bench.main([]) == 0  # 2.0 s is within "<= 2 s", 1023.9 MiB within "< 1 GiB"
    assert asked == [(1_000_000, 1, 3)]
    assert json.loads(capsys.readouterr().out) == {"rows": 1_000_000.0, "seconds_best": 2.0, "peak_rss_mib": 1023.9,
                                                   "max_seconds": 2.0, "max_rss_mib": 1024.0, "ok": True}


def test_every_option_is_passed_on(asked, capsys):
    code = bench.main(["--rows", "500", "--symbols", "4", "--repeat", "7", "--max-seconds", "1.5",
                       "--max-rss-mib", "1023.9"])
    assert asked == [(500, 4, 7)] and code == 1
    printed = json.loads(capsys.readouterr().out)
    assert (printed["max_seconds"], printed["max_rss_mib"], printed["ok"]) == (1.5, 1023.9, False)


def test_the_program_name_and_description_in_the_help(capsys):
    with pytest.raises(SystemExit) as caught:
        bench.main(["--help"])
    assert caught.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert text.startswith("usage: python -m cripto_pipeline.bench ")
    assert "Feature-engineering benchmark: ``python -m cripto_pipeline.bench [--rows N] [--symbols K]``." in text


def test_peak_rss_is_reported_in_mib(monkeypatch):
    class Usage:
        ru_maxrss = 2048 * 1024  # KiB

    monkeypatch.setattr(bench.resource, "getrusage", lambda who: Usage())
    assert bench.peak_rss_mib() == 2048.0


def test_a_peak_rss_equal_to_the_limit_is_over_budget(asked, capsys):
    """The RSS budget is strict ("< 1 GiB"): a peak of exactly --max-rss-mib fails, the time being in budget."""
    assert bench.main(["--max-rss-mib", "1023.9"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert (printed["seconds_best"], printed["peak_rss_mib"], printed["ok"]) == (2.0, 1023.9, False)
    assert bench.main(["--max-rss-mib", "1024.0"]) == 0


def test_the_peak_rss_of_this_process_is_the_kernels_high_water_mark():
    def vm_hwm_mib() -> float:  # /proc/self/status: "VmHWM:   123456 kB"
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024.0

    before = vm_hwm_mib()
    peak = bench.peak_rss_mib()
    after = vm_hwm_mib()
    assert before - 1.0 <= peak <= after + 1.0 and peak > 10.0
