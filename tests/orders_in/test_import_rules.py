"""Orders in against both sandboxes: parking and resuming, exactly once, waiting, ERP down."""

from __future__ import annotations

from decimal import Decimal

import requests
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bench._order_stack import NRO_EMPRESA
from jobs import orders, stock_pending
from jobs.inbox import WebhookEvent
from jobs.stock_map import SkuUnit, pending_base_by_product
from ledger import kv, mappings, queues
from ledger.db import session_scope
from ledger.models import MessageStatus
from sandbox.shopify.checkout import expire_authorizations, mark_paid
from sandbox.shopify.order_payloads import rest_order
from shopify_app.admin_api import for_shop
from shopify_app.enqueue import resume_parked

from .conftest import bind, create_variant


def rest_event(world, gid: str, topic: str, n: int = 0) -> WebhookEvent:
    """The REST body Shopify sends for this order, as the inbox hands it to a handler."""
    doc = world.order_doc(gid)
    buyer = world.shopify.sandbox.store.get(world.name, doc["customerId"])
    return WebhookEvent(
        9000 + n, topic, world.domain, f"w-{n}", f"e-{n}", "2026-10", None, rest_order(doc, buyer)
    )


def test_real_rest_payload_handled_and_redelivery_is_a_no_op(world):
    gid = world.place(gateway="pix")
    event = rest_event(world, gid, "orders/create")
    assert "TAX_CREDENTIAL_BR" not in str(event.payload) and event.payload["line_items"]  # REST shape, no CPF
    assert orders.on_webhook(event) == "done"
    assert orders.on_webhook(event) == "already"  # a redelivery costs no outside call
    world.drain()  # the signed deliveries of create + paid, processed by RQ
    assert len(world.erp_orders_for(gid)) == 1
    message = world.message(gid)
    assert message.status == MessageStatus.DONE.value and message.attempts == 1


def test_paid_before_create_and_duplicates_converge_to_one_erp_order(world):
    gid = world.place(gateway="cartao", capture="automatic")
    paid, create = rest_event(world, gid, "orders/paid", 1), rest_event(world, gid, "orders/create", 2)
    assert orders.on_webhook(paid) == "done"
    assert orders.on_webhook(create) == "already"
    world.shopify.sandbox.emit(
        world.name, "orders/create", create.payload
    )  # a duplicate with a new webhook id
    world.shopify.sandbox.emit(world.name, "orders/updated", create.payload)
    world.drain()
    assert len(world.erp_orders_for(gid)) == 1
    assert world.link(gid).nro_pedvenda == world.erp_orders_for(gid)[0]["nropedvenda"]


def test_unpaid_order_waits_visibly_then_goes_when_paid(world):
    gid = world.place(gateway="boleto")
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PENDING.value and "Waiting for payment" in message.error_text
    assert (
        message.request_payload["lines"] and message.request_payload["nro_empresa"] == 1
    )  # stock still counts it
    assert world.erp_orders_for(gid) == []
    mark_paid(world.shopify.sandbox, world.name, gid)
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    assert len(world.erp_orders_for(gid)) == 1


def test_an_order_whose_authorisation_lapsed_is_not_waited_for_and_a_later_payment_brings_it(world):
    """Manual capture under the "paid" setting: the authorisation lapses uncaptured (EXPIRED).
    Waiting would re-read it on every catch-up for ever and hold its stock: it is skipped, saying
    why; a payment later (orders/paid) still imports it."""
    gid = world.place(gateway="cartao", capture="manual")
    world.drain()
    assert world.message(gid).status == MessageStatus.PENDING.value  # AUTHORIZED: waits for "paid"
    expire_authorizations(world.shopify.sandbox, world.name, gid)
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.SKIPPED.value and "EXPIRED" in (message.error_text or "")
    assert world.erp_orders_for(gid) == []
    orders.replay(message.id)  # the catch-up or a person: re-read, still nothing to wait for
    assert world.message(gid).status == MessageStatus.SKIPPED.value


