"""ERP -> Shopify order writes that move Shopify's stock by themselves, and the stock flow after.

orderCancel(restock) and a picking edit (orderEditSetQuantity restocking a cut, orderEditAddVariant
committing a substitute) move a variant's "available" in Shopify after the ERP already counted
the same units: a stock pass in between wrote the ERP's figure, and no ERP row moves afterwards.
The stock flow must read those levels again and bring them back to the ERP's figure (never giving
back a sale Shopify took meanwhile)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select

from erp.client import ErpClient
from jobs import stock
from jobs.order_map import numeric_id
from ledger import bindings, trace
from ledger.bindings import BindingRow
from ledger.db import session_scope
from ledger.flows import SHOPIFY_TO_ERP
from ledger.models import MessageStatus

from .conftest import NRO_EMPRESA, LinkedOrder, World


def stock_ready(world: World) -> None:
    """What the catalog and prices flows leave for the stock flow: the variant's product, a price."""
    with session_scope() as session:
        rows = bindings.get_many(session, world.shop_id, "variant", list(world.variants))
        variants, prices = [], []
        for sku, b in rows.items():
            doc = world.shopify.sandbox.store.get(world.name, b.shopify_id)
            variants.append(
                BindingRow(sku, b.shopify_id, None, {**(b.data or {}), "product_id": doc["productId"]})
            )
            prices.append(BindingRow(sku, b.shopify_id, None, {"sale_active": True}))
        bindings.upsert_many(session, world.shop_id, "variant", variants)
        bindings.upsert_many(session, world.shop_id, "price", prices)


def erp_figure(world: World, sku: str) -> int:
    """What the ERP lets the company sell of the SKU, in whole packagings."""
    client = ErpClient(world.chain.handle.url, "ecommerce", "consinco")
    try:
        for row in client.stock(None, NRO_EMPRESA):
            for s in row.skus:
                if s.id_sku == sku:
                    base = max(Decimal(0), row.available - row.safety)
                    return int((base / s.qtd_embalagem).to_integral_value(rounding=ROUND_FLOOR))
    finally:
        client.close()
    raise AssertionError(f"{sku} has no ERP stock row")


def set_erp_row(world: World, sku: str, quantity: int) -> None:
    """The product's ERP stock row: `quantity` in the store, nothing reserved, stock controlled."""
    from sandbox.consinco import tables as t

    seq = next(s.seq_produto for s in world.chain.skus if s.id_sku == sku)
    pe = t.mrl_produtoempresa
    with world.erp.store.write() as (conn, now):
        conn.execute(
            pe.update()
            .where(pe.c.nroempresa == NRO_EMPRESA, pe.c.seqproduto == seq)
            .values(
                estqloja=quantity,
                estqdeposito=0,
                estqterceiro=0,
                qtdreservadavda=0,
                qtdreservadareceb=0,
                qtdreservadafixa=0,
                estqsegurancaecommerce=0,
                indcontrolaestoqueecomm="S",
                dtaalteracao=now,
            )
        )


def unit_skus(world: World) -> list[str]:
    """Plain SKUs sold by the unit (one packaging of 1), each of its own product."""
    found, seqs = [], set()
    for s in world.chain.skus:
        if (
            s.id_sku in world.variants
            and not s.weighed
            and s.qtd_embalagem == 1
            and s.seq_produto not in seqs
        ):
            found.append(s.id_sku)
            seqs.add(s.seq_produto)
    return found


def in_the_erp(world: World, order: LinkedOrder, lines: list[tuple[str, int]]) -> None:
    """The orders flow's message for the order, done: the ERP has it."""
    with session_scope() as session:
        message = trace.begin(
            session,
            world.shop_id,
            "orders",
            f"order:{numeric_id(order.gid)}",
            SHOPIFY_TO_ERP,
            shopify_id=order.gid,
            request={"nro_empresa": NRO_EMPRESA, "lines": [{"sku": s, "quantity": q} for s, q in lines]},
        )
        trace.succeed(session, message, response={"nro_pedvenda": order.nro}, erp_id=str(order.nro))


