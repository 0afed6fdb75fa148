"""An ERP price record (TabelaPrecoItem) the client cannot read never blocks the other prices: it
fails alone, on a message naming it, and is read again by every pass until it can be read, at the
store's pair and at a price list's pair alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from erp.transport import Transport
from jobs import prices
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from sandbox.shopify.state_dump import dump

from .chain import erp_update, messages
from .test_price_lists import _beyond_the_overlap, _list_market


@contextmanager
def price_item_served_with(id_sku: str, company: int, **fields: Any) -> Iterator[None]:
    """The ERP's TabelaPrecoItem endpoint serves this SKU's record at `company` with these wire
    fields replaced."""
    real_call = Transport.call

    def call(self, method, path_key, **kwargs):
        status, body = real_call(self, method, path_key, **kwargs)
        if path_key == "price_items" and isinstance(body, dict):
            for item in body.get("items") or []:
                if item.get("idSku") == id_sku and item.get("nroEmpresa") == company:
                    item.update(fields)
        return status, body

    Transport.call = call
    try:
        yield
    finally:
        Transport.call = real_call


def two_products(catalog):
    """Two unit packagings of different products: (sku, binding data) each."""
    units = [(s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1]
    bad = units[0]
    good = next(u for u in units if u[1]["seq_produto"] != bad[1]["seq_produto"])
    return bad, good


def reprice(chain, company, segment, data, price) -> None:
    where = {
        "nroempresa": company,
        "nrosegmento": segment,
        "seqproduto": data["seq_produto"],
        "qtdembalagem": 1,
    }
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=price, precovalidpromoc=0,
               dtainicioprom=None, dtafimprom=None)  # fmt: skip


def price_of(chain, shop, data) -> Decimal:
    return Decimal(str(chain.variant(shop, data["variant_id"])["price"]))


def test_an_unreadable_store_price_record_fails_alone_and_is_read_again_until_it_can_be(chain, monkeypatch):
    """A price record without `precoValidNormal` comes in the same read as another product's new
    price: that price lands, one message names the record, its company and segment and the field,
    and the watermark does not pass the record, so once the ERP serves it right the next pass (or
    replay of its message) sends its price and the message is done."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("preco-ilegivel", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    (bad, bad_data), (_, good_data) = two_products(catalog)
    reprice(chain, 1, 1, bad_data, 66.66)
    reprice(chain, 1, 1, good_data, 77.77)
    with price_item_served_with(bad, 1, precoValidNormal=None):
        for _ in range(2):  # a later pass does no worse
            prices.run(shop.shop_id)
    assert price_of(chain, shop, good_data) == Decimal("77.77")
    assert price_of(chain, shop, bad_data) != Decimal("66.66")
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.status != MessageStatus.DONE.value]
    assert said.unit_key == f"record:1:1:{bad}" and said.status == MessageStatus.FAILED.value
    assert said.error_class == "rejected"
    assert said.error_text.startswith(
        f"The ERP price record (TabelaPrecoItem) {bad} (product {bad_data['seq_produto']}) at company 1 "
        "segment 1 could not be read: field 'precoValidNormal'"
    )

    prices.replay(said.id)  # the ERP serves it right now: read again, behind no watermark
    assert price_of(chain, shop, bad_data) == Decimal("66.66")
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_an_unreadable_list_price_record_fails_alone_and_is_read_again_until_it_can_be(chain, monkeypatch):
    """The same at a price list's pair (2:2): the other product's list price lands, the record's
    message names the pair and the list, and the next pass once it can be read sends it."""
    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-ilegivel", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    prices.run(shop.shop_id)
    (bad, bad_data), (_, good_data) = two_products(catalog)
    reprice(chain, 2, 2, bad_data, 66.66)
    reprice(chain, 2, 2, good_data, 77.77)
    with price_item_served_with(bad, 2, precoValidNormal=None):
        for _ in range(2):
            prices.run(shop.shop_id)
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert price_list["prices"][good_data["variant_id"]] == "77.77"
    assert price_list["prices"][bad_data["variant_id"]] != "66.66"
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.status != MessageStatus.DONE.value]
    assert said.unit_key == f"record:list:2:2:{market.rsplit('/', 1)[-1]}:{bad}"
    assert said.status == MessageStatus.FAILED.value
    assert f"{bad} (product {bad_data['seq_produto']}) at company 2 segment 2 (price list " in said.error_text

    prices.run(shop.shop_id)
    (price_list,) = dump(chain.shopify.sandbox, shop.name)["priceLists"]
    assert price_list["prices"][bad_data["variant_id"]] == "66.66"
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_an_unreadable_list_price_records_message_is_done_once_its_list_is_retired(chain, monkeypatch):
    """The pair's market mapping deleted: its list is emptied and its records are not read any
    more, so their messages are settled, not left failed for good."""
    from ledger.db import session_scope
    from ledger.mappings import delete_mapping

    _beyond_the_overlap(monkeypatch)
    shop = chain.install("lista-ilegivel-retirada", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    market = _list_market(shop)
    (bad, _), _ = two_products(catalog)
    with price_item_served_with(bad, 2, precoValidNormal=None):
        prices.run(shop.shop_id)
        assert [m.status for m in messages(shop.shop_id, "prices") if m.unit_key.startswith("record:")] == [
            MessageStatus.FAILED.value
        ]
        with session_scope() as session:
            assert delete_mapping(session, shop.shop_id, "segment_market", market)
        prices.run(shop.shop_id)
    assert {m.status for m in messages(shop.shop_id, "prices")} == {MessageStatus.DONE.value}


def test_an_unreadable_store_price_records_message_is_done_once_the_store_link_moves(chain):
    """Segment 1's record could not be read; the store sells as segment 2 now, so nothing reads
    that record again: the next pass (or the merchant's retry) settles its message, saying why,
    instead of leaving it failed for good with a retry that can never fix it."""
    from ledger.db import session_scope
    from ledger.mappings import set_store_link

    shop = chain.install("registro-vinculo", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    (bad, _), _ = two_products(catalog)
    with price_item_served_with(bad, 1, precoValidNormal=None):
        prices.run(shop.shop_id)
    (said,) = [m for m in messages(shop.shop_id, "prices") if m.status == MessageStatus.FAILED.value]
    assert said.unit_key == f"record:1:1:{bad}"
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 2)
    with price_item_served_with(bad, 1, precoValidNormal=None):  # still unreadable at segment 1
        prices.replay(said.id)  # the merchant clicks retry
    (after,) = [m for m in messages(shop.shop_id, "prices") if m.id == said.id]
    assert after.status == MessageStatus.DONE.value, after.error_text
    assert "no longer read" in after.response_payload["not_read"]
