"""A company <-> location line has an ERP side (the NROEMPRESA the stock flow parks on) and a
Shopify side (the location gid an order parks on): the link to the missing line and the
unmapped list say which side a code is, and the API takes as the Shopify side only a location
the shop has. Before, the stock flow's company "4" was offered as the Shopify location and a
line to location "4" was saved, so the resumed stock message wrote to a location that does not
exist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from spine_auth.factories import SHOP_A

from app import create_app
from ledger.db import session_scope
from ledger.errors import MappingMissing
from ledger.models import LocationMapping, Message, MessageStatus, Shop
from sandbox.shopify.runner import serve_in_thread as shopify_in_thread
from settings import Settings
from shopify_app.token_endpoint import TokenSet
from shopify_app.tokens import store_tokens

from .conftest import headers, save_location_set

LOCATIONS = (("Loja Centro", "Rua A, 1", "São Paulo", "SP"), ("CD Campinas", "Rod. B km 1", "Campinas", "SP"))


def _locations(session) -> list[tuple[str, int]]:
    return [(r.location_id, r.nro_empresa) for r in session.query(LocationMapping).all()]


def test_the_link_and_the_unmapped_list_say_which_side_a_code_is(client, shops, message):
    stock = message(shops.a, "stock", "stock:4", error=MappingMissing("location", "4"))
    order = message(shops.a, "orders", "o-1", error=MappingMissing("location", "gid://shopify/Location/9"))
    gateway = message(shops.a, "orders", "o-2", error=MappingMissing("payment_method", "pix"))
    links = {
        mid: client.get(f"/api/messages/{mid}?locale=en", headers=headers()).get_json()["explanation"]
        for mid in (stock, order, gateway)
    }
    assert links[stock]["mapping"] == {"kind": "location", "code": "4", "side": "erp"}
    assert links[order]["mapping"] == {
        "kind": "location",
        "code": "gid://shopify/Location/9",
        "side": "shopify",
    }
    assert links[gateway]["mapping"] == {"kind": "payment_method", "code": "pix", "side": "shopify"}
    # What to do names the page the link opens (the De:Para page, "Mappings" in English).
    assert "Mappings" in links[stock]["what_to_do"], links[stock]["what_to_do"]
    unmapped = client.get("/api/mappings/unmapped?kind=location", headers=headers()).get_json()["codes"]
    assert sorted(unmapped, key=lambda c: c["code"]) == [
        {"code": "4", "waiting": 1, "side": "erp"},
        {"code": "gid://shopify/Location/9", "waiting": 1, "side": "shopify"},
    ]


def test_a_location_that_is_no_shopify_location_is_refused_everywhere(client, shops, message, settings):
    """The De:Para form, the Setup table and the CSV: "4" (a company number in the location field)
    is refused, nothing is saved and the stock message stays parked."""
    parked = message(shops.a, "stock", "stock:4", error=MappingMissing("location", "4"))
    form = client.put(
        "/api/mappings", headers=headers(), json={"kind": "location", "shopify_code": "4", "erp_code": "4"}
    )
    assert form.status_code == 422, form.get_json()
    error = form.get_json()["error"]
    assert (
        error["code"] == "unknown_location" and "gid://shopify/Location/" in error["fields"]["shopify_code"]
    )
    setup = save_location_set(client, [{"nro_empresa": 4, "location_id": "4"}])
    assert setup.status_code == 422, setup.get_json()
    assert "mappings[0].location_id" in setup.get_json()["error"]["fields"]
    imported = client.post(
        "/api/mappings/import",
        headers=headers(),
        json={"kind": "location", "csv": "shopify_code,erp_code\n4,4\n"},
    ).get_json()
    assert imported["created"] == 0 and imported["errors"][0]["line"] == 2, imported
    with session_scope(settings.database_url) as session:
        assert _locations(session) == []
        assert session.get(Message, parked).status == MessageStatus.PARKED.value


@pytest.fixture
def live(settings, shops, env) -> Iterator[tuple[Settings, list[str]]]:
    """Shop A's Shopify reachable (the sandbox, with two locations): (settings, location gids)."""
    shopify = shopify_in_thread(port=0, seed_locations=LOCATIONS)
    try:
        token = shopify.sandbox.tokens.issue_access_token(
            SHOP_A.split(".")[0], shopify.sandbox.options.api_key, False
        )
        with session_scope(settings.database_url) as session:
            shop = session.query(Shop).filter_by(domain=SHOP_A).one()
            store_tokens(session, shop, TokenSet(token["access_token"], token["scope"]))
        env.setenv("SHOPIFY_BASE_URL", shopify.url)
        live_settings = Settings.from_env()
        from shopify_app.api_upstream import shopify_locations

        yield live_settings, [loc["id"] for loc in shopify_locations(SHOP_A, live_settings)]
    finally:
        shopify.stop()


