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
