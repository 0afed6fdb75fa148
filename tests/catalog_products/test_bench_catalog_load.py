"""`python -m bench catalog_load` keeps running against the flow it measures: its stand-in for the
Admin client answers what the initial load asks of it (a change to the load once broke the bench
with no test failing). A small size, so it takes a couple of seconds."""

from __future__ import annotations

from bench import catalog_load


def test_the_catalog_load_benchmark_runs_to_its_figures(env, tmp_path, capsys):
    # the bench points DATABASE_URL and REDIS_URL at its own; `env` (monkeypatch) puts them back
    assert catalog_load.main(["--skus", "300", "--companies", "1", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "read -> JSONL handed over" in out and "ratio whole / bare read" in out
