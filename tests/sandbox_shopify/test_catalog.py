"""Catalog: productSet upserts (customId, handle, id), variant updates, look-ups, metafields,
price lists and catalogs."""

from __future__ import annotations

from .helpers import CUSTOM_ID_DEFINITION, PRODUCT_SET, ShopClient, two_variant_input

CUSTOM = {"customId": {"namespace": "erp", "key": "product_id", "value": "SEQ-123"}}


def test_product_set_by_custom_id_twice_is_one_product_with_variants_replaced(shop: ShopClient) -> None:
    assert shop.data(CUSTOM_ID_DEFINITION)["metafieldDefinitionCreate"]["userErrors"] == []
    first = shop.data(PRODUCT_SET, {"identifier": CUSTOM, "input": two_variant_input()})["productSet"]
    assert first["userErrors"] == []
    kept_variant = first["product"]["variants"]["nodes"][0]
    second_input = two_variant_input("Arroz Tipo 1 Novo")
    second_input["variants"] = second_input["variants"][:1]
    second_input["variants"][0]["price"] = "8.50"
    second = shop.data(PRODUCT_SET, {"identifier": CUSTOM, "input": second_input})["productSet"]
    assert second["userErrors"] == []
    assert second["product"]["id"] == first["product"]["id"]
    assert second["product"]["title"] == "Arroz Tipo 1 Novo"
    variants = second["product"]["variants"]["nodes"]
    assert [(v["id"], v["sku"], v["price"]) for v in variants] == [(kept_variant["id"], "ARZ-1", "8.50")]
    data = shop.data(
        """{ products(first: 10) { nodes { id } }
             productByIdentifier(identifier: {customId: {namespace: "erp", key: "product_id",
               value: "SEQ-123"}}) {
               id metafield(namespace: "erp", key: "product_id") { value type } }
             gone: productVariants(first: 5, query: "sku:ARZ-5") { nodes { id } } }"""
    )
    assert len(data["products"]["nodes"]) == 1
    assert data["productByIdentifier"]["metafield"] == {"value": "SEQ-123", "type": "id"}
    assert data["gone"]["nodes"] == []
    counts = shop.handle.sandbox.store.count("acme", "InventoryItem")
    assert counts == 1  # the removed variant's inventory item went with it


def test_custom_id_needs_an_id_definition(shop: ShopClient) -> None:
    result = shop.data(PRODUCT_SET, {"identifier": CUSTOM, "input": two_variant_input()})["productSet"]
    assert result["product"] is None
    assert result["userErrors"][0]["field"] == ["identifier", "customId"]


def test_id_in_input_with_identifier_is_not_allowed(shop: ShopClient, product: dict) -> None:
    payload = {**two_variant_input(), "id": product["id"]}
    result = shop.data(PRODUCT_SET, {"identifier": {"handle": "x"}, "input": payload})["productSet"]
    assert result["userErrors"] == [
        {
            "field": ["input", "id"],
            "message": "The id field is not allowed if identifier is provided.",
            "code": "ID_NOT_ALLOWED",
        }
    ]


def test_handle_taken_and_upsert_by_handle(shop: ShopClient, product: dict) -> None:
    other = shop.data(PRODUCT_SET, {"input": {**two_variant_input("Feijão"), "handle": "arroz-tipo-1"}})
    assert other["productSet"]["userErrors"][0]["code"] == "HANDLE_NOT_UNIQUE"
    same = shop.data(
        PRODUCT_SET, {"identifier": {"handle": "arroz-tipo-1"}, "input": two_variant_input("Arroz")}
    )
    assert same["productSet"]["product"]["id"] == product["id"]
    auto = shop.data(PRODUCT_SET, {"input": two_variant_input()})["productSet"]["product"]
    assert auto["handle"] == "arroz-tipo-1-1"


