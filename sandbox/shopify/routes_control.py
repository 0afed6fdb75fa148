"""The control API under /_sandbox/ (not Shopify's): shops, tiers, ID tokens, chaos switches, a
cancel job that fails, captures a gateway answers later or refuses, an idempotent mutation that
runs long or fails on Shopify's side, state as JSON and as a small read-only HTML page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template_string, request

from sandbox.shopify import fulfillment_service, idempotency
from sandbox.shopify.clock import iso
from sandbox.shopify.options import TIERS
from sandbox.shopify.registry import IDEMPOTENT_MUTATIONS
from sandbox.shopify.resolvers import order_cancel, order_capture
from sandbox.shopify.state_dump import dump
from sandbox.shopify.tokens import granted_scopes

blueprint = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

_PAGE = """<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>Sandbox {{ s.shop }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>
<h1>{{ s.shop }}.myshopify.com <small>({{ s.tier }})</small></h1>
<p>{{ s.counts.Product }} products, {{ s.counts.ProductVariant }} variants,
{{ s.counts.InventoryLevel }} inventory levels. <a href="{{ s.shop }}/state">JSON</a></p>
<h2>Locations</h2><table><tr><th>id</th><th>name</th></tr>
{% for l in s.locations %}<tr><td>{{ l.id }}</td><td>{{ l.name }}</td></tr>{% endfor %}</table>
<h2>Products</h2><table><tr><th>product</th><th>status</th><th>variant</th><th>sku</th><th>barcode</th>
<th>price</th><th>compare at</th><th>available per location</th></tr>
{% for p in s.products %}{% for v in p.variants %}<tr><td>{{ p.title }}</td><td>{{ p.status }}</td>
<td>{{ v.title }}</td><td>{{ v.sku or "" }}</td><td>{{ v.barcode or "" }}</td><td>{{ v.price }}</td>
<td>{{ v.compareAtPrice or "" }}</td>
<td>{% for loc, q in v.inventory.items() %}{{ loc }}: {{ q.available }}<br>
{% endfor %}</td></tr>{% endfor %}{% endfor %}</table>
<h2>Price lists</h2><table><tr><th>name</th><th>currency</th><th>fixed prices</th></tr>
{% for pl in s.priceLists %}<tr><td>{{ pl.name }}</td><td>{{ pl.currency }}</td>
<td>{{ pl.prices|length }}</td>
</tr>{% endfor %}</table>
<h2>Bulk operations</h2><table><tr><th>id</th><th>status</th><th>objects</th></tr>
{% for b in s.bulkOperations %}<tr><td>{{ b.id }}</td><td>{{ b.status }}</td><td>{{ b.objectCount }}</td></tr>
{% endfor %}</table></body></html>"""


def _sandbox() -> Any:
    return current_app.config["SANDBOX"]


def _body() -> dict[str, Any]:
    return request.get_json(silent=True) or request.form.to_dict() or {}


@blueprint.get("/")
def index() -> Response:
    shops = [r["name"] for r in _sandbox().store.all_rows("shops")]
    return jsonify({"shops": shops})


@blueprint.post("/shops")
def create_shop() -> Response:
    body = _body()
    shop = str(body.get("shop", "")).removesuffix(".myshopify.com")
    if not shop:
        return Response("shop is required", status=400)
    record = _sandbox().shops.ensure(shop)
    if body.get("tier"):
        _sandbox().shops.set_tier(shop, body["tier"])
        record = _sandbox().shops.get(shop)
    return jsonify(record)


@blueprint.post("/shops/<shop>/reset")
def reset_shop(shop: str) -> Response:
    return jsonify(_sandbox().shops.reset(shop))


@blueprint.post("/shops/<shop>/tier")
def set_tier(shop: str) -> Response:
    tier = str(_body().get("tier", ""))
    if tier not in TIERS:
        return Response(f"tier must be one of {sorted(TIERS)}", status=400)
    _sandbox().shops.set_tier(shop, tier)
    return jsonify({"shop": shop, "tier": tier})


@blueprint.post("/shops/<shop>/variant_throttle")
def variant_throttle(shop: str) -> Response:
    """Shopify's daily limit on new variants for this shop (sandbox/shopify/variant_throttle.py):
    {"threshold": variants held before it applies, "per_day": new ones a day, "new_day": true to
    forget the creations counted so far}."""
    body = _body()
    try:
        threshold = None if body.get("threshold") is None else int(body["threshold"])
        per_day = None if body.get("per_day") is None else int(body["per_day"])
    except (TypeError, ValueError):
        return Response("threshold and per_day must be whole numbers", status=400)
    current = _sandbox().variant_throttle.configure(
        shop, threshold=threshold, per_day=per_day, new_day=bool(body.get("new_day"))
    )
    return jsonify({"shop": shop, **current})


@blueprint.post("/shops/<shop>/id_token")
def id_token(shop: str) -> Response:
    body = _body()
    try:
        token = _sandbox().tokens.id_token(shop, str(body.get("user", "owner")), body.get("ttl"))
    except LookupError as error:
        return Response(str(error), status=404)
    return jsonify({"id_token": token})


@blueprint.post("/shops/<shop>/access_token")
def access_token(shop: str) -> Response:
    sandbox = _sandbox()
    expiring = bool(_body().get("expiring", False))
    return jsonify(sandbox.tokens.issue_access_token(shop, sandbox.options.api_key, expiring))


@blueprint.post("/shops/<shop>/uninstall")
def uninstall(shop: str) -> Response:
    """The merchant removes the app: tokens stop working and app/uninstalled is sent."""
    sandbox = _sandbox()
    record = sandbox.shops.ensure(shop)
    revoked = sandbox.tokens.revoke_shop(shop, sandbox.options.api_key)
    ids = sandbox.emit(
        shop,
        "app/uninstalled",
        {
            "id": int(record["id"].rsplit("/", 1)[1]),
            "name": shop,
            "domain": record["domain"],
            "myshopify_domain": record["domain"],
            "currency": "BRL",
            "country_code": "BR",
        },
    )
    return jsonify({"revoked_tokens": revoked, "webhook_ids": ids})


@blueprint.post("/shops/<shop>/scopes")
def change_scopes(shop: str) -> Response:
    """The grant changes (the merchant approves new scopes, or some are revoked): tokens issued
    from now on carry it, and app/scopes_update is sent with the grant before and after."""
    wanted = _body().get("scopes")
    current = wanted.split(",") if isinstance(wanted, str) else wanted
    if (
        not isinstance(current, list)
        or not all(isinstance(s, str) and s.strip() for s in current)
        or not current
    ):
        return Response(
            'scopes is required: "read_products,write_orders" or a list of scope names', status=400
        )
    current = list(dict.fromkeys(s.strip() for s in current))
    sandbox = _sandbox()
    record = sandbox.shops.ensure(shop)
    previous = granted_scopes(record)
    record["grantedScopes"] = current
    sandbox.store.put_row("shops", shop, record)
    shop_id = int(record["id"].rsplit("/", 1)[1])
    payload = {
        "id": shop_id,
        "shop_id": shop_id,
        "previous": previous,
        "current": current,
        "updated_at": iso(sandbox.clock.now()),
    }
    return jsonify({**payload, "webhook_ids": sandbox.emit(shop, "app/scopes_update", payload)})


@blueprint.post("/shops/<shop>/webhooks")
def send_webhook(shop: str) -> Response:
    """Send any topic with any payload to the shop's subscribers (e.g. compliance topics)."""
    body = _body()
    if not body.get("topic"):
        return Response("topic is required", status=400)
    _sandbox().shops.ensure(shop)
    return jsonify({"webhook_ids": _sandbox().emit(shop, str(body["topic"]), body.get("payload") or {})})


@blueprint.post("/chaos")
def chaos() -> Response:
    switches = _sandbox().webhooks.chaos
    body = _body()
    for name in ("duplicate_rate", "delay_seconds", "reorder_window"):
        if name in body:
            setattr(switches, name, float(body[name]))
    if "reorder" in body:
        switches.reorder = bool(body["reorder"])
    return jsonify({name: value for name, value in vars(switches).items() if name != "rng"})


@blueprint.post("/shops/<shop>/orders/cancel_fails")
def cancel_fails(shop: str) -> Response:
    """The order's next cancel job ends without cancelling it (a refund declined, by default)."""
    body = _body()
    order_id = str(body.get("orderId", ""))
    message = str(body.get("message") or order_cancel.REFUND_DECLINED)
    try:
        order_cancel.fail_next_cancel(_sandbox(), shop, order_id, message)
    except LookupError as error:
        return Response(str(error), status=404)
    return jsonify({"orderId": order_id, "message": message})


@blueprint.post("/shops/<shop>/orders/fulfillment_service")
def fulfillment_service_holds(shop: str) -> Response:
    """A fulfillment service holds the order's open fulfillment orders (ACCEPTED by default: orderCancel
    is refused), or gives them back (requestStatus null)."""
    body = _body()
    order_id, service = str(body.get("orderId", "")), str(body.get("service") or "Fulfillment service")
    status = body.get("requestStatus", "ACCEPTED")
    try:
        fulfillment_service.hold(_sandbox(), shop, order_id, service, status)
    except LookupError as error:
        return Response(str(error), status=404)
    except ValueError as error:
        return Response(str(error), status=400)
    return jsonify({"orderId": order_id, "service": service, "requestStatus": status})


@blueprint.post("/shops/<shop>/orders/capture_answers")
def capture_answers(shop: str) -> Response:
    """The order's next orderCapture answers PENDING (the gateway resolves it later) or FAILURE."""
    body = _body()
    order_id, status, reason = str(body.get("orderId", "")), str(body.get("status", "")), body.get("reason")
    try:
        order_capture.answer_next_capture(_sandbox(), shop, order_id, status, reason)
    except LookupError as error:
        return Response(str(error), status=404)
    except ValueError as error:
        return Response(str(error), status=400)
    return jsonify({"orderId": order_id, "status": status, "reason": reason})


@blueprint.post("/shops/<shop>/orders/settle_captures")
def settle_captures(shop: str) -> Response:
    """The gateway resolves (SUCCESS) or rejects (FAILURE, a reason) the order's pending captures."""
    body = _body()
    order_id, status, reason = (
        str(body.get("orderId", "")),
        str(body.get("status", "SUCCESS")),
        body.get("reason"),
    )
    try:
        settled = order_capture.settle_captures(_sandbox(), shop, order_id, status, reason)
    except LookupError as error:
        return Response(str(error), status=404)
    except ValueError as error:
        return Response(str(error), status=400)
    return jsonify({"orderId": order_id, "status": status, "settled": settled})


@blueprint.post("/shops/<shop>/idempotency/hold")
def idempotency_hold(shop: str) -> Response:
    """The shop's next request of an idempotent mutation runs `seconds` longer (a slow Shopify)."""
    body = _body()
    name, seconds = str(body.get("field", "")), float(body.get("seconds", 0))
    if name not in IDEMPOTENT_MUTATIONS or seconds <= 0:
        return Response(f"field must be one of {sorted(IDEMPOTENT_MUTATIONS)}, seconds > 0", status=400)
    idempotency.hold_next(_sandbox(), shop, name, seconds)
    return jsonify({"field": name, "seconds": seconds})


@blueprint.post("/shops/<shop>/idempotency/fail")
def idempotency_fail(shop: str) -> Response:
    """The shop's next request of an idempotent mutation fails on Shopify's side, its key too."""
    name = str(_body().get("field", ""))
    if name not in IDEMPOTENT_MUTATIONS:
        return Response(f"field must be one of {sorted(IDEMPOTENT_MUTATIONS)}", status=400)
    idempotency.fail_next(_sandbox(), shop, name)
    return jsonify({"field": name})


@blueprint.get("/webhooks/deliveries")
def deliveries() -> Response:
    return jsonify(list(_sandbox().webhooks.deliveries))


@blueprint.get("/shops/<shop>/state")
def state(shop: str) -> Response:
    limit = request.args.get("limit", type=int)
    return jsonify(dump(_sandbox(), shop, limit))


@blueprint.get("/shops/<shop>")
def page(shop: str) -> str:
    return render_template_string(_PAGE, s=dump(_sandbox(), shop, request.args.get("limit", 500, type=int)))
