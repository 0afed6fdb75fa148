"""A batch Shopify refuses as a whole (no entry named: a figure GraphQL's Int cannot take, a request
it calls wrong) takes neither the other levels of its batch down (it is sent again in halves, so
what Shopify takes lands and the refused SKU is narrowed down) nor its SKUs off the next passes
(the watermark moves on: they are kept due, as refused prices are, until Shopify takes them)."""

from __future__ import annotations

from jobs import stock, stock_map, stock_writer
from ledger.models import MessageStatus
from shopify_app.admin_api.errors import UnexpectedResponse

from .chain import messages
from .test_stock_ceiling import huge, unwritten


def test_a_figure_graphql_refuses_is_narrowed_down_and_the_rest_of_its_batch_lands(chain, monkeypatch):
    """Were the ceiling missed, 5,000,000,000 (above GraphQL's 32-bit Int) refuses the whole
    request: the other levels still land in the same pass, the SKU alone is named, and it is
    sent again by the next pass (written once the ceiling applies)."""
    shop = chain.install("lote-recusado", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    big, data = huge(chain, shop, catalog, 5_000_000_000)
    ceiling = stock_map.MAX_LEVEL
    monkeypatch.setattr(stock_map, "MAX_LEVEL", 10**10)  # the ceiling missed
    first = stock.run(shop.shop_id)
    assert unwritten(chain, shop, catalog, big) == {}
    assert first.failed == [big]
    failed = [m for m in messages(shop.shop_id, "stock") if m.status == MessageStatus.FAILED.value]
    assert [m.error_detail["user_errors"][0]["sku"] for m in failed] == [big]
    assert "32-bit" in failed[0].error_text
    monkeypatch.setattr(stock_map, "MAX_LEVEL", ceiling)
    second = stock.run(shop.shop_id)  # the ERP row did not move: the SKU was kept due
    assert second.failed == []
    assert chain.level(shop, data["inventory_item_id"], 1) == stock_map.MAX_LEVEL
    assert stock.run(shop.shop_id).levels_sent == 0  # written: no longer due


def test_a_batch_refused_as_a_whole_is_sent_again_by_the_next_pass(chain, monkeypatch):
    """Every request refused as a whole (both halves too: the request itself is wrong, not one of
    its levels): the pass stops splitting, names the SKUs, and the next pass sends them again,
    though their ERP rows did not move and the watermark moved on."""
    shop = chain.install("lote-inteiro", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    real = stock_writer.set_available
    calls: list[int] = []

    def refused_as_a_whole(client, quantities, **kwargs):
        calls.append(len(quantities))
        return real(client, quantities, **{**kwargs, "reason": "not-a-reason"})  # INVALID_REASON

    monkeypatch.setattr(stock_writer, "set_available", refused_as_a_whole)
    first = stock.run(shop.shop_id)
    assert first.failed and sorted(unwritten(chain, shop, catalog, None)) == sorted(first.failed)
    assert len(calls) == 3  # the batch, then its two halves: no further splitting
    monkeypatch.setattr(stock_writer, "set_available", real)
    second = stock.run(shop.shop_id)
    assert second.failed == []
    assert unwritten(chain, shop, catalog, None) == {}
    assert stock.run(shop.shop_id).levels_sent == 0


def test_an_answer_that_does_not_say_whether_the_batch_applied_is_not_split(chain, monkeypatch):
    """Split only what Shopify refused: after an answer that does not say whether the call applied,
    nothing else is sent for the batch; the next pass asks about the call first, then writes."""
    shop = chain.install("lote-incerto", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    real = stock_writer.set_available
    calls: list[int] = []

    def unclear(client, quantities, **kwargs):
        calls.append(len(quantities))
        raise UnexpectedResponse("inventorySetQuantities: HTTP 200 without data")

    monkeypatch.setattr(stock_writer, "set_available", unclear)
    first = stock.run(shop.shop_id)
    assert len(calls) == 1 and first.failed
    monkeypatch.setattr(stock_writer, "set_available", real)
    stock.run(shop.shop_id)
    assert unwritten(chain, shop, catalog, None) == {}
