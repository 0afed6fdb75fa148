"""The Orders API names the fiscal document (an NF-e, model 55, or an NFC-e, model 65) and says
when it was cancelled; the "invoiced" filter leaves out an order whose NF-e the ERP cancelled with
the order (jobs.cancellations.to_shopify keeps the key on the link, erp_status C)."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.models import Role

from .conftest import headers
from .test_api_orders_admin import seed_order

NFE = "35261112345678000195550010000012341000012345"  # model 55 (digits 21-22)
NFCE = "35261112345678000195650010000000011078840990"  # model 65: a consumer receipt


def _listed(client, query: str = "") -> dict[int, dict]:
    answer = client.get(f"/api/orders?{query}", headers=headers(Role.VIEWER)).get_json()
    return {o["id"]: o for o in answer["orders"]}


def test_the_invoiced_filter_leaves_out_an_nfe_cancelled_with_its_order(client, settings, shops):
    invoiced = seed_order(settings, shops.a, "#1001", 1, erp_status="F", nfe_key=NFE)
    # As jobs.cancellations.to_shopify leaves it: the key kept, the ERP status C, cancelled.
    cancelled = seed_order(settings, shops.a, "#1006", 6, erp_status="C", nfe_key=NFE[:-1] + "9",
                           cancelled_at=datetime.now(UTC).replace(tzinfo=None))  # fmt: skip
    # Cancelled in the ERP, the cancellation not applied in Shopify yet: cancelled all the same.
    erp_only = seed_order(settings, shops.a, "#1008", 8, erp_status="C", nfe_key=NFE[:-1] + "8")
    # Cancelled in Shopify after invoicing, refused by the ERP: the NF-e stands.
    shopify_only = seed_order(settings, shops.a, "#1009", 9, erp_status="F", nfe_key=NFE[:-1] + "7")

    assert list(_listed(client, "status=invoiced")) == [shopify_only, invoiced]
    assert set(_listed(client, "status=cancelled")) == {cancelled, erp_only}
    assert _listed(client, "status=in_erp") == {}
    everything = _listed(client)
    assert [everything[i]["nfe_cancelled"] for i in (invoiced, cancelled, erp_only, shopify_only)] == [
        False, True, True, False]  # fmt: skip
    detail = client.get(f"/api/orders/{cancelled}", headers=headers(Role.VIEWER)).get_json()
    assert detail["nfe_cancelled"] is True and detail["nfe_key"] == NFE[:-1] + "9"


def test_the_fiscal_documents_model_is_given_or_read_from_its_key(client, settings, shops):
    recorded = seed_order(settings, shops.a, "#1003", 3, nfe_key=NFCE, nfe_model="65")
    from_key = seed_order(settings, shops.a, "#1004", 4, nfe_key=NFCE[:-1] + "1")  # no model kept
    nfe = seed_order(settings, shops.a, "#1005", 5, nfe_key=NFE)
    odd = seed_order(settings, shops.a, "#1007", 7, nfe_key="not-a-key")
    none = seed_order(settings, shops.a, "#1010", None)
    listed = _listed(client)
    assert [listed[i]["nfe_model"] for i in (recorded, from_key, nfe, odd, none)] == [
        "65",
        "65",
        "55",
        None,
        None,
    ]
    assert listed[none]["nfe_cancelled"] is False
    detail = client.get(f"/api/orders/{from_key}", headers=headers(Role.VIEWER)).get_json()
    assert detail["nfe_model"] == "65"
