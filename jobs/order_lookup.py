"""Ledger look-ups the order jobs share: the shop, the OrderLink, the ERP target, bindings, De:Para.

Why one module: import, edits and cancellations of an order all resolve the same facts the same
way (the variant binding of a line, the company that fulfils it, the gateway's payment form),
so an edit maps lines exactly as the import did and totals stay equal to the cent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jobs import order_map
from jobs.order_slot import slot_keys
from ledger import mappings, order_notes
from ledger.errors import MappingMissing, Rejected
from ledger.models import Binding, LocationMapping, Mapping, OrderLink, Shop, StoreLink, utcnow
from ledger.slot_day import slot_start
from shopify_app.admin_api.order_import_ops import ErpOrderRead
from shopify_app.admin_api.order_results import Order, OrderLine

SETTING = "setting"


def shop_id_for(session: Session, domain: str) -> int | None:
    return session.scalar(select(Shop.id).where(Shop.domain == domain))


def find_link(session: Session, shop_id: int, order_id: str | int) -> OrderLink | None:
    gid = order_map.order_gid(order_id)
    return session.scalars(
        select(OrderLink).where(OrderLink.shop_id == shop_id, OrderLink.shopify_order_id == gid)
    ).one_or_none()


def mark_unsent_cancelled(link: OrderLink | None, financial_status: str | None = None) -> None:
    """An order cancelled in Shopify before it reached the ERP: its link (an order parked or
    refused before it was mapped has one, for the Orders page) is marked cancelled, so the page
    does not list it as a live order missing from the ERP. A link with an ERP number is the
    cancellations flow's to close."""
    if link is None or link.nro_pedvenda is not None or link.cancelled_at is not None:
        return
    link.cancelled_at = utcnow()
    if financial_status:
        link.shopify_status = financial_status


class Places:
    """The shop's location mappings and store link, each read once (one SELECT of the columns used)
    the first time it is asked: an import asks for them three times (the companies shipping, the
    company before the settings are checked, the target)."""

    def __init__(self, session: Session, shop_id: int) -> None:
        self.session, self.shop_id = session, shop_id
        self._locations: dict[str, Any] | None = None
        self._store: tuple[Any, ...] | None = None

    @property
    def locations(self) -> dict[str, Any]:
        """Location gid -> its row (location_id, nro_empresa, location_name)."""
        if self._locations is None:
            rows = self.session.execute(
                select(
                    LocationMapping.location_id, LocationMapping.nro_empresa, LocationMapping.location_name
                )
                .where(LocationMapping.shop_id == self.shop_id)
                .order_by(LocationMapping.id)
            )
            self._locations = {row.location_id: row for row in rows}
        return self._locations

    @property
    def store(self) -> Any:
        """The store link's row (nro_empresa, nro_segmento), None when the store is linked to none."""
        if self._store is None:
            row = self.session.execute(
                select(StoreLink.nro_empresa, StoreLink.nro_segmento).where(StoreLink.shop_id == self.shop_id)
            ).one_or_none()
            self._store = (row,)
        return self._store[0]


def company_for(
    session: Session, shop_id: int, location_ids: list[str], places: Places | None = None
) -> int | None:
    """The ERP company that fulfils an order: the first of its locations mapped to one, else the
    store link's; None when neither tells. Known before the settings are checked, so an order
    parked for a setting still names its company (the stock flow holds its units there). An order
    whose lines ship from several companies is refused (`refuse_several_companies`)."""
    places = places or Places(session, shop_id)
    for location_id in location_ids:
        row = places.locations.get(location_id)
        if row is not None:
            return row.nro_empresa
    store = places.store
    return store.nro_empresa if store is not None else None


def _optional_int(value: Any) -> int | None:
    """An optional integer setting (nro_representante, nro_tab_venda): None when unset."""
    return None if value in (None, "") else int(value)


