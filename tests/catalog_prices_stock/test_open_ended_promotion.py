"""A promotion the ERP holds with no end (dtafimprom 9999-12-31, the "no end" date of Oracle
systems) runs, and costs no other product its price: there is no day after it to recheck on."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from jobs import prices
from jobs.price_map import PriceState, erp_today, recheck_on
from sandbox.consinco import tables as t
from settings import get_settings

from .chain import erp_update


def test_an_open_ended_promotion_is_sent_and_the_pass_goes_on(chain) -> None:
    shop = chain.install("promo-aberta", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    erp_update(chain, t.mrl_prodempseg, {}, precovalidpromoc=0, dtainicioprom=None, dtafimprom=None)
    today = erp_today(get_settings().erp_timezone)
    prices.run(shop.shop_id, today=today)
    data = next(d for d in catalog.values() if Decimal(d["qtd_embalagem"]) == 1)
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": data["seq_produto"], "qtdembalagem": 1}
    erp_update(chain, t.mrl_prodempseg, where, precovalidpromoc=0.5,
               dtainicioprom=today - timedelta(days=1), dtafimprom=date(9999, 12, 31))  # fmt: skip
    other = next(d for d in catalog.values() if d["seq_produto"] != data["seq_produto"])
    where = {"nroempresa": 1, "nrosegmento": 1, "seqproduto": other["seq_produto"]}
    erp_update(chain, t.mrl_prodempseg, where, precovalidnormal=77.77)

    prices.run(shop.shop_id, today=today)

    assert Decimal(str(chain.variant(shop, other["variant_id"])["price"])) == Decimal("77.77")
    promoted = chain.variant(shop, data["variant_id"])
    assert Decimal(str(promoted["price"])) == Decimal("0.50") and promoted["compareAtPrice"] is not None


def test_nothing_to_recheck_for_a_promotion_that_never_ends() -> None:
    state = PriceState(id_sku="P1E1", seq_produto=1, normal=Decimal("10"), promotional=Decimal("8"),
                       promo_start=date(2026, 1, 1), promo_end=date.max, promotion_flag=True,
                       sale_active=True)  # fmt: skip
    assert recheck_on(state, date(2026, 12, 6)) is None
    assert recheck_on(state, date(2025, 12, 6)) == date(2026, 1, 1)  # its start still counts
