"""A failed message explained in the merchant's words (pt-BR and en), beside the target's own words.

Pure functions of a Message's error class, its `error_detail` (system, code, mapping kind), its
flow and the locale: what happened, what to do, and the target system's message as it said it.
Known Consinco codes (`codigo`) and Shopify userError codes get a specific answer; a code that
means another thing in one flow (PEDIDO_EM_SEPARACAO on a cancellation is not an edit refused)
has that flow's own words first (FLOW_CODES); anything else falls back to the error class (a
refusal of the app's own is titled so, not "refused by the target"). A refused ERP login is told
by its detail's flag (erp.errors.AUTH), whatever the login endpoint's codigo. A pending message
that waits on purpose (an order not paid yet) is explained too: it has no error, and must not read
as stuck; one whose job was lost (`stuck`: the worker killed) says so and what Retry does. A
catalog product sent without the barcode of a SKU whose ERP code is no GTIN (its request's
`barcodes_not_sent`, jobs.catalog_map.barcode_problem) is explained although it is done: that note
is how the merchant learns which EAN to correct.
"""

from __future__ import annotations

from typing import Any

from erp.errors import AUTH
from erp.records import parse_sku
from ledger import trace
from ledger.flows import SHOPIFY_TO_ERP
from ledger.handled import CATALOG_FLOWS
from ledger.mappings import NO_PAYMENT, code_side, gateway_key
from ledger.masking import mask_text, typed_tax_ids
from ledger.models import ErrorClass, Message, MessageStatus
from ledger.order_risk import awaiting_app, held_for_risk
from shopify_app import words
from shopify_app.fail_words import financial_status
from shopify_app.fail_words import reason as fail_reason
from shopify_app.role_words import for_viewer
from shopify_app.skip_words import risk_assessment

Text = tuple[str, str]  # (pt-BR, en)

MAPPING_KINDS: dict[str, Text] = {
    "payment_method": ("forma de pagamento", "payment method"),
    "carrier": ("transportadora", "carrier"),
    "segment_market": ("segmento / mercado", "segment / market"),
    "location": ("empresa / local", "company / location"),
    "card_brand": ("bandeira do cartão", "card brand"),
    "card_network": ("rede adquirente", "card network (acquirer)"),
    "store_link": ("empresa e segmento da loja", "store company and segment"),
    "erp_connection": ("conexão com o ERP", "ERP connection"),
}
SETUP_KINDS = {"store_link", "erp_connection"}
SETTING = "setting"  # jobs.order_lookup.resolve_target: an orders setting left empty
SETTINGS: dict[str, Text] = {
    "seq_canal_venda": ("seqCanalVenda (o canal de venda)", "seqCanalVenda (the sales channel)"),
    "cod_geral_oper": (
        "codGeralOper (o código geral de operação)",
        "codGeralOper (the fiscal operation code)",
    ),
}
VARIANT = "variant"  # ledger.bindings.VARIANT_KIND: a SKU with no Shopify variant (or a line with no SKU)

CLASS_TEXT: dict[str, tuple[Text, Text, Text]] = {
    ErrorClass.MAPPING_MISSING.value: (
        ("Aguardando um De:Para", "Waiting for a mapping"),
        ("Falta um De:Para para seguir.", "A mapping is missing."),
        (
            "Crie o De:Para indicado; a mensagem segue sozinha assim que ele existir.",
            "Create the mapping shown; the message resumes by itself once it exists.",
        ),
    ),
    ErrorClass.REJECTED.value: (
        ("Recusado pelo sistema de destino", "Refused by the target system"),
        (
            "O sistema de destino recusou o envio. Repetir o mesmo envio dará a mesma resposta.",
            "The target system refused it. Sending the same again gets the same answer.",
        ),
        (
            "Corrija o dado indicado na mensagem do sistema e clique em Tentar de novo.",
            "Fix the data the system's message names, then click Retry.",
        ),
    ),
    ErrorClass.TRANSIENT.value: (
        ("Falha temporária", "Temporary failure"),
        (
            "O sistema de destino não respondeu a tempo ou estava indisponível.",
            "The target system did not answer in time or was unavailable.",
        ),
        (
            "Nada a fazer: novas tentativas são automáticas. Se persistir, verifique a conexão.",
            "Nothing to do: it is retried automatically. If it persists, check the connection.",
        ),
    ),
    ErrorClass.BUG.value: (
        ("Erro inesperado", "Unexpected error"),
        ("A integração encontrou um erro inesperado.", "The integration hit an unexpected error."),
        (
            "Avise o suporte da integração com o número desta mensagem; depois, Tentar de novo.",
            "Tell the integration's support the number of this message; then Retry.",
        ),
    ),
}

# After an order is entered in the ERP by hand (the by-hand remedies below): the app knows no ERP
# order of it until a person links it (Orders page; POST /api/orders/<id>/erp-order), which closes
# the message; unlinked, its NF-e, capture and fulfilment never reach Shopify by themselves.
BY_HAND_ORDER: Text = (
    " Lançado à mão, abra o pedido na página Pedidos e use “Vincular ao pedido do ERP” com o número "
    "do pedido no ERP: a mensagem é encerrada e a nota, a captura e o envio do ERP chegam à Shopify. "
    "Sem o vínculo, emita a nota, capture o pagamento (uma autorização expira em cerca de 7 dias) e "
    "marque o envio na Shopify à mão, e use “Marcar como resolvida” aqui.",
    " Once entered by hand, open the order on the Orders page and use “Link to ERP order” with its "
    "ERP order number: the message is closed and the ERP's NF-e, capture and fulfilment reach Shopify. "
    "Without the link, the NF-e, the capture (an authorisation expires in about 7 days) and the "
    "fulfilment must be done by hand in Shopify; then use “Mark as handled” here.",
)
# After a by-hand fix in Shopify or the ERP: Retry gets the same answer, so the message is closed.
BY_HAND_DONE: Text = (
    " Feito isso, use “Marcar como resolvida” com uma nota: Tentar de novo dará a mesma resposta.",
    " Once done, use “Mark as handled” with a note: Retry gets the same answer.",
)


def _by_hand(text: Text, tail: Text) -> Text:
    return (text[0] + tail[0], text[1] + tail[1])


# What to do when Shopify denies the app a permission (HTTP 403, ACCESS_DENIED).
SCOPES_WHAT_TO_DO: Text = (
    "Abra o app pelo admin da Shopify e aprove as permissões que a Shopify pedir (após uma "
    "atualização do app, escopos novos precisam da sua aprovação); se ele não pedir nenhuma, "
    "reinstale o app. Depois, clique em Tentar de novo.",
    "Open the app from the Shopify admin and approve the permissions Shopify asks for (after an "
    "app update, new scopes need your approval); if it asks for none, reinstall the app. Then "
    "click Retry.",
)


