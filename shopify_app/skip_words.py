"""Why a unit was skipped, in the merchant's words (pt-BR and en).

A job that skips a unit stores its reason's words beside the English reason (ledger.trace.skip:
error_detail {"skip": {"key": ..., "params": {...}}}); the pages say them in the request's locale.
A message closed as handled reads as the person's note, framed in the page's language (HANDLED), one
the app closed on what an earlier installation kept (ledger.handled_before) as its words;
one with no words (a row older than them, a skip not given any) or a key this catalogue lacks
reads as its error_text. Params are ids,
numbers and order names, never English text.
"""

from __future__ import annotations

from typing import Any

from ledger import trace
from ledger.handled import info_of
from ledger.handled_before import by_app
from ledger.models import Message, MessageStatus
from ledger.order_risk import awaiting_app, held_for_risk
from shopify_app import fail_words, words
from shopify_app import words as rendering
from shopify_app.words import Text

# An order waiting for its payment (jobs.orders: error_detail {"waiting": "payment", ...}); the
# detail page's explanation says what to do (api_explain).
WAITING: Text = ("aguardando pagamento: a Shopify diz {status}", "waiting for payment: Shopify says {status}")
UNPAID: Text = (
    "; faltam {unpaid} do total {total}",
    "; {unpaid} of its total {total} not paid",
)
# ...nearing the end of the 60 days Shopify lets the app read it (error_detail "readable_until", UTC)
READABLE_UNTIL: Text = (
    "; o app não poderá mais ler este pedido depois de {until} (60 dias, sem o acesso "
    "read_all_orders): se não for pago até lá, lance-o no ERP à mão",
    "; the app can no longer read this order after {until} (60 days, no read_all_orders access): "
    "unless it is paid by then, enter it in the ERP by hand",
)

# An order held for its fraud risk (jobs.order_risk: error_detail {"waiting": "risk", ...}).
RISK_HELD: dict[str, Text] = {
    "CANCEL": (
        "retido para análise de fraude: a Shopify recomenda cancelar o pedido",
        "held for a fraud review: Shopify recommends cancelling the order",
    ),
    "INVESTIGATE": (
        "retido para análise de fraude: a Shopify recomenda investigar o pedido",
        "held for a fraud review: Shopify recommends investigating the order",
    ),
}
RISK_PENDING: Text = (
    "retido enquanto a análise de fraude não termina ({providers})",
    "held while its fraud analysis runs ({providers})",
)
RISK_AWAITING_APP: Text = (
    "retido por até {minutes} minutos depois do checkout (até {until}) esperando a análise do app de fraude",
    "held up to {minutes} minutes after its checkout (until {until}) for the fraud app's analysis",
)
RISK_FOUND: Text = ("; {found}", "; {found}")
RISK_LEVELS: dict[str, Text] = {
    "HIGH": ("risco alto", "high risk"),
    "MEDIUM": ("risco médio", "medium risk"),
    "LOW": ("risco baixo", "low risk"),
    "NONE": ("sem risco apontado", "no risk found"),
    "PENDING": ("em análise", "analysis under way"),
}

# A message closed as handled (ledger.handled: its error_text "handled outside the app: <note>").
HANDLED: Text = ("resolvida fora do app: {note}", "handled outside the app: {note}")

