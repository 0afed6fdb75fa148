"""Why an order line changed, in the merchant's words (pt-BR and en).

The per-line ledger (OrderLineChange, written by jobs.order_edits) keeps each change's English
reason and beside it its words (reason_words: parts said one after the other); the order's page
says them in the request's locale. A reason with no words (a row older than them, or one a later
step reworded without giving any) reads as it was written. Params: SKUs, ERP item numbers,
kilograms, money, the discount's own description and the edit's id.
"""

from __future__ import annotations

from ledger.models import OrderLineChange
from shopify_app import note_words, words
from shopify_app.words import MONEY, NUMBER, Text

# The params that are quantities and amounts, said as the page's language writes them ("1,5 kg",
# "R$ 3,40" in pt-BR); the others (SKUs, ERP item numbers, units, ids, descriptions) as stored.
FULFILLED = ("fulfilled_more_served", "fulfilled_cut", "cut_not_applied", "cut_applied_down_to")
KINDS = {
    "served": NUMBER,
    "ordered": NUMBER,
    "kg": NUMBER,
    "difference": MONEY,
    "per_unit": MONEY,
    "residual": MONEY,
    "alone": MONEY,
}

WORDS: dict[str, Text] = {
    # picking (ERP -> Shopify: jobs.order_edits.to_shopify)
    "line_cut": (
        "Corte na separação: {served} de {ordered} atendido(s)",
        "Cut at picking: {served} of {ordered} served",
    ),
    "line_more_served": (
        "Atendido mais que o pedido: {served} de {ordered}",
        "More served than ordered: {served} of {ordered}",
    ),
    "line_replaced": (
        "Substituído na separação por {sku} (item {item} do ERP)",
        "Replaced at picking by {sku} (ERP item {item})",
    ),
    "line_substitute": (
        "Substituto do item {item} do ERP",
        "Substitute for ERP item {item}",
    ),
    "line_substitute_weighed": (
        "Substituto do item {item} do ERP, pesado com {kg} kg",
        "Substitute for ERP item {item}, weighed {kg} kg",
    ),
    "line_weight_heavier": (
        "Pesado com {served} kg em vez de {ordered} kg (mais pesado): não é cobrado acima do autorizado, "
        "então o item na Shopify mantém o preço e a captura fica dentro da autorização",
        "Weighed {served} kg instead of {ordered} kg (heavier): not charged above what was authorised, so "
        "the Shopify line keeps its price and the capture stays within the authorisation",
    ),
    "line_weight_same_charge": (
        "Pesado com {served} kg em vez de {ordered} kg: o ERP cobra o mesmo (os totais do item diferem em "
        "{difference}), então o item na Shopify mantém o preço",
        "Weighed {served} kg instead of {ordered} kg: the ERP charges the same (its line totals differ by "
        "{difference}), so the Shopify line keeps its price",
    ),
    "line_weight_no_line": (
        "Pesado com {served} kg em vez de {ordered} kg: nenhum item na Shopify a ajustar, a captura segue "
        "o total da NF-e",
        "Weighed {served} kg instead of {ordered} kg: no Shopify line to adjust, the capture follows the "
        "NF-e total",
    ),
    "line_weight_discount": (
        "Pesado com {served} kg em vez de {ordered} kg: desconto de {difference} no item ({per_unit} por "
        "unidade x {units}) '{description}'",
        "Weighed {served} kg instead of {ordered} kg: line discount {difference} ({per_unit} per unit x "
        "{units}) '{description}'",
    ),
    "line_weight_residual": (
        "a Shopify desconta por unidade, então o item fica {residual} abaixo do item da NF-e, e a captura "
        "segue o total da NF-e",
        "Shopify discounts per unit, so its line is {residual} below the NF-e line, and the capture "
        "follows the NF-e total",
    ),
    "line_weight_split": (
        "Pesado com {served} kg em vez de {ordered} kg: desconto de {difference} no item '{description}'; "
        "a Shopify desconta por unidade e {units} unidades não o dividem, então uma unidade vai para um "
        "item separado: {per_unit} por unidade x {kept} + {alone} em 1 = {difference}",
        "Weighed {served} kg instead of {ordered} kg: line discount {difference} '{description}'; Shopify "
        "discounts per unit and {units} units do not divide it, so one unit goes on a line of its own: "
        "{per_unit} per unit x {kept} + {alone} on 1 = {difference}",
    ),
    "line_not_applied_in_full": (
        "NÃO aplicado por completo: {unapplied}",
        "NOT applied in full: {unapplied}",
    ),
    # edits (Shopify -> ERP: jobs.order_edits.to_erp)
    "line_edit_sent": (
        "Edição do pedido na Shopify ({edit})",
        "Shopify order edit ({edit})",
    ),
    "line_edit_lost": (
        "Edição do pedido na Shopify ({edit}): o ERP a aceitou, mas a resposta dele se perdeu",
        "Shopify order edit ({edit}): the ERP took it, but its answer was lost",
    ),
}


# What is said inside a reason (a line fulfilled in Shopify, jobs.order_edits.fulfilled): the order
# note's words for it.
_SAID = {**WORDS, **{k: note_words.WORDS[k] for k in FULFILLED}}


def reason(change: OrderLineChange, locale: str) -> str | None:
    """The change's reason in `locale`; as written when it has no words."""
    return words.in_locale(_SAID, change.reason_words, change.reason, locale, KINDS)
