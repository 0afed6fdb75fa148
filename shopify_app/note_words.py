"""The notes for a person on an order, in the merchant's words (pt-BR and en).

A flow that leaves a note on an order (ledger.order_notes) keeps its words beside the English line:
one or more parts, each a key of WORDS and its params (ids, numbers, order names, amounts as
{"money": "12.50"}, the ERP's or a person's own text). A param may be a part itself (a fragment
said in the same language: "the NF-e" or "the 2 NF-e"), a list of parts said one after another
({"join": "and"|"comma"|"semicolon"|"none", "parts": [...]}: JOINS), or a plain value. The Orders page
says them in the request's locale; a note with no words (a row written before, a flow that gave
none) or with a key this catalogue lacks reads as its English text, as a skipped message does
(shopify_app.skip_words, whose tone this follows). The English templates say exactly what the
flows write, so the stored line and its words never tell two stories.
"""

from __future__ import annotations

from typing import Any

from ledger.order_notes import Note
from shopify_app import words
from shopify_app.words import JOIN as PARTS  # between a note's parts, as the flows join them
from shopify_app.words import JOINS, Text

__all__ = ["JOINS", "PARTS", "WORDS", "say_note"]

WORDS: dict[str, Text] = {
    # fragments said inside a note
    "nfe_key": (" (NF-e {key})", " (NF-e {key})"),
    "key_unknown": ("(chave desconhecida)", "(key unknown)"),
    "no_status": ("sem status", "no status"),
    # Shopify's financial status (jobs.order_map.FINANCIAL_STATUS_WORDS): a note's {status}, and
    # payment_unmapped_none's (fail_words.FAILURES holds this catalogue), fail_words.financial_status
    "financial_authorized": ("autorizado", "authorized"),
    "financial_expired": ("expirado", "expired"),
    "financial_paid": ("pago", "paid"),
    "financial_partially_paid": ("parcialmente pago", "partially paid"),
    "financial_partially_refunded": ("parcialmente reembolsado", "partially refunded"),
    "financial_pending": ("pendente", "pending"),
    "financial_refunded": ("reembolsado", "refunded"),
    "financial_voided": ("anulado", "voided"),
    "the_nfe": ("a NF-e", "the NF-e"),
    "the_nfes": ("as {count} NF-e", "the {count} NF-e"),
    "an_nfe": ("uma NF-e", "an NF-e"),
    "nfes": ("{count} NF-e", "{count} NF-e"),
    # an ERP order linked by hand, invoiced, whose invoice event the app does not hold
    # (ledger.order_link_by_hand.INVOICE_NOT_HELD)
    "hand_link_invoice_not_held": (
        "O pedido {nro} do ERP está faturado, mas o app não tem o evento da sua NF-e: se o ERP o faturou "
        "nos últimos minutos, a próxima leitura o aplica e esta observação sai; se a NF-e é mais antiga que "
        "os {days} dias em que o app guarda os eventos de pedidos ainda não vinculados "
        "(UNLINKED_EVENT_RETENTION_DAYS), registre a NF-e no pedido da Shopify e faça a captura e o "
        "processamento à mão, depois marque esta observação como resolvida",
        "ERP order {nro} is invoiced, but the app holds no invoice event of it: if the ERP invoiced it in "
        "the last minutes, the next poll applies it and this note goes; if the invoice is older than the "
        "{days} days the app keeps the events of orders not linked yet (UNLINKED_EVENT_RETENTION_DAYS), "
        "write its NF-e on the Shopify order and capture and fulfil it by hand, then mark this note handled",
    ),
    # cancellations (Shopify -> ERP: jobs.cancellations.to_erp)
    "cancel_after_invoicing": (
        "O pedido {name} foi cancelado na Shopify, mas o pedido {nro} do ERP já está faturado{nfe}. Uma NF-e "
        "não se desfaz sozinha: alguém precisa cancelar a NF-e no ERP (dentro do prazo legal) ou emitir uma "
        "nota de devolução, e acertar o reembolso com o cliente.",
        "Order {name} was cancelled in Shopify, but ERP order {nro} is already invoiced{nfe}. An NF-e cannot "
        "be undone silently: a person must cancel the NF-e in the ERP (within the legal deadline) or issue a "
        "return invoice, and settle the refund with the customer.",
    ),
    # the same, of an order invoiced in several NF-e: {keys}, every key (a list, said with commas)
    "cancel_after_invoicing_nfes": (
        "O pedido {name} foi cancelado na Shopify, mas o pedido {nro} do ERP já está faturado (NF-e {keys}). "
        "Uma NF-e não se desfaz sozinha: alguém precisa cancelar cada NF-e no ERP (dentro do prazo legal) ou "
        "emitir uma nota de devolução, e acertar o reembolso com o cliente.",
        "Order {name} was cancelled in Shopify, but ERP order {nro} is already invoiced (NF-e {keys}). An "
        "NF-e cannot be undone silently: a person must cancel each NF-e in the ERP (within the legal "
        "deadline) or issue a return invoice, and settle the refund with the customer.",
    ),
    # the same, with what Shopify did with the money ({money}: one of the cancel_money_* parts)
    "cancel_after_invoicing_money": (
        "O pedido {name} foi cancelado na Shopify, mas o pedido {nro} do ERP já está faturado{nfe}. Uma NF-e "
        "não se desfaz sozinha: alguém precisa cancelar a NF-e no ERP (dentro do prazo legal) ou emitir uma "
        "nota de devolução. {money}",
        "Order {name} was cancelled in Shopify, but ERP order {nro} is already invoiced{nfe}. An NF-e cannot "
        "be undone silently: a person must cancel the NF-e in the ERP (within the legal deadline) or issue a "
        "return invoice. {money}",
    ),
    "cancel_after_invoicing_nfes_money": (
        "O pedido {name} foi cancelado na Shopify, mas o pedido {nro} do ERP já está faturado (NF-e {keys}). "
        "Uma NF-e não se desfaz sozinha: alguém precisa cancelar cada NF-e no ERP (dentro do prazo legal) ou "
        "emitir uma nota de devolução. {money}",
        "Order {name} was cancelled in Shopify, but ERP order {nro} is already invoiced (NF-e {keys}). An "
        "NF-e cannot be undone silently: a person must cancel each NF-e in the ERP (within the legal "
        "deadline) or issue a return invoice. {money}",
    ),
    "cancel_money_refunded": (
        "A Shopify já reembolsou {refunded} (todo o pagamento): não reembolse de novo.",
        "Shopify refunded {refunded} already (the whole payment): do not refund it again.",
    ),
    "cancel_money_refunding": (
        "A Shopify está reembolsando {refunding} (aguardando o provedor de pagamento): não reembolse de "
        "novo; confira se o valor chegou ao cliente.",
        "Shopify is refunding {refunding} (waiting for the payment provider): do not refund it again; "
        "check that it reached the customer.",
    ),
    "cancel_money_part": (
        "A Shopify reembolsou {refunded} e ainda guarda {kept}: reembolse o restante ao cliente, se for "
        "devido.",
        "Shopify refunded {refunded} and still keeps {kept}: refund the rest to the customer, if due.",
    ),
    "cancel_money_kept": (
        "A Shopify guarda o pagamento ({kept}): reembolse o cliente depois de cancelar a NF-e ou emitir a "
        "devolução.",
        "Shopify keeps the payment ({kept}): refund it to the customer once the NF-e is cancelled or the "
        "return invoiced.",
    ),
    "cancel_money_none": (
        "Nada foi pago na Shopify: não há dinheiro a devolver.",
        "Nothing was paid in Shopify: there is no money to give back.",
    ),
    "cancel_money_unknown": (
        "Acerte o reembolso com o cliente (não foi possível ler na Shopify o que ela reembolsou).",
        "Settle the refund with the customer (Shopify could not be read to say what it refunded).",
    ),
    "cancel_erp_number_unknown": (
        "número do ERP desconhecido. O pedido {name} foi cancelado na Shopify. Ele foi enviado ao ERP uma "
        "vez e a resposta do ERP se perdeu, e o reenvio para descobrir o número falhou ({why}). O ERP pode "
        "ter o pedido em aberto: procure-o no ERP pelo código do pedido no canal {channel} e cancele-o lá, "
        "ou corrija a causa acima e use Tentar de novo neste cancelamento.",
        "ERP number unknown. Order {name} was cancelled in Shopify. It was sent to the ERP once and the "
        "ERP's answer was lost, and sending it again to learn its ERP number failed ({why}). The ERP may "
        "hold it as a live order: look it up in the ERP by its channel order id {channel} and cancel it "
        "there, or fix the cause above and Retry this cancellation.",
    ),
    # a cancellation's failure (not a note): the order's import was closed as handled by hand
    "cancel_handled_by_hand": (
        'O pedido {name} foi cancelado na Shopify. A importação dele foi resolvida fora do app ("{note}") '
        "e nenhum pedido do ERP está vinculado a ele, então o app não pode cancelar nenhum: se ele foi "
        "lançado no ERP à mão, cancele-o lá e depois marque esta mensagem como resolvida.",
        'Order {name} was cancelled in Shopify. Its import was handled outside the app ("{note}"), and no '
        "ERP order is linked to it, so the app cannot cancel one: if it was entered in the ERP by hand, "
        "cancel it there, then mark this message handled.",
    ),
    # its {note}: the import closed on what an earlier installation kept (ledger.handled_before)
    "handled_in_earlier_installation": (
        "resolvida fora do app numa instalação anterior do app ({at} UTC)",
        "closed as handled outside the app in an earlier installation of the app ({at} UTC)",
    ),
    # a cancellation's failure (not a note): an order of an installation whose data shop/redact erased
    # (jobs.cancellations.erased)
    "cancel_order_erased": (
        "O pedido {name} foi cancelado na Shopify. Ele foi feito antes de o app ser desinstalado desta loja "
        "({uninstalled} UTC), e os dados da loja, com o vínculo a algum pedido do ERP, foram apagados como "
        "a Shopify pede após uma desinstalação: o app pode tê-lo enviado ao ERP então (ou ele foi lançado "
        "lá à mão) e não sabe mais qual é o pedido no ERP. Procure-o no ERP pelo código do pedido no canal "
        "{order} (ou como foi lançado à mão) e cancele-o lá; depois marque esta mensagem como resolvida.",
        "Order {name} was cancelled in Shopify. It was placed before the app was uninstalled from this "
        "store ({uninstalled} UTC), and the store's data, its link to any ERP order with it, was erased as "
        "Shopify asks after an uninstall: the app may have sent it to the ERP then (or it was entered there "
        "by hand), and no longer knows its ERP order. Look it up in the ERP by its channel order id {order} "
        "(or as entered by hand) and cancel it there, then mark this message handled.",
    ),
    # a cancellation's failure: an order placed while the app was not installed (jobs.cancellations.erased)
    "cancel_order_before_app": (
        "O pedido {name} foi cancelado na Shopify. Ele foi feito quando o app não estava instalado nesta "
        "loja (antes da instalação de {installed} UTC), então o app nunca o enviou ao ERP; o conector "
        "anterior da loja pode tê-lo enviado (ou ele foi lançado lá à mão), e o ERP então o separaria e "
        "faturaria. Procure-o no ERP (por {order} ou como o conector anterior o nomeou) e cancele-o lá se "
        "estiver, depois marque esta mensagem como resolvida.",
        "Order {name} was cancelled in Shopify. It was placed while the app was not installed on this "
        "store (before its install of {installed} UTC), so the app never sent it to the ERP; the store's "
        "earlier connector may have (or it was entered there by hand), and the ERP would then pick and "
        "invoice it. Look it up in the ERP (by {order} or as the earlier connector named it) and cancel it "
        "there if it is, then mark this message handled.",
    ),
    "no_reason_recorded": ("nenhum motivo registrado", "no reason recorded"),
    "reason_on_orders_message": (
        "o motivo está na mensagem do pedido, na página Mensagens",
        "the reason is on the order's message, on the Messages page",
    ),
    "cancel_refused_by_erp": (
        "o ERP recusou o cancelamento. O pedido {name} foi cancelado na Shopify, mas o ERP recusou cancelar "
        "o pedido {nro}: {why} O pedido segue em aberto no ERP e seria separado e faturado: cancele-o no "
        "ERP, ou corrija a causa e use Tentar de novo neste cancelamento.",
        "the ERP refused to cancel. Order {name} was cancelled in Shopify, but the ERP refused to cancel ERP "
        "order {nro}: {why} The ERP order is still live and would be picked and invoiced: cancel it in the "
        "ERP, or fix the cause and Retry this cancellation.",
    ),
    "cancel_erp_order_not_found": (
        "o ERP não tem esse pedido. O pedido {name} foi cancelado na Shopify, mas o ERP respondeu que não "
        "tem o pedido {nro}: {why} Se ele foi excluído no ERP, não há nada a cancelar: marque este "
        "cancelamento como resolvido. Se o ERP deveria tê-lo, confira o endereço da conexão com o ERP em "
        "Configuração e depois use Tentar de novo neste cancelamento.",
        "the ERP has no such order. Order {name} was cancelled in Shopify, but the ERP answered it has no "
        "order {nro}: {why} If it was deleted in the ERP, there is nothing left to cancel: mark this "
        "cancellation handled. If the ERP should have it, check the ERP connection's address under Setup, "
        "then Retry this cancellation.",
    ),
    "cancel_login_refused": (
        "o ERP recusou o login do app. O pedido {name} foi cancelado na Shopify, mas o pedido {nro} do ERP "
        "não foi cancelado, pois o ERP recusou o login do app: {why} O pedido segue em aberto no ERP: "
        "corrija o usuário e a senha do ERP em Configuração (ao salvar, este cancelamento é tentado de "
        "novo), ou cancele-o no ERP.",
        "the ERP refused the app's login. Order {name} was cancelled in Shopify, but ERP order {nro} was not "
        "cancelled, as the ERP refused the app's login: {why} The ERP order is still live: fix the ERP user "
        "and password under Setup (saving them retries this cancellation), or cancel it in the ERP.",
    ),
    "cancel_fulfillments_before_refusal": (
        "o ERP cancelou o pedido {name} (evento nº {seq}) e o app cancelou o(s) processamento(s) "
        "{fulfillments} antes de a Shopify recusar o cancelamento; depois ele foi cancelado na Shopify. As "
        "mercadorias podem ter saído da loja: confira a entrega com a transportadora e recupere-as.",
        "the ERP cancelled order {name} (event #{seq}) and the app cancelled its fulfillment(s) "
        "{fulfillments} before Shopify refused to cancel it; it was cancelled in Shopify since. The goods "
        "may have left the store: check the delivery with the carrier, and get them back.",
    ),
    "other_erp_not_sent": (
        "O pedido {name} está vinculado ao pedido {nro} do ERP ao qual a loja estava conectada antes (a "
        "conexão com o ERP mudou desde então): esse número pode ser o pedido de outro cliente no ERP usado "
        "agora, então o app não enviou {what} para lá. Faça isso à mão no ERP que tem o pedido (ou "
        "resolva de outro jeito) e depois marque esta mensagem como resolvida.",
        "Order {name} is linked to ERP order {nro} of the ERP the shop was connected to before (the ERP "
        "connection moved since): that number may be another customer's order in the ERP the shop uses "
        "now, so {what} was not sent there. Apply it by hand in the ERP that holds the order (or settle it "
        "otherwise), then mark this message handled.",
    ),
    "what_cancellation": ("o cancelamento", "the cancellation"),
    "what_edit": ("esta edição", "this edit"),
    "what_address": ("este endereço de entrega", "this delivery address"),
    "what_card_data": ("os dados do pagamento com cartão", "the card payment data"),
    # cancellations (ERP -> Shopify: jobs.cancellations.to_shopify)
    "cancel_nfe_cancelled_in_erp": (
        "a NF-e {key} foi cancelada no ERP depois do faturamento (evento nº {seq}); o pedido {name} está "
        "cancelado na Shopify. {money}",
        "NF-e {key} was cancelled in the ERP after invoicing (event #{seq}); the Shopify order {name} is "
        "cancelled. {money}",
    ),
    # the same, of an order invoiced in several NF-e: {keys}, every key (a list, said with commas)
    "cancel_nfes_cancelled_in_erp": (
        "as NF-e {keys} foram canceladas no ERP depois do faturamento (evento nº {seq}); o pedido {name} "
        "está cancelado na Shopify. {money}",
        "NF-e {keys} were cancelled in the ERP after invoicing (event #{seq}); the Shopify order {name} is "
        "cancelled. {money}",
    ),
    # the ERP cancelled the order before invoicing and the payment was kept (cancel_refund off);
    # {money}: the check_kept words
    "cancel_before_invoicing_money_kept": (
        "o ERP cancelou o pedido {name} antes de faturá-lo (evento nº {seq}); o pedido está cancelado na "
        "Shopify. {money}",
        "the ERP cancelled order {name} before invoicing it (event #{seq}); the Shopify order is "
        "cancelled. {money}",
    ),
    "check_refunded": (
        "Confira se saíram mercadorias da loja e se o reembolso chegou ao cliente.",
        "Check whether goods left the store and that the refund reached the customer.",
    ),
    "check_voided": (
        "A Shopify cancelou a autorização em aberto (ela segue a configuração cancel_refund): nada foi "
        "cobrado. Confira se saíram mercadorias da loja.",
        "Shopify voided the open authorisation (it does whatever the cancel_refund setting says): nothing "
        "was charged. Check whether goods left the store.",
    ),
    "check_kept": (
        "O pagamento foi mantido, como pede a configuração cancel_refund (desligada; a Shopify mostra "
        "{status}): confira se saíram mercadorias da loja e reembolse ao cliente o que ele pagou por "
        "mercadorias com que ele não fica.",
        "The payment was kept, as the cancel_refund setting asks (off; Shopify shows {status}): check "
        "whether goods left the store, and refund the customer what they paid for goods they do not keep.",
    ),
    "check_settled": (
        "Confira se saíram mercadorias da loja e como o pagamento foi acertado (a Shopify mostra {status}).",
        "Check whether goods left the store and how the payment was settled (Shopify shows {status}).",
    ),
    "cancel_fulfilled_before_invoicing": (
        "o ERP cancelou o pedido {name} antes de faturá-lo (evento nº {seq}), mas ele estava processado na "
        "Shopify: o(s) processamento(s) {fulfillments} foram cancelados com o pedido, e o pagamento "
        "{payment} (a Shopify mostra {status}). As mercadorias podem ter saído da loja: confira a entrega "
        "com a transportadora e recupere-as ou cobre o cliente de novo.",
        "the ERP cancelled order {name} before invoicing it (event #{seq}), but it was fulfilled in "
        "Shopify: fulfillment(s) {fulfillments} were cancelled with the order, and the payment {payment} "
        "(Shopify shows {status}). The goods may have left the store: check the delivery with the carrier, "
        "and get them back or charge the customer again.",
    ),
    "payment_refunded": (
        "foi reembolsado (ou a autorização cancelada), como pede a configuração cancel_refund",
        "was refunded (or its authorisation voided), as the cancel_refund setting asks",
    ),
    "payment_voided": (
        "não foi cobrado: a Shopify cancelou a autorização em aberto (ela segue a configuração "
        "cancel_refund)",
        "was not charged: Shopify voided the open authorisation (it does whatever the cancel_refund setting "
        "says)",
    ),
    "payment_as_shown": (
        "foi acertado por quem cancelou o pedido na Shopify, não pelo app",
        "was settled by whoever cancelled the order in Shopify, not by the app",
    ),
    "payment_kept": (
        "foi mantido, como pede a configuração cancel_refund (desligada)",
        "was kept, as the cancel_refund setting asks (off)",
    ),
    # order edits (Shopify -> ERP: jobs.order_edits.to_erp)
    # a refund of money only, with nothing taken back (jobs.order_edits.goodwill)
    "edit_refund_money": (
        "O pedido {name} teve {amount} devolvidos na Shopify além de qualquer item ou frete devolvido "
        "({refunds}): o pedido {nro} do ERP continua somando {erp_total} e conta o pagamento inteiro. "
        "Registre no ERP o que foi devolvido: um desconto no pedido antes de faturá-lo, senão contra o seu "
        "contas a receber.",
        "Order {name} had {amount} given back in Shopify beyond any item or freight taken back ({refunds}): "
        "ERP order {nro} still totals {erp_total} and counts the payment in full. Record what was given "
        "back in the ERP: a discount on the order before it is invoiced, else against its receivable.",
    ),
    "refund_id": ("reembolso {ids}", "refund {ids}"),
    "refund_ids": ("reembolsos {ids}", "refunds {ids}"),
    "edit_not_applied": (
        "O pedido {name} foi {changed} na Shopify ({summary}), mas o pedido {nro} do ERP {state}, então a "
        "mudança NÃO foi aplicada no ERP. {advice}",
        "Order {name} was {changed} in Shopify ({summary}), but ERP order {nro} {state}, so the change was "
        "NOT applied in the ERP. {advice}",
    ),
    "edit_held_not_erp": (
        "O pedido {name} foi {changed} na Shopify ({summary}), mas um item dele não é um produto do ERP "
        "(criado na Shopify, ou um item avulso) e o ERP não pode vendê-lo, então a mudança NÃO foi "
        "aplicada: o pedido {nro} do ERP segue com os itens anteriores, e seria separado e faturado assim. "
        "Troque ou remova esse item com outra edição do pedido na Shopify: essa edição leva esta mudança "
        "ao ERP.",
        "Order {name} was {changed} in Shopify ({summary}), but a line of it is not an ERP product (made "
        "in Shopify, or a custom item) and the ERP cannot sell it, so the change was NOT applied: ERP "
        "order {nro} keeps its earlier lines, and would be picked and invoiced so. Replace or remove that "
        "line by another order edit in Shopify: that edit carries this change to the ERP.",
    ),
    "edit_held_not_bound": (
        "O pedido {name} foi {changed} na Shopify ({summary}), mas o produto do ERP de um item ainda não "
        "está vinculado na Shopify, então a mudança ainda NÃO foi aplicada: o pedido {nro} do ERP segue "
        "com os itens anteriores até a sincronização do catálogo vinculá-lo, e esta mudança vai então. Se "
        "o ERP não tiver esse produto ativo para o e-commerce, troque ou remova o item com outra edição do "
        "pedido na Shopify: essa edição leva esta mudança ao ERP.",
        "Order {name} was {changed} in Shopify ({summary}), but the ERP product of a line is not bound to "
        "Shopify yet, so the change was NOT applied yet: ERP order {nro} keeps its earlier lines until the "
        "catalog sync binds it, and this change goes then. If the ERP has no such product active for "
        "e-commerce, replace or remove the line by another order edit in Shopify: that edit carries this "
        "change to the ERP.",
    ),
    "edit_held_payment": (
        "O pedido {name} foi {changed} na Shopify ({summary}), mas a sua forma de pagamento {methods} não "
        "tem forma de pagamento do ERP (De:Para), então a mudança ainda NÃO foi aplicada: o pedido {nro} do "
        "ERP segue com os itens anteriores, e seria separado e faturado assim. Mapeie-a em De:Para > formas "
        "de pagamento e esta mudança vai então.",
        "Order {name} was {changed} in Shopify ({summary}), but its payment method {methods} has no ERP "
        "payment form (De:Para), so the change was NOT applied yet: ERP order {nro} keeps its earlier lines, "
        "and would be picked and invoiced so. Map it under De:Para > payment methods and this change goes "
        "then.",
    ),
    "edit_held_payments": (
        "O pedido {name} foi {changed} na Shopify ({summary}), mas as suas formas de pagamento {methods} "
        "não têm forma de pagamento do ERP (De:Para), então a mudança ainda NÃO foi aplicada: o pedido {nro} "
        "do ERP segue com os itens anteriores, e seria separado e faturado assim. Mapeie cada uma em De:Para "
        "> formas de pagamento e esta mudança vai quando todas estiverem.",
        "Order {name} was {changed} in Shopify ({summary}), but its payment methods {methods} have no ERP "
        "payment form (De:Para), so the change was NOT applied yet: ERP order {nro} keeps its earlier lines, "
        "and would be picked and invoiced so. Map each under De:Para > payment methods and this change goes "
        "once they all are.",
    ),
    "edit_held_unpaid": (
        "O pedido {name} foi editado na Shopify: a edição aumenta o total em {unpaid} (para {total}), ainda "
        "não pago na Shopify, então a mudança ainda NÃO foi aplicada: o pedido {nro} do ERP segue com os "
        "itens anteriores até o pagamento, e a mudança vai então.",
        "Order {name} was edited in Shopify: the edit raises the total by {unpaid} (to {total}), not yet "
        "paid in Shopify, so the change was NOT applied yet: ERP order {nro} keeps its earlier lines until "
        "it is paid, and the change goes then.",
    ),
    # an edit not sent: the ERP order would total other than Shopify charges (jobs.order_edits.to_erp)
    "edit_total_taxes_added": (
        "O pedido {name} foi {changed} na Shopify ({summary}), mas com os itens da Shopify o pedido {nro} do "
        "ERP totalizaria {erp_total} enquanto a Shopify cobra {charged}: a loja soma {tax} de imposto por "
        "cima dos preços (impostos incluídos: não), que nenhum item do ERP leva (o ERP calcula os impostos "
        "na NF-e), então a mudança NÃO foi aplicada: o pedido {nro} do ERP segue com os itens anteriores, e "
        "seria separado e faturado assim. Acerte a diferença à mão no pedido do ERP (e depois marque esta "
        "mudança como resolvida), ou desfaça a mudança na Shopify, se possível (um reembolso não se desfaz).",
        "Order {name} was {changed} in Shopify ({summary}), but with Shopify's lines ERP order {nro} would "
        "total {erp_total} while Shopify charges {charged}: the store adds {tax} of tax on top of the prices "
        "(taxes included: no), which no ERP line carries (the ERP computes the taxes on the NF-e), so the "
        "change was NOT applied: ERP order {nro} keeps its earlier lines, and would be picked and invoiced "
        "so. Settle the difference by hand in the ERP order (then mark this change handled), or undo the "
        "change in Shopify if it can be (a refund cannot).",
    ),
    "edit_total_differs": (
        "O pedido {name} foi {changed} na Shopify ({summary}), mas com os itens da Shopify o pedido {nro} do "
        "ERP totalizaria {erp_total} enquanto a Shopify cobra {charged} (uma taxa, um imposto de importação "
        "ou um desconto que os itens do ERP não comportam), então a mudança NÃO foi aplicada: o pedido "
        "{nro} do ERP segue com os itens anteriores, e seria separado e faturado assim. Acerte a diferença "
        "à mão no pedido do ERP (e depois marque esta mudança como resolvida), ou desfaça a mudança na "
        "Shopify, se possível (um reembolso não se desfaz).",
        "Order {name} was {changed} in Shopify ({summary}), but with Shopify's lines ERP order {nro} would "
        "total {erp_total} while Shopify charges {charged} (a fee, a duty or a discount the ERP lines cannot "
        "carry), so the change was NOT applied: ERP order {nro} keeps its earlier lines, and would be picked "
        "and invoiced so. Settle the difference by hand in the ERP order (then mark this change handled), or "
        "undo the change in Shopify if it can be (a refund cannot).",
    ),
    "changed_edited": ("editado", "edited"),
    "changed_edited_refunded": ("editado e reembolsado", "edited and refunded"),
    "changed_refunded_items": ("reembolsado (itens devolvidos)", "refunded (items taken back)"),
    "changed_refunded": ("reembolsado", "refunded"),
    "state_separating": ("já está em separação", "is already being separated (em separação)"),
    "state_invoiced": (
        "já está faturado: a NF-e dele não pode mudar",
        "is already invoiced (faturado): its NF-e cannot change",
    ),
    "state_cancelled": ("está cancelado no ERP", "is cancelled in the ERP"),
    "state_other": ("está na situação {situacao}", "is in state {situacao}"),
    "line_value": (
        "{sku}: valor {was} -> {now} (preço ou desconto mudou)",
        "{sku} value {was} -> {now} (price or discount changed)",
    ),
    "line_quantity": ("{sku}: {before} -> {after}{told}", "{sku} {before} -> {after}{told}"),
    "line_not_bound": (
        ", produto do ERP ainda não vinculado na Shopify",
        ", its ERP product not bound to Shopify yet",
    ),
    "line_not_erp": (", não é um produto do ERP", ", not an ERP product"),
    "freight_changed": ("frete {was} -> {now}", "freight {was} -> {now}"),
    "no_line_change": ("nenhum item mudou", "no line change"),
    "freight_too": (" O frete também precisa bater.", " The freight must match as well."),
    "todo_invoiced_refund": (
        "Um reembolso não se desfaz: alguém precisa emitir no ERP uma nota de devolução dos itens "
        "reembolsados e acertar a devolução com o cliente.",
        "A refund cannot be reversed: a person must issue a return invoice (nota de devolução) in the ERP "
        "for the refunded items and settle their return with the customer.",
    ),
    "todo_invoiced_refund_kept": (
        "Um reembolso não se desfaz. Os itens não voltaram ao estoque nem foram devolvidos na Shopify: se o "
        "cliente ficou com eles (estragados, avariados), nenhuma mercadoria volta e não cabe nota de "
        "devolução; alguém precisa lançar o valor reembolsado no contas a receber do pedido no ERP. Se "
        "voltaram, emita no ERP uma nota de devolução deles.",
        "A refund cannot be reversed. Its items were neither restocked nor returned in Shopify: if the "
        "customer kept them (spoiled, damaged), no goods come back and no return invoice is due; a person "
        "must record the amount refunded against the ERP order's receivable. If they did come back, issue "
        "a return invoice (nota de devolução) in the ERP for them.",
    ),
    "todo_invoiced_edit": (
        "Alguém precisa desfazer a edição na Shopify ou acertar a diferença no ERP (uma nota de devolução "
        "para itens retirados; um novo pedido para itens incluídos) e com o cliente.",
        "A person must either undo the edit in Shopify or settle the difference in the ERP (a return "
        "invoice, nota de devolução, for items taken off; a new order for items added) and with the "
        "customer.",
    ),
    "todo_picking_refund": (
        "Um reembolso não se desfaz: alguém precisa ajustar o pedido no ERP (separação) para entregar só o "
        "que ainda está pago, e os dois lados cobrarem e entregarem o mesmo.",
        "A refund cannot be reversed: a person must change the order in the ERP (picking) so it delivers "
        "only what is still paid for, so both sides charge and deliver the same.",
    ),
    "todo_picking_edit": (
        "Alguém precisa ajustar o pedido no ERP (separação) ou desfazer a edição na Shopify, para os dois "
        "lados cobrarem e entregarem o mesmo.",
        "A person must either change the order in the ERP (picking) or undo the edit in Shopify, so both "
        "sides charge and deliver the same.",
    ),
    "todo_freight_invoiced_refund": (
        "Um reembolso não se desfaz: a NF-e fica como está, então alguém precisa acertar a diferença do "
        "frete no contas a receber do ERP.",
        "A refund cannot be reversed: the NF-e stands, so a person must settle the freight difference in "
        "the ERP's receivables.",
    ),
    "todo_freight_invoiced_edit": (
        "Alguém precisa desfazer a mudança na Shopify ou acertar a diferença do frete no contas a receber "
        "do ERP e com o cliente (a NF-e fica como está).",
        "A person must either undo the change in Shopify or settle the freight difference in the ERP's "
        "receivables and with the customer (the NF-e stands).",
    ),
    "todo_freight_refund": (
        "Um reembolso não se desfaz: alguém precisa igualar o frete do pedido no ERP ao da Shopify antes do "
        "faturamento, para os dois lados cobrarem o mesmo.",
        "A refund cannot be reversed: a person must change the ERP order's freight to Shopify's before it "
        "is invoiced, so both sides charge the same.",
    ),
    "todo_freight_edit": (
        "Alguém precisa ajustar o frete do pedido no ERP ou desfazer a mudança na Shopify, para os dois "
        "lados cobrarem o mesmo.",
        "A person must either change the ERP order's freight or undo the change in Shopify, so both sides "
        "charge the same.",
    ),
    "edit_every_item_cut": (
        "O pedido {nro} do ERP foi separado com todos os itens cortados (nada foi separado), e o pedido "
        "{name} foi ajustado na Shopify para bater: não sobrou nada a entregar. Cancele o pedido na "
        "Shopify, reembolsando o que o cliente pagou (o pedido do ERP é cancelado junto){nfe}.",
        "ERP order {nro} was picked with every item cut (nothing was separated), and order {name} was "
        "changed in Shopify to match: nothing is left to deliver. Cancel the order in Shopify, refunding "
        "what the customer paid (the ERP order is cancelled with it){nfe}.",
    ),
    "and_cancel_nfe": (
        " e, no ERP, cancele a NF-e dele (dentro do prazo legal)",
        " and, in the ERP, cancel its NF-e (within the legal deadline)",
    ),
    "edit_refund_refused": (
        "O ERP recusou alterar o pedido {nro} pelo reembolso do pedido {name}: {why} A mudança NÃO foi "
        "aplicada no ERP; corrija a causa e use Tentar de novo, ou altere o pedido no ERP à mão (um "
        "reembolso não se desfaz).",
        "The ERP refused to change ERP order {nro} for the refund of order {name}: {why} The change was NOT "
        "applied in the ERP; fix the cause and Retry, or change the ERP order by hand (a refund cannot be "
        "reversed).",
    ),
    "edit_refund_login_refused": (
        "O ERP recusou o login do app, então a mudança pelo reembolso do pedido {name} NÃO foi aplicada no "
        "pedido {nro} do ERP: {why} Corrija o usuário e a senha do ERP em Configuração (ao salvar, esta "
        "mudança é tentada de novo), ou altere o pedido no ERP à mão (um reembolso não se desfaz).",
        "The ERP refused the app's login, so the change for the refund of order {name} was NOT applied in "
        "ERP order {nro}: {why} Fix the ERP user and password under Setup (saving them retries this change), "
        "or change the ERP order by hand (a refund cannot be reversed).",
    ),
    "edit_login_refused": (
        "O ERP recusou o login do app, então a edição do pedido {name} NÃO foi aplicada no pedido {nro} do "
        "ERP: {why} Corrija o usuário e a senha do ERP em Configuração (ao salvar, esta edição é tentada de "
        "novo), ou desfaça a edição na Shopify.",
        "The ERP refused the app's login, so the edit of order {name} was NOT applied in ERP order {nro}: "
        "{why} Fix the ERP user and password under Setup (saving them retries this edit), or undo the edit "
        "in Shopify.",
    ),
    "edit_refund_erp_order_not_found": (
        "O ERP respondeu que não tem o pedido {nro}, então a mudança pelo reembolso do pedido {name} NÃO foi "
        "aplicada no ERP: {why} Se ele foi excluído no ERP, não há nada a alterar: marque esta mudança como "
        "resolvida. Se o ERP deveria tê-lo, confira o endereço da conexão com o ERP em Configuração e depois "
        "use Tentar de novo nesta mudança.",
        "The ERP answered it has no order {nro}, so the change for the refund of order {name} was NOT "
        "applied in the ERP: {why} If it was deleted in the ERP, there is nothing left to change: mark this "
        "change handled. If the ERP should have it, check the ERP connection's address under Setup, then "
        "Retry this change.",
    ),
    "edit_erp_order_not_found": (
        "O ERP respondeu que não tem o pedido {nro}, então a edição do pedido {name} NÃO foi aplicada no "
        "ERP: {why} Se ele foi excluído no ERP, não há nada a alterar: marque esta edição como resolvida. Se "
        "o ERP deveria tê-lo, confira o endereço da conexão com o ERP em Configuração e depois use Tentar de "
        "novo nesta edição.",
        "The ERP answered it has no order {nro}, so the edit of order {name} was NOT applied in the ERP: "
        "{why} If it was deleted in the ERP, there is nothing left to change: mark this edit handled. If the "
        "ERP should have it, check the ERP connection's address under Setup, then Retry this edit.",
    ),
    "edit_refused": (
        "O ERP recusou a edição do pedido {name} (pedido {nro} do ERP): {why} A edição NÃO foi aplicada no "
        "ERP; corrija a causa e use Tentar de novo, ou desfaça a edição na Shopify.",
        "The ERP refused the edit of order {name} (ERP order {nro}): {why} The edit was NOT applied in the "
        "ERP; fix the cause and Retry, or undo the edit in Shopify.",
    ),
    "refund_all_invoiced": (
        "O pedido {name} teve todos os itens reembolsados na Shopify, mas o pedido {nro} do ERP já está "
        "faturado: a NF-e não pode mudar, então nada foi alterado no ERP. Um reembolso não se desfaz: "
        "alguém precisa emitir no ERP uma nota de devolução dos itens e acertar a devolução com o cliente.",
        "Order {name} had every item refunded in Shopify, but ERP order {nro} is already invoiced "
        "(faturado): its NF-e cannot change, so nothing was changed in the ERP. A refund cannot be "
        "reversed: a person must issue a return invoice (nota de devolução) in the ERP for its items and "
        "settle their return with the customer.",
    ),
    "refund_all_invoiced_kept": (
        "O pedido {name} teve todos os itens reembolsados na Shopify, mas o pedido {nro} do ERP já está "
        "faturado: a NF-e não pode mudar, então nada foi alterado no ERP. Um reembolso não se desfaz. Os "
        "itens não voltaram ao estoque nem foram devolvidos na Shopify: se o cliente ficou com eles "
        "(estragados, avariados), nenhuma mercadoria volta e não cabe nota de devolução; alguém precisa "
        "lançar o valor reembolsado no contas a receber do pedido no ERP. Se voltaram, emita no ERP uma "
        "nota de devolução deles.",
        "Order {name} had every item refunded in Shopify, but ERP order {nro} is already invoiced "
        "(faturado): its NF-e cannot change, so nothing was changed in the ERP. A refund cannot be "
        "reversed. Its items were neither restocked nor returned in Shopify: if the customer kept them "
        "(spoiled, damaged), no goods come back and no return invoice is due; a person must record the "
        "amount refunded against the ERP order's receivable. If they did come back, issue a return invoice "
        "(nota de devolução) in the ERP for them.",
    ),
    "refund_all_open": (
        "O pedido {name} teve todos os itens reembolsados na Shopify, mas o pedido {nro} do ERP ainda tem "
        "os itens, então nada foi alterado no ERP. Um reembolso não se desfaz: cancele o pedido na Shopify "
        "(o pedido do ERP é cancelado junto) para o ERP não separar nem faturar o que foi reembolsado.",
        "Order {name} had every item refunded in Shopify, but ERP order {nro} still has its items, so "
        "nothing was changed in the ERP. A refund cannot be reversed: cancel the order in Shopify (the ERP "
        "order is cancelled with it) so the ERP does not pick and invoice what was refunded.",
    ),
    "edit_no_item_invoiced": (
        "O pedido {name} foi editado na Shopify e ficou sem itens, mas o pedido {nro} do ERP já está "
        "faturado, então nada foi alterado no ERP. Se a venda não vai mais acontecer, cancele o pedido na "
        "Shopify e, no ERP, cancele a NF-e (dentro do prazo legal) ou emita uma nota de devolução; se vai, "
        "desfaça a edição.",
        "Order {name} was edited in Shopify to leave no item, but ERP order {nro} is already invoiced "
        "(faturado), so nothing was changed in the ERP. If the sale is off, cancel the order in Shopify "
        "and, in the ERP, cancel its NF-e (within the legal deadline) or issue a return invoice (nota de "
        "devolução); otherwise undo the edit.",
    ),
    "edit_no_item_open": (
        "O pedido {name} foi editado na Shopify e ficou sem itens, mas o pedido {nro} do ERP ainda tem os "
        "itens, então nada foi alterado no ERP. Se a venda não vai mais acontecer, cancele o pedido na "
        "Shopify (o pedido do ERP é cancelado junto); se vai, desfaça a edição.",
        "Order {name} was edited in Shopify to leave no item, but ERP order {nro} still has its items, so "
        "nothing was changed in the ERP. If the sale is off, cancel the order in Shopify (the ERP order is "
        "cancelled with it); otherwise undo the edit.",
    ),
    # the ERP's picking on lines fulfilled in Shopify (jobs.order_edits.fulfilled)
    "fulfilled_more_served": (
        "SKU {sku} (linha {item} do ERP): {fulfilled} já processado(s) na Shopify, os {target} separados "
        "pelo ERP não foram aplicados (um item processado não pode ser editado): cobre à mão na Shopify "
        "mais {more}",
        "SKU {sku} (ERP line {item}): {fulfilled} fulfilled in Shopify, the ERP's {target} served not "
        "applied (a fulfilled line cannot be edited): {more} more to charge in Shopify by hand",
    ),
    "fulfilled_cut": (
        "SKU {sku} (linha {item} do ERP): {fulfilled} já processado(s) na Shopify, o corte do ERP para "
        "{target} {done}: reembolse {refund} na Shopify",
        "SKU {sku} (ERP line {item}): {fulfilled} fulfilled in Shopify, the ERP's cut to {target} {done}: "
        "refund {refund} in Shopify",
    ),
    "cut_not_applied": ("não foi aplicado", "not applied"),
    "cut_applied_down_to": ("foi aplicado só até {sent}", "applied down to {sent} only"),
    # the ERP's cut of a line a person lowered in Shopify before it got there (jobs.order_edits.lowered)
    "lowered_substitute": (
        "SKU {sku} (linha {item} do ERP): {current} na Shopify, reduzido por uma pessoa depois: as {target} "
        "unidades que a separação do ERP põe nele com um substituto não são aplicadas (uma separação nunca "
        "devolve unidades que uma pessoa tirou); o ERP separa e fatura {target}: altere a separação no ERP "
        "ou ajuste para {target} na Shopify",
        "SKU {sku} (ERP line {item}): {current} in Shopify, lowered by a person since: the {target} the "
        "ERP's picking puts on it with a substitute are not set (a picking never puts back units a person "
        "took off); the ERP serves and invoices {target}: change its picking, or set {target} in Shopify",
    ),
    "lowered_cut": (
        "SKU {sku} (linha {item} do ERP): {current} na Shopify, abaixo do corte do ERP para {target}: não "
        "aplicado (um corte nunca devolve unidades); o ERP separa e fatura {target}: altere a separação no "
        "ERP para {current} ou ajuste para {target} na Shopify",
        "SKU {sku} (ERP line {item}): {current} in Shopify, below the ERP's cut to {target}: not applied (a "
        "cut never puts units back); the ERP serves and invoices {target}: change its picking to {current}, "
        "or set {target} in Shopify",
    ),
    # the ERP's picking again of a line a person lowered since the earlier one (jobs.order_edits.lowered)
    "lowered_picked_again": (
        "SKU {sku} (linha {item} do ERP): {current} na Shopify, abaixo dos {target} que o ERP separou de "
        "novo: mantido (uma separação nunca devolve unidades que uma pessoa tirou), o desconto "
        "'{description}' da separação anterior foi retirado, a Shopify cobra os {current} por inteiro; o "
        "ERP separa e fatura "
        "{target}: altere a separação no ERP para {current} ou ajuste para {target} na Shopify",
        "SKU {sku} (ERP line {item}): {current} in Shopify, below the {target} the ERP picked again: kept (a "
        "picking never puts back units a person took off), the earlier picking's discount '{description}' "
        "taken off, so Shopify charges the {current} in full; the ERP serves and invoices {target}: change "
        "its picking to {current}, or set {target} in Shopify",
    ),
    # a line the ERP picks again to more than the app's own cut left it with (jobs.order_edits.lowered):
    # a person lowered it since, or that cut emptied it
    "lowered_picked_again_kept": (
        "SKU {sku} (linha {item} do ERP): {current} na Shopify, abaixo dos {target} que o ERP separou de "
        "novo: mantido (uma separação nunca devolve unidades que uma pessoa tirou); o ERP separa e fatura "
        "{target}: altere a separação no ERP para {current} ou ajuste para {target} na Shopify",
        "SKU {sku} (ERP line {item}): {current} in Shopify, below the {target} the ERP picked again: kept (a "
        "picking never puts back units a person took off); the ERP serves and invoices {target}: change its "
        "picking to {current}, or set {target} in Shopify",
    ),
    "lowered_picked_again_emptied": (
        "SKU {sku} (linha {item} do ERP): {current} na Shopify, abaixo dos {target} que o ERP separou de "
        "novo: o item foi zerado pelo corte de uma separação anterior e não é ajustado de novo; o ERP separa "
        "e fatura {target}: altere a separação no ERP para {current} ou adicione {target} na Shopify",
        "SKU {sku} (ERP line {item}): {current} in Shopify, below the {target} the ERP picked again: its "
        "line was emptied by an earlier picking's cut and is not set again; the ERP serves and invoices "
        "{target}: change its picking to {current}, or add {target} in Shopify",
    ),
    # delivery address (jobs.order_edits.address); {delivery} is the new delivery's own text
    # a delivery Shopify shows as a pickup now, its ERP order still delivering (jobs.order_edits.address)
    "address_now_pickup_erp_delivers": (
        "o pedido {name} da Shopify agora é uma retirada na loja, mas o pedido {nro} no ERP ainda é uma "
        "entrega (tipoEntrega E, a observação com o endereço): mude-o para retirada no ERP e avise o "
        "motorista, depois use “Marcar como resolvida”; ou volte a entrega na Shopify (esta observação "
        "se encerra)",
        "Shopify order {name} is a pickup at the store now, but ERP order {nro} still delivers it "
        "(tipoEntrega E, its observation the delivery address): make it a pickup in the ERP and tell the "
        "driver, then Mark as handled; or make it a delivery again in Shopify (this clears)",
    ),
    "address_not_sent": (
        "O endereço ou horário de entrega do pedido {name} foi alterado na Shopify, mas o pedido {nro} do "
        "ERP {state}, então ele NÃO foi alterado no ERP: a observação ainda traz o endereço ou horário "
        "antigo, e o pedido seria entregue como ela diz. {advice} Novo texto de entrega: {delivery}",
        "The delivery address or time of order {name} was changed in Shopify, but ERP order {nro} {state}, "
        "so it was NOT changed in the ERP: its observation still names the old delivery address or time, "
        "and the order would be delivered as it says. {advice} New delivery text: {delivery}",
    ),
    "address_state_separating": ("já está em separação", "is already being separated (em separação)"),
    "address_state_invoiced": ("já está faturado", "is already invoiced (faturado)"),
    "address_todo_invoiced": (
        "A NF-e fica como está: alguém precisa garantir que as mercadorias sejam entregues como diz o novo "
        "texto de entrega (avise a transportadora ou o entregador) e depois marcar como resolvida; ou volte "
        "o endereço ou horário na Shopify (isso limpa o aviso).",
        "Its NF-e stands: a person must make sure the goods are delivered as the new delivery text says "
        "(tell the carrier or driver), then Mark as handled; or change the address or time back in Shopify "
        "(this clears).",
    ),
    "address_todo_picking": (
        "Alguém precisa avisar a equipe de separação e entrega do novo endereço ou horário e depois marcar "
        "como resolvida; ou copiar o novo texto de entrega abaixo, exatamente como está, na observação do "
        "pedido no ERP e usar Tentar de novo (o aviso some quando a observação trouxer esse texto); ou "
        "voltar o endereço ou horário na Shopify (isso limpa o aviso).",
        "A person must tell the picking and delivery team the new address or time, then Mark as handled; or "
        "copy the new delivery text below, as it is, into the ERP order's observation, then Retry (it clears "
        "once the observation carries that text); or change the address or time back in Shopify (this "
        "clears).",
    ),
    "address_login_refused": (
        "O ERP recusou o login do app, então o endereço ou horário de entrega do pedido {name} NÃO foi "
        "alterado no pedido {nro} do ERP: {why} Corrija o usuário e a senha do ERP em Configuração (ao "
        "salvar, esta mudança é tentada de novo), ou avise a equipe de separação e entrega do novo endereço "
        "ou horário e depois marque como resolvida.",
        "The ERP refused the app's login, so the delivery address or time of order {name} was NOT changed in "
        "ERP order {nro}: {why} Fix the ERP user and password under Setup (saving them retries this change), "
        "or tell the picking and delivery team the new address or time, then Mark as handled.",
    ),
    "address_erp_order_not_found": (
        "O ERP respondeu que não tem o pedido {nro}, então o endereço ou horário de entrega do pedido {name} "
        "NÃO foi alterado no ERP: {why} Se ele foi excluído no ERP, não há nada a alterar: marque esta "
        "mudança como resolvida. Se o ERP deveria tê-lo, confira o endereço da conexão com o ERP em "
        "Configuração e depois use Tentar de novo nesta mudança.",
        "The ERP answered it has no order {nro}, so the delivery address or time of order {name} was NOT "
        "changed in the ERP: {why} If it was deleted in the ERP, there is nothing left to change: mark this "
        "change handled. If the ERP should have it, check the ERP connection's address under Setup, then "
        "Retry this change.",
    ),
    "address_back_after_handled": (
        "O endereço ou horário de entrega do pedido {name} voltou na Shopify para o que o pedido {nro} do "
        "ERP tem, depois que a mudança para outro foi marcada como resolvida: a equipe de separação e "
        "entrega pode ter sido avisada daquele outro. Alguém precisa avisá-la de que o pedido é entregue "
        "como o pedido no ERP diz e depois marcar como resolvida. Novo texto de entrega: {delivery}",
        "The delivery address or time of order {name} was changed back in Shopify to the one ERP order "
        "{nro} holds, after the change to another was marked as handled: the picking and delivery team may "
        "have been told that other one. A person must tell them the order is delivered as the ERP order "
        "names, then Mark as handled. New delivery text: {delivery}",
    ),
    # an order in the ERP that Shopify now says will not be paid (jobs.order_payment_lost); {why} one
    # of the payment_lost_* fragments
    "payment_lost_in_erp": (
        "O pedido {name} não será pago como está: {why}. O pedido {nro} do ERP continua em aberto, então o "
        "ERP o separaria, faturaria e entregaria sem pagamento: cancele-o no ERP (ou cancele o pedido na "
        "Shopify), ou cobre o pagamento de outra forma; um novo pagamento ou autorização na Shopify limpa "
        "este aviso.",
        "Order {name} will not be paid as it stands: {why}. ERP order {nro} is still open, so the ERP would "
        "separate, invoice and deliver it unpaid: cancel it in the ERP (or cancel the order in Shopify), or "
        "collect the payment another way; a new payment or authorisation in Shopify clears this.",
    ),
    "payment_lost_voided": (
        "a autorização do cartão foi anulada na Shopify",
        "its card authorisation was voided in Shopify",
    ),
    "payment_lost_expired": (
        "a autorização do cartão venceu sem ser capturada",
        "its card authorisation expired uncaptured",
    ),
    "payment_lost_refunded": (
        "tudo o que foi pago por ele foi reembolsado na Shopify",
        "everything paid for it was refunded in Shopify",
    ),
    "payment_lost_status": ("a Shopify diz {status}", "Shopify says {status}"),
    "payment_lost_partly": (
        "{amount} do total não está pago nem coberto por uma autorização de cartão em aberto na Shopify (uma "
        "foi anulada ou venceu; a Shopify diz {status})",
        "{amount} of its total is neither paid nor covered by an open card authorisation in Shopify (one "
        "was voided or lapsed; Shopify says {status})",
    ),
    # an order in the ERP that Shopify (or a fraud app) now recommends holding (jobs.order_risk_late)
    "risk_cancel_after_erp": (
        "A Shopify agora recomenda cancelar o pedido {name} (avaliado por {providers}), depois que ele foi "
        "ao ERP: o pedido {nro} do ERP continua em aberto, então o ERP o separaria e entregaria. Confira-o "
        "antes da separação: se for fraude, cancele-o na Shopify (o pedido do ERP é cancelado junto) ou no "
        "ERP; se for legítimo, marque como resolvida.",
        "Shopify now recommends cancelling order {name} (assessed by {providers}), after it went to the "
        "ERP: ERP order {nro} is still open, so the ERP would pick and deliver it. Check it before it is "
        "picked: if it is fraud, cancel it in Shopify (the ERP order is cancelled with it) or in the ERP; "
        "if it is genuine, mark this handled.",
    ),
    "risk_investigate_after_erp": (
        "A Shopify agora recomenda investigar o pedido {name} (avaliado por {providers}), depois que ele "
        "foi ao ERP: o pedido {nro} do ERP continua em aberto, então o ERP o separaria e entregaria. "
        "Confira-o antes da separação: se for fraude, cancele-o na Shopify (o pedido do ERP é cancelado "
        "junto) ou no ERP; se for legítimo, marque como resolvida.",
        "Shopify now recommends investigating order {name} (assessed by {providers}), after it went to "
        "the ERP: ERP order {nro} is still open, so the ERP would pick and deliver it. Check it before it "
        "is picked: if it is fraud, cancel it in Shopify (the ERP order is cancelled with it) or in the "
        "ERP; if it is genuine, mark this handled.",
    ),
    # Shopify refused what a flow asked (a userError: shopify_app.admin_api.errors.ShopifyUserErrors);
    # {message} is Shopify's own words as they came, {what} the operation (its English: its name)
    "shopify_refused": ("A Shopify recusou {what}: {message}", "{what} rejected: {message}"),
    # ... a request refused as a whole (GraphQL errors: access denied, a query too costly; an HTTP 4xx)
    "shopify_refused_request": ("A Shopify recusou {what}: {message}", "{what}: {message}"),
    "shopify_answered_http": (
        "A Shopify respondeu HTTP {status}: {body}",
        "Shopify answered HTTP {status}: {body}",
    ),
    # Shopify could not serve a request just now (shopify_app.admin_api.errors.ShopifyTransient and its
    # kinds): retried by the app, said wherever the failure shows (a reconciliation's section too)
    "shopify_unavailable": (
        "A Shopify não concluiu agora o que o app pediu; o app tenta de novo mais tarde",
        "Shopify did not complete what the app asked just now; the app tries again later",
    ),
    "shopify_unreachable": (
        "A Shopify não respondeu ({error}), nem depois das novas tentativas: ela está fora do ar ou "
        "inacessível daqui; o app tenta de novo mais tarde",
        "Shopify did not answer ({error}), not even after retries: it is down or unreachable from here; "
        "the app tries again later",
    ),
    "shopify_answer_lost": (
        "A resposta da Shopify se perdeu antes de ser lida; o app tenta de novo mais tarde",
        "Shopify's answer was lost before it was read; the app tries again later",
    ),
    "shopify_server_error": (
        "A Shopify falhou do lado dela, nem depois das novas tentativas; o app tenta de novo mais tarde",
        "Shopify failed on its side, even after retries; the app tries again later",
    ),
    "shopify_throttled": (
        "A Shopify pediu ao app que fosse mais devagar (o limite de requisições da loja se esgotou); o app "
        "tenta de novo mais tarde",
        "Shopify asked the app to slow down (the shop's request limit ran out); the app tries again later",
    ),
    "shopify_request_in_progress": (
        "A Shopify ainda está processando a mesma requisição enviada antes; nada foi recusado, e o app "
        "tenta de novo mais tarde",
        "Shopify is still processing the same request sent earlier; nothing was refused, and the app tries "
        "again later",
    ),
    "shopify_request_failing": (
        "A Shopify segue falhando a requisição do lado dela; nada foi recusado, e o app tenta de novo "
        "mais tarde",
        "Shopify keeps failing the request on its side; nothing was refused, and the app tries again later",
    ),
    "shopify_shop_frozen": (
        "A loja está congelada na Shopify (fatura em aberto): a Shopify recusa toda requisição do app até "
        "que a fatura seja paga no admin da Shopify; o app tenta de novo mais tarde",
        "The shop is frozen in Shopify (an unpaid bill): Shopify refuses every request of the app until the "
        "bill is paid in the Shopify admin; the app tries again later",
    ),
    "shopify_shop_locked": (
        "A loja está bloqueada na Shopify: a Shopify recusa toda requisição do app até que o bloqueio seja "
        "retirado (fale com o suporte da Shopify); o app tenta de novo mais tarde",
        "The shop is locked in Shopify: Shopify refuses every request of the app until the lock is lifted "
        "(ask Shopify's support); the app tries again later",
    ),
    "shopify_shop_inactive": (
        "A loja não está ativa na Shopify: a Shopify recusa toda requisição do app até que ela volte a ficar "
        "ativa; o app tenta de novo mais tarde",
        "The shop is not active in Shopify: Shopify refuses every request of the app until it is active "
        "again; the app tries again later",
    ),
    "shopify_bulk_running": (
        "Uma operação em massa ainda está em andamento na Shopify; o app confere de novo mais tarde",
        "A bulk operation is still running in Shopify; the app checks again later",
    ),
    "refused_operation": ("a operação {operation}", "{operation}"),
    "refused_capture": ("a captura", "OrderCapture"),
    "refused_void": ("a liberação da autorização do cartão", "TransactionVoid"),
    "refused_fulfillment": ("o processamento", "FulfillmentCreate"),
    "refused_fulfillment_cancel": ("o cancelamento do processamento", "FulfillmentCancel"),
    "refused_fulfillment_order_open": ("a abertura do pedido de processamento", "FulfillmentOrderOpen"),
    "refused_ready_for_pickup": ("a marcação como pronto para retirada", "FulfillmentOrderPreparedForPickup"),
    "refused_tracking": ("o rastreio do processamento", "FulfillmentTrackingInfoUpdate"),
    "refused_order_cancel": ("o cancelamento do pedido", "OrderCancel"),
    "refused_edit_begin": ("o início da edição do pedido", "OrderEditBegin"),
    "refused_edit_add_variant": ("a inclusão de um item na edição do pedido", "OrderEditAddVariant"),
    "refused_edit_set_quantity": ("a mudança de quantidade na edição do pedido", "OrderEditSetQuantity"),
    "refused_edit_discount": ("o desconto de item na edição do pedido", "OrderEditAddLineItemDiscount"),
    "refused_edit_commit": ("a conclusão da edição do pedido", "OrderEditCommit"),
    "refused_metafields_set": ("a gravação dos metacampos", "MetafieldsSet"),
    "refused_metafields_delete": ("a remoção dos metacampos", "MetafieldsDelete"),
    "refused_tags_add": ("a inclusão das tags", "TagsAdd"),
    # an ERP event that failed (jobs.order_events: the refusal that failed it, in its note)
    "event_order_gone": ("O pedido {order} não existe na Shopify", "Shopify order {order} does not exist"),
    # ...an order the app may no longer read (jobs.old_orders): older than 60 days, no read_all_orders
    "event_order_too_old": (
        "A Shopify não deixa mais o app ler o pedido {order}: ele tem mais de 60 dias e o app não tem o "
        "acesso read_all_orders (a Shopify o concede a pedido). {todo} à mão no admin da Shopify e marque "
        "esta mensagem como resolvida; ou peça à Shopify o acesso read_all_orders e clique em Tentar de "
        "novo quando ele for concedido",
        "Shopify no longer lets the app read order {order}: it is older than 60 days and the app lacks the "
        "read_all_orders access (Shopify grants it on request). {todo} by hand in the Shopify admin and "
        "mark this message as handled; or ask Shopify for read_all_orders and click Retry once it is "
        "granted",
    ),
    "too_old_todo_invoice": (
        "Aplique a NF-e {key} ao pedido (processe os itens, capture o pagamento)",
        "Apply NF-e {key} to the order (fulfil its items, capture its payment)",
    ),
    "too_old_todo_cancel": (
        "Cancele o pedido (motivo no ERP: {reason})",
        "Cancel the order (the ERP's reason: {reason})",
    ),
    "too_old_todo_cancel_plain": ("Cancele o pedido", "Cancel the order"),
    "too_old_todo_picking": (
        "Aplique ao pedido as mudanças da separação do evento nº {seq} do ERP (itens cortados, trocados ou "
        "pesados)",
        "Apply the ERP's picking changes of event #{seq} to the order (items cut, replaced or weighed)",
    ),
    "event_held_behind": (
        "retido: o evento nº {seq} ({flow}) do pedido {nro} do ERP está {status} ({why}); corrija-o e "
        "reaplique-o, depois reaplique este evento",
        "held: event #{seq} ({flow}) of ERP order {nro} is {status} ({why}); fix and replay it, then "
        "replay this event",
    ),
    "event_held_behind_too_old": (
        "retido: o evento nº {seq} ({flow}) do pedido {nro} do ERP falhou: a Shopify não deixa mais o app "
        "ler este pedido (mais de 60 dias, sem o acesso read_all_orders); quando o evento nº {seq} for "
        "aplicado à mão no admin da Shopify e marcado como resolvido, este evento segue sozinho",
        "held: event #{seq} ({flow}) of ERP order {nro} failed: Shopify no longer lets the app read this "
        "order (older than 60 days, no read_all_orders access); once event #{seq} is applied by hand in the "
        "Shopify admin and marked as handled, this event resumes by itself",
    ),
    # held behind an earlier event of its order whose ERP row cannot be read (jobs.order_event_records)
    "event_held_behind_unreadable": (
        "retido: o evento nº {seq} ({flow}) do pedido {nro} do ERP não pôde ser lido do ERP; assim que "
        "puder ser lido ele é aplicado e este evento segue sozinho",
        "held: event #{seq} ({flow}) of ERP order {nro} could not be read from the ERP; once it can be "
        "read it is applied and this event resumes by itself",
    ),
    # an event of a second ERP order naming a linked Shopify order (jobs.order_events.other_order)
    "event_duplicate_erp_order": (
        "o evento nº {seq} é do pedido {nro} do ERP, que indica o pedido {order} da Shopify como seu id no "
        "canal, mas esse pedido da Shopify é o pedido {linked} do ERP: o ERP tem dois pedidos para ele (um "
        "duplicado); nada foi aplicado ao pedido da Shopify. Confira os dois pedidos no ERP (resolva o "
        "duplicado lá) e marque esta mensagem como resolvida",
        "event #{seq} is of ERP order {nro}, which names Shopify order {order} as its channel id, but that "
        "Shopify order is ERP order {linked}: the ERP holds two orders for it (a duplicate); nothing was "
        "applied to the Shopify order. Check both orders in the ERP (settle the duplicate there), then mark "
        "this message as handled",
    ),
    "status_failed": ("com falha", "failed"),
    "status_parked": ("aguardando um vínculo", "parked"),
    "invoice_held_behind": (
        "retido: o evento nº {seq} da NF-e {key} (pedido {nro} do ERP) está {status}{why}; um evento "
        "posterior da mesma NF-e não a captura nem a processa sozinho. {way_out}",
        "held: event #{seq} of NF-e {key} (ERP order {nro}) is {status}{why}; a later event of the same "
        "NF-e does not capture or fulfil it on its own. {way_out}",
    ),
    "held_why": (" ({why})", " ({why})"),
    "held_way_out_money": (
        "Use Tentar de novo no evento nº {seq} (ele cobra a NF-e) ou, se você acertar o dinheiro dele fora "
        "do app, feche o evento nº {seq} com “Marcar como resolvida” e uma observação dizendo como foi pago; "
        "depois use Tentar de novo neste evento: após “Marcar como resolvida” ele grava a NF-e, processa "
        "e envia o rastreio, e não captura nada",
        "Either Retry event #{seq} (it charges the NF-e), or, if you settle its money outside the app, "
        "close event #{seq} with “Mark as handled” and a note saying how it was paid; then Retry this "
        "event: after “Mark as handled” it writes the NF-e, fulfils and sends the tracking, and captures "
        "nothing",
    ),
    "held_way_out_other": (
        "Corrija o evento nº {seq} e use Tentar de novo nele, depois neste evento. A falha dele não é "
        "sobre o dinheiro: se você a corrigir à mão na Shopify e fechar o evento nº {seq} com “Marcar como "
        "resolvida”, Tentar de novo neste evento ainda captura a NF-e",
        "Fix and Retry event #{seq}, then Retry this event. Its failure is not about the money: if you "
        "fix it by hand in Shopify and close event #{seq} with “Mark as handled”, this event's Retry "
        "still captures the NF-e",
    ),
    "invoice_no_document": (
        "O evento {seq} do ERP (faturado) não traz documento fiscal, e o pedido {nro} do ERP não lista "
        "nenhum válido",
        "ERP event {seq} (invoiced) carries no fiscal document, and ERP order {nro} lists none valid",
    ),
    "invoice_nfe_status_unknown": (
        "O evento {seq} do ERP traz a NF-e {key} (número {number}) com a situação '{status}', nem válida nem "
        "cancelada: nada dela é gravado, cobrado ou processado. Se o ERP grava assim uma NF-e autorizada, "
        "informe esse código em CONSINCO_FIELD_MAP (formats.nfe_valid) e tente esta mensagem de novo",
        "ERP event {seq} names NF-e {key} (number {number}) with status '{status}', neither valid nor "
        "cancelled: nothing of it is written, charged or fulfilled. If the ERP writes an authorised NF-e so, "
        "name that code in CONSINCO_FIELD_MAP (formats.nfe_valid), then retry this message",
    ),
    "invoice_order_cancelled": (
        "O pedido {name} está cancelado na Shopify, mas o ERP o faturou (NF-e {key})",
        "Shopify order {name} is cancelled but the ERP invoiced it (NF-e {key})",
    ),
    "nfe_key_refused": (
        "Chave da NF-e recusada: {value} viola a regra: {rule}",
        "NF-e key refused: {value} breaks the rule: {rule}",
    ),
    "nfe_rule_length": (
        "deve ter {length} caracteres, tem {has}",
        "must have {length} characters, has {has}",
    ),
    "nfe_rule_layout": (
        "formato: só dígitos, exceto os 12 primeiros do CNPJ do emitente (posições 7-18, [0-9A-Z])",
        "layout: digits everywhere except the issuer CNPJ's first 12 (positions 7-18, [0-9A-Z])",
    ),
    "nfe_rule_uf": ("cUF {uf} não é um código de UF do IBGE", "cUF {uf} is not an IBGE state code"),
    "nfe_rule_month": (
        "AAMM {aamm}: mês {month} fora do intervalo",
        "AAMM {aamm}: month {month} out of range",
    ),
    "nfe_rule_month_ahead": (
        "AAMM {aamm} é posterior ao mês atual ({latest})",
        "AAMM {aamm} is later than the current month ({latest})",
    ),
    "nfe_rule_model": (
        "modelo {model} não é {allowed} (55 NF-e, 65 NFC-e)",
        "model {model} is not {allowed} (55 NF-e, 65 NFC-e)",
    ),
    "nfe_rule_check_digit": (
        "dígito verificador {digit} está errado: o módulo 11 dá {expected}",
        "check digit {digit} is wrong: modulo 11 gives {expected}",
    ),
    "nfe_rule_issuer": (
        "o emitente {issuer} não é um CNPJ nem um CPF: seus dígitos verificadores não conferem",
        "issuer {issuer} is neither a CNPJ nor a CPF: its check digits do not match",
    ),
    "nfe_key_mismatch": (
        "A chave da NF-e {key} não é a chave do documento que o ERP descreve (número {number}, série "
        "{series}, modelo {model}, emitido em {issued}): {part} da chave ({in_key}) difere {theirs}: "
        "{in_document}. Corrija a chave (ou o documento) no ERP e use Tentar de novo (o documento do "
        "pedido no ERP é lido de novo); nada foi escrito no pedido",
        "NF-e key {key} is not the key of the document the ERP describes (number {number}, series {series}, "
        "model {model}, issued {issued}): the key's {part} {in_key} disagrees with {theirs} {in_document}. "
        "Correct the key (or the document) in the ERP, then Retry (the ERP order's document is read "
        "again); nothing was written on the order",
    ),
    "nfe_key_another_company": (
        "A chave da NF-e {key} (número {number}, série {series}, modelo {model}, emitido em {issued}) é "
        "de uma NF-e de outra empresa, não da empresa do pedido no ERP: a raiz do CNPJ do emitente da "
        "chave ({in_key}) não é a da empresa do pedido no ERP: {in_document}. Dê ao pedido no ERP o "
        "documento da própria empresa (ou corrija a chave, se foi digitada errada) e use Tentar de novo "
        "(o documento do pedido no ERP é lido de novo); nada foi escrito no pedido",
        "NF-e key {key} (number {number}, series {series}, model {model}, issued {issued}) is another "
        "company's NF-e, not an NF-e of the order's ERP company: the key's issuer CNPJ root {in_key} is not "
        "the order's ERP company's {in_document}. Give the ERP order its own company's document (or "
        "correct the key, if it was typed wrong), then Retry (the ERP order's document is read again); "
        "nothing was written on the order",
    ),
    "nfe_key_another_state": (
        "A chave da NF-e {key} (número {number}, série {series}, modelo {model}, emitido em {issued}) não "
        "nomeia uma NF-e autorizada: o cUF da chave ({in_key}) não é a UF da empresa emitente (a empresa "
        "do ERP com o CNPJ da chave é de {in_document}), e uma NF-e é autorizada pela UF de quem a emite. "
        "Corrija a chave no ERP (ou a UF da empresa no ERP, se é ela que está errada) e use Tentar de "
        "novo (o documento do pedido no ERP é lido de novo); nada foi escrito no pedido",
        "NF-e key {key} (number {number}, series {series}, model {model}, issued {issued}) names no "
        "authorised NF-e: its cUF {in_key} is not the state of the issuing company (the ERP company with "
        "the key's CNPJ is in {in_document}), and an NF-e is authorised by its issuer's state. Correct "
        "the key in the ERP (or the company's state in the ERP, if that is what is wrong), then Retry "
        "(the ERP order's document is read again); nothing was written on the order",
    ),
    "nfe_part_model": ("o modelo", "model"),
    "nfe_part_series": ("a série", "series"),
    "nfe_part_number": ("o número", "number"),
    "nfe_part_issuer": ("o CNPJ do emitente", "issuer CNPJ"),
    "nfe_part_month": ("o ano-mês AAMM", "AAMM year-month"),
    "nfe_theirs_document": ("do que o documento traz", "the document's"),
    "nfe_theirs_copy": (
        "do que traz a cópia do documento no pedido do ERP",
        "the ERP order's copy of the document's",
    ),
    "nfe_theirs_company": (
        "do CNPJ da empresa do pedido no ERP (o ERP não nomeia emitente para o documento)",
        "the order's ERP company's (the ERP names no issuer for the document)",
    ),
    "nfe_issued_before_order": (
        "NF-e {number} (chave {key}) recusada: o ERP diz que ela foi emitida em {issued}, antes de o pedido "
        "existir (pedido criado no ERP em {created})",
        "NF-e {number} (key {key}) refused: the ERP says it was issued {issued}, before the order existed "
        "(ERP order created {created})",
    ),
    "nfe_issued_ahead": (
        "NF-e {number} (chave {key}) recusada: o ERP diz que ela foi emitida em {issued}, depois de agora "
        "({now})",
        "NF-e {number} (key {key}) refused: the ERP says it was issued {issued}, later than now ({now})",
    ),
    "tracking_refused": (
        "A Shopify recusou o rastreio {number}{company} do ERP para o processamento {fulfillment} da NF-e "
        "{key}: {message}",
        "Shopify refused the ERP's tracking {number}{company} for fulfillment {fulfillment} of NF-e {key}: "
        "{message}",
    ),
    "tracking_nfe_unknown": (
        "O evento {seq} do ERP traz o rastreio {code}{carrier}, mas não nomeia documento fiscal, e o pedido "
        "{nro} do ERP tem {count} NF-e aplicadas ({keys}): não dá para saber de qual são as mercadorias. "
        "Inclua o rastreio na Shopify no processamento dessa NF-e",
        "ERP event {seq} gives tracking {code}{carrier} but names no fiscal document, and ERP order {nro} "
        "has {count} NF-e applied ({keys}): which one's goods it is for cannot be told. Add the tracking "
        "in Shopify to that NF-e's fulfillment",
    ),
    "picking_change_refused": (
        "SKU {sku} (linha {item} do ERP), {kind}: {message}; nada desta separação foi aplicado na Shopify",
        "SKU {sku} (ERP line {item}), {kind}: {message}; nothing of this picking was applied in Shopify",
    ),
    "kind_cut": ("corte", "cut"),
    "kind_qty": ("quantidade", "qty"),
    "kind_substitution": ("substituição", "substitution"),
    "kind_weight": ("peso", "weight"),
    "picking_weight_adjusted_before": (
        "o item {sku} já tem '{other}'; esta separação diz '{said}': alguém precisa ajustar o pedido à mão",
        "line {sku} already carries '{other}'; this picking says '{said}': a person must adjust the order "
        "by hand",
    ),
    "picking_line_not_editable": (
        "a edição do pedido não tem item para {line}",
        "order edit has no line for {line}",
    ),
    "picking_substitute_added_before": (
        "O evento nº {other_seq} do ERP incluiu o substituto {other_sku} ({other_qty}) para a linha {item} "
        "do pedido {nro} do ERP; o evento nº {seq} diz {sku} ({qty}): incluí-lo também cobraria os dois; "
        "alguém precisa ajustar o pedido à mão",
        "ERP event #{other_seq} added substitute {other_sku} ({other_qty}) for ERP line {item} of order "
        "{nro}; event #{seq} says {sku} ({qty}): adding it too would charge both; a person must adjust the "
        "order by hand",
    ),
    "picking_substitute_unbound": (
        "o substituto {sku} do pedido {nro} do ERP não está na Shopify (sem vínculo de variante): publique o "
        "SKU, e a edição continua",
        "substitute {sku} of ERP order {nro} is not in Shopify (no variant binding): publish the SKU, then "
        "the edit resumes",
    ),
    "cancel_nfe_still_valid": (
        "O pedido {nro} do ERP foi cancelado, mas sua NF-e {keys} continua válida (o restante cancelado "
        "depois de um faturamento parcial): o pedido {name} da Shopify não foi cancelado. Reembolse na "
        "Shopify o que o ERP cancelou e mantenha o que a NF-e faturou; depois marque esta mensagem como "
        "resolvida.",
        "ERP order {nro} was cancelled but its NF-e {keys} is still valid (the rest cancelled after a "
        "partial invoice): Shopify order {name} was not cancelled. Refund in Shopify what the ERP cancelled "
        "and keep what the NF-e invoiced; then mark this message as handled.",
    ),
    "cancel_failed_in_shopify": (
        "O cancelamento do pedido {name} falhou na Shopify: o job de cancelamento {job} terminou e o pedido "
        "não está cancelado (um reembolso recusado na forma de pagamento original, por exemplo). A linha do "
        "tempo do pedido no admin da Shopify diz o motivo; depois de corrigir, Tentar de novo envia o "
        "cancelamento outra vez (ou cancele o pedido lá).",
        "The cancellation of Shopify order {name} failed in Shopify: its cancel job {job} ended and the "
        "order is not cancelled (a refund to the original payment method declined, for instance). The "
        "order's timeline in the Shopify admin says why; once that is fixed, Retry sends the cancellation "
        "again (or cancel the order there).",
    ),
    "cancel_fulfillments_undone": (
        "{refusal} Antes disso, o app cancelou o(s) processamento(s) {fulfillments} do pedido (a Shopify "
        "não cancela pedido processado): o pedido {name} está ativo na Shopify sem eles (pode aparecer como "
        "não processado), então pode ser processado e enviado de novo, e essas mercadorias podem já ter "
        "saído da loja: confira a entrega com a transportadora.",
        "{refusal} Before that, the app cancelled the order's fulfillment(s) {fulfillments} (Shopify cancels "
        "no fulfilled order): order {name} is live in Shopify without them (it may show as unfulfilled), so "
        "it may be fulfilled and shipped again, and those goods may have left the store already: check the "
        "delivery with the carrier.",
    ),
    "cancel_held_by_service": (
        "A Shopify não cancelou o pedido {name}: o serviço de processamento {services} está com ele (ele "
        "{doing}), e a Shopify não cancela pedido enquanto um serviço de processamento o processa. Para "
        "cancelá-lo, {to_do}; depois clique em Tentar de novo aqui e o app cancela o pedido. Se o serviço "
        "já enviou as mercadorias, ele não pode parar: reembolse o cliente ou recupere as mercadorias. A "
        "Shopify disse: {shopify}",
        "Shopify did not cancel order {name}: fulfillment service {services} holds it (it {doing}), and "
        "Shopify cancels no order while a fulfillment service is fulfilling it. To cancel it, {to_do}; then "
        "click Retry here and the app cancels the order. If the service has shipped the goods already, it "
        "cannot stop: refund the customer or take the goods back instead. Shopify said: {shopify}",
    ),
    # the refusal of a shop whose grant cannot show a service's fulfillment orders (service_hold.unseen)
    "cancel_refused_service_unseen": (
        "{refusal} O app não consegue saber se um serviço de processamento está com o pedido {name}: a "
        "Shopify só mostra os pedidos de processamento de um serviço a um app com o acesso {scope}, que "
        "esta loja ainda não aprovou. Se o pedido mostra o processamento em andamento no admin da Shopify, "
        "faça o serviço parar (retire a solicitação, ou solicite o cancelamento do processamento dele) e "
        "clique em Tentar de novo aqui; abra o app pelo admin da Shopify e aprove as permissões que ele "
        "pedir, para que o app cite o serviço da próxima vez.",
        "{refusal} The app cannot tell whether a fulfillment service holds order {name}: Shopify shows a "
        "service's fulfillment orders only to an app granted {scope}, which this store has not approved "
        "yet. If the order shows its fulfillment in progress in the Shopify admin, have the service stop "
        "(withdraw its request, or request the cancellation of its fulfillment), then click Retry here; "
        "open the app from the Shopify admin and approve the permissions it asks for, so the app names the "
        "service next time.",
    ),
    "a_fulfillment_service": ("um serviço de processamento", "a fulfillment service"),
    "service_doing_submitted": (
        "foi solicitado a processá-lo e ainda não respondeu",
        "was asked to fulfil it and has not answered yet",
    ),
    "service_doing_accepted": (
        "aceitou a solicitação de processamento e está processando o pedido",
        "accepted the fulfillment request and is fulfilling it",
    ),
    "service_doing_cancellation_requested": (
        "foi solicitado a cancelar o processamento dele e ainda não respondeu",
        "was asked to cancel its fulfillment and has not answered yet",
    ),
    "service_doing_cancellation_rejected": (
        "recusou cancelar o processamento dele: as mercadorias podem já estar embaladas ou enviadas",
        "refused to cancel its fulfillment: the goods may be packed or shipped already",
    ),
    "service_to_do_submitted": (
        "retire a solicitação (Cancelar solicitação no processamento, no admin da Shopify)",
        "withdraw the request (Cancel request on the fulfillment in the Shopify admin)",
    ),
    "service_to_do_accepted": (
        "peça ao serviço que pare (Solicitar cancelamento no processamento em andamento, no admin da "
        "Shopify) e espere até que ele aceite",
        "ask the service to stop (Request cancellation on the fulfillment in progress, in the Shopify "
        "admin) and wait until it accepts",
    ),
    "service_to_do_cancellation_requested": (
        "espere o serviço aceitar a solicitação de cancelamento (ou entre em contato com ele)",
        "wait for the service to accept the cancellation request (or contact it)",
    ),
    "service_to_do_cancellation_rejected": (
        "entre em contato com o serviço e peça que cancele o processamento dele (Solicitar cancelamento de "
        "novo no processamento, no admin da Shopify)",
        "contact the service and have it cancel its fulfillment (Request cancellation again on the "
        "fulfillment, in the Shopify admin)",
    ),
    "cancel_fulfillment_refused": (
        "A Shopify não consegue cancelar o pedido {name}: ele foi processado {by} e o cancelamento do "
        "processamento {fulfillment} foi recusado ({message}). Cancele o processamento no admin da Shopify "
        "e reaplique esta mensagem.",
        "Shopify cannot cancel order {name}: it was fulfilled {by} and cancelling fulfillment {fulfillment} "
        "was refused ({message}). Cancel the fulfillment in the Shopify admin, then replay this message.",
    ),
    "fulfilled_at_invoicing": ("no faturamento", "at invoicing"),
    "fulfilled_in_shopify": (
        "na Shopify (pela loja ou por um app de entrega, antes do faturamento)",
        "in Shopify (by the store or a delivery app, before invoicing)",
    ),
    # invoices: the goods of an NF-e (jobs.invoices._fulfil) and its tracking (jobs.invoice_tracking)
    "invoices_again": ("{part}", "invoices: {part}"),  # a part of the note naming its flow again
    "fulfilment_waits": (
        "o processamento espera a última NF-e deste pedido: os itens de cada NF-e não são conhecidos",
        "fulfilment waits for the last NF-e of this order: its lines are not known per NF-e",
    ),
    "fulfilment_waiting": (
        "{waits} (o total da NF-e, {total}, é menor do que o ERP separou, então outra NF-e pode levar parte "
        "das mercadorias; se nenhuma vier, por um desconto dado no faturamento, processe as mercadorias na "
        "Shopify)",
        "{waits} (NF-e total {total} is below what the ERP served, so a further NF-e may carry part of the "
        "goods; if none is coming, a discount given at invoicing, fulfil the goods in Shopify)",
    ),
    "fulfilment_on_hold": (
        "faturado, mas o(s) pedido(s) de processamento {held} estão retidos na Shopify e não foram "
        "processados: libere a retenção e clique em Reenviar na mensagem desta NF-e: o app os processa",
        "invoiced, but fulfillment order(s) {held} are on hold in Shopify and were not fulfilled: release "
        "the hold, then Replay this NF-e's message: the app fulfils them",
    ),
    "fulfilment_elsewhere": (
        "faturado pela empresa {company} do ERP, mas o(s) pedido(s) de processamento {held} estão no local "
        "da empresa {companies} do ERP (movidos na Shopify depois da importação) e não foram processados "
        "lá: mova-os de volta ao local da loja que faturou (Alterar local) e clique em Reenviar na mensagem "
        "desta NF-e; ou processe-os à mão",
        "invoiced by ERP company {company}, but fulfillment order(s) {held} are at the location of ERP "
        "company {companies} (moved in Shopify after the import) and were not fulfilled there: move them "
        "back to the invoicing store's location (Change location), then Replay this NF-e's message; or "
        "fulfil them by hand",
    ),
    "fulfilment_left": (
        "fora da NF-e: {left} ficaram sem processar (incluídos na Shopify depois da separação, ou não "
        "separados): envie e cobre à parte, ou retire-os do pedido",
        "not on the NF-e: {left} left unfulfilled (added in Shopify after the picking, or not picked): ship "
        "and charge it apart, or take it off",
    ),
    "tracking_not_sent": (
        "rastreio {number}{company} não enviado: {why}",
        "tracking {number}{company} not sent: {why}",
    ),
    "tracking_not_sent_later": (
        "O evento nº {seq} do pedido {nro} do ERP traz o rastreio {number}{company} para a NF-e {key} "
        "(pedido {name} da Shopify), não enviado: {why}",
        "ERP event #{seq} of ERP order {nro} gives tracking {number}{company} for NF-e {key} (Shopify order "
        "{name}), not sent: {why}",
    ),
    "tracking_with_the_last": (
        "a NF-e {key} não processou nada ({waits}); as mercadorias dela foram processadas com a última NF-e "
        "do pedido, cujo processamento leva o rastreio daquela NF-e: se este for outro volume, inclua-o na "
        "Shopify",
        "NF-e {key} fulfilled nothing ({waits}); its goods were fulfilled with the order's last NF-e, whose "
        "fulfillment carries that NF-e's tracking: if this is another parcel, add it in Shopify",
    ),
    "tracking_by_hand": (
        "as mercadorias da NF-e {key} foram processadas à mão na Shopify antes de o app processá-las "
        "(processamento {names}: de uma pessoa, que o app não mexe); inclua o rastreio nele na Shopify se "
        "o cliente deve recebê-lo",
        "the goods of NF-e {key} were fulfilled in Shopify by hand before the app fulfilled them "
        "(fulfillment {names}: a person's, which the app leaves alone); add the tracking to it in Shopify "
        "if the customer should get it",
    ),
    "tracking_pickup": (
        "a NF-e {key} é uma retirada na loja (marcada como pronta para retirada): nada é enviado",
        "NF-e {key} is a local pickup (marked ready for pickup): nothing ships",
    ),
    "tracking_by_service": (
        "as mercadorias da NF-e {key} são processadas por um serviço de processamento ({service}), cujo "
        "processamento leva o próprio rastreio; inclua este nele na Shopify se o cliente deve recebê-lo",
        "NF-e {key}'s goods are fulfilled by a fulfillment service ({service}), whose fulfillment carries "
        "its own tracking; add this one to it in Shopify if the customer should get it",
    ),
    "tracking_no_fulfillment": (
        "nada do pedido {name} da Shopify está processado para levá-lo (nenhum processamento ativo: um "
        "pedido de processamento retido, ou todos os processamentos cancelados); libere a retenção e "
        "clique em Reenviar na mensagem desta NF-e (Tentar de novo, se ela falhou): o app processa as "
        "mercadorias da NF-e {key} e envia o rastreio "
        "(mercadorias que você mesmo processar: inclua o rastreio nesse processamento)",
        "nothing of Shopify order {name} is fulfilled to carry it (no active fulfillment: a fulfillment "
        "order on hold, or every fulfillment cancelled); release the hold, then Replay this NF-e's message "
        "(Retry if it failed): the app fulfils "
        "NF-e {key}'s goods and sends the tracking (goods you fulfil yourself: add the tracking to that "
        "fulfillment)",
    ),
    "tracking_fulfillment_unknown": (
        "nenhum processamento está registrado para a NF-e {key}, e não dá para saber qual dos "
        "processamentos {names} leva as mercadorias dela (a NF-e {bare} do pedido também não tem nenhum "
        "registrado); inclua o rastreio na Shopify no processamento das mercadorias da NF-e {key}",
        "no fulfillment is recorded for NF-e {key}, and which of fulfillment {names} carries its goods "
        "cannot be told (NF-e {bare} of the order has none recorded either); add the tracking in Shopify "
        "to the fulfillment of NF-e {key}'s goods",
    ),
    # invoices: the money of an NF-e (jobs.invoice_capture)
    "capture_settled_outside": (
        "a captura da NF-e {key} não foi pedida: o evento nº {seq} foi resolvido fora do app por {by}: "
        "{note}",
        "capture of NF-e {key} not asked: event #{seq} was handled outside the app by {by}: {note}",
    ),
    "capture_foreign_currency": (
        "nada capturado: o cliente pagou em {paid_in} e o app captura só na moeda da loja ({books_in}); "
        "capture o valor da NF-e pelo pedido no admin da Shopify",
        "nothing captured: the customer paid in {paid_in} and the app captures in the shop's currency "
        "({books_in}) only; capture the NF-e's amount from the order in Shopify admin",
    ),
    "capture_refused": (
        "{nfe} (total {invoiced}): {refusals}: {due} não foi cobrado ({paid} recebido); capture de novo pelo "
        "pedido na Shopify se a autorização ainda permitir, senão cobre o cliente de novo ou absorva a "
        "diferença",
        "{nfe} total {invoiced}: {refusals}: {due} was not charged ({paid} taken); capture it again from the "
        "order in Shopify if its authorisation still allows, else charge the customer again or absorb it",
    ),
    "capture_refusal": (
        "o gateway recusou a captura de {amount} da autorização do cartão {authorization} ({why})",
        "the gateway refused the capture of {amount} from card authorisation {authorization} ({why})",
    ),
    "capture_expired": (
        "{nfe} (total {invoiced}): a autorização do cartão de {amount} venceu sem ser capturada ({paid} "
        "recebido): {due} não foi cobrado; cobre o cliente de novo ou absorva a diferença",
        "{nfe} total {invoiced}: the card authorisation of {amount} expired uncaptured ({paid} taken): "
        "{due} was not charged; charge the customer again or absorb it",
    ),
    "capture_voided": (
        "{nfe} (total {invoiced}): a autorização do cartão de {amount} foi anulada na Shopify ({paid} "
        "recebido): {due} não foi cobrado; cobre o cliente de outra forma ou absorva a diferença",
        "{nfe} total {invoiced}: the card authorisation of {amount} was voided in Shopify ({paid} taken): "
        "{due} was not charged; charge the customer another way or absorb it",
    ),
    "capture_above_authorised": (
        "{nfe} (total {invoiced}) passa {due} do que o cliente pagou ou autorizou ({paid} recebido): {due} "
        "não foi cobrado; cobre a diferença ou absorva-a",
        "{nfe} total {invoiced} is {due} above what the customer paid or authorised ({paid} taken): {due} "
        "was not charged; collect it or absorb it",
    ),
    "capture_left_open": (
        "{holds}, em aberto: capture dela ou cancele-a pelo pedido na Shopify",
        "{holds}, left open: capture from it or void it from the order in Shopify",
    ),
    "authorization_holds": (
        "a autorização {authorization} ainda tem {amount}",
        "authorisation {authorization} still holds {amount}",
    ),
    "capture_refund_owed": (
        "{paid} foi recebido por {of} de {invoiced}{beside}: reembolse {owed} ao cliente",
        "{paid} was taken for {of} of {invoiced}{beside}: refund {owed} to the customer",
    ),
    "beside_goods": (" e {items}", " and {items}"),
    "tips": ("{amount} de gorjeta", "{amount} of tips"),
    "gift_cards_sold": ("{amount} em vales-presente vendidos", "{amount} of gift cards sold"),
    "capture_above_total": (
        "{nfe} (total {invoiced}) passa {held_back} do total do pedido na Shopify, {total} (o que o cliente "
        "vê que deve: um item pesado separado acima do pedido, ou um frete acima do da Shopify, não é "
        "cobrado lá): {held_back} não foi cobrado; cobre a diferença ou absorva-a",
        "{nfe} total {invoiced} is {held_back} above the Shopify order's total {total} (what the customer "
        "sees they owe: a weighed item picked heavier than ordered, or a freight above Shopify's, is not "
        "charged there): {held_back} was not charged; collect it or absorb it",
    ),
    "capture_shopify_above_nfe": (
        "o total do pedido na Shopify, {total}, passa {gap} do que a NF-e faturou ({invoiced}): a Shopify "
        "mostra o cliente devendo {gap} que a NF-e não cobra (a autorização foi liberada); cobre de outro "
        "jeito, ou retire-o do pedido na Shopify (um desconto numa edição) para que ele fique pago",
        "the Shopify order's total {total} is {gap} above what the NF-e invoiced ({invoiced}): Shopify "
        "shows the customer owing {gap} the NF-e does not charge (its authorisation released); collect it "
        "another way, or take it off the order in Shopify (an edit's discount) so it reads paid",
    ),
    "capture_one_only": (
        "a autorização {authorization} aceita uma só captura (o gateway não faz capturas parciais): {amount} "
        "foi capturado pela NF-e até aqui e os outros {rest} foram liberados; cobre à parte a NF-e que ainda "
        "vem",
        "authorisation {authorization} allows one capture only (its gateway has no partial captures): "
        "{amount} was captured for the NF-e so far and the other {rest} released; charge the NF-e still to "
        "come apart",
    ),
    "capture_closed_by_one": (
        "{nfe} (total {invoiced}): {closed}: {due} não foi cobrado ({paid} recebido); cobre {due} do cliente "
        "de outro jeito (a Shopify mostra esse valor em aberto no pedido: envie dali uma fatura ao cliente) "
        "ou absorva a diferença",
        "{nfe} total {invoiced}: {closed}: {due} was not charged ({paid} taken); charge the customer {due} "
        "another way (Shopify shows it outstanding on the order: send them an invoice for it from there) or "
        "absorb it",
    ),
    "capture_one_taken": (
        "a autorização do cartão {authorization} aceita uma só captura, já feita ({captured} capturado, os "
        "outros {released} liberados pelo gateway)",
        "card authorisation {authorization} allowed one capture only, taken already ({captured} captured, "
        "the other {released} released by its gateway)",
    ),
    "capture_left_authorised": (
        "{left} segue autorizado no cartão do cliente, à espera de outra NF-e deste pedido ({nfe} até agora: "
        "total {invoiced}, menos do que o ERP separou). Se não vier outra NF-e, capture o que ainda é devido "
        "e cancele o restante pelo pedido na Shopify antes que a autorização vença",
        "{left} is left authorised on the customer's card, waiting for a further NF-e of this order ({nfe} "
        "so far total {invoiced}, less than the ERP served). If no further NF-e is coming, capture what is "
        "still owed and void the rest from the order in Shopify before the authorisation lapses",
    ),
}


def say_note(parts: list[Any] | None, locale: str) -> str | None:
    """A note's words (its stored parts, ledger.order_notes.words_of) in `locale`, "; " between its
    parts; None when it has none or one names a key this catalogue lacks (the page shows the text)."""
    if not parts:
        return None
    return words.said(WORDS, parts, locale)


def note_text(note: Note, said: dict[str, list[Any]], locale: str) -> str:
    """A note's words without its flow's label ("invoices: ..." -> "..."), in `locale` from the
    words its flow kept (`said`: ledger.order_notes.words_of, by label); as written in English, or
    for a note without words (a row written before them, a key this catalogue lacks)."""
    text = note.text[len(note.label) + 1 :].lstrip() if note.label else note.text
    if note.label and locale != "en":
        text = say_note(said.get(note.label), locale) or text
    return text