KNOWN_CODES: dict[str, tuple[Text, Text]] = {
    # ledger.trace.retries_ran_out: a replay's retries all failed (class transient, status failed)
    "RETRIES_RAN_OUT": (
        (
            "O sistema de destino não respondeu a tempo ou estava indisponível em todas as novas "
            "tentativas automáticas (o último erro está abaixo); elas se esgotaram e nada mais tenta "
            "esta mensagem sozinho.",
            "The target system did not answer in time or was unavailable on every automatic retry (the "
            "last error is below); they ran out, and nothing tries this message again by itself.",
        ),
        (
            "Quando a causa passar (o sistema voltar a responder), clique em Tentar de novo.",
            "Once the cause is gone (the system answers again), click Retry.",
        ),
    ),
    "PRODUTO_NAO_ENCONTRADO": (
        ("O ERP não conhece um produto do pedido.", "The ERP does not know a product of the order."),
        (
            "Confira o SKU no ERP (código de acesso) e sincronize o catálogo.",
            "Check the SKU in the ERP (access code) and sync the catalog.",
        ),
    ),
    "PRODUTO_INATIVO": (
        ("Um produto do pedido está inativo no ERP.", "A product of the order is inactive in the ERP."),
        (
            "Reative o produto no ERP ou ajuste o pedido na Shopify.",
            "Reactivate the product in the ERP or edit the order in Shopify.",
        ),
    ),
    "SEGMENTO_INVALIDO": (
        (
            "O segmento de venda configurado não vale para esta empresa.",
            "The configured sales segment is not valid for this company.",
        ),
        (
            "Revise a empresa e o segmento da loja na Configuração.",
            "Review the store's company and segment in Setup.",
        ),
    ),
    # The representative of setting nro_representante (the order header's nroRepresentante)
    "REPRESENTANTE_INVALIDO": (
        (
            "O ERP não aceita o representante configurado para os pedidos: não cadastrado ou inativo.",
            "The ERP does not take the representative set for orders: not registered, or inactive.",
        ),
        (
            "Corrija o representante (nroRepresentante) em Configuração > Canal de venda e regras, ou "
            "deixe-o vazio se o ERP não pede um; depois, clique em Tentar de novo.",
            "Fix the representative (nroRepresentante) under Setup > Sales channel and rules, or leave "
            "it empty if the ERP asks for none; then click Retry.",
        ),
    ),
    "EMPRESA_INATIVA": (
        ("A empresa do ERP está inativa.", "The ERP company is inactive."),
        (
            "Escolha outra empresa na Configuração ou reative-a no ERP.",
            "Choose another company in Setup or reactivate it in the ERP.",
        ),
    ),
    "FORMAPAGTO_INVALIDA": (
        ("O ERP recusou a forma de pagamento.", "The ERP refused the payment method."),
        ("Revise o De:Para de formas de pagamento.", "Review the payment method mapping."),
    ),
    "PEDIDO_FATURADO": (
        (
            "O pedido já foi faturado no ERP e não pode mais mudar.",
            "The order is already invoiced in the ERP and can no longer change.",
        ),
        (
            "A NF-e não muda. Itens devolvidos: emita a nota de devolução no ERP e acerte a devolução com "
            "o cliente. Itens reembolsados que ficaram com o cliente: lance o valor no contas a receber do "
            "pedido. Cancelamento: cancele a NF-e no ERP (dentro do prazo legal) ou emita a nota de "
            "devolução. Uma edição pode, em vez disso, ser desfeita na Shopify.",
            "The NF-e cannot change. Items returned: issue a return invoice (nota de devolução) in the ERP "
            "and settle their return with the customer. Items refunded that the customer kept: record the "
            "amount against the order's receivable. A cancellation: cancel the NF-e in the ERP (within the "
            "legal deadline) or issue a return invoice. An edit can instead be undone in Shopify.",
        ),
    ),
    "PEDIDO_EM_SEPARACAO": (
        (
            "O pedido está em separação no ERP e não aceita mais mudanças da Shopify; nada mudou no ERP.",
            "The order is being picked in the ERP and no longer takes changes from Shopify; nothing "
            "changed in the ERP.",
        ),
        (
            "Ajuste o pedido na separação do ERP para entregar o que a Shopify mostra (após um reembolso "
            "de itens, só o que segue pago: um reembolso não se desfaz); uma edição pode, em vez disso, "
            "ser desfeita na Shopify. Com os dois lados iguais, Tentar de novo encerra a mensagem.",
            "Change the order at picking in the ERP so it delivers what Shopify shows (after a refund of "
            "items, only what is still paid for: a refund cannot be reversed); an edit can instead be "
            "undone in Shopify. Once both sides match, Retry closes the message.",
        ),
    ),
    "PEDIDO_CANCELADO": (
        ("O pedido já está cancelado no ERP.", "The order is already cancelled in the ERP."),
        (
            "Confira o pedido na Shopify; nada a enviar ao ERP.",
            "Check the order in Shopify; nothing to send.",
        ),
    ),
    # the card call (jobs.card_payments): the ERP order has no form of that idPagtoCanalVenda
    "PAGAMENTO_NAO_ENCONTRADO": (
        (
            "O pedido do ERP não tem a forma de pagamento a que estes dados de cartão se referem.",
            "The ERP order has no payment form these card data belong to.",
        ),
        (
            "As formas de pagamento do pedido mudaram no ERP (trocadas à mão?): registre os dados do "
            "cartão no ERP à mão e marque esta mensagem como resolvida. Tentar de novo dará a mesma "
            "resposta.",
            "The order's payment forms changed in the ERP (replaced by hand?): record the card data in "
            "the ERP by hand and mark this message as handled. Retry gets the same answer.",
        ),
    ),
    "PEDIDO_NAO_ENCONTRADO": (
        ("O ERP não encontrou o pedido.", "The ERP could not find the order."),
        (
            "Confira o NROPEDVENDA na tela de Pedidos e reenvie o pedido.",
            "Check the NROPEDVENDA on the Orders page and resend the order.",
        ),
    ),
    "TOKEN_INVALIDO": (
        ("O ERP recusou o login da integração.", "The ERP refused the integration's login."),
        (
            "Revise usuário e senha em Configuração > Conexão com o ERP e use Testar conexão; ao salvar, "
            "as mensagens recusadas assim são tentadas de novo.",
            "Review the user and password under Setup > ERP connection and use Test connection; saving "
            "it retries the messages refused so.",
        ),
    ),
    "NFE_KEY_MISMATCH": (
        (
            "A chave de acesso da NF-e é de outro documento: o modelo, a série, o número, o CNPJ do "
            "emitente ou o ano-mês gravados na chave não batem com a nota que o ERP informou (sem CNPJ "
            "do emitente na nota, vale o CNPJ da empresa do pedido no ERP), o emitente não é da empresa "
            "do pedido (outra raiz de CNPJ) ou o cUF não é a UF da empresa emitente. Nada foi gravado no "
            "pedido.",
            "The NF-e access key belongs to another fiscal document: the model, series, number, issuer "
            "CNPJ or year-month inside the key do not match the invoice the ERP described (when the "
            "invoice names no issuer CNPJ, the CNPJ of the order's ERP company counts), the issuer is "
            "not of the order's company (another CNPJ root) or the cUF is not the issuing company's "
            "state. Nothing was written on the order.",
        ),
        (
            "Compare no ERP a chave com a nota (a mensagem do sistema mostra o campo e os dois valores), "
            "corrija a chave ou a nota e clique em Tentar de novo (a nota é lida outra vez do pedido no "
            "ERP).",
            "In the ERP, compare the key with the invoice (the system's message names the field and both "
            "values), correct the key or the invoice, then click Retry (the invoice is read again from "
            "the ERP order).",
        ),
    ),
    "TAKEN": (
        ("A Shopify já tem um registro com este valor.", "Shopify already has a record with this value."),
        (
            "Procure o duplicado na Shopify (SKU ou handle) e remova-o.",
            "Find the duplicate in Shopify (SKU or handle) and remove it.",
        ),
    ),
    "INVALID": (
        ("A Shopify recusou um valor.", "Shopify refused a value."),
        ("Corrija no ERP o campo indicado e tente de novo.", "Fix the named field in the ERP and retry."),
    ),
    "NOT_FOUND": (
        ("O registro não existe mais na Shopify.", "The record no longer exists in Shopify."),
        (
            "Um produto ou variante: clique em Tentar de novo, ele é criado outra vez (o catálogo se guia "
            "pelo código do ERP). Um local: aponte a empresa para um local existente na Configuração e "
            "tente de novo. Um pedido apagado na Shopify não volta (a Shopify não restaura pedidos "
            "apagados): nada mais pode ser escrito nele, e Tentar de novo dará a mesma resposta; acerte "
            "o pedido do ERP à mão.",
            "A product or variant: click Retry, it is created anew (the catalog goes by the ERP's id). A "
            "location: point its company at an existing location under Setup, then retry. An order "
            "deleted in Shopify cannot come back (Shopify does not restore deleted orders): nothing more "
            "can be written on it, and Retry gets the same answer; settle the ERP order by hand.",
        ),
    ),
    # jobs.old_orders: an ERP event for an order Shopify no longer lets the app read (not deleted)
    "ORDER_TOO_OLD_TO_READ": (
        (
            "O pedido tem mais de 60 dias: a Shopify só deixa um app ler pedidos mais antigos com o acesso "
            "read_all_orders, que o app não tem (a Shopify o concede a pedido). O pedido existe; o app não "
            "pode lê-lo nem alterá-lo.",
            "The order is older than 60 days: Shopify lets an app read older orders only with the "
            "read_all_orders access, which the app lacks (Shopify grants it on request). The order "
            "exists; the app can neither read nor change it.",
        ),
        (
            "Faça à mão no admin da Shopify o que o evento pede (a mensagem abaixo diz o quê: a NF-e a "
            "aplicar, o cancelamento e o motivo do ERP) e marque esta mensagem como resolvida: os eventos "
            "seguintes do pedido seguem. Ou peça à Shopify o acesso read_all_orders e, concedido, clique "
            "em Tentar de novo.",
            "Do by hand in the Shopify admin what the event asks (the message below says what: the NF-e "
            "to apply, the cancellation and the ERP's reason) and mark this message as handled: the "
            "order's later events go on. Or ask Shopify for the read_all_orders access and, once it is "
            "granted, click Retry.",
        ),
    ),
    "INVALID_LOCATION": (
        (
            "O local da Shopify mapeado para esta empresa do ERP não existe mais (ou foi desativado).",
            "The Shopify location this ERP company is mapped to no longer exists (or was deactivated).",
        ),
        (
            "Aponte a empresa para um local existente em Mapeamentos (locais): o próximo ciclo de "
            "estoque grava os níveis lá. Tentar de novo este lote como está recebe a mesma resposta.",
            "Point the company at an existing location under Mappings (locations): the next stock pass "
            "writes its levels there. Retrying this batch as it is gets the same answer.",
        ),
    ),
    "FULFILLMENT_CANCEL_REFUSED": (
        (
            "A Shopify recusou cancelar um atendimento (fulfillment) deste pedido: por exemplo um "
            "vale-presente atendido automaticamente, ou um envio já entregue.",
            "Shopify refused to cancel a fulfillment of this order: for example a gift card fulfilled "
            "automatically, or a shipment already delivered.",
        ),
        (
            "Trate esse atendimento no admin da Shopify (cancele-o ou registre a devolução) e tente de novo.",
            "Handle that fulfillment in the Shopify admin (cancel it or record the return), then retry.",
        ),
    ),
    "TRACKING_REFUSED": (
        (
            "A NF-e já está no pedido e atendida, mas a Shopify recusou o rastreio que o ERP informou "
            "depois para o atendimento (fulfillment) dessa nota: por exemplo o atendimento foi "
            "cancelado na Shopify.",
            "The NF-e is on the order and fulfilled, but Shopify refused the tracking the ERP gave "
            "afterwards for that NF-e's fulfillment: for example the fulfillment was cancelled in "
            "Shopify.",
        ),
        (
            "Veja na mensagem do sistema qual atendimento e por quê; informe o rastreio no admin da "
            "Shopify nesse pedido (ou no atendimento que ficou no lugar), ou corrija a causa e clique "
            "em Tentar de novo.",
            "The system's message names the fulfillment and why; add the tracking to the order in the "
            "Shopify admin (or to the fulfillment that replaced it), or fix the cause and click Retry.",
        ),
    ),
    "TRACKING_FULFILLMENT_UNKNOWN": (
        (
            "O ERP informou o rastreio de uma NF-e já aplicada, mas o app não tem registro de qual "
            "atendimento (fulfillment) leva as mercadorias dessa nota, e o pedido tem outra NF-e sem "
            "registro também (notas aplicadas antes de o app registrar os atendimentos por NF-e): "
            "mandar o código ao atendimento errado daria ao cliente o rastreio de outra entrega.",
            "The ERP gave the tracking of an NF-e applied already, but the app has no record of which "
            "fulfillment carries that NF-e's goods, and the order has another NF-e with none recorded "
            "either (NF-e applied before the app recorded fulfillments per NF-e): sending the code to "
            "the wrong fulfillment would give the customer another shipment's tracking.",
        ),
        (
            "A mensagem cita o pedido, a NF-e e o código: informe o rastreio no admin da Shopify no "
            "atendimento das mercadorias dessa nota.",
            "The message names the order, the NF-e and the code: add the tracking in the Shopify admin "
            "to the fulfillment of that NF-e's goods.",
        ),
    ),
    "TRACKING_NO_FULFILLMENT": (
        (
            "O ERP informou o rastreio de uma NF-e já aplicada, mas nada do pedido está atendido na "
            "Shopify para levá-lo (um pedido de atendimento em espera, ou os atendimentos cancelados).",
            "The ERP gave the tracking of an NF-e applied already, but nothing of the order is fulfilled "
            "in Shopify to carry it (a fulfillment order on hold, or the fulfillments cancelled).",
        ),
        (
            "Libere a espera na Shopify e clique em Tentar de novo: o app atende as mercadorias da nota e "
            "envia o rastreio. Se você mesmo atendê-las, informe o rastreio nesse atendimento.",
            "Release the hold in Shopify and click Retry: the app fulfils the NF-e's goods and sends the "
            "tracking. If you fulfil them yourself, add the tracking to that fulfillment.",
        ),
    ),
    "STOCK_FIX_UNFINISHED": (
        (
            "Você pediu o estoque do ERP para os níveis que a conciliação achou diferentes, mas a "
            "passagem de estoque dessa empresa não terminou: nenhum nível foi ajustado.",
            "You asked the ERP's figure for the levels the reconciliation found differing, but that "
            "company's stock pass did not finish: no level was set.",
        ),
        (
            "A mensagem de estoque da empresa diz o que a parou (por exemplo, o ERP recusou a leitura): "
            "resolva isso e clique em Tentar de novo aqui.",
            "The company's own stock message says what stopped it (the ERP refused the read, say): put "
            "that right, then click Retry here.",
        ),
    ),
    "TRACKING_NFE_UNKNOWN": (
        (
            "Um evento de faturamento do ERP trouxe um código de rastreio sem dizer de qual nota fiscal, "
            "e o pedido tem mais de uma NF-e aplicada: não dá para saber a entrega de qual nota ele "
            "acompanha.",
            "An ERP invoicing event gave a tracking code without saying which fiscal document, and the "
            "order has more than one NF-e applied: which NF-e's shipment it follows cannot be told.",
        ),
        (
            "A mensagem cita o código e as chaves: informe o rastreio no admin da Shopify no atendimento "
            "da nota certa.",
            "The message names the code and the keys: add the tracking in the Shopify admin to the right "
            "NF-e's fulfillment.",
        ),
    ),
    "TAXES_ADDED": (
        (
            "A loja soma imposto aos preços; o total do pedido no ERP ficaria abaixo do cobrado.",
            "The store adds tax on top of its prices; the ERP order would total less than was charged.",
        ),
        _by_hand(
            (
                "Este pedido mantém o imposto cobrado, e uma nova tentativa terá a mesma resposta: lance-o "
                "à mão no ERP ou cancele-o. Configure a loja com preços que incluem impostos para os "
                "próximos pedidos.",
                "This order keeps the tax it was charged, so another attempt gets the same answer: enter "
                "it in the ERP by hand or cancel it. Set the store's prices to include tax for the next "
                "orders.",
            ),
            BY_HAND_ORDER,
        ),
    ),
    "TOTALS_MISMATCH": (
        (
            "O total do pedido no ERP não bateria com o que a Shopify cobrou; nada foi enviado.",
            "The ERP order's total would not match what Shopify charged; nothing was sent.",
        ),
        _by_hand(
            (
                "Compare os dois totais na mensagem do sistema; ajuste o pedido na Shopify por uma edição "
                "e use Tentar de novo, ou lance-o à mão no ERP.",
                "Compare the two totals in the system's message; fix the order in Shopify with an order "
                "edit and Retry, or enter it in the ERP by hand.",
            ),
            BY_HAND_ORDER,
        ),
    ),
    "CANCEL_HANDLED_BY_HAND": (
        (
            "O pedido foi cancelado na Shopify, mas a importação dele foi resolvida fora do app e nenhum "
            "pedido do ERP está vinculado a ele: o app não tem o que cancelar no ERP.",
            "The order was cancelled in Shopify, but its import was handled outside the app and no ERP "
            "order is linked to it: the app has nothing to cancel in the ERP.",
        ),
        _by_hand(
            (
                "Se o pedido foi lançado à mão no ERP, cancele-o lá (senão ele seria separado e faturado).",
                "If the order was entered in the ERP by hand, cancel it there (else it would be picked and "
                "invoiced).",
            ),
            BY_HAND_DONE,
        ),
    ),
    "CANCEL_ERP_NUMBER_UNKNOWN": (
        (
            "O pedido foi cancelado na Shopify. Ele já tinha sido enviado ao ERP, a resposta do ERP se "
            "perdeu, e o reenvio para descobrir o número do pedido no ERP falhou; o ERP pode ter o "
            "pedido ativo, que seria separado e faturado.",
            "The order was cancelled in Shopify. It had been sent to the ERP, the ERP's answer was "
            "lost, and sending it again to learn its ERP number failed; the ERP may hold it as a live "
            "order, which would be picked and invoiced.",
        ),
        (
            "Procure no ERP o pedido pelo id do canal citado na mensagem e cancele-o lá; ou corrija a "
            "causa citada e clique em Tentar de novo (o cancelamento reenvia o pedido e o cancela).",
            "Look the order up in the ERP by the channel order id the message gives and cancel it "
            "there; or fix the cause it names and click Retry (the cancellation sends it again, then "
            "cancels it).",
        ),
    ),
    # jobs.order_payment_lost: an order in the ERP Shopify then says will not be paid (its note's message)
    "PAYMENT_LOST": (
        (
            "O pedido já está no ERP, mas a Shopify diz agora que ele não será pago como está (a "
            "autorização do cartão foi anulada ou expirou, ou tudo foi reembolsado): o pedido do ERP "
            "continua em aberto, e o ERP o separaria, faturaria e entregaria sem pagamento.",
            "The order is in the ERP, but Shopify now says it will not be paid as it stands (its card "
            "authorisation was voided or expired, or everything was refunded): the ERP order is still "
            "open, and the ERP would separate, invoice and deliver it unpaid.",
        ),
        (
            "Cancele o pedido no ERP (ou cancele o pedido na Shopify), ou cobre o pagamento de outra "
            "forma; feito isso, use “Marcar como resolvida” com uma nota. Um novo pagamento ou "
            "autorização na Shopify fecha esta mensagem sozinho; Tentar de novo lê o pagamento outra vez.",
            "Cancel the order in the ERP (or cancel the order in Shopify), or collect the payment another "
            "way; once done, use “Mark as handled” with a note. A new payment or authorisation in Shopify "
            "closes this message by itself; Retry reads the payment again.",
        ),
    ),
    # jobs.order_risk_late: an order in the ERP Shopify (or a fraud app) then recommends holding
    "RISK_AFTER_ERP": (
        (
            "O pedido já está no ERP, mas a Shopify (ou um app antifraude) agora recomenda cancelá-lo ou "
            "investigá-lo: o pedido do ERP continua em aberto, e o ERP o separaria e entregaria.",
            "The order is in the ERP, but Shopify (or a fraud app) now recommends cancelling or "
            "investigating it: the ERP order is still open, and the ERP would pick and deliver it.",
        ),
        (
            "Confira o pedido antes da separação (a análise de fraude está no pedido da Shopify). Se for "
            "fraude, cancele-o na Shopify (o pedido do ERP é cancelado junto) ou no ERP; se for legítimo, "
            "use “Marcar como resolvida” com uma nota. Se a recomendação mudar, esta mensagem fecha "
            "sozinha; Tentar de novo lê o risco outra vez.",
            "Check the order before it is picked (its fraud analysis is on the Shopify order). If it is "
            "fraud, cancel it in Shopify (the ERP order is cancelled with it) or in the ERP; if it is "
            "genuine, use “Mark as handled” with a note. If the recommendation changes, this message "
            "closes by itself; Retry reads the risk again.",
        ),
    ),
    # jobs.cancellations.erased: an order of an installation whose data shop/redact erased, cancelled
    "CANCEL_ORDER_ERASED": (
        (
            "O pedido foi cancelado na Shopify. Ele é de uma instalação anterior do app nesta loja, cujos "
            "dados foram apagados após a desinstalação (como a Shopify pede), com o vínculo ao pedido do "
            "ERP: o ERP pode ter o pedido ativo, que seria separado e faturado, e o app não sabe o número.",
            "The order was cancelled in Shopify. It is of an earlier installation of the app on this "
            "store, whose data was erased after the uninstall (as Shopify asks), its link to the ERP order "
            "with it: the ERP may hold it as a live order, which would be picked and invoiced, and the app "
            "does not know its number.",
        ),
        _by_hand(
            (
                "Procure no ERP o pedido pelo id do canal citado na mensagem (ou como foi lançado à mão) e "
                "cancele-o lá.",
                "Look the order up in the ERP by the channel order id the message gives (or as it was "
                "entered by hand) and cancel it there.",
            ),
            BY_HAND_DONE,
        ),
    ),
    # jobs.cancellations.erased: an order placed while the app was not installed, cancelled
    "CANCEL_ORDER_BEFORE_APP": (
        (
            "O pedido foi cancelado na Shopify. Ele foi feito quando o app não estava instalado nesta "
            "loja: o app nunca o enviou ao ERP, mas o conector anterior da loja pode tê-lo enviado (ou "
            "ele foi lançado à mão), e o ERP então o separaria e faturaria.",
            "The order was cancelled in Shopify. It was placed while the app was not installed on this "
            "store: the app never sent it to the ERP, but the store's earlier connector may have (or it "
            "was entered by hand), and the ERP would then pick and invoice it.",
        ),
        _by_hand(
            (
                "Procure o pedido no ERP (pelo id citado na mensagem ou como o conector anterior o nomeou) "
                "e cancele-o lá se estiver.",
                "Look the order up in the ERP (by the id the message gives or as the earlier connector "
                "named it) and cancel it there if it is.",
            ),
            BY_HAND_DONE,
        ),
    ),
    "INVALID_TAX_ID": (
        (
            "O CPF/CNPJ que o cliente informou no checkout é inválido ou está vazio (o valor e a regra "
            "estão na mensagem do sistema); nada foi enviado ao ERP, que exige um documento válido na "
            "nota.",
            "The CPF/CNPJ the customer gave at checkout is invalid or empty (the value and the rule are "
            "in the system's message); nothing was sent to the ERP, whose invoice needs a valid document.",
        ),
        _by_hand(
            (
                "Confirme o documento com o cliente. Tentar de novo lê o pedido outra vez e só adianta se "
                "o documento mudou na Shopify; senão, lance o pedido no ERP à mão ou cancele-o.",
                "Check the document with the customer. Retry reads the order again and only helps once "
                "the document changed in Shopify; otherwise enter the order in the ERP by hand or cancel it.",
            ),
            BY_HAND_ORDER,
        ),
    ),
    "COMPANY_TAX_ID_MISSING": (
        (
            "Pedido B2B: o cliente no ERP é a empresa, e o local da empresa na Shopify não tem um CNPJ "
            "válido (nem o checkout trouxe um CNPJ; um CPF digitado ali é do contato, não da empresa). "
            "Nada foi enviado ao ERP, para a nota não sair em nome de outra pessoa.",
            "B2B order: the ERP customer is the company, and its company location in Shopify has no "
            "valid CNPJ (nor did the checkout give one; a CPF typed there is the contact's, not the "
            "company's). Nothing was sent to the ERP, so the invoice is not issued to someone else.",
        ),
        _by_hand(
            (
                "Na Shopify, abra Clientes > Empresas > a empresa > o local citado > Configurações de "
                "impostos e preencha o CNPJ (ID de registro fiscal); depois clique em Tentar de novo. Ou "
                "lance o pedido à mão no ERP.",
                "In Shopify, open Customers > Companies > the company > the location named > Tax settings "
                "and fill in its CNPJ (tax registration ID); then click Retry. Or enter the order in the "
                "ERP by hand.",
            ),
            BY_HAND_ORDER,
        ),
    ),
    "COMPANY_NOT_READ": (
        (
            "Pedido B2B: a Shopify não informou a empresa e o local da empresa do pedido (o pedido "
            "pode ter sido apagado entre as leituras). Nada foi enviado ao ERP.",
            "B2B order: Shopify gave no company and company location for the order (it may have been "
            "deleted between the reads). Nothing was sent to the ERP.",
        ),
        (
            "Confira o pedido na Shopify e clique em Tentar de novo: o pedido é lido outra vez.",
            "Check the order in Shopify and click Retry: the order is read again.",
        ),
    ),
    "WEBHOOK_SHOP_MISMATCH": (
        (
            "Uma notificação da Shopify (desinstalação ou pedido de privacidade) chegou com um corpo que "
            "não nomeia esta loja: nada foi feito. Só o corpo é assinado pela Shopify; os cabeçalhos de "
            "loja e tópico podem ter sido trocados por quem reenviou um corpo de outra notificação.",
            "A Shopify notification (an uninstall or a privacy request) came with a body that does not "
            "name this store: nothing was done. Shopify signs only the body; the store and topic "
            "headers may have been swapped by someone resending another notification's body.",
        ),
        (
            "Nada a fazer se a loja não pediu isso. Se foi um pedido real da Shopify, ele chega de novo "
            "com o corpo certo; em caso de dúvida, fale com o suporte do app.",
            "Nothing to do if the store did not ask for this. A real request from Shopify comes again "
            "with the right body; when in doubt, contact the app's support.",
        ),
    ),
    "PUBLISH_FAILED": (
        (
            "O produto foi criado na Shopify, mas não foi publicado nos canais de venda (Loja virtual "
            "ou os da configuração publish_to): ele ainda não aparece na loja.",
            "The product was created in Shopify but not published to its sales channels (the Online "
            "Store, or those of the publish_to setting): it does not show on the storefront yet.",
        ),
        (
            "Confira o motivo acima (canal inexistente, permissão). Corrija o canal ou a configuração "
            "e clique em Tentar de novo: o produto é publicado. Ou publique-o à mão na Shopify.",
            "Check the reason above (a missing channel, a permission). Fix the channel or the setting "
            "and click Retry: the product is published then. Or publish it by hand in Shopify.",
        ),
    ),
    "BULK_LINE_TOO_LARGE": (
        (
            "O produto não foi enviado à Shopify: sozinho, ele passa do tamanho de um arquivo de "
            "envio em lote da Shopify (o tamanho e o limite estão acima). Os outros produtos foram.",
            "The product was not sent to Shopify: on its own it is larger than one bulk upload file "
            "Shopify takes (its size and the limit are above). The other products went.",
        ),
        (
            "Encurte o que o ERP tem para ele (a descrição, as embalagens) e clique em Tentar de novo.",
            "Shorten what the ERP has for it (its description, its packagings) and click Retry.",
        ),
    ),
    "NFE_STATUS_UNKNOWN": (
        (
            "O ERP lista a NF-e com uma situação que não é nem válida nem cancelada (acima): uma NF-e "
            "denegada ou inutilizada, ou um código que o app não conhece. Nada foi gravado, cobrado ou "
            "atendido na Shopify.",
            "The ERP lists the NF-e with a status that is neither valid nor cancelled (above): a denied "
            "or voided NF-e, or a code the app does not know. Nothing was written, charged or fulfilled "
            "in Shopify.",
        ),
        (
            "Confira a NF-e no ERP. Se ela está autorizada e o ERP grava esse código para isso, peça ao "
            "integrador para incluí-lo em CONSINCO_FIELD_MAP (formats.nfe_valid) e clique em Tentar de "
            "novo.",
            "Check the NF-e in the ERP. If it is authorised and the ERP writes that code for it, ask the "
            "integrator to add it to CONSINCO_FIELD_MAP (formats.nfe_valid) and click Retry.",
        ),
    ),
    "VARIANTS_NOT_MADE": (
        (
            "A Shopify aceitou o produto, mas não criou uma variante para uma ou mais embalagens (acima): "
            "elas não têm vínculo, preço nem estoque na loja.",
            "Shopify took the product but made no variant for one or more packagings (above): they have "
            "no binding, price or stock in the store.",
        ),
        (
            "Confira as variantes do produto no admin da Shopify (uma pode ter sido juntada a outra pelo "
            "valor da opção) e clique em Tentar de novo; a sincronização completa diária também o envia "
            "de novo.",
            "Check the product's variants in the Shopify admin (one may have been merged into another by "
            "its option value) and click Retry; the daily full sync sends it again too.",
        ),
    ),
    "WEIGHED_PACKAGING_NOT_KG": (
        (
            "Uma ou mais embalagens pesáveis do produto (acima) não são a embalagem KG de quantidade 1: a "
            "integração vende um produto pesável em unidades de 1 kg (preço por kg, estoque em kg), então "
            "uma bandeja de 0,5 kg ou uma caixa de 10 kg seria vendida como 1 kg. Elas ficam fora da venda "
            "(sem variante, ou a variante que já tinham sem venda); as outras embalagens do produto, se "
            "há, foram enviadas.",
            "One or more weighed packagings of the product (above) are not its KG packaging of quantity 1: "
            "the integration sells a weighed product in units of 1 kg (price per kg, stock in kg), so a "
            "0.5 kg tray or a 10 kg box would be sold as 1 kg. They are kept out of the sale (no variant, "
            "or the variant they had taken off sale); the product's other packagings, if any, were sent.",
        ),
        (
            "No ERP, venda o item pesável pela embalagem KG de quantidade 1 (desative as outras, ou faça "
            "a família não pesável se ela é vendida por embalagem) e clique em Tentar de novo; a próxima "
            "alteração do produto no ERP também o envia.",
            "In the ERP, sell the weighed item by its KG packaging of quantity 1 (deactivate the others, "
            "or make the family not weighed if it is sold by the packaging) and click Retry; the product's "
            "next change in the ERP sends it too.",
        ),
    ),
    "PUBLISH_RETRYING": (
        (
            "O produto foi criado na Shopify, mas a publicação nos canais de venda (Loja virtual ou os "
            "da configuração publish_to) falhou por um problema passageiro da Shopify: ele ainda não "
            "aparece na loja.",
            "The product was created in Shopify but publishing it to its sales channels (the Online "
            "Store, or those of the publish_to setting) failed for a passing problem at Shopify: it "
            "does not show on the storefront yet.",
        ),
        (
            "Nada a fazer: a próxima execução do fluxo de produtos publica-o sozinha (algumas vezes; "
            "se continuar falhando, a mensagem passa a falha e Tentar de novo o publica).",
            "Nothing to do: the next products pass publishes it by itself (a few times; if it keeps "
            "failing, the message turns failed and Retry publishes it).",
        ),
    ),
    "CUSTOM_ID_RETRYING": (
        (
            "O produto está na Shopify, mas sem o código do ERP (metafield consinco.seq_produto): "
            "gravá-lo falhou por um problema passageiro da Shopify. O produto não é enviado de novo "
            "antes disso, para não criar um segundo produto.",
            "The product is in Shopify but without its ERP id (metafield consinco.seq_produto): "
            "setting it failed for a passing problem at Shopify. The product is not sent again before "
            "that, so that no second product is created.",
        ),
        (
            "Nada a fazer: a próxima execução do fluxo de produtos grava o código e envia o produto.",
            "Nothing to do: the next products pass sets the id and sends the product.",
        ),
    ),
    "VARIANT_QUOTA": (
        (
            "A loja tem 50.000 variantes ou mais e não está no plano Shopify Plus: a Shopify deixa criar no "
            "máximo 1.000 variantes novas por dia, e o limite de hoje acabou. Este produto (novo, ou com "
            "uma embalagem nova) espera; as mudanças nos produtos que a Shopify já tem seguem normalmente.",
            "The store holds 50,000 variants or more and is not on Shopify Plus: Shopify lets it create at "
            "most 1,000 new variants a day, and today's are spent. This product (new, or with a new "
            "packaging) waits; changes to the products Shopify already has go on as usual.",
        ),
        (
            "Nada a fazer: o app tenta de novo sozinho a cada hora, e a Shopify aceita o que o dia dela "
            "permitir. Para ir mais rápido: arquive ou apague na Shopify variantes que não se vendem mais, "
            "ou passe a loja para o plano Shopify Plus; Tentar de novo envia este produto na hora.",
            "Nothing to do: the app tries again by itself every hour, and Shopify takes what its day "
            "allows. To go faster: archive or delete in Shopify the variants no longer sold, or move the "
            "store to Shopify Plus; Retry sends this product at once.",
        ),
    ),
    "CUSTOM_ID_FAILED": (
        (
            "O produto está na Shopify, mas sem o código do ERP (metafield consinco.seq_produto): a "
            "Shopify recusou gravá-lo. O produto não é enviado de novo antes disso, para não criar um "
            "segundo produto.",
            "The product is in Shopify but without its ERP id (metafield consinco.seq_produto): "
            "Shopify refused to set it. The product is not sent again before that, so that no second "
            "product is created.",
        ),
        (
            "Corrija a causa que a Shopify indica acima e clique em Tentar de novo.",
            "Fix the cause Shopify gives above, then click Retry.",
        ),
    ),
    "EXISTING_PRODUCT_CONFLICT": (
        (
            "O produto não foi criado na Shopify: a loja já tem produtos com os SKUs ou EANs dele, sem o "
            "código do ERP, e o app não sabe, com certeza, qual deles é este produto (indicados acima). "
            "Criar outro duplicaria o produto na loja.",
            "The product was not created in Shopify: the store already holds products with its SKUs or "
            "EANs, without the ERP id, and the app cannot tell for sure which of them is this product "
            "(named above). Creating another would put it in the store twice.",
        ),
        (
            "Na Shopify, deixe um só produto com esses códigos, com apenas as embalagens deste produto "
            "(ou mude os códigos, se for outro produto); depois clique em Tentar de novo.",
            "In Shopify admin, leave one product with those codes, holding only this product's "
            "packagings (or change the codes, if it is another product); then click Retry.",
        ),
    ),
    "CUSTOM_ID_TAKEN": (
        (
            "O produto está na Shopify, mas sem o código do ERP (metafield consinco.seq_produto): "
            "outro produto da Shopify, indicado acima, já tem esse código. Um dos dois é duplicado.",
            "The product is in Shopify but without its ERP id (metafield consinco.seq_produto): "
            "another Shopify product, named above, already holds that id. One of the two is a "
            "duplicate.",
        ),
        (
            "Na Shopify, fique com um dos dois (copie do outro o que precisar) e apague o outro; "
            "depois clique em Tentar de novo.",
            "In Shopify admin, keep one of the two (copy over anything of the other you need) and "
            "delete the other; then click Retry.",
        ),
    ),
    "CUSTOM_ID_PRODUCT_GONE": (
        (
            "O produto foi apagado na Shopify antes de o app gravar nele o código do ERP (metafield "
            "consinco.seq_produto).",
            "The product was deleted in Shopify before the app could set its ERP id (metafield "
            "consinco.seq_produto) on it.",
        ),
        (
            "Clique em Tentar de novo: o produto é criado outra vez. Se foi apagado de propósito, "
            "tire-o do e-commerce no ERP e marque esta mensagem como resolvida.",
            "Click Retry: the product is created again. If it was deleted on purpose, take it off the "
            "e-commerce in the ERP and mark this message handled.",
        ),
    ),
    "OTHER_ERP_HALF_DONE": (
        (
            "A nota de um pedido do ERP ao qual a loja estava conectada antes foi aplicada pela metade "
            "quando a conexão com o ERP mudou: a chave está no pedido da Shopify, e talvez a captura "
            "tenha sido pedida (ainda pendente no gateway) ou as mercadorias atendidas; a mensagem diz o "
            "quê.",
            "An invoice of an order of the ERP the shop was connected to before was half applied when "
            "the ERP connection moved: its key is on the Shopify order, and its capture may have been "
            "asked (maybe still pending at the gateway) or its goods fulfilled; the message says which.",
        ),
        _by_hand(
            (
                "Confira o pagamento do pedido na Shopify: capturado, ou recusado (então cobre o cliente "
                "de novo ou absorva), e o atendimento. O app não faz mais nada com este evento.",
                "Check the order's payment in Shopify: captured, or refused (then charge the customer "
                "again or absorb it), and its fulfillment. The app does nothing more with this event.",
            ),
            BY_HAND_DONE,
        ),
    ),
    "DUPLICATE_ERP_ORDER": (
        (
            "O evento é de um segundo pedido do ERP que indica como seu id no canal um pedido da Shopify "
            "já vinculado a outro pedido do ERP: o ERP tem dois pedidos para a mesma venda (um duplicado). "
            "Nada foi aplicado ao pedido da Shopify: aplicar o cancelamento, a nota ou a separação do "
            "duplicado mudaria a venda que o pedido vinculado ainda atende.",
            "The event is of a second ERP order that names as its channel id a Shopify order already "
            "linked to another ERP order: the ERP holds two orders for one sale (a duplicate). Nothing was "
            "applied to the Shopify order: the duplicate's cancellation, NF-e or picking would change the "
            "sale the linked ERP order still serves.",
        ),
        _by_hand(
            (
                "Confira os dois pedidos no ERP (a mensagem os cita) e resolva o duplicado lá; se o pedido "
                "da Shopify precisar de uma mudança, faça-a à mão.",
                "Check both orders in the ERP (the message names them) and settle the duplicate there; if "
                "the Shopify order needs a change, make it by hand.",
            ),
            BY_HAND_DONE,
        ),
    ),
    "ORDER_OF_OTHER_ERP": (
        (
            "O pedido está ligado a um pedido do ERP ao qual a loja estava conectada antes (a conexão com "
            "o ERP mudou desde então): no ERP usado agora, esse número pode ser o pedido de outro "
            "cliente, então nada foi enviado (cancelamento, edição ou endereço de entrega).",
            "The order is linked to an ERP order of the ERP the shop was connected to before (the ERP "
            "connection moved since): in the ERP used now that number may be another customer's order, "
            "so nothing was sent (cancellation, edit or delivery address).",
        ),
        _by_hand(
            (
                "Faça a mudança à mão no ERP que tem o pedido (cancele-o lá, se foi cancelado na Shopify), "
                "ou acerte-a de outro modo.",
                "Make the change by hand in the ERP that holds the order (cancel it there, if it was "
                "cancelled in Shopify), or settle it otherwise.",
            ),
            BY_HAND_DONE,
        ),
    ),
    "NFE_KEY_INVALID": (
        (
            "A chave de acesso que o ERP informou para a nota não é válida (44 dígitos, dígito "
            "verificador, modelo 55/65, ano-mês que ainda não chegou) ou a nota tem data de emissão no "
            "futuro, ou anterior à criação do pedido; nada foi escrito no pedido, capturado ou enviado.",
            "The access key the ERP gave for the invoice is not valid (44 digits, check digit, model "
            "55/65, a year-month still to come) or the invoice's issue date is in the future, or "
            "before the order was created; nothing was written on the order, captured or shipped.",
        ),
        (
            "Confira a nota no ERP (a mensagem do sistema mostra a regra que falhou). Quando o ERP "
            "informar a chave e a data de emissão corretas, clique em Tentar de novo (a nota é lida "
            "outra vez do pedido no ERP).",
            "Check the invoice in the ERP (the system's message names the rule that failed). Once the "
            "ERP gives the right key and issue date, click Retry (the invoice is read again from the "
            "ERP order).",
        ),
    ),
    "DOCUMENTO_AUSENTE": (
        (
            "O ERP disse que o pedido foi faturado, mas nem o evento nem o pedido no ERP trazem uma nota "
            "válida; nada foi escrito, capturado ou enviado.",
            "The ERP said the order was invoiced, but neither the event nor the ERP order carries a valid "
            "invoice; nothing was written, captured or shipped.",
        ),
        (
            "Confira no ERP se a nota foi emitida (ou cancelada). Depois de emitida, clique em Tentar de "
            "novo.",
            "Check in the ERP whether the invoice was issued (or cancelled). Once it is issued, click Retry.",
        ),
    ),
    "ORDER_CANCELLED": (
        (
            "O pedido está cancelado na Shopify, mas o ERP o faturou: há uma nota emitida para um pedido "
            "que o cliente não vai receber nem pagar.",
            "The order is cancelled in Shopify, but the ERP invoiced it: there is an invoice for an order "
            "the customer will neither receive nor pay for.",
        ),
        _by_hand(
            (
                "Cancele a nota no ERP (dentro do prazo legal) ou emita a nota de devolução.",
                "Cancel the invoice in the ERP (within the legal deadline) or issue a return invoice.",
            ),
            BY_HAND_DONE,
        ),
    ),
    "EDIT_LEFT_NO_ITEM": (
        (
            "O pedido ficou sem itens na Shopify (editado, ou com todos os itens reembolsados), mas o "
            "pedido no ERP ainda tem os seus; nada mudou no ERP.",
            "The order was left with no item in Shopify (edited, or every item refunded), but the ERP "
            "order still has its items; nothing changed in the ERP.",
        ),
        (
            "Pedido ainda não faturado: se a venda acabou, cancele o pedido na Shopify (o pedido do ERP é "
            "cancelado junto). Já faturado: emita a nota de devolução no ERP para os itens (ou cancele a "
            "NF-e no prazo legal). Uma edição pode, em vez disso, ser desfeita; um reembolso não.",
            "Not invoiced yet: if the sale is off, cancel the order in Shopify (the ERP order is cancelled "
            "with it). Already invoiced: issue a return invoice (nota de devolução) in the ERP for the "
            "items (or cancel the NF-e within the legal deadline). An edit can instead be undone; a refund "
            "cannot.",
        ),
    ),
    "EDIT_NOT_ERP_PRODUCT": (
        (
            "A edição do pedido na Shopify incluiu um item que não é um produto do ERP (criado na Shopify, "
            "como sacola ou embalagem para presente, ou um item avulso): o ERP não pode vendê-lo, então a "
            "edição inteira NÃO foi aplicada, e o pedido do ERP seria separado e faturado como estava.",
            "The order edit in Shopify added a line that is not an ERP product (made in Shopify, like a "
            "bag or gift wrap, or a custom item): the ERP cannot sell it, so the whole edit was NOT "
            "applied, and the ERP order would be picked and invoiced as it was.",
        ),
        (
            "Troque esse item por um produto do catálogo ou remova-o com outra edição do pedido na "
            "Shopify: essa edição leva ao ERP as demais mudanças desta, e a mensagem se encerra. Nenhum "
            "vínculo virá para esse item, então Tentar de novo dará a mesma resposta enquanto ele estiver "
            "no pedido.",
            "Replace that line with a catalog product or remove it by another order edit in Shopify: that "
            "edit carries this one's other changes to the ERP, and this message closes. No binding will "
            "come for that line, so Retry gets the same answer while it is on the order.",
        ),
    ),
    "DELIVERY_NOW_PICKUP": (
        (
            "O pedido virou uma retirada na loja na Shopify depois de ir ao ERP, mas a API do ERP não "
            "muda o tipo de entrega de um pedido: no ERP ele segue como entrega, com o endereço na "
            "observação.",
            "The order became a pickup at the store in Shopify after it went to the ERP, but the ERP's "
            "API does not change an order's delivery type: in the ERP it is still a delivery, the address "
            "in its observation.",
        ),
        (
            "Mude o pedido para retirada no ERP e avise o motorista, depois use “Marcar como resolvida”; "
            "ou volte a entrega na Shopify (a mensagem se encerra).",
            "Make the order a pickup in the ERP and tell the driver, then use “Mark as handled”; or make "
            "it a delivery again in Shopify (the message closes).",
        ),
    ),
    "DELIVERY_ADDRESS_NOT_SENT": (
        (
            "O endereço ou o horário de entrega mudou na Shopify, mas o pedido no ERP já está em separação "
            "ou faturado: a observação do pedido no ERP (o único registro de para onde e quando ele vai) "
            "segue com a entrega antiga.",
            "The delivery address or time changed in Shopify, but the ERP order is already being picked "
            "or invoiced: its observation (the only record of where and when it goes) still has the old "
            "delivery.",
        ),
        (
            "Avise a separação e a entrega do novo endereço ou horário (já faturado: a transportadora ou o "
            "motorista) e use “Marcar como resolvida”; ou volte o endereço ou horário na Shopify (a "
            "mensagem se encerra). Tentar de novo só encerra a mensagem quando a observação do pedido no "
            "ERP traz o texto da nova entrega exatamente como a nota o mostra (“Entrega: …”, copie-o da "
            "nota); escrito de outro jeito, use “Marcar como resolvida”.",
            "Tell the picking and delivery team the new address or time (once invoiced: the carrier or "
            "driver) and use “Mark as handled”; or change the address or time back in Shopify (the message "
            "closes). "
            "Retry closes the message only once the ERP order's observation carries the new delivery "
            "text exactly as the note shows it (“Entrega: …”, copy it from the note); written any other "
            "way, use “Mark as handled”.",
        ),
    ),
    "ERP_CUT_EVERY_ITEM": (
        (
            "O ERP cortou todos os itens na separação e o pedido da Shopify foi ajustado para ficar igual: "
            "não sobrou nada a entregar, mas o pedido segue ativo no ERP.",
            "The ERP cut every item at picking and the Shopify order was changed to match: nothing is "
            "left to deliver, yet the order is still live in the ERP.",
        ),
        (
            "Cancele o pedido na Shopify, reembolsando o que o cliente pagou (o pedido do ERP é cancelado "
            "junto). Não desfaça a edição: ela é do ERP, e venderia o que a loja não tem.",
            "Cancel the order in Shopify, refunding what the customer paid (the ERP order is cancelled "
            "with it). Do not undo the edit: it is the ERP's, and would sell what the store does not have.",
        ),
    ),
    "NO_LINES": (
        (
            "O pedido não tem mais nenhum item a enviar (todos removidos ou reembolsados); nada foi "
            "enviado ao ERP.",
            "The order has no item left to send (all removed or refunded); nothing was sent to the ERP.",
        ),
        (
            "Nada a enviar: se a venda acabou, cancele o pedido na Shopify. Tentar de novo só adianta se "
            "itens voltarem ao pedido.",
            "Nothing to send: if the sale is off, cancel the order in Shopify. Retry only helps if items "
            "come back to the order.",
        ),
    ),
    "EARLIER_EVENT_NOT_APPLIED": (
        (
            "Um evento anterior do mesmo pedido no ERP (separação, por exemplo, ou o faturamento da mesma "
            "NF-e, cuja captura falhou) não foi aplicado; este espera por ele para não aplicar as mudanças "
            "fora de ordem nem cobrar o que ninguém decidiu.",
            "An earlier event of the same ERP order (picking, for instance, or the same NF-e's invoice, "
            "whose capture failed) was not applied; this one waits for it so changes are not applied out of"
            " order and nothing is charged that nobody decided.",
        ),
        (
            "Resolva o evento anterior citado na mensagem e tente-o de novo (ele cobra a NF-e); depois "
            "clique em Tentar de novo aqui. Se o evento anterior falhou na captura e você acertar o "
            "dinheiro da NF-e fora do app (o cliente pagou de outro jeito, um Pix no balcão), feche o "
            "evento anterior com “Marcar como resolvida” e uma nota dizendo como foi pago; então clique em "
            "Tentar de novo aqui: a NF-e é gravada, o pedido é enviado com o rastreio, e nada é capturado. "
            "Fechado por outro motivo (um item acertado à mão na Shopify), ele não acerta dinheiro: este "
            "evento ainda captura a NF-e.",
            "Fix the earlier event the message names and retry it (it charges the NF-e); then click Retry "
            "here. If the earlier event failed on its capture and you settle the NF-e's money outside the "
            "app (the customer paid another way, a Pix at the counter), close the earlier event with “Mark "
            "as handled” and a note saying how it was paid; then click Retry here: the NF-e is written, the"
            " order fulfilled with its tracking, and nothing is captured. Closed for another reason (an "
            "item fixed by hand in Shopify), it settled no money: this event still captures the NF-e.",
        ),
    ),
    "CANCEL_NFE_STILL_VALID": (
        (
            "O ERP cancelou o pedido, mas uma NF-e dele continua válida (o restante cancelado depois de "
            "um faturamento parcial): o pedido não foi cancelado na Shopify.",
            "The ERP cancelled the order, but an NF-e of it is still valid (the rest cancelled after a "
            "partial invoice): the order was not cancelled in Shopify.",
        ),
        (
            "Reembolse na Shopify o que o ERP cancelou e mantenha o que a NF-e faturou (essas mercadorias "
            "estão com o cliente); depois use “Marcar como resolvida”.",
            "Refund in Shopify what the ERP cancelled and keep what the NF-e invoiced (those goods are "
            "with the customer); then use “Mark as handled”.",
        ),
    ),
    "CANCEL_NOT_APPLIED": (
        (
            "O cancelamento pedido pelo ERP falhou na Shopify (um reembolso recusado, por exemplo): o "
            "pedido não foi cancelado.",
            "The cancellation the ERP asked for failed in Shopify (a refund declined, for instance): "
            "the order is not cancelled.",
        ),
        (
            "Veja na linha do tempo do pedido, no admin da Shopify, por que falhou; resolvida a causa, "
            "clique em Tentar de novo: o cancelamento é enviado outra vez. Ou cancele-o à mão.",
            "See why in the order's timeline in the Shopify admin; once the cause is fixed, click "
            "Retry: the cancellation is sent again. Or cancel the order by hand.",
        ),
    ),
    "CANCEL_HELD_BY_FULFILLMENT_SERVICE": (
        (
            "A Shopify não cancelou o pedido: um serviço de fulfillment (um operador logístico) está "
            "atendendo o pedido, e a Shopify não cancela pedido com fulfillment em andamento.",
            "Shopify did not cancel the order: a fulfillment service (a 3PL or warehouse app) is "
            "fulfilling it, and Shopify cancels no order whose fulfillment is in progress.",
        ),
        (
            "Peça ao serviço de fulfillment que pare: no admin da Shopify, abra o pedido e use "
            "“Solicitar cancelamento” no fulfillment em andamento (ou “Cancelar solicitação” se ainda "
            "não foi aceito). Aceito o cancelamento, clique em Tentar de novo. Se as mercadorias já "
            "saíram, reembolse o cliente ou receba-as de volta.",
            "Ask the fulfillment service to stop: in the Shopify admin, open the order and use "
            "“Request cancellation” on the fulfillment in progress (or “Cancel request” if it was not "
            "accepted yet). Once the cancellation is accepted, click Retry. If the goods have left, "
            "refund the customer or take them back.",
        ),
    ),
    "BAD_MAPPING": (
        (
            "Um De:Para desta loja aponta para um código que o ERP não aceita (deve ser um número).",
            "One of this store's mappings points to a code the ERP does not take (it must be a number).",
        ),
        (
            "Corrija a linha citada em De:Para e clique em Tentar de novo.",
            "Fix the line named under De:Para, then click Retry.",
        ),
    ),
    "LINE_NOT_EDITABLE": (
        (
            "A edição vinda da separação no ERP não achou no pedido da Shopify a linha a mudar (removida, "
            "já processada ou trocada).",
            "The picking change from the ERP found no line to change on the Shopify order (removed, "
            "already fulfilled or replaced).",
        ),
        _by_hand(
            (
                "Ajuste o pedido na Shopify à mão para ficar igual ao separado no ERP; Tentar de novo dará "
                "a mesma resposta enquanto a linha não existir.",
                "Adjust the Shopify order by hand to match what the ERP picked; Retry gets the same answer "
                "while the line does not exist.",
            ),
            BY_HAND_DONE,
        ),
    ),
    "EDIT_LINES_NOT_READ": (
        (
            "O pedido tem mais linhas do que a Shopify deu na edição (250 por vez) e o resto não pôde ser "
            "lido; a edição vinda da separação no ERP não foi feita, nem em parte.",
            "The order has more lines than Shopify gave in the edit (250 at a time) and the rest could not "
            "be read; the picking change from the ERP was not made, not even in part.",
        ),
        _by_hand(
            (
                "Clique em Tentar de novo; se a resposta for a mesma, ajuste o pedido na Shopify à mão para "
                "ficar igual ao separado no ERP.",
                "Click Retry; if the answer is the same, adjust the Shopify order by hand to match what the "
                "ERP picked.",
            ),
            BY_HAND_DONE,
        ),
    ),
    "ORDER_TRANSACTIONS_NOT_READ": (
        (
            "O pedido tem mais transações de pagamento (tentativas recusadas, capturas, reembolsos) do "
            "que a Shopify entrega numa leitura (250); sem todas, o app não sabe o que foi pago, "
            "capturado ou reembolsado, e nada foi capturado, reembolsado ou cancelado no pedido.",
            "The order has more payment transactions (declined tries, captures, refunds) than Shopify "
            "gives in one read (250); without all of them the app cannot tell what was paid, captured or "
            "refunded, so nothing was captured, refunded or cancelled on the order.",
        ),
        _by_hand(
            (
                "Confira os pagamentos do pedido no admin da Shopify e faça à mão o que o evento do ERP "
                "pedia (capturar o valor da NF-e, reembolsar ou cancelar o pedido).",
                "Check the order's payments in the Shopify admin and do by hand what the ERP event asked "
                "for (capture the NF-e's amount, refund or cancel the order).",
            ),
            BY_HAND_DONE,
        ),
    ),
    "ORDER_FULFILLMENTS_NOT_READ": (
        (
            "O pedido tem mais envios (fulfillments, contando os cancelados) do que a Shopify entrega "
            "numa leitura (250); sem todos, o app não sabe qual envio está ativo, e nada foi cancelado, "
            "enviado ou atualizado com rastreio no pedido.",
            "The order has more fulfillments (cancelled ones included) than Shopify gives in one read "
            "(250); without all of them the app cannot tell which one is active, so nothing was "
            "cancelled, fulfilled or given tracking on the order.",
        ),
        _by_hand(
            (
                "Abra o pedido no admin da Shopify e faça à mão o que o evento do ERP pedia (cancelar o "
                "envio ativo antes de cancelar o pedido, marcar o envio ou informar o rastreio).",
                "Open the order in the Shopify admin and do by hand what the ERP event asked for (cancel "
                "the active fulfillment before cancelling the order, fulfil it, or add the tracking).",
            ),
            BY_HAND_DONE,
        ),
    ),
    "WEIGHT_ALREADY_ADJUSTED": (
        (
            "A linha já tem um ajuste de peso de outra separação, e esta separação pede outro; o app não "
            "soma ajustes sozinho.",
            "The line already carries a weight adjustment from another picking, and this picking asks for "
            "another; the app does not stack adjustments by itself.",
        ),
        _by_hand(
            (
                "Ajuste o valor da linha na Shopify à mão para ficar igual à nota do ERP.",
                "Adjust the line's value in Shopify by hand to match the ERP's invoice.",
            ),
            BY_HAND_DONE,
        ),
    ),
    "SUBSTITUTE_ALREADY_ADDED": (
        (
            "Outro evento do ERP deste pedido já pôs na Shopify um substituto pesado para este item, e "
            "este evento diz outro (outro produto ou outro peso); o app não soma os dois sozinho.",
            "Another ERP event of this order already added a weighed substitute for this item to the "
            "Shopify order, and this event says another (another product or weight); the app does not "
            "add both by itself.",
        ),
        _by_hand(
            (
                "Ajuste o pedido na Shopify à mão para ficar igual à nota do ERP (retire o substituto que "
                "sobra ou corrija o valor).",
                "Adjust the Shopify order by hand to match the ERP's invoice (take off the substitute "
                "left over or correct its value).",
            ),
            BY_HAND_DONE,
        ),
    ),
    "MULTI_COMPANY": (
        (
            "As linhas do pedido saem de locais de mais de uma empresa do ERP, e um pedido do ERP "
            "pertence a uma só empresa; nada foi enviado. A mensagem do sistema diz cada empresa e "
            "suas linhas.",
            "The order's lines ship from the locations of more than one ERP company, and an ERP order "
            "belongs to one company; nothing was sent. The system's message names each company and "
            "its lines.",
        ),
        (
            "No admin da Shopify, abra o pedido e mova os pedidos de processamento para um só local "
            "(em cada grupo não processado: ... > Alterar local); depois clique em Tentar de novo. "
            "Enquanto eles não forem movidos, uma nova tentativa terá a mesma resposta.",
            "In the Shopify admin, open the order and move its fulfillment orders to one location (on "
            "each unfulfilled group: ... > Change location); then click Retry. Until they are moved, "
            "another attempt gets the same answer.",
        ),
    ),
    "POS_SHIP_AND_CARRY": (
        (
            "O pedido foi vendido num caixa do PDV da Shopify (Shopify POS): parte dos itens foi "
            "entregue no balcão (a NFC-e deles foi emitida lá) e o resto será enviado ao cliente. O app "
            "não envia parte de um pedido ao ERP, e enviá-lo inteiro faturaria e baixaria do estoque uma "
            "segunda vez o que o cliente levou; nada foi enviado.",
            "The order was sold at a Shopify POS register: part of its items was handed over at the "
            "counter (their NFC-e issued there) and the rest is to be shipped to the customer. The app "
            "sends no part of an order to the ERP, and sending it whole would invoice and take from "
            "stock a second time what the customer took; nothing was sent.",
        ),
        (
            "Lance à mão no ERP só os itens a enviar (o pedido na Shopify os lista como não "
            "processados), envie-os de lá e marque-os como processados na Shopify; depois use “Marcar "
            "como resolvida” com uma nota: Tentar de novo dará a mesma resposta.",
            "Enter in the ERP by hand only the items to ship (the Shopify order lists them as "
            "unfulfilled), ship them from there and mark them fulfilled in Shopify; then use “Mark as "
            "handled” with a note: Retry gets the same answer.",
        ),
    ),
    "HANDLED_IN_SHOPIFY": (
        (
            "O pedido nunca foi enviado ao ERP (os avisos da Shopify se perderam, ou ele esperava o "
            "pagamento ou um De:Para) e a loja já o atendeu na Shopify: processou seus itens. Enviá-lo "
            "agora faria o ERP separar e faturar uma segunda vez mercadorias que já saíram; nada foi "
            "enviado.",
            "The order was never sent to the ERP (Shopify's notices were lost, or it waited for its payment "
            "or a mapping) and the store already handled it in Shopify: it fulfilled its items. Sending it "
            "now would make the ERP pick and invoice a second time goods that already left; nothing was "
            "sent.",
        ),
        (
            "Confira se o ERP tem essa venda: lançada à mão, vincule-a na página Pedidos (“Vincular ao "
            "pedido do ERP”) ou use “Marcar como resolvida” com uma nota; se falta, lance-a à mão no ERP. "
            "Se o pedido foi processado por engano, cancele o processamento na Shopify e clique em Tentar "
            "de novo: ele é enviado. Se todo pedido chega já processado, a "
            "loja processa pedidos sozinha (Configurações > Checkout > Processamento de pedidos: "
            "“Processar automaticamente os itens do pedido”): desligue-a, pois o app processa cada pedido "
            "quando o ERP o fatura.",
            "Check the ERP has this sale: typed in by hand, link it on the Orders page (“Link to ERP "
            "order”) or use “Mark as handled” with a note; if it lacks it, enter it in the ERP by hand. If "
            "the order was fulfilled by mistake, cancel its fulfillment in Shopify and click Retry: it is "
            "sent. If every order arrives fulfilled, the store fulfils "
            "orders by itself (Settings > Checkout > Order processing: “Automatically fulfill the order's "
            "line items”): turn that off, as the app fulfils each order when the ERP invoices it.",
        ),
    ),
    "SECTIONS_FAILED": (
        (
            "A conciliação diária não conseguiu conferir uma ou mais partes (pedidos, estoque, "
            "catálogo): o ERP ou a Shopify recusou a leitura. O relatório parcial foi guardado; a "
            "mensagem do sistema diz qual parte e por quê.",
            "The daily reconciliation could not check one or more parts (orders, stock, catalog): the "
            "ERP or Shopify refused the read. The partial report was kept; the system's message names "
            "each part and why.",
        ),
        (
            "Corrija o que a mensagem indica (o endereço ou o acesso da conexão com o ERP, uma "
            "permissão do app) e clique em Tentar de novo: o relatório é feito outra vez.",
            "Fix what the message names (the ERP connection's address or access, an app permission), "
            "then click Retry: the report is made again.",
        ),
    ),
    "COMPANY_INACTIVE": (
        (
            "A empresa do ERP está inativa (ou o ERP não a lista mais), mas continua ligada a um local "
            "da Shopify: uma loja fechada não pode vender, então os estoques dela nesse local foram "
            "zerados e não são mais enviados.",
            "The ERP company is inactive (or the ERP no longer lists it) but still mapped to a Shopify "
            "location: a closed store must not sell, so its levels at that location were set to 0 and "
            "are no longer sent.",
        ),
        (
            "Reative a empresa no ERP (o estoque volta a ser enviado) ou desfaça o De:Para dela com o "
            "local; a mensagem se fecha sozinha na próxima sincronização.",
            "Reactivate the company in the ERP (its stock is sent again) or unmap it from the location; "
            "the message closes by itself on the next sync.",
        ),
    ),
    "NO_PRICE": (
        (
            "O ERP não tem preço (0, ou menos de meio centavo: R$ 0,00 arredondado) para este SKU na "
            "empresa e segmento da loja; ele fica fora de venda.",
            "The ERP has no price (0, or under half a centavo: R$ 0.00 once rounded) for this SKU at the "
            "store's company and segment; it is off sale.",
        ),
        (
            "Cadastre o preço no ERP: o SKU volta à venda e esta mensagem se fecha na próxima sincronização.",
            "Set its price in the ERP: the SKU goes back on sale and this message closes on the next sync.",
        ),
    ),
    "LIST_NO_PRICE": (
        (
            "O ERP não tem preço (0, ou menos de meio centavo: R$ 0,00 arredondado) para este SKU na "
            "empresa e segmento ligados a este mercado{pair}: "
            "nenhum preço fixo vai à lista de preços do mercado, que mostra o preço base do SKU. O SKU "
            "segue à venda.",
            "The ERP has no price (0, or under half a centavo: R$ 0.00 once rounded) for this SKU at the "
            "company and segment mapped to this "
            "market{pair}: no fixed price goes to the market's price list, so the market shows the "
            "SKU's base price. The SKU stays on sale.",
        ),
        (
            "Se o mercado deve ter preço próprio, cadastre-o no ERP para essa empresa e segmento (ou "
            "confira o De:Para segmento / mercado): ele é enviado e esta mensagem se fecha na próxima "
            "sincronização. Até lá, o mercado vende pelo preço base.",
            "If the market should have a price of its own, set it in the ERP for that company and "
            "segment (or check the segment / market mapping): it is sent and this message closes on the "
            "next sync. Until then the market sells at the base price.",
        ),
    ),
    "MARKET_LIST_SHARED": (
        (
            "Este mercado divide o catálogo da Shopify (e com ele a lista de preços) com outro mercado, "
            "ligado a outra empresa e segmento do ERP (indicados acima). Os preços deste par não foram "
            "enviados: cada par escreveria os seus por cima dos do outro, e os dois mercados mostrariam "
            "os do último.",
            "This market shares its Shopify catalog (and with it the price list) with another market, "
            "mapped to another ERP company and segment (named above). This pair's prices were not sent: "
            "each pair would write its own over the other's, and both markets would show the last.",
        ),
        (
            "Na Shopify, em Configurações > Mercados, dê a este mercado um catálogo só dele (o app cria a "
            "lista de preços nele), ou ligue os dois mercados ao mesmo par no De:Para segmento / mercado. "
            "A mensagem se fecha sozinha na próxima sincronização.",
            "In Shopify, under Settings > Markets, give this market a catalog of its own (the app makes "
            "the price list in it), or map both markets to the same pair in the segment / market "
            "mapping. The message closes by itself on the next sync.",
        ),
    ),
    "MARKET_CURRENCY": (
        (
            "Este mercado vende em {currency}, e os preços do ERP para a empresa e o segmento ligados a "
            "ele{pair} são em BRL: a Shopify só aceita no mercado uma lista de preços na moeda dele. Nada "
            "foi criado nem enviado a este mercado, que segue com os preços que a Shopify já mostra.",
            "This market sells in {currency}, and the ERP prices of the company and segment mapped to "
            "it{pair} are in BRL: Shopify takes a market's price list only in the market's currency. "
            "Nothing was created or sent to this market; it keeps the prices Shopify already shows.",
        ),
        (
            "Se o mercado deve ter os preços do ERP, mude a moeda dele para BRL em Configurações > "
            "Mercados da Shopify (e retire uma lista de preços em outra moeda); senão, desfaça o De:Para "
            "segmento / mercado dele. A mensagem se fecha sozinha na próxima sincronização.",
            "If the market should have the ERP prices, set its currency to BRL under Settings > Markets "
            "in Shopify (and remove any price list in another currency); otherwise delete its segment / "
            "market mapping. The message closes by itself on the next sync.",
        ),
    ),
    "RECORD_UNREADABLE": (
        (
            "O ERP entregou um registro que a integração não consegue ler (a mensagem do sistema diz "
            "qual registro, o campo e o problema). Todos os outros registros foram enviados; este é "
            "lido de novo a cada execução.",
            "The ERP served a record the integration cannot read (the system's message names the "
            "record, the field and what is wrong with it). Every other record was sent; this one is "
            "read again on every pass.",
        ),
        (
            "Corrija o registro no Consinco (ou, se o campo tem outro nome nesta instalação, avise o "
            "suporte para ajustar CONSINCO_FIELD_MAP): assim que puder ser lido, ele é enviado e a "
            "mensagem se fecha sozinha. Tentar de novo executa o fluxo agora.",
            "Fix the record in Consinco (or, if this installation names the field differently, ask "
            "support to adjust CONSINCO_FIELD_MAP): once it can be read it is sent and the message "
            "closes by itself. Retry runs the flow now.",
        ),
    ),
    "HTTP_401": (
        (
            "A Shopify não aceita mais o token de acesso do app, nem depois de renová-lo (o acesso foi "
            "revogado); nada foi gravado.",
            "Shopify no longer accepts the app's access token, even renewed (its access was revoked); "
            "nothing was written.",
        ),
        (
            "Reinstale o app pelo admin da Shopify (a instalação dá a ele um token novo); depois, clique "
            "em Tentar de novo.",
            "Reinstall the app from the Shopify admin (installing gives it a new token); then click Retry.",
        ),
    ),
    "NEEDS_REAUTH": (
        (
            "A Shopify recusou renovar o acesso do app: até alguém abrir o app, nenhuma chamada à "
            "Shopify é feita; nada foi gravado.",
            "Shopify refused to renew the app's access: until someone opens the app, no call goes to "
            "Shopify; nothing was written.",
        ),
        (
            "Abra o app pelo admin da Shopify (ele se autoriza de novo) ou reinstale-o; depois, clique "
            "em Tentar de novo.",
            "Open the app from the Shopify admin (it authorizes itself again) or reinstall it; then "
            "click Retry.",
        ),
    ),
    "HTTP_403": (
        (
            "A Shopify negou o acesso: falta ao app uma permissão (escopo) que esta chamada exige, ou o "
            "acesso da loja foi restrito; nada foi gravado.",
            "Shopify denied access: the app lacks a permission (scope) this call needs, or the store's "
            "access was restricted; nothing was written.",
        ),
        SCOPES_WHAT_TO_DO,
    ),
    "ACCESS_DENIED": (
        (
            "A Shopify negou o acesso: falta ao app uma permissão (escopo) que esta operação exige (a "
            "mensagem do sistema diz qual); nada foi gravado.",
            "Shopify denied access: the app lacks a permission (scope) this operation needs (the "
            "system's message names it); nothing was written.",
        ),
        SCOPES_WHAT_TO_DO,
    ),
    "FAILED": (
        (
            "Uma operação em lote da Shopify terminou com falha sem dizer por quê; nada dela consta como "
            "aplicado.",
            "A Shopify bulk operation ended failed without saying why; nothing of it is reported applied.",
        ),
        (
            "Clique em Tentar de novo: o lote é enviado outra vez. Se falhar de novo, avise o suporte da "
            "integração com o número desta mensagem.",
            "Click Retry: the batch is sent again. If it fails again, tell the integration's support the "
            "number of this message.",
        ),
    ),
    "NO_PRICE_RECORD": (
        (
            "A empresa e segmento da loja não têm registro de preço para este SKU no ERP (a leitura "
            "completa dos preços deles não o lista, nem a das alterações feitas durante ela); ele fica "
            "fora de venda, sem preço enviado.",
            "The store's company and segment have no price record for this SKU in the ERP (the full "
            "read of their prices does not list it, nor does the read of the changes made during it); "
            "it is off sale, no price sent.",
        ),
        (
            "Cadastre o preço do SKU para a empresa e segmento da loja no ERP (ou confira a empresa e "
            "segmento em Configuração): o SKU volta à venda e esta mensagem se fecha na próxima "
            "sincronização.",
            "Set the SKU's price for the store's company and segment in the ERP (or check the company "
            "and segment under Setup): the SKU goes back on sale and this message closes on the next sync.",
        ),
    ),
    "UNLISTED_HELD": (
        (
            "A leitura completa dos preços da empresa e segmento da loja (feita após mudar a ligação "
            "da loja ou a conexão com o ERP) não listou SKUs que tinham preço antes. Nenhum foi tirado "
            "de venda: são muitos, ou a resposta do ERP não prova que a leitura foi até o fim (ou, "
            "num Tentar de novo, um registro ilegível da nova leitura não diz de qual SKU é). Eles "
            "seguem com o último preço.",
            "The full read of the store's company and segment prices (made after the store link or the "
            "ERP connection moved) did not list SKUs priced before. None was taken off sale: they are "
            "many, or the ERP's answer does not prove the read went to the end (or, on a Retry, an "
            "unreadable record of the new read does not say whose it is). They keep their last price.",
        ),
        (
            "Confira no ERP se os SKUs da mensagem têm preço na empresa e segmento da loja, e se a "
            "empresa e segmento em Configuração estão certos. Se estiverem e esses SKUs não forem "
            "vendidos ali, clique em Tentar de novo: uma nova leitura completa tira de venda os SKUs "
            "desta mensagem que ela ainda não listar; outros que faltarem nela seguem a regra de "
            "sempre (uma nova mensagem os lista para você conferir).",
            "Check in the ERP that the SKUs the message names have a price at the store's company and "
            "segment, and that the company and segment under Setup are right. If they are and these "
            "SKUs are not sold there, click Retry: a new full read takes off sale the SKUs this message "
            "names that it still does not list; any others it misses follow the usual rule (a new "
            "message names them for you to check).",
        ),
    ),
    "STOCK_GONE_HELD": (
        (
            "A leitura completa do estoque de uma empresa (a varredura diária) não listou produtos que "
            "estavam à venda no local dela. Nenhum nível foi zerado: são muitos de uma vez, mais "
            "provável uma leitura incompleta ou uma mudança de configuração no ERP do que produtos com "
            "que a loja deixou de trabalhar. Eles mantêm o nível de antes.",
            "The whole read of a company's stock (the daily sweep) did not list products on sale at its "
            "location. No level was set to 0: they are many at once, more likely a read cut short or a "
            "setup change in the ERP than products the store stopped carrying. They keep their level.",
        ),
        (
            "Confira no ERP se a empresa ainda trabalha com os produtos dos SKUs da mensagem (registros "
            "de estoque em ProdutoEstoque) e se o local da empresa em Configuração está certo. Se a loja "
            "de fato deixou de trabalhar com eles, clique em Tentar de novo: uma nova leitura completa "
            "zera os SKUs desta mensagem que ela ainda não listar; outros que faltarem seguem a regra de "
            "sempre.",
            "Check in the ERP that the company still carries the products of the SKUs the message names "
            "(stock records in ProdutoEstoque) and that the company's location under Setup is right. If "
            "the store indeed stopped carrying them, click Retry: a new whole read sets to 0 the SKUs this "
            "message names that it still does not list; any others missing follow the usual rule.",
        ),
    ),
    "LIST_UNLISTED_HELD": (
        (
            "A leitura completa dos preços do par (empresa e segmento) ligado a um mercado não listou "
            "SKUs cujo preço fixo a lista de preços do mercado tem. Nenhum foi removido da lista: são "
            "muitos, ou a resposta do ERP não prova que a leitura foi até o fim. O mercado segue "
            "vendendo-os pelo preço fixo de antes.",
            "The full read of the prices of the (company, segment) pair mapped to a market did not list "
            "SKUs whose fixed price the market's price list holds. None was removed from the list: they "
            "are many, or the ERP's answer does not prove the read went to the end. The market still "
            "sells them at the fixed price it had.",
        ),
        (
            "Confira no ERP se os SKUs da mensagem têm preço na empresa e segmento do mercado, e o "
            "mapeamento de mercados em De:Para. Se estiverem certos e esses SKUs não forem vendidos ali, "
            "clique em Tentar de novo: uma nova leitura completa remove da lista os SKUs desta mensagem "
            "que ela ainda não listar, e o mercado volta ao preço base para eles.",
            "Check in the ERP that the SKUs the message names have a price at the market's company and "
            "segment, and the market mapping under De:Para. If they are right and these SKUs are not "
            "sold there, click Retry: a new full read removes from the list the SKUs this message names "
            "that it still does not list, and the market falls back to the base price for them.",
        ),
    ),
    "NEVER_PRICED_HELD": (
        (
            "A leitura completa dos preços da empresa e segmento da loja não listou SKUs que têm "
            "variante na Shopify e nunca tiveram preço (a mensagem diz quais): eles ficam a R$ 0,00, fora "
            "de venda, até o ERP ter um registro de preço (TabelaPrecoItem) para eles nessa empresa e "
            "segmento. Ditos aqui todos juntos, não um por mensagem: são muitos, ou a resposta do ERP não "
            "prova que a leitura foi até o fim.",
            "The full read of the store's company and segment prices did not list SKUs that have a "
            "variant in Shopify and were never priced (the message names them): they stay at R$ 0.00, "
            "off sale, until the ERP has a price record (TabelaPrecoItem) for them at that company and "
            "segment. Said here all at once, not one message each: they are many, or the ERP's answer "
            "does not prove the read went to the end.",
        ),
        (
            "Confira a empresa e segmento em Configuração e, no ERP, o preço desses SKUs nessa empresa "
            "e segmento. A mensagem se fecha sozinha quando todos tiverem preço; Tentar de novo lê os "
            "preços da empresa e segmento inteiros outra vez.",
            "Check the company and segment under Setup and, in the ERP, these SKUs' price at that "
            "company and segment. The message closes by itself once they all have a price; Retry "
            "reads the company and segment's prices whole again.",
        ),
    ),
    "MOVED_PACKAGINGS_HELD": (
        (
            "A leitura das alterações do catálogo deixou de listar, de uma vez, muitas embalagens de "
            "produtos alterados no ERP (a mensagem diz quais, e os produtos que sairiam de venda). "
            "Nenhuma foi retirada: são muitas para uma alteração comum, o que indica um problema de "
            "leitura ou de configuração do ERP, e não embalagens que saíram. Elas seguem como estavam, "
            "à venda.",
            "The read of the catalog changes no longer listed, all at once, many packagings of products "
            "changed in the ERP (the message names them, and the products that would leave the sale). "
            "None was retired: they are too many for an ordinary change, more likely an ERP read or "
            "setup problem than packagings gone. They stay as they were, on sale.",
        ),
        (
            "Confira no ERP se as embalagens da mensagem ainda existem (na família do produto) e se o "
            "ERP as entrega para a empresa e segmento da loja. Se elas de fato saíram do ERP, clique em "
            "Tentar de novo: uma sincronização completa retira as embalagens desta mensagem que ela não "
            "listar (variantes mantidas, fora de venda; um produto sem nenhuma ativa sai de venda); "
            "outras que faltarem nela seguem a regra de sempre (uma nova mensagem as lista).",
            "Check in the ERP that the packagings the message names still exist (in the product's "
            "family) and that the ERP serves them for the store's company and segment. If they are "
            "indeed gone from the ERP, click Retry: a full sync retires the packagings this message "
            "names that it does not list (variants kept, off sale; a product left without an active "
            "one leaves the sale); any others it misses follow the usual rule (a new message names "
            "them).",
        ),
    ),
    "UNLISTED_PACKAGINGS_HELD": (
        (
            "A sincronização completa do catálogo não listou embalagens que a loja tem (a mensagem "
            "diz quais, e os produtos que sairiam de venda). Nenhuma foi retirada: são muitas, ou a "
            "resposta do ERP não prova que a leitura foi até o fim (ou, num Tentar de novo, um registro "
            "ilegível da nova leitura não diz de qual produto é). Elas seguem como estavam, à venda.",
            "The full catalog sync did not list packagings the store has (the message names them, and "
            "the products that would leave the sale). None was retired: they are many, or the ERP's "
            "answer does not prove the read went to the end (or, on a Retry, an unreadable record of "
            "the new read does not say whose it is). They stay as they were, on sale.",
        ),
        (
            "Confira no ERP se as embalagens da mensagem ainda existem (na família do produto) e se o "
            "ERP entrega a lista de SKUs inteira. Se elas de fato saíram do ERP, clique em Tentar de "
            "novo: uma nova sincronização completa retira as embalagens desta mensagem que ela ainda "
            "não listar (variantes mantidas, fora de venda; um produto sem nenhuma ativa sai de "
            "venda); outras que faltarem nela seguem a regra de sempre (uma nova mensagem as lista).",
            "Check in the ERP that the packagings the message names still exist (in the product's "
            "family) and that the ERP serves the whole SKU list. If they are indeed gone from the ERP, "
            "click Retry: a new full sync retires the packagings this message names that it still does "
            "not list (variants kept, off sale; a product left without an active one leaves the "
            "sale); any others it misses follow the usual rule (a new message names them).",
        ),
    ),
}

