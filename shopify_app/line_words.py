"""Why an order line changed, in the merchant's words (pt-BR and en).

The per-line ledger (OrderLineChange, written by jobs.order_edits) keeps each change's English
reason and beside it its words (reason_words: parts said one after the other); the order's page
says them in the request's locale. A reason with no words (a row older than them, or one a later
step reworded without giving any) reads as it was written. Params: SKUs, ERP item numbers,
kilograms, money, the discount's own description, the edit's id, Shopify's own message, and an
earlier step's words said inside a later one's ("said": "<the substitute's reason>: 1 x ...").
"""

from __future__ import annotations

from ledger.models import OrderLineChange
from shopify_app import note_words, words
from shopify_app.words import MONEY, NUMBER, Text

# The params that are quantities and amounts, said as the page's language writes them ("1,5 kg",
# "R$ 3,40" in pt-BR); the others (SKUs, ERP item numbers, units, ids, descriptions) as stored.
FULFILLED = (
    "fulfilled_more_served",
    "fulfilled_cut",
    "cut_not_applied",
    "cut_applied_down_to",
    "lowered_cut",
    "lowered_picked_again",
    "lowered_picked_again_kept",
    "lowered_picked_again_emptied",
)
KINDS = {
    "served": NUMBER,
    "ordered": NUMBER,
    "kg": NUMBER,
    "difference": MONEY,
    "per_unit": MONEY,
    "residual": MONEY,
    "alone": MONEY,
    "shift": MONEY,
    "taken": MONEY,
    "below": MONEY,
    "price": MONEY,
    "line_price": MONEY,
    "charged": MONEY,
    "off": MONEY,
    "still": MONEY,
}