def test_an_erp_cancellation_restocked_after_the_stock_pass_is_brought_back_to_the_erp_figure(
    world: World,
) -> None:
    """The ERP cancels an order it had reserved; the stock pass runs before the cancellation job
    (both scheduled) and writes the ERP's figure, the reservation released. The cancellation job
    then cancels the Shopify order with restock (the default): Shopify adds the units again on top
    of that figure. The next pass reads the level and writes the ERP's figure back."""
    stock_ready(world)
    sku = unit_skus(world)[0]
    set_erp_row(world, sku, 20)
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == erp_figure(world, sku) == 20
    order = world.linked_order([(sku, 2)], gateway="pix")  # Shopify -2, the ERP reserves 2
    in_the_erp(world, order, [(sku, 2)])
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == 18
    world.erp.cancel(order.nro, "Cliente desistiu")  # the ERP releases its reservation
    stock.run(world.shop_id)  # the stock pass first: the ERP's figure
    assert world.stock(sku)["available"] == 20
    world.poll()  # the cancellation job: orderCancel(restock: true), Shopify shows 22
    [message] = world.messages("cancellations", order)
    assert message.status == MessageStatus.DONE.value and message.response_payload["restock"] is True
    assert world.stock(sku)["available"] == 22
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == erp_figure(world, sku) == 20
    run = stock.run(world.shop_id)
    assert world.stock(sku)["available"] == 20 and run.levels_sent == 0  # read once, then trusted


def test_a_picking_cut_restocked_after_the_stock_pass_is_brought_back_to_the_erp_figure(world: World) -> None:
    """The ERP picks 1 of 4 units (the shelf was short) and releases 3 of its reservation. The
    stock pass writes the ERP's figure; then the picking edit sets the Shopify line to 1 with
    restock: the 3 units cut come back on top of that figure, until the stock flow reads it."""
    stock_ready(world)
    sku = unit_skus(world)[0]
    set_erp_row(world, sku, 20)
    stock.run(world.shop_id)
    order = world.linked_order([(sku, 4)], gateway="pix")
    in_the_erp(world, order, [(sku, 4)])
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == 16
    world.erp.separate(order.nro, cuts={order.lines[sku]: 1})
    stock.run(world.shop_id)  # the stock pass first: 20 less the 1 unit still reserved
    assert world.stock(sku)["available"] == erp_figure(world, sku) == 19
    world.poll()  # the picking edit: the line goes 4 -> 1, restocking 3
    assert world.stock(sku)["available"] == 22
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == erp_figure(world, sku) == 19


def test_a_picking_substitute_committed_after_the_stock_pass_is_given_back(world: World) -> None:
    """The ERP serves 2 units of another SKU instead of the 2 ordered: it releases the original's
    reservation and reserves the substitute's. The stock pass writes both figures; then the
    picking edit restocks the original (too high) and adds the substitute, committing 2 more of
    its units in Shopify (too low). The next pass brings both to the ERP's figures."""
    stock_ready(world)
    original, substitute = unit_skus(world)[:2]
    set_erp_row(world, original, 20)
    set_erp_row(world, substitute, 30)
    stock.run(world.shop_id)
    order = world.linked_order([(original, 2)], gateway="pix")
    in_the_erp(world, order, [(original, 2)])
    stock.run(world.shop_id)
    sub_ean = next(s.ean for s in world.chain.skus if s.id_sku == substitute)
    world.erp.separate(
        order.nro, substitutions=[{"seqItem": order.lines[original], "codAcesso": sub_ean, "qtd": 2}]
    )
    stock.run(world.shop_id)  # the stock pass first: both ERP rows moved
    figures = {original: erp_figure(world, original), substitute: erp_figure(world, substitute)}
    assert figures == {original: 20, substitute: 28}
    assert {s: world.stock(s)["available"] for s in figures} == figures
    world.poll()  # the edit: the original's 2 units restocked, the substitute's 2 committed
    assert {s: world.stock(s)["available"] for s in figures} == {original: 22, substitute: 26}
    stock.run(world.shop_id)
    assert {s: world.stock(s)["available"] for s in figures} == figures


def test_a_sale_shopify_took_after_the_restock_is_never_given_back(world: World) -> None:
    """Between the picking edit's restock and the next stock pass, a customer buys 2 units in
    Shopify whose order the app does not know yet (its webhook not processed). Reading the level
    back, the flow knows what Shopify should show (the figure it wrote plus the 3 units the edit
    restocked): the 2 units below that are a sale, kept out of the level, not given back."""
    from sandbox.shopify.checkout import place_order

    stock_ready(world)
    sku = unit_skus(world)[0]
    set_erp_row(world, sku, 20)
    stock.run(world.shop_id)
    order = world.linked_order([(sku, 4)], gateway="pix")
    in_the_erp(world, order, [(sku, 4)])
    stock.run(world.shop_id)
    world.erp.separate(order.nro, cuts={order.lines[sku]: 1})
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == 19
    world.poll()  # restocks 3: 22
    place_order(
        world.shopify.sandbox, world.name, lines=[{"sku": sku, "quantity": 2}], seed=7, discount_rate=0.0
    )
    assert world.stock(sku)["available"] == 20
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == 17  # the ERP's 19 less the 2 units sold meanwhile