def test_unknown_sku_parks_the_order_and_it_resumes_once_bound(world):
    unbound = next(s for s in world.chain.skus if s.id_sku not in world.variants and not s.weighed)
    variant_id = create_variant(for_shop(world.domain), unbound, world.chain.prices[unbound.id_sku])
    gid = world.place([(world.sku(0), 1), (unbound.id_sku, 2)])
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value
    assert message.error_detail["mapping"] == {"kind": "variant", "code": unbound.id_sku}
    assert unbound.id_sku in message.error_text
    assert {line["sku"] for line in message.request_payload["lines"]} == {world.sku(0), unbound.id_sku}
    assert world.erp_orders_for(gid) == []
    assert orders.run(world.shop_id)["resumed"] == 0  # still unbound: nothing to resume
    bind(world.shop_id, unbound, variant_id)  # what the SKU sync does
    assert orders.run(world.shop_id)["resumed"] == 1
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    [erp_order] = world.erp_orders_for(gid)
    items = world.chain.order(erp_order["nropedvenda"])["itens"]
    assert sorted(i["idSku"] for i in items) == sorted([world.sku(0), unbound.id_sku])


def test_missing_payment_mapping_parks_naming_the_gateway_and_resumes(world):
    with session_scope() as session:
        mappings.delete_mapping(session, world.shop_id, "payment_method", "Pix")
    gid = world.place(gateway="pix")
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value and "'Pix'" in message.error_text
    assert message.error_detail["mapping"] == {"kind": "payment_method", "code": "Pix"}
    with session_scope() as session:  # what the De:Para page does on save
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", "2")
        assert resume_parked(session, world.shop_id, "payment_method", ["Pix"]) == 1
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    [erp_order] = world.erp_orders_for(gid)
    assert erp_order["nroformapagto"] == 2


def test_a_gateway_mapped_in_another_case_or_spacing_is_the_same_gateway(world):
    """A De:Para line is typed 'CARTÃO  DE CRÉDITO' (or 'PIX'); Shopify names the gateway 'Cartão
    de crédito' ('Pix'). Gateway names compare case-folded with whitespace collapsed everywhere:
    the import finds the line, saving it resumes the order parked on Shopify's spelling, and the
    catch-up pass sees it too."""
    with session_scope() as session:
        mappings.delete_mapping(session, world.shop_id, "payment_method", "Cartão de crédito")
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "CARTÃO  DE CRÉDITO", "3")
    card = world.place(gateway="cartao", capture="automatic")
    world.drain()
    assert world.message(card).status == MessageStatus.DONE.value, world.message(card).error_text
    assert world.erp_orders_for(card)[0]["nroformapagto"] == 3
    with session_scope() as session:
        mappings.delete_mapping(session, world.shop_id, "payment_method", "Pix")
    saved, also = world.place(gateway="pix"), world.place(gateway="pix")
    world.drain()
    assert world.message(saved).error_detail["mapping"] == {"kind": "payment_method", "code": "Pix"}
    with session_scope() as session:  # what the De:Para page does on save
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "PIX", "2")
        assert resume_parked(session, world.shop_id, "payment_method", ["PIX"]) == 2
        assert mappings.unmapped_codes_seen(session, world.shop_id, "payment_method") == []
    world.drain()
    assert world.message(saved).status == MessageStatus.DONE.value
    with session_scope() as session:  # a line saved without the page (a script, a restore)
        mappings.delete_mapping(session, world.shop_id, "payment_method", "PIX")
    late = world.place(gateway="pix")
    world.drain()
    assert world.message(late).status == MessageStatus.PARKED.value
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "payment_method", " pix ", "2")
    assert orders.run(world.shop_id)["resumed"] == 1
    world.drain()
    assert [world.message(gid).status for gid in (also, late)] == [MessageStatus.DONE.value] * 2
    with session_scope() as session:  # saved again as Shopify spells it: that line, not a second one
        mappings.upsert_mapping(session, world.shop_id, "payment_method", "Pix", "2")
        lines = mappings.list_mappings(session, world.shop_id, "payment_method")
        pix = [row.shopify_code for row in lines if mappings.gateway_key(row.shopify_code) == "pix"]
        assert pix == ["Pix"]


