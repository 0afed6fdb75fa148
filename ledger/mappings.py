"""De:Para and links, with errors the admin page can act on.

Every lookup that finds nothing raises `MappingMissing(kind, code)`: the flow parks the unit,
the De:Para page lists the code first ("seen in orders, not mapped"), and creating the mapping
resumes the parked units (`ledger.trace.parked_waiting_for`). Company <-> location mappings
live in their own table, but the page and the CSV treat them as one more kind
(shopify_code = the location gid, erp_code = NROEMPRESA). The caller owns the transaction.
A location line's two sides are told apart everywhere a code is shown to be mapped
(`code_side`): the stock flow parks on the company (the ERP side), an order on the location gid
(the Shopify side). The Shopify side is only ever a location gid (`location_problem`), checked
against the shop's locations when the caller could read them.

Payment gateways are names people type: a line "PIX" or "cartão  de crédito" is Shopify's "Pix"
or "Cartão de crédito". Every comparison of a gateway name (the import's look-up, the catch-up,
resuming parked orders, the page's "seen, not mapped", saving a line) goes through `code_key`:
case-folded, whitespace collapsed, Unicode-normalised (NFC: a name written decomposed by a Mac's
CSV is the one Shopify writes composed). Saving a line that differs from an existing one only so
changes that line instead of adding a second one; a name is stored composed (`stored_name`).
Shipping methods (carrier), card brands (card_brand: "VISA" is Shopify's "Visa") and the gateways
a card network is mapped from (card_network) are names too and compare the same way (`BY_NAME`).
"""

from __future__ import annotations

import csv
import enum
import io
import re
import unicodedata
from collections.abc import Collection, Iterable
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ledger import setup_moves
from ledger.errors import MappingMissing
from ledger.models import LocationMapping, Mapping, Message, MessageStatus, Shop, StoreLink, utcnow


class MappingKind(enum.StrEnum):
    PAYMENT_METHOD = "payment_method"
    CARRIER = "carrier"
    SEGMENT_MARKET = "segment_market"
    LOCATION = "location"
    # A card payment's data for the ERP (its card payment call, codBandeira and codRede): the card
    # brand as Shopify's CardPaymentDetails.company names it ("Visa", "Mastercard", "Elo") and the
    # gateway's name (as payment_method's Shopify code) -> the acquirer network (Cielo, Rede...).
    CARD_BRAND = "card_brand"
    CARD_NETWORK = "card_network"


class MappingConflict(ValueError):
    """The mapping would break a one-to-one rule (a location already belongs to another company)."""


@dataclass(frozen=True)
class MappingRow:
    """One De:Para line as the page shows it, whatever table it lives in."""

    kind: str
    shopify_code: str
    erp_code: str
    label: str | None
    updated_at: datetime | None


