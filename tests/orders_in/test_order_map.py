"""jobs.order_map, pure: money to the cent, CPF/CNPJ rules, lines, payments (no I/O)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs import order_map
from jobs.order_map import InvalidTaxId, VariantInfo, distribute_cents, validate_tax_id
from ledger.errors import MappingMissing
from shopify_app.admin_api.order_import_ops import parse_erp_order

CENT = Decimal("0.01")
money = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c) * CENT)


@settings(max_examples=300, deadline=None)
@given(
    total=money,
    weights=st.lists(st.integers(min_value=0, max_value=10**6).map(Decimal), min_size=1, max_size=30),
)
def test_distribution_sums_to_the_cent_and_stays_proportional(total, weights):
    shares = distribute_cents(total, weights)
    assert sum(shares) == total
    assert all(s == s.quantize(CENT) and s >= 0 for s in shares)
    weight_sum = sum(weights) or len(weights)
    for share, weight in zip(shares, weights or [], strict=True):
        exact = total * (weight if sum(weights) else 1) / weight_sum
        assert abs(share - exact) < CENT  # largest remainder: never a cent further than the exact share


def money_bag(amount: Decimal) -> dict:
    return {"shopMoney": {"amount": f"{amount:.2f}", "currencyCode": "BRL"}}


def raw_order(lines: list[tuple[Decimal, int, int, Decimal]], shipping: Decimal = Decimal("19.90")) -> dict:
    """An OrderForErp answer: lines (unit price, quantity, current quantity, line discount)."""
    nodes = []
    subtotal = Decimal(0)
    for index, (price, qty, current, discount) in enumerate(lines):
        current_discount = (discount * current / qty).quantize(CENT) if qty else Decimal(0)
        subtotal += price * current - current_discount
        nodes.append(
            {
                "id": f"gid://shopify/LineItem/{index + 1}",
                "sku": f"P{index + 1}E1",
                "name": f"Item {index + 1}",
                "quantity": qty,
                "currentQuantity": current,
                "variant": {"id": f"gid://shopify/ProductVariant/{index + 1}"},
                "originalUnitPriceSet": money_bag(price),
                "discountedUnitPriceAfterAllDiscountsSet": money_bag(price - discount / qty),
                "totalDiscountSet": money_bag(discount),
                "discountAllocations": [{"allocatedAmountSet": money_bag(discount)}] if discount else [],
            }
        )
    return {
        "id": "gid://shopify/Order/1001",
        "name": "#1001",
        "createdAt": "2026-11-28T15:00:00Z",
        "displayFinancialStatus": "PAID",
        "paymentGatewayNames": ["Pix"],
        "shippingAddress": {
            "firstName": "Maria",
            "lastName": "Silva",
            "company": None,
            "address1": "Av. Paulista, 1000",
            "address2": "Apto 12, Bela Vista",
            "city": "São Paulo",
            "province": "São Paulo",
            "provinceCode": "SP",
            "zip": "01310-100",
            "countryCodeV2": "BR",
            "phone": "+5511999990000",
        },
        "localizedFields": {"nodes": [{"key": "TAX_CREDENTIAL_BR", "value": "529.982.247-25"}]},
        "currentSubtotalPriceSet": money_bag(subtotal),
        "currentTotalPriceSet": money_bag(subtotal + shipping),
        "lineItems": {"nodes": nodes, "pageInfo": {"hasNextPage": False}},
        "shippingLines": {
            "nodes": [{"title": "Correios PAC", "code": "PAC", "discountedPriceSet": money_bag(shipping)}]
        },
        "transactions": [
            {
                "id": "gid://shopify/OrderTransaction/9",
                "gateway": "Pix",
                "kind": "SALE",
                "status": "SUCCESS",
                "amountSet": money_bag(subtotal + shipping),
            }
        ],
        "fulfillmentOrders": {
            "nodes": [
                {
                    "id": "gid://shopify/FulfillmentOrder/1",
                    "status": "OPEN",
                    "assignedLocation": {"location": {"id": "gid://shopify/Location/7"}},
                }
            ]
        },
    }


def variants_for(count: int, weighed: int | None = None) -> dict[str, VariantInfo]:
    return {
        f"gid://shopify/LineItem/{i + 1}": VariantInfo(
            f"P{i + 1}E1", i + 1, Decimal(1), weighed=(i == weighed)
        )
        for i in range(count)
    }


TARGET = order_map.OrderTarget(seq_canal_venda=7, cod_geral_oper=207, nro_empresa=1, nro_segmento=2)

line_strategy = st.tuples(
    st.integers(min_value=1, max_value=99_999).map(lambda c: Decimal(c) * CENT),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=0, max_value=100),
)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(line_strategy, min_size=1, max_size=12), weighed=st.one_of(st.none(), st.integers(0, 11))
)
def test_erp_lines_add_up_to_shopify_current_subtotal(lines, weighed):
    shaped = []
    for price, qty, current, percent in lines:
        discount = (price * qty * percent / 100).quantize(CENT)
        shaped.append((price, qty, min(current, qty), discount))
    if not any(current for _, _, current, _ in shaped):
        shaped[0] = (shaped[0][0], shaped[0][1], 1, shaped[0][3])
    read = parse_erp_order(raw_order(shaped))
    mapped = order_map.map_order(read, TARGET, variants_for(len(shaped), weighed), {"Pix": 2})
    erp_total = sum(
        ((m.line.qty * m.line.unit_price - m.line.discount).quantize(CENT) for m in mapped.lines), Decimal(0)
    )
    assert erp_total == read.current_subtotal.amount
    assert mapped.erp_total == read.current_total.amount
    assert all(m.line.discount >= 0 for m in mapped.lines)
    assert sum(p.amount for p in mapped.payments) == mapped.erp_total


def test_order_maps_customer_lines_freight_and_payment():
    read = parse_erp_order(
        raw_order([(Decimal("10.00"), 3, 3, Decimal("1.00")), (Decimal("5.55"), 1, 1, Decimal(0))])
    )
    mapped = order_map.map_order(read, TARGET, variants_for(2), {"Pix": 2})
    order = mapped.order_input
    assert order.channel_order_id == "gid://shopify/Order/1001" and order.seq_canal_venda == 7
    assert order.customer.cpf_cnpj == "52998224725" and order.customer.person_type == "F"
    assert (order.customer.street, order.customer.number) == ("Av. Paulista", "1000")
    assert (order.customer.complement, order.customer.district) == ("Apto 12", "Bela Vista")
    assert (order.customer.phone_ddd, order.customer.phone_number, order.customer.cep) == (
        "11",
        "999990000",
        "01310100",
    )
    assert order.freight == Decimal("19.90") and order.delivery_type == "E"
    assert [(line.seq_produto, line.qty, line.unit_price, line.discount) for line in order.lines] == [
        (1, Decimal(3), Decimal("10.00"), Decimal("1.00")),
        (2, Decimal(1), Decimal("5.55"), Decimal("0.00")),
    ]
    assert [(p.nro_forma_pagto, p.amount, p.channel_payment_id) for p in order.payments] == [
        (2, Decimal("54.45"), "9")
    ]
    assert read.location_ids == ["gid://shopify/Location/7"]


def test_unknown_sku_and_unmapped_gateway_name_what_is_missing():
    read = parse_erp_order(
        raw_order([(Decimal("10.00"), 1, 1, Decimal(0)), (Decimal("2.00"), 1, 1, Decimal(0))])
    )
    with pytest.raises(MappingMissing) as missing_sku:
        order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2})
    assert (missing_sku.value.kind, missing_sku.value.code) == ("variant", "P2E1")
    assert "P2E1" in missing_sku.value.message
    with pytest.raises(MappingMissing) as missing_gateway:
        order_map.map_order(read, TARGET, variants_for(2), {})
    assert (missing_gateway.value.kind, missing_gateway.value.code) == ("payment_method", "Pix")


@pytest.mark.parametrize(
    ("value", "document", "kind"),
    [
        ("12.ABC.345/01DE-35", "12ABC34501DE35", "J"),  # the official alphanumeric example
        ("12abc34501de35", "12ABC34501DE35", "J"),
        ("00000000E08G12", "00000000E08G12", "J"),
        ("11.222.333/0001-81", "11222333000181", "J"),
        ("529.982.247-25", "52998224725", "F"),
        # look-alikes a phone keyboard or a PDF brings: the ERP gets ASCII, never the raw text
        ("５２９.９８２.２４７-２５", "52998224725", "F"),
        ("529.982.247\u201325", "52998224725", "F"),  # an en dash
        ("12ABC34501DE3５", "12ABC34501DE35", "J"),
        ("529 982 247\t25", "52998224725", "F"),
    ],
)
def test_valid_tax_ids_are_normalised(value, document, kind):
    assert validate_tax_id(value) == order_map.TaxId(document, kind)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("529.982.247-24", "CPF check digits"),
        ("111.111.111-11", "one repeated digit"),
        ("12ABC34501DE36", "CNPJ check digits"),
        ("1234", "this has 4"),
        (
            "\u0665\u0662\u0669\u0669\u0668\u0662\u0662\u0664\u0667\u0662\u0665",
            "11 digits only",
        ),  # Arabic-Indic
        (None, "carries no CPF/CNPJ"),
    ],
)
def test_invalid_tax_id_shows_the_value_and_the_rule(value, rule):
    with pytest.raises(InvalidTaxId) as caught:
        validate_tax_id(value)
    assert rule in caught.value.rule
    if value:
        assert value in caught.value.message
    assert caught.value.detail["value"] == value and caught.value.error_class.value == "rejected"


@pytest.mark.parametrize(
    ("status", "setting", "ready"),
    [
        ("PAID", "paid", True),
        ("PENDING", "paid", False),
        ("AUTHORIZED", "paid", False),
        ("AUTHORIZED", "authorized", True),
        ("PENDING", "authorized", False),
    ],
)
def test_payment_confirmation_setting(status, setting, ready):
    read = parse_erp_order({**raw_order([(Decimal(1), 1, 1, Decimal(0))]), "displayFinancialStatus": status})
    assert order_map.is_ready(read.order, setting) is ready


def test_a_partly_paid_order_with_a_payment_still_pending_waits_even_when_authorised_is_enough():
    """A gift card took R$ 5, the Pix of R$ 24.90 is still PENDING: Shopify says PARTIALLY_PAID, but
    nothing covers the rest, so even the "authorized" setting waits; with the Pix paid it goes."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])

    def txn(number: int, gateway: str, status: str, amount: str) -> dict:
        return {"id": f"gid://shopify/OrderTransaction/{number}", "gateway": gateway, "kind": "SALE",
                "status": status, "amountSet": money_bag(Decimal(amount))}  # fmt: skip

    card = txn(1, "gift_card", "SUCCESS", "5.00")
    pending = {**raw, "displayFinancialStatus": "PARTIALLY_PAID",
               "transactions": [card, txn(2, "Pix", "PENDING", "24.90")]}  # fmt: skip
    assert not order_map.is_ready(parse_erp_order(pending).order, "authorized")
    paid = {
        **pending,
        "displayFinancialStatus": "PAID",
        "transactions": [card, txn(2, "Pix", "SUCCESS", "24.90")],
    }
    assert order_map.is_ready(parse_erp_order(paid).order, "authorized")
    assert order_map.is_ready(parse_erp_order(paid).order, "paid")


