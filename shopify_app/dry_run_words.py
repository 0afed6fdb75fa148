"""The catalog dry run's reasons, in the merchant's words (pt-BR and en).

jobs.catalog_diff stores its result with English reasons (why packagings are held, why a product
waits, what record could not be read) and beside each its words (`words`: ledger.words); the
setup page's dry run says them in the request's locale. A reason with no words (a result stored
before them) or a key this catalogue lacks reads as it was written. Params: ids, counts, shares,
field names.
"""

from __future__ import annotations

import copy
from typing import Any

from shopify_app import words
from shopify_app.words import Text

_UNREADABLE_END = (
    "os demais registros foram enviados; este é lido de novo a cada passagem até poder ser lido: corrija o "
    "registro no Consinco (ou o nome do campo em CONSINCO_FIELD_MAP)",
    "every other record was sent; this one is read again by every pass until it can be read: fix the "
    "record in Consinco (or the field name in CONSINCO_FIELD_MAP)",
)

WORDS: dict[str, Text] = {
    # packagings the ERP no longer lists, held for a person (jobs.absence.held_words)
    "held_read_unsure": (
        "a resposta do ERP não prova que a leitura veio inteira (a paginação do ProdutoSku não pôde ser "
        "conferida)",
        "the ERP's answer does not prove the read whole (ProdutoSku's paging could not be checked)",
    ),
    "held_too_many_packagings": (
        "isso é {share}% das {known} embalagens do catálogo: mais provável um problema de leitura ou de "
        "configuração do que embalagens que o ERP não tem mais",
        "that is {share}% of the {known} packagings in the catalog: more likely a read or setup problem "
        "than packagings the ERP no longer has",
    ),
    # products waiting (jobs.catalog_ledger.plan_one)
    "waiting_product_record": (
        "aguardando o cadastro do produto (ProdutoCV)",
        "waiting for the product record (ProdutoCV)",
    ),
    "waiting_packagings": (
        "aguardando as embalagens do produto (ProdutoSku)",
        "waiting for its packagings (ProdutoSku)",
    ),
    "waiting_kg_packaging": (
        "nenhuma embalagem a enviar: {skus} não é vendida pela embalagem KG de quantidade 1",
        "no packaging to send: {skus} not sold by its KG packaging of quantity 1",
    ),
    # records the ERP client could not read (jobs.catalog_malformed)
    "unreadable_products": (
        "O cadastro do produto {product} no ERP (ProdutoCV) não pôde ser lido: o campo '{field}' está "
        "ausente ou ilegível; " + _UNREADABLE_END[0],
        "The ERP product record (ProdutoCV) of product {product} could not be read: field '{field}' is "
        "missing or unreadable; " + _UNREADABLE_END[1],
    ),
    "unreadable_skus": (
        "O registro do SKU {sku} (produto {product}) no ERP (ProdutoSku) não pôde ser lido: o campo "
        "'{field}' está ausente ou ilegível; " + _UNREADABLE_END[0],
        "The ERP SKU record (ProdutoSku) {sku} (product {product}) could not be read: field '{field}' is "
        "missing or unreadable; " + _UNREADABLE_END[1],
    ),
    "unreadable_prices": (
        "O registro de preço do SKU {sku} (produto {product}) no ERP (TabelaPrecoItem) não pôde ser lido: "
        "o campo '{field}' está ausente ou ilegível; " + _UNREADABLE_END[0],
        "The ERP price record (TabelaPrecoItem) of SKU {sku} (product {product}) could not be read: field "
        "'{field}' is missing or unreadable; " + _UNREADABLE_END[1],
    ),
    "unreadable_stock": (
        "O registro de estoque do produto {product} na empresa {company} no ERP (ProdutoEstoque) não pôde "
        "ser lido: o campo '{field}' está ausente ou ilegível; " + _UNREADABLE_END[0],
        "The ERP stock record (ProdutoEstoque) of product {product} at company {company} could not be read: "
        "field '{field}' is missing or unreadable; " + _UNREADABLE_END[1],
    ),
    # an ERP order event the poller could not read (jobs.order_event_records); {seq}, {nro}: "?" when
    # not readable either
    "unreadable_event": (
        "O evento {seq} do pedido {nro} no ERP (EventoPedido) não pôde ser lido: o campo '{field}' está "
        "ausente ou ilegível. Os demais eventos foram aplicados; este é lido de novo a cada consulta até "
        "poder ser lido, e um evento seguinte do mesmo pedido que deve vir depois dele espera: corrija o "
        "registro no Consinco (ou o nome do campo em CONSINCO_FIELD_MAP) e tente de novo; ou aplique-o à "
        "mão na Shopify e marque esta mensagem como resolvida",
        "The ERP order event (EventoPedido) {seq} of ERP order {nro} could not be read: field '{field}' is "
        "missing or unreadable. Every other event was applied; this one is read again by every poll until "
        "it can be read, and a later event of its order that must follow it waits: fix the row in "
        "Consinco (or the field name in CONSINCO_FIELD_MAP), then retry; or apply it by hand in Shopify "
        "and mark this message as handled",
    ),
}


def in_locale(result: dict[str, Any], locale: str) -> dict[str, Any]:
    """A copy of the stored result with each reason that has words said in `locale`."""
    said = copy.deepcopy(result)
    held = said.get("held")
    if isinstance(held, dict):
        held["why"] = words.in_locale(WORDS, held.get("words"), held.get("why"), locale)
    for entry in _entries(said.get("waiting")):
        entry["reason"] = words.in_locale(WORDS, entry.get("words"), entry.get("reason"), locale)
    for entry in _entries(said.get("unreadable")):
        entry["problem"] = words.in_locale(WORDS, entry.get("words"), entry.get("problem"), locale)
    return said


def _entries(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
