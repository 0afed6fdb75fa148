"""Error classification, bounded retries, token refresh and request shape, against requests-mock."""

from __future__ import annotations

import pytest
import requests

from ledger.errors import Rejected, Transient
from shopify_app.admin_api.errors import (
    IdempotencyInProgress,
    ShopifyGraphQLError,
    ShopifyServerError,
    ShopifyUnauthorized,
    ShopifyUserErrors,
    ShopUnavailable,
    Throttled,
)
from shopify_app.admin_api.idempotency import renewed_key
from shopify_app.tokens import ShopNeedsReauth
from tests.admin_api.conftest import SHOP, THROTTLED, URL, gql_body, sent

ADJUSTMENT = {
    "inventorySetQuantities": {
        "inventoryAdjustmentGroup": {
            "id": "gid://shopify/InventoryAdjustmentGroup/1",
            "reason": "correction",
            "changes": [],
        },
        "userErrors": [],
    }
}
QUANTITY = {
    "inventoryItemId": "gid://shopify/InventoryItem/1",
    "locationId": "gid://shopify/Location/1",
    "quantity": 5,
    "changeFromQuantity": 3,
}


def test_request_goes_to_the_admin_endpoint_with_token_and_host(client, http):
    http.post(
        URL,
        json=gql_body({"job": {"id": "gid://shopify/Job/1", "done": True}}),
        headers={"X-Request-Id": "req-1"},
    )
    job = client.job("gid://shopify/Job/1")
    assert job.done is True
    request = http.request_history[0]
    assert request.headers["X-Shopify-Access-Token"] == "shpat_token_1"
    assert request.headers["Host"] == SHOP
    body = request.json()
    assert body["operationName"] == "Job"
    assert body["variables"] == {"id": "gid://shopify/Job/1"}
    assert body["query"].startswith("query Job")


def test_user_errors_become_typed_rejected_errors_and_are_not_retried(client, http):
    http.post(
        URL,
        json=gql_body(
            {
                "inventorySetQuantities": {
                    "inventoryAdjustmentGroup": None,
                    "userErrors": [
                        {
                            "field": ["input", "quantities", "0", "changeFromQuantity"],
                            "message": "The quantity is stale",
                            "code": "CHANGE_FROM_QUANTITY_STALE",
                        },
                    ],
                }
            }
        ),
        headers={"X-Request-Id": "req-42"},
    )
    with pytest.raises(ShopifyUserErrors) as caught:
        client.inventory_set_quantities([QUANTITY], key="k1")
    exc = caught.value
    assert isinstance(exc, Rejected) and not exc.retryable
    assert exc.code == "CHANGE_FROM_QUANTITY_STALE"
    assert exc.field == ["input", "quantities", "0", "changeFromQuantity"]
    assert exc.errors[0].message == "The quantity is stale"
    assert exc.request_id == "req-42"
    assert exc.detail["user_errors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert http.call_count == 1


def test_throttled_is_retried_then_succeeds(client, http, clock):
    http.post(
        URL,
        [
            {"json": gql_body(errors=[THROTTLED], requested=10, actual=0, available=5)},
            {"json": gql_body(ADJUSTMENT)},
        ],
    )
    result = client.inventory_set_quantities([QUANTITY], key="k1")
    assert result.id == "gid://shopify/InventoryAdjustmentGroup/1"
    assert http.call_count == 2
    # The pacer learnt Shopify's near-empty bucket and waited for the 10 points to restore.
    assert clock.sleeps and sum(clock.sleeps) == pytest.approx(0.05, abs=0.01)


def test_throttled_on_http_429_honours_retry_after(client, http, clock):
    http.post(
        URL,
        [
            {"status_code": 429, "text": "Too many requests", "headers": {"Retry-After": "2.0"}},
            {"json": gql_body(ADJUSTMENT)},
        ],
    )
    client.inventory_set_quantities([QUANTITY], key="k1")
    assert clock.sleeps == [2.0]


def test_a_429_carrying_shopifys_cost_block_still_honours_retry_after(client, http, clock):
    """A 429 of another limit than the cost bucket (the bucket full of points, as its cost block
    says): the pacer sees nothing to wait for, and every attempt was spent within the same instant."""
    body = gql_body(errors=[{"message": "Too many requests"}], requested=1, actual=0, available=2000)
    http.post(
        URL,
        [
            {"status_code": 429, "json": body, "headers": {"Retry-After": "2.0"}},
            {"json": gql_body({"job": {"id": "gid://shopify/Job/1", "done": True}})},
        ],
    )
    client.job("gid://shopify/Job/1")
    assert sum(clock.sleeps) >= 2.0


def test_5xx_is_retried_with_growing_backoff(client, http, clock):
    http.post(
        URL,
        [
            {"status_code": 502, "text": "bad gateway"},
            {"status_code": 503, "json": {"errors": "unavailable"}},
            {"status_code": 500, "text": "<html>oops</html>"},
            {"json": gql_body(ADJUSTMENT)},
        ],
    )
    client.inventory_set_quantities([QUANTITY], key="k1")
    assert http.call_count == 4
    assert len(clock.sleeps) == 3
    assert 0.25 <= clock.sleeps[0] <= 0.5 <= clock.sleeps[1] <= 1.0 <= clock.sleeps[2] <= 2.0


def test_5xx_gives_up_after_the_bounded_attempts_as_transient(client, http):
    http.post(URL, status_code=503, text="down", headers={"X-Request-Id": "req-9"})
    with pytest.raises(ShopifyServerError) as caught:
        client.job("gid://shopify/Job/1")
    assert isinstance(caught.value, Transient)
    assert caught.value.request_id == "req-9"
    assert http.call_count == 4


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({"status_code": 402, "json": {"errors": "Unavailable Shop"}}, "shopify_shop_frozen"),
        ({"status_code": 423, "json": {"errors": "Unavailable Shop"}}, "shopify_shop_locked"),
        (
            {
                "json": gql_body(
                    errors=[{"message": "The shop is not active.", "extensions": {"code": "SHOP_INACTIVE"}}]
                )
            },
            "shopify_shop_inactive",
        ),
    ],
    ids=["frozen-402", "locked-423", "SHOP_INACTIVE"],
)
def test_a_shop_frozen_locked_or_inactive_is_a_passing_state_not_a_refusal(client, http, answer, words):
    """Shopify's answers for a shop it cannot serve now (an unpaid bill, a lock): refused as the
    request's own fault, every order, invoice and stock unit of those days waited for a person's Retry
    one by one. Transient (RQ tries again later), said so, and not retried on the spot."""
    http.post(URL, **answer)
    with pytest.raises(ShopUnavailable) as caught:
        client.job("gid://shopify/Job/1")
    assert isinstance(caught.value, Transient) and not isinstance(caught.value, Rejected)
    assert caught.value.words == (words, {}) and http.call_count == 1