def test_the_company_comes_from_a_live_fulfillment_order_not_one_moved_away():
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])

    def fulfillment_order(number: int, status: str, location: int) -> dict:
        return {"id": f"gid://shopify/FulfillmentOrder/{number}", "status": status,
                "assignedLocation": {"location": {"id": f"gid://shopify/Location/{location}"}}}  # fmt: skip

    moved = {**raw, "fulfillmentOrders": {"nodes": [fulfillment_order(1, "CLOSED", 7),
                                                    fulfillment_order(2, "OPEN", 8)]}}  # fmt: skip
    assert parse_erp_order(moved).location_ids == ["gid://shopify/Location/8"]  # not the one it left
    gone = {**raw, "fulfillmentOrders": {"nodes": [fulfillment_order(1, "CLOSED", 7)]}}
    assert parse_erp_order(gone).location_ids == ["gid://shopify/Location/7"]  # nothing else is left


def test_a_failed_attempt_is_no_payment_of_its_gateway():
    """Card declined once, then authorised 80; a gift card pays 20: the ERP gets 80 + 20, not a
    card of 160 and a gift card of -60 (the declined attempt took no money)."""
    raw = raw_order([(Decimal("80.10"), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    raw["paymentGatewayNames"] = ["cartao", "gift_card"]
    raw["transactions"] = [
        {
            "id": f"gid://shopify/OrderTransaction/{n}",
            "gateway": gateway,
            "kind": kind,
            "status": status,
            "amountSet": money_bag(Decimal(amount)),
        }
        for n, gateway, kind, status, amount in (
            (1, "cartao", "AUTHORIZATION", "FAILURE", "80.00"),
            (2, "cartao", "AUTHORIZATION", "SUCCESS", "80.00"),
            (3, "gift_card", "SALE", "SUCCESS", "20.00"),
        )
    ]
    order = parse_erp_order(raw).order
    payments = order_map.map_payments(order, Decimal("100.00"), {"cartao": 3, "gift_card": 9})
    assert [(p.nro_forma_pagto, p.amount, p.channel_payment_id) for p in payments] == [
        (3, Decimal("80.00"), "2"),
        (9, Decimal("20.00"), "3"),
    ]


def test_an_order_level_code_is_spread_by_shopifys_allocation_not_evenly():
    """Real Shopify leaves order-level discounts (a 10 % code) out of a line's totalDiscountSet;
    the unit price after all discounts carries them. Spread evenly, R$ 2.00 + R$ 200.00 with 10 %
    off gave the R$ 2.00 line a R$ 10.10 discount (vDesc above vProd: SEFAZ refuses that NF-e)."""
    raw = raw_order([(Decimal("2.00"), 1, 1, Decimal(0)), (Decimal("200.00"), 1, 1, Decimal(0))])
    for node, after in zip(raw["lineItems"]["nodes"], ("1.80", "180.00"), strict=True):
        node["totalDiscountSet"] = money_bag(Decimal(0))  # order-level: not in the line's own total
        node["discountedUnitPriceAfterAllDiscountsSet"] = money_bag(Decimal(after))
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("181.80"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("201.70"))
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("201.70"))
    mapped = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(2), {"Pix": 2})
    assert [(m.line.unit_price, m.line.discount, m.net) for m in mapped.lines] == [
        (Decimal("2.00"), Decimal("0.20"), Decimal("1.80")),
        (Decimal("200.00"), Decimal("20.00"), Decimal("180.00")),
    ]


def test_a_discount_nobody_allocated_goes_by_the_lines_value():
    raw = raw_order([(Decimal("2.00"), 1, 1, Decimal(0)), (Decimal("198.00"), 1, 1, Decimal(0))])
    for node in raw["lineItems"]["nodes"]:
        node["totalDiscountSet"] = money_bag(Decimal(0))
        node["discountedUnitPriceAfterAllDiscountsSet"] = node["originalUnitPriceSet"]
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("180.00"))  # 20.00 off the order
    mapped = order_map.map_lines(parse_erp_order(raw), variants_for(2))
    assert [m.net for m in mapped] == [Decimal("1.80"), Decimal("178.20")]


