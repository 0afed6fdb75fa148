"""Who am I, the audit trail, and staff roles (owner/admin/operator/viewer), enforced here.

Role rules: an admin manages operators and viewers; granting, changing or removing the admin
or owner role takes an owner; the last owner cannot be demoted or removed (roles.set_role /
revoke_role refuse, answered as 409). Every change, a rename too, is audited by those functions
(role and name, before and after); saving what is already there writes no audit row.

The audit trail's before/after are masked below admin (ledger.masking.mask_detail), as the
Messages page masks payloads. A customers/data_request leaves an audit record of counts and row
ids; the export itself (the customer's personal data, unmasked) is for admins and owners only:
GET /api/audit/<id>/export rebuilds it from the rows as they are now, for the merchant to send.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ledger import audit, privacy
from ledger.masking import mask_detail
from ledger.models import AuditEvent, Role, Shop, StaffRole
from shopify_app.api_common import (
    MAX_ID,
    ApiError,
    db,
    invalid,
    iso,
    json_body,
    locale,
    not_found,
    page_cursor,
    query_int,
    reject_unknown,
)
from shopify_app.roles import (
    KEEP_NAME,
    RoleChangeRefused,
    default_role,
    locked_shop,
    require_role,
    revoke_role,
    set_role,
)

bp = Blueprint("admin", __name__)

USER_ID = audit.STAFF_ID  # Shopify staff ids are numbers: not "system", the app's own actor
POWERFUL = (Role.ADMIN, Role.OWNER)


@bp.get("/me")
@require_role(Role.VIEWER)
def me() -> ResponseReturnValue:
    role: Role = g.role
    with db() as session:
        shop = session.get(Shop, g.shop.id)
        timezone = shop.iana_timezone if shop is not None else None
    return jsonify(
        {
            "shop": g.shop.domain,
            "timezone": timezone,
            "user_id": g.user_id,
            "role": role.value,
            "locale": locale(),
            "permissions": {
                "read": True,
                "operate": role.at_least(Role.OPERATOR),
                "configure": role.at_least(Role.ADMIN),
                "grant_admin": role.at_least(Role.OWNER),
            },
        }
    )


@bp.get("/audit")
@require_role(Role.VIEWER)
def list_audit() -> ResponseReturnValue:
    before_id = query_int("before_id", None, 1, MAX_ID)
    limit = query_int("limit", 50, 1, 200) or 50
    reveal = g.role.at_least(Role.ADMIN)
    with db() as session:
        events = audit.history(session, g.shop.id, limit=limit, before_id=before_id)
        unnamed = [e for e in events if not (e.actor_name and e.target_name)]
        names = audit.names_now(session, g.shop.id, unnamed)
        rows = [
            {
                "id": e.id,
                "actor": e.actor,
                # as named when the event was written (kept after the role's removal), else now
                "actor_name": e.actor_name or names.get(e.actor),
                "action": e.action,
                "target": e.target,
                "target_name": e.target_name or names.get(audit.user_of(e.target)),
                "before": mask_detail(e.before, reveal),
                "after": mask_detail(e.after, reveal),
                "created_at": iso(e.created_at),
            }
            for e in events
        ]
    return jsonify({"events": rows, "next_before_id": page_cursor([r["id"] for r in rows], limit)})


@bp.get("/audit/<int:event_id>/export")
@require_role(Role.ADMIN)
def audit_export(event_id: int) -> ResponseReturnValue:
    """The customer data export of a customers/data_request audit record (admin: it is the
    customer's personal data, unmasked), for the merchant to send the customer."""
    with db() as session:
        event = session.get(AuditEvent, event_id) if event_id <= MAX_ID else None
        if event is None or event.shop_id != g.shop.id or event.action != privacy.DATA_EXPORTED:
            raise not_found("customer data export")
        shop = session.get(Shop, g.shop.id)
        after = event.after or {}
        return jsonify(
            privacy.export_recorded(
                session, shop, after.get("exported") or {}, after.get("customer_id"), event.created_at
            )
        )


def _role_json(row: StaffRole) -> dict[str, Any]:
    return {"user_id": row.user_id, "role": row.role, "name": row.name, "updated_at": iso(row.updated_at)}


@bp.get("/roles")
@require_role(Role.VIEWER)
def list_roles() -> ResponseReturnValue:
    with db() as session:
        shop = session.get(Shop, g.shop.id)
        rows = session.scalars(
            select(StaffRole).where(StaffRole.shop_id == g.shop.id).order_by(StaffRole.user_id)
        )
        fallback = default_role(shop) if shop is not None else Role.VIEWER
        return jsonify({"roles": [_role_json(r) for r in rows], "default_role": fallback.value})


def _check_user_id(user_id: str) -> None:
    if not USER_ID.fullmatch(user_id):  # not match: "$" lets a final newline through
        raise invalid({"user_id": "must be a Shopify staff user id"})


def _needs_owner(current: str | None, wanted: Role | None) -> bool:
    """Granting, changing or removing admin/owner is an owner's call."""
    return (wanted in POWERFUL) or (current is not None and Role(current) in POWERFUL)


def _forbidden_unless_owner() -> None:
    if not g.role.at_least(Role.OWNER):
        raise ApiError(
            403,
            "forbidden",
            f"granting or changing the admin and owner roles needs the owner role; you are {g.role.value}",
            role=g.role.value,
        )


@bp.put("/roles/<user_id>")
@require_role(Role.ADMIN)
def put_role(user_id: str) -> ResponseReturnValue:
    _check_user_id(user_id)
    body = json_body()
    reject_unknown(body, {"role", "name"})
    errors: dict[str, str] = {}
    try:
        role = Role(body.get("role"))
    except ValueError:
        errors["role"] = f"must be one of {', '.join(r.value for r in Role)}"
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        errors["name"] = "must be text of at most 200 characters"
    if errors:
        raise invalid(errors)
    with db() as session:
        locked_shop(session, g.shop.id)  # the role checked below is the one the change replaces
        row = session.scalars(
            select(StaffRole).where(StaffRole.shop_id == g.shop.id, StaffRole.user_id == user_id)
        ).one_or_none()
        if _needs_owner(row.role if row else None, role):
            _forbidden_unless_owner()
        named = (name.strip() or None) if isinstance(name, str) else None
        try:
            row = set_role(
                session, g.shop.id, user_id, role, str(g.user_id), named if "name" in body else KEEP_NAME
            )
        except RoleChangeRefused as exc:
            raise ApiError(409, "last_owner", str(exc)) from exc
        return jsonify(_role_json(row))


@bp.delete("/roles/<user_id>")
@require_role(Role.ADMIN)
def delete_role(user_id: str) -> ResponseReturnValue:
    _check_user_id(user_id)
    with db() as session:
        locked_shop(session, g.shop.id)  # the role checked below is the one the change replaces
        row = session.scalars(
            select(StaffRole).where(StaffRole.shop_id == g.shop.id, StaffRole.user_id == user_id)
        ).one_or_none()
        if row is None:
            raise not_found("staff role")
        if _needs_owner(row.role, None):
            _forbidden_unless_owner()
        try:
            revoke_role(session, g.shop.id, user_id, actor=str(g.user_id))
        except RoleChangeRefused as exc:
            raise ApiError(409, "last_owner", str(exc)) from exc
    return Response(status=204)
