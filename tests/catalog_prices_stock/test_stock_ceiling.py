"""An ERP figure above Shopify's ceiling (1,000,000,000: "The total quantity can't be higher than
1,000,000,000", INVALID_QUANTITY_TOO_HIGH; above 2,147,483,647 GraphQL's 32-bit Int refuses the
whole request) — a placeholder 'unlimited' stock, a mis-keyed receipt — is sent at the ceiling with
a note naming the SKU and the ERP figure: it neither takes the other SKUs of its batch down nor
leaves the item at its old level (0 on a new item: not for sale)."""

from __future__ import annotations

import pytest

from jobs import stock
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from sandbox.shopify import order_store
from sandbox.shopify.registry import Ctx

from .chain import erp_update, messages
from .test_stock_flow import erp_stock, expected, pick

CEILING = 1_000_000_000


def huge(chain, shop, catalog, qty):
    """One SKU whose ERP row holds `qty` units to sell (nothing reserved, no safety stock)."""
    sku, data = pick(catalog, chain, shop, 1)
    erp_update(
        chain,
        t.mrl_produtoempresa,
        {"nroempresa": 1, "seqproduto": data["seq_produto"]},
        estqloja=qty,
        estqdeposito=0,
        estqterceiro=0,
        qtdreservadavda=0,
        qtdreservadareceb=0,
        qtdreservadafixa=0,
        estqsegurancaecommerce=0,
    )
    return sku, data


def unwritten(chain, shop, catalog, but):
    """The SKUs (other than `but`) whose level is not the ERP's figure."""
    rows = erp_stock(chain, 1)
    wrong = {}
    for sku, data in catalog.items():
        want = expected(*rows[sku], weighed=data["weighed"])
        if (
            sku != but
            and want is not None
            and (got := chain.level(shop, data["inventory_item_id"], 1)) != want
        ):
            wrong[sku] = (want, got)
    return wrong


def test_one_figure_above_int32_does_not_leave_the_whole_batch_unwritten(chain):
    shop = chain.install("teto-lote", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    big, _ = huge(chain, shop, catalog, 5_000_000_000)
    result = stock.run(shop.shop_id)
    assert unwritten(chain, shop, catalog, big) == {}
    assert result.failed == []


@pytest.mark.parametrize("qty", [1_500_000_000, 5_000_000_000])
def test_a_level_above_shopifys_ceiling_is_sent_at_the_ceiling_with_a_note(chain, qty):
    shop = chain.install(f"teto-{qty}", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = huge(chain, shop, catalog, qty)
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == CEILING
    batch = [m for m in messages(shop.shop_id, "stock") if sku in (m.request_payload or {}).get("skus", [])]
    assert [m.status for m in batch] == [MessageStatus.DONE.value]
    assert batch[0].response_payload["above_ceiling"] == {sku: {"erp": str(qty), "sent": CEILING}}
    assert f"{sku} (ERP {qty})" in batch[0].response_payload["note"]
    # the note's words, which the message's page says in the merchant's language (shopify_app.stock_words)
    [said] = batch[0].response_payload["note_words"]
    assert said["key"] == "stock_above_ceiling"
    assert said["params"]["skus"] == [
        {"key": "stock_above_ceiling_sku", "params": {"sku": sku, "erp": str(qty)}}
    ]
    assert batch[0].response_payload["levels"][sku] == CEILING
    again = stock.run(shop.shop_id)  # the level sent is remembered: nothing to write again
    assert again.levels_sent == 0 and again.failed == []


def test_units_orders_committed_count_towards_the_ceiling(chain):
    """Shopify's ceiling is on the level's total: the units an order committed (on hand, not
    available) leave that much less room for the available level."""
    shop = chain.install("teto-reservado", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = huge(chain, shop, catalog, 5_000_000_000)
    ctx = Ctx(shop=shop.name, sandbox=chain.shopify.sandbox, api_key="")
    order_store.commit_stock(ctx, data["variant_id"], shop.locations[1], 3)  # an order took 3: committed
    result = stock.run(shop.shop_id)
    assert result.failed == []
    assert chain.level(shop, data["inventory_item_id"], 1) == CEILING - 3
    assert unwritten(chain, shop, catalog, sku) == {}


def test_a_level_at_its_room_is_not_sent_again_when_its_row_moves_above_the_ceiling(chain, monkeypatch):
    """Sent at the room the ceiling leaves (CEILING less the 3 units an order committed), the level
    is remembered as computed (the ceiling) beside the room sent: its ERP row moving, still above
    the ceiling, writes nothing, where it sent the batch twice (INVALID_QUANTITY_TOO_HIGH, then
    the room) on every move."""
    from jobs import stock_writer
    from ledger import bindings
    from ledger.bindings import STOCK_KIND
    from ledger.db import session_scope

    shop = chain.install("teto-de-novo", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = huge(chain, shop, catalog, 5_000_000_000)
    ctx = Ctx(shop=shop.name, sandbox=chain.shopify.sandbox, api_key="")
    order_store.commit_stock(ctx, data["variant_id"], shop.locations[1], 3)
    stock.run(shop.shop_id)
    assert chain.level(shop, data["inventory_item_id"], 1) == CEILING - 3
    real, sent = stock_writer.set_available, []

    def counted(client, quantities, **kwargs):
        sent.extend(q["quantity"] for q in quantities if q["inventoryItemId"] == data["inventory_item_id"])
        return real(client, quantities, **kwargs)

    monkeypatch.setattr(stock_writer, "set_available", counted)
    row = {"nroempresa": 1, "seqproduto": data["seq_produto"]}
    erp_update(chain, t.mrl_produtoempresa, row, estqloja=4_900_000_000)  # its other packagings move
    result = stock.run(shop.shop_id)
    assert result.failed == []
    assert chain.level(shop, data["inventory_item_id"], 1) == CEILING - 3
    assert sent == [], f"sent again for a level already at its room: {sent}"
    with session_scope() as session:
        [binding] = bindings.get_many(session, shop.shop_id, STOCK_KIND, [f"1:{sku}"]).values()
        assert binding.data["sent"] == CEILING - 3  # what Shopify shows: the stock flow's compare-and-swap