def test_a_tip_and_a_gift_card_sold_are_not_goods_and_do_not_hold_the_order():
    """A tip is a line with no variant that ships nothing (outside the subtotal), counted by the
    order's totalTipReceivedSet; a gift card sold is a line of its own (inside it). Neither is
    goods the ERP invoices: the order goes with its goods, instead of parking forever on a
    "variant" no catalog sync ever binds."""
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("10.00"))
    tip = {
        "id": "gid://shopify/LineItem/90", "sku": None, "name": "Gorjeta", "quantity": 1,
        "currentQuantity": 1, "variant": None, "requiresShipping": False, "isGiftCard": False,
        "originalUnitPriceSet": money_bag(Decimal("5.00")),
        "discountedUnitPriceAfterAllDiscountsSet": money_bag(Decimal("5.00")),
        "totalDiscountSet": money_bag(Decimal(0)),
    }  # fmt: skip
    card = {
        **tip, "id": "gid://shopify/LineItem/91", "name": "Vale-presente", "isGiftCard": True,
        "requiresShipping": False, "variant": {"id": "gid://shopify/ProductVariant/91"},
        "originalUnitPriceSet": money_bag(Decimal("100.00")),
        "discountedUnitPriceAfterAllDiscountsSet": money_bag(Decimal("100.00")),
    }  # fmt: skip
    raw["lineItems"]["nodes"] += [tip, card]
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("150.00"))  # goods 50 + gift card 100
    raw["currentTotalPriceSet"] = money_bag(Decimal("165.00"))  # + freight 10 + tip 5
    raw["totalTipReceivedSet"] = money_bag(Decimal("5.00"))
    read = parse_erp_order(raw)
    assert order_map.missing_variants(read.order, variants_for(1)) == []
    mapped = order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2})
    assert [(m.id_sku, m.net) for m in mapped.lines] == [("P1E1", Decimal("50.00"))]
    assert (mapped.goods_total, mapped.erp_total) == (Decimal("50.00"), Decimal("60.00"))
    assert order_map.stock_lines(read.order) == [{"sku": "P1E1", "quantity": 1}]


