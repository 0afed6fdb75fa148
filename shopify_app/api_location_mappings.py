"""Setup: the ERP companies <-> Shopify locations table, replaced as a whole set.

One to one (a company once, a location once). Saving resumes the units parked waiting for a
newly mapped company (NROEMPRESA) or location (gid), MappingMissing kind `location`.

A location is one of the shop's (`refuse_unknown_locations`, also used by the De:Para page's
location lines): a Location gid, and one Shopify lists when it can be read now, else a 422
`unknown_location` naming each field. A line to anything else (a company number typed or
prefilled in the location field) resumed the stock flow into a location that does not exist.
When Shopify cannot be read now (down, or slower than `api_upstream.SHOPIFY_TIMEOUT`) the line is
saved on its shape alone, and the answer says so (`location_checked: false`) for the page to warn:
a person then knows the location was not found in Shopify, only that it looks like one. A line
given no name takes Shopify's name for its location when Shopify was read (else the name it had
at that location, else none).

The set is replaced whole, so a save from a page opened before another admin's save would
silently delete that admin's new lines (orders fulfilled there then post to the store link's
company): the GET answers the set's `version` (a digest of its rows), the PUT must send back the
version its page showed, and a set changed since (on this page or a location line on the De:Para
page) is a 409 `location_mappings_changed`, "reload".
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledger import mappings
from ledger.models import LocationMapping, Role
from ledger.shop_row_lock import lock_shop_row
from shopify_app import api_upstream
from shopify_app.api_common import (
    ApiError,
    app_settings,
    db,
    field_int,
    field_text,
    invalid,
    json_body,
    reject_unknown,
    write_audit,
)
from shopify_app.enqueue import resume_parked
from shopify_app.roles import require_role

bp = Blueprint("location_mappings", __name__, url_prefix="/setup")


def known_locations() -> dict[str, str | None] | None:
    """The shop's locations (gid -> name), or None when Shopify cannot be read now (`api_upstream`)."""
    return api_upstream.shop_location_names(g.shop.domain, app_settings())


def refuse_unknown_locations(fields: dict[str, str]) -> tuple[bool, dict[str, str | None]]:
    """422 `unknown_location` when a field's location (field name -> location id) is not a
    Location gid or, when Shopify can be read, not one of the shop's locations. Shopify is read
    only once every id has the shape of a location. Returns whether the ids were checked against
    the shop's locations (the answer's `location_checked`: False when Shopify could not be read,
    so they were taken on their shape alone; True with no id to check), and the shop's locations
    as read (gid -> Shopify's name; empty when not read), to name a line given no name."""
    problems = {name: p for name, code in fields.items() if (p := mappings.location_problem(code))}
    known: dict[str, str | None] | None = None
    if not problems and fields:
        known = known_locations()
        problems = {name: p for name, code in fields.items() if (p := mappings.location_problem(code, known))}
    if problems:
        raise ApiError(422, "unknown_location", "; ".join(problems.values()), fields=problems)
    return not fields or known is not None, known or {}


def _location_rows(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(LocationMapping)
        .where(LocationMapping.shop_id == g.shop.id)
        .order_by(LocationMapping.nro_empresa)
    )
    return [
        {
            "id": r.id,
            "nro_empresa": r.nro_empresa,
            "location_id": r.location_id,
            "location_name": r.location_name,
        }
        for r in rows
    ]


def set_version(rows: list[dict[str, Any]]) -> str:
    """The version of a company <-> location set (`_location_rows`): a digest of what each line
    maps and names, so any change to the set (a line added, moved, renamed or deleted, here or on
    the De:Para page) changes it, and an unchanged set keeps it."""
    lines = sorted((r["nro_empresa"], r["location_id"], r["location_name"]) for r in rows)
    return hashlib.sha256(json.dumps(lines).encode()).hexdigest()[:32]


