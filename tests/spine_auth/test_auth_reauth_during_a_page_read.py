"""A page read of Shopify (Setup > locations) whose token Shopify refuses, and whose refresh Shopify
refuses too (the grant is gone): the shop is parked needs_reauth in that very request, but the page
is answered 502 shopify_error 'Shopify answered with an error: ... needs re-authorization' -- not the
409 needs_reauth + action=/auth/session every other endpoint answers a parked shop with, which is
what makes the page renew the session (token exchange) by itself."""

from __future__ import annotations

import re

from app import create_app
from spine_auth.factories import SHOP_A, bearer, make_id_token


def test_a_grant_lost_during_a_shopify_read_sends_the_page_back_to_auth_session(
    settings, install_shop, requests_mock
):
    install_shop(SHOP_A)
    application = create_app(settings, blueprints=("shopify_app.auth", "shopify_app.api"), cli_modules=())
    application.testing = True
    client = application.test_client()
    owner = bearer(make_id_token(SHOP_A, "1001"))
    assert client.get("/api/me", headers=owner).json["role"] == "owner"

    requests_mock.post(
        re.compile(r"/admin/api/[^/]+/graphql\.json$"),
        status_code=401,
        json={"errors": "[API] Invalid API key or access token"},
    )
    requests_mock.post(
        f"https://{SHOP_A}/admin/oauth/access_token", status_code=400, json={"error": "invalid_grant"}
    )

    reply = client.get("/api/setup/locations", headers=owner)

    assert reply.status_code == 409, (reply.status_code, reply.json)
    assert reply.json["error"]["code"] == "needs_reauth"
    assert reply.json["error"].get("action") == "/auth/session"
