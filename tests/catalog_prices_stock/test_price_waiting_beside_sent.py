"""A SKU whose variant does not exist yet is parked on its product's message ("price:<seq>"); the
same pass sent the product's other packagings under that unit and closed it done: the wait was said
nowhere. The park now comes after the sends; a send that failed keeps its failure said. It is
explained as a price, in both languages: it was told the orders' advice ("replace or remove it with an
order edit in Shopify") and read in English on a pt-BR page."""

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
from tests.catalog_prices_stock.chain import messages


def test_a_packaging_waiting_for_its_variant_stays_said_beside_its_sibling_sent(chain) -> None:
    shop = chain.install("espera", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    by_seq = defaultdict(list)
    for sku, data in catalog.items():
        by_seq[data["seq_produto"]].append(sku)
    seq, skus = next((s, k) for s, k in by_seq.items() if len(k) > 1)
    waiting = sorted(skus)[-1]
    with session_scope() as session:  # that packaging has no variant yet
        session.execute(
            delete(Binding).where(
                Binding.shop_id == shop.shop_id, Binding.kind == "variant", Binding.erp_id == waiting
            )
        )
    run = prices.run(shop.shop_id, today=erp_today(get_settings().erp_timezone))
    assert run.waiting == 1
    [message] = [m for m in messages(shop.shop_id, "prices") if m.unit_key == f"price:{seq}"]
    assert message.status == MessageStatus.PARKED.value and waiting in (message.error_text or "")
    pt, en = explain(message, "pt-BR"), explain(message, "en")
    assert en["what_to_do"].startswith("It resumes by itself once the products and SKUs flows create"), en
    assert pt["what_to_do"].startswith("A mensagem segue sozinha quando os fluxos de produtos e SKUs"), pt
    said = reason(message, "pt-BR")
    assert said.startswith(f"o(s) SKU(s) {waiting} ainda não tem(têm) variante"), said
