"""De:Para: upsert resumes parked units, unmapped codes first, delete, CSV round trip, isolation."""

from __future__ import annotations

import json

import pytest
from spine_auth.factories import SHOP_B
from sqlalchemy import select

from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import AuditEvent, Role

from .conftest import headers, queued, save_location_set


def test_creating_a_mapping_resumes_the_units_parked_for_it(client, shops, message, rq):
    first = message(shops.a, "orders", "order-1", error=MappingMissing("payment_method", "pix"))
    second = message(shops.a, "orders", "order-2", error=MappingMissing("payment_method", "pix"))
    other = message(shops.a, "orders", "order-3", error=MappingMissing("payment_method", "boleto"))
    message(shops.b, "orders", "order-1", error=MappingMissing("payment_method", "pix"))
    unmapped = client.get(
        "/api/mappings/unmapped?kind=payment_method", headers=headers(Role.VIEWER)
    ).get_json()
    assert unmapped["codes"] == [
        {"code": "pix", "waiting": 2, "side": "shopify"},
        {"code": "boleto", "waiting": 1, "side": "shopify"},
    ]

    body = {"kind": "payment_method", "shopify_code": "pix", "erp_code": "12", "label": "PIX"}
    created = client.put("/api/mappings", json=body, headers=headers())
    assert created.status_code == 200
    assert created.get_json()["created"] is True and created.get_json()["resumed"] == 2
    jobs = queued(rq, "orders")
    assert sorted(jobs) == sorted([("jobs.orders.replay", (first,)), ("jobs.orders.replay", (second,))])
    assert ("jobs.orders.replay", (other,)) not in jobs
    after = client.get("/api/mappings/unmapped?kind=payment_method", headers=headers()).get_json()
    assert after["codes"] == [{"code": "boleto", "waiting": 1, "side": "shopify"}]
    # Shop B still waits: its own De:Para is untouched.
    assert (
        client.get("/api/mappings?kind=payment_method", headers=headers(shop=SHOP_B)).get_json()["mappings"]
        == []
    )


def test_upsert_changes_then_delete_with_audit(client, settings, shops):
    body = {"kind": "carrier", "shopify_code": "Correios PAC", "erp_code": "5"}
    row = client.put("/api/mappings", json=body, headers=headers()).get_json()["mapping"]
    changed = client.put("/api/mappings", json={**body, "erp_code": "6"}, headers=headers()).get_json()
    assert changed["created"] is False and changed["mapping"]["erp_code"] == "6"
    assert (
        client.delete(f"/api/mappings/{row['id']}?kind=carrier", headers=headers(shop=SHOP_B)).status_code
        == 404
    )
    assert (
        client.delete(f"/api/mappings/{row['id']}?kind=payment_method", headers=headers()).status_code == 404
    )
    assert client.delete(f"/api/mappings/{row['id']}?kind=carrier", headers=headers()).status_code == 204
    assert client.get("/api/mappings?kind=carrier", headers=headers()).get_json()["mappings"] == []
    with session_scope(settings.database_url) as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.shop_id == shops.a).order_by(AuditEvent.id)
            )
        )
    assert actions[-3:] == ["mapping.created", "mapping.changed", "mapping.deleted"]


def test_bad_mapping_input_names_the_fields(client):
    response = client.put(
        "/api/mappings", json={"kind": "location", "shopify_code": "", "erp_code": "x"}, headers=headers()
    )
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"shopify_code", "erp_code"}
    assert client.get("/api/mappings?kind=nope", headers=headers()).status_code == 400


def test_a_name_that_composes_past_255_characters_is_refused_by_its_field_or_its_line(client, shops):
    """A payment method's name is stored composed (NFC), as Shopify writes names: 200 characters
    typed that compose to two each (U+0958) overflowed the column, a 500, and the CSV import lost
    its good lines with it."""
    long_name = "\u0958" * 200
    put = client.put(
        "/api/mappings",
        json={"kind": "payment_method", "shopify_code": long_name, "erp_code": "1"},
        headers=headers(Role.ADMIN),
    )
    assert put.status_code == 400
    assert put.get_json()["error"]["fields"] == {
        "shopify_code": "must be at most 255 characters once composed (NFC), got 400"
    }
    csv = f"shopify_code,erp_code,label\nPix,1,\n{long_name},2,\n"
    imported = client.post(
        "/api/mappings/import", json={"kind": "payment_method", "csv": csv}, headers=headers(Role.ADMIN)
    )
    assert imported.status_code == 200
    body = imported.get_json()
    assert body["created"] == 1 and len(body["errors"]) == 1 and "once composed" in json.dumps(body["errors"])