def test_money_given_back_before_the_import_is_no_payment():
    """Card 180 + gift card 20, then 100 refunded to the card (an edit before the import): the
    ERP order of 100 is paid 80 by card and 20 by gift card, not 180 and -80."""
    raw = raw_order([(Decimal("80.10"), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    raw["paymentGatewayNames"] = ["cartao", "gift_card"]
    raw["transactions"] = [
        {"id": f"gid://shopify/OrderTransaction/{n}", "gateway": gateway, "kind": kind, "status": "SUCCESS",
         "amountSet": money_bag(Decimal(amount))}
        for n, gateway, kind, amount in (
            (1, "cartao", "SALE", "180.00"),
            (2, "gift_card", "SALE", "20.00"),
            (3, "cartao", "REFUND", "100.00"),
        )
    ]  # fmt: skip
    order = parse_erp_order(raw).order
    payments = order_map.map_payments(order, Decimal("100.00"), {"cartao": 3, "gift_card": 9})
    assert [(p.nro_forma_pagto, p.amount) for p in payments] == [(3, Decimal("80.00")), (9, Decimal("20.00"))]


def test_freight_is_what_the_customer_pays_for_shipping_now():
    """Shipping refunded before the import (currentDiscountedPriceSet 0), and a removed line: the
    ERP gets the freight the customer pays, not the one first charged."""
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    [line] = raw["shippingLines"]["nodes"]
    line["currentDiscountedPriceSet"] = money_bag(Decimal("0.00"))
    removed = {**line, "title": "Expressa", "isRemoved": True}
    removed["currentDiscountedPriceSet"] = money_bag(Decimal("9.90"))
    raw["shippingLines"]["nodes"].append(removed)
    assert order_map.freight_of(parse_erp_order(raw).order) == Decimal("0.00")


def test_a_company_buyer_is_named_by_its_company_from_the_billing_address():
    """CNPJ buyer: the delivery goes to a person, the company name is on the billing address; the
    ERP customer (GE_PESSOA) is the company, not the person who receives the goods."""
    from jobs.order_customer import map_customer

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["localizedFields"] = {"nodes": [{"key": "TAX_CREDENTIAL_BR", "value": "11.222.333/0001-81"}]}
    raw["billingAddress"] = {**raw["shippingAddress"], "company": "Mercadinho Bom Preço Ltda"}
    customer = map_customer(parse_erp_order(raw).order)
    assert (customer.person_type, customer.name) == ("J", "MERCADINHO BOM PREÇO LTDA")
    assert customer.street == "Av. Paulista"  # its billing address (the same street here)
    # A company may be an ICMS contributor, which the order cannot tell: not claimed either way,
    # and neither it nor the state registration is sent, so the ERP keeps its register's.
    from erp.payloads import customer_payload

    sent = customer_payload(customer)
    assert "indContribIcms" not in sent and "inscEstadualRg" not in sent
    assert (
        customer_payload(map_customer(parse_erp_order(raw_order([(Decimal(1), 1, 1, Decimal(0))])).order))[
            "indContribIcms"
        ]
        == "N"
    )  # a person is not


def test_each_cpf_goes_with_its_own_persons_name_and_address():
    """A gift: the buyer (CPF in TAX_CREDENTIAL_BR, billing address João) ships to Maria. The ERP
    upserts GE_PESSOA by document, so the buyer's CPF goes with the buyer's name and billing
    address; Maria's address, where the goods go, is named in obsPedido (PedidoVenda has no
    delivery address of its own). A recipient's SHIPPING_CREDENTIAL_BR goes with the shipping
    address."""
    from jobs.order_customer import map_customer

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    joao = {"firstName": "João", "lastName": "Comprador", "address1": "Rua Augusta, 1508", "address2": None}
    raw["billingAddress"] = {**raw["shippingAddress"], **joao, "zip": "01304-001"}
    raw["shippingAddress"] = {**raw["shippingAddress"], "firstName": "Maria", "lastName": "Presenteada"}
    read = parse_erp_order(raw)
    customer = map_customer(read.order)
    assert (customer.cpf_cnpj, customer.name) == ("52998224725", "JOÃO COMPRADOR")
    assert (customer.street, customer.number, customer.cep) == ("Rua Augusta", "1508", "01304001")
    obs = order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2}).order_input.obs
    assert obs == (
        "Shopify #1001 - Entrega: Maria Presenteada, Av. Paulista, 1000, Apto 12, Bela Vista, "
        "São Paulo/SP, CEP 01310-100, +5511999990000"
    )
    raw["localizedFields"] = {"nodes": [{"key": "SHIPPING_CREDENTIAL_BR", "value": "390.533.447-05"}]}
    recipient = parse_erp_order(raw)
    assert (map_customer(recipient.order).cpf_cnpj, map_customer(recipient.order).name) == (
        "39053344705",
        "MARIA PRESENTEADA",
    )
    # Delivered to the customer's own address: still named, as a later order of the same document
    # to elsewhere rewrites the register (the ERP upserts it) before this one is picked.
    mapped = order_map.map_order(recipient, TARGET, variants_for(1), {"Pix": 2})
    assert mapped.order_input.obs == (
        "Shopify #1001 - Entrega: Maria Presenteada, Av. Paulista, 1000, Apto 12, Bela Vista, "
        "São Paulo/SP, CEP 01310-100, +5511999990000"
    )


def _cpf_order_named(billing: dict, account: dict | None):
    from jobs.order_customer import map_customer

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {**raw["shippingAddress"], **billing}
    raw["billingAddress"] = {**raw["shippingAddress"], "phone": None}
    raw["customer"] = account and {"id": "gid://shopify/Customer/5", "email": "c@example.com", **account}
    return map_customer(parse_erp_order(raw).order).name


@pytest.mark.parametrize(
    "account",
    [
        {"firstName": "Cacá", "lastName": None},  # a nickname
        {"firstName": "Carlos", "lastName": None},  # a part of the name
        {"firstName": "Mercadinho", "lastName": "do Carlos"},  # a shop's name on a CPF
        {"firstName": "Maria", "lastName": "Souza"},  # named by an earlier gift's checkout
        {"firstName": " ", "lastName": None},
        None,  # a guest
    ],
)
def test_a_cpf_order_takes_its_billing_addresss_name_not_its_accounts(account):
    """The register (GE_PESSOA) and the NF-e take the billing address's name, also when billing is
    the shipping address's place: Shopify names an account from a checkout's address, so an account
    named by an earlier gift (or a nickname, a shop's name) would rename every later own order. Known
    limit: a gift with billing left equal to shipping registers that order under the recipient's name."""
    carlos = {"firstName": "Carlos Eduardo", "lastName": "de Souza Lima"}
    assert _cpf_order_named(carlos, account) == "CARLOS EDUARDO DE SOUZA LIMA"


def test_a_blank_address_name_falls_back_to_the_account_then_to_no_name_sent():
    """No one named: no name (not "CONSUMIDOR"), so the ERP's register keeps its own."""
    unnamed = {"firstName": " ", "lastName": " "}
    assert _cpf_order_named(unnamed, {"firstName": "Carlos", "lastName": "Souza"}) == "CARLOS SOUZA"
    assert _cpf_order_named(unnamed, {"firstName": " ", "lastName": None}) is None
    assert _cpf_order_named({"firstName": None, "lastName": None}, None) is None


def test_a_long_delivery_address_is_cut_not_the_buyers_note():
    """obsPedido is cut at the ERP's 200 characters: the delivery's tail gives way to the buyer's
    note (its start, who and where, stays), and a note too long for both is what gets cut."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {
        **raw["shippingAddress"],
        "address2": "Condomínio Residencial Jardim das Acácias, Bloco C, Apartamento 1203, Bela Vista",
    }
    raw["note"] = "Deixar na portaria com o Sr. José; tocar o interfone 1203 antes"
    obs = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2}).order_input.obs
    assert len(obs) <= 200 and obs.endswith(" - " + raw["note"]), obs
    assert obs.startswith("Shopify #1001 - Entrega: Maria Silva, Av. Paulista, 1000, Condomínio"), obs
    raw["note"] = "Nota " * 60
    obs = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2}).order_input.obs
    assert len(obs) == 200 and "Entrega: Maria Silva, Av. Paulista, 1000, Condomínio" in obs and "Nota" in obs


def test_a_squeezed_delivery_is_cut_between_its_parts_never_inside_the_number():
    """The delivery gives way to the note part by part: "..., 1234" never reads "..., 12"; the parts
    that begin within its first 100 characters stay whole, and the note is cut at its end."""
    from jobs.order_customer import delivery_obs

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {
        **raw["shippingAddress"],
        "firstName": "Maria Aparecida",
        "lastName": "dos Santos Oliveira",
        "address1": "Avenida Presidente Juscelino Kubitschek de Oliveira, 1234",
        "address2": "Apto 12, Vila Nova Conceição",
    }
    raw["note"] = (
        "Entregar depois das 18h; se não houver ninguém, deixar com o porteiro do bloco B, Sr. José."
    )
    obs = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2}).order_input.obs
    where = "Entrega: Maria Aparecida dos Santos Oliveira, " + raw["shippingAddress"]["address1"]
    assert obs.startswith(f"Shopify #1001 - {where} - Entregar depois das 18h"), obs
    assert len(obs) == 200 and raw["note"].startswith(obs.split(" - ", 2)[2]), obs
    # No note: a delivery too long for obsPedido drops its last parts whole too (no "CEP 01310-1")
    raw["note"] = None
    raw["shippingAddress"]["address2"] = "Condomínio Jardim das Acácias, Apto 1203, Vila Nova Conceição"
    read = parse_erp_order(raw)
    whole = "Shopify #1001 - " + delivery_obs(read.order)
    obs = order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2}).order_input.obs
    assert len(whole) > 200 and len(obs) <= 200 and whole.startswith(obs + ", "), obs


LONG_ADDRESS2 = (
    "Apto 52 bloco B - portaria pela rua de trás em frente à padaria do Zé; "
    "interfone não funciona - ligar ao chegar; cuidado com o cachorro - Consolação"
)  # one part (no ", "), beginning about 40 characters into the delivery


def test_a_long_address2_leaves_the_buyers_note_its_start():
    """A reference point typed in address2 (one long part) never pushes the buyer's note out of
    obsPedido: the note keeps at least its first 40 characters; the delivery's parts are dropped whole
    from its end (who, street and number stay)."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"].update(address1="Rua Augusta, 1508", address2=LONG_ADDRESS2)
    raw["note"] = "Trocar por marca similar se faltar; não aceitar substituição de carnes"
    obs = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2}).order_input.obs
    assert len(obs) <= 200 and raw["note"][: order_map.OBS_NOTE_KEPT] in obs, obs
    assert "Entrega: Maria Silva, Rua Augusta, 1508 - Trocar" in obs, obs  # the long part dropped whole


def test_an_imported_obs_names_its_own_delivery():
    """order_edits.address.names reads an obsPedido as observation writes it (whole parts within the
    first 100 characters, order_map.observation_where): the order's own obsPedido names the delivery
    it was written from."""
    from jobs.order_edits.address import names

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"].update(address1="Rua Augusta, 1508", address2=LONG_ADDRESS2)
    raw["note"] = "Trocar por marca similar se faltar"
    read = parse_erp_order(raw)
    obs = order_map.map_order(read, TARGET, variants_for(1), {"Pix": 2}).order_input.obs
    assert names(obs, order_map.observation_where(read.order)), obs
    raw["shippingAddress"]["address1"] = "Rua Augusta, 1510"
    assert not names(obs, order_map.observation_where(parse_erp_order(raw).order)), obs


