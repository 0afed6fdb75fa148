"""A product the ERP sells online, deleted in Shopify by a person (products/delete): forgotten and
created again by the next products pass (the ERP owns the catalog), its new variants bound, its
message saying so and how to stop selling it; a product the ERP no longer sells online, or one the
app never made, is left alone (jobs.catalog_deleted)."""

from __future__ import annotations

from sqlalchemy import select

from jobs import catalog_deleted, catalog_flow
from jobs.catalog_ledger import PRODUCT_KIND, VARIANT_KIND
from jobs.inbox import Ignored, WebhookEvent
from ledger import bindings
from ledger.db import session_scope
from ledger.models import Message, MessageStatus
from sandbox.shopify import catalog
from sandbox.shopify.gids import num_of
from sandbox.shopify.registry import Ctx
from shopify_app import skip_words

from .conftest import SHOP_NAME, InstalledShop


def _deleted_by_hand(installed: InstalledShop, product_id: str) -> WebhookEvent:
    """A person deletes the product in the Shopify admin; Shopify's products/delete, as the inbox
    hands it over (no webhook reaches these tests)."""
    ctx = Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key="")
    assert catalog.delete_product_by_hand(ctx, product_id)  # delivered to the app's subscription
    return WebhookEvent(1, "products/delete", installed.domain, "w-del", None, "2026-10", None,
                        {"id": num_of(product_id)})  # fmt: skip


def _bound(installed: InstalledShop, seq: int) -> tuple[str | None, dict[str, str | None]]:
    with session_scope() as session:
        product = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, [str(seq)])[str(seq)]
        skus = product.data["skus"]
        variants = bindings.get_many(session, installed.shop_id, VARIANT_KIND, skus)
        return product.shopify_id, {sku: variants[sku].shopify_id for sku in skus}


def _message(installed: InstalledShop, seq: int) -> Message:
    with session_scope() as session:
        return session.scalars(
            select(Message).where(
                Message.shop_id == installed.shop_id,
                Message.flow == "products",
                Message.unit_key == f"product:{seq}",
            )
        ).one()


def test_a_product_deleted_in_shopify_is_created_again_by_the_next_pass(installed: InstalledShop) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    old_product, old_variants = _bound(installed, 1)

    assert catalog_deleted.on_delete(_deleted_by_hand(installed, old_product)) is None
    said = _message(installed, 1)
    assert said.status == MessageStatus.SKIPPED.value
    assert (
        "deleted in Shopify" in said.error_text and "take it off the e-commerce in the ERP" in said.error_text
    )
    assert skip_words.reason(said, "pt-BR").startswith("O produto 1 foi apagado na Shopify")

    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # no ERP change: the recheck
    client.close()
    new_product, new_variants = _bound(installed, 1)
    assert new_product and new_product != old_product
    assert set(new_variants) == set(old_variants) and not set(new_variants.values()) & set(
        old_variants.values()
    )
    state = installed.state()
    assert new_product in {p["id"] for p in state["products"]}
    assert _message(installed, 1).status == MessageStatus.DONE.value


def test_a_product_the_erp_no_longer_sells_or_never_made_is_left_alone(installed: InstalledShop) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    client.close()
    product_id, _ = _bound(installed, 1)
    with session_scope() as session:  # the ERP took it off the e-commerce: archived in Shopify
        row = bindings.get_many(session, installed.shop_id, PRODUCT_KIND, ["1"])["1"]
        row.data = {**row.data, "status": "ARCHIVED"}
    answer = catalog_deleted.on_delete(_deleted_by_hand(installed, product_id))
    assert isinstance(answer, Ignored) and "ARCHIVED" in answer.reason
    assert _bound(installed, 1)[0] == product_id  # kept: made again only if the ERP sells it again

    stranger = WebhookEvent(
        2, "products/delete", installed.domain, "w-x", None, "2026-10", None, {"id": 987654}
    )
    answer = catalog_deleted.on_delete(stranger)
    assert isinstance(answer, Ignored) and "no product the app made" in answer.reason
