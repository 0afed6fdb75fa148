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


def test_an_order_webhook_whose_catch_up_job_also_failed_is_enqueued_again(shop_id, deliver, rconn):
    """The worker was killed under the webhook's job, then again under the catch-up's: the next
    catch-up pass enqueues it once more (the ended catch-up job no longer refuses it), and a
    pass while that one waits adds nothing."""
    from datetime import timedelta

    from rq import Queue
    from rq.job import Job

    from jobs import inbox

    inbox_id = deliver("orders/paid", {"id": 8, "admin_graphql_api_id": "gid://shopify/Order/8"}).json[
        "inbox_id"
    ]
    orders = Queue("orders", connection=rconn)

    def kill(job_id: str) -> None:
        orders.remove(job_id)
        Job.fetch(job_id, connection=rconn).set_status("failed")

    kill(f"inbox-{inbox_id}")
    assert inbox.sweep(older_than=timedelta(0)) == []  # an order topic: the catch-up's
    assert run_catch_up(shop_id, stale_after_seconds=0)["inbox"] == 1
    kill(f"inbox-catchup-{inbox_id}")
    assert run_catch_up(shop_id, stale_after_seconds=0)["inbox"] == 1
    assert run_catch_up(shop_id, stale_after_seconds=0)["inbox"] == 0
    assert orders.job_ids == [f"inbox-catchup-{inbox_id}"]