def test_what_shopify_should_show_counts_a_raise_begun_before_the_last_write_never() -> None:
    """Pure: a movement begun after Shopify last showed a known level counts whole; one begun before
    may be in that level already, and counts only when it lowered it (a raise counted twice would
    keep real units out of sale; a fall counted twice only trusts a drop that size as explained)."""
    from datetime import UTC, datetime, timedelta

    from jobs.stock_reread import Move, shown

    at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    later, earlier = at + timedelta(seconds=1), at - timedelta(seconds=1)
    assert shown([Move("P1E1", 1, 3, later), Move("P1E1", 1, -2, later)], 19, at) == 20
    assert shown([Move("P1E1", 1, 3, earlier)], 19, at) == 19
    assert shown([Move("P1E1", 1, -2, earlier)], 19, at) == 17
    assert shown([Move("P1E1", None, 3, later)], 19, at.replace(tzinfo=None)) == 22  # a naive time is UTC


def _cut_and_substituted_by_the_same_sku(world: World) -> tuple[str, str, LinkedOrder]:
    """X ordered 4, Y 2, both in the ERP; the ERP serves 2 of X on X's line and replaces Y with 1
    unit of X: X's Shopify line goes 4 -> 3 (2 + 1), Y's 2 -> 0."""
    stock_ready(world)
    x, y = unit_skus(world)[:2]
    set_erp_row(world, x, 20)
    set_erp_row(world, y, 30)
    stock.run(world.shop_id)
    order = world.linked_order([(x, 4), (y, 2)], gateway="pix")
    in_the_erp(world, order, [(x, 4), (y, 2)])
    stock.run(world.shop_id)
    x_ean = next(s.ean for s in world.chain.skus if s.id_sku == x)
    world.erp.separate(
        order.nro,
        cuts={order.lines[x]: 2},
        substitutions=[{"seqItem": order.lines[y], "codAcesso": x_ean, "qtd": 1}],
    )
    return x, y, order


def test_a_cut_and_a_substitute_by_the_same_sku_on_one_line_restock_once(world: World) -> None:
    """The cut and the substitute both set X's one line to 3: Shopify restocks 1 unit of X, not 2,
    and the next pass brings both SKUs to the ERP's figures."""
    x, y, _order = _cut_and_substituted_by_the_same_sku(world)
    stock.run(world.shop_id)  # the stock pass first: both ERP rows moved
    figures = {x: erp_figure(world, x), y: erp_figure(world, y)}
    assert {s: world.stock(s)["available"] for s in figures} == figures
    world.poll()  # the picking edit
    assert world.stock(x)["available"] == figures[x] + 1  # Shopify restocked 1 unit of X
    stock.run(world.shop_id)
    assert {s: world.stock(s)["available"] for s in figures} == figures


def test_a_level_a_picking_edit_moved_is_right_though_the_order_and_the_erp_rows_are_old(
    world: World,
) -> None:
    """The same, the order taken hours before its picking and the picking's ERP row changes
    minutes old by the passes after the edit: no ERP row and no orders message brings X's level
    back, only the edit's recorded movement does, and it must be right the first time."""
    from datetime import timedelta

    from sqlalchemy import update

    from ledger.models import Message, utcnow
    from sandbox.consinco import tables as t

    x, y, _order = _cut_and_substituted_by_the_same_sku(world)
    with session_scope() as session:
        old = utcnow() - timedelta(hours=2)
        session.execute(
            update(Message)
            .where(Message.shop_id == world.shop_id, Message.flow == "orders")
            .values(updated_at=old, created_at=old)
        )
    stock.run(world.shop_id)
    figures = {x: erp_figure(world, x), y: erp_figure(world, y)}
    assert {s: world.stock(s)["available"] for s in figures} == figures
    pe = t.mrl_produtoempresa
    seqs = [s.seq_produto for s in world.chain.skus if s.id_sku in figures]
    with world.erp.store.write() as (conn, now):
        conn.execute(
            pe.update()
            .where(pe.c.nroempresa == NRO_EMPRESA, pe.c.seqproduto.in_(seqs))
            .values(dtaalteracao=now - timedelta(minutes=30))
        )
    world.poll()  # the picking edit
    for _ in range(3):
        stock.run(world.shop_id)
    assert {s: world.stock(s)["available"] for s in figures} == figures


