"""The orders catch-up pass finds what can resume among everything parked, not among the oldest."""

from __future__ import annotations

from jobs.order_catch_up import LIMIT, run_catch_up
from ledger.bindings import VARIANT_KIND
from ledger.db import session_scope
from ledger.models import Binding, Message


def parked(shop_id: int, n: int, kind: str, code: str) -> Message:
    return Message(shop_id=shop_id, flow="orders", direction="shopify_to_erp", unit_key=f"order:{n}",
                   status="parked", attempts=1, search_text="", error_class="mapping_missing",
                   error_detail={"mapping": {"kind": kind, "code": code}})  # fmt: skip


def test_an_order_whose_sku_is_bound_now_resumes_behind_many_older_parked_ones(shop_id, rconn):
    with session_scope() as session:
        # older orders parked on a gateway nobody has mapped (yet): more than one pass's limit
        session.add_all(parked(shop_id, n, "payment_method", "boleto_manual") for n in range(LIMIT + 20))
        session.add(parked(shop_id, 99_999, VARIANT_KIND, "P1234E1"))  # parked on an unknown SKU ...
        session.add(Binding(shop_id=shop_id, kind=VARIANT_KIND, erp_id="P1234E1",
                            shopify_id="gid://shopify/ProductVariant/1"))  # ... bound now  # fmt: skip
    assert run_catch_up(shop_id)["resumed"] == 1
    assert run_catch_up(shop_id)["resumed"] == 0  # its replay is queued: not twice