def test_an_item_created_without_tracked_is_untracked_and_takes_no_level(
    shop: ShopClient, location_id: str
) -> None:
    """As Shopify creates an inventory item through the API: untracked unless the input says
    `tracked: true` (it then sells without limit, and inventorySetQuantities refuses it)."""
    plain = two_variant_input("Feijão")
    plain["variants"][1]["inventoryItem"] = {"sku": "FEI-5"}
    plain["variants"][0]["inventoryItem"] = {"sku": "FEI-1", "tracked": True}
    created = shop.data(PRODUCT_SET, {"input": plain})["productSet"]["product"]
    items = [v["inventoryItem"]["id"] for v in created["variants"]["nodes"]]
    tracked = shop.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on InventoryItem { sku tracked } } }", {"ids": items}
    )["nodes"]
    assert tracked == [{"sku": "FEI-1", "tracked": True}, {"sku": "FEI-5", "tracked": False}]
    refused = shop.data(
        """mutation($input: InventorySetQuantitiesInput!) {
          inventorySetQuantities(input: $input) @idempotent(key: "fei-5") { userErrors { code } } }""",
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "quantities": [
                    {
                        "inventoryItemId": items[1],
                        "locationId": location_id,
                        "quantity": 3,
                        "changeFromQuantity": None,
                    }
                ],
            }
        },
    )["inventorySetQuantities"]["userErrors"]
    assert refused == [{"code": "NON_MUTABLE_INVENTORY_ITEM"}]


def test_product_variants_bulk_update(shop: ShopClient, product: dict) -> None:
    variant = product["variants"]["nodes"][1]
    document = """
    mutation($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $partial: Boolean) {
      productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: $partial) {
        productVariants { id price compareAtPrice barcode inventoryPolicy
          inventoryItem { sku tracked measurement { weight { value unit } } } }
        userErrors { field message code }
      }
    }"""
    change = {
        "id": variant["id"],
        "price": "24.90",
        "compareAtPrice": "29.90",
        "barcode": "7891000100127",
        "inventoryPolicy": "CONTINUE",
        "inventoryItem": {
            "sku": "ARZ-5B",
            "tracked": True,
            "measurement": {"weight": {"value": 5.0, "unit": "KILOGRAMS"}},
        },
    }
    bad = {"id": "gid://shopify/ProductVariant/1", "price": "1.00"}
    refused = shop.data(document, {"productId": product["id"], "variants": [change, bad]})
    assert refused["productVariantsBulkUpdate"]["userErrors"][0]["field"] == ["variants", "1", "id"]
    assert refused["productVariantsBulkUpdate"]["productVariants"] is None
    partial = shop.data(document, {"productId": product["id"], "variants": [change, bad], "partial": True})
    updated = partial["productVariantsBulkUpdate"]["productVariants"]
    assert updated == [
        {
            "id": variant["id"],
            "price": "24.90",
            "compareAtPrice": "29.90",
            "barcode": "7891000100127",
            "inventoryPolicy": "CONTINUE",
            "inventoryItem": {
                "sku": "ARZ-5B",
                "tracked": True,
                "measurement": {"weight": {"value": 5.0, "unit": "KILOGRAMS"}},
            },
        }
    ]
    found = shop.data('{ productVariants(first: 5, query: "sku:ARZ-5B") { nodes { id } } }')
    assert found["productVariants"]["nodes"] == [{"id": variant["id"]}]


def test_queries_by_barcode_status_and_updated_at(shop: ShopClient, product: dict) -> None:
    data = shop.data("""{
      a: products(first: 5, query: "barcode:7891000100110") { nodes { id } }
      b: products(first: 5, query: "status:draft") { nodes { id } }
      c: products(first: 5, query: "status:active updated_at:>'2000-01-01T00:00:00Z'") { nodes { id } }
      d: products(first: 5, query: "updated_at:>'2999-01-01T00:00:00Z'") { nodes { id } }
    }""")
    assert data["a"]["nodes"] == [{"id": product["id"]}]
    assert data["b"]["nodes"] == []
    assert data["c"]["nodes"] == [{"id": product["id"]}]
    assert data["d"]["nodes"] == []


