"""A reconciliation report's explanations, in the merchant's words (pt-BR and en).

jobs.reconcile stores its report (the reconcile message's response) with English texts a person
reads on each row (`why`: why an order, SKU or price is listed; a closed store's `note`; a row's
`sent_again` and `fix`) and beside each its words (`why_words`...: ledger.words.beside); the
report page says them in the request's locale (`in_locale`). A text with no words (a report stored
before them, a held order's failure quoted as its message wrote it) or a key this catalogue lacks
reads as it was written; the CLI prints the English. A held order's reason may be its orders
message's skip words, so the skip catalogue's keys are said here too. Params: order names, ERP
numbers, SKUs, NF-e numbers, kilograms (NUMBER), amounts ({"money": ...}), a person's note.
"""

from __future__ import annotations

from typing import Any

from shopify_app import fail_words, skip_words, words
from shopify_app.words import NUMBER, Text

KINDS = {"ordered": NUMBER, "served": NUMBER, "count": NUMBER}  # "count": records or bindings left out

_INVOICE_END = (
    "nota não aplicada na Shopify: o pedido está sem NF-e, não processado e com o pagamento não "
    "capturado (o evento de faturamento do ERP se perdeu ou falhou; veja a mensagem de notas fiscais "
    "do pedido)",
    "invoice not applied in Shopify: no NF-e on the order, not fulfilled, payment not captured (the "
    "ERP's invoice event was missed or failed; see the order's invoices message)",
)