# A code that means another thing in one flow: that flow's own words first, KNOWN_CODES after.
# A cancellation (Shopify -> ERP) refused at picking or once invoiced is not an edit refused, and
# an order linked to an ERP number is not one to resend.
_ORDER_NUMBER_UNKNOWN_PT = (
    "Confira o NROPEDVENDA na tela de Pedidos contra o ERP (pelo número, ou pelo id do canal do pedido)"
)
_ORDER_NUMBER_UNKNOWN_EN = (
    "Check the NROPEDVENDA on the Orders page against the ERP (by that number, or by the order's channel id)"
)
FLOW_CODES: dict[tuple[str, str], tuple[Text, Text]] = {
    ("cancellations", "PEDIDO_EM_SEPARACAO"): (
        (
            "O pedido foi cancelado na Shopify, mas o ERP recusou cancelá-lo porque ele está em separação: "
            "o pedido segue ativo no ERP e seria faturado e entregue.",
            "The order was cancelled in Shopify, but the ERP refused to cancel it because it is being "
            "picked: the ERP order is still live and would be invoiced and delivered.",
        ),
        (
            "Cancele o pedido no ERP (interrompendo a separação) e clique em Tentar de novo: o "
            "cancelamento é confirmado e a mensagem se fecha. Se o ERP o liberar depois da separação, "
            "Tentar de novo também o cancela.",
            "Cancel the order in the ERP (stopping its picking), then click Retry: the cancellation is "
            "confirmed and this message closes. If the ERP lets it go after picking, Retry cancels it "
            "too.",
        ),
    ),
    ("cancellations", "PEDIDO_FATURADO"): (
        (
            "O pedido foi cancelado na Shopify, mas o pedido no ERP já está faturado: a integração não "
            "desfaz uma NF-e, e o pedido segue no ERP.",
            "The order was cancelled in Shopify, but the ERP order is already invoiced: the integration "
            "does not undo an NF-e, so the ERP order stands.",
        ),
        (
            "Cancele a NF-e no ERP (dentro do prazo legal) ou emita a nota de devolução, e acerte o "
            "reembolso com o cliente. Tentar de novo só fecha a mensagem depois que o ERP cancelar o "
            "pedido; após uma nota de devolução, dará a mesma resposta.",
            "Cancel the NF-e in the ERP (within the legal deadline) or issue a return invoice (nota de "
            "devolução), and settle the refund with the customer. Retry closes this message only once "
            "the ERP has cancelled the order; after a return invoice it gets the same answer.",
        ),
    ),
    ("cancellations", "PEDIDO_NAO_ENCONTRADO"): (
        (
            "O pedido foi cancelado na Shopify, mas o ERP não tem pedido com o número ao qual ele está "
            "ligado; nada foi cancelado no ERP.",
            "The order was cancelled in Shopify, but the ERP has no order under the number it is "
            "linked to; nothing was cancelled in the ERP.",
        ),
        (
            f"{_ORDER_NUMBER_UNKNOWN_PT}: se ele estiver lá com outro número, cancele-o no ERP; se não "
            "estiver, não há o que cancelar. Tentar de novo dará a mesma resposta.",
            f"{_ORDER_NUMBER_UNKNOWN_EN}: if it is there under another number, cancel it in the ERP; if "
            "it is not, nothing is left to cancel. Retry gets the same answer.",
        ),
    ),
    ("order_edits", "PEDIDO_NAO_ENCONTRADO"): (
        (
            "O ERP não tem pedido com o número ao qual este pedido da Shopify está ligado; a mudança não "
            "foi aplicada.",
            "The ERP has no order under the number this Shopify order is linked to; the change was not "
            "applied.",
        ),
        (
            f"{_ORDER_NUMBER_UNKNOWN_PT}: se ele estiver lá com outro número, acerte os dois lados à mão; "
            "se foi cancelado ou apagado no ERP e a venda acabou, cancele o pedido na Shopify. Tentar de "
            "novo dará a mesma resposta.",
            f"{_ORDER_NUMBER_UNKNOWN_EN}: if it is there under another number, bring the two sides in "
            "line by hand; if it was cancelled or deleted in the ERP and the sale is off, cancel the "
            "order in Shopify. Retry gets the same answer.",
        ),
    ),
    # jobs.order_edits.to_erp._total_differs: the import's total check (order_map.check_total) on an edit
    ("order_edits", "TAXES_ADDED"): (
        (
            "A loja soma imposto aos preços: com os itens da edição, o total do pedido no ERP ficaria abaixo "
            "do que a Shopify cobra, então a mudança não foi aplicada.",
            "The store adds tax on top of its prices: with the edit's lines the ERP order would total less "
            "than Shopify charges, so the change was not applied.",
        ),
        (
            "O pedido do ERP segue com os itens anteriores. Acerte a diferença à mão no pedido do ERP e "
            "marque esta mensagem como resolvida, ou desfaça a mudança na Shopify (um reembolso não se "
            "desfaz). Tentar de novo dará a mesma resposta enquanto os totais não baterem.",
            "The ERP order keeps its earlier lines. Settle the difference by hand in the ERP order and mark "
            "this message handled, or undo the change in Shopify (a refund cannot be undone). Retry gets "
            "the same answer while the totals differ.",
        ),
    ),
    ("order_edits", "TOTALS_MISMATCH"): (
        (
            "Com os itens da edição, o total do pedido no ERP não bateria com o que a Shopify cobra, então "
            "a mudança não foi aplicada.",
            "With the edit's lines the ERP order's total would not match what Shopify charges, so the "
            "change was not applied.",
        ),
        (
            "Compare os dois totais na mensagem do sistema; o pedido do ERP segue com os itens anteriores. "
            "Acerte a diferença à mão no pedido do ERP e marque esta mensagem como resolvida, ou corrija o "
            "pedido na Shopify por outra edição, que vai no lugar desta. Tentar de novo dará a mesma "
            "resposta enquanto os totais não baterem.",
            "Compare the two totals in the system's message; the ERP order keeps its earlier lines. Settle "
            "the difference by hand in the ERP order and mark this message handled, or fix the order in "
            "Shopify with another edit, which goes instead of this one. Retry gets the same answer while "
            "the totals differ.",
        ),
    ),
    # jobs.old_orders.import_refusal: an order that waited for its payment past the 60 days Shopify
    # lets the app read (not deleted); linking it by hand reads it too, so it is closed as handled
    ("orders", "ORDER_TOO_OLD_TO_READ"): (
        (
            "O pedido tem mais de 60 dias: a Shopify só deixa um app ler pedidos mais antigos com o acesso "
            "read_all_orders, que o app não tem (a Shopify o concede a pedido). O pedido existe (o admin "
            "da Shopify ainda o mostra), mas o app não pode lê-lo para enviá-lo ao ERP, pago ou não.",
            "The order is older than 60 days: Shopify lets an app read older orders only with the "
            "read_all_orders access, which the app lacks (Shopify grants it on request). The order "
            "exists (the Shopify admin still shows it), but the app cannot read it to send it to the "
            "ERP, paid or not.",
        ),
        (
            "Lance o pedido no ERP à mão, a partir do admin da Shopify, e marque esta mensagem como "
            "resolvida citando o número do pedido no ERP: o app nunca mais o envia. Ou peça à Shopify o "
            "acesso read_all_orders e, concedido, clique em Tentar de novo: o pedido vai ao ERP como os "
            "outros.",
            "Enter the order in the ERP by hand, from the Shopify admin, and mark this message as "
            "handled naming the ERP order's number: the app never sends it again. Or ask Shopify for the "
            "read_all_orders access and, once it is granted, click Retry: the order goes to the ERP like "
            "any other.",
        ),
    ),
}
# An order deleted in Shopify: Shopify does not restore it, so nothing more can be written on it.
_ORDER_GONE: tuple[Text, Text] = (
    (
        "O pedido não existe mais na Shopify (foi apagado lá).",
        "The order no longer exists in Shopify (it was deleted there).",
    ),
    (
        "A Shopify não restaura pedidos apagados: esta mudança não tem onde ser gravada, e Tentar de novo "
        "dará a mesma resposta. Acerte o pedido do ERP à mão (cancele-o lá se a venda acabou; uma nota "
        "já emitida pede a nota de devolução).",
        "Shopify does not restore deleted orders: this change has nowhere to go, and Retry gets the "
        "same answer. Settle the ERP order by hand (cancel it there if the sale is off; an invoice "
        "already issued needs a return invoice).",
    ),
)
for _flow in ("invoices", "cancellations", "order_edits"):
    FLOW_CODES[(_flow, "NOT_FOUND")] = _ORDER_GONE