def test_csv_round_trip_with_line_numbered_errors(client, shops, message, rq):
    parked = message(shops.a, "orders", "order-9", error=MappingMissing("carrier", "Loggi"))
    text = (
        "shopify_code,erp_code,label\nLoggi,7,Loggi Express\nCorreios,8,\n,9,sem codigo\n"
        + "x" * 300
        + ",1,\n"
    )
    result = client.post(
        "/api/mappings/import", json={"kind": "carrier", "csv": text}, headers=headers()
    ).get_json()
    assert (result["created"], result["updated"], result["resumed"]) == (2, 0, 1)
    assert [e["line"] for e in result["errors"]] == [4, 5]
    assert ("jobs.orders.replay", (parked,)) in queued(rq, "orders")
    exported = client.get("/api/mappings/export.csv?kind=carrier", headers=headers(Role.VIEWER))
    assert exported.mimetype == "text/csv"
    assert (
        exported.get_data(as_text=True)
        == "\ufeffshopify_code;erp_code;label\nCorreios;8;\nLoggi;7;Loggi Express\n"
    )
    again = client.post(
        "/api/mappings/import",
        json={"kind": "carrier", "csv": exported.get_data(as_text=True)},
        headers=headers(),
    ).get_json()
    assert (again["created"], again["updated"], again["errors"]) == (0, 2, [])
    missing = client.post(
        "/api/mappings/import", json={"kind": "carrier", "csv": "a,b\n1,2\n"}, headers=headers()
    )
    assert missing.get_json()["errors"][0]["line"] == 1
    assert (
        client.get("/api/mappings/export.csv?kind=carrier", headers=headers(shop=SHOP_B)).get_data(
            as_text=True
        )
        == "\ufeffshopify_code;erp_code;label\n"
    )


def test_location_kind_resumes_by_company_or_location(client, shops, message, rq):
    by_company = message(shops.a, "stock", "s-1", error=MappingMissing("location", "3"))
    by_location = message(
        shops.a, "orders", "o-1", error=MappingMissing("location", "gid://shopify/Location/9")
    )
    body = {"kind": "location", "shopify_code": "gid://shopify/Location/9", "erp_code": "3"}
    assert client.put("/api/mappings", json=body, headers=headers()).get_json()["resumed"] == 2
    assert ("jobs.stock.replay", (by_company,)) in queued(rq, "catalog")
    assert ("jobs.orders.replay", (by_location,)) in queued(rq, "orders")


def test_erp_codes_the_flows_cannot_read_are_refused_in_the_form_and_the_csv(client, shops):
    """A payment method is a NROFORMAPAGTO number, a market's pair '<empresa>:<segmento>': other
    text (a Unicode digit included) is a 400 naming erp_code, or a line error in the CSV, instead
    of a mapping every order is then rejected on, or a price pass that fails on it."""
    bad = [("payment_method", "pix", "PIX"), ("payment_method", "pix", "²"),
           ("segment_market", "gid://shopify/Market/1", "loja 1"),
           ("segment_market", "gid://shopify/Market/1", "²:1")]  # fmt: skip
    for kind, shopify_code, erp_code in bad:
        body = {"kind": kind, "shopify_code": shopify_code, "erp_code": erp_code}
        reply = client.put("/api/mappings", json=body, headers=headers())
        assert reply.status_code == 400 and "erp_code" in reply.get_json()["error"]["fields"], erp_code
    csv_text = "shopify_code,erp_code,label\npix,PIX,Pix\ncartao,3,Cartão\n"
    imported = client.post(
        "/api/mappings/import", json={"kind": "payment_method", "csv": csv_text}, headers=headers()
    ).get_json()
    assert imported["created"] == 1 and [e["line"] for e in imported["errors"]] == [2]
    good = {"kind": "segment_market", "shopify_code": "gid://shopify/Market/1", "erp_code": "2:3"}
    assert client.put("/api/mappings", json=good, headers=headers()).status_code == 200


def test_text_and_numbers_no_column_can_hold_are_bad_input_not_a_500(client):
    """A company number beyond the column (int4), a Unicode digit, and half a UTF-16 pair: each a
    400 naming what is wrong, in a mapping, a CSV import, and any JSON body."""
    for code in ("99999999999", "²"):
        body = {"kind": "location", "shopify_code": "gid://shopify/Location/1", "erp_code": code}
        reply = client.put("/api/mappings", json=body, headers=headers())
        assert reply.status_code == 400 and "erp_code" in reply.get_json()["error"]["fields"], code
    csv_text = "shopify_code,erp_code,label\ngid://shopify/Location/1,99999999999,Loja\n"
    imported = client.post(
        "/api/mappings/import", json={"kind": "location", "csv": csv_text}, headers=headers()
    ).get_json()
    assert imported["created"] == 0 and [e["line"] for e in imported["errors"]] == [2]
    assert "99999999999" in imported["errors"][0]["message"]
    surrogate = client.put(
        "/api/mappings",
        data='{"kind": "carrier", "shopify_code": "\\ud800", "erp_code": "1"}',
        headers={**headers(), "Content-Type": "application/json"},
    )
    assert surrogate.status_code == 400 and surrogate.get_json()["error"]["fields"] == {
        "body": "unstorable text"
    }


