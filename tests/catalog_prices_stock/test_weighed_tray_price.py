"""A weighed item's packaging other than the KG of quantity 1 (a 0.5 kg tray, a 5 kg box) is by
design never made a variant (jobs.catalog_map.not_kg: "no binding: the prices, stock and order
flows leave it alone"). Its price row (TabelaPrecoItem) parked the product's price message for good,
saying it is "priced once the products/SKUs flows create them", which they never will (the daily
sweep reopened it every day): the prices flow leaves it alone too."""

from __future__ import annotations

from sqlalchemy import select

from jobs import prices, prices_full
from ledger.models import MessageStatus
from sandbox.consinco import tables as t
from tests.catalog_prices_stock.chain import messages


def test_a_weighed_tray_never_made_a_variant_does_not_fail_its_products_price_message(chain):
    shop = chain.install("bandeja-pesavel", 1, 1, [1])
    catalog = chain.load_catalog(shop, unit_kg="1")
    seq = next(d["seq_produto"] for d in catalog.values() if d["weighed"])
    store = chain.consinco.erp.store
    with store.write() as (conn, now):  # the ERP also prices a 5 kg box of that weighed item
        row = dict(
            conn.execute(
                select(t.mrl_prodempseg).where(
                    t.mrl_prodempseg.c.seqproduto == seq,
                    t.mrl_prodempseg.c.nroempresa == 1,
                    t.mrl_prodempseg.c.nrosegmento == 1,
                )
            )
            .mappings()
            .first()
        )
        conn.execute(
            t.mrl_prodempseg.insert().values(
                {
                    **row,
                    "qtdembalagem": 5,
                    "dtaalteracao": now,
                    "precovalidnormal": row["precovalidnormal"] * 5,
                }
            )
        )
    prices.run(shop.shop_id)
    prices_full.run(shop.shop_id)
    failed = [
        (m.unit_key, m.error_text)
        for m in messages(shop.shop_id, "prices")
        if m.status in (MessageStatus.FAILED.value, MessageStatus.PARKED.value)
        and m.unit_key.split(":")[:2] == ["price", str(seq)]
    ]
    assert not failed, failed
