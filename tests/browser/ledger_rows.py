"""Rows the browser tests put in the ledger while a page is open (as a flow would)."""

from __future__ import annotations

from sqlalchemy import select

from ledger import trace
from ledger.db import session_scope
from ledger.errors import MappingMissing, Rejected
from ledger.flows import ERP_TO_SHOPIFY, SHOPIFY_TO_ERP
from ledger.models import Shop


def shop_id(database_url: str, domain: str) -> int:
    with session_scope(database_url) as db:
        return db.scalars(select(Shop.id).where(Shop.domain == domain)).one()


def done_message(database_url: str, shop: int, flow: str, unit_key: str, **ids: str) -> int:
    """A unit of work that went through."""
    with session_scope(database_url) as db:
        message = trace.begin(db, shop, flow, unit_key, SHOPIFY_TO_ERP, request={"unit": unit_key}, **ids)
        trace.succeed(db, message, response={"ok": True})
        return message.id


def parked_order(database_url: str, shop: int, name: str, kind: str, code: str) -> int:
    """An order parked because a De:Para line is missing (as jobs.orders would park it)."""
    with session_scope(database_url) as db:
        message = trace.begin(
            db,
            shop,
            "orders",
            f"order:{name}",
            SHOPIFY_TO_ERP,
            shopify_id=f"gid://shopify/Order/{abs(hash(name)) % 10**8}",
            search=[name],
            request={"name": name, "gateway": code, "email": "cliente@example.com"},
        )
        trace.fail(db, message, MappingMissing(kind, code))
        return message.id


def parked_stock(database_url: str, shop: int, company: int) -> int:
    """The stock of an active ERP company with no location, parked on the company (as jobs.stock
    parks it: MappingMissing("location", NROEMPRESA), the ERP side of a location line)."""
    with session_scope(database_url) as db:
        message = trace.begin(
            db, shop, "stock", f"stock:{company}:location", ERP_TO_SHOPIFY, erp_id=str(company)
        )
        trace.fail(db, message, MappingMissing("location", str(company)))
        return message.id


def order_links(database_url: str, shop: int, count: int) -> list[str]:
    """`count` orders on the Orders page (as jobs.orders links them), oldest first; their names."""
    from ledger.models import OrderLink

    names = [f"#{5000 + n}" for n in range(count)]
    with session_scope(database_url) as db:
        for n, name in enumerate(names):
            db.add(
                OrderLink(
                    shop_id=shop, shopify_order_id=f"gid://shopify/Order/{7000 + n}", shopify_order_name=name
                )
            )
    return names


def rejected_order(database_url: str, shop: int, name: str, erp_message: str) -> int:
    """An order the ERP refused, with the ERP's own words."""
    with session_scope(database_url) as db:
        message = trace.begin(
            db, shop, "orders", f"order:{name}", SHOPIFY_TO_ERP, search=[name], request={"name": name}
        )
        trace.fail(db, message, Rejected(erp_message, system="consinco", code="PED-017"))
        return message.id


def invoiced_order(database_url: str, shop: int, name: str, nro_pedvenda: int) -> int:
    """An order in the ERP, invoiced, with one cut line (as jobs.orders / invoices leave it)."""
    from decimal import Decimal

    from ledger.models import OrderLineChange, OrderLink

    with session_scope(database_url) as db:
        link = OrderLink(
            shop_id=shop,
            shopify_order_id=f"gid://shopify/Order/{nro_pedvenda}",
            shopify_order_name=name,
            nro_pedvenda=nro_pedvenda,
            nro_empresa=1,
            shopify_status="PAID",
            erp_status="F",
            total=Decimal("152.40"),
            authorized_amount=Decimal("160.00"),
            captured_amount=Decimal("152.40"),
            currency="BRL",
            nfe_key="35261112345678000195550010000012341000012345",
            nfe_number="1234",
            nfe_series="1",
            nfe_model="55",
            delivery_slot="Data de entrega: 05/12/2026; Horário de entrega: 08h às 12h",
        )
        db.add(link)
        db.flush()
        db.add(
            OrderLineChange(
                order_link_id=link.id,
                change_key=f"{name}:cut:1",
                direction="erp_to_shopify",
                kind="cut",
                sku="ARZ-5",
                qty_before=Decimal("2"),
                qty_after=Decimal("1"),
                reason="falta no estoque",
                applied=True,
            )
        )
        return link.id


def drift_report(database_url: str, shop: int, counts: dict[str, int]) -> int:
    """A reconciliation report that ended done with drift found (as jobs.reconcile leaves it), its
    schedule's last run "ok"."""
    from sqlalchemy import update

    from ledger import drift
    from ledger.models import Schedule, utcnow

    report = {"summary": {**counts, "errors": []}}
    with session_scope(database_url) as db:
        message = trace.begin(db, shop, "reconcile", "report:2026-11-28", "both")
        trace.succeed(db, message, response=report)
        message.error_text = drift.line(drift.findings(report))
        db.execute(update(Schedule).where(Schedule.shop_id == shop, Schedule.flow == "reconcile")
                   .values(last_status="ok", last_ended_at=utcnow()))  # fmt: skip
        return message.id