def test_network_error_is_retried(client, http):
    http.post(
        URL,
        [
            {"exc": requests.ConnectionError("connection reset")},
            {"exc": requests.Timeout("read timed out")},
            {"json": gql_body({"job": {"id": "gid://shopify/Job/1", "done": False}})},
        ],
    )
    assert client.job("gid://shopify/Job/1").done is False
    assert http.call_count == 3


def test_graphql_errors_in_http_200_are_rejected_with_request_id(client, http):
    http.post(
        URL,
        json={
            "errors": [
                {"message": "Access denied for orders field.", "extensions": {"code": "ACCESS_DENIED"}}
            ],
            "data": None,
        },
        headers={"X-Request-Id": "req-7"},
    )
    with pytest.raises(ShopifyGraphQLError) as caught:
        client.order("gid://shopify/Order/1")
    assert caught.value.code == "ACCESS_DENIED"
    assert caught.value.request_id == "req-7"
    assert http.call_count == 1


def test_401_refreshes_the_refused_token_once_then_retries_once(client, http, tokens):
    http.post(
        URL,
        [
            {"status_code": 401, "json": {"errors": "[API] Invalid API key or access token"}},
            {"json": gql_body({"job": {"id": "gid://shopify/Job/1", "done": True}})},
        ],
    )
    client.job("gid://shopify/Job/1")
    assert tokens.calls == [None, "shpat_token_1"]  # names the token Shopify refused
    assert [r.headers["X-Shopify-Access-Token"] for r in http.request_history] == [
        "shpat_token_1",
        "shpat_token_2",
    ]


def test_401_after_the_refresh_is_rejected(client, http, tokens):
    http.post(URL, status_code=401, json={"errors": "[API] Invalid API key or access token"})
    with pytest.raises(ShopifyUnauthorized):
        client.job("gid://shopify/Job/1")
    assert tokens.calls == [None, "shpat_token_1"]  # names the token Shopify refused
    assert http.call_count == 2


def test_shop_needing_reauth_fails_fast_without_http(make_client, http):
    def provider(refused: str | None) -> str:
        raise ShopNeedsReauth(SHOP, "needs_reauth", "refresh token revoked")

    client = make_client(token_provider=provider)
    http.post(URL, json=gql_body({"job": {"id": "x", "done": True}}))
    with pytest.raises(ShopNeedsReauth):
        client.job("gid://shopify/Job/1")
    assert http.call_count == 0


def test_retries_of_an_inventory_mutation_send_the_same_idempotency_key(client, http):
    http.post(
        URL,
        [
            {"status_code": 503, "text": "down"},
            {"json": gql_body(errors=[THROTTLED], actual=0)},
            {"json": gql_body(ADJUSTMENT)},
        ],
    )
    client.inventory_set_quantities([QUANTITY], key="stock-batch-key")
    bodies = sent(http)
    assert len(bodies) == 3
    assert {b["variables"]["key"] for b in bodies} == {"stock-batch-key"}
    assert bodies[0]["variables"] == bodies[2]["variables"]
    assert "@idempotent(key: $key)" in bodies[0]["query"]


