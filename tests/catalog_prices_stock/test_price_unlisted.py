"""A full prices read (the store link moved) takes off sale the SKUs priced before that the new
(company, segment) does not list (jobs.price_unlisted), but absence from one read is no proof:
a row changed during the read leaves its window, a read the client cannot prove whole may have
stopped early, and a large share of the catalog missing is a read or setup problem, not SKUs
no longer sold."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from erp import paging
from jobs import absence, price_unlisted, prices
from ledger import bindings
from ledger.db import session_scope
from ledger.mappings import set_store_link
from ledger.models import Message
from sandbox.consinco import tables as t

from .chain import erp_update
from .test_setup_moves import erp_prices, no_promotions, today


def _price(shop, sku: str) -> dict:
    with session_scope() as session:
        return bindings.get_many(session, shop.shop_id, bindings.PRICE_KIND, [sku])[sku].data or {}


def _message(shop, unit_key: str) -> Message | None:
    with session_scope() as session:
        found = session.scalars(
            select(Message).where(
                Message.shop_id == shop.shop_id, Message.flow == "prices", Message.unit_key == unit_key
            )
        ).one_or_none()
        if found is not None:
            session.expunge(found)
        return found


def _drop_segment_2_rows(chain, seqs) -> None:
    with chain.consinco.erp.store.write() as (conn, _now):
        conn.execute(t.mrl_prodempseg.delete().where(
            t.mrl_prodempseg.c.nroempresa == 1, t.mrl_prodempseg.c.nrosegmento == 2,
            t.mrl_prodempseg.c.seqproduto.in_(list(seqs))))  # fmt: skip


def test_a_price_changed_during_the_full_read_is_not_taken_off_sale(chain, monkeypatch):
    """The link moves to segment 2; while its full read runs, the merchant reprices a SKU not
    served yet: its row leaves the read's window (change time past the snapshot) and was taken
    for 'no price at all': off sale, DENY, stock 0, a "no price" message, for a pass or more.
    Now a read of the changes since the snapshot finds it: it gets its new price."""
    no_promotions(chain.consinco.erp.store)
    shop = chain.install("meio", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id, today=today())
    seg2 = erp_prices(chain, 1, 2)
    candidates = [i for s, i in seg2.items() if s in catalog and i.sale_active and i.normal > 0]
    target = max(candidates, key=lambda i: (i.changed_at, i.seq_produto, i.qtd_embalagem))
    real = prices.erp_for_shop
    monkeypatch.setattr(prices, "erp_for_shop", lambda sid, **o: real(sid, **{"page_size": 2, **o}))
    fired: list[int] = []

    def before_page(name, params):
        # the second page of the (1, 2) read: the merchant reprices the last row, not served yet
        if (name.startswith("TabelaPrecoItem") and params.get("nrosegmento") == "2"
                and params.get("dtahorsnapshot") and not fired):  # fmt: skip
            fired.append(1)
            erp_update(chain, t.mrl_prodempseg,
                       {"nroempresa": 1, "nrosegmento": 2, "seqproduto": target.seq_produto},
                       precovalidnormal=target.normal + Decimal("1"))  # fmt: skip

    chain.consinco.erp.pager.before_page = before_page
    try:
        with session_scope() as session:
            set_store_link(session, shop.shop_id, 1, 2)
        prices.run(shop.shop_id, today=today())
    finally:
        chain.consinco.erp.pager.before_page = None
    assert fired
    price = _price(shop, target.id_sku)
    variant = chain.variant(shop, catalog[target.id_sku]["variant_id"])
    assert price.get("sale_active") is True, (price, variant.get("inventoryPolicy"))
    assert Decimal(price["normal"]) == target.normal + Decimal("1")  # its new price, this pass
    assert Decimal(str(variant["price"])) == target.normal + Decimal("1")
    assert _message(shop, f"price:{target.seq_produto}:{target.id_sku}") is None  # no "no price" said


def test_many_skus_missing_stay_on_sale_for_a_person_and_the_retry_takes_them_off(chain, monkeypatch):
    """Segment 2 lists none of four products priced in segment 1: a large share of the catalog
    (the thresholds lowered to this small chain's size). Nothing goes off sale; one failed message
    says how many, names them and what to check. Its Retry (a person checked) reads the pair whole
    again and takes them off sale, each with a message saying the pair has no record for it."""
    monkeypatch.setattr(absence, "HELD_MIN", 2)
    no_promotions(chain.consinco.erp.store)
    shop = chain.install("muitos", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id, today=today())
    seqs = sorted({data["seq_produto"] for data in catalog.values()})[:4]
    gone = sorted(sku for sku, data in catalog.items() if data["seq_produto"] in seqs)
    assert len(gone) * 5 > len(catalog)  # more than 20% of the SKUs priced
    _drop_segment_2_rows(chain, seqs)
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 2)
    prices.run(shop.shop_id, today=today())
    assert all(_price(shop, sku).get("sale_active") is True for sku in gone)
    assert all(_message(shop, f"price:{catalog[s]['seq_produto']}:{s}") is None for s in gone)
    held = _message(shop, price_unlisted.UNIT)
    assert held is not None and held.status == "failed"
    assert held.error_detail["code"] == "UNLISTED_HELD" and held.error_detail["skus"] == gone
    assert f"did not list {len(gone)} SKU(s) priced before" in held.error_text
    assert "company 1 segment 2" in held.error_text and "Retry" in held.error_text

    prices.replay(held.id)
    assert _message(shop, price_unlisted.UNIT).status == "done"
    for sku in gone:
        assert _price(shop, sku).get("sale_active") is False and _price(shop, sku).get("unlisted") is True
        said = _message(shop, f"price:{catalog[sku]['seq_produto']}:{sku}")
        assert said is not None and said.status == "failed"
        assert said.error_detail["code"] == "NO_PRICE_RECORD"
        assert "no price record for it at company 1 segment 2" in said.error_text
        assert "(0)" not in said.error_text


def test_a_read_the_client_cannot_prove_whole_takes_nothing_off_sale(chain, monkeypatch):
    """One SKU missing, but the read's end is not attested (a server capping its pages without
    hasNext nor total: erp.paging _Coverage.doubt): it may have stopped early, so the SKU stays
    on sale and the message names why."""
    no_promotions(chain.consinco.erp.store)
    shop = chain.install("incerto", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id, today=today())
    sku, data = next(iter(sorted(catalog.items())))
    _drop_segment_2_rows(chain, [data["seq_produto"]])
    monkeypatch.setattr(paging._Coverage, "doubt", lambda self, total: "no hasNext, pages capped")
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 2)
    prices.run(shop.shop_id, today=today())
    assert _price(shop, sku).get("sale_active") is True
    held = _message(shop, price_unlisted.UNIT)
    assert held is not None and held.status == "failed"
    assert "does not prove the read whole (no hasNext, pages capped)" in held.error_text
    assert sku in held.error_detail["skus"]


def _shown(chain, shop, variant_id: str) -> tuple[Decimal, Decimal | None]:
    doc = chain.variant(shop, variant_id)
    compare = doc.get("compareAtPrice")
    return Decimal(str(doc["price"])), None if compare is None else Decimal(str(compare))


def test_skus_held_at_their_last_price_start_no_promotion_of_the_old_pair_and_end_a_running_one(
    chain, monkeypatch
):
    """Held on sale for a person ("they keep their last price"), a SKU still carried the dates of the
    record it was priced from: on the old pair's promotion's start day the pass put it on sale at a
    price no record of the store's pair gives. A promotion already running still ends on its day."""
    monkeypatch.setattr(absence, "HELD_MIN", 2)
    no_promotions(chain.consinco.erp.store)
    shop = chain.install("retidos", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    seqs = sorted({data["seq_produto"] for data in catalog.values()})[:4]
    units = sorted(
        (s, d) for s, d in catalog.items() if d["seq_produto"] in seqs and Decimal(d["qtd_embalagem"]) == 1
    )
    (coming, first), (running, second) = units[0], units[1]
    day = today()
    for data, start, end in ((first, day + timedelta(days=2), day + timedelta(days=9)),
                             (second, day - timedelta(days=1), day + timedelta(days=1))):  # fmt: skip
        key = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
        erp_update(chain, t.mrl_prodempseg, key, precovalidpromoc=1.00, dtainicioprom=start, dtafimprom=end)
    prices.run(shop.shop_id, today=day)
    before = _shown(chain, shop, first["variant_id"])
    assert before[1] is None and before[0] > Decimal("1.00")
    assert _shown(chain, shop, second["variant_id"])[0] == Decimal("1.00")  # its promotion runs

    _drop_segment_2_rows(chain, seqs)
    with session_scope() as session:
        set_store_link(session, shop.shop_id, 1, 2)
    prices.run(shop.shop_id, today=day)
    assert _message(shop, price_unlisted.UNIT).status == "failed"  # held: they keep their last price
    prices.run(shop.shop_id, today=day + timedelta(days=2))
    assert _shown(chain, shop, first["variant_id"]) == before, coming
    normal = Decimal(_price(shop, running)["normal"])
    assert _shown(chain, shop, second["variant_id"]) == (normal, None), running  # ended on its day