def test_missing_setting_parks_with_a_configure_reason(world):
    with session_scope() as session:
        from ledger.models import Shop

        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "cod_geral_oper": None}
    gid = world.place()
    world.drain()
    message = world.message(gid)
    assert (
        message.status == MessageStatus.PARKED.value
        and "configure the fiscal operation code" in message.error_text
    )
    with session_scope() as session:
        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "cod_geral_oper": 207}
    assert orders.run(world.shop_id)["resumed"] == 1
    world.drain()
    assert len(world.erp_orders_for(gid)) == 1


def test_an_order_parked_for_a_missing_setting_names_its_company_so_its_stock_is_held(world):
    """A fresh install without seqCanalVenda parks every order, which Shopify has sold and the ERP
    has not reserved: the parked message names the order's company (its location's mapping, else
    the store link), so the stock flow subtracts it instead of giving its units back."""
    with session_scope() as session:
        from ledger.models import Shop

        shop = session.get(Shop, world.shop_id)
        shop.settings = {**shop.settings, "seq_canal_venda": None}
    sku = world.sku(0)
    gid = world.place([(sku, 2)])
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.PARKED.value and "seqCanalVenda" in message.error_text
    assert message.request_payload["nro_empresa"] == NRO_EMPRESA
    pending = pending_base_by_product(stock_pending.pending_payloads(world.shop_id), {})
    assert pending.get((NRO_EMPRESA, SkuUnit.from_binding(sku, None).seq_produto)) == 2


def test_invalid_cpf_is_rejected_with_value_and_rule(world):
    gid = world.place(tax_id="529.982.247-24")
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.FAILED.value and message.error_class == "rejected"
    assert "529.982.247-24" in message.error_text and "check digits" in message.error_text
    assert world.erp_orders_for(gid) == []


def test_alphanumeric_cnpj_buyer_is_accepted(world):
    gid = world.place(tax_id="12.ABC.345/01DE-35")
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    [erp_order] = world.erp_orders_for(gid)
    assert world.chain.order(erp_order["nropedvenda"])["cpfCnpj"] == "12ABC34501DE35"


def test_erp_down_means_retrying_then_done_when_it_is_back(world):
    world.chain.handle.erp.faults.set(down_for=120)  # 503 with Retry-After 120: longer than a job waits
    gid = world.place()
    world.drain()
    message = world.message(gid)
    assert message.status == MessageStatus.RETRYING.value and message.error_class == "transient"
    assert world.erp_orders_for(gid) == []
    scheduled = ScheduledJobRegistry(queues.ORDERS, connection=kv.get_redis())
    assert message.job_id in scheduled.get_job_ids()  # RQ retries it with backoff
    assert orders.run(world.shop_id, stale_after_seconds=0)["stale"] == 0  # waiting for its retry is no loss
    world.chain.handle.erp.faults.clear()
    queue = Queue(queues.ORDERS, connection=kv.get_redis())
    for job_id in scheduled.get_job_ids():  # the retry comes due (what RQ's scheduler does)
        scheduled.remove(job_id)
        queue.enqueue_job(Job.fetch(job_id, connection=kv.get_redis()))
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    assert len(world.erp_orders_for(gid)) == 1


def test_a_lost_job_is_found_by_the_catch_up_pass(world):
    world.chain.handle.erp.faults.set(down_for=120)
    gid = world.place()
    world.drain()
    assert world.message(gid).status == MessageStatus.RETRYING.value
    kv.get_redis().flushall()  # Redis lost everything (restart without persistence)
    world.chain.handle.erp.faults.clear()
    assert orders.run(world.shop_id, stale_after_seconds=0)["stale"] == 1
    world.drain()
    assert world.message(gid).status == MessageStatus.DONE.value
    assert len(world.erp_orders_for(gid)) == 1


def test_replaying_a_done_order_changes_nothing(world):
    gid = world.place()
    world.drain()
    message = world.message(gid)
    before = requests.get(f"{world.chain.handle.root}_sandbox/estado", timeout=10).json()
    assert orders.replay(message.id) == "already"
    nothing = {"inbox": 0, "stale": 0, "waiting": 0, "resumed": 0}
    assert orders.run(world.shop_id, stale_after_seconds=0) == nothing
    world.drain()
    after = requests.get(f"{world.chain.handle.root}_sandbox/estado", timeout=10).json()
    assert before == after and world.message(gid).attempts == message.attempts
    assert Decimal(str(world.link(gid).total)) == Decimal(
        world.order_doc(gid)["currentTotalPriceSet"]["shopMoney"]["amount"]
    )


