"""The Setup page: ERP connection, ERP choices, Shopify locations, store link, location mappings, status.

Everything a first run needs before the flows can work. Saving a piece of it resumes the units
parked waiting for that piece (MappingMissing kinds `erp_connection`, `store_link`, `location`),
and saving the ERP connection retries the messages the ERP's login refused (`retried`: a wrong
password fails every order, each with the login endpoint's own codigo, not a parked kind);
the store link also frees the orders parked on their unmapped location (they ship from the linked
company then, jobs.order_lookup).
The ERP password is write-only: stored encrypted (ledger.crypto), never returned. An ERP connection
moved to another host or path is another ERP (the same host over https, or with its default port
written out, is not: erp.factory.same_erp): every ERP cursor of the shop is forgotten (the flows read
it whole, ledger.setup_moves) and its order events are units of their own (ErpConnection.generation,
jobs.order_events.unit_key; back on an ERP it was on before, that ERP's own again); the audit row says so.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.address import policy_for
from erp.errors import ErpAddressRefused
from erp.factory import erp_address, same_erp
from ledger import mappings, setup_moves
from ledger.crypto import decrypt, encrypt
from ledger.mappings import MappingKind
from ledger.models import ErpConnection, LocationMapping, Mapping, Role, Shop, StoreLink
from ledger.shop_row_lock import lock_shop_row
from shopify_app import api_upstream
from shopify_app.api_catalog_diff import latest_done
from shopify_app.api_common import (
    ApiError,
    app_settings,
    db,
    field_int,
    field_text,
    invalid,
    iso,
    json_body,
    locale,
    optional_json_body,
    reject_unknown,
    within_limit,
    write_audit,
)
from shopify_app.api_settings import effective_settings
from shopify_app.enqueue import resume_parked, retry_auth_failed
from shopify_app.roles import require_role

log = logging.getLogger(__name__)

bp = Blueprint("setup", __name__, url_prefix="/setup")

STEP_LABELS = {
    "erp_connection": ("Conexão com o ERP", "ERP connection"),
    "store_link": ("Empresa e segmento da loja", "Store company and segment"),
    "location_mappings": ("Empresas e locais", "Companies and locations"),
    "sales_channel": ("Canal de venda", "Sales channel"),
    "payment_methods": ("Formas de pagamento (De:Para)", "Payment methods (De:Para)"),
    "catalog_diff": ("Prévia do catálogo", "Catalog preview"),
}


def _connection(session: Session) -> ErpConnection | None:
    return session.scalars(select(ErpConnection).where(ErpConnection.shop_id == g.shop.id)).one_or_none()


def _connection_json(row: ErpConnection | None) -> dict[str, Any]:
    if row is None:
        return {
            "configured": False,
            "base_url": None,
            "username": None,
            "password_set": False,
            "updated_at": None,
        }
    return {
        "configured": True,
        "base_url": row.base_url,
        "username": row.username,
        "password_set": bool(row.password_enc),
        "updated_at": iso(row.updated_at),
    }


def _base_url(body: dict[str, Any], errors: dict[str, str]) -> str:
    """The typed ERP address; in production only one erp/address.py allows (https, a public host
    unless the operator's ERP_ALLOWED_NETWORKS lists it): checked before saving and before testing."""
    value = field_text(body, "base_url", 500, errors)
    if value and "base_url" not in errors:
        try:  # "http://[erp" or a port beyond 65535 are ValueErrors of the parser
            parsed = urlparse(value)
            usable = parsed.scheme in ("http", "https") and bool(parsed.hostname) and parsed.port != 0
        except ValueError:
            usable = False
        if not usable:
            errors["base_url"] = (
                "must be an http(s) URL, e.g. https://erp.example.com.br/smpedidovenda/smpedidovendaapi"
            )
        elif parsed.query or parsed.fragment or value.rstrip().endswith(("?", "#")):
            # Every call appends its path to the address: one pasted from the ERP's Swagger page
            # (".../swagger/index.html#/") would send each call to the wrong place.
            usable = False
            errors["base_url"] = (
                "must be the API's base address, without a query (?) or a fragment (#), e.g. "
                "https://erp.example.com.br/smpedidovenda/smpedidovendaapi"
            )
        elif "@" in parsed.netloc:
            # It would be stored, shown and audited as typed, the password in clear with it.
            usable = False
            errors["base_url"] = (
                "must not hold a user or password (user:password@): put the user and password in their "
                "own fields"
            )
        policy = policy_for(app_settings())
        if usable and policy is not None:
            try:
                policy.check_url(value)
            except ErpAddressRefused as exc:
                errors["base_url"] = exc.mensagem
    return value.rstrip("/")


def _password(body: dict[str, Any], errors: dict[str, str]) -> str | None:
    """The new password, or None to keep the stored one (absent, null or empty)."""
    value = body.get("password")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors["password"] = "must be a string"  # noqa: S105 (a field error, not a secret)
        return None
    if len(value) > 500:
        errors["password"] = "must be at most 500 characters"  # noqa: S105 (a field error, not a secret)
    return value


@bp.get("/erp-connection")
@require_role(Role.VIEWER)
def get_erp_connection() -> ResponseReturnValue:
    with db() as session:
        return jsonify(_connection_json(_connection(session)))


@bp.put("/erp-connection")
@require_role(Role.ADMIN)
def put_erp_connection() -> ResponseReturnValue:
    body = json_body()
    reject_unknown(body, {"base_url", "username", "password"})
    errors: dict[str, str] = {}
    base_url, username = _base_url(body, errors), field_text(body, "username", 200, errors)
    password = _password(body, errors)
    with db() as session:
        lock_shop_row(session, g.shop.id)  # a second save at once waits, then changes this one's row
        row = _connection(session)
        if row is None and password is None and "password" not in errors:
            errors["password"] = "is required the first time"  # noqa: S105 (a field error, not a secret)
        moved = row is not None and row.base_url != base_url
        if moved and password is None and "password" not in errors:
            # Keeping the stored password for a new address would send it there on the next sync.
            errors["password"] = "is required when the address changes"  # noqa: S105
        elif row is not None and row.username != username and password is None and "password" not in errors:
            # Another user with the stored password: a pair nobody typed (a page opened before
            # another admin changed both saves its old user over them), every login refused.
            errors["password"] = "is required when the user changes"  # noqa: S105
        if errors:
            raise invalid(errors)
        before = None if row is None else {"base_url": row.base_url, "username": row.username}
        # The ERP the shop reached so far: its row's, else the environment fallback's (the demo's
        # and a non-production embedded app's: erp.factory), whose cursors are not the new ERP's.
        reached = erp_address(row.base_url if row is not None else None)
        if row is None:
            row = ErpConnection(shop_id=g.shop.id, base_url=base_url, username=username, password_enc=b"")
            session.add(row)
        if (row.base_url, row.username) != (base_url, username) or password is not None:
            row.verified_at = None  # proven again by the next login (erp.factory.verified)
        row.base_url, row.username = base_url, username
        if password is not None:
            row.password_enc = encrypt(password, app_settings().encryption_keys)
        session.flush()
        after: dict[str, Any] = {"base_url": base_url, "username": username}
        if reached is not None and not same_erp(reached, base_url):
            # another ERP: its change stream, its event and order numbers are its own
            after.update(setup_moves.erp_moved(session, row, before["base_url"] if before else reached))
        if password is not None:
            after["password"] = "changed"  # noqa: S105 (stored as "***" by the audit scrubber)
        write_audit(session, "erp_connection.saved", "erp_connection", before, after)
        resumed = resume_parked(session, g.shop.id, "erp_connection", [str(g.shop.id)])
        retried = retry_auth_failed(session, g.shop.id)
        return jsonify({**_connection_json(row), "resumed": resumed, "retried": retried})


# A connection test logs in to the address typed: unthrottled, an admin of one store could try
# password after password against any ERP the app may reach (another merchant's, on a network an
# operator allowed for it), each answered at once. Redis unreachable: allowed, as the test itself is.
ERP_TESTS_PER_WINDOW = 10
ERP_TEST_WINDOW_SECONDS = 5 * 60


def _erp_test_allowed(redis_url: str, shop_id: int) -> bool:
    return within_limit(redis_url, f"setup:erp-test:{shop_id}", ERP_TESTS_PER_WINDOW, ERP_TEST_WINDOW_SECONDS)


@bp.post("/erp-connection/test")
@require_role(Role.ADMIN)
def test_erp_connection() -> ResponseReturnValue:
    """Test the typed values when given (a missing password uses the stored one), else the saved ones."""
    body = optional_json_body()
    reject_unknown(body, {"base_url", "username", "password"})
    settings = app_settings()
    if not _erp_test_allowed(settings.redis_url, g.shop.id):
        minutes = ERP_TEST_WINDOW_SECONDS // 60
        return jsonify(api_upstream.failed_test(
            "too_many_connection_tests",
            f"At most {ERP_TESTS_PER_WINDOW} connection tests every {minutes} minutes: wait, then try again.",
        ))  # fmt: skip
    if not body:
        try:
            client = api_upstream.erp_client(g.shop.id, settings)
        except ApiError as exc:
            if exc.code != "erp_not_configured":
                raise
            return jsonify(api_upstream.failed_test(exc.code, "No ERP connection saved yet."))
        return jsonify(api_upstream.test_connection(client))
    errors: dict[str, str] = {}
    base_url, username = _base_url(body, errors), field_text(body, "username", 200, errors)
    password = _password(body, errors)
    if errors:
        raise invalid(errors)
    if password is None:
        with db() as session:
            row = _connection(session)
            if row is None:
                raise invalid({"password": "is required: no password is stored yet"})
            if row.base_url != base_url:
                # The stored password goes only to the address it was saved for, never to one typed
                # here (that would hand the shop's ERP credentials to any host).
                raise invalid({"password": "is required to test another address than the saved one"})
            stored = bytes(row.password_enc)
        password = api_upstream.call(api_upstream.ERP, lambda: decrypt(stored, settings.encryption_keys))
    client = api_upstream.erp_client_for(base_url, username, password, settings)
    return jsonify(api_upstream.test_connection(client))


@bp.get("/erp-choices")
@require_role(Role.VIEWER)
def erp_choices() -> ResponseReturnValue:
    """Read from the saved connection (or the demo's environment fallback); 409 when neither exists."""
    client = api_upstream.erp_client(g.shop.id, app_settings())
    return jsonify(api_upstream.erp_choices(client))


@bp.get("/locations")
@require_role(Role.VIEWER)
def locations() -> ResponseReturnValue:
    return jsonify({"locations": api_upstream.shopify_locations(g.shop.domain, app_settings())})


@bp.get("/markets")
@require_role(Role.VIEWER)
def markets() -> ResponseReturnValue:
    """The shop's markets (the Shopify side of a segment <-> market De:Para line)."""
    return jsonify({"markets": api_upstream.shopify_markets(g.shop.domain, app_settings())})


@bp.get("/publications")
@require_role(Role.VIEWER)
def publications() -> ResponseReturnValue:
    """The sales channels new products can be published to (the publish_to setting's choices)."""
    return jsonify({"publications": api_upstream.shopify_publications(g.shop.domain, app_settings())})


def _store_link_json(link: StoreLink | None) -> dict[str, Any]:
    if link is None:
        return {"configured": False, "nro_empresa": None, "nro_segmento": None, "updated_at": None}
    return {
        "configured": True,
        "nro_empresa": link.nro_empresa,
        "nro_segmento": link.nro_segmento,
        "updated_at": iso(link.updated_at),
    }


@bp.get("/store-link")
@require_role(Role.VIEWER)
def get_store_link() -> ResponseReturnValue:
    with db() as session:
        link = session.scalars(select(StoreLink).where(StoreLink.shop_id == g.shop.id)).one_or_none()
        return jsonify(_store_link_json(link))


@bp.put("/store-link")
@require_role(Role.ADMIN)
def put_store_link() -> ResponseReturnValue:
    body = json_body()
    reject_unknown(body, {"nro_empresa", "nro_segmento"})
    errors: dict[str, str] = {}
    nro_empresa, nro_segmento = (
        field_int(body, "nro_empresa", errors),
        field_int(body, "nro_segmento", errors),
    )
    if nro_empresa is not None and nro_empresa > mappings.MAX_COMPANY:  # what a location line takes
        errors["nro_empresa"] = f"must be between 1 and {mappings.MAX_COMPANY}"
    if errors:
        raise invalid(errors)
    checked = _erp_lists(nro_empresa, nro_segmento, errors)
    if errors:
        raise invalid(errors)
    with db() as session:
        lock_shop_row(session, g.shop.id)  # a second save at once waits, then changes this one's row
        old = session.scalars(select(StoreLink).where(StoreLink.shop_id == g.shop.id)).one_or_none()
        before = None if old is None else {"nro_empresa": old.nro_empresa, "nro_segmento": old.nro_segmento}
        link = mappings.set_store_link(session, g.shop.id, nro_empresa, nro_segmento)
        write_audit(
            session,
            "store_link.saved",
            "store_link",
            before,
            {"nro_empresa": nro_empresa, "nro_segmento": nro_segmento},
        )
        resumed = resume_parked(session, g.shop.id, "store_link", [g.shop.domain])
        # An order parked on its unmapped location (a gid) ships from the linked company now
        # (jobs.order_lookup); a company number waiting for its location is not freed by a link.
        locations = [code for code, _ in mappings.unmapped_codes_seen(session, g.shop.id, "location")]
        gids = [code for code in locations if not code.isdigit()]
        resumed += resume_parked(session, g.shop.id, "location", gids, flow="orders")
        return jsonify({**_store_link_json(link), "resumed": resumed, "erp_checked": checked})


def _erp_lists(nro_empresa: int, nro_segmento: int, errors: dict[str, str]) -> bool:
    """Whether the ERP lists the company and the segment (each one it does not list named in
    `errors`), asked with the shop's saved connection; False when it could not be asked (none saved
    yet, the ERP down): the link is saved on its numbers alone and the answer says so
    (`erp_checked`), as a location set Shopify could not check is. A mistyped segment saved would
    have the prices flow read a pair the ERP does not sell in, from the start."""
    checked, unlisted = api_upstream.erp_unlisted(
        g.shop.id, app_settings(), {"nro_empresa": nro_empresa}, {"nro_segmento": nro_segmento}
    )
    errors.update(unlisted)
    return checked


@bp.get("/status")
@require_role(Role.VIEWER)
def status() -> ResponseReturnValue:
    with db() as session:
        shop_id = g.shop.id
        shop = session.get(Shop, shop_id)
        settings = effective_settings(shop.settings if shop else None)
        connection = _connection(session)
        done = {
            # logged in once with what is saved (erp.factory.verified): saved alone, it may not be the ERP's
            "erp_connection": connection is not None and connection.verified_at is not None,
            "store_link": session.scalar(select(func.count()).where(StoreLink.shop_id == shop_id)) > 0,
            "location_mappings": session.scalar(
                select(func.count()).where(LocationMapping.shop_id == shop_id)
            )
            > 0,
            "sales_channel": settings["seq_canal_venda"] is not None
            and settings["cod_geral_oper"] is not None,
            # no payment line: every paid order parks on its gateway (jobs.order_map)
            "payment_methods": session.scalar(
                select(func.count()).where(
                    Mapping.shop_id == shop_id, Mapping.kind == MappingKind.PAYMENT_METHOD.value
                )
            )
            > 0,
            "catalog_diff": latest_done(shop_id),
        }
    index = 0 if locale() == "pt-BR" else 1
    steps = [{"key": key, "done": value, "label": STEP_LABELS[key][index]} for key, value in done.items()]
    return jsonify({"steps": steps, "complete": all(done.values())})
