"""An edit whose order lock is lost while its PUT runs (Redis restarted): a later edit's job may run
in the gap and send newer lines, then this one's PUT, built from the older read, lands after it. It
ended done, the ERP holding the older lines, nothing said until the reconciliation. Now it is retried
(the import rechecks its lines the same way): the retry reads both sides and the ERP ends with the
latest lines."""

from __future__ import annotations

import pytest

from erp.client import ErpClient
from jobs.locks import record_key
from jobs.order_edits import to_erp
from ledger import kv, mappings
from ledger.db import session_scope
from ledger.errors import Transient
from ledger.models import Message, MessageStatus

from .conftest import World, set_quantity


def _erp_quantities(world: World, nro: int) -> list:
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    try:
        return [line.qty_ordered for line in client.get_order(nro).lines]
    finally:
        client.close()


def test_an_edit_whose_lock_was_lost_during_its_put_is_retried_and_the_erp_ends_with_the_latest(
    world: World, monkeypatch
) -> None:
    plain = world.plain(0)
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", "2")
    order = world.linked_order([(plain, 3)], gateway="pix")
    num = order.gid.rsplit("/", 1)[-1]
    set_quantity(world, order.gid, plain, 2)  # edit 1
    real = ErpClient.edit_order
    inside: list[bool] = []

    def put_after_a_redis_restart(self, nro, *args, **kwargs):
        if not inside:
            inside.append(True)
            assert kv.get_redis().delete(record_key(f"shop:{world.shop_id}:order:{num}")) == 1
            set_quantity(world, order.gid, plain, 1)  # edit 2, its job run in the gap
            assert to_erp.apply_edit(world.shop_id, order.gid, "e2") == "done"
            assert _erp_quantities(world, order.nro) == [1]
        return real(self, nro, *args, **kwargs)  # edit 1's PUT, of the older read, lands

    monkeypatch.setattr(ErpClient, "edit_order", put_after_a_redis_restart)
    with pytest.raises(Transient, match="lock was lost"):
        to_erp.apply_edit(world.shop_id, order.gid, "e1")
    with session_scope() as session:
        [edit] = session.query(Message).where(Message.unit_key == to_erp.unit_key("e1")).all()
        assert edit.status == MessageStatus.RETRYING.value
    assert to_erp.apply_edit(world.shop_id, order.gid, "e1") in ("done", "skipped")  # RQ's retry
    assert _erp_quantities(world, order.nro) == [1]