def _last_audit(settings, shop_id):
    with session_scope(settings.database_url) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.shop_id == shop_id).order_by(AuditEvent.id.desc()).limit(1)
        ).one()
        return event.action, event.before, event.after


def test_a_company_typed_with_leading_zeros_resumes_what_waits_for_it(client, shops, message, rq):
    parked = message(shops.a, "orders", "order-7", error=MappingMissing("location", "5"))
    body = {"kind": "location", "shopify_code": "gid://shopify/Location/9", "erp_code": "005"}
    saved = client.put("/api/mappings", json=body, headers=headers()).get_json()
    assert saved["mapping"]["erp_code"] == "5" and saved["resumed"] == 1
    assert ("jobs.orders.replay", (parked,)) in queued(rq, "orders")


def test_a_location_line_to_company_0_is_refused(client, shops):
    """No ERP company is 0; saved, the Setup page's location set (which refuses it) could not be saved."""
    for zero in ("0", "000", "000000000"):
        body = {"kind": "location", "shopify_code": "gid://shopify/Location/1", "erp_code": zero}
        refused = client.put("/api/mappings", json=body, headers=headers())
        assert refused.status_code == 400 and "not 0" in refused.get_json()["error"]["fields"]["erp_code"], (
            zero
        )


def test_mapping_changes_are_audited_with_what_they_replaced(client, settings, shops):
    """A company moved to another location names the location it left; a CSV import names every
    line it changed, before and after."""
    location = {"kind": "location", "shopify_code": "gid://shopify/Location/1", "erp_code": "5"}
    client.put("/api/mappings", json=location, headers=headers())
    moved = client.put(
        "/api/mappings", json={**location, "shopify_code": "gid://shopify/Location/2"}, headers=headers()
    )
    assert moved.status_code == 200
    action, before, after = _last_audit(settings, shops.a)
    assert action == "mapping.changed"
    assert before["shopify_code"] == "gid://shopify/Location/1" and before["erp_code"] == "5"
    assert after["shopify_code"] == "gid://shopify/Location/2"

    client.put("/api/mappings", json={"kind": "payment_method", "shopify_code": "pix", "erp_code": "1"},
               headers=headers())  # fmt: skip
    csv_text = "shopify_code,erp_code,label\npix,99,\ncartao,3,\nboleto,abc,\n"
    reply = client.post("/api/mappings/import", json={"kind": "payment_method", "csv": csv_text},
                        headers=headers())  # fmt: skip
    assert reply.get_json()["updated"] == 1 and reply.get_json()["created"] == 1
    action, before, after = _last_audit(settings, shops.a)
    assert action == "mapping.imported"
    assert before == {"pix": "1", "cartao": None}
    assert after["lines"] == {"pix": "99", "cartao": "3"} and after["errors"] == 1


def test_changing_the_company_of_a_location_line_is_a_change_not_a_conflict(
    client, settings, shops, message, rq
):
    """A location line (gid -> company 5) edited to company 6, which no location has: one to one
    still holds, so the line changes like any other kind's, audited before and after, and what
    waits for company 6 resumes (the stock flow's pass finds company 6 new at the location and
    writes every level there, company 5 has none now). Company 6 already at another location
    is still a conflict that names both lines."""
    parked = message(shops.a, "stock", "stock:6:location", error=MappingMissing("location", "6"))
    line = {"kind": "location", "shopify_code": "gid://shopify/Location/1", "erp_code": "5"}
    assert client.put("/api/mappings", json=line, headers=headers()).status_code == 200

    changed = client.put("/api/mappings", json={**line, "erp_code": "6"}, headers=headers())
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["created"] is False and changed.get_json()["mapping"]["erp_code"] == "6"
    assert changed.get_json()["resumed"] == 1 and ("jobs.stock.replay", (parked,)) in queued(rq, "catalog")
    action, before, after = _last_audit(settings, shops.a)
    assert action == "mapping.changed" and (before["erp_code"], after["erp_code"]) == ("5", "6")
    listed = client.get("/api/mappings?kind=location", headers=headers()).get_json()["mappings"]
    assert [(m["shopify_code"], m["erp_code"]) for m in listed] == [("gid://shopify/Location/1", "6")]

    other = {"kind": "location", "shopify_code": "gid://shopify/Location/2", "erp_code": "7"}
    client.put("/api/mappings", json=other, headers=headers())
    conflict = client.put("/api/mappings", json={**line, "erp_code": "7"}, headers=headers())
    assert conflict.status_code == 409
    text = conflict.get_json()["error"]["message"]
    assert "gid://shopify/Location/1" in text and "company 6" in text and "gid://shopify/Location/2" in text