# A cancellation the ERP refused for a reason no code above names (jobs.cancellations.to_erp
# `_refused`): the ERP order is still live, which the error class's text does not say.
CANCEL_REFUSED: tuple[Text, Text] = (
    (
        "O pedido foi cancelado na Shopify, mas o ERP recusou cancelá-lo (as palavras do ERP estão "
        "abaixo): o pedido segue ativo no ERP e seria separado e faturado.",
        "The order was cancelled in Shopify, but the ERP refused to cancel it (the ERP's words are "
        "below): the ERP order is still live and would be picked and invoiced.",
    ),
    (
        "Cancele o pedido no ERP, ou corrija a causa que o ERP cita; depois clique em Tentar de novo: o "
        "cancelamento é confirmado e a mensagem se fecha.",
        "Cancel the order in the ERP, or fix the cause the ERP names; then click Retry: the "
        "cancellation is confirmed and this message closes.",
    ),
)

# The ERP refused the integration's login (erp.errors.ErpAuthError: detail AUTH), whatever the
# login endpoint's codigo (CREDENCIAIS_INVALIDAS in the sandbox, anything in production).
ERP_LOGIN: tuple[Text, Text, Text] = (
    ("Login no ERP recusado", "ERP login refused"),
    (
        "O ERP recusou o usuário ou a senha da integração; nada foi enviado nem lido.",
        "The ERP refused the integration's user or password; nothing was sent or read.",
    ),
    (
        "Em Configuração > Conexão com o ERP, corrija o usuário e a senha e use Testar conexão. Ao "
        "salvar, as mensagens recusadas assim são tentadas de novo; para alguma que restar, clique em "
        "Tentar de novo.",
        "Under Setup > ERP connection, fix the user and password and use Test connection. Saving it "
        "retries the messages refused so; for any left, click Retry.",
    ),
)

