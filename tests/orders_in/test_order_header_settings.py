"""nroRepresentante and nroTabVenda, two header fields of POST PedidoVenda (consinco.md "Order
insert body") the shop sets under Settings (`nro_representante`, `nro_tab_venda`): most Consinco
installations want every MAD_PEDVENDA under a sales representative, the one registered for the
e-commerce channel, and some price it by a sale table of its own. Unset (the default), the body is
as it always was: nroTabVenda null, nroRepresentante left out. A representative the ERP does not
know is the ERP's refusal: rejected, its words shown, and Retry after fixing the setting posts the
order once."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from erp.payloads import order_payload
from jobs import order_map, order_posted, orders
from ledger.db import session_scope
from ledger.models import ErrorClass, MessageStatus, Shop
from shopify_app.admin_api.order_import_ops import parse_erp_order
from shopify_app.api_explain import explain

from .test_order_map import TARGET, raw_order, variants_for
from .test_orders_page import orders_page  # noqa: F401 (fixture)

ONE_LINE = [(Decimal("10.00"), 1, 1, Decimal(0))]


def _mapped(target: order_map.OrderTarget) -> order_map.MappedOrder:
    read = parse_erp_order(raw_order(ONE_LINE))
    return order_map.map_order(read, target, variants_for(1), {"Pix": 2})


def test_unset_the_body_is_as_it_was_null_price_table_and_no_representative():
    body = order_payload(_mapped(TARGET).order_input)
    assert body["nroTabVenda"] is None
    assert "nroRepresentante" not in body


def test_set_both_go_in_the_header_and_a_lost_answers_repost_keeps_them():
    target = replace(TARGET, representative=12, price_table=3)
    mapped = _mapped(target)
    body = order_payload(mapped.order_input)
    assert (body["nroRepresentante"], body["nroTabVenda"]) == (12, 3)
    # The kept input (posted again when the ERP's answer is lost) says what the first POST said.
    read = parse_erp_order(raw_order(ONE_LINE))
    again = order_posted.replayed(order_posted.kept(mapped), read.order).order_input
    assert (again.representative, again.price_table) == (12, 3)
    # A kept input from before the representative was kept: posted again without one, as it was.
    older = {k: v for k, v in order_posted.kept(_mapped(TARGET)).items() if k != "representative"}
    assert order_posted.replayed(older, read.order).order_input.representative is None


def _set(world, **settings) -> None:
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, **settings}


def test_the_erp_order_stores_the_representative_and_the_price_table(world):
    _set(world, nro_representante=1, nro_tab_venda=3)
    gid = world.place(gateway="pix")
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value, message.error_text
    [stored] = world.erp_orders_for(gid)
    assert (stored["nrorepresentante"], stored["nrotabvenda"]) == (1, "3")
    read = world.chain.order(stored["nropedvenda"])
    assert (read["nroRepresentante"], read["nroTabVenda"]) == (1, "3")


def test_unset_the_erp_order_has_neither(world):
    gid = world.place(gateway="pix")
    world.drain()
    [stored] = world.erp_orders_for(gid)
    assert (stored["nrorepresentante"], stored["nrotabvenda"]) == (None, None)


def test_an_unknown_representative_is_refused_visibly_and_retry_after_the_fix_posts_once(
    world,
    orders_page,  # noqa: F811
):
    _set(world, nro_representante=99)
    gid = world.place(gateway="pix")
    world.drain()
    message = world.message(gid)
    assert (message.status, message.error_class) == (MessageStatus.FAILED.value, ErrorClass.REJECTED.value)
    said = "Representante 99 inativo ou não cadastrado."
    assert said in message.error_text
    assert message.error_detail["code"] == "REPRESENTANTE_INVALIDO"
    assert world.erp_orders_for(gid) == []
    # The Orders page lists it as not in the ERP and needing attention, in the ERP's words ...
    [flagged] = orders_page(status="needs_attention")
    assert flagged["shopify_order_id"] == gid and said in flagged["needs_attention"], flagged
    # ... and the Messages page says where to fix it (the setting), beside the ERP's words.
    for locale in ("pt-BR", "en"):
        shown = explain(message, locale, reveal=True)
        assert "nroRepresentante" in shown["what_to_do"] and said in shown["system_message"], shown

    _set(world, nro_representante=1)
    assert orders.replay(message.id) == MessageStatus.DONE.value
    [stored] = world.erp_orders_for(gid)
    assert stored["nrorepresentante"] == 1
    assert world.link(gid).nro_pedvenda == stored["nropedvenda"]
    assert orders.replay(message.id) in ("already", MessageStatus.DONE.value)
    assert len(world.erp_orders_for(gid)) == 1