def test_an_edited_location_csv_reimports_without_errors(client, settings, shops):
    """Export the location De:Para, change a line's company to one with no location, import it
    back: the line changes, and the import's audit names it before and after."""
    line = {"kind": "location", "shopify_code": "gid://shopify/Location/1", "erp_code": "5"}
    client.put("/api/mappings", json=line, headers=headers())
    exported = client.get("/api/mappings/export.csv?kind=location", headers=headers()).get_data(as_text=True)
    edited = exported.replace("gid://shopify/Location/1;5;", "gid://shopify/Location/1;6;")
    assert edited != exported
    reply = client.post("/api/mappings/import", json={"kind": "location", "csv": edited}, headers=headers())
    assert reply.get_json()["errors"] == [] and reply.get_json()["updated"] == 1, reply.get_json()
    action, before, after = _last_audit(settings, shops.a)
    assert action == "mapping.imported"
    assert before == {"gid://shopify/Location/1": "5"} and after["lines"] == {"gid://shopify/Location/1": "6"}


def test_a_location_csv_line_moving_a_company_audits_the_line_it_removed(client, settings, shops):
    """`L2,5` while company 5 is at L1: the company's row moves, so L1's line is gone. The import's
    audit names both locations before and after, as the single-line PUT names the one it left."""
    l1, l2 = "gid://shopify/Location/1", "gid://shopify/Location/2"
    client.put(
        "/api/mappings", json={"kind": "location", "shopify_code": l1, "erp_code": "5"}, headers=headers()
    )
    csv_text = f"shopify_code,erp_code,label\n{l2},5,\n"
    reply = client.post("/api/mappings/import", json={"kind": "location", "csv": csv_text}, headers=headers())
    assert reply.get_json()["errors"] == [], reply.get_json()
    listed = client.get("/api/mappings?kind=location", headers=headers()).get_json()["mappings"]
    assert [(m["shopify_code"], m["erp_code"]) for m in listed] == [(l2, "5")]
    action, before, after = _last_audit(settings, shops.a)
    assert action == "mapping.imported"
    assert before == {l1: "5", l2: None} and after["lines"] == {l1: None, l2: "5"}


def test_a_location_csv_naming_a_location_or_a_company_twice_reports_the_repeated_line(client, shops):
    """The setup page refuses two companies on one location (or one company at two); the import
    says so on the repeated line, in the same words, instead of letting the last line win. The
    other lines still land, as with any bad line of an import."""
    l1, l2, l3 = (f"gid://shopify/Location/{n}" for n in (1, 2, 3))
    twice = [{"nro_empresa": 5, "location_id": l1}, {"nro_empresa": 6, "location_id": l1}]
    refused = save_location_set(client, twice)
    assert refused.status_code == 400
    assert f"location {l1} appears twice" in refused.get_json()["error"]["fields"].values()

    csv_text = f"shopify_code,erp_code,label\n{l1},5,\n{l1},6,\n{l2},005,\n{l3},7,\n"
    reply = client.post("/api/mappings/import", json={"kind": "location", "csv": csv_text}, headers=headers())
    answer = reply.get_json()
    assert answer["errors"] == [
        {"line": 3, "message": f"location {l1} appears twice"},
        {"line": 4, "message": "company 5 appears twice"},
    ]
    assert (answer["created"], answer["updated"]) == (2, 0)
    listed = client.get("/api/mappings?kind=location", headers=headers()).get_json()["mappings"]
    assert [(m["shopify_code"], m["erp_code"]) for m in listed] == [(l1, "5"), (l3, "7")]


@pytest.mark.parametrize(
    ("bad", "line", "message"),
    [
        ("y" * 131_073 + ",2,\n", 4, "unreadable CSV: a value longer than 131072 characters"),
        ("y,2\r,\n", 4, "unreadable CSV: a line break inside a value not in quotes"),
        ('"y,2,\nz,3,\n', 4, "unreadable CSV: a quote opened from this line on is never closed"),
        ('"y"z,2,\n', 4, "unreadable CSV: text after a value's closing quote"),
    ],
)
def test_a_csv_the_csv_module_cannot_read_names_its_line_and_why_in_words(client, shops, bad, line, message):
    """A file csv cannot read from a line on: the lines before it land; the error names the line
    where reading stopped (the bad record's, not the last good one's) and why, in a sentence the
    page says in its language (api.js FIELD_WORDS), never Python's own csv text."""
    text = "shopify_code,erp_code,label\nLoggi,7,\n\n" + bad + "Correios,8,\n"
    result = client.post(
        "/api/mappings/import", json={"kind": "carrier", "csv": text}, headers=headers()
    ).get_json()
    assert result["errors"] == [{"line": line, "message": message}]
    assert result["created"] == 1


