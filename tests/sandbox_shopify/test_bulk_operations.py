"""Bulk mutations: staged upload, run through the same resolvers, result JSONL with a failed
line, the bulk_operations/finish webhook, and the 5-running limit."""

from __future__ import annotations

import json

import requests

from .helpers import PRODUCT_SET, ShopClient, two_variant_input

STAGE = """mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES, filename: "vars.jsonl",
  mimeType: "text/jsonl", httpMethod: POST}]) { stagedTargets { url resourceUrl parameters { name value } }
  userErrors { field message } } }"""

RUN = """mutation($mutation: String!, $path: String!) { bulkOperationRunMutation(mutation: $mutation,
  stagedUploadPath: $path, clientIdentifier: "carga-produtos") { bulkOperation { id status }
  userErrors { field message code } } }"""

POLL = """query($id: ID!) { bulkOperation(id: $id) {
  id status objectCount url partialDataUrl errorCode type } }"""


def _upload(shop: ShopClient, lines: list[str]) -> str:
    target = shop.data(STAGE)["stagedUploadsCreate"]["stagedTargets"][0]
    form = {p["name"]: p["value"] for p in target["parameters"]}
    response = requests.post(
        target["url"], data=form, files={"file": ("vars.jsonl", "\n".join(lines).encode())}, timeout=10
    )
    assert response.status_code == 201
    return form["key"]