@dataclass
class ImportResult:
    """What a CSV import did; `errors` are (line number, reason) for the lines it could not take."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    # Shopify code -> (ERP code before or None when created, ERP code after or None when the line is
    # gone: a location whose company moved to another location): what the audit keeps.
    changed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    # Shopify code -> ((label, spelling) before, (label, spelling) after) of the lines kept whose
    # label or Shopify spelling ("PIX" for "Pix") the import changed: the audit keeps them too.
    relabelled: dict[str, tuple[tuple[str | None, str], tuple[str | None, str]]] = field(default_factory=dict)


CSV_COLUMNS = ("shopify_code", "erp_code", "label")


class ErpLists(NamedTuple):
    """The numbers the shop's ERP lists, to check a De:Para line against: its companies, segments
    and payment methods (NROFORMAPAGTO; None: not read, that kind's lines are not checked)."""

    companies: Collection[int]
    segments: Collection[int]
    payment_methods: Collection[int] | None = None


# What the flows read an ERP code as (ASCII digits: a Unicode digit is not a number to int4 columns).
ERP_CODE_RULES: dict[MappingKind, tuple[str, str]] = {
    MappingKind.PAYMENT_METHOD: (r"[0-9]{1,9}", "the ERP payment method (NROFORMAPAGTO) must be a number"),
    MappingKind.CARRIER: (r"[0-9]{1,9}", "the ERP carrier (SEQTRANSPORTADOR) must be a number"),
    MappingKind.SEGMENT_MARKET: (r"[0-9]{1,9}:[0-9]{1,9}", "the ERP code must be '<empresa>:<segmento>'"),
    MappingKind.CARD_BRAND: (r"[0-9]{1,9}", "the ERP card brand (codBandeira) must be a number"),
    MappingKind.CARD_NETWORK: (r"[0-9]{1,9}", "the ERP card network (codRede) must be a number"),
}


# What the flows read a Shopify code as, where it is an id (a location's rule: `location_problem`).
SHOPIFY_CODE_RULES: dict[MappingKind, tuple[str, str]] = {
    MappingKind.SEGMENT_MARKET: (
        r"gid://shopify/Market/[1-9][0-9]{0,18}",
        "the Shopify side must be one of the shop's markets (gid://shopify/Market/<number>)",
    ),
}


def gateway_key(name: str) -> str:
    """A payment gateway's name as it is compared: case-folded, whitespace collapsed, NFC (canonical
    caseless: a "Cartão" written decomposed, "a" + a combining tilde, by a CSV saved on a Mac, is
    Shopify's composed "Cartão")."""
    folded = unicodedata.normalize("NFD", " ".join(name.split())).casefold()
    return unicodedata.normalize("NFC", folded)


# The payment_method code of an order Shopify shows paid with no payment recorded (created as paid by
# another app, a marketplace connector or an import): mapped like a gateway, to the ERP payment form
# such orders are booked under. No Shopify gateway is named so (parentheses).
NO_PAYMENT = "(no payment)"

# kinds whose Shopify code is a name a person types (a gateway, a shipping method, a card brand)
BY_NAME = frozenset({"payment_method", "carrier", "card_brand", "card_network"})


def code_key(kind: str, code: str) -> str:
    """A Shopify code as the kind compares it: gateway, shipping method and card brand names by
    `gateway_key` (case-folded, whitespace collapsed, NFC), others exactly."""
    return gateway_key(code) if kind in BY_NAME else code


def stored_name(kind: str, code: str) -> str:
    """A Shopify code as a De:Para line stores it: trimmed; a name (`BY_NAME`) composed (NFC), as
    Shopify writes names, so the page and the CSV show it as the orders name it."""
    code = code.strip()
    return unicodedata.normalize("NFC", code) if kind in BY_NAME else code


def find_mapping(session: Session, shop_id: int, kind: str, shopify_code: str) -> Mapping | None:
    """The De:Para line (not a location) for a Shopify code, compared by `code_key`; an exact
    match first (two lines equal by key saved before the rule: the one typed as Shopify names it)."""
    if kind not in BY_NAME:
        return session.scalars(
            select(Mapping).where(
                Mapping.shop_id == shop_id, Mapping.kind == kind, Mapping.shopify_code == shopify_code
            )
        ).one_or_none()
    rows = session.scalars(
        select(Mapping).where(Mapping.shop_id == shop_id, Mapping.kind == kind).order_by(Mapping.id)
    )
    return by_name(rows, shopify_code)


def by_name(rows: Iterable[Any], shopify_code: str) -> Any:
    """`find_mapping` of a kind compared by name, among that kind's lines in id order (rows with a
    `shopify_code`): the line typed exactly so, else the first equal by `gateway_key`."""
    key = gateway_key(shopify_code)
    alike = [row for row in rows if gateway_key(row.shopify_code) == key]
    exact = (row for row in alike if row.shopify_code == shopify_code)
    return next(exact, alike[0] if alike else None)


MAX_COMPANY = 999_999_999  # a NROEMPRESA's 9 digits (company_number)


def company_number(text: str) -> int | None:
    """A NROEMPRESA typed as text: 1 to 9 ASCII digits (what the column holds), not 0 (no ERP
    company is 0: the Setup page's location set refuses it, which a line saved so would block),
    else None."""
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) and int(text) > 0 else None


