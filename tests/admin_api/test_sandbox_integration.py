"""The client against the Shopify sandbox over real HTTP (skipped while the sandbox is absent).

Same code path as production: settings-style origin (sandbox URL + Host header), real JSON,
the sandbox's own cost accounting feeding the Redis pacer.
"""

from __future__ import annotations

import pytest
import requests

from shopify_app.admin_api.bulk import to_jsonl
from shopify_app.admin_api.client import build_client
from shopify_app.admin_api.errors import ShopifyGraphQLError, ShopifyUserErrors
from shopify_app.admin_api.idempotency import idempotency_key

runner = pytest.importorskip("sandbox.shopify.runner")

SHOP_NAME = "integracao"
SHOP = f"{SHOP_NAME}.myshopify.com"
NAMESPACE, KEY = "erp", "product_code"


@pytest.fixture(scope="module")
def sandbox_handle():
    handle = runner.serve_in_thread(port=0)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def sandbox_url(sandbox_handle):
    return sandbox_handle.url


@pytest.fixture
def live(sandbox_url, redis_conn):
    requests.post(f"{sandbox_url}/_sandbox/shops", json={"shop": SHOP_NAME}, timeout=10)
    requests.post(f"{sandbox_url}/_sandbox/shops/{SHOP_NAME}/reset", timeout=10)
    token = requests.post(f"{sandbox_url}/_sandbox/shops/{SHOP_NAME}/access_token", timeout=10).json()[
        "access_token"
    ]
    client = build_client(
        SHOP,
        base_url=sandbox_url,
        api_version="2026-10",
        extra_headers={"Host": SHOP},
        token_provider=lambda _refused: token,
        redis_conn=redis_conn,
    )
    yield client
    client.close()


def product_input(code: str, skus: list[str]) -> dict:
    return {
        "title": f"Produto {code}",
        "status": "ACTIVE",
        "metafields": [{"namespace": NAMESPACE, "key": KEY, "type": "id", "value": code}],
        "productOptions": [{"name": "Embalagem", "values": [{"name": s} for s in skus]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Embalagem", "name": s}],
                "sku": s,
                "price": "10.50",
                "inventoryItem": {"tracked": True, "sku": s},
            }
            for s in skus
        ],
    }


def test_product_upsert_and_lookups(live):
    live.ensure_metafield_definition(NAMESPACE, KEY, "ERP product code")
    assert live.ensure_metafield_definition(NAMESPACE, KEY, "ERP product code") is None  # TAKEN: exists
    created = live.product_set(product_input("P-1", ["789-1", "789-2"]), custom_id=(NAMESPACE, KEY, "P-1"))
    again = live.product_set(product_input("P-1", ["789-1", "789-2"]), custom_id=(NAMESPACE, KEY, "P-1"))
    assert again.product.id == created.product.id  # an upsert, not a second product
    found = live.product_by_custom_id(NAMESPACE, KEY, "P-1")
    assert found is not None and found.id == created.product.id
    assert live.product_by_custom_id(NAMESPACE, KEY, "nope") is None
    [variant] = live.variants_by_sku("789-2")
    assert variant.product_id == created.product.id and variant.price is not None


def test_each_document_is_printed_once_not_per_request(live, monkeypatch):
    """The operation's text is printed when the documents load; a send never prints the AST again
    (gql's own payload would, ~10 % of an order job's CPU). The sandbox still gets a valid query."""
    import gql.graphql_request

    from shopify_app.admin_api import documents

    op = documents.operation("ProductByIdentifier")
    assert op.text == gql.graphql_request.print_ast(op.request.document)

    def no_printing(*_args):
        raise AssertionError("the document was printed again for a request")

    monkeypatch.setattr(gql.graphql_request, "print_ast", no_printing)
    live.ensure_metafield_definition(NAMESPACE, KEY, "ERP product code")
    assert live.product_by_custom_id(NAMESPACE, KEY, "none-yet") is None


