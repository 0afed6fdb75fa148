"""Two mapped companies; the ERP refuses the stock read of one (a permission missing, a company
closed in the ERP's security): the other company's levels are still compared and reported, the
refused one is listed not compared with the ERP's words, and the report is incomplete (it failed the
whole stock section, every day the refusal lasted)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from erp.client import ErpClient
from erp.errors import ErpRejected
from jobs import reconcile, reconcile_cli
from ledger import mappings
from ledger.db import session_scope
from shopify_app.admin_api import for_shop

from .conftest import World


def test_a_company_whose_stock_read_is_refused_leaves_the_others_compared(world: World, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    other = next(loc.id for loc in for_shop(world.domain).locations() if loc.id != world.location_id)
    with session_scope() as session:
        mappings.set_location_mapping(session, world.shop_id, 2, other)
    real = ErpClient.stock

    def stock(self, since=None, nro_empresa=None, **kw):
        if nro_empresa == 2:
            raise ErpRejected("Acesso negado ao estoque da empresa 2", status=403, endpoint="ProdutoEstoque")
        return real(self, since, nro_empresa, **kw)

    monkeypatch.setattr(ErpClient, "stock", stock)
    with pytest.raises(reconcile.ReportRefused) as incomplete:  # a refusal: retrying gives the same
        reconcile.run(world.shop_id, stock_sample=10)
    report = incomplete.value.report

    stock = report["stock"]
    first, second = stock["locations"]
    assert first["nro_empresa"] == 1 and first["checked"] > 0 and "error" not in first, first
    assert second["nro_empresa"] == 2 and "Acesso negado" in second["error"], second
    assert "Acesso negado" in stock["error"]
    assert report["summary"]["stock_differs"] == first["differ_count"]
    printed = reconcile_cli.render(report)
    assert "Stock at company 2: not compared, its stock could not be read" in printed, printed
