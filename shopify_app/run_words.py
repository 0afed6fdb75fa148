"""A scheduled flow's last run's error line, in the merchant's words (pt-BR and en).

The run's outcome (ledger.run_outcome) keeps the exception's English line and beside it its words
(Schedule.last_error_words: a classified failure's `words`, a dead worker's); the Flows page says
them in the request's locale. A line with no words (a bug's, a row older than them) or with a key
this catalogue lacks reads as it was written. Params: endpoints, ids, numbers, and the ERP's own
message as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.models import Schedule
from shopify_app import words
from shopify_app.words import Text

WORDS: dict[str, Text] = {
    # the ERP (erp.transport)
    "erp_unreachable": (
        "O ERP (Consinco) não respondeu em {endpoint} ({error}), nem depois das novas tentativas: ele está "
        "fora do ar ou inacessível daqui",
        "Consinco (the ERP) did not answer at {endpoint} ({error}), not even after retries: it is down or "
        "unreachable from here",
    ),
    "erp_answered": (
        "O ERP (Consinco) respondeu {endpoint} com erro HTTP {status}: {message}",
        "Consinco (the ERP) answered {endpoint} with HTTP {status}: {message}",
    ),
    "erp_login_refused": (
        "O ERP (Consinco) recusou o login do usuário {user}: {message}. Corrija o usuário ou a senha em "
        "Configuração",
        "Consinco (the ERP) refused the login of user {user}: {message}. Fix the user or password under "
        "Setup",
    ),
    "erp_token_refused": (
        "O ERP (Consinco) recusou um acesso recém-emitido para o usuário {user}: {message}",
        "Consinco (the ERP) refused a freshly issued token for user {user}: {message}",
    ),
    # one company's stock pass stopped, the others synced (jobs.stock_records.stopped)
    "stock_company_stopped": (
        "A passagem de estoque da empresa {company} parou: {said}. As demais empresas foram "
        "sincronizadas; os níveis desta ficam como estavam e cada passagem tenta de novo",
        "The stock pass of company {company} stopped: {said}. The other companies were synced; this "
        "one's levels stay as they were and every pass tries it again",
    ),
    "stock_company_unreadable": (
        "A passagem de estoque da empresa {company} parou: a resposta do ERP (Consinco) em {endpoint} não "
        "pôde ser lida (campo '{field}' ausente ou ilegível). As demais empresas foram sincronizadas; os "
        "níveis desta ficam como estavam e cada passagem tenta de novo",
        "The stock pass of company {company} stopped: the ERP's (Consinco) answer at {endpoint} could not "
        "be read (field '{field}' missing or unreadable). The other companies were synced; this one's "
        "levels stay as they were and every pass tries it again",
    ),
    # the catalog's lock (jobs.catalog_flow, jobs.catalog_full)
    "catalog_busy": (
        "O catálogo estava ocupado (outra passagem ou um reenvio em andamento): esta passagem é tentada de "
        "novo mais tarde",
        "The catalog was busy (another pass or a replay running): this pass is tried again later",
    ),
    "catalog_busy_full_sweep": (
        "O catálogo estava ocupado (outra passagem ou um reenvio em andamento): a varredura completa é "
        "tentada de novo mais tarde",
        "The catalog was busy (another pass or a replay running): the full sweep is tried again later",
    ),
    # the prices or stock flow's lock (jobs.prices_full, jobs.stock_full): the daily whole read waits
    "prices_busy_full_sweep": (
        "O fluxo de preços estava rodando (uma passagem ou um reenvio): a varredura completa de preços é "
        "tentada de novo mais tarde",
        "The prices flow was running (a pass or a replay): the full price sweep is tried again later",
    ),
    # a person's stock fix whose company's pass ended on a failure of its own (jobs.stock._settle_fix)
    "stock_fix_unfinished": (
        "A passagem de estoque da empresa {company} não terminou (a mensagem de estoque dela diz por "
        "quê): use Tentar de novo nesta correção depois de resolver isso",
        "Company {company}'s stock pass did not finish (its own stock message says why): Retry this fix "
        "once that is put right",
    ),
    "stock_busy_full_sweep": (
        "O fluxo de estoque estava rodando (uma passagem ou um reenvio): a varredura completa de estoque "
        "é tentada de novo mais tarde",
        "The stock flow was running (a pass or a replay): the full stock sweep is tried again later",
    ),
    # the flow lock (ledger.locks, ledger.fence)
    "flow_lock_dead_try": (
        "Aguardando: a tentativa anterior desta execução parou no meio (o processo do worker morreu) e a "
        "trava do fluxo ainda não expirou; a execução é tentada de novo assim que ela expirar",
        "Waiting: the previous try of this run stopped midway (its worker process died) and the flow's lock "
        "has not expired yet; the run is tried again once it has",
    ),
    "flow_lock_lost": (
        "A execução perdeu a trava do fluxo enquanto rodava (o Redis reiniciou ou a execução travou): ela "
        "parou sem avançar e é tentada de novo, pois outra execução pode estar rodando",
        "The run lost the flow's lock while running (Redis restarted or the run stalled): it stopped "
        "without moving on and is tried again, as another run may be running",
    ),
    # an order's lock (jobs.orders.order_lock, jobs.order_events): another job of the order holds it
    "order_busy": (
        "O pedido {order} está sendo tratado por outro worker: esta mensagem é tentada de novo mais tarde",
        "Order {order} is being handled by another worker: this message is tried again later",
    ),
    # the order's lock lost before the ERP call (jobs.orders.lock_lost): the import's, an edit's
    # lost while the ERP call ran (jobs.order_edits.to_erp): another job may have written newer lines
    "order_lock_lost_during": (
        "Pedido {order}: a trava do pedido se perdeu (o Redis reiniciou?) durante a chamada ao ERP; a "
        "mensagem é tentada de novo, lendo o pedido outra vez, para o ERP ficar com os itens mais recentes",
        "Order {order}: the order's lock was lost (Redis restarted?) during the ERP call; retried, reading "
        "the order again so the ERP ends with the latest lines",
    ),
    "order_lock_lost": (
        "Pedido {order}: a trava do pedido se perdeu (o Redis reiniciou?) antes da chamada ao ERP; nada "
        "foi enviado e a mensagem é tentada de novo, lendo o pedido outra vez",
        "Order {order}: the order's lock was lost (Redis restarted?) before the ERP call; retried, reading "
        "the order again",
    ),
    # the ERP connection moved under the run (ledger.fence.check_erp)
    "erp_moved_during_run": (
        "A conexão com o ERP mudou durante a execução: nada do que ela leu do ERP anterior foi guardado "
        "como lido; a próxima execução lê o novo ERP desde o início",
        "The ERP connection changed during the run: nothing it read from the previous ERP was kept as "
        "read; the next run reads the new ERP from the start",
    ),
    # the schedule tick could not start the run (jobs.scheduler._could_not_start): a bug, the database
    "tick_could_not_start": (
        "O agendador não conseguiu iniciar esta execução ({error}); ele tenta de novo a cada minuto",
        "The scheduler could not start this run ({error}); it tries again every minute",
    ),
    # the worker (ledger.run_outcome.horse_killed)
    "worker_killed_signal": (
        "O processo do worker que rodava esta execução morreu (sinal {signal}; falta de memória?)",
        "The worker process running it died (signal {signal}; out of memory?)",
    ),
    "worker_killed_status": (
        "O processo do worker que rodava esta execução morreu (status {status}; falta de memória?)",
        "The worker process running it died (status {status}; out of memory?)",
    ),
    # a SimpleWorker's death found later by RQ's maintenance (ledger.run_outcome.ABANDONED_WORDS)
    "worker_abandoned": (
        "O processo do worker que rodava esta execução parou no meio dela (foi morto ou reiniciado; falta "
        "de memória?)",
        "The worker process running it stopped midway (killed or restarted; out of memory?)",
    ),
    # a product held by Shopify's daily limit on new variants (jobs.variant_quota); {until}: a UTC time
    "shopify_variant_quota": (
        "A Shopify recusou criar hoje as novas variantes deste produto: a loja tem 50.000 variantes ou "
        "mais e, fora do plano Shopify Plus, pode criar no máximo 1.000 novas por dia "
        "(VARIANT_THROTTLE_EXCEEDED). Nada se perde: o app o envia de novo sozinho depois de {until}, e a "
        "cada hora depois disso até a Shopify aceitá-lo",
        "Shopify refused to create this product's new variants today: the store holds 50,000 variants or "
        "more and, not on Shopify Plus, may create at most 1,000 new ones a day (VARIANT_THROTTLE_EXCEEDED). "
        "Nothing is lost: the app sends it again by itself after {until}, and every hour after that until "
        "Shopify takes it",
    ),
}


def last_error(row: Schedule, locale: str, catalogue: Mapping[str, words.Text] = WORDS) -> str | None:
    """The schedule's last run's error line in `locale` from `catalogue` (the Flows page gives
    shopify_app.fail_words.FAILURES: a run can fail with any classified failure's words, a
    Shopify refusal's among them); as written when it has no words."""
    stored: Any = row.last_error_words
    return words.in_locale(catalogue, stored, row.last_error, locale) if row.last_error else None