def code_side(kind: str, code: str) -> str:
    """Which side of its De:Para line a code a unit parked on is: "erp" for a company number a
    location line is missing for (the stock flow parks on the NROEMPRESA), else "shopify" (a
    gateway, a shipping method, a market, the location gid an order parks on). The page fills in
    that side: a company number in the location field made a line to a location that is none."""
    return "erp" if kind == MappingKind.LOCATION and company_number(code) is not None else "shopify"


LOCATION_GID = re.compile(r"gid://shopify/Location/[1-9][0-9]{0,18}")  # a Shopify id: int64


def location_problem(location_id: str, known: Collection[str] | None = None) -> str | None:
    """Why `location_id` cannot be the Shopify side of a location line, or None when it can: it
    must be a Location gid and, when the shop's locations are `known` (read from Shopify by the
    caller), one of them. A line to anything else resumes the stock flow into a location Shopify
    does not have."""
    if not LOCATION_GID.fullmatch(location_id):
        return (
            f"“{location_id}” is not a Shopify location: the location side takes one of the shop's "
            "locations (gid://shopify/Location/<number>); the ERP company (NROEMPRESA) goes on the "
            "company side"
        )
    if known is not None and location_id not in known:
        return f"{location_id} is not one of the shop's locations (deleted in Shopify?)"
    return None


def store_link(session: Session, shop_id: int) -> StoreLink:
    """The ERP company + segment this store sells as; MappingMissing("store_link", domain) if unset."""
    link = session.scalars(select(StoreLink).where(StoreLink.shop_id == shop_id)).one_or_none()
    if link is None:
        shop = session.get(Shop, shop_id)
        raise MappingMissing(
            "store_link",
            shop.domain if shop else str(shop_id),
            "this store is not linked to an ERP company and segment yet: link it under Setup",
            words=("store_link_missing", {}),
        )
    return link


def set_store_link(session: Session, shop_id: int, nro_empresa: int, nro_segmento: int) -> StoreLink:
    """Create or change the store's link to an ERP company + segment. A link moved to another pair
    has the pair's prices read whole by the next pass (ledger.setup_moves.store_link_moved)."""
    link = session.scalars(select(StoreLink).where(StoreLink.shop_id == shop_id)).one_or_none()
    if link is None:
        link = StoreLink(shop_id=shop_id, nro_empresa=nro_empresa, nro_segmento=nro_segmento)
        session.add(link)
    else:
        moved = (link.nro_empresa, link.nro_segmento) != (nro_empresa, nro_segmento)
        link.nro_empresa, link.nro_segmento, link.updated_at = nro_empresa, nro_segmento, utcnow()
        if moved:
            setup_moves.store_link_moved(session, shop_id, nro_empresa, nro_segmento)
    session.flush()
    return link


def location_for_company(session: Session, shop_id: int, nro_empresa: int) -> str:
    """The Shopify location gid of an ERP company; MappingMissing("location", NROEMPRESA) if none."""
    location_id = session.scalar(
        select(LocationMapping.location_id).where(
            LocationMapping.shop_id == shop_id, LocationMapping.nro_empresa == nro_empresa
        )
    )
    if location_id is None:
        raise MappingMissing(MappingKind.LOCATION.value, str(nro_empresa))
    return location_id


def company_for_location(session: Session, shop_id: int, location_id: str) -> int:
    """The ERP company (NROEMPRESA) of a Shopify location; MappingMissing("location", gid) if none."""
    nro_empresa = session.scalar(
        select(LocationMapping.nro_empresa).where(
            LocationMapping.shop_id == shop_id, LocationMapping.location_id == location_id
        )
    )
    if nro_empresa is None:
        raise MappingMissing(MappingKind.LOCATION.value, location_id)
    return nro_empresa