@pytest.mark.parametrize(
    ("address1", "street", "number"),
    [
        ("Rua Augusta, 1508", "Rua Augusta", "1508"),
        ("Rua Augusta 1508", "Rua Augusta", "1508"),  # typed without the comma
        ("Augusta 1508", "Augusta", "1508"),  # the street type left out
        ("Av. Paulista nº 1000", "Av. Paulista", "1000"),
        ("Rua 7 de Setembro 100", "Rua 7 de Setembro", "100"),
        ("Estrada do Campo Limpo", "Estrada do Campo Limpo", "S/N"),  # sem número, as the NF-e writes it
        ("Rua 25 de Março", "Rua 25 de Março", "S/N"),
        ("Rodovia BR-116, km 20", "Rodovia BR-116", "km 20"),
        # what follows the number is a complement, not the number
        ("Av. Paulista, 1000, apto 12", "Av. Paulista", "1000"),
        ("Av. Paulista, 1000, fundos", "Av. Paulista", "1000"),
        ("Av. Paulista, 1000 - Bloco B, fundos", "Av. Paulista", "1000"),
        ("Av. Paulista, nº 1000, apto 12", "Av. Paulista", "1000"),
        ("Av. Paulista, no. 1000A", "Av. Paulista", "1000A"),
        ("Av. Paulista 1000, apto 12", "Av. Paulista", "1000"),
        ("Rua do Campo, S/N, fundos", "Rua do Campo", "S/N"),
        ("Rua do Campo, fundos", "Rua do Campo", "S/N"),
        # a street whose name is a number keeps it: "Rua 2" is no "Rua" number 2
        ("Travessa 2, casa 4", "Travessa 2", "S/N"),
        ("Rua 2, fundos", "Rua 2", "S/N"),
        ("Alameda 3, casa 2", "Alameda 3", "S/N"),
        ("Rua 10, Bloco B", "Rua 10", "S/N"),
        ("Rua 10, 45", "Rua 10", "45"),
        # the whole number, whatever its prefix: a thousands dot is dropped, not the thousands
        ("Rua das Flores, 1.500", "Rua das Flores", "1500"),
        ("Rua X, 1.234-A", "Rua X", "1234-A"),
        ("Rua X, N 1000", "Rua X", "1000"),
        ("Rua X, N.1000", "Rua X", "1000"),
        ("Rua X, número 1000", "Rua X", "1000"),
        ("Rua X, nro 1000", "Rua X", "1000"),
        ("Rua X, num. 1000", "Rua X", "1000"),
        # typed without a comma: the first number after the street's name, not the last one
        ("Av. Brasil 1500 apto 3", "Av. Brasil", "1500"),
        ("Av. Brasil 1500 - fundos", "Av. Brasil", "1500"),
        ("Rua X - 100", "Rua X", "100"),
        ("Rodovia SP-270 km 20", "Rodovia SP-270", "km 20"),
        ("Rua do Campo S/N", "Rua do Campo", "S/N"),
        ("Avenida Marechal 13 de Maio 200", "Avenida Marechal 13 de Maio", "200"),
    ],
)
def test_the_street_number_is_found_or_written_s_n(address1, street, number):
    from jobs.order_customer import map_customer

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {**raw["shippingAddress"], "address1": address1}
    customer = map_customer(parse_erp_order(raw).order)
    assert (customer.street, customer.number) == (street, number)


@pytest.mark.parametrize(
    ("address1", "address2", "complement", "district"),
    [
        ("Av. Paulista, 1000, apto 12", "Bela Vista", "apto 12", "Bela Vista"),
        ("Av. Paulista, 1000 - Bloco B, fundos", "Casa 2, Vila X", "Bloco B, fundos, Casa 2", "Vila X"),
        ("Rua do Campo, fundos", None, "fundos", ""),
        ("Av. Paulista, 1000", "Apto 12, Bela Vista", "Apto 12", "Bela Vista"),
        ("Av. Brasil 1500 apto 3", "Bela Vista", "apto 3", "Bela Vista"),
        ("Travessa 2, casa 4", "Centro", "casa 4", "Centro"),
    ],
)
def test_what_follows_the_number_in_address1_goes_in_front_of_the_complement(
    address1, address2, complement, district
):
    from jobs.order_customer import map_customer

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {**raw["shippingAddress"], "address1": address1, "address2": address2}
    customer = map_customer(parse_erp_order(raw).order)
    assert (customer.complement, customer.district) == (complement, district)


def test_an_address_sent_is_sent_whole_so_the_erps_upsert_clears_what_it_no_longer_has():
    """The ERP upserts GE_PESSOA by document and keeps a field left out: an address without a
    complement or district sends them empty, or the register would keep the old address's."""
    from erp.payloads import customer_payload
    from jobs.order_customer import map_customer

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {**raw["shippingAddress"], "address1": "Av. Paulista, 1000", "address2": None}
    sent = customer_payload(map_customer(parse_erp_order(raw).order))
    assert (sent["logradouro"], sent["nroLogradouro"], sent["complementoLogradouro"], sent["bairro"]) == (
        "Av. Paulista",
        "1000",
        "",
        "",
    )


def test_a_partial_billing_address_leaves_the_registers_address_alone():
    """A pickup paid with a wallet (Apple/Google Pay give a name and a country, maybe a CEP) is no
    address: sending it as "" would wipe the register's, so no address field is sent at all."""
    from erp.payloads import customer_payload
    from jobs.order_customer import map_customer

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["billingAddress"] = {"firstName": "Carlos", "lastName": "Souza", "company": None, "address1": None,
                             "address2": None, "city": None, "province": None, "provinceCode": None,
                             "zip": "01310-100", "countryCodeV2": "BR", "phone": None}  # fmt: skip
    raw["shippingAddress"] = None
    sent = customer_payload(map_customer(parse_erp_order(raw).order))
    assert sent["nomeRazaoSocial"] == "CARLOS SOUZA"
    address = ("cep", "logradouro", "nroLogradouro", "complementoLogradouro", "bairro", "cidade", "uf")
    assert not {k: sent[k] for k in address if k in sent}, sent
    assert not [k for k, v in sent.items() if v == ""], sent


def test_the_customer_fits_the_erps_columns_and_the_long_distance_zero_is_no_ddd():
    """Shopify allows 255 characters an address line; GE_PESSOA's columns are narrower and a longer
    value fails the whole order, so each is cut to its width. "(011) 3222-1234" is DDD 11."""
    from erp.payloads import CUSTOMER_WIDTHS, customer_payload
    from jobs.order_customer import map_customer

    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))])
    raw["shippingAddress"] = {
        **raw["shippingAddress"],
        "address1": "Rua " + "Longa " * 30 + ", km 23 Condominio Granja Viana",
        "address2": "Bloco B, apartamento 1203, entrada pela rua lateral ao lado da padaria, Bela Vista",
        "phone": "(011) 3222-1234",
    }
    customer = map_customer(parse_erp_order(raw).order)
    assert (customer.phone_ddd, customer.phone_number) == ("11", "32221234")
    sent = customer_payload(customer)
    widths = {"logradouro": "street", "nroLogradouro": "number", "complementoLogradouro": "complement"}
    for field, key in widths.items():
        assert 0 < len(sent[field]) <= CUSTOMER_WIDTHS[key], (field, sent[field])
    # "km 23" is the number; what follows it in address1 goes in front of address2's complement
    assert sent["nroLogradouro"] == "km 23"
    assert sent["complementoLogradouro"].startswith("Condominio Granja Viana, Bloco B, apartamento 1203")


