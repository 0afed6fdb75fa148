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
    assert isinstance(answer, Ignored) and "no product the app has bound" in answer.reason


def _delete_while_recording(installed: InstalledShop, monkeypatch, seq: int, answers: list) -> None:
    """A person deletes product `seq` in Shopify, and its products/delete is worked, while a pass
    holds productSet's answer for it and has not recorded it yet (a batch of 50; a bulk operation
    of hours): between the answer and record_sent."""
    from jobs import catalog_load

    original = catalog_load._set_custom_ids

    def answered(client, outcomes):
        for mapped, product, _ in outcomes:
            if mapped.seq_produto == seq and not answers:
                ctx = Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key="")
                assert catalog.delete_product_by_hand(ctx, product.id)
                answers.append(catalog_deleted.on_delete(_deleted_by_hand(installed, product.id)))
        return original(client, outcomes)

    monkeypatch.setattr(catalog_load, "_set_custom_ids", answered)


def test_a_product_deleted_while_a_pass_records_it_is_made_again(
    installed: InstalledShop, monkeypatch
) -> None:
    """Changed (bound already) or created (not bound yet), then deleted before the pass recorded it:
    the record bound it to the deleted product with its digest, and no later pass (the recheck, the
    daily full sweep) sent it again, though the ERP sells it online."""
    from tests.catalog_products.erp_writes import set_title
    from tests.catalog_products.test_catalog_flows import products_by_seq

    client = installed.client()
    answers: list = []
    with monkeypatch.context() as patched:  # created, deleted before recorded
        _delete_while_recording(installed, patched, 1, answers)
        catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert isinstance(answers[0], Ignored) and 1 not in products_by_seq(installed)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert 1 in products_by_seq(installed)

    set_title(installed.erp, 1, "Novo titulo")
    answers.clear()
    with monkeypatch.context() as patched:  # changed, deleted before recorded
        _delete_while_recording(installed, patched, 1, answers)
        catalog_flow.run_flow(installed.shop_id, "products", client=client)
    assert answers == [None] and 1 not in products_by_seq(installed)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    client.close()
    made = products_by_seq(installed).get(1)
    assert made is not None and _bound(installed, 1)[0] == made["id"]


def test_a_deleted_product_the_erp_does_not_sell_is_not_made_again_by_an_edit(installed) -> None:
    """Deleted by a person while the ERP does not sell it online: an ERP edit (a title) made it again
    all the same, still not sold (the cleanup undone)."""
    from tests.catalog_products.erp_writes import set_title
    from tests.catalog_products.test_catalog_flows import products_by_seq

    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    seq, product = sorted((s, p) for s, p in products_by_seq(installed).items() if p["status"] != "ACTIVE")[0]
    ctx = Ctx(shop=SHOP_NAME, sandbox=installed.shopify.sandbox, api_key="")
    assert catalog.delete_product_by_hand(ctx, product["id"])
    answer = catalog_deleted.on_delete(_deleted_by_hand(installed, product["id"]))
    assert isinstance(answer, Ignored) and "only if the ERP sells it online again" in answer.reason
    set_title(installed.erp, seq, "Titulo corrigido")
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    client.close()
    assert seq not in products_by_seq(installed)
