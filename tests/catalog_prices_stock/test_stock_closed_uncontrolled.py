"""A closed store (a mapped company inactive in the ERP, jobs.stock_closed) and its items without
stock control. The app writes no level for such an item (CONTINUE sells it on), but a level it
wrote while the item still had control stays at the location: Shopify's order routing would pick
the closed store for it. That level is the app's, set to 0 with the rest; one the app never wrote
there (a person's) is left and named, as a person's raise of a controlled item is. Reopened, the
company's pass handles the item as any open company's (its level left as it is), until the ERP
controls its stock again and the level is written."""

from __future__ import annotations

from jobs import stock
from ledger.models import MessageStatus
from sandbox.consinco import tables as t

from .chain import erp_update, messages
from .test_stock_flow import erp_stock, expected, pick


def _control(chain, company: int, seq: int, flag: str) -> None:
    erp_update(
        chain, t.mrl_produtoempresa, {"nroempresa": company, "seqproduto": seq}, indcontrolaestoqueecomm=flag
    )


def _status(chain, company: int, status: str) -> None:
    erp_update(chain, t.max_empresa, {"nroempresa": company}, status=status)


def _by_unit(shop_id: int):
    return {m.unit_key: m for m in messages(shop_id, "stock")}


def test_an_uncontrolled_level_the_app_wrote_at_a_closed_store_is_set_to_0_and_written_again_on_control(
    chain,
):
    shop = chain.install("fechada-sem-controle", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 2, minimum=3)
    item, seq = data["inventory_item_id"], data["seq_produto"]
    written = chain.level(shop, item, 2)
    assert written >= 3
    _control(chain, 2, seq, "N")  # company 2 no longer controls it: its level is left as it is
    stock.run(shop.shop_id)
    assert chain.level(shop, item, 2) == written
    other = chain.level(shop, item, 1)
    control = f"stock:control:2:{sku}"  # company 1 decides the policy: the difference is named
    assert _by_unit(shop.shop_id)[control].status == MessageStatus.SKIPPED.value

    _status(chain, 2, "I")
    closed = stock.run(shop.shop_id)
    assert closed.closed == [2]
    assert chain.level(shop, item, 2) == 0  # no stock shown at the closed store: nothing routed there
    assert chain.level(shop, item, 1) == other  # the open store untouched
    # the closed company sells nothing here: its difference is done at once, as an unmapped one's
    assert _by_unit(shop.shop_id)[control].status == MessageStatus.DONE.value

    _status(chain, 2, "A")
    reopened = stock.run(shop.shop_id)
    assert 2 in reopened.companies and reopened.closed == []
    assert chain.level(shop, item, 2) == 0  # still without control: left as it is, as at any open store
    assert _by_unit(shop.shop_id)[control].status == MessageStatus.SKIPPED.value  # named anew

    _control(chain, 2, seq, "S")  # controlled again: the normal pass writes its level
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 2)[sku]
    assert chain.level(shop, item, 2) == expected(row, s) >= 3
    assert _by_unit(shop.shop_id)[control].status == MessageStatus.DONE.value


def test_a_level_the_app_never_wrote_at_a_closed_store_is_a_persons_left_and_named(chain):
    """The item has no stock control at company 2 from the start (the app never wrote its level
    there), or lost it and the store was closed and reopened since (the level the app wrote was
    set to 0 then): a level a person put there is the person's, left at the closed store and
    named on its message, as a person's raise of a controlled item is."""
    shop = chain.install("fechada-nivel-pessoa", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    never, lost = _two_products(catalog, chain, shop)
    _control(chain, 2, never["seq_produto"], "N")
    stock.run(shop.shop_id)
    _control(chain, 2, lost["seq_produto"], "N")
    stock.run(shop.shop_id)
    assert chain.level(shop, lost["inventory_item_id"], 2) >= 3  # written while it had control
    _status(chain, 2, "I")
    stock.run(shop.shop_id)
    _status(chain, 2, "A")
    stock.run(shop.shop_id)
    assert chain.level(shop, lost["inventory_item_id"], 2) == 0

    chain.set_level(shop, never["inventory_item_id"], 2, 4)  # a person stocks both there
    chain.set_level(shop, lost["inventory_item_id"], 2, 2)
    _status(chain, 2, "I")
    stock.run(shop.shop_id)
    assert chain.level(shop, never["inventory_item_id"], 2) == 4
    assert chain.level(shop, lost["inventory_item_id"], 2) == 2
    vacate = _by_unit(shop.shop_id)[f"stock:vacate:2@{shop.locations[2]}"]
    assert vacate.status == MessageStatus.DONE.value
    assert sorted(vacate.response_payload["left_raised_by_a_person"]) == sorted(
        [never["inventory_item_id"], lost["inventory_item_id"]]
    )


def _two_products(catalog, chain, shop):
    """The variant data of two SKUs of different products, whole units company 2 has at least 3 of."""
    _sku, first = pick(catalog, chain, shop, 2, minimum=3)
    rest = {k: d for k, d in catalog.items() if d["seq_produto"] != first["seq_produto"]}
    return first, pick(rest, chain, shop, 2, minimum=3)[1]


def test_the_policy_follows_an_open_company_while_the_deciding_one_is_closed(chain):
    """The store's linked company decides inventoryPolicy; closed in the ERP, its passes never run,
    so the next open company decides (an item the closed store sold without stock control kept
    CONTINUE, and the open store that controls it sold past 0); reopened, it decides again."""
    shop = chain.install("decisora-fechada", 1, 1, [1, 2])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    _, data = pick(catalog, chain, shop, 2, minimum=3)  # controlled at company 2
    _control(chain, 1, data["seq_produto"], "N")
    stock.run(shop.shop_id)
    policy = lambda: chain.variant(shop, data["variant_id"])["inventoryPolicy"]  # noqa: E731
    assert policy() == "CONTINUE"  # company 1, the linked one, decides

    _status(chain, 1, "I")
    run = stock.run(shop.shop_id)
    assert run.closed == [1] and run.companies == [2]
    assert policy() == "DENY"  # company 2 controls it: Shopify stops at its stock

    _status(chain, 1, "A")
    stock.run(shop.shop_id)
    assert policy() == "CONTINUE"