def set_location_mapping(
    session: Session, shop_id: int, nro_empresa: int, location_id: str, location_name: str | None = None
) -> tuple[LocationMapping, bool]:
    """Map an ERP company to a Shopify location (one to one); returns (row, created).

    The company's row moves to the location; a location mapped to another company while this
    company has no location changes company instead (the De:Para line of a location, keyed by
    its gid, edited to a new NROEMPRESA). Either way the stock flow's next pass finds the company
    at a location it did not write at ("stock_location" marker, jobs.stock) and writes it whole.
    `location_name` is the location's: written when given, and on a move to another location
    even when not (None), so a moved company's row never names the location it left; callers
    that read the shop's locations give Shopify's name.

    Raises:
        ValueError: `location_id` is not a Shopify location gid (`location_problem`).
        MappingConflict: the location is mapped to another company and this company has a
            location of its own (changing either would leave a company at two locations).
    """
    problem = location_problem(location_id)
    if problem is not None:
        raise ValueError(problem)
    other = session.scalars(
        select(LocationMapping).where(
            LocationMapping.shop_id == shop_id,
            LocationMapping.location_id == location_id,
            LocationMapping.nro_empresa != nro_empresa,
        )
    ).one_or_none()
    row = session.scalars(
        select(LocationMapping).where(
            LocationMapping.shop_id == shop_id, LocationMapping.nro_empresa == nro_empresa
        )
    ).one_or_none()
    if other is not None and row is not None:
        raise MappingConflict(
            f"location {location_id} is mapped to company {other.nro_empresa} and company {nro_empresa} "
            f"is mapped to location {row.location_id}: a company has one location, so change or "
            f"delete company {nro_empresa}'s line first"
        )
    if other is not None:  # the location's line changes company
        other.nro_empresa = nro_empresa
        row = other
    created = row is None
    if row is None:
        row = LocationMapping(shop_id=shop_id, nro_empresa=nro_empresa, location_id=location_id)
        session.add(row)
    # The name is the location's: a company moved to another location drops the one it left
    # (None when no name is given: unknown rather than another store's); the same location
    # saved with no name keeps its own.
    if location_name is not None or row.location_id != location_id or created:
        row.location_name = location_name
    row.location_id, row.updated_at = location_id, utcnow()
    session.flush()
    return row, created


def erp_code(session: Session, shop_id: int, kind: str, shopify_code: str) -> str:
    """The ERP code a Shopify code maps to; MappingMissing(kind, shopify_code) if unmapped."""
    if _kind(kind) is MappingKind.LOCATION:
        return str(company_for_location(session, shop_id, shopify_code))
    row = find_mapping(session, shop_id, kind, shopify_code)
    if row is None:
        raise MappingMissing(kind, shopify_code)
    return row.erp_code


class ShopifyCodeError(ValueError):
    """A De:Para line's Shopify side is not what its kind takes (SHOPIFY_CODE_RULES)."""


