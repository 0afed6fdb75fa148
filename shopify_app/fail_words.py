"""Why a unit failed, is parked or is retrying, in the merchant's words (pt-BR and en).

A classified failure (ledger.errors.IntegrationError) may carry its words beside its English
message; ledger.trace.fail keeps them in the message's error detail (trace.FAIL: {"key": ...,
"params": {...}}) and error_text keeps the English. The pages (the Messages list and detail, an
order's "needs attention" notes) say them in the request's locale from FAILURES: this catalogue's
own keys (an order's import parked or refused by the app's own checks) and those the jobs already
give their failures for the other texts (run_words: the ERP unreachable, the catalog busy;
note_words: an ERP event's refusal; dry_run_words: an unreadable ERP record). A failure with no
words (a bug's, the ERP's own refusal, a row older than them) or with a key FAILURES lacks reads as
its error_text. Params are ids, names, numbers and amounts ({"money": ...}), never English text.
"""

from __future__ import annotations

from typing import Any

from ledger import trace
from ledger.models import Message, MessageStatus
from shopify_app import dry_run_words, note_words, run_words
from shopify_app import words as rendering
from shopify_app.words import Text

WORDS: dict[str, Text] = {
    # a setup step not done yet (MappingMissing of the store link, the ERP connection: ledger.mappings,
    # erp.factory); a company with no location (jobs.stock); a price waiting for its variant (jobs.prices);
    # a market gone from Shopify (jobs.price_list_setup)
    "store_link_missing": (
        "esta loja ainda não está vinculada a uma empresa e um segmento do ERP: vincule-a na Configuração",
        "this store is not linked to an ERP company and segment yet: link it under Setup",
    ),
    "erp_connection_missing": (
        "esta loja não tem conexão com o ERP: informe a URL, o usuário e a senha do Consinco na página de "
        "Configuração (ou defina {user} e {password} para a demonstração)",
        "this store has no ERP connection: enter the Consinco URL, user and password on the setup page (or "
        "set {user} and {password} for the demo)",
    ),
    "stock_company_unmapped": (
        "a empresa {company} do ERP não tem local da Shopify vinculado: o estoque dela não é enviado até "
        "a empresa ser vinculada a um local (ou, se esta loja não a vende, marcada como não vendida nesta "
        "loja na Configuração)",
        "ERP company {company} has no Shopify location mapped: its stock is not sent until the company "
        "is mapped to a location (or, if this store does not sell it, marked not sold in this store under "
        "Setup)",
    ),
    "price_variant_missing": (
        "o(s) SKU(s) {skus} ainda não tem(têm) variante na Shopify: recebem preço quando os fluxos de "
        "produtos/SKUs os criarem",
        "SKU(s) {skus} have no Shopify variant yet: priced once the products/SKUs flows create them",
    ),
    "price_catalog_first_load": (
        "{count} SKU(s) aguardam a primeira carga do catálogo da loja: recebem preço quando os fluxos de "
        "produtos/SKUs os criarem",
        "{count} SKU(s) wait for the shop's first catalog load: priced once the products/SKUs flows create "
        "them",
    ),
    "list_market_missing": (
        "o mercado {market} não existe na Shopify",
        "market {market} does not exist in Shopify",
    ),
    "list_market_gone": (
        "o mercado {market} não existe na Shopify (excluído?): a lista de preços {list} dele não recebe mais "
        "preços; vincule o par a outro mercado ou remova o vínculo",
        "market {market} does not exist in Shopify (deleted?): its price list {list} gets no more prices; "
        "map the pair to another market, or remove the mapping",
    ),
    # a webhook delivery whose body could not be read (shopify_app.api_jobs: an inbox row `rejected`)
    "webhook_unreadable": (
        "A Shopify enviou um webhook {topic} cujo conteúdo não pôde ser lido (não é JSON): nada foi feito "
        "com ele, e uma nova tentativa leria o mesmo. Um pedido de que ele tratava é importado pela "
        "conciliação; descarte-o depois de conferir",
        "Shopify sent a {topic} webhook whose body could not be read (not JSON): nothing was done with it, "
        "and a retry would read the same. An order it was about is imported by the reconciliation; dismiss "
        "it once checked",
    ),
    # the reasons the app writes on a failed webhook inbox row (ledger.queues.INBOX_ENDED, INBOX_EXHAUSTED)
    "webhook_job_ended": (
        "o job {job} terminou ({status}) no RQ sem registrar um resultado (um worker encerrado, ou o banco "
        "de dados fora do ar em todas as tentativas): reenfileire-o nos jobs com falha",
        "its job {job} ended {status} in RQ without recording an outcome (a worker killed, or the database "
        "down through every retry): requeue it from the failed jobs",
    ),
    "webhook_retries_exhausted": (
        "falha temporária, tentativas esgotadas: {message}",
        "transient, retries exhausted: {message}",
    ),
    # a product whose productSet answer lacks packagings sent (jobs.catalog_load.unanswered)
    "catalog_variants_not_made": (
        "A Shopify aceitou o produto {product}, mas não criou variante para a(s) embalagem(ns) {skus}: "
        "confira as variantes do produto no admin da Shopify e tente de novo",
        "Shopify took product {product} but made no variant for packaging(s) {skus}: check the product's "
        "variants in the Shopify admin, then retry",
    ),
    # a product whose weighed packaging is not its KG packaging of quantity 1, held out of the sale
    # (jobs.catalog_ledger.held_error); {skus}: each with its quantity in kg
    "catalog_weighed_packaging_not_kg": (
        "Produto {product}: a(s) embalagem(ns) pesável(is) {skus} não é(são) vendida(s) na Shopify: um "
        "produto pesável é vendido pela embalagem KG de quantidade 1 (uma unidade = 1 kg, o preço por kg), "
        "e estas venderiam outro peso como 1 kg. No ERP, venda-o "
        "pela embalagem KG de quantidade 1 (ou faça a família não pesável) e tente de novo",
        "Product {product}: weighed packaging(s) {skus} not sold in Shopify: a weighed product is sold by "
        "its KG packaging of quantity 1 (one unit = 1 kg, the price per kg), and these would sell another "
        "weight as 1 kg. In the ERP, sell it by the KG packaging of "
        "quantity 1 (or make the family not weighed), then retry",
    ),
    # a replay RQ gave up on, the message still retrying (ledger.trace.retries_ran_out); {last}: the
    # last failure's line as it came (its own words would say it is tried again later)
    "retries_ran_out": (
        "As novas tentativas automáticas se esgotaram: todas falharam e nada mais a tenta sozinho. O "
        "último erro: {last}",
        "The automatic retries ran out: every retry failed and nothing runs this again by itself. The "
        "last error: {last}",
    ),
    # an order held for its fraud risk (jobs.order_risk.words): its note on the Orders page
    "order_risk_cancel": (
        "retido para análise de fraude: a Shopify recomenda cancelar o pedido (avaliado por {providers}); "
        'revise-o e cancele-o na Shopify ou use "Enviar ao ERP mesmo assim" na mensagem',
        "held for a fraud review: Shopify recommends cancelling the order (assessed by {providers}); review "
        'it, then cancel it in Shopify or use "Send to the ERP anyway" on its message',
    ),
    "order_risk_investigate": (
        "retido para análise de fraude: a Shopify recomenda investigar o pedido (avaliado por {providers}); "
        'revise-o e cancele-o na Shopify ou use "Enviar ao ERP mesmo assim" na mensagem',
        "held for a fraud review: Shopify recommends investigating the order (assessed by {providers}); "
        'review it, then cancel it in Shopify or use "Send to the ERP anyway" on its message',
    ),
    "order_risk_awaiting_app": (
        "retido por até {minutes} minutos depois do checkout esperando a análise do app de fraude; vai ao "
        "ERP sozinho quando a espera acabar ou o app liberar",
        "held up to {minutes} minutes after its checkout for the fraud app's analysis; it goes to the ERP "
        "by itself once the wait ends or the app clears it",
    ),
    "order_risk_pending": (
        "retido enquanto a análise de fraude não termina ({providers}); vai ao ERP sozinho depois dela",
        "held while its fraud analysis runs ({providers}); it goes to the ERP by itself after it",
    ),
    # an order's lines the ERP cannot sell (jobs.order_map.map_lines): parked on the first
    "order_lines_held": ("pedido {order}: {why}", "order {order}: {why}"),
    "lines_unbound": (
        "nenhum SKU do ERP vinculado a {lines} ainda; o pedido segue assim que a sincronização do catálogo "
        "o vincular (se o ERP não tem esse produto ativo para e-commerce, troque ou remova o item por uma "
        "edição do pedido)",
        "no ERP SKU bound to {lines} yet; it resumes once the catalog sync binds it (if the ERP has no such "
        "product active for e-commerce, replace or remove the line by an order edit)",
    ),
    "line_without_sku": ("{name} (sem SKU)", "{name} (SKU none)"),  # the English as _missing_text writes it
    "totals_figures": (
        "o pedido no ERP totalizaria {erp_total} (mercadorias {goods} + frete {freight}), mas a Shopify "
        "cobra {expected} (total atual {shopify_total}{less})",
        "the ERP order would total {erp_total} (goods {goods} + freight {freight}) but Shopify charges "
        "{expected} (current total {shopify_total}{less})",
    ),
    "less_tips": (" menos gorjetas {value}", " less tips {value}"),
    "less_gift_cards": (" menos vales-presente vendidos {value}", " less gift cards sold {value}"),
    "totals_mismatch": (
        "pedido {order}: {figures}; ele não é enviado ao ERP com valor a menor",
        "order {order}: {figures}; it is not sent short",
    ),
    "taxes_added": (
        "pedido {order}: {figures}: a loja soma {tax} de imposto por cima dos preços (impostos incluídos: "
        "não). Os preços no Brasil já incluem seus impostos e o ERP os calcula na NF-e, então o pedido não "
        "é enviado com valor a menor. Este pedido mantém o imposto que foi cobrado: lance-o no ERP à mão, "
        "ou cancele-o; e configure os preços da loja para incluir impostos, para os próximos pedidos "
        "entrarem",
        "order {order}: {figures}: the store adds {tax} of tax on top of the prices (taxes included: no). "
        "Brazilian prices include their taxes and the ERP computes them on the NF-e, so the order is not "
        "sent short. This order keeps the tax it was charged: enter it in the ERP by hand, or cancel it; "
        "and set the store's prices to include tax so later orders come in",
    ),
    "lines_made_in_shopify": (
        "{lines} {was} criado(s) na Shopify, não publicado(s) do ERP (sem idSku do ERP P{{seq}}E{{qtd}}), "
        "então nenhuma sincronização do catálogo vai vinculá-lo(s) e o ERP não pode vendê-lo(s); troque por "
        "um produto do catálogo (ou remova) por uma edição do pedido e o pedido segue",
        "{lines} {was} made in Shopify, not published from the ERP (no ERP idSku P{{seq}}E{{qtd}}), so no "
        "catalog sync will bind it and the ERP cannot sell it; replace it with a catalog product (or remove "
        "it) by an order edit and the order resumes",
    ),
    "lines_copied": (
        "{lines} é uma cópia feita na Shopify do produto que o app publica para esse SKU do ERP (sua "
        "variante é outra), então o ERP não sabe o que ela vende (um kit, outro tamanho) e nenhuma "
        "sincronização do catálogo vai vinculá-la; troque-a pelo produto do catálogo (ou remova-a) por uma "
        "edição do pedido e o pedido segue",
        "{lines} is a copy made in Shopify of the product the app publishes for that ERP SKU (its variant "
        "is another), so the ERP cannot tell what it sells (a kit, another size) and no catalog sync will "
        "bind it; replace it with the catalog product (or remove it) by an order edit and the order resumes",
    ),
    "was": ("foi", "was"),
    "were": ("foram", "were"),
    "lines_custom": (
        "o item personalizado {lines} não tem SKU nem variante de produto, então o ERP não pode vendê-lo; "
        "troque-o por um produto do catálogo (ou remova-o) por uma edição do pedido e o pedido segue",
        "custom item {lines} has no SKU and no product variant, so the ERP cannot sell it; replace it with "
        "a catalog product (or remove it) by an order edit and the order resumes",
    ),
    "lines_tip_unmatched": (
        "a gorjeta do pedido, de {tip}, não é formada por nenhum conjunto de seus itens sem variante, então "
        "nenhum deles é tomado como a gorjeta",
        "the order's tip of {tip} is made up by no set of its lines without a variant, so none of them is "
        "taken as the tip",
    ),
    "order_no_lines": (
        "o pedido {order} não tem mais nenhum item a enviar",
        "order {order} has no line left to send",
    ),
    # payment forms and carriers (jobs.order_map): parked until the De:Para line exists
    "payment_unmapped_none": (
        "pedido {order}: a Shopify o mostra como {status}, mas não registrou nenhum pagamento dos seus "
        "{total} (criado como pago por outro app, um conector de marketplace ou uma importação), então "
        "nenhum gateway indica a forma de pagamento do ERP; mapeie '{none}' em De:Para > formas de pagamento "
        "para a forma em que esses pedidos são lançados e o pedido segue sozinho",
        "order {order}: Shopify shows it {status} but recorded no payment for its {total} (created as paid "
        "by another app, a marketplace connector or an import), so no gateway names its ERP payment form; "
        "map '{none}' under De:Para > payment methods to the form such orders are booked under and the order "
        "resumes by itself",
    ),
    # a reconciliation whose sections could not all be read (jobs.reconcile._incomplete): {sections}
    # the failed ones joined, each with its error's words (the failure's own, else its text as it came)
    "reconcile_incomplete": ("conciliação incompleta: {sections}", "reconciliation incomplete: {sections}"),
    "reconcile_incomplete_orders": ("pedidos: {said}", "orders: {said}"),
    "reconcile_incomplete_stock": ("estoque: {said}", "stock: {said}"),
    "reconcile_incomplete_catalog": ("catálogo: {said}", "catalog: {said}"),
    "payment_unmapped_one": (
        "pedido {order}: o gateway de pagamento '{gateway}' não tem forma de pagamento do ERP; mapeie-o em "
        "De:Para > formas de pagamento e o pedido segue sozinho",
        "order {order}: payment gateway '{gateway}' has no ERP payment form; map it under De:Para > payment "
        "methods and the order resumes by itself",
    ),
    # an order's card data (jobs.card_payments) parked on a card brand / a gateway with no De:Para line
    "card_brand_unmapped": (
        "pedido {nro} do ERP: as bandeiras de cartão {brands} não têm código do ERP (codBandeira); mapeie-as "
        "em De:Para > bandeiras de cartão e os dados do cartão seguem sozinhos",
        "ERP order {nro}: card brands {brands} have no ERP code (codBandeira); map them under De:Para > card "
        "brands and the card data goes on by itself",
    ),
    "card_network_unmapped": (
        "pedido {nro} do ERP: os gateways {gateways} não têm rede adquirente do ERP (codRede); mapeie-os em "
        "De:Para > redes adquirentes e os dados do cartão seguem sozinhos",
        "ERP order {nro}: gateways {gateways} have no ERP card network (codRede); map them under De:Para > "
        "card networks and the card data goes on by itself",
    ),
    "payment_unmapped_many": (
        "pedido {order}: os gateways de pagamento {gateways} não têm forma de pagamento do ERP; mapeie cada "
        "um em De:Para > formas de pagamento e o pedido segue sozinho quando todos estiverem",
        "order {order}: payment gateways {gateways} have no ERP payment form; map each under De:Para > "
        "payment methods and the order resumes by itself once they all are",
    ),
    "carrier_unmapped": (
        "pedido {order}: a forma de envio '{method}' não tem transportadora do ERP; a loja mapeia "
        "transportadoras, então mapeie-a em De:Para > transportadoras e o pedido segue sozinho",
        "order {order}: shipping method '{method}' has no ERP carrier; the store maps carriers, so map it "
        "under De:Para > carriers and the order resumes by itself",
    ),
    # the buyer's document (jobs.order_customer.validate_tax_id): refused by the app's own check
    "tax_id_invalid": ("CPF/CNPJ '{value}' inválido: {rule}", "CPF/CNPJ '{value}' is invalid: {rule}"),
    "tax_id_invalid_empty": ("CPF/CNPJ (vazio) inválido: {rule}", "CPF/CNPJ '(empty)' is invalid: {rule}"),
    "tax_id_none": (
        "o pedido não traz CPF/CNPJ (localizedFields TAX_CREDENTIAL_BR)",
        "the order carries no CPF/CNPJ (localizedFields TAX_CREDENTIAL_BR)",
    ),
    "cpf_digits_only": ("um CPF tem só 11 dígitos", "a CPF has 11 digits only"),
    "cpf_repeated": (
        "um CPF feito de um só dígito repetido não é válido",
        "a CPF made of one repeated digit is not valid",
    ),
    "cpf_check_digits": (
        "os dígitos verificadores do CPF (módulo 11) não conferem",
        "CPF check digits (modulo 11) do not match",
    ),
    "cnpj_shape": (
        "um CNPJ tem 12 caracteres [0-9A-Z] e depois 2 dígitos verificadores",
        "a CNPJ has 12 characters [0-9A-Z] then 2 check digits",
    ),
    "cnpj_repeated": (
        "um CNPJ feito de um só dígito repetido não é válido",
        "a CNPJ made of one repeated digit is not valid",
    ),
    "cnpj_check_digits": (
        "os dígitos verificadores do CNPJ (módulo 11) não conferem",
        "CNPJ check digits (modulo 11) do not match",
    ),
    "tax_id_length": (
        "um CPF tem 11 dígitos e um CNPJ 14 caracteres; este tem {length}",
        "a CPF has 11 digits and a CNPJ 14 characters; this has {length}",
    ),
    # a B2B order's company with no valid CNPJ (jobs.order_customer.CompanyTaxIdMissing): {rule} the
    # location's, {typed} the checkout's
    "company_tax_id_missing": (
        "pedido B2B da empresa '{company}', local '{location}': {rule}, e {typed}. O cliente no ERP de um "
        "pedido B2B é a empresa, então ele não é enviado com outro documento; preencha o CNPJ do local na "
        "Shopify (Clientes > Empresas > {company} > {location} > Configurações de impostos (ID de registro "
        "fiscal)) e depois clique em Tentar de novo",
        "B2B order of company '{company}', location '{location}': {rule}, and {typed}. The ERP customer of a "
        "B2B order is the company, so it is not sent under another document; fill in the location's CNPJ in "
        "Shopify (Customers > Companies > {company} > {location} > Tax settings (tax registration ID)), then "
        "click Retry",
    ),
    "company_location_no_tax_id": (
        "o local não tem ID de registro fiscal (seu CNPJ) na Shopify",
        "the location has no tax registration ID (its CNPJ) in Shopify",
    ),
    "company_location_tax_id_invalid": (
        "o ID de registro fiscal do local '{value}' não é um CNPJ válido ({rule})",
        "the location's tax registration ID '{value}' is not a valid CNPJ ({rule})",
    ),
    "company_location_tax_id_cpf": (
        "o ID de registro fiscal do local '{value}' é um CPF, não um CNPJ",
        "the location's tax registration ID '{value}' is a CPF, not a CNPJ",
    ),
    "checkout_no_cnpj": ("o checkout também não trouxe CNPJ", "the checkout gave no CNPJ either"),
    "checkout_tax_id_invalid": (
        "o CPF/CNPJ digitado no checkout '{typed}' é inválido ({rule})",
        "the CPF/CNPJ typed at checkout '{typed}' is invalid ({rule})",
    ),
    "checkout_tax_id_cpf": (
        "o documento digitado no checkout '{typed}' é um CPF (do contato, não da empresa)",
        "the document typed at checkout '{typed}' is a CPF (the contact's, not the company's)",
    ),
    # an order whose lines ship from several ERP companies (jobs.order_lookup.refuse_several_companies)
    "multi_company": (
        "o pedido {order} sai de {count} empresas do ERP: {companies}",
        "order {order} ships from {count} ERP companies: {companies}",
    ),
    "multi_company_part": (
        "empresa {company} (local {location}): {lines}",
        "company {company} (location {location}): {lines}",
    ),
    "multi_company_line_no_sku": ("(sem SKU) ({name}) x{quantity}", "(no SKU) ({name}) x{quantity}"),  # with
    # a SKU a line is its data alone: "{sku} ({name}) x{quantity}"
    # a POS sale handing part over at the counter, shipping the rest (order_kinds.refuse_ship_and_carry)
    "pos_ship_and_carry": (
        "o pedido {order} foi vendido no caixa de {location} (Shopify POS): parte dele foi entregue no "
        "balcão (a NFC-e emitida lá) e o resto será enviado ao cliente; o app não envia parte de um pedido "
        "ao ERP, e o pedido inteiro faturaria e baixaria do estoque uma segunda vez o que foi entregue",
        "order {order} was sold at the register of {location} (Shopify POS): part of it was handed over at "
        "the counter (its NFC-e issued there) and the rest is to be shipped to the customer; the app sends "
        "no part of an order to the ERP, and the whole would invoice and take the stock of what was handed "
        "over a second time",
    ),
    # an order the store handled in Shopify before it reached the ERP (order_kinds.refuse_handled_in_shopify)
    "order_fulfilled_in_shopify": (
        "o pedido {order} foi processado na Shopify antes de chegar ao ERP (a loja o atendeu por lá): ele "
        "não é enviado, pois o ERP o separaria e faturaria uma segunda vez; se o ERP não tem essa venda, "
        "lance-a lá à mão",
        "order {order} was fulfilled in Shopify before it reached the ERP (the store handled it there): it "
        "is not sent, as the ERP would pick and invoice it a second time; if the ERP lacks this sale, enter "
        "it there by hand",
    ),
    # the order as Shopify and the settings give it (jobs.orders, jobs.order_lookup)
    "shopify_order_not_found": ("A Shopify não tem o pedido {order}", "Shopify has no order {order}"),
    # ...an order that waited for its payment past the 60 days Shopify lets the app read (jobs.old_orders)
    "order_too_old_to_import": (
        "A Shopify não deixa mais o app ler o pedido {order}: ele tem mais de 60 dias e o app não tem o "
        "acesso read_all_orders (a Shopify o concede a pedido), então ele não vai ao ERP sozinho. Lance-o "
        "no ERP à mão e marque esta mensagem como resolvida; ou peça à Shopify o acesso read_all_orders e "
        "clique em Tentar de novo quando ele for concedido",
        "Shopify no longer lets the app read order {order}: it is older than 60 days and the app lacks the "
        "read_all_orders access (Shopify grants it on request), so it cannot go to the ERP by itself. Enter "
        "it in the ERP by hand and mark this message as handled; or ask Shopify for read_all_orders and "
        "click Retry once it is granted",
    ),
    "setting_sales_channel_missing": (
        "configure o canal de venda (seqCanalVenda) em Configuração: os pedidos esperam por ele",
        "configure the sales channel (seqCanalVenda) under Settings: orders wait for it",
    ),
    "setting_fiscal_operation_missing": (
        "configure o código da operação fiscal (codGeralOper) em Configuração: os pedidos esperam por ele",
        "configure the fiscal operation code (codGeralOper) under Settings: orders wait for it",
    ),
    "location_unmapped": (
        "o pedido sai do local {location}, que não está mapeado a nenhuma empresa do ERP, e a loja não "
        "está vinculada a nenhuma empresa: mapeie o local (ou vincule a loja)",
        "the order ships from location {location}, which no ERP company is mapped to, and the store is "
        "linked to no company: map the location (or link the store)",
    ),
    # packagings a catalog read no longer listed, held for a person (jobs.catalog_unlisted): the skus
    # pass's (MOVED_PACKAGINGS_HELD) and the full sync's (UNLISTED_PACKAGINGS_HELD); {why}: the held
    # reason's words (dry_run_words), {named}: held_sku_of_product parts, {more}: held_more
    "moved_held": (
        "A leitura das alterações do catálogo (ProdutoSku) deixou de listar {count} embalagem(ns) de "
        "{products} produto(s) alterado(s) no ERP ({named}{more}); nenhuma foi retirada, elas seguem como "
        "estavam: {why}. Retirada, cada uma ficaria como variante inativa, fora de venda, com o estoque "
        "zerado{leaving}. Confira no ERP se as embalagens desses produtos ainda existem (a família, "
        "MAP_FAMEMBALAGEM) e se o ProdutoSku as entrega para a empresa e segmento da loja. Se de fato "
        "saíram, use Tentar de novo: uma leitura completa do catálogo retira as que ela ainda não "
        "listar.{earlier}",
        "The skus pass's read of the catalog changes (ProdutoSku) no longer listed {count} packaging(s) of "
        "{products} product(s) changed in the ERP ({named}{more}); none was retired, they stay as they "
        "were: {why}. Retired, each would be kept as an inactive variant, off sale, its stock "
        "zeroed{leaving}. Check in the ERP that these products' packagings still exist (their family, "
        "MAP_FAMEMBALAGEM) and that ProdutoSku serves them for the store's company and segment. If they "
        "are indeed gone, Retry: a full read of the catalog retires those of them it still does not "
        "list.{earlier}",
    ),
    "moved_held_earlier": (
        " {count} delas foram retidas por uma passagem anterior, seguem retidas e estão listadas aqui.",
        " {count} of them were held by an earlier pass, still held and named here.",
    ),
    "unlisted_held": (
        "A leitura completa do catálogo (ProdutoSku) não listou {count} embalagem(ns) que a loja tem "
        "({named}{more}); nenhuma foi retirada, elas seguem como estavam: {why}. Retirada, cada uma "
        "ficaria como variante inativa, fora de venda, com o estoque zerado{leaving}. Confira no ERP se "
        "essas embalagens ainda existem (a família do produto, MAP_FAMEMBALAGEM) e se o ProdutoSku é "
        "entregue inteiro (a paginação). Se de fato saíram, use Tentar de novo: uma nova leitura completa "
        "retira as que ela ainda não listar.{retired}",
        "The full read of the catalog (ProdutoSku) did not list {count} packaging(s) the store has "
        "({named}{more}); none was retired, they stay as they were: {why}. Retired, each would be kept as "
        "an inactive variant, off sale, its stock zeroed{leaving}. Check in the ERP that these packagings "
        "still exist (the product's family, MAP_FAMEMBALAGEM) and that ProdutoSku is served whole (its "
        "paging). If they are indeed gone, Retry: a new full read retires those it still does not "
        "list.{retired}",
    ),
    "unlisted_held_retired": (
        " Além disso, as {count} embalagem(ns) confirmada(s) pelo Tentar de novo foram retiradas; as acima "
        "não tinham sido listadas então.",
        " Besides, the {count} packaging(s) confirmed by the Retry were retired; those above were not named "
        "then.",
    ),
    # the held message after a Retry whose new read served a SKU record naming no product (nothing
    # retired: absence.untold); {where}: untold_full_read or untold_read_meanwhile, {named}: idSkus
    "unlisted_untold": (
        "O Tentar de novo leu o catálogo (ProdutoSku) inteiro outra vez, mas um registro de SKU {where} "
        "não pôde ser lido e não indica o produto (a mensagem dele diz qual): qualquer embalagem pode ser "
        "essa, então nenhuma das {count} embalagem(ns) desta mensagem ({named}{more}) foi retirada desta "
        "vez; elas seguem como estavam. Quando o ERP entregar esse registro corretamente, use Tentar de "
        "novo outra vez: uma nova leitura completa retira as que ela ainda não listar.",
        "The Retry read the catalog (ProdutoSku) whole again, but a SKU record of {where} could not be "
        "read and names no product (its own message says which): any packaging may be that one, so none "
        "was retired this time of the {count} packaging(s) this message names ({named}{more}); they stay "
        "as they were. Once the ERP serves that record right, Retry again: a new full read retires those "
        "it still does not list.",
    ),
    "untold_full_read": ("da leitura completa", "the full read"),
    "untold_read_meanwhile": (
        "da leitura das alterações feitas nesse meio-tempo",
        "the read of the changes made meanwhile",
    ),
    # the prices flow's held message (jobs.price_unlisted): SKUs a whole read of the store's pair did
    # not list, kept on sale at their last price; {why}: prices_held_read_unsure or held_too_many_skus_priced
    "prices_unlisted_held": (
        "A leitura completa dos preços da empresa {company} segmento {segment} não listou {count} SKU(s) "
        "com preço antes ({named}{more}); nenhum saiu de venda, eles mantêm o último preço: {why}. Confira "
        "no ERP se eles têm registro de preço (TabelaPrecoItem) para a empresa {company} segmento "
        "{segment}, e se a empresa e o segmento da loja (Configuração) estão certos. Se esses SKUs de fato "
        "não são vendidos lá, use Tentar de novo: uma nova leitura completa tira de venda os que ela ainda "
        "não listar.{retired}",
        "The full read of company {company} segment {segment}'s prices did not list {count} SKU(s) priced "
        "before ({named}{more}); none was taken off sale, they keep their last price: {why}. Check in the "
        "ERP that they have a price record (TabelaPrecoItem) for company {company} segment {segment}, and "
        "that the store's company and segment (Setup) are right. If these SKUs are indeed not sold there, "
        "Retry: a new full read takes off sale those it still does not list.{retired}",
    ),
    # the stock flow's held message (jobs.stock_gone): levels on sale whose product a whole read of the
    # company's stock did not list, left as they are; {why}: held_too_many_levels
    "stock_gone_held": (
        "A leitura completa do estoque da empresa {company} não listou os produtos de {count} SKU(s) à "
        "venda no local {location} ({named}{more}); nenhum foi zerado, eles mantêm o nível: {why}. Confira "
        "no ERP se a empresa {company} ainda trabalha com eles (seus registros em ProdutoEstoque), e se o "
        "local da empresa (Configuração) está certo. Se a loja de fato deixou de trabalhar com eles, use "
        "Tentar de novo: uma nova leitura completa zera os que ela ainda não listar.",
        "The whole read of company {company}'s stock did not list the products of {count} SKU(s) on sale "
        "at location {location} ({named}{more}); none was set to 0, they keep their level: {why}. Check in "
        "the ERP that company {company} still carries them (their ProdutoEstoque rows), and that the "
        "company's location (Setup) is right. If the store indeed stopped carrying them, Retry: a new "
        "whole read sets to 0 those it still does not list.",
    ),
    "held_too_many_levels": (
        "isso é {share}% dos {known} níveis à venda: mais provável um problema de leitura ou de "
        "configuração do que produtos com que a loja deixou de trabalhar",
        "that is {share}% of the {known} levels on sale: more likely a read or setup problem than products "
        "the store stopped carrying",
    ),
    "prices_unlisted_held_retired": (
        " Além disso, os {count} SKU(s) confirmado(s) pelo Tentar de novo saíram de venda; os acima não "
        "tinham sido listados então.",
        " Besides, the {count} SKU(s) confirmed by the Retry were taken off sale; those above were not named "
        "then.",
    ),
    "list_prices_unlisted_held": (
        "A leitura completa dos preços da empresa {company} segmento {segment} não listou {count} SKU(s) "
        "cujo preço fixo a lista de preços do mercado {market} tem ({named}{more}); nenhum foi removido: "
        "{why}. Confira no ERP se eles têm registro de preço para a empresa {company} segmento {segment}. "
        "Se de fato não são vendidos lá, use Tentar de novo: uma nova leitura completa remove os que ela "
        "ainda não listar.",
        "The full read of company {company} segment {segment}'s prices did not list {count} SKU(s) whose "
        "fixed price market {market}'s price list holds ({named}{more}); none was removed: {why}. Check in "
        "the ERP that they have a price record for company {company} segment {segment}. If they are indeed "
        "not sold there, Retry: a new full read removes those it still does not list.",
    ),
    "prices_held_read_unsure": (
        "a resposta do ERP não prova que a leitura veio inteira (a paginação do TabelaPrecoItem não pôde "
        "ser conferida)",
        "the ERP's answer does not prove the read whole (TabelaPrecoItem's paging could not be checked)",
    ),
    "held_too_many_skus_priced": (
        "isso é {share}% dos {known} SKUs com preço: mais provável um problema de leitura ou de "
        "configuração do que SKUs que não são mais vendidos",
        "that is {share}% of the {known} SKUs priced: more likely a read or setup problem than SKUs no "
        "longer sold",
    ),
    # ... after a Retry whose new read served a price record naming no SKU (absence.untold)
    "prices_unlisted_untold": (
        "O Tentar de novo leu os preços da empresa {company} segmento {segment} inteiros outra vez, mas um "
        "registro de preço {where} não pôde ser lido e não indica o SKU (a mensagem dele diz qual): qualquer "
        "SKU pode ser esse, então nenhum dos {count} SKU(s) desta mensagem ({named}{more}) saiu de venda "
        "desta vez; eles mantêm o último preço. Quando o ERP entregar esse registro corretamente, use "
        "Tentar de novo outra vez: uma nova leitura completa tira de venda os que ela ainda não listar.",
        "The Retry read company {company} segment {segment}'s prices whole again, but a price record of "
        "{where} could not be read and names no SKU (its own message says which): any SKU may be that one, "
        "so none was taken off sale this time of the {count} SKU(s) this message names ({named}{more}); they "
        "keep their last price. Once the ERP serves that record right, Retry again: a new full read takes "
        "off sale those it still does not list.",
    ),
    "held_sku_of_product": ("{sku} do produto {product}", "{sku} of product {product}"),
    "held_more": (" e mais {count}", " and {count} more"),
    "held_leaving": (
        "; {count} produto(s) sairia(m) de venda, sem nenhuma embalagem ativa: {named}{more}",
        "; {count} product(s) would leave the sale, no active packaging left: {named}{more}",
    ),
    "payment_mapping_not_number": (
        "o gateway de pagamento '{gateway}' está mapeado para '{code}', que não é um número NROFORMAPAGTO "
        "do ERP",
        "payment gateway '{gateway}' is mapped to '{code}', not an ERP NROFORMAPAGTO number",
    ),
}