# A unit left pending whose job was lost (api_messages.is_stuck): no error, nothing redoes it.
STUCK: tuple[Text, Text, Text] = (
    ("Interrompida", "Interrupted"),
    (
        "O processo que executava esta unidade parou antes de terminar (reiniciado ou encerrado), e "
        "nada a refaz sozinho.",
        "The worker running this unit stopped before finishing (restarted or killed), and nothing "
        "redoes it by itself.",
    ),
    (
        "Clique em Tentar de novo: a unidade é feita outra vez a partir dos dados atuais (o que já "
        "tiver sido feito não se repete).",
        "Click Retry: the unit is done again from the current data (what was already done is not "
        "done twice).",
    ),
)

# A title other than the error class's: these are not a refusal of the target system.
CODE_TITLES: dict[str, Text] = {
    "RETRIES_RAN_OUT": ("Novas tentativas esgotadas", "Automatic retries ran out"),
    "RECORD_UNREADABLE": ("Registro do ERP ilegível", "ERP record the app cannot read"),
    "ORDER_TOO_OLD_TO_READ": ("Pedido antigo demais para o app ler", "Order too old for the app to read"),
    # the app held them itself, for a person: no target refused anything
    "MOVED_PACKAGINGS_HELD": ("Embalagens retidas para uma pessoa", "Packagings held for a person"),
    "UNLISTED_PACKAGINGS_HELD": ("Embalagens retidas para uma pessoa", "Packagings held for a person"),
}
# A refusal of the app's own (system "app"): it stopped the unit, no target refused it.
APP_STOPPED: tuple[Text, Text, Text] = (
    ("Parado pela integração", "Stopped by the integration"),
    (
        "A integração parou esta unidade: enviá-la como está seria errado (a mensagem do sistema diz "
        "por quê).",
        "The integration stopped this unit: sending it as it is would be wrong (the system's message "
        "says why).",
    ),
    (
        "Faça o que a mensagem indica e clique em Tentar de novo.",
        "Do what the message says, then click Retry.",
    ),
)


