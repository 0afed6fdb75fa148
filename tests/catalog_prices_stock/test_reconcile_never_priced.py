"""The daily reconciliation names the SKUs in Shopify the store's (company, segment) has no price
record for: their variants (created at R$ 0.00 by the products flow) were never priced and the
stock flow holds them at 0, not for sale. Only the prices flow's whole read said so before
(jobs.price_never_listed), and a whole read is rare (the pair's first pass, a Retry). The catalog
section reads the pair's prices whole when a bound SKU the ERP sells has no price binding, and
lists those the ERP has no record for; one whose record appeared since (the prices pass not past
yet) is not listed."""

from __future__ import annotations

from decimal import Decimal

from erp.client import ErpClient
from erp.errors import ErpTransient
from jobs import prices, reconcile, reconcile_cli
from ledger import drift
from shopify_app import reconcile_words
from shopify_app.words import texts_in_locale

from .test_never_priced import _drop_records, _put_back
from .test_reconcile_compare_at import _catalog


def test_a_sku_with_no_price_record_for_the_pair_is_reported_by_the_daily_check(chain):
    shop = chain.install("concilia-sem-preco", 1, 1, [1])
    catalog = chain.load_catalog(shop)
    prices.run(shop.shop_id)
    assert _catalog(chain, shop)["never_priced"] == []  # every bound SKU the ERP sells has its price

    sku, data = next((s, d) for s, d in catalog.items() if Decimal(d["qtd_embalagem"]) == 1)
    kept = _drop_records(chain, [data["seq_produto"]])
    assert len(kept) == 1
    put_back = False
    try:
        # Another store on the pair, installed now: its first prices pass finds no record for it.
        shop = chain.install("concilia-sem-preco-2", 1, 1, [1])
        catalog = chain.load_catalog(shop)
        prices.run(shop.shop_id)
        found = _catalog(chain, shop)
        [row] = found["never_priced"]
        assert (row["sku"], row["variant"]) == (sku, catalog[sku]["variant_id"]), row
        assert "no price record (TabelaPrecoItem) in the ERP for company 1 segment 1" in row["why"], row
        assert "held at 0" in row["why"], row
        said = texts_in_locale(row, reconcile_words.WORDS, "pt-BR", reconcile_words.KINDS)["why"]
        assert said.startswith(
            "sem registro de preço (TabelaPrecoItem) no ERP para a empresa 1 segmento 1"
        ), said
        assert texts_in_locale(row, reconcile_words.WORDS, "en", reconcile_words.KINDS)["why"] == row["why"]
        assert row["message"] == f"price:{data['seq_produto']}:{sku}"  # the prices flow's own message
        assert found["never_priced_count"] == 1
        report = {"shop": shop.domain, "generated_at": "today", "since": "yesterday", "catalog": found}
        report["summary"] = reconcile.summary(report)
        assert report["summary"]["skus_never_priced"] == 1
        assert drift.findings(report)["skus_never_priced"] == 1
        printed = reconcile_cli.render(report)
        assert "SKUs with no price record in the ERP for the store" in printed and sku in printed

        _put_back(chain, kept)  # the ERP has the record now; the prices flow has not been past yet
        put_back = True
        assert _catalog(chain, shop)["never_priced"] == []
    finally:
        if not put_back:
            _put_back(chain, kept)


def test_the_erp_failing_the_never_priced_read_keeps_the_rest_of_the_catalog_section(chain, monkeypatch):
    """The pair's price list read for the SKUs never priced fails (the ERP down mid-read): the
    section keeps what it found and says why the never-priced list is empty, in pt-BR too."""
    shop = chain.install("concilia-sem-preco-erp", 1, 1, [1])
    chain.load_catalog(shop)  # no prices pass: every bound SKU lacks a price binding

    def down(self, *args, **kwargs):
        raise ErpTransient("Consinco unreachable at api/v1/TabelaPrecoItem: ConnectionError")

    monkeypatch.setattr(ErpClient, "price_items", down)
    found = _catalog(chain, shop)
    assert "error" not in found and isinstance(found["shopify_checked"], int), found
    assert found["never_priced"] == [] and found["never_priced_count"] == 0
    note = found["never_priced_note"]
    assert note.startswith("the ERP's price list of company 1 segment 1 could not be read (Consinco"), note
    said = texts_in_locale(found, reconcile_words.WORDS, "pt-BR", reconcile_words.KINDS)["never_priced_note"]
    assert said.startswith("a lista de preços do ERP da empresa 1 segmento 1 não pôde ser lida"), said
    assert "unreachable" not in said, said  # the app's English error stays in the English note


class _UnsureRead:
    """A price read that ends (complete) but that the client cannot prove whole: pages asked by
    number went unchecked, so the page holding a SKU's record may have been skipped over."""

    def __init__(self) -> None:
        self.keep_malformed = False
        self.malformed: list = []
        self.complete = False
        self.unsure = "3 page(s) asked by number went unchecked"

    def __iter__(self):
        yield from ()  # the page with the SKU's record never came
        self.complete = True


def test_a_price_read_not_proven_whole_lists_no_sku_as_never_priced(env) -> None:
    """_never_priced's rule: a read the client cannot prove whole lists none (the row would be a
    guess); `never_priced_note` says why, in words."""
    from erp.names import load_names
    from ledger import bindings, mappings
    from ledger.db import session_scope
    from ledger.models import Shop

    with session_scope() as session:
        shop = Shop(domain="np-unsure.myshopify.com", settings={})
        session.add(shop)
        session.flush()
        shop_id = shop.id
        mappings.set_store_link(session, shop_id, 1, 1)
        data = {"seq_produto": 10, "qtd_embalagem": "1", "product_id": "gid://shopify/Product/1"}
        variant = bindings.BindingRow("S1", "gid://shopify/ProductVariant/1", None, data)
        bindings.upsert_many(session, shop_id, "variant", [variant])
    erp = type("Erp", (), {"names": load_names(), "price_items": lambda self, *a: _UnsureRead()})()

    found = reconcile._never_priced(shop_id, erp, {"S1"}, {"S1": ("gid://shopify/ProductVariant/1", data)})

    assert found["never_priced"] == [] and found["never_priced_count"] == 0, found
    assert "3 page(s) asked by number went unchecked" in found["never_priced_note"], found
    said = texts_in_locale(found, reconcile_words.WORDS, "pt-BR", reconcile_words.KINDS)["never_priced_note"]
    assert said.startswith("a resposta do ERP não prova que a lista de preços da empresa 1 segmento 1"), said
    assert "nunca precificados não são listados hoje" in said, said
