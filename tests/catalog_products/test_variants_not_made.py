"""Shopify takes a productSet but its answer has no variant for a packaging sent (merged into
another by its option value, or dropped): recorded as done, that packaging went unbound, unpriced and
unstocked, and the digest had every later pass skip the product. The product's message fails naming
the SKU (VARIANTS_NOT_MADE), its digest not recorded, so the next full sync (or its Retry) sends it
again; what Shopify did answer is bound."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from jobs import catalog_flow, catalog_full
from jobs.catalog_ledger import PRODUCT_KIND, VARIANT_KIND
from ledger import bindings
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from shopify_app.api_explain import explain

from .conftest import InstalledShop
from .erp_writes import set_title


def test_a_packaging_shopify_made_no_variant_for_fails_its_product(installed: InstalledShop) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    with session_scope() as session:
        [lost, *kept] = sorted(
            bindings.get_many(session, installed.shop_id, PRODUCT_KIND, ["1"])["1"].data["skus"]
        )
    real = client.product_set

    def answered_without(product, **kwargs):  # Shopify's answer lacks the packaging `lost`
        answer = real(product, **kwargs)
        variants = [v for v in answer.product.variants if v.sku != lost]
        return dataclasses.replace(answer, product=dataclasses.replace(answer.product, variants=variants))

    client.product_set = answered_without
    set_title(installed.erp, 1, "ARROZ NOVO 5KG")
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    with session_scope() as session:
        message = session.scalars(
            select(Message).where(Message.flow == "products", Message.unit_key == "product:1")
        ).one()
        product = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, ["1"])["1"]
        answered = bindings.get_many(session, installed.shop_id, VARIANT_KIND, kept)
        assert message.status == MessageStatus.FAILED.value, message.error_text
        assert message.error_detail["code"] == "VARIANTS_NOT_MADE" and lost in (message.error_text or "")
        assert product.digest is None  # sent again by the next full sync
        assert set(answered) == set(kept)  # what Shopify answered is bound
        assert "Tentar de novo" in explain(message, "pt-BR")["what_to_do"]

    client.product_set = real  # Shopify makes it this time: the full sync sends the product again
    catalog_full.run(installed.shop_id)
    with session_scope() as session:
        message = session.get(Message, message.id)
        assert message.status == MessageStatus.DONE.value, message.error_text
        assert bindings.get_many(session, installed.shop_id, PRODUCT_KIND, ["1"])["1"].digest is not None
