"""The words of a weight split's plan, for the steps that say how it went (flow `order_edits`).

A weighed line whose difference its units do not divide is planned as a split
(to_shopify._weight; a line served in part of a unit alike, to_shopify._part_served): its reason
says the plan and how the split goes ("weighed ...: line discount D '...'; Shopify discounts per
unit and ..."), its words one part (line_weight_split, line_part_split). The steps that make the
split or give it up (to_shopify._split, fulfilled.unsplit) keep the plan, the text up to its first
";", and write what happened after it: their words are the plan's own part (line_weight_planned,
line_part_planned) and theirs, so the order's page says the whole reason as it stands.
"""

from __future__ import annotations

from typing import Any

from ledger.words import Said, Words

PLAN = ("served", "ordered", "difference", "description")  # the split's params the plan says
# a split's key -> its plan's key and params (a line served in part of a unit splits alike: _part_served)
PLANS = {
    "line_weight_split": ("line_weight_planned", PLAN),
    "line_part_split": ("line_part_planned", (*PLAN, "units")),
}


def planned(change: Any) -> tuple[str, Words | None]:
    """(the plan's English, its words): None when the change's words do not say its reason as it
    stands (a reason reworded without words) or are not a split's."""
    english = change.reason.split(";")[0]
    words = change.words
    if words is None or words[0] != change.reason or not words[1] or words[1][0][0] not in PLANS:
        return english, None
    key, names = PLANS[words[1][0][0]]
    params = words[1][0][1]
    return english, (key, {name: params.get(name) for name in names})


def after_plan(reason: str, plan: Words | None, *parts: Words) -> Said | None:
    """The words of `reason`, the plan then `parts` (None when the plan has none)."""
    return None if plan is None else (reason, (plan, *parts))
