"""Two quick order edits: the first's PUT is refused (the ERP down: a 503, nothing taken), the
second's job puts Shopify's final lines and has its answer, then the first's retry finds the ERP
holding its lines. That is the second edit's work, not the first's answer lost: the first ends
skipped without claiming it, and each line change is recorded once, under the edit that made it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp.client import ErpClient
from jobs.order_edits import to_erp as edits_to_erp
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import MessageStatus, OrderLineChange
from tests.orders_in.test_edits_and_cancels import edit_in_shopify, imported


def test_a_refused_put_is_not_taken_for_a_lost_answer_when_another_edit_put_the_lines(world, monkeypatch):
    a, b = world.sku(0), world.sku(1)
    gid, nro = imported(world, gateway="pix", skus=[(a, 2), (b, 1)])
    num = gid.rsplit("/", 1)[-1]
    edit_in_shopify(world, gid, a, 1)
    edit_in_shopify(world, gid, b, 0)
    real = ErpClient.edit_order
    refused: list[int] = []

    def once_503(self, *args, **kwargs):
        if not refused:
            refused.append(1)
            raise Transient("ERP answered 503 Service Unavailable")  # nothing taken
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ErpClient, "edit_order", once_503)
    with pytest.raises(Transient):  # RQ retries it
        edits_to_erp.apply_edit(world.shop_id, num, "901")
    assert edits_to_erp.apply_edit(world.shop_id, num, "902") == MessageStatus.DONE.value
    assert edits_to_erp.apply_edit(world.shop_id, num, "901") == "skipped"  # its retry
    first = world.message(gid, "order_edits", "edit:901")
    assert "answer was lost" not in (first.error_text or ""), first.error_text
    assert first.error_text == f"ERP order {nro} already has these lines", first.error_text
    with session_scope() as session:
        rows = list(session.scalars(select(OrderLineChange).order_by(OrderLineChange.id)))
    assert sorted((c.change_key, c.qty_before, c.qty_after, c.applied) for c in rows) == [
        (f"edit:902:{a}", 2, 1, True),
        (f"edit:902:{b}", 1, 0, True),
    ]
    items = [(i["idSku"], i["qtdPedida"]) for i in world.chain.order(nro)["itens"] if i["qtdPedida"]]
    assert items == [(a, 1)], items
