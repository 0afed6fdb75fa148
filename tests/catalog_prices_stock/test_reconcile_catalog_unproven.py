"""The catalog section's bindings "not in the ERP" come from the absence of their SKU in a whole
ProdutoSku read. Absence proves nothing when the read cannot be proven whole (ChangeRead.unsure:
jobs.absence, erp/paging.py), nor for a SKU whose record the client could not read: before, the
first reported bound SKUs as gone from the ERP, and the second failed the whole catalog section.
Now neither lists such a binding; a note says how many were left out, and why, in words."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from erp.errors import ErpUnexpectedShape
from erp.names import load_names
from jobs import reconcile, reconcile_cli
from ledger import bindings, mappings
from ledger.db import session_scope
from ledger.models import Shop
from shopify_app import reconcile_words
from shopify_app.words import texts_in_locale


class _Read:
    """A ProdutoSku read as the client gives it: its records, those it could not read (kept aside
    when asked to), and its doubt."""

    def __init__(
        self, records: list[Any], raw_unreadable: list[dict] = (), unsure: str | None = None
    ) -> None:
        self.records, self.raw_unreadable, self.doubt = records, list(raw_unreadable), unsure
        self.keep_malformed = False
        self.malformed: list = []
        self.complete = False
        self.unsure: str | None = None

    def __iter__(self):
        for raw in self.raw_unreadable:
            error = ErpUnexpectedShape("api/v1/Cadastros/ProdutoSku", "qtdEmbalagem", "is not a number", "x")
            if not self.keep_malformed:
                raise error
            self.malformed.append((raw, error))
        yield from self.records
        self.complete, self.unsure = True, self.doubt


def _shop(skus: list[str]) -> int:
    with session_scope() as session:
        shop = Shop(domain=f"orph-{'-'.join(skus).lower()}.myshopify.com", settings={})
        session.add(shop)
        session.flush()
        mappings.set_store_link(session, shop.id, 1, 1)
        rows = []
        for n, sku in enumerate(skus, start=1):
            data = {
                "seq_produto": n,
                "qtd_embalagem": "1",
                "product_id": f"gid://shopify/Product/{n}",
                "active": True,
            }
            rows.append(bindings.BindingRow(sku, f"gid://shopify/ProductVariant/{n}", None, data))
        bindings.upsert_many(session, shop.id, "variant", rows)
        return shop.id


def _catalog(monkeypatch, shop_id: int, read: _Read) -> tuple[dict[str, Any], dict[str, Any]]:
    seen: dict[str, Any] = {}

    def shopify_catalog(*args, **kwargs):
        seen.update(kwargs)
        return {}

    monkeypatch.setattr(reconcile, "_shopify_catalog", shopify_catalog)
    monkeypatch.setattr(reconcile, "_never_priced", lambda *a, **k: {})
    erp = SimpleNamespace(names=load_names(), skus=lambda: read)
    return reconcile._catalog(shop_id, None, erp, 10), seen  # type: ignore[arg-type]


def _said(found: dict[str, Any], key: str, locale: str) -> str:
    return texts_in_locale(found, reconcile_words.WORDS, locale, reconcile_words.KINDS)[key]


def test_a_read_not_proven_whole_reports_no_binding_as_not_in_the_erp(env, monkeypatch) -> None:
    shop_id = _shop(["S1", "S2"])
    s2 = SimpleNamespace(id_sku="S2", active=True, seq_produto=2, weighed=False, qtd_embalagem=Decimal(1))
    read = _Read([s2], unsure="no hasNext, pages shorter than the 1000 asked")  # S1's page never came

    found, _seen = _catalog(monkeypatch, shop_id, read)

    assert found["orphan_bindings"] == [] and found["orphan_bindings_count"] == 0, found
    assert "1 binding(s)" in found["orphan_bindings_note"], found
    assert "no hasNext, pages shorter than the 1000 asked" in found["orphan_bindings_note"], found
    assert _said(found, "orphan_bindings_note", "pt-BR").startswith("1 vínculo(s) cujo SKU a leitura"), found
    printed = reconcile_cli.render({"shop": "s", "generated_at": "t", "since": "y", "catalog": found})
    assert found["orphan_bindings_note"] in printed


def test_an_unreadable_sku_record_is_no_binding_gone_and_fails_no_section(env, monkeypatch) -> None:
    shop_id = _shop(["S1", "S2", "S3"])
    s2 = SimpleNamespace(id_sku="S2", active=True, seq_produto=2, weighed=False, qtd_embalagem=Decimal(1))
    read = _Read([s2], raw_unreadable=[{"idSku": "S1", "seqProduto": 1, "qtdEmbalagem": "x"}])

    found, seen = _catalog(monkeypatch, shop_id, read)

    # S1's record could not be read: not "not in the ERP"; S3 is truly missing from a whole read
    assert [row["sku"] for row in found["orphan_bindings"]] == ["S3"], found
    assert found["skus_unread"] == 1 and "1 SKU record(s)" in found["skus_unread_note"], found
    assert _said(found, "skus_unread_note", "pt-BR").startswith("1 registro(s) de SKU do ERP"), found
    assert seen["unread_products"] == {1}  # its product's status is not judged from its other packagings
    printed = reconcile_cli.render({"shop": "s", "generated_at": "t", "since": "y", "catalog": found})
    assert found["skus_unread_note"] in printed


def test_an_unreadable_record_whose_sku_cannot_be_told_reports_no_binding_as_gone(env, monkeypatch) -> None:
    shop_id = _shop(["S1", "S2"])
    read = _Read([], raw_unreadable=[{"idSku": None, "seqProduto": None}])

    found, _seen = _catalog(monkeypatch, shop_id, read)

    assert found["orphan_bindings"] == [], found  # any of them may be the record not read
    assert "2 binding(s)" in found["orphan_bindings_note"], found
