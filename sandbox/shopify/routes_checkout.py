"""Control endpoints of the checkout simulator (not Shopify's), under /_sandbox/:

- `POST /_sandbox/shops/<shop>/checkout` `{"count", "seed", "lines": [{"variantId"|"sku", "quantity"}],
  "gateway": "pix|cartao|mercadopago|boleto|cod|cash", "gateway_name" (cod: a manual method's name,
  e.g. "Pagamento na entrega"), "capture": "automatic|manual", "cpf"|"cnpj"|"tax_id",
  "discount_code", "discount_percent", "shipping", "note", "tags", "company_location", "pos", "risk",
  "cash_tendered"}`
  places orders now (`company_location`: a B2B order for that CompanyLocation, by the company's main
  contact; `pos`: "register" | "ship", a sale at a POS register, a line's "carried_out" handed over at
  the counter; gateway "cash" (`pos` only): cash at the register, `cash_tendered` ("100.00") the cash
  handed over, the change given back a CHANGE transaction; `risk`: "low" (default) | "medium" |
  "high" | "pending", Shopify's own fraud assessment of the orders, anything else a 400:
  sandbox.shopify.checkout);
- `POST /_sandbox/shops/<shop>/companies` `{"name", "location_name", "tax_registration_id", "seed"}`
  creates a B2B company with one location and its main contact (ids in the answer);
- `POST /_sandbox/shops/<shop>/company_locations` `{"companyId", "name", "tax_registration_id", "seed"}`
  adds another location to the company (its own address; the CNPJ may be another location's);
- `POST /_sandbox/shops/<shop>/company_locations/tax` `{"locationId", "taxRegistrationId"}`: the
  merchant fills in (or clears, with null) the location's tax registration ID;
- `POST /_sandbox/shops/<shop>/orders/mark_paid` `{"orderId"}`: the boleto was paid / the
  authorisation captured in full / the merchant marked a cash-on-delivery order paid;
- `POST /_sandbox/shops/<shop>/orders/risk` `{"orderId", "riskLevel": "HIGH|MEDIUM|LOW|NONE|PENDING",
  "provider": "ClearSale" | null, "facts": [{"description", "sentiment": "NEGATIVE|NEUTRAL|POSITIVE"}]}`:
  a fraud-analysis app's (`provider`, the app's title) or Shopify's (null) new assessment of the order,
  replacing that provider's earlier one; the recommendation is recomputed (the worst level wins) and
  orders/risk_assessment_changed sent to its subscribers. Answers the order's risk summary; 404 no
  such order, 400 a bad level / provider / facts, 409 a fulfilled order (sandbox.shopify.order_risk);
- `POST /_sandbox/shops/<shop>/checkout/auto` `{"rate_per_minute", "seed", ...order options}`
  starts the background mode (`rate_per_minute: 0` stops it); `GET` the same path reports it;
- `GET /_sandbox/shops/<shop>/orders`: the orders as a merchant would list them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.shopify import checkout, companies, order_risk
from sandbox.shopify.checkout_simulator import simulator_of, start_simulator, stop_simulator

blueprint = Blueprint("sandbox_checkout", __name__, url_prefix="/_sandbox")

MAX_ORDERS_PER_CALL = 500
_OPTIONS = (
    "gateway",
    "card_brand",
    "gateway_name",
    "capture",
    "discount_code",
    "discount_percent",
    "shipping",
    "note",
    "tags",
    "company_rate",
    "discount_rate",
    "company_location",
    "pos",
    "risk",
    "tip",
    "cash_tendered",
)


def _sandbox() -> Any:
    return current_app.config["SANDBOX"]


def _refused_option(body: dict[str, Any]) -> str | None:
    """Why an option is malformed (a 400, before any order is tried), else None."""
    risk = body.get("risk")
    if risk is not None and (not isinstance(risk, str) or risk not in order_risk.CHECKOUT_RISKS):
        return f"risk must be one of {', '.join(order_risk.CHECKOUT_RISKS)}, not {risk!r}"
    return None


def _order_options(body: dict[str, Any]) -> dict[str, Any]:
    options = {name: body[name] for name in _OPTIONS if body.get(name) is not None}
    tax_id = body.get("tax_id") or body.get("cpf") or body.get("cnpj")
    if tax_id:
        options["tax_id"] = str(tax_id)
    if body.get("lines"):
        options["lines"] = list(body["lines"])
    return options


@blueprint.post("/shops/<shop>/checkout")
def place(shop: str) -> Response | tuple[Response, int]:
    body = request.get_json(silent=True) or {}
    count = int(body.get("count", 1))
    if not 1 <= count <= MAX_ORDERS_PER_CALL:
        return jsonify({"error": f"count must be between 1 and {MAX_ORDERS_PER_CALL}"}), 400
    if refused := _refused_option(body):
        return jsonify({"error": refused}), 400
    try:
        placed = checkout.place_orders(_sandbox(), shop, count, body.get("seed"), **_order_options(body))
    except (checkout.CheckoutError, ValueError, TypeError) as error:
        return jsonify({"error": str(error)}), 422
    return jsonify({"orders": placed})


@blueprint.post("/shops/<shop>/companies")
def create_company(shop: str) -> Response | tuple[Response, int]:
    body = request.get_json(silent=True) or {}
    if not str(body.get("name") or "").strip():
        return jsonify({"error": "name is required"}), 400
    ids = companies.create_company(
        _sandbox(),
        shop,
        str(body["name"]),
        str(body.get("location_name") or "Matriz"),
        body.get("tax_registration_id"),
        body.get("seed"),
    )
    return jsonify(ids)


@blueprint.post("/shops/<shop>/company_locations")
def add_company_location(shop: str) -> Response | tuple[Response, int]:
    body = request.get_json(silent=True) or {}
    if not str(body.get("name") or "").strip():
        return jsonify({"error": "name is required"}), 400
    try:
        location_id = companies.add_location(
            _sandbox(),
            shop,
            str(body.get("companyId", "")),
            str(body["name"]),
            body.get("tax_registration_id"),
            body.get("seed"),
        )
    except companies.CompanyError as error:
        return jsonify({"error": str(error)}), 404
    return jsonify({"companyId": body.get("companyId"), "location": location_id})


@blueprint.post("/shops/<shop>/company_locations/tax")
def set_tax_registration(shop: str) -> Response | tuple[Response, int]:
    body = request.get_json(silent=True) or {}
    try:
        companies.set_tax_registration(
            _sandbox(), shop, str(body.get("locationId", "")), body.get("taxRegistrationId")
        )
    except companies.CompanyError as error:
        return jsonify({"error": str(error)}), 404
    return jsonify({"locationId": body.get("locationId"), "taxRegistrationId": body.get("taxRegistrationId")})


@blueprint.post("/shops/<shop>/orders/mark_paid")
def mark_paid(shop: str) -> Response | tuple[Response, int]:
    order_id = str((request.get_json(silent=True) or {}).get("orderId", ""))
    try:
        order = checkout.mark_paid(_sandbox(), shop, order_id)
    except checkout.CheckoutError as error:
        return jsonify({"error": str(error)}), 404
    return jsonify({"id": order["id"], "displayFinancialStatus": order["displayFinancialStatus"]})


@blueprint.post("/shops/<shop>/orders/risk")
def assess_risk(shop: str) -> Response | tuple[Response, int]:
    """A fraud-analysis app (`provider`, its title) or Shopify (null) assesses the order anew."""
    body = request.get_json(silent=True) or {}
    provider = body.get("provider")
    if provider is not None and (not isinstance(provider, str) or not provider.strip()):
        return jsonify({"error": "provider is a fraud-analysis app's title, or null for Shopify"}), 400
    try:
        risk = order_risk.control_assess(
            _sandbox(), shop, str(body.get("orderId", "")), body.get("riskLevel"), provider, body.get("facts")
        )
    except LookupError as error:
        return jsonify({"error": str(error)}), 404
    except order_risk.RiskError as error:
        return jsonify({"error": str(error)}), 409 if error.code == "ORDER_ALREADY_FULFILLED" else 400
    return jsonify({"orderId": body.get("orderId"), "risk": risk})


@blueprint.post("/shops/<shop>/checkout/auto")
def auto(shop: str) -> Response | tuple[Response, int]:
    body = request.get_json(silent=True) or {}
    rate = float(body.get("rate_per_minute", 0))
    if rate <= 0:
        stopped = stop_simulator(_sandbox(), shop)
        return jsonify(stopped.status() if stopped else {"shop": shop, "running": False})
    if refused := _refused_option(body):
        return jsonify({"error": refused}), 400
    _sandbox().shops.ensure(shop)
    simulator = start_simulator(_sandbox(), shop, rate, body.get("seed"), **_order_options(body))
    return jsonify(simulator.status())


@blueprint.get("/shops/<shop>/checkout/auto")
def auto_status(shop: str) -> Response:
    simulator = simulator_of(_sandbox(), shop)
    return jsonify(simulator.status() if simulator else {"shop": shop, "running": False})


@blueprint.get("/shops/<shop>/orders")
def orders(shop: str) -> Response:
    return jsonify(
        [
            {
                "id": o["id"],
                "name": o["name"],
                "createdAt": o["createdAt"],
                "updatedAt": o["updatedAt"],
                "email": o["email"],
                "total": o["currentTotalPriceSet"]["shopMoney"]["amount"],
                "financialStatus": o["displayFinancialStatus"],
                "fulfillmentStatus": o["displayFulfillmentStatus"],
                "cancelledAt": o["cancelledAt"],
                "tags": o["tags"],
                "gateways": o["paymentGatewayNames"],
                "lines": [
                    {"sku": li["sku"], "quantity": li["quantity"], "currentQuantity": li["currentQuantity"]}
                    for li in o["_lines"]
                ],
            }
            for o in _sandbox().store.scan(shop, "Order", limit=request.args.get("limit", 500, type=int))
        ]
    )
