"""orderRiskAssessmentCreate: the calling app's fraud assessment of an order (sandbox.shopify.order_risk).

It replaces the app's earlier assessment of the order (one per provider, as `Order.risk` shows
them), recomputes the recommendation and sends orders/risk_assessment_changed, as the mutation's
description says. The provider is the calling app (its App, titled as shopify.app.toml names it).
Reading `Order.risk` needs no resolver: the summary is plain data on the order document.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from sandbox.shopify import order_risk, order_store
from sandbox.shopify.registry import Ctx, mutation, user_error

_INPUT = "orderRiskAssessmentInput"


def _refused(error: dict[str, Any]) -> dict[str, Any]:
    return {"orderRiskAssessment": None, "userErrors": [error]}


@mutation("orderRiskAssessmentCreate")
def order_risk_assessment_create(
    _src: Any, info: GraphQLResolveInfo, orderRiskAssessmentInput: dict[str, Any]
) -> dict:
    ctx: Ctx = info.context
    given = orderRiskAssessmentInput
    order = order_store.get(ctx, given["orderId"])
    if order is None:
        return _refused(user_error([_INPUT, "orderId"], "Order does not exist", "NOT_FOUND"))
    try:
        assessment = order_risk.assess(
            ctx, order, given["riskLevel"], order_risk.calling_app(ctx), given["facts"]
        )
    except order_risk.RiskError as error:
        return _refused(user_error([_INPUT, *error.field], str(error), error.code))
    order_store.save(ctx, order, touch=False)
    order_risk.announce(ctx, order, assessment)
    return {"orderRiskAssessment": assessment, "userErrors": []}