def test_a_csv_whose_header_cannot_be_read_says_so_on_line_1(client, shops):
    text = 'shopify_code,erp_code,"label\nLoggi,7,\n'
    result = client.post(
        "/api/mappings/import", json={"kind": "carrier", "csv": text}, headers=headers()
    ).get_json()
    assert result["errors"] == [
        {"line": 1, "message": "unreadable CSV: a quote opened from this line on is never closed"}
    ]


@pytest.mark.parametrize(
    ("kind", "first", "again"), [("payment_method", "Pix", "PIX "), ("carrier", "Sedex", " sedex")]
)
def test_a_csv_naming_a_gateway_or_a_carrier_twice_reports_the_repeated_line(
    client, settings, shops, kind, first, again
):
    """A spreadsheet holding "Pix" twice (or "Pix" and "PIX ", the same gateway by `code_key`) with
    two ERP codes: the last line won with no error, and the audit listed two created lines. As for
    a location named twice, the repeated line is refused in words naming the line it repeats; the
    first line and the other lines land."""
    text = f"shopify_code,erp_code,label\n{first},1,um\n{again},7,sete\nOutro,2,\n"
    answer = client.post(
        "/api/mappings/import", json={"kind": kind, "csv": text}, headers=headers()
    ).get_json()
    assert answer["errors"] == [
        {"line": 3, "message": f"“{again.strip()}” appears twice: line 2 already maps it"}
    ]
    assert (answer["created"], answer["updated"]) == (2, 0)
    listed = client.get(f"/api/mappings?kind={kind}", headers=headers()).get_json()["mappings"]
    assert sorted((m["shopify_code"], m["erp_code"]) for m in listed) == [("Outro", "2"), (first, "1")]
    action, _, after = _last_audit(settings, shops.a)
    assert action == "mapping.imported" and after["lines"] == {first: "1", "Outro": "2"}
    assert (after["created"], after["errors"]) == (2, 1)