def test_products_paginate_with_cursors(shop: ShopClient) -> None:
    for n in range(3):
        shop.data(PRODUCT_SET, {"input": two_variant_input(f"Produto {n}")})
    page = shop.data("{ products(first: 2) { nodes { title } pageInfo { hasNextPage endCursor } } }")[
        "products"
    ]
    assert [p["title"] for p in page["nodes"]] == ["Produto 0", "Produto 1"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = shop.data(
        "query($after: String) { products(first: 2, after: $after) { nodes { title } "
        "pageInfo { hasNextPage } } }",
        {"after": page["pageInfo"]["endCursor"]},
    )["products"]
    assert [p["title"] for p in rest["nodes"]] == ["Produto 2"]
    assert rest["pageInfo"]["hasNextPage"] is False


METAFIELDS_SET = """
mutation($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { key value } userErrors { field code elementIndex } }
}"""


def test_metafields_set_is_atomic_and_limited_to_25(shop: ShopClient, product: dict) -> None:
    good = {
        "ownerId": product["id"],
        "namespace": "erp",
        "key": "ncm",
        "type": "single_line_text_field",
        "value": "10063021",
    }
    bad = {
        "ownerId": "gid://shopify/Product/1",
        "namespace": "erp",
        "key": "ncm",
        "type": "single_line_text_field",
        "value": "x",
    }
    refused = shop.data(METAFIELDS_SET, {"metafields": [good, bad]})["metafieldsSet"]
    assert refused["metafields"] is None
    assert refused["userErrors"][0]["elementIndex"] == 1
    assert (
        shop.data(
            "query($id: ID!) { product(id: $id) { metafields(first: 5) { nodes { key } } } }",
            {"id": product["id"]},
        )["product"]["metafields"]["nodes"]
        == []
    )
    many = [{**good, "key": f"k{n}"} for n in range(26)]
    assert (
        shop.data(METAFIELDS_SET, {"metafields": many})["metafieldsSet"]["userErrors"][0]["code"]
        == "LESS_THAN_OR_EQUAL_TO"
    )
    assert shop.data(METAFIELDS_SET, {"metafields": [good]})["metafieldsSet"]["metafields"] == [
        {"key": "ncm", "value": "10063021"}
    ]


def test_metafields_delete_answers_null_for_one_not_found(shop: ShopClient, product: dict) -> None:
    """metafieldsDelete answers each identifier deleted, or null for one there was no metafield of."""
    link = {
        "ownerId": product["id"],
        "namespace": "nfe",
        "key": "danfe_url",
        "type": "url",
        "value": "https://d",
    }
    assert shop.data(METAFIELDS_SET, {"metafields": [link]})["metafieldsSet"]["userErrors"] == []
    gone = {"ownerId": product["id"], "namespace": "nfe", "key": "danfe_url"}
    never = {**gone, "key": "xml_url"}
    deleted = shop.data(
        """mutation($metafields: [MetafieldIdentifierInput!]!) {
             metafieldsDelete(metafields: $metafields) { deletedMetafields { ownerId namespace key }
               userErrors { field message } } }""",
        {"metafields": [gone, never]},
    )["metafieldsDelete"]
    assert deleted == {"deletedMetafields": [gone, None], "userErrors": []}
    query = "query($id: ID!) { product(id: $id) { metafields(first: 5) { nodes { key } } } }"
    left = shop.data(query, {"id": product["id"]})
    assert left["product"]["metafields"]["nodes"] == []


def test_metafields_set_validates_values_by_type_as_shopify_does(shop: ShopClient, product: dict) -> None:
    """Every type has its built-in validation: a relative or ftp link, a non-ISO date, text on
    two lines in a single-line field are INVALID_VALUE, and the whole call is refused."""
    base = {"ownerId": product["id"], "namespace": "erp"}
    good = {**base, "key": "danfe", "type": "url", "value": "https://erp.example.com.br/danfe/1.pdf"}
    cases = [("danfe", "url", "/danfe/1.pdf"), ("danfe", "url", "ftp://erp/x.xml"),
             ("danfe", "url", "http://erp/a b.pdf"), ("emitida", "date_time", "ontem"),
             ("serie", "single_line_text_field", "1\n2"), ("numero", "number_integer", "12a")]  # fmt: skip
    for key, kind, value in cases:
        bad = {**base, "key": key, "type": kind, "value": value}
        refused = shop.data(METAFIELDS_SET, {"metafields": [good, bad]})["metafieldsSet"]
        assert refused["metafields"] is None, value
        assert [(e["code"], e["elementIndex"]) for e in refused["userErrors"]] == [("INVALID_VALUE", 1)], (
            value
        )
    assert shop.data(METAFIELDS_SET, {"metafields": [good]})["metafieldsSet"]["userErrors"] == []


def test_price_list_fixed_prices_and_catalog(shop: ShopClient, product: dict) -> None:
    market = shop.data("{ markets(first: 5) { nodes { id name } } }")["markets"]["nodes"][0]
    price_list = shop.data("""mutation { priceListCreate(input: {name: "Loja Moema", currency: BRL,
        parent: {adjustment: {type: PERCENTAGE_DECREASE, value: 0}}}) {
        priceList { id currency } userErrors { field code } } }""")["priceListCreate"]["priceList"]
    variant_id = product["variants"]["nodes"][0]["id"]
    added = shop.data(
        """mutation($pl: ID!, $prices: [PriceListPriceInput!]!) { priceListFixedPricesAdd(priceListId: $pl,
             prices: $prices) { prices { price { amount currencyCode } variant { id } }
             userErrors { field code } } }""",
        {
            "pl": price_list["id"],
            "prices": [{"variantId": variant_id, "price": {"amount": "6.99", "currencyCode": "BRL"}}],
        },
    )["priceListFixedPricesAdd"]
    assert added["prices"] == [
        {"price": {"amount": "6.99", "currencyCode": "BRL"}, "variant": {"id": variant_id}}
    ]
    mismatch = shop.data(
        """mutation($pl: ID!, $prices: [PriceListPriceInput!]!) { priceListFixedPricesUpdate(priceListId: $pl,
             pricesToAdd: $prices, variantIdsToDelete: []) { userErrors { field code } } }""",
        {
            "pl": price_list["id"],
            "prices": [{"variantId": variant_id, "price": {"amount": "1", "currencyCode": "USD"}}],
        },
    )
    assert mismatch["priceListFixedPricesUpdate"]["userErrors"][0]["code"] == "PRICE_LIST_CURRENCY_MISMATCH"
    created = shop.data(
        """mutation($m: ID!, $pl: ID!) { catalogCreate(input: {title: "Moema", status: ACTIVE,
             context: {marketIds: [$m]}, priceListId: $pl}) {
             catalog { id title priceList { id fixedPricesCount } }
             userErrors { field code } } }""",
        {"m": market["id"], "pl": price_list["id"]},
    )["catalogCreate"]
    assert created["userErrors"] == []
    assert created["catalog"]["priceList"] == {"id": price_list["id"], "fixedPricesCount": 1}
    state = shop.handle.sandbox
    from sandbox.shopify.state_dump import dump

    assert dump(state, "acme")["priceLists"][0]["prices"] == {variant_id: "6.99"}


PRICES_ADD = """mutation($pl: ID!, $prices: [PriceListPriceInput!]!) {
  priceListFixedPricesAdd(priceListId: $pl, prices: $prices) { userErrors { field code } } }"""
PRICES_DELETE = """mutation($pl: ID!, $ids: [ID!]!) { priceListFixedPricesDelete(priceListId: $pl,
  variantIds: $ids) { deletedFixedPriceVariantIds userErrors { field message code } } }"""


def test_price_list_fixed_prices_delete_is_all_or_nothing_and_names_what_it_lacks(
    shop: ShopClient, product: dict
) -> None:
    price_list = shop.data("""mutation { priceListCreate(input: {name: "Loja Apagada", currency: BRL,
        parent: {adjustment: {type: PERCENTAGE_DECREASE, value: 0}}}) {
        priceList { id } userErrors { field code } } }""")["priceListCreate"]["priceList"]
    first, second = (v["id"] for v in product["variants"]["nodes"][:2])
    price = {"amount": "6.99", "currencyCode": "BRL"}
    added = shop.data(PRICES_ADD, {"pl": price_list["id"], "prices": [{"variantId": first, "price": price}]})
    assert added["priceListFixedPricesAdd"]["userErrors"] == []
    lacking = shop.data(PRICES_DELETE, {"pl": price_list["id"], "ids": [first, second]})
    assert lacking["priceListFixedPricesDelete"] == {
        "deletedFixedPriceVariantIds": None,
        "userErrors": [
            {
                "field": ["variantIds", "1"],
                "message": "A fixed price for the specified product variant doesn't exist.",
                "code": "VARIANT_NOT_FOUND",
            }
        ],
    }
    from sandbox.shopify.state_dump import dump

    assert dump(shop.handle.sandbox, "acme")["priceLists"][0]["prices"] == {first: "6.99"}  # untouched
    deleted = shop.data(PRICES_DELETE, {"pl": price_list["id"], "ids": [first]})["priceListFixedPricesDelete"]
    assert deleted == {"deletedFixedPriceVariantIds": [first], "userErrors": []}
    assert dump(shop.handle.sandbox, "acme")["priceLists"][0]["prices"] == {}
    gone = shop.data(PRICES_DELETE, {"pl": "gid://shopify/PriceList/999999", "ids": [first]})
    assert gone["priceListFixedPricesDelete"]["userErrors"][0]["code"] == "PRICE_LIST_NOT_FOUND"
    too_many = shop.gql(PRICES_DELETE, {"pl": price_list["id"], "ids": [first] * 251})
    assert too_many["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"


LIST_PRICES = """query($pl: ID!, $q: String, $origin: PriceListPriceOriginType) { priceList(id: $pl) {
  prices(first: 10, query: $q, originType: $origin) { nodes { price { amount } variant { id } } } } }"""


def test_price_list_prices_filter_by_variant_and_product_ids_and_origin(
    shop: ShopClient, product: dict
) -> None:
    """PriceList.prices takes `query` with variant_id and product_id (Admin API 2024-01 on), and
    `originType`: the sandbox holds fixed prices only, so RELATIVE finds none."""
    price_list = shop.data("""mutation { priceListCreate(input: {name: "Loja Filtro", currency: BRL,
        parent: {adjustment: {type: PERCENTAGE_DECREASE, value: 0}}}) {
        priceList { id } userErrors { field code } } }""")["priceListCreate"]["priceList"]
    first, second = (v["id"] for v in product["variants"]["nodes"][:2])
    both = [
        {"variantId": v, "price": {"amount": a, "currencyCode": "BRL"}}
        for v, a in ((first, "1.50"), (second, "2.50"))
    ]
    added = shop.data(PRICES_ADD, {"pl": price_list["id"], "prices": both})
    assert added["priceListFixedPricesAdd"]["userErrors"] == []

    def found(query: str | None, origin: str | None = None) -> list[tuple[str, str]]:
        data = shop.data(LIST_PRICES, {"pl": price_list["id"], "q": query, "origin": origin})
        return [(n["variant"]["id"], n["price"]["amount"]) for n in data["priceList"]["prices"]["nodes"]]

    num = lambda gid: gid.rsplit("/", 1)[-1]  # noqa: E731
    assert found(f"variant_id:{num(second)}") == [(second, "2.50")]
    assert sorted(found(f"variant_id:{num(first)} OR variant_id:{num(second)}")) == sorted(
        [(first, "1.50"), (second, "2.50")]
    )
    assert len(found(f"product_id:{num(product['id'])}", "FIXED")) == 2
    assert found("variant_id:1") == [] and found(None, "RELATIVE") == []
    missing = shop.data(LIST_PRICES, {"pl": "gid://shopify/PriceList/999999", "q": None, "origin": None})
    assert missing == {"priceList": None}


def test_price_list_delete_takes_its_prices_and_leaves_its_catalog_without_one(
    shop: ShopClient, product: dict
) -> None:
    """As the admin's "Delete price list": the list and its prices go, its catalog stays listless,
    and its id answers PRICE_LIST_NOT_FOUND to every fixed-price call from then on."""
    from sandbox.shopify.state_dump import dump

    market = shop.data("{ markets(first: 1) { nodes { id } } }")["markets"]["nodes"][0]["id"]
    price_list = shop.data("""mutation { priceListCreate(input: {name: "Loja Removida", currency: BRL,
        parent: {adjustment: {type: PERCENTAGE_DECREASE, value: 0}}}) {
        priceList { id } } }""")["priceListCreate"]["priceList"]
    create = """mutation($m: ID!, $pl: ID!) { catalogCreate(input: {title: "Removida", status: ACTIVE,
        context: {marketIds: [$m]}, priceListId: $pl}) { catalog { id } } }"""
    catalog = shop.data(create, {"m": market, "pl": price_list["id"]})["catalogCreate"]["catalog"]
    first = product["variants"]["nodes"][0]["id"]
    price = {"amount": "6.99", "currencyCode": "BRL"}
    shop.data(PRICES_ADD, {"pl": price_list["id"], "prices": [{"variantId": first, "price": price}]})
    delete = "mutation($id: ID!) { priceListDelete(id: $id) { deletedId userErrors { field code } } }"
    done = shop.data(delete, {"id": price_list["id"]})["priceListDelete"]
    assert done == {"deletedId": price_list["id"], "userErrors": []}
    assert dump(shop.handle.sandbox, "acme")["priceLists"] == []
    left = shop.data("query($id: ID!) { catalog(id: $id) { ... on MarketCatalog { priceList { id } } } }",
                     {"id": catalog["id"]})["catalog"]  # fmt: skip
    assert left == {"priceList": None}
    again = shop.data(delete, {"id": price_list["id"]})["priceListDelete"]
    assert again == {"deletedId": None, "userErrors": [{"field": ["id"], "code": "PRICE_LIST_NOT_FOUND"}]}
    add = shop.data(PRICES_ADD, {"pl": price_list["id"], "prices": [{"variantId": first, "price": price}]})
    assert add["priceListFixedPricesAdd"]["userErrors"] == [
        {"field": ["priceListId"], "code": "PRICE_LIST_NOT_FOUND"}
    ]
    update = shop.data("""mutation($pl: ID!, $p: [PriceListPriceInput!]!) { priceListFixedPricesUpdate(
        priceListId: $pl, pricesToAdd: $p, variantIdsToDelete: []) { userErrors { code } } }""",
                       {"pl": price_list["id"], "p": [{"variantId": first, "price": price}]})  # fmt: skip
    assert update["priceListFixedPricesUpdate"]["userErrors"] == [{"code": "PRICE_LIST_NOT_FOUND"}]
    created = shop.data("""mutation { priceListCreate(input: {name: "Loja Removida", currency: BRL,
        parent: {adjustment: {type: PERCENTAGE_DECREASE, value: 0}}}) {
        priceList { id } userErrors { code } } }""")["priceListCreate"]
    assert created["userErrors"] == [] and created["priceList"]["id"] != price_list["id"]  # its name is free


def test_input_fields_not_emulated_are_refused_not_dropped(shop: ShopClient) -> None:
    payload = {**two_variant_input(), "collections": ["gid://shopify/Collection/1"]}
    result = shop.data(PRODUCT_SET, {"input": payload})["productSet"]
    assert result["userErrors"] == [
        {
            "field": ["input", "collections"],
            "message": "not emulated: ProductSetInput.collections",
            "code": "INVALID_INPUT",
        }
    ]
    assert shop.handle.sandbox.store.count("acme", "Product") == 0


def test_unit_price_measurement_is_kept(shop: ShopClient) -> None:
    payload = two_variant_input()
    payload["variants"][1]["unitPriceMeasurement"] = {
        "quantityUnit": "KG",
        "quantityValue": 5.0,
        "referenceUnit": "KG",
        "referenceValue": 1,
    }
    product = shop.data(PRODUCT_SET, {"input": payload})["productSet"]["product"]
    data = shop.data(
        "query($id: ID!) { productVariant(id: $id) { unitPriceMeasurement { measuredType quantityValue "
        "referenceUnit } } }",
        {"id": product["variants"]["nodes"][1]["id"]},
    )
    assert data["productVariant"]["unitPriceMeasurement"] == {
        "measuredType": "WEIGHT",
        "quantityValue": 5.0,
        "referenceUnit": "KG",
    }


def test_search_or_and_quoted_values(shop: ShopClient, product: dict) -> None:
    data = shop.data("""{
      both: productVariants(first: 5, query: "sku:\\"ARZ-1\\" OR sku:ARZ-5") { nodes { sku } }
      none: productVariants(first: 5, query: "sku:ARZ-1 barcode:7891000100110") { nodes { sku } }
      items: inventoryItems(first: 5, query: "sku:ARZ-5 OR sku:NOPE") { nodes { sku } }
      products: products(first: 5, query: "status:draft OR sku:ARZ-5") { nodes { id } }
    }""")
    assert [v["sku"] for v in data["both"]["nodes"]] == ["ARZ-1", "ARZ-5"]
    assert data["none"]["nodes"] == []
    assert data["items"]["nodes"] == [{"sku": "ARZ-5"}]
    assert data["products"]["nodes"] == [{"id": product["id"]}]


PUBLICATIONS = """{ publications(first: 10, catalogType: APP) { nodes { id catalog { title } } } }"""
PUBLISH = """mutation($id: ID!, $input: [PublicationInput!]!) {
  publishablePublish(id: $id, input: $input) {
    publishable { ... on Product { id } } userErrors { field message } }
}"""
PUBLISHED = """query($id: ID!, $pub: ID!) {
  product(id: $id) { publishedAt publishedOnPublication(publicationId: $pub) } }"""


def test_a_product_product_set_creates_is_on_no_sales_channel_until_publishable_publish(
    shop: ShopClient, product: dict
) -> None:
    """As on Shopify: productSet publishes nowhere (ACTIVE is not "on the storefront");
    publishablePublish with the Online Store's publication id puts it there."""
    publications = {p["catalog"]["title"]: p["id"] for p in shop.data(PUBLICATIONS)["publications"]["nodes"]}
    assert set(publications) == {"Online Store", "Point of Sale"}
    online = publications["Online Store"]
    before = shop.data(PUBLISHED, {"id": product["id"], "pub": online})["product"]
    assert before == {"publishedAt": None, "publishedOnPublication": False}

    unknown = shop.data(
        PUBLISH, {"id": product["id"], "input": [{"publicationId": "gid://shopify/Publication/4"}]}
    )
    assert unknown["publishablePublish"]["userErrors"] == [
        {"field": ["input", "0", "publicationId"], "message": "Publication does not exist"}
    ]
    done = shop.data(PUBLISH, {"id": product["id"], "input": [{"publicationId": online}]})
    done = done["publishablePublish"]
    assert done == {"publishable": {"id": product["id"]}, "userErrors": []}
    after = shop.data(PUBLISHED, {"id": product["id"], "pub": online})["product"]
    assert after["publishedAt"] is not None and after["publishedOnPublication"] is True
    pos = shop.data(PUBLISHED, {"id": product["id"], "pub": publications["Point of Sale"]})["product"]
    assert pos["publishedOnPublication"] is False


def test_a_variant_id_not_of_the_product_is_refused_and_nothing_is_written(shop: ShopClient) -> None:
    """productSet updates the variant an `id` names; an id that is none of the product's variants
    (deleted, or another product's) is refused before anything is written, as Shopify's mutation
    fails whole: no half-made product left by a create, no variant changed by an update."""
    assert shop.data(CUSTOM_ID_DEFINITION)["metafieldDefinitionCreate"]["userErrors"] == []
    stale = "gid://shopify/ProductVariant/999999"
    made = two_variant_input()
    made["variants"][1]["id"] = stale
    refused = shop.data(PRODUCT_SET, {"identifier": CUSTOM, "input": made})["productSet"]
    assert refused["product"] is None
    assert refused["userErrors"][0]["field"] == ["input", "variants", "1", "id"]
    assert refused["userErrors"][0]["code"] == "PRODUCT_VARIANT_DOES_NOT_EXIST"
    assert shop.handle.sandbox.store.count("acme", "Product") == 0

    first = shop.data(PRODUCT_SET, {"identifier": CUSTOM, "input": two_variant_input()})["productSet"]
    kept = first["product"]["variants"]["nodes"]
    renamed = two_variant_input("Arroz Renomeado")
    renamed["productOptions"] = [{"name": "Peso", "values": [{"name": "1 kg"}, {"name": "5 kg"}]}]
    for variant, name, was in zip(renamed["variants"], ("1 kg", "5 kg"), kept, strict=True):
        variant["optionValues"] = [{"optionName": "Peso", "name": name}]
        variant["id"] = was["id"]
    renamed["variants"][1]["id"] = stale
    refused = shop.data(PRODUCT_SET, {"identifier": CUSTOM, "input": renamed})["productSet"]
    assert refused["userErrors"][0]["code"] == "PRODUCT_VARIANT_DOES_NOT_EXIST"
    variant = shop.handle.sandbox.store.get("acme", kept[0]["id"])
    assert [o["value"] for o in variant["selectedOptions"]] == ["1kg"]  # untouched

    renamed["variants"][1]["id"] = kept[1]["id"]
    done = shop.data(PRODUCT_SET, {"identifier": CUSTOM, "input": renamed})["productSet"]
    assert done["userErrors"] == [] and done["product"]["title"] == "Arroz Renomeado"
    assert [v["id"] for v in done["product"]["variants"]["nodes"]] == [v["id"] for v in kept]


def test_a_title_vendor_or_product_type_past_255_characters_is_refused(shop: ShopClient) -> None:
    """Shopify's longest title, vendor and product type: 255 characters (a longer one fails the
    whole product, as the app's cut in jobs.catalog_map avoids)."""
    fits = shop.data(PRODUCT_SET, {"input": {**two_variant_input("T" * 255), "vendor": "V" * 255}})
    assert fits["productSet"]["userErrors"] == []
    for field, value in (("title", "T" * 256), ("vendor", "V" * 256), ("productType", "P" * 256)):
        payload = {**two_variant_input(), field: value}
        result = shop.data(PRODUCT_SET, {"input": payload})["productSet"]
        assert result["product"] is None
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
            (["input", field], "INVALID_PRODUCT")
        ]
        assert "maximum is 255 characters" in result["userErrors"][0]["message"]
    assert shop.handle.sandbox.store.count("acme", "Product") == 1


def test_a_negative_price_a_long_sku_or_an_option_value_not_declared_is_refused(shop: ShopClient) -> None:
    cases = []
    negative = two_variant_input()
    negative["variants"][1]["price"] = "-5.00"
    cases.append((negative, ["input", "variants", "1", "price"], "INVALID_VARIANT"))
    long_sku = two_variant_input()
    long_sku["variants"][0]["inventoryItem"]["sku"] = "S" * 256
    cases.append((long_sku, ["input", "variants", "0", "sku"], "INVALID_VARIANT"))
    undeclared = two_variant_input()
    undeclared["variants"][1]["optionValues"] = [{"optionName": "Peso", "name": "10kg"}]
    cases.append((undeclared, ["input", "variants", "1", "optionValues"], "OPTION_VALUE_DOES_NOT_EXIST"))
    for payload, field, code in cases:
        result = shop.data(PRODUCT_SET, {"input": payload})["productSet"]
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(field, code)], payload
    zero = two_variant_input()
    zero["variants"][0]["price"] = "0"
    assert shop.data(PRODUCT_SET, {"input": zero})["productSet"]["userErrors"] == []
    assert shop.handle.sandbox.store.count("acme", "Product") == 1