def resolve_target(
    session: Session,
    shop_id: int,
    settings: dict[str, Any],
    location_ids: list[str],
    places: Places | None = None,
) -> order_map.OrderTarget:
    """Company (the fulfilling location's mapping, else the store link), segment and settings.

    Raises:
        MappingMissing: a required setting, or both the store link and a location mapping, missing
            (parked on the fulfilling location when the order has one, else on the store link).
    """
    for key, label, said in (
        ("seq_canal_venda", "the sales channel (seqCanalVenda)", ("setting_sales_channel_missing", {})),
        (
            "cod_geral_oper",
            "the fiscal operation code (codGeralOper)",
            ("setting_fiscal_operation_missing", {}),
        ),
    ):
        if settings.get(key) in (None, ""):
            raise MappingMissing(
                SETTING, key, f"configure {label} under Settings: orders wait for it", words=said
            )
    places = places or Places(session, shop_id)
    nro_empresa = company_for(session, shop_id, location_ids, places)
    if nro_empresa is None:  # no location of the order is mapped and the store is linked to none
        if location_ids:  # mapping the fulfilling location resumes it at once
            raise MappingMissing(
                "location",
                location_ids[0],
                f"the order ships from location {location_ids[0]}, which no ERP company is mapped to, "
                "and the store is linked to no company: map the location (or link the store)",
                words=("location_unmapped", {"location": location_ids[0]}),
            )
        nro_empresa = mappings.store_link(session, shop_id).nro_empresa  # MappingMissing("store_link")
    link = places.store
    return order_map.OrderTarget(
        seq_canal_venda=int(settings["seq_canal_venda"]),
        cod_geral_oper=int(settings["cod_geral_oper"]),
        representative=_optional_int(settings.get("nro_representante")),
        price_table=_optional_int(settings.get("nro_tab_venda")),
        nro_empresa=nro_empresa,
        nro_segmento=link.nro_segmento if link is not None else None,
        marketplace_sources=order_map.marketplace_sources(settings.get("marketplace_sources")),
        pay_on_delivery=order_map.gateway_keys(settings.get("pay_on_delivery_gateways")),
        slot_keys=slot_keys(settings.get("delivery_slot_attributes")),
    )


@dataclass(frozen=True)
class Shipping:
    """Lines of an order that one ERP company ships (from its mapped location, or from a location
    mapped to none: the store link's company, None when the store is linked to none)."""

    nro_empresa: int | None
    location_id: str
    location_name: str | None
    lines: list[tuple[OrderLine, int]]  # (line, units in its fulfillment orders there)


def companies_shipping(
    session: Session, shop_id: int, read: ErpOrderRead, places: Places | None = None
) -> list[Shipping]:
    """The ERP companies the order's live fulfillment orders ship from, first one first, each
    with its goods lines. A location mapped to no company ships for the store link's company, the
    one an order from it alone goes to (`resolve_target`): its lines are not posted to another
    location's company, which would reserve, pick and invoice goods Shopify fulfils elsewhere. With
    no store link its company is None, and `park_unmapped` parks the order on that location. Lines
    are known only when the fulfillment orders were read with them
    (`read_order_for_erp(where_lines_ship=True)`, an order shipping from several locations):
    otherwise every list is empty."""
    places = places or Places(session, shop_id)
    store = places.store
    goods = {line.id: line for line in order_map.goods_lines(read.order)}
    found: dict[int | None, Shipping] = {}
    for fulfillment_order in read.live_fulfillment_orders:
        if not fulfillment_order.location_id:
            continue
        row = places.locations.get(fulfillment_order.location_id)
        if row is not None:
            company, location, name = row.nro_empresa, row.location_id, row.location_name
        else:
            company = store.nro_empresa if store is not None else None
            location, name = fulfillment_order.location_id, fulfillment_order.location_name
        shipping = found.setdefault(company, Shipping(company, location, name, []))
        for fo_line in fulfillment_order.lines:
            line = goods.get(fo_line.line_item_id or "")
            if line is not None and fo_line.total_quantity > 0:
                shipping.lines.append((line, fo_line.total_quantity))
    return [shipping for shipping in found.values() if shipping.lines or len(found) == 1]


def park_unmapped(shipping: list[Shipping]) -> None:
    """An order with lines shipping from a location mapped to no company, in a store linked to
    none, waits for that location's mapping (the orders catch-up resumes it once mapped), as an
    order shipping from it alone does (`resolve_target`), rather than going whole to the company
    of its other lines.

    Raises:
        MappingMissing ("location"): naming the location.
    """
    for company in shipping:
        if company.nro_empresa is None:
            where = company.location_name or company.location_id
            raise MappingMissing(
                "location",
                company.location_id,
                f"lines of the order ship from location {where} ({company.location_id}), which no ERP "
                "company is mapped to, and the store is linked to no company: map the location (or link "
                "the store)",
                words=("location_unmapped", {"location": where}),
            )


