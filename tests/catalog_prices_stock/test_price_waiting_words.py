"""A price parked waiting for its variant is explained as a price, in both languages: it was told the
orders' advice ("replace or remove it with an order edit in Shopify"), and read in English on a
pt-BR page."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete

from jobs import prices
from jobs.price_map import erp_today
from ledger.db import session_scope
from ledger.models import Binding, MessageStatus
from settings import get_settings
from shopify_app.api_explain import explain
from shopify_app.fail_words import reason

from .chain import messages


def test_a_price_waiting_for_its_variant_is_told_the_catalog_flows_make_it(chain):
    shop = chain.install("espera-preco", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    by_seq = defaultdict(list)
    for sku, data in catalog.items():
        by_seq[data["seq_produto"]].append(sku)
    seq, skus = next((s, k) for s, k in by_seq.items() if len(k) > 1)
    waiting = sorted(skus)[-1]
    with session_scope() as session:  # that packaging's variant not made yet
        session.execute(
            delete(Binding).where(
                Binding.shop_id == shop.shop_id, Binding.kind == "variant", Binding.erp_id == waiting
            )
        )
    prices.run(shop.shop_id, today=erp_today(get_settings().erp_timezone))
    [message] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == f"price:{seq}"]
    assert message.status == MessageStatus.PARKED.value
    pt, en = explain(message, "pt-BR"), explain(message, "en")
    assert en["what_to_do"].startswith("It resumes by itself once the products and SKUs flows create"), en
    assert pt["what_to_do"].startswith("A mensagem segue sozinha quando os fluxos de produtos e SKUs"), pt
    assert reason(message, "pt-BR").startswith(f"o(s) SKU(s) {waiting} ainda não tem(têm) variante"), reason(
        message, "pt-BR"
    )
