"""A pass reads the ERP rows, then computes each level minus the orders pending. An order reaching
the ERP meanwhile (the POST: the ERP reserves it, its orders message closes) must not be in neither:
a real Consinco read of a big company pages for minutes, so this is no micro-race. The orders
pending are taken before the ERP read (and joined with those pending later): an order that reached
the ERP during the read is then counted twice for one pass — the safe direction — and the next
pass, asked by the closed message (jobs.stock_pending.flag_order_changes), counts it once."""

from __future__ import annotations

from sqlalchemy import select

from jobs import stock
from ledger import trace
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import Message
from sandbox.consinco.order_records import move_stock as erp_move_stock

from .test_stock_flow import add_pending_order, erp_stock, expected, pick


def apply_edit_adding_three(chain, shop, data: dict, sku: str, order: str, unit_key: str) -> None:
    """An order edit raising the SKU's line 1 -> 4 (ERP order 56), applied whole meanwhile: Shopify
    commits it (its level 3 lower at company 1's location), the ERP takes it (3 more reserved), and
    its message ends done."""
    item, seq = data["inventory_item_id"], data["seq_produto"]
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 3)  # Shopify commits the edit at once
    change = {"kind": "qty", "sku": sku, "before": "1", "after": "4"}
    request = {
        "nro_pedvenda": 56,
        "lines": [{"sku": sku, "quantity": 4}],
        "changes": [change],
        "freight": "0",
    }
    with session_scope() as session:
        edit = trace.begin(session, shop.shop_id, "order_edits", unit_key, SHOPIFY_TO_ERP, shopify_id=order,
                           request=request)  # fmt: skip
        edit_id = edit.id
    with chain.consinco.erp.store.write() as (conn, now):
        erp_move_stock(conn, now, 1, seq, reserva=3.0)
    with session_scope() as session:
        trace.succeed(session, trace.get_message(session, edit_id))


def _order_reaches_erp(chain, seq, order_id, units):
    """The orders job's POST: the ERP reserves the order, and its message closes."""
    with chain.consinco.erp.store.write() as (conn, now):
        erp_move_stock(conn, now, 1, seq, reserva=float(units))
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.unit_key == f"order:{order_id}")).one()
        trace.succeed(session, message)


def _sold_in_shopify(chain, shop, catalog):
    """A SKU with stock, 2 of it sold in Shopify (its level lowered) and its order pending."""
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item = data["inventory_item_id"]
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # the sale in Shopify
    add_pending_order(shop, 9301, 1, [{"sku": sku, "quantity": 2}])
    chain.consinco.erp.simulator.move_stock(1, data["seq_produto"], 12)  # goods received: the row moves
    return sku, data


def test_an_order_reaching_the_erp_after_the_read_is_not_given_back(chain, monkeypatch):
    shop = chain.install("corrida", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = _sold_in_shopify(chain, shop, catalog)
    real = stock._targets

    def order_reaches_erp_after_the_read(*args, **kwargs):
        _order_reaches_erp(chain, data["seq_produto"], 9301, 2)
        monkeypatch.setattr(stock, "_targets", real)
        return real(*args, **kwargs)

    monkeypatch.setattr(stock, "_targets", order_reaches_erp_after_the_read)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]  # the ERP now: the order reserved
    assert chain.level(shop, data["inventory_item_id"], 1) == expected(row, s)  # not 2 more than it can sell