WORDS: dict[str, Text] = {
    # a section that could not be read (jobs.reconcile._section): {said} the failure's own words
    # (shopify_app.fail_words.FAILURES: the ERP unreachable, its login refused), else its message as it came
    "recon_section_retried": (
        "não pôde ser lida agora e é tentada de novo: {said}",
        "could not be read now and is tried again: {said}",
    ),
    "recon_section_failed": ("não pôde ser lida: {said}", "could not be read: {said}"),
    # orders
    "recon_of_erp_before": (
        "do ERP conectado antes (a conexão com o ERP mudou desde então): não comparado",
        "of the ERP connected before (the ERP connection moved since): not compared",
    ),
    "recon_not_readable": (
        "não legível: com mais de 60 dias, e o app não tem a permissão read_all_orders",
        "not readable: older than 60 days without read_all_orders",
    ),
    "recon_order_refused": (
        "o ERP recusou a consulta do pedido {nro}: {said}; não comparado hoje, o próximo relatório o "
        "consulta de novo",
        "the ERP refused to show order {nro}: {said}; not compared today, the next report looks it up again",
    ),
    "recon_order_unreadable": (
        "a resposta do ERP para o pedido {nro} não pôde ser lida (campo {field} em {endpoint}): não "
        "comparado hoje, o próximo relatório o consulta de novo",
        "the ERP's answer for order {nro} could not be read (field {field} at {endpoint}): not compared "
        "today, the next report looks it up again",
    ),
    # an order Shopify will not give whole (jobs.reconcile.NOT_READ_WHOLE: settlement_lists' refusals)
    "recon_order_transactions_unread": (
        "a Shopify não entrega inteiras as transações do pedido (no máximo 250, e ele tem mais: "
        "tentativas de pagamento recusadas, capturas, reembolsos), então o que foi pago não pode ser "
        "contado: não comparado hoje, o próximo relatório o lê de novo",
        "Shopify will not give the order's transactions whole (250 at most, and it has more: declined "
        "payment tries, captures, refunds), so what was paid cannot be counted: not compared today, the "
        "next report reads it again",
    ),
    "recon_order_fulfillments_unread": (
        "a Shopify não entrega inteiros os processamentos do pedido (no máximo 250, e ele tem mais, "
        "contando os cancelados), então a situação dele não pode ser lida: não comparado hoje, o próximo "
        "relatório o lê de novo",
        "Shopify will not give the order's fulfillments whole (250 at most, and it has more, cancelled "
        "ones included), so its settlement cannot be read: not compared today, the next report reads it "
        "again",
    ),
    # a SKU whose product waits for Shopify's daily limit on new variants (jobs.variant_quota)
    "recon_variant_quota": (
        "aguardando o limite diário de novas variantes da Shopify: o fluxo de produtos a envia de novo "
        "sozinho depois de {until}",
        "waiting for Shopify's daily limit on new variants: the products flow sends it again by itself "
        "after {until}",
    ),
    # a weighed product's packaging other than its KG one of 1 (jobs.catalog_map.not_kg)
    "recon_held_not_kg": (
        "embalagem de um produto pesável que não é a de 1 kg: fora da venda (a mensagem de produtos diz o "
        "que mudar no ERP)",
        "a weighed product's packaging other than its 1 kg one: held out of the sale (its products message "
        "says what to change in the ERP)",
    ),
    "recon_variant_quota_soon": (
        "aguardando o limite diário de novas variantes da Shopify: o fluxo de produtos a envia de novo "
        "sozinho quando a espera terminar",
        "waiting for Shopify's daily limit on new variants: the products flow sends it again by itself "
        "once the hold is over",
    ),
    "recon_never_priced": (
        "sem registro de preço (TabelaPrecoItem) no ERP para a empresa {company} segmento {segment}: a "
        "variante nunca teve preço (R$ 0,00) e fica com estoque 0, fora de venda, até o ERP ter um",
        "no price record (TabelaPrecoItem) in the ERP for company {company} segment {segment}: its "
        "variant was never priced (R$ 0.00) and is held at 0, not for sale, until the ERP has one",
    ),
    "recon_never_priced_unread": (
        "a lista de preços do ERP da empresa {company} segmento {segment} não pôde ser lida inteira: "
        "os SKUs nunca precificados não são listados hoje",
        "the ERP's price list of company {company} segment {segment} could not be read whole: SKUs "
        "never priced are not listed today",
    ),
    "recon_never_priced_failed": (
        "a lista de preços do ERP da empresa {company} segmento {segment} não pôde ser lida (o ERP não "
        "respondeu ou recusou a leitura): os SKUs nunca precificados não são listados hoje",
        "the ERP's price list of company {company} segment {segment} could not be read (the ERP did not "
        "answer or refused the read): SKUs never priced are not listed today",
    ),
    "recon_never_priced_unsure": (
        "a resposta do ERP não prova que a lista de preços da empresa {company} segmento {segment} foi lida "
        "inteira (páginas pedidas por número sem conferência, ou um fim que nenhuma resposta confirmou): os "
        "SKUs nunca precificados não são listados hoje",
        "the ERP's answer does not prove the price list of company {company} segment {segment} read whole "
        "(pages asked by number unchecked, or an end no answer attested): SKUs never priced are not listed "
        "today",
    ),
    "recon_never_priced_unreadable": (
        "a lista de preços do ERP da empresa {company} segmento {segment} tem um registro cujo SKU não "
        "pode ser lido: os SKUs nunca precificados não são listados hoje",
        "the ERP's price list of company {company} segment {segment} has a record whose SKU cannot be "
        "read: SKUs never priced are not listed today",
    ),
    "recon_never_sent": (
        "nunca enviado ao ERP (veja o fluxo de pedidos)",
        "never sent to the ERP (see the orders flow)",
    ),
    "recon_invoiced_not_applied": (
        "faturado no ERP, " + _INVOICE_END[0],
        "invoiced in the ERP, " + _INVOICE_END[1],
    ),
    "recon_invoiced_not_applied_nfe": (
        "faturado no ERP (NF-e {numbers}), " + _INVOICE_END[0],
        "invoiced in the ERP (NF-e {numbers}), " + _INVOICE_END[1],
    ),
    # a later NF-e of an order invoiced in parts, its event missed (jobs.reconcile._missed_invoices)
    "recon_invoice_missed": (
        "NF-e {numbers} emitida(s) no ERP depois da aplicada e não aplicada(s) na Shopify: os itens dela "
        "não foram processados e o pagamento dela não foi capturado (o evento de faturamento "
        "do ERP se perdeu)",
        "NF-e {numbers} issued in the ERP after the one applied and not applied in Shopify: its goods not "
        "fulfilled, its payment not captured (the ERP's invoice event was missed)",
    ),
    "recon_heavier": (
        "item(ns) pesável(is) separado(s) com mais peso ({picks}): o ERP cobra {more} a mais; como previsto, "
        "a Shopify mantém o preço, sem cobrar acima do que foi autorizado",
        "weighed item(s) picked heavier ({picks}): the ERP charges {more} more; by design Shopify keeps "
        "its price, not charged above what was authorised",
    ),
    "recon_heavier_pick": ("{sku} de {ordered} kg para {served} kg", "{sku} {ordered} kg -> {served} kg"),
    # a lighter pick's discount rounded up per unit (jobs.reconcile._weight_residual)
    "recon_weight_residual": (
        "item(ns) pesável(is) separado(s) com menos peso ({picks}): a Shopify dá o mesmo desconto a cada "
        "unidade, então o desconto do peso, arredondado para cima no centavo por unidade, deixa a Shopify "
        "{less} abaixo do ERP; como previsto, a captura segue a NF-e",
        "weighed item(s) picked lighter ({picks}): Shopify discounts each unit alike, so the weight's "
        "discount rounded up to the cent per unit leaves Shopify {less} below the ERP; by design, the "
        "capture follows the NF-e",
    ),
    "recon_handled": ("resolvida fora do app: {note}", "handled outside the app: {note}"),
    "recon_waiting_payment": (
        "aguardando pagamento: a Shopify diz {status}",
        "waiting for payment: Shopify says {status}",
    ),
    # an order held for its fraud risk (jobs.order_risk)
    "recon_risk_cancel": (
        "retido para análise de fraude: a Shopify recomenda cancelar o pedido",
        "held for a fraud review: Shopify recommends cancelling the order",
    ),
    "recon_risk_investigate": (
        "retido para análise de fraude: a Shopify recomenda investigar o pedido",
        "held for a fraud review: Shopify recommends investigating the order",
    ),
    "recon_risk_awaiting_app": (
        "retido esperando a análise do app de fraude",
        "held for the fraud app's analysis",
    ),
    "recon_risk_pending": (
        "retido enquanto a análise de fraude não termina",
        "held while its fraud analysis runs",
    ),
    # stock
    "recon_store_closed": (
        "a empresa {company} está inativa no ERP: o fluxo de estoque zera de propósito os níveis neste "
        "local (veja a mensagem de estoque stock:{company}:inactive); não comparado",
        "company {company} is inactive in the ERP: the stock flow sets its levels at this location to 0 "
        "on purpose (see the stock message stock:{company}:inactive); not compared",
    ),
    "recon_stock_unreadable": (
        "{count} registro(s) de estoque da empresa {company} não puderam ser lidos: seus SKUs não são "
        "comparados hoje (o fluxo de estoque falha uma mensagem para cada um, com o registro e o campo)",
        "{count} stock record(s) of company {company} could not be read: their SKUs are not compared today "
        "(the stock flow fails a message for each, naming the record and the field)",
    ),
    # catalog: bindings against the ERP
    "recon_not_in_erp": ("não está no ERP", "not in the ERP"),
    "recon_orphans_unproven": (
        "{count} vínculo(s) cujo SKU a leitura de SKUs do ERP não listou não são dados como fora do ERP: a "
        "resposta do ERP não prova que a leitura foi inteira (ou um registro de SKU ilegível pode ser "
        "qualquer um deles)",
        "{count} binding(s) whose SKU the ERP's SKU read did not list are not reported as not in the ERP: "
        "the ERP's answer does not prove the read whole (or an unreadable SKU record may be any of them)",
    ),
    "recon_skus_unreadable": (
        "{count} registro(s) de SKU do ERP não puderam ser lidos: seus SKUs não são comparados hoje (o fluxo "
        "de catálogo falha uma mensagem para cada um, com o registro e o campo)",
        "{count} SKU record(s) of the ERP could not be read: their SKUs are not compared today (the catalog "
        "flow fails a message for each, naming the record and the field)",
    ),
    "recon_still_for_sale": (
        "inativo no ERP (ou fora de venda na loja), ainda à venda na Shopify",
        "inactive in the ERP (or not for sale at the store), still for sale in Shopify",
    ),
    "recon_not_yet_for_sale": (
        "à venda no ERP, fora de venda na Shopify",
        "for sale in the ERP, not for sale in Shopify",
    ),
    # catalog: Shopify's own state
    "recon_variant_deleted": (
        "variante excluída na Shopify enquanto o ERP a vende",
        "variant deleted in Shopify while the ERP sells it",
    ),
    "recon_not_for_sale_in_shopify": (
        "fora de venda na Shopify enquanto o ERP o vende",
        "not for sale in Shopify while the ERP sells it",
    ),
    "recon_for_sale_in_shopify": (
        "à venda na Shopify enquanto o ERP não o vende",
        "for sale in Shopify while the ERP does not sell it",
    ),
    "recon_edited_in_shopify": ("editado na Shopify: {fields}", "edited in Shopify: {fields}"),
    "recon_field_title": ("título", "title"),
    "recon_field_status": ("situação", "status"),
    "recon_field_vendor": ("fabricante", "vendor"),
    "recon_field_product_type": ("tipo de produto", "productType"),
    "recon_field_description": ("descrição", "descriptionHtml"),
    "recon_field_sku_of": ("SKU de {sku}", "sku of {sku}"),
    "recon_field_barcode_of": ("código de barras de {sku}", "barcode of {sku}"),
    "recon_sent_again": (
        "os valores do ERP são enviados de novo pela próxima passagem de produtos",
        "the ERP's values are sent again by the next products pass",
    ),
    # catalog: prices (jobs.reconcile_prices)
    "recon_price_differs": (
        "preço na Shopify {shopify}, no ERP {erp}",
        "price in Shopify {shopify}, ERP {erp}",
    ),
    "recon_compare_at_differs": (
        "preço comparativo na Shopify {shopify}, no ERP {erp}{meaning}",
        "compare-at price in Shopify {shopify}, ERP {erp}{meaning}",
    ),
    "recon_price_none": ("nenhum", "none"),
    "recon_no_promotion": (" (nenhuma promoção em vigor no ERP)", " (no promotion running in the ERP)"),
    "recon_promotion_running": (" (há uma promoção em vigor no ERP)", " (a promotion is running in the ERP)"),
    "recon_price_fix": (
        "Reenvie (Replay) a mensagem de preços {message} para mandar de novo o preço e o preço comparativo "
        "do ERP",
        "Replay the prices message {message} to send the ERP's price and compare-at price again",
    ),
    # catalog: the markets' price lists (jobs.reconcile_price_lists)
    "recon_list_price_sent_again": (
        "o preço do ERP é enviado de novo à lista pela próxima passagem de preços",
        "the ERP's price is sent again to the list by the next prices pass",
    ),
    "recon_list_price_missing": (
        "nenhum preço fixo na lista do mercado: o mercado mostra o preço base",
        "no fixed price on the market's list: the market shows the base price",
    ),
    "recon_price_list_deleted": (
        "lista de preços apagada na Shopify: o mercado mostra os preços base",
        "price list deleted in Shopify: the market shows the base prices",
    ),
    "recon_price_list_made_again": (
        "criada de novo pela próxima passagem de preços, com todos os preços do seu par",
        "made again by the next prices pass, with every price of its pair",
    ),
}

# A held order's reason may be its orders message's skip words (shopify_app.skip_words); a section's
# error, a failure's words (shopify_app.fail_words.FAILURES).
_SAID = {**fail_words.FAILURES, **skip_words.WORDS, **WORDS}


def in_locale(report: Any, locale: str) -> Any:
    """A copy of the stored report with each text that has its words said in `locale`."""
    return words.texts_in_locale(report, _SAID, locale, KINDS)