def test_a_first_gateway_that_kept_more_than_the_order_pays_only_the_order() -> None:
    """A card took 180 (not refunded yet) and a gift card 20 on an order of 100: the ERP gets the
    order's total, never a negative payment, and the gift card (the card already covers the order)
    is no R$ 0.00 payment."""
    raw = raw_order([(Decimal("80.10"), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    raw["paymentGatewayNames"] = ["cartao", "gift_card"]
    raw["transactions"] = [
        {"id": f"gid://shopify/OrderTransaction/{n}", "gateway": g, "kind": "SALE", "status": "SUCCESS",
         "amountSet": money_bag(Decimal(a))}
        for n, g, a in ((1, "cartao", "180.00"), (2, "gift_card", "20.00"))
    ]  # fmt: skip
    payments = order_map.map_payments(
        parse_erp_order(raw).order, Decimal("100.00"), {"cartao": 3, "gift_card": 9}
    )
    assert [(p.nro_forma_pagto, p.amount) for p in payments] == [(3, Decimal("100.00"))]


@pytest.mark.parametrize("unit_kg", ["0.25", "0.3", "1"])
def test_a_weighed_line_sold_in_steps_of_part_of_a_kilo_loses_no_cent(unit_kg: str) -> None:
    """7 units of R$ 10.00 sold by 0.3 kg: 2.1 kg at 33.33/kg rounds up, and the discount that
    brings it back to 70.00 is never negative."""
    read = parse_erp_order(raw_order([(Decimal("10.00"), 7, 7, Decimal(0))]))
    info = VariantInfo("P1E1", 1, Decimal(1), weighed=True, sale_unit_kg=Decimal(unit_kg))
    mapped = order_map.map_order(read, TARGET, {"gid://shopify/LineItem/1": info}, {"Pix": 2})
    [line] = mapped.lines
    assert line.line.qty == 7 * Decimal(unit_kg) and line.line.discount >= 0
    assert (line.line.qty * line.line.unit_price - line.line.discount).quantize(Decimal("0.01")) == Decimal(
        "70.00"
    )


def test_a_pix_left_pending_while_the_order_was_marked_paid_by_hand_is_no_payment() -> None:
    """The Pix never confirmed; the merchant marked the order paid (gateway "manual"): the ERP gets
    the manual payment, the whole total, and the manual gateway must be mapped (not the Pix)."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    raw["displayFinancialStatus"] = "PAID"
    raw["paymentGatewayNames"] = ["Pix", "manual"]
    raw["transactions"] = [
        {"id": f"gid://shopify/OrderTransaction/{n}", "gateway": g, "kind": "SALE", "status": status,
         "amountSet": money_bag(Decimal("29.90"))}
        for n, g, status in ((1, "Pix", "PENDING"), (2, "manual", "SUCCESS"))
    ]  # fmt: skip
    order = parse_erp_order(raw).order
    assert order_map.gateways_of(order) == ["manual"]
    payments = order_map.map_payments(order, Decimal("29.90"), {"manual": 1})
    assert [(p.nro_forma_pagto, p.amount) for p in payments] == [(1, Decimal("29.90"))]


def test_a_free_line_beside_an_order_level_code_gets_no_discount_above_its_value() -> None:
    """Buy X get Y: line A free (its own 100 % discount), and a R$ 1.00 code Shopify allocates
    wholly to line B (3 x 10.00). Each ERP line carries Shopify's allocation: A at 0.00 and B at
    29.00, never a discount above a line's value (a negative line: SEFAZ refuses vDesc > vProd)."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal("10.00")), (Decimal("10.00"), 3, 3, Decimal(0))])
    a, b = raw["lineItems"]["nodes"]
    a["discountedUnitPriceAfterAllDiscountsSet"] = money_bag(Decimal("0.00"))
    b["discountedUnitPriceAfterAllDiscountsSet"] = money_bag(Decimal("9.67"))  # 29.00 / 3, rounded
    b["discountAllocations"] = [{"allocatedAmountSet": money_bag(Decimal("1.00"))}]  # the code: not in own
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("29.00"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("48.90"))
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("48.90"))
    mapped = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(2), {"Pix": 2})
    assert [(m.line.discount, m.net) for m in mapped.lines] == [
        (Decimal("10.00"), Decimal("0.00")),
        (Decimal("1.00"), Decimal("29.00")),
    ]


def test_each_erp_line_carries_shopifys_own_allocation_of_a_code() -> None:
    """BEMVINDO10 (10 % ACROSS) on 7 x 9.99 + 12 x 3.33, allocated by the Shopify sandbox's own
    `allocate` (discountAllocations 6.99 and 4.00): the ERP lines are 62.94 and 35.96, as Shopify
    (and the NF-e per item, and a later cut of one line) see them, not a split rebuilt from
    rounded unit prices (62.91 and 35.99)."""
    from sandbox.shopify.order_totals import allocate

    lines = [(Decimal("9.99"), 7), (Decimal("3.33"), 12)]
    weights = [price * qty for price, qty in lines]
    total = (sum(weights) / 10).quantize(CENT)
    shares = allocate(total, weights)
    raw = raw_order([(price, qty, qty, Decimal(0)) for price, qty in lines])
    for node, (price, qty), share in zip(raw["lineItems"]["nodes"], lines, shares, strict=True):
        node["discountAllocations"] = [{"allocatedAmountSet": money_bag(share)}]  # order-level: not in own
        after_all = ((price * qty - share) / qty).quantize(CENT)
        node["discountedUnitPriceAfterAllDiscountsSet"] = money_bag(after_all)
    raw["currentSubtotalPriceSet"] = money_bag(sum(weights) - total)
    mapped = order_map.map_lines(parse_erp_order(raw), variants_for(2))
    assert shares == [Decimal("6.99"), Decimal("4.00")]
    assert [m.net for m in mapped] == [Decimal("62.94"), Decimal("35.96")]


def test_an_allocation_of_a_line_cut_by_an_edit_goes_at_its_current_quantity() -> None:
    """Shopify's discountAllocations are for the ordered quantity: a code's 3.00 on 3 x 10.00 cut
    to 1 by an edit is 1.00 on the one left; the ERP lines still add up to the subtotal."""
    raw = raw_order([(Decimal("10.00"), 3, 1, Decimal(0)), (Decimal("5.00"), 2, 2, Decimal(0))])
    a, b = raw["lineItems"]["nodes"]
    a["discountAllocations"] = [{"allocatedAmountSet": money_bag(Decimal("3.00"))}]
    b["discountAllocations"] = [{"allocatedAmountSet": money_bag(Decimal("1.00"))}]
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("18.00"))  # 10 - 1 + 10 - 1
    mapped = order_map.map_lines(parse_erp_order(raw), variants_for(2))
    assert [(m.line.discount, m.net) for m in mapped] == [
        (Decimal("1.00"), Decimal("9.00")),
        (Decimal("1.00"), Decimal("9.00")),
    ]


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.tuples(st.integers(0, 5_000).map(lambda c: c * CENT), st.integers(1, 9)), max_size=8),
    weights=st.lists(st.integers(0, 1_000).map(Decimal), min_size=8, max_size=8),
    percent=st.integers(0, 100),
)
def test_no_line_gets_a_discount_above_its_value_whatever_the_weights(lines, weights, percent) -> None:
    """However far Shopify's figures are from the total (rounded unit prices, an allocation off by
    an edit), the shares sum to the total and none is above its line's value."""
    figures = [
        order_map.LineMoney(price * qty, None, None, weight)
        for (price, qty), weight in zip(lines, weights[: len(lines)], strict=True)
    ]
    gross = sum((f.gross for f in figures), Decimal(0))
    total = (gross * percent / 100).quantize(CENT, rounding="ROUND_DOWN")
    shares = order_map.discount_shares(total, figures)
    assert sum(shares) == total
    assert all(Decimal(0) <= s <= f.gross for s, f in zip(shares, figures, strict=True))


