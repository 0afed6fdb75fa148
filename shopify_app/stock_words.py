"""The stock flow's notes on a batch, in the merchant's words (pt-BR and en).

A stock batch message whose SKUs have ERP stock above what a Shopify level holds keeps its note in
English in its response (`note`, jobs.stock_writer) and beside it its words (`note_words`:
ledger.words.beside); one whose SKUs were set aside because Shopify's level kept moving, likewise
(`moving_note`, `moving_note_words`); a stock-control difference's message once done, why
(`settled`, `settled_words`: jobs.stock_control); a person's fix of levels a reconciliation report
found differing, what it did (`note`, `note_words`: jobs.stock_fix). The message's page says them in
the request's locale (`in_locale`). A note with no words (a message stored before them) reads as it
was written. Params: SKUs, companies and the ERP's figures (NUMBER).
"""

from __future__ import annotations

from typing import Any

from shopify_app import words
from shopify_app.words import NUMBER, Text

KINDS = {"erp": NUMBER}

WORDS: dict[str, Text] = {
    # Shopify's ceiling (jobs.stock_map.MAX_LEVEL) written as each language writes it
    "stock_above_ceiling": (
        "Estoque do ERP acima do teto da Shopify de 1.000.000.000 unidades por nível, enviado no teto "
        "(menos as unidades que pedidos comprometeram lá): {skus}",
        "ERP stock above Shopify's ceiling of 1,000,000,000 units per level, sent at the ceiling (less "
        "the units orders committed there): {skus}",
    ),
    "stock_above_ceiling_sku": ("{sku} (no ERP {erp})", "{sku} (ERP {erp})"),
    # jobs.stock_writer.moving_note: a SKU set aside after SET_ASIDE_AFTER stale answers in a row
    "stock_level_moving": (
        "O nível na Shopify mudou entre a nossa leitura e a nossa gravação (vendido, ou gravado por "
        "outro app) em {rounds} tentativas seguidas de comparar e gravar: deixado como a Shopify "
        "mostra, e enviado de novo pela próxima passagem: {skus}",
        "Shopify's level kept changing between our read and our write (sold, or set by another app) "
        "in {rounds} compare-and-swap rounds in a row: left as Shopify shows it, and sent again by the "
        "next pass: {skus}",
    ),
    # jobs.stock_control: why a stock-control difference's message is done (its response's `settled`)
    "stock_control_same": (
        "O controle de estoque do SKU {sku} na empresa {company} voltou a ser igual ao da empresa "
        "{deciding}: nada mais a dizer",
        "Company {company}'s stock control of SKU {sku} is the same as company {deciding}'s again: nothing "
        "left to say",
    ),
    "stock_control_unmapped": (
        "A empresa {company} não está mais mapeada a um local desta loja (ou está fechada no ERP): o "
        "controle de estoque dela para o SKU {sku} não importa mais aqui",
        "Company {company} is no longer mapped to a location of this store (or is closed in the ERP): its "
        "stock control of SKU {sku} no longer matters here",
    ),
    "stock_control_not_decided": (
        "A empresa {was} não decide mais se o SKU {sku} vende quando sem estoque; quem decide é a empresa "
        "{now}, e a passagem dela aponta de novo o que for diferente",
        "Company {was} no longer decides whether SKU {sku} sells when out of stock; company {now} does, and "
        "its pass names any difference anew",
    ),
    # jobs.stock_fix.outcome: a person's fix of levels a reconciliation report found differing
    "stock_fix_done": (
        "{sent} nível(is) ajustado(s) ao estoque do ERP, {already} já estava(m) nele",
        "{sent} level(s) set to the ERP's figure, {already} already at it",
    ),
    "stock_fix_refused": (
        "não ajustados, recusados pela Shopify (veja a mensagem do lote de estoque): {skus}",
        "not set, refused by Shopify (see the stock batch's message): {skus}",
    ),
    "stock_fix_moving": (
        "não ajustados, o nível na Shopify não parou de mudar (a próxima passagem os envia): {skus}",
        "not set, Shopify's level kept changing (the next pass sends them): {skus}",
    ),
    "stock_fix_written_since": (
        "deixados de fora, gravados pelo fluxo de estoque depois que o relatório começou (rode a "
        "conciliação de novo): {skus}",
        "left out, written by the stock flow after the report began (run the reconciliation again): {skus}",
    ),
    "stock_fix_not_listed": (
        "deixados de fora, o relatório não os lista mais como diferentes: {skus}",
        "left out, the report no longer lists them as differing: {skus}",
    ),
}


def in_locale(response: Any, locale: str) -> Any:
    """A copy of a stock message's response with its note said in `locale`."""
    return words.texts_in_locale(response, WORDS, locale, KINDS)