def _location_input(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], bool, dict[str, str | None]]:
    """The version of the set the page replaces, the list of company <-> location pairs, checked
    one to one (400 names each bad item), whether the locations were checked against Shopify's,
    and Shopify's names for them (`refuse_unknown_locations`)."""
    reject_unknown(body, {"version", "mappings"})
    errors: dict[str, str] = {}
    version = field_text(body, "version", 64, errors)
    items = body.get("mappings")
    if not isinstance(items, list) or len(items) > 500:
        errors["mappings"] = "must be a list of at most 500 items"
        raise invalid(errors)
    clean: list[dict[str, Any]] = []
    companies: set[int] = set()
    locations_seen: set[str] = set()
    for index, item in enumerate(items):
        prefix = f"mappings[{index}]"
        if not isinstance(item, dict):
            errors[prefix] = "must be an object"
            continue
        extra = set(item) - {"nro_empresa", "location_id", "location_name"}
        if extra:
            errors[prefix] = f"unknown field(s): {', '.join(sorted(extra))}"
            continue
        item_errors: dict[str, str] = {}
        nro = field_int(item, "nro_empresa", item_errors)
        if not item_errors and nro > mappings.MAX_COMPANY:  # what a De:Para line and its CSV take
            item_errors["nro_empresa"] = f"must be between 1 and {mappings.MAX_COMPANY}"
        location_id = field_text(item, "location_id", 100, item_errors)
        name = item.get("location_name")
        if name is not None and (not isinstance(name, str) or len(name) > 255):
            item_errors["location_name"] = "must be text of at most 255 characters"
        if not item_errors and nro in companies:
            item_errors["nro_empresa"] = f"company {nro} appears twice"
        if not item_errors and location_id in locations_seen:
            item_errors["location_id"] = f"location {location_id} appears twice"
        errors.update({f"{prefix}.{key}": text for key, text in item_errors.items()})
        if not item_errors:
            companies.add(nro)
            locations_seen.add(location_id)
            clean.append({"nro_empresa": nro, "location_id": location_id, "location_name": name})
    if errors:
        raise invalid(errors)
    # A company the ERP does not list is never written by the stock flow (it goes by the ERP's list):
    # asked of the companies the set adds (one mapped before stays, whatever the ERP lists now).
    with db() as session:
        mapped = set(
            session.scalars(select(LocationMapping.nro_empresa).where(LocationMapping.shop_id == g.shop.id))
        )
    added = {f"mappings[{i}].nro_empresa": item["nro_empresa"] for i, item in enumerate(clean)}
    added = {key: nro for key, nro in added.items() if nro not in mapped}
    if added:
        _checked, unlisted = api_upstream.erp_unlisted(g.shop.id, app_settings(), added)
        if unlisted:
            raise invalid(unlisted)
    checked, names = refuse_unknown_locations(
        {f"mappings[{i}].location_id": item["location_id"] for i, item in enumerate(clean)}
    )
    return version, clean, checked, names


@bp.get("/location-mappings")
@require_role(Role.VIEWER)
def get_location_mappings() -> ResponseReturnValue:
    with db() as session:
        rows = _location_rows(session)
        return jsonify({"mappings": rows, "version": set_version(rows)})


@bp.put("/location-mappings")
@require_role(Role.ADMIN)
def put_location_mappings() -> ResponseReturnValue:
    """Replace the set the page showed (its `version`; 409 when it changed since): delete what is
    gone first, so a location can move to another company."""
    version, wanted, checked, names = _location_input(json_body())
    with db() as session:
        lock_shop_row(session, g.shop.id)  # two saves of the set at once: one after the other
        before = _location_rows(session)
        if set_version(before) != version:
            raise ApiError(
                409,
                "location_mappings_changed",
                "the mappings changed since you opened the page (another save, here or on the "
                "De:Para page): reload the page, then save again",
            )
        had = {(r["nro_empresa"], r["location_id"]): r["location_name"] for r in before}
        keep = {item["nro_empresa"] for item in wanted}
        session.execute(
            delete(LocationMapping)
            .where(LocationMapping.shop_id == g.shop.id, LocationMapping.nro_empresa.not_in(keep))
            .execution_options(synchronize_session="fetch")
        )
        # Free every location first: swapping two companies' locations must not collide.
        for row in session.scalars(select(LocationMapping).where(LocationMapping.shop_id == g.shop.id)):
            row.location_id = f"moving:{row.id}"
        session.flush()
        for item in wanted:
            pair = (item["nro_empresa"], item["location_id"])
            # A line given no name: Shopify's name for the location, else the one it had there.
            name = item["location_name"] or names.get(item["location_id"]) or had.get(pair)
            mappings.set_location_mapping(session, g.shop.id, *pair, name)
        after = _location_rows(session)
        strip = [{k: v for k, v in r.items() if k != "id"} for r in before]
        new = [{k: v for k, v in r.items() if k != "id"} for r in after]
        if strip != new:
            write_audit(
                session,
                "location_mappings.saved",
                "location_mappings",
                {"mappings": strip},
                {"mappings": new},
            )
        codes = [code for item in wanted for code in (item["location_id"], str(item["nro_empresa"]))]
        resumed = resume_parked(session, g.shop.id, mappings.MappingKind.LOCATION.value, codes)
        answer = {
            "mappings": after,
            "version": set_version(after),
            "resumed": resumed,
            "location_checked": checked,
        }
        return jsonify(answer)