def test_a_shopify_local_pickup_with_an_address_goes_to_the_erp_as_a_pickup(world):
    """A Shopify local pickup: its shipping line is titled after the store ("Loja ..."), and this
    one carries a shipping address (the buyer's billing copied, as an app may do). The store maps
    carriers. The fulfillment order's deliveryMethod says PICK_UP: the ERP order is a pickup ('R')
    with no carrier, not a delivery parked asking to map the store's name as a carrier."""
    from .test_not_for_erp import change_order

    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "carrier", "SEDEX", "41")
    pickup = world.place(gateway="pix", shipping="RETIRADA")
    doc = world.order_doc(pickup)
    assert doc["shippingAddress"] is None  # Shopify asks a local pickup no address
    (shipping_line,) = doc["_shippingLines"]
    assert shipping_line["title"] != "Retirada na loja" and "retirada" not in shipping_line["title"].lower()
    assert [fo["deliveryMethod"]["methodType"] for fo in doc["_fulfillmentOrders"]] == ["PICK_UP"]
    change_order(world, pickup, lambda order: order.update(shippingAddress=order["billingAddress"]))
    world.drain()
    message = world.message(pickup)
    assert message.status == MessageStatus.DONE.value, (message.error_text, message.error_detail)
    (erp_order,) = world.erp_orders_for(pickup)
    assert erp_order["indentregaretira"] == "R" and erp_order["seqtransportador"] is None


def test_a_mapped_shipping_method_gives_the_erp_order_its_carrier_and_an_unmapped_one_parks(world):
    """De:Para carriers: a store that maps none leaves the carrier to the ERP (no seqTransportador);
    once it maps any, the order's shipping method (the rate's code) goes as its SEQTRANSPORTADOR,
    names compared as gateways are, and a method it did not map parks the order naming it until the
    line is saved. A pickup order has no carrier."""
    plain = world.place(gateway="pix", shipping="SEDEX")
    world.drain()
    assert world.erp_orders_for(plain)[0]["seqtransportador"] is None  # no carrier mapped: the ERP's
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "carrier", "sedex", "41")
    sedex = world.place(gateway="pix", shipping="SEDEX")
    pac = world.place(gateway="pix", shipping="PAC")
    pickup = world.place(gateway="pix", shipping="RETIRADA")
    world.drain()
    assert world.erp_orders_for(sedex)[0]["seqtransportador"] == 41
    assert world.erp_orders_for(pickup)[0]["seqtransportador"] is None
    parked = world.message(pac)
    assert parked.status == MessageStatus.PARKED.value
    assert parked.error_detail["mapping"] == {"kind": "carrier", "code": "PAC"}
    assert "shipping method 'PAC' has no ERP carrier" in parked.error_text
    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "carrier", "PAC", "7")
        assert resume_parked(session, world.shop_id, "carrier", ["PAC"]) == 1
    world.drain()
    assert world.erp_orders_for(pac)[0]["seqtransportador"] == 7


def test_an_order_parked_on_a_carrier_goes_once_the_store_maps_no_carrier_at_all(world):
    """The merchant leaves the carrier to the ERP again: every carrier line deleted. The order parked
    on PAC would now go (no line: no seqTransportador), but the catch-up looked for a PAC line only
    and it stayed parked, asking for a line the store no longer keeps."""
    from sqlalchemy import delete

    from jobs import orders
    from ledger.models import Mapping

    with session_scope() as session:
        mappings.upsert_mapping(session, world.shop_id, "carrier", "SEDEX", "41")
    pac = world.place(gateway="pix", shipping="PAC")
    world.drain()
    assert world.message(pac).status == MessageStatus.PARKED.value
    with session_scope() as session:
        session.execute(delete(Mapping).where(Mapping.shop_id == world.shop_id, Mapping.kind == "carrier"))
    orders.run(world.shop_id, stale_after_seconds=0)  # the catch-up pass
    world.drain()
    assert world.message(pac).status == MessageStatus.DONE.value
    assert world.erp_orders_for(pac)[0]["seqtransportador"] is None