def test_a_custom_item_added_by_an_edit_is_not_a_tip_it_parks_the_order_naming_it() -> None:
    """orderEditAddCustomItem defaults requiresShipping to false: a custom "Sacola retornável"
    R$ 5.00 (no variant, no SKU, ships nothing) is shaped like a tip but the order has no tip
    (totalTipReceivedSet 0) and it is in the subtotal. It is goods the ERP cannot sell: the
    order parks as a missing mapping naming the line and that it has no SKU (resumed by an edit
    or a replay), instead of being rejected as a totals mismatch."""
    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("10.00"))
    custom = {
        "id": "gid://shopify/LineItem/90", "sku": None, "name": "Sacola retornável", "quantity": 1,
        "currentQuantity": 1, "variant": None, "requiresShipping": False, "isGiftCard": False,
        "originalUnitPriceSet": money_bag(Decimal("5.00")),
        "discountedUnitPriceAfterAllDiscountsSet": money_bag(Decimal("5.00")),
        "totalDiscountSet": money_bag(Decimal(0)), "discountAllocations": [],
    }  # fmt: skip
    raw["lineItems"]["nodes"].append(custom)
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("55.00"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("65.00"))
    raw["totalTipReceivedSet"] = money_bag(Decimal("0.00"))
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("65.00"))
    with pytest.raises(MappingMissing) as parked:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert parked.value.kind == "variant" and parked.value.code == "gid://shopify/LineItem/90"
    assert "'Sacola retornável'" in parked.value.message and "has no SKU" in parked.value.message
    assert parked.value.error_class.value == "mapping_missing"


def test_taxes_added_on_top_are_not_dropped_silently() -> None:
    """A store with taxesIncluded false: Shopify charges 50.00 + 19.90 freight + 6.00 tax = 75.90,
    which no ERP line carries (Brazilian prices include their taxes). The order is not sent 6.00
    short: it is refused naming both totals and the tax. With the tax inside the prices (taxes
    included, the Brazilian set-up) the same figures go through."""
    from ledger.errors import Rejected

    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("75.90"))
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("75.90"))
    raw["taxesIncluded"] = False
    raw["currentTotalTaxSet"] = money_bag(Decimal("6.00"))
    with pytest.raises(Rejected) as refused:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert refused.value.code == "TAXES_ADDED"
    assert all(figure in refused.value.message for figure in ("69.90", "75.90", "6.00"))
    included = {**raw, "taxesIncluded": True, "currentTotalPriceSet": money_bag(Decimal("69.90"))}
    mapped = order_map.map_order(parse_erp_order(included), TARGET, variants_for(1), {"Pix": 2})
    assert mapped.erp_total == Decimal("69.90")


def test_weighed_binding_unit_is_read_under_the_key_the_catalog_writes() -> None:
    """jobs.catalog_ledger writes data["unit_kg"] (and the price and stock flows read it): a KG
    item sold in steps of 0.5 kg goes to the ERP as 0.5 kg a unit, not 1 kg (the order read
    "sale_unit_kg", which nothing writes). A binding with the older key still reads."""
    from jobs.price_map import unit_factor

    data = {"seq_produto": 5, "qtd_embalagem": 1, "weighed": True, "unit_kg": "0.5"}
    info = VariantInfo.from_binding("P5E1", data)
    assert info.sale_unit_kg == unit_factor(data) == Decimal("0.5")
    older = {"seq_produto": 5, "qtd_embalagem": 1, "weighed": True, "sale_unit_kg": "0.25"}
    assert VariantInfo.from_binding("P5E1", older).sale_unit_kg == Decimal("0.25")
    read = parse_erp_order(raw_order([(Decimal("6.00"), 3, 3, Decimal(0))]))
    [line] = order_map.map_lines(read, {"gid://shopify/LineItem/1": info})
    assert (line.line.qty, line.line.unit_price, line.net) == (Decimal("1.5"), Decimal("12.00"), Decimal(18))


def _collected(raw: dict, method: str | None, title: str) -> dict:
    """`raw` as Shopify gives a checkout of delivery `method`: its shipping line's title and code,
    free, and its fulfillment order's deliveryMethod (none when `method` is None)."""
    free = money_bag(Decimal(0))
    raw["shippingLines"]["nodes"] = [{"title": title, "code": title, "discountedPriceSet": free}]
    raw["currentTotalPriceSet"] = raw["currentSubtotalPriceSet"]
    raw["transactions"][0]["amountSet"] = raw["currentSubtotalPriceSet"]
    for fo in raw["fulfillmentOrders"]["nodes"]:
        fo["deliveryMethod"] = {"methodType": method} if method else None
    return raw


def test_a_shopify_local_pickup_is_a_pickup_whatever_its_title_and_address_say() -> None:
    """Shopify titles a local pickup's shipping line after its location ("Loja Centro"), never
    "Retirada", and the order may carry a shipping address all the same (the billing copied, an
    app's): the fulfillment order's deliveryMethod.methodType PICK_UP says it is collected at the
    store. It goes to the ERP as a pickup ('R'), asks the carrier De:Para nothing (the store maps
    carriers, and "Loja Centro" is none), and obsPedido names no delivery address."""
    raw = _collected(raw_order([(Decimal("50.00"), 1, 1, Decimal(0))]), "PICK_UP", "Loja Centro")
    raw["billingAddress"] = {**raw["shippingAddress"], "address1": "Rua Augusta, 500"}
    mapped = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2}, {"SEDEX": 41})
    assert mapped.order_input.delivery_type == "R"
    assert mapped.order_input.carrier is None
    assert "Entrega" not in mapped.order_input.obs, mapped.order_input.obs


@pytest.mark.parametrize(
    ("method", "title", "address", "expected"),
    [
        ("LOCAL", "Entrega expressa", True, "E"),  # the store's own delivery
        ("PICKUP_POINT", "Retirar na agência dos Correios", True, "E"),  # a carrier's collection point
        ("SHIPPING", "Retirada na loja", True, "R"),  # a rate of the store's own named as pickup
        ("SHIPPING", "Correios SEDEX", True, "E"),
        (None, "Retirada na loja", True, "R"),  # no method read: the words
        (None, "Loja Centro", False, "R"),  # nothing ships
    ],
)
def test_the_delivery_method_decides_and_the_words_are_the_fallback(method, title, address, expected) -> None:
    raw = _collected(raw_order([(Decimal("50.00"), 1, 1, Decimal(0))]), method, title)
    if not address:
        raw["billingAddress"], raw["shippingAddress"] = raw["shippingAddress"], None
    assert order_map.delivery_type(parse_erp_order(raw).order) == expected


