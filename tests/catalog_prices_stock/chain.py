"""A small installed chain for the prices/stock flows: both sandboxes in threads, shops installed
in the ledger (token, ERP connection, store link, location mappings) and the ERP catalog created
in Shopify with its "variant"/"product" bindings, as the products/SKUs flows will leave them.

Also used by bench/stock_delta.py and bench/price_delta.py. `ShopifyCalls` counts every GraphQL
operation the Shopify sandbox executes, per shop, with its actual cost.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from erp.client import ErpClient
from jobs.catalog_map import cache_sku, variant_input
from ledger import bindings
from ledger.bindings import BindingRow
from ledger.crypto import encrypt
from ledger.db import session_scope
from ledger.mappings import set_location_mapping, set_store_link
from ledger.models import ErpConnection, Message, Shop
from sandbox.shopify import executor as sandbox_executor
from shopify_app.admin_api import for_shop
from shopify_app.token_endpoint import TokenSet
from shopify_app.tokens import store_tokens

OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")
ERP_USER, ERP_PASSWORD = "ecommerce", "consinco"


@dataclass
class ShopifyCalls:
    """Operations the Shopify sandbox ran: (shop, operation, actual cost), in order."""

    calls: list[tuple[str, str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, shop: str, name: str, cost: float) -> None:
        with self.lock:
            self.calls.append((shop, name, cost))

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int, shop: str | None = None) -> list[tuple[str, str, float]]:
        return [c for c in self.calls[mark:] if shop is None or c[0] == shop]

    def names(self, mark: int = 0, shop: str | None = None) -> list[str]:
        return [name for _, name, _ in self.since(mark, shop)]

    def mutations(self, mark: int = 0, shop: str | None = None) -> list[str]:
        return [n for n in self.names(mark, shop) if n not in READS]


READS = {
    "InventoryItemsAt",
    "InventoryLevel",
    "InventoryLevels",
    "Locations",
    "ProductByIdentifier",
    "Markets",
    "MarketCatalogs",
}


@contextmanager
def counting(monkeypatch: Any = None) -> Iterator[ShopifyCalls]:
    """Wrap the sandbox executor so every executed operation is counted (bulk lines excluded)."""
    calls = ShopifyCalls()
    original = sandbox_executor.run

    def run(
        sandbox: Any,
        shop: str,
        api_key: str,
        query: str,
        variables: Any = None,
        operation_name: Any = None,
        bulk: bool = False,
        scopes: str | None = None,
    ) -> dict:
        body = original(sandbox, shop, api_key, query, variables, operation_name, bulk, scopes)
        match = OPERATION.match(query)
        if not bulk and match:
            cost = ((body.get("extensions") or {}).get("cost") or {}).get("actualQueryCost") or 0
            calls.record(shop, match.group(1), float(cost))
        return body

    sandbox_executor.run = run
    try:
        yield calls
    finally:
        sandbox_executor.run = original


@dataclass
class Installed:
    shop_id: int
    name: str
    domain: str
    locations: dict[int, str]  # nro_empresa -> location gid


class Chain:
    """Both sandboxes plus helpers to install shops and load the catalog into Shopify."""

    def __init__(self, consinco: Any, shopify: Any) -> None:
        self.consinco = consinco
        self.shopify = shopify

    def erp(self) -> ErpClient:
        return ErpClient(self.consinco.url, ERP_USER, ERP_PASSWORD)

    def install(self, name: str, company: int, segment: int, companies: list[int]) -> Installed:
        """A shop linked to (company, segment), the i-th seeded location mapped to companies[i]."""
        domain = f"{name}.myshopify.com"
        api_key = self.shopify.sandbox.options.api_key
        token = self.shopify.sandbox.tokens.issue_access_token(name, api_key, expiring=False)
        with session_scope() as session:
            shop = Shop(domain=domain, scopes=token.get("scope", ""))
            session.add(shop)
            session.flush()
            store_tokens(session, shop, TokenSet(token["access_token"], token.get("scope", "")))
            session.add(
                ErpConnection(
                    shop_id=shop.id,
                    base_url=self.consinco.url,
                    username=ERP_USER,
                    password_enc=encrypt(ERP_PASSWORD),
                )
            )
            set_store_link(session, shop.id, company, segment)
            shop_id = shop.id
        client = for_shop(domain)
        locations = [loc.id for loc in client.locations()]
        client.close()
        mapped = dict(zip(companies, locations, strict=False))
        with session_scope() as session:
            for nro, location in mapped.items():
                set_location_mapping(session, shop_id, nro, location)
        return Installed(shop_id, name, domain, mapped)

    def map_location(self, shop: Installed, company: int, index: int) -> str:
        client = for_shop(shop.domain)
        location = [loc.id for loc in client.locations()][index]
        client.close()
        with session_scope() as session:
            set_location_mapping(session, shop.shop_id, company, location)
        shop.locations[company] = location
        return location

    def load_catalog(
        self, shop: Installed, *, unit_kg: str | None = None, stocked: bool = True, priced: bool = False
    ) -> dict[str, dict[str, Any]]:
        """One Shopify product per ERP product (a variant per packaging, its inventory item as the
        catalog flow sends it, jobs.catalog_map.variant_input: tracked; stocked with 0 at
        the mapped locations unless `stocked` is false) and the bindings; returns the "variant"
        binding data by idSku. `priced`: as if the prices flow had priced every variant for sale
        (the stock flow holds an unpriced variant at 0)."""
        at = [{"locationId": loc, "name": "available", "quantity": 0} for loc in shop.locations.values()]
        erp = self.erp()
        skus = list(erp.skus())
        erp.close()
        by_product: dict[int, list[Any]] = defaultdict(list)
        for sku in skus:
            by_product[sku.seq_produto].append(sku)
        client = for_shop(shop.domain)
        variant_rows, product_rows, out = [], [], {}
        for seq, group in sorted(by_product.items()):
            result = client.product_set(
                {
                    "title": f"Produto {seq}",
                    "status": "ACTIVE",
                    "productOptions": [{"name": "Embalagem", "values": [{"name": s.id_sku} for s in group]}],
                    "variants": [
                        {
                            "optionValues": [{"optionName": "Embalagem", "name": s.id_sku}],
                            "price": "1.00",
                            # the catalog flow's own item input (sku, tracked, weight): an item it
                            # would leave untracked is untracked here too, as in Shopify
                            "inventoryItem": variant_input(True, cache_sku(s), s.id_sku)["inventoryItem"],
                            **({"inventoryQuantities": at} if stocked and at else {}),
                        }
                        for s in group
                    ],
                }
            )
            # as the catalog flow writes it (jobs.catalog_ledger): its packagings, which share its stock
            product_rows.append(
                BindingRow(str(seq), result.product.id, None, {"skus": [s.id_sku for s in group]})
            )
            for s in group:
                v = result.product.variant_by_sku(s.id_sku)
                assert v is not None
                data = {
                    "product_id": result.product.id,
                    "inventory_item_id": v.inventory_item_id,
                    "seq_produto": seq,
                    "qtd_embalagem": str(s.qtd_embalagem),
                    "weighed": s.weighed,
                    "ean": s.ean,
                }
                if s.weighed and unit_kg is not None:
                    data["unit_kg"] = unit_kg
                variant_rows.append(BindingRow(s.id_sku, v.id, None, data))
                out[s.id_sku] = {**data, "variant_id": v.id}
        client.close()
        with session_scope() as session:
            bindings.upsert_many(session, shop.shop_id, "product", product_rows)
            bindings.upsert_many(session, shop.shop_id, "variant", variant_rows)
            if priced:
                rows = [BindingRow(r.erp_id, r.shopify_id, None, {"sale_active": True}) for r in variant_rows]
                bindings.upsert_many(session, shop.shop_id, bindings.PRICE_KIND, rows)
        return out

    def variant(self, shop: Installed, variant_id: str) -> dict[str, Any]:
        return self.shopify.sandbox.store.get(shop.name, variant_id)

    def level(self, shop: Installed, item_id: str, company: int) -> int | None:
        client = for_shop(shop.domain)
        try:
            found = client.inventory_level(item_id, shop.locations[company], names=["available"])
        finally:
            client.close()
        return None if found is None else found.quantities.get("available")

    def set_level(self, shop: Installed, item_id: str, company: int, quantity: int) -> None:
        """A sale (or any change) made in Shopify itself."""
        client = for_shop(shop.domain)
        try:
            client.inventory_set_quantities(
                [{"inventoryItemId": item_id, "locationId": shop.locations[company], "quantity": quantity}],
                key=f"test-sale-{item_id}-{quantity}",
            )
        finally:
            client.close()


def messages(shop_id: int, flow: str) -> list[Message]:
    with session_scope() as session:
        rows = list(session.scalars(select(Message).where(Message.shop_id == shop_id, Message.flow == flow)))
        session.expunge_all()
        return rows


def erp_update(chain: Chain, table: Any, where: dict[str, Any], **values: Any) -> None:
    """Change rows of a sandbox ERP table the way the ERP does (change time bumped)."""
    store = chain.consinco.erp.store
    with store.write() as (conn, now):
        clauses = [table.c[name] == value for name, value in where.items()]
        conn.execute(table.update().where(*clauses).values(dtaalteracao=now, **values))
