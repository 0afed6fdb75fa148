"""The reconciliation report's stock fix: POST /api/messages/<report id>/stock-fix {"nro_empresa"}.

A report lists, per company, the SKUs whose Shopify level differs from the ERP's figure. A person
who knows no sale stands behind them (a level set by hand in Shopify, a count, another app) asks
here for the ERP's figure there: the SKUs the report lists at that company become one stock
message, `stock:<company>:fix:<report id>` (jobs.stock_fix), whose replay (jobs.stock.replay) is
enqueued after the commit: it reads each level again and writes the ERP's figure by
compare-and-swap, never giving back a sale made since. Its outcome (levels written, and those left
out and why) is on that message, whose id the answer carries. Operators and up; audited.

Refused (409): the message is no reconciliation report (`not_a_report`), it lists no differing stock
at that company (`no_stock_drift`), the company's location is not the one the report read
(`location_changed`: the report no longer says what Shopify shows there), or its levels there were
fixed already (`already_fixed`: the fix's message keeps its outcome; the day's report run again
lists what still differs, and its fix is that message's next attempt). A fix of the same report and
company already waiting or running is not asked twice (`enqueued` false, its message's id); a
failed one is asked again (as its Retry would).
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ledger import drift, trace
from ledger.flows import ERP_TO_SHOPIFY
from ledger.kv import get_redis
from ledger.models import LocationMapping, Message, MessageStatus, Role
from shopify_app.api_common import (
    ApiError,
    app_settings,
    db,
    field_int,
    invalid,
    json_body,
    reject_unknown,
    write_audit,
)
from shopify_app.api_messages import job_holding, own_message
from shopify_app.enqueue import enqueue_replay, replay_job_id
from shopify_app.roles import require_role

bp = Blueprint("stock_fix", __name__, url_prefix="/messages")

REPORT_FLOW = "reconcile"
STOCK_FLOW = "stock"
OPEN = (MessageStatus.PENDING.value, MessageStatus.RETRYING.value)
DONE = (MessageStatus.DONE.value, MessageStatus.SKIPPED.value)  # skipped: closed as handled


@bp.post("/<int:message_id>/stock-fix")
@require_role(Role.OPERATOR)
def stock_fix(message_id: int) -> ResponseReturnValue:
    body = json_body()
    reject_unknown(body, {"nro_empresa"})
    errors: dict[str, str] = {}
    company = field_int(body, "nro_empresa", errors)
    if errors:
        raise invalid(errors)
    with db() as session:
        report = own_message(session, message_id)
        if report.flow != REPORT_FLOW or not isinstance(report.response_payload, dict):
            raise ApiError(409, "not_a_report", f"message {message_id} is not a reconciliation report")
        listed = drift.stock_differ(report.response_payload, company)
        if listed is None:
            raise ApiError(
                409, "no_stock_drift", f"this report lists no stock differing at company {company}"
            )
        location, rows = listed
        mapped = session.scalars(
            select(LocationMapping.location_id).where(
                LocationMapping.shop_id == g.shop.id, LocationMapping.nro_empresa == company
            )
        ).first()
        if mapped != location:
            raise ApiError(
                409,
                "location_changed",
                f"company {company}'s location is not the one this report read: run the reconciliation "
                "again, then fix what it lists",
            )
        unit = drift.stock_fix_unit(company, report.id)
        fix = next(trace.unit_messages(session, g.shop.id, STOCK_FLOW, [unit]), None)
        skus = sorted({str(row["sku"]) for row in rows})
        if fix is not None and fix.status in OPEN and (held := job_holding(fix)) is not None:
            return jsonify(_answer(fix, held, False, skus)), 202  # asked already: under way
        generated = report.response_payload.get("generated_at")
        if (
            fix is not None
            and fix.status in DONE
            and (fix.request_payload or {}).get("report_at") == generated
        ):
            raise ApiError(
                409,
                "already_fixed",
                f"this report's levels at company {company} were fixed already (message {fix.id}): run "
                "the reconciliation again to see what still differs",
                message_id=fix.id,
            )
        fix = trace.begin(
            session,
            g.shop.id,
            STOCK_FLOW,
            unit,
            ERP_TO_SHOPIFY,
            erp_id=str(company),
            search=skus,
            request={
                "nro_empresa": company,
                "skus": skus,
                "location_id": location,
                "report_message_id": report.id,
                "report_at": generated,  # the day's report run again is another to fix
            },
            job_id=None,
        )
        fix.job_id = replay_job_id(fix)
        write_audit(
            session,
            "stock.fix",
            f"message:{report.id}",
            None,
            {"nro_empresa": company, "skus": skus, "message_id": fix.id},
        )
        asked = fix
    with db() as session:  # committed first: the replay reads the message it runs
        fix = session.get(Message, asked.id)
        assert fix is not None
        job_id, enqueued = enqueue_replay(fix, get_redis(app_settings().redis_url))
        return jsonify(_answer(fix, job_id, enqueued, skus)), 202


def _answer(fix: Message, job_id: str, enqueued: bool, skus: list[str]) -> dict[str, object]:
    return {"message_id": fix.id, "job_id": job_id, "enqueued": enqueued, "skus": skus, "flow": STOCK_FLOW}