def test_a_pickup_beside_a_delivery_is_a_delivery_and_a_closed_fulfillment_order_says_nothing() -> None:
    """One ERP order has one tipoEntrega: goods delivered from any live fulfillment order make it a
    delivery; a fulfillment order moved away (CLOSED) no longer counts."""
    raw = _collected(raw_order([(Decimal("50.00"), 1, 1, Decimal(0))]), "PICK_UP", "Loja Centro")
    moved = {"id": "gid://shopify/FulfillmentOrder/2", "status": "OPEN",
             "deliveryMethod": {"methodType": "LOCAL"},
             "assignedLocation": {"location": {"id": "gid://shopify/Location/8"}}}  # fmt: skip
    raw["fulfillmentOrders"]["nodes"].append(moved)
    assert order_map.delivery_type(parse_erp_order(raw).order) == "E"
    moved["status"] = "CLOSED"
    assert order_map.delivery_type(parse_erp_order(raw).order) == "R"


def test_taxes_included_line_discount_stays_on_its_line() -> None:
    """A store whose prices include a 10 % tax (taxesIncluded, currentTotalTax > 0). Line 1:
    R$ 100.00 with a R$ 10.00 line discount; line 2: R$ 100.00, no discount. Shopify's
    priceAfterAllDiscountsBeforeTaxesSet leaves the tax out (90.00 / 1.1 = 81.82, 100.00 / 1.1 =
    90.91): taken as each line's value it made the tax a discount and spread the 10.00 over both
    lines (6.67 off an undiscounted line). The discount is all line 1's."""
    raw = raw_order([(Decimal("100.00"), 1, 1, Decimal("10.00")), (Decimal("100.00"), 1, 1, Decimal(0))])
    raw["lineItems"]["nodes"][0]["priceAfterAllDiscountsBeforeTaxesSet"] = money_bag(Decimal("81.82"))
    raw["lineItems"]["nodes"][1]["priceAfterAllDiscountsBeforeTaxesSet"] = money_bag(Decimal("90.91"))
    raw["taxesIncluded"] = True
    raw["currentTotalTaxSet"] = money_bag(Decimal("17.27"))
    mapped = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(2), {"Pix": 2})
    assert mapped.erp_total == Decimal("209.90")
    assert [(m.line.discount, m.net) for m in mapped.lines] == [
        (Decimal("10.00"), Decimal("90.00")),
        (Decimal("0.00"), Decimal("100.00")),
    ]


def test_a_line_valued_a_cent_above_its_unit_price_times_quantity_goes_with_its_value() -> None:
    """Shop-money amounts converted one by one from another presentment currency (or a bundle's
    price split over its components): 3 x 10.01 = 30.03 while the line (and the subtotal) is
    30.04. The customer paid 30.04 + 10.00; the order was refused as TOTALS_MISMATCH. Like a
    weighed line, the unit price goes up a cent and the excess is the line's discount."""
    raw = raw_order([(Decimal("10.01"), 3, 3, Decimal(0))], shipping=Decimal("10.00"))
    raw["lineItems"]["nodes"][0]["priceAfterAllDiscountsBeforeTaxesSet"] = money_bag(Decimal("30.04"))
    raw["currentSubtotalPriceSet"] = money_bag(Decimal("30.04"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("40.04"))
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("40.04"))
    mapped = order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert mapped.erp_total == Decimal("40.04")
    [line] = mapped.lines
    assert (line.line.qty, line.line.unit_price, line.line.discount, line.net) == (
        Decimal(3),
        Decimal("10.02"),
        Decimal("0.02"),
        Decimal("30.04"),
    )


def test_a_product_made_in_shopify_is_told_apart_from_an_erp_sku_not_bound_yet() -> None:
    """A bag made in Shopify (SKU "SACOLA-01", no ERP product) parked saying it "resumes once the
    catalog sync binds it", which never happens: it is named with its SKU and the order edit
    that resumes the order. An ERP idSku (P{seq}E{qtd}) not bound yet still waits for the sync."""
    raw = raw_order([(Decimal("10.00"), 1, 1, Decimal(0)), (Decimal("0.50"), 1, 1, Decimal(0))])
    raw["lineItems"]["nodes"][1].update({"sku": "SACOLA-01", "name": "Sacola retornável"})
    with pytest.raises(MappingMissing) as parked:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    said = parked.value.message
    assert "'Sacola retornável' (SKU SACOLA-01) was made in Shopify" in said, said
    assert "order edit" in said and "catalog sync binds it" not in said, said
    raw["lineItems"]["nodes"][1].update({"sku": "P77E1", "name": "Feijão 1kg"})
    with pytest.raises(MappingMissing) as waiting:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert "P77E1 (Feijão 1kg) yet; it resumes once the catalog sync binds it" in waiting.value.message


def test_a_total_refused_is_said_in_the_merchants_words_as_its_english_text() -> None:
    """TAXES_ADDED and TOTALS_MISMATCH carry their words: said in en they are the English message
    (figures and the tips taken off included), in pt-BR Portuguese with amounts as R$."""
    from ledger.errors import Rejected
    from ledger.words import stored
    from shopify_app import fail_words
    from shopify_app.words import said

    raw = raw_order([(Decimal("50.00"), 1, 1, Decimal(0))], shipping=Decimal("19.90"))
    raw["currentTotalPriceSet"] = money_bag(Decimal("75.90"))
    raw["transactions"][0]["amountSet"] = money_bag(Decimal("75.90"))
    raw["taxesIncluded"] = False
    raw["currentTotalTaxSet"] = money_bag(Decimal("6.00"))
    with pytest.raises(Rejected) as taxed:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    raw["taxesIncluded"] = True  # the same 6.00 gap, not a tax added on top: a difference named
    with pytest.raises(Rejected) as short:
        order_map.map_order(parse_erp_order(raw), TARGET, variants_for(1), {"Pix": 2})
    assert (taxed.value.code, short.value.code) == ("TAXES_ADDED", "TOTALS_MISMATCH")
    for refusal in (taxed.value, short.value):
        words = stored(refusal.words)
        assert said(fail_words.FAILURES, words, "en") == refusal.message
        pt = said(fail_words.FAILURES, words, "pt-BR")
        assert pt.startswith("pedido ") and "R$ 75,90" in pt and "R$ 69,90" in pt, pt
    assert "R$ 6,00 de imposto" in said(fail_words.FAILURES, stored(taxed.value.words), "pt-BR")


def test_the_buyers_note_keeps_its_first_40_characters_however_long_the_delivery():
    """The note's start a delivery's kept parts never push out: OBS_NOTE_KEPT characters of it (the
    " - " before it not counted among them)."""
    from tests.orders_in.test_delivery_slot import _order

    for n in range(1, 90):
        order = _order({}, note="N" * 150, address2="Apto 12, " + "Bloco " + "B" * n)
        obs = order_map.observation(order, ())
        assert len(obs.split(" - ")[-1]) >= order_map.OBS_NOTE_KEPT, (n, obs)