def test_an_order_reaching_the_erp_during_the_read_counts_twice_for_one_pass_only(chain, monkeypatch):
    shop = chain.install("corrida-dupla", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    sku, data = _sold_in_shopify(chain, shop, catalog)
    real = stock.erp_for_shop

    def erp_reserving_the_order_as_it_is_read(shop_id):
        erp = real(shop_id)
        read = erp.stock

        def stock_read_after_the_order(since, company):
            _order_reaches_erp(chain, data["seq_produto"], 9301, 2)
            erp.stock = read
            return read(since, company)

        erp.stock = stock_read_after_the_order
        return erp

    monkeypatch.setattr(stock, "erp_for_shop", erp_reserving_the_order_as_it_is_read)
    stock.run(shop.shop_id)
    monkeypatch.setattr(stock, "erp_for_shop", real)
    row, s = erp_stock(chain, 1)[sku]  # the ERP now: the order reserved
    item = data["inventory_item_id"]
    assert chain.level(shop, item, 1) == expected(row, s) - 2  # in the ERP's reservation and as pending
    stock.run(shop.shop_id)  # the closed order asks its products' recheck: counted once
    assert chain.level(shop, item, 1) == expected(row, s)


def test_a_sale_made_and_sent_to_the_erp_while_the_pass_writes_is_not_given_back(chain, monkeypatch):
    """The sale comes in after the pass took its pending orders and read the ERP, and the orders job
    posts it at once (reserved in the ERP, its message done) before the write: answered stale, the
    write's re-computation took the ERP figure read before the reservation and the orders pending
    then, in neither, and handed its 2 units back until the row's next move."""
    from jobs import stock_writer
    from ledger.models import utcnow

    shop = chain.install("race-imported", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item, seq = data["inventory_item_id"], data["seq_produto"]
    chain.consinco.erp.simulator.move_stock(1, seq, 12)  # goods received: the row moves
    real, sent = stock_writer.set_available, []

    def sale_then_import(client, quantities, **kwargs):
        if not sent:
            chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # a customer buys 2...
            with session_scope() as session:  # ...and the orders job posts the order at once
                request = {
                    "nro_empresa": 1,
                    "lines": [{"sku": sku, "quantity": 2}],
                    "sold_at": utcnow().isoformat(),
                }
                message = trace.begin(
                    session, shop.shop_id, "orders", "order:8801", SHOPIFY_TO_ERP, request=request
                )
                trace.succeed(session, message)
            with chain.consinco.erp.store.write() as (conn, now):
                erp_move_stock(conn, now, 1, seq, reserva=2.0)
        sent.append(list(quantities))
        return real(client, quantities, **kwargs)

    monkeypatch.setattr(stock_writer, "set_available", sale_then_import)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]  # the ERP now: the order reserved
    assert len(sent) >= 2  # answered stale, computed again, sent again
    assert chain.level(shop, item, 1) == expected(row, s)


def test_an_order_cancelled_since_does_not_explain_a_new_sale(chain):
    """An order in the ERP, then cancelled in Shopify with its units restocked (the ERP's reservation
    released): a later drop of the level, a sale whose webhook has not come yet, was read as that
    order's and its 2 units handed back at the next stale write."""
    from ledger.models import OrderLink, utcnow

    shop = chain.install("cancel-explains", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=6)
    item, seq = data["inventory_item_id"], data["seq_produto"]
    gid = "gid://shopify/Order/9901"
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 3)  # 3 sold, the order in the ERP
    with session_scope() as session:
        request = {"nro_empresa": 1, "lines": [{"sku": sku, "quantity": 3}], "sold_at": utcnow().isoformat()}
        message = trace.begin(
            session, shop.shop_id, "orders", "order:9901", SHOPIFY_TO_ERP, shopify_id=gid, request=request
        )
        trace.succeed(session, message)
    with chain.consinco.erp.store.write() as (conn, now):
        erp_move_stock(conn, now, 1, seq, reserva=3.0)
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) + 3)  # cancelled in Shopify, restocked
    with session_scope() as session:
        session.add(
            OrderLink(
                shop_id=shop.shop_id, shopify_order_id=gid, shopify_order_name="#9901", cancelled_at=utcnow()
            )
        )
    with chain.consinco.erp.store.write() as (conn, now):
        erp_move_stock(conn, now, 1, seq, reserva=-3.0)  # the cancellation reached the ERP
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # a new sale, not known yet
    chain.consinco.erp.simulator.move_stock(1, seq, 5)  # goods received: the row moves
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]
    assert chain.level(shop, item, 1) == expected(row, s) - 2  # the unknown sale kept out