def test_inventory_set_is_idempotent_and_compare_and_swap(live):
    live.ensure_metafield_definition(NAMESPACE, KEY, "ERP product code")
    result = live.product_set(product_input("P-2", ["555"]), custom_id=(NAMESPACE, KEY, "P-2"))
    item = result.product.variants[0].inventory_item_id
    location = next(live.locations()).id
    live.inventory_activate(item, location, key=idempotency_key(SHOP, "activate", item, location))
    quantities = [
        {"inventoryItemId": item, "locationId": location, "quantity": 7, "changeFromQuantity": None}
    ]
    key = idempotency_key(SHOP, "stock", "batch-1", quantities)
    first = live.inventory_set_quantities(quantities, key=key)
    replay = live.inventory_set_quantities(quantities, key=key)
    assert replay.id == first.id  # same key, same input: Shopify answers the first result
    level = live.inventory_level(item, location)
    assert level is not None and level.quantities["available"] == 7
    stale = [{**quantities[0], "quantity": 9, "changeFromQuantity": 3}]
    with pytest.raises(ShopifyUserErrors) as caught:
        live.inventory_set_quantities(stale, key=idempotency_key(SHOP, "stock", "batch-2", stale))
    assert "CHANGE_FROM_QUANTITY_STALE" in caught.value.codes
    assert live.executor.pacer.state()["max"] == 2000  # the pacer took the sandbox's throttle status


def test_bulk_mutation_end_to_end(live):
    live.ensure_metafield_definition(NAMESPACE, KEY, "ERP product code")
    product = live.product_set(product_input("P-3", ["901"]), custom_id=(NAMESPACE, KEY, "P-3")).product
    variant = product.variants[0]
    lines = [
        {"productId": product.id, "variants": [{"id": variant.id, "price": "11.90"}]},
        {
            "productId": product.id,
            "variants": [{"id": "gid://shopify/ProductVariant/999999", "price": "1.00"}],
        },
    ]
    runner = live.bulk
    runner.poll_initial, runner.poll_max = 0.05, 0.2
    progress: list[str] = []
    result = runner.run("ProductVariantsBulkUpdate", lines, progress=lambda op: progress.append(op.status))
    assert result.operation.status == "COMPLETED" and progress[-1] == "COMPLETED"
    ok, failed = result.lines
    assert ok.ok and ok.variables == lines[0]
    assert not failed.ok and failed.variables == lines[1]
    assert failed.user_errors or failed.errors
    [after] = live.variants_by_sku("901")
    assert str(after.price) == "11.90"


def test_a_run_over_the_upload_limit_goes_as_parts_its_lines_numbered_in_the_whole(live):
    """Shopify takes one staged file of at most 100 MB (here a small limit): the lines go as one
    bulk operation per part, a line never split, and each result line names its place in the
    whole input, as for one operation."""
    lines, started = _bulk_setup(live)
    variant = lines[0]["variants"][0]["id"]
    inputs = [
        {"productId": lines[0]["productId"], "variants": [{"id": variant, "price": f"{p}.90"}]}
        for p in range(5)
    ]
    inputs[3]["variants"][0]["id"] = "gid://shopify/ProductVariant/999999"  # refused: its own line only
    live.bulk.max_upload_bytes = len(to_jsonl(inputs[2:4]))  # two lines a part
    result = live.bulk.run("ProductVariantsBulkUpdate", inputs, client_identifier="prices-9")
    assert len(started) == 3
    assert [line.line_number for line in result.lines] == [0, 1, 2, 3, 4]
    assert [line.variables for line in result.lines] == inputs
    assert [line.ok for line in result.lines] == [True, True, True, False, True]
    [after] = live.variants_by_sku("904")
    assert str(after.price) == "4.90"  # the last part ran last


class WorkerKilled(BaseException):
    """What a worker killed while it waits looks like to the code it ran (nothing after runs)."""


def _bulk_setup(live) -> tuple[list[dict], list[str]]:
    live.ensure_metafield_definition(NAMESPACE, KEY, "ERP product code")
    product = live.product_set(product_input("P-4", ["904"]), custom_id=(NAMESPACE, KEY, "P-4")).product
    lines = [{"productId": product.id, "variants": [{"id": product.variants[0].id, "price": "12.90"}]}]
    started: list[str] = []
    real = live.bulk.run_mutation

    def counted(*args, **kwargs):
        operation = real(*args, **kwargs)
        started.append(operation.id)
        return operation

    live.bulk.run_mutation = counted
    live.bulk.poll_initial, live.bulk.poll_max = 0.05, 0.2
    return lines, started


def _killed(op) -> None:
    raise WorkerKilled


def test_a_bulk_run_killed_while_it_waited_is_resumed_not_started_again(live):
    """RQ runs the job again after its worker died waiting: the same file is the same unit of
    work, so the operation already started is waited on and its results mapped."""
    lines, started = _bulk_setup(live)
    with pytest.raises(WorkerKilled):
        live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier="prices-9", progress=_killed)
    result = live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier="prices-9")
    assert len(started) == 1 and result.operation.id == started[0]
    assert [line.ok for line in result.lines] == [True]
    again = live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier="prices-9")
    assert len(started) == 2 and again.operation.id != started[0]  # collected: a new run is new