def test_a_picking_edit_counts_what_shopify_moved_once_per_line(world: World) -> None:
    """Two committed changes setting one line (a cut, and a substitute merged onto the same line)
    moved its units once: from its quantity before the edit to the target set (4 -> 3, 1 unit
    back), not once per change. A variant added is counted once too, a weighed substitute's units
    (lines of their own) each time."""
    from jobs import stock_reread
    from jobs.order_edits.to_shopify import LineChange
    from ledger.models import Binding
    from shopify_app.admin_api.order_results import OrderLine as ShopifyLine

    def shopify_line(sku: str, quantity: int) -> ShopifyLine:
        gid = f"gid://shopify/LineItem/{sku}"
        return ShopifyLine(
            gid, sku, sku, quantity, quantity, f"gid://shopify/ProductVariant/{sku}", None, None, None
        )

    def change(item: int, sku: str, target: int, line: str | None, **more) -> LineChange:
        variant = f"gid://shopify/ProductVariant/{sku}"
        return LineChange(
            f"event:7:item:{item}", "cut", sku, Decimal(4), Decimal(2), "r",
            line_item_id=line, variant_id=variant, shopify_quantity=target, **more,
        )  # fmt: skip

    lines = [shopify_line("X", 4), shopify_line("Y", 2)]
    cut = change(1, "X", 3, lines[0].id)
    merged = change(3, "X", 3, lines[0].id, substitute_sku="X")
    replaced = change(2, "Y", 0, lines[1].id, substitute_sku="X")
    added = [change(4, "S", 2, None), change(5, "S", 2, None)]  # two ERP lines, the variant added once
    weighed = [change(6, "K", 2, None, charge_total=Decimal("9.90")) for _ in range(2)]
    committed = [cut, replaced, merged, *added, *weighed]
    stock_reread.edited(world.shop_id, NRO_EMPRESA, 7, committed, committed, lines)
    with session_scope() as session:
        found = session.execute(
            select(Binding.erp_id, Binding.data).where(
                Binding.shop_id == world.shop_id, Binding.kind == stock_reread.REREAD_KIND
            )
        ).all()
    assert {erp_id: data["delta"] for erp_id, data in found} == {
        "X|event:7": 1,
        "Y|event:7": 2,
        "S|event:7": -2,
        "K|event:7": -4,
    }


def test_an_order_cancelled_by_hand_after_the_erp_leaves_no_phantom_stock(world: World) -> None:
    """The ERP cancels, Shopify's cancel job fails, the message says "or cancel the order there",
    and a person does with Restock (Shopify's default). The ERP had released its reservation and a
    pass written that figure: the restock added the units a second time, and only the app's own
    orderCancel asked the stock flow to read the level again: 22 sold of 20 for good."""
    from jobs.cancellations import to_erp
    from sandbox.shopify.resolvers.order_cancel import fail_next_cancel
    from tests.by_hand import cancel_in_shopify

    stock_ready(world)
    sku = unit_skus(world)[0]
    set_erp_row(world, sku, 20)
    stock.run(world.shop_id)
    order = world.linked_order([(sku, 2)], gateway="pix")
    in_the_erp(world, order, [(sku, 2)])
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == 18
    fail_next_cancel(world.shopify.sandbox, world.name, order.gid)
    world.erp.cancel(order.nro, "Cliente desistiu")
    stock.run(world.shop_id)  # the ERP released its reservation
    assert world.stock(sku)["available"] == 20
    world.poll()  # the app's orderCancel: its job fails (a refund declined)
    [failed] = world.messages("cancellations", order)
    assert failed.error_detail["code"] == "CANCEL_NOT_APPLIED"
    cancel_in_shopify(world.domain, order.gid, staff_note="cancelado pelo SAC")  # as advised, restocked
    assert world.stock(sku)["available"] == 22
    to_erp.cancel_in_erp(world.shop_id, order.gid, "customer")  # its orders/cancelled
    world.poll()
    stock.run(world.shop_id)
    assert world.stock(sku)["available"] == erp_figure(world, sku) == 20
