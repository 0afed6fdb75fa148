"""Orders held for their fraud risk before they reach the ERP (setting `risk_hold`).

Why: an order in the ERP is picked, weighed and loaded on a van; a fraudulent one costs the goods
(perishables do not go back on the shelf) and the work. Shopify analyses every order, and fraud
apps (ClearSale, Konduto...) add their own assessments; the order's recommendation is the worst of
them (`Order.risk.recommendation`: CANCEL, INVESTIGATE, ACCEPT, or NONE while none has a verdict).
With `risk_hold` "cancel" (the default) an order Shopify recommends cancelling waits; with
"investigate" one it recommends investigating waits too; "off" sends every paid order as before.
An analysis still under way (an assessment PENDING) holds the order too while the setting is on,
whatever the recommendation says: Shopify's analysis ends seconds after the checkout, a fraud app's
may take minutes, and an order sent meanwhile cannot be taken back. The recommendation alone does
not show it: Shopify's own LOW gives ACCEPT while a fraud app (ClearSale, Konduto) still analyses,
so the import's read (OrderForErp) takes each assessment's level beside it (a point more).

How it waits: like an order waiting for its payment (jobs.orders), its message pending on purpose
(error_detail {"waiting": "risk", ...}), its link written without an ERP number, its stock held
(jobs.stock_pending). A new assessment (orders/risk_assessment_changed) reads it again, and so does
the orders catch-up: a verdict of ACCEPT sends it. A person who reviewed it either cancels it in
Shopify (orders/cancelled: never sent) or sends it anyway from its message
(shopify_app.api_risk_accept): the decision is kept in the message's request (ACCEPTED), covers the
recommendation it was taken on and any milder one, and is audited. A worse verdict before the order
is sent (accepted at INVESTIGATE, then a fraud app says CANCEL) holds it again; one after it went
is noted on the order for a person while its ERP order is open (jobs.order_risk_late).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.order_risk import ACCEPTED, AWAITING_APP, WAITING, awaiting_app
from ledger.words import Words
from shopify_app.admin_api.order_import_ops import ErpOrderRead, OrderRisk, RiskAssessment

SETTING = "risk_hold"
# The recommendations each setting holds an order for.
HOLDS: dict[str, tuple[str, ...]] = {
    "off": (),
    "cancel": ("CANCEL",),
    "investigate": ("CANCEL", "INVESTIGATE"),
}
SEVERITY = {"NONE": 0, "ACCEPT": 0, "INVESTIGATE": 1, "CANCEL": 2}
__all__ = ["ACCEPTED", "AWAITING_APP", "WAITING", "awaiting_app"]  # ledger.order_risk's, for jobs.orders
FACTS_KEPT = 3  # facts per assessment kept in the message (what a person reads first)


def needs_detail(read: ErpOrderRead, setting: str) -> bool:
    """Whether the import reads the order's assessments in full (OrderRisk) before deciding: its risk
    holds it (a recommendation the setting holds, or an analysis under way: its message names who
    found what, or whose analysis runs). An order it sends costs no read."""
    if not HOLDS.get(setting):
        return False
    recommendation = (read.risk_recommendation or "NONE").upper()
    return recommendation in HOLDS[setting] or "PENDING" in read.risk_levels


def accepted_of(request: Any) -> dict[str, Any] | None:
    """A person's decision kept in a message's request payload (None: none taken)."""
    found = request.get(ACCEPTED) if isinstance(request, dict) else None
    return found if isinstance(found, dict) else None


def app_wait_until(read: ErpOrderRead, setting: str, minutes: int, now: datetime) -> datetime | None:
    """Until when an order no fraud app has assessed yet waits for one (setting
    risk_app_wait_minutes, counted from its checkout: ClearSale or Konduto take an order for
    analysis seconds after it, and a fast import would send it first); None: it does not wait (the
    setting 0, the hold off, an app's assessment there, or the wait over)."""
    if minutes <= 0 or not HOLDS.get(setting) or read.risk_apps or not read.order.created_at:
        return None
    created = datetime.fromisoformat(read.order.created_at.replace("Z", "+00:00"))
    until = created.astimezone(UTC) + timedelta(minutes=minutes)
    return until if now < until else None


def hold(
    read: ErpOrderRead,
    setting: str,
    accepted: dict[str, Any] | None,
    app_wait: int = 0,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """The waiting detail of an order its risk holds, None when it may go. `accepted`: a person's
    decision (it covers the recommendation it was taken on and any milder one, and any analysis
    still under way or awaited). `app_wait`: the setting risk_app_wait_minutes (`app_wait_until`)."""
    held_for = HOLDS.get(setting) or ()
    if not held_for:
        return None
    recommendation = (read.risk_recommendation or "NONE").upper()
    # Not read in full (the import guessed the order would wait for its payment): the levels alone
    levels_only = tuple(RiskAssessment(level, None, ()) for level in read.risk_levels)
    risk = read.risk or OrderRisk(recommendation, levels_only)
    if accepted is not None:
        taken_on = str(accepted.get("recommendation") or "NONE").upper()
        if SEVERITY.get(recommendation, 0) <= SEVERITY.get(taken_on, 0) or recommendation == "NONE":
            return None
    # an analysis under way beside a verdict the setting lets through (Shopify's ACCEPT, or NONE)
    pending = recommendation not in held_for and bool(risk.pending)
    # none of that, and no fraud app has assessed it yet: the shop may wait a while for one
    let_through = recommendation not in held_for and not pending
    until = app_wait_until(read, setting, app_wait, now or datetime.now(UTC)) if let_through else None
    if let_through and until is None:
        return None
    awaited = {AWAITING_APP: {"minutes": app_wait, "until": until.isoformat()}} if until else {}
    return {
        "waiting": WAITING,
        "recommendation": recommendation,
        "pending": pending or until is not None,  # an analysis under way, or awaited
        "assessments": [
            {"level": a.level.upper(), "provider": a.provider, "facts": list(a.facts[:FACTS_KEPT])}
            for a in risk.assessments
        ],
        "setting": setting,
        **awaited,
    }


def why(detail: dict[str, Any]) -> str:
    """The held order's message text, in English (the pages say it in the merchant's language:
    shopify_app.skip_words, api_explain)."""
    assessments = detail.get("assessments") or []
    if awaited := awaiting_app(detail):
        return (
            f"Held up to {awaited['minutes']} minutes after its checkout (until {awaited['until']}) for "
            "a fraud app's analysis: no fraud app has assessed it yet (setting risk_app_wait_minutes). It "
            "goes to the ERP by itself once the wait ends, or an app's verdict lets it; after a review, an "
            "operator can send it now from this message"
        )
    if detail.get("pending"):
        waiting = providers(a.get("provider") for a in assessments if a.get("level") == "PENDING")
        return (
            f"Held while its fraud analysis runs ({waiting} has not given a verdict yet): it goes to the ERP "
            "by itself once the analysis ends without a recommendation to hold it; after a review, an "
            "operator can send it now from this message (setting risk_hold)"
        )
    found = "; ".join(_assessment(a) for a in assessments)
    verb = "cancelling" if detail.get("recommendation") == "CANCEL" else "investigating"
    return (
        f"Held for a fraud review: Shopify recommends {verb} this order"
        + (f" ({found})" if found else "")
        + "; cancel it in Shopify, or, once reviewed, an operator sends it to the ERP from this message "
        "(setting risk_hold)"
    )


def _assessment(a: dict[str, Any]) -> str:
    facts = ", ".join(str(f) for f in a.get("facts") or [])
    return f"{a.get('level')} by {a.get('provider') or 'Shopify'}" + (f": {facts}" if facts else "")


def words(detail: dict[str, Any]) -> Words:
    """The held order's note on the Orders page, in shopify_app.fail_words' catalogue (who assessed
    it: names said alike in both languages)."""
    assessments = detail.get("assessments") or []
    if awaited := awaiting_app(detail):
        return ("order_risk_awaiting_app", {"minutes": awaited["minutes"]})
    if detail.get("pending"):
        running = providers(a.get("provider") for a in assessments if a.get("level") == "PENDING")
        return ("order_risk_pending", {"providers": running})
    named = providers(a.get("provider") for a in assessments)
    if detail.get("recommendation") == "INVESTIGATE":
        return ("order_risk_investigate", {"providers": named})
    return ("order_risk_cancel", {"providers": named})


def providers(names: Iterable[str | None]) -> str:
    """Who assessed an order, each once in order ("Shopify" for Shopify's own: provider None);
    "Shopify" when none is named."""
    return ", ".join(dict.fromkeys(str(name or "Shopify") for name in names)) or "Shopify"