def test_a_bulk_run_with_other_lines_waits_for_the_one_left_running_then_starts_its_own(live):
    lines, started = _bulk_setup(live)
    with pytest.raises(WorkerKilled):
        live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier="prices-9", progress=_killed)
    newer = [{**lines[0], "variants": [{**lines[0]["variants"][0], "price": "13.90"}]}]
    result = live.bulk.run("ProductVariantsBulkUpdate", newer, client_identifier="prices-9")
    assert len(started) == 2 and live.bulk.bulk_operation(started[0]).is_finished
    assert result.operation.id == started[1] and [line.ok for line in result.lines] == [True]
    [after] = live.variants_by_sku("904")
    assert str(after.price) == "13.90"


def test_leftover_waits_for_the_operation_a_dead_run_left_and_hands_back_its_units_until_settled(live):
    """A caller that also writes outside bulk operations (the catalog's direct productSet calls)
    asks first: the dead run's operation is waited for and its units handed back, again and again
    until the caller marks it settled (after it committed what it does with them); a run of the
    same file still adopts its results."""
    from shopify_app.admin_api.bulk import SETTLED_TTL_SECONDS, STARTED_PREFIX

    lines, started = _bulk_setup(live)
    assert live.bulk.leftover("prices-9") is None  # nothing left
    with pytest.raises(WorkerKilled):
        live.bulk.run(
            "ProductVariantsBulkUpdate", lines, client_identifier="prices-9", progress=_killed, units=["P-4"]
        )
    record = f"{STARTED_PREFIX}{live.bulk.shop}:prices-9"
    assert live.bulk.conn.ttl(record) == -1  # kept however long the operation runs
    left = live.bulk.leftover("prices-9")
    assert left is not None and (left.bulk_id, left.units) == (started[0], ["P-4"])
    assert live.bulk.bulk_operation(started[0]).is_finished
    assert live.bulk.leftover("prices-9") == left  # the caller failed before marking it: handed back again
    live.bulk.mark_settled("prices-9", left)
    assert live.bulk.leftover("prices-9") is None  # settled once
    assert 0 < live.bulk.conn.ttl(record) <= SETTLED_TTL_SECONDS
    result = live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier="prices-9")
    assert len(started) == 1 and result.operation.id == started[0]


def test_a_bulk_start_whose_answer_was_lost_is_found_not_sent_twice(live):
    """Shopify started the operation and the answer never came (a read timeout): the runner
    finds the operation among the app's in-flight ones instead of starting a second one."""
    from shopify_app.admin_api.errors import ShopifyNetworkError

    lines, _ = _bulk_setup(live)
    transport = live.executor.transport
    real_send, sends = transport.send, []

    def lossy(op, variables, token):
        answer = real_send(op, variables, token)
        if op.name == "BulkOperationRunMutation":
            sends.append(answer)
            if len(sends) == 1:
                raise ShopifyNetworkError("read timed out")
        return answer

    transport.send = lossy
    result = live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier="prices-9")
    assert len(sends) == 1 and [line.ok for line in result.lines] == [True]
    [after] = live.variants_by_sku("904")
    assert str(after.price) == "12.90"


def test_a_lost_bulk_start_is_found_among_many_older_operations_whichever_way_the_list_is_ordered(
    live, sandbox_handle
):
    """A shop with a long history of bulk mutations (12 finished ones, as after a day of passes):
    the started operation whose answer was lost is found by its creation time, not by being among
    the first few of a list whose order (newest first by default, says the schema; `reverse`
    flips it) the app does not rely on."""
    from shopify_app.admin_api.errors import ShopifyNetworkError

    lines, _ = _bulk_setup(live)
    for n in range(12):
        live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier=f"prices-old-{n}")
    store = sandbox_handle.sandbox.store
    for op in store.scan(SHOP, "BulkOperation"):  # an hour old: outside the lost answer's minute
        store.put(SHOP, {**op, "createdAt": "2026-01-01T00:00:00Z"})
    transport = live.executor.transport
    real_send, sends = transport.send, []

    def lossy(op, variables, token):
        answer = real_send(op, variables, token)
        if op.name == "BulkOperationRunMutation":
            sends.append(answer)
            if len(sends) == 1:
                raise ShopifyNetworkError("read timed out")
        return answer

    transport.send = lossy
    result = live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier="prices-9")
    assert len(sends) == 1 and [line.ok for line in result.lines] == [True]