WORDS: dict[str, Text] = {
    # ERP events (jobs.order_events)
    "event_unknown_order": (
        "O pedido {nro} do ERP não está vinculado a nenhum pedido Shopify desta loja (digitado no ERP ou "
        "de outro canal): nada a mudar na Shopify",
        "ERP order {nro} is not linked to any Shopify order of this shop (typed in the ERP, or from another "
        "channel): nothing to change in Shopify",
    ),
    # another store's order on the same ERP and sales channel (jobs.order_events.SIBLING_ORDER)
    "event_sibling_order": (
        "O pedido {nro} do ERP não está vinculado a nenhum pedido Shopify desta loja: é o pedido Shopify "
        "{order} de {store}, outra loja neste ERP; nada a mudar aqui",
        "ERP order {nro} is not linked to any Shopify order of this shop: it is Shopify order {order} of "
        "{store}, another store on this ERP; nothing to change here",
    ),
    # its link erased with the store's data (shop/redact after an uninstall): jobs.order_events.unknown_order
    "event_order_erased": (
        "O pedido {nro} do ERP não está vinculado a nenhum pedido Shopify desta loja: o app o enviou desta "
        "loja (pedido Shopify {order}) antes de ser desinstalado ({uninstalled} UTC), e os dados da loja, "
        "com o vínculo ao pedido, foram apagados como a Shopify pede após uma desinstalação; nada foi "
        "mudado na Shopify: faça essa mudança lá à mão se o pedido ainda precisar",
        "ERP order {nro} is not linked to any Shopify order of this shop: the app sent it from this store "
        "(Shopify order {order}) before the app was uninstalled ({uninstalled} UTC), and the store's data, "
        "its link to the order with it, was erased as Shopify asks after an uninstall; nothing was changed "
        "in Shopify: make this change there by hand if the order still needs it",
    ),
    "event_unknown_kind": (
        "O evento {seq} do pedido {nro} do ERP é de um tipo que o app não conhece ({kind}): nada foi "
        "aplicado na Shopify; confira se o pedido na Shopify precisa de alguma mudança",
        "ERP event {seq} of ERP order {nro} is of a kind the app does not know ({kind}): nothing was applied "
        "in Shopify; check whether the order in Shopify needs a change",
    ),
    "event_unlinked_by_hand": (
        "O pedido {nro} do ERP foi desvinculado à mão do pedido {order}: nada a mudar na Shopify",
        "ERP order {nro} was unlinked by hand from order {order}: nothing to change in Shopify",
    ),
    "event_other_erp": (
        "O evento {seq} é do ERP ao qual a loja estava conectada antes: o pedido {nro} é daquele ERP, e o "
        "mesmo número pode ser outro pedido no ERP usado agora; nada aplicado",
        "ERP event {seq} belongs to the ERP the shop was connected to before: its order {nro} is that "
        "ERP's, and the same number may be another order in the ERP the shop uses now; nothing applied",
    ),
    # orders and cancellations
    "cancelled_before_erp": (
        "Cancelado na Shopify antes de chegar ao ERP",
        "Cancelled in Shopify before it reached the ERP",
    ),
    "order_test": (
        "Pedido de teste da Shopify (provedor de pagamento em modo de teste): não enviado ao ERP",
        "A Shopify test order (a payment provider in test mode): not sent to the ERP",
    ),
    "order_at_register": (
        "Vendido no caixa ({location}, Shopify POS): pago e entregue lá, com a NFC-e emitida lá, então "
        "não vai ao ERP como pedido de e-commerce; lance-o no ERP à mão se ainda precisar",
        "Sold at the register ({location}, Shopify POS): paid and handed over there, its NFC-e issued "
        "there, so it is not sent to the ERP as an e-commerce order; enter it in the ERP by hand if it "
        "still needs to be",
    ),
    "order_no_goods": (
        "Este pedido não vende mercadorias (só vales-presente ou gorjeta): o ERP não tem o que separar "
        "nem faturar, então não é enviado",
        "This order sells no goods (only gift cards or a tip): the ERP has nothing to pick or invoice, "
        "so it is not sent",
    ),
    "order_before_install": (
        "Pedido de antes da instalação do app nesta loja ({installed} UTC): a loja o tratou sem o app, "
        "então não é enviado ao ERP; lance-o lá à mão se ainda precisar",
        "An order from before the app was installed on this store ({installed} UTC): the store handled it "
        "without the app, so it is not sent to the ERP; enter it there by hand if it still needs to be",
    ),
    # jobs.order_kinds: placed between an uninstall and the install after it (ledger.install_periods)
    "order_while_uninstalled": (
        "Pedido feito enquanto o app não estava instalado nesta loja (desinstalado em {uninstalled} UTC, "
        "instalado de novo em {installed} UTC): a loja o tratou sem o app, então não é enviado ao ERP; "
        "lance-o lá à mão se ainda precisar",
        "An order placed while the app was not installed on this store (uninstalled {uninstalled} UTC, "
        "installed again {installed} UTC): the store handled it without the app, so it is not sent to the "
        "ERP; enter it there by hand if it still needs to be",
    ),
    # ledger.handled_before: closed as handled by a person of an installation whose data shop/redact erased
    "order_handled_before": (
        "Resolvido fora do app por uma pessoa numa instalação anterior do app ({at} UTC), antes de os "
        "dados da loja serem apagados após a desinstalação: não é enviado ao ERP, que pode tê-lo lançado "
        "à mão",
        "Closed as handled outside the app by a person in an earlier installation of the app ({at} UTC), "
        "before the store's data was erased after its uninstall: not sent to the ERP, which may hold it "
        "entered by hand",
    ),
    # jobs.order_payment_lost: the message of a payment lost once in the ERP, closed as its note goes
    # ({status}: Shopify's financial status, said in words: FINANCIAL_STATUS_PARAMS)
    "payment_back": (
        "A Shopify mostra o pagamento como {status} agora: o pagamento não está mais perdido",
        "Shopify shows the payment as {status} now: the payment is no longer lost",
    ),
    # an order's card data (jobs.card_payments) with nothing to record
    "card_not_in_erp": (
        "o pedido não está no ERP: não há pagamento com cartão a registrar lá",
        "the order is not in the ERP: no card payment to record there",
    ),
    "card_erp_cancelled": (
        "o pedido {nro} do ERP está cancelado: não há recebível de cartão a conciliar",
        "ERP order {nro} is cancelled: no card receivable to reconcile",
    ),
    "card_setting_off": (
        "pedido {nro} do ERP: a loja não envia mais dados de cartão ao ERP (configuração card_payment_data "
        "desligada): nada registrado",
        "ERP order {nro}: the store no longer sends card data to the ERP (setting card_payment_data off): "
        "nothing recorded",
    ),
    "card_none": (
        "pedido {nro} do ERP: a Shopify não mostra dados de cartão (bandeira, BIN) dos seus pagamentos: "
        "nada a registrar",
        "ERP order {nro}: Shopify shows no card details (brand, BIN) for its payments: nothing to record",
    ),
    # jobs.order_risk_late: the message of a fraud verdict once in the ERP, closed as its note goes
    "risk_after_erp_nothing_to_stop": (
        "O pedido {nro} do ERP está faturado ou cancelado, ou a retenção por risco está desligada: não há "
        "o que impedir",
        "ERP order {nro} is invoiced or cancelled, or the risk hold is off: nothing to stop",
    ),
    "risk_after_erp_cleared": (
        "A Shopify não recomenda mais reter o pedido ({recommendation}): nada a reter",
        "Shopify no longer recommends holding the order ({recommendation}): nothing to hold",
    ),
    "payment_lost_done_with": (
        "O pedido {nro} do ERP está faturado ou cancelado: não há mais o que impedir",
        "ERP order {nro} is invoiced or cancelled: nothing left to stop",
    ),
    # {status}: Shopify's financial status, said in words (FINANCIAL_STATUS_PARAMS)
    "order_will_not_be_paid": (
        "A Shopify mostra o pagamento como {status}: este pedido não será pago como está; um pagamento "
        "depois o traz de volta",
        "Shopify shows the payment as {status}: this order will not be paid as it stands; a payment later "
        "brings it back",
    ),
    "cancel_never_sent": (
        "Nunca enviado ao ERP: nada a cancelar lá",
        "Never sent to the ERP: nothing to cancel there",
    ),
    "cancel_never_sent_closed": (
        "Nunca enviado ao ERP: nada a cancelar lá; a importação pendente foi encerrada",
        "Never sent to the ERP: nothing to cancel there; its pending import was closed",
    ),
    "erp_order_already_cancelled": (
        "O pedido {nro} do ERP já está cancelado",
        "ERP order {nro} is already cancelled",
    ),
    "shopify_order_already_cancelled": (
        "O pedido {name} já estava cancelado na Shopify",
        "Shopify order {name} was already cancelled",
    ),
    "cancel_both_sides": (
        "O pedido foi cancelado na Shopify depois que este cancelamento falhou lá ({code}): os dois lados "
        "estão cancelados, nada mais a fazer",
        "The order was cancelled in Shopify after this cancellation failed there ({code}): both sides are "
        "cancelled, nothing left to do",
    ),
    # invoices and picking (ERP -> Shopify)
    "picking_cancelled_by_event": (
        "O pedido {name} está cancelado na Shopify e o evento {seq} do ERP cancelou o pedido {nro} depois "
        "desta separação: nada a aplicar",
        "Shopify order {name} is cancelled and ERP event #{seq} cancelled ERP order {nro} after this "
        "picking: nothing to apply",
    ),
    "invoice_cancelled_by_event": (
        "O pedido {name} está cancelado na Shopify e o evento {seq} do ERP cancelou o pedido {nro} depois "
        "desta nota: nada a faturar",
        "Shopify order {name} is cancelled and ERP event #{seq} cancelled ERP order {nro} after this "
        "invoice: nothing to invoice",
    ),
    "invoice_cancelled_nfe_gone": (
        "O pedido {name} está cancelado na Shopify e o ERP lista a NF-e {key} como cancelada: nada a faturar",
        "Shopify order {name} is cancelled and the ERP lists its NF-e {key} cancelled: nothing to invoice",
    ),
    "invoice_nfe_cancelled": (
        "O evento {seq} do ERP cita a NF-e {key} (número {number}), que o ERP lista como cancelada: nada "
        "dela é gravado, cobrado ou processado",
        "ERP event {seq} names NF-e {key} (number {number}), which the ERP lists cancelled: nothing of it "
        "is written, charged or fulfilled",
    ),
    "picking_superseded": (
        "o evento de separação #{seq} foi substituído pelo evento #{later} do pedido {nro} do ERP, já "
        "aplicado: nada aplicado",
        "picking event #{seq} was superseded by event #{later} of ERP order {nro}, applied already: nothing "
        "applied",
    ),
    "picking_order_cancelled": (
        "O pedido {name} está cancelado na Shopify: alterações da separação não aplicadas",
        "Shopify order {name} is cancelled: picking changes not applied",
    ),
    "picking_nothing_changed": (
        "A separação não mudou nada neste pedido",
        "Picking changed nothing on this order",
    ),
    # edits (Shopify -> ERP)
    "edit_not_in_erp_yet": (
        "Pedido ainda não está no ERP: a importação, quando for, envia os itens da Shopify como estiverem",
        "Order not in the ERP yet: its import, when it goes, sends Shopify's lines as they are then",
    ),
    "edit_never_sent": (
        "Pedido nunca enviado ao ERP, então nada a mudar lá (a importação foi ignorada: mensagem #{id})",
        "Order never sent to the ERP, so nothing to change there (its import was skipped: message #{id})",
    ),
    "edit_import_skipped": (
        "Pedido não está no ERP, então nada a mudar lá (a importação foi ignorada: mensagem #{id})",
        "Order not in the ERP, so nothing to change there (its import was skipped: message #{id})",
    ),
    "edit_erp_cancelled": (
        "O pedido {nro} do ERP está cancelado: nada a editar",
        "ERP order {nro} is cancelled: nothing to edit",
    ),
    "edit_erp_cancelled_events": (
        "O pedido {nro} está cancelado no ERP: nada a editar (o cancelamento chega à Shopify pelos eventos "
        "do ERP)",
        "ERP order {nro} is cancelled in the ERP: nothing to edit (its cancellation reaches Shopify with "
        "the ERP's events)",
    ),
    "edit_cancelled_in_shopify": (
        "O pedido {name} está cancelado na Shopify: vai ao pedido {nro} do ERP o cancelamento, não esta "
        "edição",
        "Order {name} is cancelled in Shopify: its cancellation, not this edit, goes to ERP order {nro}",
    ),
    "edit_matches_picked": (
        "A Shopify já confere com o pedido {nro} do ERP como separado: nada a mudar",
        "Shopify already matches ERP order {nro} as picked: nothing to change",
    ),
    "edit_forms_too_late": (
        "O pedido {nro} do ERP já tem estes itens; a separação começou, suas formas de pagamento ficam como "
        "estão",
        "ERP order {nro} already has these lines; its picking began, its payment forms stay unchanged",
    ),
    "edit_lines_already": (
        "O pedido {nro} do ERP já tem estes itens",
        "ERP order {nro} already has these lines",
    ),
    "edit_lines_already_lost": (
        "O pedido {nro} do ERP já tem estes itens (a resposta de uma tentativa anterior se perdeu: {lost} "
        "alteração(ões) de item registrada(s))",
        "ERP order {nro} already has these lines (an earlier attempt's answer was lost: {lost} line "
        "change(s) recorded)",
    ),
    "edit_flag_settled": (
        "Resolvida: a Shopify voltou a conferir com o pedido {nro} do ERP como separado (mensagem #{id})",
        "settled: Shopify matches ERP order {nro} as picked again (message #{id})",
    ),
    "edit_matched_settled": (
        "Resolvida: o pedido {nro} do ERP tem as linhas do pedido como a Shopify as tem agora "
        "(mensagem #{id})",
        "settled: ERP order {nro} holds the order's lines as Shopify has them now (message #{id})",
    ),
    "edit_cancelled_settled": (
        "Resolvida: o pedido foi cancelado (pedido {nro} do ERP)",
        "settled: the order is cancelled (ERP order {nro})",
    ),
    "edit_empty_settled": (
        "Resolvida: uma alteração seguinte (mensagem #{id}) chegou ao pedido {nro} do ERP com itens",
        "settled: a later change (message #{id}) reached ERP order {nro} with items",
    ),
    "edit_refund_money_skipped": (
        "O reembolso {refund} devolveu {amount} sem nada devolvido em troca: nada a mudar no pedido {nro} do "
        "ERP; o pedido foi sinalizado para que o valor seja registrado lá",
        "refund {refund} gave back {amount} with nothing taken back: nothing to change in ERP order {nro}; "
        "the order is flagged for the amount to be recorded there",
    ),
    "edit_superseded_sent": (
        "Substituída pela mensagem #{id}: o pedido {nro} do ERP já tem os itens atuais do pedido, então "
        "nada desta mudança resta a enviar",
        "Superseded by message #{id}: ERP order {nro} has the order's current lines now, so nothing of "
        "this change is left to send",
    ),
    "edit_superseded_held": (
        "Substituída pela mensagem #{id}, uma mudança posterior do pedido, que cita esta mudança também",
        "Superseded by message #{id}, a later change of the order, which names this change too",
    ),
    "edit_held_cancelled": (
        "O pedido está cancelado: esta mudança retida não vai mais ao ERP",
        "The order is cancelled: this change held back no longer goes to the ERP",
    ),
    "edit_flag_superseded": (
        "Substituída pela mensagem #{id}, que mostra as linhas do pedido como estão na Shopify agora contra "
        "o que o ERP atendeu, a alteração desta incluída",
        "Superseded by message #{id}, which names the order's lines as Shopify holds them now against what "
        "the ERP served, this one's change included",
    ),
    "edit_flagged_already": (
        "A mesma alteração já foi sinalizada pela mensagem #{id}: nada de novo a avisar",
        "The same change is flagged already, by message #{id}: nothing new to tell",
    ),
    # delivery address (jobs.order_edits.address, ledger.order_link_by_hand)
    "address_back_to_erp": (
        "A entrega (endereço e horário) voltou à que o pedido {nro} do ERP tem: nada a enviar ao ERP",
        "The delivery (address and time) is back to the one ERP order {nro} holds: nothing to send to "
        "the ERP",
    ),
    "address_already_in_erp": (
        "O pedido {nro} do ERP já indica esta entrega: nada a enviar",
        "ERP order {nro} already names this delivery: nothing to send",
    ),
    "address_erp_cancelled": (
        "O pedido {nro} está cancelado no ERP: nenhuma entrega a mudar",
        "ERP order {nro} is cancelled in the ERP: no delivery to change",
    ),
    # a delivery flagged as a pickup now (jobs.order_edits.address._now_pickup), a delivery again
    "address_delivery_again": (
        "O pedido voltou a ser uma entrega, como o pedido no ERP a faz: nada a enviar ao ERP",
        "The order is a delivery again, as its ERP order delivers it: nothing to send to the ERP",
    ),
    "address_now_pickup": (
        "O pedido agora é uma retirada: nenhum endereço de entrega a enviar ao ERP",
        "The order is a pickup now: no delivery address to send to the ERP",
    ),
    "address_now_cancelled": (
        "O pedido agora está cancelado: nenhum endereço de entrega a enviar ao ERP",
        "The order is cancelled now: no delivery address to send to the ERP",
    ),
    "address_relinked": (
        "O pedido agora está vinculado ao pedido {nro} do ERP: o endereço de entrega sobre o pedido {was} "
        "do ERP não vale mais",
        "The order is now linked to ERP order {nro}: the delivery address about ERP order {was} no "
        "longer applies",
    ),
    "address_unlinked": (
        "O pedido {nro} do ERP foi desvinculado à mão: o endereço de entrega sobre ele não vale mais",
        "ERP order {nro} was unlinked from the order by hand: the delivery address about it no longer "
        "applies",
    ),
    # catalog
    "catalog_unchanged": (
        "Sem mudança: a Shopify já tem este produto",
        "Unchanged: Shopify already has this product",
    ),
    # stock (jobs.stock_superseded: a batch's levels set by later passes)
    "stock_superseded": (
        "Substituída: os níveis deste lote no local da empresa {company} foram gravados depois pela(s) "
        "mensagem(ns) {ids}; nada mais a fazer (o erro original fica no detalhe)",
        "Superseded: this batch's levels at company {company}'s location were set later by message(s) "
        "{ids}; nothing left to do (the original error is kept in the detail)",
    ),
    "stock_superseded_earlier": (
        "Substituída: passagens de estoque posteriores gravaram os níveis deste lote no local da empresa "
        "{company}, ou eles não são mais devidos; nada mais a fazer (o erro original fica no detalhe)",
        "Superseded: later stock passes set this batch's levels at company {company}'s location, or they "
        "are no longer due; nothing left to do (the original error is kept in the detail)",
    ),
    # stock (jobs.stock_policy_settled: a product's inventoryPolicy message no longer wanted)
    "stock_policy_in_place": (
        "Nada mais a fazer: as variantes deste produto já estão na Shopify como pede o controle de estoque "
        "da empresa {company} no ERP (vender ou não quando sem estoque); o erro original fica no detalhe",
        "Nothing left to do: this product's variants already are in Shopify as company {company}'s stock "
        "control in the ERP asks (whether to sell when out of stock); the original error is kept in the "
        "detail",
    ),
    "stock_policy_not_decided": (
        "Nada mais a fazer: a empresa {company} não decide mais se este produto vende quando sem estoque; "
        "quem decide é a empresa {now}, e a passagem dela envia o que mudar; o erro original fica no detalhe",
        "Nothing left to do: company {company} no longer decides whether this product sells when out of "
        "stock; company {now} does, and its pass sends what differs; the original error is kept in the "
        "detail",
    ),
    # stock (jobs.stock_control: a SKU's stock control differs between the company deciding its
    # inventoryPolicy and another mapped company; named once, done when the difference ends)
    "stock_control_differs_deny": (
        "O controle de estoque difere: a empresa {deciding} controla o estoque do SKU {sku} no ERP e a "
        "empresa {company} não; a Shopify guarda uma só política de estoque (inventoryPolicy) por variante, "
        "e quem a decide é o controle de estoque da empresa {deciding}, então também no local da empresa "
        "{company} o item para de vender em 0, e o nível lá fica como o app o gravou por último (o app não "
        "grava nenhum enquanto a empresa {company} não controla o estoque); dê o mesmo controle de estoque "
        "às duas empresas no ERP se a loja da empresa {company} deve vendê-lo sem limite",
        "Stock control differs: company {deciding} controls the stock of SKU {sku} in the ERP and company "
        "{company} does not; Shopify keeps one inventoryPolicy per variant, and company {deciding}'s stock "
        "control decides it, so at company {company}'s location too the item stops selling at 0, its level "
        "there left as the app last wrote it (it writes none while company {company} does not control the "
        "stock); set the same stock control for both companies in the ERP if company {company}'s store "
        "should sell it without limit",
    ),
    "stock_control_differs_continue": (
        "O controle de estoque difere: a empresa {deciding} não controla o estoque do SKU {sku} no ERP e a "
        "empresa {company} controla; a Shopify guarda uma só política de estoque (inventoryPolicy) por "
        "variante, e quem a decide é o controle de estoque da empresa {deciding}, então o item continua "
        "vendendo sem estoque em todos os locais, inclusive no da empresa {company}: o nível lá segue o "
        "estoque da empresa {company} no ERP, mas a Shopify vende além do 0; dê o mesmo controle de estoque "
        "às duas empresas no ERP se a loja da empresa {company} deve parar no seu estoque",
        "Stock control differs: company {deciding} does not control the stock of SKU {sku} in the ERP and "
        "company {company} does; Shopify keeps one inventoryPolicy per variant, and company {deciding}'s "
        "stock control decides it, so the item keeps selling when out of stock at every location, company "
        "{company}'s too: its level there follows company {company}'s ERP stock, but Shopify sells past 0; "
        "set the same stock control for both companies in the ERP if company {company}'s store should stop "
        "at its stock",
    ),
    # a product the ERP sells online, deleted in Shopify by a person (jobs.catalog_deleted)
    "product_deleted_in_shopify": (
        "O produto {product} foi apagado na Shopify, mas o ERP ainda o vende on-line: a próxima execução "
        "do fluxo de produtos o cria de novo. Para parar de vendê-lo, tire-o do e-commerce no ERP",
        "Product {product} was deleted in Shopify while the ERP still sells it online: the next products "
        "pass creates it again. To stop selling it, take it off the e-commerce in the ERP",
    ),
    # price lists
    "price_list_market_unmapped": (
        "O mercado não está mais mapeado a um par do ERP: nada a configurar",
        "Its market is no longer mapped to an ERP pair: nothing to set up",
    ),
    "price_list_recreated": (
        "A lista de preços do mercado {market} (empresa {company}, segmento {segment}) foi apagada na "
        "Shopify; recriada e todos os preços reenviados",
        "The price list of market {market} (company {company}, segment {segment}) was deleted in Shopify; "
        "made again and every price sent again",
    ),
    "price_list_reattached": (
        "A lista de preços da empresa {company}, segmento {segment}, não estava em nenhum catálogo do "
        "mercado (o catálogo foi apagado na Shopify): um novo catálogo a tem de novo, com os preços como "
        "estavam",
        "The price list of company {company}, segment {segment}, was on no catalog of the market (its "
        "catalog was deleted in Shopify): a new catalog holds it again, its prices as they were",
    ),
    "price_list_gone_batch": (
        "A lista de preços deste lote foi apagada na Shopify: os preços vão para a lista recriada",
        "This batch's price list was deleted in Shopify: its prices go to the list made again",
    ),
    "price_list_nothing_to_remove": (
        "Nada mais a remover: o par do mercado foi mapeado de novo, ou a lista de preços já foi esvaziada",
        "Nothing to remove any more: the market's pair is mapped again, or its price list was already "
        "emptied",
    ),
}


