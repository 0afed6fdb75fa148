"""Order operations of the Admin client: read, reconcile, edit, fulfil, cancel, capture, tag."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from shopify_app.admin_api.errors import ShopifyUserErrors
from shopify_app.admin_api.executor import Executor
from shopify_app.admin_api.order_edit_lines import begun_edit
from shopify_app.admin_api.order_results import (
    CommittedEdit,
    FulfillmentOrder,
    Order,
    OrderEdit,
    OrderSummary,
    Transaction,
    parse_committed_edit,
    parse_fulfillment_order,
    parse_order,
    parse_order_line,
    parse_order_summary,
    parse_transaction,
)
from shopify_app.admin_api.order_shipping_lines import with_every_shipping_line
from shopify_app.admin_api.pagination import paginate
from shopify_app.admin_api.results import (
    Job,
    WebhookSubscription,
    nodes,
    parse_job,
    parse_webhook_subscription,
    require,
    search_time,
)

LINES_PER_PAGE = 100
FULFILLMENT_ORDERS_PER_PAGE = 4  # x 100 lines each: under the query cost ceiling
# fulfillmentOrderLineItemsPreparedForPickup: the fulfillment order has nothing left to prepare.
NOTHING_TO_PREPARE = "NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER"
CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})


class OrderOperations:
    executor: Executor

    def order(self, order_id: str, *, with_fulfillment_orders: bool = False) -> Order | None:
        """The order with every line, money, transactions, CPF/CNPJ (None: not found).

        One query stays under the 1,000-point ceiling by carrying the first 100 lines; longer
        orders (a supermarket basket can be) are completed page by page, and so are shipping lines
        past the fifth (order_shipping_lines); fulfillment orders come from their own query when
        asked for.
        """
        raw = self.executor.query("Order", {"id": order_id}).get("order")
        if not raw:
            return None
        order = with_every_shipping_line(self.executor, "OrderShippingLines", order_id, raw, parse_order(raw))
        info = (raw.get("lineItems") or {}).get("pageInfo") or {}
        if info.get("hasNextPage") and info.get("endCursor"):
            more = paginate(
                self.executor,
                "OrderLineItems",
                ("order", "lineItems"),
                {"id": order_id},
                first=LINES_PER_PAGE,
                after=info["endCursor"],
            )
            order = dataclasses.replace(order, lines=order.lines + [parse_order_line(line) for line in more])
        if with_fulfillment_orders:
            order = dataclasses.replace(order, fulfillment_orders=self.fulfillment_orders(order_id))
        return order

    def fulfillment_orders(self, order_id: str) -> list[FulfillmentOrder]:
        """The order's fulfillment orders with all their lines (for fulfillmentCreate), every
        page of both: CLOSED ones pile up as fulfillments are cancelled, and a basket can hold
        more lines than a page."""
        found = []
        for raw in paginate(self.executor, "OrderFulfillmentOrders", ("order", "fulfillmentOrders"),
                            {"id": order_id}, first=FULFILLMENT_ORDERS_PER_PAGE):  # fmt: skip
            info = (raw.get("lineItems") or {}).get("pageInfo") or {}
            if info.get("hasNextPage"):
                path = ("fulfillmentOrder", "lineItems")
                more = paginate(self.executor, "FulfillmentOrderLineItems", path, {"id": raw["id"]},
                                first=LINES_PER_PAGE, after=info.get("endCursor"))  # fmt: skip
                raw = {**raw, "lineItems": {"nodes": [*nodes(raw.get("lineItems")), *more]}}
            found.append(parse_fulfillment_order(raw))
        return found

    def orders_updated_since(self, since_iso: str, *, first: int = 100) -> Iterator[OrderSummary]:
        """Orders updated at or after `since_iso` (>=: the boundary is re-read, dedupe downstream)."""
        query = f"updated_at:>='{search_time(since_iso)}'"
        for raw in paginate(self.executor, "OrdersUpdatedSince", ("orders",), {"query": query}, first=first):
            yield parse_order_summary(raw)

    # ---- edits ----------------------------------------------------------------------------

    def order_edit_begin(self, order_id: str) -> OrderEdit:
        payload = self.executor.mutate("OrderEditBegin", {"id": order_id}, "orderEditBegin")
        return begun_edit(self.executor, payload)

    def order_edit_add_variant(
        self, calculated_order_id: str, variant_id: str, quantity: int, *, location_id: str | None = None
    ) -> str:
        """Add a variant to the open edit; the calculated line's id."""
        payload = self.executor.mutate(
            "OrderEditAddVariant",
            {
                "id": calculated_order_id,
                "variantId": variant_id,
                "quantity": quantity,
                "locationId": location_id,
            },
            "orderEditAddVariant",
        )
        return require(payload.get("calculatedLineItem"), "id", "orderEditAddVariant.calculatedLineItem")

    def order_edit_set_quantity(
        self, calculated_order_id: str, line_item_id: str, quantity: int, *, restock: bool = True
    ) -> str:
        payload = self.executor.mutate(
            "OrderEditSetQuantity",
            {"id": calculated_order_id, "lineItemId": line_item_id, "quantity": quantity, "restock": restock},
            "orderEditSetQuantity",
        )
        return require(payload.get("calculatedLineItem"), "id", "orderEditSetQuantity.calculatedLineItem")

    def order_edit_commit(
        self, calculated_order_id: str, *, notify_customer: bool = False, staff_note: str | None = None
    ) -> CommittedEdit:
        """Commit the edit; the order's id and its current total after it."""
        payload = self.executor.mutate(
            "OrderEditCommit",
            {"id": calculated_order_id, "notifyCustomer": notify_customer, "staffNote": staff_note},
            "orderEditCommit",
        )
        return parse_committed_edit(payload)

    # ---- fulfil, cancel, capture, tag ------------------------------------------------------------

    def transaction_void(self, authorization_id: str) -> str:
        """Void what an uncaptured authorisation holds; the VOID transaction's status."""
        payload = self.executor.mutate(
            "TransactionVoid", {"parentTransactionId": authorization_id}, "transactionVoid"
        )
        return require(payload.get("transaction"), "status", "transactionVoid.transaction")

    def fulfillment_order_open(self, fulfillment_order_id: str) -> str:
        """Open a SCHEDULED fulfillment order now; its status after."""
        payload = self.executor.mutate(
            "FulfillmentOrderOpen", {"id": fulfillment_order_id}, "fulfillmentOrderOpen"
        )
        return require(payload.get("fulfillmentOrder"), "status", "fulfillmentOrderOpen.fulfillmentOrder")

    def fulfillment_order_prepared_for_pickup(self, fulfillment_order_id: str) -> bool:
        """Mark a local pickup's fulfillment order ready for pickup (Shopify notifies the customer);
        False when Shopify says nothing is left to prepare on it (ready already, or picked up)."""
        try:
            self.executor.mutate(
                "FulfillmentOrderPreparedForPickup",
                {"input": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order_id}]}},
                "fulfillmentOrderLineItemsPreparedForPickup",
            )
        except ShopifyUserErrors as exc:
            if exc.codes == {NOTHING_TO_PREPARE}:
                return False
            raise
        return True

    def fulfillment_create(
        self,
        fulfillment_order_lines: dict[str, Sequence[dict[str, Any]] | None],
        *,
        tracking: dict[str, Any] | None = None,
        notify_customer: bool = False,
    ) -> str:
        """Fulfil: {fulfillmentOrderId: [{id, quantity}] or None for every remaining line}."""
        by_order = [
            {"fulfillmentOrderId": fo_id, **({"fulfillmentOrderLineItems": list(lines)} if lines else {})}
            for fo_id, lines in fulfillment_order_lines.items()
        ]
        payload = self.executor.mutate(
            "FulfillmentCreate",
            {
                "fulfillment": {
                    "lineItemsByFulfillmentOrder": by_order,
                    "trackingInfo": tracking,
                    "notifyCustomer": notify_customer,
                }
            },
            "fulfillmentCreate",
        )
        return require(payload.get("fulfillment"), "id", "fulfillmentCreate.fulfillment")

    def order_cancel(
        self,
        order_id: str,
        *,
        reason: str,
        restock: bool,
        refund_to_original: bool | None = None,
        notify_customer: bool = False,
        staff_note: str | None = None,
    ) -> Job:
        """Cancel (irreversible, asynchronous): poll `job(id)` until done."""
        if reason not in CANCEL_REASONS:
            raise ValueError(f"orderCancel reason must be one of {sorted(CANCEL_REASONS)}")
        refund = None if refund_to_original is None else {"originalPaymentMethodsRefund": refund_to_original}
        payload = self.executor.mutate(
            "OrderCancel",
            {
                "orderId": order_id,
                "reason": reason,
                "restock": restock,
                "refundMethod": refund,
                "notifyCustomer": notify_customer,
                "staffNote": staff_note,
            },
            "orderCancel",
            errors_key="orderCancelUserErrors",
        )
        return parse_job(payload.get("job") or {})

    def job(self, job_id: str) -> Job | None:
        """An asynchronous job (an order's cancellation); None when Shopify does not know it."""
        raw = self.executor.query("Job", {"id": job_id}).get("job")
        return parse_job(raw) if raw else None

    def order_capture(
        self,
        order_id: str,
        parent_transaction_id: str,
        amount: Decimal,
        *,
        currency: str | None = None,
        final_capture: bool | None = None,
    ) -> Transaction:
        """Capture an authorisation (never above the authorised amount)."""
        payload = self.executor.mutate(
            "OrderCapture",
            {
                "input": {
                    "id": order_id,
                    "parentTransactionId": parent_transaction_id,
                    "amount": str(amount),
                    "currency": currency,
                    "finalCapture": final_capture,
                }
            },
            "orderCapture",
        )
        return parse_transaction(payload.get("transaction") or {})

    def tags_add(self, resource_id: str, tags: Sequence[str]) -> str:
        payload = self.executor.mutate("TagsAdd", {"id": resource_id, "tags": list(tags)}, "tagsAdd")
        return require(payload.get("node"), "id", "tagsAdd.node")

    def webhook_subscriptions(self) -> Iterator[WebhookSubscription]:
        for raw in paginate(self.executor, "WebhookSubscriptions", ("webhookSubscriptions",)):
            yield parse_webhook_subscription(raw)