def upsert_mapping(
    session: Session, shop_id: int, kind: str, shopify_code: str, erp_code: str, label: str | None = None
) -> tuple[Mapping | LocationMapping, bool]:
    """Create or change one De:Para line; returns (row, created). Location kind goes to its own table.

    Raises:
        ValueError: empty codes, an unknown kind, a Shopify code over 255 characters once composed
            (ShopifyCodeError), or for a location a non-numeric NROEMPRESA or a Shopify side that is
            no location gid.
        MappingConflict: see `set_location_mapping`.
    """
    mapping_kind = _kind(kind)
    shopify_code, erp_code = stored_name(kind, shopify_code), erp_code.strip()
    if not shopify_code or not erp_code:
        raise ValueError("both the Shopify code and the ERP code are required")
    if mapping_kind is MappingKind.LOCATION:
        company = company_number(erp_code)
        if company is None:
            raise ValueError(f"NROEMPRESA must be a number of 1 to 9 digits, not 0, got {erp_code!r}")
        return set_location_mapping(session, shop_id, company, shopify_code, label)
    rule = ERP_CODE_RULES.get(mapping_kind)
    if rule is not None and not re.fullmatch(rule[0], erp_code):
        raise ValueError(f"{rule[1]}, got {erp_code!r}")
    if len(shopify_code) > 255:  # composed (NFC), a name typed within 255 can grow past the column
        raise ShopifyCodeError(f"must be at most 255 characters once composed (NFC), got {len(shopify_code)}")
    shopify_rule = SHOPIFY_CODE_RULES.get(mapping_kind)  # a market line to a name parked its pair for good
    if shopify_rule is not None and not re.fullmatch(shopify_rule[0], shopify_code):
        raise ShopifyCodeError(f"{shopify_rule[1]}, got {shopify_code!r}")
    row = find_mapping(session, shop_id, kind, shopify_code)
    created = row is None
    if row is None:
        row = Mapping(shop_id=shop_id, kind=kind, shopify_code=shopify_code)
        session.add(row)
    row.shopify_code, row.erp_code, row.label, row.updated_at = shopify_code, erp_code, label, utcnow()
    session.flush()
    return row, created


def delete_mapping(session: Session, shop_id: int, kind: str, shopify_code: str) -> bool:
    """Remove one De:Para line; True when something was removed."""
    if _kind(kind) is MappingKind.LOCATION:
        stmt = delete(LocationMapping).where(
            LocationMapping.shop_id == shop_id, LocationMapping.location_id == shopify_code
        )
    else:
        stmt = delete(Mapping).where(
            Mapping.shop_id == shop_id, Mapping.kind == kind, Mapping.shopify_code == shopify_code
        )
    result = session.execute(stmt.execution_options(synchronize_session="fetch"))
    session.flush()
    return bool(result.rowcount)


def list_mappings(session: Session, shop_id: int, kind: str) -> list[MappingRow]:
    """The kind's De:Para lines, ordered by Shopify code."""
    if _kind(kind) is MappingKind.LOCATION:
        locations = session.scalars(
            select(LocationMapping)
            .where(LocationMapping.shop_id == shop_id)
            .order_by(LocationMapping.location_id)
        )
        return [
            MappingRow(kind, row.location_id, str(row.nro_empresa), row.location_name, row.updated_at)
            for row in locations
        ]
    rows = session.scalars(
        select(Mapping).where(Mapping.shop_id == shop_id, Mapping.kind == kind).order_by(Mapping.shopify_code)
    )
    return [MappingRow(kind, row.shopify_code, row.erp_code, row.label, row.updated_at) for row in rows]


def unmapped_codes_seen(session: Session, shop_id: int, kind: str) -> list[tuple[str, int]]:
    """Codes parked messages are waiting for that still have no mapping, most waited-for first."""
    mapping = Message.error_detail["mapping"]
    code = mapping["code"].as_string()
    stmt = (
        select(code, func.count())
        .where(
            Message.shop_id == shop_id,
            Message.status == MessageStatus.PARKED.value,
            mapping["kind"].as_string() == kind,
        )
        .group_by(code)
    )
    seen = [(value, n) for value, n in session.execute(stmt) if value]
    if kind == MappingKind.PAYMENT_METHOD:
        seen += _other_gateways_waited_for(session, shop_id)
    mapped = {code_key(kind, c) for c in _mapped_codes(session, shop_id, kind)}
    # One row a code as the De:Para reads it ("Pix" and "PIX" are one gateway, one line maps both;
    # an order parked on another gateway waits for it too): its first spelling, the counts added.
    merged: dict[str, tuple[str, int]] = {}
    for c, n in seen:
        key = code_key(kind, c)
        if key not in mapped:
            first, count = merged.get(key, (c, 0))
            merged[key] = (first, count + n)
    return sorted(merged.values(), key=lambda item: (-item[1], item[0]))


