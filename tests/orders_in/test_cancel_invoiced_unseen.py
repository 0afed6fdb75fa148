"""An order cancelled in Shopify that the ERP invoiced before the app read its F event (the link
still says L): the app asked the ERP to cancel without reading its state, trusting its cancel
endpoint ([assumed]) to refuse an invoiced order; one that took it cancelled an order whose NF-e
is valid, and the app called it done with no note. The ERP order is read first now: invoiced, it
is flagged for a person (cancel the NF-e or issue a return invoice), never sent to be cancelled."""

from __future__ import annotations

from ledger.models import MessageStatus
from tests.orders_in.test_edits_and_cancels import cancel_in_shopify, imported


def test_cancel_of_an_invoiced_order_before_the_poller_saw_its_nfe(world, monkeypatch) -> None:
    from erp.client import ErpClient

    calls = []
    real_get = ErpClient.get_order

    def get_order(self, nro, *a, **kw):
        calls.append(("get", nro))
        return real_get(self, nro, *a, **kw)

    def lenient_cancel(
        self, nro, reason=None
    ):  # an installation whose [assumed] cancel takes an invoiced order
        calls.append(("cancel", nro))
        world.chain.handle.erp.cancel(nro)
        return real_get(self, nro)

    monkeypatch.setattr(ErpClient, "get_order", get_order)
    monkeypatch.setattr(ErpClient, "cancel_order", lenient_cancel)
    gid, nro = imported(world)
    world.chain.handle.erp.invoice(nro)  # NF-e issued; the poller has not read the F event yet
    link = world.link(gid)
    assert link.erp_status != "F" and link.nfe_key is None  # the app has not heard of the NF-e
    cancel_in_shopify(world, gid)
    world.drain()
    m = world.message(gid, "cancellations", f"cancel:{gid.rsplit('/', 1)[-1]}")
    assert ("cancel", nro) not in calls  # the ERP was asked its state first, and not to cancel
    assert m.status == MessageStatus.FAILED.value and "NF-e" in (world.link(gid).needs_attention or "")
