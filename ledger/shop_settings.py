"""A shop's integration settings (Shop.settings JSON) with their defaults, shared by the API and jobs.

The API validates what the merchant saves (shopify_app/api_settings.py); jobs read the
effective value here so a key never saved still has its documented default.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ledger.models import Shop

DEFAULTS: dict[str, Any] = {
    "seq_canal_venda": None,  # sales channel registered in the ERP (required before orders flow)
    "cod_geral_oper": None,  # fiscal operation code (required before orders flow)
    # The order header's sales representative (nroRepresentante: most installations want one on
    # every MAD_PEDVENDA, the one registered for the e-commerce channel) and sale price table
    # (nroTabVenda); None: left out / sent null, the ERP's own default (jobs/order_lookup.py)
    "nro_representante": None,
    "nro_tab_venda": None,
    "inactive_sku_status": "DRAFT",  # what an SKU inactive in the ERP becomes: DRAFT | ARCHIVED
    "payment_confirmation": "paid",  # send orders when paid | when authorized (manual capture)
    # hold an order for a person when Shopify recommends cancelling it | cancelling or investigating
    # it | never (off); an analysis under way holds it too unless off (jobs/order_risk.py)
    "risk_hold": "cancel",
    # minutes after its checkout an order no fraud app has assessed yet waits for one (ClearSale,
    # Konduto take an order for analysis seconds after its checkout; a fast import sends it first);
    # 0: it does not wait (jobs/order_risk.py app_wait_until)
    "risk_app_wait_minutes": 0,
    "bulk_threshold": 250,  # products changed in one run above which a bulk operation is used
    "default_role": "viewer",  # role of a staff member nobody granted one
    "cancel_restock": True,  # ERP cancellation restocks the Shopify order
    "cancel_refund": True,  # ERP cancellation refunds the Shopify payment
    "cancel_notify_customer": False,
    # Shopify e-mails the customer about the fulfillment made at the NF-e (shipping confirmation)
    # and about tracking the ERP gives after it (shipping update): jobs/invoices.py
    "fulfillment_notify_customer": False,
    # publication ids (gid://shopify/Publication/...) a product the app creates is published to;
    # None: the Online Store's (jobs/catalog_publish.py); []: none (the merchant publishes by hand)
    "publish_to": None,
    # ERP companies not sold in this store: with no location mapped, the stock flow neither syncs
    # nor refuses them (jobs/stock.py); a company mapped to a location is synced all the same
    "ignored_companies": [],
    # Shopify order sourceNames sold on a third party's marketplace (a marketplace channel app's):
    # their orders go to the ERP with indIntermediador 1 (NF-e layout 4.00), every other with 0
    # (jobs/order_map.py intermediary); compared trimmed, case-insensitively
    "marketplace_sources": [],
    # Shopify manual payment methods collected at delivery ("Cash on Delivery (COD)", "Pagamento na
    # entrega": cash or the driver's card machine): an order left PENDING by one goes to the ERP with
    # the rest under its ERP payment form, and invoicing captures nothing for it (jobs/order_map.py
    # pays_on_delivery); compared trimmed, case-insensitively, as the payment De:Para compares them
    "pay_on_delivery_gateways": [],
    # Order attributes a delivery-date app writes the customer's delivery or pickup slot in (Zapiet's,
    # a theme's calendar, a Brazilian scheduling app's): named right after the order's name in
    # obsPedido (jobs/order_slot.py); compared case- and accent-insensitively, "-", "_" and spaces alike
    "delivery_slot_attributes": [
        "Delivery-Date",
        "Delivery-Time",
        "Pickup-Date",
        "Pickup-Time",
        "Data de entrega",
        "Horário de entrega",
        "Data de retirada",
        "Horário de retirada",
    ],
    # The team's e-mail addresses told when something needs a person (jobs/alerts.py: a digest every
    # few minutes of what failed, waits for a mapping or was flagged on an order); []: no e-mail
    "alert_emails": [],
    "alert_locale": "pt-BR",  # the language the alert e-mails are written in: pt-BR | en
    # Each card payment of an order in the ERP is recorded through the ERP's card call (NSU,
    # authorisation, brand, BIN: jobs/card_payments.py); off for an ERP without that call
    "card_payment_data": True,
}


def effective(shop: Shop) -> dict[str, Any]:
    """Every setting: the saved value, or its default."""
    return effective_of(shop.settings)


def effective_of(saved: dict[str, Any] | None) -> dict[str, Any]:
    """`effective` from the shop's settings column as read (a SELECT of that column)."""
    return {**DEFAULTS, **(saved or {})}


def get(shop: Shop, key: str) -> Any:
    if key not in DEFAULTS:
        raise KeyError(f"unknown shop setting {key!r}")
    return (shop.settings or {}).get(key, DEFAULTS[key])


_NOT_WORD = re.compile(r"[^0-9a-z]+")


def slot_key(name: str) -> str:
    """An order attribute's name as the setting delivery_slot_attributes compares it (jobs/order_slot.py):
    case-folded, without accents, any run of what is neither a letter nor a digit as one space, trimmed."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", bare).strip()
