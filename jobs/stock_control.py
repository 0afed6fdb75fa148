"""A SKU whose stock control differs between the company that decides its inventoryPolicy and
another company mapped to a location: named once, for a person.

Why: Shopify keeps one inventoryPolicy per variant (DENY: stop selling at 0; CONTINUE: sell on),
while the ERP keeps stock control (INDCONTROLAESTOQUEECOMM) per company and product. The policy
follows one company's (jobs.stock._Shop.policy_company). Where another company mapped to a
location of the store says otherwise, that location sells under the deciding company's rule:
one without control whose item still stops at 0 (its level, which the app no longer writes, left
as it was), or one with control whose item sells past its stock. Nothing said so.

What: one skipped message per SKU and differing company ("stock:control:<company>:<idSku>",
informational: nothing to retry), in the merchant's words (shopify_app.skip_words
"stock_control_differs_deny" / "stock_control_differs_continue": which company decides, which
differs, what that means for selling at that location). Not repeated while the difference lasts;
done, saying why (its response's `settled`, shopify_app.stock_words), once it ends: the stock
control made equal, the company no longer mapped (or closed), or the deciding company changed. A
difference that comes back (or turns the other way) opens the same message again.

How, cheaply (a pass touches few SKUs; the catalogue may hold 50,000 SKUs x 10 companies):
- A company's control of a SKU is what its "stock" binding ("<company>:<idSku>") remembers: the
  ERP figure "base" is None exactly when the item has no stock control (jobs.stock_map.sellable_base).
- A difference can only begin or end where a company's control of the SKU turned, so a pass
  checks only the SKUs whose control it reads differently from its own binding (or that are new
  to the binding, or whose variant came since: jobs.stock._changes already reads those bindings),
  and every SKU it read only when it reads the company's rows whole for a reason that changes who
  is compared (its location moved, it decides the policy now, or it decides and has not compared
  every SKU yet: the "stock_policy_from" marker's data, read anyway, says so; a store whose marker
  predates this check reads the deciding company's rows whole once) or on a Retry. An unchanged
  pass, the daily sweep of unchanged rows included, checks nothing and sends not one statement more.
- The deciding company's pass compares a checked SKU with every other mapped company's binding;
  another company's pass compares it with the deciding company's only.
- What was named is kept per SKU (binding "stock_control": digest = the deciding company, data
  {"differs": {"<company>": "S" | "N"}}, that company's control), read only for the checked SKUs,
  so a message is opened or closed only when that changes.
- A company that loses its mapping, or closes in the ERP (jobs.stock_closed), has its messages
  closed at once (jobs.stock._forget_location, when a location was known for it); that whole pass
  of the deciding company closes those naming another company as the one deciding.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import bindings, trace
from ledger.bindings import STOCK_KIND, BindingRow
from ledger.flows import ERP_TO_SHOPIFY
from ledger.models import Binding, Message, MessageStatus
from ledger.words import Words, beside

FLOW = "stock"
UNIT_PREFIX = "stock:control:"  # + "<company>:<idSku>"
# erp_id = idSku, digest = the deciding company, data {"differs": {"<company>": "S" | "N"}}: named now
KIND = "stock_control"
# The English reasons (error_text: logs, search); the pages say them in the merchant's language.
DIFFERS_DENY = (
    "stock control differs: company {deciding} controls the stock of SKU {sku} in the ERP and company "
    "{company} does not; Shopify keeps one inventoryPolicy per variant, and company {deciding}'s stock "
    "control decides it, so at company {company}'s location too the item stops selling at 0, its level "
    "there left as the app last wrote it (it writes none while company {company} does not control the "
    "stock); set the same stock control for both companies in the ERP if company {company}'s store "
    "should sell it without limit"
)
DIFFERS_CONTINUE = (
    "stock control differs: company {deciding} does not control the stock of SKU {sku} in the ERP and "
    "company {company} does; Shopify keeps one inventoryPolicy per variant, and company {deciding}'s "
    "stock control decides it, so the item keeps selling when out of stock at every location, company "
    "{company}'s too: its level there follows company {company}'s ERP stock, but Shopify sells past 0; "
    "set the same stock control for both companies in the ERP if company {company}'s store should stop "
    "at its stock"
)


def unit_key(company: int, sku: str) -> str:
    return f"{UNIT_PREFIX}{company}:{sku}"


def controlled(binding: Binding | None) -> bool | None:
    """The company's stock control of the SKU as its "stock" binding remembers it (None: unknown,
    no ERP figure kept yet)."""
    data = (binding.data or {}) if binding is not None else {}
    return None if "base" not in data else data["base"] is not None


def turned(old: Binding | None, base: Any) -> bool:
    """Whether a SKU read now with ERP figure `base` (None: no stock control) may begin or end a
    difference: its control differs from what its "stock" binding `old` remembers, or the binding
    does not say (new), or it waited for its variant (no Shopify item: never compared)."""
    return old is None or old.shopify_id is None or controlled(old) != (base is not None)


def note(
    session: Session,
    shop_id: int,
    deciding: int | None,
    company: int,
    mapped: Collection[int],
    checked: Mapping[str, bool],
) -> tuple[list[int], list[int]]:
    """After `company`'s pass computed its targets, in its transaction: open or close the messages
    of the SKUs `checked` ({idSku: controlled at `company`, as read now}) whose difference with the
    deciding company began or ended. `mapped`: the companies mapped to a location here and open.
    Returns the ids of the messages (opened, closed)."""
    if deciding is None or not checked or deciding not in mapped or company not in mapped:
        return [], []
    deciding_pass = company == deciding
    others = sorted(c for c in mapped if c != deciding) if deciding_pass else [company]
    if not others:
        return [], []
    if deciding_pass:
        keys = [f"{c}:{sku}" for c in others for sku in checked]
        known = bindings.get_many(session, shop_id, STOCK_KIND, keys)
        decides = dict(checked)
        at = {(c, sku): controlled(known.get(f"{c}:{sku}")) for c in others for sku in checked}
    else:
        known = bindings.get_many(session, shop_id, STOCK_KIND, [f"{deciding}:{sku}" for sku in checked])
        decides = {sku: controlled(known.get(f"{deciding}:{sku}")) for sku in checked}
        at = {(company, sku): now for sku, now in checked.items()}
    state = bindings.get_many(session, shop_id, KIND, checked)
    rows: list[BindingRow] = []
    opening: list[tuple[str, int, bool, bool]] = []  # (SKU, company, deciding controls, company controls)
    closing: dict[str, tuple[str, Words]] = {}  # unit key -> why, in English and in words
    for sku in checked:
        kept = state.get(sku)
        # named under a company that no longer decides: closed by `settle_undecided`
        was = _differs(kept) if kept is not None and kept.digest == str(deciding) else {}
        now = dict(was)
        if deciding_pass:  # a company no longer mapped (or closed) is named no more
            for gone in [c for c in was if int(c) not in others]:
                del now[gone]
                closing[unit_key(int(gone), sku)] = _unmapped(int(gone), sku)
        rule = decides.get(sku)
        for other in others:
            theirs = at.get((other, sku))
            if rule is None or theirs is None:
                continue  # not known yet on one side: as it was
            if theirs != rule:
                now[str(other)] = _flag(theirs)
                if was.get(str(other)) != now[str(other)]:
                    opening.append((sku, other, rule, theirs))
            elif now.pop(str(other), None) is not None:
                closing[unit_key(other, sku)] = _same(other, deciding, sku)
        if now != was or (kept is not None and kept.digest != str(deciding)):
            rows.append(BindingRow(sku, None, str(deciding), {"differs": now}))
    opened = [_open(session, shop_id, deciding, *found).id for found in opening]
    closed = _close(session, shop_id, closing)
    bindings.upsert_many(session, shop_id, KIND, rows)
    return opened, closed


def settle_unmapped(session: Session, shop_id: int, company: int) -> list[int]:
    """The company lost its location here: its messages are done (its stock control no longer sells
    anything in this store), and it is named no more for their SKUs (mapped again, its first pass
    reads all its rows and names anew what differs). Returns the ids closed."""
    found = _named(session, shop_id, f"{UNIT_PREFIX}{company}:%")
    closed = _close(session, shop_id, {m.unit_key: _unmapped(company, _sku(m)) for m in found})
    state = bindings.get_many(session, shop_id, KIND, {_sku(m) for m in found})
    rows = [
        BindingRow(sku, None, b.digest, {"differs": {c: f for c, f in named.items() if c != str(company)}})
        for sku, b in state.items()
        if str(company) in (named := _differs(b))
    ]
    bindings.upsert_many(session, shop_id, KIND, rows)
    return closed


def settle_undecided(session: Session, shop_id: int, deciding: int) -> list[int]:
    """`deciding` decides the policy now: the messages naming another company as the one deciding
    are done, and what was named under it forgotten (this pass names anew what differs from
    `deciding`). Returns the ids closed."""
    named = _named(session, shop_id, UNIT_PREFIX + "%")
    found = [m for m in named if _request(m).get("deciding") != deciding]
    closed = _close(
        session,
        shop_id,
        {m.unit_key: _undecided(_request(m).get("deciding"), deciding, _sku(m)) for m in found},
    )
    state = bindings.get_many(session, shop_id, KIND, {_sku(m) for m in found})
    rows = [
        BindingRow(sku, None, None, {"differs": {}}) for sku, b in state.items() if b.digest != str(deciding)
    ]
    bindings.upsert_many(session, shop_id, KIND, rows)
    return closed


def _open(
    session: Session, shop_id: int, deciding: int, sku: str, company: int, rule: bool, theirs: bool
) -> Message:
    message = trace.begin(
        session,
        shop_id,
        FLOW,
        unit_key(company, sku),
        ERP_TO_SHOPIFY,
        erp_id=str(company),
        search=[sku, f"empresa-{company}", f"empresa-{deciding}"],
        # a Retry (Replay once done) reads the SKU at the company again, and checks it anew
        request={
            "nro_empresa": company,
            "skus": [sku],
            "deciding": deciding,
            "controlled": {str(deciding): rule, str(company): theirs},
        },
    )
    params = {"sku": sku, "company": company, "deciding": deciding}
    if rule:
        said = DIFFERS_DENY.format(**params)
        trace.skip(session, message, said, words=("stock_control_differs_deny", params))
    else:
        said = DIFFERS_CONTINUE.format(**params)
        trace.skip(session, message, said, words=("stock_control_differs_continue", params))
    return message


def _close(session: Session, shop_id: int, why: Mapping[str, tuple[str, Words]]) -> list[int]:
    """Done, each saying why (its response's `settled`, beside it its words), those still skipped."""
    if not why:
        return []
    closed: list[int] = []
    for message in trace.unit_messages(
        session, shop_id, FLOW, why, Message.status == MessageStatus.SKIPPED.value, ~trace.closed_as_handled()
    ):
        english, words = why[message.unit_key]
        trace.succeed(session, message, response=beside("settled", english, words))
        closed.append(message.id)
    return closed


def _named(session: Session, shop_id: int, like: str) -> list[Message]:
    """The messages naming a difference now (skipped, not closed as handled) whose unit matches `like`."""
    return list(
        session.scalars(
            select(Message).where(
                Message.shop_id == shop_id,
                Message.flow == FLOW,
                Message.unit_key.like(like),
                Message.status == MessageStatus.SKIPPED.value,
                ~trace.closed_as_handled(),
            )
        )
    )


def _same(company: int, deciding: int, sku: str) -> tuple[str, Words]:
    return (
        f"company {company}'s stock control of SKU {sku} is the same as company {deciding}'s again: "
        "nothing left to say",
        ("stock_control_same", {"company": company, "deciding": deciding, "sku": sku}),
    )


def _unmapped(company: int, sku: str) -> tuple[str, Words]:
    return (
        f"company {company} is no longer mapped to a location of this store (or is closed in the ERP): "
        f"its stock control of SKU {sku} no longer matters here",
        ("stock_control_unmapped", {"company": company, "sku": sku}),
    )


def _undecided(was: Any, now: int, sku: str) -> tuple[str, Words]:
    return (
        f"company {was} no longer decides whether SKU {sku} sells when out of stock; company {now} does, "
        "and its pass names any difference anew",
        ("stock_control_not_decided", {"was": was, "now": now, "sku": sku}),
    )


def _differs(state: Binding) -> dict[str, str]:
    return dict((state.data or {}).get("differs") or {})


def _flag(controls: bool) -> str:
    return "S" if controls else "N"


def _request(message: Message) -> dict[str, Any]:
    return message.request_payload if isinstance(message.request_payload, dict) else {}


def _sku(message: Message) -> str:
    return message.unit_key.removeprefix(UNIT_PREFIX).split(":", 1)[-1]