def test_a_company_moved_to_another_location_on_the_de_para_page_drops_the_old_locations_name(
    client, settings, shops
):
    """Company 1 at L1 "Loja Centro", its De:Para line changed to L2 with the (optional) label left
    empty: the row kept "Loja Centro" as L2's name, and the refusals that name where an order ships
    from and the Setup page named the wrong store. Shopify cannot be read here: no name is known."""
    from ledger.models import LocationMapping

    l1, l2 = "gid://shopify/Location/101", "gid://shopify/Location/102"
    first = [{"nro_empresa": 1, "location_id": l1, "location_name": "Loja Centro"}]
    assert save_location_set(client, first).status_code == 200
    moved = client.put(
        "/api/mappings", json={"kind": "location", "shopify_code": l2, "erp_code": "1"}, headers=headers()
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["mapping"]["label"] is None
    with session_scope(settings.database_url) as session:
        row = session.scalars(select(LocationMapping).where(LocationMapping.nro_empresa == 1)).one()
        assert (row.location_id, row.location_name) == (l2, None)
    # The same location saved again without a label keeps its name.
    assert (
        save_location_set(
            client, [{"nro_empresa": 1, "location_id": l2, "location_name": "Loja Sul"}]
        ).status_code
        == 200
    )
    again = client.put(
        "/api/mappings", json={"kind": "location", "shopify_code": l2, "erp_code": "1"}, headers=headers()
    )
    assert again.get_json()["mapping"]["label"] == "Loja Sul"


def test_a_csv_saved_in_windows_1252_is_refused_line_by_line_not_imported_as_replacement_characters(
    client, settings, shops
):
    """Excel (pt-BR) saves "CSV" in Windows-1252; read as UTF-8, "Cartão de crédito" arrives as
    "Cart\ufffdo de cr\ufffddito" and was imported so, the orders parked on Shopify's "Cartão de
    crédito" left parked beside a line that looks like theirs. (The page now decodes such a file
    itself, mappings.js; a file read wrong anyway is refused on its line, in words.)"""
    raw = "shopify_code,erp_code,label\nCartão de crédito,3,\nPix,1,Pix à vista\n".encode("cp1252")
    as_read = raw.decode("utf-8", errors="replace")
    answer = client.post(
        "/api/mappings/import", json={"kind": "payment_method", "csv": as_read}, headers=headers()
    ).get_json()
    message = "a value holds “\ufffd”: the file is not UTF-8; save it as CSV UTF-8 and import it again"
    assert answer["errors"] == [{"line": 2, "message": message}, {"line": 3, "message": message}]
    assert answer["created"] == 0
    # The same file decoded right lands (the page's windows-1252 fallback).
    decoded = raw.decode("cp1252")
    answer = client.post(
        "/api/mappings/import", json={"kind": "payment_method", "csv": decoded}, headers=headers()
    ).get_json()
    assert (answer["created"], answer["errors"]) == (2, [])


def test_a_csv_saved_by_excel_pt_br_with_semicolons_is_read(client, settings, shops):
    """Excel in Portuguese separates values with ";" (the comma is the decimal mark): the header
    "shopify_code;erp_code;label" was one unknown column, and the import answered "missing
    column(s)" on line 1. A header holding ";" and no "," is read with ";"; a value may then hold
    commas."""
    text = "\ufeffshopify_code;erp_code;label\nCartão de crédito;3;Crédito, à vista\nPix;1;\n"
    answer = client.post(
        "/api/mappings/import", json={"kind": "payment_method", "csv": text}, headers=headers()
    ).get_json()
    assert (answer["created"], answer["errors"]) == (2, []), answer
    listed = client.get("/api/mappings?kind=payment_method", headers=headers()).get_json()["mappings"]
    assert [(m["shopify_code"], m["erp_code"], m["label"]) for m in listed] == [
        ("Cartão de crédito", "3", "Crédito, à vista"),
        ("Pix", "1", None),
    ]


def test_the_export_is_separated_as_the_pages_language_splits_it_into_columns(client, settings, shops):
    """Excel in Portuguese (the comma is its decimal mark) splits a CSV's lines at ";" and leaves a
    comma-separated line whole in column A: a pt-BR page exports with ";", an English one with ",".
    Both files import back unchanged (the import reads the separator off the header)."""
    for line in (
        {"kind": "carrier", "shopify_code": "Sedex 10, expresso", "erp_code": "21", "label": "Correios; 10h"},
        {"kind": "carrier", "shopify_code": "Retira na loja", "erp_code": "30"},
    ):
        assert client.put("/api/mappings", json=line, headers=headers()).status_code == 200
    english = client.get(
        "/api/mappings/export.csv?kind=carrier", headers=headers(**{"Accept-Language": "en"})
    )
    portuguese = client.get(
        "/api/mappings/export.csv?kind=carrier", headers=headers(**{"Accept-Language": "pt-BR"})
    )
    assert english.get_data(as_text=True) == (
        '\ufeffshopify_code,erp_code,label\nRetira na loja,30,\n"Sedex 10, expresso",21,Correios; 10h\n'
    )
    assert portuguese.get_data(as_text=True) == (
        '\ufeffshopify_code;erp_code;label\nRetira na loja;30;\nSedex 10, expresso;21;"Correios; 10h"\n'
    )
    for exported in (english, portuguese):
        body = {"kind": "carrier", "csv": exported.get_data(as_text=True)}
        again = client.post("/api/mappings/import", json=body, headers=headers()).get_json()
        assert (again["created"], again["updated"], again["errors"]) == (0, 2, [])
    listed = client.get("/api/mappings?kind=carrier", headers=headers()).get_json()["mappings"]
    assert sorted((m["shopify_code"], m["erp_code"], m["label"]) for m in listed) == [
        ("Retira na loja", "30", None),
        ("Sedex 10, expresso", "21", "Correios; 10h"),
    ]


def test_the_export_starts_with_a_bom_so_excel_reads_it_as_utf_8(client, settings, shops):
    """Excel opens a CSV without a byte order mark in the machine's code page: "Cartão" showed as
    "CartÃ£o". The export starts with the UTF-8 BOM, which the import takes off again."""
    line = {"kind": "payment_method", "shopify_code": "Cartão de crédito", "erp_code": "3"}
    assert client.put("/api/mappings", json=line, headers=headers()).status_code == 200
    exported = client.get("/api/mappings/export.csv?kind=payment_method", headers=headers())
    assert exported.get_data().startswith(b"\xef\xbb\xbfshopify_code;erp_code;label\n")
    assert exported.get_data().decode("utf-8-sig") == "shopify_code;erp_code;label\nCartão de crédito;3;\n"
    assert "charset=utf-8" in exported.headers["Content-Type"]
    again = client.post(
        "/api/mappings/import",
        json={"kind": "payment_method", "csv": exported.get_data(as_text=True)},
        headers=headers(),
    ).get_json()
    assert (again["updated"], again["errors"]) == (1, [])


@pytest.mark.parametrize(
    ("kind", "shopify_name", "typed", "words"),
    [
        ("card_brand", "Visa", "VISA", "the ERP card brand (codBandeira) must be a number"),
        (
            "card_network",
            "Cartão de crédito",
            " CARTÃO  DE CRÉDITO",
            "the ERP card network (codRede) must be a number",
        ),
    ],
)
def test_card_brands_and_networks_save_list_and_round_trip_as_numbers(
    client, settings, shops, message, rq, kind, shopify_name, typed, words
):
    """The card payment call's codBandeira (from Shopify's card brand) and codRede (from the
    gateway): a line typed "VISA" is Shopify's "Visa" and resumes what waits for it, a code that is
    no number is refused in words naming the ERP field, and the CSV exports and imports them."""
    parked = message(shops.a, "orders", "order-1", error=MappingMissing(kind, shopify_name))
    unmapped = client.get(f"/api/mappings/unmapped?kind={kind}", headers=headers(Role.VIEWER)).get_json()
    assert unmapped["codes"] == [{"code": shopify_name, "waiting": 1, "side": "shopify"}]

    line = {"kind": kind, "shopify_code": typed, "erp_code": "Cielo"}
    refused = client.put("/api/mappings", json=line, headers=headers())
    assert refused.status_code == 400
    assert refused.get_json()["error"]["fields"] == {"erp_code": f"{words}, got 'Cielo'"}

    saved = client.put("/api/mappings", json={**line, "erp_code": "12"}, headers=headers()).get_json()
    assert (saved["created"], saved["resumed"]) == (True, 1)
    assert ("jobs.orders.replay", (parked,)) in queued(rq, "orders")
    again = client.put("/api/mappings", json={**line, "shopify_code": shopify_name, "erp_code": "13"},
                       headers=headers()).get_json()  # fmt: skip
    assert again["created"] is False
    listed = client.get(f"/api/mappings?kind={kind}", headers=headers(Role.VIEWER)).get_json()["mappings"]
    assert [(m["kind"], m["shopify_code"], m["erp_code"]) for m in listed] == [(kind, shopify_name, "13")]
    assert client.get("/api/mappings?kind=payment_method", headers=headers()).get_json()["mappings"] == []

    exported = client.get(f"/api/mappings/export.csv?kind={kind}", headers=headers(Role.VIEWER))
    assert exported.get_data(as_text=True) == f"\ufeffshopify_code;erp_code;label\n{shopify_name};13;\n"
    assert exported.headers["Content-Disposition"] == f'attachment; filename="de-para-{kind}.csv"'
    csv_text = f"shopify_code,erp_code,label\n{typed},14,\nElo,x,\nOutra,2,\n"
    imported = client.post("/api/mappings/import", json={"kind": kind, "csv": csv_text},
                           headers=headers()).get_json()  # fmt: skip
    assert (imported["created"], imported["updated"]) == (1, 1)
    assert imported["errors"] == [{"line": 3, "message": f"{words}, got 'x'"}]
    listed = client.get(f"/api/mappings?kind={kind}", headers=headers()).get_json()["mappings"]
    assert sorted(m["erp_code"] for m in listed) == ["14", "2"]  # "VISA" changed Visa's line


def test_a_code_as_long_as_allowed_is_saved_changed_and_deleted_its_audit_target_cut(client, settings, shops):
    """A De:Para code may be 255 characters: its audit target "mapping:<kind>:<code>" is longer than
    the audit's column, which failed the change (500) and left the line beyond change or delete."""
    code = "G" * 255
    body = {"kind": "payment_method", "shopify_code": code, "erp_code": "1"}
    saved = client.put("/api/mappings", json=body, headers=headers())
    assert saved.status_code == 200, saved.get_json()
    changed = client.put("/api/mappings", json={**body, "erp_code": "2"}, headers=headers())
    assert changed.status_code == 200 and changed.get_json()["mapping"]["erp_code"] == "2"
    row = saved.get_json()["mapping"]
    assert (
        client.delete(f"/api/mappings/{row['id']}?kind=payment_method", headers=headers()).status_code == 204
    )
    with session_scope(settings.database_url) as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.shop_id == shops.a)
                .order_by(AuditEvent.id.desc())
                .limit(3)
            )
        )
    assert [e.action for e in events] == ["mapping.deleted", "mapping.changed", "mapping.created"]
    assert all(len(e.target) == 255 and e.target.startswith("mapping:payment_method:GGG") for e in events)
    assert code in json.dumps(events[0].before)  # the snapshot keeps the whole code