def _key_answer(code: str, message: str) -> dict:
    return gql_body(
        {
            "inventorySetQuantities": {
                "inventoryAdjustmentGroup": None,
                "userErrors": [{"field": ["idempotencyKey"], "message": message, "code": code}],
            }
        }
    )


IN_PROGRESS = _key_answer(
    "IDEMPOTENCY_CONCURRENT_REQUEST", "This request is currently in progress, please try again."
)
FAILED_BEFORE = _key_answer(
    "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
    "A previous request with this idempotency key failed. Retry with a new idempotency key.",
)


def test_a_request_in_progress_under_the_key_is_waited_for_and_sent_again_with_the_same_key(
    client, http, clock
):
    http.post(URL, [{"json": IN_PROGRESS}, {"json": IN_PROGRESS}, {"json": gql_body(ADJUSTMENT)}])
    client.inventory_set_quantities([QUANTITY], key="stock-batch-key")
    bodies = sent(http)
    assert [b["variables"]["key"] for b in bodies] == ["stock-batch-key"] * 3
    assert len(clock.sleeps) == 2  # it waited before each resend


def test_a_request_still_in_progress_after_every_wait_is_transient_not_a_refusal(make_client, http):
    client = make_client(attempts=3)
    http.post(URL, json=IN_PROGRESS)
    with pytest.raises(IdempotencyInProgress) as caught:
        client.inventory_set_quantities([QUANTITY], key="stock-batch-key")
    assert isinstance(caught.value, Transient) and not isinstance(caught.value, Rejected)
    assert "currently in progress" in str(caught.value)
    assert http.call_count == 3


def test_a_key_whose_earlier_request_failed_is_renewed_deterministically(client, http):
    """Shopify failed the first request (a 5xx): the retry under the same key is answered
    'retry with a new key'; the new key is derived from the old one, the same on every run."""
    http.post(
        URL,
        [
            {"status_code": 500, "text": "boom"},
            {"json": FAILED_BEFORE},
            {"json": FAILED_BEFORE},
            {"json": gql_body(ADJUSTMENT)},
        ],
    )
    client.inventory_set_quantities([QUANTITY], key="k0")
    keys = [b["variables"]["key"] for b in sent(http)]
    assert keys == ["k0", "k0", renewed_key("k0", 1), renewed_key("k0", 2)]
    assert len(set(keys)) == 3
    assert all(b["variables"]["input"] == sent(http)[0]["variables"]["input"] for b in sent(http))


def test_a_mutation_without_an_idempotency_key_keeps_such_codes_as_refusals(client, http):
    """Only an @idempotent document has a key to wait on or renew."""
    http.post(
        URL,
        json=gql_body(
            {
                "tagsAdd": {
                    "node": None,
                    "userErrors": [
                        {"field": ["id"], "message": "in progress", "code": "IDEMPOTENCY_CONCURRENT_REQUEST"}
                    ],
                }
            }
        ),
    )
    with pytest.raises(ShopifyUserErrors):
        client.executor.mutate("TagsAdd", {"id": "gid://shopify/Order/1", "tags": ["x"]}, "tagsAdd")
    assert http.call_count == 1


def test_throttled_gives_up_as_transient_when_it_never_clears(make_client, http):
    client = make_client(attempts=2)
    http.post(URL, json=gql_body(errors=[THROTTLED], actual=0, available=0))
    with pytest.raises(Throttled):
        client.job("gid://shopify/Job/1")
    assert http.call_count == 2


def test_a_job_timeout_raised_during_a_shopify_call_reaches_the_job_and_is_not_sent_again(client, http):
    """gql wraps any exception of the HTTP call as a connection failure; only the network's own
    (requests', the socket's) are one. RQ's job timeout (an Exception raised by SIGALRM in the job)
    arriving while a call is on the wire reaches the job at once, not retried as a network error
    (past the job's timeout: for as long as it likes under SimpleWorker, SIGKILLed under Worker)."""
    from rq.timeouts import JobTimeoutException

    def timed_out(request, context):
        raise JobTimeoutException("Task exceeded maximum timeout value (600 seconds)")

    http.post(URL, [{"text": timed_out}, {"json": gql_body({"shop": {"ianaTimezone": "America/Sao_Paulo"}})}])
    with pytest.raises(JobTimeoutException):
        client.shop_timezone()
    assert len(sent(http)) == 1


def test_a_connection_reset_is_still_a_network_error_sent_again(client, http):
    http.post(
        URL,
        [{"exc": ConnectionResetError}, {"json": gql_body({"shop": {"ianaTimezone": "America/Sao_Paulo"}})}],
    )
    assert client.shop_timezone() == "America/Sao_Paulo"
    assert len(sent(http)) == 2
