"""Who may do what: ID-token authentication and staff roles on every JSON endpoint.

`@require_role(Role.ADMIN)` authenticates the request by the ID token in
`Authorization: Bearer`, takes the shop from the token and only from the token, and checks the
staff member's role (owner > admin > operator > viewer). The first staff member to open the
app on a shop becomes its owner; any other unknown staff member gets the shop's
`default_role` setting (viewer unless changed). Role changes are audited.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask import Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from ledger.db import session_scope
from ledger.models import Role, Shop, ShopStatus, StaffRole
from settings import Settings
from shopify_app.id_token import InvalidIdToken, bearer_token, verify_id_token
from shopify_app.shops import SYSTEM_ACTOR, find_shop, write_audit

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_ROLE = Role.VIEWER
RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"
SESSION_ENDPOINT = "/auth/session"


class RoleChangeRefused(ValueError):
    """A role change that would leave the shop without an owner."""


@dataclass(frozen=True)
class ShopRef:
    """The authenticated shop of this request (`g.shop`)."""

    id: int
    domain: str


def json_error(status: int, code: str, message: str, **extra: Any) -> Response:
    """The one error body every JSON endpoint answers with: {"error": {"code", "message", ...}}."""
    response = jsonify({"error": {"code": code, "message": message, **extra}})
    response.status_code = status
    if status == 401:
        response.headers[RETRY_HEADER] = "1"  # App Bridge fetches a fresh ID token and retries
    return response


DATABASE_DOWN = (OperationalError, InterfaceError)  # SQLAlchemy's: the ledger cannot be reached


def database_down(exc: Exception) -> Response:
    """A JSON 503 the page can show ("try again"), not a 500 or Flask's HTML page, while the
    ledger database is unreachable (a failover, a restart)."""
    log.warning("ledger database unavailable on %s: %s", request.path, type(exc).__name__)
    response = json_error(
        503, "database_unavailable", "the app's database cannot be reached; try again", system="database"
    )
    response.headers["Retry-After"] = "5"
    return response


def default_role(shop: Shop) -> Role:
    """The role of a staff member nobody assigned yet: the shop's `default_role`, else viewer."""
    value = (shop.settings or {}).get("default_role")
    try:
        return Role(value) if value else DEFAULT_ROLE
    except ValueError:
        return DEFAULT_ROLE


def resolve_role(session: Session, shop: Shop, user_id: str) -> Role:
    """The staff member's role; the first one ever seen on the shop becomes its owner."""
    row = session.scalars(
        select(StaffRole).where(StaffRole.shop_id == shop.id, StaffRole.user_id == user_id)
    ).one_or_none()
    if row is not None:
        return Role(row.role)
    # Lock the shop row so two first visitors cannot both become owner (PostgreSQL).
    session.scalars(select(Shop.id).where(Shop.id == shop.id).with_for_update()).one()
    count = session.scalar(select(func.count()).select_from(StaffRole).where(StaffRole.shop_id == shop.id))
    if count == 0:
        set_role(session, shop.id, user_id, Role.OWNER, actor=SYSTEM_ACTOR)
        log.info("roles: first staff member %s became owner of %s", user_id, shop.domain)
        return Role.OWNER
    return default_role(shop)


def locked_shop(session: Session, shop_id: int) -> Shop | None:
    """The shop row, locked until the transaction ends: role changes of one shop run one at a time,
    so two owners demoting each other at once cannot both see the other still an owner. A caller
    whose own check reads a staff member's role (api_admin: only an owner changes an admin's) takes
    it first, so the role it checks is the one the change replaces."""
    return session.scalars(select(Shop).where(Shop.id == shop_id).with_for_update()).one_or_none()


def _owner_count(session: Session, shop_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(StaffRole)
            .where(StaffRole.shop_id == shop_id, StaffRole.role == Role.OWNER.value)
        )
        or 0
    )


KEEP_NAME = object()  # `set_role`'s name when the caller says nothing about it


