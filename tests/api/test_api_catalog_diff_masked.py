"""A failed catalog dry run answers its exception's last line, masked for a viewer as the failed
jobs page masks RQ's line (shopify_app.api_jobs): a CPF/CNPJ or an e-mail the ERP's refusal
carried is hidden unless the caller is an admin, who sees it whole."""

from __future__ import annotations

from rq import Queue, SimpleWorker

import jobs.catalog_diff
from ledger.models import Role

from .conftest import headers

SAID = "ERP said no for 52998224725 (ana.souza@example.com)"


def test_a_failed_dry_run_error_is_masked_for_a_viewer(client, shops, rq, monkeypatch):
    def boom(shop_id, drift=False):
        raise RuntimeError(SAID)

    monkeypatch.setattr(jobs.catalog_diff, "compute", boom)
    job_id = client.post("/api/setup/catalog-diff", headers=headers()).get_json()["job_id"]
    SimpleWorker([Queue("catalog", connection=rq)], connection=rq).work(burst=True)

    seen = client.get(f"/api/setup/catalog-diff/{job_id}", headers=headers(Role.VIEWER)).get_json()
    assert seen["status"] == "failed" and seen["error"].startswith("RuntimeError: ERP said no for ")
    assert "52998224725" not in seen["error"] and "ana.souza@example.com" not in seen["error"]
    operator = client.get(f"/api/setup/catalog-diff/{job_id}", headers=headers(Role.OPERATOR)).get_json()
    assert "52998224725" not in operator["error"]
    admin = client.get(f"/api/setup/catalog-diff/{job_id}", headers=headers()).get_json()
    assert admin["error"] == f"RuntimeError: {SAID}"