def test_a_lost_bulk_start_never_adopts_another_callers_operation_of_the_same_mutation(live):
    """Prices and stock policies both run productVariantsBulkUpdate. The stock-policy run's
    worker died right after Shopify started its operation (nothing recorded), and the prices
    run's start answer is lost before Shopify started it: the prices run does not take the
    policy operation for its own (its lines would be mapped onto the prices), it is not confirmed."""
    from shopify_app.admin_api.errors import ShopifyServerError, ShopifyTransient

    lines, _ = _bulk_setup(live)
    variant = {**lines[0]["variants"][0], "price": "99.90"}
    policy = [{"productId": lines[0]["productId"], "variants": [variant]}]
    target = live.bulk.staged_upload("policy.jsonl")
    live.bulk.upload(target, "policy.jsonl", to_jsonl(policy))
    other = live.bulk.run_mutation("ProductVariantsBulkUpdate", target.staged_upload_path, "stock-policy-9")
    live.bulk.wait(other.id)
    real = live.bulk.run_mutation

    def lost(mutation_name, staged_path, client_identifier):
        if client_identifier == "prices-9":
            raise ShopifyServerError("502 Bad Gateway", status=502)  # never reached Shopify
        return real(mutation_name, staged_path, client_identifier)

    live.bulk.run_mutation = lost
    with pytest.raises(ShopifyTransient, match="not confirmed"):
        live.bulk.run("ProductVariantsBulkUpdate", lines, client_identifier="prices-9")


@pytest.mark.parametrize(
    ("operation", "variables"),
    [
        ("Order", {"id": "gid://shopify/Order/1"}),
        ("OrderLineItems", {"id": "gid://shopify/Order/1", "first": 100}),
        ("OrderSettlement", {"id": "gid://shopify/Order/1"}),
        ("OrderSettlementTransactions", {"id": "gid://shopify/Order/1", "first": 250}),
        ("OrderSettlementFulfillments", {"id": "gid://shopify/Order/1", "first": 250}),
        ("OrderForErp", {"id": "gid://shopify/Order/1"}),
        ("OrderShippingLines", {"id": "gid://shopify/Order/1", "first": 25}),
        ("OrderForErpShippingLines", {"id": "gid://shopify/Order/1", "first": 25}),
        ("OrderFulfillmentOrders", {"id": "gid://shopify/Order/1", "first": 4}),
        ("FulfillmentOrderLineItems", {"id": "gid://shopify/FulfillmentOrder/1", "first": 100}),
        ("OrderEditBegin", {"id": "gid://shopify/Order/1"}),
        ("ProductByIdentifier", {"identifier": {"handle": "x"}}),
        ("ProductVariantsBySku", {"query": "sku:x", "first": 10}),
        ("InventoryLevels", {"query": "sku:x", "first": 25, "names": ["available"]}),
        ("Locations", {"first": 250}),
        ("OrdersUpdatedSince", {"query": "updated_at:>='2026-01-01'", "first": 100}),
        ("Markets", {"first": 100}),  # catalog_ops.MARKETS_PAGE_SIZE
        ("MarketCatalogs", {"id": "gid://shopify/Market/1", "first": 100}),
        ("VariantProducts", {"ids": [f"gid://shopify/ProductVariant/{n}" for n in range(1, 251)]}),
        (
            "PriceListPrices",  # price_list_prices.VARIANTS_PER_CALL
            {
                "id": "gid://shopify/PriceList/1",
                "query": " OR ".join(f"variant_id:{n}" for n in range(1, 51)),
                "first": 50,
            },
        ),
        (
            "ProductsPublished",
            {
                "ids": [f"gid://shopify/Product/{n}" for n in range(1, 251)],
                "publication": "gid://shopify/Publication/90000001",
            },
        ),
        ("WebhookSubscriptions", {"first": 250}),
    ],
)
def test_documents_fit_under_the_query_cost_ceiling_at_the_page_sizes_the_client_uses(
    live, operation, variables
):
    """The sandbox prices documents like Shopify; MAX_COST_EXCEEDED here would fail every call."""
    try:
        live.executor.execute(operation, variables)
    except ShopifyGraphQLError as exc:
        assert exc.code not in {"MAX_COST_EXCEEDED"}, exc.message
    except ShopifyUserErrors:
        pass  # a mutation refusing a made-up id is fine: it was priced and run