def set_role(
    session: Session, shop_id: int, user_id: str, role: Role, actor: str, name: object = KEEP_NAME
) -> StaffRole:
    """Grant `role` to a staff member (creating or changing the row), and set their `name` (text or
    None; `KEEP_NAME` leaves it), with a `role.granted` audit row holding the role and name before
    and after; none when neither changed.

    Raises:
        RoleChangeRefused: when it would demote the shop's last owner.
    """
    shop = locked_shop(session, shop_id)
    if shop is None:
        raise LookupError(f"no shop {shop_id}")
    row = session.scalars(
        select(StaffRole).where(StaffRole.shop_id == shop_id, StaffRole.user_id == user_id)
    ).one_or_none()
    before = None if row is None else {"role": row.role, "name": row.name}
    if (
        row is not None
        and row.role == Role.OWNER.value
        and role != Role.OWNER
        and _owner_count(session, shop_id) <= 1
    ):
        raise RoleChangeRefused("the shop's last owner cannot be demoted")
    if row is None:
        row = StaffRole(shop_id=shop_id, user_id=user_id, role=role.value)
        session.add(row)
    else:
        row.role = role.value
    if name is not KEEP_NAME:
        assert name is None or isinstance(name, str)
        row.name = name
    session.flush()
    after = {"role": row.role, "name": row.name}
    if after != before:
        write_audit(
            session,
            shop=shop,
            shop_domain=shop.domain,
            actor=actor,
            action="role.granted",
            target=f"user:{user_id}",
            before=before,
            after=after,
        )
    return row


def revoke_role(session: Session, shop_id: int, user_id: str, actor: str) -> bool:
    """Remove a staff member's role (they fall back to the default role), with an audit row.

    Returns False when the staff member had no role. Raises RoleChangeRefused for the last owner.
    """
    shop = locked_shop(session, shop_id)
    row = session.scalars(
        select(StaffRole).where(StaffRole.shop_id == shop_id, StaffRole.user_id == user_id)
    ).one_or_none()
    if shop is None or row is None:
        return False
    if row.role == Role.OWNER.value and _owner_count(session, shop_id) <= 1:
        raise RoleChangeRefused("the shop's last owner cannot be removed")
    session.delete(row)
    write_audit(
        session,
        shop=shop,
        shop_domain=shop.domain,
        actor=actor,
        action="role.revoked",
        target=f"user:{user_id}",
        before={"role": row.role},
        # the role they have now: the shop's default (an operator's, say: "Remove" may give more)
        after={"role": default_role(shop).value},
        target_name=row.name,  # (the row is going: the history keeps naming them)
    )
    return True


def _authenticate(settings: Settings, minimum: Role) -> ResponseReturnValue | None:
    """Fill g.shop / g.user_id / g.role, or return the error response to answer instead."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        return json_error(401, "unauthenticated", "missing Authorization: Bearer <ID token>")
    try:
        claims = verify_id_token(token, settings)
    except InvalidIdToken as exc:
        log.info("roles: rejected ID token on %s: %s", request.path, exc.reason)
        return json_error(401, "invalid_session", exc.reason)

    with session_scope(settings.database_url) as session:
        shop = find_shop(session, claims.shop)
        if shop is None or shop.status == ShopStatus.UNINSTALLED.value or shop.token is None:
            return json_error(
                409, "not_installed", "the app is not installed on this shop", action=SESSION_ENDPOINT
            )
        if shop.status == ShopStatus.NEEDS_REAUTH.value:
            return json_error(
                409,
                "needs_reauth",
                "the shop must authorize the app again",
                reason=shop.status_reason,
                action=SESSION_ENDPOINT,
            )
        role = resolve_role(session, shop, claims.user_id)
        shop_ref = ShopRef(id=shop.id, domain=shop.domain)

    g.shop = shop_ref
    g.user_id = claims.user_id
    g.role = role
    g.session_id = claims.session_id
    if not role.at_least(minimum):
        return json_error(
            403, "forbidden", f"this needs the {minimum.value} role; you are {role.value}", role=role.value
        )
    return None


def require_role(minimum: Role) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Decorate a JSON endpoint: ID-token authentication plus at least `minimum` role."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            refusal = _authenticate(current_app.config["SETTINGS"], minimum)
            if refusal is not None:
                return refusal
            return view(*args, **kwargs)

        wrapper.required_role = minimum  # type: ignore[attr-defined]
        return wrapper

    return decorate
