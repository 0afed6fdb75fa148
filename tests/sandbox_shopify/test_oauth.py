"""OAuth: authorization code grant with a signed redirect, token exchange from an ID token,
expiring offline tokens and refresh-token rotation."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlparse

import jwt
import requests

from .helpers import API_KEY, API_SECRET, ShopClient

HOST = {"Host": "loja-nova.myshopify.com"}
EXCHANGE = {
    "client_id": API_KEY,
    "client_secret": API_SECRET,
    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
}


def _token_url(emulator) -> str:
    return f"{emulator.url}/admin/oauth/access_token"


def _id_token(emulator, user: str = "gerente") -> str:
    response = requests.post(
        f"{emulator.url}/_sandbox/shops/loja-nova/id_token", json={"user": user}, timeout=10
    )
    assert response.status_code == 200
    return response.json()["id_token"]


def test_id_token_claims(emulator, clock) -> None:
    claims = jwt.decode(
        _id_token(emulator),
        API_SECRET,
        algorithms=["HS256"],
        audience=API_KEY,
        options={"verify_exp": False, "verify_nbf": False},
    )
    assert claims["dest"] == "https://loja-nova.myshopify.com"
    assert claims["iss"] == "https://loja-nova.myshopify.com/admin"
    assert claims["exp"] - claims["iat"] == 60
    member = emulator.sandbox.shops.staff_member("loja-nova", "gerente")
    assert claims["sub"] == member["id"].rsplit("/", 1)[1]


def test_token_exchange_expiring_and_refresh_rotation(emulator, clock) -> None:
    body = requests.post(
        _token_url(emulator),
        data={**EXCHANGE, "subject_token": _id_token(emulator), "expiring": "1"},
        headers=HOST,
        timeout=10,
    ).json()
    assert body["expires_in"] == 3600
    assert body["refresh_token"] and body["refresh_token_expires_in"] > 3600
    client = ShopClient(emulator, "loja-nova", body["access_token"])
    assert client.post("{ shop { name } }").status_code == 200
    refresh = {
        "client_id": API_KEY,
        "client_secret": API_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"],
    }
    rotated = requests.post(_token_url(emulator), json=refresh, headers=HOST, timeout=10)
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != body["refresh_token"]
    again = requests.post(_token_url(emulator), json=refresh, headers=HOST, timeout=10)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    clock.advance(3601)
    assert client.post("{ shop { name } }").status_code == 401
    assert (
        ShopClient(emulator, "loja-nova", rotated.json()["access_token"])
        .post("{ shop { name } }")
        .status_code
        == 401
    )  # the new access token also lives one hour


def test_bad_subject_tokens_get_400(emulator, clock) -> None:
    def exchange(token: str) -> requests.Response:
        return requests.post(
            _token_url(emulator), data={**EXCHANGE, "subject_token": token}, headers=HOST, timeout=10
        )

    now = int(clock.now())
    claims = {
        "iss": "https://loja-nova.myshopify.com/admin",
        "dest": "https://loja-nova.myshopify.com",
        "aud": API_KEY,
        "sub": "1",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
    }
    assert exchange(jwt.encode(claims, API_SECRET, algorithm="HS256")).status_code == 200
    wrong_secret = exchange(
        jwt.encode(claims, "another-secret-long-enough-for-hs256-keys", algorithm="HS256")
    )
    assert wrong_secret.status_code == 400
    assert wrong_secret.json()["error"] == "invalid_subject_token"
    assert (
        exchange(jwt.encode({**claims, "aud": "other-app"}, API_SECRET, algorithm="HS256")).status_code == 400
    )
    assert (
        exchange(
            jwt.encode({**claims, "dest": "https://outra.myshopify.com"}, API_SECRET, algorithm="HS256")
        ).status_code
        == 400
    )
    token = _id_token(emulator)
    clock.advance(120)
    assert exchange(token).status_code == 400


def test_authorization_code_grant(emulator) -> None:
    response = requests.get(
        f"{emulator.url}/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "write_products",
            "redirect_uri": "https://app.example/callback",
            "state": "nonce-1",
        },
        headers=HOST,
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    location = urlparse(response.headers["Location"])
    params = dict(parse_qsl(location.query))
    assert params["state"] == "nonce-1"
    assert params["shop"] == "loja-nova.myshopify.com"
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    expected = hmac.new(API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, params["hmac"])
    assert abs(int(params["timestamp"]) - int(emulator.sandbox.clock.now())) < 5
    grant = {"client_id": API_KEY, "client_secret": API_SECRET, "code": params["code"]}
    body = requests.post(_token_url(emulator), data=grant, headers=HOST, timeout=10)
    assert body.status_code == 200 and body.json()["access_token"].startswith("shpat_")
    assert "expires_in" not in body.json()
    assert requests.post(_token_url(emulator), data=grant, headers=HOST, timeout=10).status_code == 400


def test_wrong_client_secret_is_refused(emulator) -> None:
    data = {**EXCHANGE, "client_secret": "nope", "subject_token": _id_token(emulator)}
    assert requests.post(_token_url(emulator), data=data, headers=HOST, timeout=10).status_code == 400


def test_online_token_expires_after_a_day(emulator, clock) -> None:
    data = {
        **EXCHANGE,
        "subject_token": _id_token(emulator, "owner"),
        "requested_token_type": "urn:shopify:params:oauth:token-type:online-access-token",
    }
    body = requests.post(_token_url(emulator), data=data, headers=HOST, timeout=10).json()
    assert body["associated_user"]["account_owner"] is True
    client = ShopClient(emulator, "loja-nova", body["access_token"])
    assert client.post("{ shop { name } }").status_code == 200
    clock.advance(86400)
    assert client.post("{ shop { name } }").status_code == 401
