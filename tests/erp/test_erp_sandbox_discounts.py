"""A Shopify order with line discounts mapped, sent through the client and served by the sandbox
under each meaning vlrEmbDesconto may have (formats.discount_per): the line's discount or one
packaging's. Either way the ERP's order totals what Shopify charges, its table holds one
packaging's discount (as every VLREMB* column), and the app reads back the line's."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from erp.client import ErpClient
from erp.names import load_names
from erp.retry import RetryPolicy
from jobs import order_map
from jobs.order_map import VariantInfo
from sandbox.consinco import tables as t
from sandbox.consinco.erp import ConsincoErp
from sandbox.consinco.runner import SandboxHandle, serve_in_thread
from shopify_app.admin_api.order_import_ops import parse_erp_order
from tests.orders_in.test_order_map import TARGET, raw_order


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("consinco") / "c.db"
    ConsincoErp(str(path), skus=120, companies=2, seed=11).close()
    return path


@pytest.fixture(params=["line", "packaging"])
def per(request) -> str:
    return request.param


@pytest.fixture
def sandbox(chain, tmp_path, per) -> Iterator[SandboxHandle]:
    db = tmp_path / "c.db"
    shutil.copyfile(chain, db)
    handle = serve_in_thread(port=0, db=str(db), discount_per=per)
    yield handle
    handle.stop()


@pytest.fixture
def client(sandbox, tmp_path, per) -> Iterator[ErpClient]:
    """The app's client, its CONSINCO_FIELD_MAP saying what the ERP's vlrEmbDesconto is."""
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"formats": {"discount_per": per}}))
    c = ErpClient(sandbox.url, "ecommerce", "consinco", names=load_names(path), retry=RetryPolicy(attempts=1))
    yield c
    c.close()


def test_a_discounted_order_is_worth_shopifys_total_whatever_the_discount_is_per(
    sandbox, client, per
) -> None:
    """3 units with R$ 3.00 off, and 3 boxes of 12 with R$ 1.00 off (R$ 0.333333 a box)."""
    prices = {
        p.id_sku: p.effective for p in client.price_items(nro_empresa=1, nro_segmento=2) if p.sale_active
    }
    skus = [s for s in client.skus() if s.active and not s.weighed and s.id_sku in prices]
    unit = next(s for s in skus if s.qtd_embalagem == 1)
    box = next(s for s in skus if s.qtd_embalagem == 12)
    raw = raw_order(
        [(prices[unit.id_sku], 3, 3, Decimal("3.00")), (prices[box.id_sku], 3, 3, Decimal("1.00"))]
    )
    read = parse_erp_order(raw)
    variants = {
        f"gid://shopify/LineItem/{n}": VariantInfo(s.id_sku, s.seq_produto, Decimal(s.qtd_embalagem))
        for n, s in ((1, unit), (2, box))
    }
    mapped = order_map.map_order(read, TARGET, variants, {"Pix": 2})
    assert [m.line.discount for m in mapped.lines] == [Decimal("3.00"), Decimal("1.00")]

    inserted = client.insert_order(mapped.order_input)
    assert inserted.total == mapped.shopify_total  # not 3 x 3.00 off the units, nor 1/3 of it
    pvi = t.mad_pedvendaitem
    with sandbox.erp.store.read() as conn:
        held = conn.execute(
            select(pvi.c.vlrembdesconto)
            .where(pvi.c.nropedvenda == inserted.nro_pedvenda)
            .order_by(pvi.c.seqitem)
        ).scalars()
        assert list(held) == [1.0, 0.333333]  # one packaging's, as every VLREMB* column
    order = client.get_order(inserted.nro_pedvenda)
    assert order.total == mapped.shopify_total
    assert [(x.discount, x.total_ordered) for x in order.lines] == [
        (Decimal("3.00"), 3 * prices[unit.id_sku] - 3),
        (Decimal("1.00"), 3 * prices[box.id_sku] - 1),
    ]

    answer = requests.post(f"{sandbox.root}_sandbox/pedidos/{inserted.nro_pedvenda}/separar",
                           json={"cortes": {"1": 2}}, timeout=10)  # fmt: skip
    answer.raise_for_status()
    served = client.get_order(inserted.nro_pedvenda).lines[0]
    assert served.total_served == 2 * prices[unit.id_sku] - 2  # a unit short loses its share