def line_companies(shipping: list[Shipping]) -> dict[str, list[tuple[int | None, int]]]:
    """Line id -> [(company, units it ships there)], first company first. Shopify's routing can
    split one line across locations (1 unit from each of two stores): each company takes its own
    units, so the stock flow holds them where they ship (jobs.order_map.stock_lines); units at a
    location mapped to no company, in a store linked to none, are held at none (None)."""
    companies: dict[str, dict[int | None, int]] = {}
    for company in shipping:
        for line, units in company.lines:
            at = companies.setdefault(line.id, {})
            at[company.nro_empresa] = at.get(company.nro_empresa, 0) + units
    return {line_id: list(at.items()) for line_id, at in companies.items()}


def refuse_several_companies(order: Order, shipping: list[Shipping]) -> None:
    """One PedidoVenda belongs to one company: an order whose lines ship from the locations of
    several companies is not posted whole to the first (the others' goods would be reserved,
    picked and invoiced at the wrong store). Splitting it into one ERP order per company is not
    done; the merchant moves the fulfillment orders to one location and retries.

    Raises:
        Rejected (MULTI_COMPANY): naming each company, its location and its lines.
    """
    if len(shipping) < 2:
        return
    parts, named, said = [], [], []
    for company in shipping:
        lines = [{"sku": line.sku, "name": line.name, "quantity": units} for line, units in company.lines]
        shown = ", ".join(f"{x['sku'] or '(no SKU)'} ({x['name']}) x{x['quantity']}" for x in lines)
        where = company.location_name or company.location_id
        parts.append(f"company {company.nro_empresa} (location {where}): {shown}")
        named.append({"nro_empresa": company.nro_empresa, "location_id": company.location_id,
                      "location_name": company.location_name, "lines": lines})  # fmt: skip
        lines_said = [  # a line with a SKU is its data alone (no words to say)
            f"{x['sku']} ({x['name']}) x{x['quantity']}" if x["sku"]
            else ("multi_company_line_no_sku", {"name": x["name"], "quantity": x["quantity"]})
            for x in lines
        ]  # fmt: skip
        said.append(("multi_company_part", {"company": company.nro_empresa, "location": where,
                                             "lines": order_notes.joined(lines_said)}))  # fmt: skip
    companies = order_notes.joined(said, "semicolon")
    # The data only: what it means and what to do are the Messages page's (api_explain MULTI_COMPANY).
    raise Rejected(
        f"order {order.name} ships from {len(shipping)} ERP companies: {'; '.join(parts)}",
        system="app",
        code="MULTI_COMPANY",
        detail={"companies": named},
        words=("multi_company", {"order": order.name, "count": len(shipping), "companies": companies}),
    )


def variants_for(session: Session, shop_id: int, lines: list[Any]) -> order_map.BoundVariants:
    """Line id -> the ERP SKU its variant is bound to: by variant gid, else by SKU = idSku when the
    line's variant is gone (deleted since the sale: Shopify gives the line no variant) or the SKU's
    binding names no variant yet. A live variant whose SKU is bound to another variant is a copy
    made in Shopify ("Duplicate" copies the SKU: a kit of 6 at six times the price) and not the ERP
    product: left out, and named in `copies`, for the order to be held saying so."""
    variant_ids = [line.variant_id for line in lines if line.variant_id]
    skus = [line.sku for line in lines if line.sku]
    rows = session.execute(
        select(Binding.erp_id, Binding.shopify_id, Binding.data).where(
            Binding.shop_id == shop_id,
            Binding.kind == order_map.VARIANT,
            (Binding.shopify_id.in_(variant_ids) | Binding.erp_id.in_(skus)),
        )
    ).all()
    by_gid = {row.shopify_id: row for row in rows if row.shopify_id}
    by_sku = {row.erp_id: row for row in rows}
    found = order_map.BoundVariants()
    copies = set()
    for line in lines:
        row = by_gid.get(line.variant_id)
        if row is None and (by_sku_row := by_sku.get(line.sku or "")) is not None:
            if line.variant_id and by_sku_row.shopify_id:
                copies.add(line.id)
                continue
            row = by_sku_row
        if row is not None and (row.data or {}).get("seq_produto") is not None:
            found[line.id] = order_map.VariantInfo.from_binding(row.erp_id, row.data)
    found.copies = frozenset(copies)
    return found


def payment_codes(session: Session, shop_id: int, gateways: list[str]) -> dict[str, int]:
    """Gateway (as the order names it) -> NROFORMAPAGTO for the mapped gateways (unmapped ones are
    absent); names compare case-folded, whitespace collapsed (ledger.mappings.gateway_key)."""
    return payment_and_carrier_codes(session, shop_id, gateways, carriers=False)[0]