# Refusals of the app's own checks (nothing reached the target, or the target accepted it): told
# as the app's whatever `system` a message recorded before the jobs raised them so named.
APP_CHECKS = frozenset(
    {
        "BAD_MAPPING",
        "BULK_LINE_TOO_LARGE",
        "CANCEL_NFE_STILL_VALID",
        "COMPANY_NOT_READ",
        "COMPANY_TAX_ID_MISSING",
        "INVALID_TAX_ID",
        "MULTI_COMPANY",
        "HANDLED_IN_SHOPIFY",
        "NO_LINES",
        "POS_SHIP_AND_CARRY",
        "STOCK_FIX_UNFINISHED",
        "TAXES_ADDED",
        "TOTALS_MISMATCH",
        "TRACKING_NFE_UNKNOWN",
        "WEIGHT_ALREADY_ADJUSTED",
    }
)


def _system(detail: dict[str, Any]) -> Any:
    """The system a message's error names: "app" for an APP_CHECKS code, whatever it recorded."""
    return "app" if str(detail.get("code") or "").upper() in APP_CHECKS else detail.get("system")


def stopped_by_app(message: Message) -> bool:
    """Refused by the app's own check (system "app"): no target system refused it, nor saw it. A
    pure read of the row the list already loads (no query), so every list row can say so."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    return message.error_class == ErrorClass.REJECTED.value and _system(detail) == "app"


def known_code(flow: str | None, code: str) -> tuple[Text, Text] | None:
    """The words for `code` in `flow` (FLOW_CODES), else for the code wherever it comes from."""
    code = code.upper()
    return FLOW_CODES.get((flow or "", code)) or KNOWN_CODES.get(code)


def _fill(text: str, detail: dict[str, Any], english: bool) -> str:
    """A known code's text with the pair it names ("{pair}": LIST_NO_PRICE) and the currency
    ("{currency}": MARKET_CURRENCY), when the detail has them."""
    if "{currency}" in text:
        other = "another currency" if english else "outra moeda"
        text = text.replace("{currency}", str(detail.get("currency") or other))
    if "{pair}" not in text:
        return text
    company, segment = detail.get("company"), detail.get("segment")
    if company is None or segment is None:
        return text.replace("{pair}", "")
    pair = (
        f" (company {company}, segment {segment})" if english else f" (empresa {company}, segmento {segment})"
    )
    return text.replace("{pair}", pair)


WAITING_FOR_PAYMENT: tuple[Text, Text] = (
    ("Aguardando pagamento", "Waiting for payment"),
    (
        "Nada a fazer: o pedido é lido de novo até ser pago. Se a venda não vai acontecer, cancele o "
        "pedido na Shopify.",
        "Nothing to do: the order is read again until it is paid. If the sale is off, cancel the "
        "order in Shopify.",
    ),
)
# Partly paid, the rest not coming by itself (jobs.orders: error_detail "unpaid").
REST_UNPAID: Text = (
    "Peça ao comprador que pague o restante (no pedido da Shopify, envie uma fatura / link de "
    "pagamento do valor em aberto); o pedido vai ao ERP sozinho quando estiver pago. Se a venda não "
    "vai acontecer, cancele o pedido na Shopify.",
    "Ask the buyer to pay the rest (from the Shopify order, send an invoice / payment link for the "
    "balance); the order goes to the ERP by itself once it is paid. If the sale is off, cancel the "
    "order in Shopify.",
)

# Unpaid and nearing the end of the 60 days Shopify lets the app read it (jobs.orders: error_detail
# "readable_until", UTC): said after what happened, whatever else the order waits for.
READABLE_UNTIL: Text = (
    " O app não poderá mais ler este pedido depois de {until}: sem o acesso read_all_orders, a "
    "Shopify só deixa um app ler os pedidos dos últimos 60 dias. Se não for pago até lá, ele não vai ao "
    "ERP sozinho: antes disso, marque-o como pago na Shopify ou lance-o no ERP à mão; ou peça à Shopify "
    "o acesso read_all_orders.",
    " The app can no longer read this order after {until}: without the read_all_orders access, "
    "Shopify lets an app read the last 60 days of orders only. Unless it is paid by then, it cannot go "
    "to the ERP by itself: before then, mark it paid in Shopify or enter it in the ERP by hand; or ask "
    "Shopify for the read_all_orders access.",
)
# Unpaid with payment terms (jobs.orders: error_detail "payment_terms"): Shopify took no payment at
# checkout and the buyer pays later, after fulfilment for FULFILLMENT terms, which needs the ERP first.
TERMS_WHAT_TO_DO: Text = (
    "Para enviá-lo ao ERP agora, marque o pedido como pago na Shopify (o ERP o lança na forma de "
    "pagamento do De:Para do gateway manual) ou lance-o no ERP à mão e vincule-o na página Pedidos "
    "(“Vincular ao pedido do ERP”), para a nota, a captura e o envio chegarem à Shopify. Senão, ele vai "
    "ao ERP sozinho quando for pago.",
    "To send it to the ERP now, mark the order as paid in Shopify (the ERP books it under the payment "
    "form mapped for the manual gateway) or enter it in the ERP by hand and link it on the Orders page "
    "(“Link to ERP order”), so its NF-e, capture and fulfilment reach Shopify. Otherwise it goes to the "
    "ERP by itself once it is paid.",
)
# Unpaid by a manual payment method (jobs.orders: error_detail "manual_payment"): maybe paid at the door.
MANUAL_PAYMENT_WHAT_TO_DO: Text = (
    "Se essa forma é paga na entrega (dinheiro ou a maquininha do entregador), inclua-a em Configuração > "
    "“Formas de pagamento na entrega” (pay_on_delivery_gateways): o pedido vai ao ERP sozinho, o valor na "
    "forma de pagamento do De:Para dela. Senão, marque o pedido como pago na Shopify quando for pago.",
    "If that method is paid at delivery (cash or the driver's card machine), add it under Setup > "
    "“Payment methods collected at delivery” (pay_on_delivery_gateways): the order goes to the ERP by "
    "itself, the amount under the payment form mapped to it in De:Para. Otherwise mark the order paid in "
    "Shopify once it is paid.",
)
# Paid with no payment recorded (jobs.order_map.map_payments: parked on payment_method NO_PAYMENT).
NO_PAYMENT_TEXT: tuple[Text, Text] = (
    (
        "A Shopify mostra o pedido como pago, mas não registrou nenhum pagamento (foi criado já pago por "
        "outro app, um conector de marketplace ou uma importação): nenhum gateway indica a forma de "
        "pagamento do ERP. Sem ela, o ERP lançaria uma venda sem pagamento.",
        "Shopify shows the order as paid but recorded no payment (it was created as paid by another "
        "app, a marketplace connector or an import): no gateway names the ERP payment form. Without "
        "one, the ERP would book a sale with no payment.",
    ),
    (
        f"Crie em De:Para > formas de pagamento a linha “{NO_PAYMENT}” com a forma de pagamento do ERP em "
        "que esses pedidos são lançados (a do marketplace, por exemplo); o pedido segue sozinho.",
        f"Under De:Para > payment methods, map “{NO_PAYMENT}” to the ERP payment form such orders are "
        "booked under (the marketplace's, for instance); the order resumes by itself.",
    ),
)

# The stock flow's refusal of an active ERP company with no location (jobs.stock._refuse): in a
# chain most companies are other stores, which the merchant marks not sold here instead.
STOCK_COMPANY_WHAT_TO_DO: Text = (
    "Escolha o local da Shopify dessa empresa em De:Para > Empresa ↔ local (o link abaixo abre com a "
    "empresa preenchida; a tabela de locais da Configuração é a mesma lista); o estoque segue "
    "sozinho. Se esta loja não vende o estoque dessa empresa, marque “Não vendida nesta loja” abaixo "
    "da tabela de locais da Configuração: a mensagem é encerrada e não volta.",
    "Pick the company's Shopify location under Mappings > Company ↔ location (the link below opens "
    "it with the company filled in; Setup's location table is the same list); its stock resumes by "
    "itself. If this store does not sell that company's stock, tick “Not sold in this store” under "
    "Setup's location table: the message is closed and does not come back.",
)

CUSTOM_ITEM = "gid://shopify/LineItem/"  # what an order parks on for a line with no SKU
VARIANT_TEXT: dict[str, tuple[Text, Text]] = {
    "custom": (
        (
            "Uma linha do pedido não tem SKU (item avulso criado na Shopify): o ERP não pode recebê-la.",
            "A line of the order has no SKU (a custom item made in Shopify): the ERP cannot take it.",
        ),
        (
            "Troque-a por um produto do catálogo ou remova-a com uma edição do pedido na Shopify; o "
            "pedido segue sozinho.",
            "Replace it with a catalog product or remove it with an order edit in Shopify; the order "
            "resumes by itself.",
        ),
    ),
    "sku": (
        ("Um SKU ainda não está publicado na Shopify.", "A SKU is not published in Shopify yet."),
        (
            "A mensagem segue sozinha quando a sincronização do catálogo publicar o SKU; confira se o "
            "produto está ativo para o e-commerce no ERP. Se o ERP não tiver esse produto, troque-o ou "
            "remova-o com uma edição do pedido na Shopify.",
            "It resumes by itself once the catalog sync publishes the SKU; check that the product is "
            "active for e-commerce in the ERP. If the ERP has no such product, replace or remove it "
            "with an order edit in Shopify.",
        ),
    ),
    "catalog": (  # a price or a level waiting for its variant (jobs.prices, jobs.stock): no order to edit
        ("Um SKU ainda não está publicado na Shopify.", "A SKU is not published in Shopify yet."),
        (
            "A mensagem segue sozinha quando os fluxos de produtos e SKUs criarem a variante; confira se "
            "o produto está ativo para o e-commerce no ERP.",
            "It resumes by itself once the products and SKUs flows create the variant; check that the "
            "product is active for e-commerce in the ERP.",
        ),
    ),
    "copy": (  # a copy made in Shopify of the app's product: its SKU bound to another variant
        (
            "Um produto do pedido é uma cópia feita na Shopify de um produto que o app publica (mesmo "
            "SKU, outra variante): o ERP não sabe o que ela vende (um kit, outro tamanho), e nenhuma "
            "sincronização do catálogo vai vinculá-la.",
            "A product of the order is a copy made in Shopify of a product the app publishes (the same "
            "SKU, another variant): the ERP cannot tell what it sells (a kit, another size), and no "
            "catalog sync will ever bind it.",
        ),
        (
            "Troque-a pelo produto do catálogo ou remova-a com uma edição do pedido na Shopify; o pedido "
            "segue sozinho. Para vender a cópia, dê a ela um SKU próprio (e ela passa a ser um produto "
            "criado na Shopify) ou apague-a.",
            "Replace it with the catalog product or remove it with an order edit in Shopify; the order "
            "resumes by itself. To keep selling the copy, give it a SKU of its own (it is then a product "
            "made in Shopify) or delete it.",
        ),
    ),
    "shopify": (  # a SKU that is no ERP idSku (P{seq}E{qtd}), or none: a product made in Shopify
        (
            "Um produto do pedido foi criado na Shopify (sacola, embalagem para presente...) e não vem "
            "do ERP: nenhuma sincronização do catálogo vai vinculá-lo.",
            "A product of the order was made in Shopify (a bag, gift wrap...), not published from the "
            "ERP: no catalog sync will ever bind it.",
        ),
        (
            "Troque-o por um produto do catálogo ou remova-o com uma edição do pedido na Shopify; o "
            "pedido segue sozinho. O produto e o SKU estão na mensagem.",
            "Replace it with a catalog product or remove it with an order edit in Shopify; the order "
            "resumes by itself. The message names the product and its SKU.",
        ),
    ),
}


WAIT_FOR_VARIANTS = ("prices", "stock")  # a unit of theirs waiting for a variant waits for the catalog flows


def _variant_case(missing: str, detail: dict[str, Any]) -> str:
    """Which VARIANT_TEXT explains a unit parked on `missing` (the line's SKU, else its id; a copy's
    variant, its line marked `copy` in the detail: jobs.order_map.map_lines)."""
    if missing.startswith(CUSTOM_ITEM):
        return "custom"
    lines = detail.get("lines") if isinstance(detail.get("lines"), list) else []
    if any(isinstance(x, dict) and x.get("copy") and x.get("variant_id") == missing for x in lines):
        return "copy"
    return "sku" if parse_sku(missing) else "shopify"


def _pick(text: Text, english: bool) -> str:
    return text[1] if english else text[0]


def _setting_text(key: str, english: bool) -> tuple[str, str]:
    """An orders setting left empty: every order waits for it, whatever it sells."""
    name = _pick(SETTINGS.get(key, (key, key)), english)
    if english:
        return (
            f"The setting {name} is not configured, and every order waits for it.",
            "Fill it in under Setup (Sales channel and rules); the order resumes by itself.",
        )
    return (
        f"A configuração {name} não está preenchida, e todo pedido espera por ela.",
        "Preencha-a na Configuração (Canal de venda e regras); o pedido segue sozinho.",
    )


def _waiting(detail: dict[str, Any], english: bool) -> dict[str, Any]:
    """An order not paid yet (jobs.orders): pending on purpose, it goes to the ERP by itself."""
    code = detail.get("financial_status")
    status = financial_status(str(code) if code else None, "en" if english else "pt-BR")
    if english:
        happened = (
            f"Shopify shows the order as {status}, not paid yet. It is sent to the ERP by itself once "
            "Shopify marks it paid (or authorized, as the payment setting under Setup says)."
        )
    else:
        happened = (
            f"A Shopify mostra o pedido como {status}, ainda não pago. Ele vai ao ERP sozinho quando a "
            "Shopify o marcar como pago (ou autorizado, conforme a configuração de pagamento)."
        )
    title, todo = WAITING_FOR_PAYMENT
    if detail.get("unpaid"):
        locale = "en" if english else "pt-BR"
        unpaid, total = words.money(detail["unpaid"], locale), words.money(detail.get("total") or "?", locale)
        if english:
            happened = (
                f"Shopify shows the order as {status}, but its payments cover only part of its total "
                f"of {total}: {unpaid} is not paid (a payment failed, or is still pending). Sent now, "
                "the ERP would book the whole order as paid."
            )
        else:
            happened = (
                f"A Shopify mostra o pedido como {status}, mas os pagamentos cobrem só parte do total "
                f"de {total}: {unpaid} não foi pago (um pagamento falhou, ou ainda está pendente). "
                "Enviado agora, o ERP lançaria o pedido todo como pago."
            )
        todo = REST_UNPAID
    elif detail.get("manual_payment") and isinstance(detail["manual_payment"], list):
        names = ", ".join(str(name) for name in detail["manual_payment"])
        happened = _pick(
            (
                f"A Shopify mostra o pedido como {status}: ele é pago por {names}, uma forma de pagamento "
                "manual, e nada foi cobrado online.",
                f"Shopify shows the order as {status}: it is paid by {names}, a manual payment method, and "
                "nothing was taken online.",
            ),
            english,
        )
        todo = MANUAL_PAYMENT_WHAT_TO_DO
    elif detail.get("payment_terms"):
        terms, days = str(detail["payment_terms"]), detail.get("due_in_days")
        due = _terms_due(terms, days, english)
        if english:
            happened = (
                f"Shopify shows the order as {status}: it has payment terms ({terms}: {due}), so no "
                "payment was taken at checkout. Orders go to the ERP once paid."
            )
            if terms == "FULFILLMENT":
                happened += " This one cannot be paid first: the ERP fulfils it only once it has it."
        else:
            happened = (
                f"A Shopify mostra o pedido como {status}: ele tem prazo de pagamento ({terms}: {due}), "
                "então nada foi cobrado no checkout. Os pedidos vão ao ERP quando pagos."
            )
            if terms == "FULFILLMENT":
                happened += " Este não pode ser pago antes: o ERP só o atende depois de recebê-lo."
        todo = TERMS_WHAT_TO_DO
    if detail.get("readable_until"):
        until = words.moment(detail["readable_until"], "en" if english else "pt-BR")
        happened += _pick(READABLE_UNTIL, english).format(until=until)
    return _waits(title, happened, todo, english)


def _waits(title: Text, happened: str, todo: Text, english: bool) -> dict[str, Any]:
    """The explanation of a message pending on purpose (nothing failed: no system, code or mapping)."""
    return {
        "title": _pick(title, english),
        "what_happened": happened,
        "what_to_do": _pick(todo, english),
        "system": None,
        "system_message": None,
        "code": None,
        "mapping": None,
    }


# An order held for its fraud risk (jobs.order_risk: error_detail {"waiting": "risk", ...}).
RISK_HELD_TEXT: tuple[Text, Text] = (
    ("Retido para análise de fraude", "Held for a fraud review"),
    (
        "Revise o pedido na Shopify (a análise de fraude e seus fatos ficam no pedido). Se for fraude, "
        'cancele-o na Shopify: ele nunca vai ao ERP. Se a venda for legítima, use "Enviar ao ERP mesmo '
        'assim" nesta página (operador): o envio fica registrado no histórico com seu nome.',
        "Review the order in Shopify (its fraud analysis and facts are on the order). If it is fraud, "
        'cancel it in Shopify: it never goes to the ERP. If the sale is genuine, use "Send to the ERP '
        'anyway" on this page (operator): the decision is recorded in the history under your name.',
    ),
)
RISK_PENDING_TEXT: tuple[Text, Text] = (
    ("Aguardando a análise de fraude", "Waiting for the fraud analysis"),
    (
        "Nada a fazer: o pedido vai ao ERP sozinho quando a análise terminar sem recomendar retê-lo. Se "
        'ela não terminar (um app de análise parado), revise o pedido e use "Enviar ao ERP mesmo '
        'assim" nesta página (operador).',
        "Nothing to do: the order goes to the ERP by itself once the analysis ends without recommending "
        'to hold it. If it never ends (a fraud app stalled), review the order and use "Send to the ERP '
        'anyway" on this page (operator).',
    ),
)


RISK_AWAITING_APP_TEXT: tuple[Text, Text, Text] = (
    ("Aguardando o app de fraude", "Waiting for the fraud app"),
    (
        "Nenhum app de fraude avaliou este pedido ainda. A configuração de espera pelo app de fraude segura "
        "um pedido por até {minutes} minutos depois do checkout (até {until}), para que um app como "
        "ClearSale ou Konduto o analise antes do ERP, onde ele seria separado e entregue.",
        "No fraud app has assessed this order yet. The fraud app wait setting holds an order up to "
        "{minutes} minutes after its checkout (until {until}), so that an app such as ClearSale or Konduto "
        "analyses it before the ERP, where it would be picked and delivered.",
    ),
    (
        "Nada a fazer: o pedido vai ao ERP sozinho quando a espera acabar, ou antes, quando o app de fraude "
        'der um resultado que não recomende retê-lo. Para enviá-lo já, revise o pedido e use "Enviar ao ERP '
        'mesmo assim" nesta página (operador).',
        "Nothing to do: the order goes to the ERP by itself once the wait ends, or sooner, once the fraud "
        "app's verdict does not recommend holding it. To send it now, review the order and use \"Send to the "
        'ERP anyway" on this page (operator).',
    ),
)


def _risk_held(detail: dict[str, Any], english: bool) -> dict[str, Any]:
    """An order held for its fraud risk: pending on purpose until its recommendation clears or a
    person sends it (shopify_app.api_risk_accept)."""
    locale = "en" if english else "pt-BR"
    found = [risk_assessment(a, locale) for a in detail.get("assessments") or [] if isinstance(a, dict)]
    setting = str(detail.get("setting") or "cancel")
    if awaited := awaiting_app(detail):
        title, happened_text, todo = RISK_AWAITING_APP_TEXT
        said = {"minutes": awaited.get("minutes"), "until": words.moment(awaited["until"], locale)}
        happened = _pick(happened_text, english).format(**said)
    elif detail.get("pending"):
        title, todo = RISK_PENDING_TEXT
        happened = _pick(
            (
                "A análise de fraude deste pedido ainda não terminou ({found}). Um pedido no ERP é separado "
                "e entregue, e não volta atrás: com a configuração de retenção por risco ligada, ele espera "
                "o resultado.",
                "This order's fraud analysis has not finished ({found}). An order in the ERP is picked and "
                "delivered, and cannot be taken back: with the risk hold setting on, it waits for the "
                "verdict.",
            ),
            english,
        ).format(found="; ".join(found) or "Shopify")
    else:
        title, todo = RISK_HELD_TEXT
        verb = {
            "CANCEL": ("cancelar", "cancelling"),
            "INVESTIGATE": ("investigar", "investigating"),
        }.get(str(detail.get("recommendation")), ("cancelar", "cancelling"))
        rule = {
            "cancel": ("os pedidos que ela recomenda cancelar", "orders it recommends cancelling"),
            "investigate": (
                "os pedidos que ela recomenda cancelar ou investigar",
                "orders it recommends cancelling or investigating",
            ),
        }.get(setting, ("os pedidos que ela recomenda cancelar", "orders it recommends cancelling"))
        happened = _pick(
            (
                "A Shopify recomenda {verb} este pedido ({found}). A configuração de retenção por risco "
                "segura {rule} antes do ERP, onde ele seria separado e entregue.",
                "Shopify recommends {verb} this order ({found}). The risk hold setting keeps {rule} from "
                "the ERP, where it would be picked and delivered.",
            ),
            english,
        ).format(verb=_pick(verb, english), found="; ".join(found) or "Shopify", rule=_pick(rule, english))
    return _waits(title, happened, todo, english)


def _terms_due(terms: str, days: Any, english: bool) -> str:
    """When payment terms fall due, in words (PaymentTermsType)."""
    if terms == "NET" and days is not None:
        return f"due {days} days after it was issued" if english else f"vence {days} dias após a emissão"
    words = {
        "FULFILLMENT": ("vence quando o pedido for atendido", "due once the order is fulfilled"),
        "RECEIPT": ("vence no recebimento da fatura", "due on receipt of its invoice"),
        "FIXED": ("vence numa data fixa", "due on a fixed date"),
    }
    return _pick(words.get(terms, ("vence depois", "due later")), english)


def _stuck(english: bool) -> dict[str, Any]:
    title, happened, todo = STUCK
    return {
        "title": _pick(title, english),
        "what_happened": _pick(happened, english),
        "what_to_do": _pick(todo, english),
        "system": None,
        "system_message": None,
        "code": None,
        "mapping": None,
    }


# jobs.catalog_map.barcode_problem's reasons (shopify_app does not import jobs)
SCALE_CODE = "scale_code"
BARCODE_WHY: dict[str, Text] = {
    "check_digit": ("dígito verificador errado", "wrong check digit"),
    "length": ("não tem 8, 12, 13 ou 14 dígitos", "not 8, 12, 13 or 14 digits"),
    "not_digits": ("não é só de dígitos", "not digits only"),
    SCALE_CODE: ("código de balança (PLU) do item pesável", "the weighed item's scale code (PLU)"),
}
BARCODES_NOT_SENT: tuple[Text, Text, Text, Text] = (
    ("Enviado sem código de barras", "Sent without a barcode"),
    (
        "O código do ERP de {skus} não é um GTIN válido (EAN/UPC: 8, 12, 13 ou 14 dígitos com o "
        "dígito verificador certo), então o produto foi à Shopify sem ele como código de barras, em "
        "vez de um código que não lê em leitor nenhum. O resto do produto foi enviado.",
        "The ERP's code of {skus} is not a valid GTIN (EAN/UPC: 8, 12, 13 or 14 digits with the right "
        "check digit), so the product went to Shopify without it as the barcode, rather than with a "
        "code that scans as nothing. The rest of the product was sent.",
    ),
    (
        "Corrija o EAN no ERP (códigos de barras do produto); a próxima passada do catálogo o envia como "
        "código de barras. Busque EAN_INVALID nas mensagens para ver todos os produtos com um.",
        "Correct the EAN in the ERP (the product's barcodes); the next catalog pass sends it as the "
        "barcode. Search the messages for EAN_INVALID to list every product with one.",
    ),
    (
        "Nada a fazer: um código de balança é o código interno do item na loja; o produto é vendido "
        "normalmente.",
        "Nothing to do: a scale code is the item's own code in the store; the product sells as usual.",
    ),
)


def _barcodes_not_sent(message: Message, english: bool) -> dict[str, Any] | None:
    """A catalog product sent without the barcode of some SKU (the note of its request), or None."""
    request = message.request_payload if isinstance(message.request_payload, dict) else {}
    items = request.get("barcodes_not_sent")
    if message.flow not in CATALOG_FLOWS or not isinstance(items, list) or not items:
        return None
    named = [item for item in items if isinstance(item, dict)]
    whys = [_pick(BARCODE_WHY.get(str(item.get("why")), ("?", "?")), english) for item in named]
    skus = ", ".join(
        f"{item.get('id_sku')} ({item.get('ean')}: {why})" for item, why in zip(named, whys, strict=True)
    )
    title, happened, todo, nothing = BARCODES_NOT_SENT
    wrong = any(item.get("why") != SCALE_CODE for item in named)
    return {
        "title": _pick(title, english),
        "what_happened": _pick(happened, english).format(skus=skus),
        "what_to_do": _pick(todo if wrong else nothing, english),
        "system": None,
        "system_message": None,
        "code": "EAN_INVALID" if wrong else None,
        "mapping": None,
    }


def _several_gateways(gateways: list[str], english: bool) -> tuple[str, str]:
    """An order paid through several gateways with no De:Para line (jobs.order_map.map_payments):
    every one named; parked on the first (the link), it resumes and waits on the next still missing."""
    quoted = [f"“{g}”" for g in gateways]
    if english:
        return (
            f"There is no payment method mapping for {', '.join(quoted[:-1])} and {quoted[-1]}.",
            "Create the mapping for each of them (the link opens the first); the message resumes "
            "by itself once they all exist.",
        )
    return (
        f"Não há De:Para de forma de pagamento para {', '.join(quoted[:-1])} e {quoted[-1]}.",
        "Crie o De:Para de cada uma (o link abre o da primeira); a mensagem segue sozinha assim que "
        "todos existirem.",
    )


def _link(mapping: dict[str, Any]) -> dict[str, Any]:
    """The link to the missing De:Para line, with the side of the line its code is on
    (`ledger.mappings.code_side`): the page fills in that side, a stock flow's company number
    going in the company field, never in the location field."""
    kind, code = mapping.get("kind"), mapping.get("code")
    return {"kind": kind, "code": code, "side": code_side(str(kind), str(code))}


def explain(
    message: Message, locale: str, reveal: bool = False, *, stuck: bool = False, can_operate: bool = True
) -> dict[str, Any] | None:
    """The explanation block of the Messages detail view; None when the message has no error and
    waits for nothing. The system's own words are masked like the error text unless `reveal`
    (admins). `stuck`: the unit was left pending and its job lost (api_messages.is_stuck, which
    asks RQ: not a pure function of the message). `can_operate`: the reader's role shows Retry,
    Replay and Mark as handled; a viewer's what-to-do says whom to ask instead (role_words)."""
    explanation = _explain(message, locale, reveal, stuck=stuck)
    if explanation is not None and not can_operate and explanation.get("what_to_do"):
        explanation["what_to_do"] = for_viewer(explanation["what_to_do"], locale == "en")
    return explanation


