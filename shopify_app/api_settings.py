"""The shop's integration settings (`shops.settings`): keys, defaults, validation, and their page.

The flows read these keys from `Shop.settings` directly (snake_case, documented in
openapi.yaml `ShopSettings`): `seq_canal_venda` and `cod_geral_oper` (the ERP sales channel and
fiscal operation of every order sent), `nro_representante` and `nro_tab_venda` (the sales
representative and sale price table of every order sent, POST PedidoVenda's nroRepresentante and
nroTabVenda; optional: null, the default, sends the order as before, without a representative and
with nroTabVenda null, and saving null clears one), `inactive_sku_status` (DRAFT | ARCHIVED: what a product
becomes when its ERP SKU is inactive), `payment_confirmation` (paid | authorized: when an order
goes to the ERP), `risk_hold` (cancel | investigate | off: an order Shopify recommends cancelling,
or also investigating, or one whose fraud analysis is under way, waits for a person instead of going
to the ERP; jobs/order_risk.py), `risk_app_wait_minutes` (0..60, default 0: the minutes after its
checkout an order no fraud app has assessed yet waits for one while `risk_hold` is on; an app's
assessment, the wait's end or a person sends it), `bulk_threshold` (changes per run above which
catalog flows use a bulk operation), `default_role` (read by shopify_app.roles for staff nobody assigned),
`cancel_restock` / `cancel_refund` / `cancel_notify_customer` (what an ERP cancellation does to
the Shopify order), `fulfillment_notify_customer` (Shopify e-mails the customer the fulfillment
made at the NF-e and the tracking the ERP gives after it), `card_payment_data` (each card payment of
an order in the ERP is recorded through the ERP's card call: NSU, authorisation, brand, BIN;
jobs/card_payments.py; off for an ERP without that call) and `publish_to` (the publication ids
of the sales channels a product the app creates is published to; null: the Online Store's,
jobs/catalog_publish.py) and `ignored_companies` (ERP company numbers not sold in this store:
unmapped, the stock flow leaves them out instead of parking a refusal for each; saved sorted,
without repeats) and `marketplace_sources` (Shopify order sourceNames sold on a third party's
marketplace, e.g. a marketplace channel app's: their orders go to the ERP with indIntermediador 1,
the NF-e's "sold through an intermediary", every other order with 0, the store's own platform;
compared trimmed and case-insensitively; at most 50 of 100 characters, saved trimmed, without
repeats, in the order given) and `pay_on_delivery_gateways` (the names of the Shopify manual payment
methods collected at delivery, "pagamento na entrega": cash or the driver's card machine, e.g.
"Cash on Delivery (COD)": an order left PENDING by one goes to the ERP with the rest under that
method's ERP payment form (De:Para payment methods), and invoicing captures nothing for it;
compared as the payment De:Para compares gateways, trimmed and case-insensitively; at most 20 of
100 characters, saved trimmed, without repeats, in the order given) and `delivery_slot_attributes`
(the order attributes a delivery-date app writes the customer's delivery or pickup slot in, e.g.
"Delivery-Date", "Horário de entrega": obsPedido names them after the order's name, in this order;
jobs/order_slot.py; compared case- and accent-insensitively, "-", "_" and spaces alike; at most 20
of 100 characters; [] writes no slot) and `alert_emails` (the team's addresses the alert e-mails
go to, jobs/alerts.py: what failed, waits for a mapping, was flagged on an order or stopped a
schedule's runs since the last one; at most 10, saved trimmed, without repeats; [] sends none) and
`alert_locale` (pt-BR | en: the alerts' language). Their defaults are
ledger.shop_settings.DEFAULTS, the table the flows read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from ledger import shop_settings
from ledger.mappings import MAX_COMPANY, gateway_key
from ledger.models import Role, Shop
from ledger.shop_row_lock import lock_shop_row
from ledger.shop_settings import slot_key
from shopify_app.api_common import as_int, db, invalid, json_body, not_found, reject_unknown, write_audit
from shopify_app.enqueue import resume_open, resume_parked, resume_waiting
from shopify_app.roles import require_role

bp = Blueprint("settings", __name__, url_prefix="/setup")

# An address the mail server can be handed as is, and a To header reads back as itself: a dot-atom
# local part (RFC 5322's atext: no spaces, no display name, none of a header's specials such as
# ( ) : [ ] \ , ; < > "), one @, and a domain of labels with a dot (no empty label).
_PUBLICATION = re.compile(r"gid://shopify/Publication/[1-9][0-9]{0,18}")  # a Shopify id: int64
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


@dataclass(frozen=True)
class IntSetting:
    """An integer from `minimum` to `maximum`; `optional`: null too (unset, its default)."""

    minimum: int
    maximum: int
    optional: bool = False


@dataclass(frozen=True)
class ChoiceSetting:
    choices: tuple[str, ...]


@dataclass(frozen=True)
class BoolSetting:
    pass


@dataclass(frozen=True)
class PublicationsSetting:
    """null (the Online Store), or a list of Publication gids ([]: publish nowhere)."""

    maximum: int = 20
    prefix: str = "gid://shopify/Publication/"


@dataclass(frozen=True)
class CompaniesSetting:
    """A list of ERP company numbers (NROEMPRESA), each 1..999999999 (ledger.mappings.company_number's,
    as a location line takes them)."""

    maximum: int = 500  # as many as the location mappings table takes


@dataclass(frozen=True)
class SourcesSetting:
    """A list of names (non-empty once trimmed): Shopify order sourceNames, or payment gateway names
    (`gateways`: repeats told as ledger.mappings.gateway_key tells them, whitespace collapsed)."""

    maximum: int = 50
    length: int = 100
    noun: str = "order source names"
    gateways: bool = False
    slots: bool = False  # order attribute names: repeats told as ledger.shop_settings.slot_key tells them


@dataclass(frozen=True)
class EmailsSetting:
    """A list of e-mail addresses (user@domain, no display name), compared case-insensitively."""

    maximum: int = 10
    length: int = 254  # RFC 5321's limit on a path


Rule = (
    IntSetting
    | ChoiceSetting
    | BoolSetting
    | PublicationsSetting
    | CompaniesSetting
    | SourcesSetting
    | EmailsSetting
)
SETTINGS: dict[str, Rule] = {
    "seq_canal_venda": IntSetting(1, 999_999),
    "cod_geral_oper": IntSetting(1, 999_999),
    "nro_representante": IntSetting(1, 999_999, optional=True),
    "nro_tab_venda": IntSetting(1, 999_999, optional=True),
    "inactive_sku_status": ChoiceSetting(("DRAFT", "ARCHIVED")),
    "payment_confirmation": ChoiceSetting(("paid", "authorized")),
    "risk_hold": ChoiceSetting(("cancel", "investigate", "off")),
    "risk_app_wait_minutes": IntSetting(0, 60),
    "bulk_threshold": IntSetting(1, 100_000),
    "default_role": ChoiceSetting((Role.OPERATOR.value, Role.VIEWER.value)),
    "cancel_restock": BoolSetting(),
    "cancel_refund": BoolSetting(),
    "cancel_notify_customer": BoolSetting(),
    "fulfillment_notify_customer": BoolSetting(),
    "card_payment_data": BoolSetting(),
    "publish_to": PublicationsSetting(),
    "ignored_companies": CompaniesSetting(),
    "marketplace_sources": SourcesSetting(),
    "pay_on_delivery_gateways": SourcesSetting(20, noun="payment method names", gateways=True),
    "delivery_slot_attributes": SourcesSetting(20, noun="order attribute names", slots=True),
    "alert_emails": EmailsSetting(),
    "alert_locale": ChoiceSetting(("pt-BR", "en")),
}
DEFAULTS: dict[str, Any] = {key: shop_settings.DEFAULTS[key] for key in SETTINGS}  # one table of defaults


def effective_settings(stored: dict[str, Any] | None) -> dict[str, Any]:
    """Every known setting: the stored value when valid, else its default."""
    stored = stored or {}
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        value = stored.get(key, default)
        out[key] = value if value is None or _problem(key, value) is None else default
    return out


def validate_settings(changes: dict[str, Any]) -> dict[str, str]:
    """Field -> what is wrong, for every bad key of a settings change (empty when all good)."""
    errors = {key: "unknown setting" for key in changes if key not in SETTINGS}
    for key, value in changes.items():
        if key in SETTINGS:
            problem = _problem(key, value)
            if problem:
                errors[key] = problem
    return errors


def _problem(key: str, value: Any) -> str | None:
    rule = SETTINGS[key]
    if isinstance(rule, PublicationsSetting):
        if value is None:
            return None
        if not isinstance(value, list) or len(value) > rule.maximum:
            return f"must be null or a list of at most {rule.maximum} publication ids"
        bad = [v for v in value if not isinstance(v, str) or not _PUBLICATION.fullmatch(v)]
        return f"must be publication ids ({rule.prefix}...)" if bad else None
    if isinstance(rule, CompaniesSetting):
        if not isinstance(value, list) or len(value) > rule.maximum:
            return f"must be a list of at most {rule.maximum} ERP company numbers"
        bad = [v for v in value if (number := as_int(v)) is None or not 1 <= number <= MAX_COMPANY]
        return f"must be ERP company numbers (integers from 1 to {MAX_COMPANY})" if bad else None
    if isinstance(rule, SourcesSetting):
        if not isinstance(value, list) or len(value) > rule.maximum:
            return f"must be a list of at most {rule.maximum} {rule.noun}"
        bad = [v for v in value if not isinstance(v, str) or not v.strip() or len(v.strip()) > rule.length]
        return f"must be {rule.noun} (text of 1 to {rule.length} characters)" if bad else None
    if isinstance(rule, EmailsSetting):
        if not isinstance(value, list) or len(value) > rule.maximum:
            return f"must be a list of at most {rule.maximum} e-mail addresses"
        bad = [
            v
            for v in value
            if not isinstance(v, str) or not _EMAIL.fullmatch(v.strip()) or len(v.strip()) > rule.length
        ]
        return f"must be e-mail addresses (name@domain.com): {', '.join(map(str, bad[:3]))}" if bad else None
    if isinstance(rule, BoolSetting):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(rule, IntSetting):
        if value is None:
            return None if rule.optional else "is required"
        number = as_int(value)
        if number is None:
            return "must be an integer"
        if not rule.minimum <= number <= rule.maximum:
            return f"must be between {rule.minimum} and {rule.maximum}"
        return None
    if value not in rule.choices:
        return f"must be one of {', '.join(rule.choices)}"
    return None


def _clean(rule: Rule, value: Any) -> Any:
    """A valid value as stored: integers as numbers, company lists sorted without repeats, source
    names trimmed without repeats (compared case-insensitively, as the import does)."""
    if isinstance(rule, IntSetting):
        return None if value is None else as_int(value)
    if isinstance(rule, CompaniesSetting):
        return sorted({as_int(v) for v in value})
    if isinstance(rule, PublicationsSetting):  # repeats dropped, the order kept
        return None if value is None else list(dict.fromkeys(value))
    if isinstance(rule, EmailsSetting):
        emails: dict[str, str] = {}
        for address in value:
            emails.setdefault(address.strip().casefold(), address.strip())
        return list(emails.values())
    if isinstance(rule, SourcesSetting):
        kept: dict[str, str] = {}
        for name in value:
            kept.setdefault(_source_key(rule, name), name.strip())
        return list(kept.values())
    return value


def _source_key(rule: SourcesSetting, name: str) -> str:
    if rule.gateways:
        return gateway_key(name)
    return slot_key(name) if rule.slots else name.strip().casefold()


@bp.get("/settings")
@require_role(Role.VIEWER)
def get_settings() -> ResponseReturnValue:
    with db() as session:
        shop = session.get(Shop, g.shop.id)
        if shop is None:
            raise not_found("shop")
        return jsonify(effective_settings(shop.settings))


@bp.put("/settings")
@require_role(Role.ADMIN)
def put_settings() -> ResponseReturnValue:
    """Merge the given keys into the shop's settings (400 with field errors, nothing saved)."""
    changes = json_body()
    if not changes:
        raise invalid({"body": "name at least one setting"})
    reject_unknown(changes, set(SETTINGS))
    errors = validate_settings(changes)
    if errors:
        raise invalid(errors)
    changes = {k: _clean(SETTINGS[k], v) for k, v in changes.items()}
    with db() as session:
        lock_shop_row(session, g.shop.id)  # two saves at once merge into what the other saved
        shop = session.get(Shop, g.shop.id)
        if shop is None:
            raise not_found("shop")
        before = dict(shop.settings or {})
        after = {**before, **changes}
        shop.settings = after  # a new dict: the JSON column tracks assignment, not mutation
        # What the flows read, before and after (a key never stored is its default): saving the
        # value in effect changes nothing, and is neither audited nor acted on.
        was, now = effective_settings(before), effective_settings(after)
        changed_before = {k: was[k] for k in changes if was[k] != now[k]}
        if changed_before:
            write_audit(
                session, "settings.changed", "settings", changed_before, {k: now[k] for k in changed_before}
            )
        # Orders parked until the sales channel / fiscal operation is set go on now, not at the
        # next catch-up (the kind and codes jobs.order_lookup parks them with).
        ready = [key for key in ("seq_canal_venda", "cod_geral_oper") if after.get(key) is not None]
        resumed = resume_parked(session, g.shop.id, "setting", ready) if ready else 0
        # Orders waiting for their payment: ready now? (paid at delivery: a manual method just listed)
        if "payment_confirmation" in changed_before or "pay_on_delivery_gateways" in changed_before:
            resumed += resume_waiting(session, g.shop.id, "orders", "payment")
        if "risk_hold" in changed_before or "risk_app_wait_minutes" in changed_before:  # held still?
            resumed += resume_waiting(session, g.shop.id, "orders", "risk")
        if "card_payment_data" in changed_before and not now["card_payment_data"]:
            # card data no longer sent (an ERP without the card call): the card messages left open
            # end by their replay, saying so (jobs.card_payments), not parked or failed for good
            resumed += resume_open(session, g.shop.id, "orders", "card:%")
        if "ignored_companies" in changed_before:  # their stock refusals: the replay closes them
            codes = [str(company) for company in changes["ignored_companies"]]
            resumed += resume_parked(session, g.shop.id, "location", codes, flow="stock")
        return jsonify({**effective_settings(after), "resumed": resumed})