def payment_and_carrier_codes(
    session: Session, shop_id: int, gateways: list[str], *, carriers: bool = True
) -> tuple[dict[str, int], dict[str, int]]:
    """`payment_codes` and `carrier_codes` (empty unless `carriers`) from one SELECT of the De:Para."""
    kinds = (order_map.PAYMENT_METHOD, order_map.CARRIER) if carriers else (order_map.PAYMENT_METHOD,)
    rows = session.execute(
        select(Mapping.id, Mapping.kind, Mapping.shopify_code, Mapping.erp_code)
        .where(Mapping.shop_id == shop_id, Mapping.kind.in_(kinds))
        .order_by(Mapping.shopify_code)  # list_mappings' order: the carriers' name -> code
    ).all()
    payments = sorted((row for row in rows if row.kind == order_map.PAYMENT_METHOD), key=lambda row: row.id)
    return _payment_codes(payments, gateways), _carrier_codes(
        [row for row in rows if row.kind == order_map.CARRIER]
    )


def _payment_codes(rows: list[Any], gateways: list[str]) -> dict[str, int]:
    """`payment_codes` from the store's payment_method lines in id order (mappings.find_mapping's)."""
    codes: dict[str, int] = {}
    for gateway in gateways:
        row = mappings.by_name(rows, gateway)
        if row is None:
            continue
        if not re.fullmatch(r"[0-9]{1,9}", str(row.erp_code).strip()):
            raise Rejected(
                f"payment gateway {row.shopify_code!r} is mapped to {row.erp_code!r}, not an ERP "
                "NROFORMAPAGTO number",
                system="app",
                code="BAD_MAPPING",
                words=("payment_mapping_not_number", {"gateway": row.shopify_code, "code": row.erp_code}),
            )
        codes[gateway] = int(row.erp_code)
    return codes


def carrier_codes(session: Session, shop_id: int) -> dict[str, int]:
    """Every shipping method the store maps to an ERP carrier: name -> SEQTRANSPORTADOR (empty: the
    store leaves the carrier to the ERP; jobs.order_map.map_carrier)."""
    return _carrier_codes(mappings.list_mappings(session, shop_id, order_map.CARRIER))


def _carrier_codes(rows: list[Any]) -> dict[str, int]:
    """`carrier_codes` from the store's carrier lines in Shopify code order (list_mappings')."""
    return {
        row.shopify_code: int(row.erp_code)
        for row in rows
        if re.fullmatch(r"[0-9]{1,9}", row.erp_code.strip())
    }


def ensure_link(
    session: Session,
    shop_id: int,
    order_id: str,
    name: str | None,
    nro_empresa: int | None,
    total: Any,
    financial_status: str | None,
    currency: str | None,
    slot: str | None = None,
) -> OrderLink:
    """The order's OrderLink (UNIQUE shop + order gid), created once whoever gets there first.
    `slot`: the delivery or pickup slot the order carries now (jobs.order_slot), kept as read.

    One INSERT ... ON CONFLICT DO UPDATE ... RETURNING: a new link gets every value; an existing
    one keeps its currency and NROPEDVENDA and takes the current name, company and status. Its
    total follows the order while it is not in the ERP (no NROPEDVENDA: waiting for its payment,
    parked, refused): every re-read (orders/updated after an edit, a Retry, the catch-up) brings
    Shopify's current total, so the Orders page does not show what the order charged when it began
    to wait. Once in the ERP the link's total is the ERP order's (the import, the edit flows).
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    slot_day, slot_time = slot_start(slot)  # written in SQL: the model's validator is not called
    stmt = dialect.insert(OrderLink).values(
        shop_id=shop_id,
        shopify_order_id=order_id,
        shopify_order_name=name,
        nro_empresa=nro_empresa,
        total=total,
        shopify_status=financial_status,
        currency=currency,
        delivery_slot=slot,
        slot_day=slot_day,
        slot_time=slot_time,
        created_at=now,
        updated_at=now,
    )
    table = OrderLink.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=["shop_id", "shopify_order_id"],
        set_={
            "shopify_order_name": stmt.excluded.shopify_order_name,
            "nro_empresa": stmt.excluded.nro_empresa,
            "shopify_status": stmt.excluded.shopify_status,
            "delivery_slot": stmt.excluded.delivery_slot,
            "slot_day": stmt.excluded.slot_day,
            "slot_time": stmt.excluded.slot_time,
            "total": case(
                (and_(table.c.nro_pedvenda.is_(None), stmt.excluded.total.is_not(None)), stmt.excluded.total),
                else_=table.c.total,
            ),
            "updated_at": now,
        },
    )
    session.flush()
    return session.scalars(stmt.returning(OrderLink), execution_options={"populate_existing": True}).one()