def test_a_location_the_shop_does_not_have_is_refused_when_shopify_can_be_read(live, shops, message):
    live_settings, gids = live
    assert len(gids) == 2
    app = create_app(live_settings, blueprints=("shopify_app.api",), cli_modules=())
    client = app.test_client()
    message(shops.a, "stock", "stock:4", error=MappingMissing("location", "4"))
    gone = "gid://shopify/Location/987654321"
    refused = client.put(
        "/api/mappings", headers=headers(), json={"kind": "location", "shopify_code": gone, "erp_code": "4"}
    )
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "unknown_location"
    assert gone in refused.get_json()["error"]["message"]
    setup = save_location_set(client, [{"nro_empresa": 4, "location_id": gone}])
    assert setup.status_code == 422, setup.get_json()
    csv_text = f"shopify_code,erp_code\n{gone},4\n{gids[1]},5\n"
    imported = client.post(
        "/api/mappings/import", headers=headers(), json={"kind": "location", "csv": csv_text}
    )
    assert imported.get_json()["created"] == 1 and [e["line"] for e in imported.get_json()["errors"]] == [2]
    assert imported.get_json()["location_checked"] is True
    saved = client.put(
        "/api/mappings",
        headers=headers(),
        json={"kind": "location", "shopify_code": gids[0], "erp_code": "4"},
    )
    assert saved.status_code == 200 and saved.get_json()["resumed"] == 1, saved.get_json()
    assert saved.get_json()["location_checked"] is True  # found among the shop's locations
    table = save_location_set(client, [{"nro_empresa": 4, "location_id": gids[0]}])
    assert table.status_code == 200 and table.get_json()["location_checked"] is True, table.get_json()


def test_a_company_moved_to_another_location_takes_that_locations_name_from_shopify(live, shops):
    """A line saved without a name (the De:Para form's optional label, the CSV's empty label, a
    Setup set sent without `location_name`) is named as Shopify names the location, read when
    the line was checked: company 4 moved from "Loja Centro" to the other location was named
    "Loja Centro" still, the old location's name."""
    live_settings, gids = live
    client = create_app(live_settings, blueprints=("shopify_app.api",), cli_modules=()).test_client()
    shown = client.get("/api/setup/locations", headers=headers()).get_json()["locations"]
    names = {location["id"]: location["name"] for location in shown}
    centro, campinas = (next(g for g in gids if names[g] == n) for n in ("Loja Centro", "CD Campinas"))
    assert save_location_set(client, [{"nro_empresa": 4, "location_id": centro}]).status_code == 200
    listed = client.get("/api/setup/location-mappings", headers=headers()).get_json()["mappings"]
    assert [(m["location_id"], m["location_name"]) for m in listed] == [(centro, "Loja Centro")]
    moved = client.put(
        "/api/mappings",
        headers=headers(),
        json={"kind": "location", "shopify_code": campinas, "erp_code": "4"},
    )
    assert moved.status_code == 200 and moved.get_json()["mapping"]["label"] == "CD Campinas", (
        moved.get_json()
    )
    imported = client.post(
        "/api/mappings/import",
        headers=headers(),
        json={"kind": "location", "csv": f"shopify_code,erp_code\n{centro},5\n"},
    ).get_json()
    assert imported["errors"] == [] and imported["created"] == 1
    listed = client.get("/api/setup/location-mappings", headers=headers()).get_json()["mappings"]
    assert [(m["nro_empresa"], m["location_name"]) for m in listed] == [
        (4, "CD Campinas"),
        (5, "Loja Centro"),
    ]
