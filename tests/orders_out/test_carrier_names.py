"""The carrier the ERP names with an invoice reaches Shopify under the name Shopify knows it by
(its tracking link is built for a known name only); a name it does not know passes as given."""

from __future__ import annotations

import pytest

from jobs.carrier_names import shopify_carrier
from ledger.models import MessageStatus

from .conftest import World


@pytest.mark.parametrize(
    ("erp", "shopify"),
    [
        ("CORREIOS", "Correios"),
        ("Correios SEDEX", "Correios"),
        ("correios - pac", "Correios"),
        ("SEDEX", "Correios"),
        ("EMPRESA BRASILEIRA DE CORREIOS E TELÉGRAFOS", "Correios"),
        ("ECT", "Correios"),
        ("JADLOG", "Jadlog"),
        ("JADLOG LOGISTICA S.A.", "Jadlog"),
        ("Jad Log", "Jadlog"),
        ("LOGGI TECNOLOGIA LTDA", "Loggi"),
        ("TOTAL EXPRESS", "Total Express"),
        ("TOTALEXPRESS LTDA", "Total Express"),
        ("FEDEX", "FedEx"),
        ("DHL EXPRESS", "DHL Express"),
        ("Transportadora do Zé", "Transportadora do Zé"),
        ("PACIFICO TRANSPORTES", "PACIFICO TRANSPORTES"),
        ("  ", None),
        (None, None),
    ],
)
def test_known_carrier_spellings_become_shopifys_names(erp: str | None, shopify: str | None) -> None:
    assert shopify_carrier(erp) == shopify


def test_the_erps_carrier_in_capitals_reaches_shopify_as_correios(world: World) -> None:
    order = world.linked_order([(world.plain(0), 2)], gateway="cartao", capture="manual")
    world.erp.invoice(order.nro, tracking=False)
    world.poll()
    world.erp.track(order.nro, "BR000000009BR", carrier="CORREIOS SEDEX")
    world.poll()
    *_, later = world.messages("invoices", order)
    assert later.status == MessageStatus.DONE.value, later.error_text
    [fulfillment] = world.settlement(order.gid).fulfillments
    assert (fulfillment.tracking_company, fulfillment.tracking_number) == ("Correios", "BR000000009BR")
    assert "(Correios)" in later.response_payload["tracking"]
