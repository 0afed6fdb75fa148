"""One stock record of the ERP the client cannot read (the stock flow keeps it apart: keep_malformed,
a failed message of its own, jobs.stock_records) made the reconciliation's whole stock section an
error: every location went unchecked, every day the record stayed unreadable. Now its SKUs are
left out of the comparison and the location says how many records could not be read, in words."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from erp import client as erp_client_module
from erp.errors import ErpUnexpectedShape
from jobs import reconcile, reconcile_cli
from shopify_app import reconcile_words
from shopify_app.words import texts_in_locale

from .conftest import World


def test_one_unreadable_stock_record_does_not_blank_the_stock_section(world: World, monkeypatch) -> None:
    monkeypatch.setattr(reconcile, "IN_FLIGHT", timedelta(0))
    [whole] = reconcile.run(world.shop_id, stock_sample=10)["stock"]["locations"]
    spec = erp_client_module.RESOURCES["stock"]
    real, unread = spec.parse, []

    def parse(raw, names):
        record = real(raw, names)
        bound = {sku.id_sku for sku in record.skus} & set(world.variants)
        if not unread and bound:  # the first record of a product bound in Shopify: a field unreadable
            unread.append(record)
            raise ErpUnexpectedShape("api/v1/Cadastros/ProdutoEstoque", "estqLoja", "is not a number", "abc")
        return record

    monkeypatch.setitem(erp_client_module.RESOURCES, "stock", dataclasses.replace(spec, parse=parse))
    report = reconcile.run(world.shop_id, stock_sample=10)  # done: no section failed

    stock = report["stock"]
    assert "error" not in stock, stock
    [location] = stock["locations"]
    left_out = {sku.id_sku for sku in unread[0].skus} & set(world.variants)
    assert left_out and location["bound_with_stock"] == whole["bound_with_stock"] - len(left_out), location
    assert not {row["sku"] for row in location["differ"]} & left_out
    assert location["unreadable"] == 1 and "1 stock record(s) of company 1" in location["unreadable_note"]
    said = texts_in_locale(location, reconcile_words.WORDS, "pt-BR", reconcile_words.KINDS)["unreadable_note"]
    assert said.startswith("1 registro(s) de estoque da empresa 1 não puderam ser lidos"), said
    assert location["unreadable_note"] in reconcile_cli.render(report)