# Skips whose param is Shopify's financial status as its code (jobs.orders stores the code, as it
# came): said in words (fail_words.financial_status), as _waiting says a waiting order's.
FINANCIAL_STATUS_PARAMS: dict[str, str] = {"order_will_not_be_paid": "status", "payment_back": "status"}


def say(key: str, params: dict[str, Any] | None, locale: str) -> str | None:
    """The words of `key` in `locale` with `params` in place (None: no such key)."""
    return rendering.say(WORDS, key, params, locale)


def reason(message: Message, locale: str) -> str | None:
    """Why the message was skipped, or waits for its payment, in `locale`; a skip's error_text when
    it has no words (an old row); None for any other message."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    if message.status == MessageStatus.PENDING.value and detail.get("waiting") == "payment":
        return _waiting(detail, locale)
    if held_for_risk(message):
        return risk_held(detail, locale)
    if message.status != MessageStatus.SKIPPED.value:
        return None
    words = detail.get(trace.SKIP)
    closed = info_of(message.status, detail)
    if closed is not None and not by_app(closed):  # the person's note, framed in the page's language
        return HANDLED[1 if locale == "en" else 0].format(note=closed.get("note") or "")
    if isinstance(words, dict):
        return rendering.in_locale(WORDS, _statuses_in_words(words, locale), message.error_text, locale)
    return message.error_text


def _statuses_in_words(words: dict[str, Any], locale: str) -> dict[str, Any]:
    """The stored words with a financial status param (FINANCIAL_STATUS_PARAMS) said in `locale`."""
    name = FINANCIAL_STATUS_PARAMS.get(str(words.get("key")))
    params = words.get("params")
    if name is None or not isinstance(params, dict) or not isinstance(params.get(name), str):
        return words
    return {**words, "params": {**params, name: fail_words.financial_status(params[name], locale)}}


def risk_held(detail: dict[str, Any], locale: str) -> str:
    """Why an order waits for its fraud risk (jobs.order_risk), with each assessment's verdict."""
    at = 1 if locale == "en" else 0
    assessments = [a for a in detail.get("assessments") or [] if isinstance(a, dict)]
    if awaited := awaiting_app(detail):
        until = words.moment(awaited["until"], locale)
        return RISK_AWAITING_APP[at].format(minutes=awaited.get("minutes"), until=until)
    if detail.get("pending"):
        pending = [a for a in assessments if a.get("level") == "PENDING"]
        providers = ", ".join(str(a.get("provider") or "Shopify") for a in pending)
        return RISK_PENDING[at].format(providers=providers or "Shopify")
    said = RISK_HELD.get(str(detail.get("recommendation")), RISK_HELD["CANCEL"])[at]
    found = "; ".join(risk_assessment(a, locale) for a in assessments)
    return said + (RISK_FOUND[at].format(found=found) if found else "")


def risk_assessment(assessment: dict[str, Any], locale: str) -> str:
    """One assessment in words: "Shopify: high risk (facts...)", the facts as the provider wrote them."""
    at = 1 if locale == "en" else 0
    level = str(assessment.get("level") or "NONE")
    facts = ", ".join(str(f) for f in assessment.get("facts") or [])
    said = f"{assessment.get('provider') or 'Shopify'}: {RISK_LEVELS.get(level, (level, level))[at]}"
    return said + (f" ({facts})" if facts else "")


def _waiting(detail: dict[str, Any], locale: str) -> str:
    at = 1 if locale == "en" else 0
    said = WAITING[at].format(status=fail_words.financial_status(detail.get("financial_status"), locale))
    if detail.get("unpaid") and detail.get("total"):
        unpaid, total = words.money(detail["unpaid"], locale), words.money(detail["total"], locale)
        said += UNPAID[at].format(unpaid=unpaid, total=total)
    if detail.get("readable_until"):
        said += READABLE_UNTIL[at].format(until=words.moment(detail["readable_until"], locale))
    return said