# Every key a failure's words may name: this catalogue's and those the jobs give their failures from
# the other texts' catalogues (no key is in two: tests/api/test_api_job_words.py).
FAILURES: dict[str, Text] = {**run_words.WORDS, **note_words.WORDS, **dry_run_words.WORDS, **WORDS}

# A message in one of these says why with its failure's words (when it has them).
HELD = (MessageStatus.FAILED.value, MessageStatus.PARKED.value, MessageStatus.RETRYING.value)


# A failed job (the Flows page's failed-jobs list) whose failure gave no words (a bug, a failed webhook
# delivery): what it means, RQ's raw exception line shown below it as the technical detail.
JOB_STOPPED: Text = (
    "O job parou com um erro no app; os detalhes técnicos estão abaixo",
    "The job stopped with an error in the app; technical details below",
)


def financial_status(code: str | None, locale: str) -> str:
    """Shopify's financial status (PENDING, PARTIALLY_PAID...) in words (its financial_* key, as
    jobs.order_map.FINANCIAL_STATUS_WORDS names them); a status Shopify added since as its code,
    none as "?"."""
    if not code:
        return "?"
    return rendering.say(FAILURES, f"financial_{code.lower()}", None, locale) or code


def job_reason(words: Any, locale: str) -> str:
    """Why a failed job stopped, in `locale`: its failure's words (kept by the worker,
    ledger.queues.FAILURE_WORDS), else JOB_STOPPED."""
    return said(words, locale) or JOB_STOPPED[1 if locale == "en" else 0]


def said(words: Any, locale: str) -> str | None:
    """A failure's stored words in `locale`; None: none, or a key FAILURES lacks."""
    return rendering.said(FAILURES, words, locale) if words else None


def words_of(message: Message) -> Any:
    """The failure's stored words (trace.FAIL), None when it has none."""
    detail = message.error_detail if isinstance(message.error_detail, dict) else {}
    return detail.get(trace.FAIL)


def reason(message: Message, locale: str) -> str | None:
    """Why a failed, parked or retrying message stopped, in `locale`: its failure's words, else its
    English error_text (a bug's, an old row's); None for a message in any other status."""
    if message.status not in HELD:
        return None
    return said(words_of(message), locale) or message.error_text