def _explain(message: Message, locale: str, reveal: bool, *, stuck: bool) -> dict[str, Any] | None:
    english = locale == "en"
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    if trace.is_waiting(message) and detail.get("waiting") == "payment":
        return _waiting(detail, english)
    if held_for_risk(message):
        return _risk_held(detail, english)
    if stuck and message.status == MessageStatus.PENDING.value:
        return _stuck(english)
    if not message.error_class:
        return _barcodes_not_sent(message, english)
    title, happened, todo = CLASS_TEXT.get(message.error_class, CLASS_TEXT[ErrorClass.BUG.value])
    system = _system(detail)
    if stopped_by_app(message):
        title, happened, todo = APP_STOPPED
    what_happened, what_to_do = _pick(happened, english), _pick(todo, english)
    code = detail.get("code")
    code = str(code) if code is not None else None
    known = known_code(message.flow, code) if code else None
    mapping = detail.get("mapping") if isinstance(detail.get("mapping"), dict) else None
    if mapping is not None and str(mapping.get("kind")) not in MAPPING_KINDS:
        # Not a De:Para the merchant creates (a setting filled in under Setup, a SKU the catalog
        # publishes, a custom item an order edit replaces): no mapping link, the job's own words
        # kept beside the explanation. Another kind keeps the error class's text.
        kind, missing = str(mapping.get("kind")), str(mapping.get("code"))
        if kind == SETTING:
            what_happened, what_to_do = _setting_text(missing, english)
        elif kind == VARIANT:
            case = "catalog" if message.flow in WAIT_FOR_VARIANTS else _variant_case(missing, detail)
            happened_kind, todo_kind = VARIANT_TEXT[case]
            what_happened, what_to_do = _pick(happened_kind, english), _pick(todo_kind, english)
        mapping = None
    elif mapping is not None:
        kind, missing = str(mapping.get("kind")), str(mapping.get("code"))
        kind_name = _pick(MAPPING_KINDS.get(kind, (kind, kind)), english)
        if english:
            what_happened = f"There is no {kind_name} mapping for “{missing}”."
        else:
            what_happened = f"Não há De:Para de {kind_name} para “{missing}”."
        if kind == "payment_method" and gateway_key(missing) == gateway_key(NO_PAYMENT):
            happened_kind, todo_kind = NO_PAYMENT_TEXT
            what_happened, what_to_do = _pick(happened_kind, english), _pick(todo_kind, english)
        gateways = detail.get("gateways")
        if kind == "payment_method" and isinstance(gateways, list) and len(gateways) > 1:
            what_happened, what_to_do = _several_gateways([str(g) for g in gateways], english)
        if kind == "location" and message.flow == "stock" and missing.isdigit():
            what_to_do = _pick(STOCK_COMPANY_WHAT_TO_DO, english)
        if kind in SETUP_KINDS:
            what_happened = (  # not a De:Para line for the shop's own id ("no ERP connection for “1”")
                f"The {kind_name} step of Setup is not done yet; the flow waits for it."
                if english
                else f"A etapa {kind_name} da Configuração ainda não foi feita; o fluxo espera por ela."
            )
            what_to_do = (
                f"Complete the {kind_name} step in Setup; the message resumes by itself."
                if english
                else f"Complete a etapa {kind_name} na Configuração; a mensagem segue sozinha."
            )
            mapping = None  # filled in under Setup: the De:Para page has no such line to create
    elif detail.get(AUTH):  # a refused ERP login, whatever its codigo
        title, happened, todo = ERP_LOGIN
        what_happened, what_to_do = _pick(happened, english), _pick(todo, english)
    elif known is not None:
        happened_code, todo_code = known
        what_happened = _fill(_pick(happened_code, english), detail, english)
        what_to_do = _fill(_pick(todo_code, english), detail, english)
        title = CODE_TITLES.get(code.upper(), title) if code else title
    elif (
        message.flow == "cancellations"
        and message.direction == SHOPIFY_TO_ERP
        and message.error_class == ErrorClass.REJECTED.value
        and system == "consinco"
    ):
        happened_code, todo_code = CANCEL_REFUSED
        what_happened, what_to_do = _pick(happened_code, english), _pick(todo_code, english)
    # the failure's words in the page's language when it has them (shopify_app.fail_words), else as
    # the target or the app wrote them
    typed = typed_tax_ids(message.error_detail)  # a mistyped CPF/CNPJ it quotes, any length
    own_words = (
        None
        if mapping is not None
        else mask_text(fail_reason(message, locale) or message.error_text, reveal, typed)
    )
    return {
        "title": _pick(title, english),
        "what_happened": what_happened,
        "what_to_do": what_to_do,
        "system": str(system) if system else None,
        "system_message": own_words,
        "code": code,
        "mapping": _link(mapping) if mapping else None,
    }
