"""The pieces of the load benchmark (bench/load.py) on a short run: team mode under uvicorn on SQLite,
two simulated users for a second, figures with no errors, and the docs section made from them."""

from __future__ import annotations

from bench import load
from bench.__main__ import replace_marked_section


def test_a_short_run_gives_figures_without_errors() -> None:
    with load.serve("SQLite", 1, users=2) as server:
        figures = load.measure(server, users=2, warmup=0.5, seconds=1)

    assert figures.errors == []
    # On a busy machine one second may hold only part of a user's loop: some request, not each kind.
    assert figures.requests_per_second > 0 and any(figures.latencies.values())
    assert figures.rss_peak_mb > 10 and figures.cores["server"] > 0
    assert figures.backends_peak is None  # SQLite: no PostgreSQL backends to count

    text = load.section(load.LoadRun([figures], "postgres (PostgreSQL) 15", 10.0, 0.2, warmup=0.5, seconds=1))
    assert text.startswith("<!-- load:start -->") and text.endswith("<!-- load:end -->\n")
    assert "| SQLite, 1 worker | 2 | " in text and "Errors:" not in text
    assert replace_marked_section(f"before\n{text}after\n", load.MARKER, "new\n") == "before\nnew\nafter\n"
