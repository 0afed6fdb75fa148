"""A SKU the store's (company, segment) has never had a price record for: its variant (created by
the products flow at R$ 0.00, its product ACTIVE and published) is never priced and held at 0
stock. The whole read says so (jobs.price_never_listed): a message naming the SKU and what the ERP
lacks, closed by the pass that prices it once the record appears; many at once, one message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from jobs import absence, prices, stock
from jobs.price_never_listed import UNIT
from ledger import bindings
from ledger.db import session_scope
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from tests.catalog_prices_stock.chain import Chain, messages

T = t.mrl_prodempseg


def _drop_records(chain: Chain, seqs: list[int], qtd: int = 1) -> list[dict[str, Any]]:
    """The store pair's price records of these products' packagings of `qtd`, deleted (kept to put back)."""
    where = (T.c.nroempresa == 1, T.c.nrosegmento == 1, T.c.seqproduto.in_(seqs), T.c.qtdembalagem == qtd)
    with chain.consinco.erp.store.write() as (conn, _now):
        rows = [dict(r) for r in conn.execute(select(T).where(*where)).mappings()]
        conn.execute(T.delete().where(*where))
    return rows


def _put_back(chain: Chain, rows: list[dict[str, Any]]) -> None:
    with chain.consinco.erp.store.write() as (conn, now):
        conn.execute(T.insert(), [{**r, "dtaalteracao": now} for r in rows])


def _about(shop_id: int, sku: str) -> list[Any]:
    return [m for flow in ("prices", "stock") for m in messages(shop_id, flow)
            if sku.lower() in (m.search_text or "") or sku in (m.error_text or "")]  # fmt: skip


def test_a_sku_with_no_price_record_at_all_is_said_and_unsaid_once_priced(chain):
    shop = chain.install("sem-registro", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    kept = _drop_records(chain, [data["seq_produto"]])
    assert len(kept) == 1
    prices.run(shop.shop_id)  # the pair's first pass: a whole read
    stock.run(shop.shop_id)
    with session_scope() as session:
        assert not bindings.get_many(session, shop.shop_id, "price", [sku])
    assert chain.level(shop, data["inventory_item_id"], 1) == 0  # held off sale (fine)
    unresolved = [m for m in _about(shop.shop_id, sku) if m.status == MessageStatus.FAILED.value]
    assert [m.unit_key for m in unresolved] == [f"price:{data['seq_produto']}:{sku}"], _about(
        shop.shop_id, sku
    )
    (said,) = unresolved
    assert said.error_detail["code"] == "NO_PRICE_RECORD"
    assert "TabelaPrecoItem" in said.error_text and "company 1 segment 1" in said.error_text
    prices.run(shop.shop_id)  # an incremental pass changes nothing
    assert [m.status for m in messages(shop.shop_id, "prices") if m.unit_key == said.unit_key] == ["failed"]
    _put_back(chain, kept)  # the ERP gets the price record: the next pass prices it, the message closes
    prices.run(shop.shop_id)
    assert Decimal(chain.variant(shop, data["variant_id"])["price"]) > 0
    assert [m.status for m in messages(shop.shop_id, "prices") if m.unit_key == said.unit_key] == ["done"]


def test_many_never_priced_are_said_in_one_message(chain, monkeypatch):
    monkeypatch.setattr(absence, "HELD_MIN", 2)
    shop = chain.install("muitos-sem-registro", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    seqs = sorted({d["seq_produto"] for d in catalog.values()})[:6]
    kept = _drop_records(chain, seqs)
    gone = sorted(
        s for s, d in catalog.items() if d["seq_produto"] in seqs and Decimal(d["qtd_embalagem"]) == 1
    )
    assert len(gone) == 6 and len(gone) > absence.HELD_SHARE * len(catalog)
    prices.run(shop.shop_id)
    held = [m for m in messages(shop.shop_id, "prices") if m.unit_key == UNIT]
    assert [m.status for m in held] == ["failed"]
    assert held[0].error_detail["code"] == "NEVER_PRICED_HELD" and held[0].error_detail["skus"] == gone
    assert not [m for m in messages(shop.shop_id, "prices") if m.unit_key.count(":") == 2
                and m.unit_key.rsplit(":", 1)[-1] in gone]  # fmt: skip
    _put_back(chain, kept)
    prices.run(shop.shop_id)
    assert [m.status for m in messages(shop.shop_id, "prices") if m.unit_key == UNIT] == ["done"]
