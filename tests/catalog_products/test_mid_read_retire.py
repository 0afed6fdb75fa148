"""The skus pass retires the packagings of a changed product that its read did not list
(catalog_flow._retire_moved). A product changed again WHILE that read runs leaves the read's
window (ProdutoSku's change time includes the product's), so its packagings not served yet are
missing from the read though the ERP still has them. As the full sync does (jobs.catalog_unlisted),
the pass checks such absences with a read of the SKU changes since its snapshot before retiring:
a packaging it lists is kept; a read the client cannot prove whole retires nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import erp
import erp.paging as paging
from jobs import catalog_flow
from jobs.catalog_ledger import VARIANT_KIND
from ledger import bindings
from ledger.db import session_scope

from .conftest import InstalledShop
from .erp_writes import set_title
from .test_catalog_flows import products_by_seq
from .test_family_move import _move_to_a_family_with_the_unit_only


def _active(installed: InstalledShop) -> tuple[bool, bool]:
    with session_scope() as session:
        bound = bindings.get_many(session, installed.shop_id, VARIANT_KIND, ["P1E1", "P1E6"])
    return bound["P1E1"].data["active"], bound["P1E6"].data["active"]


@pytest.fixture
def edited_mid_read(installed: InstalledShop, monkeypatch) -> Iterator[list[bool]]:
    """Product 1 loaded, then edited (its cached record changes), and the next skus read is served
    one record a page; right after the page with its first packaging the merchant edits it again."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # initial load
    assert {v["sku"] for v in products_by_seq(installed)[1]["variants"]} == {"P1E1", "P1E6"}
    set_title(installed.erp, 1, "ARROZ NOVO")
    catalog_flow.run_flow(installed.shop_id, "products", client=client)  # cached with its new time
    client.close()

    real_for_shop = erp.for_shop
    monkeypatch.setattr(
        catalog_flow.erp, "for_shop", lambda shop_id, **kw: real_for_shop(shop_id, page_size=1)
    )
    original = paging.ChangeRead._pages
    fired: list[bool] = []

    def pages(self):
        for page in original(self):
            yield page
            if not fired and any(getattr(r, "id_sku", "").startswith("P1E") for r in page.records):
                fired.append(True)
                set_title(installed.erp, 1, "ARROZ NOVO 2")  # edited again while the read runs

    monkeypatch.setattr(paging.ChangeRead, "_pages", pages)
    yield fired
    monkeypatch.setattr(paging.ChangeRead, "_pages", original)


def test_a_product_changed_during_the_skus_read_keeps_its_packagings_on_sale(
    installed: InstalledShop, edited_mid_read: list[bool]
) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert edited_mid_read
    assert _active(installed) == (True, True)  # both still active in the ERP: neither off sale
    assert products_by_seq(installed)[1]["status"] == "ACTIVE"
    client.close()


def test_the_next_passes_leave_the_product_changed_mid_read_right(
    installed: InstalledShop, edited_mid_read: list[bool], monkeypatch
) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert edited_mid_read
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert _active(installed) == (True, True)
    product = products_by_seq(installed)[1]
    assert product["title"] == "ARROZ NOVO 2" and product["status"] == "ACTIVE"
    assert {v["sku"] for v in product["variants"]} == {"P1E1", "P1E6"}
    again = catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert again.changed == 0  # settled
    client.close()


def test_a_packaging_the_moved_product_lost_is_still_retired_after_the_check(
    installed: InstalledShop, monkeypatch
) -> None:
    """The check re-reads the changes since the snapshot: a packaging truly gone is not in it."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    _move_to_a_family_with_the_unit_only(installed, 1)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    rereads: list[object] = []
    real_skus = erp.ErpClient.skus

    def skus(self, since=None, *args, **kwargs):
        rereads.append(since)
        return real_skus(self, since, *args, **kwargs)

    monkeypatch.setattr(erp.ErpClient, "skus", skus)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert _active(installed) == (True, False)
    assert len(rereads) == 2 and rereads[1] is not None  # the pass's read, then the check from its snapshot
    client.close()


def test_an_unsure_read_retires_nothing(installed: InstalledShop, monkeypatch) -> None:
    """The client cannot prove the read whole (erp.paging _Coverage.doubt): no absence is proven,
    the packaging stays as it was; the full sync, on a read it can prove whole, retires it."""
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    _move_to_a_family_with_the_unit_only(installed, 1)
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    with monkeypatch.context() as patched:
        patched.setattr(paging._Coverage, "doubt", lambda self, total: "no hasNext, pages capped")
        catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    assert _active(installed) == (True, True)
    catalog_flow.initial_load(installed.shop_id, client=client, bulk=False)  # the daily full sync
    assert _active(installed) == (True, False)
    client.close()
