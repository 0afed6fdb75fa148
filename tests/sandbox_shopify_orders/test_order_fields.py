"""Every Order field the app's flows read is emulated (a field that is not answers an error,
never a silent null): one wide document over an order that went through the whole lifecycle."""

from __future__ import annotations

from sandbox.shopify import checkout

from .helpers import Catalogue, ShopClient

WIDE = """
fragment Money on MoneyBag { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
fragment Address on MailingAddress {
  id firstName lastName name company address1 address2 city province provinceCode zip country countryCodeV2
  phone formatted formattedArea
}
query Wide($id: ID!) {
  node(id: $id) { id ... on Order { name } }
  orderByIdentifier(identifier: {id: $id}) { id }
  order(id: $id) {
    id legacyResourceId name number confirmationNumber createdAt updatedAt processedAt closedAt email phone
    currencyCode presentmentCurrencyCode note tags customAttributes { key value } discountCode discountCodes
    paymentGatewayNames displayFinancialStatus displayFulfillmentStatus capturable fullyPaid unpaid
    cancelledAt cancelReason closed confirmed test edited taxesIncluded sourceName requiresShipping
    fulfillable merchantEditable canMarkAsPaid refundable restockable
    subtotalLineItemsQuantity currentSubtotalLineItemsQuantity
    subtotalPriceSet { ...Money } currentSubtotalPriceSet { ...Money } totalDiscountsSet { ...Money }
    currentTotalDiscountsSet { ...Money } totalShippingPriceSet { ...Money }
    currentShippingPriceSet { ...Money }
    totalTaxSet { ...Money } totalPriceSet { ...Money } currentTotalPriceSet { ...Money }
    originalTotalPriceSet { ...Money } totalOutstandingSet { ...Money } totalReceivedSet { ...Money }
    totalRefundedSet { ...Money } netPaymentSet { ...Money } totalCapturableSet { ...Money }
    customer { id legacyResourceId firstName lastName displayName email phone numberOfOrders state locale
      defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber } defaultAddress { ...Address }
      tags createdAt updatedAt }
    shippingAddress { ...Address } billingAddress { ...Address }
    localizedFields(first: 5) { nodes { countryCode key purpose title value } }
    shippingLine { title code carrierIdentifier source originalPriceSet { ...Money } }
    shippingLines(first: 5) { nodes { id title code discountedPriceSet { ...Money } } }
    discountApplications(first: 5) {
      nodes { index allocationMethod targetSelection targetType
        value { ... on PricingPercentageValue { percentage } ... on MoneyV2 { amount } }
        ... on DiscountCodeApplication { code } }
    }
    lineItems(first: 10) {
      nodes { id name title variantTitle sku vendor quantity currentQuantity unfulfilledQuantity
        fulfillableQuantity nonFulfillableQuantity refundableQuantity requiresShipping taxable isGiftCard
        merchantEditable restockable customAttributes { key value } product { id } variant { id sku }
        originalUnitPriceSet { ...Money } discountedUnitPriceSet { ...Money }
        discountedUnitPriceAfterAllDiscountsSet { ...Money } originalTotalSet { ...Money }
        discountedTotalSet { ...Money } totalDiscountSet { ...Money }
        unfulfilledDiscountedTotalSet { ...Money }
        discountAllocations { allocatedAmountSet { ...Money } discountApplication { index } } }
    }
    transactions(first: 10) { id kind status gateway formattedGateway createdAt processedAt test
      authorizationExpiresAt manuallyCapturable multiCapturable errorCode accountNumber
      amountSet { ...Money } totalUnsettledSet { ...Money } parentTransaction { id } order { id } }
    transactionsCount { count }
    fulfillmentOrders(first: 5) {
      nodes { id orderId orderName status requestStatus createdAt updatedAt fulfillAt order { id }
        assignedLocation { name city countryCode location { id name } }
        lineItems(first: 10) { nodes { id sku productTitle variantTitle totalQuantity remainingQuantity
          requiresShipping inventoryItemId variant { id } lineItem { id } } }
        fulfillments(first: 5) { nodes { id } } }
    }
    fulfillmentsCount { count }
    fulfillments(first: 5) { id legacyResourceId name status displayStatus createdAt totalQuantity
      order { id } location { id } trackingInfo(first: 3) { company number url }
      fulfillmentLineItems(first: 10) {
        nodes { id quantity lineItem { id sku } originalTotalSet { ...Money } }
      }
      fulfillmentOrders(first: 5) { nodes { id } } }
    metafields(first: 5) { nodes { key value } }
  }
}"""


def test_a_lifecycle_order_answers_every_field_the_flows_read(shop: ShopClient, catalogue: Catalogue) -> None:
    order_id = checkout.place_order(
        shop.handle.sandbox,
        "acme",
        lines=[{"sku": "ARZ-1", "quantity": 2}, {"sku": "FJN-1", "quantity": 1}],
        gateway="cartao",
        capture="manual",
        discount_code="VOLTEI5",
        discount_percent=5.0,
        seed=13,
    )
    checkout.mark_paid(shop.handle.sandbox, "acme", order_id)
    fulfillment_order = shop.data(WIDE, {"id": order_id})["order"]["fulfillmentOrders"]["nodes"][0]["id"]
    created = shop.data(
        "mutation F($id: ID!) { fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: "
        '[{fulfillmentOrderId: $id}], trackingInfo: {company: "Correios", number: "BR1BR"}}) '
        "{ fulfillment { id } userErrors { field message } } }",
        {"id": fulfillment_order},
    )["fulfillmentCreate"]
    assert created["userErrors"] == []
    data = shop.data(WIDE, {"id": order_id})
    assert data["node"]["name"] == data["order"]["name"] and data["orderByIdentifier"]["id"] == order_id
    wide = data["order"]
    assert wide["displayFinancialStatus"] == "PAID" and wide["displayFulfillmentStatus"] == "FULFILLED"
    assert [t["kind"] for t in wide["transactions"]] == ["AUTHORIZATION", "CAPTURE"]
    assert (
        wide["customer"]["numberOfOrders"] == "1"
        and wide["customer"]["defaultAddress"]["countryCodeV2"] == "BR"
    )
    assert wide["discountApplications"]["nodes"][0]["code"] == "VOLTEI5"
    assert wide["fulfillments"][0]["fulfillmentLineItems"]["nodes"][0]["lineItem"]["id"]
    assert (
        wide["fulfillmentOrders"]["nodes"][0]["fulfillments"]["nodes"][0]["id"]
        == created["fulfillment"]["id"]
    )
