"""An order already in the ERP that Shopify, or a fraud app, now recommends holding (flow `orders`;
its note "orders (fraud risk): ..." on the order link, a topic of the flow's own: ledger.order_notes).

Why: jobs.order_risk holds an order whose recommendation says so before it reaches the ERP, but a
verdict may come after: a fraud app's review ends minutes or hours after Shopify accepted the
order, and the order went (or a person sent it at INVESTIGATE, and CANCEL came later). The ERP would
then pick, weigh and deliver it. Nothing else tells the e-commerce team: so the order link gets a
note naming the recommendation and who assessed it, while the ERP order is still open, and the
message "risk:<order's numeric id>" fails with it (RISK_AFTER_ERP) for Mark as handled.

Cheap: Shopify sends orders/risk_assessment_changed for every order as its analysis ends. For an
order in the ERP the receiver's one SELECT (jobs.orders._shop_and_sent) tells whether its link holds
this note; a delivery is looked at (`wanted`) only when its level is HIGH or MEDIUM, or the note is
there to clear. A look takes the order's lock and, unless the ERP order is done with or the setting
is off, reads the order's risk (OrderRisk):
- a recommendation the setting holds (risk_hold): noted (the note replaced), its message failed;
- one it does not (the fraud app cleared it): the note cleared, its message closed saying so;
- the ERP order invoiced or cancelled, or the setting off: nothing to stop, the note cleared.
A person who checked the order (called the customer, found it genuine) closes the note as every
other order note is closed: Mark as handled on its message (ledger.handled); a note so closed is not
put again while the recommendation stays what it was.
"""

from __future__ import annotations

import logging
from typing import Any

from jobs import order_clients, order_map, order_risk
from jobs import order_note_messages as note_messages
from jobs.order_lookup import find_link
from jobs.orders import FLOW, order_lock
from ledger import handled, order_notes, shop_settings, trace
from ledger.db import session_scope
from ledger.errors import Rejected
from ledger.models import Message, Shop
from shopify_app.admin_api.order_import_ops import read_order_risk

log = logging.getLogger(__name__)

PREFIX = "risk"  # its message's unit key: "risk:<order's numeric id>" (order_notes.TOPICS)
TOPIC = order_notes.TOPICS[PREFIX]  # its note: "orders (fraud risk): ..."
WORSE = ("high", "medium")  # the webhook's risk_level that may make the recommendation one to hold


def unit_key(order_id: str | int) -> str:
    return f"{PREFIX}:{order_map.numeric_id(order_id)}"


def noted(notes: str | None) -> bool:
    """Whether the link's notes (needs_attention) hold this topic's note."""
    return any(n.slot == (FLOW, None, 0, TOPIC) for n in order_notes.parse(notes))


def wanted(level: Any, notes: str | None) -> bool:
    """Whether a new assessment of an order in the ERP is worth a look: its level may make the
    recommendation one to hold, or the link holds the note (a milder verdict may clear it)."""
    return str(level or "").lower() in WORSE or noted(notes)


def look(shop_id: int, order_id: str | int) -> str:
    """Put, or clear, the note as the order's risk stands now (module docstring); returns flagged |
    cleared | already | handled | skipped.

    Raises:
        Transient: Shopify or Redis unreachable, or the order locked (RQ retries the delivery).
    """
    return note_messages.looked(_look, shop_id, order_id)


def replay(message_id: int) -> str:
    """Retry of the note's message (jobs.orders.replay hands it here): look again."""
    return note_messages.replayed(_look, message_id)


def _look(shop_id: int, num: str) -> str:
    gid = order_map.order_gid(num)
    with order_lock(shop_id, gid, kept=True), session_scope() as session:  # no message yet: kept open
        link = find_link(session, shop_id, gid)
        if link is None or link.nro_pedvenda is None:
            return "skipped"  # not in the ERP: the import decides (jobs.order_risk)
        message = note_messages.find(session, shop_id, unit_key(num))
        shop = session.get(Shop, shop_id)
        assert shop is not None
        setting = shop_settings.effective(shop)[order_risk.SETTING]
        nro = link.nro_pedvenda
        done_with = note_messages.done_with(link.nfe_key, link.erp_status, link.cancelled_at)
        if done_with or not order_risk.HOLDS.get(setting):
            done = f"ERP order {nro} is invoiced or cancelled, or the risk hold is off: nothing to stop"
            note_messages.settle(session, message, ("risk_after_erp_nothing_to_stop", {"nro": nro}), done)
            return "cleared" if order_notes.clear(link, FLOW, topic=TOPIC) else "already"
        risk = read_order_risk(order_clients.admin_client(shop.domain), gid)
        recommendation = (risk.recommendation or "NONE").upper()
        if recommendation not in order_risk.HOLDS[setting]:
            cleared = f"Shopify no longer recommends holding the order ({recommendation}): nothing to hold"
            words = ("risk_after_erp_cleared", {"recommendation": recommendation})
            note_messages.settle(session, message, words, cleared, closed_too=True)
            return "cleared" if order_notes.clear(link, FLOW, topic=TOPIC) else "already"
        if message is not None and handled.info(message) is not None and _same(message, recommendation):
            return "handled"  # a person checked the order at this recommendation: not told again
        name = link.shopify_order_name or gid
        providers = order_risk.providers(a.provider for a in risk.assessments)
        verb = "cancelling" if recommendation == "CANCEL" else "investigating"
        text = (
            f"Shopify now recommends {verb} order {name} (assessed by {providers}), after it went to the "
            f"ERP: ERP order {nro} is still open, so the ERP would pick and deliver it. Check it before it "
            "is picked: if it is fraud, cancel it in Shopify (the ERP order is cancelled with it) or in the "
            "ERP; if it is genuine, mark this handled."
        )
        key = "risk_cancel_after_erp" if recommendation == "CANCEL" else "risk_investigate_after_erp"
        words = (key, {"name": name, "nro": nro, "providers": providers})
        order_notes.put(link, FLOW, text, topic=TOPIC, words=words)
        # its message, failed with the note's words: what Mark as handled closes (ledger.handled)
        message = note_messages.begin(session, shop_id, unit_key(num), gid, num, name, nro)
        detail = {"recommendation": recommendation}
        trace.fail(session, message, Rejected(text, system="app", code="RISK_AFTER_ERP", detail=detail,
                                              words=words))  # fmt: skip
        log.warning("orders: %s in ERP order %s: Shopify now recommends %s: noted for a person", name, nro,
                    recommendation, extra={"shop_id": shop_id, "flow": FLOW, "order": num})  # fmt: skip
        return "flagged"


def _same(message: Message, recommendation: str) -> bool:
    """Whether the message a person closed as handled was about this recommendation."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    return detail.get("recommendation") in (None, recommendation)
