"""`python -m bench catalog_load` keeps running against the flow it measures: its stand-in for the
Admin client answers what the initial load asks of it (a change to the load once broke the bench
with no test failing), run as a command line runs it: APP_ENV development and no Shopify sandbox, where
the app guards the ERP's address (the bench once failed there, refused the sandbox's http address,
while this test ran it in test mode). A small size, so it takes a couple of seconds."""

from __future__ import annotations

from bench import catalog_load


def test_the_catalog_load_benchmark_runs_to_its_figures(env, tmp_path, capsys):
    # the bench points DATABASE_URL and REDIS_URL at its own; `env` (monkeypatch) puts them back
    env.setenv("APP_ENV", "development")  # what `python -m bench` runs in
    for name in ("SHOPIFY_BASE_URL", "ERP_ALLOW_HTTP", "ERP_ALLOWED_NETWORKS"):
        env.setenv(name, "")  # (the bench sets the last two: put back after)
    assert catalog_load.main(["--skus", "300", "--companies", "1", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "read -> JSONL handed over" in out and "ratio whole / bare read" in out