def _other_gateways_waited_for(session: Session, shop_id: int) -> list[tuple[str, int]]:
    """The gateways an order parked on another one waits for too: jobs.order_map.map_payments parks
    on the first unmapped gateway and names them all (detail "gateways"). Each is counted once per
    order, under the spelling first seen, unless it is the code the order parked on."""
    detail = Message.error_detail
    rows = session.scalars(
        select(detail)
        .where(
            Message.shop_id == shop_id,
            Message.status == MessageStatus.PARKED.value,
            detail["mapping"]["kind"].as_string() == MappingKind.PAYMENT_METHOD.value,
            detail["gateways"].as_string().is_not(None),
        )
        .order_by(Message.id)
    )
    counts: dict[str, tuple[str, int]] = {}
    for row in rows:
        first = code_key(MappingKind.PAYMENT_METHOD, str(row["mapping"].get("code")))
        names = {code_key(MappingKind.PAYMENT_METHOD, g): g for g in reversed(row.get("gateways") or [])}
        for key, name in names.items():
            if key != first:
                spelt, n = counts.get(key, (name, 0))
                counts[key] = (spelt, n + 1)
    return list(counts.values())


# A cell a spreadsheet would run as a formula ("=HYPERLINK(...)", "+1", "@SUM"): exported with a
# leading apostrophe (shown as text), which the import takes off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _read_cell(value: str | None) -> str:
    text = (value or "").strip()
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def export_csv(session: Session, shop_id: int, kind: str, separator: str = ",") -> str:
    """The kind's mappings as CSV (shopify_code, erp_code, label), ready for `import_csv`, which reads
    either separator (";" is what Excel in Portuguese splits into columns; `_separator`)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in list_mappings(session, shop_id, kind):
        writer.writerow([_safe_cell(row.shopify_code), _safe_cell(row.erp_code), _safe_cell(row.label or "")])
    return out.getvalue()


def import_csv(
    session: Session,
    shop_id: int,
    kind: str,
    text: str,
    known_locations: MappingOf[str, str | None] | None = None,
    erp_lists: ErpLists | None = None,
) -> ImportResult:
    """Upsert every valid line of a CSV; bad lines are reported by line number, the rest still land
    (each line in a savepoint, values checked against the columns first: a database error would
    abort the whole import). `changed` keeps each line's ERP code before and after, for the audit.
    A location line must name one of `known_locations` when the caller could read them, and a
    location or a company a line of the file already mapped is refused on the repeated line with
    the setup page's words (`api_location_mappings._location_input`): the last line would
    otherwise silently undo the first. So is, for the other kinds, a Shopify code a line of the file
    already mapped, compared by `code_key` ("PIX " repeats "Pix"). `known_locations` (gid -> name)
    also names a location line with no label as Shopify names the location. Since a location line
    can move a company's row (the line of the location it left is gone), a location import's
    `changed` is every location whose company differs between before and after the import.

    A file saved by Excel in Portuguese separates values with ";" (the comma is the decimal mark):
    a header holding ";" and no "," is read so. A value holding U+FFFD, the replacement character
    a file not in UTF-8 (Excel's "CSV" is Windows-1252) becomes when read as UTF-8, is a line error
    (the page decodes such a file itself, mappings.js; this catches one read wrong anyway)."""
    mapping_kind = _kind(kind)
    result = ImportResult()
    text = text.lstrip("\ufeff")
    # strict: a quote never closed is an error, not the rest of the file read as one value
    reader = csv.reader(io.StringIO(text), delimiter=_separator(text), strict=True)
    code_max = 100 if mapping_kind is MappingKind.LOCATION else 255
    rows_before = list_mappings(session, shop_id, kind)
    mapped_before = {row.erp_code for row in rows_before}  # a line kept as it was is not asked again
    before = {code_key(kind, row.shopify_code): row.erp_code for row in rows_before}
    named = {code_key(kind, row.shopify_code): (row.label, row.shopify_code) for row in rows_before}
    landed: dict[tuple[str, object], int] = {}  # what the lines that landed mapped -> their line
    read = 0  # the last line of the last record read whole (a quoted value may span lines)
    try:
        header = next(reader, [])
        read = reader.line_num
        missing = [name for name in CSV_COLUMNS[:2] if name not in header]
        if missing:
            result.errors.append((1, f"missing column(s): {', '.join(missing)}"))
            return result
        labelled = CSV_COLUMNS[2] in header  # a file of codes only keeps the lines' descriptions
        for cells in reader:
            line, read = read + 1, reader.line_num  # a line error names the record's first line
            if not cells:  # a blank line
                continue
            if any("\ufffd" in cell for cell in cells):
                result.errors.append(
                    (
                        line,
                        "a value holds “\ufffd”: the file is not UTF-8; "
                        "save it as CSV UTF-8 and import it again",
                    )
                )
                continue
            record = dict(zip(header, cells, strict=False))
            shopify_code, erp_code = (
                _read_cell(record.get("shopify_code")),
                _read_cell(record.get("erp_code")),
            )
            if labelled:  # (an empty cell clears the description)
                label = _read_cell(record.get(CSV_COLUMNS[2])) or None
            else:
                label = named.get(code_key(kind, shopify_code), (None, None))[0]
            if len(shopify_code) > code_max or len(erp_code) > 255 or len(label or "") > 255:
                result.errors.append((line, f"a value is too long (codes at most {code_max}/255)"))
                continue
            location = mapping_kind is MappingKind.LOCATION and shopify_code
            problem = location and location_problem(shopify_code, known_locations)
            if problem:
                result.errors.append((line, problem))
                continue
            company = company_number(erp_code) if location else None  # None: upsert_mapping says why
            twice = _twice(kind, shopify_code, company, landed)
            if twice:
                result.errors.append((line, twice))
                continue
            unlisted = unlisted_problem(mapping_kind, erp_code, erp_lists, mapped_before)
            if unlisted:
                result.errors.append((line, unlisted))
                continue
            if location and label is None and known_locations is not None:
                label = known_locations.get(shopify_code)  # Shopify's name for it
            try:
                with session.begin_nested():
                    row, created = upsert_mapping(session, shop_id, kind, shopify_code, erp_code, label)
            except ValueError as exc:  # MappingConflict included
                result.errors.append((line, str(exc)))
                continue
            if isinstance(row, LocationMapping):  # its `changed` is read after the loop
                landed[("company", row.nro_empresa)] = landed[("location", row.location_id)] = line
                now = (row.location_name, row.location_id)
            else:
                landed[("code", code_key(kind, shopify_code))] = line
                was = before.get(code_key(kind, shopify_code))
                if was != row.erp_code:
                    result.changed[row.shopify_code] = (was, row.erp_code)
                now = (row.label, row.shopify_code)
            had = named.get(code_key(kind, _code_of(row)))
            if had is not None and had != now:
                result.relabelled[_code_of(row)] = (had, now)
            result.created += int(created)
            result.updated += int(not created)
    except csv.Error as exc:  # nothing after it can be read: the lines before it landed
        result.errors.append((read + 1, _unreadable(exc)))
    if mapping_kind is MappingKind.LOCATION:
        after = {row.shopify_code: row.erp_code for row in list_mappings(session, shop_id, kind)}
        result.changed = {
            code: (before.get(code), after.get(code))
            for code in sorted(before.keys() | after.keys())
            if before.get(code) != after.get(code)
        }
    return result


def unlisted_problem(
    kind: MappingKind,
    erp_code: str,
    erp_lists: ErpLists | None,
    mapped_before: Collection[str],
) -> str | None:
    """Why a location, segment <-> market or payment method line (of an import, or saved alone:
    shopify_app.api_mappings) names what the ERP does not list (`erp_lists`, None when it could not
    be asked: a payment line to a form it lacks failed every order paid so); None for any other
    line, one whose ERP code is mapped already (`mapped_before`), or a code its own rule refuses
    (upsert_mapping says why)."""
    if erp_lists is None or erp_code in mapped_before:
        return None
    companies, segments, payment_methods = erp_lists
    if kind is MappingKind.PAYMENT_METHOD and payment_methods is not None:
        form = int(erp_code) if re.fullmatch(ERP_CODE_RULES[kind][0], erp_code) else None
        if form is not None and form not in payment_methods:
            return f"the ERP lists no payment method {form}"
    elif kind is MappingKind.LOCATION:
        company = company_number(erp_code)
        if company is not None and str(company) not in mapped_before and company not in companies:
            return f"the ERP lists no company {company}"
    elif kind is MappingKind.SEGMENT_MARKET and re.fullmatch(ERP_CODE_RULES[kind][0], erp_code):
        company, nro_segmento = (int(part) for part in erp_code.split(":"))
        if company not in companies:
            return f"the ERP lists no company {company}"
        if nro_segmento not in segments:
            return f"the ERP lists no segment {nro_segmento}"
    return None


def _code_of(row: Mapping | LocationMapping) -> str:
    return row.location_id if isinstance(row, LocationMapping) else row.shopify_code


def _unreadable(exc: csv.Error) -> str:
    """Why csv cannot read a file from a record on, in a sentence of the app's own (the page says
    it in its language: api.js FIELD_WORDS), never csv's text (Python's, in English). A NUL never
    comes here: the API refuses a body holding one (api_common.json_body, "unstorable text")."""
    problem = str(exc)
    if problem.startswith("field larger than field limit"):
        return f"unreadable CSV: a value longer than {csv.field_size_limit()} characters"
    if problem.startswith("new-line character seen in unquoted field"):
        return "unreadable CSV: a line break inside a value not in quotes"
    if problem == "unexpected end of data":  # (strict) at the file's end: the quote opened earlier
        return "unreadable CSV: a quote opened from this line on is never closed"
    if problem.endswith("expected after '\"'"):  # (strict) '"a"b'
        return "unreadable CSV: text after a value's closing quote"
    return "unreadable CSV"


def _separator(text: str) -> str:
    """The CSV's separator: ";" when its header line holds ";" and no "," (Excel in Portuguese,
    whose decimal mark is the comma), else ","."""
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


def _twice(
    kind: str, shopify_code: str, company: int | None, landed: dict[tuple[str, object], int]
) -> str | None:
    """Why a line repeats one before it that landed (`landed`: what those lines mapped -> their
    line), None when it does not. A location line: a company or a location already mapped, in
    `_location_input`'s words (None for a line whose company is no number: upsert_mapping says
    why). Another kind: a Shopify code already mapped, compared by `code_key`."""
    if kind == MappingKind.LOCATION:
        location_id = shopify_code
        if company is None:
            return None
        if ("company", company) in landed:
            return f"company {company} appears twice"
        if ("location", location_id) in landed:
            return f"location {location_id} appears twice"
        return None
    first_line = landed.get(("code", code_key(kind, shopify_code)))
    if first_line is None:
        return None
    repeated = shopify_code
    return f"“{repeated}” appears twice: line {first_line} already maps it"


def _mapped_codes(session: Session, shop_id: int, kind: str) -> set[str]:
    """Codes that count as mapped; for locations both the gid and the NROEMPRESA side."""
    if _kind(kind) is MappingKind.LOCATION:
        rows = session.execute(
            select(LocationMapping.location_id, LocationMapping.nro_empresa).where(
                LocationMapping.shop_id == shop_id
            )
        )
        return {code for location_id, nro in rows for code in (location_id, str(nro))}
    return set(
        session.scalars(select(Mapping.shopify_code).where(Mapping.shop_id == shop_id, Mapping.kind == kind))
    )


def _kind(kind: str) -> MappingKind:
    try:
        return MappingKind(kind)
    except ValueError:
        raise ValueError(f"unknown mapping kind {kind!r}") from None
