"""The De:Para page: mapping lines per kind, the codes seen but unmapped, CSV import/export.

Creating a line resumes every unit parked waiting for it (`ledger.trace.parked_waiting_for`
-> the flow's replay job), so a merchant who maps a new payment gateway sees the stuck orders
go through without touching them; gateway names compare case-folded, whitespace collapsed
(`ledger.mappings.code_key`), so a line typed "PIX" resumes the orders parked on Shopify's "Pix".
Location lines are a kind here but live in their own table; changing a location line's company is
a change like any other (the company it had is left with no location), a 409 only when the new
company already has another location. A location line's Shopify side must be one of the shop's
locations (422 `unknown_location`, `api_location_mappings.refuse_unknown_locations`; in the CSV a
line error); when Shopify cannot be read now the line is saved on its shape alone and the answer
says so (`location_checked: false`, true when checked; only on location answers). The unmapped
codes say which side of the line each is (`ledger.mappings.code_side`): the stock flow waits on a
company number, the ERP side, which the page fills in there.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import mappings
from ledger.mappings import MappingConflict, MappingKind, company_number
from ledger.models import LocationMapping, Mapping, Role
from ledger.shop_row_lock import lock_shop_row
from shopify_app import api_upstream
from shopify_app.api_common import (
    MAX_INT,
    ApiError,
    app_settings,
    body_limit,
    db,
    invalid,
    iso,
    json_body,
    locale,
    not_found,
    query_choice,
    reject_unknown,
    write_audit,
)
from shopify_app.api_location_mappings import known_locations, refuse_unknown_locations
from shopify_app.enqueue import resume_parked
from shopify_app.roles import require_role

bp = Blueprint("mappings", __name__, url_prefix="/mappings")

KINDS = tuple(kind.value for kind in MappingKind)
# the kinds whose ERP side is checked against what the ERP lists (ledger.mappings.unlisted_problem)
BY_ERP = (MappingKind.LOCATION, MappingKind.SEGMENT_MARKET, MappingKind.PAYMENT_METHOD)
MAX_CSV = 2_000_000
# The import's JSON body: each CSV character at most 6 bytes (a "\u0001" escape; UTF-8 takes 4).
MAX_IMPORT_BYTES = 6 * MAX_CSV + 64 * 1024


def _kind_arg() -> str:
    kind = query_choice("kind", KINDS, required=True)
    assert kind is not None
    return kind


def _row_json(row: Mapping | LocationMapping, kind: str) -> dict[str, Any]:
    if isinstance(row, LocationMapping):
        return {
            "id": row.id,
            "kind": kind,
            "shopify_code": row.location_id,
            "erp_code": str(row.nro_empresa),
            "label": row.location_name,
            "updated_at": iso(row.updated_at),
        }
    return {
        "id": row.id,
        "kind": kind,
        "shopify_code": row.shopify_code,
        "erp_code": row.erp_code,
        "label": row.label,
        "updated_at": iso(row.updated_at),
    }


def _rows(session: Session, kind: str) -> list[Mapping | LocationMapping]:
    if kind == MappingKind.LOCATION:
        return list(
            session.scalars(
                select(LocationMapping)
                .where(LocationMapping.shop_id == g.shop.id)
                .order_by(LocationMapping.location_id)
            )
        )
    return list(
        session.scalars(
            select(Mapping)
            .where(Mapping.shop_id == g.shop.id, Mapping.kind == kind)
            .order_by(Mapping.shopify_code)
        )
    )


def _code(row: Mapping | LocationMapping) -> str:
    return row.location_id if isinstance(row, LocationMapping) else row.shopify_code


def resume_codes(kind: str, shopify_code: str, erp_code: str) -> list[str]:
    """The parked codes a new line satisfies: for locations both the gid and the NROEMPRESA."""
    return [shopify_code, erp_code] if kind == MappingKind.LOCATION else [shopify_code]


@bp.get("")
@require_role(Role.VIEWER)
def list_mappings() -> ResponseReturnValue:
    kind = _kind_arg()
    with db() as session:
        return jsonify({"kind": kind, "mappings": [_row_json(r, kind) for r in _rows(session, kind)]})


def _mapping_input(body: dict[str, Any]) -> tuple[str, str, str, str | None, bool | None]:
    """kind, Shopify code, ERP code, label, and for a location line whether its location was
    checked against the shop's (None for other kinds). A location line typed with no label is
    named as Shopify names the location, when Shopify could be read."""
    reject_unknown(body, {"kind", "shopify_code", "erp_code", "label", "id", "updated_at"})
    errors: dict[str, str] = {}
    kind = body.get("kind")
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    codes: dict[str, str] = {}
    for key in ("shopify_code", "erp_code"):
        value = body.get(key)
        if not isinstance(value, str) or not value.strip():
            errors[key] = "is required"
        elif len(value) > 255:
            errors[key] = "must be at most 255 characters"
        else:
            codes[key] = value.strip()
    label = body.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > 255):
        errors["label"] = "must be text of at most 255 characters"
    if kind == MappingKind.LOCATION and "erp_code" in codes and company_number(codes["erp_code"]) is None:
        errors["erp_code"] = "the NROEMPRESA must be a number of 1 to 9 digits, not 0"
    if kind == MappingKind.LOCATION and "shopify_code" in codes and len(codes["shopify_code"]) > 100:
        errors["shopify_code"] = "a location id has at most 100 characters"
    if errors:
        raise invalid(errors)
    _refuse_unlisted(str(kind), codes["erp_code"])
    checked = None
    label = (label or "").strip() or None
    if kind == MappingKind.LOCATION:
        checked, names = refuse_unknown_locations({"shopify_code": codes["shopify_code"]})
        label = label or names.get(codes["shopify_code"])  # no label typed: Shopify's name for it
    return str(kind), codes["shopify_code"], codes["erp_code"], label, checked


def _refuse_unlisted(kind: str, erp_code: str) -> None:
    """400 for a location, segment <-> market or payment method line naming a company, segment or
    payment method (NROFORMAPAGTO) the shop's ERP does not list (ledger.mappings.unlisted_problem, as
    an import says it), unless the line is already so (a change of its Shopify side or label keeps
    it; the ERP not asked then); saved on its numbers alone when the ERP cannot be asked (as the
    store link is)."""
    if kind not in BY_ERP:
        return
    with db() as session:
        mapped = {row.erp_code for row in mappings.list_mappings(session, g.shop.id, kind)}
    company = company_number(erp_code) if kind == MappingKind.LOCATION else None
    if erp_code in mapped or str(company) in mapped:
        return
    erp_lists = api_upstream.erp_lists(g.shop.id, app_settings())
    unlisted = mappings.unlisted_problem(MappingKind(kind), erp_code, erp_lists, mapped)
    if unlisted:
        raise invalid({"erp_code": unlisted})


@bp.put("")
@require_role(Role.ADMIN)
def upsert_mapping() -> ResponseReturnValue:
    body = json_body()
    edited, seen_at = _edited(body)
    kind, shopify_code, erp_code, label, checked = _mapping_input(body)
    with db() as session:
        lock_shop_row(session, g.shop.id)  # a second save at once waits, then changes this one's row
        rows = _rows(session, kind)
        same = mappings.code_key(kind, shopify_code)  # "PIX" saved over "Pix" changes that line
        previous = next((_row_json(r, kind) for r in rows if mappings.code_key(kind, _code(r)) == same), None)
        if edited is not None:
            previous = _edit_of(session, kind, rows, edited, seen_at, shopify_code, previous)
        if kind == MappingKind.LOCATION and previous is None:  # the company moves from another location
            company = str(mappings.company_number(erp_code))
            previous = next(
                (_row_json(r, kind) for r in rows if _row_json(r, kind)["erp_code"] == company), None
            )
        try:
            row, created = mappings.upsert_mapping(session, g.shop.id, kind, shopify_code, erp_code, label)
        except MappingConflict as exc:
            raise ApiError(409, "mapping_conflict", str(exc)) from exc
        except mappings.ShopifyCodeError as exc:
            raise invalid({"shopify_code": str(exc)}) from exc
        except ValueError as exc:
            raise invalid({"erp_code": str(exc)}) from exc
        after = _row_json(row, kind)
        keep = ("shopify_code", "erp_code", "label")
        write_audit(
            session,
            "mapping.created" if created and previous is None else "mapping.changed",
            f"mapping:{kind}:{shopify_code}",
            None if previous is None else {key: previous[key] for key in keep},
            {key: after[key] for key in keep},
        )
        # The codes as saved ("005" is company 5, which is what parked units wait for).
        codes = resume_codes(kind, shopify_code, after["erp_code"])
        resumed = resume_parked(session, g.shop.id, kind, codes)
        answer: dict[str, Any] = {"mapping": after, "created": created, "resumed": resumed}
        if checked is not None:
            answer["location_checked"] = checked
        return jsonify(answer)


def _edited(body: dict[str, Any]) -> tuple[int | None, str | None]:
    """The line a save edits (its `id`, and its `updated_at` as the page showed it: the page's
    Edit sends both), or (None, None) for a line saved by its Shopify code."""
    edited, seen_at = body.get("id"), body.get("updated_at")
    errors: dict[str, str] = {}
    if edited is not None and (type(edited) is not int or not 1 <= edited <= MAX_INT):
        errors["id"] = f"must be an integer between 1 and {MAX_INT}"
    if seen_at is not None and not isinstance(seen_at, str):
        errors["updated_at"] = "must be a string"
    elif seen_at is not None and len(seen_at) > 64:
        errors["updated_at"] = "must be at most 64 characters"
    if seen_at is not None and edited is None:
        errors["id"] = "is required"  # (with updated_at: the line it was listed for)
    if errors:
        raise invalid(errors)
    return edited, seen_at


def _edit_of(
    session: Any,
    kind: str,
    rows: list[Mapping | LocationMapping],
    edited: int,
    seen_at: str | None,
    shopify_code: str,
    same_code: dict[str, Any] | None,
) -> dict[str, Any]:
    """The line an Edit saves, as it is stored: 409 when it was deleted or saved by someone else
    since the page showed it (a save from an older page silently put back the ERP code another
    admin had just corrected). Its Shopify code edited: the line is renamed (the old code's line
    goes), unless another line holds the new code (409: edit that one)."""
    shown = next((_row_json(r, kind) for r in rows if r.id == edited), None)
    if shown is None or (seen_at is not None and shown["updated_at"] != seen_at):
        raise ApiError(
            409,
            "changed_meanwhile",
            "this line was changed or deleted since the page showed it: reload the page to see what is "
            "stored, then save again if needed",
        )
    if mappings.code_key(kind, shown["shopify_code"]) == mappings.code_key(kind, shopify_code):
        return shown
    if same_code is not None:
        taken = f"{shopify_code!r} has a line of its own: edit that one, or delete it first"
        raise ApiError(409, "mapping_conflict", taken)
    mappings.delete_mapping(session, g.shop.id, kind, shown["shopify_code"])
    return shown


@bp.delete("/<int:mapping_id>")
@require_role(Role.ADMIN)
def delete_mapping(mapping_id: int) -> ResponseReturnValue:
    kind = _kind_arg()
    model = LocationMapping if kind == MappingKind.LOCATION else Mapping
    with db() as session:
        row = session.get(model, mapping_id) if mapping_id <= MAX_INT else None
        if row is None or row.shop_id != g.shop.id or (isinstance(row, Mapping) and row.kind != kind):
            raise not_found("mapping")
        before = _row_json(row, kind)
        session.delete(row)
        session.flush()
        write_audit(
            session,
            "mapping.deleted",
            f"mapping:{kind}:{before['shopify_code']}",  # (cut past the column: the code is below)
            {key: before[key] for key in ("shopify_code", "erp_code", "label")},
            None,
        )
    return Response(status=204)


@bp.get("/unmapped")
@require_role(Role.VIEWER)
def unmapped() -> ResponseReturnValue:
    kind = _kind_arg()
    with db() as session:
        codes = mappings.unmapped_codes_seen(session, g.shop.id, kind)
    return jsonify(
        {
            "kind": kind,
            "codes": [
                {"code": code, "waiting": n, "side": mappings.code_side(kind, code)} for code, n in codes
            ],
        }
    )


@bp.get("/export.csv")
@require_role(Role.VIEWER)
def export_csv() -> ResponseReturnValue:
    kind = _kind_arg()
    # In the page's language's separator: Excel in Portuguese (whose decimal mark is the comma)
    # splits a CSV's lines into columns at ";" and leaves a comma-separated line whole in column A.
    separator = ";" if locale() == "pt-BR" else ","
    with db() as session:
        text = mappings.export_csv(session, g.shop.id, kind, separator)
    # With the UTF-8 byte order mark: Excel opens a CSV without one in the machine's code page
    # ("Cartão" shown "CartÃ£o"); the import takes it off again.
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="de-para-{kind}.csv"'},
    )


@bp.post("/import")
@body_limit(MAX_IMPORT_BYTES)
@require_role(Role.ADMIN)
def import_csv() -> ResponseReturnValue:
    """Upsert the good lines, report the bad ones, and resume what the new lines unblocked."""
    body = json_body()
    reject_unknown(body, {"kind", "csv"})
    errors: dict[str, str] = {}
    kind, text = body.get("kind"), body.get("csv")
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    if not isinstance(text, str):
        errors["csv"] = "must be the CSV text"
    elif len(text) > MAX_CSV:
        errors["csv"] = f"must be at most {MAX_CSV} characters"
    if errors:
        raise invalid(errors)
    assert isinstance(kind, str) and isinstance(text, str)
    # Read from Shopify before the transaction opens: no database lock waits on an outside call.
    known = known_locations() if kind == MappingKind.LOCATION else None
    # what the ERP lists, asked as a single line asks it (a company it does not list never synced)
    listed = api_upstream.erp_lists(g.shop.id, app_settings()) if kind in BY_ERP else None
    with db() as session:
        lock_shop_row(session, g.shop.id)  # an import and a save of the same line at once
        waiting = [code for code, _ in mappings.unmapped_codes_seen(session, g.shop.id, kind)]
        result = mappings.import_csv(session, g.shop.id, kind, text, known, listed)
        still = {code for code, _ in mappings.unmapped_codes_seen(session, g.shop.id, kind)}
        if result.created or result.updated:
            counts = {"created": result.created, "updated": result.updated, "errors": len(result.errors)}
            # a line's label or Shopify spelling changed: before and after, as a single save audits it
            relabelled = {
                code: {"label": [was[0], now[0]], "shopify_code": [was[1], now[1]]}
                for code, (was, now) in result.relabelled.items()
            }
            write_audit(
                session,
                "mapping.imported",
                f"mapping:{kind}",
                {code: was for code, (was, _) in result.changed.items()},
                {
                    **counts,
                    "lines": {code: now for code, (_, now) in result.changed.items()},
                    **({"relabelled": relabelled} if relabelled else {}),
                },
            )
        resumed = resume_parked(session, g.shop.id, kind, [code for code in waiting if code not in still])
    answer: dict[str, Any] = {
        "created": result.created,
        "updated": result.updated,
        "resumed": resumed,
        "errors": [{"line": line, "message": message} for line, message in result.errors],
    }
    if kind == MappingKind.LOCATION:
        answer["location_checked"] = known is not None
    return jsonify(answer)
