"""Which ERP company an order goes to, and what it waits for when none can be told."""

from __future__ import annotations

import pytest

from jobs.order_catch_up import mapping_now_exists
from jobs.order_lookup import resolve_target
from ledger import mappings
from ledger.db import get_sessionmaker
from ledger.errors import MappingMissing
from ledger.models import Shop, StoreLink

LOCATION = "gid://shopify/Location/7"
SETTINGS = {"seq_canal_venda": 7, "cod_geral_oper": 207, "payment_confirmation": "paid"}


def _waits_for(session, shop_id: int, location_ids: list[str]) -> dict:
    with pytest.raises(MappingMissing) as caught:
        resolve_target(session, shop_id, SETTINGS, location_ids)
    return {"mapping": {"kind": caught.value.kind, "code": caught.value.code}}


def test_with_no_store_link_an_order_waits_for_its_locations_mapping_and_goes_once_it_exists(
    sqlite_database_url,
):
    """A shop that sells per location (no store link): an order from an unmapped location waits
    for that location's mapping (which resumes it), not for a store link nobody will set."""
    session = get_sessionmaker(sqlite_database_url)()
    shop = Shop(domain="mercado-bom.myshopify.com")
    session.add(shop)
    session.commit()
    parked = _waits_for(session, shop.id, [LOCATION])
    assert parked == {"mapping": {"kind": "location", "code": LOCATION}}
    assert not mapping_now_exists(session, shop.id, SETTINGS, parked)
    assert _waits_for(session, shop.id, []) == {"mapping": {"kind": "store_link", "code": shop.domain}}

    mappings.set_location_mapping(session, shop.id, 1, LOCATION)
    session.commit()
    assert mapping_now_exists(session, shop.id, SETTINGS, parked)
    assert resolve_target(session, shop.id, SETTINGS, [LOCATION]).nro_empresa == 1


def test_a_store_link_also_ends_the_wait_for_an_unmapped_location(sqlite_database_url):
    session = get_sessionmaker(sqlite_database_url)()
    shop = Shop(domain="mercado-dois.myshopify.com")
    session.add(shop)
    session.commit()
    parked = _waits_for(session, shop.id, [LOCATION])
    session.add(StoreLink(shop_id=shop.id, nro_empresa=3, nro_segmento=2))
    session.commit()
    assert mapping_now_exists(session, shop.id, SETTINGS, parked)
    assert resolve_target(session, shop.id, SETTINGS, [LOCATION]).nro_empresa == 3