def test_an_import_changing_a_lines_label_or_spelling_audits_it(client, settings, shops):
    """A single save audits a line's label before and after; an import that only renamed lines
    (a label, the Shopify spelling "LOGGI" for "Loggi", a location's name) left an audit row that
    said nothing of them."""
    line = {"kind": "carrier", "shopify_code": "Loggi", "erp_code": "12", "label": "Motoboy"}
    assert client.put("/api/mappings", json=line, headers=headers()).status_code == 200
    csv_text = "shopify_code,erp_code,label\nLOGGI,12,Transportadora X\n"
    reply = client.post("/api/mappings/import", json={"kind": "carrier", "csv": csv_text}, headers=headers())
    assert reply.get_json()["updated"] == 1 and reply.get_json()["errors"] == []
    action, before, after = _last_audit(settings, shops.a)
    assert action == "mapping.imported" and before == {} and after["lines"] == {}
    assert after["relabelled"] == {
        "LOGGI": {"label": ["Motoboy", "Transportadora X"], "shopify_code": ["Loggi", "LOGGI"]}
    }

    location = {
        "kind": "location",
        "shopify_code": "gid://shopify/Location/1",
        "erp_code": "5",
        "label": "CD",
    }
    assert client.put("/api/mappings", json=location, headers=headers()).status_code == 200
    csv_text = "shopify_code,erp_code,label\ngid://shopify/Location/1,5,Centro de distribuição\n"
    reply = client.post("/api/mappings/import", json={"kind": "location", "csv": csv_text}, headers=headers())
    assert reply.get_json()["updated"] == 1, reply.get_json()
    _action, _before, after = _last_audit(settings, shops.a)
    assert after["relabelled"]["gid://shopify/Location/1"]["label"] == ["CD", "Centro de distribuição"]


