"""A shipping line removed in Shopify, and the ERP's picking begun between the edit's read of the
ERP order and its PUT (refused 409, too late): the flag for a person named no freight change and
gave advice about lines, so the person could not tell what changed. It names the freight now, as
the flag raised at read time does."""

from __future__ import annotations

from jobs.order_edits import to_erp as edits_to_erp
from ledger.models import MessageStatus
from tests.orders_in.test_edits_after_picking import remove_shipping
from tests.orders_in.test_edits_and_cancels import change_order, imported


def test_freight_change_refused_too_late_by_the_put_names_the_freight(world, monkeypatch) -> None:
    from erp.client import ErpClient

    real = ErpClient.edit_order

    def separated_meanwhile(self, nro, *a, **kw):  # picking began between the read and the PUT
        world.chain.handle.erp.separate(nro, weights={})
        return real(self, nro, *a, **kw)

    monkeypatch.setattr(ErpClient, "edit_order", separated_meanwhile)
    gid, _nro = imported(world, shipping="SEDEX")
    change_order(world, gid, remove_shipping)
    num = gid.rsplit("/", 1)[-1]
    out = edits_to_erp.apply_edit(world.shop_id, num, "903")
    note = world.link(gid).needs_attention
    assert out == MessageStatus.FAILED.value
    assert "freight" in note, note