def test_an_import_begun_before_the_pass_and_posted_after_the_read_is_not_given_back(chain, monkeypatch):
    """The import begins its message (no payload: it reads the order from Shopify first) before the
    pass takes its pending orders, writes its lines, posts and closes after the ERP rows were read:
    not in the snapshot (no lines yet), not pending now, not "come in since" (begun before): its 2
    units were handed back. Orders closed since the snapshot count, whenever they began."""
    from ledger.models import utcnow

    shop = chain.install("sem-payload", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item, seq = data["inventory_item_id"], data["seq_produto"]
    chain.set_level(shop, item, 1, chain.level(shop, item, 1) - 2)  # a customer buys 2 in Shopify
    with session_scope() as session:  # jobs.orders._import_locked: its message begun, then the read
        trace.begin(session, shop.shop_id, "orders", "order:9401", SHOPIFY_TO_ERP,
                    shopify_id="gid://shopify/Order/9401")  # fmt: skip
    chain.consinco.erp.simulator.move_stock(1, seq, 12)  # goods received: the row moves
    real = stock._targets

    def posted_after_the_read(*args, **kwargs):
        with session_scope() as session:
            message = session.scalars(select(Message).where(Message.unit_key == "order:9401")).one()
            message.request_payload = {"nro_empresa": 1, "lines": [{"sku": sku, "quantity": 2}],
                                       "sold_at": utcnow().isoformat()}  # fmt: skip
        _order_reaches_erp(chain, seq, 9401, 2)
        monkeypatch.setattr(stock, "_targets", real)
        return real(*args, **kwargs)

    monkeypatch.setattr(stock, "_targets", posted_after_the_read)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]  # the ERP now: the order reserved
    assert chain.level(shop, item, 1) == expected(row, s), "the 2 units sold were handed back"


def test_units_an_edit_adds_reaching_the_erp_after_the_read_are_not_given_back(chain, monkeypatch):
    """A person adds 3 units in Shopify to an order in the ERP; the edit reaches the ERP (reserved)
    after the pass read the rows: not in the ERP figure read, not open any more, and "come in since"
    counted orders alone: the 3 units were handed back."""
    from datetime import timedelta

    from ledger.models import utcnow

    order = "gid://shopify/Order/9002"
    shop = chain.install("edit-corrida", 1, 1, [1])
    catalog = chain.load_catalog(shop, priced=True)
    stock.run(shop.shop_id)
    sku, data = pick(catalog, chain, shop, 1, minimum=5)
    item, seq = data["inventory_item_id"], data["seq_produto"]
    with session_scope() as session:  # the order, in the ERP for two hours
        message = trace.begin(session, shop.shop_id, "orders", "order:9002", SHOPIFY_TO_ERP, shopify_id=order,
                              request={"nro_empresa": 1, "lines": [{"sku": sku, "quantity": 1}],
                                       "sold_at": (utcnow() - timedelta(hours=2)).isoformat()})  # fmt: skip
        trace.succeed(session, message)
    chain.consinco.erp.simulator.move_stock(1, seq, 12)  # goods received: the row moves
    real = stock._targets

    def edit_applied_after_the_read(*args, **kwargs):
        apply_edit_adding_three(chain, shop, data, sku, order, "edit:778")
        monkeypatch.setattr(stock, "_targets", real)
        return real(*args, **kwargs)

    monkeypatch.setattr(stock, "_targets", edit_applied_after_the_read)
    stock.run(shop.shop_id)
    row, s = erp_stock(chain, 1)[sku]  # the ERP now: the 3 units reserved
    assert chain.level(shop, item, 1) == expected(row, s), "the 3 units the edit sold were handed back"