def test_a_csv_of_codes_only_keeps_the_lines_descriptions(client, shops):
    """The import needs the two code columns only: a file without "label" (the team fixing ERP codes
    in a spreadsheet) erased the description of every line it named; an empty cell in a file that
    has the column still clears it."""
    line = {"kind": "payment_method", "shopify_code": "Pix", "erp_code": "1", "label": "Pix à vista"}
    assert client.put("/api/mappings", json=line, headers=headers()).status_code == 200
    assert client.put(
        "/api/mappings", json={**line, "shopify_code": "Boleto", "label": "3 dias"}, headers=headers()
    )
    csv_text = "shopify_code;erp_code\nPIX;2\nBoleto;3\nCrediário;4\n"
    reply = client.post(
        "/api/mappings/import", json={"kind": "payment_method", "csv": csv_text}, headers=headers()
    )
    assert reply.get_json()["errors"] == [] and reply.get_json()["created"] == 1
    lines = {
        m["shopify_code"]: (m["erp_code"], m["label"])
        for m in client.get("/api/mappings?kind=payment_method", headers=headers()).get_json()["mappings"]
    }
    assert lines == {"PIX": ("2", "Pix à vista"), "Boleto": ("3", "3 dias"), "Crediário": ("4", None)}
    csv_text = "shopify_code;erp_code;label\nBoleto;3;\n"
    client.post("/api/mappings/import", json={"kind": "payment_method", "csv": csv_text}, headers=headers())
    boleto = client.get("/api/mappings?kind=payment_method", headers=headers()).get_json()["mappings"]
    assert {m["shopify_code"]: m["label"] for m in boleto}["Boleto"] is None


def test_an_edit_from_a_page_shown_before_another_save_is_refused_not_a_lost_update(client, shops):
    """Admin A's page shows Pix -> 1; admin B corrects it to 2; A clicks Edit on the row still shown
    and fixes the description: the save put Pix back on 1 (every Pix order then posted under the
    wrong NROFORMAPAGTO), silently. Edit sends the line's id and updated_at as shown: 409 now. An
    Edit changing the Shopify code renames the line (it left the old one and overwrote another's)."""
    pix = {"kind": "payment_method", "shopify_code": "Pix", "erp_code": "1", "label": "Pix"}
    shown = client.put("/api/mappings", json=pix, headers=headers()).get_json()["mapping"]
    assert (
        client.put("/api/mappings", json={**pix, "erp_code": "2"}, headers=headers(Role.OWNER)).status_code
        == 200
    )
    edit = {"id": shown["id"], "updated_at": shown["updated_at"]}
    stale = client.put("/api/mappings", json={**pix, "label": "Pix (Itaú)", **edit}, headers=headers())
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "changed_meanwhile"

    def lines():
        listed = client.get("/api/mappings?kind=payment_method", headers=headers()).get_json()["mappings"]
        return {m["shopify_code"]: m for m in listed}

    assert lines()["Pix"]["erp_code"] == "2"
    fresh = {"id": shown["id"], "updated_at": lines()["Pix"]["updated_at"]}
    saved = client.put(
        "/api/mappings", json={**pix, "erp_code": "2", "label": "Pix (Itaú)", **fresh}, headers=headers()
    )
    assert saved.status_code == 200 and lines()["Pix"]["label"] == "Pix (Itaú)"

    typo = client.put(
        "/api/mappings", json={**pix, "shopify_code": "Pixx", "erp_code": "3"}, headers=headers()
    )
    typo_line = typo.get_json()["mapping"]
    onto = {**pix, "erp_code": "3", "id": typo_line["id"], "updated_at": typo_line["updated_at"]}
    taken = client.put("/api/mappings", json=onto, headers=headers())
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "mapping_conflict"
    assert lines()["Pix"]["erp_code"] == "2"
    renamed = client.put("/api/mappings", json={**onto, "shopify_code": "Pix parcelado"}, headers=headers())
    assert renamed.status_code == 200, renamed.get_json()
    assert set(lines()) == {"Pix", "Pix parcelado"} and lines()["Pix parcelado"]["erp_code"] == "3"
    gone = client.put("/api/mappings", json={**pix, "id": typo_line["id"]}, headers=headers())  # renamed away
    assert gone.status_code == 409 and gone.get_json()["error"]["code"] == "changed_meanwhile"