def test_bulk_lifecycle_with_a_failed_line(shop: ShopClient, receiver) -> None:
    lines = [
        json.dumps({"input": two_variant_input("Produto A")}),
        "{not json",
        json.dumps({"input": {**two_variant_input("Produto B"), "id": "gid://shopify/Product/1"}}),
        json.dumps({"input": two_variant_input("Produto C")}),
    ]
    path = _upload(shop, lines)
    before = shop.gql("{ shop { name } }")["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    started = shop.data(RUN, {"mutation": PRODUCT_SET, "path": path})["bulkOperationRunMutation"]
    assert started["userErrors"] == []
    op_id = started["bulkOperation"]["id"]
    shop.handle.sandbox.bulk.wait(op_id)
    op = shop.data(POLL, {"id": op_id})["bulkOperation"]
    assert (op["status"], op["objectCount"], op["type"], op["errorCode"]) == (
        "COMPLETED",
        "4",
        "MUTATION",
        None,
    )
    results = [json.loads(line) for line in requests.get(op["url"], timeout=10).text.splitlines()]
    assert [r["__lineNumber"] for r in results] == [0, 1, 2, 3]
    assert results[0]["data"]["productSet"]["product"]["title"] == "Produto A"
    assert "errors" in results[1]
    assert results[2]["data"]["productSet"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"
    assert results[3]["data"]["productSet"]["product"]["title"] == "Produto C"
    assert shop.handle.sandbox.store.count("acme", "Product") == 2
    after = shop.gql("{ shop { name } }")["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    assert before - after < 60  # the lines were not charged (only the run mutation and polls)
    assert shop.handle.sandbox.webhooks.wait_idle()
    finished = receiver.topics("bulk_operations/finish")
    assert finished[0].json["admin_graphql_api_id"] == op_id
    assert finished[0].json["status"] == "completed"
    listed = shop.data("{ bulkOperations(first: 5) { nodes { id status } } }")["bulkOperations"]["nodes"]
    assert listed == [{"id": op_id, "status": "COMPLETED"}]


def test_invalid_mutation_and_missing_file_are_user_errors(shop: ShopClient) -> None:
    path = _upload(shop, ["{}"])
    bad = shop.data(RUN, {"mutation": "mutation { nope }", "path": path})["bulkOperationRunMutation"]
    assert bad["userErrors"][0]["code"] == "INVALID_MUTATION"
    missing = shop.data(RUN, {"mutation": PRODUCT_SET, "path": "tmp/none.jsonl"})["bulkOperationRunMutation"]
    assert missing["userErrors"][0]["field"] == ["stagedUploadPath"]
    assert missing["userErrors"][0]["code"] == "NO_SUCH_FILE"


def test_at_most_five_running_per_shop(shop: ShopClient) -> None:
    path = _upload(shop, [json.dumps({"input": two_variant_input()})])
    store = shop.handle.sandbox.store
    for _ in range(5):  # five operations held in RUNNING state
        store.put(
            "acme",
            {
                "__typename": "BulkOperation",
                "id": store.new_gid("BulkOperation"),
                "status": "RUNNING",
                "type": "MUTATION",
            },
        )
    refused = shop.data(RUN, {"mutation": PRODUCT_SET, "path": path})["bulkOperationRunMutation"]
    assert refused["bulkOperation"] is None
    assert refused["userErrors"][0]["code"] == "LIMIT_REACHED"


def test_bulk_operations_query_with_or(shop: ShopClient) -> None:
    store = shop.handle.sandbox.store
    for status in ("CREATED", "RUNNING", "COMPLETED"):
        store.put(
            "acme",
            {
                "__typename": "BulkOperation",
                "id": store.new_gid("BulkOperation"),
                "status": status,
                "type": "MUTATION",
            },
        )
    found = shop.data(
        '{ bulkOperations(first: 10, query: "status:created OR status:running") { nodes { status } } }'
    )
    # newest first, as the schema says of bulkOperations; `reverse` gives the oldest first
    assert [n["status"] for n in found["bulkOperations"]["nodes"]] == ["RUNNING", "CREATED"]
    found = shop.data(
        '{ bulkOperations(first: 10, reverse: true, query: "status:created OR status:running") '
        "{ nodes { status } } }"
    )
    assert [n["status"] for n in found["bulkOperations"]["nodes"]] == ["CREATED", "RUNNING"]


def test_bulk_operations_filtered_by_creation_time(shop: ShopClient) -> None:
    store = shop.handle.sandbox.store
    for at in ("2026-11-29T10:00:00Z", "2026-11-29T12:00:00Z", "2026-11-29T12:00:30Z"):
        store.put(
            "acme",
            {"__typename": "BulkOperation", "id": store.new_gid("BulkOperation"), "status": "COMPLETED",
             "type": "MUTATION", "createdAt": at},
        )  # fmt: skip
    found = shop.data(
        "{ bulkOperations(first: 10, query: \"operation_type:mutation created_at:>='2026-11-29T12:00:00Z'\") "
        "{ nodes { createdAt } } }"
    )
    assert [n["createdAt"] for n in found["bulkOperations"]["nodes"]] == [
        "2026-11-29T12:00:30Z",
        "2026-11-29T12:00:00Z",
    ]


def test_a_staged_file_over_the_upload_limit_is_refused_and_cannot_be_run(shop: ShopClient) -> None:
    """Shopify takes one JSONL of bulk mutation variables up to 100 MB: the storage refuses a
    larger file (400 EntityTooLarge), so nothing is staged and the run finds no file."""
    assert shop.handle.sandbox.options.bulk_max_upload_bytes == 100 * 1024 * 1024
    shop.handle.sandbox.options.bulk_max_upload_bytes = 300  # a test's small limit
    line = json.dumps({"input": two_variant_input()})
    target = shop.data(STAGE)["stagedUploadsCreate"]["stagedTargets"][0]
    form = {p["name"]: p["value"] for p in target["parameters"]}
    too_big = ("\n".join([line] * 3) + "\n").encode()
    assert len(too_big) > 300
    refused = requests.post(target["url"], data=form, files={"file": ("vars.jsonl", too_big)}, timeout=10)
    assert refused.status_code == 400
    assert "<Code>EntityTooLarge</Code>" in refused.text
    assert f"<ProposedSize>{len(too_big)}</ProposedSize>" in refused.text
    assert "<MaxSizeAllowed>300</MaxSizeAllowed>" in refused.text
    run = shop.data(RUN, {"mutation": PRODUCT_SET, "path": form["key"]})["bulkOperationRunMutation"]
    assert run["bulkOperation"] is None and run["userErrors"][0]["code"] == "NO_SUCH_FILE"

    exact = (line + "\n").encode()  # at the limit: taken
    shop.handle.sandbox.options.bulk_max_upload_bytes = len(exact)
    taken = requests.post(target["url"], data=form, files={"file": ("vars.jsonl", exact)}, timeout=10)
    assert taken.status_code == 201
    started = shop.data(RUN, {"mutation": PRODUCT_SET, "path": form["key"]})["bulkOperationRunMutation"]
    assert started["userErrors"] == []


def test_a_raw_line_separator_inside_a_json_string_does_not_split_the_line(shop: ShopClient) -> None:
    """JSON lets a string hold U+2028 (and U+0085...) raw, as the app's encoder writes it: cut there
    (str.splitlines), the line failed as "Invalid JSON" twice and every later line took the next
    line's number, so the app mapped one product's result to another."""
    a = two_variant_input("Produto A")
    a["descriptionHtml"] = "Biscoito\u2028recheado\u0085crocante"
    b = two_variant_input("Produto B")
    b["variants"][0]["inventoryItem"]["sku"], b["variants"][1]["inventoryItem"]["sku"] = "B-1", "B-5"
    path = _upload(shop, [json.dumps({"input": a}, ensure_ascii=False), json.dumps({"input": b})])
    started = shop.data(RUN, {"mutation": PRODUCT_SET, "path": path})["bulkOperationRunMutation"]
    op_id = started["bulkOperation"]["id"]
    shop.handle.sandbox.bulk.wait(op_id)
    op = shop.data(POLL, {"id": op_id})["bulkOperation"]
    text = requests.get(op["url"], timeout=10).text
    results = {r["__lineNumber"]: r for r in (json.loads(x) for x in text.split("\n") if x)}
    assert sorted(results) == [0, 1]
    assert results[0]["data"]["productSet"]["product"]["title"] == "Produto A"
    assert results[1]["data"]["productSet"]["product"]["title"] == "Produto B"
