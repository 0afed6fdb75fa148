"""Migration 0014: the store and price-list prices remembered with digits under the cent are due on
the next prices pass (decided again on the amounts Shopify gets: jobs.price_map); the others, and
every other binding, are left as they were."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from sqlalchemy import text

from ledger import db
from ledger.schema import alembic_config


def _price(normal: str, promotional: str | None = None, recheck_on: str | None = None) -> dict:
    return {"id_sku": "P1E1", "seq_produto": 1, "normal": normal, "promotional": promotional,
            "promo_start": None, "promo_end": None, "promotion_flag": False, "sale_active": True,
            "recheck_on": recheck_on}  # fmt: skip


def test_prices_under_a_cent_are_due_the_others_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    command.upgrade(alembic_config(url), "0013")
    engine = db.get_engine(url)
    rows = {
        ("price", "A"): _price("0.0040"),  # sold at R$ 0.00 by the earlier rule
        ("price", "B"): _price("10.0000", "9.9960", "2026-12-09"),  # compare-at equal to the price
        ("list_price", "1:C"): _price("0.0031"),
        ("price", "D"): _price("10.0000", "9.9900", "2026-12-09"),  # whole to the cent
        ("list_price", "1:E"): _price("12.34"),
        ("price", "F"): {"sale_active": False},  # only marked off sale: no price item
        ("variant", "G"): {"normal": "0.0040"},  # not a price
    }
    with engine.begin() as conn:
        shop_id = conn.execute(
            text(
                "INSERT INTO shops (domain, scopes, status, settings, created_at, updated_at) VALUES "
                "('a.myshopify.com', '', 'active', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            )
        ).scalar_one()
        for (kind, erp_id), data in rows.items():
            conn.execute(
                text(
                    "INSERT INTO bindings (shop_id, kind, erp_id, shopify_id, digest, data, updated_at) "
                    "VALUES (:s, :k, :e, 'gid://shopify/ProductVariant/1', 'd', :data, CURRENT_TIMESTAMP)"
                ),
                {"s": shop_id, "k": kind, "e": erp_id, "data": json.dumps(data)},
            )

    command.upgrade(alembic_config(url), "head")

    with engine.connect() as conn:
        read = conn.execute(text("SELECT kind, erp_id, data, digest FROM bindings"))
        found = {(kind, erp_id): (json.loads(data), digest) for kind, erp_id, data, digest in read}
    due = {key for key, (data, _) in found.items() if data.get("recheck_on") == "2000-01-01"}
    assert due == {("price", "A"), ("price", "B"), ("list_price", "1:C")}
    for key, (data, digest) in found.items():
        assert digest == "d"  # the digest decides on the next pass: kept
        assert {k: v for k, v in data.items() if k != "recheck_on"} == {
            k: v for k, v in rows[key].items() if k != "recheck_on"
        }
        if key not in due:
            assert data == rows[key], key
    command.downgrade(alembic_config(url), "0013")
    engine.dispose()