WORDS: dict[str, Text] = {
    # picking (ERP -> Shopify: jobs.order_edits.to_shopify)
    "line_cut": (
        "Corte na separação: {served} de {ordered} atendido(s)",
        "Cut at picking: {served} of {ordered} served",
    ),
    # an ERP line picked again (a later 'S' event) otherwise than the picking that adjusted it
    "line_picked_again": (
        "Separado de novo: {served} de {ordered} atendido(s)",
        "Picked again: {served} of {ordered} served",
    ),
    "line_adjustment_removed": (
        "o desconto '{description}' de uma separação anterior foi retirado: a Shopify cobra o item como "
        "separado agora",
        "the discount '{description}' of an earlier picking taken off: Shopify charges the line as picked "
        "now",
    ),
    "line_adjustment_removed_kept": (
        "o desconto '{description}' de uma separação anterior foi retirado: a Shopify cobra por inteiro as "
        "unidades que uma pessoa deixou no item",
        "the discount '{description}' of an earlier picking taken off: Shopify charges in full the units a "
        "person left on the line",
    ),
    "line_more_served_kept": (
        "Atendido mais que o pedido: {served} de {ordered}: não é cobrado acima do pedido, então o item na "
        "Shopify mantém a quantidade e a captura fica dentro do total do pedido",
        "More served than ordered: {served} of {ordered}: not charged above what was ordered, so the Shopify "
        "line keeps its quantity and the capture stays within the order's total",
    ),
    "line_not_on_order": (
        "O item {item} do ERP ({sku}) não está em nenhum item do pedido da Shopify: atendido {served} de "
        "{ordered}, nada mudou na Shopify",
        "ERP item {item} ({sku}) is on no line of the Shopify order: served {served} of {ordered}, not "
        "changed in Shopify",
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
    "line_weight_lowered": (
        "Pesado com {served} kg em vez de {ordered} kg; {units} de suas {ordered_units} unidades ficaram na "
        "Shopify (reduzido lá), cobradas não mais que a pesagem do ERP: o item mantém o preço",
        "Weighed {served} kg instead of {ordered} kg; {units} of its {ordered_units} units left in Shopify "
        "(lowered there), charged no more than the ERP's weighing: the line keeps its price",
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
    # a line sold by the unit served in part of one (1,5 of 2 boxes): its units rounded up, the part off
    "line_part_served": (
        "Atendido em parte na separação: {served} de {ordered}, então {units} unidade(s) na Shopify com "
        "desconto de {difference} no item ({per_unit} por unidade x {units}) '{description}'",
        "Served in part at picking: {served} of {ordered} served, so {units} units in Shopify with line "
        "discount {difference} ({per_unit} per unit x {units}) '{description}'",
    ),
    "line_part_split": (
        "Atendido em parte na separação: {served} de {ordered}, então {units} unidade(s) na Shopify com "
        "desconto de {difference} no item '{description}'; a Shopify desconta por unidade e {units} "
        "unidades não o dividem, então uma unidade vai para um item separado: {per_unit} por unidade x "
        "{kept} + {alone} em 1 = {difference}",
        "Served in part at picking: {served} of {ordered} served, so {units} units in Shopify with line "
        "discount {difference} '{description}'; Shopify discounts per unit and {units} units do not "
        "divide it, so one unit goes on a line of its own: {per_unit} per unit x {kept} + {alone} on 1 "
        "= {difference}",
    ),
    "line_part_planned": (
        "Atendido em parte na separação: {served} de {ordered}, então {units} unidade(s) na Shopify com "
        "desconto de {difference} no item '{description}'",
        "Served in part at picking: {served} of {ordered} served, so {units} units in Shopify with line "
        "discount {difference} '{description}'",
    ),
    # how a planned split went (jobs.order_edits.weight_words: the plan, then what happened)
    "line_weight_planned": (
        "Pesado com {served} kg em vez de {ordered} kg: desconto de {difference} no item '{description}'",
        "Weighed {served} kg instead of {ordered} kg: line discount {difference} '{description}'",
    ),
    "line_split_made": (
        "a Shopify desconta por unidade e {units} unidades não o dividem, então uma unidade foi para um "
        "item separado: {per_unit} por unidade x {kept} + {alone} em 1",
        "Shopify discounts per unit and {units} units do not divide it, so one unit went on a line of its "
        "own: {per_unit} per unit x {kept} + {alone} on 1",
    ),
    "line_split_made_shifted": (
        "a Shopify desconta por unidade e {units} unidades não o dividem, então uma unidade foi para um "
        "item separado: {per_unit} por unidade x {kept} + {alone} em 1 (mover a unidade mudou o subtotal "
        "da Shopify em {shift}: o preço atual da variante, os outros descontos do item)",
        "Shopify discounts per unit and {units} units do not divide it, so one unit went on a line of its "
        "own: {per_unit} per unit x {kept} + {alone} on 1 (moving the unit changed Shopify's subtotal by "
        "{shift}: the variant's price now, the line's other discounts)",
    ),
    "line_split_off": (
        "o subtotal da Shopify baixou {taken}, não {difference}: a captura segue o total da NF-e",
        "Shopify's subtotal went down by {taken}, not {difference}: the capture follows the NF-e total",
    ),
    "line_split_refused": (
        "a Shopify recusou a unidade em um item separado ({message}), então {per_unit} por unidade x "
        "{units}: a Shopify fica {below} abaixo do item da NF-e, a captura segue a NF-e",
        "Shopify refused the unit on its own line ({message}), so {per_unit} per unit x {units}: Shopify "
        "is {below} below the NF-e line, the capture follows the NF-e",
    ),
    "line_split_unmatched": (
        "nenhuma divisão acerta o desconto ao centavo (a variante custa {price} agora, o item "
        "{line_price}), então {per_unit} por unidade x {units}: a Shopify fica {below} abaixo do item da "
        "NF-e, a captura segue a NF-e",
        "no split could match it to the cent (the variant is priced {price} now, the line {line_price}), "
        "so {per_unit} per unit x {units}: Shopify is {below} below the NF-e line, the capture follows "
        "the NF-e",
    ),
    "line_split_fulfilled": (
        "{fulfilled} das suas unidades já processada(s) na Shopify, então sem divisão: {per_unit} por "
        "unidade x {units}, a Shopify fica {below} abaixo do item da NF-e, a captura segue a NF-e",
        "{fulfilled} of its units fulfilled in Shopify, so not split: {per_unit} per unit x {units}, "
        "Shopify {below} below the NF-e line, the capture follows the NF-e",
    ),
    # a substitute added at Shopify's price ({said}: the substitute's own reason, said inside)
    "line_substitute_not_above": (
        "{said}: {units} x {price} na Shopify não fica acima dos {charged} do ERP, então sem desconto; a "
        "captura segue a NF-e",
        "{said}: {units} x {price} in Shopify is not above the ERP's {charged}, so no discount; the "
        "capture follows the NF-e",
    ),
    "line_substitute_weighed_less": (
        "{said}: {units} x {price} na Shopify menos {off} '{description}' = os {charged} do ERP",
        "{said}: {units} x {price} in Shopify less {off} '{description}' = the ERP's {charged}",
    ),
    "line_substitute_weighed_short": (
        "{said}: {units} x {price} na Shopify menos {off} (o preço inteiro de uma unidade) ainda fica "
        "{still} acima dos {charged} do ERP: a captura segue a NF-e",
        "{said}: {units} x {price} in Shopify less {off} (a unit's whole price) is still {still} above the "
        "ERP's {charged}: the capture follows the NF-e",
    ),
    "line_substitute_priced": (
        "{said}: {units} x {price} na Shopify menos {per_unit} por unidade '{description}' = os {charged} "
        "do ERP",
        "{said}: {units} x {price} in Shopify less {per_unit} per unit '{description}' = the ERP's {charged}",
    ),
    "line_substitute_priced_below": (
        "{said}: {units} x {price} na Shopify menos {per_unit} por unidade '{description}': a Shopify fica "
        "{below} abaixo dos {charged} do ERP, a captura segue a NF-e",
        "{said}: {units} x {price} in Shopify less {per_unit} per unit '{description}': Shopify is {below} "
        "below the ERP's {charged}, the capture follows the NF-e",
    ),
    # a change another event of the order applied already ({said}: the change's own reason)
    "line_applied_before": (
        "{said}: já na Shopify, aplicado pelo evento #{event} do ERP",
        "{said}: in Shopify already, applied by ERP event #{event}",
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


# What is said inside a reason (a line fulfilled in Shopify, jobs.order_edits.fulfilled; one lowered
# there before the ERP's cut, jobs.order_edits.lowered): the order note's words for it.
_SAID = {**WORDS, **{k: note_words.WORDS[k] for k in FULFILLED}}


def reason(change: OrderLineChange, locale: str) -> str | None:
    """The change's reason in `locale`; as written when it has no words."""
    return words.in_locale(_SAID, change.reason_words, change.reason, locale, KINDS)
